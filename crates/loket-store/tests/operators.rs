//! Operator accounts and encryption at rest: the keyring unwraps the SQLCipher key.

use chrono::{DateTime, NaiveDate};
use loket_domain::{validate_applicant, ApplicantForm, RegionCode, ServiceCode};
use loket_store::{
    DatabaseKey, DeviceIdentity, KdfParams, Keyring, KeyringError, LoginError, NewApplication,
    StoreError, VillageStore,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use uuid::Uuid;

const RESIDENT: &str = "Andi Tenri Ajeng";

fn register_one(store: &mut VillageStore, operator: &str) {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: RESIDENT.into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: "081234567890".into(),
    };
    let value = validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap();
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    };
    store
        .register(
            &device,
            &NewApplication::new(
                ServiceCode::parse("ktp_el_baru").unwrap(),
                "2026.11.1",
                value,
            ),
            operator,
            DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap(),
            Uuid::from_u128(1),
        )
        .unwrap();
}

fn first_run(dir: &std::path::Path) -> (Keyring, DatabaseKey) {
    let mut ring = Keyring::load(&dir.join("operators.json")).unwrap();
    assert!(ring.is_empty());
    let mut rng = StdRng::seed_from_u64(1);
    let (key, op) = ring
        .create_first_operator(
            "hasna",
            "Hasnawati",
            "rahasia-desa-1",
            KdfParams::default(),
            &mut rng,
        )
        .unwrap();
    assert_eq!(op.display_name, "Hasnawati");
    (ring, key)
}

#[test]
fn login_opens_the_encrypted_store_and_the_file_reveals_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let (ring, key) = first_run(dir.path());
    {
        let mut store = VillageStore::open_encrypted(&db, &key).unwrap();
        register_one(&mut store, "Hasnawati");
    }
    // The WAL is checkpointed into the main file when the last connection closes.
    let bytes = std::fs::read(&db).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0");
    let needle = RESIDENT.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }

    let started = std::time::Instant::now();
    let (again, op) = ring.unlock("hasna", "rahasia-desa-1").unwrap();
    eprintln!("unlock (Argon2id 19 MiB, t=2) took {:?}", started.elapsed());
    assert_eq!(op.username, "hasna");
    let store = VillageStore::open_encrypted(&db, &again).unwrap();
    assert_eq!(store.applications().unwrap()[0].data.full_name, RESIDENT);
    assert_eq!(store.applications().unwrap()[0].operator, "Hasnawati");
}

#[test]
fn wrong_password_and_unknown_user_are_refused_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, _) = first_run(dir.path());
    let wrong = ring.unlock("hasna", "rahasia-desa-2").unwrap_err();
    let unknown = ring.unlock("siapa", "rahasia-desa-1").unwrap_err();
    assert_eq!(wrong, LoginError::WrongCredentials);
    assert_eq!(unknown, wrong);
    assert_eq!(wrong.to_string(), "Nama pengguna atau kata sandi salah");
}

#[test]
fn a_wrong_key_does_not_open_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let (_, key) = first_run(dir.path());
    drop(VillageStore::open_encrypted(&db, &key).unwrap());
    let other = DatabaseKey::from_bytes([9; 32]);
    assert!(matches!(
        VillageStore::open_encrypted(&db, &other),
        Err(StoreError::WrongKey)
    ));
}

#[test]
fn a_second_operator_unlocks_the_same_store_and_the_keyring_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let ring_path = dir.path().join("operators.json");
    let (mut ring, key) = first_run(dir.path());
    {
        let mut store = VillageStore::open_encrypted(&db, &key).unwrap();
        register_one(&mut store, "Hasnawati");
    }
    let mut rng = StdRng::seed_from_u64(2);
    ring.add_operator(
        &key,
        "baso",
        "Baso",
        "kata-sandi-baso",
        KdfParams::default(),
        &mut rng,
    )
    .unwrap();
    assert!(matches!(
        ring.add_operator(
            &key,
            "baso",
            "Baso Lagi",
            "kata-sandi-baso",
            KdfParams::default(),
            &mut rng
        ),
        Err(KeyringError::UsernameTaken)
    ));
    assert!(matches!(
        ring.add_operator(
            &key,
            "rina",
            "Rina",
            "pendek",
            KdfParams::default(),
            &mut rng
        ),
        Err(KeyringError::PasswordTooShort)
    ));
    drop(ring);

    let ring = Keyring::load(&ring_path).unwrap();
    let names: Vec<_> = ring.operators().into_iter().map(|o| o.username).collect();
    assert_eq!(names, ["hasna", "baso"]);
    let (key2, op) = ring.unlock("baso", "kata-sandi-baso").unwrap();
    assert_eq!(op.display_name, "Baso");
    let store = VillageStore::open_encrypted(&db, &key2).unwrap();
    assert_eq!(store.applications().unwrap().len(), 1);
    // The keyring file holds no key in the clear and no password.
    let text = std::fs::read_to_string(&ring_path).unwrap();
    assert!(!text.contains("kata-sandi-baso"));
    assert!(!text.contains(&"07".repeat(32)));
}

#[test]
fn first_run_happens_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ring, _) = first_run(dir.path());
    let mut rng = StdRng::seed_from_u64(3);
    assert!(matches!(
        ring.create_first_operator(
            "lain",
            "Lain",
            "rahasia-lain",
            KdfParams::default(),
            &mut rng
        ),
        Err(KeyringError::AlreadyInitialised)
    ));
}

#[test]
fn a_plain_store_from_before_accounts_is_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    {
        // What the plain `VillageStore::open` used to make: a plain SQLite file in WAL mode.
        let plain = rusqlite::Connection::open(&db).unwrap();
        plain
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE legacy (name TEXT);
                 INSERT INTO legacy VALUES ('Andi Tenri Ajeng');",
            )
            .unwrap();
    }
    assert_eq!(&std::fs::read(&db).unwrap()[..16], b"SQLite format 3\0");
    let key = DatabaseKey::from_bytes([5; 32]);
    VillageStore::encrypt_plain_file(&db, &key).unwrap();
    let bytes = std::fs::read(&db).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0");
    let needle = RESIDENT.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    let mut store = VillageStore::open_encrypted(&db, &key).unwrap();
    register_one(&mut store, "Hasnawati");
    drop(store);
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "05".repeat(32)))
        .unwrap();
    let name: String = raw
        .query_row("SELECT name FROM legacy", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, RESIDENT);
}
