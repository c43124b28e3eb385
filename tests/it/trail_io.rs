//! The AWS layer of the trail's resources against moto: what `cis-fix
//! snapshot` records of a trail, its bucket, the KMS keys, the delivery role
//! and the log group (the facts the diff reads, by the keys it reads them
//! under), that what does not exist is a fact and what cannot be read is a
//! failure of that read alone, and that each writer makes what it is asked
//! and converges when run again.
//!
//! Where moto differs from AWS (moto 5.2.5, see `support` and
//! /work/shared/reference/aws-api-facts.md):
//! * GetKeyPolicy needs `PolicyName` (AWS: optional); DescribeKey reports no
//!   `KeyUsage` (the reader takes ENCRYPT_DECRYPT, CreateKey's default).
//! * UpdateTrail with `""` stores `""` (AWS clears the setting): the reader
//!   takes an empty string as unset.
//! * A new bucket has no public access block and no ownership controls (AWS
//!   gives new buckets both, blocked and BucketOwnerEnforced, since 2023).
//! * S3 is reached path-style (the endpoint is an IP); on AWS it is
//!   virtual-hosted, and a bucket of another region answers with a redirect
//!   the reader follows.
//! * GetRole / GetRolePolicy return the documents URL-encoded, as AWS does.
//! * CloudTrail checks none of the bucket policy, key policy, log group or
//!   role, so the writers' propagation retries are not exercised here (a
//!   unit test in `aws::cloudtrail` is).

use aws_sdk_kms::types::KeySpec;
use aws_sdk_s3::types::BucketCannedAcl;
use aws_sdk_sns::config::Region;

use cis_fix::address::GLOBAL;
use cis_fix::aws::{Aws, Limiter, execute, read_snapshot};
use cis_fix::kinds::{
    AdvancedSelector, BasicSelector, BucketFacts, DataResource, Deferred, EventSelectors,
    FieldSelector, IamRole, KmsKeyFacts, PublicAccessBlock, ReadData, TrailSettings, WriteCall,
};
use cis_fix::observed::{CallFailure, Observed};
use cis_fix::progress::Progress;
use cis_fix::snapshot::{ReadKey, ReadScope, Snapshot, TrailNames};

use crate::support::account::{Account, Run};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::{ACCESS_KEY, sdk_config};
use crate::support::{ACCOUNT_ID, REGION};

/// The names `cis-fix` looks for (commands::trail_names).
const ROLE: &str = "cis-fix-cloudtrail-logs";
const LOG_GROUP: &str = "cis-fix/cloudtrail";
const ALIAS: &str = "alias/cis-fix-cloudtrail";
const DESCRIPTION: &str = "cis-fix: encrypts CloudTrail log files";
const OTHER_REGION: &str = "eu-west-1";

fn own_bucket(region: &str) -> String {
    format!("cis-fix-cloudtrail-{ACCOUNT_ID}-{region}")
}

fn names() -> TrailNames {
    TrailNames {
        trail: "cis-fix".into(),
        log_group: LOG_GROUP.into(),
        role: ROLE.into(),
        key_alias: ALIAS.into(),
        key_description: DESCRIPTION.into(),
        bucket_prefix: "cis-fix-cloudtrail".into(),
        kms_key: None,
    }
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// Spaces, slashes, colons and stars: what URL-encoding changes.
const INLINE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Deliver events", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:cis-fix/cloudtrail:log-stream:123456789012_CloudTrail_us-east-1*"}]}"#;
const KEY_POLICY: &str = r#"{"Version":"2012-10-17","Id":"cis-fix","Statement":[{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;

fn bucket_policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::{bucket}"}}]}}"#
    )
}

fn same_json(a: &str, b: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(a).ok()
        == serde_json::from_str::<serde_json::Value>(b).ok()
}

/// SDK clients of the services `Account` has none for, in `region`.
struct More {
    s3: aws_sdk_s3::Client,
    kms: aws_sdk_kms::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

fn more(acct: &Account, region: &str) -> More {
    let config = acct.block_on(
        sdk_config(&acct.moto.endpoint())
            .region(Region::new(region.to_string()))
            .load(),
    );
    More {
        s3: aws_sdk_s3::Client::new(&config),
        kms: aws_sdk_kms::Client::new(&config),
        logs: aws_sdk_cloudwatchlogs::Client::new(&config),
    }
}

fn snapshot_of(run: &Run) -> Snapshot {
    Snapshot::from_json(&run.stdout, "stdout").unwrap_or_else(|e| {
        panic!(
            "not a snapshot ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    })
}

#[track_caller]
fn read<'a>(snap: &'a Snapshot, call: &str, region: &str, resource: Option<&str>) -> &'a ReadData {
    match snap.reads.get(&ReadKey::new(call, region, resource)) {
        Some(Observed::Ok(d)) => d,
        other => panic!(
            "{call} in {region} on {resource:?}: {other:?}\nreads: {:#?}",
            snap.reads.keys().collect::<Vec<_>>()
        ),
    }
}

#[track_caller]
fn failed<'a>(
    snap: &'a Snapshot,
    call: &str,
    region: &str,
    resource: Option<&str>,
) -> &'a CallFailure {
    match snap.reads.get(&ReadKey::new(call, region, resource)) {
        Some(Observed::Failed(f)) => f,
        other => panic!("{call} in {region} on {resource:?} should have failed: {other:?}"),
    }
}

#[track_caller]
fn bucket<'a>(snap: &'a Snapshot, name: &str) -> Option<&'a BucketFacts> {
    match read(snap, "s3:ListBucket", GLOBAL, Some(name)) {
        ReadData::Bucket(b) => b.as_ref(),
        other => panic!("not a bucket read: {other:?}"),
    }
}

#[track_caller]
fn keys<'a>(snap: &'a Snapshot, region: &str) -> &'a [KmsKeyFacts] {
    match read(snap, "kms:ListKeys", region, None) {
        ReadData::KmsKeys(k) => k,
        other => panic!("not a key read: {other:?}"),
    }
}

#[track_caller]
fn role(snap: &Snapshot) -> Option<&IamRole> {
    match read(snap, "iam:GetRole", GLOBAL, Some(ROLE)) {
        ReadData::Role(r) => r.as_ref(),
        other => panic!("not a role read: {other:?}"),
    }
}

#[track_caller]
fn log_groups(snap: &Snapshot, region: &str) -> Vec<String> {
    match read(snap, "logs:DescribeLogGroups", region, Some(LOG_GROUP)) {
        ReadData::LogGroups(g) => g.iter().map(|g| g.name.clone()).collect(),
        other => panic!("not a log group read: {other:?}"),
    }
}

#[track_caller]
fn ok<T: std::fmt::Debug>(o: &Observed<T>) -> &T {
    match o {
        Observed::Ok(v) => v,
        Observed::Failed(f) => panic!("failed: {f}"),
    }
}

/// A trail of this account in us-east-1 writing to `bucket`, which is made
/// first (moto's CreateTrail needs it).
fn trail_with_bucket(acct: &Account, s3: &aws_sdk_s3::Client, name: &str, bucket: &str) {
    acct.block_on(async {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("CreateBucket");
        acct.cloudtrail
            .create_trail()
            .name(name)
            .s3_bucket_name(bucket)
            .send()
            .await
            .expect("CreateTrail");
    });
}

#[test]
fn snapshot_records_the_trails_resources_as_the_kinds_expect() {
    let acct = Account::new();
    let home = more(&acct, REGION);
    let eu = more(&acct, OTHER_REGION);
    let trail_bucket = "audit-trail-logs";
    let policy = bucket_policy(trail_bucket);
    let key_arn = acct.block_on(async {
        home.s3
            .create_bucket()
            .bucket(trail_bucket)
            .send()
            .await
            .expect("CreateBucket");
        home.s3
            .put_bucket_acl()
            .bucket(trail_bucket)
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await
            .expect("PutBucketAcl");
        home.s3
            .put_bucket_policy()
            .bucket(trail_bucket)
            .policy(&policy)
            .send()
            .await
            .expect("PutBucketPolicy");
        // The trail delivers to a log group of another region, which makes
        // that region a trail region too; cis-fix's own log group (and a
        // look-alike) are in the home region.
        eu.logs
            .create_log_group()
            .log_group_name("cloudtrail-logs")
            .send()
            .await
            .expect("CreateLogGroup eu");
        for g in [LOG_GROUP, "cis-fix/cloudtrail-old"] {
            home.logs
                .create_log_group()
                .log_group_name(g)
                .send()
                .await
                .expect("CreateLogGroup");
        }
        let key = home
            .kms
            .create_key()
            .description(DESCRIPTION)
            .policy(KEY_POLICY)
            .send()
            .await
            .expect("CreateKey")
            .key_metadata
            .expect("metadata");
        home.kms
            .create_alias()
            .alias_name(ALIAS)
            .target_key_id(&key.key_id)
            .send()
            .await
            .expect("CreateAlias");
        home.kms
            .enable_key_rotation()
            .key_id(&key.key_id)
            .send()
            .await
            .expect("EnableKeyRotation");
        home.kms
            .create_key()
            .description("someone else's")
            .key_spec(KeySpec::SymmetricDefault)
            .send()
            .await
            .expect("CreateKey other");
        acct.iam
            .create_role()
            .role_name(ROLE)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .expect("CreateRole");
        acct.iam
            .put_role_policy()
            .role_name(ROLE)
            .policy_name(ROLE)
            .policy_document(INLINE)
            .send()
            .await
            .expect("PutRolePolicy");
        let arn = key.arn.expect("key ARN");
        acct.cloudtrail
            .create_trail()
            .name("main")
            .s3_bucket_name(trail_bucket)
            .is_multi_region_trail(true)
            .kms_key_id(&arn)
            .cloud_watch_logs_log_group_arn(format!(
                "arn:aws:logs:{OTHER_REGION}:{ACCOUNT_ID}:log-group:cloudtrail-logs:*"
            ))
            .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE}"))
            .send()
            .await
            .expect("CreateTrail");
        // moto stores the "" (AWS would clear the key): read as no key.
        acct.cloudtrail
            .update_trail()
            .name("main")
            .kms_key_id("")
            .send()
            .await
            .expect("UpdateTrail");
        acct.cloudtrail
            .put_event_selectors()
            .trail_name("main")
            .event_selectors(
                aws_sdk_cloudtrail::types::EventSelector::builder()
                    .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All)
                    .include_management_events(true)
                    .data_resources(
                        aws_sdk_cloudtrail::types::DataResource::builder()
                            .r#type("AWS::S3::Object")
                            .values(format!("arn:aws:s3:::{trail_bucket}/"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("PutEventSelectors");
        arn
    });

    let run = acct.cis_fix(&["snapshot"]);
    run.expect_code(0);
    let snap = snapshot_of(&run);

    let trails = snap.trails().expect("trails");
    assert_eq!(trails.len(), 1, "{trails:#?}");
    let t = &trails[0];
    assert!(t.include_global_service_events);
    assert_eq!(t.kms_key_id, None, "an empty key id is no key");
    assert_eq!(t.s3_bucket.as_deref(), Some(trail_bucket));
    let selectors = ok(&t.selectors);
    assert_eq!(
        selectors.basic[0].data_resources,
        [DataResource {
            kind: "AWS::S3::Object".into(),
            values: vec![format!("arn:aws:s3:::{trail_bucket}/")],
        }]
    );

    // The trail's bucket: each part its own fact.
    let b = bucket(&snap, trail_bucket).expect("the trail's bucket exists");
    assert_eq!(ok(&b.region), REGION);
    assert!(
        ok(&b.policy)
            .as_deref()
            .is_some_and(|p| same_json(p, &policy)),
        "{b:#?}"
    );
    assert_eq!(
        ok(&b.public_acl_grants),
        &["http://acs.amazonaws.com/groups/global/AllUsers".to_string()]
    );
    // moto's new bucket has neither (AWS's has both).
    assert_eq!(ok(&b.public_access_block), &None);
    assert_eq!(ok(&b.object_ownership), &None);
    assert_eq!(ok(&b.logging), &None);
    // cis-fix's own bucket is looked for, and is not there.
    assert!(bucket(&snap, &own_bucket(REGION)).is_none());

    // Keys of the home region: cis-fix's, found by its alias, read in full.
    let ks = keys(&snap, REGION);
    assert_eq!(ks.len(), 2, "{ks:#?}");
    let mine = ks.iter().find(|k| k.arn == key_arn).expect("cis-fix's key");
    assert_eq!(mine.aliases, [ALIAS]);
    assert_eq!(mine.description, DESCRIPTION);
    assert!(mine.usable_for_trails(), "{mine:#?}");
    assert_eq!(mine.key_usage, "ENCRYPT_DECRYPT");
    assert_eq!(mine.rotation_enabled, Some(Observed::Ok(true)));
    assert!(
        mine.policy
            .as_ref()
            .is_some_and(|p| same_json(ok::<String>(p), KEY_POLICY)),
        "{mine:#?}"
    );
    let other = ks.iter().find(|k| k.arn != key_arn).expect("the other key");
    // Another customer managed symmetric key: its rotation is read (the
    // rotation control judges it), its policy is not.
    assert_eq!(
        (&other.rotation_enabled, &other.policy),
        (&Some(Observed::Ok(false)), &None)
    );
    // The log group's region is a trail region: its keys are read too.
    assert!(keys(&snap, OTHER_REGION).is_empty());

    // The role, its URL-encoded documents decoded.
    let r = role(&snap).expect("the role exists");
    assert!(same_json(&r.assume_role_policy, TRUST), "{r:#?}");
    let inline = r.inline_policy.as_ref().expect("inline policy");
    assert_eq!(inline.name, ROLE);
    assert!(same_json(&inline.policy, INLINE), "{r:#?}");

    // cis-fix's log group by its exact name, in every trail region, and the
    // monitoring reads in both regions: filters of the trail's group and of
    // cis-fix's (it exists), alarms, topics, subscriptions.
    assert_eq!(log_groups(&snap, REGION), [LOG_GROUP]);
    assert!(log_groups(&snap, OTHER_REGION).is_empty());
    read(
        &snap,
        "logs:DescribeMetricFilters",
        OTHER_REGION,
        Some("cloudtrail-logs"),
    );
    read(&snap, "logs:DescribeMetricFilters", REGION, Some(LOG_GROUP));
    for region in [REGION, OTHER_REGION] {
        read(&snap, "cloudwatch:DescribeAlarms", region, None);
        read(&snap, "sns:ListTopics", region, None);
        read(&snap, "sns:ListSubscriptions", region, None);
    }
    assert!(snap.failures().is_empty(), "{:#?}", snap.failures());
}

#[test]
fn what_does_not_exist_is_a_fact_not_a_failure() {
    let acct = Account::new();
    let home = more(&acct, REGION);
    let gone = "deleted-trail-bucket";
    trail_with_bucket(&acct, &home.s3, "orphan", gone);
    acct.block_on(async {
        home.s3
            .delete_bucket()
            .bucket(gone)
            .send()
            .await
            .expect("DeleteBucket");
    });

    // One planned region: only the trails decide where else is read.
    let run = acct.cis_fix(&["snapshot", "--region", REGION]);
    run.expect_code(0);
    let snap = snapshot_of(&run);
    assert!(bucket(&snap, gone).is_none());
    assert!(bucket(&snap, &own_bucket(REGION)).is_none());
    assert!(role(&snap).is_none());
    assert!(log_groups(&snap, REGION).is_empty());
    assert!(keys(&snap, REGION).is_empty());
    // A single-region trail delivering nowhere: only the home region.
    assert!(
        snap.reads
            .keys()
            .all(|k| k.region == REGION || k.region == GLOBAL),
        "{:#?}",
        snap.reads.keys().collect::<Vec<_>>()
    );
}

#[test]
fn a_denied_read_fails_that_read_only() {
    let acct = Account::new();
    let home = more(&acct, REGION);
    let b = "denied-policy-bucket";
    trail_with_bucket(&acct, &home.s3, "main", b);
    acct.block_on(async {
        home.s3
            .put_bucket_policy()
            .bucket(b)
            .policy(bucket_policy(b))
            .send()
            .await
            .expect("PutBucketPolicy");
    });
    let proxy = FaultProxy::start(&acct.moto);
    proxy.deny("s3:GetBucketPolicy");
    proxy.deny("kms:ListKeys");

    let run = acct.run(
        proxy.command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix")),
        &["snapshot", "--region", REGION],
    );
    // The snapshot is written either way; the exit says it is incomplete.
    run.expect_code(1);
    assert!(run.stderr.contains("2 read(s) failed"), "{}", run.stderr);
    let snap = snapshot_of(&run);

    let facts = bucket(&snap, b).expect("the bucket exists");
    let Observed::Failed(f) = &facts.policy else {
        panic!("the policy read must fail: {facts:#?}")
    };
    assert_eq!(f.call, "s3:GetBucketPolicy");
    assert_eq!(f.code.as_deref(), Some("AccessDenied"));
    assert!(f.is_access_denied());
    assert_eq!(ok(&facts.region), REGION);
    assert!(ok(&facts.public_acl_grants).is_empty());
    ok(&facts.public_access_block);
    ok(&facts.logging);
    ok(&facts.object_ownership);

    let f = failed(&snap, "kms:ListKeys", REGION, None);
    assert_eq!(f.code.as_deref(), Some("AccessDeniedException"));
    // Nothing else failed: the role, log groups and the rest are facts.
    assert!(role(&snap).is_none());
    assert!(log_groups(&snap, REGION).is_empty());
    read(&snap, "cloudwatch:DescribeAlarms", REGION, None);
    assert_eq!(snap.failures().len(), 2, "{:#?}", snap.failures());
    // Each denied call was made once (AccessDenied is not retried).
    let denied: Vec<String> = proxy
        .calls()
        .iter()
        .filter(|c| c.faulted.is_some())
        .map(|c| c.name())
        .collect();
    let mut denied = denied;
    denied.sort();
    assert_eq!(denied, ["kms:ListKeys", "s3:GetBucketPolicy"]);
}

/// Runs one write call as apply does.
fn write(
    acct: &Account,
    aws: &Aws,
    region: &str,
    call: WriteCall,
) -> Result<Option<String>, CallFailure> {
    acct.block_on(execute(aws, region, &call))
}

#[test]
fn writers_make_what_they_are_asked_and_converge_when_run_again() {
    let acct = Account::new();
    let aws = acct.block_on(Aws::emulator(
        &acct.moto.endpoint(),
        REGION,
        ACCESS_KEY,
        ACCESS_KEY,
    ));
    let bucket_name = own_bucket(REGION);
    let eu_bucket = own_bucket(OTHER_REGION);
    let w = |region: &str, call: WriteCall| write(&acct, &aws, region, call);

    // The bucket, twice (a re-run after a kill), and one in another region.
    for _ in 0..2 {
        assert_eq!(
            w(
                REGION,
                WriteCall::CreateBucket {
                    bucket: bucket_name.clone()
                }
            ),
            Ok(None)
        );
    }
    for _ in 0..2 {
        assert_eq!(
            w(
                OTHER_REGION,
                WriteCall::CreateBucket {
                    bucket: eu_bucket.clone()
                }
            ),
            Ok(None)
        );
    }
    // In the region the bucket is asked for (LocationConstraint sent).
    let eu = more(&acct, OTHER_REGION);
    let located = acct.block_on(async {
        eu.s3
            .get_bucket_location()
            .bucket(&eu_bucket)
            .send()
            .await
            .expect("GetBucketLocation")
    });
    assert_eq!(
        located.location_constraint.map(|c| c.as_str().to_string()),
        Some(OTHER_REGION.to_string())
    );
    // Access logs go to a bucket of the same region that lets S3's log
    // delivery write (moto checks the grant, as AWS does).
    let target = "access-logs-target";
    let home = more(&acct, REGION);
    acct.block_on(async {
        home.s3
            .create_bucket()
            .bucket(target)
            .send()
            .await
            .expect("CreateBucket target");
        let log_delivery = "uri=\"http://acs.amazonaws.com/groups/s3/LogDelivery\"";
        home.s3
            .put_bucket_acl()
            .bucket(target)
            .grant_write(log_delivery)
            .grant_read_acp(log_delivery)
            .send()
            .await
            .expect("PutBucketAcl target");
    });
    let policy = bucket_policy(&bucket_name);
    for call in [
        WriteCall::PutBucketOwnershipControls {
            bucket: bucket_name.clone(),
            object_ownership: "BucketOwnerEnforced".into(),
        },
        WriteCall::PutPublicAccessBlock {
            bucket: bucket_name.clone(),
            settings: PublicAccessBlock::ALL,
        },
        WriteCall::PutBucketPolicy {
            bucket: bucket_name.clone(),
            policy: policy.clone(),
        },
        WriteCall::PutBucketLogging {
            bucket: bucket_name.clone(),
            target_bucket: target.into(),
            target_prefix: "trail-bucket/".into(),
        },
    ] {
        assert_eq!(w(REGION, call.clone()), Ok(None), "{call:?}");
    }

    for _ in 0..2 {
        assert_eq!(
            w(
                REGION,
                WriteCall::CreateLogGroup {
                    name: LOG_GROUP.into()
                }
            ),
            Ok(None)
        );
        assert_eq!(
            w(
                GLOBAL,
                WriteCall::CreateRole {
                    name: ROLE.into(),
                    assume_role_policy: TRUST.into(),
                }
            ),
            Ok(None)
        );
    }
    let trust2 = TRUST.replace("sts:AssumeRole", "sts:AssumeRole\"}, {\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole");
    assert_eq!(
        w(
            GLOBAL,
            WriteCall::UpdateAssumeRolePolicy {
                name: ROLE.into(),
                policy: trust2.clone()
            }
        ),
        Ok(None)
    );
    assert_eq!(
        w(
            GLOBAL,
            WriteCall::PutRolePolicy {
                role: ROLE.into(),
                policy_name: ROLE.into(),
                policy: INLINE.into(),
            }
        ),
        Ok(None)
    );

    let key = w(
        REGION,
        WriteCall::CreateKey {
            description: DESCRIPTION.into(),
            policy: KEY_POLICY.into(),
        },
    )
    .expect("CreateKey")
    .expect("CreateKey returns the key's ARN");
    assert!(
        key.starts_with(&format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/")),
        "{key}"
    );
    let alias = WriteCall::CreateAlias {
        alias: ALIAS.into(),
        key: Deferred::Known(key.clone()),
    };
    assert_eq!(w(REGION, alias.clone()), Ok(None));
    // The alias now names a key: making it again is an error, never a move.
    let again = w(REGION, alias).expect_err("the alias exists");
    assert_eq!(
        again.code.as_deref(),
        Some("AlreadyExistsException"),
        "{again}"
    );
    assert_eq!(
        w(
            REGION,
            WriteCall::EnableKeyRotation {
                key: Deferred::Known(key.clone())
            }
        ),
        Ok(None)
    );
    let key_policy2 = KEY_POLICY.replace("\"Id\":\"cis-fix\"", "\"Id\":\"cis-fix-2\"");
    assert_eq!(
        w(
            REGION,
            WriteCall::PutKeyPolicy {
                key: Deferred::Known(key.clone()),
                policy: key_policy2.clone(),
            }
        ),
        Ok(None)
    );
    // A value known only after apply cannot be sent.
    let unresolved = w(
        REGION,
        WriteCall::EnableKeyRotation {
            key: Deferred::Made { made: "arn".into() },
        },
    )
    .expect_err("an unresolved key");
    assert!(unresolved.message.contains("not known"), "{unresolved}");

    let group_arn = format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}:*");
    let role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE}");
    let trail_arn = w(
        REGION,
        WriteCall::CreateTrail {
            name: "cis-fix".into(),
            s3_bucket_name: bucket_name.clone(),
            settings: TrailSettings {
                is_multi_region_trail: Some(true),
                include_global_service_events: Some(true),
                enable_log_file_validation: Some(true),
                kms_key_id: Some(Deferred::Known(key.clone())),
                cloud_watch_logs_group_arn: Some(Deferred::Known(group_arn.clone())),
                cloud_watch_logs_role_arn: Some(Deferred::Known(role_arn.clone())),
                ..TrailSettings::default()
            },
        },
    )
    .expect("CreateTrail")
    .expect("CreateTrail returns the trail's ARN");
    assert_eq!(
        trail_arn,
        format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/cis-fix")
    );
    // Only what is given changes.
    assert_eq!(
        w(
            REGION,
            WriteCall::UpdateTrail {
                trail: trail_arn.clone(),
                settings: TrailSettings {
                    enable_log_file_validation: Some(false),
                    ..TrailSettings::default()
                },
            }
        ),
        Ok(None)
    );
    let advanced = EventSelectors {
        basic: vec![],
        advanced: vec![AdvancedSelector {
            name: Some("Management events".into()),
            field_selectors: vec![FieldSelector {
                field: "eventCategory".into(),
                equals: vec!["Management".into()],
                ..FieldSelector::default()
            }],
        }],
    };
    let put = |selectors: &EventSelectors| {
        w(
            REGION,
            WriteCall::PutEventSelectors {
                trail: trail_arn.clone(),
                selectors: selectors.clone(),
            },
        )
    };
    assert_eq!(put(&advanced), Ok(None));
    assert_eq!(
        w(
            REGION,
            WriteCall::StartLogging {
                trail: trail_arn.clone()
            }
        ),
        Ok(None)
    );

    let snap = acct.block_on(read_snapshot(
        &aws,
        &Limiter::new(4),
        &Progress::hidden(),
        &ReadScope {
            topic_names: vec![],
            trail: names(),
            regions: Some(vec![REGION.into()]),
            flow_logs: Default::default(),
        },
    ));
    let trails = snap.trails().expect("trails");
    assert_eq!(trails.len(), 1, "one trail, however often it was written");
    let t = &trails[0];
    assert!(t.is_multi_region && t.include_global_service_events);
    assert!(!t.log_file_validation, "UpdateTrail changed it");
    assert_eq!(
        t.kms_key_id.as_deref(),
        Some(key.as_str()),
        "kept by UpdateTrail"
    );
    assert_eq!(t.log_group_arn.as_deref(), Some(group_arn.as_str()));
    assert_eq!(
        t.cloudwatch_logs_role_arn.as_deref(),
        Some(role_arn.as_str())
    );
    assert!(ok(&t.status).is_logging);
    assert_eq!(ok(&t.selectors), &advanced);

    let b = bucket(&snap, &bucket_name).expect("made");
    assert_eq!(ok(&b.region), REGION);
    assert_eq!(
        ok(&b.object_ownership).as_deref(),
        Some("BucketOwnerEnforced")
    );
    assert_eq!(ok(&b.public_access_block), &Some(PublicAccessBlock::ALL));
    assert!(
        ok(&b.policy)
            .as_deref()
            .is_some_and(|p| same_json(p, &policy))
    );
    let logging = ok(&b.logging).as_ref().expect("logging on");
    assert_eq!(
        (
            logging.target_bucket.as_str(),
            logging.target_prefix.as_str()
        ),
        (target, "trail-bucket/")
    );

    let r = role(&snap).expect("made");
    assert!(same_json(&r.assume_role_policy, &trust2), "{r:#?}");
    assert!(same_json(
        &r.inline_policy.as_ref().expect("inline").policy,
        INLINE
    ));

    let ks = keys(&snap, REGION);
    assert_eq!(ks.len(), 1, "{ks:#?}");
    assert_eq!(ks[0].aliases, [ALIAS]);
    assert_eq!(ks[0].rotation_enabled, Some(Observed::Ok(true)));
    assert!(
        ks[0]
            .policy
            .as_ref()
            .is_some_and(|p| same_json(ok::<String>(p), &key_policy2))
    );
    assert_eq!(log_groups(&snap, REGION), [LOG_GROUP]);

    // Classic selectors replace advanced ones, data resources and all.
    let classic = EventSelectors {
        basic: vec![BasicSelector {
            read_write_type: "All".into(),
            include_management_events: true,
            exclude_management_event_sources: vec![],
            data_resources: vec![DataResource {
                kind: "AWS::S3::Object".into(),
                values: vec![format!("arn:aws:s3:::{eu_bucket}/")],
            }],
        }],
        advanced: vec![],
    };
    assert_eq!(put(&classic), Ok(None));
    let snap = acct.block_on(read_snapshot(
        &aws,
        &Limiter::new(4),
        &Progress::hidden(),
        &ReadScope {
            topic_names: vec![],
            trail: names(),
            regions: Some(vec![REGION.into()]),
            flow_logs: Default::default(),
        },
    ));
    let t = &snap.trails().expect("trails")[0];
    // moto keeps the advanced selectors it had (AWS drops them): only the
    // classic ones are checked.
    assert_eq!(ok(&t.selectors).basic, classic.basic);
    assert!(bucket(&snap, &bucket_name).is_some());
    // Buckets of no trail are not read.
    assert!(
        !snap
            .reads
            .keys()
            .any(|k| k.resource.as_deref() == Some(target))
    );
}
