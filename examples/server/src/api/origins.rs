//! Web origins as widget keys list them: `https://shop.example.com`, with an optional port,
//! or `https://*.example.com` for every subdomain. Compared in a canonical form: lower
//! case, no trailing slash, no default port.

/// Most origins one widget key may list.
pub const MAX_ORIGINS: usize = 32;
/// Longest origin accepted.
pub const MAX_ORIGIN_BYTES: usize = 255;

/// The canonical form of an origin, or why it is not one. `wildcard` allows `*.` before the
/// host (configured origins only).
pub fn canonical(origin: &str, wildcard: bool) -> Result<String, &'static str> {
    let text = origin.trim();
    if text.len() > MAX_ORIGIN_BYTES {
        return Err("longer than 255 bytes");
    }
    let text = text.strip_suffix('/').unwrap_or(text).to_ascii_lowercase();
    let (scheme, authority) = text
        .split_once("://")
        .ok_or("expected scheme://host[:port]")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return Err("the scheme must be http or https"),
    };
    if authority.is_empty()
        || authority
            .bytes()
            .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\') || b.is_ascii_whitespace())
    {
        return Err("an origin has no path, query, user or spaces");
    }
    let (host, port) = split_port(authority)?;
    let bare = match host.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        Some(_) => return Err("no wildcard here"),
        None => host,
    };
    if bare.is_empty() || bare.contains('*') || bare.starts_with('.') || bare.ends_with('.') {
        return Err("the host is not valid");
    }
    Ok(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// Whether a request's `Origin` is one of `allowed` (canonical forms, wildcards included).
#[must_use]
pub fn allowed(origin: &str, allowed: &[String]) -> bool {
    let Ok(origin) = canonical(origin, false) else {
        return false;
    };
    allowed.iter().any(|pattern| matches(&origin, pattern))
}

fn matches(origin: &str, pattern: &str) -> bool {
    if origin == pattern {
        return true;
    }
    let (Some((scheme, authority)), Some((pattern_scheme, pattern_authority))) =
        (origin.split_once("://"), pattern.split_once("://"))
    else {
        return false;
    };
    let Some(domain_and_port) = pattern_authority.strip_prefix("*.") else {
        return false;
    };
    let (Ok((host, port)), Ok((domain, pattern_port))) =
        (split_port(authority), split_port(domain_and_port))
    else {
        return false;
    };
    scheme == pattern_scheme
        && port == pattern_port
        && host.len() > domain.len() + 1
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// Host and port of an authority; IPv6 literals keep their brackets.
fn split_port(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    let (host, port) = if authority.starts_with('[') {
        match authority.split_once("]:") {
            Some((address, port)) => (&authority[..=address.len()], Some(port)),
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the port is not a number");
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_canonical() {
        assert_eq!(
            canonical("HTTPS://Shop.Example.com/", false).unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            canonical("https://shop.example.com:443", false).unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            canonical("http://localhost:3000", false).unwrap(),
            "http://localhost:3000"
        );
        assert!(canonical("https://shop.example.com/path", false).is_err());
        assert!(canonical("ftp://shop.example.com", false).is_err());
        assert!(canonical("null", false).is_err());
        assert!(canonical("https://*.example.com", false).is_err());
        assert_eq!(
            canonical("https://*.example.com", true).unwrap(),
            "https://*.example.com"
        );
        assert!(canonical("https://*.", true).is_err());
        assert!(canonical("https://user@evil.com", false).is_err());
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let list = vec![
            "https://*.example.com".to_owned(),
            "http://localhost:3000".to_owned(),
        ];
        assert!(allowed("https://shop.example.com", &list));
        assert!(allowed("https://a.b.example.com", &list));
        assert!(!allowed("https://example.com", &list));
        assert!(!allowed("https://evilexample.com", &list));
        assert!(!allowed("http://shop.example.com", &list));
        assert!(!allowed("https://shop.example.com:8443", &list));
        assert!(allowed("http://localhost:3000/", &list));
        assert!(!allowed("http://localhost:3001", &list));
        assert!(!allowed("null", &list));
    }
}
