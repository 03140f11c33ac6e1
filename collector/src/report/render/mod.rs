//! The renderers. The document's outline (what comes in which order, each table's columns)
//! is decided once, in [`outline`]; Markdown, HTML (so PDF) and Word lay the same blocks out.
//! Excel and CSV are lists for filtering and have their own shape.
//!
//! Everything a site or an agent wrote (names, details, URLs) is text in every format: escaped
//! in HTML and Markdown, never a link, never a formula.

pub mod csv;
pub mod docx;
pub mod html;
pub mod md;
pub mod pdf;
pub mod xlsx;

use jiff::Timestamp;

use super::model::{CASES_PER_GROUP, Report, date_zh, percent};
use super::{Format, ReportError};

/// Renders `report` as `format`.
pub fn render(report: &Report, format: Format) -> Result<Vec<u8>, ReportError> {
    match format {
        Format::Md => Ok(md::render(report).into_bytes()),
        Format::Csv => Ok(csv::render(report).into_bytes()),
        Format::Html => Ok(html::render(report).into_bytes()),
        Format::Pdf => pdf::render(report),
        Format::Xlsx => xlsx::render(report),
        Format::Docx => docx::render(report),
    }
}

/// One block of the document.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// The 文号 line above the title.
    DocumentNumber(String),
    Title(String),
    /// The addressees (主送机关), flush left.
    Addressees(String),
    /// 1: 一、…  2: （一）…
    Heading(u8, String),
    Paragraph(String),
    Table(Table),
    /// A small line under a table.
    Note(String),
    /// The office and the date, right-aligned.
    Signature(Vec<String>),
    PageBreak,
}

/// A table: its header, rows and the share of the width each column takes (percent).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub widths: Vec<u16>,
    pub rows: Vec<Vec<String>>,
}

const CHINESE_NUMBERS: [&str; 20] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七",
    "十八", "十九", "二十",
];

fn chinese_number(index: usize) -> String {
    CHINESE_NUMBERS.get(index).map_or_else(|| (index + 1).to_string(), |n| n.to_string())
}

/// The document, block by block.
pub fn outline(report: &Report) -> Vec<Block> {
    let mut blocks = vec![
        Block::DocumentNumber(report.document_number.clone()),
        Block::Title(report.title.clone()),
        Block::Addressees(report.addressees.clone()),
        Block::Paragraph(format!(
            "按照《政府网站与政务新媒体检查指标》要求，{}依托 xunjian 巡检系统对{}政府网站和政务新媒体开展了检查。现将{}检查情况通报如下：",
            report.office,
            report.scope.as_deref().unwrap_or("全市"),
            report.period
        )),
    ];
    let mut chapter = 0;
    let mut heading = |blocks: &mut Vec<Block>, text: &str| {
        blocks.push(Block::Heading(1, format!("{}、{text}", chinese_number(chapter))));
        chapter += 1;
    };

    heading(&mut blocks, "总体情况");
    blocks.extend(report.summary.iter().cloned().map(Block::Paragraph));
    blocks.push(Block::Paragraph(format!("检查方式：{}。", report.method_words())));
    blocks.push(Block::Table(Table {
        header: vec!["县区", "网站", "政务新媒体", "合格", "合格率", "上期合格率", "变化"],
        widths: vec![13, 8, 26, 11, 11, 13, 18],
        rows: report
            .overview
            .iter()
            .map(|line| {
                let platforms: Vec<String> = line.accounts.iter().map(|(p, n)| format!("{p} {n}")).collect();
                let accounts = if platforms.is_empty() {
                    "0".to_string()
                } else {
                    format!("{}（{}）", line.account_count(), platforms.join("，"))
                };
                vec![
                    line.county.clone(),
                    line.sites.to_string(),
                    accounts,
                    format!("{}/{}", line.passed(), line.judged()),
                    percent(line.ratio()),
                    percent(line.previous_ratio()),
                    super::model::change_words(line.change()),
                ]
            })
            .collect(),
    }));

    heading(&mut blocks, "发现的主要问题");
    if report.groups.is_empty() {
        blocks.push(Block::Paragraph("本期未发现需要通报的问题。".to_string()));
    }
    for (index, section) in report.groups.iter().enumerate() {
        let what = match section.group.kind {
            xunjian_shared::wire::TargetKind::Site => "网站",
            xunjian_shared::wire::TargetKind::Account => "政务新媒体",
        };
        blocks.push(Block::Heading(2, format!("（{}）{}", chinese_number(index), section.group.title)));
        blocks.push(Block::Paragraph(format!(
            "共 {} 个{what}存在此类问题（{} 处），列举如下：",
            section.targets,
            section.cases.len()
        )));
        blocks.push(Block::Table(Table {
            header: vec!["序号", "县区/单位", "名称", "发现的问题", "首次发现", "证据页面"],
            widths: vec![8, 17, 18, 30, 12, 15],
            rows: section
                .cases
                .iter()
                .take(CASES_PER_GROUP)
                .enumerate()
                .map(|(n, case)| {
                    let place = if case.place.is_empty() { String::new() } else { format!("「{}」", case.place) };
                    let state = if case.open { "" } else { "（已消除）" };
                    vec![
                        (n + 1).to_string(),
                        super::model::county_unit(&case.county, &case.unit),
                        format!("{}（{}）", case.target, case.channel),
                        format!("{}{place}：{}{state}", case.label, case.detail),
                        case.first_seen.to_string(),
                        case.url.clone(),
                    ]
                })
                .collect(),
        }));
        if section.cases.len() > CASES_PER_GROUP {
            blocks.push(Block::Note(format!(
                "另有 {} 处，详见 Excel 版“问题清单”。",
                section.cases.len() - CASES_PER_GROUP
            )));
        }
    }

    heading(&mut blocks, "各县区情况");
    for table in &report.counties {
        let failed = table.rows.iter().filter(|r| !r.pass).count();
        blocks.push(Block::Heading(2, format!("{}（{} 个，不合格 {failed} 个）", table.county, table.rows.len())));
        blocks.push(Block::Table(Table {
            header: vec!["单位", "名称", "类型", "结论", "不合格天数", "存在问题"],
            widths: vec![20, 20, 10, 8, 10, 32],
            rows: table
                .rows
                .iter()
                .map(|row| {
                    vec![
                        row.unit.clone(),
                        row.target.clone(),
                        row.channel.clone(),
                        if row.pass { "合格" } else { "不合格" }.to_string(),
                        format!("{}/{}", row.failed_days, row.days),
                        row.problems.clone(),
                    ]
                })
                .collect(),
        }));
    }

    heading(&mut blocks, "整改情况");
    let counts = report.task_counts();
    if counts.is_empty() {
        blocks.push(Block::Paragraph("截至本期末，未下发整改任务。".to_string()));
    } else {
        let total: u32 = counts.iter().map(|(_, line)| line[0]).sum();
        let verified: u32 = counts.iter().map(|(_, line)| line[1]).sum();
        let overdue: u32 = counts.iter().map(|(_, line)| line[5]).sum();
        blocks.push(Block::Paragraph(format!(
            "截至{}，共下发整改任务 {total} 个，经巡检复核已核实整改到位 {verified} 个，逾期未反馈 {overdue} 个。已核实指任务所涉问题均已由巡检确认消失，无需人工认定。",
            date_zh(report.tasks_judged_on)
        )));
        blocks.push(Block::Table(Table {
            header: vec!["县区", "整改任务", "已核实", "已反馈", "待整改", "整改未到位", "逾期"],
            widths: vec![22, 13, 13, 13, 13, 13, 13],
            rows: counts
                .iter()
                .map(|(county, line)| {
                    let mut row = vec![county.clone()];
                    row.extend(line.iter().map(u32::to_string));
                    row
                })
                .collect(),
        }));
        let late: Vec<&crate::tasks::Task> =
            report.tasks.iter().filter(|task| task.overdue(report.tasks_judged_on)).collect();
        if !late.is_empty() {
            blocks.push(Block::Heading(2, "（一）逾期未反馈的整改任务".to_string()));
            blocks.push(Block::Table(Table {
                header: vec!["任务编号", "县区", "责任单位", "任务", "整改期限", "状态"],
                widths: vec![10, 12, 20, 34, 12, 12],
                rows: late
                    .iter()
                    .map(|task| {
                        vec![
                            task.id.to_string(),
                            task.county.clone(),
                            task.unit.clone(),
                            task.title.clone(),
                            date_zh(task.deadline),
                            task.state.label_zh().to_string(),
                        ]
                    })
                    .collect(),
            }));
        }
    }

    heading(&mut blocks, "整改要求");
    blocks.push(Block::Paragraph(report.rectification_words()));
    if !report.rectification.counties.is_empty() {
        blocks.push(Block::Table(Table {
            header: vec!["县区", "不合格网站", "不合格政务新媒体", "待整改问题", "反馈时限"],
            widths: vec![24, 16, 20, 16, 24],
            rows: report
                .rectification
                .counties
                .iter()
                .map(|(county, sites, accounts, open)| {
                    vec![
                        county.clone(),
                        sites.to_string(),
                        accounts.to_string(),
                        open.to_string(),
                        date_zh(report.rectification.deadline),
                    ]
                })
                .collect(),
        }));
    }
    blocks.push(Block::Paragraph("附件：存在突出问题的政府网站和政务新媒体名单".to_string()));
    blocks.push(Block::Signature(vec![report.office.clone(), date_zh(report.issued)]));

    blocks.push(Block::PageBreak);
    blocks.push(Block::Heading(1, "附件".to_string()));
    blocks.push(Block::Title("存在突出问题的政府网站和政务新媒体名单".to_string()));
    blocks.push(Block::Table(annex_table(report)));
    blocks.push(Block::Note(report.annex_note.clone()));
    blocks
}

/// The 附件 in the notice's columns.
pub fn annex_table(report: &Report) -> Table {
    Table {
        header: vec!["序号", "县区/单位", "名称", "平台/类型", "存在问题"],
        widths: vec![8, 23, 24, 15, 30],
        rows: report
            .annex
            .iter()
            .map(|row| {
                vec![
                    row.number.to_string(),
                    row.county_unit(),
                    row.target.clone(),
                    row.channel.clone(),
                    row.problems.clone(),
                ]
            })
            .collect(),
    }
}

/// A moment as the office reads it: China time, to the minute.
pub fn china_minute(at: Timestamp) -> String {
    let time = xunjian_shared::time::china_time(at);
    time.chars().take(16).collect()
}
