//! Sync between a village laptop and the district back office.
//!
//! `protocol` holds the wire types both sides share; `client` is the village side, and `audit`
//! its audit-log push. The back office implements the same types in `loket-backoffice`. Every
//! application carries a client-made id, and the server is idempotent on it, so the client may
//! resend freely.

pub mod audit;
mod catalogue;
pub mod client;
pub mod protocol;

pub use catalogue::{pull_catalogue, CATALOGUE_SETTING};
pub use client::{sync_once, SyncClient, SyncError, SyncReport};
