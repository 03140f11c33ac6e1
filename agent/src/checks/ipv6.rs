//! IPv6 (the national indicators ask government sites to support it): the site's name has an
//! IPv6 address (AAAA) that accepts a connection on its port ([`crate::fetch::ipv6`]). A
//! warning, in the home page's audit; a site named by an IPv4 address is not asked.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Ipv6Status, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::fetch::ipv6::{Ipv6Probe, probe};

pub struct Ipv6;

impl Check for Ipv6 {
    fn kind(&self) -> CheckKind {
        CheckKind::Ipv6
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { ipv6: true, .. })
    }

    fn run<'a>(&'a self, _cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let host = subject.url.host_str().unwrap_or("").to_string();
            let (status, problem) = match probe(&subject.url, subject.timeout).await {
                Ipv6Probe::NotApplicable => return,
                Ipv6Probe::NoAddress => (
                    Ipv6Status { addresses: Vec::new(), reachable: false },
                    Some(format!("网站域名 {host} 没有 IPv6 地址（AAAA 记录），不支持 IPv6 访问")),
                ),
                Ipv6Probe::Reachable { addresses, .. } => (
                    Ipv6Status { addresses: addresses.iter().map(ToString::to_string).collect(), reachable: true },
                    None,
                ),
                Ipv6Probe::Unreachable { addresses, detail } => (
                    Ipv6Status { addresses: addresses.iter().map(ToString::to_string).collect(), reachable: false },
                    Some(format!("网站域名 {host} 有 IPv6 地址，但无法通过 IPv6 访问：{detail}")),
                ),
            };
            if let Some(detail) = problem {
                observation.findings.push(Finding::new(FindingCode::Ipv6Unreachable, Severity::Warning, detail));
            }
            observation.audit.get_or_insert_default().ipv6 = Some(status);
        })
    }
}
