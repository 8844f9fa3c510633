//! Which tenant a request is for: the `X-Tenant-Domain` header, else the `Host` header
//! without its port, else the host of the `Origin` header.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// The header a client names its tenant with.
pub const TENANT_HEADER: &str = "x-tenant-domain";

/// Where the domain came from; an explicit header is binding, the others are hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainSource {
    /// `X-Tenant-Domain`.
    Header,
    /// `Host`.
    Host,
    /// `Origin`.
    Origin,
}

/// The requested tenant domain, lower case, with its source.
#[must_use]
pub fn requested_domain(headers: &HeaderMap) -> Option<(String, DomainSource)> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    if let Some(domain) = text(TENANT_HEADER) {
        return Some((domain.to_ascii_lowercase(), DomainSource::Header));
    }
    if let Some(host) = text(HOST.as_str()) {
        return Some((strip_port(host).to_ascii_lowercase(), DomainSource::Host));
    }
    text(ORIGIN.as_str())
        .and_then(origin_host)
        .map(|host| (host, DomainSource::Origin))
}

/// The host of an origin (`https://shop.example.com:8443` -> `shop.example.com`).
#[must_use]
pub fn origin_host(origin: &str) -> Option<String> {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let host = strip_port(authority.rsplit('@').next()?);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal keeps its brackets; only a port after them goes.
        return host
            .split_once("]:")
            .map_or(host, |(address, _)| &host[..=address.len()]);
    }
    host.split(':').next().unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_explicit_header_wins_then_host_then_origin() {
        let all = headers(&[
            ("x-tenant-domain", "Tenant1.Example.com"),
            ("host", "api.example.com:8000"),
            ("origin", "https://shop.example.com"),
        ]);
        assert_eq!(
            requested_domain(&all),
            Some(("tenant1.example.com".into(), DomainSource::Header))
        );
        let no_header = headers(&[("host", "demo.localhost:8080"), ("origin", "https://x.y")]);
        assert_eq!(
            requested_domain(&no_header),
            Some(("demo.localhost".into(), DomainSource::Host))
        );
        let origin_only = headers(&[("origin", "https://shop.example.com:8443")]);
        assert_eq!(
            requested_domain(&origin_only),
            Some(("shop.example.com".into(), DomainSource::Origin))
        );
        assert_eq!(requested_domain(&HeaderMap::new()), None);
    }

    #[test]
    fn ports_and_ipv6_literals() {
        assert_eq!(strip_port("[::1]:8080"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(
            origin_host("http://localhost:3000"),
            Some("localhost".into())
        );
        assert_eq!(origin_host("null"), Some("null".into()));
    }
}
