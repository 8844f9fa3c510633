//! Host values commit with the engine's steps, survive a reopen, and are refused when they
//! break the size limits.

use crate::support::*;
use switchboard_store::{DurableEngine, MAX_HOST_VALUE_BYTES, StoreError};

#[test]
fn host_values_are_invisible_until_committed_and_survive_a_reopen() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    store
        .stage_host_value("acme", "widget_keys", "wk_1", Some(r#"{"origins":["a"]}"#))
        .unwrap();
    store
        .stage_host_value("", "global", "first_run", Some("true"))
        .unwrap();
    assert!(store.host_values("widget_keys").unwrap().is_empty());
    assert_eq!(store.staged(), 2);
    store.commit().unwrap();
    let keys = store.host_values("widget_keys").unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].tenant_id.as_str(), keys[0].key.as_str()),
        ("acme", "wk_1")
    );

    store
        .stage_host_value("acme", "widget_keys", "wk_1", Some(r#"{"origins":["b"]}"#))
        .unwrap();
    store.commit().unwrap();
    drop(store);
    let (mut store, _) = DurableEngine::open(&file.path, options()).unwrap();
    assert_eq!(
        store.host_values("widget_keys").unwrap()[0].value,
        r#"{"origins":["b"]}"#,
        "the update replaced the value"
    );
    assert_eq!(store.host_values("global").unwrap()[0].value, "true");

    store
        .stage_host_value("acme", "widget_keys", "wk_1", None)
        .unwrap();
    store.commit().unwrap();
    assert!(store.host_values("widget_keys").unwrap().is_empty());
}

#[test]
fn a_host_value_commits_in_the_same_transaction_as_the_step() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, "acme", 1_000);
    store
        .stage_host_value("acme", "credentials", "alice", Some("hash"))
        .unwrap();
    assert!(
        store.checkpoint().is_err(),
        "a checkpoint with staged host writes would drop them"
    );
    store.commit().unwrap();
    assert_eq!(store.host_values("credentials").unwrap().len(), 1);
}

#[test]
fn oversized_or_empty_keys_are_refused_and_nothing_is_staged() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    let big = "x".repeat(MAX_HOST_VALUE_BYTES + 1);
    for (namespace, key, value) in [("ns", "k", big.as_str()), ("", "k", "v"), ("ns", "", "v")] {
        let error = store
            .stage_host_value("acme", namespace, key, Some(value))
            .unwrap_err();
        assert!(
            matches!(error, StoreError::InvalidInput { .. }),
            "{error:?}"
        );
    }
    let long_key = "k".repeat(300);
    assert!(
        store
            .stage_host_value("acme", "ns", &long_key, Some("v"))
            .is_err()
    );
    assert_eq!(store.staged(), 0);
}
