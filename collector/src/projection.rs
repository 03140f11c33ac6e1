//! The collector's state in memory, and the one pure function that changes it.
//!
//! [`Snapshot::apply`] takes a committed batch and updates agents and pages; live pushes and
//! the replay of the batch log at startup both go through it, so the same batches in the same
//! order always give the same state. What it changes is recorded in [`Dirty`] for the next
//! checkpoint.
//!
//! Ownership: every subject has one series identity, the labels it is exported with (county,
//! unit, target, kind, platform, column or channel), and one agent owns it: the first to report
//! it. [`Snapshot::admit`] refuses a batch that would write a subject another agent owns, or
//! give an agent more subjects than it may have; so `/metrics` never holds two series with one
//! label set. An owner releases a subject by leaving it out of its inventory, by expiry, or
//! when the office retires the agent ([`Snapshot::retire`]).
//!
//! Agent clocks are not trusted: an observation dated more than [`MAX_CLOCK_AHEAD`] after its
//! receipt is taken as of its receipt, and of two observations of a page the one received later
//! is the newer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;

/// The hasher of the projection's indexes: seeded per process (no one can craft colliding
/// names), and several times cheaper than SipHash on every observation ingested.
type Seeded = foldhash::fast::RandomState;

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::time::{china_today, days_between};

use crate::ledger::{Ledger, Place, Resolution, Tracked};
use xunjian_shared::wire::{Batch, CheckKind, Observation, TargetKind};

/// Daily availability counts are kept this many days: the indicator looks at 7, reports at a
/// month.
pub const PROBE_DAYS_KEPT: i64 = 35;

/// How far ahead of its receipt an observation may be dated: clocks drift, NTP corrects them
/// within seconds; ten minutes is a wrong clock, not drift.
pub const MAX_CLOCK_AHEAD: SignedDuration = SignedDuration::from_mins(10);

/// Identifies one page's series: agent, target, kind, column and channel ('' when not a
/// column or a channel).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectKey {
    pub agent: String,
    pub target: String,
    pub kind: TargetKind,
    pub column: String,
    pub channel: String,
}

/// A subject key's parts, so that a page can be looked up from an observation without making
/// a key (four strings) for every observation of a page seen before.
trait KeyParts {
    fn parts(&self) -> (&str, &str, TargetKind, &str, &str);
}

impl KeyParts for (&str, &str, TargetKind, &str, &str) {
    fn parts(&self) -> (&str, &str, TargetKind, &str, &str) {
        *self
    }
}

impl KeyParts for SubjectKey {
    fn parts(&self) -> (&str, &str, TargetKind, &str, &str) {
        (&self.agent, &self.target, self.kind, &self.column, &self.channel)
    }
}

/// The key an observation of `agent` has, borrowed.
struct Observed<'a> {
    agent: &'a str,
    observation: &'a Observation,
}

impl KeyParts for Observed<'_> {
    fn parts(&self) -> (&str, &str, TargetKind, &str, &str) {
        let observation = self.observation;
        (
            self.agent,
            &observation.target,
            observation.kind,
            observation.column.as_deref().unwrap_or(""),
            observation.channel.as_deref().unwrap_or(""),
        )
    }
}

// Ordered as the derived order of `SubjectKey` (its fields in declaration order), so the map
// finds a key by its borrowed parts.
impl<'a> std::borrow::Borrow<dyn KeyParts + 'a> for SubjectKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyParts + '_ {}

impl PartialOrd for dyn KeyParts + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn KeyParts + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl SubjectKey {
    pub fn of(agent: &str, observation: &Observation) -> Self {
        SubjectKey {
            agent: agent.to_string(),
            target: observation.target.clone(),
            kind: observation.kind,
            column: observation.column.clone().unwrap_or_default(),
            channel: observation.channel.clone().unwrap_or_default(),
        }
    }

    /// The smallest key of `agent`: every key of that agent sorts at or after it, and before
    /// any key of another agent that sorts after it.
    fn first_of(agent: &str) -> Self {
        SubjectKey {
            agent: agent.to_string(),
            target: String::new(),
            kind: TargetKind::Site,
            column: String::new(),
            channel: String::new(),
        }
    }
}

/// How the collector took a batch: when, and from which certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub received_at: Timestamp,
    /// The pushing certificate's not-after, when known.
    pub certificate_not_after: Option<Timestamp>,
}

/// What the collector knows of one page now.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectState {
    pub county: String,
    pub observation: Observation,
    /// Availability probes seen, ever (they back `xunjian_probes_total`).
    pub probes_ok: u64,
    pub probes_failed: u64,
    /// (day, ok, failed) for the last [`PROBE_DAYS_KEPT`] days, oldest first; days counted
    /// from 1970-01-01 in China time.
    pub probe_days: Vec<(i64, u32, u32)>,
    /// The current run of failed probes (what "down: 3 failures in a row" alerts on).
    pub streak: ProbeStreak,
    /// When the collector received the last observation of the page (expiry counts from it).
    pub received_at: Timestamp,
    /// Listed in [`Dirty`] since the last checkpoint (so an observation costs no set insert).
    pub awaiting_checkpoint: bool,
    /// The page's open problems in the ledger.
    pub problems: Vec<Tracked>,
}

/// Failed availability probes in a row, up to the newest probe received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProbeStreak {
    pub failures: u32,
    /// When the first failure of the run was observed.
    pub since: Option<Timestamp>,
    /// The newest probe counted.
    pub last_probe_at: Option<Timestamp>,
}

impl ProbeStreak {
    /// Counts a probe. Probes arrive in the order the agent made them (it sends in sequence),
    /// so the order of receipt decides, never the agent's clock.
    fn record(&mut self, ok: bool, at: Timestamp) {
        self.last_probe_at = Some(at);
        if ok {
            self.failures = 0;
            self.since = None;
        } else {
            self.failures += 1;
            self.since.get_or_insert(at);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentState {
    pub county: String,
    pub first_push_at: Timestamp,
    pub last_push_at: Timestamp,
    pub last_sequence: u64,
    pub batches: u64,
    /// Not-after of the certificate of its last push.
    pub certificate_not_after: Option<Timestamp>,
}

/// The projection `/metrics`, the status page and the API read.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub agents: BTreeMap<String, AgentState>,
    subjects: BTreeMap<SubjectKey, SubjectState>,
    /// The subjects holding each series identity, by its hash (more than one only when two
    /// identities collide; the identity itself is compared).
    owners: HashMap<u64, Holders, Seeded>,
    /// Subjects per agent.
    owned: HashMap<String, usize, Seeded>,
    /// Keys the identity hash: random per process, so no one can craft colliding names.
    hasher: Seeded,
    /// The problem ledger, driven by the same batches.
    pub ledger: Ledger,
    /// When each site and account was first seen by an agent, by (county, target, platform;
    /// '' for a site): what the registry's grace for filing counts from. Kept when pages leave.
    pub first_seen: HashMap<(String, String, String), Timestamp>,
}

/// The pages holding one identity hash: almost always one. `agent` is the hash of the first
/// one's agent, so that the question asked of every observation — is it this agent's own? —
/// costs one lookup.
#[derive(Clone, Debug, Default)]
struct Holders {
    agent: u64,
    keys: Vec<SubjectKey>,
}

/// What changed since the last checkpoint.
#[derive(Debug, Default)]
pub struct Dirty {
    pub agents: HashSet<String, Seeded>,
    /// Pages changed or removed (a key absent from the projection is deleted at checkpoint).
    pub subjects: HashSet<SubjectKey, Seeded>,
}

/// A site or account an agent reported for the first time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstSeen {
    pub target: String,
    pub kind: TargetKind,
    pub platform: String,
    pub county: String,
    pub agent: String,
    pub at: Timestamp,
}

/// Why a batch may not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inadmissible {
    /// `subject` (described for people) is owned by agent `owner`.
    Owned { subject: String, owner: String },
    /// The agent would own `subjects`, more than `limit`.
    TooManySubjects { subjects: usize, limit: usize },
}

/// Claims and releases by batches admitted earlier in the same commit group, not yet applied.
#[derive(Debug, Default)]
pub struct Claims {
    claimed: HashMap<u64, String, Seeded>,
    released: HashSet<u64, Seeded>,
    added: HashMap<String, usize, Seeded>,
}

/// What a batch claims once admitted.
#[derive(Debug, Default)]
pub struct Admitted {
    agent: String,
    claims: Vec<u64>,
    releases: Vec<u64>,
    added: usize,
}

impl Claims {
    /// Records what an admitted (and logged) batch claims and releases.
    pub fn record(&mut self, admitted: Admitted) {
        for hash in admitted.claims {
            self.released.remove(&hash);
            self.claimed.insert(hash, admitted.agent.clone());
        }
        for hash in admitted.releases {
            self.claimed.remove(&hash);
            self.released.insert(hash);
        }
        *self.added.entry(admitted.agent).or_default() += admitted.added;
    }
}

impl Snapshot {
    /// Every page, in key order.
    pub fn subjects(&self) -> &BTreeMap<SubjectKey, SubjectState> {
        &self.subjects
    }

    /// Whether `agent` may have `batch` taken, given the batches admitted before it in the same
    /// group (`claims`); what it claims, to record once it is logged.
    pub fn admit(&self, batch: &Batch, max_subjects: usize, claims: &Claims) -> Result<Admitted, Inadmissible> {
        let agent = batch.agent.as_str();
        let mut admitted = Admitted { agent: agent.to_string(), ..Admitted::default() };
        let mut fresh: HashSet<u64, Seeded> = HashSet::default();
        let agent_hash = self.hasher.hash_one(agent);
        for observation in &batch.observations {
            let hash = self.identity_hash(&batch.county, observation);
            let owner = match claims.claimed.get(&hash) {
                Some(pending) => Some(pending.as_str()),
                None if claims.released.contains(&hash) => None,
                None => self.owner_agent(hash, agent, agent_hash, &batch.county, observation),
            };
            match owner {
                Some(owner) if owner != agent => {
                    return Err(Inadmissible::Owned {
                        subject: describe(&batch.county, observation),
                        owner: owner.to_string(),
                    });
                }
                Some(_) => {}
                None => {
                    // Unowned: a new subject, unless this agent's page only changed its labels.
                    if fresh.insert(hash) && !self.subjects.contains_key(&SubjectKey::of(agent, observation)) {
                        admitted.added += 1;
                    }
                    admitted.claims.push(hash);
                }
            }
        }
        if let Some(inventory) = &batch.inventory {
            let listed = listed(inventory);
            for (key, state) in self.agent_subjects(agent) {
                if !listed.contains(&(key.target.as_str(), key.kind, key.column.as_str(), key.channel.as_str())) {
                    admitted.releases.push(self.identity_hash(&state.county, &state.observation));
                }
            }
        }
        // What the inventory lets go makes room: an agent at its cap may swap subjects.
        let subjects = (self.owned.get(agent).copied().unwrap_or(0)
            + claims.added.get(agent).copied().unwrap_or(0)
            + admitted.added)
            .saturating_sub(admitted.releases.len());
        if admitted.added > 0 && subjects > max_subjects {
            return Err(Inadmissible::TooManySubjects { subjects, limit: max_subjects });
        }
        Ok(admitted)
    }

    /// The sites and accounts of `batch` this projection does not hold yet (their home page or
    /// account page is new), as of their observation (clamped as [`Self::apply`] clamps it).
    pub fn first_seen_in(&self, batch: &Batch, received_at: Timestamp) -> Vec<FirstSeen> {
        let latest = received_at + MAX_CLOCK_AHEAD;
        batch
            .observations
            .iter()
            .filter(|observation| observation.column.is_none() && observation.channel.is_none())
            .filter(|observation| {
                let seen = Observed { agent: &batch.agent, observation };
                !self.subjects.contains_key(&seen as &dyn KeyParts)
            })
            .map(|observation| FirstSeen {
                target: observation.target.clone(),
                kind: observation.kind,
                platform: observation.platform.clone().unwrap_or_default(),
                county: batch.county.clone(),
                agent: batch.agent.clone(),
                at: if observation.checked_at > latest { received_at } else { observation.checked_at },
            })
            .collect()
    }

    /// Applies a batch the store has taken.
    pub fn apply(&mut self, batch: Batch, receipt: Receipt, dirty: &mut Dirty) {
        let received_at = receipt.received_at;
        let agent = self.agents.entry(batch.agent.clone()).or_insert_with(|| AgentState {
            county: batch.county.clone(),
            first_push_at: received_at,
            last_push_at: received_at,
            last_sequence: batch.sequence,
            batches: 0,
            certificate_not_after: None,
        });
        agent.county.clone_from(&batch.county);
        agent.last_push_at = agent.last_push_at.max(received_at);
        agent.last_sequence = agent.last_sequence.max(batch.sequence);
        agent.batches += 1;
        if receipt.certificate_not_after.is_some() {
            agent.certificate_not_after = receipt.certificate_not_after;
        }
        dirty.agents.insert(batch.agent.clone());

        let latest = received_at + MAX_CLOCK_AHEAD;
        for mut observation in batch.observations {
            if observation.checked_at > latest {
                observation.checked_at = received_at;
            }
            let probe = probe_result(&observation);
            let checked_at = observation.checked_at;
            let day = days_since_epoch(china_today(checked_at));
            // The common case: a page seen before, its labels unchanged; one lookup, no key made.
            let seen = Observed { agent: &batch.agent, observation: &observation };
            if let Some(state) = self.subjects.get_mut(&seen as &dyn KeyParts)
                && same_labels_of_key(&state.county, &state.observation, &batch.county, &observation)
            {
                if !state.awaiting_checkpoint {
                    state.awaiting_checkpoint = true;
                    dirty.subjects.insert(SubjectKey::of(&batch.agent, &observation));
                }
                update(state, &mut self.ledger, &batch.agent, observation, received_at, probe, day);
                continue;
            }
            let key = SubjectKey::of(&batch.agent, &observation);
            self.claim(&key, &batch.county, &observation, dirty);
            match self.subjects.get_mut(&key) {
                Some(state) => {
                    state.county.clone_from(&batch.county);
                    state.awaiting_checkpoint = true;
                    update(state, &mut self.ledger, &batch.agent, observation, received_at, probe, day);
                }
                None => {
                    if observation.column.is_none() && observation.channel.is_none() {
                        let platform = observation.platform.clone().unwrap_or_default();
                        let first = (batch.county.clone(), observation.target.clone(), platform);
                        // As targets_seen keeps it (the history shows it): when it was observed. Keyed
                        // by the agent's county, so an agent's clock moves only its own county's.
                        let seen = self.first_seen.entry(first).or_insert(checked_at);
                        *seen = (*seen).min(checked_at);
                    }
                    let mut problems = Vec::new();
                    let place = || Place::of(&batch.agent, &batch.county, &observation);
                    self.ledger.observe(&mut problems, place, None, &observation);
                    let mut state = SubjectState {
                        county: batch.county.clone(),
                        observation,
                        probes_ok: 0,
                        probes_failed: 0,
                        probe_days: Vec::new(),
                        streak: ProbeStreak::default(),
                        received_at,
                        awaiting_checkpoint: true,
                        problems,
                    };
                    count_probe(&mut state, probe, day, checked_at);
                    self.subjects.insert(key.clone(), state);
                    *self.owned.entry(key.agent.clone()).or_default() += 1;
                }
            }
            dirty.subjects.insert(key);
        }

        // A page the agent no longer lists stops producing series now, not after expiry.
        if let Some(inventory) = batch.inventory {
            let listed = listed(&inventory);
            let unlisted: Vec<SubjectKey> = self
                .agent_subjects(&batch.agent)
                .map(|(key, _)| key)
                .filter(|key| {
                    !listed.contains(&(key.target.as_str(), key.kind, key.column.as_str(), key.channel.as_str()))
                })
                .cloned()
                .collect();
            for key in unlisted {
                self.remove(&key, dirty, received_at, Resolution::Unlisted);
            }
        }
    }

    /// Before a checkpoint: the open problems of the pages it writes take their pages' last-seen.
    pub fn note_last_seen(&mut self, keys: &HashSet<SubjectKey, Seeded>) {
        for key in keys {
            if let Some(state) = self.subjects.get(key) {
                for open in &state.problems {
                    self.ledger.note_last_seen(open);
                }
            }
        }
    }

    /// After a checkpoint wrote them: the pages in `written` wait for no checkpoint.
    pub fn checkpointed(&mut self, written: &HashSet<SubjectKey, Seeded>) {
        for key in written {
            if let Some(state) = self.subjects.get_mut(key) {
                state.awaiting_checkpoint = false;
            }
        }
    }

    /// Removes pages not received since `cutoff`, closing their problems as of `now`; returns
    /// how many.
    pub fn expire(&mut self, cutoff: Timestamp, now: Timestamp, dirty: &mut Dirty) -> usize {
        let expired: Vec<SubjectKey> =
            self.subjects.iter().filter(|(_, state)| state.received_at < cutoff).map(|(key, _)| key.clone()).collect();
        for key in &expired {
            self.remove(key, dirty, now, Resolution::Expired);
        }
        expired.len()
    }

    /// Forgets `agent` and every page it owns (the office retired it), closing their problems as
    /// of `now`; returns how many pages.
    pub fn retire(&mut self, agent: &str, now: Timestamp, dirty: &mut Dirty) -> usize {
        let keys: Vec<SubjectKey> = self.agent_subjects(agent).map(|(key, _)| key.clone()).collect();
        for key in &keys {
            self.remove(key, dirty, now, Resolution::Retired);
        }
        if self.agents.remove(agent).is_some() {
            dirty.agents.insert(agent.to_string());
        }
        keys.len()
    }

    /// Puts a checkpointed page back (at startup). Of two pages with one identity (written
    /// before owners were enforced), the one received later stays.
    pub fn insert_loaded(&mut self, key: SubjectKey, state: SubjectState, dirty: &mut Dirty) {
        let hash = self.identity_hash(&state.county, &state.observation);
        if let Some(other) = self.owner(hash, &state.county, &state.observation).cloned() {
            let other_is_newer = self.subjects.get(&other).is_some_and(|o| o.received_at >= state.received_at);
            if other_is_newer {
                self.ledger.close_all(&state.problems, state.received_at, Resolution::Unlisted);
                dirty.subjects.insert(key);
                return;
            }
            let at = state.received_at;
            self.remove(&other, dirty, at, Resolution::Unlisted);
        }
        self.index(hash, &key);
        *self.owned.entry(key.agent.clone()).or_default() += 1;
        self.subjects.insert(key, state);
    }

    /// Puts the ledger's checkpointed rows back (at startup, after the pages): each open
    /// problem rejoins its page, last seen no earlier than the page's latest observation that
    /// shows it; an open problem whose page is gone closes.
    pub fn load_problems(&mut self, rows: Vec<crate::ledger::Problem>, next_id: i64) {
        self.ledger.continue_from(next_id);
        for row in rows {
            let place = row.place.clone();
            let last_seen = row.last_seen;
            let Some(mut tracked) = self.ledger.insert_loaded(row) else { continue };
            let key = SubjectKey {
                agent: place.agent,
                target: place.target,
                kind: place.kind,
                column: place.column,
                channel: place.channel,
            };
            match self.subjects.get_mut(&key) {
                Some(state) => {
                    if state.observation.findings.iter().any(|finding| finding.code == tracked.code) {
                        tracked.last_seen = tracked.last_seen.max(state.observation.checked_at);
                    }
                    state.problems.push(tracked);
                }
                None => self.ledger.close_all(&[tracked], last_seen, Resolution::Expired),
            }
        }
    }

    /// An open problem of a page with what the page shows now: when last seen, its words and
    /// the evidence (the ledger writes these only when the problem changes).
    pub fn refresh(&self, row: &mut crate::ledger::Problem) {
        if row.status != crate::ledger::Status::Open || row.place.agent.is_empty() {
            return;
        }
        let place = &row.place;
        let parts: (&str, &str, TargetKind, &str, &str) =
            (&place.agent, &place.target, place.kind, &place.column, &place.channel);
        let Some(state) = self.subjects.get(&parts as &dyn KeyParts) else { return };
        if let Some(tracked) = state.problems.iter().find(|tracked| tracked.id == row.id) {
            row.last_seen = row.last_seen.max(tracked.last_seen);
        }
        let observation = &state.observation;
        if let Some(finding) = observation.findings.iter().find(|finding| finding.code == row.code) {
            row.detail.clone_from(&finding.detail);
            row.severity = finding.severity;
            row.evidence = crate::ledger::evidence(observation, row.code);
            row.observed_at = observation.checked_at;
        }
    }

    /// Every page of `agent` exactly: not those of `agent-b`, `agent.b` or `agent_b`.
    fn agent_subjects<'s>(&'s self, agent: &'s str) -> impl Iterator<Item = (&'s SubjectKey, &'s SubjectState)> + 's {
        self.subjects.range(SubjectKey::first_of(agent)..).take_while(move |(key, _)| key.agent == agent)
    }

    fn identity_hash(&self, county: &str, observation: &Observation) -> u64 {
        self.hasher.hash_one((
            county,
            observation.unit.as_str(),
            observation.target.as_str(),
            observation.kind,
            observation.platform.as_deref().unwrap_or(""),
            observation.column.as_deref().unwrap_or(""),
            observation.channel.as_deref().unwrap_or(""),
        ))
    }

    /// The agent holding this identity, if any. The common case, a page of `agent` itself, is
    /// decided by the hash alone (a collision with its own page changes nothing: [`Self::apply`]
    /// compares identities before it moves one); another agent's claim is compared in full.
    fn owner_agent<'s>(
        &'s self,
        hash: u64,
        agent: &'s str,
        agent_hash: u64,
        county: &str,
        observation: &Observation,
    ) -> Option<&'s str> {
        let holders = self.owners.get(&hash)?;
        if holders.agent == agent_hash && holders.keys.len() == 1 {
            return Some(agent);
        }
        if let Some(own) = holders.keys.iter().find(|key| key.agent == agent) {
            return Some(own.agent.as_str());
        }
        self.owner(hash, county, observation).map(|key| key.agent.as_str())
    }

    /// The page holding this identity, if any.
    fn owner(&self, hash: u64, county: &str, observation: &Observation) -> Option<&SubjectKey> {
        self.owners.get(&hash)?.keys.iter().find(|key| {
            self.subjects
                .get(*key)
                .is_some_and(|state| same_identity(&state.county, &state.observation, county, observation))
        })
    }

    /// Makes `key` the holder of the identity `observation` now has. A different page holding
    /// it gives way: batches are admitted before they are logged, so this happens only when
    /// replaying the log after a release that is not in it (an expiry or retirement lost in a
    /// crash), and then the log's order decides.
    fn claim(&mut self, key: &SubjectKey, county: &str, observation: &Observation, dirty: &mut Dirty) {
        let hash = self.identity_hash(county, observation);
        if let Some(other) = self.owner(hash, county, observation).cloned()
            && other != *key
        {
            self.remove(&other, dirty, observation.checked_at, Resolution::Unlisted);
        }
        if let Some(state) = self.subjects.get(key) {
            let old = self.identity_hash(&state.county, &state.observation);
            self.unindex(old, key);
        }
        self.index(hash, key);
    }

    fn index(&mut self, hash: u64, key: &SubjectKey) {
        let agent = self.hasher.hash_one(key.agent.as_str());
        let holders = self.owners.entry(hash).or_default();
        if holders.keys.is_empty() {
            holders.agent = agent;
        }
        holders.keys.push(key.clone());
    }

    fn remove(&mut self, key: &SubjectKey, dirty: &mut Dirty, at: Timestamp, why: Resolution) {
        if let Some(state) = self.subjects.remove(key) {
            self.ledger.close_all(&state.problems, at, why);
            let hash = self.identity_hash(&state.county, &state.observation);
            self.unindex(hash, key);
            if let Some(count) = self.owned.get_mut(&key.agent) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.owned.remove(&key.agent);
                }
            }
        }
        dirty.subjects.insert(key.clone());
    }

    fn unindex(&mut self, hash: u64, key: &SubjectKey) {
        let Some(holders) = self.owners.get_mut(&hash) else { return };
        holders.keys.retain(|k| k != key);
        match holders.keys.first() {
            None => {
                self.owners.remove(&hash);
            }
            Some(first) => holders.agent = self.hasher.hash_one(first.agent.as_str()),
        }
    }
}

/// A page's state after a newer observation (received later): it keeps what the previous one
/// knew from checks that did not run this time.
fn update(
    state: &mut SubjectState,
    ledger: &mut Ledger,
    agent: &str,
    mut observation: Observation,
    received_at: Timestamp,
    probe: Option<bool>,
    day: i64,
) {
    state.received_at = received_at;
    count_probe(state, probe, day, observation.checked_at);
    observation.carry_over(&state.observation);
    // The ledger compares what the page shows now, checks that did not run included.
    let place = || Place::of(agent, &state.county, &observation);
    ledger.observe(&mut state.problems, place, Some(&state.observation), &observation);
    state.observation = observation;
}

/// The labels a key does not fix: of two observations with one key (same agent, target, kind,
/// column, channel), whether they are one series.
fn same_labels_of_key(county: &str, observation: &Observation, other_county: &str, other: &Observation) -> bool {
    county == other_county && observation.unit == other.unit && observation.platform == other.platform
}

/// The series identity: the labels a page is exported with.
fn same_identity(county: &str, observation: &Observation, other_county: &str, other: &Observation) -> bool {
    county == other_county
        && observation.unit == other.unit
        && observation.target == other.target
        && observation.kind == other.kind
        && observation.platform == other.platform
        && observation.column == other.column
        && observation.channel == other.channel
}

/// A subject in words, for a refusal.
fn describe(county: &str, observation: &Observation) -> String {
    let scope = match (&observation.column, &observation.channel) {
        (Some(column), _) => format!(", column {column:?}"),
        (_, Some(channel)) => format!(", channel {channel:?}"),
        _ => String::new(),
    };
    format!(
        "{} {:?}{scope} (county {county:?}, unit {:?})",
        observation.kind.as_str(),
        observation.target,
        observation.unit
    )
}

fn listed(inventory: &[xunjian_shared::wire::SubjectRef]) -> HashSet<(&str, TargetKind, &str, &str)> {
    inventory
        .iter()
        .map(|subject| {
            (
                subject.target.as_str(),
                subject.kind,
                subject.column.as_deref().unwrap_or(""),
                subject.channel.as_deref().unwrap_or(""),
            )
        })
        .collect()
}

/// Whether an observation is an availability probe, and whether it succeeded.
pub fn probe_result(observation: &Observation) -> Option<bool> {
    if !observation.checks.contains(&CheckKind::Availability) {
        return None;
    }
    let fetch = observation.fetch.as_ref()?;
    Some(fetch.failure.is_none() && fetch.status.is_some_and(|status| status < 400))
}

fn count_probe(state: &mut SubjectState, probe: Option<bool>, day: i64, at: Timestamp) {
    let Some(ok) = probe else { return };
    state.streak.record(ok, at);
    if ok {
        state.probes_ok += 1;
    } else {
        state.probes_failed += 1;
    }
    let days = &mut state.probe_days;
    let index = match days.binary_search_by_key(&day, |(d, _, _)| *d) {
        Ok(index) => index,
        Err(index) => {
            days.insert(index, (day, 0, 0));
            index
        }
    };
    if ok {
        days[index].1 += 1;
    } else {
        days[index].2 += 1;
    }
    let newest = days.last().map(|(d, _, _)| *d).unwrap_or(day);
    days.retain(|(d, _, _)| newest - *d < PROBE_DAYS_KEPT);
}

pub fn days_since_epoch(date: jiff::civil::Date) -> i64 {
    days_between(jiff::civil::Date::constant(1970, 1, 1), date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xunjian_shared::wire::{BatchId, FetchRecord, SubjectRef};

    fn probe(target: &str, ok: bool, at: Timestamp) -> Observation {
        let mut observation =
            Observation::new(target, TargetKind::Site, "单位", "http://x/", CheckKind::Availability, at);
        observation.fetch = Some(FetchRecord {
            status: ok.then_some(200),
            duration_ms: 5,
            failure: (!ok).then_some(xunjian_shared::wire::FetchFailure::Connect),
            redirects: Vec::new(),
            tls_not_after: None,
            charset: None,
            body_bytes: 0,
            truncated: false,
        });
        observation
    }

    fn batch(agent: &str, county: &str, observations: Vec<Observation>, inventory: Option<Vec<&str>>) -> Batch {
        Batch {
            schema_version: 1,
            batch_id: BatchId::parse("abcdefgh").unwrap(),
            agent: agent.into(),
            county: county.into(),
            sequence: 1,
            created_at: Timestamp::UNIX_EPOCH,
            inventory: inventory.map(|targets| {
                targets
                    .into_iter()
                    .map(|t| SubjectRef { target: t.into(), kind: TargetKind::Site, column: None, channel: None })
                    .collect()
            }),
            observations,
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + second).unwrap()
    }

    fn receipt(second: i64) -> Receipt {
        Receipt { received_at: at(second), certificate_not_after: None }
    }

    fn admit_and_apply(snapshot: &mut Snapshot, batch: Batch, second: i64) -> Result<(), Inadmissible> {
        snapshot.admit(&batch, 10, &Claims::default())?;
        snapshot.apply(batch, receipt(second), &mut Dirty::default());
        Ok(())
    }

    #[test]
    fn one_agent_owns_a_subject_until_it_lets_go() {
        let mut snapshot = Snapshot::default();
        admit_and_apply(&mut snapshot, batch("gamma", "乙县", vec![probe("乙县政府网", true, at(0))], None), 0)
            .unwrap();
        // Another agent writing the same labels is refused, naming the owner.
        let hostile = batch("alpha", "乙县", vec![probe("乙县政府网", false, at(1))], None);
        let refused = snapshot.admit(&hostile, 10, &Claims::default()).unwrap_err();
        assert!(matches!(&refused, Inadmissible::Owned { owner, .. } if owner == "gamma"), "{refused:?}");
        // Other labels (another county) are another subject.
        admit_and_apply(&mut snapshot, batch("alpha", "甲县", vec![probe("乙县政府网", false, at(1))], None), 1)
            .unwrap();
        // The owner's inventory drops it: free for the next agent.
        admit_and_apply(&mut snapshot, batch("gamma", "乙县", Vec::new(), Some(vec![])), 2).unwrap();
        admit_and_apply(&mut snapshot, hostile, 3).unwrap();
        let (key, state) = snapshot.subjects().iter().next().unwrap();
        assert_eq!((snapshot.subjects().len(), key.agent.as_str(), state.county.as_str()), (1, "alpha", "乙县"));
    }

    #[test]
    fn an_inventory_touches_only_its_own_agent() {
        let mut snapshot = Snapshot::default();
        for agent in ["a", "a-b", "a.b", "a_b", "ab"] {
            admit_and_apply(
                &mut snapshot,
                batch(agent, "县", vec![probe(&format!("{agent}站"), true, at(0))], None),
                0,
            )
            .unwrap();
        }
        admit_and_apply(&mut snapshot, batch("a", "县", Vec::new(), Some(vec![])), 1).unwrap();
        let agents: Vec<&str> = snapshot.subjects().keys().map(|k| k.agent.as_str()).collect();
        assert_eq!(agents, ["a-b", "a.b", "a_b", "ab"]);
    }

    #[test]
    fn a_clock_in_the_future_cannot_freeze_a_site_as_up() {
        let mut snapshot = Snapshot::default();
        let year_2099 = Timestamp::from_second(4_070_908_800).unwrap();
        admit_and_apply(&mut snapshot, batch("a", "县", vec![probe("站", true, year_2099)], None), 0).unwrap();
        for n in 1..=3 {
            admit_and_apply(&mut snapshot, batch("a", "县", vec![probe("站", false, at(n))], None), n).unwrap();
        }
        let state = snapshot.subjects().values().next().unwrap();
        assert_eq!(state.streak.failures, 3, "received later is newer");
        assert_eq!(state.observation.fetch.as_ref().unwrap().status, None, "the newest probe shows");
        // The future-dated probe was taken as of its receipt, so it expires like any other.
        let mut dirty = Dirty::default();
        assert_eq!(snapshot.expire(at(10), at(10), &mut dirty), 1);
    }

    #[test]
    fn subjects_per_agent_are_capped_and_claims_in_one_group_count() {
        let snapshot = Snapshot::default();
        let many: Vec<Observation> = (0..11).map(|i| probe(&format!("站{i}"), true, at(0))).collect();
        let refused = snapshot.admit(&batch("a", "县", many, None), 10, &Claims::default()).unwrap_err();
        assert_eq!(refused, Inadmissible::TooManySubjects { subjects: 11, limit: 10 });
        // Two batches in one group claiming the same new subject: the second is refused.
        let mut claims = Claims::default();
        let first = batch("a", "县", vec![probe("新站", true, at(0))], None);
        claims.record(snapshot.admit(&first, 10, &claims).unwrap());
        // An agent at its cap may swap subjects in one batch: the inventory makes room.
        let mut full = Snapshot::default();
        admit_and_apply(
            &mut full,
            batch("c", "县", (0..10).map(|i| probe(&format!("旧{i}"), true, at(0))).collect(), None),
            0,
        )
        .unwrap();
        let swap = batch("c", "县", vec![probe("新", true, at(1))], Some(vec!["新"]));
        assert!(full.admit(&swap, 10, &Claims::default()).is_ok());
        let more = batch("c", "县", vec![probe("新", true, at(1))], None);
        assert!(matches!(full.admit(&more, 10, &Claims::default()), Err(Inadmissible::TooManySubjects { .. })));
        let second = batch("b", "县", vec![probe("新站", true, at(0))], None);
        assert!(matches!(snapshot.admit(&second, 10, &claims), Err(Inadmissible::Owned { owner, .. }) if owner == "a"));
    }

    #[test]
    fn retiring_an_agent_frees_its_subjects() {
        let mut snapshot = Snapshot::default();
        admit_and_apply(&mut snapshot, batch("old", "县", vec![probe("站", true, at(0))], None), 0).unwrap();
        let mut dirty = Dirty::default();
        assert_eq!(snapshot.retire("old", at(0), &mut dirty), 1);
        assert!(snapshot.agents.is_empty() && snapshot.subjects().is_empty());
        admit_and_apply(&mut snapshot, batch("new", "县", vec![probe("站", true, at(1))], None), 1).unwrap();
    }
}
