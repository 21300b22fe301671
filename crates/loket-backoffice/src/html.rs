//! `/review`: the reviewers' pages, server-rendered HTML in Bahasa Indonesia. Plain forms, no
//! JavaScript, so they work in any browser on a district office PC.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use loket_domain::{check_nik, ApplicationStatus, Lang, Severity};
use loket_print::format_date_id;
use serde::Deserialize;
use uuid::Uuid;

use crate::store::{DecisionError, ReceivedApplication};
use crate::AppState;

mod devices;
mod scans;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/review") }))
        .route("/review", get(queue))
        .route("/review/applications/{id}", get(detail))
        .route("/review/applications/{id}/approve", post(approve))
        .route("/review/applications/{id}/reject", post(reject))
        .route(
            "/review/applications/{id}/return",
            post(return_for_correction),
        )
        .route("/review/scans/{sha256}", get(scans::scan))
        .route("/review/devices", get(devices::list))
        .route("/review/devices/code", post(devices::new_code))
        .route("/review/devices/revoke", post(devices::revoke))
        .route(
            "/documents/{doc_number}",
            get(crate::api::reviewer_document_pdf),
        )
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;font-family:"DejaVu Sans",system-ui,sans-serif;background:#f3f5f7;color:#1d2733}
header{background:#0b4f6c;color:#fff;padding:14px 28px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:20px;margin:0}header span{opacity:.85;font-size:14px}
main{max-width:1100px;margin:24px auto;padding:0 20px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:20px 24px;margin-bottom:20px}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:9px 10px;border-bottom:1px solid #e3e8ee;font-size:14px;vertical-align:top}
th{background:#eef2f5;font-weight:600}
.status{display:inline-block;padding:3px 10px;border-radius:12px;font-size:12px;font-weight:600}
.status[data-status=received]{background:#fff4d6;color:#7a5400}.status[data-status=issued]{background:#dcf5e3;color:#11632f}
.status[data-status=rejected]{background:#fde2e1;color:#8e1b16}.status[data-status=returned]{background:#e4e9fb;color:#2a3f8f}
a{color:#0b4f6c}.tabs a{margin-right:14px}.tabs a.on{font-weight:700;text-decoration:none;color:#1d2733}
dl{display:grid;grid-template-columns:200px 1fr;gap:8px 16px;margin:0}dt{color:#5b6773}dd{margin:0;font-weight:600}
.actions{display:flex;gap:24px;flex-wrap:wrap}.actions form{flex:1;min-width:280px}
button{font:inherit;padding:10px 18px;border-radius:6px;border:0;cursor:pointer}
.approve{background:#11632f;color:#fff}.reject{background:#b3261e;color:#fff}.return{background:#2a3f8f;color:#fff}
.revisions{margin:0;padding-left:18px}.revisions>li{margin-bottom:10px}.changes{margin:4px 0 0;padding-left:18px;font-size:13px}
textarea{width:100%;min-height:70px;font:inherit;padding:8px;border:1px solid #b9c3cc;border-radius:6px;margin-bottom:8px}
.banner{padding:12px 16px;border-radius:6px;margin-bottom:16px}.banner.error{background:#fde2e1;color:#8e1b16}.banner.ok{background:#dcf5e3;color:#11632f}
.warn{color:#7a5400;font-size:13px}.muted{color:#5b6773;font-size:13px}
.docs{margin:0;padding-left:18px}.docs li{margin-bottom:6px}.pages{display:flex;flex-wrap:wrap;gap:6px;margin-top:4px}
.scan img{height:120px;border:1px solid #b9c3cc;border-radius:3px}.scan-missing{font-size:12px;font-weight:400;color:#7a5400;background:#fff4d6;padding:2px 8px;border-radius:10px}
"#;

fn page(title: &str, district: &str, body: &str) -> String {
    page_with_heading(
        "Loket · Ruang Verifikasi Disdukcapil",
        title,
        district,
        body,
    )
}

/// A page with its own top-bar heading (the public pages are not the reviewers' room).
pub(crate) fn page_with_heading(heading: &str, title: &str, district: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} · Loket Disdukcapil</title><style>{STYLE}</style></head><body>\
         <header><h1>{heading}</h1><span>{d}</span></header><main>{body}</main></body></html>",
        heading = esc(heading),
        t = esc(title),
        d = esc(district),
    )
}

fn status_badge(status: ApplicationStatus) -> String {
    format!(
        "<span class=\"status\" data-status=\"{}\">{}</span>",
        status.code(),
        esc(status.label(Lang::Id))
    )
}

#[derive(Deserialize)]
struct QueueQuery {
    status: Option<String>,
}

async fn queue(
    State(state): State<AppState>,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, Response> {
    let filter = q.status.as_deref().and_then(ApplicationStatus::from_code);
    let apps = state
        .store
        .lock()
        .map_err(|e| internal(&e.to_string()))?
        .list(filter)
        .map_err(|e| internal(&e.to_string()))?;
    let tab = |code: Option<&str>, label: &str| {
        let on = q.status.as_deref() == code;
        let href = code.map_or("/review".to_string(), |c| format!("/review?status={c}"));
        format!(
            "<a href=\"{href}\" class=\"{}\">{label}</a>",
            if on { "on" } else { "" }
        )
    };
    let mut rows = String::new();
    for a in &apps {
        rows.push_str(&format!(
            "<tr data-id=\"{id}\" data-tracking=\"{t}\"><td><a class=\"open\" href=\"/review/applications/{id}\">{t}</a></td>\
             <td>{name}</td><td>{nik}</td><td>{service}</td><td>{village}</td><td>{received}</td><td>{badge}</td></tr>",
            id = a.id,
            t = esc(&a.tracking_number),
            name = esc(&a.data.full_name),
            nik = esc(a.data.nik.as_str()),
            service = esc(&loket_catalogue::catalogue().service_name(a.service.code(), Lang::Id)),
            village = esc(&village_label(a)),
            received = esc(&a.received_at.format("%d-%m-%Y %H:%M UTC").to_string()),
            badge = status_badge(a.status),
        ));
    }
    if apps.is_empty() {
        rows.push_str("<tr><td colspan=\"7\" class=\"muted\">Belum ada permohonan.</td></tr>");
    }
    let body = format!(
        "<div class=\"card\"><h2>Antrian permohonan</h2><p class=\"tabs\">{} {} {} {} {}</p>\
         <p class=\"muted\"><a id=\"link-devices\" href=\"/review/devices\">Perangkat desa terdaftar dan kode pendaftaran</a></p>\
         <table id=\"queue\"><thead><tr><th>Nomor registrasi</th><th>Nama</th><th>NIK</th><th>Layanan</th>\
         <th>Desa/Kelurahan</th><th>Diterima</th><th>Status</th></tr></thead><tbody>{rows}</tbody></table></div>",
        tab(None, "Semua"),
        tab(Some("received"), "Perlu diperiksa"),
        tab(Some("issued"), "Terbit"),
        tab(Some("rejected"), "Ditolak"),
        tab(Some("returned"), "Dikembalikan"),
    );
    Ok(Html(page("Antrian", &state.key.district_name, &body)))
}

fn village_label(a: &ReceivedApplication) -> String {
    let dotted = loket_domain::RegionCode::parse_village(&a.village_code)
        .map(|c| format!("{} ({})", c.name(), c.dotted()))
        .unwrap_or_else(|_| a.village_code.clone());
    format!("{dotted} · perangkat {}", a.device_no)
}

fn internal(detail: &str) -> Response {
    tracing::error!("internal error: {detail}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<p>Terjadi kesalahan di server. Coba lagi nanti.</p>".to_string()),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<p>Permohonan tidak ditemukan. <a href=\"/review\">Kembali ke antrian</a></p>"
                .to_string(),
        ),
    )
        .into_response()
}

async fn detail(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    render_detail(&state, &id, None, StatusCode::OK)
}

fn render_detail(
    state: &AppState,
    id: &str,
    banner: Option<(&str, String)>,
    code: StatusCode,
) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    let app = match state.store.lock().map(|s| s.get(id)) {
        Ok(Ok(Some(app))) => app,
        Ok(Ok(None)) => return not_found(),
        Ok(Err(e)) => return internal(&e.to_string()),
        Err(e) => return internal(&e.to_string()),
    };
    let today = (state.clock)().date_naive();
    let (_, findings) = check_nik(app.data.nik.as_str(), today);
    let notes: String = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| {
            format!(
                "<div class=\"warn\">⚠ {}</div>",
                esc(f.code.message(Lang::Id))
            )
        })
        .collect();
    let d = &app.data;
    let field = |label: &str, value: &str| format!("<dt>{label}</dt><dd>{}</dd>", esc(value));
    let mut dl = String::new();
    dl.push_str(&field("Nomor registrasi", &app.tracking_number));
    let cat = loket_catalogue::catalogue();
    dl.push_str(&field(
        "Layanan",
        &cat.service_name(app.service.code(), Lang::Id),
    ));
    dl.push_str(&format!(
        "<dt>NIK</dt><dd>{}{notes}</dd>",
        esc(d.nik.as_str())
    ));
    dl.push_str(&field("Nama lengkap", &d.full_name));
    dl.push_str(&field(
        "Tempat, tanggal lahir",
        &format!("{}, {}", d.birth_place, format_date_id(d.birth_date)),
    ));
    dl.push_str(&field("Jenis kelamin", d.sex.label(Lang::Id)));
    dl.push_str(&field("Alamat", &d.address));
    dl.push_str(&field(
        "Telepon",
        if d.phone.is_empty() { "—" } else { &d.phone },
    ));
    if let Some(service) = cat.service(app.service.code()) {
        for (label, value) in service.describe_fields(&app.fields, Lang::Id) {
            dl.push_str(&field(&label, &value));
        }
    }
    dl.push_str(&format!(
        "<dt>Persyaratan diserahkan</dt><dd id=\"documents\">{}</dd>",
        scans::documents_html(state, &app.provided)
    ));
    dl.push_str(&field("Katalog layanan", &app.catalogue_version));
    dl.push_str(&field("Desa/Kelurahan", &village_label(&app)));
    dl.push_str(&field("Operator desa", &app.operator));
    let captured = chrono::DateTime::parse_from_rfc3339(&app.captured_at)
        .map(|t| t.format("%d-%m-%Y %H:%M (UTC%:z)").to_string())
        .unwrap_or_else(|_| app.captured_at.clone());
    dl.push_str(&field("Direkam di desa", &captured));
    dl.push_str(&field(
        "Diterima Disdukcapil",
        &app.received_at.format("%d-%m-%Y %H:%M UTC").to_string(),
    ));
    let mut decision = String::new();
    match app.status {
        ApplicationStatus::Received | ApplicationStatus::Queued => {
            decision.push_str(&format!(
                "<div class=\"actions\">\
                 <form method=\"post\" action=\"/review/applications/{id}/approve\"><h3>Setujui</h3>\
                 <p class=\"muted\">Dokumen ditandatangani secara elektronik dengan kunci {kid} dan dikirim ke desa pada sinkronisasi berikutnya.</p>\
                 <button id=\"btn-approve\" class=\"approve\" type=\"submit\">Setujui dan terbitkan</button></form>\
                 <form method=\"post\" action=\"/review/applications/{id}/reject\"><h3>Tolak</h3>\
                 <label for=\"reason\">Alasan penolakan (dibaca oleh pemohon)</label>\
                 <textarea id=\"reason\" name=\"reason\" maxlength=\"500\" required></textarea>\
                 <button id=\"btn-reject\" class=\"reject\" type=\"submit\">Tolak permohonan</button></form>\
                 <form method=\"post\" action=\"/review/applications/{id}/return\"><h3>Kembalikan untuk perbaikan</h3>\
                 <label for=\"return-reason\">Apa yang harus diperbaiki desa (dibaca operator desa)</label>\
                 <textarea id=\"return-reason\" name=\"reason\" maxlength=\"500\" required></textarea>\
                 <button id=\"btn-return\" class=\"return\" type=\"submit\">Kembalikan untuk perbaikan</button></form></div>",
                kid = state.key.key_id(),
            ));
        }
        ApplicationStatus::Rejected => decision.push_str(&format!(
            "<p>Alasan penolakan: <strong id=\"reject-reason\">{}</strong></p>",
            esc(app.reason.as_deref().unwrap_or(""))
        )),
        ApplicationStatus::Returned => decision.push_str(&format!(
            "<p>Dikembalikan ke desa untuk perbaikan: <strong id=\"returned-reason\">{}</strong></p>\
             <p class=\"muted\">Menunggu revisi {} dari desa; permohonan kembali ke antrian saat revisi diterima.</p>",
            esc(app.reason.as_deref().unwrap_or("")),
            app.revision + 1
        )),
        ApplicationStatus::Issued => {
            let n = app.doc_number.clone().unwrap_or_default();
            decision.push_str(&format!(
                "<p>Dokumen <strong>{n}</strong> telah terbit. <a id=\"doc-link\" href=\"/documents/{n}.pdf\">Unduh PDF bertanda tangan</a></p>",
                n = esc(&n)
            ));
        }
    }
    let banner = banner
        .map(|(class, msg)| {
            format!(
                "<div class=\"banner {class}\" id=\"banner\">{}</div>",
                esc(&msg)
            )
        })
        .unwrap_or_default();
    let revision = if app.revision > 0 {
        format!(
            " <span id=\"revision\" class=\"muted\" data-revision=\"{n}\">Revisi {n}</span>",
            n = app.revision
        )
    } else {
        String::new()
    };
    let history = revision_history(state, &app);
    let body = format!(
        "<p><a href=\"/review\">← Kembali ke antrian</a></p>{banner}\
         <div class=\"card\"><h2>Permohonan {t}{revision} <span id=\"status\" data-status=\"{code}\">{badge}</span></h2><dl>{dl}</dl></div>\
         <div class=\"card\">{decision}</div>{history}",
        t = esc(&app.tracking_number),
        code = app.status.code(),
        badge = status_badge(app.status),
    );
    (
        code,
        Html(page(&app.tracking_number, &state.key.district_name, &body)),
    )
        .into_response()
}

/// The "Riwayat revisi" card: every version the village sent, when it arrived, why it was
/// returned and what the next one changed. Empty while there is nothing but the original.
fn revision_history(state: &AppState, app: &ReceivedApplication) -> String {
    let revisions = match state.store.lock().map(|s| s.revisions(app.id)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::error!("revisions of {}: {e}", app.id);
            return String::new();
        }
        Err(e) => {
            tracing::error!("revisions of {}: {e}", app.id);
            return String::new();
        }
    };
    if revisions.len() < 2 && revisions.iter().all(|r| r.returned.is_none()) {
        return String::new();
    }
    let mut items = String::new();
    for (i, r) in revisions.iter().enumerate() {
        let title = if r.revision == 0 {
            "Permohonan asli".to_string()
        } else {
            format!("Revisi {}", r.revision)
        };
        items.push_str(&format!(
            "<li data-revision=\"{n}\"><strong>{title}</strong> · diterima {at}",
            n = r.revision,
            at = esc(&r.received_at.format("%d-%m-%Y %H:%M UTC").to_string()),
        ));
        if let Some(previous) = i.checked_sub(1).and_then(|p| revisions.get(p)) {
            let changes = crate::store::revision_changes(&app.service, previous, r);
            if changes.is_empty() {
                items.push_str("<div class=\"muted\">Tidak ada isian yang berubah.</div>");
            } else {
                items.push_str("<ul class=\"changes\">");
                for c in changes {
                    items.push_str(&format!(
                        "<li>{}: {} → {}</li>",
                        esc(&c.what),
                        esc(&c.old),
                        esc(&c.new)
                    ));
                }
                items.push_str("</ul>");
            }
        }
        if let Some((at, reason)) = &r.returned {
            items.push_str(&format!(
                "<div class=\"warn\">Dikembalikan {}: {}</div>",
                esc(&at.format("%d-%m-%Y %H:%M UTC").to_string()),
                esc(reason)
            ));
        }
        items.push_str("</li>");
    }
    format!(
        "<div class=\"card\"><h3>Riwayat revisi</h3><ol id=\"revisions\" class=\"revisions\">{items}</ol></div>"
    )
}

fn decision_failure(state: &AppState, id: &str, e: DecisionError) -> Response {
    let code = match e {
        DecisionError::NotFound => return not_found(),
        DecisionError::AlreadyDecided(_) => StatusCode::CONFLICT,
        DecisionError::ReasonRequired | DecisionError::ReturnReasonRequired => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        DecisionError::Render(_) | DecisionError::Sqlite(_) => {
            tracing::error!("decision failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    render_detail(state, id, Some(("error", e.to_string())), code)
}

/// Runs one reviewer decision on application `id` and answers as every decision does: back to
/// the detail page, or the page with the refusal.
fn decide(
    state: &AppState,
    id: &str,
    decision: impl FnOnce(
        &mut crate::BackofficeStore,
        Uuid,
        chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DecisionError>,
) -> Response {
    let Ok(uuid) = Uuid::parse_str(id) else {
        return not_found();
    };
    let now = (state.clock)();
    let result = match state.store.lock() {
        Ok(mut s) => decision(&mut s, uuid, now),
        Err(e) => return internal(&e.to_string()),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/review/applications/{id}")).into_response(),
        Err(e) => decision_failure(state, id, e),
    }
}

async fn approve(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (key, signer) = (state.key.clone(), state.signer.clone());
    decide(&state, &id, |s, uuid, now| {
        s.approve_and_issue(uuid, &key, &signer, now, now.date_naive())
            .map(|_| ())
    })
}

#[derive(Deserialize)]
struct RejectForm {
    #[serde(default)]
    reason: String,
}

async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<RejectForm>,
) -> Response {
    decide(&state, &id, |s, uuid, now| {
        s.reject(uuid, &form.reason, now)
    })
}

/// `POST /review/applications/{id}/return`: sends the application back to its village with
/// what to correct.
async fn return_for_correction(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<RejectForm>,
) -> Response {
    decide(&state, &id, |s, uuid, now| {
        s.return_for_correction(uuid, &form.reason, now)
    })
}
