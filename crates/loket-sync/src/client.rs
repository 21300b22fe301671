//! The village side of sync: `SyncClient` (one request per call) and `sync_once`, a pass made
//! of lanes (`crate::lanes`, planned by `crate::planner`). A pass is safe to interrupt anywhere,
//! because every step is idempotent on the server and committed atomically here.

use chrono::{DateTime, Utc};
use loket_store::{StoreError, VillageStore};
use reqwest::blocking::{Client, RequestBuilder, Response};
use std::time::Duration;

use crate::auth::{ClientClock, DeviceSigner};

use crate::protocol::{ApiError, DeviceRef, SubmitBatch, SubmitResponse, UpdatesResponse};

/// Setting key under which the last trust list from the back office is kept (raw JSON).
pub const TRUST_LIST_SETTING: &str = "trust_list";

/// Why a sync pass stopped; the variant decides the words the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No connection to the back office (offline, wrong address, server down).
    #[error("server Disdukcapil tidak dapat dihubungi ({0})")]
    Unreachable(String),
    /// The back office answered with an error.
    #[error("server menolak permintaan ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The answer could not be understood: a version mismatch or a broken proxy.
    #[error("jawaban server tidak dapat dibaca: {0}")]
    Protocol(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The catalogue from the server is not signed by a trusted key or not usable; the village
    /// keeps the catalogue it has.
    #[error(transparent)]
    Catalogue(#[from] loket_catalogue::CatalogueSignatureError),
    /// This laptop has no device identity the back office knows: enroll with a code first.
    #[error("perangkat belum terdaftar di Disdukcapil; masukkan kode pendaftaran di Pengaturan")]
    NotEnrolled,
    /// The district revoked this device; only a new enrollment code helps.
    #[error("perangkat ini telah dicabut oleh Disdukcapil; hubungi admin untuk mendaftar ulang")]
    Revoked,
    /// The laptop's clock is too far from the server's for its signatures to count.
    #[error(
        "jam laptop ini salah{}; perbaiki tanggal, jam dan zona waktu laptop lalu sinkronkan lagi",
        server_time_text(server_time)
    )]
    ClockWrong {
        /// The server's time from its answer, when it sent one.
        server_time: Option<DateTime<Utc>>,
    },
    /// The server's TLS certificate was refused: a wrong address, an intercepting network
    /// (hotel or café Wi-Fi login page) or a laptop clock so wrong that certificates look invalid.
    #[error(
        "sertifikat keamanan server Disdukcapil tidak dapat dipercaya; periksa alamat server, \
         jaringan dan jam laptop, atau hubungi admin kabupaten ({0})"
    )]
    CertificateProblem(String),
}

fn server_time_text(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| {
        format!(
            " (waktu server Disdukcapil: {} UTC)",
            t.format("%d-%m-%Y %H:%M")
        )
    })
    .unwrap_or_default()
}

impl SyncError {
    /// Whether trying again later can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Unreachable(_) | SyncError::Protocol(_) => true,
            SyncError::Rejected { status, .. } => *status >= 500 || *status == 429,
            // These need a person (a code, the admin, the clock, the network), not a timer.
            SyncError::Store(_)
            | SyncError::Catalogue(_)
            | SyncError::NotEnrolled
            | SyncError::Revoked
            | SyncError::ClockWrong { .. }
            | SyncError::CertificateProblem(_) => false,
        }
    }
}

/// What one pass did, for the operator's status line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Applications the server acknowledged in this pass.
    pub sent: usize,
    /// Applications refused for good in this pass.
    pub failed: usize,
    /// Status changes applied.
    pub updated: usize,
    /// Document PDFs downloaded.
    pub documents: usize,
    /// Audit log entries the server acknowledged in this pass (`audit::push_audit_log`).
    pub audit_entries: usize,
    /// The newer service catalogue taken in this pass, by version.
    pub catalogue: Option<String>,
    /// Why a published catalogue was refused (it is kept out; sync goes on).
    pub catalogue_error: Option<String>,
    /// Each lane's outcome, in pass order (`crate::lanes`).
    pub lanes: Vec<crate::lanes::LaneReport>,
    /// Items found `sending` (a pass cut off by a crash) and put back in the queue.
    pub recovered: usize,
    /// Items still to be sent after this pass (due or waiting for their retry time).
    pub waiting: usize,
    /// Items refused for good, waiting for the operator.
    pub held: usize,
    /// The earliest retry time of a waiting item.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// What the attachment lane did.
    pub uploads: crate::blobs::UploadReport,
}

/// An HTTP client bound to one back office; with a device key it signs every request (see
/// `crate::auth`), without one only the public endpoints answer.
pub struct SyncClient {
    base: String,
    http: Client,
    signer: Option<DeviceSigner>,
    clock: ClientClock,
}

impl SyncClient {
    /// A client for the back office at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Result<Self, SyncError> {
        // reqwest is built without a default TLS provider; install ring once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(SyncClient {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            signer: None,
            clock: crate::auth::system_clock(),
        })
    }

    /// A client that signs as the device this laptop enrolled as (`auth::enroll`); an
    /// unenrolled laptop gets an unsigned client, which the server answers with
    /// `SyncError::NotEnrolled`.
    pub fn for_store(base_url: &str, store: &VillageStore) -> Result<Self, SyncError> {
        let client = Self::new(base_url)?;
        Ok(match crate::auth::device_signer(store)? {
            Some(signer) => client.with_signer(signer),
            None => client,
        })
    }

    /// Signs every request as `device` with its enrolled `key`.
    pub fn with_device_key(self, device: DeviceRef, key: ed25519_dalek::SigningKey) -> Self {
        self.with_signer(DeviceSigner::new(device, key))
    }

    /// Signs every request with `signer`.
    pub fn with_signer(mut self, signer: DeviceSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Takes the signing time from `clock` instead of the laptop's wall clock (tests).
    pub fn with_clock(mut self, clock: ClientClock) -> Self {
        self.clock = clock;
        self
    }

    /// The back office's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to `path` on this back office, for other modules' endpoints (`blobs`); put it
    /// on the wire with [`SyncClient::send`] so it is signed like every other request.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Sends one request, signed when this client has a device key, and maps failures to
    /// `SyncError`. Every request of the sync client goes through here, so none goes unsigned.
    pub(crate) fn send(&self, request: RequestBuilder) -> Result<Response, SyncError> {
        let mut request = request
            .build()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        if let Some(signer) = &self.signer {
            let url = request.url();
            let path_and_query = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            let body = request
                .body()
                .map(|b| {
                    b.as_bytes().ok_or_else(|| {
                        SyncError::Protocol(
                            "isi permintaan bertahap tidak dapat ditandatangani".into(),
                        )
                    })
                })
                .transpose()?
                .unwrap_or_default();
            let headers = signer.headers(
                request.method().as_str(),
                &path_and_query,
                body,
                (self.clock)(),
            );
            for (name, value) in headers {
                let value = reqwest::header::HeaderValue::from_str(&value)
                    .map_err(|e| SyncError::Protocol(e.to_string()))?;
                request.headers_mut().insert(name, value);
            }
        }
        Self::check(self.http.execute(request))
    }

    fn check(resp: Result<Response, reqwest::Error>) -> Result<Response, SyncError> {
        let resp = resp.map_err(transport_error)?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let server_time = resp
            .headers()
            .get(crate::protocol::HEADER_SERVER_TIME)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.to_utc());
        let (code, message) = resp
            .json::<ApiError>()
            .map(|e| (e.code, e.message))
            .unwrap_or_else(|_| (String::new(), format!("HTTP {status}")));
        Err(match code.as_str() {
            crate::protocol::ERROR_DEVICE_NOT_ENROLLED => SyncError::NotEnrolled,
            crate::protocol::ERROR_DEVICE_REVOKED => SyncError::Revoked,
            crate::protocol::ERROR_CLOCK_SKEW => SyncError::ClockWrong { server_time },
            _ => SyncError::Rejected { status, message },
        })
    }

    /// POSTs `body` as JSON and reads the JSON answer; shared by the push steps in other modules.
    pub(crate) fn post_json<B, R>(&self, path: &str, body: &B) -> Result<R, SyncError>
    where
        B: serde::Serialize + ?Sized,
        R: serde::de::DeserializeOwned,
    {
        let resp = self.send(self.http.post(self.url(path)).json(body))?;
        resp.json().map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Pushes one batch and returns the server's per-item answers.
    pub fn submit(&self, batch: &SubmitBatch) -> Result<SubmitResponse, SyncError> {
        let resp = self.send(self.http.post(self.url("/api/v1/applications")).json(batch))?;
        resp.json().map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Status changes for this device after `after`.
    pub fn updates(&self, device: &DeviceRef, after: i64) -> Result<UpdatesResponse, SyncError> {
        let resp = self.send(self.http.get(self.url("/api/v1/updates")).query(&[
            ("village_code", device.village_code.clone()),
            ("device_no", device.device_no.to_string()),
            ("after", after.to_string()),
        ]))?;
        resp.json().map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// The PDF of an issued document.
    pub fn document_pdf(&self, doc_number: &str) -> Result<Vec<u8>, SyncError> {
        let resp = self.send(
            self.http
                .get(self.url(&format!("/api/v1/documents/{doc_number}/pdf"))),
        )?;
        Ok(resp
            .bytes()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?
            .to_vec())
    }

    /// The district's current trust list (public keys), as JSON.
    pub fn trust_list(&self) -> Result<String, SyncError> {
        let resp = self.send(self.http.get(self.url("/api/v1/trust")))?;
        resp.text()
            .map_err(|e| SyncError::Unreachable(e.to_string()))
    }
}

/// Maps a failure to reach the server to `SyncError`: a refused TLS certificate is
/// `CertificateProblem` (it happens while connecting, so it is checked first); no connection, no
/// answer in time, or a connection dropped by the link (reset, closed before the answer) is
/// `Unreachable`; anything else `Protocol`.
pub(crate) fn transport_error(e: reqwest::Error) -> SyncError {
    if let Some(reason) = certificate_problem(&e) {
        SyncError::CertificateProblem(reason)
    } else if e.is_connect() || e.is_timeout() || connection_dropped(&e) {
        SyncError::Unreachable(e.to_string())
    } else {
        SyncError::Protocol(e.to_string())
    }
}

/// Whether the link dropped the connection (a 2G cell, a gateway refusing): the operator must
/// read "cannot reach the server", not "the answer could not be read".
fn connection_dropped(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected
            ) {
                return true;
            }
        }
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// The certificate complaint somewhere in `e`'s source chain, if there is one.
fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            if matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            ) {
                return Some(tls.to_string());
            }
        }
        let text = err.to_string();
        if text.to_ascii_lowercase().contains("certificate") {
            return Some(text);
        }
        next = err.source();
    }
    None
}

/// One full pass, lane by lane (`crate::lanes`): reference data, applications, attachments,
/// decisions and documents, audit log. A lane that fails does not stop the others; `Err` only
/// when a failure stopped the whole pass (`SyncError::stops_pass`: unreachable, not enrolled,
/// revoked, clock wrong, certificate refused), everything done before it committed.
pub fn sync_once(
    store: &mut VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
) -> Result<SyncReport, SyncError> {
    crate::lanes::sync_once_with_progress(store, client, device, &mut |_| {})
}

#[cfg(test)]
mod certificate_tests {
    use super::certificate_problem;

    /// An error wrapping another, as reqwest and hyper wrap rustls's.
    #[derive(Debug)]
    struct Wrapped(&'static str, Box<dyn std::error::Error + Send + Sync>);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.1)
        }
    }

    #[test]
    fn a_refused_certificate_deep_in_the_chain_is_found() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let e = Wrapped(
            "error sending request",
            Box::new(Wrapped("connect", Box::new(tls))),
        );
        assert!(certificate_problem(&e).is_some());
        let refused = Wrapped(
            "error sending request",
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        );
        assert_eq!(certificate_problem(&refused), None);
    }
}
