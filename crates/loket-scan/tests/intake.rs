//! Intake of synthetic scans made here (no committed binaries): sizes, bounds, determinism,
//! legibility, and every refusal.

use std::io::Cursor;
use std::sync::OnceLock;
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, GrayImage, ImageEncoder, Luma, RgbaImage};
use loket_scan::{content_address, intake, FileKind, IntakeLimits, ScanError, A4_150DPI};

/// A4 at 300 dpi.
const A4_300: (u32, u32) = (2480, 3508);

/// Deterministic pseudo-random numbers (xorshift), so fixtures are identical on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A synthetic "scanned form": off-white noisy paper, a frame, ruled lines and lines of
/// "words" made of letter-like strokes, optionally skewed by `deg` degrees.
fn synthetic_page(w: u32, h: u32, dpi: f32, deg: f32) -> GrayImage {
    let u = dpi / 300.0; // all sizes below are in 300-dpi pixels
    let px = |v: f32| (v * u) as i64;
    let (line_pitch, x_height, margin) = (px(60.0), px(30.0), px(200.0));
    let t = deg.to_radians().tan();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    // Word pattern per text line: pre-computed runs of (start, end) in x.
    let lines = (h as i64 - 2 * margin) / line_pitch;
    let mut words: Vec<Vec<(i64, i64)>> = Vec::new();
    for _ in 0..lines {
        let mut x = margin;
        let mut row = Vec::new();
        let end = w as i64 - margin - (rng.next() % 600) as i64 * px(1.0);
        while x < end {
            let len = px(60.0 + (rng.next() % 240) as f32);
            row.push((x, (x + len).min(end)));
            x += len + px(25.0);
        }
        words.push(row);
    }
    let mut img = GrayImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (xi, yi) = (x as i64, (y as f32 - x as f32 * t) as i64);
        let noise = (rng.next() % 17) as i64 - 8;
        let mut v = 245 + noise;
        let frame = px(120.0);
        let on_frame = (xi >= frame && xi < frame + px(6.0)
            || xi < w as i64 - frame && xi >= w as i64 - frame - px(6.0))
            && yi >= frame
            && yi < h as i64 - frame
            || (yi >= frame && yi < frame + px(6.0)
                || yi < h as i64 - frame && yi >= h as i64 - frame - px(6.0))
                && xi >= frame
                && xi < w as i64 - frame;
        if on_frame {
            v = 20 + noise;
        } else if yi >= margin && xi >= margin {
            let li = (yi - margin) / line_pitch;
            let within = (yi - margin) % line_pitch;
            if (li as usize) < words.len() {
                if within < x_height {
                    let stroke = (xi % px(14.0).max(2)) < px(5.0).max(1);
                    let in_word = words[li as usize].iter().any(|&(a, b)| xi >= a && xi < b);
                    if stroke && in_word {
                        v = 15 + noise;
                    }
                } else if within == x_height + px(12.0) && li % 5 == 4 {
                    v = 60 + noise; // a faint ruled line under every fifth line
                }
            }
        }
        *p = Luma([v.clamp(0, 255) as u8]);
    }
    img
}

fn png_bytes(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(Cursor::new(&mut out))
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::L8,
        )
        .unwrap();
    out
}

fn jpeg_bytes(img: &GrayImage, q: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, q)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::L8,
        )
        .unwrap();
    out
}

fn a4_300() -> &'static GrayImage {
    static PAGE: OnceLock<GrayImage> = OnceLock::new();
    PAGE.get_or_init(|| synthetic_page(A4_300.0, A4_300.1, 300.0, 0.0))
}

fn a4_png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| png_bytes(a4_300()))
}

fn a4_jpeg() -> &'static [u8] {
    static JPG: OnceLock<Vec<u8>> = OnceLock::new();
    JPG.get_or_init(|| jpeg_bytes(a4_300(), 92))
}

fn assert_stored_form(r: &loket_scan::ScanIntake, bytes: &[u8], limits: &IntakeLimits) {
    assert_eq!(r.original_sha256, content_address(bytes));
    assert_eq!(r.original_bytes, bytes.len() as u64);
    assert_eq!(r.original_sha256.len(), 64);
    assert!(r
        .original_sha256
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    for p in &r.pages {
        assert!(
            p.jpeg.len() <= limits.target_page_bytes,
            "page {} bytes",
            p.jpeg.len()
        );
        let (bw, bh) = if p.width > p.height {
            (A4_150DPI.1, A4_150DPI.0)
        } else {
            A4_150DPI
        };
        assert!(p.width <= bw && p.height <= bh, "{}×{}", p.width, p.height);
        assert_eq!(p.sha256, content_address(&p.jpeg));
        let decoded = image::load_from_memory(&p.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (p.width, p.height));
        assert!(decoded.color().channel_count() == 1, "page is grayscale");
    }
    let thumb = image::load_from_memory(&r.thumbnail_png).unwrap();
    assert_eq!(thumb.width(), 160);
}

fn report(label: &str, bytes: &[u8], limits: &IntakeLimits) -> loket_scan::ScanIntake {
    let t = Instant::now();
    let r = intake(bytes, limits).unwrap();
    let ms = t.elapsed().as_millis();
    let out: usize = r.pages.iter().map(|p| p.jpeg.len()).sum();
    eprintln!(
        "{label}: {} B → {} page(s), {} B ({:.1}×), q{}, {}×{}, skew {}°, {} ms/page",
        bytes.len(),
        r.pages.len(),
        out,
        bytes.len() as f64 / out as f64,
        r.pages[0].quality,
        r.pages[0].width,
        r.pages[0].height,
        r.pages[0].skew_degrees,
        ms / r.pages.len() as u128
    );
    r
}

#[test]
fn png_a4_scan_becomes_one_small_a4_page() {
    let limits = IntakeLimits::default();
    let r = report("PNG A4@300", a4_png(), &limits);
    assert_eq!(r.kind, FileKind::Png);
    assert_eq!(r.pages.len(), 1);
    // A dense page may be shrunk to fit the budget, but never below ~100 dpi (827×1169).
    let p = &r.pages[0];
    assert!(
        p.width >= 827 && p.height >= 1169,
        "{}×{}",
        p.width,
        p.height
    );
    assert!(
        p.height.abs_diff(p.width * 1754 / 1240) <= 1,
        "aspect ratio kept"
    );
    assert_eq!(p.skew_degrees, 0.0);
    assert_stored_form(&r, a4_png(), &limits);
}

#[test]
fn jpeg_a4_scan_becomes_one_small_a4_page_deterministically() {
    let limits = IntakeLimits::default();
    let r = report("JPEG A4@300", a4_jpeg(), &limits);
    assert_eq!(r.kind, FileKind::Jpeg);
    assert_eq!(r.pages.len(), 1);
    assert_stored_form(&r, a4_jpeg(), &limits);
    let again = intake(a4_jpeg(), &limits).unwrap();
    assert_eq!(again, r);
    assert_eq!(again.pages[0].sha256, r.pages[0].sha256);
}

#[test]
fn text_stays_legible_after_compression() {
    let limits = IntakeLimits::default();
    let r = intake(a4_png(), &limits).unwrap();
    let p = &r.pages[0];
    let page = image::load_from_memory(&p.jpeg).unwrap().to_luma8();
    let reference = image::imageops::resize(
        a4_300(),
        p.width,
        p.height,
        image::imageops::FilterType::Triangle,
    );
    let n = page.as_raw().len() as f64;
    let mad: f64 = page
        .as_raw()
        .iter()
        .zip(reference.as_raw())
        .map(|(a, b)| f64::from((i16::from(*a) - i16::from(*b)).unsigned_abs()))
        .sum::<f64>()
        / n;
    let agree = page
        .as_raw()
        .iter()
        .zip(reference.as_raw())
        .filter(|(a, b)| (**a < 128) == (**b < 128))
        .count() as f64
        / n;
    eprintln!(
        "legibility: mean abs diff {mad:.2}, ink agreement {:.4}",
        agree
    );
    assert!(mad < 12.0, "mean absolute difference {mad}");
    assert!(agree > 0.98, "ink/paper agreement {agree}");
}

#[test]
fn skewed_scan_is_straightened() {
    let limits = IntakeLimits::default();
    let skewed = synthetic_page(1240, 1754, 150.0, 2.0);
    let r = report("PNG A4@150 skewed 2°", &png_bytes(&skewed), &limits);
    let p = &r.pages[0];
    assert!(
        (p.skew_degrees - 2.0).abs() <= 0.3,
        "corrected {}°",
        p.skew_degrees
    );
    let page = image::load_from_memory(&p.jpeg).unwrap().to_luma8();
    assert_eq!(
        loket_scan::estimate_skew_degrees(&page),
        None,
        "still skewed"
    );
}

fn krilla_pdf(pages: usize) -> Vec<u8> {
    krilla_pdf_sized(pages, (595.28, 841.89))
}

fn krilla_pdf_sized(pages: usize, (pw, ph): (f32, f32)) -> Vec<u8> {
    use krilla::color::luma;
    use krilla::geom::{PathBuilder, Rect};
    use krilla::page::PageSettings;
    use krilla::paint::Fill;
    let mut doc = krilla::Document::new();
    for i in 0..pages {
        let mut page = doc.start_page_with(PageSettings::from_wh(pw, ph).unwrap());
        let mut surface = page.surface();
        let mut pb = PathBuilder::new();
        for line in 0..((ph - 100.0) / 18.0) as usize {
            let y = 60.0 + line as f32 * 18.0;
            let len = (150.0 + ((line * 37 + i * 11) % 300) as f32).min(pw - 100.0);
            pb.push_rect(Rect::from_xywh(50.0, y, len, 7.0).unwrap());
        }
        let path = pb.finish().unwrap();
        surface.set_fill(Some(Fill {
            paint: luma::Color::black().into(),
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.finish();
        page.finish();
    }
    doc.finish().unwrap()
}

#[test]
fn pdf_gives_one_page_per_pdf_page() {
    let limits = IntakeLimits::default();
    let pdf = krilla_pdf(3);
    let r = report("krilla PDF, 3 A4 pages", &pdf, &limits);
    assert_eq!(r.kind, FileKind::Pdf);
    assert_eq!(r.pages.len(), 3);
    assert_stored_form(&r, &pdf, &limits);
    // 841.89 pt at 150 dpi is 1753.9 px; hayro truncates.
    assert_eq!(r.pages[0].width, 1240);
    assert!((1753..=1754).contains(&r.pages[0].height));
    assert_ne!(r.pages[0].sha256, r.pages[1].sha256);
}

#[test]
fn a5_pdf_page_keeps_its_size_at_150_dpi() {
    // Receipts are A5 (loket-print); an A5 page is not blown up to A4.
    let pdf = krilla_pdf_sized(1, (419.53, 595.28));
    let limits = IntakeLimits::default();
    let r = intake(&pdf, &limits).unwrap();
    assert_eq!(r.pages.len(), 1);
    assert_stored_form(&r, &pdf, &limits);
    // A5 at 150 dpi is 874×1240.
    assert!(
        (873..=875).contains(&r.pages[0].width),
        "{}",
        r.pages[0].width
    );
}

#[test]
fn pdf_with_too_many_pages_is_refused() {
    let limits = IntakeLimits {
        max_pages: 2,
        ..IntakeLimits::default()
    };
    assert_eq!(
        intake(&krilla_pdf(3), &limits),
        Err(ScanError::TooManyPages { pages: 3, max: 2 })
    );
}

#[test]
fn empty_file_is_refused() {
    assert_eq!(intake(&[], &IntakeLimits::default()), Err(ScanError::Empty));
}

#[test]
fn oversized_file_is_refused_before_parsing() {
    let mut big = vec![0u8; 21 * 1024 * 1024];
    big[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        intake(&big, &IntakeLimits::default()),
        Err(ScanError::TooLarge {
            size: 21 * 1024 * 1024,
            max: 20 * 1024 * 1024
        })
    );
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

#[test]
fn png_bomb_is_refused_from_its_header() {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit gray, deflate, no filter, no interlace
    png_chunk(&mut png, b"IHDR", &ihdr);
    // A tiny valid zlib stream (empty deflate block): the decoder would expand it to 10 GB.
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    assert_eq!(
        intake(&png, &IntakeLimits::default()),
        Err(ScanError::TooManyPixels {
            width: 100_000,
            height: 100_000,
            max: 60_000_000
        })
    );
}

#[test]
fn jpeg_bomb_is_refused_from_its_header() {
    // SOI, DQT, SOF0 declaring 60000×60000 gray, then EOI: no scan data at all.
    let mut jpg = vec![0xFF, 0xD8];
    jpg.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    jpg.extend_from_slice(&[1u8; 64]);
    jpg.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x0B, 8, 0xEA, 0x60, 0xEA, 0x60, 1, 1, 0x11, 0,
    ]);
    jpg.extend_from_slice(&[0xFF, 0xD9]);
    match intake(&jpg, &IntakeLimits::default()) {
        Err(ScanError::TooManyPixels { width, height, .. }) => {
            assert_eq!((width, height), (60_000, 60_000))
        }
        // Some header parsers insist on a scan segment; refusing is what matters.
        Err(ScanError::Corrupt(_)) => {}
        other => panic!("expected refusal, got {other:?}"),
    }
}

#[test]
fn truncated_png_is_corrupt() {
    let small = png_bytes(&synthetic_page(300, 424, 36.0, 0.0));
    let cut = &small[..small.len() / 2];
    assert!(matches!(
        intake(cut, &IntakeLimits::default()),
        Err(ScanError::Corrupt(_))
    ));
}

#[test]
fn random_bytes_behind_jpeg_magic_are_corrupt() {
    let mut rng = Rng(42);
    let mut bytes = vec![0xFF, 0xD8, 0xFF];
    bytes.extend((0..4096).map(|_| rng.next() as u8));
    assert!(matches!(
        intake(&bytes, &IntakeLimits::default()),
        Err(ScanError::Corrupt(_))
    ));
}

#[test]
fn garbage_behind_pdf_magic_is_corrupt() {
    assert!(matches!(
        intake(b"%PDF-1.7\nthis is not a pdf", &IntakeLimits::default()),
        Err(ScanError::Corrupt(_))
    ));
}

#[test]
fn zip_or_exe_named_jpg_is_unsupported() {
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00scan.jpg....";
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff";
    for bytes in [&zip[..], &exe[..], b"GIF89a..."] {
        assert_eq!(
            intake(bytes, &IntakeLimits::default()),
            Err(ScanError::UnsupportedType)
        );
    }
}

#[test]
fn transparent_png_is_composited_on_white_paper() {
    // Fully transparent black (what many tools write for "empty") must not become a black page.
    let img = RgbaImage::from_fn(400, 566, |x, _| {
        if x < 200 {
            image::Rgba([0, 0, 0, 0])
        } else {
            image::Rgba([0, 0, 0, 255])
        }
    });
    let mut png = Vec::new();
    PngEncoder::new(Cursor::new(&mut png))
        .write_image(img.as_raw(), 400, 566, ExtendedColorType::Rgba8)
        .unwrap();
    let r = intake(&png, &IntakeLimits::default()).unwrap();
    let page = image::load_from_memory(&r.pages[0].jpeg)
        .unwrap()
        .to_luma8();
    assert!(
        page.get_pixel(50, 283)[0] > 230,
        "transparent half is paper"
    );
    assert!(page.get_pixel(350, 283)[0] < 30, "opaque half is ink");
}

#[test]
fn every_error_has_both_languages() {
    let all = [
        ScanError::Empty,
        ScanError::TooLarge {
            size: 21 << 20,
            max: 20 << 20,
        },
        ScanError::UnsupportedType,
        ScanError::Corrupt("x".into()),
        ScanError::TooManyPixels {
            width: 1,
            height: 1,
            max: 1,
        },
        ScanError::TooManyPages { pages: 11, max: 10 },
    ];
    for e in all {
        assert!(!e.message_id().is_empty() && !e.message_en().is_empty());
        assert_ne!(e.message_id(), e.message_en());
    }
    assert!(ScanError::TooLarge {
        size: 0,
        max: 20 << 20
    }
    .message_id()
    .contains("20 MB"));
}

/// A clean, already compact form (white paper, a frame and a few lines of black "words", no
/// grain): what a scanner app or an earlier export produces; skewed by `deg` degrees.
fn clean_form(w: u32, h: u32, deg: f32) -> GrayImage {
    let t = deg.to_radians().tan();
    let mut rng = Rng(0xC1EA_4F04_4D00_0001);
    let lines: Vec<Vec<(i64, i64)>> = (0..(h as i64 - 160) / 90)
        .map(|_| {
            let (mut x, end) = (80i64, w as i64 - 80 - (rng.next() % 400) as i64);
            let mut row = Vec::new();
            while x < end {
                let len = 30 + (rng.next() % 120) as i64;
                row.push((x, (x + len).min(end)));
                x += len + 14;
            }
            row
        })
        .collect();
    GrayImage::from_fn(w, h, |x, y| {
        let (xi, yi) = (x as i64, (y as f32 - x as f32 * t) as i64);
        let frame = (xi - 50).abs() < 2 || (xi - (w as i64 - 50)).abs() < 2;
        let frame = (frame && yi > 50 && yi < h as i64 - 50)
            || ((yi - 50).abs() < 2 || (yi - (h as i64 - 50)).abs() < 2)
                && xi > 50
                && xi < w as i64 - 50;
        let (line, within) = ((yi - 80).div_euclid(90), (yi - 80).rem_euclid(90));
        let word = yi >= 80
            && within < 16
            && xi % 7 < 2
            && lines
                .get(line as usize)
                .is_some_and(|row| row.iter().any(|&(a, b)| xi >= a && xi < b));
        Luma([if frame || word { 0 } else { 255 }])
    })
}

/// `jpeg` with an EXIF segment (APP1, here carrying a fake GPS note) and a comment after SOI.
fn with_metadata(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for (marker, body) in [
        (0xE1u8, &b"Exif\0\0GPS -3.79,119.65 (rumah warga)"[..]),
        (0xFE, &b"scanned by CamScanner"[..]),
    ] {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn compact_straight_grayscale_jpeg_is_kept_without_its_metadata() {
    let limits = IntakeLimits::default();
    let plain = jpeg_bytes(&clean_form(1000, 1414, 0.0), 50);
    let upload = with_metadata(&plain);
    let r = report("compact gray JPEG q50", &upload, &limits);
    let p = &r.pages[0];
    assert_eq!(p.skew_degrees, 0.0);
    assert_eq!((p.width, p.height), (1000, 1414));
    assert!(
        p.jpeg.len() <= upload.len(),
        "{} > {}",
        p.jpeg.len(),
        upload.len()
    );
    assert_eq!(p.jpeg, plain, "kept as uploaded, minus EXIF and comment");
    assert!(
        (45..=55).contains(&p.quality),
        "estimated quality {}",
        p.quality
    );
    assert_stored_form(&r, &upload, &limits);
    assert_eq!(intake(&upload, &limits).unwrap(), r, "deterministic");
}

#[test]
fn compact_skewed_jpeg_does_not_grow_when_straightened() {
    let limits = IntakeLimits::default();
    let upload = jpeg_bytes(&clean_form(1264, 911, 1.5), 50);
    let r = report("compact gray JPEG q50, skewed 1.5°", &upload, &limits);
    let p = &r.pages[0];
    assert!(
        (p.skew_degrees - 1.5).abs() <= 0.3,
        "corrected {}°",
        p.skew_degrees
    );
    assert!(
        p.jpeg.len() <= upload.len(),
        "{} > {}",
        p.jpeg.len(),
        upload.len()
    );
    assert!((40..80).contains(&p.quality), "quality {}", p.quality);
    assert_eq!((p.width, p.height), (1264, 911), "not shrunk");
    assert_stored_form(&r, &upload, &limits);
    assert_eq!(intake(&upload, &limits).unwrap(), r, "deterministic");
}

#[test]
fn demo_kk_does_not_grow() {
    let limits = IntakeLimits::default();
    let upload = include_bytes!("../../../assets/demo/contoh-kk.jpg");
    let r = report("assets/demo/contoh-kk.jpg", upload, &limits);
    let p = &r.pages[0];
    assert!(
        (p.skew_degrees - 1.5).abs() <= 0.3,
        "corrected {}°",
        p.skew_degrees
    );
    assert!(
        p.jpeg.len() <= upload.len(),
        "{} > {}",
        p.jpeg.len(),
        upload.len()
    );
    assert!(p.quality >= 40, "quality {}", p.quality);
    assert_stored_form(&r, upload, &limits);
    assert_eq!(intake(upload, &limits).unwrap(), r, "deterministic");
}
