//! One module per subcommand: glue between the stages, no decisions.

pub mod apply;
pub mod apply_saved;
pub mod controls;
pub mod force_unlock;
pub mod generate;
pub mod guards;
pub mod init;
pub mod org;
pub mod out;
pub mod pattern;
pub mod plan;
pub mod report;
pub mod show;
pub mod snapshot;

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{Connection, Target};
use cis_fix::aws::{Aws, ConnectOptions, Limiter};
use cis_fix::config::Config;
use cis_fix::desired::{self, Desired};
use cis_fix::jsonplan::JsonPlan;
use cis_fix::plan::OptIn;
use cis_fix::progress::Progress;
use cis_fix::render::{self, Style};
use cis_fix::saved_plan::ConfigInput;
use cis_fix::snapshot::{ReadScope, Snapshot};
use cis_fix::{benchmark, diff, plan::Plan};

/// How a command ended, mapped to the process exit code in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    /// Something could not be done or judged: schedules must alert.
    Failed,
    /// `--detailed-exitcode` and the plan has changes.
    Changes,
    Interrupted(u8),
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        match e {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::Failed => ExitCode::from(1),
            Exit::Changes => ExitCode::from(2),
            Exit::Interrupted(code) => ExitCode::from(code),
        }
    }
}

/// Config + benchmark → desired state; `allow_destructive`
/// (`--allow-destructive`) gives every destructive opt-in at once.
pub fn desired(target: &Target, allow_destructive: bool) -> Result<Desired> {
    Ok(desired_from(target, allow_destructive)?.0)
}

/// [`desired`], and the config file it was built from (what a saved plan
/// records, and `apply FILE` finds again).
pub fn desired_from(target: &Target, allow_destructive: bool) -> Result<(Desired, ConfigInput)> {
    let (config, path) = Config::discover(target.config.as_deref())?;
    let input = ConfigInput::of(target.config.as_deref(), path.as_deref()).with_context(|| {
        format!(
            "cannot read config file {}",
            path.as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
        )
    })?;
    let b = load_benchmark(target.benchmark.as_deref(), &config)?;
    let origin = path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "defaults".into());
    let mut d = desired::build(&b, &config, &origin)?;
    if allow_destructive {
        d.destructive = cis_fix::config::Destructive::all();
    }
    Ok((d, input))
}

/// The destructive opt-ins `desired` gives, as a saved plan lists them.
pub fn opt_ins(desired: &Desired) -> Vec<OptIn> {
    let d = desired.destructive;
    [
        (d.default_security_groups, OptIn::DefaultSecurityGroups),
        (d.admin_port_rules, OptIn::AdminPortRules),
        (d.network_acl_rules, OptIn::NetworkAclRules),
        (d.instance_metadata, OptIn::InstanceMetadata),
    ]
    .into_iter()
    .filter_map(|(on, o)| on.then_some(o))
    .collect()
}

/// The one place every command gets its benchmark version: `--benchmark`,
/// else the config's `benchmark:`, else the default. A spelling that names
/// the version by another number (4.0.0) is noted on stderr.
pub fn load_benchmark(flag: Option<&str>, config: &Config) -> Result<benchmark::Benchmark> {
    let version = match (flag, config.benchmark.as_deref()) {
        (Some(f), _) => benchmark::resolve_version(f).context("--benchmark")?,
        // Checked when the config was parsed, with its file and line.
        (None, Some(c)) => benchmark::resolve_version(c)?,
        (None, None) => benchmark::resolve_version(benchmark::DEFAULT_VERSION)?,
    };
    if let Some(note) = &version.note {
        out::errln!("Note: {note}");
    }
    Ok(benchmark::load(version.version)?)
}

/// The regions `--region` names, in order, each once; checked for their
/// spelling before any call.
pub fn chosen_regions(c: &Connection) -> Result<Option<Vec<String>>> {
    if c.region.is_empty() {
        return Ok(None);
    }
    let mut out: Vec<String> = Vec::new();
    for r in &c.region {
        let r = r.trim();
        if !cis_fix::config::is_region_name(r) {
            anyhow::bail!("--region: `{r}` is not a region name (e.g. us-east-1)");
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(Some(out))
}

/// What the reads look for: `scope`, with the regions `--region` names
/// taking the place of the config's.
pub fn with_regions(mut scope: ReadScope, c: &Connection) -> Result<ReadScope> {
    if let Some(r) = chosen_regions(c)? {
        scope.regions = Some(r);
    }
    Ok(scope)
}

pub async fn connect(c: &Connection) -> Result<Aws> {
    let home = chosen_regions(c)?.and_then(|r| r.into_iter().next());
    let aws = Aws::connect(&ConnectOptions {
        region: home,
        profile: c.profile.clone(),
        max_attempts: c.max_attempts,
    })
    .await
    .context("cannot set up AWS access")?;
    for n in aws.notes() {
        out::errln!("Note: {n}.");
    }
    Ok(aws)
}

/// Reads the account: what listing finds, and what `scope` names, with at
/// most `--concurrency` calls in flight.
pub async fn read(aws: &Aws, c: &Connection, scope: &ReadScope) -> Snapshot {
    let progress = Progress::stderr();
    let limit = Limiter::new(usize::from(c.concurrency));
    cis_fix::aws::read_snapshot(aws, &limit, &progress, scope).await
}

/// What the reads look for when there is no desired state (`snapshot`):
/// the same scope `plan` reads with, from the config alone.
pub fn read_scope(config: &Config) -> ReadScope {
    ReadScope {
        topic_names: vec![
            config
                .sns
                .topic
                .clone()
                .unwrap_or_else(|| cis_fix::config::DEFAULT_TOPIC.to_string()),
        ],
        trail: cis_fix::desired::trail_names(config),
        regions: config.regions.clone(),
        flow_logs: cis_fix::desired::flow_log_names(config),
    }
}

pub fn compute(desired: &Desired, snap: &Snapshot) -> Result<Plan> {
    // The one clock read of a plan: which exceptions hold today (UTC).
    Ok(diff::plan(desired, snap, cis_fix::date::Date::today())?)
}

/// Shows a plan: its errors and warnings on stderr, the plan itself (human
/// or JSON) on stdout alone.
pub fn show_plan(p: &JsonPlan, json: bool) {
    out::err!("{}", render::problems(p, Style::for_stderr()));
    if json {
        out::outln!("{}", render::json(p));
    } else {
        out::out!("{}", render::human(p, Style::for_stdout()));
    }
}

/// The exit code a schedule can trust: 1 when something could not be read
/// or judged; with `detailed`, 2 when anything is to change or a control
/// needs a person (blocked, waiting for a confirmation), else 0.
pub fn plan_exit(plan: &Plan, detailed: bool) -> Exit {
    if plan.is_incomplete() {
        Exit::Failed
    } else if detailed && plan.needs_action() {
        Exit::Changes
    } else {
        Exit::Ok
    }
}
