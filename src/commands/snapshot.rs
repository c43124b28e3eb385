use anyhow::{Context, Result};

use super::Exit;
use super::out::{errln, outln};
use crate::cli::SnapshotArgs;

pub async fn run(args: SnapshotArgs) -> Result<Exit> {
    let (config, _) = cis_fix::config::Config::discover(args.config.as_deref())?;
    let scope = super::with_regions(super::read_scope(&config), &args.connection)?;
    let aws = super::connect(&args.connection).await?;
    let snap = super::read(&aws, &args.connection, &scope).await;
    let text = snap.to_json();
    match &args.out {
        Some(path) => {
            std::fs::write(path, text + "\n")
                .with_context(|| format!("cannot write snapshot to {}", path.display()))?;
            errln!("Snapshot written to {}", path.display());
        }
        None => outln!("{text}"),
    }
    // The file is written either way (it is the evidence), but a snapshot
    // with failed reads is incomplete and a schedule must hear of it.
    let failed = snap.failures();
    if failed.is_empty() {
        return Ok(Exit::Ok);
    }
    errln!(
        "Error: {} read(s) failed; the snapshot records them:",
        failed.len()
    );
    for f in failed {
        errln!("  - {f}");
    }
    Ok(Exit::Failed)
}
