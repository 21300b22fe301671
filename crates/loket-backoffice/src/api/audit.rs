//! `/api/v1/audit`: village laptops push their hash-chained audit log here, and auditors ask
//! the server to re-verify the copy it holds. Thin: the checks live in `store/audit.rs`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use loket_sync::protocol::{AuditAck, AuditBatch, AuditVerifyResponse, DeviceRef, MAX_AUDIT_BATCH};
use serde::Deserialize;

use super::Failure;
use crate::auth::AuthenticatedDevice;
use crate::store::AuditError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", post(push))
        .route("/api/v1/audit/verify", get(verify))
}

async fn push(
    State(state): State<AppState>,
    signed_by: AuthenticatedDevice,
    body: Result<Json<AuditBatch>, JsonRejection>,
) -> Result<Json<AuditAck>, Failure> {
    let Json(batch) = body.map_err(bad_body)?;
    signed_by.require(&batch.device)?;
    if batch.entries.len() > MAX_AUDIT_BATCH {
        return Err(Failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many",
            format!("paling banyak {MAX_AUDIT_BATCH} entri audit per permintaan"),
        ));
    }
    known_village(&batch.device.village_code)?;
    let now = (state.clock)();
    let ack = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .receive_audit(&batch.device, &batch.entries, now)
        .map_err(|e| refused(&batch.device, e))?;
    Ok(Json(ack))
}

#[derive(Deserialize)]
struct DeviceQuery {
    village_code: String,
    device_no: u16,
}

async fn verify(
    State(state): State<AppState>,
    signed_by: AuthenticatedDevice,
    query: Result<Query<DeviceQuery>, QueryRejection>,
) -> Result<Json<AuditVerifyResponse>, Failure> {
    let Query(q) =
        query.map_err(|rej| Failure(StatusCode::BAD_REQUEST, "bad_request", rej.body_text()))?;
    known_village(&q.village_code)?;
    let device = DeviceRef {
        village_code: q.village_code,
        device_no: q.device_no,
    };
    signed_by.require(&device)?;
    let check = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .verify_audit_trail(&device)
        .map_err(Failure::internal)?;
    let message = match (check.entries, check.first_broken_seq) {
        (0, _) => "belum ada catatan audit dari perangkat ini".to_string(),
        (n, None) => format!("rantai catatan audit utuh: {n} entri"),
        (n, Some(seq)) => {
            format!("rantai catatan audit rusak mulai entri {seq} (dari {n} entri tersimpan)")
        }
    };
    Ok(Json(AuditVerifyResponse {
        entries: check.entries,
        first_broken_seq: check.first_broken_seq,
        message,
    }))
}

fn bad_body(rej: JsonRejection) -> Failure {
    let status = rej.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Failure(
            status,
            "too_large",
            format!(
                "permintaan terlalu besar (maksimum {} byte)",
                crate::MAX_BODY_BYTES
            ),
        );
    }
    Failure(
        status,
        "bad_request",
        format!("isi permintaan tidak valid: {}", rej.body_text()),
    )
}

fn known_village(code: &str) -> Result<(), Failure> {
    loket_domain::RegionCode::parse_village(code)
        .map(|_| ())
        .map_err(|_| {
            Failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_village",
                format!("kode desa {code} tidak dikenal"),
            )
        })
}

/// A refused batch is logged with the device, since it may mean the village log was edited.
fn refused(device: &DeviceRef, e: AuditError) -> Failure {
    let (status, code) = match &e {
        AuditError::Sqlite(_) => return Failure::internal(e),
        AuditError::Conflict { .. } => (StatusCode::CONFLICT, "audit_conflict"),
        AuditError::Gap { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "audit_gap"),
        AuditError::BrokenLink { .. } | AuditError::HashMismatch { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "audit_chain_broken")
        }
    };
    tracing::warn!(
        village_code = %device.village_code,
        device_no = device.device_no,
        "audit batch refused: {e}"
    );
    Failure(status, code, e.to_string())
}
