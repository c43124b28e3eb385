//! The price table (`plans/prices.yaml`), embedded like the benchmark: list
//! prices kept as data with their date and sources, so a price change is a
//! reviewed edit of one file, not of code.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;

/// An amount of US dollars, exact to a hundredth of a cent: sums over many
/// accounts stay exact, as floating point would not. Shown in JSON as a
/// number of dollars (`1.4`), in text as `$1.40`. Negative for what a plan
/// takes away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd(i64);

impl Usd {
    pub const ZERO: Usd = Usd(0);
    /// Hundredths of a cent in a dollar.
    const SCALE: i64 = 10_000;

    /// A price as written in dollars: `None` unless it is zero or more,
    /// finite, and has at most four decimal places.
    pub fn from_dollars(d: f64) -> Option<Usd> {
        let scaled = d * Self::SCALE as f64;
        let rounded = scaled.round();
        (d.is_finite() && d >= 0.0 && (scaled - rounded).abs() < 1e-6 && rounded < 1e15)
            .then_some(Usd(rounded as i64))
    }

    pub fn dollars(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }

    /// `n` of it (`n` negative for what is taken away).
    pub fn times(self, n: i64) -> Usd {
        Usd(self.0.saturating_mul(n))
    }

    /// `quantity` of it, to the nearest hundredth of a cent.
    pub fn times_f(self, quantity: f64) -> Usd {
        Usd((self.0 as f64 * quantity).round() as i64)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Usd {
        Usd(self.0.saturating_abs())
    }
}

impl std::ops::Add for Usd {
    type Output = Usd;
    fn add(self, o: Usd) -> Usd {
        Usd(self.0.saturating_add(o.0))
    }
}

impl std::iter::Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(it: I) -> Usd {
        it.fold(Usd::ZERO, |a, b| a + b)
    }
}

/// `$1.40`, `-$0.30`; a price finer than a cent keeps its digits
/// (`$0.0125`).
impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        let (whole, frac) = (v / Self::SCALE as u64, v % Self::SCALE as u64);
        if frac % 100 == 0 {
            write!(f, "{sign}${whole}.{:02}", frac / 100)
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{sign}${whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.dollars())
    }
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() || v.abs() >= 1e11 {
            return Err(serde::de::Error::custom(format!(
                "`{v}` is not an amount of dollars"
            )));
        }
        Ok(Usd((v * Self::SCALE as f64).round() as i64))
    }
}

/// What cis-fix prices: each a key of `items:` in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Item {
    #[serde(rename = "cloudwatch_alarm")]
    Alarm,
    #[serde(rename = "cloudwatch_custom_metric")]
    CustomMetric,
    #[serde(rename = "kms_key")]
    KmsKey,
    #[serde(rename = "kms_key_rotation")]
    KmsKeyRotation,
    #[serde(rename = "cloudtrail_management_events_copy")]
    TrailCopy,
    #[serde(rename = "cloudwatch_logs_ingestion")]
    LogsIngestion,
    #[serde(rename = "cloudwatch_logs_storage")]
    LogsStorage,
    #[serde(rename = "flow_logs_to_cloudwatch")]
    FlowLogsToCloudWatch,
    #[serde(rename = "flow_logs_to_s3")]
    FlowLogsToS3,
}

impl Item {
    pub const ALL: [Item; 9] = [
        Item::Alarm,
        Item::CustomMetric,
        Item::KmsKey,
        Item::KmsKeyRotation,
        Item::TrailCopy,
        Item::LogsIngestion,
        Item::LogsStorage,
        Item::FlowLogsToCloudWatch,
        Item::FlowLogsToS3,
    ];

    /// Its key in the table and the JSON plan.
    pub fn key(self) -> &'static str {
        match self {
            Item::Alarm => "cloudwatch_alarm",
            Item::CustomMetric => "cloudwatch_custom_metric",
            Item::KmsKey => "kms_key",
            Item::KmsKeyRotation => "kms_key_rotation",
            Item::TrailCopy => "cloudtrail_management_events_copy",
            Item::LogsIngestion => "cloudwatch_logs_ingestion",
            Item::LogsStorage => "cloudwatch_logs_storage",
            Item::FlowLogsToCloudWatch => "flow_logs_to_cloudwatch",
            Item::FlowLogsToS3 => "flow_logs_to_s3",
        }
    }

    pub fn from_key(key: &str) -> Option<Item> {
        Item::ALL.into_iter().find(|i| i.key() == key)
    }
}

/// The path the table is embedded from, as plans and errors name it.
pub const PATH: &str = "plans/prices.yaml";

const EMBEDDED: &str = include_str!("../plans/prices.yaml");

/// What a plan's cost is computed with: the price table and what the user
/// says of volumes cis-fix cannot know.
#[derive(Debug, Clone, PartialEq)]
pub struct CostBasis {
    pub prices: PriceTable,
    /// GB a month one new VPC flow log delivers (`cost.flow_logs_gb_per_month`).
    pub flow_logs_gb_per_month: Option<f64>,
}

/// One item's list price.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    /// What is charged, in words.
    pub what: String,
    /// What one `price` buys: `alarm-month`, `GB`.
    pub unit: String,
    pub price: Usd,
    /// The pricing page it was checked on.
    pub source: String,
    /// What the price leaves out or depends on.
    pub note: Option<String>,
}

/// Every item's price, checked on one day for one region.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    pub checked: Date,
    pub region: String,
    pub currency: String,
    /// What the table does not price, and why.
    pub notes: Vec<String>,
    prices: BTreeMap<Item, Price>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct PriceError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    checked: String,
    region: String,
    currency: String,
    items: BTreeMap<String, RawPrice>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    what: String,
    unit: String,
    price: f64,
    source: String,
    #[serde(default)]
    note: Option<String>,
}

impl PriceTable {
    /// The table cis-fix ships.
    pub fn embedded() -> Result<PriceTable, PriceError> {
        Self::parse(EMBEDDED, PATH)
    }

    /// Parses a table strictly: every item cis-fix prices, nothing else,
    /// each with a price in dollars of at most four decimal places.
    pub fn parse(text: &str, origin: &str) -> Result<PriceTable, PriceError> {
        let err = |line: usize, message: String| PriceError {
            path: origin.to_string(),
            line,
            message,
        };
        let raw: RawTable = serde_yaml::from_str(text)
            .map_err(|e| err(e.location().map(|l| l.line()).unwrap_or(1), e.to_string()))?;
        let checked = Date::parse(&raw.checked)
            .map_err(|m| err(line_of(text, "checked"), format!("checked: {m}")))?;
        if raw.currency != "USD" {
            return Err(err(
                line_of(text, "currency"),
                format!(
                    "currency: `{}`; cis-fix states list prices in USD",
                    raw.currency
                ),
            ));
        }
        let mut prices = BTreeMap::new();
        for (key, p) in raw.items {
            let line = line_of(text, &key);
            let item = Item::from_key(&key).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "items.{key}: not an item cis-fix prices (expected one of {})",
                        Item::ALL.map(Item::key).join(", ")
                    ),
                )
            })?;
            let price = Usd::from_dollars(p.price).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "items.{key}.price: `{}` is not a price in dollars (zero or more, at most four decimal places)",
                        p.price
                    ),
                )
            })?;
            if p.what.trim().is_empty() || p.unit.trim().is_empty() {
                return Err(err(
                    line,
                    format!("items.{key}: `what` and `unit` must say what is charged"),
                ));
            }
            if !p.source.starts_with("https://") {
                return Err(err(
                    line,
                    format!("items.{key}.source: the https:// address of the pricing page"),
                ));
            }
            prices.insert(
                item,
                Price {
                    what: p.what,
                    unit: p.unit,
                    price,
                    source: p.source,
                    note: p.note,
                },
            );
        }
        if let Some(missing) = Item::ALL.iter().find(|i| !prices.contains_key(i)) {
            return Err(err(
                line_of(text, "items"),
                format!("items: `{}` has no price", missing.key()),
            ));
        }
        Ok(PriceTable {
            checked,
            region: raw.region,
            currency: raw.currency,
            notes: raw.notes,
            prices,
        })
    }

    pub fn get(&self, item: Item) -> &Price {
        // `parse` refuses a table without every item, and the table is only
        // made by `parse`.
        &self.prices[&item]
    }

    pub fn items(&self) -> impl Iterator<Item = Item> + '_ {
        self.prices.keys().copied()
    }
}

/// The first line (1-based) where `key:` starts a line's text.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{key}:")))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_loads_and_prices_every_item() {
        let t = PriceTable::embedded().expect("plans/prices.yaml loads");
        assert_eq!(t.region, "us-east-1");
        let priced: Vec<Item> = t.items().collect();
        assert_eq!(priced, Item::ALL.to_vec(), "every used item is priced");
        assert_eq!(
            t.get(Item::Alarm).price,
            Usd::from_dollars(0.10).expect("price")
        );
        assert_eq!(
            t.get(Item::KmsKey).price,
            Usd::from_dollars(1.0).expect("price")
        );
    }

    #[test]
    fn a_bad_table_is_an_error_naming_file_line_and_field() {
        let good = EMBEDDED;
        let unknown = good.replace("  kms_key:\n", "  kms_keys:\n");
        let e = PriceTable::parse(&unknown, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.yaml:"), "{e}");
        assert!(e.contains("items.kms_keys: not an item"), "{e}");
        let line: usize = e
            .split(':')
            .nth(1)
            .and_then(|l| l.parse().ok())
            .expect("line");
        assert!(
            unknown
                .lines()
                .nth(line - 1)
                .expect("line")
                .contains("kms_keys:"),
            "{e}"
        );

        let missing = good.replace("  kms_key:\n", "  # kms_key:\n").replace(
            "    what: KMS customer managed key\n    unit: key-month\n    price: 1.00\n    source: https://aws.amazon.com/kms/pricing/\n",
            "",
        );
        let e = PriceTable::parse(&missing, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("items: `kms_key` has no price"), "{e}");

        let bad_price = good.replace("price: 0.10", "price: 0.123456");
        let e = PriceTable::parse(&bad_price, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("items.cloudwatch_alarm.price"), "{e}");

        let negative = good.replace("price: 0.10", "price: -1");
        assert!(PriceTable::parse(&negative, "p.yaml").is_err());

        let extra = good.replace("currency: USD", "currency: USD\ncolour: blue");
        let e = PriceTable::parse(&extra, "p.yaml").unwrap_err().to_string();
        assert!(e.contains("unknown field `colour`"), "{e}");

        let date = good.replace("checked: 2026-12-04", "checked: 4 Dec 2026");
        let e = PriceTable::parse(&date, "p.yaml").unwrap_err().to_string();
        assert!(e.contains("checked:"), "{e}");
    }
}
