//! End-to-end: render receipts and documents, then verify PDF, PNG and JPEG files.

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use loket_print::{
    decode_qr_texts, extract_pdf_text_lines, rasterize_pdf, render_document, render_receipt,
    render_receipt_thermal, verify_file_bytes, DocumentData, FileVerdict, ReceiptData,
    ReceiptRequirement,
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

/// An akta kelahiran taken with the substitute proof of birth (SPTJM F-2.03 + 2 witnesses).
fn receipt() -> ReceiptData {
    ReceiptData {
        tracking_number: "7313011001-03-000042-20261122".into(),
        service_label: "Akta kelahiran".into(),
        catalogue_version: "2026.11.1".into(),
        nik: "7313016503950002".into(),
        full_name: "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAU".into(),
        birth_place: "Sengkang".into(),
        birth_date: NaiveDate::from_ymd_opt(1995, 3, 25).unwrap(),
        sex_label: "Perempuan".into(),
        address:
            "Jl. Andi Pallawarukka No. 17, RT 002/RW 004, Kelurahan Pattirosompe, Kecamatan Tempe"
                .into(),
        phone: "0812-3456-7890".into(),
        details: [
            ("Nama anak", "MUHAMMAD FATHIR ALGHIFARI"),
            ("Jenis kelamin anak", "Laki-laki"),
            ("Tanggal lahir anak", "3 November 2026"),
            ("Jam lahir (JJ:MM)", "04:20"),
            ("Tempat lahir anak", "Sengkang"),
            ("Anak ke-", "2"),
            ("Penolong kelahiran", "Bidan"),
            ("NIK ibu", "7313016503950002"),
            (
                "Nama ibu",
                "ANDI ST. NURHALIZAH MAPPASESSU DAENG TOMPO BINTI LA PATAU",
            ),
            ("NIK ayah", "7313012208920001"),
            ("Nama ayah", "ANDI MUHAMMAD RIZAL"),
            ("Nomor KK", "7313011002200003"),
        ]
        .iter()
        .map(|(l, v)| (l.to_string(), v.to_string()))
        .collect(),
        requirements: vec![
            ReceiptRequirement {
                label: "Bukti kelahiran".into(),
                provided: vec![
                    "SPTJM kebenaran data kelahiran (F-2.03)".into(),
                    "2 saksi (dengan KTP-el)".into(),
                ],
                satisfied: true,
            },
            ReceiptRequirement {
                label: "Bukti perkawinan orang tua".into(),
                provided: vec!["Buku nikah atau kutipan akta perkawinan".into()],
                satisfied: true,
            },
            ReceiptRequirement {
                label: "Kartu Keluarga".into(),
                provided: vec!["Kartu Keluarga (KK)".into()],
                satisfied: true,
            },
        ],
        village_name: "Pattirosompe".into(),
        operator: "Hasnawati (Operator Desa)".into(),
        captured_at: NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(9, 41, 7)
            .unwrap(),
        sla_working_days: 14,
        expected_completion: NaiveDate::from_ymd_opt(2026, 12, 11),
        revision: 0,
    }
}

/// The most a receipt has to carry: 12 long details and 5 requirements with long labels, one
/// not handed in and one only partly.
fn crowded_receipt() -> ReceiptData {
    let mut r = receipt();
    r.service_label =
        "Akta perkawinan bagi penduduk yang perkawinannya belum tercatat (isbat nikah)".into();
    r.details = (1..=12)
        .map(|i| {
            (
                format!("Keterangan tambahan nomor {i} yang panjang"),
                format!(
                    "NILAI {i}: ANDI MUHAMMAD RIZAL DAENG MASSIKKI BIN LA TENRI RUA, Jl. Poros \
                     Sengkang–Siwa Km. {i}, RT 00{i}/RW 003"
                ),
            )
        })
        .collect();
    r.requirements = (1..=5)
        .map(|i| ReceiptRequirement {
            label: format!(
                "Surat keterangan perkawinan dari pemuka agama atau penghayat kepercayaan \
                 terhadap Tuhan Yang Maha Esa ({i})"
            ),
            provided: match i {
                4 => vec![],
                5 => vec!["1 saksi (dengan KTP-el)".into()],
                _ => vec![
                    "Ponsel pintar dengan aplikasi IKD, email dan nomor telepon aktif".into(),
                    "SPTJM kebenaran sebagai pasangan suami istri (F-2.04)".into(),
                    "2 saksi (dengan KTP-el)".into(),
                ],
            },
            satisfied: i < 4,
        })
        .collect();
    r
}

/// Runs a poppler tool (`pdftotext`, `pdfinfo`) on `pdf` and returns its standard output.
fn poppler(tool: &str, args: &[&str], pdf: &[u8], name: &str) -> String {
    let path = out_dir().join(name);
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} could not run ({e}); install the Debian package poppler-utils")
        });
    assert!(out.status.success(), "{tool} {name}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `pdftotext -layout` with whitespace runs collapsed, pages separated by form feeds kept.
fn pdftotext(pdf: &[u8], name: &str) -> String {
    poppler("pdftotext", &["-layout"], pdf, name)
        .split('\u{c}')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\u{c}")
}

/// `pdfinfo` as (page count, page size line).
fn pdfinfo(pdf: &[u8], name: &str) -> (usize, String) {
    let path = out_dir().join(name);
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo (poppler-utils) must be installed");
    assert!(out.status.success(), "{out:?}");
    let info = String::from_utf8(out.stdout).unwrap();
    let field = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{k} missing in {info}"))
    };
    (field("Pages:").parse().unwrap(), field("Page size:"))
}

/// A word with its box, from `pdftotext -bbox`.
#[derive(Debug)]
struct Word {
    page: usize,
    page_w: f64,
    page_h: f64,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    text: String,
}

fn attr(tag: &str, name: &str) -> f64 {
    let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].parse().unwrap()
}

fn words(pdf: &[u8], name: &str) -> Vec<Word> {
    let html = poppler("pdftotext", &["-bbox"], pdf, name);
    let mut out = Vec::new();
    let (mut page, mut pw, mut ph) = (0, 0.0, 0.0);
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            page += 1;
            pw = attr(line, "width");
            ph = attr(line, "height");
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let text_start = rest.find('>').unwrap() + 1;
            let text_end = rest.rfind("</word>").unwrap();
            out.push(Word {
                page,
                page_w: pw,
                page_h: ph,
                x0: attr(rest, "xMin"),
                y0: attr(rest, "yMin"),
                x1: attr(rest, "xMax"),
                y1: attr(rest, "yMax"),
                text: rest[text_start..text_end].to_string(),
            });
        }
    }
    out
}

/// The words of `needle` occur in `stream` in this order (other words may come between).
fn assert_in_order(stream: &[&str], needle: &str) {
    let mut rest = stream.iter();
    for w in needle.split_whitespace() {
        assert!(
            rest.any(|s| *s == w),
            "{w:?} of {needle:?} not found in order"
        );
    }
}

/// Every word lies inside the page with at least `margin` points to spare, and no two words
/// overlap (which is what clipped or overprinted text looks like to a reader).
fn assert_laid_out(words: &[Word], margin: f64) {
    assert!(!words.is_empty());
    for w in words {
        assert!(
            w.x0 >= margin
                && w.y0 >= margin
                && w.x1 <= w.page_w - margin
                && w.y1 <= w.page_h - margin,
            "outside the page: {w:?}"
        );
    }
    for (i, a) in words.iter().enumerate() {
        for b in &words[i + 1..] {
            let dx = a.x1.min(b.x1) - a.x0.max(b.x0);
            let dy = a.y1.min(b.y1) - a.y0.max(b.y0);
            assert!(
                a.page != b.page || dx <= 0.5 || dy <= 0.5,
                "overlap:\n{a:?}\n{b:?}"
            );
        }
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
    assert!(
        text.contains("Tanda terima ini bukan dokumen kependudukan."),
        "{text}"
    );
    assert!(text.contains("7313011001-03-000042-20261122"), "{text}");
    assert!(text.contains("22 November 2026, pukul 09.41"), "{text}");
    assert!(text.contains("11 Desember 2026 (14 hari kerja)"), "{text}");
    assert!(text.contains("Hasnawati (Operator Desa)"), "{text}");
    assert!(text.contains("Desa/Kelurahan Pattirosompe"), "{text}");
    let mut later = receipt();
    later.captured_at += chrono::Duration::minutes(1);
    assert_ne!(render_receipt(&later).unwrap(), a);
    let mut unmet = receipt();
    unmet.requirements[2].satisfied = false;
    assert_ne!(
        render_receipt(&unmet).unwrap(),
        a,
        "the check box is content"
    );
    // No calendar for the period: no date is promised.
    let mut unknown = receipt();
    unknown.expected_completion = None;
    let text = extract_pdf_text_lines(&render_receipt(&unknown).unwrap())
        .unwrap()
        .join("\n");
    assert!(text.contains("tanggal belum dapat dihitung"), "{text}");
    assert!(!text.contains("Desember"), "{text}");
}

#[test]
fn a4_receipt_shows_service_data_and_checklist() {
    let pdf = render_receipt(&receipt()).unwrap();
    let (pages, size) = pdfinfo(&pdf, "receipt-akta.pdf");
    assert_eq!(pages, 1, "an ordinary application fits one page");
    assert!(size.starts_with("595.28 x 841.89 pts"), "{size}");
    let text = pdftotext(&pdf, "receipt-akta.pdf");
    for needle in [
        "Layanan: Akta kelahiran",
        "Nomor registrasi 7313011001-03-000042-20261122",
        "Permohonan diterima — dokumen belum terbit",
        "Perkiraan selesai : 11 Desember 2026 (14 hari kerja)",
        "Data pemohon",
        "NIK : 7313016503950002",
        "Data permohonan",
        "Nama anak : MUHAMMAD FATHIR ALGHIFARI",
        "Jam lahir (JJ:MM) : 04:20",
        "Nomor KK : 7313011002200003",
        "Persyaratan",
        "Bukti kelahiran — diserahkan: SPTJM kebenaran data kelahiran (F-2.03), 2 saksi (dengan KTP-el)",
        "Bukti perkawinan orang tua — diserahkan: Buku nikah atau kutipan akta perkawinan",
        "Kartu Keluarga — diserahkan: Kartu Keluarga (KK)",
        "Katalog layanan 2026.11.1",
        "Tanda terima ini bukan dokumen kependudukan.",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in\n{text}");
    }
    // Sections come in reading order: who, what, what was handed in.
    let at = |s: &str| text.find(s).unwrap();
    assert!(at("Data pemohon") < at("Data permohonan"));
    assert!(at("Data permohonan") < at("Persyaratan"));
    assert!(
        !text.contains("Halaman"),
        "no page numbers on a one-page receipt"
    );
    assert_laid_out(&words(&pdf, "receipt-akta.pdf"), 20.0);
}

#[test]
fn a_corrected_application_says_its_revision_on_both_papers() {
    let mut r = receipt();
    r.revision = 2;
    let a4 = pdftotext(&render_receipt(&r).unwrap(), "receipt-revision.pdf");
    assert!(
        a4.contains("Layanan: Akta kelahiran · Revisi 2"),
        "missing in\n{a4}"
    );
    let roll = pdftotext(
        &loket_print::render_receipt_thermal(&r).unwrap(),
        "receipt-revision-58mm.pdf",
    );
    assert!(roll.contains("Revisi 2"), "missing in\n{roll}");
    let original = pdftotext(&render_receipt(&receipt()).unwrap(), "receipt-akta.pdf");
    assert!(
        !original.contains("Revisi"),
        "an original says nothing of revisions"
    );
}

#[test]
fn unmet_requirements_are_printed_honestly() {
    let mut r = receipt();
    r.requirements[1].provided.clear();
    r.requirements[1].satisfied = false;
    r.requirements[0].provided = vec!["1 saksi (dengan KTP-el)".into()];
    r.requirements[0].satisfied = false;
    let a4 = pdftotext(&render_receipt(&r).unwrap(), "receipt-unmet.pdf");
    assert!(
        a4.contains("Bukti perkawinan orang tua — belum diserahkan"),
        "{a4}"
    );
    assert!(
        a4.contains("Bukti kelahiran — belum lengkap; diserahkan: 1 saksi (dengan KTP-el)"),
        "{a4}"
    );
    let roll = pdftotext(
        &render_receipt_thermal(&r).unwrap(),
        "receipt-unmet-58mm.pdf",
    );
    assert!(
        roll.contains("[ ] Bukti perkawinan orang tua belum diserahkan"),
        "{roll}"
    );
    assert!(roll.contains("[v] Kartu Keluarga diserahkan:"), "{roll}");
}

#[test]
fn crowded_a4_receipt_flows_without_overlap() {
    let r = crowded_receipt();
    let pdf = render_receipt(&r).unwrap();
    assert_eq!(pdf, render_receipt(&r).unwrap());
    let (pages, size) = pdfinfo(&pdf, "receipt-crowded.pdf");
    assert!((1..=2).contains(&pages), "{pages} pages");
    assert!(size.starts_with("595.28 x 841.89 pts"), "{size}");
    let words = words(&pdf, "receipt-crowded.pdf");
    assert_laid_out(&words, 20.0);
    let text = pdftotext(&pdf, "receipt-crowded.pdf");
    // Long labels wrap beside their values, so compare word order rather than lines.
    let stream: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    for (label, value) in &r.details {
        assert_in_order(&stream, label);
        assert_in_order(&stream, &format!(": {value}"));
    }
    for q in &r.requirements {
        assert!(text.contains(&q.label), "{}", q.label);
    }
    assert!(text.contains("— belum diserahkan"), "{text}");
    assert!(
        text.contains("— belum lengkap; diserahkan: 1 saksi (dengan KTP-el)"),
        "{text}"
    );
    let page_texts: Vec<&str> = text.split('\u{c}').filter(|p| !p.is_empty()).collect();
    assert_eq!(page_texts.len(), pages);
    if pages > 1 {
        for (i, p) in page_texts.iter().enumerate() {
            assert!(
                p.contains(&format!("Halaman {} dari {pages}", i + 1)),
                "{p}"
            );
        }
        assert!(page_texts[1].contains("TANDA TERIMA PERMOHONAN (lanjutan)"));
        assert!(page_texts[1].contains("7313011001-03-000042-20261122"));
    }
}

#[test]
fn very_long_a4_receipt_continues_on_further_pages() {
    let mut r = crowded_receipt();
    let more = r.details.clone();
    r.details.extend(more.iter().cloned());
    r.details.extend(more);
    let reqs = r.requirements.clone();
    r.requirements.extend(reqs);
    let pdf = render_receipt(&r).unwrap();
    let (pages, _) = pdfinfo(&pdf, "receipt-very-long.pdf");
    assert!(pages >= 3, "{pages}");
    assert_laid_out(&words(&pdf, "receipt-very-long.pdf"), 20.0);
    let text = pdftotext(&pdf, "receipt-very-long.pdf");
    assert_eq!(text.matches("— belum diserahkan").count(), 2, "{text}");
    assert_eq!(text.matches("NILAI 12:").count(), 3, "{text}");
    assert!(text.contains(&format!("Halaman {pages} dari {pages}")));
    // A section broken by a page repeats its heading.
    assert!(
        text.contains("Data permohonan (lanjutan)") || text.contains("Persyaratan (lanjutan)"),
        "{text}"
    );
    // The notes close the receipt, on its last page.
    let last = text.split('\u{c}').nth(pages - 1).unwrap();
    assert!(last.contains("bukan dokumen kependudukan"), "{last}");
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
    let text = pdftotext(&a, "receipt-58mm.pdf");
    for needle in [
        "Layanan: Akta kelahiran",
        "Nama ANDI ST. NURHALIZAH",
        "Nama anak MUHAMMAD FATHIR ALGHIFARI",
        "[v] Bukti kelahiran diserahkan: SPTJM kebenaran data kelahiran (F-2.03), 2 saksi (dengan KTP-el)",
        "[v] Bukti perkawinan orang tua",
        "[v] Kartu Keluarga",
        "Tanda terima ini bukan dokumen kependudukan.",
        "Katalog layanan 2026.11.1",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in {text}");
    }
    assert_laid_out(&words(&a, "receipt-58mm.pdf"), 5.0);
    assert!(
        decode_qr_texts(&a).unwrap().is_empty(),
        "no QR on a receipt"
    );
}

#[test]
fn thermal_receipt_grows_with_its_content() {
    let short = render_receipt_thermal(&receipt()).unwrap();
    let long = render_receipt_thermal(&crowded_receipt()).unwrap();
    let h = |pdf: &[u8]| rasterize_pdf(pdf, 72.0).unwrap()[0].height();
    assert!(h(&long) > h(&short) + 200, "{} vs {}", h(&long), h(&short));
    let (pages, _) = pdfinfo(&long, "receipt-58mm-crowded.pdf");
    assert_eq!(pages, 1, "a roll is one page");
    assert_laid_out(&words(&long, "receipt-58mm-crowded.pdf"), 5.0);
    let text = pdftotext(&long, "receipt-58mm-crowded.pdf");
    for q in &crowded_receipt().requirements {
        assert!(text.contains(&q.label), "{}", q.label);
    }
    assert!(text.contains("[ ] Surat keterangan"), "{text}");
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
