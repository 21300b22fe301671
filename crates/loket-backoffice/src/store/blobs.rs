//! Scan pages (blobs) uploaded by village laptops, resumably: a blob is announced with its
//! SHA-256 and size, then arrives in chunks appended strictly at the held offset, each in its own
//! transaction (WAL, `synchronous = FULL`), so an acknowledged chunk survives a crash. When the
//! last byte arrives the whole is hashed in the same transaction; only a match makes the blob
//! complete (and readable by reviewers), a mismatch discards everything held for it.
//!
//! Blobs are content-addressed and shared: two laptops holding the same page upload it once.

use chrono::{DateTime, Utc};
use loket_sync::protocol::{BlobStatus, DeviceRef, MAX_BLOB_BYTES, MAX_CHUNK_BYTES};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::BackofficeStore;

/// Why an announce or chunk was refused; the variant decides the HTTP status and code.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The name is not 64 lower-case hex digits.
    #[error("nama berkas harus SHA-256 (64 digit heksadesimal huruf kecil)")]
    BadHash,
    /// The announced size is 0 or above [`MAX_BLOB_BYTES`].
    #[error("ukuran berkas {size} byte tidak diterima (1 sampai {MAX_BLOB_BYTES} byte)")]
    BadSize {
        /// The announced size.
        size: u64,
    },
    /// The hash was announced earlier with another size.
    #[error(
        "berkas {} sudah diumumkan dengan ukuran {} byte, bukan {announced} byte",
        .held.sha256, .held.size
    )]
    SizeConflict {
        /// What the server holds.
        held: BlobStatus,
        /// The size in the refused announce.
        announced: u64,
    },
    /// Chunks for a hash nobody announced (or whose partial upload was discarded).
    #[error("berkas belum diumumkan; kirim POST /api/v1/blobs dahulu")]
    NotAnnounced,
    /// The chunk does not start where the held bytes end; the client resumes at `held.received`.
    #[error(
        "potongan dikirim mulai byte {offset}, padahal server memegang {} byte; lanjutkan dari sana",
        .held.received
    )]
    OffsetMismatch {
        /// What the server holds.
        held: BlobStatus,
        /// The offset the refused chunk claimed.
        offset: u64,
    },
    /// The chunk is empty, larger than [`MAX_CHUNK_BYTES`], or runs past the announced size.
    #[error("potongan {len} byte di byte {offset} tidak sah untuk berkas {size} byte (maks. {MAX_CHUNK_BYTES} byte per potongan)")]
    BadChunk {
        /// Where it claimed to start.
        offset: u64,
        /// Its length.
        len: usize,
        /// The announced size.
        size: u64,
    },
    /// All bytes arrived but their SHA-256 is not the announced one; everything was discarded.
    #[error("isi berkas tidak cocok dengan SHA-256-nya; unggahan dibuang, kirim ulang dari awal")]
    HashMismatch,
    /// The database failed.
    #[error("basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Whether `s` is a blob name: SHA-256 as 64 lower-case hex digits.
pub fn is_blob_name(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl BackofficeStore {
    /// Registers a blob (or answers how much of it is held): idempotent on the hash, so a client
    /// that lost the answer simply announces again; another size for a held hash is a conflict.
    pub fn announce_blob(
        &mut self,
        device: &DeviceRef,
        sha256: &str,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<BlobStatus, BlobError> {
        if !is_blob_name(sha256) {
            return Err(BlobError::BadHash);
        }
        if size == 0 || size > MAX_BLOB_BYTES {
            return Err(BlobError::BadSize { size });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(held) = status_in(&tx, sha256)? {
            if held.size != size {
                return Err(BlobError::SizeConflict {
                    held,
                    announced: size,
                });
            }
            return Ok(held);
        }
        tx.execute(
            "INSERT INTO blobs(sha256, size, received, complete, village_code, device_no, announced_at)
             VALUES (?1, ?2, 0, 0, ?3, ?4, ?5)",
            params![
                sha256,
                size as i64,
                device.village_code,
                device.device_no,
                now.to_rfc3339()
            ],
        )?;
        tx.commit()?;
        Ok(BlobStatus {
            sha256: sha256.to_string(),
            size,
            received: 0,
            complete: false,
        })
    }

    /// Appends one chunk at `offset`, which must equal the bytes held; durable when this returns.
    /// The last chunk triggers the SHA-256 check over the whole blob in the same transaction: a
    /// match completes the blob, a mismatch deletes it (the client starts over) and is an error.
    pub fn append_blob_chunk(
        &mut self,
        sha256: &str,
        offset: u64,
        chunk: &[u8],
        now: DateTime<Utc>,
    ) -> Result<BlobStatus, BlobError> {
        if !is_blob_name(sha256) {
            return Err(BlobError::BadHash);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held = status_in(&tx, sha256)?.ok_or(BlobError::NotAnnounced)?;
        if held.complete || offset != held.received {
            return Err(BlobError::OffsetMismatch { held, offset });
        }
        let end = offset + chunk.len() as u64;
        if chunk.is_empty() || chunk.len() > MAX_CHUNK_BYTES || end > held.size {
            return Err(BlobError::BadChunk {
                offset,
                len: chunk.len(),
                size: held.size,
            });
        }
        tx.execute(
            "INSERT INTO blob_chunks(sha256, start, data) VALUES (?1, ?2, ?3)",
            params![sha256, offset as i64, chunk],
        )?;
        let complete = end == held.size;
        if complete {
            if !whole_matches(&tx, sha256)? {
                tx.execute("DELETE FROM blob_chunks WHERE sha256 = ?1", [sha256])?;
                tx.execute("DELETE FROM blobs WHERE sha256 = ?1", [sha256])?;
                tx.commit()?;
                return Err(BlobError::HashMismatch);
            }
            tx.execute(
                "UPDATE blobs SET received = ?2, complete = 1, completed_at = ?3 WHERE sha256 = ?1",
                params![sha256, end as i64, now.to_rfc3339()],
            )?;
        } else {
            tx.execute(
                "UPDATE blobs SET received = ?2 WHERE sha256 = ?1",
                params![sha256, end as i64],
            )?;
        }
        tx.commit()?;
        Ok(BlobStatus {
            sha256: sha256.to_string(),
            size: held.size,
            received: end,
            complete,
        })
    }

    /// How much of one blob is held; `None` if it was never announced (or was discarded).
    pub fn blob_status(&self, sha256: &str) -> rusqlite::Result<Option<BlobStatus>> {
        self.conn
            .query_row(
                "SELECT sha256, size, received, complete FROM blobs WHERE sha256 = ?1",
                [sha256],
                row_to_status,
            )
            .optional()
    }

    /// The held blobs among `sha256s`, in the order asked; unknown hashes are left out.
    pub fn blob_statuses(&self, sha256s: &[String]) -> rusqlite::Result<Vec<BlobStatus>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256, size, received, complete FROM blobs WHERE sha256 = ?1",
        )?;
        let mut out = Vec::new();
        for sha in sha256s {
            if let Some(status) = stmt.query_row([sha], row_to_status).optional()? {
                out.push(status);
            }
        }
        Ok(out)
    }

    /// The bytes of a complete blob, for reviewers; `None` while incomplete or unknown.
    pub fn blob_bytes(&self, sha256: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        let complete: Option<bool> = self
            .conn
            .query_row(
                "SELECT complete FROM blobs WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?;
        if complete != Some(true) {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM blob_chunks WHERE sha256 = ?1 ORDER BY start")?;
        let mut bytes = Vec::new();
        let mut rows = stmt.query([sha256])?;
        while let Some(row) = rows.next()? {
            bytes.extend_from_slice(row.get_ref(0)?.as_blob()?);
        }
        Ok(Some(bytes))
    }
}

fn row_to_status(r: &rusqlite::Row<'_>) -> rusqlite::Result<BlobStatus> {
    Ok(BlobStatus {
        sha256: r.get(0)?,
        size: r.get::<_, i64>(1)? as u64,
        received: r.get::<_, i64>(2)? as u64,
        complete: r.get(3)?,
    })
}

fn status_in(tx: &Transaction<'_>, sha256: &str) -> rusqlite::Result<Option<BlobStatus>> {
    tx.query_row(
        "SELECT sha256, size, received, complete FROM blobs WHERE sha256 = ?1",
        [sha256],
        row_to_status,
    )
    .optional()
}

/// SHA-256 over the held chunks in order equals the blob's name.
fn whole_matches(tx: &Transaction<'_>, sha256: &str) -> rusqlite::Result<bool> {
    let mut stmt = tx.prepare("SELECT data FROM blob_chunks WHERE sha256 = ?1 ORDER BY start")?;
    let mut rows = stmt.query([sha256])?;
    let mut hasher = Sha256::new();
    while let Some(row) = rows.next()? {
        hasher.update(row.get_ref(0)?.as_blob()?);
    }
    let actual: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(actual == sha256)
}
