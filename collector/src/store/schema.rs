//! The database layout and its migrations.
//!
//! ```text
//! meta(key PK, value)                      schema_version
//! batches(agent, batch_id, sequence,       every batch taken, for deduplication (per agent) within
//!         received_at, observations)       the dedupe window; PK(agent, batch_id)
//! batch_log(id PK, received_at, gzip,      batches taken since the last checkpoint, as received;
//!           body BLOB, certificate_not_after)   replayed in id order at startup, deleted by checkpoints
//! agents(agent PK, county, first_push_at,  checkpointed projection: agents …
//!        last_push_at, last_sequence, batches, certificate_not_after)
//! subjects(agent, target, kind,            … and every page's latest state
//!          column_name, channel, county, probes_ok, probes_failed,
//!          probe_days JSON, observation JSON, streak JSON, received_at)
//!                                          PK(agent, target, kind, column_name, channel)
//! filings(name, channel, unit, county,      the registry (备案): channel is 网站 or a platform name;
//!         filed_on, status, account_id,    the account's id on its platform, 单位类型, 开设日期
//!         unit_type, opened_on)            PK(name, channel)
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
//! retirements(id PK, agent, reason,         agents the office retired; applied_at once the collector
//!             author, created_at, applied_at)   forgot the agent and released its subjects
//! notifications(id PK, notifier,            the outbox: one row per notice and notifier, written with
//!               fingerprint, priority, notice JSON,   the alert state; delivered_at on the receiver's
//!               created_at, delivered_at,             2xx, failed_at when given up, folded when it
//!               failed_at, folded)                    went out as part of a summary line
//! notification_folds(notifier PK, count)   notices a full queue folded into the next message's
//!                                          summary line (另有 N 条告警)
//! problems(id PK, agent, county, unit,     the problem ledger (问题台账) as of the last checkpoint:
//!          target, kind, platform,         every problem ever opened, open or resolved (with when
//!          column_name, channel, code,     and why); never deleted. Open problems' last_seen and
//!          severity, first_seen, last_seen, detail are as of their last change; the projection
//!          detail, url, evidence,          holds the live values
//!          observed_at, status, resolved_at, resolution, absent, reopened)
//! history_pages(day, agent, county, unit,   the daily history: each page's state at the end of each
//!               target, kind, platform,     China day (JSON: probes that day, items, newest date,
//!               column_name, channel, state)  board counts, findings that counted) …
//! history_targets(day, county, unit,        … each site's and account's verdict and reasons …
//!                 target, kind, platform, pass, reasons JSON, notes JSON, exempted JSON)
//! history_counties(day, county, kind,       … and each county's pass ratio ('全市': the city);
//!                  judged, passed)          kept for [collector] history_retention
//! targets_seen(county, target, kind,        when an agent first saw each site and account
//!              platform PK, agent, first_seen)
//! users(id PK, name UNIQUE, role,           people: a role, the counties a scoped role sees (JSON),
//!       counties JSON, password_hash,       the password as an Argon2id PHC string (NULL: tokens
//!       created_at, created_by, disabled_at, password_changed_at)   only); disabled ones stay
//! api_tokens(id PK, user_id, label,         personal API tokens: only their SHA-256 digest is kept
//!            digest UNIQUE, created_at, last_used_at, revoked_at)
//! sessions(digest PK, user_id, created_at,  web logins: the SHA-256 digest of the cookie's random id;
//!          expires_at, last_seen_at, address)   ended by logout, expiry, idleness or a new password
//! tasks(id PK, county, unit, title,         整改 tasks: the problems given to a county by a deadline,
//!       deadline, state, state_since, …,    its latest answer, and the re-check's verdict
//!       answer, answered_at, answered_by, returned, verified_at)
//! task_problems(task_id, problem_id) PK    the ledger problems a task covers
//! task_events(id PK, task_id, at, author,  a task's timeline: made, answered, 整改未到位, 已核实
//!             kind, detail)
//! task_attachments(id PK, task_id,         files a county attached to an answer (type-checked, at
//!                  event_id, name, content_type, size, sha256, data BLOB, …)   most 5 MB each)
//! ```
//! `meta.history_day` is the China day the writer is in; `meta.ledger_forget_before` the cutoff
//! the last checkpoint forgot resolved problems by.
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
    r#"
CREATE TABLE batches_per_agent (
    agent TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    observations INTEGER NOT NULL,
    PRIMARY KEY (agent, batch_id)
);
INSERT INTO batches_per_agent (agent, batch_id, sequence, received_at, observations)
    SELECT agent, batch_id, sequence, received_at, observations FROM batches;
DROP TABLE batches;
ALTER TABLE batches_per_agent RENAME TO batches;
CREATE INDEX batches_by_time ON batches (received_at);
ALTER TABLE batch_log ADD COLUMN certificate_not_after INTEGER;
ALTER TABLE subjects ADD COLUMN received_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN certificate_not_after INTEGER;
CREATE TABLE retirements (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    applied_at INTEGER
);
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    notifier TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    priority INTEGER NOT NULL,
    notice TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER,
    folded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_open ON notifications (notifier, delivered_at, failed_at);
CREATE TABLE notification_folds (
    notifier TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"#,
    r#"
CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    county TEXT NOT NULL,
    unit TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    column_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    detail TEXT NOT NULL,
    url TEXT NOT NULL,
    evidence TEXT NOT NULL,
    observed_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    resolved_at INTEGER,
    resolution TEXT,
    absent INTEGER NOT NULL,
    reopened INTEGER NOT NULL
);
CREATE INDEX problems_by_status ON problems (status, resolved_at);
CREATE INDEX problems_by_county ON problems (county, id);
"#,
    r#"
CREATE TABLE history_pages (
    day TEXT NOT NULL,
    agent TEXT NOT NULL,
    county TEXT NOT NULL,
    unit TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    column_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (day, agent, target, kind, column_name, channel)
);
CREATE INDEX history_pages_by_target ON history_pages (target, day);
CREATE TABLE history_targets (
    day TEXT NOT NULL,
    county TEXT NOT NULL,
    unit TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    pass INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    notes TEXT NOT NULL,
    exempted TEXT NOT NULL,
    PRIMARY KEY (day, county, target, kind, platform)
);
CREATE INDEX history_targets_by_target ON history_targets (target, day);
CREATE TABLE history_counties (
    day TEXT NOT NULL,
    county TEXT NOT NULL,
    kind TEXT NOT NULL,
    judged INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    PRIMARY KEY (day, county, kind)
);
CREATE TABLE targets_seen (
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    county TEXT NOT NULL,
    agent TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (county, target, kind, platform)
);
"#,
    r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    counties TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at INTEGER,
    password_changed_at INTEGER
);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    label TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
"#,
    r#"
CREATE TABLE sessions (
    digest TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
"#,
    r#"
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    county TEXT NOT NULL,
    unit TEXT NOT NULL,
    title TEXT NOT NULL,
    deadline TEXT NOT NULL,
    state TEXT NOT NULL,
    state_since INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    source TEXT NOT NULL,
    answer TEXT,
    answered_at INTEGER,
    answered_by TEXT,
    returned INTEGER NOT NULL DEFAULT 0,
    verified_at INTEGER
);
CREATE INDEX tasks_by_county ON tasks (county, state);
CREATE TABLE task_problems (
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    problem_id INTEGER NOT NULL,
    PRIMARY KEY (task_id, problem_id)
);
CREATE INDEX task_problems_by_problem ON task_problems (problem_id);
CREATE TABLE task_events (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    at INTEGER NOT NULL,
    author TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX task_events_by_task ON task_events (task_id);
CREATE TABLE task_attachments (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    event_id INTEGER NOT NULL REFERENCES task_events (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_at INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL
);
CREATE INDEX task_attachments_by_task ON task_attachments (task_id);
"#,
    r#"
ALTER TABLE filings ADD COLUMN account_id TEXT;
ALTER TABLE filings ADD COLUMN unit_type TEXT;
ALTER TABLE filings ADD COLUMN opened_on TEXT;
"#,
];

/// The layout version this build writes and reads.
pub fn current_version() -> usize {
    MIGRATIONS.len()
}

/// The layout version of an open database (0 when it has none).
pub fn version_of(connection: &Connection) -> rusqlite::Result<usize> {
    let has_meta: bool = connection
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|count| count > 0)?;
    if !has_meta {
        return Ok(0);
    }
    Ok(connection
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| row.get::<_, String>(0))
        .map(|value| value.parse().unwrap_or(0))
        .unwrap_or(0))
}

/// Brings the database to the current layout; returns the version it is at.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<usize> {
    let mut version = version_of(connection)?;
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

/// Space freed by deletions (checkpoints, retention, retirements) goes back to the file system:
/// a new database is made with incremental auto-vacuum, an older one is converted once (a full
/// VACUUM, at the start of the collector that owns it).
pub fn enable_incremental_vacuum(connection: &Connection) -> rusqlite::Result<()> {
    let mode: i64 = connection.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
    if mode != 2 {
        let pages: i64 = connection.query_row("PRAGMA page_count", [], |row| row.get(0))?;
        connection.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        if pages > 0 {
            tracing::info!(pages, "converting the database to incremental vacuum (once)");
            connection.execute_batch("VACUUM")?;
        }
    }
    Ok(())
}

/// Returns up to `pages` free pages to the file system.
pub fn incremental_vacuum(connection: &Connection, pages: u32) -> rusqlite::Result<()> {
    // The pragma returns a row per page freed; step through them all.
    let mut statement = connection.prepare(&format!("PRAGMA incremental_vacuum({pages})"))?;
    let mut rows = statement.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

/// Durability settings: WAL so readers never block the writer, and a full sync at every commit
/// so an acknowledged batch survives a power cut, not only a crash.
pub fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}
