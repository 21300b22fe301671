//! The village store at 10,000 applications (issue 4, "Evidence"): a busy village's years of
//! work in one file must still list newest-first and hand the sync the oldest outbox items.
//! No timing assertions here; `loket bench` measures speed.

use chrono::{DateTime, Duration, NaiveDate};
use loket_domain::{validate_applicant, Applicant, ApplicantForm, RegionCode, ServiceCode};
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, VillageStore};
use std::collections::HashSet;
use std::path::Path;
use uuid::Uuid;

const N: u64 = 10_000;
/// Applications per simulated day (a realistic busy village; far under the 9,999 allowed).
const PER_DAY: u64 = 40;

const FIRST: &[&str] = &[
    "Andi", "Muhammad", "Siti", "Nur", "Ahmad", "Sri", "Dewi", "Budi", "Rahmat", "Fitri", "Agus",
    "Wahyuni",
];
const LAST: &[&str] = &[
    "Tenri Ajeng",
    "Hasanuddin",
    "Rahayu",
    "Saputra",
    "Lestari",
    "Syamsuddin",
    "Pratama",
    "Kurniawati",
    "Makmur",
];

/// A valid KTP-el form that differs for every `i`: name, and a NIK whose birth date, sex and
/// serial agree with the declared ones.
fn applicant(i: u64) -> Applicant {
    let female = i & 1 == 0;
    let day = 1 + (i % 28) as u32;
    let month = 1 + ((i / 28) % 12) as u32;
    let year = 1970 + ((i / 336) % 35) as i32;
    let serial = 1 + (i % 9_999);
    let nik_day = if female { day + 40 } else { day };
    let nik = format!(
        "731501{nik_day:02}{month:02}{:02}{serial:04}",
        year.rem_euclid(100)
    );
    let form = ApplicantForm {
        nik,
        full_name: format!(
            "{} {}",
            FIRST[(i % FIRST.len() as u64) as usize],
            LAST[((i / 7) % LAST.len() as u64) as usize]
        ),
        birth_place: "Pinrang".into(),
        birth_date: format!("{year:04}-{month:02}-{day:02}"),
        sex: if female { "female" } else { "male" }.into(),
        address: format!("Dusun {} RT {:03}", 1 + i % 5, 1 + i % 17),
        phone: format!("0812{:08}", i),
    };
    let report = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    report
        .value
        .unwrap_or_else(|| panic!("applicant {i} invalid: {:?}", report.errors))
}

fn open_store(path: &Path) -> VillageStore {
    VillageStore::open_encrypted(path, &DatabaseKey::from_bytes([0x5A; 32])).expect("store opens")
}

#[test]
fn ten_thousand_applications_list_newest_first_and_queue_oldest_first() {
    // This test is about size, not durability (crash.rs covers that): on Linux the file goes on
    // tmpfs when there is one, so 10,000 fsyncs do not dominate the run on slow disks.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let path = dir.path().join("village.sqlite");
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    let base = DateTime::parse_from_rfc3339("2024-01-02T08:00:00+08:00").unwrap();
    let mut ids = Vec::with_capacity(N as usize);
    let ktp = ServiceCode::parse("ktp_el_baru").unwrap();
    {
        let mut store = open_store(&path);
        for i in 0..N {
            let now = base
                + Duration::days((i / PER_DAY) as i64)
                + Duration::minutes((i % PER_DAY) as i64 * 10);
            let id = Uuid::from_u128(0x1000_0000 + u128::from(i));
            let app = store
                .register(
                    &device,
                    &NewApplication::new(ktp.clone(), "2026.11.1", applicant(i)),
                    "op",
                    now,
                    id,
                )
                .unwrap();
            assert_eq!(app.id, id);
            ids.push(id);
        }
    }

    // Reopened from the file, as after a restart.
    let store = open_store(&path);
    let all = store.applications().unwrap();
    assert_eq!(all.len(), N as usize);
    let listed: Vec<Uuid> = all.iter().map(|a| a.id).collect();
    let newest_first: Vec<Uuid> = ids.iter().rev().copied().collect();
    assert_eq!(listed, newest_first, "applications() is not newest first");
    assert!(all.windows(2).all(|w| w[0].captured_at >= w[1].captured_at));
    let numbers: HashSet<&str> = all.iter().map(|a| a.tracking_number.as_str()).collect();
    assert_eq!(numbers.len(), N as usize, "tracking numbers repeat");
    let niks: HashSet<String> = all.iter().map(|a| a.data.nik.to_string()).collect();
    assert!(niks.len() > 1_000, "NIKs not varied: {}", niks.len());
    assert_eq!(all[0].data, applicant(N - 1), "form data round-trips");

    let oldest = store.outbox(100).unwrap();
    assert_eq!(oldest.len(), 100);
    assert_eq!(
        oldest.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[..100].to_vec(),
        "outbox(100) is not the oldest 100"
    );
    assert_eq!(
        store.outbox_counts().unwrap(),
        vec![("queued".to_string(), N as i64)]
    );
}
