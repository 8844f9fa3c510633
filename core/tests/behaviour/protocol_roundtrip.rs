//! Property tests of the wire protocol.
//!
//! - Every command round-trips through JSON: generated commands of every variant serialize,
//!   parse back equal, and pass through the JSON facade's request parser unchanged.
//! - Everything the engine says round-trips: an engine driven by generated command sequences
//!   (with deadlines firing in between) produces replies and outputs that serialize and parse
//!   back equal, and a command that fails leaves the engine exactly as it was.
//! - Arbitrary input never panics the JSON facade: random text, random JSON trees and
//!   mutated valid requests (wrong types, missing fields, huge numbers, unknown tags, deep
//!   nesting) always get a JSON answer with either `ok` or an `error` with a code.
//!
//! The tests at the end pin engine bugs these properties found (overflow in the wait
//! estimate and handle-time sum, 20-digit ids, float round trips, a ticket change that keeps
//! the due date read back as one that clears it, SLA policies replaced by fewer).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value, json};
use switchboard_core::calendar::{BusinessHours, DayHours, Holiday, Interval, SpecialDay, Weekday};
use switchboard_core::ids::{
    AgentId, BotId, CalendarId, CannedResponseId, ConversationId, DepartmentId, EffectId, QueueId,
    RuleId, SessionId, SlaPolicyId, SurveyId, TicketId, TicketTemplateId, TransferId, VisitorId,
};
use switchboard_core::json::{handle_json, parse_request, poll_output_json};
use switchboard_core::protocol::helpdesk::{
    CalendarConfig, Channel, Requester, SlaConditions, SlaEscalation, SlaPolicy, SlaTarget,
    SlaTargets, TicketChanges, TicketFilter, TicketPriority, TicketStatus, TicketTemplate,
};
use switchboard_core::protocol::model::{
    Actions, AgentProfile, AgentStatus, Attachment, CannedScope, ConversationKind, Department,
    FairnessCap, FeatureFlags, MessageKind, QueueConfig, RoutingRule, StaffRole,
    Strategy as RoutingStrategy, TenantLimits, TenantSettings, Timing, Triggers, VisitorProfile,
    WidgetBranding,
};
use switchboard_core::{Actor, Command, Engine, EngineConfig, Output, Reply, Role, Timestamp};

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures print their minimal input; nothing is written next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

/// The tags a tagged enum accepts, read from the type: serde lists every variant when it
/// refuses an unknown one.
fn variant_tags<T: DeserializeOwned + Debug>(tag: &str) -> BTreeSet<String> {
    let message = serde_json::from_value::<T>(json!({ tag: "\u{1}no such variant" }))
        .expect_err("an unknown tag is refused")
        .to_string();
    let (_, expected) = message
        .split_once("expected ")
        .unwrap_or_else(|| panic!("serde lists the variants: {message}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Serializes to text, parses back, and requires equality (and the same JSON again).
fn assert_round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let text = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("{e} while parsing back {text}")))?;
    prop_assert_eq!(&back, value, "changed on the way back through {}", text);
    let again = serde_json::to_string(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again, text);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Generators: the value space
// ---------------------------------------------------------------------------------------

/// Where the generators draw ids, texts and numbers from: anything at all (for round
/// trips), or a small world of existing objects (for driving an engine).
#[derive(Clone)]
struct Space {
    text: BoxedStrategy<String>,
    agent: BoxedStrategy<AgentId>,
    department: BoxedStrategy<DepartmentId>,
    queue: BoxedStrategy<QueueId>,
    bot: BoxedStrategy<BotId>,
    rule: BoxedStrategy<RuleId>,
    session: BoxedStrategy<SessionId>,
    transfer: BoxedStrategy<TransferId>,
    conversation: BoxedStrategy<ConversationId>,
    canned: BoxedStrategy<CannedResponseId>,
    effect: BoxedStrategy<EffectId>,
    ticket: BoxedStrategy<TicketId>,
    survey: BoxedStrategy<SurveyId>,
    visitor: BoxedStrategy<VisitorId>,
    calendar: BoxedStrategy<CalendarId>,
    sla_policy: BoxedStrategy<SlaPolicyId>,
    template: BoxedStrategy<TicketTemplateId>,
    /// Due dates.
    timestamp: BoxedStrategy<Timestamp>,
    /// E-mail addresses (or what is given as one).
    email: BoxedStrategy<String>,
    /// Warning shares of SLA targets.
    percent: BoxedStrategy<u8>,
    /// Durations, sizes, positions.
    number: BoxedStrategy<u64>,
    /// Capacities and weights.
    small: BoxedStrategy<u16>,
    /// Routing order, queue lengths, SLA target minutes.
    count: BoxedStrategy<u32>,
    /// Tenant limits.
    limit: BoxedStrategy<u32>,
    /// Ratings, skill levels, priorities.
    byte: BoxedStrategy<u8>,
    /// Feature switches.
    switch: BoxedStrategy<bool>,
    /// Free-form JSON (custom fields, rule attributes).
    json: BoxedStrategy<Value>,
    /// "HH:MM".
    clock: BoxedStrategy<String>,
    /// "YYYY-MM-DD".
    date: BoxedStrategy<String>,
    time_zone: BoxedStrategy<String>,
}

fn any_text() -> BoxedStrategy<String> {
    prop::collection::vec(any::<char>(), 0..10)
        .prop_map(String::from_iter)
        .boxed()
}

fn words(list: &[&str]) -> BoxedStrategy<String> {
    let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    select(list).boxed()
}

/// Numbers in JSON that round-trip exactly. Floats are limited to ones with few digits:
/// see `free_form_float_values_round_trip_exactly`, an engine bug.
fn json_number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_000_000_000i64..1_000_000_000_000).prop_map(|n| json!(n as f64 / 100.0)),
    ]
    .boxed()
}

fn json_tree(text: BoxedStrategy<String>, depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        text.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(text.clone(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Anything the types can hold.
fn wild_space() -> Space {
    let text = any_text();
    let numbered = || -> BoxedStrategy<u64> {
        prop_oneof![Just(0u64), Just(1), Just(u64::MAX), 0..=u64::MAX].boxed()
    };
    Space {
        agent: text.clone().prop_map(AgentId::from).boxed(),
        department: text.clone().prop_map(DepartmentId::from).boxed(),
        queue: text.clone().prop_map(QueueId::from).boxed(),
        bot: text.clone().prop_map(BotId::from).boxed(),
        rule: text.clone().prop_map(RuleId::from).boxed(),
        session: numbered().prop_map(SessionId).boxed(),
        transfer: numbered().prop_map(TransferId).boxed(),
        conversation: numbered().prop_map(ConversationId).boxed(),
        canned: numbered().prop_map(CannedResponseId).boxed(),
        effect: numbered().prop_map(EffectId).boxed(),
        ticket: numbered().prop_map(TicketId).boxed(),
        survey: numbered().prop_map(SurveyId).boxed(),
        visitor: text.clone().prop_map(VisitorId::from).boxed(),
        calendar: text.clone().prop_map(CalendarId::from).boxed(),
        sla_policy: text.clone().prop_map(SlaPolicyId::from).boxed(),
        template: text.clone().prop_map(TicketTemplateId::from).boxed(),
        timestamp: any::<i64>().prop_map(Timestamp).boxed(),
        email: text.clone(),
        percent: any::<u8>().boxed(),
        number: any::<u64>().boxed(),
        small: any::<u16>().boxed(),
        count: any::<u32>().boxed(),
        limit: any::<u32>().boxed(),
        byte: any::<u8>().boxed(),
        switch: any::<bool>().boxed(),
        json: json_tree(text.clone(), 3),
        clock: text.clone(),
        date: text.clone(),
        time_zone: text.clone(),
        text,
    }
}

/// A small world matching `world()`: mostly existing objects, a few that do not exist,
/// texts and numbers the engine mostly accepts.
fn world_space() -> Space {
    let text = prop_oneof![
        40 => words(&["Hello", "Thanks!", "/hi", "Billing", "premium", "en", "de-AT", "DE"]),
        1 => words(&["", "   ", "two words", "tab\there"]),
        1 => Just("x".repeat(9000)),
    ]
    .boxed();
    Space {
        agent: words(&["alice", "bob", "carol", "sue", "vic", "ghost"])
            .prop_map(AgentId::from)
            .boxed(),
        department: words(&["support", "sales", "ghost"])
            .prop_map(DepartmentId::from)
            .boxed(),
        queue: words(&["support", "sales", "vip", "ghost"])
            .prop_map(QueueId::from)
            .boxed(),
        bot: words(&["helpbot", "otherbot"])
            .prop_map(BotId::from)
            .boxed(),
        rule: words(&["r1", "r2"]).prop_map(RuleId::from).boxed(),
        session: (1u64..=10).prop_map(SessionId).boxed(),
        transfer: (1u64..=5).prop_map(TransferId).boxed(),
        conversation: (1u64..=4).prop_map(ConversationId).boxed(),
        canned: (1u64..=4).prop_map(CannedResponseId).boxed(),
        effect: (1u64..=60).prop_map(EffectId).boxed(),
        ticket: prop_oneof![
            4 => 1u64..=WORLD_TICKETS,
            1 => WORLD_TICKETS + 1..=WORLD_TICKETS + 3,
        ]
        .prop_map(TicketId)
        .boxed(),
        survey: (1u64..=3).prop_map(SurveyId).boxed(),
        visitor: words(&["v1", "v2", "v3", "v4"])
            .prop_map(VisitorId::from)
            .boxed(),
        calendar: words(&["office", "weekend", "ghost"])
            .prop_map(CalendarId::from)
            .boxed(),
        sla_policy: words(&["urgent", "chat", "standard"])
            .prop_map(SlaPolicyId::from)
            .boxed(),
        template: words(&["tech", "billing", "ghost"])
            .prop_map(TicketTemplateId::from)
            .boxed(),
        timestamp: (-3_600_000i64..=30 * 86_400_000)
            .prop_map(|ms| Timestamp(T0 + ms))
            .boxed(),
        email: words(&["v1@example.com", "help@example.org", "not an address"]),
        percent: prop_oneof![4 => Just(80u8), 4 => 1u8..=99, 1 => Just(0), 1 => Just(100)].boxed(),
        number: prop_oneof![0u64..=5, 0u64..=120_000].boxed(),
        small: (0u16..=4).boxed(),
        count: prop_oneof![0u32..=3, 1_000u32..=10_000].boxed(),
        // Mostly roomy, so that a settings change rarely blocks the rest of a run.
        limit: prop_oneof![1 => 0u32..=3, 9 => 1_000u32..=10_000].boxed(),
        byte: (0u8..=6).boxed(),
        // Mostly on, so that a settings change rarely turns chat off for the rest of a run.
        switch: prop_oneof![9 => Just(true), 1 => Just(false)].boxed(),
        json: json_tree(words(&["a", "b", "premium"]), 1),
        clock: prop_oneof![
            6 => words(&["00:00", "08:00", "12:30", "17:30", "24:00"]),
            1 => words(&["9:00", "25:00"]),
        ]
        .boxed(),
        date: prop_oneof![
            6 => words(&["2026-01-02", "2026-01-03", "2026-12-24", "2027-01-01"]),
            1 => words(&["2026-02-30", "1/2/2026"]),
        ]
        .boxed(),
        time_zone: prop_oneof![
            6 => words(&["UTC", "Europe/Berlin", "America/New_York"]),
            1 => Just("Mars/Olympus_Mons".to_owned()),
        ]
        .boxed(),
        text,
    }
}

// ---------------------------------------------------------------------------------------
// Generators: model types
// ---------------------------------------------------------------------------------------

fn agent_status() -> BoxedStrategy<AgentStatus> {
    select(vec![
        AgentStatus::Online,
        AgentStatus::Away,
        AgentStatus::Busy,
        AgentStatus::Offline,
    ])
    .boxed()
}

fn strategy() -> BoxedStrategy<RoutingStrategy> {
    select(vec![
        RoutingStrategy::RoundRobin,
        RoutingStrategy::LeastActive,
        RoutingStrategy::SkillBased,
        RoutingStrategy::Broadcast,
        RoutingStrategy::Manual,
        RoutingStrategy::Random,
        RoutingStrategy::WeightedRandom,
        RoutingStrategy::FixedOrder,
        RoutingStrategy::External,
    ])
    .boxed()
}

fn message_kind() -> BoxedStrategy<MessageKind> {
    select(vec![
        MessageKind::Text,
        MessageKind::Markdown,
        MessageKind::System,
        MessageKind::Attachment,
    ])
    .boxed()
}

fn opt<T: Debug + Clone + 'static>(strategy: BoxedStrategy<T>) -> BoxedStrategy<Option<T>> {
    prop::option::of(strategy).boxed()
}

fn list<T: Debug + Clone + 'static>(strategy: BoxedStrategy<T>) -> BoxedStrategy<Vec<T>> {
    prop::collection::vec(strategy, 0..4).boxed()
}

fn fields(s: &Space) -> BoxedStrategy<BTreeMap<String, Value>> {
    prop::collection::btree_map(s.text.clone(), s.json.clone(), 0..3).boxed()
}

fn business_hours(s: &Space) -> BoxedStrategy<BusinessHours> {
    let interval = (s.clock.clone(), s.clock.clone())
        .prop_map(|(start, end)| Interval { start, end })
        .boxed();
    let day = prop_oneof![
        interval.clone().prop_map(DayHours::One),
        list(interval.clone()).prop_map(DayHours::Many),
    ];
    let holiday = (s.date.clone(), opt(s.text.clone()))
        .prop_map(|(date, name)| Holiday { date, name })
        .boxed();
    let special_day = (s.date.clone(), opt(s.text.clone()), list(interval))
        .prop_map(|(date, name, hours)| SpecialDay { date, name, hours })
        .boxed();
    let weekday = select(vec![
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ]);
    (
        s.time_zone.clone(),
        prop::collection::btree_map(weekday, day, 0..4),
        list(holiday),
        list(special_day),
    )
        .prop_map(
            |(time_zone, weekly, holidays, special_days)| BusinessHours {
                time_zone,
                weekly,
                holidays,
                special_days,
            },
        )
        .boxed()
}

fn tenant_settings(s: &Space) -> BoxedStrategy<TenantSettings> {
    let branding = (
        prop::collection::vec(opt(s.text.clone()), 8),
        any::<bool>(),
        list(s.text.clone()),
    )
        .prop_map(|(t, show_avatar, languages)| WidgetBranding {
            primary_color: t[0].clone(),
            secondary_color: t[1].clone(),
            font_family: t[2].clone(),
            logo_url: t[3].clone(),
            position: t[4].clone(),
            theme: t[5].clone(),
            welcome_message: t[6].clone(),
            offline_message: t[7].clone(),
            show_avatar,
            languages,
        });
    let features = prop::collection::vec(s.switch.clone(), 6).prop_map(|f| FeatureFlags {
        chat: f[0],
        internal_chat: f[1],
        bots: f[2],
        csat: f[3],
        transfers: f[4],
        attachments: f[5],
    });
    let limits = prop::collection::vec(s.limit.clone(), 12).prop_map(|l| TenantLimits {
        max_agents: l[0],
        max_open_sessions: l[1],
        max_queues: l[2],
        max_departments: l[3],
        max_canned_responses: l[4],
        max_conversations: l[5],
        max_remembered_visitors: l[6],
        max_open_tickets: l[7],
        max_calendars: l[8],
        max_sla_policies: l[9],
        max_ticket_templates: l[10],
        max_open_surveys: l[11],
    });
    let timing = (
        opt(s.number.clone()),
        prop::collection::vec(s.number.clone(), 9),
        any::<bool>(),
    )
        .prop_map(|(inactivity_close_ms, t, away_on_missed_offer)| Timing {
            inactivity_close_ms,
            inactivity_warning_ms: t[0],
            wrap_up_ms: t[1],
            disconnect_grace_ms: t[2],
            transfer_timeout_ms: t[3],
            typing_timeout_ms: t[4],
            position_update_interval_ms: t[5],
            resolved_close_ms: t[6],
            away_on_missed_offer,
            ticket_auto_close_ms: t[7],
            survey_expiry_ms: t[8],
        });
    let fairness_cap =
        (s.count.clone(), s.number.clone()).prop_map(|(max_assignments, window_ms)| FairnessCap {
            max_assignments,
            window_ms,
        });
    (
        s.text.clone(),
        opt(business_hours(s)),
        branding,
        features,
        limits,
        timing,
        opt(s.queue.clone()),
        opt(fairness_cap.boxed()),
        opt(s.text.clone()),
    )
        .prop_map(
            |(
                name,
                business_hours,
                branding,
                features,
                limits,
                timing,
                default_queue_id,
                fairness_cap,
                ticket_prefix,
            )| {
                TenantSettings {
                    name,
                    business_hours,
                    branding,
                    features,
                    limits,
                    timing,
                    default_queue_id,
                    fairness_cap,
                    ticket_prefix,
                }
            },
        )
        .boxed()
}

fn queue_config(s: &Space) -> BoxedStrategy<QueueConfig> {
    let head = (
        s.queue.clone(),
        s.text.clone(),
        opt(s.department.clone()),
        strategy(),
        strategy(),
        s.number.clone(),
        s.number.clone(),
        opt(s.number.clone()),
    );
    let tail = (
        opt(s.queue.clone()),
        opt(s.number.clone()),
        any::<bool>(),
        s.small.clone(),
        opt(s.count.clone()),
        any::<bool>(),
        s.number.clone(),
    );
    (head, tail)
        .prop_map(
            |(
                (id, name, department_id, strategy, fallback_strategy, offer, external, max_wait),
                (
                    overflow,
                    reroute,
                    require_language,
                    broadcast_limit,
                    max_length,
                    queue_when_no_agents,
                    handle,
                ),
            )| QueueConfig {
                id,
                name,
                department_id,
                strategy,
                fallback_strategy,
                offer_timeout_ms: offer,
                external_timeout_ms: external,
                max_wait_ms: max_wait,
                overflow_queue_id: overflow,
                reroute_after_no_reply_ms: reroute,
                require_language,
                broadcast_limit,
                max_length,
                queue_when_no_agents,
                default_handle_time_ms: handle,
            },
        )
        .boxed()
}

fn agent_profile(s: &Space) -> BoxedStrategy<AgentProfile> {
    let role = select(vec![
        StaffRole::TenantAdmin,
        StaffRole::Supervisor,
        StaffRole::Agent,
        StaffRole::Viewer,
    ]);
    (
        (s.agent.clone(), s.text.clone(), opt(s.text.clone()), role),
        (
            list(s.department.clone()),
            prop::collection::btree_map(s.text.clone(), s.byte.clone(), 0..3),
            list(s.text.clone()),
        ),
        (
            s.small.clone(),
            any::<bool>(),
            s.small.clone(),
            s.count.clone(),
        ),
    )
        .prop_map(
            |(
                (id, name, email, role),
                (departments, skills, languages),
                (max_concurrent_chats, auto_accept, routing_weight, routing_order),
            )| AgentProfile {
                id,
                name,
                email,
                role,
                departments,
                skills,
                languages,
                max_concurrent_chats,
                auto_accept,
                routing_weight,
                routing_order,
            },
        )
        .boxed()
}

fn routing_rule(s: &Space) -> BoxedStrategy<RoutingRule> {
    let triggers = (
        opt(any::<bool>().boxed()),
        list(s.text.clone()),
        list(s.text.clone()),
        opt(s.text.clone()),
        opt(s.department.clone()),
        list(s.text.clone()),
        list(s.text.clone()),
        fields(s),
    )
        .prop_map(
            |(
                business_hours,
                visitor_location,
                page_url_contains,
                visitor_type,
                department,
                language,
                issue_type,
                attributes,
            )| {
                Triggers {
                    business_hours,
                    visitor_location,
                    page_url_contains,
                    visitor_type,
                    department,
                    language,
                    issue_type,
                    attributes,
                }
            },
        );
    let actions = (
        (
            opt(s.queue.clone()),
            opt(any::<bool>().boxed()),
            opt(strategy()),
            opt(s.text.clone()),
            opt(s.text.clone()),
        ),
        (
            opt(s.number.clone()),
            opt(s.number.clone()),
            opt(s.byte.clone()),
            list(s.text.clone()),
            opt(s.bot.clone()),
        ),
    )
        .prop_map(
            |(
                (queue, auto_assign, assignment_type, welcome_message, queue_message),
                (max_wait_time, max_wait_seconds, priority, required_skills, bot),
            )| Actions {
                queue,
                auto_assign,
                assignment_type,
                welcome_message,
                queue_message,
                max_wait_time,
                max_wait_seconds,
                priority,
                required_skills,
                bot,
            },
        );
    (
        opt(s.rule.clone()),
        opt(s.text.clone()),
        any::<i32>(),
        opt(any::<bool>().boxed()),
        triggers,
        actions,
    )
        .prop_map(
            |(id, name, priority, enabled, triggers, actions)| RoutingRule {
                id,
                name,
                priority,
                enabled,
                triggers,
                actions,
            },
        )
        .boxed()
}

fn visitor_profile(s: &Space) -> BoxedStrategy<VisitorProfile> {
    (
        prop::collection::vec(opt(s.text.clone()), 7),
        fields(s),
        fields(s),
    )
        .prop_map(|(t, custom_fields, user_context)| VisitorProfile {
            name: t[0].clone(),
            email: t[1].clone(),
            account: t[2].clone(),
            page_url: t[3].clone(),
            tenant_domain: t[4].clone(),
            country: t[5].clone(),
            visitor_type: t[6].clone(),
            custom_fields,
            user_context,
        })
        .boxed()
}

fn attachment(s: &Space) -> BoxedStrategy<Attachment> {
    (
        s.text.clone(),
        s.text.clone(),
        s.number.clone(),
        s.text.clone(),
    )
        .prop_map(|(name, mime_type, size_bytes, url)| Attachment {
            name,
            mime_type,
            size_bytes,
            url,
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Generators: helpdesk types
// ---------------------------------------------------------------------------------------

fn ticket_status() -> BoxedStrategy<TicketStatus> {
    select(vec![
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ])
    .boxed()
}

fn ticket_priority() -> BoxedStrategy<TicketPriority> {
    select(vec![
        TicketPriority::Low,
        TicketPriority::Medium,
        TicketPriority::High,
        TicketPriority::Critical,
    ])
    .boxed()
}

fn channel() -> BoxedStrategy<Channel> {
    select(vec![
        Channel::Chat,
        Channel::Email,
        Channel::Web,
        Channel::OfflineMessage,
        Channel::Phone,
    ])
    .boxed()
}

fn requester(s: &Space) -> BoxedStrategy<Requester> {
    (
        opt(s.visitor.clone()),
        opt(s.text.clone()),
        opt(s.email.clone()),
    )
        .prop_map(|(visitor_id, name, email)| Requester {
            visitor_id,
            name,
            email,
        })
        .boxed()
}

fn calendar_config(s: &Space) -> BoxedStrategy<CalendarConfig> {
    (s.calendar.clone(), s.text.clone(), business_hours(s))
        .prop_map(|(id, name, hours)| CalendarConfig { id, name, hours })
        .boxed()
}

fn sla_policy(s: &Space) -> BoxedStrategy<SlaPolicy> {
    let target = (s.count.clone(), any::<bool>())
        .prop_map(|(minutes, business_hours)| SlaTarget {
            minutes,
            business_hours,
        })
        .boxed();
    let targets = prop::collection::vec(opt(target), 4).prop_map(|t| SlaTargets {
        first_response: t[0],
        next_response: t[1],
        periodic_update: t[2],
        resolution: t[3],
    });
    let conditions = (
        list(ticket_priority()),
        list(s.department.clone()),
        list(channel()),
        list(s.text.clone()),
    )
        .prop_map(|(priorities, departments, channels, tags)| SlaConditions {
            priorities,
            departments,
            channels,
            tags,
        });
    let escalation = (any::<bool>(), opt(s.department.clone()), any::<bool>()).prop_map(
        |(raise_priority, reassign_team_id, notify_supervisors)| SlaEscalation {
            raise_priority,
            reassign_team_id,
            notify_supervisors,
        },
    );
    (
        (
            s.sla_policy.clone(),
            s.text.clone(),
            any::<i32>(),
            any::<bool>(),
        ),
        (
            conditions,
            targets,
            opt(s.calendar.clone()),
            s.percent.clone(),
            escalation,
        ),
    )
        .prop_map(
            |(
                (id, name, position, enabled),
                (conditions, targets, calendar_id, warning_percent, escalation),
            )| SlaPolicy {
                id,
                name,
                position,
                enabled,
                conditions,
                targets,
                calendar_id,
                warning_percent,
                escalation,
            },
        )
        .boxed()
}

fn ticket_template(s: &Space) -> BoxedStrategy<TicketTemplate> {
    (
        s.template.clone(),
        s.text.clone(),
        s.text.clone(),
        s.text.clone(),
        ticket_priority(),
        opt(s.department.clone()),
        list(s.text.clone()),
    )
        .prop_map(
            |(id, name, subject, description, priority, team_id, tags)| TicketTemplate {
                id,
                name,
                subject,
                description,
                priority,
                team_id,
                tags,
            },
        )
        .boxed()
}

fn ticket_changes(s: &Space) -> BoxedStrategy<TicketChanges> {
    // `due_at`: omitted (keep), null (clear) or a date.
    let due_at = prop_oneof![
        Just(None),
        Just(Some(None)),
        s.timestamp.clone().prop_map(|t| Some(Some(t))),
    ];
    (
        opt(s.text.clone()),
        opt(s.text.clone()),
        opt(ticket_priority()),
        opt(s.department.clone()),
        due_at,
    )
        .prop_map(
            |(subject, description, priority, department_id, due_at)| TicketChanges {
                subject,
                description,
                priority,
                department_id,
                due_at,
            },
        )
        .boxed()
}

fn ticket_filter(s: &Space) -> BoxedStrategy<TicketFilter> {
    (
        (
            list(ticket_status()),
            list(ticket_priority()),
            opt(s.agent.clone()),
            opt(s.department.clone()),
            any::<bool>(),
        ),
        (
            opt(s.text.clone()),
            any::<bool>(),
            opt(s.count.clone()),
            opt(s.ticket.clone()),
        ),
    )
        .prop_map(
            |(
                (statuses, priorities, assignee_id, team_id, unassigned),
                (tag, include_deleted, limit, after),
            )| TicketFilter {
                statuses,
                priorities,
                assignee_id,
                team_id,
                unassigned,
                tag,
                include_deleted,
                limit,
                after,
            },
        )
        .boxed()
}

/// Exactly one of two, both, or neither (mostly exactly one).
fn one_of<A, B>(a: BoxedStrategy<A>, b: BoxedStrategy<B>) -> BoxedStrategy<(Option<A>, Option<B>)>
where
    A: Debug + Clone + 'static,
    B: Debug + Clone + 'static,
{
    prop_oneof![
        3 => a.clone().prop_map(|a| (Some(a), None)),
        3 => b.clone().prop_map(|b| (None, Some(b))),
        1 => (a, b).prop_map(|(a, b)| (Some(a), Some(b))),
        1 => Just((None, None)),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Generators: commands, one strategy per variant
// ---------------------------------------------------------------------------------------

/// One strategy per command variant, with its wire name. `every_command_variant_has_a_generator`
/// fails when a variant is added without one.
fn command_strategies(s: &Space) -> Vec<(&'static str, BoxedStrategy<Command>)> {
    let t = || s.text.clone();
    let ot = || opt(s.text.clone());
    let ses = || s.session.clone();
    vec![
        (
            "create_tenant",
            tenant_settings(s)
                .prop_map(|settings| Command::CreateTenant { settings })
                .boxed(),
        ),
        (
            "update_tenant_settings",
            tenant_settings(s)
                .prop_map(|settings| Command::UpdateTenantSettings { settings })
                .boxed(),
        ),
        (
            "upsert_department",
            (s.department.clone(), t(), opt(s.calendar.clone()))
                .prop_map(|(id, name, calendar_id)| Command::UpsertDepartment {
                    department: Department {
                        id,
                        name,
                        calendar_id,
                    },
                })
                .boxed(),
        ),
        (
            "remove_department",
            s.department
                .clone()
                .prop_map(|department_id| Command::RemoveDepartment { department_id })
                .boxed(),
        ),
        (
            "upsert_queue",
            queue_config(s)
                .prop_map(|queue| Command::UpsertQueue { queue })
                .boxed(),
        ),
        (
            "remove_queue",
            s.queue
                .clone()
                .prop_map(|queue_id| Command::RemoveQueue { queue_id })
                .boxed(),
        ),
        (
            "upsert_agent",
            agent_profile(s)
                .prop_map(|agent| Command::UpsertAgent { agent })
                .boxed(),
        ),
        (
            "remove_agent",
            s.agent
                .clone()
                .prop_map(|agent_id| Command::RemoveAgent { agent_id })
                .boxed(),
        ),
        (
            "set_routing_rules",
            list(routing_rule(s))
                .prop_map(|rules| Command::SetRoutingRules { rules })
                .boxed(),
        ),
        (
            "create_canned_response",
            (
                select(vec![CannedScope::Personal, CannedScope::Tenant]),
                t(),
                ot(),
                t(),
            )
                .prop_map(
                    |(scope, title, shortcut, body)| Command::CreateCannedResponse {
                        scope,
                        title,
                        shortcut,
                        body,
                    },
                )
                .boxed(),
        ),
        (
            "update_canned_response",
            (s.canned.clone(), t(), ot(), t())
                .prop_map(|(canned_response_id, title, shortcut, body)| {
                    Command::UpdateCannedResponse {
                        canned_response_id,
                        title,
                        shortcut,
                        body,
                    }
                })
                .boxed(),
        ),
        (
            "delete_canned_response",
            s.canned
                .clone()
                .prop_map(|canned_response_id| Command::DeleteCannedResponse { canned_response_id })
                .boxed(),
        ),
        (
            "force_logout_all",
            ot().prop_map(|reason| Command::ForceLogoutAll { reason })
                .boxed(),
        ),
        (
            "forget_visitor",
            s.visitor
                .clone()
                .prop_map(|visitor_id| Command::ForgetVisitor { visitor_id })
                .boxed(),
        ),
        (
            "set_agent_status",
            (agent_status(), opt(s.agent.clone()))
                .prop_map(|(status, agent_id)| Command::SetAgentStatus { status, agent_id })
                .boxed(),
        ),
        (
            "agent_connected",
            opt(s.agent.clone())
                .prop_map(|agent_id| Command::AgentConnected { agent_id })
                .boxed(),
        ),
        (
            "agent_disconnected",
            opt(s.agent.clone())
                .prop_map(|agent_id| Command::AgentDisconnected { agent_id })
                .boxed(),
        ),
        ("end_wrap_up", Just(Command::EndWrapUp {}).boxed()),
        (
            "start_session",
            (
                visitor_profile(s),
                opt(s.department.clone()),
                ot(),
                ot(),
                ot(),
                ot(),
            )
                .prop_map(
                    |(
                        visitor,
                        department_id,
                        issue_type,
                        language,
                        initial_message,
                        client_message_id,
                    )| {
                        Command::StartSession {
                            visitor,
                            department_id,
                            issue_type,
                            language,
                            initial_message,
                            client_message_id,
                        }
                    },
                )
                .boxed(),
        ),
        (
            "accept_offer",
            ses()
                .prop_map(|session_id| Command::AcceptOffer { session_id })
                .boxed(),
        ),
        (
            "decline_offer",
            ses()
                .prop_map(|session_id| Command::DeclineOffer { session_id })
                .boxed(),
        ),
        (
            "pick_session",
            ses()
                .prop_map(|session_id| Command::PickSession { session_id })
                .boxed(),
        ),
        (
            "assign_session",
            (ses(), s.agent.clone())
                .prop_map(|(session_id, agent_id)| Command::AssignSession {
                    session_id,
                    agent_id,
                })
                .boxed(),
        ),
        (
            "send_message",
            (ses(), t(), message_kind(), opt(attachment(s)), ot())
                .prop_map(|(session_id, body, kind, attachment, client_message_id)| {
                    Command::SendMessage {
                        session_id,
                        body,
                        kind,
                        attachment,
                        client_message_id,
                    }
                })
                .boxed(),
        ),
        (
            "send_canned_response",
            (ses(), s.canned.clone(), ot())
                .prop_map(|(session_id, canned_response_id, client_message_id)| {
                    Command::SendCannedResponse {
                        session_id,
                        canned_response_id,
                        client_message_id,
                    }
                })
                .boxed(),
        ),
        (
            "set_typing",
            (ses(), any::<bool>())
                .prop_map(|(session_id, active)| Command::SetTyping { session_id, active })
                .boxed(),
        ),
        (
            "mark_read",
            (ses(), opt(s.number.clone()))
                .prop_map(|(session_id, up_to_seq)| Command::MarkRead {
                    session_id,
                    up_to_seq,
                })
                .boxed(),
        ),
        (
            "add_note",
            (ses(), t())
                .prop_map(|(session_id, body)| Command::AddNote { session_id, body })
                .boxed(),
        ),
        (
            "add_tags",
            (ses(), list(t()))
                .prop_map(|(session_id, tags)| Command::AddTags { session_id, tags })
                .boxed(),
        ),
        (
            "remove_tags",
            (ses(), list(t()))
                .prop_map(|(session_id, tags)| Command::RemoveTags { session_id, tags })
                .boxed(),
        ),
        (
            "transfer_session",
            (ses(), opt(s.agent.clone()), opt(s.department.clone()), t())
                .prop_map(|(session_id, to_agent_id, to_department_id, reason)| {
                    Command::TransferSession {
                        session_id,
                        to_agent_id,
                        to_department_id,
                        reason,
                    }
                })
                .boxed(),
        ),
        (
            "accept_transfer",
            s.transfer
                .clone()
                .prop_map(|transfer_id| Command::AcceptTransfer { transfer_id })
                .boxed(),
        ),
        (
            "reject_transfer",
            s.transfer
                .clone()
                .prop_map(|transfer_id| Command::RejectTransfer { transfer_id })
                .boxed(),
        ),
        (
            "cancel_transfer",
            s.transfer
                .clone()
                .prop_map(|transfer_id| Command::CancelTransfer { transfer_id })
                .boxed(),
        ),
        (
            "resolve_session",
            ses()
                .prop_map(|session_id| Command::ResolveSession { session_id })
                .boxed(),
        ),
        (
            "close_session",
            ses()
                .prop_map(|session_id| Command::CloseSession { session_id })
                .boxed(),
        ),
        (
            "leave_session",
            ses()
                .prop_map(|session_id| Command::LeaveSession { session_id })
                .boxed(),
        ),
        (
            "submit_csat",
            (one_of(s.survey.clone(), ses()), s.byte.clone(), ot())
                .prop_map(
                    |((survey_id, session_id), rating, comment)| Command::SubmitCsat {
                        survey_id,
                        session_id,
                        rating,
                        comment,
                    },
                )
                .boxed(),
        ),
        (
            "hand_off",
            (ses(), t(), opt(s.department.clone()))
                .prop_map(|(session_id, reason, department_id)| Command::HandOff {
                    session_id,
                    reason,
                    department_id,
                })
                .boxed(),
        ),
        (
            "route_decision",
            (s.effect.clone(), opt(s.agent.clone()))
                .prop_map(|(effect_id, agent_id)| Command::RouteDecision {
                    effect_id,
                    agent_id,
                })
                .boxed(),
        ),
        (
            "create_conversation",
            (
                select(vec![ConversationKind::Direct, ConversationKind::Group]),
                list(s.agent.clone()),
                ot(),
            )
                .prop_map(|(kind, member_ids, title)| Command::CreateConversation {
                    kind,
                    member_ids,
                    title,
                })
                .boxed(),
        ),
        (
            "add_conversation_members",
            (s.conversation.clone(), list(s.agent.clone()))
                .prop_map(
                    |(conversation_id, member_ids)| Command::AddConversationMembers {
                        conversation_id,
                        member_ids,
                    },
                )
                .boxed(),
        ),
        (
            "leave_conversation",
            s.conversation
                .clone()
                .prop_map(|conversation_id| Command::LeaveConversation { conversation_id })
                .boxed(),
        ),
        (
            "send_conversation_message",
            (s.conversation.clone(), t(), message_kind(), ot())
                .prop_map(|(conversation_id, body, kind, client_message_id)| {
                    Command::SendConversationMessage {
                        conversation_id,
                        body,
                        kind,
                        client_message_id,
                    }
                })
                .boxed(),
        ),
        (
            "mark_conversation_read",
            (s.conversation.clone(), opt(s.number.clone()))
                .prop_map(
                    |(conversation_id, up_to_seq)| Command::MarkConversationRead {
                        conversation_id,
                        up_to_seq,
                    },
                )
                .boxed(),
        ),
        (
            "set_conversation_typing",
            (s.conversation.clone(), any::<bool>())
                .prop_map(|(conversation_id, active)| Command::SetConversationTyping {
                    conversation_id,
                    active,
                })
                .boxed(),
        ),
        (
            "get_queue_status",
            (opt(s.queue.clone()), opt(s.department.clone()))
                .prop_map(|(queue_id, department_id)| Command::GetQueueStatus {
                    queue_id,
                    department_id,
                })
                .boxed(),
        ),
        (
            "get_session",
            ses()
                .prop_map(|session_id| Command::GetSession { session_id })
                .boxed(),
        ),
        (
            "list_queue",
            s.queue
                .clone()
                .prop_map(|queue_id| Command::ListQueue { queue_id })
                .boxed(),
        ),
        (
            "get_agent",
            opt(s.agent.clone())
                .prop_map(|agent_id| Command::GetAgent { agent_id })
                .boxed(),
        ),
        (
            "list_canned_responses",
            Just(Command::ListCannedResponses {}).boxed(),
        ),
        (
            "render_canned_response",
            (ses(), s.canned.clone())
                .prop_map(
                    |(session_id, canned_response_id)| Command::RenderCannedResponse {
                        session_id,
                        canned_response_id,
                    },
                )
                .boxed(),
        ),
        (
            "upsert_calendar",
            calendar_config(s)
                .prop_map(|calendar| Command::UpsertCalendar { calendar })
                .boxed(),
        ),
        (
            "remove_calendar",
            s.calendar
                .clone()
                .prop_map(|calendar_id| Command::RemoveCalendar { calendar_id })
                .boxed(),
        ),
        (
            "set_sla_policies",
            list(sla_policy(s))
                .prop_map(|policies| Command::SetSlaPolicies { policies })
                .boxed(),
        ),
        (
            "upsert_ticket_template",
            ticket_template(s)
                .prop_map(|template| Command::UpsertTicketTemplate { template })
                .boxed(),
        ),
        (
            "remove_ticket_template",
            s.template
                .clone()
                .prop_map(|template_id| Command::RemoveTicketTemplate { template_id })
                .boxed(),
        ),
        (
            "create_ticket",
            (
                (t(), t(), requester(s), opt(ticket_priority()), channel()),
                (
                    opt(s.department.clone()),
                    opt(s.department.clone()),
                    opt(s.agent.clone()),
                    list(t()),
                ),
                (
                    opt(s.timestamp.clone()),
                    opt(s.template.clone()),
                    prop::collection::btree_map(t(), t(), 0..3),
                    list(attachment(s)),
                ),
            )
                .prop_map(
                    |(
                        (subject, description, requester, priority, channel),
                        (department_id, team_id, assignee_id, tags),
                        (due_at, template_id, variables, attachments),
                    )| Command::CreateTicket {
                        subject,
                        description,
                        requester,
                        priority,
                        channel,
                        department_id,
                        team_id,
                        assignee_id,
                        tags,
                        due_at,
                        template_id,
                        variables,
                        attachments,
                    },
                )
                .boxed(),
        ),
        (
            "update_ticket",
            (s.ticket.clone(), ticket_changes(s))
                .prop_map(|(ticket_id, changes)| Command::UpdateTicket { ticket_id, changes })
                .boxed(),
        ),
        (
            "set_ticket_status",
            (s.ticket.clone(), ticket_status())
                .prop_map(|(ticket_id, status)| Command::SetTicketStatus { ticket_id, status })
                .boxed(),
        ),
        (
            "assign_ticket",
            (
                s.ticket.clone(),
                opt(s.agent.clone()),
                opt(s.department.clone()),
            )
                .prop_map(|(ticket_id, assignee_id, team_id)| Command::AssignTicket {
                    ticket_id,
                    assignee_id,
                    team_id,
                })
                .boxed(),
        ),
        (
            "add_ticket_message",
            (
                s.ticket.clone(),
                t(),
                message_kind(),
                any::<bool>(),
                list(attachment(s)),
            )
                .prop_map(|(ticket_id, body, kind, internal, attachments)| {
                    Command::AddTicketMessage {
                        ticket_id,
                        body,
                        kind,
                        internal,
                        attachments,
                    }
                })
                .boxed(),
        ),
        (
            "add_ticket_tags",
            (s.ticket.clone(), list(t()))
                .prop_map(|(ticket_id, tags)| Command::AddTicketTags { ticket_id, tags })
                .boxed(),
        ),
        (
            "remove_ticket_tags",
            (s.ticket.clone(), list(t()))
                .prop_map(|(ticket_id, tags)| Command::RemoveTicketTags { ticket_id, tags })
                .boxed(),
        ),
        (
            "delete_ticket",
            s.ticket
                .clone()
                .prop_map(|ticket_id| Command::DeleteTicket { ticket_id })
                .boxed(),
        ),
        (
            "restore_ticket",
            s.ticket
                .clone()
                .prop_map(|ticket_id| Command::RestoreTicket { ticket_id })
                .boxed(),
        ),
        (
            "submit_offline_message",
            (
                ot(),
                opt(s.email.clone()),
                ot(),
                t(),
                opt(s.department.clone()),
                opt(ses()),
            )
                .prop_map(
                    |(name, email, subject, message, department_id, session_id)| {
                        Command::SubmitOfflineMessage {
                            name,
                            email,
                            subject,
                            message,
                            department_id,
                            session_id,
                        }
                    },
                )
                .boxed(),
        ),
        (
            "convert_session_to_ticket",
            (ses(), ot(), ot(), opt(ticket_priority()))
                .prop_map(|(session_id, subject, description, priority)| {
                    Command::ConvertSessionToTicket {
                        session_id,
                        subject,
                        description,
                        priority,
                    }
                })
                .boxed(),
        ),
        (
            "request_csat",
            one_of(ses(), s.ticket.clone())
                .prop_map(|(session_id, ticket_id)| Command::RequestCsat {
                    session_id,
                    ticket_id,
                })
                .boxed(),
        ),
        (
            "email_transcript",
            (ses(), opt(s.email.clone()))
                .prop_map(|(session_id, email)| Command::EmailTranscript { session_id, email })
                .boxed(),
        ),
        (
            "get_ticket",
            s.ticket
                .clone()
                .prop_map(|ticket_id| Command::GetTicket { ticket_id })
                .boxed(),
        ),
        (
            "list_tickets",
            ticket_filter(s)
                .prop_map(|filter| Command::ListTickets { filter })
                .boxed(),
        ),
    ]
}

fn any_command(s: &Space) -> BoxedStrategy<Command> {
    Union::new(
        command_strategies(s)
            .into_iter()
            .map(|(_, strategy)| strategy),
    )
    .boxed()
}

// ---------------------------------------------------------------------------------------
// (a) Commands round-trip
// ---------------------------------------------------------------------------------------

#[test]
fn every_command_variant_has_a_generator() {
    let mut runner = TestRunner::deterministic();
    let mut generated = BTreeSet::new();
    for (name, strategy) in command_strategies(&wild_space()) {
        let command = strategy.new_tree(&mut runner).expect("a command").current();
        assert_eq!(
            command.name(),
            name,
            "the generator for {name} makes {command:?}"
        );
        generated.insert(name.to_owned());
    }
    assert_eq!(generated, variant_tags::<Command>("type"));
}

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn commands_round_trip_through_json(command in any_command(&wild_space())) {
        assert_round_trip(&command)?;
        // As a binding sends it: inside a request, through the facade's parser.
        let actor = Actor::new("acme", "alice", Role::Agent);
        let request = json!({ "v": 1, "now": 1_767_261_600_000i64, "actor": actor, "command": command });
        let (now, parsed_actor, parsed) = parse_request(&request.to_string())
            .map_err(|e| TestCaseError::fail(format!("{e}: {request}")))?;
        prop_assert_eq!(now, Timestamp(1_767_261_600_000));
        prop_assert_eq!(parsed_actor, actor);
        prop_assert_eq!(parsed, command);
    }
}

// ---------------------------------------------------------------------------------------
// The world: an engine with a tenant, and generated steps against it
// ---------------------------------------------------------------------------------------

const T0: i64 = 1_767_261_600_000;

fn actor(id: &str, role: Role) -> Actor {
    Actor::new("acme", id, role)
}

/// Tickets `world()` opens: `tkt_1` to `tkt_5`.
const WORLD_TICKETS: u64 = 5;

/// A tenant with departments, queues of several strategies, staff online, routing rules
/// (one to a bot), canned responses, a few sessions, and a helpdesk: business-hours
/// calendars (sales keeps office hours), SLA policies (urgent tickets, chats, the rest),
/// ticket templates and tickets:
///
/// - `tkt_1`: by alice for visitor v3, assigned to her, high priority, in progress, replied;
/// - `tkt_2`: by visitor v1 in sales, resolved (its survey `srv_1` is outstanding);
/// - `tkt_3`: visitor v2's offline message to support;
/// - `tkt_4`: by sue from the template for visitor v4, by e-mail;
/// - `tkt_5`: by bob for a walk-in customer (no visitor), due in a day, soft-deleted.
///
/// It starts on a Thursday, New Year's Day 2026, at 11:00 in Berlin (office hours: no
/// holiday is set for it).
fn world() -> &'static (Engine, i64) {
    static WORLD: OnceLock<(Engine, i64)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut engine = Engine::new(EngineConfig {
            seed: 11,
            ..Default::default()
        });
        let mut now = T0;
        let mut run = |engine: &mut Engine, who: &Actor, command: Value| {
            now += 1_000;
            let command: Command = serde_json::from_value(command).expect("a valid command");
            let name = command.name();
            engine
                .handle(Timestamp(now), who, command)
                .unwrap_or_else(|e| panic!("setup {name}: {e}"));
            while engine.poll_output().is_some() {}
        };
        let root = actor("root", Role::Superadmin);
        let admin = actor("admin", Role::TenantAdmin);
        let e = &mut engine;
        run(e, &root, json!({ "type": "create_tenant", "settings": { "name": "Acme", "timing": {
            "inactivity_close_ms": 300_000, "wrap_up_ms": 10_000, "disconnect_grace_ms": 30_000,
            "transfer_timeout_ms": 30_000, "resolved_close_ms": 60_000 } } }));
        for (id, name) in [("support", "Support"), ("sales", "Sales")] {
            run(e, &admin, json!({ "type": "upsert_department", "department": { "id": id, "name": name } }));
        }
        run(e, &admin, json!({ "type": "upsert_queue", "queue": { "id": "support", "department_id": "support",
            "reroute_after_no_reply_ms": 60_000 } }));
        run(e, &admin, json!({ "type": "upsert_queue", "queue": { "id": "sales", "department_id": "sales",
            "strategy": "external", "fallback_strategy": "round_robin", "external_timeout_ms": 20_000,
            "max_wait_ms": 90_000,
            "overflow_queue_id": "support", "queue_when_no_agents": true } }));
        run(e, &admin, json!({ "type": "upsert_queue", "queue": { "id": "vip", "strategy": "broadcast",
            "max_length": 3 } }));
        for (id, extra) in [
            ("alice", json!({ "departments": ["support"], "max_concurrent_chats": 2, "languages": ["en"] })),
            ("bob", json!({ "departments": ["support", "sales"], "skills": { "billing": 8 } })),
            ("carol", json!({ "departments": ["sales"], "auto_accept": true })),
            ("sue", json!({ "role": "supervisor", "departments": ["support"] })),
            ("vic", json!({ "role": "viewer" })),
        ] {
            let mut agent = json!({ "id": id, "name": id.to_uppercase() });
            for (k, v) in extra.as_object().expect("an object") {
                agent[k] = v.clone();
            }
            run(e, &admin, json!({ "type": "upsert_agent", "agent": agent }));
        }
        run(e, &admin, json!({ "type": "set_routing_rules", "rules": [
            { "id": "r1", "triggers": { "issue_type": ["Billing"] }, "actions": { "bot": "helpbot", "queue": "sales" } },
            { "id": "r2", "triggers": { "visitor_type": "premium" }, "actions": { "queue": "vip", "priority": 5 } }
        ] }));
        run(e, &admin, json!({ "type": "create_canned_response", "scope": "tenant", "title": "Hi",
            "body": "Hello {{visitor.name}}, this is {{agent.name}}." }));
        run(e, &actor("alice", Role::Agent), json!({ "type": "create_canned_response", "title": "Bye", "body": "Bye!" }));
        for (id, role) in [
            ("alice", Role::Agent),
            ("bob", Role::Agent),
            ("carol", Role::Agent),
            ("sue", Role::Supervisor),
            ("vic", Role::Viewer),
        ] {
            run(e, &actor(id, role), json!({ "type": "set_agent_status", "status": "online" }));
        }
        let weekdays = |hours: Value| {
            json!({ "monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
                "friday": hours })
        };
        run(e, &admin, json!({ "type": "upsert_calendar", "calendar": { "id": "office",
            "name": "Office", "time_zone": "Europe/Berlin",
            "weekly": weekdays(json!({ "start": "08:00", "end": "18:00" })),
            "holidays": [{ "date": "2026-12-25", "name": "Christmas Day" }, { "date": "2026-12-26" }],
            "special_days": [{ "date": "2026-12-24", "name": "Christmas Eve",
                "hours": [{ "start": "08:00", "end": "12:00" }] }] } }));
        run(e, &admin, json!({ "type": "upsert_calendar", "calendar": { "id": "weekend",
            "time_zone": "UTC", "weekly": { "saturday": [{ "start": "10:00", "end": "14:00" }],
            "sunday": [{ "start": "10:00", "end": "12:00" }, { "start": "22:00", "end": "02:00" }] },
            "holidays": [{ "date": "2026-01-03" }],
            "special_days": [{ "date": "2026-01-01", "hours": [] }] } }));
        run(e, &admin, json!({ "type": "upsert_department", "department": { "id": "sales",
            "name": "Sales", "calendar_id": "office" } }));
        run(e, &admin, json!({ "type": "set_sla_policies", "policies": [
            { "id": "urgent", "name": "Urgent", "position": 0,
              "conditions": { "priorities": ["high", "critical"] },
              "targets": { "first_response": { "minutes": 15 }, "resolution": { "minutes": 240 } },
              "warning_percent": 50,
              "escalation": { "raise_priority": true, "notify_supervisors": true } },
            { "id": "chat", "name": "Chats", "position": 1, "conditions": { "channels": ["chat"] },
              "targets": { "first_response": { "minutes": 2 }, "next_response": { "minutes": 1 } } },
            { "id": "standard", "name": "Standard", "position": 2, "calendar_id": "office",
              "targets": { "first_response": { "minutes": 60, "business_hours": true },
                "next_response": { "minutes": 30 }, "periodic_update": { "minutes": 120 },
                "resolution": { "minutes": 1440, "business_hours": true } },
              "escalation": { "reassign_team_id": "support" } }
        ] }));
        run(e, &admin, json!({ "type": "upsert_ticket_template", "template": { "id": "tech",
            "name": "Technical issue", "subject": "Technical issue: {{issue_type}}",
            "description": "Reported: {{details}}", "priority": "high", "team_id": "support",
            "tags": ["tech"] } }));
        run(e, &admin, json!({ "type": "upsert_ticket_template", "template": { "id": "billing",
            "name": "Billing", "subject": "Billing question" } }));
        let (alice, bob, sue) = (
            actor("alice", Role::Agent),
            actor("bob", Role::Agent),
            actor("sue", Role::Supervisor),
        );
        run(e, &alice, json!({ "type": "create_ticket", "subject": "Printer on fire",
            "description": "Since this morning", "priority": "high", "department_id": "support",
            "assignee_id": "alice", "tags": ["hardware"],
            "requester": { "visitor_id": "v3", "name": "Vera", "email": "vera@example.com" } }));
        run(e, &actor("v1", Role::Visitor), json!({ "type": "create_ticket",
            "subject": "Where is my order?", "description": "Order 42", "department_id": "sales" }));
        run(e, &actor("v2", Role::Visitor), json!({ "type": "submit_offline_message",
            "name": "Val", "email": "val@example.com", "message": "Please call me back",
            "department_id": "support" }));
        run(e, &sue, json!({ "type": "create_ticket", "template_id": "tech", "channel": "email",
            "variables": { "issue_type": "Login", "details": "cannot sign in" },
            "requester": { "visitor_id": "v4" } }));
        run(e, &bob, json!({ "type": "create_ticket", "subject": "Invoice copy", "channel": "phone",
            "team_id": "sales", "due_at": T0 + 86_400_000, "requester": { "name": "Walk-in" } }));
        run(e, &alice, json!({ "type": "set_ticket_status", "ticket_id": "tkt_1", "status": "in_progress" }));
        run(e, &alice, json!({ "type": "add_ticket_message", "ticket_id": "tkt_1",
            "body": "We are on our way." }));
        run(e, &bob, json!({ "type": "add_ticket_message", "ticket_id": "tkt_2",
            "body": "It ships today.", "kind": "markdown" }));
        run(e, &bob, json!({ "type": "set_ticket_status", "ticket_id": "tkt_2", "status": "resolved" }));
        run(e, &sue, json!({ "type": "delete_ticket", "ticket_id": "tkt_5" }));
        run(e, &actor("v1", Role::Visitor), json!({ "type": "start_session", "initial_message": "Hello" }));
        run(e, &actor("v2", Role::Visitor), json!({ "type": "start_session", "issue_type": "Billing" }));
        (engine, now)
    })
}

#[test]
fn the_world_has_the_helpdesk_it_describes() {
    let (engine, now) = world();
    let mut engine = engine.clone();
    let now = Timestamp(*now + 1_000);
    let filter = TicketFilter {
        include_deleted: true,
        ..TicketFilter::default()
    };
    let reply = engine
        .handle(
            now,
            &actor("sue", Role::Supervisor),
            Command::ListTickets { filter },
        )
        .expect("a list");
    let items = serde_json::to_value(&reply).expect("replies serialize")["items"].clone();
    let summary: Vec<Value> = items
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| {
            json!([
                t["ticket_id"],
                t["status"],
                t["requester"]["visitor_id"],
                t["sla"]["policy_id"],
                t["deleted_at"].is_number()
            ])
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            json!(["tkt_1", "in_progress", "v3", "urgent", false]),
            json!(["tkt_2", "resolved", "v1", "standard", false]),
            json!(["tkt_3", "open", "v2", "standard", false]),
            json!(["tkt_4", "open", "v4", "urgent", false]),
            json!(["tkt_5", "open", null, "standard", true]),
        ]
    );
    assert_eq!(summary.len() as u64, WORLD_TICKETS);
    engine
        .handle(
            now,
            &actor("v1", Role::Visitor),
            Command::SubmitCsat {
                survey_id: Some(SurveyId(1)),
                session_id: None,
                rating: 5,
                comment: None,
            },
        )
        .expect("srv_1 waits for v1");
}

fn all_actors() -> Vec<Actor> {
    vec![
        actor("root", Role::Superadmin),
        actor("admin", Role::TenantAdmin),
        actor("sue", Role::Supervisor),
        actor("alice", Role::Agent),
        actor("bob", Role::Agent),
        actor("carol", Role::Agent),
        actor("ghost", Role::Agent),
        actor("vic", Role::Viewer),
        actor("v1", Role::Visitor),
        actor("v2", Role::Visitor),
        actor("v3", Role::Visitor),
        actor("v4", Role::Visitor),
        actor("helpbot", Role::Bot),
        actor("host", Role::System),
        Actor::new("elsewhere", "alice", Role::Agent),
    ]
}

/// The actors who would normally send a command, so that generated sequences get far.
fn natural_actors(name: &str) -> Vec<Actor> {
    let staff = || {
        vec![
            actor("alice", Role::Agent),
            actor("bob", Role::Agent),
            actor("carol", Role::Agent),
            actor("sue", Role::Supervisor),
        ]
    };
    let visitors = || {
        vec![
            actor("v1", Role::Visitor),
            actor("v2", Role::Visitor),
            actor("v3", Role::Visitor),
            actor("v4", Role::Visitor),
        ]
    };
    match name {
        "create_tenant" => vec![actor("root", Role::Superadmin)],
        "update_tenant_settings"
        | "upsert_department"
        | "remove_department"
        | "upsert_queue"
        | "remove_queue"
        | "upsert_agent"
        | "remove_agent"
        | "set_routing_rules"
        | "force_logout_all"
        | "upsert_calendar"
        | "remove_calendar"
        | "set_sla_policies"
        | "upsert_ticket_template"
        | "remove_ticket_template" => vec![actor("admin", Role::TenantAdmin)],
        "start_session" | "leave_session" | "submit_csat" | "submit_offline_message" => visitors(),
        "delete_ticket" | "restore_ticket" => vec![
            actor("sue", Role::Supervisor),
            actor("admin", Role::TenantAdmin),
        ],
        "create_ticket" => {
            let mut all = staff();
            all.push(actor("host", Role::System));
            all
        }
        "get_ticket" | "add_ticket_message" | "email_transcript" => {
            let mut all = staff();
            all.extend(visitors());
            all
        }
        "assign_session" => vec![
            actor("sue", Role::Supervisor),
            actor("admin", Role::TenantAdmin),
        ],
        "forget_visitor" => vec![
            actor("admin", Role::TenantAdmin),
            actor("host", Role::System),
        ],
        "hand_off" => vec![actor("helpbot", Role::Bot)],
        "route_decision" => vec![actor("host", Role::System)],
        "agent_connected" | "agent_disconnected" => {
            let mut all = staff();
            all.push(actor("host", Role::System));
            all
        }
        "send_message" | "set_typing" | "mark_read" | "get_session" | "close_session" => {
            let mut all = staff();
            all.extend(visitors());
            all.push(actor("helpbot", Role::Bot));
            all
        }
        "create_conversation"
        | "add_conversation_members"
        | "leave_conversation"
        | "send_conversation_message"
        | "mark_conversation_read"
        | "set_conversation_typing" => {
            let mut all = staff();
            all.push(actor("vic", Role::Viewer));
            all
        }
        _ => staff(),
    }
}

/// How often each command is generated against the world (default 1).
fn weight(name: &str) -> u32 {
    match name {
        // About a tenth of all commands, so that there are sessions to work on.
        "start_session" => 11,
        "accept_offer" | "set_agent_status" | "send_message" => 5,
        "pick_session" | "transfer_session" | "accept_transfer" | "resolve_session"
        | "close_session" | "leave_session" | "route_decision" | "hand_off" | "decline_offer"
        | "assign_session" | "agent_disconnected" | "agent_connected" => 2,
        _ => 1,
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// `ms` later, `actor` sends `command`.
    Command {
        ms: i64,
        actor: Actor,
        command: Box<Command>,
    },
    /// `ms` later, someone reacts to what the engine said recently (takes an offer, answers
    /// a routing request, writes in a chat they hold...): the `choice`th possible reaction.
    React { ms: i64, choice: usize },
    /// Time passes and deadlines fire.
    Wait { ms: i64 },
}

/// The role the world's ids have.
fn world_actor(id: &str) -> Actor {
    let role = match id {
        "sue" => Role::Supervisor,
        "vic" => Role::Viewer,
        "helpbot" => Role::Bot,
        "admin" => Role::TenantAdmin,
        id if id.starts_with('v') => Role::Visitor,
        _ => Role::Agent,
    };
    actor(id, role)
}

/// What the people of the world could sensibly do next, given recent outputs.
fn reactions(recent: &[Output]) -> Vec<(Actor, Command)> {
    let mut out = Vec::new();
    let text = || "On it".to_owned();
    for output in recent {
        match output {
            Output::Effect {
                effect_id, effect, ..
            } => {
                let value = serde_json::to_value(effect).expect("effects serialize");
                if value["type"] == "route_request" {
                    let first = value["candidates"][0].as_str().map(AgentId::from);
                    for agent_id in [first, None] {
                        out.push((
                            actor("host", Role::System),
                            Command::RouteDecision {
                                effect_id: *effect_id,
                                agent_id,
                            },
                        ));
                    }
                }
            }
            Output::Deliver { to, event, .. } => {
                let value = serde_json::to_value(event).expect("events serialize");
                let session = value["session_id"]
                    .as_str()
                    .or(value["session"]["session_id"].as_str())
                    .and_then(|s| s.parse::<SessionId>().ok());
                for recipient in to {
                    let recipient = serde_json::to_value(recipient).expect("recipients serialize");
                    let id = recipient["id"].as_str().unwrap_or_default();
                    let who = world_actor(id);
                    match (value["type"].as_str().unwrap_or_default(), session) {
                        ("offered", _) => {
                            let offer = &value["offer"];
                            let session_id: SessionId =
                                serde_json::from_value(offer["session_id"].clone()).expect("an id");
                            match offer["transfer_id"]
                                .as_str()
                                .map(|t| t.parse::<TransferId>())
                            {
                                Some(Ok(transfer_id)) => {
                                    out.push((
                                        who.clone(),
                                        Command::AcceptTransfer { transfer_id },
                                    ));
                                    out.push((
                                        who.clone(),
                                        Command::RejectTransfer { transfer_id },
                                    ));
                                }
                                _ => {
                                    out.push((who.clone(), Command::AcceptOffer { session_id }));
                                    out.push((who.clone(), Command::AcceptOffer { session_id }));
                                    out.push((who.clone(), Command::DeclineOffer { session_id }));
                                }
                            }
                        }
                        ("session_assigned", Some(session_id)) => {
                            let other = if id == "bob" { "alice" } else { "bob" };
                            for command in [
                                Command::SendMessage {
                                    session_id,
                                    body: text(),
                                    kind: MessageKind::Text,
                                    attachment: None,
                                    client_message_id: Some("c1".into()),
                                },
                                Command::SendCannedResponse {
                                    session_id,
                                    canned_response_id: CannedResponseId(1),
                                    client_message_id: None,
                                },
                                Command::ResolveSession { session_id },
                                Command::CloseSession { session_id },
                                Command::AddNote {
                                    session_id,
                                    body: text(),
                                },
                                Command::AddTags {
                                    session_id,
                                    tags: vec!["vip".into()],
                                },
                                Command::MarkRead {
                                    session_id,
                                    up_to_seq: None,
                                },
                                Command::SetTyping {
                                    session_id,
                                    active: true,
                                },
                                Command::TransferSession {
                                    session_id,
                                    to_agent_id: Some(other.into()),
                                    to_department_id: None,
                                    reason: text(),
                                },
                                Command::TransferSession {
                                    session_id,
                                    to_agent_id: None,
                                    to_department_id: Some("sales".into()),
                                    reason: text(),
                                },
                                Command::AgentDisconnected { agent_id: None },
                                Command::ConvertSessionToTicket {
                                    session_id,
                                    subject: None,
                                    description: Some(text()),
                                    priority: None,
                                },
                                Command::RequestCsat {
                                    session_id: Some(session_id),
                                    ticket_id: None,
                                },
                                Command::EmailTranscript {
                                    session_id,
                                    email: Some("help@example.org".into()),
                                },
                            ] {
                                out.push((who.clone(), command));
                            }
                            out.push((
                                world_actor("sue"),
                                Command::AssignSession {
                                    session_id,
                                    agent_id: other.into(),
                                },
                            ));
                        }
                        (
                            "session_started" | "session_status_changed" | "queue_position",
                            Some(session_id),
                        ) if who.role == Role::Visitor => {
                            for command in [
                                Command::SendMessage {
                                    session_id,
                                    body: "Hello?".into(),
                                    kind: MessageKind::Text,
                                    attachment: None,
                                    client_message_id: None,
                                },
                                Command::SetTyping {
                                    session_id,
                                    active: true,
                                },
                                Command::MarkRead {
                                    session_id,
                                    up_to_seq: None,
                                },
                                Command::SubmitCsat {
                                    survey_id: None,
                                    session_id: Some(session_id),
                                    rating: 4,
                                    comment: None,
                                },
                                Command::LeaveSession { session_id },
                                Command::EmailTranscript {
                                    session_id,
                                    email: Some(format!("{id}@example.com")),
                                },
                            ] {
                                out.push((who.clone(), command));
                            }
                            if value["status"] == "bot" {
                                out.push((
                                    world_actor("helpbot"),
                                    Command::HandOff {
                                        session_id,
                                        reason: "needs a person".into(),
                                        department_id: None,
                                    },
                                ));
                            }
                        }
                        ("transfer_updated", _) if value["transfer"]["outcome"] == "pending" => {
                            let transfer_id: TransferId =
                                serde_json::from_value(value["transfer"]["transfer_id"].clone())
                                    .expect("an id");
                            let from = value["transfer"]["from_agent_id"]
                                .as_str()
                                .unwrap_or_default();
                            out.push((world_actor(from), Command::CancelTransfer { transfer_id }));
                        }
                        ("conversation_updated", _) => {
                            let conversation_id: ConversationId = serde_json::from_value(
                                value["conversation"]["conversation_id"].clone(),
                            )
                            .expect("an id");
                            out.push((
                                who.clone(),
                                Command::SendConversationMessage {
                                    conversation_id,
                                    body: text(),
                                    kind: MessageKind::Text,
                                    client_message_id: None,
                                },
                            ));
                            out.push((
                                who.clone(),
                                Command::MarkConversationRead {
                                    conversation_id,
                                    up_to_seq: None,
                                },
                            ));
                            out.push((who.clone(), Command::LeaveConversation { conversation_id }));
                        }
                        ("leave_a_message", session_id) => {
                            out.push((
                                who.clone(),
                                Command::SubmitOfflineMessage {
                                    name: Some("Visitor".into()),
                                    email: Some(format!("{id}@example.com")),
                                    subject: None,
                                    message: "Please call me back".into(),
                                    department_id: None,
                                    session_id,
                                },
                            ));
                        }
                        ("ticket_created" | "ticket_updated", _) if who.role != Role::Visitor => {
                            ticket_reactions(&value["ticket"], &who, &mut out);
                        }
                        ("ticket_received", _) => {
                            let ticket_id = ticket_id_of(&value["ticket"]);
                            out.push((
                                who.clone(),
                                Command::AddTicketMessage {
                                    ticket_id,
                                    body: "Any news?".into(),
                                    kind: MessageKind::Text,
                                    internal: false,
                                    attachments: Vec::new(),
                                },
                            ));
                            out.push((who.clone(), Command::GetTicket { ticket_id }));
                            if value["ticket"]["status"] == "resolved" {
                                for status in [TicketStatus::Closed, TicketStatus::Open] {
                                    out.push((
                                        who.clone(),
                                        Command::SetTicketStatus { ticket_id, status },
                                    ));
                                }
                            }
                        }
                        ("survey_requested", _) => {
                            let survey_id: SurveyId =
                                serde_json::from_value(value["survey_id"].clone()).expect("an id");
                            out.push((
                                who.clone(),
                                Command::SubmitCsat {
                                    survey_id: Some(survey_id),
                                    session_id: None,
                                    rating: 5,
                                    comment: Some("Thanks!".into()),
                                },
                            ));
                        }
                        ("unassigned_tickets", _) => {
                            if let Some(first) = value["tickets"].get(0) {
                                out.push((
                                    who.clone(),
                                    Command::AssignTicket {
                                        ticket_id: ticket_id_of(first),
                                        assignee_id: Some(id.into()),
                                        team_id: None,
                                    },
                                ));
                            }
                        }
                        ("sla_warning" | "sla_breached", _)
                            if value["subject"]["kind"] == "ticket" =>
                        {
                            out.push((
                                who.clone(),
                                Command::AddTicketMessage {
                                    ticket_id: ticket_id_of(&value["subject"]),
                                    body: text(),
                                    kind: MessageKind::Text,
                                    internal: false,
                                    attachments: Vec::new(),
                                },
                            ));
                        }
                        ("agent_status_forced" | "force_logout", _) => {
                            out.push((
                                who.clone(),
                                Command::SetAgentStatus {
                                    status: AgentStatus::Online,
                                    agent_id: None,
                                },
                            ));
                            out.push((who.clone(), Command::AgentConnected { agent_id: None }));
                        }
                        _ => {}
                    }
                }
            }
            Output::Persist { .. } => {}
        }
    }
    out
}

fn ticket_id_of(ticket: &Value) -> TicketId {
    serde_json::from_value(ticket["ticket_id"].clone()).expect("a ticket id")
}

/// What staff told about a ticket could do with it.
fn ticket_reactions(ticket: &Value, who: &Actor, out: &mut Vec<(Actor, Command)>) {
    let ticket_id = ticket_id_of(ticket);
    let mut commands = vec![Command::GetTicket { ticket_id }];
    if who.role == Role::Viewer {
        out.extend(commands.into_iter().map(|c| (who.clone(), c)));
        return;
    }
    let reply = |internal| Command::AddTicketMessage {
        ticket_id,
        body: if internal {
            "Checked the logs"
        } else {
            "On it"
        }
        .into(),
        kind: MessageKind::Text,
        internal,
        attachments: Vec::new(),
    };
    commands.extend([reply(false), reply(true)]);
    let next: &[TicketStatus] = match ticket["status"].as_str().unwrap_or_default() {
        "open" => &[TicketStatus::InProgress, TicketStatus::Pending],
        "in_progress" => &[TicketStatus::Pending, TicketStatus::Resolved],
        "pending" => &[TicketStatus::InProgress, TicketStatus::Resolved],
        "resolved" => &[TicketStatus::Closed, TicketStatus::Open],
        _ => &[],
    };
    for &status in next {
        commands.push(Command::SetTicketStatus { ticket_id, status });
    }
    let other: AgentId = if who.id.as_ref() == "bob" {
        "alice"
    } else {
        "bob"
    }
    .into();
    commands.extend([
        Command::AssignTicket {
            ticket_id,
            assignee_id: Some(other),
            team_id: Some("support".into()),
        },
        Command::AddTicketTags {
            ticket_id,
            tags: vec!["followup".into()],
        },
        Command::RemoveTicketTags {
            ticket_id,
            tags: vec!["hardware".into(), "followup".into()],
        },
        Command::UpdateTicket {
            ticket_id,
            changes: TicketChanges {
                priority: Some(TicketPriority::High),
                department_id: Some("sales".into()),
                ..TicketChanges::default()
            },
        },
        Command::RequestCsat {
            session_id: None,
            ticket_id: Some(ticket_id),
        },
    ]);
    if who.role.can_supervise() {
        commands.push(if ticket["deleted_at"].is_null() {
            Command::DeleteTicket { ticket_id }
        } else {
            Command::RestoreTicket { ticket_id }
        });
    } else if ticket["assignee_id"].is_null() {
        commands.push(Command::AssignTicket {
            ticket_id,
            assignee_id: Some(who.id.as_ref().into()),
            team_id: None,
        });
    }
    out.extend(commands.into_iter().map(|c| (who.clone(), c)));
}

fn world_command() -> BoxedStrategy<(Actor, Command)> {
    let options: Vec<(u32, BoxedStrategy<(Actor, Command)>)> = command_strategies(&world_space())
        .into_iter()
        .map(|(name, command)| {
            let actors = prop_oneof![
                4 => select(natural_actors(name)),
                1 => select(all_actors()),
            ];
            (weight(name), (actors, command).boxed())
        })
        .collect();
    Union::new_weighted(options).boxed()
}

fn step() -> BoxedStrategy<Step> {
    prop_oneof![
        4 => (0i64..=3_000, world_command())
            .prop_map(|(ms, (actor, command))| Step::Command { ms, actor, command: Box::new(command) }),
        6 => (0i64..=3_000, any::<usize>()).prop_map(|(ms, choice)| Step::React { ms, choice }),
        1 => prop_oneof![1i64..=5_000, 1i64..=120_000].prop_map(|ms| Step::Wait { ms }),
    ]
    .boxed()
}

/// How many recent outputs reactions are drawn from.
const RECENT: usize = 48;

/// Drains the engine, checking that every output round-trips, and remembers the latest.
fn drain_round_trip(engine: &mut Engine, recent: &mut Vec<Output>) -> Result<(), TestCaseError> {
    while let Some(output) = engine.poll_output() {
        assert_round_trip::<Output>(&output)?;
        recent.push(output);
    }
    if recent.len() > RECENT {
        recent.drain(..recent.len() - RECENT);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// (b) Replies and outputs round-trip; failed commands change nothing
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn everything_the_engine_says_round_trips(steps in prop::collection::vec(step(), 1..160)) {
        let (engine, start) = world();
        let mut engine = engine.clone();
        let mut now = *start;
        let mut recent = Vec::new();
        for step in steps {
            let (ms, actor, command) = match step {
                Step::Wait { ms } => {
                    now += ms;
                    engine.handle_timeout(Timestamp(now));
                    drain_round_trip(&mut engine, &mut recent)?;
                    continue;
                }
                Step::Command { ms, actor, command } => (ms, actor, *command),
                Step::React { ms, choice } => {
                    let mut options = reactions(&recent);
                    if options.is_empty() {
                        continue;
                    }
                    // Half the time react to the latest outputs, else to anything recent.
                    let pick = if choice % 2 == 0 {
                        choice / 2 % options.len()
                    } else {
                        options.len() - 1 - (choice / 2 % options.len().min(6))
                    };
                    let (actor, command) = options.swap_remove(pick);
                    (ms, actor, command)
                }
            };
            now += ms;
            // A host fires what is due before handling the next command.
            engine.handle_timeout(Timestamp(now));
            drain_round_trip(&mut engine, &mut recent)?;
            assert_round_trip(&command)?;
            let before = engine.clone();
            match engine.handle(Timestamp(now), &actor, command.clone()) {
                Ok(reply) => {
                    assert_round_trip::<Reply>(&reply)?;
                    drain_round_trip(&mut engine, &mut recent)?;
                }
                Err(error) => {
                    prop_assert!(!error.code().is_empty());
                    prop_assert_eq!(engine.pending_outputs(), 0,
                        "{} failed with {:?} but left outputs", command.name(), error);
                    prop_assert!(engine == before,
                        "{} by {:?} failed with {:?} but changed the engine",
                        command.name(), actor, error);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// (c) The JSON facade never panics
// ---------------------------------------------------------------------------------------

/// Checks an answer of `handle_json`, then drains and checks the outputs.
fn check_answer(engine: &mut Engine, input: &str, answer: &str) -> Result<(), TestCaseError> {
    let value: Value = serde_json::from_str(answer)
        .map_err(|e| TestCaseError::fail(format!("answer is not JSON ({e}): {answer}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| TestCaseError::fail(format!("answer is not an object: {answer}")))?;
    prop_assert_eq!(object.len(), 1, "answer {} to {}", answer, input);
    if let Some(reply) = object.get("ok") {
        serde_json::from_value::<Reply>(reply.clone())
            .map_err(|e| TestCaseError::fail(format!("ok is not a reply ({e}): {answer}")))?;
    } else {
        let error = object
            .get("error")
            .ok_or_else(|| TestCaseError::fail(format!("neither ok nor error: {answer}")))?;
        let code = error["code"].as_str().unwrap_or_default();
        prop_assert!(!code.is_empty(), "error without a code: {}", answer);
        prop_assert!(
            error["message"].is_string(),
            "error without a message: {}",
            answer
        );
        prop_assert!(
            error["details"].is_object(),
            "error without details: {}",
            answer
        );
    }
    while let Some(text) = poll_output_json(engine) {
        let output: Output = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("output does not parse ({e}): {text}")))?;
        prop_assert_eq!(
            serde_json::to_value(&output).expect("outputs serialize"),
            serde_json::from_str::<Value>(&text).expect("outputs are JSON")
        );
    }
    Ok(())
}

/// Runs inputs one after another on a copy of the world.
fn feed(inputs: &[String]) -> Result<(), TestCaseError> {
    let mut engine = world().0.clone();
    for input in inputs {
        let answer = handle_json(&mut engine, input);
        check_answer(&mut engine, input, &answer)?;
    }
    Ok(())
}

/// Strings the protocol uses, so random trees hit real paths.
fn protocol_word() -> BoxedStrategy<String> {
    let mut list: Vec<String> = variant_tags::<Command>("type").into_iter().collect();
    for word in [
        "acme",
        "elsewhere",
        "root",
        "admin",
        "alice",
        "bob",
        "sue",
        "vic",
        "v1",
        "helpbot",
        "host",
        "superadmin",
        "tenant_admin",
        "supervisor",
        "agent",
        "viewer",
        "visitor",
        "bot",
        "system",
        "online",
        "offline",
        "support",
        "sales",
        "vip",
        "ses_1",
        "ses_2",
        "ses_0",
        "ses_01",
        "ses_99999999999999999999",
        "eff_1",
        "trf_1",
        "conv_1",
        "canned_1",
        "text",
        "attachment",
        "direct",
        "group",
        "tenant",
        "personal",
        "external",
        "broadcast",
        "tkt_1",
        "tkt_2",
        "tkt_5",
        "srv_1",
        "office",
        "urgent",
        "tech",
        "open",
        "in_progress",
        "pending",
        "resolved",
        "closed",
        "high",
        "critical",
        "offline_message",
        "Europe/Berlin",
        "09:00",
        "",
    ] {
        list.push(word.to_owned());
    }
    select(list).boxed()
}

fn protocol_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => words(&[
            "v", "now", "actor", "command", "type", "tenant_id", "id", "role", "session_id",
            "agent_id", "queue_id", "department_id", "body", "kind", "status", "settings",
            "visitor", "agent", "queue", "name", "tags", "rating", "up_to_seq", "member_ids",
            "effect_id", "transfer_id", "conversation_id", "canned_response_id", "rules",
            "ticket_id", "survey_id", "changes", "filter", "policies", "calendar", "template",
            "calendar_id", "template_id", "requester", "priority", "due_at", "weekly",
            "time_zone", "targets", "minutes", "internal", "attachments", "message",
        ]),
        1 => any_text(),
    ]
    .boxed()
}

fn huge_number() -> BoxedStrategy<Value> {
    select(vec![
        json!(u64::MAX),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(-1),
        json!(0),
        json!(256),
        json!(65_536),
        json!(4_294_967_296u64),
        json!(1e300),
        json!(-1e300),
        json!(0.5),
        json!(-0.0),
        json!(1.0),
    ])
    .boxed()
}

fn chaos_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        huge_number(),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        protocol_word().prop_map(Value::String),
        any_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(protocol_key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A valid request from the world's generators.
fn valid_request() -> BoxedStrategy<Value> {
    (0i64..=10_000, world_command())
        .prop_map(|(ms, (actor, command))| {
            json!({ "v": 1, "now": T0 + 100_000 + ms, "actor": actor, "command": command })
        })
        .boxed()
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the node at this index (in depth-first order) with a value.
    Replace(usize, Value),
    /// Remove the node at this index from its parent.
    Remove(usize),
    /// Wrap the node at this index in this many arrays (or objects).
    Nest(usize, usize, bool),
    /// Give the command this tag.
    Tag(String),
    /// Cut the text at this fraction of its length.
    Truncate(f64),
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        4 => (any::<usize>(), prop_oneof![huge_number(), chaos_value()])
            .prop_map(|(at, value)| Mutation::Replace(at, value)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), 1usize..300, any::<bool>())
            .prop_map(|(at, depth, array)| Mutation::Nest(at, depth, array)),
        1 => prop_oneof![protocol_word(), any_text()].prop_map(Mutation::Tag),
        1 => (0.0f64..1.0).prop_map(Mutation::Truncate),
    ]
    .boxed()
}

/// Paths of every node, depth first, the root first.
fn paths(value: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(json!(i));
                paths(item, prefix, out);
                prefix.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                prefix.push(json!(key));
                paths(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |node, step| match step {
        Value::String(key) => &mut node[key.as_str()],
        index => &mut node[index.as_u64().expect("an index") as usize],
    })
}

fn pick_path(value: &Value, at: usize) -> Vec<Value> {
    let mut all = Vec::new();
    paths(value, &mut Vec::new(), &mut all);
    all.swap_remove(at % all.len())
}

fn mutate(mut request: Value, mutations: &[Mutation]) -> String {
    let mut cut = None;
    for mutation in mutations {
        match mutation {
            Mutation::Replace(at, with) => {
                let path = pick_path(&request, *at);
                *node(&mut request, &path) = with.clone();
            }
            Mutation::Remove(at) => {
                let path = pick_path(&request, *at);
                if let Some((last, parent)) = path.split_last() {
                    match (node(&mut request, parent), last) {
                        (Value::Object(map), Value::String(key)) => {
                            map.remove(key);
                        }
                        (Value::Array(items), index) => {
                            items.remove(index.as_u64().expect("an index") as usize);
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Nest(at, depth, array) => {
                let path = pick_path(&request, *at);
                let target = node(&mut request, &path);
                let mut nested = target.take();
                for _ in 0..*depth {
                    nested = if *array {
                        json!([nested])
                    } else {
                        json!({ "type": nested })
                    };
                }
                *target = nested;
            }
            Mutation::Tag(tag) => {
                if request["command"].is_object() {
                    request["command"]["type"] = json!(tag);
                }
            }
            Mutation::Truncate(fraction) => cut = Some(*fraction),
        }
    }
    let text = request.to_string();
    match cut {
        Some(fraction) => {
            let mut end = (text.len() as f64 * fraction) as usize;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].to_owned()
        }
        None => text,
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn arbitrary_text_gets_an_answer(
        inputs in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<char>(), 0..200).prop_map(String::from_iter),
                "[{}\\[\\]\":,0-9a-z_ .eE+-]{0,120}",
            ],
            1..4,
        )
    ) {
        feed(&inputs)?;
    }

    #[test]
    fn arbitrary_json_gets_an_answer(values in prop::collection::vec(chaos_value(), 1..4)) {
        let inputs: Vec<String> = values.iter().map(Value::to_string).collect();
        feed(&inputs)?;
    }

    #[test]
    fn arbitrary_request_shapes_get_an_answer(
        shapes in prop::collection::vec(
            (chaos_value(), chaos_value(), chaos_value(), protocol_word(), chaos_value()),
            1..4,
        )
    ) {
        let inputs: Vec<String> = shapes
            .into_iter()
            .map(|(v, now, actor, tag, rest)| {
                let mut command = match rest {
                    Value::Object(map) => Value::Object(map),
                    other => json!({ "body": other }),
                };
                command["type"] = json!(tag);
                json!({ "v": v, "now": now, "actor": actor, "command": command }).to_string()
            })
            .collect();
        feed(&inputs)?;
    }

    #[test]
    fn mutated_requests_get_an_answer(
        requests in prop::collection::vec(
            (valid_request(), prop::collection::vec(mutation(), 0..4)),
            1..6,
        )
    ) {
        let inputs: Vec<String> = requests
            .into_iter()
            .map(|(request, mutations)| mutate(request, &mutations))
            .collect();
        feed(&inputs)?;
    }
}

#[test]
fn valid_requests_from_the_generators_mostly_succeed() {
    // Guards the generators of the world: if nearly everything failed, the tests above
    // would only ever exercise error paths.
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(valid_request(), 200);
    let requests = strategy.new_tree(&mut runner).expect("requests").current();
    let mut engine = world().0.clone();
    let mut ok = 0;
    for request in &requests {
        let answer: Value = serde_json::from_str(&handle_json(&mut engine, &request.to_string()))
            .expect("an answer");
        while poll_output_json(&mut engine).is_some() {}
        if answer.get("ok").is_some() {
            ok += 1;
        }
    }
    assert!(
        ok >= requests.len() / 5,
        "only {ok} of {} succeeded",
        requests.len()
    );
}

// ---------------------------------------------------------------------------------------
// Regressions: bugs these properties found
// ---------------------------------------------------------------------------------------

#[test]
fn numbered_ids_round_trip_across_the_whole_u64_range() {
    for n in [10_000_000_000_000_000_000, u64::MAX] {
        let id = SessionId(n);
        let text = serde_json::to_string(&id).expect("ids serialize");
        let back: Result<SessionId, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(id), "{text}");
    }
}

#[test]
fn free_form_float_values_round_trip_exactly() {
    let command: Command = serde_json::from_value(json!({
        "type": "start_session",
        "visitor": { "custom_fields": { "score": -3.989668206886942e276 } }
    }))
    .expect("a command");
    let text = serde_json::to_string(&command).expect("commands serialize");
    let back: Command = serde_json::from_str(&text).expect("commands parse");
    assert_eq!(back, command, "{text}");
}

/// Sends JSON requests to a fresh engine and requires a well-formed answer to each.
fn json_session(requests: &[Value]) {
    let mut engine = Engine::new(EngineConfig::default());
    for request in requests {
        let input = request.to_string();
        let answer: Value =
            serde_json::from_str(&handle_json(&mut engine, &input)).expect("answers are JSON");
        assert!(
            answer.get("ok").is_some() || answer["error"]["code"].is_string(),
            "{answer} for {input}"
        );
        while poll_output_json(&mut engine).is_some() {}
    }
}

fn request(now: i64, id: &str, role: &str, command: Value) -> Value {
    json!({ "v": 1, "now": now, "actor": { "tenant_id": "acme", "id": id, "role": role }, "command": command })
}

#[test]
fn a_huge_default_handle_time_does_not_panic() {
    json_session(&[
        request(
            T0,
            "root",
            "superadmin",
            json!({ "type": "create_tenant", "settings": {} }),
        ),
        request(
            T0,
            "admin",
            "tenant_admin",
            json!({ "type": "upsert_queue", "queue": {
            "id": "q", "default_handle_time_ms": u64::MAX } }),
        ),
        request(
            T0,
            "admin",
            "tenant_admin",
            json!({ "type": "upsert_agent", "agent": {
            "id": "alice", "name": "Alice", "max_concurrent_chats": 1 } }),
        ),
        request(
            T0,
            "alice",
            "agent",
            json!({ "type": "set_agent_status", "status": "online" }),
        ),
        request(T0, "v1", "visitor", json!({ "type": "start_session" })),
        request(T0, "v2", "visitor", json!({ "type": "start_session" })),
        request(T0, "v3", "visitor", json!({ "type": "start_session" })),
    ]);
}

#[test]
fn handle_times_across_the_whole_clock_do_not_panic() {
    let early = -9_000_000_000_000_000_000i64;
    let late = 9_000_000_000_000_000_000i64;
    let mut requests = vec![
        request(
            early,
            "root",
            "superadmin",
            json!({ "type": "create_tenant", "settings": {} }),
        ),
        request(
            early,
            "admin",
            "tenant_admin",
            json!({ "type": "upsert_queue", "queue": { "id": "q" } }),
        ),
        request(
            early,
            "admin",
            "tenant_admin",
            json!({ "type": "upsert_agent", "agent": {
            "id": "alice", "name": "Alice", "max_concurrent_chats": 10, "auto_accept": true } }),
        ),
        request(
            early,
            "alice",
            "agent",
            json!({ "type": "set_agent_status", "status": "online" }),
        ),
    ];
    for visitor in ["v1", "v2", "v3"] {
        requests.push(request(
            early,
            visitor,
            "visitor",
            json!({ "type": "start_session" }),
        ));
    }
    for session in ["ses_1", "ses_2", "ses_3"] {
        requests.push(request(
            late,
            "alice",
            "agent",
            json!({ "type": "resolve_session", "session_id": session }),
        ));
    }
    json_session(&requests);
}

/// Ids on the wire are strings, as `docs/protocol.md` says: named ids as given, numbered
/// ids with their prefix.
#[test]
fn ids_are_strings_on_the_wire() {
    let id = AgentId::from("alice");
    assert_eq!(
        serde_json::to_string(&id).expect("ids serialize"),
        "\"alice\""
    );
    assert_eq!(
        serde_json::to_string(&SessionId(12)).expect("ids serialize"),
        "\"ses_12\""
    );
}

#[test]
fn ticket_changes_keep_an_omitted_due_date_apart_from_a_cleared_one() {
    // An omitted `due_at` keeps the due date and `null` clears it: serializing a change
    // that leaves the date alone must not turn it into one that clears it.
    for due_at in [None, Some(None), Some(Some(Timestamp(T0)))] {
        let command = Command::UpdateTicket {
            ticket_id: TicketId(1),
            changes: TicketChanges {
                due_at,
                ..TicketChanges::default()
            },
        };
        let text = serde_json::to_string(&command).expect("commands serialize");
        let back: Command = serde_json::from_str(&text).expect("commands parse");
        assert_eq!(back, command, "{text}");
    }
}

#[test]
fn replacing_the_sla_policies_with_fewer_does_not_panic() {
    // Tickets remember their policy by position in the list: re-selecting after the list
    // shrank must not look the old position up in the new list.
    let mut engine = Engine::new(EngineConfig::default());
    let steps = [
        (
            actor("root", Role::Superadmin),
            json!({ "type": "create_tenant", "settings": {} }),
        ),
        (
            actor("admin", Role::TenantAdmin),
            json!({ "type": "set_sla_policies", "policies": [
                { "id": "first", "targets": { "first_response": { "minutes": 10 } } },
                { "id": "second", "targets": { "first_response": { "minutes": 20 } } }
            ] }),
        ),
        (
            actor("host", Role::System),
            json!({ "type": "create_ticket", "subject": "Help" }),
        ),
        (
            actor("host", Role::System),
            json!({ "type": "create_ticket", "subject": "More help", "priority": "high" }),
        ),
        (
            actor("admin", Role::TenantAdmin),
            json!({ "type": "set_sla_policies", "policies": [
                { "id": "second", "targets": { "first_response": { "minutes": 20 } } }
            ] }),
        ),
        (
            actor("admin", Role::TenantAdmin),
            json!({ "type": "set_sla_policies", "policies": [] }),
        ),
    ];
    for (i, (who, command)) in steps.into_iter().enumerate() {
        let command: Command = serde_json::from_value(command).expect("a valid command");
        let name = command.name();
        engine
            .handle(Timestamp(T0 + i as i64 * 1_000), &who, command)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        while engine.poll_output().is_some() {}
    }
}
