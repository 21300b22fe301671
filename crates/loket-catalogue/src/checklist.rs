//! What is still missing before an application can be submitted, and which soft rules warn.
//! Missing requirements block submission; warnings never do.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use loket_domain::Lang;
use serde::Serialize;

use crate::model::{pick, DocumentNeed, Requirement, Rule, Service};

/// The state of every requirement of one service for one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    /// Requirements met by at least one complete alternative, in catalogue order.
    pub satisfied: Vec<RequirementStatus>,
    /// Requirements no alternative meets yet; submission is blocked while any remain.
    pub missing: Vec<RequirementStatus>,
    /// Soft-rule warnings for the operator to confirm; they never block.
    pub warnings: Vec<RuleWarning>,
}

impl Checklist {
    /// Whether every requirement is met, so the application may be submitted.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// One requirement with how far each of its alternatives got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementStatus {
    /// The requirement's id.
    pub id: String,
    /// Label in Bahasa Indonesia.
    pub label_id: String,
    /// Label in English.
    pub label_en: String,
    /// Every alternative, with the count provided for each of its documents.
    pub alternatives: Vec<Vec<DocumentStatus>>,
    /// Index of the first complete alternative, if any.
    pub satisfied_by: Option<usize>,
}

impl RequirementStatus {
    /// The requirement's label in the reader's language.
    pub fn label(&self, lang: Lang) -> &str {
        pick(lang, &self.label_id, &self.label_en)
    }

    /// The alternatives as one sentence, e.g. "Surat keterangan lahir (…), atau SPTJM kebenaran
    /// data kelahiran (F-2.03) dengan 2 saksi (dengan KTP-el)".
    pub fn describe(&self, lang: Lang) -> String {
        let (with, and, or) = match lang {
            Lang::Id => (" dengan ", " dan ", ", atau "),
            Lang::En => (" with ", " and ", ", or "),
        };
        let sentence = self
            .alternatives
            .iter()
            .map(|docs| {
                let names: Vec<String> = docs.iter().map(|d| d.describe(lang)).collect();
                match names.split_first() {
                    Some((first, [])) => first.clone(),
                    Some((first, rest)) => format!("{first}{with}{}", rest.join(and)),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(or);
        let mut chars = sentence.chars();
        match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => sentence,
        }
    }
}

/// One document of an alternative: how many are needed and how many were provided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentStatus {
    /// The document's id.
    pub document_id: String,
    /// Name in Bahasa Indonesia.
    pub label_id: String,
    /// Name in English, singular.
    pub label_en: String,
    /// Name in English, plural (falls back to the singular).
    pub plural_en: String,
    /// How many are needed.
    pub needed: u32,
    /// How many distinct ones were provided; may exceed `needed`.
    pub provided: u32,
}

impl DocumentStatus {
    /// Whether enough were provided.
    pub fn is_complete(&self) -> bool {
        self.provided >= self.needed
    }

    /// The name with its count when more than one is needed ("2 saksi", "2 witnesses").
    pub fn describe(&self, lang: Lang) -> String {
        match (lang, self.needed) {
            (Lang::Id, 1) => self.label_id.clone(),
            (Lang::En, 1) => self.label_en.clone(),
            (Lang::Id, n) => format!("{n} {}", self.label_id),
            (Lang::En, n) => format!("{n} {}", self.plural_en),
        }
    }
}

/// A soft rule that fired, placed beside the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleWarning {
    /// The form field the rule reads.
    pub field: String,
    /// Warning in Bahasa Indonesia.
    pub message_id: String,
    /// Warning in English.
    pub message_en: String,
}

impl RuleWarning {
    /// The warning in the reader's language.
    pub fn message(&self, lang: Lang) -> &str {
        pick(lang, &self.message_id, &self.message_en)
    }
}

/// How many distinct entries of `provided` stand for `document`: the id itself or `id#n`.
fn count_provided(provided: &BTreeSet<String>, document: &str) -> u32 {
    let count = provided
        .iter()
        .filter(|p| match p.strip_prefix(document) {
            Some("") => true,
            Some(rest) => rest.starts_with('#') && rest.len() > 1,
            None => false,
        })
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

fn status(requirement: &Requirement, provided: &BTreeSet<String>) -> RequirementStatus {
    let alternatives: Vec<Vec<DocumentStatus>> = requirement
        .alternatives
        .iter()
        .map(|docs| {
            docs.iter()
                .map(|DocumentNeed { document, count }| DocumentStatus {
                    document_id: document.id.clone(),
                    label_id: document.label_id.clone(),
                    label_en: document.label_en.clone(),
                    plural_en: document
                        .plural_en
                        .clone()
                        .unwrap_or_else(|| document.label_en.clone()),
                    needed: *count,
                    provided: count_provided(provided, &document.id),
                })
                .collect()
        })
        .collect();
    let satisfied_by = alternatives
        .iter()
        .position(|docs| docs.iter().all(DocumentStatus::is_complete));
    RequirementStatus {
        id: requirement.id.clone(),
        label_id: requirement.label_id.clone(),
        label_en: requirement.label_en.clone(),
        alternatives,
        satisfied_by,
    }
}

/// Reads a date field as the UI stores it; a missing or unreadable date makes date rules silent
/// (the field's own validation reports it).
fn date(form: &BTreeMap<String, String>, field: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(form.get(field)?.trim(), "%Y-%m-%d").ok()
}

fn age(form: &BTreeMap<String, String>, field: &str, today: NaiveDate) -> Option<u32> {
    today.years_since(date(form, field)?)
}

fn fires(
    rule: &Rule,
    provided: &BTreeSet<String>,
    form: &BTreeMap<String, String>,
    today: NaiveDate,
) -> bool {
    let value = |field: &str| form.get(field).map(|v| v.trim()).unwrap_or("");
    let any_provided =
        |documents: &[String]| documents.iter().any(|d| count_provided(provided, d) > 0);
    match rule {
        Rule::DaysSinceFieldOver { field, days, .. } => {
            date(form, field).is_some_and(|d| (today - d).num_days() > i64::from(*days))
        }
        Rule::AgeUnderUnless {
            field,
            years,
            unless_field,
            unless_values,
            ..
        } => {
            age(form, field, today).is_some_and(|a| a < *years)
                && !unless_values.iter().any(|v| v == value(unless_field))
        }
        Rule::DocumentNeededWhenField {
            field,
            values,
            documents,
            ..
        } => values.iter().any(|v| v == value(field)) && !any_provided(documents),
        Rule::DocumentNeededWhenAge {
            field,
            age_from,
            age_under,
            documents,
            ..
        } => {
            age(form, field, today).is_some_and(|a| {
                age_from.is_none_or(|from| a >= from) && age_under.is_none_or(|under| a < under)
            }) && !any_provided(documents)
        }
    }
}

impl Service {
    /// The checklist for an application: `provided` holds the document ids attached or ticked
    /// (`witness#1`, `witness#2` when a document is needed more than once), `form` the field
    /// values by id (dates as `YYYY-MM-DD`), `today` the capture date.
    pub fn checklist(
        &self,
        provided: &BTreeSet<String>,
        form: &BTreeMap<String, String>,
        today: NaiveDate,
    ) -> Checklist {
        let (satisfied, missing) = self
            .requirements
            .iter()
            .map(|r| status(r, provided))
            .partition(|s| s.satisfied_by.is_some());
        let warnings = self
            .rules
            .iter()
            .filter(|rule| fires(rule, provided, form, today))
            .map(|rule| {
                let (message_id, message_en) = rule.messages();
                RuleWarning {
                    field: rule.field().to_string(),
                    message_id: message_id.to_string(),
                    message_en: message_en.to_string(),
                }
            })
            .collect();
        Checklist {
            satisfied,
            missing,
            warnings,
        }
    }
}

impl Service {
    /// The document a provided slot (`kk`, `witness#2`) stands for, if some requirement of this
    /// service asks for it that many times; anything else is not part of this application.
    pub fn document_for_slot(&self, slot: &str) -> Option<&crate::model::Document> {
        let (id, n) = match slot.split_once('#') {
            Some((id, n)) => (id, Some(n.parse::<u32>().ok().filter(|n| *n >= 1)?)),
            None => (slot, None),
        };
        self.requirements
            .iter()
            .flat_map(|r| r.alternatives.iter().flatten())
            .find(|need| need.document.id == id && n.is_none_or(|n| n <= need.count))
            .map(|need| &need.document)
            .or_else(|| {
                self.rule_documents
                    .iter()
                    .find(|d| d.id == id && n.is_none_or(|n| n == 1))
            })
    }
}
