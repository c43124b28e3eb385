//! The rotation judgement from plain values: which keys are changed,
//! which are listed as skipped and why, and what a failed read leaves.

use super::*;
use crate::kinds::ReadData;
use crate::kinds::kms_key_rotation::Skip;
use crate::plan::{ControlReport, Notice};
use crate::snapshot::{REGIONS_READ, ReadKey};

const ACCOUNT: &str = "123456789012";

fn controls() -> Vec<KmsControl> {
    let b = crate::benchmark::load("3.0.0").expect("benchmark");
    let d =
        crate::desired::build(&b, &crate::config::Config::default(), "defaults").expect("desired");
    assert_eq!(d.kms.len(), 1);
    d.kms
}

/// A customer managed, enabled, symmetric encryption key of `region`.
fn key(region: &str, id: &str, rotation: Option<bool>) -> KmsKeyFacts {
    use crate::observed::Observed;
    KmsKeyFacts {
        arn: format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}"),
        description: String::new(),
        key_manager: "CUSTOMER".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        origin: "AWS_KMS".into(),
        key_state: "Enabled".into(),
        aliases: vec![],
        replica: false,
        rotation_enabled: rotation.map(Observed::Ok),
        policy: None,
    }
}

fn denied(call: &str, region: &str) -> CallFailure {
    CallFailure {
        call: call.into(),
        region: region.into(),
        resource: None,
        code: Some("AccessDeniedException".into()),
        message: "denied".into(),
        detail: None,
    }
}

/// A snapshot whose enabled regions are those of `regions`, each with its
/// key read.
fn snap(regions: Vec<(&str, Observed<Vec<KmsKeyFacts>>)>) -> Snapshot {
    let mut s = Snapshot::new(Some(ACCOUNT.into()), None, "us-east-1");
    s.record(
        ReadKey::new(REGIONS_READ, "us-east-1", None),
        Observed::Ok(ReadData::Regions(
            regions.iter().map(|(r, _)| r.to_string()).collect(),
        )),
    );
    for (r, keys) in regions {
        s.record(
            ReadKey::new(kms_key::READ, r, None),
            keys.map(ReadData::KmsKeys),
        );
    }
    s
}

struct Planned {
    changes: Vec<Change>,
    control: ControlReport,
    notices: Vec<Notice>,
}

fn run(s: &Snapshot) -> Planned {
    let mut out = PlanBuilder::new(Some(ACCOUNT));
    plan(&controls(), s, &mut out);
    let mut parts = out.finish(&[]).expect("no diff error");
    assert_eq!(parts.controls.len(), 1);
    Planned {
        changes: parts.changes,
        control: parts.controls.remove(0),
        notices: parts.notices,
    }
}

fn skipped(p: &Planned) -> Vec<(String, Skip)> {
    p.notices
        .iter()
        .flat_map(|n| match n {
            Notice::KmsKeysSkipped { keys } => keys
                .iter()
                .map(|k| (k.key_id.clone(), k.skip.clone()))
                .collect(),
            _ => vec![],
        })
        .collect()
}

#[test]
fn a_key_with_rotation_off_gets_it_turned_on_in_its_region() {
    let mut k = key("eu-west-1", "k1", Some(false));
    k.aliases = vec!["alias/app".into()];
    let p = run(&snap(vec![
        (
            "us-east-1",
            Observed::Ok(vec![key("us-east-1", "k0", Some(true))]),
        ),
        ("eu-west-1", Observed::Ok(vec![k])),
    ]));
    assert_eq!(p.control.status, ControlStatus::WillFix);
    assert!(
        p.control.reason.contains("alias/app in eu-west-1"),
        "{}",
        p.control.reason
    );
    assert!(
        p.control.reason.contains("1 key already rotates"),
        "{}",
        p.control.reason
    );
    let [c] = p.changes.as_slice() else {
        panic!("{:?}", p.changes)
    };
    assert_eq!(
        c.address.to_string(),
        "123456789012/eu-west-1/aws_kms_key_rotation.key[\"k1\"]"
    );
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.controls, ["3.6"]);
    let calls = crate::kinds::calls(c.action, c.before.as_ref(), c.after.as_ref());
    assert_eq!(
        calls,
        [crate::kinds::WriteCall::EnableKeyRotation {
            key: crate::kinds::Deferred::Known(format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1"))
        }]
    );
    assert!(skipped(&p).is_empty());
}

#[test]
fn rotation_already_on_everywhere_is_compliant_and_plans_nothing() {
    let p = run(&snap(vec![
        (
            "us-east-1",
            Observed::Ok(vec![key("us-east-1", "a", Some(true))]),
        ),
        (
            "eu-west-1",
            Observed::Ok(vec![key("eu-west-1", "b", Some(true))]),
        ),
        ("ap-south-1", Observed::Ok(vec![])),
    ]));
    assert_eq!(p.control.status, ControlStatus::Compliant);
    assert!(
        p.control
            .reason
            .contains("all 2 customer managed symmetric encryption keys in 3 regions"),
        "{}",
        p.control.reason
    );
    assert!(p.changes.is_empty());
    // No key at all is compliant too, and says so.
    let p = run(&snap(vec![("us-east-1", Observed::Ok(vec![]))]));
    assert_eq!(p.control.status, ControlStatus::Compliant);
    assert!(
        p.control.reason.contains("no customer managed"),
        "{}",
        p.control.reason
    );
}

#[test]
fn every_key_outside_the_control_is_listed_with_its_reason_and_never_changed() {
    let r = "us-east-1";
    let with = |id: &str, f: &dyn Fn(&mut KmsKeyFacts)| {
        let mut k = key(r, id, Some(false));
        // What is skipped is not read for rotation: no status at all.
        k.rotation_enabled = None;
        f(&mut k);
        k
    };
    let keys = vec![
        with("aws", &|k| {
            k.key_manager = "AWS".into();
            k.aliases = vec!["alias/aws/s3".into()];
        }),
        with("rsa", &|k| {
            k.key_spec = "RSA_2048".into();
            k.key_usage = "SIGN_VERIFY".into();
        }),
        with("hmac", &|k| {
            k.key_spec = "HMAC_256".into();
            k.key_usage = "GENERATE_VERIFY_MAC".into();
        }),
        with("off", &|k| k.key_state = "Disabled".into()),
        with("doomed", &|k| k.key_state = "PendingDeletion".into()),
        with("imported", &|k| k.origin = "EXTERNAL".into()),
        with("xks", &|k| k.origin = "EXTERNAL_KEY_STORE".into()),
        with("hsm", &|k| k.origin = "AWS_CLOUDHSM".into()),
        with("replica", &|k| k.replica = true),
        key(r, "rotate-me", Some(false)),
    ];
    let p = run(&snap(vec![(r, Observed::Ok(keys))]));
    let got = skipped(&p);
    let want = [
        ("aws", Skip::AwsManaged),
        (
            "rsa",
            Skip::Asymmetric {
                key_spec: "RSA_2048".into(),
            },
        ),
        (
            "hmac",
            Skip::Hmac {
                key_spec: "HMAC_256".into(),
            },
        ),
        (
            "off",
            Skip::NotEnabled {
                key_state: "Disabled".into(),
            },
        ),
        ("doomed", Skip::PendingDeletion),
        ("imported", Skip::ImportedMaterial),
        (
            "xks",
            Skip::CustomKeyStore {
                origin: "EXTERNAL_KEY_STORE".into(),
            },
        ),
        (
            "hsm",
            Skip::CustomKeyStore {
                origin: "AWS_CLOUDHSM".into(),
            },
        ),
        ("replica", Skip::Replica),
    ];
    assert_eq!(
        got,
        want.iter()
            .map(|(id, s)| (id.to_string(), s.clone()))
            .collect::<Vec<_>>()
    );
    // Only the one rotatable key is changed.
    let [c] = p.changes.as_slice() else {
        panic!("{:?}", p.changes)
    };
    assert_eq!(c.address.key.as_deref(), Some("rotate-me"));
    assert_eq!(p.control.status, ControlStatus::WillFix);
    assert!(
        p.control.reason.contains("9 keys outside the control"),
        "{}",
        p.control.reason
    );
    // The notice says each key's reason in words.
    let n = p
        .notices
        .iter()
        .find(|n| n.kind() == "kms_keys_skipped")
        .expect("notice");
    let details = n.details();
    assert!(
        details.contains(
            &"us-east-1 key aws (alias/aws/s3): AWS managed: AWS rotates it itself".to_string()
        ),
        "{details:#?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("us-east-1 key imported: imported key material")),
        "{details:#?}"
    );
}

#[test]
fn a_region_whose_keys_could_not_be_read_is_unknown_and_the_others_are_fixed() {
    let p = run(&snap(vec![
        (
            "us-east-1",
            Observed::Ok(vec![key("us-east-1", "k", Some(false))]),
        ),
        (
            "eu-west-1",
            Observed::Failed(denied(kms_key::READ, "eu-west-1")),
        ),
    ]));
    assert_eq!(p.control.status, ControlStatus::Unknown);
    assert!(
        p.control.reason.contains("eu-west-1"),
        "{}",
        p.control.reason
    );
    assert!(
        matches!(&p.control.cause, Some(Cause::ReadFailed { failure }) if failure.region == "eu-west-1"),
        "{:?}",
        p.control.cause
    );
    // Nothing in eu-west-1; us-east-1's key is still fixed.
    let regions: Vec<&str> = p.changes.iter().map(|c| c.address.region()).collect();
    assert_eq!(regions, ["us-east-1"]);
}

#[test]
fn a_key_whose_rotation_status_could_not_be_read_is_unknown_and_not_changed() {
    let mut k = key("us-east-1", "k", None);
    k.rotation_enabled = Some(Observed::Failed(denied(
        "kms:GetKeyRotationStatus",
        "us-east-1",
    )));
    let p = run(&snap(vec![("us-east-1", Observed::Ok(vec![k]))]));
    assert_eq!(p.control.status, ControlStatus::Unknown);
    assert!(p.changes.is_empty());
}

#[test]
fn failed_region_listing_is_unknown_but_the_regions_read_are_still_judged() {
    let mut s = Snapshot::new(Some(ACCOUNT.into()), None, "us-east-1");
    s.record(
        ReadKey::new(REGIONS_READ, "us-east-1", None),
        Observed::Failed(denied(REGIONS_READ, "us-east-1")),
    );
    s.record(
        ReadKey::new(kms_key::READ, "us-east-1", None),
        Observed::Ok(ReadData::KmsKeys(vec![key("us-east-1", "k", Some(false))])),
    );
    let p = run(&s);
    assert_eq!(p.control.status, ControlStatus::Unknown);
    assert!(
        p.control.reason.contains("ec2:DescribeRegions"),
        "{}",
        p.control.reason
    );
    assert_eq!(p.changes.len(), 1);
    // A snapshot that never read the regions (an older one) is unknown too.
    let mut old = Snapshot::new(Some(ACCOUNT.into()), None, "us-east-1");
    old.record(
        ReadKey::new(kms_key::READ, "us-east-1", None),
        Observed::Ok(ReadData::KmsKeys(vec![])),
    );
    assert_eq!(run(&old).control.status, ControlStatus::Unknown);
}

#[test]
fn chosen_regions_are_planned_instead_of_the_enabled_ones() {
    let mut s = snap(vec![
        (
            "us-east-1",
            Observed::Ok(vec![key("us-east-1", "a", Some(false))]),
        ),
        (
            "eu-west-1",
            Observed::Ok(vec![key("eu-west-1", "b", Some(false))]),
        ),
    ]);
    s.chosen_regions = Some(vec!["eu-west-1".into()]);
    let p = run(&s);
    let regions: Vec<&str> = p.changes.iter().map(|c| c.address.region()).collect();
    assert_eq!(regions, ["eu-west-1"]);
    // A chosen region that was not read is unknown, named.
    s.chosen_regions = Some(vec!["eu-west-1".into(), "sa-east-1".into()]);
    let p = run(&s);
    assert_eq!(p.control.status, ControlStatus::Unknown);
    assert!(
        p.control.reason.contains("sa-east-1"),
        "{}",
        p.control.reason
    );
}

#[test]
fn the_trail_keys_update_serves_the_control_instead_of_a_second_change() {
    let k = key("us-east-1", "trail", Some(false));
    let mut out = PlanBuilder::new(Some(ACCOUNT));
    let address = Address::new(
        &out.at("us-east-1"),
        crate::kinds::KmsKey::TYPE,
        "cloudtrail",
    );
    let own = |rotation: bool| crate::kinds::KmsKey {
        alias: Some("alias/cis-fix-cloudtrail".into()),
        description: String::new(),
        policy: "{}".into(),
        enable_key_rotation: rotation,
        arn: crate::kinds::Deferred::Known(k.arn.clone()),
    };
    out.change(Change {
        address: address.clone(),
        action: Action::Update,
        controls: vec![],
        reason: "cis-fix's CloudTrail key".into(),
        before: Some(Resource::KmsKey(own(false))),
        after: Some(Resource::KmsKey(own(true))),
        depends_on: vec![],
    });
    plan(
        &controls(),
        &snap(vec![("us-east-1", Observed::Ok(vec![k]))]),
        &mut out,
    );
    let parts = out.finish(&[]).expect("no diff error");
    assert_eq!(parts.changes.len(), 1);
    assert_eq!(parts.changes[0].controls, ["3.6"]);
    assert_eq!(parts.controls[0].status, ControlStatus::WillFix);
}
