//! Corpus of real-world variants of the CIS AWS Foundations Benchmark metric
//! filter patterns, with the coverage verdict each must get.

use cis_fix::pattern::{Coverage, Pattern, covers, parse, widen};
use serde_json::{Value, json};

const B4_1: &str = r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#;
const B4_2: &str =
    r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#;
const B4_3: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
const B4_4: &str = "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}";
const B4_5: &str = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";
const B4_6: &str =
    r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;
const B4_7: &str = "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }";
const B4_8: &str = "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }";
const B4_9: &str = "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }";
const B4_10: &str = "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }";
const B4_11: &str = "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }";
const B4_12: &str = "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }";
const B4_13: &str = "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }";
const B4_14: &str = "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }";
const B4_15: &str = r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#;
const V1_3_1: &str =
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;

/// Expected verdict.
enum Want {
    Covered,
    NotCovered(&'static [&'static str]),
    /// NotCovered, with missing terms computed by a function (long lists).
    NotCoveredBy(fn() -> Vec<String>),
    CannotProve,
}

struct Case {
    name: &'static str,
    benchmark: &'static str,
    pattern: &'static str,
    want: Want,
}

fn names(b: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = b;
    while let Some(at) = rest.find("$.eventName") {
        rest = &rest[at + "$.eventName".len()..];
        let value: String = rest
            .trim_start_matches([' ', '='])
            .trim_start_matches('"')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        out.push(value);
    }
    out
}

fn cases() -> Vec<Case> {
    use Want::*;
    let c = |name, benchmark, pattern, want| Case {
        name,
        benchmark,
        pattern,
        want,
    };
    vec![
        // 4.1 unauthorized API calls
        c("4.1 verbatim", B4_1, B4_1, Covered),
        c(
            "4.1 respaced, unquoted",
            B4_1,
            "{($.errorCode=*UnauthorizedOperation)||($.errorCode=AccessDenied*)&&($.sourceIPAddress!=delivery.logs.amazonaws.com)&&($.eventName!=HeadBucket)}",
            Covered,
        ),
        c(
            "4.1 reordered with explicit grouping",
            B4_1,
            r#"{ ( $.eventName != "HeadBucket" && $.errorCode = "AccessDenied*" && $.sourceIPAddress != "delivery.logs.amazonaws.com" ) || $.errorCode = "*UnauthorizedOperation" }"#,
            Covered,
        ),
        c("4.1 covered by the v1.2.0 pattern", B4_1, V1_3_1, Covered),
        c(
            "4.1 AccessDenied* widened to Access*",
            B4_1,
            r#"{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "Access*" }"#,
            Covered,
        ),
        c("4.1 any error code", B4_1, "{ $.errorCode = * }", Covered),
        c(
            "4.1 AccessDenied* narrowed to AccessDenied",
            B4_1,
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
            NotCovered(&[
                "$.errorCode = AccessDenied* && $.errorCode != *UnauthorizedOperation && $.errorCode != AccessDenied && $.eventName != HeadBucket && $.sourceIPAddress != delivery.logs.amazonaws.com",
            ]),
        ),
        c(
            "4.1 precedence misread as (A || B) && C && D",
            B4_1,
            r#"{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
            NotCovered(&[
                "$.errorCode = *UnauthorizedOperation && $.eventName = HeadBucket",
                "$.errorCode = *UnauthorizedOperation && $.eventName NOT EXISTS",
                "$.errorCode = *UnauthorizedOperation && $.sourceIPAddress = delivery.logs.amazonaws.com",
                "$.errorCode = *UnauthorizedOperation && $.sourceIPAddress NOT EXISTS",
            ]),
        ),
        c(
            "4.1 negation lost on HeadBucket",
            B4_1,
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName = "HeadBucket") }"#,
            NotCovered(&[
                "$.errorCode = AccessDenied* && $.errorCode != *UnauthorizedOperation && $.eventName != HeadBucket && $.sourceIPAddress != delivery.logs.amazonaws.com",
            ]),
        ),
        c(
            "v1.2.0 3.1 benchmark, v3 pattern in place",
            V1_3_1,
            B4_1,
            NotCovered(&[
                "$.errorCode = AccessDenied* && $.errorCode != *UnauthorizedOperation && $.eventName = HeadBucket",
                "$.errorCode = AccessDenied* && $.errorCode != *UnauthorizedOperation && $.eventName NOT EXISTS",
                "$.errorCode = AccessDenied* && $.errorCode != *UnauthorizedOperation && $.sourceIPAddress = delivery.logs.amazonaws.com",
                "$.errorCode = AccessDenied* && $.errorCode != *UnauthorizedOperation && $.sourceIPAddress NOT EXISTS",
            ]),
        ),
        // 4.2 console sign-in without MFA
        c(
            "4.2 reordered",
            B4_2,
            r#"{ $.additionalEventData.MFAUsed != "Yes" && $.eventName = "ConsoleLogin" }"#,
            Covered,
        ),
        c(
            "4.2 && swapped for || (wider)",
            B4_2,
            r#"{ ($.eventName = "ConsoleLogin") || ($.additionalEventData.MFAUsed != "Yes") }"#,
            Covered,
        ),
        c(
            "4.2 also counting sign-ins without the field",
            B4_2,
            r#"{ $.eventName = ConsoleLogin && ($.additionalEventData.MFAUsed != Yes || $.additionalEventData.MFAUsed NOT EXISTS) }"#,
            Covered,
        ),
        c(
            "4.2 negation lost",
            B4_2,
            r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "Yes") }"#,
            NotCovered(&["$.additionalEventData.MFAUsed != Yes && $.eventName = ConsoleLogin"]),
        ),
        c(
            "4.2 wrong case in field name",
            B4_2,
            r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MfaUsed != "Yes") }"#,
            NotCovered(&[
                "$.additionalEventData.MFAUsed != Yes && $.eventName = ConsoleLogin && $.additionalEventData.MfaUsed = Yes",
                "$.additionalEventData.MFAUsed != Yes && $.eventName = ConsoleLogin && $.additionalEventData.MfaUsed NOT EXISTS",
            ]),
        ),
        // 4.3 root account usage
        c(
            "4.3 reordered and parenthesised",
            B4_3,
            r#"{ ($.eventType != "AwsServiceEvent") && (($.userIdentity.invokedBy NOT EXISTS) && ($.userIdentity.type = "Root")) }"#,
            Covered,
        ),
        c(
            "4.3 v1.2.0 form without invokedBy (wider)",
            B4_3,
            r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#,
            Covered,
        ),
        c(
            "4.3 invokedBy present instead of absent",
            B4_3,
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy = * && $.eventType != "AwsServiceEvent" }"#,
            NotCovered(&[
                "$.eventType != AwsServiceEvent && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = Root",
            ]),
        ),
        c(
            "4.3 eventType pinned to AwsApiCall",
            B4_3,
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType = "AwsApiCall" }"#,
            NotCovered(&[
                "$.eventType != AwsServiceEvent && $.eventType != AwsApiCall && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = Root",
            ]),
        ),
        // 4.4 IAM policy changes
        c(
            "4.4 reversed order",
            B4_4,
            "{($.eventName=DetachGroupPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachRolePolicy)||($.eventName=DeletePolicyVersion)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicy)||($.eventName=CreatePolicy)||($.eventName=PutUserPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutGroupPolicy)||($.eventName=DeleteUserPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteGroupPolicy)}",
            Covered,
        ),
        c(
            "4.4 one name missing",
            B4_4,
            "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)}",
            NotCovered(&["$.eventName = DetachGroupPolicy"]),
        ),
        c(
            "4.4 with an extra widening term",
            B4_4,
            "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)||($.eventName=CreateUser)}",
            Covered,
        ),
        c(
            "4.4 as one wildcard",
            B4_4,
            r#"{ $.eventName = "*Policy*" }"#,
            Covered,
        ),
        c(
            "4.4 one term with lower-case field name",
            B4_4,
            "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventname=DetachGroupPolicy)}",
            NotCovered(&[
                "$.eventName = DetachGroupPolicy && $.eventname != DetachGroupPolicy",
                "$.eventName = DetachGroupPolicy && $.eventname NOT EXISTS",
            ]),
        ),
        // 4.5 CloudTrail configuration changes
        c(
            "4.5 all values quoted",
            B4_5,
            r#"{ ($.eventName = "CreateTrail") || ($.eventName = "UpdateTrail") || ($.eventName = "DeleteTrail") || ($.eventName = "StartLogging") || ($.eventName = "StopLogging") }"#,
            Covered,
        ),
        c(
            "4.5 || swapped for && (cannot fire)",
            B4_5,
            "{ ($.eventName = CreateTrail) && ($.eventName = UpdateTrail) && ($.eventName = DeleteTrail) && ($.eventName = StartLogging) && ($.eventName = StopLogging) }",
            NotCovered(&[
                "$.eventName = CreateTrail",
                "$.eventName = DeleteTrail",
                "$.eventName = StartLogging",
                "$.eventName = StopLogging",
                "$.eventName = UpdateTrail",
            ]),
        ),
        // 4.6 console authentication failures
        c(
            "4.6 reordered",
            B4_6,
            r#"{ $.errorMessage = "Failed authentication" && $.eventName = "ConsoleLogin" }"#,
            Covered,
        ),
        c(
            "4.6 all console logins (wider)",
            B4_6,
            "{ $.eventName = ConsoleLogin }",
            Covered,
        ),
        c(
            "4.6 wrong case in message",
            B4_6,
            r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "failed authentication") }"#,
            NotCovered(&[
                "$.errorMessage = \"Failed authentication\" && $.eventName = ConsoleLogin",
            ]),
        ),
        // 4.7 disabling or deleting CMKs
        c(
            "4.7 distributed form",
            B4_7,
            "{ ($.eventSource = kms.amazonaws.com && $.eventName = DisableKey) || ($.eventSource = kms.amazonaws.com && $.eventName = ScheduleKeyDeletion) }",
            Covered,
        ),
        c(
            "4.7 without the eventSource condition (wider)",
            B4_7,
            "{ $.eventName = DisableKey || $.eventName = ScheduleKeyDeletion }",
            Covered,
        ),
        c(
            "4.7 ScheduleKeyDeletion missing",
            B4_7,
            "{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }",
            NotCovered(&["$.eventSource = kms.amazonaws.com && $.eventName = ScheduleKeyDeletion"]),
        ),
        // 4.8 S3 bucket policy changes
        c(
            "4.8 extra parentheses and no spaces",
            B4_8,
            "{((($.eventSource=s3.amazonaws.com))&&((($.eventName=PutBucketAcl)||($.eventName=PutBucketPolicy)||($.eventName=PutBucketCors)||($.eventName=PutBucketLifecycle)||($.eventName=PutBucketReplication)||($.eventName=DeleteBucketPolicy)||($.eventName=DeleteBucketCors)||($.eventName=DeleteBucketLifecycle)||($.eventName=DeleteBucketReplication))))}",
            Covered,
        ),
        c(
            "4.8 DeleteBucketReplication missing",
            B4_8,
            "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle)) }",
            NotCovered(&[
                "$.eventSource = s3.amazonaws.com && $.eventName = DeleteBucketReplication",
            ]),
        ),
        // 4.9 AWS Config changes
        c(
            "4.9 eventSource as a wildcard",
            B4_9,
            "{ ($.eventSource = config.*) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
            Covered,
        ),
        c(
            "4.9 wrong eventSource",
            B4_9,
            "{ ($.eventSource = configservice.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
            NotCovered(&[
                "$.eventSource = config.amazonaws.com && $.eventName = DeleteDeliveryChannel",
                "$.eventSource = config.amazonaws.com && $.eventName = PutConfigurationRecorder",
                "$.eventSource = config.amazonaws.com && $.eventName = PutDeliveryChannel",
                "$.eventSource = config.amazonaws.com && $.eventName = StopConfigurationRecorder",
            ]),
        ),
        // 4.10 security groups
        c(
            "4.10 as one wildcard",
            B4_10,
            "{ $.eventName = *SecurityGroup* }",
            Covered,
        ),
        c(
            "4.10 prefix wildcards",
            B4_10,
            "{ $.eventName = Authorize* || $.eventName = Revoke* || $.eventName = *SecurityGroup }",
            Covered,
        ),
        c(
            "4.10 DeleteSecurityGroup missing",
            B4_10,
            "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) }",
            NotCovered(&["$.eventName = DeleteSecurityGroup"]),
        ),
        c(
            "4.10 wildcard narrowed to Create*",
            B4_10,
            "{ $.eventName = Authorize* || $.eventName = Revoke* || $.eventName = Create*SecurityGroup }",
            NotCovered(&["$.eventName = DeleteSecurityGroup"]),
        ),
        // 4.11-4.13 network changes
        c(
            "4.11 shuffled",
            B4_11,
            "{ ($.eventName = ReplaceNetworkAclAssociation) || ($.eventName = DeleteNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = CreateNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) }",
            Covered,
        ),
        c(
            "4.12 typo in one name",
            B4_12,
            "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateWay) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
            NotCovered(&["$.eventName = CreateInternetGateway"]),
        ),
        c(
            "4.13 narrowed by an extra eventSource condition",
            B4_13,
            "{ $.eventSource = ec2.amazonaws.com && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
            NotCoveredBy(|| {
                let mut out = Vec::new();
                for name in names(B4_13) {
                    out.push(format!(
                        "$.eventName = {name} && $.eventSource != ec2.amazonaws.com"
                    ));
                    out.push(format!("$.eventName = {name} && $.eventSource NOT EXISTS"));
                }
                out.sort();
                out
            }),
        ),
        // 4.14 VPC changes
        c(
            "4.14 DeleteVpcPeeringConnection missing",
            B4_14,
            "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
            NotCovered(&["$.eventName = DeleteVpcPeeringConnection"]),
        ),
        c("4.14 wildcards", B4_14, "{ $.eventName = *Vpc* }", Covered),
        // 4.15 AWS Organizations changes
        c(
            "4.15 values unquoted",
            B4_15,
            "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }",
            Covered,
        ),
        c(
            "4.15 all organizations events",
            B4_15,
            "{ $.eventSource = organizations.amazonaws.com }",
            Covered,
        ),
        c(
            "4.15 LeaveOrganization missing",
            B4_15,
            "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }",
            NotCovered(&[
                "$.eventSource = organizations.amazonaws.com && $.eventName = LeaveOrganization",
            ]),
        ),
        // Patterns of other kinds
        c("empty pattern", B4_4, "", Covered),
        c("empty pattern, quoted", B4_6, "\"\"", Covered),
        c(
            "term pattern",
            B4_6,
            "ConsoleLogin \"Failed authentication\"",
            CannotProve,
        ),
        c(
            "space-delimited pattern",
            B4_4,
            "[version, account, eventName=*Policy*]",
            CannotProve,
        ),
        c(
            "regex value",
            B4_4,
            "{ $.eventName = %Policy% }",
            CannotProve,
        ),
        c(
            "wildcard selector",
            B4_5,
            "{ $.*.eventName = CreateTrail }",
            CannotProve,
        ),
    ]
}

/// A few thousand CloudTrail-like records mixing the fields the benchmark
/// patterns look at, deterministic (simple LCG), including absent fields.
fn sample_events() -> Vec<Value> {
    let mut event_names: Vec<String> = [
        B4_2, B4_4, B4_5, B4_7, B4_8, B4_9, B4_10, B4_11, B4_12, B4_13, B4_14, B4_15,
    ]
    .iter()
    .flat_map(|b| names(b))
    .collect();
    event_names
        .extend(["HeadBucket", "GetObject", "CreateUser", "DescribeInstances"].map(String::from));
    let sources = [
        "kms.amazonaws.com",
        "s3.amazonaws.com",
        "config.amazonaws.com",
        "organizations.amazonaws.com",
        "ec2.amazonaws.com",
        "iam.amazonaws.com",
        "cloudtrail.amazonaws.com",
        "signin.amazonaws.com",
    ];
    let errors = [
        "",
        "AccessDenied",
        "AccessDeniedException",
        "Client.UnauthorizedOperation",
        "ThrottlingException",
    ];
    let ips = ["", "203.0.113.7", "delivery.logs.amazonaws.com"];
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut events = Vec::new();
    for i in 0..4000 {
        let mut e = json!({
            "eventVersion": "1.08",
            "eventTime": "2024-05-01T12:00:00Z",
            "eventName": event_names[next(event_names.len())],
            "eventSource": sources[next(sources.len())],
            "eventType": if next(4) == 0 { "AwsServiceEvent" } else { "AwsApiCall" },
            "userIdentity": { "type": if next(3) == 0 { "Root" } else { "IAMUser" } },
        });
        let obj = e.as_object_mut().expect("object literal");
        if next(3) == 0 {
            obj.insert(
                "userIdentity".into(),
                json!({"type": "Root", "invokedBy": "support.amazonaws.com"}),
            );
        }
        match errors[next(errors.len())] {
            "" => {}
            code => {
                obj.insert("errorCode".into(), json!(code));
            }
        }
        match ips[next(ips.len())] {
            "" => {}
            ip => {
                obj.insert("sourceIPAddress".into(), json!(ip));
            }
        }
        if i % 7 == 0 {
            obj.insert("eventName".into(), json!("ConsoleLogin"));
            obj.insert(
                "additionalEventData".into(),
                json!({"MFAUsed": if next(2) == 0 { "Yes" } else { "No" }}),
            );
            if next(2) == 0 {
                obj.insert("errorMessage".into(), json!("Failed authentication"));
            }
        }
        if i % 11 == 0 {
            obj.remove("eventName");
        }
        events.push(e);
    }
    events
}

fn parse_ok(text: &str) -> Pattern {
    parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn corpus_verdicts() {
    let events = sample_events();
    let mut failures = Vec::new();
    for case in cases() {
        let (p, b) = (parse_ok(case.pattern), parse_ok(case.benchmark));
        let got = covers(&p, &b);
        let ok = match (&case.want, &got) {
            (Want::Covered, Coverage::Covered)
            | (Want::CannotProve, Coverage::CannotProve { .. }) => true,
            (Want::NotCovered(want), Coverage::NotCovered { missing }) => missing == want,
            (Want::NotCoveredBy(f), Coverage::NotCovered { missing }) => *missing == f(),
            _ => false,
        };
        if !ok {
            failures.push(format!("{}: got {got:#?}", case.name));
        }
        // Soundness on the sample: Covered means no sample event slips through.
        if got == Coverage::Covered {
            for e in &events {
                assert!(
                    !b.matches(e) || p.matches(e),
                    "{}: covered but misses {e}",
                    case.name
                );
            }
        }
        if let Coverage::NotCovered { .. } = got {
            let e = cis_fix::pattern::counterexample(&p, &b).expect("counterexample");
            assert!(
                b.matches(&e) && !p.matches(&e),
                "{}: bad counterexample {e}",
                case.name
            );
        }
        // Widening covers the benchmark and keeps everything the old pattern caught.
        let w = widen(&p, &b);
        assert_eq!(
            covers(&w, &b),
            Coverage::Covered,
            "{}: widened {w}",
            case.name
        );
        if got == Coverage::Covered {
            assert_eq!(w, p, "{}: covered pattern must be kept", case.name);
        }
        for e in &events {
            assert!(
                !b.matches(e) || w.matches(e),
                "{}: widened misses benchmark event {e}",
                case.name
            );
            if p.is_json() || p.matches_everything() {
                assert!(
                    !p.matches(e) || w.matches(e),
                    "{}: widened lost {e}",
                    case.name
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_is_large_enough() {
    assert!(cases().len() >= 40);
}

#[test]
fn benchmark_patterns_fire_on_their_events() {
    let events = sample_events();
    for b in [
        B4_1, B4_2, B4_3, B4_4, B4_5, B4_6, B4_7, B4_8, B4_9, B4_10, B4_11, B4_12, B4_13, B4_14,
        B4_15,
    ] {
        let b = parse_ok(b);
        assert!(
            events.iter().any(|e| b.matches(e)),
            "{b} never fires on the sample"
        );
        assert!(
            events.iter().any(|e| !b.matches(e)),
            "{b} always fires on the sample"
        );
    }
}

#[test]
fn widened_v3_vpc_pattern_reads_well() {
    let old = parse_ok(
        cases()
            .iter()
            .find(|c| c.name.starts_with("4.14 DeleteVpc"))
            .map(|c| c.pattern)
            .unwrap_or(""),
    );
    let w = widen(&old, &parse_ok(B4_14));
    assert_eq!(w, parse_ok(B4_14));
    let kms_old = parse_ok("{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }");
    assert_eq!(
        widen(&kms_old, &parse_ok(B4_7)).canonical(),
        r#"{ ($.eventName = "DisableKey" && $.eventSource = "kms.amazonaws.com") || ($.eventName = "ScheduleKeyDeletion" && $.eventSource = "kms.amazonaws.com") }"#
    );
}
