//! `cis-fix report merge FILES…`: the reports of parallel workers as one.

use anyhow::{Context, Result};

use super::Exit;
use super::out::{out, outln};
use crate::cli::{MergeArgs, ReportCommand};
use cis_fix::fleet::{self, FleetSummary, Part};
use cis_fix::render::{self, Style};

pub fn run(c: ReportCommand) -> Result<Exit> {
    match c {
        ReportCommand::Merge(a) => merge(a),
    }
}

fn merge(args: MergeArgs) -> Result<Exit> {
    let mut parts = Vec::new();
    for f in &args.files {
        let origin = f.display().to_string();
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read report file {origin}"))?;
        parts.push((origin.clone(), Part::from_json(&text, &origin)?));
    }
    let merged = fleet::merge(parts)?;
    if args.json {
        outln!("{}", merged.to_json());
    } else {
        out!(
            "{}",
            render::org_report(&merged, false, Style::for_stdout())
        );
    }
    Ok(exit(&merged.summary, args.detailed_exitcode))
}

/// As `plan --detailed-exitcode`: 1 when an account is unknown; with
/// `detailed`, 2 when one has changes or is blocked.
pub fn exit(r: &FleetSummary, detailed: bool) -> Exit {
    if r.is_incomplete() {
        Exit::Failed
    } else if detailed && r.needs_action() {
        Exit::Changes
    } else {
        Exit::Ok
    }
}
