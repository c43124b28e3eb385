//! Bad input never panics: every loader answers arbitrary text, truncations
//! and corruptions of valid files with an error that names the file.

use cis_fix::config::Config;
use cis_fix::jsonplan::JsonPlan as Plan;
use cis_fix::saved_plan::{ConfigInput, HomeFrom, Inputs, SavedPlan};
use cis_fix::snapshot::Snapshot;
use proptest::prelude::*;

const SNAPSHOT: &str = include_str!("../../examples/accounts/partly-compliant.json");
const CONFIG: &str = include_str!("../../examples/cis-fix.yaml");

fn plan_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(make_plan_text)
}

fn make_plan_text() -> String {
    let b = cis_fix::benchmark::load("3.0.0").expect("benchmark");
    let d = cis_fix::desired::build(&b, &Config::default(), "defaults").expect("desired");
    let s = Snapshot::from_json(SNAPSHOT, "snap").expect("snapshot");
    Plan::from_plan(
        &cis_fix::diff::plan(&d, &s, cis_fix::date::Date::from_days(20_000)).expect("plan"),
    )
    .to_json()
}

/// A saved plan of the same account.
fn saved_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let b = cis_fix::benchmark::load("3.0.0").expect("benchmark");
        let d = cis_fix::desired::build(&b, &Config::default(), "defaults").expect("desired");
        let s = Snapshot::from_json(SNAPSHOT, "snap").expect("snapshot");
        let inputs = Inputs {
            account_id: s.account_id.clone(),
            home_region: s.region.clone(),
            home_from: HomeFrom::Snapshot,
            chosen_regions: s.chosen_regions.clone(),
            regions: s.planned_regions().unwrap_or_default(),
            benchmark: "3.0.0".into(),
            benchmark_flag: None,
            config: ConfigInput {
                flag: None,
                path: None,
                sha256: None,
            },
            allow_destructive: false,
            opt_ins: vec![],
            snapshot_file: Some("snap".into()),
        };
        SavedPlan::new(
            &cis_fix::diff::plan(&d, &s, cis_fix::date::Date::from_days(20_000)).expect("plan"),
            &s,
            inputs,
        )
        .to_json()
    })
}

fn corrupt(text: &str, at: usize, byte: u8, cut: bool) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let i = at % bytes.len().max(1);
    if cut {
        bytes.truncate(i);
    } else if let Some(b) = bytes.get_mut(i) {
        *b = byte;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn valid_files_load() {
    assert!(Snapshot::from_json(SNAPSHOT, "s").is_ok());
    assert!(Config::parse(CONFIG, "c").is_ok());
    let text = plan_text();
    assert_eq!(Plan::from_json(text, "p").expect("plan").to_json(), text);
    let saved = SavedPlan::from_json(saved_text(), "s").expect("saved plan");
    assert_eq!(saved.to_json(), saved_text());
    saved.internal_plan("s").expect("its plan to apply");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,400}") {
        let _ = Config::parse(&s, "c.yaml");
        let _ = Snapshot::from_json(&s, "s.json");
        let _ = Plan::from_json(&s, "p.json");
        let _ = SavedPlan::from_json(&s, "p.cisplan");
        let _ = cis_fix::pattern::parse(&s);
    }

    #[test]
    fn corrupted_snapshot_is_an_error_naming_the_file(at in 0usize..100_000, byte in any::<u8>(), cut in any::<bool>()) {
        let bad = corrupt(SNAPSHOT, at, byte, cut);
        if let Err(e) = Snapshot::from_json(&bad, "acct.json") {
            prop_assert!(e.to_string().starts_with("acct.json"), "{}", e);
        }
    }

    #[test]
    fn corrupted_config_is_an_error_naming_the_file(at in 0usize..100_000, byte in any::<u8>(), cut in any::<bool>()) {
        let bad = corrupt(CONFIG, at, byte, cut);
        if let Err(e) = Config::parse(&bad, "cis-fix.yaml") {
            prop_assert!(e.to_string().starts_with("cis-fix.yaml"), "{}", e);
        }
    }

    #[test]
    fn corrupted_plan_is_an_error_naming_the_file(at in 0usize..100_000, byte in any::<u8>(), cut in any::<bool>()) {
        let bad = corrupt(plan_text(), at, byte, cut);
        if let Err(e) = Plan::from_json(&bad, "plan.json") {
            prop_assert!(e.to_string().starts_with("plan.json"), "{}", e);
        }
    }

    /// A saved plan is applied only as it was written: any corruption is
    /// an error naming the file, unless it only touched the layout.
    #[test]
    fn corrupted_saved_plan_is_an_error_or_the_same_plan(at in 0usize..200_000, byte in any::<u8>(), cut in any::<bool>()) {
        let bad = corrupt(saved_text(), at, byte, cut);
        match SavedPlan::from_json(&bad, "plan.cisplan") {
            Err(e) => prop_assert!(e.to_string().starts_with("plan.cisplan"), "{}", e),
            Ok(p) => prop_assert_eq!(p, SavedPlan::from_json(saved_text(), "x").expect("original")),
        }
    }
}

/// A CloudTrail file as delivered to S3: gzipped `{"Records": [...]}`.
fn gzipped_records() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        use std::io::Write;
        let text = r#"{"Records": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "userIdentity": {"type": "Root"}}, {"eventSource": "s3.amazonaws.com", "eventName": "GetObject"}]}"#;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).expect("compress");
        enc.finish().expect("compress")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn corrupted_events_file_is_an_error_naming_the_file(at in 0usize..100_000, byte in any::<u8>(), cut in any::<bool>()) {
        let mut bad = gzipped_records().to_vec();
        let i = at % bad.len();
        if cut {
            bad.truncate(i);
        } else {
            bad[i] = byte;
        }
        match cis_fix::events::parse(&bad, "trail.json.gz") {
            Ok(events) => prop_assert!(events.len() <= 2),
            Err(e) => prop_assert!(e.to_string().starts_with("trail.json.gz"), "{}", e),
        }
    }

    #[test]
    fn arbitrary_bytes_as_events_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = cis_fix::events::parse(&bytes, "e.json");
    }
}
