//! Verdict thresholds (`[thresholds]`): when a page counts as stale, when counts become a veto.

use super::defaults;
use super::fields::{DefaultValue, Key, Kind, Problems, Table, TableSpec};

/// Every threshold the verdicts use; all configurable, defaults from 国办秘函〔2019〕19号.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
// Thresholds added later read as their defaults from anything serialised before them.
#[serde(default)]
pub struct Thresholds {
    /// Home page stale after this many days without a new dated item. Default 14.
    pub home_max_age_days: u32,
    /// 动态/要闻 columns stale after this many days. Default 14.
    pub news_max_age_days: u32,
    /// 通知公告 columns. Default 183.
    pub notice_max_age_days: u32,
    /// 政策文件 columns. Default 183.
    pub policy_max_age_days: u32,
    /// 人事/规划计划 columns. Default 365.
    pub planning_max_age_days: u32,
    /// Other columns. Default 365.
    pub other_max_age_days: u32,
    /// Warn this many days before a certificate's not-after. Default 14.
    pub tls_expiry_warning_days: u32,
    /// Stale news/notice/policy columns that make a veto. Default 5.
    pub stale_key_columns_veto: u32,
    /// Stale columns of any kind that make a veto. Default 10.
    pub stale_columns_veto: u32,
    /// Blank columns that make a veto. Default 5.
    pub blank_columns_veto: u32,
    /// Accounts stale after this many days without a post. Default 14.
    pub account_max_age_days: u32,
    /// A reply later than this many working days is overdue. Default 5.
    pub reply_limit_working_days: u32,
    /// The same for messages marked simple (see `simple_keywords`). Default 1.
    pub simple_reply_limit_working_days: u32,
    /// A message unanswered for more than this many days is a veto. Default 90.
    pub unanswered_veto_days: u32,
    /// Guides each missing `guide_veto_missing` or more elements that make a veto. Default 5.
    pub guide_veto_count: u32,
    /// Elements a guide misses to count toward the veto. Default 4.
    pub guide_veto_missing: u32,
    /// Policy documents published within this many days are paired with interpretations. Default 180.
    pub interpretation_window_days: u32,
    /// An interpretation later than this many working days after its policy is late. Default 3.
    pub interpretation_limit_working_days: u32,
    /// Documents whose titles hold one of these words need no interpretation.
    pub interpretation_exempt_words: Vec<String>,
}

impl Default for Thresholds {
    fn default() -> Self {
        let days = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
        Thresholds {
            home_max_age_days: days(defaults::HOME_MAX_AGE_DAYS),
            news_max_age_days: days(defaults::NEWS_MAX_AGE_DAYS),
            notice_max_age_days: days(defaults::NOTICE_MAX_AGE_DAYS),
            policy_max_age_days: days(defaults::POLICY_MAX_AGE_DAYS),
            planning_max_age_days: days(defaults::PLANNING_MAX_AGE_DAYS),
            other_max_age_days: days(defaults::OTHER_MAX_AGE_DAYS),
            tls_expiry_warning_days: days(defaults::TLS_EXPIRY_WARNING_DAYS),
            stale_key_columns_veto: days(defaults::STALE_KEY_COLUMNS_VETO),
            stale_columns_veto: days(defaults::STALE_COLUMNS_VETO),
            blank_columns_veto: days(defaults::BLANK_COLUMNS_VETO),
            account_max_age_days: days(defaults::ACCOUNT_MAX_AGE_DAYS),
            reply_limit_working_days: days(defaults::REPLY_LIMIT_WORKING_DAYS),
            simple_reply_limit_working_days: days(defaults::SIMPLE_REPLY_LIMIT_WORKING_DAYS),
            unanswered_veto_days: days(defaults::UNANSWERED_VETO_DAYS),
            guide_veto_count: days(defaults::GUIDE_VETO_COUNT),
            guide_veto_missing: days(defaults::GUIDE_VETO_MISSING),
            interpretation_window_days: days(defaults::INTERPRETATION_WINDOW_DAYS),
            interpretation_limit_working_days: days(defaults::INTERPRETATION_LIMIT_WORKING_DAYS),
            interpretation_exempt_words: defaults::INTERPRETATION_EXEMPT_WORDS.iter().map(|w| w.to_string()).collect(),
        }
    }
}

/// A threshold of `unit` from 1 to 36,500, defaulting to the indicator's value.
const fn threshold(name: &'static str, unit: &'static str, default: u64, doc: &'static str) -> Key {
    Key::new(name, Kind::Whole { unit, min: 1, max: 36_500 }, DefaultValue::Whole(default), doc)
}

pub(crate) static THRESHOLDS: TableSpec = TableSpec {
    doc: "When a page counts as stale and when counts become a veto; the defaults are the national indicators' (国办秘函〔2019〕19号) and the seed notice's.",
    keys: &[
        threshold(
            "home_max_age_days",
            "days",
            defaults::HOME_MAX_AGE_DAYS,
            "The home page is stale (a veto) after this many days without a new dated item.",
        ),
        threshold(
            "news_max_age_days",
            "days",
            defaults::NEWS_MAX_AGE_DAYS,
            "动态、要闻 columns stale after this many days.",
        ),
        threshold("notice_max_age_days", "days", defaults::NOTICE_MAX_AGE_DAYS, "通知公告 columns."),
        threshold("policy_max_age_days", "days", defaults::POLICY_MAX_AGE_DAYS, "政策文件 columns."),
        threshold("planning_max_age_days", "days", defaults::PLANNING_MAX_AGE_DAYS, "人事、规划计划 columns."),
        threshold("other_max_age_days", "days", defaults::OTHER_MAX_AGE_DAYS, "Other columns."),
        threshold(
            "tls_expiry_warning_days",
            "days",
            defaults::TLS_EXPIRY_WARNING_DAYS,
            "Warn this many days before a site certificate expires.",
        ),
        threshold(
            "stale_key_columns_veto",
            "columns",
            defaults::STALE_KEY_COLUMNS_VETO,
            "Stale news, notice or policy columns that make a veto.",
        ),
        threshold(
            "stale_columns_veto",
            "columns",
            defaults::STALE_COLUMNS_VETO,
            "Stale columns of any kind that make a veto.",
        ),
        threshold("blank_columns_veto", "columns", defaults::BLANK_COLUMNS_VETO, "Blank columns that make a veto."),
        threshold(
            "account_max_age_days",
            "days",
            defaults::ACCOUNT_MAX_AGE_DAYS,
            "Accounts are stale (a veto) after this many days without a post.",
        ),
        threshold(
            "reply_limit_working_days",
            "working days",
            defaults::REPLY_LIMIT_WORKING_DAYS,
            "A reply later than this is overdue.",
        ),
        threshold(
            "simple_reply_limit_working_days",
            "working days",
            defaults::SIMPLE_REPLY_LIMIT_WORKING_DAYS,
            "The same for messages marked simple (a channel's `simple_keywords`).",
        ),
        threshold(
            "unanswered_veto_days",
            "days",
            defaults::UNANSWERED_VETO_DAYS,
            "A message unanswered for more than this many days is a veto.",
        ),
        threshold(
            "guide_veto_count",
            "guides",
            defaults::GUIDE_VETO_COUNT,
            "Service guides (办事指南), each missing `guide_veto_missing` or more elements, that make a veto (the default is unconfirmed: set the office's own).",
        ),
        threshold(
            "guide_veto_missing",
            "elements",
            defaults::GUIDE_VETO_MISSING,
            "Elements a guide misses to count toward `guide_veto_count`.",
        ),
        threshold(
            "interpretation_window_days",
            "days",
            defaults::INTERPRETATION_WINDOW_DAYS,
            "Policy documents published within this many days are paired with their interpretations (政策解读).",
        ),
        threshold(
            "interpretation_limit_working_days",
            "working days",
            defaults::INTERPRETATION_LIMIT_WORKING_DAYS,
            "An interpretation published later than this after its policy is late (政策解读不及时); the office's rule to set.",
        ),
        Key::new(
            "interpretation_exempt_words",
            Kind::Strings,
            DefaultValue::Otherwise(
                "任免, 任职, 免职, 人事, 会议, 召开, 表彰, 通报, 公示, 名单, 批复, 更正, 放假, 值班",
            ),
            "Documents whose titles hold one of these words need no interpretation (a written list replaces the default).",
        ),
    ],
};

impl Thresholds {
    /// Days after which a column of `kind` is stale.
    pub fn column_max_age_days(&self, kind: ColumnKind) -> u32 {
        match kind {
            ColumnKind::News => self.news_max_age_days,
            ColumnKind::Notice => self.notice_max_age_days,
            ColumnKind::Policy | ColumnKind::Interpretation => self.policy_max_age_days,
            ColumnKind::Planning => self.planning_max_age_days,
            ColumnKind::Other | ColumnKind::Guide => self.other_max_age_days,
        }
    }

    pub(crate) fn read(mut table: Table<'_>, problems: &mut Problems) -> Self {
        let mut thresholds = Thresholds::default();
        let fields: [(&str, &mut u32); 18] = [
            ("home_max_age_days", &mut thresholds.home_max_age_days),
            ("news_max_age_days", &mut thresholds.news_max_age_days),
            ("notice_max_age_days", &mut thresholds.notice_max_age_days),
            ("policy_max_age_days", &mut thresholds.policy_max_age_days),
            ("planning_max_age_days", &mut thresholds.planning_max_age_days),
            ("other_max_age_days", &mut thresholds.other_max_age_days),
            ("tls_expiry_warning_days", &mut thresholds.tls_expiry_warning_days),
            ("stale_key_columns_veto", &mut thresholds.stale_key_columns_veto),
            ("stale_columns_veto", &mut thresholds.stale_columns_veto),
            ("blank_columns_veto", &mut thresholds.blank_columns_veto),
            ("account_max_age_days", &mut thresholds.account_max_age_days),
            ("reply_limit_working_days", &mut thresholds.reply_limit_working_days),
            ("simple_reply_limit_working_days", &mut thresholds.simple_reply_limit_working_days),
            ("unanswered_veto_days", &mut thresholds.unanswered_veto_days),
            ("guide_veto_count", &mut thresholds.guide_veto_count),
            ("guide_veto_missing", &mut thresholds.guide_veto_missing),
            ("interpretation_window_days", &mut thresholds.interpretation_window_days),
            ("interpretation_limit_working_days", &mut thresholds.interpretation_limit_working_days),
        ];
        for (key, slot) in fields {
            if let Some(value) = table.whole_number(key, problems) {
                *slot = u32::try_from(value).unwrap_or(u32::MAX);
            }
        }
        if table.present("interpretation_exempt_words") {
            thresholds.interpretation_exempt_words = table
                .strings("interpretation_exempt_words", problems)
                .into_iter()
                .map(|(word, _)| word.trim().to_string())
                .filter(|word| !word.is_empty())
                .collect();
        }
        table.finish(problems);
        thresholds
    }
}

crate::closed_set! {
    /// What a column publishes, which decides how fresh it must be (with the kind's name in the
    /// indicators' words).
    pub enum ColumnKind: &'static str {
        /// 动态、要闻类: 2 weeks.
        News = "news" => "动态要闻类",
        /// 通知公告类: 6 months.
        Notice = "notice" => "通知公告类",
        /// 政策文件类: 6 months.
        Policy = "policy" => "政策文件类",
        /// 人事、规划计划类: 1 year.
        Planning = "planning" => "人事规划类",
        /// Anything else.
        Other = "other" => "其他",
        /// 办事指南: a list of service guides, each read for the indicator's elements (not
        /// judged on how fresh the list is).
        Guide = "guide" => "办事指南类",
        /// 政策解读: interpretations, which a `policy` column may name to be paired with
        /// (6 months, like policies).
        Interpretation = "interpretation" => "政策解读类",
    }
}

impl ColumnKind {
    /// The kind's name in the indicators' words.
    pub fn label_zh(self) -> &'static str {
        self.info()
    }

    /// Whether stale columns of this kind count toward the "≥ 5 stale news, notice or policy
    /// columns" veto.
    pub fn is_key_kind(self) -> bool {
        matches!(self, ColumnKind::News | ColumnKind::Notice | ColumnKind::Policy | ColumnKind::Interpretation)
    }

    /// Guesses the kind from a column's name, the way the indicators group columns.
    pub fn infer(name: &str) -> ColumnKind {
        const PLANNING: &[&str] = &["人事", "任免", "规划", "计划", "招录", "招聘"];
        const NOTICE: &[&str] = &["通知", "公告", "公示", "通告"];
        const POLICY: &[&str] = &["政策", "文件", "法规", "规章", "规范性", "解读"];
        const NEWS: &[&str] = &["动态", "要闻", "新闻", "资讯", "快讯", "时政", "简报", "信息"];
        let has = |words: &[&str]| words.iter().any(|word| name.contains(word));
        // Never `guide`: a guide list is followed to its pages, which only a written kind asks for.
        if has(PLANNING) {
            ColumnKind::Planning
        } else if has(NOTICE) {
            ColumnKind::Notice
        } else if name.contains("解读") {
            ColumnKind::Interpretation
        } else if has(POLICY) {
            ColumnKind::Policy
        } else if has(NEWS) {
            ColumnKind::News
        } else {
            ColumnKind::Other
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        ColumnKind::named(text).ok_or_else(|| {
            let names: Vec<&str> = ColumnKind::ALL.iter().map(|kind| kind.as_str()).collect();
            format!("unknown column kind {text:?}: expected one of {}", names.join(", "))
        })
    }
}
