//! Independent checks of the published format (docs/QR_FORMAT.md):
//! (a) a real QR symbol rendered from our text is read back by zbarimg (Debian zbar-tools),
//!     and fits QR version 10 at error-correction level M with a 60-character name;
//! (b) a Python verifier written from the spec alone — its own Base45 decoder, CBOR decoder
//!     and Sig_structure encoder — checks the Ed25519 signature with `cryptography` and
//!     decodes the claims, which must equal ours.
//!
//! Both tools are required (installed by scripts/lib.sh): a missing tool fails the test.

use std::path::PathBuf;
use std::process::Command;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use image::{GrayImage, Luma};
use loket_qr::{sign, DocType, DocumentClaims, IssuingKey, TrustList, MAX_QR_TEXT_LEN};
use qrcode::{Color, EcLevel, QrCode, Version};

fn key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.15".into(),
        district_name: "PINRANG".into(),
    }
}

fn claims(name: &str, nik: &str, birth: (i32, u32, u32), revision: u16) -> DocumentClaims {
    DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-123456".into(),
        holder_name: name.into(),
        nik: nik.into(),
        birth_date: NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        district_code: "73.15".into(),
        revision,
    }
}

const LONG_NAME: &str = "ANDI MUHAMMAD FATHURRAHMAN ISKANDAR DAENG MAPPASESSU BIN AMI";

fn cases() -> Vec<DocumentClaims> {
    assert_eq!(LONG_NAME.len(), 60);
    vec![
        claims(LONG_NAME, "7315012302900001", (1990, 2, 23), 999),
        claims("Andi Tenri Ajeng", "7315015507050002", (2005, 7, 15), 1),
        claims(
            "Siti Nurhaliza — O'Neil",
            "0115011708450002",
            (1945, 8, 17),
            0,
        ),
        claims("BAYI NY. HASNAH", "BELUM ADA NIK", (2026, 11, 1), 0),
    ]
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Renders the text as a QR symbol (EC level M, 4-module quiet zone, 4 px per module).
fn render_png(text: &str, path: &PathBuf) -> Version {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
    let (w, quiet, scale) = (code.width(), 4, 4);
    let size = ((w + 2 * quiet) * scale) as u32;
    let colors = code.to_colors();
    let img = GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (x as usize / scale, y as usize / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < quiet + w
            && my < quiet + w
            && colors[(my - quiet) * w + (mx - quiet)] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    });
    img.save(path).unwrap();
    code.version()
}

#[test]
fn zbarimg_reads_our_qr_and_long_names_fit_version_10_m() {
    for (i, c) in cases().iter().enumerate() {
        let text = sign(c, &key(7));
        assert!(text.len() <= MAX_QR_TEXT_LEN, "{} chars", text.len());
        let path = tmp(&format!("loket-qr-{i}.png"));
        let version = render_png(&text, &path);
        assert!(
            matches!(version, Version::Normal(v) if v <= 10),
            "{version:?} for {} chars",
            text.len()
        );
        if c.holder_name == LONG_NAME {
            eprintln!("60-char name: {} chars, QR {version:?} at M", text.len());
        }
        let out = Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&path)
            .output()
            .expect("zbarimg must be installed (Debian zbar-tools; scripts/lib.sh installs it)");
        assert!(out.status.success(), "zbarimg failed: {out:?}");
        let read = String::from_utf8(out.stdout).unwrap();
        assert_eq!(read.strip_suffix('\n').unwrap_or(&read), text);
    }
}

/// A verifier written from docs/QR_FORMAT.md only: no Loket code, no CBOR library.
/// argv: trust-list JSON, QR text. Prints the claims as JSON, or "ERROR: ..." and exits 1.
const PY_VERIFIER: &str = r#"
import base64, hashlib, json, sys, datetime
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

def b45decode(s):
    v = [ALPHABET.index(c) for c in s]
    out = bytearray()
    for i in range(0, len(v), 3):
        g = v[i:i + 3]
        if len(g) == 3:
            n = g[0] + g[1] * 45 + g[2] * 2025
            assert n <= 0xFFFF
            out += bytes([n >> 8, n & 0xFF])
        elif len(g) == 2:
            n = g[0] + g[1] * 45
            assert n <= 0xFF
            out.append(n)
        else:
            raise ValueError("bad base45 length")
    return bytes(out)

def cbor_decode(b, i=0):
    """Returns (item, next index). Definite lengths only; tags as ('tag', n, item)."""
    ib = b[i]; major, info = ib >> 5, ib & 31; i += 1
    if info < 24: arg = info
    elif info in (24, 25, 26, 27):
        n = 1 << (info - 24); arg = int.from_bytes(b[i:i + n], "big"); i += n
    else: raise ValueError("unsupported CBOR head")
    if major == 0: return arg, i
    if major == 1: return -1 - arg, i
    if major == 2: return bytes(b[i:i + arg]), i + arg
    if major == 3: return b[i:i + arg].decode("utf-8"), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            x, i = cbor_decode(b, i); items.append(x)
        return items, i
    if major == 5:
        entries = []
        for _ in range(arg):
            k, i = cbor_decode(b, i); v, i = cbor_decode(b, i); entries.append((k, v))
        return entries, i
    if major == 6:
        x, i = cbor_decode(b, i); return ("tag", arg, x), i
    raise ValueError("unsupported major type")

def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size): return bytes([major << 5 | info]) + n.to_bytes(size, "big")

def enc_bstr(x): return head(2, len(x)) + x
def enc_tstr(s): x = s.encode(); return head(3, len(x)) + x

trust = json.loads(sys.argv[1]); text = sys.argv[2]
assert text.startswith("LK1:"), "prefix"
raw = b45decode(text[4:])
item, end = cbor_decode(raw)
assert end == len(raw), "trailing bytes"
assert item[0] == "tag" and item[1] == 18, "COSE_Sign1 tag"
protected, unprotected, payload, signature = item[2]
assert unprotected == [] and len(signature) == 64
hdr, end = cbor_decode(protected); assert end == len(protected)
hdr = dict(hdr)
assert hdr[1] == -8, "alg must be EdDSA"
kid = hdr[4]
sig_structure = head(4, 4) + enc_tstr("Signature1") + enc_bstr(protected) + enc_bstr(b"") + enc_bstr(payload)
keys = [k for k in trust["keys"] if bytes.fromhex(k["key_id"]) == kid]
if not keys:
    print("ERROR: unknown key"); sys.exit(1)
pk = base64.b64decode(keys[0]["public_key"])
assert hashlib.sha256(pk).digest()[:4] == kid, "kid = SHA-256(public key)[:4]"
try:
    Ed25519PublicKey.from_public_bytes(pk).verify(signature, sig_structure)
except Exception:
    print("ERROR: bad signature"); sys.exit(1)
claims, end = cbor_decode(payload); assert end == len(payload)
assert [k for k, _ in claims] == [1, 6, -1, -2, -3, -4, -5, -6], "claim keys/order"
c = dict(claims)
epoch = datetime.date(1970, 1, 1)
assert c[6] % 86400 == 0
if c[1] != keys[0]["district_code"]:
    print("ERROR: district mismatch"); sys.exit(1)
print(json.dumps({
    "doc_type": c[-1],
    "doc_number": c[-2],
    "holder_name": c[-3],
    "nik": "%016d" % c[-4] if isinstance(c[-4], int) else c[-4],
    "birth_date": (epoch + datetime.timedelta(days=c[-5])).isoformat(),
    "issued_on": (epoch + datetime.timedelta(days=c[6] // 86400)).isoformat(),
    "district_code": c[1],
    "revision": c[-6],
}, ensure_ascii=False))
"#;

fn python(trust: &TrustList, text: &str) -> (bool, String) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_VERIFIER)
        .arg(trust.to_json())
        .arg(text)
        .output()
        .expect("python3 must be installed (with python3-cryptography)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Traceback"),
        "python verifier crashed:\n{stderr}"
    );
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn python_verifies_from_the_spec_alone() {
    let k = key(7);
    let trust = TrustList::new(vec![k.trusted_key()]);
    let mut texts: Vec<String> = cases().iter().map(|c| sign(c, &k)).collect();
    // The published golden vectors too.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut vectors = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        vectors.push(v);
    }
    assert!(vectors.len() >= 4);
    for (i, c) in cases().iter().enumerate() {
        let (ok, out) = python(&trust, &texts[i]);
        assert!(ok, "python refused: {out}");
        let got: DocumentClaims = serde_json::from_str(&out).unwrap();
        assert_eq!(&got, c);
    }
    for v in &vectors {
        let t = TrustList::from_json(&v["trust_list"].to_string()).unwrap();
        let (ok, out) = python(&t, v["qr_text"].as_str().unwrap());
        assert!(ok, "python refused vector {}: {out}", v["name"]);
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got, v["claims"], "vector {}", v["name"]);
        for bad in v["invalid"].as_array().unwrap() {
            let (ok, out) = python(&t, bad["qr_text"].as_str().unwrap());
            assert!(!ok, "python accepted an invalid vector: {bad}");
            assert_eq!(
                out.trim(),
                format!(
                    "ERROR: {}",
                    bad["expected"].as_str().unwrap().replace('_', " ")
                ),
            );
        }
    }
    // A one-character change in the name (signature kept) must fail in Python too.
    let tampered = texts.remove(1);
    let raw = loket_qr::base45::decode(&tampered[4..]).unwrap();
    let at = raw.windows(4).position(|w| w == b"Andi").unwrap();
    let mut r = raw.clone();
    r[at..at + 4].copy_from_slice(b"Budi");
    let (ok, out) = python(&trust, &format!("LK1:{}", loket_qr::base45::encode(&r)));
    assert!(!ok);
    assert_eq!(out.trim(), "ERROR: bad signature");
}
