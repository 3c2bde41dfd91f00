//! Where a request comes from. The peer address, unless the peer is a proxy the
//! operator trusts: then `X-Forwarded-For` is read from the right, skipping trusted
//! proxies, and the first address that is not one is the client. From anyone else the
//! header is ignored, so a client cannot choose the address its failures are charged to.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// An address or a CIDR range of proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    net: IpAddr,
    prefix: u8,
}

impl FromStr for TrustedProxy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr.trim().parse().map_err(|_| format!("`{s}` is not an IP address or CIDR range"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { net, prefix })
    }
}

impl TrustedProxy {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> Option<u128> {
            match (self.net, ip) {
                (IpAddr::V4(_), IpAddr::V4(a)) => Some(u128::from(u32::from(a)) << 96),
                (IpAddr::V6(_), IpAddr::V6(a)) => Some(u128::from(a)),
                (IpAddr::V4(_), IpAddr::V6(a)) => a.to_ipv4_mapped().map(|a| u128::from(u32::from(a)) << 96),
                (IpAddr::V6(_), IpAddr::V4(_)) => None,
            }
        };
        let (Some(net), Some(ip)) = (bits(self.net), bits(ip)) else { return false };
        // IPv4 addresses sit in the top 32 bits, so the prefix counts from the top either way.
        let prefix = u32::from(self.prefix);
        if prefix == 0 {
            return true;
        }
        let mask = u128::MAX.checked_shl(128 - prefix.min(128)).unwrap_or(0);
        net & mask == ip & mask
    }
}

/// The client's address, as resolved for this request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The client of a request from `peer` that carried these `X-Forwarded-For` values.
pub fn resolve<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Middleware: puts the resolved [`ClientAddr`] into the request's extensions.
pub async fn client_addr(State(trusted): State<Arc<Vec<TrustedProxy>>>, mut req: Request, next: Next) -> Response {
    if let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) {
        let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let client = resolve(peer, forwarded, &trusted);
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<TrustedProxy> = ["10.0.0.0/8", "::1", "fd00::/8"].iter().map(|s| s.parse().unwrap()).collect();
        // From an untrusted peer the header is ignored.
        assert_eq!(resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &trusted), ip("203.0.113.9"));
        // Through one trusted proxy.
        assert_eq!(resolve(ip("10.1.2.3"), ["198.51.100.7"].into_iter(), &trusted), ip("198.51.100.7"));
        // A client cannot push an address in front: the rightmost untrusted hop wins.
        assert_eq!(
            resolve(ip("10.1.2.3"), ["6.6.6.6, 198.51.100.7, 10.9.9.9"].into_iter(), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(resolve(ip("10.1.2.3"), ["6.6.6.6", "198.51.100.7"].into_iter(), &trusted), ip("198.51.100.7"));
        // Garbage stops the walk at the last good hop; no header: the proxy itself.
        assert_eq!(resolve(ip("10.1.2.3"), ["not-an-ip"].into_iter(), &trusted), ip("10.1.2.3"));
        assert_eq!(resolve(ip("10.1.2.3"), std::iter::empty(), &trusted), ip("10.1.2.3"));
        assert_eq!(resolve(ip("::1"), ["2001:db8::5"].into_iter(), &trusted), ip("2001:db8::5"));
        // Nothing trusted: never believed.
        assert_eq!(resolve(ip("10.1.2.3"), ["1.2.3.4"].into_iter(), &[]), ip("10.1.2.3"));
    }

    #[test]
    fn ranges_parse_and_match() {
        let r: TrustedProxy = "192.168.0.0/16".parse().unwrap();
        assert!(r.contains(ip("192.168.44.1")) && !r.contains(ip("192.169.0.1")));
        assert!(r.contains(ip("::ffff:192.168.1.1")), "IPv4-mapped addresses are the IPv4 address");
        let all: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("2001:db8::1")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/", "::/129"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }
}
