//! The password-policy controls: one account policy serves them all, so
//! they are planned together as one resource.
//!
//! UpdateAccountPasswordPolicy replaces the whole policy and resets every
//! field it is not given, so the policy cis-fix writes is a merge, never
//! the benchmark's values alone: each field a control names goes to the
//! stricter of today's value and the benchmark's (a 20-character minimum
//! stays 20; a 60-day expiry stays 60), and every other field is sent as
//! it is today. A control's own status says what it found or what changes.
//! Nothing is blocked on anything else: the policy needs no trail.

use super::builder::PlanBuilder;
use crate::address::{Address, GLOBAL};
use crate::benchmark::{PasswordCount, PasswordFlag, PasswordRule};
use crate::desired::PasswordControl;
use crate::kinds::{Action, Kind, PasswordPolicy, Resource, password_policy};
use crate::plan::{Cause, Change, ControlStatus};
use crate::snapshot::Snapshot;

pub const FAMILY: super::Family = super::Family {
    kind: crate::benchmark::Kind::PasswordPolicy,
    resource_kinds: &[PasswordPolicy::TYPE],
    needs,
};

fn needs(_b: &crate::benchmark::Benchmark, c: &crate::benchmark::Control) -> String {
    match c.password_policy {
        Some(rule) => format!(
            "an account password policy with {}; its other fields are kept as they are",
            wants(rule)
        ),
        None => "an account password policy".into(),
    }
}

/// What a policy cis-fix creates starts from, before the controls tighten
/// it: AWS's defaults for an omitted field, except that users may change
/// their own password. A created policy with expiry (v1.2.0) must not lock
/// out users who cannot rotate their own password, nor leave one who fears
/// theirs is known waiting for an administrator; where a policy exists,
/// its own choice is kept.
pub fn created() -> PasswordPolicy {
    PasswordPolicy {
        allow_users_to_change_password: true,
        ..PasswordPolicy::aws_defaults()
    }
}

/// The field's name in the plan's words.
fn count_name(c: PasswordCount) -> &'static str {
    match c {
        PasswordCount::MinimumPasswordLength => "minimum length",
        PasswordCount::MaxPasswordAge => "maximum age",
        PasswordCount::PasswordReusePrevention => "passwords remembered",
    }
}

fn flag_name(f: PasswordFlag) -> &'static str {
    match f {
        PasswordFlag::RequireSymbols => "require a symbol",
        PasswordFlag::RequireNumbers => "require a number",
        PasswordFlag::RequireUppercaseCharacters => "require an uppercase letter",
        PasswordFlag::RequireLowercaseCharacters => "require a lowercase letter",
        PasswordFlag::AllowUsersToChangePassword => "allow users to change their password",
        PasswordFlag::HardExpiry => "hard expiry",
    }
}

fn wants(rule: PasswordRule) -> String {
    match rule {
        PasswordRule::AtLeast(c, n) => format!("{} >= {n}", count_name(c)),
        PasswordRule::AtMost(c, n) => format!("{} <= {}", count_name(c), amount(c, Some(n))),
        PasswordRule::Required(f) => format!("\"{}\" on", flag_name(f)),
    }
}

/// A count as the plan says it: `None` is "never expires" for the age and
/// "none" for the others.
fn amount(c: PasswordCount, v: Option<u32>) -> String {
    match (c, v) {
        (PasswordCount::MaxPasswordAge, Some(d)) => format!("{d} days"),
        (PasswordCount::MaxPasswordAge, None) => "never expires".into(),
        (_, Some(n)) => n.to_string(),
        (_, None) => "none".into(),
    }
}

/// A numeric field; `None` when unset (0 counts as unset: never expires,
/// nothing remembered).
fn count(p: &PasswordPolicy, c: PasswordCount) -> Option<u32> {
    match c {
        PasswordCount::MinimumPasswordLength => Some(p.minimum_password_length),
        PasswordCount::MaxPasswordAge => p.expires_after(),
        PasswordCount::PasswordReusePrevention => p.password_reuse_prevention.filter(|n| *n > 0),
    }
}

fn set_count(p: &mut PasswordPolicy, c: PasswordCount, n: u32) {
    match c {
        PasswordCount::MinimumPasswordLength => p.minimum_password_length = n,
        PasswordCount::MaxPasswordAge => p.max_password_age = Some(n),
        PasswordCount::PasswordReusePrevention => p.password_reuse_prevention = Some(n),
    }
}

fn flag(p: &PasswordPolicy, f: PasswordFlag) -> bool {
    match f {
        PasswordFlag::RequireSymbols => p.require_symbols,
        PasswordFlag::RequireNumbers => p.require_numbers,
        PasswordFlag::RequireUppercaseCharacters => p.require_uppercase_characters,
        PasswordFlag::RequireLowercaseCharacters => p.require_lowercase_characters,
        PasswordFlag::AllowUsersToChangePassword => p.allow_users_to_change_password,
        PasswordFlag::HardExpiry => p.hard_expiry,
    }
}

fn set_flag(p: &mut PasswordPolicy, f: PasswordFlag) {
    match f {
        PasswordFlag::RequireSymbols => p.require_symbols = true,
        PasswordFlag::RequireNumbers => p.require_numbers = true,
        PasswordFlag::RequireUppercaseCharacters => p.require_uppercase_characters = true,
        PasswordFlag::RequireLowercaseCharacters => p.require_lowercase_characters = true,
        PasswordFlag::AllowUsersToChangePassword => p.allow_users_to_change_password = true,
        PasswordFlag::HardExpiry => p.hard_expiry = true,
    }
}

/// Whether `p` meets `rule`. An unset maximum age (never expires) is the
/// weakest age there is, so it meets no "at most".
pub fn satisfies(p: &PasswordPolicy, rule: PasswordRule) -> bool {
    match rule {
        PasswordRule::AtLeast(c, n) => count(p, c).unwrap_or(0) >= n,
        PasswordRule::AtMost(c, n) => count(p, c).is_some_and(|v| v <= n),
        PasswordRule::Required(f) => flag(p, f),
    }
}

/// `p` with `rule` met at the stricter of its value and the rule's: a field
/// that already meets the rule is left exactly as it is.
pub fn tighten(p: &mut PasswordPolicy, rule: PasswordRule) {
    if satisfies(p, rule) {
        return;
    }
    match rule {
        PasswordRule::AtLeast(c, n) | PasswordRule::AtMost(c, n) => set_count(p, c, n),
        PasswordRule::Required(f) => set_flag(p, f),
    }
}

/// The policy every control of `controls` is met by, from `today` (or, with
/// no policy, from [`created`]), changing only what a control names and
/// only as far as it asks.
pub fn merged(today: Option<&PasswordPolicy>, controls: &[PasswordControl]) -> PasswordPolicy {
    let mut p = today.cloned().unwrap_or_else(created);
    for c in controls {
        tighten(&mut p, c.rule);
    }
    p
}

/// The rule's field as it stands in `p`, in words.
fn state(p: &PasswordPolicy, rule: PasswordRule) -> String {
    match rule {
        PasswordRule::AtLeast(c, _) | PasswordRule::AtMost(c, _) => amount(c, count(p, c)),
        PasswordRule::Required(f) => if flag(p, f) { "on" } else { "off" }.into(),
    }
}

/// Why `p` meets `rule`: "minimum length is 20 (>= 14)".
fn evidence(p: &PasswordPolicy, rule: PasswordRule) -> String {
    match rule {
        PasswordRule::AtLeast(c, n) => {
            format!("{} is {} (>= {n})", count_name(c), state(p, rule))
        }
        PasswordRule::AtMost(c, n) => format!(
            "{} is {} (<= {})",
            count_name(c),
            state(p, rule),
            amount(c, Some(n))
        ),
        PasswordRule::Required(f) => format!("\"{}\" is on", flag_name(f)),
    }
}

/// What the plan does to the rule's field: "minimum length 8 -> 14".
fn fix(before: &PasswordPolicy, after: &PasswordPolicy, rule: PasswordRule) -> String {
    let what = match rule {
        PasswordRule::AtLeast(c, _) | PasswordRule::AtMost(c, _) => count_name(c).to_string(),
        PasswordRule::Required(f) => format!("\"{}\"", flag_name(f)),
    };
    format!("{what} {} -> {}", state(before, rule), state(after, rule))
}

/// Plans the account password policy for every password control of the
/// version: one change (create or update) when any control fails, serving
/// each failing control; each control with its own status.
pub fn plan(controls: &[PasswordControl], snap: &Snapshot, out: &mut PlanBuilder) {
    if controls.is_empty() {
        return;
    }
    let today = match snap.read(
        password_policy::READ,
        GLOBAL,
        None,
        password_policy::from_read,
    ) {
        Ok(p) => p,
        Err(e) => {
            for c in controls {
                out.control(
                    (&c.id, &c.title),
                    ControlStatus::Unknown,
                    format!("cannot tell: {e}; nothing is planned for this control"),
                    Some(Cause::ReadFailed {
                        failure: Box::new(e.clone()),
                    }),
                );
            }
            return;
        }
    };
    let before = today.cloned();
    let after = merged(today, controls);
    let mut failing: Vec<&PasswordControl> = Vec::new();
    for c in controls {
        let (status, reason) = match &before {
            Some(b) if satisfies(b, c.rule) => (ControlStatus::Compliant, evidence(b, c.rule)),
            Some(b) => (ControlStatus::WillFix, fix(b, &after, c.rule)),
            None => (
                ControlStatus::WillFix,
                format!(
                    "the account has no password policy; one is created with {}",
                    state_phrase(&after, c.rule)
                ),
            ),
        };
        if status == ControlStatus::WillFix {
            failing.push(c);
        }
        out.control((&c.id, &c.title), status, reason, None);
    }
    if failing.is_empty() {
        return;
    }
    let address = Address::new(&out.at(GLOBAL), PasswordPolicy::TYPE, password_policy::NAME);
    let (action, reason) = match &before {
        None => (
            Action::Create,
            format!(
                "the account has no password policy: it gets {}; users may change their own password, and every other field is AWS's default",
                failing
                    .iter()
                    .map(|c| state_phrase(&after, c.rule))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(b) => (
            Action::Update,
            format!(
                "{}; every other field is sent as it is today, since the update replaces the whole policy",
                failing
                    .iter()
                    .map(|c| fix(b, &after, c.rule))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    out.change(Change {
        address: address.clone(),
        action,
        controls: vec![],
        reason,
        before: before.map(Resource::PasswordPolicy),
        after: Some(Resource::PasswordPolicy(after)),
        depends_on: vec![],
    });
    for c in failing {
        out.serve(&address, &c.id);
    }
}

/// "minimum length 14", "\"require a symbol\" on".
fn state_phrase(p: &PasswordPolicy, rule: PasswordRule) -> String {
    match rule {
        PasswordRule::AtLeast(c, _) | PasswordRule::AtMost(c, _) => {
            format!("{} {}", count_name(c), state(p, rule))
        }
        PasswordRule::Required(f) => format!("\"{}\" on", flag_name(f)),
    }
}

#[cfg(test)]
mod tests;
