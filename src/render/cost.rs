//! The plan's cost in words: one line after the summary, the same in the
//! terminal and in Markdown, saying what is counted, what is not (a volume
//! nobody knows) and where the prices come from.

use crate::cost::{Cost, CostItem, Item};

/// `Cost: this plan adds about $5.60 a month at list price (14 alarms, …;
/// flow-log ingestion: $0.50/GB, volume unknown). Prices of 2026-12-04,
/// us-east-1: plans/prices.yaml.`
pub fn line(c: &Cost) -> String {
    let source = format!(
        "Prices of {}, {}: {}.",
        c.prices_checked, c.price_region, c.price_table
    );
    if c.items.is_empty() {
        return format!("Cost: this plan adds nothing AWS charges for at list price. {source}");
    }
    let known: Vec<String> = c
        .items
        .iter()
        .filter(|i| !i.volume_unknown())
        .filter_map(known_part)
        .collect();
    let later: Vec<String> = c.items.iter().filter_map(rotation_part).collect();
    let unknown: Vec<String> = c
        .items
        .iter()
        .filter(|i| i.volume_unknown())
        .map(|i| format!("{}: {}, volume unknown", short(i.item), per(i)))
        .collect();
    let verb = if c.monthly.is_negative() {
        "saves"
    } else {
        "adds"
    };
    let mut text = format!(
        "Cost: this plan {verb} about {} a month at list price",
        c.monthly.abs()
    );
    let parts: Vec<String> = [known.join(", "), later.join(", "), unknown.join("; ")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    if !parts.is_empty() {
        text.push_str(&format!(" ({})", parts.join("; ")));
    }
    text.push_str(&format!(". {source}"));
    text
}

/// `14 alarms`, `2 alarms removed`, `flow-log ingestion: 6 GB at $0.50/GB`.
fn known_part(i: &CostItem) -> Option<String> {
    let n = i.count.unsigned_abs();
    let removed = if i.count < 0 { " removed" } else { "" };
    let (one, many) = match i.item {
        Item::Alarm => ("alarm", "alarms"),
        Item::CustomMetric => ("custom metric", "custom metrics"),
        Item::KmsKey => ("KMS key", "KMS keys"),
        // Said with what it adds later.
        Item::KmsKeyRotation => return None,
        _ => {
            let q = i.quantity.unwrap_or(0.0);
            return Some(format!(
                "{}: {} {} at {}",
                short(i.item),
                trim(q),
                i.unit,
                per(i)
            ));
        }
    };
    Some(format!("{n} {}{removed}", if n == 1 { one } else { many }))
}

/// `rotation of 2 KMS keys: +$4.00 a month after their first two rotations`.
fn rotation_part(i: &CostItem) -> Option<String> {
    let later = i.monthly_after_rotations?;
    let n = i.count.unsigned_abs();
    Some(format!(
        "rotation of {n} KMS key{}: +{later} a month once {} rotated twice",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it has" } else { "each has" }
    ))
}

/// What an item is called in the line.
fn short(item: Item) -> &'static str {
    match item {
        Item::Alarm => "alarms",
        Item::CustomMetric => "custom metrics",
        Item::KmsKey => "KMS keys",
        Item::KmsKeyRotation => "key rotation",
        Item::TrailCopy => "second copy of management events",
        Item::LogsIngestion => "CloudTrail to CloudWatch Logs",
        Item::LogsStorage => "log storage",
        Item::FlowLogsToCloudWatch => "flow-log ingestion",
        Item::FlowLogsToS3 => "flow-log delivery to S3",
    }
}

/// `$0.50/GB`, `$2.00 per 100,000 events`.
fn per(i: &CostItem) -> String {
    if i.unit.contains(' ') {
        format!("{} per {}", i.unit_price, i.unit)
    } else {
        format!("{}/{}", i.unit_price, i.unit)
    }
}

/// `6`, `2.5`: a quantity without trailing zeros.
fn trim(q: f64) -> String {
    let s = format!("{q:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::Usd;
    use crate::date::Date;

    fn item(item: Item, count: i64, unit: &str, price: f64, quantity: Option<f64>) -> CostItem {
        let unit_price = Usd::from_dollars(price).expect("price");
        CostItem {
            item,
            what: String::new(),
            count,
            unit: unit.into(),
            unit_price,
            quantity,
            monthly: quantity.map(|q| unit_price.times_f(q)),
            monthly_after_rotations: (item == Item::KmsKeyRotation)
                .then(|| unit_price.times(2 * count)),
        }
    }

    fn cost(items: Vec<CostItem>) -> Cost {
        let monthly = items.iter().filter_map(|i| i.monthly).sum();
        let later: Usd = items.iter().filter_map(|i| i.monthly_after_rotations).sum();
        Cost {
            currency: "USD".into(),
            prices_checked: Date::parse("2026-12-04").expect("date"),
            price_region: "us-east-1".into(),
            price_table: "plans/prices.yaml".into(),
            monthly,
            monthly_after_rotations: monthly + later,
            items,
        }
    }

    #[test]
    fn the_line_says_what_is_counted_what_is_not_and_where_prices_come_from() {
        let c = cost(vec![
            item(Item::Alarm, 14, "alarm-month", 0.10, Some(14.0)),
            item(Item::CustomMetric, 14, "metric-month", 0.30, Some(14.0)),
            item(Item::KmsKey, 1, "key-month", 1.0, Some(1.0)),
            item(Item::KmsKeyRotation, 1, "rotation-month", 1.0, Some(0.0)),
            item(Item::TrailCopy, 1, "100,000 events", 2.0, None),
            item(Item::FlowLogsToCloudWatch, 3, "GB", 0.5, None),
        ]);
        assert_eq!(
            line(&c),
            "Cost: this plan adds about $6.60 a month at list price (14 alarms, 14 custom metrics, 1 KMS key; rotation of 1 KMS key: +$2.00 a month once it has rotated twice; second copy of management events: $2.00 per 100,000 events, volume unknown; flow-log ingestion: $0.50/GB, volume unknown). Prices of 2026-12-04, us-east-1: plans/prices.yaml."
        );
    }

    #[test]
    fn removals_save_and_estimates_show_their_volume() {
        let c = cost(vec![
            item(Item::Alarm, -3, "alarm-month", 0.10, Some(-3.0)),
            item(Item::CustomMetric, -1, "metric-month", 0.30, Some(-1.0)),
        ]);
        assert_eq!(
            line(&c),
            "Cost: this plan saves about $0.60 a month at list price (3 alarms removed, 1 custom metric removed). Prices of 2026-12-04, us-east-1: plans/prices.yaml."
        );
        let c = cost(vec![item(Item::FlowLogsToS3, 2, "GB", 0.25, Some(5.0))]);
        assert_eq!(
            line(&c),
            "Cost: this plan adds about $1.25 a month at list price (flow-log delivery to S3: 5 GB at $0.25/GB). Prices of 2026-12-04, us-east-1: plans/prices.yaml."
        );
        assert_eq!(
            line(&cost(vec![])),
            "Cost: this plan adds nothing AWS charges for at list price. Prices of 2026-12-04, us-east-1: plans/prices.yaml."
        );
    }
}
