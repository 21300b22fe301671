//! Harness for Loket's end-to-end test.
//!
//! Each helper process (Xvfb, `loket serve`, tauri-driver, chromedriver) is owned by a guard
//! that kills its whole process group on drop, so nothing is left behind when a test fails or
//! panics. Output of every process goes to `artifacts/e2e/logs/<name>.log`; screenshots go to
//! `artifacts/e2e/<name>.png`.
//!
//! Everything is found relative to this crate: binaries in `<repo>/target/debug` (or
//! `$CARGO_TARGET_DIR/debug`), which `cargo build --workspace` produces. A missing binary or
//! tool is an error, never a skip.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tempfile::TempDir;

/// Default time to wait for an element or a state in the UI.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(200);

// ---------------------------------------------------------------------------------------------
// Paths

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `<target>/debug`, honouring `CARGO_TARGET_DIR` (relative paths are taken from the repo root).
pub fn target_debug_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_relative() {
                repo_root().join(dir)
            } else {
                dir
            };
            dir.join("debug")
        }
        _ => repo_root().join("target").join("debug"),
    }
}

/// A binary built by this workspace, e.g. `loket` or `loket-desk`. Fails when it is missing.
pub fn built_binary(name: &str) -> Result<PathBuf> {
    let path = target_debug_dir().join(name);
    if !path.is_file() {
        bail!(
            "{} is missing: run `cargo build --workspace` first (./scripts/test-all does)",
            path.display()
        );
    }
    Ok(path)
}

/// A program from PATH (or cargo's bin dir, where `cargo install` puts tauri-driver).
pub fn find_program(name: &str, hint: &str) -> Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        dirs.push(home.join("bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow!("`{name}` was not found on PATH: {hint}"))
}

/// `<repo>/artifacts/e2e`, created on demand.
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = repo_root().join("artifacts").join("e2e");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// `<repo>/artifacts/e2e/logs`, created on demand.
pub fn logs_dir() -> Result<PathBuf> {
    let dir = artifacts_dir()?.join("logs");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Empty `artifacts/e2e` so that screenshots from an earlier run cannot be mistaken for this one.
pub fn clean_artifacts() -> Result<PathBuf> {
    let dir = repo_root().join("artifacts").join("e2e");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    artifacts_dir()
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

async fn wait_for_port(port: u16, guard: &mut ChildGuard, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        guard.ensure_running()?;
        if Instant::now() > deadline {
            bail!(
                "{} did not listen on port {port} within {}s\n{}",
                guard.name,
                timeout.as_secs(),
                guard.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A child process in its own process group; drop kills the group (SIGTERM, then SIGKILL).
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Spawn `cmd` with stdin closed and stderr (and stdout unless `pipe_stdout`) appended to
    /// `artifacts/e2e/logs/<name>.log`.
    pub fn spawn(name: &str, mut cmd: Command, pipe_stdout: bool) -> Result<Self> {
        let log = logs_dir()?.join(format!("{name}.log"));
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        cmd.stdin(Stdio::null());
        if pipe_stdout {
            cmd.stdout(Stdio::piped());
        } else {
            cmd.stdout(file.try_clone()?);
        }
        cmd.stderr(file);
        cmd.process_group(0);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGTERM the child
        // should this thread die without dropping the guard (e.g. the test binary is killed).
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        Ok(Self {
            name: name.to_string(),
            child,
            log,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the process's log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        format!(
            "--- last {} lines of {} ---\n{}\n--- end of {} ---",
            all.len() - start,
            self.log.display(),
            all[start..].join("\n"),
            self.name
        )
    }

    /// Error (with the log tail) when the process has exited.
    pub fn ensure_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited early ({status})\n{}",
                self.name,
                self.log_tail(40)
            );
        }
        Ok(())
    }

    fn signal_group(&self, signal: libc::c_int) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: plain syscall; the group was created by process_group(0) at spawn.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let exited = matches!(self.child.try_wait(), Ok(Some(_)));
        // Even when the leader has exited, its children (WebKitWebDriver, the app, Chromium)
        // may still be alive in the group.
        self.signal_group(libc::SIGTERM);
        if !exited {
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.signal_group(libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Xvfb

/// A private X server. Works without any DISPLAY in the caller's environment.
#[derive(Debug)]
pub struct Xvfb {
    display: String,
    _guard: ChildGuard,
}

impl Xvfb {
    /// Start `Xvfb -displayfd 1 -screen 0 1366x768x24 -nolisten tcp` and read the display number
    /// it picked. Set `LOKET_E2E_DISPLAY=:0` to use an existing display instead (to watch).
    pub fn start() -> Result<Self> {
        let xvfb = find_program("Xvfb", "install the Debian package xvfb (./scripts/lib.sh)")?;
        let mut cmd = Command::new(xvfb);
        cmd.args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1366x768x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ]);
        let mut guard = ChildGuard::spawn("xvfb", cmd, true)?;
        let stdout = guard
            .child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("Xvfb stdout was not captured"))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so Xvfb never blocks on (or dies of) a full or closed pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(15)).map_err(|_| {
            anyhow!(
                "Xvfb did not report a display within 15 s\n{}",
                guard.log_tail(20)
            )
        })?;
        let number = line.trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            guard.ensure_running()?;
            bail!("Xvfb reported display {line:?}\n{}", guard.log_tail(20));
        }
        Ok(Self {
            display: format!(":{number}"),
            _guard: guard,
        })
    }

    pub fn display(&self) -> &str {
        &self.display
    }
}

/// Either our own Xvfb or a display given in `LOKET_E2E_DISPLAY`.
#[derive(Debug)]
pub enum Display {
    Private(Xvfb),
    External(String),
}

impl Display {
    pub fn start() -> Result<Self> {
        match std::env::var("LOKET_E2E_DISPLAY") {
            Ok(d) if !d.is_empty() => Ok(Display::External(d)),
            _ => Ok(Display::Private(Xvfb::start()?)),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Display::Private(x) => x.display(),
            Display::External(d) => d,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The back office

/// `loket serve` on a free port with a fresh data directory.
#[derive(Debug)]
pub struct BackOffice {
    // Fields drop in order: the process first, then its data directory.
    guard: ChildGuard,
    url: String,
    data: TempDir,
}

impl BackOffice {
    pub async fn start() -> Result<Self> {
        let loket = built_binary("loket")?;
        let data = tempfile::Builder::new()
            .prefix("loket-e2e-backoffice-")
            .tempdir()?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(&loket);
        cmd.arg("serve")
            .arg("--data")
            .arg(data.path())
            .arg("--addr")
            .arg(&addr)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            );
        let mut guard = ChildGuard::spawn("backoffice", cmd, false)?;
        let url = format!("http://{addr}");
        let health = format!("{url}/api/v1/health");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            guard.ensure_running()?;
            let last = match http_get(&health).await {
                Ok((200, _)) => break,
                Ok((status, body)) => format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() > deadline {
                bail!(
                    "loket serve did not answer GET {health} with 200 within 30 s (last: {last})\n{}",
                    guard.log_tail(60)
                );
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(Self { guard, url, data })
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The public trust list the server writes: `<data>/trust.json`.
    pub fn trust_path(&self) -> PathBuf {
        self.data.path().join("trust.json")
    }

    /// A one-time enrollment code for `village`/`device`, as the district admin gets one:
    /// `loket device code --data <this server's data dir> …` (stdout is the code alone).
    pub fn enrollment_code(&self, village: &str, device: &str) -> Result<String> {
        let loket = built_binary("loket")?;
        let data = self.data.path().as_os_str();
        let out = run_command(
            &loket,
            &[
                "device".as_ref(),
                "code".as_ref(),
                "--data".as_ref(),
                data,
                "--village".as_ref(),
                village.as_ref(),
                "--device".as_ref(),
                device.as_ref(),
            ],
        )?;
        let code = out.stdout.trim().to_string();
        if out.code != Some(0) || code.is_empty() {
            bail!(
                "loket device code exited with {:?}\nstdout: {}\nstderr: {}",
                out.code,
                out.stdout,
                out.stderr
            );
        }
        Ok(code)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.guard.log_tail(lines)
    }
}

// ---------------------------------------------------------------------------------------------
// tauri-driver (the real desktop window)

/// Village settings the desktop app is started with.
pub const VILLAGE_CODE: &str = "7315012003";
pub const DEVICE: &str = "1";
pub const OPERATOR: &str = "Operator Uji";

/// tauri-driver, which starts WebKitWebDriver, which starts `loket-desk` in a real window.
#[derive(Debug)]
pub struct TauriDriver {
    // Fields drop in order: the processes first, then their directories.
    guard: ChildGuard,
    port: u16,
    app: PathBuf,
    data: TempDir,
    scratch: TempDir,
}

impl TauriDriver {
    pub async fn start(display: &str, server_url: &str) -> Result<Self> {
        let app = built_binary("loket-desk")?;
        let driver = find_program(
            "tauri-driver",
            "run `cargo install tauri-driver --locked --version 2.1.0` (./scripts/lib.sh does)",
        )?;
        find_program(
            "WebKitWebDriver",
            "install the Debian package webkit2gtk-driver (./scripts/lib.sh)",
        )?;
        let data = tempfile::Builder::new()
            .prefix("loket-e2e-village-")
            .tempdir()?;
        let scratch = tempfile::Builder::new()
            .prefix("loket-e2e-driver-")
            .tempdir()?;

        // The app may open receipts with the system viewer (xdg-open). In the test that must not
        // start a real viewer, so a stub that only records its arguments comes first on PATH.
        let bin = scratch.path().join("bin");
        fs::create_dir_all(&bin)?;
        let opened = scratch.path().join("xdg-open.log");
        let stub = bin.join("xdg-open");
        fs::write(
            &stub,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexit 0\n",
                opened.display()
            ),
        )?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&stub, fs::Permissions::from_mode(0o755))?;
        let path = match std::env::var_os("PATH") {
            Some(p) => {
                let mut dirs = vec![bin.clone()];
                dirs.extend(std::env::split_paths(&p));
                std::env::join_paths(dirs)?
            }
            None => bin.clone().into_os_string(),
        };

        let port = free_port()?;
        let native_port = loop {
            let p = free_port()?;
            if p != port {
                break p;
            }
        };
        // dbus-run-session gives WebKitGTK its own session bus; without one it can stall on the
        // accessibility bus under Xvfb (STACK.md pitfall 7). Opt out with LOKET_E2E_NO_DBUS=1.
        let use_dbus = std::env::var_os("LOKET_E2E_NO_DBUS").is_none()
            && find_program("dbus-run-session", "").is_ok();
        let mut cmd = if use_dbus {
            let mut c = Command::new("dbus-run-session");
            c.arg("--").arg(&driver);
            c
        } else {
            Command::new(&driver)
        };
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env("GDK_BACKEND", "x11")
            .env("NO_AT_BRIDGE", "1")
            .env("PATH", path)
            .env("LOKET_DATA_DIR", data.path())
            .env("LOKET_SERVER_URL", server_url)
            .env("LOKET_VILLAGE", VILLAGE_CODE)
            .env("LOKET_DEVICE", DEVICE)
            .env("LOKET_OPERATOR", OPERATOR)
            // WebKit's test-pattern cameras stand in for a webcam (debug builds only).
            .env("LOKET_FAKE_CAMERA", "1")
            .env_remove("LOKET_DEMO");
        let mut guard = ChildGuard::spawn("tauri-driver", cmd, false)?;
        wait_for_port(port, &mut guard, Duration::from_secs(20)).await?;
        Ok(Self {
            guard,
            port,
            app,
            data,
            scratch,
        })
    }

    /// The app's data directory (`LOKET_DATA_DIR`).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// What the app asked xdg-open to open, one line per call.
    pub fn opened_with_viewer(&self) -> Vec<String> {
        fs::read_to_string(self.scratch.path().join("xdg-open.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Start a session, i.e. launch the app window. No browserName, no webSocketUrl
    /// (STACK.md pitfall 7: both make session creation fail).
    pub async fn connect(&mut self) -> Result<Browser> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": self.app }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let client = connect_with_retry(&url, caps, &mut self.guard).await?;
        Ok(Browser::new("desktop", client))
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.guard.log_tail(lines)
    }
}

// ---------------------------------------------------------------------------------------------
// chromedriver (the back-office pages)

/// chromedriver driving Debian's headless Chromium.
#[derive(Debug)]
pub struct Chromium {
    // Fields drop in order: the processes first, then the profile directory.
    guard: ChildGuard,
    port: u16,
    profile: TempDir,
}

pub const CHROMIUM_BINARY: &str = "/usr/bin/chromium";

impl Chromium {
    pub async fn start() -> Result<Self> {
        let driver = find_program(
            "chromedriver",
            "install the Debian package chromium-driver (./scripts/lib.sh)",
        )?;
        if !Path::new(CHROMIUM_BINARY).is_file() {
            bail!("{CHROMIUM_BINARY} is missing: install the Debian package chromium (./scripts/lib.sh)");
        }
        let profile = tempfile::Builder::new()
            .prefix("loket-e2e-chromium-")
            .tempdir()?;
        let port = free_port()?;
        let mut cmd = Command::new(driver);
        cmd.arg(format!("--port={port}"));
        let mut guard = ChildGuard::spawn("chromedriver", cmd, false)?;
        wait_for_port(port, &mut guard, Duration::from_secs(20)).await?;
        Ok(Self {
            guard,
            port,
            profile,
        })
    }

    pub async fn connect(&mut self) -> Result<Browser> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM_BINARY,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-quic",
                    "--no-first-run",
                    "--window-size=1366,900",
                    format!("--user-data-dir={}", self.profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let client = connect_with_retry(&url, caps, &mut self.guard).await?;
        Ok(Browser::new("chromium", client))
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.guard.log_tail(lines)
    }
}

async fn connect_with_retry(
    url: &str,
    caps: serde_json::Map<String, serde_json::Value>,
    guard: &mut ChildGuard,
) -> Result<Client> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(url)
            .await;
        match result {
            Ok(client) => return Ok(client),
            Err(e) if attempt < 3 => {
                guard.ensure_running()?;
                eprintln!("[e2e] {}: new session failed ({e}); retrying", guard.name());
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                bail!(
                    "{}: could not create a WebDriver session at {url}: {e}\n{}",
                    guard.name(),
                    guard.log_tail(60)
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A WebDriver session with the waits and actions the story needs

/// A WebDriver session plus helpers. All waits poll by CSS selector, re-querying every time, so
/// a re-rendered element never goes stale under us.
#[derive(Debug)]
pub struct Browser {
    name: &'static str,
    client: Client,
}

impl Browser {
    pub fn new(name: &'static str, client: Client) -> Self {
        Self { name, client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("{}: opening {url}", self.name))
    }

    /// Elements matching `css` right now (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .with_context(|| format!("{}: finding {css}", self.name))
    }

    pub async fn count(&self, css: &str) -> Result<usize> {
        Ok(self.find_all(css).await?.len())
    }

    /// Wait (up to `WAIT`) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        self.wait_for_within(css, WAIT).await
    }

    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(mut found) = self.client.find_all(Locator::Css(css)).await {
                if !found.is_empty() {
                    return Ok(found.swap_remove(0));
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: no element matches `{css}` after {}s",
                    self.name,
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until the first element matching `css` has `attr` equal to `value`.
    pub async fn wait_attr(&self, css: &str, attr: &str, value: &str) -> Result<Element> {
        let deadline = Instant::now() + WAIT;
        let mut last: Option<String> = None;
        loop {
            if let Ok(mut found) = self.client.find_all(Locator::Css(css)).await {
                if let Some(el) = found.first() {
                    if let Ok(v) = el.attr(attr).await {
                        if v.as_deref() == Some(value) {
                            return Ok(found.swap_remove(0));
                        }
                        last = Some(format!("{v:?}"));
                    }
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: `{css}` never had {attr}={value:?} within {}s (last seen: {})",
                    self.name,
                    WAIT.as_secs(),
                    last.unwrap_or_else(|| "no such element".into())
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until the text of the first element matching `css` satisfies `check`
    /// (`what` describes the expectation in the error message). Returns the text.
    pub async fn wait_text(
        &self,
        css: &str,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        let mut last: Option<String> = None;
        loop {
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await {
                if let Some(el) = found.first() {
                    if let Ok(text) = el.text().await {
                        if check(&text) {
                            return Ok(text);
                        }
                        last = Some(text);
                    }
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: text of `{css}` never became {what} within {}s (last seen: {:?})",
                    self.name,
                    WAIT.as_secs(),
                    last.as_deref().unwrap_or("<no such element>")
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        let el = self.wait_for(css).await?;
        el.text()
            .await
            .with_context(|| format!("{}: reading the text of {css}", self.name))
    }

    pub async fn attr(&self, css: &str, attr: &str) -> Result<Option<String>> {
        let el = self.wait_for(css).await?;
        el.attr(attr)
            .await
            .with_context(|| format!("{}: reading {attr} of {css}", self.name))
    }

    /// Wait for `css`, then click it.
    pub async fn click(&self, css: &str) -> Result<()> {
        let el = self.wait_for(css).await?;
        el.click()
            .await
            .with_context(|| format!("{}: clicking {css}", self.name))
    }

    /// Wait for the input `css`, clear it, then type `text`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let el = self.wait_for(css).await?;
        el.clear()
            .await
            .with_context(|| format!("{}: clearing {css}", self.name))?;
        el.send_keys(text)
            .await
            .with_context(|| format!("{}: typing into {css}", self.name))
    }

    /// Choose `value` in the `<select>` `css` (falls back to setting it by script and firing
    /// input/change when the driver's option click does not take).
    pub async fn select(&self, css: &str, value: &str) -> Result<()> {
        let el = self.wait_for(css).await?;
        let _ = el.select_by_value(value).await;
        let now = el.prop("value").await.ok().flatten();
        if now.as_deref() == Some(value) {
            return Ok(());
        }
        let script = "const el = document.querySelector(arguments[0]);\
                      el.value = arguments[1];\
                      el.dispatchEvent(new Event('input', { bubbles: true }));\
                      el.dispatchEvent(new Event('change', { bubbles: true }));\
                      return el.value;";
        let result = self
            .client
            .execute(script, vec![css.into(), value.into()])
            .await
            .with_context(|| format!("{}: selecting {value} in {css}", self.name))?;
        if result.as_str() != Some(value) {
            bail!(
                "{}: could not select {value:?} in {css} (value is {result})",
                self.name
            );
        }
        Ok(())
    }

    /// Save a PNG screenshot to `artifacts/e2e/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .with_context(|| format!("{}: taking screenshot {name}", self.name))?;
        let path = artifacts_dir()?.join(format!("{name}.png"));
        fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("[e2e] screenshot {}", path.display());
        Ok(path)
    }

    /// Best effort after a failure: screenshot and page source as `FAILED-<session>.*`.
    pub async fn save_failure_evidence(&self) {
        let name = format!("FAILED-{}", self.name);
        if let Err(e) = self.screenshot(&name).await {
            eprintln!("[e2e] could not save {name}.png: {e:#}");
        }
        match (self.client.source().await, artifacts_dir()) {
            (Ok(html), Ok(dir)) => {
                let path = dir.join(format!("{name}.html"));
                if fs::write(&path, html).is_ok() {
                    eprintln!("[e2e] page source {}", path.display());
                }
            }
            (Err(e), _) => eprintln!("[e2e] could not read the page source of {}: {e}", self.name),
            (_, Err(e)) => eprintln!("[e2e] {e:#}"),
        }
    }

    /// End the session (closes the window / browser).
    pub async fn close(self) -> Result<()> {
        self.client
            .close()
            .await
            .with_context(|| format!("{}: closing the session", self.name))
    }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/// GET over plain http; returns the status and the body.
pub async fn http_get(url: &str) -> Result<(u16, Vec<u8>)> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build::<_, Empty<bytes::Bytes>>(HttpConnector::new());
    let response = tokio::time::timeout(Duration::from_secs(30), client.get(uri))
        .await
        .map_err(|_| anyhow!("GET {url} timed out"))?
        .with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .with_context(|| format!("reading the body of GET {url}"))?
        .to_bytes();
    Ok((status, body.to_vec()))
}

/// Output of a finished command.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run a program to completion (stdin closed) and capture its output.
pub fn run_command(program: &Path, args: &[&std::ffi::OsStr]) -> Result<Output> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", program.display()))?;
    Ok(Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Text of a PDF by `pdftotext -layout FILE -`, with all whitespace runs collapsed to one space.
pub fn pdf_text(pdf: &Path) -> Result<String> {
    let pdftotext = find_program(
        "pdftotext",
        "install the Debian package poppler-utils (./scripts/lib.sh)",
    )?;
    let out = run_command(&pdftotext, &[pdf.as_os_str(), "-".as_ref()])?;
    if out.code != Some(0) {
        bail!(
            "pdftotext {} failed ({:?}): {}",
            pdf.display(),
            out.code,
            out.stderr
        );
    }
    Ok(collapse_whitespace(&out.stdout))
}

pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Read a whole file (for small files only).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    fs::File::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// `n` pseudo-random bytes (xorshift, seeded from the clock): content no parser can read.
pub fn noise(n: usize) -> Vec<u8> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
        | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `7315012003-001-261122-0001`: village code, device, date (YYMMDD) and a 4-digit sequence.
pub fn is_tracking_number(s: &str, village: &str, device: &str, seq: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 4
        && parts[0] == village
        && parts[1] == device
        && parts[2].len() == 6
        && parts[2].bytes().all(|b| b.is_ascii_digit())
        && parts[3] == seq
}
