//! Dates as government pages write them, and the clock of the place they are written in.
//!
//! All civil dates here are China Standard Time (UTC+8, no daylight saving since 1991), so a fixed
//! offset stands in for a time-zone database and nothing depends on the host's tzdata.

pub mod calendar;
pub mod parse;

use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};

/// China Standard Time, the zone every government page's dates are written in.
pub const CHINA_OFFSET: Offset = Offset::constant(8);

/// The civil date in China at `now`.
pub fn china_today(now: Timestamp) -> Date {
    now.to_zoned_datetime(TimeZone::fixed(CHINA_OFFSET)).date()
}

/// `stamp` as China's wall-clock time, `2026-11-26 12:00:00`: how pages, messages and the CLI
/// show a moment to people.
pub fn china_time(stamp: Timestamp) -> String {
    stamp.to_zoned_datetime(TimeZone::fixed(CHINA_OFFSET)).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The moment `date` begins in China.
pub fn china_midnight(date: Date) -> Timestamp {
    Published { date, time: None }.timestamp()
}

/// Whole days from `earlier` to `later` (negative when `earlier` is after `later`).
pub fn days_between(earlier: Date, later: Date) -> i64 {
    later.since(earlier).map(|span| i64::from(span.get_days())).unwrap_or(0)
}

/// `date` minus `days` days, saturating at the earliest date jiff knows.
pub fn days_before(date: Date, days: u32) -> Date {
    date.checked_sub(i64::from(days).days()).unwrap_or(Date::MIN)
}

/// When something was published, as precisely as the page said it: a date, or a date and a time
/// of day in China Standard Time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Published {
    pub date: Date,
    pub time: Option<Time>,
}

impl Published {
    pub fn date(date: Date) -> Self {
        Published { date, time: None }
    }

    /// The instant this stands for; a bare date counts as the start of that day in China.
    pub fn timestamp(&self) -> Timestamp {
        let time = self.time.unwrap_or(Time::midnight());
        self.date
            .to_datetime(time)
            .to_zoned_datetime(TimeZone::fixed(CHINA_OFFSET))
            .map(|zoned| zoned.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

impl fmt::Display for Published {
    /// ISO 8601: `2026-11-20`, or `2026-11-20T09:30:00+08:00` when the page gave a time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.time {
            None => write!(f, "{}", self.date),
            Some(time) => write!(f, "{}T{:02}:{:02}:{:02}+08:00", self.date, time.hour(), time.minute(), time.second()),
        }
    }
}

impl std::str::FromStr for Published {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() == 10
            && let Ok(date) = text.parse::<Date>()
        {
            return Ok(Published::date(date));
        }
        let stamp: Timestamp =
            text.parse().map_err(|err| format!("expected an ISO 8601 date or date-time, got {text:?}: {err}"))?;
        let local = stamp.to_zoned_datetime(TimeZone::fixed(CHINA_OFFSET));
        Ok(Published { date: local.date(), time: Some(local.time()) })
    }
}

impl serde::Serialize for Published {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Published {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn published_round_trips_through_iso_8601() {
        for text in ["2026-11-20", "2026-11-20T09:30:05+08:00"] {
            let parsed: Published = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
        let utc: Published = "2026-11-20T23:30:00Z".parse().unwrap();
        assert_eq!(utc.to_string(), "2026-11-21T07:30:00+08:00");
    }

    #[test]
    fn today_is_taken_in_china() {
        let late_utc: Timestamp = "2026-11-25T17:00:00Z".parse().unwrap();
        assert_eq!(china_today(late_utc), date(2026, 11, 26));
        assert_eq!(days_between(date(2026, 11, 20), date(2026, 11, 26)), 6);
        assert_eq!(days_before(date(2026, 3, 1), 1), date(2026, 2, 28));
    }
}
