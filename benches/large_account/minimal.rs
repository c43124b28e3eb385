//! The fewest API calls that can read an account for a plan, per action,
//! from the account's sizes and each listing's largest page: what
//! `cis-fix plan` is measured against. Pure; tested in
//! `tests/it/bench_minimal.rs`.
//!
//! What must be read is what the controls judge: the trail (status,
//! selectors, bucket), the monitoring chain in each region a trail
//! delivers to (its log groups' filters, every alarm, topic and
//! subscription, the attributes of each topic an alarm notifies), every
//! key of every planned region (described, and its rotation where rotation
//! applies), and every planned region's VPCs, flow logs, security groups
//! and their rules, network interfaces, network ACLs, instances and EBS
//! default; and cis-fix's own names, looked up so that what an interrupted
//! apply made is found again (its log group, delivery role and bucket).
//! An empty listing still takes one call.

/// The largest page of each listing. [`PageSizes::aws`] is AWS's;
/// [`PageSizes::moto`] is what moto serves (it returns every metric filter
/// and every alarm in one page, whatever the page size asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    pub metric_filters: usize,
    pub alarms: usize,
    pub sns: usize,
    pub keys: usize,
    pub aliases: usize,
    pub ec2: usize,
    pub network_acls: usize,
}

/// No page limit at all.
pub const UNPAGED: usize = usize::MAX;

impl PageSizes {
    pub fn aws() -> PageSizes {
        use cis_fix::aws::page_size as p;
        let n = |v: i32| usize::try_from(v).unwrap_or(1);
        PageSizes {
            metric_filters: n(p::DESCRIBE_METRIC_FILTERS),
            alarms: n(p::DESCRIBE_ALARMS),
            sns: n(p::SNS_LISTING),
            keys: n(p::LIST_KEYS),
            aliases: n(p::LIST_ALIASES),
            ec2: n(p::DESCRIBE_VPCS),
            network_acls: n(p::DESCRIBE_NETWORK_ACLS),
        }
    }

    pub fn moto() -> PageSizes {
        PageSizes {
            metric_filters: UNPAGED,
            alarms: UNPAGED,
            ..PageSizes::aws()
        }
    }
}

/// What one region holds, as counted through the SDK.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionSizes {
    pub name: String,
    /// Every key ListKeys lists, and those whose rotation the benchmark
    /// judges (customer managed, symmetric, not a replica).
    pub keys: usize,
    pub rotating_keys: usize,
    pub aliases: usize,
    pub vpcs: usize,
    pub flow_logs: usize,
    /// VPCs without an active flow log: cis-fix then looks for its
    /// flow-log group here (and its role, once for every region).
    pub unlogged_vpcs: usize,
    pub security_groups: usize,
    pub security_group_rules: usize,
    pub network_interfaces: usize,
    pub network_acls: usize,
    pub instances: usize,
}

/// A region a trail of the account lives in or delivers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailRegion {
    pub name: String,
    /// The metric filters of each log group a trail delivers to here.
    pub filters_per_log_group: Vec<usize>,
    pub alarms: usize,
    pub topics: usize,
    pub subscriptions: usize,
    /// Distinct topics of this account and region that an alarm notifies,
    /// with cis-fix's topic when it exists.
    pub notified_topics: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSizes {
    /// Whether the planned regions are named (`regions:`, `--region`), so
    /// no DescribeRegions is needed.
    pub regions_named: bool,
    pub trails: usize,
    pub trail_regions: Vec<TrailRegion>,
    /// The planned regions (keys are read in these and the trail regions).
    pub regions: Vec<RegionSizes>,
    /// Trail buckets that exist (each read in full), and cis-fix's own
    /// bucket name when no bucket has it (one HeadBucket finds it absent).
    pub buckets: usize,
    pub absent_buckets: usize,
    /// cis-fix's roles looked up (its trail delivery role, and its
    /// flow-log role when a VPC lacks a flow log), and how many exist
    /// (their inline policy is read too).
    pub roles_looked_up: usize,
    pub roles_existing: usize,
    /// Keys whose policy is read: cis-fix's own or the configured one.
    pub wanted_keys: usize,
}

/// One action's fewest calls, and how they were counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub action: &'static str,
    pub calls: usize,
    pub formula: String,
}

/// Calls to list `n` items at `page` a call; an empty listing is one call.
pub fn pages(n: usize, page: usize) -> usize {
    if page == UNPAGED || n == 0 {
        1
    } else {
        n.div_ceil(page.max(1))
    }
}

fn page_text(page: usize) -> String {
    if page == UNPAGED {
        "all".into()
    } else {
        page.to_string()
    }
}

/// Every action a plan of `a` must make, with its fewest calls.
pub fn minimal(a: &AccountSizes, p: &PageSizes) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row = |action: &'static str, calls: usize, formula: String| {
        rows.push(Row {
            action,
            calls,
            formula,
        })
    };
    let regions = a.regions.len();
    let sum = |f: &dyn Fn(&RegionSizes) -> usize| a.regions.iter().map(f).sum::<usize>();
    let tsum = |f: &dyn Fn(&TrailRegion) -> usize| a.trail_regions.iter().map(f).sum::<usize>();
    row("sts:GetCallerIdentity", 1, "1: the account's id".into());
    row(
        "iam:GetAccountPasswordPolicy",
        1,
        "1: the password policy".into(),
    );
    if !a.regions_named {
        row(
            "ec2:DescribeRegions",
            1,
            "1: the enabled regions (none when regions are named)".into(),
        );
    }
    row(
        "cloudtrail:DescribeTrails",
        1,
        "1: the trails seen from the home region".into(),
    );
    row(
        "cloudtrail:ListTrails",
        1,
        "1: single-region trails of other regions (no page-size parameter; 5 trails a region at most)".into(),
    );
    row(
        "cloudtrail:GetTrailStatus",
        a.trails,
        format!("1 per trail = {}", a.trails),
    );
    row(
        "cloudtrail:GetEventSelectors",
        a.trails,
        format!("1 per trail = {}", a.trails),
    );
    let filters: Vec<String> = a
        .trail_regions
        .iter()
        .flat_map(|t| t.filters_per_log_group.iter())
        .map(|n| format!("ceil({n}/{})", page_text(p.metric_filters)))
        .collect();
    row(
        "logs:DescribeMetricFilters",
        tsum(&|t| {
            t.filters_per_log_group
                .iter()
                .map(|n| pages(*n, p.metric_filters))
                .sum()
        }),
        format!("per trail log group: {}", filters.join(" + ")),
    );
    let unlogged_regions = a.regions.iter().filter(|r| r.unlogged_vpcs > 0).count();
    row(
        "logs:DescribeLogGroups",
        a.trail_regions.len() + unlogged_regions,
        format!(
            "cis-fix's log group in each trail region ({}) + its flow-log group where a VPC lacks a flow log ({unlogged_regions})",
            a.trail_regions.len()
        ),
    );
    row(
        "cloudwatch:DescribeAlarms",
        tsum(&|t| pages(t.alarms, p.alarms)),
        per_trail_region(a, |t| (t.alarms, p.alarms)),
    );
    row(
        "sns:ListTopics",
        tsum(&|t| pages(t.topics, p.sns)),
        per_trail_region(a, |t| (t.topics, p.sns)),
    );
    row(
        "sns:ListSubscriptions",
        tsum(&|t| pages(t.subscriptions, p.sns)),
        per_trail_region(a, |t| (t.subscriptions, p.sns)),
    );
    row(
        "sns:GetTopicAttributes",
        tsum(&|t| t.notified_topics),
        format!(
            "1 per topic an alarm notifies, with cis-fix's = {}",
            tsum(&|t| t.notified_topics)
        ),
    );
    // Keys are read in every planned region and every trail region.
    row(
        "kms:ListKeys",
        sum(&|r| pages(r.keys, p.keys)),
        per_region(a, |r| (r.keys, p.keys)),
    );
    row(
        "kms:ListAliases",
        sum(&|r| pages(r.aliases, p.aliases)),
        per_region(a, |r| (r.aliases, p.aliases)),
    );
    row(
        "kms:DescribeKey",
        sum(&|r| r.keys),
        format!("1 per key = {}", sum(&|r| r.keys)),
    );
    row(
        "kms:GetKeyRotationStatus",
        sum(&|r| r.rotating_keys),
        format!(
            "1 per customer managed symmetric key = {}",
            sum(&|r| r.rotating_keys)
        ),
    );
    if a.wanted_keys > 0 {
        row(
            "kms:GetKeyPolicy",
            a.wanted_keys,
            "1 per key cis-fix may use for the trail".into(),
        );
    }
    row(
        "iam:GetRole",
        a.roles_looked_up,
        "1 per cis-fix role looked up".into(),
    );
    if a.roles_existing > 0 {
        row(
            "iam:GetRolePolicy",
            a.roles_existing,
            "1 per cis-fix role that exists".into(),
        );
    }
    row(
        "s3:ListBucket",
        a.buckets + a.absent_buckets,
        "HeadBucket: 1 per trail bucket and per cis-fix bucket name looked up".into(),
    );
    // Every other read of a bucket cis-fix makes, once per trail bucket.
    for action in cis_fix::kinds::s3_bucket::READ_ACTIONS
        .iter()
        .filter(|a| **a != cis_fix::kinds::s3_bucket::READ)
    {
        row(action, a.buckets, "1 per trail bucket".into());
    }
    row(
        "ec2:DescribeVpcs",
        sum(&|r| pages(r.vpcs, p.ec2)),
        per_region(a, |r| (r.vpcs, p.ec2)),
    );
    row(
        "ec2:DescribeFlowLogs",
        sum(&|r| pages(r.flow_logs, p.ec2)),
        per_region(a, |r| (r.flow_logs, p.ec2)),
    );
    row(
        "ec2:DescribeSecurityGroups",
        sum(&|r| pages(r.security_groups, p.ec2)),
        per_region(a, |r| (r.security_groups, p.ec2)),
    );
    row(
        "ec2:DescribeSecurityGroupRules",
        sum(&|r| pages(r.security_group_rules, p.ec2)),
        per_region(a, |r| (r.security_group_rules, p.ec2)),
    );
    row(
        "ec2:DescribeNetworkInterfaces",
        sum(&|r| pages(r.network_interfaces, p.ec2)),
        per_region(a, |r| (r.network_interfaces, p.ec2)),
    );
    row(
        "ec2:DescribeNetworkAcls",
        sum(&|r| pages(r.network_acls, p.network_acls)),
        per_region(a, |r| (r.network_acls, p.network_acls)),
    );
    row(
        "ec2:DescribeInstances",
        sum(&|r| pages(r.instances, p.ec2)),
        per_region(a, |r| (r.instances, p.ec2)),
    );
    row(
        "ec2:GetEbsEncryptionByDefault",
        regions,
        format!("1 per planned region = {regions}"),
    );
    rows
}

fn per_region(a: &AccountSizes, f: impl Fn(&RegionSizes) -> (usize, usize)) -> String {
    a.regions
        .iter()
        .map(|r| {
            let (n, page) = f(r);
            format!("{} ceil({n}/{})", r.name, page_text(page))
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn per_trail_region(a: &AccountSizes, f: impl Fn(&TrailRegion) -> (usize, usize)) -> String {
    a.trail_regions
        .iter()
        .map(|t| {
            let (n, page) = f(t);
            format!("{} ceil({n}/{})", t.name, page_text(page))
        })
        .collect::<Vec<_>>()
        .join(" + ")
}
