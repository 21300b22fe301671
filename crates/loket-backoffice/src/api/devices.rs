//! `/api/v1/devices/enroll`: a village laptop trades a one-time code from the district for an
//! enrolled device identity (its own Ed25519 public key). The only unsigned write of the API;
//! the rules live in `store/devices.rs`.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use loket_sync::protocol::{DeviceRef, EnrollRequest, EnrollResponse};

use super::Failure;
use crate::store::EnrollError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/devices/enroll", post(enroll))
}

async fn enroll(
    State(state): State<AppState>,
    body: Result<Json<EnrollRequest>, JsonRejection>,
) -> Result<Json<EnrollResponse>, Failure> {
    let Json(req) = body.map_err(|rej| {
        Failure(
            rej.status(),
            "bad_request",
            format!("isi permintaan tidak valid: {}", rej.body_text()),
        )
    })?;
    let device = DeviceRef {
        village_code: req.village_code,
        device_no: req.device_no,
    };
    let now = (state.clock)();
    let enrolled = state
        .store
        .lock()
        .map_err(Failure::internal)?
        .enroll_device(&req.code, &device, &req.public_key, now)
        .map_err(|e| refused(&device, e))?;
    tracing::info!(
        device = %device.to_header(),
        replaced_key = enrolled.replaced_key,
        "device enrolled"
    );
    let message = format!(
        "perangkat {} terdaftar di Disdukcapil{}",
        device.to_header(),
        if enrolled.replaced_key {
            " (kunci lama diganti)"
        } else {
            ""
        }
    );
    Ok(Json(EnrollResponse {
        device,
        enrolled_at: enrolled.enrolled_at,
        replaced_key: enrolled.replaced_key,
        message,
    }))
}

fn refused(device: &DeviceRef, e: EnrollError) -> Failure {
    let (status, code) = match &e {
        EnrollError::Sqlite(_) => return Failure::internal(e),
        EnrollError::UnknownVillage(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_village"),
        EnrollError::BadPublicKey => (StatusCode::UNPROCESSABLE_ENTITY, "bad_public_key"),
        EnrollError::CodeInvalid => (StatusCode::FORBIDDEN, "enrollment_code_invalid"),
        EnrollError::CodeUsed => (StatusCode::FORBIDDEN, "enrollment_code_used"),
        EnrollError::CodeCancelled => (StatusCode::FORBIDDEN, "enrollment_code_cancelled"),
        EnrollError::CodeExpired => (StatusCode::FORBIDDEN, "enrollment_code_expired"),
    };
    tracing::warn!(device = %device.to_header(), "enrollment refused: {e}");
    Failure(status, code, e.to_string())
}
