//! Device identity on the village side: enrollment with a one-time code from the back office,
//! the device's own Ed25519 key (kept inside the encrypted store), and the signature every sync
//! request carries. The wire format (headers, signed bytes, error codes) is in
//! [`crate::protocol`]; `docs/SYNC.md` ("Devices and authentication") explains the whole flow.
//!
//! Enrollment survives a lost answer: the key is kept as *pending* before the code is sent, a
//! retry with the same code reuses it, and the server answers a repeat of the same code with
//! the same key as it did the first time. So a connection cut after the server committed never
//! burns the code.

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use loket_store::{StoreError, VillageStore};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zeroize::Zeroizing;

use crate::protocol::{
    request_signing_message, DeviceRef, EnrollRequest, EnrollResponse, HEADER_DEVICE,
    HEADER_SIGNATURE, HEADER_TIME,
};
use crate::{SyncClient, SyncError};

/// Setting holding the device's 32-byte Ed25519 seed (hex); the settings table lives inside the
/// SQLCipher-encrypted store, so the key is encrypted at rest with everything else.
pub const DEVICE_SIGNING_KEY_SETTING: &str = "device_signing_key";
/// Setting holding the server's answer to the enrollment ([`Enrollment`] as JSON).
pub const DEVICE_ENROLLMENT_SETTING: &str = "device_enrollment";
/// Setting holding the key of an enrollment sent but not yet confirmed, so a retry with the same
/// code reuses it (empty when none).
const PENDING_SETTING: &str = "device_enrollment_pending";

/// Where "now" comes from when signing; injected so tests can run with a wrong clock.
pub type ClientClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The laptop's wall clock, for production.
pub fn system_clock() -> ClientClock {
    Arc::new(Utc::now)
}

/// What this laptop keeps about its enrollment, for the settings screen and for signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The device the back office enrolled.
    pub device: DeviceRef,
    /// When the back office bound the key.
    pub enrolled_at: DateTime<Utc>,
    /// The enrolled public key, hex; must match the stored signing key.
    pub public_key: String,
    /// The back office that enrolled it (base URL as configured then).
    pub server: String,
}

/// A device and its signing key: what `SyncClient` needs to authenticate requests.
#[derive(Clone)]
pub struct DeviceSigner {
    device: DeviceRef,
    key: SigningKey,
}

impl std::fmt::Debug for DeviceSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("DeviceSigner")
            .field("device", &self.device)
            .field(
                "public_key",
                &hex::encode(self.key.verifying_key().as_bytes()),
            )
            .finish()
    }
}

impl DeviceSigner {
    /// A signer for `device` with its enrolled key.
    pub fn new(device: DeviceRef, key: SigningKey) -> Self {
        DeviceSigner { device, key }
    }

    /// The device this signer speaks for.
    pub fn device(&self) -> &DeviceRef {
        &self.device
    }

    /// Signs `message` with the device key (USB bundles), so the key never leaves the signer.
    pub fn sign(&self, message: &[u8]) -> ed25519_dalek::Signature {
        use ed25519_dalek::Signer as _;
        self.key.sign(message)
    }

    /// The three authentication headers for one request signed at `now`.
    pub fn headers(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> [(&'static str, String); 3] {
        signature_headers(&self.device, &self.key, method, path_and_query, body, now)
    }
}

/// The `X-Loket-Time` text for `t`: RFC 3339, UTC, whole seconds (`2026-11-23T02:00:00Z`).
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The `X-Loket-Device`, `X-Loket-Time` and `X-Loket-Signature` headers for one request; public
/// so tests and other clients sign exactly as `SyncClient` does.
pub fn signature_headers(
    device: &DeviceRef,
    key: &SigningKey,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> [(&'static str, String); 3] {
    let time = format_time(now);
    let message = request_signing_message(method, path_and_query, &time, body);
    let signature = key.sign(&message);
    [
        (HEADER_DEVICE, device.to_header()),
        (HEADER_TIME, time),
        (
            HEADER_SIGNATURE,
            base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
        ),
    ]
}

/// Whether `signature_b64` is `public_key`'s signature over this request; used by the back office
/// so both sides build the signed bytes with the same code.
pub fn verify_request_signature(
    public_key: &VerifyingKey,
    method: &str,
    path_and_query: &str,
    time: &str,
    body: &[u8],
    signature_b64: &str,
) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    let message = request_signing_message(method, path_and_query, time, body);
    public_key.verify_strict(&message, &signature).is_ok()
}

/// The canonical form of an enrollment code as typed: dashes and spaces dropped, upper case.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The enrollment this laptop holds, if any (also when its key is missing or does not match;
/// see [`device_signer`] for the usable pair).
pub fn enrollment(store: &VillageStore) -> Result<Option<Enrollment>, StoreError> {
    Ok(match store.setting(DEVICE_ENROLLMENT_SETTING)? {
        Some(json) if !json.is_empty() => {
            Some(serde_json::from_str(&json).map_err(|e| {
                StoreError::Corrupt(format!("data pendaftaran perangkat rusak: {e}"))
            })?)
        }
        _ => None,
    })
}

/// The enrolled device and its key, or `None` when this laptop is not (or no longer consistently)
/// enrolled: no key, no enrollment, or a key that is not the enrolled one.
pub fn device_signer(store: &VillageStore) -> Result<Option<DeviceSigner>, StoreError> {
    let Some(enrolled) = enrollment(store)? else {
        return Ok(None);
    };
    let Some(key) = stored_key(store, DEVICE_SIGNING_KEY_SETTING)? else {
        return Ok(None);
    };
    if hex::encode(key.verifying_key().as_bytes()) != enrolled.public_key {
        return Ok(None);
    }
    Ok(Some(DeviceSigner::new(enrolled.device, key)))
}

fn stored_key(store: &VillageStore, setting: &str) -> Result<Option<SigningKey>, StoreError> {
    match store.setting(setting)? {
        Some(text) if !text.is_empty() => Ok(Some(key_from_hex(&text)?)),
        _ => Ok(None),
    }
}

fn key_from_hex(text: &str) -> Result<SigningKey, StoreError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), seed.as_mut())
        .map_err(|e| StoreError::Corrupt(format!("kunci perangkat rusak: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// An enrollment sent but not yet confirmed: which code (by hash), which device, which key.
#[derive(Serialize, Deserialize)]
struct Pending {
    code_sha256: String,
    device: DeviceRef,
    seed: String,
}

/// Enrolls this laptop as `device` with a one-time `code` from the back office at `base_url`:
/// makes an Ed25519 key from `rng` (or reuses the one of an unconfirmed attempt with the same
/// code), sends its public half, and on success keeps the key and the server's answer in the
/// store. Re-enrolling with a new code replaces the key. A refused code is
/// `SyncError::Rejected` with the server's words (403 wrong/used/expired, 422 unknown village).
pub fn enroll<R: RngCore + CryptoRng>(
    base_url: &str,
    store: &VillageStore,
    code: &str,
    device: &DeviceRef,
    rng: &mut R,
) -> Result<EnrollResponse, SyncError> {
    let normalized = normalize_code(code);
    let code_sha256 = hex::encode(Sha256::digest(normalized.as_bytes()));
    let pending: Option<Pending> = match store.setting(PENDING_SETTING)? {
        Some(json) if !json.is_empty() => serde_json::from_str(&json).ok(),
        _ => None,
    };
    let key = match pending {
        Some(p) if p.code_sha256 == code_sha256 && &p.device == device => key_from_hex(&p.seed)?,
        _ => {
            let key = SigningKey::generate(rng);
            let pending = Pending {
                code_sha256,
                device: device.clone(),
                seed: hex::encode(key.to_bytes()),
            };
            store.set_setting(
                PENDING_SETTING,
                &serde_json::to_string(&pending).expect("pending enrollment serialises"),
            )?;
            key
        }
    };
    let public_key = hex::encode(key.verifying_key().as_bytes());
    let request = EnrollRequest {
        code: normalized,
        village_code: device.village_code.clone(),
        device_no: device.device_no,
        public_key: public_key.clone(),
    };
    let client = SyncClient::new(base_url)?;
    let answer: EnrollResponse = client.post_json("/api/v1/devices/enroll", &request)?;
    if &answer.device != device {
        return Err(SyncError::Protocol(format!(
            "server mendaftarkan perangkat {} padahal yang diminta {}",
            answer.device.to_header(),
            device.to_header()
        )));
    }
    // Key first, then the enrollment naming it, then the pending entry goes: a crash in between
    // leaves "not enrolled" plus the pending key, and a retry with the same code repairs it.
    store.set_setting(DEVICE_SIGNING_KEY_SETTING, &hex::encode(key.to_bytes()))?;
    let enrolled = Enrollment {
        device: answer.device.clone(),
        enrolled_at: answer.enrolled_at,
        public_key,
        server: base_url.trim_end_matches('/').to_string(),
    };
    store.set_setting(
        DEVICE_ENROLLMENT_SETTING,
        &serde_json::to_string(&enrolled).expect("enrollment serialises"),
    )?;
    store.set_setting(PENDING_SETTING, "")?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn device() -> DeviceRef {
        DeviceRef {
            village_code: "7315012003".into(),
            device_no: 1,
        }
    }

    #[test]
    fn signatures_verify_and_bind_every_part_of_the_request() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let now = DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .to_utc();
        let [(_, dev), (_, time), (_, sig)] =
            signature_headers(&device(), &key, "POST", "/api/v1/applications", b"{}", now);
        assert_eq!(dev, "7315012003/1");
        assert_eq!(time, "2026-11-23T02:00:00Z");
        let vk = key.verifying_key();
        let ok = |m: &str, p: &str, t: &str, b: &[u8], s: &str| {
            verify_request_signature(&vk, m, p, t, b, s)
        };
        assert!(ok("POST", "/api/v1/applications", &time, b"{}", &sig));
        assert!(!ok("GET", "/api/v1/applications", &time, b"{}", &sig));
        assert!(!ok("POST", "/api/v1/audit", &time, b"{}", &sig));
        assert!(!ok(
            "POST",
            "/api/v1/applications",
            "2026-11-23T02:00:01Z",
            b"{}",
            &sig
        ));
        assert!(!ok("POST", "/api/v1/applications", &time, b"{ }", &sig));
        assert!(!ok("POST", "/api/v1/applications", &time, b"{}", "AAAA"));
        assert!(!ok(
            "POST",
            "/api/v1/applications",
            &time,
            b"{}",
            "not base64!"
        ));
        let other = SigningKey::from_bytes(&[6; 32]).verifying_key();
        assert!(!verify_request_signature(
            &other,
            "POST",
            "/api/v1/applications",
            &time,
            b"{}",
            &sig
        ));
    }

    /// The example in docs/SYNC.md; Python's `cryptography` signs the same bytes identically.
    #[test]
    fn signature_matches_the_documented_test_vector() {
        let key = SigningKey::from_bytes(&[1; 32]);
        assert_eq!(
            hex::encode(key.verifying_key().as_bytes()),
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
        );
        let now = DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .to_utc();
        let path = "/api/v1/updates?village_code=7315012003&device_no=1&after=0";
        let [_, _, (_, sig)] = signature_headers(&device(), &key, "GET", path, b"", now);
        assert_eq!(
            sig,
            "korc3iCJlA9WZrsNYJF601ZTf4yo/AsDGjajFWZJW/G25BmbyqOQ2KMjbxsJSRgpX/TYRrtSksozI4H+VpkJAQ=="
        );
    }

    #[test]
    fn device_header_has_one_spelling() {
        assert_eq!(DeviceRef::parse_header("7315012003/1"), Some(device()));
        for bad in [
            "7315012003/01",
            "7315012003/+1",
            "7315012003/",
            "731501200/1",
            "7315012003-1",
            "7315012003/1/2",
            "7315012003/70000",
        ] {
            assert_eq!(DeviceRef::parse_header(bad), None, "{bad}");
        }
    }

    #[test]
    fn codes_are_normalized_as_typed() {
        assert_eq!(normalize_code(" k7qx-m2pd-9r "), "K7QXM2PD9R");
        assert_eq!(normalize_code("K7QX M2PD 9R"), "K7QXM2PD9R");
    }

    #[test]
    fn a_signer_needs_the_enrolled_key() {
        let store = VillageStore::open_in_memory().unwrap();
        assert!(device_signer(&store).unwrap().is_none());
        let key = SigningKey::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
        store
            .set_setting(DEVICE_SIGNING_KEY_SETTING, &hex::encode(key.to_bytes()))
            .unwrap();
        assert!(
            device_signer(&store).unwrap().is_none(),
            "no enrollment yet"
        );
        let mut enrolled = Enrollment {
            device: device(),
            enrolled_at: Utc::now(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            server: "http://127.0.0.1:8080".into(),
        };
        store
            .set_setting(
                DEVICE_ENROLLMENT_SETTING,
                &serde_json::to_string(&enrolled).unwrap(),
            )
            .unwrap();
        let signer = device_signer(&store).unwrap().unwrap();
        assert_eq!(signer.device(), &device());
        assert!(!format!("{signer:?}").contains(&hex::encode(key.to_bytes())));
        enrolled.public_key = "00".repeat(32);
        store
            .set_setting(
                DEVICE_ENROLLMENT_SETTING,
                &serde_json::to_string(&enrolled).unwrap(),
            )
            .unwrap();
        assert!(device_signer(&store).unwrap().is_none(), "key mismatch");
    }
}
