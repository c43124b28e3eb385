use anyhow::{Context, Result, anyhow, bail};

use super::Exit;
use super::out::outln;
use crate::cli::PatternCommand;
use cis_fix::benchmark;
use cis_fix::pattern::{self, Coverage};

pub fn run(cmd: PatternCommand) -> Result<Exit> {
    match cmd {
        PatternCommand::Check {
            pattern: text,
            control,
            benchmark: version,
        } => {
            let p = pattern::parse(&text).map_err(|e| anyhow!("pattern {e}"))?;
            outln!("canonical: {}", p.canonical());
            if text.chars().count() > pattern::MAX_PATTERN_LEN {
                outln!(
                    "warning: {} characters, over CloudWatch's {} limit",
                    text.chars().count(),
                    pattern::MAX_PATTERN_LEN
                );
            }
            let Some(id) = control else {
                return Ok(Exit::Ok);
            };
            let b = benchmark::load(version.as_deref().unwrap_or(benchmark::DEFAULT_VERSION))?;
            let c = b
                .metric_filter_controls()
                .find(|c| c.id == id)
                .ok_or_else(|| {
                    anyhow!(
                        "control {id} is not a metric-filter control of v{}: {}",
                        b.version,
                        b.metric_filter_controls()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let mut verdict = None;
            for t in c.pattern.iter().chain(c.accepted_patterns.iter()) {
                let bp = pattern::parse(t).map_err(|e| anyhow!("benchmark pattern {e}"))?;
                let v = pattern::covers(&p, &bp);
                if v == Coverage::Covered {
                    verdict = Some(v);
                    break;
                }
                verdict.get_or_insert(v);
            }
            match verdict.unwrap_or(Coverage::Covered) {
                Coverage::Covered => {
                    outln!("{id} ({}): covered", c.title);
                    Ok(Exit::Ok)
                }
                Coverage::NotCovered { missing } => {
                    outln!("{id} ({}): not covered; would not fire on:", c.title);
                    for m in missing {
                        outln!("  {m}");
                    }
                    Ok(Exit::Failed)
                }
                Coverage::CannotProve { reason } => {
                    outln!("{id} ({}): cannot prove coverage: {reason}", c.title);
                    Ok(Exit::Failed)
                }
            }
        }
        PatternCommand::Test {
            pattern: text,
            events,
        } => {
            let p = pattern::parse(&text).map_err(|e| anyhow!("pattern {e}"))?;
            let raw = std::fs::read_to_string(&events)
                .with_context(|| format!("cannot read events file {}", events.display()))?;
            let list = parse_events(&raw).with_context(|| format!("{}", events.display()))?;
            let mut hits = 0;
            for (i, e) in list.iter().enumerate() {
                if p.matches(e) {
                    hits += 1;
                    let name = e.get("eventName").and_then(|v| v.as_str()).unwrap_or("?");
                    let source = e.get("eventSource").and_then(|v| v.as_str()).unwrap_or("?");
                    outln!("match  #{}  {source} {name}", i + 1);
                }
            }
            outln!("{hits} of {} events match", list.len());
            Ok(Exit::Ok)
        }
    }
}

/// A CloudTrail log file (`{"Records": [...]}`), a JSON array, or JSON lines.
fn parse_events(raw: &str) -> Result<Vec<serde_json::Value>> {
    let trimmed = raw.trim_start();
    if (trimmed.starts_with('[')
        || trimmed.starts_with("{\"Records\"")
        || trimmed.starts_with("{ \"Records\""))
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(raw)
    {
        return match v {
            serde_json::Value::Array(a) => Ok(a),
            serde_json::Value::Object(mut o) => match o.remove("Records") {
                Some(serde_json::Value::Array(a)) => Ok(a),
                _ => bail!("`Records` is not an array"),
            },
            _ => bail!("expected a JSON array or an object with `Records`"),
        };
    }
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("line {}: not a JSON event", i + 1))
        })
        .collect()
}
