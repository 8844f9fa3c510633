//! Extractors whose rejections are the API's JSON errors.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body; malformed JSON is 400 `malformed`, an oversize body 413.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// A body taken whole (an optional JSON body is read this way); an oversize body is 413
/// `payload_too_large`.
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(ApiError::from)
    }
}

/// Query parameters; bad ones are 400 `invalid_input`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters; bad ones are 400 `invalid_input`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send Content-Type: application/json",
            ),
            _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed", rejection.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed", rejection.body_text())
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is too large",
    )
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            rejection.body_text(),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            rejection.body_text(),
        )
    }
}

/// `value` read as a `T`, refusing (400 `malformed`) any field `T` does not know, at any
/// depth. Settings types take defaults for what is missing, so a misspelt field would
/// otherwise reset the setting it meant to change. A field counts as known when the
/// parsed value, written back, has it; one it leaves out is refused unless its value is
/// a default (null, false, 0, "", [] or {}), which a type may skip when writing.
pub fn strict<T: DeserializeOwned + Serialize>(value: Value) -> Result<T, ApiError> {
    let malformed = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "malformed", message);
    let parsed: T =
        serde_json::from_value(value.clone()).map_err(|error| malformed(error.to_string()))?;
    let known = serde_json::to_value(&parsed).map_err(|_| ApiError::internal())?;
    match unknown_field(&value, &known, "") {
        Some(path) => Err(malformed(format!("unknown field `{path}`"))),
        None => Ok(parsed),
    }
}

fn unknown_field(given: &Value, known: &Value, path: &str) -> Option<String> {
    match (given, known) {
        (Value::Object(given), Value::Object(known)) => given.iter().find_map(|(key, value)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match known.get(key) {
                Some(known) => unknown_field(value, known, &here),
                None if is_default(value) => None,
                None => Some(here),
            }
        }),
        (Value::Array(given), Value::Array(known)) if given.len() == known.len() => given
            .iter()
            .zip(known)
            .enumerate()
            .find_map(|(index, (given, known))| {
                unknown_field(given, known, &format!("{path}[{index}]"))
            }),
        _ => None,
    }
}

fn is_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct Inner {
        level: u32,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct Outer {
        name: String,
        inner: Inner,
        items: Vec<Inner>,
    }

    #[test]
    fn unknown_fields_are_refused_at_any_depth_and_known_ones_pass() {
        let ok: Outer = strict(json!({"name": "a", "inner": {"level": 2, "tags": []}})).unwrap();
        assert_eq!(ok.inner.level, 2);
        for (body, path) in [
            (json!({"nmae": "a"}), "nmae"),
            (json!({"inner": {"levle": 1}}), "inner.levle"),
            (
                json!({"items": [{"level": 1}, {"bogus": true}]}),
                "items[1].bogus",
            ),
        ] {
            let error = strict::<Outer>(body.clone()).unwrap_err();
            assert_eq!(error.code, "malformed", "{body}");
            assert!(error.message.contains(path), "{body}: {}", error.message);
        }
        // A wrongly typed value is malformed too.
        assert_eq!(
            strict::<Outer>(json!({"name": 5})).unwrap_err().code,
            "malformed"
        );
    }
}
