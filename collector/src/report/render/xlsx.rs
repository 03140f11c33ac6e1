//! Excel: 总体情况, 问题清单 (one row per problem, filterable), 附件, 各县区 and 整改情况; dates are Excel
//! dates in China time, header rows frozen, widths set. Text is always written as text, so
//! nothing a site wrote becomes a formula or a link.

use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use super::csv::PROBLEM_COLUMNS;
use super::{Table, annex_table};
use crate::report::ReportError;
use crate::report::model::Report;

/// China's offset from UTC, for Excel's zone-less dates.
const CHINA_OFFSET_SECONDS: i64 = 8 * 3600;

pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    write(report).map_err(|error| ReportError::Render(format!("Excel 文件生成失败：{error}")))
}

/// A workbook of one sheet `name` holding `table` (header frozen, filterable, widths from the
/// table's shares): the 整改情况 export.
pub fn table_workbook(name: &str, table: &Table) -> Result<Vec<u8>, XlsxError> {
    let formats = formats();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    write_table(sheet, table, &formats)?;
    set_widths(sheet, &share_widths(table))?;
    sheet.set_freeze_panes(1, 0)?;
    if !table.rows.is_empty() {
        sheet.autofilter(0, 0, table.rows.len() as u32, table.header.len() as u16 - 1)?;
    }
    workbook.save_to_buffer()
}

/// Column widths (characters) from a table's shares of the page.
fn share_widths(table: &Table) -> Vec<f64> {
    table.widths.iter().map(|share| f64::from(*share) * 1.6).collect()
}

fn formats() -> Formats {
    Formats {
        header: Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color("F2F2F2").set_text_wrap(),
        text: Format::new().set_text_wrap(),
        percent: Format::new().set_num_format("0.0%"),
        date: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
    }
}

struct Formats {
    header: Format,
    text: Format,
    percent: Format,
    date: Format,
}

fn write(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let formats = formats();
    let mut workbook = Workbook::new();

    // 总体情况: the table first (a frozen header row), then the words.
    let sheet = workbook.add_worksheet();
    sheet.set_name("总体情况")?;
    let header = ["县区", "网站", "政务新媒体", "合格", "判定数", "合格率", "上期合格率", "变化（百分点）"];
    let mut columns: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    columns.extend(report.platforms.iter().cloned());
    write_header(sheet, &columns.iter().map(String::as_str).collect::<Vec<_>>(), &formats)?;
    for (index, line) in report.overview.iter().enumerate() {
        let row = index as u32 + 1;
        sheet.write_string(row, 0, &line.county)?;
        sheet.write_number(row, 1, line.sites)?;
        sheet.write_number(row, 2, line.account_count())?;
        sheet.write_number(row, 3, line.passed())?;
        sheet.write_number(row, 4, line.judged())?;
        if let Some(ratio) = line.ratio() {
            sheet.write_number_with_format(row, 5, ratio, &formats.percent)?;
        }
        if let Some(ratio) = line.previous_ratio() {
            sheet.write_number_with_format(row, 6, ratio, &formats.percent)?;
        }
        if let Some(change) = line.change() {
            sheet.write_number(row, 7, (change * 10.0).round() / 10.0)?;
        }
        for (offset, platform) in report.platforms.iter().enumerate() {
            sheet.write_number(row, 8 + offset as u16, line.accounts.get(platform).copied().unwrap_or(0))?;
        }
    }
    let mut row = report.overview.len() as u32 + 2;
    for line in [report.title.clone(), format!("检查方式：{}", report.method_words())].iter().chain(&report.summary)
    {
        sheet.write_string(row, 0, line)?;
        row += 1;
    }
    sheet.write_string(row, 0, report.rectification_words())?;
    set_widths(sheet, &[14.0, 8.0, 12.0, 8.0, 8.0, 10.0, 12.0, 14.0])?;
    for offset in 0..report.platforms.len() {
        sheet.set_column_width(8 + offset as u16, 10.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    // 问题清单.
    let sheet = workbook.add_worksheet();
    sheet.set_name("问题清单")?;
    write_header(sheet, &PROBLEM_COLUMNS, &formats)?;
    for (index, row_of) in report.problems.iter().enumerate() {
        let row = index as u32 + 1;
        let problem = &row_of.problem;
        let place = &problem.place;
        sheet.write_number(row, 0, problem.id as f64)?;
        let texts = [
            place.county.as_str(),
            &place.unit,
            &place.target,
            &row_of.channel,
            place.scope(),
            row_of.group,
            problem.code.label_zh(),
            problem.code.as_str(),
            problem.severity.label_zh(),
            row_of.status,
            &problem.detail,
        ];
        for (column, text) in texts.iter().enumerate() {
            sheet.write_string(row, column as u16 + 1, *text)?;
        }
        sheet.write_datetime_with_format(row, 12, &excel_time(problem.first_seen)?, &formats.date)?;
        sheet.write_datetime_with_format(row, 13, &excel_time(problem.last_seen)?, &formats.date)?;
        if let Some(resolved) = problem.resolved_at {
            sheet.write_datetime_with_format(row, 14, &excel_time(resolved)?, &formats.date)?;
        }
        sheet.write_string(row, 15, &problem.url)?;
        sheet.write_string(row, 16, &problem.evidence)?;
    }
    set_widths(
        sheet,
        &[8.0, 10.0, 18.0, 22.0, 10.0, 14.0, 16.0, 16.0, 22.0, 10.0, 8.0, 50.0, 17.0, 17.0, 17.0, 36.0, 40.0],
    )?;
    sheet.set_freeze_panes(1, 0)?;
    if !report.problems.is_empty() {
        sheet.autofilter(0, 0, report.problems.len() as u32, PROBLEM_COLUMNS.len() as u16 - 1)?;
    }

    // 附件, in the notice's columns.
    let sheet = workbook.add_worksheet();
    sheet.set_name("附件")?;
    let annex = annex_table(report);
    write_table(sheet, &annex, &formats)?;
    sheet.write_string(annex.rows.len() as u32 + 2, 0, &report.annex_note)?;
    set_widths(sheet, &[6.0, 30.0, 30.0, 12.0, 50.0])?;
    sheet.set_freeze_panes(1, 0)?;

    // 各县区: one row per site or account.
    let sheet = workbook.add_worksheet();
    sheet.set_name("各县区")?;
    write_header(sheet, &["县区", "单位", "名称", "类型", "结论", "判定天数", "不合格天数", "存在问题"], &formats)?;
    let mut row = 1;
    for table in &report.counties {
        for subject in &table.rows {
            sheet.write_string(row, 0, &table.county)?;
            sheet.write_string(row, 1, &subject.unit)?;
            sheet.write_string(row, 2, &subject.target)?;
            sheet.write_string(row, 3, &subject.channel)?;
            sheet.write_string(row, 4, if subject.pass { "合格" } else { "不合格" })?;
            sheet.write_number(row, 5, subject.days)?;
            sheet.write_number(row, 6, subject.failed_days)?;
            sheet.write_string_with_format(row, 7, &subject.problems, &formats.text)?;
            row += 1;
        }
    }
    set_widths(sheet, &[12.0, 22.0, 26.0, 10.0, 8.0, 10.0, 10.0, 60.0])?;
    sheet.set_freeze_panes(1, 0)?;
    if row > 1 {
        sheet.autofilter(0, 0, row - 1, 7)?;
    }

    // 整改情况: one row per task, as the export has it.
    let sheet = workbook.add_worksheet();
    sheet.set_name("整改情况")?;
    let tasks = crate::tasks::export::table(&report.tasks, report.tasks_judged_on);
    write_table(sheet, &tasks, &formats)?;
    set_widths(sheet, &share_widths(&tasks))?;
    sheet.set_freeze_panes(1, 0)?;
    workbook.save_to_buffer()
}

fn write_header(sheet: &mut Worksheet, header: &[&str], formats: &Formats) -> Result<(), XlsxError> {
    for (column, title) in header.iter().enumerate() {
        sheet.write_string_with_format(0, column as u16, *title, &formats.header)?;
    }
    Ok(())
}

/// A table of the outline: numbers where a cell is a whole number, text otherwise.
fn write_table(sheet: &mut Worksheet, table: &Table, formats: &Formats) -> Result<(), XlsxError> {
    write_header(sheet, &table.header, formats)?;
    for (index, cells) in table.rows.iter().enumerate() {
        let row = index as u32 + 1;
        for (column, cell) in cells.iter().enumerate() {
            match cell.parse::<u32>() {
                Ok(number) if column == 0 => sheet.write_number(row, column as u16, number)?,
                _ => sheet.write_string_with_format(row, column as u16, cell, &formats.text)?,
            };
        }
    }
    Ok(())
}

/// Column widths, and printing on A4 landscape, as wide as one page, the header on each page.
fn set_widths(sheet: &mut Worksheet, widths: &[f64]) -> Result<(), XlsxError> {
    for (column, width) in widths.iter().enumerate() {
        sheet.set_column_width(column as u16, *width)?;
    }
    sheet.set_paper_size(9).set_landscape().set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

/// A moment as an Excel date-time in China time.
fn excel_time(at: jiff::Timestamp) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_timestamp(at.as_second() + CHINA_OFFSET_SECONDS)
}
