use std::path::Path;

use anyhow::{Context, Result};

use super::Exit;
use super::out::{errln, outln};
use crate::cli::PlanArgs;
use cis_fix::jsonplan::JsonPlan;
use cis_fix::saved_plan::{HomeFrom, Inputs, SavedPlan};
use cis_fix::snapshot::Snapshot;

pub async fn run(args: PlanArgs) -> Result<Exit> {
    if args.accounts.organization {
        return super::org::plan(&args).await;
    }
    let (desired, config) = super::desired_from(&args.target, args.allow_destructive)?;
    let snap = match &args.from {
        Some(path) => Snapshot::load(path)?,
        None => {
            let scope = super::with_regions(desired.read_scope(), &args.connection)?;
            let aws = super::connect(&args.connection).await?;
            let aws =
                super::org::assume_role_arn(aws, &args.accounts, args.target.config.as_deref())
                    .await?;
            super::read(&aws, &args.connection, &scope).await
        }
    };
    let plan = super::compute(&desired, &snap)?;
    // Saved before anything is shown, so a plan that cannot be saved is an
    // error and not a plan the user takes for saved.
    if let Some(out) = &args.out {
        let inputs = Inputs {
            account_id: snap.account_id.clone(),
            home_region: snap.region.clone(),
            home_from: match (&args.from, super::chosen_regions(&args.connection)?) {
                (Some(_), _) => HomeFrom::Snapshot,
                (None, Some(_)) => HomeFrom::Flag,
                (None, None) => HomeFrom::Environment,
            },
            chosen_regions: snap.chosen_regions.clone(),
            regions: snap.planned_regions().unwrap_or_default(),
            benchmark: desired.benchmark_version.clone(),
            benchmark_flag: args.target.benchmark.clone(),
            config,
            allow_destructive: args.allow_destructive,
            opt_ins: super::opt_ins(&desired),
            snapshot_file: args.from.as_ref().map(|p| p.display().to_string()),
        };
        write_atomically(
            out,
            &(SavedPlan::new(&plan, &snap, inputs).to_json() + "\n"),
        )?;
    }
    super::show_plan(&JsonPlan::from_plan(&plan), args.json);
    if let Some(out) = &args.out {
        let said = format!(
            "Saved the plan to: {0}\n\nTo apply exactly this plan: cis-fix apply {0}",
            out.display()
        );
        // With --json, stdout is the JSON alone.
        if args.json {
            errln!("{said}");
        } else {
            outln!("\n{said}");
        }
    }
    Ok(super::plan_exit(&plan, args.detailed_exitcode))
}

/// Writes `text` to `path` through a temporary file beside it, renamed
/// over it: a reader never sees half a plan, and an interrupted write
/// leaves any earlier file whole.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let name = path.file_name().with_context(|| {
        format!(
            "cannot save the plan to {}: not a file name",
            path.display()
        )
    })?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("cannot save the plan to {}", path.display()))
}
