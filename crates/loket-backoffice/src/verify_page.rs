//! `/verifikasi`: the public verification page. Anyone — a bank clerk, a school, the resident —
//! uploads a PDF or a photo of a printed document and reads the verdict, with no login. It uses
//! the same verifier as `loket verify` and the desktop app; the page is only a convenience, since
//! the QR verifies offline with the published trust list.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use loket_print::FileVerdict;

use crate::html::{esc, page_with_heading};
use crate::AppState;

/// Phone photos are larger than sync requests; the verifier accepts up to this much.
pub const MAX_UPLOAD_BYTES: usize = 12 * 1024 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(
        "/verifikasi",
        get(form)
            .post(check)
            .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
    )
}

const HEADING: &str = "Loket · Verifikasi Dokumen Kependudukan";

fn upload_form() -> String {
    "<div class=\"card\"><h2>Periksa keaslian dokumen</h2>\
     <p>Unggah PDF dokumen, atau foto/pindaian kertasnya (PNG atau JPEG). Pemeriksaan memakai kunci \
     publik Disdukcapil; tidak perlu masuk akun, dan berkas tidak disimpan.</p>\
     <form method=\"post\" action=\"/verifikasi\" enctype=\"multipart/form-data\">\
     <input id=\"verify-file\" type=\"file\" name=\"file\" accept=\"application/pdf,image/png,image/jpeg\" required> \
     <button id=\"btn-verify\" class=\"approve\" type=\"submit\">Periksa</button></form></div>"
        .to_string()
}

async fn form(State(state): State<AppState>) -> Html<String> {
    Html(page_with_heading(
        HEADING,
        "Verifikasi dokumen",
        &state.key.district_name,
        &upload_form(),
    ))
}

fn verdict_html(v: &FileVerdict) -> String {
    match v {
        FileVerdict::Valid {
            verified,
            printed_checked,
        } => {
            let c = &verified.claims;
            let rows = [
                ("Jenis dokumen", c.doc_type.label_id().to_string()),
                ("Nomor dokumen", c.doc_number.clone()),
                ("Nama", c.holder_name.clone()),
                ("NIK", c.nik.clone()),
                ("Tanggal lahir", loket_print::format_date_id(c.birth_date)),
                ("Tanggal terbit", loket_print::format_date_id(c.issued_on)),
                (
                    "Diterbitkan oleh",
                    format!("{} ({})", verified.key.district_name, c.district_code),
                ),
                ("ID kunci", verified.key.key_id.to_string()),
                ("Revisi", c.revision.to_string()),
            ];
            let dl: String = rows
                .iter()
                .map(|(k, v)| format!("<dt>{k}</dt><dd>{}</dd>", esc(v)))
                .collect();
            let compare = if *printed_checked {
                "Data tercetak pada PDF sudah dicocokkan dengan data bertanda tangan."
            } else {
                "Cocokkan data di atas dengan tulisan pada kertas."
            };
            format!(
                "<div class=\"card\" id=\"verify-result\" data-verdict=\"valid\">\
                 <div class=\"banner ok\"><strong>SAH — dokumen asli, tanda tangan cocok.</strong></div>\
                 <dl>{dl}</dl><p class=\"muted\">{compare}</p></div>"
            )
        }
        FileVerdict::Invalid { reason_id, .. } => format!(
            "<div class=\"card\" id=\"verify-result\" data-verdict=\"invalid\">\
             <div class=\"banner error\"><strong>TIDAK SAH — jangan terima dokumen ini.</strong></div>\
             <p>{}</p></div>",
            esc(reason_id)
        ),
        FileVerdict::Unreadable { reason_id, .. } => format!(
            "<div class=\"card\" id=\"verify-result\" data-verdict=\"unreadable\">\
             <div class=\"banner error\"><strong>Kode QR tidak terbaca.</strong></div>\
             <p>{}</p><p class=\"muted\">Coba foto yang lebih tajam dan lurus, atau unggah PDF-nya.</p></div>",
            esc(reason_id)
        ),
    }
}

async fn check(State(state): State<AppState>, mut multipart: Multipart) -> Response {
    let district = state.key.district_name.clone();
    let respond = |code: StatusCode, body: String| {
        (
            code,
            Html(page_with_heading(
                HEADING,
                "Hasil verifikasi",
                &district,
                &format!("{body}{}", upload_form()),
            )),
        )
            .into_response()
    };
    let mut bytes = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(b) => bytes = Some(b),
                Err(e) => return respond(e.status(), failure(&e.body_text())),
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => return respond(e.status(), failure(&e.body_text())),
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return respond(
            StatusCode::BAD_REQUEST,
            failure("Pilih berkas PDF, PNG atau JPEG terlebih dahulu."),
        );
    };
    let trust = loket_qr::TrustList::new(vec![state.key.trusted_key()]);
    // Rasterising and decoding take CPU time; keep them off the async workers.
    match tokio::task::spawn_blocking(move || loket_print::verify_file_bytes(&bytes, &trust)).await
    {
        Ok(verdict) => respond(StatusCode::OK, verdict_html(&verdict)),
        Err(e) => {
            tracing::error!("verifier task failed: {e}");
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                failure("Terjadi kesalahan di server. Coba lagi nanti."),
            )
        }
    }
}

fn failure(message: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"banner error\" id=\"verify-error\">{}</div></div>",
        esc(message)
    )
}
