//! Sync between a village laptop and the district back office.
//!
//! `protocol` holds the wire types both sides share; `client` is the village side, `audit`
//! its audit-log push and `auth` the device's enrollment and request signing. The back office
//! implements the same types in `loket-backoffice`. Every application carries a client-made
//! id, and the server is idempotent on it, so the client may resend freely.

pub mod audit;
pub mod auth;
pub mod blobs;
pub mod bundle;
mod catalogue;
pub mod client;
pub mod lanes;
pub mod planner;
pub mod protocol;

pub use blobs::{upload_pending_scans, UploadProgress, UploadReport};
pub use catalogue::{pull_catalogue, CATALOGUE_SETTING};
pub use client::{sync_once, SyncClient, SyncError, SyncReport};
pub use lanes::{sync_once_with_progress, sync_pass, LaneProgress, LaneReport, SyncEnv};
pub use planner::{Lane, LaneState, Trigger};
