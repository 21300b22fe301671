//! Scan pages travel from a village laptop (real SQLCipher store) to the real back office on
//! loopback: once, hash-checked, resumable after a connection cut mid-chunk, and visible to
//! reviewers. A small TCP proxy in front of the server counts (and can cut) what the laptop sends.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore};
use loket_domain::{
    validate_applicant, ApplicantForm, ProvidedDocument, RegionCode, ScanRef, ServiceCode,
};
use loket_qr::IssuingKey;
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, NewScan, VillageStore};
use loket_sync::blobs::{BlobError, UploadProgress, UploadReport};
use loket_sync::protocol::envelope;
use loket_sync::protocol::{
    BlobAnnounce, BlobConflict, BlobStatus, DeviceRef, SubmitBatch, SubmitOutcome, MAX_CHUNK_BYTES,
};
use loket_sync::{upload_pending_scans, SyncClient, SyncError};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const KEY: [u8; 32] = [3; 32];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn at() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap()
}

fn device(no: u16) -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: no,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A JPEG-looking page of `len` bytes whose content depends on `seed`.
fn page_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

struct Backoffice {
    state: AppState,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Backoffice {
    async fn start() -> Backoffice {
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
        let addr = listener.local_addr().unwrap();
        tokio::spawn(loket_backoffice::serve(listener, state.clone()));
        Backoffice {
            state,
            addr,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn status(&self, sha: &str) -> Option<BlobStatus> {
        self.state.store.lock().unwrap().blob_status(sha).unwrap()
    }

    fn bytes(&self, sha: &str) -> Option<Vec<u8>> {
        self.state.store.lock().unwrap().blob_bytes(sha).unwrap()
    }
}

/// A village laptop: its encrypted store on disk and its enrolled device key.
struct Laptop {
    db: PathBuf,
    device: DeviceRef,
    key: ed25519_dalek::SigningKey,
}

impl Laptop {
    fn new(dir: &Path, bo: &Backoffice, no: u16) -> Laptop {
        let key = loket_backoffice::testing::enroll_in(&bo.state, &device(no), [no as u8; 32]);
        Laptop {
            db: dir.join(format!("village-{no}.sqlite")),
            device: device(no),
            key,
        }
    }

    fn open(&self) -> VillageStore {
        VillageStore::open_encrypted(&self.db, &DatabaseKey::from_bytes(KEY)).unwrap()
    }

    /// What a blocking thread needs to build this laptop's client (a blocking reqwest client
    /// must be made and dropped off the async runtime).
    fn client_parts(&self, url: &str) -> ClientParts {
        ClientParts(url.to_string(), self.device.clone(), self.key.clone())
    }

    /// Registers an application of `pages` (each stored as a scan first); returns its id.
    fn register(&self, n: u128, pages: &[&[u8]]) -> Uuid {
        let mut store = self.open();
        let refs: Vec<ScanRef> = pages
            .iter()
            .map(|bytes| {
                store
                    .put_scan(
                        &NewScan {
                            bytes: bytes.to_vec(),
                            media_type: "image/jpeg".into(),
                            thumbnail: Vec::new(),
                        },
                        at(),
                    )
                    .unwrap()
            })
            .collect();
        let form = ApplicantForm {
            nik: "7315015507050003".into(),
            full_name: format!(
                "Warga Uji {}",
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
        let mut new = NewApplication::new(
            ServiceCode::parse("ktp_el_baru").unwrap(),
            "2026.11.1",
            applicant,
        );
        new.provided = vec![ProvidedDocument {
            slot: "kk".into(),
            pages: refs,
        }];
        let identity = DeviceIdentity {
            village: RegionCode::parse_village(&self.device.village_code).unwrap(),
            device_no: self.device.device_no,
        };
        store
            .register(&identity, &new, "Operator Uji", at(), Uuid::from_u128(n))
            .unwrap()
            .id
    }

    /// Pushes the outbox (the application lane's work, without `sync_once`'s other lanes, which
    /// would upload the pages too) and records the acknowledgements.
    async fn acknowledge(&self, url: &str) {
        let (db, parts, device) = (self.db.clone(), self.client_parts(url), self.device.clone());
        tokio::task::spawn_blocking(move || {
            let client = parts.client();
            let mut store =
                VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes(KEY)).unwrap();
            let batch = SubmitBatch {
                device,
                applications: store.outbox(100).unwrap().iter().map(envelope).collect(),
            };
            for result in client.submit(&batch).unwrap().results {
                assert_ne!(result.outcome, SubmitOutcome::Conflict);
                store.mark_acknowledged(result.id, result.status).unwrap();
            }
        })
        .await
        .unwrap();
    }

    /// One pass of the attachment lane through `url`, with every progress report.
    async fn upload(&self, url: &str) -> (Result<UploadReport, SyncError>, Vec<UploadProgress>) {
        let (db, parts, device) = (self.db.clone(), self.client_parts(url), self.device.clone());
        tokio::task::spawn_blocking(move || {
            let client = parts.client();
            let store = VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes(KEY)).unwrap();
            let mut seen = Vec::new();
            let result = upload_pending_scans(&store, &client, &device, &mut |p| seen.push(p));
            (result, seen)
        })
        .await
        .unwrap()
    }

    /// Runs `f` with this laptop's client off the async runtime (the low-level calls).
    async fn with_client<T: Send + 'static>(
        &self,
        url: &str,
        f: impl FnOnce(&SyncClient) -> T + Send + 'static,
    ) -> T {
        let parts = self.client_parts(url);
        tokio::task::spawn_blocking(move || f(&parts.client()))
            .await
            .unwrap()
    }
}

struct ClientParts(String, DeviceRef, ed25519_dalek::SigningKey);

impl ClientParts {
    fn client(self) -> SyncClient {
        SyncClient::new(&self.0)
            .unwrap()
            .with_device_key(self.1, self.2)
            .with_clock(Arc::new(now))
    }
}

/// A loopback TCP proxy in front of the server (plain threads, independent of the runtime):
/// counts the bytes the laptop sends and, once more than `budget` bytes went up, forwards no
/// more and cuts every connection (mid-request, mid-body).
struct Proxy {
    url: String,
    sent: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(target: SocketAddr, budget: u64) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { return };
                let Ok(upstream) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                let counter = counter.clone();
                let (mut ri, mut wi) = (inbound.try_clone().unwrap(), inbound);
                let (mut ru, mut wu) = (upstream.try_clone().unwrap(), upstream);
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match ri.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let before = counter.fetch_add(n as u64, Ordering::SeqCst);
                        let allowed = budget.saturating_sub(before).min(n as u64) as usize;
                        if wu.write_all(&buf[..allowed]).is_err() || allowed < n {
                            break; // the cut
                        }
                    }
                    let _ = wu.shutdown(Shutdown::Both);
                    let _ = ri.shutdown(Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut ru, &mut wi);
                    let _ = wi.shutdown(Shutdown::Both);
                    let _ = ru.shutdown(Shutdown::Both);
                });
            }
        });
        Proxy { url, sent }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

async fn get(url: String) -> reqwest::Response {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new().get(url).send().await.unwrap()
}

#[tokio::test]
async fn pages_of_acknowledged_applications_arrive_once_and_hash_check() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let p1 = page_bytes(1, 150_000);
    let p2 = page_bytes(2, 90_000);
    let p3 = page_bytes(3, 700_000); // two chunks
    let p4 = page_bytes(4, 60_000);
    laptop.register(1, &[&p1, &p2]);
    laptop.register(2, &[&p3]);
    laptop.register(3, &[&p1]); // the same paper again: stored and sent once
    laptop.acknowledge(&bo.url()).await;
    // Registered after the pass: its application is not acknowledged, so its page waits.
    laptop.register(4, &[&p4]);

    let proxy = Proxy::start(bo.addr, u64::MAX).await;
    let (report, seen) = laptop.upload(&proxy.url).await;
    let report = report.unwrap();
    assert_eq!(
        (
            report.pages_uploaded,
            report.pages_already_held,
            report.pages_failed
        ),
        (3, 0, 0)
    );
    let payload = (p1.len() + p2.len() + p3.len()) as u64;
    assert_eq!(report.bytes_uploaded, payload);
    // Payload plus headers and three small JSON requests; nothing sent twice.
    assert!(
        proxy.sent() >= payload && proxy.sent() < payload + 12_000,
        "{}",
        proxy.sent()
    );
    let last = *seen.last().unwrap();
    assert_eq!((last.pages_done, last.pages_total), (3, 3));
    assert_eq!((last.bytes_done, last.bytes_total), (payload, payload));
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
    assert!(
        seen.len() >= 5,
        "progress after every chunk and page: {seen:?}"
    );

    for page in [&p1, &p2, &p3] {
        let sha = sha256_hex(page);
        let held = bo.bytes(&sha).expect("held whole");
        assert_eq!(sha256_hex(&held), sha);
        assert!(laptop.open().upload_state(&sha).unwrap().unwrap().complete);
    }
    assert_eq!(bo.status(&sha256_hex(&p4)), None);
    let summary = laptop.open().upload_summary().unwrap();
    assert_eq!((summary.pending_pages, summary.complete_pages), (0, 3));

    // A second pass sends nothing at all.
    let quiet = Proxy::start(bo.addr, u64::MAX).await;
    let (report, _) = laptop.upload(&quiet.url).await;
    assert_eq!(report.unwrap(), UploadReport::default());
    assert_eq!(quiet.sent(), 0);

    // Another laptop with the same paper learns from one status query that the district has it.
    let other = Laptop::new(dir.path(), &bo, 2);
    other.register(10, &[&p1]);
    other.acknowledge(&bo.url()).await;
    let watched = Proxy::start(bo.addr, u64::MAX).await;
    let (report, _) = other.upload(&watched.url).await;
    let report = report.unwrap();
    assert_eq!((report.pages_uploaded, report.pages_already_held), (0, 1));
    assert_eq!(report.bytes_uploaded, 0);
    assert!(watched.sent() < 2_000, "{}", watched.sent());
}

#[tokio::test]
async fn a_cut_mid_chunk_resumes_at_the_last_acknowledged_byte() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let big = page_bytes(7, 1_200_000); // chunks of 524 288, 524 288 and 151 424 bytes
    let sha = sha256_hex(&big);
    let id = laptop.register(1, &[&big]);
    laptop.acknowledge(&bo.url()).await;

    // The link dies about 100 KB into the second chunk.
    let flaky = Proxy::start(bo.addr, MAX_CHUNK_BYTES as u64 + 100_000).await;
    let (result, seen) = laptop.upload(&flaky.url).await;
    let err = result.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let held = bo.status(&sha).unwrap();
    assert_eq!(
        (held.received, held.complete),
        (MAX_CHUNK_BYTES as u64, false)
    );
    let state = laptop.open().upload_state(&sha).unwrap().unwrap();
    assert_eq!(state.uploaded, MAX_CHUNK_BYTES as u64);
    assert_eq!(state.attempts, 1);
    assert!(state.last_error.is_some());
    assert_eq!(seen.last().unwrap().bytes_done, MAX_CHUNK_BYTES as u64);

    // Reviewers see the page as not yet uploaded, and cannot open the partial bytes.
    let html = get(format!("{}/review/applications/{id}", bo.url()))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("belum terunggah"), "{html}");
    assert_eq!(
        get(format!("{}/review/scans/{sha}", bo.url()))
            .await
            .status(),
        404
    );

    // The next pass sends only what the server lacks.
    let good = Proxy::start(bo.addr, u64::MAX).await;
    let (report, seen) = laptop.upload(&good.url).await;
    let report = report.unwrap();
    let rest = (big.len() - MAX_CHUNK_BYTES) as u64;
    assert_eq!((report.pages_uploaded, report.bytes_uploaded), (1, rest));
    assert!(
        good.sent() >= rest && good.sent() < rest + 4_000,
        "{}",
        good.sent()
    );
    assert_eq!(
        seen[0].bytes_done, MAX_CHUNK_BYTES as u64,
        "starts where it stopped"
    );
    assert_eq!(bo.bytes(&sha).unwrap(), big);
    let state = laptop.open().upload_state(&sha).unwrap().unwrap();
    assert!(state.complete && state.last_error.is_none());
}

#[tokio::test]
async fn a_chunk_at_another_offset_is_refused_with_the_held_offset() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let page = page_bytes(11, 700_000);
    let sha = sha256_hex(&page);
    let (url, p, s) = (bo.url(), page.clone(), sha.clone());
    let outcome = laptop
        .with_client(&url, move |c| {
            let announce = BlobAnnounce {
                device: device(1),
                sha256: s.clone(),
                size: p.len() as u64,
            };
            let first = c.announce_blob(&announce).unwrap();
            let again = c.announce_blob(&announce).unwrap();
            let acked = c.put_blob_chunk(&s, 0, &p[..1000]).unwrap();
            let replayed = c.put_blob_chunk(&s, 0, &p[..1000]);
            let ahead = c.put_blob_chunk(&s, 5000, &p[5000..6000]);
            (first, again, acked, replayed, ahead)
        })
        .await;
    let (first, again, acked, replayed, ahead) = outcome;
    assert_eq!((first.received, first.complete), (0, false));
    assert_eq!(again, first, "announcing again is idempotent");
    assert_eq!(acked.received, 1000);
    for refused in [replayed, ahead] {
        match refused {
            Err(BlobError::OffsetMismatch(held)) => assert_eq!(held.received, 1000),
            other => panic!("expected an offset mismatch, got {other:?}"),
        }
    }
    assert_eq!(bo.status(&sha).unwrap().received, 1000);

    // On the wire: 409 with the held offset in the body.
    let path = format!("/api/v1/blobs/{sha}?offset=0");
    let body = page[..10].to_vec();
    let key = laptop.key.clone();
    let base = bo.url();
    let resp = tokio::task::spawn_blocking(move || {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut req = reqwest::blocking::Client::new()
            .put(format!("{base}{path}"))
            .header("content-type", "application/octet-stream");
        for (name, value) in
            loket_sync::auth::signature_headers(&device(1), &key, "PUT", &path, &body, now())
        {
            req = req.header(name, value);
        }
        let resp = req.body(body).send().unwrap();
        (resp.status().as_u16(), resp.json::<BlobConflict>().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(resp.0, 409);
    assert_eq!(resp.1.code, "offset_mismatch");
    assert_eq!(resp.1.blob.received, 1000);
    assert!(resp.1.message.contains("1000"), "{}", resp.1.message);
}

#[tokio::test]
async fn a_corrupted_upload_is_discarded_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let page = page_bytes(21, 600_000);
    let sha = sha256_hex(&page);
    laptop.register(1, &[&page]);
    laptop.acknowledge(&bo.url()).await;

    // A chunk corrupted in transit: the server only finds out when the whole is there.
    let (p, s) = (page.clone(), sha.clone());
    let last = laptop
        .with_client(&bo.url(), move |c| {
            c.announce_blob(&BlobAnnounce {
                device: device(1),
                sha256: s.clone(),
                size: p.len() as u64,
            })
            .unwrap();
            c.put_blob_chunk(&s, 0, &p[..MAX_CHUNK_BYTES]).unwrap();
            let mut bad = p[MAX_CHUNK_BYTES..].to_vec();
            bad[10] ^= 0x01;
            c.put_blob_chunk(&s, MAX_CHUNK_BYTES as u64, &bad)
        })
        .await;
    assert!(matches!(last, Err(BlobError::HashMismatch)), "{last:?}");
    assert_eq!(bo.status(&sha), None, "the partial upload is discarded");
    assert_eq!(bo.bytes(&sha), None);

    let (report, _) = laptop.upload(&bo.url()).await;
    let report = report.unwrap();
    assert_eq!((report.pages_uploaded, report.pages_failed), (1, 0));
    assert_eq!(bo.bytes(&sha).unwrap(), page);
}

#[tokio::test]
async fn the_same_hash_with_another_size_is_a_conflict_the_laptop_shows() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let page = page_bytes(31, 80_000);
    let sha = sha256_hex(&page);
    laptop.register(1, &[&page]);
    laptop.acknowledge(&bo.url()).await;

    // Someone announced this hash with a wrong size first.
    let s = sha.clone();
    let (first, second) = laptop
        .with_client(&bo.url(), move |c| {
            let mut announce = BlobAnnounce {
                device: device(1),
                sha256: s,
                size: 79_999,
            };
            let first = c.announce_blob(&announce);
            announce.size = 80_000;
            (first, c.announce_blob(&announce))
        })
        .await;
    assert_eq!(first.unwrap().size, 79_999);
    match second {
        Err(BlobError::SizeConflict(held)) => assert_eq!(held.size, 79_999),
        other => panic!("expected a size conflict, got {other:?}"),
    }

    // The lane gives up on that page visibly instead of looping or dropping it.
    let (report, seen) = laptop.upload(&bo.url()).await;
    let report = report.unwrap();
    assert_eq!((report.pages_uploaded, report.pages_failed), (0, 1));
    assert_eq!(seen.last().unwrap().pages_failed, 1);
    let failed = laptop.open().failed_uploads().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("ukuran lain"),
        "{failed:?}"
    );
    assert_eq!(laptop.open().pending_uploads(10).unwrap(), vec![]);
}

#[tokio::test]
async fn reviewers_see_uploaded_pages_and_which_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let p1 = page_bytes(41, 120_000);
    let p2 = page_bytes(42, 110_000);
    let (sha1, sha2) = (sha256_hex(&p1), sha256_hex(&p2));
    let id = laptop.register(1, &[&p1, &p2]);
    laptop.acknowledge(&bo.url()).await;

    // Only the first page has arrived so far.
    let (p, s) = (p1.clone(), sha1.clone());
    laptop
        .with_client(&bo.url(), move |c| {
            c.announce_blob(&BlobAnnounce {
                device: device(1),
                sha256: s.clone(),
                size: p.len() as u64,
            })
            .unwrap();
            c.put_blob_chunk(&s, 0, &p).unwrap();
        })
        .await;
    let html = get(format!("{}/review/applications/{id}", bo.url()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<img src=\"/review/scans/{sha1}\"")),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<span class=\"scan-missing\" data-sha256=\"{sha2}\">hlm 2: belum terunggah</span>"
    )));

    let resp = get(format!("{}/review/scans/{sha1}", bo.url())).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), p1);
    assert_eq!(
        get(format!("{}/review/scans/{sha2}", bo.url()))
            .await
            .status(),
        404
    );

    // After the lane's pass both pages show.
    let (report, _) = laptop.upload(&bo.url()).await;
    assert_eq!(report.unwrap().pages_already_held, 1);
    let html = get(format!("{}/review/applications/{id}", bo.url()))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("<img src=\"/review/scans/{sha2}\"")));
    assert!(!html.contains("belum terunggah"));
}

#[tokio::test]
async fn a_page_damaged_on_the_laptop_is_never_sent_and_stays_listed() {
    let dir = tempfile::tempdir().unwrap();
    let bo = Backoffice::start().await;
    let laptop = Laptop::new(dir.path(), &bo, 1);
    let good = page_bytes(51, 50_000);
    let damaged = page_bytes(52, 50_000);
    let sha = sha256_hex(&damaged);
    laptop.register(1, &[&good, &damaged]);
    laptop.acknowledge(&bo.url()).await;
    {
        // Edited behind Loket's back (or a failing disk): the bytes no longer match their name.
        let raw = rusqlite::Connection::open(&laptop.db).unwrap();
        raw.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "03".repeat(32)))
            .unwrap();
        let mut bytes = damaged.clone();
        bytes[1000] ^= 0xFF;
        raw.execute(
            "UPDATE scans SET bytes = ?2 WHERE sha256 = ?1",
            rusqlite::params![sha, bytes],
        )
        .unwrap();
    }
    let (report, _) = laptop.upload(&bo.url()).await;
    let report = report.unwrap();
    assert_eq!((report.pages_uploaded, report.pages_failed), (1, 1));
    assert_eq!(
        bo.status(&sha),
        None,
        "not a byte of it was announced or sent"
    );
    let failed = laptop.open().failed_uploads().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("rusak di laptop"));
    assert_eq!(laptop.open().upload_summary().unwrap().failed_pages, 1);
}
