//! The 问题清单 as CSV for Excel: UTF-8 with a BOM, CRLF, formulas neutralised.

use super::china_minute;
use crate::registry::csv_cell;
use crate::report::model::Report;

/// The columns, shared with the Excel sheet.
pub const PROBLEM_COLUMNS: [&str; 17] = [
    "编号",
    "县区",
    "单位",
    "名称",
    "平台/类型",
    "栏目/渠道",
    "问题分组",
    "问题",
    "问题代码",
    "级别",
    "状态",
    "说明",
    "首次发现",
    "最近发现",
    "消除时间",
    "页面",
    "证据",
];

/// A table as CSV for Excel: UTF-8 with a BOM, CRLF, formulas neutralised.
pub fn table(table: &super::Table) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&table.header.join(","));
    out.push_str("\r\n");
    for cells in &table.rows {
        out.push_str(&cells.iter().map(|cell| csv_cell(cell)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn render(report: &Report) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&PROBLEM_COLUMNS.join(","));
    out.push_str("\r\n");
    for row in &report.problems {
        let problem = &row.problem;
        let place = &problem.place;
        let cells = [
            problem.id.to_string(),
            place.county.clone(),
            place.unit.clone(),
            place.target.clone(),
            row.channel.clone(),
            place.scope().to_string(),
            row.group.to_string(),
            problem.code.label_zh().to_string(),
            problem.code.as_str().to_string(),
            problem.severity.label_zh().to_string(),
            row.status.to_string(),
            problem.detail.clone(),
            china_minute(problem.first_seen),
            china_minute(problem.last_seen),
            problem.resolved_at.map(china_minute).unwrap_or_default(),
            problem.url.clone(),
            problem.evidence.clone(),
        ];
        out.push_str(&cells.iter().map(|cell| csv_cell(cell)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
