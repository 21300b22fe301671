//! The sync planner: given the outbox, the time and what each lane last reported, decide what
//! one pass does. Pure: no IO, no clock, no randomness of its own (the jittered delays take the
//! caller's RNG), so every rule is a table-driven unit test below.
//!
//! Rules (docs/SYNC.md, "Outbox, lanes and retries"):
//! - An item `sending` when the pass starts was cut off by a crash or kill: it goes back to
//!   `queued` and is due at once (the server is idempotent on its id).
//! - A `queued` item is due when it has no `next_retry_at` or that time has come; otherwise it
//!   waits until then. Due items go out oldest first in batches of [`MAX_BATCH`].
//! - `failed_permanent` items are never sent automatically; they wait for the operator.
//! - After the n-th failed attempt (n ≥ 1) an item waits a uniformly random time between 0 and
//!   `min(1 h, 30 s × 2^(n−1))` ("full jitter"), forever: it is never given up.
//! - On an automatic pass a lane that failed last time waits its own backoff; a pass the
//!   operator asked for runs every lane. The application lane runs only when something is due.

use chrono::{DateTime, Duration, Utc};
use loket_store::{OutboxItem, OutboxState};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::protocol::MAX_BATCH;

/// The first retry waits at most this long (seconds).
pub const RETRY_BASE_SECS: i64 = 30;
/// No retry ever waits longer than this (seconds): one hour.
pub const RETRY_CAP_SECS: i64 = 60 * 60;

/// One independent part of a sync pass, in the order a pass runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Trust list and signed catalogue (holiday calendars later).
    Reference,
    /// Applications from the outbox, in batches.
    Applications,
    /// Scan pages, resumable.
    Attachments,
    /// Status changes from the back office and issued documents' PDFs.
    Decisions,
    /// The hash-chained audit log.
    Audit,
}

impl Lane {
    /// Every lane, in pass order.
    pub const ALL: [Lane; 5] = [
        Lane::Reference,
        Lane::Applications,
        Lane::Attachments,
        Lane::Decisions,
        Lane::Audit,
    ];

    /// Stable name (`reference`, `applications`, …): the UI's `#lane-<name>`.
    pub fn code(self) -> &'static str {
        match self {
            Lane::Reference => "reference",
            Lane::Applications => "applications",
            Lane::Attachments => "attachments",
            Lane::Decisions => "decisions",
            Lane::Audit => "audit",
        }
    }

    /// The lane's name for the operator, in Bahasa Indonesia.
    pub fn label_id(self) -> &'static str {
        match self {
            Lane::Reference => "Data rujukan",
            Lane::Applications => "Kirim permohonan",
            Lane::Attachments => "Unggah pindaian",
            Lane::Decisions => "Keputusan dan dokumen",
            Lane::Audit => "Catatan audit",
        }
    }
}

/// Where a lane stands in a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneState {
    /// Not started yet in this pass.
    Pending,
    /// Working; `done`/`total` say how far.
    Running,
    /// Finished; everything it had to do is done.
    Ok,
    /// Finished with a failure; the message says what, and the next pass tries again.
    Failed,
    /// Not run this pass: nothing to do, waiting its backoff, or the server unreachable.
    Skipped,
}

/// What a pass is for: the operator pressed a button, or a timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The operator asked: every lane runs (items still honour their own wait).
    Manual,
    /// A timer: a lane that failed last time waits its backoff too.
    Automatic,
}

/// What one lane reported at the end of the last pass, kept between passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneMemory {
    /// Which lane.
    pub lane: Lane,
    /// How it ended (`ok`, `failed` or `skipped`).
    pub state: LaneState,
    /// When that pass ended.
    pub at: DateTime<Utc>,
    /// Failed passes in a row (0 after a success).
    pub failures: u32,
    /// On an automatic pass, not before this time.
    pub next_run_at: Option<DateTime<Utc>>,
    /// What it said, in plain Bahasa Indonesia.
    pub message: Option<String>,
}

/// Everything the planner looks at.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The pending outbox (queued, sending, failed for good), oldest first.
    pub items: &'a [OutboxItem],
    /// The time of the pass.
    pub now: DateTime<Utc>,
    /// What each lane last reported (any lane may be missing: never ran).
    pub lanes: &'a [LaneMemory],
    /// Who asked for the pass.
    pub trigger: Trigger,
}

/// Why a lane does not run this pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Nothing of its work is due; `next` is when something will be.
    NothingDue {
        /// The earliest wait that ends, if any item waits.
        next: Option<DateTime<Utc>>,
    },
    /// It failed last time and waits its backoff (automatic passes only).
    BackingOff {
        /// Until when.
        until: DateTime<Utc>,
    },
}

/// Whether a lane runs this pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaneDecision {
    /// Run it.
    Run,
    /// Skip it, for this reason.
    Skip(SkipReason),
}

/// One item that is not due, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// The application.
    pub id: Uuid,
    /// Due from then.
    pub until: DateTime<Utc>,
}

/// What one pass does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Items left `sending` by an interrupted pass: back to `queued`, and due now.
    pub requeue: Vec<Uuid>,
    /// Due items, oldest first, at most [`MAX_BATCH`] per request.
    pub batches: Vec<Vec<Uuid>>,
    /// Queued items not due yet.
    pub waiting: Vec<Waiting>,
    /// Permanently failed items: never sent automatically, shown to the operator.
    pub held: Vec<Uuid>,
    /// Every lane, in pass order, with whether it runs.
    pub lanes: Vec<(Lane, LaneDecision)>,
    /// The earliest time something becomes due (an item or a backing-off lane): when an
    /// automatic pass is worth running next. `None`: nothing waits.
    pub next_wake: Option<DateTime<Utc>>,
}

impl Plan {
    /// Whether `lane` runs this pass.
    pub fn runs(&self, lane: Lane) -> bool {
        self.decision(lane) == &LaneDecision::Run
    }

    /// The decision for `lane`.
    pub fn decision(&self, lane: Lane) -> &LaneDecision {
        self.lanes
            .iter()
            .find(|(l, _)| *l == lane)
            .map(|(_, d)| d)
            .expect("every lane is planned")
    }

    /// How many items go out this pass.
    pub fn due(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }
}

/// Why one item is (not yet) on its way, for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Goes out on the next pass.
    Due,
    /// A pass was cut off while sending it; it goes out again on the next pass.
    Interrupted,
    /// Waits after a failed attempt, until then.
    Until(DateTime<Utc>),
    /// Refused for good; only the operator's "retry now" sends it again.
    NeedsOperator,
    /// At the back office (acknowledged or decided): nothing to wait for.
    Done,
}

/// Why `item` is where it is at `now`.
pub fn wait_reason(item: &OutboxItem, now: DateTime<Utc>) -> Wait {
    match item.state {
        OutboxState::Sending => Wait::Interrupted,
        OutboxState::FailedPermanent => Wait::NeedsOperator,
        OutboxState::Acknowledged | OutboxState::Decided => Wait::Done,
        OutboxState::Queued => match item.next_retry_at {
            Some(until) if until > now => Wait::Until(until),
            _ => Wait::Due,
        },
    }
}

/// Decides one pass.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let now = input.now;
    let mut requeue = Vec::new();
    let mut due = Vec::new();
    let mut waiting = Vec::new();
    let mut held = Vec::new();
    for item in input.items {
        match wait_reason(item, now) {
            Wait::Interrupted => {
                requeue.push(item.id);
                due.push(item.id);
            }
            Wait::Due => due.push(item.id),
            Wait::Until(until) => waiting.push(Waiting { id: item.id, until }),
            Wait::NeedsOperator => held.push(item.id),
            Wait::Done => {}
        }
    }
    let next_item = waiting.iter().map(|w| w.until).min();
    let batches: Vec<Vec<Uuid>> = due.chunks(MAX_BATCH).map(<[Uuid]>::to_vec).collect();

    let lanes: Vec<(Lane, LaneDecision)> = Lane::ALL
        .into_iter()
        .map(|lane| {
            let backing_off = match input.trigger {
                Trigger::Manual => None,
                Trigger::Automatic => input
                    .lanes
                    .iter()
                    .find(|m| m.lane == lane && m.failures > 0)
                    .and_then(|m| m.next_run_at)
                    .filter(|&until| until > now),
            };
            let decision = if let Some(until) = backing_off {
                LaneDecision::Skip(SkipReason::BackingOff { until })
            } else if lane == Lane::Applications && batches.is_empty() {
                LaneDecision::Skip(SkipReason::NothingDue { next: next_item })
            } else {
                LaneDecision::Run
            };
            (lane, decision)
        })
        .collect();
    let next_lane = lanes
        .iter()
        .filter_map(|(_, d)| match d {
            LaneDecision::Skip(SkipReason::BackingOff { until }) => Some(*until),
            _ => None,
        })
        .min();
    let next_wake = [next_item, next_lane].into_iter().flatten().min();
    Plan {
        requeue,
        batches,
        waiting,
        held,
        lanes,
        next_wake,
    }
}

/// The longest wait after the `failures`-th failed attempt in a row: `min(1 h, 30 s × 2^(n−1))`;
/// zero before any failure.
pub fn retry_ceiling(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::zero();
    }
    let doublings = (failures - 1).min(20);
    let secs = RETRY_BASE_SECS
        .saturating_mul(1_i64 << doublings)
        .min(RETRY_CAP_SECS);
    Duration::seconds(secs)
}

/// A wait after the `failures`-th failed attempt: uniform in `[0, retry_ceiling(failures)]`
/// (full jitter, so a district's villages coming back online do not all knock at once).
pub fn retry_delay<R: RngCore + ?Sized>(failures: u32, rng: &mut R) -> Duration {
    let ceiling = retry_ceiling(failures).num_milliseconds();
    Duration::milliseconds(rng.gen_range(0..=ceiling))
}

/// When to try again after the `failures`-th failed attempt at `now`.
pub fn next_retry_at<R: RngCore + ?Sized>(
    now: DateTime<Utc>,
    failures: u32,
    rng: &mut R,
) -> DateTime<Utc> {
    now + retry_delay(failures, rng)
}

/// The lane memory after a pass: a lane that ended `ok` starts afresh, one that `failed` counts
/// a failure and gets a jittered `next_run_at`; a lane skipped only because the pass stopped
/// (`stopped`: the server unreachable, the device refused) shares the failing lane's wait; a
/// lane skipped for want of work keeps what it had.
pub fn remember<R: RngCore + ?Sized>(
    previous: &[LaneMemory],
    ended: &[(Lane, LaneState, Option<String>)],
    stopped: bool,
    now: DateTime<Utc>,
    rng: &mut R,
) -> Vec<LaneMemory> {
    let mut out = Vec::new();
    let mut pass_wait: Option<(u32, DateTime<Utc>)> = None;
    for &(lane, state, ref message) in ended {
        let before = previous.iter().find(|m| m.lane == lane);
        let failures = before.map_or(0, |m| m.failures);
        let memory = match state {
            LaneState::Failed => {
                let failures = failures.saturating_add(1);
                let next = next_retry_at(now, failures, rng);
                if stopped && pass_wait.is_none() {
                    pass_wait = Some((failures, next));
                }
                LaneMemory {
                    lane,
                    state,
                    at: now,
                    failures,
                    next_run_at: Some(next),
                    message: message.clone(),
                }
            }
            LaneState::Skipped if stopped && pass_wait.is_some() => {
                let (failures, next) = pass_wait.expect("checked");
                LaneMemory {
                    lane,
                    state,
                    at: now,
                    failures,
                    next_run_at: Some(next),
                    message: message.clone(),
                }
            }
            LaneState::Skipped => match before {
                Some(m) => LaneMemory {
                    state: if m.failures > 0 { m.state } else { state },
                    message: if m.failures > 0 {
                        m.message.clone()
                    } else {
                        message.clone()
                    },
                    ..m.clone()
                },
                None => LaneMemory {
                    lane,
                    state,
                    at: now,
                    failures: 0,
                    next_run_at: None,
                    message: message.clone(),
                },
            },
            LaneState::Ok | LaneState::Pending | LaneState::Running => LaneMemory {
                lane,
                state: LaneState::Ok,
                at: now,
                failures: 0,
                next_run_at: None,
                message: message.clone(),
            },
        };
        out.push(memory);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn secs(n: i64) -> Duration {
        Duration::seconds(n)
    }

    fn item(n: u128, state: OutboxState, attempts: u32, next: Option<i64>) -> OutboxItem {
        OutboxItem {
            id: Uuid::from_u128(n),
            tracking_number: format!("7315012003-001-261123-{n:04}"),
            full_name: format!("Warga {n}"),
            service: "ktp_el_baru".into(),
            captured_at: FixedOffset::east_opt(8 * 3600)
                .unwrap()
                .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
                .unwrap()
                + secs(n as i64),
            state,
            attempts,
            next_retry_at: next.map(|s| now() + secs(s)),
            last_attempt_at: None,
            last_error: None,
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn plan_of(items: &[OutboxItem]) -> Plan {
        plan(&PlanInput {
            items,
            now: now(),
            lanes: &[],
            trigger: Trigger::Manual,
        })
    }

    #[test]
    fn which_items_are_due_and_which_wait() {
        use OutboxState::*;
        // (state, attempts, next retry relative to now in seconds, expected)
        #[derive(Debug, PartialEq)]
        enum Want {
            Due,
            Requeued,
            WaitsUntil(i64),
            Held,
            Ignored,
        }
        let table: Vec<(OutboxState, u32, Option<i64>, Want)> = vec![
            (Queued, 0, None, Want::Due),
            (Queued, 3, Some(-1), Want::Due),
            (Queued, 3, Some(0), Want::Due),
            (Queued, 3, Some(1), Want::WaitsUntil(1)),
            (Queued, 9, Some(3600), Want::WaitsUntil(3600)),
            // Interrupted while sending: due at once whatever its old wait said.
            (Sending, 1, None, Want::Requeued),
            (Sending, 4, Some(900), Want::Requeued),
            // Never automatically, however long ago it failed.
            (FailedPermanent, 1, None, Want::Held),
            (FailedPermanent, 7, Some(-86_400), Want::Held),
            (Acknowledged, 1, None, Want::Ignored),
            (Decided, 1, None, Want::Ignored),
        ];
        for (n, (state, attempts, next, want)) in table.iter().enumerate() {
            let it = item(n as u128, *state, *attempts, *next);
            let p = plan_of(std::slice::from_ref(&it));
            let got = if p.requeue.contains(&it.id) {
                assert_eq!(p.batches, vec![vec![it.id]], "a requeued item is also due");
                Want::Requeued
            } else if p.batches.iter().flatten().any(|i| *i == it.id) {
                Want::Due
            } else if let Some(w) = p.waiting.iter().find(|w| w.id == it.id) {
                Want::WaitsUntil((w.until - now()).num_seconds())
            } else if p.held.contains(&it.id) {
                Want::Held
            } else {
                Want::Ignored
            };
            assert_eq!(
                &got, want,
                "row {n}: {state:?}, {attempts} attempts, next {next:?}"
            );
        }
    }

    #[test]
    fn due_items_go_oldest_first_in_batches_of_one_hundred() {
        let items: Vec<_> = (1..=250)
            .map(|n| {
                if n % 50 == 0 {
                    item(n, OutboxState::Queued, 2, Some(600))
                } else {
                    item(n, OutboxState::Queued, 0, None)
                }
            })
            .collect();
        let p = plan_of(&items);
        assert_eq!(
            p.batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 45]
        );
        let flat: Vec<Uuid> = p.batches.concat();
        let expected: Vec<Uuid> = (1..=250).filter(|n| n % 50 != 0).map(id).collect();
        assert_eq!(flat, expected);
        assert_eq!(p.due(), 245);
        assert_eq!(p.waiting.len(), 5);
        assert_eq!(p.next_wake, Some(now() + secs(600)));
        assert!(p.runs(Lane::Applications));
    }

    #[test]
    fn the_application_lane_is_skipped_when_nothing_is_due() {
        let waiting = [
            item(1, OutboxState::Queued, 1, Some(20)),
            item(2, OutboxState::Queued, 2, Some(50)),
        ];
        let held = [item(3, OutboxState::FailedPermanent, 1, None)];
        let cases: Vec<(&[OutboxItem], LaneDecision)> = vec![
            (
                &[],
                LaneDecision::Skip(SkipReason::NothingDue { next: None }),
            ),
            (
                &waiting,
                LaneDecision::Skip(SkipReason::NothingDue {
                    next: Some(now() + secs(20)),
                }),
            ),
            (
                &held,
                LaneDecision::Skip(SkipReason::NothingDue { next: None }),
            ),
        ];
        for (items, want) in cases {
            let p = plan_of(items);
            assert_eq!(p.decision(Lane::Applications), &want);
            // The other lanes always run on a manual pass.
            for lane in [
                Lane::Reference,
                Lane::Attachments,
                Lane::Decisions,
                Lane::Audit,
            ] {
                assert!(p.runs(lane), "{lane:?}");
            }
        }
    }

    #[test]
    fn lanes_back_off_on_automatic_passes_only() {
        let memory = |lane, failures, next: Option<i64>| LaneMemory {
            lane,
            state: if failures > 0 {
                LaneState::Failed
            } else {
                LaneState::Ok
            },
            at: now() - secs(10),
            failures,
            next_run_at: next.map(|s| now() + secs(s)),
            message: None,
        };
        let lanes = [
            memory(Lane::Reference, 0, None),
            memory(Lane::Decisions, 2, Some(45)),
            memory(Lane::Audit, 1, Some(-5)),
        ];
        let items = [item(1, OutboxState::Queued, 0, None)];
        for (trigger, decisions_run) in [(Trigger::Manual, true), (Trigger::Automatic, false)] {
            let p = plan(&PlanInput {
                items: &items,
                now: now(),
                lanes: &lanes,
                trigger,
            });
            assert_eq!(p.runs(Lane::Decisions), decisions_run, "{trigger:?}");
            assert!(p.runs(Lane::Reference) && p.runs(Lane::Audit) && p.runs(Lane::Applications));
            if !decisions_run {
                assert_eq!(
                    p.decision(Lane::Decisions),
                    &LaneDecision::Skip(SkipReason::BackingOff {
                        until: now() + secs(45)
                    })
                );
                assert_eq!(p.next_wake, Some(now() + secs(45)));
            }
        }
    }

    #[test]
    fn backoff_grows_doubles_and_is_capped_at_an_hour() {
        // (failures in a row, ceiling in seconds)
        let table = [
            (0, 0),
            (1, 30),
            (2, 60),
            (3, 120),
            (4, 240),
            (5, 480),
            (6, 960),
            (7, 1920),
            (8, 3600),
            (9, 3600),
            (40, 3600),
            (u32::MAX, 3600),
        ];
        for (failures, ceiling) in table {
            assert_eq!(
                retry_ceiling(failures),
                secs(ceiling),
                "{failures} failures"
            );
        }
    }

    #[test]
    fn jitter_stays_within_the_ceiling_and_spreads() {
        let mut rng = StdRng::seed_from_u64(5);
        for failures in [1, 2, 5, 8, 100] {
            let ceiling = retry_ceiling(failures);
            let delays: Vec<Duration> =
                (0..2000).map(|_| retry_delay(failures, &mut rng)).collect();
            assert!(delays
                .iter()
                .all(|d| *d >= Duration::zero() && *d <= ceiling));
            // Full jitter: both halves of the range are used, so retries do not bunch up.
            let low = delays.iter().filter(|d| **d < ceiling / 2).count();
            assert!(
                (800..=1200).contains(&low),
                "{failures}: {low} of 2000 in the lower half"
            );
            let at = next_retry_at(now(), failures, &mut rng);
            assert!(at >= now() && at <= now() + ceiling);
        }
        // The same seed gives the same waits: tests and replays are deterministic.
        let a: Vec<_> = (0..5)
            .map(|_| retry_delay(3, &mut StdRng::seed_from_u64(9)))
            .collect();
        let b: Vec<_> = (0..5)
            .map(|_| retry_delay(3, &mut StdRng::seed_from_u64(9)))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn retry_now_makes_a_waiting_item_due_whatever_its_attempts() {
        // "Retry now" clears next_retry_at in the store; the planner then sends it at once.
        let before = item(1, OutboxState::Queued, 12, Some(3000));
        assert_eq!(wait_reason(&before, now()), Wait::Until(now() + secs(3000)));
        assert!(plan_of(std::slice::from_ref(&before)).batches.is_empty());
        let after = OutboxItem {
            next_retry_at: None,
            ..before
        };
        assert_eq!(wait_reason(&after, now()), Wait::Due);
        assert_eq!(plan_of(&[after]).batches, vec![vec![id(1)]]);
        // A permanent failure the operator retried is queued again and goes out.
        let retried = item(2, OutboxState::Queued, 1, None);
        assert_eq!(plan_of(&[retried]).batches, vec![vec![id(2)]]);
    }

    #[test]
    fn lane_memory_counts_failures_and_shares_a_stopped_pass_wait() {
        let mut rng = StdRng::seed_from_u64(1);
        let unreachable = Some("tidak dapat dihubungi".to_string());
        let ended = vec![
            (Lane::Reference, LaneState::Failed, unreachable.clone()),
            (Lane::Applications, LaneState::Skipped, unreachable.clone()),
            (Lane::Decisions, LaneState::Skipped, unreachable.clone()),
        ];
        let first = remember(&[], &ended, true, now(), &mut rng);
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|m| m.failures == 1));
        let wait = first[0].next_run_at.unwrap();
        assert!(wait >= now() && wait <= now() + secs(30));
        assert!(first.iter().all(|m| m.next_run_at == Some(wait)));

        let second = remember(&first, &ended, true, now(), &mut rng);
        assert_eq!(second[0].failures, 2);
        assert!(second[0].next_run_at.unwrap() <= now() + secs(60));

        // Back online: a success resets; a lane skipped for want of work keeps its record.
        let ok = vec![
            (Lane::Reference, LaneState::Ok, None),
            (Lane::Applications, LaneState::Skipped, None),
        ];
        let third = remember(&second, &ok, false, now(), &mut rng);
        assert_eq!((third[0].failures, third[0].next_run_at), (0, None));
        assert_eq!(third[1].failures, 2, "not run, so not known to work again");
    }
}
