//! The whole Loket story, end to end, with the real programs:
//! a village operator registers an application in the desktop window (WebKitGTK via
//! tauri-driver under Xvfb), it syncs to the back office (`loket serve`), a reviewer approves it
//! on the back-office page (headless Chromium), the signed document syncs back and verifies, and
//! `loket verify` accepts the downloaded PDF and refuses noise.
//!
//! One test on purpose: tauri-driver sessions conflict when run concurrently (STACK.md pitfall 7).
//! Needs `cargo build --workspace` first (./scripts/test-all does it). Screenshots and logs go to
//! `artifacts/e2e/`.

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use loket_e2e::*;

const NAME: &str = "Andi Tenri Ajeng";
const PASSWORD: &str = "rahasia-desa-1";
const INVALID_NIK: &str = "3271013504900001"; // day 35: not a date
const NIK: &str = "7315015507050003"; // female born 15-07-2005 (day 15 + 40)
const KK: &str = "7315011203150007";
const CHILD_NIK: &str = "7315011003220002"; // male born 10-03-2022

struct Person<'a> {
    nik: &'a str,
    full_name: &'a str,
    birth_place: &'a str,
    birth_date: &'a str,
    sex: &'a str,
    address: &'a str,
    phone: &'a str,
}

const ANDI: Person<'static> = Person {
    nik: NIK,
    full_name: NAME,
    birth_place: "Pinrang",
    birth_date: "15-07-2005",
    sex: "female",
    address: "Jl. Poros Pinrang No. 5, Massulowalie",
    phone: "081234567890",
};

#[tokio::test]
async fn village_registration_to_signed_document() {
    let started = Instant::now();
    match tokio::time::timeout(Duration::from_secs(300), run_story()).await {
        Ok(Ok(())) => eprintln!(
            "[e2e] story passed in {:.1}s",
            started.elapsed().as_secs_f64()
        ),
        Ok(Err(e)) => panic!("end-to-end story failed: {e:#}"),
        Err(_) => panic!("end-to-end story did not finish within 300 s"),
    }
}

/// Start everything, run the story, and on failure keep screenshots, page sources and log tails.
async fn run_story() -> Result<()> {
    // Fail (not skip) when something is missing, before starting anything.
    let loket = built_binary("loket")?;
    built_binary("loket-desk")?;
    clean_artifacts()?;

    // Declared in start order; dropped in reverse, so Xvfb goes last.
    let display = Display::start()?;
    eprintln!("[e2e] display {}", display.name());
    let server = BackOffice::start().await?;
    eprintln!("[e2e] back office at {}", server.url());
    let mut chromium = Chromium::start().await?;
    let mut tauri = TauriDriver::start(display.name(), server.url()).await?;
    let desk = tauri.connect().await?;
    let web = chromium.connect().await?;

    let result = story(&desk, &web, &server, &tauri, &loket).await;
    if let Err(e) = &result {
        eprintln!("[e2e] FAILED: {e:#}");
        desk.save_failure_evidence().await;
        web.save_failure_evidence().await;
        eprintln!("{}", server.log_tail(40));
        eprintln!("{}", tauri.log_tail(40));
        eprintln!("{}", chromium.log_tail(20));
    }
    // Ending the sessions closes the window and the browser; the guards kill whatever is left.
    let _ = desk.close().await;
    let _ = web.close().await;
    result
}

async fn story(
    desk: &Browser,
    web: &Browser,
    server: &BackOffice,
    tauri: &TauriDriver,
    loket: &std::path::Path,
) -> Result<()> {
    // 0. A fresh laptop starts locked, on the first-run form: the first operator's password
    //    creates the encrypted store. The display name is offered from LOKET_OPERATOR.
    desk.wait_for_within("#first-run", Duration::from_secs(60))
        .await
        .context("the desktop window never showed the first-run form #first-run")?;
    ensure!(
        desk.count("#nav-register").await? == 0,
        "the app is visible before any operator exists"
    );
    desk.type_into("#fr-username", "operator").await?;
    desk.type_into("#fr-display", OPERATOR).await?;
    desk.type_into("#fr-password", PASSWORD).await?;
    desk.type_into("#fr-password2", PASSWORD).await?;
    desk.screenshot("desktop-00-first-run").await?;
    desk.click("#btn-first-run").await?;

    // The window is up when the navigation is.
    desk.wait_for_within("#nav-register", Duration::from_secs(60))
        .await
        .context("the desktop window never showed #nav-register")?;
    let db = std::fs::read(tauri.data_dir().join("village.sqlite"))?;
    ensure!(
        !db.starts_with(b"SQLite format 3\0"),
        "village.sqlite is plain SQLite, not encrypted"
    );

    // 0b. The laptop enrolls once with a one-time code the district admin issued
    //     (`loket device code`), typed on the Settings screen; only then can it sync.
    let code = server.enrollment_code(VILLAGE_CODE, DEVICE)?;
    desk.click("#nav-settings").await?;
    desk.wait_attr("#enroll-state", "data-enrolled", "no")
        .await?;
    desk.type_into("#enroll-code", &code.to_lowercase()).await?;
    desk.click("#btn-enroll").await?;
    desk.wait_attr("#enroll-status", "data-state", "ok")
        .await
        .context("enrolling with the code from `loket device code`")?;
    desk.wait_attr("#enroll-state", "data-enrolled", "yes")
        .await?;
    desk.screenshot("desktop-00b-enrolled").await?;

    // 1. An impossible NIK (day 35) is refused and nothing is saved.
    desk.click("#nav-register").await?;
    fill_form(
        desk,
        &Person {
            nik: INVALID_NIK,
            ..ANDI
        },
    )
    .await?;
    desk.click("#btn-save").await?;
    let err = desk
        .wait_text("#err-nik", "a non-empty error", |t| !t.trim().is_empty())
        .await?;
    let class = desk.attr("#err-nik", "class").await?.unwrap_or_default();
    ensure!(
        class.split_whitespace().any(|c| c == "error"),
        "#err-nik shows {err:?} but its class is {class:?}, not `error`"
    );
    ensure!(
        desk.count("#receipt-tracking").await? == 0
            || desk.text("#receipt-tracking").await?.trim().is_empty(),
        "a receipt appeared for an invalid NIK"
    );
    ensure!(
        desk.attr("#missing-summary", "data-can-submit")
            .await?
            .as_deref()
            != Some("true"),
        "an application with no documents counts as complete"
    );
    desk.screenshot("desktop-01-invalid-nik").await?;
    desk.click("#nav-list").await?;
    desk.wait_for("#applications").await?;
    tokio::time::sleep(Duration::from_millis(500)).await; // let the list load
    let rows = desk.count("#applications tr[data-tracking]").await?;
    ensure!(
        rows == 0,
        "the invalid application was saved: the list shows {rows} row(s)"
    );

    // 2. The corrected KTP-el application: without the KK scan it cannot be saved; a file that
    //    is not a scan is refused and changes nothing; with the scan it is accepted, and the
    //    receipt PDF says "not issued yet".
    desk.click("#nav-register").await?;
    fill_form(desk, &ANDI).await?;
    desk.type_into("#sf-nomor_kk", KK).await?;
    desk.select("#sf-marital_status", "belum_kawin").await?;
    tick(desk, "perekaman_biometrik").await?;
    desk.click("#btn-save").await?;
    desk.wait_text("#form-msg", "a 'cannot save yet' message", |t| {
        !t.trim().is_empty()
    })
    .await?;
    desk.wait_attr(".req[data-req=\"kk\"]", "data-satisfied", "false")
        .await?;
    ensure!(
        desk.count("#receipt").await? == 0,
        "an application without its KK scan was saved"
    );
    let scratch_scans = tempfile::tempdir()?;
    let not_a_scan = scratch_scans.path().join("kk.jpg");
    std::fs::write(&not_a_scan, b"MZ this is a program, not a picture")?;
    attach_file(desk, "kk", &not_a_scan).await?;
    desk.wait_attr(".slot[data-slot=\"kk\"]", "data-error", "true")
        .await?;
    let why = desk.text(".slot[data-slot=\"kk\"] .slot-status").await?;
    ensure!(
        desk.attr(".slot[data-slot=\"kk\"]", "data-attached")
            .await?
            .as_deref()
            == Some("false"),
        "a file that is not a scan was attached: {why:?}"
    );
    desk.screenshot("desktop-01b-bad-scan").await?;
    attach(desk, "kk", &demo_scan()).await?;
    desk.wait_attr(".req[data-req=\"kk\"]", "data-satisfied", "true")
        .await?;
    desk.wait_attr("#missing-summary", "data-can-submit", "true")
        .await?;
    desk.screenshot("desktop-01c-checklist-complete").await?;
    desk.click("#btn-save").await?;
    desk.wait_for("#receipt").await?;
    let tracking = desk
        .wait_text("#receipt-tracking", "a tracking number", |t| {
            !t.trim().is_empty()
        })
        .await?
        .trim()
        .to_string();
    ensure!(
        is_tracking_number(&tracking, VILLAGE_CODE, "001", "0001"),
        "tracking number {tracking:?} does not match ^7315012003-001-\\d{{6}}-0001$"
    );
    let receipt_text = collapse_whitespace(&desk.text("#receipt").await?);
    ensure!(
        receipt_text.contains("Permohonan diterima — dokumen belum terbit"),
        "the receipt panel does not say \"Permohonan diterima — dokumen belum terbit\": {receipt_text:?}"
    );
    eprintln!("[e2e] tracking number {tracking}");
    desk.click("#btn-print-receipt").await?;
    let shown = desk
        .wait_text("#receipt-pdf-path", "a file path", |t| !t.trim().is_empty())
        .await?;
    // The text is worded for people ("Berkas PDF: …"); the exact path is in data-path.
    let path = desk
        .attr("#receipt-pdf-path", "data-path")
        .await?
        .unwrap_or_default();
    ensure!(
        shown.contains(&path) && !path.is_empty(),
        "#receipt-pdf-path shows {shown:?} but its data-path is {path:?}"
    );
    let mut receipt_pdf = std::path::PathBuf::from(path.trim());
    if receipt_pdf.is_relative() {
        receipt_pdf = tauri.data_dir().join(receipt_pdf);
    }
    ensure!(
        receipt_pdf.is_file(),
        "#receipt-pdf-path shows {shown:?} but {} does not exist",
        receipt_pdf.display()
    );
    let _ = std::fs::copy(&receipt_pdf, artifacts_dir()?.join("receipt.pdf"));
    let text = pdf_text(&receipt_pdf)?;
    ensure!(
        text.contains(&tracking),
        "the receipt PDF does not contain the tracking number {tracking}: {text:?}"
    );
    ensure!(
        text.contains("dokumen belum terbit"),
        "the receipt PDF does not say \"dokumen belum terbit\": {text:?}"
    );
    // The 58 mm slip for thermal printers carries the same number and words.
    desk.click("#btn-print-thermal").await?;
    let thermal = tauri
        .data_dir()
        .join("receipts")
        .join(format!("{tracking}-58mm.pdf"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !thermal.is_file() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = pdf_text(&thermal)?;
    ensure!(
        text.contains(&tracking) && text.contains("belum terbit"),
        "the 58 mm receipt lacks the number or the wording: {text:?}"
    );
    eprintln!("[e2e] viewer calls: {:?}", tauri.opened_with_viewer());
    desk.screenshot("desktop-02-receipt").await?;

    // 3. Queued locally; a sync delivers it exactly once, and a second sync does not duplicate.
    let row = format!("#applications tr[data-tracking=\"{tracking}\"]");
    let row_status = format!("{row} span.status");
    desk.click("#nav-list").await?;
    desk.wait_attr(&row_status, "data-status", "queued").await?;
    desk.click("#btn-sync").await?;
    desk.wait_attr(&row_status, "data-status", "received")
        .await?;
    desk.screenshot("desktop-03-received").await?;
    let queue_row = format!("#queue tr[data-tracking=\"{tracking}\"]");
    let review = format!("{}/review", server.url());
    web.goto(&review).await?;
    web.wait_for("#queue").await?;
    let n = web.count(&queue_row).await?;
    ensure!(
        n == 1,
        "the review page lists {n} rows for {tracking}, expected 1"
    );

    desk.wait_attr("#sync-status", "data-sync-count", "1")
        .await?;
    desk.click("#btn-sync").await?;
    desk.wait_attr("#sync-status", "data-sync-count", "2")
        .await?;
    desk.wait_attr("#sync-status", "data-sync", "ok").await?;
    web.goto(&review).await?;
    web.wait_for("#queue").await?;
    let n = web.count(&queue_row).await?;
    ensure!(
        n == 1,
        "after a second sync the review page lists {n} rows for {tracking}, expected 1"
    );

    // 4. The reviewer approves it on the back-office page.
    web.screenshot("backoffice-01-queue").await?;
    web.click(&format!("{queue_row} a.open")).await?;
    web.wait_attr("#status", "data-status", "received").await?;
    web.screenshot("backoffice-02-detail").await?;
    web.click("#btn-approve").await?;
    web.wait_attr("#status", "data-status", "issued").await?;
    let doc_link = web.wait_for("#doc-link").await?;
    web.screenshot("backoffice-03-issued").await?;
    // `href` as a property is already absolute.
    let doc_url = match doc_link.prop("href").await? {
        Some(href) if !href.is_empty() => href,
        _ => bail!("#doc-link has no href"),
    };

    // 5. The issued document syncs back and verifies in the desktop app.
    desk.click("#btn-sync").await?;
    desk.wait_attr(&row_status, "data-status", "issued").await?;
    desk.wait_for(&format!("{row} .btn-document")).await?;
    desk.click(&format!("{row} .btn-verify")).await?;
    desk.wait_attr("#list-verify-result", "data-verdict", "valid")
        .await?;
    let verdict = desk.text("#list-verify-result").await?;
    ensure!(
        verdict.contains(NAME),
        "#list-verify-result says valid but does not name {NAME}: {verdict:?}"
    );
    desk.screenshot("desktop-04-issued-verified").await?;

    // Local search: a name that is not there empties the table, the resident's name finds her.
    desk.type_into("#search-text", "Tidak Ada Orang Ini")
        .await?;
    let rows = "#applications tr[data-tracking]";
    let deadline = Instant::now() + Duration::from_secs(20);
    while desk.count(rows).await? != 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ensure!(
        desk.count(rows).await? == 0,
        "a search for nobody still lists rows"
    );
    desk.type_into("#search-text", "tenri").await?;
    desk.wait_for(&row).await?;
    // Blank (a space is trimmed away) lists everything again.
    desk.type_into("#search-text", " ").await?;
    desk.wait_for(&row).await?;
    // A date range that starts tomorrow has nothing yet; clearing it brings the row back.
    desk.type_into("#search-from", "31-12-2099").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while desk.count(rows).await? != 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ensure!(
        desk.count(rows).await? == 0,
        "a date range in the future still lists rows"
    );
    desk.screenshot("desktop-04b-search").await?;
    desk.type_into("#search-from", " ").await?;
    desk.wait_for(&row).await?;

    // 6. `loket verify` accepts the downloaded signed PDF and calls noise unreadable.
    let (status, pdf) = http_get(&doc_url).await?;
    ensure!(status == 200, "GET {doc_url} answered HTTP {status}");
    ensure!(
        pdf.starts_with(b"%PDF-"),
        "GET {doc_url} did not return a PDF (starts with {:?})",
        String::from_utf8_lossy(&pdf[..pdf.len().min(16)])
    );
    let scratch = tempfile::tempdir()?;
    let signed = scratch.path().join("signed.pdf");
    std::fs::write(&signed, &pdf)?;
    let _ = std::fs::write(artifacts_dir()?.join("signed-document.pdf"), &pdf);
    let trust = server.trust_path();
    ensure!(
        trust.is_file(),
        "the back office did not write its trust list to {}",
        trust.display()
    );
    let out = run_verify(loket, &signed, &trust)?;
    ensure!(
        out.code == Some(0),
        "loket verify of the signed PDF exited with {:?}, expected 0\nstdout: {}\nstderr: {}",
        out.code,
        out.stdout,
        out.stderr
    );
    ensure!(
        out.stdout.contains(NAME),
        "loket verify accepted the PDF but its output does not name {NAME}: {}",
        out.stdout
    );
    let junk = scratch.path().join("noise.pdf");
    std::fs::write(&junk, noise(100))?;
    let out = run_verify(loket, &junk, &trust)?;
    ensure!(
        out.code == Some(2),
        "loket verify of 100 random bytes exited with {:?}, expected 2 (unreadable)\nstdout: {}\nstderr: {}",
        out.code,
        out.stdout,
        out.stderr
    );

    // 7. The desktop verify screen: the genuine file passes, a forgery fails loudly.
    let forged = scratch.path().join("forged.pdf");
    std::fs::write(&forged, forged_document()?)?;
    desk.click("#nav-verify").await?;
    upload(desk, &signed).await?;
    desk.wait_attr("#verify-result", "data-verdict", "valid")
        .await?;
    let text = desk.text("#verify-result").await?;
    ensure!(
        text.contains(NAME),
        "verify screen names no {NAME}: {text:?}"
    );
    upload(desk, &forged).await?;
    desk.wait_attr("#verify-result", "data-verdict", "invalid")
        .await?;
    let text = desk.text("#verify-result").await?;
    ensure!(
        text.contains("TIDAK SAH") && text.contains("kunci yang tidak dikenal"),
        "the forgery's verdict does not say why: {text:?}"
    );
    desk.screenshot("desktop-05-verify-forged").await?;
    upload(desk, &junk).await?;
    desk.wait_attr("#verify-result", "data-verdict", "unreadable")
        .await?;

    // 8. English on request, for the UI's own words and for the words that come from Rust.
    desk.click("#lang-en").await?;
    desk.wait_text("#nav-list", "\"Applications\"", |t| {
        t.contains("Applications")
    })
    .await?;
    desk.click("#nav-list").await?;
    desk.wait_text(&row_status, "\"Document issued\"", |t| {
        t.contains("Document issued")
    })
    .await?;
    desk.screenshot("desktop-06-english").await?;
    desk.click("#lang-id").await?;
    desk.wait_text("#nav-list", "\"Daftar permohonan\"", |t| {
        t.contains("Daftar permohonan")
    })
    .await?;

    // 9. Lock: the app goes away; a wrong password is refused; the right one brings it back.
    desk.click("#btn-lock").await?;
    desk.wait_for("#login").await?;
    ensure!(
        desk.count("#nav-register").await? == 0,
        "the app is still visible after locking"
    );
    desk.type_into("#login-username", "operator").await?;
    desk.type_into("#login-password", "salah-sandi-1").await?;
    desk.click("#btn-login").await?;
    desk.wait_text("#login-error", "a wrong-password message", |t| {
        t.contains("Nama pengguna atau kata sandi salah")
    })
    .await?;
    desk.screenshot("desktop-07-login-refused").await?;
    desk.type_into("#login-password", PASSWORD).await?;
    desk.click("#btn-login").await?;
    desk.wait_for("#nav-register").await?;
    desk.click("#nav-list").await?;
    desk.wait_attr(&row_status, "data-status", "issued").await?;

    // 10. Akta kelahiran with the substitute proofs: no birth letter, so SPTJM F-2.03 with two
    //     witnesses; no marriage book, so SPTJM F-2.04. The mother is picked, not retyped.
    desk.click("#nav-register").await?;
    desk.click("#btn-new").await?;
    desk.wait_for("#f-service").await?;
    desk.select("#f-service", "akta_kelahiran").await?;
    desk.wait_attr("#register-form", "data-service", "akta_kelahiran")
        .await?;
    pick_resident(desk, "#resident-search", "#resident-results", "Tenri", NIK).await?;
    let name = desk
        .attr("#f-full_name", "value")
        .await?
        .unwrap_or_default();
    ensure!(
        name == NAME,
        "picking the resident filled the name {name:?}"
    );
    desk.type_into("#sf-child_name", "Muhammad Fadli Ramadhan")
        .await?;
    desk.select("#sf-child_sex", "laki_laki").await?;
    desk.type_into("#sf-child_birth_date", &days_ago(20))
        .await?;
    desk.type_into("#sf-child_birth_place", "Pinrang").await?;
    pick_resident(desk, "#sf-mother_nik", "#pick-mother_nik", "Tenri", NIK).await?;
    let mother = desk
        .attr("#sf-mother_name", "value")
        .await?
        .unwrap_or_default();
    ensure!(mother == NAME, "picking the mother filled {mother:?}");
    desk.type_into("#sf-nomor_kk", KK).await?;
    let receipt_pdf_scan = artifacts_dir()?.join("receipt.pdf");
    attach(desk, "sptjm_f203", &receipt_pdf_scan).await?; // a PDF goes in like a photo
    attach(desk, "witness#1", &demo_scan()).await?;
    attach(desk, "witness#2", &demo_scan()).await?;
    attach(desk, "sptjm_f204", &demo_scan()).await?;
    attach(desk, "kk", &demo_scan()).await?;
    for req in ["bukti_kelahiran", "bukti_perkawinan_orang_tua", "kk"] {
        desk.wait_attr(
            &format!(".req[data-req=\"{req}\"]"),
            "data-satisfied",
            "true",
        )
        .await?;
    }
    desk.screenshot("desktop-08-akta-substitutes").await?;
    desk.click("#btn-save").await?;
    desk.wait_for("#receipt").await?;
    let akta = print_both_receipts(desk, tauri).await?;
    ensure!(
        akta.contains("F-2.03") && akta.contains("2 saksi"),
        "the akta receipt does not show the substitute proof: {akta:?}"
    );
    desk.screenshot("desktop-09-akta-receipt").await?;

    // 11. KIA for her son; the parent's KTP-el is photographed with the (test-pattern) camera.
    desk.click("#btn-new").await?;
    desk.select("#f-service", "kia").await?;
    desk.wait_attr("#register-form", "data-service", "kia")
        .await?;
    pick_resident(desk, "#resident-search", "#resident-results", "Andi", NIK).await?;
    desk.type_into("#sf-child_nik", CHILD_NIK).await?;
    desk.type_into("#sf-child_name", "Ahmad Rizki Pratama")
        .await?;
    desk.type_into("#sf-child_birth_date", "10-03-2022").await?;
    desk.type_into("#sf-nomor_kk", KK).await?;
    attach(desk, "akta_kelahiran", &demo_scan()).await?;
    attach(desk, "kk", &demo_scan()).await?;
    desk.click(".slot[data-slot=\"ktp_el_orang_tua\"] .slot-camera")
        .await?;
    desk.wait_for_within("#camera-take", Duration::from_secs(20))
        .await?;
    tokio::time::sleep(Duration::from_millis(800)).await; // the preview starts
    desk.screenshot("desktop-10-camera").await?;
    desk.click("#camera-take").await?;
    desk.wait_attr(
        ".slot[data-slot=\"ktp_el_orang_tua\"]",
        "data-attached",
        "true",
    )
    .await?;
    desk.wait_attr("#missing-summary", "data-can-submit", "true")
        .await?;
    desk.screenshot("desktop-11-kia-checklist").await?;
    desk.click("#btn-save").await?;
    desk.wait_for("#receipt").await?;
    let kia = print_both_receipts(desk, tauri).await?;
    ensure!(
        kia.contains("Ahmad Rizki Pratama"),
        "the KIA receipt lacks the child's name: {kia:?}"
    );

    // The list filters by service.
    desk.click("#nav-list").await?;
    desk.wait_for("#search-service option[value=\"kia\"]")
        .await?;
    desk.select("#search-service", "kia").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while desk.count(rows).await? != 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ensure!(
        desk.count(rows).await? == 1,
        "filtering by KIA lists {} rows, expected 1",
        desk.count(rows).await?
    );
    desk.screenshot("desktop-12-filter-service").await?;

    // 12. Return for correction: the KIA application reaches the district, the reviewer sends it
    //     back with a reason, the village sees the reason, corrects it in the same form and
    //     sends it as revision 1; the reviewer's page shows revision 1 and what changed.
    let kia_tracking = desk.attr(rows, "data-tracking").await?.unwrap_or_default();
    let kia_row = format!("#applications tr[data-tracking=\"{kia_tracking}\"]");
    let kia_status = format!("{kia_row} span.status");
    desk.click("#btn-sync").await?;
    desk.wait_attr(&kia_status, "data-status", "received")
        .await?;
    let reason = "Nama anak tidak sesuai akta kelahiran";
    web.goto(&review).await?;
    let open = format!("#queue tr[data-tracking=\"{kia_tracking}\"] a.open");
    let href = web.attr(&open, "href").await?.unwrap_or_default();
    let detail_url = format!("{}{href}", server.url());
    web.goto(&detail_url).await?;
    web.wait_attr("#status", "data-status", "received").await?;
    web.type_into("#return-reason", reason).await?;
    web.click("#btn-return").await?;
    web.wait_attr("#status", "data-status", "returned").await?;
    web.screenshot("backoffice-04-returned").await?;

    desk.click("#btn-sync").await?;
    desk.wait_attr(&kia_status, "data-status", "returned")
        .await?;
    desk.wait_text(
        &format!("{kia_row} .returned-reason"),
        "the reviewer's reason",
        |t| t.contains(reason),
    )
    .await?;
    desk.screenshot("desktop-13-returned").await?;
    desk.click(&format!("{kia_row} .btn-correct")).await?;
    let banner = desk
        .wait_text("#correction-banner", "the correction banner", |t| {
            t.contains(&kia_tracking) && t.contains(reason)
        })
        .await?;
    ensure!(
        desk.attr("#f-service", "disabled").await?.is_some(),
        "the service can be changed while correcting: {banner:?}"
    );
    desk.wait_attr("#register-form", "data-service", "kia")
        .await?;
    desk.wait_attr(
        ".slot[data-slot=\"akta_kelahiran\"]",
        "data-attached",
        "true",
    )
    .await?;
    desk.type_into("#sf-child_name", "Ahmad Rizki Pratama Putra")
        .await?;
    desk.wait_attr("#missing-summary", "data-can-submit", "true")
        .await?;
    desk.screenshot("desktop-14-correcting").await?;
    desk.click("#btn-save").await?;
    desk.wait_attr("#receipt-revision", "data-revision", "1")
        .await?;
    let tracking_after = desk.text("#receipt-tracking").await?;
    ensure!(
        tracking_after.trim() == kia_tracking,
        "the correction got another tracking number: {tracking_after:?}, was {kia_tracking:?}"
    );
    let corrected = print_both_receipts(desk, tauri).await?;
    ensure!(
        corrected.contains("Revisi 1") && corrected.contains("Ahmad Rizki Pratama Putra"),
        "the corrected receipt does not say revision 1 with the new name: {corrected:?}"
    );
    desk.screenshot("desktop-15-corrected-receipt").await?;

    desk.click("#nav-list").await?;
    desk.wait_attr(&kia_status, "data-status", "queued").await?;
    desk.click("#btn-sync").await?;
    desk.wait_attr(&kia_status, "data-status", "received")
        .await?;
    desk.wait_attr(&kia_row, "data-revision", "1").await?;
    web.goto(&detail_url).await?;
    web.wait_attr("#status", "data-status", "received").await?;
    web.wait_attr("#revision", "data-revision", "1").await?;
    let history = web.text("#revisions").await?;
    ensure!(
        history.contains(reason)
            && history.contains("Ahmad Rizki Pratama → Ahmad Rizki Pratama Putra"),
        "the reviewer's history does not show the return and the change: {history:?}"
    );
    web.screenshot("backoffice-05-revision-1").await?;
    Ok(())
}

/// The specimen family card shipped for the demo: a real, slightly skewed JPEG.
fn demo_scan() -> std::path::PathBuf {
    repo_root().join("assets/demo/contoh-kk.jpg")
}

/// Today minus `days`, typed the way operators type dates (DD-MM-YYYY).
fn days_ago(days: i64) -> String {
    (chrono::Local::now().date_naive() - chrono::Duration::days(days))
        .format("%d-%m-%Y")
        .to_string()
}

/// Gives a requirement slot's file input a path, as choosing a file does; no wait.
async fn attach_file(desk: &Browser, slot: &str, file: &std::path::Path) -> Result<()> {
    let input = desk
        .wait_for(&format!(".slot[data-slot=\"{slot}\"] input.slot-file"))
        .await?;
    input
        .send_keys(&file.display().to_string())
        .await
        .with_context(|| format!("choosing {} for slot {slot}", file.display()))
}

/// Attaches a file to a slot and waits until the scan is processed and shown.
async fn attach(desk: &Browser, slot: &str, file: &std::path::Path) -> Result<()> {
    attach_file(desk, slot, file).await?;
    desk.wait_attr(
        &format!(".slot[data-slot=\"{slot}\"]"),
        "data-attached",
        "true",
    )
    .await
    .with_context(|| format!("slot {slot} never showed its scan"))?;
    Ok(())
}

/// Ticks an in-person check (e.g. biometric recording).
async fn tick(desk: &Browser, slot: &str) -> Result<()> {
    desk.click(&format!(".slot[data-slot=\"{slot}\"] input.slot-check-box"))
        .await
}

/// Types into a picker field and chooses the suggestion for `nik`.
async fn pick_resident(
    desk: &Browser,
    input: &str,
    list: &str,
    text: &str,
    nik: &str,
) -> Result<()> {
    desk.type_into(input, text).await?;
    let item = format!("{list} .pick-item[data-nik=\"{nik}\"]");
    desk.wait_for(&item)
        .await
        .with_context(|| format!("{list} never offered {nik} for {text:?}"))?;
    desk.click(&item).await
}

/// Prints the receipt on both papers and returns the text of both PDFs.
async fn print_both_receipts(desk: &Browser, tauri: &TauriDriver) -> Result<String> {
    let tracking = desk
        .wait_text("#receipt-tracking", "a tracking number", |t| {
            !t.trim().is_empty()
        })
        .await?
        .trim()
        .to_string();
    let mut text = String::new();
    for (button, file) in [
        ("#btn-print-receipt", format!("{tracking}.pdf")),
        ("#btn-print-thermal", format!("{tracking}-58mm.pdf")),
    ] {
        desk.click(button).await?;
        let pdf = tauri.data_dir().join("receipts").join(&file);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pdf.is_file() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = std::fs::copy(&pdf, artifacts_dir()?.join(&file));
        let t = pdf_text(&pdf)?;
        ensure!(
            t.contains(&tracking) && t.contains("belum terbit"),
            "{file} lacks the number or the wording: {t:?}"
        );
        text.push_str(&t);
    }
    Ok(collapse_whitespace(&text))
}

/// Gives the verify screen's file input a path, as choosing a file in the dialog does.
async fn upload(desk: &Browser, file: &std::path::Path) -> Result<()> {
    let input = desk.wait_for("#verify-file").await?;
    input
        .send_keys(&file.display().to_string())
        .await
        .with_context(|| format!("choosing {} in #verify-file", file.display()))
}

/// A document for the same person, laid out like the real one, signed by a key the district
/// never published.
fn forged_document() -> Result<Vec<u8>> {
    let key = loket_qr::IssuingKey {
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[0x66; 32]),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    };
    let claims = loket_qr::DocumentClaims {
        doc_type: loket_qr::DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-000001".into(),
        holder_name: NAME.into(),
        nik: NIK.into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(2005, 7, 15).context("date")?,
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).context("date")?,
        district_code: "73.15".into(),
        revision: 1,
    };
    let qr_text = loket_qr::sign(&claims, &key);
    Ok(loket_print::render_document(&loket_print::DocumentData {
        claims,
        qr_text,
        birth_place: "Pinrang".into(),
        sex_label: "Perempuan".into(),
        address: ANDI.address.into(),
        district_name: key.district_name.clone(),
        signer_name: "Kepala Dinas Kependudukan dan Pencatatan Sipil".into(),
        signer_title: "Kabupaten Pinrang".into(),
        key_id: key.key_id().to_string(),
    })?)
}

async fn fill_form(desk: &Browser, p: &Person<'_>) -> Result<()> {
    desk.type_into("#f-nik", p.nik).await?;
    desk.type_into("#f-full_name", p.full_name).await?;
    desk.type_into("#f-birth_place", p.birth_place).await?;
    desk.type_into("#f-birth_date", p.birth_date).await?;
    desk.select("#f-sex", p.sex).await?;
    desk.type_into("#f-address", p.address).await?;
    desk.type_into("#f-phone", p.phone).await?;
    Ok(())
}

fn run_verify(
    loket: &std::path::Path,
    file: &std::path::Path,
    trust: &std::path::Path,
) -> Result<Output> {
    run_command(
        loket,
        &[
            OsStr::new("verify"),
            file.as_os_str(),
            OsStr::new("--trust"),
            trust.as_os_str(),
        ],
    )
}
