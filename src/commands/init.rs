//! `cis-fix init`: a starter `cis-fix.yaml` naming who receives the alarms,
//! so the first `apply` builds a chain that ends at a person.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::Exit;
use super::out::errln;
use crate::cli::InitArgs;
use cis_fix::config::{Config, DEFAULT_FILE};

pub fn run(args: InitArgs) -> Result<Exit> {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    if path.exists() && !args.force {
        bail!(
            "{} already exists; edit it, or pass --force to replace it",
            path.display()
        );
    }
    let mut subscriptions: Vec<(String, String)> = args
        .email
        .iter()
        .map(|e| ("email".to_string(), e.clone()))
        .collect();
    for s in &args.subscribe {
        let Some((protocol, endpoint)) = s.split_once(':') else {
            bail!(
                "--subscribe `{s}`: give PROTOCOL:ENDPOINT, e.g. sqs:arn:aws:sqs:us-east-1:123456789012:alerts"
            );
        };
        subscriptions.push((protocol.to_ascii_lowercase(), endpoint.to_string()));
    }
    if subscriptions.is_empty() {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            bail!(
                "init needs someone to receive the alarms: pass --email ADDRESS (or --subscribe PROTOCOL:ENDPOINT)"
            );
        }
        let email: String = dialoguer::Input::new()
            .with_prompt("E-mail address that receives the CIS alarms")
            .interact_text()?;
        subscriptions.push(("email".into(), email.trim().to_string()));
    }
    let text = starter(args.benchmark.as_deref(), &subscriptions)?;
    // What init writes, the config loader must accept: the same checks a
    // hand-written file gets.
    Config::parse(&text, &path.display().to_string())?;
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    errln!("Wrote {}.", path.display());
    if subscriptions
        .iter()
        .any(|(p, _)| cis_fix::kinds::protocol_needs_confirmation(p))
    {
        errln!(
            "Note: after the first apply, SNS sends each e-mail or HTTP(S) endpoint a confirmation link; alarms reach it only once someone follows it."
        );
    }
    errln!("Next: `cis-fix plan` to see what apply would change.");
    Ok(Exit::Ok)
}

/// The file's text: a comment saying where every key is documented, the
/// version when one was given, and the subscriptions.
fn starter(benchmark: Option<&str>, subscriptions: &[(String, String)]) -> Result<String> {
    use serde_yaml::{Mapping, Value};
    let mut root = Mapping::new();
    if let Some(v) = benchmark {
        // The spellings every other command accepts, pinned in full.
        let v = cis_fix::benchmark::resolve_version(v).context("--benchmark")?;
        if let Some(note) = &v.note {
            errln!("Note: {note}");
        }
        root.insert("benchmark".into(), Value::String(v.version.to_string()));
    }
    let subs: Vec<Value> = subscriptions
        .iter()
        .map(|(p, e)| {
            let mut m = Mapping::new();
            m.insert("protocol".into(), Value::String(p.clone()));
            m.insert("endpoint".into(), Value::String(e.clone()));
            Value::Mapping(m)
        })
        .collect();
    let mut sns = Mapping::new();
    sns.insert("subscriptions".into(), Value::Sequence(subs));
    root.insert("sns".into(), Value::Mapping(sns));
    let body = serde_yaml::to_string(&Value::Mapping(root))?;
    Ok(format!(
        "# cis-fix configuration, written by `cis-fix init`.\n# Every key is described in examples/cis-fix.yaml of the cis-fix sources.\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_config_parses_and_quotes_what_it_must() {
        let text = starter(
            Some("v3.0.0"),
            &[
                ("email".into(), "sec: ops@example.com".into()),
                ("sqs".into(), "arn:aws:sqs:us-east-1:123456789012:q".into()),
            ],
        )
        .expect("starter");
        let c = Config::parse(&text, "cis-fix.yaml").expect("parses");
        assert_eq!(c.benchmark.as_deref(), Some("3.0.0"));
        assert_eq!(c.sns.subscriptions.len(), 2);
        assert_eq!(c.sns.subscriptions[0].endpoint, "sec: ops@example.com");
        assert!(starter(Some("9"), &[]).is_err());
        assert!(starter(Some("3"), &[]).is_err());
        let text = starter(Some("4.0.0"), &[]).expect("the published 4.0.1");
        assert!(text.contains("benchmark: 4.0.1"), "{text}");
    }
}
