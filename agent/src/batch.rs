//! Sealing observations into batches, before the spool: ids from the system RNG, sequence
//! numbers continuing the spool's, gzip JSON encoded once. The send path runs one way:
//! `batch.rs` → `spool.rs` → `push.rs`.

use std::io::Write as _;

use jiff::Timestamp;
use xunjian_shared::retry::random_bytes;
use xunjian_shared::wire::{Batch, BatchId, Observation, SCHEMA_VERSION, SubjectRef};

/// Observations per batch: large enough to amortise TLS and fsync, small enough that one
/// batch is far below the collector's body limit (about 1 KB of JSON each, 10:1 gzip).
pub const MAX_BATCH_OBSERVATIONS: usize = 500;

/// A batch ready to send: encoded once, sent as often as needed.
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    pub batch_id: BatchId,
    pub sequence: u64,
    pub observations: usize,
    pub body: Vec<u8>,
}

/// Builds batches: ids, sequence numbers, encoding.
pub struct Batcher {
    agent: String,
    county: String,
    next_sequence: u64,
}

impl Batcher {
    /// Sequence numbers continue from `next_sequence` (the spool's, so they rise across
    /// restarts without gaps).
    pub fn new(agent: &str, county: &str, next_sequence: u64) -> Self {
        Batcher { agent: agent.to_string(), county: county.to_string(), next_sequence }
    }

    pub fn batch(
        &mut self,
        observations: Vec<Observation>,
        inventory: Option<Vec<SubjectRef>>,
        now: Timestamp,
    ) -> EncodedBatch {
        let batch = Batch {
            schema_version: SCHEMA_VERSION,
            batch_id: self.new_id(),
            agent: self.agent.clone(),
            county: self.county.clone(),
            sequence: self.next_sequence,
            created_at: now,
            inventory,
            observations,
        };
        self.next_sequence += 1;
        encode(&batch)
    }

    fn new_id(&self) -> BatchId {
        // The system RNG does not fail on Linux; the fallback keeps ids unique regardless.
        let bytes = random_bytes::<16>().unwrap_or_else(|| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&self.next_sequence.to_be_bytes());
            bytes[8..].copy_from_slice(&(Timestamp::now().as_nanosecond() as u64).to_be_bytes());
            bytes
        });
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        BatchId::parse(&hex).expect("32 hex characters are a valid batch id")
    }
}

/// Serializes and gzips a batch.
pub fn encode(batch: &Batch) -> EncodedBatch {
    let json = serde_json::to_vec(batch).expect("a batch always serializes");
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 6), flate2::Compression::fast());
    encoder.write_all(&json).expect("writing to a Vec cannot fail");
    let body = encoder.finish().expect("finishing into a Vec cannot fail");
    EncodedBatch {
        batch_id: batch.batch_id.clone(),
        sequence: batch.sequence,
        observations: batch.observations.len(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_have_unique_ids_and_rising_sequences() {
        let mut batcher = Batcher::new("longchuan", "龙川县", 41);
        let first = batcher.batch(Vec::new(), None, Timestamp::now());
        let second = batcher.batch(Vec::new(), None, Timestamp::now());
        assert_ne!(first.batch_id, second.batch_id);
        assert_eq!(second.sequence, first.sequence + 1);
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&first.body[..]), &mut decoded).unwrap();
        let batch: Batch = serde_json::from_slice(&decoded).unwrap();
        assert_eq!((batch.agent.as_str(), batch.schema_version), ("longchuan", SCHEMA_VERSION));
    }
}
