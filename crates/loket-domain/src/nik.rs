//! The offline NIK checks of DOMAIN.md §1.2. They prove only that a number *cannot* be a NIK;
//! whether it is registered is for SIAK at Disdukcapil to say.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::application::Sex;
use crate::i18n::{Field, Finding, FindingCode};
use crate::prefixed::{parse_prefixed, PrefixError};

/// A NIK that passed every error-level rule; functions taking a `Nik` never re-check it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nik(String);

impl Nik {
    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a valid NIK says about its holder, to prefill and cross-check the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NikInfo {
    /// The checked number.
    pub nik: Nik,
    /// Birth date encoded in digits 7–12, century inferred from `today`.
    pub birth_date: NaiveDate,
    /// Sex encoded by the +40 rule on the day.
    pub sex: Sex,
    /// Province of first registration, `PP` and its name.
    pub province_code: String,
    /// Name of the province.
    pub province_name: String,
    /// Regency `PP.KK` and its name, when the 2025 decree still knows it.
    pub regency_code: String,
    /// Name of the regency, if known.
    pub regency_name: Option<String>,
    /// Kecamatan `PP.KK.CC`, as encoded.
    pub kecamatan_code: String,
    /// Name of the kecamatan, if the 2025 decree knows it.
    pub kecamatan_name: Option<String>,
}

/// Checks a NIK as typed (spaces, dots and dashes allowed). Returns the parsed number when no
/// error-level rule fails, plus every finding (errors and warnings) for the NIK field.
pub fn check_nik(input: &str, today: NaiveDate) -> (Option<NikInfo>, Vec<Finding>) {
    let err = |code| (None, vec![Finding::error(Field::Nik, code)]);
    let number = match parse_prefixed(input) {
        Ok(number) => number,
        Err(e) => {
            return err(match e {
                PrefixError::Length => FindingCode::NikLength,
                PrefixError::LeadingZero => FindingCode::NikLeadingZero,
                PrefixError::UnknownProvince => FindingCode::NikUnknownProvince,
                PrefixError::ZeroRegency => FindingCode::NikZeroRegency,
                PrefixError::ZeroKecamatan => FindingCode::NikZeroKecamatan,
            })
        }
    };
    let raw_day = number.num(6..8);
    let (day, sex) = match raw_day {
        1..=31 => (raw_day, Sex::Male),
        41..=71 => (raw_day - 40, Sex::Female),
        _ => return err(FindingCode::NikBadDay),
    };
    let month = number.num(8..10);
    if !(1..=12).contains(&month) {
        return err(FindingCode::NikBadMonth);
    }
    let Some(birth_date) = two_digit_year_date(number.num(10..12), month, day, today) else {
        return err(FindingCode::NikBadDate);
    };
    if birth_date > today {
        return err(FindingCode::NikFutureDate);
    }
    if number.num(12..16) == 0 {
        return err(FindingCode::NikZeroSerial);
    }

    let mut findings = Vec::new();
    if number.kecamatan_name.is_none() {
        findings.push(Finding::warning(
            Field::Nik,
            FindingCode::NikUnknownKecamatan,
        ));
    }
    let info = NikInfo {
        nik: Nik(number.digits),
        birth_date,
        sex,
        province_code: number.province_code,
        province_name: number.province_name.to_string(),
        regency_code: number.regency_code,
        regency_name: number.regency_name.map(str::to_string),
        kecamatan_code: number.kecamatan_code,
        kecamatan_name: number.kecamatan_name.map(str::to_string),
    };
    (Some(info), findings)
}

/// Reads a 2-digit year as this century when it is not after `today`'s year, else the last one
/// (lokal-id's rule); `None` when day/month/year is not a calendar date.
pub(crate) fn two_digit_year_date(
    yy: u32,
    month: u32,
    day: u32,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let yy = yy as i32;
    let century = if yy <= today.year() % 100 { 2000 } else { 1900 };
    NaiveDate::from_ymd_opt(century + yy, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingCode::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// One line per case: input, expected error (None = valid), expected warnings.
    fn check(input: &str, expected: Option<FindingCode>, warnings: &[FindingCode]) {
        let (info, findings) = check_nik(input, today());
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::Severity::Error)
            .map(|f| f.code)
            .collect();
        let warns: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::Severity::Warning)
            .map(|f| f.code)
            .collect();
        assert_eq!(errors.first().copied(), expected, "errors for {input}");
        assert_eq!(info.is_some(), expected.is_none(), "parsed for {input}");
        assert_eq!(warns, warnings, "warnings for {input}");
    }

    #[test]
    fn domain_md_invalid_examples() {
        check("327101650493000", Some(NikLength), &[]);
        check("0171011204900001", Some(NikLeadingZero), &[]);
        check("1001011204900001", Some(NikUnknownProvince), &[]);
        check("3200001204900001", Some(NikZeroRegency), &[]);
        check("3271013504900001", Some(NikBadDay), &[]);
        check("3271015313900001", Some(NikBadMonth), &[]);
        check("3271013102900001", Some(NikBadDate), &[]);
        check("3271012902010001", Some(NikBadDate), &[]);
        check("3271011204900000", Some(NikZeroSerial), &[]);
    }

    #[test]
    fn more_rules() {
        check("", Some(NikLength), &[]);
        check("32710112049000011", Some(NikLength), &[]);
        check("327101120490000a", Some(NikLength), &[]);
        check("3271001204900001", Some(NikZeroKecamatan), &[]);
        check("3271017204900001", Some(NikBadDay), &[]);
        check("3271014004900001", Some(NikBadDay), &[]);
        check("3271010000900001", Some(NikBadDay), &[]);
        check("3271011200900001", Some(NikBadMonth), &[]);
        // 2 Dec 2026 is after "today": the century rule makes it 2026, which is in the future.
        check("3271010212260001", Some(NikFutureDate), &[]);
        // 29 Feb 2000 and 2024 exist.
        check("3271012902000001", None, &[]);
        check("3271016902240001", None, &[]);
    }

    #[test]
    fn valid_numbers_parse_and_warn() {
        check("3271011204900001", None, &[]);
        check("32 71 01 120490 0001", None, &[]);
        check("3271.0112.0490.0001", None, &[]);
        check("3271-01-120490-0001", None, &[]);
        // Kecamatan 99 of Kota Bogor does not exist in 2025: a warning, not an error.
        check("3271991204900001", None, &[NikUnknownKecamatan]);
        // A regency the decree does not know is also only a warning.
        check("7369011204900001", None, &[NikUnknownKecamatan]);
    }

    #[test]
    fn decodes_sex_century_and_names() {
        let (info, _) = check_nik("7315015507050003", today());
        let info = info.unwrap();
        assert_eq!(info.sex, Sex::Female);
        assert_eq!(
            info.birth_date,
            NaiveDate::from_ymd_opt(2005, 7, 15).unwrap()
        );
        assert_eq!(info.province_name, "Sulawesi Selatan");
        assert_eq!(info.regency_name.as_deref(), Some("Kabupaten Pinrang"));
        assert_eq!(info.kecamatan_name.as_deref(), Some("Mattiro Sompe"));

        let (info, _) = check_nik("3271011204900001", today());
        let info = info.unwrap();
        assert_eq!(info.sex, Sex::Male);
        assert_eq!(
            info.birth_date,
            NaiveDate::from_ymd_opt(1990, 4, 12).unwrap()
        );
        // yy = current yy belongs to this century.
        let (info, _) = check_nik("3271010101260001", today());
        assert_eq!(info.unwrap().birth_date.year(), 2026);
        let (info, _) = check_nik("3271010101270001", today());
        assert_eq!(info.unwrap().birth_date.year(), 1927);
    }
}
