//! Export, erasure and retention, each confined to one tenant.

use crate::support::*;
use serde_json::json;
use switchboard_core::{Actor, Role, Timestamp};
use switchboard_store::DurableEngine;
use switchboard_store::query::{HistoryQuery, SearchQuery, SessionFilter};

const ACME: &str = "acme";
const GLOBEX: &str = "globex";
const DAY: i64 = 86_400_000;

/// In both tenants: v1 has a resolved chat with a note and a ticket; v2 an active chat.
fn world() -> (TempStore, DurableEngine) {
    let file = TempStore::new();
    let mut store = open(&file.path);
    for (tenant, street) in [(ACME, "Acacia Avenue"), (GLOBEX, "Elm Road")] {
        setup_tenant(&mut store, tenant, 1_000);
        let chat = start_chat(&mut store, tenant, "v1", 10_000);
        say(
            &mut store,
            11_000,
            &visitor(tenant, "v1"),
            &chat,
            &format!("my secret address is 1 {street}"),
        );
        say(
            &mut store,
            12_000,
            &agent(tenant, "alice"),
            &chat,
            "noted, thanks",
        );
        ok(
            &mut store,
            12_500,
            &agent(tenant, "alice"),
            json!({"type": "add_note", "session_id": chat, "body": "customer sounds upset"}),
        );
        resolve(&mut store, tenant, &chat, 13_000);
        ok(
            &mut store,
            13_500,
            &visitor(tenant, "v1"),
            json!({"type": "submit_csat", "session_id": chat, "rating": 2, "comment": format!("slow answers, {street}")}),
        );
        ok(
            &mut store,
            13_600,
            &visitor(tenant, "v1"),
            json!({"type": "email_transcript", "session_id": chat}),
        );
        ok(
            &mut store,
            14_000,
            &visitor(tenant, "v1"),
            json!({"type": "create_ticket", "subject": format!("Refund to {street}"), "description": "please refund"}),
        );
        ok(
            &mut store,
            14_500,
            &visitor(tenant, "v1"),
            json!({"type": "add_ticket_message", "ticket_id": "tkt_1", "body": format!("send it to {street}")}),
        );
        let other = start_chat(&mut store, tenant, "v2", 20_000);
        say(
            &mut store,
            21_000,
            &visitor(tenant, "v2"),
            &other,
            "unrelated question",
        );
    }
    (file, store)
}

fn tenant_admin(tenant: &str) -> Actor {
    Actor::new(tenant, "admin", Role::TenantAdmin)
}

#[test]
fn export_holds_everything_about_the_visitor_and_nothing_else() {
    let (_file, store) = world();
    let export = store.queries().export_visitor(ACME, "v1").unwrap();
    assert_eq!(export.sessions.len(), 1);
    assert!(
        export
            .sessions
            .iter()
            .all(|s| s.visitor_id.as_str() == "v1")
    );
    assert!(
        export
            .messages
            .iter()
            .any(|m| m.body.contains("1 Acacia Avenue"))
    );
    assert!(
        export
            .messages
            .iter()
            .all(|m| !m.body.contains("unrelated"))
    );
    assert_eq!(export.notes.len(), 1);
    assert_eq!(export.tickets.len(), 1);
    assert_eq!(&*export.tickets[0].subject, "Refund to Acacia Avenue");
    assert!(export.tickets[0].message_count >= 1);
    assert_eq!(
        export.ticket_messages.len() as u64,
        export.tickets[0].message_count,
        "every message of their ticket"
    );
    let header = export.visitor.as_ref().expect("the visitor row");
    assert_eq!(header.profile.email.as_deref(), Some("v1@acme.example.com"));
    let text = serde_json::to_string(&export).unwrap();
    assert!(text.contains("1 Acacia Avenue"), "the export is plain JSON");

    let missing = store.queries().export_visitor("initech", "v1");
    assert_eq!(missing.unwrap_err().code(), "not_found");
    let nobody = store.queries().export_visitor(ACME, "v404");
    assert_eq!(nobody.unwrap_err().code(), "not_found");
}

#[test]
fn forgetting_a_visitor_tombstones_their_data_and_keeps_the_audit_entry() {
    let (file, mut store) = world();
    let ticket_id = store.queries().visitor(ACME, "v1").unwrap().tickets[0]
        .ticket_id
        .to_string();
    // An open ticket blocks the erasure; closing it is the host's or an agent's job.
    let refused = store.forget_visitor(Timestamp(30_000), &tenant_admin(ACME), "v1");
    assert_eq!(refused.unwrap_err().code(), "illegal_transition");
    for status in ["resolved", "closed"] {
        ok(
            &mut store,
            31_000,
            &agent(ACME, "alice"),
            json!({"type": "set_ticket_status", "ticket_id": ticket_id, "status": status}),
        );
    }
    // A resolved chat is still live until it is closed.
    ok(
        &mut store,
        32_000,
        &agent(ACME, "alice"),
        json!({"type": "close_session", "session_id": "ses_1"}),
    );
    store
        .forget_visitor(Timestamp(40_000), &tenant_admin(ACME), "v1")
        .unwrap();

    let q = store.queries();
    let history = q
        .message_history(ACME, "ses_1", &HistoryQuery::default())
        .unwrap();
    assert!(history.total >= 2, "the messages stay, as tombstones");
    assert!(
        history
            .messages
            .iter()
            .all(|m| m.body.is_empty() && m.attachment.is_none())
    );
    let hits = q
        .search_messages(
            ACME,
            &SearchQuery {
                text: "secret".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(hits.is_empty(), "erased text is out of the index");
    assert_eq!(q.visitor(ACME, "v1").unwrap_err().code(), "not_found");
    assert_eq!(
        q.export_visitor(ACME, "v1").unwrap_err().code(),
        "not_found"
    );
    let session = q.session(ACME, "ses_1").unwrap().session;
    assert_eq!(session.visitor_id.as_str(), "");
    assert!(session.visitor.email.is_none() && session.visitor.name.is_none());

    // The other visitor and the other tenant's v1 are untouched.
    assert!(q.visitor(ACME, "v2").is_ok());
    let globex = q.export_visitor(GLOBEX, "v1").unwrap();
    assert!(
        globex
            .messages
            .iter()
            .any(|m| m.body.contains("1 Elm Road"))
    );

    // The erasure is audited and the journal no longer holds the original inputs.
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    let audited: i64 = raw
        .query_row(
            "SELECT count(*) FROM audit_log WHERE tenant_id = 'acme' AND action = 'forget_visitor' AND target = 'v1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    let journal: i64 = raw
        .query_row("SELECT count(*) FROM journal", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal, 0, "a snapshot replaced the journal");
    let indexed: i64 = raw
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'body : acacia'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(indexed, 0, "the words are gone from the index itself");
    let pending_mail = store
        .pending_effects()
        .unwrap()
        .into_iter()
        .filter(|p| {
            p.tenant_id == ACME
                && matches!(p.effect, switchboard_core::Effect::EmailTranscript { .. })
        })
        .count();
    assert_eq!(pending_mail, 0, "the transcript e-mail to them is not sent");
    drop(raw);

    // Nothing of theirs is left anywhere in the file: not in a table, an old journal entry
    // or snapshot, a free page, the index or the WAL. The other tenant's v1 still is.
    let running = store.engine().clone();
    drop(store);
    let mut bytes = std::fs::read(&file.path).unwrap();
    if let Ok(wal) = std::fs::read(file.dir.path().join("switchboard.db-wal")) {
        bytes.extend(wal);
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for secret in ["Acacia", "v1@acme.example.com"] {
        assert!(!contains(secret), "{secret:?} is still in the file");
    }
    assert!(contains("Elm Road"), "the other tenant's data is intact");
    let store = open(&file.path);
    assert!(*store.engine() == running);
}

#[test]
fn forgetting_is_refused_to_agents() {
    let (_file, mut store) = world();
    let error = store
        .forget_visitor(Timestamp(40_000), &agent(ACME, "alice"), "v2")
        .unwrap_err();
    assert_eq!(error.code(), "forbidden");
    assert!(store.queries().visitor(ACME, "v2").is_ok());
}

#[test]
fn retention_purges_old_ended_sessions_of_that_tenant_only() {
    let (file, mut store) = world();
    assert_eq!(store.retention(ACME).unwrap(), None);
    assert_eq!(
        store.set_retention(ACME, Some(0)).unwrap_err().code(),
        "invalid_input"
    );
    store.set_retention(ACME, Some(30)).unwrap();
    assert_eq!(store.retention(ACME).unwrap(), Some(30));

    // A resolved chat is still live in the engine (it may be reopened): never purged.
    let report = store.apply_retention(Timestamp(13_001 + 30 * DAY)).unwrap();
    assert_eq!(report.sessions, 0);
    ok(
        &mut store,
        13_700,
        &agent(ACME, "alice"),
        json!({"type": "close_session", "session_id": "ses_1"}),
    );
    // 29 days after it ended: not old enough.
    let report = store.apply_retention(Timestamp(13_000 + 29 * DAY)).unwrap();
    assert_eq!(report.sessions, 0);
    let report = store.apply_retention(Timestamp(13_701 + 30 * DAY)).unwrap();
    assert_eq!(report.sessions, 1, "only the closed chat");
    assert!(report.messages >= 2);

    let q = store.queries();
    assert_eq!(
        q.message_history(ACME, "ses_1", &HistoryQuery::default())
            .unwrap_err()
            .code(),
        "not_found"
    );
    let listed = q.list_sessions(ACME, &SessionFilter::default()).unwrap();
    assert_eq!(listed.total, 1, "the live chat stays");
    let hits = q
        .search_messages(
            ACME,
            &SearchQuery {
                text: "secret".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(hits.is_empty());
    let indexed: i64 = rusqlite::Connection::open(&file.path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'body : acacia'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(indexed, 0, "purged words are gone from the index itself");
    // v1 still has a ticket, so the visitor row stays.
    assert!(q.visitor(ACME, "v1").is_ok());
    // Globex set no retention.
    assert_eq!(
        q.list_sessions(GLOBEX, &SessionFilter::default())
            .unwrap()
            .total,
        2
    );

    store.set_retention(ACME, None).unwrap();
    assert_eq!(store.retention(ACME).unwrap(), None);
}
