//! What a read gave: the value, or the failed call as a fact. Kept apart
//! from the snapshot so resource types, readers and the plan can all name a
//! failure without depending on one another.

use serde::{Deserialize, Serialize};

/// The result of one read: the value, or why it could not be had. A failure
/// is never turned into an empty list, so the diff can tell "nothing there"
/// from "could not look".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed<T> {
    Ok(T),
    Failed(CallFailure),
}

impl<T> Observed<T> {
    pub fn as_ref(&self) -> Result<&T, &CallFailure> {
        match self {
            Observed::Ok(v) => Ok(v),
            Observed::Failed(f) => Err(f),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Ok(v) => Observed::Ok(f(v)),
            Observed::Failed(e) => Observed::Failed(e),
        }
    }
}

/// An AWS call that failed for good (after the SDK's retries), naming the
/// call, region and resource so the user can fix permissions or retry. Reads
/// record it in the snapshot; writes report it in the apply report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFailure {
    /// `service:Operation`, as in an IAM policy.
    pub call: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The AWS error code (AccessDenied, ThrottlingException, …) when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Box<str>>,
    /// What went wrong, in words.
    pub message: String,
    /// The whole chain of causes, when it says more than `message`: for a
    /// bug report or `-v`, not for the plan.
    /// (Boxed: it is rare, and keeps every `Result<_, CallFailure>` small.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<String>>,
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.call, self.region)?;
        if let Some(r) = &self.resource {
            write!(f, " on {r}")?;
        }
        write!(f, " failed: ")?;
        if let Some(c) = &self.code {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl CallFailure {
    /// Whether AWS denied the call (each service spells it its own way).
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "AccessDenied"
                    | "AccessDeniedException"
                    | "AuthorizationError"
                    | "UnauthorizedOperation"
                    | "UnauthorizedAccess"
                    | "AccessDeniedFault"
            )
        )
    }
}
