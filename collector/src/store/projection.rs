//! The collector's state in memory, and the one pure function that changes it.
//!
//! [`Snapshot::apply`] takes a committed batch and updates agents and pages; live pushes and
//! the replay of the batch log at startup both go through it, so the same batches in the same
//! order always give the same state. What it changes is recorded in [`Dirty`] for the next
//! checkpoint.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use xunjian_shared::time::{china_today, days_between};
use xunjian_shared::wire::{Batch, CheckKind, Observation, TargetKind};

/// Daily availability counts are kept this many days: the indicator looks at 7, reports at a
/// month.
pub const PROBE_DAYS_KEPT: i64 = 35;

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
}

/// Failed availability probes in a row, up to the newest probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProbeStreak {
    pub failures: u32,
    /// When the first failure of the run was observed.
    pub since: Option<Timestamp>,
    /// The newest probe counted; older ones (replays, late pushes) do not change the run.
    pub last_probe_at: Option<Timestamp>,
}

impl ProbeStreak {
    fn record(&mut self, ok: bool, at: Timestamp) {
        if self.last_probe_at.is_some_and(|last| at < last) {
            return;
        }
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
}

/// The projection `/metrics`, the status page and the API read.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub agents: BTreeMap<String, AgentState>,
    pub subjects: BTreeMap<SubjectKey, SubjectState>,
}

/// What changed since the last checkpoint.
#[derive(Debug, Default)]
pub struct Dirty {
    pub agents: HashSet<String>,
    /// Pages changed or removed (a key absent from the projection is deleted at checkpoint).
    pub subjects: HashSet<SubjectKey>,
}

impl Snapshot {
    /// Applies a batch the store has taken.
    pub fn apply(&mut self, batch: Batch, received_at: Timestamp, dirty: &mut Dirty) {
        let agent = self.agents.entry(batch.agent.clone()).or_insert_with(|| AgentState {
            county: batch.county.clone(),
            first_push_at: received_at,
            last_push_at: received_at,
            last_sequence: batch.sequence,
            batches: 0,
        });
        agent.county.clone_from(&batch.county);
        agent.last_push_at = agent.last_push_at.max(received_at);
        agent.last_sequence = agent.last_sequence.max(batch.sequence);
        agent.batches += 1;
        dirty.agents.insert(batch.agent.clone());

        for observation in batch.observations {
            let key = SubjectKey::of(&batch.agent, &observation);
            let probe = probe_result(&observation);
            let checked_at = observation.checked_at;
            let day = days_since_epoch(china_today(checked_at));
            match self.subjects.get_mut(&key) {
                Some(state) => {
                    state.county.clone_from(&batch.county);
                    count_probe(state, probe, day, checked_at);
                    // A replayed older observation never replaces a newer one; a newer one keeps
                    // what the previous knew from checks that did not run this time.
                    if observation.checked_at >= state.observation.checked_at {
                        let mut observation = observation;
                        observation.carry_over(&state.observation);
                        state.observation = observation;
                    }
                }
                None => {
                    let mut state = SubjectState {
                        county: batch.county.clone(),
                        observation,
                        probes_ok: 0,
                        probes_failed: 0,
                        probe_days: Vec::new(),
                        streak: ProbeStreak::default(),
                    };
                    count_probe(&mut state, probe, day, checked_at);
                    self.subjects.insert(key.clone(), state);
                }
            }
            dirty.subjects.insert(key);
        }

        // A page the agent no longer lists stops producing series now, not after expiry.
        if let Some(inventory) = batch.inventory {
            let listed: HashSet<(String, TargetKind, String, String)> = inventory
                .into_iter()
                .map(|subject| {
                    (
                        subject.target,
                        subject.kind,
                        subject.column.unwrap_or_default(),
                        subject.channel.unwrap_or_default(),
                    )
                })
                .collect();
            let unlisted: Vec<SubjectKey> = self
                .subjects
                .range(agent_range(&batch.agent))
                .map(|(key, _)| key)
                .filter(|key| {
                    !listed.contains(&(key.target.clone(), key.kind, key.column.clone(), key.channel.clone()))
                })
                .cloned()
                .collect();
            for key in unlisted {
                self.subjects.remove(&key);
                dirty.subjects.insert(key);
            }
        }
    }

    /// Removes pages not observed since `cutoff`; returns how many.
    pub fn expire(&mut self, cutoff: Timestamp, dirty: &mut Dirty) -> usize {
        let expired: Vec<SubjectKey> = self
            .subjects
            .iter()
            .filter(|(_, state)| state.observation.checked_at < cutoff)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &expired {
            self.subjects.remove(key);
            dirty.subjects.insert(key.clone());
        }
        expired.len()
    }
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

/// Every key of `agent` in a map ordered by SubjectKey.
fn agent_range(agent: &str) -> std::ops::Range<SubjectKey> {
    let low = SubjectKey {
        agent: agent.to_string(),
        target: String::new(),
        kind: TargetKind::Site,
        column: String::new(),
        channel: String::new(),
    };
    // Agent ids are ASCII, so the same id followed by a char above ASCII bounds every key.
    let high = SubjectKey { agent: format!("{agent}\u{7f}"), ..low.clone() };
    low..high
}

pub fn days_since_epoch(date: jiff::civil::Date) -> i64 {
    days_between(jiff::civil::Date::constant(1970, 1, 1), date)
}
