//! Which management events a trail's event selectors deliver, judged
//! exactly for a scope of event sources and `readOnly` values. A selector
//! whose conditions cis-fix cannot read as "every event of this source and
//! kind" (a condition on another field) is not trusted to deliver any:
//! the verdict errs towards "not proven", never towards compliant.

use crate::benchmark::EventScope;
use crate::kinds::{AdvancedSelector, BasicSelector, EventSelectors, FieldSelector};

/// Whether the selectors deliver every management event of `scope`; the
/// error says what is dropped.
pub fn delivers(s: &EventSelectors, scope: &EventScope) -> Result<(), String> {
    if s.basic.is_empty() && s.advanced.is_empty() {
        // AWS gives every trail a default all-management selector; a trail
        // that reports none logs no management events.
        return Err("has no event selectors, so it logs no management events".into());
    }
    let sources: Vec<&str> = if scope.any_source() {
        vec!["*"]
    } else {
        scope.sources.iter().map(String::as_str).collect()
    };
    let mut dropped = Vec::new();
    for source in &sources {
        for ro in &scope.read_only {
            let ok = s.basic.iter().any(|b| basic_delivers(b, source, *ro))
                || s.advanced.iter().any(|a| advanced_delivers(a, source, *ro));
            if !ok {
                dropped.push((*source, *ro));
            }
        }
    }
    if dropped.is_empty() {
        return Ok(());
    }
    Err(format!("does not log {}", describe(&dropped)))
}

/// "read management events from every source", "write management events
/// from kms.amazonaws.com", ...
fn describe(dropped: &[(&str, bool)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut sources: Vec<&str> = dropped.iter().map(|d| d.0).collect();
    sources.dedup();
    for s in sources {
        let kinds: Vec<bool> = dropped.iter().filter(|d| d.0 == s).map(|d| d.1).collect();
        let kind = match (kinds.contains(&true), kinds.contains(&false)) {
            (true, true) => "read or write",
            (true, false) => "read",
            _ => "write",
        };
        let from = if s == "*" {
            "from every source".to_string()
        } else {
            format!("from {s}")
        };
        parts.push(format!("{kind} management events {from}"));
    }
    parts.join("; ")
}

fn basic_delivers(b: &BasicSelector, source: &str, read_only: bool) -> bool {
    let rw = match b.read_write_type.as_str() {
        "All" => true,
        "ReadOnly" => read_only,
        "WriteOnly" => !read_only,
        _ => false,
    };
    let src = if source == "*" {
        b.exclude_management_event_sources.is_empty()
    } else {
        !b.exclude_management_event_sources
            .iter()
            .any(|x| x == source)
    };
    b.include_management_events && rw && src
}

/// Every field selector of an advanced selector must hold (they are ANDed).
fn advanced_delivers(a: &AdvancedSelector, source: &str, read_only: bool) -> bool {
    if !is_management(a) {
        return false;
    }
    let ro = if read_only { "true" } else { "false" };
    a.field_selectors.iter().all(|f| match f.field.as_str() {
        "eventCategory" => true,
        "readOnly" => holds(f, ro),
        "eventSource" => source != "*" && holds(f, source),
        // Any other condition narrows in ways not proven harmless.
        _ => false,
    })
}

/// A selector on management events: eventCategory is exactly `Management`.
pub fn is_management(a: &AdvancedSelector) -> bool {
    let cats: Vec<&FieldSelector> = a
        .field_selectors
        .iter()
        .filter(|f| f.field == "eventCategory")
        .collect();
    !cats.is_empty()
        && cats.iter().all(|f| {
            f.equals.iter().any(|v| v == "Management")
                && f.not_equals.is_empty()
                && f.starts_with.is_empty()
                && f.not_starts_with.is_empty()
                && f.ends_with.is_empty()
                && f.not_ends_with.is_empty()
        })
}

/// Whether `value` passes every operator of one field selector (an
/// operator's values are ORed; the operators are ANDed).
fn holds(f: &FieldSelector, value: &str) -> bool {
    (f.equals.is_empty() || f.equals.iter().any(|v| v == value))
        && !f.not_equals.iter().any(|v| v == value)
        && (f.starts_with.is_empty() || f.starts_with.iter().any(|p| value.starts_with(p.as_str())))
        && !f
            .not_starts_with
            .iter()
            .any(|p| value.starts_with(p.as_str()))
        && (f.ends_with.is_empty() || f.ends_with.iter().any(|p| value.ends_with(p.as_str())))
        && !f.not_ends_with.iter().any(|p| value.ends_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(sources: &[&str], ro: &[bool]) -> EventScope {
        EventScope {
            sources: sources.iter().map(|s| s.to_string()).collect(),
            read_only: ro.to_vec(),
        }
    }

    fn basic(rw: &str, excl: &[&str]) -> EventSelectors {
        EventSelectors {
            basic: vec![BasicSelector {
                read_write_type: rw.into(),
                include_management_events: true,
                exclude_management_event_sources: excl.iter().map(|s| s.to_string()).collect(),
                data_resources: vec![],
            }],
            advanced: vec![],
        }
    }

    fn field(name: &str, equals: &[&str], not_equals: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.into(),
            equals: equals.iter().map(|s| s.to_string()).collect(),
            not_equals: not_equals.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn advanced(fields: Vec<FieldSelector>) -> EventSelectors {
        EventSelectors {
            basic: vec![],
            advanced: vec![AdvancedSelector {
                name: None,
                field_selectors: fields,
            }],
        }
    }

    #[test]
    fn classic_all_delivers_everything() {
        let s = basic("All", &[]);
        assert!(delivers(&s, &EventScope::all()).is_ok());
        assert!(delivers(&s, &scope(&["iam.amazonaws.com"], &[false])).is_ok());
    }

    #[test]
    fn excluding_kms_drops_only_kms() {
        let s = basic("All", &["kms.amazonaws.com"]);
        let e = delivers(&s, &EventScope::all()).unwrap_err();
        assert!(e.contains("every source"), "{e}");
        assert!(delivers(&s, &scope(&["iam.amazonaws.com"], &[false])).is_ok());
        let e = delivers(&s, &scope(&["kms.amazonaws.com"], &[false])).unwrap_err();
        assert!(
            e.contains("write management events from kms.amazonaws.com"),
            "{e}"
        );
    }

    #[test]
    fn write_only_serves_write_controls_only() {
        let s = basic("WriteOnly", &[]);
        assert!(delivers(&s, &scope(&["ec2.amazonaws.com"], &[false])).is_ok());
        let e = delivers(&s, &scope(&["*"], &[true, false])).unwrap_err();
        assert!(e.starts_with("does not log read management events"), "{e}");
        assert!(
            delivers(
                &basic("ReadOnly", &[]),
                &scope(&["ec2.amazonaws.com"], &[false])
            )
            .is_err()
        );
    }

    #[test]
    fn no_management_events_at_all() {
        let mut s = basic("All", &[]);
        s.basic[0].include_management_events = false;
        assert!(delivers(&s, &scope(&["iam.amazonaws.com"], &[false])).is_err());
        assert!(delivers(&EventSelectors::default(), &EventScope::all()).is_err());
    }

    #[test]
    fn advanced_conditions() {
        let mgmt = || field("eventCategory", &["Management"], &[]);
        assert!(delivers(&advanced(vec![mgmt()]), &EventScope::all()).is_ok());
        // readOnly narrowing: writes only.
        let w = advanced(vec![mgmt(), field("readOnly", &["false"], &[])]);
        assert!(delivers(&w, &scope(&["iam.amazonaws.com"], &[false])).is_ok());
        assert!(delivers(&w, &EventScope::all()).is_err());
        // eventSource exclusion: everything but KMS.
        let no_kms = advanced(vec![
            mgmt(),
            field("eventSource", &[], &["kms.amazonaws.com"]),
        ]);
        assert!(delivers(&no_kms, &scope(&["iam.amazonaws.com"], &[false])).is_ok());
        assert!(delivers(&no_kms, &scope(&["kms.amazonaws.com"], &[false])).is_err());
        assert!(delivers(&no_kms, &EventScope::all()).is_err());
        // A condition on another field is not trusted.
        let by_name = advanced(vec![mgmt(), field("eventName", &[], &["Decrypt"])]);
        assert!(delivers(&by_name, &scope(&["iam.amazonaws.com"], &[false])).is_err());
        // Data selectors deliver no management events.
        let data = advanced(vec![field("eventCategory", &["Data"], &[])]);
        assert!(delivers(&data, &scope(&["s3.amazonaws.com"], &[false])).is_err());
    }

    #[test]
    fn two_narrowed_selectors_together_deliver_everything() {
        let mgmt = || field("eventCategory", &["Management"], &[]);
        let mut s = advanced(vec![mgmt(), field("readOnly", &["true"], &[])]);
        s.advanced.push(AdvancedSelector {
            name: None,
            field_selectors: vec![mgmt(), field("readOnly", &["false"], &[])],
        });
        assert!(delivers(&s, &EventScope::all()).is_ok());
    }
}
