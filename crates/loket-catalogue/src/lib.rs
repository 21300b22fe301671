//! The service catalogue as data: every Disdukcapil service of DOMAIN.md §3 with its form
//! fields, persyaratan (each satisfied by one of several sets of documents), legal basis, default
//! SLA and soft rules. The data lives in `assets/catalogue/catalogue.json` (schema documented in
//! `assets/catalogue/README.md`) so the back office can publish a newer version without a new
//! build; this crate parses, validates and evaluates it.
//!
//! Architecture invariant: no IO and no clock, like `loket-domain`. The embedded catalogue is
//! compiled in; newer ones arrive as text from the caller, and "today" is a parameter.
//!
//! Publishing: the back office signs a catalogue text with the district key (`sign_catalogue`)
//! and a village takes it only after `verify_signed_catalogue` against its trust list and
//! `is_newer_version` against the one it has.

mod application;
mod checklist;
mod display;
mod fields;
mod load;
mod model;
mod signed;

use std::sync::OnceLock;

pub use application::{ApplicationCheck, SlotInput, SlotProblem};
pub use checklist::{Checklist, DocumentStatus, RequirementStatus, RuleWarning};
pub use fields::{FieldFinding, FieldReport, MAX_TEXT_CHARS};
pub use load::{CatalogueError, SUPPORTED_SCHEMA};
pub use model::{
    Catalogue, Document, DocumentKind, DocumentNeed, FieldKind, FormField, Requirement, Rule,
    SelectOption, Service,
};
pub use signed::{
    is_newer_version, parse_version, sign_catalogue, verify_signed_catalogue,
    CatalogueSignatureError, SignedCatalogue, CATALOGUE_SIGNING_CONTEXT, SIGNED_CATALOGUE_FORMAT,
};

/// The catalogue this build ships, as JSON, for publishing or comparing with a newer one.
pub const EMBEDDED_CATALOGUE_JSON: &str = include_str!("../../../assets/catalogue/catalogue.json");

/// The embedded catalogue, parsed and validated once. Its validity is a test of this crate, so a
/// failure here is a build defect, not a runtime condition.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        parse_catalogue(EMBEDDED_CATALOGUE_JSON).expect("the embedded catalogue is valid (tested)")
    })
}

/// Parses and validates a catalogue text, e.g. a newer one published by the back office; on an
/// error the caller keeps the catalogue it has.
pub fn parse_catalogue(json: &str) -> Result<Catalogue, CatalogueError> {
    load::parse(json)
}
