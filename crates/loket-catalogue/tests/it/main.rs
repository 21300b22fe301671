//! Integration tests of the catalogue: the embedded data, checklists per service, soft rules and
//! validation of broken catalogues.

mod checklists;
mod fields;
mod rules;
mod services;
mod signed;
mod validation;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use loket_catalogue::{catalogue, Service};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn service(code: &str) -> &'static Service {
    catalogue()
        .service(code)
        .unwrap_or_else(|| panic!("service {code} is in the catalogue"))
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
