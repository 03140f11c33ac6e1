//! Users and their API tokens in SQLite; every change written to the audit log in the same
//! transaction, with who made it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::people::{NewUser, Role, User};

/// Why a user change was not made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// What to change in the request, in Chinese.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn write(error: rusqlite::Error) -> UserError {
    UserError::Store(StoreError::Write(error))
}

fn audit(connection: &Connection, now: Timestamp, author: &str, action: &str, detail: &str) -> Result<(), UserError> {
    connection
        .execute(
            "INSERT INTO audit_log (at, author, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now.as_second(), author, action, detail],
        )
        .map_err(write)?;
    Ok(())
}

/// Adds `new` with `password_hash` (None: tokens only); returns its id.
pub fn add(
    connection: &mut Connection,
    new: &NewUser,
    password_hash: Option<&str>,
    author: &str,
    now: Timestamp,
) -> Result<i64, UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    // Names differ by more than letter case: `Office` and `office` would be one person.
    let exists: Option<String> = transaction
        .query_row("SELECT name FROM users WHERE lower(name) = lower(?1)", [&new.name], |row| row.get(0))
        .optional()
        .map_err(write)?;
    if let Some(existing) = exists {
        return Err(UserError::Refused(format!("用户 {existing} 已存在：修改密码请用 user passwd")));
    }
    let counties = serde_json::to_string(&new.counties).unwrap_or_else(|_| "[]".into());
    transaction
        .execute(
            "INSERT INTO users (name, role, counties, password_hash, created_at, created_by, password_changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)",
            params![new.name, new.role.as_str(), counties, password_hash, now.as_second(), author],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    let scope = if new.counties.is_empty() { "全部县区".to_string() } else { new.counties.join("、") };
    audit(&transaction, now, author, "user.add", &format!("{}（{}，{scope}）", new.name, new.role.label_zh()))?;
    transaction.commit().map_err(write)?;
    Ok(id)
}

/// Every user, by name.
pub fn list(connection: &Connection) -> Result<Vec<User>, StoreError> {
    let mut statement = connection
        .prepare(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"))
        .map_err(StoreError::Write)?;
    let rows = statement.query_map([], read_user).map_err(StoreError::Write)?;
    rows.collect::<Result<_, _>>().map_err(StoreError::Write)
}

/// A user row; an unknown role or unreadable counties are an error, never a guess (an empty
/// list must not become "every county").
fn read_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let stamp = |seconds: i64| Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    let corrupt = |column: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
    };
    let role: String = row.get(2)?;
    let role = Role::named(&role).ok_or_else(|| corrupt(2, format!("unknown role {role:?}")))?;
    let counties: String = row.get(3)?;
    let counties: Vec<String> =
        serde_json::from_str(&counties).map_err(|e| corrupt(3, format!("counties {counties:?}: {e}")))?;
    if role.scoped() && counties.is_empty() {
        return Err(corrupt(3, "a scoped role without counties".into()));
    }
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        role,
        counties,
        created_at: stamp(row.get(4)?),
        created_by: row.get(5)?,
        disabled_at: row.get::<_, Option<i64>>(6)?.map(stamp),
        has_password: row.get(7)?,
        tokens: row.get(8)?,
    })
}

fn id_of(connection: &Connection, name: &str) -> Result<i64, UserError> {
    connection
        .query_row("SELECT id FROM users WHERE lower(name) = lower(?1)", [name], |row| row.get(0))
        .optional()
        .map_err(write)?
        .ok_or_else(|| UserError::Refused(format!("没有用户 {name}：用 user list 查看已有用户")))
}

/// Disables (or enables again) `name`: a disabled user can neither log in nor use its tokens.
pub fn set_disabled(
    connection: &mut Connection,
    name: &str,
    disabled: bool,
    author: &str,
    now: Timestamp,
) -> Result<(), UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    let id = id_of(&transaction, name)?;
    if disabled {
        let other_admins: i64 = transaction
            .query_row(
                "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id != ?1",
                [id],
                |row| row.get(0),
            )
            .map_err(write)?;
        let role: String =
            transaction.query_row("SELECT role FROM users WHERE id = ?1", [id], |row| row.get(0)).map_err(write)?;
        if role == "admin" && other_admins == 0 {
            return Err(UserError::Refused(format!(
                "{name} 是最后一个启用的管理员，停用后将无人能管理用户：请先添加另一个管理员"
            )));
        }
    }
    let at = disabled.then_some(now.as_second());
    transaction.execute("UPDATE users SET disabled_at = ?2 WHERE id = ?1", params![id, at]).map_err(write)?;
    if disabled {
        transaction.execute("DELETE FROM sessions WHERE user_id = ?1", [id]).map_err(write)?;
    }
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit(&transaction, now, author, action, name)?;
    transaction.commit().map_err(write)?;
    Ok(())
}

/// Sets `name`'s password hash.
pub fn set_password(
    connection: &mut Connection,
    name: &str,
    password_hash: &str,
    author: &str,
    now: Timestamp,
) -> Result<(), UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    let id = id_of(&transaction, name)?;
    transaction
        .execute(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            params![id, password_hash, now.as_second()],
        )
        .map_err(write)?;
    // A new password ends every login made with the old one.
    transaction.execute("DELETE FROM sessions WHERE user_id = ?1", [id]).map_err(write)?;
    audit(&transaction, now, author, "user.passwd", name)?;
    transaction.commit().map_err(write)?;
    Ok(())
}

/// Stores a token's digest for `name` under `label`; returns the token's id.
pub fn add_token(
    connection: &mut Connection,
    name: &str,
    label: &str,
    digest: &str,
    author: &str,
    now: Timestamp,
) -> Result<i64, UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    let user = id_of(&transaction, name)?;
    transaction
        .execute(
            "INSERT INTO api_tokens (user_id, label, digest, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![user, label, digest, now.as_second()],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    audit(&transaction, now, author, "user.token", &format!("{name}：令牌 #{id}（{label}）"))?;
    transaction.commit().map_err(write)?;
    Ok(id)
}

/// Revokes `name`'s token `id`: it stops working at once; the row stays for the record.
pub fn revoke_token(
    connection: &mut Connection,
    name: &str,
    id: i64,
    author: &str,
    now: Timestamp,
) -> Result<(), UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    let user = id_of(&transaction, name)?;
    let changed = transaction
        .execute(
            "UPDATE api_tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
            params![id, user, now.as_second()],
        )
        .map_err(write)?;
    if changed == 0 {
        return Err(UserError::Refused(format!("{name} 没有未撤销的令牌 #{id}：用 user list 查看令牌数")));
    }
    audit(&transaction, now, author, "user.token_revoke", &format!("{name}：令牌 #{id}"))?;
    transaction.commit().map_err(write)?;
    Ok(())
}

/// The columns [`read_user`] reads, from `users u`.
const USER_COLUMNS: &str = "u.id, u.name, u.role, u.counties, u.created_at, u.created_by, u.disabled_at,
    u.password_hash IS NOT NULL,
    (SELECT count(*) FROM api_tokens k WHERE k.user_id = u.id AND k.revoked_at IS NULL)";

/// A token's last use is written at most this often (seconds): a script calling every second
/// must not turn every read into a write.
const TOUCH_EVERY: i64 = 60;

/// The enabled user a token's digest belongs to, if the token is not revoked; notes its use.
pub fn user_for_token(connection: &Connection, digest: &str, now: Timestamp) -> Result<Option<User>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.digest = ?1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL"
        ))
        .map_err(StoreError::Write)?;
    let user = statement.query_row([digest], read_user).optional().map_err(StoreError::Write)?;
    if user.is_some() {
        connection
            .execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE digest = ?1 AND coalesce(last_used_at, 0) < ?2 - ?3",
                params![digest, now.as_second(), TOUCH_EVERY],
            )
            .map_err(StoreError::Write)?;
    }
    Ok(user)
}

/// An enabled user by name (letter case aside) with its password hash, for a login.
pub fn user_for_login(connection: &Connection, name: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u
             WHERE lower(u.name) = lower(?1) AND u.disabled_at IS NULL"
        ))
        .map_err(StoreError::Write)?;
    statement
        .query_row([name], |row| Ok((read_user(row)?, row.get::<_, Option<String>>(9)?)))
        .optional()
        .map_err(StoreError::Write)
}

/// Records a login: the session's digest, valid until `expires_at`. Expired sessions go at
/// the same time.
pub fn start_session(
    connection: &Connection,
    user: &User,
    digest: &str,
    address: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    connection.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.as_second()]).map_err(StoreError::Write)?;
    connection
        .execute(
            "INSERT INTO sessions (digest, user_id, created_at, expires_at, last_seen_at, address)
             VALUES (?1, ?2, ?3, ?4, ?3, ?5)",
            params![digest, user.id, now.as_second(), expires_at.as_second(), address],
        )
        .map_err(StoreError::Write)?;
    connection
        .execute(
            "INSERT INTO audit_log (at, author, action, detail) VALUES (?1, ?2, 'user.login', ?3)",
            params![now.as_second(), user.name, address],
        )
        .map_err(StoreError::Write)?;
    Ok(())
}

/// The enabled user of a live session: not past its expiry, and used within `idle` seconds.
/// Notes its use.
pub fn user_for_session(
    connection: &Connection,
    digest: &str,
    now: Timestamp,
    idle: i64,
) -> Result<Option<User>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.digest = ?1 AND s.expires_at > ?2 AND s.last_seen_at > ?2 - ?3 AND u.disabled_at IS NULL"
        ))
        .map_err(StoreError::Write)?;
    let user =
        statement.query_row(params![digest, now.as_second(), idle], read_user).optional().map_err(StoreError::Write)?;
    if user.is_some() {
        connection
            .execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE digest = ?1 AND last_seen_at < ?2 - ?3",
                params![digest, now.as_second(), TOUCH_EVERY.min(idle / 4)],
            )
            .map_err(StoreError::Write)?;
    }
    Ok(user)
}

/// Ends a session (logout); the audit log names its user.
pub fn end_session(connection: &Connection, digest: &str, now: Timestamp) -> Result<(), StoreError> {
    let name: Option<String> = connection
        .query_row(
            "SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ?1",
            [digest],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::Write)?;
    connection.execute("DELETE FROM sessions WHERE digest = ?1", [digest]).map_err(StoreError::Write)?;
    if let Some(name) = name {
        connection
            .execute(
                "INSERT INTO audit_log (at, author, action, detail) VALUES (?1, ?2, 'user.logout', '')",
                params![now.as_second(), name],
            )
            .map_err(StoreError::Write)?;
    }
    Ok(())
}

/// Whether any user exists (the web says how to make the first one otherwise).
pub fn any_user(connection: &Connection) -> Result<bool, StoreError> {
    connection.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |row| row.get(0)).map_err(StoreError::Write)
}
