//! `POST /api/v1/push`: an agent's batch in, an acknowledgement out, only after commit.
//!
//! Order of checks, each refusal a 4xx with `{ "error": <code>, "detail": <what> }`:
//! body encoding (415) → size, compressed and decompressed (413) → JSON and schema version
//! (400) → the batch's agent equals the client certificate's name (403) → field limits (400).
//! Then the store commits (or recognises a duplicate id) and the answer is 200. A store failure
//! is 503, which agents retry.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use jiff::Timestamp;
use xunjian_shared::wire::{ApiError, Batch, PushAck, PushStatus, SUPPORTED_SCHEMA_VERSIONS, VersionProbe};

use crate::metrics::{CollectorCounters, RejectReason};
use crate::store::{CommitOutcome, LoggedBody, Store};

/// Who is on the other end of a push connection, from its verified client certificate.
#[derive(Clone, Debug)]
pub struct PeerIdentity {
    /// The certificate's common name: the agent id.
    pub common_name: Option<String>,
    pub serial: Option<String>,
}

pub struct IngestState {
    pub store: Store,
    pub counters: CollectorCounters,
    pub max_body_bytes: u64,
    /// The body must arrive within this after the headers.
    pub read_timeout: std::time::Duration,
    pub rate: RateLimiter,
}

/// Batches per agent per minute: a token bucket per certificate name, as large as a minute's
/// allowance, so a draining spool may burst and a runaway agent is slowed, not cut off.
pub struct RateLimiter {
    per_minute: f64,
    buckets: std::sync::Mutex<std::collections::HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute: f64::from(per_minute.max(1)), buckets: Default::default() }
    }

    /// Takes a token for `agent`; Err(seconds to wait) when there is none.
    pub fn take(&self, agent: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = buckets.entry(agent.to_string()).or_insert((self.per_minute, now));
        let refill = now.duration_since(*at).as_secs_f64() * self.per_minute / 60.0;
        *tokens = (*tokens + refill).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) * 60.0 / self.per_minute).ceil().max(1.0) as u64)
        }
    }
}

/// Most observations one batch may carry; agents send a few hundred at a time.
const MAX_OBSERVATIONS_PER_BATCH: usize = 100_000;
/// Longest name (target, column, unit, county) accepted, in characters.
const MAX_NAME_CHARS: usize = 256;

/// Why a push was refused: the status, the counted reason, and what to fix.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: RejectReason,
    pub detail: String,
    /// Seconds the client should wait (429).
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, reason: RejectReason, detail: impl Into<String>) -> Self {
        Refusal { status, reason, detail: detail.into(), retry_after: None }
    }
}

pub async fn push(
    State(state): State<Arc<IngestState>>,
    peer: axum::Extension<PeerIdentity>,
    request: Request,
) -> Response {
    let started = Instant::now();
    match accept(&state, &peer, request).await {
        Ok(ack) => {
            let seconds = started.elapsed().as_secs_f64();
            match ack.status {
                PushStatus::Accepted => state.counters.accepted(ack.observations, seconds),
                PushStatus::Duplicate => state.counters.duplicate(seconds),
            }
            (StatusCode::OK, Json(ack)).into_response()
        }
        Err(refusal) => {
            state.counters.rejected(refusal.reason);
            tracing::warn!(agent = peer.common_name.as_deref().unwrap_or("?"), reason = refusal.reason.as_str(), detail = %refusal.detail, "push refused");
            let retry_after = refusal.retry_after;
            let body = ApiError { error: refusal.reason.as_str().to_string(), detail: refusal.detail };
            let mut response = (refusal.status, Json(body)).into_response();
            if let Some(seconds) = retry_after
                && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

async fn accept(state: &IngestState, peer: &PeerIdentity, request: Request) -> Result<PushAck, Refusal> {
    let certificate_name = peer.common_name.as_deref().unwrap_or("");
    // A revoked agent is refused before anything it sends is read; takes effect without a restart.
    if let Some(revocation) = state.store.registry().revoked(certificate_name, peer.serial.as_deref()) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            RejectReason::Revoked,
            format!(
                "agent {certificate_name:?} (certificate serial {}) is revoked: {}; issue it a new certificate, or lift the revocation",
                peer.serial.as_deref().unwrap_or("?"),
                revocation.reason
            ),
        ));
    }
    if let Err(seconds) = state.rate.take(certificate_name, Instant::now()) {
        let mut refusal = Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            RejectReason::RateLimited,
            format!(
                "agent {certificate_name:?} pushes more batches than this collector takes per minute; retry after {seconds} s"
            ),
        );
        refusal.retry_after = Some(seconds);
        return Err(refusal);
    }
    let gzip = content_encoding_is_gzip(request.headers())?;
    let raw =
        match tokio::time::timeout(state.read_timeout, read_limited(request.into_body(), state.max_body_bytes)).await {
            Ok(read) => read?,
            Err(_) => {
                return Err(Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    RejectReason::MalformedBody,
                    format!("the body did not arrive within {} s", state.read_timeout.as_secs()),
                ));
            }
        };
    let batch = decode_push(&raw, gzip, state.max_body_bytes)?;
    if batch.agent != certificate_name {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            RejectReason::AgentMismatch,
            format!(
                "the batch is from agent {:?} but the client certificate is for {certificate_name:?}; each agent pushes with its own certificate",
                batch.agent
            ),
        ));
    }
    let batch_id = batch.batch_id.clone();
    // The log keeps the body as it came (gzip is about 30 times smaller than the JSON).
    let body = LoggedBody { bytes: raw, gzip };
    match state.store.commit(batch, body, Timestamp::now()).await {
        Ok(CommitOutcome::Accepted { observations }) => {
            Ok(PushAck { batch_id, status: PushStatus::Accepted, observations })
        }
        Ok(CommitOutcome::Duplicate) => Ok(PushAck { batch_id, status: PushStatus::Duplicate, observations: 0 }),
        Err(err) => {
            tracing::error!(error = %err, "cannot commit a push");
            Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                RejectReason::StoreError,
                "the batch could not be stored now; retry later",
            ))
        }
    }
}

fn content_encoding_is_gzip(headers: &HeaderMap) -> Result<bool, Refusal> {
    match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(encoding) if encoding == "gzip" || encoding == "x-gzip" => Ok(true),
        Some(encoding) if encoding == "identity" => Ok(false),
        Some(other) => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RejectReason::UnsupportedEncoding,
            format!("Content-Encoding {other:?} is not understood; send gzip or identity"),
        )),
    }
}

async fn read_limited(body: Body, max_bytes: u64) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectReason::TooLarge,
            format!("the body exceeds {max_bytes} bytes; send smaller batches"),
        )
    };
    let limited = http_body_util::Limited::new(body, usize::try_from(max_bytes).unwrap_or(usize::MAX));
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(err) if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Err(err) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectReason::MalformedBody,
            format!("the body could not be read: {err}"),
        )),
    }
}

/// A push body (gzip or not) to a batch that may be stored: decompressed within `max_bytes`,
/// parsed, its schema version understood, its fields within limits. Pure; fuzzed in `fuzz/`.
pub fn decode_push(raw: &[u8], gzip: bool, max_bytes: u64) -> Result<Batch, Refusal> {
    let json = if gzip { Some(gunzip_limited(raw, max_bytes)?) } else { None };
    let batch = decode(json.as_deref().unwrap_or(raw))?;
    validate(&batch)?;
    Ok(batch)
}

/// Decompresses at most `max_bytes`: a small gzip bomb is refused, not inflated.
fn gunzip_limited(compressed: &[u8], max_bytes: u64) -> Result<Vec<u8>, Refusal> {
    let mut json = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(compressed).take(max_bytes + 1);
    decoder.read_to_end(&mut json).map_err(|err| {
        Refusal::new(StatusCode::BAD_REQUEST, RejectReason::MalformedBody, format!("the body is not valid gzip: {err}"))
    })?;
    if json.len() as u64 > max_bytes {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectReason::TooLarge,
            format!("the decompressed body exceeds {max_bytes} bytes; send smaller batches"),
        ));
    }
    Ok(json)
}

fn decode(json: &[u8]) -> Result<Batch, Refusal> {
    let understood = || SUPPORTED_SCHEMA_VERSIONS.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    let version_refusal = |version: u32| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectReason::UnsupportedSchemaVersion,
            format!("schema_version {version} is not understood; this collector understands {}", understood()),
        )
    };
    match serde_json::from_slice::<Batch>(json) {
        Ok(batch) if SUPPORTED_SCHEMA_VERSIONS.contains(&batch.schema_version) => Ok(batch),
        Ok(batch) => Err(version_refusal(batch.schema_version)),
        Err(err) => match serde_json::from_slice::<VersionProbe>(json) {
            Ok(probe) if !SUPPORTED_SCHEMA_VERSIONS.contains(&probe.schema_version) => {
                Err(version_refusal(probe.schema_version))
            }
            _ => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::MalformedBody,
                format!("the body is not a valid batch: {err}"),
            )),
        },
    }
}

fn validate(batch: &Batch) -> Result<(), Refusal> {
    let invalid = |detail: String| Refusal::new(StatusCode::BAD_REQUEST, RejectReason::InvalidBatch, detail);
    if batch.observations.len() > MAX_OBSERVATIONS_PER_BATCH {
        return Err(invalid(format!(
            "{} observations in one batch; at most {MAX_OBSERVATIONS_PER_BATCH}",
            batch.observations.len()
        )));
    }
    let name_ok = |text: &str| !text.trim().is_empty() && text.chars().count() <= MAX_NAME_CHARS;
    if !name_ok(&batch.county) {
        return Err(invalid(format!("county must be 1 to {MAX_NAME_CHARS} characters")));
    }
    for (index, observation) in batch.observations.iter().enumerate() {
        if !name_ok(&observation.target) {
            return Err(invalid(format!("observations[{index}].target must be 1 to {MAX_NAME_CHARS} characters")));
        }
        if observation.column.as_deref().is_some_and(|column| !name_ok(column)) {
            return Err(invalid(format!(
                "observations[{index}].column must be 1 to {MAX_NAME_CHARS} characters or null"
            )));
        }
        if observation.unit.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(format!("observations[{index}].unit is longer than {MAX_NAME_CHARS} characters")));
        }
    }
    Ok(())
}
