//! Rate limits (GCRA from `governor`): per client IP on REST, per tenant on REST and
//! WebSocket commands, per WebSocket connection on its commands. A limit of 0 disables it.
//! Visitors' transcript e-mails have a fixed limit per chat of their own.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::StatusCode;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// The server's keyed limiters.
pub struct RateLimits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_tenant: Option<DefaultKeyedRateLimiter<String>>,
    per_socket: Option<NonZeroU32>,
    transcript_mails: DefaultKeyedRateLimiter<(String, String)>,
    offline_messages: DefaultKeyedRateLimiter<(String, String)>,
}

/// Mails to an address a visitor typed and nobody confirmed (a chat's transcript, the
/// confirmation of a message left) allowed at once per key...
const UNCONFIRMED_MAILS_BURST: u32 = 3;
/// ...and how often one more after that. Without a limit the server's mail could be
/// turned on a stranger (and each message left is a ticket the server holds).
const UNCONFIRMED_MAIL_PERIOD: Duration = Duration::from_secs(20 * 60);

impl RateLimits {
    /// Limits of `per_ip`, `per_tenant` and `per_socket` events per second, each with a
    /// burst of twice its rate.
    #[must_use]
    pub fn new(per_ip: u32, per_tenant: u32, per_socket: u32) -> Self {
        RateLimits {
            per_ip: quota(per_ip).map(RateLimiter::keyed),
            per_tenant: quota(per_tenant).map(RateLimiter::keyed),
            per_socket: NonZeroU32::new(per_socket),
            transcript_mails: unconfirmed_mails(),
            offline_messages: unconfirmed_mails(),
        }
    }

    /// Counts a "leave a message" request, against the caller and against the address it
    /// names (lower-cased): a new visitor id does not reset the address's count.
    pub fn check_offline_message(
        &self,
        tenant_id: &str,
        caller_id: &str,
        email: &str,
    ) -> Result<(), ApiError> {
        let keys = [
            (tenant_id.to_owned(), format!("caller:{caller_id}")),
            (
                tenant_id.to_owned(),
                format!("email:{}", email.to_lowercase()),
            ),
        ];
        // The caller's count first: a caller refused for the address spends its own too.
        if keys
            .iter()
            .any(|key| self.offline_messages.check_key(key).is_err())
        {
            return Err(mails_limited(
                "several messages were left from here or for this address already",
            ));
        }
        Ok(())
    }

    /// Counts a visitor's request to e-mail a chat's transcript.
    pub fn check_transcript_mail(&self, tenant_id: &str, session_id: &str) -> Result<(), ApiError> {
        let key = (tenant_id.to_owned(), session_id.to_owned());
        if self.transcript_mails.check_key(&key).is_err() {
            return Err(mails_limited(
                "this chat's transcript was e-mailed several times already",
            ));
        }
        Ok(())
    }

    /// Counts a REST request from `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        match &self.per_ip {
            Some(limiter) if limiter.check_key(&ip).is_err() => Err(too_many("client")),
            _ => Ok(()),
        }
    }

    /// Counts a request or command in a tenant.
    pub fn check_tenant(&self, tenant_id: &str) -> Result<(), ApiError> {
        match &self.per_tenant {
            Some(limiter) if limiter.check_key(&tenant_id.to_owned()).is_err() => {
                Err(too_many("tenant"))
            }
            _ => Ok(()),
        }
    }

    /// A limiter for one WebSocket connection's commands.
    #[must_use]
    pub fn socket_limiter(&self) -> Option<DefaultDirectRateLimiter> {
        self.per_socket
            .and_then(|rate| quota(rate.get()))
            .map(RateLimiter::direct)
    }

    /// Drops state of keys that have refilled (call now and then).
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
        }
        if let Some(limiter) = &self.per_tenant {
            limiter.retain_recent();
        }
        self.transcript_mails.retain_recent();
        self.offline_messages.retain_recent();
    }
}

fn unconfirmed_mails() -> DefaultKeyedRateLimiter<(String, String)> {
    RateLimiter::keyed(
        Quota::with_period(UNCONFIRMED_MAIL_PERIOD)
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(UNCONFIRMED_MAILS_BURST).expect("non-zero")),
    )
}

fn mails_limited(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("{what}; try again later"),
    )
}

fn quota(per_second: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

/// The 429 answer.
pub fn too_many(scope: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests for this {scope}; slow down"),
    )
}
