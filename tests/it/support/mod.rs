//! Integration-test harness: a real AWS API emulator (moto server) per test.
//!
//! ```ignore
//! // In any module of tests/it/main.rs, which declares `mod support;`:
//! use crate::support::Moto;
//!
//! #[test]
//! fn plans_against_moto() {
//!     let moto = Moto::start();              // installs moto on first use
//!     moto.create_s3_bucket("trail-bucket");  // CreateTrail needs it
//!     let out = moto
//!         .command(env!("CARGO_BIN_EXE_cis-fix"))
//!         .arg("plan")
//!         .output()
//!         .unwrap();
//!     assert!(out.status.success());
//! }                                           // server killed on drop
//! ```
//!
//! * The first test to need moto installs it (pinned, see
//!   [`install::PIP_REQUIREMENTS`]) into a venv at `<target>/moto-venv`, where
//!   `<target>` is `$CARGO_TARGET_DIR` or `<package>/target`. That takes about
//!   40 s with PyPI reachable; later runs reuse it. Concurrent test binaries
//!   and threads wait on one lock; a failed install panics with pip's output.
//!   Nothing is ever skipped.
//! * Each [`Moto`] is its own server process on a free loopback port, so
//!   tests share no state and can run in parallel. Its stdout and stderr go
//!   to `<target>/moto-logs/moto-<port>-<pid>-<n>.log`; the log is deleted
//!   when the `Moto` is dropped normally and kept (path printed) when the
//!   test is panicking. The server also exits by itself when the test process
//!   dies (it watches its stdin pipe), so killed test runs leave no servers.
//! * Only std and `tempfile` are used.
//!
//! # What moto 5.2.5 does (read from its source)
//!
//! Read from the installed moto 5.2.5 (botocore 1.44.5); the CloudTrail,
//! Logs, CloudWatch, SNS and IAM-enforcement points below were also checked
//! with boto3 against a live server.
//!
//! Paths are inside the installed package, `<venv>/lib/python3.*/site-packages/`.
//! Account is always `123456789012` ([`ACCOUNT_ID`]) with the `testing`
//! credentials (`moto/core/models.py` `DEFAULT_ACCOUNT_ID`; `moto/iam/models.py`
//! `get_account_id_from` maps only access keys that moto itself issued), and
//! STS GetCallerIdentity answers `arn:aws:sts::123456789012:user/moto`
//! (`moto/sts/models.py` `get_caller_identity`). The region of a request is
//! the one in its SigV4 credential scope; an unsigned request is routed by
//! path, and falls back to S3 in us-east-1 (`moto/moto_server/werkzeug_app.py`
//! `DEFAULT_SERVICE_REGION`, `infer_service_region_host`).
//!
//! ## Server CLI and control API
//! * `moto/server.py` `main`: `moto_server [-H host] [-p port] [-r] [-s] [-c cert] [-k key]`;
//!   host defaults to 127.0.0.1, port to `$MOTO_PORT` or 5000; it sets
//!   `MOTO_PORT` to the port when unset (moto uses it for URLs it builds).
//!   It runs werkzeug's threaded dev server, which prints
//!   ` * Running on http://127.0.0.1:<port>` to stderr once bound, and on a
//!   taken port prints `Address already in use` / `Port <p> is in use by
//!   another program` and exits 1.
//! * `moto/moto_api/_internal/urls.py`, `responses.py`: `POST /moto-api/reset`
//!   empties every backend (200 `{"status": "ok"}`; a GET is a 400).
//!   `GET /moto-api/config` answers **201** with `{"batch":..,"lambda":..}`
//!   (the readiness probe used here). `POST /moto-api/reset-auth` with a
//!   number as the body sets `INITIAL_NO_AUTH_ACTION_COUNT` and zeroes the
//!   request counter. `POST /moto-api/seed?a=<n>` seeds moto's random ids.
//!
//! ## IAM enforcement: `INITIAL_NO_AUTH_ACTION_COUNT`
//! `moto/settings.py`: read once at import from the env var, default
//! infinity (no authentication or authorization at all). `moto/core/authorization.py`
//! `ActionAuthenticatorMixin._authenticate_and_authorize_action`: a single
//! class-wide counter over *all* requests to the server (every service,
//! S3 included; the `/moto-api` calls don't count); the first N requests
//! pass unchecked, every later one must be SigV4-signed with an access key
//! that moto issued (IAM CreateAccessKey, or STS AssumeRole) and be allowed
//! by that user's/role's IAM policies, else `InvalidClientTokenId`,
//! `SignatureDoesNotMatch` or `AccessDenied` (`moto/iam/access_control.py`).
//! The `testing` keys are not moto-issued, so they stop working after N
//! (seen: IAM ListUsers gives `InvalidClientTokenId`), and so does the
//! harness's unsigned [`Moto::create_s3_bucket`] (seen: a bare HTTP 500):
//! create buckets within the first N requests.
//! `/moto-api/reset` does not touch N or the counter; use
//! [`Moto::start_with_env`] with `("INITIAL_NO_AUTH_ACTION_COUNT", "N")` or
//! [`Moto::reset_auth`].
//!
//! ## CloudTrail (`moto/cloudtrail/models.py`, `responses.py`)
//! * CreateTrail requires the S3 bucket to exist in the account (any
//!   region: S3 is looked up per partition), else 400
//!   `S3BucketDoesNotExistException` (`Trail.check_bucket_exists`). Hence
//!   [`Moto::create_s3_bucket`].
//! * `SnsTopicName` must be a topic *name* that exists in the trail's own
//!   region: moto builds `arn:aws:sns:<region>:<acct>:<name>` from it, so an
//!   ARN there, or a missing topic, is `InsufficientSnsTopicPolicyException`
//!   (`check_topic_exists`).
//! * `CloudWatchLogsLogGroupArn`, `CloudWatchLogsRoleArn` and `KmsKeyId` are
//!   stored and echoed back without any check (no log group, role or key
//!   needs to exist); unset ones come back as JSON `null`.
//! * CreateTrail with an existing name silently *replaces* the trail (no
//!   `TrailAlreadyExistsException`); `IsMultiRegionTrail=true` with
//!   `IncludeGlobalServiceEvents=false` is `InvalidParameterCombinationException`
//!   (CreateTrail only, not UpdateTrail). UpdateTrail re-checks neither the
//!   bucket nor the topic.
//! * GetEventSelectors on a new trail returns `EventSelectors: []` and
//!   `AdvancedEventSelectors: []` (real AWS reports one default selector:
//!   ReadWriteType All, management events included). PutEventSelectors stores
//!   what it is given; DescribeTrails always says `HasCustomEventSelectors:
//!   false` and `HasInsightSelectors: false`. PutInsightSelectors *appends*.
//! * DescribeTrails ignores `trailNameList` entirely and returns every trail;
//!   `includeShadowTrails` defaults to true, and then a multi-region trail
//!   created in another region is listed too, with `HomeRegion` = the region
//!   it was created in and its ARN in that region. Single-region trails of
//!   other regions are not listed. ListTrails = the same set.
//! * GetTrailStatus accepts a name or an ARN and searches the shadow set
//!   too, so it works from any region for a multi-region trail. A new trail
//!   has `IsLogging: false`; the `Latest*`/`TimeLogging*` fields are `""`
//!   until StartLogging, `StartLoggingTime` is epoch seconds.
//! * GetTrail, GetEventSelectors, PutEventSelectors, StartLogging,
//!   StopLogging and UpdateTrail accept a name or ARN but only find trails
//!   of the region the request is sent to (`CloudTrailBackend.get_trail`):
//!   from another region they give `TrailNotFoundException`.
//! * DeleteTrail matches by *name only* and silently does nothing for an ARN
//!   or an unknown name.
//!
//! ## CloudWatch Logs (`moto/logs/models.py`, `metric_filters.py`, `responses.py`)
//! * PutMetricFilter does not check that the log group exists, and *appends*:
//!   putting the same filterName on the same group again leaves two entries
//!   (AWS replaces). DeleteMetricFilter removes while iterating the list, so
//!   with two duplicates one survives each call.
//! * DescribeMetricFilters has no paging: all matches in one page, and it
//!   echoes back whatever `nextToken` it was sent (null on the first call,
//!   so SDK paginators stop after one page). `metricName` and
//!   `metricNamespace` must be given together. No `creationTime` is returned.
//! * DeleteLogGroup leaves that group's metric filters in place.
//!   CreateLogGroup on an existing name is `ResourceAlreadyExistsException`.
//!   DescribeLogGroups does page (limit default and max 50).
//!
//! ## CloudWatch (`moto/cloudwatch/responses.py`, `models.py`)
//! * Protocol: moto takes the protocol from the request's Content-Type and
//!   allows what botocore's model lists for the service
//!   (`moto/core/request.py` `determine_request_protocol`): for CloudWatch
//!   with botocore 1.44.5 that is `query` (awsQuery, form-encoded) and
//!   `json`; `smithy-rpc-v2-cbor` is not implemented. So aws-sdk-cloudwatch
//!   must stay on an awsQuery release (the crate's `=1.99.0` pin).
//! * DescribeAlarms ignores `MaxRecords`, `NextToken` and `AlarmTypes`
//!   (returns metric and composite alarms, no NextToken). Its filters are
//!   exclusive, first present wins: `ActionPrefix`, then `AlarmNamePrefix`,
//!   then `AlarmNames`, then `StateValue`.
//! * PutMetricAlarm replaces an alarm of the same name; DeleteAlarms ignores
//!   unknown names. New alarms are in `INSUFFICIENT_DATA`.
//!
//! ## SNS (`moto/sns/models.py`, `responses.py`, `utils.py`)
//! * Subscribe confirms at once for every protocol (email included):
//!   `PendingConfirmation: false`, and both Subscribe and
//!   ListSubscriptions[ByTopic] return the real ARN
//!   `<topic-arn>:<uuid4>`, never `pending confirmation`. Subscribing the
//!   same (topic, protocol, endpoint) again returns the existing subscription.
//! * ListSubscriptionsByTopic / ListSubscriptions / ListTopics page 100 at a
//!   time; `NextToken` is the decimal offset, sent whenever a page is exactly
//!   full (so exactly 100 items give an extra empty page).
//! * Topics are looked up in the backend of the request's region, whatever
//!   region the ARN names. CreateTopic with an existing name returns it.
//!
//! ## S3
//! An unsigned `PUT /<bucket>` with no body creates the bucket in us-east-1
//! (path-style; the host is an IP) and answers 200.

pub mod account;
pub mod faults;
pub mod fixtures;
pub mod http;
pub mod install;

pub use http::HttpResponse;
pub use install::{ensure_moto, target_dir};

use std::ffi::OsStr;
use std::fs::{self, File};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The account moto uses for the `testing` credentials.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region the child process is pointed at.
pub const REGION: &str = "us-east-1";
/// How long a server may take to answer after it is started.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How many fresh ports to try when the chosen one was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;
/// How long [`wait_until`] waits for something that takes milliseconds:
/// far more than a slow machine needs, so running out means it never came.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs exactly what `<venv>/bin/moto_server` runs (`moto.server.main` with
/// the same argv), plus a watchdog thread that ends the server when its stdin
/// closes, i.e. when the test process that started it is gone, however it
/// died.
const LAUNCHER: &str = "\
import os, sys, threading
def _watch():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
";

static SERVER_COUNT: AtomicUsize = AtomicUsize::new(0);

/// One running moto server, killed and reaped on drop.
pub struct Moto {
    child: Child,
    /// Held open so the server's watchdog keeps it alive; closes on drop.
    stdin: Option<ChildStdin>,
    port: u16,
    log_path: PathBuf,
    /// Holds the (never created) AWS config and credentials file paths.
    aws_home: tempfile::TempDir,
}

enum Startup {
    Ready,
    PortTaken(String),
    Failed(String),
}

impl Moto {
    /// Installs moto if needed, starts a server on a free loopback port and
    /// waits until it answers, with every region's networking compliant
    /// ([`fixtures::network_compliant`]). Panics (with the server's log) if
    /// it can't.
    pub fn start() -> Moto {
        let moto = Moto::start_with_env(&[]);
        fixtures::network_compliant(&moto.endpoint());
        moto
    }

    /// Like [`Moto::start`], with extra environment for the server process,
    /// e.g. `("INITIAL_NO_AUTH_ACTION_COUNT", "0")` to enforce IAM policies.
    /// Inherited `MOTO_*`, `AWS_*`, `INITIAL_NO_AUTH_ACTION_COUNT`,
    /// `WERKZEUG_*` and `PYTHON*` variables are not passed on.
    pub fn start_with_env(extra_env: &[(&str, &str)]) -> Moto {
        let venv = ensure_moto();
        let log_dir = target_dir().join("moto-logs");
        fs::create_dir_all(&log_dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_dir.display()));

        let mut taken = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let n = SERVER_COUNT.fetch_add(1, Ordering::Relaxed);
            let log_path = log_dir.join(format!("moto-{port}-{}-{n}.log", std::process::id()));
            let log = File::create(&log_path)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
            let log_err = log.try_clone().expect("clone log file handle");

            let mut cmd = Command::new(venv.join("bin").join("python"));
            cmd.arg("-c")
                .arg(LAUNCHER)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            for (key, _) in std::env::vars_os() {
                let k = key.to_string_lossy();
                if k.starts_with("MOTO_")
                    || k.starts_with("AWS_")
                    || k.starts_with("WERKZEUG_")
                    || k.starts_with("PYTHON")
                    || k == "INITIAL_NO_AUTH_ACTION_COUNT"
                {
                    cmd.env_remove(&key);
                }
            }
            cmd.env("MOTO_PORT", port.to_string())
                .env("PYTHONUNBUFFERED", "1")
                .envs(extra_env.iter().copied())
                .stdin(Stdio::piped())
                .stdout(log)
                .stderr(log_err);
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto server {cmd:?}: {e}"));
            let stdin = child.stdin.take();

            match wait_ready(&mut child, port, &log_path) {
                Startup::Ready => {
                    let aws_home = tempfile::Builder::new()
                        .prefix("cis-fix-test-aws-")
                        .tempdir()
                        .expect("create temp dir");
                    return Moto {
                        child,
                        stdin,
                        port,
                        log_path,
                        aws_home,
                    };
                }
                Startup::PortTaken(log) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = fs::remove_file(&log_path);
                    taken.push(format!("port {port}: {log}"));
                }
                Startup::Failed(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "\n=== moto server failed to start ===\n{why}\n\
                         command: {cmd:?}\nlog: {}\n",
                        log_path.display()
                    );
                }
            }
        }
        panic!(
            "moto server could not bind a free port in {PORT_ATTEMPTS} attempts:\n{}",
            taken.join("\n")
        );
    }

    /// The state directory (default lock files, journal) of the `cis-fix`
    /// processes [`Moto::command`] makes: `XDG_STATE_HOME` of
    /// [`fixtures::isolated_env`], plus `cis-fix`.
    pub fn state_dir(&self) -> PathBuf {
        self.aws_home.path().join("state").join("cis-fix")
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The environment a child `cis-fix` process needs to talk to this
    /// server and nothing else ([`fixtures::isolated_env`]).
    pub fn env(&self) -> Vec<(String, String)> {
        fixtures::isolated_env(&self.endpoint(), self.aws_home.path())
    }

    /// A `Command` for `bin` that reaches this server and nothing else
    /// ([`fixtures::isolated_command`]).
    pub fn command(&self, bin: impl AsRef<OsStr>) -> Command {
        fixtures::isolated_command(bin, &self.endpoint(), self.aws_home.path())
    }

    /// Any request to the server; panics if it can't be sent or read.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http::request(self.port, method, path, headers, body).unwrap_or_else(|e| {
            panic!(
                "{method} {}{path} failed: {e}\nmoto log: {}",
                self.endpoint(),
                self.log_path.display()
            )
        })
    }

    /// `GET path`; panics on a transport error (not on an error status).
    pub fn get(&self, path: &str) -> HttpResponse {
        self.request("GET", path, &[], b"")
    }

    /// `POST path` with `body`; panics on a transport error.
    pub fn post(&self, path: &str, body: &[u8]) -> HttpResponse {
        self.request("POST", path, &[], body)
    }

    /// Creates an S3 bucket (us-east-1) with an unsigned path-style
    /// `PUT /<name>`; panics unless moto answers 200.
    pub fn create_s3_bucket(&self, name: &str) {
        let resp = self.request("PUT", &format!("/{name}"), &[], b"");
        assert_eq!(
            resp.status,
            200,
            "creating S3 bucket {name:?} on {} failed: {}",
            self.endpoint(),
            resp.text()
        );
    }

    /// Empties every service (`POST /moto-api/reset`). Does not change the
    /// IAM enforcement count (see [`Moto::reset_auth`]).
    pub fn reset(&self) {
        let resp = self.post("/moto-api/reset", b"");
        assert_eq!(resp.status, 200, "moto reset failed: {}", resp.text());
    }

    /// Enforces IAM from now on after `unchecked_requests` more requests
    /// (`POST /moto-api/reset-auth`): afterwards only credentials moto issued
    /// itself work, within their IAM policies. Returns the previous setting
    /// as moto reports it (`"inf"` by default).
    pub fn reset_auth(&self, unchecked_requests: u64) -> String {
        let resp = self.post(
            "/moto-api/reset-auth",
            unchecked_requests.to_string().as_bytes(),
        );
        assert_eq!(resp.status, 200, "moto reset-auth failed: {}", resp.text());
        let text = resp.text();
        text.split("\"PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT\":")
            .nth(1)
            .and_then(|rest| rest.split('"').nth(1))
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "moto server log for the failed test: {}",
                self.log_path.display()
            );
        } else {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}

/// Waits for `done` to hold, instead of sleeping for a guessed time;
/// panics naming `what` after [`WAIT_TIMEOUT`].
#[track_caller]
pub fn wait_until(what: &str, done: impl FnMut() -> bool) {
    assert!(poll_until(done), "waited {WAIT_TIMEOUT:?} for {what}");
}

/// Polls `done` until it holds (true) or [`WAIT_TIMEOUT`] has passed (false).
pub fn poll_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT_TIMEOUT;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0 to find a free port");
    listener.local_addr().expect("local_addr").port()
}

fn wait_ready(child: &mut Child, port: u16, log_path: &Path) -> Startup {
    let started = Instant::now();
    // Werkzeug prints this only once *this* process has bound the port, so a
    // server of another test that won the race for it is never mistaken for ours.
    let bound = format!("Running on http://127.0.0.1:{port}");
    loop {
        let log = fs::read_to_string(log_path).unwrap_or_default();
        match child.try_wait() {
            Ok(Some(status)) => {
                let log = fs::read_to_string(log_path).unwrap_or(log);
                if log.contains("Address already in use")
                    || log.contains("is in use by another program")
                {
                    return Startup::PortTaken(log);
                }
                return Startup::Failed(format!(
                    "moto server exited ({status}). Its output:\n{log}"
                ));
            }
            Ok(None) => {}
            Err(e) => return Startup::Failed(format!("waiting for moto server: {e}")),
        }
        if log.contains(&bound) && answers(port) {
            return Startup::Ready;
        }
        if started.elapsed() > READY_TIMEOUT {
            return Startup::Failed(format!(
                "moto server did not answer on port {port} within {READY_TIMEOUT:?}. Its output:\n{log}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True when the server on `port` answers moto's config endpoint.
fn answers(port: u16) -> bool {
    http::get(port, "/moto-api/config")
        .is_ok_and(|resp| resp.is_success() && resp.text().contains("batch"))
}
