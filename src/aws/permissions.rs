//! Finds missing permissions before the first write, so an apply is refused
//! whole instead of failing halfway: IAM's policy simulator is asked about
//! every action the plan will call, as the caller's own user or role.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};

use super::Aws;
use super::error::failure;
use crate::arn::Arn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionCheck {
    /// The simulator allows every action.
    Allowed { principal: String },
    /// These actions are denied (implicitly or explicitly).
    Missing {
        principal: String,
        actions: Vec<String>,
    },
    /// The check itself could not run; why.
    Unavailable(String),
}

/// The IAM principal to simulate for a caller ARN. An assumed-role session
/// maps back to its role (the path is looked up with GetRole where allowed);
/// root and federated callers cannot be simulated.
pub fn principal_for(caller_arn: &str) -> Result<Principal, String> {
    let Some(arn) = Arn::parse(caller_arn) else {
        return Err(format!("`{caller_arn}` is not an ARN"));
    };
    match (arn.service.as_str(), arn.resource_parts()) {
        ("iam", ("user" | "role", Some(_))) => Ok(Principal::Arn(caller_arn.to_string())),
        ("sts", ("assumed-role", Some(rest))) => {
            let role = rest.split('/').next().unwrap_or_default();
            if role.is_empty() {
                return Err(format!("`{caller_arn}` names no role"));
            }
            Ok(Principal::Role {
                name: role.to_string(),
                fallback_arn: format!("arn:{}:iam::{}:role/{role}", arn.partition, arn.account),
            })
        }
        ("iam", ("root", None)) => Err(
            "the caller is the account's root user, which the policy simulator cannot evaluate"
                .into(),
        ),
        _ => Err(format!(
            "the caller `{caller_arn}` is not an IAM user or role the policy simulator can evaluate"
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Arn(String),
    /// A role known by name; its ARN (with path) comes from GetRole, else the
    /// path-less ARN is tried.
    Role {
        name: String,
        fallback_arn: String,
    },
}

/// One call apply will make: the IAM action, the resource it acts on and
/// the region, so conditional and resource-scoped policies are judged as
/// AWS will judge the real call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: &'static str,
    pub region: String,
    pub resource: String,
}

/// The partition of a caller ARN, for building resource ARNs.
pub fn partition(caller_arn: &str) -> Option<String> {
    Arn::parse(caller_arn).map(|a| a.partition)
}

/// Asks the policy simulator about every request, as `caller_arn` (the ARN
/// STS reported while reading, so STS is not called twice).
pub async fn check(aws: &Aws, caller_arn: Option<&str>, requests: &[Request]) -> PermissionCheck {
    check_with(&aws.iam(), caller_arn, requests).await
}

async fn check_with(
    iam: &aws_sdk_iam::Client,
    caller_arn: Option<&str>,
    requests: &[Request],
) -> PermissionCheck {
    if requests.is_empty() {
        return PermissionCheck::Allowed {
            principal: caller_arn.unwrap_or_default().to_string(),
        };
    }
    let Some(caller) = caller_arn else {
        return PermissionCheck::Unavailable(
            "the caller is unknown (sts:GetCallerIdentity failed while reading)".into(),
        );
    };
    let principal = match principal_for(caller) {
        Ok(Principal::Arn(a)) => a,
        Ok(Principal::Role { name, fallback_arn }) => {
            match iam.get_role().role_name(&name).send().await {
                Ok(out) => out.role.map(|r| r.arn).unwrap_or(fallback_arn),
                // Without iam:GetRole the path-less ARN still works for
                // roles at the root path, the common case.
                Err(_) => fallback_arn,
            }
        }
        Err(why) => return PermissionCheck::Unavailable(why),
    };
    // One simulation per action and region: its resources, and the region
    // as the request context.
    let mut groups: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for r in requests {
        groups
            .entry((r.action, r.region.as_str()))
            .or_default()
            .push(r.resource.as_str());
    }
    let mut denied = Vec::new();
    let mut undecided = Vec::new();
    for ((action, region), resources) in groups {
        let region_context = ContextEntry::builder()
            .context_key_name("aws:RequestedRegion")
            .context_key_type(ContextKeyTypeEnum::String)
            .context_key_values(region)
            .build();
        let mut pages = iam
            .simulate_principal_policy()
            .policy_source_arn(&principal)
            .action_names(action)
            .set_resource_arns(Some(resources.iter().map(|r| r.to_string()).collect()))
            .context_entries(region_context)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    return PermissionCheck::Unavailable(
                        failure("iam:SimulatePrincipalPolicy", region, Some(&principal), &e)
                            .to_string(),
                    );
                }
            };
            for r in page.evaluation_results.unwrap_or_default() {
                let missing = r.missing_context_values.unwrap_or_default();
                if !missing.is_empty() {
                    undecided.push(format!(
                        "{} (needs {})",
                        r.eval_action_name,
                        missing.join(", ")
                    ));
                } else if r.eval_decision != PolicyEvaluationDecisionType::Allowed {
                    denied.push(r.eval_action_name);
                }
            }
        }
    }
    denied.sort();
    denied.dedup();
    if !denied.is_empty() {
        PermissionCheck::Missing {
            principal,
            actions: denied,
        }
    } else if !undecided.is_empty() {
        undecided.sort();
        undecided.dedup();
        PermissionCheck::Unavailable(format!(
            "the simulator cannot decide {} without request context only the real call has",
            undecided.join(", ")
        ))
    } else {
        PermissionCheck::Allowed { principal }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, Role};
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    // The SDK versions in the lock predate `with_test_defaults_v2`, which
    // `mock_client!` calls, so the mocked client is built by hand.
    fn iam_client(mode: RuleMode, rules: &[&Rule]) -> aws_sdk_iam::Client {
        let mut mocks = MockResponseInterceptor::new().rule_mode(mode);
        for r in rules {
            mocks = mocks.with_rule(r);
        }
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::Config::builder()
                .with_test_defaults()
                .region(aws_config::Region::new("us-east-1"))
                .http_client(create_mock_http_client())
                .interceptor(mocks)
                .build(),
        )
    }

    fn req(action: &'static str, resource: &str) -> Request {
        Request {
            action,
            region: "us-east-1".into(),
            resource: resource.into(),
        }
    }

    fn result(action: &str, decision: PolicyEvaluationDecisionType) -> EvaluationResult {
        EvaluationResult::builder()
            .eval_action_name(action)
            .eval_decision(decision)
            .build()
            .expect("result")
    }

    fn simulated(results: Vec<EvaluationResult>) -> SimulatePrincipalPolicyOutput {
        SimulatePrincipalPolicyOutput::builder()
            .set_evaluation_results(Some(results))
            .build()
    }

    #[test]
    fn principals() {
        assert_eq!(
            principal_for("arn:aws:sts::123456789012:assumed-role/Deployer/session-1"),
            Ok(Principal::Role {
                name: "Deployer".into(),
                fallback_arn: "arn:aws:iam::123456789012:role/Deployer".into()
            })
        );
        assert_eq!(
            principal_for("arn:aws:iam::123456789012:user/ops/alice"),
            Ok(Principal::Arn(
                "arn:aws:iam::123456789012:user/ops/alice".into()
            ))
        );
        assert!(
            principal_for("arn:aws:iam::123456789012:root")
                .unwrap_err()
                .contains("root")
        );
        assert!(principal_for("arn:aws:sts::123456789012:federated-user/bob").is_err());
        assert!(principal_for("nonsense").is_err());
        assert_eq!(
            partition("arn:aws-cn:sts::123:assumed-role/R/s").as_deref(),
            Some("aws-cn")
        );
    }

    #[tokio::test]
    async fn assumed_role_maps_to_its_role_and_each_action_is_asked_with_its_resources_and_region()
    {
        let get_role = mock!(aws_sdk_iam::Client::get_role)
            .match_requests(|r| r.role_name() == Some("Deployer"))
            .then_output(|| {
                GetRoleOutput::builder()
                    .role(
                        Role::builder()
                            .path("/ci/")
                            .role_name("Deployer")
                            .role_id("AROA")
                            .arn("arn:aws:iam::123456789012:role/ci/Deployer")
                            .create_date(aws_smithy_types::DateTime::from_secs(0))
                            .build()
                            .expect("role"),
                    )
                    .build()
            });
        let role = "arn:aws:iam::123456789012:role/ci/Deployer";
        let filters = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(move |r| {
                r.policy_source_arn() == Some(role)
                    && r.action_names() == ["logs:PutMetricFilter"]
                    && r.resource_arns() == ["arn:aws:logs:us-east-1:123456789012:log-group:ct:*"]
                    && r.context_entries()[0].context_key_values() == ["us-east-1"]
            })
            .then_output(|| {
                simulated(vec![result(
                    "logs:PutMetricFilter",
                    PolicyEvaluationDecisionType::Allowed,
                )])
            });
        let subscribe = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(|r| r.action_names() == ["sns:Subscribe"])
            .then_output(|| {
                simulated(vec![result(
                    "sns:Subscribe",
                    PolicyEvaluationDecisionType::ImplicitDeny,
                )])
            });
        let topic = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(|r| r.action_names() == ["sns:CreateTopic"])
            .then_output(|| {
                simulated(vec![result(
                    "sns:CreateTopic",
                    PolicyEvaluationDecisionType::ExplicitDeny,
                )])
            });
        let iam = iam_client(
            RuleMode::MatchAny,
            &[&get_role, &filters, &subscribe, &topic],
        );
        let got = check_with(
            &iam,
            Some("arn:aws:sts::123456789012:assumed-role/Deployer/s"),
            &[
                req(
                    "logs:PutMetricFilter",
                    "arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
                ),
                req("sns:CreateTopic", "arn:aws:sns:us-east-1:123456789012:t"),
                req("sns:Subscribe", "arn:aws:sns:us-east-1:123456789012:t"),
            ],
        )
        .await;
        assert_eq!(
            got,
            PermissionCheck::Missing {
                principal: role.into(),
                actions: vec!["sns:CreateTopic".into(), "sns:Subscribe".into()],
            }
        );
        assert_eq!(filters.num_calls(), 1);
    }

    #[tokio::test]
    async fn all_allowed() {
        let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_output(|| {
            simulated(vec![result(
                "logs:PutMetricFilter",
                PolicyEvaluationDecisionType::Allowed,
            )])
        });
        let iam = iam_client(RuleMode::Sequential, &[&simulate]);
        let got = check_with(
            &iam,
            Some("arn:aws:iam::123456789012:user/alice"),
            &[req(
                "logs:PutMetricFilter",
                "arn:aws:logs:us-east-1:1:log-group:x:*",
            )],
        )
        .await;
        assert!(matches!(got, PermissionCheck::Allowed { .. }), "{got:?}");
    }

    #[tokio::test]
    async fn a_decision_that_needs_missing_context_is_not_a_refusal() {
        let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_output(|| {
            simulated(vec![
                EvaluationResult::builder()
                    .eval_action_name("cloudwatch:PutMetricAlarm")
                    .eval_decision(PolicyEvaluationDecisionType::ImplicitDeny)
                    .missing_context_values("aws:PrincipalTag/team")
                    .build()
                    .expect("result"),
            ])
        });
        let iam = iam_client(RuleMode::Sequential, &[&simulate]);
        let got = check_with(
            &iam,
            Some("arn:aws:iam::123456789012:user/alice"),
            &[req(
                "cloudwatch:PutMetricAlarm",
                "arn:aws:cloudwatch:us-east-1:1:alarm:a",
            )],
        )
        .await;
        let PermissionCheck::Unavailable(why) = got else {
            panic!("{got:?}")
        };
        assert!(why.contains("aws:PrincipalTag/team"), "{why}");
    }

    #[tokio::test]
    async fn denied_simulator_is_unavailable_not_an_error() {
        // IAM's own awsQuery error body, as the service sends it.
        let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_http_response(|| {
            aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(403).expect("status"),
                aws_smithy_types::body::SdkBody::from(
                    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:SimulatePrincipalPolicy</Message></Error><RequestId>1</RequestId></ErrorResponse>",
                ),
            )
        });
        let iam = iam_client(RuleMode::Sequential, &[&simulate]);
        let got = check_with(
            &iam,
            Some("arn:aws:iam::123456789012:user/alice"),
            &[req(
                "logs:PutMetricFilter",
                "arn:aws:logs:us-east-1:1:log-group:x:*",
            )],
        )
        .await;
        let PermissionCheck::Unavailable(why) = got else {
            panic!("{got:?}")
        };
        assert!(
            why.contains("iam:SimulatePrincipalPolicy") && why.contains("AccessDenied"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn root_or_unknown_caller_is_unavailable() {
        let iam = iam_client(RuleMode::Sequential, &[]);
        let r = [req("sns:Subscribe", "arn:aws:sns:us-east-1:1:t")];
        let got = check_with(&iam, Some("arn:aws:iam::123456789012:root"), &r).await;
        assert!(matches!(got, PermissionCheck::Unavailable(w) if w.contains("root")));
        let got = check_with(&iam, None, &r).await;
        assert!(
            matches!(got, PermissionCheck::Unavailable(w) if w.contains("sts:GetCallerIdentity"))
        );
    }
}
