//! `loket catalogue check` and `loket catalogue publish` as the district admin runs them: the
//! real binary, real files, exit codes; then the published catalogue reaches a village through a
//! real `loket serve` on loopback.

use loket_catalogue::{catalogue, parse_version, EMBEDDED_CATALOGUE_JSON};
use loket_store::VillageStore;
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn loket(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The embedded catalogue with another version line.
fn with_version(version: &str) -> String {
    let current = format!("\"version\": \"{}\"", catalogue().version());
    assert!(EMBEDDED_CATALOGUE_JSON.contains(&current));
    EMBEDDED_CATALOGUE_JSON.replacen(&current, &format!("\"version\": \"{version}\""), 1)
}

/// The embedded version with N moved by `delta`.
fn embedded_plus(delta: u32) -> String {
    let [year, month, n] = parse_version(catalogue().version()).unwrap();
    format!("{year}.{month:02}.{}", n + delta)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn publish(data: &Path, file: &str) -> Run {
    loket(&[
        "catalogue",
        "publish",
        "--data",
        data.to_str().unwrap(),
        file,
    ])
}

#[test]
fn check_prints_version_and_service_count_or_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", EMBEDDED_CATALOGUE_JSON);
    let run = loket(&["catalogue", "check", &good]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(catalogue().version()), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("{} layanan", catalogue().services().len())),
        "{}",
        run.stdout
    );

    let broken = write(
        dir.path(),
        "broken.json",
        &EMBEDDED_CATALOGUE_JSON.replacen("\"schema\": 1", "\"schema\": 2", 1),
    );
    let run = loket(&["catalogue", "check", &broken]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("tidak valid"), "{}", run.stderr);
    assert!(run.stderr.contains("schema 2"), "{}", run.stderr);

    let bad_version = write(dir.path(), "v.json", &with_version("November"));
    let run = loket(&["catalogue", "check", &bad_version]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("YYYY.MM.N"), "{}", run.stderr);

    let run = loket(&["catalogue", "check", "/nonexistent/catalogue.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("tidak dapat dibaca"), "{}", run.stderr);
}

#[test]
fn publish_takes_only_valid_and_newer_catalogues_and_writes_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("backoffice");
    let target = data.join("catalogue.json");

    // The embedded version counts as published already.
    let same = write(dir.path(), "same.json", EMBEDDED_CATALOGUE_JSON);
    let run = publish(&data, &same);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("tidak lebih baru"), "{}", run.stderr);
    assert!(!target.exists());

    // Invalid content and malformed versions are refused.
    let broken = write(
        dir.path(),
        "broken.json",
        &with_version(&embedded_plus(1)).replacen(
            "\"services\": [",
            "\"services\": 7, \"x\": [",
            1,
        ),
    );
    let run = publish(&data, &broken);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("tidak valid"), "{}", run.stderr);
    let malformed = write(dir.path(), "malformed.json", &with_version("2099-01-01"));
    assert_eq!(publish(&data, &malformed).code, 1);
    assert!(!target.exists());

    // A newer one is written exactly as given, with no temporary file left behind.
    let newer_text = with_version(&embedded_plus(1));
    let newer = write(dir.path(), "newer.json", &newer_text);
    let run = publish(&data, &newer);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&embedded_plus(1)), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), newer_text);
    let names: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["catalogue.json"]);

    // Now the published file is the bar: the same version again is refused, and so is a bad
    // one, leaving the published file untouched.
    let run = publish(&data, &newer);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(&embedded_plus(1)), "{}", run.stderr);
    assert_eq!(publish(&data, &broken).code, 1);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), newer_text);

    let newest_text = with_version(&embedded_plus(2));
    let newest = write(dir.path(), "newest.json", &newest_text);
    assert_eq!(publish(&data, &newest).code, 0);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), newest_text);

    // A hand-broken published file does not block the repair.
    std::fs::write(&target, "{ broken").unwrap();
    let repair = write(dir.path(), "repair.json", &with_version(&embedded_plus(3)));
    let run = publish(&data, &repair);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Peringatan"), "{}", run.stderr);
}

/// Kills the server started by this test (by its own handle) even when an assertion fails.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_published_catalogue_reaches_a_village_through_loket_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("backoffice");
    let newer_text = with_version(&embedded_plus(1));
    let newer = write(dir.path(), "newer.json", &newer_text);
    assert_eq!(publish(&data, &newer).code, 0);

    let mut child = Command::new(env!("CARGO_BIN_EXE_loket"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kept open until the end: the server must not meet a closed pipe when it prints.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let server = Serving(child);
    // "Loket back office: http://127.0.0.1:PORT/review (key …)"
    let base = loop {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "serve exited early"
        );
        if let Some(rest) = line.find("http://").map(|start| &line[start..]) {
            if let Some(end) = rest.find("/review") {
                break rest[..end].to_string();
            }
        }
    };

    // The village trusts the list `serve` published next to its key.
    let trust =
        loket_qr::TrustList::from_json(&std::fs::read_to_string(data.join("trust.json")).unwrap())
            .unwrap();
    let store = VillageStore::open_in_memory().unwrap();
    let pulled = loket_sync::pull_catalogue(&base, &store, &trust).unwrap();
    assert_eq!(pulled, Some(embedded_plus(1)));
    assert_eq!(
        store.setting(loket_sync::CATALOGUE_SETTING).unwrap(),
        Some(newer_text)
    );
    drop(server);
    drop(stdout);
}
