//! Tauri commands: one per UI action, each a thin call into the library crates.

use base64::Engine;
use chrono::Local;
use loket_domain::{validate_applicant, ApplicantForm, Lang};
use loket_store::{AuditAction, DeviceIdentity, KdfParams, Operator, VillageStore};
use loket_sync::protocol::DeviceRef;
use loket_sync::{SyncClient, SyncError};
use serde::Serialize;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::MutexGuard;
use std::time::Instant;
use tauri::{AppHandle, Emitter, State};
use uuid::Uuid;

use crate::views::{self, ApplicationView, CheckView, CommandError, VerifyView};
use crate::{Desk, Session, Unlocked};

type Result<T> = std::result::Result<T, CommandError>;

fn session(desk: &Desk) -> Result<MutexGuard<'_, Session>> {
    desk.session
        .lock()
        .map_err(|_| CommandError::new("store", "basis data lokal terkunci; mulai ulang aplikasi"))
}

fn locked_error(lang: Lang) -> CommandError {
    CommandError::new(
        "locked",
        match lang {
            Lang::Id => "Sesi terkunci; silakan masuk kembali.",
            Lang::En => "Session locked; please log in again.",
        },
    )
}

/// Drops the open store (and its key) when the idle limit has passed since the last command.
fn expire_if_idle(desk: &Desk, s: &mut Session) {
    if s.unlocked
        .as_ref()
        .is_some_and(|u| u.last_active.elapsed() > desk.idle_limit)
    {
        s.unlocked = None;
    }
}

/// The unlocked store, borrowed for one command. Derefs to the store.
pub struct StoreGuard<'a>(MutexGuard<'a, Session>);

impl StoreGuard<'_> {
    fn unlocked(&self) -> &Unlocked {
        self.0
            .unlocked
            .as_ref()
            .expect("lock() checked the session is unlocked")
    }

    /// The logged-in operator's display name, recorded on applications and audit entries.
    pub(crate) fn operator_name(&self) -> String {
        self.unlocked().operator.display_name.clone()
    }
}

impl Deref for StoreGuard<'_> {
    type Target = VillageStore;
    fn deref(&self) -> &VillageStore {
        &self.unlocked().store
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut VillageStore {
        &mut self
            .0
            .unlocked
            .as_mut()
            .expect("lock() checked the session is unlocked")
            .store
    }
}

/// The open store, or `locked` when nobody is logged in or the session sat idle too long.
pub(crate) fn lock(desk: &Desk) -> Result<StoreGuard<'_>> {
    let mut s = session(desk)?;
    expire_if_idle(desk, &mut s);
    match s.unlocked.as_mut() {
        None => Err(locked_error(s.lang)),
        Some(u) => {
            u.last_active = Instant::now();
            Ok(StoreGuard(s))
        }
    }
}

/// The open store like [`lock`], without renewing the idle timer: for the window's own
/// timers (an automatic sync pass), which must not keep an unattended session open.
pub(crate) fn lock_passive(desk: &Desk) -> Result<StoreGuard<'_>> {
    let mut s = session(desk)?;
    expire_if_idle(desk, &mut s);
    match s.unlocked {
        None => Err(locked_error(s.lang)),
        Some(_) => Ok(StoreGuard(s)),
    }
}

/// Who may use the window now, for the first-run and login screens.
#[derive(Serialize)]
pub struct SessionView {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    operator: Option<Operator>,
    lang: Lang,
    default_display_name: String,
    idle_minutes: f64,
    /// The village offered (first run) or set, 10 digits.
    village_code: String,
    /// Its name, so the operator sees at once whether the code is theirs.
    village_name: String,
    /// The device number offered or set.
    device_no: u16,
}

fn session_view(desk: &Desk, s: &Session) -> SessionView {
    SessionView {
        state: if s.unlocked.is_some() {
            "unlocked"
        } else if s.keyring.is_empty() {
            "first_run"
        } else {
            "locked"
        },
        operator: s.unlocked.as_ref().map(|u| u.operator.clone()),
        lang: s.lang,
        default_display_name: desk.default_operator.clone(),
        idle_minutes: desk.idle_limit.as_secs_f64() / 60.0,
        village_code: desk.device().village.digits().to_string(),
        village_name: village_label(&desk.device().village),
        device_no: desk.device().device_no,
    }
}

/// Opens the store with an unwrapped key and makes `operator` the session's operator.
fn unlock_with(
    desk: &Desk,
    s: &mut Session,
    key: loket_store::DatabaseKey,
    operator: Operator,
) -> Result<()> {
    let mut store = VillageStore::open_encrypted(&desk.db_path, &key)?;
    if desk.demo {
        seed_demo(&mut store, &desk.device(), &operator.display_name)
            .map_err(|e| CommandError::new("store", e.to_string()))?;
        demo_enroll(desk, &store, &key);
    }
    s.lang = desk.lang(&store);
    s.unlocked = Some(Unlocked {
        store,
        key,
        operator,
        last_active: Instant::now(),
    });
    Ok(())
}

/// `LOKET_DEMO=1` with `LOKET_ENROLL_CODE` (set by `scripts/run-app` from the code `loket serve
/// --demo` wrote): enrolls a laptop that is not enrolled yet, on its own thread and connection so
/// the window opens at once. Demo mode only; the outcome goes to the log.
fn demo_enroll(desk: &Desk, store: &VillageStore, key: &loket_store::DatabaseKey) {
    let Some(code) = std::env::var("LOKET_ENROLL_CODE")
        .ok()
        .filter(|c| !c.trim().is_empty())
    else {
        return;
    };
    if matches!(loket_sync::auth::device_signer(store), Ok(Some(_))) {
        return;
    }
    let (url, db_path, key) = (desk.server_url(store), desk.db_path.clone(), key.clone());
    let device = device_ref(desk);
    std::thread::spawn(move || {
        let outcome = VillageStore::open_encrypted(&db_path, &key)
            .map_err(SyncError::from)
            .and_then(|store| {
                loket_sync::auth::enroll(&url, &store, &code, &device, &mut rand::rngs::OsRng)
            });
        match outcome {
            Ok(answer) => eprintln!("Loket demo: {}", answer.message),
            Err(e) => eprintln!("Loket demo: enrollment with LOKET_ENROLL_CODE failed: {e}"),
        }
    });
}

fn device_ref(desk: &Desk) -> DeviceRef {
    let device = desk.device();
    DeviceRef {
        village_code: device.village.digits().to_string(),
        device_no: device.device_no,
    }
}

/// User name of the operator demo mode creates on a fresh laptop.
pub const DEMO_USERNAME: &str = "demo";
/// Password of the demo operator; printed by `scripts/run-app` and the README. Demo mode only.
pub const DEMO_PASSWORD: &str = "loket-demo-1";

/// `LOKET_DEMO=1` on a laptop with no operators yet: create the demo operator and open the app
/// with demo data, so `scripts/run-app` shows a working counter at once. Never runs otherwise.
pub fn demo_first_run(desk: &Desk) -> anyhow::Result<()> {
    let mut s = desk
        .session
        .lock()
        .map_err(|_| anyhow::anyhow!("session lock poisoned"))?;
    if !desk.demo || !s.keyring.is_empty() || desk.db_path.exists() {
        return Ok(());
    }
    let (key, operator) = s
        .keyring
        .create_first_operator(
            DEMO_USERNAME,
            &desk.default_operator,
            DEMO_PASSWORD,
            KdfParams::default(),
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?;
    unlock_with(desk, &mut s, key, operator).map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(())
}

/// Whether the window shows the first-run form, the login form, or the app.
#[tauri::command]
pub fn session_state(desk: State<'_, Desk>) -> Result<SessionView> {
    let mut s = session(&desk)?;
    expire_if_idle(&desk, &mut s);
    Ok(session_view(&desk, &s))
}

/// First start: creates the database key, the first operator and the encrypted store, and
/// unlocks it. Refused once any operator exists.
#[tauri::command]
pub async fn create_first_operator(
    desk: State<'_, Desk>,
    username: String,
    display_name: String,
    password: String,
    village_code: Option<String>,
    device_no: Option<u16>,
) -> Result<SessionView> {
    let mut s = session(&desk)?;
    let lang = s.lang;
    // The village and device number go into every tracking number: fix them before any data.
    let current = desk.device();
    let device = match village_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => loket_domain::RegionCode::parse_village(code)
            .map(|village| DeviceIdentity {
                village,
                device_no: device_no.unwrap_or(current.device_no),
            })
            .map_err(|_| {
                CommandError::new(
                    "village",
                    match lang {
                        Lang::Id => "Kode desa tidak dikenal: masukkan 10 angka kode desa/kelurahan (Kepmendagri 2025).",
                        Lang::En => "Unknown village code: enter the 10-digit desa/kelurahan code (2025 decree).",
                    },
                )
            })?,
        _ => DeviceIdentity {
            device_no: device_no.unwrap_or(current.device_no),
            ..current
        },
    };
    if !(1..=999).contains(&device.device_no) {
        return Err(CommandError::new(
            "village",
            match lang {
                Lang::Id => "Nomor perangkat harus 1–999.",
                Lang::En => "The device number must be 1–999.",
            },
        ));
    }
    if !s.keyring.is_empty() {
        return Err(CommandError::new(
            "operator",
            loket_store::KeyringError::AlreadyInitialised.message(lang),
        ));
    }
    // A store without a keyring must be a plain one from before accounts; an encrypted one means
    // operators.json was lost, and a new key would only lock the data away for good.
    let plain_store = match std::fs::File::open(&desk.db_path) {
        Ok(mut f) => {
            let mut head = [0u8; 16];
            use std::io::Read;
            f.read_exact(&mut head).is_err() || &head == b"SQLite format 3\0"
        }
        Err(_) => false,
    };
    if desk.db_path.exists() && !plain_store {
        return Err(CommandError::new(
            "operator",
            match lang {
                Lang::Id => "village.sqlite terenkripsi tetapi operators.json tidak ada; pulihkan operators.json dari cadangan.",
                Lang::En => "village.sqlite is encrypted but operators.json is missing; restore operators.json from a backup.",
            },
        ));
    }
    let (key, operator) = s
        .keyring
        .create_first_operator(
            &username,
            &display_name,
            &password,
            KdfParams::default(),
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| CommandError::new("operator", e.message(lang)))?;
    // A store made before operator accounts existed is plain SQLite: encrypt it in place.
    if plain_store {
        VillageStore::encrypt_plain_file(&desk.db_path, &key)?;
    }
    crate::DeviceFile {
        village_code: device.village.digits().to_string(),
        device_no: device.device_no,
    }
    .save(&desk.device_path)
    .map_err(|e| CommandError::new("store", e.to_string()))?;
    *desk.device.write().unwrap_or_else(|e| e.into_inner()) = device;
    unlock_with(&desk, &mut s, key, operator)?;
    Ok(session_view(&desk, &s))
}

fn village_label(v: &loket_domain::RegionCode) -> String {
    let regency = loket_domain::region_name(&v.regency_dotted()).unwrap_or("");
    format!("{}, {regency}", v.name())
}

/// Names a village code while the operator types it on the first-run screen (no login needed:
/// the region table is public data).
#[tauri::command]
pub fn village_name(code: String) -> Option<String> {
    loket_domain::RegionCode::parse_village(code.trim())
        .ok()
        .map(|v| village_label(&v))
}

/// Unlocks the store with an operator's user name and password.
#[tauri::command]
pub async fn login(
    desk: State<'_, Desk>,
    username: String,
    password: String,
) -> Result<SessionView> {
    let mut s = session(&desk)?;
    let lang = s.lang;
    let (key, operator) = s
        .keyring
        .unlock(&username, &password)
        .map_err(|e| CommandError::new("login", e.message(lang)))?;
    unlock_with(&desk, &mut s, key, operator)?;
    Ok(session_view(&desk, &s))
}

/// Locks the window: closes the store and forgets the key.
#[tauri::command]
pub fn logout(desk: State<'_, Desk>) -> Result<SessionView> {
    let mut s = session(&desk)?;
    s.unlocked = None;
    Ok(session_view(&desk, &s))
}

/// Adds another operator who can unlock the same store; needs an unlocked session.
#[tauri::command]
pub async fn add_operator(
    desk: State<'_, Desk>,
    username: String,
    display_name: String,
    password: String,
) -> Result<Operator> {
    let mut guard = lock(&desk)?;
    let lang = guard.0.lang;
    let key = guard.unlocked().key.clone();
    guard
        .0
        .keyring
        .add_operator(
            &key,
            &username,
            &display_name,
            &password,
            KdfParams::default(),
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| CommandError::new("operator", e.message(lang)))
}

fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| CommandError::new("not_found", "permohonan tidak ditemukan"))
}

/// Who and where this laptop is, for the top bar and settings.
#[derive(Serialize)]
pub struct AppInfo {
    village_code: String,
    village_name: &'static str,
    regency_name: &'static str,
    device_no: u16,
    server_url: String,
    operator: String,
    version: &'static str,
    lang: Lang,
    data_dir: String,
    /// Whether this laptop holds an enrolled device key (sync needs one).
    device_enrolled: bool,
    /// When the back office enrolled it, RFC 3339.
    enrolled_at: Option<String>,
}

fn info(desk: &Desk, store: &StoreGuard<'_>) -> AppInfo {
    let operator = store.operator_name();
    let device = desk.device();
    let store: &VillageStore = store;
    let enrolled = loket_sync::auth::device_signer(store)
        .ok()
        .flatten()
        .and_then(|_| loket_sync::auth::enrollment(store).ok().flatten());
    AppInfo {
        village_code: device.village.dotted(),
        village_name: device.village.name(),
        regency_name: loket_domain::region_name(&device.village.regency_dotted()).unwrap_or(""),
        device_no: device.device_no,
        server_url: desk.server_url(store),
        operator,
        version: env!("CARGO_PKG_VERSION"),
        lang: desk.lang(store),
        data_dir: desk.data_dir.display().to_string(),
        device_enrolled: enrolled.is_some(),
        enrolled_at: enrolled.map(|e| e.enrolled_at.to_rfc3339()),
    }
}

/// Tells the top bar and settings screen which village, device and server this is.
#[tauri::command]
pub fn app_info(desk: State<'_, Desk>) -> Result<AppInfo> {
    let store = lock(&desk)?;
    Ok(info(&desk, &store))
}

/// Saves the server address and language the operator chose, so they survive restarts.
#[tauri::command]
pub fn set_settings(desk: State<'_, Desk>, server_url: String, lang: Lang) -> Result<AppInfo> {
    let url = server_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CommandError::new(
            "settings",
            "alamat server harus diawali http:// atau https://",
        ));
    }
    let mut store = lock(&desk)?;
    store.set_setting("server_url", url)?;
    store.set_setting("lang", if lang == Lang::En { "en" } else { "id" })?;
    store.0.lang = lang;
    Ok(info(&desk, &store))
}

/// Checks the form while the operator types, so mistakes show beside the field at once.
#[tauri::command]
pub fn check_form(desk: State<'_, Desk>, form: ApplicantForm) -> Result<CheckView> {
    let lang = desk.lang(&*lock(&desk)?);
    let report = validate_applicant(&form, Local::now().date_naive());
    Ok(views::check_view(&report, lang))
}

/// Lists the applications on this laptop matching the operator's search, newest first.
#[tauri::command]
pub fn list_applications(
    desk: State<'_, Desk>,
    query: Option<loket_store::ApplicationQuery>,
) -> Result<Vec<ApplicationView>> {
    let mut store = lock(&desk)?;
    let lang = desk.lang(&store);
    let cat = crate::apply::active_catalogue(&store);
    let query = query.unwrap_or_default();
    crate::apply::audit_lookup(&mut store, query.text.as_deref())?;
    Ok(store
        .search(&query)?
        .iter()
        .map(|a| views::application_view(a, &cat, lang))
        .collect())
}

/// Where a written PDF is, for the UI to show and open.
#[derive(Serialize)]
pub struct PdfPath {
    pdf_path: String,
}

fn write_pdf(desk: &Desk, folder: &str, name: &str, bytes: &[u8]) -> Result<PdfPath> {
    let dir = desk.data_dir.join(folder);
    let path = dir.join(format!("{name}.pdf"));
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&path, bytes))
        .map_err(|e| CommandError::new("print", format!("PDF tidak dapat disimpan: {e}")))?;
    Ok(PdfPath {
        pdf_path: path.display().to_string(),
    })
}

/// Which paper the receipt is printed on.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptPaper {
    /// A5/A4 office printer.
    #[default]
    Office,
    /// 58 mm thermal roll, common on service days.
    Thermal58,
}

/// Writes the receipt PDF the resident takes home, on office paper or a 58 mm roll.
#[tauri::command]
pub fn render_receipt(
    desk: State<'_, Desk>,
    id: String,
    paper: Option<ReceiptPaper>,
) -> Result<PdfPath> {
    let mut store = lock(&desk)?;
    let app = store.application(parse_id(&id)?)?;
    let operator = store.operator_name();
    store.audit(
        &operator,
        AuditAction::PrintedReceipt,
        &app.id.to_string(),
        Local::now().fixed_offset(),
    )?;
    let cat = crate::apply::active_catalogue(&store);
    drop(store);
    let d = &app.data;
    let service = cat.service(app.service.code());
    let sla_working_days = service.map_or(0, |s| s.sla_working_days);
    let requirements = service
        .map(|s| receipt_requirements(s, &cat, &app))
        .unwrap_or_default();
    // No holiday data for the period means no promised date, never a wrong one.
    let expected_completion = loket_calendar::HolidayCalendar::national()
        .add_working_days(app.captured_at.date_naive(), sla_working_days)
        .ok();
    let receipt = loket_print::ReceiptData {
        tracking_number: app.tracking_number.clone(),
        service_label: cat.service_name(app.service.code(), Lang::Id),
        catalogue_version: app.catalogue_version.clone(),
        details: service
            .map(|s| s.describe_fields(&app.fields, Lang::Id))
            .unwrap_or_default(),
        requirements,
        nik: d.nik.to_string(),
        full_name: d.full_name.clone(),
        birth_place: d.birth_place.clone(),
        birth_date: d.birth_date,
        sex_label: d.sex.label(Lang::Id).to_string(),
        address: d.address.clone(),
        phone: d.phone.clone(),
        village_name: format!(
            "{} ({})",
            desk.device().village.name(),
            desk.device().village.dotted()
        ),
        operator: app.operator.clone(),
        captured_at: app.captured_at.naive_local(),
        sla_working_days,
        expected_completion,
        revision: app.revision,
    };
    let paper = paper.unwrap_or_default();
    let pdf = match paper {
        ReceiptPaper::Office => loket_print::render_receipt(&receipt),
        ReceiptPaper::Thermal58 => loket_print::render_receipt_thermal(&receipt),
    }
    .map_err(|e| CommandError::new("print", e.message_id()))?;
    let name = match paper {
        ReceiptPaper::Office => app.tracking_number.clone(),
        ReceiptPaper::Thermal58 => format!("{}-58mm", app.tracking_number),
    };
    write_pdf(&desk, "receipts", &name, &pdf)
}

/// The checklist as the receipt prints it: each requirement and what was handed in for it.
fn receipt_requirements(
    service: &loket_catalogue::Service,
    cat: &loket_catalogue::Catalogue,
    app: &loket_store::StoredApplication,
) -> Vec<loket_print::ReceiptRequirement> {
    let provided: std::collections::BTreeSet<String> =
        app.provided.iter().map(|p| p.slot.clone()).collect();
    let mut form = app.fields.clone();
    form.insert("birth_date".into(), app.data.birth_date.to_string());
    let checklist = service.checklist(&provided, &form, app.captured_at.date_naive());
    let mut rows: Vec<_> = checklist
        .satisfied
        .iter()
        .chain(&checklist.missing)
        .map(|r| {
            let used: Vec<String> = r
                .satisfied_by
                .and_then(|i| r.alternatives.get(i))
                .map(|docs| {
                    docs.iter()
                        .map(|d| match d.needed {
                            1 => cat.slot_label(&d.document_id, Lang::Id),
                            // "2 saksi (dengan KTP-el)", as the catalogue words a count.
                            _ => d.describe(Lang::Id),
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                r.id.clone(),
                loket_print::ReceiptRequirement {
                    label: r.label(Lang::Id).to_string(),
                    provided: used,
                    satisfied: r.satisfied_by.is_some(),
                },
            )
        })
        .collect();
    rows.sort_by_key(|(id, _)| service.requirements.iter().position(|r| &r.id == id));
    rows.into_iter().map(|(_, r)| r).collect()
}

/// Writes the signed document received from the back office, for printing.
#[tauri::command]
pub fn render_document(desk: State<'_, Desk>, id: String) -> Result<PdfPath> {
    let store = lock(&desk)?;
    let id = parse_id(&id)?;
    let app = store.application(id)?;
    let pdf = store
        .document_pdf(id)?
        .ok_or_else(|| CommandError::new("not_found", "dokumen belum diterima; sinkronkan dulu"))?;
    drop(store);
    let name = app
        .document
        .map(|d| d.doc_number)
        .unwrap_or(app.tracking_number);
    write_pdf(&desk, "documents", &name, &pdf)
}

/// Opens a PDF Loket wrote with the system viewer, from which the operator prints.
#[tauri::command]
pub fn open_path(desk: State<'_, Desk>, path: String) -> Result<()> {
    let path = PathBuf::from(path);
    // Only files Loket wrote itself may be opened from the UI.
    if !path.starts_with(&desk.data_dir) || !path.is_file() {
        return Err(CommandError::new("open", "berkas tidak ditemukan"));
    }
    let opener = std::env::var("LOKET_OPEN_COMMAND").unwrap_or_else(|_| {
        if cfg!(target_os = "windows") {
            "explorer".into()
        } else if cfg!(target_os = "macos") {
            "open".into()
        } else {
            "xdg-open".into()
        }
    });
    std::process::Command::new(&opener)
        .arg(&path)
        .spawn()
        .map(|_| ())
        .map_err(|e| {
            CommandError::new(
                "open",
                format!(
                    "PDF tidak dapat dibuka ({opener}: {e}); buka manual: {}",
                    path.display()
                ),
            )
        })
}

/// What an enrollment attempt did, worded for the operator (`#enroll-status`).
#[derive(Serialize)]
pub struct EnrollView {
    ok: bool,
    message: String,
}

/// Enrolls this laptop with the one-time code from the district (Settings screen): a new device
/// key is made and kept in the encrypted store, its public half goes to the back office.
#[tauri::command]
pub async fn enroll_device(desk: State<'_, Desk>, code: String) -> Result<EnrollView> {
    let (url, lang, key) = {
        let store = lock(&desk)?;
        (
            desk.server_url(&store),
            desk.lang(&store),
            store.unlocked().key.clone(),
        )
    };
    if loket_sync::auth::normalize_code(&code).is_empty() {
        return Ok(EnrollView {
            ok: false,
            message: match lang {
                Lang::Id => "Masukkan kode pendaftaran dari Disdukcapil.".into(),
                Lang::En => "Enter the enrollment code from the back office.".into(),
            },
        });
    }
    let db_path = desk.db_path.clone();
    let device = device_ref(&desk);
    // Network IO on a worker thread with its own connection, as sync does.
    let outcome = tauri::async_runtime::spawn_blocking(move || {
        let store = VillageStore::open_encrypted(&db_path, &key)?;
        loket_sync::auth::enroll(&url, &store, &code, &device, &mut rand::rngs::OsRng)
    })
    .await
    .map_err(|e| CommandError::new("enroll", e.to_string()))?;
    Ok(match outcome {
        Ok(answer) => EnrollView {
            ok: true,
            message: match lang {
                Lang::Id => format!(
                    "Perangkat {} terdaftar di Disdukcapil. Sinkronisasi siap dipakai.",
                    answer.device.to_header()
                ),
                Lang::En => format!(
                    "Device {} is enrolled with the back office. Sync is ready.",
                    answer.device.to_header()
                ),
            },
        },
        Err(e) => EnrollView {
            ok: false,
            message: sync_error_message(&e, lang),
        },
    })
}

/// What one sync pass did, worded for the operator.
#[derive(Serialize)]
pub struct SyncView {
    ok: bool,
    message: String,
    sent: usize,
    updated: usize,
    documents: usize,
    /// Each lane's end, in pass order (`#lane-<lane>`), as its last `sync-progress` said.
    lanes: Vec<crate::outbox::LaneView>,
    /// Items still to be sent after the pass, and items refused for good.
    waiting: usize,
    held: usize,
}

/// Runs one sync pass and says in plain words what happened. Every lane's progress goes to the
/// window as it happens: event `sync-progress`, payload `loket_sync::LaneProgress`
/// (`{lane, state, done, total, message}`). `automatic`: the window's retry timer, not the
/// operator: lanes that failed last time wait their backoff, and the idle lock is not renewed.
#[tauri::command]
pub async fn sync_now(
    app: AppHandle,
    desk: State<'_, Desk>,
    automatic: Option<bool>,
) -> Result<SyncView> {
    let automatic = automatic.unwrap_or(false);
    let (url, lang, key, operator) = {
        let store = if automatic {
            lock_passive(&desk)?
        } else {
            lock(&desk)?
        };
        (
            desk.server_url(&store),
            desk.lang(&store),
            store.unlocked().key.clone(),
            store.operator_name(),
        )
    };
    let Some(running) = crate::outbox::PassGuard::acquire() else {
        return Err(CommandError::new(
            "sync_busy",
            match lang {
                Lang::Id => "Sinkronisasi sedang berjalan; tunggu hingga selesai.",
                Lang::En => "A sync is already running; wait for it to finish.",
            },
        ));
    };
    let db_path = desk.db_path.clone();
    let device = device_ref(&desk);
    let trigger = if automatic {
        loket_sync::Trigger::Automatic
    } else {
        loket_sync::Trigger::Manual
    };
    // Sync uses its own connection on a worker thread, so the UI stays usable meanwhile.
    let (outcome, lanes) = tauri::async_runtime::spawn_blocking(move || {
        let _running = running;
        let mut lanes: Vec<loket_sync::LaneProgress> = Vec::new();
        let mut progress = |p: &loket_sync::LaneProgress| {
            let _ = app.emit("sync-progress", p);
            match lanes.iter_mut().find(|l| l.lane == p.lane) {
                Some(l) => *l = p.clone(),
                None => lanes.push(p.clone()),
            }
        };
        let outcome = (|| {
            let mut store = VillageStore::open_encrypted(&db_path, &key)?;
            let client = SyncClient::for_store(&url, &store)?;
            let now = chrono::Utc::now;
            let mut rng = rand::thread_rng();
            let mut env = loket_sync::SyncEnv {
                now: &now,
                rng: &mut rng,
                trigger,
            };
            let outcome = match loket_sync::sync_pass(
                &mut store,
                &client,
                &device,
                &mut env,
                &mut progress,
            ) {
                (_, Some(stopped)) => Err(stopped),
                (report, None) => Ok(report),
            };
            // Data minimisation: scans the district has held past its retention period go
            // (audited); the period is the district's, from its signed catalogue. A failure
            // here never hides the sync outcome.
            if let Some(days) = crate::apply::active_catalogue(&store).scan_retention_days() {
                let _ = store.set_setting(loket_store::SCAN_RETENTION_SETTING, &days.to_string());
            }
            if let Err(e) = store.purge_uploaded_scans(Local::now().fixed_offset(), &operator) {
                eprintln!("purging held scans failed: {e}");
            }
            outcome
        })();
        (outcome, lanes)
    })
    .await
    .map_err(|e| CommandError::new("sync", e.to_string()))?;
    let lanes = lanes
        .iter()
        .map(|l| crate::outbox::lane_view(l, lang))
        .collect();
    Ok(match outcome {
        Ok(r) => SyncView {
            ok: !r
                .lanes
                .iter()
                .any(|l| l.state == loket_sync::LaneState::Failed),
            message: crate::outbox::pass_message(&r, lang),
            sent: r.sent,
            updated: r.updated,
            documents: r.documents,
            lanes,
            waiting: r.waiting,
            held: r.held,
        },
        Err(e) => SyncView {
            ok: false,
            message: sync_error_message(&e, lang),
            sent: 0,
            updated: 0,
            documents: 0,
            lanes,
            waiting: 0,
            held: 0,
        },
    })
}

fn sync_error_message(e: &SyncError, lang: Lang) -> String {
    match (e, lang) {
        (SyncError::Unreachable(_), Lang::Id) => {
            "Server Disdukcapil tidak dapat dihubungi. Permohonan tetap aman di laptop dan akan dikirim saat koneksi tersedia.".into()
        }
        (SyncError::Unreachable(_), Lang::En) => {
            "The back office cannot be reached. Applications stay safe on this laptop and will be sent when there is a connection.".into()
        }
        (SyncError::NotEnrolled, Lang::En) => {
            "This laptop is not enrolled with the back office yet; enter the enrollment code in Settings.".into()
        }
        (SyncError::Revoked, Lang::En) => {
            "The back office revoked this laptop; ask the district admin for a new enrollment code.".into()
        }
        (SyncError::ClockWrong { server_time }, Lang::En) => format!(
            "This laptop's clock is wrong{}; fix the date, time and time zone, then sync again.",
            server_time
                .map(|t| format!(" (back-office time: {} UTC)", t.format("%d-%m-%Y %H:%M")))
                .unwrap_or_default()
        ),
        (SyncError::CertificateProblem(_), Lang::En) => {
            "The back office's security certificate is not trusted; check the server address, the network and this laptop's clock, or call the district admin.".into()
        }
        (other, _) => other.to_string(),
    }
}

fn trust_list(store: &VillageStore) -> Option<loket_qr::TrustList> {
    let json = store
        .setting(loket_sync::client::TRUST_LIST_SETTING)
        .ok()
        .flatten()?;
    loket_qr::TrustList::from_json(&json).ok()
}

fn verify(desk: &Desk, bytes: &[u8]) -> Result<VerifyView> {
    let store = lock(desk)?;
    let lang = desk.lang(&store);
    let Some(trust) = trust_list(&store) else {
        return Err(CommandError::new(
            "no_trust_list",
            match lang {
                Lang::Id => {
                    "Belum ada kunci publik Disdukcapil di laptop ini; sinkronkan sekali dulu."
                }
                Lang::En => "This laptop has no back-office public keys yet; sync once first.",
            },
        ));
    };
    drop(store);
    let verdict = loket_print::verify_file_bytes(bytes, &trust);
    // Checking a document reveals whose it is: that is processing, so it is logged.
    if let loket_print::FileVerdict::Valid { verified, .. } = &verdict {
        let mut store = lock(desk)?;
        let operator = store.operator_name();
        store.audit(
            &operator,
            AuditAction::Verified,
            &verified.claims.doc_number,
            Local::now().fixed_offset(),
        )?;
    }
    Ok(views::verify_view(verdict, lang))
}

/// Verifies a received document with the same verifier anyone uses.
#[tauri::command]
pub fn verify_application_document(desk: State<'_, Desk>, id: String) -> Result<VerifyView> {
    let pdf = lock(&desk)?
        .document_pdf(parse_id(&id)?)?
        .ok_or_else(|| CommandError::new("not_found", "dokumen belum diterima; sinkronkan dulu"))?;
    verify(&desk, &pdf)
}

/// Verifies a chosen file (PDF, PNG, JPEG) offline against the stored trust list.
#[tauri::command]
pub fn verify_bytes(
    desk: State<'_, Desk>,
    name: String,
    bytes_base64: String,
) -> Result<VerifyView> {
    let _ = name; // Shown by the UI; the verdict depends on the content only.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(bytes_base64.trim())
        .map_err(|_| CommandError::new("bad_file", "berkas tidak dapat dibaca"))?;
    verify(&desk, &bytes)
}

/// Adds two local demo applications when the laptop has none, for `scripts/run-app`.
pub fn seed_demo(
    store: &mut VillageStore,
    device: &DeviceIdentity,
    operator: &str,
) -> anyhow::Result<()> {
    if !store.applications()?.is_empty() {
        return Ok(());
    }
    let now = Local::now().fixed_offset();
    // A specimen family card (marked as such) stands in for the resident's paper.
    let intake = loket_scan::intake(
        include_bytes!("../../assets/demo/contoh-kk.jpg"),
        &loket_scan::IntakeLimits::default(),
    )?;
    let kk_pages = crate::apply::store_intake(store, &intake, now)?;
    let people = [
        (
            "7315016708080001",
            "Andi Nurul Fadillah",
            "2008-08-27",
            "female",
            "belum_kawin",
        ),
        (
            "7315011502030005",
            "Baso Rahmat Hidayat",
            "2003-02-15",
            "male",
            "kawin",
        ),
    ];
    let service = loket_catalogue::catalogue()
        .service("ktp_el_baru")
        .ok_or_else(|| anyhow::anyhow!("the catalogue lost ktp_el_baru"))?;
    for (nik, name, date, sex, marital) in people {
        let form = ApplicantForm {
            nik: nik.into(),
            full_name: name.into(),
            birth_place: "Pinrang".into(),
            birth_date: date.into(),
            sex: sex.into(),
            address: "Dusun Massulowalie RT 001 RW 002".into(),
            phone: "081355501234".into(),
        };
        let fields = std::collections::BTreeMap::from([
            ("nomor_kk".to_string(), "7315011203150007".to_string()),
            ("marital_status".to_string(), marital.to_string()),
        ]);
        let slots = [
            loket_catalogue::SlotInput {
                slot: "kk".into(),
                pages: kk_pages.len(),
            },
            loket_catalogue::SlotInput {
                slot: "perekaman_biometrik".into(),
                pages: 0,
            },
        ];
        let check = service.check_application(&form, &fields, &slots, now.date_naive());
        let applicant = check
            .applicant
            .value
            .clone()
            .filter(|_| check.can_submit())
            .ok_or_else(|| anyhow::anyhow!("demo application for {name} does not pass"))?;
        let new = loket_store::NewApplication {
            service: loket_domain::ServiceCode::parse("ktp_el_baru")?,
            catalogue_version: loket_catalogue::catalogue().version().to_string(),
            applicant,
            fields: check.fields.values,
            provided: vec![
                loket_domain::ProvidedDocument {
                    slot: "kk".into(),
                    pages: kk_pages.clone(),
                },
                loket_domain::ProvidedDocument {
                    slot: "perekaman_biometrik".into(),
                    pages: Vec::new(),
                },
            ],
        };
        store.register(device, &new, operator, now, Uuid::now_v7())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use loket_store::Keyring;
    use rand::SeedableRng;
    use std::sync::Mutex;
    use std::time::Duration;

    fn desk(dir: &std::path::Path, idle: Duration) -> Desk {
        let db_path = dir.join("village.sqlite");
        Desk {
            session: Mutex::new(Session {
                keyring: Keyring::load(&Keyring::path_for_store(&db_path)).unwrap(),
                unlocked: None,
                lang: Lang::Id,
            }),
            db_path,
            data_dir: dir.to_path_buf(),
            device: std::sync::RwLock::new(DeviceIdentity {
                village: loket_domain::RegionCode::parse_village("7315012003").unwrap(),
                device_no: 1,
            }),
            device_path: dir.join("device.json"),
            default_operator: "Operator Desa".into(),
            idle_limit: idle,
            demo: true,
        }
    }

    fn first_operator(desk: &Desk) {
        let mut s = desk.session.lock().unwrap();
        let (key, op) = s
            .keyring
            .create_first_operator(
                "operator",
                "Operator Uji",
                "rahasia-desa-1",
                KdfParams::default(),
                &mut rand::rngs::StdRng::seed_from_u64(7),
            )
            .unwrap();
        unlock_with(desk, &mut s, key, op).unwrap();
    }

    #[test]
    fn starts_locked_seeds_demo_after_unlock_and_locks_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), Duration::from_millis(300));
        assert_eq!(
            session_view(&desk, &desk.session.lock().unwrap()).state,
            "first_run"
        );
        assert_eq!(lock(&desk).err().unwrap().code, "locked");

        first_operator(&desk);
        {
            let store = lock(&desk).unwrap();
            let apps = store.applications().unwrap();
            assert_eq!(apps.len(), 2, "LOKET_DEMO seeds after the first unlock");
            assert!(apps.iter().all(|a| a.operator == "Operator Uji"));
        }

        std::thread::sleep(Duration::from_millis(400));
        let err = lock(&desk).err().unwrap();
        assert_eq!(err.code, "locked");
        assert_eq!(err.message, "Sesi terkunci; silakan masuk kembali.");
        let s = desk.session.lock().unwrap();
        assert!(s.unlocked.is_none(), "the key is dropped when idle");
        assert_eq!(session_view(&desk, &s).state, "locked");
    }
}
