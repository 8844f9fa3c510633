//! Where a tenant's webhooks may point. A tenant administrator chooses the URL and reads
//! each attempt's outcome in the delivery log, so a webhook to the server's own network
//! (loopback, private ranges, link-local cloud metadata) would let them probe it. Unless
//! the operator allows private targets (`--webhook-private-targets`, for an ERP on the
//! same network), only public addresses are reached: a literal address is checked in the
//! URL, and a host name through a resolver that drops every other address it resolves to,
//! so a name cannot be pointed inward after it was registered. Behind the system's HTTP
//! proxy the proxy resolves names, and its own policy decides for them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is reachable on the public internet (not loopback, private, link-local,
/// shared, documentation, reserved, multicast or unspecified). An IPv6 address that
/// carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by the IPv4 address.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // "This network", shared address space (carrier NAT), IETF protocol assignments
        // (some clouds' metadata), benchmarking, reserved.
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) or 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = ip.segments();
    let last = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    match segments {
        // Compatible, but not :: and ::1 (IPv6's own unspecified and loopback).
        [0, 0, 0, 0, 0, 0, high, low] if high != 0 => Some(last(high, low)),
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(last(high, low)),
        [0x64, 0xff9b, 1, ..] => Some(last(segments[6], segments[7])),
        [0x2002, high, low, ..] => Some(last(high, low)),
        _ => None,
    }
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Site-local (deprecated), discard-only, Teredo, documentation.
        || (first & 0xffc0) == 0xfec0
        || (first == 0x0100 && second == 0 && ip.segments()[2] == 0 && ip.segments()[3] == 0)
        || (first == 0x2001 && second == 0)
        || (first == 0x2001 && second == 0x0db8))
}

/// Why `url` may not be reached, when its host is a literal address that is not public.
/// Host names are checked when they are resolved ([`PublicOnly`]).
#[must_use]
pub fn refused_literal(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let ip: IpAddr = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    (!is_public(ip)).then(|| format!("{ip} is not a public address"))
}

/// Whether the environment names an HTTP proxy, which the webhook client then uses.
#[must_use]
pub fn system_proxy_configured() -> bool {
    ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
        .iter()
        .any(|name| {
            [name.to_string(), name.to_lowercase()]
                .iter()
                .any(|variable| std::env::var_os(variable).is_some_and(|value| !value.is_empty()))
        })
}

/// A host name with no public address (or none at all): the resolver's refusal, found again in the
/// request's error by [`not_public`].
#[derive(Debug)]
pub struct NotPublic(String);

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} has no public address to connect to", self.0)
    }
}

impl std::error::Error for NotPublic {}

/// The resolver's refusal behind a failed request, if that is why it failed.
#[must_use]
pub fn not_public<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a NotPublic> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(refusal) = error.downcast_ref::<NotPublic>() {
            return Some(refusal);
        }
        cause = error.source();
    }
    None
}

/// A resolver that answers only a host name's public addresses, and fails for a name that
/// has none.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // A name that does not resolve reads the same as one that resolves inward:
            // the delivery log must not tell which internal names exist.
            let resolved: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await
            {
                Ok(addresses) => addresses.collect(),
                Err(_) => Vec::new(),
            };
            let public: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic(host)) as _);
            }
            let addresses: Addrs = Box::new(public.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inward_addresses_are_not_public_and_outward_ones_are() {
        for inward in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.7",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "64:ff9b::a00:5",
            "64:ff9b:1::a00:5",
            "2002:7f00:1::",
            "2001::1",
            "fec0::1",
            "100::1",
            "192.0.0.192",
        ] {
            assert!(!is_public(inward.parse().unwrap()), "{inward}");
        }
        for outward in [
            "93.184.216.34",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860::8888",
        ] {
            assert!(is_public(outward.parse().unwrap()), "{outward}");
        }
    }

    #[test]
    fn literal_addresses_in_urls_are_checked_and_names_left_to_the_resolver() {
        let refused = |url: &str| refused_literal(&reqwest::Url::parse(url).unwrap());
        assert!(refused("http://127.0.0.1:8080/hook").is_some());
        assert!(refused("http://[::1]/hook").is_some());
        assert!(refused("http://169.254.169.254/latest").is_some());
        assert!(refused("https://93.184.216.34/hook").is_none());
        assert!(
            refused("http://localhost/hook").is_none(),
            "a name: resolved later"
        );
    }

    #[tokio::test]
    async fn a_name_that_resolves_only_inward_is_refused() {
        let name: Name = "localhost".parse().unwrap();
        let error = match PublicOnly.resolve(name).await {
            Ok(addresses) => panic!("resolved to {:?}", addresses.collect::<Vec<_>>()),
            Err(error) => error.to_string(),
        };
        assert!(error.contains("no public address"), "{error}");
        let unknown: Name = "no-such-host.invalid".parse().unwrap();
        let error = match PublicOnly.resolve(unknown).await {
            Ok(addresses) => panic!("resolved to {:?}", addresses.collect::<Vec<_>>()),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains("no public address"),
            "read the same as an inward name: {error}"
        );
    }
}
