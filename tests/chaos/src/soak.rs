//! The soak harness behind `tests/chaos.rs`: a real `loket serve` process and village laptops
//! as `loket-chaos-village` processes, all traffic through a `loket_netem::Proxy` that shapes
//! the link and injects faults from a seed, plus `kill -9` of laptops and of the server at
//! seeded moments and link outages. When the chaos is over the faults are switched off and the
//! laptops finish; then [`verify`] reads the server's SQLite and every laptop's store and checks
//! that each application arrived exactly once and each scan page whole and hash-checked.
//!
//! A run works in `target/chaos/<name>-<pid>/` (stores, logs of every process start); a
//! failing run leaves it there to be read, a passing one removes it unless `LOKET_CHAOS_KEEP=1`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use loket_netem::{Fault, FaultKind, FaultPlan, Proxy, Stats};
use loket_store::OutboxState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// Enough forced-clean connections to mean "no more faults" for the rest of a run.
const FAULTS_OFF: usize = 1_000_000;

/// What one soak run does.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// Name of the run (its folder is `target/chaos/<name>-<pid>/`).
    pub name: String,
    /// The `loket-chaos-village` binary (tests get it from `CARGO_BIN_EXE_…`).
    pub village_binary: PathBuf,
    /// Laptops (devices 1…n of the test village).
    pub villages: u16,
    /// Applications each laptop registers (three scan pages each).
    pub apps_per_village: usize,
    /// Applications a laptop registers between two sync passes.
    pub per_pass: usize,
    /// Base pages: (width, height) of the synthetic uploads the intake turns into pages.
    pub page_size: (u32, u32),
    /// The link and its faults while the chaos lasts.
    pub plan: FaultPlan,
    /// Share of the laptops' TCP connections the [`Hop`] ends after one request (the rest after
    /// 2–12).
    pub one_request_share: f64,
    /// `kill -9` of a laptop that is still working (restarted at once).
    pub village_kills: usize,
    /// `kill -9` of the server (restarted on the same data dir and port).
    pub server_kills: usize,
    /// Link outages of 0.5–2.5 s (connections reset, new ones refused).
    pub link_outages: usize,
    /// Kills and outages happen at seeded moments within this long after the first pass.
    pub chaos_window: Duration,
    /// Faults stay on until at least this many took effect (and the window is over).
    pub min_faults: u64,
    /// Force one fault of every kind at the start of the chaos, so none is left to luck.
    pub force_every_kind: bool,
    /// Give up (and fail) after this long.
    pub deadline: Duration,
    /// Seed of the kill schedule and the laptops' jitter (the plan has its own).
    pub seed: u64,
}

/// What a soak run did and found.
#[derive(Clone, Debug)]
pub struct SoakReport {
    /// From the server's first start to the verified end.
    pub elapsed: Duration,
    /// How long faults were on.
    pub faulty: Duration,
    /// The proxy's counters at the end.
    pub stats: Stats,
    /// Laptops killed with `kill -9` while working.
    pub village_kills: usize,
    /// Server processes killed with `kill -9`.
    pub server_kills: usize,
    /// Link outages.
    pub link_outages: usize,
    /// Sync passes the laptops reported, over all their lives.
    pub passes: usize,
    /// What the checks counted.
    pub verified: Verified,
    /// Where the stores and logs are.
    pub run_dir: PathBuf,
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let v = &self.verified;
        writeln!(
            f,
            "soak run {}: {:.1} s in all, faults on for {:.1} s",
            self.run_dir.display(),
            self.elapsed.as_secs_f64(),
            self.faulty.as_secs_f64()
        )?;
        writeln!(
            f,
            "  faults that took effect: {} (cut_request {}, cut_response {}, drop_response {}, stall {}, refuse {})",
            s.faults.total(),
            s.faults.cut_request,
            s.faults.cut_response,
            s.faults.drop_response,
            s.faults.stall,
            s.faults.refuse
        )?;
        writeln!(
            f,
            "  kill -9: {} laptops, {} server; link outages {} (connections reset {}, refused while down {}); upstream unreachable {}",
            self.village_kills,
            self.server_kills,
            self.link_outages,
            s.aborted_offline,
            s.refused_offline,
            s.upstream_unreachable
        )?;
        writeln!(
            f,
            "  connections {}, bytes up {}, down {}, sync passes {}",
            s.connections, s.bytes_up, s.bytes_down, self.passes
        )?;
        write!(
            f,
            "  verified: {} applications exactly once, {} blobs ({} bytes) complete and hash-checked, {} audit entries",
            v.applications, v.blobs, v.blob_bytes, v.audit_entries
        )
    }
}

/// What [`verify`] counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verified {
    /// Applications, each on the server exactly once and acknowledged on its laptop.
    pub applications: usize,
    /// Scan pages, each complete on the server with the laptop's bytes.
    pub blobs: usize,
    /// Their bytes.
    pub blob_bytes: u64,
    /// Audit entries the server holds (all of every laptop's).
    pub audit_entries: usize,
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A child process that is killed when dropped, so a failing run leaves nothing behind.
struct Proc(Child);

impl Proc {
    /// `kill -9` (SIGKILL, `Child::kill` on Unix) and reap.
    fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Makes `command`'s process get SIGKILL when the thread that spawns it ends, so a test that is
/// itself killed (time-out, Ctrl-C) leaves no server or laptop running.
fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

fn append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// The last `n` lines of a log, for failure messages.
fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The back office as a process: `loket serve --data DIR --addr 127.0.0.1:PORT`.
struct Server {
    loket: PathBuf,
    data: PathBuf,
    addr: SocketAddr,
    log: PathBuf,
    proc: Option<Proc>,
    starts: usize,
}

impl Server {
    fn start(&mut self) -> Result<()> {
        for attempt in 1..=20 {
            self.starts += 1;
            let mut log = append(&self.log)?;
            writeln!(log, "==== start {} (attempt {attempt})", self.starts)?;
            let child = die_with_parent(&mut Command::new(&self.loket))
                .arg("serve")
                .arg("--data")
                .arg(&self.data)
                .arg("--addr")
                .arg(self.addr.to_string())
                .env("RUST_LOG", "warn")
                .stdout(log.try_clone()?)
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", self.loket.display()))?;
            let mut proc = Proc(child);
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                    self.proc = Some(proc);
                    return Ok(());
                }
                if proc.0.try_wait()?.is_some() {
                    // Most likely the port is not free yet; try again shortly.
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "loket serve did not listen on {} within 30 s:\n{}",
                        self.addr,
                        tail(&self.log, 30)
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        bail!(
            "loket serve kept exiting at start:\n{}",
            tail(&self.log, 30)
        )
    }

    fn kill9(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.kill9();
        }
    }
}

/// One laptop: its store, its arguments, its current process.
struct Village {
    no: u16,
    db: PathBuf,
    args: Vec<OsString>,
    log: PathBuf,
    proc: Option<Proc>,
    starts: usize,
    passes: usize,
    done: bool,
}

impl Village {
    fn spawn(
        &mut self,
        binary: &Path,
        index: usize,
        lines: &mpsc::Sender<(usize, String)>,
    ) -> Result<()> {
        self.starts += 1;
        let mut log = append(&self.log)?;
        writeln!(log, "==== start {}", self.starts)?;
        let mut child = die_with_parent(&mut Command::new(binary))
            .args(&self.args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log.try_clone()?)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                let _ = writeln!(log, "{line}");
                let _ = lines.send((index, line));
            }
        });
        self.proc = Some(Proc(child));
        Ok(())
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One chaos event.
#[derive(Clone, Copy, Debug)]
enum Event {
    KillVillage,
    KillServer,
    LinkDown(Duration),
}

// ---------------------------------------------------------------------------------------------
// Short connections

/// A loopback hop between the laptops and the fault proxy that ends each of the laptops' TCP
/// connections after a seeded number of requests: one for `one_request_share` of them, 2–12 for
/// the rest. It adds `Connection: close` to the last request's head, so the server answers
/// `connection: close` and the client opens a new connection for its next request; everything
/// else passes byte for byte.
///
/// Why: the proxy decides faults per connection, and the sync client keeps one connection alive
/// for a whole pass, so without the hop a lost answer would almost only ever hit a pass's first
/// request (the trust list), never an application batch or a scan chunk the server just
/// committed. With it, faults hit every kind of request, as a bad radio link does.
pub struct Hop {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Hop {
    /// Starts the hop on `runtime`, forwarding to `upstream`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        upstream: SocketAddr,
        one_request_share: f64,
        seed: u64,
    ) -> Result<Hop> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let task = runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let mut rng = StdRng::seed_from_u64(seed);
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let requests = if rng.gen_bool(one_request_share.clamp(0.0, 1.0)) {
                    1
                } else {
                    rng.gen_range(2..=12)
                };
                tokio::spawn(hop(client, upstream, requests));
            }
        });
        Ok(Hop { addr, task })
    }

    /// The base URL laptops use.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Hop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Carries one client connection to `upstream`, closing it after `requests` requests.
async fn hop(client: tokio::net::TcpStream, upstream: SocketAddr, requests: usize) {
    use tokio::io::AsyncWriteExt;
    let _ = client.set_nodelay(true);
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = server.set_nodelay(true);
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = server.into_split();
    let failed = {
        let up = async {
            let r = forward_requests(&mut client_rd, &mut server_wr, requests).await;
            let _ = server_wr.shutdown().await;
            r
        };
        let down = async {
            let r = tokio::io::copy(&mut server_rd, &mut client_wr).await;
            if r.is_ok() {
                let _ = client_wr.shutdown().await;
            }
            r
        };
        tokio::pin!(up, down);
        // Whichever side ends first decides: an error anywhere resets the client at once (a
        // client waiting for an answer must not wait for its own time-out); a clean end lets
        // the other side finish.
        tokio::select! {
            r = &mut down => r.is_err()
                || !matches!(tokio::time::timeout(Duration::from_secs(30), &mut up).await, Ok(Ok(_))),
            r = &mut up => r.is_err()
                || !matches!(tokio::time::timeout(Duration::from_secs(90), &mut down).await, Ok(Ok(_))),
        }
    };
    if failed {
        // A reset upstream (a refused or cut connection) stays a reset for the client.
        if let Ok(client) = client_rd.reunite(client_wr) {
            let _ = client.set_zero_linger();
        }
    }
}

/// Copies requests from the client to the server, the last of `limit` with `Connection:
/// close`, then whatever follows. Request bodies are framed by `Content-Length` (what the sync
/// client sends); anything else is copied as it is.
async fn forward_requests(
    client: &mut tokio::net::tcp::OwnedReadHalf,
    server: &mut tokio::net::tcp::OwnedWriteHalf,
    limit: usize,
) -> std::io::Result<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    for n in 1..=limit {
        let end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let read = client.read(&mut chunk).await?;
            if read == 0 {
                return Ok(0);
            }
            buf.extend_from_slice(&chunk[..read]);
        };
        let Some(body) = content_length(&buf[..end]) else {
            break;
        };
        if n == limit {
            server
                .write_all(&with_connection_close(&buf[..end]))
                .await?;
        } else {
            server.write_all(&buf[..end]).await?;
        }
        buf.drain(..end);
        let mut left = body;
        let take = left.min(buf.len());
        server.write_all(&buf[..take]).await?;
        buf.drain(..take);
        left -= take;
        while left > 0 {
            let read = client.read(&mut chunk).await?;
            if read == 0 {
                return Ok(0);
            }
            let take = left.min(read);
            server.write_all(&chunk[..take]).await?;
            buf.extend_from_slice(&chunk[take..read]);
            left -= take;
        }
    }
    server.write_all(&buf).await?;
    tokio::io::copy(client, server).await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The body length of a request head: its `Content-Length`, 0 without one, `None` for a
/// chunked body (not framed here).
fn content_length(head: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut length = 0;
    for line in text.split("\r\n").skip(1) {
        if let Some(v) = line.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if line.starts_with("transfer-encoding:") {
            return None;
        }
    }
    Some(length)
}

/// A request head (ending in an empty line) with its `Connection` headers replaced by
/// `Connection: close`.
fn with_connection_close(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len() + 20);
    for (i, line) in text.split("\r\n").enumerate() {
        if line.is_empty() || (i > 0 && line.to_ascii_lowercase().starts_with("connection:")) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// The run

/// Runs one soak and verifies its end state; `Err` says what broke (with log tails) or which
/// check failed.
pub fn run(cfg: &SoakConfig) -> Result<SoakReport> {
    let started = Instant::now();
    // One folder per process: two test runs at once (two sessions on one checkout) must not
    // share stores or a server.
    let run_dir = crate::target_debug_dir()
        .parent()
        .context("target dir")?
        .join("chaos")
        .join(format!("{}-{}", cfg.name, std::process::id()));
    if run_dir.exists() {
        fs::remove_dir_all(&run_dir).with_context(|| format!("clearing {}", run_dir.display()))?;
    }
    fs::create_dir_all(&run_dir)?;
    let loket = crate::built_binary("loket")?;
    ensure!(
        cfg.village_binary.is_file(),
        "{} is missing",
        cfg.village_binary.display()
    );

    // Three base pages through the real intake; laptops vary them per application.
    let pages_dir = run_dir.join("pages");
    fs::create_dir_all(&pages_dir)?;
    for n in 0..3 {
        let (w, h) = cfg.page_size;
        let upload = crate::synthetic_page_png(w, h + 20 * n as u32, 11 + n as u64, 1);
        fs::write(
            crate::base_page_path(&pages_dir, n),
            crate::intake_first_page(&upload)?,
        )?;
    }

    let data = run_dir.join("backoffice");
    fs::create_dir_all(&data)?;
    let mut server = Server {
        loket: loket.clone(),
        data: data.clone(),
        addr: SocketAddr::from(([127, 0, 0, 1], free_port()?)),
        log: run_dir.join("server.log"),
        proc: None,
        starts: 0,
    };
    server.start()?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let proxy = Proxy::start_on(runtime.handle(), server.addr, cfg.plan.clone())?;
    let hop = Hop::start(
        runtime.handle(),
        proxy.addr(),
        cfg.one_request_share,
        cfg.seed,
    )?;

    let epoch = chrono::Utc::now().timestamp();
    let (tx, rx) = mpsc::channel();
    let mut villages = Vec::new();
    for no in 1..=cfg.villages {
        let code = enrollment_code(&loket, &data, no)?;
        let db = run_dir.join(format!("village-{no}.sqlite"));
        let args: Vec<OsString> = vec![
            "--db".into(),
            db.clone().into(),
            "--url".into(),
            hop.http_url().into(),
            "--device".into(),
            no.to_string().into(),
            "--apps".into(),
            cfg.apps_per_village.to_string().into(),
            "--pages".into(),
            pages_dir.clone().into(),
            "--code".into(),
            code.into(),
            "--warp-epoch".into(),
            epoch.to_string().into(),
            "--per-pass".into(),
            cfg.per_pass.to_string().into(),
            "--seed".into(),
            cfg.seed.to_string().into(),
        ];
        villages.push(Village {
            no,
            db,
            args,
            log: run_dir.join(format!("village-{no}.log")),
            proc: None,
            starts: 0,
            passes: 0,
            done: false,
        });
    }
    for (i, v) in villages.iter_mut().enumerate() {
        v.spawn(&cfg.village_binary, i, &tx)?;
    }

    // The chaos schedule, relative to the first pass any laptop reports.
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut events: Vec<(Duration, Event)> = Vec::new();
    let window = cfg.chaos_window.as_secs_f64();
    let at = |rng: &mut StdRng| Duration::from_secs_f64(rng.gen_range(0.1 * window..window));
    for _ in 0..cfg.village_kills {
        events.push((at(&mut rng), Event::KillVillage));
    }
    for _ in 0..cfg.server_kills {
        events.push((at(&mut rng), Event::KillServer));
    }
    for _ in 0..cfg.link_outages {
        let down = Duration::from_millis(rng.gen_range(500..2_500));
        events.push((at(&mut rng), Event::LinkDown(down)));
    }
    events.sort_by_key(|(t, _)| *t);
    let mut events: VecDeque<(Duration, Event)> = events.into();

    let (mut village_kills, mut server_kills, mut link_outages) = (0, 0, 0);
    let mut chaos_start: Option<Instant> = None;
    let mut link_up_at: Option<Instant> = None;
    let mut faults_off_at: Option<Instant> = None;
    let mut last_forced = Instant::now();
    loop {
        while let Ok((i, line)) = rx.try_recv() {
            if line.starts_with("PASS ") {
                villages[i].passes += 1;
                if chaos_start.is_none() {
                    chaos_start = Some(Instant::now());
                    if cfg.force_every_kind {
                        force_every_kind(&proxy, &FaultKind::ALL);
                        last_forced = Instant::now();
                    }
                }
            }
        }
        for v in villages.iter_mut() {
            let Some(proc) = v.proc.as_mut() else {
                continue;
            };
            if let Some(status) = proc.0.try_wait()? {
                v.proc = None;
                match status.code() {
                    Some(0) => v.done = true,
                    _ => bail!(
                        "laptop {} exited with {status} (3 = stuck, 2 = error):\n{}",
                        v.no,
                        tail(&v.log, 40)
                    ),
                }
            }
        }
        if let Some(start) = chaos_start {
            while events.front().is_some_and(|(t, _)| start.elapsed() >= *t) {
                let (_, event) = events.pop_front().expect("front exists");
                match event {
                    Event::KillVillage => {
                        let working: Vec<usize> = (0..villages.len())
                            .filter(|&i| villages[i].proc.is_some() && !villages[i].done)
                            .collect();
                        if working.is_empty() {
                            continue;
                        }
                        let i = working[rng.gen_range(0..working.len())];
                        if let Some(mut proc) = villages[i].proc.take() {
                            proc.kill9();
                        }
                        village_kills += 1;
                        villages[i].spawn(&cfg.village_binary, i, &tx)?;
                    }
                    Event::KillServer => {
                        server.kill9();
                        server_kills += 1;
                        std::thread::sleep(Duration::from_millis(rng.gen_range(100..1_500)));
                        server.start()?;
                    }
                    Event::LinkDown(down) => {
                        proxy.set_link_up(false);
                        link_outages += 1;
                        link_up_at = Some(Instant::now() + down);
                    }
                }
            }
        }
        if link_up_at.is_some_and(|t| Instant::now() >= t) {
            proxy.set_link_up(true);
            link_up_at = None;
        }
        if faults_off_at.is_none()
            && events.is_empty()
            && link_up_at.is_none()
            && chaos_start.is_some_and(|s| s.elapsed() >= cfg.chaos_window)
        {
            let stats = proxy.stats();
            let missing: Vec<FaultKind> = FaultKind::ALL
                .into_iter()
                .filter(|&k| cfg.force_every_kind && stats.faults.get(k) == 0)
                .collect();
            if !missing.is_empty() {
                // A forced fault that met a server being restarted did not count: force again.
                if last_forced.elapsed() > Duration::from_secs(1) {
                    force_every_kind(&proxy, &missing);
                    last_forced = Instant::now();
                }
            } else if stats.faults.total() >= cfg.min_faults {
                proxy.clear_forced();
                proxy.force_clean(FAULTS_OFF);
                faults_off_at = Some(Instant::now());
            }
        }
        if villages.iter().all(|v| v.done) {
            break;
        }
        if started.elapsed() > cfg.deadline {
            let stats = proxy.stats();
            let mut why = format!(
                "soak run not finished after {:?} (faults {:?}, events left {}):",
                cfg.deadline,
                stats.faults,
                events.len()
            );
            for v in &villages {
                why.push_str(&format!(
                    "\n--- laptop {} (done {}):\n{}",
                    v.no,
                    v.done,
                    tail(&v.log, 8)
                ));
            }
            bail!(why);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    // Faults were on until now if the laptops finished first.
    let faults_off_at = faults_off_at.unwrap_or_else(Instant::now);
    let faulty = faults_off_at.duration_since(chaos_start.unwrap_or(faults_off_at));
    let stats = proxy.stats();

    // Reviewers' view of a few pages, straight from the server, before it stops.
    let stores: Vec<(u16, PathBuf)> = villages.iter().map(|v| (v.no, v.db.clone())).collect();
    check_review_pages(server.addr, &stores)?;
    server.kill9();
    drop(hop);
    drop(proxy);
    drop(runtime);

    let verified = verify(
        &data.join("backoffice.sqlite"),
        &stores,
        cfg.apps_per_village,
    )?;
    // A passing run leaves nothing behind unless asked; a failing one keeps everything.
    let kept = std::env::var_os("LOKET_CHAOS_KEEP").is_some_and(|v| !v.is_empty());
    if !kept {
        let _ = fs::remove_dir_all(&run_dir);
    }
    Ok(SoakReport {
        elapsed: started.elapsed(),
        faulty,
        stats,
        village_kills,
        server_kills,
        link_outages,
        passes: villages.iter().map(|v| v.passes).sum(),
        verified,
        run_dir,
    })
}

/// Queues one fault of each of `kinds` for the next connections; the cut points are small so
/// every one of them fires.
fn force_every_kind(proxy: &Proxy, kinds: &[FaultKind]) {
    for kind in kinds {
        proxy.force_next(
            1,
            match kind {
                FaultKind::CutRequest => Fault::CutRequest { after_bytes: 100 },
                FaultKind::CutResponse => Fault::CutResponse { after_bytes: 40 },
                FaultKind::DropResponse => Fault::DropResponse,
                FaultKind::Stall => Fault::Stall {
                    duration: Duration::from_millis(800),
                },
                FaultKind::Refuse => Fault::Refuse,
            },
        );
    }
}

/// `loket device code --data DIR --village … --device N`: the one-time code, as the district
/// admin would read it to the village.
fn enrollment_code(loket: &Path, data: &Path, no: u16) -> Result<String> {
    let out = Command::new(loket)
        .args(["device", "code", "--data"])
        .arg(data)
        .args([
            "--village",
            crate::VILLAGE_CODE,
            "--device",
            &no.to_string(),
        ])
        .output()
        .context("running loket device code")?;
    ensure!(
        out.status.success(),
        "loket device code failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8(out.stdout)?.trim().to_string();
    ensure!(!code.is_empty(), "loket device code printed no code");
    Ok(code)
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Plain `GET` on the server (not through the proxy): status and body.
fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .context("no status")?
        .parse()?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    }
    Ok((status, body))
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("bad chunk")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end])?.trim(), 16)?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// A few pages of every laptop as reviewers get them (`GET /review/scans/{sha256}`): bytes of
/// the recorded size that hash to the page's name.
fn check_review_pages(addr: SocketAddr, stores: &[(u16, PathBuf)]) -> Result<()> {
    for (no, db) in stores {
        let store = crate::open_village(db)?;
        let apps = store.applications()?;
        for app in apps.iter().step_by((apps.len() / 3).max(1)) {
            for page in app.provided.iter().flat_map(|p| &p.pages) {
                let (status, body) = http_get(addr, &format!("/review/scans/{}", page.sha256))?;
                ensure!(
                    status == 200,
                    "laptop {no}: GET /review/scans/{} answered {status}",
                    page.sha256
                );
                let digest = loket_store::hex(&Sha256::digest(&body));
                ensure!(
                    digest == page.sha256 && body.len() as u64 == page.size,
                    "laptop {no}: /review/scans/{} served {} bytes hashing to {digest}",
                    page.sha256,
                    body.len()
                );
            }
        }
    }
    Ok(())
}

/// One application as the server's `applications` table holds it.
struct ServerApp {
    village_code: String,
    device_no: u16,
    tracking_number: String,
    pages: Vec<String>,
}

/// The end-state checks: every laptop's every application is on the server exactly once (same
/// device, tracking number and page hashes; no application the laptops do not hold), every
/// outbox item is acknowledged or decided, every page of every application is on the server
/// complete, stored as contiguous chunks that add up to its size, hashing to its name (and equal
/// to the laptop's bytes while the laptop still holds them), and the server holds every
/// laptop's whole audit log.
pub fn verify(
    server_db: &Path,
    stores: &[(u16, PathBuf)],
    apps_per_village: usize,
) -> Result<Verified> {
    let conn = rusqlite::Connection::open(server_db)
        .with_context(|| format!("opening {}", server_db.display()))?;
    let mut server_apps: HashMap<String, ServerApp> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT id, village_code, device_no, tracking_number, provided FROM applications",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u16>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (id, village_code, device_no, tracking_number, provided) = row?;
            let provided: Vec<loket_domain::ProvidedDocument> = serde_json::from_str(&provided)?;
            let pages = provided
                .iter()
                .flat_map(|p| p.pages.iter().map(|s| s.sha256.clone()))
                .collect();
            let app = ServerApp {
                village_code,
                device_no,
                tracking_number,
                pages,
            };
            ensure!(
                server_apps.insert(id.clone(), app).is_none(),
                "application {id} is on the server twice"
            );
        }
    }
    let mut tracking: HashMap<&str, usize> = HashMap::new();
    for app in server_apps.values() {
        *tracking.entry(app.tracking_number.as_str()).or_default() += 1;
    }
    let twice: Vec<&&str> = tracking
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(t, _)| t)
        .collect();
    ensure!(
        twice.is_empty(),
        "tracking numbers on the server more than once: {twice:?}"
    );

    let mut verified = Verified::default();
    let mut laptop_pages: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    let mut seen_ids = HashSet::new();
    for (no, db) in stores {
        let store = crate::open_village(db)?;
        let apps = store.applications()?;
        ensure!(
            apps.len() == apps_per_village,
            "laptop {no} holds {} applications, expected {apps_per_village}",
            apps.len()
        );
        let pending = store.outbox_items()?;
        ensure!(
            pending.is_empty(),
            "laptop {no}: {} outbox items not acknowledged, e.g. {:?}",
            pending.len(),
            pending.first()
        );
        for app in &apps {
            let id = app.id.to_string();
            let state = store.outbox_item(app.id)?.map(|i| i.state);
            ensure!(
                matches!(
                    state,
                    Some(OutboxState::Acknowledged | OutboxState::Decided)
                ),
                "laptop {no}: application {id} is {state:?}"
            );
            let held = server_apps
                .get(&id)
                .with_context(|| format!("laptop {no}: application {id} is not on the server"))?;
            ensure!(
                held.village_code == crate::VILLAGE_CODE && held.device_no == *no,
                "application {id} is on the server under {}/{}",
                held.village_code,
                held.device_no
            );
            ensure!(
                held.tracking_number == app.tracking_number,
                "application {id}: tracking number {} on the server, {} on laptop {no}",
                held.tracking_number,
                app.tracking_number
            );
            let pages: Vec<String> = app
                .provided
                .iter()
                .flat_map(|p| p.pages.iter().map(|s| s.sha256.clone()))
                .collect();
            ensure!(
                held.pages == pages,
                "application {id}: other page hashes on the server"
            );
            ensure!(
                pages.len() == 3,
                "application {id} has {} pages",
                pages.len()
            );
            for sha in pages {
                let state = store.upload_state(&sha)?;
                ensure!(
                    state.as_ref().is_some_and(|s| s.complete && !s.failed),
                    "laptop {no}: page {sha} not recorded complete: {state:?}"
                );
                // A retention purge may have removed the bytes from the laptop already; the
                // name is their SHA-256 either way.
                laptop_pages.insert(sha.clone(), store.scan_bytes(&sha)?);
            }
            seen_ids.insert(id);
            verified.applications += 1;
        }
        let failed = store.failed_uploads()?;
        ensure!(failed.is_empty(), "laptop {no}: failed pages {failed:?}");
        let (last, acked) = (store.audit_last_seq()?, store.audit_acknowledged_seq()?);
        ensure!(
            last == acked,
            "laptop {no}: audit log acknowledged to {acked} of {last}"
        );
        let held: i64 = conn.query_row(
            "SELECT COUNT(*) FROM audit_entries WHERE village_code = ?1 AND device_no = ?2",
            rusqlite::params![crate::VILLAGE_CODE, no],
            |r| r.get(0),
        )?;
        ensure!(
            held == last,
            "laptop {no}: server holds {held} audit entries of {last}"
        );
        verified.audit_entries += held as usize;
    }
    let extra: Vec<&String> = server_apps
        .keys()
        .filter(|id| !seen_ids.contains(*id))
        .collect();
    ensure!(
        extra.is_empty(),
        "applications on the server no laptop holds: {extra:?}"
    );

    // Blobs: exactly the laptops' pages, each whole and right.
    let mut stmt = conn.prepare("SELECT sha256, size, received, complete FROM blobs")?;
    let blobs: Vec<(String, i64, i64, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut chunks =
        conn.prepare("SELECT start, data FROM blob_chunks WHERE sha256 = ?1 ORDER BY start")?;
    let mut on_server = HashSet::new();
    for (sha, size, received, complete) in &blobs {
        ensure!(
            *complete && received == size,
            "blob {sha}: complete {complete}, received {received} of {size}"
        );
        let mut bytes = Vec::with_capacity(*size as usize);
        let rows = chunks.query_map([sha], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for row in rows {
            let (start, data) = row?;
            ensure!(
                start == bytes.len() as i64,
                "blob {sha}: chunk at {start}, expected {} (overlap or gap)",
                bytes.len()
            );
            bytes.extend_from_slice(&data);
        }
        ensure!(
            bytes.len() as i64 == *size,
            "blob {sha}: chunks add up to {} of {size}",
            bytes.len()
        );
        let digest = loket_store::hex(&Sha256::digest(&bytes));
        ensure!(&digest == sha, "blob {sha}: its bytes hash to {digest}");
        let laptop = laptop_pages
            .get(sha)
            .with_context(|| format!("blob {sha} on the server is no laptop's page"))?;
        if let Some(laptop) = laptop {
            ensure!(&bytes == laptop, "blob {sha}: not the laptop's bytes");
        }
        on_server.insert(sha.clone());
        verified.blob_bytes += bytes.len() as u64;
    }
    let missing: Vec<&String> = laptop_pages
        .keys()
        .filter(|s| !on_server.contains(*s))
        .collect();
    ensure!(missing.is_empty(), "pages not on the server: {missing:?}");
    verified.blobs = blobs.len();
    Ok(verified)
}

/// Asserts the proxy saw at least one fault of every kind. Why a helper: the short test's
/// promise is "faults of every kind", and the message should name the missing kind.
pub fn ensure_every_kind(stats: &Stats) -> Result<()> {
    for kind in FaultKind::ALL {
        ensure!(
            stats.faults.get(kind) > 0,
            "no {kind:?} fault took effect: {:?}",
            stats.faults
        );
    }
    Ok(())
}
