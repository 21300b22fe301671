//! Corrections on the village store (a real SQLCipher file): only an application the back office
//! returned may be edited, the edit is the next revision in one transaction (history, outbox,
//! scan references, audit), and anything else is frozen with nothing changed.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use loket_domain::{
    validate_applicant, Applicant, ApplicantForm, ApplicationStatus, ProvidedDocument, RegionCode,
    ScanRef, ServiceCode,
};
use loket_store::{
    DatabaseKey, DeviceIdentity, NewApplication, NewScan, OutboxState, StatusChange, StoreError,
    VillageStore,
};
use uuid::Uuid;

fn at(minutes: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::minutes(minutes)
}

fn applicant(name: &str) -> Applicant {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: name.into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: String::new(),
    };
    validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap()
}

fn page(store: &mut VillageStore, seed: u8) -> ScanRef {
    store
        .put_scan(
            &NewScan {
                bytes: vec![seed; 3000],
                media_type: "image/jpeg".into(),
                thumbnail: vec![seed; 10],
            },
            at(0),
        )
        .unwrap()
}

fn ktp(name: &str, kk: ScanRef) -> NewApplication {
    let mut app = NewApplication::new(
        ServiceCode::parse("ktp_el_baru").unwrap(),
        "2026.11.1",
        applicant(name),
    );
    app.fields
        .insert("nomor_kk".into(), "7315011203150007".into());
    app.provided = vec![ProvidedDocument {
        slot: "kk".into(),
        pages: vec![kk],
    }];
    app
}

fn open(dir: &tempfile::TempDir) -> VillageStore {
    VillageStore::open_encrypted(
        &dir.path().join("village.sqlite"),
        &DatabaseKey::from_bytes([5; 32]),
    )
    .unwrap()
}

fn register(store: &mut VillageStore, n: u128, kk: ScanRef) -> Uuid {
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    store
        .register(
            &device,
            &ktp("Andi Tenri Ajeng", kk),
            "Operator Pagi",
            at(n as i64),
            Uuid::from_u128(n),
        )
        .unwrap()
        .id
}

fn set_status(store: &mut VillageStore, id: Uuid, status: ApplicationStatus, reason: Option<&str>) {
    store
        .mark_acknowledged(id, ApplicationStatus::Received)
        .unwrap();
    let cursor = store.pull_cursor().unwrap() + 1;
    store
        .apply_changes(
            &[StatusChange {
                application_id: id,
                status,
                reason: reason.map(str::to_string),
                document: None,
            }],
            cursor,
        )
        .unwrap();
}

#[test]
fn an_application_that_was_not_returned_is_frozen_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let kk = page(&mut s, 1);
    let other = page(&mut s, 2);
    // queued (never sent), received, rejected, issued
    let ids: Vec<Uuid> = (1..=4).map(|n| register(&mut s, n, kk.clone())).collect();
    set_status(&mut s, ids[1], ApplicationStatus::Received, None);
    set_status(
        &mut s,
        ids[2],
        ApplicationStatus::Rejected,
        Some("Bukan warga"),
    );
    set_status(&mut s, ids[3], ApplicationStatus::Issued, None);
    let audit_before = s.audit_log().unwrap().len();
    for (id, status) in ids.iter().zip([
        ApplicationStatus::Queued,
        ApplicationStatus::Received,
        ApplicationStatus::Rejected,
        ApplicationStatus::Issued,
    ]) {
        let before = (s.application(*id).unwrap(), s.outbox_item(*id).unwrap());
        let err = s
            .correct(
                *id,
                &ktp("Nama Baru", other.clone()),
                "Operator Sore",
                at(90),
                Uuid::from_u128(500),
            )
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Frozen { status: s } if s == status),
            "{status:?}: {err:?}"
        );
        assert!(err.to_string().contains("tidak dapat diubah"), "{err}");
        assert_eq!(
            before,
            (s.application(*id).unwrap(), s.outbox_item(*id).unwrap())
        );
        assert!(s.revisions(*id).unwrap().is_empty());
    }
    assert_eq!(s.audit_log().unwrap().len(), audit_before);
    assert!(matches!(
        s.correct(
            Uuid::from_u128(99),
            &ktp("X", kk),
            "op",
            at(90),
            Uuid::from_u128(501)
        ),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn a_returned_application_is_corrected_into_the_next_revision_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let blurry = page(&mut s, 1);
    let id = register(&mut s, 1, blurry.clone());
    set_status(
        &mut s,
        id,
        ApplicationStatus::Returned,
        Some("Pindaian KK buram"),
    );
    assert_eq!(s.outbox_state(id).unwrap(), Some(OutboxState::Decided));
    let original = s.application(id).unwrap();
    assert_eq!(original.reason.as_deref(), Some("Pindaian KK buram"));

    // Another service, or a page this laptop does not hold: refused, nothing changes.
    let mut other_service = ktp("Andi Tenri Ajeng", blurry.clone());
    other_service.service = ServiceCode::parse("kia").unwrap();
    assert!(matches!(
        s.correct(
            id,
            &other_service,
            "Operator Sore",
            at(60),
            Uuid::from_u128(500)
        ),
        Err(StoreError::ServiceChanged)
    ));
    let ghost = ScanRef {
        sha256: "f".repeat(64),
        size: 1,
        media_type: "image/jpeg".into(),
    };
    assert!(matches!(
        s.correct(
            id,
            &ktp("Andi Tenri Ajeng", ghost),
            "Operator Sore",
            at(60),
            Uuid::from_u128(500)
        ),
        Err(StoreError::MissingScan { .. })
    ));
    assert_eq!(s.application(id).unwrap(), original);

    let sharp = page(&mut s, 2);
    let mut corrected_form = ktp("Andi Tenri Ajeng Putri", sharp.clone());
    corrected_form
        .fields
        .insert("nomor_kk".into(), "7315011203150008".into());
    let revision_id = Uuid::from_u128(500);
    let corrected = s
        .correct(id, &corrected_form, "Operator Sore", at(60), revision_id)
        .unwrap();
    assert_eq!(corrected.revision, 1);
    assert_eq!(corrected.revision_id, Some(revision_id));
    assert_eq!(corrected.status, ApplicationStatus::Queued);
    assert_eq!(corrected.reason, None);
    assert_eq!(corrected.tracking_number, original.tracking_number);
    assert_eq!(corrected.captured_at, original.captured_at);
    assert_eq!(
        corrected.operator, "Operator Pagi",
        "the capturing operator stays"
    );
    assert_eq!(corrected.data.full_name, "Andi Tenri Ajeng Putri");
    assert_eq!(corrected.fields["nomor_kk"], "7315011203150008");
    assert_eq!(corrected.provided[0].pages[0], sharp);

    // The outbox sends it again as a fresh item.
    let item = s.outbox_item(id).unwrap().unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    assert_eq!((item.attempts, item.last_error), (0, None));
    assert_eq!(s.outbox(10).unwrap()[0].id, id);

    // The replaced version is kept with why it was returned and who corrected it.
    let history = s.revisions(id).unwrap();
    assert_eq!(history.len(), 1);
    let old = &history[0];
    assert_eq!((old.revision, old.revision_id), (0, None));
    assert_eq!(old.data.full_name, "Andi Tenri Ajeng");
    assert_eq!(old.fields["nomor_kk"], "7315011203150007");
    assert_eq!(old.provided[0].pages[0], blurry);
    assert_eq!(old.returned_reason.as_deref(), Some("Pindaian KK buram"));
    assert_eq!(
        (old.corrected_at, old.corrected_by.as_str()),
        (at(60), "Operator Sore")
    );

    // Audited, and the chain still holds.
    let log = s.audit_log().unwrap();
    let last = log.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.as_str(),
            last.subject.clone()
        ),
        ("corrected", "Operator Sore", id.to_string())
    );
    assert!(s.verify_audit_chain().unwrap().is_ok());

    // The scan references follow: the blurry page is no longer held by any application.
    assert_eq!(s.purge_unreferenced_scans(at(24 * 60)).unwrap(), 1);
    assert!(s.scan(&blurry.sha256).unwrap().is_none());
    assert!(s.scan(&sharp.sha256).unwrap().is_some());

    // Sent and acknowledged, it is frozen again; a second return allows revision 2.
    s.mark_acknowledged(id, ApplicationStatus::Received)
        .unwrap();
    assert!(matches!(
        s.correct(
            id,
            &corrected_form,
            "Operator Sore",
            at(70),
            Uuid::from_u128(501)
        ),
        Err(StoreError::Frozen {
            status: ApplicationStatus::Received
        })
    ));
    set_status(
        &mut s,
        id,
        ApplicationStatus::Returned,
        Some("Nomor KK salah ketik"),
    );
    let again = s
        .correct(
            id,
            &ktp("Andi Tenri Ajeng Putri", sharp),
            "Operator Pagi",
            at(80),
            Uuid::from_u128(501),
        )
        .unwrap();
    assert_eq!(again.revision, 2);
    let history = s.revisions(id).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|r| (r.revision, r.returned_reason.clone()))
            .collect::<Vec<_>>(),
        [
            (0, Some("Pindaian KK buram".to_string())),
            (1, Some("Nomor KK salah ketik".to_string()))
        ]
    );
    assert_eq!(history[1].revision_id, Some(revision_id));

    // All of it survives a reopen.
    drop(s);
    let s = open(&dir);
    assert_eq!(s.application(id).unwrap().revision, 2);
    assert_eq!(s.revisions(id).unwrap().len(), 2);
}
