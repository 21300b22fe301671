//! Helpers for tests that talk to a real back office as an enrolled village laptop: enroll a
//! device straight in the store (as `loket device code` plus `POST /api/v1/devices/enroll`
//! would) and get its signing key back. Not part of the product API.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use loket_sync::protocol::DeviceRef;

use crate::{AppState, BackofficeStore};

/// Enrolls `device` in `store` with the Ed25519 key made from `seed` at `now`; returns the key.
/// Panics when the store refuses, since that is a broken test set-up.
pub fn enroll(
    store: &mut BackofficeStore,
    device: &DeviceRef,
    seed: [u8; 32],
    now: DateTime<Utc>,
) -> SigningKey {
    let code = store
        .issue_enrollment_code(device, now, &mut rand::rngs::OsRng)
        .expect("issue an enrollment code");
    let key = SigningKey::from_bytes(&seed);
    store
        .enroll_device(
            &code.code,
            device,
            &hex::encode(key.verifying_key().as_bytes()),
            now,
        )
        .expect("enroll the device");
    key
}

/// [`enroll`] on the store behind a running server, at the server's clock.
pub fn enroll_in(state: &AppState, device: &DeviceRef, seed: [u8; 32]) -> SigningKey {
    let now = (state.clock)();
    enroll(
        &mut state.store.lock().expect("store lock"),
        device,
        seed,
        now,
    )
}
