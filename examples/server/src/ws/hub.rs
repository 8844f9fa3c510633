//! Routes committed events to the streams of their recipients.

use std::cell::RefCell;
use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use switchboard_core::ids::TenantId;
use switchboard_core::{Event, Recipient};

use super::stream::{Stream, StreamEnd};

// Looked up for every recipient of every event: a fast hash over keys the server made
// (tenant ids, and recipient ids from the server or from signed tokens), not a DoS-resistant
// one for keys anyone could choose.
type Routes = FxHashMap<TenantId, FxHashMap<Recipient, Vec<Arc<Stream>>>>;

/// Every open stream, by recipient and by id.
pub struct Hub {
    routes: RwLock<Routes>,
    by_id: Mutex<HashMap<String, Arc<Stream>>>,
    capacity: usize,
    resume_window: Duration,
    sockets: AtomicUsize,
    max_sockets: usize,
}

thread_local! {
    /// Where events are serialized before their exact-size copy is shared: growing a fresh
    /// buffer to an event's length took several reallocations per event.
    static EVENT_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An event's JSON in an allocation of exactly its length (the streams count what they
/// hold by its length).
fn serialize_event(event: &Event) -> Utf8Bytes {
    EVENT_SCRATCH.with_borrow_mut(|scratch| {
        scratch.clear();
        serde_json::to_writer(&mut *scratch, event).expect("events serialize");
        let text = std::str::from_utf8(scratch).expect("JSON is UTF-8");
        Utf8Bytes::from(text)
    })
}

impl Hub {
    /// A hub whose streams keep `capacity` events and wait `resume_window` for a resume,
    /// admitting at most `max_sockets` connections at once.
    #[must_use]
    pub fn new(capacity: usize, resume_window: Duration, max_sockets: usize) -> Self {
        Hub {
            routes: RwLock::default(),
            by_id: Mutex::default(),
            capacity,
            resume_window,
            sockets: AtomicUsize::new(0),
            max_sockets,
        }
    }

    /// Opens a new stream for a recipient.
    pub fn open(&self, tenant_id: TenantId, recipient: Recipient) -> Arc<Stream> {
        let stream = Arc::new(Stream::new(
            new_stream_id(),
            tenant_id.clone(),
            recipient.clone(),
            self.capacity,
        ));
        self.routes
            .write()
            .expect("hub lock")
            .entry(tenant_id)
            .or_default()
            .entry(recipient)
            .or_default()
            .push(stream.clone());
        self.by_id
            .lock()
            .expect("hub lock")
            .insert(stream.id.clone(), stream.clone());
        stream
    }

    /// A detached stream the same identity may resume: the same tenant and the same
    /// recipient, kind and id (an end user whose account equals a staff id is not that
    /// staff member). Visitors and ERP end users are both visitor recipients, told apart
    /// by their ids (random for visitors, the ERP's account for its users).
    #[must_use]
    pub fn find(
        &self,
        id: &str,
        tenant_id: &TenantId,
        recipient: &Recipient,
    ) -> Option<Arc<Stream>> {
        self.by_id
            .lock()
            .expect("hub lock")
            .get(id)
            .filter(|stream| &stream.tenant_id == tenant_id && &stream.recipient == recipient)
            .filter(|stream| !stream.attached())
            .cloned()
    }

    /// Delivers a committed event to every stream of its recipients.
    pub fn deliver(&self, tenant_id: &TenantId, to: &[Recipient], event: &Event) {
        let routes = self.routes.read().expect("hub lock");
        let Some(tenant) = routes.get(tenant_id) else {
            return;
        };
        // Serialized once, and only if someone is listening; every stream shares it.
        let mut json: Option<Utf8Bytes> = None;
        for recipient in to {
            for stream in tenant.get(recipient).into_iter().flatten() {
                let text = json.get_or_insert_with(|| serialize_event(event));
                stream.push(text);
            }
        }
    }

    /// Ends the streams of one recipient (a forced logout).
    pub fn end_recipient(&self, tenant_id: &TenantId, recipient: &Recipient, end: StreamEnd) {
        let routes = self.routes.read().expect("hub lock");
        if let Some(streams) = routes
            .get(tenant_id)
            .and_then(|tenant| tenant.get(recipient))
        {
            for stream in streams {
                stream.end(end);
            }
        }
    }

    /// Ends the sockets of a staff member whose sessions were revoked (a new password):
    /// they were authenticated with a token that no longer works.
    pub fn end_staff(&self, tenant_id: &TenantId, agent_id: &str) {
        let recipient = Recipient::Staff {
            id: agent_id.into(),
        };
        self.end_recipient(tenant_id, &recipient, StreamEnd::Revoked);
    }

    /// Ends every stream (shutdown).
    pub fn end_all(&self, end: StreamEnd) {
        for stream in self.by_id.lock().expect("hub lock").values() {
            stream.end(end);
        }
    }

    /// Forgets streams detached longer than the resume window.
    pub fn sweep(&self) {
        let Some(cutoff) = Instant::now().checked_sub(self.resume_window) else {
            return;
        };
        let expired: Vec<Arc<Stream>> = {
            let mut by_id = self.by_id.lock().expect("hub lock");
            let expired: Vec<Arc<Stream>> = by_id
                .values()
                .filter(|stream| stream.expired(cutoff))
                .cloned()
                .collect();
            for stream in &expired {
                by_id.remove(&stream.id);
            }
            expired
        };
        if expired.is_empty() {
            return;
        }
        let mut routes = self.routes.write().expect("hub lock");
        for stream in expired {
            if let Some(tenant) = routes.get_mut(&stream.tenant_id) {
                if let Some(list) = tenant.get_mut(&stream.recipient) {
                    list.retain(|kept| !Arc::ptr_eq(kept, &stream));
                    if list.is_empty() {
                        tenant.remove(&stream.recipient);
                    }
                }
                if tenant.is_empty() {
                    routes.remove(&stream.tenant_id);
                }
            }
        }
    }

    /// Streams held (attached or waiting for a resume).
    #[must_use]
    pub fn streams(&self) -> usize {
        self.by_id.lock().expect("hub lock").len()
    }

    /// Whether a recipient has an attached socket.
    #[must_use]
    pub fn is_connected(&self, tenant_id: &TenantId, recipient: &Recipient) -> bool {
        let routes = self.routes.read().expect("hub lock");
        routes
            .get(tenant_id)
            .and_then(|tenant| tenant.get(recipient))
            .is_some_and(|streams| streams.iter().any(|stream| stream.attached()))
    }

    /// Counts an open socket; `None` when the most allowed are open.
    pub fn admit_socket(self: &Arc<Self>) -> Option<SocketSlot> {
        let previous = self.sockets.fetch_add(1, Ordering::AcqRel);
        if previous >= self.max_sockets {
            self.sockets.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(SocketSlot { hub: self.clone() })
    }

    /// Open sockets.
    #[must_use]
    pub fn sockets(&self) -> usize {
        self.sockets.load(Ordering::Acquire)
    }
}

/// Holds one socket's place; released on drop.
pub struct SocketSlot {
    hub: Arc<Hub>,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.hub.sockets.fetch_sub(1, Ordering::AcqRel);
    }
}

fn new_stream_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source");
    format!("str_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ids::SessionId;
    use switchboard_core::protocol::model::SenderKind;

    #[test]
    fn an_event_for_several_streams_is_serialized_once_and_shared() {
        let hub = Hub::new(16, Duration::from_secs(60), 8);
        let tenant = TenantId::from("acme");
        let visitor = Recipient::Visitor { id: "v1".into() };
        let agent = Recipient::Staff { id: "a1".into() };
        let visitor_stream = hub.open(tenant.clone(), visitor.clone());
        let agent_stream = hub.open(tenant.clone(), agent.clone());
        let other_tenant = hub.open(TenantId::from("other"), visitor.clone());
        let event = Event::Typing {
            session_id: SessionId(7),
            side: SenderKind::Visitor,
            name: None,
            active: true,
        };
        hub.deliver(&tenant, &[visitor, agent], &event);

        let (seen_by_visitor, seen_by_agent) = (visitor_stream.held(), agent_stream.held());
        assert_eq!(seen_by_visitor.len(), 1);
        assert_eq!(seen_by_agent.len(), 1);
        assert_eq!(
            seen_by_visitor[0].as_str(),
            serde_json::to_string(&event).unwrap()
        );
        assert_eq!(
            seen_by_visitor[0].as_str().as_ptr(),
            seen_by_agent[0].as_str().as_ptr(),
            "one copy of the JSON for both streams"
        );
        assert_eq!(
            other_tenant.buffered(),
            0,
            "another tenant's stream gets nothing"
        );
    }

    #[test]
    fn only_the_same_tenant_and_recipient_find_a_detached_stream() {
        let hub = Hub::new(16, Duration::from_secs(60), 8);
        let tenant = TenantId::from("acme");
        let staff = Recipient::Staff { id: "sam".into() };
        let stream = hub.open(tenant.clone(), staff.clone());
        assert!(
            hub.find(&stream.id, &tenant, &staff).is_none(),
            "attached: not to be taken over"
        );
        stream.detach();
        let visitor_named_alike = Recipient::Visitor { id: "sam".into() };
        let someone_else = Recipient::Staff {
            id: "someone-else".into(),
        };
        for (tenant_id, recipient) in [
            (TenantId::from("other"), &staff),
            (tenant.clone(), &visitor_named_alike),
            (tenant.clone(), &someone_else),
        ] {
            assert!(
                hub.find(&stream.id, &tenant_id, recipient).is_none(),
                "{tenant_id:?} {recipient:?}"
            );
        }
        let found = hub.find(&stream.id, &tenant, &staff);
        assert!(found.is_some_and(|found| Arc::ptr_eq(&found, &stream)));
    }
}
