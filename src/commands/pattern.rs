use anyhow::{Result, anyhow};

use super::Exit;
use super::out::{errln, outln};
use crate::cli::PatternCommand;
use cis_fix::config::Config;
use cis_fix::events;
use cis_fix::pattern::{self, Coverage};

pub fn run(cmd: PatternCommand) -> Result<Exit> {
    match cmd {
        PatternCommand::Check {
            pattern: text,
            control,
            target,
        } => {
            let p = pattern::parse(&text).map_err(|e| anyhow!("pattern {e}"))?;
            // Every input is checked before anything is printed. The config
            // is read only for --control: a check without it needs no
            // benchmark, and a broken cis-fix.yaml nearby is no reason to
            // refuse it.
            let judged = match &control {
                None => None,
                Some(id) => {
                    let (config, _) = Config::discover(target.config.as_deref())?;
                    let b = super::load_benchmark(target.benchmark.as_deref(), &config)?;
                    let c = b
                        .metric_filter_controls()
                        .find(|c| c.id == *id)
                        .cloned()
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
                    Some(c)
                }
            };
            outln!("canonical: {}", p.canonical());
            if text.chars().count() > pattern::MAX_PATTERN_LEN {
                errln!(
                    "Warning: {} characters, over CloudWatch's {} limit",
                    text.chars().count(),
                    pattern::MAX_PATTERN_LEN
                );
            }
            let Some(c) = judged else {
                return Ok(Exit::Ok);
            };
            let id = &c.id;
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
                    outln!("match  #{}  {source} {name}", i + 1);
                }
            }
            outln!("{hits} of {} events match", list.len());
            Ok(Exit::Ok)
        }
    }
}
