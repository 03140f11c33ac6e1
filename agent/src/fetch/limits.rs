//! Fan-out limits: requests in flight per host and overall.
//!
//! Government web servers are small and often behind the same county data centre; two requests
//! at a time per host is polite, and the overall cap bounds sockets and memory. The host permit
//! is taken before the global one, so a queue for one slow host never holds global slots.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct RequestLimiter {
    per_host: usize,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Held while a request is in flight.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl RequestLimiter {
    pub fn new(per_host: u32, global: u32) -> Self {
        RequestLimiter {
            per_host: per_host.max(1) as usize,
            global: Arc::new(Semaphore::new(global.max(1) as usize)),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot for `host` (host:port) and an overall slot.
    pub async fn acquire(&self, host: &str) -> Permit {
        let host_semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            hosts.entry(host.to_string()).or_insert_with(|| Arc::new(Semaphore::new(self.per_host))).clone()
        };
        // The semaphores are never closed, so acquiring cannot fail.
        let host_permit = host_semaphore.acquire_owned().await.expect("host semaphore is never closed");
        let global_permit = self.global.clone().acquire_owned().await.expect("global semaphore is never closed");
        Permit { _host: host_permit, _global: global_permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn at_most_per_host_in_flight() {
        let limiter = Arc::new(RequestLimiter::new(2, 16));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (limiter, in_flight, peak) = (limiter.clone(), in_flight.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limiter.acquire("www.example.gov.cn:80").await;
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
