//! Straightening by projection profile: the angle (within ±5°) at which dark pixels pile up
//! into the fewest, sharpest rows is the angle of the text lines.

use image::imageops::{self, FilterType};
use image::GrayImage;

/// Largest skew searched for, in degrees; feeders and flatbeds rarely do worse.
const MAX_SKEW: f32 = 5.0;
/// Corrections smaller than this are not worth a resampling pass.
const MIN_SKEW: f32 = 0.25;
/// The best angle must beat "no rotation" by this factor, else the page has no clear lines.
const MIN_GAIN: f64 = 1.05;
/// Long side of the working copy used for the search.
const WORK_PX: u32 = 800;
/// Upper bound on dark pixels considered, to bound time on dark photos.
const MAX_SAMPLES: usize = 120_000;

/// Skew of the text lines in degrees (positive: lines fall to the right, in image
/// coordinates), or `None` when the page has no clear lines or is already straight.
pub fn estimate_skew_degrees(img: &GrayImage) -> Option<f32> {
    let (w, h) = img.dimensions();
    if w < 16 || h < 16 {
        return None;
    }
    let s = (WORK_PX as f32 / w.max(h) as f32).min(1.0);
    let work = if s < 1.0 {
        imageops::resize(
            img,
            ((w as f32 * s) as u32).max(1),
            ((h as f32 * s) as u32).max(1),
            FilterType::Triangle,
        )
    } else {
        img.clone()
    };
    let (ww, wh) = work.dimensions();
    let (cx, cy) = (ww as f32 / 2.0, wh as f32 / 2.0);
    let mut dark: Vec<(f32, f32)> = Vec::new();
    for (x, y, p) in work.enumerate_pixels() {
        if p[0] < 128 {
            dark.push((x as f32 - cx, y as f32 - cy));
        }
    }
    let n_pixels = (ww as usize) * (wh as usize);
    if dark.len() < n_pixels / 500 || dark.len() > n_pixels / 2 {
        return None;
    }
    if dark.len() > MAX_SAMPLES {
        let stride = dark.len().div_ceil(MAX_SAMPLES);
        dark = dark.into_iter().step_by(stride).collect();
    }
    let half = ((ww + wh) / 2 + 2) as f32;
    let mut bins = vec![0u32; (2.0 * half) as usize + 2];
    let mut score = |deg: f32| -> f64 {
        bins.iter_mut().for_each(|b| *b = 0);
        let (sin, cos) = deg.to_radians().sin_cos();
        for &(x, y) in &dark {
            let r = y * cos - x * sin + half;
            bins[r as usize] += 1;
        }
        bins.iter().map(|&c| f64::from(c) * f64::from(c)).sum()
    };
    let base = score(0.0);
    let mut best = (0.0f32, base);
    let coarse_steps = (2.0 * MAX_SKEW / 0.5) as i32;
    for i in 0..=coarse_steps {
        let deg = -MAX_SKEW + i as f32 * 0.5;
        let sc = score(deg);
        if sc > best.1 {
            best = (deg, sc);
        }
    }
    let centre = best.0;
    for i in -5..=5 {
        let deg = (centre + i as f32 * 0.1).clamp(-MAX_SKEW, MAX_SKEW);
        let sc = score(deg);
        if sc > best.1 {
            best = (deg, sc);
        }
    }
    let (deg, sc) = best;
    if deg.abs() < MIN_SKEW || sc < base * MIN_GAIN {
        return None;
    }
    // Round to 0.1° so tiny float differences cannot change the output bytes.
    Some((deg * 10.0).round() / 10.0)
}

/// Rotates a page so lines at `skew_degrees` (as returned by [`estimate_skew_degrees`])
/// become horizontal; same size, corners filled with white paper.
pub fn rotate_gray(img: &GrayImage, skew_degrees: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (sin, cos) = skew_degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let src = img.as_raw();
    let stride = w as usize;
    let mut out = vec![255u8; src.len()];
    for y in 0..h {
        let dy = y as f32 + 0.5 - cy;
        // Source of output (x, y) = R(skew) · (x − c, y − c) + c, walked incrementally along x.
        let mut sx = (0.5 - cx) * cos - dy * sin + cx - 0.5;
        let mut sy = (0.5 - cx) * sin + dy * cos + cy - 0.5;
        let row = &mut out[y as usize * stride..(y as usize + 1) * stride];
        for px in row.iter_mut() {
            if sx >= 0.0 && sy >= 0.0 && sx < (w - 1) as f32 && sy < (h - 1) as f32 {
                let (x0, y0) = (sx as usize, sy as usize);
                let fx = ((sx - x0 as f32) * 256.0) as u32;
                let fy = ((sy - y0 as f32) * 256.0) as u32;
                let i = y0 * stride + x0;
                let (a, b) = (u32::from(src[i]), u32::from(src[i + 1]));
                let (c, d) = (u32::from(src[i + stride]), u32::from(src[i + stride + 1]));
                let top = a * (256 - fx) + b * fx;
                let bottom = c * (256 - fx) + d * fx;
                *px = ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8;
            }
            sx += cos;
            sy += sin;
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// White page with horizontal dark bars, drawn at `deg` degrees of skew.
    fn lines_page(w: u32, h: u32, deg: f32) -> GrayImage {
        let t = deg.to_radians().tan();
        GrayImage::from_fn(w, h, |x, y| {
            let y0 = y as f32 - x as f32 * t;
            let in_line = (y0 as i32).rem_euclid(40) < 8 && x > 60 && x < w - 60;
            image::Luma([if in_line { 10 } else { 245 }])
        })
    }

    #[test]
    fn finds_known_skew_and_straightens_it() {
        for deg in [-3.0f32, 2.0] {
            let page = lines_page(600, 800, deg);
            let est = estimate_skew_degrees(&page).expect("skew found");
            assert!((est - deg).abs() <= 0.2, "estimated {est}, drawn {deg}");
            let straight = rotate_gray(&page, est);
            let after = estimate_skew_degrees(&straight);
            assert!(after.is_none_or(|a| a.abs() <= 0.3), "after: {after:?}");
        }
    }

    #[test]
    fn straight_or_blank_pages_are_left_alone() {
        assert_eq!(estimate_skew_degrees(&lines_page(600, 800, 0.0)), None);
        assert_eq!(
            estimate_skew_degrees(&GrayImage::from_pixel(600, 800, image::Luma([250]))),
            None
        );
    }
}
