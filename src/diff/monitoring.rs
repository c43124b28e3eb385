//! The monitoring controls: metric filter → alarm → SNS topic → confirmed
//! subscription, on a log group a qualifying trail delivers to. A control is
//! compliant only when every link is proven; otherwise the smallest set of
//! changes that completes the chain is planned, reusing what works.

use std::collections::BTreeMap;

use super::builder::PlanBuilder;
use super::signal::{fires_on_one_event, published_value, sns_actions, watches};
use super::trail::Candidate;
use crate::config::PatternMode;
use crate::desired::{DesiredMonitoring, MonitoringControl};
use crate::pattern::{self, Coverage, Pattern};
use crate::plan::{Action, Change, ControlStatus, Resource, Severity};
use crate::resources::{
    Deferred, LogGroupRef, MetricAlarm, MetricFilter, Subscription, Topic,
    protocol_needs_confirmation,
};
use crate::snapshot::{Observed, ReadFailure, RegionSnapshot, Snapshot};

/// AWS's fixed quota of metric filters per log group.
const MAX_FILTERS_PER_LOG_GROUP: usize = 100;
/// AWS's limit on actions per alarm state.
const MAX_ALARM_ACTIONS: usize = 5;

/// A log group's filters with their patterns parsed once.
struct LogGroupView<'a> {
    filters: Vec<(&'a MetricFilter, Result<Pattern, String>)>,
}

/// The monitoring resources of one region, read failures kept as facts.
struct RegionView<'a> {
    region: &'a str,
    snap: Option<&'a RegionSnapshot>,
    log_groups: BTreeMap<&'a str, Result<LogGroupView<'a>, ReadFailure>>,
}

impl<'a> RegionView<'a> {
    fn new(region: &'a str, snap: Option<&'a RegionSnapshot>) -> Self {
        let mut log_groups = BTreeMap::new();
        if let Some(s) = snap {
            for (name, obs) in &s.metric_filters {
                let view = match obs {
                    Observed::Ok(fs) => Ok(LogGroupView {
                        filters: fs
                            .iter()
                            .map(|f| (f, pattern::parse(&f.pattern).map_err(|e| e.to_string())))
                            .collect(),
                    }),
                    Observed::Failed(e) => Err(e.clone()),
                };
                log_groups.insert(name.as_str(), view);
            }
        }
        RegionView {
            region,
            snap,
            log_groups,
        }
    }

    fn not_read(&self, what: &str, resource: Option<&str>) -> ReadFailure {
        ReadFailure {
            call: what.to_string(),
            region: self.region.to_string(),
            resource: resource.map(str::to_string),
            code: None,
            message: "not in the snapshot (this region was not read)".into(),
        }
    }

    fn log_group(&self, name: &str) -> Result<&LogGroupView<'a>, ReadFailure> {
        match self.log_groups.get(name) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err(self.not_read("logs:DescribeMetricFilters", Some(name))),
        }
    }

    fn alarms(&self) -> Result<&'a [MetricAlarm], ReadFailure> {
        match self.snap.map(|s| &s.alarms) {
            Some(Observed::Ok(v)) => Ok(v),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(self.not_read("cloudwatch:DescribeAlarms", None)),
        }
    }

    fn topics(&self) -> Result<&'a [Topic], ReadFailure> {
        match self.snap.map(|s| &s.topics) {
            Some(Observed::Ok(v)) => Ok(v),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(self.not_read("sns:ListTopics", None)),
        }
    }

    fn subscriptions(&self) -> Result<&'a [Subscription], ReadFailure> {
        match self.snap.map(|s| &s.subscriptions) {
            Some(Observed::Ok(v)) => Ok(v),
            Some(Observed::Failed(e)) => Err(e.clone()),
            None => Err(self.not_read("sns:ListSubscriptions", None)),
        }
    }

    fn subs_of(&self, topic_arn: &str) -> Result<Vec<&'a Subscription>, ReadFailure> {
        Ok(self
            .subscriptions()?
            .iter()
            .filter(|s| s.topic_arn.known() == Some(topic_arn))
            .collect())
    }
}

/// Does filter pattern `p` catch every event one of the accepted benchmark
/// patterns catches? Returns the verdict against the remediation pattern when
/// none is covered, for the reason text.
fn coverage(p: &Pattern, c: &MonitoringControl) -> Coverage {
    let mut first = None;
    for b in &c.accepted {
        let v = pattern::covers(p, b);
        if v == Coverage::Covered {
            return v;
        }
        first.get_or_insert(v);
    }
    first.unwrap_or(Coverage::Covered)
}

/// A complete, working chain for a control, described for the plan.
struct Chain {
    description: String,
    topic_arn: String,
}

enum Found {
    Chain(Chain),
    Nothing,
    Unknown(ReadFailure),
}

fn find_chain(c: &MonitoringControl, lg: &LogGroupRef, view: &RegionView<'_>) -> Found {
    let lgv = match view.log_group(&lg.name) {
        Ok(v) => v,
        Err(e) => return Found::Unknown(e),
    };
    for (f, p) in &lgv.filters {
        let Ok(p) = p else { continue };
        if coverage(p, c) != Coverage::Covered {
            continue;
        }
        let Ok(value) = published_value(f) else {
            continue;
        };
        let alarms = match view.alarms() {
            Ok(a) => a,
            Err(e) => return Found::Unknown(e),
        };
        for a in alarms.iter().filter(|a| watches(a, f)) {
            if fires_on_one_event(a, f, value).is_err() {
                continue;
            }
            for topic in sns_actions(a) {
                let subs = match view.subs_of(topic) {
                    Ok(s) => s,
                    Err(e) => return Found::Unknown(e),
                };
                let confirmed = subs.iter().filter(|s| s.is_confirmed()).count();
                if confirmed > 0 {
                    return Found::Chain(Chain {
                        description: format!(
                            "filter `{}` on log group `{}` → alarm `{}` → topic `{}` ({confirmed} confirmed subscription{})",
                            f.name,
                            lg.name,
                            a.name,
                            topic_name(topic),
                            if confirmed == 1 { "" } else { "s" }
                        ),
                        topic_arn: topic.to_string(),
                    });
                }
            }
        }
    }
    Found::Nothing
}

fn topic_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// The topic new and updated alarms notify, and the changes it needs.
struct NotifyTopic {
    name: String,
    arn: Deferred,
    /// Set when the topic or a subscription is created: the dependants.
    topic_change: Option<String>,
    subscription_changes: Vec<String>,
    /// After the planned changes, does a person receive the alarm?
    delivery: Delivery,
}

enum Delivery {
    Confirmed,
    /// Subscriptions exist or will, but need a person to confirm.
    PendingConfirmation(String),
    /// Subscriptions that confirm themselves will be created.
    WillBeConfirmed,
    NoSubscriber,
}

pub(super) fn plan(
    d: &DesiredMonitoring,
    version: &str,
    snap: &Snapshot,
    candidates: &[Candidate],
    trails_unknown: &[ReadFailure],
    out: &mut PlanBuilder,
) {
    let mut views: BTreeMap<&str, RegionView<'_>> = BTreeMap::new();
    for c in candidates {
        let region = c.log_group.region.as_str();
        views
            .entry(region)
            .or_insert_with(|| RegionView::new(region, snap.regions.get(region)));
    }
    let view_of = |lg: &LogGroupRef| &views[lg.region.as_str()];

    // Which controls already hold, on any qualifying log group?
    let mut compliant: BTreeMap<&str, Chain> = BTreeMap::new();
    let mut unknown: BTreeMap<&str, ReadFailure> = BTreeMap::new();
    let mut held_per_lg: BTreeMap<&LogGroupRef, usize> = BTreeMap::new();
    for c in &d.controls {
        for cand in candidates {
            match find_chain(c, &cand.log_group, view_of(&cand.log_group)) {
                Found::Chain(chain) => {
                    *held_per_lg.entry(&cand.log_group).or_default() += 1;
                    compliant.entry(c.id.as_str()).or_insert(chain);
                }
                Found::Unknown(e) => {
                    unknown.entry(c.id.as_str()).or_insert(e);
                }
                Found::Nothing => {}
            }
        }
    }

    // Where new filters go: the trail the user named, else the log group
    // that already holds the most controls, else the first trail by name.
    let primary = d
        .preferred_trail
        .as_deref()
        .and_then(|t| candidates.iter().find(|c| c.trail == t))
        .or_else(|| {
            candidates.iter().max_by_key(|c| {
                (
                    held_per_lg.get(&c.log_group).copied().unwrap_or(0),
                    std::cmp::Reverse(&c.trail),
                )
            })
        });
    if let (Some(t), Some(p)) = (&d.preferred_trail, primary)
        && &p.trail != t
    {
        out.notice(
                Severity::Warning,
                format!("config names trail `{t}`, which does not qualify; new filters go to `{}` of trail `{}`", p.log_group, p.trail),
                vec![],
            );
    }

    let mut notify: Option<NotifyTopic> = None;
    let mut filters_added: BTreeMap<&LogGroupRef, usize> = BTreeMap::new();

    for c in &d.controls {
        if let Some(chain) = compliant.get(c.id.as_str()) {
            out.control(c, ControlStatus::Compliant, chain.description.clone());
            continue;
        }
        if let Some(e) = unknown.get(c.id.as_str()) {
            out.control(
                c,
                ControlStatus::Unknown,
                format!("cannot tell: {e}; nothing is planned for this control"),
            );
            continue;
        }
        if let Some(e) = trails_unknown.first() {
            out.control(
                c,
                ControlStatus::Unknown,
                format!("cannot tell: {e}; nothing is planned for this control"),
            );
            continue;
        }
        let Some(primary) = primary else {
            // No candidates: diff::plan reports the trail blocker.
            continue;
        };
        let view = view_of(&primary.log_group);
        match plan_control(
            c,
            d,
            version,
            primary,
            view,
            &compliant,
            &mut notify,
            &mut filters_added,
            out,
        ) {
            Ok((status, reason)) => out.control(c, status, reason),
            Err(Outcome::Unknown(e)) => out.control(
                c,
                ControlStatus::Unknown,
                format!("cannot tell: {e}; nothing is planned for this control"),
            ),
            Err(Outcome::Blocked(why)) => out.control(c, ControlStatus::Blocked, why),
        }
    }
}

enum Outcome {
    Unknown(ReadFailure),
    Blocked(String),
}

impl From<ReadFailure> for Outcome {
    fn from(e: ReadFailure) -> Self {
        Outcome::Unknown(e)
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_control<'v>(
    c: &MonitoringControl,
    d: &DesiredMonitoring,
    version: &str,
    primary: &'v Candidate,
    view: &RegionView<'_>,
    compliant: &BTreeMap<&str, Chain>,
    notify: &mut Option<NotifyTopic>,
    filters_added: &mut BTreeMap<&'v LogGroupRef, usize>,
    out: &mut PlanBuilder,
) -> Result<(ControlStatus, String), Outcome> {
    let lg = &primary.log_group;
    let lgv = view.log_group(&lg.name)?;
    let alarms = view.alarms()?;
    // Read everything the decision needs before deciding anything.
    view.topics()?;
    view.subscriptions()?;

    let mut steps: Vec<String> = Vec::new();
    let mut depends: Vec<String> = Vec::new();

    // 1. The filter: reuse one that covers the pattern and publishes a usable
    //    value (preferring one whose alarm already fires), else fix ours by
    //    name, else create ours.
    let working: Vec<(&MetricFilter, f64)> = lgv
        .filters
        .iter()
        .filter_map(|(f, p)| {
            let p = p.as_ref().ok()?;
            (coverage(p, c) == Coverage::Covered)
                .then(|| published_value(f).ok().map(|v| (*f, v)))
                .flatten()
        })
        .collect();
    let fires = |f: &MetricFilter, v: f64| {
        alarms
            .iter()
            .any(|a| watches(a, f) && fires_on_one_event(a, f, v).is_ok())
    };
    let chosen = working
        .iter()
        .find(|(f, v)| fires(f, *v))
        .or_else(|| working.iter().find(|(f, _)| f.name == c.filter_name))
        .or_else(|| working.first())
        .copied();
    let filter_address = format!("aws_cloudwatch_log_metric_filter.{}", c.resource_name);
    let filter: MetricFilter = match chosen {
        Some((f, _)) => f.clone(),
        None => {
            let desired_metric = |pattern: String| MetricFilter {
                log_group_name: lg.name.clone(),
                name: c.filter_name.clone(),
                pattern,
                metric_name: c.metric_name.clone(),
                metric_namespace: d.namespace.clone(),
                metric_value: d.metric_value.clone(),
                default_value: None,
                dimensions: BTreeMap::new(),
                unit: None,
            };
            let ours = lgv.filters.iter().find(|(f, _)| f.name == c.filter_name);
            let (action, before, pattern_text, why) = match ours {
                Some((old, parsed)) => {
                    let (text, why) = match (parsed, d.pattern_mode) {
                        (Ok(p), PatternMode::Covering) => match coverage(p, c) {
                            Coverage::Covered => (
                                old.pattern.clone(),
                                format!(
                                    "filter `{}` covers the pattern but {}",
                                    old.name,
                                    published_value(old).err().unwrap_or_default()
                                ),
                            ),
                            verdict => (
                                pattern::widen(p, &c.pattern).canonical(),
                                format!(
                                    "filter `{}` {}; the new pattern keeps everything the old one caught",
                                    old.name,
                                    describe_gap(&verdict)
                                ),
                            ),
                        },
                        (Ok(p), PatternMode::Exact) => (
                            c.pattern_text.clone(),
                            format!(
                                "filter `{}` {}; `patterns: exact` writes the benchmark's text",
                                old.name,
                                describe_gap(&coverage(p, c))
                            ),
                        ),
                        (Err(e), _) => (
                            c.pattern_text.clone(),
                            format!(
                                "filter `{}` has a pattern CloudWatch cannot parse ({e})",
                                old.name
                            ),
                        ),
                    };
                    (
                        Action::Update,
                        Some(Resource::MetricFilter((*old).clone())),
                        text,
                        why,
                    )
                }
                None => {
                    let near = closest_gap(lgv, c);
                    (
                        Action::Create,
                        None,
                        c.pattern_text.clone(),
                        format!(
                            "no metric filter on log group `{}` covers the benchmark pattern{near}",
                            lg.name
                        ),
                    )
                }
            };
            if pattern_text.chars().count() > pattern::MAX_PATTERN_LEN {
                return Err(Outcome::Blocked(format!(
                    "{why}, but the pattern that would fix it is {} characters, over CloudWatch's {} limit; set `patterns: exact` or shorten filter `{}`",
                    pattern_text.chars().count(),
                    pattern::MAX_PATTERN_LEN,
                    c.filter_name
                )));
            }
            if action == Action::Create {
                let added = filters_added.entry(lg).or_default();
                if lgv.filters.len() + *added >= MAX_FILTERS_PER_LOG_GROUP {
                    return Err(Outcome::Blocked(format!(
                        "{why}, and log group `{}` already has the maximum of {MAX_FILTERS_PER_LOG_GROUP} metric filters",
                        lg.name
                    )));
                }
                *added += 1;
            }
            // An update fixes the pattern (and a value no alarm could count)
            // but keeps the metric, so alarms already watching it keep working.
            let after = match ours {
                Some((old, _)) => MetricFilter {
                    pattern: pattern_text,
                    metric_value: if published_value(old).is_ok() {
                        old.metric_value.clone()
                    } else {
                        d.metric_value.clone()
                    },
                    ..(*old).clone()
                },
                None => desired_metric(pattern_text),
            };
            steps.push(format!(
                "{} filter `{}`: {why}",
                if action == Action::Create {
                    "creates"
                } else {
                    "updates"
                },
                after.name
            ));
            out.change(Change {
                address: filter_address.clone(),
                action,
                region: lg.region.clone(),
                controls: vec![c.id.clone()],
                reason: why,
                before,
                after: Resource::MetricFilter(after.clone()),
                depends_on: vec![],
            });
            depends.push(filter_address.clone());
            after
        }
    };

    // 2. The topic alarms notify (decided once for all controls).
    let topic = match notify {
        Some(t) => t,
        None => notify.insert(choose_topic(d, view, compliant, out)?),
    };

    // 3. The alarm: reuse one that fires and notifies the topic; else fix
    //    ours by name (keeping its other actions), else create ours.
    let value = published_value(&filter).unwrap_or(1.0);
    let on_metric: Vec<&MetricAlarm> = alarms.iter().filter(|a| watches(a, &filter)).collect();
    let notifies = |a: &MetricAlarm| a.alarm_actions.contains(&topic.arn);
    let reusable = on_metric
        .iter()
        .find(|a| fires_on_one_event(a, &filter, value).is_ok() && notifies(a));
    let alarm_address = format!("aws_cloudwatch_metric_alarm.{}", c.resource_name);
    if reusable.is_none() {
        let ours = alarms.iter().find(|a| a.name == c.alarm_name);
        let mut after = match ours {
            Some(old) => old.clone(),
            None => MetricAlarm {
                name: c.alarm_name.clone(),
                description: Some(format!(
                    "CIS AWS Foundations v{version} {}: {}",
                    c.id, c.title
                )),
                metric_name: None,
                namespace: None,
                statistic: None,
                extended_statistic: None,
                dimensions: BTreeMap::new(),
                period: None,
                unit: None,
                evaluation_periods: None,
                datapoints_to_alarm: None,
                threshold: None,
                comparison_operator: None,
                // Metric filters publish only on a match; without this the
                // alarm sits in INSUFFICIENT_DATA between events.
                treat_missing_data: Some("notBreaching".into()),
                actions_enabled: true,
                alarm_actions: vec![],
                ok_actions: vec![],
                insufficient_data_actions: vec![],
                uses_metric_math: false,
            },
        };
        after.metric_name = Some(filter.metric_name.clone());
        after.namespace = Some(filter.metric_namespace.clone());
        after.dimensions = filter.dimensions.clone();
        after.unit = filter.unit.clone();
        after.statistic = Some(d.alarm.statistic.clone());
        after.extended_statistic = None;
        after.period = Some(d.alarm.period);
        after.evaluation_periods = Some(d.alarm.evaluation_periods);
        after.datapoints_to_alarm = None;
        after.threshold = Some(d.alarm.threshold);
        after.comparison_operator = Some(d.alarm.comparison_operator.clone());
        after.actions_enabled = true;
        after.uses_metric_math = false;
        if !after.alarm_actions.contains(&topic.arn) {
            after.alarm_actions.push(topic.arn.clone());
        }
        if after.alarm_actions.len() > MAX_ALARM_ACTIONS {
            return Err(Outcome::Blocked(format!(
                "alarm `{}` already has {MAX_ALARM_ACTIONS} alarm actions, the AWS maximum, so topic `{}` cannot be added",
                after.name, topic.name
            )));
        }
        let why = match ours {
            Some(old) if !watches(old, &filter) => format!(
                "alarm `{}` does not watch metric {}/{}",
                old.name, filter.metric_namespace, filter.metric_name
            ),
            Some(old) => match fires_on_one_event(old, &filter, value) {
                Err(e) => format!("alarm `{}` {e}", old.name),
                Ok(()) => format!(
                    "alarm `{}` does not notify topic `{}`",
                    old.name, topic.name
                ),
            },
            None if on_metric.is_empty() => format!(
                "no alarm watches metric {}/{}",
                filter.metric_namespace, filter.metric_name
            ),
            None => {
                let whys: Vec<String> = on_metric
                    .iter()
                    .map(|a| match fires_on_one_event(a, &filter, value) {
                        Err(e) => format!("alarm `{}` {e}", a.name),
                        Ok(()) => {
                            format!("alarm `{}` does not notify topic `{}`", a.name, topic.name)
                        }
                    })
                    .collect();
                whys.join("; ")
            }
        };
        let mut deps: Vec<String> = depends.clone();
        if let Some(t) = &topic.topic_change {
            deps.push(t.clone());
        }
        steps.push(format!(
            "{} alarm `{}`: {why}",
            if ours.is_some() { "updates" } else { "creates" },
            after.name
        ));
        out.change(Change {
            address: alarm_address,
            action: if ours.is_some() {
                Action::Update
            } else {
                Action::Create
            },
            region: lg.region.clone(),
            controls: vec![c.id.clone()],
            reason: why,
            before: ours.cloned().map(Resource::MetricAlarm),
            after: Resource::MetricAlarm(after),
            depends_on: deps,
        });
    }

    // 4. Topic and subscriptions serve this control too.
    if let Some(t) = &topic.topic_change {
        out.serve(t, &c.id);
        steps.push(format!("creates topic `{}`", topic.name));
    }
    for s in &topic.subscription_changes {
        out.serve(s, &c.id);
    }
    match &topic.delivery {
        Delivery::Confirmed => {}
        Delivery::WillBeConfirmed => steps.push(format!("subscribes to topic `{}`", topic.name)),
        Delivery::PendingConfirmation(who) => {
            let lead = if steps.is_empty() {
                String::new()
            } else {
                format!("{}; ", steps.join("; "))
            };
            return Ok((
                ControlStatus::PendingConfirmation,
                format!(
                    "{lead}alarms reach nobody until {who} confirms the subscription to topic `{}`",
                    topic.name
                ),
            ));
        }
        Delivery::NoSubscriber => {
            return Err(Outcome::Blocked(format!(
                "topic `{}` has no confirmed subscription and none is configured: add sns.subscriptions to cis-fix.yaml",
                topic.name
            )));
        }
    }
    if steps.is_empty() {
        // Every link exists but find_chain did not see a chain: cannot happen
        // with a consistent snapshot; say so rather than claim compliance.
        return Err(Outcome::Blocked(
            "the chain looks complete but could not be proven".into(),
        ));
    }
    Ok((ControlStatus::WillFix, steps.join("; ")))
}

/// Picks the topic for alarms cis-fix creates or fixes, planning its creation
/// and the configured subscriptions.
fn choose_topic(
    d: &DesiredMonitoring,
    view: &RegionView<'_>,
    compliant: &BTreeMap<&str, Chain>,
    out: &mut PlanBuilder,
) -> Result<NotifyTopic, ReadFailure> {
    let topics = view.topics()?;
    let by_name = |name: &str| topics.iter().find(|t| t.name == name);
    // A topic that already notifies someone for these controls, in this region.
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for chain in compliant.values() {
        if chain.topic_arn.split(':').nth(3) == Some(view.region) {
            *used.entry(chain.topic_arn.as_str()).or_default() += 1;
        }
    }
    let reused = used
        .iter()
        .max_by_key(|(arn, n)| (**n, std::cmp::Reverse(**arn)))
        .and_then(|(arn, _)| topics.iter().find(|t| t.arn.known() == Some(arn)));
    let existing = match &d.topic {
        Some(name) => by_name(name),
        None => reused.or_else(|| by_name(&d.default_topic)),
    };
    let name = existing
        .map(|t| t.name.clone())
        .or_else(|| d.topic.clone())
        .unwrap_or_else(|| d.default_topic.clone());
    let address = format!("aws_sns_topic.{}", name.replace(['-', '.'], "_"));
    let (arn, topic_change) = match existing {
        Some(t) => (t.arn.clone(), None),
        None => {
            let arn = Deferred::after_apply(&address, "arn");
            out.change(Change {
                address: address.clone(),
                action: Action::Create,
                region: view.region.to_string(),
                controls: vec![],
                reason: format!("no SNS topic `{name}` exists for the alarms to notify"),
                before: None,
                after: Resource::Topic(Topic {
                    name: name.clone(),
                    arn: arn.clone(),
                }),
                depends_on: vec![],
            });
            (arn, Some(address.clone()))
        }
    };
    let existing_subs: Vec<&Subscription> = match arn.known() {
        Some(a) => view.subs_of(a)?,
        None => vec![],
    };
    let mut subscription_changes = Vec::new();
    let mut pending_who: Vec<String> = existing_subs
        .iter()
        .filter(|s| !s.is_confirmed())
        .map(|s| format!("{}:{}", s.protocol, s.endpoint))
        .collect();
    let mut self_confirming = false;
    for want in &d.subscriptions {
        let have = existing_subs.iter().any(|s| {
            s.protocol.eq_ignore_ascii_case(&want.protocol) && s.endpoint == want.endpoint
        });
        if have {
            continue;
        }
        let key = format!("{}:{}", want.protocol.to_ascii_lowercase(), want.endpoint);
        let sub_address = format!(
            "aws_sns_topic_subscription.{}[\"{key}\"]",
            address.trim_start_matches("aws_sns_topic.")
        );
        let needs = protocol_needs_confirmation(&want.protocol);
        if needs {
            pending_who.push(key.clone());
        } else {
            self_confirming = true;
        }
        out.change(Change {
            address: sub_address.clone(),
            action: Action::Create,
            region: view.region.to_string(),
            controls: vec![],
            reason: if needs {
                format!("{key} is configured but not subscribed; SNS will email a confirmation link that a person must follow")
            } else {
                format!("{key} is configured but not subscribed")
            },
            before: None,
            after: Resource::Subscription(Subscription {
                topic_arn: arn.clone(),
                protocol: want.protocol.to_ascii_lowercase(),
                endpoint: want.endpoint.clone(),
                arn: Deferred::after_apply(&sub_address, "arn"),
            }),
            depends_on: topic_change.iter().cloned().collect(),
        });
        subscription_changes.push(sub_address);
    }
    let delivery = if existing_subs.iter().any(|s| s.is_confirmed()) {
        Delivery::Confirmed
    } else if self_confirming {
        Delivery::WillBeConfirmed
    } else if !pending_who.is_empty() {
        Delivery::PendingConfirmation(pending_who.join(", "))
    } else {
        Delivery::NoSubscriber
    };
    Ok(NotifyTopic {
        name,
        arn,
        topic_change,
        subscription_changes,
        delivery,
    })
}

fn describe_gap(v: &Coverage) -> String {
    match v {
        Coverage::Covered => "covers the benchmark pattern".into(),
        Coverage::NotCovered { missing } => {
            let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
            let more = missing.len().saturating_sub(shown.len());
            format!(
                "would not fire on {}{}",
                shown.join(", nor on "),
                if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                }
            )
        }
        Coverage::CannotProve { reason } => {
            format!("cannot be proven to cover the benchmark pattern ({reason})")
        }
    }
}

/// Names our own filter's gap when it exists under another log group
/// candidate's rules; otherwise nothing, since an unrelated filter's "missing
/// terms" would only confuse.
fn closest_gap(lgv: &LogGroupView<'_>, c: &MonitoringControl) -> String {
    lgv.filters
        .iter()
        .filter(|(f, _)| f.metric_name == c.metric_name)
        .find_map(|(f, p)| {
            let v = coverage(p.as_ref().ok()?, c);
            (v != Coverage::Covered).then(|| {
                format!(
                    " (filter `{}` on metric {} {})",
                    f.name,
                    f.metric_name,
                    describe_gap(&v)
                )
            })
        })
        .unwrap_or_default()
}
