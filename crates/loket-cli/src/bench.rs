//! `loket bench [--quick] [--json FILE]`: how fast the village laptop's store and scan intake
//! are on *this* machine, each number beside a reference measured in the same run.
//!
//! The reference is the raw SQLite insert rate: plain `INSERT`s of a row comparable to an
//! application (id, tracking number, form JSON, operator, time) into a scratch table of a store
//! file of the same kind — SQLCipher-encrypted, WAL, `synchronous=FULL` — one transaction per
//! row. It is sampled interleaved with the write samples (one raw insert, one register or save),
//! after 500 untimed inserts that recycle the scratch file's WAL once, so both see the same disk.
//! That rate is bounded by the disk's fsync, so dividing by it makes numbers from different
//! laptops comparable: "register = 0.8× raw insert" means registering costs about one durable
//! write plus 25 %.
//!
//! Measured, in one run and in a fresh temporary directory (`TMPDIR`, normally on the real disk;
//! the output names the file system, because on tmpfs an fsync costs nothing and the write
//! numbers say nothing about a laptop):
//! - `loket_scan::intake` per page on three sources: a synthetic phone photo (3000×4000 RGB
//!   JPEG of a slightly rotated, unevenly lit page on a table), the repository's
//!   `assets/demo/contoh-kk.jpg`, and a synthetic 300-dpi A4 flatbed scan (PNG): milliseconds
//!   per page and compression ratio (upload bytes ÷ stored JPEG bytes);
//! - `VillageStore::register` latency p50/p99 and rate with 0, 500 and 5,000 applications
//!   already stored (the store is filled with `register` itself between the levels);
//! - saving an application with 3 scans (a birth certificate with its three papers, one page
//!   each from the three sources): `put_scan` ×3 + `register`, four transactions, p50/p99 —
//!   intake is not included, it happens while the operator is still filling the form;
//! - listing all applications and a few typical searches (`VillageStore::search`: name part,
//!   NIK, tracking number, service, no hit) once 10,000 are stored.
//!
//! The full run ends with the documents/QR section (`crate::bench_qr`: verify throughput
//! against raw `verify_strict`, decode + verify from 300/150-dpi and rotated scans against
//! `zbarimg`, PDF render time, size and determinism); `--qr` runs that section alone.
//!
//! Every rate is also given as a ratio to the raw insert rate. `--quick` uses fewer samples and
//! smaller stores (0, 100 and 1,000 existing; listing and search at 2,000) for a run of a few
//! seconds. The full run is bounded by about 12,000 durable writes plus 15 scan intakes, well
//! under a minute in a release build on an SSD. This is a measurement, never a test: nothing
//! here asserts a time.

use anyhow::Context;
use chrono::{DateTime, Duration as ChronoDuration, FixedOffset, NaiveDate};
use loket_domain::{
    validate_applicant, Applicant, ApplicantForm, ProvidedDocument, RegionCode, ServiceCode,
};
use loket_store::{
    ApplicationQuery, DatabaseKey, DeviceIdentity, NewApplication, NewScan, VillageStore,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Sizes of one run.
struct Plan {
    samples: usize,
    levels: [usize; 3],
    /// Saves with 3 scans, measured after the last register level.
    saves: usize,
    list_at: usize,
    /// Repetitions of each search query.
    searches: usize,
    /// Intake runs per scan source.
    scan_runs: usize,
}

const FULL: Plan = Plan {
    samples: 200,
    levels: [0, 500, 5_000],
    saves: 200,
    list_at: 10_000,
    searches: 20,
    scan_runs: 5,
};

const QUICK: Plan = Plan {
    samples: 50,
    levels: [0, 100, 1_000],
    saves: 30,
    list_at: 2_000,
    searches: 5,
    scan_runs: 1,
};

/// Untimed raw inserts before the reference is measured.
const RAW_WARMUP: usize = 500;

/// Applications per simulated day, so the 9,999-per-day tracking counter never runs out.
const PER_DAY: usize = 40;

/// The example family card shipped for the demo: a real-world-sized grayscale JPEG.
const CONTOH_KK: &[u8] = include_bytes!("../../../assets/demo/contoh-kk.jpg");

/// The three papers of a birth certificate application and which scan source plays each.
const SAVE_SLOTS: [(&str, usize); 3] =
    [("surat_keterangan_lahir", 0), ("kk", 1), ("buku_nikah", 2)];

/// Runs the benchmark, prints a table and writes the JSON report to `json` if given; with
/// `qr_only`, only the documents/QR section.
pub fn run(quick: bool, qr_only: bool, json_path: Option<&Path>) -> anyhow::Result<()> {
    if qr_only {
        return run_qr_only(quick, json_path);
    }
    let plan = if quick { &QUICK } else { &FULL };
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let key_bytes: [u8; 32] = rand::random();
    let key = DatabaseKey::from_bytes(key_bytes);
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let fs = filesystem_of(dir.path());
    eprintln!(
        "loket bench ({}, {build} build) in {} ({fs})",
        if quick { "quick" } else { "full" },
        dir.path().display()
    );
    if matches!(fs.as_str(), "tmpfs" | "ramfs") {
        eprintln!(
            "warning: {} is in memory ({fs}): write latencies are not disk latencies; \
             set TMPDIR to a directory on the laptop's disk",
            dir.path().display()
        );
    }

    // Scan intake first: its pages are what the saves below store.
    let sources = scan_sources()?;
    let mut scans = Vec::with_capacity(sources.len());
    for source in &sources {
        scans.push(intake_runs(source, plan.scan_runs)?);
    }

    // The reference is measured interleaved with the write samples (one raw insert, one
    // register or save), so both see the same disk and cache conditions.
    // Before timing, enough untimed inserts to fill and recycle the raw file's WAL once: a
    // growing WAL file costs more per fsync than a recycled one, and the store's WAL is recycled
    // from a few hundred applications on.
    let mut raw_table = RawTable::create(&dir.path().join("raw.sqlite"), &key_bytes)?;
    for _ in 0..RAW_WARMUP {
        raw_table.insert()?;
    }
    let mut raw_lat = Vec::new();

    // Register at increasing store sizes, then saves with scans, then list and search.
    let mut store = VillageStore::open_encrypted(&dir.path().join("village.sqlite"), &key)
        .context("opening the bench store")?;
    let device = DeviceIdentity {
        village: RegionCode::parse_village("7315012003").expect("known village"),
        device_no: 1,
    };
    let mut stored = 0usize;
    let mut register_rows = Vec::new();
    for &level in &plan.levels {
        while stored < level {
            register_one(&mut store, &device, stored)?;
            stored += 1;
        }
        let mut lat = Vec::with_capacity(plan.samples);
        for _ in 0..plan.samples {
            raw_lat.push(raw_table.insert()?);
            let t = Instant::now();
            register_one(&mut store, &device, stored)?;
            lat.push(t.elapsed());
            stored += 1;
        }
        register_rows.push((level, Samples(lat)));
    }

    let save_at = stored;
    let mut save_lat = Vec::with_capacity(plan.saves);
    let mut save_bytes = 0usize;
    for k in 0..plan.saves {
        // Pages and form are made before the clock starts: only the store's work is timed.
        let (pages, mut new) = birth_certificate(&scans, stored, k)?;
        save_bytes = pages.iter().map(|p| p.bytes.len()).sum();
        raw_lat.push(raw_table.insert()?);
        let now = captured_at(stored);
        let t = Instant::now();
        for ((slot, _), page) in SAVE_SLOTS.iter().zip(&pages) {
            let r = store.put_scan(page, now)?;
            new.provided.push(ProvidedDocument {
                slot: (*slot).to_string(),
                pages: vec![r],
            });
        }
        store.register(&device, &new, "operator", now, Uuid::now_v7())?;
        save_lat.push(t.elapsed());
        stored += 1;
    }
    let saves = Samples(save_lat);

    while stored < plan.list_at {
        register_one(&mut store, &device, stored)?;
        stored += 1;
    }
    let t = Instant::now();
    let all = store.applications()?;
    let list_time = t.elapsed();
    let listed = all.len();
    let searches = search_queries(&all)?;
    drop(all);
    let mut search_rows = Vec::new();
    for (label, query) in &searches {
        let mut lat = Vec::with_capacity(plan.searches);
        let mut hits = 0;
        for _ in 0..plan.searches {
            let t = Instant::now();
            hits = store.search(query)?.len();
            lat.push(t.elapsed());
        }
        search_rows.push((label.clone(), query.clone(), hits, Samples(lat)));
    }
    drop(store);
    drop(raw_table);
    let raw = Samples(raw_lat);
    let raw_rate = raw.rate();

    // Report.
    let ratio = |rate: f64| rate / raw_rate;
    println!(
        "{:<44} {:>10} {:>10} {:>12} {:>9}",
        "measure", "p50 ms", "p99 ms", "per second", "× raw"
    );
    let row = |label: String, s: &Samples| {
        println!(
            "{:<44} {:>10.3} {:>10.3} {:>12.1} {:>9.3}",
            label,
            ms(s.percentile(0.50)),
            ms(s.percentile(0.99)),
            s.rate(),
            ratio(s.rate())
        );
    };
    row(
        format!("raw insert ({} rows, reference)", raw.0.len()),
        &raw,
    );
    let mut register_json = Vec::new();
    for (level, s) in &register_rows {
        row(format!("register at {level} existing"), s);
        register_json.push(json!({
            "existing": level,
            "samples": s.0.len(),
            "p50_ms": ms(s.percentile(0.50)),
            "p99_ms": ms(s.percentile(0.99)),
            "per_second": s.rate(),
            "ratio_to_raw_insert": ratio(s.rate()),
        }));
    }
    row(
        format!("save with 3 scans at {save_at} ({} KB)", save_bytes / 1024),
        &saves,
    );
    let list_rate = listed as f64 / list_time.as_secs_f64();
    println!(
        "{:<44} {:>10.3} {:>10} {:>12.1} {:>9.3}",
        format!("list all at {listed} (rows)"),
        ms(list_time),
        "-",
        list_rate,
        ratio(list_rate)
    );
    let mut search_json = Vec::new();
    for (label, query, hits, s) in &search_rows {
        row(format!("search {label} at {listed} ({hits} hits)"), s);
        search_json.push(json!({
            "query": label,
            "text": query.text,
            "service": query.service.as_ref().map(|c| c.code().to_string()),
            "hits": hits,
            "samples": s.0.len(),
            "p50_ms": ms(s.percentile(0.50)),
            "p99_ms": ms(s.percentile(0.99)),
            "per_second": s.rate(),
            "ratio_to_raw_insert": ratio(s.rate()),
        }));
    }
    let mut scan_json = Vec::new();
    for scan in &scans {
        row(
            format!("scan intake, {} (per page)", scan.short),
            &scan.per_page,
        );
        scan_json.push(json!({
            "source": scan.what,
            "input_width": scan.input_size.0,
            "input_height": scan.input_size.1,
            "input_bytes": scan.input_bytes,
            "runs": scan.per_page.0.len(),
            "pages": scan.pages.len(),
            "stored_bytes_per_page": scan.stored_bytes(),
            "stored_width": scan.pages[0].width,
            "stored_height": scan.pages[0].height,
            "jpeg_quality": scan.pages[0].quality,
            "skew_corrected_degrees": scan.pages[0].skew_degrees,
            "compression_ratio": scan.compression(),
            "p50_ms_per_page": ms(scan.per_page.percentile(0.50)),
            "p99_ms_per_page": ms(scan.per_page.percentile(0.99)),
            "pages_per_second": scan.per_page.rate(),
            "ratio_to_raw_insert": ratio(scan.per_page.rate()),
        }));
    }
    for scan in &scans {
        println!(
            "scan compression, {}: {} → {} bytes per page ({:.1}:1), {}×{} px → {}×{} px q{}, \
             skew {:.1}°",
            scan.short,
            scan.input_bytes,
            scan.stored_bytes(),
            scan.compression(),
            scan.input_size.0,
            scan.input_size.1,
            scan.pages[0].width,
            scan.pages[0].height,
            scan.pages[0].quality,
            scan.pages[0].skew_degrees
        );
    }
    println!(
        "save with 3 scans = put_scan ×3 + register (4 transactions, {save_bytes} scan bytes; \
         intake not included); store on {fs} at {}",
        dir.path().display()
    );

    let qr = crate::bench_qr::run(quick, dir.path())?;

    if let Some(path) = json_path {
        let report = json!({
            "quick": quick,
            "build": build,
            "disk": {
                "dir": dir.path().display().to_string(),
                "filesystem": fs,
            },
            "reference": {
                "what": "raw INSERT, one transaction per row, SQLCipher, WAL, synchronous=FULL",
                "rows": raw.0.len(),
                "p50_ms": ms(raw.percentile(0.50)),
                "p99_ms": ms(raw.percentile(0.99)),
                "per_second": raw_rate,
            },
            "register": register_json,
            "save_with_3_scans": {
                "what": "put_scan ×3 + register, one transaction each; intake not included",
                "existing": save_at,
                "samples": saves.0.len(),
                "scan_bytes_per_save": save_bytes,
                "p50_ms": ms(saves.percentile(0.50)),
                "p99_ms": ms(saves.percentile(0.99)),
                "per_second": saves.rate(),
                "ratio_to_raw_insert": ratio(saves.rate()),
            },
            "list_all": {
                "applications": listed,
                "ms": ms(list_time),
                "rows_per_second": list_rate,
                "ratio_to_raw_insert": ratio(list_rate),
            },
            "search": {
                "applications": listed,
                "queries": search_json,
            },
            "scan": scan_json,
            "documents_qr": qr,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `loket bench --qr`: only the documents/QR section.
fn run_qr_only(quick: bool, json_path: Option<&Path>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!(
        "loket bench --qr ({}, {build} build) in {}",
        if quick { "quick" } else { "full" },
        dir.path().display()
    );
    let qr = crate::bench_qr::run(quick, dir.path())?;
    if let Some(path) = json_path {
        let report = json!({
            "quick": quick,
            "build": build,
            "documents_qr": qr,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The file system type holding `dir` (`ext4`, `tmpfs`…), from the longest matching mount
/// point in `/proc/self/mounts`; "unknown file system" where that does not exist.
fn filesystem_of(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return "unknown file system".into();
    };
    mounts
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let (_, point, fs) = (parts.next()?, parts.next()?, parts.next()?);
            // Mount points escape spaces as \040.
            let point = point.replace("\\040", " ");
            dir.starts_with(&point)
                .then(|| (point.len(), fs.to_string()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fs)| fs)
        .unwrap_or_else(|| "unknown file system".into())
}

/// The searches an operator makes at the counter, over the stored applications `all`.
fn search_queries(
    all: &[loket_store::StoredApplication],
) -> anyhow::Result<Vec<(String, ApplicationQuery)>> {
    let text = |t: &str| ApplicationQuery {
        text: Some(t.to_string()),
        ..Default::default()
    };
    // An application from the middle of the store, typed in full.
    let someone = all
        .get(all.len() / 2)
        .context("no applications to search")?;
    let mut queries = vec![
        ("name part".to_string(), text("hasanuddin")),
        ("NIK".to_string(), text(someone.data.nik.as_str())),
        (
            "tracking number".to_string(),
            text(&someone.tracking_number),
        ),
        ("no hit".to_string(), text("tidak ada")),
    ];
    // The saves with scans are the only birth certificates.
    queries.push((
        "service".to_string(),
        ApplicationQuery {
            service: Some(ServiceCode::parse("akta_kelahiran")?),
            ..Default::default()
        },
    ));
    Ok(queries)
}

/// Latencies of one measured operation.
pub(crate) struct Samples(pub(crate) Vec<Duration>);

impl Samples {
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        let mut v = self.0.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v.get(i).copied().unwrap_or_default()
    }

    /// Operations per second over the measured calls only.
    pub(crate) fn rate(&self) -> f64 {
        let total: Duration = self.0.iter().sum();
        self.0.len() as f64 / total.as_secs_f64()
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// The reference: plain INSERTs, each its own transaction, into an encrypted WAL file with
/// `synchronous=FULL` — the same settings `VillageStore` uses — in its own file beside the store.
struct RawTable {
    conn: rusqlite::Connection,
    data: String,
    next: usize,
}

impl RawTable {
    fn create(path: &Path, key: &[u8; 32]) -> anyhow::Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE scratch (id TEXT PRIMARY KEY, tracking_number TEXT NOT NULL UNIQUE,
                data TEXT NOT NULL, operator TEXT NOT NULL, captured_at TEXT NOT NULL)",
        )?;
        let data = serde_json::to_string(&applicant(0))?;
        Ok(RawTable {
            conn,
            data,
            next: 0,
        })
    }

    /// One durable insert of an application-sized row; returns its latency.
    fn insert(&mut self) -> anyhow::Result<Duration> {
        let i = self.next;
        self.next += 1;
        let id = Uuid::now_v7().to_string();
        let tracking = format!("7315012003-001-261122-{i:05}");
        let at = captured_at(i).to_rfc3339();
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO scratch(id, tracking_number, data, operator, captured_at)
             VALUES (?1, ?2, ?3, 'operator', ?4)",
        )?;
        let t = Instant::now();
        stmt.execute(rusqlite::params![id, tracking, self.data, at])?;
        Ok(t.elapsed())
    }
}

fn captured_at(i: usize) -> DateTime<FixedOffset> {
    let base = DateTime::parse_from_rfc3339("2024-01-02T08:00:00+08:00").expect("fixed time");
    base + ChronoDuration::days((i / PER_DAY) as i64)
        + ChronoDuration::minutes((i % PER_DAY) as i64 * 10)
}

fn register_one(store: &mut VillageStore, device: &DeviceIdentity, i: usize) -> anyhow::Result<()> {
    store.register(
        device,
        &NewApplication::new(
            ServiceCode::parse("ktp_el_baru")?,
            "2026.11.1",
            applicant(i),
        ),
        "operator",
        captured_at(i),
        Uuid::now_v7(),
    )?;
    Ok(())
}

/// A valid KTP-el application that differs with `i` (name, NIK, birth date, sex, address).
fn applicant(i: usize) -> Applicant {
    const FIRST: &[&str] = &["Andi", "Siti", "Muhammad", "Nur", "Dewi", "Rahmat", "Fitri"];
    const LAST: &[&str] = &["Tenri Ajeng", "Hasanuddin", "Rahayu", "Saputra", "Lestari"];
    let female = i & 1 == 0;
    let day = 1 + (i % 28);
    let month = 1 + (i / 28) % 12;
    let year = 1970 + (i / 336) % 35;
    let serial = 1 + i % 9_999;
    let nik_day = if female { day + 40 } else { day };
    let form = ApplicantForm {
        nik: format!("731501{nik_day:02}{month:02}{:02}{serial:04}", year % 100),
        full_name: format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / 7) % LAST.len()]),
        birth_place: "Pinrang".into(),
        birth_date: format!("{year:04}-{month:02}-{day:02}"),
        sex: if female { "female" } else { "male" }.into(),
        address: format!("Dusun {} RT {:03}", 1 + i % 5, 1 + i % 17),
        phone: format!("0812{i:08}"),
    };
    validate_applicant(&form, NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"))
        .value
        .expect("generated applicant is valid")
}

/// One scan source for intake and the bytes of what it produced.
struct ScanSource {
    /// Short label for the table.
    short: &'static str,
    /// What it is, for the JSON report.
    what: &'static str,
    bytes: Vec<u8>,
    size: (u32, u32),
}

/// Intake results for one source.
struct ScanResult {
    short: &'static str,
    what: &'static str,
    input_bytes: usize,
    input_size: (u32, u32),
    /// Time per page of each run.
    per_page: Samples,
    pages: Vec<loket_scan::Page>,
    thumbnail: Vec<u8>,
}

impl ScanResult {
    fn stored_bytes(&self) -> usize {
        self.pages.iter().map(|p| p.jpeg.len()).sum::<usize>() / self.pages.len()
    }

    fn compression(&self) -> f64 {
        self.input_bytes as f64 / self.stored_bytes() as f64
    }
}

/// The phone photo, the demo KK and the flatbed A4 page; drawing and encoding are not timed.
fn scan_sources() -> anyhow::Result<Vec<ScanSource>> {
    let kk = image::load_from_memory(CONTOH_KK).context("decoding contoh-kk.jpg")?;
    Ok(vec![
        ScanSource {
            short: "phone photo 3000×4000",
            what: "synthetic phone photo, 3000×4000 RGB JPEG q92: page rotated 2.5° on a table, \
                   uneven light, sensor noise",
            bytes: synthetic_phone_photo_jpeg()?,
            size: (3000, 4000),
        },
        ScanSource {
            short: "contoh-kk.jpg",
            what: "assets/demo/contoh-kk.jpg (grayscale JPEG)",
            bytes: CONTOH_KK.to_vec(),
            size: (kk.width(), kk.height()),
        },
        ScanSource {
            short: "A4 300 dpi PNG",
            what: "synthetic A4 at 300 dpi (2480×3508), grayscale PNG",
            bytes: synthetic_a4_png()?,
            size: (2480, 3508),
        },
    ])
}

/// `runs` intakes of one source, one upload each.
fn intake_runs(source: &ScanSource, runs: usize) -> anyhow::Result<ScanResult> {
    let limits = loket_scan::IntakeLimits::default();
    let mut per_page = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let intake = loket_scan::intake(&source.bytes, &limits)
            .with_context(|| format!("scan intake of {}", source.short))?;
        let elapsed = t.elapsed();
        anyhow::ensure!(!intake.pages.is_empty(), "intake returned no page");
        per_page.push(elapsed / intake.pages.len() as u32);
        last = Some(intake);
    }
    let intake = last.context("no intake run")?;
    Ok(ScanResult {
        short: source.short,
        what: source.what,
        input_bytes: source.bytes.len(),
        input_size: source.size,
        per_page: Samples(per_page),
        pages: intake.pages,
        thumbnail: intake.thumbnail_png,
    })
}

/// A stored page made unique for save `k`: the same JPEG with a comment segment (`FF FE`)
/// after the start-of-image marker, so content addressing stores every save's pages anew, as
/// it would for different residents' papers.
fn unique_page(jpeg: &[u8], k: usize) -> Vec<u8> {
    let comment = format!("loket bench save {k}");
    let len = ((comment.len() + 2) as u16).to_be_bytes();
    let mut out = Vec::with_capacity(jpeg.len() + comment.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE, len[0], len[1]]);
    out.extend_from_slice(comment.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Save `k`'s three pages and its birth certificate application (applicant `i`, parents named
/// in the fields so residents are learnt as at the counter); scans are attached by the caller.
fn birth_certificate(
    scans: &[ScanResult],
    i: usize,
    k: usize,
) -> anyhow::Result<(Vec<NewScan>, NewApplication)> {
    let pages = SAVE_SLOTS
        .iter()
        .map(|&(_, source)| NewScan {
            bytes: unique_page(&scans[source].pages[0].jpeg, k),
            media_type: "image/jpeg".into(),
            thumbnail: scans[source].thumbnail.clone(),
        })
        .collect();
    let mother = applicant(2 * i + 2);
    let father = applicant(2 * i + 3);
    let fields: BTreeMap<String, String> = [
        ("child_name", "Muhammad Fadli Saputra".to_string()),
        ("child_sex", "laki_laki".into()),
        ("child_birth_date", "2026-11-01".into()),
        ("child_birth_place", "Pinrang".into()),
        ("mother_nik", mother.nik.as_str().to_string()),
        ("mother_name", mother.full_name),
        ("father_nik", father.nik.as_str().to_string()),
        ("father_name", father.full_name),
        ("nomor_kk", format!("731501201014{:04}", 1 + i % 9_999)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut new = NewApplication::new(
        ServiceCode::parse("akta_kelahiran")?,
        "2026.11.1",
        applicant(i),
    );
    new.fields = fields;
    Ok((pages, new))
}

/// A phone photo of a form as villagers send it: 3000×4000 RGB, the page rotated 2.5° and
/// not filling the frame, on a brown table, lit unevenly (brighter top left, dark corners),
/// with sensor noise; on the page a letterhead, a ruled table like a KK's, lines of "text" and
/// a blue stamp. Encoded at JPEG quality 92 as phone cameras do.
fn synthetic_phone_photo_jpeg() -> anyhow::Result<Vec<u8>> {
    let (w, h) = (3000u32, 4000u32);
    // The page: 2500×3540 px (A4 proportions), centred, rotated by 2.5°.
    let (pw, ph) = (2500.0f32, 3540.0f32);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0 + 40.0);
    let (sin, cos) = 2.5f32.to_radians().sin_cos();
    // Word runs per text line, in page coordinates.
    let mut rng = 0x0BAD_5EED_u64;
    let mut rand = move |n: u64| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) % n
    };
    const PITCH: f32 = 64.0;
    const TOP: f32 = 1450.0;
    let lines = ((3300.0 - TOP) / PITCH) as usize;
    let words: Vec<Vec<(f32, f32)>> = (0..lines)
        .map(|_| {
            let mut row = Vec::new();
            let mut x = 180.0;
            let end = 2320.0 - rand(700) as f32;
            while x < end {
                let len = 50.0 + rand(220) as f32;
                row.push((x, (x + len).min(end)));
                x += len + 28.0;
            }
            row
        })
        .collect();
    let mut noise = 0x1234_5678_9ABC_DEF1_u64;
    let mut img = image::RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        let grain = (noise % 13) as f32 - 6.0;
        // Light: brighter towards the top left, falling off to the corners.
        let (dx, dy) = (x as f32 / w as f32 - 0.35, y as f32 / h as f32 - 0.3);
        let light = 1.05 - 0.45 * (dx * dx + dy * dy);
        // Page coordinates of this pixel (inverse rotation about the page centre).
        let (rx, ry) = (x as f32 - cx, y as f32 - cy);
        let u = cos * rx + sin * ry + pw / 2.0;
        let v = -sin * rx + cos * ry + ph / 2.0;
        let rgb: [f32; 3] = if u < 0.0 || v < 0.0 || u >= pw || v >= ph {
            [96.0, 72.0, 52.0] // the table
        } else {
            page_ink(u, v, &words, PITCH, TOP)
        };
        *p = image::Rgb(rgb.map(|c| (c * light + grain).clamp(0.0, 255.0) as u8));
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92).encode_image(&img)?;
    Ok(jpeg)
}

/// The colour of the photographed page at page coordinates (`u`, `v`).
fn page_ink(u: f32, v: f32, words: &[Vec<(f32, f32)>], pitch: f32, top: f32) -> [f32; 3] {
    const PAPER: [f32; 3] = [238.0, 232.0, 218.0];
    const INK: [f32; 3] = [34.0, 32.0, 40.0];
    const STAMP: [f32; 3] = [70.0, 90.0, 190.0];
    // Stamp: a ring, drawn over everything else.
    let (sx, sy) = (u - 1850.0, v - 3150.0);
    let r = (sx * sx + sy * sy).sqrt();
    if (150.0..165.0).contains(&r) || (115.0..122.0).contains(&r) {
        return STAMP;
    }
    // Letterhead: a heavy title line of glyph blocks, then a double rule.
    if (150.0..250.0).contains(&v) && (600.0..1900.0).contains(&u) && (u as u32 / 11) % 5 != 4 {
        return INK;
    }
    if ((300.0..312.0).contains(&v) || (322.0..326.0).contains(&v)) && (140.0..2360.0).contains(&u)
    {
        return INK;
    }
    // A ruled table (KK member rows): 8 rows × 6 columns.
    if (420.0..1300.0).contains(&v) && (140.0..2360.0).contains(&u) {
        let row_line = ((v - 420.0) % 110.0) < 4.0 || v >= 1296.0;
        let col_line = [140.0, 300.0, 900.0, 1300.0, 1650.0, 2000.0, 2356.0]
            .iter()
            .any(|c| (u - c).abs() < 2.0);
        if row_line || col_line {
            return INK;
        }
        // Cell text: short strokes in each cell's upper half.
        let in_row = (v - 420.0) % 110.0;
        if (30.0..62.0).contains(&in_row) && (u as u32 % 13) < 5 && (u as u32 / 90) % 3 != 2 {
            return INK;
        }
        return PAPER;
    }
    // Body text lines.
    if v >= top {
        let line = ((v - top) / pitch) as usize;
        let within = (v - top) % pitch;
        if let Some(row) = words.get(line) {
            if within < 30.0 && (u as u32 % 12) < 5 && row.iter().any(|&(a, b)| u >= a && u < b) {
                return INK;
            }
        }
    }
    PAPER
}

/// A 300-dpi A4 page (2480×3508) as a flatbed would produce it: off-white paper with grain,
/// a letterhead rule, a photo box and lines of "text" (dark strokes of varying length).
fn synthetic_a4_png() -> anyhow::Result<Vec<u8>> {
    let (w, h) = (2480u32, 3508u32);
    let mut state = 0x5EED_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut img = image::GrayImage::from_fn(w, h, |_, _| image::Luma([234 + (next() % 5) as u8]));
    // Letterhead rule and a pas-photo box.
    fill(&mut img, (200, 420), (2280, 432), 20);
    fill(&mut img, (1900, 600), (2200, 1000), 90);
    // Text lines: words as dark strokes, 60 px line pitch (about 12 pt at 300 dpi).
    let mut rng = 0xC0FFEE_u64;
    let mut rand = move |n: u64| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) % n
    };
    let mut y = 520;
    while y < 3250 {
        let mut x = 220;
        let right = if (600..1000).contains(&y) { 1850 } else { 2260 };
        while x < right {
            let word = 40 + rand(180) as u32;
            let end = (x + word).min(right);
            for stroke in (x..end).step_by(9) {
                let tall = 20 + rand(14) as u32;
                fill(&mut img, (stroke, y + 34 - tall), (stroke + 4, y + 34), 25);
            }
            x = end + 24;
        }
        y += if rand(8) == 0 { 120 } else { 60 };
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

fn fill(img: &mut image::GrayImage, (x0, y0): (u32, u32), (x1, y1): (u32, u32), v: u8) {
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            img.put_pixel(x, y, image::Luma([v]));
        }
    }
}
