//! Wire types of sync API v1 (JSON over HTTP). Adding optional fields is compatible; renaming or
//! removing one is a new API version.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use loket_domain::{Applicant, ApplicationStatus, ProvidedDocument, ServiceCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Most applications the server accepts in one push request.
pub const MAX_BATCH: usize = 100;

/// Which laptop is speaking; the server accepts it only when it equals the device that signed the
/// request (`X-Loket-Device`, see `crate::auth`).
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
    /// Which version this is: 0 the original, n the n-th correction after the back office
    /// returned it. Left out of the JSON when 0, so originals hash exactly as before revisions.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u32,
    /// Client-made id of this revision (revisions ≥ 1 only): a correction's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<Uuid>,
}

/// Applications pushed before catalogue versions travelled were captured under the first one.
fn first_catalogue_version() -> String {
    "2026.11.1".to_string()
}

/// Keeps default numbers off the wire, so adding them does not change existing content hashes.
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The wire form of a stored application: what the network push, the USB bundle and tests send,
/// built in one place so the two paths can never differ.
pub fn envelope(app: &loket_store::StoredApplication) -> ApplicationEnvelope {
    ApplicationEnvelope {
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
    }
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
    /// The id (and revision) is known with different content, or a revision the server may not
    /// take now (skipped, not returned, another device); `SubmitResult::message` says which.
    /// Nothing changed; never retried automatically.
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
    /// Why a `conflict` was refused, in Bahasa Indonesia (e.g. a revision that skips one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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
    /// Reviewer's reason, for rejections and returns for correction.
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

// ---------------------------------------------------------------------------------------------
// Devices and authentication (docs/SYNC.md, "Devices and authentication").

/// `POST /api/v1/devices/enroll` body: a one-time code from the back office binds this device to
/// the public half of the Ed25519 key the laptop just made. The only unsigned write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time code as the operator typed it (`K7QX-M2PD-9R`; case and dashes ignored).
    pub code: String,
    /// Village code, 10 digits; must be the one the code was issued for.
    pub village_code: String,
    /// Device number; must be the one the code was issued for.
    pub device_no: u16,
    /// The device's Ed25519 public key, 32 bytes as 64 hex digits.
    pub public_key: String,
}

/// `POST /api/v1/devices/enroll` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The device now enrolled.
    pub device: DeviceRef,
    /// When the server bound the key (the first time, for a repeated answer).
    pub enrolled_at: DateTime<Utc>,
    /// Whether an earlier key of the same device was replaced (re-enrollment).
    pub replaced_key: bool,
    /// Confirmation in Bahasa Indonesia, for the operator.
    pub message: String,
}

/// Request header naming the device: `<village_code>/<device_no>`, e.g. `7315012003/1`.
pub const HEADER_DEVICE: &str = "x-loket-device";
/// Request header with the client's time of signing, RFC 3339 UTC (`2026-11-23T02:00:00Z`).
pub const HEADER_TIME: &str = "x-loket-time";
/// Request header with the Ed25519 signature over [`request_signing_message`], base64 (standard,
/// padded).
pub const HEADER_SIGNATURE: &str = "x-loket-signature";
/// Response header on `clock_skew` answers: the server's time, RFC 3339 UTC.
pub const HEADER_SERVER_TIME: &str = "x-loket-server-time";
/// How far a request's `X-Loket-Time` may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;
/// Domain separation of request signatures from every other Ed25519 use in Loket.
pub const REQUEST_SIGNATURE_DOMAIN: &[u8] = b"LOKET-REQ-v1\0";

/// `ApiError::code` (401): no device header or signature, or a device the server does not know.
pub const ERROR_DEVICE_NOT_ENROLLED: &str = "device_not_enrolled";
/// `ApiError::code` (403): the district revoked this device.
pub const ERROR_DEVICE_REVOKED: &str = "device_revoked";
/// `ApiError::code` (401): `X-Loket-Time` is more than [`MAX_CLOCK_SKEW_SECS`] off; the answer
/// carries [`HEADER_SERVER_TIME`].
pub const ERROR_CLOCK_SKEW: &str = "clock_skew";
/// `ApiError::code` (401): the signature does not verify with the device's enrolled key.
pub const ERROR_BAD_SIGNATURE: &str = "bad_signature";
/// `ApiError::code` (403): the body or query names another device than the one that signed.
pub const ERROR_WRONG_DEVICE: &str = "wrong_device";

/// The exact bytes a device signs for one request: the domain, then method, path with query,
/// time and the SHA-256 of the body (hex), separated by newlines. The path and query are as sent
/// on the wire (percent-encoded), e.g. `/api/v1/updates?village_code=7315012003&device_no=1`.
pub fn request_signing_message(
    method: &str,
    path_and_query: &str,
    time: &str,
    body: &[u8],
) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut m = REQUEST_SIGNATURE_DOMAIN.to_vec();
    for part in [method, path_and_query, time] {
        m.extend_from_slice(part.as_bytes());
        m.push(b'\n');
    }
    m.extend_from_slice(hex::encode(Sha256::digest(body)).as_bytes());
    m
}

impl DeviceRef {
    /// The `X-Loket-Device` header value, `<village_code>/<device_no>`.
    pub fn to_header(&self) -> String {
        format!("{}/{}", self.village_code, self.device_no)
    }

    /// Reads an `X-Loket-Device` value; only the canonical form (10 digits, `/`, a number without
    /// sign or leading zeros) is accepted, so one device has exactly one spelling.
    pub fn parse_header(value: &str) -> Option<DeviceRef> {
        let (village, no) = value.split_once('/')?;
        if village.len() != 10 || !village.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if no.is_empty() || !no.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let device = DeviceRef {
            village_code: village.to_string(),
            device_no: no.parse().ok()?,
        };
        (device.to_header() == value).then_some(device)
    }
}

// ---------------------------------------------------------------------------------------------
// Attachments: resumable, hash-checked blob upload (docs/SYNC.md, "Attachments").

/// Largest chunk of a blob in one `PUT /api/v1/blobs/{sha256}`: about 10 s at 400 kbit/s, so a
/// cut on a village link loses at most that much.
pub const MAX_CHUNK_BYTES: usize = 512 * 1024;

/// Largest blob the server accepts; scan pages are ≤ 200 KB, so this only stops abuse.
pub const MAX_BLOB_BYTES: u64 = 16 * 1024 * 1024;

/// Most hashes in one `POST /api/v1/blobs/status`, so a whole outbox is checked in few round trips.
pub const MAX_BLOB_STATUS_BATCH: usize = 500;

/// `POST /api/v1/blobs` body: the hash and size of a blob (a scan page) announced before its
/// bytes, so the server can answer how much it already holds and check the whole at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobAnnounce {
    /// The announcing laptop, recorded with the first announce for traceability.
    pub device: DeviceRef,
    /// SHA-256 of the whole blob, 64 lower-case hex digits: the blob's name.
    pub sha256: String,
    /// Size of the whole blob in bytes, 1 to [`MAX_BLOB_BYTES`].
    pub size: u64,
}

/// How much of one blob the server holds: the answer to announce, chunk upload and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatus {
    /// The blob's SHA-256, hex.
    pub sha256: String,
    /// The announced size in bytes.
    pub size: u64,
    /// Bytes held so far, from the start without gaps: the offset of the next chunk.
    pub received: u64,
    /// Whether all bytes arrived and their SHA-256 matched; only then may anyone read it.
    pub complete: bool,
}

/// `POST /api/v1/blobs/status` body: which of these blobs does the server hold?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatusQuery {
    /// At most [`MAX_BLOB_STATUS_BATCH`] hashes.
    pub sha256s: Vec<String>,
}

/// `POST /api/v1/blobs/status` answer: the blobs the server knows (complete or partial), in
/// the order asked; a hash never announced (or discarded after a hash mismatch) is left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatusList {
    /// Known blobs only.
    pub blobs: Vec<BlobStatus>,
}

/// Body of a 409 from the blob endpoints: an [`ApiError`] (same `code` and `message`) plus what
/// the server holds, so the client resumes at `blob.received` without another round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobConflict {
    /// `offset_mismatch` (chunk not at the held offset) or `size_conflict` (hash announced
    /// with another size).
    pub code: String,
    /// Human-readable, in Bahasa Indonesia.
    pub message: String,
    /// What the server holds now.
    pub blob: BlobStatus,
}
