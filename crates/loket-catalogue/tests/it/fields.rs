//! Service fields checked by their catalogue kind (`Service::check_fields`), and how stored
//! values read to people (`describe_fields`, `slot_label`, `service_name`).
//!
//! Each field case starts from the service's valid fields (every one filled, no finding) and
//! changes one field, so the findings seen are exactly that field's.

use std::collections::BTreeSet;

use loket_catalogue::{catalogue, FieldKind, MAX_TEXT_CHARS};
use loket_domain::{FindingCode, Lang, Severity};

use crate::services::valid_fields;
use crate::{form, service, today};

/// What checking one field gives.
#[derive(Debug, Clone, Copy)]
enum Expect<'a> {
    /// No finding; stored as this (normalised) value.
    Stored(&'a str),
    /// A warning; still stored as this value.
    Warned(FindingCode, &'a str),
    /// An error; not stored.
    Refused(FindingCode),
    /// An empty optional field: no finding, left out of `values`.
    Omitted,
}

use Expect::{Omitted, Refused, Stored, Warned};
use FindingCode::*;

/// (service, field, input, expected).
#[rustfmt::skip]
const CASES: &[(&str, &str, &str, Expect<'static>)] = &[
    // Required and optional, every kind.
    ("ktp_el_baru", "nomor_kk", "", Refused(Required)),
    ("ktp_el_baru", "nomor_kk", "   ", Refused(Required)),
    ("ktp_el_baru", "marital_status", "", Refused(Required)),
    ("akta_kematian", "death_date", "", Refused(Required)),
    ("akta_kelahiran", "mother_nik", "", Refused(Required)),
    ("akta_kelahiran", "mother_name", " ", Refused(Required)),
    ("skpwni", "destination_region_code", "", Refused(Required)),
    ("ikd_aktivasi", "email", "", Refused(Required)),
    ("ikd_aktivasi", "ikd_phone", "", Refused(Required)),
    ("pindah_datang", "skpwni_number", "\t", Refused(Required)),
    ("kk_baru", "old_nomor_kk", "", Omitted),
    ("kk_hilang_rusak", "nomor_kk", "  ", Omitted),
    ("akta_kelahiran", "child_birth_time", "", Omitted),
    ("akta_kelahiran", "birth_order", "", Omitted),
    ("akta_kelahiran", "birth_attendant", "", Omitted),
    ("akta_kelahiran", "father_nik", "", Omitted),
    ("akta_kelahiran", "father_name", "", Omitted),
    ("kk_perubahan_data", "member_nik", "", Omitted),
    ("pindah_datang", "arrival_date", "", Omitted),
    ("akta_kematian", "death_cause", " ", Omitted),
    ("skpwni", "moving_members", "", Omitted),
    // Dates: YYYY-MM-DD, a real day, not after today (2026-11-22).
    ("akta_kematian", "death_date", "2026-11-22", Stored("2026-11-22")),
    ("akta_kematian", "death_date", " 2026-11-10 ", Stored("2026-11-10")),
    ("akta_kematian", "death_date", "2026-11-23", Refused(DateFuture)),
    ("akta_kematian", "death_date", "2030-01-01", Refused(DateFuture)),
    ("akta_kematian", "death_date", "2026-02-30", Refused(DateInvalid)),
    ("akta_kematian", "death_date", "2026-13-01", Refused(DateInvalid)),
    ("akta_kematian", "death_date", "10-11-2026", Refused(DateInvalid)),
    ("akta_kematian", "death_date", "10/11/2026", Refused(DateInvalid)),
    ("akta_kematian", "death_date", "kemarin", Refused(DateInvalid)),
    ("kia", "child_birth_date", "2024-02-29", Stored("2024-02-29")),
    ("kia", "child_birth_date", "2023-02-29", Refused(DateInvalid)),
    ("pindah_datang", "arrival_date", "2026-12-01", Refused(DateFuture)),
    ("akta_perkawinan", "marriage_date", "2027-01-01", Refused(DateFuture)),
    // Selects: a value the catalogue offers, by value (not by label).
    ("ktp_el_baru", "marital_status", "kawin", Stored("kawin")),
    ("ktp_el_baru", "marital_status", " cerai_mati ", Stored("cerai_mati")),
    ("ktp_el_baru", "marital_status", "menikah", Refused(OptionInvalid)),
    ("ktp_el_baru", "marital_status", "Kawin", Refused(OptionInvalid)),
    ("akta_kelahiran", "child_sex", "male", Refused(OptionInvalid)),
    ("akta_kelahiran", "birth_attendant", "dukun", Refused(OptionInvalid)),
    ("ktp_el_hilang_rusak", "cause", "dicuri", Refused(OptionInvalid)),
    // Akta perkawinan at the Disdukcapil is for non-Muslim marriages (Muslims: KUA).
    ("akta_perkawinan", "religion", "islam", Refused(OptionInvalid)),
    ("akta_perkawinan", "religion", "khonghucu", Stored("khonghucu")),
    ("akta_perkawinan", "wife_previous_status", "kawin", Refused(OptionInvalid)),
    // Numbers: whole, not negative, stored canonically.
    ("akta_kelahiran", "birth_order", "3", Stored("3")),
    ("akta_kelahiran", "birth_order", "02", Stored("2")),
    ("akta_kelahiran", "birth_order", " 12 ", Stored("12")),
    ("akta_kelahiran", "birth_order", "dua", Refused(NumberInvalid)),
    ("akta_kelahiran", "birth_order", "-1", Refused(NumberInvalid)),
    ("akta_kelahiran", "birth_order", "2.5", Refused(NumberInvalid)),
    ("akta_kelahiran", "birth_order", "1 2", Refused(NumberInvalid)),
    // NIK fields: the NIK rules of loket-domain, stored as 16 digits.
    ("akta_kelahiran", "mother_nik", "731501550705000", Refused(NikLength)),
    ("akta_kelahiran", "mother_nik", "73150155070500031", Refused(NikLength)),
    ("akta_kelahiran", "mother_nik", "0315015507050003", Refused(NikLeadingZero)),
    ("akta_kelahiran", "mother_nik", "7315013507050003", Refused(NikBadDay)),
    ("akta_kelahiran", "mother_nik", "7315011513050003", Refused(NikBadMonth)),
    ("akta_kelahiran", "mother_nik", "7315017102050003", Refused(NikBadDate)),
    ("akta_kelahiran", "mother_nik", "7315015507050000", Refused(NikZeroSerial)),
    ("akta_kelahiran", "mother_nik", "7315 0155 0705 0003", Stored("7315015507050003")),
    ("akta_kelahiran", "father_nik", "7315.0115.0203.0005", Stored("7315011502030005")),
    ("kk_baru", "head_nik", "7315010212260001", Refused(NikFutureDate)),
    ("kk_baru", "head_nik", "7315991502030005", Warned(NikUnknownKecamatan, "7315991502030005")),
    ("kk_perubahan_data", "member_nik", "731501", Refused(NikLength)),
    ("akta_perceraian", "wife_nik", "1001011204900001", Refused(NikUnknownProvince)),
    ("kia", "child_nik", "7315015003230001", Stored("7315015003230001")),
    // Nomor KK fields: the KK rules.
    ("ktp_el_baru", "nomor_kk", "7315011203150007", Stored("7315011203150007")),
    ("ktp_el_baru", "nomor_kk", "7315 0112 0315 0007", Stored("7315011203150007")),
    ("ktp_el_baru", "nomor_kk", "731501120315000", Refused(KkLength)),
    ("ktp_el_baru", "nomor_kk", "0315011203150007", Refused(KkLeadingZero)),
    ("pindah_datang", "origin_nomor_kk", "7315011203150000", Refused(KkZeroSerial)),
    ("kk_baru", "old_nomor_kk", "7315001203150007", Refused(KkZeroKecamatan)),
    ("kia", "nomor_kk", "7315014503200001", Warned(KkUnusualRecordingDate, "7315014503200001")),
    ("akta_kelahiran", "nomor_kk", "7315991203150007", Warned(KkUnknownKecamatan, "7315991203150007")),
    // Person names: the name rules of Permendagri 73/2022, stored single-spaced.
    ("akta_kelahiran", "child_name", "  Nur   Aisyah  ", Stored("Nur Aisyah")),
    ("akta_kelahiran", "child_name", "Ahmad 2", Refused(NameDigits)),
    ("akta_kelahiran", "mother_name", "M. Yusuf", Refused(NamePunctuation)),
    ("akta_kelahiran", "mother_name", "Siti Aminah, S.H.", Refused(NamePunctuation)),
    ("kk_baru", "head_name", "Sukarno", Warned(NameSingleWord, "Sukarno")),
    ("akta_kematian", "deceased_name", "I Gusti Ayu Ngurah", Stored("I Gusti Ayu Ngurah")),
    ("akta_perkawinan", "wife_name", "Maria Magdalena Sitanggang Napitupulu Hutabarat Simanjuntak Siregar", Refused(NameTooLong)),
    // Phones: Indonesian numbers, stored 08….
    ("ikd_aktivasi", "ikd_phone", "+62 812-3456-7890", Stored("081234567890")),
    ("ikd_aktivasi", "ikd_phone", "6281234567890", Stored("081234567890")),
    ("ikd_aktivasi", "ikd_phone", "(0812) 3456.7890", Stored("081234567890")),
    ("ikd_aktivasi", "ikd_phone", "12345", Refused(PhoneInvalid)),
    ("ikd_aktivasi", "ikd_phone", "0812345abc", Refused(PhoneInvalid)),
    ("ikd_aktivasi", "ikd_phone", "0812", Refused(PhoneInvalid)),
    // E-mail: a name, an @ and a dotted domain; stored in lower case.
    ("ikd_aktivasi", "email", "Andi.Baso@Example.CO.ID", Stored("andi.baso@example.co.id")),
    ("ikd_aktivasi", "email", " andi@example.com ", Stored("andi@example.com")),
    ("ikd_aktivasi", "email", "andi@example", Refused(EmailInvalid)),
    ("ikd_aktivasi", "email", "@example.com", Refused(EmailInvalid)),
    ("ikd_aktivasi", "email", "andi.example.com", Refused(EmailInvalid)),
    ("ikd_aktivasi", "email", "andi baso@example.com", Refused(EmailInvalid)),
    ("ikd_aktivasi", "email", "andi@.example.com", Refused(EmailInvalid)),
    ("ikd_aktivasi", "email", "andi@example.com.", Refused(EmailInvalid)),
    // Region codes: a 10-digit village code of the 2025 decree.
    ("skpwni", "destination_region_code", "7315012003", Stored("7315012003")),
    ("skpwni", "destination_region_code", "73.15.01.2003", Stored("7315012003")),
    ("skpwni", "destination_region_code", "7315011001", Stored("7315011001")),
    ("skpwni", "destination_region_code", "7315019999", Refused(RegionCodeUnknown)),
    ("skpwni", "destination_region_code", "731501", Refused(RegionCodeUnknown)),
    ("skpwni", "destination_region_code", "73150120031", Refused(RegionCodeUnknown)),
    ("skpwni", "destination_region_code", "73150120O3", Refused(RegionCodeUnknown)),
    // Free text: single-spaced, at most 200 characters.
    ("skpwni", "destination_address", "  Jl.  Merdeka   10,\tMakassar ", Stored("Jl. Merdeka 10, Makassar")),
    ("pindah_datang", "skpwni_number", "SKPWNI/7371/2026/0001", Stored("SKPWNI/7371/2026/0001")),
    ("akta_kelahiran", "child_birth_time", "08:30", Stored("08:30")),
];

fn run_case(code: &str, field: &str, input: &str, expected: Expect<'_>) {
    let s = service(code);
    let kind = s
        .fields
        .iter()
        .find(|f| f.id == field)
        .unwrap_or_else(|| panic!("{code} has no field {field}"))
        .kind;
    let mut fields = valid_fields(code);
    fields.insert(field.to_string(), input.to_string());
    let report = s.check_fields(&fields, today());
    let what = format!("{code}.{field} ({kind:?}) = {input:?}");
    let found: Vec<(&str, FindingCode, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.field.as_str(), f.code, f.severity))
        .collect();
    let (findings, stored): (Vec<(&str, FindingCode, Severity)>, Option<&str>) = match expected {
        Stored(v) => (vec![], Some(v)),
        Warned(code, v) => (vec![(field, code, Severity::Warning)], Some(v)),
        Refused(code) => (vec![(field, code, Severity::Error)], None),
        Omitted => (vec![], None),
    };
    assert_eq!(found, findings, "{what}");
    assert_eq!(
        report.values.get(field).map(String::as_str),
        stored,
        "{what}"
    );
    assert_eq!(report.is_ok(), !matches!(expected, Refused(_)), "{what}");
    // Every other field is still stored.
    assert_eq!(
        report.values.len(),
        s.fields.len() - usize::from(stored.is_none()),
        "{what}"
    );
}

#[test]
fn every_field_kind_is_checked_by_its_rules() {
    let mut kinds = BTreeSet::new();
    for (code, field, input, expected) in CASES {
        run_case(code, field, input, *expected);
        kinds.insert(format!(
            "{:?}",
            service(code)
                .fields
                .iter()
                .find(|f| f.id == *field)
                .unwrap()
                .kind
        ));
    }
    // Long inputs: free text holds at most MAX_TEXT_CHARS characters (not bytes) once its
    // whitespace is collapsed; names at most 60.
    let a200 = "a".repeat(MAX_TEXT_CHARS);
    let e200 = "é".repeat(MAX_TEXT_CHARS);
    let long: &[(&str, &str, String, Expect<'_>)] = &[
        ("skpwni", "destination_address", a200.clone(), Stored(&a200)),
        (
            "skpwni",
            "destination_address",
            format!("{a200}a"),
            Refused(TextTooLong),
        ),
        ("akta_kematian", "death_place", e200.clone(), Stored(&e200)),
        (
            "akta_kematian",
            "death_place",
            format!("{e200}é"),
            Refused(TextTooLong),
        ),
        (
            "ktp_el_perubahan_data",
            "new_value",
            format!("  {a200}   "),
            Stored(&a200),
        ),
        (
            "akta_perceraian",
            "court_name",
            "x ".repeat(101),
            Refused(TextTooLong),
        ),
        ("kk_baru", "head_name", "A".repeat(61), Refused(NameTooLong)),
    ];
    for (code, field, input, expected) in long {
        run_case(code, field, input, *expected);
    }
    // Every kind a service field has in the catalogue is covered.
    let used: BTreeSet<String> = catalogue()
        .services()
        .iter()
        .flat_map(|s| s.fields.iter().map(|f| format!("{:?}", f.kind)))
        .collect();
    assert_eq!(kinds, used);
    assert_eq!(used.len(), 10);
    assert_eq!(CASES.len(), 104);
}

#[test]
fn an_empty_form_reports_every_required_field_in_order() {
    for s in catalogue().services() {
        let report = s.check_fields(&form(&[]), today());
        let required: Vec<&str> = s
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.id.as_str())
            .collect();
        let found: Vec<&str> = report.findings.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(found, required, "{}", s.code);
        assert!(report
            .findings
            .iter()
            .all(|f| f.code == Required && f.severity == Severity::Error));
        assert!(report.values.is_empty(), "{}", s.code);
        assert_eq!(report.is_ok(), required.is_empty(), "{}", s.code);
    }
    // Every service asks for something.
    assert!(catalogue()
        .services()
        .iter()
        .all(|s| s.fields.iter().any(|f| f.required)));
}

#[test]
fn findings_come_in_field_order_and_unknown_keys_are_ignored() {
    let s = service("akta_kelahiran");
    let mut fields = valid_fields("akta_kelahiran");
    fields.insert("nomor_kk".into(), "123".into());
    fields.insert("child_name".into(), "Anak 1".into());
    fields.insert("birth_order".into(), "x".into());
    fields.insert("child_birth_date".into(), "2027-01-01".into());
    // The applicant's keys and stray ones share the map without effect.
    fields.insert("full_name".into(), "Budi 3".into());
    fields.insert("something_else".into(), "!".into());
    let report = s.check_fields(&fields, today());
    let found: Vec<(&str, FindingCode)> = report
        .findings
        .iter()
        .map(|f| (f.field.as_str(), f.code))
        .collect();
    assert_eq!(
        found,
        [
            ("child_name", NameDigits),
            ("child_birth_date", DateFuture),
            ("birth_order", NumberInvalid),
            ("nomor_kk", KkLength),
        ]
    );
    assert!(!report.values.contains_key("full_name"));
    assert!(!report.values.contains_key("something_else"));
    // The same rules reach the whole-application check, where they block.
    let c = s.check_application(&crate::services::applicant(), &fields, &[], today());
    assert_eq!(c.fields, report);
    assert!(!c.can_submit());
}

#[test]
fn every_field_has_a_kind_the_form_knows_and_selects_have_options() {
    for s in catalogue().services() {
        for f in &s.fields {
            assert!(!f.label(Lang::Id).is_empty() && !f.label(Lang::En).is_empty());
            assert_eq!(
                f.kind == FieldKind::Select,
                !f.options.is_empty(),
                "{}.{}",
                s.code,
                f.id
            );
        }
    }
}

#[test]
fn describe_fields_reads_like_the_papers() {
    let s = service("akta_kelahiran");
    let mut fields = valid_fields("akta_kelahiran");
    fields.remove("father_nik");
    fields.remove("father_name");
    let values = s.check_fields(&fields, today()).values;
    let shown = s.describe_fields(&values, Lang::Id);
    let expected: Vec<(String, String)> = [
        ("Nama anak", "Muhammad Rizky"),
        ("Jenis kelamin anak", "Laki-laki"),
        ("Tanggal lahir anak", "01-11-2026"),
        ("Jam lahir (JJ:MM)", "08:30"),
        ("Tempat lahir anak", "Pinrang"),
        ("Anak ke-", "2"),
        ("Penolong kelahiran", "Bidan"),
        ("NIK ibu", "7315015507050003"),
        ("Nama ibu", "Siti Aminah"),
        ("Nomor KK", "7315011203150007"),
    ]
    .iter()
    .map(|(l, v)| (l.to_string(), v.to_string()))
    .collect();
    assert_eq!(shown, expected);

    let shown = s.describe_fields(&values, Lang::En);
    assert_eq!(shown[1], ("Child's sex".into(), "Male".into()));
    assert_eq!(
        shown[2],
        ("Child's date of birth".into(), "01-11-2026".into())
    );
    assert_eq!(shown[6], ("Birth attendant".into(), "Midwife".into()));

    // A value no option has (an older catalogue's) and an unreadable date show as stored.
    let odd = form(&[
        ("child_sex", "x"),
        ("child_birth_date", "1 Nov 2026"),
        ("unknown", "y"),
    ]);
    assert_eq!(
        s.describe_fields(&odd, Lang::Id),
        [
            ("Jenis kelamin anak".to_string(), "x".to_string()),
            ("Tanggal lahir anak".to_string(), "1 Nov 2026".to_string()),
        ]
    );

    let s = service("akta_perkawinan");
    let values = s
        .check_fields(&valid_fields("akta_perkawinan"), today())
        .values;
    let shown = s.describe_fields(&values, Lang::En);
    let get = |label: &str| {
        shown
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Religion"), Some("Protestant"));
    assert_eq!(get("Wife's previous status"), Some("Never married"));
    assert_eq!(get("Date of marriage"), Some("01-11-2026"));
    assert_eq!(get("Wife's date of birth"), Some("15-07-2005"));
    assert_eq!(shown.len(), s.fields.len());
}

#[test]
fn slot_labels_and_service_names() {
    let cat = catalogue();
    let cases: &[(&str, Lang, &str)] = &[
        ("witness#2", Lang::Id, "Saksi (dengan KTP-el) 2"),
        ("witness#1", Lang::En, "Witness (with KTP-el) 1"),
        ("witness", Lang::Id, "Saksi (dengan KTP-el)"),
        ("kk", Lang::Id, "Kartu Keluarga (KK)"),
        ("kk", Lang::En, "Family card (KK)"),
        (
            "sptjm_f203",
            Lang::Id,
            "SPTJM kebenaran data kelahiran (F-2.03)",
        ),
        ("ktp_el_suami", Lang::En, "Husband's KTP-el"),
        (
            "perekaman_biometrik",
            Lang::Id,
            "Perekaman biometrik (sidik jari, iris, wajah) sudah dilakukan",
        ),
        // An id this catalogue does not know shows as itself.
        ("dokumen_baru#3", Lang::Id, "Dokumen_baru 3"),
    ];
    for (slot, lang, expected) in cases {
        assert_eq!(cat.slot_label(slot, *lang), *expected, "{slot} {lang:?}");
    }
    // Every slot the form can make has a label from the data, never the raw id.
    for d in cat.documents() {
        for lang in [Lang::Id, Lang::En] {
            assert_ne!(cat.slot_label(&d.id, lang), d.id, "{}", d.id);
        }
    }
    assert_eq!(
        cat.service_name("akta_kelahiran", Lang::Id),
        "Akta kelahiran"
    );
    assert_eq!(
        cat.service_name("ktp_el_baru", Lang::En),
        service("ktp_el_baru").name_en
    );
    assert_eq!(cat.service_name("layanan_lama", Lang::Id), "layanan_lama");
}

/// An address with two @ is no address, yet the domain part of `andi@@example.com` passes
/// today's check, which only looks at the text after the first @.
#[test]
fn an_email_with_two_at_signs_is_refused() {
    for input in ["andi@@example.com", "andi@baso@example.com"] {
        run_case("ikd_aktivasi", "email", input, Refused(EmailInvalid));
    }
}
