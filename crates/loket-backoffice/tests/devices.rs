//! Device enrollment and request authentication against the real back office on loopback, with
//! real SQLite files on both sides: a one-time code enrolls a laptop, every sync request is
//! signed, and unsigned, tampered, late, revoked or foreign requests are refused with their own
//! error and change nothing.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore};
use loket_domain::{validate_applicant, ApplicantForm, RegionCode, ServiceCode};
use loket_qr::IssuingKey;
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, VillageStore};
use loket_sync::protocol::{ApiError, DeviceRef, EnrollRequest, SubmitBatch, HEADER_SERVER_TIME};
use loket_sync::{sync_once, SyncClient, SyncError};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn device(no: u16) -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: no,
    }
}

struct Server {
    url: String,
    state: AppState,
    dir: tempfile::TempDir,
}

async fn spawn() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
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
    Server { url, state, dir }
}

impl Server {
    /// A code as `loket device code` issues it, `hours_ago` before the server's now.
    fn code(&self, device: &DeviceRef, hours_ago: i64) -> String {
        self.state
            .store
            .lock()
            .unwrap()
            .issue_enrollment_code(
                device,
                now() - Duration::hours(hours_ago),
                &mut rand::rngs::OsRng,
            )
            .unwrap()
            .code
    }

    fn count(&self) -> i64 {
        self.state.store.lock().unwrap().count().unwrap()
    }

    /// A village laptop's encrypted store, with `apps` applications registered on `device`.
    fn village(&self, name: &str, device: &DeviceRef, apps: u128) -> PathBuf {
        let db = self.dir.path().join(format!("{name}.sqlite"));
        let mut store = open(&db);
        for n in 0..apps {
            register(&mut store, device, n + u128::from(device.device_no) * 1000);
        }
        db
    }
}

fn open(db: &Path) -> VillageStore {
    VillageStore::open_encrypted(db, &DatabaseKey::from_bytes([3; 32])).unwrap()
}

fn register(store: &mut VillageStore, device: &DeviceRef, n: u128) {
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
    let identity = DeviceIdentity {
        village: RegionCode::parse_village(&device.village_code).unwrap(),
        device_no: device.device_no,
    };
    store
        .register(
            &identity,
            &NewApplication::new(
                ServiceCode::parse("ktp_el_baru").unwrap(),
                "2026.11.1",
                value,
            ),
            "Operator Uji",
            DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap(),
            Uuid::from_u128(n),
        )
        .unwrap();
}

/// Runs blocking village-side work off the async runtime, as the desktop app does.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// `auth::enroll` from the laptop whose store is `db`.
async fn enroll(
    url: &str,
    db: &Path,
    code: &str,
    device: &DeviceRef,
    seed: u64,
) -> Result<loket_sync::protocol::EnrollResponse, SyncError> {
    let (url, db, code, device) = (
        url.to_string(),
        db.to_path_buf(),
        code.to_string(),
        device.clone(),
    );
    blocking(move || {
        let store = open(&db);
        loket_sync::auth::enroll(
            &url,
            &store,
            &code,
            &device,
            &mut rand::rngs::StdRng::seed_from_u64(seed),
        )
    })
    .await
}

/// The operator's "retry now": the refused pass scheduled the queued items for a later retry.
fn retry_now(db: &Path) {
    open(db).retry_now(None).unwrap();
}

/// One sync pass of the laptop whose store is `db`, signing at `clock_offset` from the server.
async fn sync(
    url: &str,
    db: &Path,
    device: &DeviceRef,
    clock_offset: Duration,
) -> Result<loket_sync::SyncReport, SyncError> {
    let (url, db, device) = (url.to_string(), db.to_path_buf(), device.clone());
    blocking(move || {
        let mut store = open(&db);
        let client =
            SyncClient::for_store(&url, &store)?.with_clock(Arc::new(move || now() + clock_offset));
        sync_once(&mut store, &client, &device)
    })
    .await
}

fn rejected(err: SyncError) -> (u16, String) {
    match err {
        SyncError::Rejected { status, message } => (status, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_code_enrolls_the_laptop_once_and_then_sync_works() {
    let s = spawn().await;
    let d = device(1);
    let db = s.village("village", &d, 2);

    // Not enrolled: the first signed step is refused with its own clear error; nothing moves.
    let err = sync(&s.url, &db, &d, Duration::zero()).await.unwrap_err();
    assert!(matches!(err, SyncError::NotEnrolled), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .contains("perangkat belum terdaftar di Disdukcapil; masukkan kode pendaftaran"),
        "{err}"
    );
    assert_eq!(s.count(), 0);

    let code = s.code(&d, 0);
    // Typed carelessly: lower case, no dashes.
    let typed = code.replace('-', "").to_lowercase();
    let answer = enroll(&s.url, &db, &typed, &d, 1).await.unwrap();
    assert_eq!(answer.device, d);
    assert!(!answer.replaced_key);
    // Not being enrolled was the laptop's problem, not the items': no attempt counted, no
    // backoff, the reason shown; the first sync after enrolling sends them at once.
    for item in open(&db).outbox_items().unwrap() {
        assert_eq!(item.attempts, 0, "{item:?}");
        assert!(item.next_retry_at.is_none(), "{item:?}");
        assert!(
            item.last_error
                .as_deref()
                .unwrap_or("")
                .contains("belum terdaftar"),
            "{item:?}"
        );
    }
    let r = sync(&s.url, &db, &d, Duration::zero()).await.unwrap();
    assert_eq!(r.sent, 2);
    assert_eq!(s.count(), 2);

    // The key lives in the encrypted store and matches the server's.
    let store = open(&db);
    let seed = store
        .setting(loket_sync::auth::DEVICE_SIGNING_KEY_SETTING)
        .unwrap()
        .unwrap();
    assert_eq!(seed.len(), 64);
    let enrolled = loket_sync::auth::enrollment(&store).unwrap().unwrap();
    let auth = s
        .state
        .store
        .lock()
        .unwrap()
        .device_auth(&d)
        .unwrap()
        .unwrap();
    assert_eq!(enrolled.public_key, hex::encode(auth.public_key.as_bytes()));
    let listed = s.state.store.lock().unwrap().devices().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_seen_at, Some(now()));

    // The code was single use: another laptop cannot take it over.
    let other = s.village("other", &d, 0);
    let (status, message) = rejected(enroll(&s.url, &other, &code, &d, 2).await.unwrap_err());
    assert_eq!(status, 403);
    assert!(message.contains("sudah dipakai"), "{message}");
}

#[tokio::test]
async fn wrong_expired_and_foreign_codes_are_refused_clearly() {
    let s = spawn().await;
    let d = device(1);
    let db = s.village("village", &d, 0);

    let (status, message) = rejected(
        enroll(&s.url, &db, "AAAA-BBBB-CC", &d, 1)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);
    assert!(message.contains("kode pendaftaran salah"), "{message}");

    let expired = s.code(&d, 73);
    let (status, message) = rejected(enroll(&s.url, &db, &expired, &d, 1).await.unwrap_err());
    assert_eq!(status, 403);
    assert!(message.contains("kedaluwarsa"), "{message}");

    // A code for device 2 does not enroll device 1.
    let for_two = s.code(&device(2), 0);
    let (status, _) = rejected(enroll(&s.url, &db, &for_two, &d, 1).await.unwrap_err());
    assert_eq!(status, 403);

    let mut nowhere = d.clone();
    nowhere.village_code = "9999999999".into();
    let (status, message) = rejected(
        enroll(&s.url, &db, &for_two, &nowhere, 1)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 422);
    assert!(
        message.contains("kode desa 9999999999 tidak dikenal"),
        "{message}"
    );

    assert!(s.state.store.lock().unwrap().devices().unwrap().is_empty());
    assert!(loket_sync::auth::device_signer(&open(&db))
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_repeated_enrollment_after_a_lost_answer_succeeds_with_the_same_key() {
    let s = spawn().await;
    let d = device(1);
    let code = s.code(&d, 0);
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let body = EnrollRequest {
        code: code.clone(),
        village_code: d.village_code.clone(),
        device_no: 1,
        public_key: hex::encode(key.verifying_key().as_bytes()),
    };
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/devices/enroll", s.url);
    let first = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let again = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(again.status(), 200, "same code, same key: same answer");
    let mut other = body.clone();
    other.public_key = hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&[8; 32])
            .verifying_key()
            .as_bytes(),
    );
    let refused = http.post(&url).json(&other).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

/// A raw request to the API, optionally signed with `key` over `signed_body`, sending `body`.
async fn raw(
    s: &Server,
    path: &str,
    key: Option<&ed25519_dalek::SigningKey>,
    signed_body: &[u8],
    body: &[u8],
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", s.url))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(key) = key {
        for (name, value) in
            loket_sync::auth::signature_headers(&device(1), key, "POST", path, signed_body, now())
        {
            req = req.header(name, value);
        }
    }
    req.send().await.unwrap()
}

async fn error_of(resp: reqwest::Response) -> (u16, ApiError) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn unsigned_and_tampered_requests_are_refused_and_change_nothing() {
    let s = spawn().await;
    let d = device(1);
    let key = loket_backoffice::testing::enroll_in(&s.state, &d, [1; 32]);
    let db = s.village("village", &d, 1);
    let batch = {
        let store = open(&db);
        let app = &store.outbox(1).unwrap()[0];
        serde_json::to_vec(&SubmitBatch {
            device: d.clone(),
            applications: vec![loket_sync::protocol::ApplicationEnvelope {
                id: app.id,
                tracking_number: app.tracking_number.clone(),
                service: app.service.clone(),
                captured_at: app.captured_at,
                operator: app.operator.clone(),
                data: app.data.clone(),
                catalogue_version: app.catalogue_version.clone(),
                fields: app.fields.clone(),
                provided: app.provided.clone(),
                revision: app.revision,
                revision_id: app.revision_id,
            }],
        })
        .unwrap()
    };
    let path = "/api/v1/applications";

    let (status, e) = error_of(raw(&s, path, None, &batch, &batch).await).await;
    assert_eq!((status, e.code.as_str()), (401, "device_not_enrolled"));
    assert_eq!(
        e.message,
        "perangkat belum terdaftar di Disdukcapil; masukkan kode pendaftaran di Pengaturan"
    );

    // The body changed after signing (one byte of the applicant's name).
    let mut tampered = batch.clone();
    let at = tampered.windows(4).position(|w| w == b"Andi").unwrap();
    tampered[at] = b'B';
    let (status, e) = error_of(raw(&s, path, Some(&key), &batch, &tampered).await).await;
    assert_eq!((status, e.code.as_str()), (401, "bad_signature"));

    // A key that is not the enrolled one.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
    let (status, e) = error_of(raw(&s, path, Some(&stranger), &batch, &batch).await).await;
    assert_eq!((status, e.code.as_str()), (401, "bad_signature"));

    // A signature header that is not a signature.
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", s.url))
        .header("x-loket-device", "7315012003/1")
        .header("x-loket-time", "2026-11-23T02:00:00Z")
        .header("x-loket-signature", "AAAA")
        .body(batch.clone())
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(resp).await;
    assert_eq!((status, e.code.as_str()), (401, "bad_signature"));
    assert_eq!(s.count(), 0, "nothing stored by any refused request");

    // The genuine request goes through.
    let ok = raw(&s, path, Some(&key), &batch, &batch).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(s.count(), 1);
}

#[tokio::test]
async fn a_wrong_clock_is_named_with_the_server_time() {
    let s = spawn().await;
    let d = device(1);
    let db = s.village("village", &d, 1);
    enroll(&s.url, &db, &s.code(&d, 0), &d, 1).await.unwrap();

    for offset in [Duration::minutes(20), Duration::minutes(-20)] {
        let err = sync(&s.url, &db, &d, offset).await.unwrap_err();
        match &err {
            SyncError::ClockWrong { server_time } => assert_eq!(*server_time, Some(now())),
            other => panic!("expected ClockWrong, got {other:?}"),
        }
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("23-11-2026 02:00 UTC"), "{err}");
    }
    assert_eq!(s.count(), 0);

    // The header is there for other clients too.
    let key = {
        let store = open(&db);
        loket_sync::auth::device_signer(&store).unwrap().unwrap()
    };
    let [(n1, v1), (n2, _), (n3, v3)] = key.headers("GET", "/api/v1/updates", b"", now());
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/updates", s.url))
        .header(n1, v1)
        .header(n2, "2026-11-23T01:40:00Z")
        .header(n3, v3)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get(HEADER_SERVER_TIME).unwrap(),
        "2026-11-23T02:00:00Z"
    );

    // Within 15 minutes is fine.
    retry_now(&db);
    let r = sync(&s.url, &db, &d, Duration::minutes(14)).await.unwrap();
    assert_eq!(r.sent, 1);
}

#[tokio::test]
async fn a_revoked_laptop_is_refused_until_it_enrolls_again() {
    let s = spawn().await;
    let d = device(1);
    let db = s.village("village", &d, 1);
    enroll(&s.url, &db, &s.code(&d, 0), &d, 1).await.unwrap();
    sync(&s.url, &db, &d, Duration::zero()).await.unwrap();
    register(&mut open(&db), &d, 77);

    s.state
        .store
        .lock()
        .unwrap()
        .revoke_device(&d, now())
        .unwrap();
    let err = sync(&s.url, &db, &d, Duration::zero()).await.unwrap_err();
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "perangkat ini telah dicabut oleh Disdukcapil; hubungi admin untuk mendaftar ulang"
    );
    assert_eq!(s.count(), 1, "nothing changes");
    assert_eq!(open(&db).outbox(10).unwrap().len(), 1, "still queued");

    // A new code re-enrolls it with a new key; the old key no longer counts.
    let old_key = loket_sync::auth::device_signer(&open(&db))
        .unwrap()
        .unwrap();
    let answer = enroll(&s.url, &db, &s.code(&d, 0), &d, 2).await.unwrap();
    assert!(answer.replaced_key);
    retry_now(&db);
    let r = sync(&s.url, &db, &d, Duration::zero()).await.unwrap();
    assert_eq!(r.sent, 1);
    assert_eq!(s.count(), 2);
    let url = s.url.clone();
    let err = blocking(move || {
        SyncClient::new(&url)
            .unwrap()
            .with_signer(old_key)
            .with_clock(Arc::new(now))
            .updates(&device(1), 0)
    })
    .await
    .unwrap_err();
    assert_eq!(rejected(err).0, 401);
}

#[tokio::test]
async fn one_laptop_cannot_read_or_write_another_laptops_applications() {
    let s = spawn().await;
    let (a, b) = (device(1), device(2));
    let db_a = s.village("a", &a, 1);
    let db_b = s.village("b", &b, 0);
    enroll(&s.url, &db_a, &s.code(&a, 0), &a, 1).await.unwrap();
    enroll(&s.url, &db_b, &s.code(&b, 0), &b, 2).await.unwrap();
    sync(&s.url, &db_a, &a, Duration::zero()).await.unwrap();
    let id = Uuid::from_u128(1000);
    let doc = {
        let mut bo = s.state.store.lock().unwrap();
        bo.approve_and_issue(id, &s.state.key, &s.state.signer, now(), now().date_naive())
            .unwrap()
    };

    // B's client, asking for A's feed, A's PDF, and submitting as A.
    let (url, db) = (s.url.clone(), db_b.clone());
    let doc_b = doc.clone();
    let (feed, pdf, submit, own) = blocking(move || {
        let store = open(&db);
        let client = SyncClient::for_store(&url, &store)
            .unwrap()
            .with_clock(Arc::new(now));
        let feed = client.updates(&device(1), 0);
        let pdf = client.document_pdf(&doc_b);
        let submit = client.submit(&SubmitBatch {
            device: device(1),
            applications: vec![],
        });
        let own = client.updates(&device(2), 0);
        (feed, pdf, submit, own)
    })
    .await;
    let (status, message) = rejected(feed.unwrap_err());
    assert_eq!(status, 403);
    assert!(message.contains("tidak boleh"), "{message}");
    let (status, message) = rejected(pdf.unwrap_err());
    assert_eq!(status, 404, "same answer as an unknown document");
    assert!(message.contains("tidak ditemukan"), "{message}");
    assert_eq!(rejected(submit.unwrap_err()).0, 403);
    assert!(
        own.unwrap().updates.is_empty(),
        "B's own feed has nothing of A's"
    );

    // A itself gets its decision and its PDF.
    let r = sync(&s.url, &db_a, &a, Duration::zero()).await.unwrap();
    assert_eq!((r.updated, r.documents), (1, 1));
}

#[tokio::test]
async fn the_reviewer_page_issues_codes_lists_devices_and_revokes() {
    let s = spawn().await;
    let d = device(1);
    let http = reqwest::Client::new();
    let page = |path: &'static str, form: Option<Vec<(&'static str, &'static str)>>| {
        let req = match form {
            Some(form) => http.post(format!("{}{path}", s.url)).form(&form),
            None => http.get(format!("{}{path}", s.url)),
        };
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };

    let (status, html) = page("/review/devices", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("Belum ada perangkat terdaftar"), "{html}");

    let (status, html) = page(
        "/review/devices/code",
        Some(vec![("village", "7315012003"), ("device", "1")]),
    )
    .await;
    assert_eq!(status, 200);
    let start = html.find("id=\"new-code\"").expect("the code is shown");
    let code: String = html[start..]
        .split('>')
        .nth(1)
        .unwrap()
        .chars()
        .take(12)
        .collect();
    assert!(html.contains("id=\"pending-codes\""), "{html}");

    // The code from the page enrolls the laptop.
    let db = s.village("village", &d, 0);
    enroll(&s.url, &db, &code, &d, 1).await.unwrap();
    let (_, html) = page("/review/devices", None).await;
    assert!(
        html.contains("data-device=\"7315012003/1\" data-state=\"active\""),
        "{html}"
    );

    let (status, _) = page(
        "/review/devices/code",
        Some(vec![("village", "9999999999"), ("device", "1")]),
    )
    .await;
    assert_eq!(status, 422);

    let (status, html) = page(
        "/review/devices/revoke",
        Some(vec![("village", "7315012003"), ("device", "1")]),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-device=\"7315012003/1\" data-state=\"revoked\""),
        "{html}"
    );
    let err = sync(&s.url, &db, &d, Duration::zero()).await.unwrap_err();
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
}
