//! `loket device code|list|revoke` as the district admin runs them, against the data directory
//! of a real `loket serve --demo` on loopback: the printed code enrolls a laptop, the list shows
//! it, and a revoked laptop is refused at once.

use loket_store::VillageStore;
use loket_sync::protocol::DeviceRef;
use loket_sync::{SyncClient, SyncError};
use rand::SeedableRng;
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

fn device_cmd(command: &str, data: &Path, village: &str, device: &str) -> Run {
    loket(&[
        "device",
        command,
        "--data",
        data.to_str().unwrap(),
        "--village",
        village,
        "--device",
        device,
    ])
}

fn list(data: &Path) -> Run {
    loket(&["device", "list", "--data", data.to_str().unwrap()])
}

fn device(no: u16) -> DeviceRef {
    DeviceRef {
        village_code: "7315012003".into(),
        device_no: no,
    }
}

/// A code looks like `K7QX-M2PD-9R`: groups of 4, 4 and 2 unambiguous characters.
fn is_code(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [4, 4, 2]
        && s.bytes()
            .all(|b| b == b'-' || (b.is_ascii_alphanumeric() && !b"01ILOU".contains(&b)))
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
fn codes_enroll_laptops_the_list_shows_them_and_revoke_cuts_them_off() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("backoffice");

    // A mistyped data directory is an error, not a fresh empty database somewhere.
    let r = list(&data);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("tidak ada"), "{}", r.stderr);
    std::fs::create_dir_all(&data).unwrap();

    let r = device_cmd("code", &data, "7315012003", "2");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let code = r.stdout.trim().to_string();
    assert!(is_code(&code), "{code:?}");
    assert!(r.stderr.contains("berlaku sampai"), "{}", r.stderr);

    let r = device_cmd("code", &data, "9999999999", "1");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("kode desa 9999999999 tidak dikenal"),
        "{}",
        r.stderr
    );

    let r = list(&data);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("Belum ada perangkat terdaftar"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("7315012003/2"), "{}", r.stdout);
    assert!(!r.stdout.contains(&code), "the code itself is never kept");

    // `serve --demo` writes a code for the demo laptop (7315012003/1) beside its database.
    let mut child = Command::new(env!("CARGO_BIN_EXE_loket"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--demo",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let server = Serving(child);
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
    let demo_code = std::fs::read_to_string(data.join("demo-enrollment-code.txt")).unwrap();
    assert!(is_code(demo_code.trim()), "{demo_code:?}");

    let laptop = |no: u16, code: &str| {
        let store = VillageStore::open_in_memory().unwrap();
        loket_sync::auth::enroll(
            &base,
            &store,
            code,
            &device(no),
            &mut rand::rngs::StdRng::seed_from_u64(u64::from(no)),
        )
        .unwrap();
        SyncClient::for_store(&base, &store).unwrap()
    };
    let one = laptop(1, demo_code.trim());
    let two = laptop(2, &code);
    assert!(one.updates(&device(1), 0).unwrap().updates.is_empty());
    assert!(two.updates(&device(2), 0).unwrap().updates.is_empty());

    let r = list(&data);
    assert_eq!(r.code, 0);
    for no in ["7315012003/1", "7315012003/2"] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(no))
            .unwrap_or_else(|| panic!("{no} not listed:\n{}", r.stdout));
        assert!(line.contains("aktif") && line.contains("Pinrang"), "{line}");
        assert!(
            !line.contains("terlihat —"),
            "last seen is recorded: {line}"
        );
    }
    assert!(!r.stdout.contains("belum dipakai"), "both codes are used");

    let r = device_cmd("revoke", &data, "7315012003", "2");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("dicabut"), "{}", r.stdout);
    let err = two.updates(&device(2), 0).unwrap_err();
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
    assert!(
        one.updates(&device(1), 0).is_ok(),
        "the other laptop works on"
    );
    assert!(list(&data).stdout.contains("DICABUT"));

    let r = device_cmd("revoke", &data, "7315012003", "3");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("belum pernah terdaftar"), "{}", r.stderr);
    drop(server);
    drop(stdout);
}
