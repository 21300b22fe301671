//! The hash-chained audit log of who did what with whose data on this laptop (UU 27/2022 Ps 31:
//! a controller records its processing). Each entry's hash covers the previous entry's hash, so
//! editing, deleting or reordering any past entry breaks the chain and `verify_audit_chain` says
//! where. Cutting entries off the end leaves a valid shorter chain; that is caught once the log
//! is synced, by comparing with the back office's copy (issue 5).

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
}

impl AuditAction {
    /// The stable code stored in the log.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Created => "created",
            AuditAction::PrintedReceipt => "printed_receipt",
            AuditAction::PrintedDocument => "printed_document",
            AuditAction::Verified => "verified",
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

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn entry_hash(prev: &str, seq: i64, at: &str, actor: &str, action: &str, subject: &str) -> String {
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
        None => (1, GENESIS.to_string()),
    };
    let at = at.to_rfc3339();
    let hash = entry_hash(&prev, seq, &at, actor, action.code(), subject);
    conn.execute(
        "INSERT INTO audit_log(seq, at, actor, action, subject, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq, at, actor, action.code(), subject, prev, hash],
    )?;
    Ok(())
}

/// Every entry, oldest first.
pub(crate) fn entries(conn: &Connection) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, prev_hash, hash FROM audit_log ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
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
    let mut prev = GENESIS.to_string();
    let all = entries(conn)?;
    for (i, e) in all.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let recomputed = entry_hash(&prev, e.seq, &e.at, &e.actor, &e.action, &e.subject);
        if e.seq != expected_seq || e.prev_hash != prev || e.hash != recomputed {
            return Ok(Err(AuditChainBroken { seq: expected_seq }));
        }
        prev = e.hash.clone();
    }
    Ok(Ok(all.len()))
}
