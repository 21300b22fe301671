//! Indonesian date formatting, so printed dates read "22 November 2026" regardless of locale.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime, Timelike as _};

const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// Formats a date the way Indonesian official letters do: "22 November 2026".
pub fn format_date_id(d: NaiveDate) -> String {
    format!(
        "{} {} {}",
        d.day(),
        MONTHS_ID[d.month0() as usize],
        d.year()
    )
}

/// Formats a local date and time as "22 November 2026, pukul 09.05" (Indonesian style).
pub fn format_datetime_id(dt: NaiveDateTime) -> String {
    format!(
        "{}, pukul {:02}.{:02}",
        format_date_id(dt.date()),
        dt.hour(),
        dt.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_dates() {
        let cases = [
            ((2026, 11, 22), "22 November 2026"),
            ((1990, 2, 3), "3 Februari 1990"),
            ((2000, 8, 17), "17 Agustus 2000"),
            ((2024, 5, 31), "31 Mei 2024"),
        ];
        for ((y, m, d), want) in cases {
            assert_eq!(
                format_date_id(NaiveDate::from_ymd_opt(y, m, d).unwrap()),
                want
            );
        }
        let dt = NaiveDate::from_ymd_opt(2026, 1, 5)
            .unwrap()
            .and_hms_opt(9, 5, 0)
            .unwrap();
        assert_eq!(format_datetime_id(dt), "5 Januari 2026, pukul 09.05");
    }
}
