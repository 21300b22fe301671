//! The signed catalogue: how the district back office publishes a newer catalogue and how a
//! village knows it really comes from its district.
//!
//! # Wire format `loket-catalogue-signed-v1`
//!
//! ```text
//! { "format":    "loket-catalogue-signed-v1",
//!   "key_id":    "1a2b3c4d",              ; first 4 bytes of SHA-256(public key), hex (loket_qr::KeyId)
//!   "catalogue": "{ \"schema\": 1, … }",  ; the exact catalogue JSON text, as a string
//!   "signature": "base64…" }              ; standard base64 of the 64-byte signature
//! signature = Ed25519( b"LOKET-CATALOGUE-v1\0" || UTF-8 bytes of `catalogue` )  ; verify_strict
//! ```
//!
//! The signature covers the catalogue text byte for byte, so no re-serialisation can change what
//! was signed. The domain separator differs from the QR code's (`LOKET-QR-v1\0`), so a catalogue
//! signature can never pass as a document signature or the reverse, although both are made with
//! the same district key. Unknown extra fields are ignored (adding optional fields stays
//! compatible); another `format` is refused.
//!
//! Trusted keys (`loket_qr::TrustedKey`) carry no validity dates, so any key in the trust list
//! may sign; retiring a key means removing it from the trust list. A replayed older catalogue
//! verifies, which is why a village also requires `is_newer_version` before it takes one.

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use loket_qr::{KeyId, TrustList};
use serde::{Deserialize, Serialize};

use crate::{parse_catalogue, Catalogue, CatalogueError};

/// The `format` value of this wire format; anything else is refused, never guessed at.
pub const SIGNED_CATALOGUE_FORMAT: &str = "loket-catalogue-signed-v1";

/// Domain separator prefixed to the catalogue bytes before signing, so the signature cannot be
/// replayed as a signature over any other Loket message.
pub const CATALOGUE_SIGNING_CONTEXT: &[u8] = b"LOKET-CATALOGUE-v1\0";

/// A catalogue as the back office publishes it: the exact text plus the district's signature,
/// so a village can take it from any server or copy and still know who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCatalogue {
    /// Always `SIGNED_CATALOGUE_FORMAT`; lets a future format be told apart from damage.
    pub format: String,
    /// Id of the signing key, so the verifier looks it up instead of trying every key.
    pub key_id: KeyId,
    /// The catalogue JSON text exactly as signed.
    pub catalogue: String,
    /// Ed25519 signature over `CATALOGUE_SIGNING_CONTEXT || catalogue`, standard base64.
    pub signature: String,
}

impl SignedCatalogue {
    /// Serialises to the JSON the back office serves.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("signed catalogue serialisation cannot fail")
    }

    /// Reads the served JSON; only the shape is checked here, the signature by
    /// `verify_signed_catalogue`.
    pub fn from_json(json: &str) -> Result<SignedCatalogue, CatalogueSignatureError> {
        // Format first, so a newer format is reported as such and not as damage.
        #[derive(Deserialize)]
        struct FormatOnly {
            format: String,
        }
        let FormatOnly { format } = serde_json::from_str(json)
            .map_err(|e| CatalogueSignatureError::Malformed(e.to_string()))?;
        if format != SIGNED_CATALOGUE_FORMAT {
            return Err(CatalogueSignatureError::WrongFormat(format));
        }
        serde_json::from_str(json).map_err(|e| CatalogueSignatureError::Malformed(e.to_string()))
    }
}

/// Why a signed catalogue was refused; a village keeps the catalogue it has. The messages are
/// in Bahasa Indonesia because the village operator reads them.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueSignatureError {
    /// The text is not a signed catalogue at all (garbage, an unsigned catalogue, a cut-off
    /// download, a signature that is not 64 bytes of base64).
    #[error("katalog layanan dari server rusak atau tidak bertanda tangan: {0}")]
    Malformed(String),
    /// A signed-catalogue format this build does not know.
    #[error("format katalog layanan \"{0}\" tidak dikenal aplikasi ini; perbarui aplikasi")]
    WrongFormat(String),
    /// Signed by a key that is not in the trust list.
    #[error(
        "katalog layanan ditandatangani kunci yang tidak dikenal (id {0}); daftar kunci tepercaya mungkin perlu diperbarui, atau katalog ini palsu"
    )]
    UnknownKey(KeyId),
    /// The signature does not match the text: altered on the way, or forged.
    #[error(
        "tanda tangan katalog layanan tidak sah: isinya telah diubah atau bukan dibuat oleh kunci Disdukcapil"
    )]
    BadSignature,
    /// Genuinely signed, but the content is not a valid catalogue for this build (e.g. a newer
    /// schema); the district must publish one this build reads, or the app must be updated.
    #[error("katalog layanan bertanda tangan sah tetapi isinya tidak dapat dipakai: {0}")]
    InvalidCatalogue(#[source] CatalogueError),
}

fn signing_message(catalogue: &str) -> Vec<u8> {
    let mut msg = Vec::with_capacity(CATALOGUE_SIGNING_CONTEXT.len() + catalogue.len());
    msg.extend_from_slice(CATALOGUE_SIGNING_CONTEXT);
    msg.extend_from_slice(catalogue.as_bytes());
    msg
}

/// Parses, validates and checks the version format: what may be signed and what may be taken.
fn checked_catalogue(json: &str) -> Result<Catalogue, CatalogueError> {
    let catalogue = parse_catalogue(json)?;
    if parse_version(catalogue.version()).is_none() {
        return Err(CatalogueError::Invalid {
            owner: "catalogue".into(),
            problem: format!(
                "version `{}` is not YYYY.MM.N, so villages could never order it",
                catalogue.version()
            ),
        });
    }
    Ok(catalogue)
}

/// Signs a catalogue text with the district key, after validating it: an invalid catalogue is
/// never signed, so a signature always vouches for usable content.
pub fn sign_catalogue(json: &str, key: &SigningKey) -> Result<SignedCatalogue, CatalogueError> {
    checked_catalogue(json)?;
    let signature: Signature = key.sign(&signing_message(json));
    Ok(SignedCatalogue {
        format: SIGNED_CATALOGUE_FORMAT.to_string(),
        key_id: KeyId::of(&key.verifying_key()),
        catalogue: json.to_string(),
        signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    })
}

/// Checks the format, the key and the signature, then parses the catalogue; only a catalogue
/// that passes all of them may replace the one a village has.
pub fn verify_signed_catalogue(
    signed: &SignedCatalogue,
    trust: &TrustList,
) -> Result<Catalogue, CatalogueSignatureError> {
    if signed.format != SIGNED_CATALOGUE_FORMAT {
        return Err(CatalogueSignatureError::WrongFormat(signed.format.clone()));
    }
    let key = trust
        .find(&signed.key_id)
        .ok_or(CatalogueSignatureError::UnknownKey(signed.key_id))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(signed.signature.as_bytes())
        .map_err(|e| CatalogueSignatureError::Malformed(format!("signature: {e}")))?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| {
        CatalogueSignatureError::Malformed("signature: expected 64 bytes".to_string())
    })?;
    key.public_key
        .verify_strict(
            &signing_message(&signed.catalogue),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| CatalogueSignatureError::BadSignature)?;
    checked_catalogue(&signed.catalogue).map_err(CatalogueSignatureError::InvalidCatalogue)
}

/// Reads a `YYYY.MM.N` version into numbers (year of 4 digits, month 1–12, N ≥ 1), so the
/// publisher and every village order versions the same way; `None` when malformed.
pub fn parse_version(version: &str) -> Option<[u32; 3]> {
    let mut parts = version.split('.');
    let (year, month, n) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    // Digits only: `u32::from_str` would also take a leading `+`.
    let number = |s: &str, max_len: usize| {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u32>().ok()
    };
    let year = number(year, 4).filter(|_| year.len() == 4)?;
    let month = number(month, 2).filter(|m| (1..=12).contains(m))?;
    let n = number(n, 9).filter(|n| *n >= 1)?;
    Some([year, month, n])
}

/// Whether `candidate` is strictly newer than `current`, compared numerically (`2026.11.10` is
/// newer than `2026.11.9`); false when either is malformed, so a bad version never wins.
pub fn is_newer_version(candidate: &str, current: &str) -> bool {
    match (parse_version(candidate), parse_version(current)) {
        (Some(candidate), Some(current)) => candidate > current,
        _ => false,
    }
}
