//! Device authentication for `/api/v1/*`: a middleware checks every request's `X-Loket-Device`,
//! `X-Loket-Time` and `X-Loket-Signature` (wire format in `loket_sync::protocol`, signed bytes
//! built by the same `loket_sync::auth` code the laptop uses) before any handler runs, and the
//! [`AuthenticatedDevice`] extractor hands the verified device to the handlers, which check it
//! against the device their body or query names. Public paths (health, trust list, catalogue,
//! enrollment) pass unsigned.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use loket_sync::protocol::{
    DeviceRef, ERROR_BAD_SIGNATURE, ERROR_CLOCK_SKEW, ERROR_DEVICE_NOT_ENROLLED,
    ERROR_DEVICE_REVOKED, ERROR_WRONG_DEVICE, HEADER_DEVICE, HEADER_SERVER_TIME, HEADER_SIGNATURE,
    HEADER_TIME, MAX_CLOCK_SKEW_SECS,
};

use crate::api::Failure;
use crate::AppState;

/// `/api/v1` paths anyone may call: public data and the enrollment itself.
const PUBLIC_PATHS: &[&str] = &[
    "/api/v1/health",
    "/api/v1/trust",
    "/api/v1/catalogue",
    "/api/v1/devices/enroll",
];

/// The device that signed this request, put into the request by [`require_device`]; a handler
/// taking it can only be reached by an enrolled, unrevoked device with a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthenticatedDevice(pub(crate) DeviceRef);

impl AuthenticatedDevice {
    /// Refuses (403 `wrong_device`) a request whose body or query speaks for another device.
    pub(crate) fn require(&self, claimed: &DeviceRef) -> Result<(), Failure> {
        if &self.0 == claimed {
            return Ok(());
        }
        tracing::warn!(
            signed_by = %self.0.to_header(),
            claimed = %claimed.to_header(),
            "request for another device refused"
        );
        Err(Failure(
            StatusCode::FORBIDDEN,
            ERROR_WRONG_DEVICE,
            format!(
                "perangkat {} tidak boleh mengirim atau membaca data perangkat {}",
                self.0.to_header(),
                claimed.to_header()
            ),
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthenticatedDevice {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Absent only on a route the middleware does not cover: refuse rather than trust.
        parts
            .extensions
            .get::<AuthenticatedDevice>()
            .cloned()
            .ok_or_else(not_enrolled)
    }
}

fn not_enrolled() -> Failure {
    Failure(
        StatusCode::UNAUTHORIZED,
        ERROR_DEVICE_NOT_ENROLLED,
        "perangkat belum terdaftar di Disdukcapil; masukkan kode pendaftaran di Pengaturan".into(),
    )
}

fn bad_signature(why: &str) -> Failure {
    Failure(
        StatusCode::UNAUTHORIZED,
        ERROR_BAD_SIGNATURE,
        format!(
            "tanda tangan permintaan tidak sah ({why}); bila perangkat ini sudah didaftarkan ulang \
             di laptop lain, minta kode pendaftaran baru ke Disdukcapil"
        ),
    )
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The middleware: lets public paths and everything outside `/api/v1/` through, and admits any
/// other request only when it is signed by an enrolled, unrevoked device within the allowed
/// clock difference. The checks run in this order, so each answer names the first thing to fix:
/// device known (401 `device_not_enrolled`), not revoked (403 `device_revoked`), time
/// (401 `clock_skew` + `X-Loket-Server-Time`), body size (413), signature (401 `bad_signature`).
pub(crate) async fn require_device(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") || PUBLIC_PATHS.contains(&path) {
        return next.run(req).await;
    }
    match authenticate(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(resp) => resp,
    }
}

async fn authenticate(state: &AppState, req: Request) -> Result<Request, Response> {
    let device = header(&req, HEADER_DEVICE)
        .and_then(DeviceRef::parse_header)
        .ok_or_else(|| not_enrolled().into_response())?;
    let (Some(time), Some(signature)) = (
        header(&req, HEADER_TIME).map(str::to_string),
        header(&req, HEADER_SIGNATURE).map(str::to_string),
    ) else {
        return Err(not_enrolled().into_response());
    };
    let known = state
        .store
        .lock()
        .map_err(|e| Failure::internal(e).into_response())?
        .device_auth(&device)
        .map_err(|e| Failure::internal(e).into_response())?
        .ok_or_else(|| not_enrolled().into_response())?;
    if known.revoked_at.is_some() {
        tracing::warn!(device = %device.to_header(), "request from a revoked device refused");
        return Err(Failure(
            StatusCode::FORBIDDEN,
            ERROR_DEVICE_REVOKED,
            "perangkat ini telah dicabut oleh Disdukcapil; hubungi admin untuk mendaftar ulang"
                .into(),
        )
        .into_response());
    }
    let now = (state.clock)();
    let signed_at = chrono::DateTime::parse_from_rfc3339(&time)
        .map_err(|_| bad_signature("waktu permintaan tidak terbaca").into_response())?;
    if (signed_at.to_utc() - now).num_seconds().abs() > MAX_CLOCK_SKEW_SECS {
        let server_time = loket_sync::auth::format_time(now);
        let mut resp = Failure(
            StatusCode::UNAUTHORIZED,
            ERROR_CLOCK_SKEW,
            format!(
                "jam perangkat berbeda lebih dari {} menit dari jam server Disdukcapil (waktu \
                 server: {server_time}); perbaiki tanggal, jam dan zona waktu laptop",
                MAX_CLOCK_SKEW_SECS / 60
            ),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&server_time) {
            resp.headers_mut().insert(HEADER_SERVER_TIME, value);
        }
        return Err(resp);
    }
    let method = req.method().as_str().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let (mut parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            Failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "permintaan terlalu besar (maksimum {} byte)",
                    crate::MAX_BODY_BYTES
                ),
            )
            .into_response()
        })?;
    if !loket_sync::auth::verify_request_signature(
        &known.public_key,
        &method,
        &path_and_query,
        &time,
        &body,
        &signature,
    ) {
        tracing::warn!(device = %device.to_header(), %path_and_query, "bad request signature");
        return Err(bad_signature("tidak cocok dengan kunci perangkat terdaftar").into_response());
    }
    // "Last seen" is bookkeeping: a failure to write it must not refuse a good request.
    if let Ok(store) = state.store.lock() {
        if let Err(e) = store.touch_device(&device, now) {
            tracing::warn!("could not record device last seen: {e}");
        }
    }
    parts.extensions.insert(AuthenticatedDevice(device));
    Ok(Request::from_parts(parts, Body::from(body)))
}
