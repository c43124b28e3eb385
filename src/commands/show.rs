use anyhow::{Context, Result};

use super::Exit;
use super::out::out;
use crate::cli::{ShowArgs, ShowFormat};
use cis_fix::jsonplan::JsonPlan;
use cis_fix::render;
use cis_fix::saved_plan::{self, SavedPlan};

/// Renders a saved plan (`plan -out`) or a JSON plan (`plan --json`), told
/// apart by the field each kind has.
pub fn run(args: ShowArgs) -> Result<Exit> {
    let shown = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read plan file {shown}"))?;
    let is_saved = serde_json::from_str::<serde_json::Value>(&text)
        .is_ok_and(|v| v.get(saved_plan::FILE.marker).is_some());
    let plan = if is_saved {
        SavedPlan::from_json(&text, &shown)?.plan
    } else {
        JsonPlan::from_json(&text, &shown)?
    };
    let format = match (args.json, args.format) {
        (true, _) => ShowFormat::Json,
        (false, f) => f.unwrap_or(ShowFormat::Human),
    };
    match format {
        ShowFormat::Human => super::show_plan(&plan, false),
        ShowFormat::Json => super::show_plan(&plan, true),
        ShowFormat::Markdown => out!("{}", render::markdown(&plan)),
    }
    Ok(Exit::Ok)
}
