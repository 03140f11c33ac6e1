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
    pub fn check(&self, name: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let Limits { per_user, per_address, window } = self.limits;
        let mut failures = self.failures();
        let by_user = failures.users.get_mut(&user_key(name)).and_then(|t| wait(t, per_user, window, now));
        let by_address =
            failures.addresses.get_mut(&address_key(address)).and_then(|t| wait(t, per_address, window, now));
        match by_user.max(by_address) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a failed login.
    pub fn failed(&self, name: &str, address: IpAddr, now: Instant) {
        let window = self.limits.window;
        let mut failures = self.failures();
        if failures.users.len() + failures.addresses.len() >= MAX_KEYS {
            let fresh = |times: &mut VecDeque<Instant>| {
                times.back().is_some_and(|&at| now.saturating_duration_since(at) < window)
            };
            failures.users.retain(|_, times| fresh(times));
            failures.addresses.retain(|_, times| fresh(times));
        }
        if failures.users.len() < MAX_KEYS {
            failures.users.entry(user_key(name)).or_default().push_back(now);
        }
        if failures.addresses.len() < MAX_KEYS {
            failures.addresses.entry(address_key(address)).or_default().push_back(now);
        }
    }

    /// A successful login clears the name's failures (not the address's: one right password
    /// must not reset a sweep over many names).
    pub fn succeeded(&self, name: &str) {
        self.failures().users.remove(&user_key(name));
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
        for i in 0..3 {
            assert!(limiter.check("Office", here, start).is_ok(), "attempt {i}");
            limiter.failed("Office", here, start + Duration::from_secs(i));
        }
        let wait = limiter.check("office", there, start + Duration::from_secs(10)).unwrap_err();
        assert!(wait > Duration::from_secs(580) && wait <= Duration::from_secs(600), "{wait:?}");
        assert!(limiter.check("lc", there, start).is_ok(), "other names from other places go on");
        assert!(limiter.check("office", there, start + Duration::from_secs(601)).is_ok(), "the window passed");

        // A sweep over many names from one address stops at the address's limit.
        for name in ["a", "b"] {
            limiter.failed(name, here, start + Duration::from_secs(20));
        }
        assert!(limiter.check("zzz", here, start + Duration::from_secs(30)).is_err());
        assert!(limiter.check("zzz", there, start + Duration::from_secs(30)).is_ok());
        limiter.succeeded("zzz");
        assert!(
            limiter.check("zzz", here, start + Duration::from_secs(30)).is_err(),
            "success elsewhere resets no address"
        );
    }

    #[test]
    fn ipv6_hosts_count_by_their_64() {
        let limiter = LoginLimiter::new(Limits { per_user: 100, per_address: 2, window: Duration::from_secs(60) });
        let now = Instant::now();
        limiter.failed("a", "2001:db8:1:2::1".parse().unwrap(), now);
        limiter.failed("b", "2001:db8:1:2::ffff".parse().unwrap(), now);
        assert!(limiter.check("c", "2001:db8:1:2:3:4:5:6".parse().unwrap(), now).is_err());
        assert!(limiter.check("c", "2001:db8:1:3::1".parse().unwrap(), now).is_ok());
    }
}
