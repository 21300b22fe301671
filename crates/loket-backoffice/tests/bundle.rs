//! Sneakernet: a village that never got online again carries its queue to the district on a USB
//! stick. The bundle is signed by the enrolled device and encrypted to the district; importing it
//! stores every application and page exactly once, importing again changes nothing, and a later
//! network sync finds everything already there.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore, ImportError};
use loket_domain::{
    validate_applicant, ApplicantForm, ApplicationStatus, ProvidedDocument, RegionCode, ServiceCode,
};
use loket_qr::IssuingKey;
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, NewScan, VillageStore};
use loket_sync::bundle::{export_bundle, BundleError};
use loket_sync::protocol::DeviceRef;
use loket_sync::{sync_once, SyncClient};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn device() -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: 1,
    }
}

async fn start() -> (AppState, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = BackofficeStore::open(&dir.path().join("backoffice.sqlite")).unwrap();
    let state = AppState {
        store: Arc::new(Mutex::new(store)),
        key: Arc::new(IssuingKey {
            signing_key: ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
            district_code: "73.15".into(),
            district_name: "Kabupaten Pinrang".into(),
        }),
        signer: Arc::new(("Kepala Dinas".into(), "Kabupaten Pinrang".into())),
        clock: Arc::new(now),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(loket_backoffice::serve(listener, state.clone()));
    (state, url, dir)
}

fn open(db: &Path) -> VillageStore {
    VillageStore::open_encrypted(db, &DatabaseKey::from_bytes([5; 32])).unwrap()
}

/// Three applications with one scan page each, captured while offline.
fn register_offline(store: &mut VillageStore) -> Vec<Uuid> {
    let identity = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let at = DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    (1..=3u8)
        .map(|n| {
            let page = store
                .put_scan(
                    &NewScan {
                        bytes: vec![0xFF, 0xD8, 0xFF, n, 1, 2, 3, n],
                        media_type: "image/jpeg".into(),
                        thumbnail: vec![],
                    },
                    at,
                )
                .unwrap();
            let form = ApplicantForm {
                nik: "7315015507050003".into(),
                full_name: format!("Andi Tenri {}", ["Satu", "Dua", "Tiga"][n as usize - 1]),
                birth_place: "Pinrang".into(),
                birth_date: "2005-07-15".into(),
                sex: "female".into(),
                address: "Massulowalie".into(),
                phone: String::new(),
            };
            let applicant =
                validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
                    .value
                    .unwrap();
            let mut new = NewApplication::new(
                ServiceCode::parse("ktp_el_baru").unwrap(),
                "2026.11.1",
                applicant,
            );
            new.provided = vec![ProvidedDocument {
                slot: "kk".into(),
                pages: vec![page],
            }];
            let id = Uuid::from_u128(u128::from(n));
            store
                .register(&identity, &new, "Operator Uji", at, id)
                .unwrap();
            id
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_usb_bundle_is_imported_exactly_once_and_sync_then_finds_everything() {
    let (state, url, _dir) = start().await;
    let village = tempfile::tempdir().unwrap();
    let db: PathBuf = village.path().join("village.sqlite");
    let code = state
        .store
        .lock()
        .unwrap()
        .issue_enrollment_code(&device(), now(), &mut rand::rngs::OsRng)
        .unwrap()
        .code;

    // Online once: enroll and receive the trust list (with the district's bundle key).
    let (u, d) = (url.clone(), db.clone());
    tokio::task::spawn_blocking(move || {
        let store = open(&d);
        loket_sync::auth::enroll(&u, &store, &code, &device(), &mut StdRng::seed_from_u64(1))
            .unwrap();
        let trust = SyncClient::new(&u).unwrap().trust_list().unwrap();
        store
            .set_setting(loket_sync::client::TRUST_LIST_SETTING, &trust)
            .unwrap();
    })
    .await
    .unwrap();

    // Then offline for days: three applications, exported to the stick.
    let mut store = open(&db);
    let ids = register_offline(&mut store);
    let (bundle, content) = export_bundle(&store, now(), &mut StdRng::seed_from_u64(2)).unwrap();
    assert_eq!(content.applications.len(), 3);
    assert_eq!(content.pages.len(), 3);
    assert!(!content.audit.is_empty(), "the audit log travels too");
    assert!(
        !bundle.windows(10).any(|w| w == b"Andi Tenri"),
        "a lost stick must not reveal residents' names"
    );

    // The district imports it: everything once.
    let secret = state.key.bundle_secret();
    let first = state
        .store
        .lock()
        .unwrap()
        .import_bundle(&bundle, &secret, now())
        .unwrap();
    assert_eq!(
        (first.stored, first.already_stored, first.conflicts),
        (3, 0, 0)
    );
    assert_eq!((first.pages_stored, first.pages_already_held), (3, 0));
    assert!(first.audit_stored > 0);
    let held = state.store.lock().unwrap().list(None).unwrap();
    assert_eq!(held.len(), 3);
    assert!(held.iter().all(|a| a.status == ApplicationStatus::Received));

    // Importing again (the stick plugged in twice) changes nothing.
    let again = state
        .store
        .lock()
        .unwrap()
        .import_bundle(&bundle, &secret, now())
        .unwrap();
    assert_eq!(
        (again.stored, again.already_stored, again.conflicts),
        (0, 3, 0)
    );
    assert_eq!((again.pages_stored, again.pages_already_held), (0, 3));
    assert_eq!(again.audit_stored, 0);
    assert_eq!(state.store.lock().unwrap().list(None).unwrap().len(), 3);

    // A changed byte, another district's key, or a bundle from an unknown device: refused.
    let mut tampered = bundle.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    assert!(matches!(
        state
            .store
            .lock()
            .unwrap()
            .import_bundle(&tampered, &secret, now()),
        Err(ImportError::Bundle(BundleError::Undecryptable))
    ));
    assert!(state
        .store
        .lock()
        .unwrap()
        .import_bundle(&bundle, &[7; 32], now())
        .is_err());

    // Back online, the laptop syncs: the server already has everything, nothing duplicates.
    drop(store);
    let u = url.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut store = open(&db);
        let client = SyncClient::for_store(&u, &store)
            .unwrap()
            .with_clock(std::sync::Arc::new(now));
        let report = sync_once(&mut store, &client, &device()).unwrap();
        let statuses: Vec<_> = ids
            .iter()
            .map(|id| store.application(*id).unwrap().status)
            .collect();
        (report, statuses)
    })
    .await
    .unwrap();
    assert_eq!(report.0.sent, 3, "acknowledged as already stored");
    assert!(report.1.iter().all(|s| *s == ApplicationStatus::Received));
    assert_eq!(state.store.lock().unwrap().list(None).unwrap().len(), 3);
}
