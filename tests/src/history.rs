//! A daily history written straight into a collector database, for reports over periods no
//! test can wait for: a city with the seed notice's three annex cases, or a province of ten
//! thousand sites and accounts over a quarter. Deterministic for a given shape; rows are the
//! collector's own (its schema, its stored page state), so the report reads them as it reads
//! what `serve` wrote.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, params};
use xunjian_collector::store::history::{PageDay, Reason};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Counties besides the city's own units (市直).
    pub counties: usize,
    /// Sites and accounts in all.
    pub subjects: usize,
    pub from: Date,
    pub days: u32,
    /// The seed notice's three annex cases, in 市直 and 龙川县.
    pub seed_cases: bool,
    /// Extra names to plant (a hostile one, for the escaping tests): given to the first
    /// accounts of the first county.
    pub planted_names: Vec<String>,
    /// Lesser problems described at length (many lines in a table cell, marked `〔问题N〕`),
    /// for the page-break tests.
    pub long_details: bool,
}

impl Shape {
    /// A province: 10,000 sites and accounts in 120 counties over a quarter.
    pub fn province(from: Date, days: u32) -> Shape {
        Shape {
            counties: 120,
            subjects: 10_000,
            from,
            days,
            seed_cases: false,
            planted_names: Vec::new(),
            long_details: false,
        }
    }

    /// A city like the seed's: three counties and 市直, 60 sites and accounts.
    pub fn city(from: Date, days: u32) -> Shape {
        Shape {
            counties: 3,
            subjects: 60,
            from,
            days,
            seed_cases: true,
            planted_names: Vec::new(),
            long_details: false,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub subjects: usize,
    pub target_rows: usize,
    pub page_rows: usize,
    pub problems: usize,
    /// Subjects that failed on at least one day.
    pub failing: usize,
}

/// One site or account, and its failing episode if any.
struct Subject {
    county: String,
    unit: String,
    name: String,
    site: bool,
    platform: &'static str,
    /// (first day index, days, reason code, severity, words)
    episode: Option<(u32, u32, &'static str, &'static str, String)>,
    /// An error-level problem (not a veto): (code, words), open from its day to the end.
    lesser: Option<(u32, &'static str, String)>,
}

const COUNTY_NAMES: [&str; 12] = [
    "龙川县",
    "和平县",
    "紫金县",
    "连平县",
    "东源县",
    "源城区",
    "兴宁市",
    "五华县",
    "平远县",
    "蕉岭县",
    "大埔县",
    "丰顺县",
];
const PLATFORMS: [&str; 5] = ["wechat", "weibo", "douyin", "toutiao", "app"];
const SITE_VETOES: [(&str, &str); 4] = [
    ("home_not_updated", "首页不更新：首页最新信息发布于 {} 天前，超过 2 周"),
    ("interaction_unanswered", "留言长期未回应「县长信箱」：1 条留言超过 90 天未回应"),
    ("wording_error", "严重表述错误：首页出现“中华人民共和国”的错误表述"),
    ("stale_key_columns", "栏目不更新：动态要闻、通知公告、政策文件类栏目 5 个未按期更新（达到 5 个即单项否决）"),
];
const ACCOUNT_VETOES: [(&str, &str); 2] = [
    ("account_not_updated", "账号不更新：账号最近一次发布于 20 天前，超过 14 天未更新"),
    ("account_interaction_closed", "互动功能不通畅：评论或留言功能已关闭"),
];

/// A small deterministic generator (SplitMix64).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn county_name(index: usize) -> String {
    if index == 0 {
        return "市直".to_string();
    }
    let base = COUNTY_NAMES[(index - 1) % COUNTY_NAMES.len()];
    let round = (index - 1) / COUNTY_NAMES.len();
    if round == 0 { base.to_string() } else { format!("{}{round}{}", &base[..base.len() - 3], &base[base.len() - 3..]) }
}

fn subjects(shape: &Shape) -> Vec<Subject> {
    let mut dice = Dice(0x5EED_0000 + shape.subjects as u64);
    let counties = shape.counties + 1;
    let mut subjects = Vec::with_capacity(shape.subjects);
    for index in 0..shape.subjects {
        let county = county_name(index % counties);
        let number = index / counties;
        let site = index % 5 < 2;
        let drawn = PLATFORMS[dice.below(PLATFORMS.len() as u64) as usize];
        let platform = if site { "" } else { drawn };
        let unit = if county == "市直" {
            format!("市第{}局", number / 2 + 1)
        } else {
            format!("{county}第{}局", number / 2 + 1)
        };
        let name = if site { format!("{unit}网站{number}") } else { format!("{unit}发布{number}") };
        // About one in ten fails for a while; one in five sites has a lesser problem.
        let episode = (dice.below(10) == 0).then(|| {
            let start = dice.below(u64::from(shape.days)) as u32;
            let length = 1 + dice.below(u64::from(shape.days - start).min(20)) as u32;
            let (code, words) = if site {
                SITE_VETOES[dice.below(SITE_VETOES.len() as u64) as usize]
            } else {
                ACCOUNT_VETOES[dice.below(ACCOUNT_VETOES.len() as u64) as usize]
            };
            let severity = if code.starts_with("stale_") { "rule" } else { "veto" };
            (start, length, code, severity, words.replace("{}", &(15 + length).to_string()))
        });
        let lesser = (site && dice.below(5) == 0).then(|| {
            let day = dice.below(u64::from(shape.days)) as u32;
            let (code, mut words) = if dice.below(2) == 0 {
                ("dead_links", "首页 40 个链接中有 2 个无法打开".to_string())
            } else {
                ("column_blank", "栏目页面可以打开，但没有任何信息".to_string())
            };
            if shape.long_details {
                let filler = "，该栏目自上季度以来未按要求维护，页面内容与栏目定位不符，已多次提醒仍未整改";
                words = format!("〔问题{index}〕{words}{}", filler.repeat(4));
            }
            (day, code, words)
        });
        subjects.push(Subject { county, unit, name, site, platform, episode, lesser });
    }
    for (slot, planted) in shape.planted_names.iter().enumerate() {
        if let Some(subject) = subjects.iter_mut().filter(|s| s.county == county_name(1) && !s.site).nth(slot) {
            subject.name = planted.clone();
            let start = shape.days.saturating_sub(3);
            subject.episode = Some((start, 3, "account_not_updated", "veto", format!("账号不更新：{planted}")));
        }
    }
    if shape.seed_cases {
        let days = shape.days;
        let seed = |county: &str, unit: &str, name: &str, platform, episode| Subject {
            county: county.into(),
            unit: unit.into(),
            name: name.into(),
            site: false,
            platform,
            episode: Some(episode),
            lesser: None,
        };
        subjects.push(seed(
            "市直",
            "市社保局",
            "河源市社会保险基金管理局",
            "wechat",
            (0, days, "not_filed", "veto", "微信「河源市社会保险基金管理局」未向市府办公室备案（漏报）".into()),
        ));
        subjects.push(seed(
            "龙川县",
            "龙川县人民政府办公室",
            "龙川县公共服务中心",
            "wechat",
            (
                0,
                days,
                "closed_but_live",
                "veto",
                "已备案为「已关停」，但仍可访问、仍在发布（未及时履行关停注销程序）".into(),
            ),
        ));
        subjects.push(seed(
            "市直",
            "市生态环境局",
            "河源市生态环境局",
            "weibo",
            (
                days.saturating_sub(12),
                12.min(days),
                "account_interaction_closed",
                "veto",
                "互动功能不通畅：评论或留言功能已关闭".into(),
            ),
        ));
    }
    subjects
}

fn noon(day: Date) -> Timestamp {
    xunjian_shared::time::china_midnight(day) + jiff::SignedDuration::from_hours(12)
}

/// Writes the history of `shape` into a new collector database at `path` (made with the
/// collector's own migrations). `progress` hears every tenth of the days.
pub fn generate(path: &Path, shape: &Shape, progress: &dyn Fn(&str)) -> anyhow::Result<Written> {
    let _ = std::fs::remove_file(path);
    let mut connection = Connection::open(path)?;
    xunjian_collector::store::schema::configure(&connection)?;
    xunjian_collector::store::schema::migrate(&mut connection)?;
    connection.pragma_update(None, "synchronous", "OFF")?;
    let subjects = subjects(shape);
    let mut written = Written { subjects: subjects.len(), ..Written::default() };
    written.failing = subjects.iter().filter(|s| s.episode.is_some()).count();
    let transaction = connection.transaction()?;
    {
        let mut targets = transaction.prepare(
            "INSERT INTO history_targets (day, county, unit, target, kind, platform, pass, reasons, notes, exempted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '[]', '[]')",
        )?;
        let mut pages = transaction.prepare(
            "INSERT INTO history_pages (day, agent, county, unit, target, kind, platform, column_name, channel, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '', ?9)",
        )?;
        let mut counties = transaction
            .prepare("INSERT INTO history_counties (day, county, kind, judged, passed) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for offset in 0..shape.days {
            let day = shape.from.checked_add(jiff::Span::new().days(i64::from(offset)))?;
            let day_text = day.to_string();
            let mut ratios: std::collections::BTreeMap<(String, &str), (u32, u32)> = Default::default();
            for subject in &subjects {
                let failing =
                    subject.episode.as_ref().filter(|(start, length, ..)| offset >= *start && offset < start + length);
                let reasons: Vec<Reason> = failing
                    .map(|(_, _, code, _, words)| vec![Reason { code: code.to_string(), detail: words.clone() }])
                    .unwrap_or_default();
                let kind = if subject.site { "site" } else { "account" };
                targets.execute(params![
                    day_text,
                    subject.county,
                    subject.unit,
                    subject.name,
                    kind,
                    subject.platform,
                    failing.is_none(),
                    serde_json::to_string(&reasons)?,
                ])?;
                written.target_rows += 1;
                for city in [subject.county.as_str(), "全市"] {
                    let entry = ratios.entry((city.to_string(), kind)).or_default();
                    entry.0 += 1;
                    entry.1 += u32::from(failing.is_none());
                }
                let agent = format!("agent-{}", subject.county);
                let home = PageDay {
                    column: String::new(),
                    channel: String::new(),
                    probes_ok: subject.site.then_some(288),
                    probes_failed: subject.site.then_some(0),
                    items: Some(20),
                    newest: day.yesterday().ok(),
                    age_days: Some(1),
                    messages: None,
                    overdue: None,
                    unanswered: None,
                    findings: failing
                        .map(|(_, _, code, severity, _)| vec![format!("{code}:{severity}")])
                        .unwrap_or_default(),
                };
                let columns: &[&str] = if subject.site { &["要闻动态", "通知公告"] } else { &[] };
                let states = std::iter::once(("", home.clone())).chain(columns.iter().map(|column| {
                    let state = PageDay {
                        column: column.to_string(),
                        probes_ok: None,
                        probes_failed: None,
                        findings: Vec::new(),
                        ..home.clone()
                    };
                    (*column, state)
                }));
                for (column, state) in states {
                    pages.execute(params![
                        day_text,
                        agent,
                        subject.county,
                        subject.unit,
                        subject.name,
                        kind,
                        subject.platform,
                        column,
                        serde_json::to_string(&state)?,
                    ])?;
                    written.page_rows += 1;
                }
            }
            for ((county, kind), (judged, passed)) in ratios {
                counties.execute(params![day_text, county, kind, judged, passed])?;
            }
            if shape.days >= 10 && offset % (shape.days / 10) == 0 {
                progress(&format!("history: day {}/{} ({day})", offset + 1, shape.days));
            }
        }
        let mut problems = transaction.prepare(
            "INSERT INTO problems (agent, county, unit, target, kind, platform, column_name, channel, code, severity,
                first_seen, last_seen, detail, url, evidence, observed_at, status, resolved_at, resolution, absent, reopened)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?11, ?15, ?16, ?17, 0, 0)",
        )?;
        let end = shape.from.checked_add(jiff::Span::new().days(i64::from(shape.days)))?;
        for subject in &subjects {
            let kind = if subject.site { "site" } else { "account" };
            let agent = format!("agent-{}", subject.county);
            let url = if subject.site {
                format!("https://www.example.gov.cn/{}/", subject.name.len())
            } else {
                format!("https://mp.example.com/{}", subject.name.len())
            };
            let mut add = |code: &str, severity: &str, column: &str, start: u32, length: Option<u32>, words: &str| {
                let first = shape.from.checked_add(jiff::Span::new().days(i64::from(start))).unwrap_or(shape.from);
                let resolved = length.map(|l| {
                    let day = shape.from.checked_add(jiff::Span::new().days(i64::from(start + l))).unwrap_or(end);
                    xunjian_shared::time::china_midnight(day).as_second() + 3600
                });
                let last = resolved.map_or(noon(end.yesterday().unwrap_or(end)).as_second(), |r| r - 7200);
                let registry = matches!(code, "not_filed" | "closed_but_live");
                problems.execute(params![
                    if registry { "" } else { agent.as_str() },
                    subject.county,
                    subject.unit,
                    subject.name,
                    kind,
                    subject.platform,
                    column,
                    code,
                    severity,
                    noon(first).as_second(),
                    last,
                    words,
                    if registry { "" } else { url.as_str() },
                    words,
                    if resolved.is_some() { "resolved" } else { "open" },
                    resolved,
                    resolved.map(|_| "gone"),
                ])
            };
            if let Some((start, length, code, "veto", words)) = &subject.episode {
                let open = start + length >= shape.days;
                add(code, "veto", "", *start, (!open).then_some(*length), words)?;
                written.problems += 1;
            }
            if let Some((day, code, words)) = &subject.lesser {
                let column = if *code == "column_blank" { "人事信息" } else { "" };
                add(code, "error", column, *day, None, words)?;
                written.problems += 1;
            }
        }
        let mut seen = transaction.prepare(
            "INSERT OR IGNORE INTO targets_seen (target, kind, platform, county, agent, first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for subject in &subjects {
            seen.execute(params![
                subject.name,
                if subject.site { "site" } else { "account" },
                subject.platform,
                subject.county,
                format!("agent-{}", subject.county),
                noon(shape.from).as_second(),
            ])?;
        }
        transaction.execute(
            "INSERT INTO meta (key, value) VALUES ('history_day', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
            [end.to_string()],
        )?;
    }
    transaction.commit()?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    Ok(written)
}

/// Writes `collector.toml` in `dir` naming `database` (for `xunjian-collector report`), with
/// placeholder push certificates (a report never opens them); returns its path.
pub fn write_collector_config(dir: &Path, database: &Path, office: &str) -> anyhow::Result<std::path::PathBuf> {
    for file in ["ca.pem", "server.pem", "server-key.pem"] {
        std::fs::write(dir.join(file), "")?;
    }
    // Relative paths in a configuration are relative to its file: write the database's full path.
    let database = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_path_buf());
    let config = dir.join("collector.toml");
    std::fs::write(
        &config,
        format!(
            "[collector]\ndatabase = {:?}\n\n[push]\nlisten = \"127.0.0.1:0\"\nca = \"ca.pem\"\ncert = \"server.pem\"\nkey = \"server-key.pem\"\n\n[report]\noffice = {office:?}\n",
            database.display().to_string()
        ),
    )?;
    Ok(config)
}
