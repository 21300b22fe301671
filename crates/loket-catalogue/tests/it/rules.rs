use loket_domain::Lang;

use crate::{form, service, set, today};

/// One line per case: service, provided ids, form, the fields of the expected warnings.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

#[test]
fn soft_rules_warn_without_blocking() {
    let cases: &[Case] = &[
        // Akta kelahiran: 60 days. Today is 2026-11-22; 2026-09-23 is exactly 60 days before.
        (
            "akta_kelahiran",
            &[],
            &[("child_birth_date", "2026-09-23")],
            &[],
        ),
        (
            "akta_kelahiran",
            &[],
            &[("child_birth_date", "2026-09-22")],
            &["child_birth_date"],
        ),
        ("akta_kelahiran", &[], &[("child_birth_date", "")], &[]),
        (
            "akta_kelahiran",
            &[],
            &[("child_birth_date", "kemarin")],
            &[],
        ),
        // Akta kematian: 30 days.
        ("akta_kematian", &[], &[("death_date", "2026-10-23")], &[]),
        (
            "akta_kematian",
            &[],
            &[("death_date", "2026-10-22")],
            &["death_date"],
        ),
        // KTP-el baru: under 17 needs a married status.
        (
            "ktp_el_baru",
            &[],
            &[
                ("birth_date", "2010-01-01"),
                ("marital_status", "belum_kawin"),
            ],
            &["birth_date"],
        ),
        (
            "ktp_el_baru",
            &[],
            &[("birth_date", "2010-01-01")],
            &["birth_date"],
        ),
        (
            "ktp_el_baru",
            &[],
            &[("birth_date", "2010-01-01"), ("marital_status", "kawin")],
            &[],
        ),
        (
            "ktp_el_baru",
            &[],
            &[
                ("birth_date", "2009-11-22"),
                ("marital_status", "belum_kawin"),
            ],
            &[],
        ),
        (
            "ktp_el_baru",
            &[],
            &[
                ("birth_date", "2009-11-23"),
                ("marital_status", "belum_kawin"),
            ],
            &["birth_date"],
        ),
        // KTP-el hilang: the police report for a lost card.
        (
            "ktp_el_hilang_rusak",
            &["ktp_el_rusak"],
            &[("cause", "hilang")],
            &["cause"],
        ),
        (
            "ktp_el_hilang_rusak",
            &["surat_kehilangan_polisi"],
            &[("cause", "hilang")],
            &[],
        ),
        // KIA: photos from age 5.
        ("kia", &[], &[("child_birth_date", "2022-01-01")], &[]),
        (
            "kia",
            &[],
            &[("child_birth_date", "2021-01-01")],
            &["child_birth_date"],
        ),
        (
            "kia",
            &["pas_foto_anak"],
            &[("child_birth_date", "2021-01-01")],
            &[],
        ),
        // Akta perkawinan: under 19 needs a dispensation; widowed needs a certificate.
        (
            "akta_perkawinan",
            &[],
            &[
                ("wife_birth_date", "2008-01-01"),
                ("husband_birth_date", "2000-01-01"),
            ],
            &["wife_birth_date"],
        ),
        (
            "akta_perkawinan",
            &["penetapan_dispensasi"],
            &[("wife_birth_date", "2008-01-01")],
            &[],
        ),
        (
            "akta_perkawinan",
            &[],
            &[("husband_previous_status", "cerai_mati")],
            &["husband_previous_status"],
        ),
        (
            "akta_perkawinan",
            &["akta_kematian_pasangan"],
            &[("husband_previous_status", "cerai_mati")],
            &[],
        ),
        (
            "akta_perkawinan",
            &["akta_cerai"],
            &[
                ("husband_previous_status", "cerai_hidup"),
                ("wife_previous_status", "cerai_hidup"),
            ],
            &[],
        ),
        (
            "akta_perkawinan",
            &[],
            &[
                ("marriage_date", "2026-01-01"),
                ("wife_previous_status", "belum_kawin"),
            ],
            &["marriage_date"],
        ),
        // Akta perceraian: 60 days after the decision became final.
        (
            "akta_perceraian",
            &[],
            &[("court_decision_final_date", "2026-01-01")],
            &["court_decision_final_date"],
        ),
    ];
    for (code, provided, values, expected) in cases {
        let list = service(code).checklist(&set(provided), &form(values), today());
        let fields: Vec<&str> = list.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(&fields, expected, "{code} {provided:?} {values:?}");
    }
}

#[test]
fn warnings_carry_both_languages() {
    let list = service("akta_kematian").checklist(
        &set(&[]),
        &form(&[("death_date", "2026-01-01")]),
        today(),
    );
    let warning = &list.warnings[0];
    assert!(warning.message(Lang::Id).contains("30 hari"));
    assert!(warning.message(Lang::En).contains("30 days"));
}
