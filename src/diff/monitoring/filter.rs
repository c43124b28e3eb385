//! The metric filter of a control: reuse one that works, else fix cis-fix's
//! own (never narrowing what it caught), else create one.

use std::collections::BTreeMap;

use super::Outcome;
use super::chain::{describe_gap, firing_alarms};
use super::view::{Alarms, LogGroupView, coverage};
use crate::address::Address;
use crate::config::PatternMode;
use crate::desired::{DesiredMonitoring, MonitoringControl};
use crate::diff::builder::PlanBuilder;
use crate::diff::signal::published_value;
use crate::kinds::metric_filter::MAX_PER_LOG_GROUP;
use crate::kinds::{Kind, LogGroupRef, MetricFilter, Resource};
use crate::pattern::{self, Coverage};
use crate::plan::{Action, Change};

pub struct FilterStep {
    pub filter: MetricFilter,
    /// The address of the planned change, when there is one.
    pub change: Option<Address>,
    /// What is done, for the control's reason.
    pub step: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub fn plan(
    c: &MonitoringControl,
    d: &DesiredMonitoring,
    lg: &LogGroupRef,
    lgv: &LogGroupView<'_>,
    alarms: &Alarms<'_>,
    added: &mut usize,
    out: &mut PlanBuilder,
) -> Result<FilterStep, Outcome> {
    // Reuse a working filter, preferring one whose alarm already fires, then
    // cis-fix's own.
    let working = lgv.working(c);
    let reuse = working
        .iter()
        .find(|(f, v)| firing_alarms(alarms, f, *v).next().is_some())
        .or_else(|| working.iter().find(|(f, _)| f.name == c.filter_name))
        .or_else(|| working.first());
    if let Some((f, _)) = reuse {
        return Ok(FilterStep {
            filter: (*f).clone(),
            change: None,
            step: None,
        });
    }

    let ours = lgv.filters.iter().find(|(f, _)| f.name == c.filter_name);
    let (action, pattern_text, why) = match ours {
        Some((old, parsed)) => {
            let (text, why) = match (parsed, d.pattern_mode) {
                (Ok(p), PatternMode::Covering) if !p.is_json() && !p.matches_everything() => {
                    // No JSON pattern matches a superset of a term or
                    // space-delimited pattern: rewriting it would silently
                    // narrow what it caught.
                    return Err(Outcome::Blocked(
                        format!(
                            "filter `{}` has a non-JSON pattern that cis-fix cannot widen without losing what it catches; rename it, or set `patterns: exact` to replace it with the benchmark's pattern",
                            old.name
                        ),
                        None,
                    ));
                }
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
                (Err(e), PatternMode::Covering) => {
                    // cis-fix may be stricter than CloudWatch: it does not
                    // rewrite what it cannot read.
                    return Err(Outcome::Blocked(
                        format!(
                            "cis-fix cannot parse the pattern of filter `{}` ({e}), so it will not rewrite it and risk losing what it catches; fix or rename the filter, or set `patterns: exact` to replace it",
                            old.name
                        ),
                        None,
                    ));
                }
                (Err(e), PatternMode::Exact) => (
                    c.pattern_text.clone(),
                    format!(
                        "cis-fix cannot parse the pattern of filter `{}` ({e}); `patterns: exact` replaces it with the benchmark's text",
                        old.name
                    ),
                ),
            };
            (Action::Update, text, why)
        }
        None => (
            Action::Create,
            c.pattern_text.clone(),
            format!(
                "no metric filter on log group `{}` covers the benchmark pattern",
                lg.name
            ),
        ),
    };
    let len = pattern_text.chars().count();
    if len > pattern::MAX_PATTERN_LEN {
        return Err(Outcome::Blocked(
            format!(
                "{why}, but the pattern that would fix it is {len} characters, over CloudWatch's {} limit; set `patterns: exact` or shorten filter `{}`",
                pattern::MAX_PATTERN_LEN,
                c.filter_name
            ),
            None,
        ));
    }
    if action == Action::Create {
        if lgv.filters.len() + *added >= MAX_PER_LOG_GROUP {
            return Err(Outcome::Blocked(
                format!(
                    "{why}, and log group `{}` already has the maximum of {MAX_PER_LOG_GROUP} metric filters",
                    lg.name
                ),
                None,
            ));
        }
        *added += 1;
    }
    // An update fixes the pattern (and a value no alarm could count) but
    // keeps the metric, so alarms already watching it keep working.
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
        None => MetricFilter {
            log_group_name: lg.name.clone(),
            name: c.filter_name.clone(),
            pattern: pattern_text,
            metric_name: c.metric_name.clone(),
            metric_namespace: d.namespace.clone(),
            metric_value: d.metric_value.clone(),
            default_value: None,
            dimensions: BTreeMap::new(),
            unit: None,
        },
    };
    let address = Address::new(&out.at(&lg.region), MetricFilter::TYPE, &c.resource_name);
    let verb = if action == Action::Create {
        "creates"
    } else {
        "updates"
    };
    let step = format!("{verb} filter `{}`: {why}", after.name);
    out.change(Change {
        address: address.clone(),
        action,
        controls: vec![c.id.clone()],
        reason: why,
        before: ours.map(|(old, _)| Resource::MetricFilter((*old).clone())),
        after: Some(Resource::MetricFilter(after.clone())),
        depends_on: vec![],
    });
    Ok(FilterStep {
        filter: after,
        change: Some(address),
        step: Some(step),
    })
}
