//! Scans of requirement documents, stored inside the (SQLCipher-encrypted) database and named by
//! the SHA-256 of their bytes. Keeping them in the same file as the applications means a scan is
//! encrypted with the same key and an application and its scan references commit in one
//! transaction; naming by content means the same paper attached twice is stored once.

use chrono::{DateTime, FixedOffset};
use loket_domain::ScanRef;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{hex, StoreError};

/// A processed page ready to store (`loket-scan` makes these from what the operator picked).
#[derive(Debug, Clone)]
pub struct NewScan {
    /// The compressed page.
    pub bytes: Vec<u8>,
    /// `image/jpeg`.
    pub media_type: String,
    /// A small image for the checklist (PNG or JPEG); may be empty for later pages.
    pub thumbnail: Vec<u8>,
}

pub(crate) fn put(
    conn: &Connection,
    scan: &NewScan,
    now: DateTime<FixedOffset>,
) -> Result<ScanRef, StoreError> {
    let sha256 = hex(&Sha256::digest(&scan.bytes));
    conn.execute(
        "INSERT INTO scans(sha256, media_type, size, pages, bytes, thumbnail, added_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)
         ON CONFLICT(sha256) DO UPDATE SET added_at = excluded.added_at",
        params![
            sha256,
            scan.media_type,
            scan.bytes.len() as i64,
            scan.bytes,
            scan.thumbnail,
            now.to_rfc3339()
        ],
    )?;
    reference(conn, &sha256)?.ok_or(StoreError::NotFound)
}

pub(crate) fn reference(conn: &Connection, sha256: &str) -> Result<Option<ScanRef>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT sha256, size, media_type FROM scans WHERE sha256 = ?1",
            [sha256],
            |r| {
                Ok(ScanRef {
                    sha256: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    media_type: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn column(
    conn: &Connection,
    sha256: &str,
    column: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = match column {
        "bytes" => "SELECT bytes FROM scans WHERE sha256 = ?1",
        _ => "SELECT thumbnail FROM scans WHERE sha256 = ?1",
    };
    // A purged page (`retention.rs`) keeps its row for the references, not its bytes.
    Ok(conn
        .query_row(sql, [sha256], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
        .filter(|b| !b.is_empty() || column != "bytes"))
}

/// Deletes scans no application refers to that were added before `before` (attached to a form
/// the operator then abandoned). Returns how many went.
pub(crate) fn purge_unreferenced(
    conn: &Connection,
    before: DateTime<FixedOffset>,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM scans WHERE added_at < ?1
           AND sha256 NOT IN (SELECT sha256 FROM application_scans)",
        [before.to_rfc3339()],
    )?)
}
