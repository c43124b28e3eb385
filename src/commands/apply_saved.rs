//! `apply FILE`: a saved plan carried out exactly, without re-planning and
//! without asking (as `terraform apply FILE`), once the account has been
//! read again and found to be what the plan was made for: the same account,
//! regions, benchmark, config and opt-ins, every read as it was. Otherwise
//! "saved plan is stale", naming what changed, and nothing is written.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};

use super::Exit;
use super::apply::Run;
use super::guards::Places;
use super::out::{err, out};
use crate::cli::{ApplyArgs, Connection, Target};
use cis_fix::aws::Aws;
use cis_fix::desired::Desired;
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

    // An exception the plan rested on that has expired since: what it left
    // alone would now be judged and fixed, so the plan is not today's.
    let expired = expired_since(&saved.plan, cis_fix::date::Date::today());
    if !expired.is_empty() {
        return Err(stale(&shown, expired));
    }

    // What the plan was made with and can be checked without AWS: the
    // config as it is now, with the plan's own flags.
    let target = Target {
        benchmark: planned.benchmark_flag.clone(),
        config: planned.config.flag.as_ref().map(PathBuf::from),
    };
    let (desired, config) = super::desired_from(&target, planned.allow_destructive)?;
    let now = Inputs {
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
    let places = Places::from_config(
        planned.config.path.as_deref().map(Path::new),
        aws.home_region(),
    )?;
    let run = Run::start();
    // Locked before the account is read again: what the staleness check
    // sees is then what the writes meet.
    run.lock(&places, &aws).await?;
    let result = check_and_apply(
        args, &saved, planned, now, &shown, &desired, &aws, &run, &places,
    )
    .await;
    run.finish(result).await
}

/// Under the lock: reads the account again, refuses a stale plan, and
/// carries out the saved one.
#[allow(clippy::too_many_arguments)]
async fn check_and_apply(
    args: &ApplyArgs,
    saved: &SavedPlan,
    planned: &Inputs,
    mut now: Inputs,
    shown: &str,
    desired: &Desired,
    aws: &Aws,
    run: &Run,
    places: &Places,
) -> Result<Exit> {
    let mut scope = desired.read_scope();
    scope.regions = planned.chosen_regions.clone();
    let snap = super::read(aws, &args.connection, &scope).await;
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
        return Err(stale(shown, changed));
    }

    let plan = saved.internal_plan(shown)?;
    // With --json, stdout holds the report alone.
    if args.json {
        err!("{}", render::header(&saved.plan, Style::for_stderr()));
        err!("Applying the saved plan {shown}: the account is as it was when it was made.\n");
    } else {
        out!("{}", render::header(&saved.plan, Style::for_stdout()));
        out!("Applying the saved plan {shown}: the account is as it was when it was made.\n");
    }
    super::apply::carry_out(
        &plan,
        &snap,
        aws,
        super::apply::Carry {
            ask: false,
            detailed: args.detailed_exitcode,
            json: args.json,
            config: planned.config.path.as_deref().map(Path::new),
        },
        run,
        places,
    )
    .await
}

/// The exceptions `plan` rested on that have expired by `today`.
fn expired_since(plan: &cis_fix::jsonplan::JsonPlan, today: cis_fix::date::Date) -> Vec<String> {
    plan.controls
        .iter()
        .flat_map(|c| {
            c.exception
                .iter()
                .map(move |g| (c.id.clone(), None, g))
                .chain(
                    c.excepted
                        .iter()
                        .map(move |e| (c.id.clone(), Some(e.resource.clone()), &e.exception)),
                )
        })
        .filter(|(_, _, g)| g.expires <= today)
        .map(|(id, resource, g)| {
            format!(
                "the exception of control {id}{} expired on {} since the plan was made: what it left alone is judged again",
                resource.map(|r| format!(" for {r}")).unwrap_or_default(),
                g.expires
            )
        })
        .collect()
}

/// The refusal: the plan no longer shows what applying it would do.
fn stale(file: &str, changed: Vec<String>) -> anyhow::Error {
    let list: String = changed.iter().map(|c| format!("\n  - {c}")).collect();
    anyhow!(
        "saved plan is stale: {file} no longer matches what it was planned against, so it was not applied and nothing was changed.{list}\nMake a new plan (`cis-fix plan -out {file}`), review it, and apply that."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cis_fix::date::Date;

    #[test]
    fn an_exception_expired_since_the_plan_makes_it_stale() {
        let b = cis_fix::benchmark::load("3.0.0").expect("benchmark");
        let config = cis_fix::config::Config::parse(
            "exceptions:\n  - control: \"1.9\"\n    reason: the identity provider\n    expires: 2027-01-10\n",
            "c.yaml",
        )
        .expect("config");
        let d = cis_fix::desired::build(&b, &config, "c.yaml").expect("desired");
        let snap = cis_fix::snapshot::Snapshot::from_json(
            include_str!("../../examples/accounts/new-account.json"),
            "new",
        )
        .expect("snapshot");
        let day = |s: &str| Date::parse(s).expect("date");
        let plan = cis_fix::diff::plan(&d, &snap, day("2027-01-01")).expect("plan");
        let shown = cis_fix::jsonplan::JsonPlan::from_plan(&plan);
        assert!(expired_since(&shown, day("2027-01-09")).is_empty());
        let gone = expired_since(&shown, day("2027-01-10"));
        assert_eq!(gone.len(), 1, "{gone:?}");
        assert!(gone[0].contains("control 1.9") && gone[0].contains("2027-01-10"));
    }
}
