//! JSON Web Tokens, HS256 only.
//!
//! Two kinds are accepted:
//! - the server's own, signed with its signing key: staff access tokens from login
//!   (`aud` = `switchboard-staff`) and visitor tokens from widget init
//!   (`aud` = `switchboard-visitor`), both with `iss` = `switchboard` and the tenant in `tid`;
//! - ERP user tokens, signed with the tenant's own secret, naming the user by `email` or
//!   `sub` and optionally `name`; `aud` and `iss` are checked when the tenant sets them.
//!
//! Every other algorithm, `none` included, is refused before any key is tried, so a token
//! cannot choose how it is verified.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::directory::ErpTokens;
use crate::error::ApiError;

/// `iss` of the server's tokens.
pub const ISSUER: &str = "switchboard";
/// `aud` of staff access tokens.
pub const STAFF_AUDIENCE: &str = "switchboard-staff";
/// `aud` of visitor tokens.
pub const VISITOR_AUDIENCE: &str = "switchboard-visitor";
/// How far apart the ERP's clock and ours may be (the JWT library's leeway for `exp` and
/// `nbf`, and ours for `iat`).
pub const CLOCK_LEEWAY_SECONDS: i64 = 60;
/// The longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Claims of the server's own tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerClaims {
    /// `switchboard`.
    pub iss: String,
    /// Staff or visitor audience.
    pub aud: String,
    /// Agent id or visitor id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Issued at (milliseconds), compared with a forced logout and the staff member's
    /// last password change.
    #[serde(default)]
    pub iat_ms: i64,
    /// The origin a visitor token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl ServerClaims {
    /// A staff access token for `agent_id` of `tenant_id`, issued at `now` and valid for
    /// `ttl_seconds`.
    #[must_use]
    pub fn staff(tenant_id: &str, agent_id: &str, now: jiff::Timestamp, ttl_seconds: i64) -> Self {
        ServerClaims {
            iss: ISSUER.to_owned(),
            aud: STAFF_AUDIENCE.to_owned(),
            sub: agent_id.to_owned(),
            tid: tenant_id.to_owned(),
            iat: now.as_second(),
            exp: now.as_second() + ttl_seconds,
            iat_ms: now.as_millisecond(),
            origin: None,
        }
    }
}

/// Claims of an ERP user token (seed format: `sub`, `email`, `name`, `role`, `exp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErpClaims {
    /// Subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// E-mail (preferred as the user's account).
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `agent`, `supervisor`, `admin`... : staff single sign-on when that staff member exists.
    #[serde(default)]
    pub role: Option<String>,
    /// Expiry (seconds); required.
    pub exp: i64,
    /// Issued at (seconds, possibly with a fraction). A staff single sign-on token issued
    /// before a forced logout is refused; one without `iat` cannot show it came after, so
    /// it is refused once any forced logout happened.
    #[serde(default)]
    pub iat: Option<f64>,
}

impl ErpClaims {
    /// When the token was issued, in whole seconds (0 when it does not say).
    #[must_use]
    pub fn issued_at_seconds(&self) -> i64 {
        // `as` saturates: an absurd value cannot wrap around.
        self.iat.map_or(0, |seconds| seconds.floor() as i64)
    }

    /// The user's account: `email`, else `sub`.
    #[must_use]
    pub fn account(&self) -> Option<&str> {
        self.email
            .as_deref()
            .or(self.sub.as_deref())
            .map(str::trim)
            .filter(|account| !account.is_empty())
    }
}

/// The server's signing key.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    /// A key from secret bytes.
    #[must_use]
    pub fn new(secret: &[u8]) -> Self {
        SigningKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// Signs server claims.
    pub fn sign(&self, claims: &ServerClaims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(
            |error| {
                tracing::error!(error = %error, "signing a token failed");
                ApiError::internal()
            },
        )
    }

    /// Verifies one of the server's tokens. `Ok(None)`: the signature is not ours (it may
    /// be an ERP token).
    pub fn verify(&self, token: &str) -> Result<Option<ServerClaims>, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[STAFF_AUDIENCE, VISITOR_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        match jsonwebtoken::decode::<ServerClaims>(token, &self.decoding, &validation) {
            Ok(data) => Ok(Some(data.claims)),
            Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => Ok(None),
            Err(error) => Err(refusal(error.kind())),
        }
    }
}

/// Checks the token's header before any key: HS256 only.
pub fn check_algorithm(token: &str) -> Result<(), ApiError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "the token is too long",
        ));
    }
    match jsonwebtoken::decode_header(token) {
        Ok(header) if header.alg == Algorithm::HS256 => Ok(()),
        Ok(header) => Err(ApiError::unauthorized(
            "invalid_token",
            format!("algorithm {:?} is not accepted", header.alg),
        )),
        Err(_) => Err(ApiError::unauthorized(
            "invalid_token",
            "the token is malformed or its algorithm is not accepted",
        )),
    }
}

/// Verifies an ERP user token with the tenant's settings.
pub fn verify_erp(token: &str, settings: &ErpTokens) -> Result<ErpClaims, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // A claim the tenant configured must be present, not only right when present: a
    // token without it would otherwise pass the check it was meant to meet.
    let mut required = vec!["exp"];
    match &settings.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    if let Some(issuer) = &settings.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    validation.set_required_spec_claims(&required);
    // A token not yet valid is refused like an expired one (with the same leeway).
    validation.validate_nbf = true;
    validation.leeway = CLOCK_LEEWAY_SECONDS as u64;
    let key = DecodingKey::from_secret(settings.secret.as_bytes());
    let claims = jsonwebtoken::decode::<ErpClaims>(token, &key, &validation)
        .map_err(|error| refusal(error.kind()))?
        .claims;
    if claims.account().is_none() {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "the token names no user (email or sub)",
        ));
    }
    Ok(claims)
}

fn refusal(kind: &ErrorKind) -> ApiError {
    match kind {
        ErrorKind::ExpiredSignature => {
            ApiError::unauthorized("token_expired", "the token has expired")
        }
        ErrorKind::InvalidSignature => {
            ApiError::unauthorized("invalid_token", "the token's signature does not verify")
        }
        ErrorKind::InvalidAudience => {
            ApiError::unauthorized("invalid_token", "the token's audience is not accepted")
        }
        ErrorKind::InvalidIssuer => {
            ApiError::unauthorized("invalid_token", "the token's issuer is not accepted")
        }
        ErrorKind::ImmatureSignature => {
            ApiError::unauthorized("invalid_token", "the token is not valid yet (nbf)")
        }
        ErrorKind::MissingRequiredClaim(claim) => ApiError::unauthorized(
            "invalid_token",
            format!("the token lacks the {claim} claim"),
        ),
        _ => ApiError::unauthorized("invalid_token", "the token is not valid"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &str = "an-erp-secret-of-some-length";

    fn sign(claims: Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn settings(audience: Option<&str>, issuer: Option<&str>) -> ErpTokens {
        ErpTokens {
            secret: SECRET.to_owned(),
            audience: audience.map(str::to_owned),
            issuer: issuer.map(str::to_owned),
        }
    }

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    /// The message of a refusal, or "accepted".
    fn outcome(claims: Value, settings: &ErpTokens) -> String {
        match verify_erp(&sign(claims), settings) {
            Ok(_) => "accepted".to_owned(),
            Err(error) => {
                assert_eq!(error.status, 401);
                error.message
            }
        }
    }

    #[test]
    fn a_configured_audience_and_issuer_must_be_present_and_right() {
        let strict = settings(Some("erp-aud"), Some("erp-iss"));
        let exp = now() + 600;
        let cases = [
            (
                json!({"sub": "u", "exp": exp, "aud": "erp-aud", "iss": "erp-iss"}),
                "accepted",
            ),
            (
                json!({"sub": "u", "exp": exp, "iss": "erp-iss"}),
                "lacks the aud claim",
            ),
            (
                json!({"sub": "u", "exp": exp, "aud": "erp-aud"}),
                "lacks the iss claim",
            ),
            (json!({"sub": "u", "exp": exp}), "lacks the"),
            (
                json!({"sub": "u", "exp": exp, "aud": "other", "iss": "erp-iss"}),
                "audience",
            ),
            (
                json!({"sub": "u", "exp": exp, "aud": "erp-aud", "iss": "other"}),
                "issuer",
            ),
        ];
        for (claims, expected) in cases {
            let got = outcome(claims.clone(), &strict);
            assert!(got.contains(expected), "{claims}: {got}");
        }
        // Without configured values, the seed's tokens (neither claim) pass.
        assert_eq!(
            outcome(json!({"sub": "u", "exp": exp}), &settings(None, None)),
            "accepted"
        );
    }

    #[test]
    fn a_token_not_yet_valid_is_refused_beyond_the_leeway() {
        let open = settings(None, None);
        let exp = now() + 7_200;
        let later = outcome(json!({"sub": "u", "exp": exp, "nbf": now() + 3_600}), &open);
        assert!(later.contains("not valid yet"), "{later}");
        let skewed = outcome(json!({"sub": "u", "exp": exp, "nbf": now() + 10}), &open);
        assert_eq!(skewed, "accepted", "within the clocks' leeway");
    }

    #[test]
    fn the_issue_time_reads_in_whole_seconds_and_defaults_to_the_epoch() {
        let claims = |iat: Option<f64>| ErpClaims {
            sub: Some("u".into()),
            email: None,
            name: None,
            role: None,
            exp: 0,
            iat,
        };
        assert_eq!(
            claims(Some(1_700_000_000.0)).issued_at_seconds(),
            1_700_000_000
        );
        assert_eq!(
            claims(Some(1_700_000_000.9)).issued_at_seconds(),
            1_700_000_000
        );
        assert_eq!(claims(None).issued_at_seconds(), 0);
        assert_eq!(claims(Some(1e300)).issued_at_seconds(), i64::MAX);
        // A fractional iat is a valid claim, for end users' tokens too.
        let token = sign(json!({"sub": "u", "exp": now() + 60, "iat": now() as f64 + 0.25}));
        assert!(verify_erp(&token, &settings(None, None)).is_ok());
    }
}
