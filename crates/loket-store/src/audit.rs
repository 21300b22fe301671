//! The hash-chained audit log of who did what with whose data on this laptop (UU 27/2022 Ps 31:
//! a controller records its processing). Each entry's hash covers the previous entry's hash, so
//! editing, deleting or reordering any past entry breaks the chain and `verify_audit_chain` says
//! where. Cutting entries off the end leaves a valid shorter chain; that is caught once the log
//! is synced, by comparing with the back office's copy (`loket_sync::audit`).

use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{hex, StoreError};

/// What was done; stable codes, because auditors filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An application was recorded.
    Created,
    /// A receipt was printed (written as PDF).
    PrintedReceipt,
    /// An issued document was printed (written as PDF).
    PrintedDocument,
    /// A document was checked with the verifier.
    Verified,
    /// Residents' data was looked up (a search by NIK, name or number); the subject is what
    /// was searched for (UU 27/2022: who looked at whose data).
    Viewed,
    /// An application was written to a USB bundle (sneakernet); the subject is its id.
    Exported,
    /// An application's scans were deleted from the laptop after the retention period; the
    /// subject is its id (the record stays).
    PurgedScans,
    /// A returned application was corrected into its next revision; the subject is its id.
    Corrected,
}

impl AuditAction {
    /// The stable code stored in the log.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Created => "created",
            AuditAction::PrintedReceipt => "printed_receipt",
            AuditAction::PrintedDocument => "printed_document",
            AuditAction::Verified => "verified",
            AuditAction::Viewed => "viewed",
            AuditAction::Exported => "exported",
            AuditAction::PurgedScans => "purged_scans",
            AuditAction::Corrected => "corrected",
        }
    }
}

/// One entry of the log as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When, with the laptop's offset.
    pub at: String,
    /// Who (the operator).
    pub actor: String,
    /// What (an [`AuditAction`] code).
    pub action: String,
    /// Whose data: the application id, or the document number.
    pub subject: String,
    /// SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this entry's fields.
    pub hash: String,
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catatan audit telah diubah: entri {seq} tidak cocok dengan rantai hash")]
pub struct AuditChainBroken {
    /// The first entry whose hash does not follow from its predecessor.
    pub seq: i64,
}

/// The `prev_hash` of entry 1; public because the back office checks the chain it receives.
pub const AUDIT_GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Setting key holding the highest audit seq the back office holds (the sync resumes after it).
pub const AUDIT_ACKNOWLEDGED_SETTING: &str = "audit_acknowledged_seq";

/// An entry's hash from its predecessor's and its own fields; pure and public, so the back
/// office recomputes exactly what the laptop wrote.
pub fn audit_entry_hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
) -> String {
    // Length-prefixed fields, so no two different entries hash the same input.
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), at, actor, action, subject] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

/// Appends one entry; callers pass their open transaction so the entry commits with the change
/// it describes.
pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    action: AuditAction,
    subject: &str,
    at: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, AUDIT_GENESIS_HASH.to_string()),
    };
    let at = at.to_rfc3339();
    let hash = audit_entry_hash(&prev, seq, &at, actor, action.code(), subject);
    conn.execute(
        "INSERT INTO audit_log(seq, at, actor, action, subject, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq, at, actor, action.code(), subject, prev, hash],
    )?;
    Ok(())
}

/// Every entry, oldest first.
pub(crate) fn entries(conn: &Connection) -> Result<Vec<AuditEntry>, StoreError> {
    entries_after(conn, 0, usize::MAX)
}

/// At most `limit` entries with a seq above `after`, oldest first: the next sync batch.
pub(crate) fn entries_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, prev_hash, hash FROM audit_log
         WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(AuditEntry {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            prev_hash: r.get(5)?,
            hash: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Recomputes the chain; Ok(number of entries) or the first broken entry.
pub(crate) fn verify(conn: &Connection) -> Result<Result<usize, AuditChainBroken>, StoreError> {
    let mut prev = AUDIT_GENESIS_HASH.to_string();
    let all = entries(conn)?;
    for (i, e) in all.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let recomputed = audit_entry_hash(&prev, e.seq, &e.at, &e.actor, &e.action, &e.subject);
        if e.seq != expected_seq || e.prev_hash != prev || e.hash != recomputed {
            return Ok(Err(AuditChainBroken { seq: expected_seq }));
        }
        prev = e.hash.clone();
    }
    Ok(Ok(all.len()))
}

/// The highest seq the back office acknowledged holding; 0 before the first audit sync.
pub(crate) fn acknowledged_seq(conn: &Connection) -> Result<i64, StoreError> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [AUDIT_ACKNOWLEDGED_SETTING],
            |r| r.get(0),
        )
        .optional()?;
    match value {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("{AUDIT_ACKNOWLEDGED_SETTING} = {v}"))),
    }
}

/// Records what the back office acknowledged; the server's word wins, so a lower value (a
/// restored server) makes the next sync resend from there.
pub(crate) fn set_acknowledged_seq(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![AUDIT_ACKNOWLEDGED_SETTING, seq.to_string()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VillageStore;

    fn at(minute: u32) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2026-11-22T09:{minute:02}:00+08:00")).unwrap()
    }

    #[test]
    fn hash_is_the_length_prefixed_sha256_the_back_office_recomputes() {
        // Pinned: the back office checks villages' chains with this function, so its output
        // is part of the sync contract (value computed independently with Python's hashlib).
        assert_eq!(
            audit_entry_hash(
                AUDIT_GENESIS_HASH,
                1,
                "2026-11-22T09:00:00+08:00",
                "Hasnawati",
                "created",
                "0190-x"
            ),
            "90e2e3f06ebc05fd88743852901bef8157e86698bc2e1dbc3e46a48f3a1a07c9"
        );
    }

    #[test]
    fn entries_after_pages_and_the_acknowledgement_persists() {
        let mut s = VillageStore::open_in_memory().unwrap();
        for minute in 0..5 {
            s.audit("Hasnawati", AuditAction::Verified, "doc", at(minute))
                .unwrap();
        }
        let seqs = |v: Vec<AuditEntry>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(s.audit_entries_after(0, 2).unwrap()), [1, 2]);
        assert_eq!(seqs(s.audit_entries_after(2, 10).unwrap()), [3, 4, 5]);
        assert!(s.audit_entries_after(5, 10).unwrap().is_empty());
        assert_eq!(
            s.audit_entries_after(0, usize::MAX).unwrap(),
            s.audit_log().unwrap()
        );

        assert_eq!(s.audit_acknowledged_seq().unwrap(), 0);
        s.set_audit_acknowledged_seq(3).unwrap();
        assert_eq!(s.audit_acknowledged_seq().unwrap(), 3);
        s.set_audit_acknowledged_seq(2).unwrap();
        assert_eq!(s.audit_acknowledged_seq().unwrap(), 2);
    }
}
