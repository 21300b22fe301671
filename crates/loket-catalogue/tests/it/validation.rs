use loket_catalogue::{parse_catalogue, CatalogueError, EMBEDDED_CATALOGUE_JSON};
use serde_json::{json, Value};

/// A small valid catalogue to break in one place per test.
fn minimal() -> Value {
    json!({
        "schema": 1,
        "version": "2026.11.1",
        "documents": [
            { "id": "kk", "label_id": "KK", "label_en": "Family card", "kind": "scan" },
            { "id": "witness", "label_id": "saksi", "label_en": "witness",
              "plural_en": "witnesses", "kind": "scan" }
        ],
        "requirements": [
            { "id": "kk", "label_id": "KK", "label_en": "Family card",
              "alternatives": [[{ "document": "kk" }], [{ "document": "witness", "count": 2 }]] }
        ],
        "applicant_fields": [
            { "id": "birth_date", "label_id": "Tanggal lahir", "label_en": "Date of birth",
              "kind": "date", "required": true }
        ],
        "services": [
            { "code": "ktp_el_baru", "name_id": "KTP-el baru", "name_en": "New e-ID card",
              "legal_basis": "Perpres 96/2018 Ps 14–15", "sla_working_days": 14,
              "sla_source": "test", "fields": [], "requirements": ["kk"],
              "rules": [{ "kind": "days_since_field_over", "field": "birth_date", "days": 60,
                          "message_id": "x", "message_en": "x" }] }
        ]
    })
}

fn parse(value: &Value) -> Result<loket_catalogue::Catalogue, CatalogueError> {
    parse_catalogue(&value.to_string())
}

/// Applies one edit to the minimal catalogue and returns the error text.
fn broken(edit: impl FnOnce(&mut Value)) -> String {
    let mut value = minimal();
    edit(&mut value);
    parse(&value)
        .expect_err("the edit breaks the catalogue")
        .to_string()
}

#[test]
fn the_minimal_catalogue_is_valid() {
    let cat = parse(&minimal()).unwrap();
    assert_eq!(cat.version(), "2026.11.1");
    assert!(cat.service("ktp_el_baru").is_some());
    assert!(cat.service("kia").is_none());
}

/// One line per broken invariant: the edit and a phrase the error must contain.
#[test]
fn broken_catalogues_are_refused_with_a_clear_error() {
    type Edit = fn(&mut Value);
    let cases: &[(Edit, &str)] = &[
        (
            |v| v["documents"][1]["id"] = json!("kk"),
            "duplicate document id `kk`",
        ),
        (
            |v| {
                let svc = v["services"][0].clone();
                v["services"].as_array_mut().unwrap().push(svc);
            },
            "duplicate service id `ktp_el_baru`",
        ),
        (
            |v| {
                let req = v["requirements"][0].clone();
                v["requirements"].as_array_mut().unwrap().push(req);
            },
            "duplicate requirement id `kk`",
        ),
        (
            |v| v["services"][0]["requirements"] = json!(["kk", "akta"]),
            "service `ktp_el_baru` refers to unknown requirement `akta`",
        ),
        (
            |v| v["services"][0]["requirements"] = json!(["kk", "kk"]),
            "duplicate requirement id",
        ),
        (
            |v| v["requirements"][0]["alternatives"][0][0]["document"] = json!("paspor"),
            "requirement `kk` refers to unknown document `paspor`",
        ),
        (
            |v| v["services"][0]["legal_basis"] = json!("  "),
            "service `ktp_el_baru` has no legal basis",
        ),
        (
            |v| {
                v["services"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("legal_basis");
            },
            "missing field `legal_basis`",
        ),
        (
            |v| v["services"][0]["sla_working_days"] = json!(0),
            "SLA of 0 working days",
        ),
        (
            |v| v["services"][0]["sla_working_days"] = json!(-1),
            "invalid value",
        ),
        (
            |v| v["services"][0]["rules"][0]["field"] = json!("death_date"),
            "refers to unknown field `death_date`",
        ),
        (
            |v| v["services"][0]["rules"][0]["kind"] = json!("run_script"),
            "unknown variant `run_script`",
        ),
        (
            |v| v["services"][0]["rules"][0]["extra"] = json!(1),
            "unknown field `extra`",
        ),
        (
            |v| v["services"][0]["colour"] = json!("red"),
            "unknown field `colour`",
        ),
        (|v| v["extra"] = json!(true), "unknown field `extra`"),
        (|v| v["schema"] = json!(2), "schema 2 is not supported"),
        (|v| v["version"] = json!(""), "version is empty"),
        (
            |v| v["services"][0]["code"] = json!("KTP-el"),
            "lowercase snake_case",
        ),
        (
            |v| v["requirements"][0]["alternatives"] = json!([]),
            "at least one alternative",
        ),
        (
            |v| v["requirements"][0]["alternatives"][0] = json!([]),
            "alternative cannot be empty",
        ),
        (
            |v| v["requirements"][0]["alternatives"][1][0]["count"] = json!(0),
            "count 0",
        ),
        (
            |v| {
                v["services"][0]["fields"] = json!([{ "id": "birth_date", "label_id": "a",
            "label_en": "a", "kind": "date", "required": true }])
            },
            "duplicate field id `birth_date`",
        ),
        (
            |v| {
                v["services"][0]["fields"] = json!([{ "id": "status", "label_id": "a",
            "label_en": "a", "kind": "select", "required": true }])
            },
            "a select field needs options",
        ),
        (
            |v| v["applicant_fields"][0]["kind"] = json!("text"),
            "must be of kind Date",
        ),
        (|v| v["services"] = json!([]), "offers no service"),
    ];
    for (i, (edit, phrase)) in cases.iter().enumerate() {
        let error = broken(edit);
        assert!(
            error.contains(phrase),
            "case {i}: `{error}` lacks `{phrase}`"
        );
    }
}

#[test]
fn errors_are_typed_for_callers() {
    let mut v = minimal();
    v["services"][0]["requirements"] = json!(["nope"]);
    assert!(matches!(
        parse(&v),
        Err(CatalogueError::UnknownReference {
            kind: "requirement",
            ..
        })
    ));
    let mut v = minimal();
    v["schema"] = json!(7);
    assert!(matches!(
        parse(&v),
        Err(CatalogueError::UnsupportedSchema { found: 7 })
    ));
    assert!(matches!(
        parse_catalogue("not json"),
        Err(CatalogueError::Json(_))
    ));
}

#[test]
fn breaking_the_real_catalogue_is_caught_too() {
    let mut v: Value = serde_json::from_str(EMBEDDED_CATALOGUE_JSON).unwrap();
    let services = v["services"].as_array_mut().unwrap();
    let kia = services.iter_mut().find(|s| s["code"] == "kia").unwrap();
    kia["legal_basis"] = json!("");
    assert!(matches!(parse(&v), Err(CatalogueError::MissingLegalBasis(code)) if code == "kia"));
}
