use anyhow::{Context, Result};

use super::Exit;
use crate::cli::ShowArgs;
use cis_fix::jsonplan::JsonPlan;
use cis_fix::render::{self, Style};

pub fn run(args: ShowArgs) -> Result<Exit> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read plan file {}", args.file.display()))?;
    let plan = JsonPlan::from_json(&text, &args.file.display().to_string())?;
    if args.json {
        println!("{}", render::json(&plan));
    } else {
        print!("{}", render::human(&plan, Style::for_stdout()));
    }
    Ok(Exit::Ok)
}
