//! One client's event stream: every event for the client gets the next sequence number and
//! waits in a bounded buffer until the socket writes it. The buffer also keeps recently
//! written events, so a client that reconnects with the last sequence it saw gets the rest
//! with no gap and no duplicate. A client that falls further behind than the buffer holds
//! is cut off (it must resynchronise), so a slow reader never grows memory without bound.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use switchboard_core::Recipient;
use switchboard_core::ids::TenantId;
use tokio::sync::Notify;

/// The byte bound of a stream's buffer is 4 KiB per event it may hold, but never below this.
const MIN_BUFFER_BYTES: usize = 256 * 1024;

/// Why a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The client read too slowly: unsent events no longer fit.
    SlowConsumer,
    /// The server is shutting down.
    Shutdown,
    /// The caller's session was revoked (forced logout).
    Revoked,
}

impl StreamEnd {
    /// The code sent to the client.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            StreamEnd::SlowConsumer => "slow_consumer",
            StreamEnd::Shutdown => "shutdown",
            StreamEnd::Revoked => "revoked",
        }
    }
}

/// What a resume found.
#[derive(Debug, PartialEq, Eq)]
pub enum Resume {
    /// Events after the client's last sequence are all still here.
    Complete,
    /// Some were dropped: the client must reload its state.
    Gap,
}

struct Buffered {
    seq: u64,
    /// The event's JSON, shared with every other stream the event went to: a chat
    /// message's event is held once for both sides, not once per stream. The frame around
    /// it is built when the socket writes it.
    event: Utf8Bytes,
}

/// Bytes a buffered event is counted for besides its JSON: its place in the buffer and
/// the shared JSON's header, rounded up.
const EVENT_OVERHEAD_BYTES: usize = 64;

struct State {
    next_seq: u64,
    buffer: VecDeque<Buffered>,
    bytes: usize,
    /// Highest sequence handed to a socket.
    written: u64,
    attached: bool,
    detached_at: Option<Instant>,
    ended: Option<StreamEnd>,
}

/// A client's stream.
pub struct Stream {
    /// Its id (the resume token).
    pub id: String,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Who it receives for: the identity that opened it, the only one that may resume it.
    pub recipient: Recipient,
    capacity: usize,
    max_bytes: usize,
    state: Mutex<State>,
    wake: Notify,
}

impl Stream {
    /// A new attached stream.
    #[must_use]
    pub fn new(id: String, tenant_id: TenantId, recipient: Recipient, capacity: usize) -> Self {
        Stream {
            id,
            tenant_id,
            recipient,
            capacity: capacity.max(1),
            // At least room for a few of the largest events, however small the count.
            max_bytes: (capacity.max(1) * 4 * 1024).max(MIN_BUFFER_BYTES),
            state: Mutex::new(State {
                next_seq: 1,
                buffer: VecDeque::new(),
                bytes: 0,
                written: 0,
                attached: true,
                detached_at: None,
                ended: None,
            }),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends an event (its JSON) with the next sequence number.
    pub fn push(&self, event: &Utf8Bytes) {
        let mut state = self.lock();
        if state.ended.is_some() {
            return;
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.bytes += event.len() + EVENT_OVERHEAD_BYTES;
        state.buffer.push_back(Buffered {
            seq,
            event: event.clone(),
        });
        while state.buffer.len() > self.capacity || state.bytes > self.max_bytes {
            let Some(oldest) = state.buffer.front() else {
                break;
            };
            if oldest.seq > state.written {
                // Not yet written: dropping it would lose an event.
                state.ended = Some(StreamEnd::SlowConsumer);
                break;
            }
            let dropped = state.buffer.pop_front().expect("checked above");
            state.bytes -= dropped.event.len() + EVENT_OVERHEAD_BYTES;
        }
        drop(state);
        self.wake.notify_one();
    }

    /// Events not yet written, marked written. `Err` once the stream has ended.
    pub fn take_unwritten(&self, into: &mut Vec<Utf8Bytes>) -> Result<(), StreamEnd> {
        let mut state = self.lock();
        if let Some(end) = state.ended {
            return Err(end);
        }
        let written = state.written;
        let start = state.buffer.partition_point(|item| item.seq <= written);
        let Some(first_seq) = state.buffer.get(start).map(|item| item.seq) else {
            return Ok(());
        };
        let from = into.len();
        into.extend(state.buffer.range(start..).map(|item| item.event.clone()));
        state.written = state.next_seq - 1;
        // Framed after the lock is let go: a resume may rewrite a whole buffer, and the
        // release thread must not wait on the copying to push the next events. Sequence
        // numbers in the buffer run without gaps (pushed in order, dropped from the front).
        drop(state);
        for (seq, slot) in (first_seq..).zip(&mut into[from..]) {
            *slot = event_frame(seq, slot);
        }
        Ok(())
    }

    /// Waits until there is something to write (or the stream ended).
    pub async fn wait(&self) {
        self.wake.notified().await;
    }

    /// The client acknowledged everything up to `seq`: those events are no longer kept.
    pub fn acknowledge(&self, seq: u64) {
        let mut state = self.lock();
        let written = state.written;
        while let Some(front) = state.buffer.front() {
            if front.seq > seq.min(written) {
                break;
            }
            let dropped = state.buffer.pop_front().expect("checked above");
            state.bytes -= dropped.event.len() + EVENT_OVERHEAD_BYTES;
        }
    }

    /// A socket reattaches after the client saw `last_seq`: everything after it will be
    /// written again, or `Gap` when some of it is gone.
    pub fn reattach(&self, last_seq: u64) -> Result<Resume, StreamEnd> {
        let mut state = self.lock();
        if let Some(end) = state.ended {
            return Err(end);
        }
        state.attached = true;
        state.detached_at = None;
        let last_seq = last_seq.min(state.next_seq - 1);
        let oldest_kept = state.buffer.front().map_or(state.next_seq, |item| item.seq);
        state.written = last_seq;
        drop(state);
        self.wake.notify_one();
        Ok(if last_seq + 1 >= oldest_kept {
            Resume::Complete
        } else {
            Resume::Gap
        })
    }

    /// The socket went away; the stream waits for a resume.
    pub fn detach(&self) {
        let mut state = self.lock();
        state.attached = false;
        state.detached_at = Some(Instant::now());
    }

    /// Ends the stream; its socket closes with `end`'s code.
    pub fn end(&self, end: StreamEnd) {
        self.lock().ended.get_or_insert(end);
        self.wake.notify_one();
    }

    /// Why the stream ended, once it has.
    #[must_use]
    pub fn ended(&self) -> Option<StreamEnd> {
        self.lock().ended
    }

    /// Whether a socket is attached.
    #[must_use]
    pub fn attached(&self) -> bool {
        self.lock().attached
    }

    /// Detached since before `cutoff`, or ended while detached: it can go.
    #[must_use]
    pub fn expired(&self, cutoff: Instant) -> bool {
        let state = self.lock();
        !state.attached
            && (state.ended.is_some() || state.detached_at.is_some_and(|at| at < cutoff))
    }

    /// The last sequence number given out.
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq - 1
    }

    /// Events held.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.lock().buffer.len()
    }

    /// The JSON of the events held, oldest first.
    #[cfg(test)]
    pub(super) fn held(&self) -> Vec<Utf8Bytes> {
        self.lock()
            .buffer
            .iter()
            .map(|item| item.event.clone())
            .collect()
    }
}

/// `{"type":"event","seq":N,"event":...}`, built in one allocation of the exact size:
/// one is built for every event each socket writes.
fn event_frame(seq: u64, event_json: &str) -> Utf8Bytes {
    const HEAD: &str = r#"{"type":"event","seq":"#;
    const MIDDLE: &str = r#","event":"#;
    let mut digits = itoa::Buffer::new();
    let seq = digits.format(seq);
    let mut frame =
        String::with_capacity(HEAD.len() + seq.len() + MIDDLE.len() + event_json.len() + 1);
    frame.push_str(HEAD);
    frame.push_str(seq);
    frame.push_str(MIDDLE);
    frame.push_str(event_json);
    frame.push('}');
    Utf8Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(capacity: usize) -> Stream {
        Stream::new(
            "s".into(),
            TenantId::from("t"),
            Recipient::Visitor { id: "v".into() },
            capacity,
        )
    }

    fn json(text: &str) -> Utf8Bytes {
        Utf8Bytes::from(text.to_owned())
    }

    fn take(stream: &Stream) -> Vec<u64> {
        let mut frames = Vec::new();
        stream.take_unwritten(&mut frames).unwrap();
        frames
            .iter()
            .map(|frame| {
                let value: serde_json::Value = serde_json::from_str(frame.as_str()).unwrap();
                value["seq"].as_u64().unwrap()
            })
            .collect()
    }

    #[test]
    fn an_event_frame_wraps_the_event_with_its_sequence() {
        let frame = event_frame(42, r#"{"type":"typing"}"#);
        assert_eq!(
            frame.as_str(),
            r#"{"type":"event","seq":42,"event":{"type":"typing"}}"#
        );
    }

    #[test]
    fn events_are_numbered_and_written_once() {
        let s = stream(8);
        s.push(&json(r#"{"type":"a"}"#));
        s.push(&json(r#"{"type":"b"}"#));
        assert_eq!(take(&s), vec![1, 2]);
        assert_eq!(take(&s), Vec::<u64>::new());
        s.push(&json(r#"{"type":"c"}"#));
        assert_eq!(take(&s), vec![3]);
    }

    #[test]
    fn a_resume_rewrites_what_the_client_missed_without_duplicates() {
        let s = stream(8);
        for _ in 0..5 {
            s.push(&json("{}"));
        }
        assert_eq!(take(&s), vec![1, 2, 3, 4, 5]);
        s.detach();
        s.push(&json("{}"));
        assert_eq!(s.reattach(3).unwrap(), Resume::Complete);
        assert_eq!(take(&s), vec![4, 5, 6]);
    }

    #[test]
    fn a_resume_past_the_buffer_is_a_gap() {
        let s = stream(4);
        for _ in 0..10 {
            s.push(&json("{}"));
            take(&s);
        }
        assert_eq!(s.buffered(), 4);
        assert_eq!(s.reattach(2).unwrap(), Resume::Gap);
        assert_eq!(s.reattach(6).unwrap(), Resume::Complete);
    }

    #[test]
    fn a_small_count_still_leaves_room_for_large_events() {
        let s = stream(1);
        let large = json(&format!(r#"{{"body":"{}"}}"#, "x".repeat(16 * 1024)));
        s.push(&large);
        assert_eq!(take(&s), vec![1]);
        s.push(&large);
        assert_eq!(take(&s), vec![2], "a prompt reader is not cut off");
    }

    #[test]
    fn a_reader_that_falls_behind_the_buffer_is_cut_off() {
        let s = stream(4);
        for _ in 0..4 {
            s.push(&json("{}"));
        }
        assert!(s.take_unwritten(&mut Vec::new()).is_ok());
        for _ in 0..5 {
            s.push(&json("{}"));
        }
        assert_eq!(
            s.take_unwritten(&mut Vec::new()),
            Err(StreamEnd::SlowConsumer)
        );
        assert!(s.buffered() <= 5, "memory stays bounded");
    }

    #[test]
    fn acknowledged_events_are_released() {
        let s = stream(8);
        for _ in 0..4 {
            s.push(&json("{}"));
        }
        take(&s);
        s.acknowledge(3);
        assert_eq!(s.buffered(), 1);
        s.acknowledge(100);
        assert_eq!(s.buffered(), 0);
    }
}
