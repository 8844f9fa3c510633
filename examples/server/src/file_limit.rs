//! The process's open-file limit, which bounds how many connections the server can hold:
//! every socket is a file. Past the limit the kernel refuses `accept`, and the server can
//! answer nobody, not even `/healthz`; a connection cap below the limit turns that into a
//! clear 503 for the extra WebSocket connections while REST and health checks go on.

/// Files kept for everything but WebSocket connections: the database and its readers,
/// the listener, REST requests, and outgoing pushes, webhooks and e-mails.
pub const RESERVED_FILES: u64 = 512;

/// The connection cap when the open-file limit cannot be read (or is unlimited).
pub const FALLBACK_MAX_CONNECTIONS: usize = 50_000;

/// Raises the soft open-file limit to the hard one, as servers holding many sockets do
/// (the soft limit is often 1,024 while the hard one is far higher); returns the limit now
/// in force, or `None` when there is none or it cannot be read.
#[must_use]
pub fn raise_to_hard_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
            && current < maximum
        {
            let raised = Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            if let Err(error) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(%error, "the open-file limit could not be raised");
            }
        }
        current_limit()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The soft open-file limit in force, or `None` when there is none or it cannot be read.
#[must_use]
pub fn current_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The WebSocket connection cap for the limit in force (see [`max_connections`]), logged,
/// with a warning when it leaves fewer than [`RESERVED_FILES`] files for the rest.
#[must_use]
pub fn connection_cap(configured: Option<usize>) -> usize {
    let file_limit = current_limit();
    let cap = max_connections(configured, file_limit);
    if let Some(limit) = file_limit
        && u64::try_from(cap).is_ok_and(|cap| cap > limit.saturating_sub(RESERVED_FILES))
    {
        tracing::warn!(
            max_connections = cap,
            file_limit = limit,
            "--max-connections leaves fewer than 512 files of the open-file limit for the database and REST: near it, the server stops accepting until connections close"
        );
    }
    tracing::info!(
        max_connections = cap,
        file_limit,
        "WebSocket connections capped"
    );
    cap
}

/// The WebSocket connection cap: the one configured, else the open-file limit less
/// [`RESERVED_FILES`] (at most half of a small limit).
#[must_use]
pub fn max_connections(configured: Option<usize>, file_limit: Option<u64>) -> usize {
    if let Some(configured) = configured {
        return configured;
    }
    match file_limit {
        Some(limit) => {
            let reserve = RESERVED_FILES.min(limit / 2);
            usize::try_from(limit - reserve).unwrap_or(FALLBACK_MAX_CONNECTIONS)
        }
        None => FALLBACK_MAX_CONNECTIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_files_for_everything_else() {
        assert_eq!(max_connections(None, Some(20_000)), 19_488);
        assert_eq!(max_connections(None, Some(1_024)), 512);
        assert_eq!(max_connections(None, Some(256)), 128);
        assert_eq!(max_connections(None, None), FALLBACK_MAX_CONNECTIONS);
    }

    #[test]
    fn a_configured_cap_is_kept() {
        assert_eq!(max_connections(Some(100), Some(20_000)), 100);
        assert_eq!(max_connections(Some(30_000), Some(20_000)), 30_000);
    }

    #[cfg(unix)]
    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let raised = raise_to_hard_limit();
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
        if hard.is_some() {
            assert_eq!(raised, hard);
            assert_eq!(current_limit(), hard);
        }
    }
}
