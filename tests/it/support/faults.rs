//! `FaultProxy`: a loopback HTTP/1.1 proxy between an AWS SDK client (the
//! `cis-fix` binary, or a client built in a test) and a [`Moto`] server that
//! answers chosen calls with AWS's own error responses.
//!
//! # Fault model
//!
//! **What sits where.** [`FaultProxy::start`] listens on `127.0.0.1:<free
//! port>` and forwards every request byte for byte (the `Host` header and
//! the SigV4 signature included) to the moto server, one upstream connection
//! per request. Point a client at [`FaultProxy::endpoint`] (or run the binary
//! with [`FaultProxy::command`], which is [`Moto::command`] with
//! `AWS_ENDPOINT_URL` replaced). Client connections are kept alive as the
//! SDK's hyper client expects; request bodies may be `Content-Length` or
//! `Transfer-Encoding: chunked`; moto's answer is read in full (by
//! `Content-Length`, chunked, or until close) and sent back with a
//! `Content-Length`. Every read and write has a timeout (30 s within a
//! request, 5 s to connect upstream), so the proxy never hangs a test; if
//! moto cannot be reached the client gets a bare HTTP 502.
//!
//! **What counts as an AWS call.** A request is a *call* when it is
//! SigV4-signed (the service is the signing name in the `Authorization`
//! header's credential scope, `Credential=AKID/20260101/us-east-1/<name>/
//! aws4_request`, with `monitoring` reported as `cloudwatch`) *and* names an
//! operation: the part after the last `.` of `X-Amz-Target` (awsJson:
//! `Logs_20140328.PutMetricFilter`,
//! `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrailStatus`),
//! or the `Action` form parameter of the body or query string (awsQuery:
//! CloudWatch, SNS, IAM, STS; ec2Query: EC2), or, for S3 (restXml, signing
//! name `s3`, path-style as the SDK sends it to an IP endpoint), the IAM
//! action of its method, path and subresource ([`s3_action`]: `GET
//! /b?policy` is `GetBucketPolicy`, `HEAD /b` is `ListBucket`, `PUT /b` is
//! `CreateBucket`). Anything else (moto's `/moto-api`, unsigned S3, an S3
//! subresource not in [`s3_action`]'s table, other REST-style services, a
//! gzip-compressed query body) passes through uncounted and unrecorded. Calls are numbered 1, 2,
//! 3, ... in arrival order over the proxy's whole life (an SDK retry is a
//! new call); [`FaultProxy::calls`] lists them in that order. Each call's
//! number and fault are decided under one mutex when its request has been
//! read, so a sequential client sees exactly the same faults on every run.
//! A client that calls concurrently (`cis-fix` does, e.g. `GetTrailStatus`
//! and `GetEventSelectors` at once) interleaves its retries with other
//! calls, so which call gets which number varies from run to run: with
//! `throttle_every(2)` one operation can draw three even numbers in a row
//! and exhaust the SDK's default 3 attempts (seen with `cis-fix plan`:
//! `ListSubscriptions` failed with `Throttling`). [`FaultProxy::per_operation`]
//! numbers each operation's calls in each region on its own instead (AWS's
//! rate limits are per API and region), which makes the faults a concurrent
//! client sees repeatable, one call of an operation per region at a time.
//!
//! **What is injected.** For each call, first matching rule wins:
//! 1. [`deny`](FaultProxy::deny)`("logs:PutMetricFilter")` (IAM-style name,
//!    case-insensitive; `"logs:*"` denies a whole service): always AccessDenied;
//!    [`deny_in`](FaultProxy::deny_in)`("kms:ListKeys", "eu-west-1")` the same
//!    in one region only.
//! 2. [`throttle_every`](FaultProxy::throttle_every)`(n)`: calls whose number
//!    is a multiple of `n` get the protocol's throttling error.
//! 3. [`server_error_every`](FaultProxy::server_error_every)`(n)`: calls whose
//!    number is a multiple of `n` get a server error, alternately HTTP 500
//!    (InternalFailure) and 503 (ServiceUnavailable), starting with 500.
//!
//! A faulted call never reaches moto. `n = 0` turns a rule off;
//! [`clear`](FaultProxy::clear) removes every rule (call numbering goes on).
//! [`Call::faulted`] says what was done: `"deny"`, `"throttle"`,
//! `"server_error_500"`, `"server_error_503"`, `"upstream_error"` (502 from
//! the proxy itself), or `"signal:KILL"` / `"signal:TERM"` / `"signal:INT"`
//! for the write after which a signal was sent (its response is moto's real
//! one). [`Call::status`] is the status the client was sent (0 while the
//! call is in flight).
//!
//! **Error shapes** (HTTP status and the error code the SDK reports; every
//! fault response carries `x-amzn-RequestId: fa017000-...`, which the
//! SDK reports as the request id, and the fault is never retried by the
//! proxy itself):
//!
//! | protocol | throttling | deny | server error |
//! |---|---|---|---|
//! | awsJson 1.0/1.1 (logs, cloudtrail, kms) | 400 `ThrottlingException` | 400 `AccessDeniedException` | 500 `InternalFailure`, 503 `ServiceUnavailableException` |
//! | awsQuery (cloudwatch, sns, iam, sts) | 400 `Throttling` | 403 `AccessDenied`; SNS 403 `AuthorizationError` | 500 `InternalFailure` (SNS `InternalError`), 503 `ServiceUnavailable` |
//! | ec2Query (ec2) | 503 `RequestLimitExceeded` | 403 `UnauthorizedOperation` | 500 `InternalError`, 503 `Unavailable` |
//! | restXml (s3) | 503 `SlowDown` | 403 `AccessDenied` | 500 `InternalError`, 503 `ServiceUnavailable` |
//!
//! * awsJson: `Content-Type: application/x-amz-json-1.1` (1.0 when the
//!   request was 1.0), body `{"__type":"<Code>","message":"..."}`. The SDK
//!   (`json_errors.rs`, generated into each awsJson crate, e.g.
//!   aws-sdk-cloudwatchlogs 1.91.0) takes the code from the
//!   `x-amzn-errortype` header, else the body's `code`, else `__type`, and
//!   drops any `namespace#` prefix and `:suffix`.
//! * awsQuery: `Content-Type: text/xml`, body `<ErrorResponse xmlns="http://
//!   monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type>
//!   <Code>Throttling</Code><Message>Rate exceeded</Message></Error>
//!   <RequestId>..</RequestId></ErrorResponse>` (`Type` is `Receiver` for
//!   server errors; the namespace is the service's `.../doc/<Version>/`).
//!   The SDK (`rest_xml_wrapped_errors.rs` in aws-sdk-cloudwatch 1.99.0 and
//!   aws-sdk-sns 1.75.0) reads `Code` and `Message` from the root's `Error`
//!   child; SNS maps `AuthorizationError` to its modeled
//!   `AuthorizationErrorException`.
//! * ec2Query: `<Response><Errors><Error><Code>..</Code><Message>..
//!   </Message></Error></Errors><RequestID>..</RequestID></Response>`.
//! * restXml (S3): `Content-Type: application/xml`, body `<Error><Code>..
//!   </Code><Message>..</Message><RequestId>..</RequestId></Error>` (no
//!   wrapper, as S3 sends it; aws-sdk-s3 reads it with
//!   `rest_xml_unwrapped_errors`), and `x-amz-request-id`. A HEAD answer has
//!   no body, as S3's has none: the SDK then sees only the status (and calls
//!   a 404 `NotFound` itself). S3 throttles with 503 `SlowDown`, which the
//!   SDK retries as throttling.
//! * Codes and statuses as the services send them: CloudWatch `Throttling:
//!   Rate exceeded` 400 and `AccessDenied` 403; SNS `AuthorizationError` 403
//!   (text/xml, `xmlns="http://sns.amazonaws.com/doc/2010-03-31/"`, seen in
//!   wire logs) and `Throttling: Rate exceeded`; CloudWatch Logs
//!   `AccessDeniedException` 400 and `ThrottlingException` 400; EC2
//!   `RequestLimitExceeded` 503; `InternalFailure` 500 and
//!   `ServiceUnavailable` 503 are AWS's common errors (each API reference's
//!   "Common Errors" page). Deny messages follow AWS's wording: `User: arn:
//!   aws:sts::123456789012:assumed-role/cis-fix-test/fault-proxy is not
//!   authorized to perform: logs:PutMetricFilter on resource: arn:aws:logs:
//!   us-east-1:123456789012:* because no identity-based policy allows the
//!   logs:PutMetricFilter action` (SNS writes the action as `SNS:CreateTopic`).
//! * How the SDK classifies them (aws-runtime 1.10.2
//!   `retries/classifiers.rs` `THROTTLING_ERRORS`, aws-smithy-runtime 1.16.2
//!   `HttpStatusCodeClassifier`): `Throttling`, `ThrottlingException` and
//!   `RequestLimitExceeded` are throttling errors, HTTP 500/502/503/504 are
//!   transient, so both are retried (standard mode: 3 attempts by default,
//!   `initial_backoff` 1 s with full jitter, doubling, and a new
//!   connection after a transient (5xx) error); AccessDenied, `AccessDeniedException` and
//!   `AuthorizationError` are not retried. Retries draw on a token bucket
//!   shared by every client of one service in a process (500 tokens, 5 per
//!   throttling retry, 14 per other retry, given back when the retry
//!   succeeds), so a process that keeps failing retries ends up refusing
//!   to retry at all.
//!
//! **Signals.** [`signal_after_writes`](FaultProxy::signal_after_writes)`(k,
//! sig)` arms a one-shot rule: a *write* is a call whose action does not
//! start with `Describe`, `List` or `Get` ([`Call::is_write`]); counting
//! writes that are forwarded to moto from the moment the rule is set, when
//! the k-th one's response has been read from moto (so moto has applied
//! it), the proxy runs `kill -s KILL|TERM|INT <pid>` for the pid given to
//! [`set_target`](FaultProxy::set_target) (waiting up to 10 s for one to be
//! set), and only then sends moto's response on to the client, if it still
//! listens. So after `Signal::Kill` the write is done in AWS but the program
//! never learned it; after `Term`/`Int` it receives the response while
//! handling the signal.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{ACCOUNT_ID, Moto};

/// Time allowed for the rest of a request once its first byte arrived, and
/// for moto's whole answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed to connect to moto.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a signal rule waits for [`FaultProxy::set_target`].
pub const TARGET_WAIT: Duration = Duration::from_secs(10);
/// How often blocked reads wake up to check whether the proxy is stopping.
const POLL: Duration = Duration::from_millis(100);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A signal [`FaultProxy::signal_after_writes`] can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL
    Kill,
    /// SIGTERM
    Term,
    /// SIGINT
    Int,
}

impl Signal {
    /// The name `kill -s` takes: `KILL`, `TERM`, `INT`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "KILL",
            Signal::Term => "TERM",
            Signal::Int => "INT",
        }
    }

    /// The signal number on Linux (9, 15, 2).
    pub fn number(self) -> i32 {
        match self {
            Signal::Kill => 9,
            Signal::Term => 15,
            Signal::Int => 2,
        }
    }
}

/// One AWS call seen by the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// IAM-style service prefix: `logs`, `cloudtrail`, `cloudwatch`, `sns`,
    /// `sts`, `iam`, `kms`, `ec2`, ...
    pub service: String,
    /// Operation name, e.g. `DescribeAlarms`.
    pub action: String,
    /// The region of its SigV4 credential scope.
    pub region: String,
    /// The fault injected, if any (see the module docs for the values).
    pub faulted: Option<String>,
    /// HTTP status sent to the client; 0 while the call is in flight.
    pub status: u16,
}

impl Call {
    /// `service:Action`, e.g. `cloudwatch:DescribeAlarms`.
    pub fn name(&self) -> String {
        format!("{}:{}", self.service, self.action)
    }

    /// True unless the action starts with `Describe`, `List` or `Get`.
    pub fn is_write(&self) -> bool {
        !["Describe", "List", "Get"]
            .iter()
            .any(|p| self.action.starts_with(p))
    }
}

/// The proxy; see the module docs. Stops its threads on drop.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    upstream_port: u16,
    stop: AtomicBool,
    /// Connection threads still running.
    live: AtomicUsize,
    next_socket: AtomicU64,
    /// Clones of every open socket, shut down on drop to unblock readers.
    sockets: Mutex<HashMap<u64, TcpStream>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    throttle_every: usize,
    server_error_every: usize,
    /// Count calls per operation for the `*_every` rules (see `per_operation`).
    per_operation: bool,
    server_errors_sent: usize,
    denied: HashSet<String>,
    /// (action, region) pairs denied in that region only.
    denied_in: HashSet<(String, String)>,
    /// (action, bytes): calls of the action whose request body holds the
    /// bytes are denied (`deny_where`).
    denied_where: Vec<(String, Vec<u8>)>,
    /// (real, shown) pairs of equal length: `disguise`.
    disguises: Vec<(Vec<u8>, Vec<u8>)>,
    /// Operations that always get a server error (a fault outlasting retries).
    failing: HashSet<String>,
    signal: Option<SignalRule>,
    target: Option<u32>,
    /// How long to hold the signalled write's response after the signal.
    hold_after_signal: Duration,
}

struct SignalRule {
    after_writes: usize,
    signal: Signal,
    writes_forwarded: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttle,
    ServerError(u16),
    Deny,
}

enum Decision {
    Forward(Option<Signal>),
    Fault(Fault),
}

impl FaultProxy {
    /// Listens on `127.0.0.1:<free port>` and forwards to `upstream`.
    pub fn start(upstream: &Moto) -> FaultProxy {
        FaultProxy::start_to_port(upstream.port())
    }

    /// Like [`FaultProxy::start`], forwarding to any loopback port.
    pub fn start_to_port(upstream_port: u16) -> FaultProxy {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("fault proxy: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        listener
            .set_nonblocking(true)
            .expect("fault proxy: nonblocking listener");
        let shared = Arc::new(Shared {
            upstream_port,
            stop: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            next_socket: AtomicU64::new(0),
            sockets: Mutex::new(HashMap::new()),
            state: Mutex::new(State::default()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("fault-proxy-{port}"))
                .spawn(move || accept_loop(listener, shared))
                .expect("spawn fault proxy thread")
        };
        FaultProxy {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:<port>`: use as `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// [`Moto::command`] with `AWS_ENDPOINT_URL` pointing at this proxy.
    pub fn command(&self, moto: &Moto, bin: impl AsRef<OsStr>) -> Command {
        let mut cmd = moto.command(bin);
        cmd.env("AWS_ENDPOINT_URL", self.endpoint());
        cmd
    }

    /// Every call whose number is a multiple of `n` gets the protocol's
    /// throttling error; 0 turns it off.
    /// Makes `throttle_every(n)` and `server_error_every(n)` count each
    /// operation's calls in each region on its own, as AWS rate limits are
    /// per API and region, faulting
    /// its 1st, (1+n)-th, (1+2n)-th ... call. A concurrent client then sees
    /// the same faults on every run: each operation's first attempt is
    /// faulted and (for n >= 2) its retry goes through.
    pub fn per_operation(&self) {
        self.state().per_operation = true;
    }

    pub fn throttle_every(&self, n: usize) {
        self.state().throttle_every = n;
    }

    /// Every call whose number is a multiple of `n` gets a 500/503 server
    /// error (alternating, 500 first); 0 turns it off.
    pub fn server_error_every(&self, n: usize) {
        self.state().server_error_every = n;
    }

    /// Always answer `action` (`"cloudwatch:DescribeAlarms"`, or
    /// `"logs:*"`) with the protocol's AccessDenied error. Adds to earlier
    /// denials.
    /// Every call of `action` (IAM-style name) gets an HTTP 500 server error,
    /// however often it is retried.
    pub fn fail_operation(&self, action: &str) {
        self.state().failing.insert(action.to_ascii_lowercase());
    }

    pub fn deny(&self, action: &str) {
        assert!(
            action.contains(':'),
            "deny takes an IAM-style action like \"logs:PutMetricFilter\", got {action:?}"
        );
        self.state().denied.insert(action.to_ascii_lowercase());
    }

    /// Like [`deny`](FaultProxy::deny), only for calls whose request body
    /// contains `needle` (e.g. the account id in an `sts:AssumeRole`'s
    /// `RoleArn`), as a role missing in one account denies.
    pub fn deny_where(&self, action: &str, needle: &str) {
        assert!(action.contains(':'), "deny_where takes an IAM-style action");
        self.state()
            .denied_where
            .push((action.to_ascii_lowercase(), needle.as_bytes().to_vec()));
    }

    /// Shows `real` as `shown` to the client, in every response body, and
    /// turns `shown` back into `real` in every request body before moto
    /// sees it (moto does not check signatures), so the client believes a
    /// resource has another name. Both must be as long, so lengths and
    /// framing stay as they are.
    pub fn disguise(&self, real: &str, shown: &str) {
        assert_eq!(real.len(), shown.len(), "disguise keeps lengths");
        self.state()
            .disguises
            .push((real.as_bytes().to_vec(), shown.as_bytes().to_vec()));
    }

    /// Like [`deny`](FaultProxy::deny), for calls sent to `region` only
    /// (the region of the request's SigV4 credential scope), as a policy
    /// with an `aws:RequestedRegion` condition denies.
    pub fn deny_in(&self, action: &str, region: &str) {
        assert!(
            action.contains(':'),
            "deny_in takes an IAM-style action like \"kms:ListKeys\", got {action:?}"
        );
        self.state()
            .denied_in
            .insert((action.to_ascii_lowercase(), region.to_ascii_lowercase()));
    }

    /// After the `k`-th write (counted from now, among writes forwarded to
    /// moto) has been answered by moto, send `signal` to the target pid,
    /// then pass the response on. One-shot; replaces an earlier rule.
    pub fn signal_after_writes(&self, k: usize, signal: Signal) {
        assert!(k >= 1, "signal_after_writes counts from 1");
        self.state().signal = Some(SignalRule {
            after_writes: k,
            signal,
            writes_forwarded: 0,
        });
    }

    /// Keeps the signalled write's response for `d` after the signal, so the
    /// call is still in flight when a test sends a second signal.
    pub fn hold_after_signal(&self, d: Duration) {
        self.state().hold_after_signal = d;
    }

    /// The pid [`FaultProxy::signal_after_writes`] signals.
    pub fn set_target(&self, pid: u32) {
        self.state().target = Some(pid);
    }

    /// Removes every fault rule (deny, throttle, server error, signal).
    /// Call numbering and the target pid are kept.
    pub fn clear(&self) {
        let mut st = self.state();
        st.throttle_every = 0;
        st.server_error_every = 0;
        st.failing.clear();
        st.server_errors_sent = 0;
        st.denied.clear();
        st.denied_in.clear();
        st.denied_where.clear();
        st.disguises.clear();
        st.signal = None;
    }

    /// Every call seen so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for stream in self.shared.lock_sockets().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // Connection threads see the flag or their shut-down socket within
        // POLL; one delivering a signal may take up to TARGET_WAIT, so don't
        // wait for stragglers forever.
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.shared.live.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_sockets(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Registers a clone of `stream` for shutdown on drop; the guard
    /// unregisters it.
    fn register(self: &Arc<Self>, stream: &TcpStream) -> SocketGuard {
        let id = self.next_socket.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            self.lock_sockets().insert(id, clone);
        }
        SocketGuard {
            shared: Arc::clone(self),
            id,
        }
    }

    /// Numbers the call, records it and decides its fate, in arrival order.
    fn decide(&self, id: &Ident, body: &[u8]) -> (usize, Decision) {
        let mut st = self.state();
        let number = st.calls.len() + 1;
        let mut call = Call {
            service: id.service.clone(),
            action: id.action.clone(),
            region: id.region.clone(),
            faulted: None,
            status: 0,
        };
        let name = call.name().to_ascii_lowercase();
        // Per operation, counting starts at the first call (calls 1, 1+n,
        // 1+2n, ... are faulted), so every operation meets the fault even
        // when it is called only once.
        let rule_number = if st.per_operation {
            st.calls
                .iter()
                .filter(|c| c.name().eq_ignore_ascii_case(&name) && c.region == call.region)
                .count()
                + st.throttle_every.max(st.server_error_every)
        } else {
            number
        };
        let wildcard = format!("{}:*", call.service.to_ascii_lowercase());
        let here = id.region.to_ascii_lowercase();
        let fault = if st.denied.contains(&name)
            || st.denied.contains(&wildcard)
            || st.denied_in.contains(&(name.clone(), here.clone()))
            || st.denied_in.contains(&(wildcard.clone(), here))
            || st
                .denied_where
                .iter()
                .any(|(a, needle)| *a == name && contains(body, needle))
        {
            Some(Fault::Deny)
        } else if st.failing.contains(&name) {
            st.server_errors_sent += 2;
            Some(Fault::ServerError(500))
        } else if rule_number.checked_rem(st.throttle_every) == Some(0) {
            Some(Fault::Throttle)
        } else if rule_number.checked_rem(st.server_error_every) == Some(0) {
            let status = if st.server_errors_sent & 1 == 0 {
                500
            } else {
                503
            };
            st.server_errors_sent += 1;
            Some(Fault::ServerError(status))
        } else {
            None
        };
        let decision = match fault {
            Some(fault) => {
                call.faulted = Some(match fault {
                    Fault::Throttle => "throttle".to_string(),
                    Fault::Deny => "deny".to_string(),
                    Fault::ServerError(s) => format!("server_error_{s}"),
                });
                Decision::Fault(fault)
            }
            None => {
                let mut signal = None;
                if call.is_write() {
                    if let Some(rule) = st.signal.as_mut() {
                        rule.writes_forwarded += 1;
                        if rule.writes_forwarded == rule.after_writes {
                            signal = Some(rule.signal);
                            call.faulted = Some(format!("signal:{}", rule.signal.name()));
                        }
                    }
                    if signal.is_some() {
                        st.signal = None;
                    }
                }
                Decision::Forward(signal)
            }
        };
        st.calls.push(call);
        (number - 1, decision)
    }

    fn finish(&self, index: usize, status: u16, faulted: Option<&str>) {
        let mut st = self.state();
        if let Some(call) = st.calls.get_mut(index) {
            call.status = status;
            if let Some(f) = faulted {
                call.faulted = Some(f.to_string());
            }
        }
    }

    /// Waits (up to [`TARGET_WAIT`]) for a target pid and signals it.
    fn deliver(&self, signal: Signal) {
        let deadline = Instant::now() + TARGET_WAIT;
        let pid = loop {
            if let Some(pid) = self.state().target {
                break Some(pid);
            }
            if Instant::now() >= deadline || self.stopping() {
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let Some(pid) = pid else {
            eprintln!(
                "fault proxy: no target pid set within {TARGET_WAIT:?}; SIG{} not sent",
                signal.name()
            );
            return;
        };
        match Command::new("kill")
            .args(["-s", signal.name(), &pid.to_string()])
            .status()
        {
            Ok(status) if status.success() => {}
            Ok(status) => eprintln!(
                "fault proxy: `kill -s {} {pid}` failed ({status})",
                signal.name()
            ),
            Err(e) => eprintln!("fault proxy: cannot run kill: {e}"),
        }
        let hold = self.state().hold_after_signal;
        if !hold.is_zero() {
            std::thread::sleep(hold);
        }
    }
}

struct SocketGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.shared.lock_sockets().remove(&self.id);
    }
}

struct LiveGuard(Arc<Shared>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.live.fetch_add(1, Ordering::SeqCst);
                let guard = LiveGuard(Arc::clone(&shared));
                let shared = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("fault-proxy-conn".to_string())
                    .spawn(move || {
                        let _guard = guard;
                        serve_connection(stream, &shared);
                    });
                if let Err(e) = spawned {
                    eprintln!("fault proxy: cannot spawn connection thread: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("fault proxy: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP/1.1 plumbing
// ---------------------------------------------------------------------------

/// A socket plus the bytes read from it and not yet consumed.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    fn new(stream: TcpStream) -> io::Result<Wire> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Wire {
            stream,
            buf: Vec::new(),
        })
    }

    /// Reads more bytes into `buf`; `Ok(0)` at EOF. Fails when `deadline`
    /// passes or the proxy is stopping.
    fn fill(&mut self, deadline: Instant, shared: &Shared) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if shared.stopping() {
                        return Err(io::Error::other("fault proxy stopping"));
                    }
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads up to the end of a message head; returns its length including
    /// the blank line, or `None` at a clean EOF before any byte. With
    /// `idle` the wait for the first byte is unbounded (keep-alive).
    fn read_head(&mut self, shared: &Shared, idle: bool) -> io::Result<Option<usize>> {
        let mut deadline = if idle && self.buf.is_empty() {
            None
        } else {
            Some(Instant::now() + IO_TIMEOUT)
        };
        loop {
            // Tolerate empty lines before a request (RFC 9112 2.2).
            while self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            }
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(pos + 4));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("message head too large"));
            }
            let limit = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            match self.fill(limit, shared) {
                Ok(0) if self.buf.is_empty() => return Ok(None),
                Ok(0) => return Err(invalid("connection closed inside a message head")),
                Ok(_) => {
                    deadline.get_or_insert_with(|| Instant::now() + IO_TIMEOUT);
                }
                Err(_) if deadline.is_none() && shared.stopping() => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads a body that starts at `start` in `buf`; returns it and the
    /// offset just past it.
    fn read_body(
        &mut self,
        start: usize,
        framing: Framing,
        deadline: Instant,
        shared: &Shared,
    ) -> io::Result<(Vec<u8>, usize)> {
        match framing {
            Framing::None => Ok((Vec::new(), start)),
            Framing::Length(len) => {
                if len > MAX_BODY {
                    return Err(invalid(format!("body of {len} bytes is too large")));
                }
                while self.buf.len() < start + len {
                    if self.fill(deadline, shared)? == 0 {
                        return Err(invalid("connection closed inside a body"));
                    }
                }
                Ok((self.buf[start..start + len].to_vec(), start + len))
            }
            Framing::Chunked => loop {
                if let Some((body, used)) = dechunk(&self.buf[start..])? {
                    return Ok((body, start + used));
                }
                if self.buf.len() - start > MAX_BODY {
                    return Err(invalid("chunked body too large"));
                }
                if self.fill(deadline, shared)? == 0 {
                    return Err(invalid("connection closed inside a chunked body"));
                }
            },
            Framing::UntilClose => {
                while self.fill(deadline, shared)? > 0 {
                    if self.buf.len() - start > MAX_BODY {
                        return Err(invalid("body too large"));
                    }
                }
                let end = self.buf.len();
                Ok((self.buf[start..].to_vec(), end))
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

struct Request {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Whether the client wants the connection closed after this exchange.
    fn wants_close(&self) -> bool {
        let conn = self.header("connection").unwrap_or_default();
        let has = |token: &str| {
            conn.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        if self.version.eq_ignore_ascii_case("HTTP/1.0") {
            !has("keep-alive")
        } else {
            has("close")
        }
    }
}

struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding").is_some_and(|v| {
        v.split(',')
            .next_back()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked"))
    })
}

fn content_length(headers: &[(String, String)]) -> io::Result<Option<usize>> {
    match header(headers, "content-length") {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| invalid(format!("bad Content-Length {v:?}"))),
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits a head into its first line and headers.
fn parse_head(head: &[u8]) -> io::Result<(String, Vec<(String, String)>)> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok((first, headers))
}

/// Decodes a complete chunked body at the start of `data`: `Ok(None)` if
/// more bytes are needed, else the body and the bytes used (trailers
/// included).
fn dechunk(data: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(line_end) = find(&data[pos..], b"\r\n") else {
            return Ok(None);
        };
        let size_line = String::from_utf8_lossy(&data[pos..pos + line_end]);
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| invalid(format!("bad chunk size {size_hex:?}")))?;
        pos += line_end + 2;
        if size == 0 {
            // Trailer fields, then an empty line.
            loop {
                let Some(end) = find(&data[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some((out, pos)));
                }
            }
        }
        if data.len() < pos + size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[pos..pos + size]);
        pos += size + 2;
    }
}

/// Reads one request from the client; `None` when the connection closed
/// (or the proxy stops) between requests.
fn read_request(wire: &mut Wire, shared: &Shared) -> io::Result<Option<Request>> {
    let Some(head_len) = wire.read_head(shared, true)? else {
        return Ok(None);
    };
    let (first, headers) = parse_head(&wire.buf[..head_len - 4])?;
    let mut parts = first.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("bad request line {first:?}")));
    };
    let framing = if is_chunked(&headers) {
        Framing::Chunked
    } else {
        match content_length(&headers)? {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    };
    if !matches!(framing, Framing::None)
        && header(&headers, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        wire.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let deadline = Instant::now() + IO_TIMEOUT;
    let (body, end) = wire.read_body(head_len, framing, deadline, shared)?;
    wire.buf.drain(..end);
    Ok(Some(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body,
    }))
}

/// Sends `req` to moto on a fresh connection and reads the whole answer.
fn forward(req: &Request, shared: &Arc<Shared>) -> io::Result<Response> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, shared.upstream_port));
    let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    let _registered = shared.register(&stream);
    let mut wire = Wire::new(stream)?;

    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        let hop = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "content-length",
            "te",
            "upgrade",
        ];
        if hop.iter().any(|h| k.eq_ignore_ascii_case(h)) {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !req.body.is_empty() || req.header("content-length").is_some() || is_chunked(&req.headers) {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    wire.stream.write_all(head.as_bytes())?;
    wire.stream.write_all(&req.body)?;
    wire.stream.flush()?;

    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        let head_len = wire
            .read_head(shared, false)?
            .ok_or_else(|| invalid("moto closed the connection without answering"))?;
        let (first, headers) = parse_head(&wire.buf[..head_len - 4])?;
        let mut parts = first.splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line {first:?}")))?;
        let reason = parts.next().unwrap_or_default().to_string();
        if (100..200).contains(&status) {
            // Interim response (100 Continue): skip it.
            wire.buf.drain(..head_len);
            continue;
        }
        let framing = if req.method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304 {
            Framing::None
        } else if is_chunked(&headers) {
            Framing::Chunked
        } else {
            match content_length(&headers)? {
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        };
        let (body, _) = wire.read_body(head_len, framing, deadline, shared)?;
        return Ok(Response {
            status,
            reason,
            headers,
            body,
        });
    }
}

fn write_response(
    stream: &mut TcpStream,
    resp: &Response,
    head_request: bool,
    close: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason);
    for (k, v) in &resp.headers {
        let hop = [
            "connection",
            "keep-alive",
            "transfer-encoding",
            "content-length",
        ];
        if hop.iter().any(|h| k.eq_ignore_ascii_case(h)) {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if head_request {
        if let Some(len) = header(&resp.headers, "content-length") {
            head.push_str(&format!("Content-Length: {len}\r\n"));
        }
    } else if resp.status != 204 && resp.status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if !head_request {
        out.extend_from_slice(&resp.body);
    }
    stream.write_all(&out)?;
    stream.flush()
}

fn serve_connection(stream: TcpStream, shared: &Arc<Shared>) {
    let _registered = shared.register(&stream);
    let mut wire = match Wire::new(stream) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("fault proxy: cannot set up a client connection: {e}");
            return;
        }
    };
    loop {
        let req = match read_request(&mut wire, shared) {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(e) => {
                if !shared.stopping() {
                    eprintln!("fault proxy: bad request from client: {e}");
                }
                return;
            }
        };
        let close = req.wants_close();
        let head_request = req.method.eq_ignore_ascii_case("HEAD");
        let ident = identify(&req);
        let decided = ident.as_ref().map(|id| (id, shared.decide(id, &req.body)));
        let disguises = shared.state().disguises.clone();
        let mut req = req;
        for (real, shown) in &disguises {
            replace_all(&mut req.body, shown, real);
        }
        let (resp, index, note) = match decided {
            Some((id, (index, Decision::Fault(fault)))) => {
                (fault_response(id, fault), Some(index), None)
            }
            other => {
                let (index, signal) = match other {
                    Some((_, (index, Decision::Forward(signal)))) => (Some(index), signal),
                    _ => (None, None),
                };
                match forward(&req, shared) {
                    Ok(mut resp) => {
                        for (real, shown) in &disguises {
                            replace_all(&mut resp.body, real, shown);
                        }
                        if let Some(signal) = signal {
                            shared.deliver(signal);
                        }
                        (resp, index, None)
                    }
                    Err(e) => {
                        if !shared.stopping() {
                            eprintln!(
                                "fault proxy: forwarding {} {} to moto failed: {e}",
                                req.method, req.target
                            );
                        }
                        (bad_gateway(&e), index, Some("upstream_error"))
                    }
                }
            }
        };
        if let Some(index) = index {
            shared.finish(index, resp.status, note);
        }
        if write_response(&mut wire.stream, &resp, head_request, close).is_err() || close {
            return;
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Replaces every `from` in `data` with `to`, of the same length.
fn replace_all(data: &mut [u8], from: &[u8], to: &[u8]) {
    if from.is_empty() || from.len() != to.len() {
        return;
    }
    let mut i = 0;
    while i + from.len() <= data.len() {
        if &data[i..i + from.len()] == from {
            data[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

fn bad_gateway(e: &io::Error) -> Response {
    Response {
        status: 502,
        reason: "Bad Gateway".to_string(),
        headers: vec![("Content-Type".to_string(), "text/plain".to_string())],
        body: format!("fault proxy: moto did not answer: {e}").into_bytes(),
    }
}

// ---------------------------------------------------------------------------
// Identifying calls and shaping errors
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson with its version, "1.0" or "1.1".
    AwsJson(&'static str),
    AwsQuery,
    Ec2Query,
    /// S3's REST protocol.
    RestXml,
}

struct Ident {
    service: String,
    /// The SigV4 signing name (`monitoring` for CloudWatch).
    signing_name: String,
    region: String,
    action: String,
    protocol: Protocol,
    /// The awsQuery `Version` parameter, for the error's XML namespace.
    version: Option<String>,
}

fn identify(req: &Request) -> Option<Ident> {
    let query = req.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let scope = req
        .header("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|rest| {
            rest.split([',', ' '])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .or_else(|| form_value(query, "X-Amz-Credential"))?;
    // AKID/date/region/service/aws4_request
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() < 5 {
        return None;
    }
    let region = parts[parts.len() - 3].to_string();
    let signing_name = parts[parts.len() - 2].to_string();
    let service = match signing_name.as_str() {
        "monitoring" => "cloudwatch".to_string(),
        other => other.to_string(),
    };

    if let Some(target) = req.header("x-amz-target") {
        let action = target.rsplit('.').next().unwrap_or(target).to_string();
        let json_version = if req
            .header("content-type")
            .is_some_and(|ct| ct.contains("x-amz-json-1.0"))
        {
            "1.0"
        } else {
            "1.1"
        };
        return Some(Ident {
            service,
            signing_name,
            region,
            action,
            protocol: Protocol::AwsJson(json_version),
            version: None,
        });
    }

    if service == "s3" {
        return Some(Ident {
            action: s3_action(&req.method, &req.target)?,
            service,
            signing_name,
            region,
            protocol: Protocol::RestXml,
            version: None,
        });
    }

    let encoded = req
        .header("content-encoding")
        .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
    let body = if encoded {
        ""
    } else {
        std::str::from_utf8(&req.body).unwrap_or("")
    };
    let action = form_value(body, "Action").or_else(|| form_value(query, "Action"))?;
    let version = form_value(body, "Version").or_else(|| form_value(query, "Version"));
    let protocol = if service == "ec2" {
        Protocol::Ec2Query
    } else {
        Protocol::AwsQuery
    };
    Some(Ident {
        service,
        signing_name,
        region,
        action,
        protocol,
        version,
    })
}

/// The IAM action (without `s3:`) of a path-style S3 request, from its
/// method, path and subresource; `None` for what the table does not know.
/// The SDK adds query parameters of its own (`x-id=GetObject`), so only the
/// subresource names below decide, wherever they are in the query.
pub fn s3_action(method: &str, target: &str) -> Option<String> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| url_decode(p.split_once('=').map_or(p, |(k, _)| k)))
        .collect();
    let method = method.to_ascii_uppercase();
    if bucket.is_empty() {
        return (method == "GET").then(|| "ListAllMyBuckets".to_string());
    }
    // (subresource, GET, PUT, DELETE): IAM names the DELETE of a public
    // access block or ownership controls as their PUT.
    const BUCKET: &[(&str, &str, &str, &str)] = &[
        (
            "policy",
            "GetBucketPolicy",
            "PutBucketPolicy",
            "DeleteBucketPolicy",
        ),
        ("policyStatus", "GetBucketPolicyStatus", "", ""),
        ("acl", "GetBucketAcl", "PutBucketAcl", ""),
        ("logging", "GetBucketLogging", "PutBucketLogging", ""),
        (
            "publicAccessBlock",
            "GetBucketPublicAccessBlock",
            "PutBucketPublicAccessBlock",
            "PutBucketPublicAccessBlock",
        ),
        (
            "ownershipControls",
            "GetBucketOwnershipControls",
            "PutBucketOwnershipControls",
            "PutBucketOwnershipControls",
        ),
        ("location", "GetBucketLocation", "", ""),
        (
            "versioning",
            "GetBucketVersioning",
            "PutBucketVersioning",
            "",
        ),
        (
            "tagging",
            "GetBucketTagging",
            "PutBucketTagging",
            "PutBucketTagging",
        ),
        (
            "encryption",
            "GetEncryptionConfiguration",
            "PutEncryptionConfiguration",
            "PutEncryptionConfiguration",
        ),
    ];
    let pick = |get: &str, put: &str, delete: &str| {
        let a = match method.as_str() {
            "GET" => get,
            "PUT" => put,
            "DELETE" => delete,
            _ => "",
        };
        (!a.is_empty()).then(|| a.to_string())
    };
    if !key.is_empty() {
        return if params.iter().any(|p| p == "acl") {
            pick("GetObjectAcl", "PutObjectAcl", "")
        } else if method == "HEAD" {
            Some("GetObject".to_string())
        } else {
            pick("GetObject", "PutObject", "DeleteObject")
        };
    }
    if let Some((_, get, put, delete)) = BUCKET
        .iter()
        .find(|(sub, ..)| params.iter().any(|p| p == sub))
    {
        return pick(get, put, delete);
    }
    let known = |p: &String| {
        matches!(
            p.as_str(),
            "x-id"
                | "list-type"
                | "prefix"
                | "delimiter"
                | "max-keys"
                | "marker"
                | "continuation-token"
                | "start-after"
                | "encoding-type"
                | "fetch-owner"
        )
    };
    if !params.iter().all(known) {
        return None;
    }
    match method.as_str() {
        // HeadBucket and ListObjects are both judged as s3:ListBucket.
        "HEAD" | "GET" => Some("ListBucket".to_string()),
        "PUT" => Some("CreateBucket".to_string()),
        "DELETE" => Some("DeleteBucket".to_string()),
        _ => None,
    }
}

/// The url-decoded value of `key` in a form-encoded string.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (url_decode(k) == key).then(|| url_decode(v))
    })
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// A request id in AWS's UUID format, recognisable as the proxy's.
fn request_id() -> String {
    let n = REQUEST_IDS.fetch_add(1, Ordering::SeqCst);
    format!("fa017000-0000-4000-8000-{n:012x}")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The awsQuery XML namespace of a service.
fn query_namespace(id: &Ident) -> String {
    match id.service.as_str() {
        "cloudwatch" => "http://monitoring.amazonaws.com/doc/2010-08-01/".to_string(),
        "sns" => "http://sns.amazonaws.com/doc/2010-03-31/".to_string(),
        "iam" => "https://iam.amazonaws.com/doc/2010-05-08/".to_string(),
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/".to_string(),
        _ => format!(
            "http://{}.amazonaws.com/doc/{}/",
            id.signing_name,
            id.version.as_deref().unwrap_or("latest")
        ),
    }
}

fn deny_message(id: &Ident) -> String {
    // SNS spells its prefix in capitals in these messages.
    let prefix = if id.service == "sns" {
        "SNS".to_string()
    } else {
        id.service.clone()
    };
    let action = format!("{prefix}:{}", id.action);
    format!(
        "User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/cis-fix-test/fault-proxy is not authorized \
         to perform: {action} on resource: arn:aws:{}:{}:{ACCOUNT_ID}:* because no \
         identity-based policy allows the {action} action",
        id.service, id.region
    )
}

/// The error response AWS would send for `fault` to the call `id`.
fn fault_response(id: &Ident, fault: Fault) -> Response {
    let rid = request_id();
    // (status, code, message, sender-or-receiver)
    let (status, code, message, sender): (u16, &str, String, bool) = match (id.protocol, fault) {
        (Protocol::AwsJson(_), Fault::Throttle) => {
            (400, "ThrottlingException", "Rate exceeded".into(), true)
        }
        (Protocol::AwsJson(_), Fault::Deny) => {
            (400, "AccessDeniedException", deny_message(id), true)
        }
        (Protocol::AwsJson(_), Fault::ServerError(500)) => (
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure."
                .into(),
            false,
        ),
        (Protocol::AwsJson(_), Fault::ServerError(s)) => (
            s,
            "ServiceUnavailableException",
            "The service is unavailable. Please try again later.".into(),
            false,
        ),
        (Protocol::AwsQuery, Fault::Throttle) => (400, "Throttling", "Rate exceeded".into(), true),
        (Protocol::AwsQuery, Fault::Deny) => {
            let code = if id.service == "sns" {
                "AuthorizationError"
            } else {
                "AccessDenied"
            };
            (403, code, deny_message(id), true)
        }
        (Protocol::AwsQuery, Fault::ServerError(500)) => {
            let code = if id.service == "sns" {
                "InternalError"
            } else {
                "InternalFailure"
            };
            (
                500,
                code,
                "The request processing has failed because of an unknown error, exception or failure."
                    .into(),
                false,
            )
        }
        (Protocol::AwsQuery, Fault::ServerError(s)) => (
            s,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.".into(),
            false,
        ),
        (Protocol::Ec2Query, Fault::Throttle) => (
            503,
            "RequestLimitExceeded",
            "Request limit exceeded.".into(),
            true,
        ),
        (Protocol::Ec2Query, Fault::Deny) => (
            403,
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.".into(),
            true,
        ),
        (Protocol::Ec2Query, Fault::ServerError(500)) => (
            500,
            "InternalError",
            "An internal error has occurred.".into(),
            false,
        ),
        (Protocol::Ec2Query, Fault::ServerError(s)) => (
            s,
            "Unavailable",
            "The server is overloaded and can't handle the request.".into(),
            false,
        ),
        (Protocol::RestXml, Fault::Throttle) => (
            503,
            "SlowDown",
            "Please reduce your request rate.".into(),
            true,
        ),
        (Protocol::RestXml, Fault::Deny) => (403, "AccessDenied", deny_message(id), true),
        (Protocol::RestXml, Fault::ServerError(500)) => (
            500,
            "InternalError",
            "We encountered an internal error. Please try again.".into(),
            false,
        ),
        (Protocol::RestXml, Fault::ServerError(s)) => (
            s,
            "ServiceUnavailable",
            "Service is unable to handle request.".into(),
            false,
        ),
    };
    let (content_type, body) = match id.protocol {
        Protocol::AwsJson(v) => (
            format!("application/x-amz-json-{v}"),
            format!(
                "{{\"__type\":\"{code}\",\"message\":\"{}\"}}",
                json_escape(&message)
            ),
        ),
        Protocol::AwsQuery => (
            "text/xml".to_string(),
            format!(
                "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    \
                 <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
                 <RequestId>{rid}</RequestId>\n</ErrorResponse>\n",
                query_namespace(id),
                if sender { "Sender" } else { "Receiver" },
                xml_escape(&message)
            ),
        ),
        Protocol::RestXml => (
            "application/xml".to_string(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>{}</Message><RequestId>{rid}</RequestId></Error>",
                xml_escape(&message)
            ),
        ),
        Protocol::Ec2Query => (
            "text/xml;charset=UTF-8".to_string(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                 <Code>{code}</Code><Message>{}</Message></Error></Errors>\
                 <RequestID>{rid}</RequestID></Response>",
                xml_escape(&message)
            ),
        ),
    };
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    Response {
        status,
        reason: reason.to_string(),
        headers: vec![
            ("x-amzn-RequestId".to_string(), rid.clone()),
            // S3's name for it.
            ("x-amz-request-id".to_string(), rid),
            ("Content-Type".to_string(), content_type),
        ],
        body: body.into_bytes(),
    }
}
