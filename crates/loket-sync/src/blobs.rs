//! The attachment lane: scan pages go to the back office resumably (docs/SYNC.md,
//! "Attachments"). One status query per ≤ 500 pages tells which ones the server already holds;
//! each remaining page is announced (hash and size), then sent in chunks of ≤ 512 KiB from the
//! server's offset, and the offset is recorded on the laptop after every acknowledged chunk. A
//! connection cut mid-chunk costs only that chunk: the next pass resumes where the server's
//! acknowledgement left off. The server checks the SHA-256 over the whole page before it accepts
//! it; a mismatch (corruption in transit) makes it discard the page and the client start over.
//!
//! Pages become due once their application is acknowledged (`VillageStore::pending_uploads`).

use std::collections::HashMap;

use loket_store::{PendingUpload, VillageStore};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::protocol::{
    BlobAnnounce, BlobStatus, BlobStatusList, BlobStatusQuery, DeviceRef, MAX_BLOB_STATUS_BATCH,
    MAX_CHUNK_BYTES,
};
use crate::{SyncClient, SyncError};

/// Most pages one pass considers; more wait for the next pass (at 2G speeds this is far more
/// than a pass can send anyway, and it bounds the memory of the plan).
pub const MAX_PAGES_PER_PASS: usize = 10_000;

/// How often one page may start over after a hash mismatch within a pass before it waits for
/// the next pass (a link that corrupts every try would otherwise loop forever).
const MAX_RESTARTS: u32 = 1;

/// How many answers a page may get that are neither progress nor failure (offset resyncs,
/// re-announces) before it waits for the next pass.
const MAX_DETOURS: u32 = 8;

/// Why one blob request did not simply succeed; callers branch on the variant to resume.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The chunk did not start at the server's offset; resume at `received` (or stop, if
    /// `complete`).
    #[error("server Disdukcapil sudah memegang {} dari {} byte berkas ini", .0.received, .0.size)]
    OffsetMismatch(BlobStatus),
    /// The server knows this hash with another size; the page cannot go until that is resolved.
    #[error(
        "server Disdukcapil sudah mengenal berkas dengan hash ini dengan ukuran lain ({} byte)",
        .0.size
    )]
    SizeConflict(BlobStatus),
    /// The server holds nothing under this hash (never announced, or discarded): announce again.
    #[error("server Disdukcapil belum mengenal berkas ini")]
    NotAnnounced,
    /// The whole arrived but did not hash to its name; the server discarded it: start over.
    #[error("berkas rusak dalam perjalanan (hash tidak cocok); dikirim ulang dari awal")]
    HashMismatch,
    /// The request failed for a reason not specific to blobs (network, server, device).
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// Where the attachment lane stands, for the operator's progress bar; sent after every change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadProgress {
    /// Pages the server now holds whole (of those due at the start of the pass).
    pub pages_done: usize,
    /// Pages given up on in this pass (they stay listed with their reason).
    pub pages_failed: usize,
    /// Pages due at the start of the pass.
    pub pages_total: usize,
    /// Bytes of those pages the server has acknowledged, including earlier passes.
    pub bytes_done: u64,
    /// Total size of those pages.
    pub bytes_total: u64,
}

/// What one pass of the attachment lane did, for the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Pages this pass completed by sending bytes.
    pub pages_uploaded: usize,
    /// Pages the server already held whole (from an earlier lost answer or another laptop).
    pub pages_already_held: usize,
    /// Pages given up on until the operator retries (unusable on this laptop or refused).
    pub pages_failed: usize,
    /// Pages left for the next pass after a page-specific problem (reason recorded).
    pub pages_deferred: usize,
    /// Payload bytes the server acknowledged in this pass.
    pub bytes_uploaded: u64,
    /// Pages that started over after the server found a hash mismatch.
    pub restarts: usize,
}

impl SyncClient {
    /// Which of `sha256s` (≤ [`MAX_BLOB_STATUS_BATCH`]) the server holds, whole or in part;
    /// unknown hashes are absent from the answer.
    pub fn blob_statuses(&self, sha256s: &[String]) -> Result<Vec<BlobStatus>, SyncError> {
        let answer: BlobStatusList = self.post_json(
            "/api/v1/blobs/status",
            &BlobStatusQuery {
                sha256s: sha256s.to_vec(),
            },
        )?;
        Ok(answer.blobs)
    }

    /// How much of one blob the server holds; `None` when it holds nothing under that hash.
    pub fn blob_status(&self, sha256: &str) -> Result<Option<BlobStatus>, SyncError> {
        let path = blob_path(sha256)?;
        match self.send(self.request(Method::GET, &path)) {
            Ok(resp) => resp
                .json()
                .map(Some)
                .map_err(|e| SyncError::Protocol(e.to_string())),
            Err(SyncError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Announces a blob before its bytes; the answer says where to continue (idempotent).
    pub fn announce_blob(&self, announce: &BlobAnnounce) -> Result<BlobStatus, BlobError> {
        match self.post_json("/api/v1/blobs", announce) {
            Ok(status) => Ok(status),
            Err(SyncError::Rejected { status: 409, .. }) => {
                match self.blob_status(&announce.sha256)? {
                    Some(held) => Err(BlobError::SizeConflict(held)),
                    // Discarded in between: the next announce will do.
                    None => Err(BlobError::NotAnnounced),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends one chunk (≤ [`MAX_CHUNK_BYTES`]) starting at `offset`, which must be what the
    /// server holds; the answer is durable on the server and says where to continue.
    pub fn put_blob_chunk(
        &self,
        sha256: &str,
        offset: u64,
        chunk: &[u8],
    ) -> Result<BlobStatus, BlobError> {
        let path = blob_path(sha256)?;
        let request = self
            .request(Method::PUT, &path)
            .query(&[("offset", offset)])
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(chunk.to_vec());
        match self.send(request) {
            Ok(resp) => resp
                .json()
                .map_err(|e| SyncError::Protocol(e.to_string()).into()),
            // The 409 body carries the status too; asking again keeps `send` the only reader of
            // error bodies and costs a round trip only on this rare path.
            Err(SyncError::Rejected { status: 409, .. }) => match self.blob_status(sha256)? {
                Some(held) => Err(BlobError::OffsetMismatch(held)),
                None => Err(BlobError::NotAnnounced),
            },
            Err(SyncError::Rejected { status: 404, .. }) => Err(BlobError::NotAnnounced),
            // 422 is a refused chunk or a hash mismatch; only the latter leaves nothing held.
            Err(e @ SyncError::Rejected { status: 422, .. }) => match self.blob_status(sha256)? {
                None => Err(BlobError::HashMismatch),
                Some(_) => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }
}

fn blob_path(sha256: &str) -> Result<String, SyncError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(format!("/api/v1/blobs/{sha256}"))
    } else {
        Err(SyncError::Protocol(format!(
            "nama berkas bukan SHA-256: {sha256:.80}"
        )))
    }
}

/// The attachment lane: uploads every due scan page (at most [`MAX_PAGES_PER_PASS`]), resuming
/// partial ones at the server's offset, recording progress on the laptop after every
/// acknowledged chunk and reporting it through `progress`. A page-specific problem is recorded
/// on that page and the pass goes on; a network, server or device problem stops the pass with
/// that error (everything acknowledged before it is kept).
pub fn upload_pending_scans(
    store: &VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    progress: &mut dyn FnMut(UploadProgress),
) -> Result<UploadReport, SyncError> {
    let pending = store.pending_uploads(MAX_PAGES_PER_PASS)?;
    let mut lane = Lane {
        store,
        client,
        device,
        progress,
        now: UploadProgress {
            pages_total: pending.len(),
            bytes_total: pending.iter().map(|p| p.size).sum(),
            bytes_done: pending.iter().map(|p| p.uploaded.min(p.size)).sum(),
            ..UploadProgress::default()
        },
        report: UploadReport::default(),
    };
    (lane.progress)(lane.now);
    for batch in pending.chunks(MAX_BLOB_STATUS_BATCH) {
        let shas: Vec<String> = batch.iter().map(|p| p.sha256.clone()).collect();
        let held: HashMap<String, BlobStatus> = client
            .blob_statuses(&shas)?
            .into_iter()
            .map(|s| (s.sha256.clone(), s))
            .collect();
        for page in batch {
            lane.page(page, held.get(&page.sha256).cloned())?;
        }
    }
    Ok(lane.report)
}

/// What became of one page in this pass.
enum Outcome {
    /// The server holds it whole now; `sent` says whether this pass sent bytes for it.
    Complete { sent: bool },
    /// Given up on until the operator retries; recorded with its reason.
    Failed,
    /// Left for the next pass; recorded with its reason.
    Deferred,
}

struct Lane<'a> {
    store: &'a VillageStore,
    client: &'a SyncClient,
    device: &'a DeviceRef,
    progress: &'a mut dyn FnMut(UploadProgress),
    now: UploadProgress,
    report: UploadReport,
}

impl Lane<'_> {
    fn page(&mut self, page: &PendingUpload, held: Option<BlobStatus>) -> Result<(), SyncError> {
        let mut acked = page.uploaded.min(page.size);
        let outcome = self.send_page(page, held, &mut acked)?;
        match outcome {
            Outcome::Complete { sent } => {
                self.store.mark_upload_complete(&page.sha256)?;
                self.advance(&mut acked, page.size);
                self.now.pages_done += 1;
                if sent {
                    self.report.pages_uploaded += 1;
                } else {
                    self.report.pages_already_held += 1;
                }
            }
            Outcome::Failed => {
                self.now.pages_failed += 1;
                self.report.pages_failed += 1;
            }
            Outcome::Deferred => self.report.pages_deferred += 1,
        }
        (self.progress)(self.now);
        Ok(())
    }

    /// Moves this page's acknowledged bytes from `*acked` to `to` in the overall progress.
    fn advance(&mut self, acked: &mut u64, to: u64) {
        self.now.bytes_done = (self.now.bytes_done + to).saturating_sub(*acked);
        *acked = to;
    }

    fn send_page(
        &mut self,
        page: &PendingUpload,
        held: Option<BlobStatus>,
        acked: &mut u64,
    ) -> Result<Outcome, SyncError> {
        let sha = page.sha256.as_str();
        if let Some(h) = &held {
            if h.complete && h.size == page.size {
                return Ok(Outcome::Complete { sent: false });
            }
        }
        let Some(bytes) = self.store.scan_bytes(sha)? else {
            self.store.mark_upload_failed(
                sha,
                "pindaian halaman ini tidak ada lagi di laptop; lampirkan ulang dokumennya",
            )?;
            return Ok(Outcome::Failed);
        };
        if bytes.len() as u64 != page.size || hex_sha256(&bytes) != sha {
            self.store.mark_upload_failed(
                sha,
                "pindaian halaman ini rusak di laptop (isi tidak cocok dengan hash-nya); \
                 lampirkan ulang dokumennya",
            )?;
            return Ok(Outcome::Failed);
        }
        let announce = BlobAnnounce {
            device: self.device.clone(),
            sha256: sha.to_string(),
            size: page.size,
        };
        let (mut restarts, mut detours, mut sent) = (0u32, 0u32, false);
        let mut answer = match held {
            Some(h) if h.size == page.size => Ok(h),
            _ => self.client.announce_blob(&announce),
        };
        loop {
            let status = match answer {
                Ok(status) => status,
                Err(BlobError::Sync(e)) => return self.sync_failure(sha, e),
                Err(BlobError::SizeConflict(held)) => {
                    self.store.mark_upload_failed(
                        sha,
                        &format!(
                            "server Disdukcapil sudah memegang berkas dengan hash ini tetapi \
                             ukuran lain ({} byte, di laptop {} byte); hubungi admin kabupaten",
                            held.size, page.size
                        ),
                    )?;
                    return Ok(Outcome::Failed);
                }
                Err(BlobError::OffsetMismatch(held)) => {
                    detours += 1;
                    held
                }
                Err(BlobError::NotAnnounced) => {
                    detours += 1;
                    if detours > MAX_DETOURS {
                        return self.defer(sha, "server Disdukcapil terus menolak berkas ini");
                    }
                    answer = self.client.announce_blob(&announce);
                    continue;
                }
                Err(BlobError::HashMismatch) => {
                    restarts += 1;
                    self.report.restarts += 1;
                    self.store.record_upload_offset(sha, 0)?;
                    self.advance(acked, 0);
                    (self.progress)(self.now);
                    if restarts > MAX_RESTARTS {
                        return self.defer(
                            sha,
                            "berkas berulang kali rusak dalam perjalanan (hash tidak cocok); \
                             dicoba lagi pada sinkronisasi berikutnya",
                        );
                    }
                    answer = self.client.announce_blob(&announce);
                    continue;
                }
            };
            if status.complete {
                return Ok(Outcome::Complete { sent });
            }
            if detours > MAX_DETOURS || status.received >= page.size || status.size != page.size {
                return self.defer(
                    sha,
                    "server Disdukcapil tidak menerima potongan berkas ini; dicoba lagi nanti",
                );
            }
            if status.received != *acked {
                self.store.record_upload_offset(sha, status.received)?;
                self.advance(acked, status.received);
                (self.progress)(self.now);
            }
            let start = status.received as usize;
            let end = (start + MAX_CHUNK_BYTES).min(bytes.len());
            answer = self
                .client
                .put_blob_chunk(sha, status.received, &bytes[start..end]);
            if let Ok(s) = &answer {
                sent = true;
                self.report.bytes_uploaded += s.received.saturating_sub(status.received);
                if !s.complete {
                    self.store.record_upload_offset(sha, s.received)?;
                    self.advance(acked, s.received);
                    (self.progress)(self.now);
                }
            }
        }
    }

    /// A failure that is not this page's own: recorded on the page, then it stops the pass,
    /// unless it is a refusal of this page alone (a 4xx other than authentication, time-out or
    /// rate limit: no wait fixes it), which gives up on the page.
    fn sync_failure(&mut self, sha: &str, e: SyncError) -> Result<Outcome, SyncError> {
        let message = e.to_string();
        if let SyncError::Rejected { status, .. } = &e {
            let status = *status;
            if (400..500).contains(&status) && ![401, 403, 408, 429].contains(&status) {
                self.store.mark_upload_failed(sha, &message)?;
                return Ok(Outcome::Failed);
            }
        }
        self.store.record_upload_error(sha, &message)?;
        Err(e)
    }

    fn defer(&mut self, sha: &str, message: &str) -> Result<Outcome, SyncError> {
        self.store.record_upload_error(sha, message)?;
        Ok(Outcome::Deferred)
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    loket_store::hex(&Sha256::digest(bytes))
}
