//! The plan as Markdown, for a pull request comment (`show FILE --format
//! markdown`): what the reviewer needs first (the summary, the controls that
//! are not compliant and why), the changes folded away with each rendered as
//! `plan` shows it, and the reads that failed. No colour, and nothing that
//! depends on the terminal, so one plan always renders the same text.

use std::fmt::Write;

use super::Style;
use super::human::{cause_text, change, id_ranges};
use crate::jsonplan::{JsonChange, JsonPlan};
use crate::plan::{ControlStatus, Severity};

pub fn markdown(p: &JsonPlan) -> String {
    let mut out = String::new();
    let who = match &p.account_id {
        Some(a) => format!("Account `{a}`"),
        None => "An account whose id could not be read".into(),
    };
    let regions = match p.regions.as_slice() {
        [] => String::new(),
        [one] => format!(", region {one}"),
        many => format!(", regions {}", many.join(", ")),
    };
    let _ = writeln!(out, "### cis-fix plan\n");
    let _ = writeln!(
        out,
        "{who}{regions}; {}.\n",
        cell(&format!("CIS AWS Foundations v{}", p.benchmark))
    );
    let _ = writeln!(
        out,
        "**Plan: {} to add, {} to change, {} to destroy.**{}\n",
        p.summary.add,
        p.summary.change,
        p.summary.destroy,
        if p.held_back.is_empty() {
            String::new()
        } else {
            format!(
                " {} held back until opted in.",
                count(p.held_back.len(), "change")
            )
        }
    );
    if let Some(c) = p.cost.as_ref().filter(|_| p.has_changes()) {
        cost(&mut out, c);
    }
    notices(&mut out, p);
    controls(&mut out, p);
    changes(&mut out, "Changes", &p.changes);
    changes(&mut out, "Held back until opted in", &p.held_back);
    if !p.failed_reads.is_empty() {
        let _ = writeln!(out, "#### Failed reads\n");
        for f in &p.failed_reads {
            let _ = writeln!(out, "- {}", cell(&f.to_string()));
        }
        let _ = writeln!(out);
    }
    out
}

fn notices(out: &mut String, p: &JsonPlan) {
    for n in &p.notices {
        let head = match n.severity {
            Severity::Error => "Error:",
            Severity::Warning => "Warning:",
            Severity::Info => "Note:",
        };
        let _ = writeln!(out, "> **{head}** {}", cell(&n.message));
        for d in &n.details {
            let _ = writeln!(out, "> - {}", cell(d));
        }
        let _ = writeln!(out);
    }
}

/// The controls that are not compliant, each with what holds it; the
/// compliant ones only counted.
fn controls(out: &mut String, p: &JsonPlan) {
    let open: Vec<_> = p
        .controls
        .iter()
        .filter(|c| c.status != ControlStatus::Compliant)
        .collect();
    let compliant = p.controls.len() - open.len();
    let title = cell(&p.benchmark_title);
    if open.is_empty() {
        let _ = writeln!(
            out,
            "All {} managed by cis-fix are compliant ({title}).\n",
            count(p.controls.len(), "control")
        );
        return;
    }
    let _ = writeln!(
        out,
        "#### {} not compliant, {compliant} compliant ({title})\n",
        count(open.len(), "control")
    );
    let _ = writeln!(out, "| Control | Status | Why |\n|---|---|---|");
    for c in open {
        let why = match &c.cause {
            Some(cause) => cause_text(cause),
            None => c.reason.clone(),
        };
        let _ = writeln!(
            out,
            "| {} {} | {} | {} |",
            cell(&c.id),
            cell(&c.title),
            c.status.label(),
            cell(&why)
        );
    }
    let _ = writeln!(out);
}

/// A table of the changes, then each rendered as `plan` shows it, folded.
fn changes(out: &mut String, title: &str, list: &[JsonChange]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{title} ({})</summary>\n",
        list.len()
    );
    let _ = writeln!(out, "| Address | Action | Controls |\n|---|---|---|");
    for c in list {
        let _ = writeln!(
            out,
            "| `{}` | {} {} | {} |",
            cell(&c.address),
            c.action.symbol(),
            c.action.verb(),
            cell(&id_ranges(&c.controls))
        );
    }
    let mut text = String::new();
    for c in list {
        change(&mut text, c, Style::PLAIN);
        if let Some(o) = &c.needs_opt_in {
            let _ = writeln!(
                text,
                "  # needs {} (or `{}: true` in cis-fix.yaml)",
                o.flag, o.setting
            );
        }
        text.push('\n');
    }
    let fence = "`".repeat(longest_run(&text, '`').max(2) + 1);
    let _ = writeln!(out, "\n{fence}\n{}\n{fence}\n", text.trim_end_matches('\n'));
    let _ = writeln!(out, "</details>\n");
}

/// The cost line, then each item folded in a table.
fn cost(out: &mut String, c: &crate::cost::Cost) {
    let line = super::cost::line(c);
    let _ = writeln!(
        out,
        "**Cost:**{}\n",
        cell(line.strip_prefix("Cost:").unwrap_or(&line))
    );
    if c.items.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>Cost by item</summary>\n\n| Item | Count | Unit price | A month |\n|---|---:|---:|---:|"
    );
    for i in &c.items {
        let monthly = match (i.monthly, i.monthly_after_rotations) {
            (_, Some(later)) => format!(
                "{} (+{later} once rotated twice)",
                i.monthly.unwrap_or_default()
            ),
            (Some(m), None) => m.to_string(),
            (None, None) => "volume unknown".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} per {} | {} |",
            cell(&i.what),
            i.count,
            i.unit_price,
            cell(&i.unit),
            monthly
        );
    }
    let _ = writeln!(out, "\n</details>\n");
}

/// `1 control`, `3 changes`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Text safe in a table cell or a line of Markdown: no line breaks, no
/// column separators, no HTML.
fn cell(text: &str) -> String {
    text.replace('\n', " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

fn longest_run(text: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table_or_open_html() {
        assert_eq!(
            cell("{ ($.a = 1) || ($.b = 2) }\n<x>"),
            "{ ($.a = 1) \\|\\| ($.b = 2) } &lt;x>"
        );
        assert_eq!(longest_run("a ``` b ````", '`'), 4);
    }
}
