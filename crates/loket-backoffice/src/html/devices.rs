//! `/review/devices`: the village laptops the district enrolled, with a revoke button each, and
//! a form that issues a one-time enrollment code (shown once; only its hash is stored). The same
//! actions as `loket device code|list|revoke`.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use loket_sync::protocol::DeviceRef;
use serde::Deserialize;

use super::{esc, internal, page};
use crate::store::Revocation;
use crate::AppState;

/// The form fields naming one device.
#[derive(Deserialize)]
pub(super) struct DeviceForm {
    #[serde(default)]
    village: String,
    #[serde(default)]
    device: String,
}

impl DeviceForm {
    fn device(&self) -> Option<DeviceRef> {
        Some(DeviceRef {
            village_code: self.village.trim().to_string(),
            device_no: self.device.trim().parse().ok()?,
        })
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%d-%m-%Y %H:%M UTC").to_string()
}

fn village_name(code: &str) -> String {
    loket_domain::RegionCode::parse_village(code)
        .map(|v| v.name().to_string())
        .unwrap_or_default()
}

pub(super) async fn list(State(state): State<AppState>) -> Response {
    render(&state, None, StatusCode::OK)
}

pub(super) async fn new_code(
    State(state): State<AppState>,
    Form(form): Form<DeviceForm>,
) -> Response {
    let Some(device) = form.device() else {
        return render(
            &state,
            Some(("error", "nomor perangkat harus 1–999".into())),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let now = (state.clock)();
    let issued = match state.store.lock() {
        Ok(mut s) => s.issue_enrollment_code(&device, now, &mut rand::rngs::OsRng),
        Err(e) => return internal(&e.to_string()),
    };
    match issued {
        Ok(issued) => {
            tracing::info!(device = %device.to_header(), "enrollment code issued on the reviewer page");
            let banner = format!(
                "Kode pendaftaran untuk perangkat {} ({}): <strong id=\"new-code\" class=\"code\">{}</strong> — \
                 sekali pakai, berlaku sampai {}. Sampaikan kepada operator desa; kode ini tidak \
                 ditampilkan lagi.",
                esc(&device.to_header()),
                esc(&village_name(&device.village_code)),
                esc(&issued.code),
                esc(&when(issued.expires_at)),
            );
            render_html(&state, Some(("ok", banner)), StatusCode::OK)
        }
        Err(crate::store::DeviceError::Sqlite(e)) => internal(&e.to_string()),
        Err(e) => render(
            &state,
            Some(("error", e.to_string())),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Form(form): Form<DeviceForm>,
) -> Response {
    let Some(device) = form.device() else {
        return render(
            &state,
            Some(("error", "perangkat tidak dikenal".into())),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let now = (state.clock)();
    let outcome = match state.store.lock() {
        Ok(mut s) => s.revoke_device(&device, now),
        Err(e) => return internal(&e.to_string()),
    };
    let who = device.to_header();
    match outcome {
        Ok(Revocation::Revoked) => {
            tracing::warn!(device = %who, "device revoked on the reviewer page");
            render(
                &state,
                Some((
                    "ok",
                    format!("Perangkat {who} dicabut; permintaan sinkronisasinya ditolak mulai sekarang."),
                )),
                StatusCode::OK,
            )
        }
        Ok(Revocation::AlreadyRevoked) => render(
            &state,
            Some(("ok", format!("Perangkat {who} sudah dicabut sebelumnya."))),
            StatusCode::OK,
        ),
        Ok(Revocation::NotEnrolled) => render(
            &state,
            Some(("error", format!("Perangkat {who} belum pernah terdaftar."))),
            StatusCode::NOT_FOUND,
        ),
        Err(crate::store::DeviceError::Sqlite(e)) => internal(&e.to_string()),
        Err(e) => render(
            &state,
            Some(("error", e.to_string())),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

/// The page with a plain-text banner.
fn render(state: &AppState, banner: Option<(&str, String)>, code: StatusCode) -> Response {
    render_html(state, banner.map(|(c, text)| (c, esc(&text))), code)
}

/// The page with a banner that is already HTML.
fn render_html(state: &AppState, banner: Option<(&str, String)>, code: StatusCode) -> Response {
    let now = (state.clock)();
    let (devices, pending) = match state
        .store
        .lock()
        .map(|s| (s.devices(), s.pending_codes(now)))
    {
        Ok((Ok(d), Ok(p))) => (d, p),
        Ok((Err(e), _)) | Ok((_, Err(e))) => return internal(&e.to_string()),
        Err(e) => return internal(&e.to_string()),
    };
    let mut rows = String::new();
    for d in &devices {
        let header = d.device.to_header();
        let (status, action) = match d.revoked_at {
            Some(t) => (
                format!(
                    "<span class=\"status\" data-status=\"rejected\">Dicabut {}</span>",
                    esc(&when(t))
                ),
                String::new(),
            ),
            None => (
                "<span class=\"status\" data-status=\"issued\">Aktif</span>".to_string(),
                format!(
                    "<form method=\"post\" action=\"/review/devices/revoke\">\
                     <input type=\"hidden\" name=\"village\" value=\"{v}\">\
                     <input type=\"hidden\" name=\"device\" value=\"{n}\">\
                     <button class=\"reject btn-revoke\" type=\"submit\">Cabut</button></form>",
                    v = esc(&d.device.village_code),
                    n = d.device.device_no,
                ),
            ),
        };
        rows.push_str(&format!(
            "<tr data-device=\"{h}\" data-state=\"{state}\"><td>{h}</td><td>{village}</td><td>{status}</td>\
             <td>{enrolled}</td><td>{seen}</td><td class=\"muted\">{key}…</td><td>{action}</td></tr>",
            h = esc(&header),
            state = if d.revoked_at.is_some() { "revoked" } else { "active" },
            village = esc(&village_name(&d.device.village_code)),
            enrolled = esc(&when(d.enrolled_at)),
            seen = esc(&d.last_seen_at.map(when).unwrap_or_else(|| "—".into())),
            key = esc(d.public_key.get(..16).unwrap_or(&d.public_key)),
        ));
    }
    if devices.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"7\" class=\"muted\">Belum ada perangkat terdaftar.</td></tr>",
        );
    }
    let pending_list: String = if pending.is_empty() {
        "<p class=\"muted\">Tidak ada kode yang menunggu dipakai.</p>".into()
    } else {
        let items: String = pending
            .iter()
            .map(|c| {
                format!(
                    "<li>{} ({}) — dibuat {}, berlaku sampai {}</li>",
                    esc(&c.device.to_header()),
                    esc(&village_name(&c.device.village_code)),
                    esc(&when(c.issued_at)),
                    esc(&when(c.expires_at)),
                )
            })
            .collect();
        format!("<ul class=\"docs\" id=\"pending-codes\">{items}</ul>")
    };
    let banner = banner
        .map(|(class, html)| format!("<div class=\"banner {class}\" id=\"banner\">{html}</div>"))
        .unwrap_or_default();
    let body = format!(
        "<p><a href=\"/review\">← Kembali ke antrian</a></p>{banner}\
         <div class=\"card\"><h2>Kode pendaftaran baru</h2>\
         <p class=\"muted\">Laptop desa mendaftar sekali dengan kode ini (Pengaturan → Pendaftaran perangkat). \
         Kode berlaku 72 jam dan hanya sekali pakai; kode lama untuk perangkat yang sama tidak berlaku lagi.</p>\
         <form method=\"post\" action=\"/review/devices/code\" class=\"actions\">\
         <label>Kode desa/kelurahan <input id=\"code-village\" name=\"village\" inputmode=\"numeric\" pattern=\"[0-9]{{10}}\" maxlength=\"10\" required></label>\
         <label>Nomor perangkat <input id=\"code-device\" name=\"device\" type=\"number\" min=\"1\" max=\"999\" value=\"1\" required></label>\
         <button id=\"btn-new-code\" class=\"approve\" type=\"submit\">Buat kode</button></form></div>\
         <div class=\"card\"><h2>Perangkat terdaftar</h2><table id=\"devices\"><thead><tr><th>Perangkat</th>\
         <th>Desa/Kelurahan</th><th>Status</th><th>Terdaftar</th><th>Terakhir terlihat</th><th>Kunci</th><th></th>\
         </tr></thead><tbody>{rows}</tbody></table></div>\
         <div class=\"card\"><h2>Kode belum dipakai</h2>{pending_list}</div>",
    );
    (
        code,
        Html(page("Perangkat desa", &state.key.district_name, &body)),
    )
        .into_response()
}
