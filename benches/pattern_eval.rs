//! Throughput of evaluating the 15 CIS v3.0.0 metric filter patterns on a
//! stream of CloudTrail-like records.

use cis_fix::pattern::{Pattern, parse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

const CIS_V3: [&str; 15] = [
    r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#,
    r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
    "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
];

const EVENTS: usize = 100_000;

/// Realistic records from a few templates, varied by a deterministic LCG.
fn events() -> Vec<Value> {
    let calls = [
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
        ("ec2.amazonaws.com", "CreateVpc"),
        ("ec2.amazonaws.com", "DeleteRoute"),
        ("s3.amazonaws.com", "GetObject"),
        ("s3.amazonaws.com", "PutBucketPolicy"),
        ("s3.amazonaws.com", "HeadBucket"),
        ("iam.amazonaws.com", "AttachRolePolicy"),
        ("iam.amazonaws.com", "ListUsers"),
        ("kms.amazonaws.com", "Decrypt"),
        ("kms.amazonaws.com", "ScheduleKeyDeletion"),
        ("cloudtrail.amazonaws.com", "StopLogging"),
        ("config.amazonaws.com", "PutDeliveryChannel"),
        ("organizations.amazonaws.com", "LeaveOrganization"),
        ("sts.amazonaws.com", "AssumeRole"),
        ("signin.amazonaws.com", "ConsoleLogin"),
    ];
    let errors = [
        None,
        None,
        None,
        None,
        Some("AccessDenied"),
        Some("Client.UnauthorizedOperation"),
    ];
    let mut seed: u64 = 42;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    (0..EVENTS)
        .map(|i| {
            let (source, name) = calls[next(calls.len())];
            let root = next(50) == 0;
            let mut e = json!({
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": if root { "Root" } else { "AssumedRole" },
                    "principalId": format!("AROA{i:012}"),
                    "arn": format!("arn:aws:sts::123456789012:assumed-role/role-{}/session", i % 97),
                    "accountId": "123456789012",
                },
                "eventTime": "2024-05-01T12:00:00Z",
                "eventSource": source,
                "eventName": name,
                "awsRegion": "eu-west-1",
                "sourceIPAddress": if next(10) == 0 { "delivery.logs.amazonaws.com" } else { "203.0.113.7" },
                "userAgent": "aws-cli/2.15.0",
                "requestParameters": { "bucketName": "logs", "key": format!("k{i}") },
                "responseElements": null,
                "requestID": format!("req-{i}"),
                "eventID": format!("evt-{i}"),
                "readOnly": false,
                "eventType": if next(8) == 0 { "AwsServiceEvent" } else { "AwsApiCall" },
                "managementEvent": true,
                "recipientAccountId": "123456789012",
            });
            if let Some(obj) = e.as_object_mut() {
                if let Some(code) = errors[next(errors.len())] {
                    obj.insert("errorCode".into(), json!(code));
                }
                if name == "ConsoleLogin" {
                    obj.insert("additionalEventData".into(), json!({ "MFAUsed": if next(2) == 0 { "Yes" } else { "No" } }));
                    if next(3) == 0 {
                        obj.insert("errorMessage".into(), json!("Failed authentication"));
                    }
                }
            }
            e
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let patterns: Vec<Pattern> = CIS_V3
        .iter()
        .map(|t| parse(t).expect("benchmark pattern parses"))
        .collect();
    let events = events();
    let mut group = c.benchmark_group("cis_v3_patterns");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("all_15_patterns_per_event", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for e in &events {
                for p in &patterns {
                    hits += usize::from(p.matches(black_box(e)));
                }
            }
            hits
        })
    });
    group.bench_function("pattern_4_4_only", |b| {
        b.iter(|| {
            events
                .iter()
                .filter(|e| patterns[3].matches(black_box(e)))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
