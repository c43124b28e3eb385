//! The organization part of the benchmark: an organization of 100 member
//! accounts on its own moto server, planned end to end with `cis-fix plan
//! --organization --json` in the four regions (each member through the
//! role moto lets anyone assume), its wall time against the 60
//! seconds, and its peak memory at a quarter, a half and the whole of the
//! organization (`--shard`), which must not grow with the accounts planned.
//!
//! The members are new accounts as moto makes them (a default VPC in each
//! region, nothing else), so each is planned in full: the chain, the trail,
//! the password policy, flow logs and the networking controls to create.
//! moto makes each account's backends on its first call, so a first run,
//! reported apart, is not counted.

use std::path::Path;

use serde_json::Value;

use crate::support::account::Account;
use crate::{Measured, measure, median, verdict};

/// The member accounts the issue names, besides the management account.
pub const MEMBERS: usize = 100;
/// The bound on planning them, seconds.
const WALL_TARGET: f64 = 60.0;
/// How far the whole organization's peak may be above a quarter's before
/// memory counts as growing with the accounts planned.
const FLAT_TOLERANCE: f64 = 1.10;

/// What a report says of its accounts: (planned, unknown).
fn counted(dir: &Path) -> Result<(u64, u64), String> {
    let path = dir.join("plan.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("the organization report is not JSON: {e}"))?;
    let n = |k: &str| v["summary"][k].as_u64().unwrap_or(0);
    Ok((n("accounts"), n("unknown")))
}

fn mib(m: &Measured) -> f64 {
    m.peak_kib as f64 / 1024.0
}

pub fn run(bin: &str, config_yaml: &str, members: usize, runs: usize) -> Result<(), String> {
    println!(
        "\norganization: {members} member accounts and the management account, on a moto server of its own"
    );
    // The harness's account (a qualifying trail) as management account.
    let acct = Account::with_trail();
    let listed = acct.create_organization(members).len();
    if listed != members {
        return Err(format!(
            "ListAccounts shows {listed} members, not {members}"
        ));
    }
    let cfg = acct.config(config_yaml);
    let cfg = cfg.to_string_lossy().into_owned();
    let args = |shard: Option<&str>| -> Vec<String> {
        let mut a: Vec<String> = ["plan", "--organization", "--json", "--config", &cfg]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(s) = shard {
            a.extend(["--shard".to_string(), s.to_string()]);
        }
        a
    };
    let first = measure(acct.moto.command(bin), &args(None), acct.dir())?;
    println!(
        "first run (moto makes each account's backends on its first call; not counted): {:.1}s, peak {:.1} MiB",
        first.wall.as_secs_f64(),
        mib(&first)
    );
    // Each size `runs` times, interleaved, so a change in the machine's
    // load falls on all three alike.
    let sizes = [Some("1/4"), Some("1/2"), None];
    let mut measured: Vec<Vec<(u64, Measured)>> = sizes.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (shard, into) in sizes.iter().zip(measured.iter_mut()) {
            let m = measure(acct.moto.command(bin), &args(*shard), acct.dir())?;
            let (planned, unknown) = counted(acct.dir())?;
            println!(
                "{}: {planned} accounts ({unknown} unknown) in {:.1}s (cis-fix's CPU {:.1}s), peak {:.1} MiB",
                shard.map_or("whole organization".to_string(), |s| format!("shard {s}")),
                m.wall.as_secs_f64(),
                m.cpu.as_secs_f64(),
                mib(&m)
            );
            if unknown > 0 {
                return Err(format!(
                    "{unknown} accounts were unknown: the run is not a measure of planning them"
                ));
            }
            if shard.is_none() && planned != members as u64 + 1 {
                return Err(format!(
                    "the whole organization planned {planned} accounts, not {}",
                    members + 1
                ));
            }
            into.push((planned, m));
        }
    }
    let summary = |runs: &[(u64, Measured)]| {
        let planned = runs.first().map_or(0, |r| r.0);
        let wall = median(runs.iter().map(|r| r.1.wall.as_secs_f64()).collect());
        let peak = median(runs.iter().map(|r| mib(&r.1)).collect());
        (planned, wall, peak)
    };
    let (few, _, few_peak) = summary(&measured[0]);
    let (half, _, half_peak) = summary(&measured[1]);
    let (all, all_wall, all_peak) = summary(&measured[2]);
    println!("\n| organization | figure | target |\n|---|---|---|");
    println!(
        "| `plan --organization --json`, {all} accounts, 4 regions each | {all_wall:.1} s, median of {runs} | at most {WALL_TARGET:.0} s: {} |",
        verdict(all_wall <= WALL_TARGET)
    );
    println!(
        "| peak memory (medians), {few} → {half} → {all} accounts | {few_peak:.1} → {half_peak:.1} → {all_peak:.1} MiB ({:+.1} % from {few} to {all}) | flat (within {:.0} %): {} |",
        (all_peak / few_peak - 1.0) * 100.0,
        (FLAT_TOLERANCE - 1.0) * 100.0,
        verdict(all_peak <= few_peak * FLAT_TOLERANCE)
    );
    Ok(())
}
