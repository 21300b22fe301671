//! Working days for issuance SLAs (DOMAIN.md §3, §8): a district promises "n hari kerja", so the
//! receipt's expected completion date must skip weekends, national holidays (hari libur nasional)
//! and the government's collective leave days (cuti bersama).
//!
//! The holidays are **data**, one JSON file per year under `assets/holidays/` (see its README),
//! compiled in with `include_str!`. Architecture invariant: no IO and no clock; the receipt date is
//! always a parameter.
//!
//! Counting rule (Standar Pelayanan practice): the day the application is received does not count;
//! working day 1 is the first working day *after* the receipt day. An SLA of 0 ("selesai di
//! tempat") finishes on the receipt day itself if that is a working day, otherwise on the next
//! working day. A date in a year without a data file is never guessed at:
//! [`HolidayCalendar::add_working_days`] fails with [`CalendarError::NoDataForYear`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The national yearly files compiled into the binary, so a district can combine them with its own.
pub const NATIONAL_FILES: &[&str] = &[
    include_str!("../../../assets/holidays/id-2026.json"),
    include_str!("../../../assets/holidays/id-2027.json"),
];

/// Why a day is not worked, because cuti bersama is leave, not a public holiday, and a receipt may say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// A national public holiday (hari libur nasional) set by the yearly SKB 3 Menteri.
    LiburNasional,
    /// A collective leave day (cuti bersama) set by the same SKB; government offices are closed.
    CutiBersama,
}

/// One non-working day from a data file, kept whole so screens can name it in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// The calendar day (no time zone: holidays are whole local days).
    pub date: NaiveDate,
    /// Its name in Bahasa Indonesia, as the decree writes it, for residents.
    pub name_id: String,
    /// Its name in English, for the English UI.
    pub name_en: String,
    /// Public holiday or collective leave.
    pub kind: HolidayKind,
}

/// Everything that can go wrong loading files or computing a date, so callers can branch on it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    /// The file is not JSON of the documented shape (missing field, unknown kind, …).
    #[error("holiday file #{file}: not a valid holiday file: {message}")]
    Json {
        /// Position of the file in the list given to the loader (0-based).
        file: usize,
        /// serde_json's description, with line and column.
        message: String,
    },
    /// A `date` is not a real `YYYY-MM-DD` date.
    #[error("holiday file #{file}: {value:?} is not a valid YYYY-MM-DD date")]
    BadDate {
        /// Position of the file in the list given to the loader (0-based).
        file: usize,
        /// The text that failed to parse.
        value: String,
    },
    /// A date belongs to another year than the file's `year`, which usually means a copy-paste slip.
    #[error("holiday file #{file} is for {year}, but lists {date} from another year")]
    DateOutsideYear {
        /// Position of the file in the list given to the loader (0-based).
        file: usize,
        /// The file's declared year.
        year: i32,
        /// The offending date.
        date: NaiveDate,
    },
    /// The same date is listed twice (in one file or across the files combined).
    #[error("holiday file #{file}: {date} is listed more than once")]
    DuplicateDate {
        /// Position of the file holding the second occurrence (0-based).
        file: usize,
        /// The repeated date.
        date: NaiveDate,
    },
    /// A name is empty or only spaces, which would print a blank line on a receipt.
    #[error("holiday file #{file}: {date} has an empty {field}")]
    EmptyName {
        /// Position of the file in the list given to the loader (0-based).
        file: usize,
        /// The entry's date.
        date: NaiveDate,
        /// `name_id` or `name_en`.
        field: &'static str,
    },
    /// The computation reached a year with no holiday file; add `assets/holidays/id-YYYY.json`.
    #[error("no holiday data for {0}: add that year's holiday file before promising dates in it")]
    NoDataForYear(i32),
    /// The date arithmetic left chrono's range (only for absurd SLAs).
    #[error("date out of range")]
    DateOutOfRange,
}

/// A set of non-working days built from yearly files, the one place SLA dates are computed.
#[derive(Debug, Clone, Default)]
pub struct HolidayCalendar {
    holidays: BTreeMap<NaiveDate, Holiday>,
    years: BTreeMap<i32, bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    year: i32,
    #[allow(dead_code)]
    source: String,
    verified: bool,
    holidays: Vec<EntryJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    date: String,
    name_id: String,
    name_en: String,
    kind: HolidayKind,
}

impl HolidayCalendar {
    /// The compiled-in national calendar, parsed once; never panics (the files are checked by tests,
    /// and if they were broken every date would fail with `NoDataForYear` instead of ignoring holidays).
    pub fn national() -> &'static HolidayCalendar {
        static NATIONAL: OnceLock<HolidayCalendar> = OnceLock::new();
        NATIONAL.get_or_init(|| Self::from_json_files(NATIONAL_FILES).unwrap_or_default())
    }

    /// Builds a calendar from yearly files (e.g. [`NATIONAL_FILES`] plus a district's own file),
    /// rejecting any file that is malformed, mixes years, repeats a date or has an empty name.
    pub fn from_json_files(files: &[&str]) -> Result<HolidayCalendar, CalendarError> {
        let mut cal = HolidayCalendar::default();
        for (file, text) in files.iter().enumerate() {
            let parsed: FileJson = serde_json::from_str(text).map_err(|e| CalendarError::Json {
                file,
                message: e.to_string(),
            })?;
            for entry in parsed.holidays {
                let date = NaiveDate::parse_from_str(&entry.date, "%Y-%m-%d")
                    .ok()
                    .filter(|d| d.format("%Y-%m-%d").to_string() == entry.date)
                    .ok_or_else(|| CalendarError::BadDate {
                        file,
                        value: entry.date.clone(),
                    })?;
                if date.year() != parsed.year {
                    return Err(CalendarError::DateOutsideYear {
                        file,
                        year: parsed.year,
                        date,
                    });
                }
                for (field, value) in [("name_id", &entry.name_id), ("name_en", &entry.name_en)] {
                    if value.trim().is_empty() {
                        return Err(CalendarError::EmptyName { file, date, field });
                    }
                }
                if cal.holidays.contains_key(&date) {
                    return Err(CalendarError::DuplicateDate { file, date });
                }
                cal.holidays.insert(
                    date,
                    Holiday {
                        date,
                        name_id: entry.name_id,
                        name_en: entry.name_en,
                        kind: entry.kind,
                    },
                );
            }
            // A year is only as verified as the least verified file covering it.
            let verified = cal.years.entry(parsed.year).or_insert(true);
            *verified &= parsed.verified;
        }
        Ok(cal)
    }

    /// Whether the office works on `d` (Monday–Friday and not a holiday or cuti bersama); a year
    /// without data only skips weekends here, which is why SLA dates go through `add_working_days`.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains_key(&d)
    }

    /// The holiday or cuti bersama on `d`, if any, so a screen can say why a day is skipped.
    pub fn holiday(&self, d: NaiveDate) -> Option<&Holiday> {
        self.holidays.get(&d)
    }

    /// The expected completion date of an application received on `start` with an SLA of `n`
    /// working days: the n-th working day after `start` (the receipt day does not count); for
    /// `n == 0`, `start` itself if it is a working day, else the next working day. Fails with
    /// `NoDataForYear` as soon as it must judge a day in a year without a holiday file.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = start;
        let mut remaining = n;
        if n == 0 {
            self.require_year(day.year())?;
            if self.is_working_day(day) {
                return Ok(day);
            }
            remaining = 1;
        }
        while remaining > 0 {
            day = day.succ_opt().ok_or(CalendarError::DateOutOfRange)?;
            self.require_year(day.year())?;
            if self.is_working_day(day) {
                remaining -= 1;
            }
        }
        Ok(day)
    }

    /// The years that have holiday data, ascending, so the app can warn before a year runs out.
    pub fn covered_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// Whether a year's data was checked against the decree (`None` if the year has no data), so a
    /// receipt can mark a date computed from unconfirmed data as an estimate.
    pub fn is_verified(&self, year: i32) -> Option<bool> {
        self.years.get(&year).copied()
    }

    fn require_year(&self, year: i32) -> Result<(), CalendarError> {
        if self.years.contains_key(&year) {
            Ok(())
        } else {
            Err(CalendarError::NoDataForYear(year))
        }
    }

    /// The holidays of one year in date order, for a settings screen listing them.
    pub fn holidays_in(&self, year: i32) -> impl Iterator<Item = &Holiday> {
        self.holidays
            .values()
            .filter(move |h| h.date.year() == year)
    }
}

#[cfg(test)]
mod tests;
