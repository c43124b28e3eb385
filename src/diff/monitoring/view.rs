//! The monitoring resources of one region as the diff sees them: patterns
//! parsed once, read failures kept as facts.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use crate::arn::Arn;
use crate::desired::MonitoringControl;
use crate::diff::signal::{TopicProblem, published_value, topic_accepts_alarms, watches};
use crate::kinds::{
    MetricAlarm, MetricFilter, Subscription, Topic, TopicAttributes, metric_alarm, metric_filter,
    sns_subscription, sns_topic,
};
use crate::observed::CallFailure;
use crate::pattern::{self, Coverage, Pattern};
use crate::snapshot::{ReadKey, Snapshot};

/// Does filter pattern `p` catch every event one of the accepted benchmark
/// patterns catches? When none is covered, the verdict against the
/// remediation pattern (the first) explains why.
pub fn coverage(p: &Pattern, c: &MonitoringControl) -> Coverage {
    let mut first = None;
    for b in &c.accepted {
        let v = pattern::covers(p, b);
        if v == Coverage::Covered {
            return v;
        }
        first.get_or_insert(v);
    }
    first.unwrap_or(Coverage::CannotProve {
        reason: "the control has no pattern".into(),
    })
}

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

/// The region's alarms, indexed once by the metric they watch and by
/// name: matching a filter to its alarms is then a lookup, not a scan of
/// every alarm for every filter (quadratic on an account with thousands of
/// both).
pub struct Alarms<'a> {
    all: &'a [MetricAlarm],
    by_metric: HashMap<(&'a str, &'a str), Vec<&'a MetricAlarm>>,
    by_name: HashMap<&'a str, &'a MetricAlarm>,
}

impl<'a> Alarms<'a> {
    pub fn new(all: &'a [MetricAlarm]) -> Self {
        let mut by_metric: HashMap<(&str, &str), Vec<&MetricAlarm>> = HashMap::new();
        let mut by_name = HashMap::new();
        for a in all {
            if let (Some(ns), Some(m)) = (a.namespace.as_deref(), a.metric_name.as_deref()) {
                by_metric.entry((ns, m)).or_default().push(a);
            }
            // CloudWatch names are unique in a region; the first one read
            // wins, as a scan would find it.
            by_name.entry(a.name.as_str()).or_insert(a);
        }
        Alarms {
            all,
            by_metric,
            by_name,
        }
    }

    /// Every alarm, in the order read.
    pub fn all(&self) -> &'a [MetricAlarm] {
        self.all
    }

    /// The alarms that watch `f`'s metric (namespace, name and dimensions),
    /// in the order read.
    pub fn watching(&self, f: &MetricFilter) -> Vec<&'a MetricAlarm> {
        self.by_metric
            .get(&(f.metric_namespace.as_str(), f.metric_name.as_str()))
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|a| watches(a, f))
            .collect()
    }

    pub fn named(&self, name: &str) -> Option<&'a MetricAlarm> {
        self.by_name.get(name).copied()
    }
}

pub struct RegionView<'a> {
    pub region: &'a str,
    /// The account being judged, when known.
    pub account: Option<&'a str>,
    snap: &'a Snapshot,
    log_groups: BTreeMap<&'a str, Result<LogGroupView<'a>, CallFailure>>,
    alarms: Result<Alarms<'a>, CallFailure>,
    /// Subscriptions by topic ARN, in the order read.
    subscriptions: Result<HashMap<&'a str, Vec<&'a Subscription>>, CallFailure>,
}

impl<'a> RegionView<'a> {
    /// The view of `region`, with the filters of `log_groups` parsed;
    /// those in `new_groups` are made by the plan and have none yet.
    pub fn new(
        snap: &'a Snapshot,
        region: &'a str,
        log_groups: &[&'a str],
        new_groups: &[&'a str],
    ) -> Self {
        let mut views = BTreeMap::new();
        for name in log_groups {
            if new_groups.contains(name) {
                views.insert(
                    *name,
                    Ok(LogGroupView {
                        filters: vec![],
                        working: RefCell::default(),
                    }),
                );
                continue;
            }
            let view = snap
                .read(
                    metric_filter::READ,
                    region,
                    Some(name),
                    metric_filter::from_read,
                )
                .map(|fs| LogGroupView {
                    filters: fs
                        .iter()
                        .map(|f| (f, pattern::parse(&f.pattern).map_err(|e| e.to_string())))
                        .collect(),
                    working: RefCell::default(),
                });
            views.insert(*name, view);
        }
        let alarms = snap
            .read(metric_alarm::READ, region, None, metric_alarm::from_read)
            .map(Alarms::new);
        let subscriptions = snap
            .read(
                sns_subscription::READ,
                region,
                None,
                sns_subscription::from_read,
            )
            .map(|subs| {
                let mut by_topic: HashMap<&str, Vec<&Subscription>> = HashMap::new();
                for s in subs {
                    if let Some(t) = s.topic_arn.known() {
                        by_topic.entry(t).or_default().push(s);
                    }
                }
                by_topic
            });
        RegionView {
            region,
            account: snap.account_id.as_deref(),
            snap,
            log_groups: views,
            alarms,
            subscriptions,
        }
    }

    pub fn log_group(&self, name: &str) -> Result<&LogGroupView<'a>, CallFailure> {
        match self.log_groups.get(name) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err(ReadKey::new(metric_filter::READ, self.region, Some(name)).not_read()),
        }
    }

    pub fn alarms(&self) -> Result<&Alarms<'a>, CallFailure> {
        self.alarms.as_ref().map_err(Clone::clone)
    }

    pub fn topics(&self) -> Result<&'a [Topic], CallFailure> {
        self.snap
            .read(sns_topic::READ, self.region, None, sns_topic::from_read)
    }

    /// Whether the region's subscriptions were read (the failure if not).
    pub fn subscriptions(&self) -> Result<(), CallFailure> {
        self.subscriptions
            .as_ref()
            .map(|_| ())
            .map_err(Clone::clone)
    }

    pub fn subs_of(&self, topic_arn: &str) -> Result<Vec<&'a Subscription>, CallFailure> {
        match &self.subscriptions {
            Ok(by_topic) => Ok(by_topic.get(topic_arn).cloned().unwrap_or_default()),
            Err(e) => Err(e.clone()),
        }
    }

    /// A topic's attributes; `Ok(None)` when it does not exist.
    pub fn topic_attributes(&self, arn: &str) -> Result<Option<&'a TopicAttributes>, CallFailure> {
        self.snap.read(
            sns_topic::READ_ATTRIBUTES,
            self.region,
            Some(arn),
            sns_topic::attributes_from_read,
        )
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
        Arn::parse(topic_arn).is_none_or(|a| !a.is_in(self.region, self.account))
    }
}

pub use crate::arn::topic_name;
