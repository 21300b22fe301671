//! Importing a USB bundle (sneakernet, `loket_sync::bundle`) with the same exactly-once rules as
//! the network: the device must be enrolled and not revoked, its signature must hold, pages must
//! match their hashes, and applications and audit entries go through the same idempotent store
//! functions as `/api/v1`, so importing twice — or importing and later syncing — changes nothing.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use loket_sync::bundle::{open_bundle, BundleError, BundleHeader};
use loket_sync::protocol::{SubmitOutcome, MAX_BATCH, MAX_CHUNK_BYTES};
use sha2::{Digest, Sha256};

use super::{AuditError, BackofficeStore, BlobError};

/// What one import did, for the district admin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Which device made the bundle and when.
    pub header: Option<BundleHeader>,
    /// Applications stored for the first time.
    pub stored: usize,
    /// Applications already held with identical content (a second import, or synced since).
    pub already_stored: usize,
    /// Applications whose id is held with other content: refused, nothing changed.
    pub conflicts: usize,
    /// Scan pages newly completed.
    pub pages_stored: usize,
    /// Scan pages already held.
    pub pages_already_held: usize,
    /// Audit entries newly stored.
    pub audit_stored: usize,
}

/// Why a bundle was refused; nothing of a refused part is stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Unreadable, altered, for another district, or from an unknown device.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The device was revoked before this import.
    #[error("perangkat {0} telah dicabut; bundelnya tidak diterima")]
    Revoked(String),
    /// A page's bytes do not match its name.
    #[error("halaman pindaian {0} rusak di dalam bundel")]
    PageHash(String),
    /// A page could not be stored.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The audit entries do not continue the device's chain.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The database failed.
    #[error("basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl BackofficeStore {
    /// Imports a bundle opened with the district's bundle secret (`IssuingKey::bundle_secret`).
    pub fn import_bundle(
        &mut self,
        bytes: &[u8],
        district_bundle_secret: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<ImportReport, ImportError> {
        let mut revoked = false;
        let mut lookup_failed = None;
        let (header, content) = open_bundle(bytes, district_bundle_secret, |device| {
            match self.device_auth(device) {
                Ok(Some(auth)) => {
                    revoked = auth.revoked_at.is_some();
                    Some(auth.public_key)
                }
                Ok(None) => None,
                Err(e) => {
                    lookup_failed = Some(e);
                    None
                }
            }
        })?;
        if let Some(e) = lookup_failed {
            return Err(e.into());
        }
        let device = header.device.clone();
        if revoked {
            return Err(ImportError::Revoked(format!(
                "{}/{}",
                device.village_code, device.device_no
            )));
        }
        let mut report = ImportReport {
            header: Some(header),
            ..ImportReport::default()
        };
        // Pages first, so a reviewer never sees an application whose scans are missing.
        for page in &content.pages {
            let data = base64::engine::general_purpose::STANDARD
                .decode(&page.bytes_base64)
                .map_err(|_| ImportError::PageHash(page.sha256.clone()))?;
            let actual = hex::encode(Sha256::digest(&data));
            if actual != page.sha256 {
                return Err(ImportError::PageHash(page.sha256.clone()));
            }
            let status = self.announce_blob(&device, &page.sha256, data.len() as u64, now)?;
            if status.complete {
                report.pages_already_held += 1;
                continue;
            }
            let mut offset = status.received;
            while offset < data.len() as u64 {
                let end = (offset as usize + MAX_CHUNK_BYTES).min(data.len());
                offset = self
                    .append_blob_chunk(&page.sha256, offset, &data[offset as usize..end], now)?
                    .received;
            }
            report.pages_stored += 1;
        }
        for batch in content.applications.chunks(MAX_BATCH) {
            for result in self.submit(&device, batch, now)? {
                match result.outcome {
                    SubmitOutcome::Stored => report.stored += 1,
                    SubmitOutcome::AlreadyStored => report.already_stored += 1,
                    SubmitOutcome::Conflict => report.conflicts += 1,
                }
            }
        }
        if !content.audit.is_empty() {
            report.audit_stored = self.receive_audit(&device, &content.audit, now)?.stored as usize;
        }
        Ok(report)
    }
}
