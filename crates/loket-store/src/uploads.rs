//! Upload state of scan pages on their way to the back office (the attachment lane of sync).
//!
//! A page becomes due once an application that refers to it is acknowledged by the back office
//! (outbox state `acknowledged` or `decided`): the small application records never wait behind
//! megabytes of scans on a 2G link, and pages of an application the server refused are never
//! sent. Per page (by SHA-256, so a page shared by two applications goes once) the laptop keeps
//! how many bytes the server acknowledged, whether it holds the whole page, failed tries and the
//! last error in plain language. The server's own offset is authoritative; the one kept here is
//! for progress bars and diagnostics. A row outlives the scan's bytes, so a later retention purge
//! still knows the page reached the district.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::{StoreError, VillageStore};

/// Outbox states in which the back office holds the application, so its pages may go.
const SERVER_HOLDS_APPLICATION: &str = "('acknowledged', 'decided')";

/// A scan page that still has to reach the back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The page's SHA-256 (its name on both sides).
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Bytes the server acknowledged so far (as last heard).
    pub uploaded: u64,
    /// Failed tries so far.
    pub attempts: u32,
    /// Why the last try failed, in Bahasa Indonesia.
    pub last_error: Option<String>,
}

/// One page's upload record, whatever its state, for the operator's diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// The page's SHA-256.
    pub sha256: String,
    /// Bytes the server acknowledged (as last heard).
    pub uploaded: u64,
    /// The server holds the whole page and checked its hash.
    pub complete: bool,
    /// Given up until the operator retries (the page on this laptop is unusable).
    pub failed: bool,
    /// Failed tries so far.
    pub attempts: u32,
    /// Why the last try failed, in Bahasa Indonesia.
    pub last_error: Option<String>,
}

/// Totals for the attachment lane's status line and progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSummary {
    /// Pages due for upload (their application is acknowledged), not yet complete.
    pub pending_pages: u64,
    /// Total size of the pending pages.
    pub pending_bytes: u64,
    /// Of those bytes, how many the server already acknowledged.
    pub acknowledged_bytes: u64,
    /// Pages the server holds whole.
    pub complete_pages: u64,
    /// Pages given up until the operator retries.
    pub failed_pages: u64,
}

impl VillageStore {
    /// At most `limit` pages due for upload, the oldest application's first: pages of
    /// applications the back office acknowledged that it does not hold whole yet.
    pub fn pending_uploads(&self, limit: usize) -> Result<Vec<PendingUpload>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT s.sha256, s.size, COALESCE(u.uploaded, 0), COALESCE(u.attempts, 0), u.last_error
             FROM scans s LEFT JOIN scan_uploads u ON u.sha256 = s.sha256
             WHERE COALESCE(u.complete, 0) = 0 AND COALESCE(u.failed, 0) = 0
               AND EXISTS (SELECT 1 FROM application_scans x
                           JOIN outbox o ON o.application_id = x.application_id
                           WHERE x.sha256 = s.sha256 AND o.state IN {SERVER_HOLDS_APPLICATION})
             ORDER BY (SELECT MIN(a.rowid) FROM application_scans x
                       JOIN applications a ON a.id = x.application_id
                       WHERE x.sha256 = s.sha256), s.sha256
             LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit.min(i64::MAX as usize) as i64], |r| {
                Ok(PendingUpload {
                    sha256: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    uploaded: r.get::<_, i64>(2)? as u64,
                    attempts: r.get(3)?,
                    last_error: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records how many bytes of a page the server acknowledged, right after it did, so the
    /// progress bar survives a restart.
    pub fn record_upload_offset(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO scan_uploads(sha256, uploaded) VALUES (?1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET uploaded = excluded.uploaded",
            params![sha256, offset as i64],
        )?;
        Ok(())
    }

    /// The server holds the whole page and its hash checked out: it is never sent again.
    pub fn mark_upload_complete(&self, sha256: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO scan_uploads(sha256, uploaded, complete, completed_at)
             VALUES (?1, COALESCE((SELECT size FROM scans WHERE sha256 = ?1), 0), 1,
                     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT(sha256) DO UPDATE SET uploaded = excluded.uploaded, complete = 1,
                failed = 0, last_error = NULL,
                completed_at = COALESCE(scan_uploads.completed_at, excluded.completed_at)",
            [sha256],
        )?;
        Ok(())
    }

    /// A try that may work later failed (network, server busy): counted, with the reason the
    /// operator reads; the page stays due.
    pub fn record_upload_error(&self, sha256: &str, message: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO scan_uploads(sha256, attempts, last_error) VALUES (?1, 1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET attempts = attempts + 1,
                last_error = excluded.last_error",
            params![sha256, message],
        )?;
        Ok(())
    }

    /// The page cannot be sent as it is (its bytes here are gone or do not match their hash, or
    /// the server refuses it for good): it stops being retried and stays visible with `message`
    /// until the operator acts ([`VillageStore::retry_failed_uploads`]).
    pub fn mark_upload_failed(&self, sha256: &str, message: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO scan_uploads(sha256, failed, attempts, last_error) VALUES (?1, 1, 1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET failed = 1, attempts = attempts + 1,
                last_error = excluded.last_error",
            params![sha256, message],
        )?;
        Ok(())
    }

    /// The operator's "retry now" for pages given up on: they are due again (reasons kept until
    /// the next try). Returns how many.
    pub fn retry_failed_uploads(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("UPDATE scan_uploads SET failed = 0 WHERE failed = 1", [])?)
    }

    /// One page's upload record; `None` before its first try.
    pub fn upload_state(&self, sha256: &str) -> Result<Option<UploadState>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT sha256, uploaded, complete, failed, attempts, last_error
                 FROM scan_uploads WHERE sha256 = ?1",
                [sha256],
                row_to_state,
            )
            .optional()?)
    }

    /// Pages given up on, with their reasons, for the operator.
    pub fn failed_uploads(&self) -> Result<Vec<UploadState>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT sha256, uploaded, complete, failed, attempts, last_error
             FROM scan_uploads WHERE failed = 1 ORDER BY sha256",
        )?;
        let rows = stmt
            .query_map([], row_to_state)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Totals for the attachment lane's status line.
    pub fn upload_summary(&self) -> Result<UploadSummary, StoreError> {
        let (pending_pages, pending_bytes, acknowledged_bytes) = self.conn.query_row(
            &format!(
                "SELECT COUNT(*), COALESCE(SUM(s.size), 0), COALESCE(SUM(COALESCE(u.uploaded, 0)), 0)
                 FROM scans s LEFT JOIN scan_uploads u ON u.sha256 = s.sha256
                 WHERE COALESCE(u.complete, 0) = 0 AND COALESCE(u.failed, 0) = 0
                   AND EXISTS (SELECT 1 FROM application_scans x
                               JOIN outbox o ON o.application_id = x.application_id
                               WHERE x.sha256 = s.sha256 AND o.state IN {SERVER_HOLDS_APPLICATION})"
            ),
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        let (complete_pages, failed_pages) = self.conn.query_row(
            "SELECT COALESCE(SUM(complete), 0), COALESCE(SUM(failed), 0) FROM scan_uploads",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        Ok(UploadSummary {
            pending_pages: pending_pages as u64,
            pending_bytes: pending_bytes as u64,
            acknowledged_bytes: acknowledged_bytes as u64,
            complete_pages: complete_pages as u64,
            failed_pages: failed_pages as u64,
        })
    }
}

fn row_to_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadState> {
    Ok(UploadState {
        sha256: r.get(0)?,
        uploaded: r.get::<_, i64>(1)? as u64,
        complete: r.get(2)?,
        failed: r.get(3)?,
        attempts: r.get(4)?,
        last_error: r.get(5)?,
    })
}
