use anyhow::Result;
use serde_json::json;

use super::Exit;
use super::out::outln;
use crate::cli::ControlsArgs;
use cis_fix::config::Config;
use cis_fix::desired::noisy;
use cis_fix::diff;
use cis_fix::render::Style;

/// Characters of an `unconfirmed:` reason: with the indent and the label,
/// a line stays within 100 columns, like the title lines above it.
const REASON_WIDTH: usize = 76;

pub fn run(args: ControlsArgs) -> Result<Exit> {
    let (config, _) = Config::discover(args.target.config.as_deref())?;
    let b = super::load_benchmark(args.target.benchmark.as_deref(), &config)?;
    let today = cis_fix::date::Date::today();
    // The config's exceptions of a control, as the plan will take them.
    let exceptions_of = |id: &str| {
        config
            .exceptions
            .iter()
            .filter(|e| e.control == id)
            .collect::<Vec<_>>()
    };
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
                    "matches_routine_activity": noisy(&b.version, c).map(|n| json!({
                        "matches": n.matches,
                        "fixed_in": n.fixed_in,
                    })),
                    "exceptions": exceptions_of(&c.id).iter().map(|e| json!({
                        "resource": e.resource,
                        "reason": e.reason,
                        "approved_by": e.approved_by,
                        "expires": e.expires,
                        "expired": e.expires <= today,
                    })).collect::<Vec<_>>(),
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
                if let Some(n) = noisy(&b.version, c) {
                    let fix = match &n.fixed_in {
                        Some(v) => format!("v{v} fixes it"),
                        None => "no later version fixes it".into(),
                    };
                    outln!(
                        "  {:<w$}  {}",
                        "",
                        s.yellow(&format!(
                            "note: this pattern also matches routine activity ({}), so its alarm stays in ALARM and never notifies per event; {fix}",
                            n.matches
                        ))
                    );
                }
            }
            None => outln!(
                "  {:<w$}  {}",
                "",
                s.dim(&format!("{}: not yet planned by cis-fix", c.kind.label()))
            ),
        }
        for e in exceptions_of(&c.id) {
            let what = e
                .resource
                .as_deref()
                .map(|r| format!(" `{r}`"))
                .unwrap_or_default();
            let who = e
                .approved_by
                .as_deref()
                .map(|a| format!(", approved by {a}"))
                .unwrap_or_default();
            let line = if e.expires <= today {
                format!(
                    "exception{what} expired on {}: judged again ({})",
                    e.expires, e.reason
                )
            } else {
                format!("excepted{what} until {}{who}: {}", e.expires, e.reason)
            };
            outln!("  {:<w$}  {}", "", s.bold(&line));
        }
        if let Some(reason) = c.unconfirmed_reason(REASON_WIDTH) {
            outln!(
                "  {:<w$}  {}",
                "",
                s.yellow(&format!("unconfirmed: {reason}"))
            );
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
    let unconfirmed = b
        .controls
        .iter()
        .filter(|c| c.unconfirmed.is_some())
        .count();
    if unconfirmed > 0 {
        let noun = if unconfirmed == 1 {
            "control"
        } else {
            "controls"
        };
        outln!("{unconfirmed} {noun} marked unconfirmed: `--json` has the full notes.");
    }
    Ok(Exit::Ok)
}
