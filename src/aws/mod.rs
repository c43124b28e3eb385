//! The only module that speaks to AWS: SDK clients, readers (SDK → our
//! `kinds`, recorded in a `Snapshot`) and writers (a `kinds::WriteCall` →
//! SDK call). No SDK type crosses this module's public surface.

mod call_log;
mod clients;
mod cloudtrail;
mod cloudwatch;
mod ec2;
mod error;
mod flow_logs;
mod iam;
mod iam_role;
mod kms;
mod logs;
pub mod objects;
pub mod organizations;
pub mod page_size;
pub mod permissions;
mod s3;
mod sns;
mod sts;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::{Semaphore, SemaphorePermit};

pub use clients::{Aws, ConnectError, ConnectOptions};

use crate::address::GLOBAL;
use crate::arn::Arn;
use crate::kinds::{
    ReadData, WriteCall, ebs_encryption, kms_key, log_group, metric_alarm, metric_filter,
    password_policy, s3_bucket, security_group, sns_subscription, sns_topic, trail,
};
use crate::observed::{CallFailure, Observed};
use crate::progress::Progress;
use crate::snapshot::{FlowLogNames, ReadKey, ReadScope, Snapshot, TrailNames};

/// Every page of a paginated call, each page's request made under the
/// limiter; the first error ends the read.
pub(crate) async fn all_pages<T, E>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<Result<T, E>>,
    limit: &Limiter,
) -> Result<Vec<T>, E> {
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = limit.acquire().await;
            pages.next().await
        };
        match page {
            None => return Ok(out),
            Some(Ok(p)) => out.push(p),
            Some(Err(e)) => return Err(e),
        }
    }
}

/// Bounds how many AWS calls are in flight at once, across services and
/// regions, so a large account is read fast without tripping throttles.
#[derive(Clone)]
pub struct Limiter(Arc<Semaphore>);

impl Limiter {
    pub fn new(concurrency: usize) -> Self {
        Limiter(Arc::new(Semaphore::new(concurrency.max(1))))
    }

    pub async fn acquire(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed, so this only fails in theory; going
        // on without a permit is then the safe choice.
        self.0.acquire().await.ok()
    }
}

/// The account and ARN of the caller (STS GetCallerIdentity): what
/// `force-unlock` needs to find an account's shared lock, and `apply` to
/// lock the account before reading it. Asked once per run: the snapshot
/// does not ask again.
pub async fn caller(aws: &Aws) -> Result<(String, String), CallFailure> {
    match sts::caller(aws, &Limiter::new(1)).await {
        Observed::Ok(v) => Ok(v),
        Observed::Failed(f) => Err(f),
    }
}

/// Reads everything the diff needs, each call once. First what decides
/// where to look (caller identity, trails, the regions enabled for the
/// account unless `scope` names them, with the password policy alongside,
/// which need not wait); then, concurrently, every region a trail of this
/// account lives in or delivers to (log groups, metric filters, alarms,
/// SNS), the KMS keys of those regions and of every planned region, the
/// VPCs and flow logs of every planned region (with cis-fix's flow-log
/// group and role where a VPC lacks an active flow log), the delivery
/// role, and the trails' buckets; last, the keys of any region a bucket is
/// in whose keys were not read yet (CloudTrail encrypts with a key of its
/// bucket's region).
///
/// `scope` names what cis-fix looks for besides what listing finds: the
/// topics it may notify, the names it gives the trail's resources, so
/// that what an interrupted apply made is found again, and the regions the
/// user chose.
pub async fn read_snapshot(
    aws: &Aws,
    limit: &Limiter,
    progress: &Progress,
    scope: &ReadScope,
) -> Snapshot {
    progress.set(
        "reading caller identity, CloudTrail trails, the enabled regions and the password policy",
    );
    let home = aws.home_region().to_string();
    let enabled = async {
        match &scope.regions {
            Some(_) => None,
            None => Some(ec2::read_regions(aws, limit).await),
        }
    };
    let (caller, trails, password, enabled) = futures::join!(
        sts::caller(aws, limit),
        cloudtrail::read_trails(aws, limit),
        iam::read_password_policy(aws, limit),
        enabled
    );
    let (account_id, caller_arn, caller_failed) = match caller {
        Observed::Ok((a, arn)) => (Some(a), Some(arn), None),
        Observed::Failed(f) => (None, None, Some(f)),
    };
    let mut snap = Snapshot::new(account_id.clone(), caller_arn, &home);
    snap.chosen_regions = scope.regions.clone();
    // The planned regions; none known when DescribeRegions failed (the
    // diff then says so, and judges the regions read for the trails).
    let planned: Vec<String> = match (&scope.regions, &enabled) {
        (Some(chosen), _) => chosen.clone(),
        (None, Some(Observed::Ok(r))) => r.clone(),
        _ => vec![],
    };
    if let Some(r) = enabled {
        snap.record(
            ReadKey::new(crate::snapshot::REGIONS_READ, &home, None),
            r.map(ReadData::Regions),
        );
    }
    if let Some(f) = caller_failed {
        snap.record(ReadKey::new(sts::READ, &home, None), Observed::Failed(f));
    }
    let account = account_id.as_deref();
    let own = own_trails(&trails, account);
    let regions = trail_regions(&home, &own, account);
    let mut buckets: BTreeSet<String> = own.iter().filter_map(|t| t.s3_bucket.clone()).collect();
    if let Some(a) = account
        && !scope.trail.bucket_prefix.is_empty()
    {
        buckets.insert(scope.trail.bucket(a, &home));
    }
    snap.record(
        ReadKey::new(trail::READ, &home, None),
        trails.map(ReadData::Trails),
    );
    snap.record(
        ReadKey::new(password_policy::READ, GLOBAL, None),
        password.map(ReadData::PasswordPolicy),
    );
    // With no planned regions known (DescribeRegions failed), the VPCs of
    // the regions read for the trails are still judged.
    let flow_regions: Vec<String> = if planned.is_empty() {
        regions.keys().cloned().collect()
    } else {
        planned.clone()
    };
    let network_regions = planned.clone();
    let key_regions: BTreeSet<String> = regions.keys().cloned().chain(planned).collect();
    let mut what = reading_what(&regions, &key_regions, &scope.trail.role, &buckets);
    what.push_str(&match flow_regions.len() {
        1 => format!("; VPCs and flow logs in {}", flow_regions[0]),
        n => format!("; VPCs and flow logs in {n} regions"),
    });
    progress.set(&what);

    let regional =
        join_all(regions.iter().map(|(region, groups)| {
            read_region(aws, limit, region, groups.clone(), account, scope)
        }));
    let keys = join_all(
        key_regions
            .iter()
            .map(|r| read_keys(aws, limit, r, &scope.trail)),
    );
    let role = async {
        if scope.trail.role.is_empty() {
            return vec![];
        }
        let r = iam_role::read_role(aws, &scope.trail.role, limit).await;
        vec![(
            ReadKey::new(
                crate::kinds::iam_role::READ,
                crate::address::GLOBAL,
                Some(&scope.trail.role),
            ),
            r.map(ReadData::Role),
        )]
    };
    let buckets_then_keys = async {
        let read =
            join_all(buckets.iter().map(|b| async move {
                (b.clone(), s3::read_bucket(aws, b, account, limit).await)
            }))
            .await;
        let elsewhere: BTreeSet<String> = read
            .iter()
            .filter_map(|(_, r)| match r {
                Observed::Ok(Some(b)) => b.region.as_ref().ok().cloned(),
                _ => None,
            })
            .filter(|r| !key_regions.contains(r))
            .collect();
        let mut out: Reads = read
            .into_iter()
            .map(|(b, r)| {
                (
                    ReadKey::new(s3_bucket::READ, crate::address::GLOBAL, Some(&b)),
                    r.map(ReadData::Bucket),
                )
            })
            .collect();
        out.extend(
            join_all(
                elsewhere
                    .iter()
                    .map(|r| read_keys(aws, limit, r, &scope.trail)),
            )
            .await,
        );
        out
    };
    let flows = async {
        let per_region = join_all(
            flow_regions
                .iter()
                .map(|r| read_flow_logs(aws, limit, r, &scope.flow_logs)),
        )
        .await;
        let unlogged = per_region.iter().any(|(_, u)| *u);
        let mut out: Reads = per_region.into_iter().flat_map(|(r, _)| r).collect();
        let role = &scope.flow_logs.role;
        if unlogged && !role.is_empty() {
            let r = iam_role::read_role(aws, role, limit).await;
            out.push((
                ReadKey::new(crate::kinds::iam_role::READ, GLOBAL, Some(role)),
                r.map(ReadData::Role),
            ));
        }
        out
    };
    let network = join_all(network_regions.iter().map(|r| read_network(aws, limit, r)));
    let (regional, keys, role, buckets, flows, network) =
        futures::join!(regional, keys, role, buckets_then_keys, flows, network);
    for (key, result) in regional
        .into_iter()
        .flatten()
        .chain(network.into_iter().flatten())
        .chain(keys)
        .chain(role)
        .chain(buckets)
        .chain(flows)
    {
        snap.record(key, result);
    }
    progress.finish();
    snap
}

/// The trails of this account: only they can be fixed, and only their log
/// groups, keys and buckets can be read from here. With the account not
/// known (STS failed), every trail is taken as the account's, so that
/// nothing is left unread.
fn own_trails<'a>(
    trails: &'a Observed<Vec<crate::kinds::Trail>>,
    account: Option<&str>,
) -> Vec<&'a crate::kinds::Trail> {
    match trails {
        Observed::Ok(ts) => ts
            .iter()
            .filter(|t| account.is_none_or(|a| Arn::parse(&t.arn).is_some_and(|p| p.account == a)))
            .collect(),
        Observed::Failed(_) => vec![],
    }
}

/// The regions where a trail of this account lives or delivers to, each
/// with the log groups of this account its trails deliver to there (whose
/// metric filters are read): the home region (where cis-fix creates a
/// trail), each trail's home region, and each log group's region.
fn trail_regions(
    home: &str,
    own: &[&crate::kinds::Trail],
    account: Option<&str>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    out.entry(home.to_string()).or_default();
    for t in own {
        out.entry(t.home_region.clone()).or_default();
        if let Some(lg) = t.log_group()
            && account.is_none_or(|a| a == lg.account)
        {
            out.entry(lg.region).or_default().insert(lg.name);
        }
    }
    out
}

/// The progress line for the second stage of the reads.
fn reading_what(
    regions: &BTreeMap<String, BTreeSet<String>>,
    key_regions: &BTreeSet<String>,
    role: &str,
    buckets: &BTreeSet<String>,
) -> String {
    let mut s = format!(
        "reading log groups, metric filters, alarms and SNS in {}; KMS keys in {}",
        regions.keys().cloned().collect::<Vec<_>>().join(", "),
        match key_regions.len() {
            1 => key_regions.iter().cloned().collect::<String>(),
            n => format!("{n} regions"),
        }
    );
    if !role.is_empty() {
        s.push_str(&format!("; IAM role {role}"));
    }
    if !buckets.is_empty() {
        s.push_str(&format!(
            "; S3 bucket(s) {}",
            buckets.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    s
}

/// One trail region's reads: the monitoring chain and cis-fix's log
/// group, concurrently; then the metric filters of
/// cis-fix's log group when it exists there and no trail delivers to it
/// yet (an apply interrupted after creating it).
async fn read_region(
    aws: &Aws,
    limit: &Limiter,
    region: &str,
    groups: BTreeSet<String>,
    account: Option<&str>,
    scope: &ReadScope,
) -> Reads {
    let rc = aws.region(region);
    let name = scope.trail.log_group.as_str();
    let log_groups = async {
        if name.is_empty() {
            None
        } else {
            Some(logs::read_log_groups(&rc, name, limit).await)
        }
    };
    let (mut out, log_groups) = futures::join!(
        read_monitoring(
            aws,
            limit,
            region,
            groups.clone(),
            account,
            &scope.topic_names
        ),
        log_groups,
    );
    if let Some(found) = log_groups {
        if let Observed::Ok(gs) = &found
            && !gs.is_empty()
            && !groups.contains(name)
        {
            let f = logs::read_filters(&rc, name, limit).await;
            out.push((
                ReadKey::new(metric_filter::READ, region, Some(name)),
                f.map(ReadData::MetricFilters),
            ));
        }
        out.push((
            ReadKey::new(log_group::READ, region, Some(name)),
            found.map(ReadData::LogGroups),
        ));
    }
    out
}

async fn read_keys(
    aws: &Aws,
    limit: &Limiter,
    region: &str,
    names: &TrailNames,
) -> (ReadKey, Observed<ReadData>) {
    let k = kms::read_keys(&aws.region(region), names, limit).await;
    (
        ReadKey::new(kms_key::READ, region, None),
        k.map(ReadData::KmsKeys),
    )
}

type Reads = Vec<(ReadKey, Observed<ReadData>)>;

/// One planned region's flow-log reads: its VPCs and flow logs,
/// concurrently; then, when a VPC there lacks an active flow log, cis-fix's
/// flow-log group (`names`; none for S3), so that one an interrupted apply
/// made is found again. Also says whether such a VPC was seen (the role is
/// then looked up, once for every region).
async fn read_flow_logs(
    aws: &Aws,
    limit: &Limiter,
    region: &str,
    names: &FlowLogNames,
) -> (Reads, bool) {
    use crate::kinds::flow_log;
    let rc = aws.region(region);
    let (vpcs, flows) = futures::join!(
        flow_logs::read_vpcs(&rc, limit),
        flow_logs::read_flow_logs(&rc, limit)
    );
    let unlogged = match (&vpcs, &flows) {
        (Observed::Ok(v), Observed::Ok(f)) => v.iter().any(|v| !flow_log::is_logged(&v.vpc_id, f)),
        _ => false,
    };
    let mut out = vec![
        (
            ReadKey::new(flow_log::READ_VPCS, region, None),
            vpcs.map(ReadData::Vpcs),
        ),
        (
            ReadKey::new(flow_log::READ, region, None),
            flows.map(ReadData::FlowLogs),
        ),
    ];
    if unlogged && !names.log_group.is_empty() {
        let g = logs::read_log_groups(&rc, &names.log_group, limit).await;
        out.push((
            ReadKey::new(log_group::READ, region, Some(&names.log_group)),
            g.map(ReadData::LogGroups),
        ));
    }
    (out, unlogged)
}

/// One planned region's networking reads, concurrently: its security
/// groups with their rules, its network interfaces (who uses each group or
/// sits behind each network ACL), EBS encryption by default, its network
/// ACLs and its instances' metadata options.
async fn read_network(aws: &Aws, limit: &Limiter, region: &str) -> Reads {
    let rc = aws.region(region);
    let (groups, interfaces, ebs, acls, instances) = futures::join!(
        ec2::read_security_groups(&rc, limit),
        ec2::read_interfaces(&rc, limit),
        ec2::read_ebs_default(&rc, limit),
        ec2::read_network_acls(&rc, limit),
        ec2::read_instances(&rc, limit),
    );
    vec![
        (
            ReadKey::new(security_group::READ, region, None),
            groups.map(ReadData::SecurityGroups),
        ),
        (
            ReadKey::new(security_group::READ_INTERFACES, region, None),
            interfaces.map(ReadData::NetworkInterfaces),
        ),
        (
            ReadKey::new(ebs_encryption::READ, region, None),
            ebs.map(ReadData::EbsEncryptionByDefault),
        ),
        (
            ReadKey::new(crate::kinds::network_acl::READ, region, None),
            acls.map(ReadData::NetworkAcls),
        ),
        (
            ReadKey::new(crate::kinds::instance_metadata::READ, region, None),
            instances.map(ReadData::Instances),
        ),
    ]
}

/// The monitoring chain's reads in one region: the log groups' metric
/// filters, alarms, topics and subscriptions, concurrently; then the
/// attributes of every topic an alarm here notifies, and of the topics
/// cis-fix may use, since whether CloudWatch can publish to a topic depends
/// on its encryption.
async fn read_monitoring(
    aws: &Aws,
    limit: &Limiter,
    region: &str,
    groups: BTreeSet<String>,
    account: Option<&str>,
    topic_names: &[String],
) -> Reads {
    let rc = aws.region(region);
    let filters = join_all(groups.into_iter().map(|g| {
        let rc = &rc;
        async move {
            let f = logs::read_filters(rc, &g, limit).await;
            (
                ReadKey::new(metric_filter::READ, region, Some(&g)),
                f.map(ReadData::MetricFilters),
            )
        }
    }));
    let (filters, alarms, topics, subscriptions) = futures::join!(
        filters,
        cloudwatch::read_alarms(&rc, limit),
        sns::read_topics(&rc, limit),
        sns::read_subscriptions(&rc, limit)
    );
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    if let Observed::Ok(alarms) = &alarms {
        for a in alarms {
            for arn in a.alarm_actions.iter().filter_map(|d| d.known()) {
                if Arn::parse(arn).is_some_and(|p| p.service == "sns" && p.is_in(region, account)) {
                    wanted.insert(arn.to_string());
                }
            }
        }
    }
    if let Observed::Ok(ts) = &topics {
        for t in ts.iter().filter(|t| topic_names.contains(&t.name)) {
            if let Some(arn) = t.arn.known() {
                wanted.insert(arn.to_string());
            }
        }
    }
    let attributes = join_all(wanted.into_iter().map(|arn| {
        let rc = &rc;
        async move {
            let a = sns::read_topic_attributes(rc, &arn, limit).await;
            (
                ReadKey::new(sns_topic::READ_ATTRIBUTES, region, Some(&arn)),
                a.map(ReadData::TopicAttributes),
            )
        }
    }))
    .await;
    let mut out = filters;
    out.push((
        ReadKey::new(metric_alarm::READ, region, None),
        alarms.map(ReadData::Alarms),
    ));
    out.push((
        ReadKey::new(sns_topic::READ, region, None),
        topics.map(ReadData::Topics),
    ));
    out.push((
        ReadKey::new(sns_subscription::READ, region, None),
        subscriptions.map(ReadData::Subscriptions),
    ));
    out.extend(attributes);
    out
}

/// Makes one write call in `region`; every deferred value in it must be
/// resolved by now. Returns the id AWS gave what it made (an ARN), if any.
pub async fn execute(
    aws: &Aws,
    region: &str,
    call: &WriteCall,
) -> Result<Option<String>, CallFailure> {
    // Made only for regional calls: IAM is global.
    let rc = || aws.region(region);
    match call {
        WriteCall::PutMetricFilter(f) => logs::put_filter(&rc(), f).await.map(|()| None),
        WriteCall::DeleteMetricFilter {
            log_group_name,
            filter_name,
        } => logs::delete_filter(&rc(), log_group_name, filter_name)
            .await
            .map(|()| None),
        WriteCall::PutMetricAlarm(a) => cloudwatch::put_alarm(&rc(), a).await.map(|()| None),
        WriteCall::DeleteAlarm { name } => {
            cloudwatch::delete_alarm(&rc(), name).await.map(|()| None)
        }
        WriteCall::CreateTopic { name } => sns::create_topic(&rc(), name).await.map(Some),
        WriteCall::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => match topic_arn.known() {
            Some(arn) => sns::subscribe(&rc(), arn, protocol, endpoint)
                .await
                .map(Some),
            None => Err(CallFailure {
                call: call.iam_action().into(),
                region: region.to_string(),
                resource: None,
                code: None,
                message: "the topic's ARN is not known yet".into(),
                detail: None,
            }),
        },
        WriteCall::UpdateAccountPasswordPolicy(p) => {
            iam::update_password_policy(aws, p).await.map(|()| None)
        }
        WriteCall::CreateTrail {
            name,
            s3_bucket_name,
            settings,
        } => cloudtrail::create_trail(&rc(), name, s3_bucket_name, settings)
            .await
            .map(Some),
        WriteCall::UpdateTrail { trail, settings } => {
            cloudtrail::update_trail(&rc(), trail, settings)
                .await
                .map(|()| None)
        }
        WriteCall::PutEventSelectors { trail, selectors } => {
            cloudtrail::put_event_selectors(&rc(), trail, selectors)
                .await
                .map(|()| None)
        }
        WriteCall::StartLogging { trail } => {
            cloudtrail::start_logging(&rc(), trail).await.map(|()| None)
        }
        WriteCall::CreateLogGroup { name } => {
            logs::create_log_group(&rc(), name).await.map(|()| None)
        }
        WriteCall::CreateRole {
            name,
            assume_role_policy,
        } => iam_role::create_role(aws, name, assume_role_policy)
            .await
            .map(|()| None),
        WriteCall::UpdateAssumeRolePolicy { name, policy } => {
            iam_role::update_assume_role_policy(aws, name, policy)
                .await
                .map(|()| None)
        }
        WriteCall::PutRolePolicy {
            role,
            policy_name,
            policy,
        } => iam_role::put_role_policy(aws, role, policy_name, policy)
            .await
            .map(|()| None),
        WriteCall::CreateKey {
            description,
            policy,
        } => kms::create_key(&rc(), description, policy).await.map(Some),
        WriteCall::CreateAlias { alias, key } => {
            kms::create_alias(&rc(), alias, key).await.map(|()| None)
        }
        WriteCall::EnableKeyRotation { key } => {
            kms::enable_key_rotation(&rc(), key).await.map(|()| None)
        }
        WriteCall::PutKeyPolicy { key, policy } => {
            kms::put_key_policy(&rc(), key, policy).await.map(|()| None)
        }
        WriteCall::CreateBucket { bucket } => {
            let rc = s3::writer(aws, region, bucket).await?;
            s3::create_bucket(&rc, bucket).await.map(|()| None)
        }
        WriteCall::PutBucketOwnershipControls {
            bucket,
            object_ownership,
        } => {
            let rc = s3::writer(aws, region, bucket).await?;
            s3::put_ownership_controls(&rc, bucket, object_ownership)
                .await
                .map(|()| None)
        }
        WriteCall::PutPublicAccessBlock { bucket, settings } => {
            let rc = s3::writer(aws, region, bucket).await?;
            s3::put_public_access_block(&rc, bucket, settings)
                .await
                .map(|()| None)
        }
        WriteCall::PutBucketPolicy { bucket, policy } => {
            let rc = s3::writer(aws, region, bucket).await?;
            s3::put_bucket_policy(&rc, bucket, policy)
                .await
                .map(|()| None)
        }
        WriteCall::CreateFlowLogs(f) => flow_logs::create_flow_log(&rc(), f).await,
        WriteCall::RevokeSecurityGroupIngress { group_id, rule_ids } => {
            ec2::revoke_rules(&rc(), group_id, rule_ids, false)
                .await
                .map(|()| None)
        }
        WriteCall::RevokeSecurityGroupEgress { group_id, rule_ids } => {
            ec2::revoke_rules(&rc(), group_id, rule_ids, true)
                .await
                .map(|()| None)
        }
        WriteCall::EnableEbsEncryptionByDefault => {
            ec2::enable_ebs_default(&rc()).await.map(|()| None)
        }
        WriteCall::CreateNetworkAclEntry(e) => {
            ec2::create_nacl_entry(&rc(), e).await.map(|()| None)
        }
        WriteCall::ModifyInstanceMetadataOptions {
            instance_id,
            http_tokens,
        } => ec2::require_imdsv2(&rc(), instance_id, http_tokens)
            .await
            .map(|()| None),
        WriteCall::PutBucketLogging {
            bucket,
            target_bucket,
            target_prefix,
        } => {
            let rc = s3::writer(aws, region, bucket).await?;
            s3::put_bucket_logging(&rc, bucket, target_bucket, target_prefix)
                .await
                .map(|()| None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{EventSelectors, Trail, TrailStatus};

    fn trail(arn: &str, home: &str, log_group: Option<&str>) -> Trail {
        Trail {
            name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
            arn: arn.to_string(),
            home_region: home.to_string(),
            is_multi_region: false,
            is_organization_trail: false,
            s3_bucket: None,
            log_group_arn: log_group.map(str::to_string),
            cloudwatch_logs_role_arn: None,
            kms_key_id: None,
            log_file_validation: false,
            include_global_service_events: true,
            status: Observed::Ok(TrailStatus {
                is_logging: true,
                latest_cloudwatch_logs_delivery_error: None,
            }),
            selectors: Observed::Ok(EventSelectors::default()),
        }
    }

    #[test]
    fn trail_regions_are_home_and_where_own_trails_live_and_deliver() {
        let trails = Observed::Ok(vec![
            // Single-region, in another region, delivering to a third.
            trail(
                "arn:aws:cloudtrail:eu-west-1:111:trail/a",
                "eu-west-1",
                Some("arn:aws:logs:eu-central-1:111:log-group:ct:*"),
            ),
            // Another account's (an organization trail): not read from here.
            trail(
                "arn:aws:cloudtrail:ap-south-1:999:trail/org",
                "ap-south-1",
                Some("arn:aws:logs:ap-south-1:999:log-group:org:*"),
            ),
            // Own trail delivering to another account's group.
            trail(
                "arn:aws:cloudtrail:us-east-1:111:trail/b",
                "us-east-1",
                Some("arn:aws:logs:sa-east-1:999:log-group:x:*"),
            ),
        ]);
        let own = own_trails(&trails, Some("111"));
        assert_eq!(own.len(), 2);
        let regions = trail_regions("us-west-2", &own, Some("111"));
        let got: Vec<(&str, Vec<&str>)> = regions
            .iter()
            .map(|(r, gs)| (r.as_str(), gs.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("eu-central-1", vec!["ct"]),
                ("eu-west-1", vec![]),
                ("us-east-1", vec![]),
                ("us-west-2", vec![]),
            ]
        );
        // Without the account every trail counts as own.
        assert_eq!(own_trails(&trails, None).len(), 3);
        let failed = Observed::Failed(ReadKey::new("x", "y", None).not_read());
        assert!(own_trails(&failed, Some("111")).is_empty());
    }
}
