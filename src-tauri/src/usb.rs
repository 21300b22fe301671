//! Sneakernet from the desktop: write everything waiting in the outbox to a USB stick as a bundle
//! signed by this device and encrypted to the district (`loket_sync::bundle`), for villages that
//! stay offline for days. The district imports it with `loket bundle import`.

use chrono::{Local, Utc};
use loket_domain::Lang;
use loket_store::AuditAction;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use tauri::State;

use crate::commands::lock;
use crate::views::CommandError;
use crate::Desk;

type Result<T> = std::result::Result<T, CommandError>;

/// A place a bundle can be written to.
#[derive(Debug, Serialize)]
pub struct DriveView {
    path: String,
    label: String,
}

/// Mounted removable drives (Linux mounts them under /media/<user> or /run/media/<user>), so
/// the operator picks the stick instead of typing a path.
#[tauri::command]
pub fn removable_drives() -> Vec<DriveView> {
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return Vec::new();
    };
    mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        // /proc/mounts escapes spaces as \040.
        .map(|p| p.replace("\\040", " "))
        .filter(|p| p.starts_with("/media/") || p.starts_with("/run/media/"))
        .map(|path| DriveView {
            label: Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.clone()),
            path,
        })
        .collect()
}

/// What was written.
#[derive(Debug, Serialize)]
pub struct ExportView {
    path: String,
    applications: usize,
    pages: usize,
    audit_entries: usize,
    bytes: usize,
}

/// Writes the bundle into `target` (a drive from [`removable_drives`]) or, without one, into
/// the data folder's `exports/`. The file is written under a temporary name, flushed, then
/// renamed, so a stick pulled out early never holds a half bundle under the real name.
#[tauri::command]
pub fn export_bundle(desk: State<'_, Desk>, target: Option<String>) -> Result<ExportView> {
    let mut store = lock(&desk)?;
    let lang = desk.lang(&store);
    let dir = match target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => PathBuf::from(t),
        None => desk.data_dir.join("exports"),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_error(lang, &dir, e))?;
    let (bytes, content) =
        loket_sync::bundle::export_bundle(&store, Utc::now(), &mut rand::rngs::OsRng)
            .map_err(|e| CommandError::new("export", e.to_string()))?;
    if content.applications.is_empty() && content.audit.is_empty() {
        return Err(CommandError::new(
            "export",
            match lang {
                Lang::Id => "Tidak ada yang perlu dibawa: antrean kiriman kosong.",
                Lang::En => "Nothing to carry: the outbox is empty.",
            },
        ));
    }
    let device = desk.device();
    let name = format!(
        "loket-{}-{}-{}.loketbundle",
        device.village.digits(),
        device.device_no,
        Local::now().format("%Y%m%d-%H%M%S")
    );
    let path = dir.join(&name);
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| io_error(lang, &dir, e))?;
    let operator = store.operator_name();
    let now = Local::now().fixed_offset();
    for app in &content.applications {
        store.audit(&operator, AuditAction::Exported, &app.id.to_string(), now)?;
    }
    Ok(ExportView {
        path: path.display().to_string(),
        applications: content.applications.len(),
        pages: content.pages.len(),
        audit_entries: content.audit.len(),
        bytes: bytes.len(),
    })
}

fn io_error(lang: Lang, dir: &Path, e: std::io::Error) -> CommandError {
    CommandError::new(
        "export",
        match lang {
            Lang::Id => format!(
                "Bundel tidak dapat ditulis ke {}: {e}. Periksa flashdisk (terpasang, tidak penuh, tidak terkunci).",
                dir.display()
            ),
            Lang::En => format!(
                "The bundle could not be written to {}: {e}. Check the USB stick (plugged in, not full, not write-protected).",
                dir.display()
            ),
        },
    )
}
