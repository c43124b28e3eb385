//! Collects the plan while the diff walks the controls: changes are merged by
//! address (a topic serving fifteen controls is one change), control reports
//! keep the benchmark's order.

use crate::desired::MonitoringControl;
use crate::plan::{Change, ControlReport, ControlStatus, Notice, Severity};

#[derive(Default)]
pub struct PlanBuilder {
    pub notices: Vec<Notice>,
    pub changes: Vec<Change>,
    pub controls: Vec<ControlReport>,
}

impl PlanBuilder {
    pub fn notice(&mut self, severity: Severity, message: String, details: Vec<String>) {
        self.notices.push(Notice {
            severity,
            message,
            details,
        });
    }

    /// Adds a change, or merges its controls into the change already planned
    /// at the same address.
    pub fn change(&mut self, change: Change) {
        match self
            .changes
            .iter_mut()
            .find(|c| c.address == change.address)
        {
            Some(existing) => {
                for id in change.controls {
                    if !existing.controls.contains(&id) {
                        existing.controls.push(id);
                    }
                }
            }
            None => self.changes.push(change),
        }
    }

    /// Records that the change at `address` also serves control `id`.
    pub fn serve(&mut self, address: &str, id: &str) {
        if let Some(c) = self.changes.iter_mut().find(|c| c.address == address)
            && !c.controls.iter().any(|x| x == id)
        {
            c.controls.push(id.to_string());
        }
    }

    pub fn control(&mut self, c: &MonitoringControl, status: ControlStatus, reason: String) {
        self.controls.push(ControlReport {
            id: c.id.clone(),
            title: c.title.clone(),
            status,
            reason,
        });
    }
}
