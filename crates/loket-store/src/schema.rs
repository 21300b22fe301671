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
    // 4: the durable outbox (issue 5): explicit states queued → sending → acknowledged →
    // decided, plus failed_permanent; next retry time and last attempt. SQLite cannot change a
    // CHECK constraint, so the table is rebuilt and every row copied (in this migration's
    // transaction): 'failed' becomes 'failed_permanent' and keeps a reason, an acknowledged item
    // the back office already decided becomes 'decided'.
    "CREATE TABLE outbox_v4 (
        application_id TEXT PRIMARY KEY REFERENCES applications(id),
        state TEXT NOT NULL CHECK (state IN
            ('queued', 'sending', 'acknowledged', 'decided', 'failed_permanent')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_retry_at TEXT,
        last_attempt_at TEXT,
        last_error TEXT
     );
     INSERT INTO outbox_v4(application_id, state, attempts, last_error)
        SELECT o.application_id,
               CASE o.state
                 WHEN 'failed' THEN 'failed_permanent'
                 WHEN 'acknowledged' THEN
                   CASE WHEN a.status IN ('issued', 'rejected') THEN 'decided'
                        ELSE 'acknowledged' END
                 ELSE 'queued'
               END,
               o.attempts,
               CASE WHEN o.state = 'failed'
                    THEN COALESCE(o.last_error, 'Ditolak server Disdukcapil (alasan tidak tercatat)')
                    ELSE o.last_error END
        FROM outbox o LEFT JOIN applications a ON a.id = o.application_id;
     DROP TABLE outbox;
     ALTER TABLE outbox_v4 RENAME TO outbox;
     CREATE INDEX outbox_state ON outbox(state, next_retry_at);",
    // 5 (uploads.rs): how far each scan page got on its way to the back office. No foreign key
    // to `scans`: the record stays when a retention purge removes the bytes.
    "CREATE TABLE scan_uploads (
        sha256 TEXT PRIMARY KEY,
        uploaded INTEGER NOT NULL DEFAULT 0,
        complete INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        completed_at TEXT
     );",
    // 6 (revisions.rs): corrections after the back office returned an application. The row in
    // `applications` is always the current revision; each version a correction replaced is kept
    // here with the reason it was returned, who corrected it and when.
    "ALTER TABLE applications ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE applications ADD COLUMN revision_id TEXT;
     CREATE TABLE application_revisions (
        application_id TEXT NOT NULL REFERENCES applications(id),
        revision INTEGER NOT NULL,
        revision_id TEXT,
        service TEXT NOT NULL,
        catalogue_version TEXT NOT NULL,
        data TEXT NOT NULL,
        fields TEXT NOT NULL,
        provided TEXT NOT NULL,
        operator TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        returned_reason TEXT,
        corrected_at TEXT NOT NULL,
        corrected_by TEXT NOT NULL,
        PRIMARY KEY (application_id, revision)
     ) WITHOUT ROWID;",
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

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use crate::{OutboxState, VillageStore};
    use rusqlite::{params, Connection};

    /// A store as version 3 of the schema left it, before the durable outbox.
    fn v3_store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS.iter().enumerate().take(3) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn
    }

    #[test]
    fn migrating_a_populated_v3_outbox_keeps_every_item_with_its_meaning() {
        let conn = v3_store();
        // (old outbox state, application status, attempts, last error)
        let rows: Vec<(&str, &str, i64, Option<&str>)> = (0..250)
            .map(|n| match n % 5 {
                0 => ("queued", "queued", 0, None),
                1 => ("queued", "queued", 3, Some("HTTP 503")),
                2 => ("acknowledged", "received", 1, None),
                3 => ("acknowledged", "issued", 1, None),
                _ if n % 10 == 4 => ("failed", "queued", 2, Some("konflik isi")),
                _ => ("failed", "queued", 1, None),
            })
            .collect();
        for (n, (state, status, attempts, error)) in rows.iter().enumerate() {
            let id = uuid::Uuid::from_u128(n as u128 + 1).to_string();
            conn.execute(
                "INSERT INTO applications(id, tracking_number, service, data, operator,
                    captured_at, status)
                 VALUES (?1, ?2, 'ktp_el_baru', ?3, 'Operator', ?4, ?5)",
                params![
                    id,
                    format!("7315012003-001-261122-{:04}", n + 1),
                    format!("{{\"full_name\":\"Warga {n}\"}}"),
                    format!("2026-11-22T09:{:02}:{:02}+08:00", n / 60, n % 60),
                    status
                ],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO outbox(application_id, state, attempts, last_error)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, state, attempts, error],
            )
            .unwrap();
        }

        let store = VillageStore::init(conn).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        let total: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, 250, "every outbox row survives the rebuild");

        for (n, (state, _, attempts, error)) in rows.iter().enumerate() {
            let id = uuid::Uuid::from_u128(n as u128 + 1);
            let item = store.outbox_item(id).unwrap().expect("row kept");
            let expected = match (n % 5, *state) {
                (_, "queued") => OutboxState::Queued,
                (2, _) => OutboxState::Acknowledged,
                (3, _) => OutboxState::Decided,
                _ => OutboxState::FailedPermanent,
            };
            assert_eq!(item.state, expected, "item {n}");
            assert_eq!(i64::from(item.attempts), *attempts, "item {n}");
            assert_eq!(item.next_retry_at, None, "item {n} is due at once");
            assert_eq!(item.full_name, format!("Warga {n}"));
            match (expected, error) {
                (OutboxState::FailedPermanent, Some(e)) => {
                    assert_eq!(item.last_error.as_deref(), Some(*e))
                }
                (OutboxState::FailedPermanent, None) => assert!(
                    item.last_error.is_some(),
                    "a permanent failure always has a reason to show"
                ),
                (_, e) => assert_eq!(item.last_error.as_deref(), *e),
            }
        }
        // The pending view holds the queued and failed ones, oldest first.
        let pending = store.outbox_items().unwrap();
        assert_eq!(pending.len(), 150);
        assert!(pending
            .windows(2)
            .all(|w| w[0].captured_at <= w[1].captured_at));
        assert_eq!(
            store.outbox_counts().unwrap(),
            vec![
                ("acknowledged".to_string(), 50),
                ("decided".to_string(), 50),
                ("failed_permanent".to_string(), 50),
                ("queued".to_string(), 100),
            ]
        );

        // The new CHECK holds: an unknown state is refused, the new ones are accepted.
        let id = uuid::Uuid::from_u128(1).to_string();
        assert!(store
            .conn
            .execute(
                "UPDATE outbox SET state = 'failed' WHERE application_id = ?1",
                [&id]
            )
            .is_err());
        store
            .conn
            .execute(
                "UPDATE outbox SET state = 'sending' WHERE application_id = ?1",
                [&id],
            )
            .unwrap();
    }

    #[test]
    fn a_fresh_store_gets_every_migration() {
        let store = VillageStore::open_in_memory().unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
    }
}
