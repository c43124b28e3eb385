//! `cis-fix force-unlock ID`: removes an apply's lock that a crash or a kill
//! left behind, only when ID is the lock's, and after asking on a terminal
//! (Terraform's `force-unlock`). The local lock is found by its ID among the
//! lock files; the shared one is the caller's account's object.

use std::io::IsTerminal;

use anyhow::{Result, bail};

use super::Exit;
use super::guards::Places;
use super::out::{errln, outln};
use crate::cli::ForceUnlockArgs;

pub async fn run(args: ForceUnlockArgs) -> Result<Exit> {
    // The shared lock's region defaults to the home region, known only once
    // connected; the local one needs no AWS at all.
    let probe = Places::from_config(args.config.as_deref(), "")?;
    let (places, aws, account) = if probe.lock.needs_aws() {
        let aws = super::connect(&args.connection).await?;
        let (account, _) = cis_fix::aws::caller(&aws)
            .await
            .map_err(|f| anyhow::anyhow!("cannot tell which account's lock to remove: {f}"))?;
        let places = Places::from_config(args.config.as_deref(), aws.home_region())?;
        (places, Some(aws), Some(account))
    } else {
        (probe, None, None)
    };
    let found = places
        .lock
        .find(aws.as_ref(), account.as_deref(), &args.id)
        .await?;
    errln!("Lock {}: {}", found.location, found.info.describe());
    if !args.force {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            bail!(
                "force-unlock needs confirmation, but standard input or standard error is not a terminal: run it in a terminal, or pass --force. Nothing was removed."
            );
        }
        errln!(
            "\nDo you really want to force-unlock?\n  Only remove a lock when no apply holds it: two applies at once can undo each other's changes.\n  Only 'yes' will be accepted to confirm.\n"
        );
        let answer: String = dialoguer::Input::new()
            .with_prompt("  Enter a value")
            .allow_empty(true)
            .interact_text()?;
        if answer.trim() != "yes" {
            bail!("Force-unlock cancelled. Nothing was removed.");
        }
    }
    places.lock.remove(aws.as_ref(), &found).await?;
    outln!(
        "cis-fix state has been successfully unlocked: lock {} removed.",
        found.info.id
    );
    Ok(Exit::Ok)
}
