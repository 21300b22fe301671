//! Loket's village desktop app. This crate is an adapter: each command takes the shared state,
//! calls one library function, and turns the result into a view for `ui/`. No rule lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod views;

use anyhow::Context;
use loket_domain::{Lang, RegionCode};
use loket_store::{DeviceIdentity, VillageStore};
use std::path::PathBuf;
use std::sync::Mutex;
use tauri::Manager;

/// Everything the commands share.
pub struct Desk {
    /// The local store; commands hold the lock only for short local work, never across network IO.
    pub store: Mutex<VillageStore>,
    /// Path of the store, so sync can open its own connection and leave the UI responsive.
    pub db_path: PathBuf,
    /// Where receipts and documents are written for printing.
    pub data_dir: PathBuf,
    /// This laptop's village and device number.
    pub device: DeviceIdentity,
    /// Operator recorded on each application.
    pub operator: String,
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

    /// The UI language the operator chose (Bahasa Indonesia by default).
    pub fn lang(&self, store: &VillageStore) -> Lang {
        match store.setting("lang").ok().flatten().as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Id,
        }
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
    let village = RegionCode::parse_village(&env_or("LOKET_VILLAGE", "7315012003"))
        .context("LOKET_VILLAGE")?;
    let device_no: u16 = env_or("LOKET_DEVICE", "1")
        .parse()
        .context("LOKET_DEVICE must be a number 1–999")?;
    let db_path = data_dir.join("village.sqlite");
    let mut store =
        VillageStore::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?;
    let device = DeviceIdentity { village, device_no };
    let operator = env_or("LOKET_OPERATOR", "Operator Desa");
    if std::env::var("LOKET_DEMO").is_ok_and(|v| v == "1") {
        commands::seed_demo(&mut store, &device, &operator)?;
    }
    Ok(Desk {
        store: Mutex::new(store),
        db_path,
        data_dir,
        device,
        operator,
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
            app.manage(desk);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::set_settings,
            commands::check_form,
            commands::register_application,
            commands::list_applications,
            commands::render_receipt,
            commands::render_document,
            commands::open_path,
            commands::sync_now,
            commands::verify_application_document,
            commands::verify_bytes,
        ])
        .run(tauri::generate_context!())
        .expect("Loket could not start its window");
}
