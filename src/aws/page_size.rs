//! The largest page each paginated read may ask for, so a large account is
//! read in the fewest calls. Each value is the maximum the service's API
//! reference gives for the parameter (and botocore's service model, where
//! it states one); a listing without a page-size parameter (SNS
//! `ListTopics`/`ListSubscriptions`, 100 a page; CloudTrail `ListTrails`)
//! is not here. The benchmark (`benches/large_account.rs`) computes the
//! fewest calls that can read an account from this same table.

/// CloudWatch Logs `DescribeMetricFilters` `limit`: 1–50.
pub const DESCRIBE_METRIC_FILTERS: i32 = 50;
/// CloudWatch Logs `DescribeLogGroups` `limit`: 1–50.
pub const DESCRIBE_LOG_GROUPS: i32 = 50;
/// CloudWatch `DescribeAlarms` `MaxRecords`: 1–100.
pub const DESCRIBE_ALARMS: i32 = 100;
/// KMS `ListKeys` `Limit`: 1–1000.
pub const LIST_KEYS: i32 = 1000;
/// KMS `ListAliases` `Limit`: "between 1 and 100, inclusive" (the API
/// reference; botocore's model allows 1000, which KMS does not honour).
pub const LIST_ALIASES: i32 = 100;
/// EC2 `DescribeSecurityGroups` `MaxResults`: 5–1000.
pub const DESCRIBE_SECURITY_GROUPS: i32 = 1000;
/// EC2 `DescribeSecurityGroupRules` `MaxResults`: 5–1000.
pub const DESCRIBE_SECURITY_GROUP_RULES: i32 = 1000;
/// EC2 `DescribeNetworkInterfaces` `MaxResults`: 5–1000.
pub const DESCRIBE_NETWORK_INTERFACES: i32 = 1000;
/// EC2 `DescribeNetworkAcls` `MaxResults`: 5–1000 (botocore's model).
pub const DESCRIBE_NETWORK_ACLS: i32 = 1000;
/// EC2 `DescribeInstances` `MaxResults`: 5–1000.
pub const DESCRIBE_INSTANCES: i32 = 1000;
/// EC2 `DescribeVpcs` `MaxResults`: 5–1000.
pub const DESCRIBE_VPCS: i32 = 1000;
/// EC2 `DescribeFlowLogs` `MaxResults`: up to 1000.
pub const DESCRIBE_FLOW_LOGS: i32 = 1000;
/// SNS `ListTopics` and `ListSubscriptions`: fixed pages of 100 (no
/// parameter).
pub const SNS_LISTING: i32 = 100;
