use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::{Result, bail};

use super::Exit;
use super::guards::{self, Guards, Places};
use super::out::{err, errln, out, outln};
use crate::cli::ApplyArgs;
use cis_fix::address::Address;
use cis_fix::apply::{self, Event, Outcome};
use cis_fix::aws::Aws;
use cis_fix::aws::permissions::{self, PermissionCheck, Request};
use cis_fix::jsonplan::JsonPlan;
use cis_fix::jsonreport::{ApplyReport, ExitReason};
use cis_fix::kinds;
use cis_fix::lock::Held;
use cis_fix::plan::{Cause, ControlStatus, Plan};
use cis_fix::render::{self, Style};
use cis_fix::snapshot::Snapshot;

pub async fn run(args: ApplyArgs) -> Result<Exit> {
    if let Some(file) = &args.plan {
        return super::apply_saved::run(&args, file).await;
    }
    if args.accounts.organization {
        return super::org::apply(&args).await;
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
    let aws =
        super::org::assume_role_arn(aws, &args.accounts, args.target.config.as_deref()).await?;
    let places = Places::from_config(args.target.config.as_deref(), aws.home_region())?;
    let run = Run::start();
    // The account is locked before it is read, as Terraform locks before
    // it refreshes: a plan made while another apply changes the account
    // could undo that apply's work (write back a weaker policy it raised).
    run.lock(&places, &aws).await?;
    let result = async {
        let snap = super::read(&aws, &args.connection, &scope).await;
        let plan = super::compute(&desired, &snap)?;
        let e = Style::for_stderr();
        if args.json {
            // With --json, stdout holds the report alone: the plan goes to
            // stderr, styled for it.
            let p = JsonPlan::from_plan(&plan);
            err!("{}", render::problems(&p, e));
            err!("{}", render::human(&p, e));
        } else {
            super::show_plan(&JsonPlan::from_plan(&plan), false);
        }
        carry_out(
            &plan,
            &snap,
            &aws,
            Carry {
                ask: !args.auto_approve,
                detailed: args.detailed_exitcode,
                json: args.json,
                config: args.target.config.as_deref(),
            },
            &run,
            &places,
        )
        .await
    }
    .await;
    run.finish(result).await
}

/// One apply run: its id (in the lock, the journal and the report), the
/// interrupt flags and their watcher, and the account's lock once taken.
/// Made before the lock is taken, so an interrupt at any point after it
/// still gives the lock back.
pub(super) struct Run {
    pub id: String,
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicU8>,
    held: Arc<OnceLock<Arc<Held>>>,
    watcher: tokio::task::JoinHandle<()>,
}

/// A run's watcher stops listening with it: `apply --organization` makes a
/// run per account, and only the current one may answer an interrupt.
impl Drop for Run {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl Run {
    pub fn start() -> Run {
        let stop = Arc::new(AtomicBool::new(false));
        let signal = Arc::new(AtomicU8::new(0));
        let held: Arc<OnceLock<Arc<Held>>> = Arc::default();
        // Kept listening to the end: a signal after the last write still
        // gets the orderly exit code.
        let watcher = watch_signals(stop.clone(), signal.clone(), held.clone());
        Run {
            id: cis_fix::stamp::random_id(),
            stop,
            signal,
            held,
            watcher,
        }
    }

    /// Takes the lock of the account the credentials are for; refuses,
    /// with nothing changed, when it is held or the account is unknown.
    pub async fn lock(&self, places: &Places, aws: &Aws) -> Result<()> {
        let account = match cis_fix::aws::caller(aws).await {
            Ok((account, _)) => account,
            Err(f) => bail!(
                "cannot lock the account: which account these credentials are for is not known ({f}). Nothing was changed."
            ),
        };
        let lock = guards::lock(places, aws, &account, &self.id).await?;
        let _ = self.held.set(Arc::new(lock));
        Ok(())
    }

    /// The lock this run holds.
    pub fn held(&self) -> Option<Arc<Held>> {
        self.held.get().cloned()
    }

    /// The exit code of the signal received, 0 for none.
    pub fn interrupted(&self) -> u8 {
        self.signal.load(Ordering::SeqCst)
    }

    /// Gives the lock back, if taken.
    pub async fn release(&self) -> Result<()> {
        match self.held.get() {
            Some(lock) => guards::release(lock, Style::for_stderr()).await,
            None => Ok(()),
        }
    }

    /// Gives the lock back whatever `result` is; a lock that cannot be
    /// given back is said, and fails a run that would otherwise pass.
    pub async fn finish(self, result: Result<Exit>) -> Result<Exit> {
        let Some(lock) = self.held.get() else {
            return result;
        };
        let e = Style::for_stderr();
        match (guards::release(lock, e).await, result) {
            (Ok(()), r) => r,
            (Err(why), Ok(exit)) => {
                errln!("{} {why}", e.red(&e.bold("Error:")));
                Ok(match exit {
                    Exit::Interrupted(c) => Exit::Interrupted(c),
                    _ => Exit::Failed,
                })
            }
            (Err(why), Err(first)) => {
                errln!("{} {why}", e.red(&e.bold("Error:")));
                Err(first)
            }
        }
    }
}

/// How a plan is carried out.
pub(super) struct Carry<'a> {
    /// Ask for a `yes` first (not for `--auto-approve` or a saved plan).
    pub ask: bool,
    /// `--detailed-exitcode`.
    pub detailed: bool,
    /// `--json`: the report alone on stdout, the rest on stderr.
    pub json: bool,
    /// The config file: where the lock and journal settings are, and what
    /// advice names.
    pub config: Option<&'a Path>,
}

/// A plan already shown, carried out: the guards that must hold before any
/// write (somebody to notify, the permissions), the prompt when asked, the
/// lock and journal around the writes, and the report.
pub(super) async fn carry_out(
    plan: &Plan,
    snap: &Snapshot,
    aws: &Aws,
    how: Carry<'_>,
    run: &Run,
    places: &Places,
) -> Result<Exit> {
    let json = how.json;
    let (exit, report) = carry_out_reporting(plan, snap, aws, how, run, places).await?;
    if json {
        outln!("{}", report.to_json());
    }
    Ok(exit)
}

/// [`carry_out`], handing `apply --json`'s report back rather than
/// printing it (`apply --organization` tells each account's outcome from
/// it, and prints one document for all accounts).
pub(super) async fn carry_out_reporting(
    plan: &Plan,
    snap: &Snapshot,
    aws: &Aws,
    how: Carry<'_>,
    run: &Run,
    places: &Places,
) -> Result<(Exit, ApplyReport)> {
    let e = Style::for_stderr();
    let s = if how.json { e } else { Style::for_stdout() };
    let say = |text: String| {
        if how.json {
            errln!("{text}");
        } else {
            outln!("{text}");
        }
    };
    let run_id = run.id.clone();
    // Ended before any write: nothing done, the plan as it was.
    let unwritten = |reason: ExitReason, exit: Exit| {
        let report = report_of(
            &run_id,
            plan,
            &apply::Report::default(),
            plan,
            reason,
            exit,
            None,
        );
        Ok((exit, report))
    };
    if !plan.has_changes() {
        return unwritten(ExitReason::NoChanges, outcome(plan, how.detailed, e));
    }
    // Alarms that reach nobody fix nothing: say so before any write rather
    // than build a chain no person is at the end of.
    if let Some(topic) = plan.controls.iter().find_map(|c| match &c.cause {
        Some(Cause::NoSubscriber { topic }) => Some(topic),
        _ => None,
    }) {
        bail!(
            "nobody would receive the alarms: topic `{topic}` has no confirmed subscription and none is configured. Add one under sns.subscriptions in the config ({}; `cis-fix init --email ADDRESS` writes one) and run apply again. Nothing was changed.",
            how.config
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
    // An interrupt while reading: nothing is asked or written.
    if run.interrupted() > 0 {
        errln!("Apply interrupted before any write. Nothing was changed.");
        return unwritten(
            ExitReason::Interrupted,
            Exit::Interrupted(run.interrupted()),
        );
    }
    if how.ask && !confirm(how.json)? {
        bail!("Apply cancelled.");
    }
    say(String::new());

    let stop = run.stop.clone();
    let Some(lock) = run.held() else {
        bail!("the account is not locked. Nothing was changed.");
    };
    let mut guards = Guards::open(places, plan, &run_id, lock)?;
    let mut started: HashMap<Address, Instant> = HashMap::new();
    let report = apply::apply(plan, aws, &stop, |ev| match ev {
        Event::Started(c) => {
            started.insert(c.address.clone(), Instant::now());
            say(render::apply_line(
                &c.address.to_string(),
                c.action,
                None,
                None,
                s,
            ))
        }
        Event::Calling { change, call } => guards.on_calling(change, call, &stop, e),
        Event::Call(rec) => guards.on_call(&rec, &stop, e),
        Event::Finished(r) => {
            let took = started.get(&r.address).map(Instant::elapsed);
            match &r.outcome {
                Outcome::Done { id, note } => {
                    say(render::apply_line(
                        &r.address.to_string(),
                        r.action,
                        Some(took.unwrap_or_default()),
                        id.as_deref(),
                        s,
                    ));
                    if let Some(n) = note {
                        say(format!("  {}", s.yellow(n)));
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

    let interrupted = run.interrupted();
    let ended = match interrupted {
        0 if report.all_done() => "complete",
        0 => "failed",
        _ => "interrupted",
    };
    let journal = guards.journal_used();
    // The journal is closed here; the lock is given back by `Run::finish`.
    let journal_failed = guards.finish(&report, ended, e);

    say(String::new());
    let done = report.summary();
    let counts = format!(
        "Resources: {} added, {} changed, {} destroyed.",
        done.add, done.change, done.destroy
    );
    if report.all_done() {
        say(format!("{} {counts}", s.green(&s.bold("Apply complete!"))));
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
    if how.json {
        errln!();
        err!("{}", render::controls_table(&JsonPlan::from_plan(&now), s));
    } else {
        outln!();
        out!("{}", render::controls_table(&JsonPlan::from_plan(&now), s));
    }
    let mut exit = match interrupted {
        0 if report.all_done() => outcome(&now, how.detailed, e),
        0 => Exit::Failed,
        code => Exit::Interrupted(code),
    };
    if journal_failed && !matches!(exit, Exit::Interrupted(_)) {
        exit = Exit::Failed;
    }
    let reason = match (interrupted, report.all_done()) {
        (0, true) => ExitReason::Complete,
        (0, false) => ExitReason::Incomplete,
        _ => ExitReason::Interrupted,
    };
    let json = report_of(&run_id, plan, &report, &now, reason, exit, journal);
    Ok((exit, json))
}

/// `apply --json`'s report.
fn report_of(
    run_id: &str,
    planned: &Plan,
    report: &apply::Report,
    now: &Plan,
    reason: ExitReason,
    exit: Exit,
    journal: Option<String>,
) -> ApplyReport {
    let code = match exit {
        Exit::Ok => 0,
        Exit::Failed => 1,
        Exit::Changes => 2,
        Exit::Interrupted(c) => c,
    };
    ApplyReport::new(run_id, planned, report, now, reason, code).with_journal(journal)
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

/// Terraform's prompt: only `yes` proceeds. With `--json` it is on stderr,
/// which stdout's reader never sees.
pub(super) fn confirm(json: bool) -> Result<bool> {
    let text = "\nDo you want to perform these actions?\n  cis-fix will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n";
    if json {
        errln!("{text}");
    } else {
        outln!("{text}");
    }
    let answer: String = dialoguer::Input::new()
        .with_prompt("  Enter a value")
        .allow_empty(true)
        .interact_text()?;
    Ok(answer.trim() == "yes")
}

/// First Ctrl-C / SIGTERM: start no new calls, let the one in flight finish.
/// Second: give the lock back (if taken) and exit at once. The handlers are
/// installed before this returns, so a signal during the first write is
/// already caught.
fn watch_signals(
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicU8>,
    held: Arc<OnceLock<Arc<Held>>>,
) -> tokio::task::JoinHandle<()> {
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
                if on_signal(code, &stop, &signal) {
                    exit_now(code, &held).await;
                }
            }
        })
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if on_signal(130, &stop, &signal) {
                exit_now(130, &held).await;
            }
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

/// How long a second interrupt waits for the lock to be given back.
const RELEASE_ON_EXIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The second interrupt: the call in flight is abandoned, the lock given
/// back (a shared one within a few seconds, else left for `force-unlock`).
async fn exit_now(code: u8, held: &OnceLock<Arc<Held>>) -> ! {
    if let Some(lock) = held.get() {
        let e = Style::for_stderr();
        match tokio::time::timeout(RELEASE_ON_EXIT, guards::release(lock, e)).await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => errln!("{} {why}", e.red(&e.bold("Error:"))),
            Err(_) => errln!(
                "{} the lock at {} could not be given back in time: remove it with `cis-fix force-unlock {}`.",
                e.red(&e.bold("Error:")),
                lock.location(),
                lock.info().id
            ),
        }
    }
    std::process::exit(i32::from(code));
}

/// Records a signal; true when it is the second, and the run must end now.
fn on_signal(code: u8, stop: &AtomicBool, signal: &AtomicU8) -> bool {
    if stop.swap(true, Ordering::SeqCst) {
        errln!("\nSecond interrupt: exiting now.");
        return true;
    }
    signal.store(code, Ordering::SeqCst);
    errln!(
        "\nInterrupt received: finishing the call in flight, starting no new ones (interrupt again to exit at once)."
    );
    false
}
