//! The examples in `docs/protocol.md` are checked against the protocol types.
//!
//! Every ```` ```json ```` block in the document is preceded by a line
//! `<!-- example: KIND -->` naming the type it shows. Each block must parse as that type and
//! serialize back to exactly the same JSON, so an example cannot drift from the code. Every
//! `type` tag of [`Command`], [`Reply`], [`Event`], [`Effect`] and [`Record`] (and every
//! output and recipient kind) must appear in at least one example; the tags are read from the
//! types themselves, so a new variant without an example fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_core::error::ObjectKind;
use switchboard_core::json::parse_request;
use switchboard_core::{
    Actor, Command, CommandError, Effect, Event, Output, Recipient, Record, Reply,
};

const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");

/// The kinds an example may claim to be.
const KINDS: &[&str] = &[
    "request",
    "answer",
    "actor",
    "command",
    "reply",
    "event",
    "output",
    "effect",
    "record",
    "recipient",
    "error",
];

/// One ```json block and the type it claims to be.
struct Example {
    line: usize,
    kind: String,
    text: String,
}

fn doc() -> String {
    std::fs::read_to_string(DOC_PATH).expect("docs/protocol.md is readable")
}

/// Extracts every ```json block with its claim. A block without a claim directly before
/// it, or a claim not directly followed by a block, is an error.
fn examples(doc: &str) -> Result<Vec<Example>, Vec<String>> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(rest) = line.strip_prefix("<!-- example:") {
            let kind = rest.trim_end_matches("-->").trim().to_owned();
            if !KINDS.contains(&kind.as_str()) {
                problems.push(format!("line {}: unknown example kind {kind:?}", i + 1));
            }
            if lines.get(i + 1).map(|l| l.trim()) != Some("```json") {
                problems.push(format!(
                    "line {}: an example claim must be followed directly by ```json",
                    i + 1
                ));
            }
        } else if line.starts_with("```json") {
            let claim = i
                .checked_sub(1)
                .and_then(|p| lines[p].trim().strip_prefix("<!-- example:"))
                .map(|rest| rest.trim_end_matches("-->").trim().to_owned());
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            if end == lines.len() {
                problems.push(format!("line {}: unterminated ```json block", i + 1));
                break;
            }
            match claim {
                Some(kind) => found.push(Example {
                    line: i + 1,
                    kind,
                    text: lines[start..end].join("\n"),
                }),
                None => problems.push(format!(
                    "line {}: ```json block without an <!-- example: KIND --> line before it",
                    i + 1
                )),
            }
            i = end;
        }
        i += 1;
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// Parses `text` as `T`, serializes it again and requires the same JSON.
fn round_trip<T: Serialize + DeserializeOwned>(text: &str) -> Result<T, String> {
    let original: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let parsed: T = serde_json::from_str(text).map_err(|e| format!("does not parse: {e}"))?;
    let again = serde_json::to_value(&parsed).map_err(|e| format!("does not serialize: {e}"))?;
    same(&original, &again)?;
    Ok(parsed)
}

fn same(original: &Value, again: &Value) -> Result<(), String> {
    if original == again {
        Ok(())
    } else {
        Err(format!(
            "serializes differently:\n  example: {original}\n  again:   {again}"
        ))
    }
}

/// Every [`ObjectKind`] the engine names in errors.
fn object_kinds() -> Vec<ObjectKind> {
    vec![
        ObjectKind::Tenant,
        ObjectKind::Agent,
        ObjectKind::Session,
        ObjectKind::Department,
        ObjectKind::Queue,
        ObjectKind::Transfer,
        ObjectKind::Conversation,
        ObjectKind::CannedResponse,
        ObjectKind::Offer,
        ObjectKind::Effect,
        ObjectKind::Message,
        ObjectKind::Ticket,
        ObjectKind::TicketTemplate,
        ObjectKind::Calendar,
        ObjectKind::SlaPolicy,
        ObjectKind::Survey,
        ObjectKind::Visitor,
    ]
}

/// One error of every kind, for the list of codes.
fn error_samples() -> Vec<CommandError> {
    vec![
        CommandError::NotFound {
            kind: ObjectKind::Session,
            id: "ses_1".into(),
        },
        CommandError::Forbidden { reason: "r" },
        CommandError::InvalidInput {
            field: "f",
            reason: "r".into(),
        },
        CommandError::TooLong {
            field: "f",
            len: 2,
            max: 1,
        },
        CommandError::IllegalTransition {
            kind: ObjectKind::Session,
            state: "s",
            action: "a",
        },
        CommandError::VisitorHasOpenItems {
            visitor_id: "v".into(),
            open_sessions: 1,
            open_tickets: 2,
        },
        CommandError::AlreadyExists {
            kind: ObjectKind::Tenant,
            id: "t".into(),
        },
        CommandError::AgentAtCapacity {
            agent_id: "a".into(),
        },
        CommandError::NoAgentAvailable,
        CommandError::Unavailable { reason: "r" },
        CommandError::LimitReached { limit: "l", max: 1 },
        CommandError::FeatureDisabled { feature: "f" },
        CommandError::Malformed { reason: "r".into() },
    ]
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

/// Rebuilds a [`CommandError`] from its wire form (the type only serializes), so the
/// example's message can be compared with the one the engine would write.
fn error_from_wire(value: &Value) -> Result<CommandError, String> {
    let object = value.as_object().ok_or("an error is an object")?;
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    if keys != BTreeSet::from(["code", "details", "message"]) {
        return Err(format!(
            "an error has code, message and details, not {keys:?}"
        ));
    }
    let details = &value["details"];
    let text = |key: &str| -> Result<&str, String> {
        details[key]
            .as_str()
            .ok_or_else(|| format!("details.{key} should be a string"))
    };
    let number = |key: &str| -> Result<u64, String> {
        details[key]
            .as_u64()
            .ok_or_else(|| format!("details.{key} should be a number"))
    };
    let kind = || -> Result<ObjectKind, String> {
        let name = text("kind")?;
        object_kinds()
            .into_iter()
            .find(|k| {
                serde_json::to_value(k)
                    .ok()
                    .as_ref()
                    .and_then(Value::as_str)
                    == Some(name)
            })
            .ok_or_else(|| format!("unknown object kind {name:?}"))
    };
    let code = value["code"].as_str().ok_or("code should be a string")?;
    Ok(match code {
        "not_found" => CommandError::NotFound {
            kind: kind()?,
            id: text("id")?.to_owned(),
        },
        "forbidden" => CommandError::Forbidden {
            reason: leak(text("reason")?),
        },
        "invalid_input" => CommandError::InvalidInput {
            field: leak(text("field")?),
            reason: text("reason")?.to_owned(),
        },
        "too_long" => CommandError::TooLong {
            field: leak(text("field")?),
            len: number("len")? as usize,
            max: number("max")? as usize,
        },
        // `forget_visitor` refused: the same code, with the visitor and their counts.
        "illegal_transition" if details.get("open_sessions").is_some() => {
            CommandError::VisitorHasOpenItems {
                visitor_id: text("id")?.to_owned(),
                open_sessions: number("open_sessions")? as u32,
                open_tickets: number("open_tickets")? as u32,
            }
        }
        "illegal_transition" => CommandError::IllegalTransition {
            kind: kind()?,
            state: leak(text("state")?),
            action: leak(text("action")?),
        },
        "already_exists" => CommandError::AlreadyExists {
            kind: kind()?,
            id: text("id")?.to_owned(),
        },
        "agent_at_capacity" => CommandError::AgentAtCapacity {
            agent_id: text("agent_id")?.to_owned(),
        },
        "no_agent_available" => CommandError::NoAgentAvailable,
        "unavailable" => CommandError::Unavailable {
            reason: leak(text("reason")?),
        },
        "limit_reached" => CommandError::LimitReached {
            limit: leak(text("limit")?),
            max: number("max")?,
        },
        "feature_disabled" => CommandError::FeatureDisabled {
            feature: leak(text("feature")?),
        },
        "malformed" => CommandError::Malformed {
            reason: text("reason")?.to_owned(),
        },
        other => return Err(format!("unknown error code {other:?}")),
    })
}

fn check_error(text: &str) -> Result<(), String> {
    let original: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    check_error_value(&original)
}

fn check_error_value(original: &Value) -> Result<(), String> {
    let error = error_from_wire(original)?;
    same(
        original,
        &serde_json::to_value(&error).expect("errors serialize"),
    )
}

/// A request must parse with the JSON facade's own parser and rebuild to the same JSON.
fn check_request(text: &str) -> Result<Command, String> {
    let original: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let (now, actor, command) =
        parse_request(text).map_err(|e| format!("parse_request refuses it: {e}"))?;
    let mut again = json!({ "now": now, "actor": actor, "command": command });
    if let Some(v) = original.get("v") {
        again["v"] = v.clone();
    }
    same(&original, &again)?;
    Ok(command)
}

/// An answer is `{"ok": reply}` or `{"error": error}`.
fn check_answer(text: &str) -> Result<Option<Reply>, String> {
    let original: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = original.as_object().ok_or("an answer is an object")?;
    if object.len() != 1 {
        return Err("an answer has exactly one key, ok or error".into());
    }
    if let Some(reply) = object.get("ok") {
        return round_trip::<Reply>(&reply.to_string()).map(Some);
    }
    let error = object
        .get("error")
        .ok_or("an answer's key is ok or error")?;
    check_error_value(error).map(|()| None)
}

/// The tags a tagged enum accepts, read from the type itself: serde names every variant
/// when it refuses an unknown one.
fn variant_tags<T: DeserializeOwned + Debug>(tag: &str) -> BTreeSet<String> {
    let probe = json!({ tag: "\u{1}no such variant" });
    let message = serde_json::from_value::<T>(probe)
        .expect_err("an unknown tag is refused")
        .to_string();
    let (_, expected) = message
        .split_once("expected ")
        .unwrap_or_else(|| panic!("serde lists the variants: {message}"));
    let tags: BTreeSet<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert!(!tags.is_empty(), "no variants found in {message:?}");
    tags
}

/// Which tags the examples show, per family.
#[derive(Default)]
struct Seen {
    tags: BTreeMap<&'static str, BTreeSet<String>>,
}

impl Seen {
    fn add(&mut self, family: &'static str, value: &Value, tag: &str) {
        if let Some(name) = value.get(tag).and_then(Value::as_str) {
            self.tags.entry(family).or_default().insert(name.to_owned());
        }
    }

    fn of(&self, family: &str) -> BTreeSet<String> {
        self.tags.get(family).cloned().unwrap_or_default()
    }
}

/// Checks one example and records the tags it shows (nested ones included: the event in a
/// `deliver` output, the command in a request).
fn check(example: &Example, seen: &mut Seen) -> Result<(), String> {
    let text = example.text.as_str();
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match example.kind.as_str() {
        "request" => {
            let command = check_request(text)?;
            if value["command"]["type"] != command.name() {
                return Err(format!("Command::name() is {:?}", command.name()));
            }
            seen.add("command", &value["command"], "type");
        }
        "answer" => {
            check_answer(text)?;
            if let Some(reply) = value.get("ok") {
                seen.add("reply", reply, "type");
            }
        }
        "actor" => {
            round_trip::<Actor>(text)?;
        }
        "command" => {
            let command: Command = round_trip(text)?;
            if value["type"] != command.name() {
                return Err(format!("Command::name() is {:?}", command.name()));
            }
            seen.add("command", &value, "type");
        }
        "reply" => {
            round_trip::<Reply>(text)?;
            seen.add("reply", &value, "type");
        }
        "event" => {
            let event: Event = round_trip(text)?;
            if value["type"] != event.name() {
                return Err(format!("Event::name() is {:?}", event.name()));
            }
            seen.add("event", &value, "type");
        }
        "output" => {
            round_trip::<Output>(text)?;
            seen.add("output", &value, "type");
            seen.add("event", &value["event"], "type");
            seen.add("effect", &value["effect"], "type");
            seen.add("record", &value["record"], "type");
            for recipient in value["to"].as_array().into_iter().flatten() {
                seen.add("recipient", recipient, "kind");
            }
        }
        "effect" => {
            round_trip::<Effect>(text)?;
            seen.add("effect", &value, "type");
        }
        "record" => {
            round_trip::<Record>(text)?;
            seen.add("record", &value, "type");
        }
        "recipient" => {
            round_trip::<Recipient>(text)?;
            seen.add("recipient", &value, "kind");
        }
        "error" => check_error(text)?,
        other => return Err(format!("unknown example kind {other:?}")),
    }
    Ok(())
}

#[test]
fn every_example_parses_as_the_type_it_claims_and_serializes_back_unchanged() {
    let doc = doc();
    let examples = examples(&doc).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    assert!(
        examples.len() > 100,
        "only {} examples found",
        examples.len()
    );
    let mut seen = Seen::default();
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|example| {
            check(example, &mut seen)
                .err()
                .map(|e| format!("line {} ({}): {e}", example.line, example.kind))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples are wrong:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn every_tag_of_the_protocol_appears_in_an_example() {
    let doc = doc();
    let examples = examples(&doc).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    let mut seen = Seen::default();
    for example in &examples {
        // Wrong examples are reported by the other test; count only the good ones here.
        let _ = check(example, &mut seen);
    }
    let families = [
        ("command", variant_tags::<Command>("type")),
        ("reply", variant_tags::<Reply>("type")),
        ("event", variant_tags::<Event>("type")),
        ("effect", variant_tags::<Effect>("type")),
        ("record", variant_tags::<Record>("type")),
        ("output", variant_tags::<Output>("type")),
        ("recipient", variant_tags::<Recipient>("kind")),
    ];
    let mut missing = Vec::new();
    for (family, tags) in &families {
        let shown = seen.of(family);
        for tag in tags.difference(&shown) {
            missing.push(format!("{family} `{tag}`"));
        }
        for tag in shown.difference(tags) {
            missing.push(format!(
                "{family} `{tag}` is shown but is not a {family} tag"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "no example in docs/protocol.md for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_tag_lists_agree_with_the_name_methods() {
    // `Command::name()` and `Event::name()` are exhaustive matches inside the crate; the
    // serde tags are what the wire accepts. Every tag must parse into a variant whose name
    // is that tag. (A variant with required fields fails with "missing field", which still
    // proves the tag exists; only an unknown tag is an error here.)
    for tag in variant_tags::<Command>("type") {
        match serde_json::from_value::<Command>(json!({ "type": tag })) {
            Ok(command) => assert_eq!(command.name(), tag),
            Err(e) => assert!(!e.to_string().contains("unknown variant"), "{tag}: {e}"),
        }
    }
    for tag in variant_tags::<Event>("type") {
        if let Ok(event) = serde_json::from_value::<Event>(json!({ "type": tag })) {
            assert_eq!(event.name(), tag);
        }
    }
}

#[test]
fn the_error_table_lists_exactly_the_error_codes() {
    let doc = doc();
    let section = doc
        .split("\n## Errors\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/protocol.md has an Errors section");
    let listed: BTreeSet<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    let codes: BTreeSet<&str> = error_samples().iter().map(CommandError::code).collect();
    assert_eq!(listed, codes);
    for error in error_samples() {
        let wire = serde_json::to_value(&error).expect("errors serialize");
        check_error_value(&wire).unwrap_or_else(|e| panic!("{}: {e}", error.code()));
    }
}

#[test]
fn the_version_in_the_document_is_the_protocol_version() {
    let doc = doc();
    let stated = format!(
        "`PROTOCOL_VERSION` is **{}**",
        switchboard_core::PROTOCOL_VERSION
    );
    assert!(
        doc.contains(&stated),
        "docs/protocol.md should say {stated}"
    );
}
