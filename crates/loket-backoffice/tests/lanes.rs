//! Sync lanes against the real back office on loopback: a lane that fails (a document the back
//! office lost, a 5xx on one endpoint) does not stop the others; a refused push waits its
//! jittered backoff and "retry now" sends it; an unreachable server is diagnosed once and
//! touches no item; an item a crash left `sending` is sent again and stored exactly once.
//!
//! Faults on single endpoints come from a small forwarding proxy in this file that answers
//! chosen paths with an error and passes everything else through unchanged.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore};
use loket_domain::{validate_applicant, ApplicantForm, ApplicationStatus, RegionCode, ServiceCode};
use loket_qr::IssuingKey;
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, OutboxState, VillageStore};
use loket_sync::protocol::{DeviceRef, SubmitBatch};
use loket_sync::{
    sync_pass, Lane, LaneProgress, LaneState, SyncClient, SyncEnv, SyncError, SyncReport, Trigger,
};
use rand::SeedableRng;
use std::path::Path;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const KEY: [u8; 32] = [3; 32];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn device() -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: 1,
    }
}

fn register(store: &mut VillageStore, n: u128) -> Uuid {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: "Andi Tenri Ajeng".into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: String::new(),
    };
    let value = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap();
    let village = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let at = DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap()
        + Duration::minutes(n as i64);
    store
        .register(
            &village,
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

fn client(url: &str) -> Result<SyncClient, SyncError> {
    Ok(SyncClient::new(url)?
        .with_device_key(device(), ed25519_dalek::SigningKey::from_bytes(&[1; 32]))
        .with_clock(Arc::new(now)))
}

fn open_village(db: &Path) -> VillageStore {
    VillageStore::open_encrypted(db, &DatabaseKey::from_bytes(KEY)).unwrap()
}

/// What one pass returned and every progress event it sent.
struct Pass {
    report: SyncReport,
    stopped: Option<SyncError>,
    events: Vec<LaneProgress>,
}

impl Pass {
    fn lane(&self, lane: Lane) -> &loket_sync::LaneReport {
        self.report.lanes.iter().find(|l| l.lane == lane).unwrap()
    }

    fn state(&self, lane: Lane) -> LaneState {
        self.lane(lane).state
    }

    fn message(&self, lane: Lane) -> String {
        self.lane(lane).message.clone().unwrap_or_default()
    }
}

/// One pass at `at` (the laptop's clock for retry times) with a seeded RNG, off the runtime.
async fn pass(db: &Path, url: &str, at: DateTime<Utc>) -> Pass {
    let (db, url) = (db.to_path_buf(), url.to_string());
    tokio::task::spawn_blocking(move || {
        let mut store = open_village(&db);
        let client = client(&url).unwrap();
        let clock = move || at;
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let mut env = SyncEnv {
            now: &clock,
            rng: &mut rng,
            trigger: Trigger::Manual,
        };
        let mut events = Vec::new();
        let (report, stopped) = sync_pass(&mut store, &client, &device(), &mut env, &mut |p| {
            events.push(p.clone())
        });
        Pass {
            report,
            stopped,
            events,
        }
    })
    .await
    .unwrap()
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

/// Paths the proxy answers itself with an error status, by path prefix.
type Faults = Arc<Mutex<Vec<(&'static str, u16)>>>;

/// A forwarding proxy in front of `upstream` that fails the paths in the returned list.
async fn start_proxy(upstream: String) -> (Faults, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let faults: Faults = Arc::default();
    let http = reqwest::Client::new();
    let app = axum::Router::new()
        .fallback(forward)
        .with_state((upstream, faults.clone(), http));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (faults, url)
}

async fn forward(
    State((upstream, faults, http)): State<(String, Faults, reqwest::Client)>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    let injected = faults
        .lock()
        .unwrap()
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, status)| *status);
    if let Some(status) = injected {
        let body = serde_json::json!({ "code": "injected", "message": "gangguan uji" });
        return (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    }
    let target = format!(
        "{upstream}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let method = req.method().clone();
    let mut headers = req.headers().clone();
    headers.remove(axum::http::header::HOST);
    let body = to_bytes(req.into_body(), 64 * 1024 * 1024).await.unwrap();
    let answer = http
        .request(method, target)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    for (name, value) in &headers {
        if name != axum::http::header::CONTENT_LENGTH
            && name != axum::http::header::TRANSFER_ENCODING
        {
            resp.headers_mut().insert(name.clone(), value.clone());
        }
    }
    resp
}

fn backoffice_db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("backoffice.sqlite")).unwrap()
}

fn fail(faults: &Faults, prefix: &'static str, status: u16) {
    faults.lock().unwrap().push((prefix, status));
}

fn heal(faults: &Faults) {
    faults.lock().unwrap().clear();
}

#[tokio::test]
async fn a_failing_lane_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let (state, url) = start_backoffice(dir.path()).await;
    let mut village = open_village(&db);
    let a = register(&mut village, 1);
    let first = pass(&db, &url, now()).await;
    assert!(first.stopped.is_none());
    assert_eq!(first.report.sent, 1);
    assert!(
        first
            .report
            .lanes
            .iter()
            .all(|l| l.state != LaneState::Failed),
        "{:?}",
        first.report
    );

    // The back office issues A's document, but the PDF it serves is damaged: the laptop
    // refuses it (hash check) and the decision lane fails, alone.
    let doc_number = {
        let mut bo = state.store.lock().unwrap();
        bo.approve_and_issue(a, &state.key, &state.signer, now(), now().date_naive())
            .unwrap();
        let n: String = backoffice_db(dir.path())
            .query_row(
                "SELECT doc_number FROM documents WHERE application_id = ?1",
                [a.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        backoffice_db(dir.path())
            .execute(
                "UPDATE documents SET pdf = X'255044462D' WHERE doc_number = ?1",
                [&n],
            )
            .unwrap();
        n
    };
    let b = register(&mut village, 2);
    let p = pass(&db, &url, now()).await;
    assert!(p.stopped.is_none(), "{:?}", p.stopped);
    assert_eq!(p.state(Lane::Decisions), LaneState::Failed);
    let message = p.message(Lane::Decisions);
    assert!(
        message.contains(&doc_number) && message.contains("hash tidak cocok"),
        "{message}"
    );
    // The push went on (before), and so did the audit push (after), in the same pass.
    assert_eq!(p.report.sent, 1);
    assert_eq!(p.state(Lane::Applications), LaneState::Ok);
    assert_eq!(
        (
            p.lane(Lane::Applications).done,
            p.lane(Lane::Applications).total
        ),
        (1, 1)
    );
    assert_eq!(p.state(Lane::Audit), LaneState::Ok);
    assert!(p.report.audit_entries > 0);
    assert_eq!(
        p.report.updated, 1,
        "the status arrived even though its PDF did not"
    );
    assert_eq!(
        village.application(a).unwrap().status,
        ApplicationStatus::Issued
    );
    assert!(!village.application(a).unwrap().document.unwrap().has_pdf);
    assert_eq!(village.outbox_state(a).unwrap(), Some(OutboxState::Decided));
    assert_eq!(
        village.outbox_state(b).unwrap(),
        Some(OutboxState::Acknowledged)
    );

    // The back office loses the PDF altogether (404), and its trust list answers 500: the
    // reference and decision lanes fail, the push and the audit push still run.
    backoffice_db(dir.path())
        .execute("DELETE FROM documents WHERE doc_number = ?1", [&doc_number])
        .unwrap();
    let (faults, proxy) = start_proxy(url.clone()).await;
    fail(&faults, "/api/v1/trust", 500);
    let c = register(&mut village, 3);
    let p = pass(&db, &proxy, now()).await;
    assert!(p.stopped.is_none());
    assert_eq!(p.state(Lane::Reference), LaneState::Failed);
    assert!(p.message(Lane::Reference).contains("HTTP 500"));
    assert_eq!(p.state(Lane::Applications), LaneState::Ok);
    assert_eq!(p.state(Lane::Decisions), LaneState::Failed);
    let message = p.message(Lane::Decisions);
    assert!(
        message.contains(&doc_number) && message.contains("HTTP 404"),
        "{message}"
    );
    assert_eq!(p.state(Lane::Audit), LaneState::Ok);
    assert_eq!(p.report.sent, 1);
    assert_eq!(
        village.outbox_state(c).unwrap(),
        Some(OutboxState::Acknowledged)
    );

    // A 503 on the change feed fails only the decision lane.
    heal(&faults);
    fail(&faults, "/api/v1/updates", 503);
    let d = register(&mut village, 4);
    let p = pass(&db, &proxy, now()).await;
    assert!(p.stopped.is_none());
    assert_eq!(p.state(Lane::Reference), LaneState::Ok);
    assert_eq!(p.state(Lane::Applications), LaneState::Ok);
    assert_eq!(p.state(Lane::Decisions), LaneState::Failed);
    assert!(p.message(Lane::Decisions).contains("HTTP 503"));
    assert_eq!(p.state(Lane::Audit), LaneState::Ok);
    assert_eq!(
        village.outbox_state(d).unwrap(),
        Some(OutboxState::Acknowledged)
    );
    assert_eq!(state.store.lock().unwrap().count().unwrap(), 4);

    // Every lane told its progress: pending first, running, then its end state last.
    for lane in Lane::ALL {
        let of_lane: Vec<_> = p.events.iter().filter(|e| e.lane == lane).collect();
        assert_eq!(
            of_lane.first().unwrap().state,
            LaneState::Pending,
            "{lane:?}"
        );
        assert_eq!(of_lane.last().unwrap(), &p.lane(lane), "{lane:?}");
    }
    assert!(p
        .events
        .iter()
        .any(|e| e.lane == Lane::Applications && e.state == LaneState::Running));
}

#[tokio::test]
async fn a_refused_push_waits_its_backoff_and_retry_now_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let (state, url) = start_backoffice(dir.path()).await;
    let (faults, proxy) = start_proxy(url).await;
    let mut village = open_village(&db);
    let a = register(&mut village, 1);
    let b = register(&mut village, 2);

    fail(&faults, "/api/v1/applications", 503);
    let p = pass(&db, &proxy, now()).await;
    assert!(p.stopped.is_none(), "a 5xx stops only its lane");
    assert_eq!(p.state(Lane::Applications), LaneState::Failed);
    assert!(p.message(Lane::Applications).contains("HTTP 503"));
    for lane in [
        Lane::Reference,
        Lane::Attachments,
        Lane::Decisions,
        Lane::Audit,
    ] {
        assert_eq!(p.state(lane), LaneState::Ok, "{lane:?}");
    }
    for id in [a, b] {
        let item = village.outbox_item(id).unwrap().unwrap();
        assert_eq!(item.state, OutboxState::Queued);
        assert_eq!(item.attempts, 1);
        let wait = item.next_retry_at.unwrap() - now();
        assert!(
            wait >= Duration::zero() && wait <= Duration::seconds(30),
            "{wait}"
        );
        assert_eq!(
            item.last_error.as_deref(),
            Some("Server Disdukcapil sedang bermasalah (HTTP 503); akan dicoba lagi otomatis.")
        );
    }
    assert_eq!(p.report.waiting, 2);
    assert_eq!(state.store.lock().unwrap().count().unwrap(), 0);

    // The server is fine again, but both items wait out their backoff…
    heal(&faults);
    let waits_until = |id| {
        village
            .outbox_item(id)
            .unwrap()
            .unwrap()
            .next_retry_at
            .unwrap()
    };
    let (wait_a, wait_b) = (waits_until(a), waits_until(b));
    let before_both = wait_a.min(wait_b) - Duration::milliseconds(1);
    let p = pass(&db, &proxy, before_both).await;
    assert_eq!(p.state(Lane::Applications), LaneState::Skipped);
    assert!(p.message(Lane::Applications).contains("Coba sekarang"));
    assert_eq!(p.report.sent, 0);

    // …until the operator says "retry now" for one of them…
    assert_eq!(village.retry_now(Some(a)).unwrap(), 1);
    let p = pass(&db, &proxy, before_both).await;
    assert_eq!(p.report.sent, 1);
    assert_eq!(
        village.outbox_state(a).unwrap(),
        Some(OutboxState::Acknowledged)
    );
    assert_eq!(village.outbox_state(b).unwrap(), Some(OutboxState::Queued));

    // …and the other one goes by itself once its time has come.
    let p = pass(&db, &proxy, wait_b).await;
    assert_eq!(p.report.sent, 1);
    assert_eq!(
        village.outbox_state(b).unwrap(),
        Some(OutboxState::Acknowledged)
    );
    assert_eq!(state.store.lock().unwrap().count().unwrap(), 2);

    // A second failure waits longer: the ceiling doubles (30 s, then 60 s).
    let c = register(&mut village, 3);
    fail(&faults, "/api/v1/applications", 500);
    pass(&db, &proxy, now()).await;
    assert_eq!(
        village.retry_now(None).unwrap(),
        1,
        "retry all resets the wait"
    );
    pass(&db, &proxy, now()).await;
    let item = village.outbox_item(c).unwrap().unwrap();
    assert_eq!(item.attempts, 2);
    assert!(item.next_retry_at.unwrap() - now() <= Duration::seconds(60));
}

#[tokio::test]
async fn an_unreachable_server_is_diagnosed_once_and_touches_no_item() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let mut village = open_village(&db);
    let a = register(&mut village, 1);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);

    let p = pass(&db, &dead_url, now()).await;
    assert!(
        matches!(p.stopped, Some(SyncError::Unreachable(_))),
        "{:?}",
        p.stopped
    );
    assert_eq!(p.state(Lane::Reference), LaneState::Failed);
    let diagnosis = p.message(Lane::Reference);
    assert!(diagnosis.contains("tidak dapat dihubungi"), "{diagnosis}");
    for lane in [
        Lane::Applications,
        Lane::Attachments,
        Lane::Decisions,
        Lane::Audit,
    ] {
        assert_eq!(p.state(lane), LaneState::Skipped, "{lane:?}");
        assert_eq!(p.message(lane), diagnosis, "{lane:?}: the same diagnosis");
    }
    // Nothing was put on the wire, so nothing counts as an attempt or waits.
    let item = village.outbox_item(a).unwrap().unwrap();
    assert_eq!(
        (item.state, item.attempts, item.next_retry_at),
        (OutboxState::Queued, 0, None)
    );
    // The lanes' memory says why, for the operator and the next automatic pass.
    let memory = loket_sync::lanes::last_lanes(&village).unwrap();
    assert_eq!(memory.len(), 5);
    assert!(memory
        .iter()
        .all(|m| m.failures == 1 && m.next_run_at.is_some()));

    // Back online: the next pass sends it at once.
    let (state, url) = start_backoffice(dir.path()).await;
    let p = pass(&db, &url, now() + Duration::seconds(1)).await;
    assert!(p.stopped.is_none());
    assert_eq!(p.report.sent, 1);
    assert_eq!(state.store.lock().unwrap().count().unwrap(), 1);
    let memory = loket_sync::lanes::last_lanes(&village).unwrap();
    assert!(memory
        .iter()
        .filter(|m| m.lane != Lane::Applications)
        .all(|m| m.failures == 0));
}

#[tokio::test]
async fn an_item_left_sending_by_a_crash_is_sent_again_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let (state, url) = start_backoffice(dir.path()).await;
    let mut village = open_village(&db);
    let a = register(&mut village, 1);
    let b = register(&mut village, 2);

    // A pass put both on the wire; the server stored them, then the laptop died before the
    // answer was recorded.
    village.mark_sending(&[a, b], now()).unwrap();
    let envelopes: Vec<_> = [a, b]
        .iter()
        .map(|id| loket_sync::protocol::envelope(&village.application(*id).unwrap()))
        .collect();
    let url2 = url.clone();
    tokio::task::spawn_blocking(move || {
        client(&url2)
            .unwrap()
            .submit(&SubmitBatch {
                device: device(),
                applications: envelopes,
            })
            .unwrap()
    })
    .await
    .unwrap();
    drop(village);

    let p = pass(&db, &url, now()).await;
    assert_eq!(p.report.recovered, 2);
    assert_eq!(p.report.sent, 2, "answered as already stored");
    let village = open_village(&db);
    for id in [a, b] {
        let item = village.outbox_item(id).unwrap().unwrap();
        assert_eq!(item.state, OutboxState::Acknowledged);
        assert_eq!(item.attempts, 2, "the interrupted attempt and the resend");
    }
    assert_eq!(
        state.store.lock().unwrap().count().unwrap(),
        2,
        "exactly once"
    );
}
