//! What is filed (备案): a site or an account on a platform, its unit, county and status.

use jiff::civil::Date;
use xunjian_shared::config::Platform;
use xunjian_shared::wire::{Observation, TargetKind};

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

    /// The platform as observations name it (wechat, weibo …); None for a website.
    pub fn platform(self) -> Option<String> {
        match self {
            Channel::Website => None,
            Channel::Account(platform) => Some(platform.as_str().to_string()),
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Channel, String> {
        match text.trim() {
            "网站" | "政府网站" | "website" | "site" => Ok(Channel::Website),
            other => Platform::parse(other).map(Channel::Account).map_err(|_| {
                format!("平台「{other}」无法识别：应为 网站、微信、新浪微博、抖音、今日头条、移动客户端、快手、微信视频号、哔哩哔哩、小红书、百家号 或 其他（其他平台的账号填「其他」）")
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

xunjian_shared::closed_set! {
    /// 单位类型: what kind of unit runs a site or account, which decides whether it may open one
    /// (the notice: county departments other than 公安, and townships, do not).
    pub enum UnitType: &'static str {
        CountyGovernment = "county_government" => "县级政府",
        CountyDepartment = "county_department" => "县级部门",
        Township = "township" => "乡镇街道",
        CityDepartment = "city_department" => "市直部门",
        Police = "police" => "公安",
        Other = "other" => "其他",
    }
}

impl UnitType {
    pub fn label_zh(self) -> &'static str {
        self.info()
    }

    pub(crate) fn parse(text: &str) -> Result<UnitType, String> {
        let text = text.trim();
        if let Some(unit_type) = UnitType::ALL.iter().find(|t| t.label_zh() == text || t.as_str() == text) {
            return Ok(*unit_type);
        }
        match text {
            "县政府" | "县区政府" | "区政府" | "县级人民政府" | "县（区）政府" => {
                Ok(UnitType::CountyGovernment)
            }
            "县直部门" | "县区部门" | "县（区）部门" | "区直部门" => Ok(UnitType::CountyDepartment),
            "乡镇" | "街道" | "镇街" | "乡镇（街道）" => Ok(UnitType::Township),
            "市直" | "市直单位" | "市级部门" => Ok(UnitType::CityDepartment),
            "公安局" | "公安机关" => Ok(UnitType::Police),
            other => {
                Err(format!("单位类型「{other}」无法识别：应为 县级政府、县级部门、乡镇街道、市直部门、公安 或 其他"))
            }
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
    /// The account's identifier on its platform (微信号 or 原始 ID, 微博 UID, 抖音号, 头条号, an
    /// app's package, or the account's URL), what an observed account is matched by first.
    pub account_id: Option<String>,
    pub unit_type: Option<UnitType>,
    /// When the account was opened (开设日期), where known.
    pub opened_on: Option<Date>,
}

impl Filing {
    /// A filing with nothing known beyond its name, channel, unit, county and status.
    pub fn new(name: &str, channel: Channel, unit: &str, county: &str, status: FilingStatus) -> Filing {
        Filing {
            name: name.to_string(),
            channel,
            unit: unit.to_string(),
            county: county.to_string(),
            filed_on: None,
            status,
            account_id: None,
            unit_type: None,
            opened_on: None,
        }
    }
}
