//! `loket verify` and `loket nik` as a person runs them: the real binary, real files, exit codes.

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use loket_print::{render_document, DocumentData};
use loket_qr::{base45, sign, DocType, DocumentClaims, IssuingKey, TrustList};
use std::path::Path;
use std::process::Command;

fn key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    }
}

fn claims() -> DocumentClaims {
    DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-000042".into(),
        holder_name: "Andi Tenri Ajeng".into(),
        nik: "7315015507050003".into(),
        birth_date: NaiveDate::from_ymd_opt(2005, 7, 15).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        district_code: "73.15".into(),
        revision: 1,
    }
}

fn pdf(printed: DocumentClaims, qr_text: String, k: &IssuingKey) -> Vec<u8> {
    render_document(&DocumentData {
        claims: printed,
        qr_text,
        birth_place: "Pinrang".into(),
        sex_label: "Perempuan".into(),
        address: "Jl. Poros Pinrang No. 5, Massulowalie".into(),
        district_name: k.district_name.clone(),
        signer_name: "Kepala Dinas Kependudukan dan Pencatatan Sipil".into(),
        signer_title: "Kabupaten Pinrang".into(),
        key_id: k.key_id().to_string(),
    })
    .unwrap()
}

/// Re-encodes a QR text after changing its decoded bytes, as a forger editing the payload would.
fn edit_payload(qr: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut raw = base45::decode(qr.strip_prefix("LK1:").unwrap()).unwrap();
    edit(&mut raw);
    format!("LK1:{}", base45::encode(&raw))
}

struct Run {
    code: i32,
    stdout: String,
}

fn verify(dir: &Path, name: &str, bytes: &[u8], trust: &TrustList) -> Run {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let trust_path = dir.join("trust.json");
    std::fs::write(&trust_path, trust.to_json()).unwrap();
    run(&[
        "verify",
        file.to_str().unwrap(),
        "--trust",
        trust_path.to_str().unwrap(),
    ])
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn check(r: &Run, code: i32, needle: &str) {
    assert_eq!(r.code, code, "exit code; stdout:\n{}", r.stdout);
    assert!(
        r.stdout.contains(needle),
        "{needle:?} not in:\n{}",
        r.stdout
    );
}

#[test]
fn verify_tells_genuine_from_altered_and_forged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = key(7);
    let trust = TrustList::new(vec![k.trusted_key()]);
    let qr = sign(&claims(), &k);

    let genuine = pdf(claims(), qr.clone(), &k);
    let r = verify(d, "genuine.pdf", &genuine, &trust);
    check(&r, 0, "SAH");
    for field in [
        "Andi Tenri Ajeng",
        "7315015507050003",
        "7315-SK-2026-000042",
        "15 Juli 2005",
    ] {
        assert!(r.stdout.contains(field), "{field} missing:\n{}", r.stdout);
    }
    assert!(r.stdout.contains(&k.key_id().to_string()), "which key");

    // A photo or scan of the printout: same verdict, plus a reminder to compare the paper.
    let page = &loket_print::rasterize_pdf(&genuine, 200.0).unwrap()[0];
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    check(&verify(d, "scan.png", &png, &trust), 0, "Cocokkan data");

    // One changed byte in the signature part of the payload.
    let flipped = edit_payload(&qr, |raw| {
        let last = raw.len() - 1;
        raw[last] ^= 0x01;
    });
    check(
        &verify(d, "flipped.pdf", &pdf(claims(), flipped, &k), &trust),
        1,
        "Tanda tangan tidak sah",
    );

    // A different name written into the payload, signature kept.
    let renamed = edit_payload(&qr, |raw| {
        let at = raw.windows(4).position(|w| w == b"Andi").unwrap();
        raw[at..at + 4].copy_from_slice(b"Budi");
    });
    let mut shown = claims();
    shown.holder_name = "Budi Tenri Ajeng".into();
    check(
        &verify(d, "renamed.pdf", &pdf(shown.clone(), renamed, &k), &trust),
        1,
        "Tanda tangan tidak sah",
    );

    // Genuine QR, but the printed name was edited.
    check(
        &verify(d, "printed.pdf", &pdf(shown, qr, &k), &trust),
        1,
        "Data tercetak tidak sama",
    );

    // Signed by a key the district never published.
    let stranger = key(8);
    let forged = pdf(claims(), sign(&claims(), &stranger), &stranger);
    check(
        &verify(d, "stranger.pdf", &forged, &trust),
        1,
        "kunci yang tidak dikenal",
    );

    // Not a document at all.
    check(
        &verify(d, "noise.pdf", b"%PDF-1.7 not really", &trust),
        2,
        "TIDAK TERBACA",
    );
    check(&verify(d, "empty.png", b"", &trust), 2, "TIDAK TERBACA");
}

#[test]
fn verify_without_a_trust_list_is_unreadable_not_valid() {
    let r = run(&[
        "verify",
        "no-such.pdf",
        "--trust",
        "/nonexistent/trust.json",
    ]);
    assert_eq!(r.code, 2);
}

#[test]
fn nik_explains_or_names_the_rule() {
    let ok = run(&["nik", "7315015507050003"]);
    check(&ok, 0, "Mattiro Sompe");
    assert!(ok.stdout.contains("Perempuan") && ok.stdout.contains("15 Juli 2005"));
    check(
        &run(&["nik", "3271013102900001"]),
        1,
        "bukan tanggal yang ada di kalender",
    );
    check(
        &run(&["nik", "3271991204900001", "--lang", "en"]),
        0,
        "WARNING: The NIK's region is not in the 2025 kecamatan list",
    );
}
