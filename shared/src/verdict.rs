//! Site-level verdicts from one round of observations: the counts the indicators turn into a
//! veto (栏目不更新 1–3, 首页不更新). Pure; the agent's `check` and the collector's report
//! both use it.

use crate::config::Thresholds;
use crate::wire::{FindingCode, Observation, Severity, SiteVerdict, TargetKind};

/// Verdicts for every site in `observations`, in order of first appearance.
pub fn site_verdicts(observations: &[Observation], thresholds: &Thresholds) -> Vec<SiteVerdict> {
    let mut verdicts: Vec<SiteVerdict> = Vec::new();
    for observation in observations.iter().filter(|o| o.kind == TargetKind::Site) {
        let index = match verdicts.iter().position(|v| v.target == observation.target) {
            Some(index) => index,
            None => {
                verdicts.push(SiteVerdict {
                    target: observation.target.clone(),
                    unit: observation.unit.clone(),
                    ok: true,
                    columns: 0,
                    stale_key_columns: 0,
                    stale_columns: 0,
                    blank_columns: 0,
                    unreachable: false,
                    vetoes: Vec::new(),
                });
                verdicts.len() - 1
            }
        };
        let verdict = &mut verdicts[index];
        let has = |code: FindingCode| observation.findings.iter().any(|f| f.code == code);
        if observation.column.is_none() && (has(FindingCode::SiteUnreachable) || has(FindingCode::HttpError)) {
            verdict.unreachable = true;
        }
        if observation.column.is_some() {
            verdict.columns += 1;
            if has(FindingCode::ColumnNotUpdated) {
                verdict.stale_columns += 1;
                if observation.column_kind.is_some_and(|kind| kind.is_key_kind()) {
                    verdict.stale_key_columns += 1;
                }
            }
            if has(FindingCode::ColumnBlank) {
                verdict.blank_columns += 1;
            }
        }
        for finding in observation.findings.iter().filter(|f| f.severity == Severity::Veto) {
            let reason = format!("{}：{}", veto_name(finding.code), finding.detail);
            if !verdict.vetoes.contains(&reason) {
                verdict.vetoes.push(reason);
            }
        }
    }
    for verdict in &mut verdicts {
        if verdict.stale_key_columns >= thresholds.stale_key_columns_veto {
            verdict.vetoes.push(format!(
                "栏目不更新：动态要闻、通知公告、政策文件类栏目 {} 个未按期更新（达到 {} 个即单项否决）",
                verdict.stale_key_columns, thresholds.stale_key_columns_veto
            ));
        }
        if verdict.stale_columns >= thresholds.stale_columns_veto {
            verdict.vetoes.push(format!(
                "栏目不更新：应更新而未更新的栏目 {} 个（达到 {} 个即单项否决）",
                verdict.stale_columns, thresholds.stale_columns_veto
            ));
        }
        if verdict.blank_columns >= thresholds.blank_columns_veto {
            verdict.vetoes.push(format!(
                "空白栏目：{} 个（达到 {} 个即单项否决）",
                verdict.blank_columns, thresholds.blank_columns_veto
            ));
        }
        verdict.ok = verdict.vetoes.is_empty() && !verdict.unreachable;
    }
    verdicts
}

fn veto_name(code: FindingCode) -> &'static str {
    match code {
        FindingCode::HomeNotUpdated => "首页不更新",
        FindingCode::ColumnNotUpdated | FindingCode::ColumnBlank => "栏目不更新",
        FindingCode::SiteUnreachable | FindingCode::HttpError => "站点无法访问",
        _ => "单项否决",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ColumnKind;
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
}
