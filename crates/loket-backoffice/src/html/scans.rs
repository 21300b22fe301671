//! Scan pages on the reviewers' pages: each provided document with its pages as thumbnails
//! (linking to the full page) once the back office holds them whole and hash-checked, or
//! "belum terunggah" while the village laptop is still uploading them.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use loket_domain::{Lang, ProvidedDocument};
use std::collections::HashSet;

use super::{esc, internal};
use crate::store::is_blob_name;
use crate::AppState;

/// The "Persyaratan diserahkan" cell: one line per document, pages as thumbnails or marked
/// not yet uploaded.
pub(super) fn documents_html(state: &AppState, provided: &[ProvidedDocument]) -> String {
    if provided.is_empty() {
        return "—".to_string();
    }
    let shas: Vec<String> = provided
        .iter()
        .flat_map(|p| p.pages.iter().map(|s| s.sha256.clone()))
        .collect();
    let complete: HashSet<String> = match state.store.lock().map(|s| s.blob_statuses(&shas)) {
        Ok(Ok(statuses)) => statuses
            .into_iter()
            .filter(|s| s.complete)
            .map(|s| s.sha256)
            .collect(),
        // The page still shows the application; the scans just look not uploaded.
        Ok(Err(e)) => {
            tracing::error!("blob statuses: {e}");
            HashSet::new()
        }
        Err(e) => {
            tracing::error!("blob statuses: {e}");
            HashSet::new()
        }
    };
    let cat = loket_catalogue::catalogue();
    let mut out = String::from("<ul class=\"docs\">");
    for p in provided {
        let label = cat.slot_label(&p.slot, Lang::Id);
        if p.pages.is_empty() {
            out.push_str(&format!("<li>{} (diperiksa petugas)</li>", esc(&label)));
            continue;
        }
        let kb: u64 = p.pages.iter().map(|s| s.size.div_ceil(1024)).sum();
        out.push_str(&format!(
            "<li>{} (pindaian {} hlm, {kb} KB)<div class=\"pages\">",
            esc(&label),
            p.pages.len()
        ));
        for (n, page) in p.pages.iter().enumerate() {
            let sha = esc(&page.sha256);
            if complete.contains(&page.sha256) {
                out.push_str(&format!(
                    "<a class=\"scan\" data-sha256=\"{sha}\" href=\"/review/scans/{sha}\" target=\"_blank\">\
                     <img src=\"/review/scans/{sha}\" alt=\"{alt} halaman {no}\" loading=\"lazy\"></a>",
                    alt = esc(&label),
                    no = n + 1,
                ));
            } else {
                out.push_str(&format!(
                    "<span class=\"scan-missing\" data-sha256=\"{sha}\">hlm {}: belum terunggah</span>",
                    n + 1
                ));
            }
        }
        out.push_str("</div></li>");
    }
    out.push_str("</ul>");
    out
}

/// `GET /review/scans/{sha256}`: a scan page the back office holds whole, for reviewers. Only
/// JPEG and PNG bytes are served as images; anything else is a download, never rendered.
pub(super) async fn scan(State(state): State<AppState>, Path(sha256): Path<String>) -> Response {
    let bytes = if is_blob_name(&sha256) {
        match state.store.lock().map(|s| s.blob_bytes(&sha256)) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return internal(&e.to_string()),
            Err(e) => return internal(&e.to_string()),
        }
    } else {
        None
    };
    let Some(bytes) = bytes else {
        return (
            StatusCode::NOT_FOUND,
            Html("<p>Pindaian ini belum terunggah ke Disdukcapil.</p>".to_string()),
        )
            .into_response();
    };
    let (media_type, disposition) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ("image/jpeg", "inline")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("image/png", "inline")
    } else {
        ("application/octet-stream", "attachment")
    };
    (
        [
            (header::CONTENT_TYPE, media_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Named by content, so it never changes; private because it is a resident's paper.
            (header::CACHE_CONTROL, "private, max-age=86400, immutable"),
        ],
        bytes,
    )
        .into_response()
}
