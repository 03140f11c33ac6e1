//! Site-level verdicts from one round of observations: the counts the indicators turn into a
//! veto (栏目不更新 1–3, 首页不更新). Pure; the agent's `check` and the collector's report
//! both use it.

use std::collections::HashSet;

use crate::config::{ColumnKind, Thresholds};
use crate::wire::{FindingCode, Observation, Severity, SiteVerdict, TargetKind};

crate::closed_set! {
    /// The indicators' rules that make a site 不合格 beyond a single veto finding: column counts,
    /// the availability ratio; and what keeps a judgement from being complete (with the rule's
    /// name in the indicators' words).
    pub enum Rule: &'static str {
        /// ≥ 5 stale news, notice or policy columns (栏目不更新 1).
        StaleKeyColumns = "stale_key_columns" => "栏目不更新（动态要闻、通知公告、政策文件类）",
        /// ≥ 10 stale columns of any kind (栏目不更新 2).
        StaleColumns = "stale_columns" => "栏目不更新（应更新而长期未更新）",
        /// ≥ 5 blank columns (栏目不更新 3).
        BlankColumns = "blank_columns" => "空白栏目",
        /// Enough service guides across the site's guide pages each miss enough elements
        /// (办事指南要素缺失严重), where no single guide list made the veto by itself.
        GuidesIncomplete = "guides_incomplete" => "办事指南要素缺失严重",
        /// ≥ 5 % of the home page's probes over 7 days failed (站点无法访问).
        SiteUnavailable = "site_unavailable" => "站点无法访问",
        /// Fewer than 20 probes on a day of the 7: the availability rule cannot be fully applied.
        ProbesInsufficient = "probes_insufficient" => "监测次数不足",
    }
}

impl Rule {
    pub fn label_zh(self) -> &'static str {
        self.info()
    }
}

/// A site's columns, counted the way the column vetoes count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnCounts {
    pub columns: u32,
    /// Stale news, notice and policy columns.
    pub stale_key: u32,
    /// Stale columns of any kind.
    pub stale: u32,
    pub blank: u32,
    /// Guides each missing `guide_veto_missing` or more elements, across the site's guide pages.
    pub badly_incomplete_guides: u32,
    /// A guide page's own observation already made the guide veto.
    pub guide_veto_found: bool,
}

impl ColumnCounts {
    /// Counts one column of `kind`, stale and/or blank.
    pub fn add(&mut self, kind: Option<ColumnKind>, stale: bool, blank: bool) {
        self.columns += 1;
        if stale {
            self.stale += 1;
            if kind.is_some_and(ColumnKind::is_key_kind) {
                self.stale_key += 1;
            }
        }
        if blank {
            self.blank += 1;
        }
    }

    /// Counts the guides one page of the site read (a guide list or a single guide page); a
    /// guide already counted from another page of the site (in `seen`, by URL) is not again.
    pub fn add_guides(&mut self, observation: &Observation, thresholds: &Thresholds, seen: &mut HashSet<String>) {
        if let Some(guides) = observation.guides() {
            let badly = guides
                .items
                .iter()
                .filter(|g| g.missing.len() >= thresholds.guide_veto_missing as usize && seen.insert(page_key(&g.url)))
                .count();
            self.badly_incomplete_guides += u32::try_from(badly).unwrap_or(u32::MAX);
        }
        self.guide_veto_found |= observation.findings.iter().any(|f| f.code == FindingCode::GuideVeto);
    }

    /// The column vetoes these counts reach, each with its rule and words.
    pub fn vetoes(&self, thresholds: &Thresholds) -> Vec<(Rule, String)> {
        let mut vetoes = Vec::new();
        if !self.guide_veto_found && self.badly_incomplete_guides >= thresholds.guide_veto_count {
            vetoes.push((
                Rule::GuidesIncomplete,
                format!(
                    "办事指南要素缺失严重：全站 {} 个办事指南各缺少 {} 项以上要素（达到 {} 个即单项否决）",
                    self.badly_incomplete_guides, thresholds.guide_veto_missing, thresholds.guide_veto_count
                ),
            ));
        }
        if self.stale_key >= thresholds.stale_key_columns_veto {
            vetoes.push((
                Rule::StaleKeyColumns,
                format!(
                    "栏目不更新：动态要闻、通知公告、政策文件类栏目 {} 个未按期更新（达到 {} 个即单项否决）",
                    self.stale_key, thresholds.stale_key_columns_veto
                ),
            ));
        }
        if self.stale >= thresholds.stale_columns_veto {
            vetoes.push((
                Rule::StaleColumns,
                format!(
                    "栏目不更新：应更新而未更新的栏目 {} 个（达到 {} 个即单项否决）",
                    self.stale, thresholds.stale_columns_veto
                ),
            ));
        }
        if self.blank >= thresholds.blank_columns_veto {
            vetoes.push((
                Rule::BlankColumns,
                format!("空白栏目：{} 个（达到 {} 个即单项否决）", self.blank, thresholds.blank_columns_veto),
            ));
        }
        vetoes
    }
}

/// Verdicts for every site in `observations`, in order of first appearance.
pub fn site_verdicts(observations: &[Observation], thresholds: &Thresholds) -> Vec<SiteVerdict> {
    let mut verdicts: Vec<(SiteVerdict, ColumnCounts, HashSet<String>)> = Vec::new();
    for observation in observations.iter().filter(|o| o.kind == TargetKind::Site) {
        let index = match verdicts.iter().position(|(v, _, _)| v.target == observation.target) {
            Some(index) => index,
            None => {
                verdicts.push((
                    SiteVerdict {
                        target: observation.target.clone(),
                        unit: observation.unit.clone(),
                        ok: true,
                        columns: 0,
                        stale_key_columns: 0,
                        stale_columns: 0,
                        blank_columns: 0,
                        unreachable: false,
                        vetoes: Vec::new(),
                    },
                    ColumnCounts::default(),
                    HashSet::new(),
                ));
                verdicts.len() - 1
            }
        };
        let (verdict, counts, guides_seen) = &mut verdicts[index];
        let has = |code: FindingCode| observation.findings.iter().any(|f| f.code == code);
        if observation.column.is_none() && (has(FindingCode::SiteUnreachable) || has(FindingCode::HttpError)) {
            verdict.unreachable = true;
        }
        if observation.column.is_some() {
            let stale = has(FindingCode::ColumnNotUpdated) || has(FindingCode::ColumnUndated);
            counts.add(observation.column_kind, stale, has(FindingCode::ColumnBlank));
            counts.add_guides(observation, thresholds, guides_seen);
        }
        for finding in observation.findings.iter().filter(|f| f.severity == Severity::Veto) {
            let reason = format!("{}：{}", veto_name(finding.code), finding.detail);
            if !verdict.vetoes.contains(&reason) {
                verdict.vetoes.push(reason);
            }
        }
    }
    verdicts
        .into_iter()
        .map(|(mut verdict, counts, _)| {
            verdict.columns = counts.columns;
            verdict.stale_key_columns = counts.stale_key;
            verdict.stale_columns = counts.stale;
            verdict.blank_columns = counts.blank;
            verdict.vetoes.extend(counts.vetoes(thresholds).into_iter().map(|(_, words)| words));
            verdict.ok = verdict.vetoes.is_empty() && !verdict.unreachable;
            verdict
        })
        .collect()
}

/// A page by host, path and query, whatever the scheme or fragment (a guide configured alone is
/// the one its list links over https after a redirect).
fn page_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => format!("{}{}?{}", url.host_str().unwrap_or(""), url.path(), url.query().unwrap_or("")),
        Err(_) => url.to_string(),
    }
}

fn veto_name(code: FindingCode) -> &'static str {
    match code {
        FindingCode::HomeNotUpdated => "首页不更新",
        FindingCode::ColumnNotUpdated | FindingCode::ColumnUndated | FindingCode::ColumnBlank => "栏目不更新",
        FindingCode::SiteUnreachable | FindingCode::HttpError => "站点无法访问",
        _ => "单项否决",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{CheckKind, Finding};

    fn column(name: &str, kind: ColumnKind, code: Option<FindingCode>) -> Observation {
        Observation {
            target: "某县人民政府网站".into(),
            kind: TargetKind::Site,
            unit: "某县政府办".into(),
            platform: None,
            column: Some(name.into()),
            column_kind: Some(kind),
            url: "http://x.gov.cn/".into(),
            checks: vec![CheckKind::ColumnUpdate],
            checked_at: jiff::Timestamp::UNIX_EPOCH,
            ok: code.is_none(),
            freshness: Some(crate::wire::Freshness { items: Some(0), ..Default::default() }),
            fetch: None,
            findings: code.map(|code| vec![Finding::new(code, Severity::Error, "x")]).unwrap_or_default(),
            ..Observation::new("", TargetKind::Site, "", "", CheckKind::ColumnUpdate, jiff::Timestamp::UNIX_EPOCH)
        }
    }

    #[test]
    fn counts_become_vetoes_at_the_thresholds() {
        let thresholds = Thresholds::default();
        let mut observations: Vec<Observation> = (0..4)
            .map(|i| column(&format!("动态{i}"), ColumnKind::News, Some(FindingCode::ColumnNotUpdated)))
            .collect();
        observations.push(column("人事", ColumnKind::Planning, Some(FindingCode::ColumnNotUpdated)));
        let verdict = &site_verdicts(&observations, &thresholds)[0];
        assert_eq!((verdict.stale_key_columns, verdict.stale_columns, verdict.ok), (4, 5, true));

        observations.push(column("通知", ColumnKind::Notice, Some(FindingCode::ColumnNotUpdated)));
        let verdict = &site_verdicts(&observations, &thresholds)[0];
        assert_eq!((verdict.stale_key_columns, verdict.ok), (5, false));
        assert_eq!(verdict.vetoes.len(), 1);

        let blanks: Vec<Observation> =
            (0..5).map(|i| column(&format!("空{i}"), ColumnKind::Other, Some(FindingCode::ColumnBlank))).collect();
        let verdict = &site_verdicts(&blanks, &thresholds)[0];
        assert_eq!((verdict.blank_columns, verdict.ok), (5, false));
    }

    #[test]
    fn guides_of_all_the_sites_guide_pages_count_toward_the_guide_veto_once() {
        let thresholds = Thresholds { guide_veto_count: 3, guide_veto_missing: 2, ..Thresholds::default() };
        let guide_page = |name: &str, missing: &[&str], veto: bool| {
            let mut observation = column(name, ColumnKind::Guide, None);
            observation.guide = Some(crate::wire::GuideStats {
                guides: Some(crate::wire::GuideSummary {
                    checked: 1,
                    incomplete: u32::from(!missing.is_empty()),
                    items: vec![crate::wire::GuideItem {
                        title: name.into(),
                        url: format!("http://x.gov.cn/bszn/{name}.html"),
                        missing: missing.iter().map(|m| m.to_string()).collect(),
                    }],
                }),
            });
            if veto {
                observation.findings.push(Finding::new(FindingCode::GuideVeto, Severity::Veto, "x"));
            }
            observation
        };
        let mut pages =
            vec![guide_page("甲", &["设定依据", "办理时间"], false), guide_page("乙", &["办理时间"], false)];
        pages.push(guide_page("丙", &["收费标准", "联系电话", "办理流程"], false));
        assert!(site_verdicts(&pages, &thresholds)[0].ok, "two guides missing two or more: below three");
        let mut again = guide_page("甲", &["设定依据", "办理时间"], false);
        again.column = Some("甲（单独配置）".into());
        if let Some(item) = again.guide.as_mut().and_then(|g| g.guides.as_mut()).and_then(|g| g.items.first_mut()) {
            item.url = item.url.replace("http://", "https://") + "#top";
        }
        pages.push(again);
        assert!(site_verdicts(&pages, &thresholds)[0].ok, "a guide listed and configured alone counts once");
        pages.push(guide_page("丁", &["设定依据", "办理地点"], false));
        let verdict = &site_verdicts(&pages, &thresholds)[0];
        assert!(!verdict.ok && verdict.vetoes[0].contains("全站 3 个办事指南"), "{:?}", verdict.vetoes);
        pages[0] = guide_page("甲", &["设定依据", "办理时间"], true);
        let verdict = &site_verdicts(&pages, &thresholds)[0];
        assert_eq!(verdict.vetoes.len(), 1, "a page's own guide veto is not counted twice: {:?}", verdict.vetoes);
    }
}
