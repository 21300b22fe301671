//! The decoder must never panic: arbitrary text, and arbitrary bytes behind the `LK1:` prefix
//! (so the fuzzer reaches the CBOR/COSE layers without having to learn Base45 first).
#![no_main]

use libfuzzer_sys::fuzz_target;
use loket_qr::{base45, verify, IssuingKey, TrustList};

fuzz_target!(|data: &[u8]| {
    let key = IssuingKey {
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        district_code: "73.15".into(),
        district_name: "PINRANG".into(),
    };
    let trust = TrustList::new(vec![key.trusted_key()]);
    let _ = verify(&String::from_utf8_lossy(data), &trust);
    let _ = verify(&format!("LK1:{}", base45::encode(data)), &trust);
});
