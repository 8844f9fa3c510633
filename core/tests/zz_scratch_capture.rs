//! Scratch: drives the engine through the JSON facade and captures real examples.
#![allow(missing_docs, clippy::all)]

use std::collections::BTreeMap;

use serde_json::{Value, json};
use switchboard_core::json::{handle_json, poll_output_json};
use switchboard_core::{Actor, Command, Engine, EngineConfig, Reply};

// ---------- ordered JSON ----------
#[derive(Clone, Debug)]
enum J {
    Lit(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn parse(text: &str) -> J {
    let b = text.as_bytes();
    let mut i = 0;
    let j = p(b, &mut i);
    assert_eq!(i, b.len(), "trailing: {text}");
    j
}
fn ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && (b[*i] as char).is_whitespace() {
        *i += 1
    }
}
fn pstr(b: &[u8], i: &mut usize) -> String {
    let s = *i;
    *i += 1;
    while b[*i] != b'"' {
        if b[*i] == b'\\' {
            *i += 1;
        }
        *i += 1;
    }
    *i += 1;
    String::from_utf8(b[s..*i].to_vec()).unwrap()
}
fn p(b: &[u8], i: &mut usize) -> J {
    ws(b, i);
    match b[*i] {
        b'{' => {
            *i += 1;
            let mut v = vec![];
            ws(b, i);
            if b[*i] == b'}' {
                *i += 1;
                return J::Obj(v);
            }
            loop {
                ws(b, i);
                let k = pstr(b, i);
                ws(b, i);
                assert_eq!(b[*i], b':');
                *i += 1;
                let val = p(b, i);
                v.push((k, val));
                ws(b, i);
                if b[*i] == b',' {
                    *i += 1;
                } else {
                    assert_eq!(b[*i], b'}');
                    *i += 1;
                    return J::Obj(v);
                }
            }
        }
        b'[' => {
            *i += 1;
            let mut v = vec![];
            ws(b, i);
            if b[*i] == b']' {
                *i += 1;
                return J::Arr(v);
            }
            loop {
                v.push(p(b, i));
                ws(b, i);
                if b[*i] == b',' {
                    *i += 1;
                } else {
                    assert_eq!(b[*i], b']');
                    *i += 1;
                    return J::Arr(v);
                }
            }
        }
        b'"' => J::Lit(pstr(b, i)),
        _ => {
            let s = *i;
            while *i < b.len() && !b",]} \n".contains(&b[*i]) {
                *i += 1;
            }
            J::Lit(String::from_utf8(b[s..*i].to_vec()).unwrap())
        }
    }
}
fn inline(j: &J) -> String {
    match j {
        J::Lit(s) => s.clone(),
        J::Arr(v) => format!("[{}]", v.iter().map(inline).collect::<Vec<_>>().join(", ")),
        J::Obj(v) => {
            if v.is_empty() {
                return "{}".into();
            }
            format!(
                "{{{}}}",
                v.iter()
                    .map(|(k, x)| format!("{k}: {}", inline(x)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}
const WIDTH: usize = 96;
fn pack(items: Vec<String>, indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let mut lines: Vec<String> = vec![];
    let mut cur = String::new();
    for it in items {
        if it.contains('\n') {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            lines.push(it);
        } else if cur.is_empty() {
            cur = it;
        } else if indent + 2 + cur.len() + 2 + it.len() + 1 <= WIDTH {
            cur = format!("{cur}, {it}");
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = it;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
        .iter()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join(",\n")
}
fn pretty(j: &J, indent: usize, used: usize) -> String {
    let one = inline(j);
    if used + one.len() <= WIDTH {
        return one;
    }
    match j {
        J::Lit(s) => s.clone(),
        J::Arr(v) => {
            let items: Vec<String> = v
                .iter()
                .map(|x| pretty(x, indent + 2, indent + 2))
                .collect();
            format!("[\n{}\n{}]", pack(items, indent), " ".repeat(indent))
        }
        J::Obj(v) => {
            let items: Vec<String> = v
                .iter()
                .map(|(k, x)| format!("{k}: {}", pretty(x, indent + 2, indent + 2 + k.len() + 2)))
                .collect();
            format!("{{\n{}\n{}}}", pack(items, indent), " ".repeat(indent))
        }
    }
}
fn get<'a>(j: &'a J, key: &str) -> &'a J {
    match j {
        J::Obj(v) => {
            &v.iter()
                .find(|(k, _)| k == &format!("\"{key}\""))
                .unwrap()
                .1
        }
        _ => panic!(),
    }
}
fn lit(j: &J) -> String {
    match j {
        J::Lit(s) => s.trim_matches('"').to_string(),
        _ => panic!(),
    }
}

// ---------- capture ----------
struct Cap {
    engine: Engine,
    now: i64,
    step: String,
    ex: BTreeMap<String, Vec<(String, J)>>, // key -> (context, example)
    rcpt: BTreeMap<String, std::collections::BTreeSet<String>>,
    last_route: Option<String>,
}

const T0: i64 = 1_767_261_600_000; // 2026-01-01T10:00:00Z

fn role_of(id: &str) -> &'static str {
    match id {
        "root" => "superadmin",
        "admin" => "tenant_admin",
        "sue" => "supervisor",
        "vic" => "viewer",
        "helpbot" => "bot",
        "host" => "system",
        x if x.starts_with("v-") => "visitor",
        _ => "agent",
    }
}

impl Cap {
    fn add(&mut self, key: String, j: J) {
        self.ex.entry(key).or_default().push((self.step.clone(), j));
    }
    fn send(&mut self, label: &str, who: &str, cmd: Value) -> Value {
        self.now += 3000;
        if self.engine.poll_timeout().is_some_and(|t| t.0 <= self.now) {
            self.step = format!("tick before {label}");
            println!("-- tick");
            self.engine
                .handle_timeout(switchboard_core::Timestamp(self.now));
            self.drain();
        }
        let actor = Actor::new(
            "acme",
            who,
            serde_json::from_value(json!(role_of(who))).unwrap(),
        );
        let request_text = format!(
            r#"{{"v":1,"now":{},"actor":{},"command":{}}}"#,
            self.now,
            serde_json::to_string(&actor).unwrap(),
            serde_json::to_string(&cmd).unwrap()
        );
        self.step = format!("{label} [{who}]");
        let answer_text = handle_json(&mut self.engine, &request_text);
        let answer: Value = serde_json::from_str(&answer_text).unwrap();
        let canonical =
            serde_json::to_string(&serde_json::from_value::<Command>(cmd.clone()).unwrap())
                .unwrap();
        let name = cmd["type"].as_str().unwrap().to_string();
        // canonical request / answer (struct order)
        let creq = format!(
            r#"{{"v":1,"now":{},"actor":{},"command":{}}}"#,
            self.now,
            serde_json::to_string(&actor).unwrap(),
            canonical
        );
        let cans = if let Some(ok) = answer.get("ok") {
            let reply: Reply = serde_json::from_value(ok.clone()).unwrap();
            let r = serde_json::to_string(&reply).unwrap();
            self.add(format!("reply {}", ok["type"].as_str().unwrap()), parse(&r));
            self.add(format!("command {name}"), parse(&canonical));
            format!(r#"{{"ok":{r}}}"#)
        } else {
            let e = &answer["error"];
            let t = format!(
                r#"{{"code":{},"message":{},"details":{}}}"#,
                e["code"],
                e["message"],
                serde_json::to_string(&e["details"]).unwrap()
            );
            self.add(format!("error {}", e["code"].as_str().unwrap()), parse(&t));
            self.add(format!("badcommand {name}"), parse(&canonical));
            format!(r#"{{"error":{t}}}"#)
        };
        self.add(format!("req {label}"), parse(&creq));
        self.add(
            format!("actor {who}"),
            parse(&serde_json::to_string(&actor).unwrap()),
        );
        self.add(format!("ans {label}"), parse(&cans));
        println!(
            "{label}: {name} -> {}",
            &answer_text[..answer_text.len().min(160)]
        );
        self.drain();
        answer
    }
    fn ok(&mut self, label: &str, who: &str, cmd: Value) -> Value {
        let a = self.send(label, who, cmd);
        assert!(a.get("ok").is_some(), "{label} failed: {a}");
        a["ok"].clone()
    }
    fn err(&mut self, label: &str, who: &str, cmd: Value) -> Value {
        let a = self.send(label, who, cmd);
        assert!(a.get("error").is_some(), "{label} succeeded: {a}");
        a["error"].clone()
    }
    fn raw(&mut self, label: &str, text: &str) {
        self.step = label.into();
        let ans = handle_json(&mut self.engine, text);
        println!("{label}: RAW -> {ans}");
        let answer: Value = serde_json::from_str(&ans).unwrap();
        let e = &answer["error"];
        let t = format!(
            r#"{{"code":{},"message":{},"details":{}}}"#,
            e["code"],
            e["message"],
            serde_json::to_string(&e["details"]).unwrap()
        );
        self.add(format!("error {}", e["code"].as_str().unwrap()), parse(&t));
        self.add(
            format!("ans {label}"),
            parse(&format!(r#"{{"error":{t}}}"#)),
        );
        self.drain();
    }
    fn advance(&mut self, ms: i64) {
        self.now += ms;
        self.step = format!("advance +{ms}ms");
        self.engine
            .handle_timeout(switchboard_core::Timestamp(self.now));
        println!("-- advance {ms}");
        self.drain();
    }
    fn drain(&mut self) {
        while let Some(text) = poll_output_json(&mut self.engine) {
            let o = parse(&text);
            let ty = lit(get(&o, "type"));
            println!("    {}", &text[..text.len().min(200)]);
            self.add(format!("output {ty}"), o.clone());
            match ty.as_str() {
                "deliver" => {
                    let ev = get(&o, "event").clone();
                    let et = lit(get(&ev, "type"));
                    let to: Value = serde_json::from_str(&inline(get(&o, "to")).replace(": ", ":"))
                        .unwrap_or(json!([]));
                    let _ = to;
                    let v: Value = serde_json::from_str(&text).unwrap();
                    for r in v["to"].as_array().unwrap() {
                        let id = r["id"].as_str().unwrap();
                        self.rcpt.entry(et.clone()).or_default().insert(format!(
                            "{}:{}",
                            r["kind"].as_str().unwrap(),
                            role_of(id)
                        ));
                    }
                    if let J::Arr(rs) = get(&o, "to") {
                        for r in rs {
                            self.add(format!("recipient {}", lit(get(r, "kind"))), r.clone());
                        }
                    }
                    self.add(format!("deliver {et}"), o.clone());
                    self.add(format!("event {et}"), ev);
                }
                "effect" => {
                    let ef = get(&o, "effect").clone();
                    let t = lit(get(&ef, "type"));
                    if t == "route_request" {
                        self.last_route = Some(lit(get(&o, "effect_id")));
                    }
                    self.add(format!("effectout {t}"), o.clone());
                    self.add(format!("effect {t}"), ef);
                }
                "persist" => {
                    let r = get(&o, "record").clone();
                    let t = lit(get(&r, "type"));
                    self.add(format!("persistout {t}"), o.clone());
                    self.add(format!("record {t}"), r);
                }
                _ => panic!(),
            }
        }
    }
}

fn agent_profile(id: &str, name: &str, extra: Value) -> Value {
    let mut p = json!({"id": id, "name": name});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

#[test]
fn capture() {
    let mut c = Cap {
        engine: Engine::new(EngineConfig {
            seed: 1,
            ..Default::default()
        }),
        now: T0,
        step: String::new(),
        ex: BTreeMap::new(),
        rcpt: BTreeMap::new(),
        last_route: None,
    };
    include!("zz_scratch/scenario.rs");

    // ---- write catalog ----
    let mut out = String::new();
    for (k, v) in &c.ex {
        out.push_str(&format!("### {k} ({} times)\n", v.len()));
        for (i, (ctx, j)) in v.iter().enumerate().take(3) {
            out.push_str(&format!("#{i} @ {ctx}\n{}\n", pretty(j, 0, 0)));
        }
    }
    out.push_str("\n\n### RECIPIENTS\n");
    for (k, v) in &c.rcpt {
        out.push_str(&format!("{k}: {v:?}\n"));
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/scratch");
    std::fs::write(format!("{dir}/catalog.txt"), &out).unwrap();
    // fill template
    if let Ok(tpl) = std::fs::read_to_string(format!("{dir}/protocol.template.md")) {
        let mut doc = String::new();
        for line in tpl.lines() {
            if let Some(spec) = line.strip_prefix("@@").and_then(|l| l.strip_suffix("@@")) {
                // "claim key words [#n]"
                let mut parts = spec.splitn(2, ' ');
                let claim = parts.next().unwrap();
                let mut key = parts.next().unwrap().to_string();
                let mut n = 0usize;
                if let Some((k, idx)) = key.clone().rsplit_once('#') {
                    key = k.to_string();
                    n = idx.parse().unwrap();
                }
                let list = c.ex.get(&key).unwrap_or_else(|| panic!("no example {key}"));
                let (_, j) = &list
                    .get(n)
                    .unwrap_or_else(|| panic!("no example {key}#{n}"));
                doc.push_str(&format!(
                    "<!-- example: {claim} -->\n```json\n{}\n```\n",
                    pretty(j, 0, 0)
                ));
            } else {
                doc.push_str(line);
                doc.push('\n');
            }
        }
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"),
            doc,
        )
        .unwrap();
    }
}
