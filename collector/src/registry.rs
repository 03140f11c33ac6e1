//! The registry of filed sites and accounts (备案) and the exemptions granted on findings, and
//! what comparing them with what agents observe finds:
//! - observed but not filed → 漏报 (`not_filed`), the seed notice's 河源市社会保险基金管理局;
//! - filed as closed (or closing) but still live → 未及时履行关停注销程序 (`closed_but_live`);
//! - filed and running but inspected by no agent → `unmonitored`.
//!
//! CSV is how the central office keeps the registry (Excel): columns 名称, 平台, 责任单位, 县区,
//! 备案日期, 状态 (English headers work too). Export is UTF-8 with a BOM so Excel opens it;
//! import also takes GBK, what Excel saves on Chinese Windows. An import with any bad row
//! changes nothing and names every bad row. Pure; storage is `store::filings`.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::config::Platform;
use xunjian_shared::wire::{Finding, FindingCode, Observation, Severity, TargetKind};

use crate::projection::Snapshot;

/// What a filing is for: a website, or an account on a platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Website,
    Account(Platform),
}

impl Channel {
    pub fn label_zh(self) -> &'static str {
        match self {
            Channel::Website => "网站",
            Channel::Account(platform) => platform.label_zh(),
        }
    }

    /// The label an observation's `platform` carries ('' for sites).
    pub fn metric_label(self) -> &'static str {
        match self {
            Channel::Website => "",
            Channel::Account(platform) => platform.as_str(),
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Channel, String> {
        match text.trim() {
            "网站" | "政府网站" | "website" | "site" => Ok(Channel::Website),
            other => Platform::parse(other).map(Channel::Account).map_err(|_| {
                format!("平台「{other}」无法识别：应为 网站、微信、新浪微博、抖音、今日头条、移动客户端 或 其他")
            }),
        }
    }

    pub fn of(observation: &Observation) -> Option<Channel> {
        match observation.kind {
            TargetKind::Site => Some(Channel::Website),
            TargetKind::Account => {
                observation.platform.as_deref().and_then(|p| Platform::parse(p).ok()).map(Channel::Account)
            }
        }
    }
}

xunjian_shared::closed_set! {
    /// 状态 of a filing: its metric label and its word in the registry.
    pub enum FilingStatus: &'static str {
        Running = "running" => "运行",
        Closing = "closing" => "关停中",
        Closed = "closed" => "已关停",
    }
}

impl FilingStatus {
    pub fn metric_label(self) -> &'static str {
        self.as_str()
    }

    pub fn label_zh(self) -> &'static str {
        self.info()
    }

    pub(crate) fn parse(text: &str) -> Result<FilingStatus, String> {
        match text.trim() {
            "运行" | "正常" | "running" => Ok(FilingStatus::Running),
            "关停中" | "注销中" | "closing" => Ok(FilingStatus::Closing),
            "已关停" | "已注销" | "关停" | "注销" | "closed" => Ok(FilingStatus::Closed),
            other => Err(format!("状态「{other}」无法识别：应为 运行、关停中 或 已关停")),
        }
    }
}

/// One filed site or account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filing {
    pub name: String,
    pub channel: Channel,
    pub unit: String,
    pub county: String,
    pub filed_on: Option<Date>,
    pub status: FilingStatus,
}

/// A finding accepted for a reason, by someone, possibly until a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exemption {
    pub id: i64,
    pub target: String,
    /// The column, or '' for the whole target.
    pub column: String,
    pub code: FindingCode,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub until: Option<Date>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

impl Exemption {
    pub fn is_active(&self, today: Date) -> bool {
        self.revoked_at.is_none() && self.until.is_none_or(|until| today <= until)
    }

    /// Whether it covers `code` found on `target` (in `scope`: a column or channel name, or ''
    /// for the target itself).
    pub fn covers(&self, target: &str, scope: &str, code: FindingCode, today: Date) -> bool {
        self.is_active(today)
            && self.code == code
            && self.target == target
            && (self.column.is_empty() || self.column == scope)
    }
}

/// The column or channel an observation is about ('' for the target itself).
pub fn scope_of(observation: &Observation) -> &str {
    observation.column.as_deref().or(observation.channel.as_deref()).unwrap_or("")
}

/// One condition of a silence on an alert's labels: `name=value` or `name!=value`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub equal: bool,
}

impl Matcher {
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let (name, value, equal) = match text.split_once("!=") {
            Some((name, value)) => (name, value, false),
            None => match text.split_once('=') {
                Some((name, value)) => (name, value, true),
                None => return Err(format!("「{text}」应写成 标签=值 或 标签!=值，例如 county=龙川县")),
            },
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("「{text}」的标签名应由字母、数字和下划线组成，例如 alertname、county、target"));
        }
        Ok(Matcher { name: name.to_string(), value: value.trim().to_string(), equal })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.name).map(String::as_str).unwrap_or("");
        (value == self.value) == self.equal
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.name, if self.equal { "=" } else { "!=" }, self.value)
    }
}

/// Alerts not to notify while it lasts, for a reason, by someone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Silence {
    pub id: i64,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub expired_at: Option<Timestamp>,
    pub expired_by: Option<String>,
}

impl Silence {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expired_at.is_none() && self.starts_at <= now && now < self.ends_at
    }

    pub fn silences(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> bool {
        self.is_active(now) && self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// An agent refused at the push port: by its id, its certificate serial (hex), or both ('' = any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub id: i64,
    pub agent: String,
    pub serial: String,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub lifted_at: Option<Timestamp>,
    pub lifted_by: Option<String>,
}

impl Revocation {
    pub fn applies(&self, agent: &str, serial: Option<&str>) -> bool {
        let serial_matches =
            |wanted: &str| serial.is_some_and(|s| s.eq_ignore_ascii_case(wanted.trim_start_matches("0x")));
        self.lifted_at.is_none()
            && (self.agent.is_empty() || self.agent == agent)
            && (self.serial.is_empty() || serial_matches(&self.serial))
    }
}

/// An agent the office retired: its subjects are released, its state forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retirement {
    pub id: i64,
    pub agent: String,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    /// When the collector applied it; None until then.
    pub applied_at: Option<Timestamp>,
}

/// What the central office has decided: the registry, exemptions, silences, revocations and
/// retirements.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub filings: Vec<Filing>,
    pub exemptions: Vec<Exemption>,
    pub silences: Vec<Silence>,
    pub revocations: Vec<Revocation>,
    pub retirements: Vec<Retirement>,
}

/// What the registry says of one observed site or account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub filing: Option<Filing>,
    pub findings: Vec<Finding>,
    /// Where it is reported: its filing's county and unit, else the observing agent's and the
    /// observation's.
    pub county: String,
    pub unit: String,
}

/// Observed ones compared with the filed ones.
#[derive(Clone, Debug, Default)]
pub struct Assessment {
    /// Per observed (target, channel): its filing and any registry finding.
    pub standing: BTreeMap<(String, Channel), Standing>,
    /// Filed, running, and observed by no agent.
    pub unmonitored: Vec<Filing>,
}

impl Registry {
    /// Compares the filings with the targets in `snapshot` (their home pages and accounts);
    /// findings under an exemption active on `today` are left out.
    pub fn assess(&self, snapshot: &Snapshot, today: Date) -> Assessment {
        let mut assessment = Assessment::default();
        let mut observed: HashSet<(String, Channel)> = HashSet::new();
        // Read per scrape and per evaluation: index the filings once, not a scan per target.
        let by_name: std::collections::HashMap<(&str, Channel), &Filing> =
            self.filings.iter().map(|f| ((f.name.as_str(), f.channel), f)).collect();
        for state in snapshot.subjects().values() {
            let observation = &state.observation;
            if observation.column.is_some() || observation.channel.is_some() {
                continue;
            }
            let Some(channel) = Channel::of(observation) else { continue };
            let key = (observation.target.clone(), channel);
            if !observed.insert(key.clone()) {
                continue;
            }
            let filing = by_name.get(&(observation.target.as_str(), channel)).map(|f| (*f).clone());
            let mut findings = Vec::new();
            match &filing {
                None => findings.push(Finding::new(
                    FindingCode::NotFiled,
                    Severity::Error,
                    format!("{}「{}」未向市府办公室备案（漏报）", channel.label_zh(), observation.target),
                )),
                Some(filing) if filing.status != FilingStatus::Running && is_live(observation) => {
                    findings.push(Finding::new(
                        FindingCode::ClosedButLive,
                        Severity::Error,
                        format!(
                            "已备案为「{}」，但仍可访问、仍在发布（未及时履行关停注销程序）",
                            filing.status.label_zh()
                        ),
                    ))
                }
                Some(_) => {}
            }
            findings.retain(|f| self.exempts_code(&observation.target, "", f.code, today).is_none());
            let (county, unit) = match &filing {
                Some(filing) => (filing.county.clone(), filing.unit.clone()),
                None => (state.county.clone(), observation.unit.clone()),
            };
            assessment.standing.insert(key, Standing { filing, findings, county, unit });
        }
        assessment.unmonitored = self
            .filings
            .iter()
            .filter(|f| f.status == FilingStatus::Running && !observed.contains(&(f.name.clone(), f.channel)))
            .filter(|f| self.exempts_code(&f.name, "", FindingCode::Unmonitored, today).is_none())
            .cloned()
            .collect();
        assessment
    }

    /// The active exemption covering `finding` of `observation`, if any.
    pub fn exempts(&self, observation: &Observation, finding: &Finding, today: Date) -> Option<&Exemption> {
        self.exempts_code(&observation.target, scope_of(observation), finding.code, today)
    }

    pub fn exempts_code(&self, target: &str, scope: &str, code: FindingCode, today: Date) -> Option<&Exemption> {
        self.exemptions.iter().find(|e| e.covers(target, scope, code, today))
    }

    /// The revocation refusing this agent or certificate, if any.
    pub fn revoked(&self, agent: &str, serial: Option<&str>) -> Option<&Revocation> {
        self.revocations.iter().find(|r| r.applies(agent, serial))
    }

    /// The active silence covering an alert with `labels`, if any.
    pub fn silenced_by(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> Option<&Silence> {
        self.silences.iter().find(|s| s.silences(labels, now))
    }
}

/// A site or account is live when it opens (and, for accounts, shows posts).
fn is_live(observation: &Observation) -> bool {
    let unreachable = observation.findings.iter().any(|f| {
        matches!(f.code, FindingCode::SiteUnreachable | FindingCode::HttpError | FindingCode::AccountUnreachable)
    });
    !unreachable && (observation.kind == TargetKind::Site || observation.items().unwrap_or(0) > 0)
}

/// CSV columns, in order, with the English names accepted too.
const COLUMNS: [(&str, &str); 6] = [
    ("名称", "name"),
    ("平台", "platform"),
    ("责任单位", "unit"),
    ("县区", "county"),
    ("备案日期", "filed_on"),
    ("状态", "status"),
];

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
fn quote(field: &str) -> String {
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
    let text = decode(bytes);
    let rows = parse_rows(&text).map_err(|err| vec![err])?;
    let Some((header, body)) = rows.split_first() else {
        return Err(vec!["文件是空的：第一行应为表头 名称,平台,责任单位,县区,备案日期,状态".into()]);
    };
    let mut index = [None; 6];
    for (position, cell) in header.1.iter().enumerate() {
        let cell = cell.trim();
        if let Some(column) = COLUMNS.iter().position(|(zh, en)| cell == *zh || cell.eq_ignore_ascii_case(en)) {
            index[column] = Some(position);
        }
    }
    let mut errors = Vec::new();
    for (column, (zh, _)) in COLUMNS.iter().enumerate() {
        if index[column].is_none() && column != 3 && column != 4 {
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
    for (line, cells) in body {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |column: usize| index[column].and_then(|i| cells.get(i)).map(|c| unneutral(c).trim()).unwrap_or("");
        let mut problems = Vec::new();
        let name = cell(0);
        if name.is_empty() {
            problems.push("名称为空".to_string());
        }
        let channel = Channel::parse(cell(1)).map_err(|e| problems.push(e)).ok();
        let unit = cell(2);
        if unit.is_empty() {
            problems.push("责任单位为空".to_string());
        }
        let filed_on = match cell(4) {
            "" => None,
            text => match xunjian_shared::time::parse::date_cell(text, Date::constant(2100, 1, 1)) {
                Some(published) => Some(published.date),
                None => {
                    problems.push(format!("备案日期「{text}」无法识别：应写成 2019-06-28"));
                    None
                }
            },
        };
        let status = FilingStatus::parse(cell(5)).map_err(|e| problems.push(e)).ok();
        if let (Some(channel), true) = (channel, problems.is_empty())
            && !seen.insert((name.to_string(), channel))
        {
            problems.push(format!("与前面的行重复：{name}（{}）", channel.label_zh()));
        }
        match (channel, status) {
            (Some(channel), Some(status)) if problems.is_empty() => filings.push(Filing {
                name: name.to_string(),
                channel,
                unit: unit.to_string(),
                county: cell(3).to_string(),
                filed_on,
                status,
            }),
            _ => errors.push(format!("第 {line} 行：{}", problems.join("；"))),
        }
    }
    if errors.is_empty() { Ok(filings) } else { Err(errors) }
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
            .map(|name| Filing {
                name: name.to_string(),
                channel: Channel::Website,
                unit: "=单位".into(),
                county: "县".into(),
                filed_on: None,
                status: FilingStatus::Running,
            })
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
