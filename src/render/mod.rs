//! Plan → text, Terraform's way, or → JSON, or → Markdown for a pull
//! request comment. Pure: no I/O, no decisions. All read the plan's JSON
//! form, so `show` of a saved plan prints exactly what `plan` printed.

mod cost;
mod fleet;
mod human;
mod markdown;
mod style;

pub use cost::line as cost_line;
pub use fleet::{
    account_section, org_report, summary_line as account_summary, totals as org_totals,
};
pub use human::{apply_line, controls_table, header, plan as human, problems};
pub use markdown::markdown;
pub use style::Style;

use crate::jsonplan::JsonPlan;

pub fn json(plan: &JsonPlan) -> String {
    plan.to_json()
}
