//! Catalogue publishing end to end: the real server on a loopback port serves the current
//! catalogue signed with the district key, and a village store pulls it with the real client.

use chrono::{TimeZone, Utc};
use loket_backoffice::{AppState, BackofficeStore, Clock, PUBLISHED_CATALOGUE_FILE};
use loket_catalogue::{
    catalogue, parse_version, verify_signed_catalogue, CatalogueSignatureError, SignedCatalogue,
    EMBEDDED_CATALOGUE_JSON,
};
use loket_qr::{IssuingKey, TrustList};
use loket_store::{DatabaseKey, VillageStore};
use loket_sync::{pull_catalogue, SyncError, CATALOGUE_SETTING};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

struct Server {
    base: String,
    http: reqwest::Client,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

fn fixed_clock() -> Clock {
    Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn district_key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    }
}

/// The real server with its own data directory, signing with the key of `seed`.
async fn spawn(seed: u8) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("backoffice");
    std::fs::create_dir_all(&data).unwrap();
    let store = BackofficeStore::open(&data.join("backoffice.sqlite")).unwrap();
    let state = AppState {
        store: Arc::new(Mutex::new(store)),
        key: Arc::new(district_key(seed)),
        signer: Arc::new(("Kepala Dinas".into(), "Kabupaten Pinrang".into())),
        clock: fixed_clock(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(loket_backoffice::serve_with_data_dir(
        listener, state, &data,
    ));
    Server {
        base,
        http: reqwest::Client::new(),
        data,
        _dir: dir,
    }
}

impl Server {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn signed_catalogue(&self) -> SignedCatalogue {
        let resp = self.get("/api/v1/catalogue").await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json");
        SignedCatalogue::from_json(&resp.text().await.unwrap()).unwrap()
    }

    async fn trust(&self) -> TrustList {
        TrustList::from_json(&self.get("/api/v1/trust").await.text().await.unwrap()).unwrap()
    }

    /// What `loket catalogue publish` leaves behind: the file in the data directory.
    fn publish(&self, text: &str) {
        std::fs::write(self.data.join(PUBLISHED_CATALOGUE_FILE), text).unwrap();
    }
}

/// The embedded catalogue with another version, as a district would publish it.
fn with_version(version: &str) -> String {
    let current = format!("\"version\": \"{}\"", catalogue().version());
    assert!(EMBEDDED_CATALOGUE_JSON.contains(&current));
    EMBEDDED_CATALOGUE_JSON.replacen(&current, &format!("\"version\": \"{version}\""), 1)
}

/// The embedded version with N moved by `delta` (N stays ≥ 1 for the deltas used here).
fn embedded_version_plus(delta: i64) -> String {
    let [year, month, n] = parse_version(catalogue().version()).unwrap();
    format!("{year}.{month:02}.{}", i64::from(n) + delta)
}

#[tokio::test]
async fn serves_the_embedded_catalogue_signed_by_the_district_key() {
    let server = spawn(9).await;
    let signed = server.signed_catalogue().await;
    assert_eq!(signed.catalogue, EMBEDDED_CATALOGUE_JSON);
    assert_eq!(signed.key_id, district_key(9).key_id());
    let verified = verify_signed_catalogue(&signed, &server.trust().await).unwrap();
    assert_eq!(verified.version(), catalogue().version());

    // The plain server (no data directory to publish into) serves the embedded one too.
    let dir = tempfile::tempdir().unwrap();
    let state = AppState {
        store: Arc::new(Mutex::new(
            BackofficeStore::open(&dir.path().join("backoffice.sqlite")).unwrap(),
        )),
        key: Arc::new(district_key(9)),
        signer: Arc::new(("Kepala Dinas".into(), "Kabupaten Pinrang".into())),
        clock: fixed_clock(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(loket_backoffice::serve(listener, state));
    let text = reqwest::get(format!("{base}/api/v1/catalogue"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let plain = SignedCatalogue::from_json(&text).unwrap();
    assert_eq!(plain.catalogue, EMBEDDED_CATALOGUE_JSON);
    verify_signed_catalogue(&plain, &server.trust().await).unwrap();
}

#[tokio::test]
async fn a_laptop_that_has_the_version_gets_no_body() {
    let server = spawn(9).await;
    let current = catalogue().version().to_string();
    // Already current (or ahead): 204 with the served version, no 57 KB over a 2G link.
    for have in [current.clone(), embedded_version_plus(1)] {
        let resp = server.get(&format!("/api/v1/catalogue?have={have}")).await;
        assert_eq!(resp.status(), 204, "have={have}");
        assert_eq!(
            resp.headers()["x-loket-catalogue-version"],
            current.as_str()
        );
        assert!(resp.bytes().await.unwrap().is_empty());
    }
    // Behind, or an unreadable version: the whole signed catalogue.
    server.publish(&with_version(&embedded_version_plus(1)));
    for have in [current.as_str(), "nonsense"] {
        let resp = server.get(&format!("/api/v1/catalogue?have={have}")).await;
        assert_eq!(resp.status(), 200, "have={have}");
        let signed = SignedCatalogue::from_json(&resp.text().await.unwrap()).unwrap();
        assert!(signed.catalogue.contains(&embedded_version_plus(1)));
    }
}

#[tokio::test]
async fn a_published_newer_catalogue_is_served_at_once() {
    let server = spawn(9).await;
    let newer = embedded_version_plus(1);
    server.publish(&with_version(&newer));

    let signed = server.signed_catalogue().await;
    let verified = verify_signed_catalogue(&signed, &server.trust().await).unwrap();
    assert_eq!(verified.version(), newer);
    assert_eq!(
        signed.catalogue,
        with_version(&newer),
        "the exact published text"
    );

    // Republished again: read per request, no restart.
    let newest = embedded_version_plus(2);
    server.publish(&with_version(&newest));
    let signed = server.signed_catalogue().await;
    let verified = verify_signed_catalogue(&signed, &server.trust().await).unwrap();
    assert_eq!(verified.version(), newest);
}

#[tokio::test]
async fn a_published_file_not_newer_than_the_embedded_one_is_not_served() {
    // E.g. the back office was upgraded to a build that embeds a newer catalogue.
    let server = spawn(9).await;
    server.publish(&with_version("2020.01.1"));
    let signed = server.signed_catalogue().await;
    assert_eq!(signed.catalogue, EMBEDDED_CATALOGUE_JSON);
}

#[tokio::test]
async fn a_broken_published_file_is_an_error_not_a_silent_fallback() {
    let server = spawn(9).await;
    server.publish("{ \"schema\": 1, \"version\": \"2099.01.1\" }");
    let resp = server.get("/api/v1/catalogue").await;
    assert_eq!(resp.status(), 500);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "catalogue_invalid");
    assert!(
        body["message"].as_str().unwrap().contains("tidak valid"),
        "{body}"
    );
}

fn village_db(dir: &Path) -> PathBuf {
    dir.join("village.sqlite")
}

/// Runs `pull_catalogue` off the async runtime, as the desktop app's sync worker does.
async fn pull(db: PathBuf, url: String, trust: TrustList) -> Result<Option<String>, SyncError> {
    tokio::task::spawn_blocking(move || {
        let store = VillageStore::open_encrypted(&db, &DatabaseKey::from_bytes([3; 32])).unwrap();
        pull_catalogue(&url, &store, &trust)
    })
    .await
    .unwrap()
}

fn stored_catalogue(db: &Path) -> Option<String> {
    VillageStore::open_encrypted(db, &DatabaseKey::from_bytes([3; 32]))
        .unwrap()
        .setting(CATALOGUE_SETTING)
        .unwrap()
}

#[tokio::test]
async fn a_village_pulls_only_a_newer_genuinely_signed_catalogue() {
    let server = spawn(9).await;
    let dir = tempfile::tempdir().unwrap();
    let db = village_db(dir.path());
    // The village's trust list, received earlier.
    let trust = server.trust().await;

    // Nothing newer than the embedded catalogue: nothing stored.
    assert_eq!(
        pull(db.clone(), server.base.clone(), trust.clone())
            .await
            .unwrap(),
        None
    );
    assert_eq!(stored_catalogue(&db), None);

    // The district publishes; the next pull takes it, the one after has nothing to do.
    let newer = embedded_version_plus(1);
    server.publish(&with_version(&newer));
    assert_eq!(
        pull(db.clone(), server.base.clone(), trust.clone())
            .await
            .unwrap(),
        Some(newer.clone())
    );
    assert_eq!(stored_catalogue(&db), Some(with_version(&newer)));
    assert_eq!(
        pull(db.clone(), server.base.clone(), trust.clone())
            .await
            .unwrap(),
        None
    );

    // An older genuine catalogue (a replay, or the district rolling back) never replaces it.
    server.publish(EMBEDDED_CATALOGUE_JSON);
    assert_eq!(
        pull(db.clone(), server.base.clone(), trust.clone())
            .await
            .unwrap(),
        None
    );
    assert_eq!(stored_catalogue(&db), Some(with_version(&newer)));
}

#[tokio::test]
async fn a_catalogue_signed_by_another_key_is_refused_with_a_readable_error() {
    // A server that is not the district's (or a district key the village does not trust).
    let impostor = spawn(7).await;
    impostor.publish(&with_version(&embedded_version_plus(5)));
    let district = spawn(9).await;
    let trust = district.trust().await;
    let dir = tempfile::tempdir().unwrap();
    let db = village_db(dir.path());

    let err = pull(db.clone(), impostor.base.clone(), trust)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Catalogue(CatalogueSignatureError::UnknownKey(_))
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("katalog layanan"), "{err}");
    assert_eq!(stored_catalogue(&db), None, "nothing changed");
}

#[tokio::test]
async fn an_unreachable_back_office_is_retryable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let err = pull(village_db(dir.path()), dead_url, TrustList::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
}
