//! Intake of requirement scans (issue 4, "Scans"): a file from disk, drag and drop or a
//! camera becomes grayscale A4 pages of at most ~200 KB each, plus a thumbnail, all
//! content-addressed by SHA-256.
//!
//! - The type is sniffed from magic bytes (PDF, PNG, JPEG), never from the file name.
//! - Size is checked before parsing; image dimensions are checked from the header before
//!   decoding (decompression bombs); PDF page count and render size are bounded.
//! - Third-party decoders run under `catch_unwind`: a panic becomes [`ScanError::Corrupt`].
//! - Each page: grayscale → fit into A4 at 150 dpi → contrast stretch → deskew (±5°, on the
//!   page only: the table around a photographed page does not count) → JPEG with the highest
//!   quality from 80 down to 40 that fits the byte target, shrinking towards 100 dpi if even
//!   q40 does not fit.
//! - An uploaded image never grows without need: if its page would be larger than the upload,
//!   a grayscale JPEG that needed no scaling or straightening is kept as it is (metadata such
//!   as EXIF removed), otherwise the highest quality down to 40 that is not larger is used
//!   (q40 if none is).
//! - Same input bytes give the same output bytes (and hashes).
//!
//! Encryption at rest is not done here: it belongs to the store.

mod deskew;
mod error;
mod page;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::metadata::Orientation;
use image::{ColorType, DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};

pub use deskew::{estimate_skew_degrees, rotate_gray};
pub use error::ScanError;
pub use page::{A4_150DPI, THUMBNAIL_WIDTH};

/// Bounds on what one upload may cost, so a hostile or mistaken file cannot exhaust a 4 GB laptop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Largest accepted file in bytes, checked before any parsing.
    pub max_file_bytes: u64,
    /// Largest accepted image (width × height), checked from the header before decoding.
    pub max_pixels: u64,
    /// Largest accepted number of PDF pages.
    pub max_pages: usize,
    /// Byte budget per output JPEG page, so scans fit 2G links and the store.
    pub target_page_bytes: usize,
}

impl Default for IntakeLimits {
    /// The limits of issue 4: 20 MB files, 60 megapixels, 10 PDF pages, 200 KB per page.
    fn default() -> Self {
        IntakeLimits {
            max_file_bytes: 20 * 1024 * 1024,
            max_pixels: 60_000_000,
            max_pages: 10,
            target_page_bytes: 200 * 1024,
        }
    }
}

/// The type of the uploaded file as sniffed from its bytes; kept to show the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `%PDF-` within the first KiB.
    Pdf,
    /// The 8-byte PNG signature.
    Png,
    /// The JPEG SOI marker followed by another marker (`FF D8 FF`).
    Jpeg,
}

/// One stored page: grayscale JPEG plus what the checklist and the store need to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The compressed grayscale page.
    pub jpeg: Vec<u8>,
    /// Width in pixels of the JPEG.
    pub width: u32,
    /// Height in pixels of the JPEG.
    pub height: u32,
    /// Content address of `jpeg` (SHA-256, lowercase hex), the key the store uses.
    pub sha256: String,
    /// JPEG quality the search settled on (40–80; lower only for pathological pages), or for
    /// an upload kept as it is, its own quality as estimated from its quantisation table.
    pub quality: u8,
    /// Skew corrected by straightening, in degrees (0.0 when the page was left as is).
    pub skew_degrees: f32,
}

/// Everything kept from one upload: the original's address and the normalized pages.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanIntake {
    /// Content address of the uploaded bytes, for de-duplicating re-uploads.
    pub original_sha256: String,
    /// Size of the uploaded file, for the compression ratio shown to the operator.
    pub original_bytes: u64,
    /// The sniffed type.
    pub kind: FileKind,
    /// One entry per image, or per PDF page.
    pub pages: Vec<Page>,
    /// PNG of page 1, [`THUMBNAIL_WIDTH`] pixels wide, for the requirement checklist.
    pub thumbnail_png: Vec<u8>,
}

/// SHA-256 of `bytes` as lowercase hex: the content address used for originals and pages.
pub fn content_address(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 0x0f)]));
    }
    s
}

/// Sniffs the file type from magic bytes only; `None` for anything else (ZIP, EXE, …).
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        // The PDF spec tolerates junk before the header; readers look in the first 1 KiB.
        Some(FileKind::Pdf)
    } else {
        None
    }
}

/// Takes in one uploaded file and returns its normalized pages, or why it was refused.
pub fn intake(bytes: &[u8], limits: &IntakeLimits) -> Result<ScanIntake, ScanError> {
    if bytes.is_empty() {
        return Err(ScanError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(ScanError::TooLarge {
            size,
            max: limits.max_file_bytes,
        });
    }
    let kind = sniff(bytes).ok_or(ScanError::UnsupportedType)?;
    // An uploaded image is compared with its page, so a compact upload does not grow; PDF
    // pages are rasterised from whatever the PDF holds and have no such counterpart.
    let (grays, upload) = match kind {
        FileKind::Png | FileKind::Jpeg => {
            let (gray, gray_jpeg) = decode_image(bytes, kind, limits)?;
            (vec![gray], Some(page::Upload { bytes, gray_jpeg }))
        }
        FileKind::Pdf => (page::rasterize_pdf(bytes, limits)?, None),
    };
    let mut pages = Vec::with_capacity(grays.len());
    let mut thumbnail_png = Vec::new();
    for (i, gray) in grays.into_iter().enumerate() {
        let prepared = page::prepare(gray);
        if i == 0 {
            thumbnail_png = page::thumbnail_png(&prepared.image)?;
        }
        pages.push(page::encode(
            prepared,
            limits.target_page_bytes,
            upload.as_ref(),
        )?);
    }
    Ok(ScanIntake {
        original_sha256: content_address(bytes),
        original_bytes: size,
        kind,
        pages,
        thumbnail_png,
    })
}

/// Runs third-party decoders so that a panic on hostile input becomes `Corrupt`, not a crash.
pub(crate) fn guarded<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, ScanError>,
) -> Result<T, ScanError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(ScanError::Corrupt(format!("{what} decoder panicked"))))
}

/// Width and height from a PNG's IHDR, read by hand so a bomb is refused even if truncated.
fn png_header_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
        let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
        let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
        Some((w, h))
    } else {
        None
    }
}

fn check_pixels(width: u32, height: u32, limits: &IntakeLimits) -> Result<(), ScanError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ScanError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    Ok(())
}

/// Decodes a PNG or JPEG to 8-bit gray on white, refusing oversized headers before decoding;
/// also says whether it is a grayscale JPEG stored upright (no orientation to apply).
fn decode_image(
    bytes: &[u8],
    kind: FileKind,
    limits: &IntakeLimits,
) -> Result<(GrayImage, bool), ScanError> {
    if kind == FileKind::Png {
        if let Some((w, h)) = png_header_dimensions(bytes) {
            check_pixels(w, h, limits)?;
        }
    }
    guarded("image", || {
        let format = match kind {
            FileKind::Png => ImageFormat::Png,
            _ => ImageFormat::Jpeg,
        };
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        // Header first without limits, so a bomb is reported as such and not as a limit error.
        reader.no_limits();
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| ScanError::Corrupt(e.to_string()))?;
        let (w, h) = decoder.dimensions();
        check_pixels(w, h, limits)?;
        if w == 0 || h == 0 {
            return Err(ScanError::Corrupt("image has no pixels".into()));
        }
        let mut dec_limits = image::Limits::default();
        // Output buffer (up to 16-bit RGBA) plus decoder working memory.
        dec_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8) + (64 << 20));
        decoder
            .set_limits(dec_limits)
            .map_err(|e| ScanError::Corrupt(e.to_string()))?;
        let orientation = decoder.orientation().ok();
        let gray_jpeg = kind == FileKind::Jpeg
            && decoder.color_type() == ColorType::L8
            && orientation.is_none_or(|o| o == Orientation::NoTransforms);
        let mut img =
            DynamicImage::from_decoder(decoder).map_err(|e| ScanError::Corrupt(e.to_string()))?;
        if let Some(o) = orientation {
            img.apply_orientation(o);
        }
        Ok((page::to_gray_on_white(img), gray_jpeg))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_decoder_becomes_corrupt() {
        let r: Result<(), ScanError> = guarded("test", || panic!("hostile input"));
        assert!(matches!(r, Err(ScanError::Corrupt(_))));
    }

    #[test]
    fn content_address_is_lowercase_hex_sha256() {
        assert_eq!(
            content_address(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
