//! `loket device`: the district admin enrolls and revokes village laptops. `code` prints a
//! one-time enrollment code (valid 72 hours) the village operator types in the desktop app's
//! settings; `list` shows enrolled devices and unused codes; `revoke` cuts a device off. The
//! commands open the same `backoffice.sqlite` as `serve` and may run while it serves.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use loket_backoffice::store::Revocation;
use loket_backoffice::BackofficeStore;
use loket_sync::protocol::DeviceRef;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// File `serve --demo` writes a fresh enrollment code to, for `scripts/run-app`.
pub const DEMO_CODE_FILE: &str = "demo-enrollment-code.txt";
/// The device the demo code enrolls: the desktop app's default village and device number.
const DEMO_DEVICE: (&str, u16) = ("7315012003", 1);

/// The `loket device` subcommands.
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Issue a one-time enrollment code for a village laptop (valid 72 hours, single use; an
    /// earlier unused code of the same device stops working). Prints only the code on stdout.
    Code {
        /// The back office data directory (the same as `serve --data`).
        #[arg(long, default_value = ".loket/backoffice")]
        data: PathBuf,
        /// The village's 10-digit desa/kelurahan code.
        #[arg(long)]
        village: String,
        /// The device number within the village (1–999).
        #[arg(long)]
        device: u16,
    },
    /// List enrolled devices and unused enrollment codes.
    List {
        /// The back office data directory (the same as `serve --data`).
        #[arg(long, default_value = ".loket/backoffice")]
        data: PathBuf,
    },
    /// Revoke a device: its requests are refused from now on, until it enrolls with a new code.
    /// Exit code 0 = revoked (or already was), 1 = no such device or an error.
    Revoke {
        /// The back office data directory (the same as `serve --data`).
        #[arg(long, default_value = ".loket/backoffice")]
        data: PathBuf,
        /// The village's 10-digit desa/kelurahan code.
        #[arg(long)]
        village: String,
        /// The device number within the village.
        #[arg(long)]
        device: u16,
    },
}

/// Runs one `loket device` subcommand and maps the outcome to the exit code.
pub fn run(command: DeviceCommand) -> ExitCode {
    let (name, result) = match command {
        DeviceCommand::Code {
            data,
            village,
            device,
        } => ("code", code(&data, &device_ref(village, device))),
        DeviceCommand::List { data } => ("list", list(&data)),
        DeviceCommand::Revoke {
            data,
            village,
            device,
        } => ("revoke", revoke(&data, &device_ref(village, device))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loket device {name}: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn device_ref(village: String, device_no: u16) -> DeviceRef {
    DeviceRef {
        village_code: village.trim().to_string(),
        device_no,
    }
}

fn open(data: &Path) -> anyhow::Result<BackofficeStore> {
    anyhow::ensure!(
        data.is_dir(),
        "folder data back office {} tidak ada; periksa --data (sama dengan `loket serve --data`)",
        data.display()
    );
    let path = data.join("backoffice.sqlite");
    BackofficeStore::open(&path).with_context(|| format!("membuka {}", path.display()))
}

fn village_label(code: &str) -> String {
    loket_domain::RegionCode::parse_village(code)
        .map(|v| {
            let regency = loket_domain::region_name(&v.regency_dotted()).unwrap_or("");
            format!("{}, {regency}", v.name())
        })
        .unwrap_or_default()
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%d-%m-%Y %H:%M UTC").to_string()
}

fn code(data: &Path, device: &DeviceRef) -> anyhow::Result<()> {
    let mut store = open(data)?;
    let issued = store.issue_enrollment_code(device, Utc::now(), &mut rand::rngs::OsRng)?;
    println!("{}", issued.code);
    eprintln!(
        "Kode pendaftaran untuk perangkat {} ({}), sekali pakai, berlaku sampai {}.\n\
         Masukkan di aplikasi Loket desa: Pengaturan → Pendaftaran perangkat.",
        device.to_header(),
        village_label(&device.village_code),
        when(issued.expires_at)
    );
    Ok(())
}

fn list(data: &Path) -> anyhow::Result<()> {
    let store = open(data)?;
    let devices = store.devices()?;
    if devices.is_empty() {
        println!("Belum ada perangkat terdaftar.");
    } else {
        println!("Perangkat terdaftar:");
        for d in &devices {
            let state = match d.revoked_at {
                Some(t) => format!("DICABUT {}", when(t)),
                None => "aktif".to_string(),
            };
            println!(
                "  {:<14} {:<40} {:<24} terdaftar {}  terakhir terlihat {}  kunci {}…",
                d.device.to_header(),
                village_label(&d.device.village_code),
                state,
                when(d.enrolled_at),
                d.last_seen_at.map(when).unwrap_or_else(|| "—".into()),
                &d.public_key[..16]
            );
        }
    }
    let pending = store.pending_codes(Utc::now())?;
    if !pending.is_empty() {
        println!("Kode pendaftaran belum dipakai:");
        for c in &pending {
            println!(
                "  {:<14} {:<40} dibuat {}  berlaku sampai {}",
                c.device.to_header(),
                village_label(&c.device.village_code),
                when(c.issued_at),
                when(c.expires_at)
            );
        }
    }
    Ok(())
}

fn revoke(data: &Path, device: &DeviceRef) -> anyhow::Result<()> {
    let mut store = open(data)?;
    match store.revoke_device(device, Utc::now())? {
        Revocation::Revoked => println!(
            "Perangkat {} dicabut: permintaan sinkronisasinya ditolak mulai sekarang. \
             Untuk memakainya lagi, buat kode baru dengan `loket device code`.",
            device.to_header()
        ),
        Revocation::AlreadyRevoked => {
            println!("Perangkat {} sudah dicabut sebelumnya.", device.to_header())
        }
        Revocation::NotEnrolled => anyhow::bail!(
            "perangkat {} belum pernah terdaftar (kode yang belum dipakai, bila ada, dibatalkan)",
            device.to_header()
        ),
    }
    Ok(())
}

/// `serve --demo`: a fresh code for the desktop app's default device, written to
/// `DIR/demo-enrollment-code.txt` so `scripts/run-app` can hand it to the demo laptop.
pub fn write_demo_code(store: &mut BackofficeStore, data: &Path) -> anyhow::Result<PathBuf> {
    let device = DeviceRef {
        village_code: DEMO_DEVICE.0.to_string(),
        device_no: DEMO_DEVICE.1,
    };
    let issued = store.issue_enrollment_code(&device, Utc::now(), &mut rand::rngs::OsRng)?;
    let path = data.join(DEMO_CODE_FILE);
    std::fs::write(&path, format!("{}\n", issued.code))
        .with_context(|| format!("menulis {}", path.display()))?;
    Ok(path)
}
