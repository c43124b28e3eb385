//! Adding "all management events" to a trail's selectors without narrowing
//! anything: data-event selectors stay as they are, and management events
//! are added in the form the trail already uses (PutEventSelectors takes
//! classic or advanced selectors, never both, and replaces the whole set).

use super::delivery::{delivers, is_management};
use crate::benchmark::{EventScope, SelectorForm};
use crate::kinds::{AdvancedSelector, BasicSelector, EventSelectors, FieldSelector};

/// CloudTrail's limit of classic selectors per trail.
const MAX_CLASSIC: usize = 5;

/// The selectors with every management event added, or `None` when they
/// already deliver them all. `Err`: no such set within AWS's limits.
pub fn with_all_management(
    s: &EventSelectors,
    form_if_none: SelectorForm,
) -> Result<Option<EventSelectors>, String> {
    if delivers(s, &EventScope::all()).is_ok() {
        return Ok(None);
    }
    if !s.advanced.is_empty() {
        return Ok(Some(advanced(s)));
    }
    if !s.basic.is_empty() {
        return classic(s).map(Some);
    }
    Ok(Some(fresh(form_if_none)))
}

/// The management selectors a new trail gets.
pub fn fresh(form: SelectorForm) -> EventSelectors {
    match form {
        SelectorForm::Classic => EventSelectors {
            basic: vec![all_classic()],
            advanced: vec![],
        },
        SelectorForm::Advanced => EventSelectors {
            basic: vec![],
            advanced: vec![all_advanced(Some("Management events".into()))],
        },
    }
}

fn all_classic() -> BasicSelector {
    BasicSelector {
        read_write_type: "All".into(),
        include_management_events: true,
        exclude_management_event_sources: vec![],
        data_resources: vec![],
    }
}

fn all_advanced(name: Option<String>) -> AdvancedSelector {
    AdvancedSelector {
        name,
        field_selectors: vec![FieldSelector {
            field: "eventCategory".into(),
            equals: vec!["Management".into()],
            ..Default::default()
        }],
    }
}

/// Advanced: the narrowed management selectors give way to one that logs
/// every management event (it covers all they did), named as the first
/// was; every other selector stays.
fn advanced(s: &EventSelectors) -> EventSelectors {
    let mut out = Vec::new();
    let mut placed = false;
    for a in &s.advanced {
        if is_management(a) {
            if !placed {
                out.push(all_advanced(a.name.clone()));
                placed = true;
            }
        } else {
            out.push(a.clone());
        }
    }
    if !placed {
        out.push(all_advanced(Some("Management events".into())));
    }
    EventSelectors {
        basic: vec![],
        advanced: out,
    }
}

/// Classic: a management selector without data resources is widened in
/// place (ReadWriteType All, no excluded sources); one with data resources
/// keeps them exactly, and management events move to a selector of their
/// own, since widening it would widen its data events too.
fn classic(s: &EventSelectors) -> Result<EventSelectors, String> {
    let mut out: Vec<BasicSelector> = Vec::new();
    let mut covered = false;
    for b in &s.basic {
        let mut b = b.clone();
        if b.include_management_events {
            if b.data_resources.is_empty() {
                if covered {
                    // One management selector is enough; a second would
                    // only repeat the first.
                    continue;
                }
                b.read_write_type = "All".into();
                b.exclude_management_event_sources.clear();
                covered = true;
            } else {
                b.include_management_events = false;
                b.exclude_management_event_sources.clear();
            }
        }
        out.push(b);
    }
    if !covered {
        if out.len() >= MAX_CLASSIC {
            return Err(format!(
                "the trail already has {MAX_CLASSIC} classic event selectors (CloudTrail's limit), all with data events, so management events cannot be added without changing which data events are logged"
            ));
        }
        out.push(all_classic());
    }
    Ok(EventSelectors {
        basic: out,
        advanced: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::DataResource;

    fn b(rw: &str, mgmt: bool, data: bool) -> BasicSelector {
        BasicSelector {
            read_write_type: rw.into(),
            include_management_events: mgmt,
            exclude_management_event_sources: if mgmt {
                vec!["kms.amazonaws.com".into()]
            } else {
                vec![]
            },
            data_resources: if data {
                vec![DataResource {
                    kind: "AWS::S3::Object".into(),
                    values: vec!["arn:aws:s3:::b/".into()],
                }]
            } else {
                vec![]
            },
        }
    }

    fn all() -> EventScope {
        EventScope::all()
    }

    #[test]
    fn complete_selectors_are_left_alone() {
        let s = fresh(SelectorForm::Classic);
        assert_eq!(with_all_management(&s, SelectorForm::Advanced), Ok(None));
    }

    #[test]
    fn classic_is_widened_and_data_kept() {
        let s = EventSelectors {
            basic: vec![b("WriteOnly", true, false), b("ReadOnly", false, true)],
            advanced: vec![],
        };
        let out = with_all_management(&s, SelectorForm::Advanced)
            .expect("fits")
            .expect("changes");
        assert!(out.advanced.is_empty(), "the form stays classic");
        assert_eq!(out.basic.len(), 2);
        assert_eq!(out.basic[0].read_write_type, "All");
        assert!(out.basic[0].exclude_management_event_sources.is_empty());
        assert_eq!(out.basic[1], s.basic[1], "the data selector is untouched");
        assert!(delivers(&out, &all()).is_ok());
    }

    #[test]
    fn classic_data_selector_with_management_keeps_its_data() {
        let s = EventSelectors {
            basic: vec![b("WriteOnly", true, true)],
            advanced: vec![],
        };
        let out = with_all_management(&s, SelectorForm::Classic)
            .expect("fits")
            .expect("changes");
        assert_eq!(out.basic.len(), 2);
        assert_eq!(out.basic[0].read_write_type, "WriteOnly");
        assert_eq!(out.basic[0].data_resources, s.basic[0].data_resources);
        assert!(delivers(&out, &all()).is_ok());
    }

    #[test]
    fn classic_full_of_data_selectors_cannot_take_more() {
        let s = EventSelectors {
            basic: (0..5).map(|_| b("WriteOnly", false, true)).collect(),
            advanced: vec![],
        };
        assert!(with_all_management(&s, SelectorForm::Classic).is_err());
    }

    #[test]
    fn advanced_narrowed_management_is_replaced_and_data_kept() {
        let data = AdvancedSelector {
            name: Some("S3 writes".into()),
            field_selectors: vec![
                FieldSelector {
                    field: "eventCategory".into(),
                    equals: vec!["Data".into()],
                    ..Default::default()
                },
                FieldSelector {
                    field: "resources.type".into(),
                    equals: vec!["AWS::S3::Object".into()],
                    ..Default::default()
                },
            ],
        };
        let narrowed = AdvancedSelector {
            name: Some("Mgmt".into()),
            field_selectors: vec![
                FieldSelector {
                    field: "eventCategory".into(),
                    equals: vec!["Management".into()],
                    ..Default::default()
                },
                FieldSelector {
                    field: "readOnly".into(),
                    equals: vec!["false".into()],
                    ..Default::default()
                },
            ],
        };
        let s = EventSelectors {
            basic: vec![],
            advanced: vec![data.clone(), narrowed],
        };
        let out = with_all_management(&s, SelectorForm::Classic)
            .expect("fits")
            .expect("changes");
        assert!(out.basic.is_empty(), "the form stays advanced");
        assert_eq!(out.advanced[0], data);
        assert_eq!(out.advanced[1].name.as_deref(), Some("Mgmt"));
        assert_eq!(out.advanced[1].field_selectors.len(), 1);
        assert!(delivers(&out, &all()).is_ok());
    }

    #[test]
    fn none_at_all_takes_the_versions_form() {
        let out = with_all_management(&EventSelectors::default(), SelectorForm::Advanced)
            .expect("fits")
            .expect("changes");
        assert_eq!(out.advanced.len(), 1);
        assert!(delivers(&out, &all()).is_ok());
    }
}
