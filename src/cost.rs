//! What a plan adds to the monthly AWS bill, at list price: counted from the
//! plan's changes (by kind and action) and priced from `plans/prices.yaml`.
//! Pure: the few facts a change alone cannot tell (does a metric already
//! exist, does another trail already log management events) come from the
//! snapshot the plan was made from.
//!
//! Where the volume decides the price (log ingestion and storage, a second
//! copy of management events) the item states the unit price and leaves its
//! monthly amount unknown, rather than invent a number; the user may give a
//! flow-log volume in cis-fix.yaml (`cost.flow_logs_gb_per_month`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::kinds::{CloudTrail, EventSelectors, ReadData, Resource, flow_log, metric_filter};
use crate::observed::Observed;
use crate::plan::{Action, Change};
pub use crate::prices::{CostBasis, Item, PriceTable, Usd};
use crate::snapshot::Snapshot;

/// The cost of one plan (one account), or the sum of several
/// ([`Cost::sum`]): the JSON plan's `cost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// Always `USD`.
    pub currency: String,
    /// The day the prices were checked (the oldest, in a sum).
    pub prices_checked: Date,
    /// The region whose list prices these are.
    pub price_region: String,
    /// Where the prices are kept: `plans/prices.yaml`.
    pub price_table: String,
    /// What the plan adds a month: the sum of the items whose amount is
    /// known (negative when it takes away more than it adds).
    pub monthly: Usd,
    /// What it adds a month once every key whose rotation it turns on has
    /// rotated twice: `monthly` plus the rotation items' later amounts.
    pub monthly_after_rotations: Usd,
    /// Each priced item the plan adds (or takes away), in the table's order.
    pub items: Vec<CostItem>,
}

/// One kind of charge the plan adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostItem {
    pub item: Item,
    /// What is charged, in words (from the price table).
    pub what: String,
    /// How many resources of the plan it counts: alarms, metrics, keys,
    /// trails, log groups or flow logs; negative when the plan takes them
    /// away.
    pub count: i64,
    /// What one `unit_price` buys: `alarm-month`, `GB`, `100,000 events`.
    pub unit: String,
    pub unit_price: Usd,
    /// Units a month, when known (`count` for a resource billed by the
    /// month, `count` × the configured GB for flow logs); `null` when the
    /// volume is unknown.
    pub quantity: Option<f64>,
    /// `quantity` × `unit_price`; `null` when the volume is unknown, so the
    /// item is not in `monthly`.
    pub monthly: Option<Usd>,
    /// Only on `kms_key_rotation`: what it adds a month once each key has
    /// rotated twice (nothing before the first rotation, nothing more
    /// after the second).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_after_rotations: Option<Usd>,
}

impl CostItem {
    /// Whether the plan's volume of it is unknown.
    pub fn volume_unknown(&self) -> bool {
        self.monthly.is_none()
    }
}

/// A custom metric: region, namespace, name (dimensions are not used by
/// cis-fix's filters, and a metric with other dimensions is another metric
/// only for filters that set them, which cis-fix never writes).
type MetricKey = (String, String, String);
/// A filter publishing it: log group and filter name.
type Publisher = (String, String);

/// What the snapshot says that the changes alone cannot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Every metric published by a filter the account has, and by which.
    publishers: BTreeMap<MetricKey, BTreeSet<Publisher>>,
    /// Trails (by name) already logging management events.
    trails_logging_management: BTreeSet<String>,
}

impl Facts {
    pub fn of(snap: &Snapshot) -> Facts {
        let mut facts = Facts::default();
        for (key, read) in &snap.reads {
            if key.call != metric_filter::READ {
                continue;
            }
            if let Observed::Ok(ReadData::MetricFilters(filters)) = read {
                for f in filters {
                    facts
                        .publishers
                        .entry(metric_of(&key.region, f))
                        .or_default()
                        .insert((f.log_group_name.clone(), f.name.clone()));
                }
            }
        }
        if let Ok(trails) = snap.trails() {
            for t in trails {
                let logging = matches!(&t.status, Observed::Ok(s) if s.is_logging);
                let management = matches!(&t.selectors, Observed::Ok(s) if logs_management(s));
                if logging && management {
                    facts.trails_logging_management.insert(t.name.clone());
                }
            }
        }
        facts
    }
}

fn metric_of(region: &str, f: &crate::kinds::MetricFilter) -> MetricKey {
    (
        region.to_string(),
        f.metric_namespace.clone(),
        f.metric_name.clone(),
    )
}

/// Whether selectors deliver any management event (a second trail is
/// charged for every one it copies).
fn logs_management(s: &EventSelectors) -> bool {
    s.basic.iter().any(|b| b.include_management_events)
        || s.advanced.iter().any(|a| {
            a.field_selectors
                .iter()
                .any(|f| f.field == "eventCategory" && f.equals.iter().any(|v| v == "Management"))
        })
}

fn trail_logs_management(t: &CloudTrail) -> bool {
    t.enable_logging && logs_management(&t.event_selectors)
}

/// The cost of `changes` (a plan's, what `apply` will do).
pub fn estimate(changes: &[Change], facts: &Facts, basis: &CostBasis) -> Cost {
    let mut counts: BTreeMap<Item, i64> = BTreeMap::new();
    let mut add = |item: Item, n: i64| *counts.entry(item).or_default() += n;
    let mut publishers = facts.publishers.clone();
    for c in changes {
        let region = &c.address.location.region;
        match (c.before.as_ref(), c.after.as_ref()) {
            (_, Some(Resource::MetricAlarm(_))) | (Some(Resource::MetricAlarm(_)), None) => {
                match c.action {
                    Action::Create => add(Item::Alarm, 1),
                    Action::Delete => add(Item::Alarm, -1),
                    Action::Update | Action::Replace => {}
                }
            }
            (before, after)
                if matches!(before, Some(Resource::MetricFilter(_)))
                    || matches!(after, Some(Resource::MetricFilter(_))) =>
            {
                if let Some(Resource::MetricFilter(f)) = before
                    && let Some(p) = publishers.get_mut(&metric_of(region, f))
                {
                    p.remove(&(f.log_group_name.clone(), f.name.clone()));
                }
                if let Some(Resource::MetricFilter(f)) = after {
                    publishers
                        .entry(metric_of(region, f))
                        .or_default()
                        .insert((f.log_group_name.clone(), f.name.clone()));
                }
            }
            (_, Some(Resource::KmsKey(k))) if c.action == Action::Create => {
                add(Item::KmsKey, 1);
                if k.enable_key_rotation {
                    add(Item::KmsKeyRotation, 1);
                }
            }
            (Some(Resource::KmsKey(before)), Some(Resource::KmsKey(after)))
                if after.enable_key_rotation && !before.enable_key_rotation =>
            {
                add(Item::KmsKeyRotation, 1);
            }
            (before, Some(Resource::KmsKeyRotation(after))) => {
                let was_on =
                    matches!(before, Some(Resource::KmsKeyRotation(b)) if b.enable_key_rotation);
                if after.enable_key_rotation && !was_on {
                    add(Item::KmsKeyRotation, 1);
                }
            }
            (before, Some(Resource::CloudTrail(after))) => {
                let before = match before {
                    Some(Resource::CloudTrail(b)) => Some(b),
                    _ => None,
                };
                let copied_before = before.is_some_and(trail_logs_management);
                let another_logs = facts
                    .trails_logging_management
                    .iter()
                    .any(|n| n != &after.name);
                if trail_logs_management(after) && !copied_before && another_logs {
                    add(Item::TrailCopy, 1);
                }
                let delivered_before =
                    before.is_some_and(|b| b.cloud_watch_logs_group_arn.is_some());
                if after.cloud_watch_logs_group_arn.is_some() && !delivered_before {
                    add(Item::LogsIngestion, 1);
                }
            }
            (_, Some(Resource::LogGroup(_))) if c.action == Action::Create => {
                add(Item::LogsStorage, 1);
            }
            (_, Some(Resource::FlowLog(f))) if c.action == Action::Create => {
                if f.log_destination_type == flow_log::TO_S3 {
                    add(Item::FlowLogsToS3, 1);
                } else {
                    add(Item::FlowLogsToCloudWatch, 1);
                }
            }
            _ => {}
        }
    }
    let live = |m: &BTreeMap<MetricKey, BTreeSet<Publisher>>| -> BTreeSet<MetricKey> {
        m.iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    };
    let (was, will) = (live(&facts.publishers), live(&publishers));
    let metrics = will.difference(&was).count() as i64 - was.difference(&will).count() as i64;
    counts.insert(Item::CustomMetric, metrics);

    let items: Vec<CostItem> = Item::ALL
        .into_iter()
        .filter_map(|item| {
            let count = counts.get(&item).copied().unwrap_or(0);
            (count != 0).then(|| priced(item, count, basis))
        })
        .collect();
    Cost::of_items(&basis.prices, items)
}

/// One item at the table's price.
fn priced(item: Item, count: i64, basis: &CostBasis) -> CostItem {
    let p = basis.prices.get(item);
    let quantity = match item {
        Item::Alarm | Item::CustomMetric | Item::KmsKey => Some(count as f64),
        // Nothing is charged before the first rotation, a year on.
        Item::KmsKeyRotation => Some(0.0),
        Item::FlowLogsToCloudWatch | Item::FlowLogsToS3 => {
            basis.flow_logs_gb_per_month.map(|gb| count as f64 * gb)
        }
        Item::TrailCopy | Item::LogsIngestion | Item::LogsStorage => None,
    };
    CostItem {
        item,
        what: p.what.clone(),
        count,
        unit: p.unit.clone(),
        unit_price: p.price,
        quantity,
        monthly: quantity.map(|q| p.price.times_f(q)),
        // AWS charges a key's first and second rotations, none after.
        monthly_after_rotations: (item == Item::KmsKeyRotation).then(|| p.price.times(2 * count)),
    }
}

impl Cost {
    fn of_items(prices: &PriceTable, items: Vec<CostItem>) -> Cost {
        Cost {
            currency: prices.currency.clone(),
            prices_checked: prices.checked,
            price_region: prices.region.clone(),
            price_table: crate::prices::PATH.to_string(),
            monthly: Usd::ZERO,
            monthly_after_rotations: Usd::ZERO,
            items,
        }
        .totalled()
    }

    fn totalled(mut self) -> Cost {
        self.monthly = self.items.iter().filter_map(|i| i.monthly).sum();
        self.monthly_after_rotations = self.monthly
            + self
                .items
                .iter()
                .filter_map(|i| i.monthly_after_rotations)
                .sum();
        self
    }

    /// Whether `monthly` and `monthly_after_rotations` are the sums of the
    /// items (a plan file that was edited may not be).
    pub fn adds_up(&self) -> bool {
        self.clone().totalled() == *self
    }

    /// Several plans' costs as one (an organization's accounts): counts,
    /// quantities and amounts added item by item; an item whose volume is
    /// unknown in some plans and known in others is kept as two items, so
    /// the known total stays exact. The price date is the oldest of them.
    /// `None` for no costs at all.
    pub fn sum(costs: &[Cost]) -> Option<Cost> {
        let first = costs.first()?;
        let mut items: BTreeMap<(Item, bool), CostItem> = BTreeMap::new();
        for item in costs.iter().flat_map(|c| &c.items) {
            match items.get_mut(&(item.item, item.volume_unknown())) {
                Some(s) => {
                    s.count += item.count;
                    s.quantity = s.quantity.zip(item.quantity).map(|(a, b)| a + b);
                    s.monthly = s.monthly.zip(item.monthly).map(|(a, b)| a + b);
                    s.monthly_after_rotations =
                        match (s.monthly_after_rotations, item.monthly_after_rotations) {
                            (None, None) => None,
                            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
                        };
                }
                None => {
                    items.insert((item.item, item.volume_unknown()), item.clone());
                }
            }
        }
        Some(
            Cost {
                currency: first.currency.clone(),
                prices_checked: costs
                    .iter()
                    .map(|c| c.prices_checked)
                    .min()
                    .unwrap_or(first.prices_checked),
                price_region: first.price_region.clone(),
                price_table: first.price_table.clone(),
                monthly: Usd::ZERO,
                monthly_after_rotations: Usd::ZERO,
                items: items.into_values().filter(|i| i.count != 0).collect(),
            }
            .totalled(),
        )
    }
}

#[cfg(test)]
mod tests;
