//! `/api/v1/blobs`: resumable, hash-checked upload of scan pages from village laptops
//! (docs/SYNC.md, "Attachments"). Thin: the rules live in `store/blobs.rs`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use loket_sync::protocol::{
    BlobAnnounce, BlobConflict, BlobStatus, BlobStatusList, BlobStatusQuery, MAX_BLOB_STATUS_BATCH,
    MAX_CHUNK_BYTES,
};
use serde::Deserialize;

use super::Failure;
use crate::auth::AuthenticatedDevice;
use crate::store::{is_blob_name, BlobError};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/blobs", post(announce))
        .route("/api/v1/blobs/status", post(statuses))
        .route("/api/v1/blobs/{sha256}", get(status).put(chunk))
}

/// Only an enrolled device reaches these handlers (the `auth` middleware covers `/api/`); blobs
/// are content-addressed and shared, so the other routes need no device of their own.
async fn announce(
    State(state): State<AppState>,
    signed_by: AuthenticatedDevice,
    body: Result<Json<BlobAnnounce>, JsonRejection>,
) -> Result<Json<BlobStatus>, Response> {
    let Json(a) = body.map_err(|rej| bad_request(rej.status(), rej.body_text()))?;
    signed_by
        .require(&a.device)
        .map_err(IntoResponse::into_response)?;
    if loket_domain::RegionCode::parse_village(&a.device.village_code).is_err() {
        return Err(Failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_village",
            format!("kode desa {} tidak dikenal", a.device.village_code),
        )
        .into_response());
    }
    let now = (state.clock)();
    let status = state
        .store
        .lock()
        .map_err(|e| Failure::internal(e).into_response())?
        .announce_blob(&a.device, &a.sha256, a.size, now)
        .map_err(refused)?;
    Ok(Json(status))
}

async fn statuses(
    State(state): State<AppState>,
    body: Result<Json<BlobStatusQuery>, JsonRejection>,
) -> Result<Json<BlobStatusList>, Response> {
    let Json(q) = body.map_err(|rej| bad_request(rej.status(), rej.body_text()))?;
    if q.sha256s.len() > MAX_BLOB_STATUS_BATCH {
        return Err(Failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many",
            format!("paling banyak {MAX_BLOB_STATUS_BATCH} hash per permintaan"),
        )
        .into_response());
    }
    if let Some(bad) = q.sha256s.iter().find(|s| !is_blob_name(s)) {
        return Err(refused_hash(bad));
    }
    let blobs = state
        .store
        .lock()
        .map_err(|e| Failure::internal(e).into_response())?
        .blob_statuses(&q.sha256s)
        .map_err(|e| Failure::internal(e).into_response())?;
    Ok(Json(BlobStatusList { blobs }))
}

async fn status(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Json<BlobStatus>, Response> {
    if !is_blob_name(&sha256) {
        return Err(refused_hash(&sha256));
    }
    state
        .store
        .lock()
        .map_err(|e| Failure::internal(e).into_response())?
        .blob_status(&sha256)
        .map_err(|e| Failure::internal(e).into_response())?
        .map(Json)
        .ok_or_else(|| {
            Failure(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("berkas {sha256} belum diumumkan"),
            )
            .into_response()
        })
}

#[derive(Deserialize)]
struct ChunkQuery {
    offset: u64,
}

async fn chunk(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    query: Result<Query<ChunkQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BlobStatus>, Response> {
    let Query(q) = query.map_err(|rej| bad_request(rej.status(), rej.body_text()))?;
    let body = body.map_err(|rej| bad_request(rej.status(), rej.body_text()))?;
    if body.len() > MAX_CHUNK_BYTES {
        return Err(too_large(MAX_CHUNK_BYTES));
    }
    let now = (state.clock)();
    let status = state
        .store
        .lock()
        .map_err(|e| Failure::internal(e).into_response())?
        .append_blob_chunk(&sha256, q.offset, &body, now)
        .map_err(refused)?;
    Ok(Json(status))
}

fn too_large(limit: usize) -> Response {
    Failure(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("permintaan terlalu besar (maksimum {limit} byte)"),
    )
    .into_response()
}

fn bad_request(status: StatusCode, detail: String) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(crate::MAX_BODY_BYTES);
    }
    Failure(
        status,
        "bad_request",
        format!("isi permintaan tidak valid: {detail}"),
    )
    .into_response()
}

fn refused_hash(s: &str) -> Response {
    Failure(
        StatusCode::BAD_REQUEST,
        "bad_hash",
        format!(
            "{:.80} bukan SHA-256 (64 digit heksadesimal huruf kecil)",
            s
        ),
    )
    .into_response()
}

/// Conflicts carry what the server holds ([`BlobConflict`]) so the client resumes without asking.
fn refused(e: BlobError) -> Response {
    let message = e.to_string();
    let (status, code) = match e {
        BlobError::Sqlite(_) => return Failure::internal(e).into_response(),
        BlobError::OffsetMismatch { held, .. } => {
            return conflict("offset_mismatch", message, held)
        }
        BlobError::SizeConflict { held, .. } => return conflict("size_conflict", message, held),
        BlobError::BadHash => (StatusCode::BAD_REQUEST, "bad_hash"),
        BlobError::BadSize { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "bad_size"),
        BlobError::BadChunk { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "bad_chunk"),
        BlobError::NotAnnounced => (StatusCode::NOT_FOUND, "not_announced"),
        BlobError::HashMismatch => {
            tracing::warn!("blob upload discarded: {message}");
            (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch")
        }
    };
    Failure(status, code, message).into_response()
}

fn conflict(code: &str, message: String, blob: BlobStatus) -> Response {
    let body = BlobConflict {
        code: code.to_string(),
        message,
        blob,
    };
    (StatusCode::CONFLICT, Json(body)).into_response()
}
