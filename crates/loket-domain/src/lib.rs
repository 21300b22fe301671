//! Loket's domain: the Indonesian rules a village front office applies before anything is stored.
//!
//! Architecture invariant: this crate does no IO and reads no clock. "Today" is always a parameter,
//! and the region table is compiled in, so every rule is reproducible in a test.

mod application;
mod i18n;
mod kk;
mod name;
mod nik;
mod prefixed;
mod region;
mod tracking;

pub use application::{
    normalise_phone, validate_applicant, Applicant, ApplicantForm, ApplicationStatus,
    BadServiceCode, ProvidedDocument, Report, ScanRef, ServiceCode, Sex,
};
pub use i18n::{Field, Finding, FindingCode, Lang, Severity};
pub use kk::{check_nomor_kk, NomorKk};
pub use name::check_person_name;
pub use nik::{check_nik, Nik, NikInfo};
pub use region::{region_name, RegionCode, RegionError, REGION_DATA_VERSION};
pub use tracking::{TrackingNumber, TrackingNumberError};
