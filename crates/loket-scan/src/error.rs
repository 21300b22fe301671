//! Why a scan was refused, in words an operator can act on (Bahasa Indonesia and English).

use thiserror::Error;

/// Why a file could not be taken in as a requirement scan; nothing is stored in any case.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanError {
    /// Zero bytes: usually a failed copy from a flash drive or phone.
    #[error("file is empty")]
    Empty,
    /// Larger than the configured maximum, checked before anything is parsed.
    #[error("file is {size} bytes, more than the maximum of {max}")]
    TooLarge {
        /// Size of the file in bytes.
        size: u64,
        /// The configured maximum in bytes.
        max: u64,
    },
    /// Not a PDF, PNG or JPEG by its magic bytes (the file name is never consulted).
    #[error("unsupported file type")]
    UnsupportedType,
    /// The file claims a supported type but cannot be decoded (or its decoder panicked).
    #[error("file could not be decoded: {0}")]
    Corrupt(String),
    /// The image header declares more pixels than allowed (decompression-bomb guard).
    #[error("image is {width}×{height} pixels, more than the maximum of {max} pixels")]
    TooManyPixels {
        /// Declared width in pixels.
        width: u32,
        /// Declared height in pixels.
        height: u32,
        /// The configured maximum number of pixels.
        max: u64,
    },
    /// The PDF has more pages than one requirement may have.
    #[error("PDF has {pages} pages, more than the maximum of {max}")]
    TooManyPages {
        /// Number of pages in the PDF.
        pages: usize,
        /// The configured maximum.
        max: usize,
    },
}

impl ScanError {
    /// Message in Bahasa Indonesia for the operator screen (internal details stay in logs).
    pub fn message_id(&self) -> String {
        match self {
            ScanError::Empty => "Berkas kosong (0 byte). Pindai atau salin ulang berkasnya.".into(),
            ScanError::TooLarge { max, .. } => format!(
                "Berkas terlalu besar. Ukuran maksimum {} MB.",
                max / (1024 * 1024)
            ),
            ScanError::UnsupportedType => {
                "Jenis berkas tidak didukung. Gunakan PDF, JPEG, atau PNG.".into()
            }
            ScanError::Corrupt(_) => "Berkas rusak atau tidak dapat dibuka.".into(),
            ScanError::TooManyPixels { .. } => {
                "Resolusi gambar terlalu besar. Pindai ulang dengan resolusi 150–300 dpi.".into()
            }
            ScanError::TooManyPages { max, .. } => {
                format!("PDF terlalu banyak halaman. Maksimum {max} halaman per persyaratan.")
            }
        }
    }

    /// The same message in English.
    pub fn message_en(&self) -> String {
        match self {
            ScanError::Empty => "The file is empty (0 bytes). Scan or copy it again.".into(),
            ScanError::TooLarge { max, .. } => format!(
                "The file is too large. The maximum size is {} MB.",
                max / (1024 * 1024)
            ),
            ScanError::UnsupportedType => {
                "This file type is not supported. Use PDF, JPEG or PNG.".into()
            }
            ScanError::Corrupt(_) => "The file is damaged or cannot be opened.".into(),
            ScanError::TooManyPixels { .. } => {
                "The image resolution is too high. Scan again at 150–300 dpi.".into()
            }
            ScanError::TooManyPages { max, .. } => {
                format!("The PDF has too many pages. At most {max} pages per requirement.")
            }
        }
    }
}
