//! Corrections (docs/SYNC.md, "Return for correction and revisions"). Once saved, an
//! application is frozen: the back office may already hold and review it. Only when the back
//! office returns it for correction may the operator edit it, and the edit becomes the next
//! revision under the same application id and tracking number, with a fresh client-made revision
//! id. The replaced version is kept in `application_revisions`, so the history stays on the
//! laptop as it does on the server.

use chrono::{DateTime, FixedOffset};
use loket_domain::{Applicant, ApplicationStatus, ProvidedDocument, ServiceCode};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::{
    audit, outbox, parse_uuid, residents, scans, to_json, AuditAction, NewApplication, StoreError,
    StoredApplication, VillageStore,
};

/// A version of an application that a correction replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRevision {
    /// 0 for the original, n for the n-th correction.
    pub revision: u32,
    /// Client-made id of that revision (revisions ≥ 1).
    pub revision_id: Option<Uuid>,
    /// Which service (a correction never changes it).
    pub service: ServiceCode,
    /// The catalogue version that version was checked under.
    pub catalogue_version: String,
    /// The applicant as that version had it.
    pub data: Applicant,
    /// The service's own fields as that version had them.
    pub fields: BTreeMap<String, String>,
    /// The documents as that version had them.
    pub provided: Vec<ProvidedDocument>,
    /// Who captured the application.
    pub operator: String,
    /// When the application was captured.
    pub captured_at: DateTime<FixedOffset>,
    /// Why the back office returned that version.
    pub returned_reason: Option<String>,
    /// When the operator corrected it into the next revision.
    pub corrected_at: DateTime<FixedOffset>,
    /// Who corrected it.
    pub corrected_by: String,
}

impl VillageStore {
    /// Corrects an application the back office returned, in one transaction: the current
    /// version goes to the history, the row takes `new` (same service) as revision + 1 with
    /// `revision_id`, status `queued`, its outbox item is queued again, the scan references and
    /// residents follow, and the audit log records it. Any other status is
    /// [`StoreError::Frozen`] and nothing changes.
    pub fn correct(
        &mut self,
        id: Uuid,
        new: &NewApplication,
        operator: &str,
        now: DateTime<FixedOffset>,
        revision_id: Uuid,
    ) -> Result<StoredApplication, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (status, service): (String, String) = tx
            .query_row(
                "SELECT status, service FROM applications WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let status = ApplicationStatus::from_code(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status} of {id}")))?;
        if status != ApplicationStatus::Returned {
            return Err(StoreError::Frozen { status });
        }
        if service != new.service.code() {
            return Err(StoreError::ServiceChanged);
        }
        for p in &new.provided {
            for page in &p.pages {
                if scans::reference(&tx, &page.sha256)?.is_none() {
                    return Err(StoreError::MissingScan {
                        slot: p.slot.clone(),
                    });
                }
            }
        }
        let id_text = id.to_string();
        tx.execute(
            "INSERT INTO application_revisions(application_id, revision, revision_id, service,
                catalogue_version, data, fields, provided, operator, captured_at, returned_reason,
                corrected_at, corrected_by)
             SELECT id, revision, revision_id, service, catalogue_version, data, fields, provided,
                    operator, captured_at, reason, ?2, ?3
             FROM applications WHERE id = ?1",
            params![id_text, now.to_rfc3339(), operator],
        )?;
        tx.execute(
            "UPDATE applications SET data = ?2, fields = ?3, provided = ?4, catalogue_version = ?5,
                revision = revision + 1, revision_id = ?6, status = 'queued', reason = NULL
             WHERE id = ?1",
            params![
                id_text,
                to_json(&new.applicant)?,
                to_json(&new.fields)?,
                to_json(&new.provided)?,
                new.catalogue_version,
                revision_id.to_string(),
            ],
        )?;
        tx.execute(
            "DELETE FROM application_scans WHERE application_id = ?1",
            [&id_text],
        )?;
        for p in &new.provided {
            for (n, page) in p.pages.iter().enumerate() {
                tx.execute(
                    "INSERT INTO application_scans(application_id, slot, sha256)
                     VALUES (?1, ?2, ?3)",
                    params![id_text, format!("{}/{}", p.slot, n + 1), page.sha256],
                )?;
            }
        }
        residents::learn(&tx, &new.applicant, &new.fields, now)?;
        outbox::requeue_revision(&tx, id)?;
        audit::append(&tx, operator, AuditAction::Corrected, &id_text, now)?;
        tx.commit()?;
        self.application(id)
    }

    /// The versions corrections replaced, oldest first (empty for an application never
    /// corrected); the current version is [`VillageStore::application`].
    pub fn revisions(&self, id: Uuid) -> Result<Vec<StoredRevision>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT revision, revision_id, service, catalogue_version, data, fields, provided,
                    operator, captured_at, returned_reason, corrected_at, corrected_by
             FROM application_revisions WHERE application_id = ?1 ORDER BY revision",
        )?;
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            u32,
            Option<String>,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            String,
        )> = stmt
            .query_map([id.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(
                |(
                    revision,
                    revision_id,
                    service,
                    catalogue_version,
                    data,
                    fields,
                    provided,
                    operator,
                    captured_at,
                    returned_reason,
                    corrected_at,
                    corrected_by,
                )| {
                    let corrupt =
                        |what: &str| StoreError::Corrupt(format!("{what} of revision {revision}"));
                    Ok(StoredRevision {
                        revision,
                        revision_id: revision_id.as_deref().map(parse_uuid).transpose()?,
                        service: ServiceCode::parse(&service).map_err(|_| corrupt("service"))?,
                        catalogue_version,
                        data: serde_json::from_str(&data).map_err(|_| corrupt("form data"))?,
                        fields: serde_json::from_str(&fields)
                            .map_err(|_| corrupt("service fields"))?,
                        provided: serde_json::from_str(&provided)
                            .map_err(|_| corrupt("provided documents"))?,
                        operator,
                        captured_at: DateTime::parse_from_rfc3339(&captured_at)
                            .map_err(|_| corrupt("capture time"))?,
                        returned_reason,
                        corrected_at: DateTime::parse_from_rfc3339(&corrected_at)
                            .map_err(|_| corrupt("correction time"))?,
                        corrected_by,
                    })
                },
            )
            .collect()
    }
}
