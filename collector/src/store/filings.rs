//! The registry (备案) and exemptions on disk, with every change written to `audit_log` in the
//! same transaction. Used by the store's writer (API changes) and by the CLI, which opens the
//! database directly; the running collector notices the CLI's commits by `PRAGMA data_version`.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use xunjian_shared::wire::FindingCode;

use super::StoreError;
use crate::registry::{
    Channel, Exemption, ExemptionDraft, Filing, FilingStatus, Matcher, Registry, Retirement, Revocation, Silence,
    SilenceDraft, UnitType, author_problem,
};

/// One change to the registry or the exemptions.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub author: String,
    pub action: String,
    pub detail: String,
}

/// What was asked of the registry, as the writer thread takes it.
#[derive(Clone, Debug)]
pub enum RegistryChange {
    ReplaceFilings {
        filings: Vec<Filing>,
        author: String,
    },
    AddExemption(ExemptionDraft),
    RevokeExemption {
        id: i64,
        author: String,
    },
    AddSilence(SilenceDraft),
    ExpireSilence {
        id: i64,
        author: String,
    },
    /// Refuse an agent (by id) or a certificate (by serial) at the push port.
    Revoke {
        agent: String,
        serial: String,
        reason: String,
        author: String,
    },
    LiftRevocation {
        id: i64,
        author: String,
    },
    /// Forget an agent and release every subject it owns (a county moved its agent, or
    /// decommissioned it); the collector applies it within seconds.
    Retire {
        agent: String,
        reason: String,
        author: String,
    },
}

/// What a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The registry now holds this many filings (added, removed, changed).
    Filings {
        total: usize,
        added: usize,
        removed: usize,
        changed: usize,
    },
    ExemptionAdded {
        id: i64,
    },
    ExemptionRevoked {
        id: i64,
    },
    SilenceAdded {
        id: i64,
        ends_at: Timestamp,
    },
    SilenceExpired {
        id: i64,
    },
    Revoked {
        id: i64,
    },
    RevocationLifted {
        id: i64,
    },
    Retired {
        id: i64,
    },
}

/// Why a change was refused (the caller's mistake, in Chinese), or failed (the store's).
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn write(err: rusqlite::Error) -> StoreError {
    StoreError::Write(err)
}

/// The registry as stored.
pub fn load(connection: &Connection) -> Result<Registry, StoreError> {
    let mut filings = Vec::new();
    let mut statement = connection
        .prepare(
            "SELECT name, channel, unit, county, filed_on, status, account_id, unit_type, opened_on FROM filings \
             ORDER BY county, name, channel",
        )
        .map_err(write)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                (row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?),
                (row.get::<_, String>(3)?, row.get::<_, Option<String>>(4)?, row.get::<_, String>(5)?),
                (row.get::<_, Option<String>>(6)?, row.get::<_, Option<String>>(7)?, row.get::<_, Option<String>>(8)?),
            ))
        })
        .map_err(write)?;
    for row in rows {
        let ((name, channel, unit), (county, filed_on, status), (account_id, unit_type, opened_on)) =
            row.map_err(write)?;
        // Rows are written by `RegistryChange::ReplaceFilings` from parsed values; a row that no longer parses
        // was edited by hand and is skipped rather than stopping the collector.
        let (Ok(channel), Ok(status)) = (Channel::parse(&channel), FilingStatus::parse(&status)) else {
            tracing::error!(name, channel, status, "skipping a filing that cannot be read");
            continue;
        };
        let filed_on = filed_on.and_then(|text| text.parse::<Date>().ok());
        let opened_on = opened_on.and_then(|text| text.parse::<Date>().ok());
        let unit_type = unit_type.and_then(|text| UnitType::parse(&text).ok());
        filings.push(Filing { name, channel, unit, county, filed_on, status, account_id, unit_type, opened_on });
    }
    let mut exemptions = Vec::new();
    let mut statement = connection
        .prepare(
            "SELECT id, target, column_name, code, reason, author, created_at, until, revoked_at, revoked_by
             FROM exemptions ORDER BY id",
        )
        .map_err(write)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, Option<String>>(7)?,
                row.get::<_, Option<i64>>(8)?,
                row.get::<_, Option<String>>(9)?,
            ))
        })
        .map_err(write)?;
    for row in rows {
        let (id, target, column, code, reason, author, created_at, until, revoked_at, revoked_by) =
            row.map_err(write)?;
        let Some(code) = FindingCode::parse(&code) else {
            tracing::error!(id, code, "skipping an exemption with an unknown finding code");
            continue;
        };
        exemptions.push(Exemption {
            id,
            target,
            column,
            code,
            reason,
            author,
            created_at: Timestamp::from_second(created_at).unwrap_or(Timestamp::UNIX_EPOCH),
            until: until.and_then(|text| text.parse::<Date>().ok()),
            revoked_at: revoked_at.and_then(|at| Timestamp::from_second(at).ok()),
            revoked_by,
        });
    }
    let mut silences = Vec::new();
    let mut statement = connection
        .prepare(
            "SELECT id, matchers, starts_at, ends_at, reason, author, created_at, expired_at, expired_by
             FROM silences ORDER BY id",
        )
        .map_err(write)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, Option<i64>>(7)?,
                row.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(write)?;
    let stamp = |seconds: i64| Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    for row in rows {
        let (id, matchers, starts_at, ends_at, reason, author, created_at, expired_at, expired_by) =
            row.map_err(write)?;
        let Ok(matchers) = serde_json::from_str::<Vec<Matcher>>(&matchers) else {
            tracing::error!(id, "skipping a silence whose matchers cannot be read");
            continue;
        };
        silences.push(Silence {
            id,
            matchers,
            starts_at: stamp(starts_at),
            ends_at: stamp(ends_at),
            reason,
            author,
            created_at: stamp(created_at),
            expired_at: expired_at.map(stamp),
            expired_by,
        });
    }
    let mut revocations = Vec::new();
    let mut statement = connection
        .prepare(
            "SELECT id, agent, serial, reason, author, created_at, lifted_at, lifted_by FROM revocations ORDER BY id",
        )
        .map_err(write)?;
    let rows = statement
        .query_map([], |row| {
            Ok(Revocation {
                id: row.get(0)?,
                agent: row.get(1)?,
                serial: row.get(2)?,
                reason: row.get(3)?,
                author: row.get(4)?,
                created_at: stamp(row.get(5)?),
                lifted_at: row.get::<_, Option<i64>>(6)?.map(stamp),
                lifted_by: row.get(7)?,
            })
        })
        .map_err(write)?;
    for row in rows {
        revocations.push(row.map_err(write)?);
    }
    let mut retirements = Vec::new();
    let mut statement = connection
        .prepare("SELECT id, agent, reason, author, created_at, applied_at FROM retirements ORDER BY id")
        .map_err(write)?;
    let rows = statement
        .query_map([], |row| {
            Ok(Retirement {
                id: row.get(0)?,
                agent: row.get(1)?,
                reason: row.get(2)?,
                author: row.get(3)?,
                created_at: stamp(row.get(4)?),
                applied_at: row.get::<_, Option<i64>>(5)?.map(stamp),
            })
        })
        .map_err(write)?;
    for row in rows {
        retirements.push(row.map_err(write)?);
    }
    static LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let revision = LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Registry { filings, exemptions, silences, revocations, retirements, revision, rules: Default::default() })
}

/// Applies `change` in one transaction with its audit entry.
pub fn apply(
    connection: &mut Connection,
    change: RegistryChange,
    now: Timestamp,
) -> Result<ChangeOutcome, ChangeError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(write)?;
    let (outcome, author, action, detail) = match change {
        RegistryChange::ReplaceFilings { filings, author } => replace_filings(&transaction, filings, author)?,
        RegistryChange::AddExemption(new) => add_exemption(&transaction, new, now)?,
        RegistryChange::RevokeExemption { id, author } => revoke_exemption(&transaction, id, author, now)?,
        RegistryChange::AddSilence(new) => add_silence(&transaction, new, now)?,
        RegistryChange::ExpireSilence { id, author } => expire_silence(&transaction, id, author, now)?,
        RegistryChange::Revoke { agent, serial, reason, author } => {
            revoke(&transaction, agent, serial, reason, author, now)?
        }
        RegistryChange::LiftRevocation { id, author } => lift_revocation(&transaction, id, author, now)?,
        RegistryChange::Retire { agent, reason, author } => retire(&transaction, agent, reason, author, now)?,
    };
    transaction
        .execute(
            "INSERT INTO audit_log (at, author, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now.as_second(), author.trim(), action, detail],
        )
        .map_err(write)?;
    transaction
        .execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'registry_version'", [])
        .map_err(write)?;
    transaction.commit().map_err(write)?;
    Ok(outcome)
}

/// Ends a decision (`update` sets its end time and who ended it, by id): decisions are ended,
/// never deleted.
fn mark_ended(
    transaction: &Transaction<'_>,
    update: &str,
    id: i64,
    author: &str,
    now: Timestamp,
) -> Result<(), ChangeError> {
    transaction.execute(update, params![now.as_second(), author.trim(), id]).map_err(write)?;
    Ok(())
}

/// What a change did, for its answer and its audit row: the outcome, the author, the action and
/// a description.
type Recorded = (ChangeOutcome, String, &'static str, String);

fn replace_filings(
    transaction: &Transaction<'_>,
    filings: Vec<Filing>,
    author: String,
) -> Result<Recorded, ChangeError> {
    require_author(&author)?;
    let before = load(transaction)?.filings;
    transaction.execute("DELETE FROM filings", []).map_err(write)?;
    {
        let mut insert = transaction
            .prepare(
                "INSERT INTO filings (name, channel, unit, county, filed_on, status, account_id, unit_type, opened_on) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(write)?;
        for filing in &filings {
            insert
                .execute(params![
                    filing.name,
                    filing.channel.label_zh(),
                    filing.unit,
                    filing.county,
                    filing.filed_on.map(|d| d.to_string()),
                    filing.status.label_zh(),
                    filing.account_id,
                    filing.unit_type.map(UnitType::label_zh),
                    filing.opened_on.map(|d| d.to_string()),
                ])
                .map_err(|err| match err {
                    rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                        ChangeError::Refused(format!("重复的备案：{}（{}）", filing.name, filing.channel.label_zh()))
                    }
                    other => ChangeError::Store(write(other)),
                })?;
        }
    }
    let key = |f: &Filing| (f.name.clone(), f.channel);
    let old: std::collections::HashMap<(String, Channel), &Filing> = before.iter().map(|f| (key(f), f)).collect();
    let new: std::collections::HashSet<(String, Channel)> = filings.iter().map(key).collect();
    let added = filings.iter().filter(|f| !old.contains_key(&key(f))).count();
    let removed = before.iter().filter(|b| !new.contains(&key(b))).count();
    let changed = filings.iter().filter(|f| old.get(&key(f)).is_some_and(|b| *b != *f)).count();
    let detail = format!("导入备案 {} 条：新增 {added}，删除 {removed}，变更 {changed}", filings.len());
    Ok((ChangeOutcome::Filings { total: filings.len(), added, removed, changed }, author, "registry.replace", detail))
}

fn add_exemption(transaction: &Transaction<'_>, new: ExemptionDraft, now: Timestamp) -> Result<Recorded, ChangeError> {
    let code = new.code;
    transaction
        .execute(
            "INSERT INTO exemptions (target, column_name, code, reason, author, created_at, until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                new.target.trim(),
                new.column.trim(),
                code.as_str(),
                new.reason.trim(),
                new.author.trim(),
                now.as_second(),
                new.until.map(|d| d.to_string())
            ],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    let scope = if new.column.trim().is_empty() { String::new() } else { format!("「{}」", new.column.trim()) };
    let until = new.until.map(|d| format!("，至 {d}")).unwrap_or_default();
    let detail =
        format!("豁免 #{id}：{}{scope} 的 {}，理由：{}{until}", new.target.trim(), code.as_str(), new.reason.trim());
    Ok((ChangeOutcome::ExemptionAdded { id }, new.author, "exemption.add", detail))
}

fn revoke_exemption(
    transaction: &Transaction<'_>,
    id: i64,
    author: String,
    now: Timestamp,
) -> Result<Recorded, ChangeError> {
    require_author(&author)?;
    let row: Option<(String, Option<i64>)> = transaction
        .query_row("SELECT target, revoked_at FROM exemptions WHERE id = ?1", [id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .map_err(write)?;
    Ok(match row {
        None => return Err(ChangeError::NotFound(format!("没有编号为 {id} 的豁免；用 exemption list 查看"))),
        Some((_, Some(_))) => return Err(ChangeError::Refused(format!("豁免 #{id} 已经撤销过"))),
        Some((target, None)) => {
            mark_ended(
                transaction,
                "UPDATE exemptions SET revoked_at = ?1, revoked_by = ?2 WHERE id = ?3",
                id,
                &author,
                now,
            )?;
            (ChangeOutcome::ExemptionRevoked { id }, author, "exemption.revoke", format!("撤销豁免 #{id}（{target}）"))
        }
    })
}

fn add_silence(transaction: &Transaction<'_>, new: SilenceDraft, now: Timestamp) -> Result<Recorded, ChangeError> {
    let (matchers, duration) = (new.matchers, new.duration);
    let ends_at = now + jiff::SignedDuration::try_from(duration).unwrap_or_default();
    let json = serde_json::to_string(&matchers)
        .map_err(|source| ChangeError::Store(StoreError::Encode { what: "silence matchers", source }))?;
    transaction
        .execute(
            "INSERT INTO silences (matchers, starts_at, ends_at, reason, author, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?2)",
            params![json, now.as_second(), ends_at.as_second(), new.reason.trim(), new.author.trim()],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    let shown: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    let detail = format!("静默 #{id}：{}，至 {ends_at}，理由：{}", shown.join(" "), new.reason.trim());
    Ok((ChangeOutcome::SilenceAdded { id, ends_at }, new.author, "silence.add", detail))
}

fn expire_silence(
    transaction: &Transaction<'_>,
    id: i64,
    author: String,
    now: Timestamp,
) -> Result<Recorded, ChangeError> {
    require_author(&author)?;
    let row: Option<(Option<i64>, i64)> = transaction
        .query_row("SELECT expired_at, ends_at FROM silences WHERE id = ?1", [id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(write)?;
    Ok(match row {
        None => return Err(ChangeError::NotFound(format!("没有编号为 {id} 的静默；用 silence list 查看"))),
        Some((Some(_), _)) => return Err(ChangeError::Refused(format!("静默 #{id} 已经解除过"))),
        Some((None, ends_at)) if ends_at <= now.as_second() => {
            return Err(ChangeError::Refused(format!("静默 #{id} 已经到期")));
        }
        Some((None, _)) => {
            mark_ended(
                transaction,
                "UPDATE silences SET expired_at = ?1, expired_by = ?2 WHERE id = ?3",
                id,
                &author,
                now,
            )?;
            (ChangeOutcome::SilenceExpired { id }, author, "silence.expire", format!("解除静默 #{id}"))
        }
    })
}

fn revoke(
    transaction: &Transaction<'_>,
    agent: String,
    serial: String,
    reason: String,
    author: String,
    now: Timestamp,
) -> Result<Recorded, ChangeError> {
    require_author(&author)?;
    let (agent, serial) = (agent.trim().to_string(), serial.trim().to_ascii_lowercase());
    if agent.is_empty() && serial.is_empty() {
        return Err(ChangeError::Refused("吊销需要写明采集代理编号（--agent）或证书序列号（--serial）".into()));
    }
    if !serial.is_empty() && !serial.trim_start_matches("0x").chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ChangeError::Refused(format!(
            "证书序列号「{serial}」应为十六进制，例如 xunjian-collector certs issue 打印的序列号"
        )));
    }
    if reason.trim().is_empty() {
        return Err(ChangeError::Refused("吊销必须写明理由（reason），例如「主机失窃」".into()));
    }
    transaction
        .execute(
            "INSERT INTO revocations (agent, serial, reason, author, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![agent, serial.trim_start_matches("0x"), reason.trim(), author.trim(), now.as_second()],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    let detail = format!("吊销 #{id}：采集代理「{agent}」证书序列号「{serial}」，理由：{}", reason.trim());
    Ok((ChangeOutcome::Revoked { id }, author, "agent.revoke", detail))
}

fn lift_revocation(
    transaction: &Transaction<'_>,
    id: i64,
    author: String,
    now: Timestamp,
) -> Result<Recorded, ChangeError> {
    require_author(&author)?;
    let lifted: Option<Option<i64>> = transaction
        .query_row("SELECT lifted_at FROM revocations WHERE id = ?1", [id], |row| row.get(0))
        .optional()
        .map_err(write)?;
    Ok(match lifted {
        None => return Err(ChangeError::NotFound(format!("没有编号为 {id} 的吊销记录"))),
        Some(Some(_)) => return Err(ChangeError::Refused(format!("吊销 #{id} 已经解除过"))),
        Some(None) => {
            mark_ended(
                transaction,
                "UPDATE revocations SET lifted_at = ?1, lifted_by = ?2 WHERE id = ?3",
                id,
                &author,
                now,
            )?;
            (ChangeOutcome::RevocationLifted { id }, author, "agent.unrevoke", format!("解除吊销 #{id}"))
        }
    })
}

fn retire(
    transaction: &Transaction<'_>,
    agent: String,
    reason: String,
    author: String,
    now: Timestamp,
) -> Result<Recorded, ChangeError> {
    require_author(&author)?;
    let agent = agent.trim().to_string();
    if xunjian_shared::config::agent::AgentId::parse(&agent).is_err() {
        return Err(ChangeError::Refused(format!(
            "采集代理编号「{agent}」无效：应为小写字母、数字、-、_ 或 .，如 longchuan"
        )));
    }
    transaction
        .execute(
            "INSERT INTO retirements (agent, reason, author, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![agent, reason.trim(), author.trim(), now.as_second()],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    let because = if reason.trim().is_empty() { String::new() } else { format!("，理由：{}", reason.trim()) };
    let detail = format!("退役 #{id}：采集代理「{agent}」及其全部巡检对象{because}");
    Ok((ChangeOutcome::Retired { id }, author, "agent.retire", detail))
}

fn require_author(author: &str) -> Result<(), ChangeError> {
    author_problem(author).map_or(Ok(()), |problem| Err(ChangeError::Refused(problem)))
}

/// The newest `limit` audit entries, newest first.
pub fn audit_log(connection: &Connection, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let mut statement = connection
        .prepare("SELECT at, author, action, detail FROM audit_log ORDER BY id DESC LIMIT ?1")
        .map_err(write)?;
    let rows = statement
        .query_map([limit as i64], |row| {
            Ok(AuditEntry {
                at: Timestamp::from_second(row.get(0)?).unwrap_or(Timestamp::UNIX_EPOCH),
                author: row.get(1)?,
                action: row.get(2)?,
                detail: row.get(3)?,
            })
        })
        .map_err(write)?;
    rows.collect::<Result<_, _>>().map_err(write)
}

/// Opens a connection beside the writer's (the CLI's, the alert loop's): same configuration and
/// migrations as the collector's, and patient with the running collector's writer.
pub fn open_connection(path: &std::path::Path) -> Result<Connection, StoreError> {
    let open_error = |source| StoreError::Open { path: path.to_path_buf(), source };
    let mut connection = Connection::open(path).map_err(open_error)?;
    super::schema::configure(&connection).map_err(open_error)?;
    super::schema::migrate(&mut connection).map_err(open_error)?;
    Ok(connection)
}

/// SQLite's count of commits by other connections (the CLI, the alert engine).
pub fn data_version(connection: &Connection) -> Option<i64> {
    connection.query_row("PRAGMA data_version", [], |row| row.get(0)).ok()
}

/// How many times the registry, exemptions or silences have changed.
pub fn registry_version(connection: &Connection) -> Option<i64> {
    connection
        .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'registry_version'", [], |row| row.get(0))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filing(name: &str, status: FilingStatus) -> Filing {
        Filing {
            filed_on: Some(Date::constant(2019, 6, 28)),
            account_id: Some(format!("gh_{}", name.len())),
            unit_type: Some(UnitType::CountyDepartment),
            opened_on: Some(Date::constant(2019, 6, 25)),
            ..Filing::new(name, Channel::Account(xunjian_shared::config::Platform::Wechat), "单位", "县", status)
        }
    }

    #[test]
    fn changes_are_stored_audited_and_seen_by_other_connections() {
        let dir = std::env::temp_dir().join(format!("xunjian-filings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.db");
        let mut collector = open_connection(&path).unwrap();
        let mut cli = open_connection(&path).unwrap();
        let seen = data_version(&collector);
        let now = Timestamp::from_second(1_790_000_000).unwrap();

        let first = vec![filing("甲", FilingStatus::Running), filing("乙", FilingStatus::Closed)];
        let outcome =
            apply(&mut cli, RegistryChange::ReplaceFilings { filings: first, author: "王科长".into() }, now).unwrap();
        assert_eq!(outcome, ChangeOutcome::Filings { total: 2, added: 2, removed: 0, changed: 0 });
        assert_ne!(data_version(&collector), seen, "the collector's connection sees the CLI's commit");
        let second = vec![filing("甲", FilingStatus::Closing), filing("丙", FilingStatus::Running)];
        let outcome =
            apply(&mut cli, RegistryChange::ReplaceFilings { filings: second.clone(), author: "王科长".into() }, now)
                .unwrap();
        assert_eq!(outcome, ChangeOutcome::Filings { total: 2, added: 1, removed: 1, changed: 1 });
        let loaded = load(&collector).unwrap();
        let mut expected = second;
        expected.sort_by(|a, b| a.name.cmp(&b.name));
        let mut got = loaded.filings.clone();
        got.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(got, expected);

        let new = |code: &str, reason: &str, author: &str| crate::registry::NewExemption {
            target: "龙川县人民政府".into(),
            column: "人事信息".into(),
            code: code.into(),
            reason: reason.into(),
            author: author.into(),
            until: Some(Date::constant(2026, 12, 31)),
        };
        let refused = |result: Result<ChangeOutcome, ChangeError>| match result {
            Err(ChangeError::Refused(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        };
        // Checked at the edge, every problem at once; nothing reaches the database.
        let problems = ExemptionDraft::parse(new("nope", " ", "")).unwrap_err().join("\n");
        assert!(problems.contains("nope") && problems.contains("理由") && problems.contains("操作人"), "{problems}");
        let draft = ExemptionDraft::parse(new("column_not_updated", "本年度无人事变动", "李主任")).unwrap();
        let ChangeOutcome::ExemptionAdded { id } =
            apply(&mut collector, RegistryChange::AddExemption(draft), now).unwrap()
        else {
            panic!("not added")
        };
        let registry = load(&cli).unwrap();
        let today = Date::constant(2026, 11, 26);
        assert!(registry.exempts_code("龙川县人民政府", "人事信息", FindingCode::ColumnNotUpdated, today).is_some());
        // The column undated is "not updated" too: the same exemption covers it.
        assert!(registry.exempts_code("龙川县人民政府", "人事信息", FindingCode::ColumnUndated, today).is_some());
        assert!(registry.exempts_code("龙川县人民政府", "人事信息", FindingCode::ColumnBlank, today).is_none());
        assert!(registry.exempts_code("龙川县人民政府", "政务动态", FindingCode::ColumnNotUpdated, today).is_none());
        assert!(
            registry
                .exempts_code("龙川县人民政府", "人事信息", FindingCode::ColumnNotUpdated, Date::constant(2027, 1, 1))
                .is_none(),
            "past its end date"
        );
        apply(&mut cli, RegistryChange::RevokeExemption { id, author: "王科长".into() }, now).unwrap();
        assert!(
            refused(apply(&mut cli, RegistryChange::RevokeExemption { id, author: "王科长".into() }, now))
                .contains("已经撤销")
        );
        assert!(matches!(
            apply(&mut cli, RegistryChange::RevokeExemption { id: 999, author: "王".into() }, now),
            Err(ChangeError::NotFound(message)) if message.contains("999")
        ));
        let registry = load(&collector).unwrap();
        assert_eq!(registry.exemptions.len(), 1, "a revoked exemption stays, for the record");
        assert_eq!(registry.exemptions[0].revoked_by.as_deref(), Some("王科长"));
        assert!(registry.exempts_code("龙川县人民政府", "人事信息", FindingCode::ColumnNotUpdated, today).is_none());

        let log = audit_log(&collector, 10).unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["exemption.revoke", "exemption.add", "registry.replace", "registry.replace"]);
        assert_eq!(log[1].author, "李主任");
        assert!(log[1].detail.contains("本年度无人事变动"), "{}", log[1].detail);
        assert!(log[2].detail.contains("新增 1，删除 1，变更 1"), "{}", log[2].detail);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
