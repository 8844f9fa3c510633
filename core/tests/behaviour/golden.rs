//! Golden scenarios: replays every `tests/golden/*.json` file through the engine and checks
//! the exact reply or error, every output and the next deadline after each step.
//!
//! With `SWITCHBOARD_BLESS=1` the expectations are rewritten from the actual run instead
//! (inputs, names and descriptions are kept). Blessing is not verification: read the
//! rewritten outputs and confirm each one before committing them. The file format and the
//! replay loop are documented in `tests/golden/README.md` for binding authors.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use switchboard_core::{Actor, Command, Engine, EngineConfig, Timestamp};

/// Where the scenarios live, relative to this crate.
const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden");

/// Lines of a blessed file are kept within this width where a value fits on one line.
const LINE_WIDTH: usize = 100;

/// Keys a step may have.
const STEP_KEYS: &[&str] = &[
    "at",
    "timeout",
    "actor",
    "command",
    "reply",
    "error",
    "outputs",
    "next_timeout",
];

/// Keys a scenario may have.
const SCENARIO_KEYS: &[&str] = &["name", "description", "config", "steps"];

/// What one step actually produced, as JSON values (compared) and as the engine's own
/// serialization (written when blessing, which keeps the engine's field order).
struct StepRun {
    /// `"reply"` or `"error"` with the JSON for a command; `None` for a timeout.
    result: Option<(&'static str, Value, String)>,
    outputs: Vec<(Value, String)>,
    next_timeout: Value,
}

/// Serializes an engine value both ways: as a JSON value and as text in field order.
fn both<T: serde::Serialize>(item: &T) -> (Value, String) {
    let text = serde_json::to_string(item).expect("engine values always serialize");
    let value = serde_json::from_str(&text).expect("serialized JSON parses");
    (value, text)
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(GOLDEN_DIR);
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the golden directory {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values always serialize")
}

/// Applies one step to the engine and drains everything it produced.
fn run_step(engine: &mut Engine, step: &Map<String, Value>) -> Result<StepRun, String> {
    for key in step.keys() {
        if !STEP_KEYS.contains(&key.as_str()) {
            return Err(format!("unknown step key {key:?}"));
        }
    }
    let at = step
        .get("at")
        .and_then(Value::as_i64)
        .ok_or("`at` must be an integer (milliseconds)")?;
    let result = match step.get("timeout") {
        Some(Value::Bool(true)) => {
            if step.contains_key("actor") || step.contains_key("command") {
                return Err("a timeout step has no actor or command".into());
            }
            engine.handle_timeout(Timestamp(at));
            None
        }
        Some(_) => return Err("`timeout` must be `true` when present".into()),
        None => {
            let actor: Actor = serde_json::from_value(
                step.get("actor")
                    .cloned()
                    .ok_or("a command step needs `actor`")?,
            )
            .map_err(|e| format!("`actor` does not parse: {e}"))?;
            let command: Command = serde_json::from_value(
                step.get("command")
                    .cloned()
                    .ok_or("a command step needs `command`")?,
            )
            .map_err(|e| format!("`command` does not parse: {e}"))?;
            Some(match engine.handle(Timestamp(at), &actor, command) {
                Ok(reply) => {
                    let (value, text) = both(&reply);
                    ("reply", value, text)
                }
                Err(error) => {
                    let (value, text) = both(&error);
                    ("error", value, text)
                }
            })
        }
    };
    let mut outputs = Vec::new();
    while let Some(output) = engine.poll_output() {
        outputs.push(both(&output));
    }
    let next_timeout = engine
        .poll_timeout()
        .map_or(Value::Null, |at| Value::from(at.as_millis()));
    Ok(StepRun {
        result,
        outputs,
        next_timeout,
    })
}

/// Compares a step's expectations with what it produced; `None` when they agree.
fn compare(expected: &Map<String, Value>, actual: &StepRun) -> Option<String> {
    let mut report = String::new();
    match &actual.result {
        Some((kind, value, _)) => {
            let other = if *kind == "reply" { "error" } else { "reply" };
            match (expected.get(*kind), expected.get(other)) {
                (Some(want), None) if want == value => {}
                (want, _) => {
                    let want = match want {
                        Some(want) => format!("{kind}: {}", pretty(want)),
                        None => match expected.get(other) {
                            Some(o) => format!("{other}: {}", pretty(o)),
                            None => "neither `reply` nor `error`".to_owned(),
                        },
                    };
                    let _ = write!(
                        report,
                        "expected {want}\n  actual {kind}: {}\n",
                        pretty(value)
                    );
                }
            }
        }
        None => {
            if expected.contains_key("reply") || expected.contains_key("error") {
                report.push_str("a timeout step has no `reply` or `error`\n");
            }
        }
    }
    match expected.get("outputs").and_then(Value::as_array) {
        None => report.push_str("`outputs` is missing or not an array\n"),
        Some(want) => {
            let got: Vec<&Value> = actual.outputs.iter().map(|(value, _)| value).collect();
            if let Some(index) =
                (0..want.len().max(got.len())).find(|&i| want.get(i) != got.get(i).copied())
            {
                let show = |v: Option<&Value>| v.map_or("(none)".to_owned(), pretty);
                let _ = write!(
                    report,
                    "outputs differ first at #{index} (expected {} outputs, got {})\n\
                     expected #{index}: {}\n  actual #{index}: {}\n",
                    want.len(),
                    got.len(),
                    show(want.get(index)),
                    show(got.get(index).copied()),
                );
            }
        }
    }
    let want_timeout = expected.get("next_timeout");
    if want_timeout != Some(&actual.next_timeout) {
        let _ = writeln!(
            report,
            "next_timeout: expected {}, actual {}",
            want_timeout.map_or("(missing)".to_owned(), Value::to_string),
            actual.next_timeout
        );
    }
    (!report.is_empty()).then_some(report)
}

/// Replays one scenario and returns what each step produced. Unless blessing, stops at the
/// first step whose expectations differ.
fn replay(scenario: &Value, bless: bool) -> Result<Vec<StepRun>, String> {
    let object = scenario.as_object().ok_or("a scenario is a JSON object")?;
    for key in object.keys() {
        if !SCENARIO_KEYS.contains(&key.as_str()) {
            return Err(format!("unknown scenario key {key:?}"));
        }
    }
    let config: EngineConfig = match object.get("config") {
        Some(config) => serde_json::from_value(config.clone())
            .map_err(|e| format!("`config` does not parse: {e}"))?,
        None => EngineConfig::default(),
    };
    let mut engine = Engine::new(config);
    let steps = object
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("`steps` must be an array")?;
    let mut runs = Vec::with_capacity(steps.len());
    let mut last_at = i64::MIN;
    for (index, step) in steps.iter().enumerate() {
        let step = step
            .as_object()
            .ok_or_else(|| format!("step {index}: a step is a JSON object"))?;
        let at = step.get("at").and_then(Value::as_i64).unwrap_or(last_at);
        if at < last_at {
            return Err(format!(
                "step {index}: `at` goes back in time ({at} < {last_at})"
            ));
        }
        last_at = at;
        let run = run_step(&mut engine, step).map_err(|e| format!("step {index}: {e}"))?;
        if !bless && let Some(report) = compare(step, &run) {
            let what = match step.get("command").and_then(|c| c.get("type")) {
                Some(name) => format!("command {name}"),
                None => "timeout".to_owned(),
            };
            return Err(format!("step {index} ({what}):\n{report}"));
        }
        runs.push(run);
    }
    Ok(runs)
}

#[test]
fn golden_scenarios_replay_exactly() {
    let bless = std::env::var("SWITCHBOARD_BLESS").is_ok_and(|v| v == "1");
    let files = scenario_files();
    assert!(!files.is_empty(), "no scenarios found in {GOLDEN_DIR}");
    let mut failures = Vec::new();
    for path in &files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file names")
            .to_owned();
        let text = fs::read_to_string(path).expect("a readable scenario file");
        let scenario: Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(e) => {
                failures.push(format!("{stem}: not valid JSON: {e}"));
                continue;
            }
        };
        let name = scenario.get("name").and_then(Value::as_str).unwrap_or("");
        if name != stem {
            failures.push(format!(
                "{stem}: `name` must equal the file name, found {name:?}"
            ));
            continue;
        }
        if !scenario.get("description").is_some_and(Value::is_string) {
            failures.push(format!("{stem}: `description` is required"));
            continue;
        }
        match replay(&scenario, bless) {
            Ok(runs) if bless => {
                let blessed = bless_file(&text, runs);
                if blessed != text {
                    fs::write(path, blessed).expect("a writable scenario file");
                    eprintln!("blessed {stem}");
                }
            }
            Ok(_) => {}
            Err(report) => failures.push(format!("scenario {stem}: {report}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden scenarios failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

// ---- blessing: the file's own key order for inputs, the engine's for results ----

/// JSON that keeps the order of object keys as written.
enum Ordered {
    Scalar(Value),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Bool(v)))
            }

            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }

            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }

            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }

            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Null))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

fn ordered(text: &str) -> Ordered {
    serde_json::from_str(text).expect("valid JSON")
}

/// The file with each step's `reply`/`error`, `outputs` and `next_timeout` replaced by what
/// the run produced; everything else is kept as written.
fn bless_file(text: &str, runs: Vec<StepRun>) -> String {
    let Ordered::Object(mut scenario) = ordered(text) else {
        unreachable!("checked by the replay");
    };
    for (key, value) in &mut scenario {
        let Ordered::Array(steps) = value else {
            continue;
        };
        if key != "steps" {
            continue;
        }
        for (step, run) in steps.iter_mut().zip(runs.iter()) {
            let Ordered::Object(entries) = step else {
                unreachable!("checked by the replay");
            };
            entries.retain(|(key, _)| {
                !matches!(key.as_str(), "reply" | "error" | "outputs" | "next_timeout")
            });
            if let Some((kind, _, text)) = &run.result {
                entries.push(((*kind).to_owned(), ordered(text)));
            }
            let outputs = run.outputs.iter().map(|(_, text)| ordered(text)).collect();
            entries.push(("outputs".to_owned(), Ordered::Array(outputs)));
            entries.push((
                "next_timeout".to_owned(),
                Ordered::Scalar(run.next_timeout.clone()),
            ));
        }
    }
    let mut out = String::new();
    render(&Ordered::Object(scenario), 0, 0, &mut out);
    out.push('\n');
    out
}

fn compact(value: &Ordered, out: &mut String) {
    match value {
        Ordered::Scalar(scalar) => out.push_str(&scalar.to_string()),
        Ordered::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                compact(item, out);
            }
            out.push(']');
        }
        Ordered::Object(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push_str(": ");
                compact(item, out);
            }
            out.push('}');
        }
    }
}

/// Writes `value` starting at `column`: on one line if it fits, else expanded with a
/// 2-space indent.
fn render(value: &Ordered, indent: usize, column: usize, out: &mut String) {
    let mut line = String::new();
    compact(value, &mut line);
    let empty = match value {
        Ordered::Scalar(_) => true,
        Ordered::Array(items) => items.is_empty(),
        Ordered::Object(entries) => entries.is_empty(),
    };
    if empty || column + line.len() <= LINE_WIDTH {
        out.push_str(&line);
        return;
    }
    let inner = indent + 2;
    let pad = " ".repeat(inner);
    match value {
        Ordered::Scalar(_) => unreachable!("scalars are written on one line"),
        Ordered::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                render(item, inner, inner, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Ordered::Object(entries) => {
            out.push_str("{\n");
            for (i, (key, item)) in entries.iter().enumerate() {
                let key = format!("{}: ", Value::from(key.as_str()));
                out.push_str(&pad);
                out.push_str(&key);
                render(item, inner, inner + key.len(), out);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
    }
}
