//! Rendered plans of the example accounts, compared with checked-in text so
//! any change to what users read is deliberate. `UPDATE_GOLDEN=1 cargo test
//! --test it render_golden` rewrites the files after a deliberate change.

use crate::support::fixtures::EMAIL_CONFIG;

use cis_fix::config::Config;
use cis_fix::jsonplan::JsonPlan;
use cis_fix::render::{self, Style};
use cis_fix::snapshot::Snapshot;

fn plan_of(account: &str, config: &str) -> JsonPlan {
    let b = cis_fix::benchmark::load("3.0.0").expect("benchmark");
    let c = Config::parse(config, "golden.yaml").expect("config");
    let d = cis_fix::desired::build(&b, &c, "golden.yaml").expect("desired");
    let path = format!(
        "{}/examples/accounts/{account}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = Snapshot::load(std::path::Path::new(&path)).expect("snapshot");
    JsonPlan::from_plan(
        &cis_fix::diff::plan(&d, &s, cis_fix::date::Date::from_days(20_000)).expect("plan"),
    )
}

fn check(name: &str, actual: &str) {
    let file = if name.contains('.') {
        name.to_string()
    } else {
        format!("{name}.txt")
    };
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("golden", "rendered")
            .to_string();
        panic!("{name} renders differently (UPDATE_GOLDEN=1 if deliberate):\n{diff}");
    }
}

#[test]
fn partly_compliant() {
    check(
        "partly-compliant",
        &render::human(&plan_of("partly-compliant", EMAIL_CONFIG), Style::PLAIN),
    );
}

#[test]
fn new_account() {
    check(
        "new-account",
        &render::human(&plan_of("new-account", EMAIL_CONFIG), Style::PLAIN),
    );
}

#[test]
fn pending_confirmation() {
    check(
        "pending-confirmation",
        &render::human(&plan_of("pending-confirmation", ""), Style::PLAIN),
    );
}

/// The Markdown a pull request comment gets (`show FILE --format markdown`).
#[test]
fn partly_compliant_markdown() {
    let md = render::markdown(&plan_of("partly-compliant", EMAIL_CONFIG));
    assert!(!md.contains('\x1b'));
    check("partly-compliant.md", &md);
}

/// Exceptions on a fixed day (2024-10-04): a whole will-fix control, a
/// whole blocked one expiring in 6 days, a region's flow logs, and an
/// expired one; the stderr warnings first, then the plan.
#[test]
fn partly_compliant_with_exceptions() {
    let config = format!(
        "{EMAIL_CONFIG}exceptions:\n  - control: \"1.9\"\n    reason: the identity provider enforces reuse rules\n    expires: 2025-06-30\n    approved_by: CISO\n  - control: \"3.4\"\n    reason: access logs go to the SIEM account from Q1\n    expires: 2024-10-10\n  - control: \"3.7\"\n    resource: us-east-1\n    reason: flow logs come with the network rebuild\n    expires: 2025-01-31\n    approved_by: network team\n  - control: \"4.4\"\n    reason: the old exception\n    expires: 2024-10-04\n"
    );
    let p = plan_of("partly-compliant", &config);
    check(
        "partly-compliant-exceptions",
        &format!(
            "{}{}",
            render::problems(&p, Style::PLAIN),
            render::human(&p, Style::PLAIN)
        ),
    );
}

#[test]
fn colour_only_when_asked() {
    let p = plan_of("partly-compliant", EMAIL_CONFIG);
    let plain = render::human(&p, Style::PLAIN);
    assert!(!plain.contains('\x1b'));
    let coloured = render::human(&p, Style { color: true });
    assert!(coloured.contains("\x1b[32m+\x1b[0m"), "green + for creates");
    assert!(
        coloured.contains("\x1b[33m~\x1b[0m"),
        "yellow ~ for updates"
    );
    // Same text once the colour codes are gone.
    let mut stripped = String::new();
    let mut rest = coloured.as_str();
    while let Some(i) = rest.find('\x1b') {
        stripped.push_str(&rest[..i]);
        let end = rest[i..].find('m').map(|j| i + j + 1).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain);
}

/// The password policy alone, under v1.2.0 (which names seven of its
/// fields): each changed field with `~`, each kept one shown as it is.
#[test]
fn password_policy_update() {
    let b = cis_fix::benchmark::load("1.2.0").expect("benchmark");
    let d = cis_fix::desired::build(&b, &Config::default(), "golden.yaml").expect("desired");
    let path = format!(
        "{}/examples/accounts/partly-compliant.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = Snapshot::load(std::path::Path::new(&path)).expect("snapshot");
    let mut p = JsonPlan::from_plan(
        &cis_fix::diff::plan(&d, &s, cis_fix::date::Date::from_days(20_000)).expect("plan"),
    );
    let ids: Vec<String> = b.password_controls().map(|(c, _)| c.id.clone()).collect();
    p.notices.clear();
    p.changes
        .retain(|c| c.kind == "aws_iam_account_password_policy");
    p.controls.retain(|c| ids.contains(&c.id));
    p.unmanaged.clear();
    p.summary = cis_fix::plan::Summary::of_actions(p.changes.iter().map(|c| c.action));
    // The password policy is free: the cost of what is left is nothing.
    if let Some(c) = &mut p.cost {
        c.items.clear();
        c.monthly = cis_fix::cost::Usd::ZERO;
        c.monthly_after_rotations = cis_fix::cost::Usd::ZERO;
    }
    assert_eq!(p.changes.len(), 1);
    check("password-policy-update", &render::human(&p, Style::PLAIN));
}
