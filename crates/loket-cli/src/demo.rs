//! Demo data for `loket serve --demo`: a few applications from a neighbouring village, so a
//! reviewer opening the app for the first time sees a realistic queue.

use chrono::{Duration, TimeZone, Utc};
use loket_backoffice::BackofficeStore;
use loket_domain::{validate_applicant, ApplicantForm, ProvidedDocument, ServiceCode};
use loket_qr::IssuingKey;
use loket_sync::protocol::{ApplicationEnvelope, DeviceRef};
use uuid::Uuid;

const PEOPLE: &[(&str, &str, &str, &str, &str)] = &[
    (
        "7315014811040002",
        "Nur Aisyah Rahman",
        "Pinrang",
        "2004-11-08",
        "female",
    ),
    (
        "7315010203060001",
        "Muhammad Fadli",
        "Pinrang",
        "2006-03-02",
        "male",
    ),
    (
        "7315016105070004",
        "Sitti Hajrah",
        "Parepare",
        "2007-05-21",
        "female",
    ),
];

/// Fills an empty back office with three applications: one issued, one rejected, one waiting.
pub fn seed_backoffice(
    store: &mut BackofficeStore,
    key: &IssuingKey,
    signer: &(String, String),
) -> anyhow::Result<()> {
    let device = DeviceRef {
        village_code: "7315012004".into(),
        device_no: 1,
    };
    let now = Utc::now();
    let captured = chrono::FixedOffset::east_opt(8 * 3600).expect("WITA offset");
    let mut envelopes = Vec::new();
    for (i, (nik, name, place, date, sex)) in PEOPLE.iter().enumerate() {
        let form = ApplicantForm {
            nik: nik.to_string(),
            full_name: name.to_string(),
            birth_place: place.to_string(),
            birth_date: date.to_string(),
            sex: sex.to_string(),
            address: format!("Dusun Mattombong RT 00{} RW 001", i + 1),
            phone: format!("08124455667{i}"),
        };
        let data = validate_applicant(&form, now.date_naive())
            .value
            .ok_or_else(|| anyhow::anyhow!("demo person {name} does not validate"))?;
        let at = captured.from_utc_datetime(&(now - Duration::hours(30 - i as i64)).naive_utc());
        envelopes.push(ApplicationEnvelope {
            id: Uuid::now_v7(),
            tracking_number: format!("7315012004-001-{}-{:04}", at.format("%y%m%d"), i + 1),
            service: ServiceCode::parse("ktp_el_baru")?,
            captured_at: at,
            operator: "Operator Demo".into(),
            data,
            catalogue_version: loket_catalogue::catalogue().version().to_string(),
            fields: [
                ("nomor_kk".to_string(), "7315011203150007".to_string()),
                ("marital_status".to_string(), "belum_kawin".to_string()),
            ]
            .into(),
            provided: vec![ProvidedDocument {
                slot: "perekaman_biometrik".into(),
                pages: vec![],
            }],
            revision: 0,
            revision_id: None,
        });
    }
    store.submit(&device, &envelopes, now)?;
    store.approve_and_issue(envelopes[0].id, key, signer, now, now.date_naive())?;
    store.reject(
        envelopes[1].id,
        "Pindaian KK tidak terbaca; mohon datang membawa KK asli.",
        now,
    )?;
    Ok(())
}
