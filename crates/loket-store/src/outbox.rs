//! The durable outbox: one row per application with an explicit state, so nothing is ever
//! dropped silently.
//!
//! ```text
//!            mark_sending            answer: stored / already stored
//!   queued ───────────────▶ sending ─────────────────────────────────▶ acknowledged ──▶ decided
//!     ▲ ▲                     │  │         (decided at once when the back    (issued, rejected,
//!     │ │  schedule_retry     │  │          office already decided it)        returned)
//!     │ └─────────────────────┘  │ conflict (same id, other content)
//!     │   requeue_interrupted    ▼
//!     └──── retry_now(id) ─── failed_permanent   (kept, with its reason, until the operator acts)
//! ```
//!
//! A returned application the operator corrects goes from `decided` back to `queued` with a fresh
//! attempt count (`requeue_revision`): its next revision is a new item to send.
//!
//! Times are UTC RFC 3339 with milliseconds and a `Z`, so text order is time order.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use loket_domain::ApplicationStatus;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{parse_uuid, StoreError};

/// Where one application stands on its way to the back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent (again); `next_retry_at` says from when.
    Queued,
    /// Put on the wire by a pass that has not seen the answer yet. A pass that finds an item
    /// here (the app or laptop died mid-request) sends it again: the server is idempotent.
    Sending,
    /// The back office holds it; a reviewer will decide.
    Acknowledged,
    /// The back office issued, rejected or returned it.
    Decided,
    /// Refused for good (e.g. the id is known there with other content); kept with its reason
    /// until the operator retries it.
    FailedPermanent,
}

impl OutboxState {
    /// The code stored in SQLite and shown to the UI.
    pub fn code(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Acknowledged => "acknowledged",
            OutboxState::Decided => "decided",
            OutboxState::FailedPermanent => "failed_permanent",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            OutboxState::Queued,
            OutboxState::Sending,
            OutboxState::Acknowledged,
            OutboxState::Decided,
            OutboxState::FailedPermanent,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Whether the item still has to reach the back office (or needs the operator).
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            OutboxState::Queued | OutboxState::Sending | OutboxState::FailedPermanent
        )
    }

    /// The state an item takes when the back office reports `status` for it.
    pub fn for_server_status(status: ApplicationStatus) -> Self {
        match status {
            ApplicationStatus::Queued | ApplicationStatus::Received => OutboxState::Acknowledged,
            // Issued, rejected, and whatever decision the back office learns to make later.
            _ => OutboxState::Decided,
        }
    }
}

/// One outbox row with what the operator needs to recognise the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The application id (the idempotency key).
    pub id: Uuid,
    /// Printed on the receipt.
    pub tracking_number: String,
    /// The applicant's name.
    pub full_name: String,
    /// The service code.
    pub service: String,
    /// When the application was captured.
    pub captured_at: DateTime<FixedOffset>,
    /// Where it stands.
    pub state: OutboxState,
    /// How many times it was put on the wire (or found interrupted there).
    pub attempts: u32,
    /// Not before this time (automatic passes); `None` means at the next pass.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// When it was last put on the wire.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed, in plain Bahasa Indonesia.
    pub last_error: Option<String>,
}

/// What the laptop records when a pass finds an item still `sending`.
pub const INTERRUPTED_MESSAGE: &str =
    "Pengiriman sebelumnya terputus sebelum server menjawab; dikirim ulang (aman, tidak tergandakan).";

pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("waktu antrean tidak sah: {s}")))
}

/// Pending items (queued, sending, failed for good), oldest application first.
pub(crate) fn pending_items(conn: &Connection) -> Result<Vec<OutboxItem>, StoreError> {
    items_where(
        conn,
        "o.state IN ('queued', 'sending', 'failed_permanent')",
        [],
    )
}

/// One item in any state.
pub(crate) fn item(conn: &Connection, id: Uuid) -> Result<Option<OutboxItem>, StoreError> {
    Ok(
        items_where(conn, "o.application_id = ?1", [id.to_string()])?
            .into_iter()
            .next(),
    )
}

fn items_where<P: rusqlite::Params>(
    conn: &Connection,
    condition: &str,
    params: P,
) -> Result<Vec<OutboxItem>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT o.application_id, a.tracking_number, COALESCE(json_extract(a.data, '$.full_name'), ''),
                a.service, a.captured_at, o.state, o.attempts, o.next_retry_at, o.last_attempt_at,
                o.last_error
         FROM outbox o JOIN applications a ON a.id = o.application_id
         WHERE {condition}
         ORDER BY a.captured_at, a.rowid"
    ))?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = stmt
        .query_map(params, |r| {
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
            ))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(
            |(id, tracking, name, service, captured, state, attempts, next, last, error)| {
                Ok(OutboxItem {
                    id: parse_uuid(&id)?,
                    captured_at: DateTime::parse_from_rfc3339(&captured)
                        .map_err(|_| StoreError::Corrupt(format!("capture time of {tracking}")))?,
                    state: OutboxState::from_code(&state).ok_or_else(|| {
                        StoreError::Corrupt(format!("outbox state {state} of {tracking}"))
                    })?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    next_retry_at: next.as_deref().map(parse_time).transpose()?,
                    last_attempt_at: last.as_deref().map(parse_time).transpose()?,
                    last_error: error,
                    tracking_number: tracking,
                    full_name: name,
                    service,
                })
            },
        )
        .collect()
}

/// Queued items become `sending`, in one transaction; returns how many changed.
pub(crate) fn mark_sending(
    conn: &mut Connection,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let mut changed = 0;
    {
        let mut stmt = tx.prepare(
            "UPDATE outbox SET state = 'sending', last_attempt_at = ?2
             WHERE application_id = ?1 AND state = 'queued'",
        )?;
        for id in ids {
            changed += stmt.execute(params![id.to_string(), time_text(now)])?;
        }
    }
    tx.commit()?;
    Ok(changed)
}

/// Items left `sending` by a pass that never saw the answer go back to `queued`, due at once,
/// the interrupted attempt counted and explained. Returns how many.
pub(crate) fn requeue_interrupted(
    conn: &mut Connection,
    ids: &[Uuid],
) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let mut changed = 0;
    {
        let mut stmt = tx.prepare(
            "UPDATE outbox SET state = 'queued', attempts = attempts + 1, next_retry_at = NULL,
                last_error = ?2
             WHERE application_id = ?1 AND state = 'sending'",
        )?;
        for id in ids {
            changed += stmt.execute(params![id.to_string(), INTERRUPTED_MESSAGE])?;
        }
    }
    tx.commit()?;
    Ok(changed)
}

/// A request refused for a reason of the laptop, not of the item (not enrolled, revoked, clock
/// wrong, certificate): back to `queued`, due at once, no attempt counted, the reason shown, so
/// the first sync after the operator fixes it sends everything.
pub(crate) fn hold_for_device(
    conn: &Connection,
    ids: &[Uuid],
    message: &str,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    for id in ids {
        changed += conn.execute(
            "UPDATE outbox SET state = 'queued', next_retry_at = NULL, last_error = ?2
             WHERE application_id = ?1 AND state IN ('queued', 'sending')",
            params![id.to_string(), message],
        )?;
    }
    Ok(changed)
}

/// A corrected application is a new item to send: back to `queued` from wherever it stood
/// (`decided` after the return), due at once, with a fresh attempt count and no error.
pub(crate) fn requeue_revision(conn: &Connection, id: Uuid) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE outbox SET state = 'queued', attempts = 0, next_retry_at = NULL,
            last_attempt_at = NULL, last_error = NULL
         WHERE application_id = ?1",
        [id.to_string()],
    )?;
    if n == 0 {
        conn.execute(
            "INSERT INTO outbox(application_id, state, attempts) VALUES (?1, 'queued', 0)",
            [id.to_string()],
        )?;
    }
    Ok(())
}

/// A failed attempt that may work later: back to `queued`, not before `next_retry_at`.
pub(crate) fn schedule_retry(
    conn: &Connection,
    id: Uuid,
    message: &str,
    next_retry_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = ?2,
            next_retry_at = ?3
         WHERE application_id = ?1 AND state IN ('queued', 'sending')",
        params![id.to_string(), message, time_text(next_retry_at)],
    )?;
    if n == 0 && item(conn, id)?.is_none() {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The operator's "retry now": one item (a permanently failed one goes back to the queue), or
/// every queued item (permanent failures stay where they are). Returns how many changed.
pub(crate) fn retry_now(conn: &Connection, id: Option<Uuid>) -> Result<usize, StoreError> {
    Ok(match id {
        Some(id) => {
            let n = conn.execute(
                "UPDATE outbox SET state = 'queued', next_retry_at = NULL
                 WHERE application_id = ?1 AND state IN ('queued', 'sending', 'failed_permanent')",
                [id.to_string()],
            )?;
            if n == 0 && item(conn, id)?.is_none() {
                return Err(StoreError::NotFound);
            }
            n
        }
        None => conn.execute(
            "UPDATE outbox SET next_retry_at = NULL
             WHERE state = 'queued' AND next_retry_at IS NOT NULL",
            [],
        )?,
    })
}

/// The outbox state of one application, if it has a row.
pub(crate) fn state_of(conn: &Connection, id: Uuid) -> Result<Option<OutboxState>, StoreError> {
    let code: Option<String> = conn
        .query_row(
            "SELECT state FROM outbox WHERE application_id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    code.map(|c| OutboxState::from_code(&c).ok_or_else(|| StoreError::Corrupt(c)))
        .transpose()
}
