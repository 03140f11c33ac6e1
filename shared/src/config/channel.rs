//! `[[site.interaction]]`: a site's consultation channel (留言板, 县长信箱, 咨询投诉), whose
//! published messages show whether and how fast the site answers.
//!
//! ```toml
//! [[site.interaction]]
//! name = "县长信箱"
//! url = "http://www.longchuan.gov.cn/hdjl/xzxx/"
//! simple_keywords = ["咨询"]            # messages the board files under these categories: 1 working day
//! # max_pages = 5                      # list pages followed
//! # statistics_url = "http://www.longchuan.gov.cn/hdjl/lytj/"   # 留言办理情况统计, due monthly
//! # reply_limit_working_days = 5       # overrides the threshold for this channel
//! # item_selector = "table.msg tr"     # overrides automatic reading of the message list
//! ```

use std::collections::HashSet;

use url::Url;

use super::fields::{
    DefaultValue, Key, Kind, ProbeSettings, Problems, Table, TableSpec, interval_key, read_probe, timeout_key,
    unique_name,
};
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
    /// Categories that mark a message as a simple question (简单咨询), matched against the
    /// category the board itself shows for each message (类型, 类别). Default: none.
    pub simple_keywords: Vec<String>,
    /// CSS selector for the messages, overriding automatic reading.
    pub item_selector: Option<SelectorList>,
    /// List pages followed (the first and its next pages). Default 5.
    pub max_pages: u32,
    /// The page where the board's statistics (留言办理情况统计) are published.
    pub statistics_url: Option<Url>,
    /// Statistics older than this many days are stale. Default 31.
    pub statistics_max_age_days: u32,
    pub probe: ProbeSettings,
}

pub(crate) static INTERACTION: TableSpec = TableSpec {
    doc: "A site's consultation channel (留言板, 县长信箱, 咨询投诉), whose published messages show whether and how fast the site answers.",
    keys: &[
        Key::new("name", Kind::Name, DefaultValue::Required, "The channel's name, unique within its site."),
        Key::new("url", Kind::Url, DefaultValue::Required, "The page listing published messages."),
        Key::new(
            "reply_limit_working_days",
            Kind::Whole { unit: "working days", min: 1, max: 365 },
            DefaultValue::Otherwise("[thresholds] reply_limit_working_days"),
            "Replies later than this are overdue.",
        ),
        Key::new(
            "simple_reply_limit_working_days",
            Kind::Whole { unit: "working days", min: 1, max: 365 },
            DefaultValue::Otherwise("[thresholds] simple_reply_limit_working_days"),
            "The limit for simple questions (see `simple_keywords`).",
        ),
        Key::new(
            "simple_keywords",
            Kind::Strings,
            DefaultValue::Otherwise("none"),
            "Categories that make a message a simple question (简单咨询), matched against the category the board shows for each message (a 类型 or 类别 column or label, e.g. [\"咨询\"]); never guessed from the message's own text.",
        ),
        Key::new(
            "max_pages",
            Kind::Whole { unit: "pages", min: 1, max: 50 },
            DefaultValue::Whole(super::defaults::BOARD_MAX_PAGES),
            "List pages read (the first and the pages its pager links next), so that older messages are seen too.",
        ),
        Key::new(
            "statistics_url",
            Kind::Url,
            DefaultValue::Otherwise("none"),
            "The page where the board's statistics (留言办理情况统计: received, answered, concluded) are published.",
        ),
        Key::new(
            "statistics_max_age_days",
            Kind::Whole { unit: "days", min: 1, max: 3650 },
            DefaultValue::Whole(super::defaults::STATISTICS_MAX_AGE_DAYS),
            "Statistics published longer ago than this are stale (`interaction_statistics_stale`).",
        ),
        Key::new(
            "item_selector",
            Kind::Selector,
            DefaultValue::Otherwise("automatic reading"),
            "CSS selector for the messages, overriding automatic reading.",
        ),
        interval_key(DefaultValue::Otherwise("[probe] column_interval")),
        timeout_key(DefaultValue::Otherwise("the site's timeout")),
    ],
};

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
    let url = table.url("url", problems);
    let limit = table.whole_number("reply_limit_working_days", problems);
    let simple_limit = table.whole_number("simple_reply_limit_working_days", problems);
    let simple_keywords: Vec<String> =
        table.strings("simple_keywords", problems).into_iter().map(|(text, _)| text).collect();
    let item_selector = table.selector("item_selector", problems);
    let max_pages = table.whole_number("max_pages", problems).unwrap_or(super::defaults::BOARD_MAX_PAGES);
    let statistics_url = table.url("statistics_url", problems);
    let statistics_max_age_days =
        table.whole_number("statistics_max_age_days", problems).unwrap_or(super::defaults::STATISTICS_MAX_AGE_DAYS);
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
        max_pages: u32::try_from(max_pages).unwrap_or(u32::MAX),
        statistics_url,
        statistics_max_age_days: u32::try_from(statistics_max_age_days).unwrap_or(u32::MAX),
        probe,
    })
}

pub(crate) static CALENDAR: TableSpec = TableSpec {
    doc: "Years added to (or corrected in) the shipped working-day calendar, which counts reply limits in working days.",
    keys: &[Key::tables("year", &CALENDAR_YEAR)],
};

static CALENDAR_YEAR: TableSpec = TableSpec {
    doc: "One year's public holidays and worked weekend days (调休).",
    keys: &[
        Key::new("year", Kind::Whole { unit: "", min: 2000, max: 2100 }, DefaultValue::Required, "The year."),
        Key::new(
            "holidays",
            Kind::Strings,
            DefaultValue::Otherwise("none"),
            "Public holidays as \"MM-DD\", e.g. [\"01-01\", \"02-06\"].",
        ),
        Key::new(
            "workdays",
            Kind::Strings,
            DefaultValue::Otherwise("none"),
            "Weekend days worked (调休) as \"MM-DD\".",
        ),
    ],
};

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
        let year = year_table.whole_number("year", problems).map(|y| y as i16);
        let mut schedule = crate::time::calendar::YearSchedule::default();
        for (key, is_holiday) in [("holidays", true), ("workdays", false)] {
            for (text, origin) in year_table.strings(key, problems) {
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
        year_table.finish(problems);
        if let Some(year) = year {
            calendar.set_year(year, schedule);
        }
    }
    table.finish(problems);
    calendar
}
