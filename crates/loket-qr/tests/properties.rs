//! Property tests as seeded random loops (proptest is not in the lockfile): the decoder never
//! panics on arbitrary, truncated or bit-flipped input and never accepts a changed code, and
//! sign -> verify round-trips for arbitrary claims.

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use loket_qr::{base45, sign, verify, DocType, DocumentClaims, IssuingKey, TrustList};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn key(seed: u8) -> IssuingKey {
    IssuingKey {
        signing_key: SigningKey::from_bytes(&[seed; 32]),
        district_code: "73.15".into(),
        district_name: "PINRANG".into(),
    }
}

fn random_text(rng: &mut StdRng, max: usize) -> String {
    const POOL: &[char] = &[
        'A', 'B', 'Z', 'a', 'z', ' ', '.', '\'', '-', '0', '9', 'é', 'Ñ', '—', 'ä', '中', '😀',
        '\0',
    ];
    let n = rng.gen_range(0..=max);
    (0..n).map(|_| POOL[rng.gen_range(0..POOL.len())]).collect()
}

fn random_date(rng: &mut StdRng) -> NaiveDate {
    NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Days::new(rng.gen_range(0..3_000_000))
}

fn random_claims(rng: &mut StdRng) -> DocumentClaims {
    let nik = match rng.gen_range(0..3) {
        0 => format!("{:016}", rng.gen_range(0..10_000_000_000_000_000u64)),
        1 => random_text(rng, 20),
        _ => format!("{}", rng.gen_range(0..u64::MAX)),
    };
    DocumentClaims {
        doc_type: DocType::SuratKeterangan,
        doc_number: random_text(rng, 30),
        holder_name: random_text(rng, 80),
        nik,
        birth_date: random_date(rng),
        issued_on: random_date(rng),
        district_code: "73.15".into(),
        revision: rng.gen(),
    }
}

#[test]
fn sign_then_verify_round_trips() {
    let mut rng = StdRng::seed_from_u64(0x5157);
    let k = key(7);
    let trust = TrustList::new(vec![k.trusted_key()]);
    for _ in 0..1000 {
        let c = random_claims(&mut rng);
        let qr = sign(&c, &k);
        let v = verify(&qr, &trust).unwrap_or_else(|e| panic!("{c:?}: {e}"));
        assert_eq!(v.claims, c);
        assert_eq!(sign(&v.claims, &k), qr, "signing is deterministic");
    }
}

#[test]
fn arbitrary_input_never_panics() {
    let mut rng = StdRng::seed_from_u64(0xf022);
    let trust = TrustList::new(vec![key(7).trusted_key()]);
    for _ in 0..20_000 {
        let n = rng.gen_range(0..400);
        let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
        // As raw bytes behind the prefix (reaches the CBOR decoder) and as arbitrary text.
        let _ = verify(&format!("LK1:{}", base45::encode(&bytes)), &trust);
        let _ = verify(&String::from_utf8_lossy(&bytes), &trust);
        let alnum: String = (0..n)
            .map(|_| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[rng.gen_range(0..45)] as char)
            .collect();
        let _ = verify(&format!("LK1:{alnum}"), &trust);
    }
    // Structured garbage: CBOR heads with huge lengths, deep nesting, indefinite lengths.
    let nasty: Vec<Vec<u8>> = vec![
        vec![
            0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        vec![0xd2, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0xd2, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x81; 10_000],
        vec![0xd2; 10_000],
        vec![0xd2, 0x9f, 0x5f, 0x41, 0x00, 0xff, 0xa0, 0x40, 0x40, 0xff],
        vec![
            0xd2, 0x84, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        vec![0xd2, 0x84, 0xf9, 0x7e, 0x00],
    ];
    for raw in nasty {
        assert!(verify(&format!("LK1:{}", base45::encode(&raw)), &trust).is_err());
    }
}

#[test]
fn truncated_and_bit_flipped_codes_are_refused() {
    let mut rng = StdRng::seed_from_u64(0xb17f);
    let k = key(7);
    let trust = TrustList::new(vec![k.trusted_key(), key(8).trusted_key()]);
    for _ in 0..20 {
        let c = random_claims(&mut rng);
        let qr = sign(&c, &k);
        let raw = base45::decode(&qr[4..]).unwrap();
        for cut in 0..raw.len() {
            let t = format!("LK1:{}", base45::encode(&raw[..cut]));
            assert!(
                verify(&t, &trust).is_err(),
                "truncated to {cut} bytes verified"
            );
        }
        for cut in 0..qr.len() {
            assert!(
                verify(&qr[..cut], &trust).is_err(),
                "text cut at {cut} verified"
            );
        }
        for bit in 0..raw.len() * 8 {
            let mut r = raw.clone();
            r[bit / 8] ^= 1 << (bit % 8);
            let t = format!("LK1:{}", base45::encode(&r));
            assert!(verify(&t, &trust).is_err(), "bit {bit} flipped verified");
        }
    }
}
