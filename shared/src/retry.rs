//! Retrying politely, in one place for agent and collector: exponential backoff with jitter,
//! and the one source of randomness (the operating system's) for jitter, phases and ids.

use std::time::Duration;

/// Doubling delays from `first`, capped at `max`, with up to a quarter added at random so that
/// many agents (or notifiers) do not retry in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration) -> Self {
        Backoff { first, max }
    }

    /// The delay before retry number `failures` (1-based); `jitter_unit` in [0, 1] picks the
    /// share of the quarter that is added.
    pub fn delay(&self, failures: u32, jitter_unit: f64) -> Duration {
        let doubling = self.first.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
        let base = doubling.min(self.max);
        base + base.mul_f64(0.25 * jitter_unit.clamp(0.0, 1.0))
    }

    /// [`Backoff::delay`] with a random jitter.
    pub fn jittered(&self, failures: u32) -> Duration {
        self.delay(failures, random_fraction())
    }
}

/// `N` bytes from the operating system's RNG; None only when it is unavailable.
pub fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).ok().map(|()| bytes)
}

/// A uniformly random number in [0, 1) (0.5 when the RNG is unavailable: jitter is a courtesy,
/// not a requirement).
pub fn random_fraction() -> f64 {
    match random_bytes::<4>() {
        Some(bytes) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        None => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff.delay(5, 0.0), Duration::from_secs(16));
        assert_eq!(backoff.delay(30, 0.0), Duration::from_secs(60));
        assert_eq!(backoff.delay(1, 1.0), Duration::from_millis(1250));
        let jittered = backoff.jittered(3);
        assert!(jittered >= Duration::from_secs(4) && jittered <= Duration::from_secs(5), "{jittered:?}");
    }

    #[test]
    fn randomness_is_in_range_and_varies() {
        let draws: Vec<f64> = (0..64).map(|_| random_fraction()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(draws.windows(2).any(|pair| pair[0] != pair[1]));
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
