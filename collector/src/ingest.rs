//! `POST /api/v1/push`: an agent's batch in, an acknowledgement out, only after commit.
//!
//! Order of checks, each refusal a 4xx with `{ "error": <code>, "detail": <what> }`:
//! revoked agent or certificate (403) → per-agent rate limit (429 + Retry-After) → body
//! encoding (415) → size, compressed and decompressed, within the read timeout (413, 408) →
//! JSON and schema version (400) → observations per batch (413) → names, texts, lists and
//! numbers within `[push]` limits (400) → the batch's agent equals the client certificate's
//! name (403) → a bound agent names its own county (403). Then the store, in one writer:
//! a batch id this agent sent before is a duplicate (200); a subject another agent owns (409)
//! or more subjects than the agent may own (422) refuse the batch; else it commits and the
//! answer is 200. A store failure is 503 `internal` (the cause goes to the log), which agents
//! retry.
//!
//! Agent clocks are not trusted: an observation dated more than [`MAX_CLOCK_AHEAD`] after
//! its receipt is taken as of its receipt (counted), and "newer" means received later.

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
use xunjian_shared::wire::{
    ApiError, Batch, Observation, PushAck, PushStatus, SUPPORTED_SCHEMA_VERSIONS, VersionProbe,
};

use xunjian_shared::config::collector::PushLimits;

use crate::counters::{CollectorCounters, RejectReason};
pub use crate::projection::MAX_CLOCK_AHEAD;
use crate::projection::{Inadmissible, Receipt};
use crate::store::{CommitOutcome, LoggedBody, Store};

/// Who is on the other end of a push connection, from its verified client certificate.
#[derive(Clone, Debug)]
pub struct PeerIdentity {
    /// The certificate's common name: the agent id.
    pub common_name: Option<String>,
    pub serial: Option<String>,
    /// The certificate's not-after, shown per agent so that renewal is not forgotten.
    pub not_after: Option<Timestamp>,
}

pub struct IngestState {
    pub store: Store,
    pub counters: CollectorCounters,
    pub max_body_bytes: u64,
    /// The body must arrive within this after the headers.
    pub read_timeout: std::time::Duration,
    pub rate: RateLimiter,
    pub limits: PushLimits,
    /// `[[push.agent]]`: agent id → the county it may report.
    pub counties: std::collections::HashMap<String, String>,
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
            let body = ApiError::new(refusal.reason.as_str(), refusal.detail);
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
        let next = if revocation.serial.is_empty() {
            "every certificate of this agent id is refused until the office lifts the revocation (agent unrevoke)"
        } else {
            "this certificate stays refused; the office gives the agent a new one with xunjian-collector certs renew"
        };
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            RejectReason::Revoked,
            format!(
                "agent {certificate_name:?} (certificate serial {}) is revoked: {}; {next}",
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
    let batch = decode_push(&raw, gzip, state.max_body_bytes, &state.limits)?;
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
    if let Some(county) = state.counties.get(certificate_name)
        && *county != batch.county
    {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            RejectReason::CountyMismatch,
            format!(
                "agent {certificate_name:?} is bound to county {county:?} ([[push.agent]] in collector.toml) but the batch names {:?}; correct [agent] county in its agent.toml",
                batch.county
            ),
        ));
    }
    let received_at = Timestamp::now();
    let ahead = received_at + MAX_CLOCK_AHEAD;
    let clamped = batch.observations.iter().filter(|o| o.checked_at > ahead).count();
    let batch_id = batch.batch_id.clone();
    // The log keeps the body as it came (gzip is about 30 times smaller than the JSON).
    let body = LoggedBody { bytes: raw, gzip };
    let receipt = Receipt { received_at, certificate_not_after: peer.not_after };
    match state.store.commit(batch, body, receipt, state.limits.max_subjects_per_agent).await {
        Ok(CommitOutcome::Accepted { observations }) => {
            if clamped > 0 {
                state.counters.clamped(clamped as u64);
                tracing::warn!(
                    agent = certificate_name,
                    observations = clamped,
                    "observations dated in the future; taken as of their receipt: check the agent's clock (NTP)"
                );
            }
            Ok(PushAck { batch_id, status: PushStatus::Accepted, observations })
        }
        Ok(CommitOutcome::Duplicate) => Ok(PushAck { batch_id, status: PushStatus::Duplicate, observations: 0 }),
        Ok(CommitOutcome::Refused(Inadmissible::Owned { subject, owner })) => Err(Refusal::new(
            StatusCode::CONFLICT,
            RejectReason::SubjectOwned,
            format!(
                "{subject} is reported by agent {owner:?}; one subject has one agent: remove it from this agent's configuration, or have the office retire {owner:?} (xunjian-collector agent retire)"
            ),
        )),
        Ok(CommitOutcome::Refused(Inadmissible::TooManySubjects { subjects, limit })) => Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            RejectReason::TooManySubjects,
            format!(
                "this batch would give agent {certificate_name:?} {subjects} subjects; this collector takes at most {limit} per agent ([push] max_subjects_per_agent)"
            ),
        )),
        Err(err) => {
            tracing::error!(error = %err, "cannot commit a push");
            Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                RejectReason::Internal,
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
/// parsed, its schema version understood, its fields within `limits`. Pure; fuzzed in `fuzz/`.
pub fn decode_push(raw: &[u8], gzip: bool, max_bytes: u64, limits: &PushLimits) -> Result<Batch, Refusal> {
    let json = if gzip { Some(gunzip_limited(raw, max_bytes)?) } else { None };
    let batch = decode(json.as_deref().unwrap_or(raw))?;
    validate(&batch, limits)?;
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

/// Every field of `batch` within `limits`; the first one that is not, named by its path.
fn validate(batch: &Batch, limits: &PushLimits) -> Result<(), Refusal> {
    if batch.observations.len() > limits.max_observations_per_batch {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectReason::TooManyObservations,
            format!(
                "{} observations in one batch; this collector takes at most {} ([push] max_observations_per_batch)",
                batch.observations.len(),
                limits.max_observations_per_batch
            ),
        ));
    }
    let check = FieldCheck { limits };
    check.name(|| "county".into(), &batch.county, true)?;
    if batch.county.trim() == xunjian_shared::wire::WHOLE_CITY {
        // The pass ratios' whole-city row: a county of that name would be counted into it.
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectReason::InvalidBatch,
            format!(
                "county {:?} is reserved for the whole city's row of the pass ratios; set [agent] county to the county's own name",
                xunjian_shared::wire::WHOLE_CITY
            ),
        ));
    }
    if let Some(inventory) = &batch.inventory {
        if inventory.len() > limits.max_subjects_per_agent {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                RejectReason::TooManySubjects,
                format!(
                    "the inventory lists {} subjects; this collector takes at most {} per agent ([push] max_subjects_per_agent)",
                    inventory.len(),
                    limits.max_subjects_per_agent
                ),
            ));
        }
        for (index, subject) in inventory.iter().enumerate() {
            check.name(|| format!("inventory[{index}].target"), &subject.target, true)?;
            if let Some(column) = &subject.column {
                check.name(|| format!("inventory[{index}].column"), column, true)?;
            }
            if let Some(channel) = &subject.channel {
                check.name(|| format!("inventory[{index}].channel"), channel, true)?;
            }
        }
    }
    for (index, observation) in batch.observations.iter().enumerate() {
        validate_observation(&check, index, observation)?;
    }
    Ok(())
}

/// Days no page date or message can be apart from today: two centuries.
const MAX_DAYS: i64 = 73_000;
/// Longest probe: a day (agents time out in seconds).
const MAX_DURATION_MS: u64 = 86_400_000;

fn validate_observation(check: &FieldCheck<'_>, index: usize, observation: &Observation) -> Result<(), Refusal> {
    let at = |field: &str| format!("observations[{index}].{field}");
    check.name(|| at("target"), &observation.target, true)?;
    check.name(|| at("unit"), &observation.unit, false)?;
    if let Some(platform) = &observation.platform {
        check.name(|| at("platform"), platform, true)?;
    }
    if let Some(account_id) = &observation.account_id {
        check.name(|| at("account_id"), account_id, true)?;
    }
    if let Some(column) = &observation.column {
        check.name(|| at("column"), column, true)?;
    }
    if let Some(channel) = &observation.channel {
        check.name(|| at("channel"), channel, true)?;
    }
    if observation.column.is_some() && observation.channel.is_some() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectReason::InvalidBatch,
            format!("{}: an observation is of a column or of a channel, not both", at("channel")),
        ));
    }
    check.text(|| at("url"), &observation.url)?;
    check.list(|| at("checks"), observation.checks.len())?;
    check.list(|| at("findings"), observation.findings.len())?;
    for (n, finding) in observation.findings.iter().enumerate() {
        check.text(|| at(&format!("findings[{n}].detail")), &finding.detail)?;
    }
    if let Some(fetch) = &observation.fetch {
        check.list(|| at("fetch.redirects"), fetch.redirects.len())?;
        for (n, url) in fetch.redirects.iter().enumerate() {
            check.text(|| at(&format!("fetch.redirects[{n}]")), url)?;
        }
        if let Some(charset) = &fetch.charset {
            check.name(|| at("fetch.charset"), charset, false)?;
        }
        check.range(|| at("fetch.duration_ms"), fetch.duration_ms as i128, 0, MAX_DURATION_MS as i128)?;
        if let Some(status) = fetch.status {
            check.range(|| at("fetch.status"), i128::from(status), 100, 999)?;
        }
    }
    if let Some(links) = observation.dead_links() {
        check.list(|| at("dead_links"), links.len())?;
        for (n, link) in links.iter().enumerate() {
            check.text(|| at(&format!("dead_links[{n}].url")), &link.url)?;
            check.text(|| at(&format!("dead_links[{n}].text")), &link.text)?;
        }
    }
    if let Some(errors) = observation.wording_errors() {
        check.list(|| at("wording_errors"), errors.len())?;
        for (n, error) in errors.iter().enumerate() {
            for (field, text) in
                [("wrong", &error.wrong), ("right", &error.right), ("context", &error.context), ("url", &error.url)]
            {
                check.text(|| at(&format!("wording_errors[{n}].{field}")), text)?;
            }
        }
    }
    if let Some(links) = observation.hidden_links() {
        check.list(|| at("hidden_links"), links.len())?;
        for (n, link) in links.iter().enumerate() {
            check.text(|| at(&format!("hidden_links[{n}].url")), &link.url)?;
            check.text(|| at(&format!("hidden_links[{n}].text")), &link.text)?;
            check.name(|| at(&format!("hidden_links[{n}].technique")), &link.technique, true)?;
            if let Some(term) = &link.term {
                check.text(|| at(&format!("hidden_links[{n}].term")), term)?;
            }
        }
    }
    if let Some(terms) = observation.sensitive_terms() {
        check.list(|| at("sensitive_terms"), terms.len())?;
        for (n, term) in terms.iter().enumerate() {
            check.name(|| at(&format!("sensitive_terms[{n}].place")), &term.place, true)?;
            check.text(|| at(&format!("sensitive_terms[{n}].term")), &term.term)?;
        }
    }
    if let Some(resources) = observation.audit.as_ref().and_then(|audit| audit.insecure_resources.as_ref()) {
        check.list(|| at("insecure_resources"), resources.len())?;
        for (n, url) in resources.iter().enumerate() {
            check.text(|| at(&format!("insecure_resources[{n}]")), url)?;
        }
    }
    if let Some(accounts) = observation.linked_accounts() {
        check.list(|| at("linked_accounts"), accounts.len())?;
        for (n, account) in accounts.iter().enumerate() {
            check.name(|| at(&format!("linked_accounts[{n}].platform")), &account.platform, true)?;
            check.name(|| at(&format!("linked_accounts[{n}].name")), &account.name, false)?;
            if let Some(id) = &account.id {
                check.name(|| at(&format!("linked_accounts[{n}].id")), id, true)?;
            }
        }
    }
    if let Some(ipv6) = observation.ipv6() {
        check.list(|| at("ipv6.addresses"), ipv6.addresses.len())?;
        for (n, address) in ipv6.addresses.iter().enumerate() {
            check.name(|| at(&format!("ipv6.addresses[{n}]")), address, true)?;
        }
    }
    if let Some(guides) = observation.guides() {
        check.list(|| at("guides.items"), guides.items.len())?;
        for (n, item) in guides.items.iter().enumerate() {
            check.text(|| at(&format!("guides.items[{n}].title")), &item.title)?;
            check.text(|| at(&format!("guides.items[{n}].url")), &item.url)?;
            check.list(|| at(&format!("guides.items[{n}].missing")), item.missing.len())?;
            for (m, name) in item.missing.iter().enumerate() {
                check.name(|| at(&format!("guides.items[{n}].missing[{m}]")), name, true)?;
            }
        }
    }
    if let Some(summary) = observation.interpretations() {
        check.list(|| at("interpretation.items"), summary.items.len())?;
        for (n, item) in summary.items.iter().enumerate() {
            check.text(|| at(&format!("interpretation.items[{n}].title")), &item.title)?;
            check.text(|| at(&format!("interpretation.items[{n}].url")), &item.url)?;
            if let Some(url) = &item.interpreted_by {
                check.text(|| at(&format!("interpretation.items[{n}].interpreted_by")), url)?;
            }
            if let Some(days) = item.delay_working_days {
                check.range(
                    || at(&format!("interpretation.items[{n}].delay_working_days")),
                    i128::from(days),
                    0,
                    MAX_DAYS as i128,
                )?;
            }
        }
        if let Some(days) = summary.max_delay_working_days {
            check.range(|| at("interpretation.max_delay_working_days"), i128::from(days), 0, MAX_DAYS as i128)?;
        }
    }
    for (field, days) in [
        ("age_days", observation.age_days()),
        ("max_reply_working_days", observation.replies().max_reply_working_days),
        ("oldest_unanswered_days", observation.replies().oldest_unanswered_days),
        ("statistics_age_days", observation.replies().statistics_age_days),
    ] {
        if let Some(days) = days {
            check.range(|| at(field), i128::from(days), -MAX_DAYS as i128, MAX_DAYS as i128)?;
        }
    }
    Ok(())
}

/// Checks fields against the `[push]` limits; paths are built only for a refusal.
struct FieldCheck<'a> {
    limits: &'a PushLimits,
}

impl FieldCheck<'_> {
    fn name(&self, path: impl Fn() -> String, text: &str, required: bool) -> Result<(), Refusal> {
        if required && text.trim().is_empty() {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::InvalidBatch,
                format!("{} must not be empty", path()),
            ));
        }
        // One pass: the length, and the first character that would break a line.
        let (mut chars, mut bad) = (0usize, None);
        for c in text.chars() {
            chars += 1;
            if bad.is_none() && (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
                bad = Some(c);
            }
        }
        if chars > self.limits.max_name_chars {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::FieldTooLong,
                format!(
                    "{} is {chars} characters; this collector takes at most {} ([push] max_name_chars)",
                    path(),
                    self.limits.max_name_chars
                ),
            ));
        }
        // Names become label values and lines of messages: one line of text each.
        if let Some(bad) = bad {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::InvalidBatch,
                format!("{} contains the control character U+{:04X}; names are one line of text", path(), bad as u32),
            ));
        }
        Ok(())
    }

    fn text(&self, path: impl Fn() -> String, text: &str) -> Result<(), Refusal> {
        if text.len() > self.limits.max_text_bytes {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::FieldTooLong,
                format!(
                    "{} is {} bytes; this collector takes at most {} ([push] max_text_bytes)",
                    path(),
                    text.len(),
                    self.limits.max_text_bytes
                ),
            ));
        }
        Ok(())
    }

    fn list(&self, path: impl Fn() -> String, entries: usize) -> Result<(), Refusal> {
        if entries > self.limits.max_list_entries {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::FieldTooLong,
                format!(
                    "{} has {entries} entries; this collector takes at most {} ([push] max_list_entries)",
                    path(),
                    self.limits.max_list_entries
                ),
            ));
        }
        Ok(())
    }

    fn range(&self, path: impl Fn() -> String, value: i128, min: i128, max: i128) -> Result<(), Refusal> {
        if !(min..=max).contains(&value) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectReason::ValueOutOfRange,
                format!("{} is {value}; expected {min} to {max}", path()),
            ));
        }
        Ok(())
    }
}
