//! Injected content (网页被篡改): gambling, pornography or fraud terms in the home page's
//! title, keywords or description, in the text of its links to other sites, or several of them
//! in its text ([`crate::extract::page_text::sensitive_content`]). A veto: such a page is the
//! most serious thing an inspection finds.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, SensitiveTerm, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::page_text::{Place, SensitiveHit, page_text, sensitive_content};

pub struct SensitiveContent;

impl Check for SensitiveContent {
    fn kind(&self) -> CheckKind {
        CheckKind::SensitiveContent
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { .. })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some((document, base)) = cx.subject_document(subject).await else { return };
            let hits = sensitive_content(&document, &base, &page_text(&document), &cx.sensitive_terms);
            if !hits.is_empty() {
                observation.findings.push(Finding::new(
                    FindingCode::SensitiveContent,
                    Severity::Veto,
                    format!("首页含赌博、色情或诈骗内容，疑似被篡改：{}", describe(&hits)),
                ));
            }
            observation.audit.get_or_insert_default().sensitive_terms = Some(
                hits.into_iter()
                    .map(|hit| SensitiveTerm { place: hit.place.as_str().to_string(), term: hit.term })
                    .collect(),
            );
        })
    }
}

/// "网页标题含赌博词「澳门葡京」「娱乐城」；外站链接文字含赌博词「开户送」": the hits by place
/// and category, at most five terms each.
pub(crate) fn describe(hits: &[SensitiveHit]) -> String {
    let mut groups: Vec<(Place, &str)> = Vec::new();
    for hit in hits {
        if !groups.contains(&(hit.place, hit.category.as_str())) {
            groups.push((hit.place, hit.category.as_str()));
        }
    }
    groups.sort_by_key(|(place, _)| *place);
    groups
        .into_iter()
        .map(|(place, category)| {
            let terms: String = hits
                .iter()
                .filter(|hit| hit.place == place && hit.category == category)
                .take(5)
                .map(|hit| format!("「{}」", hit.term))
                .collect();
            format!("{}含{category}词{terms}", place.label_zh())
        })
        .collect::<Vec<_>>()
        .join("；")
}
