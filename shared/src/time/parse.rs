//! Finding publication dates in the text and links of Chinese government pages.
//!
//! Three readers, from strict to loose:
//! - [`date_cell`]: a piece of text that *is* a date (`2026-11-20`, `[11-20]`, `发布日期：2026年11月20日`).
//!   Year-less dates are accepted only here, because `11-20` in running text is as likely a
//!   score, a range or part of a phone number.
//! - [`dates_in_text`]: full dates (with a year) inside running text.
//! - [`date_in_url`]: dates CMSs put into article addresses (`t20261120_123.html`, `/art/2026/11/20/`).
//! - [`post_date`]: a post's date as feeds and platform APIs give it (RFC 822/2822, RFC 3339, Weibo's
//!   `Fri Nov 20 08:00:00 +0800 2026`, unix seconds or milliseconds, `刚刚`, `5分钟前`, `昨天 12:30`).
//!
//! Digits must stand alone: `0762-3383321` (a phone number), `粤ICP备12345678号` and
//! `2010-2026` (a copyright range) are not dates. Full-width digits and separators count as
//! their ASCII twins. Years outside 1990..=next year are rejected as noise.

use jiff::civil::{Date, Time};

use super::Published;

/// Longest text (in characters) [`date_cell`] considers; a date with a label and a time fits.
const CELL_BUFFER_CHARS: usize = 64;

/// The earliest year a government page plausibly dates an item with.
const MIN_YEAR: i16 = 1990;

/// Reads `text` as a single date, after stripping brackets and a short label such as `发布日期：`.
/// Year-less dates resolve to the most recent such date not after `today`.
pub fn date_cell(text: &str, today: Date) -> Option<Published> {
    // Cells are short; a fixed buffer keeps this allocation-free on the per-page hot path.
    let mut buffer = [' '; CELL_BUFFER_CHARS];
    let mut len = 0;
    for c in text.chars() {
        if len == CELL_BUFFER_CHARS {
            return None;
        }
        buffer[len] = normalize_char(c);
        len += 1;
    }
    let body = strip_cell_decoration(&buffer[..len]);
    if body.is_empty() || body.len() > 40 {
        return None;
    }
    let found = scan_at(body, 0, today, true)?;
    let rest = &body[found.end..];
    if rest.iter().all(|c| is_cell_trailer(*c)) || is_weekday_suffix(rest) { Some(found.published) } else { None }
}

/// Every full date (year, month, day, optionally a time) in running text, in order.
pub fn dates_in_text(text: &str, today: Date) -> Vec<Published> {
    let chars = normalize(text);
    let mut found = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let starts_number = chars[index].is_ascii_digit() && (index == 0 || !is_word_char(chars[index - 1]));
        if starts_number && let Some(hit) = scan_at(&chars, index, today, false) {
            found.push(hit.published);
            index = hit.end;
            continue;
        }
        // Skip the rest of this digit run so `12345-11-20` does not yield `2345-11-20`.
        if chars[index].is_ascii_digit() {
            while index < chars.len() && chars[index].is_ascii_digit() {
                index += 1;
            }
        } else {
            index += 1;
        }
    }
    found
}

/// A piece of a date a calendar-style block shows in its own element: `<span class="day">20</span>
/// <span class="ym">2026-11</span>`, `<em>11月17日</em><i>2026年</i>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatePart {
    /// `20`, `05`, `20日`.
    Day(i8),
    /// `11月`.
    Month(i8),
    /// `2026`, `2026年`.
    Year(i16),
    /// `2026-11`, `2026/11`, `2026.11`, `2026年11月`.
    YearMonth(i16, i8),
    /// `11-17`, `11/17`, `11.17`, `11月17日`.
    MonthDay(i8, i8),
}

/// Reads `text` (one element's text) as a piece of a date, or None.
pub fn date_part(text: &str) -> Option<DatePart> {
    // At most 12 characters, read into a buffer: most texts asked are titles, not dates.
    let mut buffer = ['\0'; 12];
    let mut len = 0;
    for c in text.trim().chars() {
        *buffer.get_mut(len)? = normalize_char(c);
        len += 1;
    }
    let chars = &buffer[..len];
    if chars.is_empty() {
        return None;
    }
    let (first, first_len, after) = read_number(chars, 0, 4)?;
    let at = skip_spaces(chars, after);
    let suffix = |at: usize, allowed: &[char]| -> Option<usize> {
        match chars.get(at) {
            None => Some(at),
            Some(c) if allowed.contains(c) && skip_spaces(chars, at + 1) == chars.len() => Some(at + 1),
            _ => None,
        }
    };
    let year = |value: u32| i16::try_from(value).ok().filter(|year| *year >= MIN_YEAR);
    let month = |value: u32| i8::try_from(value).ok().filter(|month| (1..=12).contains(month));
    let day = |value: u32| i8::try_from(value).ok().filter(|day| (1..=31).contains(day));
    if at == chars.len() || suffix(at, &['日', '号', '年', '月']).is_some() && at + 1 >= chars.len() {
        return match (first_len, chars.get(at)) {
            (4, None | Some('年')) => year(first).map(DatePart::Year),
            (1 | 2, None | Some('日' | '号')) => day(first).map(DatePart::Day),
            (1 | 2, Some('月')) => month(first).map(DatePart::Month),
            _ => None,
        };
    }
    let sep = chars[at];
    if !matches!(sep, '-' | '/' | '.' | '年' | '月') {
        return None;
    }
    let (second, second_len, after_second) = read_number(chars, skip_spaces(chars, at + 1), 2)?;
    let end = skip_spaces(chars, after_second);
    match (first_len, sep) {
        (4, '年') => suffix(end, &['月']).and(Some(DatePart::YearMonth(year(first)?, month(second)?))),
        (4, '-' | '/' | '.') => (end == chars.len()).then_some(DatePart::YearMonth(year(first)?, month(second)?)),
        (1 | 2, '月') => suffix(end, &['日', '号']).and(Some(DatePart::MonthDay(month(first)?, day(second)?))),
        // Zero-padded like a CMS writes a year-less date (`01-05`); `1/5` is a page counter.
        (2, '-' | '/' | '.') if second_len == 2 => {
            (end == chars.len()).then_some(DatePart::MonthDay(month(first)?, day(second)?))
        }
        _ => None,
    }
}

/// The one date the pieces of a calendar-style block make (year-month and day, year and
/// month-day, or year, month and day, in any order), when it is not after `today`. None when
/// the pieces make no date or more than one.
pub fn assemble_date(parts: &[DatePart], today: Date) -> Option<Date> {
    let mut year = None;
    let mut month = None;
    let mut day = None;
    // A piece seen twice with different values (a ranking number beside the day) is ambiguous.
    fn set<T: PartialEq + Copy>(slot: &mut Option<T>, value: T) -> bool {
        match slot {
            Some(existing) => *existing == value,
            None => {
                *slot = Some(value);
                true
            }
        }
    }
    for part in parts {
        let consistent = match *part {
            DatePart::Day(d) => set(&mut day, d),
            DatePart::Month(m) => set(&mut month, m),
            DatePart::Year(y) => set(&mut year, y),
            DatePart::YearMonth(y, m) => set(&mut year, y) && set(&mut month, m),
            DatePart::MonthDay(m, d) => set(&mut month, m) && set(&mut day, d),
        };
        if !consistent {
            return None;
        }
    }
    let year = year?;
    if year > today.year() {
        return None;
    }
    Date::new(year, month?, day?).ok().filter(|date| *date <= today)
}

/// The date a CMS wrote into an article address, if it wrote one.
///
/// Recognised: an 8-digit `YYYYMMDD` run (TRS WCM `t20261120_123.html`, `content_20261120.htm`,
/// `/20261120/`), and `YYYY/MM/DD`, `YYYY-MM/DD`, `YYYYMM/DD`, `YYYY-MM-DD` path pieces
/// (Hanweb `art/2026/11/20/art_1_2.html`). Dates after `today` are not returned: a number that
/// looks like tomorrow is an id, not a date.
pub fn date_in_url(url: &str, today: Date) -> Option<Date> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let bytes = path.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if !bytes[index].is_ascii_digit() || (index > 0 && bytes[index - 1].is_ascii_digit()) {
            index += 1;
            continue;
        }
        let run_end = index + bytes[index..].iter().take_while(|b| b.is_ascii_digit()).count();
        let run = &path[index..run_end];
        let candidate = match run.len() {
            8 => ymd(&run[0..4], &run[4..6], &run[6..8]),
            6 => following_number(path, run_end, b'/').and_then(|day| ymd(&run[0..4], &run[4..6], day)),
            4 => url_year_month_day(path, run_end).and_then(|(m, d)| ymd(run, m, d)),
            _ => None,
        };
        if let Some(date) = candidate
            && date <= today
        {
            return Some(date);
        }
        index = run_end;
    }
    None
}

/// The most recent date with this month and day that is not after `today`
/// (`11-20` read on 2026-11-26 is 2026-11-20; `12-30` read then is 2025-12-30).
pub fn resolve_yearless(month: i8, day: i8, today: Date) -> Option<Date> {
    let this_year = Date::new(today.year(), month, day);
    match this_year {
        Ok(date) if date <= today => Some(date),
        _ => {
            // 02-29 in a non-leap year resolves to the last leap year that is not in the future.
            let mut year = today.year() - 1;
            while year >= today.year() - 8 {
                if let Ok(date) = Date::new(year, month, day) {
                    return Some(date);
                }
                year -= 1;
            }
            None
        }
    }
}

/// A post's publication time in any form feeds, RSS bridges and platform APIs use, read at
/// `now`; in China time. None when the text is none of them.
pub fn post_date(text: &str, now: jiff::Timestamp) -> Option<Published> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let china = |stamp: jiff::Timestamp| {
        let local = stamp.to_zoned_datetime(jiff::tz::TimeZone::fixed(super::CHINA_OFFSET));
        Published { date: local.date(), time: Some(local.time()) }
    };
    // Unix seconds (10 digits) or milliseconds (13), as JSON APIs give them.
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let number: i64 = text.parse().ok()?;
        let stamp = match text.len() {
            9 | 10 => jiff::Timestamp::from_second(number).ok()?,
            12 | 13 => jiff::Timestamp::from_millisecond(number).ok()?,
            _ => return None,
        };
        return Some(china(stamp));
    }
    if let Ok(stamp) = text.parse::<jiff::Timestamp>() {
        return Some(china(stamp));
    }
    if let Ok(stamp) = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text) {
        return Some(china(stamp));
    }
    if let Some(stamp) = weibo_date(text) {
        return Some(china(stamp));
    }
    if let Some(published) = relative_date(text, now) {
        return Some(published);
    }
    let today = super::china_today(now);
    date_cell(text, today).or_else(|| dates_in_text(text, today).into_iter().next())
}

/// Weibo's `Fri Nov 20 08:00:00 +0800 2026` (and the same without the weekday or the seconds).
fn weibo_date(text: &str) -> Option<jiff::Timestamp> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    ["%a %b %d %H:%M:%S %z %Y", "%b %d %H:%M:%S %z %Y", "%a %b %d %H:%M %z %Y", "%b %d %H:%M %z %Y"]
        .into_iter()
        .find_map(|format| jiff::Timestamp::strptime(format, &text).ok())
}

/// `刚刚`, `30秒前`, `5分钟前`, `3小时前`, `2天前`, `今天 09:30`, `昨天 12:30`, `前天 08:00`.
fn relative_date(text: &str, now: jiff::Timestamp) -> Option<Published> {
    let zone = jiff::tz::TimeZone::fixed(super::CHINA_OFFSET);
    let local = now.to_zoned_datetime(zone.clone());
    let at = |stamp: jiff::Timestamp| {
        let local = stamp.to_zoned_datetime(zone.clone());
        Published { date: local.date(), time: Some(local.time()) }
    };
    if text == "刚刚" {
        return Some(at(now));
    }
    for (suffix, seconds) in [("秒前", 1i64), ("分钟前", 60), ("小时前", 3600), ("天前", 86_400)] {
        if let Some(number) = text.strip_suffix(suffix) {
            let amount: i64 = number.trim().parse().ok()?;
            // "99999999999天前" is garbage, not an overflow.
            let back = amount.checked_mul(seconds)?;
            return Some(at(jiff::Timestamp::from_second(now.as_second().checked_sub(back)?).ok()?));
        }
    }
    for (prefix, days_back) in [("今天", 0i64), ("昨天", 1), ("前天", 2)] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let date = local.date().checked_sub(jiff::Span::new().days(days_back)).ok()?;
            // scan_time expects the separator that follows a date; give it one.
            let rest = normalize(&format!(" {}", rest.trim()));
            let (time, _) = scan_time(&rest, 0);
            return Some(Published { date, time });
        }
    }
    None
}

struct Hit {
    published: Published,
    end: usize,
}

/// Full-width digits and punctuation as their ASCII twins; everything else unchanged.
fn normalize(text: &str) -> Vec<char> {
    text.chars().map(normalize_char).collect()
}

fn normalize_char(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '－' | '—' | '–' => '-',
        '／' => '/',
        '．' => '.',
        '：' => ':',
        '\u{3000}' | '\u{a0}' => ' ',
        other => other,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_bracket(c: char) -> bool {
    matches!(
        c,
        '[' | ']'
            | '('
            | ')'
            | '【'
            | '】'
            | '（'
            | '）'
            | '〔'
            | '〕'
            | '<'
            | '>'
            | '《'
            | '》'
            | '「'
            | '」'
            | '{'
            | '}'
    )
}

fn is_cell_trailer(c: char) -> bool {
    c.is_whitespace() || is_bracket(c) || matches!(c, '|' | ',' | '，' | '、' | ';' | '；')
}

/// `2026-11-20 星期五` and `2026年11月20日(周五)` are still single dates.
fn is_weekday_suffix(rest: &[char]) -> bool {
    let text: String = rest.iter().filter(|c| !is_cell_trailer(**c)).collect();
    matches!(text.as_str(), "" | "星期一" | "星期二" | "星期三" | "星期四" | "星期五" | "星期六" | "星期日" | "星期天")
        || (text.chars().count() == 2
            && (text.starts_with('周') && text.ends_with(['一', '二', '三', '四', '五', '六', '日', '天'])))
}

/// Drops surrounding whitespace and brackets and a leading label of up to eight characters that
/// ends in a colon (`发布日期：`, `时间:`, `Date:`).
fn strip_cell_decoration(chars: &[char]) -> &[char] {
    let mut start = 0;
    let mut end = chars.len();
    while start < end && is_cell_trailer(chars[start]) {
        start += 1;
    }
    while end > start && is_cell_trailer(chars[end - 1]) {
        end -= 1;
    }
    let body = &chars[start..end];
    if let Some(colon) = body.iter().position(|c| *c == ':')
        && colon <= 8
        && body[..colon].iter().all(|c| !c.is_ascii_digit())
    {
        let mut rest = &body[colon + 1..];
        while let Some((first, tail)) = rest.split_first() {
            if is_cell_trailer(*first) {
                rest = tail;
            } else {
                break;
            }
        }
        return rest;
    }
    body
}

fn skip_spaces(chars: &[char], mut index: usize) -> usize {
    while index < chars.len() && chars[index] == ' ' {
        index += 1;
    }
    index
}

/// Reads a run of 1..=max digits at `index`; returns (value, digit count, end).
fn read_number(chars: &[char], index: usize, max_digits: usize) -> Option<(u32, usize, usize)> {
    let mut end = index;
    let mut value: u32 = 0;
    while end < chars.len() && chars[end].is_ascii_digit() {
        if end - index == max_digits {
            return None; // longer than any date part: an id or a phone number
        }
        value = value * 10 + chars[end].to_digit(10).unwrap_or(0);
        end += 1;
    }
    (end > index).then_some((value, end - index, end))
}

/// Tries to read a date starting at `index` (which starts a digit run).
fn scan_at(chars: &[char], index: usize, today: Date, allow_yearless: bool) -> Option<Hit> {
    let (first, first_len, after_first) = read_number(chars, index, 4)?;
    let sep_at = skip_spaces(chars, after_first);
    let sep = *chars.get(sep_at)?;
    if first_len == 4 {
        if !matches!(sep, '-' | '/' | '.' | '年') {
            return None;
        }
        let month_at = skip_spaces(chars, sep_at + 1);
        let (month, _, after_month) = read_number(chars, month_at, 2)?;
        let sep2_at = skip_spaces(chars, after_month);
        let expected_sep2 = if sep == '年' { '月' } else { sep };
        if chars.get(sep2_at) != Some(&expected_sep2) {
            return None;
        }
        let day_at = skip_spaces(chars, sep2_at + 1);
        let (day, _, mut end) = read_number(chars, day_at, 2)?;
        if sep == '年' {
            let suffix_at = skip_spaces(chars, end);
            if matches!(chars.get(suffix_at), Some('日' | '号')) {
                end = suffix_at + 1;
            }
        } else if chars.get(end) == Some(&sep) && chars.get(end + 1).is_some_and(|c| c.is_ascii_digit()) {
            return None; // `2026.11.20.3` is a version number, `2026-11-20-01` a serial
        }
        if chars.get(end).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        let year = i16::try_from(first).ok()?;
        if !(MIN_YEAR..=today.year() + 1).contains(&year) {
            return None;
        }
        let date = Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?;
        let (time, end) = scan_time(chars, end);
        return Some(Hit { published: Published { date, time }, end });
    }
    if !allow_yearless || first_len > 2 || !matches!(sep, '-' | '/' | '.' | '月') {
        return None;
    }
    let day_at = skip_spaces(chars, sep_at + 1);
    let (day, day_len, mut end) = read_number(chars, day_at, 2)?;
    // CMSs zero-pad year-less numeric dates (`01-05`); `1/5` is a page counter, `1-2` a range.
    if sep != '月' && (first_len != 2 || day_len != 2) {
        return None;
    }
    if sep == '月' {
        let suffix_at = skip_spaces(chars, end);
        if matches!(chars.get(suffix_at), Some('日' | '号')) {
            end = suffix_at + 1;
        }
    }
    if chars.get(end).is_some_and(|c| c.is_ascii_digit() || *c == sep) {
        return None;
    }
    let date = resolve_yearless(i8::try_from(first).ok()?, i8::try_from(day).ok()?, today)?;
    let (time, end) = scan_time(chars, end);
    Some(Hit { published: Published { date, time }, end })
}

/// An optional ` 09:30` or ` 09:30:05` (or `T09:30`) after a date.
fn scan_time(chars: &[char], index: usize) -> (Option<Time>, usize) {
    let mut at = skip_spaces(chars, index);
    if chars.get(at) == Some(&'T') {
        at += 1;
    }
    if at == index && chars.get(at).is_some_and(|c| c.is_ascii_digit()) {
        return (None, index);
    }
    let Some((hour, _, after_hour)) = read_number(chars, at, 2) else {
        return (None, index);
    };
    if chars.get(after_hour) != Some(&':') {
        return (None, index);
    }
    let Some((minute, 2, mut end)) = read_number(chars, after_hour + 1, 2) else {
        return (None, index);
    };
    let mut second = 0;
    if chars.get(end) == Some(&':')
        && let Some((value, 2, after_second)) = read_number(chars, end + 1, 2)
    {
        second = value;
        end = after_second;
    }
    if chars.get(end).is_some_and(|c| c.is_ascii_digit()) {
        return (None, index);
    }
    let time =
        (|| Time::new(i8::try_from(hour).ok()?, i8::try_from(minute).ok()?, i8::try_from(second).ok()?, 0).ok())();
    match time {
        Some(time) => (Some(time), end),
        None => (None, index),
    }
}

fn ymd(year: &str, month: &str, day: &str) -> Option<Date> {
    let year: i16 = year.parse().ok()?;
    if year < MIN_YEAR {
        return None;
    }
    Date::new(year, month.parse().ok()?, day.parse().ok()?).ok()
}

/// The 1–2 digit number right after `separator` at `index` in `path`, ending at a non-digit.
fn following_number(path: &str, index: usize, separator: u8) -> Option<&str> {
    let bytes = path.as_bytes();
    if bytes.get(index) != Some(&separator) {
        return None;
    }
    let start = index + 1;
    let len = bytes[start..].iter().take_while(|b| b.is_ascii_digit()).count();
    (len == 2).then(|| &path[start..start + len])
}

/// After a 4-digit year in a URL: `/MM/DD`, `-MM/DD`, `-MM-DD` (two digits each).
fn url_year_month_day(path: &str, index: usize) -> Option<(&str, &str)> {
    let separator = *path.as_bytes().get(index)?;
    if !matches!(separator, b'/' | b'-') {
        return None;
    }
    let month = following_number(path, index, separator)?;
    let after_month = index + 1 + month.len();
    let day = following_number(path, after_month, b'/').or_else(|| following_number(path, after_month, separator))?;
    Some((month, day))
}

#[cfg(test)]
mod tests {
    #[test]
    fn calendar_blocks_assemble_from_their_pieces() {
        let today = Date::constant(2026, 11, 26);
        let parts = |texts: &[&str]| texts.iter().map(|t| date_part(t)).collect::<Option<Vec<_>>>();
        let date = |texts: &[&str]| parts(texts).and_then(|parts| assemble_date(&parts, today));
        assert_eq!(date(&["20", "2026-11"]), Some(Date::constant(2026, 11, 20)));
        assert_eq!(date(&["2026/11", "05"]), Some(Date::constant(2026, 11, 5)));
        assert_eq!(date(&["１９日", "2026年11月"]), Some(Date::constant(2026, 11, 19)));
        assert_eq!(date(&["2026年", "11月17日"]), Some(Date::constant(2026, 11, 17)));
        assert_eq!(date(&["2025", "12-28"]), Some(Date::constant(2025, 12, 28)));
        assert_eq!(date(&["18", "11月", "2026"]), Some(Date::constant(2026, 11, 18)));
        assert_eq!(date(&["2026.10", "31"]), Some(Date::constant(2026, 10, 31)));
        // Not a date: a future one, an impossible one, a missing or a doubled piece.
        assert_eq!(date(&["30", "2026-12"]), None);
        assert_eq!(date(&["31", "2026-11"]), None);
        assert_eq!(date(&["2026-11"]), None);
        assert_eq!(date(&["20", "3", "2026-11"]), None);
        for text in
            ["阅读 12", "2026-11-20", "0762", "13", "1234-5", "2026年11月20日", "第3期", "40", "2026-13", "1/5", "3-12"]
        {
            assert!(
                date_part(text).is_none() || matches!(date_part(text), Some(DatePart::Day(13))),
                "{text}: {:?}",
                date_part(text)
            );
        }
    }

    use super::*;
    use jiff::civil::{date, time};

    const TODAY: Date = Date::constant(2026, 11, 26);

    fn check_cell(input: &str, expected: Option<&str>) {
        let got = date_cell(input, TODAY).map(|p| p.to_string());
        assert_eq!(got.as_deref(), expected, "date_cell({input:?})");
    }

    #[test]
    fn cells_in_every_written_form() {
        check_cell("2026-11-20", Some("2026-11-20"));
        check_cell("2026/11/20", Some("2026-11-20"));
        check_cell("2026.11.20", Some("2026-11-20"));
        check_cell("2026年11月20日", Some("2026-11-20"));
        check_cell("2026 年 1 月 5 日", Some("2026-01-05"));
        check_cell("[2026-11-20]", Some("2026-11-20"));
        check_cell("【2026-11-20】", Some("2026-11-20"));
        check_cell("（2026-11-20）", Some("2026-11-20"));
        check_cell("２０２６－１１－２０", Some("2026-11-20"));
        check_cell("发布日期：2026-11-20", Some("2026-11-20"));
        check_cell("发布时间: 2026-11-20 09:30", Some("2026-11-20T09:30:00+08:00"));
        check_cell("2026-11-20 09:30:05", Some("2026-11-20T09:30:05+08:00"));
        check_cell("2026-11-20T09:30", Some("2026-11-20T09:30:00+08:00"));
        check_cell("2026年11月20日 星期五", Some("2026-11-20"));
        check_cell("2026-1-5", Some("2026-01-05"));
    }

    #[test]
    fn yearless_cells_resolve_to_the_most_recent_past_date() {
        check_cell("11-20", Some("2026-11-20"));
        check_cell("[11-20]", Some("2026-11-20"));
        check_cell("11月20日", Some("2026-11-20"));
        check_cell("11/26", Some("2026-11-26"));
        check_cell("12-30", Some("2025-12-30"));
        check_cell("11-27", Some("2025-11-27"));
        check_cell("02-29", Some("2024-02-29"));
    }

    #[test]
    fn cells_that_are_not_dates() {
        check_cell("0762-3383321", None);
        check_cell("2010-2026", None);
        check_cell("粤ICP备12345678号", None);
        check_cell("2026-13-01", None);
        check_cell("2026-02-30", None);
        check_cell("1-2", None);
        check_cell("1/5", None);
        check_cell("01-05", Some("2026-01-05"));
        check_cell("1月5日", Some("2026-01-05"));
        check_cell("共5页 1/5", None);
        check_cell("2026-11-20 关于印发通知", None);
        check_cell("浏览次数：1234", None);
        check_cell("1985-01-01", None);
        check_cell("2026.11.20.1", None);
        check_cell("", None);
    }

    #[test]
    fn dates_inside_running_text() {
        let got = |text: &str| -> Vec<String> { dates_in_text(text, TODAY).iter().map(|p| p.to_string()).collect() };
        assert_eq!(got("来源：本站 2026-11-20 浏览：35"), ["2026-11-20"]);
        assert_eq!(got("今天是2026年11月26日 星期四"), ["2026-11-26"]);
        assert_eq!(got("电话：0762-3383321 传真：0762-3383322"), Vec::<String>::new());
        assert_eq!(
            got("Copyright © 2010-2026 版权所有 粤ICP备05012345号-1 粤公网安备 44160202000123号"),
            Vec::<String>::new()
        );
        assert_eq!(got("印发日期2026-10-01，发布日期2026-10-08 16:00"), ["2026-10-01", "2026-10-08T16:00:00+08:00"]);
        assert_eq!(got("编号12026-11-20"), Vec::<String>::new());
        assert_eq!(got("11-20 不带年份的不算"), Vec::<String>::new());
    }

    #[test]
    fn dates_in_article_addresses() {
        let check = |url: &str, expected: Option<Date>| assert_eq!(date_in_url(url, TODAY), expected, "{url}");
        check("./202611/t20261120_1234567.html", Some(date(2026, 11, 20)));
        check("http://www.hy.gov.cn/art/2026/11/20/art_123_456.html", Some(date(2026, 11, 20)));
        check("/content/post_20261119.html", Some(date(2026, 11, 19)));
        check("/xwzx/202611/20/c123.html", Some(date(2026, 11, 20)));
        check("/news/2026-11-18/detail.html", Some(date(2026, 11, 18)));
        check("/info/1015/4213.htm", None);
        check("/article?id=20261199", None);
        check("/doc/t20261230_1.html", None); // in the future: an id, not a date
        check("/zwgk/index_2.html?d=20261120", None);
    }

    #[test]
    fn post_dates_in_every_form_feeds_use() {
        let now: jiff::Timestamp = "2026-11-26T04:00:00Z".parse().unwrap(); // 12:00 in China
        let check = |text: &str, expected: &str| {
            assert_eq!(post_date(text, now).map(|p| p.to_string()).as_deref(), Some(expected), "{text}");
        };
        check("Fri, 20 Nov 2026 08:00:00 +0800", "2026-11-20T08:00:00+08:00");
        check("Fri, 20 Nov 2026 00:00:00 GMT", "2026-11-20T08:00:00+08:00");
        check("2026-11-20T08:00:00+08:00", "2026-11-20T08:00:00+08:00");
        check("2026-11-19T23:30:00Z", "2026-11-20T07:30:00+08:00");
        check("Fri Nov 20 08:00:00 +0800 2026", "2026-11-20T08:00:00+08:00");
        check("Nov 20 08:00:00 +0800 2026", "2026-11-20T08:00:00+08:00");
        check("Fri Nov 20 08:00 +0800 2026", "2026-11-20T08:00:00+08:00");
        check("Fri Nov 20 00:00:00 -0500 2026", "2026-11-20T13:00:00+08:00");
        check("1795132800", "2026-11-20T08:00:00+08:00");
        check("1795132800000", "2026-11-20T08:00:00+08:00");
        check("刚刚", "2026-11-26T12:00:00+08:00");
        check("5分钟前", "2026-11-26T11:55:00+08:00");
        check("3小时前", "2026-11-26T09:00:00+08:00");
        check("2天前", "2026-11-24T12:00:00+08:00");
        check("昨天 12:30", "2026-11-25T12:30:00+08:00");
        check("前天 08:00", "2026-11-24T08:00:00+08:00");
        check("2026-11-20 08:00", "2026-11-20T08:00:00+08:00");
        check("11-20", "2026-11-20");
        check("2026年11月20日", "2026-11-20");
        assert_eq!(post_date("not a date", now), None);
        assert_eq!(post_date("12345", now), None);
        // Found by fuzzing (fuzz/run.sh dates): an absurd amount overflowed.
        assert_eq!(post_date("222222222222222天前", now), None);
    }

    #[test]
    fn times_must_be_well_formed() {
        let cell = date_cell("2026-11-20 25:99", TODAY);
        assert_eq!(cell, None, "a broken time leaves trailing text, so this is not a clean cell");
        let text = dates_in_text("2026-11-20 25:99 起", TODAY);
        assert_eq!(text, [Published::date(date(2026, 11, 20))]);
        let with_time = dates_in_text("2026-11-20 08:05 发布", TODAY);
        assert_eq!(with_time[0].time, Some(time(8, 5, 0, 0)));
    }
}
