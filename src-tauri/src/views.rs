//! The JSON shapes `ui/` receives (see ui/src/backend.ts). Words are translated here, once.

use loket_domain::{Finding, Lang, NikInfo, Report, Severity};
use loket_print::FileVerdict;
use loket_store::StoredApplication;
use serde::Serialize;

/// An error as the UI shows it: a stable code and a sentence in the operator's language.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// Stable code the UI may branch on (`validation`, `store`, `not_found`, `print`, …).
    pub code: &'static str,
    /// What the operator reads.
    pub message: String,
    /// For `validation`: every finding by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<CheckView>>,
    /// For a refused save: the whole application check, so the form shows every problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Box<crate::apply::ApplicationCheckView>>,
}

impl CommandError {
    /// An error with no field report.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
            report: None,
            check: None,
        }
    }
}

impl From<loket_store::StoreError> for CommandError {
    fn from(e: loket_store::StoreError) -> Self {
        match e {
            loket_store::StoreError::NotFound => CommandError::new("not_found", e.to_string()),
            loket_store::StoreError::Frozen { .. } | loket_store::StoreError::ServiceChanged => {
                CommandError::new("frozen", e.to_string())
            }
            other => CommandError::new("store", other.to_string()),
        }
    }
}

/// One finding with its translated message.
#[derive(Debug, Serialize)]
pub struct FindingView {
    field: loket_domain::Field,
    code: loket_domain::FindingCode,
    severity: Severity,
    message: &'static str,
}

/// What the NIK says, to prefill the form.
#[derive(Debug, Serialize)]
pub struct NikInfoView {
    birth_date: String,
    sex: loket_domain::Sex,
    province_name: String,
    regency_name: Option<String>,
    kecamatan_name: Option<String>,
}

/// The validation report for the form.
#[derive(Debug, Serialize)]
pub struct CheckView {
    ok: bool,
    errors: Vec<FindingView>,
    warnings: Vec<FindingView>,
    nik_info: Option<NikInfoView>,
}

fn finding(f: &Finding, lang: Lang) -> FindingView {
    FindingView {
        field: f.field,
        code: f.code,
        severity: f.severity,
        message: f.code.message(lang),
    }
}

fn nik_info(i: &NikInfo) -> NikInfoView {
    NikInfoView {
        birth_date: i.birth_date.to_string(),
        sex: i.sex,
        province_name: i.province_name.clone(),
        regency_name: i.regency_name.clone(),
        kecamatan_name: i.kecamatan_name.clone(),
    }
}

/// Builds the check view from a domain report.
pub fn check_view(r: &Report, lang: Lang) -> CheckView {
    CheckView {
        ok: r.errors.is_empty(),
        errors: r.errors.iter().map(|f| finding(f, lang)).collect(),
        warnings: r.warnings.iter().map(|f| finding(f, lang)).collect(),
        nik_info: r.nik_info.as_ref().map(nik_info),
    }
}

/// An issued document's summary in the list.
#[derive(Debug, Serialize)]
pub struct DocumentView {
    doc_number: String,
    issued_on: String,
}

/// One row of the applications list.
#[derive(Debug, Serialize)]
pub struct ApplicationView {
    id: String,
    tracking_number: String,
    service: String,
    service_label: String,
    catalogue_version: String,
    /// The service's own fields as (label, value), in form order.
    details: Vec<(String, String)>,
    /// Provided documents as (label, pages).
    provided: Vec<(String, usize)>,
    nik: String,
    full_name: String,
    birth_place: String,
    birth_date: String,
    sex_label: &'static str,
    address: String,
    phone: String,
    status: &'static str,
    status_label: &'static str,
    reason: Option<String>,
    captured_at: String,
    document: Option<DocumentView>,
    /// 0 for the original, n after the n-th correction.
    revision: u32,
}

/// Builds a list row.
pub fn application_view(
    a: &StoredApplication,
    cat: &loket_catalogue::Catalogue,
    lang: Lang,
) -> ApplicationView {
    let service = cat.service(a.service.code());
    ApplicationView {
        id: a.id.to_string(),
        tracking_number: a.tracking_number.clone(),
        service: a.service.code().to_string(),
        service_label: cat.service_name(a.service.code(), lang),
        catalogue_version: a.catalogue_version.clone(),
        details: service
            .map(|s| s.describe_fields(&a.fields, lang))
            .unwrap_or_default(),
        provided: a
            .provided
            .iter()
            .map(|p| (cat.slot_label(&p.slot, lang), p.pages.len()))
            .collect(),
        nik: a.data.nik.to_string(),
        full_name: a.data.full_name.clone(),
        birth_place: a.data.birth_place.clone(),
        birth_date: a.data.birth_date.to_string(),
        sex_label: a.data.sex.label(lang),
        address: a.data.address.clone(),
        phone: a.data.phone.clone(),
        status: a.status.code(),
        status_label: a.status.label(lang),
        reason: a.reason.clone(),
        captured_at: a.captured_at.to_rfc3339(),
        document: a
            .document
            .as_ref()
            .filter(|d| d.has_pdf)
            .map(|d| DocumentView {
                doc_number: d.doc_number.clone(),
                issued_on: d.issued_on.to_string(),
            }),
        revision: a.revision,
    }
}

/// Fields of a verified document.
#[derive(Debug, Serialize)]
pub struct VerifiedFields {
    doc_type: &'static str,
    doc_number: String,
    holder_name: String,
    nik: String,
    birth_date: String,
    issued_on: String,
    district: String,
    key_id: String,
    revision: u16,
}

/// The verifier's answer as the UI shows it.
#[derive(Debug, Serialize)]
pub struct VerifyView {
    verdict: &'static str,
    title: &'static str,
    reason: Option<String>,
    fields: Option<VerifiedFields>,
}

/// Builds the verify view from the shared verifier's verdict.
pub fn verify_view(v: FileVerdict, lang: Lang) -> VerifyView {
    let pick = |id: String, en: String| match lang {
        Lang::Id => id,
        Lang::En => en,
    };
    match v {
        FileVerdict::Valid {
            verified,
            printed_checked,
        } => {
            let c = &verified.claims;
            let reason = (!printed_checked).then(|| {
                pick(
                    "Cocokkan data di bawah dengan tulisan pada kertas.".into(),
                    "Compare the data below with the paper.".into(),
                )
            });
            VerifyView {
                verdict: "valid",
                title: match lang {
                    Lang::Id => "Dokumen ASLI dan sah",
                    Lang::En => "Genuine, valid document",
                },
                reason,
                fields: Some(VerifiedFields {
                    doc_type: match lang {
                        Lang::Id => c.doc_type.label_id(),
                        Lang::En => c.doc_type.label_en(),
                    },
                    doc_number: c.doc_number.clone(),
                    holder_name: c.holder_name.clone(),
                    nik: c.nik.clone(),
                    birth_date: loket_print::format_date_id(c.birth_date),
                    issued_on: loket_print::format_date_id(c.issued_on),
                    district: format!("{} ({})", verified.key.district_name, c.district_code),
                    key_id: verified.key.key_id.to_string(),
                    revision: c.revision,
                }),
            }
        }
        FileVerdict::Invalid {
            reason_id,
            reason_en,
            ..
        } => VerifyView {
            verdict: "invalid",
            title: match lang {
                Lang::Id => "TIDAK SAH — jangan terima dokumen ini",
                Lang::En => "NOT VALID — do not accept this document",
            },
            reason: Some(pick(reason_id, reason_en)),
            fields: None,
        },
        FileVerdict::Unreadable {
            reason_id,
            reason_en,
        } => VerifyView {
            verdict: "unreadable",
            title: match lang {
                Lang::Id => "Kode QR tidak terbaca",
                Lang::En => "QR code unreadable",
            },
            reason: Some(pick(reason_id, reason_en)),
            fields: None,
        },
    }
}
