//! # switchboard-core
//!
//! A sans-IO live-chat and helpdesk engine. Commands go in with the current time and the
//! acting identity; events, effects and records come out; deadlines are polled. Nothing in
//! here reads a clock, touches a socket, spawns a thread or opens a file, so the same engine
//! runs inside a server, behind a C ABI, in a browser (wasm32) and in a phone app, and the
//! same inputs always give the same outputs.
//!
//! ```
//! use switchboard_core::{Actor, Command, Engine, EngineConfig, Role, Timestamp};
//! use switchboard_core::protocol::model::TenantSettings;
//!
//! let mut engine = Engine::new(EngineConfig::default());
//! let root = Actor::new("acme", "root", Role::Superadmin);
//! engine
//!     .handle(Timestamp(0), &root, Command::CreateTenant { settings: TenantSettings::default() })
//!     .expect("a new tenant");
//! while let Some(output) = engine.poll_output() {
//!     // persist records, deliver events, carry out effects
//!     let _ = output;
//! }
//! ```
//!
//! See `docs/protocol.md` for the wire format and `docs/architecture.md` for the design.

pub mod analytics;
pub mod auth;
pub mod calendar;
mod engine;
pub mod error;
pub mod ids;
pub mod json;
pub mod limits;
pub mod protocol;
pub mod time;
mod timer;
pub mod transcript;

pub use auth::{Actor, Role};
pub use engine::{Engine, EngineConfig, SNAPSHOT_FORMAT, SnapshotError};
pub use error::CommandError;
pub use protocol::PROTOCOL_VERSION;
pub use protocol::command::Command;
pub use protocol::event::Event;
pub use protocol::output::{Effect, Output, Recipient, Record};
pub use protocol::reply::Reply;
pub use time::Timestamp;
