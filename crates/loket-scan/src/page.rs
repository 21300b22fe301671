//! Turning one decoded page into the stored form: gray, A4 at 150 dpi, stretched,
//! straightened, JPEG within the byte budget.

use std::io::Cursor;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{render, PixmapSettings, RenderCache, RenderSettings};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ExtendedColorType, GrayImage, ImageEncoder};

use crate::deskew;
use crate::{content_address, guarded, IntakeLimits, Page, ScanError};

/// Largest stored page (portrait width, height): A4 at 150 dpi, enough for printed text.
pub const A4_150DPI: (u32, u32) = (1240, 1754);
/// Thumbnail width in the requirement checklist, in pixels.
pub const THUMBNAIL_WIDTH: u32 = 160;
/// PDF pages are rendered at this resolution (then fitted into [`A4_150DPI`]).
const PDF_DPI: f32 = 150.0;
/// Last resort for pathological (noise-like) pages at the smallest allowed size.
const EMERGENCY_QUALITIES: [u8; 2] = [30, 20];
/// Largest shrink factor per step when even q40 is too large (at least 15 % smaller).
const SHRINK_STEP: f32 = 0.85;
/// Never shrink below this fraction of the A4@150 box: about 100 dpi.
const MIN_SCALE: f32 = 100.0 / 150.0;

/// A page ready for encoding, and the skew that was corrected.
pub(crate) struct Prepared {
    pub(crate) image: GrayImage,
    pub(crate) skew: f32,
}

/// The uploaded image a page came from, so that a page never ends up larger than the upload.
pub(crate) struct Upload<'a> {
    pub(crate) bytes: &'a [u8],
    /// A single-component (grayscale) JPEG with no orientation to apply: if the page needed
    /// neither scaling nor straightening, these bytes are a valid stored page as they are.
    pub(crate) gray_jpeg: bool,
}

/// Flattens any decoded image to 8-bit gray, compositing transparency onto white paper.
pub(crate) fn to_gray_on_white(img: DynamicImage) -> GrayImage {
    if img.color().has_alpha() {
        let la = img.to_luma_alpha8();
        let (w, h) = la.dimensions();
        let data = la
            .pixels()
            .map(|p| {
                let (l, a) = (u32::from(p[0]), u32::from(p[1]));
                ((l * a + 255 * (255 - a) + 127) / 255) as u8
            })
            .collect();
        GrayImage::from_raw(w, h, data).unwrap_or_else(|| GrayImage::new(1, 1))
    } else {
        match img {
            DynamicImage::ImageLuma8(g) => g,
            other => other.to_luma8(),
        }
    }
}

/// The A4@150 box in the page's own orientation (landscape pages get a landscape box).
fn fit_box(w: u32, h: u32) -> (u32, u32) {
    if w > h {
        (A4_150DPI.1, A4_150DPI.0)
    } else {
        A4_150DPI
    }
}

/// Scale factor (≤ 1) that fits `w`×`h` into the box keeping aspect ratio.
fn fit_scale(w: u32, h: u32) -> f32 {
    let (bw, bh) = fit_box(w, h);
    (bw as f32 / w as f32).min(bh as f32 / h as f32).min(1.0)
}

fn resize_by(img: &GrayImage, scale: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let nw = ((w as f32 * scale).round() as u32).max(1);
    let nh = ((h as f32 * scale).round() as u32).max(1);
    if (nw, nh) == (w, h) {
        return img.clone();
    }
    imageops::resize(img, nw, nh, FilterType::Triangle)
}

/// Maps the 1st percentile (ink) to black and the paper level to white, so faint scans get
/// black text and clean paper (which also compresses better); flat pages are left alone.
pub(crate) fn stretch_contrast(img: &mut GrayImage) {
    let mut hist = [0u64; 256];
    for p in img.as_raw() {
        hist[usize::from(*p)] += 1;
    }
    let total: u64 = hist.iter().sum();
    let percentile = |q: u64| {
        let target = total * q / 100;
        let mut acc = 0;
        for (v, n) in hist.iter().enumerate() {
            acc += n;
            if acc > target {
                return v as i32;
            }
        }
        255
    };
    let lo = percentile(1);
    // Paper level: the brightest large peak. Its noise band (down to where the peak falls
    // below 1/8 of its height) is mapped to pure white, which removes scanner grain that
    // would otherwise eat most of the JPEG budget.
    let paper = (128..256).max_by_key(|&v| (hist[v], v)).unwrap_or(255);
    let floor = hist[paper] / 8;
    let mut hi = paper;
    while hi > 128 && hist[hi - 1] >= floor {
        hi -= 1;
    }
    let hi = hi as i32;
    if hist[paper] == 0 || hi - lo < 64 {
        return;
    }
    let mut lut = [0u8; 256];
    for (v, out) in lut.iter_mut().enumerate() {
        let s = (v as i32 - lo) * 255 / (hi - lo);
        *out = s.clamp(0, 255) as u8;
    }
    for p in img.iter_mut() {
        *p = lut[usize::from(*p)];
    }
}

/// Fits, stretches and straightens one page.
pub(crate) fn prepare(gray: GrayImage) -> Prepared {
    let (w, h) = gray.dimensions();
    let mut img = resize_by(&gray, fit_scale(w, h));
    drop(gray);
    stretch_contrast(&mut img);
    let skew = deskew::estimate_skew_degrees(&img).unwrap_or(0.0);
    if skew != 0.0 {
        img = deskew::rotate_gray(&img, skew);
    }
    Prepared { image: img, skew }
}

fn jpeg(img: &GrayImage, quality: u8) -> Result<Vec<u8>, ScanError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::L8,
        )
        .map_err(|e| ScanError::Corrupt(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

/// The JPEG encodings of one image, each quality encoded at most once.
struct Encodes {
    img: GrayImage,
    done: Vec<(u8, Vec<u8>)>,
}

impl Encodes {
    fn new(img: GrayImage) -> Self {
        Encodes {
            img,
            done: Vec::new(),
        }
    }

    /// Size in bytes of the JPEG at `quality`.
    fn len(&mut self, quality: u8) -> Result<usize, ScanError> {
        if let Some((_, bytes)) = self.done.iter().find(|(q, _)| *q == quality) {
            return Ok(bytes.len());
        }
        let bytes = jpeg(&self.img, quality)?;
        let n = bytes.len();
        self.done.push((quality, bytes));
        Ok(n)
    }

    /// The JPEG at `quality`.
    fn take(&mut self, quality: u8) -> Result<Vec<u8>, ScanError> {
        self.len(quality)?;
        let i = self.done.iter().position(|(q, _)| *q == quality);
        Ok(i.map(|i| self.done.swap_remove(i).1).unwrap_or_default())
    }
}

/// Highest quality in 40–80 (steps of 10) whose JPEG fits `target`, or `None` if not even
/// q40 does. Four encodes at most: 80, 40, 60, then 70 or 50.
fn search_quality(enc: &mut Encodes, target: usize) -> Result<Option<u8>, ScanError> {
    if enc.len(80)? <= target {
        return Ok(Some(80));
    }
    if enc.len(40)? > target {
        return Ok(None);
    }
    let (mid, lower) = if enc.len(60)? <= target {
        (70, 60)
    } else {
        (50, 40)
    };
    Ok(Some(if enc.len(mid)? <= target { mid } else { lower }))
}

/// Encodes with the best quality that fits `target` bytes, shrinking towards ~100 dpi if
/// needed.
///
/// An uploaded image that is already compact (say a 50 KB grayscale JPEG) must not grow by
/// intake: if the JPEG comes out larger than the upload, a grayscale JPEG upload that needed
/// neither scaling nor straightening is kept as it is (minus its metadata); otherwise the
/// highest quality from 80 down to 40 (the legibility floor: never lower, and never a smaller
/// image for this) that is not larger than the upload is used, or failing that q40, the
/// smallest legible one.
pub(crate) fn encode(
    prepared: Prepared,
    target: usize,
    upload: Option<&Upload<'_>>,
) -> Result<Page, ScanError> {
    let Prepared { image, skew } = prepared;
    let (mut enc, mut quality) = encode_within(&image, target)?;
    if let Some(up) = upload {
        let cap = up.bytes.len();
        if enc.len(quality)? > cap {
            if up.gray_jpeg && skew == 0.0 && cap <= target {
                if let Some(kept) = reusable_jpeg(up.bytes, image.dimensions()) {
                    let q = estimate_jpeg_quality(&kept).unwrap_or(quality);
                    return Ok(page_from(kept, q, &image, skew));
                }
            }
            if quality > 40 {
                quality = match search_quality(&mut enc, cap)? {
                    Some(q) => q,
                    None if enc.len(40)? < enc.len(quality)? => 40,
                    None => quality,
                };
            }
        }
    }
    let bytes = enc.take(quality)?;
    Ok(page_from(bytes, quality, &enc.img, skew))
}

/// The encodings of the image (possibly shrunk) that fits `target` bytes, and the quality.
fn encode_within(image: &GrayImage, target: usize) -> Result<(Encodes, u8), ScanError> {
    let mut scale = 1.0f32;
    let mut enc = Encodes::new(image.clone());
    loop {
        if let Some(q) = search_quality(&mut enc, target)? {
            return Ok((enc, q));
        }
        if scale > MIN_SCALE {
            // Bytes grow roughly with pixel count: aim just under the budget in one step.
            let guess = (target as f32 / enc.len(40)? as f32).sqrt() * 0.97;
            scale = (scale * guess.min(SHRINK_STEP)).max(MIN_SCALE);
            enc = Encodes::new(resize_by(image, scale));
            continue;
        }
        // Noise-like content at ~100 dpi: lower the quality, and at worst keep the smallest
        // result rather than refuse a document the resident brought.
        let mut best = 40;
        for q in EMERGENCY_QUALITIES {
            let n = enc.len(q)?;
            if n < enc.len(best)? {
                best = q;
            }
            if n <= target {
                break;
            }
        }
        return Ok((enc, best));
    }
}

/// The upload without metadata, if it still decodes to a grayscale image of `dims`.
fn reusable_jpeg(bytes: &[u8], dims: (u32, u32)) -> Option<Vec<u8>> {
    let kept = strip_jpeg_metadata(bytes)?;
    let ok = guarded("JPEG", || {
        let img = image::load_from_memory_with_format(&kept, image::ImageFormat::Jpeg)
            .map_err(|e| ScanError::Corrupt(e.to_string()))?;
        Ok(img.color() == image::ColorType::L8 && (img.width(), img.height()) == dims)
    });
    matches!(ok, Ok(true)).then_some(kept)
}

/// A JPEG without the segments that may carry personal data (APP1–APP13 and APP15: EXIF
/// with GPS, XMP, ICC profiles, maker notes; COM: comments) and without anything after the
/// end-of-image marker. `None` if the marker structure is broken.
pub(crate) fn strip_jpeg_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        while *bytes.get(i)? == 0xFF {
            i += 1; // fill bytes
        }
        let code = bytes[i];
        i += 1;
        match code {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            0x00 | 0xD8 => return None,
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]);
                continue;
            }
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]));
        if len < 2 {
            return None;
        }
        let segment = bytes.get(i..i + len)?;
        if !matches!(code, 0xE1..=0xED | 0xEF | 0xFE) {
            out.extend_from_slice(&[0xFF, code]);
            out.extend_from_slice(segment);
        }
        i += len;
        if code == 0xDA {
            // Entropy-coded data runs to the next marker other than a stuffed 0xFF or a restart.
            let start = i;
            loop {
                if bytes.get(i)? == &0xFF && !matches!(bytes.get(i + 1)?, 0x00 | 0xD0..=0xD7) {
                    break;
                }
                i += 1;
            }
            out.extend_from_slice(&bytes[start..i]);
        }
    }
}

/// The IJG quality (1–100) a JPEG's first quantisation table corresponds to, for the
/// report; `None` if the JPEG has no usable table.
pub(crate) fn estimate_jpeg_quality(bytes: &[u8]) -> Option<u8> {
    /// The IJG (Annex K) luminance table; only its sum matters here.
    const LUMA_SUM: u32 = 3_688;
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let code = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if code == 0xDA || len < 2 {
            return None;
        }
        if code == 0xDB {
            let seg = bytes.get(i + 4..i + 2 + len)?;
            let (precision, table) = (seg.first()? >> 4, seg.first()? & 0x0F);
            if table != 0 {
                return None; // table 0 comes first in every encoder's output
            }
            let sum: u32 = if precision == 0 {
                seg.get(1..65)?.iter().map(|&v| u32::from(v)).sum()
            } else {
                seg.get(1..129)?
                    .chunks_exact(2)
                    .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                    .sum()
            };
            // IJG: table = (base × scale + 50) / 100, scale = 5000/q (q < 50) or 200 − 2q.
            let scale = f64::from(sum) * 100.0 / f64::from(LUMA_SUM);
            let q = if scale <= 100.0 {
                (200.0 - scale) / 2.0
            } else {
                5000.0 / scale
            };
            return Some(q.round().clamp(1.0, 100.0) as u8);
        }
        i += 2 + len;
    }
    None
}

fn page_from(jpeg: Vec<u8>, quality: u8, img: &GrayImage, skew: f32) -> Page {
    Page {
        sha256: content_address(&jpeg),
        jpeg,
        width: img.width(),
        height: img.height(),
        quality,
        skew_degrees: skew,
    }
}

/// PNG thumbnail of a page, [`THUMBNAIL_WIDTH`] pixels wide.
pub(crate) fn thumbnail_png(img: &GrayImage) -> Result<Vec<u8>, ScanError> {
    let (w, h) = img.dimensions();
    let tw = THUMBNAIL_WIDTH.min(w).max(1);
    let th = ((h as u64 * tw as u64 / w.max(1) as u64) as u32).max(1);
    let thumb = imageops::resize(img, tw, th, FilterType::Triangle);
    let mut out = Vec::new();
    PngEncoder::new(Cursor::new(&mut out))
        .write_image(thumb.as_raw(), tw, th, ExtendedColorType::L8)
        .map_err(|e| ScanError::Corrupt(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

/// Renders each PDF page to gray at 150 dpi, but never larger than the A4@150 box, so a
/// hostile page size cannot make a huge bitmap.
pub(crate) fn rasterize_pdf(
    bytes: &[u8],
    limits: &IntakeLimits,
) -> Result<Vec<GrayImage>, ScanError> {
    guarded("PDF", || {
        let pdf =
            Pdf::new(bytes.to_vec()).map_err(|e| ScanError::Corrupt(format!("PDF: {e:?}")))?;
        let pages = pdf.pages();
        if pages.len() > limits.max_pages {
            return Err(ScanError::TooManyPages {
                pages: pages.len(),
                max: limits.max_pages,
            });
        }
        if pages.is_empty() {
            return Err(ScanError::Corrupt("PDF has no pages".into()));
        }
        let cache = RenderCache::new();
        let interpreter = InterpreterSettings::default();
        let settings = RenderSettings::default();
        let mut out = Vec::with_capacity(pages.len());
        for page in pages.iter() {
            let (w, h) = page.render_dimensions();
            if !(w.is_finite() && h.is_finite() && w >= 1.0 && h >= 1.0) {
                return Err(ScanError::Corrupt("PDF page has no size".into()));
            }
            let (bw, bh) = if w > h {
                (A4_150DPI.1, A4_150DPI.0)
            } else {
                A4_150DPI
            };
            let scale = (PDF_DPI / 72.0)
                .min(bw as f32 / w)
                .min(bh as f32 / h)
                .max(1e-3);
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
            if pw == 0 || ph == 0 {
                return Err(ScanError::Corrupt("PDF page rendered empty".into()));
            }
            let luma: Vec<u8> = pixmap
                .data_as_u8_slice()
                .chunks_exact(4)
                .map(|p| {
                    // Rendered over an opaque white background, so this is plain RGB.
                    ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                        as u8
                })
                .collect();
            out.push(
                GrayImage::from_raw(pw, ph, luma)
                    .ok_or_else(|| ScanError::Corrupt("PDF page size mismatch".into()))?,
            );
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GrayImage {
        GrayImage::from_fn(64, 48, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]))
    }

    #[test]
    fn jpeg_quality_is_read_back_from_the_quantisation_table() {
        for q in [20u8, 40, 50, 60, 75, 80, 90] {
            let est = estimate_jpeg_quality(&jpeg(&sample(), q).unwrap()).unwrap();
            assert!(est.abs_diff(q) <= 2, "encoded q{q}, estimated q{est}");
        }
        assert_eq!(estimate_jpeg_quality(b"\xFF\xD8\xFF\xD9"), None);
    }

    #[test]
    fn metadata_and_trailing_bytes_are_stripped() {
        let plain = jpeg(&sample(), 70).unwrap();
        let mut dressed = plain[..2].to_vec();
        for (marker, body) in [
            (0xE1u8, &b"Exif\0\0GPS"[..]),
            (0xE2, b"ICC_PROFILE\0"),
            (0xFE, b"comment"),
        ] {
            dressed.extend_from_slice(&[0xFF, marker, 0, body.len() as u8 + 2]);
            dressed.extend_from_slice(body);
        }
        dressed.extend_from_slice(&plain[2..]);
        dressed.extend_from_slice(b"PK\x03\x04 appended archive");
        assert_eq!(strip_jpeg_metadata(&dressed).as_deref(), Some(&plain[..]));
        assert_eq!(
            strip_jpeg_metadata(&plain[..plain.len() - 2]),
            None,
            "no EOI"
        );
        assert_eq!(strip_jpeg_metadata(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(strip_jpeg_metadata(b"\xFF\xD8\xFF\xE1\x00\x01"), None);
    }
}
