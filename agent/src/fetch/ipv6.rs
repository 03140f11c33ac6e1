//! Whether a site answers over IPv6: its name's IPv6 addresses (AAAA), and a TCP connection to
//! its port on them. The national indicators ask government sites to support IPv6; a name with
//! no AAAA record, or one whose IPv6 address does not answer, is reported.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::Url;

use super::address::Class;

/// IPv6 addresses tried per site, at most.
const TRIED: usize = 2;

/// What the IPv6 probe of one site came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ipv6Probe {
    /// The site is named by an IPv4 address: there is no name to have an IPv6 address.
    NotApplicable,
    /// The name has no IPv6 address (no AAAA record), or could not be looked up in time.
    NoAddress,
    /// The first of `addresses` that accepted a connection on the site's port.
    Reachable { address: IpAddr, addresses: Vec<IpAddr> },
    /// None of `addresses` accepted a connection within the timeout; `detail` says why.
    Unreachable { addresses: Vec<IpAddr>, detail: String },
}

/// Looks up `url`'s IPv6 addresses and connects to its port on them, within `timeout` overall.
pub async fn probe(url: &Url, timeout: Duration) -> Ipv6Probe {
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(_)) | None => return Ipv6Probe::NotApplicable,
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => {
            match tokio::time::timeout(timeout, tokio::net::lookup_host((name, port))).await {
                Ok(Ok(found)) => found.map(|address| address.ip()).filter(IpAddr::is_ipv6).collect(),
                _ => Vec::new(),
            }
        }
    };
    // Never a connection to a link-local address (another machine's, on the agent's own link).
    let mut addresses: Vec<IpAddr> = addresses.into_iter().filter(|ip| Class::of(*ip) != Class::LinkLocal).collect();
    addresses.dedup();
    if addresses.is_empty() {
        return Ipv6Probe::NoAddress;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut detail = String::new();
    for address in addresses.iter().take(TRIED) {
        let connect = tokio::net::TcpStream::connect(SocketAddr::new(*address, port));
        match tokio::time::timeout_at(deadline, connect).await {
            Ok(Ok(_)) => return Ipv6Probe::Reachable { address: *address, addresses },
            Ok(Err(error)) => detail = format!("[{address}]:{port} 无法连接（{error}）"),
            Err(_) => {
                detail = format!("[{address}]:{port} 在 {} 秒内没有响应", timeout.as_secs_f64());
                break;
            }
        }
    }
    Ipv6Probe::Unreachable { addresses, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ipv6_address_answers_or_does_not() {
        let listener = tokio::net::TcpListener::bind("[::1]:0").await.expect("IPv6 loopback ([::1]) must be available");
        let port = listener.local_addr().unwrap().port();
        let open = Url::parse(&format!("http://[::1]:{port}/")).unwrap();
        assert!(matches!(probe(&open, Duration::from_secs(2)).await, Ipv6Probe::Reachable { .. }));
        drop(listener);
        match probe(&open, Duration::from_secs(2)).await {
            Ipv6Probe::Unreachable { addresses, detail } => {
                assert_eq!(addresses, ["::1".parse::<IpAddr>().unwrap()]);
                assert!(detail.contains("无法连接"), "{detail}");
            }
            other => panic!("a closed port answered: {other:?}"),
        }
        let v4 = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(probe(&v4, Duration::from_secs(1)).await, Ipv6Probe::NotApplicable);
        let link_local = Url::parse("http://[fe80::1]/").unwrap();
        assert_eq!(probe(&link_local, Duration::from_secs(1)).await, Ipv6Probe::NoAddress);
    }
}
