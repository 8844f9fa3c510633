//! The core's behaviour tests, in one test binary: every file here was once a binary of
//! its own, and each took about 20 s to build the same code again; together they build
//! once. One module per behaviour; `support` is the shared harness.

mod support;

mod admin_records;
mod analytics;
mod calendar;
mod conversations;
mod golden;
mod helpdesk_regressions;
mod messages;
mod offline_flow;
mod presence;
mod privacy;
mod protocol_docs;
mod protocol_roundtrip;
mod queries;
mod queues;
mod regressions;
mod routing_rules;
mod routing_strategies;
mod security;
mod session_lifecycle;
mod simulation;
mod sla;
mod sla_due_times;
mod sla_simulation;
mod smoke;
mod snapshots;
mod surveys;
mod tickets;
mod transcripts;
mod transfers;
