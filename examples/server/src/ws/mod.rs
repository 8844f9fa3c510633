//! The WebSocket endpoint: the core protocol over `/ws`, with per-stream sequence numbers,
//! resume, heartbeats and backpressure. The frames are described in `docs/api.md`.

pub mod frames;
pub mod hub;
pub mod socket;
pub mod stream;

pub use hub::Hub;
pub use stream::StreamEnd;
