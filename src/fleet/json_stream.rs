//! The organization report written one account at a time: the same bytes
//! as [`super::OrgReport::to_json`], without holding every account's plan until
//! the end (an organization of thousands of accounts would hold them all).

use serde::Serialize;

use super::{AccountReport, FILE, Shard, Totals};

/// Writes the report in pieces: [`JsonStream::head`], then
/// [`JsonStream::account`] for each account in account id order, then
/// [`JsonStream::tail`].
pub struct JsonStream {
    accounts: usize,
}

/// `v` as pretty JSON, its lines after the first indented by `by`.
fn pretty(v: &impl Serialize, by: usize) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
    // A JSON string holds no raw line break, so every line break is one
    // between values, and indenting after each is indenting each line.
    text.replace('\n', &format!("\n{}", " ".repeat(by)))
}

fn field(name: &str, v: &impl Serialize) -> String {
    format!("  {}: {}", pretty(&name, 0), pretty(v, 2))
}

impl JsonStream {
    /// The report's opening, up to the accounts.
    pub fn head(
        benchmark: &str,
        organization_id: Option<&str>,
        management_account: Option<&str>,
        shard: Option<Shard>,
    ) -> (JsonStream, String) {
        let mut fields = vec![
            field("format_version", &FILE.version),
            field("benchmark", &benchmark),
        ];
        if let Some(o) = organization_id {
            fields.push(field("organization_id", &o));
        }
        if let Some(m) = management_account {
            fields.push(field("management_account", &m));
        }
        if let Some(s) = shard {
            fields.push(field("shard", &s));
        }
        fields.push("  \"accounts\": [".into());
        (
            JsonStream { accounts: 0 },
            format!("{{\n{}", fields.join(",\n")),
        )
    }

    /// One account, after those before it.
    pub fn account(&mut self, a: &AccountReport) -> String {
        let sep = if self.accounts == 0 { "\n" } else { ",\n" };
        self.accounts += 1;
        format!("{sep}    {}", pretty(a, 4))
    }

    /// The rest: the accounts' end, the totals and the cost.
    pub fn tail(self, totals: &Totals) -> String {
        let mut out = String::from(if self.accounts == 0 { "]" } else { "\n  ]" });
        out.push_str(",\n");
        out.push_str(&field("summary", &totals.summary));
        if let Some(c) = totals.cost() {
            out.push_str(",\n");
            out.push_str(&field("cost", &c));
        }
        out.push_str("\n}");
        out
    }

    /// The whole report at once, as the pieces make it (to check them).
    #[cfg(test)]
    pub fn whole(r: &super::OrgReport) -> String {
        let (mut s, mut out) = JsonStream::head(
            &r.benchmark,
            r.organization_id.as_deref(),
            r.management_account.as_deref(),
            r.shard,
        );
        for a in &r.accounts {
            out.push_str(&s.account(a));
        }
        out.push_str(&s.tail(&Totals::of(r)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{AccountReport, OrgReport};
    use crate::observed::CallFailure;

    fn failed(id: &str) -> AccountReport {
        AccountReport::failed(
            id,
            Some(format!("name \"{id}\"\nwith a line break")),
            CallFailure {
                call: "sts:AssumeRole".into(),
                region: "us-east-1".into(),
                resource: Some(format!("arn:aws:iam::{id}:role/cis-fix-plan")),
                code: Some("AccessDenied".into()),
                message: "not authorized".into(),
                detail: None,
            },
        )
    }

    #[test]
    fn streamed_report_is_the_whole_report_byte_for_byte() {
        let shard = Shard::parse("2/3").ok();
        for n in [0, 1, 3] {
            for (org, mgmt, sh) in [
                (None, None, None),
                (
                    Some("o-abc".to_string()),
                    Some("111111111111".to_string()),
                    shard,
                ),
            ] {
                let accounts = (0..n).map(|i| failed(&format!("22222222222{i}"))).collect();
                let r = OrgReport::new("3.0.0", org, mgmt, sh, accounts);
                assert_eq!(JsonStream::whole(&r), r.to_json(), "{n} accounts");
            }
        }
    }
}
