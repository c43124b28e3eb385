//! Entry point: parse flags, run the command, turn the result into an exit
//! code (0 ok, 1 error or unknown, 2 changes with --detailed-exitcode).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = cis_fix::logging::init(cli.verbose) {
        eprintln!("Error: {:#}", anyhow::Error::from(e));
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
            eprintln!("Error: cannot start the async runtime: {e}");
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
            Command::Pattern(p) => commands::pattern::run(p),
            Command::Completions { shell } => commands::generate::completions(shell),
            Command::Man { out_dir } => commands::generate::man(out_dir.as_deref()),
        }
    });
    let exit = match result {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("Error: {e:#}");
            Exit::Failed
        }
    };
    tracing::info!(
        ?exit,
        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "cis-fix finished"
    );
    exit.into()
}
