//! Finding and verifying Loket QR codes in files people upload or receive: PDF, PNG, JPEG.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{render, PixmapSettings, RenderCache, RenderSettings};
use image::GrayImage;
use loket_qr::{DocumentClaims, TrustList, Verified, VerifyError};
use rxing::{BarcodeFormat, DecodeHints};
use thiserror::Error;

use crate::text::{check_printed, PrintedCheck};

/// Render resolution for finding QR codes in PDFs: ≥3 px per module for a 30 mm v10 code.
const PDF_SCAN_DPI: f32 = 200.0;
/// Second try when nothing was found at the first resolution.
const PDF_RETRY_DPI: f32 = 300.0;
/// Upper bound on a rendered page side, so a hostile page size cannot exhaust memory.
const MAX_RENDER_PX: f32 = 4000.0;
/// Images larger than this (longest side) are scaled down before scanning, to bound time.
const MAX_SCAN_PX: u32 = 3000;

/// Why a file could not be scanned at all (as opposed to: scanned, no QR found).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanError {
    /// Zero bytes.
    #[error("file is empty")]
    Empty,
    /// Not a PDF, PNG or JPEG (by magic bytes).
    #[error("unsupported file type")]
    UnsupportedType,
    /// The image could not be decoded.
    #[error("image could not be decoded: {0}")]
    Image(String),
    /// The PDF could not be parsed or rendered.
    #[error("PDF could not be read: {0}")]
    Pdf(String),
}

impl ScanError {
    /// Message in Bahasa Indonesia for the verifier screen.
    pub fn message_id(&self) -> String {
        match self {
            ScanError::Empty => "Berkas kosong (0 byte).".into(),
            ScanError::UnsupportedType => {
                "Jenis berkas tidak dikenali. Yang dapat diperiksa hanya PDF, PNG, atau JPEG."
                    .into()
            }
            ScanError::Image(_) => "Berkas gambar rusak atau tidak dapat dibuka.".into(),
            ScanError::Pdf(_) => "Berkas PDF rusak atau tidak dapat dibuka.".into(),
        }
    }

    /// The same message in English.
    pub fn message_en(&self) -> String {
        match self {
            ScanError::Empty => "The file is empty (0 bytes).".into(),
            ScanError::UnsupportedType => {
                "File type not recognised. Only PDF, PNG or JPEG files can be checked.".into()
            }
            ScanError::Image(_) => "The image file is damaged or cannot be opened.".into(),
            ScanError::Pdf(_) => "The PDF file is damaged or cannot be opened.".into(),
        }
    }
}

/// Outcome of checking a file, ready for the verifier screen.
// Not boxed: the field types are the agreed public API and one verdict per file is cheap.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileVerdict {
    /// A genuine Loket code signed by a trusted key.
    Valid {
        /// The signed claims and the key that signed them.
        verified: Verified,
        /// True when the printed name, NIK and number in a PDF were read and match the
        /// signed claims; false for images and PDFs whose text could not be read, where
        /// the person must compare the printed data with the verified data themselves.
        printed_checked: bool,
    },
    /// A code was found but must not be trusted.
    Invalid {
        /// Reason in Bahasa Indonesia.
        reason_id: String,
        /// Reason in English.
        reason_en: String,
        /// Signed claims, only when the signature itself verified (printed-text mismatch).
        claims: Option<DocumentClaims>,
    },
    /// No code could be read from the file.
    Unreadable {
        /// Reason in Bahasa Indonesia.
        reason_id: String,
        /// Reason in English.
        reason_en: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Png,
    Jpeg,
}

fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        // The PDF spec tolerates junk before the header; readers look in the first 1 KiB.
        Some(Kind::Pdf)
    } else {
        None
    }
}

/// Renders each PDF page to an 8-bit grayscale image at `dpi` (capped for huge pages).
pub fn rasterize_pdf(pdf_bytes: &[u8], dpi: f32) -> Result<Vec<GrayImage>, ScanError> {
    guarded(|| rasterize_pdf_inner(pdf_bytes, dpi))
        .unwrap_or_else(|| Err(ScanError::Pdf("renderer failed".into())))
}

fn rasterize_pdf_inner(pdf_bytes: &[u8], dpi: f32) -> Result<Vec<GrayImage>, ScanError> {
    let pdf = Pdf::new(pdf_bytes.to_vec()).map_err(|e| ScanError::Pdf(format!("{e:?}")))?;
    let cache = RenderCache::new();
    let interpreter = InterpreterSettings::default();
    let settings = RenderSettings::default();
    let mut out = Vec::new();
    for page in pdf.pages().iter() {
        let (w, h) = page.render_dimensions();
        let longest = w.max(h).max(1.0);
        let scale = (dpi / 72.0).min(MAX_RENDER_PX / longest);
        let pixmap = render(
            page,
            &cache,
            &interpreter,
            &settings,
            &PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: WHITE,
            },
        );
        let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
        let luma: Vec<u8> = pixmap
            .data_as_u8_slice()
            .chunks_exact(4)
            .map(|p| {
                // Premultiplied over white background is opaque, so this is plain RGB.
                ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                    as u8
            })
            .collect();
        out.push(
            GrayImage::from_raw(pw, ph, luma)
                .ok_or_else(|| ScanError::Pdf("bad pixmap size".into()))?,
        );
    }
    Ok(out)
}

/// Runs third-party decoders so that a panic on hostile input becomes `None`, not a crash.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn qr_hints() -> DecodeHints {
    DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(true),
        ..Default::default()
    }
}

/// All QR texts rxing finds in one grayscale image (empty when none).
fn scan_gray(img: &GrayImage) -> Vec<String> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let img = if w.max(h) > MAX_SCAN_PX {
        let s = MAX_SCAN_PX as f32 / w.max(h) as f32;
        image::imageops::resize(
            img,
            ((w as f32 * s) as u32).max(1),
            ((h as f32 * s) as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        img.clone()
    };
    let (w, h) = img.dimensions();
    let luma = img.into_raw();
    let found = guarded(|| {
        let mut hints = qr_hints();
        match rxing::helpers::detect_multiple_in_luma_with_hints(luma.clone(), w, h, &mut hints) {
            Ok(results) if !results.is_empty() => results
                .iter()
                .map(|r| r.getText().to_string())
                .collect::<Vec<_>>(),
            _ => {
                let mut hints = qr_hints();
                rxing::helpers::detect_in_luma_with_hints(luma, w, h, None, &mut hints)
                    .map(|r| vec![r.getText().to_string()])
                    .unwrap_or_default()
            }
        }
    });
    let mut texts = found.unwrap_or_default();
    let mut seen = HashSet::new();
    texts.retain(|t| seen.insert(t.clone()));
    texts
}

/// Decodes every QR code in a PDF, PNG or JPEG file (type sniffed from magic bytes).
/// An empty list means the file was readable but had no QR code.
pub fn decode_qr_texts(bytes: &[u8]) -> Result<Vec<String>, ScanError> {
    if bytes.is_empty() {
        return Err(ScanError::Empty);
    }
    match sniff(bytes).ok_or(ScanError::UnsupportedType)? {
        Kind::Png | Kind::Jpeg => {
            let img = guarded(|| image::load_from_memory(bytes))
                .ok_or_else(|| ScanError::Image("decoder failed".into()))?
                .map_err(|e| ScanError::Image(e.to_string()))?;
            Ok(scan_gray(&img.to_luma8()))
        }
        Kind::Pdf => {
            let mut texts = Vec::new();
            for page in rasterize_pdf(bytes, PDF_SCAN_DPI)? {
                texts.extend(scan_gray(&page));
            }
            if texts.is_empty() {
                for page in rasterize_pdf(bytes, PDF_RETRY_DPI)? {
                    texts.extend(scan_gray(&page));
                }
            }
            let mut seen = HashSet::new();
            texts.retain(|t| seen.insert(t.clone()));
            Ok(texts)
        }
    }
}

fn invalid(e: &VerifyError) -> FileVerdict {
    FileVerdict::Invalid {
        reason_id: e.message_id(),
        reason_en: e.message_en(),
        claims: None,
    }
}

/// Checks a file end to end: find the QR, verify its signature offline against `trust`,
/// and for PDFs compare the printed name, NIK and document number with the signed claims.
pub fn verify_file_bytes(bytes: &[u8], trust: &TrustList) -> FileVerdict {
    let texts = match decode_qr_texts(bytes) {
        Ok(t) => t,
        Err(e) => {
            return FileVerdict::Unreadable {
                reason_id: e.message_id(),
                reason_en: e.message_en(),
            }
        }
    };
    if texts.is_empty() {
        return FileVerdict::Unreadable {
            reason_id: "Tidak ditemukan kode QR pada berkas ini. Pastikan kode QR terlihat utuh, tajam, dan tidak terpotong.".into(),
            reason_en: "No QR code was found in this file. Make sure the QR code is whole, sharp and not cut off.".into(),
        };
    }
    // Prefer a valid Loket code; otherwise report the most telling failure.
    let mut first_err: Option<VerifyError> = None;
    let mut verified: Option<Verified> = None;
    for t in &texts {
        match loket_qr::verify(t, trust) {
            Ok(v) => {
                verified = Some(v);
                break;
            }
            Err(e) => {
                let replace = match (&first_err, &e) {
                    (None, _) => true,
                    // A Loket code that fails says more than an unrelated QR code.
                    (Some(VerifyError::NotLoketCode), e) => *e != VerifyError::NotLoketCode,
                    _ => false,
                };
                if replace {
                    first_err = Some(e);
                }
            }
        }
    }
    let Some(verified) = verified else {
        return invalid(&first_err.unwrap_or(VerifyError::NotLoketCode));
    };
    if sniff(bytes) != Some(Kind::Pdf) {
        return FileVerdict::Valid {
            verified,
            printed_checked: false,
        };
    }
    match guarded(|| check_printed(bytes, &verified.claims)).unwrap_or(PrintedCheck::NotChecked) {
        PrintedCheck::Matches => FileVerdict::Valid {
            verified,
            printed_checked: true,
        },
        PrintedCheck::NotChecked => FileVerdict::Valid {
            verified,
            printed_checked: false,
        },
        PrintedCheck::Mismatch(fields) => {
            let ids: Vec<&str> = fields.iter().map(|f| f.0).collect();
            let ens: Vec<&str> = fields.iter().map(|f| f.1).collect();
            FileVerdict::Invalid {
                reason_id: format!(
                    "Data tercetak tidak sama dengan data bertanda tangan: {}. Dokumen ini kemungkinan telah diubah.",
                    ids.join(", ")
                ),
                reason_en: format!(
                    "The printed data differs from the signed data: {}. This document has probably been altered.",
                    ens.join(", ")
                ),
                claims: Some(verified.claims),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(sniff(b"%PDF-1.7\n") == Some(Kind::Pdf));
        assert!(sniff(b"\xEF\xBB\xBF%PDF-1.4") == Some(Kind::Pdf));
        assert!(sniff(b"\x89PNG\r\n\x1a\n....") == Some(Kind::Png));
        assert!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]) == Some(Kind::Jpeg));
        assert!(sniff(b"GIF89a").is_none());
        assert!(sniff(b"").is_none());
    }
}
