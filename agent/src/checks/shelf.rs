//! What the agent remembers of pages it reads a share per round (service guides, policy and
//! interpretation pages): each page's reading by URL, so that every listed page is read in turn,
//! none more often than once within [`Shelf::read_again_after`], and an observation can report
//! all the pages read so far.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use url::Url;

/// Pages remembered at most per shelf (the oldest reading goes first beyond).
const CAPACITY: usize = 20_000;

/// Each page's reading and when it was taken, by the page's URL.
type Readings<T> = HashMap<Box<str>, Box<(T, Timestamp)>>;

/// Readings of pages by URL, across rounds. A shelf holds a reading for every home page or
/// column the agent probes, so an entry is kept small: the URL's text and a pointer (the map
/// keeps spare slots; a reading boxed apart fills none of them).
pub struct Shelf<T> {
    read: Mutex<Readings<T>>,
    read_again_after: SignedDuration,
}

impl<T: Clone> Shelf<T> {
    /// A shelf whose pages are read again once this old.
    pub fn new(read_again_after: SignedDuration) -> Self {
        Shelf { read: Mutex::new(HashMap::new()), read_again_after }
    }

    /// Of `listed`, the `max` to read at `now`: never read first, then read longest ago; none read
    /// within `read_again_after`. A page that failed is remembered like the others (its reading
    /// says so), so dead links wait their turn instead of taking every slot.
    pub fn due<'a, K>(&self, listed: &'a [K], url: impl Fn(&K) -> &Url, max: usize, now: Timestamp) -> Vec<&'a K> {
        let read = self.lock();
        let last_read = |key: &K| read.get(url(key).as_str()).map(|reading| reading.1);
        let mut order: Vec<&K> = listed
            .iter()
            .filter(|key| last_read(key).is_none_or(|at| now.duration_since(at) >= self.read_again_after))
            .collect();
        order.sort_by_key(|key| last_read(key));
        order.truncate(max);
        order
    }

    pub fn remember(&self, url: &Url, reading: T, now: Timestamp) {
        let mut read = self.lock();
        if read.len() >= CAPACITY && !read.contains_key(url.as_str()) {
            let oldest = read.iter().min_by_key(|(_, reading)| reading.1).map(|(url, _)| url.clone());
            if let Some(oldest) = oldest {
                read.remove(&oldest);
            }
        }
        read.insert(url.as_str().into(), Box::new((reading, now)));
    }

    /// What was read of `url`, if it was.
    pub fn get(&self, url: &Url) -> Option<T> {
        self.lock().get(url.as_str()).map(|reading| reading.0.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Readings<T>> {
        self.read.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shelf_reads_the_unread_then_the_longest_ago() {
        let shelf: Shelf<bool> = Shelf::new(SignedDuration::from_hours(20));
        let url = |n: u32| Url::parse(&format!("http://x.gov.cn/bszn/{n}.html")).unwrap();
        let listed: Vec<Url> = (0..5).map(url).collect();
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        for (n, second) in [(0, 30), (1, 10), (3, 20)] {
            shelf.remember(&url(n), true, at(second));
        }
        shelf.remember(&url(4), false, at(5));
        let day = 24 * 3600;
        let due: Vec<Url> = shelf.due(&listed, |u| u, 3, at(day)).into_iter().cloned().collect();
        assert_eq!(due, [url(2), url(4), url(1)], "never read first, then the longest ago (a failure too)");
        let again: Vec<Url> = shelf.due(&listed, |u| u, 5, at(3600)).into_iter().cloned().collect();
        assert_eq!(again, [url(2)], "nothing read within the day is read again");
        assert_eq!(shelf.get(&url(4)), Some(false));
        assert_eq!(shelf.get(&url(2)), None);
    }
}
