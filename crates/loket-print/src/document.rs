//! The A4 signed document ("Surat Keterangan") with its verification QR code.

use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::Document;
use loket_qr::DocumentClaims;

use crate::dates::format_date_id;
use crate::layout::{region_heading, title_case, Align, Canvas, Fonts, A4, MM};
use crate::receipt::pdf_date;
use crate::text::{LABEL_NAME, LABEL_NIK, NUMBER_PREFIX};
use crate::PrintError;

/// Everything printed on a signed document: the signed claims plus display-only fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentData {
    /// The signed claims; name, NIK, number and dates are printed from here.
    pub claims: DocumentClaims,
    /// The `LK1:` text from `loket_qr::sign` for exactly these claims.
    pub qr_text: String,
    /// Place of birth (not in the QR, printed only).
    pub birth_place: String,
    /// Sex label in Indonesian, e.g. "Perempuan".
    pub sex_label: String,
    /// Address as one line (wrapped on print).
    pub address: String,
    /// District name as in the trust list, e.g. "WAJO" or "KOTA MAKASSAR".
    pub district_name: String,
    /// Name of the official whose key signed the document.
    pub signer_name: String,
    /// Official title of the signer.
    pub signer_title: String,
    /// Key id (8 hex characters) printed next to the electronic-signature note.
    pub key_id: String,
}

/// Caption under the QR code, telling residents it can be checked without internet.
pub const QR_CAPTION: &str = "Pindai untuk memverifikasi keaslian dokumen secara luring";

/// Renders the A4 document as PDF bytes; identical input gives identical bytes.
pub fn render_document(d: &DocumentData) -> Result<Vec<u8>, PrintError> {
    let fonts = Fonts::load()?;
    let (pw, ph) = A4;
    let margin = 62.0;
    let cw = pw - 2.0 * margin;
    let cx = pw / 2.0;
    let cl = &d.claims;
    let region = region_heading(&d.district_name);
    let region_text = title_case(&region);

    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} {}", cl.doc_type.label_id(), cl.doc_number))
            .language("id".into())
            .creator("Loket".into())
            .producer("Loket".into())
            .creation_date(pdf_date(cl.issued_on.and_time(chrono::NaiveTime::MIN))),
    );
    {
        let settings = PageSettings::from_wh(pw, ph).ok_or(PrintError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut c = Canvas::new(&mut surface, &fonts);

        // Letterhead (kop surat).
        let gov = format!("PEMERINTAH {region}");
        let gs = fonts.fit(&gov, 13.0, 8.0, true, cw);
        c.text(cx, 66.0, gs, true, Align::Center, &gov);
        let agency = "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL";
        let ags = fonts.fit(agency, 14.5, 8.0, true, cw);
        c.text(cx, 86.0, ags, true, Align::Center, agency);
        c.hline(margin, pw - margin, 96.0, 2.2);
        c.hline(margin, pw - margin, 100.0, 0.6);

        // Title and number.
        let title = cl.doc_type.label_id().to_uppercase();
        c.text(cx, 136.0, 14.0, true, Align::Center, &title);
        let tw = fonts.width(&title, 14.0, true);
        c.hline(cx - tw / 2.0, cx + tw / 2.0, 139.0, 0.9);
        let number = format!("{NUMBER_PREFIX}{}", cl.doc_number);
        c.text(cx, 155.0, 10.5, false, Align::Center, &number);
        let mut y = 155.0;
        if cl.revision > 0 {
            y += 13.0;
            c.text_gray(
                cx,
                y,
                9.0,
                false,
                Align::Center,
                60,
                &format!("Perubahan ke-{}", cl.revision),
            );
        }

        // Body.
        let size = 10.5;
        let leading = 15.0;
        y += 36.0;
        c.text(
            margin,
            y,
            size,
            false,
            Align::Left,
            "Yang bertanda tangan di bawah ini menerangkan bahwa:",
        );
        y += 24.0;
        let label_x = margin + 18.0;
        let colon_x = margin + 112.0;
        let value_x = colon_x + 9.0;
        let value_w = pw - margin - value_x;
        let birth = if d.birth_place.trim().is_empty() {
            format_date_id(cl.birth_date)
        } else {
            format!(
                "{}, {}",
                d.birth_place.trim(),
                format_date_id(cl.birth_date)
            )
        };
        // Name and NIK stay one run each (shrunk to fit) so they can be read back from the PDF.
        let rows: [(&str, &str, bool); 5] = [
            (LABEL_NAME, cl.holder_name.as_str(), true),
            (LABEL_NIK, cl.nik.as_str(), true),
            ("Tempat/Tgl Lahir", birth.as_str(), false),
            ("Jenis Kelamin", d.sex_label.trim(), false),
            ("Alamat", d.address.trim(), false),
        ];
        for (label, value, single_line) in rows {
            c.text(label_x, y, size, false, Align::Left, label);
            c.text(colon_x, y, size, false, Align::Left, ":");
            if single_line {
                let s = fonts.fit(value, size, 6.0, true, value_w);
                c.text(value_x, y, s, true, Align::Left, value);
                y += leading + 2.0;
            } else {
                let lines = fonts.wrap(value, size, false, value_w);
                let n = lines.len().clamp(1, 4);
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
                y += n as f32 * leading + 2.0;
            }
        }
        y += 14.0;
        let body = [
            "telah mengajukan permohonan KTP-el baru dan permohonan tersebut telah disetujui. Data kependudukan yang bersangkutan telah direkam, dan KTP-el sedang dalam proses penerbitan.",
            "Demikian surat keterangan ini dibuat untuk dapat dipergunakan sebagaimana mestinya.",
        ];
        for para in body {
            y = c.paragraph(margin, y, size, false, cw, leading, para) + 8.0;
        }

        // Place and date of issue, then the electronic-signature block (right column).
        let sig_x = margin + cw * 0.52;
        let sig_w = pw - margin - sig_x;
        let mut sy = y + 22.0;
        c.text(
            sig_x,
            sy,
            10.0,
            false,
            Align::Left,
            &format!("Dikeluarkan di {region_text}"),
        );
        sy += 14.0;
        c.text(
            sig_x,
            sy,
            10.0,
            false,
            Align::Left,
            &format!("pada tanggal {}", format_date_id(cl.issued_on)),
        );
        sy += 22.0;
        sy = c.paragraph(sig_x, sy, 9.5, true, sig_w, 12.5, d.signer_title.trim());
        sy += 2.0;
        let box_h = 34.0;
        c.fill_rect(sig_x, sy, sig_w, box_h, 238);
        c.stroke_rect(sig_x, sy, sig_w, box_h, 0.7);
        c.text(
            sig_x + 8.0,
            sy + 14.0,
            9.0,
            true,
            Align::Left,
            "Ditandatangani secara elektronik",
        );
        c.text_gray(
            sig_x + 8.0,
            sy + 27.0,
            8.0,
            false,
            Align::Left,
            50,
            &format!("ID kunci: {}", d.key_id.trim()),
        );
        sy += box_h + 20.0;
        let name = d.signer_name.trim();
        let ns = fonts.fit(name, 10.5, 7.0, true, sig_w);
        c.text(sig_x, sy, ns, true, Align::Left, name);
        let nw = fonts.width(name, ns, true);
        c.hline(sig_x, sig_x + nw, sy + 2.5, 0.7);

        // Verification QR (left column), aligned with the place/date line.
        let qr_size = 30.0 * MM;
        let qr_y = y + 8.0;
        c.qr(margin, qr_y, qr_size, &d.qr_text)?;
        let caption_w = sig_x - margin - 16.0;
        c.paragraph(
            margin,
            qr_y + qr_size + 10.0,
            7.5,
            false,
            caption_w.min(qr_size + 40.0),
            9.5,
            QR_CAPTION,
        );

        // Footer note.
        let fy = ph - 64.0;
        c.hline(margin, pw - margin, fy, 0.5);
        let note = format!(
            "Dokumen ini ditandatangani secara elektronik oleh Dinas Kependudukan dan Pencatatan Sipil {region_text} (ID kunci {}) sehingga tidak memerlukan legalisir. Keaslian dan isi dokumen dapat diperiksa dengan memindai kode QR memakai aplikasi Loket, tanpa koneksi internet.",
            d.key_id.trim()
        );
        let mut ny = fy + 13.0;
        for line in fonts.wrap(&note, 7.5, false, cw) {
            c.text_gray(margin, ny, 7.5, false, Align::Left, 70, &line);
            ny += 9.5;
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PrintError::Pdf(format!("{e:?}")))
}
