//! The village side of catalogue publishing: fetch the signed catalogue from the back office,
//! verify it against the trust list, and keep it only when it is newer than the one this laptop
//! already uses. A refused catalogue changes nothing: the laptop keeps working with its own.

use loket_catalogue::{
    is_newer_version, parse_catalogue, verify_signed_catalogue, SignedCatalogue,
};
use loket_qr::TrustList;
use loket_store::VillageStore;

use crate::SyncError;

/// Setting key under which the newest verified catalogue is kept (the exact catalogue JSON
/// text); absent means the catalogue embedded in this build.
pub const CATALOGUE_SETTING: &str = "catalogue_json";

/// Fetches `/api/v1/catalogue` from the back office at `base_url` (as given to
/// `SyncClient::new`), verifies its signature with `trust`, and stores it under
/// `CATALOGUE_SETTING` when its version is newer than both the stored and the embedded
/// catalogue. Returns the new version, or `None` when the laptop already has it (or newer).
///
/// `trust` should be the trust list the laptop already holds, not one fetched in the same
/// breath from the same server, or a server in the middle could swap both.
pub fn pull_catalogue(
    base_url: &str,
    store: &VillageStore,
    trust: &TrustList,
) -> Result<Option<String>, SyncError> {
    let current = current_version(store)?;
    let Some(text) = fetch(base_url, &current)? else {
        return Ok(None);
    };
    let signed = SignedCatalogue::from_json(&text)?;
    let catalogue = verify_signed_catalogue(&signed, trust)?;
    if !is_newer_version(catalogue.version(), &current) {
        return Ok(None);
    }
    store.set_setting(CATALOGUE_SETTING, &signed.catalogue)?;
    Ok(Some(catalogue.version().to_string()))
}

/// The version this laptop uses now: the stored catalogue's when it still parses and is newer
/// than the embedded one (an app update may embed a newer one), else the embedded one's.
fn current_version(store: &VillageStore) -> Result<String, SyncError> {
    let embedded = loket_catalogue::catalogue().version().to_string();
    let stored = store
        .setting(CATALOGUE_SETTING)?
        .and_then(|json| parse_catalogue(&json).ok())
        .map(|c| c.version().to_string());
    Ok(match stored {
        Some(stored) if is_newer_version(&stored, &embedded) => stored,
        _ => embedded,
    })
}

/// GETs the signed catalogue's JSON text through `SyncClient` (same timeouts and error
/// mapping; the route is public, so no device key is needed); `None` when the server says the
/// laptop's version `have` is current (204, no body).
fn fetch(base_url: &str, have: &str) -> Result<Option<String>, SyncError> {
    let client = crate::SyncClient::new(base_url)?;
    let resp = client.send(
        client
            .request(reqwest::Method::GET, "/api/v1/catalogue")
            .query(&[("have", have)]),
    )?;
    if resp.status() == reqwest::StatusCode::NO_CONTENT {
        return Ok(None);
    }
    resp.text()
        .map(Some)
        .map_err(|e| SyncError::Unreachable(e.to_string()))
}
