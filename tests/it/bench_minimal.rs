//! The large-account benchmark's count of the fewest calls that can read an
//! account (`benches/large_account/minimal.rs`), checked by hand on a small
//! account.

#[path = "../../benches/large_account/minimal.rs"]
mod minimal;

use minimal::{AccountSizes, PageSizes, RegionSizes, TrailRegion, UNPAGED, minimal, pages};

fn region(name: &str, keys: usize, vpcs: usize) -> RegionSizes {
    RegionSizes {
        name: name.into(),
        keys,
        rotating_keys: keys.saturating_sub(1),
        aliases: keys,
        vpcs,
        flow_logs: vpcs,
        security_groups: vpcs,
        security_group_rules: 2 * vpcs,
        network_interfaces: 0,
        network_acls: vpcs,
        instances: 0,
        unlogged_vpcs: 0,
    }
}

fn account() -> AccountSizes {
    AccountSizes {
        regions_named: true,
        trails: 1,
        trail_regions: vec![TrailRegion {
            name: "us-east-1".into(),
            filters_per_log_group: vec![100],
            alarms: 2015,
            topics: 21,
            subscriptions: 21,
            notified_topics: 21,
        }],
        regions: vec![region("us-east-1", 1076, 10), region("eu-west-1", 75, 10)],
        buckets: 1,
        absent_buckets: 1,
        roles_looked_up: 1,
        roles_existing: 0,
        wanted_keys: 0,
    }
}

fn calls(rows: &[minimal::Row], action: &str) -> Option<usize> {
    rows.iter().find(|r| r.action == action).map(|r| r.calls)
}

#[test]
fn pages_round_up_and_an_empty_listing_is_one_call() {
    assert_eq!(pages(0, 100), 1);
    assert_eq!(pages(1, 100), 1);
    assert_eq!(pages(100, 100), 1);
    assert_eq!(pages(101, 100), 2);
    assert_eq!(pages(2015, 100), 21);
    assert_eq!(pages(5000, UNPAGED), 1);
}

#[test]
fn each_listing_is_counted_in_pages_of_its_largest_size() {
    let rows = minimal(&account(), &PageSizes::aws());
    assert_eq!(calls(&rows, "cloudwatch:DescribeAlarms"), Some(21));
    assert_eq!(calls(&rows, "logs:DescribeMetricFilters"), Some(2));
    // 1,076 keys in one region take two ListKeys pages of 1,000, and
    // eleven ListAliases pages of 100; 75 keys one of each.
    assert_eq!(calls(&rows, "kms:ListKeys"), Some(3));
    assert_eq!(calls(&rows, "kms:ListAliases"), Some(12));
    assert_eq!(calls(&rows, "kms:DescribeKey"), Some(1076 + 75));
    assert_eq!(calls(&rows, "kms:GetKeyRotationStatus"), Some(1075 + 74));
    assert_eq!(calls(&rows, "sns:GetTopicAttributes"), Some(21));
    assert_eq!(calls(&rows, "ec2:DescribeVpcs"), Some(2));
    assert_eq!(calls(&rows, "ec2:GetEbsEncryptionByDefault"), Some(2));
    assert_eq!(calls(&rows, "s3:ListBucket"), Some(2));
    assert_eq!(calls(&rows, "s3:GetBucketPolicy"), Some(1));
    // Regions named: no DescribeRegions; no role exists: no policy read.
    assert_eq!(calls(&rows, "ec2:DescribeRegions"), None);
    assert_eq!(calls(&rows, "iam:GetRolePolicy"), None);
    assert_eq!(calls(&rows, "kms:GetKeyPolicy"), None);
    let alarms = rows
        .iter()
        .find(|r| r.action == "cloudwatch:DescribeAlarms")
        .map(|r| r.formula.clone());
    assert_eq!(alarms.as_deref(), Some("us-east-1 ceil(2015/100)"));
}

#[test]
fn moto_serves_filters_and_alarms_in_one_page() {
    let rows = minimal(&account(), &PageSizes::moto());
    assert_eq!(calls(&rows, "cloudwatch:DescribeAlarms"), Some(1));
    assert_eq!(calls(&rows, "logs:DescribeMetricFilters"), Some(1));
    assert_eq!(calls(&rows, "kms:ListKeys"), Some(3));
}

#[test]
fn unnamed_regions_and_unlogged_vpcs_add_their_lookups() {
    let mut a = account();
    a.regions_named = false;
    a.regions[1].unlogged_vpcs = 3;
    a.roles_looked_up = 2;
    a.roles_existing = 1;
    let rows = minimal(&a, &PageSizes::aws());
    assert_eq!(calls(&rows, "ec2:DescribeRegions"), Some(1));
    // cis-fix's log group in the trail region, its flow-log group in the
    // one region with an unlogged VPC.
    assert_eq!(calls(&rows, "logs:DescribeLogGroups"), Some(2));
    assert_eq!(calls(&rows, "iam:GetRole"), Some(2));
    assert_eq!(calls(&rows, "iam:GetRolePolicy"), Some(1));
}
