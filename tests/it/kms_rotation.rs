//! KMS key rotation across regions, end to end: the built binary against a
//! moto server, with customer keys of every kind the control skips beside
//! one to rotate, in two regions.
//!
//! Where moto differs from AWS (moto 5.2.5, `moto/kms/models.py`):
//! * EnableKeyRotation succeeds on asymmetric, HMAC, imported, disabled and
//!   pending-deletion keys, where AWS refuses (UnsupportedOperation,
//!   DisabledException, KMSInvalidStateException). So these tests check
//!   that cis-fix never asks: the skipped keys' rotation stays off.
//! * DescribeRegions lists every region moto knows, of every partition and
//!   opted in or not (AWS lists the enabled regions of the caller's
//!   partition); cis-fix keeps the home partition's regions that are not
//!   `not-opted-in`.
//! * `alias/aws/*` keys report KeyManager CUSTOMER, so an AWS managed key
//!   cannot be made here; the unit tests in `src/diff/kms_rotation/tests.rs`
//!   cover that reason.

use aws_sdk_kms::types::{KeySpec, KeyUsageType, OriginType};

use crate::support::account::{Account, control, status_of};
use crate::support::account::{reason, via};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::EMAIL_CONFIG;

const CONTROL: &str = "3.6";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// The keys made in one region: the one to rotate, and one of each kind
/// the control skips, with the reason the plan gives for it.
struct Keys {
    region: &'static str,
    rotate: String,
    skipped: Vec<(String, &'static str)>,
}

/// This account's kms client in `region`.
fn kms_in(acct: &Account, region: &str) -> aws_sdk_kms::Client {
    acct.clients_in(region).kms
}

fn key_id(meta: Option<aws_sdk_kms::types::KeyMetadata>) -> String {
    meta.map(|m| m.key_id).expect("key id")
}

fn make_keys(acct: &Account, region: &'static str) -> Keys {
    let kms = kms_in(acct, region);
    acct.block_on(async {
        let create = |spec: KeySpec, usage: KeyUsageType, origin: OriginType| {
            let kms = kms.clone();
            async move {
                key_id(
                    kms.create_key()
                        .key_spec(spec)
                        .key_usage(usage)
                        .origin(origin)
                        .send()
                        .await
                        .expect("CreateKey")
                        .key_metadata,
                )
            }
        };
        let symmetric = || {
            create(
                KeySpec::SymmetricDefault,
                KeyUsageType::EncryptDecrypt,
                OriginType::AwsKms,
            )
        };
        let rotate = symmetric().await;
        kms.create_alias()
            .alias_name(format!("alias/app-{region}"))
            .target_key_id(&rotate)
            .send()
            .await
            .expect("CreateAlias");
        let rsa = create(
            KeySpec::Rsa2048,
            KeyUsageType::SignVerify,
            OriginType::AwsKms,
        )
        .await;
        let hmac = create(
            KeySpec::Hmac256,
            KeyUsageType::GenerateVerifyMac,
            OriginType::AwsKms,
        )
        .await;
        let imported = create(
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt,
            OriginType::External,
        )
        .await;
        let disabled = symmetric().await;
        kms.disable_key()
            .key_id(&disabled)
            .send()
            .await
            .expect("DisableKey");
        let doomed = symmetric().await;
        kms.schedule_key_deletion()
            .key_id(&doomed)
            .pending_window_in_days(7)
            .send()
            .await
            .expect("ScheduleKeyDeletion");
        Keys {
            region,
            rotate,
            skipped: vec![
                (rsa, "asymmetric (RSA_2048)"),
                (hmac, "HMAC (HMAC_256)"),
                (imported, "imported key material (origin EXTERNAL)"),
                (disabled, "Disabled, not enabled"),
                (doomed, "pending deletion"),
            ],
        }
    })
}

fn rotation(acct: &Account, region: &'static str, key: &str) -> bool {
    let kms = kms_in(acct, region);
    acct.block_on(async {
        kms.get_key_rotation_status()
            .key_id(key)
            .send()
            .await
            .expect("GetKeyRotationStatus")
            .key_rotation_enabled
    })
}

/// The plan's rotation changes: (region, key id).
fn rotation_changes(plan: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["type"] == "aws_kms_key_rotation")
        .map(|c| {
            assert_eq!(c["action"], "update", "{c:#}");
            assert_eq!(c["controls"], serde_json::json!([CONTROL]), "{c:#}");
            assert_eq!(c["before"]["enable_key_rotation"], false, "{c:#}");
            assert_eq!(c["after"]["enable_key_rotation"], true, "{c:#}");
            (
                c["region"].as_str().expect("region").to_string(),
                c["key"].as_str().expect("key").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The details of the plan's skipped-keys notice.
fn skipped_details(plan: &serde_json::Value) -> Vec<String> {
    plan["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .filter(|n| n["kind"] == "kms_keys_skipped")
        .flat_map(|n| n["details"].as_array().cloned().unwrap_or_default())
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect()
}

#[test]
fn rotation_is_turned_on_for_exactly_the_rotatable_keys_of_the_planned_regions() {
    // A trail and someone to notify: the whole account converges, so
    // `--detailed-exitcode` can speak for the rotation control too.
    let acct = Account::with_trail();
    let keys: Vec<Keys> = REGIONS.iter().map(|r| make_keys(&acct, r)).collect();
    // A region outside the chosen ones: its key is neither read nor changed.
    let elsewhere = make_keys(&acct, "us-west-2");
    let cfg = acct.config(&format!(
        "{EMAIL_CONFIG}regions:\n  - us-east-1\n  - eu-west-1\n"
    ));
    let cfg = cfg.to_str().expect("utf-8 path");

    // `--region`, repeated or as a list, names the regions as the config does.
    let plan = acct
        .cis_fix(&["plan", "--json", "--region", "us-east-1,eu-west-1"])
        .json();
    assert_eq!(status_of(&plan, CONTROL), "will-fix", "{plan:#}");
    let mut want: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.region.to_string(), k.rotate.clone()))
        .collect();
    want.sort();
    assert_eq!(rotation_changes(&plan), want);
    let details = skipped_details(&plan);
    for k in &keys {
        for (id, why) in &k.skipped {
            let line = format!("{} key {id}: {why}", k.region);
            assert!(
                details.iter().any(|d| d.starts_with(&line)),
                "{line:?} not among {details:#?}"
            );
        }
    }
    assert_eq!(details.len(), 10, "{details:#?}");
    assert!(
        !plan.to_string().contains(&elsewhere.rotate),
        "us-west-2 was planned: {plan:#}"
    );
    let r = reason(&plan, CONTROL);
    assert!(r.contains("alias/app-eu-west-1 in eu-west-1"), "{r}");

    // The human plan: an update of one flag per key, and the skipped keys
    // with their reasons.
    let human = acct.cis_fix(&["plan", "--region", "us-east-1", "--region", "eu-west-1"]);
    let out = &human.stdout;
    let address = format!(
        "eu-west-1/aws_kms_key_rotation.key[\"{}\"] will be updated in-place",
        keys[1].rotate
    );
    assert!(out.contains(&address), "{out}");
    assert!(
        out.contains("~ enable_key_rotation = false -> true"),
        "{out}"
    );
    assert!(
        out.contains("Note: 10 KMS keys are outside the key rotation control"),
        "{out}"
    );
    assert!(out.contains("pending deletion"), "{out}");

    // Apply (regions from the config) turns rotation on for exactly the
    // rotatable keys.
    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    apply.expect_code(0);
    for k in &keys {
        assert!(rotation(&acct, k.region, &k.rotate), "{}", k.region);
        for (id, why) in &k.skipped {
            assert!(
                !rotation(&acct, k.region, id),
                "{why} key in {} was rotated",
                k.region
            );
        }
    }
    assert!(!rotation(&acct, "us-west-2", &elsewhere.rotate));

    let again = acct.cis_fix(&["plan", "--json", "--detailed-exitcode", "--config", cfg]);
    again.expect_code(0);
    let again = again.json();
    assert_eq!(status_of(&again, CONTROL), "compliant");
    assert!(rotation_changes(&again).is_empty());
    let r = reason(&again, CONTROL);
    assert!(r.contains("in 2 regions"), "{r}");

    // A second apply writes nothing.
    let proxy = FaultProxy::start(&acct.moto);
    let second = acct.run(
        proxy.command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix")),
        &["apply", "--auto-approve", "--config", cfg],
    );
    second.expect_code(0);
    let writes: Vec<String> = proxy
        .calls()
        .iter()
        .filter(|c| c.is_write())
        .map(|c| c.name())
        .collect();
    assert!(writes.is_empty(), "second apply wrote {writes:?}");
}

#[test]
fn a_region_whose_keys_cannot_be_read_is_unknown_and_the_other_is_still_fixed() {
    let acct = Account::new();
    let keys: Vec<Keys> = REGIONS.iter().map(|r| make_keys(&acct, r)).collect();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.deny_in("kms:ListKeys", "eu-west-1");

    let run = via(
        &proxy,
        &acct,
        &["plan", "--json", "--region", "us-east-1,eu-west-1"],
    );
    run.expect_code(1);
    let plan = run.json();
    assert_eq!(status_of(&plan, CONTROL), "unknown", "{plan:#}");
    let r = reason(&plan, CONTROL);
    assert!(r.contains("kms:ListKeys in eu-west-1"), "{r}");
    let control = control(&plan, CONTROL).clone();
    assert_eq!(control["cause"]["kind"], "read_failed", "{control:#}");
    assert_eq!(control["cause"]["failure"]["region"], "eu-west-1");
    // us-east-1's key is still planned; nothing in eu-west-1.
    assert_eq!(
        rotation_changes(&plan),
        [("us-east-1".to_string(), keys[0].rotate.clone())]
    );
    let failed: Vec<(String, String)> = plan["failed_reads"]
        .as_array()
        .expect("failed_reads")
        .iter()
        .map(|f| {
            (
                f["call"].as_str().unwrap_or_default().to_string(),
                f["region"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        failed.contains(&("kms:ListKeys".to_string(), "eu-west-1".to_string())),
        "{failed:?}"
    );
    assert!(!failed.iter().any(|(_, r)| r == "us-east-1"), "{failed:?}");
}

#[test]
fn every_enabled_region_by_default_and_a_failed_region_listing_is_unknown() {
    let acct = Account::new();
    let west = make_keys(&acct, "us-west-2");
    let east = make_keys(&acct, "us-east-1");

    // No --region and no config: every region moto reports enabled.
    let plan = acct.cis_fix(&["plan", "--json"]).json();
    let regions: Vec<&str> = plan["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    for r in ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"] {
        assert!(regions.contains(&r), "{r} not in {regions:?}");
    }
    // Other partitions' regions and regions not opted in are not read.
    assert!(
        !regions
            .iter()
            .any(|r| r.starts_with("cn-") || r.starts_with("us-gov-")),
        "{regions:?}"
    );
    assert_eq!(
        rotation_changes(&plan),
        [
            ("us-east-1".to_string(), east.rotate.clone()),
            ("us-west-2".to_string(), west.rotate.clone()),
        ]
    );
    assert_eq!(status_of(&plan, CONTROL), "will-fix");

    // Without DescribeRegions the set of regions is unknown: the control is
    // unknown, naming the read, and the key of the region read is still
    // planned.
    let proxy = FaultProxy::start(&acct.moto);
    proxy.deny("ec2:DescribeRegions");
    let run = via(&proxy, &acct, &["plan", "--json"]);
    run.expect_code(1);
    let plan = run.json();
    assert_eq!(status_of(&plan, CONTROL), "unknown");
    assert!(
        reason(&plan, CONTROL).contains("ec2:DescribeRegions"),
        "{plan:#}"
    );
    assert_eq!(
        rotation_changes(&plan),
        [("us-east-1".to_string(), east.rotate.clone())]
    );

    // Naming the regions needs no DescribeRegions.
    let asked = || {
        proxy
            .calls()
            .iter()
            .filter(|c| c.name() == "ec2:DescribeRegions")
            .count()
    };
    let before = asked();
    let run = via(&proxy, &acct, &["plan", "--json", "--region", "us-west-2"]);
    let plan = run.json();
    assert_eq!(status_of(&plan, CONTROL), "will-fix", "{plan:#}");
    assert_eq!(
        rotation_changes(&plan),
        [("us-west-2".to_string(), west.rotate.clone())]
    );
    assert_eq!(asked(), before, "DescribeRegions was called");
}
