//! The documents/QR part of `loket bench` (`loket bench --qr` alone, or within the full run):
//! each number beside a reference measured in the same run, never asserted.
//!
//! - **Verify throughput**: `loket_qr::verify(text, &trust)` against raw ed25519-dalek
//!   `VerifyingKey::verify_strict` on the same `Sig_structure` bytes (built from the code's own
//!   protected header and payload, docs/QR_FORMAT.md §5), sampled interleaved one by one.
//! - **Decode + verify from a scan**: a real signed document PDF (`loket_print::render_document`,
//!   built as the back office's `approve_and_issue` does) rasterised with
//!   `loket_print::rasterize_pdf` at 300 dpi, at 150 dpi, and the 300-dpi page rotated by 3°
//!   (bilinear, white fill, done here with the `image` crate), each encoded as PNG; then
//!   `loket_print::verify_file_bytes` on the PNG bytes against `zbarimg --raw -q FILE` (Debian
//!   `zbar-tools`, decode only, process start included) on the same file. Both are checked
//!   for decoding exactly the signed text.
//! - **PDF render**: `render_document` time p50/p99, size, and whether every render gave the
//!   same bytes.

use crate::bench::{ms, Samples};
use anyhow::Context;
use chrono::NaiveDate;
use loket_backoffice::DistrictKeyFile;
use loket_print::{DocumentData, FileVerdict};
use loket_qr::{DocType, DocumentClaims, IssuingKey, TrustList};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Sizes of one run.
struct Plan {
    /// Interleaved verify / raw verify_strict pairs.
    verifies: usize,
    /// Runs of each decoder per image.
    scans: usize,
    /// PDF renders.
    renders: usize,
}

const FULL: Plan = Plan {
    verifies: 20_000,
    scans: 5,
    renders: 20,
};

const QUICK: Plan = Plan {
    verifies: 2_000,
    scans: 2,
    renders: 5,
};

/// Untimed verifications before sampling (caches, CPU frequency).
const VERIFY_WARMUP: usize = 500;

/// Rotation of the "slightly rotated" scan, degrees.
const ROTATION_DEGREES: f32 = 3.0;

/// Runs the QR/document measurements in `dir`, prints the table and returns the JSON section.
pub fn run(quick: bool, dir: &Path) -> anyhow::Result<Value> {
    let plan = if quick { &QUICK } else { &FULL };
    let key = bench_key()?;
    let trust = TrustList::new(vec![key.trusted_key()]);
    let claims = DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-000042".into(),
        holder_name: "ANDI MUHAMMAD FAJAR".into(),
        nik: "7315012302900001".into(),
        birth_date: NaiveDate::from_ymd_opt(1990, 2, 23).context("date")?,
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).context("date")?,
        district_code: key.district_code.clone(),
        revision: 0,
    };
    let qr_text = loket_qr::sign(&claims, &key);
    let data = DocumentData {
        claims: claims.clone(),
        qr_text: qr_text.clone(),
        birth_place: "Pinrang".into(),
        sex_label: "Laki-laki".into(),
        address: "Dusun 2 RT 003, Desa Mattiro Bulu".into(),
        district_name: key.district_name.clone(),
        signer_name: "Drs. H. Ahmad Rivai, M.Si.".into(),
        signer_title: "Kepala Dinas Kependudukan dan Pencatatan Sipil".into(),
        key_id: key.key_id().to_string(),
    };

    let verify = verify_throughput(&qr_text, &key, &trust, plan.verifies)?;
    let render = render_runs(&data, plan.renders)?;
    let pdf = &render.pdf;

    // The scanned images: rasterising and PNG encoding are not timed.
    let page300 = first_page(pdf, 300.0)?;
    let page150 = first_page(pdf, 150.0)?;
    let rotated = rotate_gray(&page300, ROTATION_DEGREES);
    let images = [
        ("300 dpi", "rasterize_pdf at 300 dpi, PNG", page300),
        ("150 dpi", "rasterize_pdf at 150 dpi, PNG", page150),
        (
            "300 dpi rotated 3°",
            "rasterize_pdf at 300 dpi, rotated 3° (bilinear, white fill), PNG",
            rotated,
        ),
    ];
    let zbar = zbarimg_version();
    let mut scans = Vec::new();
    for (short, what, img) in &images {
        let path = dir.join(format!("qr-{}.png", short.replace([' ', '°'], "-")));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
        scans.push(scan_runs(
            short,
            what,
            (img.width(), img.height()),
            &png,
            &path,
            &qr_text,
            &claims,
            &trust,
            plan.scans,
            zbar.is_some(),
        ));
    }

    // Report.
    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>12} {:>9}",
        "documents / QR", "p50 ms", "p99 ms", "per second", "× ref"
    );
    let row = |label: &str, s: &Samples, reference: f64| {
        println!(
            "{:<44} {:>10.4} {:>10.4} {:>12.1} {:>9.3}",
            label,
            ms(s.percentile(0.50)),
            ms(s.percentile(0.99)),
            s.rate(),
            s.rate() / reference
        );
    };
    let raw_rate = verify.raw.rate();
    row(
        &format!("raw verify_strict ({} ops, reference)", verify.raw.0.len()),
        &verify.raw,
        raw_rate,
    );
    row(
        &format!("loket_qr::verify ({} chars)", qr_text.len()),
        &verify.loket,
        raw_rate,
    );
    println!(
        "{:<44} {:>10.3} {:>10.3} {:>12.1} {:>9}",
        format!("render_document ({} renders)", render.times.0.len()),
        ms(render.times.percentile(0.50)),
        ms(render.times.percentile(0.99)),
        render.times.rate(),
        "-"
    );
    println!(
        "PDF: {} bytes, deterministic (all {} renders byte-identical): {}",
        pdf.len(),
        render.times.0.len(),
        if render.deterministic { "yes" } else { "NO" }
    );
    println!(
        "loket_qr::verify = {:.3}× raw verify_strict per second; p50 {:.1} µs vs {:.1} µs per op",
        verify.loket.rate() / raw_rate,
        micros(verify.loket.percentile(0.50)),
        micros(verify.raw.percentile(0.50)),
    );
    match &zbar {
        Some(v) => println!("zbarimg {v}: decode only, process start included"),
        None => println!("zbarimg not found: scan rows have no reference"),
    }
    let mut scan_json = Vec::new();
    for s in &scans {
        let loket_ms = Some(ms(s.loket.percentile(0.50)));
        let zbar_ms = s.zbar.as_ref().map(|x| ms(x.percentile(0.50)));
        let ratio = match (loket_ms, zbar_ms) {
            (Some(a), Some(b)) => Some(a / b),
            _ => None,
        };
        println!(
            "scan {:<20} {}×{} px, {} KB: verify_file_bytes p50 {} ms ({}) | zbarimg p50 {} ms \
             ({}) | time ÷ zbarimg {}",
            s.short,
            s.size.0,
            s.size.1,
            s.png_bytes / 1024,
            fmt_ms(loket_ms),
            s.loket_outcome,
            fmt_ms(zbar_ms),
            s.zbar_outcome,
            ratio.map_or("-".into(), |r| format!("{r:.3}")),
        );
        scan_json.push(json!({
            "image": s.what,
            "width": s.size.0,
            "height": s.size.1,
            "png_bytes": s.png_bytes,
            "runs": plan.scans,
            "verify_file_bytes": {
                "p50_ms": loket_ms,
                "p99_ms": ms(s.loket.percentile(0.99)),
                "correct": s.loket_correct,
                "outcome": s.loket_outcome,
            },
            "zbarimg": {
                "p50_ms": zbar_ms,
                "p99_ms": s.zbar.as_ref().map(|x| ms(x.percentile(0.99))),
                "correct": s.zbar_correct,
                "outcome": s.zbar_outcome,
            },
            "time_ratio_to_zbarimg": ratio,
        }));
    }

    Ok(json!({
        "verify": {
            "reference": "ed25519-dalek VerifyingKey::verify_strict on the code's Sig_structure",
            "qr_text_chars": qr_text.len(),
            "sig_structure_bytes": verify.sig_structure_len,
            "samples": verify.loket.0.len(),
            "raw_p50_us": micros(verify.raw.percentile(0.50)),
            "raw_p99_us": micros(verify.raw.percentile(0.99)),
            "raw_per_second": raw_rate,
            "loket_p50_us": micros(verify.loket.percentile(0.50)),
            "loket_p99_us": micros(verify.loket.percentile(0.99)),
            "loket_per_second": verify.loket.rate(),
            "ratio_to_raw_verify_strict": verify.loket.rate() / raw_rate,
        },
        "scan": {
            "reference": "zbarimg --raw -q FILE (decode only, process start included)",
            "zbarimg_version": zbar,
            "images": scan_json,
        },
        "render": {
            "renders": render.times.0.len(),
            "p50_ms": ms(render.times.percentile(0.50)),
            "p99_ms": ms(render.times.percentile(0.99)),
            "pdf_bytes": pdf.len(),
            "deterministic": render.deterministic,
        },
    }))
}

/// A fixed district key (the seed of docs/QR_FORMAT.md's `basic` vector), made through the
/// back office's key file so this crate needs no ed25519-dalek of its own.
fn bench_key() -> anyhow::Result<IssuingKey> {
    DistrictKeyFile {
        district_code: "73.15".into(),
        district_name: "PINRANG".into(),
        signer_name: String::new(),
        signer_title: String::new(),
        secret_seed_hex: "07".repeat(32),
    }
    .issuing_key()
}

struct VerifyResult {
    loket: Samples,
    raw: Samples,
    sig_structure_len: usize,
}

/// `loket_qr::verify` and raw `verify_strict`, one of each per step.
fn verify_throughput(
    qr_text: &str,
    key: &IssuingKey,
    trust: &TrustList,
    n: usize,
) -> anyhow::Result<VerifyResult> {
    // The code's own parts (QR_FORMAT.md §3, §5): protected and payload as they appear in it,
    // the signature is the final bstr(64) `58 40 <64 bytes>` of the COSE_Sign1.
    let body = qr_text
        .strip_prefix(loket_qr::QR_PREFIX)
        .context("not an LK1 code")?;
    let cose = loket_qr::base45::decode(body).map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        cose.len() > 66 && cose[cose.len() - 66..cose.len() - 64] == [0x58, 0x40],
        "COSE_Sign1 does not end in a 64-byte signature"
    );
    let sig_bytes: [u8; 64] = cose[cose.len() - 64..].try_into()?;
    let protected = loket_qr::encode_protected(key.key_id());
    let verified = loket_qr::verify(qr_text, trust).map_err(|e| anyhow::anyhow!("{e}"))?;
    let payload = loket_qr::encode_claims(&verified.claims);
    let message = loket_qr::sig_structure(&protected, &payload);
    let public = key.signing_key.verifying_key();
    let signature = sig_bytes.into();
    public
        .verify_strict(&message, &signature)
        .context("the code's signature does not verify over the rebuilt Sig_structure")?;

    for _ in 0..VERIFY_WARMUP {
        std::hint::black_box(loket_qr::verify(std::hint::black_box(qr_text), trust).is_ok());
        std::hint::black_box(
            public
                .verify_strict(std::hint::black_box(&message), &signature)
                .is_ok(),
        );
    }
    let mut loket = Vec::with_capacity(n);
    let mut raw = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let ok = loket_qr::verify(std::hint::black_box(qr_text), trust).is_ok();
        loket.push(t.elapsed());
        anyhow::ensure!(ok, "loket_qr::verify failed");
        let t = Instant::now();
        let ok = public
            .verify_strict(std::hint::black_box(&message), &signature)
            .is_ok();
        raw.push(t.elapsed());
        anyhow::ensure!(ok, "verify_strict failed");
    }
    Ok(VerifyResult {
        loket: Samples(loket),
        raw: Samples(raw),
        sig_structure_len: message.len(),
    })
}

struct RenderResult {
    pdf: Vec<u8>,
    times: Samples,
    deterministic: bool,
}

fn render_runs(data: &DocumentData, n: usize) -> anyhow::Result<RenderResult> {
    let mut times = Vec::with_capacity(n);
    let mut first: Option<Vec<u8>> = None;
    let mut deterministic = true;
    for _ in 0..n.max(1) {
        let t = Instant::now();
        let pdf = loket_print::render_document(data).map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(t.elapsed());
        match &first {
            None => first = Some(pdf),
            Some(f) => deterministic &= *f == pdf,
        }
    }
    Ok(RenderResult {
        pdf: first.context("no render")?,
        times: Samples(times),
        deterministic,
    })
}

fn first_page(pdf: &[u8], dpi: f32) -> anyhow::Result<image::GrayImage> {
    loket_print::rasterize_pdf(pdf, dpi)
        .map_err(|e| anyhow::anyhow!("rasterising at {dpi} dpi: {e}"))?
        .into_iter()
        .next()
        .context("the PDF has no page")
}

/// `img` rotated by `degrees` about its centre, same size, bilinear, white outside the page.
fn rotate_gray(img: &image::GrayImage, degrees: f32) -> image::GrayImage {
    let (w, h) = (img.width(), img.height());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let sample = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            255.0
        } else {
            img.get_pixel(x as u32, y as u32).0[0] as f32
        }
    };
    image::GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = cos * dx + sin * dy + cx;
        let sy = -sin * dx + cos * dy + cy;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = sample(x0, y0) * (1.0 - fx) + sample(x0 + 1, y0) * fx;
        let bottom = sample(x0, y0 + 1) * (1.0 - fx) + sample(x0 + 1, y0 + 1) * fx;
        image::Luma([(top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8])
    })
}

struct ScanResult {
    short: &'static str,
    what: &'static str,
    size: (u32, u32),
    png_bytes: usize,
    loket: Samples,
    loket_correct: bool,
    loket_outcome: String,
    zbar: Option<Samples>,
    zbar_correct: bool,
    zbar_outcome: String,
}

#[allow(clippy::too_many_arguments)]
fn scan_runs(
    short: &'static str,
    what: &'static str,
    size: (u32, u32),
    png: &[u8],
    path: &Path,
    qr_text: &str,
    claims: &DocumentClaims,
    trust: &TrustList,
    runs: usize,
    have_zbar: bool,
) -> ScanResult {
    let mut loket = Vec::with_capacity(runs);
    let mut zbar = Vec::with_capacity(runs);
    let mut verdict = None;
    let mut zbar_out: Result<String, String> = Err("not run".into());
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let v = loket_print::verify_file_bytes(png, trust);
        loket.push(t.elapsed());
        verdict = Some(v);
        if have_zbar {
            let t = Instant::now();
            let out = Command::new("zbarimg")
                .args(["--raw", "-q"])
                .arg(path)
                .output();
            zbar.push(t.elapsed());
            zbar_out = match out {
                Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
                Ok(o) => Err(format!("zbarimg exit {}", o.status)),
                Err(e) => Err(e.to_string()),
            };
        }
    }
    let (loket_correct, loket_outcome) = match verdict {
        Some(FileVerdict::Valid { verified, .. }) if verified.claims == *claims => {
            (true, "valid, correct claims".to_string())
        }
        Some(FileVerdict::Valid { .. }) => (false, "valid but other claims".to_string()),
        Some(FileVerdict::Invalid { reason_en, .. }) => (false, format!("invalid: {reason_en}")),
        Some(FileVerdict::Unreadable { reason_en, .. }) => {
            (false, format!("unreadable: {reason_en}"))
        }
        None => (false, "not run".to_string()),
    };
    let (zbar_correct, zbar_outcome) = match &zbar_out {
        Ok(text) if text.trim_end_matches(['\r', '\n']) == qr_text => {
            (true, "correct text".to_string())
        }
        Ok(text) if text.is_empty() => (false, "nothing decoded".to_string()),
        Ok(_) => (false, "other text".to_string()),
        Err(e) if e.ends_with("exit status: 4") => (false, "nothing decoded".to_string()),
        Err(e) => (false, e.clone()),
    };
    ScanResult {
        short,
        what,
        size,
        png_bytes: png.len(),
        loket: Samples(loket),
        loket_correct,
        loket_outcome,
        zbar: (!zbar.is_empty()).then_some(Samples(zbar)),
        zbar_correct,
        zbar_outcome,
    }
}

/// `zbarimg --version`, or `None` when it is not installed.
fn zbarimg_version() -> Option<String> {
    let out = Command::new("zbarimg").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}
