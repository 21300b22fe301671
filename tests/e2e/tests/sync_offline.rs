//! Issue 5's window story: the laptop talks to the back office through the worst village link
//! (`loket-netem`: 50 KB/s, 200 ms each way). The link goes down; the operator registers, syncs,
//! and sees the queue with the reason in plain words; carries the queue to the district on a
//! USB bundle that `loket bundle import` takes in; the link comes back and the progress bars
//! finish — and the back office still holds the application exactly once.
//!
//! Runs after `story.rs` (test binaries run in name order) and leaves its screenshots, named
//! `offline-*`, beside the story's in `artifacts/e2e/`.

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use loket_e2e::*;
use loket_netem::{FaultPlan, Proxy};

const PASSWORD: &str = "rahasia-desa-1";

#[tokio::test(flavor = "multi_thread")]
async fn offline_queue_usb_bundle_then_progress_bars() {
    match tokio::time::timeout(Duration::from_secs(240), run()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("offline story failed: {e:#}"),
        Err(_) => panic!("offline story did not finish within 240 s"),
    }
}

async fn run() -> Result<()> {
    let loket = built_binary("loket")?;
    built_binary("loket-desk")?;
    let display = Display::start()?;
    let server = BackOffice::start().await?;
    let upstream = server
        .url()
        .trim_start_matches("http://")
        .parse()
        .context("back office address")?;
    let proxy = Proxy::start(upstream, FaultPlan::village(5))?;
    let mut tauri = TauriDriver::start(display.name(), &proxy.http_url()).await?;
    let desk = tauri.connect().await?;
    let result = story(&desk, &server, &proxy, &tauri, &loket).await;
    if let Err(e) = &result {
        eprintln!("[e2e] FAILED: {e:#}");
        desk.save_failure_evidence().await;
        eprintln!("{}", server.log_tail(40));
        eprintln!("{}", tauri.log_tail(40));
    }
    let _ = desk.close().await;
    result
}

async fn story(
    desk: &Browser,
    server: &BackOffice,
    proxy: &Proxy,
    tauri: &TauriDriver,
    loket: &std::path::Path,
) -> Result<()> {
    desk.wait_for_within("#first-run", Duration::from_secs(60))
        .await?;
    desk.type_into("#fr-password", PASSWORD).await?;
    desk.type_into("#fr-password2", PASSWORD).await?;
    desk.click("#btn-first-run").await?;
    desk.wait_for_within("#nav-register", Duration::from_secs(60))
        .await?;

    // Enrolled once while the link was up (a first sync also brings the district's keys).
    let code = server.enrollment_code(VILLAGE_CODE, DEVICE)?;
    desk.click("#nav-settings").await?;
    desk.type_into("#enroll-code", &code).await?;
    desk.click("#btn-enroll").await?;
    desk.wait_attr("#enroll-status", "data-state", "ok").await?;
    desk.click("#nav-list").await?;
    desk.click("#btn-sync").await?;
    desk.wait_attr("#sync-status", "data-sync", "ok").await?;

    // The link goes down for days.
    proxy.set_link_up(false);
    desk.click("#nav-register").await?;
    desk.type_into("#f-nik", "7315011502030005").await?;
    desk.type_into("#f-full_name", "Baso Rahmat Hidayat")
        .await?;
    desk.type_into("#f-birth_place", "Pinrang").await?;
    desk.type_into("#f-birth_date", "15-02-2003").await?;
    desk.select("#f-sex", "male").await?;
    desk.type_into("#f-address", "Dusun Massulowalie RT 001 RW 002")
        .await?;
    desk.type_into("#sf-nomor_kk", "7315011203150007").await?;
    desk.select("#sf-marital_status", "kawin").await?;
    desk.click(".slot[data-slot=\"perekaman_biometrik\"] input.slot-check-box")
        .await?;
    let input = desk
        .wait_for(".slot[data-slot=\"kk\"] input.slot-file")
        .await?;
    input
        .send_keys(
            &repo_root()
                .join("assets/demo/contoh-kk.jpg")
                .display()
                .to_string(),
        )
        .await?;
    desk.wait_attr(".slot[data-slot=\"kk\"]", "data-attached", "true")
        .await?;
    desk.wait_attr("#missing-summary", "data-can-submit", "true")
        .await?;
    desk.click("#btn-save").await?;
    let tracking = desk
        .wait_text("#receipt-tracking", "a tracking number", |t| {
            !t.trim().is_empty()
        })
        .await?
        .trim()
        .to_string();

    // Sync while offline: nothing lost, and the queue says why in plain words.
    desk.click("#nav-list").await?;
    desk.click("#btn-sync").await?;
    desk.wait_attr("#sync-status", "data-sync", "error").await?;
    let item = format!("#outbox tr[data-tracking=\"{tracking}\"]");
    let why = desk
        .wait_text(&format!("{item} .outbox-why"), "a reason", |t| {
            t.contains("tidak dapat dihubungi")
        })
        .await?;
    eprintln!("[e2e] offline reason: {why}");
    let status = format!("#applications tr[data-tracking=\"{tracking}\"] span.status");
    desk.wait_attr(&status, "data-status", "queued").await?;
    desk.screenshot("offline-01-queue-waiting").await?;

    // Carried on a USB bundle (here: the data folder) and imported at the district.
    desk.click("#nav-settings").await?;
    desk.click("#btn-export").await?;
    desk.wait_attr("#export-status", "data-state", "ok").await?;
    let bundle = desk
        .attr("#export-status", "data-path")
        .await?
        .context("the export names no file")?;
    ensure!(
        std::path::Path::new(&bundle).starts_with(tauri.data_dir()),
        "bundle written outside the data folder: {bundle}"
    );
    desk.screenshot("offline-02-usb-bundle").await?;
    let import = |file: &str| {
        run_command(
            loket,
            &[
                OsStr::new("bundle"),
                OsStr::new("import"),
                OsStr::new("--data"),
                server.data_dir().as_os_str(),
                OsStr::new(file),
            ],
        )
    };
    let out = import(&bundle)?;
    ensure!(
        out.code == Some(0) && out.stdout.contains("Permohonan: 1 baru"),
        "bundle import: {:?}\n{}\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
    let again = import(&bundle)?;
    ensure!(
        again.code == Some(0) && again.stdout.contains("Permohonan: 0 baru, 1 sudah ada"),
        "second import changed something: {}",
        again.stdout
    );

    // The link comes back: the lanes run and their bars finish; nothing is duplicated.
    proxy.set_link_up(true);
    desk.click("#nav-list").await?;
    let started = Instant::now();
    desk.click("#btn-retry-all").await?;
    desk.click("#btn-sync").await?;
    desk.wait_attr("#sync-status", "data-sync", "ok").await?;
    eprintln!(
        "[e2e] sync over the throttled link took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for lane in ["applications", "attachments", "decisions"] {
        desk.wait_attr(&format!("#lane-{lane}"), "data-state", "ok")
            .await?;
    }
    desk.wait_attr(&status, "data-status", "received").await?;
    desk.screenshot("offline-03-back-online").await?;
    let (code, body) = http_get(&format!("{}/review", server.url())).await?;
    let page = String::from_utf8_lossy(&body);
    ensure!(
        code == 200
            && page
                .matches(&format!("data-tracking=\"{tracking}\""))
                .count()
                == 1,
        "the reviewer queue does not list {tracking} exactly once"
    );
    ensure!(
        proxy.stats().bytes_total() > 0,
        "nothing went through the throttled link"
    );
    Ok(())
}
