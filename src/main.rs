//! Entry point: parse flags, run the command, turn the result into an exit
//! code (0 ok, 1 error or unknown, 2 changes with --detailed-exitcode).

mod cli;
mod commands;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::Exit;

fn main() -> ExitCode {
    on_panic();
    let cli = match Cli::try_parse_from(terraform_spellings(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    cis_fix::progress::set_quiet(cli.quiet);
    if let Err(e) = cis_fix::logging::init(cli.verbose) {
        report(&anyhow::Error::from(e));
        return Exit::Failed.into();
    }
    let started = std::time::Instant::now();
    tracing::info!(
        version = %env!("CARGO_PKG_VERSION"),
        args = ?std::env::args_os().skip(1).collect::<Vec<_>>(),
        "cis-fix starting"
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            commands::out::errln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Plan(a) => commands::plan::run(a).await,
            Command::Apply(a) => commands::apply::run(a).await,
            Command::Controls(a) => commands::controls::run(a),
            Command::Snapshot(a) => commands::snapshot::run(a).await,
            Command::Show(a) => commands::show::run(a),
            Command::Report(r) => commands::report::run(r),
            Command::ForceUnlock(a) => commands::force_unlock::run(a).await,
            Command::Init(a) => commands::init::run(a),
            Command::Pattern(p) => commands::pattern::run(p),
            Command::Completions { shell } => commands::generate::completions(shell),
            Command::Man { out_dir } => commands::generate::man(out_dir.as_deref()),
        }
    });
    let mut exit = match result {
        Ok(exit) => exit,
        Err(e) => {
            report(&e);
            Exit::Failed
        }
    };
    if let Some(why) = commands::out::failure() {
        commands::out::errln!("Error: cannot write to standard output: {why}");
        exit = Exit::Failed;
    }
    tracing::info!(
        ?exit,
        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "cis-fix finished"
    );
    exit.into()
}

/// A panic is a bug. The release build aborts on one (no unwinding: a
/// binary a quarter smaller, and quicker to build), so before the default
/// report the hook gives back the local apply locks this run holds, as
/// unwinding would have, and says what to do.
fn on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        // Unwinding (debug builds) drops the locks itself, and a panic it
        // catches (in a task) does not end the run.
        if cfg!(panic = "abort") {
            cis_fix::lock::release_after_panic();
            commands::out::errln!(
                "Error: cis-fix stopped on an internal error (a bug): please report it with the message above. Its local apply lock was given back; a shared (S3) one stays until `cis-fix force-unlock ID`. The journal shows any write it was making."
            );
        }
    }));
}

/// Terraform's single-dash `-out FILE` / `-out=FILE` for `plan`, which
/// clap cannot parse, as `--out`. Only for `plan` (the first argument not a
/// flag: the global flags take no value), and not after `--`.
fn terraform_spellings(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let Some(sub) = args
        .iter()
        .skip(1)
        .position(|a| !a.to_string_lossy().starts_with('-'))
        .map(|i| i + 1)
    else {
        return args;
    };
    if args[sub] != "plan" {
        return args;
    }
    for a in args.iter_mut().skip(sub + 1) {
        if a == "--" {
            break;
        }
        if a == "-out" {
            *a = "--out".into();
        } else if let Some(rest) = a.to_str().and_then(|t| t.strip_prefix("-out=")) {
            *a = format!("--out={rest}").into();
        }
    }
    args
}

/// clap's own messages in the house style: help and version on stdout with
/// exit 0; every usage error as `Error: …` on stderr with exit 1 (never 2,
/// which means "changes" under `--detailed-exitcode`).
fn usage(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            commands::out::print(&text);
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            commands::out::err!("Error: a subcommand is needed.\n\n{text}");
            Exit::Failed.into()
        }
        _ => {
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            commands::out::err!("Error: {text}");
            Exit::Failed.into()
        }
    }
}

/// `Error: <what>: <cause>: …` on stderr, each cause said once: a message
/// that already quotes its source (as most of ours do) does not get it again.
fn report(e: &anyhow::Error) {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    commands::out::errln!("Error: {text}");
}

#[cfg(test)]
mod tests {
    use super::terraform_spellings;

    fn rewrite(args: &[&str]) -> Vec<String> {
        terraform_spellings(args.iter().map(Into::into))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn plan_takes_terraforms_out_flag() {
        assert_eq!(
            rewrite(&["cis-fix", "plan", "-out", "p.cisplan", "--json"]),
            ["cis-fix", "plan", "--out", "p.cisplan", "--json"]
        );
        assert_eq!(
            rewrite(&["cis-fix", "-v", "plan", "-out=p"]),
            ["cis-fix", "-v", "plan", "--out=p"]
        );
        // Only for plan, and not after `--`.
        assert_eq!(
            rewrite(&["cis-fix", "apply", "-out", "p"]),
            ["cis-fix", "apply", "-out", "p"]
        );
        assert_eq!(
            rewrite(&["cis-fix", "plan", "--", "-out"]),
            ["cis-fix", "plan", "--", "-out"]
        );
        assert_eq!(rewrite(&["cis-fix"]), ["cis-fix"]);
    }
}
