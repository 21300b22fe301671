//! A village laptop's store syncing with the real back office on loopback: offline first, then
//! delivered exactly once, then decisions and the signed PDF flow back.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore};
use loket_domain::{validate_applicant, ApplicantForm, ApplicationStatus, RegionCode, ServiceCode};
use loket_qr::IssuingKey;
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, VillageStore};
use loket_sync::protocol::DeviceRef;
use loket_sync::{sync_once, SyncClient, SyncError};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn register(store: &mut VillageStore, n: u128, name: &str) -> Uuid {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: name.into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: String::new(),
    };
    let value = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap();
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let at = DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    store
        .register(
            &device,
            &NewApplication::new(
                ServiceCode::parse("ktp_el_baru").unwrap(),
                "2026.11.1",
                value,
            ),
            "Operator Uji",
            at,
            Uuid::from_u128(n),
        )
        .unwrap()
        .id
}

fn device() -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: 1,
    }
}

/// Runs a blocking sync pass off the async runtime, as the desktop app does.
async fn sync(db: std::path::PathBuf, url: String) -> Result<loket_sync::SyncReport, SyncError> {
    tokio::task::spawn_blocking(move || {
        let mut store =
            VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes([3; 32])).unwrap();
        // Signed as the enrolled laptop (seed [1; 32]), at the server's fixed time.
        let client = SyncClient::new(&url)?
            .with_device_key(device(), ed25519_dalek::SigningKey::from_bytes(&[1; 32]))
            .with_clock(Arc::new(now));
        sync_once(&mut store, &client, &device())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn offline_then_exactly_once_then_decisions_flow_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let mut village = VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes([3; 32])).unwrap();
    let a = register(&mut village, 1, "Andi Tenri Ajeng");
    let b = register(&mut village, 2, "Baso Rahmat Hidayat");

    // Back office down: a clear "unreachable", nothing lost.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = sync(db.clone(), dead_url).await.unwrap_err();
    assert!(matches!(err, SyncError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(village.outbox(10).unwrap().len(), 2);

    // Back office up.
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
    loket_backoffice::testing::enroll_in(&state, &device(), [1; 32]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(loket_backoffice::serve(listener, state.clone()));

    let r = sync(db.clone(), url.clone()).await.unwrap();
    assert_eq!((r.sent, r.updated, r.documents), (2, 0, 0));
    assert!(village.outbox(10).unwrap().is_empty());
    assert_eq!(
        village.application(a).unwrap().status,
        ApplicationStatus::Received
    );
    assert_eq!(state.store.lock().unwrap().count().unwrap(), 2);

    // A reviewer decides; the next pass brings both decisions and the signed PDF.
    {
        let mut bo = state.store.lock().unwrap();
        bo.approve_and_issue(a, &state.key, &state.signer, now(), now().date_naive())
            .unwrap();
        bo.reject(b, "Pindaian KK tidak terbaca", now()).unwrap();
    }
    let r = sync(db.clone(), url.clone()).await.unwrap();
    assert_eq!((r.sent, r.updated, r.documents), (0, 2, 1));
    let issued = village.application(a).unwrap();
    assert_eq!(issued.status, ApplicationStatus::Issued);
    assert!(issued.document.unwrap().has_pdf);
    let rejected = village.application(b).unwrap();
    assert_eq!(rejected.status, ApplicationStatus::Rejected);
    assert_eq!(
        rejected.reason.as_deref(),
        Some("Pindaian KK tidak terbaca")
    );

    // The PDF held on the laptop verifies against the trust list the laptop received.
    let trust = loket_qr::TrustList::from_json(
        &village
            .setting(loket_sync::client::TRUST_LIST_SETTING)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let pdf = village.document_pdf(a).unwrap().unwrap();
    assert!(matches!(
        loket_print::verify_file_bytes(&pdf, &trust),
        loket_print::FileVerdict::Valid { .. }
    ));

    // Nothing new: a further pass changes nothing and duplicates nothing.
    let r = sync(db, url).await.unwrap();
    assert_eq!((r.sent, r.updated, r.documents), (0, 0, 0));
    assert_eq!(state.store.lock().unwrap().count().unwrap(), 2);
}
