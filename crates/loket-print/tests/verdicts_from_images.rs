//! Every verdict `verify_file_bytes` can give, from real evidence: a rendered PDF, rasterised
//! images of it (hayro and poppler's `pdftoppm`), and those images degraded by this test
//! (rotation, box blur, noise, low contrast, lower resolution, JPEG).
//!
//! Degradations listed as `must_read` have to give exactly the verdict of the clean file. The
//! others are measured: they must give that verdict or `Unreadable`, never another verdict
//! (above all never a wrong `Valid`), and the success rate is printed
//! (`cargo test -p loket-print --test verdicts_from_images -- --nocapture`).

use std::io::Cursor;
use std::sync::OnceLock;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use image::{GrayImage, ImageFormat, Luma};
use loket_print::{
    rasterize_pdf, render_document, render_receipt, verify_file_bytes, DocumentData, FileVerdict,
    ReceiptData, ReceiptRequirement,
};
use loket_qr::{sign, DocType, DocumentClaims, IssuingKey, TrustList, VerifyError};

const DPI: f32 = 300.0;

fn key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.13".into(),
        district_name: "WAJO".into(),
    }
}

fn trust() -> TrustList {
    TrustList::new(vec![key(7).trusted_key()])
}

fn claims() -> DocumentClaims {
    DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7313-SK-2026-000001".into(),
        holder_name: "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAU".into(),
        nik: "7313016503950002".into(),
        birth_date: NaiveDate::from_ymd_opt(1995, 3, 25).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        district_code: "73.13".into(),
        revision: 0,
    }
}

fn document(claims: DocumentClaims, qr_text: String, k: &IssuingKey) -> DocumentData {
    DocumentData {
        claims,
        qr_text,
        birth_place: "Sengkang".into(),
        sex_label: "Perempuan".into(),
        address: "Jl. Andi Pallawarukka No. 17, RT 002/RW 004, Kelurahan Pattirosompe".into(),
        district_name: k.district_name.clone(),
        signer_name: "Dr. H. ANDI MUHAMMAD YUSUF, S.STP., M.Si.".into(),
        signer_title: "KEPALA DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL KABUPATEN WAJO".into(),
        key_id: k.key_id().to_string(),
    }
}

/// A real PDF without a QR code: the front-office receipt.
fn receipt_pdf() -> Vec<u8> {
    render_receipt(&ReceiptData {
        tracking_number: "7313011001-03-000042-20261122".into(),
        service_label: "Akta kelahiran".into(),
        catalogue_version: "2026.11.1".into(),
        nik: "7313016503950002".into(),
        full_name: "ANDI ST. NURHALIZAH".into(),
        birth_place: "Sengkang".into(),
        birth_date: NaiveDate::from_ymd_opt(1995, 3, 25).unwrap(),
        sex_label: "Perempuan".into(),
        address: "Jl. Andi Pallawarukka No. 17".into(),
        phone: "0812-3456-7890".into(),
        details: vec![("Nama anak".into(), "MUHAMMAD FATHIR".into())],
        requirements: vec![ReceiptRequirement {
            label: "Kartu Keluarga".into(),
            provided: vec!["Kartu Keluarga (KK)".into()],
            satisfied: true,
        }],
        village_name: "Pattirosompe".into(),
        operator: "Hasnawati (Operator Desa)".into(),
        captured_at: NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(9, 41, 7)
            .unwrap(),
        sla_working_days: 14,
        expected_completion: NaiveDate::from_ymd_opt(2026, 12, 11),
        revision: 0,
    })
    .unwrap()
}

/// The verdict a case must give.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Valid {
        printed_checked: bool,
    },
    /// Exact reason in Bahasa Indonesia, and whether the signed claims are attached.
    Invalid {
        reason_id: String,
        claims: bool,
    },
    Unreadable,
}

fn outcome(v: &FileVerdict) -> Expect {
    match v {
        FileVerdict::Valid {
            verified,
            printed_checked,
        } => {
            // Every Valid in this file is the genuine document.
            assert_eq!(verified.claims, claims(), "Valid with other claims: {v:?}");
            Expect::Valid {
                printed_checked: *printed_checked,
            }
        }
        FileVerdict::Invalid {
            reason_id,
            reason_en,
            claims,
        } => {
            assert!(!reason_en.is_empty());
            Expect::Invalid {
                reason_id: reason_id.clone(),
                claims: claims.is_some(),
            }
        }
        FileVerdict::Unreadable {
            reason_id,
            reason_en,
        } => {
            assert!(!reason_id.is_empty() && !reason_en.is_empty());
            Expect::Unreadable
        }
    }
}

fn invalid(e: &VerifyError) -> Expect {
    Expect::Invalid {
        reason_id: e.message_id(),
        claims: false,
    }
}

/// One verdict: the PDF, what it must give as PDF, and what any image of it must give.
struct Case {
    name: &'static str,
    pdf: Vec<u8>,
    as_pdf: Expect,
    as_image: Expect,
}

fn case(name: &str) -> Case {
    let k = key(7);
    let qr = sign(&claims(), &k);
    match name {
        "valid" => Case {
            name: "valid",
            pdf: render_document(&document(claims(), qr, &k)).unwrap(),
            as_pdf: Expect::Valid {
                printed_checked: true,
            },
            // An image has no text layer: the person compares the paper with the screen.
            as_image: Expect::Valid {
                printed_checked: false,
            },
        },
        "unknown key" => {
            let other = key(8);
            let qr = sign(&claims(), &other);
            let e = loket_qr::verify(&qr, &trust()).unwrap_err();
            assert_eq!(e, VerifyError::UnknownKey(other.key_id()));
            Case {
                name: "unknown key",
                pdf: render_document(&document(claims(), qr, &other)).unwrap(),
                as_pdf: invalid(&e),
                as_image: invalid(&e),
            }
        }
        "district mismatch" => {
            // The trusted Wajo key signs a document that claims to be from Kota Makassar.
            let mut c = claims();
            c.district_code = "73.71".into();
            let qr = sign(&c, &k);
            let e = loket_qr::verify(&qr, &trust()).unwrap_err();
            assert!(
                matches!(&e, VerifyError::DistrictMismatch { claimed, .. } if claimed == "73.71"),
                "{e:?}"
            );
            Case {
                name: "district mismatch",
                pdf: render_document(&document(c, qr, &k)).unwrap(),
                as_pdf: invalid(&e),
                as_image: invalid(&e),
            }
        }
        "altered payload" => {
            let (tampered, e) = one_char_altered(&qr);
            Case {
                name: "altered payload",
                pdf: render_document(&document(claims(), tampered, &k)).unwrap(),
                as_pdf: invalid(&e),
                as_image: invalid(&e),
            }
        }
        "printed text altered" => {
            let mut printed = claims();
            printed.holder_name =
                "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAUU".into();
            Case {
                name: "printed text altered",
                pdf: render_document(&document(printed, qr, &k)).unwrap(),
                as_pdf: Expect::Invalid {
                    reason_id: "Data tercetak tidak sama dengan data bertanda tangan: Nama. \
                                Dokumen ini kemungkinan telah diubah."
                        .into(),
                    claims: true,
                },
                // Only a PDF's text layer can be compared; from an image the code itself is
                // genuine and the verifier says the printed data was not checked.
                as_image: Expect::Valid {
                    printed_checked: false,
                },
            }
        }
        "unreadable (no QR)" => Case {
            name: "unreadable (no QR)",
            pdf: receipt_pdf(),
            as_pdf: Expect::Unreadable,
            as_image: Expect::Unreadable,
        },
        other => panic!("no case {other}"),
    }
}

/// The genuine code with exactly one character changed, chosen inside the signed payload
/// (after the protected header, before the signature) so that it still parses: the
/// signature is what must catch it.
fn one_char_altered(qr: &str) -> (String, VerifyError) {
    let bytes = qr.as_bytes();
    for pos in (qr.len() / 4)..(qr.len() / 2) {
        for c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
            if *c == bytes[pos] {
                continue;
            }
            let mut b = bytes.to_vec();
            b[pos] = *c;
            let t = String::from_utf8(b).unwrap();
            if let Err(e @ VerifyError::BadSignature) = loket_qr::verify(&t, &trust()) {
                assert_eq!(t.chars().zip(qr.chars()).filter(|(a, b)| a != b).count(), 1);
                return (t, e);
            }
        }
    }
    panic!("no single-character change kept the code parseable");
}

// ---------------------------------------------------------------------------------------
// Images and degradations, all made here (deterministic, no external randomness).

fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// Poppler's rasteriser, independent of the verifier's own (hayro).
fn pdftoppm(pdf: &[u8], name: &str) -> GrayImage {
    let dir = std::env::temp_dir().join(format!("loket-verdicts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{}.pdf", name.replace(' ', "_")));
    std::fs::write(&src, pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png", "-singlefile"])
        .arg(&src)
        .arg(src.with_extension(""))
        .output()
        .expect("pdftoppm (Debian poppler-utils) must be installed");
    assert!(out.status.success(), "{out:?}");
    let png_path = src.with_extension("png");
    let img = image::open(&png_path).unwrap().to_luma8();
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&png_path);
    img
}

/// Rotation by `deg` about the centre, canvas grown to fit, white outside, bilinear.
fn rotate(img: &GrayImage, deg: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (s, c) = deg.to_radians().sin_cos();
    let nw = (w * c.abs() + h * s.abs()).ceil() as u32;
    let nh = (w * s.abs() + h * c.abs()).ceil() as u32;
    let (cx, cy, ncx, ncy) = (w / 2.0, h / 2.0, nw as f32 / 2.0, nh as f32 / 2.0);
    let src = img.as_raw();
    let iw = img.width() as usize;
    let mut out = vec![255u8; (nw * nh) as usize];
    for y in 0..nh {
        let dy = y as f32 - ncy;
        for x in 0..nw {
            let dx = x as f32 - ncx;
            let sx = c * dx + s * dy + cx;
            let sy = -s * dx + c * dy + cy;
            if sx < 0.0 || sy < 0.0 || sx >= w - 1.0 || sy >= h - 1.0 {
                continue;
            }
            let (x0, y0) = (sx as usize, sy as usize);
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let p = |xx: usize, yy: usize| f32::from(src[yy * iw + xx]);
            let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
            let bot = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
            out[(y * nw + x) as usize] = (top * (1.0 - fy) + bot * fy + 0.5) as u8;
        }
    }
    GrayImage::from_raw(nw, nh, out).unwrap()
}

/// Box blur of radius `r` (window 2r+1), separable, edges clamped.
fn box_blur(img: &GrayImage, r: usize) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let pass = |src: &[u8], len: usize, lines: usize, stride: usize, step: usize| {
        let mut dst = vec![0u8; src.len()];
        let n = (2 * r + 1) as u32;
        for l in 0..lines {
            let at = |i: isize| {
                let i = i.clamp(0, len as isize - 1) as usize;
                u32::from(src[l * stride + i * step])
            };
            let mut sum: u32 = (-(r as isize)..=r as isize).map(at).sum();
            for i in 0..len {
                dst[l * stride + i * step] = (sum / n) as u8;
                sum += at(i as isize + r as isize + 1);
                sum -= at(i as isize - r as isize);
            }
        }
        dst
    };
    let horiz = pass(img.as_raw(), w, h, w, 1);
    let both = pass(&horiz, h, w, 1, w);
    GrayImage::from_raw(w as u32, h as u32, both).unwrap()
}

/// Adds approximately Gaussian noise (Irwin–Hall sum of 4 uniforms) of std. dev. `sigma`.
fn noise(img: &GrayImage, sigma: f32, seed: u64) -> GrayImage {
    let mut state = seed | 1;
    let mut uniform = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32
    };
    // Sum of 4 U(0,1) has variance 4/12; scale to unit variance.
    let scale = sigma / (4.0f32 / 12.0).sqrt();
    let mut out = img.clone();
    for p in out.pixels_mut() {
        let g = (uniform() + uniform() + uniform() + uniform() - 2.0) * scale;
        p.0[0] = (f32::from(p.0[0]) + g).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Compresses the gray range to `lo..=hi` (black becomes `lo`, white `hi`).
fn contrast(img: &GrayImage, lo: u8, hi: u8) -> GrayImage {
    let mut out = img.clone();
    let span = u32::from(hi - lo);
    for p in out.pixels_mut() {
        p.0[0] = lo + ((u32::from(p.0[0]) * span + 127) / 255) as u8;
    }
    out
}

/// Resamples a `DPI` image to `dpi`.
fn at_dpi(img: &GrayImage, dpi: f32) -> GrayImage {
    let s = dpi / DPI;
    image::imageops::resize(
        img,
        (img.width() as f32 * s).round() as u32,
        (img.height() as f32 * s).round() as u32,
        image::imageops::FilterType::Triangle,
    )
}

/// Where the degradations are applied: a square of the 300 dpi page around the QR code of
/// the genuine document (what a phone photo of the code frames), so that the 20 degraded
/// scans per case stay fast. Whole pages are checked undegraded (PDF, pdftoppm).
static QR_WINDOW: OnceLock<(u32, u32, u32)> = OnceLock::new();

fn qr_window() -> (u32, u32, u32) {
    let page = rasterize_pdf(&case("valid").pdf, DPI).unwrap().remove(0);
    let (w, h) = page.dimensions();
    let found =
        rxing::helpers::detect_in_luma(page.into_raw(), w, h, Some(rxing::BarcodeFormat::QR_CODE))
            .expect("the genuine page has a QR code");
    let pts = found.getPoints();
    let cx = pts.iter().map(|p| p.x).sum::<f32>() / pts.len() as f32;
    let cy = pts.iter().map(|p| p.y).sum::<f32>() / pts.len() as f32;
    // 70 mm square: the 30 mm code, its caption and some of the text around it.
    let side = (70.0 / 25.4 * DPI) as u32;
    let x = (cx as u32).saturating_sub(side / 2).min(w - side);
    let y = (cy as u32).saturating_sub(side / 2).min(h - side);
    (x, y, side)
}

/// A named way to turn the clean 300 dpi page into an uploaded file.
struct Degradation {
    name: &'static str,
    /// Measured to read reliably: the verdict must be exactly the clean one.
    must_read: bool,
    make: fn(&GrayImage) -> Vec<u8>,
}

fn degradations() -> Vec<Degradation> {
    macro_rules! d {
        ($name:expr, $must:expr, $f:expr) => {
            Degradation {
                name: $name,
                must_read: $must,
                make: $f,
            }
        };
    }
    vec![
        d!("clean crop PNG", true, |i| png(i)),
        d!("JPEG q75", true, |i| jpeg(i, 75)),
        d!("150 dpi", true, |i| png(&at_dpi(i, 150.0))),
        d!("100 dpi", true, |i| png(&at_dpi(i, 100.0))),
        d!("75 dpi", false, |i| png(&at_dpi(i, 75.0))),
        d!("rotated 90°", true, |i| png(&image::imageops::rotate90(i))),
        d!("rotated 7°", true, |i| png(&rotate(i, 7.0))),
        d!("rotated 20°", true, |i| png(&rotate(i, 20.0))),
        d!("rotated 45°", true, |i| png(&rotate(i, 45.0))),
        d!("box blur r=1", true, |i| png(&box_blur(i, 1))),
        d!("box blur r=2", true, |i| png(&box_blur(i, 2))),
        d!("box blur r=3", true, |i| png(&box_blur(i, 3))),
        d!("box blur r=4", false, |i| png(&box_blur(i, 4))),
        d!("noise σ=20", true, |i| png(&noise(i, 20.0, 1))),
        d!("noise σ=40", true, |i| png(&noise(i, 40.0, 2))),
        d!("noise σ=70", false, |i| png(&noise(i, 70.0, 3))),
        d!("contrast 80–180", true, |i| png(&contrast(i, 80, 180))),
        d!("contrast 100–160", false, |i| png(&contrast(i, 100, 160))),
        d!("contrast 120–140", false, |i| png(&contrast(i, 120, 140))),
        d!("7° + blur 1 + noise 15 + 150 dpi", true, |i| {
            png(&at_dpi(
                &noise(&box_blur(&rotate(i, 7.0), 1), 15.0, 4),
                150.0,
            ))
        }),
    ]
}

/// Runs one case through the PDF, poppler's raster and every degradation; returns
/// (degradation, read) pairs for the report.
fn run(name: &str) -> Vec<(&'static str, bool)> {
    let c = case(name);
    let trust = trust();
    let mut failures = Vec::new();
    let mut check = |what: &str, bytes: &[u8], expect: &Expect, must: bool| -> bool {
        let got = outcome(&verify_file_bytes(bytes, &trust));
        let ok = got == *expect;
        if !ok && (must || got != Expect::Unreadable) {
            failures.push(format!(
                "{} / {what}: expected {expect:?}, got {got:?}",
                c.name
            ));
        }
        ok
    };
    check("PDF", &c.pdf, &c.as_pdf, true);
    check(
        "300 dpi PNG (pdftoppm)",
        &png(&pdftoppm(&c.pdf, c.name)),
        &c.as_image,
        true,
    );
    let full = rasterize_pdf(&c.pdf, DPI).unwrap().remove(0);
    let (x, y, side) = *QR_WINDOW.get_or_init(qr_window);
    let page = image::imageops::crop_imm(&full, x, y, side, side).to_image();
    let mut report = Vec::new();
    for d in degradations() {
        let ok = check(d.name, &(d.make)(&page), &c.as_image, d.must_read);
        report.push((d.name, ok));
    }
    let line: Vec<String> = report
        .iter()
        .map(|(n, ok)| format!("{n}: {}", if *ok { "OK" } else { "unreadable" }))
        .collect();
    eprintln!("[{}] {}", c.name, line.join("; "));
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    report
}

#[test]
fn valid() {
    run("valid");
}

#[test]
fn signed_by_unknown_key() {
    run("unknown key");
}

#[test]
fn district_mismatch() {
    run("district mismatch");
}

#[test]
fn altered_payload_one_qr_character() {
    run("altered payload");
}

#[test]
fn printed_text_altered() {
    run("printed text altered");
}

#[test]
fn unreadable_pdf_without_qr() {
    // A page with no code stays unreadable however it is degraded.
    let report = run("unreadable (no QR)");
    assert!(report.iter().all(|(_, ok)| *ok));
}

#[test]
fn unreadable_noise_and_blank_images() {
    let trust = trust();
    let blank = GrayImage::from_pixel(1240, 1754, Luma([255u8]));
    for (name, img) in [
        ("uniform noise", noise(&blank, 90.0, 9)),
        ("blank page", blank.clone()),
        ("contrast 0 (all gray)", contrast(&blank, 128, 128)),
    ] {
        for bytes in [png(&img), jpeg(&img, 60)] {
            let v = verify_file_bytes(&bytes, &trust);
            assert_eq!(outcome(&v), Expect::Unreadable, "{name}: {v:?}");
        }
    }
}
