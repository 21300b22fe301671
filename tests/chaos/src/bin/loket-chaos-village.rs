//! `loket-chaos-village`: one village laptop of the chaos test, in its own process so the test
//! can `kill -9` it anywhere. It opens (or creates) its encrypted store, enrolls with the code it
//! was given (unless the store is enrolled already), then alternates: register a few
//! applications (three distinct scan pages each), run one automatic sync pass
//! (`loket_sync::sync_pass`, planner clock sped up by `loket_chaos::TIME_WARP`). It stops when
//! every application, page and audit entry reached the server.
//!
//! Everything it knows is in the store, so a restart after `kill -9` continues where the store
//! says. Lines on stdout (flushed one by one): `ENROLLED`, `REGISTERED <n>`, `PASS <k> <state>
//! stopped=<why|->`, then `DONE <state>` (exit 0), `STUCK <why>` (exit 3) or `ERROR <why>`
//! (exit 2).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use loket_chaos::VillageState;
use loket_sync::{sync_pass, SyncClient, SyncEnv, Trigger};
use rand::SeedableRng;

/// One chaos-test laptop.
#[derive(Parser)]
struct Args {
    /// The laptop's store (created on first start).
    #[arg(long)]
    db: PathBuf,
    /// The back office as the laptop reaches it (the fault proxy's URL).
    #[arg(long)]
    url: String,
    /// Device number within the test village.
    #[arg(long)]
    device: u16,
    /// Applications to register in all.
    #[arg(long)]
    apps: usize,
    /// Folder with the base scan pages (`page-0.jpg` … `page-2.jpg`).
    #[arg(long)]
    pages: PathBuf,
    /// One-time enrollment code from `loket device code`.
    #[arg(long)]
    code: String,
    /// Unix time the soak run started: the origin of the sped-up planner clock.
    #[arg(long)]
    warp_epoch: i64,
    /// Applications registered between two sync passes.
    #[arg(long, default_value_t = 5)]
    per_pass: usize,
    /// Seed of the planner's jitter (mixed with the device and pass number).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            say(&format!("ERROR {e:#}"));
            ExitCode::from(2)
        }
    }
}

/// One line on stdout, flushed at once: the test reads lines as they come and may kill the
/// process right after.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    // The key is fixed for the test (the app unwraps it from the operator's password).
    let mut store = loket_chaos::open_village(&args.db).context("opening the village store")?;
    let device = loket_chaos::device(args.device);
    enroll(args, &store, &device)?;
    let bases = loket_chaos::read_base_pages(&args.pages)?;
    let mut registered = store.applications()?.len();
    let seed = args.seed ^ (u64::from(args.device) << 48);
    let started = std::time::Instant::now();
    for pass in 0u64.. {
        // The operator keeps registering between passes.
        let upto = (registered + args.per_pass).min(args.apps);
        while registered < upto {
            loket_chaos::register_application(
                &mut store,
                args.device,
                registered,
                &bases,
                loket_chaos::local_now(),
            )?;
            registered += 1;
            say(&format!("REGISTERED {registered}"));
        }
        // A fresh client per pass, as the desktop app makes one per "sync now".
        let client = SyncClient::for_store(&args.url, &store)?;
        let epoch = args.warp_epoch;
        let clock = move || loket_chaos::warped_now(epoch);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ pass);
        let mut env = SyncEnv {
            now: &clock,
            rng: &mut rng,
            trigger: Trigger::Automatic,
        };
        let (report, stopped) = sync_pass(&mut store, &client, &device, &mut env, &mut |_| {});
        drop(client);
        let state = VillageState::read(&store)?;
        let why = stopped
            .as_ref()
            .map(|e| e.to_string().replace('\n', " "))
            .unwrap_or_else(|| "-".into());
        let lanes: Vec<String> = report
            .lanes
            .iter()
            .map(|l| format!("{}:{:?}:{}/{}", l.lane.code(), l.state, l.done, l.total))
            .collect();
        say(&format!(
            "PASS {pass} t={:.2} {} lanes={} stopped={why}",
            started.elapsed().as_secs_f64(),
            state.line(),
            lanes.join(",")
        ));
        if state.is_done(args.apps) {
            say(&format!("DONE {}", state.line()));
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(why) = state.stuck() {
            for page in store.failed_uploads()? {
                say(&format!(
                    "FAILED-PAGE {} {}",
                    page.sha256,
                    page.last_error.unwrap_or_default()
                ));
            }
            say(&format!("STUCK {why}"));
            return Ok(ExitCode::from(3));
        }
        // A laptop that cannot reach the server does not spin.
        std::thread::sleep(Duration::from_millis(if stopped.is_some() {
            150
        } else {
            20
        }));
    }
    unreachable!("the pass loop only ends by returning")
}

/// Enrolls the laptop unless its store already holds a usable enrollment, retrying what a bad
/// link or a restarting server breaks. A retry reuses the pending key, so a lost answer never
/// burns the code (`loket_sync::auth::enroll`).
fn enroll(
    args: &Args,
    store: &loket_store::VillageStore,
    device: &loket_sync::protocol::DeviceRef,
) -> anyhow::Result<()> {
    if loket_sync::auth::device_signer(store)?.is_some() {
        say("ENROLLED already");
        return Ok(());
    }
    for attempt in 1.. {
        match loket_sync::auth::enroll(&args.url, store, &args.code, device, &mut rand::rngs::OsRng)
        {
            Ok(_) => {
                say(&format!("ENROLLED after {attempt} attempts"));
                return Ok(());
            }
            Err(e) if e.is_retryable() && attempt < 500 => {
                say(&format!("ENROLL-RETRY {e}"));
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e).context("enrolling"),
        }
    }
    unreachable!("the enrollment loop only ends by returning")
}
