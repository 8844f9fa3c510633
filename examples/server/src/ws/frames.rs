//! The frames of the WebSocket protocol.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{Command, Reply};

/// Longest frame a client may send, in bytes.
pub const MAX_CLIENT_FRAME_BYTES: usize = 64 * 1024;

/// Where a reconnecting client left off.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ResumeFrom {
    /// The stream it had.
    pub stream_id: String,
    /// The last event sequence it processed.
    pub last_seq: u64,
}

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame: credentials, and where to resume.
    Hello {
        /// A bearer token (unless the upgrade request carried `Authorization`).
        #[serde(default)]
        token: Option<String>,
        /// Resume a previous stream.
        #[serde(default)]
        resume: Option<ResumeFrom>,
    },
    /// A core command; answered by a `reply` with the same `id`.
    Command {
        /// The client's request id, echoed in the reply.
        #[serde(default)]
        id: Option<Value>,
        /// The command.
        command: Box<Command>,
    },
    /// Events up to `seq` were processed: the server may forget them.
    Ack {
        /// The last processed sequence.
        seq: u64,
    },
    /// Application-level heartbeat; answered by `pong`.
    Ping {},
}

/// `welcome`: the stream is ready.
#[derive(Debug, Serialize)]
pub struct Welcome<'a> {
    /// `welcome`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The stream id: give it back in `hello.resume` after a reconnect.
    pub stream_id: &'a str,
    /// True when the previous stream continues with no gap.
    pub resumed: bool,
    /// When `resumed` is false after a resume was asked for: `unknown_stream` or `gap`;
    /// the client reloads its state over REST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resync: Option<&'static str>,
    /// The last sequence given out on this stream so far.
    pub last_seq: u64,
    /// Heartbeat interval: the server pings this often and closes a connection silent for
    /// three intervals.
    pub heartbeat_ms: u64,
    /// Who the server thinks the client is.
    pub actor: &'a switchboard_core::Actor,
}

/// A reply frame: `{"type":"reply","id":...,"ok":...}` or `...,"error":...}`, `type` first
/// so clients can tell frames apart without parsing them whole.
#[must_use]
pub fn reply(id: &Option<Value>, result: &Result<Reply, Value>) -> String {
    // Written into one buffer: every command a client sends gets one.
    let mut frame = Vec::with_capacity(128);
    frame.extend_from_slice(br#"{"type":"reply","id":"#);
    serde_json::to_writer(&mut frame, id).expect("ids serialize");
    match result {
        Ok(reply) => {
            frame.extend_from_slice(br#","ok":"#);
            serde_json::to_writer(&mut frame, reply).expect("replies serialize");
        }
        Err(error) => {
            frame.extend_from_slice(br#","error":"#);
            serde_json::to_writer(&mut frame, error).expect("errors serialize");
        }
    }
    frame.push(b'}');
    String::from_utf8(frame).expect("JSON is UTF-8")
}

/// An error frame (not tied to a request), sent before closing or for a bad frame.
#[must_use]
pub fn error(code: &str, message: &str) -> String {
    serde_json::json!({ "type": "error", "error": { "code": code, "message": message } })
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replies_echo_the_id_and_carry_the_answer_or_the_error() {
        let ok = reply(&Some(json!("req-1")), &Ok(Reply::Ok));
        assert!(ok.starts_with(r#"{"type":"reply","#), "{ok}");
        let ok: Value = serde_json::from_str(&ok).unwrap();
        assert_eq!(ok["id"], "req-1");
        assert_eq!(ok["ok"], serde_json::to_value(Reply::Ok).unwrap());
        assert!(ok.get("error").is_none());

        let refused = reply(&None, &Err(json!({"code": "forbidden"})));
        let refused: Value = serde_json::from_str(&refused).unwrap();
        assert_eq!(refused["id"], Value::Null);
        assert_eq!(refused["error"]["code"], "forbidden");
        assert!(refused.get("ok").is_none());
    }
}
