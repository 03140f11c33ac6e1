//! Pushing spooled batches to the collector: the mTLS client, retries with exponential backoff,
//! failover to a second collector.
//!
//! A batch is encoded once (gzip JSON, `batch.rs`), written to the disk spool (`spool.rs`), and resent byte
//! for byte until the collector answers: the same batch id every time, so a batch that arrived
//! but whose answer was lost is taken once (the collector treats a repeated id as a
//! duplicate). 2xx removes it from the spool; 5xx, 429 (after its Retry-After) and network
//! failures keep it and back off; any other 4xx means the batch can never be taken as it is, so
//! it is set aside in the spool's `rejected/` with an error naming the collector's reason.

use std::path::Path;
use std::time::Duration;

use url::Url;
use xunjian_shared::config::CollectorLink;
use xunjian_shared::retry::Backoff;
use xunjian_shared::wire::{ApiError, PushAck};

use crate::batch::EncodedBatch;

/// Retries of one batch: doubling from 1 s, at most a minute apart.
pub const BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
/// One push, request to answer.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("collector.{key}: {}: {source}", path.display())]
    Unreadable {
        key: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The files were read but are not a usable CA, certificate and key.
    #[error("collector.{key}: {}: {reason}", path.display())]
    Credentials { key: &'static str, path: std::path::PathBuf, reason: String },
    #[error("cannot build the push client: {0}")]
    Client(#[source] reqwest::Error),
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

/// The mTLS client to the collector (and its fallback).
pub struct Pusher {
    client: reqwest::Client,
    endpoints: Vec<Url>,
}

impl Pusher {
    pub fn new(link: &CollectorLink) -> Result<Self, PushError> {
        let read = |key: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| PushError::Unreadable { key, path: path.to_path_buf(), source })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_the_push_path() {
        let check = |url: &str, expected: &str| assert_eq!(push_endpoint(&Url::parse(url).unwrap()).as_str(), expected);
        check("https://c.example.gov.cn:9443/", "https://c.example.gov.cn:9443/api/v1/push");
        check("https://c.example.gov.cn:9443", "https://c.example.gov.cn:9443/api/v1/push");
        check("https://c.example.gov.cn/xunjian/", "https://c.example.gov.cn/xunjian/api/v1/push");
        check("https://c.example.gov.cn/api/v1/push", "https://c.example.gov.cn/api/v1/push");
    }
}
