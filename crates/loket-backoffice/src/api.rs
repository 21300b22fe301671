//! `/api/v1`: the JSON API village laptops sync with. Thin: parse, call the store, answer.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use loket_sync::protocol::{
    ApiError, DeviceRef, SubmitBatch, SubmitResponse, UpdatesResponse, MAX_BATCH,
};
use serde::Deserialize;

use crate::auth::AuthenticatedDevice;
use crate::AppState;

mod audit;
mod blobs;
mod devices;

/// Page size of the change feed.
const UPDATES_PAGE: usize = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/trust", get(trust))
        .route("/api/v1/catalogue", get(catalogue))
        .route("/api/v1/applications", post(submit))
        .route("/api/v1/updates", get(updates))
        .route("/api/v1/documents/{doc_number}/pdf", get(document_pdf))
        .merge(audit::routes())
        .merge(blobs::routes())
        .merge(devices::routes())
}

/// An API error: a status and a JSON body with a stable code and a message in Indonesian.
pub(crate) struct Failure(
    pub(crate) StatusCode,
    pub(crate) &'static str,
    pub(crate) String,
);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = ApiError {
            code: self.1.to_string(),
            message: self.2,
        };
        (self.0, Json(body)).into_response()
    }
}

impl Failure {
    pub(crate) fn internal(e: impl std::fmt::Display) -> Failure {
        // Details go to the log, never to the client.
        tracing::error!("internal error: {e}");
        Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "terjadi kesalahan di server; coba lagi nanti".into(),
        )
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn trust(State(state): State<AppState>) -> impl IntoResponse {
    let list = loket_qr::TrustList::new(vec![state.key.trusted_key()]);
    ([(header::CONTENT_TYPE, "application/json")], list.to_json())
}

/// Where the district's published catalogue file is; set by `router_with_data_dir`.
#[derive(Clone)]
pub(crate) struct PublishedCatalogue(pub(crate) std::path::PathBuf);

/// The current catalogue, signed with the district key: the published file when its version is
/// newer than the embedded one (a build upgrade may embed a newer one), else the embedded one.
/// Read and signed per request: the file is small and may be republished at any time.
/// `?have=VERSION`: the version the laptop already uses.
#[derive(Deserialize)]
struct CatalogueQuery {
    have: Option<String>,
}

async fn catalogue(
    State(state): State<AppState>,
    published: Option<axum::Extension<PublishedCatalogue>>,
    Query(query): Query<CatalogueQuery>,
) -> Result<Response, Failure> {
    let embedded = loket_catalogue::EMBEDDED_CATALOGUE_JSON;
    let mut json = std::borrow::Cow::Borrowed(embedded);
    if let Some(axum::Extension(PublishedCatalogue(path))) = published {
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => {
                let version = loket_catalogue::parse_catalogue(&text)
                    .map(|c| c.version().to_string())
                    .map_err(|e| invalid_published(&path, e))?;
                if loket_catalogue::is_newer_version(
                    &version,
                    loket_catalogue::catalogue().version(),
                ) {
                    json = std::borrow::Cow::Owned(text);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::internal(format!("{}: {e}", path.display()))),
        }
    }
    // A laptop that already has this version gets no body: on a 2G link the 57 KB catalogue
    // would cost a second or more on every sync pass.
    if let Some(have) = query.have.as_deref() {
        let served = loket_catalogue::parse_catalogue(&json)
            .map(|c| c.version().to_string())
            .map_err(|e| invalid_published(std::path::Path::new("(catalogue)"), e))?;
        if loket_catalogue::parse_version(have).is_some()
            && !loket_catalogue::is_newer_version(&served, have)
        {
            return Ok((
                StatusCode::NO_CONTENT,
                [(
                    header::HeaderName::from_static("x-loket-catalogue-version"),
                    served,
                )],
            )
                .into_response());
        }
    }
    let signed = loket_catalogue::sign_catalogue(&json, &state.key.signing_key)
        .map_err(|e| invalid_published(std::path::Path::new("(catalogue)"), e))?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        signed.to_json(),
    )
        .into_response())
}

fn invalid_published(path: &std::path::Path, e: loket_catalogue::CatalogueError) -> Failure {
    // `loket catalogue publish` refuses invalid files, so this is a hand edit or a newer schema.
    tracing::error!("published catalogue {} is invalid: {e}", path.display());
    Failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "catalogue_invalid",
        "katalog layanan yang diterbitkan Disdukcapil tidak valid; hubungi admin kabupaten".into(),
    )
}

async fn submit(
    State(state): State<AppState>,
    signed_by: AuthenticatedDevice,
    body: Result<Json<SubmitBatch>, JsonRejection>,
) -> Result<Json<SubmitResponse>, Failure> {
    let Json(batch) = body.map_err(|rej| {
        let status = rej.status();
        let (code, message) = if status == StatusCode::PAYLOAD_TOO_LARGE {
            (
                "too_large",
                format!(
                    "permintaan terlalu besar (maksimum {} byte)",
                    crate::MAX_BODY_BYTES
                ),
            )
        } else {
            (
                "bad_request",
                format!("isi permintaan tidak valid: {}", rej.body_text()),
            )
        };
        Failure(status, code, message)
    })?;
    signed_by.require(&batch.device)?;
    if batch.applications.len() > MAX_BATCH {
        return Err(Failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many",
            format!("paling banyak {MAX_BATCH} permohonan per permintaan"),
        ));
    }
    if loket_domain::RegionCode::parse_village(&batch.device.village_code).is_err() {
        return Err(Failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_village",
            format!("kode desa {} tidak dikenal", batch.device.village_code),
        ));
    }
    let now = (state.clock)();
    let results = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .submit(&batch.device, &batch.applications, now)
        .map_err(Failure::internal)?;
    Ok(Json(SubmitResponse { results }))
}

#[derive(Deserialize)]
struct UpdatesQuery {
    village_code: String,
    device_no: u16,
    #[serde(default)]
    after: i64,
}

async fn updates(
    State(state): State<AppState>,
    signed_by: AuthenticatedDevice,
    query: Result<Query<UpdatesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UpdatesResponse>, Failure> {
    let Query(q) =
        query.map_err(|rej| Failure(StatusCode::BAD_REQUEST, "bad_request", rej.body_text()))?;
    let device = DeviceRef {
        village_code: q.village_code,
        device_no: q.device_no,
    };
    signed_by.require(&device)?;
    let updates = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .updates(&device, q.after, UPDATES_PAGE)
        .map_err(Failure::internal)?;
    let next_after = updates.last().map_or(q.after, |u| u.seq);
    Ok(Json(UpdatesResponse {
        updates,
        next_after,
    }))
}

/// A village downloads the PDF of a document issued for one of its own applications; any other
/// number answers 404 exactly like an unknown one, so nothing leaks about other villages.
async fn document_pdf(
    State(state): State<AppState>,
    signed_by: AuthenticatedDevice,
    Path(doc_number): Path<String>,
) -> Result<Response, Failure> {
    let doc_number = doc_number.trim_end_matches(".pdf").to_string();
    let pdf = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .document_pdf_for_device(&doc_number, &signed_by.0)
        .map_err(Failure::internal)?;
    pdf_response(doc_number, pdf)
}

/// A reviewer opens any issued document's PDF (`/documents/{n}.pdf` on the reviewer pages).
pub(crate) async fn reviewer_document_pdf(
    State(state): State<AppState>,
    Path(doc_number): Path<String>,
) -> Result<Response, Failure> {
    let doc_number = doc_number.trim_end_matches(".pdf").to_string();
    let pdf = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .document_pdf(&doc_number)
        .map_err(Failure::internal)?;
    pdf_response(doc_number, pdf)
}

fn pdf_response(doc_number: String, pdf: Option<Vec<u8>>) -> Result<Response, Failure> {
    let pdf = pdf.ok_or_else(|| {
        Failure(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("dokumen {doc_number} tidak ditemukan"),
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{doc_number}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
