use anyhow::{Result, anyhow};

use super::Exit;
use crate::cli::PatternCommand;
use cis_fix::pattern::{self, Coverage};
use cis_fix::{benchmark, events};

pub fn run(cmd: PatternCommand) -> Result<Exit> {
    match cmd {
        PatternCommand::Check {
            pattern: text,
            control,
            benchmark: version,
        } => {
            let p = pattern::parse(&text).map_err(|e| anyhow!("pattern {e}"))?;
            println!("canonical: {}", p.canonical());
            if text.chars().count() > pattern::MAX_PATTERN_LEN {
                println!(
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
                    println!("{id} ({}): covered", c.title);
                    Ok(Exit::Ok)
                }
                Coverage::NotCovered { missing } => {
                    println!("{id} ({}): not covered; would not fire on:", c.title);
                    for m in missing {
                        println!("  {m}");
                    }
                    Ok(Exit::Failed)
                }
                Coverage::CannotProve { reason } => {
                    println!("{id} ({}): cannot prove coverage: {reason}", c.title);
                    Ok(Exit::Failed)
                }
            }
        }
        PatternCommand::Test {
            pattern: text,
            events: file,
        } => {
            let p = pattern::parse(&text).map_err(|e| anyhow!("pattern {e}"))?;
            let list = events::load(&file)?;
            let mut hits = 0;
            for (i, e) in list.iter().enumerate() {
                if p.matches(e) {
                    hits += 1;
                    let name = e.get("eventName").and_then(|v| v.as_str()).unwrap_or("?");
                    let source = e.get("eventSource").and_then(|v| v.as_str()).unwrap_or("?");
                    println!("match  #{}  {source} {name}", i + 1);
                }
            }
            println!("{hits} of {} events match", list.len());
            Ok(Exit::Ok)
        }
    }
}
