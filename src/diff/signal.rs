//! Whether one matching event really turns into an alarm: the filter must
//! publish a positive value, and the alarm on that metric must cross its
//! threshold on a single datapoint with its actions enabled.

use crate::kinds::{MetricAlarm, MetricFilter, TopicAttributes};

/// The value a filter publishes per matching event, if it is a constant that
/// can trip an alarm.
pub fn published_value(f: &MetricFilter) -> Result<f64, String> {
    let v = f.metric_value.trim();
    match v.parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(n),
        Ok(n) => Err(format!(
            "publishes {n} per event, which no alarm counts as activity"
        )),
        Err(_) => Err(format!(
            "publishes `{v}` per event, a value taken from the event that cis-fix cannot prove is positive"
        )),
    }
}

/// Is `a` an alarm on the metric `f` publishes (same name, namespace and
/// dimensions; CloudWatch keeps metrics with other dimensions apart)?
pub fn watches(a: &MetricAlarm, f: &MetricFilter) -> bool {
    a.metric_name.as_deref() == Some(f.metric_name.as_str())
        && a.namespace.as_deref() == Some(f.metric_namespace.as_str())
        && a.dimensions == f.dimensions
}

/// Does alarm `a` go into ALARM (and act) when one event publishes `value`?
pub fn fires_on_one_event(a: &MetricAlarm, f: &MetricFilter, value: f64) -> Result<(), String> {
    if a.uses_metric_math {
        return Err("watches a metric-math expression, which cis-fix cannot prove fires".into());
    }
    if !a.actions_enabled {
        return Err("has its actions disabled".into());
    }
    if let (Some(au), fu) = (&a.unit, &f.unit)
        && Some(au) != fu.as_ref()
    {
        return Err(format!(
            "expects unit {au} but the filter publishes {}",
            fu.as_deref().unwrap_or("no unit")
        ));
    }
    if let Some(es) = &a.extended_statistic {
        return Err(format!(
            "uses the percentile statistic {es}, which cis-fix cannot prove fires on one event"
        ));
    }
    // One event in a period: Sum, Maximum, Minimum and Average all equal the
    // published value; SampleCount is 1.
    let datapoint = match a.statistic.as_deref() {
        Some("Sum" | "Maximum" | "Minimum" | "Average") => value,
        Some("SampleCount") => 1.0,
        Some(other) => return Err(format!("uses the unknown statistic {other}")),
        None => return Err("has no statistic".into()),
    };
    let Some(threshold) = a.threshold else {
        return Err("has no static threshold (anomaly detection cannot be proven to fire)".into());
    };
    let over = match a.comparison_operator.as_deref() {
        Some("GreaterThanOrEqualToThreshold") => datapoint >= threshold,
        Some("GreaterThanThreshold") => datapoint > threshold,
        Some(op) => {
            return Err(format!(
                "compares with {op}, which does not fire when an event happens"
            ));
        }
        None => return Err("has no comparison operator".into()),
    };
    if !over {
        return Err(format!(
            "needs a datapoint {} {threshold} but one event gives {datapoint}",
            a.comparison_operator.as_deref().unwrap_or("?")
        ));
    }
    // Actions run on a state change: an alarm already in ALARM between
    // events (a default value that crosses the threshold, or missing data
    // treated as breaching) does not act when an event comes.
    match f.default_value {
        Some(d) if crosses(a, d) => {
            return Err(format!(
                "sits in ALARM between events (the filter publishes its default value {d} when nothing matches), so an event changes nothing and notifies nobody"
            ));
        }
        None if a.treat_missing_data.as_deref() == Some("breaching") => {
            return Err(
                "treats missing data as breaching, so it sits in ALARM between events and an event notifies nobody"
                    .into(),
            );
        }
        _ => {}
    }
    let needed = a.datapoints_to_alarm.or(a.evaluation_periods).unwrap_or(1);
    if needed > 1 {
        return Err(format!(
            "needs {needed} breaching datapoints, so a single event does not trigger it"
        ));
    }
    Ok(())
}

/// Whether a single datapoint `v` crosses the alarm's threshold.
fn crosses(a: &MetricAlarm, v: f64) -> bool {
    match (a.comparison_operator.as_deref(), a.threshold) {
        (Some("GreaterThanOrEqualToThreshold"), Some(t)) => v >= t,
        (Some("GreaterThanThreshold"), Some(t)) => v > t,
        _ => false,
    }
}

/// Why CloudWatch may not be able to publish to a topic.
#[derive(Debug, Clone, PartialEq)]
pub enum TopicProblem {
    /// It certainly cannot.
    Broken(String),
    /// cis-fix cannot tell.
    Unprovable(String),
}

/// Can a CloudWatch alarm publish to this topic? An encrypted topic needs a
/// customer managed key whose policy lets cloudwatch.amazonaws.com use it;
/// the AWS managed `alias/aws/sns` key never does.
pub fn topic_accepts_alarms(name: &str, attrs: &TopicAttributes) -> Result<(), TopicProblem> {
    match attrs.kms_master_key_id.as_deref() {
        None => Ok(()),
        Some(k) if k == "alias/aws/sns" || k.ends_with(":alias/aws/sns") => {
            Err(TopicProblem::Broken(format!(
                "topic `{name}` is encrypted with the AWS managed key alias/aws/sns, which CloudWatch alarms cannot use, so they never reach it"
            )))
        }
        Some(k) => Err(TopicProblem::Unprovable(format!(
            "topic `{name}` is encrypted with KMS key {k}; cis-fix cannot yet check that the key policy lets cloudwatch.amazonaws.com use it"
        ))),
    }
}

/// The SNS topics among an alarm's ALARM-state actions.
pub fn sns_actions(a: &MetricAlarm) -> impl Iterator<Item = &str> {
    a.alarm_actions
        .iter()
        .filter_map(|d| d.known())
        .filter(|arn| crate::arn::Arn::parse(arn).is_some_and(|a| a.service == "sns"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> MetricFilter {
        MetricFilter {
            log_group_name: "lg".into(),
            name: "f".into(),
            pattern: "{ $.a = 1 }".into(),
            metric_name: "m".into(),
            metric_namespace: "ns".into(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: Default::default(),
            unit: None,
        }
    }

    fn alarm() -> MetricAlarm {
        MetricAlarm {
            name: "a".into(),
            description: None,
            metric_name: Some("m".into()),
            namespace: Some("ns".into()),
            statistic: Some("Sum".into()),
            extended_statistic: None,
            dimensions: Default::default(),
            period: Some(300),
            unit: None,
            evaluation_periods: Some(1),
            datapoints_to_alarm: None,
            threshold: Some(1.0),
            comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
            treat_missing_data: None,
            actions_enabled: true,
            alarm_actions: vec!["arn:aws:sns:us-east-1:1:t".into()],
            ok_actions: vec![],
            insufficient_data_actions: vec![],
            uses_metric_math: false,
        }
    }

    #[test]
    fn benchmark_alarm_fires() {
        let f = filter();
        assert!(fires_on_one_event(&alarm(), &f, published_value(&f).expect("1")).is_ok());
        assert!(watches(&alarm(), &f));
        assert_eq!(sns_actions(&alarm()).count(), 1);
    }

    #[test]
    fn alarms_that_cannot_fire() {
        let f = filter();
        type Mutation = fn(&mut MetricAlarm);
        let cases: Vec<(Mutation, &str)> = vec![
            (|a| a.threshold = Some(5.0), "needs a datapoint"),
            (
                |a| a.comparison_operator = Some("LessThanThreshold".into()),
                "does not fire",
            ),
            (|a| a.actions_enabled = false, "disabled"),
            (|a| a.evaluation_periods = Some(3), "3 breaching"),
            (|a| a.uses_metric_math = true, "metric-math"),
            (|a| a.unit = Some("Seconds".into()), "unit"),
            (
                |a| a.treat_missing_data = Some("breaching".into()),
                "missing data as breaching",
            ),
        ];
        for (mutate, why) in cases {
            let mut a = alarm();
            mutate(&mut a);
            let err = fires_on_one_event(&a, &f, 1.0).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
        let mut a = alarm();
        a.threshold = Some(5.0);
        a.comparison_operator = Some("GreaterThanThreshold".into());
        assert!(fires_on_one_event(&a, &f, 6.0).is_ok());
        a.statistic = Some("SampleCount".into());
        a.threshold = Some(0.0);
        assert!(fires_on_one_event(&a, &f, 1.0).is_ok());
    }

    #[test]
    fn a_default_value_that_keeps_the_alarm_in_alarm_is_caught() {
        let mut f = filter();
        f.default_value = Some(1.0);
        let err = fires_on_one_event(&alarm(), &f, 1.0).unwrap_err();
        assert!(err.contains("default value 1"), "{err}");
        f.default_value = Some(0.0);
        assert!(fires_on_one_event(&alarm(), &f, 1.0).is_ok());
        // A default of 0 makes missing data impossible: breaching is harmless.
        let mut a = alarm();
        a.treat_missing_data = Some("breaching".into());
        assert!(fires_on_one_event(&a, &f, 1.0).is_ok());
    }

    #[test]
    fn encrypted_topics() {
        let plain = TopicAttributes::default();
        assert!(topic_accepts_alarms("t", &plain).is_ok());
        let aws_managed = TopicAttributes {
            kms_master_key_id: Some("alias/aws/sns".into()),
        };
        assert!(matches!(
            topic_accepts_alarms("t", &aws_managed),
            Err(TopicProblem::Broken(_))
        ));
        let cmk = TopicAttributes {
            kms_master_key_id: Some("arn:aws:kms:us-east-1:1:key/abc".into()),
        };
        assert!(matches!(
            topic_accepts_alarms("t", &cmk),
            Err(TopicProblem::Unprovable(_))
        ));
    }

    #[test]
    fn filter_values() {
        let mut f = filter();
        f.metric_value = "0".into();
        assert!(published_value(&f).is_err());
        f.metric_value = "$.bytes".into();
        assert!(published_value(&f).is_err());
        let mut a = alarm();
        a.dimensions.insert("k".into(), "v".into());
        assert!(!watches(&a, &filter()));
    }
}
