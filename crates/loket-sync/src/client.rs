//! The village side of sync: push the outbox, pull status changes, fetch issued documents and
//! the district's trust list. One pass is `sync_once`; it is safe to interrupt anywhere, because
//! every step is idempotent on the server and committed atomically here.

use loket_store::{StatusChange, StoreError, VillageStore};
use reqwest::blocking::{Client, Response};
use std::time::Duration;

use crate::protocol::{
    ApiError, ApplicationEnvelope, DeviceRef, SubmitBatch, SubmitOutcome, SubmitResponse,
    UpdatesResponse, MAX_BATCH,
};

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
}

impl SyncError {
    /// Whether trying again later can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Unreachable(_) | SyncError::Protocol(_) => true,
            SyncError::Rejected { status, .. } => *status >= 500 || *status == 429,
            SyncError::Store(_) | SyncError::Catalogue(_) => false,
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
}

/// An HTTP client bound to one back office.
pub struct SyncClient {
    base: String,
    http: Client,
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
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn check(resp: Result<Response, reqwest::Error>) -> Result<Response, SyncError> {
        let resp = resp.map_err(|e| {
            if e.is_connect() || e.is_timeout() {
                SyncError::Unreachable(e.to_string())
            } else {
                SyncError::Protocol(e.to_string())
            }
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let message = resp
            .json::<ApiError>()
            .map(|e| e.message)
            .unwrap_or_else(|_| format!("HTTP {status}"));
        Err(SyncError::Rejected { status, message })
    }

    /// POSTs `body` as JSON and reads the JSON answer; shared by the push steps in other modules.
    pub(crate) fn post_json<B, R>(&self, path: &str, body: &B) -> Result<R, SyncError>
    where
        B: serde::Serialize + ?Sized,
        R: serde::de::DeserializeOwned,
    {
        let resp = Self::check(self.http.post(self.url(path)).json(body).send())?;
        resp.json().map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Pushes one batch and returns the server's per-item answers.
    pub fn submit(&self, batch: &SubmitBatch) -> Result<SubmitResponse, SyncError> {
        let resp = Self::check(
            self.http
                .post(self.url("/api/v1/applications"))
                .json(batch)
                .send(),
        )?;
        resp.json().map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Status changes for this device after `after`.
    pub fn updates(&self, device: &DeviceRef, after: i64) -> Result<UpdatesResponse, SyncError> {
        let resp = Self::check(
            self.http
                .get(self.url("/api/v1/updates"))
                .query(&[
                    ("village_code", device.village_code.clone()),
                    ("device_no", device.device_no.to_string()),
                    ("after", after.to_string()),
                ])
                .send(),
        )?;
        resp.json().map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// The PDF of an issued document.
    pub fn document_pdf(&self, doc_number: &str) -> Result<Vec<u8>, SyncError> {
        let resp = Self::check(
            self.http
                .get(self.url(&format!("/api/v1/documents/{doc_number}/pdf")))
                .send(),
        )?;
        Ok(resp
            .bytes()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?
            .to_vec())
    }

    /// The district's current trust list (public keys), as JSON.
    pub fn trust_list(&self) -> Result<String, SyncError> {
        let resp = Self::check(self.http.get(self.url("/api/v1/trust")).send())?;
        resp.text()
            .map_err(|e| SyncError::Unreachable(e.to_string()))
    }
}

/// One full pass: trust list, push, audit log, pull, documents. Stops at the first network error, having
/// committed everything done before it.
pub fn sync_once(
    store: &mut VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();

    // A newer catalogue is accepted only if signed by a key this laptop already trusted, so
    // read the pinned list before the fresh one replaces it. A refused catalogue is reported
    // but never stops applications from moving.
    let pinned = store
        .setting(TRUST_LIST_SETTING)?
        .and_then(|json| loket_qr::TrustList::from_json(&json).ok());
    let trust = client.trust_list()?;
    store.set_setting(TRUST_LIST_SETTING, &trust)?;
    let catalogue_trust = match pinned {
        Some(list) => Some(list),
        // First contact: the list just fetched is the one this laptop starts trusting.
        None => loket_qr::TrustList::from_json(&trust).ok(),
    };
    if let Some(trust) = catalogue_trust {
        match crate::pull_catalogue(&client.base, store, &trust) {
            Ok(version) => report.catalogue = version,
            Err(e) => report.catalogue_error = Some(e.to_string()),
        }
    }

    loop {
        let pending = store.outbox(MAX_BATCH)?;
        if pending.is_empty() {
            break;
        }
        let batch = SubmitBatch {
            device: device.clone(),
            applications: pending
                .iter()
                .map(|a| ApplicationEnvelope {
                    id: a.id,
                    tracking_number: a.tracking_number.clone(),
                    service: a.service.clone(),
                    captured_at: a.captured_at,
                    operator: a.operator.clone(),
                    data: a.data.clone(),
                    catalogue_version: a.catalogue_version.clone(),
                    fields: a.fields.clone(),
                    provided: a.provided.clone(),
                })
                .collect(),
        };
        let answer = client.submit(&batch)?;
        if answer.results.len() != batch.applications.len() {
            return Err(SyncError::Protocol(
                "jumlah jawaban tidak sama dengan jumlah permohonan".into(),
            ));
        }
        for result in &answer.results {
            match result.outcome {
                SubmitOutcome::Stored | SubmitOutcome::AlreadyStored => {
                    store.mark_acknowledged(result.id, result.status)?;
                    report.sent += 1;
                }
                SubmitOutcome::Conflict => {
                    store.mark_failed(
                        result.id,
                        "ID permohonan sudah dipakai dengan isi berbeda di server",
                    )?;
                    report.failed += 1;
                }
            }
        }
    }

    loop {
        let after = store.pull_cursor()?;
        let page = client.updates(device, after)?;
        if page.updates.is_empty() {
            break;
        }
        let changes: Vec<StatusChange> = page
            .updates
            .iter()
            .map(|u| StatusChange {
                application_id: u.application_id,
                status: u.status,
                reason: u.reason.clone(),
                document: u
                    .document
                    .as_ref()
                    .map(|d| (d.doc_number.clone(), d.issued_on, d.sha256.clone())),
            })
            .collect();
        report.updated += store.apply_changes(&changes, page.next_after)?;
        if page.next_after <= after {
            break;
        }
    }

    for (id, doc_number, _) in store.documents_missing_pdf()? {
        let pdf = client.document_pdf(&doc_number)?;
        store.store_document_pdf(id, &pdf)?;
        report.documents += 1;
    }
    // Last, so a refused audit batch never holds back residents' statuses and documents.
    report.audit_entries = crate::audit::push_audit_log(store, client, device)?;
    Ok(report)
}
