//! The durable outbox's state machine on a real (encrypted) SQLite file: queued → sending →
//! acknowledged → decided, failed_permanent, retries with their wait and reason, "retry now",
//! and a `sending` item surviving a closed store (the crash case).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use loket_domain::{validate_applicant, ApplicantForm, ApplicationStatus, RegionCode, ServiceCode};
use loket_store::{
    DatabaseKey, DeviceIdentity, NewApplication, OutboxState, StatusChange, StoreError,
    VillageStore, INTERRUPTED_MESSAGE,
};
use uuid::Uuid;

fn key() -> DatabaseKey {
    DatabaseKey::from_bytes([11; 32])
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn register(store: &mut VillageStore, n: u128) -> Uuid {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: format!(
            "Warga Nomor {}",
            ["Satu", "Dua", "Tiga", "Empat"][n as usize % 4]
        ),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: String::new(),
    };
    let applicant = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap();
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let at: DateTime<FixedOffset> = DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00")
        .unwrap()
        + Duration::minutes(n as i64);
    store
        .register(
            &device,
            &NewApplication::new(
                ServiceCode::parse("ktp_el_baru").unwrap(),
                "2026.11.1",
                applicant,
            ),
            "Operator Uji",
            at,
            Uuid::from_u128(n),
        )
        .unwrap()
        .id
}

fn state(store: &VillageStore, id: Uuid) -> OutboxState {
    store.outbox_item(id).unwrap().unwrap().state
}

#[test]
fn a_new_application_is_queued_and_due_at_once() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let a = register(&mut s, 1);
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    assert_eq!(item.attempts, 0);
    assert_eq!(item.next_retry_at, None);
    assert_eq!(item.last_error, None);
    assert_eq!(item.tracking_number, "7315012003-001-261122-0001");
    assert_eq!(item.full_name, "Warga Nomor Dua");
    assert_eq!(s.outbox_items().unwrap(), vec![item]);
}

#[test]
fn sending_then_acknowledged_then_decided() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let a = register(&mut s, 1);
    assert_eq!(s.mark_sending(&[a], now()).unwrap(), 1);
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!(item.state, OutboxState::Sending);
    assert_eq!(item.last_attempt_at, Some(now()));
    assert_eq!(s.outbox(10).unwrap().len(), 1, "a sending item still waits");

    s.mark_acknowledged(a, ApplicationStatus::Received).unwrap();
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!((item.state, item.attempts), (OutboxState::Acknowledged, 1));
    assert!(s.outbox_items().unwrap().is_empty());
    assert!(s.outbox(10).unwrap().is_empty());

    s.apply_changes(
        &[StatusChange {
            application_id: a,
            status: ApplicationStatus::Rejected,
            reason: Some("KK tidak terbaca".into()),
            document: None,
        }],
        1,
    )
    .unwrap();
    assert_eq!(state(&s, a), OutboxState::Decided);
    assert_eq!(s.outbox_counts().unwrap(), vec![("decided".to_string(), 1)]);
}

#[test]
fn an_already_decided_answer_goes_straight_to_decided_and_is_never_downgraded() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let a = register(&mut s, 1);
    s.mark_acknowledged(a, ApplicationStatus::Issued).unwrap();
    assert_eq!(state(&s, a), OutboxState::Decided);
    // A late duplicate acknowledgement (a resend answered "already stored, received") does
    // not reopen it.
    s.mark_acknowledged(a, ApplicationStatus::Received).unwrap();
    assert_eq!(state(&s, a), OutboxState::Decided);
}

#[test]
fn a_status_from_the_feed_acknowledges_a_queued_or_sending_item() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let a = register(&mut s, 1);
    let b = register(&mut s, 2);
    s.mark_sending(&[b], now()).unwrap();
    let change = |id, status| StatusChange {
        application_id: id,
        status,
        reason: None,
        document: None,
    };
    s.apply_changes(
        &[
            change(a, ApplicationStatus::Received),
            change(b, ApplicationStatus::Received),
        ],
        2,
    )
    .unwrap();
    assert_eq!(state(&s, a), OutboxState::Acknowledged);
    assert_eq!(state(&s, b), OutboxState::Acknowledged);
}

#[test]
fn a_retry_counts_the_attempt_keeps_the_reason_and_waits() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let a = register(&mut s, 1);
    s.mark_sending(&[a], now()).unwrap();
    let later = now() + Duration::seconds(42);
    s.schedule_retry(a, "Server Disdukcapil sedang bermasalah (HTTP 503)", later)
        .unwrap();
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    assert_eq!(item.attempts, 1);
    assert_eq!(item.next_retry_at, Some(later));
    assert_eq!(
        item.last_error.as_deref(),
        Some("Server Disdukcapil sedang bermasalah (HTTP 503)")
    );
    // A second failure counts again.
    s.mark_sending(&[a], later).unwrap();
    s.schedule_retry(
        a,
        "Server Disdukcapil tidak dapat dihubungi",
        later + Duration::seconds(90),
    )
    .unwrap();
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!(item.attempts, 2);
    assert_eq!(item.last_attempt_at, Some(later));
    assert!(matches!(
        s.schedule_retry(Uuid::from_u128(99), "x", later),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn a_permanent_failure_stays_visible_with_its_reason_until_the_operator_retries() {
    let mut s = VillageStore::open_in_memory().unwrap();
    let a = register(&mut s, 1);
    let b = register(&mut s, 2);
    s.mark_sending(&[a, b], now()).unwrap();
    s.mark_failed(
        a,
        "ID permohonan sudah dipakai dengan isi berbeda di server",
    )
    .unwrap();
    s.schedule_retry(b, "HTTP 503", now() + Duration::minutes(5))
        .unwrap();

    let items = s.outbox_items().unwrap();
    assert_eq!(items.len(), 2, "nothing dropped");
    assert_eq!(items[0].state, OutboxState::FailedPermanent);
    assert_eq!(
        items[0].last_error.as_deref(),
        Some("ID permohonan sudah dipakai dengan isi berbeda di server")
    );
    assert_eq!(s.outbox(10).unwrap().len(), 1, "only b is still to be sent");

    // "Retry all" makes queued items due and leaves permanent failures alone.
    assert_eq!(s.retry_now(None).unwrap(), 1);
    assert_eq!(s.outbox_item(b).unwrap().unwrap().next_retry_at, None);
    assert_eq!(state(&s, a), OutboxState::FailedPermanent);
    // A repeated "retry all" changes nothing more.
    assert_eq!(s.retry_now(None).unwrap(), 0);

    // "Retry now" on the failed item puts it back in the queue, reason kept until the answer.
    assert_eq!(s.retry_now(Some(a)).unwrap(), 1);
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!(
        (item.state, item.next_retry_at),
        (OutboxState::Queued, None)
    );
    assert!(item.last_error.is_some());
    // Acknowledged items are not reopened by "retry now".
    s.mark_acknowledged(b, ApplicationStatus::Received).unwrap();
    assert_eq!(s.retry_now(Some(b)).unwrap(), 0);
    assert_eq!(state(&s, b), OutboxState::Acknowledged);
    assert!(matches!(
        s.retry_now(Some(Uuid::from_u128(99))),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn an_item_left_sending_by_a_crash_is_requeued_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let (a, b) = {
        let mut s = VillageStore::open_encrypted(&path, &key()).unwrap();
        let a = register(&mut s, 1);
        let b = register(&mut s, 2);
        s.mark_sending(&[a, b], now()).unwrap();
        (a, b)
        // Dropped without an answer: the app died mid-request.
    };
    let mut s = VillageStore::open_encrypted(&path, &key()).unwrap();
    assert_eq!(state(&s, a), OutboxState::Sending, "the state is durable");
    assert_eq!(s.requeue_interrupted(&[a, b]).unwrap(), 2);
    for id in [a, b] {
        let item = s.outbox_item(id).unwrap().unwrap();
        assert_eq!(item.state, OutboxState::Queued);
        assert_eq!(item.attempts, 1, "the interrupted attempt counts");
        assert_eq!(item.next_retry_at, None, "due at once");
        assert_eq!(item.last_error.as_deref(), Some(INTERRUPTED_MESSAGE));
    }
    // Only sending items are touched.
    assert_eq!(s.requeue_interrupted(&[a, b]).unwrap(), 0);
    // record_attempt_error (the older call) keeps an item queued and due.
    s.record_attempt_error(a, "HTTP 502").unwrap();
    let item = s.outbox_item(a).unwrap().unwrap();
    assert_eq!((item.state, item.attempts), (OutboxState::Queued, 2));
}
