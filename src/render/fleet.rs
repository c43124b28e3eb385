//! The human form of an organization report: each account under its own
//! heading (its plan as `plan` shows it, then its summary line), then the
//! total and one line per account. Pure, from the report's JSON form, so
//! `report merge` prints exactly what the workers would have together.

use std::fmt::Write;

use super::Style;
use crate::fleet::{AccountReport, AccountStatus, OrgReport};

/// `with_plans`: each account's whole plan (plan --organization); without,
/// the totals and table alone (report merge). The accounts' errors and
/// warnings are not in it: the caller says them on stderr.
pub fn org_report(r: &OrgReport, with_plans: bool, s: Style) -> String {
    let mut out = String::new();
    if with_plans {
        for a in &r.accounts {
            let _ = writeln!(out, "{}", s.bold(&format!("── Account {} ──", who(a))));
            let _ = writeln!(out);
            // Errors and warnings are the caller's to put on stderr.
            match (&a.plan, &a.error) {
                (Some(p), _) => out.push_str(&super::human(p, s)),
                (None, Some(e)) => {
                    let _ = writeln!(out, "{} {e}", s.red(&s.bold("Not planned:")));
                }
                (None, None) => {}
            }
            for c in &a.covered_by {
                let _ = writeln!(
                    out,
                    "Covered by organization trail {} (log group {} in account {}): {}",
                    c.trail_arn,
                    c.log_group,
                    c.account,
                    c.controls.join(", ")
                );
            }
            let _ = writeln!(out, "\n{}\n", summary_line(a, s));
        }
    }
    out.push_str(&totals(r, s));
    out
}

fn who(a: &AccountReport) -> String {
    match &a.name {
        Some(n) => format!("{} ({n})", a.account_id),
        None => a.account_id.clone(),
    }
}

fn label(st: AccountStatus, s: Style) -> impl Fn(String) -> String {
    move |text| match st {
        AccountStatus::Compliant => s.green(&text),
        AccountStatus::Changes | AccountStatus::Blocked => s.yellow(&text),
        AccountStatus::Unknown => s.red(&text),
    }
}

/// `Account 1111 (name): changes, 3 to add, 0 to change, 0 to destroy.`
pub fn summary_line(a: &AccountReport, s: Style) -> String {
    let counts = match &a.plan {
        Some(p) => format!(
            ", {} to add, {} to change, {} to destroy",
            p.summary.add, p.summary.change, p.summary.destroy
        ),
        None => String::new(),
    };
    format!(
        "Account {}: {}{counts}.",
        who(a),
        label(a.status, s)(a.status.as_str().to_string())
    )
}

/// The total line and the accounts table.
pub fn totals(r: &OrgReport, s: Style) -> String {
    let mut out = String::new();
    let t = r.summary;
    let scope = match (&r.organization_id, r.shard) {
        (Some(o), Some(sh)) => format!(" of organization {o}, shard {sh}"),
        (Some(o), None) => format!(" of organization {o}"),
        (None, Some(sh)) => format!(", shard {sh}"),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "{} {} account{}{scope}: {} compliant, {} with changes, {} blocked, {} unknown; {} to add, {} to change, {} to destroy.",
        s.bold("Total:"),
        t.accounts,
        if t.accounts == 1 { "" } else { "s" },
        t.compliant,
        t.changes,
        t.blocked,
        t.unknown,
        t.add,
        t.change,
        t.destroy
    );
    if let Some(c) = &r.cost {
        let line = super::cost::line(c);
        let _ = writeln!(
            out,
            "{}",
            line.replacen("Cost: this plan", "Cost: these accounts' plans", 1)
        );
    }
    let _ = writeln!(out);
    let name_w = r
        .accounts
        .iter()
        .map(|a| a.name.as_deref().unwrap_or("-").chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let id_w = r
        .accounts
        .iter()
        .map(|a| a.account_id.len())
        .chain([7])
        .max()
        .unwrap_or(12);
    let _ = writeln!(
        out,
        "  {}",
        s.bold(&format!(
            "{:<id_w$}  {:<name_w$}  {:<9}  {:>7}  NOTE",
            "ACCOUNT", "NAME", "STATUS", "CHANGES"
        ))
    );
    for a in &r.accounts {
        let note = match (&a.error, &a.plan) {
            (Some(e), _) => e.to_string(),
            (None, Some(p)) if a.status == AccountStatus::Unknown => p
                .failed_reads
                .first()
                .map(|f| f.to_string())
                .or_else(|| {
                    p.controls
                        .iter()
                        .find(|c| c.status == crate::plan::ControlStatus::Unknown)
                        .map(|c| format!("{}: {}", c.id, c.reason))
                })
                .unwrap_or_default(),
            _ if !a.covered_by.is_empty() => format!(
                "monitoring covered by {}",
                a.covered_by
                    .iter()
                    .map(|c| c.trail_arn.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        let changes = match &a.plan {
            Some(_) => a.change_count().to_string(),
            None => "-".into(),
        };
        let status = label(a.status, s)(format!("{:<9}", a.status.as_str()));
        let line = format!(
            "  {:<id_w$}  {:<name_w$}  {status}  {changes:>7}  {note}",
            a.account_id,
            a.name.as_deref().unwrap_or("-"),
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::AccountReport;
    use crate::observed::CallFailure;

    #[test]
    fn a_failed_account_is_one_line_naming_the_call() {
        let failed = AccountReport::failed(
            "222222222222",
            Some("dev".into()),
            CallFailure {
                call: "sts:AssumeRole".into(),
                region: "us-east-1".into(),
                resource: Some("arn:aws:iam::222222222222:role/cis-fix-plan".into()),
                code: Some("AccessDenied".into()),
                message: "not authorized".into(),
                detail: None,
            },
        );
        let r = OrgReport::new("3.0.0", Some("o-abc".into()), None, None, vec![failed]);
        let text = org_report(&r, true, Style::PLAIN);
        assert!(text.contains("── Account 222222222222 (dev) ──"), "{text}");
        assert!(text.contains("Not planned: sts:AssumeRole"), "{text}");
        assert!(
            text.contains("Account 222222222222 (dev): unknown."),
            "{text}"
        );
        assert!(
            text.contains("Total: 1 account of organization o-abc: 0 compliant, 0 with changes, 0 blocked, 1 unknown"),
            "{text}"
        );
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("222222222222  dev"))
            .expect("table row");
        assert!(
            row.contains("unknown")
                && row.contains("sts:AssumeRole in us-east-1 on arn:aws:iam::222222222222:role/cis-fix-plan failed: AccessDenied: not authorized"),
            "{row}"
        );
    }
}
