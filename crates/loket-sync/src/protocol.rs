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

/// Most audit entries the server accepts in one `POST /api/v1/audit`.
pub const MAX_AUDIT_BATCH: usize = 500;

/// One entry of a village's hash-chained audit log, exactly as the laptop stored it; the
/// server recomputes `hash` from the other fields, so `at` stays the laptop's exact text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryWire {
    /// Position in the device's chain, from 1.
    pub seq: u64,
    /// When, RFC 3339 with the laptop's offset, byte for byte as hashed.
    pub at: String,
    /// Who (operator display name).
    pub actor: String,
    /// What (a stable action code such as `created` or `printed_receipt`).
    pub action: String,
    /// Whose data: an application id or a document number.
    pub subject: String,
    /// Hash of entry `seq - 1` (64 zeros for entry 1).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this entry's fields, hex.
    pub hash: String,
}

/// `POST /api/v1/audit` body: consecutive entries of one device's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBatch {
    /// The sending laptop.
    pub device: DeviceRef,
    /// At most [`MAX_AUDIT_BATCH`] entries, in seq order without gaps.
    pub entries: Vec<AuditEntryWire>,
}

/// `POST /api/v1/audit` answer: how far the server now holds this device's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAck {
    /// Highest seq the server holds for this device; it holds every seq from 1 up to it.
    pub acknowledged_through: u64,
    /// Entries of this request stored now for the first time (0 for a resend).
    #[serde(default)]
    pub stored: u64,
}

/// `GET /api/v1/audit/verify?village_code=…&device_no=…` answer, for auditors: the server's
/// copy of one device's chain re-verified from entry 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerifyResponse {
    /// Entries the server holds for this device.
    pub entries: u64,
    /// The first entry whose link or hash does not check out; `None` when the chain is intact.
    pub first_broken_seq: Option<u64>,
    /// The verdict in Bahasa Indonesia.
    pub message: String,
}
