//! EC2: the regions enabled for the account, which decide where the
//! regional controls are planned when the user names no regions.
//! DescribeRegions (without `AllRegions`) lists only the enabled ones.

use super::Limiter;
use super::clients::Aws;
use super::error::failure;
use crate::observed::Observed;
use crate::snapshot::REGIONS_READ;

/// The enabled regions, sorted. Asked in the home region.
pub async fn read_regions(aws: &Aws, limit: &Limiter) -> Observed<Vec<String>> {
    let home = aws.home_region();
    let got = {
        let _permit = limit.acquire().await;
        aws.ec2().describe_regions().send().await
    };
    match got {
        Ok(out) => Observed::Ok(enabled(
            home,
            out.regions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| Some((r.region_name?, r.opt_in_status))),
        )),
        Err(e) => Observed::Failed(failure(REGIONS_READ, home, None, &e)),
    }
}

/// The regions of the home region's partition that are not waiting to be
/// opted in, sorted. AWS lists only those; an emulator (moto) lists every
/// region it knows, of every partition, opted in or not, and credentials
/// of one partition cannot reach another's regions.
fn enabled(home: &str, regions: impl Iterator<Item = (String, Option<String>)>) -> Vec<String> {
    let mut out: Vec<String> = regions
        .filter(|(_, status)| status.as_deref() != Some("not-opted-in"))
        .map(|(name, _)| name)
        .filter(|name| partition(name) == partition(home))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The partition a region is in, told by its name.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enabled_regions_of_the_home_partition() {
        let listed = [
            ("us-east-1", Some("opt-in-not-required")),
            ("eu-west-1", Some("opt-in-not-required")),
            ("ap-east-1", Some("not-opted-in")),
            ("me-south-1", Some("opted-in")),
            ("us-gov-west-1", Some("opt-in-not-required")),
            ("cn-north-1", Some("opt-in-not-required")),
            ("eu-west-1", None),
        ]
        .map(|(n, s)| (n.to_string(), s.map(str::to_string)));
        assert_eq!(
            enabled("us-east-1", listed.clone().into_iter()),
            ["eu-west-1", "me-south-1", "us-east-1"]
        );
        assert_eq!(
            enabled("cn-northwest-1", listed.into_iter()),
            ["cn-north-1"]
        );
    }
}
