//! Loket's domain: the Indonesian rules a village front office applies before anything is stored.
//!
//! Architecture invariant: this crate does no IO and reads no clock. "Today" is always a parameter,
//! and the region table is compiled in, so every rule is reproducible in a test.

mod application;
mod i18n;
mod name;
mod nik;
mod region;
mod tracking;

pub use application::{
    validate_ktp_el_baru, ApplicationStatus, KtpElBaru, KtpElBaruForm, Report, ServiceCode, Sex,
};
pub use i18n::{Field, Finding, FindingCode, Lang, Severity};
pub use name::check_person_name;
pub use nik::{check_nik, Nik, NikInfo};
pub use region::{region_name, RegionCode, RegionError, REGION_DATA_VERSION};
pub use tracking::{TrackingNumber, TrackingNumberError};

/// Indonesian month names, because every printed date in Loket is written the Indonesian way.
pub const MONTHS_ID: [&str; 12] = [
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

/// Formats a date as "22 November 2026", the form used on receipts and documents.
pub fn format_date_id(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "{} {} {}",
        date.day(),
        MONTHS_ID[date.month0() as usize],
        date.year()
    )
}
