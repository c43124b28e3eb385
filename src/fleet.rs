//! Many accounts as one run: which accounts a worker takes (`--shard K/N`),
//! each account's outcome as one line of a table, the organization report
//! (`plan --organization --json`, docs/org-report.md) and the merge of the
//! reports of parallel workers (`report merge`). Pure: the fan-out that
//! fills a report lives in `org`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::cost::Cost;
use crate::format::{self, FileError, FileKind, FormatVersion};
use crate::jsonplan::JsonPlan;
use crate::observed::CallFailure;
use crate::plan::ControlStatus;

mod json_stream;
pub use json_stream::JsonStream;

/// 1.0: the first organization report; 1.1 adds `cost`, the accounts'
/// plans' costs added up.
pub const FILE: FileKind = FileKind {
    what: "organization report",
    version: FormatVersion::new(1, 1),
    remedy: "make the report again with this version of cis-fix",
    marker: "accounts",
    others: &[],
};

/// `--shard K/N`: the K-th of N workers (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("--shard: `{0}` is not K/N (e.g. 2/5: the second of five workers)")]
    Syntax(String),
    #[error("--shard: `{0}`: K must be from 1 to N, and N at least 1")]
    Range(String),
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, ShardError> {
        let (k, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| ShardError::Syntax(s.to_string()))?;
        let (k, n) = match (k.trim().parse::<u32>(), n.trim().parse::<u32>()) {
            (Ok(k), Ok(n)) => (k, n),
            _ => return Err(ShardError::Syntax(s.to_string())),
        };
        if n == 0 || k == 0 || k > n {
            return Err(ShardError::Range(s.to_string()));
        }
        Ok(Shard { index: k, count: n })
    }

    /// Whether this shard takes `account`. Each account falls in exactly
    /// one shard of N, decided by its id alone, so an account joining or
    /// leaving the organization moves no other account between workers.
    pub fn takes(&self, account: &str) -> bool {
        shard_of(account, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (1..=n) an account id falls in: FNV-1a (64-bit) of the id,
/// mod n. A fixed hash, not Rust's default (seeded per process), so every
/// worker, build and release agrees.
pub fn shard_of(account: &str, n: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.trim().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // n >= 1, and the remainder is below n, so it fits in u32.
    u32::try_from(h % u64::from(n.max(1))).unwrap_or(0) + 1
}

/// Where an account stands, worst first: `unknown` (something could not
/// be read or judged: the run exits 1), `changes` (apply has work),
/// `blocked` (a control needs a person), `compliant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Unknown,
    Changes,
    Blocked,
    Compliant,
}

impl AccountStatus {
    pub fn of(p: &JsonPlan) -> AccountStatus {
        let st = |s: ControlStatus| p.controls.iter().any(|c| c.status == s);
        if !p.failed_reads.is_empty() || st(ControlStatus::Unknown) {
            AccountStatus::Unknown
        } else if p.has_changes() {
            AccountStatus::Changes
        } else if p
            .controls
            .iter()
            .any(|c| !matches!(c.status, ControlStatus::Compliant | ControlStatus::Excepted))
        {
            AccountStatus::Blocked
        } else {
            AccountStatus::Compliant
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Unknown => "unknown",
            AccountStatus::Changes => "changes",
            AccountStatus::Blocked => "blocked",
            AccountStatus::Compliant => "compliant",
        }
    }
}

/// Monitoring controls of a member account proven by another account's
/// chain: the organization trail that carries the member's events, the log
/// group it delivers to, and which controls hold there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoveredBy {
    pub trail_arn: String,
    /// The account the log group, and so the chain, is in.
    pub account: String,
    /// `region/name` of the log group.
    pub log_group: String,
    pub controls: Vec<String>,
}

/// One account of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountReport {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: AccountStatus,
    /// The account's plan (docs/json-plan.md); absent when it could not be
    /// planned at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<JsonPlan>,
    /// Why it could not be planned (role missing, access denied,
    /// throttled): the call, and the account in `resource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallFailure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covered_by: Vec<CoveredBy>,
}

impl AccountReport {
    pub fn planned(
        account_id: &str,
        name: Option<String>,
        plan: JsonPlan,
        covered_by: Vec<CoveredBy>,
    ) -> AccountReport {
        AccountReport {
            account_id: account_id.to_string(),
            name,
            status: AccountStatus::of(&plan),
            plan: Some(plan),
            error: None,
            covered_by,
        }
    }

    pub fn failed(account_id: &str, name: Option<String>, error: CallFailure) -> AccountReport {
        AccountReport {
            account_id: account_id.to_string(),
            name,
            status: AccountStatus::Unknown,
            plan: None,
            error: Some(error),
            covered_by: vec![],
        }
    }

    /// Changes the account's plan lists.
    pub fn change_count(&self) -> usize {
        self.plan.as_ref().map_or(0, |p| p.changes.len())
    }
}

/// Totals over the accounts of a report (their cost is the report's
/// `cost`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSummary {
    pub accounts: usize,
    pub compliant: usize,
    pub changes: usize,
    pub blocked: usize,
    pub unknown: usize,
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl FleetSummary {
    pub fn of(accounts: &[AccountReport]) -> FleetSummary {
        let mut s = FleetSummary::default();
        for a in accounts {
            s.add(a);
        }
        s
    }

    /// Counts one more account.
    pub fn add(&mut self, a: &AccountReport) {
        self.accounts += 1;
        match a.status {
            AccountStatus::Compliant => self.compliant += 1,
            AccountStatus::Changes => self.changes += 1,
            AccountStatus::Blocked => self.blocked += 1,
            AccountStatus::Unknown => self.unknown += 1,
        }
        if let Some(p) = &a.plan {
            self.add += p.summary.add;
            self.change += p.summary.change;
            self.destroy += p.summary.destroy;
        }
    }

    /// Some account could not be planned or judged: exit 1.
    pub fn is_incomplete(&self) -> bool {
        self.unknown > 0
    }

    /// Some account has changes or needs a person: exit 2 with
    /// `--detailed-exitcode`.
    pub fn needs_action(&self) -> bool {
        self.changes > 0 || self.blocked > 0
    }
}

/// One account's line of the accounts table under the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub account_id: String,
    pub name: Option<String>,
    pub status: AccountStatus,
    /// Changes its plan lists; `None` when it could not be planned.
    pub changes: Option<usize>,
    /// Why it is unknown, or which organization trails cover it.
    pub note: String,
}

impl Row {
    pub fn of(a: &AccountReport) -> Row {
        let note = match (&a.error, &a.plan) {
            (Some(e), _) => e.to_string(),
            (None, Some(p)) if a.status == AccountStatus::Unknown => p
                .failed_reads
                .first()
                .map(|f| f.to_string())
                .or_else(|| {
                    p.controls
                        .iter()
                        .find(|c| c.status == ControlStatus::Unknown)
                        .map(|c| format!("{}: {}", c.id, c.reason))
                })
                .unwrap_or_default(),
            _ if !a.covered_by.is_empty() => format!(
                "monitoring covered by {}",
                a.covered_by
                    .iter()
                    .map(|c| c.trail_arn.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        Row {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            status: a.status,
            changes: a.plan.as_ref().map(|_| a.change_count()),
            note,
        }
    }
}

/// A report without its plans: the total line and the accounts table. A
/// run that writes each account out as it is planned keeps only this of
/// it (a row and its plan's cost), so what it holds stays small however
/// many accounts it has planned.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub organization_id: Option<String>,
    pub shard: Option<Shard>,
    pub summary: FleetSummary,
    costs: Vec<Cost>,
    pub rows: Vec<Row>,
}

impl Totals {
    pub fn new(organization_id: Option<String>, shard: Option<Shard>) -> Totals {
        Totals {
            organization_id,
            shard,
            summary: FleetSummary::default(),
            costs: vec![],
            rows: vec![],
        }
    }

    /// Counts one more account (given in account id order).
    pub fn add(&mut self, a: &AccountReport) {
        self.summary.add(a);
        self.costs
            .extend(a.plan.as_ref().and_then(|p| p.cost.clone()));
        self.rows.push(Row::of(a));
    }

    pub fn of(r: &OrgReport) -> Totals {
        let mut t = Totals::new(r.organization_id.clone(), r.shard);
        for a in &r.accounts {
            t.add(a);
        }
        t
    }

    /// The accounts' plans' costs added up, as the report's `cost`.
    pub fn cost(&self) -> Option<Cost> {
        Cost::sum(&self.costs)
    }
}

/// The organization report: every account of a run (or of a shard), in
/// account id order, with the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgReport {
    pub format_version: FormatVersion,
    pub benchmark: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_account: Option<String>,
    /// The shard this report covers; absent for the whole organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    pub accounts: Vec<AccountReport>,
    pub summary: FleetSummary,
    /// What the accounts' plans add a month at list price, added up; absent
    /// when no account's plan states a cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// The accounts' plans' costs, added up.
fn cost_of(accounts: &[AccountReport]) -> Option<Cost> {
    let costs: Vec<Cost> = accounts
        .iter()
        .filter_map(|a| a.plan.as_ref()?.cost.clone())
        .collect();
    Cost::sum(&costs)
}

impl OrgReport {
    pub fn new(
        benchmark: &str,
        organization_id: Option<String>,
        management_account: Option<String>,
        shard: Option<Shard>,
        mut accounts: Vec<AccountReport>,
    ) -> OrgReport {
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        OrgReport {
            format_version: FILE.version,
            benchmark: benchmark.to_string(),
            organization_id,
            management_account,
            shard,
            summary: FleetSummary::of(&accounts),
            cost: cost_of(&accounts),
            accounts,
        }
    }

    pub fn from_json(text: &str, origin: &str) -> Result<OrgReport, FileError> {
        let r: OrgReport = format::load(text, origin, FILE)?;
        if r.summary != FleetSummary::of(&r.accounts) || r.cost != cost_of(&r.accounts) {
            return Err(FileError::Other {
                path: origin.to_string(),
                message:
                    "the summary or cost does not add up the accounts the report lists (was it edited?)"
                        .into(),
            });
        }
        Ok(r)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Some account could not be planned or judged: exit 1.
    pub fn is_incomplete(&self) -> bool {
        self.summary.is_incomplete()
    }

    /// Some account has changes or needs a person: exit 2 with
    /// `--detailed-exitcode`.
    pub fn needs_action(&self) -> bool {
        self.summary.needs_action()
    }
}

/// One input of `report merge`: an organization report, or one account's
/// JSON plan (`plan --json`).
#[derive(Debug, Clone)]
// A merge holds one part per file given: boxing the report would only make
// every match say `Box`.
#[allow(clippy::large_enum_variant)]
pub enum Part {
    Report(OrgReport),
    Plan(Box<JsonPlan>),
}

impl Part {
    /// Reads either kind, told apart by their marker fields.
    pub fn from_json(text: &str, origin: &str) -> Result<Part, FileError> {
        let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| FileError::Parse {
            what: "organization report or plan",
            path: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if raw.get("accounts").is_some() {
            Ok(Part::Report(OrgReport::from_json(text, origin)?))
        } else if raw.get("changes").is_some() {
            Ok(Part::Plan(Box::new(JsonPlan::from_json(text, origin)?)))
        } else {
            Err(FileError::Other {
                path: origin.to_string(),
                message: "neither an organization report (`plan --organization --json`) nor a plan (`plan --json`)".into(),
            })
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error(
        "account {account} is in both {first} and {second}: the shards disagree on who plans it (were they run with the same N?); nothing was merged"
    )]
    Overlap {
        account: String,
        first: String,
        second: String,
    },
    #[error("{origin} has no account id (a plan from a snapshot without one); nothing was merged")]
    NoAccount { origin: String },
    #[error(
        "{first} is for benchmark {a} but {second} for {b}: reports of different versions do not add up; nothing was merged"
    )]
    Benchmark {
        a: String,
        first: String,
        b: String,
        second: String,
    },
    #[error("{first} is of organization {a} but {second} of {b}; nothing was merged")]
    Organization {
        a: String,
        first: String,
        b: String,
        second: String,
    },
    #[error(
        "{first} is shard {a} but {second} is shard {b}: shards of different splits do not add up; nothing was merged"
    )]
    Split {
        a: Shard,
        first: String,
        b: Shard,
        second: String,
    },
    #[error("shard {0} appears twice ({1} and {2}); nothing was merged")]
    ShardTwice(Shard, String, String),
    #[error(
        "{} missing: the merged report would leave out {} accounts; nothing was merged",
        missing(.0, *.1),
        if .0.len() == 1 { "its" } else { "their" }
    )]
    MissingShards(Vec<u32>, u32),
}

fn missing(shards: &[u32], n: u32) -> String {
    let list: Vec<String> = shards.iter().map(|k| format!("{k}/{n}")).collect();
    match list.as_slice() {
        [one] => format!("shard {one} is"),
        _ => format!("shards {} are", list.join(", ")),
    }
}

/// Merges `parts` (each with the file it came from) into one report. An
/// account in two parts, parts of different benchmark versions,
/// organizations or splits, or an incomplete set of shards are refused:
/// the merge must equal the report one worker would have made.
pub fn merge(parts: Vec<(String, Part)>) -> Result<OrgReport, MergeError> {
    let mut benchmark: Option<(String, String)> = None;
    let mut org: Option<(String, String)> = None;
    let mut management: Option<String> = None;
    let mut shards: BTreeMap<Shard, String> = BTreeMap::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut accounts = Vec::new();
    if parts.is_empty() {
        return Err(MergeError::Empty);
    }
    for (origin, part) in parts {
        let (bench, org_id, mgmt, shard, list) = match part {
            Part::Report(r) => (
                r.benchmark,
                r.organization_id,
                r.management_account,
                r.shard,
                r.accounts,
            ),
            Part::Plan(p) => {
                let p = *p;
                let Some(id) = p.account_id.clone() else {
                    return Err(MergeError::NoAccount { origin });
                };
                let bench = p.benchmark.clone();
                (
                    bench,
                    None,
                    None,
                    None,
                    vec![AccountReport::planned(&id, None, p, vec![])],
                )
            }
        };
        match &benchmark {
            Some((b, first)) if *b != bench => {
                return Err(MergeError::Benchmark {
                    a: b.clone(),
                    first: first.clone(),
                    b: bench,
                    second: origin,
                });
            }
            Some(_) => {}
            None => benchmark = Some((bench, origin.clone())),
        }
        if let Some(o) = org_id {
            match &org {
                Some((a, first)) if *a != o => {
                    return Err(MergeError::Organization {
                        a: a.clone(),
                        first: first.clone(),
                        b: o,
                        second: origin,
                    });
                }
                Some(_) => {}
                None => org = Some((o, origin.clone())),
            }
        }
        management = management.or(mgmt);
        if let Some(s) = shard {
            if let Some((other, first)) = shards.iter().next()
                && other.count != s.count
            {
                return Err(MergeError::Split {
                    a: *other,
                    first: first.clone(),
                    b: s,
                    second: origin,
                });
            }
            if let Some(first) = shards.get(&s) {
                return Err(MergeError::ShardTwice(s, first.clone(), origin));
            }
            shards.insert(s, origin.clone());
        }
        for a in list {
            if let Some(first) = owner.get(&a.account_id) {
                return Err(MergeError::Overlap {
                    account: a.account_id,
                    first: first.clone(),
                    second: origin,
                });
            }
            owner.insert(a.account_id.clone(), origin.clone());
            accounts.push(a);
        }
    }
    if let Some(n) = shards.keys().next().map(|s| s.count) {
        let have: BTreeSet<u32> = shards.keys().map(|s| s.index).collect();
        let missing: Vec<u32> = (1..=n).filter(|k| !have.contains(k)).collect();
        if !missing.is_empty() {
            return Err(MergeError::MissingShards(missing, n));
        }
    }
    Ok(OrgReport::new(
        &benchmark.map(|(b, _)| b).unwrap_or_default(),
        org.map(|(o, _)| o),
        management,
        None,
        accounts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Summary;

    fn ids(n: usize) -> Vec<String> {
        // Spread like real ids: 12 digits, not sequential.
        (0..n)
            .map(|i| {
                format!(
                    "{:012}",
                    (i as u64 * 7_919_393 + 100_000_000_007) % 1_000_000_000_000
                )
            })
            .collect()
    }

    #[test]
    fn every_account_falls_in_exactly_one_shard() {
        let all = ids(300);
        for n in [1u32, 2, 3, 7] {
            let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
            for k in 1..=n {
                let s = Shard { index: k, count: n };
                for a in all.iter().filter(|a| s.takes(a)) {
                    assert!(seen.insert(a, k).is_none(), "{a} in two shards of {n}");
                }
            }
            assert_eq!(seen.len(), all.len(), "N = {n}: every account once");
            if n > 1 {
                // Spread, not all in one: each shard gets a fair share.
                for k in 1..=n {
                    let got = seen.values().filter(|&&v| v == k).count();
                    assert!(
                        got * usize::try_from(n).unwrap() * 2 > all.len(),
                        "shard {k}/{n}: {got}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_shard_is_fixed_by_the_id_alone() {
        // Pinned: a change of hash would move every account between workers.
        assert_eq!(shard_of("123456789012", 1), 1);
        let a = shard_of("123456789012", 7);
        assert_eq!(shard_of(" 123456789012 ", 7), a);
        assert!((1..=7).contains(&a));
        assert_eq!(shard_of("", 3), shard_of("", 3));
    }

    #[test]
    fn shard_spelling() {
        assert_eq!(Shard::parse("2/5"), Ok(Shard { index: 2, count: 5 }));
        assert_eq!(Shard::parse(" 1 / 1 "), Ok(Shard { index: 1, count: 1 }));
        assert!(matches!(Shard::parse("0/3"), Err(ShardError::Range(_))));
        assert!(matches!(Shard::parse("4/3"), Err(ShardError::Range(_))));
        assert!(matches!(Shard::parse("1/0"), Err(ShardError::Range(_))));
        assert!(matches!(Shard::parse("2"), Err(ShardError::Syntax(_))));
        assert!(matches!(Shard::parse("a/b"), Err(ShardError::Syntax(_))));
        assert_eq!(Shard { index: 2, count: 5 }.to_string(), "2/5");
    }

    fn plan(account: &str, status: ControlStatus, changes: usize) -> JsonPlan {
        let text = serde_json::json!({
            "format_version": crate::jsonplan::FILE.version,
            "benchmark": "3.0.0",
            "benchmark_title": "CIS",
            "account_id": account,
            "notices": [],
            "changes": [],
            "controls": [{"id": "1.8", "title": "t", "status": status, "reason": "r"}],
            "summary": Summary::default(),
        });
        let mut p: JsonPlan = serde_json::from_value(text).expect("plan");
        for i in 0..changes {
            let c: crate::jsonplan::JsonChange = serde_json::from_value(serde_json::json!({
                "address": format!("{account}/us-east-1/aws_sns_topic.t{i}"),
                "region": "us-east-1", "type": "aws_sns_topic", "name": format!("t{i}"),
                "action": "create", "controls": ["1.8"], "reason": "r",
                "before": null, "after": {}
            }))
            .expect("change");
            p.changes.push(c);
        }
        p.summary = Summary::of_actions(p.changes.iter().map(|c| c.action));
        p
    }

    fn report_of(accounts: &[String], shard: Option<Shard>) -> OrgReport {
        let list = accounts
            .iter()
            .filter(|a| shard.is_none_or(|s| s.takes(a)))
            .enumerate()
            .map(|(i, a)| match i % 4 {
                0 => AccountReport::planned(
                    a,
                    Some(format!("n{a}")),
                    plan(a, ControlStatus::Compliant, 0),
                    vec![],
                ),
                1 => AccountReport::planned(a, None, plan(a, ControlStatus::WillFix, 2), vec![]),
                2 => AccountReport::planned(a, None, plan(a, ControlStatus::Blocked, 0), vec![]),
                _ => AccountReport::failed(
                    a,
                    None,
                    CallFailure {
                        call: "sts:AssumeRole".into(),
                        region: "us-east-1".into(),
                        resource: Some(format!("arn:aws:iam::{a}:role/cis-fix-plan")),
                        code: Some("AccessDenied".into()),
                        message: "denied".into(),
                        detail: None,
                    },
                ),
            })
            .collect();
        OrgReport::new(
            "3.0.0",
            Some("o-1".into()),
            Some("111111111111".into()),
            shard,
            list,
        )
    }

    /// A JSON plan with a cost: the example new account's, for `account`.
    fn costly_plan(account: &str) -> JsonPlan {
        let b = crate::benchmark::load("3.0.0").expect("benchmark");
        let d = crate::desired::build(&b, &crate::config::Config::default(), "c").expect("d");
        let snap = crate::snapshot::Snapshot::from_json(
            include_str!("../examples/accounts/new-account.json"),
            "new",
        )
        .expect("snapshot");
        let plan = crate::diff::plan(&d, &snap, crate::date::Date::from_days(20_000)).expect("p");
        let mut p = JsonPlan::from_plan(&plan);
        p.account_id = Some(account.into());
        p
    }

    #[test]
    fn the_report_adds_up_the_accounts_costs_and_refuses_an_edited_total() {
        let one = costly_plan("111111111111");
        let each = one.cost.clone().expect("the new account's plan has a cost");
        assert!(!each.monthly.is_negative());
        let r = OrgReport::new(
            "3.0.0",
            None,
            None,
            None,
            vec![
                AccountReport::planned("111111111111", None, one, vec![]),
                AccountReport::planned("222222222222", None, costly_plan("222222222222"), vec![]),
            ],
        );
        let total = r.cost.clone().expect("summed");
        assert_eq!(total, Cost::sum(&[each.clone(), each]).expect("sum"));
        let text = r.to_json();
        assert_eq!(JsonStream::whole(&r), text, "streamed, with a cost");
        assert_eq!(OrgReport::from_json(&text, "r.json").expect("loads"), r);
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        v["cost"]["items"] = serde_json::json!([]);
        let err = OrgReport::from_json(&v.to_string(), "r.json").unwrap_err();
        assert!(err.to_string().contains("cost"), "{err}");
        // No plan with a cost: no cost.
        assert_eq!(report_of(&ids(3), None).cost, None);
    }

    #[test]
    fn streamed_report_is_the_report_byte_for_byte() {
        for shard in [None, Shard::parse("1/2").ok()] {
            let mut r = report_of(&ids(8), shard);
            // A member covered by an organization trail, named in Unicode.
            r.accounts[0].covered_by.push(CoveredBy {
                trail_arn: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org".into(),
                account: "111111111111".into(),
                log_group: "us-east-1/org-trail".into(),
                controls: vec!["4.1".into(), "4.2".into()],
            });
            r.accounts[0].name = Some("Prüfung \u{2028} «prod»".into());
            assert_eq!(JsonStream::whole(&r), r.to_json(), "shard {shard:?}");
            assert_eq!(Totals::of(&r).summary, r.summary);
        }
    }

    #[test]
    fn status_and_summary() {
        let r = report_of(&ids(8), None);
        let s = r.summary;
        assert_eq!(
            (s.accounts, s.compliant, s.changes, s.blocked, s.unknown),
            (8, 2, 2, 2, 2)
        );
        assert_eq!(s.add, 4);
        assert!(r.is_incomplete() && r.needs_action());
        let back = OrgReport::from_json(&r.to_json(), "r.json").expect("round trip");
        assert_eq!(back, r);
        let mut edited = r.clone();
        edited.summary.compliant += 1;
        let e = OrgReport::from_json(&edited.to_json(), "r.json").unwrap_err();
        assert!(e.to_string().contains("was it edited"), "{e}");
    }

    #[test]
    fn merging_the_shards_of_a_split_gives_the_unsplit_report() {
        let all = ids(40);
        for n in [1u32, 2, 3, 7] {
            // The unsplit report with each account in the state its shard
            // gave it.
            let parts: Vec<(String, Part)> = (1..=n)
                .map(|k| {
                    let s = Shard { index: k, count: n };
                    (
                        format!("shard-{k}.json"),
                        Part::Report(report_of(&all, Some(s))),
                    )
                })
                .collect();
            let mut expected: Vec<AccountReport> = parts
                .iter()
                .flat_map(|(_, p)| match p {
                    Part::Report(r) => r.accounts.clone(),
                    Part::Plan(_) => vec![],
                })
                .collect();
            expected.sort_by(|a, b| a.account_id.cmp(&b.account_id));
            let unsplit = OrgReport::new(
                "3.0.0",
                Some("o-1".into()),
                Some("111111111111".into()),
                None,
                expected,
            );
            // In any order.
            let mut reversed = parts.clone();
            reversed.reverse();
            assert_eq!(merge(parts).expect("merge"), unsplit, "N = {n}");
            assert_eq!(merge(reversed).expect("merge"), unsplit, "N = {n}");
        }
    }

    #[test]
    fn merge_refuses_what_does_not_add_up() {
        let all = ids(20);
        let s = |k| Some(Shard { index: k, count: 3 });
        let part = |name: &str, r: OrgReport| (name.to_string(), Part::Report(r));
        // The same account in two inputs.
        let e = merge(vec![
            part("a.json", report_of(&all, s(1))),
            part("b.json", report_of(&all, None)),
        ])
        .unwrap_err();
        assert!(matches!(e, MergeError::Overlap { .. }), "{e}");
        assert!(
            e.to_string().contains("a.json") && e.to_string().contains("b.json"),
            "{e}"
        );
        // A shard missing.
        let e = merge(vec![
            part("a.json", report_of(&all, s(1))),
            part("c.json", report_of(&all, s(3))),
        ])
        .unwrap_err();
        assert_eq!(e, MergeError::MissingShards(vec![2], 3));
        assert_eq!(
            e.to_string(),
            "shard 2/3 is missing: the merged report would leave out its accounts; nothing was merged"
        );
        // Different splits.
        let e = merge(vec![
            part("a.json", report_of(&all, s(1))),
            part(
                "b.json",
                report_of(&all, Some(Shard { index: 2, count: 2 })),
            ),
        ])
        .unwrap_err();
        assert!(matches!(e, MergeError::Split { .. }), "{e}");
        // Different benchmark versions.
        let mut other = report_of(&ids(1), None);
        other.benchmark = "4.0.1".into();
        let e = merge(vec![
            part("a.json", report_of(&all, s(1))),
            part("x.json", other),
        ])
        .unwrap_err();
        assert!(matches!(e, MergeError::Benchmark { .. }), "{e}");
        assert!(merge(vec![]).is_err());
    }

    #[test]
    fn single_account_plans_merge_with_reports() {
        let p = plan("999999999999", ControlStatus::Compliant, 0);
        let r = report_of(&ids(3), None);
        let m = merge(vec![
            ("r.json".into(), Part::Report(r)),
            ("p.json".into(), Part::Plan(Box::new(p.clone()))),
        ])
        .expect("merge");
        assert_eq!(m.summary.accounts, 4);
        let again = merge(vec![
            ("p.json".into(), Part::Plan(Box::new(p.clone()))),
            ("q.json".into(), Part::Plan(Box::new(p))),
        ])
        .unwrap_err();
        assert!(matches!(again, MergeError::Overlap { .. }));
        let parsed = Part::from_json(&m.to_json(), "m.json").expect("report");
        assert!(matches!(parsed, Part::Report(_)));
        let e = Part::from_json("{\"x\": 1}", "z.json").unwrap_err();
        assert!(e.to_string().starts_with("z.json: neither"), "{e}");
    }
}
