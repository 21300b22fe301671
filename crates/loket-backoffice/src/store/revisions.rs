//! Return for correction and revisions (docs/SYNC.md, "Return for correction and revisions").
//!
//! A reviewer sends an application under review back to its village with a reason; the village
//! corrects it and sends the next revision under the same application id, with a client-made
//! revision id. What the back office holds is frozen: a revision replaces it only while it is
//! returned, and the replaced version stays in `application_revisions` with when and why it was
//! returned, so the history is complete. Every push goes through [`submit_one`], whose rules make
//! resending (network or USB bundle) change nothing.

use chrono::{DateTime, Utc};
use loket_domain::{Applicant, ApplicationStatus, Lang, ProvidedDocument, ServiceCode};
use loket_sync::protocol::{ApplicationEnvelope, DeviceRef, SubmitOutcome, SubmitResult};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

use super::{content_hash, to_sql_err, BackofficeStore, DecisionError};

/// Migration (appended to the store's list): the revision each application is at, and every
/// version a correction replaced.
pub(super) const MIGRATION: &str = "
    ALTER TABLE applications ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE applications ADD COLUMN revision_id TEXT;
    -- When the current revision arrived; NULL for revision 0 (then it is received_at).
    ALTER TABLE applications ADD COLUMN revision_received_at TEXT;
    CREATE TABLE application_revisions (
        application_id TEXT NOT NULL REFERENCES applications(id),
        revision INTEGER NOT NULL,
        revision_id TEXT,
        content_sha256 TEXT NOT NULL,
        operator TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        catalogue_version TEXT NOT NULL,
        data TEXT NOT NULL,
        fields TEXT NOT NULL,
        provided TEXT NOT NULL,
        received_at TEXT NOT NULL,
        returned_at TEXT NOT NULL,
        return_reason TEXT NOT NULL,
        PRIMARY KEY (application_id, revision)
    ) WITHOUT ROWID;
";

/// One version of an application as the back office received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRevision {
    /// 0 for the original, n for the n-th correction.
    pub revision: u32,
    /// The village's id of this revision (revisions ≥ 1).
    pub revision_id: Option<Uuid>,
    /// When the back office received this version.
    pub received_at: DateTime<Utc>,
    /// The catalogue version it was captured under.
    pub catalogue_version: String,
    /// The applicant as this version had it.
    pub data: Applicant,
    /// The service's own fields as this version had them.
    pub fields: BTreeMap<String, String>,
    /// The documents as this version had them.
    pub provided: Vec<ProvidedDocument>,
    /// When and why a reviewer returned this version, if one did.
    pub returned: Option<(DateTime<Utc>, String)>,
}

/// One difference between two revisions, worded for reviewers: "what: old → new".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionChange {
    /// The field or document, as reviewers read it.
    pub what: String,
    /// Its value before ("—" when absent).
    pub old: String,
    /// Its value after ("—" when absent).
    pub new: String,
}

impl BackofficeStore {
    /// Sends an application under review back to its village with a reason the operator and
    /// resident read; the status and the device's feed entry commit together.
    pub fn return_for_correction(
        &mut self,
        id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DecisionError> {
        self.decide_with_reason(
            id,
            ApplicationStatus::Returned,
            reason,
            DecisionError::ReturnReasonRequired,
            now,
        )
    }

    /// Every version of an application, oldest first, the current one last; empty when the id
    /// is unknown.
    pub fn revisions(&self, id: Uuid) -> rusqlite::Result<Vec<ApplicationRevision>> {
        let mut stmt = self.conn.prepare(
            "SELECT revision, revision_id, received_at, catalogue_version, data, fields, provided,
                    returned_at, return_reason
             FROM application_revisions WHERE application_id = ?1
             UNION ALL
             SELECT revision, revision_id, COALESCE(revision_received_at, received_at),
                    catalogue_version, data, fields, provided,
                    CASE WHEN status = 'returned' THEN decided_at END,
                    CASE WHEN status = 'returned' THEN reason END
             FROM applications WHERE id = ?1
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            let revision_id: Option<String> = r.get(1)?;
            let received_at: String = r.get(2)?;
            let returned_at: Option<String> = r.get(7)?;
            let reason: Option<String> = r.get(8)?;
            let returned = match (returned_at, reason) {
                (Some(at), Some(reason)) => {
                    Some((at.parse().map_err(|e| to_sql_err(7, e))?, reason))
                }
                _ => None,
            };
            Ok(ApplicationRevision {
                revision: r.get(0)?,
                revision_id: revision_id
                    .map(|s| Uuid::parse_str(&s).map_err(|e| to_sql_err(1, e)))
                    .transpose()?,
                received_at: received_at.parse().map_err(|e| to_sql_err(2, e))?,
                catalogue_version: r.get(3)?,
                data: serde_json::from_str(&r.get::<_, String>(4)?)
                    .map_err(|e| to_sql_err(4, e))?,
                fields: serde_json::from_str(&r.get::<_, String>(5)?)
                    .map_err(|e| to_sql_err(5, e))?,
                provided: serde_json::from_str(&r.get::<_, String>(6)?)
                    .map_err(|e| to_sql_err(6, e))?,
                returned,
            })
        })?;
        rows.collect()
    }
}

/// What the back office holds of one application id, for the submit rules.
struct Held {
    content_sha256: String,
    status: String,
    received_at: String,
    revision: u32,
    revision_id: Option<String>,
    village_code: String,
    device_no: u16,
    tracking_number: String,
    service: String,
}

/// Stores one pushed application exactly once, inside the caller's transaction:
///
/// - unknown id: stored, if it is revision 0 (a correction of something never received is a
///   conflict);
/// - the revision held, or an earlier one, with the same content: `already_stored`, nothing
///   changes; other content under it: `conflict`;
/// - the next revision (held + 1) of an application that is returned, from the device that sent
///   it, same tracking number and service, with a revision id not used before: stored as the new
///   current version, the old one kept in `application_revisions`, status back to `received` and
///   an entry on the device's feed;
/// - anything else (a skipped revision, a revision of an application that is not returned): a
///   `conflict` with the reason in `message`.
pub(super) fn submit_one(
    tx: &Transaction<'_>,
    device: &DeviceRef,
    env: &ApplicationEnvelope,
    now: DateTime<Utc>,
) -> rusqlite::Result<SubmitResult> {
    let hash = content_hash(env);
    let held: Option<Held> = tx
        .query_row(
            "SELECT content_sha256, status, received_at, revision, revision_id, village_code,
                    device_no, tracking_number, service
             FROM applications WHERE id = ?1",
            [env.id.to_string()],
            |r| {
                Ok(Held {
                    content_sha256: r.get(0)?,
                    status: r.get(1)?,
                    received_at: r.get(2)?,
                    revision: r.get(3)?,
                    revision_id: r.get(4)?,
                    village_code: r.get(5)?,
                    device_no: r.get(6)?,
                    tracking_number: r.get(7)?,
                    service: r.get(8)?,
                })
            },
        )
        .optional()?;
    let Some(held) = held else {
        if env.revision != 0 {
            return Ok(conflict(
                env,
                ApplicationStatus::Queued,
                now,
                format!(
                    "Revisi {} ditolak: permohonan ini belum pernah diterima Disdukcapil.",
                    env.revision
                ),
            ));
        }
        insert_original(tx, device, env, &hash, now)?;
        return Ok(SubmitResult {
            id: env.id,
            outcome: SubmitOutcome::Stored,
            status: ApplicationStatus::Received,
            received_at: now,
            message: None,
        });
    };
    let status = ApplicationStatus::from_code(&held.status).unwrap_or(ApplicationStatus::Received);
    let received_at = held.received_at.parse().unwrap_or(now);
    let answer = |outcome: SubmitOutcome, message: Option<String>| SubmitResult {
        id: env.id,
        outcome,
        status,
        received_at,
        message,
    };
    if env.revision <= held.revision {
        let stored_hash = if env.revision == held.revision {
            Some(held.content_sha256.clone())
        } else {
            tx.query_row(
                "SELECT content_sha256 FROM application_revisions
                 WHERE application_id = ?1 AND revision = ?2",
                params![env.id.to_string(), env.revision],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        };
        return Ok(if stored_hash.as_deref() == Some(hash.as_str()) {
            answer(SubmitOutcome::AlreadyStored, None)
        } else {
            answer(
                SubmitOutcome::Conflict,
                Some(format!(
                    "ID permohonan (revisi {}) sudah dipakai dengan isi berbeda di server \
                     Disdukcapil.",
                    env.revision
                )),
            )
        });
    }
    let refuse = |why: String| Ok(answer(SubmitOutcome::Conflict, Some(why)));
    if env.revision > held.revision + 1 {
        return refuse(format!(
            "Revisi {} ditolak: Disdukcapil memegang revisi {}, jadi revisi berikutnya harus {}.",
            env.revision,
            held.revision,
            held.revision + 1
        ));
    }
    if status != ApplicationStatus::Returned {
        return refuse(format!(
            "Revisi {} ditolak: permohonan tidak sedang dikembalikan untuk perbaikan (status: {}).",
            env.revision,
            status.label(Lang::Id)
        ));
    }
    if held.village_code != device.village_code || held.device_no != device.device_no {
        return refuse("Revisi ditolak: permohonan ini dikirim oleh perangkat lain.".into());
    }
    if held.tracking_number != env.tracking_number || held.service != env.service.code() {
        return refuse(
            "Revisi ditolak: nomor registrasi dan layanan tidak boleh berubah dalam perbaikan."
                .into(),
        );
    }
    let Some(revision_id) = env.revision_id else {
        return refuse(format!(
            "Revisi {} ditolak: revisi tidak membawa ID revisi.",
            env.revision
        ));
    };
    let used_before = held.revision_id.as_deref() == Some(revision_id.to_string().as_str())
        || tx
            .query_row(
                "SELECT 1 FROM application_revisions WHERE application_id = ?1 AND revision_id = ?2",
                params![env.id.to_string(), revision_id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
    if used_before {
        return refuse(format!(
            "Revisi {} ditolak: ID revisinya sudah dipakai untuk revisi lain.",
            env.revision
        ));
    }
    store_next_revision(tx, env, &hash, revision_id, device, now)?;
    Ok(SubmitResult {
        id: env.id,
        outcome: SubmitOutcome::Stored,
        status: ApplicationStatus::Received,
        received_at,
        message: None,
    })
}

fn conflict(
    env: &ApplicationEnvelope,
    status: ApplicationStatus,
    now: DateTime<Utc>,
    message: String,
) -> SubmitResult {
    SubmitResult {
        id: env.id,
        outcome: SubmitOutcome::Conflict,
        status,
        received_at: now,
        message: Some(message),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("wire types serialise")
}

fn insert_original(
    tx: &Transaction<'_>,
    device: &DeviceRef,
    env: &ApplicationEnvelope,
    hash: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO applications(id, village_code, device_no, tracking_number,
            service, data, operator, captured_at, content_sha256, received_at, status,
            catalogue_version, fields, provided)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'received', ?11, ?12, ?13)",
        params![
            env.id.to_string(),
            device.village_code,
            device.device_no,
            env.tracking_number,
            env.service.code(),
            json(&env.data),
            env.operator,
            env.captured_at.to_rfc3339(),
            hash,
            now.to_rfc3339(),
            env.catalogue_version,
            json(&env.fields),
            json(&env.provided),
        ],
    )?;
    Ok(())
}

/// Keeps the current (returned) version in the history, makes `env` the current one and puts
/// it back under review, with a feed entry so the village sees `received` again.
fn store_next_revision(
    tx: &Transaction<'_>,
    env: &ApplicationEnvelope,
    hash: &str,
    revision_id: Uuid,
    device: &DeviceRef,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let id = env.id.to_string();
    tx.execute(
        "INSERT INTO application_revisions(application_id, revision, revision_id, content_sha256,
            operator, captured_at, catalogue_version, data, fields, provided, received_at,
            returned_at, return_reason)
         SELECT id, revision, revision_id, content_sha256, operator, captured_at,
                catalogue_version, data, fields, provided,
                COALESCE(revision_received_at, received_at), decided_at, reason
         FROM applications WHERE id = ?1",
        [&id],
    )?;
    tx.execute(
        "UPDATE applications SET data = ?2, operator = ?3, captured_at = ?4, content_sha256 = ?5,
            catalogue_version = ?6, fields = ?7, provided = ?8, revision = ?9, revision_id = ?10,
            revision_received_at = ?11, status = 'received', reason = NULL, decided_at = NULL
         WHERE id = ?1",
        params![
            id,
            json(&env.data),
            env.operator,
            env.captured_at.to_rfc3339(),
            hash,
            env.catalogue_version,
            json(&env.fields),
            json(&env.provided),
            env.revision,
            revision_id.to_string(),
            now.to_rfc3339(),
        ],
    )?;
    tx.execute(
        "INSERT INTO events(application_id, village_code, device_no, status, changed_at)
         VALUES (?1, ?2, ?3, 'received', ?4)",
        params![id, device.village_code, device.device_no, now.to_rfc3339()],
    )?;
    Ok(())
}

/// What changed from `old` to `new`, for the reviewer's history: applicant, service fields
/// (worded as the catalogue words them) and documents (page count and first page hashes).
pub fn revision_changes(
    service: &ServiceCode,
    old: &ApplicationRevision,
    new: &ApplicationRevision,
) -> Vec<RevisionChange> {
    let mut out = Vec::new();
    let mut push = |what: &str, old: String, new: String| {
        if old != new {
            out.push(RevisionChange {
                what: what.to_string(),
                old,
                new,
            });
        }
    };
    let (a, b) = (&old.data, &new.data);
    push("NIK", a.nik.to_string(), b.nik.to_string());
    push("Nama lengkap", a.full_name.clone(), b.full_name.clone());
    push("Tempat lahir", a.birth_place.clone(), b.birth_place.clone());
    push(
        "Tanggal lahir",
        a.birth_date.format("%d-%m-%Y").to_string(),
        b.birth_date.format("%d-%m-%Y").to_string(),
    );
    push(
        "Jenis kelamin",
        a.sex.label(Lang::Id).into(),
        b.sex.label(Lang::Id).into(),
    );
    push("Alamat", a.address.clone(), b.address.clone());
    push("Telepon", or_dash(&a.phone), or_dash(&b.phone));
    let cat = loket_catalogue::catalogue();
    let spec = cat.service(service.code());
    let described = |key: &str, value: Option<&String>| -> (String, String) {
        let raw = value.cloned().unwrap_or_default();
        let one = BTreeMap::from([(key.to_string(), raw.clone())]);
        spec.and_then(|s| s.describe_fields(&one, Lang::Id).into_iter().next())
            .map(|(label, shown)| (label, if raw.is_empty() { "—".into() } else { shown }))
            .unwrap_or_else(|| (key.to_string(), or_dash(&raw)))
    };
    let keys: BTreeSet<&String> = old.fields.keys().chain(new.fields.keys()).collect();
    let order = |k: &str| spec.and_then(|s| s.fields.iter().position(|f| f.id == k));
    let mut keys: Vec<&String> = keys.into_iter().collect();
    keys.sort_by_key(|k| (order(k).is_none(), order(k)));
    for key in keys {
        let (label, before) = described(key, old.fields.get(key));
        let (_, after) = described(key, new.fields.get(key));
        push(&label, before, after);
    }
    let pages = |docs: &[ProvidedDocument], slot: &str| -> String {
        match docs.iter().find(|p| p.slot == slot) {
            None => "—".into(),
            Some(p) if p.pages.is_empty() => "diperiksa petugas".into(),
            Some(p) => format!(
                "pindaian {} hlm ({})",
                p.pages.len(),
                p.pages
                    .iter()
                    .map(|s| s.sha256.chars().take(8).collect::<String>())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    let slots: BTreeSet<&str> = old
        .provided
        .iter()
        .chain(&new.provided)
        .map(|p| p.slot.as_str())
        .collect();
    for slot in slots {
        push(
            &cat.slot_label(slot, Lang::Id),
            pages(&old.provided, slot),
            pages(&new.provided, slot),
        );
    }
    if old.catalogue_version != new.catalogue_version {
        out.push(RevisionChange {
            what: "Katalog layanan".into(),
            old: old.catalogue_version.clone(),
            new: new.catalogue_version.clone(),
        });
    }
    out
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "—".into()
    } else {
        s.to_string()
    }
}
