//! Finds missing permissions before the first write, so an apply is refused
//! whole instead of failing halfway: IAM's policy simulator is asked about
//! every action the plan will call, as the caller's own user or role.

use aws_sdk_iam::types::PolicyEvaluationDecisionType;

use super::error::failure;

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
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts.as_slice() else {
        return Err(format!("`{caller_arn}` is not an ARN"));
    };
    match (*service, resource.split_once('/')) {
        ("iam", Some(("user", _))) | ("iam", Some(("role", _))) => {
            Ok(Principal::Arn(caller_arn.to_string()))
        }
        ("sts", Some(("assumed-role", rest))) => {
            let role = rest.split('/').next().unwrap_or_default();
            if role.is_empty() {
                return Err(format!("`{caller_arn}` names no role"));
            }
            Ok(Principal::Role {
                name: role.to_string(),
                fallback_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
            })
        }
        ("iam", _) if *resource == "root" => Err(
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

pub async fn check(
    sts: &aws_sdk_sts::Client,
    iam: &aws_sdk_iam::Client,
    region: &str,
    actions: &[&str],
) -> PermissionCheck {
    if actions.is_empty() {
        return PermissionCheck::Allowed {
            principal: String::new(),
        };
    }
    let caller = match sts.get_caller_identity().send().await {
        Ok(out) => match out.arn {
            Some(a) => a,
            None => {
                return PermissionCheck::Unavailable(
                    "sts:GetCallerIdentity returned no ARN".into(),
                );
            }
        },
        Err(e) => {
            return PermissionCheck::Unavailable(
                failure("sts:GetCallerIdentity", region, None, &e).to_string(),
            );
        }
    };
    let principal = match principal_for(&caller) {
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
    let mut denied = Vec::new();
    let mut pages = iam
        .simulate_principal_policy()
        .policy_source_arn(&principal)
        .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
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
            if r.eval_decision != PolicyEvaluationDecisionType::Allowed {
                denied.push(r.eval_action_name);
            }
        }
    }
    if denied.is_empty() {
        PermissionCheck::Allowed { principal }
    } else {
        denied.sort();
        denied.dedup();
        PermissionCheck::Missing {
            principal,
            actions: denied,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, Role};
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    // The SDK versions in the lock predate `with_test_defaults_v2`, which
    // `mock_client!` calls, so the mocked clients are built by hand.
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

    fn sts_as(arn: &'static str) -> aws_sdk_sts::Client {
        let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(move || {
            GetCallerIdentityOutput::builder()
                .arn(arn)
                .account("123456789012")
                .build()
        });
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .with_test_defaults()
                .region(aws_config::Region::new("us-east-1"))
                .http_client(create_mock_http_client())
                .interceptor(MockResponseInterceptor::new().with_rule(&rule))
                .build(),
        )
    }

    fn result(action: &str, decision: PolicyEvaluationDecisionType) -> EvaluationResult {
        EvaluationResult::builder()
            .eval_action_name(action)
            .eval_decision(decision)
            .build()
            .expect("result")
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
    }

    #[tokio::test]
    async fn assumed_role_maps_to_its_role_with_path_and_missing_actions_are_listed() {
        let sts = sts_as("arn:aws:sts::123456789012:assumed-role/Deployer/s");
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
        let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(|r| {
                r.policy_source_arn() == Some("arn:aws:iam::123456789012:role/ci/Deployer")
            })
            .then_output(|| {
                SimulatePrincipalPolicyOutput::builder()
                    .evaluation_results(result(
                        "logs:PutMetricFilter",
                        PolicyEvaluationDecisionType::Allowed,
                    ))
                    .evaluation_results(result(
                        "sns:Subscribe",
                        PolicyEvaluationDecisionType::ImplicitDeny,
                    ))
                    .evaluation_results(result(
                        "sns:CreateTopic",
                        PolicyEvaluationDecisionType::ExplicitDeny,
                    ))
                    .build()
            });
        let iam = iam_client(RuleMode::MatchAny, &[&get_role, &simulate]);
        let got = check(
            &sts,
            &iam,
            "us-east-1",
            &["logs:PutMetricFilter", "sns:Subscribe", "sns:CreateTopic"],
        )
        .await;
        assert_eq!(
            got,
            PermissionCheck::Missing {
                principal: "arn:aws:iam::123456789012:role/ci/Deployer".into(),
                actions: vec!["sns:CreateTopic".into(), "sns:Subscribe".into()],
            }
        );
        assert_eq!(simulate.num_calls(), 1);
    }

    #[tokio::test]
    async fn all_allowed() {
        let sts = sts_as("arn:aws:iam::123456789012:user/alice");
        let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "logs:PutMetricFilter",
                    PolicyEvaluationDecisionType::Allowed,
                ))
                .build()
        });
        let iam = iam_client(RuleMode::Sequential, &[&simulate]);
        let got = check(&sts, &iam, "us-east-1", &["logs:PutMetricFilter"]).await;
        assert!(matches!(got, PermissionCheck::Allowed { .. }), "{got:?}");
    }

    #[tokio::test]
    async fn denied_simulator_is_unavailable_not_an_error() {
        let sts = sts_as("arn:aws:iam::123456789012:user/alice");
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
        let got = check(&sts, &iam, "us-east-1", &["logs:PutMetricFilter"]).await;
        let PermissionCheck::Unavailable(why) = got else {
            panic!("{got:?}")
        };
        assert!(
            why.contains("iam:SimulatePrincipalPolicy") && why.contains("AccessDenied"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn root_caller_is_unavailable() {
        let sts = sts_as("arn:aws:iam::123456789012:root");
        let iam = iam_client(RuleMode::Sequential, &[]);
        let got = check(&sts, &iam, "us-east-1", &["sns:Subscribe"]).await;
        assert!(matches!(got, PermissionCheck::Unavailable(w) if w.contains("root")));
    }
}
