//! Checks a service's own form fields by their catalogue kind, with the same rules (and words)
//! as the applicant's identity fields: a NIK field is checked like the applicant's NIK, a person
//! name like the applicant's name. Errors block saving; warnings ask the operator to look again.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use loket_domain::{
    check_nik, check_nomor_kk, check_person_name, FindingCode, RegionCode, Severity,
};
use serde::Serialize;

use crate::model::{FieldKind, FormField, Service};

/// Longest value a free-text field takes; anything longer is a paste gone wrong.
pub const MAX_TEXT_CHARS: usize = 200;

/// One finding on a service field, placed by the field's catalogue id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldFinding {
    /// The catalogue field id the UI shows the message beside.
    pub field: String,
    /// Which rule; its words come from `FindingCode::message`.
    pub code: FindingCode,
    /// Whether it blocks saving.
    pub severity: Severity,
}

/// The outcome of checking a service's fields: normalised values and every finding.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FieldReport {
    /// Values as they are stored: trimmed, single-spaced names, canonical numbers; empty
    /// optional fields are left out.
    pub values: BTreeMap<String, String>,
    /// Findings in field order.
    pub findings: Vec<FieldFinding>,
}

impl FieldReport {
    /// Whether nothing blocks saving.
    pub fn is_ok(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }
}

fn push(out: &mut Vec<FieldFinding>, field: &str, code: FindingCode, severity: Severity) {
    out.push(FieldFinding {
        field: field.to_string(),
        code,
        severity,
    });
}

/// Checks one value; returns the normalised value when it may be stored.
fn check_field(
    field: &FormField,
    raw: &str,
    today: NaiveDate,
    out: &mut Vec<FieldFinding>,
) -> Option<String> {
    let id = field.id.as_str();
    let value = raw.trim();
    let before = out.len();
    let relabel = |findings: Vec<loket_domain::Finding>, out: &mut Vec<FieldFinding>| {
        for f in findings {
            push(out, id, f.code, f.severity);
        }
    };
    let normalised = match field.kind {
        FieldKind::Text => {
            let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
            if v.chars().count() > MAX_TEXT_CHARS {
                push(out, id, FindingCode::TextTooLong, Severity::Error);
            }
            v
        }
        FieldKind::PersonName => {
            let (name, findings) = check_person_name(value);
            relabel(findings, out);
            name
        }
        FieldKind::Date => match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(d) if d > today => {
                push(out, id, FindingCode::DateFuture, Severity::Error);
                value.to_string()
            }
            Ok(d) => d.to_string(),
            Err(_) => {
                push(out, id, FindingCode::DateInvalid, Severity::Error);
                value.to_string()
            }
        },
        FieldKind::Nik => {
            let (info, findings) = check_nik(value, today);
            relabel(findings, out);
            info.map(|i| i.nik.to_string())
                .unwrap_or_else(|| value.to_string())
        }
        FieldKind::NomorKk => {
            let (kk, findings) = check_nomor_kk(value, today);
            relabel(findings, out);
            kk.map(|k| k.to_string())
                .unwrap_or_else(|| value.to_string())
        }
        FieldKind::Select => {
            if !field.options.iter().any(|o| o.value == value) {
                push(out, id, FindingCode::OptionInvalid, Severity::Error);
            }
            value.to_string()
        }
        FieldKind::Number => match value.parse::<u32>() {
            Ok(n) => n.to_string(),
            Err(_) => {
                push(out, id, FindingCode::NumberInvalid, Severity::Error);
                value.to_string()
            }
        },
        FieldKind::Phone => match loket_domain::normalise_phone(value) {
            Some(p) => p,
            None => {
                push(out, id, FindingCode::PhoneInvalid, Severity::Error);
                value.to_string()
            }
        },
        FieldKind::Email => {
            let ok = value.len() <= 254
                && !value.contains(char::is_whitespace)
                && value.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                });
            if !ok {
                push(out, id, FindingCode::EmailInvalid, Severity::Error);
            }
            value.to_lowercase()
        }
        FieldKind::RegionCode => match RegionCode::parse_village(value) {
            Ok(code) => code.digits().to_string(),
            Err(_) => {
                push(out, id, FindingCode::RegionCodeUnknown, Severity::Error);
                value.to_string()
            }
        },
    };
    let blocked = out[before..].iter().any(|f| f.severity == Severity::Error);
    (!blocked).then_some(normalised)
}

impl Service {
    /// Checks the service's own fields in `form` (values by field id, as the UI holds them),
    /// as of `today`. Unknown keys are ignored, so the applicant's fields may share the map.
    pub fn check_fields(&self, form: &BTreeMap<String, String>, today: NaiveDate) -> FieldReport {
        let mut report = FieldReport::default();
        for field in &self.fields {
            let raw = form.get(&field.id).map(String::as_str).unwrap_or("");
            if raw.trim().is_empty() {
                if field.required {
                    push(
                        &mut report.findings,
                        &field.id,
                        FindingCode::Required,
                        Severity::Error,
                    );
                }
                continue;
            }
            if let Some(v) = check_field(field, raw, today, &mut report.findings) {
                report.values.insert(field.id.clone(), v);
            }
        }
        report
    }
}
