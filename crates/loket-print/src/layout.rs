//! Small drawing toolkit over krilla: bundled fonts, measured text, wrapping, rules and
//! the vector QR code. Coordinates are PDF points, origin top-left, y growing downwards.

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, FillRule, LineCap, LineJoin, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{Color, EcLevel, QrCode};

use crate::PrintError;

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;
/// A4 portrait in points.
pub const A4: (f32, f32) = (595.28, 841.89);
/// Quiet zone around the QR symbol, in modules (ISO/IEC 18004 minimum).
pub const QR_QUIET_ZONE: usize = 4;

static REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The two bundled faces, each usable by krilla (drawing) and rustybuzz (measuring).
pub struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: rustybuzz::Face<'static>,
    bold_face: rustybuzz::Face<'static>,
}

impl Fonts {
    /// Loads the DejaVu fonts compiled into the binary.
    pub fn load() -> Result<Fonts, PrintError> {
        Ok(Fonts {
            regular: Font::new(REGULAR_TTF.into(), 0).ok_or(PrintError::Font("DejaVuSans"))?,
            bold: Font::new(BOLD_TTF.into(), 0).ok_or(PrintError::Font("DejaVuSans-Bold"))?,
            regular_face: rustybuzz::Face::from_slice(REGULAR_TTF, 0)
                .ok_or(PrintError::Font("DejaVuSans"))?,
            bold_face: rustybuzz::Face::from_slice(BOLD_TTF, 0)
                .ok_or(PrintError::Font("DejaVuSans-Bold"))?,
        })
    }

    /// Width of `text` in points, shaped the same way krilla shapes it.
    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let mut buf = rustybuzz::UnicodeBuffer::new();
        buf.push_str(text);
        let out = rustybuzz::shape(face, &[], buf);
        let adv: i64 = out
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        adv as f32 / face.units_per_em() as f32 * size
    }

    /// Largest size ≤ `size` (down to `min`) at which `text` fits in `max_w`.
    pub fn fit(&self, text: &str, size: f32, min: f32, bold: bool, max_w: f32) -> f32 {
        let w = self.width(text, size, bold);
        if w <= max_w {
            size
        } else {
            (size * max_w / w).max(min)
        }
    }

    /// Greedy word wrap into lines no wider than `max_w` (long words are split by character).
    pub fn wrap(&self, text: &str, size: f32, bold: bool, max_w: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size, bold) <= max_w {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone may still be too wide: split it by characters.
            for ch in word.chars() {
                let mut next = line.clone();
                next.push(ch);
                if !line.is_empty() && self.width(&next, size, bold) > max_w {
                    lines.push(std::mem::replace(&mut line, ch.to_string()));
                } else {
                    line = next;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Horizontal alignment of a text run.
#[derive(Clone, Copy)]
pub enum Align {
    /// `x` is the left edge.
    Left,
    /// `x` is the centre.
    Center,
    /// `x` is the right edge.
    Right,
}

/// A page surface plus fonts: the only drawing API the templates use.
pub struct Canvas<'s, 'p> {
    surface: &'s mut Surface<'p>,
    /// Fonts for drawing and measuring.
    pub fonts: &'s Fonts,
}

fn gray_fill(level: u8) -> Fill {
    Fill {
        paint: luma::Color::new(level).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

impl<'s, 'p> Canvas<'s, 'p> {
    /// Wraps a krilla surface.
    pub fn new(surface: &'s mut Surface<'p>, fonts: &'s Fonts) -> Self {
        Canvas { surface, fonts }
    }

    /// Draws one run of text with its baseline at `y`; `gray` 0 is black.
    #[allow(clippy::too_many_arguments)]
    pub fn text_gray(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        align: Align,
        gray: u8,
        text: &str,
    ) {
        let w = self.fonts.width(text, size, bold);
        let x = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        let font = if bold {
            self.fonts.bold.clone()
        } else {
            self.fonts.regular.clone()
        };
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(gray_fill(gray)));
        self.surface.draw_text(
            Point::from_xy(x, y),
            font,
            size,
            text,
            false,
            TextDirection::LeftToRight,
        );
    }

    /// Draws one black run of text with its baseline at `y`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, align: Align, text: &str) {
        self.text_gray(x, y, size, bold, align, 0, text);
    }

    /// Draws wrapped text and returns the baseline after the last line.
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        max_w: f32,
        leading: f32,
        text: &str,
    ) -> f32 {
        let mut y = y;
        for line in self.fonts.wrap(text, size, bold, max_w) {
            self.text(x, y, size, bold, Align::Left, &line);
            y += leading;
        }
        y
    }

    /// Fills a rectangle with a gray level (0 black, 255 white).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: u8) {
        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            let mut pb = PathBuilder::new();
            pb.push_rect(rect);
            if let Some(path) = pb.finish() {
                self.surface.set_stroke(None);
                self.surface.set_fill(Some(gray_fill(gray)));
                self.surface.draw_path(&path);
            }
        }
    }

    /// Strokes a rectangle outline of the given line width.
    pub fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32) {
        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            let mut pb = PathBuilder::new();
            pb.push_rect(rect);
            if let Some(path) = pb.finish() {
                self.surface.set_fill(None);
                self.surface.set_stroke(Some(Stroke {
                    paint: luma::Color::black().into(),
                    width,
                    ..Default::default()
                }));
                self.surface.draw_path(&path);
                self.surface.set_stroke(None);
            }
        }
    }

    /// Strokes an open polyline through `points` with round caps and joins (e.g. a check mark).
    pub fn polyline(&mut self, points: &[(f32, f32)], width: f32) {
        let Some(((x0, y0), rest)) = points.split_first() else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.move_to(*x0, *y0);
        for (x, y) in rest {
            pb.line_to(*x, *y);
        }
        if let Some(path) = pb.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                paint: luma::Color::black().into(),
                width,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Default::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
        }
    }

    /// A square check box of side `size` with its top-left corner at (`x`, `y`), with a check
    /// mark drawn as vector lines when `checked` (no font glyph, so any printer shows it).
    pub fn check_box(&mut self, x: f32, y: f32, size: f32, checked: bool) {
        self.stroke_rect(x, y, size, size, (size * 0.09).max(0.6));
        if checked {
            let p = |fx: f32, fy: f32| (x + fx * size, y + fy * size);
            self.polyline(
                &[p(0.2, 0.52), p(0.42, 0.76), p(0.82, 0.22)],
                (size * 0.16).max(0.9),
            );
        }
    }

    /// Horizontal rule of the given thickness whose top edge is at `y`.
    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, thickness: f32) {
        self.fill_rect(x1, y, x2 - x1, thickness, 0);
    }

    /// Draws `text` as a QR code (EC level M) whose outer square, quiet zone included,
    /// is `size` points wide at (`x`, `y`). Dark modules are merged into one rectangle per
    /// horizontal run and drawn as a single vector path, which keeps the PDF small.
    /// Returns the QR version used.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, text: &str) -> Result<i16, PrintError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| PrintError::Qr(e.to_string()))?;
        let n = code.width();
        let m = size / (n + 2 * QR_QUIET_ZONE) as f32;
        let colors = code.to_colors();
        // Explicit white square so the quiet zone survives coloured backgrounds.
        self.fill_rect(x, y, size, size, 255);
        let origin = QR_QUIET_ZONE as f32 * m;
        let mut pb = PathBuilder::new();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] != Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && colors[row * n + col] == Color::Dark {
                    col += 1;
                }
                if let Some(r) = Rect::from_xywh(
                    x + origin + start as f32 * m,
                    y + origin + row as f32 * m,
                    (col - start) as f32 * m,
                    m,
                ) {
                    pb.push_rect(r);
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(gray_fill(0)));
            self.surface.draw_path(&path);
        }
        Ok(match code.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        })
    }
}

/// Renders "WAJO" / "KOTA MAKASSAR" as "Wajo" / "Kota Makassar" for running text.
pub fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(cs.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// "WAJO" → "KABUPATEN WAJO"; names that already say KOTA/KABUPATEN are kept.
pub fn region_heading(district_name: &str) -> String {
    let upper = district_name.trim().to_uppercase();
    if upper.starts_with("KOTA ") || upper.starts_with("KABUPATEN ") {
        upper
    } else {
        format!("KABUPATEN {upper}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_measure() {
        let f = Fonts::load().unwrap();
        let w = f.width("NIK", 10.0, false);
        assert!(w > 10.0 && w < 30.0, "{w}");
        assert!(f.width("NIK", 10.0, true) > w);
        let lines = f.wrap(
            "Jl. Andi Pallawagau No. 12, RT 001/RW 002, Kelurahan Tempe",
            10.0,
            false,
            120.0,
        );
        assert!(lines.len() >= 3);
        assert!(lines.iter().all(|l| f.width(l, 10.0, false) <= 120.0));
        let long = f.wrap(&"X".repeat(80), 10.0, false, 100.0);
        assert!(long.len() > 1 && long.concat() == "X".repeat(80));
    }

    #[test]
    fn long_name_code_fits_version_10_m() {
        let key = loket_qr::IssuingKey {
            signing_key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
            district_code: "73.13".into(),
            district_name: "WAJO".into(),
        };
        let claims = loket_qr::DocumentClaims {
            doc_type: loket_qr::DocType::SuratKeterangan,
            doc_number: "7313-SK-2026-999999".into(),
            holder_name: "W".repeat(60),
            nik: "7313016503950002".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1995, 3, 25).unwrap(),
            issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            district_code: "73.13".into(),
            revision: 12,
        };
        let text = loket_qr::sign(&claims, &key);
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        assert!(
            matches!(code.version(), qrcode::Version::Normal(v) if v <= 10),
            "{} chars -> {:?}",
            text.len(),
            code.version()
        );
        // 30 mm square incl. quiet zone: modules stay at or above 0.45 mm.
        let module_mm = 30.0 / (code.width() + 2 * QR_QUIET_ZONE) as f32;
        assert!(module_mm >= 0.45, "{module_mm}");
    }

    #[test]
    fn region_names() {
        assert_eq!(region_heading("Wajo"), "KABUPATEN WAJO");
        assert_eq!(region_heading("KOTA MAKASSAR"), "KOTA MAKASSAR");
        assert_eq!(title_case("KOTA PARE-PARE"), "Kota Pare-pare");
    }
}
