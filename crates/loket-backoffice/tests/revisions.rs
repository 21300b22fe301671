//! Return for correction and revisions: the reviewer's return (reason required, only from
//! `received`), the submit rules for revisions (exactly once per revision, conflicts explained),
//! the history kept on a real SQLite file, and the whole round trip with a village laptop over
//! loopback.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore, DecisionError};
use loket_domain::{
    validate_applicant, ApplicantForm, ApplicationStatus, ProvidedDocument, RegionCode, ScanRef,
    ServiceCode,
};
use loket_qr::IssuingKey;
use loket_store::{
    DatabaseKey, DeviceIdentity, NewApplication, NewScan, OutboxState, VillageStore,
};
use loket_sync::protocol::{ApplicationEnvelope, DeviceRef, SubmitBatch, SubmitOutcome};
use loket_sync::{sync_once, SyncClient};
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

fn other_device() -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: 2,
    }
}

fn key() -> IssuingKey {
    IssuingKey {
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    }
}

fn signer() -> (String, String) {
    ("Kepala Dinas".into(), "Kabupaten Pinrang".into())
}

fn applicant(name: &str) -> loket_domain::Applicant {
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

fn original(n: u128) -> ApplicationEnvelope {
    let at: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    ApplicationEnvelope {
        id: Uuid::from_u128(n),
        tracking_number: format!("7315012003-001-261122-{n:04}"),
        service: ServiceCode::parse("ktp_el_baru").unwrap(),
        captured_at: at,
        operator: "Operator Uji".into(),
        data: applicant("Andi Tenri Ajeng"),
        catalogue_version: "2026.11.1".into(),
        fields: [("nomor_kk".to_string(), "7315011203150007".to_string())].into(),
        provided: vec![ProvidedDocument {
            slot: "kk".into(),
            pages: vec![ScanRef {
                sha256: "a".repeat(64),
                size: 1000,
                media_type: "image/jpeg".into(),
            }],
        }],
        revision: 0,
        revision_id: None,
    }
}

/// Revision `n` of `base`: the name corrected, the KK page replaced, a fresh revision id.
fn revision(base: &ApplicationEnvelope, n: u32, name: &str) -> ApplicationEnvelope {
    let mut env = base.clone();
    env.revision = n;
    env.revision_id = Some(Uuid::from_u128(1000 + u128::from(n)));
    env.data = applicant(name);
    env.provided[0].pages[0].sha256 = format!("{n:x}").repeat(64)[..64].to_string();
    env
}

fn submit_one(
    store: &mut BackofficeStore,
    device: &DeviceRef,
    env: &ApplicationEnvelope,
    at: DateTime<Utc>,
) -> loket_sync::protocol::SubmitResult {
    store
        .submit(device, std::slice::from_ref(env), at)
        .unwrap()
        .remove(0)
}

fn store() -> (tempfile::TempDir, BackofficeStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BackofficeStore::open(&dir.path().join("backoffice.sqlite")).unwrap();
    (dir, store)
}

#[test]
fn a_return_needs_a_reason_and_only_an_application_under_review_can_be_returned() {
    let (_dir, mut s) = store();
    for n in 1..=4 {
        submit_one(&mut s, &device(), &original(n), now());
    }
    let id = |n| Uuid::from_u128(n);
    for reason in ["", "   ", &"x".repeat(501)] {
        assert!(matches!(
            s.return_for_correction(id(1), reason, now()),
            Err(DecisionError::ReturnReasonRequired)
        ));
    }
    assert_eq!(
        s.get(id(1)).unwrap().unwrap().status,
        ApplicationStatus::Received
    );
    assert!(s.updates(&device(), 0, 100).unwrap().is_empty());
    assert!(matches!(
        s.return_for_correction(Uuid::from_u128(99), "Foto buram", now()),
        Err(DecisionError::NotFound)
    ));

    // Issued, rejected and already returned applications cannot be returned (again).
    s.approve_and_issue(id(2), &key(), &signer(), now(), now().date_naive())
        .unwrap();
    s.reject(id(3), "Bukan warga desa ini", now()).unwrap();
    s.return_for_correction(id(4), "  Pindaian KK terpotong  ", now())
        .unwrap();
    for n in [2, 3, 4] {
        let before = s.get(id(n)).unwrap().unwrap();
        assert!(matches!(
            s.return_for_correction(id(n), "Lagi", now()),
            Err(DecisionError::AlreadyDecided(_))
        ));
        let after = s.get(id(n)).unwrap().unwrap();
        assert_eq!((before.status, before.reason), (after.status, after.reason));
    }
    // A returned application cannot be approved or rejected either, until a revision arrives.
    assert!(matches!(
        s.approve_and_issue(id(4), &key(), &signer(), now(), now().date_naive()),
        Err(DecisionError::AlreadyDecided(_))
    ));

    let returned = s.get(id(4)).unwrap().unwrap();
    assert_eq!(returned.status, ApplicationStatus::Returned);
    assert_eq!(returned.reason.as_deref(), Some("Pindaian KK terpotong"));
    // The return reaches the device's feed with its reason, once.
    let feed = s.updates(&device(), 0, 100).unwrap();
    let mine: Vec<_> = feed.iter().filter(|u| u.application_id == id(4)).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].status, ApplicationStatus::Returned);
    assert_eq!(mine[0].reason.as_deref(), Some("Pindaian KK terpotong"));
}

#[test]
fn revision_rules_store_each_revision_exactly_once_and_explain_every_conflict() {
    let (_dir, mut s) = store();
    let base = original(1);
    let later = now() + Duration::hours(1);
    assert_eq!(
        submit_one(&mut s, &device(), &base, now()).outcome,
        SubmitOutcome::Stored
    );
    let rev1 = revision(&base, 1, "Andi Tenri Ajeng Putri");

    // (what is sent, from which device, expected outcome, words the message must contain)
    type Case<'a> = (
        &'a str,
        ApplicationEnvelope,
        DeviceRef,
        SubmitOutcome,
        &'a str,
    );
    let mut edited = base.clone();
    edited.data = applicant("Andi Lain");
    let mut unknown = revision(&original(7), 1, "Siapa");
    unknown.id = Uuid::from_u128(7);
    let before_return: Vec<Case> = vec![
        (
            "same revision 0, same content",
            base.clone(),
            device(),
            SubmitOutcome::AlreadyStored,
            "",
        ),
        (
            "same revision 0, other content",
            edited.clone(),
            device(),
            SubmitOutcome::Conflict,
            "isi berbeda",
        ),
        (
            "revision 1 of an application under review",
            rev1.clone(),
            device(),
            SubmitOutcome::Conflict,
            "tidak sedang dikembalikan",
        ),
        (
            "revision 1 of an application never received",
            unknown,
            device(),
            SubmitOutcome::Conflict,
            "belum pernah diterima",
        ),
    ];
    check(&mut s, &before_return);
    assert!(s.get(Uuid::from_u128(7)).unwrap().is_none());

    s.return_for_correction(base.id, "Nama tidak sesuai KK", now())
        .unwrap();
    let mut no_revision_id = rev1.clone();
    no_revision_id.revision_id = None;
    let mut other_tracking = rev1.clone();
    other_tracking.tracking_number = "7315012003-001-261122-0999".into();
    let while_returned: Vec<Case> = vec![
        (
            "revision 2 skips revision 1",
            revision(&base, 2, "Andi"),
            device(),
            SubmitOutcome::Conflict,
            "revisi berikutnya harus 1",
        ),
        (
            "revision 1 from another device",
            rev1.clone(),
            other_device(),
            SubmitOutcome::Conflict,
            "perangkat lain",
        ),
        (
            "revision 1 without a revision id",
            no_revision_id,
            device(),
            SubmitOutcome::Conflict,
            "ID revisi",
        ),
        (
            "revision 1 with another tracking number",
            other_tracking,
            device(),
            SubmitOutcome::Conflict,
            "tidak boleh berubah",
        ),
    ];
    check(&mut s, &while_returned);
    let held = s.get(base.id).unwrap().unwrap();
    assert_eq!(
        (held.status, held.revision),
        (ApplicationStatus::Returned, 0)
    );

    // The next revision of a returned application is stored, and is back under review.
    let stored = submit_one(&mut s, &device(), &rev1, later);
    assert_eq!(stored.outcome, SubmitOutcome::Stored);
    assert_eq!(stored.status, ApplicationStatus::Received);
    assert_eq!(
        stored.received_at,
        now(),
        "received_at stays the first arrival"
    );

    let mut rev1_edited = rev1.clone();
    rev1_edited.data = applicant("Andi Berbeda");
    let mut rev1_other_id = rev1.clone();
    rev1_other_id.revision_id = Some(Uuid::from_u128(4242));
    let after: Vec<Case> = vec![
        (
            "revision 1 again (lost answer, second bundle import)",
            rev1.clone(),
            device(),
            SubmitOutcome::AlreadyStored,
            "",
        ),
        (
            "the original again (an old bundle)",
            base.clone(),
            device(),
            SubmitOutcome::AlreadyStored,
            "",
        ),
        (
            "the original with other content",
            edited,
            device(),
            SubmitOutcome::Conflict,
            "revisi 0",
        ),
        (
            "revision 1 with other content",
            rev1_edited,
            device(),
            SubmitOutcome::Conflict,
            "isi berbeda",
        ),
        (
            "revision 1 under another revision id",
            rev1_other_id,
            device(),
            SubmitOutcome::Conflict,
            "isi berbeda",
        ),
        (
            "revision 2 while under review again",
            revision(&base, 2, "Andi"),
            device(),
            SubmitOutcome::Conflict,
            "tidak sedang dikembalikan",
        ),
    ];
    check(&mut s, &after);
    let held = s.get(base.id).unwrap().unwrap();
    assert_eq!(held.status, ApplicationStatus::Received);
    assert_eq!(held.revision, 1);
    assert_eq!(held.revision_id, rev1.revision_id);
    assert_eq!(held.data.full_name, "Andi Tenri Ajeng Putri");
    assert_eq!(
        s.count().unwrap(),
        1,
        "one application, whatever was resent"
    );
}

fn check(
    s: &mut BackofficeStore,
    cases: &[(&str, ApplicationEnvelope, DeviceRef, SubmitOutcome, &str)],
) {
    for (what, env, from, outcome, words) in cases {
        let before = s
            .get(env.id)
            .unwrap()
            .map(|a| (a.status, a.revision, a.data));
        let r = submit_one(s, from, env, now() + Duration::minutes(5));
        assert_eq!(r.outcome, *outcome, "{what}");
        match outcome {
            SubmitOutcome::Conflict => {
                let message = r.message.unwrap_or_default();
                assert!(message.contains(words), "{what}: {message}");
            }
            _ => assert_eq!(r.message, None, "{what}"),
        }
        let after = s
            .get(env.id)
            .unwrap()
            .map(|a| (a.status, a.revision, a.data));
        assert_eq!(before, after, "{what}: nothing changed");
    }
}

#[test]
fn history_keeps_every_revision_with_its_return_and_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backoffice.sqlite");
    let base = original(1);
    let t = |h: i64| now() + Duration::hours(h);
    {
        let mut s = BackofficeStore::open(&path).unwrap();
        submit_one(&mut s, &device(), &base, t(0));
        s.return_for_correction(base.id, "Nama tidak sesuai KK", t(1))
            .unwrap();
        submit_one(&mut s, &device(), &revision(&base, 1, "Andi Tenri"), t(2));
        s.return_for_correction(base.id, "Pindaian KK buram", t(3))
            .unwrap();
        let mut rev2 = revision(&base, 2, "Andi Tenri");
        rev2.fields
            .insert("nomor_kk".into(), "7315011203150008".into());
        submit_one(&mut s, &device(), &rev2, t(4));
    }
    // Reopened: the history is on disk.
    let s = BackofficeStore::open(&path).unwrap();
    let revs = s.revisions(base.id).unwrap();
    assert_eq!(
        revs.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(
        revs.iter().map(|r| r.received_at).collect::<Vec<_>>(),
        [t(0), t(2), t(4)]
    );
    assert_eq!(
        revs.iter().map(|r| r.returned.clone()).collect::<Vec<_>>(),
        [
            Some((t(1), "Nama tidak sesuai KK".to_string())),
            Some((t(3), "Pindaian KK buram".to_string())),
            None
        ]
    );
    assert_eq!(revs[0].revision_id, None);
    assert_eq!(revs[2].revision_id, Some(Uuid::from_u128(1002)));
    assert_eq!(revs[0].data.full_name, "Andi Tenri Ajeng");

    let service = ServiceCode::parse("ktp_el_baru").unwrap();
    let first = loket_backoffice::store::revision_changes(&service, &revs[0], &revs[1]);
    let what: Vec<&str> = first.iter().map(|c| c.what.as_str()).collect();
    assert!(what.contains(&"Nama lengkap"), "{first:?}");
    let name = first.iter().find(|c| c.what == "Nama lengkap").unwrap();
    assert_eq!(
        (name.old.as_str(), name.new.as_str()),
        ("Andi Tenri Ajeng", "Andi Tenri")
    );
    assert!(
        first.iter().any(|c| c.old.contains("aaaaaaaa")),
        "{first:?}"
    );
    let second = loket_backoffice::store::revision_changes(&service, &revs[1], &revs[2]);
    assert!(
        second
            .iter()
            .any(|c| c.old == "7315011203150007" && c.new == "7315011203150008"),
        "{second:?}"
    );
    assert!(!second.iter().any(|c| c.what == "Nama lengkap"));

    // The feed: returned, received (revision 1), returned, received (revision 2).
    let feed: Vec<_> = s
        .updates(&device(), 0, 100)
        .unwrap()
        .into_iter()
        .map(|u| (u.status, u.reason))
        .collect();
    assert_eq!(
        feed,
        [
            (
                ApplicationStatus::Returned,
                Some("Nama tidak sesuai KK".into())
            ),
            (ApplicationStatus::Received, None),
            (
                ApplicationStatus::Returned,
                Some("Pindaian KK buram".into())
            ),
            (ApplicationStatus::Received, None),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The round trip with a village laptop.

const VILLAGE_KEY: [u8; 32] = [3; 32];

fn village_at(minutes: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::minutes(minutes)
}

fn page(store: &mut VillageStore, seed: u8) -> ScanRef {
    store
        .put_scan(
            &NewScan {
                bytes: vec![seed; 2000],
                media_type: "image/jpeg".into(),
                thumbnail: vec![seed; 10],
            },
            village_at(0),
        )
        .unwrap()
}

fn ktp(name: &str, kk_page: ScanRef) -> NewApplication {
    let mut app = NewApplication::new(
        ServiceCode::parse("ktp_el_baru").unwrap(),
        "2026.11.1",
        applicant(name),
    );
    app.provided = vec![ProvidedDocument {
        slot: "kk".into(),
        pages: vec![kk_page],
    }];
    app
}

/// Runs a blocking sync pass off the async runtime, as the desktop app does.
async fn sync(db: std::path::PathBuf, url: String) -> loket_sync::SyncReport {
    tokio::task::spawn_blocking(move || {
        let mut store =
            VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes(VILLAGE_KEY)).unwrap();
        let client = SyncClient::new(&url)
            .unwrap()
            .with_device_key(device(), ed25519_dalek::SigningKey::from_bytes(&[1; 32]))
            .with_clock(Arc::new(now));
        sync_once(&mut store, &client, &device()).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn returned_corrected_and_resent_as_revision_one_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let mut village =
        VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes(VILLAGE_KEY)).unwrap();
    let blurry = page(&mut village, 1);
    let id = village
        .register(
            &DeviceIdentity {
                village: RegionCode::parse_village("7315012003").unwrap(),
                device_no: 1,
            },
            &ktp("Andi Tenri Ajeng", blurry),
            "Operator Uji",
            village_at(0),
            Uuid::from_u128(1),
        )
        .unwrap()
        .id;

    let state = AppState {
        store: Arc::new(Mutex::new(
            BackofficeStore::open(&dir.path().join("backoffice.sqlite")).unwrap(),
        )),
        key: Arc::new(key()),
        signer: Arc::new(signer()),
        clock: Arc::new(now),
    };
    loket_backoffice::testing::enroll_in(&state, &device(), [1; 32]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(loket_backoffice::serve(listener, state.clone()));

    // 1. The village submits; 2. a reviewer returns it with a reason.
    assert_eq!(sync(db.clone(), url.clone()).await.sent, 1);
    state
        .store
        .lock()
        .unwrap()
        .return_for_correction(id, "Pindaian KK buram; foto ulang", now())
        .unwrap();

    // 3. The village syncs and sees the return and its reason; the item is decided.
    let r = sync(db.clone(), url.clone()).await;
    assert_eq!((r.sent, r.updated), (0, 1));
    let returned = village.application(id).unwrap();
    assert_eq!(returned.status, ApplicationStatus::Returned);
    assert_eq!(
        returned.reason.as_deref(),
        Some("Pindaian KK buram; foto ulang")
    );
    assert_eq!(
        village.outbox_state(id).unwrap(),
        Some(OutboxState::Decided)
    );

    // 4. The operator corrects it (new scan) into revision 1; 5. the next sync sends it.
    let sharp = page(&mut village, 2);
    let revision_id = Uuid::from_u128(77);
    let corrected = village
        .correct(
            id,
            &ktp("Andi Tenri Ajeng", sharp.clone()),
            "Operator Uji",
            village_at(60),
            revision_id,
        )
        .unwrap();
    assert_eq!(corrected.revision, 1);
    assert_eq!(village.outbox_state(id).unwrap(), Some(OutboxState::Queued));
    let r = sync(db.clone(), url.clone()).await;
    assert_eq!(r.sent, 1);
    assert_eq!(r.failed, 0);
    let after = village.application(id).unwrap();
    assert_eq!(after.status, ApplicationStatus::Received);
    assert_eq!(after.tracking_number, returned.tracking_number);

    // The server holds revision 1 under review, with revision 0 and its return in the history.
    {
        let bo = state.store.lock().unwrap();
        let held = bo.get(id).unwrap().unwrap();
        assert_eq!(held.status, ApplicationStatus::Received);
        assert_eq!((held.revision, held.revision_id), (1, Some(revision_id)));
        assert_eq!(held.provided[0].pages[0].sha256, sharp.sha256);
        let revs = bo.revisions(id).unwrap();
        assert_eq!(revs.len(), 2);
        assert_eq!(
            revs[0].returned.as_ref().map(|(_, why)| why.as_str()),
            Some("Pindaian KK buram; foto ulang")
        );
        assert_eq!(bo.count().unwrap(), 1);
    }
    // The corrected page follows like any page of an acknowledged application.
    assert!(state
        .store
        .lock()
        .unwrap()
        .blob_statuses(std::slice::from_ref(&sharp.sha256))
        .unwrap()
        .iter()
        .any(|b| b.complete));

    // Resending the same revision (a lost answer) is already_stored and changes nothing.
    let envelope = loket_sync::protocol::envelope(&village.application(id).unwrap());
    assert_eq!(envelope.revision, 1);
    let answer = state
        .store
        .lock()
        .unwrap()
        .submit(
            &device(),
            &SubmitBatch {
                device: device(),
                applications: vec![envelope],
            }
            .applications,
            now(),
        )
        .unwrap();
    assert_eq!(answer[0].outcome, SubmitOutcome::AlreadyStored);
    assert_eq!(answer[0].status, ApplicationStatus::Received);
    assert_eq!(state.store.lock().unwrap().revisions(id).unwrap().len(), 2);

    // Nothing left to do on either side.
    let r = sync(db, url).await;
    assert_eq!((r.sent, r.failed), (0, 0));
    assert_eq!(village.revisions(id).unwrap().len(), 1);
}
