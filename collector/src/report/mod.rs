//! The quarterly 通报 (issue 12): what the city office signs and sends, written from what the
//! agents observed.
//!
//! ```text
//! source  (history, previous period, ledger, today live)  →  Input
//! model   Report::build(Input, Settings)                   →  Report   (pure)
//! render  md | csv | html | pdf (Chromium) | xlsx | docx   →  bytes    (pure but pdf)
//! ```
//! The 主要问题 groups are data ([`groups::GROUPS`]); the period is a quarter, month or range
//! ([`period`]), judged continuously or at sampling dates ([`model::Method`]).

pub mod groups;
pub mod model;
pub mod period;
pub mod render;
pub mod source;

use jiff::Timestamp;

pub use model::{Method, Report, Request, Settings};
pub use period::Period;
pub use source::{Offline, ReportError, Source};

xunjian_shared::closed_set! {
    /// A report's file format.
    pub enum Format: FormatInfo {
        /// Word: the draft the office edits.
        Docx = "docx" => FormatInfo { content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", label: "Word" },
        /// Excel: 总体情况, 问题清单, 附件, 各县区.
        Xlsx = "xlsx" => FormatInfo { content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", label: "Excel" },
        /// One self-contained page, printable on A4.
        Html = "html" => FormatInfo { content_type: "text/html; charset=utf-8", label: "网页" },
        /// The page printed by headless Chromium.
        Pdf = "pdf" => FormatInfo { content_type: "application/pdf", label: "PDF" },
        /// The 问题清单, UTF-8 with a BOM.
        Csv = "csv" => FormatInfo { content_type: "text/csv; charset=utf-8", label: "CSV" },
        /// Markdown.
        Md = "md" => FormatInfo { content_type: "text/markdown; charset=utf-8", label: "Markdown" },
    }
}

/// What is declared with each format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatInfo {
    pub content_type: &'static str,
    /// Its name for people.
    pub label: &'static str,
}

impl Format {
    /// The format named `text` (`docx`, `xlsx` …), or what to write instead.
    pub fn parse(text: &str) -> Result<Format, String> {
        Format::named(text.trim().to_ascii_lowercase().as_str())
            .ok_or_else(|| format!("不支持的格式 {text:?}：可用 {}", Format::NAMES.join("、")))
    }
}

/// Reads, builds and renders a report as of `now`; `progress` hears each step.
pub fn generate(
    source: &Source<'_>,
    request: &Request,
    settings: &Settings,
    format: Format,
    now: Timestamp,
    progress: &dyn Fn(&str),
) -> Result<(Report, Vec<u8>), ReportError> {
    let input = source::gather(source, request, now, progress)?;
    make(input, settings, format, progress)
}

/// Builds and renders a report from what was read (no database needed: the web reads under
/// the store's reader and lets it go before this).
pub fn make(
    input: model::Input,
    settings: &Settings,
    format: Format,
    progress: &dyn Fn(&str),
) -> Result<(Report, Vec<u8>), ReportError> {
    progress("整理通报内容…");
    let report = Report::build(input, settings);
    progress(&format!("生成 {} 文件…", format.info().label));
    let bytes = render::render(&report, format)?;
    Ok((report, bytes))
}

/// `--at 2026-11-20,2026-12-15`: the sampling dates, sorted, or what is wrong.
pub fn parse_dates(text: &str) -> Result<Vec<jiff::civil::Date>, String> {
    let mut dates = Vec::new();
    for part in text.split([',', '，']).map(str::trim).filter(|p| !p.is_empty()) {
        dates.push(part.parse().map_err(|_| format!("抽样日期 {part:?} 应写作 2026-11-20，多个日期以逗号分隔"))?);
    }
    if dates.is_empty() {
        return Err("抽样日期为空：请写 --at 2026-11-20,2026-12-15".to_string());
    }
    dates.sort_unstable();
    dates.dedup();
    Ok(dates)
}

/// The period as `--period` and `?period=` write it: `2026Q4`, `2026-11`, `2026-10-01..2026-12-31`.
pub fn period_code(period: Period) -> String {
    match period {
        Period::Quarter { year, quarter } => format!("{year}Q{quarter}"),
        Period::Month { year, month } => format!("{year}-{month:02}"),
        Period::Days { from, to } => format!("{from}..{to}"),
    }
}

/// A file name for the report: `xunjian-report-2026Q4[-龙川县].docx`.
pub fn file_name(request: &Request, format: Format) -> String {
    let period = period_code(request.period).replace("..", "_");
    let county = request.county.as_deref().map(|c| format!("-{c}")).unwrap_or_default();
    format!("xunjian-report-{period}{county}.{}", format.as_str())
}
