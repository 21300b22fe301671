//! Phone photos of a page lying on a table: the table around the paper must not decide the
//! skew (bench finding: a 2.5° photo came out "straight"). Synthetic, made here.

use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use loket_scan::{estimate_skew_degrees, intake, IntakeLimits};

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A `w`×`h` RGB photo of an A4 page rotated by `deg` (positive: its lines fall to the right)
/// and `share` of the photo's width, lying on a wooden table whose grain runs horizontally —
/// dark, textured and itself full of straight lines at 0° — lit unevenly, with sensor noise.
fn phone_photo(w: u32, h: u32, deg: f32, share: f32) -> RgbImage {
    // Page: A4 proportions, slightly below centre.
    let pw = w as f32 * share;
    let ph = pw * 297.0 / 210.0;
    // The layout is drawn in units of a page 2500 wide (about 300 dpi).
    let unit = 2500.0 / pw;
    let (cx, cy) = (w as f32 / 2.0, h as f32 * 0.51);
    let (sin, cos) = deg.to_radians().sin_cos();
    let mut rng = Rng(0x7AB1_E5EE_D000_0001);
    let lines = ((ph * unit - 250.0 - TEXT_TOP) / PITCH) as usize;
    let words: Vec<Vec<(f32, f32)>> = (0..lines)
        .map(|_| {
            let mut row = Vec::new();
            let mut x = 180.0;
            let end = 2320.0 - (rng.next() % 700) as f32;
            while x < end {
                let len = 50.0 + (rng.next() % 220) as f32;
                row.push((x, (x + len).min(end)));
                x += len + 28.0;
            }
            row
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let grain = (rng.next() % 15) as f32 - 7.0;
        let (dx, dy) = (x as f32 / w as f32 - 0.3, y as f32 / h as f32 - 0.25);
        let light = 1.08 - 0.5 * (dx * dx + dy * dy);
        let (rx, ry) = (x as f32 - cx, y as f32 - cy);
        let pu = cos * rx + sin * ry + pw / 2.0;
        let pv = -sin * rx + cos * ry + ph / 2.0;
        let rgb = if pu < 0.0 || pv < 0.0 || pu >= pw || pv >= ph {
            // Wood: brown with dark, wavy, mostly horizontal grain lines.
            let yy = y as f32 + 6.0 * (x as f32 * 0.004).sin();
            let stripe = (yy * 0.11).sin() * 0.5 + (yy * 0.023 + 1.0).sin() * 0.5;
            let d = 60.0 * stripe.max(0.0).powi(2);
            [120.0 - d, 88.0 - d, 60.0 - d * 0.8]
        } else {
            page_colour(pu * unit, pv * unit, &words)
        };
        image::Rgb(rgb.map(|c| (c * light + grain).clamp(0.0, 255.0) as u8))
    })
}

/// Body text line pitch and start, in units of a 2500-wide page.
const PITCH: f32 = 64.0;
const TEXT_TOP: f32 = 1400.0;

/// Paper, a title, a ruled table and body text at (`u`, `v`) on a page 2500 wide.
fn page_colour(u: f32, v: f32, words: &[Vec<(f32, f32)>]) -> [f32; 3] {
    const PAPER: [f32; 3] = [236.0, 230.0, 214.0];
    const INK: [f32; 3] = [30.0, 30.0, 38.0];
    if (150.0..240.0).contains(&v) && (600.0..1900.0).contains(&u) && (u as u32 / 11) % 5 != 4 {
        return INK;
    }
    if (420.0..1240.0).contains(&v) && (140.0..2360.0).contains(&u) {
        let in_row = (v - 420.0) % 102.0;
        let ruled = in_row < 4.0 || v >= 1236.0;
        let column = [140.0, 420.0, 1000.0, 1500.0, 2356.0]
            .iter()
            .any(|c| (u - c).abs() < 2.5);
        let text =
            (30.0..60.0).contains(&in_row) && (u as u32 % 13) < 5 && (u as u32 / 80) % 3 != 2;
        return if ruled || column || text { INK } else { PAPER };
    }
    if v >= TEXT_TOP {
        let line = ((v - TEXT_TOP) / PITCH) as usize;
        let within = (v - TEXT_TOP) % PITCH;
        if let Some(row) = words.get(line) {
            let stroke = (u as u32 % 12) < 5;
            if within < 30.0 && stroke && row.iter().any(|&(a, b)| u >= a && u < b) {
                return INK;
            }
        }
    }
    PAPER
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(img)
        .unwrap();
    out
}

#[test]
fn page_photographed_on_a_wooden_table_is_straightened() {
    let limits = IntakeLimits::default();
    // Taken close (the page fills most of the photo) and from further away (more table).
    for (deg, share) in [(2.5f32, 0.82), (-3.0, 0.82), (2.5, 0.6)] {
        let photo = jpeg(&phone_photo(1500, 2000, deg, share));
        let r = intake(&photo, &limits).unwrap();
        let p = &r.pages[0];
        eprintln!(
            "photo rotated {deg}°, page {share} of its width: {} B → {} B q{}, {}×{}, skew {}°",
            photo.len(),
            p.jpeg.len(),
            p.quality,
            p.width,
            p.height,
            p.skew_degrees
        );
        assert!(
            (p.skew_degrees - deg).abs() <= 0.5,
            "drawn {deg}°, corrected {}°",
            p.skew_degrees
        );
        let page = image::load_from_memory(&p.jpeg).unwrap().to_luma8();
        let after = estimate_skew_degrees(&page);
        assert!(
            after.is_none_or(|a| a.abs() <= 0.5),
            "still skewed: {after:?}"
        );
    }
}
