//! The village laptop's store. Everything the operator records lands here first, in one SQLite
//! file in WAL mode, so the counter works with the back office down for days. The file is
//! encrypted at rest with SQLCipher; its key is unwrapped by an operator's login ([`keyring`]).
//!
//! Invariants:
//! - Registering an application is one transaction: the daily counter, the application row and
//!   its outbox row commit together or not at all, so a crash never loses, duplicates or
//!   half-numbers an application.
//! - The application id is made here (UUIDv7) and never changes; the back office is idempotent
//!   on it, so resending after a lost answer is always safe.
//! - Status changes from the back office are applied together with the sync cursor, so a crash
//!   mid-pull replays the same changes instead of skipping some.

mod audit;
pub mod keyring;
mod outbox;
mod residents;
mod retention;
mod revisions;
mod scans;
mod schema;
mod uploads;

pub use audit::{
    audit_entry_hash, AuditAction, AuditChainBroken, AuditEntry, AUDIT_ACKNOWLEDGED_SETTING,
    AUDIT_GENESIS_HASH,
};
pub use keyring::{DatabaseKey, KdfParams, Keyring, KeyringError, LoginError, Operator};
pub use outbox::{OutboxItem, OutboxState, INTERRUPTED_MESSAGE};
pub use residents::Resident;
pub use retention::{DEFAULT_SCAN_RETENTION_DAYS, SCAN_RETENTION_SETTING};
pub use revisions::StoredRevision;
pub use scans::NewScan;
pub use uploads::{PendingUpload, UploadState, UploadSummary};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use loket_domain::{
    Applicant, ApplicationStatus, ProvidedDocument, RegionCode, ScanRef, ServiceCode,
    TrackingNumber,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

/// Why a store operation failed; callers branch on the variant to word the message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite file could not be opened, read or written.
    #[error("basis data lokal tidak dapat digunakan: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The key does not open this file (or the file is not a Loket store at all).
    #[error("kunci basis data salah atau berkas bukan basis data Loket")]
    WrongKey,
    /// A stored row no longer parses; it was written by a newer or broken version.
    #[error("data lokal rusak: {0}")]
    Corrupt(String),
    /// No application has this id on this laptop.
    #[error("permohonan tidak ditemukan")]
    NotFound,
    /// The laptop has used all tracking numbers of the day.
    #[error(transparent)]
    Tracking(#[from] loket_domain::TrackingNumberError),
    /// An application refers to a scan this laptop does not hold (attached, then purged).
    #[error("pindaian untuk {slot} tidak ada lagi; lampirkan ulang")]
    MissingScan {
        /// The requirement slot whose scan is missing.
        slot: String,
    },
    /// A document's bytes do not match the hash the back office announced.
    #[error("dokumen yang diterima rusak (hash tidak cocok)")]
    DocumentHashMismatch,
    /// Only an application the back office returned for correction may be edited; anything
    /// else is frozen (once sent, the district may already be working on it).
    #[error(
        "permohonan berstatus \"{}\" tidak dapat diubah; hanya permohonan yang dikembalikan \
         Disdukcapil untuk perbaikan yang dapat diperbaiki",
        .status.label(loket_domain::Lang::Id)
    )]
    Frozen {
        /// The application's status now.
        status: ApplicationStatus,
    },
    /// A correction keeps the service; another service is a new application.
    #[error("layanan tidak dapat diganti saat perbaikan; buat permohonan baru untuk layanan lain")]
    ServiceChanged,
}

/// Who this laptop is: which village it serves and its device number there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// The village (desa/kelurahan) this laptop serves.
    pub village: RegionCode,
    /// Unique per village; part of every tracking number.
    pub device_no: u16,
}

/// An application as the village sees it, with its latest known status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredApplication {
    /// Client-made id, the idempotency key for sync.
    pub id: Uuid,
    /// Printed on the receipt.
    pub tracking_number: String,
    /// Which service.
    pub service: ServiceCode,
    /// The catalogue version the application was captured under; it keeps it for good.
    pub catalogue_version: String,
    /// The validated applicant.
    pub data: Applicant,
    /// The service's own fields, validated and normalised, by catalogue field id.
    pub fields: BTreeMap<String, String>,
    /// The requirement documents provided, with their scans.
    pub provided: Vec<ProvidedDocument>,
    /// Operator who captured it.
    pub operator: String,
    /// When it was captured, with the laptop's UTC offset.
    pub captured_at: DateTime<FixedOffset>,
    /// Latest status known here.
    pub status: ApplicationStatus,
    /// Reviewer's reason when rejected or returned for correction.
    pub reason: Option<String>,
    /// The issued document, once received.
    pub document: Option<DocumentInfo>,
    /// 0 for the original, n after the n-th correction ([`VillageStore::correct`]).
    pub revision: u32,
    /// Client-made id of the current revision (revisions ≥ 1), its idempotency key on the server.
    pub revision_id: Option<Uuid>,
}

/// An issued document held on the laptop for printing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    /// Official number assigned by the back office.
    pub doc_number: String,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// Whether the PDF bytes have arrived (they come in a separate download).
    pub has_pdf: bool,
}

/// What the operator searches for; every part is optional and parts combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationQuery {
    /// Part of a tracking number, NIK or name.
    pub text: Option<String>,
    /// Only this status.
    pub status: Option<ApplicationStatus>,
    /// Only this service.
    pub service: Option<ServiceCode>,
    /// Captured on or after this (laptop-local) date.
    pub from: Option<NaiveDate>,
    /// Captured on or before this (laptop-local) date.
    pub to: Option<NaiveDate>,
}

/// An application the operator is about to register, already checked against its catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// Which service.
    pub service: ServiceCode,
    /// The catalogue version it was checked against.
    pub catalogue_version: String,
    /// The validated applicant.
    pub applicant: Applicant,
    /// The service's validated fields.
    pub fields: BTreeMap<String, String>,
    /// Provided documents; every scan must already be stored with [`VillageStore::put_scan`].
    pub provided: Vec<ProvidedDocument>,
}

impl NewApplication {
    /// An application of `service` with no service fields or documents yet, to fill in.
    pub fn new(service: ServiceCode, catalogue_version: &str, applicant: Applicant) -> Self {
        NewApplication {
            service,
            catalogue_version: catalogue_version.to_string(),
            applicant,
            fields: BTreeMap::new(),
            provided: Vec::new(),
        }
    }
}

/// A status change reported by the back office, to apply locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// Which application.
    pub application_id: Uuid,
    /// Its new status.
    pub status: ApplicationStatus,
    /// Reason when rejected.
    pub reason: Option<String>,
    /// Document number, issue date and the PDF's SHA-256 (hex), when issued.
    pub document: Option<(String, NaiveDate, String)>,
}

/// The local store, one SQLite connection.
pub struct VillageStore {
    conn: Connection,
}

impl VillageStore {
    /// Opens (creating if needed) the SQLCipher-encrypted store at `path` with `key` and
    /// migrates it. A wrong key (or a plain SQLite file) gives [`StoreError::WrongKey`].
    pub fn open_encrypted(path: &Path, key: &DatabaseKey) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // `PRAGMA key` must be the first statement on the connection (SQLCipher).
        conn.execute_batch(&format!("PRAGMA key = {};", key.pragma_value().as_str()))?;
        // The key is only checked when a page is read: "file is not a database" means wrong key.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(StoreError::WrongKey)
            }
            Err(e) => return Err(e.into()),
        }
        Self::init(conn)
    }

    /// Encrypts a plain SQLite store made before operator accounts existed, in place: copies it
    /// into a new SQLCipher file with `sqlcipher_export`, swaps the files, and deletes the plain
    /// one. A crash before the swap leaves the plain file untouched.
    pub fn encrypt_plain_file(path: &Path, key: &DatabaseKey) -> Result<(), StoreError> {
        let tmp = path.with_extension("sqlite.encrypting");
        let _ = std::fs::remove_file(&tmp);
        {
            let plain = Connection::open(path)?;
            let version: i64 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let tmp_str = tmp
                .to_str()
                .ok_or_else(|| StoreError::Corrupt("path is not UTF-8".into()))?;
            plain.execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                params![tmp_str, key.pragma_value().trim_matches('"')],
            )?;
            plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
            plain.pragma_update(Some("encrypted"), "user_version", version)?;
            plain.execute_batch("DETACH DATABASE encrypted;")?;
        }
        // The new file must open with the key before the plain one goes.
        drop(Self::open_encrypted(&tmp, key)?);
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(side));
        }
        std::fs::rename(&tmp, path).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(())
    }

    /// An in-memory store, for tests of code built on top.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&conn)?;
        Ok(VillageStore { conn })
    }

    /// Records that `actor` did `action` with `subject`'s data (an application id or document
    /// number), in the tamper-evident audit log.
    pub fn audit(
        &mut self,
        actor: &str,
        action: AuditAction,
        subject: &str,
        at: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(&tx, actor, action, subject, at)?;
        tx.commit()?;
        Ok(())
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        audit::entries(&self.conn)
    }

    /// At most `limit` audit entries after seq `after`, oldest first: what sync sends next.
    pub fn audit_entries_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        audit::entries_after(&self.conn, after, limit)
    }

    /// The highest audit seq the back office acknowledged (0 before the first audit sync).
    pub fn audit_acknowledged_seq(&self) -> Result<i64, StoreError> {
        audit::acknowledged_seq(&self.conn)
    }

    /// The highest audit seq on this laptop (0 with an empty log): with the acknowledged seq,
    /// how many entries the audit lane has left to send.
    pub fn audit_last_seq(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM audit_log", [], |r| {
                r.get(0)
            })?)
    }

    /// Records the back office's acknowledgement, so the next sync resumes after it.
    pub fn set_audit_acknowledged_seq(&self, seq: i64) -> Result<(), StoreError> {
        audit::set_acknowledged_seq(&self.conn, seq)
    }

    /// Checks the audit log's hash chain: the number of intact entries, or the first broken one.
    pub fn verify_audit_chain(&self) -> Result<Result<usize, AuditChainBroken>, StoreError> {
        audit::verify(&self.conn)
    }

    /// Reads a small setting (server URL, sync cursor, trust list…).
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Writes a small setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Records a validated application and queues it for sync, in one transaction: the daily
    /// counter, the application, its scan references, the residents it names, the outbox item
    /// and the audit entry commit together or not at all.
    pub fn register(
        &mut self,
        device: &DeviceIdentity,
        new: &NewApplication,
        operator: &str,
        now: DateTime<FixedOffset>,
        id: Uuid,
    ) -> Result<StoredApplication, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for p in &new.provided {
            for page in &p.pages {
                if scans::reference(&tx, &page.sha256)?.is_none() {
                    return Err(StoreError::MissingScan {
                        slot: p.slot.clone(),
                    });
                }
            }
        }
        let day = now.date_naive();
        let counter: u32 = tx.query_row(
            "INSERT INTO daily_counters(day, last) VALUES (?1, 1)
             ON CONFLICT(day) DO UPDATE SET last = last + 1
             RETURNING last",
            [day.to_string()],
            |r| r.get(0),
        )?;
        let tracking = TrackingNumber::new(&device.village, device.device_no, day, counter)?;
        tx.execute(
            "INSERT INTO applications(id, tracking_number, service, data, operator, captured_at,
                                      status, catalogue_version, fields, provided)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9)",
            params![
                id.to_string(),
                tracking.as_str(),
                new.service.code(),
                to_json(&new.applicant)?,
                operator,
                now.to_rfc3339(),
                new.catalogue_version,
                to_json(&new.fields)?,
                to_json(&new.provided)?,
            ],
        )?;
        for p in &new.provided {
            for (n, page) in p.pages.iter().enumerate() {
                tx.execute(
                    "INSERT INTO application_scans(application_id, slot, sha256)
                     VALUES (?1, ?2, ?3)",
                    params![id.to_string(), format!("{}/{}", p.slot, n + 1), page.sha256],
                )?;
            }
        }
        residents::learn(&tx, &new.applicant, &new.fields, now)?;
        tx.execute(
            "INSERT INTO outbox(application_id, state, attempts) VALUES (?1, 'queued', 0)",
            [id.to_string()],
        )?;
        audit::append(&tx, operator, AuditAction::Created, &id.to_string(), now)?;
        tx.commit()?;
        self.application(id)
    }

    /// Stores a processed scan (once per content) so a form can refer to it by hash; a scan no
    /// application refers to is purged later by [`VillageStore::purge_unreferenced_scans`].
    pub fn put_scan(
        &mut self,
        scan: &NewScan,
        now: DateTime<FixedOffset>,
    ) -> Result<ScanRef, StoreError> {
        scans::put(&self.conn, scan, now)
    }

    /// A stored scan's reference, if this laptop holds it.
    pub fn scan(&self, sha256: &str) -> Result<Option<ScanRef>, StoreError> {
        scans::reference(&self.conn, sha256)
    }

    /// A stored scan's bytes, for viewing or upload.
    pub fn scan_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        scans::column(&self.conn, sha256, "bytes")
    }

    /// A stored scan's thumbnail (JPEG), for the checklist.
    pub fn scan_thumbnail(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        scans::column(&self.conn, sha256, "thumbnail")
    }

    /// Deletes scans attached to forms that were never saved, added before `before`.
    pub fn purge_unreferenced_scans(
        &mut self,
        before: DateTime<FixedOffset>,
    ) -> Result<usize, StoreError> {
        scans::purge_unreferenced(&self.conn, before)
    }

    /// Residents known on this laptop whose NIK starts with, or name contains, `text`, or whose
    /// family card is exactly `text`; at most `limit`.
    pub fn find_residents(&self, text: &str, limit: usize) -> Result<Vec<Resident>, StoreError> {
        residents::find(&self.conn, text, limit)
    }

    /// Everyone known on this laptop under one family card (KK), oldest first.
    pub fn household(&self, nomor_kk: &str) -> Result<Vec<Resident>, StoreError> {
        residents::household(&self.conn, nomor_kk)
    }

    /// One application by id.
    pub fn application(&self, id: Uuid) -> Result<StoredApplication, StoreError> {
        self.conn
            .query_row(
                &format!("{SELECT_APP} WHERE id = ?1"),
                [id.to_string()],
                row_to_raw,
            )
            .optional()?
            .ok_or(StoreError::NotFound)?
            .parse()
    }

    /// All applications, newest first.
    pub fn applications(&self) -> Result<Vec<StoredApplication>, StoreError> {
        self.search(&ApplicationQuery::default())
    }

    /// Applications matching the operator's search, newest first: text matches the tracking
    /// number, the NIK or the name (case-insensitive, anywhere); the other fields filter.
    pub fn search(&self, q: &ApplicationQuery) -> Result<Vec<StoredApplication>, StoreError> {
        let text = q
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let escaped = t
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{}%", escaped.to_lowercase())
            });
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT_APP}
             WHERE (?1 IS NULL
                    OR lower(tracking_number) LIKE ?1 ESCAPE '\\'
                    OR json_extract(data, '$.nik') LIKE ?1 ESCAPE '\\'
                    OR lower(json_extract(data, '$.full_name')) LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR status = ?2)
               AND (?3 IS NULL OR service = ?3)
               AND (?4 IS NULL OR substr(captured_at, 1, 10) >= ?4)
               AND (?5 IS NULL OR substr(captured_at, 1, 10) <= ?5)
             ORDER BY captured_at DESC, rowid DESC"
        ))?;
        let raws = stmt
            .query_map(
                params![
                    text,
                    q.status.map(|s| s.code()),
                    q.service.as_ref().map(|s| s.code()),
                    q.from.map(|d| d.to_string()),
                    q.to.map(|d| d.to_string()),
                ],
                row_to_raw,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(RawApp::parse).collect()
    }

    /// Applications still waiting to reach the back office (queued, whatever their next retry
    /// time, or left `sending` by an interrupted pass), oldest first.
    pub fn outbox(&self, limit: usize) -> Result<Vec<StoredApplication>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT_APP} WHERE id IN (SELECT application_id FROM outbox
                                       WHERE state IN ('queued', 'sending'))
             ORDER BY captured_at, rowid LIMIT ?1"
        ))?;
        let raws = stmt
            .query_map([limit as i64], row_to_raw)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(RawApp::parse).collect()
    }

    /// Counts outbox items per state, for the operator's summary.
    pub fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every outbox item still pending (queued, sending, failed for good), oldest first, with
    /// its attempts, next retry time and last error: what the sync planner and the operator see.
    pub fn outbox_items(&self) -> Result<Vec<OutboxItem>, StoreError> {
        outbox::pending_items(&self.conn)
    }

    /// One application's outbox row, in any state.
    pub fn outbox_item(&self, id: Uuid) -> Result<Option<OutboxItem>, StoreError> {
        outbox::item(&self.conn, id)
    }

    /// Queued items about to be put on the wire become `sending` (one transaction); returns how
    /// many changed.
    pub fn mark_sending(&mut self, ids: &[Uuid], now: DateTime<Utc>) -> Result<usize, StoreError> {
        outbox::mark_sending(&mut self.conn, ids, now)
    }

    /// Items a previous pass left `sending` (it crashed or was killed before the answer) go back
    /// to `queued`, due at once; safe because the server is idempotent. Returns how many.
    pub fn requeue_interrupted(&mut self, ids: &[Uuid]) -> Result<usize, StoreError> {
        outbox::requeue_interrupted(&mut self.conn, ids)
    }

    /// The laptop itself was refused (not enrolled, revoked, clock wrong, certificate): the
    /// items go back to `queued`, due at once and with no attempt counted, showing `message`.
    pub fn hold_for_device(&mut self, ids: &[Uuid], message: &str) -> Result<usize, StoreError> {
        outbox::hold_for_device(&self.conn, ids, message)
    }

    /// A failed attempt that may work later: the item goes back to `queued` with the attempt
    /// counted, `message` (plain Bahasa Indonesia) as its last error, not before `next_retry_at`.
    pub fn schedule_retry(
        &mut self,
        id: Uuid,
        message: &str,
        next_retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        outbox::schedule_retry(&self.conn, id, message, next_retry_at)
    }

    /// The operator's "retry now": `Some(id)` makes that item due at once (a permanently failed
    /// one goes back to the queue, its reason kept until the next answer); `None` makes every
    /// queued item due at once (permanent failures stay). Returns how many changed.
    pub fn retry_now(&mut self, id: Option<Uuid>) -> Result<usize, StoreError> {
        outbox::retry_now(&self.conn, id)
    }

    /// The outbox state of one application (`None`: it has no outbox row).
    pub fn outbox_state(&self, id: Uuid) -> Result<Option<OutboxState>, StoreError> {
        outbox::state_of(&self.conn, id)
    }

    /// The back office has the application: take it out of the outbox (`acknowledged`, or
    /// `decided` when the back office already decided it). A later status from the back office
    /// is never overwritten by this acknowledgement.
    pub fn mark_acknowledged(
        &mut self,
        id: Uuid,
        server_status: ApplicationStatus,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = NULL,
                next_retry_at = NULL
             WHERE application_id = ?1 AND state NOT IN ('acknowledged', 'decided')",
            params![
                id.to_string(),
                OutboxState::for_server_status(server_status).code()
            ],
        )?;
        tx.execute(
            "UPDATE applications SET status = ?2 WHERE id = ?1 AND status = 'queued'",
            params![id.to_string(), server_status.code()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The back office refused the item for good (e.g. a conflicting resend): it becomes
    /// `failed_permanent` and stays visible with `message` until the operator retries it.
    pub fn mark_failed(&mut self, id: Uuid, message: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'failed_permanent', attempts = attempts + 1,
                last_error = ?2, next_retry_at = NULL
             WHERE application_id = ?1",
            params![id.to_string(), message],
        )?;
        Ok(())
    }

    /// A transient failure: the item stays (or goes back to) queued, due at the next pass; the
    /// attempt and reason are recorded. [`VillageStore::schedule_retry`] also sets a wait.
    pub fn record_attempt_error(&mut self, id: Uuid, message: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = ?2
             WHERE application_id = ?1 AND state IN ('queued', 'sending')",
            params![id.to_string(), message],
        )?;
        Ok(())
    }

    /// Applies status changes from the back office and advances the pull cursor atomically.
    pub fn apply_changes(
        &mut self,
        changes: &[StatusChange],
        new_cursor: i64,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut applied = 0;
        for c in changes {
            let (doc_number, issued_on, sha) = match &c.document {
                Some((n, d, h)) => (Some(n.clone()), Some(d.to_string()), Some(h.clone())),
                None => (None, None, None),
            };
            applied += tx.execute(
                "UPDATE applications SET status = ?2, reason = ?3,
                    doc_number = COALESCE(?4, doc_number), doc_issued_on = COALESCE(?5, doc_issued_on),
                    doc_sha256 = COALESCE(?6, doc_sha256)
                 WHERE id = ?1",
                params![
                    c.application_id.to_string(),
                    c.status.code(),
                    c.reason,
                    doc_number,
                    issued_on,
                    sha
                ],
            )?;
            // Anything the back office reports on has evidently arrived there; a decision
            // (issued, rejected, returned) closes the item. A permanent failure stays visible.
            tx.execute(
                "UPDATE outbox SET state = ?2, next_retry_at = NULL
                 WHERE application_id = ?1
                   AND state IN ('queued', 'sending', 'acknowledged', 'decided')",
                params![
                    c.application_id.to_string(),
                    OutboxState::for_server_status(c.status).code()
                ],
            )?;
        }
        tx.execute(
            "INSERT INTO settings(key, value) VALUES ('pull_cursor', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [new_cursor.to_string()],
        )?;
        tx.commit()?;
        Ok(applied)
    }

    /// Where the last pull stopped.
    pub fn pull_cursor(&self) -> Result<i64, StoreError> {
        Ok(self
            .setting("pull_cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Issued applications whose PDF has not been downloaded yet: (id, number, announced SHA-256).
    pub fn documents_missing_pdf(&self) -> Result<Vec<(Uuid, String, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, doc_number, doc_sha256 FROM applications
             WHERE status = 'issued' AND doc_number IS NOT NULL AND doc_sha256 IS NOT NULL
               AND doc_pdf IS NULL",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, n, h)| Ok((parse_uuid(&id)?, n, h)))
            .collect()
    }

    /// Stores a downloaded document PDF after checking it against the SHA-256 the back office
    /// announced, so a truncated or altered download is never kept.
    pub fn store_document_pdf(&mut self, id: Uuid, pdf: &[u8]) -> Result<(), StoreError> {
        let expected: Option<String> = self
            .conn
            .query_row(
                "SELECT doc_sha256 FROM applications WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let actual = hex(&Sha256::digest(pdf));
        if expected.is_none_or(|e| !actual.eq_ignore_ascii_case(&e)) {
            return Err(StoreError::DocumentHashMismatch);
        }
        self.conn.execute(
            "UPDATE applications SET doc_pdf = ?2 WHERE id = ?1",
            params![id.to_string(), pdf],
        )?;
        Ok(())
    }

    /// The issued document's PDF, if it has arrived.
    pub fn document_pdf(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc_pdf FROM applications WHERE id = ?1",
                [id.to_string()],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten())
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Lower-case hex, for hashes shown and compared across the wire.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const SELECT_APP: &str = "SELECT id, tracking_number, service, data, operator, captured_at, status,
    reason, doc_number, doc_issued_on, doc_pdf IS NOT NULL, catalogue_version, fields, provided,
    revision, revision_id
    FROM applications";

struct RawApp {
    id: String,
    tracking_number: String,
    service: String,
    catalogue_version: String,
    fields: String,
    provided: String,
    data: String,
    operator: String,
    captured_at: String,
    status: String,
    reason: Option<String>,
    doc_number: Option<String>,
    doc_issued_on: Option<String>,
    has_pdf: bool,
    revision: u32,
    revision_id: Option<String>,
}

fn row_to_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawApp> {
    Ok(RawApp {
        id: r.get(0)?,
        tracking_number: r.get(1)?,
        service: r.get(2)?,
        catalogue_version: r.get(11)?,
        fields: r.get(12)?,
        provided: r.get(13)?,
        data: r.get(3)?,
        operator: r.get(4)?,
        captured_at: r.get(5)?,
        status: r.get(6)?,
        reason: r.get(7)?,
        doc_number: r.get(8)?,
        doc_issued_on: r.get(9)?,
        has_pdf: r.get(10)?,
        revision: r.get(14)?,
        revision_id: r.get(15)?,
    })
}

fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("id {s}: {e}")))
}

impl RawApp {
    fn parse(self) -> Result<StoredApplication, StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("{what} of {}", self.tracking_number));
        let document = match (&self.doc_number, &self.doc_issued_on) {
            (Some(n), Some(d)) => Some(DocumentInfo {
                doc_number: n.clone(),
                issued_on: d.parse().map_err(|_| corrupt("issue date"))?,
                has_pdf: self.has_pdf,
            }),
            _ => None,
        };
        Ok(StoredApplication {
            id: parse_uuid(&self.id)?,
            service: ServiceCode::parse(&self.service).map_err(|_| corrupt("service"))?,
            data: serde_json::from_str(&self.data).map_err(|_| corrupt("form data"))?,
            fields: serde_json::from_str(&self.fields).map_err(|_| corrupt("service fields"))?,
            provided: serde_json::from_str(&self.provided)
                .map_err(|_| corrupt("provided documents"))?,
            captured_at: DateTime::parse_from_rfc3339(&self.captured_at)
                .map_err(|_| corrupt("capture time"))?,
            status: ApplicationStatus::from_code(&self.status).ok_or_else(|| corrupt("status"))?,
            tracking_number: self.tracking_number,
            catalogue_version: self.catalogue_version,
            operator: self.operator,
            reason: self.reason,
            document,
            revision: self.revision,
            revision_id: self.revision_id.as_deref().map(parse_uuid).transpose()?,
        })
    }
}

/// Current UTC time, for callers that have no injected clock of their own.
pub fn utc_now() -> DateTime<Utc> {
    Utc::now()
}
