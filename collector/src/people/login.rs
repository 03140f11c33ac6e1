//! Login attempt limits: failed logins are counted per user name and per address, and a name or
//! an address with too many recent failures is refused before any password is hashed, so
//! guessing is slow and hashing cannot be used to burn the server's CPU.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures a window allows.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Failures for one user name (whatever the address).
    pub per_user: usize,
    /// Failures from one address (IPv6: its /64), whatever the names tried.
    pub per_address: usize,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { per_user: 5, per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

/// Names and addresses remembered at most; beyond it the oldest quiet ones are dropped first.
const MAX_KEYS: usize = 50_000;

#[derive(Default)]
struct Failures {
    users: HashMap<String, VecDeque<Instant>>,
    addresses: HashMap<IpAddr, VecDeque<Instant>>,
}

/// The failures of the last window, in memory (a restart forgets them: the window is short).
pub struct LoginLimiter {
    limits: Limits,
    failures: Mutex<Failures>,
}

/// The key a user name is counted under: `Office` and `office` are one user.
fn user_key(name: &str) -> String {
    name.trim().chars().take(crate::people::MAX_NAME_CHARS).collect::<String>().to_lowercase()
}

/// The key an address is counted under: IPv6 hosts get a /64 each, so one counts as one.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
        v4 => v4,
    }
}

/// Drops the failures older than the window; the time left until the oldest kept one expires
/// when there are `limit` or more.
fn wait(times: &mut VecDeque<Instant>, limit: usize, window: Duration, now: Instant) -> Option<Duration> {
    while times.front().is_some_and(|&at| now.saturating_duration_since(at) >= window) {
        times.pop_front();
    }
    (times.len() >= limit).then(|| {
        let oldest = times[times.len() - limit];
        window.saturating_sub(now.saturating_duration_since(oldest)).max(Duration::from_secs(1))
    })
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> LoginLimiter {
        LoginLimiter { limits, failures: Mutex::new(Failures::default()) }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, Failures> {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a login for `name` from `address` may be tried now; how long to wait if not.
    /// An attempt counts as a failure at once, so attempts sent together all count (a success
    /// takes its own back: [`LoginLimiter::succeeded`]). When too many names and addresses are
    /// remembered to take a new one, the attempt waits too: refusing is safer than forgetting.
    pub fn attempt(&self, name: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let Limits { per_user, per_address, window } = self.limits;
        let (user, address) = (user_key(name), address_key(address));
        let mut failures = self.failures();
        let by_user = failures.users.get_mut(&user).and_then(|t| wait(t, per_user, window, now));
        let by_address = failures.addresses.get_mut(&address).and_then(|t| wait(t, per_address, window, now));
        if let Some(wait) = by_user.max(by_address) {
            return Err(wait);
        }
        let new_keys =
            usize::from(!failures.users.contains_key(&user)) + usize::from(!failures.addresses.contains_key(&address));
        if failures.users.len() + failures.addresses.len() + new_keys > MAX_KEYS {
            let fresh = |times: &mut VecDeque<Instant>| {
                times.back().is_some_and(|&at| now.saturating_duration_since(at) < window)
            };
            failures.users.retain(|_, times| fresh(times));
            failures.addresses.retain(|_, times| fresh(times));
            if failures.users.len() + failures.addresses.len() + new_keys > MAX_KEYS {
                return Err(window);
            }
        }
        failures.users.entry(user).or_default().push_back(now);
        failures.addresses.entry(address).or_default().push_back(now);
        Ok(())
    }

    /// A successful login clears the name's failures and takes back its own attempt from the
    /// address (not the address's other failures: one right password must not reset a sweep
    /// over many names).
    pub fn succeeded(&self, name: &str, address: IpAddr) {
        let mut failures = self.failures();
        failures.users.remove(&user_key(name));
        if let Some(times) = failures.addresses.get_mut(&address_key(address)) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_an_address_are_each_refused_after_their_limit_until_the_window_passes() {
        let limiter = LoginLimiter::new(Limits { per_user: 3, per_address: 5, window: Duration::from_secs(600) });
        let start = Instant::now();
        let here: IpAddr = "10.0.0.1".parse().unwrap();
        let there: IpAddr = "10.0.0.2".parse().unwrap();
        // Attempts count when they start: three sent together use up the name's three.
        for i in 0..3 {
            assert!(limiter.attempt("Office", here, start + Duration::from_secs(i)).is_ok(), "attempt {i}");
        }
        let wait = limiter.attempt("office", there, start + Duration::from_secs(10)).unwrap_err();
        assert!(wait > Duration::from_secs(580) && wait <= Duration::from_secs(600), "{wait:?}");
        assert!(limiter.attempt("lc", there, start).is_ok(), "other names from other places go on");
        limiter.succeeded("lc", there);
        assert!(limiter.attempt("office", there, start + Duration::from_secs(601)).is_ok(), "the window passed");

        // A sweep over many names from one address stops at the address's limit (five).
        for name in ["a", "b"] {
            assert!(limiter.attempt(name, here, start + Duration::from_secs(20)).is_ok());
        }
        assert!(limiter.attempt("zzz", here, start + Duration::from_secs(30)).is_err());
        assert!(limiter.attempt("zzz", there, start + Duration::from_secs(30)).is_ok());
        limiter.succeeded("zzz", there);
        assert!(
            limiter.attempt("zzz", here, start + Duration::from_secs(30)).is_err(),
            "a success elsewhere resets no address"
        );
    }

    #[test]
    fn a_success_takes_back_only_its_own_attempt() {
        let limiter = LoginLimiter::new(Limits { per_user: 2, per_address: 2, window: Duration::from_secs(60) });
        let now = Instant::now();
        let here: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(limiter.attempt("office", here, now).is_ok());
            limiter.succeeded("office", here);
        }
        assert!(limiter.attempt("a", here, now).is_ok());
        assert!(limiter.attempt("b", here, now).is_ok());
        assert!(limiter.attempt("c", here, now).is_err(), "two failures from here");
    }

    #[test]
    fn ipv6_hosts_count_by_their_64() {
        let limiter = LoginLimiter::new(Limits { per_user: 100, per_address: 2, window: Duration::from_secs(60) });
        let now = Instant::now();
        assert!(limiter.attempt("a", "2001:db8:1:2::1".parse().unwrap(), now).is_ok());
        assert!(limiter.attempt("b", "2001:db8:1:2::ffff".parse().unwrap(), now).is_ok());
        assert!(limiter.attempt("c", "2001:db8:1:2:3:4:5:6".parse().unwrap(), now).is_err());
        assert!(limiter.attempt("c", "2001:db8:1:3::1".parse().unwrap(), now).is_ok());
    }
}
