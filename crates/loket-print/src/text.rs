//! Reading the visible text back out of a PDF (via hayro's interpreter), so a verifier can
//! check that what is printed matches what is signed.

use hayro::hayro_interpret::font::GlyphRun;
use hayro::hayro_interpret::{
    interpret_page, BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image,
    ImageDrawProps, InterpreterCache, InterpreterSettings, SoftMask,
};
use hayro::hayro_syntax::Pdf;
use hayro::kurbo::{BezPath, Point, Rect};

/// Table label in front of the holder's name on documents (also used to find it again).
pub const LABEL_NAME: &str = "Nama";
/// Table label in front of the NIK on documents.
pub const LABEL_NIK: &str = "NIK";
/// Text in front of the document number on documents.
pub const NUMBER_PREFIX: &str = "Nomor: ";

/// One visible text run with the position of its first glyph (points, top-left origin).
#[derive(Debug, Clone)]
struct Run {
    x: f64,
    y: f64,
    text: String,
}

#[derive(Default)]
struct TextCollector {
    runs: Vec<Run>,
}

impl<'a> Device<'a> for TextCollector {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'a>, _: &DrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}
    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, 'a>, props: DrawProps<'a>, mode: &DrawMode) {
        // Invisible text (e.g. an OCR layer or a forger's hidden text) is not what people read.
        if matches!(mode, DrawMode::Invisible) {
            return;
        }
        let glyphs = run.glyphs();
        let Some(first) = glyphs.first() else {
            return;
        };
        let origin = (props.transform * first.transform()) * Point::ORIGIN;
        let mut text = String::new();
        for g in glyphs {
            match g.as_unicode() {
                Some(hayro::hayro_interpret::hayro_cmap::BfString::Char(c)) => text.push(c),
                Some(hayro::hayro_interpret::hayro_cmap::BfString::String(s)) => text.push_str(&s),
                None => text.push('\u{FFFD}'),
            }
        }
        // Fill-and-stroke text is reported twice at the same place; keep one.
        if let Some(last) = self.runs.last() {
            if last.text == text
                && (last.x - origin.x).abs() < 0.01
                && (last.y - origin.y).abs() < 0.01
            {
                return;
            }
        }
        self.runs.push(Run {
            x: origin.x,
            y: origin.y,
            text,
        });
    }
    fn draw_image(&mut self, _: Image<'a, '_>, _: ImageDrawProps<'a>) {}
    fn pop_clip(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}

fn page_runs(pdf: &Pdf) -> Vec<Vec<Run>> {
    let settings = InterpreterSettings::default();
    let cache = InterpreterCache::new();
    let mut pages = Vec::new();
    for page in pdf.pages().iter() {
        let (w, h) = page.render_dimensions();
        let transform =
            hayro::hayro_interpret::util::TransformExt::to_kurbo(&page.initial_transform(true));
        let mut ctx = Context::new(
            transform,
            Rect::new(0.0, 0.0, f64::from(w), f64::from(h)),
            &cache,
            page.xref(),
            settings.clone(),
        );
        let mut dev = TextCollector::default();
        interpret_page(page, &mut ctx, &mut dev);
        pages.push(dev.runs);
    }
    pages
}

/// Groups runs into lines (same baseline), each line's runs ordered left to right.
fn lines_of(runs: &[Run]) -> Vec<Vec<Run>> {
    let mut sorted: Vec<Run> = runs.to_vec();
    sorted.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<Run>> = Vec::new();
    for r in sorted {
        match lines.last_mut() {
            Some(line) if (line[0].y - r.y).abs() < 1.5 => line.push(r),
            _ => lines.push(vec![r]),
        }
    }
    for line in &mut lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    lines
}

/// Extracts the visible text of a PDF as lines (runs on one baseline joined by a tab),
/// page by page; `None` if the PDF cannot be parsed. Useful for checks and for tests.
pub fn extract_pdf_text_lines(pdf_bytes: &[u8]) -> Option<Vec<String>> {
    let pdf = Pdf::new(pdf_bytes.to_vec()).ok()?;
    let mut out = Vec::new();
    for runs in page_runs(&pdf) {
        for line in lines_of(&runs) {
            out.push(
                line.iter()
                    .map(|r| r.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
        }
    }
    Some(out)
}

/// The name, NIK and document number as printed on a Loket document, where found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PrintedFields {
    pub name: Option<String>,
    pub nik: Option<String>,
    pub doc_number: Option<String>,
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds the labelled fields in extracted lines ("Nama\t:\tVALUE", "Nomor: VALUE").
pub(crate) fn printed_fields(lines: &[String]) -> PrintedFields {
    let mut f = PrintedFields::default();
    for line in lines {
        let parts: Vec<&str> = line.split('\t').map(str::trim).collect();
        if parts.len() >= 3 && parts[1] == ":" {
            let value = normalise(&parts[2..].join(" "));
            if parts[0] == LABEL_NAME && f.name.is_none() {
                f.name = Some(value);
            } else if parts[0] == LABEL_NIK && f.nik.is_none() {
                f.nik = Some(value);
            }
        } else if parts.len() == 1 && f.doc_number.is_none() {
            if let Some(n) = parts[0].strip_prefix(NUMBER_PREFIX.trim_end()) {
                f.doc_number = Some(normalise(n));
            }
        }
    }
    f
}

/// Result of comparing printed text with signed claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrintedCheck {
    /// All three fields were found and match.
    Matches,
    /// Some fields could not be found in the text (e.g. a scanned PDF); nothing contradicts.
    NotChecked,
    /// These fields differ (Indonesian and English field names).
    Mismatch(Vec<(&'static str, &'static str)>),
}

/// Compares the printed fields of a PDF with the signed claims.
pub(crate) fn check_printed(pdf_bytes: &[u8], claims: &loket_qr::DocumentClaims) -> PrintedCheck {
    let Some(lines) = extract_pdf_text_lines(pdf_bytes) else {
        return PrintedCheck::NotChecked;
    };
    let f = printed_fields(&lines);
    let mut bad = Vec::new();
    let mut missing = false;
    let checks: [(&Option<String>, &str, (&'static str, &'static str)); 3] = [
        (&f.name, &claims.holder_name, ("Nama", "Name")),
        (&f.nik, &claims.nik, ("NIK", "NIK")),
        (
            &f.doc_number,
            &claims.doc_number,
            ("Nomor dokumen", "Document number"),
        ),
    ];
    for (printed, signed, names) in checks {
        match printed {
            Some(p) if *p == normalise(signed) => {}
            Some(_) => bad.push(names),
            None => missing = true,
        }
    }
    if !bad.is_empty() {
        PrintedCheck::Mismatch(bad)
    } else if missing {
        PrintedCheck::NotChecked
    } else {
        PrintedCheck::Matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_labelled_fields() {
        let lines: Vec<String> = [
            "SURAT KETERANGAN",
            "Nomor: 7315-SK-2026-000001",
            "Nama\t:\tANDI  FAJAR",
            "NIK\t:\t7315012302900001",
            "Alamat\t:\tJl. Nama Jalan",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f = printed_fields(&lines);
        assert_eq!(f.name.as_deref(), Some("ANDI FAJAR"));
        assert_eq!(f.nik.as_deref(), Some("7315012302900001"));
        assert_eq!(f.doc_number.as_deref(), Some("7315-SK-2026-000001"));
        assert_eq!(printed_fields(&[]), PrintedFields::default());
    }
}
