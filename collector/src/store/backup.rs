//! An online backup of the collector's database: `xunjian-collector backup`.
//!
//! SQLite's `VACUUM INTO` copies the database as one read transaction sees it. In WAL mode that
//! read does not wait for the writer, and the writer does not wait for it (the WAL only grows a
//! little while the copy runs), so the collector keeps taking pushes, and the copy is
//! consistent: every batch acknowledged before the copy began is in it (as a checkpoint or in
//! the batch log, which a collector started on the copy replays), with the ledger, the history,
//! the registry, users and tasks as of that moment. The copy is written to a file of its own
//! beside the destination (created here, readable by its owner only: it holds password hashes)
//! and linked into place once complete and checked, so the destination is never half a backup
//! and never an existing file.
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
    #[error("{}: 无法在此写备份（{source}）；请先建好目录并让运行本命令的用户可写，例如 sudo install -d -o xunjian -g xunjian -m 0700 <目录>", path.display())]
    Destination {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("读取数据库 {} 失败：{source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("写入 {} 失败：{source}；请检查目标磁盘的空间和权限，原数据库未受影响", path.display())]
    Write {
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
    #[error("{}: 副本校验未通过（{detail}）；原数据库未受影响。副本损坏时请重试；若提示缺少表，--config/--database 指向的不是巡检的数据库", path.display())]
    Check { path: PathBuf, detail: String },
}

/// The copy's own name, removed when dropped: on every failure, and once the copy has its
/// destination's name as well.
struct Partial {
    path: PathBuf,
}

impl Drop for Partial {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
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
    // Created here, empty, owner-only, and never over another file (a second backup running,
    // or a user's own file of that name); SQLite writes into an empty file.
    let partial_path = partial_path(out);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&partial_path).map_err(|source| BackupError::Destination { path: partial_path.clone(), source })?;
    let partial = Partial { path: partial_path };

    // Never created, never migrated: a backup does not change the database it copies. (Not
    // read-only: a read-only connection to a WAL database needs its -shm file to exist already.)
    let read = |source| BackupError::Read { path: database.to_path_buf(), source };
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(read)?;
    // The writer checkpoints the WAL now and then; wait for it rather than fail.
    source.busy_timeout(Duration::from_secs(30)).map_err(read)?;
    progress(&format!("复制 {} → {}…", database.display(), out.display()));
    source
        .execute("VACUUM INTO ?1", [path_text(&partial.path)?])
        .map_err(|source| BackupError::Write { path: partial.path.clone(), source })?;
    drop(source);
    progress("校验副本…");
    let (logged_batches, batch_ids) = check_copy(&partial.path)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::Io { path, source }
    };
    std::fs::File::open(&partial.path).and_then(|file| file.sync_all()).map_err(io(&partial.path))?;
    // A hard link fails when `out` appeared meanwhile, where a rename would replace it.
    std::fs::hard_link(&partial.path, out).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(out.to_path_buf()),
        _ => BackupError::Io { path: out.to_path_buf(), source },
    })?;
    drop(partial); // the second name goes; the copy stays as `out`
    // The new name is durable once its directory is.
    let directory = out.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let _ = std::fs::File::open(directory).and_then(|dir| dir.sync_all());
    let bytes = std::fs::metadata(out).map_err(io(out))?.len();
    Ok(BackupReport { bytes, took: started.elapsed(), logged_batches, batch_ids })
}

/// `SQLite`'s own check of the copy, and what it holds of the batch log and batch ids.
fn check_copy(copy: &Path) -> Result<(i64, i64), BackupError> {
    let check = |detail: String| BackupError::Check { path: copy.to_path_buf(), detail };
    let connection = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|error| check(error.to_string()))?;
    let verdict: String =
        connection.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(|error| check(error.to_string()))?;
    if verdict != "ok" {
        return Err(check(verdict));
    }
    let count = |table: &str| -> Result<i64, BackupError> {
        connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0))
            .map_err(|source| check(format!("{table}: {source}")))
    };
    Ok((count("batch_log")?, count("batches")?))
}

/// Where the copy is written until it is complete: beside `out`, so the link stays on one file
/// system.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

fn path_text(path: &Path) -> Result<String, BackupError> {
    path.to_str().map(str::to_string).ok_or_else(|| BackupError::Destination {
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
        assert!(!partial_path(&out).exists(), "the partial name is gone once the copy is in place");
        // The copy opens as a store.
        drop(super::super::Store::open(&out).expect("the copy opens"));
        assert!(matches!(backup(&database, &out, &|_| {}), Err(BackupError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the copy holds password hashes: owner only, not {mode:o}");
        }
        // A file of the partial's name is someone's: not removed, and the backup refused.
        let other = dir.join("other.db");
        std::fs::write(partial_path(&other), "mine").unwrap();
        assert!(matches!(backup(&database, &other, &|_| {}), Err(BackupError::Destination { .. })));
        assert_eq!(std::fs::read_to_string(partial_path(&other)).unwrap(), "mine");
        // No such directory: said so, naming the destination.
        let nowhere = dir.join("no-such-dir").join("copy.db");
        let error = backup(&database, &nowhere, &|_| {}).unwrap_err();
        assert!(
            matches!(error, BackupError::Destination { .. }) && error.to_string().contains("no-such-dir"),
            "{error}"
        );
        // Not a collector's database: the check says which table is missing.
        let stranger = dir.join("stranger.db");
        rusqlite::Connection::open(&stranger).unwrap().execute_batch("CREATE TABLE t (x);").unwrap();
        let error = backup(&stranger, &dir.join("stranger-copy.db"), &|_| {}).unwrap_err();
        assert!(error.to_string().contains("batch_log"), "{error}");
        assert!(!partial_path(&dir.join("stranger-copy.db")).exists() && !dir.join("stranger-copy.db").exists());
        let missing = dir.join("missing.db");
        assert!(matches!(backup(&missing, &dir.join("fresh.db"), &|_| {}), Err(BackupError::NoDatabase(_))));
        assert!(!missing.exists(), "a backup does not create the database it was asked to copy");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
