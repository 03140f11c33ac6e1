//! 整改情况 as a list for Excel (xlsx) and CSV: one row per task, in the report's table shape.

use jiff::civil::Date;

use super::Task;
use crate::report::render::Table;

/// The tasks as a table: the export's and the 通报's 整改情况 columns.
pub fn table(tasks: &[Task], today: Date) -> Table {
    Table {
        header: vec![
            "任务编号",
            "县区",
            "责任单位",
            "任务",
            "问题数",
            "下发时间",
            "整改期限",
            "状态",
            "是否逾期",
            "反馈时间",
            "反馈人",
            "反馈内容",
            "核实时间",
            "退回次数",
        ],
        widths: vec![6, 8, 12, 20, 5, 9, 8, 7, 5, 9, 6, 24, 9, 5],
        rows: tasks
            .iter()
            .map(|task| {
                let minute = |at: jiff::Timestamp| crate::report::render::china_minute(at);
                vec![
                    task.id.to_string(),
                    task.county.clone(),
                    task.unit.clone(),
                    task.title.clone(),
                    task.problems.len().to_string(),
                    minute(task.created_at),
                    task.deadline.to_string(),
                    task.state.label_zh().to_string(),
                    if task.overdue(today) { "逾期" } else { "" }.to_string(),
                    task.answer.as_ref().map(|a| minute(a.at)).unwrap_or_default(),
                    task.answer.as_ref().map(|a| a.by.clone()).unwrap_or_default(),
                    task.answer.as_ref().map(|a| a.text.clone()).unwrap_or_default(),
                    task.verified_at.map(minute).unwrap_or_default(),
                    task.returned.to_string(),
                ]
            })
            .collect(),
    }
}

/// CSV for Excel (UTF-8 with a BOM, CRLF, formulas neutralised).
pub fn csv(tasks: &[Task], today: Date) -> String {
    crate::report::render::csv::table(&table(tasks, today))
}

/// An Excel workbook with one sheet, `title`.
pub fn xlsx(tasks: &[Task], title: &str, today: Date) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let name: String = title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    crate::report::render::xlsx::table_workbook(&name, &table(tasks, today))
}
