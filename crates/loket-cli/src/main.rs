//! `loket`: one binary for the back office server, offline document verification and demo data.

mod bench;
mod bench_qr;
mod bundle;
mod demo;
mod device;

use anyhow::Context;
use clap::{Parser, Subcommand};
use loket_backoffice::{load_or_create_district_key, AppState, BackofficeStore};
use loket_domain::Lang;
use loket_print::FileVerdict;
use rand::RngCore;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

#[derive(Parser)]
#[command(
    name = "loket",
    version,
    about = "Loket — layanan adminduk dari kantor desa"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the district back office (reviewer pages and the sync API).
    Serve {
        /// Directory for the database, the district key and the published trust list.
        #[arg(long, default_value = ".loket/backoffice")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Regency (kabupaten/kota) code `PP.KK` used when the district key is first created.
        #[arg(long, default_value = "73.15")]
        district: String,
        /// Add demo applications from another village when the database is empty, and write a
        /// fresh enrollment code for the demo laptop (7315012003/1) to DIR/demo-enrollment-code.txt.
        #[arg(long)]
        demo: bool,
    },
    /// Verify a printed document offline: a PDF, or a PNG/JPEG photo or scan of the printout.
    /// Exit code 0 = valid, 1 = not valid, 2 = unreadable.
    Verify {
        /// The file to check.
        file: PathBuf,
        /// The district trust list (JSON); defaults to $LOKET_TRUST or .loket/backoffice/trust.json.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Language of the answer: id or en.
        #[arg(long, default_value = "id")]
        lang: String,
    },
    /// Explain what a NIK says, or which rule it breaks. Exit code 0 = valid, 1 = invalid.
    Nik {
        /// The 16-digit NIK.
        nik: String,
        /// Language of the answer: id or en.
        #[arg(long, default_value = "id")]
        lang: String,
    },
    /// The service catalogue: check a file, or publish it to the villages (served signed).
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Village laptops: issue a one-time enrollment code, list enrolled devices, revoke one.
    Device {
        #[command(subcommand)]
        command: device::DeviceCommand,
    },
    /// Import a village's USB bundle (applications, scans, audit log), exactly once.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Measure the store and scan intake on this machine, beside the raw SQLite insert rate.
    Bench {
        /// Smaller stores and fewer samples (a few seconds).
        #[arg(long)]
        quick: bool,
        /// Only the documents/QR section: verify throughput, scan decoding, PDF rendering.
        #[arg(long)]
        qr: bool,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Import FILE (written by a village laptop's "Ekspor ke USB") into the back office at DIR.
    /// Importing the same bundle again changes nothing. Exit code 0 = imported, 1 = refused.
    Import {
        /// The back office data directory (the same as `serve --data`).
        #[arg(long, default_value = ".loket/backoffice")]
        data: PathBuf,
        /// The bundle file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Publish FILE as the district's catalogue: it must be valid and newer than the published
    /// (or embedded) one. Written atomically to DIR/catalogue.json; `serve` signs it per request.
    /// Exit code 0 = published, 1 = refused.
    Publish {
        /// The back office data directory (the same as `serve --data`).
        #[arg(long, default_value = ".loket/backoffice")]
        data: PathBuf,
        /// The catalogue JSON file.
        file: PathBuf,
    },
    /// Check a catalogue file: prints its version and number of services, or why it is refused.
    /// Exit code 0 = valid, 1 = not valid.
    Check {
        /// The catalogue JSON file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            data,
            addr,
            district,
            demo,
        } => match serve(&data, &addr, &district, demo) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loket serve: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Verify { file, trust, lang } => verify(&file, trust, parse_lang(&lang)),
        Command::Nik { nik, lang } => nik_command(&nik, parse_lang(&lang)),
        Command::Catalogue { command } => {
            let (name, result) = match command {
                CatalogueCommand::Publish { data, file } => {
                    ("publish", catalogue_publish(&data, &file))
                }
                CatalogueCommand::Check { file } => ("check", catalogue_check(&file)),
            };
            match result {
                Ok(message) => {
                    println!("{message}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("loket catalogue {name}: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Device { command } => device::run(command),
        Command::Bundle {
            command: BundleCommand::Import { data, file },
        } => match bundle::import(&data, &file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loket bundle import: {e:#}");
                ExitCode::from(1)
            }
        },
        Command::Bench { quick, qr, json } => match bench::run(quick, qr, json.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loket bench: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn parse_lang(s: &str) -> Lang {
    if s.eq_ignore_ascii_case("en") {
        Lang::En
    } else {
        Lang::Id
    }
}

fn serve(data: &Path, addr: &str, district: &str, demo: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key_file = load_or_create_district_key(&data.join("district-key.json"), district, seed)?;
    let key = key_file.issuing_key()?;
    let trust = loket_qr::TrustList::new(vec![key.trusted_key()]);
    std::fs::write(data.join("trust.json"), trust.to_json()).context("writing trust.json")?;
    let mut store = BackofficeStore::open(&data.join("backoffice.sqlite"))
        .context("opening backoffice.sqlite")?;
    let signer = (key_file.signer_name.clone(), key_file.signer_title.clone());
    if demo && store.count()? == 0 {
        demo::seed_backoffice(&mut store, &key, &signer)?;
    }
    if demo {
        let path = device::write_demo_code(&mut store, data)?;
        println!("Demo enrollment code: {}", path.display());
    }
    let state = AppState {
        store: Arc::new(Mutex::new(store)),
        key: Arc::new(key),
        signer: Arc::new(signer),
        clock: loket_backoffice::system_clock(),
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        println!(
            "Loket back office: http://{local}/review (key {})",
            state.key.key_id()
        );
        println!("Trust list: {}", data.join("trust.json").display());
        loket_backoffice::serve_with_data_dir(listener, state, data).await
    })
}

/// Reads and validates a catalogue file as `publish` and the back office's signing require:
/// valid content and a `YYYY.MM.N` version.
fn read_catalogue(file: &Path) -> anyhow::Result<(String, loket_catalogue::Catalogue)> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("berkas {} tidak dapat dibaca", file.display()))?;
    // The error's text already includes its cause; a context chain would print it twice.
    let catalogue = loket_catalogue::parse_catalogue(&text)
        .map_err(|e| anyhow::anyhow!("katalog {} tidak valid: {e}", file.display()))?;
    if loket_catalogue::parse_version(catalogue.version()).is_none() {
        anyhow::bail!(
            "katalog {} tidak valid: versi \"{}\" harus berformat YYYY.MM.N (mis. 2026.11.1)",
            file.display(),
            catalogue.version()
        );
    }
    Ok((text, catalogue))
}

fn catalogue_check(file: &Path) -> anyhow::Result<String> {
    let (_, catalogue) = read_catalogue(file)?;
    Ok(format!(
        "Katalog valid: versi {}, {} layanan",
        catalogue.version(),
        catalogue.services().len()
    ))
}

fn catalogue_publish(data: &Path, file: &Path) -> anyhow::Result<String> {
    let (text, catalogue) = read_catalogue(file)?;
    let target = data.join(loket_backoffice::PUBLISHED_CATALOGUE_FILE);

    // What villages get now: the published file if valid and newer, else the embedded one.
    let embedded = loket_catalogue::catalogue().version().to_string();
    let mut current = (embedded.clone(), "tertanam dalam aplikasi".to_string());
    match std::fs::read_to_string(&target) {
        Ok(published) => match loket_catalogue::parse_catalogue(&published) {
            Ok(p) if loket_catalogue::is_newer_version(p.version(), &embedded) => {
                current = (p.version().to_string(), target.display().to_string());
            }
            Ok(_) => {}
            // The server cannot serve a broken file; replacing it is the repair.
            Err(e) => eprintln!(
                "Peringatan: katalog terbit {} tidak valid ({e}); akan diganti.",
                target.display()
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("membaca {}", target.display()));
        }
    }
    if !loket_catalogue::is_newer_version(catalogue.version(), &current.0) {
        anyhow::bail!(
            "versi {} tidak lebih baru dari katalog yang sudah terbit (versi {}, {}); naikkan `version` (YYYY.MM.N)",
            catalogue.version(),
            current.0,
            current.1
        );
    }

    std::fs::create_dir_all(data).with_context(|| format!("membuat {}", data.display()))?;
    write_atomically(&target, text.as_bytes())
        .with_context(|| format!("menulis {}", target.display()))?;
    Ok(format!(
        "Katalog versi {} ({} layanan) diterbitkan: {}\nDesa menerimanya pada sinkronisasi berikutnya.",
        catalogue.version(),
        catalogue.services().len(),
        target.display()
    ))
}

/// Writes a temporary file beside `target`, syncs it and renames it over `target`, so the
/// server reading per request sees the old file or the new one, never half of one.
fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable (directories cannot be opened this way on Windows).
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn verify(file: &Path, trust: Option<PathBuf>, lang: Lang) -> ExitCode {
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    let trust_path = trust
        .or_else(|| std::env::var_os("LOKET_TRUST").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".loket/backoffice/trust.json"));
    let trust = match std::fs::read_to_string(&trust_path)
        .map_err(|e| e.to_string())
        .and_then(|s| loket_qr::TrustList::from_json(&s).map_err(|e| e.to_string()))
    {
        Ok(trust) => trust,
        Err(e) => {
            eprintln!(
                "{} {}: {e}",
                t(
                    "Daftar kunci tepercaya tidak dapat dibaca:",
                    "Cannot read the trust list:"
                ),
                trust_path.display()
            );
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "{} {}: {e}",
                t("Berkas tidak dapat dibaca:", "Cannot read file:"),
                file.display()
            );
            return ExitCode::from(2);
        }
    };
    match loket_print::verify_file_bytes(&bytes, &trust) {
        FileVerdict::Valid {
            verified,
            printed_checked,
        } => {
            let c = &verified.claims;
            println!(
                "{}",
                t(
                    "SAH — dokumen asli, tanda tangan cocok",
                    "VALID — genuine document, signature matches"
                )
            );
            let rows = [
                (
                    t("Jenis dokumen", "Document type"),
                    match lang {
                        Lang::Id => c.doc_type.label_id(),
                        Lang::En => c.doc_type.label_en(),
                    }
                    .to_string(),
                ),
                (t("Nomor dokumen", "Document number"), c.doc_number.clone()),
                (t("Nama", "Name"), c.holder_name.clone()),
                ("NIK".to_string(), c.nik.clone()),
                (
                    t("Tanggal lahir", "Date of birth"),
                    loket_print::format_date_id(c.birth_date),
                ),
                (
                    t("Tanggal terbit", "Issued on"),
                    loket_print::format_date_id(c.issued_on),
                ),
                (
                    t("Diterbitkan oleh", "Issued by"),
                    format!("{} ({})", verified.key.district_name, c.district_code),
                ),
                (t("ID kunci", "Key id"), verified.key.key_id.to_string()),
                (t("Revisi", "Revision"), c.revision.to_string()),
            ];
            for (k, v) in rows {
                println!("  {k:<18} {v}");
            }
            if !printed_checked {
                println!(
                    "{}",
                    t(
                        "Cocokkan data di atas dengan tulisan pada kertas: tulisan tercetak tidak dapat diperiksa otomatis dari gambar.",
                        "Compare the data above with the paper: printed text cannot be checked automatically from an image."
                    )
                );
            }
            ExitCode::SUCCESS
        }
        FileVerdict::Invalid {
            reason_id,
            reason_en,
            ..
        } => {
            println!(
                "{}",
                t(
                    "TIDAK SAH — jangan terima dokumen ini",
                    "NOT VALID — do not accept this document"
                )
            );
            println!(
                "  {}",
                match lang {
                    Lang::Id => reason_id,
                    Lang::En => reason_en,
                }
            );
            ExitCode::from(1)
        }
        FileVerdict::Unreadable {
            reason_id,
            reason_en,
        } => {
            println!(
                "{}",
                t(
                    "TIDAK TERBACA — kode QR tidak ditemukan atau berkas rusak",
                    "UNREADABLE — no QR code found or the file is damaged"
                )
            );
            println!(
                "  {}",
                match lang {
                    Lang::Id => reason_id,
                    Lang::En => reason_en,
                }
            );
            ExitCode::from(2)
        }
    }
}

fn nik_command(nik: &str, lang: Lang) -> ExitCode {
    let today = chrono::Local::now().date_naive();
    let (info, findings) = loket_domain::check_nik(nik, today);
    for f in &findings {
        let label = match (f.severity, lang) {
            (loket_domain::Severity::Error, Lang::Id) => "GALAT",
            (loket_domain::Severity::Error, Lang::En) => "ERROR",
            (loket_domain::Severity::Warning, Lang::Id) => "PERINGATAN",
            (loket_domain::Severity::Warning, Lang::En) => "WARNING",
        };
        println!("{label}: {}", f.code.message(lang));
    }
    let Some(info) = info else {
        return ExitCode::from(1);
    };
    let unknown = || match lang {
        Lang::Id => "(tidak ada dalam data 2025)".to_string(),
        Lang::En => "(not in the 2025 data)".to_string(),
    };
    println!("NIK {}", info.nik);
    println!(
        "  {:<14} {} ({})",
        if lang == Lang::Id {
            "Provinsi"
        } else {
            "Province"
        },
        info.province_name,
        info.province_code
    );
    println!(
        "  {:<14} {} ({})",
        if lang == Lang::Id {
            "Kab/Kota"
        } else {
            "Regency"
        },
        info.regency_name.clone().unwrap_or_else(unknown),
        info.regency_code
    );
    println!(
        "  {:<14} {} ({})",
        "Kecamatan",
        info.kecamatan_name.clone().unwrap_or_else(unknown),
        info.kecamatan_code
    );
    println!(
        "  {:<14} {}",
        if lang == Lang::Id {
            "Tanggal lahir"
        } else {
            "Birth date"
        },
        loket_print::format_date_id(info.birth_date)
    );
    println!(
        "  {:<14} {}",
        if lang == Lang::Id {
            "Jenis kelamin"
        } else {
            "Sex"
        },
        info.sex.label(lang)
    );
    ExitCode::SUCCESS
}
