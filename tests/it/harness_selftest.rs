//! Checks the moto test harness itself: install, start, S3 bucket, reset,
//! and two independent servers at once.

use crate::support::Moto;

#[test]
fn moto_servers_start_create_buckets_reset_and_run_side_by_side() {
    let a = Moto::start();
    let b = Moto::start();
    assert_ne!(a.port(), b.port());
    assert_eq!(a.endpoint(), format!("http://127.0.0.1:{}", a.port()));

    // A bucket made on one server exists there only.
    a.create_s3_bucket("harness-selftest-bucket");
    assert_eq!(a.get("/harness-selftest-bucket").status, 200);
    assert_eq!(b.get("/harness-selftest-bucket").status, 404);

    // Reset empties the server.
    a.reset();
    assert_eq!(a.get("/harness-selftest-bucket").status, 404);
    b.create_s3_bucket("harness-selftest-bucket");
    assert_eq!(b.get("/harness-selftest-bucket").status, 200);

    // The child environment points at the server and away from ~/.aws.
    let env = a.env();
    let var = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} not set"))
    };
    assert_eq!(var("AWS_ENDPOINT_URL"), a.endpoint());
    assert_eq!(var("AWS_REGION"), "us-east-1");
    assert!(!std::path::Path::new(&var("AWS_CONFIG_FILE")).exists());
    assert!(!std::path::Path::new(&var("AWS_SHARED_CREDENTIALS_FILE")).exists());
    let cmd = a.command("true");
    let profile = cmd
        .get_envs()
        .find(|(k, _)| *k == "AWS_PROFILE")
        .map(|(_, v)| v);
    assert_eq!(profile, Some(None), "AWS_PROFILE must be removed");
    assert!(a.command("true").status().unwrap().success());
}
