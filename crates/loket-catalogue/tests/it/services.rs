//! Every service's requirement rules, through the whole-application check
//! (`Service::check_application`) the desktop app uses: a complete application can be submitted;
//! taking away any requirement's papers blocks it; every alternative (substitute) satisfies its
//! requirement on its own; slots the service does not ask for, papers without pages and checks
//! with pages are refused; every soft rule warns when it should and never blocks.
//!
//! Most cases are derived from the catalogue data; the hand-written tables (`LAW`, `RULES`,
//! `VALID_FIELDS` and the pinned cases) state DOMAIN.md §3 independently, so a data change that
//! breaks the law fails here rather than passing the derived tests with it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate};
use loket_catalogue::{
    catalogue, ApplicationCheck, DocumentKind, DocumentNeed, FormField, Requirement, Rule, Service,
    SlotInput, SlotProblem,
};
use loket_domain::ApplicantForm;

use crate::{service, today};

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// A valid applicant born on `birth_date`, male, with a NIK (kecamatan Mattiro Sompe) that says
/// the same date and sex, so `validate_applicant` finds nothing at all.
pub(crate) fn applicant_born(birth_date: NaiveDate) -> ApplicantForm {
    assert!(birth_date.year() >= 2000, "the NIK century rule needs 20yy");
    ApplicantForm {
        nik: format!("731501{}0005", birth_date.format("%d%m%y")),
        full_name: "Andi Baso Tenri".into(),
        birth_place: "Pinrang".into(),
        birth_date: birth_date.format("%Y-%m-%d").to_string(),
        sex: "laki_laki".into(),
        address: "Dusun Langnga, Desa Langnga".into(),
        phone: "+62 812-3456-7890".into(),
    }
}

/// The applicant of most cases: 7315011502030005, born 2003-02-15 (23 years old "today").
pub(crate) fn applicant() -> ApplicantForm {
    let a = applicant_born(NaiveDate::from_ymd_opt(2003, 2, 15).unwrap());
    assert_eq!(a.nik, "7315011502030005");
    a
}

/// For every service, a value for every one of its fields (required and optional) that passes
/// its field check without any finding and fires no soft rule with the first alternatives.
/// Hand-written: a field added to or removed from a service fails
/// `valid_fields_cover_every_field_and_pass`.
const VALID_FIELDS: &[(&str, &[(&str, &str)])] = &[
    (
        "ktp_el_baru",
        &[
            ("nomor_kk", "7315011203150007"),
            ("marital_status", "belum_kawin"),
        ],
    ),
    (
        "ktp_el_perubahan_data",
        &[
            ("nomor_kk", "7315011203150007"),
            ("changed_element", "alamat"),
            ("new_value", "Jl. Poros Pinrang No. 5, Massulowalie"),
        ],
    ),
    (
        "ktp_el_hilang_rusak",
        &[("nomor_kk", "7315011203150007"), ("cause", "hilang")],
    ),
    (
        "kk_baru",
        &[
            ("reason", "perkawinan"),
            ("head_nik", "7315011502030005"),
            ("head_name", "Andi Baso Tenri"),
            ("old_nomor_kk", "7315011203150007"),
        ],
    ),
    (
        "kk_perubahan_data",
        &[
            ("nomor_kk", "7315011203150007"),
            ("change_kind", "tambah_anggota"),
            ("member_nik", "7315015507050003"),
            ("member_name", "Siti Aminah"),
        ],
    ),
    (
        "kk_hilang_rusak",
        &[("nomor_kk", "7315011203150007"), ("cause", "hilang")],
    ),
    (
        "kia",
        &[
            ("child_nik", "7315015003230001"),
            ("child_name", "Nur Aisyah"),
            ("child_birth_date", "2023-03-10"),
            ("nomor_kk", "7315011203150007"),
        ],
    ),
    (
        "akta_kelahiran",
        &[
            ("child_name", "Muhammad Rizky"),
            ("child_sex", "laki_laki"),
            ("child_birth_date", "2026-11-01"),
            ("child_birth_time", "08:30"),
            ("child_birth_place", "Pinrang"),
            ("birth_order", "2"),
            ("birth_attendant", "bidan"),
            ("mother_nik", "7315015507050003"),
            ("mother_name", "Siti Aminah"),
            ("father_nik", "7315011502030005"),
            ("father_name", "Andi Baso Tenri"),
            ("nomor_kk", "7315011203150007"),
        ],
    ),
    (
        "akta_kematian",
        &[
            ("deceased_nik", "7315010101500001"),
            ("deceased_name", "La Tenri Ajeng"),
            ("death_date", "2026-11-10"),
            ("death_place", "Pinrang"),
            ("death_cause", "Sakit"),
            ("reporter_relationship", "keluarga"),
        ],
    ),
    (
        "skpwni",
        &[
            ("nomor_kk", "7315011203150007"),
            ("destination_address", "Dusun Massulowalie"),
            ("destination_region_code", "7315012003"),
            ("move_reason", "pekerjaan"),
            ("moving_members", "7315011502030005"),
        ],
    ),
    (
        "pindah_datang",
        &[
            ("skpwni_number", "SKPWNI/7371/2026/0001"),
            ("origin_nomor_kk", "7315011203150007"),
            ("new_address", "Dusun Langnga"),
            ("arrival_date", "2026-11-15"),
        ],
    ),
    (
        "akta_perkawinan",
        &[
            ("husband_nik", "7315011502030005"),
            ("husband_name", "Andi Baso Tenri"),
            ("husband_birth_date", "2003-02-15"),
            ("husband_previous_status", "belum_kawin"),
            ("wife_nik", "7315015507050003"),
            ("wife_name", "Siti Aminah"),
            ("wife_birth_date", "2005-07-15"),
            ("wife_previous_status", "belum_kawin"),
            ("marriage_date", "2026-11-01"),
            ("marriage_place", "Gereja Toraja Jemaat Pinrang"),
            ("religion", "kristen"),
            ("religious_leader", "Pendeta Yohanes Palimbong"),
        ],
    ),
    (
        "akta_perceraian",
        &[
            ("husband_nik", "7315011502030005"),
            ("wife_nik", "7315015507050003"),
            ("court_name", "Pengadilan Negeri Pinrang"),
            ("court_decision_number", "12/Pdt.G/2026/PN Pin"),
            ("court_decision_final_date", "2026-11-01"),
        ],
    ),
    (
        "ikd_aktivasi",
        &[
            ("email", "andi.baso@example.co.id"),
            ("ikd_phone", "081234567890"),
        ],
    ),
];

/// The valid service fields of `code` (every field filled), as the form map holds them.
pub(crate) fn valid_fields(code: &str) -> BTreeMap<String, String> {
    let (_, pairs) = VALID_FIELDS
        .iter()
        .find(|(c, _)| *c == code)
        .unwrap_or_else(|| panic!("VALID_FIELDS has {code}"));
    crate::form(pairs)
}

/// A slot with `pages` pages attached.
fn slot(id: &str, pages: usize) -> SlotInput {
    SlotInput {
        slot: id.to_string(),
        pages,
    }
}

/// A slot as the form makes it for a document: one page for a paper, none for a check.
fn slot_for(id: &str, kind: DocumentKind) -> SlotInput {
    slot(
        id,
        match kind {
            DocumentKind::Scan => 1,
            DocumentKind::Check => 0,
        },
    )
}

/// The slot names of one alternative: `kk`, or `witness#1`, `witness#2` when counted.
fn alternative_slot_names(alternative: &[DocumentNeed]) -> Vec<String> {
    alternative
        .iter()
        .flat_map(|need| {
            let id = need.document.id.clone();
            let count = need.count;
            (1..=count).map(move |n| {
                if count == 1 {
                    id.clone()
                } else {
                    format!("{id}#{n}")
                }
            })
        })
        .collect()
}

/// The slots of one alternative, with pages as the form attaches them.
fn alternative_slots(alternative: &[DocumentNeed]) -> Vec<SlotInput> {
    let names = alternative_slot_names(alternative);
    let kinds = alternative
        .iter()
        .flat_map(|need| (0..need.count).map(|_| need.document.kind));
    names
        .iter()
        .zip(kinds)
        .map(|(name, kind)| slot_for(name, kind))
        .collect()
}

/// The slots of the chosen alternative of every requirement, each slot once.
fn complete_slots(s: &Service, choose: impl Fn(&Requirement) -> usize) -> Vec<SlotInput> {
    let mut seen = BTreeSet::new();
    s.requirements
        .iter()
        .flat_map(|r| alternative_slots(&r.alternatives[choose(r)]))
        .filter(|sl| seen.insert(sl.slot.clone()))
        .collect()
}

/// The first alternative of every requirement that uses none of `avoid`.
fn complete_slots_avoiding(s: &Service, avoid: &[String]) -> Vec<SlotInput> {
    complete_slots(s, |r| {
        r.alternatives
            .iter()
            .position(|alt| !alt.iter().any(|n| avoid.contains(&n.document.id)))
            .unwrap_or_else(|| {
                panic!(
                    "{}/{}: every alternative uses one of {avoid:?}",
                    s.code, r.id
                )
            })
    })
}

fn names(slots: &[SlotInput]) -> Vec<&str> {
    slots.iter().map(|s| s.slot.as_str()).collect()
}

fn check(
    s: &Service,
    applicant: &ApplicantForm,
    fields: &BTreeMap<String, String>,
    slots: &[SlotInput],
) -> ApplicationCheck {
    s.check_application(applicant, fields, slots, today())
}

fn missing_ids(c: &ApplicationCheck) -> Vec<&str> {
    c.checklist.missing.iter().map(|r| r.id.as_str()).collect()
}

fn satisfied_ids(c: &ApplicationCheck) -> Vec<&str> {
    c.checklist
        .satisfied
        .iter()
        .map(|r| r.id.as_str())
        .collect()
}

fn requirement_ids(s: &Service) -> Vec<&str> {
    s.requirements.iter().map(|r| r.id.as_str()).collect()
}

/// Everything is fine except, perhaps, soft-rule warnings.
fn assert_submittable(c: &ApplicationCheck, what: &str) {
    assert!(c.applicant.errors.is_empty(), "{what}: {:?}", c.applicant);
    assert!(c.fields.is_ok(), "{what}: {:?}", c.fields.findings);
    assert!(c.slot_problems.is_empty(), "{what}: {:?}", c.slot_problems);
    assert!(c.checklist.is_complete(), "{what}: {:?}", missing_ids(c));
    assert!(c.can_submit(), "{what}");
}

// ---------------------------------------------------------------------------------------------
// The law, hand-written (DOMAIN.md §3)
// ---------------------------------------------------------------------------------------------

type Alternatives = &'static [&'static [&'static str]];

/// Every service's requirements and, for each, its alternatives as the slots the form makes.
/// Written from DOMAIN.md §3, not copied from the data by code.
const LAW: &[(&str, &[(&str, Alternatives)])] = &[
    (
        "ktp_el_baru",
        &[
            ("kk", &[&["kk"]]),
            ("perekaman_biometrik", &[&["perekaman_biometrik"]]),
        ],
    ),
    (
        "ktp_el_perubahan_data",
        &[
            ("ktp_el_lama", &[&["ktp_el_lama"]]),
            ("bukti_perubahan_data", &[&["bukti_perubahan"]]),
        ],
    ),
    (
        "ktp_el_hilang_rusak",
        &[
            // Police loss report or the damaged card.
            (
                "bukti_hilang_rusak_ktp_el",
                &[&["surat_kehilangan_polisi"], &["ktp_el_rusak"]],
            ),
            ("kk", &[&["kk"]]),
        ],
    ),
    (
        "kk_baru",
        &[(
            "dasar_kk_baru",
            &[
                &["buku_nikah"],
                &["akta_cerai"],
                // Unregistered marriage: SPTJM F-1.05 with two witnesses.
                &["sptjm_f105", "witness#1", "witness#2"],
                // The head died: death certificate and the old KK.
                &["akta_kematian", "kk_lama"],
                // Splitting: the KTP-el shows 17+ or married, with the old KK.
                &["ktp_el", "kk_lama"],
            ],
        )],
    ),
    (
        "kk_perubahan_data",
        &[
            ("kk_lama", &[&["kk_lama"]]),
            (
                "bukti_perubahan_kk",
                &[
                    &["akta_kelahiran"],
                    &["skpwni"],
                    &["akta_kematian"],
                    &["buku_nikah"],
                    &["akta_cerai"],
                    &["bukti_perubahan"],
                ],
            ),
        ],
    ),
    (
        "kk_hilang_rusak",
        &[
            (
                "bukti_hilang_rusak_kk",
                &[&["surat_kehilangan_polisi"], &["kk_rusak"]],
            ),
            ("ktp_el", &[&["ktp_el"]]),
        ],
    ),
    (
        "kia",
        &[
            ("akta_kelahiran_anak", &[&["akta_kelahiran"]]),
            ("kk_orang_tua", &[&["kk"]]),
            ("ktp_el_orang_tua", &[&["ktp_el_orang_tua"]]),
        ],
    ),
    (
        "akta_kelahiran",
        &[
            // Birth letter, or SPTJM F-2.03 with two witnesses.
            (
                "bukti_kelahiran",
                &[
                    &["surat_keterangan_lahir"],
                    &["sptjm_f203", "witness#1", "witness#2"],
                ],
            ),
            // Marriage proof, or SPTJM F-2.04 with two witnesses.
            (
                "bukti_perkawinan_orang_tua",
                &[&["buku_nikah"], &["sptjm_f204", "witness#1", "witness#2"]],
            ),
            ("kk", &[&["kk"]]),
        ],
    ),
    (
        "akta_kematian",
        &[
            ("keterangan_kematian", &[&["surat_keterangan_kematian"]]),
            ("identitas_almarhum", &[&["kk"], &["ktp_el_almarhum"]]),
            ("ktp_el_pelapor", &[&["ktp_el_pelapor"]]),
            ("saksi_kematian", &[&["witness#1", "witness#2"]]),
        ],
    ),
    ("skpwni", &[("kk", &[&["kk"]])]),
    (
        "pindah_datang",
        &[("skpwni", &[&["skpwni"]]), ("kk", &[&["kk"]])],
    ),
    (
        "akta_perkawinan",
        &[
            ("surat_perkawinan_agama", &[&["surat_perkawinan_agama"]]),
            ("pas_foto_berdampingan", &[&["pas_foto_berdampingan"]]),
            ("ktp_el_mempelai", &[&["ktp_el_suami", "ktp_el_istri"]]),
            ("kk_mempelai", &[&["kk_suami", "kk_istri"]]),
        ],
    ),
    (
        "akta_perceraian",
        &[
            ("putusan_cerai", &[&["putusan_cerai"]]),
            // Marriage certificate, or SPTJM on its loss with two witnesses.
            (
                "bukti_perkawinan_cerai",
                &[
                    &["buku_nikah"],
                    &["sptjm_kehilangan_akta_perkawinan", "witness#1", "witness#2"],
                ],
            ),
            ("kk", &[&["kk"]]),
            ("ktp_el", &[&["ktp_el"]]),
        ],
    ),
    (
        "ikd_aktivasi",
        &[
            // KTP-el, or a completed biometric recording.
            ("identitas_ikd", &[&["ktp_el"], &["perekaman_biometrik"]]),
            ("ponsel_ikd", &[&["ponsel_ikd"]]),
            ("verifikasi_ikd", &[&["verifikasi_ikd"]]),
        ],
    ),
];

/// The in-person checks (ticked, never scanned); every other document is a paper.
const CHECKS: &[&str] = &["perekaman_biometrik", "ponsel_ikd", "verifikasi_ikd"];

/// Slots of hand-written alternatives, with pages as the law's document kinds ask.
fn law_slots(alternative: &[&str]) -> Vec<SlotInput> {
    alternative
        .iter()
        .map(|name| {
            let id = name.split('#').next().unwrap();
            slot(name, if CHECKS.contains(&id) { 0 } else { 1 })
        })
        .collect()
}

#[test]
fn the_catalogue_states_the_law() {
    let codes: Vec<&str> = catalogue()
        .services()
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    let law_codes: Vec<&str> = LAW.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, law_codes);
    assert_eq!(codes.len(), 14);
    for (code, requirements) in LAW {
        let s = service(code);
        let pinned: Vec<&str> = requirements.iter().map(|(id, _)| *id).collect();
        assert_eq!(requirement_ids(s), pinned, "requirements of {code}");
        for ((id, alternatives), requirement) in requirements.iter().zip(&s.requirements) {
            let data: Vec<Vec<String>> = requirement
                .alternatives
                .iter()
                .map(|alt| alternative_slot_names(alt))
                .collect();
            assert_eq!(data, *alternatives, "alternatives of {code}/{id}");
        }
    }
    for d in catalogue().documents() {
        let expected = if CHECKS.contains(&d.id.as_str()) {
            DocumentKind::Check
        } else {
            DocumentKind::Scan
        };
        assert_eq!(d.kind, expected, "kind of {}", d.id);
    }
}

#[test]
fn every_hand_written_alternative_satisfies_its_requirement_alone() {
    let mut cases = 0;
    for (code, requirements) in LAW {
        let s = service(code);
        for (id, alternatives) in *requirements {
            for (a, alternative) in alternatives.iter().enumerate() {
                let c = check(
                    s,
                    &applicant(),
                    &valid_fields(code),
                    &law_slots(alternative),
                );
                assert!(c.slot_problems.is_empty(), "{code} {alternative:?}");
                let status = c.checklist.satisfied.iter().find(|st| st.id == *id);
                assert_eq!(
                    status.and_then(|st| st.satisfied_by),
                    Some(a),
                    "{code}/{id}: {alternative:?}"
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 51);
}

/// The substitutes of DOMAIN.md §3, and what does not count: one line per case
/// (service, slots, requirement, satisfied?). Every slot is one the service asks for.
#[test]
fn domain_md_substitutes() {
    #[rustfmt::skip]
    let cases: &[(&str, &[&str], &str, bool)] = &[
        // Akta kelahiran: birth letter, or SPTJM F-2.03 + 2 witnesses.
        ("akta_kelahiran", &["surat_keterangan_lahir"], "bukti_kelahiran", true),
        ("akta_kelahiran", &["sptjm_f203", "witness#1", "witness#2"], "bukti_kelahiran", true),
        ("akta_kelahiran", &["sptjm_f203", "witness#2", "witness#1"], "bukti_kelahiran", true),
        ("akta_kelahiran", &["sptjm_f203", "witness#1"], "bukti_kelahiran", false),
        ("akta_kelahiran", &["sptjm_f203", "witness#2"], "bukti_kelahiran", false),
        ("akta_kelahiran", &["sptjm_f203"], "bukti_kelahiran", false),
        ("akta_kelahiran", &["witness#1", "witness#2"], "bukti_kelahiran", false),
        // The marriage SPTJM is not the birth SPTJM.
        ("akta_kelahiran", &["sptjm_f204", "witness#1", "witness#2"], "bukti_kelahiran", false),
        // Akta kelahiran: marriage proof, or SPTJM F-2.04 + 2 witnesses.
        ("akta_kelahiran", &["buku_nikah"], "bukti_perkawinan_orang_tua", true),
        ("akta_kelahiran", &["sptjm_f204", "witness#1", "witness#2"], "bukti_perkawinan_orang_tua", true),
        ("akta_kelahiran", &["sptjm_f204", "witness#1"], "bukti_perkawinan_orang_tua", false),
        ("akta_kelahiran", &["sptjm_f203", "witness#1", "witness#2"], "bukti_perkawinan_orang_tua", false),
        // KK baru: marriage book, divorce certificate, or SPTJM F-1.05 + 2 witnesses.
        ("kk_baru", &["buku_nikah"], "dasar_kk_baru", true),
        ("kk_baru", &["akta_cerai"], "dasar_kk_baru", true),
        ("kk_baru", &["sptjm_f105", "witness#1", "witness#2"], "dasar_kk_baru", true),
        ("kk_baru", &["sptjm_f105", "witness#1"], "dasar_kk_baru", false),
        // ...on the head's death: akta kematian with the old KK; to split: KTP-el with it.
        ("kk_baru", &["akta_kematian", "kk_lama"], "dasar_kk_baru", true),
        ("kk_baru", &["akta_kematian"], "dasar_kk_baru", false),
        ("kk_baru", &["ktp_el", "kk_lama"], "dasar_kk_baru", true),
        ("kk_baru", &["kk_lama"], "dasar_kk_baru", false),
        // Lost or damaged: police report or the damaged card.
        ("ktp_el_hilang_rusak", &["surat_kehilangan_polisi"], "bukti_hilang_rusak_ktp_el", true),
        ("ktp_el_hilang_rusak", &["ktp_el_rusak"], "bukti_hilang_rusak_ktp_el", true),
        ("kk_hilang_rusak", &["surat_kehilangan_polisi"], "bukti_hilang_rusak_kk", true),
        ("kk_hilang_rusak", &["kk_rusak"], "bukti_hilang_rusak_kk", true),
        // KK perubahan: any proof of the change.
        ("kk_perubahan_data", &["akta_kelahiran"], "bukti_perubahan_kk", true),
        ("kk_perubahan_data", &["skpwni"], "bukti_perubahan_kk", true),
        ("kk_perubahan_data", &["kk_lama"], "bukti_perubahan_kk", false),
        // Akta kematian: the deceased's KK or KTP-el; two witnesses.
        ("akta_kematian", &["kk"], "identitas_almarhum", true),
        ("akta_kematian", &["ktp_el_almarhum"], "identitas_almarhum", true),
        ("akta_kematian", &["ktp_el_pelapor"], "identitas_almarhum", false),
        ("akta_kematian", &["witness#1", "witness#2"], "saksi_kematian", true),
        ("akta_kematian", &["witness#1"], "saksi_kematian", false),
        // Akta perkawinan: both spouses' cards together.
        ("akta_perkawinan", &["ktp_el_suami", "ktp_el_istri"], "ktp_el_mempelai", true),
        ("akta_perkawinan", &["ktp_el_istri"], "ktp_el_mempelai", false),
        ("akta_perkawinan", &["kk_suami", "kk_istri"], "kk_mempelai", true),
        ("akta_perkawinan", &["kk_suami"], "kk_mempelai", false),
        // Akta perceraian: marriage certificate, or SPTJM on its loss + 2 witnesses.
        ("akta_perceraian", &["buku_nikah"], "bukti_perkawinan_cerai", true),
        ("akta_perceraian", &["sptjm_kehilangan_akta_perkawinan", "witness#1", "witness#2"], "bukti_perkawinan_cerai", true),
        ("akta_perceraian", &["sptjm_kehilangan_akta_perkawinan", "witness#1"], "bukti_perkawinan_cerai", false),
        // IKD: KTP-el or a completed biometric recording (ticked, no pages).
        ("ikd_aktivasi", &["ktp_el"], "identitas_ikd", true),
        ("ikd_aktivasi", &["perekaman_biometrik"], "identitas_ikd", true),
        // Moving: SKPWNI at arrival; only the KK to leave.
        ("pindah_datang", &["skpwni"], "skpwni", true),
        ("skpwni", &["kk"], "kk", true),
        // KIA: the child's birth certificate.
        ("kia", &["akta_kelahiran"], "akta_kelahiran_anak", true),
        ("kia", &["kk"], "akta_kelahiran_anak", false),
    ];
    for (code, slots, requirement, satisfied) in cases {
        let c = check(
            service(code),
            &applicant(),
            &valid_fields(code),
            &law_slots(slots),
        );
        let what = format!("{code} {slots:?} → {requirement}");
        assert!(c.slot_problems.is_empty(), "{what}: {:?}", c.slot_problems);
        assert_eq!(
            satisfied_ids(&c).contains(requirement),
            *satisfied,
            "{what}"
        );
        assert_eq!(missing_ids(&c).contains(requirement), !satisfied, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// Derived from the data: complete, incomplete, every alternative
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_fields_cover_every_field_and_pass() {
    let codes: Vec<&str> = VALID_FIELDS.iter().map(|(c, _)| *c).collect();
    let all: Vec<&str> = catalogue()
        .services()
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    assert_eq!(codes, all);
    for s in catalogue().services() {
        let fields = valid_fields(&s.code);
        let ids: Vec<&str> = s.fields.iter().map(|f| f.id.as_str()).collect();
        let given: Vec<&str> = fields.keys().map(String::as_str).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(given, sorted, "fields of {}", s.code);
        let report = s.check_fields(&fields, today());
        assert!(
            report.findings.is_empty(),
            "{}: {:?}",
            s.code,
            report.findings
        );
        assert_eq!(report.values.len(), ids.len(), "{}", s.code);
    }
}

/// (a) For every service, a complete application — a valid applicant, valid fields and one
/// full alternative of every requirement — can be submitted; the k-th round takes the k-th
/// alternative where there is one, so every alternative takes part in a complete application.
#[test]
fn a_complete_application_can_be_submitted_with_any_alternative() {
    let mut cases = 0;
    for s in catalogue().services() {
        let rounds = s
            .requirements
            .iter()
            .map(|r| r.alternatives.len())
            .max()
            .unwrap();
        for k in 0..rounds {
            let choose = |r: &Requirement| k.min(r.alternatives.len() - 1);
            let slots = complete_slots(s, choose);
            let c = check(s, &applicant(), &valid_fields(&s.code), &slots);
            let what = format!("{} round {k}: {:?}", s.code, names(&slots));
            assert_submittable(&c, &what);
            assert!(c.applicant.warnings.is_empty(), "{what}");
            assert!(c.fields.findings.is_empty(), "{what}");
            assert_eq!(satisfied_ids(&c), requirement_ids(s), "{what}");
            for (status, r) in c.checklist.satisfied.iter().zip(&s.requirements) {
                assert_eq!(status.satisfied_by, Some(choose(r)), "{what}/{}", r.id);
            }
            if k == 0 {
                // The valid fields were chosen so that the first alternatives warn of nothing.
                assert!(c.checklist.warnings.is_empty(), "{what}");
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 29);
}

/// (b) Taking away the slots of any one requirement leaves it missing and blocks submission;
/// requirements whose slots are all still there stay satisfied.
#[test]
fn removing_a_requirements_slots_blocks_submission() {
    let mut cases = 0;
    for s in catalogue().services() {
        for (r, requirement) in s.requirements.iter().enumerate() {
            for a in 0..requirement.alternatives.len() {
                let choose = |req: &Requirement| if req.id == requirement.id { a } else { 0 };
                let removed: BTreeSet<String> =
                    alternative_slot_names(&requirement.alternatives[a])
                        .into_iter()
                        .collect();
                let slots: Vec<SlotInput> = complete_slots(s, choose)
                    .into_iter()
                    .filter(|sl| !removed.contains(&sl.slot))
                    .collect();
                let c = check(s, &applicant(), &valid_fields(&s.code), &slots);
                let what = format!(
                    "{} without {}/{a}: {:?}",
                    s.code,
                    requirement.id,
                    names(&slots)
                );
                assert!(missing_ids(&c).contains(&requirement.id.as_str()), "{what}");
                assert!(!c.checklist.is_complete(), "{what}");
                assert!(!c.can_submit(), "{what}");
                // Nothing else is wrong: only the checklist blocks.
                assert!(c.applicant.errors.is_empty() && c.fields.is_ok(), "{what}");
                assert!(c.slot_problems.is_empty(), "{what}");
                for (other, req) in s.requirements.iter().enumerate() {
                    let untouched = alternative_slot_names(&req.alternatives[choose(req)])
                        .iter()
                        .all(|n| !removed.contains(n));
                    if other != r && untouched {
                        assert!(
                            satisfied_ids(&c).contains(&req.id.as_str()),
                            "{what}: {}",
                            req.id
                        );
                    }
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 51);
}

/// (c) Every alternative of every requirement satisfies it on its own, and not with any one of
/// its slots left out (one witness of two is not enough).
#[test]
fn every_alternative_satisfies_alone_and_no_part_of_one_does() {
    let mut cases = 0;
    for s in catalogue().services() {
        for requirement in &s.requirements {
            for (a, alternative) in requirement.alternatives.iter().enumerate() {
                let slots = alternative_slots(alternative);
                let c = check(s, &applicant(), &valid_fields(&s.code), &slots);
                let what = format!("{}/{} {:?}", s.code, requirement.id, names(&slots));
                assert!(c.slot_problems.is_empty(), "{what}: {:?}", c.slot_problems);
                let status = c
                    .checklist
                    .satisfied
                    .iter()
                    .find(|st| st.id == requirement.id)
                    .unwrap_or_else(|| panic!("{what}: not satisfied"));
                assert_eq!(status.satisfied_by, Some(a), "{what}");
                assert!(status.alternatives[a]
                    .iter()
                    .all(|d| d.provided == d.needed));
                cases += 1;
                for left_out in 0..slots.len() {
                    let mut partial = slots.clone();
                    let gone = partial.remove(left_out);
                    let c = check(s, &applicant(), &valid_fields(&s.code), &partial);
                    let what = format!("{what} without {}", gone.slot);
                    let status = c
                        .checklist
                        .missing
                        .iter()
                        .find(|st| st.id == requirement.id)
                        .unwrap_or_else(|| panic!("{what}: not missing"));
                    assert_eq!(status.satisfied_by, None, "{what}");
                    let short = status.alternatives[a]
                        .iter()
                        .find(|d| d.provided < d.needed)
                        .unwrap_or_else(|| panic!("{what}: nothing short"));
                    assert_eq!(short.provided + 1, short.needed, "{what}");
                    assert!(!c.can_submit(), "{what}");
                    cases += 1;
                }
            }
        }
    }
    // 51 alternatives, 64 slots in them.
    assert_eq!(cases, 51 + 64);
}

// ---------------------------------------------------------------------------------------------
// (d) Slots the application cannot keep
// ---------------------------------------------------------------------------------------------

/// Every document some requirement of `s` asks for, with the most times any alternative asks.
fn requested(s: &Service) -> BTreeMap<String, (DocumentKind, u32)> {
    let mut out = BTreeMap::new();
    for need in s
        .requirements
        .iter()
        .flat_map(|r| r.alternatives.iter().flatten())
    {
        let e = out
            .entry(need.document.id.clone())
            .or_insert((need.document.kind, 0));
        e.1 = e.1.max(need.count);
    }
    // Papers a soft rule asks for may be attached once, like a requirement's document.
    for d in &s.rule_documents {
        out.entry(d.id.clone()).or_insert((d.kind, 1));
    }
    out
}

/// Adds `extra` to a complete application (first alternatives) and expects exactly `problem`.
fn expect_problem(s: &Service, extra: SlotInput, problem: SlotProblem) {
    let mut slots: Vec<SlotInput> = complete_slots(s, |_| 0)
        .into_iter()
        .filter(|sl| sl.slot != extra.slot)
        .collect();
    let removed_own = slots.len() < complete_slots(s, |_| 0).len();
    let what = format!("{}: {} with {} pages", s.code, extra.slot, extra.pages);
    slots.push(extra.clone());
    let c = check(s, &applicant(), &valid_fields(&s.code), &slots);
    assert_eq!(
        c.slot_problems,
        vec![(extra.slot.clone(), problem)],
        "{what}"
    );
    assert!(!c.can_submit(), "{what}");
    // A refused slot counts for nothing: when it replaced one of the application's own
    // papers, that requirement is missing; otherwise the checklist is still complete.
    assert_eq!(c.checklist.is_complete(), !removed_own, "{what}");
}

#[test]
fn slots_the_application_cannot_keep() {
    let mut cases = 0;
    for s in catalogue().services() {
        let asked = requested(s);
        for d in catalogue().documents() {
            match asked.get(&d.id) {
                // A document this service never asks for.
                None => {
                    expect_problem(s, slot_for(&d.id, d.kind), SlotProblem::NotRequested);
                    cases += 1;
                }
                Some(&(kind, count)) => {
                    // More of it than any alternative asks for, or a malformed number.
                    for extra in [
                        format!("{}#{}", d.id, count + 1),
                        format!("{}#0", d.id),
                        format!("{}#x", d.id),
                        format!("{}#", d.id),
                    ] {
                        expect_problem(s, slot_for(&extra, kind), SlotProblem::NotRequested);
                        cases += 1;
                    }
                    // Numbered slots up to the count are fine, a plain id too.
                    for n in 1..=count {
                        let name = format!("{}#{n}", d.id);
                        assert_eq!(
                            s.document_for_slot(&name).map(|x| x.id.as_str()),
                            Some(d.id.as_str())
                        );
                    }
                    assert!(s.document_for_slot(&d.id).is_some());
                    match kind {
                        DocumentKind::Scan => {
                            expect_problem(s, slot(&d.id, 0), SlotProblem::ScanMissing);
                        }
                        DocumentKind::Check => {
                            expect_problem(s, slot(&d.id, 1), SlotProblem::CheckHasScan);
                            expect_problem(s, slot(&d.id, 3), SlotProblem::CheckHasScan);
                            cases += 1;
                        }
                    }
                    cases += 1;
                }
            }
        }
    }
    // 14 services × 36 documents, and the malformed and wrong-kind slots of the asked ones
    // (including the 4 papers only a soft rule asks for).
    assert_eq!(cases, 752);
}

/// Hand-written: (service, slot, pages, problem or none).
#[test]
fn pinned_slot_problems() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, usize, Option<SlotProblem>)] = &[
        ("ktp_el_baru", "perekaman_biometrik", 0, None),
        ("ktp_el_baru", "perekaman_biometrik", 1, Some(SlotProblem::CheckHasScan)),
        ("ktp_el_baru", "kk", 2, None),
        ("ktp_el_baru", "kk", 0, Some(SlotProblem::ScanMissing)),
        ("ktp_el_baru", "ktp_el", 1, Some(SlotProblem::NotRequested)),
        ("ktp_el_baru", "surat_keterangan_lahir", 1, Some(SlotProblem::NotRequested)),
        ("akta_kelahiran", "perekaman_biometrik", 0, Some(SlotProblem::NotRequested)),
        ("akta_kelahiran", "witness#1", 1, None),
        ("akta_kelahiran", "witness#2", 1, None),
        ("akta_kelahiran", "witness#3", 1, Some(SlotProblem::NotRequested)),
        ("akta_kelahiran", "witness#2", 0, Some(SlotProblem::ScanMissing)),
        ("akta_kelahiran", "kk#2", 1, Some(SlotProblem::NotRequested)),
        ("akta_kematian", "witness#2", 1, None),
        ("skpwni", "ktp_el", 1, Some(SlotProblem::NotRequested)),
        ("skpwni", "kk", 1, None),
        ("pindah_datang", "skpwni", 0, Some(SlotProblem::ScanMissing)),
        ("ikd_aktivasi", "verifikasi_ikd", 2, Some(SlotProblem::CheckHasScan)),
        ("ikd_aktivasi", "ponsel_ikd", 0, None),
        ("ikd_aktivasi", "ktp_el", 1, None),
        ("ikd_aktivasi", "ktp_el", 0, Some(SlotProblem::ScanMissing)),
        ("kk_hilang_rusak", "ktp_el_rusak", 1, Some(SlotProblem::NotRequested)),
        ("ktp_el_hilang_rusak", "kk_rusak", 1, Some(SlotProblem::NotRequested)),
        ("akta_perkawinan", "buku_nikah", 1, Some(SlotProblem::NotRequested)),
    ];
    for (code, name, pages, problem) in cases {
        let c = check(
            service(code),
            &applicant(),
            &valid_fields(code),
            &[slot(name, *pages)],
        );
        let expected: Vec<(String, SlotProblem)> =
            problem.iter().map(|p| (name.to_string(), *p)).collect();
        assert_eq!(c.slot_problems, expected, "{code} {name} {pages}");
    }
}

// ---------------------------------------------------------------------------------------------
// Soft rules
// ---------------------------------------------------------------------------------------------

/// Every service's soft rules, hand-written: (kind, field).
const RULES: &[(&str, &[(&str, &str)])] = &[
    ("ktp_el_baru", &[("age_under_unless", "birth_date")]),
    ("ktp_el_perubahan_data", &[]),
    (
        "ktp_el_hilang_rusak",
        &[
            ("document_needed_when_field", "cause"),
            ("document_needed_when_field", "cause"),
        ],
    ),
    (
        "kk_baru",
        &[
            ("document_needed_when_field", "reason"),
            ("document_needed_when_field", "reason"),
            ("document_needed_when_field", "reason"),
        ],
    ),
    (
        "kk_perubahan_data",
        &[("document_needed_when_field", "change_kind")],
    ),
    (
        "kk_hilang_rusak",
        &[
            ("document_needed_when_field", "cause"),
            ("document_needed_when_field", "cause"),
        ],
    ),
    ("kia", &[("document_needed_when_age", "child_birth_date")]),
    (
        "akta_kelahiran",
        &[("days_since_field_over", "child_birth_date")],
    ),
    ("akta_kematian", &[("days_since_field_over", "death_date")]),
    ("skpwni", &[]),
    ("pindah_datang", &[]),
    (
        "akta_perkawinan",
        &[
            ("days_since_field_over", "marriage_date"),
            ("document_needed_when_age", "husband_birth_date"),
            ("document_needed_when_age", "wife_birth_date"),
            ("document_needed_when_field", "husband_previous_status"),
            ("document_needed_when_field", "wife_previous_status"),
        ],
    ),
    (
        "akta_perceraian",
        &[("days_since_field_over", "court_decision_final_date")],
    ),
    ("ikd_aktivasi", &[]),
];

fn rule_kind(rule: &Rule) -> String {
    serde_json::to_value(rule).unwrap()["kind"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn every_service_has_the_soft_rules_of_the_law() {
    let codes: Vec<&str> = RULES.iter().map(|(c, _)| *c).collect();
    let all: Vec<&str> = catalogue()
        .services()
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    assert_eq!(codes, all);
    for (code, rules) in RULES {
        let data: Vec<(String, String)> = service(code)
            .rules
            .iter()
            .map(|r| (rule_kind(r), r.field().to_string()))
            .collect();
        let pinned: Vec<(String, String)> = rules
            .iter()
            .map(|(k, f)| (k.to_string(), f.to_string()))
            .collect();
        assert_eq!(data, pinned, "rules of {code}");
        for r in &service(code).rules {
            let (id, en) = r.messages();
            assert!(!id.is_empty() && !en.is_empty(), "{code}: {r:?}");
        }
    }
}

/// One application for a rule case: applicant, fields and slots.
#[derive(Clone)]
struct Case {
    applicant: ApplicantForm,
    fields: BTreeMap<String, String>,
    slots: Vec<SlotInput>,
}

impl Case {
    fn complete(s: &Service, avoid: &[String]) -> Case {
        Case {
            applicant: applicant(),
            fields: valid_fields(&s.code),
            slots: complete_slots_avoiding(s, avoid),
        }
    }

    /// Sets a date field; the applicant's birth date changes the applicant (and its NIK).
    fn date(mut self, field: &str, date: NaiveDate) -> Case {
        if field == "birth_date" {
            self.applicant = applicant_born(date);
        } else {
            self.fields
                .insert(field.to_string(), date.format("%Y-%m-%d").to_string());
        }
        self
    }

    fn value(mut self, field: &str, value: &str) -> Case {
        self.fields.insert(field.to_string(), value.to_string());
        self
    }

    fn with_document(mut self, s: &Service, id: &str) -> Case {
        let kind = catalogue()
            .documents()
            .iter()
            .find(|d| d.id == id)
            .unwrap()
            .kind;
        if s.document_for_slot(id).is_none() {
            panic!("{}: the form cannot take {id}", s.code);
        }
        self.slots.push(slot_for(id, kind));
        self
    }

    fn run(&self, s: &Service) -> ApplicationCheck {
        check(s, &self.applicant, &self.fields, &self.slots)
    }
}

fn fired(c: &ApplicationCheck, rule: &Rule) -> bool {
    let (id, en) = rule.messages();
    c.checklist
        .warnings
        .iter()
        .any(|w| w.field == rule.field() && w.message_id == id && w.message_en == en)
}

/// The date `years` full years before today (the birthday is today).
fn years_ago(years: u32) -> NaiveDate {
    today()
        .with_year(today().year() - i32::try_from(years).unwrap())
        .unwrap()
}

fn days_ago(days: u32) -> NaiveDate {
    today().checked_sub_days(Days::new(days.into())).unwrap()
}

/// The options of a select field of the service (or of the applicant's identity).
fn options(s: &Service, field: &str) -> Vec<String> {
    let f: &FormField = s
        .fields
        .iter()
        .chain(catalogue().applicant_fields())
        .find(|f| f.id == field)
        .unwrap_or_else(|| panic!("{}: no field {field}", s.code));
    f.options.iter().map(|o| o.value.clone()).collect()
}

/// The documents a rule asks for, empty for the date-only kinds.
fn rule_documents(rule: &Rule) -> Vec<String> {
    match rule {
        Rule::DocumentNeededWhenField { documents, .. }
        | Rule::DocumentNeededWhenAge { documents, .. } => documents.clone(),
        _ => Vec::new(),
    }
}

/// Every soft rule of every service fires in one case and stays quiet in the others, all
/// through `check_application` on an otherwise complete application, which stays submittable:
/// warnings never block. (Quiet because a rule document was provided: see
/// `a_rule_document_silences_its_rule` and the ignored `every_rule_document_can_be_attached`.)
#[test]
fn every_soft_rule_fires_and_stays_quiet_without_blocking() {
    let (mut fire, mut quiet) = (0, 0);
    for s in catalogue().services() {
        for rule in &s.rules {
            let avoid = rule_documents(rule);
            let base = Case::complete(s, &avoid);
            let mut fires: Vec<(String, Case)> = Vec::new();
            let mut quiets: Vec<(String, Case)> = Vec::new();
            match rule {
                Rule::DaysSinceFieldOver { field, days, .. } => {
                    fires.push((
                        format!("{} days", days + 1),
                        base.clone().date(field, days_ago(days + 1)),
                    ));
                    quiets.push((
                        format!("{days} days"),
                        base.clone().date(field, days_ago(*days)),
                    ));
                    quiets.push(("today".into(), base.clone().date(field, today())));
                }
                Rule::AgeUnderUnless {
                    field,
                    years,
                    unless_field,
                    unless_values,
                    ..
                } => {
                    let all = options(s, unless_field);
                    let lifting: Vec<&String> =
                        all.iter().filter(|v| unless_values.contains(v)).collect();
                    let others: Vec<&String> =
                        all.iter().filter(|v| !unless_values.contains(v)).collect();
                    assert!(
                        !lifting.is_empty() && !others.is_empty(),
                        "{}: {rule:?}",
                        s.code
                    );
                    let young = years_ago(*years).succ_opt().unwrap();
                    for v in &others {
                        fires.push((
                            format!("{v}, a day short of {years}"),
                            base.clone().date(field, young).value(unless_field, v),
                        ));
                        quiets.push((
                            format!("{v}, {years} today"),
                            base.clone()
                                .date(field, years_ago(*years))
                                .value(unless_field, v),
                        ));
                    }
                    for v in lifting {
                        quiets.push((
                            format!("{v}, a day short of {years}"),
                            base.clone().date(field, young).value(unless_field, v),
                        ));
                    }
                }
                Rule::DocumentNeededWhenField { field, values, .. } => {
                    for v in values {
                        fires.push((v.clone(), base.clone().value(field, v)));
                    }
                    for v in options(s, field).iter().filter(|v| !values.contains(v)) {
                        quiets.push((v.clone(), base.clone().value(field, v)));
                    }
                }
                Rule::DocumentNeededWhenAge {
                    field,
                    age_from,
                    age_under,
                    ..
                } => {
                    if let Some(from) = age_from {
                        fires.push((
                            format!("{from} today"),
                            base.clone().date(field, years_ago(*from)),
                        ));
                        if *from > 0 {
                            quiets.push((
                                format!("a day short of {from}"),
                                base.clone()
                                    .date(field, years_ago(*from).succ_opt().unwrap()),
                            ));
                        }
                    }
                    if let Some(under) = age_under {
                        fires.push((
                            format!("a day short of {under}"),
                            base.clone()
                                .date(field, years_ago(*under).succ_opt().unwrap()),
                        ));
                        quiets.push((
                            format!("{under} today"),
                            base.clone().date(field, years_ago(*under)),
                        ));
                    }
                }
            }
            assert!(
                !fires.is_empty() && !quiets.is_empty(),
                "{}: {rule:?}",
                s.code
            );
            for (expect, cases) in [(true, &fires), (false, &quiets)] {
                for (label, case) in cases {
                    let c = case.run(s);
                    let what = format!(
                        "{} {} {label}: {:?}",
                        s.code,
                        rule.field(),
                        names(&case.slots)
                    );
                    assert_eq!(
                        fired(&c, rule),
                        expect,
                        "{what}: {:?}",
                        c.checklist.warnings
                    );
                    assert!(
                        c.applicant.warnings.is_empty(),
                        "{what}: {:?}",
                        c.applicant.warnings
                    );
                    assert_submittable(&c, &what);
                    if expect {
                        fire += 1
                    } else {
                        quiet += 1
                    }
                }
            }
        }
    }
    let rules: usize = catalogue().services().iter().map(|s| s.rules.len()).sum();
    assert_eq!(rules, 18);
    assert_eq!((fire, quiet), (20, 29));
}

/// A document-rule stays quiet once one of its documents is provided. Checked with the
/// checklist directly (the provided set), because some rule documents cannot be attached
/// through the form; those that can are checked through `check_application` too.
#[test]
fn a_rule_document_silences_its_rule() {
    let mut cases = 0;
    for s in catalogue().services() {
        for rule in &s.rules {
            let documents = rule_documents(rule);
            let firing = match rule {
                Rule::DocumentNeededWhenField { field, values, .. } => {
                    Case::complete(s, &documents).value(field, &values[0])
                }
                Rule::DocumentNeededWhenAge {
                    field,
                    age_from,
                    age_under,
                    ..
                } => {
                    let date = match (age_from, age_under) {
                        (Some(from), _) => years_ago(*from),
                        (None, Some(under)) => years_ago(*under).succ_opt().unwrap(),
                        (None, None) => unreachable!("validated: one bound is set"),
                    };
                    Case::complete(s, &documents).date(field, date)
                }
                _ => continue,
            };
            assert!(fired(&firing.run(s), rule), "{}: {rule:?}", s.code);
            for d in &documents {
                let what = format!("{} {} with {d}", s.code, rule.field());
                // The checklist itself.
                let mut provided: BTreeSet<String> =
                    firing.slots.iter().map(|sl| sl.slot.clone()).collect();
                provided.insert(d.clone());
                let mut form = firing.fields.clone();
                form.insert("birth_date".into(), firing.applicant.birth_date.clone());
                let list = s.checklist(&provided, &form, today());
                let quiet = !list.warnings.iter().any(|w| {
                    w.field == rule.field()
                        && (w.message_id.as_str(), w.message_en.as_str()) == rule.messages()
                });
                assert!(quiet, "{what}: {:?}", list.warnings);
                assert!(list.is_complete(), "{what}");
                // The whole application, where the form can take the document.
                if s.document_for_slot(d).is_some() {
                    let c = firing.clone().with_document(s, d).run(s);
                    assert!(!fired(&c, rule), "{what}");
                    assert_submittable(&c, &what);
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 17);
}

/// DOMAIN.md §3 asks for these papers only in some cases (photos for a KIA from age 5, the
/// court's dispensation under 19, the divorce or death certificate of a previous marriage), so
/// the catalogue models them as soft-rule documents. The operator must be able to attach them:
/// the rule's own warning says to, and the back office needs the paper.
#[test]
fn every_rule_document_can_be_attached() {
    let mut refused = Vec::new();
    for s in catalogue().services() {
        for rule in &s.rules {
            for d in rule_documents(rule) {
                let mut case = Case::complete(s, &[]);
                let kind = catalogue()
                    .documents()
                    .iter()
                    .find(|x| x.id == d)
                    .unwrap()
                    .kind;
                case.slots.push(slot_for(&d, kind));
                let c = case.run(s);
                if !c.slot_problems.is_empty() || !c.can_submit() {
                    refused.push(format!("{}: {d} → {:?}", s.code, c.slot_problems));
                }
            }
        }
    }
    assert!(refused.is_empty(), "{refused:#?}");
}

/// Hand-written soft-rule cases with the law's numbers (today is 2026-11-22): service,
/// applicant's birth date (None: 2003-02-15), field values over the valid ones, slots (None:
/// the first alternatives), the fields that warn.
#[test]
fn pinned_soft_rules() {
    type Pinned = (
        &'static str,
        Option<&'static str>,
        &'static [(&'static str, &'static str)],
        Option<&'static [&'static str]>,
        &'static [&'static str],
    );
    #[rustfmt::skip]
    let cases: &[Pinned] = &[
        // Birth reported within 60 days (UU 24/2013 Ps 27).
        ("akta_kelahiran", None, &[("child_birth_date", "2026-09-23")], None, &[]),
        ("akta_kelahiran", None, &[("child_birth_date", "2026-09-22")], None, &["child_birth_date"]),
        ("akta_kelahiran", None, &[("child_birth_date", "2020-01-01")], None, &["child_birth_date"]),
        // Death within 30 days (Ps 44).
        ("akta_kematian", None, &[("death_date", "2026-10-23")], None, &[]),
        ("akta_kematian", None, &[("death_date", "2026-10-22")], None, &["death_date"]),
        // Marriage and divorce within 60 days.
        ("akta_perkawinan", None, &[("marriage_date", "2026-09-23")], None, &[]),
        ("akta_perkawinan", None, &[("marriage_date", "2026-09-22")], None, &["marriage_date"]),
        ("akta_perceraian", None, &[("court_decision_final_date", "2026-09-23")], None, &[]),
        ("akta_perceraian", None, &[("court_decision_final_date", "2026-09-22")], None, &["court_decision_final_date"]),
        // KTP-el from 17, or younger when married or ever married.
        ("ktp_el_baru", Some("2009-11-22"), &[("marital_status", "belum_kawin")], None, &[]),
        ("ktp_el_baru", Some("2009-11-23"), &[("marital_status", "belum_kawin")], None, &["birth_date"]),
        ("ktp_el_baru", Some("2010-05-01"), &[("marital_status", "kawin")], None, &[]),
        ("ktp_el_baru", Some("2010-05-01"), &[("marital_status", "cerai_hidup")], None, &[]),
        ("ktp_el_baru", Some("2010-05-01"), &[("marital_status", "cerai_mati")], None, &[]),
        // KIA: two photos from age 5.
        ("kia", None, &[("child_birth_date", "2021-11-23")], None, &[]),
        ("kia", None, &[("child_birth_date", "2021-11-22")], None, &["child_birth_date"]),
        ("kia", None, &[("child_birth_date", "2012-01-01")], None, &["child_birth_date"]),
        // Akta perkawinan: dispensation under 19; previous marriage ended.
        ("akta_perkawinan", None, &[("wife_birth_date", "2007-11-23")], None, &["wife_birth_date"]),
        ("akta_perkawinan", None, &[("wife_birth_date", "2007-11-22")], None, &[]),
        ("akta_perkawinan", None, &[("husband_birth_date", "2008-06-01")], None, &["husband_birth_date"]),
        ("akta_perkawinan", None, &[("husband_previous_status", "cerai_hidup")], None, &["husband_previous_status"]),
        ("akta_perkawinan", None, &[("wife_previous_status", "cerai_mati")], None, &["wife_previous_status"]),
        // Several at once, each beside its field.
        ("akta_perkawinan", None,
         &[("marriage_date", "2026-01-01"), ("wife_birth_date", "2008-06-01"), ("husband_previous_status", "cerai_mati")],
         None, &["marriage_date", "wife_birth_date", "husband_previous_status"]),
        // Lost or damaged: the paper that goes with the cause.
        ("ktp_el_hilang_rusak", None, &[("cause", "hilang")], Some(&["surat_kehilangan_polisi", "kk"]), &[]),
        ("ktp_el_hilang_rusak", None, &[("cause", "hilang")], Some(&["ktp_el_rusak", "kk"]), &["cause"]),
        ("ktp_el_hilang_rusak", None, &[("cause", "rusak")], Some(&["ktp_el_rusak", "kk"]), &[]),
        ("ktp_el_hilang_rusak", None, &[("cause", "rusak")], Some(&["surat_kehilangan_polisi", "kk"]), &["cause"]),
        ("kk_hilang_rusak", None, &[("cause", "rusak")], Some(&["kk_rusak", "ktp_el"]), &[]),
        ("kk_hilang_rusak", None, &[("cause", "rusak")], Some(&["surat_kehilangan_polisi", "ktp_el"]), &["cause"]),
        // KK baru: the paper that goes with the reason.
        ("kk_baru", None, &[("reason", "perkawinan")], Some(&["sptjm_f105", "witness#1", "witness#2"]), &[]),
        ("kk_baru", None, &[("reason", "perkawinan")], Some(&["akta_cerai"]), &["reason"]),
        ("kk_baru", None, &[("reason", "kepala_keluarga_meninggal")], Some(&["akta_kematian", "kk_lama"]), &[]),
        ("kk_baru", None, &[("reason", "kepala_keluarga_meninggal")], Some(&["buku_nikah"]), &["reason"]),
        ("kk_baru", None, &[("reason", "pisah_kk")], Some(&["ktp_el", "kk_lama"]), &[]),
        ("kk_baru", None, &[("reason", "pisah_kk")], Some(&["buku_nikah"]), &["reason"]),
        // KK perubahan: adding a member needs the birth certificate or the SKPWNI.
        ("kk_perubahan_data", None, &[("change_kind", "tambah_anggota")], Some(&["kk_lama", "skpwni"]), &[]),
        ("kk_perubahan_data", None, &[("change_kind", "tambah_anggota")], Some(&["kk_lama", "bukti_perubahan"]), &["change_kind"]),
        ("kk_perubahan_data", None, &[("change_kind", "ubah_data")], Some(&["kk_lama", "bukti_perubahan"]), &[]),
    ];
    for (code, born, values, slots, expected) in cases {
        let s = service(code);
        let applicant = match born {
            Some(d) => applicant_born(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
            None => applicant(),
        };
        let mut fields = valid_fields(code);
        for (k, v) in *values {
            fields.insert(k.to_string(), v.to_string());
        }
        let slots = match slots {
            Some(names) => law_slots(names),
            None => complete_slots(s, |_| 0),
        };
        let c = check(s, &applicant, &fields, &slots);
        let what = format!("{code} {born:?} {values:?} {:?}", names(&slots));
        let warned: Vec<&str> = c
            .checklist
            .warnings
            .iter()
            .map(|w| w.field.as_str())
            .collect();
        assert_eq!(&warned, expected, "{what}");
        assert_submittable(&c, &what);
    }
}
