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

/// The three parts of a code: protected header, payload (claims) and signature.
fn split(qr: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let raw = base45::decode(qr.strip_prefix(QR_PREFIX).unwrap()).unwrap();
    let Value::Tag(18, inner) = ciborium::from_reader::<Value, _>(raw.as_slice()).unwrap() else {
        unreachable!()
    };
    match *inner {
        Value::Array(v) => match (&v[0], &v[2], &v[3]) {
            (Value::Bytes(p), Value::Bytes(c), Value::Bytes(s)) => {
                (p.clone(), c.clone(), s.clone())
            }
            _ => unreachable!(),
        },
        _ => unreachable!(),
    }
}

/// The claims payload of `c` with the decoded map edited.
fn edit_claims(c: &DocumentClaims, edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let Value::Map(mut m) = ciborium::from_reader::<Value, _>(encode_claims(c).as_slice()).unwrap()
    else {
        unreachable!()
    };
    edit(&mut m);
    to_cbor(&Value::Map(m))
}

/// A code with the given claims payload and signature, signed-over header for `kid`.
fn forge(kid: KeyId, payload: &[u8], sig: &[u8]) -> String {
    assemble(&encode_protected(kid), payload, sig)
}

/// Base45 text of arbitrary CBOR, with the Loket prefix.
fn wrap(v: &Value) -> String {
    format!("{QR_PREFIX}{}", base45::encode(&to_cbor(v)))
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
    // (More vectors, checked the same way, live in tests/vectors/.)
    let qr = sign(&claims(), &key(7));
    assert_eq!(qr, GOLDEN);
    assert_eq!(key(7).key_id().to_string(), GOLDEN_KEY_ID);
    assert_eq!(verify(GOLDEN, &trust(&[&key(7)])).unwrap().claims, claims());
}

#[test]
fn wire_layout_is_cose_sign1_with_cwt_claims() {
    let k = key(7);
    let (protected, payload, sig) = split(&sign(&claims(), &k));
    // {1: -8, 4: h'fe812c12'}
    assert_eq!(
        protected,
        [0xa2, 0x01, 0x27, 0x04, 0x44, 0xfe, 0x81, 0x2c, 0x12]
    );
    assert_eq!(sig.len(), 64);
    let Value::Map(m) = ciborium::from_reader::<Value, _>(payload.as_slice()).unwrap() else {
        unreachable!()
    };
    let keys: Vec<i128> = m
        .iter()
        .map(|(k, _)| i128::from(k.as_integer().unwrap()))
        .collect();
    assert_eq!(keys, [1, 6, -1, -2, -3, -4, -5, -6]);
    assert_eq!(m[0].1, Value::Text("73.15".into()));
    // 2026-11-22T00:00:00Z
    assert_eq!(m[1].1, Value::Integer(1_795_305_600.into()));
    assert_eq!(m[5].1, Value::Integer(7_315_012_302_900_001u64.into()));
    // 1990-02-23 is day 7358.
    assert_eq!(m[6].1, Value::Integer(7358.into()));
    // The signature is over the COSE Sig_structure, nothing else.
    let msg = sig_structure(&protected, &payload);
    assert_eq!(&msg[..12], b"\x84\x6aSignature1");
    k.signing_key
        .verifying_key()
        .verify_strict(&msg, &Signature::from_bytes(&sig.try_into().unwrap()))
        .unwrap();
}

#[test]
fn nik_that_is_not_16_digits_travels_as_text() {
    let k = key(7);
    let t = trust(&[&k]);
    for nik in ["0000000000000001", "12345", "7315O12302900001", ""] {
        let mut c = claims();
        c.nik = nik.into();
        assert_eq!(verify(&sign(&c, &k), &t).unwrap().claims.nik, nik);
    }
    // 16 digits written as text (a second form of the same claims) is refused.
    let payload = edit_claims(&claims(), |m| {
        m[5].1 = Value::Text("7315012302900001".into())
    });
    let protected = encode_protected(k.key_id());
    let sig = k.signing_key.sign(&sig_structure(&protected, &payload));
    let res = verify(&assemble(&protected, &payload, &sig.to_bytes()), &t);
    assert!(matches!(res, Err(VerifyError::Malformed(_))), "{res:?}");
}

/// Key id of `SigningKey::from_bytes(&[7; 32])`, cross-checked with Python `cryptography`.
const GOLDEN_KEY_ID: &str = "fe812c12";
/// Cross-checked independently by tests/independent.rs (Python, from docs/QR_FORMAT.md alone).
const GOLDEN: &str = "LK1:RRQ+D9P60CO0%7WWP58CKWJ9.701:6Z$5TV6DF3KC0+8GJ60KPEAL6NW6%NA5W58469%6646646746:F4NB8LS8Y347ZAMB8MY9PR8U*8JH9CHARI3$C3CAV9BRO84%73W1O/10U982CHJH5 I4F%FSPDUFGVP0EROE8V+-A./4Y80A*V*T79-EQS3DP51+5264$NF A7.BE.HOX+KBOAAXR8F59WU/5A CWR3F90";

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
    let (_, claims_bytes, sig) = split(&qr);
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
                forge(k.key_id(), &c, &sig)
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
    // The header carries the genuine key id but someone else's key signed.
    let payload = encode_claims(&c);
    let protected = encode_protected(genuine.key_id());
    let sig = other.signing_key.sign(&sig_structure(&protected, &payload));
    assert_eq!(
        verify(
            &assemble(&protected, &payload, &sig.to_bytes()),
            &trust(&[&genuine])
        ),
        Err(VerifyError::BadSignature)
    );
    // Same name change with the genuine signature kept.
    let (_, _, genuine_sig) = split(&sign(&claims(), &genuine));
    assert_eq!(
        verify(
            &forge(genuine.key_id(), &payload, &genuine_sig),
            &trust(&[&genuine])
        ),
        Err(VerifyError::BadSignature)
    );
    // The genuine payload and signature under a header naming another (trusted) key: the
    // kid is signed, so this fails too.
    let (_, genuine_payload, _) = split(&sign(&claims(), &genuine));
    assert_eq!(
        verify(
            &forge(other.key_id(), &genuine_payload, &genuine_sig),
            &trust(&[&genuine, &other])
        ),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn error_table() {
    let k = key(7);
    let t = trust(&[&k]);
    let sig = vec![0u8; 64];
    let good = encode_claims(&claims());
    let cases: Vec<(String, VerifyError)> = vec![
        ("".into(), VerifyError::NotLoketCode),
        ("HC1:ABC".into(), VerifyError::NotLoketCode),
        ("https://example.org".into(), VerifyError::NotLoketCode),
        ("lk1:BB8".into(), VerifyError::NotLoketCode),
        ("LKX:BB8".into(), VerifyError::NotLoketCode),
        ("LK2:BB8".into(), VerifyError::UnsupportedVersion(2)),
        ("LK12:".into(), VerifyError::UnsupportedVersion(12)),
        (
            forge(KeyId([1, 2, 3, 4]), &good, &sig),
            VerifyError::UnknownKey(KeyId([1, 2, 3, 4])),
        ),
        (forge(k.key_id(), &good, &sig), VerifyError::BadSignature),
    ];
    for (text, want) in cases {
        assert_eq!(verify(&text, &t), Err(want), "{text:?}");
    }
    let b = |v: &[u8]| Value::Bytes(v.to_vec());
    let prot = encode_protected(k.key_id());
    let sign1 = |items: Vec<Value>| Value::Tag(18, Box::new(Value::Array(items)));
    let signed = |payload: Vec<u8>| {
        let s = k.signing_key.sign(&sig_structure(&prot, &payload));
        forge(k.key_id(), &payload, &s.to_bytes())
    };
    let header = |entries: Vec<(Value, Value)>| to_cbor(&Value::Map(entries));
    let i = |v: i64| Value::Integer(v.into());
    let malformed = [
        "LK1:".to_string(),
        "LK1:A".to_string(),
        "LK1:GGW".to_string(),
        forge(k.key_id(), &good, &[0u8; 63]),
        wrap(&Value::Array(vec![])),
        // Untagged COSE_Sign1.
        wrap(&Value::Array(vec![
            b(&prot),
            Value::Map(vec![]),
            b(&good),
            b(&sig),
        ])),
        // Wrong tag (COSE_Sign = 98).
        wrap(&Value::Tag(
            98,
            Box::new(Value::Array(vec![
                b(&prot),
                Value::Map(vec![]),
                b(&good),
                b(&sig),
            ])),
        )),
        // Three elements.
        wrap(&sign1(vec![b(&prot), Value::Map(vec![]), b(&good)])),
        // Non-empty unprotected header (kid must be protected).
        wrap(&sign1(vec![
            b(&prot),
            Value::Map(vec![(i(4), b(&[1, 2, 3, 4]))]),
            b(&good),
            b(&sig),
        ])),
        // alg ES256 (-7) instead of EdDSA.
        forge_header(header(vec![(i(1), i(-7)), (i(4), b(&k.key_id().0))]), &good),
        // kid of 5 bytes, header keys swapped, extra header entry.
        forge_header(
            header(vec![(i(1), i(-8)), (i(4), b(&[1, 2, 3, 4, 5]))]),
            &good,
        ),
        forge_header(header(vec![(i(4), b(&k.key_id().0)), (i(1), i(-8))]), &good),
        forge_header(
            header(vec![(i(1), i(-8)), (i(4), b(&k.key_id().0)), (i(3), i(0))]),
            &good,
        ),
        // Validly signed, but claims are not in the agreed shape.
        signed(edit_claims(&claims(), |m| m.swap(0, 1))),
        signed(edit_claims(&claims(), |m| {
            m.pop();
        })),
        signed(edit_claims(&claims(), |m| m.push((i(7), b(&[0]))))),
        signed(edit_claims(&claims(), |m| m[1].1 = i(1_795_305_601))),
        signed(edit_claims(&claims(), |m| m[2].1 = i(9))),
        signed(edit_claims(&claims(), |m| {
            m[5].1 = Value::Integer(10_000_000_000_000_000u64.into())
        })),
        signed(edit_claims(&claims(), |m| {
            m[6].1 = Value::Integer(i64::MAX.into())
        })),
        signed(edit_claims(&claims(), |m| m[7].1 = i(70_000))),
        signed(edit_claims(&claims(), |m| m[0].1 = i(7315))),
        signed(to_cbor(&Value::Array(vec![]))),
    ];
    for text in malformed {
        assert!(
            matches!(verify(&text, &t), Err(VerifyError::Malformed(_))),
            "{text:?}: {:?}",
            verify(&text, &t)
        );
    }
}

/// A code with a hand-made protected header, validly signed by key 7 over it.
fn forge_header(protected: Vec<u8>, payload: &[u8]) -> String {
    let s = key(7).signing_key.sign(&sig_structure(&protected, payload));
    assemble(&protected, payload, &s.to_bytes())
}

#[test]
fn non_canonical_and_trailing_bytes_rejected() {
    let k = key(7);
    let t = trust(&[&k]);
    let qr = sign(&claims(), &k);
    let mut raw = base45::decode(&qr[QR_PREFIX.len()..]).unwrap();
    // Trailing byte.
    raw.push(0);
    let text = format!("{QR_PREFIX}{}", base45::encode(&raw));
    assert!(matches!(verify(&text, &t), Err(VerifyError::Malformed(_))));
    // Array header written in a non-minimal form (0x98 0x04 instead of 0x84).
    raw.pop();
    assert_eq!(raw[..2], [0xd2, 0x84]);
    let mut long = vec![0xd2, 0x98, 0x04];
    long.extend_from_slice(&raw[2..]);
    let text = format!("{QR_PREFIX}{}", base45::encode(&long));
    assert!(matches!(verify(&text, &t), Err(VerifyError::Malformed(_))));
    // Claims validly signed but with a non-minimal integer (revision 0 as 0x18 0x00).
    let mut payload = encode_claims(&claims());
    assert_eq!(payload[payload.len() - 2..], [0x25, 0x00]);
    payload.pop();
    payload.extend_from_slice(&[0x18, 0x00]);
    let protected = encode_protected(k.key_id());
    let s = k.signing_key.sign(&sig_structure(&protected, &payload));
    let res = verify(&assemble(&protected, &payload, &s.to_bytes()), &t);
    assert!(matches!(res, Err(VerifyError::Malformed(_))), "{res:?}");
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
