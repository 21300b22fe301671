//! The district back office (Disdukcapil): an axum server that receives applications from
//! village laptops, shows them to reviewers, and issues signed documents.
//!
//! API boundary: `/api/v1/*` speaks the wire types of `loket_sync::protocol` (JSON) to village
//! laptops; `/review/*` is server-rendered HTML for reviewers; `/verifikasi` is the public
//! verification page (no login). Handlers are thin: every decision
//! lives in [`store::BackofficeStore`], whose writes are single transactions. Every `/api/v1`
//! request except the public ones is signed by an enrolled device (`auth.rs`).

mod api;
mod auth;
mod html;
mod keys;
pub mod store;
mod verify_page;

#[doc(hidden)]
pub mod testing;

use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use loket_qr::IssuingKey;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub use keys::{load_or_create_district_key, DistrictKeyFile};
pub use store::{BackofficeStore, DecisionError, ImportError, ImportReport};

/// Largest request body accepted, so a broken or hostile client cannot exhaust memory.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Where "now" comes from; injected so tests and demos are reproducible.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock, for production.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store; SQLite allows one writer, so a mutex serialises access.
    pub store: Arc<Mutex<BackofficeStore>>,
    /// The district's issuing key.
    pub key: Arc<IssuingKey>,
    /// Name and title printed in the signature block.
    pub signer: Arc<(String, String)>,
    /// Injected clock.
    pub clock: Clock,
}

/// File in the data directory holding the catalogue the district published
/// (`loket catalogue publish`); `/api/v1/catalogue` serves it signed.
pub const PUBLISHED_CATALOGUE_FILE: &str = "catalogue.json";

/// The whole HTTP surface; without a data directory `/api/v1/catalogue` serves the embedded
/// catalogue.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(html::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Merged after the global limit, so its own larger limit for photos applies.
        .merge(verify_page::routes())
        // Keep last, so it wraps every route above: any `/api/` path that is not public needs
        // a device signature, including routes added later.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_device,
        ))
        .with_state(state)
}

/// The whole HTTP surface, serving the catalogue the district published in `data_dir`
/// (`PUBLISHED_CATALOGUE_FILE`, read per request) and the embedded one until it publishes one.
pub fn router_with_data_dir(state: AppState, data_dir: &Path) -> Router {
    router(state).layer(Extension(api::PublishedCatalogue(
        data_dir.join(PUBLISHED_CATALOGUE_FILE),
    )))
}

/// Serves until the process is stopped (embedded catalogue; see `serve_with_data_dir`).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> anyhow::Result<()> {
    serve_router(listener, router(state)).await
}

/// Serves until the process is stopped, with the catalogue the district published in `data_dir`.
/// The path is only borrowed while building the router, so the future can be spawned.
pub fn serve_with_data_dir(
    listener: tokio::net::TcpListener,
    state: AppState,
    data_dir: &Path,
) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static {
    serve_router(listener, router_with_data_dir(state, data_dir))
}

async fn serve_router(listener: tokio::net::TcpListener, router: Router) -> anyhow::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
