use anyhow::Result;
use serde_json::json;

use super::Exit;
use super::out::outln;
use crate::cli::ControlsArgs;
use cis_fix::render::Style;
use cis_fix::{benchmark, diff};

pub fn run(args: ControlsArgs) -> Result<Exit> {
    let b = benchmark::load(
        args.benchmark
            .as_deref()
            .unwrap_or(benchmark::DEFAULT_VERSION),
    )?;
    if args.json {
        let controls: Vec<_> = b
            .controls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "title": c.title,
                    "kind": c.kind,
                    "managed": diff::family(c.kind).is_some(),
                    "resources": diff::family(c.kind).map(|f| f.resource_kinds),
                    "level": c.level,
                    "assessment": c.assessment,
                    "pattern": c.pattern,
                    "accepted_patterns": c.accepted_patterns,
                    "unconfirmed": c.unconfirmed,
                })
            })
            .collect();
        let out = json!({ "benchmark": b.version, "title": b.title, "controls": controls });
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Exit::Ok);
    }
    let s = Style::for_stdout();
    outln!("{}\n", s.bold(&b.title));
    let w = b.controls.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for c in &b.controls {
        let family = diff::family(c.kind);
        let managed = if family.is_some() {
            s.green("managed    ")
        } else {
            s.dim("not managed")
        };
        outln!("  {:<w$}  {managed}  L{}  {}", c.id, c.level, c.title);
        match family {
            Some(f) => {
                outln!("  {:<w$}  needs: {}", "", (f.needs)(&b, c));
                if let Some(p) = &c.pattern {
                    outln!("  {:<w$}  pattern: {p}", "");
                }
            }
            None => outln!(
                "  {:<w$}  {}",
                "",
                s.dim(&format!("{}: not yet planned by cis-fix", c.kind.label()))
            ),
        }
        if let Some(u) = &c.unconfirmed {
            outln!("  {:<w$}  {}", "", s.yellow(&format!("unconfirmed: {u}")));
        }
    }
    let managed = b
        .controls
        .iter()
        .filter(|c| diff::family(c.kind).is_some())
        .count();
    outln!(
        "\n{managed} of {} controls managed. Source: {}",
        b.controls.len(),
        b.status
    );
    Ok(Exit::Ok)
}
