//! The village's hash-chained audit log travels to the real back office on loopback with the
//! applications: delivered once, resendable, and refused whole when the laptop's copy was edited,
//! skips entries or contradicts what the district already holds.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore};
use loket_domain::{validate_applicant, ApplicantForm, RegionCode, ServiceCode};
use loket_qr::IssuingKey;
use loket_store::{
    AuditAction, AuditChainBroken, DatabaseKey, DeviceIdentity, NewApplication, StoreError,
    VillageStore,
};
use loket_sync::audit::to_wire;
use loket_sync::protocol::{AuditAck, AuditBatch, AuditEntryWire, AuditVerifyResponse, DeviceRef};
use loket_sync::{sync_once, SyncClient, SyncError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const KEY: [u8; 32] = [3; 32];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn at(minute: u32) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("2026-11-22T09:{minute:02}:00+08:00")).unwrap()
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
    store
        .register(
            &device,
            &NewApplication::new(
                ServiceCode::parse("ktp_el_baru").unwrap(),
                "2026.11.1",
                value,
            ),
            "Operator Uji",
            at(0),
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

/// The enrolled laptop's client: signed with its key (seed [1; 32]) at the server's fixed time.
fn client(url: &str) -> Result<SyncClient, SyncError> {
    Ok(SyncClient::new(url)?
        .with_device_key(device(), ed25519_dalek::SigningKey::from_bytes(&[1; 32]))
        .with_clock(Arc::new(now)))
}

/// Runs a blocking sync pass off the async runtime, as the desktop app does.
async fn sync(db: PathBuf, url: String) -> Result<loket_sync::SyncReport, SyncError> {
    tokio::task::spawn_blocking(move || {
        let mut store = VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes(KEY)).unwrap();
        sync_once(&mut store, &client(&url)?, &device())
    })
    .await
    .unwrap()
}

/// Pushes one hand-made audit batch, as a (possibly broken) client would.
async fn push(url: &str, entries: Vec<AuditEntryWire>) -> Result<AuditAck, SyncError> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        client(&url)?.push_audit(&AuditBatch {
            device: device(),
            entries,
        })
    })
    .await
    .unwrap()
}

async fn verify(url: &str) -> AuditVerifyResponse {
    let path = "/api/v1/audit/verify?village_code=7315012003&device_no=1";
    let url = format!("{url}{path}");
    tokio::task::spawn_blocking(move || {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let mut req = reqwest::blocking::Client::new().get(url);
        for (name, value) in
            loket_sync::auth::signature_headers(&device(), &key, "GET", path, b"", now())
        {
            req = req.header(name, value);
        }
        let resp = req.send().unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().unwrap()
    })
    .await
    .unwrap()
}

fn village_wire(village: &VillageStore) -> Vec<AuditEntryWire> {
    village
        .audit_log()
        .unwrap()
        .iter()
        .map(|e| to_wire(e).unwrap())
        .collect()
}

/// A raw connection to the village file, as someone editing it behind Loket's back would use.
fn raw_village(path: &Path) -> rusqlite::Connection {
    let raw = rusqlite::Connection::open(path).unwrap();
    raw.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "03".repeat(32)))
        .unwrap();
    raw
}

/// The audit lane's failure message in a pass whose other lanes went on.
fn audit_lane_failure(r: &loket_sync::SyncReport) -> String {
    let lane = r
        .lanes
        .iter()
        .find(|l| l.lane == loket_sync::Lane::Audit)
        .expect("the audit lane reports");
    assert_eq!(lane.state, loket_sync::LaneState::Failed, "{r:?}");
    assert!(
        r.lanes
            .iter()
            .filter(|l| l.lane != loket_sync::Lane::Audit)
            .all(|l| l.state != loket_sync::LaneState::Failed),
        "only the audit lane fails: {r:?}"
    );
    lane.message.clone().unwrap_or_default()
}

fn rejected(err: SyncError) -> (u16, String) {
    match err {
        SyncError::Rejected { status, message } => (status, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn start_backoffice(dir: &Path) -> (AppState, String) {
    let store = BackofficeStore::open(&dir.join("backoffice.sqlite")).unwrap();
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
    (state, url)
}

#[tokio::test]
async fn audit_log_syncs_once_and_edited_or_gapped_batches_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let mut village = VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes(KEY)).unwrap();
    let a = register(&mut village, 1, "Andi Tenri Ajeng");
    register(&mut village, 2, "Baso Rahmat Hidayat");
    village
        .audit(
            "Operator Uji",
            AuditAction::PrintedReceipt,
            &a.to_string(),
            at(1),
        )
        .unwrap();
    let (state, url) = start_backoffice(dir.path()).await;
    let held = || state.store.lock().unwrap().audit_trail(&device()).unwrap();

    // First pass: the applications and then the three audit entries, chain intact.
    let r = sync(db.clone(), url.clone()).await.unwrap();
    assert_eq!((r.sent, r.audit_entries), (2, 3));
    assert_eq!(held(), village_wire(&village));
    assert_eq!(village.audit_acknowledged_seq().unwrap(), 3);
    let v = verify(&url).await;
    assert_eq!((v.entries, v.first_broken_seq), (3, None));
    assert_eq!(v.message, "rantai catatan audit utuh: 3 entri");

    // Nothing new: nothing sent.
    let r = sync(db.clone(), url.clone()).await.unwrap();
    assert_eq!((r.sent, r.audit_entries), (0, 0));
    assert_eq!(held().len(), 3);

    // Resending what the server holds (a lost answer) is harmless, whole or overlapping.
    let sent = village_wire(&village);
    let ack = push(&url, sent.clone()).await.unwrap();
    assert_eq!(
        ack,
        AuditAck {
            acknowledged_through: 3,
            stored: 0
        }
    );
    let ack = push(&url, sent[1..].to_vec()).await.unwrap();
    assert_eq!((ack.acknowledged_through, ack.stored), (3, 0));

    // The same seq with other content: 409, named, nothing changes.
    let mut rewritten = sent[1].clone();
    rewritten.subject = "orang lain".into();
    let (status, message) = rejected(push(&url, vec![rewritten]).await.unwrap_err());
    assert_eq!(status, 409);
    assert!(message.contains("entri audit 2"), "{message}");
    assert!(message.contains("isi berbeda"), "{message}");
    assert_eq!(held(), sent);

    // Three more entries on the laptop; batches that skip one are refused whole with 422.
    for (minute, action) in [
        (2, AuditAction::PrintedDocument),
        (3, AuditAction::Verified),
        (4, AuditAction::PrintedReceipt),
    ] {
        village
            .audit("Operator Uji", action, &a.to_string(), at(minute))
            .unwrap();
    }
    let all = village_wire(&village);
    assert_eq!(all.len(), 6);
    let (status, message) = rejected(
        push(&url, vec![all[3].clone(), all[5].clone()])
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 422);
    assert!(
        message.contains("entri audit 6 tidak bersambung: yang diharapkan entri 5"),
        "{message}"
    );
    let (status, message) = rejected(push(&url, all[4..].to_vec()).await.unwrap_err());
    assert_eq!(status, 422);
    assert!(
        message.contains("entri audit 5 tidak bersambung: yang diharapkan entri 4"),
        "{message}"
    );
    assert_eq!(held().len(), 3, "nothing of a refused batch is stored");

    // Someone edits entry 5 in the village file: the sync says so, the server keeps nothing
    // of the batch (not even the intact entry 4), and the laptop's own check agrees.
    let raw = raw_village(&db);
    raw.execute(
        "UPDATE audit_log SET subject = 'NIK orang lain' WHERE seq = 5",
        [],
    )
    .unwrap();
    // The audit lane fails on its own (the other lanes ran): a refusal, not a retry.
    let message = audit_lane_failure(&sync(db.clone(), url.clone()).await.unwrap());
    assert_eq!(
        message,
        "Server Disdukcapil menolak permintaan (HTTP 422): \
         hash entri audit 5 tidak cocok dengan isinya; catatan audit telah diubah"
    );
    assert_eq!(held().len(), 3);
    assert_eq!(village.audit_acknowledged_seq().unwrap(), 3);
    assert_eq!(
        village.verify_audit_chain().unwrap(),
        Err(AuditChainBroken { seq: 5 })
    );

    // Restored, the rest goes through and both copies are the same chain.
    raw.execute(
        "UPDATE audit_log SET subject = ?1 WHERE seq = 5",
        [a.to_string()],
    )
    .unwrap();
    let r = sync(db.clone(), url.clone()).await.unwrap();
    assert_eq!(r.audit_entries, 3);
    assert_eq!(held(), village_wire(&village));
    assert_eq!(village.audit_acknowledged_seq().unwrap(), 6);
    let v = verify(&url).await;
    assert_eq!((v.entries, v.first_broken_seq), (6, None));

    // Cutting acknowledged entries off the laptop's log is noticed at the next sync.
    raw.execute("DELETE FROM audit_log WHERE seq = 6", [])
        .unwrap();
    let message = audit_lane_failure(&sync(db.clone(), url.clone()).await.unwrap());
    assert!(
        message.contains("data lokal rusak") && message.contains("entri 6"),
        "{message}"
    );
    let (db2, url2) = (db.clone(), url.clone());
    let err = tokio::task::spawn_blocking(move || {
        let store = VillageStore::open_encrypted(&db2, &DatabaseKey::from_bytes(KEY)).unwrap();
        loket_sync::audit::push_audit_log(&store, &client(&url2).unwrap(), &device())
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(&err, SyncError::Store(StoreError::Corrupt(m)) if m.contains("entri 6")),
        "{err:?}"
    );

    // An edit to the district's own copy shows up in the auditors' re-verification.
    let bo = rusqlite::Connection::open(dir.path().join("backoffice.sqlite")).unwrap();
    bo.execute(
        "UPDATE audit_entries SET actor = 'Orang Lain' WHERE seq = 2",
        [],
    )
    .unwrap();
    let v = verify(&url).await;
    assert_eq!((v.entries, v.first_broken_seq), (6, Some(2)));
    assert_eq!(
        v.message,
        "rantai catatan audit rusak mulai entri 2 (dari 6 entri tersimpan)"
    );
}

#[tokio::test]
async fn oversized_batches_unknown_villages_and_fresh_devices() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, url) = start_backoffice(dir.path()).await;
    let mut village = VillageStore::open_in_memory().unwrap();
    for minute in 0..3 {
        village
            .audit("Operator Uji", AuditAction::Verified, "doc", at(minute))
            .unwrap();
    }
    let entries = village_wire(&village);

    // A device's first batch must start at entry 1.
    let (status, message) = rejected(push(&url, entries[1..].to_vec()).await.unwrap_err());
    assert_eq!(status, 422);
    assert!(message.contains("yang diharapkan entri 1"), "{message}");

    // Entry 1 must link to the genesis hash.
    let mut forged = entries[0].clone();
    forged.prev_hash = "ab".repeat(32);
    let (status, message) = rejected(push(&url, vec![forged]).await.unwrap_err());
    assert_eq!(status, 422);
    assert!(
        message.contains("entri audit 1 tidak menyambung"),
        "{message}"
    );

    let too_many = vec![entries[0].clone(); loket_sync::protocol::MAX_AUDIT_BATCH + 1];
    let (status, message) = rejected(push(&url, too_many).await.unwrap_err());
    assert_eq!(status, 413);
    assert!(message.contains("500 entri audit"), "{message}");

    let stranger = url.clone();
    let entries_for_stranger = entries.clone();
    let err = tokio::task::spawn_blocking(move || {
        // Signed by this laptop but speaking for another device: refused.
        client(&stranger)?.push_audit(&AuditBatch {
            device: DeviceRef {
                village_code: "9999999999".into(),
                device_no: 1,
            },
            entries: entries_for_stranger,
        })
    })
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(rejected(err).0, 403);

    assert_eq!(
        push(&url, entries).await.unwrap(),
        AuditAck {
            acknowledged_through: 3,
            stored: 3
        }
    );
}
