//! `check`'s zh-CN table for county IT staff: one row per page, then each site's verdict.

use std::fmt::Write as _;

use jiff::tz::TimeZone;
use xunjian_shared::time::CHINA_OFFSET;
use xunjian_shared::wire::{CheckReport, Observation, Severity};

const HEADERS: [&str; 7] = ["目标", "栏目", "条数", "最新日期", "距今天数", "结论", "问题"];

/// Renders the report as an aligned table (CJK characters count as two columns).
pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    let started = report.started_at.to_zoned_datetime(TimeZone::fixed(CHINA_OFFSET));
    let sites = report.sites.len();
    let columns = report.observations.iter().filter(|o| o.column.is_some()).count();
    let _ = writeln!(
        out,
        "{} 巡检结果（{}，{} 个网站、{} 个栏目）\n",
        report.county,
        started.strftime("%Y-%m-%d %H:%M"),
        sites,
        columns
    );
    let mut rows: Vec<[String; 7]> = vec![HEADERS.map(String::from)];
    let mut previous_target: Option<&str> = None;
    for observation in &report.observations {
        let target = if previous_target == Some(observation.target.as_str()) {
            String::new()
        } else {
            observation.target.clone()
        };
        previous_target = Some(&observation.target);
        rows.push([
            target,
            place(observation),
            observation
                .guides()
                .map(|guides| guides.checked)
                .or(observation.items())
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            observation.last_update().map(|d| d.date.to_string()).unwrap_or_else(|| "-".into()),
            observation.age_days().map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            conclusion(observation).to_string(),
            problems(observation),
        ]);
    }
    let widths: Vec<usize> =
        (0..6).map(|col| rows.iter().map(|row| display_width(&row[col])).max().unwrap_or(0)).collect();
    for row in &rows {
        let mut line = String::new();
        for (col, cell) in row.iter().enumerate() {
            if col == 6 {
                line.push_str(cell);
                continue;
            }
            let pad = widths[col] - display_width(cell);
            // Numbers align right, text left.
            if (2..=4).contains(&col) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("\n站点结论：\n");
    for verdict in &report.sites {
        if verdict.unreachable && verdict.vetoes.is_empty() {
            let _ = writeln!(
                out,
                "  {}：本次无法访问首页（单次失败不构成否决；7 天内失败占比达 5% 即单项否决），请尽快排查",
                verdict.target
            );
        } else if verdict.ok {
            let _ = writeln!(
                out,
                "  {}：合格（{} 个栏目，{} 个未按期更新，{} 个空白）",
                verdict.target, verdict.columns, verdict.stale_columns, verdict.blank_columns
            );
        } else {
            let _ = writeln!(out, "  {}：不合格", verdict.target);
            for veto in &verdict.vetoes {
                let _ = writeln!(out, "    - {veto}");
            }
        }
    }
    out
}

/// Where on the target the row is: its column, channel or platform; else the home page.
fn place(observation: &Observation) -> String {
    if let Some(name) = observation.column.as_ref().or(observation.channel.as_ref()) {
        return name.clone();
    }
    match &observation.platform {
        Some(platform) => xunjian_shared::config::Platform::named(platform)
            .map(|p| p.label_zh().to_string())
            .unwrap_or_else(|| platform.clone()),
        None => "首页".to_string(),
    }
}

fn conclusion(observation: &Observation) -> &'static str {
    let worst = observation.findings.iter().map(|f| f.severity).max();
    match worst {
        Some(Severity::Veto) => "单项否决",
        Some(Severity::Error) => "有问题",
        Some(Severity::Warning) => "提醒",
        None => "正常",
    }
}

fn problems(observation: &Observation) -> String {
    if observation.findings.is_empty() {
        return "-".to_string();
    }
    observation.findings.iter().map(|f| f.detail.as_str()).collect::<Vec<_>>().join("；")
}

/// Terminal columns taken by `text`: East Asian wide and full-width characters take two.
pub fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let code = c as u32;
            let wide = matches!(code,
                0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF |
                0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 |
                0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
            if wide { 2 } else { 1 }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("首页"), 4);
        assert_eq!(display_width("２０"), 4);
        assert_eq!(display_width("（）"), 4);
    }
}
