//! The human form of an organization report: each account under its own
//! heading (its plan as `plan` shows it, then its summary line), then the
//! total and one line per account. Pure, from the report's JSON form, so
//! `report merge` prints exactly what the workers would have together.

use std::fmt::Write;

use super::Style;
use crate::fleet::{AccountReport, AccountStatus, OrgReport, Totals};

/// `with_plans`: each account's whole plan (plan --organization); without,
/// the totals and table alone (report merge). The accounts' errors and
/// warnings are not in it: the caller says them on stderr.
pub fn org_report(r: &OrgReport, with_plans: bool, s: Style) -> String {
    let mut out = String::new();
    if with_plans {
        for a in &r.accounts {
            out.push_str(&account_section(a, s));
        }
    }
    out.push_str(&totals(&Totals::of(r), s));
    out
}

/// One account's part of the report: its heading, its plan (or why it has
/// none), what covers it, and its summary line.
pub fn account_section(a: &AccountReport, s: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        s.bold(&format!(
            "── Account {} ──",
            who_of(&a.account_id, a.name.as_deref())
        ))
    );
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
    out
}

fn who_of(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{id} ({n})"),
        None => id.to_string(),
    }
}

fn who(a: &AccountReport) -> String {
    who_of(&a.account_id, a.name.as_deref())
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
pub fn totals(t: &Totals, s: Style) -> String {
    let mut out = String::new();
    let scope = match (&t.organization_id, t.shard) {
        (Some(o), Some(sh)) => format!(" of organization {o}, shard {sh}"),
        (Some(o), None) => format!(" of organization {o}"),
        (None, Some(sh)) => format!(", shard {sh}"),
        (None, None) => String::new(),
    };
    let sum = t.summary;
    let _ = writeln!(
        out,
        "{} {} account{}{scope}: {} compliant, {} with changes, {} blocked, {} unknown; {} to add, {} to change, {} to destroy.",
        s.bold("Total:"),
        sum.accounts,
        if sum.accounts == 1 { "" } else { "s" },
        sum.compliant,
        sum.changes,
        sum.blocked,
        sum.unknown,
        sum.add,
        sum.change,
        sum.destroy
    );
    if let Some(c) = &t.cost() {
        let line = super::cost::line(c);
        let _ = writeln!(
            out,
            "{}",
            line.replacen("Cost: this plan", "Cost: these accounts' plans", 1)
        );
    }
    let _ = writeln!(out);
    let name_w = t
        .rows
        .iter()
        .map(|a| a.name.as_deref().unwrap_or("-").chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let id_w = t
        .rows
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
    for a in &t.rows {
        let changes = match a.changes {
            Some(n) => n.to_string(),
            None => "-".into(),
        };
        let status = label(a.status, s)(format!("{:<9}", a.status.as_str()));
        let line = format!(
            "  {:<id_w$}  {:<name_w$}  {status}  {changes:>7}  {}",
            a.account_id,
            a.name.as_deref().unwrap_or("-"),
            a.note,
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
