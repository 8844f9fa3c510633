//! Errors as the API reports them: an HTTP status and a JSON body
//! `{"error": {"code", "message", "details"}}` whose `code` is stable.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_core::CommandError;
use switchboard_store::StoreError;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// Structured details (may be null).
    pub details: Value,
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// 401: no, bad or expired credentials.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for an object of `kind`.
    pub fn not_found(kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{kind} not found"),
        )
    }

    /// 400 for a bad field.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        ApiError {
            details: json!({ "field": field }),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                format!("{field}: {reason}"),
            )
        }
    }

    /// 503: the engine cannot take work now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500 without leaking internals.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> Value {
        // Serialised through the documented type, so that the OpenAPI schema is the wire form.
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
            },
        };
        serde_json::to_value(body).unwrap_or(Value::Null)
    }
}

/// The JSON body of every error answer: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The error inside [`ErrorBody`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`not_found`, `invalid_input`, `token_expired`...).
    #[schema(value_type = String, example = "not_found")]
    pub code: &'static str,
    /// For people; may change between versions.
    #[schema(example = "session not found")]
    pub message: String,
    /// Structured details, such as the offending `field`; null when there are none.
    #[schema(value_type = Option<Object>)]
    pub details: Value,
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        let status = match &error {
            CommandError::NotFound { .. } => StatusCode::NOT_FOUND,
            CommandError::Forbidden { .. } => StatusCode::FORBIDDEN,
            CommandError::InvalidInput { .. }
            | CommandError::TooLong { .. }
            | CommandError::Malformed { .. } => StatusCode::BAD_REQUEST,
            CommandError::FeatureDisabled { .. } => StatusCode::FORBIDDEN,
            CommandError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::CONFLICT,
        };
        let wire = serde_json::to_value(&error).unwrap_or(Value::Null);
        ApiError {
            status,
            code: error.code(),
            message: error.to_string(),
            details: wire.get("details").cloned().unwrap_or(Value::Null),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Refused(error) => error.into(),
            StoreError::NotFound { kind, .. } => ApiError::not_found(kind),
            StoreError::InvalidInput { field, reason } => ApiError::invalid(field, reason),
            other => {
                tracing::error!(code = other.code(), error = %other, "storage failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the store could not complete the request",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
