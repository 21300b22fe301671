//! The village store at 10,000 applications with scans (issue 4, "Evidence": "Store tests:
//! 10,000 applications with scans"): a busy village's years of work in one file must still list
//! newest-first, hand the sync the oldest outbox items, and give back every scanned page intact.
//! No timing assertions here; `loket bench` measures speed.

use chrono::{DateTime, Duration, NaiveDate};
use image::{GrayImage, ImageFormat, Luma};
use loket_domain::{
    validate_applicant, Applicant, ApplicantForm, ProvidedDocument, RegionCode, ScanRef,
    ServiceCode,
};
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, NewScan, VillageStore};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::io::Cursor;
use std::path::Path;
use uuid::Uuid;

const N: u64 = 10_000;
/// Requirement documents per application, one scanned page each (KK, KTP-el, surat pengantar).
const SLOTS: [&str; 3] = ["kk", "ktp_el", "surat_pengantar"];
/// Applications per simulated day (a realistic busy village; far under the 9,999 allowed).
const PER_DAY: u64 = 40;

const FIRST: &[&str] = &[
    "Andi", "Muhammad", "Siti", "Nur", "Ahmad", "Sri", "Dewi", "Budi", "Rahmat", "Fitri", "Agus",
    "Wahyuni",
];
const LAST: &[&str] = &[
    "Tenri Ajeng",
    "Hasanuddin",
    "Rahayu",
    "Saputra",
    "Lestari",
    "Syamsuddin",
    "Pratama",
    "Kurniawati",
    "Makmur",
];

/// A valid KTP-el form that differs for every `i`: name, and a NIK whose birth date, sex and
/// serial agree with the declared ones.
fn applicant(i: u64) -> Applicant {
    let female = i & 1 == 0;
    let day = 1 + (i % 28) as u32;
    let month = 1 + ((i / 28) % 12) as u32;
    let year = 1970 + ((i / 336) % 35) as i32;
    let serial = 1 + (i % 9_999);
    let nik_day = if female { day + 40 } else { day };
    let nik = format!(
        "731501{nik_day:02}{month:02}{:02}{serial:04}",
        year.rem_euclid(100)
    );
    let form = ApplicantForm {
        nik,
        full_name: format!(
            "{} {}",
            FIRST[(i % FIRST.len() as u64) as usize],
            LAST[((i / 7) % LAST.len() as u64) as usize]
        ),
        birth_place: "Pinrang".into(),
        birth_date: format!("{year:04}-{month:02}-{day:02}"),
        sex: if female { "female" } else { "male" }.into(),
        address: format!("Dusun {} RT {:03}", 1 + i % 5, 1 + i % 17),
        phone: format!("0812{:08}", i),
    };
    let report = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    report
        .value
        .unwrap_or_else(|| panic!("applicant {i} invalid: {:?}", report.errors))
}

/// A small scanned form (A4 at about 15 dpi) drawn from `seed`: clean paper and lines of
/// "words" as dark bars. Small and clean on purpose: this test is about counts and integrity,
/// and a noisy full-size page would make the file gigabytes (`loket bench` measures real pages).
fn form_png(seed: u64) -> Vec<u8> {
    let (w, h) = (124u32, 175u32);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut img = GrayImage::from_pixel(w, h, Luma([240]));
    for y in (10..165).step_by(12) {
        let mut x = 10;
        while x < 114 {
            let word = 4 + (next() % 20) as u32;
            for xx in x..(x + word).min(114) {
                for yy in y..y + 3 {
                    img.put_pixel(xx, yy, Luma([60]));
                }
            }
            x += word + 3;
        }
    }
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    png
}

/// One base page per slot, made by the real intake (grayscale JPEG) from a generated form.
fn base_pages() -> Vec<loket_scan::Page> {
    (0..SLOTS.len() as u64)
        .map(|slot| {
            let intake = loket_scan::intake(&form_png(slot + 1), &Default::default())
                .expect("intake of a generated form");
            intake.pages.into_iter().next().expect("one page")
        })
        .collect()
}

/// Application `i`'s page for slot `slot`: the slot's base JPEG with a comment segment (COM,
/// `FF FE`) naming `i` right after the start-of-image marker. Still a valid JPEG of the same
/// picture, but its own bytes and hash, so 10,000 applications hold 30,000 distinct scans
/// without encoding 30,000 images.
fn page(base: &[loket_scan::Page], i: u64, slot: usize) -> Vec<u8> {
    let jpeg = &base[slot].jpeg;
    let comment = format!("loket scale test: application {i}, {}", SLOTS[slot]);
    let len = u16::try_from(comment.len() + 2).unwrap().to_be_bytes();
    let mut out = Vec::with_capacity(jpeg.len() + comment.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE, len[0], len[1]]);
    out.extend_from_slice(comment.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn open_store(path: &Path) -> VillageStore {
    VillageStore::open_encrypted(path, &DatabaseKey::from_bytes([0x5A; 32])).expect("store opens")
}

#[test]
fn ten_thousand_applications_with_scans_list_queue_and_read_back() {
    // This test is about size, not durability (crash.rs covers that): on Linux the file goes on
    // tmpfs when there is one, so 40,000 fsyncs do not dominate the run on slow disks.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let path = dir.path().join("village.sqlite");
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let base = base_pages();
    let thumbnail = loket_scan::intake(&form_png(1), &Default::default())
        .unwrap()
        .thumbnail_png;
    let start = DateTime::parse_from_rfc3339("2024-01-02T08:00:00+08:00").unwrap();
    let mut ids = Vec::with_capacity(N as usize);
    let ktp = ServiceCode::parse("ktp_el_baru").unwrap();
    {
        let mut store = open_store(&path);
        for i in 0..N {
            let now = start
                + Duration::days((i / PER_DAY) as i64)
                + Duration::minutes((i % PER_DAY) as i64 * 10);
            let id = Uuid::from_u128(0x1000_0000 + u128::from(i));
            // As the desktop app does: each picked page is stored first, the form refers to it.
            let mut new = NewApplication::new(ktp.clone(), "2026.11.1", applicant(i));
            for (slot, name) in SLOTS.iter().enumerate() {
                let scan = NewScan {
                    bytes: page(&base, i, slot),
                    media_type: "image/jpeg".into(),
                    thumbnail: thumbnail.clone(),
                };
                let r = store.put_scan(&scan, now).unwrap();
                new.provided.push(ProvidedDocument {
                    slot: (*name).into(),
                    pages: vec![r],
                });
            }
            let app = store.register(&device, &new, "op", now, id).unwrap();
            assert_eq!(app.id, id);
            ids.push(id);
        }
    }

    // Reopened from the file, as after a restart.
    let mut store = open_store(&path);
    let all = store.applications().unwrap();
    assert_eq!(all.len(), N as usize);
    let listed: Vec<Uuid> = all.iter().map(|a| a.id).collect();
    let newest_first: Vec<Uuid> = ids.iter().rev().copied().collect();
    assert_eq!(listed, newest_first, "applications() is not newest first");
    assert!(all.windows(2).all(|w| w[0].captured_at >= w[1].captured_at));
    let numbers: HashSet<&str> = all.iter().map(|a| a.tracking_number.as_str()).collect();
    assert_eq!(numbers.len(), N as usize, "tracking numbers repeat");
    let niks: HashSet<String> = all.iter().map(|a| a.data.nik.to_string()).collect();
    assert!(niks.len() > 1_000, "NIKs not varied: {}", niks.len());
    assert_eq!(all[0].data, applicant(N - 1), "form data round-trips");

    // Every application refers to its own three pages, and the store holds each of them.
    let mut scans: BTreeSet<&ScanRef> = BTreeSet::new();
    for app in &all {
        let slots: Vec<&str> = app.provided.iter().map(|d| d.slot.as_str()).collect();
        assert_eq!(slots, SLOTS, "application {} documents", app.id);
        for doc in &app.provided {
            assert_eq!(doc.pages.len(), 1);
            scans.insert(&doc.pages[0]);
        }
    }
    assert_eq!(scans.len(), 3 * N as usize, "distinct scans referenced");
    for r in &scans {
        assert_eq!(store.scan(&r.sha256).unwrap().as_ref(), Some(*r));
    }
    // All are referenced, so a purge of everything older than next year removes none.
    let next_year = start + Duration::days(3 * 365);
    assert_eq!(store.purge_unreferenced_scans(next_year).unwrap(), 0);

    // A random sample of pages reads back byte for byte (SHA-256 and the regenerated bytes).
    let mut state = 0x5CA1_AB1E_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for k in 0..300 {
        let i = next() % N;
        let slot = (next() % SLOTS.len() as u64) as usize;
        let app = store
            .application(Uuid::from_u128(0x1000_0000 + u128::from(i)))
            .unwrap();
        let r = &app.provided[slot].pages[0];
        let bytes = store.scan_bytes(&r.sha256).unwrap().expect("page kept");
        assert_eq!(
            sha256_hex(&bytes),
            r.sha256,
            "application {i} {}",
            SLOTS[slot]
        );
        assert_eq!(
            bytes,
            page(&base, i, slot),
            "application {i} {}",
            SLOTS[slot]
        );
        assert_eq!(r.size, bytes.len() as u64);
        if k % 50 == 0 {
            let img = image::load_from_memory(&bytes).expect("a readable JPEG");
            assert_eq!(
                (img.width(), img.height()),
                (base[slot].width, base[slot].height)
            );
            assert_eq!(
                store.scan_thumbnail(&r.sha256).unwrap().as_ref(),
                Some(&thumbnail)
            );
        }
    }

    let oldest = store.outbox(100).unwrap();
    assert_eq!(oldest.len(), 100);
    assert_eq!(
        oldest.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[..100].to_vec(),
        "outbox(100) is not the oldest 100"
    );
    assert_eq!(
        store.outbox_counts().unwrap(),
        vec![("queued".to_string(), N as i64)]
    );
    let bytes = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "{N} applications, {} scans of {}–{} bytes: {:.1} MB file",
        scans.len(),
        scans.iter().map(|r| r.size).min().unwrap(),
        scans.iter().map(|r| r.size).max().unwrap(),
        bytes as f64 / 1e6
    );
}
