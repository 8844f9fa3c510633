//! The wire protocol: commands in, replies, events, effects and records out.
//!
//! Every type serializes to JSON with a `type` tag and snake_case field names; the C ABI,
//! the WASM build and the server all speak exactly this JSON. See `docs/protocol.md`.

pub mod command;
pub mod event;
pub mod helpdesk;
pub mod model;
pub mod output;
pub mod reply;

/// The protocol version. A change that breaks existing clients increments it.
pub const PROTOCOL_VERSION: u32 = 1;
