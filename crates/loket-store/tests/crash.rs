//! Crash safety with a real process killed mid-write (issue 4, "Evidence").
//!
//! `killed_writer_loses_no_acknowledged_application` re-executes this very test binary with
//! `LOKET_CRASH_CHILD=<store path>` set, running only `crash_child_writer`. That child registers
//! applications in a loop and prints `LOKET-ACK <id>` after each commit, flushing every line. The parent
//! lets it run for a seeded 200–600 ms, `kill -9`s it (`Child::kill` is SIGKILL on Unix), then
//! reopens the store and checks that nothing acknowledged was lost or duplicated, that every
//! application still has its outbox row, that tracking numbers are unique and gapless per day and
//! that SQLite's own integrity check passes. Several rounds append to the same file.
//!
//! Set `LOKET_CRASH_SEED=<u64>` to replay a particular sequence of kill times.

use chrono::{DateTime, Duration as ChronoDuration, FixedOffset, NaiveDate};
use loket_domain::{validate_applicant, Applicant, ApplicantForm, RegionCode, ServiceCode};
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, VillageStore};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const CHILD_ENV: &str = "LOKET_CRASH_CHILD";
const ROUND_ENV: &str = "LOKET_CRASH_ROUND";
/// What the child prints, followed by the id, once an application is committed.
const ACK: &str = "LOKET-ACK ";
const ROUNDS: u64 = 5;
/// Registrations per simulated day, well under the 9,999 a tracking number allows.
const PER_DAY: u64 = 1_000;

fn device() -> DeviceIdentity {
    DeviceIdentity {
        village: RegionCode::parse_village("7315012003").unwrap(),
        device_no: 1,
    }
}

fn sample() -> NewApplication {
    NewApplication::new(
        ServiceCode::parse("ktp_el_baru").unwrap(),
        "2026.11.1",
        applicant(),
    )
}

fn applicant() -> Applicant {
    let form = ApplicantForm {
        nik: "7315015507050003".into(),
        full_name: "Andi Tenri Ajeng".into(),
        birth_place: "Pinrang".into(),
        birth_date: "2005-07-15".into(),
        sex: "female".into(),
        address: "Massulowalie".into(),
        phone: "081234567890".into(),
    };
    validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        .value
        .unwrap()
}

/// The SQLCipher key of the test store (raw 32 bytes, as the keyring would unwrap).
const KEY: [u8; 32] = [0x5A; 32];

/// Opens the store the way the app does. One place to adapt if the constructor changes.
fn open_store(path: &Path) -> VillageStore {
    VillageStore::open_encrypted(path, &DatabaseKey::from_bytes(KEY)).expect("store opens")
}

/// A second SQLCipher connection on the same file, for checks the store API does not expose.
fn raw_conn(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("raw connection opens");
    let hex: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .expect("key accepted");
    conn
}

/// Not a check on its own: the writer half of the crash test, active only in the child process.
#[test]
fn crash_child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let round: u64 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let mut store = open_store(Path::new(&path));
    let device = device();
    let data = sample();
    let base = DateTime::parse_from_rfc3339("2026-11-22T08:00:00+08:00").unwrap();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Each round writes on its own block of days, so "gapless per day" is checked per round.
    for i in 0.. {
        let day = round * 100 + i / PER_DAY;
        let now = base
            + ChronoDuration::days(day as i64)
            + ChronoDuration::milliseconds((i % PER_DAY) as i64);
        let id = Uuid::now_v7();
        store.register(&device, &data, "op", now, id).unwrap();
        // Acknowledge only after the commit returned, exactly as the UI does.
        writeln!(out, "{ACK}{id}").unwrap();
        out.flush().unwrap();
    }
}

/// splitmix64: a tiny seeded generator, so kill times are reproducible without extra crates.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs one child until a seeded moment after its first commit, kills it, and returns the ids it
/// acknowledged.
fn run_and_kill(path: &Path, round: u64, rng: &mut u64) -> Vec<Uuid> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        // `lines` only yields complete lines; a fragment cut by the kill has no newline and is
        // dropped — it was never fully acknowledged.
        let mut buf = BufReader::new(stdout);
        let mut line = String::new();
        while buf.read_line(&mut line).unwrap_or(0) > 0 {
            if line.ends_with('\n') {
                let _ = tx.send(line.trim_end().to_string());
            }
            line.clear();
        }
    });

    let mut acked = Vec::new();
    let take = |line: String, acked: &mut Vec<Uuid>| {
        // libtest prints "test crash_child_writer ... " without a newline before the test runs,
        // so the marker is searched for, not expected at the start of the line.
        if let Some(at) = line.find(ACK) {
            let id = &line[at + ACK.len()..];
            acked.push(Uuid::parse_str(id).expect("well-formed ack"));
        }
    };
    // Wait for the first commit so the kill always lands while the child is writing.
    let start = Instant::now();
    while acked.is_empty() {
        let line = rx
            .recv_timeout(Duration::from_secs(20).saturating_sub(start.elapsed()))
            .expect("child acknowledges a first application");
        take(line, &mut acked);
    }
    let run_for = Duration::from_millis(200 + splitmix(rng) % 401);
    std::thread::sleep(run_for);
    child.kill().expect("SIGKILL delivered");
    child.wait().unwrap();
    reader.join().unwrap();
    for line in rx.try_iter() {
        take(line, &mut acked);
    }
    eprintln!(
        "round {round}: killed after {} ms, {} acknowledged",
        run_for.as_millis(),
        acked.len()
    );
    acked
}

#[test]
fn killed_writer_loses_no_acknowledged_application() {
    let seed: u64 = std::env::var("LOKET_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x10CE7);
    eprintln!("LOKET_CRASH_SEED={seed}");
    let mut rng = seed;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.sqlite");
    let mut all_acked: Vec<Uuid> = Vec::new();

    for round in 0..ROUNDS {
        let acked = run_and_kill(&path, round, &mut rng);
        assert!(!acked.is_empty(), "round {round}: nothing acknowledged");
        all_acked.extend(acked);

        // The file opens with the app's own constructor, and reads back fully.
        let store = open_store(&path);
        let apps = store.applications().expect("all applications parse");
        let mut seen = HashSet::new();
        for a in &apps {
            assert!(seen.insert(a.id), "application {} stored twice", a.id);
        }
        for id in &all_acked {
            assert!(seen.contains(id), "acknowledged application {id} lost");
        }
        // The store may hold at most one more: committed but killed before it was printed.
        assert!(
            apps.len() - all_acked.len() <= round as usize + 1,
            "{} applications stored but only {} acknowledged",
            apps.len(),
            all_acked.len()
        );
        let outbox = store.outbox(usize::MAX >> 1).unwrap();
        assert_eq!(
            outbox.len(),
            apps.len(),
            "an application lacks its outbox row"
        );
        drop(store);

        let conn = raw_conn(&path);
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
        let orphans: i64 = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM applications a
                         WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.application_id = a.id))
                      + (SELECT COUNT(*) FROM outbox o
                         WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = o.application_id))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0, "applications and outbox rows do not pair up");

        // Tracking numbers: unique, and per day exactly 1..=n with the counter at n.
        let mut per_day: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut numbers = HashSet::new();
        for a in &apps {
            assert!(
                numbers.insert(a.tracking_number.clone()),
                "duplicate number"
            );
            let mut parts = a.tracking_number.rsplitn(2, '-');
            let counter: u32 = parts.next().unwrap().parse().unwrap();
            let day = parts
                .next()
                .unwrap()
                .rsplit('-')
                .next()
                .unwrap()
                .to_string();
            per_day.entry(day).or_default().push(counter);
        }
        let counters: BTreeMap<String, u32> = conn
            .prepare("SELECT day, last FROM daily_counters")
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| {
                let (day, last) = r.unwrap();
                let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap();
                (day.format("%y%m%d").to_string(), last)
            })
            .collect();
        assert_eq!(counters.len(), per_day.len(), "counter rows vs days used");
        for (day, mut got) in per_day {
            got.sort_unstable();
            let n = got.len() as u32;
            assert_eq!(got, (1..=n).collect::<Vec<_>>(), "gap on day {day}");
            assert_eq!(counters[&day], n, "daily counter of {day} out of step");
        }
    }
    // Captured times are per-round blocks; the order check keeps `applications()` honest too.
    let store = open_store(&path);
    let apps = store.applications().unwrap();
    let times: Vec<DateTime<FixedOffset>> = apps.iter().map(|a| a.captured_at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
}
