//! History, session lists, full-text search and visitor profiles, each confined to one
//! tenant: two tenants here have identical session, visitor and agent ids.

use crate::support::*;
use serde_json::json;
use switchboard_core::Timestamp;
use switchboard_core::protocol::model::SessionStatus;
use switchboard_store::query::{HistoryQuery, SearchQuery, SessionFilter};
use switchboard_store::{DurableEngine, StoreError};

const ACME: &str = "acme";
const GLOBEX: &str = "globex";

/// Both tenants: v1 chats twice (the first resolved, tagged "billing"), v2 once.
fn world() -> (TempStore, DurableEngine) {
    let file = TempStore::new();
    let mut store = open(&file.path);
    for (tenant, word) in [(ACME, "invoice"), (GLOBEX, "shipment")] {
        setup_tenant(&mut store, tenant, 1_000);
        let first = start_chat(&mut store, tenant, "v1", 10_000);
        say(
            &mut store,
            11_000,
            &visitor(tenant, "v1"),
            &first,
            &format!("My {word} is wrong"),
        );
        say(
            &mut store,
            12_000,
            &agent(tenant, "alice"),
            &first,
            "Let me check that",
        );
        ok(
            &mut store,
            12_500,
            &agent(tenant, "alice"),
            json!({"type": "add_tags", "session_id": first, "tags": ["billing"]}),
        );
        resolve(&mut store, tenant, &first, 13_000);
        let second = start_chat(&mut store, tenant, "v1", 20_000);
        say(
            &mut store,
            21_000,
            &visitor(tenant, "v1"),
            &second,
            "Another question about café opening hours",
        );
        let third = start_chat(&mut store, tenant, "v2", 30_000);
        for i in 0..7 {
            say(
                &mut store,
                31_000 + i,
                &visitor(tenant, "v2"),
                &third,
                &format!("line {i}"),
            );
        }
    }
    (file, store)
}

#[test]
fn history_pages_back_and_forth_with_cursors() {
    let (_file, store) = world();
    let q = store.queries();
    // ses_3 has a system join message or none; take its size from the full history.
    let all = q
        .message_history(
            ACME,
            "ses_3",
            &HistoryQuery {
                limit: 200,
                ..Default::default()
            },
        )
        .unwrap();
    let total = all.total as usize;
    assert_eq!(all.messages.len(), total);
    let seqs: Vec<u64> = all.messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=total as u64).collect::<Vec<_>>(),
        "oldest first, gap-free"
    );

    let newest = q
        .message_history(
            ACME,
            "ses_3",
            &HistoryQuery {
                limit: 3,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        newest.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        seqs[total - 3..].to_vec()
    );
    assert!(newest.newer.is_none());
    let older = q
        .message_history(
            ACME,
            "ses_3",
            &HistoryQuery {
                before: newest.older.clone(),
                limit: 3,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        older.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        seqs[total - 6..total - 3].to_vec()
    );
    let forward = q
        .message_history(
            ACME,
            "ses_3",
            &HistoryQuery {
                after: Some("1".into()),
                limit: 2,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        forward.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(forward.older.as_deref(), Some("2"));
    assert_eq!(forward.newer.as_deref(), Some("3"));

    let bad = q.message_history(
        ACME,
        "ses_3",
        &HistoryQuery {
            before: Some("abc".into()),
            ..Default::default()
        },
    );
    assert_eq!(bad.unwrap_err().code(), "invalid_input");
    let too_big = q.message_history(
        ACME,
        "ses_3",
        &HistoryQuery {
            limit: 201,
            ..Default::default()
        },
    );
    assert_eq!(too_big.unwrap_err().code(), "invalid_input");
}

#[test]
fn history_is_confined_to_the_tenant() {
    let (_file, store) = world();
    let q = store.queries();
    let acme = q
        .message_history(ACME, "ses_1", &HistoryQuery::default())
        .unwrap();
    let globex = q
        .message_history(GLOBEX, "ses_1", &HistoryQuery::default())
        .unwrap();
    assert!(acme.messages.iter().any(|m| m.body.contains("invoice")));
    assert!(acme.messages.iter().all(|m| !m.body.contains("shipment")));
    assert!(globex.messages.iter().any(|m| m.body.contains("shipment")));
    let missing = q.message_history("initech", "ses_1", &HistoryQuery::default());
    assert!(matches!(
        missing,
        Err(StoreError::NotFound {
            kind: "session",
            ..
        })
    ));
    let malformed = q.message_history(ACME, "not-an-id", &HistoryQuery::default());
    assert!(matches!(malformed, Err(StoreError::NotFound { .. })));
}

#[test]
fn a_sessions_messages_and_notes_in_one_read_within_the_tenant() {
    let (_file, mut store) = world();
    ok(
        &mut store,
        40_000,
        &agent(ACME, "alice"),
        json!({"type": "add_note", "session_id": "ses_3", "body": "wants a refund"}),
    );
    let q = store.queries();
    let all = q.session_messages(ACME, "ses_3").unwrap();
    let page = q
        .message_history(
            ACME,
            "ses_3",
            &HistoryQuery {
                limit: 200,
                ..HistoryQuery::default()
            },
        )
        .unwrap();
    assert_eq!(all, page.messages, "every message, oldest first");
    assert!(all.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert!(all.iter().all(|m| !m.body.contains("shipment")));
    let notes = q.session_notes(ACME, "ses_3").unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(&*notes[0].body, "wants a refund");
    assert!(
        q.session_notes(GLOBEX, "ses_3").unwrap().is_empty(),
        "the note is acme's"
    );
    for missing in [
        q.session_messages("initech", "ses_3").map(|_| ()),
        q.session_notes(ACME, "not-an-id").map(|_| ()),
    ] {
        assert!(matches!(missing, Err(StoreError::NotFound { .. })));
    }
}

#[test]
fn sessions_filter_by_status_agent_department_tag_visitor_and_date() {
    let (_file, store) = world();
    let q = store.queries();
    let ids = |filter: SessionFilter| -> Vec<String> {
        q.list_sessions(ACME, &filter)
            .unwrap()
            .sessions
            .iter()
            .map(|s| s.session.session_id.to_string())
            .collect()
    };
    assert_eq!(
        ids(SessionFilter::default()),
        vec!["ses_3", "ses_2", "ses_1"],
        "newest first"
    );
    assert_eq!(
        ids(SessionFilter {
            statuses: vec![SessionStatus::Resolved],
            ..Default::default()
        }),
        vec!["ses_1"]
    );
    assert_eq!(
        ids(SessionFilter {
            statuses: vec![SessionStatus::Active],
            ..Default::default()
        }),
        vec!["ses_3", "ses_2"]
    );
    assert_eq!(
        ids(SessionFilter {
            agent_id: Some("alice".into()),
            ..Default::default()
        })
        .len(),
        3
    );
    assert!(
        ids(SessionFilter {
            agent_id: Some("bob".into()),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(
        ids(SessionFilter {
            department_id: Some("support".into()),
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(SessionFilter {
            tag: Some("billing".into()),
            ..Default::default()
        }),
        vec!["ses_1"]
    );
    assert_eq!(
        ids(SessionFilter {
            visitor_id: Some("v1".into()),
            ..Default::default()
        }),
        vec!["ses_2", "ses_1"]
    );
    assert_eq!(
        ids(SessionFilter {
            created_from: Some(Timestamp(20_000)),
            created_to: Some(Timestamp(30_000)),
            ..Default::default()
        }),
        vec!["ses_2"],
        "from inclusive, to exclusive"
    );
    let page = q
        .list_sessions(
            ACME,
            &SessionFilter {
                page: 2,
                per_page: 2,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.sessions.len(), 1);
    assert_eq!(page.sessions[0].session.session_id.to_string(), "ses_1");
    let listed = q.list_sessions(ACME, &SessionFilter::default()).unwrap();
    let third = &listed.sessions[0];
    assert_eq!(third.preview.as_deref(), Some("line 6"));
    assert_eq!(third.session.last_message_at, Some(Timestamp(31_006)));
}

#[test]
fn session_lists_are_confined_to_the_tenant() {
    let (_file, store) = world();
    let q = store.queries();
    let acme = q.list_sessions(ACME, &SessionFilter::default()).unwrap();
    let globex = q.list_sessions(GLOBEX, &SessionFilter::default()).unwrap();
    assert_eq!(acme.total, 3);
    assert_eq!(globex.total, 3);
    assert!(
        acme.sessions
            .iter()
            .all(|s| !s.preview.as_deref().unwrap_or("").contains("shipment"))
    );
    assert_eq!(
        q.list_sessions("initech", &SessionFilter::default())
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        q.session("initech", "ses_1"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn search_finds_words_and_prefixes_in_one_tenant_only() {
    let (_file, store) = world();
    let q = store.queries();
    let search = |tenant: &str, text: &str| -> Vec<String> {
        q.search_messages(
            tenant,
            &SearchQuery {
                text: text.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|hit| hit.message.body.to_string())
        .collect()
    };
    assert_eq!(search(ACME, "invoice"), vec!["My invoice is wrong"]);
    assert_eq!(
        search(ACME, "INVOI"),
        vec!["My invoice is wrong"],
        "prefix, any case"
    );
    assert_eq!(
        search(ACME, "cafe hours"),
        vec!["Another question about café opening hours"]
    );
    assert!(
        search(ACME, "shipment").is_empty(),
        "another tenant's words are not found"
    );
    assert_eq!(search(GLOBEX, "shipment"), vec!["My shipment is wrong"]);
    assert!(
        search(ACME, "invoice hours").is_empty(),
        "every word must match"
    );
    // Search syntax is not interpreted.
    assert_eq!(search(ACME, "\"invoice\" OR NEAR("), Vec::<String>::new());
    assert_eq!(search(ACME, "invoice) ^(* :-"), vec!["My invoice is wrong"]);
    let scoped = q
        .search_messages(
            ACME,
            &SearchQuery {
                text: "line".into(),
                session_id: Some("ses_3".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(scoped.len(), 7);
    let empty = q.search_messages(
        ACME,
        &SearchQuery {
            text: " !? ".into(),
            ..Default::default()
        },
    );
    assert_eq!(empty.unwrap_err().code(), "invalid_input");
    let long = q.search_messages(
        ACME,
        &SearchQuery {
            text: "a".repeat(300),
            ..Default::default()
        },
    );
    assert_eq!(long.unwrap_err().code(), "invalid_input");
    let other = q.search_messages(
        "initech",
        &SearchQuery {
            text: "line".into(),
            session_id: Some("ses_3".into()),
            ..Default::default()
        },
    );
    assert!(matches!(other, Err(StoreError::NotFound { .. })));
}

#[test]
fn a_visitor_profile_lists_prior_sessions_in_the_tenant() {
    let (_file, store) = world();
    let q = store.queries();
    let v1 = q.visitor(ACME, "v1").unwrap();
    assert_eq!(v1.session_count, 2);
    assert_eq!(
        v1.header.profile.email.as_deref(),
        Some("v1@acme.example.com")
    );
    assert_eq!(
        v1.sessions
            .iter()
            .map(|s| s.session_id.to_string())
            .collect::<Vec<_>>(),
        vec!["ses_2", "ses_1"]
    );
    assert_eq!(v1.header.first_seen_at, Timestamp(10_000));
    assert!(v1.header.last_seen_at >= Timestamp(20_000));
    assert!(matches!(
        q.visitor("initech", "v1"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        q.visitor(ACME, "v9"),
        Err(StoreError::NotFound { .. })
    ));
}
