//! The notice's groups of main problems (主要问题), as data: each names the finding codes and
//! verdict rules it gathers. A kind of problem a later check adds (办事指南, 政策解读, registry
//! rules, security content) is one more row here; the report code does not change.

use xunjian_shared::wire::TargetKind;

/// One group of the 主要问题 section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's heading, in the notice's words.
    pub title: &'static str,
    /// Websites or new media: the section it is listed in.
    pub kind: TargetKind,
    /// Finding codes and rule names (as their `as_str`) it gathers, for this kind of target.
    pub codes: &'static [&'static str],
}

/// In the order the report lists them: websites, then new media.
pub const GROUPS: &[Group] = &[
    Group {
        title: "站点无法访问",
        kind: TargetKind::Site,
        codes: &["site_unreachable", "http_error", "site_unavailable"],
    },
    Group {
        title: "首页及栏目不更新",
        kind: TargetKind::Site,
        codes: &[
            "home_not_updated",
            "column_not_updated",
            "column_undated",
            "column_unreachable",
            "stale_key_columns",
            "stale_columns",
        ],
    },
    Group { title: "空白栏目", kind: TargetKind::Site, codes: &["column_blank", "blank_columns"] },
    Group { title: "错别字及严重表述错误", kind: TargetKind::Site, codes: &["wording_error"] },
    Group { title: "不可用链接", kind: TargetKind::Site, codes: &["dead_links"] },
    Group {
        title: "网站安全（暗链、篡改、劫持）",
        kind: TargetKind::Site,
        codes: &["hidden_links", "sensitive_content", "cloaking", "home_changed"],
    },
    Group { title: "IPv6 及安全传输", kind: TargetKind::Site, codes: &["ipv6_unreachable", "mixed_content"] },
    Group {
        title: "办事指南要素不齐全",
        kind: TargetKind::Site,
        codes: &["guide_elements_missing", "guide_veto", "guides_incomplete"],
    },
    Group {
        title: "政策解读不及时",
        kind: TargetKind::Site,
        codes: &["policy_not_interpreted", "interpretation_late"],
    },
    Group {
        title: "互动回应差",
        kind: TargetKind::Site,
        codes: &[
            "interaction_overdue",
            "interaction_unanswered",
            "interaction_fields_missing",
            "interaction_channel_missing",
            "interaction_unreachable",
            "interaction_statistics_stale",
        ],
    },
    Group { title: "网站未备案", kind: TargetKind::Site, codes: &["not_filed"] },
    Group { title: "网站已关停仍在运行", kind: TargetKind::Site, codes: &["closed_but_live"] },
    Group { title: "未备案（漏报）", kind: TargetKind::Account, codes: &["not_filed"] },
    Group { title: "备案不及时", kind: TargetKind::Account, codes: &["filed_late"] },
    Group {
        title: "未按要求清理整合",
        kind: TargetKind::Account,
        codes: &["duplicate_account", "unit_type_not_allowed", "platform_not_mainstream"],
    },
    Group { title: "县级政府未开设必备账号", kind: TargetKind::Account, codes: &["county_without_account"] },
    Group {
        title: "发现未备案账号线索", kind: TargetKind::Account, codes: &["account_discovered", "filing_pending"]
    },
    Group { title: "已关停仍在运行", kind: TargetKind::Account, codes: &["closed_but_live"] },
    Group { title: "互动功能不通畅", kind: TargetKind::Account, codes: &["account_interaction_closed"] },
    Group {
        title: "长期不更新", kind: TargetKind::Account, codes: &["account_not_updated", "account_unreachable"]
    },
];

/// Where a problem no group names is listed, per kind.
pub const OTHER_SITE: Group = Group { title: "其他问题（网站）", kind: TargetKind::Site, codes: &[] };
pub const OTHER_ACCOUNT: Group =
    Group { title: "其他问题（政务新媒体）", kind: TargetKind::Account, codes: &[] };

/// The group a problem with `code` on a target of `kind` belongs to.
pub fn group_of(code: &str, kind: TargetKind) -> &'static Group {
    GROUPS.iter().find(|group| group.kind == kind && group.codes.contains(&code)).unwrap_or(match kind {
        TargetKind::Site => &OTHER_SITE,
        TargetKind::Account => &OTHER_ACCOUNT,
    })
}

/// Every group, in report order, the two catch-alls last in their section.
pub fn all() -> impl Iterator<Item = &'static Group> {
    let sites = GROUPS.iter().filter(|g| g.kind == TargetKind::Site).chain(std::iter::once(&OTHER_SITE));
    let accounts = GROUPS.iter().filter(|g| g.kind == TargetKind::Account).chain(std::iter::once(&OTHER_ACCOUNT));
    sites.chain(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xunjian_shared::verdict::Rule;
    use xunjian_shared::wire::FindingCode;

    #[test]
    fn every_code_named_exists_and_every_counted_code_has_a_home() {
        for group in GROUPS {
            for code in group.codes {
                assert!(
                    FindingCode::named(code).is_some() || Rule::named(code).is_some(),
                    "{}: {code} is neither a finding code nor a rule",
                    group.title
                );
            }
        }
        // The seed's three annex cases land in the notice's groups, not in 其他问题.
        assert_eq!(group_of("not_filed", TargetKind::Account).title, "未备案（漏报）");
        assert_eq!(group_of("closed_but_live", TargetKind::Account).title, "已关停仍在运行");
        assert_eq!(group_of("account_interaction_closed", TargetKind::Account).title, "互动功能不通畅");
        assert_eq!(group_of("something_new", TargetKind::Site).title, OTHER_SITE.title);
        // The notice's second and third main problems have their own groups.
        assert_eq!(group_of("guide_veto", TargetKind::Site).title, "办事指南要素不齐全");
        assert_eq!(group_of("interpretation_late", TargetKind::Site).title, "政策解读不及时");
        assert_eq!(all().count(), GROUPS.len() + 2);
    }
}
