//! The back office's store: one SQLite file (the embedded default). Every decision is one
//! transaction: the status, the document, the document counter and the village's change-feed
//! entry commit together.

use chrono::{DateTime, NaiveDate, Utc};
use loket_domain::{Applicant, ApplicationStatus, Lang, ProvidedDocument, ServiceCode};
use loket_print::DocumentData;
use loket_qr::{DocType, DocumentClaims, IssuingKey};
use loket_sync::protocol::{
    ApplicationEnvelope, DeviceRef, DocumentRef, StatusUpdate, SubmitResult,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

mod audit;
pub use audit::{AuditError, ChainCheck};
mod blobs;
mod bundle;
pub use blobs::{is_blob_name, BlobError};
pub use bundle::{ImportError, ImportReport};
mod devices;
pub use devices::{
    DeviceAuth, DeviceError, DeviceRecord, EnrollError, Enrolled, IssuedCode, PendingCode,
    Revocation, ENROLLMENT_CODE_TTL_HOURS,
};
mod revisions;
pub use revisions::{revision_changes, ApplicationRevision, RevisionChange};

/// Why a reviewer's action was refused; each variant is a clear message for the reviewer.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    /// No such application.
    #[error("permohonan tidak ditemukan")]
    NotFound,
    /// Only applications under review can be decided.
    #[error("permohonan sudah diputuskan (status: {0})")]
    AlreadyDecided(String),
    /// A rejection must say why, for the resident.
    #[error("alasan penolakan wajib diisi (paling banyak 500 huruf)")]
    ReasonRequired,
    /// A return for correction must say what to correct, for the village operator.
    #[error("alasan pengembalian wajib diisi (paling banyak 500 huruf)")]
    ReturnReasonRequired,
    /// Rendering the PDF failed.
    #[error("dokumen tidak dapat dibuat: {0}")]
    Render(String),
    /// The database failed.
    #[error("basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// One application as the back office holds it.
#[derive(Debug, Clone)]
pub struct ReceivedApplication {
    /// Client-made id.
    pub id: Uuid,
    /// Sending village.
    pub village_code: String,
    /// Sending device.
    pub device_no: u16,
    /// Offline tracking number.
    pub tracking_number: String,
    /// Service.
    pub service: ServiceCode,
    /// The applicant.
    pub data: Applicant,
    /// The catalogue version the village captured it under.
    pub catalogue_version: String,
    /// The service's own fields.
    pub fields: BTreeMap<String, String>,
    /// The requirement documents the village recorded, with scan hashes.
    pub provided: Vec<ProvidedDocument>,
    /// Who captured it in the village.
    pub operator: String,
    /// Capture time as the village reported it.
    pub captured_at: String,
    /// When the back office first stored it.
    pub received_at: DateTime<Utc>,
    /// Current status.
    pub status: ApplicationStatus,
    /// Rejection reason, or what to correct while returned.
    pub reason: Option<String>,
    /// Issued document number.
    pub doc_number: Option<String>,
    /// The revision held now: 0 for the original, n after the n-th correction.
    pub revision: u32,
    /// The village's id of the current revision (revisions ≥ 1).
    pub revision_id: Option<Uuid>,
}

/// Longest reason a reviewer may give (reject, return), so a resident's paper stays readable.
const MAX_REASON_CHARS: usize = 500;

/// The back office's SQLite store.
pub struct BackofficeStore {
    conn: Connection,
}

const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE applications (
        id TEXT PRIMARY KEY,
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        tracking_number TEXT NOT NULL,
        service TEXT NOT NULL,
        data TEXT NOT NULL,
        operator TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        doc_number TEXT,
        decided_at TEXT
    );
    CREATE INDEX applications_status ON applications(status, received_at);
    CREATE TABLE documents (
        doc_number TEXT PRIMARY KEY,
        application_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
        issued_on TEXT NOT NULL,
        key_id TEXT NOT NULL,
        qr_text TEXT NOT NULL,
        pdf BLOB NOT NULL,
        sha256 TEXT NOT NULL
    );
    -- The per-device change feed villages pull from; seq is the cursor.
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        application_id TEXT NOT NULL REFERENCES applications(id),
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        doc_number TEXT,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX events_device ON events(village_code, device_no, seq);
    CREATE TABLE counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
",
    "
    ALTER TABLE applications ADD COLUMN catalogue_version TEXT NOT NULL DEFAULT '2026.11.1';
    ALTER TABLE applications ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE applications ADD COLUMN provided TEXT NOT NULL DEFAULT '[]';
",
    // 3: each village laptop's verified audit-log chain (store/audit.rs), seqs 1..=max per device.
    "
    CREATE TABLE audit_entries (
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (village_code, device_no, seq)
    ) WITHOUT ROWID;
",
    // 4: scan pages uploaded resumably (store/blobs.rs); bytes live in chunks appended in order.
    "
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        received INTEGER NOT NULL,
        complete INTEGER NOT NULL,
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        announced_at TEXT NOT NULL,
        completed_at TEXT
    );
    CREATE TABLE blob_chunks (
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        start INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (sha256, start)
    );
",
    // 5: enrollment codes, enrolled devices and their log (store/devices.rs).
    devices::MIGRATION,
    // 6: revisions after a return for correction, and their history (store/revisions.rs).
    revisions::MIGRATION,
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn content_hash(env: &ApplicationEnvelope) -> String {
    // serde_json writes struct fields in declaration order, so this is canonical for our types.
    let json = serde_json::to_vec(env).expect("envelope serialises");
    hex(&Sha256::digest(json))
}

impl BackofficeStore {
    /// Opens (creating if needed) the store and migrates it.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(BackofficeStore { conn })
    }

    /// Stores a batch exactly once per id and revision, in one transaction. A repeat with the
    /// same content gets the same answer; a repeat with different content is a conflict and
    /// changes nothing; a correction is accepted only as the next revision of a returned
    /// application (`store/revisions.rs`).
    pub fn submit(
        &mut self,
        device: &DeviceRef,
        apps: &[ApplicationEnvelope],
        now: DateTime<Utc>,
    ) -> rusqlite::Result<Vec<SubmitResult>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(apps.len());
        for env in apps {
            results.push(revisions::submit_one(&tx, device, env, now)?);
        }
        tx.commit()?;
        Ok(results)
    }

    /// Applications, newest first, optionally only one status.
    pub fn list(
        &self,
        status: Option<ApplicationStatus>,
    ) -> rusqlite::Result<Vec<ReceivedApplication>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} WHERE (?1 IS NULL OR status = ?1) ORDER BY received_at DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([status.map(|s| s.code())], row_to_app)?;
        rows.collect()
    }

    /// One application.
    pub fn get(&self, id: Uuid) -> rusqlite::Result<Option<ReceivedApplication>> {
        self.conn
            .query_row(
                &format!("{SELECT} WHERE id = ?1"),
                [id.to_string()],
                row_to_app,
            )
            .optional()
    }

    /// Approves an application under review and issues its signed document, atomically.
    pub fn approve_and_issue(
        &mut self,
        id: Uuid,
        key: &IssuingKey,
        signer: &(String, String),
        now: DateTime<Utc>,
        issued_on: NaiveDate,
    ) -> Result<String, DecisionError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let app = under_review(&tx, id)?;
        let year = issued_on.format("%Y").to_string();
        let counter_name = format!("SK-{}-{year}", key.district_code);
        let n: i64 = tx.query_row(
            "INSERT INTO counters(name, last) VALUES (?1, 1)
             ON CONFLICT(name) DO UPDATE SET last = last + 1 RETURNING last",
            [&counter_name],
            |r| r.get(0),
        )?;
        let doc_number = format!("{}-SK-{year}-{n:06}", key.district_code.replace('.', ""));
        let claims = DocumentClaims {
            doc_type: DocType::SuratKeterangan,
            doc_number: doc_number.clone(),
            holder_name: app.data.full_name.clone(),
            nik: app.data.nik.to_string(),
            birth_date: app.data.birth_date,
            issued_on,
            district_code: key.district_code.clone(),
            revision: 0,
        };
        let qr_text = loket_qr::sign(&claims, key);
        let pdf = loket_print::render_document(&DocumentData {
            claims,
            qr_text: qr_text.clone(),
            birth_place: app.data.birth_place.clone(),
            sex_label: app.data.sex.label(Lang::Id).to_string(),
            address: app.data.address.clone(),
            district_name: key.district_name.clone(),
            signer_name: signer.0.clone(),
            signer_title: signer.1.clone(),
            key_id: key.key_id().to_string(),
        })
        .map_err(|e| DecisionError::Render(e.to_string()))?;
        let sha = hex(&Sha256::digest(&pdf));
        tx.execute(
            "INSERT INTO documents(doc_number, application_id, issued_on, key_id, qr_text, pdf, sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                doc_number,
                id.to_string(),
                issued_on.to_string(),
                key.key_id().to_string(),
                qr_text,
                pdf,
                sha
            ],
        )?;
        tx.execute(
            "UPDATE applications SET status = 'issued', doc_number = ?2, decided_at = ?3 WHERE id = ?1",
            params![id.to_string(), doc_number, now.to_rfc3339()],
        )?;
        tx.execute(
            "INSERT INTO events(application_id, village_code, device_no, status, doc_number, changed_at)
             VALUES (?1, ?2, ?3, 'issued', ?4, ?5)",
            params![id.to_string(), app.village_code, app.device_no, doc_number, now.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(doc_number)
    }

    /// Rejects an application under review with a reason the resident will read.
    pub fn reject(
        &mut self,
        id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DecisionError> {
        self.decide_with_reason(
            id,
            ApplicationStatus::Rejected,
            reason,
            DecisionError::ReasonRequired,
            now,
        )
    }

    /// A decision that carries a reason (reject, return for correction): the status and the
    /// device's feed entry with the reason commit together; an empty or overlong reason is
    /// `missing_reason` and changes nothing.
    pub(crate) fn decide_with_reason(
        &mut self,
        id: Uuid,
        status: ApplicationStatus,
        reason: &str,
        missing_reason: DecisionError,
        now: DateTime<Utc>,
    ) -> Result<(), DecisionError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(missing_reason);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let app = under_review(&tx, id)?;
        tx.execute(
            "UPDATE applications SET status = ?2, reason = ?3, decided_at = ?4 WHERE id = ?1",
            params![id.to_string(), status.code(), reason, now.to_rfc3339()],
        )?;
        tx.execute(
            "INSERT INTO events(application_id, village_code, device_no, status, reason, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id.to_string(),
                app.village_code,
                app.device_no,
                status.code(),
                reason,
                now.to_rfc3339()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The change feed of one device after `after`, at most `limit` entries.
    pub fn updates(
        &self,
        device: &DeviceRef,
        after: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<StatusUpdate>> {
        let mut stmt = self.conn.prepare(
            "SELECT e.seq, e.application_id, e.status, e.reason, e.doc_number, e.changed_at,
                    d.issued_on, d.sha256
             FROM events e LEFT JOIN documents d ON d.doc_number = e.doc_number
             WHERE e.village_code = ?1 AND e.device_no = ?2 AND e.seq > ?3
             ORDER BY e.seq LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![device.village_code, device.device_no, after, limit as i64],
            |r| {
                let doc_number: Option<String> = r.get(4)?;
                let issued_on: Option<String> = r.get(6)?;
                let sha: Option<String> = r.get(7)?;
                let document = match (doc_number, issued_on, sha) {
                    (Some(doc_number), Some(issued_on), Some(sha256)) => Some(DocumentRef {
                        doc_number,
                        issued_on: issued_on.parse().map_err(|e| to_sql_err(6, e))?,
                        sha256,
                    }),
                    _ => None,
                };
                let id: String = r.get(1)?;
                let status: String = r.get(2)?;
                let changed_at: String = r.get(5)?;
                Ok(StatusUpdate {
                    seq: r.get(0)?,
                    application_id: Uuid::parse_str(&id).map_err(|e| to_sql_err(1, e))?,
                    status: ApplicationStatus::from_code(&status)
                        .ok_or_else(|| to_sql_err(2, BadCode(status)))?,
                    reason: r.get(3)?,
                    document,
                    changed_at: changed_at.parse().map_err(|e| to_sql_err(5, e))?,
                })
            },
        )?;
        rows.collect()
    }

    /// A document's PDF and the village/device it belongs to.
    pub fn document_pdf(&self, doc_number: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT pdf FROM documents WHERE doc_number = ?1",
                [doc_number],
                |r| r.get(0),
            )
            .optional()
    }

    /// How many applications there are, for the demo seeding and the queue header.
    pub fn count(&self) -> rusqlite::Result<i64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM applications", [], |r| r.get(0))
    }
}

#[derive(Debug)]
struct BadCode(String);
impl std::fmt::Display for BadCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown code {}", self.0)
    }
}
impl std::error::Error for BadCode {}

fn to_sql_err<E: std::error::Error + Send + Sync + 'static>(col: usize, e: E) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

/// The application `id`, provided a reviewer may still decide it.
fn under_review(
    tx: &rusqlite::Transaction<'_>,
    id: Uuid,
) -> Result<ReceivedApplication, DecisionError> {
    let app = tx
        .query_row(
            &format!("{SELECT} WHERE id = ?1"),
            [id.to_string()],
            row_to_app,
        )
        .optional()?
        .ok_or(DecisionError::NotFound)?;
    if app.status != ApplicationStatus::Received {
        return Err(DecisionError::AlreadyDecided(
            app.status.label(Lang::Id).into(),
        ));
    }
    Ok(app)
}

const SELECT: &str = "SELECT id, village_code, device_no, tracking_number, data, operator,
    captured_at, received_at, status, reason, doc_number, service, catalogue_version, fields,
    provided, revision, revision_id FROM applications";

fn row_to_app(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReceivedApplication> {
    let id: String = r.get(0)?;
    let data: String = r.get(4)?;
    let received_at: String = r.get(7)?;
    let status: String = r.get(8)?;
    Ok(ReceivedApplication {
        id: Uuid::parse_str(&id).map_err(|e| to_sql_err(0, e))?,
        village_code: r.get(1)?,
        device_no: r.get(2)?,
        tracking_number: r.get(3)?,
        service: ServiceCode::parse(&r.get::<_, String>(11)?).map_err(|e| to_sql_err(11, e))?,
        data: serde_json::from_str(&data).map_err(|e| to_sql_err(4, e))?,
        catalogue_version: r.get(12)?,
        fields: serde_json::from_str(&r.get::<_, String>(13)?).map_err(|e| to_sql_err(13, e))?,
        provided: serde_json::from_str(&r.get::<_, String>(14)?).map_err(|e| to_sql_err(14, e))?,
        operator: r.get(5)?,
        captured_at: r.get(6)?,
        received_at: received_at.parse().map_err(|e| to_sql_err(7, e))?,
        status: ApplicationStatus::from_code(&status)
            .ok_or_else(|| to_sql_err(8, BadCode(status)))?,
        reason: r.get(9)?,
        doc_number: r.get(10)?,
        revision: r.get(15)?,
        revision_id: r
            .get::<_, Option<String>>(16)?
            .map(|s| Uuid::parse_str(&s).map_err(|e| to_sql_err(16, e)))
            .transpose()?,
    })
}
