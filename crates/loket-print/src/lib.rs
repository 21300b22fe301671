//! Deterministic PDF rendering of Loket receipts and signed documents, and offline
//! verification of PDF/PNG/JPEG files that carry a Loket QR code.
//!
//! - [`render_receipt`]: A4 "TANDA TERIMA PERMOHONAN" given to the resident at the village
//!   front office, for any service: resident, the service's own data, the requirement
//!   checklist, tracking number and expected date; [`render_receipt_thermal`] is the same on a
//!   58 mm roll. Receipts carry no QR code: only signed documents do (DOMAIN.md §8).
//! - [`render_document`]: A4 "SURAT KETERANGAN" with the signed `LK1:` QR code (vector,
//!   EC level M, 4-module quiet zone, 30 mm square).
//! - [`verify_file_bytes`]: finds QR codes in a PDF (rasterised with hayro) or an image
//!   (rxing), verifies them with `loket_qr::verify`, and for PDFs also compares the
//!   printed name, NIK and document number with the signed claims.
//!
//! Same inputs give byte-identical PDFs: dates in the metadata come from the inputs and
//! fonts are embedded from the repository (`assets/fonts`, DejaVu), never from the system.

mod dates;
mod document;
mod layout;
mod receipt;
mod scan;
mod text;

pub use dates::{format_date_id, format_datetime_id};
pub use document::{render_document, DocumentData};
pub use receipt::{render_receipt, render_receipt_thermal, ReceiptData, ReceiptRequirement};
pub use scan::{decode_qr_texts, rasterize_pdf, verify_file_bytes, FileVerdict, ScanError};
pub use text::extract_pdf_text_lines;

use thiserror::Error;

/// Why a PDF could not be produced; rendering has no IO, so these are input or library faults.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrintError {
    /// A bundled font could not be parsed (a broken build, not user input).
    #[error("bundled font could not be loaded: {0}")]
    Font(&'static str),
    /// The QR text does not fit a QR code (far beyond what `loket_qr::sign` produces).
    #[error("QR code could not be generated: {0}")]
    Qr(String),
    /// krilla refused to serialise the document.
    #[error("PDF could not be written: {0}")]
    Pdf(String),
}

impl PrintError {
    /// Message in Bahasa Indonesia for the operator screen.
    pub fn message_id(&self) -> String {
        match self {
            PrintError::Font(_) => "Berkas huruf aplikasi rusak; pasang ulang aplikasi.".into(),
            PrintError::Qr(_) => "Kode QR tidak dapat dibuat karena isinya terlalu panjang.".into(),
            PrintError::Pdf(_) => "Berkas PDF tidak dapat dibuat.".into(),
        }
    }

    /// The same message in English.
    pub fn message_en(&self) -> String {
        match self {
            PrintError::Font(_) => "The app's font files are damaged; reinstall the app.".into(),
            PrintError::Qr(_) => {
                "The QR code could not be made because its content is too long.".into()
            }
            PrintError::Pdf(_) => "The PDF file could not be created.".into(),
        }
    }
}
