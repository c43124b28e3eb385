use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use anyhow::{Result, bail};

use super::Exit;
use crate::cli::ApplyArgs;
use cis_fix::apply::{self, Event, Outcome};
use cis_fix::aws::permissions::{self, PermissionCheck, Request};
use cis_fix::jsonplan::JsonPlan;
use cis_fix::kinds;
use cis_fix::plan::Plan;
use cis_fix::render::{self, Style};
use cis_fix::snapshot::Snapshot;

pub async fn run(args: ApplyArgs) -> Result<Exit> {
    let desired = super::desired(&args.target)?;
    if !args.auto_approve && !std::io::stdin().is_terminal() {
        bail!(
            "apply needs confirmation, but standard input is not a terminal: run it in a terminal, or pass --auto-approve to apply without asking"
        );
    }
    let aws = super::connect(&args.connection).await?;
    let snap = super::read(
        &aws,
        &super::topic_names(desired.monitoring.topic.as_deref()),
    )
    .await;
    let plan = super::compute(&desired, &snap)?;
    let s = Style::for_stdout();
    print!("{}", render::human(&JsonPlan::from_plan(&plan), s));
    if !plan.has_changes() {
        return Ok(if plan.is_incomplete() {
            Exit::Failed
        } else {
            Exit::Ok
        });
    }
    match permissions::check(&aws, snap.caller_arn.as_deref(), &requests(&plan, &snap)).await {
        PermissionCheck::Allowed { .. } => {}
        PermissionCheck::Missing { principal, actions } => bail!(
            "{principal} may not make the calls this plan needs (checked with iam:SimulatePrincipalPolicy): {}. Nothing was changed. Grant them (see examples/iam/cis-fix-apply.json) and run apply again.",
            actions.join(", ")
        ),
        PermissionCheck::Unavailable(why) => eprintln!(
            "{} could not check permissions before applying ({why}); going ahead, and stopping at the first denied call.",
            s.yellow("Warning:")
        ),
    }
    if !args.auto_approve && !confirm()? {
        bail!("Apply cancelled.");
    }
    println!();

    let stop = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicU8::new(0));
    // Kept listening to the end: a signal after the last write still gets
    // the orderly exit code.
    let _watcher = watch_signals(stop.clone(), signal.clone());
    let report = apply::apply(&plan, &aws, &stop, |e| match e {
        Event::Started(c) => println!(
            "{}",
            render::apply_line(&c.address.to_string(), c.action, false, None, s)
        ),
        Event::Finished(r) => match &r.outcome {
            Outcome::Done { id, note } => {
                println!(
                    "{}",
                    render::apply_line(&r.address.to_string(), r.action, true, id.as_deref(), s)
                );
                if let Some(n) = note {
                    println!("  {}", s.yellow(n));
                }
            }
            Outcome::Failed(e) => println!(
                "{}: {} {e}",
                s.bold(&r.address.to_string()),
                s.red("failed:")
            ),
            Outcome::Skipped { because } => println!(
                "{}: skipped, because {because}",
                s.bold(&r.address.to_string())
            ),
            Outcome::NotStarted { .. } => {}
        },
    })
    .await;

    println!();
    let done = report.summary();
    let counts = format!(
        "Resources: {} added, {} changed, {} destroyed.",
        done.add, done.change, done.destroy
    );
    let interrupted = signal.load(Ordering::SeqCst);
    if report.all_done() {
        println!("{} {counts}", s.green(&s.bold("Apply complete!")));
    } else {
        let head = if interrupted > 0 {
            "Apply interrupted."
        } else {
            "Apply failed."
        };
        println!("{} {counts}", s.red(&s.bold(head)));
        for r in &report.results {
            let line = match &r.outcome {
                Outcome::Done { .. } => format!("  done         {}", r.address),
                Outcome::Failed(e) => format!("  failed       {}: {e}", r.address),
                Outcome::Skipped { because } => format!("  skipped      {}: {because}", r.address),
                Outcome::NotStarted { because } => {
                    format!("  not started  {}: {because}", r.address)
                }
            };
            println!("{line}");
        }
        println!("Run `cis-fix apply` again to finish: it plans from the account as it is now.");
    }

    // Where each control stands now, derived from the plan and what was
    // done, without reading everything again (the next plan reads it).
    println!();
    print!(
        "{}",
        render::controls_table(&JsonPlan::from_plan(&apply::after(&plan, &report)), s)
    );
    Ok(match interrupted {
        0 if report.all_done() && !plan.is_incomplete() => Exit::Ok,
        0 => Exit::Failed,
        code => Exit::Interrupted(code),
    })
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
                .map(|call| Request {
                    action: call.iam_action(),
                    region: c.address.region().to_string(),
                    resource: call.iam_resource(&c.address.location, &partition, &planned_arn),
                })
        })
        .collect()
}

/// Terraform's prompt: only `yes` proceeds.
fn confirm() -> Result<bool> {
    println!("\nDo you want to perform these actions?");
    println!("  cis-fix will perform the actions described above.");
    println!("  Only 'yes' will be accepted to approve.\n");
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
        eprintln!("\nSecond interrupt: exiting now.");
        std::process::exit(i32::from(code));
    }
    signal.store(code, Ordering::SeqCst);
    eprintln!(
        "\nInterrupt received: finishing the call in flight, starting no new ones (interrupt again to exit at once)."
    );
}
