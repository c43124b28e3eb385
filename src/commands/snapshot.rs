use anyhow::{Context, Result};

use super::Exit;
use crate::cli::SnapshotArgs;

pub async fn run(args: SnapshotArgs) -> Result<Exit> {
    let snap = super::read(&super::connect(&args.connection).await?).await;
    let text = snap.to_json();
    match &args.out {
        Some(path) => {
            std::fs::write(path, text + "\n")
                .with_context(|| format!("cannot write snapshot to {}", path.display()))?;
            eprintln!("Snapshot written to {}", path.display());
        }
        None => println!("{text}"),
    }
    Ok(Exit::Ok)
}
