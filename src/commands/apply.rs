use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};

use super::Exit;
use super::out::{errln, out, outln};
use crate::cli::ApplyArgs;
use cis_fix::address::Address;
use cis_fix::apply::{self, Event, Outcome};
use cis_fix::aws::Aws;
use cis_fix::aws::permissions::{self, PermissionCheck, Request};
use cis_fix::jsonplan::JsonPlan;
use cis_fix::kinds;
use cis_fix::plan::{Cause, ControlStatus, Plan};
use cis_fix::render::{self, Style};
use cis_fix::snapshot::Snapshot;

pub async fn run(args: ApplyArgs) -> Result<Exit> {
    if let Some(file) = &args.plan {
        return super::apply_saved::run(&args, file).await;
    }
    let desired = super::desired(&args.target, args.allow_destructive)?;
    // The prompt reads stdin and writes to stderr: both must be a terminal.
    let can_ask = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.auto_approve && !can_ask {
        bail!(
            "apply needs confirmation, but standard input or standard error is not a terminal: run it in a terminal, or pass --auto-approve to apply without asking"
        );
    }
    let scope = super::with_regions(desired.read_scope(), &args.connection)?;
    let aws = super::connect(&args.connection).await?;
    let snap = super::read(&aws, &args.connection, &scope).await;
    let plan = super::compute(&desired, &snap)?;
    super::show_plan(&JsonPlan::from_plan(&plan), false);
    let ask = !args.auto_approve;
    carry_out(
        &plan,
        &snap,
        &aws,
        ask,
        args.detailed_exitcode,
        args.target.config.as_deref(),
    )
    .await
}

/// A plan already shown, carried out: the guards that must hold before any
/// write (somebody to notify, the permissions), the prompt when `ask`, the
/// writes, and the report. `config` names the config file in advice.
pub(super) async fn carry_out(
    plan: &Plan,
    snap: &Snapshot,
    aws: &Aws,
    ask: bool,
    detailed: bool,
    config: Option<&Path>,
) -> Result<Exit> {
    let s = Style::for_stdout();
    let e = Style::for_stderr();
    if !plan.has_changes() {
        return Ok(outcome(plan, detailed, e));
    }
    // Alarms that reach nobody fix nothing: say so before any write rather
    // than build a chain no person is at the end of.
    if let Some(topic) = plan.controls.iter().find_map(|c| match &c.cause {
        Some(Cause::NoSubscriber { topic }) => Some(topic),
        _ => None,
    }) {
        bail!(
            "nobody would receive the alarms: topic `{topic}` has no confirmed subscription and none is configured. Add one under sns.subscriptions in the config ({}; `cis-fix init --email ADDRESS` writes one) and run apply again. Nothing was changed.",
            config
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| cis_fix::config::DEFAULT_FILE.to_string())
        );
    }
    match permissions::check(aws, snap.caller_arn.as_deref(), &requests(plan, snap)).await {
        PermissionCheck::Allowed { .. } => {}
        PermissionCheck::Missing { principal, actions } => bail!(
            "{principal} may not make the calls this plan needs (checked with iam:SimulatePrincipalPolicy): {}. Nothing was changed. Grant them (see examples/iam/cis-fix-apply.json) and run apply again.",
            actions.join(", ")
        ),
        PermissionCheck::Unavailable(why) => errln!(
            "{} could not check permissions before applying ({why}); going ahead, and stopping at the first denied call.",
            e.yellow("Warning:")
        ),
    }
    if ask && !confirm()? {
        bail!("Apply cancelled.");
    }
    outln!();

    let stop = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicU8::new(0));
    // Kept listening to the end: a signal after the last write still gets
    // the orderly exit code.
    let _watcher = watch_signals(stop.clone(), signal.clone());
    let mut started: HashMap<Address, Instant> = HashMap::new();
    let report = apply::apply(plan, aws, &stop, |ev| match ev {
        Event::Started(c) => {
            started.insert(c.address.clone(), Instant::now());
            outln!(
                "{}",
                render::apply_line(&c.address.to_string(), c.action, None, None, s)
            )
        }
        Event::Finished(r) => {
            let took = started.get(&r.address).map(Instant::elapsed);
            match &r.outcome {
                Outcome::Done { id, note } => {
                    outln!(
                        "{}",
                        render::apply_line(
                            &r.address.to_string(),
                            r.action,
                            Some(took.unwrap_or_default()),
                            id.as_deref(),
                            s
                        )
                    );
                    if let Some(n) = note {
                        outln!("  {}", s.yellow(n));
                    }
                }
                Outcome::Failed(f) => errln!(
                    "{} {}: {f}",
                    e.red(&e.bold("Error:")),
                    e.bold(&r.address.to_string())
                ),
                Outcome::Skipped { because } => errln!(
                    "{} {}: skipped, because {because}",
                    e.yellow(&e.bold("Warning:")),
                    e.bold(&r.address.to_string())
                ),
                Outcome::NotStarted { .. } => {}
            }
        }
    })
    .await;

    outln!();
    let done = report.summary();
    let counts = format!(
        "Resources: {} added, {} changed, {} destroyed.",
        done.add, done.change, done.destroy
    );
    let interrupted = signal.load(Ordering::SeqCst);
    if report.all_done() {
        outln!("{} {counts}", s.green(&s.bold("Apply complete!")));
    } else {
        let head = if interrupted > 0 {
            "Apply interrupted."
        } else {
            "Apply failed."
        };
        errln!("{} {counts}", e.red(&e.bold(head)));
        for r in &report.results {
            let line = match &r.outcome {
                Outcome::Done { .. } => format!("  done         {}", r.address),
                // The error itself was said when it happened.
                Outcome::Failed(f) => format!("  failed       {}: {}", r.address, f.call),
                Outcome::Skipped { because } => format!("  skipped      {}: {because}", r.address),
                Outcome::NotStarted { because } => {
                    format!("  not started  {}: {because}", r.address)
                }
            };
            errln!("{line}");
        }
        errln!("Run `cis-fix apply` again to finish: it plans from the account as it is now.");
    }

    // Where each control stands now, derived from the plan and what was
    // done, without reading everything again (the next plan reads it).
    let now = apply::after(plan, &report);
    outln!();
    out!("{}", render::controls_table(&JsonPlan::from_plan(&now), s));
    Ok(match interrupted {
        0 if report.all_done() => outcome(&now, detailed, e),
        0 => Exit::Failed,
        code => Exit::Interrupted(code),
    })
}

/// How an apply that ran to the end exits: 1 when something could not be
/// judged, or (without `--detailed-exitcode`) when a control is still
/// blocked, since the run did not reach its goal; with it, 2 when a control
/// still needs a person. A subscription waiting for its confirmation is said
/// on stderr either way.
fn outcome(now: &Plan, detailed: bool, e: Style) -> Exit {
    let count = |st: ControlStatus| now.controls.iter().filter(|c| c.status == st).count();
    let (blocked, pending) = (
        count(ControlStatus::Blocked),
        count(ControlStatus::PendingConfirmation),
    );
    if pending > 0 {
        errln!(
            "{} {pending} control{} wait{} for a person to confirm a subscription (see above).",
            e.yellow(&e.bold("Warning:")),
            if pending == 1 { "" } else { "s" },
            if pending == 1 { "s" } else { "" }
        );
    }
    if now.is_incomplete() {
        return Exit::Failed;
    }
    if detailed {
        return super::plan_exit(now, true);
    }
    if blocked > 0 {
        errln!(
            "{} {blocked} control{} still blocked (see above): cis-fix cannot make {} compliant yet.",
            e.red(&e.bold("Error:")),
            if blocked == 1 { " is" } else { "s are" },
            if blocked == 1 { "it" } else { "them" }
        );
        return Exit::Failed;
    }
    Exit::Ok
}

/// The calls the plan will make, with the resources they act on, each as
/// its kind describes it.
fn requests(plan: &Plan, snap: &Snapshot) -> Vec<Request> {
    let partition = snap
        .caller_arn
        .as_deref()
        .and_then(permissions::partition)
        .unwrap_or_else(|| "aws".into());
    // A resource this plan creates has no ARN yet, but IAM judges the one
    // it will have, which its kind can tell.
    let planned_arn = |a: &cis_fix::address::Address| {
        plan.change(a)?
            .after
            .as_ref()?
            .planned_arn(&a.location, &partition)
    };
    plan.changes
        .iter()
        .flat_map(|c| {
            kinds::calls(c.action, c.before.as_ref(), c.after.as_ref())
                .into_iter()
                .flat_map(|call| {
                    let region = c.address.region().to_string();
                    let pass = call
                        .passed_role()
                        .and_then(|r| r.known())
                        .map(|role| Request {
                            action: "iam:PassRole",
                            region: region.clone(),
                            resource: role.to_string(),
                        });
                    std::iter::once(Request {
                        action: call.iam_action(),
                        region,
                        resource: call.iam_resource(&c.address.location, &partition, &planned_arn),
                    })
                    .chain(pass)
                })
        })
        .collect()
}

/// Terraform's prompt: only `yes` proceeds.
fn confirm() -> Result<bool> {
    outln!("\nDo you want to perform these actions?");
    outln!("  cis-fix will perform the actions described above.");
    outln!("  Only 'yes' will be accepted to approve.\n");
    let answer: String = dialoguer::Input::new()
        .with_prompt("  Enter a value")
        .allow_empty(true)
        .interact_text()?;
    Ok(answer.trim() == "yes")
}

/// First Ctrl-C / SIGTERM: start no new calls, let the one in flight finish.
/// Second: exit at once. The handlers are installed before this returns, so
/// a signal during the first write is already caught.
fn watch_signals(stop: Arc<AtomicBool>, signal: Arc<AtomicU8>) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal as listen};
        let mut int = listen(SignalKind::interrupt()).ok();
        let mut term = listen(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            loop {
                let code = tokio::select! {
                    Some(_) = recv(&mut int) => 130u8,
                    Some(_) = recv(&mut term) => 143u8,
                    else => return,
                };
                on_signal(code, &stop, &signal);
            }
        })
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_signal(130, &stop, &signal);
        }
    })
}

#[cfg(unix)]
async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => None,
    }
}

fn on_signal(code: u8, stop: &AtomicBool, signal: &AtomicU8) {
    if stop.swap(true, Ordering::SeqCst) {
        errln!("\nSecond interrupt: exiting now.");
        std::process::exit(i32::from(code));
    }
    signal.store(code, Ordering::SeqCst);
    errln!(
        "\nInterrupt received: finishing the call in flight, starting no new ones (interrupt again to exit at once)."
    );
}
