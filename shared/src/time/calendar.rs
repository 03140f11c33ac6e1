//! China's working-day calendar: weekends, the State Council's public holidays and the weekend
//! days worked in exchange (调休).
//!
//! The schedules ship as data (`calendar_cn.txt`, 2019 onward); configuration may add or
//! replace a year. A date in a year the calendar does not know is counted by weekday alone and
//! the year is reported, so callers can say so instead of guessing silently.

use std::collections::{BTreeMap, BTreeSet};

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

const SHIPPED: &str = include_str!("calendar_cn.txt");

/// One year's public holidays and adjusted working days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YearSchedule {
    pub holidays: BTreeSet<Date>,
    /// Weekend days that are working days.
    pub workdays: BTreeSet<Date>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i16, YearSchedule>,
}

/// Working days counted between two dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingDays {
    pub days: i64,
    /// Years in the range the calendar does not know; their days were counted by weekday.
    pub assumed_years: Vec<i16>,
}

impl Calendar {
    /// The shipped schedules.
    pub fn china() -> Calendar {
        parse(SHIPPED).expect("the shipped calendar data is well formed (tested)")
    }

    /// An empty calendar: every year unknown (weekdays only).
    pub fn weekdays_only() -> Calendar {
        Calendar { years: BTreeMap::new() }
    }

    /// Adds or replaces one year's schedule.
    pub fn set_year(&mut self, year: i16, schedule: YearSchedule) {
        self.years.insert(year, schedule);
    }

    pub fn knows(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    pub fn known_years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.keys().copied()
    }

    /// Whether `date` is a working day; None for a year the calendar does not know.
    pub fn is_working_day(&self, date: Date) -> Option<bool> {
        let schedule = self.years.get(&date.year())?;
        Some(if schedule.workdays.contains(&date) {
            true
        } else if schedule.holidays.contains(&date) {
            false
        } else {
            !is_weekend(date)
        })
    }

    /// Working days strictly after `from` up to and including `to` (0 when `to <= from`): a reply
    /// on the next working day after the message took 1 working day.
    pub fn working_days_between(&self, from: Date, to: Date) -> WorkingDays {
        let mut days = 0;
        let mut assumed_years = Vec::new();
        let mut date = from;
        while date < to {
            date = match date.checked_add(1.day()) {
                Ok(next) => next,
                Err(_) => break,
            };
            let working = match self.is_working_day(date) {
                Some(working) => working,
                None => {
                    if !assumed_years.contains(&date.year()) {
                        assumed_years.push(date.year());
                    }
                    !is_weekend(date)
                }
            };
            days += i64::from(working);
        }
        WorkingDays { days, assumed_years }
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Reads calendar data: `YEAR NAME holiday MM-DD… [workday MM-DD…]` lines, `#` comments.
pub fn parse(text: &str) -> Result<Calendar, String> {
    let mut years: BTreeMap<i16, YearSchedule> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let error = |what: &str| format!("calendar line {}: {what}: {line:?}", number + 1);
        let year: i16 = words.next().and_then(|w| w.parse().ok()).ok_or_else(|| error("expected a year"))?;
        let _name = words.next().ok_or_else(|| error("expected a holiday name"))?;
        let schedule = years.entry(year).or_default();
        let mut kind = None;
        for word in words {
            match word {
                "holiday" | "workday" => kind = Some(word),
                day => {
                    let date =
                        parse_month_day(year, day).ok_or_else(|| error(&format!("{day:?} is not a MM-DD date")))?;
                    match kind {
                        Some("holiday") => schedule.holidays.insert(date),
                        Some(_) => schedule.workdays.insert(date),
                        None => return Err(error("dates must follow \"holiday\" or \"workday\"")),
                    };
                }
            }
        }
    }
    Ok(Calendar { years })
}

/// `MM-DD` in `year`.
pub fn parse_month_day(year: i16, text: &str) -> Option<Date> {
    let (month, day) = text.split_once('-')?;
    Date::new(year, month.parse().ok()?, day.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn shipped_data_covers_2019_to_2026() {
        let calendar = Calendar::china();
        assert_eq!(calendar.known_years().collect::<Vec<_>>(), (2019..=2026).collect::<Vec<_>>());
        // 2024 Spring Festival: 02-10..02-17 off, Sunday 02-04 and 02-18 worked.
        assert_eq!(calendar.is_working_day(date(2024, 2, 9)), Some(true));
        assert_eq!(calendar.is_working_day(date(2024, 2, 12)), Some(false));
        assert_eq!(calendar.is_working_day(date(2024, 2, 4)), Some(true));
        assert_eq!(calendar.is_working_day(date(2024, 2, 18)), Some(true));
        assert_eq!(calendar.is_working_day(date(2024, 2, 24)), Some(false));
        assert_eq!(calendar.is_working_day(date(2027, 1, 4)), None);
    }

    #[test]
    fn reply_latency_counts_working_days_after_the_message() {
        let calendar = Calendar::china();
        let check = |from: Date, to: Date, expected: i64| {
            assert_eq!(calendar.working_days_between(from, to).days, expected, "{from} → {to}");
        };
        check(date(2026, 11, 20), date(2026, 11, 20), 0); // same day
        check(date(2026, 11, 20), date(2026, 11, 23), 1); // Friday → Monday
        check(date(2026, 11, 21), date(2026, 11, 23), 1); // posted on Saturday
        check(date(2026, 11, 16), date(2026, 11, 23), 5); // a week
        // Across National Day 2026: Oct 1–7 off, Saturday Oct 10 worked.
        check(date(2026, 9, 30), date(2026, 10, 9), 2);
        check(date(2026, 9, 30), date(2026, 10, 12), 4);
        // Across Spring Festival 2025: Jan 28–Feb 4 off, Sunday Jan 26 and Saturday Feb 8 worked:
        // Jan 26, 27, Feb 5, 6, 7, 8, 10.
        check(date(2025, 1, 24), date(2025, 2, 10), 7);
    }

    #[test]
    fn unknown_years_are_counted_by_weekday_and_reported() {
        let calendar = Calendar::china();
        let counted = calendar.working_days_between(date(2026, 12, 30), date(2027, 1, 5));
        assert_eq!(counted, WorkingDays { days: 4, assumed_years: vec![2027] });
        let mut corrected = calendar.clone();
        let mut schedule = YearSchedule::default();
        schedule.holidays.insert(date(2027, 1, 1));
        corrected.set_year(2027, schedule);
        assert_eq!(
            corrected.working_days_between(date(2026, 12, 30), date(2027, 1, 5)),
            WorkingDays { days: 3, assumed_years: vec![] }
        );
    }

    #[test]
    fn malformed_data_is_refused() {
        assert!(parse("2027 元旦 holiday 13-01").is_err());
        assert!(parse("2027 元旦 01-01").is_err());
        assert!(parse("twenty 元旦 holiday 01-01").is_err());
    }
}
