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

/// Outcome of one quality search: the fitting JPEG and its quality, or q40's bytes if none fit.
type Search = Result<(Vec<u8>, u8), Vec<u8>>;

/// Highest quality in 40–80 (steps of 10) whose JPEG fits `target`, with its bytes; else
/// the q40 bytes as `Err`. Four encodes at most: 80, 40, 60, then 70 or 50.
fn search_quality(img: &GrayImage, target: usize) -> Result<Search, ScanError> {
    let q80 = jpeg(img, 80)?;
    if q80.len() <= target {
        return Ok(Ok((q80, 80)));
    }
    let q40 = jpeg(img, 40)?;
    if q40.len() > target {
        return Ok(Err(q40));
    }
    let q60 = jpeg(img, 60)?;
    let (mid, lower) = if q60.len() <= target {
        ((70, jpeg(img, 70)?), (60, q60))
    } else {
        ((50, jpeg(img, 50)?), (40, q40))
    };
    Ok(Ok(if mid.1.len() <= target {
        (mid.1, mid.0)
    } else {
        (lower.1, lower.0)
    }))
}

/// Encodes with the best quality that fits `target` bytes, shrinking towards ~100 dpi if needed.
pub(crate) fn encode(prepared: Prepared, target: usize) -> Result<Page, ScanError> {
    let Prepared { image, skew } = prepared;
    let mut scale = 1.0f32;
    let mut current = image.clone();
    loop {
        match search_quality(&current, target)? {
            Ok((bytes, q)) => return Ok(page_from(bytes, q, &current, skew)),
            Err(q40) if scale > MIN_SCALE => {
                // Bytes grow roughly with pixel count: aim just under the budget in one step.
                let guess = (target as f32 / q40.len() as f32).sqrt() * 0.97;
                scale = (scale * guess.min(SHRINK_STEP)).max(MIN_SCALE);
                current = resize_by(&image, scale);
            }
            Err(q40) => {
                // Noise-like content at ~100 dpi: lower the quality, and at worst keep the
                // smallest result rather than refuse a document the resident brought.
                let mut best = (q40, 40);
                for q in EMERGENCY_QUALITIES {
                    let bytes = jpeg(&current, q)?;
                    let fits = bytes.len() <= target;
                    if bytes.len() < best.0.len() {
                        best = (bytes, q);
                    }
                    if fits {
                        break;
                    }
                }
                return Ok(page_from(best.0, best.1, &current, skew));
            }
        }
    }
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
