//! The application receipt ("tanda terima permohonan") handed to the resident at the village
//! front office, for every service of the catalogue: A4 for the office printer, 58 mm for a
//! thermal roll. Both say plainly that the document is not issued yet and carry no QR code.
//!
//! Layout happens before drawing: the content is turned into a list of [`Op`]s, so the A4
//! receipt can flow onto further pages and the thermal roll can be exactly as long as its
//! content.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime, Timelike as _};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::Document;

use crate::dates::{format_date_id, format_datetime_id};
use crate::layout::{Align, Canvas, Fonts, A4};
use crate::PrintError;

/// Everything printed on a receipt, filled from the captured application and its checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptData {
    /// Offline-made tracking number the resident quotes when asking about the application.
    pub tracking_number: String,
    /// Service applied for, the catalogue's Indonesian name, e.g. "Akta kelahiran".
    pub service_label: String,
    /// Catalogue version the checklist was judged by, e.g. "2026.11.1" (traceable disputes).
    pub catalogue_version: String,
    /// Resident's NIK.
    pub nik: String,
    /// Resident's full name.
    pub full_name: String,
    /// Place of birth.
    pub birth_place: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex label in Indonesian, e.g. "Laki-laki".
    pub sex_label: String,
    /// Address as one line (wrapped on print).
    pub address: String,
    /// Resident's phone number for notifications.
    pub phone: String,
    /// The service's own fields as (Indonesian label, value), so the resident can check them.
    pub details: Vec<(String, String)>,
    /// The service's requirements and what was handed in for each, printed as a checklist.
    pub requirements: Vec<ReceiptRequirement>,
    /// Village (desa/kelurahan) where the application was taken.
    pub village_name: String,
    /// Operator who took the application.
    pub operator: String,
    /// Local date and time of capture; also the PDF's metadata date (determinism).
    pub captured_at: NaiveDateTime,
    /// The district's service level for this service, in working days.
    pub sla_working_days: u32,
    /// Expected completion date (SLA counted in working days, skipping holidays), or `None`
    /// when the holiday calendar does not cover the period yet: then no date is promised.
    pub expected_completion: Option<NaiveDate>,
    /// 0 for an original application; n > 0 prints "Revisi n" beside the service, so the
    /// resident's new receipt for a corrected application is told apart from the first one.
    pub revision: u32,
}

/// One line of the receipt's requirement checklist, so the resident sees what was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRequirement {
    /// The requirement's Indonesian name from the catalogue, e.g. "Bukti kelahiran".
    pub label: String,
    /// What was handed in for it (e.g. "SPTJM … (F-2.03)", "2 saksi"); empty if nothing.
    pub provided: Vec<String>,
    /// Whether what was handed in satisfies one of the catalogue's alternatives.
    pub satisfied: bool,
}

/// The exact status sentence DOMAIN.md §8 requires on every receipt.
pub const RECEIPT_STATUS: &str = "Permohonan diterima — dokumen belum terbit";

/// The sentence that a receipt is not the document, on both receipt formats.
const NOT_A_DOCUMENT: &str = "Tanda terima ini bukan dokumen kependudukan.";

/// The "expected completion" line, honest when no date can be computed.
fn expected_line(r: &ReceiptData) -> String {
    match r.expected_completion {
        Some(d) => format!("{} ({} hari kerja)", format_date_id(d), r.sla_working_days),
        None => format!(
            "{} hari kerja (tanggal belum dapat dihitung: kalender libur belum tersedia)",
            r.sla_working_days
        ),
    }
}

/// What the checklist says after a requirement's name; never claims more than was handed in.
fn requirement_status(q: &ReceiptRequirement) -> String {
    let given = q
        .provided
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    match (q.satisfied, given.is_empty()) {
        (true, false) => format!("diserahkan: {given}"),
        (true, true) => "terpenuhi".to_string(),
        (false, true) => "belum diserahkan".to_string(),
        (false, false) => format!("belum lengkap; diserahkan: {given}"),
    }
}

/// "Layanan: Akta kelahiran", with " · Revisi n" for a corrected application.
fn service_line(r: &ReceiptData) -> String {
    let line = format!("Layanan: {}", or_dash(&r.service_label));
    match r.revision {
        0 => line,
        n => format!("{line} · Revisi {n}"),
    }
}

/// "Katalog layanan 2026.11.1", or nothing when the caller has no version.
fn catalogue_line(r: &ReceiptData) -> Option<String> {
    let v = r.catalogue_version.trim();
    (!v.is_empty()).then(|| format!("Katalog layanan {v}"))
}

/// An empty value is printed as "-" so a blank never looks like a layout fault.
fn or_dash(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

/// PDF metadata date from a local timestamp, so output depends only on the inputs.
pub(crate) fn pdf_date(dt: NaiveDateTime) -> DateTime {
    DateTime::new(dt.year().clamp(0, 9999) as u16)
        .month(dt.month() as u8)
        .day(dt.day() as u8)
        .hour(dt.hour() as u8)
        .minute(dt.minute() as u8)
        .second(dt.second() as u8)
}

/// A new PDF with the receipt's metadata; the date comes from the capture time, so the bytes
/// depend only on the receipt.
fn receipt_document(r: &ReceiptData) -> Document {
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("Tanda Terima Permohonan {}", r.tracking_number))
            .language("id".into())
            .creator("Loket".into())
            .producer("Loket".into())
            .creation_date(pdf_date(r.captured_at)),
    );
    doc
}

fn birth_line(place: &str, date: NaiveDate) -> String {
    if place.trim().is_empty() {
        format_date_id(date)
    } else {
        format!("{}, {}", place.trim(), format_date_id(date))
    }
}

/// One laid-out drawing step; coordinates in points, origin top-left.
enum Op {
    /// A text run with its baseline at `y`; `gray` 0 is black.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        align: Align,
        gray: u8,
        text: String,
    },
    /// A filled rectangle.
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: u8,
    },
    /// A rectangle outline.
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        width: f32,
    },
    /// A check box, top-left at (`x`, `y`).
    CheckBox {
        x: f32,
        y: f32,
        size: f32,
        checked: bool,
    },
}

/// Draws laid-out steps onto a page.
fn draw(c: &mut Canvas<'_, '_>, ops: &[Op]) {
    for op in ops {
        match op {
            Op::Text {
                x,
                y,
                size,
                bold,
                align,
                gray,
                text,
            } => c.text_gray(*x, *y, *size, *bold, *align, *gray, text),
            Op::Fill { x, y, w, h, gray } => c.fill_rect(*x, *y, *w, *h, *gray),
            Op::Frame { x, y, w, h, width } => c.stroke_rect(*x, *y, *w, *h, *width),
            Op::CheckBox {
                x,
                y,
                size,
                checked,
            } => c.check_box(*x, *y, *size, *checked),
        }
    }
}

/// Baseline of a line of `size` points in a line box of height `leading` whose top is `top`.
fn baseline(top: f32, size: f32, leading: f32) -> f32 {
    top + (leading - size) / 2.0 + size * 0.8
}

// ---------------------------------------------------------------------------------------------
// A4
// ---------------------------------------------------------------------------------------------

/// A4 page margin (left, right and bottom of the flowing content), about 19 mm.
const A4_MARGIN: f32 = 54.0;
/// Where content starts on continuation pages, below their short header.
const A4_CONT_TOP: f32 = 92.0;
/// Lowest point content may reach; the footer lives below it.
const A4_BOTTOM: f32 = 841.89 - 52.0;
/// Body text size and line height of the A4 receipt.
const A4_SIZE: f32 = 9.5;
/// Line height of body text.
const A4_LEADING: f32 = 12.5;
/// Space after each label/value row.
const A4_ROW_GAP: f32 = 2.0;
/// Left edge of values in label/value rows.
const A4_VALUE_X: f32 = A4_MARGIN + 124.0;

/// Content flowing down A4 pages: keeps blocks together and opens a new page when one does
/// not fit, with a header naming the tracking number so a loose page can be matched.
struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    y: f32,
    tracking_number: String,
    /// Heading of the section being laid out, repeated on a continuation page.
    section: Option<String>,
}

impl<'f> Flow<'f> {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        let (pw, _) = A4;
        let ops = vec![
            Op::Text {
                x: A4_MARGIN,
                y: 58.0,
                size: 9.0,
                bold: true,
                align: Align::Left,
                gray: 0,
                text: "TANDA TERIMA PERMOHONAN (lanjutan)".into(),
            },
            Op::Text {
                x: pw - A4_MARGIN,
                y: 58.0,
                size: self.fonts.fit(
                    &self.tracking_number,
                    9.0,
                    5.0,
                    true,
                    (pw - 2.0 * A4_MARGIN) / 2.0 - 12.0,
                ),
                bold: true,
                align: Align::Right,
                gray: 0,
                text: self.tracking_number.clone(),
            },
            Op::Fill {
                x: A4_MARGIN,
                y: 66.0,
                w: pw - 2.0 * A4_MARGIN,
                h: 0.8,
                gray: 0,
            },
        ];
        self.pages.push(ops);
        self.y = A4_CONT_TOP;
        if let Some(section) = self.section.clone() {
            self.draw_heading(&format!("{section} (lanjutan)"));
        }
    }

    /// Makes room for a block of height `h`, on a new page if needed; a block taller than a
    /// whole page is started where it is and broken line by line instead.
    fn keep(&mut self, h: f32) {
        if self.y + h > A4_BOTTOM && h <= A4_BOTTOM - A4_CONT_TOP - Self::HEADING_H {
            self.new_page();
        }
    }

    fn space(&mut self, h: f32) {
        self.y += h;
    }

    /// Like [`Flow::keep`], and in any case room for the block's first line of `first` points.
    fn keep_first(&mut self, h: f32, first: f32) {
        self.keep(h);
        self.keep(first);
    }

    /// One line of text in a box of height `leading`, at the current position; returns its
    /// baseline (on a new page if the line did not fit).
    fn line(&mut self, x: f32, size: f32, bold: bool, gray: u8, leading: f32, text: &str) -> f32 {
        self.keep(leading);
        let y = baseline(self.y, size, leading);
        self.ops().push(Op::Text {
            x,
            y,
            size,
            bold,
            align: Align::Left,
            gray,
            text: text.to_string(),
        });
        self.y += leading;
        y
    }

    /// Height of a section heading, its rule and the gap below.
    const HEADING_H: f32 = 21.0;

    /// A section heading, kept on the same page as the `first` block below it; repeated with
    /// "(lanjutan)" if the section continues on a new page.
    fn heading(&mut self, text: &str, first: f32) {
        self.section = None;
        self.keep(Self::HEADING_H + first);
        self.draw_heading(text);
        self.section = Some(text.to_string());
    }

    /// Ends the current section: a page break after this repeats no heading.
    fn end_section(&mut self) {
        self.section = None;
    }

    fn draw_heading(&mut self, text: &str) {
        let (pw, _) = A4;
        let y = self.y + 12.5;
        self.ops().push(Op::Text {
            x: A4_MARGIN,
            y,
            size: 10.5,
            bold: true,
            align: Align::Left,
            gray: 0,
            text: text.to_string(),
        });
        self.ops().push(Op::Fill {
            x: A4_MARGIN,
            y: y + 4.0,
            w: pw - 2.0 * A4_MARGIN,
            h: 0.5,
            gray: 120,
        });
        self.y += Self::HEADING_H;
    }

    fn value_lines(&self, value: &str) -> Vec<String> {
        let (pw, _) = A4;
        let lines = self
            .fonts
            .wrap(value, A4_SIZE, false, pw - A4_MARGIN - A4_VALUE_X);
        if lines.is_empty() {
            vec!["-".to_string()]
        } else {
            lines
        }
    }

    fn label_lines(&self, label: &str) -> Vec<String> {
        self.fonts
            .wrap(label, A4_SIZE, false, A4_VALUE_X - A4_MARGIN - 14.0)
    }

    /// Height of a label/value row (gap included).
    fn row_height(&self, label: &str, value: &str) -> f32 {
        let n = self
            .label_lines(label)
            .len()
            .max(self.value_lines(value).len());
        n as f32 * A4_LEADING + A4_ROW_GAP
    }

    /// "Label  : value", both wrapped in their columns and never cut short.
    fn row(&mut self, label: &str, value: &str) {
        let labels = self.label_lines(label);
        let values = self.value_lines(value);
        let n = labels.len().max(values.len());
        self.keep_first(n as f32 * A4_LEADING, A4_LEADING);
        let top = self.y;
        for (i, l) in labels.iter().enumerate() {
            let y = baseline(top + i as f32 * A4_LEADING, A4_SIZE, A4_LEADING);
            self.ops().push(Op::Text {
                x: A4_MARGIN,
                y,
                size: A4_SIZE,
                bold: false,
                align: Align::Left,
                gray: 70,
                text: l.clone(),
            });
        }
        self.ops().push(Op::Text {
            x: A4_VALUE_X - 8.0,
            y: baseline(top, A4_SIZE, A4_LEADING),
            size: A4_SIZE,
            bold: false,
            align: Align::Left,
            gray: 0,
            text: ":".into(),
        });
        for l in &values {
            self.line(A4_VALUE_X, A4_SIZE, false, 0, A4_LEADING, l);
        }
        // A label longer than its value (no page break can have happened: the row was kept).
        self.y = self.y.max(top + n as f32 * A4_LEADING);
        self.space(A4_ROW_GAP);
    }

    /// The label lines and status lines of one checklist entry, and whether the status shares
    /// the label's last line.
    fn requirement_lines(&self, q: &ReceiptRequirement) -> (Vec<String>, Vec<String>, bool) {
        let (pw, _) = A4;
        let w = pw - A4_MARGIN - REQ_TEXT_X;
        let label = or_dash(&q.label);
        let labels = self.fonts.wrap(&label, A4_SIZE + 0.5, true, w);
        let status = format!("— {}", requirement_status(q));
        let last = labels.last().cloned().unwrap_or_default();
        let room = w - self.fonts.width(&last, A4_SIZE + 0.5, true) - 6.0;
        if self.fonts.width(&status, REQ_STATUS_SIZE, false) <= room {
            (labels, vec![status], true)
        } else {
            let statuses = self.fonts.wrap(&status, REQ_STATUS_SIZE, false, w);
            (labels, statuses, false)
        }
    }

    fn requirement_height(&self, q: &ReceiptRequirement) -> f32 {
        let (labels, statuses, inline) = self.requirement_lines(q);
        let status_h = if inline {
            0.0
        } else {
            statuses.len() as f32 * REQ_STATUS_LEADING
        };
        labels.len() as f32 * A4_LEADING + status_h + REQ_GAP
    }

    /// A checklist entry: drawn box (checked only when satisfied), name, what was handed in.
    fn requirement(&mut self, q: &ReceiptRequirement) {
        let (labels, statuses, inline) = self.requirement_lines(q);
        let h = self.requirement_height(q) - REQ_GAP;
        self.keep_first(h, A4_LEADING);
        let box_size = 9.0;
        let first_base = baseline(self.y, A4_SIZE + 0.5, A4_LEADING);
        let box_top = first_base - box_size + 1.0;
        self.ops().push(Op::CheckBox {
            x: A4_MARGIN + 4.0,
            y: box_top,
            size: box_size,
            checked: q.satisfied,
        });
        let status_gray = if q.satisfied { 60 } else { 0 };
        let n = labels.len();
        for (i, l) in labels.iter().enumerate() {
            let base = self.line(REQ_TEXT_X, A4_SIZE + 0.5, true, 0, A4_LEADING, l);
            if inline && i + 1 == n {
                let x = REQ_TEXT_X + self.fonts.width(l, A4_SIZE + 0.5, true) + 6.0;
                self.ops().push(Op::Text {
                    x,
                    y: base,
                    size: REQ_STATUS_SIZE,
                    bold: false,
                    align: Align::Left,
                    gray: status_gray,
                    text: statuses[0].clone(),
                });
            }
        }
        if !inline {
            for s in &statuses {
                self.line(
                    REQ_TEXT_X,
                    REQ_STATUS_SIZE,
                    false,
                    status_gray,
                    REQ_STATUS_LEADING,
                    s,
                );
            }
        }
        self.space(REQ_GAP);
    }

    /// A bulleted note paragraph.
    fn note(&mut self, text: &str) {
        let (pw, _) = A4;
        let size = 8.5;
        let leading = 11.0;
        let lines = self
            .fonts
            .wrap(text, size, false, pw - 2.0 * A4_MARGIN - 12.0);
        self.keep_first(lines.len() as f32 * leading, leading);
        let y = baseline(self.y, size, leading);
        self.ops().push(Op::Text {
            x: A4_MARGIN,
            y,
            size,
            bold: false,
            align: Align::Left,
            gray: 0,
            text: "•".into(),
        });
        for l in &lines {
            self.line(A4_MARGIN + 12.0, size, false, 0, leading, l);
        }
        self.space(3.0);
    }
}

/// Left edge of a checklist entry's text, right of its box.
const REQ_TEXT_X: f32 = A4_MARGIN + 22.0;
/// Size of the "— diserahkan: …" text.
const REQ_STATUS_SIZE: f32 = 8.5;
/// Line height of wrapped status text.
const REQ_STATUS_LEADING: f32 = 11.0;
/// Space after each checklist entry.
const REQ_GAP: f32 = 4.0;

/// Renders the A4 receipt as PDF bytes, on as many pages as its content needs (one for
/// ordinary applications); identical input gives identical bytes.
pub fn render_receipt(r: &ReceiptData) -> Result<Vec<u8>, PrintError> {
    let fonts = Fonts::load()?;
    let (pw, ph) = A4;
    let margin = A4_MARGIN;
    let cw = pw - 2.0 * margin;
    let cx = pw / 2.0;
    let tn = r.tracking_number.trim();
    let mut f = Flow {
        fonts: &fonts,
        pages: vec![Vec::new()],
        y: 0.0,
        tracking_number: tn.to_string(),
        section: None,
    };

    // First-page head: office, title, service, tracking number and status.
    let head = f.ops();
    head.push(Op::Text {
        x: cx,
        y: 56.0,
        size: 10.0,
        bold: true,
        align: Align::Center,
        gray: 0,
        text: "LOKET LAYANAN ADMINISTRASI KEPENDUDUKAN".into(),
    });
    let village = format!("Desa/Kelurahan {}", r.village_name.trim());
    head.push(Op::Text {
        x: cx,
        y: 70.0,
        size: fonts.fit(&village, 10.0, 6.5, false, cw),
        bold: false,
        align: Align::Center,
        gray: 0,
        text: village,
    });
    head.push(Op::Fill {
        x: margin,
        y: 78.0,
        w: cw,
        h: 1.4,
        gray: 0,
    });
    head.push(Op::Text {
        x: cx,
        y: 106.0,
        size: 17.0,
        bold: true,
        align: Align::Center,
        gray: 0,
        text: "TANDA TERIMA PERMOHONAN".into(),
    });
    let service = service_line(r);
    head.push(Op::Text {
        x: cx,
        y: 124.0,
        size: fonts.fit(&service, 12.0, 7.0, false, cw),
        bold: false,
        align: Align::Center,
        gray: 0,
        text: service,
    });
    let box_top = 136.0;
    let box_h = 66.0;
    head.push(Op::Frame {
        x: margin,
        y: box_top,
        w: cw,
        h: box_h,
        width: 1.4,
    });
    head.push(Op::Text {
        x: cx,
        y: box_top + 16.0,
        size: 9.0,
        bold: false,
        align: Align::Center,
        gray: 0,
        text: "Nomor registrasi".into(),
    });
    head.push(Op::Text {
        x: cx,
        y: box_top + 42.0,
        size: fonts.fit(tn, 22.0, 9.0, true, cw - 16.0),
        bold: true,
        align: Align::Center,
        gray: 0,
        text: tn.to_string(),
    });
    head.push(Op::Text {
        x: cx,
        y: box_top + 57.0,
        size: 8.0,
        bold: false,
        align: Align::Center,
        gray: 70,
        text: "Sebutkan nomor ini saat menanyakan status permohonan".into(),
    });
    let st = box_top + box_h + 10.0;
    head.push(Op::Fill {
        x: margin,
        y: st,
        w: cw,
        h: 25.0,
        gray: 225,
    });
    head.push(Op::Text {
        x: cx,
        y: st + 16.5,
        size: fonts.fit(RECEIPT_STATUS, 12.0, 8.0, true, cw - 12.0),
        bold: true,
        align: Align::Center,
        gray: 0,
        text: RECEIPT_STATUS.into(),
    });
    f.y = st + 27.0;

    // When: received, expected, by whom.
    let received = [
        ("Diterima pada", format_datetime_id(r.captured_at)),
        ("Perkiraan selesai", expected_line(r)),
        ("Petugas", or_dash(&r.operator)),
    ];
    let first = f.row_height(received[0].0, &received[0].1);
    f.heading("Penerimaan", first);
    for (label, value) in &received {
        f.row(label, value);
    }

    // Who.
    let resident = [
        ("NIK", or_dash(&r.nik)),
        ("Nama lengkap", or_dash(&r.full_name)),
        ("Tempat/Tgl lahir", birth_line(&r.birth_place, r.birth_date)),
        ("Jenis kelamin", or_dash(&r.sex_label)),
        ("Alamat", or_dash(&r.address)),
        ("Nomor HP", or_dash(&r.phone)),
    ];
    f.space(3.0);
    let first = f.row_height(resident[0].0, &resident[0].1);
    f.heading("Data pemohon", first);
    for (label, value) in &resident {
        f.row(label, value);
    }

    // What: the service's own fields.
    if let Some((l, v)) = r.details.first() {
        f.space(3.0);
        let first = f.row_height(&or_dash(l), &or_dash(v));
        f.heading("Data permohonan", first);
        for (label, value) in &r.details {
            f.row(&or_dash(label), &or_dash(value));
        }
    }

    // The checklist, honest about anything not handed in.
    if let Some(q) = r.requirements.first() {
        f.space(3.0);
        let first = f.requirement_height(q);
        f.heading("Persyaratan", first);
        for q in &r.requirements {
            f.requirement(q);
        }
    }

    // Notes for the resident.
    let notes = [
        "Simpan tanda terima ini sampai dokumen Anda terbit, dan bawa saat mengambil dokumen."
            .to_string(),
        format!(
            "{NOT_A_DOCUMENT} Dokumen resmi diterbitkan dan ditandatangani secara elektronik \
             oleh Dinas Kependudukan dan Pencatatan Sipil; hanya dokumen resmi yang memuat kode \
             QR verifikasi."
        ),
    ];
    f.end_section();
    f.space(6.0);
    f.keep(20.0 + 2.0 * 22.0);
    let y = f.y + 12.0;
    f.ops().push(Op::Text {
        x: margin,
        y,
        size: 9.0,
        bold: true,
        align: Align::Left,
        gray: 0,
        text: "Penting:".into(),
    });
    f.space(18.0);
    for note in &notes {
        f.note(note);
    }

    // Footer on every page: catalogue version, tracking number, capture time, page number.
    let pages = f.pages;
    let total = pages.len();
    let mut footer = vec!["Dicetak oleh Loket".to_string()];
    footer.extend(catalogue_line(r));
    footer.push(tn.to_string());
    footer.push(format_datetime_id(r.captured_at));
    let footer = footer.join(" · ");
    let footer_size = fonts.fit(&footer, 7.0, 5.0, false, cw - 70.0);

    let mut doc = receipt_document(r);
    for (i, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(pw, ph).ok_or(PrintError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut c = Canvas::new(&mut surface, &fonts);
        draw(&mut c, ops);
        c.fill_rect(margin, ph - 42.0, cw, 0.5, 150);
        c.text_gray(
            margin,
            ph - 30.0,
            footer_size,
            false,
            Align::Left,
            90,
            &footer,
        );
        if total > 1 {
            c.text_gray(
                pw - margin,
                ph - 30.0,
                7.0,
                false,
                Align::Right,
                90,
                &format!("Halaman {} dari {}", i + 1, total),
            );
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PrintError::Pdf(format!("{e:?}")))
}

// ---------------------------------------------------------------------------------------------
// 58 mm thermal roll
// ---------------------------------------------------------------------------------------------

/// Width of a 58 mm thermal roll, in PDF points.
const THERMAL_WIDTH: f32 = 58.0 * 72.0 / 25.4;
/// Left and right margin on the roll (most 58 mm printers print about 48 mm).
const THERMAL_MARGIN: f32 = 9.0;

/// Content running down the roll; all black, since thermal heads print gray as noise.
struct Roll<'f> {
    fonts: &'f Fonts,
    ops: Vec<Op>,
    y: f32,
}

impl Roll<'_> {
    fn width(&self) -> f32 {
        THERMAL_WIDTH - 2.0 * THERMAL_MARGIN
    }

    /// Wrapped text starting at `indent` from the margin; centred lines ignore the indent.
    fn text(&mut self, size: f32, bold: bool, center: bool, indent: f32, text: &str) {
        let w = self.width() - indent;
        for l in self.fonts.wrap(text, size, bold, w) {
            self.one(size, bold, center, indent, l);
        }
    }

    /// One unwrapped line (callers make it fit).
    fn one(&mut self, size: f32, bold: bool, center: bool, indent: f32, text: String) {
        let leading = size * 1.3;
        let (x, align) = if center {
            (THERMAL_WIDTH / 2.0, Align::Center)
        } else {
            (THERMAL_MARGIN + indent, Align::Left)
        };
        self.ops.push(Op::Text {
            x,
            y: baseline(self.y, size, leading),
            size,
            bold,
            align,
            gray: 0,
            text,
        });
        self.y += leading;
    }

    fn rule(&mut self) {
        self.y += 2.5;
        self.ops.push(Op::Fill {
            x: THERMAL_MARGIN,
            y: self.y,
            w: self.width(),
            h: 0.6,
            gray: 0,
        });
        self.y += 3.5;
    }

    /// A small label above its bold value, the roll's form of a table row.
    fn field(&mut self, label: &str, value: &str) {
        self.text(6.0, false, false, 0.0, label);
        self.text(7.0, true, false, 0.0, &or_dash(value));
        self.y += 1.5;
    }
}

/// Renders the receipt for a 58 mm thermal printer: one narrow page as long as its content, the
/// same facts as the A4 receipt in condensed form. Identical input gives identical bytes.
pub fn render_receipt_thermal(r: &ReceiptData) -> Result<Vec<u8>, PrintError> {
    let fonts = Fonts::load()?;
    let mut roll = Roll {
        fonts: &fonts,
        ops: Vec::new(),
        y: THERMAL_MARGIN,
    };
    let cw = roll.width();
    roll.text(8.0, true, true, 0.0, "TANDA TERIMA PERMOHONAN");
    roll.text(
        6.5,
        false,
        true,
        0.0,
        &format!("Desa/Kelurahan {}", r.village_name.trim()),
    );
    roll.rule();
    roll.text(7.5, true, true, 0.0, &service_line(r));
    roll.y += 3.0;
    roll.text(6.5, false, true, 0.0, "Nomor registrasi");
    // The tracking number is never wrapped: it is shrunk to fit one line instead.
    let tn = r.tracking_number.trim();
    let ts = fonts.fit(tn, 11.0, 5.0, true, cw);
    roll.one(ts, true, true, 0.0, tn.to_string());
    roll.y += 3.0;
    roll.text(7.5, true, true, 0.0, RECEIPT_STATUS);
    roll.rule();

    roll.field("NIK", &r.nik);
    roll.field("Nama", &r.full_name);
    roll.field("Lahir", &birth_line(&r.birth_place, r.birth_date));
    roll.field("Diterima", &format_datetime_id(r.captured_at));
    roll.field("Perkiraan selesai", &expected_line(r));
    roll.field("Petugas", &r.operator);

    if !r.details.is_empty() {
        roll.rule();
        roll.text(7.0, true, false, 0.0, "Data permohonan");
        roll.y += 1.0;
        for (label, value) in &r.details {
            roll.field(&or_dash(label), value);
        }
    }

    if !r.requirements.is_empty() {
        roll.rule();
        roll.text(7.0, true, false, 0.0, "Persyaratan");
        roll.y += 1.0;
        for q in &r.requirements {
            // "[v] Bukti kelahiran" with wrapped lines hanging under the name, not the mark.
            let mark = if q.satisfied { "[v]" } else { "[ ]" };
            let size = 7.0;
            let indent = fonts.width("[v] ", size, true);
            let label = or_dash(&q.label);
            let lines = fonts.wrap(&label, size, true, cw - indent);
            for (i, l) in lines.into_iter().enumerate() {
                if i == 0 {
                    roll.ops.push(Op::Text {
                        x: THERMAL_MARGIN,
                        y: baseline(roll.y, size, size * 1.3),
                        size,
                        bold: true,
                        align: Align::Left,
                        gray: 0,
                        text: mark.into(),
                    });
                }
                roll.one(size, true, false, indent, l);
            }
            roll.text(6.0, false, false, indent, &requirement_status(q));
            roll.y += 1.5;
        }
    }

    roll.rule();
    roll.text(
        6.0,
        false,
        false,
        0.0,
        &format!(
            "Simpan tanda terima ini sampai dokumen terbit. {NOT_A_DOCUMENT} Hanya dokumen \
             resmi dari Disdukcapil yang memuat kode QR verifikasi."
        ),
    );
    roll.y += 3.0;
    if let Some(cat) = catalogue_line(r) {
        roll.text(5.5, false, true, 0.0, &cat);
    }
    let height = roll.y + THERMAL_MARGIN;
    let ops = roll.ops;

    let mut doc = receipt_document(r);
    {
        let settings = PageSettings::from_wh(THERMAL_WIDTH, height)
            .ok_or(PrintError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut c = Canvas::new(&mut surface, &fonts);
        draw(&mut c, &ops);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PrintError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(provided: &[&str], satisfied: bool) -> ReceiptRequirement {
        ReceiptRequirement {
            label: "Bukti kelahiran".into(),
            provided: provided.iter().map(|s| s.to_string()).collect(),
            satisfied,
        }
    }

    #[test]
    fn requirement_status_never_claims_more_than_was_handed_in() {
        assert_eq!(
            requirement_status(&req(
                &["SPTJM kebenaran data kelahiran (F-2.03)", " ", "2 saksi"],
                true
            )),
            "diserahkan: SPTJM kebenaran data kelahiran (F-2.03), 2 saksi"
        );
        assert_eq!(requirement_status(&req(&[], true)), "terpenuhi");
        assert_eq!(requirement_status(&req(&[], false)), "belum diserahkan");
        assert_eq!(
            requirement_status(&req(&["1 saksi"], false)),
            "belum lengkap; diserahkan: 1 saksi"
        );
    }

    #[test]
    fn text_helpers() {
        assert_eq!(or_dash("  "), "-");
        assert_eq!(or_dash(" Bidan "), "Bidan");
        let b = 12.0;
        // The baseline sits inside its line box, below the box's top by most of the size.
        let y = baseline(100.0, 10.0, b);
        assert!(y > 100.0 + 7.0 && y < 100.0 + b, "{y}");
    }
}
