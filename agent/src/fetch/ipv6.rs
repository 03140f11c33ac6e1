//! Whether a site answers over IPv6: its name's IPv6 addresses (AAAA), and a TCP connection to
//! its port on them. The national indicators ask government sites to support IPv6; a name with
//! no AAAA record, or one whose IPv6 address does not answer, is reported.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::Url;

use super::address::Class;

/// IPv6 addresses tried per site, at most.
const TRIED: usize = 2;
/// IPv6 addresses reported per site, at most.
const MAX_ADDRESSES: usize = 8;
/// Linux's errno for "no route to that network" and "no address to send from".
const ENETUNREACH: i32 = 101;
const EADDRNOTAVAIL: i32 = 99;

/// Whether `ip` is an IPv6 address of its own: not link-local, not an IPv4 one written as IPv6.
fn native_ipv6(ip: IpAddr) -> bool {
    let IpAddr::V6(v6) = ip else { return false };
    let nat64 = v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    Class::of(ip) != Class::LinkLocal && v6.to_ipv4_mapped().is_none() && !nat64
}

/// What the IPv6 probe of one site came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ipv6Probe {
    /// Nothing to say: the site is named by an IPv4 address (there is no name to have an IPv6
    /// address), its name could not be looked up (the availability check says so), or this
    /// agent's own network has no IPv6 route to try with.
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
                _ => return Ipv6Probe::NotApplicable,
            }
        }
    };
    // Never a connection to a link-local address (another machine's, on the agent's own link);
    // an IPv4 address written as IPv6 (::ffff:a.b.c.d, or NAT64's 64:ff9b::/96 that a resolver
    // makes up for IPv4-only names) is no IPv6 support of the site's.
    let mut addresses: Vec<IpAddr> = addresses.into_iter().filter(|ip| native_ipv6(*ip)).collect();
    addresses.dedup();
    addresses.truncate(MAX_ADDRESSES);
    if addresses.is_empty() {
        return Ipv6Probe::NoAddress;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut detail = String::new();
    for address in addresses.iter().take(TRIED) {
        let connect = tokio::net::TcpStream::connect(SocketAddr::new(*address, port));
        match tokio::time::timeout_at(deadline, connect).await {
            Ok(Ok(_)) => return Ipv6Probe::Reachable { address: *address, addresses },
            // The agent's own network cannot reach IPv6 at all: nothing is known of the site.
            Ok(Err(error)) if matches!(error.raw_os_error(), Some(ENETUNREACH | EADDRNOTAVAIL)) => {
                return Ipv6Probe::NotApplicable;
            }
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
        for not_native in ["http://[fe80::1]/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/"] {
            let url = Url::parse(not_native).unwrap();
            assert_eq!(probe(&url, Duration::from_secs(1)).await, Ipv6Probe::NoAddress, "{not_native}");
        }
    }
}
