//! Taking an application: the catalogue as the form needs it, the live check, scan intake,
//! the resident picker, saving, and correcting an application the district returned. Every
//! rule is in `loket-catalogue` / `loket-domain`; scans are processed by `loket-scan` and
//! stored by `loket-store`.

use base64::Engine;
use chrono::Local;
use loket_catalogue::{
    ApplicationCheck, Catalogue, DocumentKind, FieldKind, FormField, Service, SlotInput,
    SlotProblem,
};
use loket_domain::{ApplicantForm, Lang, ProvidedDocument, ServiceCode, Severity};
use loket_store::{NewApplication, NewScan, Resident, VillageStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::commands::lock;
use crate::views::{self, ApplicationView, CommandError};
use crate::Desk;
use tauri::State;

type Result<T> = std::result::Result<T, CommandError>;

/// The catalogue in force on this laptop: the newest one the district published (its signature
/// was checked when sync stored it), unless this build ships a newer one.
pub fn active_catalogue(store: &VillageStore) -> Catalogue {
    let embedded = loket_catalogue::catalogue();
    store
        .setting(loket_sync::CATALOGUE_SETTING)
        .ok()
        .flatten()
        .and_then(|json| loket_catalogue::parse_catalogue(&json).ok())
        .filter(|c| loket_catalogue::is_newer_version(c.version(), embedded.version()))
        .unwrap_or_else(|| embedded.clone())
}

fn pick<'a>(lang: Lang, id: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

/// A form field as the UI draws it.
#[derive(Debug, Serialize)]
pub struct FieldView {
    id: String,
    label: String,
    kind: FieldKind,
    required: bool,
    options: Vec<(String, String)>,
}

fn field_view(f: &FormField, lang: Lang) -> FieldView {
    FieldView {
        id: f.id.clone(),
        label: f.label(lang).to_string(),
        kind: f.kind,
        required: f.required,
        options: f
            .options
            .iter()
            .map(|o| {
                (
                    o.value.clone(),
                    pick(lang, &o.label_id, &o.label_en).to_string(),
                )
            })
            .collect(),
    }
}

/// One document of an alternative as the checklist draws it.
#[derive(Debug, Serialize)]
pub struct DocumentNeedView {
    document_id: String,
    label: String,
    kind: DocumentKind,
    count: u32,
}

/// One persyaratan with its alternatives.
#[derive(Debug, Serialize)]
pub struct RequirementView {
    id: String,
    label: String,
    alternatives: Vec<Vec<DocumentNeedView>>,
}

/// A service as the service picker and form draw it.
#[derive(Debug, Serialize)]
pub struct ServiceView {
    code: String,
    name: String,
    legal_basis: String,
    sla_working_days: u32,
    fields: Vec<FieldView>,
    requirements: Vec<RequirementView>,
    /// Papers only a soft rule asks for: optional, attached to silence its warning.
    extra_documents: Vec<DocumentNeedView>,
}

/// The catalogue in the operator's language.
#[derive(Debug, Serialize)]
pub struct CatalogueView {
    version: String,
    applicant_fields: Vec<FieldView>,
    services: Vec<ServiceView>,
}

fn service_view(s: &Service, lang: Lang) -> ServiceView {
    ServiceView {
        code: s.code.clone(),
        name: s.name(lang).to_string(),
        legal_basis: s.legal_basis.clone(),
        sla_working_days: s.sla_working_days,
        fields: s.fields.iter().map(|f| field_view(f, lang)).collect(),
        requirements: s
            .requirements
            .iter()
            .map(|r| RequirementView {
                id: r.id.clone(),
                label: pick(lang, &r.label_id, &r.label_en).to_string(),
                alternatives: r
                    .alternatives
                    .iter()
                    .map(|alt| {
                        alt.iter()
                            .map(|need| DocumentNeedView {
                                document_id: need.document.id.clone(),
                                label: need.document.label(lang).to_string(),
                                kind: need.document.kind,
                                count: need.count,
                            })
                            .collect()
                    })
                    .collect(),
            })
            .collect(),
        extra_documents: s
            .rule_documents
            .iter()
            .map(|d| DocumentNeedView {
                document_id: d.id.clone(),
                label: d.label(lang).to_string(),
                kind: d.kind,
                count: 1,
            })
            .collect(),
    }
}

/// Gives the form everything it draws: services, their fields and persyaratan.
#[tauri::command]
pub fn catalogue_view(desk: State<'_, Desk>) -> Result<CatalogueView> {
    let store = lock(&desk)?;
    let lang = desk.lang(&store);
    let cat = active_catalogue(&store);
    Ok(CatalogueView {
        version: cat.version().to_string(),
        applicant_fields: cat
            .applicant_fields()
            .iter()
            .map(|f| field_view(f, lang))
            .collect(),
        services: cat
            .services()
            .iter()
            .map(|s| service_view(s, lang))
            .collect(),
    })
}

/// A provided slot as the form holds it: the slot and the hashes of its attached pages.
#[derive(Debug, Clone, Deserialize)]
pub struct SlotForm {
    slot: String,
    #[serde(default)]
    pages: Vec<String>,
}

/// Everything the operator entered for one application.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationForm {
    service: String,
    applicant: ApplicantForm,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    provided: Vec<SlotForm>,
}

/// One finding placed by field id (applicant or service field).
#[derive(Debug, Serialize)]
pub struct FieldFindingView {
    field: String,
    severity: Severity,
    message: String,
}

/// A requirement's state as the checklist shows it.
#[derive(Debug, Serialize)]
pub struct RequirementStateView {
    id: String,
    label: String,
    satisfied: bool,
    /// What would satisfy it, as a sentence.
    how: String,
}

/// The live check of the whole form.
#[derive(Debug, Serialize)]
pub struct ApplicationCheckView {
    /// Whether the application may be saved now.
    can_submit: bool,
    /// The applicant part, in the shape the applicant fields already use.
    applicant: views::CheckView,
    /// Service-field findings.
    findings: Vec<FieldFindingView>,
    /// Every requirement, in catalogue order.
    requirements: Vec<RequirementStateView>,
    /// Soft-rule warnings, beside their field.
    rule_warnings: Vec<FieldFindingView>,
    /// Slots that cannot be kept.
    slot_problems: Vec<(String, String)>,
}

fn slot_problem_text(p: SlotProblem, lang: Lang) -> &'static str {
    match (p, lang) {
        (SlotProblem::NotRequested, Lang::Id) => "tidak diminta untuk layanan ini",
        (SlotProblem::NotRequested, Lang::En) => "not asked for by this service",
        (SlotProblem::ScanMissing, Lang::Id) => "pindaian belum dilampirkan",
        (SlotProblem::ScanMissing, Lang::En) => "scan not attached yet",
        (SlotProblem::CheckHasScan, Lang::Id) => "pemeriksaan langsung tidak memakai pindaian",
        (SlotProblem::CheckHasScan, Lang::En) => "an in-person check takes no scan",
    }
}

fn check_view(service: &Service, check: &ApplicationCheck, lang: Lang) -> ApplicationCheckView {
    let mut requirements: Vec<RequirementStateView> = check
        .checklist
        .satisfied
        .iter()
        .map(|r| (r, true))
        .chain(check.checklist.missing.iter().map(|r| (r, false)))
        .map(|(r, satisfied)| RequirementStateView {
            id: r.id.clone(),
            label: r.label(lang).to_string(),
            satisfied,
            how: r.describe(lang),
        })
        .collect();
    // Back into catalogue order, so satisfied rows do not jump around while attaching.
    let order = |id: &str| service.requirements.iter().position(|r| r.id == id);
    requirements.sort_by_key(|r| order(&r.id));
    ApplicationCheckView {
        can_submit: check.can_submit(),
        applicant: views::check_view(&check.applicant, lang),
        findings: check
            .fields
            .findings
            .iter()
            .map(|f| FieldFindingView {
                field: f.field.clone(),
                severity: f.severity,
                message: f.code.message(lang).to_string(),
            })
            .collect(),
        requirements,
        rule_warnings: check
            .checklist
            .warnings
            .iter()
            .map(|w| FieldFindingView {
                field: w.field.clone(),
                severity: Severity::Warning,
                message: w.message(lang).to_string(),
            })
            .collect(),
        slot_problems: check
            .slot_problems
            .iter()
            .map(|(s, p)| (s.clone(), slot_problem_text(*p, lang).to_string()))
            .collect(),
    }
}

fn service_of<'a>(cat: &'a Catalogue, code: &str, lang: Lang) -> Result<&'a Service> {
    cat.service(code).ok_or_else(|| {
        CommandError::new(
            "validation",
            match lang {
                Lang::Id => "Pilih layanan terlebih dahulu.",
                Lang::En => "Choose a service first.",
            },
        )
    })
}

fn run_check(service: &Service, form: &ApplicationForm) -> ApplicationCheck {
    let slots: Vec<SlotInput> = form
        .provided
        .iter()
        .map(|p| SlotInput {
            slot: p.slot.clone(),
            pages: p.pages.len(),
        })
        .collect();
    service.check_application(
        &form.applicant,
        &form.fields,
        &slots,
        Local::now().date_naive(),
    )
}

/// Checks the whole form while the operator types and attaches, so the checklist is live.
#[tauri::command]
pub fn check_application(
    desk: State<'_, Desk>,
    form: ApplicationForm,
) -> Result<ApplicationCheckView> {
    let store = lock(&desk)?;
    let lang = desk.lang(&store);
    let cat = active_catalogue(&store);
    drop(store);
    let service = service_of(&cat, &form.service, lang)?;
    Ok(check_view(service, &run_check(service, &form), lang))
}

/// Saves a complete application with its scans and queues it, so nothing depends on the
/// network. Missing requirements or any error refuse the save and change nothing.
#[tauri::command]
pub fn submit_application(desk: State<'_, Desk>, form: ApplicationForm) -> Result<ApplicationView> {
    let mut store = lock(&desk)?;
    let lang = desk.lang(&store);
    let cat = active_catalogue(&store);
    let new = checked_application(&store, &cat, &form, lang)?;
    let operator = store.operator_name();
    let now = Local::now().fixed_offset();
    let app = store.register(&desk.device(), &new, &operator, now, Uuid::now_v7())?;
    Ok(views::application_view(&app, &cat, lang))
}

/// Saves the operator's correction of an application the district returned as its next
/// revision (same tracking number) and queues it; the same checks as a new application apply,
/// and an application that was not returned is refused unchanged.
#[tauri::command]
pub fn correct_application(
    desk: State<'_, Desk>,
    id: String,
    form: ApplicationForm,
) -> Result<ApplicationView> {
    let id = parse_id(&id)?;
    let mut store = lock(&desk)?;
    let lang = desk.lang(&store);
    let cat = active_catalogue(&store);
    let new = checked_application(&store, &cat, &form, lang)?;
    let operator = store.operator_name();
    let now = Local::now().fixed_offset();
    let app = store.correct(id, &new, &operator, now, Uuid::now_v7())?;
    Ok(views::application_view(&app, &cat, lang))
}

/// The form checked as a whole and turned into what the store saves; a missing requirement or
/// any error is a `validation` error carrying the whole check, so the form shows every problem.
fn checked_application(
    store: &VillageStore,
    cat: &Catalogue,
    form: &ApplicationForm,
    lang: Lang,
) -> Result<NewApplication> {
    let service = service_of(cat, &form.service, lang)?;
    let check = run_check(service, form);
    let (Some(applicant), true) = (check.applicant.value.clone(), check.can_submit()) else {
        let mut error = CommandError::new(
            "validation",
            match lang {
                Lang::Id => "Belum dapat disimpan: perbaiki isian merah dan lengkapi persyaratan.",
                Lang::En => {
                    "Cannot save yet: correct the fields in red and complete the requirements."
                }
            },
        );
        error.check = Some(Box::new(check_view(service, &check, lang)));
        return Err(error);
    };
    let mut provided = Vec::with_capacity(form.provided.len());
    for p in &form.provided {
        let mut pages = Vec::with_capacity(p.pages.len());
        for sha in &p.pages {
            let scan = store.scan(sha)?.ok_or_else(|| {
                CommandError::from(loket_store::StoreError::MissingScan {
                    slot: p.slot.clone(),
                })
            })?;
            pages.push(scan);
        }
        provided.push(ProvidedDocument {
            slot: p.slot.clone(),
            pages,
        });
    }
    provided.sort();
    Ok(NewApplication {
        service: ServiceCode::parse(&service.code)
            .map_err(|e| CommandError::new("validation", e.to_string()))?,
        catalogue_version: cat.version().to_string(),
        applicant,
        fields: check.fields.values.clone(),
        provided,
    })
}

fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| CommandError::new("not_found", "permohonan tidak ditemukan"))
}

/// A provided slot of a saved application, as the form holds it.
#[derive(Debug, Serialize)]
pub struct SlotFormView {
    slot: String,
    /// Page hashes, in order; empty for in-person checks.
    pages: Vec<String>,
    /// Bytes stored for all pages.
    stored_bytes: u64,
}

/// A saved application in the register form's own shape, so a correction starts from what was
/// sent (dates as `YYYY-MM-DD`; the form shows them day first).
#[derive(Debug, Serialize)]
pub struct StoredFormView {
    id: String,
    tracking_number: String,
    revision: u32,
    status: &'static str,
    /// Why the district returned it, when it did.
    reason: Option<String>,
    service: String,
    catalogue_version: String,
    applicant: ApplicantForm,
    fields: BTreeMap<String, String>,
    provided: Vec<SlotFormView>,
}

/// Gives the register screen a saved application to correct, in the form's shape.
#[tauri::command]
pub fn application_form(desk: State<'_, Desk>, id: String) -> Result<StoredFormView> {
    let store = lock(&desk)?;
    let app = store.application(parse_id(&id)?)?;
    let d = &app.data;
    Ok(StoredFormView {
        id: app.id.to_string(),
        tracking_number: app.tracking_number.clone(),
        revision: app.revision,
        status: app.status.code(),
        reason: app.reason.clone(),
        service: app.service.code().to_string(),
        catalogue_version: app.catalogue_version.clone(),
        applicant: ApplicantForm {
            nik: d.nik.to_string(),
            full_name: d.full_name.clone(),
            birth_place: d.birth_place.clone(),
            birth_date: d.birth_date.to_string(),
            sex: match d.sex {
                loket_domain::Sex::Male => "male".into(),
                loket_domain::Sex::Female => "female".into(),
            },
            address: d.address.clone(),
            phone: d.phone.clone(),
        },
        fields: app.fields.clone(),
        provided: app
            .provided
            .iter()
            .map(|p| SlotFormView {
                slot: p.slot.clone(),
                pages: p.pages.iter().map(|s| s.sha256.clone()).collect(),
                stored_bytes: p.pages.iter().map(|s| s.size).sum(),
            })
            .collect(),
    })
}

/// A stored page's thumbnail as a data URL for the checklist (the page itself when it has no
/// thumbnail of its own); empty when the laptop no longer holds the page.
#[tauri::command]
pub fn scan_thumbnail(desk: State<'_, Desk>, sha256: String) -> Result<String> {
    let store = lock(&desk)?;
    let thumb = store.scan_thumbnail(&sha256)?.filter(|t| !t.is_empty());
    let bytes = match thumb {
        Some(t) => Some(t),
        None => store.scan_bytes(&sha256)?.filter(|b| !b.is_empty()),
    };
    Ok(bytes.map_or_else(String::new, |b| {
        let media = if b.starts_with(b"\x89PNG") {
            "image/png"
        } else {
            "image/jpeg"
        };
        format!(
            "data:{media};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&b)
        )
    }))
}

/// An attached scan as the checklist shows it.
#[derive(Debug, Serialize)]
pub struct ScanView {
    /// One hash per stored page, in order.
    pages: Vec<String>,
    /// Bytes stored for all pages.
    stored_bytes: u64,
    /// Bytes of the file the operator picked.
    original_bytes: u64,
    /// PNG thumbnail of page 1 as a data URL.
    thumbnail: String,
    /// Degrees straightened, page 1.
    skew_degrees: f32,
}

/// Stores the pages of one intake (the thumbnail with page 1), for the form to refer to by hash.
pub fn store_intake(
    store: &mut VillageStore,
    intake: &loket_scan::ScanIntake,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> std::result::Result<Vec<loket_domain::ScanRef>, loket_store::StoreError> {
    intake
        .pages
        .iter()
        .enumerate()
        .map(|(i, page)| {
            store.put_scan(
                &NewScan {
                    bytes: page.jpeg.clone(),
                    media_type: "image/jpeg".into(),
                    thumbnail: if i == 0 {
                        intake.thumbnail_png.clone()
                    } else {
                        Vec::new()
                    },
                },
                now,
            )
        })
        .collect()
}

/// Takes in a picked, dropped or photographed file: sniffs, bounds, straightens and compresses
/// it into pages, and stores them encrypted by content. A bad file changes nothing.
#[tauri::command]
pub async fn attach_scan(
    desk: State<'_, Desk>,
    name: String,
    bytes_base64: String,
) -> Result<ScanView> {
    let _ = name; // The verdict depends on the bytes only; the UI shows the name.
    let lang = desk.lang(&*lock(&desk)?);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(bytes_base64.trim())
        .map_err(|_| CommandError::new("bad_file", "berkas tidak dapat dibaca"))?;
    // Decoding and compressing take a while; the store stays unlocked meanwhile.
    let intake = tauri::async_runtime::spawn_blocking(move || {
        loket_scan::intake(&bytes, &loket_scan::IntakeLimits::default())
    })
    .await
    .map_err(|e| CommandError::new("scan", e.to_string()))?
    .map_err(|e| {
        CommandError::new(
            "bad_file",
            match lang {
                Lang::Id => e.message_id(),
                Lang::En => e.message_en(),
            },
        )
    })?;
    let mut store = lock(&desk)?;
    let stored = store_intake(&mut store, &intake, Local::now().fixed_offset())?;
    Ok(ScanView {
        stored_bytes: stored.iter().map(|p| p.size).sum(),
        pages: stored.into_iter().map(|p| p.sha256).collect(),
        original_bytes: intake.original_bytes,
        thumbnail: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&intake.thumbnail_png)
        ),
        skew_degrees: intake.pages.first().map_or(0.0, |p| p.skew_degrees),
    })
}

/// Records in the audit log that the operator looked residents up by `text` (a NIK, a name, a
/// number). Searches shorter than 3 characters reveal nobody and are not recorded.
pub fn audit_lookup(store: &mut crate::commands::StoreGuard<'_>, text: Option<&str>) -> Result<()> {
    let Some(text) = text.map(str::trim).filter(|t| t.chars().count() >= 3) else {
        return Ok(());
    };
    let operator = store.operator_name();
    store.audit(
        &operator,
        loket_store::AuditAction::Viewed,
        text,
        Local::now().fixed_offset(),
    )?;
    Ok(())
}

/// People already known on this laptop matching a NIK prefix, a name part or a Nomor KK, so
/// the operator picks instead of retyping.
#[tauri::command]
pub fn find_residents(desk: State<'_, Desk>, text: String) -> Result<Vec<Resident>> {
    let mut store = lock(&desk)?;
    let found = store.find_residents(&text, 20)?;
    if !found.is_empty() {
        audit_lookup(&mut store, Some(&text))?;
    }
    Ok(found)
}

/// Everyone known on this laptop under one family card.
#[tauri::command]
pub fn household(desk: State<'_, Desk>, nomor_kk: String) -> Result<Vec<Resident>> {
    let mut store = lock(&desk)?;
    let found = store.household(&nomor_kk)?;
    if !found.is_empty() {
        audit_lookup(&mut store, Some(&nomor_kk))?;
    }
    Ok(found)
}
