//! Loket's village desktop app. This crate is an adapter: each command takes the shared state,
//! calls one library function, and turns the result into a view for `ui/`. No rule lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod apply;
mod camera;
mod commands;
mod outbox;
mod usb;
mod views;

use anyhow::Context;
use loket_domain::{Lang, RegionCode};
use loket_store::{DatabaseKey, DeviceIdentity, Keyring, Operator, VillageStore};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tauri::Manager;

/// Everything the commands share.
pub struct Desk {
    /// Locked or unlocked; commands hold the lock only for short local work, never across
    /// network IO.
    pub session: Mutex<Session>,
    /// Path of the store, so sync can open its own connection and leave the UI responsive.
    pub db_path: PathBuf,
    /// Where receipts and documents are written for printing.
    pub data_dir: PathBuf,
    /// This laptop's village and device number: `device.json` once the first run set it, else
    /// the default offered on the first-run screen (`LOKET_VILLAGE`, `LOKET_DEVICE`).
    pub device: std::sync::RwLock<DeviceIdentity>,
    /// Where the first run records the village and device number.
    pub device_path: PathBuf,
    /// Display name offered on the first-run screen (`LOKET_OPERATOR`).
    pub default_operator: String,
    /// Commands are refused after this long without one (`LOKET_IDLE_MINUTES`, default 10).
    pub idle_limit: Duration,
    /// `LOKET_DEMO=1`: seed demo applications once an operator has unlocked the store.
    pub demo: bool,
}

/// The operators and, while someone is logged in, the open store.
pub struct Session {
    /// Operators and their wrapped copies of the database key (`operators.json`).
    pub keyring: Keyring,
    /// `None` while locked: no connection and no key in memory.
    pub unlocked: Option<Unlocked>,
    /// Last language used, so the lock screen keeps speaking it.
    pub lang: Lang,
}

/// An open store and who opened it.
pub struct Unlocked {
    /// The decrypted store.
    pub store: VillageStore,
    /// The key, for sync's own connection. Never sent to `ui/`.
    pub key: DatabaseKey,
    /// Recorded on applications and audit entries.
    pub operator: Operator,
    /// When the last command ran, for the idle lock.
    pub last_active: Instant,
}

impl Desk {
    /// The back office URL: the operator's setting, else `LOKET_SERVER_URL`, else localhost.
    pub fn server_url(&self, store: &VillageStore) -> String {
        store
            .setting("server_url")
            .ok()
            .flatten()
            .or_else(|| std::env::var("LOKET_SERVER_URL").ok())
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_string())
    }

    /// This laptop's village and device number as currently set.
    pub fn device(&self) -> DeviceIdentity {
        self.device
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The UI language the operator chose (Bahasa Indonesia by default).
    pub fn lang(&self, store: &VillageStore) -> Lang {
        match store.setting("lang").ok().flatten().as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Id,
        }
    }
}

/// `device.json`: which village this laptop serves and its number there, set on the first run.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DeviceFile {
    /// Ten-digit desa/kelurahan code.
    pub village_code: String,
    /// Device number within the village (1–999), part of every tracking number.
    pub device_no: u16,
}

impl DeviceFile {
    /// Reads the file if the first run wrote it.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Option<DeviceFile>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The identity it names, checked against the 2025 region table.
    pub fn identity(&self) -> anyhow::Result<DeviceIdentity> {
        anyhow::ensure!(
            (1..=999).contains(&self.device_no),
            "device_no must be 1–999"
        );
        Ok(DeviceIdentity {
            village: RegionCode::parse_village(&self.village_code)?,
            device_no: self.device_no,
        })
    }

    /// Writes the file atomically (temporary file, then rename), so a crash leaves the old one.
    pub fn save(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn open_desk(default_data_dir: PathBuf) -> anyhow::Result<Desk> {
    let data_dir = std::env::var_os("LOKET_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or(default_data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let device_path = data_dir.join("device.json");
    let device = match DeviceFile::load(&device_path)? {
        Some(file) => file.identity().context("device.json")?,
        None => DeviceIdentity {
            village: RegionCode::parse_village(&env_or("LOKET_VILLAGE", "7315012003"))
                .context("LOKET_VILLAGE")?,
            device_no: env_or("LOKET_DEVICE", "1")
                .parse()
                .context("LOKET_DEVICE must be a number 1–999")?,
        },
    };
    let db_path = data_dir.join("village.sqlite");
    let keyring_path = Keyring::path_for_store(&db_path);
    let keyring = Keyring::load(&keyring_path)
        .with_context(|| format!("reading {}", keyring_path.display()))?;
    let idle_minutes: f64 = env_or("LOKET_IDLE_MINUTES", "10")
        .parse()
        .ok()
        .filter(|m: &f64| m.is_finite() && *m > 0.0)
        .context("LOKET_IDLE_MINUTES must be a positive number")?;
    // The app starts locked: the store is opened by the first login.
    Ok(Desk {
        session: Mutex::new(Session {
            keyring,
            unlocked: None,
            lang: Lang::Id,
        }),
        db_path,
        data_dir,
        device: std::sync::RwLock::new(device),
        device_path,
        default_operator: env_or("LOKET_OPERATOR", "Operator Desa"),
        idle_limit: Duration::from_secs_f64(idle_minutes * 60.0),
        demo: std::env::var("LOKET_DEMO").is_ok_and(|v| v == "1"),
    })
}

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let default_dir = app
                .path()
                .app_data_dir()
                .context("no data directory for this user")?;
            let desk = open_desk(default_dir)?;
            commands::demo_first_run(&desk)?;
            app.manage(desk);
            if let Some(window) = app.get_webview_window("main") {
                camera::enable_camera(&window)?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session_state,
            commands::create_first_operator,
            commands::login,
            usb::removable_drives,
            usb::export_bundle,
            commands::village_name,
            commands::logout,
            commands::add_operator,
            commands::app_info,
            commands::set_settings,
            commands::check_form,
            apply::catalogue_view,
            apply::check_application,
            apply::submit_application,
            apply::correct_application,
            apply::application_form,
            apply::scan_thumbnail,
            apply::attach_scan,
            apply::find_residents,
            apply::household,
            commands::list_applications,
            commands::render_receipt,
            commands::render_document,
            commands::open_path,
            commands::sync_now,
            outbox::outbox_items,
            outbox::retry_now,
            outbox::sync_lanes,
            commands::enroll_device,
            commands::verify_application_document,
            commands::verify_bytes,
        ])
        .run(tauri::generate_context!())
        .expect("Loket could not start its window");
}
