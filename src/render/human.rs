//! The human form of a plan, modelled on `terraform plan`.

use std::fmt::Write;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::Style;
use crate::jsonplan::{JsonChange, JsonPlan};
use crate::plan::{Action, Cause, ControlStatus, Severity};

/// The plan's errors and warnings, for stderr: the plan itself (stdout)
/// keeps only what it is.
pub fn problems(p: &JsonPlan, s: Style) -> String {
    notices(p, s, |sev| sev != Severity::Info)
}

fn notices(p: &JsonPlan, s: Style, keep: impl Fn(Severity) -> bool) -> String {
    let mut out = String::new();
    for n in p.notices.iter().filter(|n| keep(n.severity)) {
        let head = match n.severity {
            Severity::Error => s.red(&s.bold("Error:")),
            Severity::Warning => s.yellow(&s.bold("Warning:")),
            Severity::Info => s.bold("Note:"),
        };
        let _ = writeln!(out, "{head} {}", n.message);
        for d in &n.details {
            let _ = writeln!(out, "  - {d}");
        }
        let _ = writeln!(out);
    }
    out
}

/// Whom the plan speaks for: account, caller, regions, benchmark.
pub fn header(p: &JsonPlan, s: Style) -> String {
    let who = match (&p.account_id, &p.caller_arn) {
        (Some(a), Some(c)) => format!("account {a} as {c}"),
        (Some(a), None) => format!("account {a}"),
        _ => "an account whose id could not be read".to_string(),
    };
    let regions = match p.regions.as_slice() {
        [] => String::new(),
        [one] => format!(", region {one}"),
        few @ [_, _, _] | few @ [_, _] | few @ [_, _, _, _] => {
            format!(", regions {}", few.join(", "))
        }
        // Every enabled region is the default: the count says enough here
        // (`--json` lists them).
        many => format!(
            ", {} regions ({} … {})",
            many.len(),
            many[0],
            many[many.len() - 1]
        ),
    };
    format!(
        "{}\n\n",
        s.dim(&format!(
            "cis-fix: {who}{regions}; CIS AWS Foundations v{}.",
            p.benchmark
        ))
    )
}

/// The plan as `terraform plan` would show it, read from its JSON form so a
/// saved plan renders exactly as a fresh one. Errors and warnings are not
/// in it: see [`problems`].
pub fn plan(p: &JsonPlan, s: Style) -> String {
    let mut out = header(p, s);
    out.push_str(&notices(p, s, |sev| sev == Severity::Info));
    if p.has_changes() {
        let _ = writeln!(
            out,
            "cis-fix used the selected benchmark and the account's current state to create the\nfollowing plan. Resource actions are indicated with the following symbols:"
        );
        let has = |a: Action| p.changes.iter().any(|c| c.action == a);
        if has(Action::Create) {
            let _ = writeln!(out, "  {} create", s.green("+"));
        }
        if has(Action::Update) {
            let _ = writeln!(out, "  {} update in-place", s.yellow("~"));
        }
        if has(Action::Delete) {
            let _ = writeln!(out, "  {} destroy", s.red("-"));
        }
        if has(Action::Replace) {
            let _ = writeln!(
                out,
                "{} destroy and then create replacement",
                s.red("-") + &s.green("/+")
            );
        }
        let _ = writeln!(out, "\ncis-fix will perform the following actions:\n");
        // Changes come grouped by region (the plan orders them so); with
        // more than one, each group is headed by its region.
        let several = p.changes.iter().any(|c| c.region != p.changes[0].region);
        let mut current: Option<&str> = None;
        for c in &p.changes {
            if several && current != Some(c.region.as_str()) {
                current = Some(c.region.as_str());
                let head = if c.region == crate::address::GLOBAL {
                    "Global resources (IAM):".to_string()
                } else {
                    format!("Region {}:", c.region)
                };
                let _ = writeln!(out, "  {}\n", s.bold(&head));
            }
            change(&mut out, c, s);
            let _ = writeln!(out);
        }
        let _ = writeln!(
            out,
            "{} {} to add, {} to change, {} to destroy.",
            s.bold("Plan:"),
            p.summary.add,
            p.summary.change,
            p.summary.destroy
        );
        if let Some(c) = &p.cost {
            let _ = writeln!(out, "{}", super::cost::line(c));
        }
    } else if p
        .controls
        .iter()
        .all(|c| matches!(c.status, ControlStatus::Compliant | ControlStatus::Excepted))
    {
        // Never claim more than was judged.
        let managed = p.controls.len();
        let unmanaged = if p.unmanaged.is_empty() {
            String::new()
        } else {
            format!(
                "; {} control{} of v{} {} not managed by cis-fix (`cis-fix controls`)",
                p.unmanaged.len(),
                if p.unmanaged.len() == 1 { "" } else { "s" },
                p.benchmark,
                if p.unmanaged.len() == 1 { "is" } else { "are" }
            )
        };
        let excepted = p
            .controls
            .iter()
            .filter(|c| c.status == ControlStatus::Excepted)
            .count();
        let verdict = if excepted == 0 {
            "compliant".to_string()
        } else {
            format!("compliant or excepted ({excepted} excepted)")
        };
        let _ = writeln!(
            out,
            "{} All {managed} managed control{} {verdict}{unmanaged}.",
            s.green(&s.bold("No changes.")),
            if managed == 1 { " is" } else { "s are" }
        );
    } else {
        // Never call a control that could not be judged non-compliant.
        let unknown = p
            .controls
            .iter()
            .filter(|c| c.status == ControlStatus::Unknown)
            .count();
        let open = p
            .controls
            .iter()
            .filter(|c| {
                !matches!(
                    c.status,
                    ControlStatus::Compliant | ControlStatus::Unknown | ControlStatus::Excepted
                )
            })
            .count();
        let plural = |n: usize| if n == 1 { " is" } else { "s are" };
        let mut why = Vec::new();
        if open > 0 {
            why.push(format!("{open} control{} not compliant", plural(open)));
        }
        if unknown > 0 {
            why.push(format!(
                "{unknown} control{} could not be judged",
                if unknown == 1 { "" } else { "s" }
            ));
        }
        let _ = writeln!(
            out,
            "{} cis-fix has nothing it can change, but {} (see below).",
            s.bold("No changes."),
            why.join(" and ")
        );
    }
    held_back(&mut out, p, s);
    if p.held_back.is_empty() {
        let _ = writeln!(out);
    }
    out.push_str(&controls_table(p, s));
    out
}

/// Per-control status, the closing part of `plan` and `apply`: one line a
/// control. Why a control is blocked or unknown is said where the user
/// must act: under the control, or, when one cause holds several, once
/// with the controls it holds; the rest is in the changes above and in
/// `--json`. A count per status closes it.
pub fn controls_table(p: &JsonPlan, s: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        s.bold(&format!("Controls ({}):", p.benchmark_title))
    );
    let id_w = p.controls.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let st_w = p
        .controls
        .iter()
        .map(|c| c.status.label().len())
        .max()
        .unwrap_or(0);
    // (status, what holds them) → the controls it holds, in table order.
    let mut shared: Vec<(ControlStatus, String, Vec<&str>)> = Vec::new();
    for c in &p.controls {
        let label = format!("{:<st_w$}", c.status.label());
        let label = match c.status {
            ControlStatus::Compliant => s.green(&label),
            ControlStatus::WillFix => s.yellow(&label),
            ControlStatus::PendingConfirmation => s.yellow(&label),
            ControlStatus::Blocked | ControlStatus::Unknown => s.red(&label),
            ControlStatus::Excepted => s.bold(&label),
        };
        let _ = writeln!(out, "  {:<id_w$}  {label}  {}", c.id, c.title);
        // What is excepted, and until when, is said at the control: each
        // exception is its own decision.
        if let Some(g) = &c.exception {
            let _ = writeln!(out, "  {:<id_w$}  {}", "", s.dim(&format!("excepted {g}")));
        }
        for e in &c.excepted {
            let kept = if e.changed_anyway.is_empty() {
                String::new()
            } else {
                format!(" (changed anyway: {})", e.changed_anyway.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:<id_w$}  {}",
                "",
                s.dim(&format!("excepted `{}` {}{kept}", e.resource, e.exception))
            );
        }
        let held_by = match (&c.cause, c.status) {
            (_, ControlStatus::Compliant | ControlStatus::WillFix | ControlStatus::Excepted) => {
                None
            }
            (Some(cause), _) => Some(cause_text(cause)),
            (None, ControlStatus::PendingConfirmation) => None,
            (None, _) => {
                let _ = writeln!(out, "  {:<id_w$}  {}", "", s.dim(&c.reason));
                None
            }
        };
        if let Some(why) = held_by {
            match shared
                .iter_mut()
                .find(|(st, w, _)| *st == c.status && *w == why)
            {
                Some((_, _, ids)) => ids.push(&c.id),
                None => shared.push((c.status, why, vec![&c.id])),
            }
        }
    }
    for (status, why, ids) in &shared {
        let head = match status {
            ControlStatus::PendingConfirmation => s.yellow("Pending confirmation"),
            ControlStatus::Blocked => s.red("Blocked"),
            _ => s.red("Unknown"),
        };
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        let _ = writeln!(out, "\n{head} ({}): {why}.", id_ranges(&ids));
    }
    let mut counts: Vec<String> = Vec::new();
    for st in [
        ControlStatus::Compliant,
        ControlStatus::WillFix,
        ControlStatus::PendingConfirmation,
        ControlStatus::Blocked,
        ControlStatus::Unknown,
        ControlStatus::Excepted,
    ] {
        let n = p.controls.iter().filter(|c| c.status == st).count();
        if n > 0 {
            counts.push(format!("{n} {}", st.label()));
        }
    }
    if !counts.is_empty() {
        let _ = writeln!(out, "\n{}.", counts.join(", "));
    }
    out
}

/// A shared cause in words, said once for all the controls it holds; what
/// the errors on stderr already explain is only pointed at.
pub(super) fn cause_text(c: &Cause) -> String {
    match c {
        Cause::NoQualifyingTrail => {
            "no CloudTrail trail delivers all management events to CloudWatch Logs (see Error above)".into()
        }
        Cause::ReadFailed { failure } => format!(
            "cannot tell, {} in {} failed (see Error above)",
            failure.call, failure.region
        ),
        Cause::NoSubscriber { topic } => format!(
            "topic `{topic}` has no confirmed subscription and none is configured: add sns.subscriptions to cis-fix.yaml"
        ),
        Cause::AwaitingConfirmation { topic, endpoints } => format!(
            "alarms reach nobody until {} confirms the subscription to topic `{topic}`",
            endpoints.join(", ")
        ),
        Cause::NeedsSetting { setting } => format!("set {setting} in cis-fix.yaml"),
        Cause::OtherAccount { account } => {
            format!("the trail belongs to account {account}: fix it there")
        }
        Cause::NeedsOptIn {
            what,
            flag,
            setting,
        } => format!(
            "the fix can cut running workloads off and waits for an opt-in to {what}: read the held-back changes above, then pass {flag} or set `{setting}: true` in cis-fix.yaml"
        ),
    }
}

/// Unchanged attributes shown anyway: what names the resource, and who
/// uses a security group (the evidence a destructive change rests on).
const ALWAYS_SHOWN: &[&str] = &[
    "name",
    "log_group_name",
    "key_id",
    "group_id",
    "vpc_id",
    "used_by",
];

/// The changes that wait for an opt-in, each as a change would show, with
/// the opt-in that would let it run.
fn held_back(out: &mut String, p: &JsonPlan, s: Style) {
    if p.held_back.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{} {} change{} can cut running workloads off and {} held back until you opt in; apply will not make {}:\n",
        s.yellow(&s.bold("Held back:")),
        p.held_back.len(),
        if p.held_back.len() == 1 { "" } else { "s" },
        if p.held_back.len() == 1 { "is" } else { "are" },
        if p.held_back.len() == 1 { "it" } else { "them" },
    );
    for c in &p.held_back {
        change(out, c, s);
        if let Some(o) = &c.needs_opt_in {
            let _ = writeln!(
                out,
                "  {}",
                s.yellow(&format!(
                    "# needs {} (or `{}: true` in cis-fix.yaml)",
                    o.flag, o.setting
                ))
            );
        }
        let _ = writeln!(out);
    }
}

pub(super) fn change(out: &mut String, c: &JsonChange, s: Style) {
    let (verb, symbol) = match c.action {
        Action::Create => ("will be created", s.green("+")),
        Action::Update => ("will be updated in-place", s.yellow("~")),
        Action::Delete => ("will be destroyed", s.red("-")),
        Action::Replace => ("must be replaced", s.red("-") + &s.green("/+")),
    };
    let _ = writeln!(out, "  {} {verb}", s.bold(&format!("# {}", c.address)));
    let why = if c.controls.is_empty() {
        c.reason.clone()
    } else {
        format!("CIS {}: {}", id_ranges(&c.controls), c.reason)
    };
    let _ = writeln!(out, "  {}", s.dim(&format!("# ({why})")));
    let _ = writeln!(out, "  {symbol} resource \"{}\" \"{}\" {{", c.kind, c.name);
    let after = c.after.as_ref().map(attributes).unwrap_or_default();
    let before = c.before.as_ref().map(attributes);
    let width = after
        .iter()
        .chain(before.iter().flatten())
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    // A kind whose write replaces the whole resource shows what it keeps
    // too: those values are sent as well.
    let shows_kept = crate::kinds::kind_info(&c.kind).is_some_and(|k| k.shows_kept);
    let mut hidden = 0;
    let mut kept = 0;
    for (key, new) in &after {
        let old = before
            .as_ref()
            .and_then(|b| b.iter().find(|(k, _)| k == key).map(|(_, v)| v));
        match (c.action, old) {
            (Action::Create, _) | (_, None) => {
                let _ = writeln!(
                    out,
                    "      {} {key:<width$} = {}",
                    s.green("+"),
                    value(new, 6)
                );
            }
            (_, Some(old)) if old == new => {
                if shows_kept {
                    kept += 1;
                    let _ = writeln!(out, "        {key:<width$} = {}", value(new, 8));
                } else if ALWAYS_SHOWN.contains(&key.as_str()) {
                    let _ = writeln!(out, "        {key:<width$} = {}", value(new, 8));
                } else {
                    hidden += 1;
                }
            }
            (_, Some(old)) if key == "pattern" => {
                let _ = writeln!(out, "      {} {key:<width$} = <<-EOT", s.yellow("~"));
                pattern_diff(out, old, new, s);
                let _ = writeln!(out, "        EOT");
            }
            (_, Some(old)) => {
                let _ = writeln!(
                    out,
                    "      {} {key:<width$} = {} -> {}",
                    s.yellow("~"),
                    value(old, 6),
                    value(new, 6)
                );
            }
        }
    }
    if let Some(before) = &before {
        for (key, old) in before {
            if !after.iter().any(|(k, _)| k == key) {
                let _ = writeln!(
                    out,
                    "      {} {key:<width$} = {} -> null",
                    s.red("-"),
                    value(old, 6)
                );
            }
        }
    }
    if kept > 0 {
        let _ = writeln!(
            out,
            "        {}",
            s.dim(&format!(
                "# ({kept} unchanged attribute{} kept as {}: the whole resource is written)",
                if kept == 1 { "" } else { "s" },
                if kept == 1 { "it is" } else { "they are" }
            ))
        );
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "        {}",
            s.dim(&format!(
                "# ({hidden} unchanged attribute{} hidden)",
                if hidden == 1 { "" } else { "s" }
            ))
        );
    }
    let _ = writeln!(out, "    }}");
}

/// A pattern change as a line diff of the canonical multi-line forms, so a
/// missing `||` term stands out.
fn pattern_diff(out: &mut String, old: &Value, new: &Value, s: Style) {
    let pretty = |v: &Value| {
        let text = v.as_str().unwrap_or_default();
        match crate::pattern::parse(text) {
            Ok(p) => p.pretty(),
            Err(_) => text.to_string(),
        }
    };
    let (a, b) = (pretty(old), pretty(new));
    let diff = TextDiff::from_lines(&a, &b);
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches('\n');
        match change.tag() {
            ChangeTag::Delete => {
                let _ = writeln!(out, "          {}", s.red(&format!("- {line}")));
            }
            ChangeTag::Insert => {
                let _ = writeln!(out, "          {}", s.green(&format!("+ {line}")));
            }
            ChangeTag::Equal => {
                let _ = writeln!(out, "            {line}");
            }
        }
    }
}

/// Control ids with runs of three or more consecutive ones of a section
/// shortened (`3.1, 4.1–4.15`): a trail fix serves every monitoring control.
pub(super) fn id_ranges(ids: &[String]) -> String {
    let split = |id: &str| -> Option<(String, u32)> {
        let (major, minor) = id.rsplit_once('.')?;
        Some((major.to_string(), minor.parse().ok()?))
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        if let Some((major, mut last)) = split(&ids[i]) {
            while j + 1 < ids.len() && split(&ids[j + 1]) == Some((major.clone(), last + 1)) {
                j += 1;
                last += 1;
            }
        }
        if j >= i + 2 {
            out.push(format!("{}–{}", ids[i], ids[j]));
        } else {
            out.extend(ids[i..=j].iter().cloned());
        }
        i = j + 1;
    }
    out.join(", ")
}

/// A resource's attributes in declaration order, without the type tag.
fn attributes(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() != "type")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn value(v: &Value, indent: usize) -> String {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("after_apply") => {
            "(known after apply)".into()
        }
        // A policy document, shown as Terraform shows one: its structure.
        Value::String(s) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Value>(s) {
                Ok(doc @ Value::Object(_)) => format!("jsonencode({})", value(&doc, indent)),
                _ => format!("{s:?}"),
            }
        }
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let pad = " ".repeat(indent + 4);
            let mut s = String::from("[\n");
            for i in items {
                let _ = writeln!(s, "{pad}{},", value(i, indent + 4));
            }
            s.push_str(&" ".repeat(indent + 2));
            s.push(']');
            s
        }
        Value::Object(m) => {
            let pad = " ".repeat(indent + 4);
            let mut s = String::from("{\n");
            for (k, v) in m {
                // Terraform quotes a key that is not an identifier.
                let plain = k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                let k = if plain { k.clone() } else { format!("{k:?}") };
                let _ = writeln!(s, "{pad}{k} = {}", value(v, indent + 4));
            }
            s.push_str(&" ".repeat(indent + 2));
            s.push('}');
            s
        }
        other => other.to_string(),
    }
}

/// One line of apply progress, as Terraform prints it:
/// `…aws_sns_topic.x: Creating...`, then `…: Creation complete after 1s
/// [id=arn:…]` once `took` is known.
pub fn apply_line(
    address: &str,
    action: Action,
    took: Option<std::time::Duration>,
    id: Option<&str>,
    s: Style,
) -> String {
    let verb = match (action, took.is_some()) {
        (Action::Create, false) => "Creating...",
        (Action::Create, true) => "Creation complete",
        (Action::Update, false) => "Modifying...",
        (Action::Update, true) => "Modifications complete",
        (Action::Delete, false) => "Destroying...",
        (Action::Delete, true) => "Destruction complete",
        (Action::Replace, false) => "Replacing...",
        (Action::Replace, true) => "Replacement complete",
    };
    let after = took
        .map(|t| format!(" after {}s", t.as_secs()))
        .unwrap_or_default();
    let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
    format!("{}: {verb}{after}{id}", s.bold(address))
}
#[cfg(test)]
mod tests {
    #[test]
    fn control_id_runs_are_shortened() {
        let ids: Vec<String> = [
            "3.1", "3.2", "4.1", "4.2", "4.3", "4.5", "4.10", "4.11", "4.12",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(super::id_ranges(&ids), "3.1, 3.2, 4.1–4.3, 4.5, 4.10–4.12");
    }

    use super::*;
    use crate::address::{Address, Location};
    use crate::kinds::{MetricFilter, Resource};
    use crate::plan::{Change, Plan};

    fn filter(name: &str) -> MetricFilter {
        MetricFilter {
            log_group_name: "ct".into(),
            name: name.into(),
            pattern: "{ $.eventName = CreateTrail }".into(),
            metric_name: name.into(),
            metric_namespace: "CISBenchmark".into(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: Default::default(),
            unit: None,
        }
    }

    fn change(action: Action, before: Option<&str>, after: Option<&str>) -> Change {
        let at = Location::new(Some("123456789012"), "eu-west-1");
        Change {
            address: Address::new(
                &at,
                "aws_cloudwatch_log_metric_filter",
                after.or(before).unwrap_or("x"),
            ),
            action,
            controls: vec![],
            reason: "why".into(),
            before: before.map(|n| Resource::MetricFilter(filter(n))),
            after: after.map(|n| Resource::MetricFilter(filter(n))),
            depends_on: vec![],
        }
    }

    #[test]
    fn destroy_and_replace_render_as_terraform_does() {
        let p = Plan {
            benchmark: "6.0.0".into(),
            benchmark_title: "t".into(),
            account_id: Some("123456789012".into()),
            caller_arn: None,
            regions: vec!["eu-west-1".into()],
            unmanaged: vec![],
            notices: vec![],
            changes: vec![
                change(Action::Delete, Some("old-filter"), None),
                change(Action::Replace, Some("a"), Some("b")),
            ],
            held_back: vec![],
            controls: vec![],
            failed_reads: vec![],
            cost: None,
        };
        let text = plan(&JsonPlan::from_plan(&p), Style::PLAIN);
        assert!(text.contains("  - destroy\n"), "{text}");
        assert!(
            text.contains("-/+ destroy and then create replacement\n"),
            "{text}"
        );
        assert!(
            text.contains("# 123456789012/eu-west-1/aws_cloudwatch_log_metric_filter.old_filter will be destroyed"),
            "{text}"
        );
        assert!(
            text.contains("  - resource \"aws_cloudwatch_log_metric_filter\" \"old_filter\" {"),
            "{text}"
        );
        assert!(
            text.contains("      - pattern          = \"{ $.eventName = CreateTrail }\" -> null"),
            "{text}"
        );
        assert!(
            text.contains("aws_cloudwatch_log_metric_filter.b must be replaced"),
            "{text}"
        );
        assert!(
            text.contains("  -/+ resource \"aws_cloudwatch_log_metric_filter\" \"b\" {"),
            "{text}"
        );
        assert!(
            text.contains("      ~ name             = \"a\" -> \"b\""),
            "{text}"
        );
        assert!(
            text.contains("Plan: 1 to add, 0 to change, 2 to destroy."),
            "{text}"
        );
    }
}
