use super::*;
use rand::{rngs::StdRng, Rng as _, SeedableRng as _};

fn key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.15".into(),
        district_name: "WAJO".into(),
    }
}

fn claims() -> DocumentClaims {
    DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: "7315-SK-2026-000001".into(),
        holder_name: "ANDI MUHAMMAD FAJAR".into(),
        nik: "7315012302900001".into(),
        birth_date: NaiveDate::from_ymd_opt(1990, 2, 23).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        district_code: "73.15".into(),
        revision: 0,
    }
}

fn trust(keys: &[&IssuingKey]) -> TrustList {
    TrustList::new(keys.iter().map(|k| k.trusted_key()).collect())
}

/// Re-encodes an envelope with different claims bytes but the given signature.
fn forge(claims_bytes: Vec<u8>, sig: Vec<u8>) -> String {
    let env = Value::Array(vec![Value::Bytes(claims_bytes), Value::Bytes(sig)]);
    format!("{QR_PREFIX}{}", base45::encode(&to_cbor(&env)))
}

fn split(qr: &str) -> (Vec<u8>, Vec<u8>) {
    let raw = base45::decode(qr.strip_prefix(QR_PREFIX).unwrap()).unwrap();
    match ciborium::from_reader::<Value, _>(raw.as_slice()).unwrap() {
        Value::Array(v) => match (&v[0], &v[1]) {
            (Value::Bytes(c), Value::Bytes(s)) => (c.clone(), s.clone()),
            _ => unreachable!(),
        },
        _ => unreachable!(),
    }
}

#[test]
fn round_trip() {
    let k = key(7);
    let qr = sign(&claims(), &k);
    assert!(qr.starts_with("LK1:"));
    let v = verify(&qr, &trust(&[&key(9), &k])).unwrap();
    assert_eq!(v.claims, claims());
    assert_eq!(v.key, k.trusted_key());
    // A trailing newline from a scanner is tolerated.
    assert!(verify(&format!("{qr}\r\n"), &trust(&[&k])).is_ok());
}

#[test]
fn round_trip_edge_values() {
    let k = key(3);
    let mut c = claims();
    c.birth_date = NaiveDate::from_ymd_opt(1901, 1, 1).unwrap();
    c.issued_on = NaiveDate::from_ymd_opt(2099, 12, 31).unwrap();
    c.revision = u16::MAX;
    c.holder_name = "SITI NURHALIZA BINTI ABD. RAHMAN — O'NEIL".into();
    let v = verify(&sign(&c, &k), &trust(&[&k])).unwrap();
    assert_eq!(v.claims, c);
}

#[test]
fn golden_vector() {
    // Fixed seed and claims: this exact text is the format contract. If it changes,
    // every printed document stops verifying; bump the version instead.
    let qr = sign(&claims(), &key(7));
    assert_eq!(qr, GOLDEN);
    assert_eq!(key(7).key_id().to_string(), GOLDEN_KEY_ID);
    assert_eq!(verify(GOLDEN, &trust(&[&key(7)])).unwrap().claims, claims());
}

/// Key id of `SigningKey::from_bytes(&[7; 32])`, cross-checked with Python `cryptography`.
const GOLDEN_KEY_ID: &str = "fe812c12";
/// Cross-checked independently: base45-decoded, CBOR-parsed and Ed25519-verified in Python.
const GOLDEN: &str = "LK1:NLG -9970%7WWP5B801:6.96%W5UM9NF6TF63W5646646EB6NB8LS8Y347ZAMB8MY9PR8U*8JH9:IA1:6.96746QF6846FA7646746%73K1OYBA ZC7L6.96/10498*BM6PIKHNAIFC%TW:DMUR+CNM8N738-NK1-E4%C8FDYT7DMN434SAMHCCY2GI9M0M9QRB/OD$UFD$DBLS-+J8ZT+NBI$TD0";

#[test]
fn fits_qr_version_10_m_with_long_name() {
    let k = key(7);
    let mut c = claims();
    c.holder_name = "A".repeat(60);
    c.doc_number = "7315-SK-2026-123456".into();
    c.revision = 999;
    let qr = sign(&c, &k);
    assert!(
        qr.len() <= MAX_QR_TEXT_LEN,
        "QR text is {} chars, over {MAX_QR_TEXT_LEN}",
        qr.len()
    );
    // Every character is QR alphanumeric, so the alphanumeric capacity applies.
    assert!(qr
        .bytes()
        .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)));
}

#[test]
fn every_single_character_change_fails() {
    let k = key(7);
    let t = trust(&[&k]);
    let qr = sign(&claims(), &k);
    let replacements = [b'0', b'Z', b' ', b':', b'a', b'#'];
    let mut tried = 0;
    for pos in 0..qr.len() {
        for &r in &replacements {
            let mut bytes = qr.clone().into_bytes();
            if bytes[pos] == r {
                continue;
            }
            bytes[pos] = r;
            let mutated = String::from_utf8(bytes).unwrap();
            let res = verify(&mutated, &t);
            assert!(res.is_err(), "mutation at {pos} to {r} verified");
            // In the body, only these errors are acceptable (prefix changes give NotLoketCode,
            // a changed version or key id gives UnsupportedVersion/UnknownKey).
            if pos >= QR_PREFIX.len() {
                assert!(
                    matches!(
                        res,
                        Err(VerifyError::BadSignature
                            | VerifyError::Malformed(_)
                            | VerifyError::UnknownKey(_)
                            | VerifyError::UnsupportedVersion(_))
                    ),
                    "pos {pos}: {res:?}"
                );
            }
            tried += 1;
        }
    }
    assert!(tried > 1000);
}

#[test]
fn random_mutations_never_verify() {
    let k = key(7);
    let t = trust(&[&k]);
    let qr = sign(&claims(), &k);
    let (claims_bytes, sig) = split(&qr);
    let raw = base45::decode(&qr[QR_PREFIX.len()..]).unwrap();
    let mut rng = StdRng::seed_from_u64(0x10c3);
    for _ in 0..400 {
        // Mutate the binary envelope, the claims bytes or the text, 1–4 bytes at once.
        let n = rng.gen_range(1..=4);
        let text = match rng.gen_range(0..3) {
            0 => {
                let mut r = raw.clone();
                for _ in 0..n {
                    let i = rng.gen_range(0..r.len());
                    r[i] ^= rng.gen_range(1..=255u8);
                }
                format!("{QR_PREFIX}{}", base45::encode(&r))
            }
            1 => {
                let mut c = claims_bytes.clone();
                for _ in 0..n {
                    let i = rng.gen_range(0..c.len());
                    c[i] ^= rng.gen_range(1..=255u8);
                }
                forge(c, sig.clone())
            }
            _ => {
                let mut b = qr.clone().into_bytes();
                for _ in 0..n {
                    let i = rng.gen_range(0..b.len());
                    b[i] = rng.gen_range(0x20..0x7fu8);
                }
                String::from_utf8(b).unwrap()
            }
        };
        if text != qr {
            assert!(verify(&text, &t).is_err(), "mutation verified: {text}");
        }
    }
}

#[test]
fn resigned_by_other_key_is_unknown_key() {
    let genuine = key(7);
    let other = key(8);
    let mut c = claims();
    c.holder_name = "MALLAPI".into();
    let qr = sign(&c, &other);
    assert_eq!(
        verify(&qr, &trust(&[&genuine])),
        Err(VerifyError::UnknownKey(other.key_id()))
    );
}

#[test]
fn forged_name_with_original_key_id_is_bad_signature() {
    let genuine = key(7);
    let other = key(8);
    let mut c = claims();
    c.holder_name = "MALLAPI".into();
    // Claims carry the genuine key id but are signed by someone else's key.
    let forged_claims = encode_claims(&c, genuine.key_id());
    let sig = other.signing_key.sign(&signing_message(&forged_claims));
    let qr = forge(forged_claims.clone(), sig.to_bytes().to_vec());
    assert_eq!(
        verify(&qr, &trust(&[&genuine])),
        Err(VerifyError::BadSignature)
    );
    // Same name change with the genuine signature kept.
    let (_, genuine_sig) = split(&sign(&claims(), &genuine));
    assert_eq!(
        verify(&forge(forged_claims, genuine_sig), &trust(&[&genuine])),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn error_table() {
    let k = key(7);
    let t = trust(&[&k]);
    let sig = vec![0u8; 64];
    let mut v2 = to_cbor(&Value::Array(vec![Value::Integer(2.into())]));
    let cases: Vec<(String, VerifyError)> = vec![
        ("".into(), VerifyError::NotLoketCode),
        ("HC1:ABC".into(), VerifyError::NotLoketCode),
        ("https://example.org".into(), VerifyError::NotLoketCode),
        ("lk1:BB8".into(), VerifyError::NotLoketCode),
        (
            forge(std::mem::take(&mut v2), sig.clone()),
            VerifyError::UnsupportedVersion(2),
        ),
        (
            forge(encode_claims(&claims(), KeyId([1, 2, 3, 4])), sig.clone()),
            VerifyError::UnknownKey(KeyId([1, 2, 3, 4])),
        ),
        (
            forge(encode_claims(&claims(), k.key_id()), sig.clone()),
            VerifyError::BadSignature,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(verify(&text, &t), Err(want), "{text:?}");
    }
    let malformed = [
        "LK1:".to_string(),
        "LK1:A".to_string(),
        "LK1:GGW".to_string(),
        forge(encode_claims(&claims(), k.key_id()), vec![0u8; 63]),
        format!(
            "{QR_PREFIX}{}",
            base45::encode(&to_cbor(&Value::Array(vec![])))
        ),
    ];
    for text in malformed {
        assert!(
            matches!(verify(&text, &t), Err(VerifyError::Malformed(_))),
            "{text:?}: {:?}",
            verify(&text, &t)
        );
    }
}

#[test]
fn non_canonical_and_trailing_bytes_rejected() {
    let k = key(7);
    let t = trust(&[&k]);
    let (c, s) = split(&sign(&claims(), &k));
    // Envelope with trailing byte.
    let mut raw = to_cbor(&Value::Array(vec![
        Value::Bytes(c.clone()),
        Value::Bytes(s),
    ]));
    raw.push(0);
    let text = format!("{QR_PREFIX}{}", base45::encode(&raw));
    assert!(matches!(verify(&text, &t), Err(VerifyError::Malformed(_))));
    // Envelope array header written in a non-minimal form (0x98 0x02 instead of 0x82).
    raw.pop();
    let mut long = vec![0x98, 0x02];
    long.extend_from_slice(&raw[1..]);
    let text = format!("{QR_PREFIX}{}", base45::encode(&long));
    assert!(matches!(verify(&text, &t), Err(VerifyError::Malformed(_))));
}

#[test]
fn messages_are_plain_and_bilingual() {
    let errs = [
        VerifyError::NotLoketCode,
        VerifyError::Malformed("x".into()),
        VerifyError::UnsupportedVersion(2),
        VerifyError::UnknownKey(KeyId([0xde, 0xad, 0xbe, 0xef])),
        VerifyError::BadSignature,
    ];
    for e in &errs {
        assert!(!e.message_id().is_empty() && !e.message_en().is_empty());
        assert_ne!(e.message_id(), e.message_en());
    }
    assert!(errs[3].message_id().contains("deadbeef"));
    assert!(errs[4].message_id().starts_with("Tanda tangan tidak sah"));
}

#[test]
fn trust_list_json_round_trip_and_checks() {
    let t = trust(&[&key(7), &key(8)]);
    let json = t.to_json();
    assert!(json.contains(&format!("\"key_id\": \"{}\"", key(7).key_id())));
    assert_eq!(TrustList::from_json(&json).unwrap(), t);

    let bad_id = json.replacen(&key(7).key_id().to_string(), "00000000", 1);
    assert!(matches!(
        TrustList::from_json(&bad_id),
        Err(TrustListError::KeyIdMismatch { .. })
    ));
    let dup = trust(&[&key(7), &key(7)]).to_json();
    assert!(matches!(
        TrustList::from_json(&dup),
        Err(TrustListError::DuplicateKeyId(_))
    ));
    assert!(matches!(
        TrustList::from_json("{\"keys\":[{\"key_id\":\"zz\"}]}"),
        Err(TrustListError::Json(_))
    ));
    assert!(TrustList::from_json("{\"keys\":[]}")
        .unwrap()
        .keys
        .is_empty());
}

#[test]
fn key_id_and_doc_type_forms() {
    let id = KeyId([0x01, 0xab, 0x00, 0xff]);
    assert_eq!(id.to_string(), "01ab00ff");
    assert_eq!(KeyId::from_hex("01AB00FF"), Some(id));
    assert_eq!(KeyId::from_hex("01ab00f"), None);
    assert_eq!(KeyId::from_hex("01ab00fg"), None);
    assert_eq!(
        serde_json::to_string(&DocType::SuratKeterangan).unwrap(),
        "1"
    );
    assert!(serde_json::from_str::<DocType>("9").is_err());
    assert_eq!(DocType::SuratKeterangan.label_id(), "Surat Keterangan");
    assert!(!format!("{:?}", key(7)).contains("signing_key"));
}

#[test]
fn a_key_cannot_vouch_for_another_district() {
    let pinrang = key(7);
    let mut c = claims();
    c.district_code = "73.14".into();
    let qr = sign(&c, &pinrang);
    assert_eq!(
        verify(&qr, &trust(&[&pinrang])),
        Err(VerifyError::DistrictMismatch {
            key_district: pinrang.district_code.clone(),
            claimed: "73.14".into(),
        })
    );
}
