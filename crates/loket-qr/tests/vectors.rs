//! Golden test vectors (tests/vectors/*.json): the format contract, published for other
//! implementations. Each file holds the key seed, the claims, every intermediate byte string
//! and the expected QR text; this test re-derives all of them from the code.
//!
//! Regenerate (only when deliberately changing the format, together with its version):
//! `LOKET_WRITE_VECTORS=1 cargo test -p loket-qr --test vectors`

use std::path::PathBuf;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use loket_qr::{
    base45, encode_claims, encode_protected, sig_structure, sign, verify, DocType, DocumentClaims,
    IssuingKey, KeyId, TrustList, VerifyError,
};
use serde_json::{json, Value};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn key(seed: [u8; 32]) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&seed),
        district_code: "73.15".into(),
        district_name: "PINRANG".into(),
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The vectors: name, seed, claims.
fn cases() -> Vec<(&'static str, [u8; 32], DocumentClaims)> {
    let base = DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-000001".into(),
        holder_name: "ANDI MUHAMMAD FAJAR".into(),
        nik: "7315012302900001".into(),
        birth_date: d(1990, 2, 23),
        issued_on: d(2026, 11, 22),
        district_code: "73.15".into(),
        revision: 0,
    };
    let long = DocumentClaims {
        doc_number: "7315-SK-2026-123456".into(),
        // 60 characters: a long but realistic Bugis/Arabic-derived full name.
        holder_name: "ANDI MUHAMMAD FATHURRAHMAN ISKANDAR DAENG MAPPASESSU BIN AMI".into(),
        revision: 999,
        ..base.clone()
    };
    assert_eq!(long.holder_name.chars().count(), 60);
    let old = DocumentClaims {
        holder_name: "Siti Nurhaliza binti Abd. Rahman — O'Neil".into(),
        nik: "0115011708450002".into(),
        birth_date: d(1945, 8, 17),
        issued_on: d(2027, 1, 2),
        revision: 3,
        ..base.clone()
    };
    let text_nik = DocumentClaims {
        nik: "BELUM ADA NIK".into(),
        ..base.clone()
    };
    vec![
        ("basic", [7; 32], base),
        ("long-name", [7; 32], long),
        ("pre-1970-utf8-leading-zero-nik", [0x42; 32], old),
        ("nik-as-text", [1; 32], text_nik),
    ]
}

fn vector(name: &str, seed: [u8; 32], claims: &DocumentClaims) -> Value {
    let k = key(seed);
    let protected = encode_protected(k.key_id());
    let payload = encode_claims(claims);
    let tbs = sig_structure(&protected, &payload);
    let qr = sign(claims, &k);
    let raw = base45::decode(&qr["LK1:".len()..]).unwrap();
    let signature = &raw[raw.len() - 64..];
    let mut flipped = raw.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let other = key([0x99; 32]);
    json!({
        "name": name,
        "seed_hex": hex::encode(seed),
        "public_key_hex": hex::encode(k.signing_key.verifying_key().as_bytes()),
        "key_id": k.key_id().to_string(),
        "trust_list": serde_json::from_str::<Value>(&TrustList::new(vec![k.trusted_key()]).to_json()).unwrap(),
        "claims": claims,
        "protected_hex": hex::encode(&protected),
        "payload_hex": hex::encode(&payload),
        "sig_structure_hex": hex::encode(&tbs),
        "signature_hex": hex::encode(signature),
        "cose_sign1_hex": hex::encode(&raw),
        "qr_text": qr,
        "qr_text_len": qr.len(),
        "invalid": [
            { "qr_text": format!("LK1:{}", base45::encode(&flipped)), "expected": "bad_signature" },
            { "qr_text": sign(claims, &IssuingKey { district_code: "73.15".into(), ..other }), "expected": "unknown_key" },
        ],
    })
}

fn verdict(text: &str, trust: &TrustList) -> &'static str {
    match verify(text, trust) {
        Ok(_) => "valid",
        Err(VerifyError::BadSignature) => "bad_signature",
        Err(VerifyError::UnknownKey(_)) => "unknown_key",
        Err(VerifyError::DistrictMismatch { .. }) => "district_mismatch",
        Err(VerifyError::Malformed(_)) => "malformed",
        Err(VerifyError::NotLoketCode) => "not_loket_code",
        Err(VerifyError::UnsupportedVersion(_)) => "unsupported_version",
    }
}

#[test]
fn golden_vectors_match_the_code() {
    let write = std::env::var_os("LOKET_WRITE_VECTORS").is_some();
    for (name, seed, claims) in cases() {
        let want = vector(name, seed, &claims);
        let path = dir().join(format!("{name}.json"));
        if write {
            std::fs::write(&path, serde_json::to_string_pretty(&want).unwrap() + "\n").unwrap();
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let got: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            got, want,
            "vector {name} differs from what the code produces"
        );

        // And the file alone is enough to verify: trust list + QR text -> the claims.
        let trust = TrustList::from_json(&got["trust_list"].to_string()).unwrap();
        let v = verify(got["qr_text"].as_str().unwrap(), &trust).unwrap();
        assert_eq!(serde_json::to_value(&v.claims).unwrap(), got["claims"]);
        assert_eq!(
            v.key.key_id,
            KeyId::from_hex(got["key_id"].as_str().unwrap()).unwrap()
        );
        for bad in got["invalid"].as_array().unwrap() {
            assert_eq!(
                verdict(bad["qr_text"].as_str().unwrap(), &trust),
                bad["expected"].as_str().unwrap(),
                "{name}: {bad}"
            );
        }
    }
}
