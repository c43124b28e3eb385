#![no_main]
//! Any text: parse must not panic or hang, and whatever parses must print a
//! canonical form that parses again, evaluate and judge coverage safely.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = cis_fix::pattern::parse(text) {
        let canonical = p.canonical();
        let again = cis_fix::pattern::parse(&canonical).expect("canonical form parses");
        assert_eq!(again.canonical(), canonical, "canonical form is a fixpoint");
        let _ = p.matches(&serde_json::json!({"eventName": "CreateTrail", "errorCode": "AccessDenied"}));
        let _ = cis_fix::pattern::covers(&p, &again);
    }
});
