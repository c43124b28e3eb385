//! The monitoring resources of one region as the diff sees them: patterns
//! parsed once, read failures kept as facts.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::chain::coverage;
use crate::desired::MonitoringControl;
use crate::diff::signal::published_value;
use crate::pattern::Coverage;

use crate::diff::signal::{TopicProblem, topic_accepts_alarms};
use crate::pattern::{self, Pattern};
use crate::resources::{MetricAlarm, MetricFilter, Subscription, Topic, TopicAttributes};
use crate::snapshot::{CallFailure, Observed, RegionSnapshot};

/// A log group's filters with their patterns parsed once, and which of them
/// work for each control, judged once (coverage is the costly part).
pub struct LogGroupView<'a> {
    pub filters: Vec<(&'a MetricFilter, Result<Pattern, String>)>,
    working: RefCell<HashMap<String, Vec<(&'a MetricFilter, f64)>>>,
}

impl<'a> LogGroupView<'a> {
    /// Filters that cover the control's pattern and publish a usable value.
    pub fn working(&self, c: &MonitoringControl) -> Vec<(&'a MetricFilter, f64)> {
        if let Some(v) = self.working.borrow().get(&c.id) {
            return v.clone();
        }
        let v: Vec<(&'a MetricFilter, f64)> = self
            .filters
            .iter()
            .filter_map(|(f, p)| {
                let p = p.as_ref().ok()?;
                if c.witnesses.iter().any(|e| p.try_matches(e) == Some(false))
                    || coverage(p, c) != Coverage::Covered
                {
                    return None;
                }
                published_value(f).ok().map(|v| (*f, v))
            })
            .collect();
        self.working.borrow_mut().insert(c.id.clone(), v.clone());
        v
    }
}

pub struct RegionView<'a> {
    pub region: &'a str,
    /// The account being judged, when known.
    pub account: Option<&'a str>,
    snap: Option<&'a RegionSnapshot>,
    log_groups: BTreeMap<&'a str, Result<LogGroupView<'a>, CallFailure>>,
}

impl<'a> RegionView<'a> {
    pub fn new(
        region: &'a str,
        account: Option<&'a str>,
        snap: Option<&'a RegionSnapshot>,
    ) -> Self {
        let mut log_groups = BTreeMap::new();
        if let Some(s) = snap {
            for (name, obs) in &s.metric_filters {
                let view = match obs {
                    Observed::Ok(fs) => Ok(LogGroupView {
                        filters: fs
                            .iter()
                            .map(|f| (f, pattern::parse(&f.pattern).map_err(|e| e.to_string())))
                            .collect(),
                        working: RefCell::default(),
                    }),
                    Observed::Failed(e) => Err(e.clone()),
                };
                log_groups.insert(name.as_str(), view);
            }
        }
        RegionView {
            region,
            account,
            snap,
            log_groups,
        }
    }

    fn not_read(&self, what: &str, resource: Option<&str>) -> CallFailure {
        CallFailure {
            call: what.to_string(),
            region: self.region.to_string(),
            resource: resource.map(str::to_string),
            code: None,
            message: "not in the snapshot (this region was not read)".into(),
        }
    }

    pub fn log_group(&self, name: &str) -> Result<&LogGroupView<'a>, CallFailure> {
        match self.log_groups.get(name) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err(self.not_read("logs:DescribeMetricFilters", Some(name))),
        }
    }

    pub fn alarms(&self) -> Result<&'a [MetricAlarm], CallFailure> {
        match self.snap.map(|s| &s.alarms) {
            Some(Observed::Ok(v)) => Ok(v),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(self.not_read("cloudwatch:DescribeAlarms", None)),
        }
    }

    pub fn topics(&self) -> Result<&'a [Topic], CallFailure> {
        match self.snap.map(|s| &s.topics) {
            Some(Observed::Ok(v)) => Ok(v),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(self.not_read("sns:ListTopics", None)),
        }
    }

    pub fn subscriptions(&self) -> Result<&'a [Subscription], CallFailure> {
        match self.snap.map(|s| &s.subscriptions) {
            Some(Observed::Ok(v)) => Ok(v),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(self.not_read("sns:ListSubscriptions", None)),
        }
    }

    pub fn subs_of(&self, topic_arn: &str) -> Result<Vec<&'a Subscription>, CallFailure> {
        Ok(self
            .subscriptions()?
            .iter()
            .filter(|s| s.topic_arn.known() == Some(topic_arn))
            .collect())
    }

    /// A topic's attributes; `Ok(None)` when it does not exist.
    pub fn topic_attributes(&self, arn: &str) -> Result<Option<&'a TopicAttributes>, CallFailure> {
        match self.snap.and_then(|s| s.topic_attributes.get(arn)) {
            Some(Observed::Ok(a)) => Ok(a.as_ref()),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(CallFailure {
                call: "sns:GetTopicAttributes".into(),
                region: self.region.to_string(),
                resource: Some(arn.to_string()),
                code: None,
                message: "not in the snapshot (the topic's attributes were not read)".into(),
            }),
        }
    }

    /// Whether alarms can reach the topic, as far as its attributes tell.
    pub fn topic_problem(&self, arn: &str) -> Result<Option<TopicProblem>, CallFailure> {
        Ok(match self.topic_attributes(arn)? {
            None => Some(TopicProblem::Broken(format!("topic {arn} does not exist"))),
            Some(attrs) => topic_accepts_alarms(topic_name(arn), attrs).err(),
        })
    }

    /// A topic of another account or region: its subscriptions cannot be
    /// read from here, so whether anyone receives it cannot be proven.
    pub fn is_foreign(&self, topic_arn: &str) -> bool {
        let mut parts = topic_arn.split(':').skip(3);
        let (region, account) = (parts.next(), parts.next());
        region != Some(self.region) || self.account.is_some_and(|a| account != Some(a))
    }
}

pub fn topic_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}
