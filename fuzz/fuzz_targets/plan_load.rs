#![no_main]
//! Any text: the loader answers with a value or an error naming the file,
//! never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = cis_fix::jsonplan::JsonPlan::from_json(text, "fuzz.json") {
        assert!(e.to_string().starts_with("fuzz."), "{e}");
    }
});
