//! Data minimisation (UU 27/2022 Ps 16): once the back office holds an application's scans, the
//! laptop keeps them only for the district's retention period, then deletes the bytes. The
//! application record, its page hashes and the audit trail stay; each purge is audited.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rusqlite::{params, TransactionBehavior};

use crate::{audit, AuditAction, StoreError, VillageStore};

/// Days a laptop keeps scans the back office already holds, unless the district set another
/// period (`SCAN_RETENTION_SETTING`).
pub const DEFAULT_SCAN_RETENTION_DAYS: i64 = 30;

/// Setting that holds the district's retention period in days.
pub const SCAN_RETENTION_SETTING: &str = "scan_retention_days";

impl VillageStore {
    /// The retention period in force: the district's setting, else the default.
    pub fn scan_retention(&self) -> Result<Duration, StoreError> {
        let days = self
            .setting(SCAN_RETENTION_SETTING)?
            .and_then(|d| d.trim().parse::<i64>().ok())
            .filter(|d| (0..=3650).contains(d))
            .unwrap_or(DEFAULT_SCAN_RETENTION_DAYS);
        Ok(Duration::days(days))
    }

    /// Deletes the bytes of scan pages the back office confirmed holding (upload complete)
    /// longer than the retention period ago, when every application using them is acknowledged
    /// or decided (never one waiting to be sent, returned for correction, or being corrected). One transaction; one audit entry
    /// per application whose scans went. Returns the number of pages purged.
    pub fn purge_uploaded_scans(
        &mut self,
        now: DateTime<FixedOffset>,
        actor: &str,
    ) -> Result<usize, StoreError> {
        // Same text form as `scan_uploads.completed_at`, so the comparison is chronological.
        let cutoff = (now.with_timezone(&Utc) - self.scan_retention()?)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let due: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT u.sha256 FROM scan_uploads u JOIN scans s ON s.sha256 = u.sha256
                 WHERE u.complete = 1 AND u.completed_at IS NOT NULL AND u.completed_at < ?1
                   AND length(s.bytes) > 0
                   AND NOT EXISTS (
                       SELECT 1 FROM application_scans a
                       JOIN outbox o ON o.application_id = a.application_id
                       JOIN applications p ON p.id = a.application_id
                       WHERE a.sha256 = u.sha256
                         AND (o.state NOT IN ('acknowledged', 'decided')
                              OR p.status = 'returned'))",
            )?;
            let rows = stmt.query_map([&cutoff], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut apps = std::collections::BTreeSet::new();
        for sha in &due {
            tx.execute(
                "UPDATE scans SET bytes = x'', thumbnail = x'' WHERE sha256 = ?1",
                params![sha],
            )?;
            let mut stmt = tx.prepare(
                "SELECT DISTINCT application_id FROM application_scans WHERE sha256 = ?1",
            )?;
            for id in stmt.query_map([sha], |r| r.get::<_, String>(0))? {
                apps.insert(id?);
            }
        }
        for id in &apps {
            audit::append(&tx, actor, AuditAction::PurgedScans, id, now)?;
        }
        tx.commit()?;
        Ok(due.len())
    }
}
