//! SLA benchmark: due-time computations per second, and an engine holding 1,000,000 open
//! tickets whose SLA deadlines come due.
//!
//! ```text
//! cargo bench -p switchboard-core --bench sla              # 1,000,000 tickets
//! cargo bench -p switchboard-core --bench sla -- --smoke   # 20,000 tickets, a few seconds
//! ```
//!
//! A plain binary timed with `std::time::Instant`, one thread, virtual clock. The host's
//! share is included where a host must do it: building each command and draining (here:
//! dropping) every output. Figures and their meaning are in `docs/performance.md`.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::calendar::{BusinessHours, Calendar};
use switchboard_core::{Actor, Command, Engine, EngineConfig, Role, Timestamp};

const TENANT: &str = "bench";
const MIN: i64 = 60_000;
/// Monday 2026-11-23 08:00 UTC.
const MONDAY: i64 = 1_795_420_800_000;

fn office() -> BusinessHours {
    let day = json!([{ "start": "09:00", "end": "17:00" }]);
    serde_json::from_value(json!({
        "time_zone": "Europe/Berlin",
        "weekly": { "monday": day, "tuesday": day, "thursday": day, "friday": day,
            "wednesday": [{ "start": "09:00", "end": "12:00" }, { "start": "13:00", "end": "17:00" }] },
        "holidays": [{ "date": "2026-12-25" }, { "date": "2027-01-01" }],
        "special_days": [{ "date": "2026-12-24", "hours": [{ "start": "09:00", "end": "12:00" }] }],
    }))
    .expect("valid hours")
}

/// A small deterministic generator, so every run computes the same due times.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn rate(count: u64, elapsed: Duration) -> String {
    let per_second = count as f64 / elapsed.as_secs_f64();
    if per_second >= 1_000_000.0 {
        format!("{:.2}M/s", per_second / 1_000_000.0)
    } else {
        format!("{:.0}k/s", per_second / 1_000.0)
    }
}

/// Due times of random starts over six weeks with business targets of 1 hour to 5 days.
fn due_times(calendar: &Calendar, seconds: f64) {
    println!("## Due-time computations (Europe/Berlin office hours with lunch, holidays)");
    println!();
    println!("| target | computations | time | per second | ns each |");
    println!("|---|---:|---:|---:|---:|");
    for (label, max_target_ms) in [
        ("1 business hour", 60 * MIN),
        ("8 business hours", 8 * 60 * MIN),
        ("up to 5 business days", 5 * 8 * 60 * MIN),
    ] {
        let mut rng = Rng(0x5EED);
        let mut count = 0_u64;
        let mut checksum = 0_i64;
        let started = Instant::now();
        while started.elapsed().as_secs_f64() < seconds {
            for _ in 0..1_000 {
                let start = MONDAY + (rng.next() % (42 * 24 * 60)) as i64 * MIN;
                let target = 1 + rng.next() % max_target_ms as u64;
                if let Some(due) = calendar.add_business_time(Timestamp(start), target) {
                    checksum ^= due.as_millis();
                }
                count += 1;
            }
        }
        let elapsed = started.elapsed();
        println!(
            "| {label} | {count} | {:.2} s | {} | {:.0} |",
            elapsed.as_secs_f64(),
            rate(count, elapsed),
            elapsed.as_nanos() as f64 / count as f64
        );
        std::hint::black_box(checksum);
    }
    let mut rng = Rng(0xB00);
    let mut count = 0_u64;
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..1_000 {
            let from = MONDAY + (rng.next() % (42 * 24 * 60)) as i64 * MIN;
            let to = from + (rng.next() % (3 * 24 * 60)) as i64 * MIN;
            std::hint::black_box(calendar.business_time_between(Timestamp(from), Timestamp(to)));
            count += 1;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "| business time between two instants (up to 3 days apart) | {count} | {:.2} s | {} | {:.0} |",
        elapsed.as_secs_f64(),
        rate(count, elapsed),
        elapsed.as_nanos() as f64 / count as f64
    );
    println!();
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn handle(engine: &mut Engine, now: i64, actor: &Actor, command: serde_json::Value) {
    let command: Command = serde_json::from_value(command).expect("valid command");
    engine
        .handle(Timestamp(now), actor, command)
        .expect("accepted");
    while engine.poll_output().is_some() {}
}

fn policies() -> serde_json::Value {
    json!({ "type": "set_sla_policies", "policies": [
        { "id": "standard", "calendar_id": "office", "targets": {
            "first_response": { "minutes": 240, "business_hours": true },
            "resolution": { "minutes": 2400, "business_hours": true } } } ] })
}

/// An engine with `tickets` open tickets under a business-hours policy; then the clock runs
/// through their warnings and breaches.
fn open_tickets(tickets: u32) {
    println!("## {tickets} open tickets");
    println!();
    let mut engine = Engine::new(EngineConfig::default());
    let root = Actor::new(TENANT, "root", Role::Superadmin);
    let admin = Actor::new(TENANT, "admin", Role::TenantAdmin);
    let agent = Actor::new(TENANT, "alice", Role::Agent);
    let mut now = MONDAY + 60 * MIN;
    let hours = serde_json::to_value(office()).expect("hours");
    handle(
        &mut engine,
        now,
        &root,
        json!({ "type": "create_tenant",
        "settings": { "limits": { "max_open_tickets": tickets } } }),
    );
    handle(
        &mut engine,
        now,
        &admin,
        json!({ "type": "upsert_calendar",
        "calendar": { "id": "office", "time_zone": hours["time_zone"], "weekly": hours["weekly"],
                      "holidays": hours["holidays"], "special_days": hours["special_days"] } }),
    );
    handle(&mut engine, now, &admin, policies());
    let before = resident_bytes();
    let started = Instant::now();
    for n in 0..tickets {
        // A ticket a second: creation times spread over the day.
        now += 1_000;
        let command = Command::CreateTicket {
            subject: "Invoice 2026-11 is missing a line".into(),
            description: String::new(),
            requester: Default::default(),
            priority: None,
            channel: Default::default(),
            department_id: None,
            team_id: None,
            assignee_id: None,
            tags: Vec::new(),
            due_at: None,
            template_id: None,
            variables: Default::default(),
            attachments: Vec::new(),
        };
        engine
            .handle(Timestamp(now), &agent, command)
            .unwrap_or_else(|e| panic!("ticket {n}: {e:?}"));
        while engine.poll_output().is_some() {}
    }
    let created = started.elapsed();
    let after = resident_bytes();
    println!(
        "- created: {tickets} in {:.2} s ({}), each computing two due times and arming a deadline",
        created.as_secs_f64(),
        rate(u64::from(tickets), created)
    );
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "- resident memory: {:.0} MiB more, {} bytes per open ticket (with its deadline)",
            (after - before) as f64 / 1_048_576.0,
            (after - before) / u64::from(tickets)
        );
    }
    println!("- armed deadlines: {}", engine.armed_timers());
    // Administrative actions that touch every open ticket. What is already due fires
    // first, untimed, so the figures are the re-timing and the scan alone.
    // (That first firing counts towards the timer figures below.)
    let started = Instant::now();
    engine.handle_timeout(Timestamp(now));
    let mut outputs = 0_u64;
    while engine.poll_output().is_some() {
        outputs += 1;
    }
    let mut firing = started.elapsed();
    let started = Instant::now();
    handle(&mut engine, now, &admin, policies());
    println!(
        "- replacing the SLA policies (every ticket re-selects its policy and re-arms): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    handle(
        &mut engine,
        now,
        &admin,
        json!({ "type": "upsert_agent",
        "agent": { "id": "bob", "name": "Bob" } }),
    );
    let bob = Actor::new(TENANT, "bob", Role::Agent);
    let started = Instant::now();
    handle(
        &mut engine,
        now,
        &bob,
        json!({ "type": "set_agent_status", "status": "online" }),
    );
    println!(
        "- an agent coming online (scan for unassigned tickets, the 50 most urgent listed): {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    // Walk the clock forward in 10-minute polls through two weeks: every warning and
    // breach comes due and is handled.
    let mut polls = 1_u32;
    let started = Instant::now();
    let end = now + 14 * 24 * 60 * MIN;
    while now < end {
        now += 10 * MIN;
        engine.handle_timeout(Timestamp(now));
        while engine.poll_output().is_some() {
            outputs += 1;
        }
        polls += 1;
    }
    firing += started.elapsed();
    let elapsed = firing;
    println!(
        "- two weeks of polls ({polls}): {outputs} outputs (warnings, breaches, measurements) in {:.2} s, {} outputs",
        elapsed.as_secs_f64(),
        rate(outputs, elapsed)
    );
    println!("- armed deadlines left: {}", engine.armed_timers());
    println!();
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let calendar = Calendar::compile(&office()).expect("valid calendar");
    println!(
        "# switchboard-core SLA benchmark ({} sizes)",
        if smoke { "smoke" } else { "full" }
    );
    println!();
    due_times(&calendar, if smoke { 0.1 } else { 2.0 });
    open_tickets(if smoke { 20_000 } else { 1_000_000 });
}
