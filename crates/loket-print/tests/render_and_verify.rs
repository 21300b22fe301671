//! End-to-end: render receipts and documents, then verify PDF, PNG and JPEG files.

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use loket_print::{
    decode_qr_texts, extract_pdf_text_lines, rasterize_pdf, render_document, render_receipt,
    render_receipt_thermal, verify_file_bytes, DocumentData, FileVerdict, ReceiptData,
};
use loket_qr::{sign, DocType, DocumentClaims, IssuingKey, TrustList};

fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("loket-print-out");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.13".into(),
        district_name: "WAJO".into(),
    }
}

fn trust() -> TrustList {
    TrustList::new(vec![key(7).trusted_key()])
}

fn claims() -> DocumentClaims {
    DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7313-SK-2026-000001".into(),
        holder_name: "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAU".into(),
        nik: "7313016503950002".into(),
        birth_date: NaiveDate::from_ymd_opt(1995, 3, 25).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        district_code: "73.13".into(),
        revision: 0,
    }
}

fn document(claims: DocumentClaims, qr_text: String, k: &IssuingKey) -> DocumentData {
    DocumentData {
        claims,
        qr_text,
        birth_place: "Sengkang".into(),
        sex_label: "Perempuan".into(),
        address:
            "Jl. Andi Pallawarukka No. 17, RT 002/RW 004, Kelurahan Pattirosompe, Kecamatan Tempe"
                .into(),
        district_name: k.district_name.clone(),
        signer_name: "Dr. H. ANDI MUHAMMAD YUSUF, S.STP., M.Si.".into(),
        signer_title: "KEPALA DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL KABUPATEN WAJO".into(),
        key_id: k.key_id().to_string(),
    }
}

fn genuine_pdf() -> Vec<u8> {
    let k = key(7);
    let qr = sign(&claims(), &k);
    render_document(&document(claims(), qr, &k)).unwrap()
}

fn receipt() -> ReceiptData {
    ReceiptData {
        tracking_number: "7313011001-03-000042-20261122".into(),
        service_label: "KTP-el baru".into(),
        nik: "7313016503950002".into(),
        full_name: "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAU".into(),
        birth_place: "Sengkang".into(),
        birth_date: NaiveDate::from_ymd_opt(1995, 3, 25).unwrap(),
        sex_label: "Perempuan".into(),
        address:
            "Jl. Andi Pallawarukka No. 17, RT 002/RW 004, Kelurahan Pattirosompe, Kecamatan Tempe"
                .into(),
        phone: "0812-3456-7890".into(),
        village_name: "Pattirosompe".into(),
        operator: "Hasnawati (Operator Desa)".into(),
        captured_at: NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(9, 41, 7)
            .unwrap(),
        sla_working_days: 14,
        expected_completion: NaiveDate::from_ymd_opt(2026, 12, 11),
    }
}

fn assert_invalid(v: &FileVerdict, needle: &str) {
    match v {
        FileVerdict::Invalid {
            reason_id,
            reason_en,
            ..
        } => {
            assert!(reason_id.contains(needle), "{reason_id}");
            assert!(!reason_en.is_empty());
        }
        other => panic!("expected Invalid containing {needle:?}, got {other:?}"),
    }
}

fn assert_unreadable(v: &FileVerdict) {
    assert!(matches!(v, FileVerdict::Unreadable { .. }), "{v:?}");
}

#[test]
fn receipt_is_deterministic_and_says_not_issued() {
    let a = render_receipt(&receipt()).unwrap();
    let b = render_receipt(&receipt()).unwrap();
    assert_eq!(a, b, "same input must give the same bytes");
    std::fs::write(out_dir().join("receipt.pdf"), &a).unwrap();
    let text = extract_pdf_text_lines(&a).unwrap().join("\n");
    assert!(text.contains("TANDA TERIMA PERMOHONAN"), "{text}");
    assert!(
        text.contains("Permohonan diterima — dokumen belum terbit"),
        "{text}"
    );
    assert!(text.contains("7313011001-03-000042-20261122"), "{text}");
    assert!(text.contains("22 November 2026, pukul 09.41"), "{text}");
    assert!(text.contains("11 Desember 2026 (14 hari kerja)"), "{text}");
    let mut later = receipt();
    later.captured_at += chrono::Duration::minutes(1);
    assert_ne!(render_receipt(&later).unwrap(), a);
    // No calendar for the period: no date is promised.
    let mut unknown = receipt();
    unknown.expected_completion = None;
    let text = extract_pdf_text_lines(&render_receipt(&unknown).unwrap())
        .unwrap()
        .join("\n");
    assert!(text.contains("tanggal belum dapat dihitung"), "{text}");
}

#[test]
fn thermal_receipt_fits_58mm_and_says_the_same() {
    let a = render_receipt_thermal(&receipt()).unwrap();
    assert_eq!(a, render_receipt_thermal(&receipt()).unwrap());
    std::fs::write(out_dir().join("receipt-58mm.pdf"), &a).unwrap();
    let page = &rasterize_pdf(&a, 72.0).unwrap()[0];
    // 58 mm at 72 dpi is 164 px; the roll is long and narrow.
    assert!((163..=166).contains(&page.width()), "{}", page.width());
    assert!(page.height() * 2 > page.width() * 3, "{}", page.height());
    let text = extract_pdf_text_lines(&a).unwrap().join(" ");
    for needle in [
        "7313011001-03-000042-20261122",
        "dokumen belum terbit",
        "11 Desember 2026",
        "7313016503950002",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in {text}");
    }
    assert!(
        decode_qr_texts(&a).unwrap().is_empty(),
        "no QR on a receipt"
    );
}

#[test]
fn receipt_has_no_qr_code() {
    let pdf = render_receipt(&receipt()).unwrap();
    let page = &rasterize_pdf(&pdf, 150.0).unwrap()[0];
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(out_dir().join("receipt-150dpi.png"), &png).unwrap();
    assert!(decode_qr_texts(&png).unwrap().is_empty());
    assert_unreadable(&verify_file_bytes(&png, &trust()));
}

#[test]
fn genuine_document_verifies_and_is_deterministic() {
    let t0 = Instant::now();
    let pdf = genuine_pdf();
    assert_eq!(pdf, genuine_pdf(), "same input must give the same bytes");
    std::fs::write(out_dir().join("document.pdf"), &pdf).unwrap();
    let rendered = t0.elapsed();
    let v = verify_file_bytes(&pdf, &trust());
    eprintln!(
        "render x2 {rendered:?}, verify {:?}, {} bytes",
        t0.elapsed() - rendered,
        pdf.len()
    );
    match v {
        FileVerdict::Valid {
            verified,
            printed_checked,
        } => {
            assert_eq!(verified.claims, claims());
            assert_eq!(verified.key.district_name, "WAJO");
            assert!(printed_checked, "printed text should have been compared");
        }
        other => panic!("{other:?}"),
    }
    let text = extract_pdf_text_lines(&pdf).unwrap().join("\n");
    for needle in [
        "PEMERINTAH KABUPATEN WAJO",
        "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL",
        "SURAT KETERANGAN",
        "Ditandatangani secara elektronik",
        "22 November 2026",
        "25 Maret 1995",
        "fe812c12",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in\n{text}");
    }
}

#[test]
fn one_changed_qr_character_is_invalid() {
    let k = key(7);
    let qr = sign(&claims(), &k);
    // Change one character in the signature part and in the name part of the payload.
    for pos in [qr.len() - 20, 60] {
        let mut b = qr.clone().into_bytes();
        b[pos] = if b[pos] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(b).unwrap();
        let pdf = render_document(&document(claims(), tampered, &k)).unwrap();
        let v = verify_file_bytes(&pdf, &trust());
        assert!(
            matches!(v, FileVerdict::Invalid { claims: None, .. }),
            "pos {pos}: {v:?}"
        );
    }
}

#[test]
fn document_signed_by_other_key_is_unknown_key() {
    let other = key(8);
    let qr = sign(&claims(), &other);
    let pdf = render_document(&document(claims(), qr, &other)).unwrap();
    assert_invalid(
        &verify_file_bytes(&pdf, &trust()),
        "kunci yang tidak dikenal",
    );
}

#[test]
fn printed_name_differing_from_signed_name_is_invalid() {
    let k = key(7);
    let qr = sign(&claims(), &k);
    let mut printed = claims();
    printed.holder_name = "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAUU".into();
    printed.nik = "7313016503950003".into();
    let pdf = render_document(&document(printed, qr, &k)).unwrap();
    let v = verify_file_bytes(&pdf, &trust());
    assert_invalid(
        &v,
        "Data tercetak tidak sama dengan data bertanda tangan: Nama, NIK",
    );
    assert!(matches!(v, FileVerdict::Invalid { claims: Some(c), .. } if c == claims()));
}

#[test]
fn rasterised_png_and_jpeg_verify() {
    let pdf = genuine_pdf();
    let page = &rasterize_pdf(&pdf, 200.0).unwrap()[0];
    for (format, name) in [
        (image::ImageFormat::Png, "document-200dpi.png"),
        (image::ImageFormat::Jpeg, "document-200dpi.jpg"),
    ] {
        let mut bytes = Vec::new();
        page.write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .unwrap();
        std::fs::write(out_dir().join(name), &bytes).unwrap();
        match verify_file_bytes(&bytes, &trust()) {
            FileVerdict::Valid {
                verified,
                printed_checked,
            } => {
                assert_eq!(verified.claims, claims());
                assert!(!printed_checked, "images have no text layer to compare");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn garbage_and_empty_files_are_unreadable() {
    let blank = image::GrayImage::from_pixel(200, 120, image::Luma([255u8]));
    let mut png = Vec::new();
    blank
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("garbage", b"this is not a document at all".to_vec()),
        ("zeros", vec![0u8; 4096]),
        ("truncated png", png[..png.len() / 2].to_vec()),
        ("blank png", png),
        ("fake pdf", b"%PDF-1.7\nnot really".to_vec()),
        ("jpeg header only", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
    ];
    for (name, bytes) in cases {
        let v = verify_file_bytes(&bytes, &trust());
        assert!(matches!(v, FileVerdict::Unreadable { .. }), "{name}: {v:?}");
    }
}
