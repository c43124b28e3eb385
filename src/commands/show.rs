use anyhow::{Context, Result};

use super::Exit;
use crate::cli::ShowArgs;
use cis_fix::jsonplan::JsonPlan;

pub fn run(args: ShowArgs) -> Result<Exit> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read plan file {}", args.file.display()))?;
    let plan = JsonPlan::from_json(&text, &args.file.display().to_string())?;
    super::show_plan(&plan, args.json);
    Ok(Exit::Ok)
}
