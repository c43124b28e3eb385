//! `apply FILE`: a saved plan carried out exactly, without re-planning and
//! without asking (as `terraform apply FILE`), once the account has been
//! read again and found to be what the plan was made for: the same account,
//! regions, benchmark, config and opt-ins, every read as it was. Otherwise
//! "saved plan is stale", naming what changed, and nothing is written.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};

use super::Exit;
use super::out::out;
use crate::cli::{ApplyArgs, Connection, Target};
use cis_fix::fingerprint;
use cis_fix::render::{self, Style};
use cis_fix::saved_plan::{CIS_FIX_VERSION, HomeFrom, Inputs, SavedPlan};

pub async fn run(args: &ApplyArgs, file: &Path) -> Result<Exit> {
    let changing: Vec<&str> = [
        (args.target.benchmark.is_some(), "--benchmark"),
        (args.target.config.is_some(), "--config"),
        (!args.connection.region.is_empty(), "--region"),
        (args.allow_destructive, "--allow-destructive"),
    ]
    .into_iter()
    .filter_map(|(given, flag)| given.then_some(flag))
    .collect();
    if !changing.is_empty() {
        bail!(
            "{} cannot be used with a saved plan: `apply FILE` applies exactly what was planned, with the plan's own benchmark, config, regions and opt-ins. Make a new plan with {} (`cis-fix plan … -out FILE`), or run `cis-fix apply` without FILE.",
            changing.join(", "),
            if changing.len() == 1 { "it" } else { "them" }
        );
    }
    let shown = file.display().to_string();
    let saved = SavedPlan::load(file)?;
    let planned = &saved.inputs;
    if saved.cis_fix_version != CIS_FIX_VERSION {
        return Err(stale(
            &shown,
            vec![format!(
                "cis-fix version: planned with {}, this is {CIS_FIX_VERSION}",
                saved.cis_fix_version
            )],
        ));
    }

    // What the plan was made with and can be checked without AWS: the
    // config as it is now, with the plan's own flags.
    let target = Target {
        benchmark: planned.benchmark_flag.clone(),
        config: planned.config.flag.as_ref().map(PathBuf::from),
    };
    let (desired, config) = super::desired_from(&target, planned.allow_destructive)?;
    let mut now = Inputs {
        benchmark: desired.benchmark_version.clone(),
        config,
        opt_ins: super::opt_ins(&desired),
        ..planned.clone()
    };
    let offline = planned.mismatches(&now);
    if !offline.is_empty() {
        return Err(stale(
            &shown,
            offline.iter().map(ToString::to_string).collect(),
        ));
    }

    let connection = Connection {
        region: match planned.home_from {
            HomeFrom::Environment => vec![],
            HomeFrom::Flag | HomeFrom::Snapshot => vec![planned.home_region.clone()],
        },
        ..args.connection.clone()
    };
    let aws = super::connect(&connection).await?;
    if aws.home_region() != planned.home_region {
        return Err(stale(
            &shown,
            vec![format!(
                "home region: planned for {}, now {} (AWS_REGION or the profile's region)",
                planned.home_region,
                aws.home_region()
            )],
        ));
    }
    let mut scope = desired.read_scope();
    scope.regions = planned.chosen_regions.clone();
    let snap = super::read(&aws, &connection, &scope).await;
    now.account_id = snap.account_id.clone();
    now.home_region = snap.region.clone();
    now.regions = snap.planned_regions().unwrap_or_default();
    // Another account or region set is the whole story: its reads differ
    // from the plan's as a matter of course.
    let mut changed: Vec<String> = planned
        .mismatches(&now)
        .iter()
        .map(ToString::to_string)
        .collect();
    if changed.is_empty() {
        changed = fingerprint::compare(&saved.fingerprint, &fingerprint::of(&snap))
            .iter()
            .map(ToString::to_string)
            .collect();
    }
    if !changed.is_empty() {
        return Err(stale(&shown, changed));
    }

    let plan = saved.internal_plan(&shown)?;
    out!("{}", render::header(&saved.plan, Style::for_stdout()));
    out!("Applying the saved plan {shown}: the account is as it was when it was made.\n");
    super::apply::carry_out(
        &plan,
        &snap,
        &aws,
        false,
        args.detailed_exitcode,
        planned.config.path.as_deref().map(Path::new),
    )
    .await
}

/// The refusal: the plan no longer shows what applying it would do.
fn stale(file: &str, changed: Vec<String>) -> anyhow::Error {
    let list: String = changed.iter().map(|c| format!("\n  - {c}")).collect();
    anyhow!(
        "saved plan is stale: {file} no longer matches what it was planned against, so it was not applied and nothing was changed.{list}\nMake a new plan (`cis-fix plan -out {file}`), review it, and apply that."
    )
}
