//! `loket bundle import`: the district takes in a village's USB bundle (sneakernet) with the same
//! exactly-once rules as sync, so importing twice changes nothing.

use anyhow::Context;
use chrono::Utc;
use loket_backoffice::DistrictKeyFile;
use std::path::Path;

/// Imports FILE into the back office at DATA and prints what changed.
pub fn import(data: &Path, file: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        data.is_dir(),
        "folder data back office {} tidak ada; periksa --data (sama dengan `loket serve --data`)",
        data.display()
    );
    let key_path = data.join("district-key.json");
    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("membaca kunci kabupaten {}", key_path.display()))?;
    let key_file: DistrictKeyFile = serde_json::from_str(&key_text)
        .with_context(|| format!("membaca kunci kabupaten {}", key_path.display()))?;
    let secret = key_file.issuing_key()?.bundle_secret();
    let bytes =
        std::fs::read(file).with_context(|| format!("membaca bundel {}", file.display()))?;
    let db = data.join("backoffice.sqlite");
    let mut store = loket_backoffice::BackofficeStore::open(&db)
        .with_context(|| format!("membuka {}", db.display()))?;
    let report = store.import_bundle(&bytes, &secret, Utc::now())?;
    if let Some(h) = &report.header {
        println!(
            "Bundel dari perangkat {}/{} ({}), dibuat {}",
            h.device.village_code,
            h.device.device_no,
            loket_domain::RegionCode::parse_village(&h.device.village_code)
                .map(|v| v.name().to_string())
                .unwrap_or_default(),
            h.created_at.format("%d-%m-%Y %H:%M UTC")
        );
    }
    println!(
        "Permohonan: {} baru, {} sudah ada, {} bentrok (ditolak)",
        report.stored, report.already_stored, report.conflicts
    );
    println!(
        "Halaman pindaian: {} baru, {} sudah ada",
        report.pages_stored, report.pages_already_held
    );
    println!("Catatan audit: {} baru", report.audit_stored);
    Ok(())
}
