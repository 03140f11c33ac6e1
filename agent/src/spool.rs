//! The disk spool: every batch is written here before it is sent, and removed only after the
//! collector has taken it. So batches survive a collector that is down for days, agent
//! restarts and `kill -9`, and are sent in order when the collector returns.
//!
//! One file per batch, `<sequence>.rec`: a magic line, a JSON header (id, sequence,
//! observations), the gzip body exactly as it is pushed, and a CRC-32 of all of it. A record is
//! written to a `.tmp` file, synced, and renamed; a crash mid-write leaves a `.tmp` that the next
//! start removes (with a log line), and a record whose checksum does not match is moved to
//! `corrupt/` and counted, never a crash loop. Records the collector refuses for good go to
//! `rejected/`. The spool is bounded in bytes: beyond it the oldest records are dropped, each
//! with a counter and an error line. `acked` holds the last sequence the collector took, so
//! sequence numbers continue across restarts. A lock file keeps two agents out of one spool.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use xunjian_shared::wire::BatchId;

use crate::batch::EncodedBatch;

const MAGIC: &[u8] = b"XJSPOOL1\n";

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "spool {} is in use by another xunjian-agent (lock held); give each agent its own [spool] dir",
        path.display()
    )]
    Locked { path: PathBuf },
}

fn io(path: &Path, source: std::io::Error) -> SpoolError {
    SpoolError::Io { path: path.to_path_buf(), source }
}

/// What the spool holds of one record, in memory (the body stays on disk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    pub batch_id: BatchId,
    pub sequence: u64,
    pub observations: usize,
    pub bytes: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    batch_id: BatchId,
    sequence: u64,
    observations: usize,
}

/// Counters for `/metrics` and the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpoolCounters {
    pub dropped_batches: u64,
    pub dropped_observations: u64,
    pub corrupt_records: u64,
    pub rejected_batches: u64,
}

pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    records: VecDeque<RecordMeta>,
    bytes: u64,
    last_sequence: u64,
    pub counters: SpoolCounters,
    _lock: File,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`: removes torn writes, sets corrupt records aside,
    /// and lists the rest in sequence order.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        for sub in ["", "corrupt", "rejected"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| io(&dir.join(sub), e))?;
        }
        let lock_path = dir.join("lock");
        let lock =
            File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(SpoolError::Locked { path: dir.to_path_buf() });
        }
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            records: VecDeque::new(),
            bytes: 0,
            last_sequence: 0,
            counters: SpoolCounters::default(),
            _lock: lock,
        };
        spool.last_sequence = read_acked(&dir.join("acked"));
        let mut found: Vec<(u64, PathBuf)> = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            if name.ends_with(".tmp") {
                tracing::warn!(file = %path.display(), "removing a batch whose write was interrupted (agent stopped mid-write); it had not been sent");
                let _ = fs::remove_file(&path);
            } else if let Some(sequence) = name.strip_suffix(".rec").and_then(|s| s.parse::<u64>().ok()) {
                found.push((sequence, path));
            }
        }
        found.sort();
        for (sequence, path) in found {
            match read_record(&path) {
                Ok((header, _body)) if header.sequence == sequence => {
                    let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    spool.bytes += bytes;
                    spool.last_sequence = spool.last_sequence.max(sequence);
                    spool.records.push_back(RecordMeta {
                        batch_id: header.batch_id,
                        sequence,
                        observations: header.observations,
                        bytes,
                    });
                }
                Ok(_) | Err(_) => {
                    spool.counters.corrupt_records += 1;
                    let aside = dir.join("corrupt").join(path.file_name().unwrap_or_default());
                    tracing::error!(file = %path.display(), moved_to = %aside.display(), "spool record damaged (checksum or header); set aside, not sent");
                    let _ = fs::rename(&path, &aside);
                    spool.last_sequence = spool.last_sequence.max(sequence);
                }
            }
        }
        if !spool.records.is_empty() {
            tracing::info!(
                batches = spool.records.len(),
                bytes = spool.bytes,
                "spool holds batches from before; sending them first"
            );
        }
        Ok(spool)
    }

    /// The sequence number the next batch gets: one past any batch this spool ever held.
    pub fn next_sequence(&self) -> u64 {
        self.last_sequence + 1
    }

    /// Writes `batch` durably; drops the oldest records if the spool would exceed its bound.
    pub fn append(&mut self, batch: &EncodedBatch) -> Result<(), SpoolError> {
        let header = serde_json::to_vec(&Header {
            batch_id: batch.batch_id.clone(),
            sequence: batch.sequence,
            observations: batch.observations,
        })
        .map_err(|e| io(&self.dir, e.into()))?;
        let mut record = Vec::with_capacity(MAGIC.len() + 16 + header.len() + batch.body.len());
        record.extend_from_slice(MAGIC);
        record.extend_from_slice(&(header.len() as u32).to_le_bytes());
        record.extend_from_slice(&header);
        record.extend_from_slice(&(batch.body.len() as u64).to_le_bytes());
        record.extend_from_slice(&batch.body);
        let crc = crc32fast::hash(&record);
        record.extend_from_slice(&crc.to_le_bytes());

        let path = self.record_path(batch.sequence);
        let tmp = path.with_extension("tmp");
        let mut file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        file.write_all(&record).and_then(|()| file.sync_all()).map_err(|e| io(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        sync_dir(&self.dir);
        self.bytes += record.len() as u64;
        self.last_sequence = self.last_sequence.max(batch.sequence);
        self.records.push_back(RecordMeta {
            batch_id: batch.batch_id.clone(),
            sequence: batch.sequence,
            observations: batch.observations,
            bytes: record.len() as u64,
        });
        while self.bytes > self.max_bytes && self.records.len() > 1 {
            let Some(oldest) = self.records.pop_front() else { break };
            self.bytes -= oldest.bytes;
            self.counters.dropped_batches += 1;
            self.counters.dropped_observations += oldest.observations as u64;
            tracing::error!(
                batch_id = %oldest.batch_id,
                sequence = oldest.sequence,
                observations = oldest.observations,
                max_bytes = self.max_bytes,
                "spool full (collector unreachable for too long): dropped the oldest batch; raise [spool] max_bytes to keep more"
            );
            let _ = fs::remove_file(self.record_path(oldest.sequence));
        }
        Ok(())
    }

    /// The oldest record and its body, read back and checked; a damaged one is set aside and
    /// the next tried.
    pub fn front(&mut self) -> Option<EncodedBatch> {
        while let Some(meta) = self.records.front().cloned() {
            let path = self.record_path(meta.sequence);
            match read_record(&path) {
                Ok((_, body)) => {
                    return Some(EncodedBatch {
                        batch_id: meta.batch_id,
                        sequence: meta.sequence,
                        observations: meta.observations,
                        body,
                    });
                }
                Err(reason) => {
                    self.counters.corrupt_records += 1;
                    tracing::error!(file = %path.display(), reason = %reason, "spool record unreadable; set aside, not sent");
                    let _ = fs::rename(&path, self.dir.join("corrupt").join(path.file_name().unwrap_or_default()));
                    self.forget_front();
                }
            }
        }
        None
    }

    /// The collector took the oldest record: remember its sequence, then delete it.
    pub fn acknowledge(&mut self) {
        let Some(meta) = self.records.front().cloned() else { return };
        // The acked sequence is durable before the record goes, so a crash in between resends
        // the record (a duplicate the collector recognises) rather than reusing its sequence.
        write_acked(&self.dir.join("acked"), meta.sequence);
        let _ = fs::remove_file(self.record_path(meta.sequence));
        self.forget_front();
    }

    /// The collector refused the oldest record for good: keep it in `rejected/` for inspection.
    pub fn reject(&mut self) {
        let Some(meta) = self.records.front().cloned() else { return };
        self.counters.rejected_batches += 1;
        write_acked(&self.dir.join("acked"), meta.sequence);
        let path = self.record_path(meta.sequence);
        let _ = fs::rename(&path, self.dir.join("rejected").join(path.file_name().unwrap_or_default()));
        self.forget_front();
    }

    fn forget_front(&mut self) {
        if let Some(meta) = self.records.pop_front() {
            self.bytes = self.bytes.saturating_sub(meta.bytes);
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn record_path(&self, sequence: u64) -> PathBuf {
        self.dir.join(format!("{sequence:020}.rec"))
    }
}

/// A record's header and body, or why it cannot be trusted.
fn read_record(path: &Path) -> Result<(Header, Vec<u8>), String> {
    let mut bytes = Vec::new();
    File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(|e| e.to_string())?;
    let (content, crc) = bytes.split_at_checked(bytes.len().saturating_sub(4)).ok_or("too short")?;
    let expected = u32::from_le_bytes(crc.try_into().map_err(|_| "too short")?);
    if crc32fast::hash(content) != expected {
        return Err("checksum mismatch".into());
    }
    let rest = content.strip_prefix(MAGIC).ok_or("not a spool record")?;
    let (length, rest) = rest.split_at_checked(4).ok_or("truncated header length")?;
    let length = u32::from_le_bytes(length.try_into().map_err(|_| "bad length")?) as usize;
    let (header, rest) = rest.split_at_checked(length).ok_or("truncated header")?;
    let header: Header = serde_json::from_slice(header).map_err(|e| e.to_string())?;
    let (body_length, body) = rest.split_at_checked(8).ok_or("truncated body length")?;
    let body_length = u64::from_le_bytes(body_length.try_into().map_err(|_| "bad length")?) as usize;
    if body.len() != body_length {
        return Err("body length mismatch".into());
    }
    Ok((header, body.to_vec()))
}

fn read_acked(path: &Path) -> u64 {
    fs::read_to_string(path).ok().and_then(|text| text.trim().parse().ok()).unwrap_or(0)
}

fn write_acked(path: &Path, sequence: u64) {
    let tmp = path.with_extension("tmp-acked");
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(sequence.to_string().as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(error) = written {
        tracing::error!(file = %path.display(), error = %error, "cannot record the acknowledged sequence; a restart may resend a batch (the collector recognises it)");
    }
}

/// Makes a rename durable (the directory entry), where the platform allows.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(sequence: u64, observations: usize, body_len: usize) -> EncodedBatch {
        EncodedBatch {
            batch_id: BatchId::parse(&format!("{sequence:032x}")).unwrap(),
            sequence,
            observations,
            body: vec![sequence as u8; body_len],
        }
    }

    fn dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xunjian-spool-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn survives_restarts_in_order_and_continues_sequences() {
        let dir = dir("order");
        {
            let mut spool = Spool::open(&dir, 1 << 20).unwrap();
            assert_eq!(spool.next_sequence(), 1);
            for sequence in 1..=3 {
                spool.append(&batch(sequence, 10, 100)).unwrap();
            }
            assert!(matches!(Spool::open(&dir, 1 << 20), Err(SpoolError::Locked { .. })), "one agent per spool");
            assert_eq!(spool.front().unwrap().sequence, 1);
            spool.acknowledge();
        }
        let mut spool = Spool::open(&dir, 1 << 20).unwrap();
        let order: Vec<u64> = spool.records.iter().map(|r| r.sequence).collect();
        assert_eq!(order, [2, 3]);
        assert_eq!(spool.front().unwrap().body, vec![2u8; 100]);
        spool.acknowledge();
        spool.acknowledge();
        assert!(spool.is_empty());
        drop(spool);
        assert_eq!(Spool::open(&dir, 1 << 20).unwrap().next_sequence(), 4, "sequences continue past acked ones");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn torn_and_damaged_records_are_skipped_not_fatal() {
        let dir = dir("torn");
        {
            let mut spool = Spool::open(&dir, 1 << 20).unwrap();
            for sequence in 1..=3 {
                spool.append(&batch(sequence, 5, 64)).unwrap();
            }
        }
        // A write interrupted before its rename, and a record damaged on disk.
        fs::write(dir.join(format!("{:020}.tmp", 4)), b"XJSPOOL1\n\x10\x00").unwrap();
        let damaged = dir.join(format!("{:020}.rec", 2));
        let mut bytes = fs::read(&damaged).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&damaged, bytes).unwrap();
        let truncated = dir.join(format!("{:020}.rec", 3));
        let bytes = fs::read(&truncated).unwrap();
        fs::write(&truncated, &bytes[..bytes.len() - 7]).unwrap();

        let mut spool = Spool::open(&dir, 1 << 20).unwrap();
        assert_eq!(spool.len(), 1);
        assert_eq!(spool.counters.corrupt_records, 2);
        assert_eq!(spool.front().unwrap().sequence, 1);
        assert!(!dir.join(format!("{:020}.tmp", 4)).exists());
        assert_eq!(fs::read_dir(dir.join("corrupt")).unwrap().count(), 2, "kept for inspection");
        assert_eq!(spool.next_sequence(), 4, "a damaged record's sequence is not reused");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_it() {
        let dir = dir("full");
        let mut spool = Spool::open(&dir, 1000).unwrap();
        for sequence in 1..=5 {
            spool.append(&batch(sequence, 7, 300)).unwrap();
        }
        assert!(spool.bytes() <= 1000);
        let kept: Vec<u64> = spool.records.iter().map(|r| r.sequence).collect();
        assert_eq!(kept, [4, 5]);
        assert_eq!((spool.counters.dropped_batches, spool.counters.dropped_observations), (3, 21));
        assert_eq!(
            fs::read_dir(&dir)
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "rec"))
                .count(),
            2
        );
        spool.reject();
        assert_eq!(spool.counters.rejected_batches, 1);
        assert_eq!(fs::read_dir(dir.join("rejected")).unwrap().count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}
