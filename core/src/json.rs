//! The JSON face of the engine, for bindings that speak only strings and a clock.
//!
//! A request is `{"v": 1, "now": <ms>, "actor": {...}, "command": {...}}` (`v` optional);
//! the answer is `{"ok": <reply>}` or `{"error": {"code", "message", "details"}}`. Outputs
//! are drained as JSON objects one at a time.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Actor;
use crate::engine::Engine;
use crate::error::CommandError;
use crate::protocol::PROTOCOL_VERSION;
use crate::protocol::command::Command;
use crate::time::Timestamp;

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    v: Option<u32>,
    now: Timestamp,
    actor: Actor,
    command: Command,
}

/// Parses a request; malformed JSON or an unknown version is a `malformed` error.
pub fn parse_request(text: &str) -> Result<(Timestamp, Actor, Command), CommandError> {
    let request: Request = serde_json::from_str(text).map_err(|e| CommandError::Malformed {
        reason: e.to_string(),
    })?;
    if let Some(v) = request.v
        && v != PROTOCOL_VERSION
    {
        return Err(CommandError::Malformed {
            reason: format!(
                "protocol version {v} is not supported (this engine speaks {PROTOCOL_VERSION})"
            ),
        });
    }
    Ok((request.now, request.actor, request.command))
}

/// Applies a JSON request and answers in JSON. Never panics on bad input.
pub fn handle_json(engine: &mut Engine, request: &str) -> String {
    let answer: Value = match parse_request(request)
        .and_then(|(now, actor, command)| engine.handle(now, &actor, command))
    {
        Ok(reply) => json!({ "ok": reply }),
        Err(error) => json!({ "error": error }),
    };
    answer.to_string()
}

/// The next output as JSON, or `None` when drained.
pub fn poll_output_json(engine: &mut Engine) -> Option<String> {
    engine
        .poll_output()
        .map(|output| serde_json::to_string(&output).expect("outputs always serialize"))
}
