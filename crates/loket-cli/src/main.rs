//! `loket`: one binary for the back office server, offline document verification and demo data.

mod bench;
mod demo;

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
        /// Add demo applications from another village when the database is empty.
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
    /// Measure the store and scan intake on this machine, beside the raw SQLite insert rate.
    Bench {
        /// Smaller stores and fewer samples (a few seconds).
        #[arg(long)]
        quick: bool,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
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
        Command::Bench { quick, json } => match bench::run(quick, json.as_deref()) {
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
        loket_backoffice::serve(listener, state).await
    })
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
