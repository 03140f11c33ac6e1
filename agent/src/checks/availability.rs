//! 站点无法访问: is the home page open within the timeout, with what status, certificate and
//! redirects. One probe is one sample of the indicator's 7-day failure ratio (≥ 5 % → veto);
//! the ratio itself is computed where the samples are kept.

use xunjian_shared::wire::{CheckKind, FetchFailure, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Subject};

pub struct Availability;

impl Check for Availability {
    fn kind(&self) -> CheckKind {
        CheckKind::Availability
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_home()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let fetched = cx.page(&subject.url, subject.timeout).await;
            let record = &fetched.record;
            if let Some(failure) = record.failure {
                let detail = fetched.failure_detail.clone().unwrap_or_default();
                observation.findings.push(Finding::new(
                    FindingCode::SiteUnreachable,
                    Severity::Error,
                    format!("首页无法访问：{}（{detail}）", failure.label_zh()),
                ));
                if failure == FetchFailure::Tls {
                    let expiry = record
                        .tls_not_after
                        .map(|not_after| format!("，证书有效期至 {}", not_after.strftime("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default();
                    observation.findings.push(Finding::new(
                        FindingCode::TlsCertificateInvalid,
                        Severity::Error,
                        format!("HTTPS 证书未通过校验{expiry}：{detail}"),
                    ));
                }
            } else if let Some(status) = record.status.filter(|status| *status >= 400) {
                observation.findings.push(Finding::new(
                    FindingCode::HttpError,
                    Severity::Error,
                    format!("首页返回 HTTP {status}，访问者看到的是错误页"),
                ));
            }
            if record.failure != Some(FetchFailure::Tls)
                && let Some(not_after) = record.tls_not_after
            {
                let days_left = (not_after.as_second() - cx.now.as_second()).div_euclid(86_400);
                if days_left < 0 {
                    observation.findings.push(Finding::new(
                        FindingCode::TlsCertificateInvalid,
                        Severity::Error,
                        format!("HTTPS 证书已于 {} 过期", not_after.strftime("%Y-%m-%d")),
                    ));
                } else if days_left <= i64::from(cx.thresholds.tls_expiry_warning_days) {
                    observation.findings.push(Finding::new(
                        FindingCode::TlsCertificateExpiring,
                        Severity::Warning,
                        format!(
                            "HTTPS 证书将于 {} 到期（剩余 {days_left} 天），请及时更换",
                            not_after.strftime("%Y-%m-%d")
                        ),
                    ));
                }
            }
            observation.fetch = Some(record.clone());
        })
    }
}
