//! The operator's view of the outbox and the sync lanes: every item still on its way with its
//! state and why it waits, "retry now" for one item or all, each lane's last outcome, and when
//! the window should run an automatic pass. The rules are `loket_sync::planner`'s; this module
//! only words them.

use chrono::{DateTime, Local, Utc};
use loket_domain::Lang;
use loket_store::{OutboxItem, OutboxState};
use loket_sync::lanes::last_lanes;
use loket_sync::planner::{wait_reason, LaneMemory, Wait};
use loket_sync::{Lane, LaneReport, LaneState, SyncReport};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::State;

use crate::commands::lock;
use crate::views::CommandError;
use crate::Desk;

type Result<T> = std::result::Result<T, CommandError>;

/// One pending outbox item (`#outbox tr[data-tracking]`).
#[derive(Debug, Serialize)]
pub struct OutboxItemView {
    id: String,
    tracking_number: String,
    full_name: String,
    service_label: String,
    /// `queued`, `sending` or `failed_permanent` (`.outbox-state[data-state]`).
    state: &'static str,
    state_label: &'static str,
    attempts: u32,
    /// RFC 3339; `None` when due at the next pass.
    next_retry_at: Option<String>,
    last_attempt_at: Option<String>,
    /// The last failure, in plain words (Bahasa Indonesia, as recorded).
    last_error: Option<String>,
    /// Why it waits, in the operator's language (`.outbox-why`).
    why: String,
    /// Whether "retry now" changes anything for it.
    can_retry: bool,
}

/// One lane as the window shows it (`#lane-<lane>[data-state]`).
#[derive(Debug, Clone, Serialize)]
pub struct LaneView {
    lane: Lane,
    label: &'static str,
    state: LaneState,
    done: usize,
    total: usize,
    message: Option<String>,
    /// When the lane last ended (RFC 3339), for remembered lanes.
    at: Option<String>,
}

/// The lanes' last outcomes and when an automatic pass is due.
#[derive(Debug, Serialize)]
pub struct SyncLanesView {
    lanes: Vec<LaneView>,
    /// When the window should run an automatic pass (RFC 3339): the earliest retry time of an
    /// item that already failed, or of a lane that failed. `None`: nothing to retry by itself;
    /// new applications wait for the operator's "Sinkronkan".
    auto_at: Option<String>,
}

/// The lane's name in the operator's language.
pub fn lane_label(lane: Lane, lang: Lang) -> &'static str {
    match lang {
        Lang::Id => lane.label_id(),
        Lang::En => match lane {
            Lane::Reference => "Reference data",
            Lane::Applications => "Send applications",
            Lane::Attachments => "Upload scans",
            Lane::Decisions => "Decisions and documents",
            Lane::Audit => "Audit log",
        },
    }
}

fn state_label(state: OutboxState, lang: Lang) -> &'static str {
    match (state, lang) {
        (OutboxState::Queued, Lang::Id) => "Menunggu dikirim",
        (OutboxState::Sending, Lang::Id) => "Sedang dikirim",
        (OutboxState::Acknowledged, Lang::Id) => "Diterima server",
        (OutboxState::Decided, Lang::Id) => "Sudah diputus",
        (OutboxState::FailedPermanent, Lang::Id) => "Ditolak permanen",
        (OutboxState::Queued, Lang::En) => "Waiting to be sent",
        (OutboxState::Sending, Lang::En) => "Being sent",
        (OutboxState::Acknowledged, Lang::En) => "Received by the server",
        (OutboxState::Decided, Lang::En) => "Decided",
        (OutboxState::FailedPermanent, Lang::En) => "Refused for good",
    }
}

/// A time as the operator reads it: local clock time, with the date unless it is today.
fn local_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Local);
    if local.date_naive() == Local::now().date_naive() {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%d-%m-%Y %H:%M").to_string()
    }
}

/// Why `item` waits, in the operator's language; `lane` is what the application lane said last.
fn why(item: &OutboxItem, lane: Option<&LaneMemory>, now: DateTime<Utc>, lang: Lang) -> String {
    let error = item.last_error.as_deref();
    let lane_problem = lane
        .filter(|m| m.failures > 0)
        .and_then(|m| m.message.as_deref());
    match (wait_reason(item, now), lang) {
        (Wait::Until(t), Lang::Id) => format!(
            "Dicoba lagi otomatis pukul {} (percobaan ke-{} gagal: {}).",
            local_time(t),
            item.attempts,
            error.unwrap_or("alasan tidak tercatat")
        ),
        (Wait::Until(t), Lang::En) => format!(
            "Retried automatically at {} (attempt {} failed: {}).",
            local_time(t),
            item.attempts,
            error.unwrap_or("no reason recorded")
        ),
        (Wait::Due, Lang::Id) => match (lane_problem, error) {
            (Some(p), _) => format!("Dikirim pada sinkron berikutnya. Sinkron terakhir: {p}"),
            (None, Some(e)) => format!("Dikirim pada sinkron berikutnya (sebelumnya: {e})"),
            (None, None) => "Belum dikirim; dikirim pada sinkron berikutnya.".into(),
        },
        (Wait::Due, Lang::En) => match (lane_problem, error) {
            (Some(p), _) => format!("Goes out at the next sync. Last sync: {p}"),
            (None, Some(e)) => format!("Goes out at the next sync (before: {e})"),
            (None, None) => "Not sent yet; goes out at the next sync.".into(),
        },
        (Wait::Interrupted, Lang::Id) => {
            "Pengiriman terakhir terputus sebelum server menjawab; dikirim ulang pada sinkron berikutnya (aman, tidak tergandakan).".into()
        }
        (Wait::Interrupted, Lang::En) => {
            "The last send was cut off before the server answered; it is sent again at the next sync (safe, never duplicated).".into()
        }
        (Wait::NeedsOperator, Lang::Id) => format!(
            "{} Tidak dikirim otomatis; periksa, lalu tekan \"Coba sekarang\".",
            error.unwrap_or("Ditolak server Disdukcapil.")
        ),
        (Wait::NeedsOperator, Lang::En) => format!(
            "{} Not sent automatically; check it, then press \"Retry now\".",
            error.unwrap_or("Refused by the back office.")
        ),
        (Wait::Done, _) => String::new(),
    }
}

/// Every application still on its way to the back office (queued, being sent, refused for
/// good), oldest first, with why it waits.
#[tauri::command]
pub fn outbox_items(desk: State<'_, Desk>) -> Result<Vec<OutboxItemView>> {
    let store = lock(&desk)?;
    let lang = desk.lang(&store);
    let cat = crate::apply::active_catalogue(&store);
    let memory = last_lanes(&store)?;
    let lane = memory.iter().find(|m| m.lane == Lane::Applications);
    let now = Utc::now();
    Ok(store
        .outbox_items()?
        .iter()
        .map(|item| OutboxItemView {
            id: item.id.to_string(),
            tracking_number: item.tracking_number.clone(),
            full_name: item.full_name.clone(),
            service_label: cat.service_name(&item.service, lang),
            state: item.state.code(),
            state_label: state_label(item.state, lang),
            attempts: item.attempts,
            next_retry_at: item.next_retry_at.map(|t| t.to_rfc3339()),
            last_attempt_at: item.last_attempt_at.map(|t| t.to_rfc3339()),
            last_error: item.last_error.clone(),
            why: why(item, lane, now, lang),
            can_retry: matches!(wait_reason(item, now), Wait::Until(_) | Wait::NeedsOperator),
        })
        .collect())
}

/// "Coba sekarang": `id` makes that item due at once (a refused one goes back to the queue);
/// without `id`, every waiting item. Returns how many changed; the window then runs a pass.
#[tauri::command]
pub fn retry_now(desk: State<'_, Desk>, id: Option<String>) -> Result<usize> {
    let id = id
        .map(|id| {
            uuid::Uuid::parse_str(&id)
                .map_err(|_| CommandError::new("not_found", "permohonan tidak ditemukan"))
        })
        .transpose()?;
    Ok(lock(&desk)?.retry_now(id)?)
}

/// Each lane's last outcome (kept across restarts) and when an automatic pass is due.
#[tauri::command]
pub fn sync_lanes(desk: State<'_, Desk>) -> Result<SyncLanesView> {
    let store = lock(&desk)?;
    let lang = desk.lang(&store);
    let memory = last_lanes(&store)?;
    let lanes = Lane::ALL
        .into_iter()
        .map(|lane| match memory.iter().find(|m| m.lane == lane) {
            Some(m) => LaneView {
                lane,
                label: lane_label(lane, lang),
                state: m.state,
                done: 0,
                total: 0,
                message: m.message.clone(),
                at: Some(m.at.to_rfc3339()),
            },
            None => LaneView {
                lane,
                label: lane_label(lane, lang),
                state: LaneState::Pending,
                done: 0,
                total: 0,
                message: None,
                at: None,
            },
        })
        .collect();
    let auto_at = auto_wake(&store.outbox_items()?, &memory, Utc::now());
    Ok(SyncLanesView {
        lanes,
        auto_at: auto_at.map(|t| t.to_rfc3339()),
    })
}

/// When an automatic pass is worth running: the earliest retry time of a queued item that
/// already failed, or of a lane that failed (at once if that time has passed). Brand-new items
/// and healthy lanes never start one: they wait for the operator.
pub fn auto_wake(
    items: &[OutboxItem],
    memory: &[LaneMemory],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let items = items
        .iter()
        .filter(|i| i.state == OutboxState::Queued && i.attempts > 0)
        .map(|i| i.next_retry_at.unwrap_or(now));
    let lanes = memory
        .iter()
        .filter(|m| m.failures > 0)
        .map(|m| m.next_run_at.unwrap_or(now));
    items.chain(lanes).min().map(|t| t.max(now))
}

/// A lane's end (or progress) as the window shows it.
pub fn lane_view(r: &LaneReport, lang: Lang) -> LaneView {
    LaneView {
        lane: r.lane,
        label: lane_label(r.lane, lang),
        state: r.state,
        done: r.done,
        total: r.total,
        message: r.message.clone(),
        at: None,
    }
}

/// The status line after a pass that was not stopped: counts, then every failed lane.
pub fn pass_message(r: &SyncReport, lang: Lang) -> String {
    let failed: Vec<String> = r
        .lanes
        .iter()
        .filter(|l| l.state == LaneState::Failed)
        .map(|l| {
            format!(
                "{}: {}",
                lane_label(l.lane, lang),
                l.message.as_deref().unwrap_or("")
            )
        })
        .collect();
    let counts = match lang {
        Lang::Id => format!(
            "{} terkirim, {} pembaruan status, {} dokumen diterima",
            r.sent, r.updated, r.documents
        ),
        Lang::En => format!(
            "{} sent, {} status updates, {} documents received",
            r.sent, r.updated, r.documents
        ),
    };
    let waiting = match (lang, r.waiting, r.held) {
        (_, 0, 0) => String::new(),
        (Lang::Id, w, h) => format!(" Antrean: {w} menunggu, {h} ditolak permanen."),
        (Lang::En, w, h) => format!(" Queue: {w} waiting, {h} refused for good."),
    };
    match (lang, failed.is_empty()) {
        (Lang::Id, true) => format!("Sinkron berhasil: {counts}.{waiting}"),
        (Lang::En, true) => format!("Sync done: {counts}.{waiting}"),
        (Lang::Id, false) => format!(
            "Sinkron sebagian: {counts}. Gagal — {}{waiting}",
            failed.join(" · ")
        ),
        (Lang::En, false) => format!(
            "Sync partly done: {counts}. Failed — {}{waiting}",
            failed.join(" · ")
        ),
    }
}

static PASS_RUNNING: AtomicBool = AtomicBool::new(false);

/// Held while a pass runs, so two passes never overlap (the button and a timer, say).
pub struct PassGuard(());

impl PassGuard {
    /// The guard, or `None` when a pass is already running.
    pub fn acquire() -> Option<PassGuard> {
        PASS_RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| PassGuard(()))
    }
}

impl Drop for PassGuard {
    fn drop(&mut self) {
        PASS_RUNNING.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, FixedOffset, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn item(state: OutboxState, attempts: u32, next: Option<i64>) -> OutboxItem {
        OutboxItem {
            id: uuid::Uuid::from_u128(1),
            tracking_number: "7315012003-001-261123-0001".into(),
            full_name: "Andi".into(),
            service: "ktp_el_baru".into(),
            captured_at: FixedOffset::east_opt(8 * 3600)
                .unwrap()
                .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
                .unwrap(),
            state,
            attempts,
            next_retry_at: next.map(|s| now() + Duration::seconds(s)),
            last_attempt_at: None,
            last_error: Some("Server Disdukcapil sedang bermasalah (HTTP 503)".into()),
        }
    }

    #[test]
    fn only_failures_wake_an_automatic_pass() {
        let fresh = item(OutboxState::Queued, 0, None);
        assert_eq!(
            auto_wake(&[fresh], &[], now()),
            None,
            "new items wait for the operator"
        );
        let waiting = item(OutboxState::Queued, 2, Some(40));
        assert_eq!(
            auto_wake(&[waiting], &[], now()),
            Some(now() + Duration::seconds(40))
        );
        let overdue = item(OutboxState::Queued, 2, Some(-40));
        assert_eq!(auto_wake(&[overdue], &[], now()), Some(now()));
        let held = item(OutboxState::FailedPermanent, 1, None);
        assert_eq!(auto_wake(&[held], &[], now()), None, "never automatically");
        let lane = LaneMemory {
            lane: Lane::Reference,
            state: LaneState::Failed,
            at: now(),
            failures: 3,
            next_run_at: Some(now() + Duration::seconds(90)),
            message: None,
        };
        assert_eq!(
            auto_wake(&[], &[lane], now()),
            Some(now() + Duration::seconds(90))
        );
    }

    #[test]
    fn the_reason_names_the_wait_and_the_error() {
        let text = why(
            &item(OutboxState::Queued, 2, Some(40)),
            None,
            now(),
            Lang::Id,
        );
        assert!(text.starts_with("Dicoba lagi otomatis pukul "), "{text}");
        assert!(text.contains("percobaan ke-2 gagal: Server Disdukcapil sedang bermasalah"));
        let text = why(
            &item(OutboxState::FailedPermanent, 1, None),
            None,
            now(),
            Lang::En,
        );
        assert!(text.contains("Retry now"), "{text}");
        let text = why(&item(OutboxState::Sending, 1, None), None, now(), Lang::Id);
        assert!(text.contains("terputus"), "{text}");
    }
}
