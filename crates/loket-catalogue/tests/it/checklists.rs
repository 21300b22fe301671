use loket_catalogue::{catalogue, Catalogue, EMBEDDED_CATALOGUE_JSON};
use loket_domain::Lang;

use crate::{form, service, set, today};

/// Every service of DOMAIN.md §3 and its requirements, in order: the table the data must match.
const SERVICES: &[(&str, &[&str])] = &[
    ("ktp_el_baru", &["kk", "perekaman_biometrik"]),
    (
        "ktp_el_perubahan_data",
        &["ktp_el_lama", "bukti_perubahan_data"],
    ),
    ("ktp_el_hilang_rusak", &["bukti_hilang_rusak_ktp_el", "kk"]),
    ("kk_baru", &["dasar_kk_baru"]),
    ("kk_perubahan_data", &["kk_lama", "bukti_perubahan_kk"]),
    ("kk_hilang_rusak", &["bukti_hilang_rusak_kk", "ktp_el"]),
    (
        "kia",
        &["akta_kelahiran_anak", "kk_orang_tua", "ktp_el_orang_tua"],
    ),
    (
        "akta_kelahiran",
        &["bukti_kelahiran", "bukti_perkawinan_orang_tua", "kk"],
    ),
    (
        "akta_kematian",
        &[
            "keterangan_kematian",
            "identitas_almarhum",
            "ktp_el_pelapor",
            "saksi_kematian",
        ],
    ),
    ("skpwni", &["kk"]),
    ("pindah_datang", &["skpwni", "kk"]),
    (
        "akta_perkawinan",
        &[
            "surat_perkawinan_agama",
            "pas_foto_berdampingan",
            "ktp_el_mempelai",
            "kk_mempelai",
        ],
    ),
    (
        "akta_perceraian",
        &["putusan_cerai", "bukti_perkawinan_cerai", "kk", "ktp_el"],
    ),
    (
        "ikd_aktivasi",
        &["identitas_ikd", "ponsel_ikd", "verifikasi_ikd"],
    ),
];

/// The provided ids that exactly make up one alternative (`witness#1`, `witness#2` for counts).
fn alternative_ids(service: &str, requirement: usize, alternative: usize) -> Vec<String> {
    let alt = &crate::service(service).requirements[requirement].alternatives[alternative];
    alt.iter()
        .flat_map(|need| {
            let id = need.document.id.clone();
            (1..=need.count).map(move |n| {
                if need.count == 1 {
                    id.clone()
                } else {
                    format!("{id}#{n}")
                }
            })
        })
        .collect()
}

#[test]
fn every_service_loads_with_its_requirements() {
    let cat = catalogue();
    assert_eq!(cat.version(), "2026.11.1");
    let codes: Vec<&str> = cat.services().iter().map(|s| s.code.as_str()).collect();
    let expected: Vec<&str> = SERVICES.iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, expected);
    for (code, requirements) in SERVICES {
        let s = service(code);
        let ids: Vec<&str> = s.requirements.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(&ids, requirements, "requirements of {code}");
        assert!(
            !s.legal_basis.is_empty() && s.sla_working_days > 0,
            "{code}"
        );
        assert!(!s.name(Lang::Id).is_empty() && !s.name(Lang::En).is_empty());
    }
}

#[test]
fn ktp_el_baru_code_never_changes() {
    // Golden: applications already stored and synced carry this code.
    let s = service("ktp_el_baru");
    assert_eq!(s.code, "ktp_el_baru");
    assert_eq!(s.code, "ktp_el_baru");
    assert_eq!(s.legal_basis, "Perpres 96/2018 Ps 14–15");
}

#[test]
fn nothing_provided_means_everything_missing() {
    for (code, requirements) in SERVICES {
        let list = service(code).checklist(&set(&[]), &form(&[]), today());
        assert!(list.satisfied.is_empty(), "{code}");
        assert_eq!(list.missing.len(), requirements.len(), "{code}");
        assert!(!list.is_complete());
    }
}

#[test]
fn every_full_alternative_satisfies_and_every_partial_one_does_not() {
    for (code, _) in SERVICES {
        let s = service(code);
        for (r, requirement) in s.requirements.iter().enumerate() {
            for a in 0..requirement.alternatives.len() {
                let ids = alternative_ids(code, r, a);
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                let list = s.checklist(&set(&refs), &form(&[]), today());
                let status = list.satisfied.iter().find(|st| st.id == requirement.id);
                assert!(
                    status.is_some(),
                    "{code}/{}: alternative {a}",
                    requirement.id
                );
                for left_out in 0..refs.len() {
                    let mut partial = refs.clone();
                    partial.remove(left_out);
                    let list = s.checklist(&set(&partial), &form(&[]), today());
                    // Another alternative may share documents; only a strict subset of every
                    // alternative must count as missing, which holds for the shipped data.
                    assert!(
                        list.missing.iter().any(|st| st.id == requirement.id),
                        "{code}/{}: alternative {a} without {}",
                        requirement.id,
                        refs[left_out]
                    );
                }
            }
        }
    }
}

/// One line per case: service, provided ids, requirement, satisfied?
#[test]
fn substitutes_and_partial_alternatives() {
    let cases: &[(&str, &[&str], &str, bool)] = &[
        // Akta kelahiran: birth letter, or SPTJM F-2.03 with two witnesses.
        (
            "akta_kelahiran",
            &["surat_keterangan_lahir"],
            "bukti_kelahiran",
            true,
        ),
        (
            "akta_kelahiran",
            &["sptjm_f203", "witness#1", "witness#2"],
            "bukti_kelahiran",
            true,
        ),
        (
            "akta_kelahiran",
            &["sptjm_f203", "witness#1"],
            "bukti_kelahiran",
            false,
        ),
        (
            "akta_kelahiran",
            &["sptjm_f203", "witness"],
            "bukti_kelahiran",
            false,
        ),
        ("akta_kelahiran", &["sptjm_f203"], "bukti_kelahiran", false),
        (
            "akta_kelahiran",
            &["witness#1", "witness#2"],
            "bukti_kelahiran",
            false,
        ),
        // "witness#" without a number, or another id with the same prefix, is not a witness.
        (
            "akta_kelahiran",
            &["sptjm_f203", "witness#", "witnesses"],
            "bukti_kelahiran",
            false,
        ),
        // Marriage proof: buku nikah, or SPTJM F-2.04 with two witnesses.
        (
            "akta_kelahiran",
            &["buku_nikah"],
            "bukti_perkawinan_orang_tua",
            true,
        ),
        (
            "akta_kelahiran",
            &["sptjm_f204", "witness#1", "witness#2"],
            "bukti_perkawinan_orang_tua",
            true,
        ),
        (
            "akta_kelahiran",
            &["sptjm_f204"],
            "bukti_perkawinan_orang_tua",
            false,
        ),
        // Akta perceraian: marriage certificate, or SPTJM for a lost one with two witnesses.
        (
            "akta_perceraian",
            &["buku_nikah"],
            "bukti_perkawinan_cerai",
            true,
        ),
        (
            "akta_perceraian",
            &["sptjm_kehilangan_akta_perkawinan", "witness#1", "witness#2"],
            "bukti_perkawinan_cerai",
            true,
        ),
        (
            "akta_perceraian",
            &["sptjm_kehilangan_akta_perkawinan"],
            "bukti_perkawinan_cerai",
            false,
        ),
        // Akta perkawinan: both spouses' cards are one set.
        (
            "akta_perkawinan",
            &["ktp_el_suami", "ktp_el_istri"],
            "ktp_el_mempelai",
            true,
        ),
        (
            "akta_perkawinan",
            &["ktp_el_suami"],
            "ktp_el_mempelai",
            false,
        ),
        // KTP-el hilang/rusak: police report or the damaged card.
        (
            "ktp_el_hilang_rusak",
            &["surat_kehilangan_polisi"],
            "bukti_hilang_rusak_ktp_el",
            true,
        ),
        (
            "ktp_el_hilang_rusak",
            &["ktp_el_rusak"],
            "bukti_hilang_rusak_ktp_el",
            true,
        ),
        (
            "ktp_el_hilang_rusak",
            &["kk_rusak"],
            "bukti_hilang_rusak_ktp_el",
            false,
        ),
        // KK baru on the head's death: death certificate and old KK together.
        (
            "kk_baru",
            &["akta_kematian", "kk_lama"],
            "dasar_kk_baru",
            true,
        ),
        ("kk_baru", &["akta_kematian"], "dasar_kk_baru", false),
        (
            "kk_baru",
            &["sptjm_f105", "witness#1", "witness#2"],
            "dasar_kk_baru",
            true,
        ),
        // Akta kematian: the deceased's KK or KTP-el; two witnesses.
        (
            "akta_kematian",
            &["ktp_el_almarhum"],
            "identitas_almarhum",
            true,
        ),
        (
            "akta_kematian",
            &["witness#1", "witness#2"],
            "saksi_kematian",
            true,
        ),
        ("akta_kematian", &["witness#1"], "saksi_kematian", false),
        // IKD: KTP-el or biometric recording.
        (
            "ikd_aktivasi",
            &["perekaman_biometrik"],
            "identitas_ikd",
            true,
        ),
    ];
    for (code, provided, requirement, satisfied) in cases {
        let list = service(code).checklist(&set(provided), &form(&[]), today());
        let found = list.satisfied.iter().any(|s| s.id == *requirement);
        assert_eq!(found, *satisfied, "{code} {provided:?} → {requirement}");
        let missing = list.missing.iter().any(|s| s.id == *requirement);
        assert_eq!(missing, !satisfied, "{code} {provided:?} → {requirement}");
    }
}

#[test]
fn a_complete_application_has_nothing_missing() {
    let list = service("akta_kelahiran").checklist(
        &set(&[
            "surat_keterangan_lahir",
            "sptjm_f204",
            "witness#1",
            "witness#2",
            "kk",
        ]),
        &form(&[]),
        today(),
    );
    assert!(list.is_complete());
    assert_eq!(list.satisfied.len(), 3);
    assert_eq!(list.satisfied[1].satisfied_by, Some(1));
}

#[test]
fn missing_requirements_spell_out_their_alternatives() {
    let list = service("akta_kelahiran").checklist(&set(&["witness#1"]), &form(&[]), today());
    let birth = &list.missing[0];
    assert_eq!(birth.label(Lang::Id), "Bukti kelahiran");
    assert_eq!(
        birth.describe(Lang::Id),
        "Surat keterangan lahir (rumah sakit, bidan, atau kepala desa), atau \
         SPTJM kebenaran data kelahiran (F-2.03) dengan 2 saksi (dengan KTP-el)"
    );
    assert_eq!(
        birth.describe(Lang::En),
        "Birth letter (hospital, midwife or village head), or \
         SPTJM on the birth data (F-2.03) with 2 witnesses (with KTP-el)"
    );
    // Progress per document, so the UI can show "saksi 1/2".
    let witness = &birth.alternatives[1][1];
    assert_eq!((witness.needed, witness.provided), (2, 1));

    let list = service("akta_perkawinan").checklist(&set(&[]), &form(&[]), today());
    let cards = list
        .missing
        .iter()
        .find(|s| s.id == "ktp_el_mempelai")
        .unwrap();
    assert_eq!(cards.describe(Lang::Id), "KTP-el suami dengan KTP-el istri");
}

#[test]
fn embedded_text_parses_to_the_same_catalogue() {
    let parsed: Catalogue = loket_catalogue::parse_catalogue(EMBEDDED_CATALOGUE_JSON).unwrap();
    assert_eq!(&parsed, catalogue());
    // Every document is used by some requirement or rule, so none is dead data.
    for document in catalogue().documents() {
        let used = catalogue().services().iter().any(|s| {
            s.requirements.iter().any(|r| {
                r.alternatives
                    .iter()
                    .flatten()
                    .any(|n| n.document.id == document.id)
            }) || serde_json::to_string(&s.rules)
                .unwrap()
                .contains(&format!("\"{}\"", document.id))
        });
        assert!(used, "document {} is unused", document.id);
    }
}
