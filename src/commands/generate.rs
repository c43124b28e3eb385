//! `completions` and `man`: generated from the clap types at run time, so
//! they can never disagree with the flags the binary really takes.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::Exit;
use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<Exit> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    // Into a buffer first: clap_complete panics on a failed write.
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    write_stdout(&out)
}

/// cis-fix(1) on stdout; with `out_dir`, also the cis-fix-plan(1), ... pages
/// its SUBCOMMANDS section points to, as files.
pub fn man(out_dir: Option<&Path>) -> Result<Exit> {
    if let Some(dir) = out_dir {
        clap_mangen::generate_to(Cli::command(), dir)
            .with_context(|| format!("cannot write man pages to {}", dir.display()))?;
        return Ok(Exit::Ok);
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .context("cannot render the man page")?;
    write_stdout(&out)
}

/// Through `out`, as every listing: a closed pipe (`| head`) ends the
/// output quietly, any other write error fails the run.
fn write_stdout(bytes: &[u8]) -> Result<Exit> {
    super::out::print(&String::from_utf8_lossy(bytes));
    Ok(Exit::Ok)
}
