//! The database layout and its migrations.
//!
//! ```text
//! meta(key PK, value)                      schema_version
//! batches(batch_id PK, agent, sequence,    every batch taken, for deduplication within the
//!         received_at, observations)       dedupe window
//! batch_log(id PK, received_at, gzip,      batches taken since the last checkpoint, as received;
//!           body BLOB)                     replayed in id order at startup, deleted by checkpoints
//! agents(agent PK, county, first_push_at,  checkpointed projection: agents …
//!        last_push_at, last_sequence, batches)
//! subjects(agent, target, kind,            … and every page's latest state
//!          column_name, channel, county, probes_ok, probes_failed,
//!          probe_days JSON, observation JSON)   PK(agent, target, kind, column_name, channel)
//! filings(name, channel, unit, county,      the registry (备案): channel is 网站 or a platform name
//!         filed_on, status)                PK(name, channel)
//! exemptions(id PK, target, column_name,   findings accepted for a reason; revoked ones stay, as
//!            code, reason, author, created_at, until, revoked_at, revoked_by)   the audit trail
//! audit_log(id PK, at, author, action,     every change to filings, exemptions and silences, who
//!           detail)                        and when
//! silences(id PK, matchers JSON, starts_at, alerts not to notify, for a time and a reason; expired ones
//!          ends_at, reason, author, …)      stay
//! revocations(id PK, agent, serial,      agents refused at the push port (by id or certificate
//!             reason, author, …, lifted_at)  serial), effective without a restart
//! alerts(fingerprint PK, alert JSON,        the alert engine's state (pending, firing, resolved and
//!        state, updated_at)                 when it last notified), so a restart neither repeats nor forgets
//! ```
//! `subjects.streak` is the current run of failed probes (JSON); `meta.registry_version` counts
//! changes to filings, exemptions and silences, so the writer reloads them only when they changed.
//! Times are unix seconds. `column_name` and `channel` are '' when the page is not a column or a
//! channel; `probe_days` is
//! `[[day, ok, failed], …]`, days counted from 1970-01-01 in China time.

use rusqlite::Connection;

/// Each entry migrates from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    observations INTEGER NOT NULL
);
CREATE INDEX batches_by_time ON batches (received_at);
CREATE TABLE batch_log (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    gzip INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE agents (
    agent TEXT PRIMARY KEY,
    county TEXT NOT NULL,
    first_push_at INTEGER NOT NULL,
    last_push_at INTEGER NOT NULL,
    last_sequence INTEGER NOT NULL,
    batches INTEGER NOT NULL
);
CREATE TABLE subjects (
    agent TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    column_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    county TEXT NOT NULL,
    probes_ok INTEGER NOT NULL,
    probes_failed INTEGER NOT NULL,
    probe_days TEXT NOT NULL,
    observation TEXT NOT NULL,
    PRIMARY KEY (agent, target, kind, column_name, channel)
);
"#,
    r#"
CREATE TABLE filings (
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    unit TEXT NOT NULL,
    county TEXT NOT NULL,
    filed_on TEXT,
    status TEXT NOT NULL,
    PRIMARY KEY (name, channel)
);
CREATE TABLE exemptions (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    column_name TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    until TEXT,
    revoked_at INTEGER,
    revoked_by TEXT
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    author TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
"#,
    r#"
ALTER TABLE subjects ADD COLUMN streak TEXT NOT NULL DEFAULT '{"failures":0}';
INSERT INTO meta (key, value) VALUES ('registry_version', '0') ON CONFLICT (key) DO NOTHING;
CREATE TABLE silences (
    id INTEGER PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expired_at INTEGER,
    expired_by TEXT
);
CREATE TABLE alerts (
    fingerprint TEXT PRIMARY KEY,
    alert TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
"#,
    r#"
CREATE TABLE revocations (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    serial TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    lifted_at INTEGER,
    lifted_by TEXT
);
"#,
];

/// Brings the database to the current layout; returns the version it is at.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<usize> {
    let has_meta: bool = connection
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|count| count > 0)?;
    let mut version: usize = if has_meta {
        connection
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| row.get::<_, String>(0))
            .map(|value| value.parse().unwrap_or(0))
            .unwrap_or(0)
    } else {
        0
    };
    while version < MIGRATIONS.len() {
        let transaction = connection.transaction()?;
        transaction.execute_batch(MIGRATIONS[version])?;
        version += 1;
        transaction.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
            [version.to_string()],
        )?;
        transaction.commit()?;
    }
    Ok(version)
}

/// Durability settings: WAL so readers never block the writer, and a full sync at every commit
/// so an acknowledged batch survives a power cut, not only a crash.
pub fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}
