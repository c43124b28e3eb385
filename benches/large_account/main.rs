//! The large-account benchmark: `cargo bench --bench large_account`.
//!
//! Seeds a moto server (installed and started by the integration tests'
//! own harness) through the AWS SDK with a large account, makes it the
//! steady state a scheduled run sees (one `cis-fix apply`), then runs the
//! release-built `cis-fix plan --json` against it and reports its wall
//! time, peak memory and API calls per action against the fewest that can
//! read that account; with `--prowler`, Prowler's run of the equivalent
//! checks on the same account, and the ratio. Each target is reported as
//! PASS or MISS; the exit code is 0 either way (a failed setup exits 1).
//!
//! Then, on a server of its own, an organization of 100 member accounts
//! planned with `--organization` (`organization.rs`).
//!
//! Options (after `--`): `--organization-only` (that part alone), `--runs N`
//! (default 3), `--concurrency N` (passed to cis-fix; default cis-fix's),
//! `--prowler[=VENV]` (or
//! `CIS_FIX_BENCH_PROWLER=VENV`; default venv `<target>/prowler-venv`,
//! installed with the pinned Prowler when missing).
//!
//! Under `cargo test` (no `--bench` argument) it does nothing, so the
//! test suite stays fast.

#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/support/mod.rs"]
mod support;

mod minimal;
mod organization;
mod prowler;
mod seed;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use minimal::{AccountSizes, PageSizes};
use support::account::Account;
use support::faults::FaultProxy;

/// The four planned regions; the first is the home region, where the
/// trail, its log group, the metric filters and the alarms are.
pub const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"];

/// What a run of cis-fix needs to be faster than Prowler by (the issue's
/// floor, and what it aims for).
const SPEEDUP_TARGET: f64 = 20.0;
const SPEEDUP_AIM: f64 = 30.0;
/// How far above the fewest calls a plan may go.
const CALLS_TOLERANCE: f64 = 1.10;

struct Options {
    runs: usize,
    concurrency: Option<u16>,
    prowler: Option<PathBuf>,
    /// `--organization-only`: the organization part alone.
    organization_only: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(PEAK_OF) {
        std::process::exit(peak_of(&args[1..]));
    }
    if !args.iter().any(|a| a == "--bench") {
        println!(
            "large_account: a benchmark; run it with `cargo bench --bench large_account` (skipped under cargo test)"
        );
        return;
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("large_account: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&opts) {
        eprintln!("large_account: {e}");
        std::process::exit(1);
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        runs: 3,
        concurrency: None,
        prowler: std::env::var_os("CIS_FIX_BENCH_PROWLER")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        organization_only: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--bench" => {}
            "--organization-only" => o.organization_only = true,
            "--runs" => {
                o.runs = value("--runs")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=50).contains(n))
                    .ok_or("--runs takes a number from 1 to 50")?;
            }
            "--concurrency" => {
                o.concurrency = Some(
                    value("--concurrency")?
                        .parse()
                        .ok()
                        .filter(|n| (1..=64).contains(n))
                        .ok_or("--concurrency takes a number from 1 to 64")?,
                );
            }
            "--prowler" => o.prowler = Some(support::target_dir().join("prowler-venv")),
            p if p.starts_with("--prowler=") => {
                o.prowler = Some(PathBuf::from(&p["--prowler=".len()..]));
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            // A bench name filter cargo passes on: there is only one.
            _ => {}
        }
    }
    Ok(o)
}

/// One measured `cis-fix plan`.
struct Measured {
    wall: Duration,
    /// Peak resident set size, KiB (the child's `ru_maxrss`).
    peak_kib: i64,
    /// CPU time the child used (user and system): the rest of the wall
    /// time it spent waiting for the server.
    cpu: Duration,
    code: i32,
}

fn run(o: &Options) -> Result<(), String> {
    let bin = env!("CARGO_BIN_EXE_cis-fix");
    println!("large_account: cis-fix {bin}");
    if o.organization_only {
        return organization::run(bin, &config_yaml(), organization::MEMBERS, o.runs);
    }
    let started = Instant::now();
    // A qualifying trail (multi-region, validated, encrypted, delivering to
    // `cloudtrail-logs`), a compliant password policy, the default VPCs'
    // flow logs: the test harness's account.
    let acct = Account::with_trail();
    let seeded = seed::seed(&acct)?;
    println!(
        "seeded in {:.1}s: {} metric filters on {} log groups, {} alarms, {} topics, {} KMS keys, {} VPCs in {} regions",
        started.elapsed().as_secs_f64(),
        seeded.filters,
        seeded.log_groups,
        seeded.alarms,
        seeded.topics,
        seeded.keys,
        seeded.vpcs,
        REGIONS.len()
    );
    let cfg = acct.config(&config_yaml());
    let cfg = cfg.to_string_lossy().into_owned();
    let t = Instant::now();
    let apply = acct.cis_fix(&[
        "apply",
        "--auto-approve",
        "--allow-destructive",
        "--config",
        &cfg,
    ]);
    if apply.code != 0 {
        return Err(format!(
            "cis-fix apply exited {}:\n{}\n{}",
            apply.code, apply.stdout, apply.stderr
        ));
    }
    println!(
        "cis-fix apply (the benchmark's own chain, flow logs, key rotation, networking): {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let steady = acct.cis_fix(&["plan", "--detailed-exitcode", "--config", &cfg]);
    println!(
        "steady state: plan --detailed-exitcode exits {} ({})",
        steady.code,
        if steady.code == 0 {
            "nothing to change"
        } else {
            "NOT steady: the figures below include what is still to change"
        }
    );
    let sizes = seed::census(&acct, &seeded)?;

    let mut args: Vec<String> = ["plan", "--json", "--config", &cfg]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(n) = o.concurrency {
        args.extend(["--concurrency".to_string(), n.to_string()]);
    }
    // Wall time and memory straight against moto; the calls through a
    // recording proxy, in one more run (the proxy adds a connection per
    // call, which is not cis-fix's time).
    let mut runs = Vec::new();
    for i in 0..o.runs {
        let m = measure(acct.moto.command(bin), &args, acct.dir())?;
        println!(
            "run {}: {:.2}s (cis-fix's CPU {:.2}s), peak {:.1} MiB, exit {}",
            i + 1,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.peak_kib as f64 / 1024.0,
            m.code
        );
        runs.push(m);
    }
    let proxy = FaultProxy::start(&acct.moto);
    let counted = measure(proxy.command(&acct.moto, bin), &args, acct.dir())?;
    let calls = proxy.calls();
    println!(
        "counted run (through the recording proxy): {:.2}s, {} calls, exit {}",
        counted.wall.as_secs_f64(),
        calls.len(),
        counted.code
    );

    let prowler = o.prowler.as_ref().map(|venv| prowler::run(venv, &acct));
    report(&runs, &calls, &sizes, prowler.as_ref());
    // The large account's server is stopped before the organization's.
    drop(proxy);
    drop(acct);
    organization::run(bin, &config_yaml(), organization::MEMBERS, o.runs)
}

/// cis-fix.yaml of the benchmark: the four regions, alarms to an SQS queue.
fn config_yaml() -> String {
    format!(
        "regions: [{}]\nsns:\n  subscriptions:\n    - protocol: sqs\n      endpoint: arn:aws:sqs:{}:{}:cis-fix-alarms\n",
        REGIONS.join(", "),
        REGIONS[0],
        support::ACCOUNT_ID
    )
}

/// Runs `cmd args` to its end, stdout to a file, and measures its wall
/// time, peak memory and CPU, through [`peak_of`].
fn measure(cmd: Command, args: &[String], dir: &Path) -> Result<Measured, String> {
    let out = dir.join("plan.json");
    let usage_file = dir.join("usage.txt");
    let file = File::create(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let me = std::env::current_exe().map_err(|e| format!("cannot find this benchmark: {e}"))?;
    let mut wrapped = Command::new(me);
    wrapped
        .arg(PEAK_OF)
        .arg(&usage_file)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let started = Instant::now();
    let status = wrapped
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cis-fix: {e}"))?;
    let wall = started.elapsed();
    let code = status.code().unwrap_or(-1);
    if code != 0 {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        return Err(format!(
            "cis-fix {} exited {code}; stdout:\n{text}",
            args.join(" ")
        ));
    }
    let usage = std::fs::read_to_string(&usage_file)
        .map_err(|e| format!("cannot read {}: {e}", usage_file.display()))?;
    let mut nums = usage
        .split_whitespace()
        .map(|n| n.parse::<i64>().unwrap_or(-1));
    let (peak_kib, cpu_us) = (nums.next().unwrap_or(-1), nums.next().unwrap_or(-1));
    Ok(Measured {
        wall,
        peak_kib,
        cpu: Duration::from_micros(u64::try_from(cpu_us).unwrap_or(0)),
        code,
    })
}

/// The argument that makes this binary [`peak_of`].
const PEAK_OF: &str = "--peak-of";

/// `--peak-of FILE PROGRAM ARGS…`: runs PROGRAM as a child of this fresh,
/// small process, waits for it (wait4), writes its peak resident set (KiB)
/// and CPU time (µs) to FILE, and exits with its exit code.
///
/// Why the detour: Linux keeps, across exec, the high-water mark of the
/// memory a process had before it (`signal->maxrss`; a spawned child
/// shares or copies its parent's), so cis-fix spawned straight from the
/// benchmark, hundreds of MiB after seeding and reading reports, would
/// report the benchmark's peak (every run once read 72.6 MiB). From this
/// process it inherits a few MiB, below any cis-fix run.
fn peak_of(args: &[String]) -> i32 {
    let (Some(file), Some(program)) = (args.first(), args.get(1)) else {
        eprintln!("{PEAK_OF} FILE PROGRAM ARGS…");
        return 2;
    };
    let child = match Command::new(program).args(&args[2..]).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot run {program}: {e}");
            return 2;
        }
    };
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return 2;
    };
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not waited for yet; both pointers
    // point at live locals.
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if got != pid {
        eprintln!("wait4: {}", std::io::Error::last_os_error());
        return 2;
    }
    // The child is reaped: dropping its handle waits for nothing.
    drop(child);
    let us = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    let cpu = us(usage.ru_utime) + us(usage.ru_stime);
    if let Err(e) = std::fs::write(file, format!("{} {cpu}\n", usage.ru_maxrss)) {
        eprintln!("cannot write {file}: {e}");
        return 2;
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

fn report(
    runs: &[Measured],
    calls: &[support::faults::Call],
    sizes: &AccountSizes,
    prowler: Option<&Result<prowler::Outcome, String>>,
) {
    let wall = median(runs.iter().map(|m| m.wall.as_secs_f64()).collect());
    let cpu = median(runs.iter().map(|m| m.cpu.as_secs_f64()).collect());
    let peak = runs.iter().map(|m| m.peak_kib).max().unwrap_or(0) as f64 / 1024.0;
    let aws = minimal::minimal(sizes, &PageSizes::aws());
    let moto = minimal::minimal(sizes, &PageSizes::moto());
    let actual = |action: &str| calls.iter().filter(|c| c.name() == action).count();

    println!("\n== cis-fix plan --json on the large account ==");
    println!(
        "wall time (median of {}): {wall:.2}s    cis-fix's own CPU time: {cpu:.2}s    peak memory: {peak:.1} MiB",
        runs.len()
    );
    println!(
        "\nAPI calls per action (minimal: the fewest calls that can read this account; AWS: at AWS's page sizes; moto: at moto's, which serves every filter and alarm in one page)"
    );
    println!(
        "{:<34} {:>6} {:>8} {:>9} {:>7}  formula (AWS)",
        "action", "calls", "min moto", "min AWS", "ratio"
    );
    let (mut total, mut total_moto, mut total_aws) = (0, 0, 0);
    for (a, m) in aws.iter().zip(&moto) {
        let n = actual(a.action);
        total += n;
        total_moto += m.calls;
        total_aws += a.calls;
        let ratio = if m.calls == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", n as f64 / m.calls as f64)
        };
        println!(
            "{:<34} {:>6} {:>8} {:>9} {:>7}  {}",
            a.action, n, m.calls, a.calls, ratio, a.formula
        );
    }
    let mut unexpected: Vec<String> = calls
        .iter()
        .map(|c| c.name())
        .filter(|n| !aws.iter().any(|a| a.action == n))
        .collect();
    unexpected.sort();
    unexpected.dedup();
    for u in &unexpected {
        let n = actual(u);
        total += n;
        println!(
            "{u:<34} {n:>6} {:>8} {:>9} {:>7}  not a read the plan needs",
            0, 0, "-"
        );
    }
    let ratio = total as f64 / total_moto.max(1) as f64;
    println!(
        "{:<34} {:>6} {:>8} {:>9} {:>7.2}",
        "total", total, total_moto, total_aws, ratio
    );
    let faulted = calls.iter().filter(|c| c.faulted.is_some()).count();
    if faulted > 0 {
        println!("({faulted} calls failed at the proxy)");
    }

    println!("\n== targets ==");
    println!(
        "{}  calls within 10% of the minimal count: {total} against {total_moto} (x{ratio:.2})",
        verdict(ratio <= CALLS_TOLERANCE)
    );
    let worst = aws
        .iter()
        .zip(&moto)
        .filter(|(_, m)| m.calls > 0)
        .map(|(a, m)| (a.action, actual(a.action) as f64 / m.calls as f64))
        .fold(("-", 0.0), |w, x| if x.1 > w.1 { x } else { w });
    println!(
        "{}  every action within 10% of its minimal count (worst: {} x{:.2})",
        verdict(worst.1 <= CALLS_TOLERANCE),
        worst.0,
        worst.1
    );
    match prowler {
        None => println!(
            "----  faster than Prowler: not measured (run with -- --prowler to install and run it)"
        ),
        Some(Err(why)) => println!("----  faster than Prowler: not measured: {why}"),
        Some(Ok(p)) => {
            let speedup = p.wall.as_secs_f64() / wall.max(f64::EPSILON);
            println!(
                "{}  at least {SPEEDUP_TARGET:.0} times faster than Prowler on the same controls (aim {SPEEDUP_AIM:.0}): Prowler {:.1}s ({} checks, {} of them reporting, findings {:?}, exit {}), cis-fix {wall:.2}s: x{speedup:.1}",
                verdict(speedup >= SPEEDUP_TARGET),
                p.wall.as_secs_f64(),
                p.checks,
                p.checks - p.silent.len(),
                p.statuses,
                p.code
            );
            println!(
                "{}  aim: {SPEEDUP_AIM:.0} times faster (x{speedup:.1})",
                verdict(speedup >= SPEEDUP_AIM)
            );
        }
    }
}
