//! One sync pass, in lanes: reference data pull, application push, attachment upload,
//! decision and document pull, audit push — in that order, each with its own outcome and
//! progress. The [`planner`](crate::planner) decides what is due; this module is the small IO
//! loop around it.
//!
//! Independence: a lane that fails (a 4xx or 5xx, a bad document, a refused catalogue) is
//! reported and the next lane runs. Only a failure that no lane can get past — the server
//! unreachable, or the device not enrolled, revoked, its clock wrong, the server's certificate
//! refused ([`SyncError::stops_pass`]) — stops the pass: it is detected once and the remaining
//! network lanes are reported skipped with the same diagnosis, instead of each timing out in turn.
//! Everything done before is committed.

use chrono::{DateTime, Utc};
use loket_store::{OutboxState, StatusChange, StoreError, VillageStore};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

use crate::client::TRUST_LIST_SETTING;
use crate::planner::{
    self, Lane, LaneDecision, LaneMemory, LaneState, Plan, PlanInput, SkipReason, Trigger,
};
use crate::protocol::{envelope, DeviceRef, SubmitBatch, SubmitOutcome};
use crate::{SyncClient, SyncError, SyncReport};

/// Setting key under which the lanes' last reports are kept (JSON list of [`LaneMemory`]).
pub const LANES_SETTING: &str = "sync_lanes";

/// How one lane ended in a pass (or, as [`LaneProgress`], where it stands during one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneReport {
    /// Which lane.
    pub lane: Lane,
    /// `ok`, `failed` or `skipped` at the end; `pending` or `running` in progress events.
    pub state: LaneState,
    /// Units done: applications, pages, status changes and documents, audit entries, steps.
    pub done: usize,
    /// Units to do; 0 while unknown (e.g. while the change feed is being paged).
    pub total: usize,
    /// What happened, in plain Bahasa Indonesia (why it failed or was skipped, or a note).
    pub message: Option<String>,
}

/// A progress event: the lane's report so far. Sent once per lane as `pending` when a pass
/// starts, then as it works (`running`), and once more at its end (`ok`/`failed`/`skipped`).
pub type LaneProgress = LaneReport;

/// The pass's clock, randomness (for jittered retry times) and trigger: injected, so tests
/// and replays are deterministic.
pub struct SyncEnv<'a> {
    /// The current time.
    pub now: &'a dyn Fn() -> DateTime<Utc>,
    /// Jitter for retry times.
    pub rng: &'a mut dyn RngCore,
    /// Who asked for the pass.
    pub trigger: Trigger,
}

impl SyncError {
    /// Whether no lane can get past this failure, so the pass stops here and the remaining
    /// network lanes are skipped with the same diagnosis.
    pub fn stops_pass(&self) -> bool {
        match self {
            SyncError::Unreachable(_)
            | SyncError::NotEnrolled
            | SyncError::Revoked
            | SyncError::ClockWrong { .. }
            | SyncError::CertificateProblem(_) => true,
            SyncError::Rejected { .. }
            | SyncError::Protocol(_)
            | SyncError::Store(_)
            | SyncError::Catalogue(_) => false,
        }
    }

    /// Whether the laptop, not the item, was refused: the operator fixes it once (enroll, set
    /// the clock) and every item goes, so items are not penalised with a backoff.
    pub fn is_device_problem(&self) -> bool {
        matches!(
            self,
            SyncError::NotEnrolled
                | SyncError::Revoked
                | SyncError::ClockWrong { .. }
                | SyncError::CertificateProblem(_)
        )
    }

    /// The failure in plain Bahasa Indonesia, for an outbox item's "last error" and a lane's
    /// message: what happened and what will happen, without transport details.
    pub fn plain_message(&self) -> String {
        match self {
            SyncError::Unreachable(_) => "Server Disdukcapil tidak dapat dihubungi (tidak ada \
                koneksi internet, alamat server salah, atau server mati). Data tetap aman di laptop."
                .into(),
            SyncError::Rejected { status: 429, .. } => {
                "Server Disdukcapil sedang sibuk (HTTP 429); akan dicoba lagi otomatis.".into()
            }
            SyncError::Rejected { status, .. } if *status >= 500 => format!(
                "Server Disdukcapil sedang bermasalah (HTTP {status}); akan dicoba lagi otomatis."
            ),
            SyncError::Rejected { status, message } => {
                format!("Server Disdukcapil menolak permintaan (HTTP {status}): {message}")
            }
            SyncError::Protocol(_) => "Jawaban server tidak dapat dibaca (koneksi terputus di \
                tengah jalan atau versi aplikasi berbeda); akan dicoba lagi otomatis."
                .into(),
            other => other.to_string(),
        }
    }
}

/// What each lane reported at the end of the last pass on this laptop (empty before the first).
pub fn last_lanes(store: &VillageStore) -> Result<Vec<LaneMemory>, StoreError> {
    Ok(store
        .setting(LANES_SETTING)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// One pass the operator asked for, on the laptop's clock, telling `progress` about every lane
/// as it goes. `Err` when a failure stopped the pass ([`SyncError::stops_pass`]); the lanes'
/// last progress events then say what was done and skipped. Lane failures that did not stop
/// the pass are in the report's `lanes`.
pub fn sync_once_with_progress(
    store: &mut VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    progress: &mut dyn FnMut(&LaneProgress),
) -> Result<SyncReport, SyncError> {
    let now = Utc::now;
    let mut rng = rand::thread_rng();
    let mut env = SyncEnv {
        now: &now,
        rng: &mut rng,
        trigger: Trigger::Manual,
    };
    match sync_pass(store, client, device, &mut env, progress) {
        (_, Some(stopped)) => Err(stopped),
        (report, None) => Ok(report),
    }
}

/// One pass with an injected clock, RNG and trigger. Returns the report (every lane's outcome
/// and the counters) and the failure that stopped the pass, if one did.
pub fn sync_pass(
    store: &mut VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    env: &mut SyncEnv<'_>,
    progress: &mut dyn FnMut(&LaneProgress),
) -> (SyncReport, Option<SyncError>) {
    let mut pass = Pass {
        store,
        client,
        device,
        env,
        progress,
        report: SyncReport::default(),
    };
    let stopped = pass.run();
    (pass.report, stopped)
}

/// The outcome of a lane that did not fail with a `SyncError`.
enum Finished {
    Ok,
    Failed(String),
}

/// A lane's running count, sent as progress.
struct Tally {
    lane: Lane,
    done: usize,
    total: usize,
    note: Option<String>,
}

impl Tally {
    fn report(&self, state: LaneState, message: Option<String>) -> LaneReport {
        LaneReport {
            lane: self.lane,
            state,
            done: self.done,
            total: self.total,
            message,
        }
    }
}

struct Pass<'a, 'e> {
    store: &'a mut VillageStore,
    client: &'a SyncClient,
    device: &'a DeviceRef,
    env: &'a mut SyncEnv<'e>,
    progress: &'a mut dyn FnMut(&LaneProgress),
    report: SyncReport,
}

impl Pass<'_, '_> {
    fn emit(&mut self, t: &Tally) {
        (self.progress)(&t.report(LaneState::Running, t.note.clone()));
    }

    fn run(&mut self) -> Option<SyncError> {
        for lane in Lane::ALL {
            (self.progress)(&LaneReport {
                lane,
                state: LaneState::Pending,
                done: 0,
                total: 0,
                message: None,
            });
        }
        let started = (self.env.now)();
        let (items, memory) = match self
            .store
            .outbox_items()
            .and_then(|items| Ok((items, last_lanes(self.store)?)))
        {
            Ok(read) => read,
            Err(e) => {
                let e = SyncError::from(e);
                for lane in Lane::ALL {
                    self.finish(lane, LaneState::Failed, Some(e.plain_message()), 0, 0);
                }
                return Some(e);
            }
        };
        let plan = planner::plan(&PlanInput {
            items: &items,
            now: started,
            lanes: &memory,
            trigger: self.env.trigger,
        });
        // Attempts so far, for each item's backoff if this pass fails it again.
        let mut attempts: HashMap<Uuid, u32> = items.iter().map(|i| (i.id, i.attempts)).collect();
        let mut stopped: Option<SyncError> = None;
        match self.store.requeue_interrupted(&plan.requeue) {
            Ok(n) => {
                self.report.recovered = n;
                for id in &plan.requeue {
                    if let Some(a) = attempts.get_mut(id) {
                        *a = a.saturating_add(1);
                    }
                }
            }
            Err(e) => stopped = Some(e.into()),
        }

        for lane in Lane::ALL {
            if let Some(e) = &stopped {
                let message = e.plain_message();
                self.finish(lane, LaneState::Skipped, Some(message), 0, 0);
                continue;
            }
            if let LaneDecision::Skip(reason) = plan.decision(lane) {
                let message = skip_message(reason, &plan);
                self.finish(lane, LaneState::Skipped, Some(message), 0, 0);
                continue;
            }
            let mut t = Tally {
                lane,
                done: 0,
                total: 0,
                note: None,
            };
            self.emit(&t);
            let result = match lane {
                Lane::Reference => self.reference(&mut t),
                Lane::Applications => self.applications(&plan, &attempts, &mut t),
                Lane::Attachments => self.attachments(&mut t),
                Lane::Decisions => self.decisions(&mut t),
                Lane::Audit => self.audit(&mut t),
            };
            let (state, message) = match result {
                Ok(Finished::Ok) => (LaneState::Ok, t.note.take()),
                Ok(Finished::Failed(why)) => (LaneState::Failed, Some(why)),
                Err(e) => {
                    let mut message = e.plain_message();
                    if let Some(note) = t.note.take() {
                        message = format!("{message} {note}");
                    }
                    if e.stops_pass() {
                        stopped = Some(e);
                    }
                    (LaneState::Failed, Some(message))
                }
            };
            self.finish(lane, state, message, t.done, t.total);
        }

        // Remember how each lane ended, for the next automatic pass and the operator's view.
        let ended: Vec<(Lane, LaneState, Option<String>)> = self
            .report
            .lanes
            .iter()
            .map(|r| (r.lane, r.state, r.message.clone()))
            .collect();
        let memory = planner::remember(
            &memory,
            &ended,
            stopped.is_some(),
            (self.env.now)(),
            &mut *self.env.rng,
        );
        if let Ok(json) = serde_json::to_string(&memory) {
            // Only the lanes' history: a failure to keep it loses no application.
            let _ = self.store.set_setting(LANES_SETTING, &json);
        }
        self.summarise_outbox();
        stopped
    }

    /// Records a lane's end in the report and tells `progress`.
    fn finish(
        &mut self,
        lane: Lane,
        state: LaneState,
        message: Option<String>,
        done: usize,
        total: usize,
    ) {
        let report = LaneReport {
            lane,
            state,
            done,
            total,
            message,
        };
        (self.progress)(&report);
        self.report.lanes.push(report);
    }

    /// How many items wait, and until when, after the pass.
    fn summarise_outbox(&mut self) {
        let Ok(items) = self.store.outbox_items() else {
            return;
        };
        let now = (self.env.now)();
        for item in &items {
            match planner::wait_reason(item, now) {
                planner::Wait::Until(until) => {
                    self.report.waiting += 1;
                    self.report.next_retry_at = Some(
                        self.report
                            .next_retry_at
                            .map_or(until, |t: DateTime<Utc>| t.min(until)),
                    );
                }
                planner::Wait::NeedsOperator => self.report.held += 1,
                planner::Wait::Due | planner::Wait::Interrupted => self.report.waiting += 1,
                planner::Wait::Done => {}
            }
        }
    }

    /// Trust list, then the signed catalogue (verified against the list pinned before this
    /// pass). A refused catalogue fails this lane only.
    fn reference(&mut self, t: &mut Tally) -> Result<Finished, SyncError> {
        t.total = 2;
        self.emit(t);
        let pinned = self
            .store
            .setting(TRUST_LIST_SETTING)?
            .and_then(|json| loket_qr::TrustList::from_json(&json).ok());
        let mut first_err = None;
        let fresh = match self.client.trust_list() {
            Ok(trust) => {
                self.store.set_setting(TRUST_LIST_SETTING, &trust)?;
                Some(trust)
            }
            Err(e) if e.stops_pass() => return Err(e),
            Err(e) => {
                first_err = Some(e);
                None
            }
        };
        t.done = 1;
        self.emit(t);
        // First contact: the list just fetched is the one this laptop starts trusting.
        let catalogue_trust = pinned.or_else(|| {
            fresh
                .as_deref()
                .and_then(|json| loket_qr::TrustList::from_json(json).ok())
        });
        if let Some(trust) = catalogue_trust {
            match crate::pull_catalogue(self.client.base_url(), self.store, &trust) {
                Ok(version) => {
                    if let Some(v) = &version {
                        t.note = Some(format!("Katalog layanan versi {v} diterima."));
                    }
                    self.report.catalogue = version;
                }
                Err(e) if e.stops_pass() => return Err(e),
                Err(e) => {
                    self.report.catalogue_error = Some(e.to_string());
                    t.note = Some(format!(
                        "Katalog baru ditolak, katalog lama tetap dipakai: {e}"
                    ));
                    first_err.get_or_insert(e);
                }
            }
        }
        t.done = 2;
        first_err.map_or(Ok(Finished::Ok), Err)
    }

    /// Due applications in batches: each batch is marked `sending`, then acknowledged, failed
    /// for good (conflict) or scheduled for a jittered retry. A server error stops this lane
    /// (the rest stay due); a 4xx of one batch does not stop the next.
    fn applications(
        &mut self,
        plan: &Plan,
        attempts: &HashMap<Uuid, u32>,
        t: &mut Tally,
    ) -> Result<Finished, SyncError> {
        t.total = plan.due();
        self.emit(t);
        let mut first_err = None;
        let mut conflicts = 0;
        for batch in &plan.batches {
            let mut applications = Vec::with_capacity(batch.len());
            for id in batch {
                applications.push(envelope(&self.store.application(*id)?));
            }
            self.store.mark_sending(batch, (self.env.now)())?;
            let answer = self
                .client
                .submit(&SubmitBatch {
                    device: self.device.clone(),
                    applications,
                })
                .and_then(|answer| {
                    if answer.results.len() == batch.len() {
                        Ok(answer)
                    } else {
                        Err(SyncError::Protocol(
                            "jumlah jawaban tidak sama dengan jumlah permohonan".into(),
                        ))
                    }
                });
            match answer {
                Ok(answer) => {
                    for result in &answer.results {
                        match result.outcome {
                            SubmitOutcome::Stored | SubmitOutcome::AlreadyStored => {
                                self.store.mark_acknowledged(result.id, result.status)?;
                                self.report.sent += 1;
                            }
                            SubmitOutcome::Conflict => {
                                // The server says why when it can (e.g. a skipped revision).
                                let why = result.message.as_deref().unwrap_or(
                                    "ID permohonan sudah dipakai dengan isi berbeda di server \
                                     Disdukcapil.",
                                );
                                self.store.mark_failed(
                                    result.id,
                                    &format!("Ditolak permanen: {why} Hubungi admin kabupaten."),
                                )?;
                                self.report.failed += 1;
                                conflicts += 1;
                            }
                        }
                        t.done += 1;
                    }
                    // An item the answer did not name is not known to have arrived.
                    for id in batch {
                        if self.store.outbox_state(*id)? == Some(OutboxState::Sending) {
                            self.retry(
                                *id,
                                "Server tidak menjawab untuk permohonan ini.",
                                attempts,
                            )?;
                        }
                    }
                }
                Err(e) => {
                    let message = e.plain_message();
                    if e.is_device_problem() {
                        // Nothing is wrong with the items: they go as soon as it is fixed.
                        self.store.hold_for_device(batch, &message)?;
                    } else {
                        for id in batch {
                            self.retry(*id, &message, attempts)?;
                        }
                    }
                    if e.stops_pass() || e.is_retryable() {
                        return Err(e);
                    }
                    first_err.get_or_insert(e);
                }
            }
            self.emit(t);
        }
        if conflicts > 0 {
            t.note = Some(format!(
                "{conflicts} permohonan ditolak permanen; lihat antrean kiriman."
            ));
        }
        first_err.map_or(Ok(Finished::Ok), Err)
    }

    /// Schedules the next attempt of `id` after one more failure.
    fn retry(
        &mut self,
        id: Uuid,
        message: &str,
        attempts: &HashMap<Uuid, u32>,
    ) -> Result<(), StoreError> {
        let failures = attempts.get(&id).copied().unwrap_or(0).saturating_add(1);
        let at = planner::next_retry_at((self.env.now)(), failures, &mut *self.env.rng);
        self.store.schedule_retry(id, message, at)
    }

    /// Scan pages of acknowledged applications, resumable (`crate::blobs`).
    fn attachments(&mut self, t: &mut Tally) -> Result<Finished, SyncError> {
        let lane = t.lane;
        let progress = &mut *self.progress;
        let upload =
            crate::blobs::upload_pending_scans(self.store, self.client, self.device, &mut |p| {
                progress(&LaneReport {
                    lane,
                    state: LaneState::Running,
                    done: p.pages_done + p.pages_failed,
                    total: p.pages_total,
                    message: None,
                });
            });
        let upload = upload?;
        t.done = upload.pages_uploaded + upload.pages_already_held + upload.pages_failed;
        t.total = t.done + upload.pages_deferred;
        self.report.uploads = upload.clone();
        if upload.pages_failed > 0 || upload.pages_deferred > 0 {
            return Ok(Finished::Failed(format!(
                "{} halaman pindaian gagal diunggah dan {} ditunda ke sinkron berikutnya; \
                 alasannya tercatat per halaman.",
                upload.pages_failed, upload.pages_deferred
            )));
        }
        if upload.pages_uploaded > 0 {
            t.note = Some(format!(
                "{} halaman pindaian terkirim ({} KB).",
                upload.pages_uploaded,
                upload.bytes_uploaded.div_ceil(1024)
            ));
        }
        Ok(Finished::Ok)
    }

    /// The device's change feed (statuses and reasons, applied with the cursor in one
    /// transaction per page), then every announced PDF not yet here. A document that fails
    /// does not hold back the others.
    fn decisions(&mut self, t: &mut Tally) -> Result<Finished, SyncError> {
        self.emit(t);
        let mut first_err = None;
        loop {
            let after = self.store.pull_cursor()?;
            let page = match self.client.updates(self.device, after) {
                Ok(page) => page,
                Err(e) if e.stops_pass() => return Err(e),
                Err(e) => {
                    t.note = Some("Pembaruan status belum dapat diambil.".into());
                    first_err = Some(e);
                    break;
                }
            };
            if page.updates.is_empty() {
                break;
            }
            let changes: Vec<StatusChange> = page
                .updates
                .iter()
                .map(|u| StatusChange {
                    application_id: u.application_id,
                    status: u.status,
                    reason: u.reason.clone(),
                    document: u
                        .document
                        .as_ref()
                        .map(|d| (d.doc_number.clone(), d.issued_on, d.sha256.clone())),
                })
                .collect();
            let applied = self.store.apply_changes(&changes, page.next_after)?;
            self.report.updated += applied;
            t.done += applied;
            self.emit(t);
            if page.next_after <= after {
                break;
            }
        }
        let missing = self.store.documents_missing_pdf()?;
        t.total = t.done + missing.len();
        self.emit(t);
        let mut failed_docs = Vec::new();
        for (id, doc_number, _) in missing {
            let fetched = self
                .client
                .document_pdf(&doc_number)
                .and_then(|pdf| Ok(self.store.store_document_pdf(id, &pdf)?));
            match fetched {
                Ok(()) => {
                    self.report.documents += 1;
                    t.done += 1;
                }
                Err(e) if e.stops_pass() => return Err(e),
                Err(e) => {
                    failed_docs.push(doc_number);
                    first_err.get_or_insert(e);
                }
            }
            self.emit(t);
        }
        if !failed_docs.is_empty() {
            t.note = Some(format!(
                "Dokumen belum diterima: {}; dicoba lagi pada sinkron berikutnya.",
                failed_docs.join(", ")
            ));
        }
        first_err.map_or(Ok(Finished::Ok), Err)
    }

    /// The audit log after the acknowledged seq; last, so a refused audit batch never holds
    /// back residents' statuses and documents.
    fn audit(&mut self, t: &mut Tally) -> Result<Finished, SyncError> {
        let lane = t.lane;
        let progress = &mut *self.progress;
        let mut last = (0, 0);
        let sent = crate::audit::push_audit_log_with_progress(
            self.store,
            self.client,
            self.device,
            &mut |done, total| {
                last = (done, total);
                progress(&LaneReport {
                    lane,
                    state: LaneState::Running,
                    done,
                    total,
                    message: None,
                });
            },
        );
        (t.done, t.total) = last;
        self.report.audit_entries = sent?;
        Ok(Finished::Ok)
    }
}

/// The words for a lane the planner skipped.
fn skip_message(reason: &SkipReason, plan: &Plan) -> String {
    match reason {
        SkipReason::NothingDue { next: None } if plan.held.is_empty() => {
            "Tidak ada permohonan yang menunggu dikirim.".into()
        }
        SkipReason::NothingDue { next: None } => format!(
            "Tidak ada yang dikirim otomatis; {} permohonan ditolak permanen menunggu tindakan operator.",
            plan.held.len()
        ),
        SkipReason::NothingDue { next: Some(_) } => format!(
            "{} permohonan menunggu waktu coba ulang; tekan \"Coba sekarang\" untuk mengirim segera.",
            plan.waiting.len()
        ),
        SkipReason::BackingOff { .. } => {
            "Gagal pada sinkron sebelumnya; menunggu sebentar sebelum mencoba lagi.".into()
        }
    }
}
