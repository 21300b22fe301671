//! The village store on a real SQLite file.

use chrono::{DateTime, FixedOffset, NaiveDate};
use loket_domain::{
    validate_applicant, Applicant, ApplicantForm, ApplicationStatus, RegionCode, ServiceCode,
};
use loket_store::{
    DatabaseKey, DeviceIdentity, NewApplication, StatusChange, StoreError, VillageStore,
};
use uuid::Uuid;

fn device() -> DeviceIdentity {
    DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    }
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn sample() -> NewApplication {
    NewApplication::new(
        ServiceCode::parse("ktp_el_baru").unwrap(),
        "2026.11.1",
        applicant(),
    )
}

fn applicant() -> Applicant {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: "Andi Tenri Ajeng".into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: "081234567890".into(),
    };
    validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap()
}

/// A fixed key: these tests are about the store, `operators.rs` is about keys.
const KEY: [u8; 32] = [7; 32];

fn key() -> DatabaseKey {
    DatabaseKey::from_bytes(KEY)
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn numbers_per_day_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    {
        let mut s = VillageStore::open_encrypted(&path, &key()).unwrap();
        let a = s
            .register(
                &device(),
                &sample(),
                "op",
                at("2026-11-22T09:00:00+08:00"),
                id(1),
            )
            .unwrap();
        let b = s
            .register(
                &device(),
                &sample(),
                "op",
                at("2026-11-22T09:05:00+08:00"),
                id(2),
            )
            .unwrap();
        assert_eq!(a.tracking_number, "7315012003-001-261122-0001");
        assert_eq!(b.tracking_number, "7315012003-001-261122-0002");
        assert_eq!(a.status, ApplicationStatus::Queued);
    }
    let mut s = VillageStore::open_encrypted(&path, &key()).unwrap();
    let c = s
        .register(
            &device(),
            &sample(),
            "op",
            at("2026-11-23T08:00:00+08:00"),
            id(3),
        )
        .unwrap();
    assert_eq!(c.tracking_number, "7315012003-001-261123-0001");
    assert_eq!(s.applications().unwrap().len(), 3);
    assert_eq!(s.outbox(100).unwrap().len(), 3);
}

#[test]
fn a_failed_registration_leaves_nothing_behind() {
    let mut s = VillageStore::open_in_memory().unwrap();
    s.register(
        &device(),
        &sample(),
        "op",
        at("2026-11-22T09:00:00+08:00"),
        id(1),
    )
    .unwrap();
    // Same id again: the insert fails, so the counter bump must roll back with it.
    let err = s
        .register(
            &device(),
            &sample(),
            "op",
            at("2026-11-22T09:01:00+08:00"),
            id(1),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Sqlite(_)));
    let next = s
        .register(
            &device(),
            &sample(),
            "op",
            at("2026-11-22T09:02:00+08:00"),
            id(2),
        )
        .unwrap();
    assert_eq!(next.tracking_number, "7315012003-001-261122-0002");
    assert_eq!(s.applications().unwrap().len(), 2);
}

#[test]
fn acknowledgement_and_status_changes() {
    let mut s = VillageStore::open_in_memory().unwrap();
    s.register(
        &device(),
        &sample(),
        "op",
        at("2026-11-22T09:00:00+08:00"),
        id(1),
    )
    .unwrap();
    s.register(
        &device(),
        &sample(),
        "op",
        at("2026-11-22T09:00:00+08:00"),
        id(2),
    )
    .unwrap();
    s.mark_acknowledged(id(1), ApplicationStatus::Received)
        .unwrap();
    assert_eq!(s.outbox(10).unwrap().len(), 1);
    assert_eq!(
        s.application(id(1)).unwrap().status,
        ApplicationStatus::Received
    );

    let changes = vec![
        StatusChange {
            application_id: id(1),
            status: ApplicationStatus::Issued,
            reason: None,
            document: Some((
                "7315-SK-2026-000001".into(),
                NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                loket_store::hex(&<sha2::Sha256 as sha2::Digest>::digest(b"%PDF-1.7 x")),
            )),
        },
        StatusChange {
            application_id: id(2),
            status: ApplicationStatus::Rejected,
            reason: Some("Foto KK tidak terbaca".into()),
            document: None,
        },
    ];
    assert_eq!(s.apply_changes(&changes, 7).unwrap(), 2);
    assert_eq!(s.pull_cursor().unwrap(), 7);
    // A late acknowledgement must not move an issued application back to "received".
    s.mark_acknowledged(id(1), ApplicationStatus::Received)
        .unwrap();
    let a = s.application(id(1)).unwrap();
    assert_eq!(a.status, ApplicationStatus::Issued);
    assert_eq!(
        a.document.as_ref().unwrap().doc_number,
        "7315-SK-2026-000001"
    );
    assert!(!a.document.unwrap().has_pdf);
    assert_eq!(
        s.application(id(2)).unwrap().reason.as_deref(),
        Some("Foto KK tidak terbaca")
    );
    assert!(s.outbox(10).unwrap().is_empty());

    assert_eq!(s.documents_missing_pdf().unwrap().len(), 1);
    assert!(matches!(
        s.store_document_pdf(id(1), b"%PDF-1.7 truncated"),
        Err(StoreError::DocumentHashMismatch)
    ));
    s.store_document_pdf(id(1), b"%PDF-1.7 x").unwrap();
    assert_eq!(s.document_pdf(id(1)).unwrap().unwrap(), b"%PDF-1.7 x");
    assert!(s.documents_missing_pdf().unwrap().is_empty());
}

#[test]
fn audit_log_records_and_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let mut s = VillageStore::open_encrypted(&path, &key()).unwrap();
    let app = s
        .register(
            &device(),
            &sample(),
            "Hasnawati",
            at("2026-11-22T09:00:00+08:00"),
            id(1),
        )
        .unwrap();
    s.audit(
        "Hasnawati",
        loket_store::AuditAction::PrintedReceipt,
        &app.id.to_string(),
        at("2026-11-22T09:01:00+08:00"),
    )
    .unwrap();
    s.audit(
        "Hasnawati",
        loket_store::AuditAction::Verified,
        "7315-SK-2026-000001",
        at("2026-11-22T09:02:00+08:00"),
    )
    .unwrap();
    let log = s.audit_log().unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created", "printed_receipt", "verified"]);
    assert_eq!(log[1].prev_hash, log[0].hash);
    assert_eq!(s.verify_audit_chain().unwrap(), Ok(3));

    // Someone edits the file behind Loket's back: the chain says where.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    raw.execute(
        "UPDATE audit_log SET actor = 'Orang Lain' WHERE seq = 2",
        [],
    )
    .unwrap();
    assert_eq!(
        s.verify_audit_chain().unwrap(),
        Err(loket_store::AuditChainBroken { seq: 2 })
    );
    raw.execute("UPDATE audit_log SET actor = 'Hasnawati' WHERE seq = 2", [])
        .unwrap();
    assert_eq!(s.verify_audit_chain().unwrap(), Ok(3));
    raw.execute("DELETE FROM audit_log WHERE seq = 1", [])
        .unwrap();
    assert_eq!(
        s.verify_audit_chain().unwrap(),
        Err(loket_store::AuditChainBroken { seq: 1 })
    );
}

#[test]
fn search_by_text_status_and_date() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let mut other = sample();
    other.applicant.full_name = "Baso Rahmat Hidayat".into();
    s.register(
        &device(),
        &sample(),
        "op",
        at("2026-11-20T09:00:00+08:00"),
        id(1),
    )
    .unwrap();
    s.register(
        &device(),
        &other,
        "op",
        at("2026-11-22T09:00:00+08:00"),
        id(2),
    )
    .unwrap();
    s.mark_acknowledged(id(2), ApplicationStatus::Received)
        .unwrap();
    let find = |q: loket_store::ApplicationQuery| -> Vec<Uuid> {
        s.search(&q).unwrap().iter().map(|a| a.id).collect()
    };
    let text = |t: &str| loket_store::ApplicationQuery {
        text: Some(t.into()),
        ..Default::default()
    };
    assert_eq!(find(Default::default()), [id(2), id(1)]);
    assert_eq!(find(text("tenri")), [id(1)]);
    assert_eq!(find(text("BASO rahmat")), [id(2)]);
    assert_eq!(find(text("73150155")), [id(2), id(1)]);
    assert_eq!(find(text("261120-0001")), [id(1)]);
    assert!(find(text("%")).is_empty(), "wildcards are literal");
    assert!(find(text("_")).is_empty());
    assert_eq!(
        find(loket_store::ApplicationQuery {
            status: Some(ApplicationStatus::Received),
            ..Default::default()
        }),
        [id(2)]
    );
    assert_eq!(
        find(loket_store::ApplicationQuery {
            from: NaiveDate::from_ymd_opt(2026, 11, 21),
            ..Default::default()
        }),
        [id(2)]
    );
    assert_eq!(
        find(loket_store::ApplicationQuery {
            to: NaiveDate::from_ymd_opt(2026, 11, 21),
            text: Some("andi".into()),
            ..Default::default()
        }),
        [id(1)]
    );
}
