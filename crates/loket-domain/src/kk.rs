//! The offline Nomor KK checks of DOMAIN.md §1.3. A Nomor KK is the issuing kecamatan (6 digits),
//! the recording date (6) and a family serial (4). Like the NIK checks, they only prove that a
//! number *cannot* be a Nomor KK. The number changes after a move, a split or the head's death, so
//! it is stored per application and never derived from anything else.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::i18n::{Field, Finding, FindingCode};
use crate::nik::two_digit_year_date;
use crate::prefixed::{parse_prefixed, PrefixError};

/// A Nomor KK that passed every error-level rule; functions taking a `NomorKk` never re-check it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NomorKk(String);

impl NomorKk {
    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The issuing kecamatan as a dotted code `PP.KK.CC`, for looking up its name.
    pub fn kecamatan_code(&self) -> String {
        format!("{}.{}.{}", &self.0[0..2], &self.0[2..4], &self.0[4..6])
    }
}

impl fmt::Display for NomorKk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a Nomor KK as typed (spaces, dots and dashes allowed). Returns the number when no
/// error-level rule fails, plus every finding for the Nomor KK field.
///
/// Errors: not 16 digits, a leading 0, an unknown province, regency or kecamatan `00`, serial
/// `0000`. Warnings: a kecamatan missing from the 2025 list (codes change after pemekaran), and
/// digits 7–12 that do not read as a recording date `DDMMYY` that is not in the future. The date
/// is only a warning because DOMAIN.md §1.3 marks its format as **unverified** (one secondary
/// source); refusing a real family card over an unconfirmed rule would turn a resident away.
pub fn check_nomor_kk(input: &str, today: NaiveDate) -> (Option<NomorKk>, Vec<Finding>) {
    let err = |code| (None, vec![Finding::error(Field::NomorKk, code)]);
    let number = match parse_prefixed(input) {
        Ok(number) => number,
        Err(e) => {
            return err(match e {
                PrefixError::Length => FindingCode::KkLength,
                PrefixError::LeadingZero => FindingCode::KkLeadingZero,
                PrefixError::UnknownProvince => FindingCode::KkUnknownProvince,
                PrefixError::ZeroRegency => FindingCode::KkZeroRegency,
                PrefixError::ZeroKecamatan => FindingCode::KkZeroKecamatan,
            })
        }
    };
    if number.num(12..16) == 0 {
        return err(FindingCode::KkZeroSerial);
    }
    let mut findings = Vec::new();
    if number.kecamatan_name.is_none() {
        findings.push(Finding::warning(
            Field::NomorKk,
            FindingCode::KkUnknownKecamatan,
        ));
    }
    let recorded = two_digit_year_date(
        number.num(10..12),
        number.num(8..10),
        number.num(6..8),
        today,
    );
    if recorded.is_none_or(|date| date > today) {
        findings.push(Finding::warning(
            Field::NomorKk,
            FindingCode::KkUnusualRecordingDate,
        ));
    }
    (Some(NomorKk(number.digits)), findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use FindingCode::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// One line per case: input, expected error (None = valid), expected warnings.
    fn check(input: &str, expected: Option<FindingCode>, warnings: &[FindingCode]) {
        let (kk, findings) = check_nomor_kk(input, today());
        let codes = |severity| -> Vec<FindingCode> {
            findings
                .iter()
                .filter(|f| f.severity == severity)
                .map(|f| f.code)
                .collect()
        };
        assert!(findings.iter().all(|f| f.field == Field::NomorKk));
        assert_eq!(
            codes(Severity::Error).first().copied(),
            expected,
            "errors for {input}"
        );
        assert_eq!(kk.is_some(), expected.is_none(), "parsed for {input}");
        assert_eq!(codes(Severity::Warning), warnings, "warnings for {input}");
    }

    #[test]
    fn error_rules() {
        check("", Some(KkLength), &[]);
        check("731501150320000", Some(KkLength), &[]);
        check("73150115032000011", Some(KkLength), &[]);
        check("731501150320000a", Some(KkLength), &[]);
        check("0315011503200001", Some(KkLeadingZero), &[]);
        check("1015011503200001", Some(KkUnknownProvince), &[]);
        check("7300011503200001", Some(KkZeroRegency), &[]);
        check("7315001503200001", Some(KkZeroKecamatan), &[]);
        check("7315011503200000", Some(KkZeroSerial), &[]);
    }

    #[test]
    fn valid_numbers_and_warnings() {
        check("7315011503200001", None, &[]);
        check("7315 0115 0320 0001", None, &[]);
        check("7315.011503.20.0001", None, &[]);
        check("7315-01-150320-0001", None, &[]);
        // Recorded "today" is fine; the century rule reads 26 as 2026.
        check("7315012211260001", None, &[]);
        // Kecamatan 99 of Pinrang is not in the 2025 list: a warning only.
        check("7315991503200001", None, &[KkUnknownKecamatan]);
        // Not a date (day 45, month 13, 30 Feb), or a date after today: a warning only, because
        // the date format is unverified.
        check("7315014503200001", None, &[KkUnusualRecordingDate]);
        check("7315011513200001", None, &[KkUnusualRecordingDate]);
        check("7315013002200001", None, &[KkUnusualRecordingDate]);
        check("7315010112260001", None, &[KkUnusualRecordingDate]);
        check(
            "7399994503200001",
            None,
            &[KkUnknownKecamatan, KkUnusualRecordingDate],
        );
    }

    #[test]
    fn keeps_the_digits_and_the_kecamatan() {
        let (kk, _) = check_nomor_kk("7315 0115 0320 0001", today());
        let kk = kk.unwrap();
        assert_eq!(kk.as_str(), "7315011503200001");
        assert_eq!(kk.to_string(), "7315011503200001");
        assert_eq!(kk.kecamatan_code(), "73.15.01");
        assert_eq!(
            crate::region_name(&kk.kecamatan_code()),
            Some("Mattiro Sompe")
        );
    }
}
