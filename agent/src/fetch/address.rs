//! Where a fetch may go: the class of an address (public, private, loopback, link-local) and
//! which redirects between classes are taken.
//!
//! A county's agent sits inside the county's network. A monitored public site (hostile, or
//! hijacked) that redirects into `10.x`, `192.168.x` or `127.0.0.1` would make the agent read
//! internal pages and send link checks there; one that redirects to `169.254.169.254` would
//! reach cloud metadata. So a redirect from a public address into any other class is refused
//! (a finding), unless the configuration says the site is an intranet one; link-local
//! addresses are reached only from link-local sites, and link checks never reach them.

use std::net::IpAddr;

use url::Url;

/// The kinds of address a redirect is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Public,
    /// RFC 1918, carrier-grade NAT (100.64/10), IPv6 unique local (fc00::/7), "this network".
    Private,
    Loopback,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
}

impl Class {
    pub fn of(ip: IpAddr) -> Class {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                if v4.is_loopback() {
                    Class::Loopback
                } else if v4.is_link_local() {
                    Class::LinkLocal
                } else if v4.is_private() || v4.is_unspecified() || a == 0 || (a == 100 && (64..128).contains(&b)) {
                    Class::Private
                } else {
                    Class::Public
                }
            }
            IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return Class::of(IpAddr::V4(v4));
                }
                let first = v6.segments()[0];
                if v6.is_loopback() {
                    Class::Loopback
                } else if first & 0xffc0 == 0xfe80 {
                    Class::LinkLocal
                } else if first & 0xfe00 == 0xfc00 || v6.is_unspecified() {
                    Class::Private
                } else {
                    Class::Public
                }
            }
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Class::Public => "公网",
            Class::Private => "内网",
            Class::Loopback => "本机",
            Class::LinkLocal => "链路本地",
        }
    }
}

/// Whether a redirect from an address of class `from` may lead to one of class `to`.
pub fn hop_allowed(from: Class, to: Class, allow_private_redirects: bool) -> bool {
    match to {
        Class::Public => true,
        Class::LinkLocal => from == Class::LinkLocal,
        Class::Private | Class::Loopback => from != Class::Public || allow_private_redirects,
    }
}

/// The classes of every address `url`'s host stands for (none when it does not resolve: the
/// fetch then fails as DNS, which is its own finding).
pub async fn classes(url: &Url) -> Vec<Class> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![Class::of(IpAddr::V4(ip))],
        Some(url::Host::Ipv6(ip)) => vec![Class::of(IpAddr::V6(ip))],
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(80);
            match tokio::net::lookup_host((name, port)).await {
                Ok(addresses) => addresses.map(|address| Class::of(address.ip())).collect(),
                Err(_) => Vec::new(),
            }
        }
        None => Vec::new(),
    }
}

/// Whether `url` names a link-local address literally.
pub fn is_link_local_literal(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => Class::of(IpAddr::V4(ip)) == Class::LinkLocal,
        Some(url::Host::Ipv6(ip)) => Class::of(IpAddr::V6(ip)) == Class::LinkLocal,
        _ => false,
    }
}

/// Name resolution for every fetch: never to a link-local address, and with `public_only`
/// (the hops of a public site) to public addresses only. The connection goes where this says,
/// so a name cannot answer one address to a check and another to the connection.
pub struct Resolver {
    pub public_only: bool,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let public_only = self.public_only;
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|address| match Class::of(address.ip()) {
                    Class::Public => true,
                    Class::LinkLocal => false,
                    Class::Private | Class::Loopback => !public_only,
                })
                .collect();
            if found.is_empty() {
                return Err(format!("{} has no address this fetch may use", name.as_str()).into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Class {
        Class::of(text.parse().unwrap())
    }

    #[test]
    fn addresses_fall_into_their_classes() {
        for (ip, expected) in [
            ("8.8.8.8", Class::Public),
            ("203.0.113.7", Class::Public),
            ("10.1.2.3", Class::Private),
            ("172.16.0.1", Class::Private),
            ("172.32.0.1", Class::Public),
            ("192.168.1.1", Class::Private),
            ("100.64.0.1", Class::Private),
            ("0.0.0.0", Class::Private),
            ("127.0.0.2", Class::Loopback),
            ("169.254.169.254", Class::LinkLocal),
            ("::1", Class::Loopback),
            ("fe80::1", Class::LinkLocal),
            ("fd00::1", Class::Private),
            ("::ffff:10.0.0.1", Class::Private),
            ("2001:db8::1", Class::Public),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn public_sites_cannot_redirect_inward() {
        use Class::*;
        assert!(!hop_allowed(Public, Private, false));
        assert!(!hop_allowed(Public, Loopback, false));
        assert!(!hop_allowed(Public, LinkLocal, true), "link-local never, even when allowed");
        assert!(hop_allowed(Public, Private, true));
        assert!(hop_allowed(Private, Loopback, false), "an intranet site may move within");
        assert!(!hop_allowed(Loopback, LinkLocal, false));
        assert!(hop_allowed(Private, Public, false));
        assert!(hop_allowed(LinkLocal, LinkLocal, false));
    }
}
