//! An online backup of the collector's database: `xunjian-collector backup`.
//!
//! SQLite's `VACUUM INTO` copies the database as one read transaction sees it. In WAL mode that
//! read neither waits for the writer nor holds it up, so the collector keeps taking pushes, and
//! the copy is consistent: every batch acknowledged before the copy began is in it (as a
//! checkpoint or in the batch log, which a collector started on the copy replays), with the
//! ledger, the history, the registry, users and tasks as of that moment. The copy is written
//! beside the destination and renamed into place once it is complete and checked, so a
//! destination file is never half a backup.
//!
//! Restore: stop the collector, put the copy where `[collector] database` points (removing any
//! `-wal` and `-shm` files beside it), start the collector (see deploy/README.md).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub bytes: u64,
    pub took: Duration,
    /// Batches still in the batch log (replayed when a collector starts on the copy).
    pub logged_batches: i64,
    /// Batch ids remembered (a re-sent batch is recognised as a duplicate).
    pub batch_ids: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: 文件已存在；备份不覆盖已有文件，请换一个文件名或先移走它", .0.display())]
    Exists(PathBuf),
    #[error("{}: 数据库不存在；请检查 --config 中的 [collector] database 或 --database", .0.display())]
    NoDatabase(PathBuf),
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: 备份副本校验未通过（{detail}）；原数据库未受影响，请重试", path.display())]
    Check { path: PathBuf, detail: String },
}

/// Copies the database at `database` to `out` while the collector may be running; `progress`
/// hears each step.
pub fn backup(database: &Path, out: &Path, progress: &dyn Fn(&str)) -> Result<BackupReport, BackupError> {
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.to_path_buf()));
    }
    let started = Instant::now();
    let partial = partial_path(out);
    let _ = std::fs::remove_file(&partial);
    let sqlite = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::Sqlite { path, source }
    };
    // Never created, never migrated: a backup does not change the database it copies. (Not
    // read-only: a read-only connection to a WAL database needs its -shm file to exist already.)
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sqlite(database))?;
    // The writer checkpoints the WAL now and then; wait for it rather than fail.
    source.busy_timeout(Duration::from_secs(30)).map_err(sqlite(database))?;
    progress(&format!("复制 {} → {}…", database.display(), out.display()));
    let copied = source.execute("VACUUM INTO ?1", [path_text(&partial)?]).map_err(sqlite(database));
    drop(source);
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    progress("校验副本…");
    let checked = check_copy(&partial);
    let (logged_batches, batch_ids) = match checked {
        Ok(counts) => counts,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::Io { path, source }
    };
    std::fs::File::open(&partial).and_then(|file| file.sync_all()).map_err(io(&partial))?;
    std::fs::rename(&partial, out).map_err(io(out))?;
    // The rename itself is durable once the directory is.
    if let Some(directory) = out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        let _ = std::fs::File::open(directory).and_then(|dir| dir.sync_all());
    }
    let bytes = std::fs::metadata(out).map_err(io(out))?.len();
    Ok(BackupReport { bytes, took: started.elapsed(), logged_batches, batch_ids })
}

/// `SQLite`'s own check of the copy, and what it holds of the batch log and batch ids.
fn check_copy(copy: &Path) -> Result<(i64, i64), BackupError> {
    let sqlite = |source| BackupError::Sqlite { path: copy.to_path_buf(), source };
    let connection = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite)?;
    let verdict: String = connection.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(sqlite)?;
    if verdict != "ok" {
        return Err(BackupError::Check { path: copy.to_path_buf(), detail: verdict });
    }
    let count = |table: &str| -> Result<i64, BackupError> {
        connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0))
            .map_err(|source| BackupError::Check { path: copy.to_path_buf(), detail: format!("{table}: {source}") })
    };
    Ok((count("batch_log")?, count("batches")?))
}

/// Where the copy is written until it is complete: beside `out`, so the rename stays on one
/// file system.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

fn path_text(path: &Path) -> Result<String, BackupError> {
    path.to_str().map(str::to_string).ok_or_else(|| BackupError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "备份路径须为 UTF-8"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_a_checked_copy_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("xunjian-backup-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("xunjian.db");
        let store = super::super::Store::open(&database).expect("open store");
        drop(store);
        let out = dir.join("copy.db");
        let report = backup(&database, &out, &|_| {}).expect("backup");
        assert!(report.bytes > 0);
        assert_eq!((report.logged_batches, report.batch_ids), (0, 0));
        assert!(!partial_path(&out).exists(), "the partial file is renamed into place");
        // The copy opens as a store.
        drop(super::super::Store::open(&out).expect("the copy opens"));
        assert!(matches!(backup(&database, &out, &|_| {}), Err(BackupError::Exists(_))));
        let missing = dir.join("missing.db");
        assert!(matches!(backup(&missing, &dir.join("other.db"), &|_| {}), Err(BackupError::NoDatabase(_))));
        assert!(!missing.exists(), "a backup does not create the database it was asked to copy");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
