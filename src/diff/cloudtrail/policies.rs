//! The policies of what cis-fix creates for a trail, least privilege and
//! scoped to this account's trails, as AWS documents them for CloudTrail.
//! Serialised once here so a re-plan compares like with like.

use serde_json::json;

fn text(v: serde_json::Value) -> String {
    // A `Value` always serialises; the fallback is never reached.
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Any trail of this account: one key and one role serve them all.
fn any_trail(partition: &str, account: &str) -> String {
    format!("arn:{partition}:cloudtrail:*:{account}:trail/*")
}

/// Trust: CloudTrail, acting for this account only.
pub fn delivery_trust(account: &str) -> String {
    text(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailAssumesForThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    }))
}

/// The role may write log streams of the one log group and nothing else.
pub fn delivery_permissions(
    partition: &str,
    region: &str,
    account: &str,
    log_group: &str,
) -> String {
    text(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailWritesItsLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!(
                "arn:{partition}:logs:{region}:{account}:log-group:{log_group}:log-stream:*"
            )
        }]
    }))
}

/// The key: the account administers it through IAM; CloudTrail may encrypt
/// for this account's trails (the encryption-context condition) and
/// describe it; the account may decrypt what its trails wrote.
pub fn trail_key(partition: &str, account: &str) -> String {
    let trails = any_trail(partition, account);
    text(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "CloudTrailEncryptsThisAccountsTrails",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": trails,
                        "aws:SourceArn": trails
                    }
                }
            },
            {
                "Sid": "CloudTrailDescribesTheKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*"
            },
            {
                "Sid": "AccountDecryptsItsTrailLogs",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}
                }
            }
        ]
    }))
}

/// The bucket: CloudTrail may check its ACL and write log files under
/// `AWSLogs/<account>/`, for the one trail (aws:SourceArn); nothing may
/// reach it without TLS.
pub fn trail_bucket(partition: &str, account: &str, bucket: &str, trail_arn: &str) -> String {
    let b = format!("arn:{partition}:s3:::{bucket}");
    text(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudTrailChecksAcl",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": b,
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
            },
            {
                "Sid": "CloudTrailWritesLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("{b}/AWSLogs/{account}/*"),
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": trail_arn
                }}
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [b.clone(), format!("{b}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    }))
}

/// `existing` with `ours`'s statements added, each replacing a statement of
/// the same Sid: what a user added to a policy of cis-fix's stays. A policy
/// that does not parse gives way to `ours` (the plan shows both).
pub fn merged(existing: &str, ours: &str) -> String {
    let (Ok(mut have), Ok(want)) = (
        serde_json::from_str::<serde_json::Value>(existing),
        serde_json::from_str::<serde_json::Value>(ours),
    ) else {
        return ours.to_string();
    };
    let wanted: Vec<serde_json::Value> = match &want["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        _ => return ours.to_string(),
    };
    let mut statements: Vec<serde_json::Value> = match have.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(s @ serde_json::Value::Object(_)) => vec![s.clone()],
        _ => vec![],
    };
    for w in wanted {
        match statements
            .iter_mut()
            .find(|s| s.get("Sid").is_some() && s.get("Sid") == w.get("Sid"))
        {
            Some(slot) => *slot = w,
            None => statements.push(w),
        }
    }
    have["Statement"] = serde_json::Value::Array(statements);
    if have.get("Version").is_none() {
        have["Version"] = want["Version"].clone();
    }
    text(have)
}

/// Whether a key policy lets CloudTrail encrypt: a statement allowing
/// `cloudtrail.amazonaws.com` a GenerateDataKey action. A key without one
/// makes UpdateTrail fail, so it is fixed (cis-fix's key) or named.
pub fn lets_cloudtrail_encrypt(policy: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(policy) else {
        return false;
    };
    let list = |x: &serde_json::Value| -> Vec<String> {
        match x {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        }
    };
    let statements = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => vec![],
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && list(&s["Principal"]["Service"])
                .iter()
                .any(|p| p == "cloudtrail.amazonaws.com")
            && list(&s["Action"])
                .iter()
                .any(|a| a == "kms:*" || a.starts_with("kms:GenerateDataKey"))
    })
}

/// Whether a bucket policy lets anyone in: an Allow to `*` (or `{"AWS":
/// "*"}`) with no condition, the benchmark's test.
pub fn public_statement(policy: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(policy).ok()?;
    let statements = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => vec![],
    };
    statements.iter().find_map(|s| {
        let p = &s["Principal"];
        let everyone = p == "*"
            || p["AWS"] == "*"
            || p["AWS"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "*"));
        (s["Effect"] == "Allow" && everyone && s.get("Condition").is_none()).then(|| {
            s["Sid"]
                .as_str()
                .map(|sid| format!("statement `{sid}`"))
                .unwrap_or_else(|| "a statement".into())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_json_and_scoped() {
        let k = trail_key("aws", "123456789012");
        assert!(lets_cloudtrail_encrypt(&k));
        assert!(k.contains("arn:aws:cloudtrail:*:123456789012:trail/*"));
        let b = trail_bucket(
            "aws",
            "1",
            "bk",
            "arn:aws:cloudtrail:us-east-1:1:trail/cis-fix",
        );
        assert!(
            public_statement(&b).is_none(),
            "the Deny to * is not public"
        );
        let p = delivery_permissions("aws", "eu-west-1", "1", "cis-fix/cloudtrail");
        assert!(p.contains("log-group:cis-fix/cloudtrail:log-stream:*"));
        assert!(delivery_trust("1").contains("aws:SourceAccount"));
    }

    #[test]
    fn merging_keeps_the_users_statements_and_replaces_ours_by_sid() {
        let have = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/x"},"Action":"kms:Decrypt","Resource":"*"},{"Sid":"CloudTrailDescribesTheKey","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
        let m: serde_json::Value =
            serde_json::from_str(&merged(have, &trail_key("aws", "1"))).expect("json");
        let sids: Vec<&str> = m["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert_eq!(sids[0], "Team");
        assert_eq!(
            sids.iter()
                .filter(|s| **s == "CloudTrailDescribesTheKey")
                .count(),
            1
        );
        assert!(lets_cloudtrail_encrypt(&m.to_string()));
        assert_eq!(merged("not json", "{}"), "{}");
    }

    #[test]
    fn public_policies_are_found() {
        let p = r#"{"Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        assert_eq!(public_statement(p).as_deref(), Some("statement `Open`"));
        let p = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:GetObject","Resource":"*"}}"#;
        assert!(public_statement(p).is_some());
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        assert!(public_statement(p).is_none());
        assert!(!lets_cloudtrail_encrypt("{}"));
    }
}
