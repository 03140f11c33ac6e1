//! `[[site.interaction]]`: a site's consultation channel (留言板, 县长信箱, 咨询投诉), whose
//! published messages show whether and how fast the site answers.
//!
//! ```toml
//! [[site.interaction]]
//! name = "县长信箱"
//! url = "http://www.longchuan.gov.cn/hdjl/xzxx/"
//! simple_keywords = ["简单咨询"]        # messages containing these must be answered in 1 working day
//! # reply_limit_working_days = 5       # overrides the threshold for this channel
//! # item_selector = "table.msg tr"     # overrides automatic reading of the message list
//! ```

use std::collections::HashSet;

use url::Url;

use super::fields::{ProbeSettings, Problems, Table, read_probe, selector, unique_name};
use super::thresholds::Thresholds;
use crate::markup::select::SelectorList;

#[derive(Clone, Debug)]
pub struct InteractionConfig {
    /// The channel's name, unique within its site.
    pub name: String,
    /// The page listing published messages.
    pub url: Url,
    /// Replies later than this many working days are overdue. Default: the threshold (5).
    pub reply_limit_working_days: u32,
    /// Limit for messages containing one of `simple_keywords`. Default: the threshold (1).
    pub simple_reply_limit_working_days: u32,
    /// Words that mark a message as a simple question (简单咨询). Default: none.
    pub simple_keywords: Vec<String>,
    /// CSS selector for the messages, overriding automatic reading.
    pub item_selector: Option<SelectorList>,
    pub probe: ProbeSettings,
}

pub(crate) fn read_interaction(
    mut table: Table<'_>,
    inherited: ProbeSettings,
    thresholds: &Thresholds,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<InteractionConfig> {
    let name = unique_name(&mut table, seen, problems, |name| {
        format!("this site already has an interaction channel named {name:?}; names must be unique within a site")
    });
    let url = table.url("url", true, problems);
    let limit = table.whole_number("reply_limit_working_days", " working days", 1, 365, problems);
    let simple_limit = table.whole_number("simple_reply_limit_working_days", " working days", 1, 365, problems);
    let simple_keywords: Vec<String> =
        table.strings("simple_keywords", problems).unwrap_or_default().into_iter().map(|(text, _)| text).collect();
    let item_selector = selector(&mut table, "item_selector", false, problems);
    let probe = read_probe(&mut table, inherited, problems);
    table.finish(problems);
    Some(InteractionConfig {
        name: name?.0.trim().to_string(),
        url: url?,
        reply_limit_working_days: limit.map(|d| d as u32).unwrap_or(thresholds.reply_limit_working_days),
        simple_reply_limit_working_days: simple_limit
            .map(|d| d as u32)
            .unwrap_or(thresholds.simple_reply_limit_working_days),
        simple_keywords,
        item_selector,
        probe,
    })
}

/// `[calendar]`: years added to (or corrected in) the shipped working-day calendar.
/// ```toml
/// [[calendar.year]]
/// year = 2027
/// holidays = ["01-01", "02-06", "02-07"]
/// workdays = ["02-14"]                  # weekend days worked (调休)
/// ```
pub(crate) fn read_calendar(mut table: Table<'_>, problems: &mut Problems) -> crate::time::calendar::Calendar {
    let mut calendar = crate::time::calendar::Calendar::china();
    for mut year_table in table.tables("year", problems) {
        let year = year_table.whole_number("year", "", 2000, 2100, problems).map(|y| y as i16);
        let mut schedule = crate::time::calendar::YearSchedule::default();
        for (key, is_holiday) in [("holidays", true), ("workdays", false)] {
            for (text, origin) in year_table.strings(key, problems).unwrap_or_default() {
                match year.and_then(|year| crate::time::calendar::parse_month_day(year, text.trim())) {
                    Some(date) if is_holiday => {
                        schedule.holidays.insert(date);
                    }
                    Some(date) => {
                        schedule.workdays.insert(date);
                    }
                    None if year.is_some() => problems.push(
                        &origin,
                        &year_table.key_path(key),
                        format!("{text:?} is not a MM-DD date of that year"),
                    ),
                    None => {}
                }
            }
        }
        if year.is_none() && !year_table.get_peek("year") {
            problems.push(&year_table.origin, &year_table.key_path("year"), "missing; this key is required");
        }
        year_table.finish(problems);
        if let Some(year) = year {
            calendar.set_year(year, schedule);
        }
    }
    table.finish(problems);
    calendar
}
