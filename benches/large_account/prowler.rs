//! Prowler's run of the checks equivalent to the controls cis-fix manages,
//! against the same moto server, timed. Prowler is installed (pinned) into
//! its own venv when the one named has none.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::REGIONS;
use crate::support::account::Account;

/// What `pip install` is given.
pub const PIN: &str = "prowler==5.46.0";
/// Longer than this and Prowler is stopped: no figure rather than a wrong one.
const TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Prowler's check ids (5.46.0, `prowler/providers/aws/services/`) for the
/// controls of CIS v3.0.0 that cis-fix manages: the password policy,
/// CloudTrail, the 15 monitoring filters and alarms, KMS rotation, VPC
/// flow logs, security groups, network ACLs, EBS default encryption and
/// IMDSv2.
pub const CHECKS: &[&str] = &[
    "iam_password_policy_minimum_length_14",
    "iam_password_policy_reuse_24",
    "cloudtrail_multi_region_enabled",
    "cloudtrail_multi_region_enabled_logging_management_events",
    "cloudtrail_log_file_validation_enabled",
    "cloudtrail_kms_encryption_enabled",
    "cloudtrail_cloudwatch_logging_enabled",
    "cloudtrail_logs_s3_bucket_is_not_publicly_accessible",
    "cloudtrail_logs_s3_bucket_access_logging_enabled",
    "cloudwatch_log_metric_filter_unauthorized_api_calls",
    "cloudwatch_log_metric_filter_sign_in_without_mfa",
    "cloudwatch_log_metric_filter_root_usage",
    "cloudwatch_log_metric_filter_policy_changes",
    "cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled",
    "cloudwatch_log_metric_filter_authentication_failures",
    "cloudwatch_log_metric_filter_disable_or_scheduled_deletion_of_kms_cmk",
    "cloudwatch_log_metric_filter_for_s3_bucket_policy_changes",
    "cloudwatch_log_metric_filter_and_alarm_for_aws_config_configuration_changes_enabled",
    "cloudwatch_log_metric_filter_security_group_changes",
    "cloudwatch_changes_to_network_acls_alarm_configured",
    "cloudwatch_changes_to_network_gateways_alarm_configured",
    "cloudwatch_changes_to_network_route_tables_alarm_configured",
    "cloudwatch_changes_to_vpcs_alarm_configured",
    "cloudwatch_log_metric_filter_aws_organizations_changes",
    "kms_cmk_rotation_enabled",
    "vpc_flow_logs_enabled",
    "ec2_securitygroup_default_restrict_traffic",
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389",
    "ec2_networkacl_allow_ingress_tcp_port_22",
    "ec2_networkacl_allow_ingress_tcp_port_3389",
    "ec2_ebs_default_encryption",
    "ec2_instance_imdsv2_enabled",
];

pub struct Outcome {
    pub wall: Duration,
    pub checks: usize,
    pub code: i32,
    /// Findings by status (PASS, FAIL, ...), and the checks that reported
    /// none (which Prowler then did not judge on this account).
    pub statuses: BTreeMap<String, usize>,
    pub silent: Vec<&'static str>,
}

/// Installs Prowler into `venv` when it has none, then runs it.
pub fn run(venv: &Path, acct: &Account) -> Result<Outcome, String> {
    let prowler = venv.join("bin").join("prowler");
    if !prowler.exists() {
        install(venv)?;
    }
    // Kept after the run, for a look at what Prowler found.
    let out_dir = crate::support::target_dir().join("large-account-prowler");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let mut cmd = Command::new(&prowler);
    cmd.arg("aws")
        .arg("--checks")
        .args(CHECKS)
        .arg("--region")
        .args(REGIONS)
        // Without it Prowler skips what nothing uses (a security group no
        // interface is in, a VPC without interfaces, EBS default encryption
        // in a region without volumes), which cis-fix judges all the same.
        .arg("--scan-unused-services")
        .args(["--output-formats", "json-ocsf", "--no-banner"])
        .arg("--output-directory")
        .arg(&out_dir)
        .envs(acct.moto.env())
        .current_dir(acct.dir())
        .stdin(Stdio::null());
    let log = out_dir.join("prowler.log");
    let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    cmd.stdout(file).stderr(err);
    println!(
        "running Prowler ({} checks, {} regions) against moto...",
        CHECKS.len(),
        REGIONS.len()
    );
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", prowler.display()))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "Prowler did not finish within {TIME_LIMIT:?} (log: {})",
                    log.display()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for Prowler: {e}")),
        }
    };
    let wall = started.elapsed();
    let code = status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    // 3: it ran and some check failed; 0: every check passed.
    if code != 0 && code != 3 {
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "Prowler exited {code} after {:.1}s; the end of its output:\n{}",
            wall.as_secs_f64(),
            tail.join("\n")
        ));
    }
    let (statuses, seen) = findings(&out_dir)?;
    let silent: Vec<&'static str> = CHECKS
        .iter()
        .copied()
        .filter(|c| !seen.iter().any(|s| s == c))
        .collect();
    println!(
        "Prowler: {:.1}s, exit {code}, findings {statuses:?} (output and log in {})",
        wall.as_secs_f64(),
        out_dir.display()
    );
    if !silent.is_empty() {
        println!("Prowler reported nothing for: {}", silent.join(", "));
    }
    Ok(Outcome {
        wall,
        checks: CHECKS.len(),
        code,
        statuses,
        silent,
    })
}

/// Prowler's findings in its OCSF JSON output: how many of each status,
/// and the check ids that reported any.
fn findings(dir: &Path) -> Result<(BTreeMap<String, usize>, Vec<String>), String> {
    let mut statuses = BTreeMap::new();
    let mut seen = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let path = e.path();
        if !path.to_string_lossy().ends_with(".ocsf.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let all: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        for f in all.as_array().into_iter().flatten() {
            let status = f["status_code"].as_str().unwrap_or("?").to_string();
            *statuses.entry(status).or_insert(0) += 1;
            if let Some(id) = f["metadata"]["event_code"].as_str() {
                seen.push(id.to_string());
            }
        }
    }
    seen.sort();
    seen.dedup();
    Ok((statuses, seen))
}

fn install(venv: &Path) -> Result<(), String> {
    println!(
        "installing {PIN} into {} (one-time, a few minutes)...",
        venv.display()
    );
    let ok = |what: &str, s: std::io::Result<std::process::ExitStatus>| match s {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} failed ({s})")),
        Err(e) => Err(format!("{what}: {e}")),
    };
    ok(
        "python3 -m venv",
        Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(venv)
            .status(),
    )?;
    ok(
        "pip install",
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--no-input", "--progress-bar", "off", PIN])
            .status(),
    )
}
