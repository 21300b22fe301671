use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use loket_catalogue::{
    is_newer_version, parse_version, sign_catalogue, verify_signed_catalogue, CatalogueError,
    CatalogueSignatureError, SignedCatalogue, CATALOGUE_SIGNING_CONTEXT, EMBEDDED_CATALOGUE_JSON,
    SIGNED_CATALOGUE_FORMAT,
};
use loket_qr::{IssuingKey, KeyId, TrustList};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The village's trust list: only the district key (seed 9).
fn trust() -> TrustList {
    let district = IssuingKey {
        signing_key: key(9),
        district_code: "73.15".into(),
        district_name: "Kabupaten Pinrang".into(),
    };
    TrustList::new(vec![district.trusted_key()])
}

/// Signs any text as a forger or a careless tool would, without `sign_catalogue`'s checks.
fn raw_sign(text: &str, key: &SigningKey, claimed: KeyId, context: &[u8]) -> SignedCatalogue {
    let mut msg = context.to_vec();
    msg.extend_from_slice(text.as_bytes());
    SignedCatalogue {
        format: SIGNED_CATALOGUE_FORMAT.into(),
        key_id: claimed,
        catalogue: text.into(),
        signature: base64::engine::general_purpose::STANDARD.encode(key.sign(&msg).to_bytes()),
    }
}

/// The embedded catalogue text with its version line replaced, whatever the current version is.
fn with_version(version: &str) -> String {
    let current = format!(
        "\"version\": \"{}\"",
        loket_catalogue::catalogue().version()
    );
    assert!(EMBEDDED_CATALOGUE_JSON.contains(&current));
    EMBEDDED_CATALOGUE_JSON.replacen(&current, &format!("\"version\": \"{version}\""), 1)
}

fn genuine() -> SignedCatalogue {
    sign_catalogue(EMBEDDED_CATALOGUE_JSON, &key(9)).unwrap()
}

#[test]
fn genuine_catalogue_verifies_also_after_a_trip_through_json() {
    let signed = genuine();
    let catalogue = verify_signed_catalogue(&signed, &trust()).unwrap();
    assert_eq!(catalogue.version(), loket_catalogue::catalogue().version());
    assert_eq!(
        signed.catalogue, EMBEDDED_CATALOGUE_JSON,
        "the exact text is carried"
    );

    let wire = signed.to_json();
    let value: serde_json::Value = serde_json::from_str(&wire).unwrap();
    assert_eq!(value["format"], "loket-catalogue-signed-v1");
    assert_eq!(
        value["key_id"],
        KeyId::of(&key(9).verifying_key()).to_string(),
        "key id in hex, as in the trust list"
    );
    let back = SignedCatalogue::from_json(&wire).unwrap();
    assert_eq!(back, signed);
    verify_signed_catalogue(&back, &trust()).unwrap();
}

#[test]
fn one_changed_byte_in_the_catalogue_text_fails() {
    // The attack that matters most: bumping the version of a genuine text.
    let mut signed = genuine();
    signed.catalogue = with_version("2099.12.1");
    assert_ne!(signed.catalogue, EMBEDDED_CATALOGUE_JSON);
    assert!(matches!(
        verify_signed_catalogue(&signed, &trust()),
        Err(CatalogueSignatureError::BadSignature)
    ));

    // And any single byte, e.g. one in the middle of a label or an SLA.
    let mut signed = genuine();
    let mut bytes = signed.catalogue.clone().into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    signed.catalogue = String::from_utf8(bytes).unwrap();
    assert!(matches!(
        verify_signed_catalogue(&signed, &trust()),
        Err(CatalogueSignatureError::BadSignature)
    ));

    // Even whitespace: the signature covers the text, not its meaning.
    let mut signed = genuine();
    signed.catalogue.push('\n');
    assert!(matches!(
        verify_signed_catalogue(&signed, &trust()),
        Err(CatalogueSignatureError::BadSignature)
    ));
}

#[test]
fn another_key_is_unknown_and_a_borrowed_key_id_is_a_bad_signature() {
    let other = sign_catalogue(EMBEDDED_CATALOGUE_JSON, &key(7)).unwrap();
    let err = verify_signed_catalogue(&other, &trust()).unwrap_err();
    match &err {
        CatalogueSignatureError::UnknownKey(id) => {
            assert_eq!(*id, KeyId::of(&key(7).verifying_key()))
        }
        other => panic!("expected UnknownKey, got {other:?}"),
    }
    assert!(err.to_string().contains("tidak dikenal"), "{err}");

    let district_id = KeyId::of(&key(9).verifying_key());
    let forged = raw_sign(
        EMBEDDED_CATALOGUE_JSON,
        &key(7),
        district_id,
        CATALOGUE_SIGNING_CONTEXT,
    );
    let err = verify_signed_catalogue(&forged, &trust()).unwrap_err();
    assert!(
        matches!(err, CatalogueSignatureError::BadSignature),
        "{err:?}"
    );
    assert!(err.to_string().contains("tidak sah"), "{err}");

    // With an empty trust list nothing verifies.
    assert!(matches!(
        verify_signed_catalogue(&genuine(), &TrustList::default()),
        Err(CatalogueSignatureError::UnknownKey(_))
    ));
}

#[test]
fn the_signature_is_domain_separated() {
    let district_id = KeyId::of(&key(9).verifying_key());
    for context in [&b""[..], b"LOKET-QR-v1\0", b"LOKET-CATALOGUE-v2\0"] {
        let signed = raw_sign(EMBEDDED_CATALOGUE_JSON, &key(9), district_id, context);
        assert!(
            matches!(
                verify_signed_catalogue(&signed, &trust()),
                Err(CatalogueSignatureError::BadSignature)
            ),
            "context {context:?}"
        );
    }
}

#[test]
fn unsigned_garbage_and_foreign_formats_fail() {
    for text in [
        "",
        "garbage",
        "{}",
        "[1, 2, 3]",
        // A plain, unsigned catalogue is not a signed one.
        EMBEDDED_CATALOGUE_JSON,
        // Signed-looking but missing the signature.
        r#"{"format":"loket-catalogue-signed-v1","key_id":"00000000","catalogue":"{}"}"#,
        // A key id that is not 8 hex digits.
        r#"{"format":"loket-catalogue-signed-v1","key_id":"xyz","catalogue":"{}","signature":""}"#,
    ] {
        assert!(
            matches!(
                SignedCatalogue::from_json(text),
                Err(CatalogueSignatureError::Malformed(_))
            ),
            "{text:.60}"
        );
    }

    let mut wire: serde_json::Value = serde_json::from_str(&genuine().to_json()).unwrap();
    wire["format"] = "loket-catalogue-signed-v2".into();
    let err = SignedCatalogue::from_json(&wire.to_string()).unwrap_err();
    assert!(
        matches!(&err, CatalogueSignatureError::WrongFormat(f) if f == "loket-catalogue-signed-v2"),
        "{err:?}"
    );
    assert!(err.to_string().contains("perbarui aplikasi"), "{err}");

    // An added optional field stays compatible.
    let mut wire: serde_json::Value = serde_json::from_str(&genuine().to_json()).unwrap();
    wire["published_by"] = "Disdukcapil Pinrang".into();
    let signed = SignedCatalogue::from_json(&wire.to_string()).unwrap();
    verify_signed_catalogue(&signed, &trust()).unwrap();

    // The struct built by hand is checked the same way.
    let mut signed = genuine();
    signed.format = "something-else".into();
    assert!(matches!(
        verify_signed_catalogue(&signed, &trust()),
        Err(CatalogueSignatureError::WrongFormat(_))
    ));
    for signature in ["", "not base64!", "AAAA"] {
        let mut signed = genuine();
        signed.signature = signature.into();
        assert!(
            matches!(
                verify_signed_catalogue(&signed, &trust()),
                Err(CatalogueSignatureError::Malformed(_))
            ),
            "{signature:?}"
        );
    }
}

#[test]
fn an_invalid_catalogue_is_never_signed_and_refused_even_if_signed() {
    let district_id = KeyId::of(&key(9).verifying_key());
    let broken = EMBEDDED_CATALOGUE_JSON.replacen("\"schema\": 1", "\"schema\": 2", 1);
    let bad_version = with_version("November 2026");
    assert_ne!(broken, EMBEDDED_CATALOGUE_JSON);
    assert_ne!(bad_version, EMBEDDED_CATALOGUE_JSON);

    for text in [broken.as_str(), bad_version.as_str(), "not json", "{}"] {
        let refused = sign_catalogue(text, &key(9));
        assert!(refused.is_err(), "signed {text:.60}");

        // Signed by the right key anyway (an old tool, a compromised publisher): still refused.
        let signed = raw_sign(text, &key(9), district_id, CATALOGUE_SIGNING_CONTEXT);
        let err = verify_signed_catalogue(&signed, &trust()).unwrap_err();
        assert!(
            matches!(err, CatalogueSignatureError::InvalidCatalogue(_)),
            "{err:?}"
        );
    }
    assert!(matches!(
        sign_catalogue(&broken, &key(9)),
        Err(CatalogueError::UnsupportedSchema { found: 2 })
    ));
}

#[test]
fn versions_compare_numerically_and_malformed_never_wins() {
    let table = [
        // (candidate, current, newer?)
        ("2026.11.2", "2026.11.1", true),
        ("2026.11.10", "2026.11.9", true),
        ("2026.12.1", "2026.11.9", true),
        ("2027.01.1", "2026.12.31", true),
        ("2027.1.1", "2026.12.1", true),
        ("2026.11.1", "2026.11.1", false),
        ("2026.11.1", "2026.11.2", false),
        ("2026.11.9", "2026.11.10", false),
        ("2026.10.5", "2026.11.1", false),
        ("2025.12.9", "2026.01.1", false),
        // Leading zeros are the same number.
        ("2026.11.01", "2026.11.1", false),
        ("2026.11.02", "2026.11.1", true),
        // Malformed candidate or current: false either way.
        ("", "2026.11.1", false),
        ("2026.11", "2026.11.1", false),
        ("2026.11.1.1", "2026.11.1", false),
        ("2026.13.1", "2026.11.1", false),
        ("2026.00.1", "2025.11.1", false),
        ("2026.11.0", "2025.11.1", false),
        ("2026.11.+5", "2026.11.1", false),
        ("2026.11.-1", "2026.11.1", false),
        ("26.11.5", "2026.11.1", false),
        ("20260.11.5", "2026.11.1", false),
        ("2026.11.5 ", "2026.11.1", false),
        ("2026.11.x", "2026.11.1", false),
        ("2026.11.99999999999", "2026.11.1", false),
        ("v2026.11.5", "2026.11.1", false),
        ("2026.11.2", "", false),
        ("2026.11.2", "garbage", false),
        ("2026.11.2", "2026.11", false),
    ];
    for (candidate, current, newer) in table {
        assert_eq!(
            is_newer_version(candidate, current),
            newer,
            "{candidate:?} newer than {current:?}"
        );
    }
    assert_eq!(parse_version("2026.11.1"), Some([2026, 11, 1]));
    assert_eq!(parse_version("2026.1x.1"), None);
    assert!(
        parse_version(loket_catalogue::catalogue().version()).is_some(),
        "the embedded version is well-formed"
    );
}
