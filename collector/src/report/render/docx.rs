//! Word: the draft the office edits in Word or WPS. A4 with the 公文 margins, the title in
//! 方正小标宋简体, the body in 仿宋_GB2312 (三号), headings in 黑体 and 楷体_GB2312 — Word and
//! WPS fall back to an installed Chinese font where one is missing — and every table a real
//! Word table whose rows never split across pages.

use docx_rs::{
    AlignmentType, BreakType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType, Table,
    TableCell, TableRow, WidthType,
};

use super::{Block, outline};
use crate::report::ReportError;
use crate::report::model::Report;

/// A4 in twentieths of a point, and the 公文 margins (37/35/28/26 mm).
const PAGE_WIDTH: u32 = 11906;
const PAGE_HEIGHT: u32 = 16838;
const MARGIN: (i32, i32, i32, i32) = (2098, 1474, 1984, 1588);
const TEXT_WIDTH: usize = (PAGE_WIDTH as i32 - MARGIN.1 - MARGIN.3) as usize;

/// Sizes in half-points: 二号 (22 pt), 三号 (16 pt), 五号 (10.5 pt).
const TITLE_SIZE: usize = 44;
const BODY_SIZE: usize = 32;
const TABLE_SIZE: usize = 21;

const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const HEADING_FONT: &str = "黑体";
const SUBHEADING_FONT: &str = "楷体_GB2312";

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new().east_asia(east_asia).ascii("Times New Roman").hi_ansi("Times New Roman")
}

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new().add_text(xml_text(text)).fonts(fonts(font)).size(size)
}

/// `text` without the characters XML 1.0 cannot hold (a page's control bytes would make a file
/// Word refuses to open); docx-rs escapes the rest.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}')))
        .collect()
}

/// Body text: first line indented two characters, fixed 28 pt lines as 公文 sets them.
fn body(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY_FONT, BODY_SIZE))
        .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
        .line_spacing(LineSpacing::new().line(560))
}

pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let margin = PageMargin {
        top: MARGIN.0,
        right: MARGIN.1,
        bottom: MARGIN.2,
        left: MARGIN.3,
        header: 851,
        footer: 992,
        gutter: 0,
    };
    let mut document = Docx::new()
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(margin)
        .default_fonts(fonts(BODY_FONT))
        .default_size(BODY_SIZE);
    for block in outline(report) {
        document = match block {
            Block::DocumentNumber(text) => document
                .add_paragraph(Paragraph::new().add_run(run(&text, BODY_FONT, BODY_SIZE)).align(AlignmentType::Center)),
            Block::Title(text) => document.add_paragraph(
                Paragraph::new()
                    .add_run(run(&text, TITLE_FONT, TITLE_SIZE))
                    .align(AlignmentType::Center)
                    .line_spacing(LineSpacing::new().before(240).after(240)),
            ),
            Block::Addressees(text) => document.add_paragraph(
                Paragraph::new().add_run(run(&text, BODY_FONT, BODY_SIZE)).line_spacing(LineSpacing::new().line(560)),
            ),
            Block::Heading(level, text) => {
                let font = if level <= 1 { HEADING_FONT } else { SUBHEADING_FONT };
                document.add_paragraph(
                    Paragraph::new()
                        .add_run(run(&text, font, BODY_SIZE))
                        .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
                        .keep_next(true)
                        .line_spacing(LineSpacing::new().line(560)),
                )
            }
            Block::Paragraph(text) => document.add_paragraph(body(&text)),
            Block::Note(text) => document.add_paragraph(Paragraph::new().add_run(run(&text, BODY_FONT, TABLE_SIZE))),
            Block::Signature(lines) => {
                let mut document = document.add_paragraph(Paragraph::new());
                for line in lines {
                    document = document.add_paragraph(
                        Paragraph::new().add_run(run(&line, BODY_FONT, BODY_SIZE)).align(AlignmentType::Right),
                    );
                }
                document
            }
            Block::PageBreak => document.add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page))),
            Block::Table(table) => document.add_table(word_table(&table)),
        };
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    document.build().pack(&mut bytes).map_err(|error| ReportError::Render(format!("Word 文件生成失败：{error}")))?;
    Ok(bytes.into_inner())
}

fn word_table(table: &super::Table) -> Table {
    let widths: Vec<usize> = table.widths.iter().map(|share| TEXT_WIDTH * usize::from(*share) / 100).collect();
    let cell = |text: &str, width: usize, font: &str| {
        TableCell::new()
            .width(width, WidthType::Dxa)
            .add_paragraph(Paragraph::new().add_run(run(text, font, TABLE_SIZE)))
    };
    let mut rows = vec![
        TableRow::new(
            table.header.iter().zip(&widths).map(|(title, width)| cell(title, *width, HEADING_FONT)).collect(),
        )
        .cant_split(),
    ];
    for cells in &table.rows {
        rows.push(
            TableRow::new(cells.iter().zip(&widths).map(|(text, width)| cell(text, *width, BODY_FONT)).collect())
                .cant_split(),
        );
    }
    Table::new(rows).set_grid(widths).width(TEXT_WIDTH, WidthType::Dxa)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_a_page_sent_do_not_reach_the_xml() {
        assert_eq!(xml_text("甲\u{1}乙\u{8}丙\t丁\u{FFFF}"), "甲乙丙\t丁");
    }
}
