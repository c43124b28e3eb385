use anyhow::Result;

use super::Exit;
use crate::cli::PlanArgs;
use cis_fix::jsonplan::JsonPlan;
use cis_fix::snapshot::Snapshot;

pub async fn run(args: PlanArgs) -> Result<Exit> {
    let desired = super::desired(&args.target, args.allow_destructive)?;
    let snap = match &args.from {
        Some(path) => Snapshot::load(path)?,
        None => {
            let scope = super::with_regions(desired.read_scope(), &args.connection)?;
            let aws = super::connect(&args.connection).await?;
            super::read(&aws, &scope).await
        }
    };
    let plan = super::compute(&desired, &snap)?;
    super::show_plan(&JsonPlan::from_plan(&plan), args.json);
    Ok(super::plan_exit(&plan, args.detailed_exitcode))
}
