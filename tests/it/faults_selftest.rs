//! Checks the fault-injection proxy (`support::faults`) with the official
//! SDK clients pointed at it: each protocol family's throttling, server and
//! AccessDenied errors are parsed and classified by the SDK as AWS's own
//! would be, calls are identified and counted, and signals are delivered
//! after moto applied a write.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::RequestId;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::support::faults::{Call, FaultProxy, Signal};
use crate::support::fixtures::{self, Clients, runtime, sdk_config, transformation};
use crate::support::{Moto, REGION, http, wait_until};

/// SDK clients for `endpoint` with standard retry mode, `max_attempts`
/// attempts per operation and a 10 ms initial backoff.
fn clients(rt: &tokio::runtime::Runtime, endpoint: &str, max_attempts: u32) -> Clients {
    let config = rt.block_on(
        sdk_config(endpoint)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(max_attempts)
                    .with_initial_backoff(Duration::from_millis(10))
                    .with_max_backoff(Duration::from_millis(200)),
            )
            .load(),
    );
    Clients::new(&config)
}

fn names(calls: &[Call]) -> Vec<String> {
    calls.iter().map(Call::name).collect()
}

type SdkError<E> = aws_smithy_runtime_api::client::result::SdkError<
    E,
    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
>;

/// The HTTP status the SDK got with an error.
fn status<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Asserts each faulted call is directly followed by a successful retry of
/// the same operation, and that the faults fell exactly on the calls whose
/// number is a multiple of `n`; `calls[0]` is call number `first`.
#[track_caller]
fn assert_retried_every(calls: &[Call], n: usize, first: usize) {
    for (i, call) in calls.iter().enumerate() {
        let number = first + i;
        assert_eq!(
            call.faulted.is_some(),
            number.checked_rem(n) == Some(0),
            "call {number} in {calls:#?}"
        );
        if call.faulted.is_some() {
            let next = calls
                .get(i + 1)
                .unwrap_or_else(|| panic!("call {number} was never retried: {calls:#?}"));
            assert_eq!(next.name(), call.name(), "retry of call {number}");
            assert_eq!(next.faulted, None);
            assert_eq!(next.status, 200, "retry of call {number}: {calls:#?}");
        } else {
            assert_eq!(call.status, 200, "call {number}: {calls:#?}");
        }
    }
}

#[test]
fn errors_surface_with_each_protocols_code_when_not_retried() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let rt = runtime();
    let c = clients(&rt, &proxy.endpoint(), 1);

    // Throttling: awsJson says ThrottlingException, awsQuery says Throttling.
    proxy.throttle_every(1);
    rt.block_on(async {
        let e = c.logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(e.code(), Some("ThrottlingException"), "{e:?}");
        assert_eq!(e.message(), Some("Rate exceeded"));
        assert!(
            e.request_id().is_some_and(|id| id.starts_with("fa017000-")),
            "{e:?}"
        );
        assert_eq!(status(&e), Some(400), "{e:?}");

        let e = c.cloudtrail.describe_trails().send().await.unwrap_err();
        assert_eq!(e.code(), Some("ThrottlingException"), "{e:?}");

        let e = c.cloudwatch.describe_alarms().send().await.unwrap_err();
        assert_eq!(e.code(), Some("Throttling"), "{e:?}");
        assert_eq!(e.message(), Some("Rate exceeded"));
        assert!(
            e.request_id().is_some_and(|id| id.starts_with("fa017000-")),
            "{e:?}"
        );
        assert_eq!(status(&e), Some(400), "{e:?}");

        let e = c.sns.list_topics().send().await.unwrap_err();
        assert_eq!(e.code(), Some("Throttling"), "{e:?}");

        let e = c.sts.get_caller_identity().send().await.unwrap_err();
        assert_eq!(e.code(), Some("Throttling"), "{e:?}");
    });
    let calls = proxy.calls();
    assert_eq!(
        names(&calls),
        [
            "logs:DescribeLogGroups",
            "cloudtrail:DescribeTrails",
            "cloudwatch:DescribeAlarms",
            "sns:ListTopics",
            "sts:GetCallerIdentity",
        ],
        "one attempt each"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.faulted.as_deref() == Some("throttle") && c.status == 400),
        "{calls:#?}"
    );

    // Server errors: 500 then 503, alternately.
    proxy.clear();
    proxy.server_error_every(1);
    rt.block_on(async {
        let e = c.logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(e.code(), Some("InternalFailure"), "{e:?}");
        assert_eq!(status(&e), Some(500), "{e:?}");
        let e = c.logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(e.code(), Some("ServiceUnavailableException"), "{e:?}");
        assert_eq!(status(&e), Some(503), "{e:?}");

        let e = c.cloudwatch.describe_alarms().send().await.unwrap_err();
        assert_eq!(e.code(), Some("InternalFailure"), "{e:?}");
        let e = c.cloudwatch.describe_alarms().send().await.unwrap_err();
        assert_eq!(e.code(), Some("ServiceUnavailable"), "{e:?}");

        // SNS models its 500 as InternalErrorException, code InternalError.
        let e = c.sns.list_topics().send().await.unwrap_err();
        assert_eq!(e.code(), Some("InternalError"), "{e:?}");
        assert!(
            matches!(
                e.as_service_error(),
                Some(
                    aws_sdk_sns::operation::list_topics::ListTopicsError::InternalErrorException(_)
                )
            ),
            "{e:?}"
        );
    });
    let statuses: Vec<u16> = proxy.calls()[5..].iter().map(|c| c.status).collect();
    assert_eq!(statuses, [500, 503, 500, 503, 500]);

    // No rules: everything reaches moto.
    proxy.clear();
    rt.block_on(async {
        c.logs
            .describe_log_groups()
            .send()
            .await
            .expect("DescribeLogGroups");
        c.sns.list_topics().send().await.expect("ListTopics");
    });
    assert!(
        proxy.calls()[10..]
            .iter()
            .all(|c| c.faulted.is_none() && c.status == 200)
    );
}

#[test]
fn throttled_and_failed_calls_succeed_when_the_sdk_retries() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let rt = runtime();
    let c = clients(&rt, &proxy.endpoint(), 3);

    let started = Instant::now();
    for (round, rule) in ["throttle", "server_error"].into_iter().enumerate() {
        proxy.clear();
        let before = proxy.calls().len();
        if rule == "throttle" {
            proxy.throttle_every(2);
        } else {
            proxy.server_error_every(2);
        }
        let group = format!("group-{round}");
        let alarm = format!("alarm-{round}");
        let topic = format!("topic-{round}");
        rt.block_on(async {
            // awsJson: CloudWatch Logs.
            c.logs
                .create_log_group()
                .log_group_name(&group)
                .send()
                .await
                .expect("CreateLogGroup");
            c.logs
                .put_metric_filter()
                .log_group_name(&group)
                .filter_name("f")
                .filter_pattern("{ $.errorCode = \"AccessDenied*\" }")
                .metric_transformations(transformation("m", "ns"))
                .send()
                .await
                .expect("PutMetricFilter");
            let groups = c
                .logs
                .describe_log_groups()
                .log_group_name_prefix(&group)
                .send()
                .await
                .expect("DescribeLogGroups");
            assert_eq!(groups.log_groups().len(), 1);
            // awsQuery: CloudWatch.
            fixtures::alarm(&c.cloudwatch, &alarm, "m", "ns", 1.0)
                .send()
                .await
                .expect("PutMetricAlarm");
            let alarms = c
                .cloudwatch
                .describe_alarms()
                .alarm_names(&alarm)
                .send()
                .await
                .expect("DescribeAlarms");
            assert_eq!(alarms.metric_alarms().len(), 1);
            // awsQuery: SNS.
            let arn = c
                .sns
                .create_topic()
                .name(&topic)
                .send()
                .await
                .expect("CreateTopic")
                .topic_arn
                .expect("topic ARN");
            let topics = c.sns.list_topics().send().await.expect("ListTopics");
            assert!(topics.topics().iter().any(|t| t.topic_arn() == Some(&arn)));
        });
        let calls = proxy.calls()[before..].to_vec();
        // Calls are numbered over the proxy's life: every even-numbered
        // call was faulted and retried at once. 7 operations, so 7 + the
        // number of faults calls.
        assert_retried_every(&calls, 2, before + 1);
        let faulted: Vec<&str> = calls.iter().filter_map(|c| c.faulted.as_deref()).collect();
        assert_eq!(calls.len(), 7 + faulted.len(), "{calls:#?}");
        assert!(faulted.len() >= 6, "{calls:#?}");
        let expected: Vec<&str> = (0..faulted.len())
            .map(|k| match (rule, k % 2) {
                ("throttle", _) => "throttle",
                (_, 0) => "server_error_500",
                _ => "server_error_503",
            })
            .collect();
        assert_eq!(faulted, expected);
        // Faults land on logs, cloudwatch and sns calls alike.
        for service in ["logs", "cloudwatch", "sns"] {
            assert!(
                calls
                    .iter()
                    .any(|c| c.service == service && c.faulted.is_some()),
                "no {service} call was faulted: {calls:#?}"
            );
        }
    }
    // No retry stalled on a timeout (the backoff is 10 ms to 200 ms); timed
    // in release builds only, where a slow machine is not taken for a stall.
    if !cfg!(debug_assertions) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "retries took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn denied_actions_fail_at_once_with_access_denied() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let rt = runtime();
    // Retries on: AccessDenied must still be a single attempt.
    let c = clients(&rt, &proxy.endpoint(), 3);
    proxy.deny("logs:PutMetricFilter");
    proxy.deny("cloudwatch:DescribeAlarms");
    proxy.deny("sns:CreateTopic");
    proxy.deny("iam:*");

    rt.block_on(async {
        c.logs
            .create_log_group()
            .log_group_name("g")
            .send()
            .await
            .expect("CreateLogGroup is not denied");
        let e = c
            .logs
            .put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern("")
            .metric_transformations(transformation("m", "ns"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("AccessDeniedException"), "{e:?}");
        assert!(
            e.message()
                .is_some_and(|m| m.contains("is not authorized to perform: logs:PutMetricFilter")),
            "{e:?}"
        );
        assert_eq!(status(&e), Some(400), "{e:?}");

        let e = c.cloudwatch.describe_alarms().send().await.unwrap_err();
        assert_eq!(e.code(), Some("AccessDenied"), "{e:?}");
        assert_eq!(status(&e), Some(403), "{e:?}");
        assert!(
            e.message().is_some_and(
                |m| m.contains("is not authorized to perform: cloudwatch:DescribeAlarms")
            ),
            "{e:?}"
        );

        let e = c.sns.create_topic().name("t").send().await.unwrap_err();
        assert_eq!(e.code(), Some("AuthorizationError"), "{e:?}");
        assert_eq!(status(&e), Some(403), "{e:?}");
        assert!(
            matches!(
                e.as_service_error(),
                Some(
                    aws_sdk_sns::operation::create_topic::CreateTopicError::AuthorizationErrorException(_)
                )
            ),
            "SNS's modeled error: {e:?}"
        );

        let e = c.iam.list_users().send().await.unwrap_err();
        assert_eq!(e.code(), Some("AccessDenied"), "{e:?}");

        // Other actions of the same services go through.
        c.logs
            .describe_metric_filters()
            .send()
            .await
            .expect("DescribeMetricFilters");
        c.sns.list_topics().send().await.expect("ListTopics");
    });
    let calls = proxy.calls();
    assert_eq!(
        names(&calls),
        [
            "logs:CreateLogGroup",
            "logs:PutMetricFilter",
            "cloudwatch:DescribeAlarms",
            "sns:CreateTopic",
            "iam:ListUsers",
            "logs:DescribeMetricFilters",
            "sns:ListTopics",
        ],
        "each denied call was attempted once: {calls:#?}"
    );
    let denied: Vec<(String, u16)> = calls
        .iter()
        .filter(|c| c.faulted.as_deref() == Some("deny"))
        .map(|c| (c.name(), c.status))
        .collect();
    assert_eq!(
        denied,
        [
            ("logs:PutMetricFilter".to_string(), 400),
            ("cloudwatch:DescribeAlarms".to_string(), 403),
            ("sns:CreateTopic".to_string(), 403),
            ("iam:ListUsers".to_string(), 403),
        ]
    );

    proxy.clear();
    rt.block_on(async {
        c.cloudwatch
            .describe_alarms()
            .send()
            .await
            .expect("DescribeAlarms after clear");
    });
}

#[test]
fn calls_are_identified_by_service_and_action() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let rt = runtime();
    let c = clients(&rt, &proxy.endpoint(), 1);

    // Unsigned requests pass through uncounted: moto's API, S3 by path.
    let config = http::get(proxy.port(), "/moto-api/config").expect("moto-api");
    assert_eq!(config.status, 201, "{}", config.text());
    let bucket = http::request(proxy.port(), "PUT", "/trail-bucket", &[], b"").expect("S3 PUT");
    assert_eq!(bucket.status, 200, "{}", bucket.text());

    rt.block_on(async {
        c.logs
            .create_log_group()
            .log_group_name("trail-logs")
            .send()
            .await
            .expect("CreateLogGroup");
        c.logs
            .describe_log_groups()
            .send()
            .await
            .expect("DescribeLogGroups");
        c.cloudtrail
            .create_trail()
            .name("trail")
            .s3_bucket_name("trail-bucket")
            .send()
            .await
            .expect("CreateTrail");
        c.cloudtrail
            .describe_trails()
            .send()
            .await
            .expect("DescribeTrails");
        let e = c
            .cloudtrail
            .get_trail_status()
            .name("no-such-trail")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Some("TrailNotFoundException"),
            "moto's own error: {e:?}"
        );
        c.cloudwatch
            .describe_alarms()
            .send()
            .await
            .expect("DescribeAlarms");
        c.sns.list_topics().send().await.expect("ListTopics");
        c.sts
            .get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity");
        c.iam.list_users().send().await.expect("ListUsers");
    });

    let calls = proxy.calls();
    let seen: Vec<(String, bool, Option<String>, u16)> = calls
        .iter()
        .map(|c| (c.name(), c.is_write(), c.faulted.clone(), c.status))
        .collect();
    let expected = [
        ("logs:CreateLogGroup", true, 200),
        ("logs:DescribeLogGroups", false, 200),
        ("cloudtrail:CreateTrail", true, 200),
        ("cloudtrail:DescribeTrails", false, 200),
        ("cloudtrail:GetTrailStatus", false, 400),
        ("cloudwatch:DescribeAlarms", false, 200),
        ("sns:ListTopics", false, 200),
        ("sts:GetCallerIdentity", false, 200),
        ("iam:ListUsers", false, 200),
    ]
    .map(|(n, w, s)| (n.to_string(), w, None, s));
    assert_eq!(seen, expected);

    // The binary's environment points at the proxy, the rest is moto's.
    let cmd = proxy.command(&moto, "true");
    let env = |k: &str| {
        cmd.get_envs()
            .find(|(key, _)| *key == k)
            .and_then(|(_, v)| v)
            .map(|v| v.to_string_lossy().into_owned())
    };
    assert_eq!(env("AWS_ENDPOINT_URL"), Some(proxy.endpoint()));
    assert_eq!(env("AWS_REGION").as_deref(), Some(REGION));
    assert_eq!(
        cmd.get_envs()
            .filter(|(k, _)| *k == "AWS_ENDPOINT_URL")
            .count(),
        1
    );
}

/// Reads one HTTP response with a Content-Length from a keep-alive stream.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).expect("read head"), 1, "EOF in head");
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let status = head[9..12].parse().expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().expect("length"))
        })
        .expect("Content-Length");
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).expect("read body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

const SNS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sns/aws4_request, \
                        SignedHeaders=host, Signature=00";

#[test]
fn raw_http_keep_alive_chunked_bodies_and_concurrent_connections() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let mut stream = TcpStream::connect(("127.0.0.1", proxy.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    proxy.throttle_every(2);

    // 1: chunked body, forwarded to moto (moto ignores the fake signature).
    let body = "Action=ListTopics&Version=2010-03-31";
    let (a, b) = body.split_at(10);
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {SNS_AUTH}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        proxy.port(),
        a.len(),
        b.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let (status, text) = read_response(&mut stream);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("ListTopicsResponse"), "{text}");

    // 2: same connection, Content-Length body, throttled by the proxy.
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {SNS_AUTH}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        proxy.port(),
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let (status, text) = read_response(&mut stream);
    assert_eq!(status, 400);
    assert!(
        text.starts_with("<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">")
            && text.contains("<Code>Throttling</Code>")
            && text.contains("<Type>Sender</Type>"),
        "{text}"
    );

    // 3: many clients at once, each on its own connection.
    proxy.clear();
    let port = proxy.port();
    let threads: Vec<_> = (0..12)
        .map(|_| {
            let req = req.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.set_read_timeout(Some(Duration::from_secs(20)))
                    .expect("timeout");
                s.write_all(req.as_bytes()).expect("write");
                read_response(&mut s).0
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("client thread"), 200);
    }
    let calls = proxy.calls();
    assert_eq!(calls.len(), 14);
    assert!(calls.iter().all(|c| c.name() == "sns:ListTopics"));
}

/// Waits up to 10 s for `child` to exit.
fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("target process was not signalled");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sleeper() -> Child {
    Command::new("sleep")
        .arg("30")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep")
}

#[test]
fn signal_after_writes_kills_the_target_once_moto_applied_the_write() {
    let moto = Moto::start();
    let rt = runtime();
    let direct = clients(&rt, &moto.endpoint(), 1);

    // SIGKILL after the first write; reads don't count.
    let proxy = FaultProxy::start(&moto);
    let c = clients(&rt, &proxy.endpoint(), 1);
    let mut target = sleeper();
    proxy.set_target(target.id());
    proxy.signal_after_writes(1, Signal::Kill);
    rt.block_on(async {
        c.logs
            .describe_log_groups()
            .send()
            .await
            .expect("DescribeLogGroups");
        assert!(
            target.try_wait().expect("try_wait").is_none(),
            "a read signalled"
        );
        c.logs
            .create_log_group()
            .log_group_name("signalled")
            .send()
            .await
            .expect("the response still reaches a client that listens");
    });
    let status = wait_exit(&mut target);
    assert_eq!(status.signal(), Some(Signal::Kill.number()), "{status:?}");
    let calls = proxy.calls();
    assert_eq!(calls[1].name(), "logs:CreateLogGroup");
    assert_eq!(calls[1].faulted.as_deref(), Some("signal:KILL"));
    assert_eq!(calls[1].status, 200);
    // The write reached moto.
    let groups = rt.block_on(async {
        direct
            .logs
            .describe_log_groups()
            .send()
            .await
            .expect("DescribeLogGroups on moto")
    });
    let names: Vec<&str> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert_eq!(names, ["signalled"]);
    // One-shot: later writes don't signal again.
    rt.block_on(async {
        c.logs
            .create_log_group()
            .log_group_name("after")
            .send()
            .await
            .expect("CreateLogGroup");
    });
    assert_eq!(proxy.calls()[2].faulted, None);
    drop(proxy);

    // SIGTERM after the second write, to a target named only later: the
    // proxy holds the response until it has one.
    let proxy = FaultProxy::start(&moto);
    let c = clients(&rt, &proxy.endpoint(), 1);
    proxy.signal_after_writes(2, Signal::Term);
    let mut target = sleeper();
    let pid = target.id();
    let named = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Named only once the second write is in flight, so a response
            // that comes after this was held for it.
            wait_until("the second CreateTopic to reach the proxy", || {
                proxy.calls().get(1).is_some_and(|c| c.status == 0)
            });
            named.store(true, Ordering::SeqCst);
            proxy.set_target(pid);
        });
        rt.block_on(async {
            c.sns
                .create_topic()
                .name("t1")
                .send()
                .await
                .expect("CreateTopic");
            c.sns
                .create_topic()
                .name("t2")
                .send()
                .await
                .expect("CreateTopic");
            assert!(
                named.load(Ordering::SeqCst),
                "the response was held until the target was named"
            );
        });
    });
    let status = wait_exit(&mut target);
    assert_eq!(status.signal(), Some(Signal::Term.number()), "{status:?}");
    let faulted: Vec<Option<String>> = proxy.calls().into_iter().map(|c| c.faulted).collect();
    assert_eq!(faulted, [None, Some("signal:TERM".to_string())]);
}

/// An S3 client for `endpoint` (path-style by itself: the endpoint is an
/// IP), retrying as [`clients`] does.
fn s3_client(
    rt: &tokio::runtime::Runtime,
    endpoint: &str,
    max_attempts: u32,
) -> aws_sdk_s3::Client {
    let config = rt.block_on(
        sdk_config(endpoint)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(max_attempts)
                    .with_initial_backoff(Duration::from_millis(10)),
            )
            .load(),
    );
    aws_sdk_s3::Client::new(&config)
}

#[test]
fn s3_rest_calls_are_identified_and_one_can_be_denied() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let rt = runtime();
    let s3 = s3_client(&rt, &proxy.endpoint(), 3);
    proxy.deny("s3:GetBucketPolicy");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::fault-bucket"}]}"#;

    rt.block_on(async {
        s3.create_bucket()
            .bucket("fault-bucket")
            .send()
            .await
            .expect("CreateBucket");
        s3.put_bucket_policy()
            .bucket("fault-bucket")
            .policy(policy)
            .send()
            .await
            .expect("PutBucketPolicy");
        let e = s3
            .get_bucket_policy()
            .bucket("fault-bucket")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("AccessDenied"), "{e:?}");
        assert_eq!(status(&e), Some(403), "{e:?}");
        assert!(
            e.message()
                .is_some_and(|m| m.contains("is not authorized to perform: s3:GetBucketPolicy")),
            "{e:?}"
        );
        // Every other call of the bucket goes through.
        s3.head_bucket()
            .bucket("fault-bucket")
            .send()
            .await
            .expect("HeadBucket");
        s3.get_bucket_acl()
            .bucket("fault-bucket")
            .send()
            .await
            .expect("GetBucketAcl");
        s3.get_bucket_location()
            .bucket("fault-bucket")
            .send()
            .await
            .expect("GetBucketLocation");
        s3.get_bucket_logging()
            .bucket("fault-bucket")
            .send()
            .await
            .expect("GetBucketLogging");
    });
    let calls = proxy.calls();
    assert_eq!(
        names(&calls),
        [
            "s3:CreateBucket",
            "s3:PutBucketPolicy",
            "s3:GetBucketPolicy",
            "s3:ListBucket",
            "s3:GetBucketAcl",
            "s3:GetBucketLocation",
            "s3:GetBucketLogging",
        ],
        "the denied call was attempted once: {calls:#?}"
    );
    let denied: Vec<String> = calls
        .iter()
        .filter(|c| c.faulted.is_some())
        .map(Call::name)
        .collect();
    assert_eq!(denied, ["s3:GetBucketPolicy"]);
    assert!(
        calls.iter().all(|c| c.faulted.is_some() || c.status == 200),
        "{calls:#?}"
    );

    // A denied HEAD has no body, as S3's has none: the SDK sees a bare 403.
    proxy.deny("s3:ListBucket");
    rt.block_on(async {
        let e = s3
            .head_bucket()
            .bucket("fault-bucket")
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), Some(403), "{e:?}");
    });
}

#[test]
fn s3_actions_from_method_path_and_subresource() {
    use crate::support::faults::s3_action;
    let cases = [
        ("HEAD", "/b", Some("ListBucket")),
        ("GET", "/b?list-type=2&prefix=x", Some("ListBucket")),
        ("PUT", "/b", Some("CreateBucket")),
        ("PUT", "/b?x-id=CreateBucket", Some("CreateBucket")),
        ("GET", "/b?policy", Some("GetBucketPolicy")),
        ("PUT", "/b?policy=", Some("PutBucketPolicy")),
        ("GET", "/b?acl", Some("GetBucketAcl")),
        ("GET", "/b?logging", Some("GetBucketLogging")),
        ("PUT", "/b?logging", Some("PutBucketLogging")),
        (
            "GET",
            "/b?publicAccessBlock",
            Some("GetBucketPublicAccessBlock"),
        ),
        (
            "PUT",
            "/b?publicAccessBlock",
            Some("PutBucketPublicAccessBlock"),
        ),
        (
            "GET",
            "/b?ownershipControls",
            Some("GetBucketOwnershipControls"),
        ),
        (
            "PUT",
            "/b?ownershipControls",
            Some("PutBucketOwnershipControls"),
        ),
        ("GET", "/b?location", Some("GetBucketLocation")),
        (
            "GET",
            "/b/AWSLogs/k.json.gz?x-id=GetObject",
            Some("GetObject"),
        ),
        ("PUT", "/b/k", Some("PutObject")),
        ("GET", "/", Some("ListAllMyBuckets")),
        ("GET", "/b?inventory", None),
    ];
    for (method, target, want) in cases {
        assert_eq!(
            s3_action(method, target).as_deref(),
            want,
            "{method} {target}"
        );
    }
}
