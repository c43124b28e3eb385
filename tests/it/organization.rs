//! `--organization` against moto: an organization (CreateOrganization,
//! CreateAccount) whose member accounts cis-fix reaches with STS AssumeRole,
//! which moto serves as the account the role ARN names.
//!
//! What moto does here (moto 5.2.5, read from its source):
//! * `moto/sts/models.py` `assume_role`: "the role does not need to exist";
//!   the new keys belong to the account of the role ARN, and every later
//!   call signed with them is served from that account's backends. So a
//!   role missing in a member is simulated with the fault proxy:
//!   `deny_where("sts:AssumeRole", <member id>)` answers that account's
//!   AssumeRole with AWS's AccessDenied, as STS does when the role is not
//!   there or does not trust the caller.
//! * `moto/organizations/models.py`: CreateAccount makes an ACTIVE account
//!   at once; ListAccounts lists the management account too.
//! * CloudTrail in moto never shows a member the management account's
//!   organization trail. The member's side is made with the fault proxy's
//!   `disguise`: a trail created in the member, delivering to the
//!   management account's log group, is shown to cis-fix under an ARN of
//!   the management account, exactly as AWS shows an organization trail.
//!
//! Every run names `--region us-east-1`, so each account is read in one
//! region and the tests stay quick.

use std::collections::BTreeSet;

use aws_credential_types::Credentials;
use serde_json::Value;

use crate::support::account::{Account, Run, via};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::{self, EMAIL_CONFIG, LOG_GROUP};
use crate::support::{ACCOUNT_ID, REGION};

const REGION_FLAG: &[&str] = &["--region", REGION];

/// The management account (with a qualifying trail and password policy)
/// and its members, by id, in account id order with the management one.
struct Org {
    acct: Account,
    members: Vec<String>,
}

impl Org {
    fn new(members: usize) -> Org {
        let acct = Account::with_trail();
        let ids = acct.create_organization(members);
        assert_eq!(ids.len(), members);
        Org { acct, members: ids }
    }

    /// Every account id, sorted: the order of the report.
    fn all(&self) -> Vec<String> {
        let mut all: Vec<String> = self.members.clone();
        all.push(ACCOUNT_ID.to_string());
        all.sort();
        all
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut a = args.to_vec();
        a.extend_from_slice(REGION_FLAG);
        self.acct.cis_fix(&a)
    }

    fn run_via(&self, proxy: &FaultProxy, args: &[&str]) -> Run {
        let mut a = args.to_vec();
        a.extend_from_slice(REGION_FLAG);
        via(proxy, &self.acct, &a)
    }

    /// SDK settings signed as `account` (through a role moto lets anyone
    /// assume), for setting up a member.
    fn member_config(&self, account: &str) -> aws_config::SdkConfig {
        let base = self
            .acct
            .block_on(fixtures::sdk_config(&self.acct.moto.endpoint()).load());
        let c = self
            .acct
            .block_on(
                aws_sdk_sts::Client::new(&base)
                    .assume_role()
                    .role_arn(format!("arn:aws:iam::{account}:role/setup"))
                    .role_session_name("test-setup")
                    .send(),
            )
            .expect("AssumeRole for setup")
            .credentials
            .expect("credentials");
        self.acct.block_on(
            fixtures::sdk_config(&self.acct.moto.endpoint())
                .credentials_provider(Credentials::new(
                    c.access_key_id,
                    c.secret_access_key,
                    Some(c.session_token),
                    None,
                    "test-member",
                ))
                .load(),
        )
    }
}

fn account<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["account_id"] == id))
        .unwrap_or_else(|| panic!("account {id} in {report:#}"))
}

fn ids(report: &Value) -> Vec<String> {
    report["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["account_id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn every_account_is_planned_grouped_and_a_missing_role_fails_that_account_alone() {
    let org = Org::new(2);
    let proxy = FaultProxy::start(&org.acct.moto);
    let r = org.run_via(&proxy, &["plan", "--organization", "--json"]);
    r.expect_code(0);
    let report = r.json();
    assert_eq!(report["format_version"], "1.1");
    assert_eq!(report["management_account"], ACCOUNT_ID);
    assert!(
        report["organization_id"]
            .as_str()
            .is_some_and(|o| o.starts_with("o-"))
    );
    assert_eq!(ids(&report), org.all());
    for id in org.all() {
        let a = account(&report, &id);
        // Each plan is of the account itself: the member's reads were
        // signed with the role's keys, which moto serves as that account.
        assert_eq!(a["plan"]["account_id"], id.as_str(), "{a:#}");
        assert_ne!(a["status"], "unknown", "{a:#}");
    }
    assert_eq!(account(&report, &org.members[0])["name"], "member-0");
    assert_eq!(report["summary"]["accounts"], 3);
    assert_eq!(report["summary"]["unknown"], 0);
    // The role is assumed in each member, not in the caller's own account.
    let assumed = proxy
        .calls()
        .iter()
        .filter(|c| c.name() == "sts:AssumeRole")
        .count();
    assert_eq!(assumed, 2);

    // The second member's role is missing: that account alone is unknown.
    let missing = &org.members[1];
    proxy.deny_where("sts:AssumeRole", missing);
    let r = org.run_via(&proxy, &["plan", "--organization", "--json"]);
    r.expect_code(1);
    let report = r.json();
    let failed = account(&report, missing);
    assert_eq!(failed["status"], "unknown");
    assert!(failed.get("plan").is_none());
    assert_eq!(failed["error"]["call"], "sts:AssumeRole");
    assert_eq!(failed["error"]["code"], "AccessDenied");
    assert_eq!(
        failed["error"]["resource"],
        format!("arn:aws:iam::{missing}:role/cis-fix-plan")
    );
    let other = account(&report, &org.members[0]);
    assert_ne!(other["status"], "unknown");
    assert_eq!(other["plan"]["account_id"], org.members[0].as_str());
    assert_eq!(report["summary"]["unknown"], 1);
    assert!(
        r.stderr.contains(&format!("Account {missing}:")),
        "{}",
        r.stderr
    );

    // The human form: a heading and summary line per account, the total,
    // and the table naming the failure in one line.
    let r = org.run_via(&proxy, &["plan", "--organization"]);
    r.expect_code(1);
    for id in org.all() {
        assert!(
            r.stdout.contains(&format!("── Account {id}")),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains(&format!("Account {id}")), "{}", r.stdout);
    }
    assert!(
        r.stdout.contains("Total: 3 accounts of organization o-"),
        "{}",
        r.stdout
    );
    let row = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(missing.as_str()) && l.contains("unknown"))
        .unwrap_or_else(|| panic!("table row of {missing}:\n{}", r.stdout));
    assert!(
        row.contains("sts:AssumeRole") && row.contains("AccessDenied"),
        "{row}"
    );
    assert!(
        r.stderr
            .contains("Error: cannot plan this account: sts:AssumeRole"),
        "{}",
        r.stderr
    );

    // --role-name names the role in every member.
    proxy.clear();
    proxy.deny_where("sts:AssumeRole", "role%2FAuditor");
    let r = org.run_via(
        &proxy,
        &["plan", "--organization", "--role-name", "Auditor", "--json"],
    );
    r.expect_code(1);
    let report = r.json();
    for m in &org.members {
        assert_eq!(
            account(&report, m)["error"]["resource"],
            format!("arn:aws:iam::{m}:role/Auditor")
        );
    }
    assert_ne!(account(&report, ACCOUNT_ID)["status"], "unknown");
}

#[test]
fn shards_cover_every_account_exactly_once_and_merge_into_the_whole() {
    let org = Org::new(3);
    let dir = org.acct.dir().to_path_buf();
    let whole = org.run(&["plan", "--organization", "--json"]);
    whole.expect_code(0);
    let whole = whole.json();
    assert_eq!(ids(&whole), org.all());
    for n in [1u32, 2, 3, 7] {
        let mut seen: Vec<String> = Vec::new();
        let mut files = Vec::new();
        for k in 1..=n {
            let shard = format!("{k}/{n}");
            let r = org.run(&["plan", "--organization", "--shard", &shard, "--json"]);
            r.expect_code(0);
            let report = r.json();
            assert_eq!(report["shard"]["index"], k);
            assert_eq!(report["shard"]["count"], n);
            seen.extend(ids(&report));
            let file = dir.join(format!("shard-{k}-of-{n}.json"));
            std::fs::write(&file, &r.stdout).expect("write shard report");
            files.push(file.to_string_lossy().into_owned());
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "N = {n}: an account in two shards: {seen:?}"
        );
        let mut seen = seen.clone();
        seen.sort();
        assert_eq!(seen, org.all(), "N = {n}: every account once");

        // The shards' reports merge into the report of the whole run.
        let mut args = vec!["report", "merge", "--json"];
        args.extend(files.iter().map(String::as_str));
        let merged = org.acct.cis_fix(&args);
        merged.expect_code(0);
        let merged = merged.json();
        assert_eq!(ids(&merged), org.all());
        assert!(merged.get("shard").is_none());
        assert_eq!(merged["summary"], whole["summary"], "N = {n}");
        for id in org.all() {
            assert_eq!(
                account(&merged, &id)["status"],
                account(&whole, &id)["status"]
            );
        }
        if n == 3 {
            let mut args = vec!["report", "merge"];
            args.extend(files.iter().map(String::as_str));
            let human = org.acct.cis_fix(&args);
            human.expect_code(0);
            assert!(
                human.stdout.contains("Total: 4 accounts"),
                "{}",
                human.stdout
            );
            // Without one shard, the merge would leave accounts out.
            let partial = org.acct.cis_fix(&["report", "merge", &files[0], &files[2]]);
            partial.expect_code(1);
            assert!(
                partial.stderr.contains("shard 2/3 is missing"),
                "{}",
                partial.stderr
            );
        }
    }
    // An account in two inputs: the shards disagree; nothing is merged.
    let whole_file = dir.join("whole.json");
    std::fs::write(&whole_file, whole.to_string()).expect("write");
    let one = dir.join("shard-1-of-1.json");
    let r = org.acct.cis_fix(&[
        "report",
        "merge",
        &whole_file.to_string_lossy(),
        &one.to_string_lossy(),
    ]);
    r.expect_code(1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("is in both") && r.stderr.contains("whole.json"),
        "{}",
        r.stderr
    );
    let r = org.run(&["plan", "--organization", "--shard", "4/3"]);
    r.expect_code(1);
    assert!(r.stderr.contains("--shard: `4/3`"), "{}", r.stderr);
}

#[test]
fn apply_goes_account_by_account_each_under_its_own_lock_and_journal() {
    let org = Org::new(2);
    let cfg = org.acct.config(EMAIL_CONFIG);
    let cfg = cfg.to_string_lossy();
    let proxy = FaultProxy::start(&org.acct.moto);
    // The second member's role is missing: it is not applied; the others are.
    let missing = org.members[1].clone();
    proxy.deny_where("sts:AssumeRole", &missing);
    let apply = || {
        org.run_via(
            &proxy,
            &[
                "apply",
                "--organization",
                "--auto-approve",
                "--json",
                "--config",
                &cfg,
            ],
        )
    };
    let r = apply();
    r.expect_code(1);
    let report = r.json();
    let outcome = |id: &str| {
        report["accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["account_id"] == id))
            .map(|a| a["outcome"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(outcome(&missing), "not_planned");
    assert_eq!(outcome(ACCOUNT_ID), "applied", "{report:#}");
    assert_eq!(outcome(&org.members[0]), "applied", "{report:#}");
    assert!(
        r.stderr.contains("2 applied") && r.stderr.contains(&format!("{missing} not planned")),
        "{}",
        r.stderr
    );

    // Each applied account wrote its own run to the journal, under a lock
    // of its own (the run's id), and gave the lock back.
    let journal =
        std::fs::read_to_string(org.acct.moto.state_dir().join("journal.jsonl")).expect("journal");
    let lines: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line"))
        .collect();
    let started: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "run_started")
        .collect();
    let accounts: BTreeSet<&str> = started
        .iter()
        .filter_map(|l| l["account"].as_str())
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from([ACCOUNT_ID, org.members[0].as_str()])
    );
    for s in &started {
        assert_eq!(s["lock_id"], s["run_id"]);
        let writes = lines
            .iter()
            .filter(|l| l["event"] == "write" && l["run_id"] == s["run_id"])
            .collect::<Vec<_>>();
        assert!(!writes.is_empty());
        assert!(writes.iter().all(|w| w["account"] == s["account"]));
    }
    let locks = org.acct.moto.state_dir().join("locks");
    let left: Vec<_> = std::fs::read_dir(&locks)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "locks left behind: {left:?}");

    // With the role there, the next run applies the member that was left.
    proxy.clear();
    let r = apply();
    let report = r.json();
    let row = report["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["account_id"] == missing.as_str()))
        .expect("row");
    assert_eq!(row["outcome"], "applied", "{report:#}\n{}", r.stderr);
}

#[test]
fn a_member_is_covered_by_the_organization_trail_only_where_its_chain_is_proven() {
    let org = Org::new(1);
    let member = org.members[0].clone();
    let cfg = org.acct.config(EMAIL_CONFIG);
    let cfg = cfg.to_string_lossy().into_owned();
    // The management account's chain on its trail's log group.
    org.acct
        .cis_fix(&[
            "apply",
            "--auto-approve",
            "--region",
            REGION,
            "--config",
            &cfg,
        ])
        .expect_code(0);

    // The member's view of the organization trail: delivering the member's
    // events to the management account's log group.
    let trail = "orgtrail-m";
    let config = org.member_config(&member);
    org.acct.block_on(async {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket("org-trail-bucket")
            .send()
            .await
            .expect("CreateBucket");
        let ct = aws_sdk_cloudtrail::Client::new(&config);
        ct.create_trail()
            .name(trail)
            .s3_bucket_name("org-trail-bucket")
            .is_multi_region_trail(true)
            .is_organization_trail(true)
            .cloud_watch_logs_log_group_arn(format!(
                "arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}:*"
            ))
            .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/org-trail-logs"))
            .send()
            .await
            .expect("CreateTrail");
        ct.put_event_selectors()
            .trail_name(trail)
            .event_selectors(
                aws_sdk_cloudtrail::types::EventSelector::builder()
                    .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All)
                    .include_management_events(true)
                    .build(),
            )
            .send()
            .await
            .expect("PutEventSelectors");
        ct.start_logging()
            .name(trail)
            .send()
            .await
            .expect("StartLogging");
    });
    let proxy = FaultProxy::start(&org.acct.moto);
    let shown = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{trail}");
    proxy.disguise(
        &format!("arn:aws:cloudtrail:{REGION}:{member}:trail/{trail}"),
        &shown,
    );

    let r = org.run_via(
        &proxy,
        &["plan", "--organization", "--json", "--config", &cfg],
    );
    let report = r.json();
    // Each account read once: the management account's read serves its own
    // plan and the member's proof alike, whichever comes first.
    let reads = proxy
        .calls()
        .iter()
        .filter(|c| c.action == "GetAccountPasswordPolicy")
        .count();
    assert_eq!(reads, 2, "one password policy read per account");
    let mgmt = account(&report, ACCOUNT_ID);
    let monitoring = crate::support::account::monitoring_statuses(&mgmt["plan"]);
    assert!(!monitoring.is_empty());
    assert!(
        monitoring.iter().all(|(_, s)| s == "compliant"),
        "{monitoring:?}"
    );
    let m = account(&report, &member);
    let plan = &m["plan"];
    for (id, status) in crate::support::account::monitoring_statuses(plan) {
        assert_eq!(status, "compliant", "{id}: {plan:#}");
        let why = crate::support::account::reason(plan, &id);
        assert!(
            why.contains(&format!("covered by organization trail `{shown}`"))
                && why.contains(LOG_GROUP)
                && why.contains(ACCOUNT_ID)
                && why.contains("alarm `"),
            "{why}"
        );
    }
    // Nothing of the chain is planned in the member, nor a trail beside
    // the organization's.
    assert!(
        !plan["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| {
                [
                    "aws_cloudtrail",
                    "aws_cloudwatch_log_metric_filter",
                    "aws_cloudwatch_metric_alarm",
                ]
                .contains(&c["type"].as_str().unwrap_or_default())
            }),
        "{plan:#}"
    );
    let covered = &m["covered_by"][0];
    assert_eq!(covered["trail_arn"], shown.as_str());
    assert_eq!(covered["account"], ACCOUNT_ID);
    assert_eq!(covered["log_group"], format!("{REGION}/{LOG_GROUP}"));
    assert_eq!(
        covered["controls"].as_array().map(Vec::len),
        Some(monitoring.len())
    );
    // A shard with the member but not the management account: the
    // management account is read, once, only to prove the member's chain,
    // and is not in the report.
    let n = (2..50u32)
        .find(|n| cis_fix::fleet::shard_of(&member, *n) != cis_fix::fleet::shard_of(ACCOUNT_ID, *n))
        .expect("some N parts the two accounts");
    let shard = format!("{}/{n}", cis_fix::fleet::shard_of(&member, n));
    let before = proxy.calls().len();
    let r = org.run_via(
        &proxy,
        &[
            "plan",
            "--organization",
            "--shard",
            &shard,
            "--json",
            "--config",
            &cfg,
        ],
    );
    let sharded = r.json();
    assert_eq!(ids(&sharded), vec![member.clone()], "{sharded:#}");
    assert_eq!(
        account(&sharded, &member)["covered_by"][0]["trail_arn"],
        shown.as_str()
    );
    let reads = proxy.calls()[before..]
        .iter()
        .filter(|c| c.action == "GetAccountPasswordPolicy")
        .count();
    assert_eq!(reads, 2, "the member, and the management account once");

    let human = org.run_via(&proxy, &["plan", "--organization", "--config", &cfg]);
    assert!(
        human
            .stdout
            .contains(&format!("monitoring covered by {shown}")),
        "{}",
        human.stdout
    );

    // Alone, the member cannot prove the management account's chain: its
    // controls depend on it, and are not compliant.
    let role = format!("arn:aws:iam::{member}:role/cis-fix-plan");
    let r = org.run_via(
        &proxy,
        &["plan", "--role-arn", &role, "--json", "--config", &cfg],
    );
    let alone = r.json();
    assert_eq!(alone["account_id"], member.as_str());
    let statuses = crate::support::account::monitoring_statuses(&alone);
    assert_eq!(statuses.len(), monitoring.len());
    for (id, status) in statuses {
        assert_eq!(status, "blocked", "{id}");
        let c = crate::support::account::control(&alone, &id);
        assert_eq!(c["cause"]["kind"], "other_account");
        assert_eq!(c["cause"]["account"], ACCOUNT_ID);
        assert!(
            c["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("plan the organization"),
            "{c:#}"
        );
    }

    // One alarm gone in the management account: that control is no longer
    // covered in the member; the others still are.
    let alarm = org
        .acct
        .alarms()
        .into_iter()
        .filter_map(|a| a.alarm_name)
        .next()
        .expect("an alarm");
    org.acct
        .block_on(
            org.acct
                .cloudwatch
                .delete_alarms()
                .alarm_names(&alarm)
                .send(),
        )
        .expect("DeleteAlarms");
    let r = org.run_via(
        &proxy,
        &["plan", "--organization", "--json", "--config", &cfg],
    );
    let report = r.json();
    let gone: Vec<String> =
        crate::support::account::monitoring_statuses(&account(&report, ACCOUNT_ID)["plan"])
            .into_iter()
            .filter(|(_, s)| s != "compliant")
            .map(|(id, _)| id)
            .collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
    let plan = &account(&report, &member)["plan"];
    for (id, status) in crate::support::account::monitoring_statuses(plan) {
        if gone.contains(&id) {
            assert_eq!(status, "blocked", "{id}");
            assert!(
                crate::support::account::reason(plan, &id)
                    .contains("does not hold for this control"),
                "{plan:#}"
            );
        } else {
            assert_eq!(status, "compliant", "{id}");
        }
    }
}

/// What a user gets wrong, or an account that is in no organization: one
/// clear error on stderr, nothing on stdout, exit 1, no Debug text.
#[test]
fn bad_organization_flags_and_no_organization_are_one_clear_error() {
    let acct = Account::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["plan", "--organization", "--shard", "3/2"],
            "--shard: `3/2`: K must be from 1 to N",
        ),
        (
            &["plan", "--organization", "--shard", "two"],
            "--shard: `two` is not K/N",
        ),
        (
            &["plan", "--organization", "--role-name", "no spaces"],
            "--role-name: `no spaces` is not an IAM role name",
        ),
        (
            &["plan", "--role-arn", "arn:aws:s3:::bucket"],
            "--role-arn: `arn:aws:s3:::bucket` is not a role ARN",
        ),
        // moto, as AWS: DescribeOrganization in an account that is in no
        // organization is AWSOrganizationsNotInUseException.
        (
            &["plan", "--organization"],
            "cannot list the organization's accounts",
        ),
    ];
    for (args, said) in cases {
        let mut a = args.to_vec();
        a.extend_from_slice(REGION_FLAG);
        let r = acct.cis_fix(&a);
        r.expect_code(1);
        assert!(r.stdout.is_empty(), "{args:?}: stdout {}", r.stdout);
        assert!(r.stderr.contains(said), "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.matches("Error:").count(),
            1,
            "{args:?}: {}",
            r.stderr
        );
        for debug in ["SdkError", "ServiceError {", "Some(", "source:"] {
            assert!(!r.stderr.contains(debug), "{args:?}: {}", r.stderr);
        }
    }
}
