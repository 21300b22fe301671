//! The whole check of one application before it is saved: the applicant's identity, the
//! service's own fields, the documents provided, and the checklist. One function so the desktop
//! app, the CLI and tests apply exactly the same rules.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use loket_domain::{validate_applicant, ApplicantForm, Report};
use serde::Serialize;

use crate::checklist::Checklist;
use crate::fields::FieldReport;
use crate::model::{DocumentKind, Service};

/// A document slot as the form holds it: which slot and whether pages are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInput {
    /// `kk`, `witness#2`…
    pub slot: String,
    /// Pages attached (papers need at least one; checks none).
    pub pages: usize,
}

/// Why a provided slot cannot be kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotProblem {
    /// The service does not ask for this document (or not that many).
    NotRequested,
    /// A paper was ticked without a scan.
    ScanMissing,
    /// An in-person check came with a scan.
    CheckHasScan,
}

/// Everything that was found on one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationCheck {
    /// The applicant's identity fields.
    pub applicant: Report,
    /// The service's own fields.
    pub fields: FieldReport,
    /// Slots that cannot be kept, with why.
    pub slot_problems: Vec<(String, SlotProblem)>,
    /// What is met, what is missing, and the soft-rule warnings.
    pub checklist: Checklist,
}

impl ApplicationCheck {
    /// Whether the application may be saved: no error anywhere and nothing missing.
    pub fn can_submit(&self) -> bool {
        self.applicant.errors.is_empty()
            && self.fields.is_ok()
            && self.slot_problems.is_empty()
            && self.checklist.is_complete()
    }
}

impl Service {
    /// Checks an application of this service as of `today`.
    pub fn check_application(
        &self,
        applicant: &ApplicantForm,
        fields: &BTreeMap<String, String>,
        slots: &[SlotInput],
        today: NaiveDate,
    ) -> ApplicationCheck {
        let applicant_report = validate_applicant(applicant, today);
        let field_report = self.check_fields(fields, today);
        let mut slot_problems = Vec::new();
        let mut provided = BTreeSet::new();
        for s in slots {
            let problem = match self.document_for_slot(&s.slot).map(|d| d.kind) {
                None => Some(SlotProblem::NotRequested),
                Some(DocumentKind::Scan) if s.pages == 0 => Some(SlotProblem::ScanMissing),
                Some(DocumentKind::Check) if s.pages > 0 => Some(SlotProblem::CheckHasScan),
                Some(_) => None,
            };
            match problem {
                Some(p) => slot_problems.push((s.slot.clone(), p)),
                None => {
                    provided.insert(s.slot.clone());
                }
            }
        }
        // Rules read the applicant's fields too (e.g. the birth date for an age rule).
        let mut form = fields.clone();
        form.insert("birth_date".into(), applicant.birth_date.trim().to_string());
        form.insert("sex".into(), applicant.sex.trim().to_string());
        let checklist = self.checklist(&provided, &form, today);
        ApplicationCheck {
            applicant: applicant_report,
            fields: field_report,
            slot_problems,
            checklist,
        }
    }
}
