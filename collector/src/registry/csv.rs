//! The registry as the office keeps it, a spreadsheet: columns 名称, 平台, 责任单位, 县区,
//! 备案日期, 状态, and optionally 账号ID, 单位类型, 开设日期 (English headers work too; a list
//! without the optional columns imports as before). Export is UTF-8 with a BOM and CRLF so Excel opens
//! it; import also takes GBK (what Excel saves on Chinese Windows); an import with any bad row
//! changes nothing and names every bad row; cells a spreadsheet would read as formulas go out
//! as text.

use std::collections::HashSet;

use jiff::civil::Date;

use super::{Channel, Filing, FilingStatus};

/// CSV columns, in order, with the English names accepted too.
const COLUMNS: [(&str, &str); 9] = [
    ("名称", "name"),
    ("平台", "platform"),
    ("责任单位", "unit"),
    ("县区", "county"),
    ("备案日期", "filed_on"),
    ("状态", "status"),
    ("账号ID", "account_id"),
    ("单位类型", "unit_type"),
    ("开设日期", "opened_on"),
];

const NAME: usize = 0;
const PLATFORM: usize = 1;
const UNIT: usize = 2;
const COUNTY: usize = 3;
const FILED_ON: usize = 4;
const STATUS: usize = 5;
const ACCOUNT_ID: usize = 6;
const UNIT_TYPE: usize = 7;
const OPENED_ON: usize = 8;
/// Other headers offices write for the same column, by column: only ones that hold the same
/// values (单位性质 holds 行政机关/事业单位, not a 单位类型; 地区 is often the city). A column's
/// own header wins over a synonym wherever it stands.
const SYNONYMS: [(usize, &[&str]); 6] = [
    (UNIT, &["主办单位", "开办单位", "开办主体"]),
    (COUNTY, &["县(区)", "县（区）", "县市区"]),
    (FILED_ON, &["备案时间"]),
    (ACCOUNT_ID, &["账号 ID", "账号id", "帐号ID", "微信号", "原始ID"]),
    (OPENED_ON, &["开通日期", "开设时间", "开通时间"]),
    (NAME, &["账号名称", "网站名称"]),
];

/// Columns a registry may leave out (a city's own list has no 县区; old lists no dates, ids or
/// unit types).
const OPTIONAL: [usize; 5] = [COUNTY, FILED_ON, ACCOUNT_ID, UNIT_TYPE, OPENED_ON];

/// The registry as CSV for Excel: UTF-8 with a BOM, CRLF line ends.
pub fn to_csv(filings: &[Filing]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&COLUMNS.iter().map(|(zh, _)| *zh).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for filing in filings {
        let row = [
            filing.name.clone(),
            filing.channel.label_zh().to_string(),
            filing.unit.clone(),
            filing.county.clone(),
            filing.filed_on.map(|d| d.to_string()).unwrap_or_default(),
            filing.status.label_zh().to_string(),
            filing.account_id.clone().unwrap_or_default(),
            filing.unit_type.map(|t| t.label_zh().to_string()).unwrap_or_default(),
            filing.opened_on.map(|d| d.to_string()).unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|field| quote(field)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// Characters that make a spreadsheet read a cell as a formula (or a DDE command) when they
/// start it: Excel, WPS and LibreOffice all do.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written: a would-be formula gets a leading `'`, which spreadsheets show as text
/// (and [`from_csv`] strips again), and so does a cell that starts with `'` already, so that it
/// comes back as it was; quoted when it holds a separator, quote or line break.
pub(crate) fn quote(field: &str) -> String {
    let neutral;
    let field = if field.starts_with(FORMULA_STARTS) || field.starts_with('\'') {
        neutral = format!("'{field}");
        neutral.as_str()
    } else {
        field
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Reads a registry CSV (UTF-8 with or without BOM, or GBK/GB18030). Every bad row is reported,
/// by line, in Chinese; nothing is returned unless all rows are good.
pub fn from_csv(bytes: &[u8]) -> Result<Vec<Filing>, Vec<String>> {
    read_csv(bytes).map(|imported| imported.filings)
}

/// A registry read from CSV, and the headers it did not know (序号, 备注 …), which an import
/// names so that a mistyped optional column is not lost without a word.
#[derive(Debug)]
pub struct Imported {
    pub filings: Vec<Filing>,
    pub ignored_columns: Vec<String>,
}

/// As [`from_csv`], with the columns set aside.
pub fn read_csv(bytes: &[u8]) -> Result<Imported, Vec<String>> {
    let text = decode(bytes);
    let rows = parse_rows(&text).map_err(|err| vec![err])?;
    let Some((header, body)) = rows.split_first() else {
        return Err(vec!["文件是空的：第一行应为表头 名称,平台,责任单位,县区,备案日期,状态".into()]);
    };
    let mut index = [None; COLUMNS.len()];
    let headers: Vec<&str> = header.1.iter().map(|cell| cell.trim()).collect();
    // Own headers first, then synonyms for the columns still missing; the first of a name wins.
    for (position, cell) in headers.iter().enumerate() {
        let named = COLUMNS.iter().position(|(zh, en)| cell == zh || cell.eq_ignore_ascii_case(en));
        if let Some(column) = named.filter(|column| index[*column].is_none()) {
            index[column] = Some(position);
        }
    }
    for (position, cell) in headers.iter().enumerate() {
        let synonym = SYNONYMS.iter().find(|(_, names)| names.contains(cell)).map(|(column, _)| *column);
        if let Some(column) = synonym.filter(|column| index[*column].is_none() && !index.contains(&Some(position))) {
            index[column] = Some(position);
        }
    }
    let ignored_columns: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(position, cell)| !cell.is_empty() && !index.contains(&Some(*position)))
        .map(|(_, cell)| cell.to_string())
        .collect();
    let mut errors = Vec::new();
    for (column, (zh, _)) in COLUMNS.iter().enumerate() {
        if index[column].is_none() && !OPTIONAL.contains(&column) {
            errors.push(format!("第 {} 行（表头）缺少「{zh}」列", header.0));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut filings: Vec<Filing> = Vec::new();
    // Registries run to tens of thousands of rows: duplicates are found by hashing, not by a
    // scan per row.
    let mut seen: HashSet<(String, Channel)> = HashSet::new();
    let mut seen_ids: HashSet<(String, Channel)> = HashSet::new();
    for (line, cells) in body {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |column: usize| index[column].and_then(|i| cells.get(i)).map(|c| unneutral(c).trim()).unwrap_or("");
        let mut problems = Vec::new();
        let name = cell(NAME);
        if name.is_empty() {
            problems.push("名称为空".to_string());
        }
        let channel = Channel::parse(cell(PLATFORM)).map_err(|e| problems.push(e)).ok();
        let unit = cell(UNIT);
        if unit.is_empty() {
            problems.push("责任单位为空".to_string());
        }
        let mut date = |column: usize| match cell(column) {
            "" => None,
            text => match xunjian_shared::time::parse::date_cell(text, Date::constant(2100, 1, 1)) {
                Some(published) => Some(published.date),
                None => {
                    problems.push(format!("{}「{text}」无法识别：应写成 2019-06-28", COLUMNS[column].0));
                    None
                }
            },
        };
        let filed_on = date(FILED_ON);
        let opened_on = date(OPENED_ON);
        let account_id = Some(cell(ACCOUNT_ID).to_string()).filter(|id| !id.is_empty());
        let unit_type = match cell(UNIT_TYPE) {
            "" => None,
            text => crate::registry::UnitType::parse(text).map_err(|e| problems.push(e)).ok(),
        };
        let status = FilingStatus::parse(cell(STATUS)).map_err(|e| problems.push(e)).ok();
        if let (Some(channel), true) = (channel, problems.is_empty())
            && !seen.insert((name.to_string(), channel))
        {
            problems.push(format!("与前面的行重复：{name}（{}）", channel.label_zh()));
        }
        if let (Some(channel), Some(id), true) = (channel, &account_id, problems.is_empty())
            && !seen_ids.insert((super::normalized_id(id), channel))
        {
            problems.push(format!("账号ID「{id}」与前面的行重复（{}）", channel.label_zh()));
        }
        match (channel, status) {
            (Some(channel), Some(status)) if problems.is_empty() => filings.push(Filing {
                name: name.to_string(),
                channel,
                unit: unit.to_string(),
                county: cell(COUNTY).to_string(),
                filed_on,
                status,
                account_id,
                unit_type,
                opened_on,
            }),
            _ => errors.push(format!("第 {line} 行：{}", problems.join("；"))),
        }
    }
    if errors.is_empty() { Ok(Imported { filings, ignored_columns }) } else { Err(errors) }
}

/// A cell without the `'` that [`quote`] put before a would-be formula or a `'`.
fn unneutral(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        // Excel on Chinese Windows saves CSV as GBK; GB18030 decodes it and more.
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// RFC 4180 rows with their first line number: quoted fields, doubled quotes, CRLF or LF.
fn parse_rows(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut row_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push((row_line, std::mem::take(&mut row)));
                line += 1;
                row_line = line;
            }
            ('\n', true) => {
                line += 1;
                field.push(c);
            }
            (other, _) => field.push(other),
        }
    }
    if quoted {
        return Err(format!("第 {row_line} 行：引号没有闭合"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push((row_line, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xunjian_shared::config::Platform;

    const CSV: &str = "名称,平台,责任单位,县区,备案日期,状态\n龙川县公共服务中心,微信,龙川县人民政府办公室,龙川县,2017-04-18,已关停\n\"河源市生态环境局\",新浪微博,市生态环境局,市直,2018/2/26,运行\n龙川县人民政府门户网站,网站,龙川县人民政府办公室,龙川县,,运行\n";

    #[test]
    fn reads_utf8_gbk_and_round_trips() {
        let filings = from_csv(CSV.as_bytes()).unwrap();
        assert_eq!(filings.len(), 3);
        assert_eq!(filings[0].status, FilingStatus::Closed);
        assert_eq!(filings[1].channel, Channel::Account(Platform::Weibo));
        assert_eq!(filings[1].filed_on, Some(Date::constant(2018, 2, 26)));
        assert_eq!(filings[2].channel, Channel::Website);
        let gbk = encoding_rs::GBK.encode(CSV).0.into_owned();
        assert_eq!(from_csv(&gbk).unwrap(), filings);
        let exported = to_csv(&filings);
        assert!(exported.starts_with('\u{feff}') && exported.contains("\r\n"));
        assert_eq!(from_csv(exported.as_bytes()).unwrap(), filings);
    }

    #[test]
    fn formulas_are_exported_as_text_and_imported_back() {
        let names = [
            "=cmd|' /C calc'!A0",
            "+SUM(1+1)",
            "-2+3",
            "@HYPERLINK(\"http://evil\")",
            "=1+1",
            "'普通名称",
            "'=引号开头",
        ];
        let filings: Vec<Filing> = names
            .iter()
            .map(|name| Filing::new(name, Channel::Website, "=单位", "县", FilingStatus::Running))
            .collect();
        let exported = to_csv(&filings);
        for line in exported.lines().skip(1) {
            let first = line.trim_start_matches('"');
            assert!(!first.starts_with(FORMULA_STARTS), "a cell starts a formula: {line}");
            assert!(line.contains(",'=单位,"), "{line}");
        }
        assert_eq!(from_csv(exported.as_bytes()).unwrap(), filings, "import strips the guard again");
    }

    #[test]
    fn identifiers_unit_types_and_opening_dates_are_read_and_old_lists_still_import() {
        let csv = "名称,平台,责任单位,县区,备案日期,状态,账号ID,单位类型,开设日期\n\
                   龙川发布,微信,龙川县人民政府办公室,龙川县,2019-06-28,运行,gh_1a2b3c4d5e6f,县级政府,2019-06-20\n\
                   龙川公安,抖音,龙川县公安局,龙川县,,运行,lcga110,公安局,\n\
                   老庄镇,微信,老庄镇人民政府,龙川县,,运行,,乡镇,2020/3/1\n";
        let filings = from_csv(csv.as_bytes()).unwrap();
        assert_eq!(filings[0].account_id.as_deref(), Some("gh_1a2b3c4d5e6f"));
        assert_eq!(filings[0].unit_type, Some(crate::registry::UnitType::CountyGovernment));
        assert_eq!(filings[0].opened_on, Some(Date::constant(2019, 6, 20)));
        assert_eq!((filings[1].unit_type, filings[1].opened_on), (Some(crate::registry::UnitType::Police), None));
        assert_eq!(
            (filings[2].account_id.as_deref(), filings[2].unit_type),
            (None, Some(crate::registry::UnitType::Township))
        );
        assert_eq!(from_csv(to_csv(&filings).as_bytes()).unwrap(), filings, "round trip");
        let old = from_csv(CSV.as_bytes()).unwrap();
        assert!(old.iter().all(|f| f.account_id.is_none() && f.unit_type.is_none() && f.opened_on.is_none()));
        let bad = "名称,平台,责任单位,状态,账号ID,单位类型,开设日期\n甲,微信,单位,运行,GH_1,村委会,上周\n乙,微信,单位,运行, gh_1 ,,\n";
        let errors = from_csv(bad.as_bytes()).unwrap_err();
        assert!(
            errors[0].contains("单位类型「村委会」无法识别") && errors[0].contains("开设日期「上周」无法识别"),
            "{errors:?}"
        );
        assert_eq!(errors.len(), 1, "the id of a bad row is not taken: {errors:?}");
        let twice = "名称,平台,责任单位,状态,账号ID\n甲,微信,单位,运行,GH_1\n乙,微信,单位,运行, gh_1 \n";
        assert!(from_csv(twice.as_bytes()).unwrap_err()[0].contains("账号ID「gh_1」与前面的行重复"));
        // An office's own headers: synonyms are read, the rest named as set aside.
        let own = "序号,账号名称,平台,主办单位,县(区),备案时间,状态,微信号,单位类型,开通日期,单位性质,责任单位\n\
                   1,龙川发布,微信,县融媒体中心,龙川县,2020-01-09,运行,gh_9,县级政府,2020-01-02,行政机关,县政府办\n";
        let imported = read_csv(own.as_bytes()).unwrap();
        let filing = &imported.filings[0];
        assert_eq!(
            (filing.name.as_str(), filing.unit.as_str(), filing.county.as_str()),
            ("龙川发布", "县政府办", "龙川县")
        );
        assert_eq!(filing.account_id.as_deref(), Some("gh_9"));
        assert_eq!(filing.unit_type, Some(crate::registry::UnitType::CountyGovernment));
        assert_eq!(filing.opened_on.map(|d| d.to_string()).as_deref(), Some("2020-01-02"));
        assert_eq!(filing.filed_on.map(|d| d.to_string()).as_deref(), Some("2020-01-09"));
        assert_eq!(imported.ignored_columns, ["序号", "主办单位", "单位性质"], "责任单位 itself wins");
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_taken() {
        let bad = "名称,平台,责任单位,备案日期,状态\n甲,微信,单位甲,2019-01-01,运行\n乙,QQ空间,单位乙,2019-01-01,运行\n,微信,,昨天,停了\n甲,微信,单位甲,,运行\n";
        let errors = from_csv(bad.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("第 3 行：平台「QQ空间」无法识别"), "{}", errors[0]);
        assert!(errors[1].starts_with("第 4 行：名称为空；责任单位为空；备案日期「昨天」无法识别"), "{}", errors[1]);
        assert!(errors[1].contains("状态「停了」无法识别"));
        assert!(errors[2].contains("重复"), "{}", errors[2]);
        assert_eq!(from_csv("名称,平台\n".as_bytes()).unwrap_err().len(), 2, "missing 责任单位 and 状态 columns");
        assert!(
            from_csv("名称,平台,责任单位,状态\n\"甲,微信,单位,运行\n".as_bytes()).unwrap_err()[0]
                .contains("引号没有闭合")
        );
    }
}
