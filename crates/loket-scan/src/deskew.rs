//! Straightening by projection profile: the angle (within ±5°) at which ink pixels pile up
//! into the fewest, sharpest rows is the angle of the text lines.
//!
//! Only ink on the page counts. A phone photo shows the paper lying on a table, often
//! darker than the paper and sometimes textured (wood grain): a fixed dark threshold would
//! count the whole table and drown the text lines. So the search first finds the page — all
//! but the dark surround connected to the image border (table, or the black margin of a
//! scan with the lid open), found on blocks by their background level — and then counts as
//! ink only pixels clearly darker than their local mean (which also copes with uneven
//! light). On a flatbed scan with paper up to the border the page is the whole image.

use std::collections::VecDeque;

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
/// Upper bound on ink pixels considered, to bound time on busy pages.
const MAX_SAMPLES: usize = 120_000;
/// Side of the blocks (in working-copy pixels) whose background level decides page or surround.
const BLOCK: u32 = 16;
/// Half side of the window whose mean a pixel is compared with to count as ink (about two
/// text lines of a page photographed or scanned whole).
const INK_RADIUS: u32 = 12;
/// Page and surround are told apart only if their background levels differ this much (of 255).
const MIN_SURROUND_CONTRAST: f64 = 48.0;

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
    let page = page_mask(&work);
    let page_pixels = page.pixels();
    if page_pixels < (ww as usize) * (wh as usize) / 10 {
        return None;
    }
    let mut ink = ink_pixels(&work, &page);
    if ink.len() < page_pixels / 500 || ink.len() > page_pixels / 2 {
        return None;
    }
    if ink.len() > MAX_SAMPLES {
        let stride = ink.len().div_ceil(MAX_SAMPLES);
        ink = ink.into_iter().step_by(stride).collect();
    }
    let half = ((ww + wh) / 2 + 2) as f32;
    let mut bins = vec![0u32; (2.0 * half) as usize + 2];
    let mut score = |deg: f32| -> f64 {
        bins.iter_mut().for_each(|b| *b = 0);
        let (sin, cos) = deg.to_radians().sin_cos();
        for &(x, y) in &ink {
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

/// Which [`BLOCK`]-sized blocks of the working copy belong to the page.
struct PageMask {
    cols: u32,
    rows: u32,
    page: Vec<bool>,
    width: u32,
    height: u32,
}

impl PageMask {
    fn contains(&self, x: u32, y: u32) -> bool {
        self.page[((y / BLOCK) * self.cols + x / BLOCK) as usize]
    }

    /// Working-copy pixels inside page blocks.
    fn pixels(&self) -> usize {
        let mut n = 0usize;
        for by in 0..self.rows {
            for bx in 0..self.cols {
                if self.page[(by * self.cols + bx) as usize] {
                    let bw = (self.width - bx * BLOCK).min(BLOCK);
                    let bh = (self.height - by * BLOCK).min(BLOCK);
                    n += (bw * bh) as usize;
                }
            }
        }
        n
    }
}

/// The page: every block except the surround, i.e. the blocks with a dark background
/// (3rd quartile below an Otsu threshold) that are connected to the image border, and the
/// blocks touching them (a block straddling the page edge still shows the table). When
/// background levels do not split into clearly different groups (a flatbed scan, paper up
/// to the border), the whole image is the page.
fn page_mask(work: &GrayImage) -> PageMask {
    let (w, h) = work.dimensions();
    let (cols, rows) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let n = (cols * rows) as usize;
    let whole = PageMask {
        cols,
        rows,
        page: vec![true; n],
        width: w,
        height: h,
    };
    // Background level of each block: the 3rd quartile, i.e. paper even under dense text.
    let mut level = vec![0u8; n];
    let mut hist = [0u32; 256];
    for by in 0..rows {
        for bx in 0..cols {
            hist.fill(0);
            let (x0, y0) = (bx * BLOCK, by * BLOCK);
            let (x1, y1) = ((x0 + BLOCK).min(w), (y0 + BLOCK).min(h));
            for y in y0..y1 {
                for x in x0..x1 {
                    hist[usize::from(work.get_pixel(x, y)[0])] += 1;
                }
            }
            let target = (x1 - x0) * (y1 - y0) * 3 / 4;
            let mut acc = 0;
            for (v, c) in hist.iter().enumerate() {
                acc += c;
                if acc > target {
                    level[(by * cols + bx) as usize] = v as u8;
                    break;
                }
            }
        }
    }
    let Some(threshold) = otsu_split(&level) else {
        return whole;
    };
    // The surround: dark blocks reachable from the border.
    let mut surround = vec![false; n];
    let mut queue = VecDeque::new();
    for by in 0..rows {
        for bx in 0..cols {
            let i = (by * cols + bx) as usize;
            let border = bx == 0 || by == 0 || bx == cols - 1 || by == rows - 1;
            if border && level[i] < threshold {
                surround[i] = true;
                queue.push_back((bx, by));
            }
        }
    }
    while let Some((bx, by)) = queue.pop_front() {
        let neighbours = [
            (bx.wrapping_sub(1), by),
            (bx + 1, by),
            (bx, by.wrapping_sub(1)),
            (bx, by + 1),
        ];
        for (nx, ny) in neighbours {
            if nx < cols && ny < rows {
                let i = (ny * cols + nx) as usize;
                if !surround[i] && level[i] < threshold {
                    surround[i] = true;
                    queue.push_back((nx, ny));
                }
            }
        }
    }
    let mut page = vec![true; n];
    for by in 0..rows {
        for bx in 0..cols {
            let near_surround = (by.saturating_sub(1)..=(by + 1).min(rows - 1)).any(|ny| {
                (bx.saturating_sub(1)..=(bx + 1).min(cols - 1))
                    .any(|nx| surround[(ny * cols + nx) as usize])
            });
            page[(by * cols + bx) as usize] = !near_surround;
        }
    }
    PageMask { page, ..whole }
}

/// Otsu's threshold over block levels, if the two groups it separates differ by at least
/// [`MIN_SURROUND_CONTRAST`]; levels below the threshold are the dark group.
fn otsu_split(levels: &[u8]) -> Option<u8> {
    let mut hist = [0u64; 256];
    for &l in levels {
        hist[usize::from(l)] += 1;
    }
    let total = levels.len() as f64;
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut n_dark, mut sum_dark) = (0.0f64, 0.0f64);
    let mut best: Option<(f64, usize, f64)> = None;
    for t in 1..256 {
        n_dark += hist[t - 1] as f64;
        sum_dark += (t - 1) as f64 * hist[t - 1] as f64;
        let n_bright = total - n_dark;
        if n_dark == 0.0 || n_bright == 0.0 {
            continue;
        }
        let (m_dark, m_bright) = (sum_dark / n_dark, (sum_all - sum_dark) / n_bright);
        let between = n_dark * n_bright * (m_bright - m_dark) * (m_bright - m_dark);
        if best.is_none_or(|(b, _, _)| between > b) {
            best = Some((between, t, m_bright - m_dark));
        }
    }
    match best {
        Some((_, t, gap)) if gap >= MIN_SURROUND_CONTRAST => Some(t as u8),
        _ => None,
    }
}

/// Page pixels clearly darker than the mean of their neighbourhood (at least a quarter and
/// 16 levels darker), as coordinates relative to the image centre.
fn ink_pixels(work: &GrayImage, page: &PageMask) -> Vec<(f32, f32)> {
    let (w, h) = work.dimensions();
    let stride = w as usize + 1;
    // Summed-area table with a zero first row and column.
    let mut sat = vec![0u32; stride * (h as usize + 1)];
    for y in 0..h as usize {
        let mut row = 0u32;
        for x in 0..w as usize {
            row += u32::from(work.as_raw()[y * w as usize + x]);
            sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row;
        }
    }
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut ink = Vec::new();
    for (x, y, p) in work.enumerate_pixels() {
        if !page.contains(x, y) {
            continue;
        }
        let (x0, y0) = (
            x.saturating_sub(INK_RADIUS) as usize,
            y.saturating_sub(INK_RADIUS) as usize,
        );
        let (x1, y1) = (
            (x + INK_RADIUS + 1).min(w) as usize,
            (y + INK_RADIUS + 1).min(h) as usize,
        );
        let sum = u64::from(sat[y1 * stride + x1] + sat[y0 * stride + x0])
            - u64::from(sat[y0 * stride + x1])
            - u64::from(sat[y1 * stride + x0]);
        let area = ((x1 - x0) * (y1 - y0)) as u64;
        let v = u64::from(p[0]) * area;
        if 4 * v < 3 * sum && v + 16 * area <= sum {
            ink.push((x as f32 - cx, y as f32 - cy));
        }
    }
    ink
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
