//! `loket bench [--quick] [--json FILE]`: how fast the village laptop's store and scan intake
//! are on *this* machine, each number beside a reference measured in the same run.
//!
//! The reference is the raw SQLite insert rate: plain `INSERT`s of a row comparable to an
//! application (id, tracking number, form JSON, operator, time) into a scratch table of a store
//! file of the same kind — SQLCipher-encrypted, WAL, `synchronous=FULL` — one transaction per
//! row. It is sampled interleaved with the register samples (one raw insert, one register), after
//! 500 untimed inserts that recycle the scratch file's WAL once, so both see the same disk. That
//! rate is bounded by the disk's fsync, so dividing by it makes numbers from different
//! laptops comparable: "register = 0.8× raw insert" means registering costs about one durable
//! write plus 25 %.
//!
//! Measured, in one run and in a fresh temporary directory:
//! - `VillageStore::register` latency p50/p99 and rate with 0, 500 and 5,000 applications
//!   already stored (the store is filled with `register` itself between the levels);
//! - listing all applications (`VillageStore::applications`) once 10,000 are stored;
//! - `loket_scan::intake` on a synthetic 300-dpi A4 page (PNG, drawn here): compression ratio
//!   (upload bytes ÷ stored JPEG bytes) and milliseconds per page.
//!
//! Every rate is also given as a ratio to the raw insert rate. `--quick` uses fewer samples and
//! smaller stores (0, 100 and 1,000 existing; listing at 2,000) for a run of a few seconds. The
//! full run is bounded by about 10,000 durable writes plus a few scan pages, well under a minute
//! in a release build on an SSD. This is a measurement, never a test: nothing here asserts a time.

use anyhow::Context;
use chrono::{DateTime, Duration as ChronoDuration, FixedOffset, NaiveDate};
use loket_domain::{validate_applicant, Applicant, ApplicantForm, RegionCode, ServiceCode};
use loket_store::{DatabaseKey, DeviceIdentity, NewApplication, VillageStore};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Sizes of one run.
struct Plan {
    samples: usize,
    levels: [usize; 3],
    list_at: usize,
    scan_pages: usize,
}

const FULL: Plan = Plan {
    samples: 200,
    levels: [0, 500, 5_000],
    list_at: 10_000,
    scan_pages: 3,
};

const QUICK: Plan = Plan {
    samples: 50,
    levels: [0, 100, 1_000],
    list_at: 2_000,
    scan_pages: 1,
};

/// Untimed raw inserts before the reference is measured.
const RAW_WARMUP: usize = 500;

/// Applications per simulated day, so the 9,999-per-day tracking counter never runs out.
const PER_DAY: usize = 40;

/// Runs the benchmark, prints a table and writes the JSON report to `json` if given.
pub fn run(quick: bool, json_path: Option<&Path>) -> anyhow::Result<()> {
    let plan = if quick { &QUICK } else { &FULL };
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let key_bytes: [u8; 32] = rand::random();
    let key = DatabaseKey::from_bytes(key_bytes);
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!(
        "loket bench ({}, {build} build) in {}",
        if quick { "quick" } else { "full" },
        dir.path().display()
    );

    // The reference is measured interleaved with the register samples (one raw insert, one
    // register), so both see the same disk and cache conditions.
    // Before timing, enough untimed inserts to fill and recycle the raw file's WAL once: a
    // growing WAL file costs more per fsync than a recycled one, and the store's WAL is recycled
    // from a few hundred applications on.
    let mut raw_table = RawTable::create(&dir.path().join("raw.sqlite"), &key_bytes)?;
    for _ in 0..RAW_WARMUP {
        raw_table.insert()?;
    }
    let mut raw_lat = Vec::new();

    // Register at increasing store sizes, then list at the largest.
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
    while stored < plan.list_at {
        register_one(&mut store, &device, stored)?;
        stored += 1;
    }
    let t = Instant::now();
    let listed = store.applications()?.len();
    let list_time = t.elapsed();
    drop(store);
    drop(raw_table);
    let raw = Samples(raw_lat);
    let raw_rate = raw.rate();

    let scan = scan_pages(plan.scan_pages)?;

    // Report.
    let ratio = |rate: f64| rate / raw_rate;
    println!(
        "{:<34} {:>10} {:>10} {:>12} {:>9}",
        "measure", "p50 ms", "p99 ms", "per second", "× raw"
    );
    println!(
        "{:<34} {:>10.3} {:>10.3} {:>12.1} {:>9}",
        format!("raw insert ({} rows, reference)", raw.0.len()),
        ms(raw.percentile(0.50)),
        ms(raw.percentile(0.99)),
        raw_rate,
        "1.00"
    );
    let mut register_json = Vec::new();
    for (level, s) in &register_rows {
        println!(
            "{:<34} {:>10.3} {:>10.3} {:>12.1} {:>9.2}",
            format!("register at {level} existing"),
            ms(s.percentile(0.50)),
            ms(s.percentile(0.99)),
            s.rate(),
            ratio(s.rate())
        );
        register_json.push(json!({
            "existing": level,
            "samples": s.0.len(),
            "p50_ms": ms(s.percentile(0.50)),
            "p99_ms": ms(s.percentile(0.99)),
            "per_second": s.rate(),
            "ratio_to_raw_insert": ratio(s.rate()),
        }));
    }
    let list_rate = listed as f64 / list_time.as_secs_f64();
    println!(
        "{:<34} {:>10.3} {:>10} {:>12.1} {:>9.2}",
        format!("list all at {listed} (rows)"),
        ms(list_time),
        "-",
        list_rate,
        ratio(list_rate)
    );
    let scan_rate = scan.pages as f64 / scan.time.as_secs_f64();
    let ms_per_page = ms(scan.time) / scan.pages as f64;
    println!(
        "{:<34} {:>10.1} {:>10} {:>12.2} {:>9.4}",
        format!("scan intake, A4 300 dpi ({} p)", scan.pages),
        ms_per_page,
        "-",
        scan_rate,
        ratio(scan_rate)
    );
    println!(
        "scan compression: {} → {} bytes per page ({:.1}:1), {}×{} px stored",
        scan.original_bytes,
        scan.stored_bytes,
        scan.compression(),
        scan.stored_size.0,
        scan.stored_size.1
    );

    if let Some(path) = json_path {
        let report = json!({
            "quick": quick,
            "build": build,
            "reference": {
                "what": "raw INSERT, one transaction per row, SQLCipher, WAL, synchronous=FULL",
                "rows": raw.0.len(),
                "p50_ms": ms(raw.percentile(0.50)),
                "p99_ms": ms(raw.percentile(0.99)),
                "per_second": raw_rate,
            },
            "register": register_json,
            "list_all": {
                "applications": listed,
                "ms": ms(list_time),
                "rows_per_second": list_rate,
                "ratio_to_raw_insert": ratio(list_rate),
            },
            "scan": {
                "page": "synthetic A4 at 300 dpi (2480×3508), grayscale PNG",
                "pages": scan.pages,
                "original_bytes_per_page": scan.original_bytes,
                "stored_bytes_per_page": scan.stored_bytes,
                "stored_width": scan.stored_size.0,
                "stored_height": scan.stored_size.1,
                "compression_ratio": scan.compression(),
                "ms_per_page": ms_per_page,
                "pages_per_second": scan_rate,
                "ratio_to_raw_insert": ratio(scan_rate),
            },
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Latencies of one measured operation.
struct Samples(Vec<Duration>);

impl Samples {
    fn percentile(&self, p: f64) -> Duration {
        let mut v = self.0.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v.get(i).copied().unwrap_or_default()
    }

    /// Operations per second over the measured calls only.
    fn rate(&self) -> f64 {
        let total: Duration = self.0.iter().sum();
        self.0.len() as f64 / total.as_secs_f64()
    }
}

fn ms(d: Duration) -> f64 {
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

struct ScanResult {
    pages: usize,
    time: Duration,
    original_bytes: usize,
    stored_bytes: usize,
    stored_size: (u32, u32),
}

impl ScanResult {
    fn compression(&self) -> f64 {
        self.original_bytes as f64 / self.stored_bytes as f64
    }
}

/// Intake of `pages` synthetic pages, one upload each; PNG encoding is not timed.
fn scan_pages(pages: usize) -> anyhow::Result<ScanResult> {
    let png = synthetic_a4_png()?;
    let limits = loket_scan::IntakeLimits::default();
    let mut time = Duration::ZERO;
    let mut stored_bytes = 0;
    let mut stored_size = (0, 0);
    for _ in 0..pages {
        let t = Instant::now();
        let intake = loket_scan::intake(&png, &limits).context("scan intake")?;
        time += t.elapsed();
        let page = intake.pages.first().context("intake returned no page")?;
        stored_bytes = page.jpeg.len();
        stored_size = (page.width, page.height);
    }
    Ok(ScanResult {
        pages,
        time,
        original_bytes: png.len(),
        stored_bytes,
        stored_size,
    })
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
