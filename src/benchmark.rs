//! The CIS benchmark as data: `plans/cis-aws-v<version>.yaml`, embedded in the
//! binary so a release always plans against the text it was tested with.

use serde::{Deserialize, Serialize};

/// Default when neither `--benchmark` nor the config names a version.
pub const DEFAULT_VERSION: &str = "3.0.0";

/// (version, file text), oldest first.
const EMBEDDED: &[(&str, &str)] = &[
    ("1.2.0", include_str!("../plans/cis-aws-v1.2.0.yaml")),
    ("1.4.0", include_str!("../plans/cis-aws-v1.4.0.yaml")),
    ("1.5.0", include_str!("../plans/cis-aws-v1.5.0.yaml")),
    ("2.0.0", include_str!("../plans/cis-aws-v2.0.0.yaml")),
    ("3.0.0", include_str!("../plans/cis-aws-v3.0.0.yaml")),
    ("4.0.1", include_str!("../plans/cis-aws-v4.0.1.yaml")),
    ("5.0.0", include_str!("../plans/cis-aws-v5.0.0.yaml")),
    ("6.0.0", include_str!("../plans/cis-aws-v6.0.0.yaml")),
    ("7.0.0", include_str!("../plans/cis-aws-v7.0.0.yaml")),
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    pub version: String,
    pub title: String,
    pub status: String,
    pub monitoring: Monitoring,
    pub controls: Vec<Control>,
}

/// What every monitoring control's metric filter and alarm share.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    pub namespace: String,
    pub metric_value: String,
    pub alarm: AlarmParams,
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmParams {
    pub statistic: String,
    pub period: i32,
    pub threshold: f64,
    pub comparison_operator: String,
    pub evaluation_periods: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MetricFilter,
    PasswordPolicy,
    Trail,
    Kms,
    Flowlogs,
    DefaultSg,
    /// No security group admits the internet to an administration port:
    /// which sources and ports is the control's `admin_ports`.
    SgAdminPorts,
    /// No network ACL admits the internet to an administration port (its
    /// `admin_ports` says which sources and ports).
    NaclAdminPorts,
    /// EBS encryption by default in every region.
    EbsEncryption,
    /// Every instance requires IMDSv2 (or has its metadata endpoint off).
    Imdsv2,
    Securityhub,
    S3,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::MetricFilter => "metric filter + alarm",
            Kind::PasswordPolicy => "IAM password policy",
            Kind::Trail => "CloudTrail",
            Kind::Kms => "KMS key rotation",
            Kind::Flowlogs => "VPC flow logs",
            Kind::DefaultSg => "default security group",
            Kind::SgAdminPorts => "security groups: administration ports open to the internet",
            Kind::NaclAdminPorts => "network ACLs: administration ports open to the internet",
            Kind::EbsEncryption => "EBS encryption by default",
            Kind::Imdsv2 => "EC2 instance metadata: IMDSv2 required",
            Kind::Securityhub => "Security Hub",
            Kind::S3 => "S3",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub slug: String,
    pub level: u8,
    pub assessment: String,
    pub confidence: String,
    #[serde(default)]
    pub unconfirmed: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    /// The benchmark's remediation pattern (metric filters only).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Other patterns the benchmark's own text accepts for this control.
    #[serde(default)]
    pub accepted_patterns: Vec<String>,
    #[serde(default)]
    pub samples: Option<Samples>,
    /// Which events a metric-filter control's pattern matches: what a trail
    /// must deliver for the control's chain to start.
    #[serde(default)]
    pub events: Option<EventScope>,
    /// What a CloudTrail control checks.
    #[serde(default)]
    pub trail: Option<TrailCheck>,
    /// What the benchmark requires, for kinds not yet modelled in code.
    #[serde(default)]
    pub requirement: Option<serde_yaml::Value>,
    /// The one password-policy field a `password_policy` control governs,
    /// and the bound on it (required on every such control; the free-text
    /// `requirement` is never parsed).
    #[serde(default)]
    pub password_policy: Option<PasswordRule>,
    /// What an `admin_ports` control checks (required on every such
    /// control): which rules, from which internet-wide sources, to which
    /// ports.
    #[serde(default)]
    pub admin_ports: Option<AdminPortsCheck>,
}

/// What an administration-ports control forbids: a rule admitting one of
/// `sources` to a port range covering one of `ports` (TCP, UDP or all
/// traffic). The control's kind says whose rules (security groups or
/// network ACLs).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPortsCheck {
    pub sources: Vec<crate::kinds::security_group::World>,
    pub ports: Vec<u16>,
}

/// What a `password_policy` control requires of one field of the IAM
/// account password policy. Which bound a field takes is fixed by the
/// field (checked when the benchmark is parsed), so "at most 14
/// characters" or "symbols at least 3" cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "RawPasswordRule", into = "RawPasswordRule")]
pub enum PasswordRule {
    /// The number is this or more (length, remembered passwords).
    AtLeast(PasswordCount, u32),
    /// The number is set and is this or less (days before expiry).
    AtMost(PasswordCount, u32),
    /// The flag is on.
    Required(PasswordFlag),
}

/// A numeric field of the password policy, as the IAM API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PasswordCount {
    MinimumPasswordLength,
    /// Unset (or 0) means passwords never expire.
    MaxPasswordAge,
    /// Unset (or 0) means any previous password may be reused.
    PasswordReusePrevention,
}

/// A yes/no field of the password policy, as the IAM API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PasswordFlag {
    RequireSymbols,
    RequireNumbers,
    RequireUppercaseCharacters,
    RequireLowercaseCharacters,
    AllowUsersToChangePassword,
    HardExpiry,
}

/// Every field's YAML name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
enum PasswordField {
    MinimumPasswordLength,
    MaxPasswordAge,
    PasswordReusePrevention,
    RequireSymbols,
    RequireNumbers,
    RequireUppercaseCharacters,
    RequireLowercaseCharacters,
    AllowUsersToChangePassword,
    HardExpiry,
}

/// The YAML form: `{field: MinimumPasswordLength, at_least: 14}`,
/// `{field: RequireSymbols, required: true}`, `{field: MaxPasswordAge,
/// at_most: 90}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawPasswordRule {
    field: PasswordField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_least: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_most: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    required: Option<bool>,
}

impl TryFrom<RawPasswordRule> for PasswordRule {
    type Error = String;

    fn try_from(r: RawPasswordRule) -> Result<Self, String> {
        use PasswordField as F;
        let count = match r.field {
            F::MinimumPasswordLength => Some(PasswordCount::MinimumPasswordLength),
            F::MaxPasswordAge => Some(PasswordCount::MaxPasswordAge),
            F::PasswordReusePrevention => Some(PasswordCount::PasswordReusePrevention),
            _ => None,
        };
        let flag = match r.field {
            F::RequireSymbols => Some(PasswordFlag::RequireSymbols),
            F::RequireNumbers => Some(PasswordFlag::RequireNumbers),
            F::RequireUppercaseCharacters => Some(PasswordFlag::RequireUppercaseCharacters),
            F::RequireLowercaseCharacters => Some(PasswordFlag::RequireLowercaseCharacters),
            F::AllowUsersToChangePassword => Some(PasswordFlag::AllowUsersToChangePassword),
            F::HardExpiry => Some(PasswordFlag::HardExpiry),
            _ => None,
        };
        // Less is stricter only for the age; more for the other numbers.
        let at_most = r.field == F::MaxPasswordAge;
        match (count, flag, r.at_least, r.at_most, r.required) {
            (Some(c), _, Some(n), None, None) if !at_most => Ok(PasswordRule::AtLeast(c, n)),
            (Some(c), _, None, Some(n), None) if at_most => Ok(PasswordRule::AtMost(c, n)),
            (_, Some(f), None, None, Some(true)) => Ok(PasswordRule::Required(f)),
            _ => Err(format!(
                "password_policy for {:?} takes exactly `{}`",
                r.field,
                if flag.is_some() {
                    "required: true"
                } else if at_most {
                    "at_most: <number>"
                } else {
                    "at_least: <number>"
                }
            )),
        }
    }
}

impl From<PasswordRule> for RawPasswordRule {
    fn from(r: PasswordRule) -> Self {
        let field = |c: PasswordCount| match c {
            PasswordCount::MinimumPasswordLength => PasswordField::MinimumPasswordLength,
            PasswordCount::MaxPasswordAge => PasswordField::MaxPasswordAge,
            PasswordCount::PasswordReusePrevention => PasswordField::PasswordReusePrevention,
        };
        let raw = |field| RawPasswordRule {
            field,
            at_least: None,
            at_most: None,
            required: None,
        };
        match r {
            PasswordRule::AtLeast(c, n) => RawPasswordRule {
                at_least: Some(n),
                ..raw(field(c))
            },
            PasswordRule::AtMost(c, n) => RawPasswordRule {
                at_most: Some(n),
                ..raw(field(c))
            },
            PasswordRule::Required(f) => RawPasswordRule {
                required: Some(true),
                ..raw(match f {
                    PasswordFlag::RequireSymbols => PasswordField::RequireSymbols,
                    PasswordFlag::RequireNumbers => PasswordField::RequireNumbers,
                    PasswordFlag::RequireUppercaseCharacters => {
                        PasswordField::RequireUppercaseCharacters
                    }
                    PasswordFlag::RequireLowercaseCharacters => {
                        PasswordField::RequireLowercaseCharacters
                    }
                    PasswordFlag::AllowUsersToChangePassword => {
                        PasswordField::AllowUsersToChangePassword
                    }
                    PasswordFlag::HardExpiry => PasswordField::HardExpiry,
                })
            },
        }
    }
}

/// Management events by source and by `readOnly`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventScope {
    /// Event sources (`iam.amazonaws.com`); `*` for every source.
    pub sources: Vec<String>,
    /// The `readOnly` values of the events: `[false]` writes only.
    pub read_only: Vec<bool>,
}

impl EventScope {
    /// Every management event, read and write, of every source.
    pub fn all() -> Self {
        EventScope {
            sources: vec!["*".into()],
            read_only: vec![true, false],
        }
    }

    pub fn any_source(&self) -> bool {
        self.sources.iter().any(|s| s == "*")
    }

    /// "write management events from iam.amazonaws.com", for reasons.
    pub fn describe(&self) -> String {
        let kind = match (
            self.read_only.contains(&true),
            self.read_only.contains(&false),
        ) {
            (true, true) => "read and write",
            (true, false) => "read",
            _ => "write",
        };
        let from = if self.any_source() {
            "every source".to_string()
        } else {
            self.sources.join(", ")
        };
        format!("{kind} management events from {from}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrailCheck {
    pub check: TrailAspect,
    /// How the version's audit reads management events (multi_region only):
    /// the form a trail cis-fix creates uses.
    #[serde(default)]
    pub management_events_form: Option<SelectorForm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrailAspect {
    MultiRegion,
    LogFileValidation,
    BucketNotPublic,
    CloudwatchLogs,
    BucketAccessLogging,
    KmsEncryption,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectorForm {
    Classic,
    Advanced,
}

/// CloudTrail records the pattern must catch, and must not.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Samples {
    #[serde(default)]
    pub matching: Vec<serde_json::Value>,
    #[serde(default)]
    pub not_matching: Vec<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchmarkError {
    #[error(
        "unknown benchmark version `{given}`{}; available: {}",
        hint.map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default(),
        available().join(", ")
    )]
    Unknown {
        given: String,
        /// The one version a short or capitalised spelling points to.
        hint: Option<&'static str>,
    },
    #[error("embedded plans/cis-aws-v{version}.yaml is invalid: {message}")]
    Invalid { version: String, message: String },
}

/// Every embedded version that loads, parsed once per process (each
/// desired state looks at all of them for the names cis-fix gave before).
pub fn all() -> &'static [Benchmark] {
    static ALL: std::sync::OnceLock<Vec<Benchmark>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        available()
            .into_iter()
            .filter_map(|v| load(v).ok())
            .collect()
    })
}

/// Every version cis-fix carries, oldest first.
pub fn available() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(v, _)| *v).collect()
}

/// Versions quoted by another number than the one CIS published them
/// under: (as quoted, as published). v4.0.0 was announced, v4.0.1 is the
/// document; tools and audits name both.
const PUBLISHED_AS: &[(&str, &str)] = &[("4.0.0", "4.0.1")];

/// A version as the user spelled it, resolved to one cis-fix carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version: &'static str,
    /// For stderr when the spelling named the version by another number.
    pub note: Option<String>,
}

/// Accepts exactly `X.Y.Z` and `vX.Y.Z` (and `4.0.0` for the published
/// v4.0.1, with a note). Shorter spellings are refused rather than guessed:
/// `4.0` or `5` would silently pick a version the user may not mean, and
/// the plan's names and numbers differ between versions.
pub fn resolve_version(given: &str) -> Result<Version, BenchmarkError> {
    let full = given.trim();
    let bare = full.strip_prefix('v').unwrap_or(full);
    if let Some(version) = available().into_iter().find(|v| *v == bare) {
        return Ok(Version {
            version,
            note: None,
        });
    }
    if let Some((said, version)) = PUBLISHED_AS.iter().find(|(said, _)| *said == bare) {
        return Ok(Version {
            version,
            note: Some(format!(
                "CIS v{said} was published as v{version}; using v{version}"
            )),
        });
    }
    Err(BenchmarkError::Unknown {
        given: given.to_string(),
        hint: hint(full),
    })
}

/// The one version whose leading numbers a short or capitalised spelling
/// gives (`3` / `3.0` / `V3.0.0` → 3.0.0), for "did you mean".
fn hint(full: &str) -> Option<&'static str> {
    let bare = full.trim_start_matches(['v', 'V']);
    let parts: Vec<&str> = bare.split('.').collect();
    if bare.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let published = |v: &'static str| {
        PUBLISHED_AS
            .iter()
            .find(|(said, _)| *said == v)
            .map_or(v, |(_, p)| *p)
    };
    let mut candidates: Vec<&'static str> = available()
        .into_iter()
        .chain(PUBLISHED_AS.iter().map(|(said, _)| *said))
        .filter(|v| v.split('.').zip(&parts).all(|(a, b)| a == *b))
        .map(published)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    match candidates[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// Loads a version in any spelling `resolve_version` accepts.
pub fn load(given: &str) -> Result<Benchmark, BenchmarkError> {
    let version = resolve_version(given)?.version;
    let text = EMBEDDED
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, t)| *t)
        .ok_or_else(|| BenchmarkError::Unknown {
            given: given.to_string(),
            hint: None,
        })?;
    parse(version, text)
}

fn parse(version: &str, text: &str) -> Result<Benchmark, BenchmarkError> {
    let invalid = |message: String| BenchmarkError::Invalid {
        version: version.to_string(),
        message,
    };
    let b: Benchmark = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if b.version != version {
        return Err(invalid(format!("declares version {}", b.version)));
    }
    for c in &b.controls {
        match (c.kind, &c.password_policy) {
            (Kind::PasswordPolicy, None) => {
                return Err(invalid(format!(
                    "password control {} has no password_policy block",
                    c.id
                )));
            }
            (Kind::PasswordPolicy, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(invalid(format!(
                    "control {} has a password_policy block but is not a password control",
                    c.id
                )));
            }
        }
        let ports_kind = matches!(c.kind, Kind::SgAdminPorts | Kind::NaclAdminPorts);
        match (ports_kind, &c.admin_ports) {
            (true, None) => {
                return Err(invalid(format!(
                    "admin_ports control {} has no admin_ports block",
                    c.id
                )));
            }
            (true, Some(a)) if a.ports.is_empty() || a.sources.is_empty() => {
                return Err(invalid(format!(
                    "control {}: admin_ports names no port or no source",
                    c.id
                )));
            }
            (true, Some(_)) | (false, None) => {}
            (false, Some(_)) => {
                return Err(invalid(format!(
                    "control {} has an admin_ports block but is not an admin_ports control",
                    c.id
                )));
            }
        }
        if c.kind == Kind::MetricFilter {
            let p = c
                .pattern
                .as_deref()
                .ok_or_else(|| invalid(format!("control {} has no pattern", c.id)))?;
            for text in std::iter::once(p).chain(c.accepted_patterns.iter().map(String::as_str)) {
                crate::pattern::parse(text)
                    .map_err(|e| invalid(format!("control {}: pattern {e}", c.id)))?;
            }
        }
    }
    Ok(b)
}

impl Benchmark {
    pub fn metric_filter_controls(&self) -> impl Iterator<Item = &Control> {
        self.controls
            .iter()
            .filter(|c| c.kind == Kind::MetricFilter)
    }

    /// The password-policy controls, each with its rule (parsing checked
    /// that every one has one).
    pub fn password_controls(&self) -> impl Iterator<Item = (&Control, PasswordRule)> {
        self.controls
            .iter()
            .filter(|c| c.kind == Kind::PasswordPolicy)
            .filter_map(|c| c.password_policy.map(|r| (c, r)))
    }
}

impl Control {
    /// The first sentence of `unconfirmed`, on one line of at most `max`
    /// characters: a listing says what is in doubt; the research note
    /// itself (sources, dates) is for readers of the JSON form.
    pub fn unconfirmed_reason(&self, max: usize) -> Option<String> {
        self.unconfirmed.as_deref().map(|u| first_sentence(u, max))
    }
}

/// Abbreviations whose full stop ends no sentence.
const ABBREVIATIONS: &[&str] = &["e.g.", "i.e.", "cf.", "vs.", "approx."];

/// `text`'s first sentence, its whitespace folded to single spaces, cut at a
/// word boundary to at most `max` characters (an ellipsis marks a cut).
pub fn first_sentence(text: &str, max: usize) -> String {
    let mut sentence: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        sentence.push(word);
        let bare = word.trim_end_matches(['"', '\'', ')', ']']);
        let ends = bare.ends_with(['.', '!', '?'])
            && !ABBREVIATIONS
                .iter()
                .any(|a| bare.eq_ignore_ascii_case(a) || bare.ends_with(&format!("({a}")));
        if ends {
            break;
        }
    }
    let whole = sentence.join(" ");
    if whole.chars().count() <= max {
        return whole;
    }
    // Room for the ellipsis.
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    for word in &sentence {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if needed > budget {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        // One word longer than the line.
        out = whole.chars().take(budget).collect();
    }
    let out = out.trim_end_matches([',', ';', ':', '(', '-']);
    format!("{out}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentence_is_one_line_and_cut_at_a_word() {
        assert_eq!(
            first_sentence("Level disputed: 2 per A, 1 per B. Level 2 is used.", 80),
            "Level disputed: 2 per A, 1 per B."
        );
        assert_eq!(
            first_sentence("Pattern  for v7.0.0 from\n  cis_7.0 only. More.", 80),
            "Pattern for v7.0.0 from cis_7.0 only."
        );
        assert_eq!(
            first_sentence("Seen in one source (e.g. prowler) only. More.", 80),
            "Seen in one source (e.g. prowler) only."
        );
        assert_eq!(
            first_sentence("Quoted \"as is.\" Then more.", 80),
            "Quoted \"as is.\""
        );
        assert_eq!(
            first_sentence("No full stop at all", 80),
            "No full stop at all"
        );
        assert_eq!(
            first_sentence("one two three, four five six.", 16),
            "one two three…"
        );
        assert_eq!(first_sentence("abcdefghij klm.", 5), "abcd…");
        assert_eq!(first_sentence("", 10), "");
    }

    #[test]
    fn every_unconfirmed_note_gives_a_short_reason() {
        for v in available() {
            let b = load(v).unwrap_or_else(|e| panic!("{e}"));
            for c in &b.controls {
                if let Some(r) = c.unconfirmed_reason(76) {
                    assert!(
                        !r.is_empty() && r.chars().count() <= 76,
                        "{v} {}: {r}",
                        c.id
                    );
                    assert!(!r.contains('\n'), "{v} {}: {r}", c.id);
                }
            }
        }
    }

    /// The judgement of which controls a trail serves rests on `events`:
    /// every sample the pattern must match comes from a listed source.
    #[test]
    fn every_monitoring_control_says_which_events_it_needs() {
        for b in all() {
            for c in b.metric_filter_controls() {
                let e = c
                    .events
                    .as_ref()
                    .unwrap_or_else(|| panic!("v{} {} has no events", b.version, c.id));
                assert!(!e.sources.is_empty() && !e.read_only.is_empty());
                for sample in c.samples.iter().flat_map(|s| &s.matching) {
                    let source = sample["eventSource"].as_str().unwrap_or_default();
                    assert!(
                        e.any_source() || e.sources.iter().any(|s| s == source),
                        "v{} {}: sample from {source} not in {:?}",
                        b.version,
                        c.id,
                        e.sources
                    );
                    if let Some(ro) = sample["readOnly"].as_bool() {
                        assert!(e.read_only.contains(&ro), "v{} {}", b.version, c.id);
                    }
                }
            }
            for c in b.controls.iter().filter(|c| c.kind == Kind::Trail) {
                let t = c
                    .trail
                    .as_ref()
                    .unwrap_or_else(|| panic!("v{} {} has no trail check", b.version, c.id));
                assert_eq!(
                    t.management_events_form.is_some(),
                    t.check == TrailAspect::MultiRegion,
                    "v{} {}",
                    b.version,
                    c.id
                );
            }
        }
    }

    #[test]
    fn every_embedded_version_loads() {
        for v in available() {
            let b = load(v).unwrap_or_else(|e| panic!("{e}"));
            assert!(b.metric_filter_controls().count() >= 14, "{v}");
            let mut ids: Vec<_> = b.controls.iter().map(|c| &c.id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), b.controls.len(), "duplicate ids in {v}");
        }
    }

    #[test]
    fn every_password_control_has_a_typed_rule() {
        use PasswordCount::*;
        use PasswordFlag::*;
        for v in available() {
            let b = load(v).unwrap_or_else(|e| panic!("{e}"));
            let password: Vec<&Control> = b
                .controls
                .iter()
                .filter(|c| c.kind == Kind::PasswordPolicy)
                .collect();
            assert!(password.len() >= 2, "{v}");
            for c in &password {
                assert!(c.password_policy.is_some(), "{v} {} has no rule", c.id);
            }
            let rules: Vec<PasswordRule> = b.password_controls().map(|(_, r)| r).collect();
            assert_eq!(rules.len(), password.len(), "{v}");
            // Every version asks for 14 characters and 24 remembered.
            assert!(rules.contains(&PasswordRule::AtLeast(MinimumPasswordLength, 14)));
            assert!(rules.contains(&PasswordRule::AtLeast(PasswordReusePrevention, 24)));
        }
        let old = load("1.2.0").expect("loads");
        let rules: Vec<PasswordRule> = old.password_controls().map(|(_, r)| r).collect();
        assert_eq!(rules.len(), 7);
        for flag in [
            RequireUppercaseCharacters,
            RequireLowercaseCharacters,
            RequireSymbols,
            RequireNumbers,
        ] {
            assert!(rules.contains(&PasswordRule::Required(flag)));
        }
        assert!(rules.contains(&PasswordRule::AtMost(MaxPasswordAge, 90)));
    }

    #[test]
    fn a_password_rule_must_take_the_bound_its_field_takes() {
        let rule = |y: &str| serde_yaml::from_str::<PasswordRule>(y);
        assert_eq!(
            rule("{field: MinimumPasswordLength, at_least: 14}").ok(),
            Some(PasswordRule::AtLeast(
                PasswordCount::MinimumPasswordLength,
                14
            ))
        );
        assert_eq!(
            rule("{field: MaxPasswordAge, at_most: 90}").ok(),
            Some(PasswordRule::AtMost(PasswordCount::MaxPasswordAge, 90))
        );
        assert_eq!(
            rule("{field: RequireSymbols, required: true}").ok(),
            Some(PasswordRule::Required(PasswordFlag::RequireSymbols))
        );
        for bad in [
            "{field: MinimumPasswordLength, at_most: 14}",
            "{field: MinimumPasswordLength}",
            "{field: MinimumPasswordLength, at_least: 14, at_most: 20}",
            "{field: MaxPasswordAge, at_least: 90}",
            "{field: RequireSymbols, required: false}",
            "{field: RequireSymbols, at_least: 1}",
            "{field: RequireSymbols, required: true, note: x}",
            "{field: MinimumLength, at_least: 14}",
        ] {
            assert!(rule(bad).is_err(), "{bad}");
        }
        for r in [
            PasswordRule::AtLeast(PasswordCount::PasswordReusePrevention, 24),
            PasswordRule::AtMost(PasswordCount::MaxPasswordAge, 90),
            PasswordRule::Required(PasswordFlag::HardExpiry),
        ] {
            let text = serde_yaml::to_string(&r).expect("writes");
            assert_eq!(rule(&text).ok(), Some(r), "{text}");
        }
    }

    fn resolved(given: &str) -> Option<&'static str> {
        resolve_version(given).ok().map(|v| v.version)
    }

    #[test]
    fn full_versions_with_or_without_v_are_accepted() {
        for v in available() {
            assert_eq!(resolved(v), Some(v));
            assert_eq!(resolved(&format!("v{v}")), Some(v));
            assert_eq!(resolve_version(v).expect("ok").note, None);
        }
    }

    #[test]
    fn v4_0_0_is_the_published_v4_0_1_with_a_note() {
        for given in ["4.0.0", "v4.0.0"] {
            let v = resolve_version(given).expect("accepted");
            assert_eq!(v.version, "4.0.1");
            assert_eq!(
                v.note.as_deref(),
                Some("CIS v4.0.0 was published as v4.0.1; using v4.0.1")
            );
        }
        assert_eq!(load("4.0.0").expect("loads").version, "4.0.1");
    }

    #[test]
    fn short_spellings_are_refused_with_the_full_one_suggested() {
        for (given, hint) in [
            ("3", Some("3.0.0")),
            ("3.0", Some("3.0.0")),
            ("v3", Some("3.0.0")),
            ("4.0", Some("4.0.1")),
            ("v4", Some("4.0.1")),
            ("5.0", Some("5.0.0")),
            ("1.2", Some("1.2.0")),
            ("V3.0.0", Some("3.0.0")),
            ("1", None),
            ("9.9.9", None),
            ("2.5", None),
            ("", None),
            ("v", None),
            ("3.0.0.0", None),
            ("vv3.0.0", Some("3.0.0")),
        ] {
            let err = resolve_version(given).expect_err(given);
            assert!(
                matches!(&err, BenchmarkError::Unknown { hint: h, .. } if *h == hint),
                "{given}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("unknown benchmark version `{given}`")),
                "{text}"
            );
            assert!(
                text.ends_with(
                    "available: 1.2.0, 1.4.0, 1.5.0, 2.0.0, 3.0.0, 4.0.1, 5.0.0, 6.0.0, 7.0.0"
                ),
                "{text}"
            );
        }
        let err = load("5.0").unwrap_err().to_string();
        assert!(err.contains("(did you mean `5.0.0`?)"), "{err}");
    }

    /// The benchmark's own sample events: each pattern catches its positives
    /// and ignores its negatives.
    #[test]
    fn samples_agree_with_patterns() {
        for v in available() {
            let b = load(v).unwrap_or_else(|e| panic!("{e}"));
            for c in b.metric_filter_controls() {
                let p = crate::pattern::parse(c.pattern.as_deref().unwrap_or_default())
                    .unwrap_or_else(|e| panic!("{v} {}: {e}", c.id));
                let s = c
                    .samples
                    .as_ref()
                    .unwrap_or_else(|| panic!("{v} {} has no samples", c.id));
                assert!(
                    s.matching.len() >= 3 && s.not_matching.len() >= 3,
                    "{v} {}",
                    c.id
                );
                for e in &s.matching {
                    assert!(p.matches(e), "{v} {} should match {e}", c.id);
                }
                for e in &s.not_matching {
                    assert!(!p.matches(e), "{v} {} should not match {e}", c.id);
                }
            }
        }
    }

    /// The coverage checker agrees with the evaluator on the benchmark's own
    /// samples: whenever one control's pattern is judged to cover another's,
    /// it catches every sample the other catches; whenever it is judged not
    /// to, the counterexample is caught by the other and missed by it.
    #[test]
    fn coverage_agrees_with_evaluation_on_samples() {
        use crate::pattern::{self, Coverage};
        for v in available() {
            let b = load(v).unwrap_or_else(|e| panic!("{e}"));
            let controls: Vec<_> = b
                .metric_filter_controls()
                .map(|c| {
                    let mut texts = vec![c.pattern.clone().unwrap_or_default()];
                    texts.extend(c.accepted_patterns.iter().cloned());
                    let samples = c.samples.clone().unwrap_or_default();
                    (c.id.clone(), texts, samples)
                })
                .collect();
            for (id_p, texts_p, _) in &controls {
                for text_p in texts_p {
                    let p = pattern::parse(text_p).unwrap_or_else(|e| panic!("{e}"));
                    for (id_b, texts_b, samples_b) in &controls {
                        let b = pattern::parse(&texts_b[0]).unwrap_or_else(|e| panic!("{e}"));
                        match pattern::covers(&p, &b) {
                            Coverage::Covered => {
                                for e in &samples_b.matching {
                                    assert!(
                                        p.matches(e),
                                        "{v}: {id_p} said to cover {id_b} but misses {e}"
                                    );
                                }
                            }
                            Coverage::NotCovered { missing } => {
                                assert!(!missing.is_empty(), "{v}: {id_p} vs {id_b}");
                                let e = pattern::counterexample(&p, &b).unwrap_or_else(|| {
                                    panic!("{v}: {id_p} vs {id_b}: no counterexample")
                                });
                                assert!(
                                    b.matches(&e) && !p.matches(&e),
                                    "{v}: {id_p} vs {id_b}: {e}"
                                );
                            }
                            Coverage::CannotProve { reason } => {
                                panic!(
                                    "{v}: {id_p} vs {id_b}: benchmark fragment must be decidable: {reason}"
                                )
                            }
                        }
                    }
                }
            }
            // Every pattern covers itself.
            for (id, texts, _) in &controls {
                let p = pattern::parse(&texts[0]).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(pattern::covers(&p, &p), Coverage::Covered, "{v} {id}");
            }
        }
    }
}
