//! The district's copy of every village laptop's hash-chained audit log (UU 27/2022 Ps 31). A
//! batch is stored whole or not at all, and only when every entry links to the one before it
//! and its hash recomputes, so the copy here is a verified prefix of the laptop's chain that
//! later edits on the laptop cannot change.

use chrono::{DateTime, Utc};
use loket_sync::audit::{audit_entry_hash, AUDIT_GENESIS_HASH};
use loket_sync::protocol::{AuditAck, AuditEntryWire, DeviceRef};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::BackofficeStore;

/// Why a pushed audit batch was refused; nothing of the batch is stored, and the variant
/// decides the HTTP status (conflict 409, the rest 422).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The server already holds this seq with other content: the laptop's log was rewritten.
    #[error(
        "entri audit {seq} sudah tersimpan di server dengan isi berbeda; catatan audit di laptop \
         desa telah diubah setelah dikirim"
    )]
    Conflict {
        /// The seq held with other content.
        seq: u64,
    },
    /// The entry does not continue the chain the server holds (or the batch skips a seq).
    #[error("entri audit {seq} tidak bersambung: yang diharapkan entri {expected}")]
    Gap {
        /// The seq that arrived.
        seq: u64,
        /// The seq that should have come.
        expected: u64,
    },
    /// The entry's `prev_hash` is not the hash of the entry before it.
    #[error(
        "entri audit {seq} tidak menyambung ke entri sebelumnya (prev_hash berbeda); catatan \
         audit telah diubah"
    )]
    BrokenLink {
        /// The entry whose link is broken.
        seq: u64,
    },
    /// The entry's hash does not follow from its content: it was edited after it was written.
    #[error("hash entri audit {seq} tidak cocok dengan isinya; catatan audit telah diubah")]
    HashMismatch {
        /// The edited entry.
        seq: u64,
    },
    /// The database failed.
    #[error("basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The result of re-verifying a device's stored chain from entry 1, for auditors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainCheck {
    /// Entries held for the device.
    pub entries: u64,
    /// The first entry whose seq, link or hash does not check out; `None` when intact.
    pub first_broken_seq: Option<u64>,
}

impl BackofficeStore {
    /// Stores consecutive audit entries of one device in one transaction: entries already held
    /// must be identical (a resend is fine), new ones must continue the held chain with a
    /// correct link and hash. Any failure stores nothing of the batch.
    pub fn receive_audit(
        &mut self,
        device: &DeviceRef,
        entries: &[AuditEntryWire],
        now: DateTime<Utc>,
    ) -> Result<AuditAck, AuditError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut held = held_through(&tx, device)?;
        let mut stored = 0;
        let mut previous_in_batch: Option<u64> = None;
        for e in entries {
            let expected = previous_in_batch.map_or(1, |p| p + 1);
            if e.seq == 0 || (previous_in_batch.is_some() && e.seq != expected) {
                return Err(AuditError::Gap {
                    seq: e.seq,
                    expected,
                });
            }
            previous_in_batch = Some(e.seq);
            if e.seq <= held {
                if stored_entry(&tx, device, e.seq)?.as_ref() != Some(e) {
                    return Err(AuditError::Conflict { seq: e.seq });
                }
                continue;
            }
            if e.seq != held + 1 {
                return Err(AuditError::Gap {
                    seq: e.seq,
                    expected: held + 1,
                });
            }
            let prev_hash = if e.seq == 1 {
                AUDIT_GENESIS_HASH.to_string()
            } else {
                // Present: held seqs are exactly 1..=held. Were it missing, the link fails below.
                stored_entry(&tx, device, held)?
                    .map(|p| p.hash)
                    .unwrap_or_default()
            };
            if e.prev_hash != prev_hash {
                return Err(AuditError::BrokenLink { seq: e.seq });
            }
            if e.hash != recompute(e) {
                return Err(AuditError::HashMismatch { seq: e.seq });
            }
            tx.execute(
                "INSERT INTO audit_entries(village_code, device_no, seq, at, actor, action,
                    subject, prev_hash, hash, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    device.village_code,
                    device.device_no,
                    db_seq(e.seq),
                    e.at,
                    e.actor,
                    e.action,
                    e.subject,
                    e.prev_hash,
                    e.hash,
                    now.to_rfc3339(),
                ],
            )?;
            held = e.seq;
            stored += 1;
        }
        tx.commit()?;
        Ok(AuditAck {
            acknowledged_through: held,
            stored,
        })
    }

    /// One device's audit trail as held here, oldest first.
    pub fn audit_trail(&self, device: &DeviceRef) -> rusqlite::Result<Vec<AuditEntryWire>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor, action, subject, prev_hash, hash FROM audit_entries
             WHERE village_code = ?1 AND device_no = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![device.village_code, device.device_no], row_to_entry)?;
        rows.collect()
    }

    /// Re-verifies one device's stored chain from entry 1 (seq order, links, hashes), so an
    /// auditor learns whether the district's copy itself was edited.
    pub fn verify_audit_trail(&self, device: &DeviceRef) -> rusqlite::Result<ChainCheck> {
        let trail = self.audit_trail(device)?;
        let mut prev = AUDIT_GENESIS_HASH.to_string();
        let mut first_broken_seq = None;
        for (expected, e) in (1u64..).zip(&trail) {
            if e.seq != expected || e.prev_hash != prev || e.hash != recompute(e) {
                first_broken_seq = Some(expected);
                break;
            }
            prev = e.hash.clone();
        }
        Ok(ChainCheck {
            entries: trail.len() as u64,
            first_broken_seq,
        })
    }
}

/// The hash the entry should carry, by the laptop's own function.
fn recompute(e: &AuditEntryWire) -> String {
    audit_entry_hash(
        &e.prev_hash,
        db_seq(e.seq),
        &e.at,
        &e.actor,
        &e.action,
        &e.subject,
    )
}

/// Seqs reach the database and the hash as i64; anything larger cannot be a real entry and
/// saturates, so it fails the gap or hash check instead of wrapping.
fn db_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// The highest seq held for the device; the held seqs are always exactly 1..=that.
fn held_through(conn: &Connection, device: &DeviceRef) -> rusqlite::Result<u64> {
    let max: Option<i64> = conn.query_row(
        "SELECT MAX(seq) FROM audit_entries WHERE village_code = ?1 AND device_no = ?2",
        params![device.village_code, device.device_no],
        |r| r.get(0),
    )?;
    Ok(max.map_or(0, |m| m.max(0) as u64))
}

fn stored_entry(
    conn: &Connection,
    device: &DeviceRef,
    seq: u64,
) -> rusqlite::Result<Option<AuditEntryWire>> {
    conn.query_row(
        "SELECT seq, at, actor, action, subject, prev_hash, hash FROM audit_entries
         WHERE village_code = ?1 AND device_no = ?2 AND seq = ?3",
        params![device.village_code, device.device_no, db_seq(seq)],
        row_to_entry,
    )
    .optional()
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntryWire> {
    let seq: i64 = r.get(0)?;
    Ok(AuditEntryWire {
        seq: seq.max(0) as u64,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
    })
}
