//! `loket-chaos-bench [--quick] [--apps N] [--seed S] [--keep-alive]`: the upload benchmark of
//! issue 5 (docs/SYNC.md, "Testing under faults"). Not a test: it reports numbers.
//!
//! N applications × 3 scan pages (real `loket-scan` intake output, 100–200 KB) go from a village
//! store to an in-process back office through a `loket_netem::Proxy` shaped like the worst
//! village link — 50,000 B/s each way (400 kbit/s), 200 ms each way, 400 ms per new connection —
//! with 5 % of connections cut (`FaultRates::cuts(0.05)`). Two uploaders run at once, each over
//! its own copy of that link, against its own back office:
//!
//! - **resumable**: the product. Applications go in batches of ≤ 100 (`SyncClient::submit`),
//!   pages through the attachment lane (`loket_sync::upload_pending_scans`: one status query per
//!   ≤ 500 pages, announce, chunks from the server's offset), run again at once after a failure.
//! - **naive**: the same application push, then per page "announce and PUT the whole page from
//!   offset 0", and after any failure exactly that again, without asking the server what it
//!   holds. A page the server completed but whose answer was lost is therefore sent whole again
//!   (the server reads it and refuses it with 409, which the naive client takes as done).
//!
//! Reported per uploader: bytes on the wire ÷ payload bytes and elapsed time ÷ (payload ÷
//! bandwidth), with the faults that took effect.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use loket_backoffice::{AppState, BackofficeStore};
use loket_netem::{FaultPlan, FaultRates, Proxy, Stats};
use loket_store::VillageStore;
use loket_sync::blobs::BlobError;
use loket_sync::protocol::{BlobAnnounce, DeviceRef, SubmitBatch, SubmitOutcome, MAX_CHUNK_BYTES};
use loket_sync::SyncClient;

/// Bandwidth of the simulated link in each direction (400 kbit/s).
const BYTES_PER_SEC: u64 = 50_000;

/// The upload benchmark over a 400 kbit/s link with 5 % connection cuts.
#[derive(Parser)]
struct Args {
    /// 4 applications instead of 500 (about a minute).
    #[arg(long)]
    quick: bool,
    /// Number of applications (3 pages each); overrides --quick.
    #[arg(long)]
    apps: Option<usize>,
    /// Seed of the fault schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of connections cut (split evenly: cut request, cut response, drop response).
    #[arg(long, default_value_t = 0.05)]
    cut_rate: f64,
    /// Let connections carry many requests (the bench server otherwise answers `Connection:
    /// close`, so every request is its own connection and "5 % of connections" means 5 % of
    /// requests).
    #[arg(long)]
    keep_alive: bool,
}

/// Which uploader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Uploader {
    Resumable,
    Naive,
}

impl Uploader {
    fn name(self) -> &'static str {
        match self {
            Uploader::Resumable => "resumable (loket-sync)",
            Uploader::Naive => "naive (whole page again)",
        }
    }
}

/// What one uploader's run measured.
struct Outcome {
    elapsed: Duration,
    stats: Stats,
    /// Requests that failed as the client saw them (and were retried).
    failures: u64,
    /// Page uploads tried again after a failure: the naive client's repeats, the resumable
    /// lane's failed tries recorded per page (`scan_uploads.attempts`).
    retries: u64,
}

/// The payload: what has to arrive.
#[derive(Clone, Copy, Default)]
struct Payload {
    pages: u64,
    page_bytes: u64,
    apps: u64,
    app_bytes: u64,
}

impl Payload {
    fn total(&self) -> u64 {
        self.page_bytes + self.app_bytes
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let apps = args.apps.unwrap_or(if args.quick { 4 } else { 500 });
    ensure!(apps > 0, "--apps must be at least 1");
    let plan = FaultPlan {
        rates: FaultRates::cuts(args.cut_rate),
        // Anywhere within a whole page upload (pages are ≤ 200 KB).
        cut_after: 1..=200_000,
        ..FaultPlan::village(args.seed)
    };
    plan.validate().map_err(anyhow::Error::msg)?;

    // Three real intake outputs; every application gets its own copies (JPEG comment).
    let started = Instant::now();
    let bases: [Vec<u8>; 3] = [
        loket_chaos::intake_first_page(&loket_chaos::synthetic_page_png(1240, 1754, 21, 3))?,
        loket_chaos::intake_first_page(&loket_chaos::synthetic_page_png(900, 1273, 22, 3))?,
        loket_chaos::intake_first_page(&loket_chaos::synthetic_page_png(640, 905, 23, 3))?,
    ];
    for base in &bases {
        ensure!(base.len() < MAX_CHUNK_BYTES, "a page must fit one chunk");
    }
    println!(
        "loket-chaos-bench: {apps} applications × 3 scan pages ({}), fault seed {}",
        if args.keep_alive {
            "keep-alive connections"
        } else {
            "one request per connection"
        },
        args.seed
    );
    println!(
        "link: 50,000 B/s (400 kbit/s) each way, 200 ms each way, 400 ms per new connection; \
         {:.0} % of connections planned a cut, a third each cut-request / cut-response / \
         drop-response-after-commit, cut point uniform in 1..=200,000 bytes of the connection \
         (a planned cut fires only if the connection carries that many bytes)",
        args.cut_rate * 100.0
    );
    println!(
        "pages: real loket-scan intake output of synthetic A4 scans, {} / {} / {} bytes, made \
         unique per application with a JPEG comment (intake {:.1} s)",
        bases[0].len(),
        bases[1].len(),
        bases[2].len(),
        started.elapsed().as_secs_f64()
    );
    if !args.keep_alive {
        println!(
            "connections: the bench server answers `Connection: close`, so each request is its \
             own TCP connection for both uploaders (pays the 400 ms handshake each time; a fault \
             is decided per connection, so 5 % of connections = 5 % of requests)"
        );
    }
    println!(
        "naive model: announce, then PUT the whole page at offset 0; after any failure both \
         again from the start without asking the server first; a 409 for a page the server \
         already completed (its answer was lost) counts as done. Pages fit one 512 KiB chunk, \
         so the resumable client also resends a page whole when a cut hits its PUT; it differs \
         in asking the server (status query, offset) before resending."
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let bases = Arc::new(bases);
    let mut handles = Vec::new();
    for uploader in [Uploader::Resumable, Uploader::Naive] {
        let (handle, plan, bases) = (runtime.handle().clone(), plan.clone(), bases.clone());
        let keep_alive = args.keep_alive;
        handles.push((
            uploader,
            std::thread::spawn(move || run(uploader, apps, &bases, plan, keep_alive, &handle)),
        ));
    }
    let mut results = Vec::new();
    for (uploader, handle) in handles {
        let (payload, outcome) = handle
            .join()
            .map_err(|_| anyhow::anyhow!("{} panicked", uploader.name()))?
            .with_context(|| uploader.name())?;
        results.push((uploader, payload, outcome));
    }
    let payload = results[0].1;
    println!(
        "payload: {} pages = {} bytes + {} application records = {} bytes (JSON) → {} bytes; \
         payload ÷ bandwidth = {:.1} s",
        payload.pages,
        payload.page_bytes,
        payload.apps,
        payload.app_bytes,
        payload.total(),
        payload.total() as f64 / BYTES_PER_SEC as f64
    );
    print_table(&payload, &results);
    Ok(())
}

fn print_table(payload: &Payload, results: &[(Uploader, Payload, Outcome)]) {
    let ideal = payload.total() as f64 / BYTES_PER_SEC as f64;
    let mut rows: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    let mut row = |n: usize, label: &str, value: String| {
        rows.entry(n)
            .or_insert_with(|| (label.to_string(), Vec::new()))
            .1
            .push(value);
    };
    for (_, _, o) in results {
        let s = &o.stats;
        let p = payload.total() as f64;
        row(0, "bytes up (client → server)", s.bytes_up.to_string());
        row(1, "bytes down", s.bytes_down.to_string());
        row(
            2,
            "wire ÷ payload (up)",
            format!("{:.3}", s.bytes_up as f64 / p),
        );
        row(
            3,
            "wire ÷ payload (both ways)",
            format!("{:.3}", s.bytes_total() as f64 / p),
        );
        row(4, "elapsed", format!("{:.1} s", o.elapsed.as_secs_f64()));
        row(
            5,
            "elapsed ÷ (payload ÷ bandwidth)",
            format!("{:.2}", o.elapsed.as_secs_f64() / ideal),
        );
        row(6, "connections", s.connections.to_string());
        row(
            7,
            "cuts that took effect (req/resp/drop)",
            format!(
                "{} ({}/{}/{})",
                s.faults.total(),
                s.faults.cut_request,
                s.faults.cut_response,
                s.faults.drop_response
            ),
        );
        row(
            8,
            "failed requests seen by the client",
            o.failures.to_string(),
        );
        row(
            9,
            "page uploads retried after a failure",
            o.retries.to_string(),
        );
    }
    let names: Vec<&str> = results.iter().map(|(u, _, _)| u.name()).collect();
    println!("{:<40} {:>26} {:>26}", "", names[0], names[1]);
    for (label, values) in rows.values() {
        println!("{label:<40} {:>26} {:>26}", values[0], values[1]);
    }
}

/// One uploader's whole run: its own back office, proxy and village store.
fn run(
    uploader: Uploader,
    apps: usize,
    bases: &[Vec<u8>; 3],
    plan: FaultPlan,
    keep_alive: bool,
    runtime: &tokio::runtime::Handle,
) -> Result<(Payload, Outcome)> {
    let dir = tempfile::tempdir()?;
    let state = AppState {
        store: Arc::new(Mutex::new(BackofficeStore::open(
            &dir.path().join("backoffice.sqlite"),
        )?)),
        key: Arc::new(loket_qr::IssuingKey {
            signing_key: ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
            district_code: "73.15".into(),
            district_name: "Kabupaten Pinrang".into(),
        }),
        signer: Arc::new(("Kepala Dinas".into(), "Kabupaten Pinrang".into())),
        clock: loket_backoffice::system_clock(),
    };
    let device = loket_chaos::device(1);
    let key = loket_backoffice::testing::enroll_in(&state, &device, [7; 32]);
    let server = serve(state.clone(), keep_alive, runtime)?;
    let proxy = Proxy::start_on(runtime, server, plan)?;

    let mut store = loket_chaos::open_village(&dir.path().join("village.sqlite"))?;
    let mut payload = Payload::default();
    for index in 0..apps {
        let id = loket_chaos::register_application(
            &mut store,
            1,
            index,
            bases,
            loket_chaos::local_now(),
        )?;
        let app = store.application(id)?;
        payload.apps += 1;
        payload.app_bytes +=
            serde_json::to_vec(&loket_sync::protocol::envelope(&app))?.len() as u64;
        for page in app.provided.iter().flat_map(|p| &p.pages) {
            payload.pages += 1;
            payload.page_bytes += page.size;
        }
    }
    let client = SyncClient::new(&proxy.http_url())?.with_device_key(device.clone(), key);

    let t0 = Instant::now();
    let mut outcome = Outcome {
        elapsed: Duration::ZERO,
        stats: Stats::default(),
        failures: 0,
        retries: 0,
    };
    push_applications(&mut store, &client, &device, &mut outcome)?;
    match uploader {
        Uploader::Resumable => resumable(&store, &client, &device, &mut outcome)?,
        Uploader::Naive => naive(&store, &client, &device, &mut outcome)?,
    }
    outcome.elapsed = t0.elapsed();
    outcome.stats = proxy.stats();
    drop(client);

    // Everything arrived, whole: the numbers count only for a finished job.
    let held = state.store.lock().expect("store lock").count()?;
    ensure!(
        held == apps as i64,
        "{} holds {held} of {apps} applications",
        uploader.name()
    );
    for app in store.applications()? {
        for page in app.provided.iter().flat_map(|p| &p.pages) {
            let status = state
                .store
                .lock()
                .expect("store lock")
                .blob_status(&page.sha256)?;
            ensure!(
                status.as_ref().is_some_and(|s| s.complete),
                "{}: page {} not complete on the server: {status:?}",
                uploader.name(),
                page.sha256
            );
        }
    }
    Ok((payload, outcome))
}

/// Serves the back office's router on loopback, answering `Connection: close` unless
/// `keep_alive`.
fn serve(
    state: AppState,
    keep_alive: bool,
    runtime: &tokio::runtime::Handle,
) -> Result<SocketAddr> {
    let mut router = loket_backoffice::router(state);
    if !keep_alive {
        router = router.layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
                response
            },
        ));
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// Both uploaders push applications the same way: batches of ≤ 100, the same batch again after
/// a failure (the server is idempotent on the ids).
fn push_applications(
    store: &mut VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    outcome: &mut Outcome,
) -> Result<()> {
    loop {
        let batch = store.outbox(100)?;
        if batch.is_empty() {
            return Ok(());
        }
        let applications = batch.iter().map(loket_sync::protocol::envelope).collect();
        match client.submit(&SubmitBatch {
            device: device.clone(),
            applications,
        }) {
            Ok(answer) => {
                for result in answer.results {
                    ensure!(
                        result.outcome != SubmitOutcome::Conflict,
                        "conflict on {}",
                        result.id
                    );
                    store.mark_acknowledged(result.id, result.status)?;
                }
            }
            Err(_) => outcome.failures += 1,
        }
    }
}

/// The product's attachment lane, run again at once whenever it stops on a failure.
fn resumable(
    store: &VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    outcome: &mut Outcome,
) -> Result<()> {
    for _ in 0..100_000 {
        match loket_sync::upload_pending_scans(store, client, device, &mut |_| {}) {
            Ok(report) => {
                ensure!(
                    report.pages_failed == 0,
                    "pages failed: {:?}",
                    store.failed_uploads()?
                );
                if store.pending_uploads(1)?.is_empty() {
                    for app in store.applications()? {
                        for page in app.provided.iter().flat_map(|p| &p.pages) {
                            let state = store.upload_state(&page.sha256)?;
                            outcome.retries += state.map_or(0, |s| u64::from(s.attempts));
                        }
                    }
                    return Ok(());
                }
            }
            Err(_) => outcome.failures += 1,
        }
    }
    anyhow::bail!("the attachment lane did not finish")
}

/// The naive uploader: per page, announce and PUT the whole page from offset 0, both again
/// after any failure, never asking the server what it holds.
fn naive(
    store: &VillageStore,
    client: &SyncClient,
    device: &DeviceRef,
    outcome: &mut Outcome,
) -> Result<()> {
    for page in store.pending_uploads(usize::MAX >> 1)? {
        let bytes = store.scan_bytes(&page.sha256)?.context("page bytes")?;
        let announce = BlobAnnounce {
            device: device.clone(),
            sha256: page.sha256.clone(),
            size: page.size,
        };
        for attempt in 1.. {
            ensure!(attempt < 10_000, "page {} never arrived", page.sha256);
            if attempt > 1 {
                outcome.retries += 1;
            }
            if client.announce_blob(&announce).is_err() {
                outcome.failures += 1;
                continue;
            }
            match client.put_blob_chunk(&page.sha256, 0, &bytes) {
                Ok(status) if status.complete => break,
                Err(BlobError::OffsetMismatch(held)) if held.complete => break,
                _ => outcome.failures += 1,
            }
        }
        store.mark_upload_complete(&page.sha256)?;
    }
    Ok(())
}
