//! `plan --organization` and `apply --organization`: the organization run
//! (`cis_fix::org`) glued to the terminal: the report grouped by account
//! on stdout, each account's errors and warnings on stderr, and for apply
//! each account carried out in turn under its own lock and journal entry.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::{Context, Result, anyhow, bail};

use super::Exit;
use super::apply::{Carry, Run, carry_out_reporting, confirm};
use super::guards::Places;
use super::out::{err, errln, out, outln};
use crate::cli::{Accounts, ApplyArgs, PlanArgs};
use cis_fix::aws::organizations::Organization;
use cis_fix::aws::organizations::{self, Role};
use cis_fix::aws::{Aws, Limiter};
use cis_fix::config::Config;
use cis_fix::desired::Desired;
use cis_fix::fingerprint;
use cis_fix::fleet::{AccountReport, JsonStream, OrgReport, Shard, Totals};
use cis_fix::jsonreport::{ApplyReport, ExitReason};
use cis_fix::org::{self, Reach};
use cis_fix::render::{self, Style};
use cis_fix::snapshot::ReadScope;

/// The role plan assumes by default (examples/roles/ deploys it).
pub const PLAN_ROLE: &str = "cis-fix-plan";
/// The role apply assumes by default.
pub const APPLY_ROLE: &str = "cis-fix-apply";

/// Accounts read at once; the calls of all of them share the one
/// `--concurrency` bound.
const ACCOUNTS_IN_FLIGHT: usize = 4;

/// The role from `--role-name`, else the config's, else `default`; the
/// external id from the config.
fn role(accounts: &Accounts, config: &Config, default: &str) -> Result<Role> {
    let name = accounts
        .role_name
        .clone()
        .or_else(|| config.organization.role_name.clone())
        .unwrap_or_else(|| default.to_string());
    if !cis_fix::config::is_role_name(&name) {
        bail!(
            "--role-name: `{name}` is not an IAM role name (1 to 64 letters, digits and +=,.@_-)"
        );
    }
    Ok(Role {
        name,
        external_id: config.organization.external_id.clone(),
    })
}

/// How the run reached the accounts, kept for apply: it opens a fresh
/// session in each account just before applying to it, so a long run does
/// not outlive the sessions of its reads (an hour each).
struct Access {
    base: Aws,
    caller_account: String,
    role: Role,
    limit: Limiter,
}

impl Access {
    fn reach(&self) -> Reach<'_> {
        Reach {
            base: &self.base,
            caller_account: &self.caller_account,
            role: &self.role,
            limit: &self.limit,
            accounts_in_flight: ACCOUNTS_IN_FLIGHT,
        }
    }
}

/// Everything the accounts' plans need: the desired state, how to reach
/// the accounts, the organization, this worker's shard and what to read.
struct Prepared {
    desired: Desired,
    access: Access,
    org: Organization,
    shard: Option<Shard>,
    scope: ReadScope,
}

impl Prepared {
    /// Plans each account in turn (`org::plan_organization`), handing each
    /// to `each` in account id order.
    /// `prints`: keep each account's read digests (for apply).
    async fn plan(&self, prints: bool, each: impl FnMut(org::AccountRun)) {
        org::plan_organization(
            &self.access.reach(),
            &self.org,
            self.shard,
            &self.desired,
            &self.scope,
            cis_fix::date::Date::today(),
            prints,
            each,
        )
        .await;
    }
}

/// Config, shard, the caller and the organization's accounts.
async fn prepare(
    args_target: &crate::cli::Target,
    connection: &crate::cli::Connection,
    accounts: &Accounts,
    allow_destructive: bool,
    default_role: &str,
) -> Result<Prepared> {
    let desired = super::desired(args_target, allow_destructive)?;
    let (config, _) = Config::discover(args_target.config.as_deref())?;
    let role = role(accounts, &config, default_role)?;
    let shard = accounts.shard.as_deref().map(Shard::parse).transpose()?;
    let base = super::connect(connection).await?;
    let (caller_account, _) = cis_fix::aws::caller(&base)
        .await
        .map_err(|f| anyhow!("cannot tell which account is calling: {f}"))?;
    let limit = Limiter::new(usize::from(connection.concurrency));
    let org = organizations::organization(&base, &limit).await.map_err(|f| {
        anyhow!(
            "cannot list the organization's accounts: {f}. Run --organization from the management account, or from a delegated administrator of AWS Organizations, with organizations:DescribeOrganization and organizations:ListAccounts."
        )
    })?;
    let scope = super::with_regions(desired.read_scope(), connection)?;
    Ok(Prepared {
        desired,
        access: Access {
            base,
            caller_account,
            role,
            limit,
        },
        org,
        shard,
        scope,
    })
}

/// An account's errors and warnings, for stderr under its id.
fn problems_of(a: &AccountReport) -> String {
    let e = Style::for_stderr();
    let said = match (&a.plan, &a.error) {
        (Some(p), _) => render::problems(p, e),
        (None, Some(f)) => format!(
            "{} cannot plan this account: {f}\n",
            e.red(&e.bold("Error:"))
        ),
        (None, None) => String::new(),
    };
    if said.is_empty() {
        said
    } else {
        format!("{}\n{said}", e.bold(&format!("Account {}:", a.account_id)))
    }
}

/// Each account's errors and warnings on stderr, under its id.
fn problems(report: &OrgReport) {
    for a in &report.accounts {
        err!("{}", problems_of(a));
    }
}

/// `plan --organization`: each account written out as soon as it and
/// those before it are planned (its problems on stderr, its plan on
/// stdout), and only its table row kept for the total, so a run's memory
/// does not grow with the accounts it has planned.
pub async fn plan(args: &PlanArgs) -> Result<Exit> {
    let p = prepare(
        &args.target,
        &args.connection,
        &args.accounts,
        args.allow_destructive,
        PLAN_ROLE,
    )
    .await?;
    let mut totals = Totals::new(p.org.id.clone(), p.shard);
    let style = Style::for_stdout();
    let mut json = None;
    if args.json {
        let (stream, head) = JsonStream::head(
            &p.desired.benchmark_version,
            p.org.id.as_deref(),
            p.org.management_account.as_deref(),
            p.shard,
        );
        out!("{head}");
        json = Some(stream);
    }
    p.plan(false, |run| {
        let a = run.report();
        err!("{}", problems_of(&a));
        match &mut json {
            Some(stream) => out!("{}", stream.account(&a)),
            None => out!("{}", render::account_section(&a, style)),
        }
        totals.add(&a);
    })
    .await;
    match json {
        Some(stream) => outln!("{}", stream.tail(&totals)),
        None => out!("{}", render::org_totals(&totals, style)),
    }
    Ok(super::report::exit(&totals.summary, args.detailed_exitcode))
}

/// One account's apply, in `apply --organization --json`'s report.
#[derive(serde::Serialize)]
struct AccountApply {
    account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// `applied` (every change made), `no_changes`, `failed` (refused
    /// before its writes, or a change failed: the error or report says
    /// why), `interrupted`, `not_planned` (the plan failed), `not_started`
    /// (an interrupt ended the run first).
    outcome: &'static str,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ApplyReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(serde::Serialize)]
struct OrgApply {
    format_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<Shard>,
    accounts: Vec<AccountApply>,
}

fn code(e: Exit) -> u8 {
    match e {
        Exit::Ok => 0,
        Exit::Failed => 1,
        Exit::Changes => 2,
        Exit::Interrupted(c) => c,
    }
}

pub async fn apply(args: &ApplyArgs) -> Result<Exit> {
    let can_ask = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.auto_approve && !can_ask {
        bail!(
            "apply needs confirmation, but standard input or standard error is not a terminal: run it in a terminal, or pass --auto-approve to apply without asking"
        );
    }
    let p = prepare(
        &args.target,
        &args.connection,
        &args.accounts,
        args.allow_destructive,
        APPLY_ROLE,
    )
    .await?;
    // Apply needs every account's plan: it shows them all, asks once, then
    // applies account by account.
    let mut runs = Vec::new();
    p.plan(true, |run| runs.push(run)).await;
    let report = OrgReport::new(
        &p.desired.benchmark_version,
        p.org.id.clone(),
        p.org.management_account.clone(),
        p.shard,
        runs.iter().map(org::AccountRun::report).collect(),
    );
    let (scope, access) = (&p.scope, &p.access);
    problems(&report);
    // With --json, stdout holds the apply report alone.
    let shown = render::org_report(
        &report,
        true,
        if args.json {
            Style::for_stderr()
        } else {
            Style::for_stdout()
        },
    );
    if args.json {
        err!("{shown}");
    } else {
        out!("{shown}");
    }
    if !args.auto_approve && report.summary.changes > 0 && !confirm(args.json)? {
        bail!("Apply cancelled.");
    }
    let s = if args.json {
        Style::for_stderr()
    } else {
        Style::for_stdout()
    };
    let mut results = Vec::new();
    let mut exit = Exit::Ok;
    let mut interrupted = None;
    // An interrupt between two accounts' applies (each apply listens for
    // its own) ends the run before the next account.
    let between = Arc::new(AtomicU8::new(0));
    let _listening = listen(between.clone());
    for a in &runs {
        let mut row = AccountApply {
            account_id: a.member.id.clone(),
            name: a.member.name.clone(),
            outcome: "not_planned",
            exit_code: 1,
            report: None,
            error: None,
        };
        if interrupted.is_none() {
            interrupted = Some(between.load(Ordering::SeqCst)).filter(|c| *c > 0);
        }
        if interrupted.is_some() {
            row.outcome = "not_started";
            results.push(row);
            continue;
        }
        let Ok(plan) = &a.plan else {
            row.error = a.plan.as_ref().err().map(ToString::to_string);
            exit = worse(exit, Exit::Failed);
            results.push(row);
            continue;
        };
        let aws = match org::session(&access.reach(), &a.member.id).await {
            Ok(aws) => aws,
            Err(f) => {
                errln!(
                    "{} account {}: {f}",
                    Style::for_stderr().red(&Style::for_stderr().bold("Error:")),
                    a.member.id
                );
                row.outcome = "failed";
                row.error = Some(f.to_string());
                exit = worse(exit, Exit::Failed);
                results.push(row);
                continue;
            }
        };
        let aws = &aws;
        let heading = format!("── Apply: account {} ──", a.member.id);
        if args.json {
            errln!("\n{}", s.bold(&heading));
        } else {
            outln!("\n{}", s.bold(&heading));
        }
        // As for one account: the account is locked, then read again, and
        // its plan applied only if what it rested on is unchanged (the
        // plan shown at the start may be minutes old by now).
        let places = Places::from_config(args.target.config.as_deref(), aws.home_region())?;
        let account_run = Run::start();
        let carried = async {
            account_run.lock(&places, aws).await?;
            let now = super::read(aws, &args.connection, scope).await;
            let changed = fingerprint::compare(&a.prints, &fingerprint::of(&now));
            if !changed.is_empty() {
                bail!(
                    "the account changed since it was planned, so its plan was not applied and nothing was changed in it:{}\nRun apply again to plan it as it is now.",
                    changed
                        .iter()
                        .map(|c| format!("\n  - {c}"))
                        .collect::<String>()
                );
            }
            // `now` reads as the plan's snapshot did (the prints match).
            carry_out_reporting(
                plan,
                &now,
                aws,
                Carry {
                    ask: false,
                    detailed: args.detailed_exitcode,
                    json: args.json,
                    config: args.target.config.as_deref(),
                },
                &account_run,
                &places,
            )
            .await
        }
        .await;
        let carried = match account_run.release().await {
            Ok(()) => carried,
            Err(why) => carried.and(Err(why)),
        }
        .with_context(|| format!("account {}", a.member.id));
        match carried {
            Ok((e, r)) => {
                row.outcome = match r.exit_reason {
                    ExitReason::NoChanges => "no_changes",
                    ExitReason::Complete => "applied",
                    ExitReason::Incomplete => "failed",
                    ExitReason::Interrupted => "interrupted",
                };
                row.exit_code = code(e);
                row.report = Some(r);
                if let Exit::Interrupted(c) = e {
                    interrupted = Some(c);
                }
                exit = worse(exit, e);
            }
            Err(why) => {
                let text = format!("{why:#}");
                errln!(
                    "{} {text}",
                    Style::for_stderr().red(&Style::for_stderr().bold("Error:"))
                );
                row.outcome = "failed";
                row.error = Some(text);
                exit = worse(exit, Exit::Failed);
            }
        }
        results.push(row);
    }
    let summary = apply_summary(&results);
    if args.json {
        errln!("\n{summary}");
        let doc = OrgApply {
            format_version: "1.0",
            organization_id: p.org.id.clone(),
            shard: p.shard,
            accounts: results,
        };
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        outln!("\n{summary}");
    }
    Ok(match interrupted {
        Some(c) => Exit::Interrupted(c),
        None => exit,
    })
}

/// Records SIGINT (130) or SIGTERM (143) in `got`, for as long as the
/// returned task runs.
fn listen(got: Arc<AtomicU8>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            loop {
                let code = tokio::select! {
                    Some(()) = int.recv() => 130u8,
                    Some(()) = term.recv() => 143u8,
                    else => return,
                };
                got.store(code, Ordering::SeqCst);
            }
        }
        #[cfg(not(unix))]
        while tokio::signal::ctrl_c().await.is_ok() {
            got.store(130, Ordering::SeqCst);
        }
    })
}

/// The run's worst outcome: interrupted, then failed, then changes.
fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Changes => 1,
        Exit::Failed => 2,
        Exit::Interrupted(_) => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn apply_summary(results: &[AccountApply]) -> String {
    let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
    let mut text = format!(
        "Organization apply: {} account{}: {} applied, {} without changes, {} failed, {} not planned",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        count("applied"),
        count("no_changes"),
        count("failed"),
        count("not_planned"),
    );
    let not_started = count("not_started");
    if not_started > 0 {
        text.push_str(&format!(", {not_started} not started (interrupted)"));
    }
    text.push('.');
    for r in results
        .iter()
        .filter(|r| matches!(r.outcome, "failed" | "not_planned"))
    {
        text.push_str(&format!(
            "\n  {} {}: {}",
            r.account_id,
            r.outcome.replace('_', " "),
            r.error.as_deref().unwrap_or("see above")
        ));
    }
    text
}

/// `--role-arn ARN`: the caller's session turned into one in the role's
/// account.
pub async fn assume_role_arn(
    aws: Aws,
    accounts: &Accounts,
    config: Option<&std::path::Path>,
) -> Result<Aws> {
    let Some(arn) = &accounts.role_arn else {
        return Ok(aws);
    };
    let Some(account) = cis_fix::arn::Arn::parse(arn)
        .filter(|a| a.service == "iam" && a.resource.starts_with("role/") && !a.account.is_empty())
        .map(|a| a.account)
    else {
        bail!("--role-arn: `{arn}` is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
    };
    let (config, _) = Config::discover(config)?;
    organizations::assume(
        &aws,
        &Limiter::new(1),
        &account,
        arn,
        config.organization.external_id.as_deref(),
    )
    .await
    .map_err(|f| anyhow!("cannot assume {arn}: {f}"))
}
