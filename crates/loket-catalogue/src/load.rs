//! Parsing and validation. The JSON is read into raw structs that mirror the file (unknown fields
//! rejected), every invariant is checked, and ids are resolved into the public types, so code
//! holding a `Catalogue` never meets a dangling reference.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::model::{
    Catalogue, Document, DocumentNeed, FieldKind, FormField, Requirement, Rule, Service,
};

/// The schema this build reads; a catalogue with another number is refused before parsing.
pub const SUPPORTED_SCHEMA: u32 = 1;

/// Why a catalogue was refused. The texts are for logs and the back office's publisher, not for
/// residents; a village keeps its previous catalogue when a new one is refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The text is not JSON of the expected shape (including unknown fields).
    #[error("catalogue JSON does not match schema {SUPPORTED_SCHEMA}: {0}")]
    Json(#[from] serde_json::Error),
    /// The file declares a schema this build does not read.
    #[error(
        "catalogue schema {found} is not supported (this build reads schema {SUPPORTED_SCHEMA})"
    )]
    UnsupportedSchema {
        /// The schema the file declares.
        found: u64,
    },
    /// Two entries of the same kind share an id.
    #[error("duplicate {kind} id `{id}`")]
    DuplicateId {
        /// "document", "requirement", "service" or "field".
        kind: &'static str,
        /// The repeated id.
        id: String,
    },
    /// An entry refers to an id that does not exist.
    #[error("{owner} refers to unknown {kind} `{id}`")]
    UnknownReference {
        /// Where the reference is, e.g. "service `kia`".
        owner: String,
        /// "document", "requirement" or "field".
        kind: &'static str,
        /// The missing id.
        id: String,
    },
    /// A service without a legal basis cannot be offered.
    #[error("service `{0}` has no legal basis")]
    MissingLegalBasis(String),
    /// A service's SLA must be at least one working day.
    #[error("service `{0}` has an SLA of 0 working days")]
    ZeroSla(String),
    /// Any other broken invariant, described in `problem`.
    #[error("{owner}: {problem}")]
    Invalid {
        /// Where the problem is.
        owner: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
struct SchemaOnly {
    schema: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[allow(dead_code)]
    schema: u64,
    version: String,
    documents: Vec<Document>,
    requirements: Vec<RawRequirement>,
    applicant_fields: Vec<FormField>,
    services: Vec<RawService>,
    #[serde(default)]
    scan_retention_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: String,
    label_id: String,
    label_en: String,
    alternatives: Vec<Vec<RawNeed>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeed {
    document: String,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    code: String,
    name_id: String,
    name_en: String,
    legal_basis: String,
    sla_working_days: u32,
    sla_source: String,
    #[serde(default)]
    notes: Option<String>,
    fields: Vec<FormField>,
    requirements: Vec<String>,
    #[serde(default)]
    rules: Vec<Rule>,
}

fn invalid(owner: impl Into<String>, problem: impl Into<String>) -> CatalogueError {
    CatalogueError::Invalid {
        owner: owner.into(),
        problem: problem.into(),
    }
}

/// Ids are lowercase snake_case so they stay stable and safe as keys everywhere.
fn check_id(kind: &'static str, id: &str) -> Result<(), CatalogueError> {
    let ok = id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            format!("{kind} `{id}`"),
            "ids are lowercase snake_case (a-z, 0-9, _), starting with a letter",
        ))
    }
}

fn check_text(owner: &str, what: &str, text: &str) -> Result<(), CatalogueError> {
    if text.trim().is_empty() {
        return Err(invalid(owner, format!("{what} is empty")));
    }
    Ok(())
}

/// Builds an id → item map, refusing duplicates and malformed ids.
fn index<'a, T>(
    kind: &'static str,
    items: impl IntoIterator<Item = &'a T>,
    id: impl Fn(&T) -> &str,
) -> Result<BTreeMap<&'a str, &'a T>, CatalogueError>
where
    T: 'a,
{
    let mut map = BTreeMap::new();
    for item in items {
        let key = id(item);
        check_id(kind, key)?;
        if map.insert(key, item).is_some() {
            return Err(CatalogueError::DuplicateId {
                kind,
                id: key.to_string(),
            });
        }
    }
    Ok(map)
}

fn check_field(field: &FormField) -> Result<(), CatalogueError> {
    let owner = format!("field `{}`", field.id);
    check_text(&owner, "label_id", &field.label_id)?;
    check_text(&owner, "label_en", &field.label_en)?;
    match (field.kind, field.options.is_empty()) {
        (FieldKind::Select, true) => Err(invalid(owner, "a select field needs options")),
        (FieldKind::Select, false) => {
            let mut seen = BTreeSet::new();
            for option in &field.options {
                if !seen.insert(option.value.as_str()) {
                    return Err(CatalogueError::DuplicateId {
                        kind: "option",
                        id: format!("{}.{}", field.id, option.value),
                    });
                }
            }
            Ok(())
        }
        (_, false) => Err(invalid(owner, "only select fields have options")),
        (_, true) => Ok(()),
    }
}

/// Parses and validates a catalogue; see `crate::parse_catalogue`.
pub(crate) fn parse(json: &str) -> Result<Catalogue, CatalogueError> {
    let SchemaOnly { schema } = serde_json::from_str(json)?;
    if schema != u64::from(SUPPORTED_SCHEMA) {
        return Err(CatalogueError::UnsupportedSchema { found: schema });
    }
    let raw: RawCatalogue = serde_json::from_str(json)?;
    check_text("catalogue", "version", &raw.version)?;

    let documents = index("document", &raw.documents, |d| &d.id)?;
    for document in &raw.documents {
        let owner = format!("document `{}`", document.id);
        check_text(&owner, "label_id", &document.label_id)?;
        check_text(&owner, "label_en", &document.label_en)?;
    }
    let document_ref = |owner: &str, id: &str| {
        documents
            .get(id)
            .copied()
            .ok_or_else(|| CatalogueError::UnknownReference {
                owner: owner.to_string(),
                kind: "document",
                id: id.to_string(),
            })
    };

    let mut requirements = BTreeMap::new();
    index("requirement", &raw.requirements, |r| &r.id)?;
    for raw_req in &raw.requirements {
        let owner = format!("requirement `{}`", raw_req.id);
        check_text(&owner, "label_id", &raw_req.label_id)?;
        check_text(&owner, "label_en", &raw_req.label_en)?;
        if raw_req.alternatives.is_empty() {
            return Err(invalid(owner, "needs at least one alternative"));
        }
        let mut alternatives = Vec::new();
        for alternative in &raw_req.alternatives {
            if alternative.is_empty() {
                return Err(invalid(owner, "an alternative cannot be empty"));
            }
            let mut needs = Vec::new();
            let mut seen = BTreeSet::new();
            for need in alternative {
                let document = document_ref(&owner, &need.document)?;
                if need.count == 0 {
                    return Err(invalid(owner, format!("`{}` has count 0", need.document)));
                }
                if !seen.insert(need.document.as_str()) {
                    return Err(invalid(
                        owner,
                        format!(
                            "`{}` appears twice in one alternative; use count",
                            need.document
                        ),
                    ));
                }
                needs.push(DocumentNeed {
                    document: document.clone(),
                    count: need.count,
                });
            }
            alternatives.push(needs);
        }
        requirements.insert(
            raw_req.id.as_str(),
            Requirement {
                id: raw_req.id.clone(),
                label_id: raw_req.label_id.clone(),
                label_en: raw_req.label_en.clone(),
                alternatives,
            },
        );
    }

    index("field", &raw.applicant_fields, |f| &f.id)?;
    for field in &raw.applicant_fields {
        check_field(field)?;
    }

    index("service", &raw.services, |s| &s.code)?;
    let mut services = Vec::new();
    for raw_service in raw.services {
        services.push(resolve_service(
            raw_service,
            &raw.applicant_fields,
            &requirements,
            &document_ref,
        )?);
    }
    if services.is_empty() {
        return Err(invalid("catalogue", "offers no service"));
    }

    if raw.scan_retention_days.is_some_and(|d| d > 3650) {
        return Err(invalid(
            "catalogue",
            "scan_retention_days must be at most 3650 (ten years)",
        ));
    }
    Ok(Catalogue {
        version: raw.version,
        documents: raw.documents,
        applicant_fields: raw.applicant_fields,
        services,
        scan_retention_days: raw.scan_retention_days,
    })
}

fn resolve_service<'a>(
    raw: RawService,
    applicant_fields: &[FormField],
    requirements: &BTreeMap<&str, Requirement>,
    document_ref: &impl Fn(&str, &str) -> Result<&'a Document, CatalogueError>,
) -> Result<Service, CatalogueError> {
    let owner = format!("service `{}`", raw.code);
    if raw.legal_basis.trim().is_empty() {
        return Err(CatalogueError::MissingLegalBasis(raw.code));
    }
    if raw.sla_working_days == 0 {
        return Err(CatalogueError::ZeroSla(raw.code));
    }
    check_text(&owner, "name_id", &raw.name_id)?;
    check_text(&owner, "name_en", &raw.name_en)?;
    check_text(&owner, "sla_source", &raw.sla_source)?;
    let fields = index("field", applicant_fields.iter().chain(&raw.fields), |f| {
        &f.id
    })?;
    for field in &raw.fields {
        check_field(field)?;
    }

    let mut resolved = Vec::new();
    let mut seen = BTreeSet::new();
    for id in &raw.requirements {
        let requirement =
            requirements
                .get(id.as_str())
                .ok_or_else(|| CatalogueError::UnknownReference {
                    owner: owner.clone(),
                    kind: "requirement",
                    id: id.clone(),
                })?;
        if !seen.insert(id.as_str()) {
            return Err(CatalogueError::DuplicateId {
                kind: "requirement",
                id: format!("{}.{id}", raw.code),
            });
        }
        resolved.push(requirement.clone());
    }

    let field_of = |id: &str, want: Option<FieldKind>| -> Result<&FormField, CatalogueError> {
        let field = fields
            .get(id)
            .copied()
            .ok_or_else(|| CatalogueError::UnknownReference {
                owner: owner.clone(),
                kind: "field",
                id: id.to_string(),
            })?;
        match want {
            Some(kind) if field.kind != kind => Err(invalid(
                &owner,
                format!("rule field `{id}` must be of kind {kind:?}"),
            )),
            _ => Ok(field),
        }
    };
    let values_of = |field: &FormField, values: &[String]| {
        for value in values {
            if !field.options.iter().any(|o| &o.value == value) {
                return Err(invalid(
                    &owner,
                    format!("`{value}` is not an option of field `{}`", field.id),
                ));
            }
        }
        Ok(())
    };
    for rule in &raw.rules {
        let (message_id, message_en) = rule.messages();
        check_text(&owner, "rule message_id", message_id)?;
        check_text(&owner, "rule message_en", message_en)?;
        match rule {
            Rule::DaysSinceFieldOver { field, days, .. } => {
                field_of(field, Some(FieldKind::Date))?;
                if *days == 0 {
                    return Err(invalid(&owner, "days_since_field_over needs days > 0"));
                }
            }
            Rule::AgeUnderUnless {
                field,
                years,
                unless_field,
                unless_values,
                ..
            } => {
                field_of(field, Some(FieldKind::Date))?;
                let unless = field_of(unless_field, Some(FieldKind::Select))?;
                values_of(unless, unless_values)?;
                if *years == 0 || unless_values.is_empty() {
                    return Err(invalid(
                        &owner,
                        "age_under_unless needs years > 0 and unless_values",
                    ));
                }
            }
            Rule::DocumentNeededWhenField {
                field,
                values,
                documents,
                ..
            } => {
                let select = field_of(field, Some(FieldKind::Select))?;
                values_of(select, values)?;
                if values.is_empty() || documents.is_empty() {
                    return Err(invalid(
                        &owner,
                        "document_needed_when_field needs values and documents",
                    ));
                }
                for document in documents {
                    document_ref(&owner, document)?;
                }
            }
            Rule::DocumentNeededWhenAge {
                field,
                age_from,
                age_under,
                documents,
                ..
            } => {
                field_of(field, Some(FieldKind::Date))?;
                let bounds_ok = match (age_from, age_under) {
                    (None, None) => false,
                    (Some(from), Some(under)) => from < under,
                    _ => true,
                };
                if !bounds_ok || documents.is_empty() {
                    return Err(invalid(
                        &owner,
                        "document_needed_when_age needs documents and age_from < age_under (at least one set)",
                    ));
                }
                for document in documents {
                    document_ref(&owner, document)?;
                }
            }
        }
    }

    // Papers a soft rule asks for (a KIA photo from age 5, a marriage dispensation) are not
    // requirements, but the operator must be able to attach them to silence the warning.
    let mut rule_documents: Vec<Document> = Vec::new();
    for rule in &raw.rules {
        if let Rule::DocumentNeededWhenField { documents, .. }
        | Rule::DocumentNeededWhenAge { documents, .. } = rule
        {
            for id in documents {
                let in_requirements = resolved
                    .iter()
                    .flat_map(|r| r.alternatives.iter().flatten())
                    .any(|need| &need.document.id == id);
                if !in_requirements && !rule_documents.iter().any(|d| &d.id == id) {
                    rule_documents.push(document_ref(&owner, id)?.clone());
                }
            }
        }
    }

    Ok(Service {
        code: raw.code,
        name_id: raw.name_id,
        name_en: raw.name_en,
        legal_basis: raw.legal_basis,
        sla_working_days: raw.sla_working_days,
        sla_source: raw.sla_source,
        notes: raw.notes,
        fields: raw.fields,
        requirements: resolved,
        rules: raw.rules,
        rule_documents,
    })
}
