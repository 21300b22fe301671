//! The village side of audit sync: push the hash-chained audit log (UU 27/2022: who created,
//! viewed, printed or exported whose data) to the back office after the applications, in
//! batches after the last seq the server acknowledged. The server checks every link and hash
//! and stores a batch whole or not at all, so a log edited on the laptop is refused loudly and
//! the district's copy stays the reference an auditor compares with.

use loket_store::{AuditEntry, StoreError, VillageStore};

use crate::protocol::{AuditAck, AuditBatch, AuditEntryWire, DeviceRef, MAX_AUDIT_BATCH};
use crate::{SyncClient, SyncError};

/// The chain's hash function and entry 1's `prev_hash`, re-exported so the back office
/// recomputes exactly what the laptop wrote (one implementation, no drift).
pub use loket_store::{audit_entry_hash, AUDIT_GENESIS_HASH};

impl SyncClient {
    /// Pushes one batch of audit entries; the answer says how far the server holds the chain.
    pub fn push_audit(&self, batch: &AuditBatch) -> Result<AuditAck, SyncError> {
        self.post_json("/api/v1/audit", batch)
    }
}

/// One stored entry as sent on the wire.
pub fn to_wire(entry: &AuditEntry) -> Result<AuditEntryWire, SyncError> {
    let seq = u64::try_from(entry.seq).map_err(|_| {
        StoreError::Corrupt(format!("nomor urut catatan audit tidak sah: {}", entry.seq))
    })?;
    Ok(AuditEntryWire {
        seq,
        at: entry.at.clone(),
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        subject: entry.subject.clone(),
        prev_hash: entry.prev_hash.clone(),
        hash: entry.hash.clone(),
    })
}

/// Sends every audit entry after the acknowledged seq, at most [`MAX_AUDIT_BATCH`] per request,
/// recording each acknowledgement as it comes. Returns how many entries the server acknowledged
/// in this pass (0 when it already held them all).
pub fn push_audit_log(
    store: &VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
) -> Result<usize, SyncError> {
    push_audit_log_with_progress(store, client, device, &mut |_, _| {})
}

/// [`push_audit_log`], telling `progress(done, total)` after every acknowledged batch (and
/// once before the first), `total` being the entries after the acknowledged seq at the start.
pub fn push_audit_log_with_progress(
    store: &VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<usize, SyncError> {
    let mut acked = store.audit_acknowledged_seq()?;
    let total = usize::try_from(store.audit_last_seq()? - acked).unwrap_or(0);
    let mut sent = 0;
    progress(0, total);
    loop {
        ensure_still_holds(store, acked)?;
        let entries = store.audit_entries_after(acked, MAX_AUDIT_BATCH)?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            return Ok(sent);
        };
        let batch = AuditBatch {
            device: device.clone(),
            entries: entries.iter().map(to_wire).collect::<Result<_, _>>()?,
        };
        let ack = client.push_audit(&batch)?;
        let through = i64::try_from(ack.acknowledged_through)
            .ok()
            .filter(|&t| t >= last)
            .ok_or_else(|| {
                SyncError::Protocol(format!(
                    "server mengakui catatan audit sampai entri {}, padahal dikirim sampai entri {last}",
                    ack.acknowledged_through
                ))
            })?;
        store.set_audit_acknowledged_seq(through)?;
        sent += batch.entries.len();
        acked = through;
        progress(sent, total.max(sent));
    }
}

/// The laptop must still hold the entry the server acknowledged last; if it does not, entries
/// were cut off the end or deleted, which the hash chain alone cannot show.
fn ensure_still_holds(store: &VillageStore, acked: i64) -> Result<(), SyncError> {
    if acked == 0 {
        return Ok(());
    }
    let found = store
        .audit_entries_after(acked - 1, 1)?
        .first()
        .map(|e| e.seq);
    if found == Some(acked) {
        return Ok(());
    }
    Err(StoreError::Corrupt(format!(
        "catatan audit di laptop ini tidak lagi memuat entri {acked} yang sudah diterima server \
         Disdukcapil; catatan telah dipotong atau dihapus"
    ))
    .into())
}
