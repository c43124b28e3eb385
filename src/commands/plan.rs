use anyhow::Result;

use super::Exit;
use crate::cli::PlanArgs;
use cis_fix::jsonplan::JsonPlan;
use cis_fix::render::{self, Style};
use cis_fix::snapshot::Snapshot;

pub async fn run(args: PlanArgs) -> Result<Exit> {
    let desired = super::desired(&args.target)?;
    let snap = match &args.from {
        Some(path) => Snapshot::load(path)?,
        None => {
            let aws = super::connect(&args.connection).await?;
            super::read(
                &aws,
                &super::topic_names(desired.monitoring.topic.as_deref()),
            )
            .await
        }
    };
    let plan = super::compute(&desired, &snap)?;
    let shown = JsonPlan::from_plan(&plan);
    if args.json {
        println!("{}", render::json(&shown));
    } else {
        print!("{}", render::human(&shown, Style::for_stdout()));
    }
    Ok(if plan.is_incomplete() {
        Exit::Failed
    } else if args.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Ok
    })
}
