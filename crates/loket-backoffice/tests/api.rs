//! The back office as villages and reviewers reach it: the real server on a loopback port, a
//! fresh SQLite file per test, real HTTP.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore, Clock};
use loket_domain::{validate_applicant, ApplicantForm, ApplicationStatus, ServiceCode};
use loket_qr::IssuingKey;
use loket_sync::protocol::{
    ApiError, ApplicationEnvelope, DeviceRef, SubmitBatch, SubmitOutcome, SubmitResponse,
    UpdatesResponse,
};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

struct Server {
    base: String,
    http: reqwest::Client,
    state: AppState,
    /// The enrolled village laptop's key; every `/api/v1` call below is signed with it.
    device_key: ed25519_dalek::SigningKey,
    _dir: tempfile::TempDir,
}

fn fixed_clock() -> Clock {
    Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn district_key() -> IssuingKey {
    IssuingKey {
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    }
}

async fn spawn() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store = BackofficeStore::open(&dir.path().join("backoffice.sqlite")).unwrap();
    let state = AppState {
        store: Arc::new(Mutex::new(store)),
        key: Arc::new(district_key()),
        signer: Arc::new(("Kepala Dinas".into(), "Kabupaten Pinrang".into())),
        clock: fixed_clock(),
    };
    let device_key = loket_backoffice::testing::enroll_in(&state, &device(), [1; 32]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(loket_backoffice::serve(listener, state.clone()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Server {
        base,
        http,
        state,
        device_key,
        _dir: dir,
    }
}

fn device() -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: 1,
    }
}

fn envelope(n: u128, name: &str) -> ApplicationEnvelope {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: name.into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: "081234567890".into(),
    };
    let data = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap();
    let at: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    ApplicationEnvelope {
        id: Uuid::from_u128(n),
        tracking_number: format!("7315012003-001-261122-{n:04}"),
        service: ServiceCode::parse("ktp_el_baru").unwrap(),
        captured_at: at,
        operator: "Operator Uji".into(),
        data,
        catalogue_version: "2026.11.1".into(),
        fields: [("nomor_kk".to_string(), "7315011203150007".to_string())].into(),
        provided: vec![],
        revision: 0,
        revision_id: None,
    }
}

impl Server {
    /// A request signed by the enrolled laptop, as `SyncClient` signs it.
    fn signed(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        for (name, value) in loket_sync::auth::signature_headers(
            &device(),
            &self.device_key,
            method.as_str(),
            path,
            &body,
            (self.state.clock)(),
        ) {
            req = req.header(name, value);
        }
        if !body.is_empty() {
            req = req.header("content-type", "application/json");
        }
        req.body(body)
    }

    async fn submit(&self, apps: Vec<ApplicationEnvelope>) -> SubmitResponse {
        let body = serde_json::to_vec(&SubmitBatch {
            device: device(),
            applications: apps,
        })
        .unwrap();
        let resp = self
            .signed(reqwest::Method::POST, "/api/v1/applications", body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    fn count(&self) -> i64 {
        self.state.store.lock().unwrap().count().unwrap()
    }

    async fn updates(&self, after: i64) -> UpdatesResponse {
        self.signed(
            reqwest::Method::GET,
            &format!("/api/v1/updates?village_code=7315012003&device_no=1&after={after}"),
            Vec::new(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn resubmission_is_idempotent() {
    let s = spawn().await;
    let first = s.submit(vec![envelope(1, "Andi Tenri Ajeng")]).await;
    let again = s.submit(vec![envelope(1, "Andi Tenri Ajeng")]).await;
    assert_eq!(first.results[0].outcome, SubmitOutcome::Stored);
    assert_eq!(again.results[0].outcome, SubmitOutcome::AlreadyStored);
    assert_eq!(first.results[0].received_at, again.results[0].received_at);
    assert_eq!(again.results[0].status, ApplicationStatus::Received);
    assert_eq!(s.count(), 1);

    // Same id, different content: a conflict that changes nothing.
    let conflict = s.submit(vec![envelope(1, "Nama Lain Sekali")]).await;
    assert_eq!(conflict.results[0].outcome, SubmitOutcome::Conflict);
    let stored = s
        .state
        .store
        .lock()
        .unwrap()
        .get(Uuid::from_u128(1))
        .unwrap()
        .unwrap();
    assert_eq!(stored.data.full_name, "Andi Tenri Ajeng");
    assert_eq!(s.count(), 1);
}

#[tokio::test]
async fn concurrent_submission_stores_once() {
    let s = Arc::new(spawn().await);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.submit(vec![
                envelope(7, "Andi Tenri Ajeng"),
                envelope(8, "Baso Rahmat"),
            ])
            .await
        }));
    }
    let mut stored = 0;
    for t in tasks {
        let r = t.await.unwrap();
        stored += r
            .results
            .iter()
            .filter(|r| r.outcome == SubmitOutcome::Stored)
            .count();
        assert!(r
            .results
            .iter()
            .all(|r| r.outcome != SubmitOutcome::Conflict));
    }
    assert_eq!(stored, 2, "each application stored exactly once");
    assert_eq!(s.count(), 2);
}

#[tokio::test]
async fn approval_issues_a_signed_document_that_reaches_the_feed() {
    let s = spawn().await;
    s.submit(vec![envelope(1, "Andi Tenri Ajeng")]).await;
    let id = Uuid::from_u128(1);
    let resp = s
        .post_form(&format!("/review/applications/{id}/approve"), &[])
        .await;
    assert_eq!(resp.status(), 303);

    let feed = s.updates(0).await;
    assert_eq!(feed.updates.len(), 1);
    let u = &feed.updates[0];
    assert_eq!(u.status, ApplicationStatus::Issued);
    let doc = u.document.as_ref().unwrap();
    assert_eq!(doc.doc_number, "7315-SK-2026-000001");
    assert_eq!(feed.next_after, u.seq);
    assert!(s.updates(feed.next_after).await.updates.is_empty());

    let pdf = s
        .signed(
            reqwest::Method::GET,
            &format!("/api/v1/documents/{}/pdf", doc.doc_number),
            Vec::new(),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let sha = loket_store::hex(&<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    assert_eq!(sha, doc.sha256);
    let trust: loket_qr::TrustList = loket_qr::TrustList::from_json(
        &s.http
            .get(format!("{}/api/v1/trust", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    match loket_print::verify_file_bytes(&pdf, &trust) {
        loket_print::FileVerdict::Valid { verified, .. } => {
            assert_eq!(verified.claims.holder_name, "Andi Tenri Ajeng");
            assert_eq!(verified.claims.nik, "7315015507050003");
        }
        other => panic!("issued PDF must verify: {other:?}"),
    }

    // Deciding twice is refused and changes nothing.
    let again = s
        .post_form(&format!("/review/applications/{id}/approve"), &[])
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(s.updates(0).await.updates.len(), 1);
}

#[tokio::test]
async fn rejection_needs_a_reason_and_reaches_the_village() {
    let s = spawn().await;
    s.submit(vec![envelope(2, "Andi Tenri Ajeng")]).await;
    let id = Uuid::from_u128(2);
    let path = format!("/review/applications/{id}/reject");

    let empty = s.post_form(&path, &[("reason", "   ")]).await;
    assert_eq!(empty.status(), 422);
    assert!(empty
        .text()
        .await
        .unwrap()
        .contains("alasan penolakan wajib diisi"));
    assert!(s.updates(0).await.updates.is_empty());

    let ok = s
        .post_form(&path, &[("reason", "Pindaian KK tidak terbaca")])
        .await;
    assert_eq!(ok.status(), 303);
    let feed = s.updates(0).await;
    assert_eq!(feed.updates[0].status, ApplicationStatus::Rejected);
    assert_eq!(
        feed.updates[0].reason.as_deref(),
        Some("Pindaian KK tidak terbaca")
    );

    let page = s
        .http
        .get(format!("{}/review/applications/{id}", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-status=\"rejected\""));
    assert!(page.contains("Pindaian KK tidak terbaca"));
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_change_nothing() {
    let s = spawn().await;
    let path = "/api/v1/applications";
    let post = |body: Vec<u8>| s.signed(reqwest::Method::POST, path, body).send();

    let bad_json = post(b"{\"device\": ".to_vec()).await.unwrap();
    assert_eq!(bad_json.status(), 400);
    let body: ApiError = bad_json.json().await.unwrap();
    assert_eq!(body.code, "bad_request");

    let wrong_shape = post(
        serde_json::to_vec(
            &serde_json::json!({"device": {"village_code": "7315012003"}, "applications": []}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(wrong_shape.status(), 422);

    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let too_big = post(huge.into_bytes()).await.unwrap();
    assert_eq!(too_big.status(), 413);
    let body: ApiError = too_big.json().await.unwrap();
    assert_eq!(body.code, "too_large");

    // A batch naming another village than the signing device's: refused before anything else.
    let mut unknown_village = SubmitBatch {
        device: device(),
        applications: vec![envelope(3, "Andi Tenri Ajeng")],
    };
    unknown_village.device.village_code = "9999999999".into();
    let resp = post(serde_json::to_vec(&unknown_village).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: ApiError = resp.json().await.unwrap();
    assert_eq!(body.code, "wrong_device");

    let unknown_doc = s
        .signed(
            reqwest::Method::GET,
            "/api/v1/documents/7315-SK-2026-999999/pdf",
            Vec::new(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_doc.status(), 404);

    assert_eq!(s.count(), 0);
}

fn multipart_file(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "loket-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dokumen.pdf\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn public_verification_page_needs_no_login() {
    let s = spawn().await;
    s.submit(vec![envelope(1, "Andi Tenri Ajeng")]).await;
    let id = Uuid::from_u128(1);
    s.post_form(&format!("/review/applications/{id}/approve"), &[])
        .await;
    let pdf = s
        .http
        .get(format!("{}/documents/7315-SK-2026-000001.pdf", s.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    let page = s
        .http
        .get(format!("{}/verifikasi", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("id=\"verify-file\""));

    let post = |bytes: Vec<u8>| {
        let (ctype, body) = multipart_file(&bytes);
        s.http
            .post(format!("{}/verifikasi", s.base))
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let valid = post(pdf.to_vec()).await.unwrap();
    assert_eq!(valid.status(), 200);
    let html = valid.text().await.unwrap();
    assert!(html.contains("data-verdict=\"valid\""), "{html}");
    assert!(html.contains("Andi Tenri Ajeng"));

    // Same layout, a key the district never published.
    let stranger = IssuingKey {
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[0x66; 32]),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    };
    let claims = loket_qr::DocumentClaims {
        doc_type: loket_qr::DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-000001".into(),
        holder_name: "Andi Tenri Ajeng".into(),
        nik: "7315015507050003".into(),
        birth_date: NaiveDate::from_ymd_opt(2005, 7, 15).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        district_code: "73.15".into(),
        revision: 0,
    };
    let forged = loket_print::render_document(&loket_print::DocumentData {
        qr_text: loket_qr::sign(&claims, &stranger),
        claims,
        birth_place: "Pinrang".into(),
        sex_label: "Perempuan".into(),
        address: "Massulowalie".into(),
        district_name: "Kabupaten Pinrang".into(),
        signer_name: "Kepala Dinas".into(),
        signer_title: "Kabupaten Pinrang".into(),
        key_id: stranger.key_id().to_string(),
    })
    .unwrap();
    let html = post(forged).await.unwrap().text().await.unwrap();
    assert!(html.contains("data-verdict=\"invalid\""), "{html}");
    assert!(html.contains("kunci yang tidak dikenal"));

    let html = post(b"not a document".to_vec())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-verdict=\"unreadable\""), "{html}");

    let empty = post(Vec::new()).await.unwrap();
    assert_eq!(empty.status(), 400);
}
