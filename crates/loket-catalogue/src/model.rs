//! The catalogue's types. Those that appear in the JSON exactly as they are (documents, fields,
//! rules) are deserialised directly; services and requirements are resolved from ids by
//! `crate::load`, so a `Service` carries everything its checklist needs.

use loket_domain::Lang;
use serde::{Deserialize, Serialize};

/// Picks the Indonesian or English text of a pair stored side by side in the data.
pub(crate) fn pick<'a>(lang: Lang, id: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

/// A validated catalogue: every id unique, every reference resolved, every service with a legal
/// basis and an SLA. Only `crate::parse_catalogue` makes one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalogue {
    pub(crate) version: String,
    pub(crate) documents: Vec<Document>,
    pub(crate) applicant_fields: Vec<FormField>,
    pub(crate) services: Vec<Service>,
    pub(crate) scan_retention_days: Option<u32>,
}

impl Catalogue {
    /// The data version (e.g. "2026.11.1") stored on every application captured under it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Days a laptop keeps scans the back office already holds (UU 27/2022 data minimisation),
    /// when the district set it; the laptop's default applies otherwise.
    pub fn scan_retention_days(&self) -> Option<u32> {
        self.scan_retention_days
    }

    /// The service with this stable code, if the catalogue offers it.
    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    /// Every service, in the order the catalogue lists them (the order the UI shows).
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Every document or check a requirement can ask for, so the UI can label a scan.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// The applicant's identity fields, asked on every service before the service's own fields.
    pub fn applicant_fields(&self) -> &[FormField] {
        &self.applicant_fields
    }
}

/// Whether the operator attaches a scan for a document or only ticks that a check happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A paper the resident brings; attached as a scan of the original.
    Scan,
    /// Something that happens in person (biometric recording, face match); ticked, not scanned.
    Check,
}

/// One paper (or in-person check) that can satisfy part of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Stable id; the provided set holds it, or `id#1`, `id#2`… when several are needed.
    pub id: String,
    /// Name in Bahasa Indonesia, as it appears inside a sentence.
    pub label_id: String,
    /// Name in English, singular.
    pub label_en: String,
    /// English plural, for documents needed more than once (Indonesian does not inflect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plural_en: Option<String>,
    /// Scan or check.
    pub kind: DocumentKind,
}

impl Document {
    /// The name in the reader's language.
    pub fn label(&self, lang: Lang) -> &str {
        pick(lang, &self.label_id, &self.label_en)
    }
}

/// How a form field is entered and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A calendar date, written `YYYY-MM-DD` in the form map.
    Date,
    /// A NIK, checked with `loket_domain::check_nik`.
    Nik,
    /// A Nomor KK, checked with `loket_domain::check_nomor_kk`.
    NomorKk,
    /// One of the field's `options`, stored by its `value`.
    Select,
    /// A whole number.
    Number,
    /// A person's name, checked with `loket_domain::check_person_name` (Permendagri 73/2022).
    PersonName,
    /// A phone number, normalised to `08…`.
    Phone,
    /// An e-mail address.
    Email,
    /// A 10-digit desa/kelurahan code of the 2025 decree.
    RegionCode,
}

/// One choice of a select field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    /// Stable value stored in the form map.
    pub value: String,
    /// Text in Bahasa Indonesia.
    pub label_id: String,
    /// Text in English.
    pub label_en: String,
}

/// One input of a service's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// Stable key of the form map; unique across the applicant's and the service's fields.
    pub id: String,
    /// Label in Bahasa Indonesia.
    pub label_id: String,
    /// Label in English.
    pub label_en: String,
    /// How it is entered and checked.
    pub kind: FieldKind,
    /// Whether the application cannot be saved without it.
    pub required: bool,
    /// The choices of a select field; empty for every other kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
}

impl FormField {
    /// The label in the reader's language.
    pub fn label(&self, lang: Lang) -> &str {
        pick(lang, &self.label_id, &self.label_en)
    }
}

/// A service of DOMAIN.md §3 with everything the front office needs to take an application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// Stable snake_case code stored with every application; never renamed.
    pub code: String,
    /// Name in Bahasa Indonesia.
    pub name_id: String,
    /// Name in English.
    pub name_en: String,
    /// The regulation the service and its persyaratan rest on, cited as in DOMAIN.md.
    pub legal_basis: String,
    /// Default days to completion; districts set their own Standar Pelayanan and may override it.
    pub sla_working_days: u32,
    /// Where the default SLA comes from, so a district knows what it is overriding.
    pub sla_source: String,
    /// Caveats for developers and districts (scope, unverified points).
    pub notes: Option<String>,
    /// The service's own fields, asked after the applicant's identity.
    pub fields: Vec<FormField>,
    /// What must be provided, each with its alternatives.
    pub requirements: Vec<Requirement>,
    /// Soft rules: they warn, never block.
    pub rules: Vec<Rule>,
    /// Papers only a soft rule asks for, offered as optional attachments (one each).
    pub rule_documents: Vec<Document>,
}

impl Service {
    /// The name in the reader's language.
    pub fn name(&self, lang: Lang) -> &str {
        pick(lang, &self.name_id, &self.name_en)
    }
}

/// One persyaratan, satisfied when every document of at least one alternative is provided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// Stable id.
    pub id: String,
    /// Label in Bahasa Indonesia.
    pub label_id: String,
    /// Label in English.
    pub label_en: String,
    /// The ways to satisfy it; each alternative is a set of documents that are all needed.
    pub alternatives: Vec<Vec<DocumentNeed>>,
}

/// A document inside an alternative, with how many are needed (e.g. 2 witnesses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentNeed {
    /// The document, resolved from its id.
    pub document: Document,
    /// How many distinct ones (`id#1`, `id#2`…) are needed; at least 1.
    pub count: u32,
}

/// A soft rule, from a closed set of kinds the code evaluates; the data only picks the kind and
/// its parameters, so a published catalogue can never run arbitrary logic on a village laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Warns when the date in `field` is more than `days` calendar days before today (late
    /// reporting).
    DaysSinceFieldOver {
        /// A date field.
        field: String,
        /// The legal reporting period.
        days: u32,
        /// Warning in Bahasa Indonesia.
        message_id: String,
        /// Warning in English.
        message_en: String,
    },
    /// Warns when the age from the date in `field` is under `years`, unless `unless_field`
    /// holds one of `unless_values` (e.g. under 17 but married).
    AgeUnderUnless {
        /// A date field (a birth date).
        field: String,
        /// The age limit in full years.
        years: u32,
        /// A select field that lifts the limit.
        unless_field: String,
        /// The values of `unless_field` that lift it.
        unless_values: Vec<String>,
        /// Warning in Bahasa Indonesia.
        message_id: String,
        /// Warning in English.
        message_en: String,
    },
    /// Warns when `field` holds one of `values` and none of `documents` is provided.
    DocumentNeededWhenField {
        /// A select field.
        field: String,
        /// The values that call for a document.
        values: Vec<String>,
        /// Any one of these satisfies the rule.
        documents: Vec<String>,
        /// Warning in Bahasa Indonesia.
        message_id: String,
        /// Warning in English.
        message_en: String,
    },
    /// Warns when the age from the date in `field` is in `[age_from, age_under)` and none of
    /// `documents` is provided; at least one bound is set.
    DocumentNeededWhenAge {
        /// A date field (a birth date).
        field: String,
        /// Lower bound in full years, inclusive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        age_from: Option<u32>,
        /// Upper bound in full years, exclusive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        age_under: Option<u32>,
        /// Any one of these satisfies the rule.
        documents: Vec<String>,
        /// Warning in Bahasa Indonesia.
        message_id: String,
        /// Warning in English.
        message_en: String,
    },
}

impl Rule {
    /// The form field the warning belongs to, so the UI can show it beside that field.
    pub fn field(&self) -> &str {
        match self {
            Rule::DaysSinceFieldOver { field, .. }
            | Rule::AgeUnderUnless { field, .. }
            | Rule::DocumentNeededWhenField { field, .. }
            | Rule::DocumentNeededWhenAge { field, .. } => field,
        }
    }

    /// The warning text in both languages.
    pub fn messages(&self) -> (&str, &str) {
        match self {
            Rule::DaysSinceFieldOver {
                message_id,
                message_en,
                ..
            }
            | Rule::AgeUnderUnless {
                message_id,
                message_en,
                ..
            }
            | Rule::DocumentNeededWhenField {
                message_id,
                message_en,
                ..
            }
            | Rule::DocumentNeededWhenAge {
                message_id,
                message_en,
                ..
            } => (message_id, message_en),
        }
    }
}
