//! Data minimisation: scans the back office holds are deleted from the laptop after the
//! retention period — only when every application using them is safely acknowledged — and each
//! purge is in the audit log, while the application record stays.

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate};
use loket_domain::{
    validate_applicant, ApplicantForm, ApplicationStatus, ProvidedDocument, RegionCode, ServiceCode,
};
use loket_store::{
    DatabaseKey, DeviceIdentity, NewApplication, NewScan, VillageStore, SCAN_RETENTION_SETTING,
};
use uuid::Uuid;

fn register(store: &mut VillageStore, n: u8, now: DateTime<FixedOffset>) -> (Uuid, String) {
    let page = store
        .put_scan(
            &NewScan {
                bytes: vec![0xFF, 0xD8, 0xFF, n, 9, 9, 9],
                media_type: "image/jpeg".into(),
                thumbnail: vec![1, 2, 3],
            },
            now,
        )
        .unwrap();
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: "Andi Tenri Ajeng".into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: String::new(),
    };
    let applicant = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap();
    let mut new = NewApplication::new(ServiceCode::parse("kia").unwrap(), "2026.11.1", applicant);
    new.provided = vec![ProvidedDocument {
        slot: "kk".into(),
        pages: vec![page.clone()],
    }];
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let id = Uuid::from_u128(u128::from(n));
    store.register(&device, &new, "op", now, id).unwrap();
    (id, page.sha256)
}

#[test]
fn held_scans_are_purged_after_the_retention_period_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = VillageStore::open_encrypted(
        &dir.path().join("v.sqlite"),
        &DatabaseKey::from_bytes([1; 32]),
    )
    .unwrap();
    let now = Local::now().fixed_offset();
    let (acked, acked_page) = register(&mut store, 1, now);
    let (queued, queued_page) = register(&mut store, 2, now);
    store
        .mark_acknowledged(acked, ApplicationStatus::Received)
        .unwrap();
    store.mark_upload_complete(&acked_page).unwrap();
    // The back office also holds the queued one's page (e.g. from another application), but
    // this application is not acknowledged yet: its scan must stay.
    store.mark_upload_complete(&queued_page).unwrap();

    // Within the period: nothing goes.
    assert_eq!(
        store
            .purge_uploaded_scans(now + Duration::days(29), "op")
            .unwrap(),
        0
    );
    assert!(store.scan_bytes(&acked_page).unwrap().is_some());

    // After it: the acknowledged application's page goes, the record stays, the log says so.
    assert_eq!(
        store
            .purge_uploaded_scans(now + Duration::days(31), "op")
            .unwrap(),
        1
    );
    assert_eq!(store.scan_bytes(&acked_page).unwrap(), None);
    assert!(store.scan_bytes(&queued_page).unwrap().is_some());
    let app = store.application(acked).unwrap();
    assert_eq!(app.provided[0].pages[0].sha256, acked_page);
    assert!(store.application(queued).is_ok());
    let log = store.audit_log().unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "purged_scans" && e.subject == acked.to_string()));
    assert_eq!(store.verify_audit_chain().unwrap(), Ok(log.len()));
    // Purging again finds nothing more.
    assert_eq!(
        store
            .purge_uploaded_scans(now + Duration::days(40), "op")
            .unwrap(),
        0
    );

    // A district that keeps scans 60 days: a later page waits longer.
    store.set_setting(SCAN_RETENTION_SETTING, "60").unwrap();
    store
        .mark_acknowledged(queued, ApplicationStatus::Received)
        .unwrap();
    assert_eq!(
        store
            .purge_uploaded_scans(now + Duration::days(40), "op")
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_uploaded_scans(now + Duration::days(61), "op")
            .unwrap(),
        1
    );
}
