//! Which trails carry management events to a CloudWatch Logs log group: the
//! first link of every monitoring control (the benchmark's audit step 1).

use crate::address::Address;
use crate::benchmark::EventScope;
use crate::kinds::{EventSelectors, LogGroupRef, Trail};
use crate::observed::{CallFailure, Observed};

/// A trail whose events reach a log group the monitoring chain can start
/// from: which events, its selectors say (control by control).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub trail: String,
    pub log_group: LogGroupRef,
    /// `None`: every management event (a trail this plan fixes or creates).
    pub selectors: Option<EventSelectors>,
    /// Made by this plan: the log group has no filters yet.
    pub log_group_is_new: bool,
    /// Changes of this plan the chain on it waits for.
    pub prerequisites: Vec<Address>,
}

impl Candidate {
    /// Whether the trail delivers the management events of `scope`.
    pub fn delivers(&self, scope: &EventScope) -> Result<(), String> {
        match &self.selectors {
            None => Ok(()),
            Some(s) => super::cloudtrail::delivery::delivers(s, scope)
                .map_err(|e| format!("trail `{}` {e}", self.trail)),
        }
    }
}

/// A trail that would qualify but delivers to another account's log group
/// (an organization trail seen from a member): the chain is that
/// account's.
#[derive(Debug, Clone, PartialEq)]
pub struct Foreign {
    pub trail: String,
    pub arn: String,
    pub log_group: LogGroupRef,
    pub selectors: EventSelectors,
}

impl Foreign {
    /// Whether the trail delivers the management events of `scope`.
    pub fn delivers(&self, scope: &EventScope) -> Result<(), String> {
        super::cloudtrail::delivery::delivers(&self.selectors, scope)
            .map_err(|e| format!("trail `{}` {e}", self.trail))
    }
}

#[derive(Debug, Default)]
pub struct TrailAssessment {
    pub candidates: Vec<Candidate>,
    /// Rejected trails (also in `rejected`) that fail only because their
    /// log group is another account's.
    pub foreign: Vec<Foreign>,
    /// One line per trail that does not qualify, saying why.
    pub rejected: Vec<String>,
    /// Reads about trails that failed: those trails may or may not qualify.
    pub unknown: Vec<CallFailure>,
}

/// `account` is the account being judged (when known): a trail delivering
/// to another account's log group cannot carry this account's chain.
pub fn assess(trails: &[Trail], account: Option<&str>) -> TrailAssessment {
    let mut out = TrailAssessment::default();
    for t in trails {
        let mut why = Vec::new();
        let mut failures = Vec::new();
        if !t.is_multi_region {
            why.push("is not multi-region".to_string());
        }
        match &t.status {
            Observed::Ok(s) if !s.is_logging => why.push("is not logging".into()),
            Observed::Ok(s) => {
                if let Some(e) = &s.latest_cloudwatch_logs_delivery_error {
                    why.push(format!(
                        "reports CloudWatch Logs delivery failing ({e}), so events do not reach its log group"
                    ));
                }
            }
            Observed::Failed(f) => failures.push(f.clone()),
        }
        // Selectors that drop some events block only the controls whose
        // events they drop (judged per control); one with none at all
        // serves no control.
        match &t.selectors {
            Observed::Ok(s) if s.basic.is_empty() && s.advanced.is_empty() => {
                why.push("has no event selectors, so it logs no management events".into());
            }
            Observed::Ok(_) => {}
            Observed::Failed(f) => failures.push(f.clone()),
        }
        let log_group = t.log_group();
        let mut elsewhere = false;
        match (&log_group, &t.cloudwatch_logs_role_arn) {
            (None, _) => why.push("does not deliver to CloudWatch Logs".into()),
            (Some(lg), _) if account.is_some_and(|a| a != lg.account) => {
                elsewhere = true;
                why.push(format!(
                    "delivers to log group `{}` in account {} (an organization trail?), whose filters and alarms must be checked in that account",
                    lg.name, lg.account
                ))
            }
            (Some(_), None) => why.push(
                "names a CloudWatch Logs log group but no delivery role, so CloudTrail cannot write to it"
                    .into(),
            ),
            _ => {}
        }
        // A trail known to fail on one count does not qualify whatever the
        // unread parts say; one that might qualify but was not fully read is
        // unknown.
        if elsewhere
            && why.len() == 1
            && failures.is_empty()
            && let (Some(lg), Observed::Ok(selectors)) = (&log_group, &t.selectors)
        {
            out.foreign.push(Foreign {
                trail: t.name.clone(),
                arn: t.arn.clone(),
                log_group: lg.clone(),
                selectors: selectors.clone(),
            });
        }
        if !why.is_empty() {
            out.rejected
                .push(format!("trail `{}` {}", t.name, join_and(&why)));
        } else if !failures.is_empty() {
            out.unknown.extend(failures);
        } else if let (Some(lg), Observed::Ok(selectors)) = (log_group, &t.selectors) {
            out.candidates.push(Candidate {
                trail: t.name.clone(),
                log_group: lg,
                selectors: Some(selectors.clone()),
                log_group_is_new: false,
                prerequisites: vec![],
            });
        }
    }
    out
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kinds::{BasicSelector, TrailStatus};

    /// A trail that qualifies: multi-region, logging all management
    /// events to `log_group` in us-east-1 of `account`, with a role. The
    /// diff's tests start from it too.
    pub(crate) fn qualifying(name: &str, account: &str, log_group: &str) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{account}:trail/{name}"),
            home_region: "us-east-1".into(),
            is_multi_region: true,
            is_organization_trail: false,
            s3_bucket: Some("b".into()),
            log_group_arn: Some(format!(
                "arn:aws:logs:us-east-1:{account}:log-group:{log_group}:*"
            )),
            cloudwatch_logs_role_arn: Some(format!("arn:aws:iam::{account}:role/ct")),
            kms_key_id: Some(format!("arn:aws:kms:us-east-1:{account}:key/k")),
            log_file_validation: true,
            include_global_service_events: true,
            status: Observed::Ok(TrailStatus {
                is_logging: true,
                latest_cloudwatch_logs_delivery_error: None,
            }),
            selectors: Observed::Ok(EventSelectors {
                basic: vec![BasicSelector {
                    read_write_type: "All".into(),
                    include_management_events: true,
                    exclude_management_event_sources: vec![],
                    data_resources: vec![],
                }],
                advanced: vec![],
            }),
        }
    }

    fn trail(name: &str) -> Trail {
        qualifying(name, "1", "ct")
    }

    fn assess_here(trails: &[Trail]) -> TrailAssessment {
        assess(trails, Some("1"))
    }

    #[test]
    fn another_accounts_log_group_does_not_qualify() {
        let mut t = trail("org");
        t.log_group_arn = Some("arn:aws:logs:us-east-1:999999999999:log-group:org-ct:*".into());
        let a = assess(&[t], Some("1"));
        assert!(a.candidates.is_empty());
        assert!(
            a.rejected[0].contains("in account 999999999999"),
            "{:?}",
            a.rejected
        );
    }

    #[test]
    fn good_trail_is_a_candidate() {
        let a = assess_here(&[trail("main")]);
        assert_eq!(a.candidates.len(), 1);
        assert_eq!(a.candidates[0].log_group.name, "ct");
        assert!(a.rejected.is_empty());
    }

    #[test]
    fn every_broken_link_is_named() {
        let mut t = trail("t");
        t.is_multi_region = false;
        t.status = Observed::Ok(TrailStatus {
            is_logging: false,
            latest_cloudwatch_logs_delivery_error: None,
        });
        let a = assess_here(&[t]);
        assert!(a.candidates.is_empty());
        assert!(
            a.rejected[0].contains("not multi-region and is not logging"),
            "{:?}",
            a.rejected
        );

        let mut t = trail("t");
        t.selectors = Observed::Ok(EventSelectors::default());
        assert!(assess_here(&[t]).rejected[0].contains("no event selectors"));

        let mut t = trail("t");
        t.selectors = Observed::Ok(EventSelectors {
            basic: vec![BasicSelector {
                read_write_type: "WriteOnly".into(),
                include_management_events: true,
                exclude_management_event_sources: vec![],
                data_resources: vec![],
            }],
            advanced: vec![],
        });
        // Write-only selectors serve the controls about writes only.
        let a = assess_here(&[t]);
        assert!(a.rejected.is_empty(), "{:?}", a.rejected);
        let writes = EventScope {
            sources: vec!["iam.amazonaws.com".into()],
            read_only: vec![false],
        };
        assert!(a.candidates[0].delivers(&writes).is_ok());
        let e = a.candidates[0].delivers(&EventScope::all()).unwrap_err();
        assert!(e.contains("read management events"), "{e}");

        let mut t = trail("t");
        t.cloudwatch_logs_role_arn = None;
        assert!(assess_here(&[t]).rejected[0].contains("no delivery role"));

        let mut t = trail("t");
        t.status = Observed::Ok(TrailStatus {
            is_logging: true,
            latest_cloudwatch_logs_delivery_error: Some("AccessDenied".into()),
        });
        assert!(assess_here(&[t]).rejected[0].contains("delivery failing"));
    }

    #[test]
    fn failed_status_read_is_unknown_not_rejected() {
        let mut t = trail("t");
        t.status = Observed::Failed(CallFailure {
            call: "cloudtrail:GetTrailStatus".into(),
            region: "us-east-1".into(),
            resource: Some(t.arn.clone()),
            code: Some("AccessDeniedException".into()),
            message: "no".into(),
            detail: None,
        });
        let a = assess_here(&[t]);
        assert!(a.candidates.is_empty());
        assert!(a.rejected.is_empty());
        assert_eq!(a.unknown.len(), 1);
    }
}
