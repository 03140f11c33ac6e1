//! Pushing observations to the collector: batching, batch ids and sequence numbers, the mTLS
//! client, retries with exponential backoff, failover to a second collector.
//!
//! A batch is encoded once (gzip JSON), written to the disk spool (`spool.rs`), and resent byte
//! for byte until the collector answers: the same batch id every time, so a batch that arrived
//! but whose answer was lost is taken once (the collector treats a repeated id as a
//! duplicate). 2xx removes it from the spool; 5xx, 429 (after its Retry-After) and network
//! failures keep it and back off; any other 4xx means the batch can never be taken as it is, so
//! it is set aside in the spool's `rejected/` with an error naming the collector's reason.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use ring::rand::SecureRandom as _;
use url::Url;
use xunjian_shared::config::CollectorLink;
use xunjian_shared::wire::{ApiError, Batch, BatchId, Observation, PushAck, SCHEMA_VERSION, SubjectRef};

/// Observations per batch: large enough to amortise TLS and fsync, small enough that one
/// batch is far below the collector's body limit (about 1 KB of JSON each, 10:1 gzip).
pub const MAX_BATCH_OBSERVATIONS: usize = 500;
/// First retry delay; doubles per failure up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// One push, request to answer.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("collector.{key}: {}: {reason}", path.display())]
    Credentials { key: &'static str, path: std::path::PathBuf, reason: String },
    #[error("cannot build the push client: {0}")]
    Client(#[source] reqwest::Error),
}

/// A batch ready to send: encoded once, sent as often as needed.
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    pub batch_id: BatchId,
    pub sequence: u64,
    pub observations: usize,
    pub body: Vec<u8>,
}

/// What one attempt to send a batch came to.
#[derive(Debug)]
pub enum Delivery {
    Acked(PushAck),
    /// The collector refused the batch for good (4xx other than 429).
    Refused {
        status: u16,
        error: Option<ApiError>,
    },
    /// Try again later (network failure, 5xx, 429), not before `after` when the collector said.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// Builds batches: ids, sequence numbers, encoding.
pub struct Batcher {
    agent: String,
    county: String,
    next_sequence: u64,
    random: ring::rand::SystemRandom,
}

impl Batcher {
    /// Sequence numbers continue from `next_sequence` (the spool's, so they rise across
    /// restarts without gaps).
    pub fn new(agent: &str, county: &str, next_sequence: u64) -> Self {
        Batcher {
            agent: agent.to_string(),
            county: county.to_string(),
            next_sequence,
            random: ring::rand::SystemRandom::new(),
        }
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
        let mut bytes = [0u8; 16];
        // The system RNG does not fail on Linux; the fallback keeps ids unique regardless.
        if self.random.fill(&mut bytes).is_err() {
            bytes[..8].copy_from_slice(&self.next_sequence.to_be_bytes());
            bytes[8..].copy_from_slice(&(Timestamp::now().as_nanosecond() as u64).to_be_bytes());
        }
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

/// The mTLS client to the collector (and its fallback).
pub struct Pusher {
    client: reqwest::Client,
    endpoints: Vec<Url>,
}

impl Pusher {
    pub fn new(link: &CollectorLink) -> Result<Self, PushError> {
        let read = |key: &'static str, path: &Path| {
            std::fs::read(path).map_err(|err| PushError::Credentials {
                key,
                path: path.to_path_buf(),
                reason: err.to_string(),
            })
        };
        let ca_pem = read("ca", &link.ca)?;
        let mut identity_pem = read("cert", &link.cert)?;
        identity_pem.push(b'\n');
        identity_pem.extend(read("key", &link.key)?);
        Self::from_pem(&link.url, link.fallback_url.as_ref(), &ca_pem, &identity_pem)
            .map_err(|err| PushError::Credentials { key: "cert", path: link.cert.clone(), reason: err })
    }

    /// From PEM bytes: the CA to trust, and this agent's certificate followed by its key.
    pub fn from_pem(url: &Url, fallback: Option<&Url>, ca_pem: &[u8], identity_pem: &[u8]) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let roots =
            reqwest::Certificate::from_pem_bundle(ca_pem).map_err(|err| format!("the CA file is not PEM: {err}"))?;
        let identity = reqwest::Identity::from_pem(identity_pem)
            .map_err(|err| format!("the certificate and key are not a PEM pair: {err}"))?;
        let client = reqwest::Client::builder()
            .tls_certs_only(roots)
            .identity(identity)
            .https_only(true)
            .no_proxy()
            .timeout(PUSH_TIMEOUT)
            .user_agent(concat!("xunjian-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("cannot build the push client: {err}"))?;
        let endpoints = std::iter::once(url).chain(fallback).map(push_endpoint).collect();
        Ok(Pusher { client, endpoints })
    }

    /// Sends `batch` to the first collector that takes it.
    pub async fn deliver(&self, batch: &EncodedBatch) -> Delivery {
        let mut last = Delivery::Retry { reason: "no collector configured".into(), after: None };
        for endpoint in &self.endpoints {
            last = self.send(endpoint, batch).await;
            if !matches!(last, Delivery::Retry { .. }) {
                return last;
            }
        }
        last
    }

    async fn send(&self, endpoint: &Url, batch: &EncodedBatch) -> Delivery {
        let response = self
            .client
            .post(endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .body(batch.body.clone())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(err) => return Delivery::Retry { reason: format!("{endpoint}: {}", error_chain(&err)), after: None },
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds.min(3600)));
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            return match serde_json::from_slice::<PushAck>(&body) {
                Ok(ack) => Delivery::Acked(ack),
                Err(err) => {
                    Delivery::Retry { reason: format!("{endpoint}: unreadable acknowledgement: {err}"), after: None }
                }
            };
        }
        let error = serde_json::from_slice::<ApiError>(&body).ok();
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            let detail = error.map(|e| e.detail).unwrap_or_default();
            return Delivery::Retry { reason: format!("{endpoint}: HTTP {status} {detail}"), after: retry_after };
        }
        Delivery::Refused { status: status.as_u16(), error }
    }
}

/// `https://host:9443/` → `https://host:9443/api/v1/push` (a URL already ending in the path is kept).
fn push_endpoint(url: &Url) -> Url {
    if url.path().ends_with("/api/v1/push") {
        return url.clone();
    }
    let mut endpoint = url.clone();
    let base = url.path().trim_end_matches('/');
    endpoint.set_path(&format!("{base}/api/v1/push"));
    endpoint
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The delay before retry number `failures` (1-based): doubling from [`FIRST_BACKOFF`], capped,
/// with up to a quarter added at random so many agents do not retry in step.
pub fn backoff(failures: u32, jitter_unit: f64) -> Duration {
    let doubling = FIRST_BACKOFF.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let base = doubling.min(MAX_BACKOFF);
    base + base.mul_f64(0.25 * jitter_unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(5, 0.0), Duration::from_secs(16));
        assert_eq!(backoff(30, 0.0), MAX_BACKOFF);
        assert_eq!(backoff(1, 1.0), Duration::from_millis(1250));
    }

    #[test]
    fn endpoints_get_the_push_path() {
        let check = |url: &str, expected: &str| assert_eq!(push_endpoint(&Url::parse(url).unwrap()).as_str(), expected);
        check("https://c.example.gov.cn:9443/", "https://c.example.gov.cn:9443/api/v1/push");
        check("https://c.example.gov.cn:9443", "https://c.example.gov.cn:9443/api/v1/push");
        check("https://c.example.gov.cn/xunjian/", "https://c.example.gov.cn/xunjian/api/v1/push");
        check("https://c.example.gov.cn/api/v1/push", "https://c.example.gov.cn/api/v1/push");
    }

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
