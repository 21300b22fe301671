//! Wire types of sync API v1 (JSON over HTTP). Adding optional fields is compatible; renaming or
//! removing one is a new API version.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use loket_domain::{Applicant, ApplicationStatus, ProvidedDocument, ServiceCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Most applications the server accepts in one push request.
pub const MAX_BATCH: usize = 100;

/// Which laptop is speaking; authentication of this claim comes with device enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRef {
    /// Village code, 10 digits.
    pub village_code: String,
    /// Device number within the village.
    pub device_no: u16,
}

/// One application as pushed by a village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationEnvelope {
    /// Client-made id: the idempotency key.
    pub id: Uuid,
    /// Offline tracking number from the receipt.
    pub tracking_number: String,
    /// Which service.
    pub service: ServiceCode,
    /// When the operator captured it, with the laptop's offset.
    pub captured_at: DateTime<FixedOffset>,
    /// Who captured it.
    pub operator: String,
    /// The validated applicant.
    pub data: Applicant,
    /// The catalogue version the application was captured (and checked) under.
    #[serde(default = "first_catalogue_version")]
    pub catalogue_version: String,
    /// The service's own fields by catalogue field id.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The requirement documents provided, each scan named by its SHA-256.
    #[serde(default)]
    pub provided: Vec<ProvidedDocument>,
}

/// Applications pushed before catalogue versions travelled were captured under the first one.
fn first_catalogue_version() -> String {
    "2026.11.1".to_string()
}

/// `POST /api/v1/applications` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitBatch {
    /// The sending laptop.
    pub device: DeviceRef,
    /// At most [`MAX_BATCH`] applications.
    pub applications: Vec<ApplicationEnvelope>,
}

/// What the server did with one pushed application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitOutcome {
    /// Stored now, for the first time.
    Stored,
    /// Already stored earlier with identical content; nothing changed.
    AlreadyStored,
    /// The id is known with different content: a client bug or tampering; never retried.
    Conflict,
}

/// Per-application answer to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResult {
    /// Which application.
    pub id: Uuid,
    /// What happened.
    pub outcome: SubmitOutcome,
    /// Its status on the server now.
    pub status: ApplicationStatus,
    /// When the server first stored it.
    pub received_at: DateTime<Utc>,
}

/// `POST /api/v1/applications` answer: one result per pushed application, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    /// In the order of the request.
    pub results: Vec<SubmitResult>,
}

/// An issued document, announced in an update; the PDF is fetched separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Official document number.
    pub doc_number: String,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// SHA-256 of the PDF, hex, checked by the client after download.
    pub sha256: String,
}

/// One status change of one application, in server order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// Position in the device's change feed; the next pull asks for what comes after.
    pub seq: i64,
    /// Which application.
    pub application_id: Uuid,
    /// New status.
    pub status: ApplicationStatus,
    /// Reviewer's reason, for rejections.
    pub reason: Option<String>,
    /// The document, for issued applications.
    pub document: Option<DocumentRef>,
    /// When it changed on the server.
    pub changed_at: DateTime<Utc>,
}

/// `GET /api/v1/updates?village_code=…&device_no=…&after=SEQ` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatesResponse {
    /// Changes after the cursor, oldest first.
    pub updates: Vec<StatusUpdate>,
    /// The cursor to send next time.
    pub next_after: i64,
}

/// Error body of every non-2xx API answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine code, e.g. `bad_request`, `too_large`, `not_found`.
    pub code: String,
    /// Human-readable, in Bahasa Indonesia.
    pub message: String,
}
