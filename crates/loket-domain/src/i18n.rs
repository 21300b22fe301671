//! Findings (errors and warnings) and their wording. The UI shows these words next to the field,
//! so each code carries its Bahasa Indonesia text (the default) and an English one.

use serde::{Deserialize, Serialize};

/// The language a person reads Loket in; Bahasa Indonesia unless they chose English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Bahasa Indonesia, the default everywhere.
    #[default]
    Id,
    /// English, on request.
    En,
}

/// Whether a finding blocks saving (error) or only asks the operator to look again (warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The application cannot be saved until this is fixed.
    Error,
    /// Saved anyway; the operator confirmed the data against the resident's papers.
    Warning,
}

/// The form field a finding belongs to, so the UI can place the message beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Nomor Induk Kependudukan.
    Nik,
    /// Nama lengkap.
    FullName,
    /// Tempat lahir.
    BirthPlace,
    /// Tanggal lahir.
    BirthDate,
    /// Jenis kelamin.
    Sex,
    /// Alamat.
    Address,
    /// Nomor telepon.
    Phone,
    /// Nomor Kartu Keluarga.
    NomorKk,
}

/// Every rule Loket can report on; the code is stable, the words may improve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// A NIK has exactly 16 digits.
    NikLength,
    /// A NIK cannot start with 0.
    NikLeadingZero,
    /// The first two digits are not a known province code.
    NikUnknownProvince,
    /// The regency code in the NIK (digits 3–4) cannot be 00.
    NikZeroRegency,
    /// The kecamatan code in the NIK (digits 5–6) cannot be 00.
    NikZeroKecamatan,
    /// The birth day in the NIK (digits 7–8) must be 01–31 (men) or 41–71 (women).
    NikBadDay,
    /// The birth month in the NIK (digits 9–10) must be 01–12.
    NikBadMonth,
    /// The birth date in the NIK is not a real calendar date.
    NikBadDate,
    /// The birth date in the NIK is in the future.
    NikFutureDate,
    /// The NIK serial (last 4 digits) cannot be 0000.
    NikZeroSerial,
    /// The NIK's region is not in the 2025 kecamatan list (perhaps an older code). Check the KK.
    NikUnknownKecamatan,
    /// The birth date differs from the one in the NIK. Check the papers.
    NikBirthDateMismatch,
    /// The sex differs from the one in the NIK. Check the papers.
    NikSexMismatch,
    /// A Nomor KK has exactly 16 digits.
    KkLength,
    /// A Nomor KK cannot start with 0.
    KkLeadingZero,
    /// The first two digits of the Nomor KK are not a known province code.
    KkUnknownProvince,
    /// The regency code in the Nomor KK (digits 3–4) cannot be 00.
    KkZeroRegency,
    /// The kecamatan code in the Nomor KK (digits 5–6) cannot be 00.
    KkZeroKecamatan,
    /// The Nomor KK serial (last 4 digits) cannot be 0000.
    KkZeroSerial,
    /// The Nomor KK's kecamatan is not in the 2025 list (perhaps an older code). Check the card.
    KkUnknownKecamatan,
    /// Digits 7–12 of the Nomor KK do not read as a past recording date (DDMMYY). Check the card.
    KkUnusualRecordingDate,
    /// The full name is required.
    NameEmpty,
    /// A name has at most 60 letters including spaces (Permendagri 73/2022).
    NameTooLong,
    /// A name cannot contain digits (Permendagri 73/2022).
    NameDigits,
    /// A name cannot contain punctuation or abbreviations (Permendagri 73/2022).
    NamePunctuation,
    /// The name is a single word; at least two words are recommended.
    NameSingleWord,
    /// The place of birth is required.
    BirthPlaceEmpty,
    /// The date of birth is required.
    BirthDateMissing,
    /// The date of birth cannot be in the future.
    BirthDateFuture,
    /// Choose the sex.
    SexMissing,
    /// The address is required.
    AddressEmpty,
    /// An e-mail address needs a name, an @ and a domain.
    EmailInvalid,
    /// A region code must be a 10-digit desa/kelurahan code of the 2025 decree.
    RegionCodeUnknown,
    /// A required field of the service form is empty.
    Required,
    /// A date field does not hold a calendar date.
    DateInvalid,
    /// A date field (birth, death, marriage…) lies in the future.
    DateFuture,
    /// A select field holds a value the catalogue does not offer.
    OptionInvalid,
    /// A number field does not hold a whole number.
    NumberInvalid,
    /// A text field is longer than any real value (a paste gone wrong).
    TextTooLong,
    /// The phone must be an Indonesian number, e.g. 081234567890.
    PhoneInvalid,
}

impl FindingCode {
    /// The sentence shown to the operator, in their language.
    pub fn message(self, lang: Lang) -> &'static str {
        use FindingCode::*;
        let (id, en) = match self {
            NikLength => (
                "NIK harus 16 angka.",
                "A NIK has exactly 16 digits.",
            ),
            NikLeadingZero => (
                "NIK tidak boleh diawali angka 0.",
                "A NIK cannot start with 0.",
            ),
            NikUnknownProvince => (
                "Dua angka pertama NIK bukan kode provinsi yang dikenal.",
                "The first two digits are not a known province code.",
            ),
            NikZeroRegency => (
                "Kode kabupaten/kota pada NIK (angka 3–4) tidak boleh 00.",
                "The regency code in the NIK (digits 3–4) cannot be 00.",
            ),
            NikZeroKecamatan => (
                "Kode kecamatan pada NIK (angka 5–6) tidak boleh 00.",
                "The kecamatan code in the NIK (digits 5–6) cannot be 00.",
            ),
            NikBadDay => (
                "Tanggal lahir pada NIK (angka 7–8) harus 01–31 (laki-laki) atau 41–71 (perempuan).",
                "The birth day in the NIK (digits 7–8) must be 01–31 (men) or 41–71 (women).",
            ),
            NikBadMonth => (
                "Bulan lahir pada NIK (angka 9–10) harus 01–12.",
                "The birth month in the NIK (digits 9–10) must be 01–12.",
            ),
            NikBadDate => (
                "Tanggal lahir pada NIK bukan tanggal yang ada di kalender.",
                "The birth date in the NIK is not a real calendar date.",
            ),
            NikFutureDate => (
                "Tanggal lahir pada NIK ada di masa depan.",
                "The birth date in the NIK is in the future.",
            ),
            NikZeroSerial => (
                "Nomor urut NIK (4 angka terakhir) tidak boleh 0000.",
                "The NIK serial (last 4 digits) cannot be 0000.",
            ),
            NikUnknownKecamatan => (
                "Kode wilayah NIK tidak ada dalam daftar kecamatan 2025 (mungkin kode lama sebelum pemekaran). Periksa KK.",
                "The NIK's region is not in the 2025 kecamatan list (perhaps an older code). Check the KK.",
            ),
            NikBirthDateMismatch => (
                "Tanggal lahir berbeda dengan yang tertera pada NIK. Periksa dokumen.",
                "The birth date differs from the one in the NIK. Check the papers.",
            ),
            NikSexMismatch => (
                "Jenis kelamin berbeda dengan yang tertera pada NIK. Periksa dokumen.",
                "The sex differs from the one in the NIK. Check the papers.",
            ),
            KkLength => (
                "Nomor KK harus 16 angka.",
                "A Nomor KK has exactly 16 digits.",
            ),
            KkLeadingZero => (
                "Nomor KK tidak boleh diawali angka 0.",
                "A Nomor KK cannot start with 0.",
            ),
            KkUnknownProvince => (
                "Dua angka pertama Nomor KK bukan kode provinsi yang dikenal.",
                "The first two digits of the Nomor KK are not a known province code.",
            ),
            KkZeroRegency => (
                "Kode kabupaten/kota pada Nomor KK (angka 3–4) tidak boleh 00.",
                "The regency code in the Nomor KK (digits 3–4) cannot be 00.",
            ),
            KkZeroKecamatan => (
                "Kode kecamatan pada Nomor KK (angka 5–6) tidak boleh 00.",
                "The kecamatan code in the Nomor KK (digits 5–6) cannot be 00.",
            ),
            KkZeroSerial => (
                "Nomor urut Nomor KK (4 angka terakhir) tidak boleh 0000.",
                "The Nomor KK serial (last 4 digits) cannot be 0000.",
            ),
            KkUnknownKecamatan => (
                "Kode kecamatan Nomor KK tidak ada dalam daftar kecamatan 2025 (mungkin kode lama sebelum pemekaran). Periksa KK.",
                "The Nomor KK's kecamatan is not in the 2025 list (perhaps an older code). Check the card.",
            ),
            KkUnusualRecordingDate => (
                "Angka 7–12 Nomor KK tidak terbaca sebagai tanggal pencatatan (HHBBTT) yang sudah lewat. Periksa KK.",
                "Digits 7–12 of the Nomor KK do not read as a past recording date (DDMMYY). Check the card.",
            ),
            NameEmpty => ("Nama lengkap wajib diisi.", "The full name is required."),
            NameTooLong => (
                "Nama paling banyak 60 huruf termasuk spasi (Permendagri 73/2022).",
                "A name has at most 60 letters including spaces (Permendagri 73/2022).",
            ),
            NameDigits => (
                "Nama tidak boleh memuat angka (Permendagri 73/2022).",
                "A name cannot contain digits (Permendagri 73/2022).",
            ),
            NamePunctuation => (
                "Nama tidak boleh memuat tanda baca atau singkatan (Permendagri 73/2022).",
                "A name cannot contain punctuation or abbreviations (Permendagri 73/2022).",
            ),
            NameSingleWord => (
                "Nama hanya satu kata; dianjurkan paling sedikit dua kata.",
                "The name is a single word; at least two words are recommended.",
            ),
            BirthPlaceEmpty => ("Tempat lahir wajib diisi.", "The place of birth is required."),
            BirthDateMissing => (
                "Tanggal lahir wajib diisi.",
                "The date of birth is required.",
            ),
            BirthDateFuture => (
                "Tanggal lahir tidak boleh di masa depan.",
                "The date of birth cannot be in the future.",
            ),
            Required => ("Wajib diisi.", "Required."),
            EmailInvalid => (
                "Alamat email tidak valid, contoh: nama@contoh.id.",
                "Not a valid e-mail address, e.g. name@example.id.",
            ),
            RegionCodeUnknown => (
                "Kode wilayah harus 10 angka kode desa/kelurahan yang terdaftar (Kepmendagri 2025).",
                "The region code must be a registered 10-digit village code (2025 decree).",
            ),
            DateInvalid => (
                "Tanggal tidak valid; pilih dari kalender.",
                "Not a valid date; pick it from the calendar.",
            ),
            DateFuture => (
                "Tanggal tidak boleh di masa depan.",
                "The date cannot be in the future.",
            ),
            OptionInvalid => ("Pilih salah satu pilihan.", "Choose one of the options."),
            NumberInvalid => ("Isi dengan angka bulat.", "Enter a whole number."),
            TextTooLong => (
                "Terlalu panjang (maksimum 200 huruf).",
                "Too long (200 characters at most).",
            ),
            SexMissing => ("Pilih jenis kelamin.", "Choose the sex."),
            AddressEmpty => ("Alamat wajib diisi.", "The address is required."),
            PhoneInvalid => (
                "Nomor telepon harus nomor Indonesia, mis. 081234567890.",
                "The phone must be an Indonesian number, e.g. 081234567890.",
            ),
        };
        match lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// One thing a rule found about one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Where to show it.
    pub field: Field,
    /// Which rule.
    pub code: FindingCode,
    /// Whether it blocks saving.
    pub severity: Severity,
}

impl Finding {
    /// A blocking finding.
    pub fn error(field: Field, code: FindingCode) -> Self {
        Finding {
            field,
            code,
            severity: Severity::Error,
        }
    }

    /// A finding that only warns.
    pub fn warning(field: Field, code: FindingCode) -> Self {
        Finding {
            field,
            code,
            severity: Severity::Warning,
        }
    }
}
