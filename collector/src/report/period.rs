//! The period a report covers: a quarter (`2026Q4`), a month (`2026-11`) or a range of days
//! (`2026-10-01..2026-12-31`), China days, both ends included; the period before it, to compare
//! with; and the 整改 deadline after it, in working days of the holiday calendar.

use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;
use xunjian_shared::time::calendar::Calendar;

/// What a report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Quarter { year: i16, quarter: i8 },
    Month { year: i16, month: i8 },
    Days { from: Date, to: Date },
}

impl Period {
    /// Reads `2026Q4` (or `2026q4`), `2026-11`, or `2026-10-01..2026-12-31`; the error says
    /// what to write instead, in Chinese.
    pub fn parse(text: &str) -> Result<Period, String> {
        let text = text.trim();
        let help = || {
            format!(
                "无法识别的时段 {text:?}：请写季度（如 2026Q4）、月份（如 2026-11）或日期范围（如 2026-10-01..2026-12-31）"
            )
        };
        if let Some((from, to)) = text.split_once("..") {
            let date = |value: &str| value.trim().parse::<Date>().map_err(|_| help());
            let (from, to) = (date(from)?, date(to)?);
            if from > to {
                return Err(format!("时段 {text:?} 的开始日期晚于结束日期"));
            }
            return Ok(Period::Days { from, to });
        }
        if let Some((year, quarter)) = text.split_once(['Q', 'q']) {
            let year: i16 = year.parse().map_err(|_| help())?;
            let quarter: i8 = quarter.parse().map_err(|_| help())?;
            if !(1..=4).contains(&quarter) || !(2000..=2100).contains(&year) {
                return Err(help());
            }
            return Ok(Period::Quarter { year, quarter });
        }
        if let Some((year, month)) = text.split_once('-') {
            let year: i16 = year.parse().map_err(|_| help())?;
            let month: i8 = month.parse().map_err(|_| help())?;
            if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
                return Err(help());
            }
            return Ok(Period::Month { year, month });
        }
        Err(help())
    }

    /// The quarter `day` falls in.
    pub fn quarter_of(day: Date) -> Period {
        Period::Quarter { year: day.year(), quarter: (day.month() - 1) / 3 + 1 }
    }

    /// The first day.
    pub fn from(self) -> Date {
        match self {
            Period::Quarter { year, quarter } => Date::new(year, (quarter - 1) * 3 + 1, 1).unwrap_or(Date::MIN),
            Period::Month { year, month } => Date::new(year, month, 1).unwrap_or(Date::MIN),
            Period::Days { from, .. } => from,
        }
    }

    /// The last day.
    pub fn to(self) -> Date {
        match self {
            Period::Quarter { year, quarter } => {
                let first_of_next =
                    if quarter == 4 { Date::new(year + 1, 1, 1) } else { Date::new(year, quarter * 3 + 1, 1) };
                first_of_next.ok().and_then(|d| d.yesterday().ok()).unwrap_or(Date::MAX)
            }
            Period::Month { year, month } => Date::new(year, month, 1).map(|d| d.last_of_month()).unwrap_or(Date::MAX),
            Period::Days { to, .. } => to,
        }
    }

    /// Days covered, both ends included.
    pub fn days(self) -> i64 {
        xunjian_shared::time::days_between(self.from(), self.to()) + 1
    }

    /// The period before, of the same kind (a range: as many days, ending the day before).
    pub fn previous(self) -> Period {
        match self {
            Period::Quarter { year, quarter: 1 } => Period::Quarter { year: year - 1, quarter: 4 },
            Period::Quarter { year, quarter } => Period::Quarter { year, quarter: quarter - 1 },
            Period::Month { year, month: 1 } => Period::Month { year: year - 1, month: 12 },
            Period::Month { year, month } => Period::Month { year, month: month - 1 },
            Period::Days { from, .. } => {
                let to = from.yesterday().unwrap_or(from);
                let from = to.checked_sub((self.days() - 1).days()).unwrap_or(to);
                Period::Days { from, to }
            }
        }
    }

    /// The 整改 deadline: `working_days` working days after the period's last day, counted with
    /// `calendar` (holidays and 调休; weekends alone in years it does not know).
    pub fn rectification_deadline(self, working_days: u32, calendar: &Calendar) -> Date {
        let mut day = self.to();
        let mut counted = 0;
        while counted < working_days {
            let Ok(next) = day.tomorrow() else { break };
            day = next;
            let weekday = day.weekday().to_monday_one_offset();
            if calendar.is_working_day(day).unwrap_or(weekday <= 5) {
                counted += 1;
            }
        }
        day
    }
}

/// `2026年第四季度`, `2026年11月`, `2026年10月1日至2026年12月31日`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];
        let day = |d: Date| format!("{}年{}月{}日", d.year(), d.month(), d.day());
        match *self {
            Period::Quarter { year, quarter } => {
                write!(f, "{year}年第{}季度", QUARTERS[(quarter.clamp(1, 4) - 1) as usize])
            }
            Period::Month { year, month } => write!(f, "{year}年{month}月"),
            Period::Days { from, to } => write!(f, "{}至{}", day(from), day(to)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn quarters_months_and_ranges() {
        let q4 = Period::parse("2026Q4").unwrap();
        assert_eq!((q4.from(), q4.to(), q4.days()), (date("2026-10-01"), date("2026-12-31"), 92));
        assert_eq!(q4.to_string(), "2026年第四季度");
        assert_eq!(q4.previous(), Period::Quarter { year: 2026, quarter: 3 });
        assert_eq!(Period::parse("2027q1").unwrap().previous(), Period::Quarter { year: 2026, quarter: 4 });
        let february = Period::parse("2028-02").unwrap();
        assert_eq!((february.to(), february.to_string()), (date("2028-02-29"), "2028年2月".to_string()));
        assert_eq!(Period::parse("2026-01").unwrap().previous(), Period::Month { year: 2025, month: 12 });
        let range = Period::parse("2026-11-01..2026-11-10").unwrap();
        assert_eq!(range.to_string(), "2026年11月1日至2026年11月10日");
        assert_eq!(range.previous(), Period::Days { from: date("2026-10-22"), to: date("2026-10-31") });
        assert_eq!(Period::quarter_of(date("2026-11-20")), q4);
        for bad in ["2026Q5", "2026-13", "Q4", "2026-12-31..2026-10-01", "last quarter", ""] {
            let error = Period::parse(bad).unwrap_err();
            assert!(error.contains("时段") || error.contains("开始日期"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_deadline_counts_working_days_across_holidays_and_makeup_days() {
        let calendar = Calendar::china();
        // The quarter ends Wednesday 2026-09-30; National Day is 10-01 to 10-07, and Saturday
        // 10-10 is worked (调休): 10-08, 09, 10, 12, 13, 14, 15, 16, 19, 20.
        let q3 = Period::parse("2026Q3").unwrap();
        assert_eq!(q3.rectification_deadline(10, &calendar), date("2026-10-20"));
        let weekdays_only = q3.rectification_deadline(10, &Calendar::weekdays_only());
        assert_eq!(weekdays_only, date("2026-10-14"));
        assert_eq!(Period::parse("2026-11").unwrap().rectification_deadline(0, &calendar), date("2026-11-30"));
    }
}
