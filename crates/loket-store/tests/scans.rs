//! Scans and residents in the village store, on real SQLCipher files with real scan pages:
//! every page here is a JPEG that `loket_scan::intake` made from a generated form image, as the
//! desktop app does with what the operator picked.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use image::{GrayImage, ImageFormat, Luma};
use loket_domain::{
    validate_applicant, Applicant, ApplicantForm, ApplicationStatus, ProvidedDocument, RegionCode,
    ScanRef, ServiceCode,
};
use loket_store::{
    ApplicationQuery, DatabaseKey, DeviceIdentity, NewApplication, NewScan, StoreError,
    VillageStore,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use uuid::Uuid;

/// A fixed key: these tests are about scans, `operators.rs` is about keys.
const KEY: [u8; 32] = [0x3C; 32];

fn key() -> DatabaseKey {
    DatabaseKey::from_bytes(KEY)
}

fn open(path: &Path) -> VillageStore {
    VillageStore::open_encrypted(path, &key()).expect("store opens")
}

fn device() -> DeviceIdentity {
    DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    }
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn service(code: &str) -> ServiceCode {
    ServiceCode::parse(code).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A small scanned "form" (A4 at 75 dpi): noisy off-white paper, a frame and lines of
/// letter-like strokes whose layout depends on `seed`, so different seeds give different pages.
fn form_png(seed: u64) -> Vec<u8> {
    let (w, h) = (620u32, 877u32);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut img = GrayImage::from_fn(w, h, |_, _| Luma([236 + (next() % 8) as u8]));
    let mut put = |x0: u32, y0: u32, x1: u32, y1: u32, v: u8| {
        for y in y0..y1.min(h) {
            for x in x0..x1.min(w) {
                img.put_pixel(x, y, Luma([v]));
            }
        }
    };
    put(30, 30, 590, 32, 20);
    put(30, 845, 590, 847, 20);
    let mut y = 60;
    while y < 820 {
        let mut x = 50;
        while x < 560 {
            let word = 10 + (next() % 50) as u32;
            for stroke in (x..(x + word).min(560)).step_by(3) {
                let tall = 5 + (next() % 4) as u32;
                put(stroke, y + 9 - tall, stroke + 1, y + 9, 30);
            }
            x += word + 6;
        }
        y += 15;
    }
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    png
}

/// What the desktop app stores for one picked file: the first page's JPEG and the thumbnail.
fn scanned(seed: u64) -> NewScan {
    let intake = loket_scan::intake(&form_png(seed), &loket_scan::IntakeLimits::default())
        .expect("intake of a generated form");
    let page = intake.pages.into_iter().next().expect("one page");
    assert!(page.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
    NewScan {
        bytes: page.jpeg,
        media_type: "image/jpeg".into(),
        thumbnail: intake.thumbnail_png,
    }
}

fn applicant(nik: &str, name: &str, birth: &str, sex: &str) -> Applicant {
    let form = ApplicantForm {
        nik: nik.into(),
        full_name: name.into(),
        birth_place: "Pinrang".into(),
        birth_date: birth.into(),
        sex: sex.into(),
        address: "Dusun Massulowalie RT 002".into(),
        phone: "081234567890".into(),
    };
    let report = validate_applicant(&form, today());
    report
        .value
        .unwrap_or_else(|| panic!("{name} invalid: {:?}", report.errors))
}

fn andi() -> Applicant {
    applicant(
        "7315015507050003",
        "Andi Tenri Ajeng",
        "2005-07-15",
        "female",
    )
}

fn ktp(applicant: Applicant) -> NewApplication {
    NewApplication::new(service("ktp_el_baru"), "2026.11.1", applicant)
}

fn provided(slot: &str, pages: &[&ScanRef]) -> ProvidedDocument {
    ProvidedDocument {
        slot: slot.into(),
        pages: pages.iter().map(|&p| p.clone()).collect(),
    }
}

/// Rows of a table, read straight from the encrypted file with the same key (for what the
/// public API does not count, such as duplicate scan rows).
fn count_rows(path: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    let hex: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn put_scan_is_content_addressed_and_reads_back_identical_bytes_and_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let kk = scanned(1);
    let ktp_page = scanned(2);
    assert_ne!(kk.bytes, ktp_page.bytes, "different forms, different pages");
    let mut store = open(&path);

    let first = store
        .put_scan(&kk, at("2026-11-22T09:00:00+08:00"))
        .unwrap();
    assert_eq!(first.sha256, sha256_hex(&kk.bytes), "named by content");
    assert_eq!(first.size, kk.bytes.len() as u64);
    assert_eq!(first.media_type, "image/jpeg");
    // The same paper attached again (another form, or the operator picking it twice).
    let again = store
        .put_scan(&kk, at("2026-11-22T09:01:00+08:00"))
        .unwrap();
    assert_eq!(again, first, "same bytes, same reference");
    let other = store
        .put_scan(&ktp_page, at("2026-11-22T09:02:00+08:00"))
        .unwrap();
    assert_ne!(other.sha256, first.sha256);
    assert_eq!(count_rows(&path, "scans"), 2, "same bytes stored once");

    assert_eq!(store.scan(&first.sha256).unwrap(), Some(first.clone()));
    assert_eq!(
        store.scan_bytes(&first.sha256).unwrap(),
        Some(kk.bytes.clone())
    );
    assert_eq!(
        store.scan_thumbnail(&first.sha256).unwrap(),
        Some(kk.thumbnail.clone())
    );
    let thumb = image::load_from_memory(&kk.thumbnail).unwrap();
    assert_eq!(thumb.width(), loket_scan::THUMBNAIL_WIDTH);
    assert_eq!(store.scan(&sha256_hex(b"never stored")).unwrap(), None);
    assert_eq!(
        store.scan_bytes(&sha256_hex(b"never stored")).unwrap(),
        None
    );

    // And from the file, as after a restart.
    drop(store);
    let store = open(&path);
    let bytes = store.scan_bytes(&other.sha256).unwrap().expect("kept");
    assert_eq!(bytes, ktp_page.bytes);
    assert_eq!(sha256_hex(&bytes), other.sha256);
    let page = image::load_from_memory(&bytes).unwrap();
    assert_eq!(page.color().channel_count(), 1, "a grayscale page");
    assert_eq!(
        store.scan_thumbnail(&other.sha256).unwrap(),
        Some(ktp_page.thumbnail)
    );
}

#[test]
fn register_stores_references_to_provided_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let pages: Vec<NewScan> = (10..13).map(scanned).collect();
    let id = Uuid::from_u128(1);
    let new = {
        let mut store = open(&path);
        let refs: Vec<ScanRef> = pages
            .iter()
            .map(|p| store.put_scan(p, at("2026-11-22T09:00:00+08:00")).unwrap())
            .collect();
        let mut new = ktp(andi());
        new.fields
            .insert("nomor_kk".into(), "7315012010140001".into());
        new.fields
            .insert("marital_status".into(), "belum_kawin".into());
        // A two-page KK, and a ticked check without pages.
        new.provided = vec![
            provided("kk", &[&refs[0], &refs[1]]),
            provided("surat_pengantar", &[&refs[2]]),
            provided("perekaman_biometrik", &[]),
        ];
        let stored = store
            .register(&device(), &new, "op", at("2026-11-22T09:05:00+08:00"), id)
            .unwrap();
        assert_eq!(stored.provided, new.provided);
        assert_eq!(stored.fields, new.fields);
        new
    };

    let store = open(&path);
    let app = store.application(id).unwrap();
    assert_eq!(app.service, service("ktp_el_baru"));
    assert_eq!(app.catalogue_version, "2026.11.1");
    assert_eq!(app.provided, new.provided, "references survive a reopen");
    assert_eq!(app.fields, new.fields);
    for (doc, scan) in app.provided[..2]
        .iter()
        .flat_map(|d| d.pages.iter())
        .zip(&pages)
    {
        assert_eq!(
            store.scan_bytes(&doc.sha256).unwrap().as_ref(),
            Some(&scan.bytes)
        );
    }
    assert_eq!(count_rows(&path, "application_scans"), 3, "one per page");
}

#[test]
fn a_missing_scan_refuses_the_whole_application_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let now = at("2026-11-22T09:05:00+08:00");
    let id = Uuid::from_u128(7);
    let page = scanned(20);
    let ghost_bytes = scanned(21).bytes;
    let ghost = ScanRef {
        sha256: sha256_hex(&ghost_bytes),
        size: ghost_bytes.len() as u64,
        media_type: "image/jpeg".into(),
    };
    let mut new = ktp(andi());
    new.fields
        .insert("nomor_kk".into(), "7315012010140001".into());
    {
        let mut store = open(&path);
        let kept = store
            .put_scan(&page, at("2026-11-22T09:00:00+08:00"))
            .unwrap();
        new.provided = vec![
            provided("kk", &[&kept]),
            provided("surat_pengantar", &[&ghost]),
        ];
        match store.register(&device(), &new, "op", now, id) {
            Err(StoreError::MissingScan { slot }) => assert_eq!(slot, "surat_pengantar"),
            other => panic!("expected MissingScan, got {other:?}"),
        }
        assert_nothing_registered(&store, id);
    }

    // Nothing reached the file either.
    let mut store = open(&path);
    assert_nothing_registered(&store, id);
    assert_eq!(count_rows(&path, "application_scans"), 0);
    assert_eq!(count_rows(&path, "daily_counters"), 0, "no counter bump");
    // The kept scan is still there for the operator's retry.
    assert!(store.scan(&sha256_hex(&page.bytes)).unwrap().is_some());

    // Re-attaching the missing page makes the same application go through, and it takes the
    // first tracking number of the day: the refused attempt used none.
    store.put_scan(&scanned(21), now).unwrap();
    let stored = store.register(&device(), &new, "op", now, id).unwrap();
    let mut fresh = VillageStore::open_in_memory().unwrap();
    let reference = fresh
        .register(&device(), &ktp(andi()), "op", now, Uuid::from_u128(8))
        .unwrap();
    assert_eq!(stored.tracking_number, reference.tracking_number);
    assert_eq!(stored.provided, new.provided);
}

fn assert_nothing_registered(store: &VillageStore, id: Uuid) {
    assert!(matches!(store.application(id), Err(StoreError::NotFound)));
    assert!(store.applications().unwrap().is_empty(), "no application");
    assert!(store.outbox(10).unwrap().is_empty(), "no outbox item");
    assert!(store.outbox_counts().unwrap().is_empty(), "no outbox item");
    assert!(store.audit_log().unwrap().is_empty(), "no audit entry");
    assert!(
        store
            .find_residents("7315015507050003", 10)
            .unwrap()
            .is_empty(),
        "no resident learnt"
    );
    assert!(store.household("7315012010140001").unwrap().is_empty());
}

#[test]
fn purge_removes_only_old_scans_no_application_refers_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let morning = at("2026-11-22T08:00:00+08:00");
    let cutoff = at("2026-11-22T12:00:00+08:00");
    let afternoon = at("2026-11-22T15:00:00+08:00");
    let (used, abandoned, fresh, reattached) = (scanned(30), scanned(31), scanned(32), scanned(33));
    let id = Uuid::from_u128(9);
    {
        let mut store = open(&path);
        let used_ref = store.put_scan(&used, morning).unwrap();
        store.put_scan(&abandoned, morning).unwrap();
        store.put_scan(&reattached, morning).unwrap();
        store.put_scan(&fresh, afternoon).unwrap();
        // Attached again in the afternoon: it counts as new.
        store.put_scan(&reattached, afternoon).unwrap();
        let mut new = ktp(andi());
        new.provided = vec![provided("kk", &[&used_ref])];
        store.register(&device(), &new, "op", morning, id).unwrap();
    }

    let mut store = open(&path);
    assert_eq!(store.purge_unreferenced_scans(cutoff).unwrap(), 1);
    let held =
        |s: &VillageStore, scan: &NewScan| s.scan(&sha256_hex(&scan.bytes)).unwrap().is_some();
    assert!(!held(&store, &abandoned), "old and unreferenced: purged");
    assert!(held(&store, &used), "referenced: kept however old");
    assert!(held(&store, &fresh), "newer than the cutoff: kept");
    assert!(
        held(&store, &reattached),
        "re-attached after the cutoff: kept"
    );
    assert_eq!(
        store.scan_bytes(&sha256_hex(&used.bytes)).unwrap(),
        Some(used.bytes.clone())
    );
    assert_eq!(store.application(id).unwrap().provided[0].pages.len(), 1);

    // Much later, everything unreferenced goes; the registered application's scan stays.
    let later = afternoon + Duration::days(30);
    assert_eq!(store.purge_unreferenced_scans(later).unwrap(), 2);
    assert!(held(&store, &used));
    assert_eq!(store.purge_unreferenced_scans(later).unwrap(), 0);
    drop(store);
    assert_eq!(count_rows(&path, "scans"), 1);

    // A form that still points at a purged scan is refused, not saved half-attached.
    let mut store = open(&path);
    let mut new = ktp(andi());
    new.provided = vec![provided(
        "surat_pengantar",
        &[&ScanRef {
            sha256: sha256_hex(&abandoned.bytes),
            size: abandoned.bytes.len() as u64,
            media_type: "image/jpeg".into(),
        }],
    )];
    assert!(matches!(
        store.register(&device(), &new, "op", later, Uuid::from_u128(10)),
        Err(StoreError::MissingScan { .. })
    ));
}

/// Whether `needle` occurs anywhere in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Three 64-byte windows from the middle of the entropy-coded data of a JPEG: byte sequences
/// that occur nowhere else.
fn distinctive_windows(jpeg: &[u8]) -> Vec<&[u8]> {
    [0.3, 0.5, 0.7]
        .iter()
        .map(|f| {
            let start = (jpeg.len() as f64 * f) as usize;
            &jpeg[start..start + 64]
        })
        .collect()
}

/// The store file and its WAL, as a thief copying the laptop's disk would get them.
fn raw_files(path: &Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(bytes) = std::fs::read(Path::new(&wal)) {
        all.extend(bytes);
    }
    all
}

#[test]
fn scans_are_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let scan = scanned(40);
    let windows = distinctive_windows(&scan.bytes);

    // Control: the same bytes in a plain SQLite file are found by this search, so not finding
    // them below means something.
    let plain_path = dir.path().join("plain.sqlite");
    {
        let plain = rusqlite::Connection::open(&plain_path).unwrap();
        plain
            .execute_batch("CREATE TABLE t (b BLOB NOT NULL)")
            .unwrap();
        plain
            .execute("INSERT INTO t(b) VALUES (?1)", [&scan.bytes])
            .unwrap();
    }
    let plain_raw = raw_files(&plain_path);
    assert!(
        windows.iter().any(|w| contains(&plain_raw, w)),
        "the control should find the scan in a plain file"
    );

    let mut store = open(&path);
    let r = store
        .put_scan(&scan, at("2026-11-22T09:00:00+08:00"))
        .unwrap();
    let mut new = ktp(andi());
    new.provided = vec![provided("kk", &[&r])];
    store
        .register(
            &device(),
            &new,
            "op",
            at("2026-11-22T09:05:00+08:00"),
            Uuid::from_u128(11),
        )
        .unwrap();
    // While open, the pages are in the WAL; after closing, in the main file.
    let open_raw = raw_files(&path);
    drop(store);
    let closed_raw = raw_files(&path);
    for raw in [&open_raw, &closed_raw] {
        assert!(
            !raw.starts_with(b"SQLite format 3\0"),
            "not a plain SQLite file"
        );
        for w in &windows {
            assert!(!contains(raw, w), "scan bytes readable in the file");
        }
        assert!(
            !contains(raw, b"Andi Tenri Ajeng"),
            "name readable in the file"
        );
    }

    let store = open(&path);
    assert_eq!(store.scan_bytes(&r.sha256).unwrap(), Some(scan.bytes));
    assert!(matches!(
        VillageStore::open_encrypted(&path, &DatabaseKey::from_bytes([0x3D; 32])),
        Err(StoreError::WrongKey)
    ));
}

/// Service fields of a birth certificate for a child on KK `KK`, naming both parents.
fn akta_fields(mother_name: &str) -> BTreeMap<String, String> {
    [
        ("child_name", "Muhammad Fadli Saputra"),
        ("child_sex", "laki_laki"),
        ("child_birth_date", "2015-03-12"),
        ("child_birth_place", "Pinrang"),
        ("mother_nik", MOTHER_NIK),
        ("mother_name", mother_name),
        ("father_nik", FATHER_NIK),
        ("father_name", "Saputra Hasanuddin"),
        ("nomor_kk", KK),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

const KK: &str = "7315012010140001";
const CHILD_NIK: &str = "7315011203150004";
const SISTER_NIK: &str = "7315014108200002";
const MOTHER_NIK: &str = "7315014507880002";
const FATHER_NIK: &str = "7315012001850003";

fn niks(residents: &[loket_store::Resident]) -> Vec<&str> {
    residents.iter().map(|r| r.nik.as_str()).collect()
}

#[test]
fn residents_are_learnt_from_applications_and_grouped_by_family_card() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let child = applicant(CHILD_NIK, "Muhammad Fadli Saputra", "2015-03-12", "male");
    {
        let mut store = open(&path);
        let mut akta = NewApplication::new(service("akta_kelahiran"), "2026.11.1", child.clone());
        akta.fields = akta_fields("Nur Aisyah");
        store
            .register(
                &device(),
                &akta,
                "op",
                at("2026-11-02T09:00:00+08:00"),
                Uuid::from_u128(21),
            )
            .unwrap();
    }

    let mut store = open(&path);
    // The applicant, in full, by NIK prefix and by part of the name (any case).
    let found = store.find_residents(&CHILD_NIK[..10], 10).unwrap();
    assert_eq!(niks(&found), [CHILD_NIK]);
    let fadli = &found[0];
    assert_eq!(fadli.full_name, "Muhammad Fadli Saputra");
    assert_eq!(fadli.birth_date.as_deref(), Some("2015-03-12"));
    assert_eq!(fadli.birth_place.as_deref(), Some("Pinrang"));
    assert_eq!(fadli.sex.as_deref(), Some("male"));
    assert_eq!(fadli.nomor_kk.as_deref(), Some(KK));
    assert_eq!(
        niks(&store.find_residents("fadli", 10).unwrap()),
        [CHILD_NIK]
    );
    // The parents the form named, by name, with NIK and KK only.
    let mother = store.find_residents("aisyah", 10).unwrap();
    assert_eq!(niks(&mother), [MOTHER_NIK]);
    assert_eq!(mother[0].full_name, "Nur Aisyah");
    assert_eq!(mother[0].nomor_kk.as_deref(), Some(KK));
    assert_eq!(mother[0].birth_date, None, "a mention has no birth date");
    assert_eq!(mother[0].sex, None);
    let father = store.find_residents("Hasanuddin", 10).unwrap();
    assert_eq!(niks(&father), [FATHER_NIK]);
    // "Saputra" is in both the child's and the father's name.
    let mut saputra = niks(&store.find_residents("saputra", 10).unwrap())
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    saputra.sort();
    assert_eq!(saputra, [CHILD_NIK, FATHER_NIK]);
    assert_eq!(
        store.find_residents("saputra", 1).unwrap().len(),
        1,
        "limit"
    );
    assert!(store.find_residents("  ", 10).unwrap().is_empty());
    assert!(
        store.find_residents("%", 10).unwrap().is_empty(),
        "no wildcards"
    );
    // The family card: the applicant and both parents.
    let mut family = niks(&store.household(KK).unwrap())
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    family.sort();
    assert_eq!(family, [CHILD_NIK, FATHER_NIK, MOTHER_NIK]);
    assert_eq!(niks(&store.find_residents(KK, 10).unwrap()).len(), 3);
    assert!(store.household("7315012010140002").unwrap().is_empty());

    // The mother applies herself (KTP-el): her own record fills every detail.
    let nur = applicant(MOTHER_NIK, "Nur Aisyah", "1988-07-05", "female");
    let mut own = ktp(nur);
    own.fields.insert("nomor_kk".into(), KK.into());
    own.fields.insert("marital_status".into(), "kawin".into());
    store
        .register(
            &device(),
            &own,
            "op",
            at("2026-11-10T09:00:00+08:00"),
            Uuid::from_u128(22),
        )
        .unwrap();
    let full = |s: &VillageStore| s.find_residents(MOTHER_NIK, 10).unwrap().remove(0);
    let before = full(&store);
    assert_eq!(before.birth_date.as_deref(), Some("1988-07-05"));
    assert_eq!(before.birth_place.as_deref(), Some("Pinrang"));
    assert_eq!(before.sex.as_deref(), Some("female"));
    assert_eq!(before.address.as_deref(), Some("Dusun Massulowalie RT 002"));
    assert_eq!(before.phone.as_deref(), Some("081234567890"));
    assert_eq!(before.nomor_kk.as_deref(), Some(KK));

    // A younger sibling's birth certificate mentions her again, spelt differently: the mention
    // does not overwrite what her own application recorded.
    let sister = applicant(SISTER_NIK, "Siti Aulia Saputri", "2020-08-01", "female");
    let mut akta = NewApplication::new(service("akta_kelahiran"), "2026.11.1", sister);
    akta.fields = akta_fields("Nur Aisya");
    akta.fields
        .insert("child_name".into(), "Siti Aulia Saputri".into());
    store
        .register(
            &device(),
            &akta,
            "op",
            at("2026-11-20T09:00:00+08:00"),
            Uuid::from_u128(23),
        )
        .unwrap();
    drop(store);
    let store = open(&path);
    assert_eq!(full(&store), before, "a later mention changes nothing");

    // The household, oldest first, people without a known birth date last.
    assert_eq!(
        niks(&store.household(KK).unwrap()),
        [MOTHER_NIK, CHILD_NIK, SISTER_NIK, FATHER_NIK]
    );
}

#[test]
fn search_filters_by_service_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let mut store = open(&path);
    let child = applicant(CHILD_NIK, "Muhammad Fadli Saputra", "2015-03-12", "male");
    let kia_fields: BTreeMap<String, String> = [
        ("child_nik", CHILD_NIK),
        ("child_name", "Muhammad Fadli Saputra"),
        ("child_birth_date", "2015-03-12"),
        ("nomor_kk", KK),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut kia = NewApplication::new(service("kia"), "2026.11.1", child);
    kia.fields = kia_fields;
    let plan = [
        (1, ktp(andi())),
        (2, kia.clone()),
        (3, ktp(andi())),
        (4, kia),
    ];
    for (n, new) in &plan {
        store
            .register(
                &device(),
                new,
                "op",
                at("2026-11-22T09:00:00+08:00") + Duration::minutes(*n as i64),
                Uuid::from_u128(*n),
            )
            .unwrap();
    }
    drop(store);
    let store = open(&path);

    let ids = |q: &ApplicationQuery| -> Vec<u128> {
        store
            .search(q)
            .unwrap()
            .iter()
            .map(|a| a.id.as_u128())
            .collect()
    };
    let only = |code: &str| ApplicationQuery {
        service: Some(service(code)),
        ..Default::default()
    };
    assert_eq!(ids(&only("kia")), [4, 2], "newest first");
    assert_eq!(ids(&only("ktp_el_baru")), [3, 1]);
    assert!(ids(&only("akta_kelahiran")).is_empty());
    assert_eq!(ids(&ApplicationQuery::default()), [4, 3, 2, 1]);
    // Combined with text and status.
    let kia_fadli = ApplicationQuery {
        text: Some("fadli".into()),
        status: Some(ApplicationStatus::Queued),
        ..only("kia")
    };
    assert_eq!(ids(&kia_fadli), [4, 2]);
    let ktp_fadli = ApplicationQuery {
        text: Some("fadli".into()),
        ..only("ktp_el_baru")
    };
    assert!(ids(&ktp_fadli).is_empty());
    for app in store.search(&only("kia")).unwrap() {
        assert_eq!(app.service, service("kia"));
        assert_eq!(app.fields["child_nik"], CHILD_NIK);
    }
}
