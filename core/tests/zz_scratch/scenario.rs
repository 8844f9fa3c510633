{
    // ---------------- setup ----------------
    c.ok("create_tenant", "root", json!({"type": "create_tenant", "settings": {
        "name": "Acme",
        "timing": {"inactivity_close_ms": 600000, "inactivity_warning_ms": 60000, "wrap_up_ms": 30000}
    }}));
    c.err("already_exists", "root", json!({"type": "create_tenant", "settings": {}}));
    c.ok("dept_support", "admin", json!({"type": "upsert_department", "department": {"id": "support", "name": "Support"}}));
    c.ok("dept_sales", "admin", json!({"type": "upsert_department", "department": {"id": "sales", "name": "Sales"}}));
    c.ok("dept_tmp", "admin", json!({"type": "upsert_department", "department": {"id": "archive", "name": "Archive"}}));
    c.err("forbidden", "v-zed", json!({"type": "upsert_department", "department": {"id": "x", "name": "X"}}));
    c.err("too_long", "admin", json!({"type": "upsert_department", "department": {"id": "long", "name": "x".repeat(300)}}));
    c.ok("queue_support", "admin", json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support"}}));
    c.ok("queue_sales", "admin", json!({"type": "upsert_queue", "queue": {"id": "sales", "name": "Sales", "department_id": "sales",
        "strategy": "external", "fallback_strategy": "least_active", "external_timeout_ms": 10000, "max_wait_ms": 120000, "queue_when_no_agents": true}}));
    c.ok("queue_tmp", "admin", json!({"type": "upsert_queue", "queue": {"id": "archive", "department_id": "archive"}}));
    c.ok("agent_alice", "admin", json!({"type": "upsert_agent", "agent": agent_profile("alice", "Alice", json!({"email": "alice@acme.example", "departments": ["support"], "languages": ["en", "de"], "skills": {"billing": 7}}))}));
    c.ok("agent_bob", "admin", json!({"type": "upsert_agent", "agent": agent_profile("bob", "Bob", json!({"departments": ["support", "sales"]}))}));
    c.ok("agent_carol", "admin", json!({"type": "upsert_agent", "agent": agent_profile("carol", "Carol", json!({"departments": ["sales"]}))}));
    c.ok("agent_sue", "admin", json!({"type": "upsert_agent", "agent": agent_profile("sue", "Sue", json!({"role": "supervisor"}))}));
    c.ok("agent_vic", "admin", json!({"type": "upsert_agent", "agent": agent_profile("vic", "Vic", json!({"role": "viewer"}))}));
    c.ok("agent_temp", "admin", json!({"type": "upsert_agent", "agent": agent_profile("temp", "Temp", json!({"departments": ["archive"]}))}));
    c.ok("rules", "admin", json!({"type": "set_routing_rules", "rules": [
        {"id": "billing-bot", "name": "Billing questions start with the bot", "triggers": {"issue_type": ["billing"]},
         "actions": {"bot": "helpbot", "queue": "sales", "welcome_message": "Hi! I am the billing assistant."}},
        {"id": "premium", "triggers": {"visitor_type": "premium"},
         "actions": {"queue": "support", "auto_assign": false, "priority": 5, "queue_message": "A specialist will be with you shortly."}}
    ]}));
    c.ok("canned_tenant", "admin", json!({"type": "create_canned_response", "scope": "tenant", "title": "Greeting", "shortcut": "/hi",
        "body": "Hello {{visitor.name}}, this is {{agent.name}}. How can I help?"}));
    c.ok("canned_personal", "alice", json!({"type": "create_canned_response", "title": "Thanks", "body": "Thanks for waiting!"}));
    c.ok("online_sue", "sue", json!({"type": "set_agent_status", "status": "online"}));
    c.ok("online_vic", "vic", json!({"type": "set_agent_status", "status": "online"}));
    c.ok("online_alice", "alice", json!({"type": "set_agent_status", "status": "online"}));

    // ---------------- session 1: offer, chat, transfers, resolve, rate, close ----------------
    c.ok("start_ana", "v-ana", json!({"type": "start_session",
        "visitor": {"name": "Ana", "email": "ana@example.com", "page_url": "https://shop.example.com/orders"},
        "department_id": "support", "language": "en", "initial_message": "Hi, my invoice is wrong", "client_message_id": "c-1"}));
    c.ok("queue_status", "v-ana", json!({"type": "get_queue_status", "department_id": "support"}));
    c.ok("render", "alice", json!({"type": "render_canned_response", "session_id": "ses_1", "canned_response_id": "canned_1"}));
    c.ok("accept_offer", "alice", json!({"type": "accept_offer", "session_id": "ses_1"}));
    c.ok("send_agent", "alice", json!({"type": "send_message", "session_id": "ses_1", "body": "Hello Ana, let me check that for you.", "client_message_id": "a-1"}));
    c.ok("send_dup", "alice", json!({"type": "send_message", "session_id": "ses_1", "body": "Hello Ana, let me check that for you.", "client_message_id": "a-1"}));
    c.ok("typing", "v-ana", json!({"type": "set_typing", "session_id": "ses_1", "active": true}));
    c.ok("send_visitor", "v-ana", json!({"type": "send_message", "session_id": "ses_1", "body": "Thanks! Order 1042."}));
    c.ok("mark_read", "alice", json!({"type": "mark_read", "session_id": "ses_1"}));
    c.ok("add_note", "alice", json!({"type": "add_note", "session_id": "ses_1", "body": "Customer since 2019, check the refund policy."}));
    c.ok("add_tags", "alice", json!({"type": "add_tags", "session_id": "ses_1", "tags": ["billing", "refund"]}));
    c.ok("remove_tags", "alice", json!({"type": "remove_tags", "session_id": "ses_1", "tags": ["refund"]}));
    c.err("limit_reached", "alice", json!({"type": "add_tags", "session_id": "ses_1", "tags": (0..65).map(|i| format!("t{i}")).collect::<Vec<_>>()}));
    c.ok("send_canned", "alice", json!({"type": "send_canned_response", "session_id": "ses_1", "canned_response_id": "canned_1"}));
    c.ok("get_session", "sue", json!({"type": "get_session", "session_id": "ses_1"}));
    c.ok("get_agent", "alice", json!({"type": "get_agent"}));
    c.err("no_agent_available", "alice", json!({"type": "transfer_session", "session_id": "ses_1", "to_department_id": "sales", "reason": "Sales question"}));
    c.ok("online_bob", "bob", json!({"type": "set_agent_status", "status": "online"}));
    c.ok("transfer", "alice", json!({"type": "transfer_session", "session_id": "ses_1", "to_agent_id": "bob", "reason": "Bob handles refunds"}));
    c.ok("reject_transfer", "bob", json!({"type": "reject_transfer", "transfer_id": "trf_1"}));
    c.ok("online_carol", "carol", json!({"type": "set_agent_status", "status": "online"}));
    c.ok("transfer_dept", "alice", json!({"type": "transfer_session", "session_id": "ses_1", "to_department_id": "sales", "reason": "Sales question"}));
    c.ok("cancel_transfer", "alice", json!({"type": "cancel_transfer", "transfer_id": "trf_2"}));
    c.ok("transfer3", "alice", json!({"type": "transfer_session", "session_id": "ses_1", "to_agent_id": "bob", "reason": "Bob handles refunds"}));
    c.ok("accept_transfer", "bob", json!({"type": "accept_transfer", "transfer_id": "trf_3"}));
    c.ok("resolve", "bob", json!({"type": "resolve_session", "session_id": "ses_1"}));
    c.ok("end_wrap_up", "bob", json!({"type": "end_wrap_up"}));
    c.err("invalid_input", "v-ana", json!({"type": "submit_csat", "session_id": "ses_1", "rating": 9}));
    c.ok("csat", "v-ana", json!({"type": "submit_csat", "session_id": "ses_1", "rating": 5, "comment": "Quick and friendly"}));
    c.ok("close", "bob", json!({"type": "close_session", "session_id": "ses_1"}));
    c.ok("end_wrap_up2", "bob", json!({"type": "end_wrap_up"}));

    // ---------------- session 2: manual queue, pick, reassign, offline, leave ----------------
    c.ok("start_ben", "v-ben", json!({"type": "start_session", "visitor": {"name": "Ben", "visitor_type": "premium"}}));
    c.ok("list_queue", "sue", json!({"type": "list_queue", "queue_id": "support"}));
    c.err("illegal_transition", "sue", json!({"type": "resolve_session", "session_id": "ses_2"}));
    c.advance(2000);
    c.ok("pick", "alice", json!({"type": "pick_session", "session_id": "ses_2"}));
    c.ok("assign_reassign", "sue", json!({"type": "assign_session", "session_id": "ses_2", "agent_id": "bob"}));
    c.ok("offline_bob", "bob", json!({"type": "set_agent_status", "status": "offline"}));
    c.err("agent_at_capacity", "sue", json!({"type": "assign_session", "session_id": "ses_2", "agent_id": "bob"}));
    c.ok("leave_ben", "v-ben", json!({"type": "leave_session", "session_id": "ses_2"}));

    // ---------------- session 3: decline, timeout, assign ----------------
    c.ok("start_cy", "v-cy", json!({"type": "start_session", "visitor": {"name": "Cy"}, "department_id": "support"}));
    c.ok("decline", "alice", json!({"type": "decline_offer", "session_id": "ses_3"}));
    c.ok("online_bob2", "bob", json!({"type": "set_agent_status", "status": "online"}));
    c.advance(30000);
    c.ok("assign_queued", "sue", json!({"type": "assign_session", "session_id": "ses_3", "agent_id": "alice"}));
    c.ok("close_by_sup", "sue", json!({"type": "close_session", "session_id": "ses_3"}));
    c.ok("end_wrap_up3", "alice", json!({"type": "end_wrap_up"}));
    c.ok("bob_back", "bob", json!({"type": "set_agent_status", "status": "online"}));

    // ---------------- session 4: bot, hand off, external routing ----------------
    c.ok("start_dee", "v-dee", json!({"type": "start_session", "visitor": {"name": "Dee"}, "issue_type": "billing"}));
    c.ok("bot_says", "helpbot", json!({"type": "send_message", "session_id": "ses_4", "body": "Let me find a colleague for you."}));
    c.ok("hand_off", "helpbot", json!({"type": "hand_off", "session_id": "ses_4", "reason": "Customer asks for a person"}));
    c.ok("route_decision", "host", json!({"type": "route_decision", "effect_id": c.last_route.clone().unwrap(), "agent_id": "carol"}));
    c.ok("accept_carol", "carol", json!({"type": "accept_offer", "session_id": "ses_4"}));

    // ---------------- conversations ----------------
    c.ok("conv_direct", "alice", json!({"type": "create_conversation", "kind": "direct", "member_ids": ["bob"]}));
    c.ok("conv_direct_again", "bob", json!({"type": "create_conversation", "kind": "direct", "member_ids": ["alice"]}));
    c.ok("conv_group", "sue", json!({"type": "create_conversation", "kind": "group", "member_ids": ["alice", "bob"], "title": "Floor"}));
    c.ok("conv_add", "sue", json!({"type": "add_conversation_members", "conversation_id": "conv_2", "member_ids": ["carol"]}));
    c.ok("conv_send", "alice", json!({"type": "send_conversation_message", "conversation_id": "conv_2", "body": "Can someone take a refund chat?", "client_message_id": "m-7"}));
    c.ok("conv_read", "bob", json!({"type": "mark_conversation_read", "conversation_id": "conv_2"}));
    c.ok("conv_typing", "bob", json!({"type": "set_conversation_typing", "conversation_id": "conv_2", "active": true}));
    c.ok("conv_leave", "carol", json!({"type": "leave_conversation", "conversation_id": "conv_2"}));

    // ---------------- session 5: inactivity, disconnect, push new_message ----------------
    c.ok("bob_away_early", "bob", json!({"type": "set_agent_status", "status": "away"}));
    c.ok("start_eve", "v-eve", json!({"type": "start_session", "visitor": {"name": "Eve"}, "department_id": "support"}));
    c.ok("accept_eve", "alice", json!({"type": "accept_offer", "session_id": "ses_5"}));
    c.ok("disconnected", "host", json!({"type": "agent_disconnected", "agent_id": "alice"}));
    c.ok("eve_writes", "v-eve", json!({"type": "send_message", "session_id": "ses_5", "body": "Are you still there?"}));
    c.ok("connected", "host", json!({"type": "agent_connected", "agent_id": "alice"}));
    c.advance(540000);
    c.advance(60000);

    // ---------------- session 6: max wait -> leave a message ----------------
    c.ok("carol_away", "carol", json!({"type": "set_agent_status", "status": "away"}));
    c.ok("bob_away", "bob", json!({"type": "set_agent_status", "status": "away"}));
    c.ok("start_fay", "v-fay", json!({"type": "start_session", "visitor": {"name": "Fay"}, "department_id": "sales"}));
    c.advance(120000);

    // ---------------- admin ----------------
    c.ok("update_canned", "alice", json!({"type": "update_canned_response", "canned_response_id": "canned_2", "title": "Thanks", "shortcut": "/ty", "body": "Thanks for waiting, {{visitor.name}}!"}));
    c.ok("list_canned", "alice", json!({"type": "list_canned_responses"}));
    c.ok("delete_canned", "alice", json!({"type": "delete_canned_response", "canned_response_id": "canned_2"}));
    c.ok("remove_agent", "admin", json!({"type": "remove_agent", "agent_id": "temp"}));
    c.ok("remove_queue", "admin", json!({"type": "remove_queue", "queue_id": "archive"}));
    c.ok("remove_department", "admin", json!({"type": "remove_department", "department_id": "archive"}));
    c.ok("disconnect_grace", "host", json!({"type": "agent_disconnected", "agent_id": "bob"}));
    c.advance(60000);
    c.ok("force_logout", "admin", json!({"type": "force_logout_all", "reason": "Maintenance at 18:00"}));
    c.err("unavailable", "v-gus", json!({"type": "start_session", "visitor": {"name": "Gus"}, "department_id": "support"}));
    c.ok("update_settings", "admin", json!({"type": "update_tenant_settings", "settings": {
        "name": "Acme",
        "business_hours": {"time_zone": "Europe/Berlin", "weekly": {"monday": {"start": "08:00", "end": "18:00"}, "friday": [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]}},
        "features": {"internal_chat": false}
    }}));
    c.err("feature_disabled", "alice", json!({"type": "create_conversation", "kind": "direct", "member_ids": ["sue"]}));
    c.err("not_found", "sue", json!({"type": "get_session", "session_id": "ses_99"}));
    c.raw("malformed_json", "{\"v\":1,\"now\":");
    c.raw("malformed_version", &format!(r#"{{"v":2,"now":{},"actor":{{"tenant_id":"acme","id":"alice","role":"agent"}},"command":{{"type":"end_wrap_up"}}}}"#, c.now));
    c.raw("malformed_type", &format!(r#"{{"v":1,"now":{},"actor":{{"tenant_id":"acme","id":"alice","role":"agent"}},"command":{{"type":"fly_to_the_moon"}}}}"#, c.now));
}
