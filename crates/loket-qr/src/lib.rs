//! Signed, offline-verifiable QR payloads for documents issued by Loket.
//!
//! Pure code: no IO, no clock, no network. Everything (keys, dates, trust list) is passed in.
//!
//! # Wire format `LK1` (COSE_Sign1 + CWT claims + Base45)
//!
//! The full, language-neutral specification with test vectors is `docs/QR_FORMAT.md`;
//! this is a summary.
//!
//! ```text
//! qr_text   = "LK1:" || base45(cose)                         ; RFC 9285, QR alphanumeric mode
//! cose      = 18([ protected : bstr, {} , payload : bstr, signature : bstr(64) ])  ; RFC 9052 COSE_Sign1
//! protected = bstr .cbor { 1: -8, 4: h'<key id, 4 bytes>' }   ; alg = EdDSA, kid (signed)
//! payload   = bstr .cbor claims                               ; RFC 8392 CWT claims set
//! claims    = {  1: tstr  district code (iss), e.g. "73.15"
//!                6: uint  issue date as NumericDate, 00:00:00 UTC of that day (iat)
//!               -1: uint  document type
//!               -2: tstr  document number
//!               -3: tstr  holder name
//!               -4: uint  NIK (16 digits, zero-padded on display); tstr if not 16 digits
//!               -5: int   birth date, days since 1970-01-01
//!               -6: uint  revision }
//! signature = Ed25519(["Signature1", protected, h'', payload])  ; COSE Sig_structure, verify_strict
//! ```
//!
//! Everything is deterministic CBOR (RFC 8949 §4.2): shortest lengths, map keys in the order
//! above, no other keys, no trailing bytes. The decoder rejects anything else, so every valid
//! code has exactly one textual form. With a 60-character name the text is about 303
//! characters: QR version 10 at error-correction level M (capacity 311).

pub mod base45;

use std::fmt;

use base64::Engine as _;
use chrono::{Datelike as _, NaiveDate};
use ciborium::value::Value;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// Text prefix that tells scanners (and people) this is a Loket code, format version 1.
pub const QR_PREFIX: &str = "LK1:";
/// Format version named by the prefix (`LK<version>:`); bump on any incompatible change.
pub const FORMAT_VERSION: u8 = 1;
/// CBOR tag of a COSE_Sign1 structure (RFC 9052 §4.2).
pub const COSE_SIGN1_TAG: u64 = 18;
/// COSE algorithm id of EdDSA (RFC 9053 §2.2); Loket only uses Ed25519.
pub const COSE_ALG_EDDSA: i64 = -8;
/// Largest QR text that still fits QR version 10 at EC level M, our printing budget.
pub const MAX_QR_TEXT_LEN: usize = 311;

/// CBOR map keys of the claims, in their deterministic order (see `docs/QR_FORMAT.md`).
pub mod claim_key {
    /// CWT `iss` (RFC 8392): issuing district code, text.
    pub const ISS: i64 = 1;
    /// CWT `iat` (RFC 8392): issue date as NumericDate at 00:00:00 UTC.
    pub const IAT: i64 = 6;
    /// Document type, unsigned integer ([`super::DocType`]).
    pub const DOC_TYPE: i64 = -1;
    /// Document number, text.
    pub const DOC_NUMBER: i64 = -2;
    /// Holder's full name, text.
    pub const HOLDER_NAME: i64 = -3;
    /// Holder's NIK: unsigned integer when it is 16 digits, text otherwise.
    pub const NIK: i64 = -4;
    /// Birth date, days since 1970-01-01 (negative before).
    pub const BIRTH_DATE: i64 = -5;
    /// Revision, unsigned integer (u16).
    pub const REVISION: i64 = -6;
    /// All keys, in the order they must appear.
    pub const ORDER: [i64; 8] = [
        ISS,
        IAT,
        DOC_TYPE,
        DOC_NUMBER,
        HOLDER_NAME,
        NIK,
        BIRTH_DATE,
        REVISION,
    ];
}

const SECONDS_PER_DAY: i64 = 86_400;
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Kind of issued document; a small number on the wire so codes stay compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DocType {
    /// Surat keterangan (certificate letter) issued by the Disdukcapil back office.
    SuratKeterangan = 1,
}

impl DocType {
    /// Indonesian label shown to residents and verifiers.
    pub fn label_id(&self) -> &'static str {
        match self {
            DocType::SuratKeterangan => "Surat Keterangan",
        }
    }

    /// English label for logs and English-language UI.
    pub fn label_en(&self) -> &'static str {
        match self {
            DocType::SuratKeterangan => "Certificate letter",
        }
    }

    /// Wire value, so callers never rely on `as u8` casts scattered around.
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for DocType {
    type Error = u8;
    /// Maps a wire value back; the unknown value is returned as the error.
    fn try_from(v: u8) -> Result<Self, u8> {
        match v {
            1 => Ok(DocType::SuratKeterangan),
            other => Err(other),
        }
    }
}

impl Serialize for DocType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for DocType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u8::deserialize(d)?;
        DocType::try_from(v)
            .map_err(|v| serde::de::Error::custom(format!("unknown document type {v}")))
    }
}

/// The facts a signed document vouches for; exactly what the QR carries and the verifier shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentClaims {
    /// Which kind of document this is.
    pub doc_type: DocType,
    /// Official number assigned by the back office at issue time, e.g. "7315-SK-2026-000001".
    pub doc_number: String,
    /// Resident's full name as printed.
    pub holder_name: String,
    /// Resident's 16-digit NIK, carried in full so the verifier can compare it with an ID card.
    pub nik: String,
    /// Resident's date of birth.
    pub birth_date: NaiveDate,
    /// Date the document was issued.
    pub issued_on: NaiveDate,
    /// Issuing district (kabupaten/kota) code, e.g. "73.15".
    pub district_code: String,
    /// 0 for the first issue; each corrected re-issue of the same document gets the next number.
    pub revision: u16,
}

/// Short key identifier so a verifier finds the right key directly instead of trying all.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// Derives the id from a public key: the first 4 bytes of SHA-256 of its 32 bytes.
    pub fn of(public_key: &VerifyingKey) -> KeyId {
        let digest = Sha256::digest(public_key.as_bytes());
        KeyId([digest[0], digest[1], digest[2], digest[3]])
    }

    /// Parses the 8-hex-character form used in trust lists and messages.
    pub fn from_hex(s: &str) -> Option<KeyId> {
        if s.len() != 8 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 4];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(KeyId(out))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyId::from_hex(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid key id {s:?}")))
    }
}

/// A district's private signing key; lives only in the back office.
#[derive(Clone)]
pub struct IssuingKey {
    /// The Ed25519 secret key.
    pub signing_key: SigningKey,
    /// District code the key belongs to, e.g. "73.15".
    pub district_code: String,
    /// District name shown by verifiers, e.g. "WAJO".
    pub district_name: String,
}

impl IssuingKey {
    /// Id of this key as written into every code it signs.
    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.signing_key.verifying_key())
    }

    /// The public half, ready to publish in a trust list.
    pub fn trusted_key(&self) -> TrustedKey {
        let public_key = self.signing_key.verifying_key();
        TrustedKey {
            key_id: KeyId::of(&public_key),
            public_key,
            district_code: self.district_code.clone(),
            district_name: self.district_name.clone(),
            bundle_key: Some(self.bundle_public_key()),
        }
    }

    /// The X25519 secret villages encrypt USB bundles to. It is derived from the signing seed
    /// with its own domain label, so the district keeps one secret, yet signing and key
    /// agreement never share a key (ed25519-dalek advises against reusing one for both).
    pub fn bundle_secret(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"LOKET-BUNDLE-X25519-v1\0");
        h.update(self.signing_key.to_bytes());
        h.finalize().into()
    }

    /// The public half of [`IssuingKey::bundle_secret`], published in the trust list.
    pub fn bundle_public_key(&self) -> [u8; 32] {
        curve25519_dalek::MontgomeryPoint::mul_base_clamped(self.bundle_secret()).to_bytes()
    }
}

impl fmt::Debug for IssuingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret key.
        f.debug_struct("IssuingKey")
            .field("key_id", &self.key_id())
            .field("district_code", &self.district_code)
            .field("district_name", &self.district_name)
            .finish_non_exhaustive()
    }
}

/// A published public key that verifiers accept, with the district it speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// Id of the key; must equal `KeyId::of(&public_key)` (checked on load).
    pub key_id: KeyId,
    /// Ed25519 public key, base64 (standard alphabet) in JSON.
    #[serde(with = "b64_key")]
    pub public_key: VerifyingKey,
    /// District code of the issuing office.
    pub district_code: String,
    /// District name shown to the person verifying.
    pub district_name: String,
    /// X25519 public key (hex) that villages encrypt offline bundles to; absent in lists made
    /// before bundles existed.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_opt")]
    pub bundle_key: Option<[u8; 32]>,
}

mod hex_opt {
    use super::*;

    pub fn serialize<S: Serializer>(k: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
        match k {
            Some(k) => s.serialize_str(&k.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
        use serde::de::Error;
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let bytes: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<_, _>>()
            .map_err(|_| D::Error::custom("bundle key is not hex"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| D::Error::custom("bundle key must be 32 bytes"))?;
        Ok(Some(arr))
    }
}

mod b64_key {
    use super::*;

    pub fn serialize<S: Serializer>(k: &VerifyingKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(k.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VerifyingKey, D::Error> {
        use serde::de::Error;
        let s = String::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(|e| D::Error::custom(format!("public key is not base64: {e}")))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| D::Error::custom("public key must be 32 bytes"))?;
        VerifyingKey::from_bytes(&arr)
            .map_err(|_| D::Error::custom("public key is not a valid Ed25519 point"))
    }
}

/// Why a trust list could not be loaded; a bad list must never be half-used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustListError {
    /// The JSON text is not a trust list.
    #[error("trust list JSON is invalid: {0}")]
    Json(String),
    /// A key's declared id does not match its public key.
    #[error("key id {declared} does not match its public key (expected {actual})")]
    KeyIdMismatch {
        /// Id written in the list.
        declared: KeyId,
        /// Id computed from the public key.
        actual: KeyId,
    },
    /// A weak (small-order) public key, which could make forged signatures verify.
    #[error("key {0} is a weak Ed25519 key")]
    WeakKey(KeyId),
    /// The same id appears twice, so lookups would be ambiguous.
    #[error("key id {0} appears more than once")]
    DuplicateKeyId(KeyId),
}

/// The set of public keys a verifier accepts; shipped with the app, works offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustList {
    /// Accepted keys, any order.
    pub keys: Vec<TrustedKey>,
}

impl TrustList {
    /// Builds a list from keys (no checks; use `validate` when the keys come from outside).
    pub fn new(keys: Vec<TrustedKey>) -> TrustList {
        TrustList { keys }
    }

    /// Looks a key up by id, which is how `verify` avoids trying every key.
    pub fn find(&self, key_id: &KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| &k.key_id == key_id)
    }

    /// Checks ids, weak keys and duplicates so a tampered list is rejected whole.
    pub fn validate(&self) -> Result<(), TrustListError> {
        let mut seen = std::collections::HashSet::new();
        for k in &self.keys {
            let actual = KeyId::of(&k.public_key);
            if actual != k.key_id {
                return Err(TrustListError::KeyIdMismatch {
                    declared: k.key_id,
                    actual,
                });
            }
            if k.public_key.is_weak() {
                return Err(TrustListError::WeakKey(k.key_id));
            }
            if !seen.insert(k.key_id) {
                return Err(TrustListError::DuplicateKeyId(k.key_id));
            }
        }
        Ok(())
    }

    /// Serialises to the published JSON form (pretty-printed for human review).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("trust list serialisation cannot fail")
    }

    /// Parses and validates the published JSON form.
    pub fn from_json(json: &str) -> Result<TrustList, TrustListError> {
        let list: TrustList =
            serde_json::from_str(json).map_err(|e| TrustListError::Json(e.to_string()))?;
        list.validate()?;
        Ok(list)
    }
}

/// A successfully verified code: the signed claims and the key that vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The claims exactly as signed.
    pub claims: DocumentClaims,
    /// The trusted key that signed them (tells the verifier which district issued it).
    pub key: TrustedKey,
}

/// Why a QR text does not verify; each case has a plain-language message for residents.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The text does not start with `LK1:` (or another `LK<n>:`), so it is some other QR code.
    #[error("not a Loket QR code")]
    NotLoketCode,
    /// The text has the prefix but is damaged or not in the expected structure.
    #[error("malformed Loket QR code: {0}")]
    Malformed(String),
    /// A format version (`LK<n>:` prefix) this verifier does not know.
    #[error("unsupported Loket QR version {0}")]
    UnsupportedVersion(u8),
    /// Signed by a key that is not in the trust list.
    #[error("signed by unknown key {0}")]
    UnknownKey(KeyId),
    /// The signature does not match the content: altered or forged.
    #[error("bad signature")]
    BadSignature,
    /// A genuine key signed a document claiming another district: one district's key must
    /// never vouch for another district's documents.
    #[error("key of district {key_district} signed a document of district {claimed}")]
    DistrictMismatch {
        /// The district the trust list assigns to the key.
        key_district: String,
        /// The district written in the claims.
        claimed: String,
    },
}

impl VerifyError {
    /// Message in Bahasa Indonesia, in plain words, for the verifier screen.
    pub fn message_id(&self) -> String {
        match self {
            VerifyError::NotLoketCode => {
                "Kode QR ini bukan kode dokumen Loket, sehingga tidak dapat diperiksa.".into()
            }
            VerifyError::Malformed(_) => {
                "Kode QR rusak atau tidak lengkap: isinya tidak dapat dibaca.".into()
            }
            VerifyError::UnsupportedVersion(v) => format!(
                "Kode QR memakai format versi {v} yang belum dikenal aplikasi ini. Perbarui aplikasi."
            ),
            VerifyError::UnknownKey(k) => format!(
                "Dokumen ditandatangani oleh kunci yang tidak dikenal (id {k}). Daftar kunci tepercaya mungkin perlu diperbarui, atau dokumen ini palsu."
            ),
            VerifyError::BadSignature => {
                "Tanda tangan tidak sah: isi kode QR telah diubah atau bukan dibuat oleh kunci ini."
                    .into()
            }
            VerifyError::DistrictMismatch {
                key_district,
                claimed,
            } => format!(
                "Dokumen mengaku diterbitkan kabupaten/kota {claimed}, tetapi ditandatangani dengan kunci milik {key_district}."
            ),
        }
    }

    /// The same message in English.
    pub fn message_en(&self) -> String {
        match self {
            VerifyError::NotLoketCode => {
                "This QR code is not a Loket document code, so it cannot be checked.".into()
            }
            VerifyError::Malformed(_) => {
                "The QR code is damaged or incomplete: its content cannot be read.".into()
            }
            VerifyError::UnsupportedVersion(v) => format!(
                "The QR code uses format version {v}, which this app does not know. Update the app."
            ),
            VerifyError::UnknownKey(k) => format!(
                "The document was signed by an unknown key (id {k}). The trusted key list may need updating, or the document is forged."
            ),
            VerifyError::BadSignature => {
                "Invalid signature: the QR content was altered or was not made with this key."
                    .into()
            }
            VerifyError::DistrictMismatch {
                key_district,
                claimed,
            } => format!(
                "The document claims to be issued by district {claimed} but is signed with the key of {key_district}."
            ),
        }
    }
}

fn days_since_epoch(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)
}

fn date_from_days(days: i64) -> Option<NaiveDate> {
    let ce = i32::try_from(days)
        .ok()?
        .checked_add(UNIX_EPOCH_DAYS_FROM_CE)?;
    NaiveDate::from_num_days_from_ce_opt(ce)
}

fn to_cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

/// Parses one CBOR item that must be the whole input and in canonical (re-encodable) form.
fn from_cbor_canonical(bytes: &[u8], what: &str) -> Result<Value, VerifyError> {
    let mut reader = bytes;
    let v: Value = ciborium::from_reader(&mut reader)
        .map_err(|e| VerifyError::Malformed(format!("{what}: {e}")))?;
    if !reader.is_empty() {
        return Err(VerifyError::Malformed(format!("{what}: trailing bytes")));
    }
    if to_cbor(&v) != bytes {
        return Err(VerifyError::Malformed(format!(
            "{what}: non-canonical CBOR"
        )));
    }
    Ok(v)
}

fn int(v: i64) -> Value {
    Value::Integer(v.into())
}

fn is_nik_digits(nik: &str) -> bool {
    nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit())
}

/// The CWT claims set (the COSE payload) for `claims`: a deterministic CBOR map.
pub fn encode_claims(claims: &DocumentClaims) -> Vec<u8> {
    use claim_key::*;
    let nik = if is_nik_digits(&claims.nik) {
        Value::Integer(claims.nik.parse::<u64>().expect("16 digits fit u64").into())
    } else {
        Value::Text(claims.nik.clone())
    };
    let v = Value::Map(vec![
        (int(ISS), Value::Text(claims.district_code.clone())),
        (
            int(IAT),
            int(days_since_epoch(claims.issued_on) * SECONDS_PER_DAY),
        ),
        (
            int(DOC_TYPE),
            Value::Integer(claims.doc_type.as_u8().into()),
        ),
        (int(DOC_NUMBER), Value::Text(claims.doc_number.clone())),
        (int(HOLDER_NAME), Value::Text(claims.holder_name.clone())),
        (int(NIK), nik),
        (int(BIRTH_DATE), int(days_since_epoch(claims.birth_date))),
        (int(REVISION), Value::Integer(claims.revision.into())),
    ]);
    to_cbor(&v)
}

/// The serialized protected header `{1: -8, 4: h'<key id>'}` (alg EdDSA, kid).
pub fn encode_protected(key_id: KeyId) -> Vec<u8> {
    to_cbor(&Value::Map(vec![
        (int(1), int(COSE_ALG_EDDSA)),
        (int(4), Value::Bytes(key_id.0.to_vec())),
    ]))
}

/// The exact bytes Ed25519 signs: the COSE `Sig_structure`
/// `["Signature1", protected, external_aad = h'', payload]` (RFC 9052 §4.4).
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    to_cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// Builds the QR text from its three signed-over parts; `sign` uses it, and tests use it to
/// build codes with chosen (e.g. forged) contents.
pub fn assemble(protected: &[u8], payload: &[u8], signature: &[u8]) -> String {
    let cose = Value::Tag(
        COSE_SIGN1_TAG,
        Box::new(Value::Array(vec![
            Value::Bytes(protected.to_vec()),
            Value::Map(Vec::new()),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature.to_vec()),
        ])),
    );
    format!("{QR_PREFIX}{}", base45::encode(&to_cbor(&cose)))
}

/// Signs claims with a district key and returns the text to put in the QR code ("LK1:…").
pub fn sign(claims: &DocumentClaims, key: &IssuingKey) -> String {
    let protected = encode_protected(key.key_id());
    let payload = encode_claims(claims);
    let signature: Signature = key.signing_key.sign(&sig_structure(&protected, &payload));
    assemble(&protected, &payload, &signature.to_bytes())
}

fn malformed(msg: &str) -> VerifyError {
    VerifyError::Malformed(msg.to_string())
}

fn int_field(v: &Value, name: &str) -> Result<i128, VerifyError> {
    match v {
        Value::Integer(i) => Ok(i128::from(*i)),
        _ => Err(malformed(&format!("{name}: expected integer"))),
    }
}

fn text_field(v: Value, name: &str) -> Result<String, VerifyError> {
    match v {
        Value::Text(s) => Ok(s),
        _ => Err(malformed(&format!("{name}: expected text"))),
    }
}

fn date_field(days: i128, name: &str) -> Result<NaiveDate, VerifyError> {
    i64::try_from(days)
        .ok()
        .and_then(date_from_days)
        .ok_or_else(|| malformed(&format!("{name}: date out of range")))
}

/// Checks that `v` is a map whose keys are exactly `keys`, in that order; returns the values.
fn map_values(v: Value, keys: &[i64], what: &str) -> Result<Vec<Value>, VerifyError> {
    let Value::Map(entries) = v else {
        return Err(malformed(&format!("{what}: expected a map")));
    };
    if entries.len() != keys.len() {
        return Err(malformed(&format!("{what}: wrong number of entries")));
    }
    let mut values = Vec::with_capacity(keys.len());
    for ((k, v), want) in entries.into_iter().zip(keys) {
        match k {
            Value::Integer(i) if i128::from(i) == i128::from(*want) => values.push(v),
            _ => {
                return Err(malformed(&format!(
                    "{what}: expected key {want} in this position"
                )))
            }
        }
    }
    Ok(values)
}

/// Splits the text into the format version and the Base45 body.
fn split_prefix(text: &str) -> Result<&str, VerifyError> {
    if let Some(body) = text.strip_prefix(QR_PREFIX) {
        return Ok(body);
    }
    // "LK<digits>:" with another number is a Loket code of a format we do not know.
    if let Some((head, _)) = text.split_once(':') {
        if let Some(digits) = head.strip_prefix("LK") {
            if !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit())
            {
                let v: u16 = digits.parse().unwrap_or(u16::MAX);
                return Err(VerifyError::UnsupportedVersion(
                    u8::try_from(v).unwrap_or(u8::MAX),
                ));
            }
        }
    }
    Err(VerifyError::NotLoketCode)
}

/// Verifies a scanned QR text offline against the trust list and returns the signed claims.
pub fn verify(qr_text: &str, trust: &TrustList) -> Result<Verified, VerifyError> {
    // Scanners sometimes append a line break; base45 itself never contains one.
    let text = qr_text.trim_end_matches(['\r', '\n']);
    let body = split_prefix(text)?;
    let raw = base45::decode(body).map_err(|e| VerifyError::Malformed(e.to_string()))?;

    let cose = from_cbor_canonical(&raw, "COSE_Sign1")?;
    let items = match cose {
        Value::Tag(COSE_SIGN1_TAG, inner) => match *inner {
            Value::Array(items) if items.len() == 4 => items,
            _ => return Err(malformed("COSE_Sign1: expected a 4-element array")),
        },
        _ => return Err(malformed("COSE_Sign1: expected CBOR tag 18")),
    };
    let mut it = items.into_iter();
    let (protected, unprotected, payload, sig_bytes) =
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(Value::Bytes(p)), Some(u), Some(Value::Bytes(c)), Some(Value::Bytes(s))) => {
                (p, u, c, s)
            }
            _ => return Err(malformed("COSE_Sign1: expected [bstr, map, bstr, bstr]")),
        };
    if !matches!(&unprotected, Value::Map(m) if m.is_empty()) {
        return Err(malformed("unprotected header must be an empty map"));
    }
    let sig_arr: [u8; 64] = sig_bytes
        .as_slice()
        .try_into()
        .map_err(|_| malformed("signature must be 64 bytes"))?;

    let header = map_values(
        from_cbor_canonical(&protected, "protected header")?,
        &[1, 4],
        "protected header",
    )?;
    if int_field(&header[0], "alg")? != i128::from(COSE_ALG_EDDSA) {
        return Err(malformed("alg: only EdDSA (-8) is accepted"));
    }
    let key_id = match &header[1] {
        Value::Bytes(b) => KeyId(
            b.as_slice()
                .try_into()
                .map_err(|_| malformed("kid must be 4 bytes"))?,
        ),
        _ => return Err(malformed("kid: expected bytes")),
    };
    let key = trust.find(&key_id).ok_or(VerifyError::UnknownKey(key_id))?;
    key.public_key
        .verify_strict(
            &sig_structure(&protected, &payload),
            &Signature::from_bytes(&sig_arr),
        )
        .map_err(|_| VerifyError::BadSignature)?;

    // Signed by a trusted key: now decode the claims.
    let fields = map_values(
        from_cbor_canonical(&payload, "claims")?,
        &claim_key::ORDER,
        "claims",
    )?;
    let iat = int_field(&fields[1], "iat")?;
    if iat % i128::from(SECONDS_PER_DAY) != 0 {
        return Err(malformed("iat: must be 00:00:00 UTC of the issue date"));
    }
    let issued_on = date_field(iat / i128::from(SECONDS_PER_DAY), "iat")?;
    let doc_type = u8::try_from(int_field(&fields[2], "doc_type")?)
        .ok()
        .and_then(|v| DocType::try_from(v).ok())
        .ok_or_else(|| malformed("doc_type: unknown document type"))?;
    let birth_date = date_field(int_field(&fields[6], "birth_date")?, "birth_date")?;
    let revision = u16::try_from(int_field(&fields[7], "revision")?)
        .map_err(|_| malformed("revision: out of range"))?;
    let mut it = fields.into_iter();
    let district_code = text_field(it.next().unwrap_or(Value::Null), "iss")?;
    let doc_number = text_field(it.nth(2).unwrap_or(Value::Null), "doc_number")?;
    let holder_name = text_field(it.next().unwrap_or(Value::Null), "holder_name")?;
    let nik = match it.next().unwrap_or(Value::Null) {
        Value::Integer(i) => match u64::try_from(i) {
            Ok(n) if n < 10_000_000_000_000_000 => format!("{n:016}"),
            _ => return Err(malformed("nik: more than 16 digits")),
        },
        Value::Text(s) if !is_nik_digits(&s) => s,
        Value::Text(_) => return Err(malformed("nik: 16 digits must be an integer")),
        _ => return Err(malformed("nik: expected integer or text")),
    };
    if district_code != key.district_code {
        return Err(VerifyError::DistrictMismatch {
            key_district: key.district_code.clone(),
            claimed: district_code,
        });
    }

    Ok(Verified {
        claims: DocumentClaims {
            doc_type,
            doc_number,
            holder_name,
            nik,
            birth_date,
            issued_on,
            district_code,
            revision,
        },
        key: key.clone(),
    })
}

#[cfg(test)]
mod tests;
