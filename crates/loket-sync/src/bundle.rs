//! Sneakernet: a village with no link for days carries its queued work to the district on a USB
//! stick. A bundle holds applications (any queued ones, not only synced ones), their scan pages
//! and audit entries; it is **signed by the device** (so the district knows which laptop made
//! it and that nothing was changed) and **encrypted to the district** (so a lost stick reveals
//! nothing). The back office imports it with the same exactly-once rules as the network path,
//! so importing twice, or importing and later syncing, changes nothing the second time.
//!
//! File layout (all integers big-endian):
//!
//! ```text
//! "LOKET-BUNDLE-1\n"             15-byte magic
//! u32 header length, header JSON  BundleHeader: format, device, created_at, ephemeral X25519
//!                                 public key, nonce (all visible: they say who and when)
//! ciphertext                      ChaCha20-Poly1305(key, nonce, plaintext, aad = header JSON)
//! ```
//!
//! The key is SHA-256(`LOKET-BUNDLE-KEY-v1\0` ‖ X25519(ephemeral, district) ‖ ephemeral public ‖
//! district public). The plaintext is JSON `SignedContent { content, signature }`, where the
//! signature is Ed25519 by the device over `LOKET-BUNDLE-v1\0` ‖ header JSON ‖ content JSON, so
//! a header cannot be moved onto another bundle's content.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use curve25519_dalek::MontgomeryPoint;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::DeviceSigner;
use crate::protocol::{envelope, ApplicationEnvelope, AuditEntryWire, DeviceRef};

/// The first bytes of every bundle file, so a wrong file is refused before any parsing.
pub const BUNDLE_MAGIC: &[u8; 15] = b"LOKET-BUNDLE-1\n";
/// The `format` written in the header.
pub const BUNDLE_FORMAT: &str = "loket-bundle-v1";
/// Largest header accepted; a real one is a few hundred bytes.
const MAX_HEADER: usize = 16 * 1024;

/// Why a bundle cannot be read; each is worded for the district's import screen.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not a Loket bundle at all (wrong file on the stick).
    #[error("berkas ini bukan bundel Loket")]
    NotABundle,
    /// A bundle of a format this build does not read.
    #[error("format bundel {0} tidak dikenal; perbarui Loket")]
    UnknownFormat(String),
    /// The bytes were cut or changed, or the bundle was made for another district.
    #[error("bundel rusak, terpotong, atau dibuat untuk kabupaten/kota lain")]
    Undecryptable,
    /// The device that claims to have made it is not enrolled here.
    #[error("perangkat {0} tidak terdaftar di Disdukcapil ini")]
    UnknownDevice(String),
    /// The device's signature does not match: the bundle was altered or forged.
    #[error("tanda tangan perangkat pada bundel tidak sah; bundel ditolak")]
    BadSignature,
    /// The district has published no bundle key yet (a trust list from an older back office).
    #[error("kunci enkripsi Disdukcapil belum diterima; sinkronkan sekali secara daring dulu")]
    NoDistrictKey,
}

/// The visible part of a bundle: who made it and when, and the key-agreement values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleHeader {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The laptop that made it.
    pub device: DeviceRef,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Ephemeral X25519 public key, hex.
    pub ephemeral_key: String,
    /// ChaCha20-Poly1305 nonce, hex (12 bytes).
    pub nonce: String,
}

/// One stored scan page carried in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundlePage {
    /// SHA-256 of `bytes`, hex; checked on import.
    pub sha256: String,
    /// The page, base64.
    pub bytes_base64: String,
}

/// What a bundle carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleContent {
    /// Applications exactly as they would be pushed.
    pub applications: Vec<ApplicationEnvelope>,
    /// Every scan page those applications refer to.
    pub pages: Vec<BundlePage>,
    /// Audit entries from the first one the district has not acknowledged.
    pub audit: Vec<AuditEntryWire>,
}

#[derive(Serialize, Deserialize)]
struct SignedContent {
    content: BundleContent,
    signature: String,
}

/// Exactly `N` bytes of hex, or `None`.
fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

fn derive_key(shared: &[u8; 32], ephemeral: &[u8; 32], district: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"LOKET-BUNDLE-KEY-v1\0");
    h.update(shared);
    h.update(ephemeral);
    h.update(district);
    h.finalize().into()
}

fn signed_message(header: &[u8], content: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(20 + header.len() + content.len());
    m.extend_from_slice(b"LOKET-BUNDLE-v1\0");
    m.extend_from_slice(header);
    m.extend_from_slice(content);
    m
}

/// Writes a bundle: `content` signed with the device key and encrypted to the district's bundle
/// key (`TrustedKey::bundle_key`). Randomness and time are parameters.
pub fn seal_bundle(
    content: &BundleContent,
    signer: &DeviceSigner,
    district_bundle_key: &[u8; 32],
    now: DateTime<Utc>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u8> {
    let mut ephemeral_secret = [0u8; 32];
    rng.fill_bytes(&mut ephemeral_secret);
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let ephemeral_public = MontgomeryPoint::mul_base_clamped(ephemeral_secret).to_bytes();
    let shared = MontgomeryPoint(*district_bundle_key)
        .mul_clamped(ephemeral_secret)
        .to_bytes();
    let key = derive_key(&shared, &ephemeral_public, district_bundle_key);
    let header = BundleHeader {
        format: BUNDLE_FORMAT.into(),
        device: signer.device().clone(),
        created_at: now,
        ephemeral_key: hex::encode(ephemeral_public),
        nonce: hex::encode(nonce),
    };
    let header_json = serde_json::to_vec(&header).expect("header serialises");
    let content_json = serde_json::to_vec(content).expect("content serialises");
    let signature = signer.sign(&signed_message(&header_json, &content_json));
    let plaintext = serde_json::to_vec(&SignedContent {
        content: content.clone(),
        signature: hex::encode(signature.to_bytes()),
    })
    .expect("signed content serialises");
    let ciphertext = ChaCha20Poly1305::new(Key::from_slice(&key))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &header_json,
            },
        )
        .expect("encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(BUNDLE_MAGIC.len() + 4 + header_json.len() + ciphertext.len());
    out.extend_from_slice(BUNDLE_MAGIC);
    out.extend_from_slice(&(header_json.len() as u32).to_be_bytes());
    out.extend_from_slice(&header_json);
    out.extend_from_slice(&ciphertext);
    out
}

/// Reads only the visible header, e.g. to look up the device's key before opening.
pub fn bundle_header(bytes: &[u8]) -> Result<BundleHeader, BundleError> {
    Ok(split(bytes)?.0)
}

fn split(bytes: &[u8]) -> Result<(BundleHeader, &[u8], &[u8]), BundleError> {
    let rest = bytes
        .strip_prefix(BUNDLE_MAGIC.as_slice())
        .ok_or(BundleError::NotABundle)?;
    let len_bytes: [u8; 4] = rest
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(BundleError::NotABundle)?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    if len > MAX_HEADER {
        return Err(BundleError::NotABundle);
    }
    let header_json = rest.get(4..4 + len).ok_or(BundleError::Undecryptable)?;
    let ciphertext = &rest[4 + len..];
    let header: BundleHeader =
        serde_json::from_slice(header_json).map_err(|_| BundleError::NotABundle)?;
    if header.format != BUNDLE_FORMAT {
        return Err(BundleError::UnknownFormat(header.format));
    }
    Ok((header, header_json, ciphertext))
}

/// Opens a bundle with the district's bundle secret and checks the device's signature with the
/// key `device_key` returns for the header's device (`None`: not enrolled here).
pub fn open_bundle(
    bytes: &[u8],
    district_bundle_secret: &[u8; 32],
    device_key: impl FnOnce(&DeviceRef) -> Option<VerifyingKey>,
) -> Result<(BundleHeader, BundleContent), BundleError> {
    let (header, header_json, ciphertext) = split(bytes)?;
    let ephemeral: [u8; 32] = unhex(&header.ephemeral_key).ok_or(BundleError::Undecryptable)?;
    let nonce: [u8; 12] = unhex(&header.nonce).ok_or(BundleError::Undecryptable)?;
    let district_public = MontgomeryPoint::mul_base_clamped(*district_bundle_secret).to_bytes();
    let shared = MontgomeryPoint(ephemeral)
        .mul_clamped(*district_bundle_secret)
        .to_bytes();
    let key = derive_key(&shared, &ephemeral, &district_public);
    let plaintext = ChaCha20Poly1305::new(Key::from_slice(&key))
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: ciphertext,
                aad: header_json,
            },
        )
        .map_err(|_| BundleError::Undecryptable)?;
    let signed: SignedContent =
        serde_json::from_slice(&plaintext).map_err(|_| BundleError::Undecryptable)?;
    let verifying = device_key(&header.device).ok_or_else(|| {
        BundleError::UnknownDevice(format!(
            "{}/{}",
            header.device.village_code, header.device.device_no
        ))
    })?;
    let signature = unhex::<64>(&signed.signature)
        .map(|b| Signature::from_bytes(&b))
        .ok_or(BundleError::BadSignature)?;
    let content_json = serde_json::to_vec(&signed.content).expect("content serialises");
    verifying
        .verify(&signed_message(header_json, &content_json), &signature)
        .map_err(|_| BundleError::BadSignature)?;
    Ok((header, signed.content))
}

/// Gathers what a bundle carries from the village store: every application still waiting in
/// the outbox (never synced, or waiting to be retried), every page they refer to, and the audit
/// entries the district has not acknowledged.
pub fn bundle_content(
    store: &loket_store::VillageStore,
) -> Result<BundleContent, crate::SyncError> {
    use base64::Engine as _;
    let apps = store.outbox(usize::MAX >> 1)?;
    let mut pages = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for app in &apps {
        for page in app.provided.iter().flat_map(|p| &p.pages) {
            if !seen.insert(page.sha256.clone()) {
                continue;
            }
            let bytes = store.scan_bytes(&page.sha256)?.ok_or_else(|| {
                loket_store::StoreError::MissingScan {
                    slot: page.sha256.clone(),
                }
            })?;
            pages.push(BundlePage {
                sha256: page.sha256.clone(),
                bytes_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            });
        }
    }
    let acked = store.audit_acknowledged_seq()?;
    let audit = store
        .audit_entries_after(acked, usize::MAX >> 1)?
        .iter()
        .map(crate::audit::to_wire)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BundleContent {
        applications: apps.iter().map(envelope).collect(),
        pages,
        audit,
    })
}

/// Writes a bundle of everything waiting on this laptop, ready for the USB stick: requires an
/// enrolled device (the district must know its key) and a trust list naming the district's
/// bundle key. Returns the bytes and what they hold.
pub fn export_bundle(
    store: &loket_store::VillageStore,
    now: DateTime<Utc>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Vec<u8>, BundleContent), ExportError> {
    let signer = crate::auth::device_signer(store)?.ok_or(ExportError::NotEnrolled)?;
    let trust = store
        .setting(crate::client::TRUST_LIST_SETTING)?
        .and_then(|json| loket_qr::TrustList::from_json(&json).ok())
        .ok_or(BundleError::NoDistrictKey)?;
    let district = trust
        .keys
        .iter()
        .find_map(|k| k.bundle_key)
        .ok_or(BundleError::NoDistrictKey)?;
    let content = bundle_content(store)?;
    let bytes = seal_bundle(&content, &signer, &district, now, rng);
    Ok((bytes, content))
}

/// Why a bundle could not be written; each is worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Bundles are signed with the device key, which exists only after enrollment.
    #[error("perangkat belum terdaftar di Disdukcapil; daftarkan dulu di Pengaturan")]
    NotEnrolled,
    /// The district's key is missing (see [`BundleError::NoDistrictKey`]).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] loket_store::StoreError),
    /// Gathering the content failed.
    #[error(transparent)]
    Sync(#[from] crate::SyncError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn device() -> DeviceRef {
        DeviceRef {
            village_code: "7315012003".into(),
            device_no: 1,
        }
    }

    fn district_secret() -> [u8; 32] {
        [9; 32]
    }

    fn district_public() -> [u8; 32] {
        MontgomeryPoint::mul_base_clamped(district_secret()).to_bytes()
    }

    fn content() -> BundleContent {
        BundleContent {
            applications: vec![],
            pages: vec![BundlePage {
                sha256: "ab".repeat(32),
                bytes_base64: "AAEC".into(),
            }],
            audit: vec![],
        }
    }

    fn sealed(device_key: &SigningKey) -> Vec<u8> {
        let now = DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        seal_bundle(
            &content(),
            &DeviceSigner::new(device(), device_key.clone()),
            &district_public(),
            now,
            &mut StdRng::seed_from_u64(7),
        )
    }

    #[test]
    fn a_bundle_opens_with_the_district_secret_and_the_device_key() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let bytes = sealed(&key);
        let (header, c) = open_bundle(&bytes, &district_secret(), |d| {
            (d == &device()).then(|| key.verifying_key())
        })
        .unwrap();
        assert_eq!(header.device, device());
        assert_eq!(c, content());
        // Deterministic with injected randomness and time.
        assert_eq!(bytes, sealed(&key));
        // The content is not readable on the stick.
        assert!(!bytes.windows(4).any(|w| w == b"AAEC"));
    }

    #[test]
    fn every_tampering_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let good = sealed(&key);
        let lookup = |_: &DeviceRef| Some(key.verifying_key());
        // One changed byte anywhere in the ciphertext.
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            open_bundle(&bad, &district_secret(), lookup),
            Err(BundleError::Undecryptable)
        ));
        // The header moved to claim another device: it is the AAD, so decryption fails.
        let text = String::from_utf8_lossy(&good).replace("\"device_no\":1", "\"device_no\":2");
        assert!(open_bundle(text.as_bytes(), &district_secret(), lookup).is_err());
        // Another district's secret.
        assert!(matches!(
            open_bundle(&good, &[8; 32], lookup),
            Err(BundleError::Undecryptable)
        ));
        // Signed by a device key other than the enrolled one.
        let other = SigningKey::from_bytes(&[4; 32]);
        assert!(matches!(
            open_bundle(&good, &district_secret(), |_| Some(other.verifying_key())),
            Err(BundleError::BadSignature)
        ));
        // Not enrolled here.
        assert!(matches!(
            open_bundle(&good, &district_secret(), |_| None),
            Err(BundleError::UnknownDevice(_))
        ));
        // Not a bundle, or cut short.
        assert!(matches!(
            open_bundle(b"%PDF-1.7", &district_secret(), lookup),
            Err(BundleError::NotABundle)
        ));
        assert!(open_bundle(&good[..40], &district_secret(), lookup).is_err());
    }
}
