//! The A5 application receipt ("tanda terima permohonan") handed to the resident.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime, Timelike as _};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::Document;

use crate::dates::{format_date_id, format_datetime_id};
use crate::layout::{Align, Canvas, Fonts, A5};
use crate::PrintError;

/// Everything printed on a receipt; the app fills it from the captured application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptData {
    /// Offline-made tracking number the resident quotes when asking about the application.
    pub tracking_number: String,
    /// Service applied for, in Indonesian, e.g. "KTP-el baru".
    pub service_label: String,
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
}

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

/// The exact status sentence DOMAIN.md §8 requires on every receipt.
pub const RECEIPT_STATUS: &str = "Permohonan diterima — dokumen belum terbit";

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

/// Renders the A5 receipt as PDF bytes; identical input gives identical bytes.
pub fn render_receipt(r: &ReceiptData) -> Result<Vec<u8>, PrintError> {
    let fonts = Fonts::load()?;
    let (pw, ph) = A5;
    let margin = 34.0;
    let cw = pw - 2.0 * margin;
    let cx = pw / 2.0;

    let mut doc = receipt_document(r);
    {
        let settings = PageSettings::from_wh(pw, ph).ok_or(PrintError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut c = Canvas::new(&mut surface, &fonts);

        // Header.
        c.text(
            cx,
            44.0,
            9.0,
            true,
            Align::Center,
            "LOKET LAYANAN ADMINISTRASI KEPENDUDUKAN",
        );
        let village = format!("Desa/Kelurahan {}", r.village_name.trim());
        let vs = fonts.fit(&village, 9.0, 6.5, false, cw);
        c.text(cx, 57.0, vs, false, Align::Center, &village);
        c.hline(margin, pw - margin, 64.0, 1.2);

        // Title.
        c.text(
            cx,
            92.0,
            15.0,
            true,
            Align::Center,
            "TANDA TERIMA PERMOHONAN",
        );
        let service = format!("Layanan: {}", r.service_label.trim());
        let ss = fonts.fit(&service, 10.5, 7.0, false, cw);
        c.text(cx, 109.0, ss, false, Align::Center, &service);

        // Tracking number, large, in a box.
        let box_top = 122.0;
        let box_h = 70.0;
        c.stroke_rect(margin, box_top, cw, box_h, 1.4);
        c.text(
            cx,
            box_top + 16.0,
            9.0,
            false,
            Align::Center,
            "Nomor registrasi",
        );
        let tn = r.tracking_number.trim();
        let ts = fonts.fit(tn, 22.0, 9.0, true, cw - 16.0);
        c.text(cx, box_top + 44.0, ts, true, Align::Center, tn);
        c.text_gray(
            cx,
            box_top + 60.0,
            7.5,
            false,
            Align::Center,
            70,
            "Sebutkan nomor ini saat menanyakan status permohonan",
        );

        // Status banner.
        let st = box_top + box_h + 12.0;
        c.fill_rect(margin, st, cw, 26.0, 225);
        let sts = fonts.fit(RECEIPT_STATUS, 11.5, 8.0, true, cw - 12.0);
        c.text(cx, st + 17.5, sts, true, Align::Center, RECEIPT_STATUS);

        // Resident data.
        let label_x = margin;
        let colon_x = margin + 100.0;
        let value_x = colon_x + 8.0;
        let value_w = pw - margin - value_x;
        let size = 9.5;
        let leading = 12.5;
        let mut y = st + 50.0;
        let rows: [(&str, String); 10] = [
            ("NIK", r.nik.trim().to_string()),
            ("Nama lengkap", r.full_name.trim().to_string()),
            ("Tempat/Tgl lahir", birth_line(&r.birth_place, r.birth_date)),
            ("Jenis kelamin", r.sex_label.trim().to_string()),
            ("Alamat", r.address.trim().to_string()),
            ("Desa/Kelurahan", r.village_name.trim().to_string()),
            ("Nomor HP", r.phone.trim().to_string()),
            ("Diterima pada", format_datetime_id(r.captured_at)),
            ("Perkiraan selesai", expected_line(r)),
            ("Petugas", r.operator.trim().to_string()),
        ];
        for (label, value) in rows.iter() {
            c.text_gray(label_x, y, size, false, Align::Left, 60, label);
            c.text(colon_x, y, size, false, Align::Left, ":");
            let lines = fonts.wrap(value, size, false, value_w);
            let lines = if lines.is_empty() {
                vec!["-".to_string()]
            } else {
                lines
            };
            for (i, line) in lines.iter().take(4).enumerate() {
                c.text(
                    value_x,
                    y + i as f32 * leading,
                    size,
                    false,
                    Align::Left,
                    line,
                );
            }
            y += lines.len().min(4) as f32 * leading + 5.0;
        }

        // Notes for the resident.
        y += 4.0;
        c.hline(margin, pw - margin, y, 0.6);
        y += 16.0;
        c.text(margin, y, 9.0, true, Align::Left, "Penting:");
        y += 13.0;
        let notes = [
            "Simpan tanda terima ini sampai dokumen Anda terbit, dan bawa saat mengambil dokumen.",
            "Tanda terima ini bukan dokumen kependudukan. Dokumen resmi diterbitkan dan ditandatangani secara elektronik oleh Dinas Kependudukan dan Pencatatan Sipil; hanya dokumen resmi yang memuat kode QR verifikasi.",
        ];
        for note in notes {
            c.text(margin, y, 8.5, false, Align::Left, "•");
            y = c.paragraph(margin + 10.0, y, 8.5, false, cw - 10.0, 11.0, note) + 3.0;
        }

        // Footer.
        c.text_gray(
            cx,
            ph - 22.0,
            7.0,
            false,
            Align::Center,
            110,
            &format!(
                "Dicetak oleh Loket · {} · {}",
                r.tracking_number.trim(),
                format_datetime_id(r.captured_at)
            ),
        );
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PrintError::Pdf(format!("{e:?}")))
}

/// Width of a 58 mm thermal roll, in PDF points.
const THERMAL_WIDTH: f32 = 58.0 * 72.0 / 25.4;

/// One laid-out line of the thermal receipt.
struct Line {
    y: f32,
    size: f32,
    bold: bool,
    center: bool,
    text: String,
}

/// Renders the receipt for a 58 mm thermal printer: one narrow page as long as its content, the
/// same facts as the A5 receipt. Identical input gives identical bytes.
pub fn render_receipt_thermal(r: &ReceiptData) -> Result<Vec<u8>, PrintError> {
    let fonts = Fonts::load()?;
    let margin = 9.0;
    let cw = THERMAL_WIDTH - 2.0 * margin;
    let mut lines: Vec<Line> = Vec::new();
    let mut y = margin + 8.0;
    let mut place = |y: &mut f32, size: f32, bold: bool, center: bool, text: &str, wrap: bool| {
        let parts = if wrap {
            fonts.wrap(text, size, bold, cw)
        } else {
            vec![text.to_string()]
        };
        for l in parts {
            lines.push(Line {
                y: *y,
                size,
                bold,
                center,
                text: l,
            });
            *y += size * 1.3;
        }
    };
    place(&mut y, 8.0, true, true, "TANDA TERIMA PERMOHONAN", true);
    place(
        &mut y,
        6.5,
        false,
        true,
        &format!("Desa/Kelurahan {}", r.village_name.trim()),
        true,
    );
    place(
        &mut y,
        7.0,
        false,
        true,
        &format!("Layanan: {}", r.service_label.trim()),
        true,
    );
    y += 4.0;
    place(&mut y, 6.5, false, true, "Nomor registrasi", true);
    // The tracking number is never wrapped: it is shrunk to fit one line instead.
    let tn = r.tracking_number.trim();
    let ts = fonts.fit(tn, 11.0, 5.0, true, cw);
    place(&mut y, ts, true, true, tn, false);
    y += 3.0;
    place(&mut y, 7.5, true, true, RECEIPT_STATUS, true);
    y += 4.0;
    let rows = [
        ("NIK", r.nik.trim().to_string()),
        ("Nama", r.full_name.trim().to_string()),
        ("Lahir", birth_line(&r.birth_place, r.birth_date)),
        ("Diterima", format_datetime_id(r.captured_at)),
        ("Perkiraan selesai", expected_line(r)),
        ("Petugas", r.operator.trim().to_string()),
    ];
    for (label, value) in rows {
        place(&mut y, 6.0, false, false, label, true);
        place(
            &mut y,
            7.0,
            true,
            false,
            if value.is_empty() { "-" } else { &value },
            true,
        );
        y += 2.0;
    }
    y += 3.0;
    place(
        &mut y,
        6.0,
        false,
        false,
        "Simpan tanda terima ini. Ini bukan dokumen kependudukan; hanya dokumen resmi dari Disdukcapil yang memuat kode QR verifikasi.", true);
    let height = y + margin;

    let mut doc = receipt_document(r);
    {
        let settings = PageSettings::from_wh(THERMAL_WIDTH, height)
            .ok_or(PrintError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut c = Canvas::new(&mut surface, &fonts);
        for l in &lines {
            let (x, align) = if l.center {
                (THERMAL_WIDTH / 2.0, Align::Center)
            } else {
                (margin, Align::Left)
            };
            c.text(x, l.y, l.size, l.bold, align, &l.text);
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PrintError::Pdf(format!("{e:?}")))
}
