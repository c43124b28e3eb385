//! Plan → text, Terraform's way, or → JSON. Pure: no I/O, no decisions.

mod human;
mod style;

pub use human::{apply_line, controls_table, plan as human};
pub use style::Style;

use crate::plan::Plan;

pub fn json(plan: &Plan) -> String {
    plan.to_json()
}
