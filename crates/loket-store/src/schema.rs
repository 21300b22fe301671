//! Schema migrations, applied in order and recorded in `PRAGMA user_version`. Only ever append.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: applications, their outbox, the per-day tracking counter and settings.
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE daily_counters (day TEXT PRIMARY KEY, last INTEGER NOT NULL);
     CREATE TABLE applications (
        id TEXT PRIMARY KEY,
        tracking_number TEXT NOT NULL UNIQUE,
        service TEXT NOT NULL,
        data TEXT NOT NULL,
        operator TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        doc_number TEXT,
        doc_issued_on TEXT,
        doc_sha256 TEXT,
        doc_pdf BLOB
     );
     CREATE TABLE outbox (
        application_id TEXT PRIMARY KEY REFERENCES applications(id),
        state TEXT NOT NULL CHECK (state IN ('queued', 'acknowledged', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
     );",
    // 2: the hash-chained audit log (UU 27/2022 Ps 31).
    "CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
     );",
    // 3: every service (catalogue version, service fields, provided documents), scans stored
    // content-addressed inside the encrypted database, and residents known on this laptop.
    "ALTER TABLE applications ADD COLUMN catalogue_version TEXT NOT NULL DEFAULT '2026.11.1';
     ALTER TABLE applications ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
     ALTER TABLE applications ADD COLUMN provided TEXT NOT NULL DEFAULT '[]';
     CREATE INDEX applications_service ON applications(service);
     CREATE TABLE scans (
        sha256 TEXT PRIMARY KEY,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        thumbnail BLOB NOT NULL,
        added_at TEXT NOT NULL
     );
     CREATE TABLE application_scans (
        application_id TEXT NOT NULL REFERENCES applications(id),
        slot TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES scans(sha256),
        PRIMARY KEY (application_id, slot)
     );
     CREATE INDEX application_scans_sha ON application_scans(sha256);
     CREATE TABLE residents (
        nik TEXT PRIMARY KEY,
        full_name TEXT NOT NULL,
        birth_place TEXT,
        birth_date TEXT,
        sex TEXT,
        address TEXT,
        phone TEXT,
        nomor_kk TEXT,
        updated_at TEXT NOT NULL
     );
     CREATE INDEX residents_kk ON residents(nomor_kk);",
];

pub(crate) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
