//! The part NIK and Nomor KK share (DOMAIN.md §1.2–1.3): 16 digits that start with a 6-digit
//! kecamatan code. Each number reports its own finding codes, so this module only says which
//! shared rule failed and leaves the wording to the caller.

use crate::region::region_name;

/// A shared error-level rule that the number breaks, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrefixError {
    /// Not exactly 16 ASCII digits after stripping spaces, dots and dashes.
    Length,
    /// Starts with 0.
    LeadingZero,
    /// Digits 1–2 are not a province of the region table.
    UnknownProvince,
    /// Digits 3–4 are 00.
    ZeroRegency,
    /// Digits 5–6 are 00.
    ZeroKecamatan,
}

/// A number that passed the shared rules, with its region decoded from the first 6 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prefixed {
    /// The 16 digits, separators removed.
    pub digits: String,
    /// `PP`.
    pub province_code: String,
    /// Name of the province (always known, or the number would be refused).
    pub province_name: &'static str,
    /// `PP.KK`.
    pub regency_code: String,
    /// Name of the regency if the 2025 decree knows it.
    pub regency_name: Option<&'static str>,
    /// `PP.KK.CC`.
    pub kecamatan_code: String,
    /// Name of the kecamatan if the 2025 decree knows it; `None` is only a warning because
    /// numbers keep their old code after pemekaran.
    pub kecamatan_name: Option<&'static str>,
}

impl Prefixed {
    /// The decimal value of a digit range (only called on ranges of the 16 checked digits).
    pub fn num(&self, range: std::ops::Range<usize>) -> u32 {
        self.digits[range].parse().unwrap_or(0)
    }
}

/// Applies the shared rules to a number as typed.
pub(crate) fn parse_prefixed(input: &str) -> Result<Prefixed, PrefixError> {
    let digits: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PrefixError::Length);
    }
    if digits.starts_with('0') {
        return Err(PrefixError::LeadingZero);
    }
    let province_code = digits[0..2].to_string();
    let province_name = region_name(&province_code).ok_or(PrefixError::UnknownProvince)?;
    if &digits[2..4] == "00" {
        return Err(PrefixError::ZeroRegency);
    }
    if &digits[4..6] == "00" {
        return Err(PrefixError::ZeroKecamatan);
    }
    let regency_code = format!("{}.{}", &digits[0..2], &digits[2..4]);
    let kecamatan_code = format!("{regency_code}.{}", &digits[4..6]);
    Ok(Prefixed {
        regency_name: region_name(&regency_code),
        kecamatan_name: region_name(&kecamatan_code),
        province_code,
        province_name,
        regency_code,
        kecamatan_code,
        digits,
    })
}
