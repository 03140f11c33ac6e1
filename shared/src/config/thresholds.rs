//! Verdict thresholds (`[thresholds]`): when a page counts as stale, when counts become a veto.

use super::agent::ColumnKind;
use super::defaults;
use super::fields::{Problems, Table};

/// Every threshold the verdicts use; all configurable, defaults from 国办秘函〔2019〕19号.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        }
    }
}

impl Thresholds {
    /// Days after which a column of `kind` is stale.
    pub fn column_max_age_days(&self, kind: ColumnKind) -> u32 {
        match kind {
            ColumnKind::News => self.news_max_age_days,
            ColumnKind::Notice => self.notice_max_age_days,
            ColumnKind::Policy => self.policy_max_age_days,
            ColumnKind::Planning => self.planning_max_age_days,
            ColumnKind::Other => self.other_max_age_days,
        }
    }

    pub(crate) const KEYS: &'static [&'static str] = &[
        "home_max_age_days",
        "news_max_age_days",
        "notice_max_age_days",
        "policy_max_age_days",
        "planning_max_age_days",
        "other_max_age_days",
        "tls_expiry_warning_days",
        "stale_key_columns_veto",
        "stale_columns_veto",
        "blank_columns_veto",
        "account_max_age_days",
        "reply_limit_working_days",
        "simple_reply_limit_working_days",
        "unanswered_veto_days",
    ];

    pub(crate) fn read(mut table: Table<'_>, problems: &mut Problems) -> Self {
        let mut thresholds = Thresholds::default();
        let fields: [(&str, &mut u32, &str); 14] = [
            ("home_max_age_days", &mut thresholds.home_max_age_days, " days"),
            ("news_max_age_days", &mut thresholds.news_max_age_days, " days"),
            ("notice_max_age_days", &mut thresholds.notice_max_age_days, " days"),
            ("policy_max_age_days", &mut thresholds.policy_max_age_days, " days"),
            ("planning_max_age_days", &mut thresholds.planning_max_age_days, " days"),
            ("other_max_age_days", &mut thresholds.other_max_age_days, " days"),
            ("tls_expiry_warning_days", &mut thresholds.tls_expiry_warning_days, " days"),
            ("stale_key_columns_veto", &mut thresholds.stale_key_columns_veto, " columns"),
            ("stale_columns_veto", &mut thresholds.stale_columns_veto, " columns"),
            ("blank_columns_veto", &mut thresholds.blank_columns_veto, " columns"),
            ("account_max_age_days", &mut thresholds.account_max_age_days, " days"),
            ("reply_limit_working_days", &mut thresholds.reply_limit_working_days, " working days"),
            ("simple_reply_limit_working_days", &mut thresholds.simple_reply_limit_working_days, " working days"),
            ("unanswered_veto_days", &mut thresholds.unanswered_veto_days, " days"),
        ];
        for (key, slot, unit) in fields {
            if let Some(value) = table.whole_number(key, unit, 1, 36_500, problems) {
                *slot = u32::try_from(value).unwrap_or(u32::MAX);
            }
        }
        table.finish(Self::KEYS, problems);
        thresholds
    }
}
