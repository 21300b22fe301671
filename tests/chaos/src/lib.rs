//! `loket-chaos`: sync under faults (issue 5, "Evidence").
//!
//! - `tests/chaos.rs`: the soak test. A real `loket serve` process and village laptops as
//!   processes (`loket-chaos-village`) talk through a `loket_netem::Proxy` that throttles,
//!   delays, cuts, drops answers, stalls and refuses; the test also kills both sides with
//!   `kill -9` and takes the link down, then checks exactly-once on the server ([`soak`]).
//! - `loket-chaos-bench`: the upload benchmark over a 400 kbit/s link with 5 % connection cuts,
//!   beside a naive "re-upload the whole page on failure" uploader.
//!
//! This library holds what both share: the laptops' identity and store key, deterministic scan
//! pages made by the real intake, the applications the laptops register and a laptop's sync
//! state as read from its store.

pub mod soak;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use loket_domain::{validate_applicant, ApplicantForm, ProvidedDocument, ScanRef, ServiceCode};
use loket_store::{
    DatabaseKey, DeviceIdentity, NewApplication, NewScan, OutboxState, StoreError, VillageStore,
};
use loket_sync::protocol::DeviceRef;
use uuid::Uuid;

/// The village every test laptop belongs to (Massulowalie, Pinrang: in the 2025 region table,
/// which enrollment checks).
pub const VILLAGE_CODE: &str = "7315012003";

/// The SQLCipher key of every test laptop's store: fixed, so the test can open a store after the
/// laptop process is gone.
pub const STORE_KEY: [u8; 32] = [0xC4; 32];

/// How much faster than the wall clock a laptop's sync planner sees time pass: one real second
/// is one planner hour, so the longest backoff (1 h) lasts a second and a soak run exercises
/// the real retry rules without waiting for them.
pub const TIME_WARP: i64 = 3_600;

/// Slots of the three scan pages every test application carries (birth certificate papers).
pub const SLOTS: [&str; 3] = ["bukti_kelahiran", "bukti_perkawinan_orang_tua", "kk"];

/// Device `no` of the test village.
pub fn device(no: u16) -> DeviceRef {
    DeviceRef {
        village_code: VILLAGE_CODE.into(),
        device_no: no,
    }
}

/// Device `no` as the store names it (tracking numbers start with it).
pub fn identity(no: u16) -> DeviceIdentity {
    DeviceIdentity {
        village: loket_domain::RegionCode::parse_village(VILLAGE_CODE).expect("village code"),
        device_no: no,
    }
}

/// Opens a test laptop's encrypted store the way the app does.
pub fn open_village(path: &Path) -> Result<VillageStore, StoreError> {
    VillageStore::open_encrypted(path, &DatabaseKey::from_bytes(STORE_KEY))
}

/// The planner's "now" for a laptop started under a soak run that began at `epoch` (Unix
/// seconds): the wall clock sped up [`TIME_WARP`] times from `epoch`. The same for every
/// restart of the laptop, so retry times it stored stay meaningful.
pub fn warped_now(epoch: i64) -> DateTime<Utc> {
    let real = Utc::now();
    let elapsed_ms = real.timestamp_millis() - epoch * 1_000;
    let warped = epoch * 1_000 + elapsed_ms.max(0) * TIME_WARP;
    Utc.timestamp_millis_opt(warped).single().unwrap_or(real)
}

/// The laptop's local time (WITA, UTC+8), for capture times and tracking numbers.
pub fn local_now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3_600).expect("offset"))
}

// ---------------------------------------------------------------------------------------------
// Scan pages

/// A synthetic document page of `width`×`height` pixels as a flatbed gives it, grayscale PNG:
/// paper with `grain` levels of noise, a letterhead rule, a ruled table and lines of "words".
/// Why synthetic: the real intake must do the work (and sizes must be realistic) without
/// shipping sample scans; `seed` makes pages differ.
pub fn synthetic_page_png(width: u32, height: u32, seed: u64, grain: u8) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let grain = u64::from(grain.max(1));
    let mut img = image::GrayImage::from_fn(width, height, |_, _| {
        image::Luma([236 - (next() % grain) as u8])
    });
    let unit = (width / 100).max(1);
    let fill = |img: &mut image::GrayImage, x0: u32, y0: u32, x1: u32, y1: u32, v: u8| {
        for y in y0..y1.min(height) {
            for x in x0..x1.min(width) {
                img.put_pixel(x, y, image::Luma([v]));
            }
        }
    };
    // Letterhead rule.
    fill(
        &mut img,
        8 * unit,
        10 * unit,
        92 * unit,
        10 * unit + unit / 2 + 1,
        20,
    );
    // A ruled table (a KK's member rows).
    let (top, bottom) = (16 * unit, 40 * unit);
    for row in 0..=6 {
        let y = top + row * (bottom - top) / 6;
        fill(&mut img, 6 * unit, y, 94 * unit, y + 2, 30);
    }
    for col in [6, 20, 45, 60, 75, 94] {
        fill(&mut img, col * unit, top, col * unit + 2, bottom, 30);
    }
    // Lines of words: dark strokes of varying length.
    let mut y = 44 * unit;
    let pitch = (2 * unit).max(6);
    while y + pitch < height - 6 * unit {
        let mut x = 8 * unit;
        let right = 92 * unit - (next() % u64::from(20 * unit)) as u32;
        while x < right {
            let word = 2 * unit + (next() % u64::from(8 * unit)) as u32;
            let end = (x + word).min(right);
            let mut stroke = x;
            while stroke < end {
                let tall = pitch / 2 + (next() % u64::from(pitch / 3 + 1)) as u32;
                fill(
                    &mut img,
                    stroke,
                    y + pitch - tall,
                    stroke + 2,
                    y + pitch,
                    28,
                );
                stroke += 4;
            }
            x = end + unit + 2;
        }
        y += pitch * 2;
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("PNG encodes");
    png
}

/// The first page the real scan intake (`loket_scan::intake`, default limits) makes of
/// `upload`: the grayscale JPEG the laptop would store.
pub fn intake_first_page(upload: &[u8]) -> anyhow::Result<Vec<u8>> {
    let intake = loket_scan::intake(upload, &loket_scan::IntakeLimits::default())
        .map_err(|e| anyhow::anyhow!("scan intake refused the synthetic page: {e:?}"))?;
    let page = intake
        .pages
        .into_iter()
        .next()
        .context("intake made no page")?;
    Ok(page.jpeg)
}

/// `base` (a JPEG) with a comment segment (`FF FE`) carrying `label` right after the
/// start-of-image marker: still the same picture for any decoder, but other bytes and so
/// another SHA-256. Why: thousands of distinct pages from one intake run.
pub fn unique_page(base: &[u8], label: &str) -> Vec<u8> {
    assert!(base.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let comment = format!("loket-chaos {label}");
    let len = u16::try_from(comment.len() + 2)
        .expect("short label")
        .to_be_bytes();
    let mut out = Vec::with_capacity(base.len() + comment.len() + 4);
    out.extend_from_slice(&base[..2]);
    out.extend_from_slice(&[0xFF, 0xFE, len[0], len[1]]);
    out.extend_from_slice(comment.as_bytes());
    out.extend_from_slice(&base[2..]);
    out
}

/// Where base page `n` for the laptops is written: `page-<n>.jpg` in `dir`.
pub fn base_page_path(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("page-{n}.jpg"))
}

/// Reads the three base pages written beside a soak run.
pub fn read_base_pages(dir: &Path) -> anyhow::Result<[Vec<u8>; 3]> {
    let read = |n| {
        let path = base_page_path(dir, n);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    Ok([read(0)?, read(1)?, read(2)?])
}

// ---------------------------------------------------------------------------------------------
// Applications

/// Stores the three pages of application `index` of device `device_no` (made from `bases`)
/// and registers a birth-certificate application naming them, as the laptop does when the
/// operator saves the form. Same `index` → same page bytes, so a retry after a crash between
/// the pages and the application stores nothing twice.
pub fn register_application(
    store: &mut VillageStore,
    device_no: u16,
    index: usize,
    bases: &[Vec<u8>; 3],
    now: DateTime<FixedOffset>,
) -> anyhow::Result<Uuid> {
    let mut provided = Vec::with_capacity(3);
    for (n, (slot, base)) in SLOTS.iter().zip(bases).enumerate() {
        let bytes = unique_page(
            base,
            &format!("device {device_no} application {index} page {n}"),
        );
        let page: ScanRef = store.put_scan(
            &NewScan {
                bytes,
                media_type: "image/jpeg".into(),
                thumbnail: Vec::new(),
            },
            now,
        )?;
        provided.push(ProvidedDocument {
            slot: (*slot).into(),
            pages: vec![page],
        });
    }
    let mut new = NewApplication::new(
        ServiceCode::parse("akta_kelahiran")?,
        "2026.11.1",
        applicant(index),
    );
    new.fields = BTreeMap::from([
        ("child_name".to_string(), format!("Anak Uji {index}")),
        ("child_sex".to_string(), "laki_laki".to_string()),
        ("child_birth_date".to_string(), "2026-11-01".to_string()),
        ("child_birth_place".to_string(), "Pinrang".to_string()),
    ]);
    new.provided = provided;
    let stored = store.register(
        &identity(device_no),
        &new,
        "Operator Uji",
        now,
        Uuid::now_v7(),
    )?;
    Ok(stored.id)
}

fn applicant(index: usize) -> loket_domain::Applicant {
    const NAMES: [&str; 6] = [
        "Andi Tenri Ajeng",
        "Nurhayati",
        "Sitti Aminah",
        "Hasnah Daeng Bau",
        "Rahmawati",
        "Megawati Patolai",
    ];
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: NAMES[index % NAMES.len()].into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: String::new(),
    };
    validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"))
        .value
        .expect("test applicant is valid")
}

// ---------------------------------------------------------------------------------------------
// A laptop's sync state

/// How far a laptop's sync got, as its store says. Why: the laptop process decides when it is
/// done from this, and prints it as its progress line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VillageState {
    /// Applications registered.
    pub registered: usize,
    /// Outbox items not yet acknowledged (queued or sending).
    pub unsent: usize,
    /// Outbox items refused for good (they wait for the operator).
    pub failed_permanent: usize,
    /// Scan pages of acknowledged applications the server does not hold whole yet.
    pub pages_left: usize,
    /// Scan pages given up on (they wait for the operator).
    pub pages_failed: usize,
    /// Audit entries the server has not acknowledged.
    pub audit_unsent: i64,
}

impl VillageState {
    /// Reads the state from the store.
    pub fn read(store: &VillageStore) -> Result<VillageState, StoreError> {
        let items = store.outbox_items()?;
        let failed_permanent = items
            .iter()
            .filter(|i| i.state == OutboxState::FailedPermanent)
            .count();
        Ok(VillageState {
            registered: store.applications()?.len(),
            unsent: items.len() - failed_permanent,
            failed_permanent,
            pages_left: store.pending_uploads(usize::MAX >> 1)?.len(),
            pages_failed: store.failed_uploads()?.len(),
            audit_unsent: store.audit_last_seq()? - store.audit_acknowledged_seq()?,
        })
    }

    /// Everything registered reached the server: applications, pages and the audit log.
    pub fn is_done(&self, apps: usize) -> bool {
        self.registered >= apps
            && self.unsent == 0
            && self.failed_permanent == 0
            && self.pages_left == 0
            && self.pages_failed == 0
            && self.audit_unsent == 0
    }

    /// Something only an operator could move: sync will never finish by itself.
    pub fn stuck(&self) -> Option<String> {
        (self.failed_permanent > 0 || self.pages_failed > 0).then(|| {
            format!(
                "{} outbox items failed_permanent, {} scan pages failed",
                self.failed_permanent, self.pages_failed
            )
        })
    }

    /// The progress line's fields.
    pub fn line(&self) -> String {
        format!(
            "registered={} unsent={} failed_permanent={} pages_left={} pages_failed={} audit_unsent={}",
            self.registered,
            self.unsent,
            self.failed_permanent,
            self.pages_left,
            self.pages_failed,
            self.audit_unsent
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Paths

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `<target>/debug`, honouring `CARGO_TARGET_DIR`: where `cargo build --workspace` puts
/// `loket`.
pub fn target_debug_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_relative() {
                repo_root().join(dir)
            } else {
                dir
            };
            dir.join("debug")
        }
        _ => repo_root().join("target").join("debug"),
    }
}

/// A binary of this workspace built by `cargo build --workspace`; an error (never a skip) when
/// it is missing.
pub fn built_binary(name: &str) -> anyhow::Result<PathBuf> {
    let path = target_debug_dir().join(name);
    anyhow::ensure!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_pages_are_the_same_picture_under_another_hash() {
        let base = intake_first_page(&synthetic_page_png(200, 280, 1, 1)).unwrap();
        let a = unique_page(&base, "device 1 application 0 page 0");
        let b = unique_page(&base, "device 1 application 0 page 1");
        assert_ne!(
            loket_scan::content_address(&a),
            loket_scan::content_address(&b)
        );
        let (pa, pb) = (
            image::load_from_memory(&a).unwrap().to_luma8(),
            image::load_from_memory(&base).unwrap().to_luma8(),
        );
        assert_eq!(pa, pb);
    }

    #[test]
    fn the_warped_clock_runs_an_hour_per_second_from_its_epoch() {
        let epoch = Utc::now().timestamp() - 2;
        let ahead = warped_now(epoch).timestamp() - epoch;
        assert!((2 * 3_600..4 * 3_600).contains(&ahead), "{ahead}");
    }
}
