//! Engine benchmark: message throughput, routing decisions, memory per active session, and
//! snapshot and restore.
//!
//! A plain binary without a harness, timed with `std::time::Instant`:
//!
//! ```text
//! cargo bench -p switchboard-core --bench engine              # full sizes
//! cargo bench -p switchboard-core --bench engine -- --smoke   # small sizes, a few seconds
//! ```
//!
//! `--only messages|backlog|arrivals|memory|snapshot` runs one section. Unknown arguments (such as
//! the `--bench` that `cargo bench` adds) are ignored. The figures, what each one includes,
//! and the targets are in `docs/performance.md`.
//!
//! Everything runs on one thread against a virtual clock that stands still during the timed
//! loops, so no deadline comes due inside them. The host's share of the work is included
//! where a host has to do it: building each command, and draining (here: dropping) every
//! output after every command. The memory section runs this binary again with
//! `--memory-child` so that every reading starts in a fresh process.

use std::collections::{BTreeMap, VecDeque};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::ids::{AgentId, SessionId, TenantId};
use switchboard_core::protocol::model::{
    AgentProfile, AgentStatus, Department, MessageKind, QueueConfig, RoutingRule, StaffRole,
    Strategy, TenantSettings, VisitorProfile,
};
use switchboard_core::{
    Actor, Command, Engine, EngineConfig, Event, Output, Recipient, Reply, Role, Timestamp,
};

const TENANT: &str = "bench";
/// The virtual clock during setup and the timed loops.
const NOW: Timestamp = Timestamp(1_000_000);
/// A chat message of 100 bytes.
const BODY: &str = "Thanks for waiting! I have looked at your order and the parcel left our warehouse at 9 this morning.";

/// Sizes and durations for one run.
struct Mode {
    smoke: bool,
    warm_up: Duration,
    measure: Duration,
    message_sessions: u32,
    message_agents: u32,
    backlog_agents: &'static [u32],
    backlog_queued: &'static [u32],
    arrival_agents: &'static [u32],
    memory_sessions: u32,
    snapshot_sessions: u32,
}

impl Mode {
    fn new(smoke: bool) -> Self {
        if smoke {
            Mode {
                smoke,
                warm_up: Duration::from_millis(20),
                measure: Duration::from_millis(100),
                message_sessions: 1_000,
                message_agents: 340,
                backlog_agents: &[100],
                backlog_queued: &[1_000],
                arrival_agents: &[100],
                memory_sessions: 10_000,
                snapshot_sessions: 1_000,
            }
        } else {
            Mode {
                smoke,
                warm_up: Duration::from_millis(500),
                measure: Duration::from_secs(2),
                message_sessions: 10_000,
                message_agents: 3_400,
                backlog_agents: &[1_000, 10_000],
                backlog_queued: &[1_000, 10_000, 100_000],
                arrival_agents: &[1_000, 10_000],
                memory_sessions: 100_000,
                snapshot_sessions: 10_000,
            }
        }
    }
}

/// One timed batch: operations, the time they took (untimed host work excluded), whether
/// the thread had to wait for the CPU meanwhile, and the offers and outputs the engine
/// produced.
#[derive(Default)]
struct Batch {
    ops: u64,
    busy: Duration,
    preempted: bool,
    offers: u64,
    outputs: u64,
}

/// Time spent by this thread runnable but waiting for a CPU, in ns (Linux scheduler
/// statistics); `None` where unavailable.
fn cpu_wait_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// Times a section with `Instant`, and notes whether the scheduler made the thread wait
/// during it (read outside the timed window).
struct Stopwatch {
    waited: Option<u64>,
    started: Instant,
}

impl Stopwatch {
    fn start() -> Self {
        let waited = cpu_wait_ns();
        Stopwatch {
            waited,
            started: Instant::now(),
        }
    }

    /// The elapsed time, and whether the thread waited for the CPU meanwhile.
    fn stop(self) -> (Duration, bool) {
        let busy = self.started.elapsed();
        let preempted = match (self.waited, cpu_wait_ns()) {
            (Some(before), Some(after)) => after > before,
            _ => false,
        };
        (busy, preempted)
    }
}

/// What a measurement saw: the batches' totals, and the cost per operation of every batch.
/// Figures are medians over the batches during which the thread never waited for the CPU
/// ("clean" batches), so that other work on the machine does not move them; the median over
/// all batches is kept for comparison. Without scheduler statistics every batch counts as
/// clean.
#[derive(Default)]
struct Measured {
    ops: u64,
    busy: Duration,
    offers: u64,
    outputs: u64,
    /// Cost per operation of each batch, and whether it was clean.
    batch_ns: Vec<(f64, bool)>,
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let at = ((values.len() - 1) as f64 * q).round() as usize;
    values[at]
}

impl Measured {
    /// Per-operation costs of the clean batches (of all, if none was clean).
    fn clean(&self) -> Vec<f64> {
        let clean: Vec<f64> = self
            .batch_ns
            .iter()
            .filter(|(_, clean)| *clean)
            .map(|(ns, _)| *ns)
            .collect();
        if clean.is_empty() {
            self.batch_ns.iter().map(|(ns, _)| *ns).collect()
        } else {
            clean
        }
    }

    /// The `q` quantile (0..=1) of the per-batch cost over clean batches, ns per operation.
    fn quantile(&self, q: f64) -> f64 {
        quantile(&mut self.clean(), q)
    }

    /// Median cost per operation over all batches, clean or not.
    fn all_median(&self) -> f64 {
        let mut all: Vec<f64> = self.batch_ns.iter().map(|(ns, _)| *ns).collect();
        quantile(&mut all, 0.5)
    }

    /// Share of batches that were clean, in percent.
    fn clean_percent(&self) -> f64 {
        let clean = self.batch_ns.iter().filter(|(_, clean)| *clean).count();
        100.0 * clean as f64 / self.batch_ns.len() as f64
    }

    /// Median cost per operation (clean batches).
    fn ns_per_op(&self) -> f64 {
        self.quantile(0.5)
    }

    /// Operations per second at the median cost.
    fn per_second(&self) -> u64 {
        (1e9 / self.ns_per_op()) as u64
    }

    /// The 10th to 90th percentile of the per-batch cost.
    fn spread(&self) -> String {
        format!("{:.0}-{:.0}", self.quantile(0.1), self.quantile(0.9))
    }

    /// Table cells: median ns (clean batches) | p10-p90 (clean) | median ns (all batches) |
    /// share of clean batches.
    fn timing_cells(&self) -> String {
        format!(
            "{:.0} | {} | {:.0} | {:.0}%",
            self.ns_per_op(),
            self.spread(),
            self.all_median(),
            self.clean_percent()
        )
    }

    /// Outputs drained per operation.
    fn outputs_per_op(&self) -> f64 {
        self.outputs as f64 / self.ops as f64
    }
}

/// Runs `batch` for the warm-up, then until its timed share reaches the measuring time.
fn measure(mode: &Mode, mut batch: impl FnMut() -> Batch) -> Measured {
    let mut warm = Duration::ZERO;
    while warm < mode.warm_up {
        warm += batch().busy;
    }
    let mut total = Measured::default();
    while total.busy < mode.measure {
        let done = batch();
        total.ops += done.ops;
        total.busy += done.busy;
        total.offers += done.offers;
        total.outputs += done.outputs;
        total.batch_ns.push((
            done.busy.as_nanos() as f64 / done.ops as f64,
            !done.preempted,
        ));
    }
    total
}

/// Skills given to the agents (and required by sessions, through a routing rule).
#[derive(Clone, Copy, PartialEq)]
enum Skills {
    /// No skills, no rule.
    None,
    /// Every agent is a perfect match (one skill profile).
    AllPerfect,
    /// Nobody is a perfect match, and the agents fall into this many distinct skill
    /// profiles: skill-based routing scores each profile once.
    Profiles(u32),
}

/// What a test tenant looks like.
struct Spec {
    agents: u32,
    max_chats: u16,
    strategy: Strategy,
    skills: Skills,
    queue_when_no_agents: bool,
    inactivity_close: bool,
}

/// An engine with one tenant, one department, one queue and `agents` agents (offline).
struct World {
    engine: Engine,
    tenant: TenantId,
    agents: Vec<Actor>,
    visitors: u64,
    /// Offers and outputs seen so far.
    offers_made: u64,
    outputs: u64,
}

/// Applies a setup command, panicking on error, and drops its outputs.
fn setup(engine: &mut Engine, actor: &Actor, command: Command) {
    let name = command.name();
    if let Err(error) = engine.handle(NOW, actor, command) {
        panic!("{name} failed: {error:?}");
    }
    drain(engine);
}

/// Drains every output and drops it, as a host that has delivered it would. Returns how
/// many there were.
fn drain(engine: &mut Engine) -> u64 {
    let mut outputs = 0;
    while engine.poll_output().is_some() {
        outputs += 1;
    }
    outputs
}

/// Drains every output; session offers are noted as (agent number, session). Returns how
/// many offers and outputs there were.
fn drain_offers(engine: &mut Engine, offers: &mut VecDeque<(u32, SessionId)>) -> (u64, u64) {
    let mut made = 0;
    let mut outputs = 0;
    while let Some(output) = engine.poll_output() {
        outputs += 1;
        if let Output::Deliver {
            to,
            event: Event::Offered { offer },
            ..
        } = &output
            && offer.transfer_id.is_none()
            && let Some(Recipient::Staff { id }) = to.first()
        {
            offers.push_back((agent_number(id), offer.session_id));
            made += 1;
        }
    }
    (made, outputs)
}

/// Agents are named `a<number>`.
fn agent_number(id: &AgentId) -> u32 {
    id.as_str()[1..]
        .parse()
        .expect("bench agent ids are a<number>")
}

impl World {
    fn new(spec: &Spec) -> Self {
        let mut engine = Engine::new(EngineConfig {
            seed: 7,
            ..Default::default()
        });
        let root = Actor::new(TENANT, "root", Role::Superadmin);
        let admin = Actor::new(TENANT, "admin", Role::TenantAdmin);
        let mut settings = TenantSettings::default();
        if spec.inactivity_close {
            settings.timing.inactivity_close_ms = Some(15 * 60_000);
        }
        setup(&mut engine, &root, Command::CreateTenant { settings });
        setup(
            &mut engine,
            &admin,
            Command::UpsertDepartment {
                department: Department {
                    id: "support".into(),
                    name: "Support".into(),
                    calendar_id: None,
                },
            },
        );
        let queue: QueueConfig = serde_json::from_value(json!({
            "id": "support",
            "name": "Support",
            "department_id": "support",
            "strategy": spec.strategy,
            "queue_when_no_agents": spec.queue_when_no_agents,
        }))
        .expect("valid queue");
        setup(&mut engine, &admin, Command::UpsertQueue { queue });
        if spec.skills != Skills::None {
            let rule: RoutingRule = serde_json::from_value(json!({
                "actions": {
                    "queue": "support",
                    "assignment_type": "skill_based",
                    "required_skills": ["billing"],
                }
            }))
            .expect("valid rule");
            setup(
                &mut engine,
                &admin,
                Command::SetRoutingRules { rules: vec![rule] },
            );
        }
        let tenant = TenantId::from(TENANT);
        let mut agents = Vec::with_capacity(spec.agents as usize);
        for no in 0..spec.agents {
            let id = format!("a{no}");
            let mut skills = BTreeMap::new();
            match spec.skills {
                Skills::None => {}
                Skills::AllPerfect => {
                    skills.insert("billing".to_owned(), 10);
                }
                Skills::Profiles(profiles) => {
                    let profile = no % profiles;
                    skills.insert("billing".to_owned(), 1 + (profile % 9) as u8);
                    skills.insert(format!("team{profile}"), 5);
                }
            }
            let agent = AgentProfile {
                id: AgentId::from(id.as_str()),
                name: format!("Agent {no}"),
                email: None,
                role: StaffRole::Agent,
                departments: vec!["support".into()],
                skills,
                languages: vec!["en".to_owned()],
                max_concurrent_chats: spec.max_chats,
                auto_accept: false,
                routing_weight: 1 + (no % 5) as u16,
                routing_order: 0,
            };
            setup(&mut engine, &admin, Command::UpsertAgent { agent });
            agents.push(Actor {
                tenant_id: tenant.clone(),
                id: Arc::from(id),
                role: Role::Agent,
            });
        }
        World {
            engine,
            tenant,
            agents,
            visitors: 0,
            offers_made: 0,
            outputs: 0,
        }
    }

    /// Drains the engine, noting offers.
    fn drain(&mut self, offers: &mut VecDeque<(u32, SessionId)>) {
        let (made, outputs) = drain_offers(&mut self.engine, offers);
        self.offers_made += made;
        self.outputs += outputs;
    }

    /// Sets every agent online; offers made on the way are noted.
    fn all_online(&mut self, offers: &mut VecDeque<(u32, SessionId)>) {
        for no in 0..self.agents.len() {
            let command = Command::SetAgentStatus {
                status: AgentStatus::Online,
                agent_id: None,
            };
            self.engine
                .handle(NOW, &self.agents[no], command)
                .expect("agent online");
            self.drain(offers);
        }
    }

    /// A new visitor starts a chat (no first message); offers made are noted.
    fn start(&mut self, offers: &mut VecDeque<(u32, SessionId)>) -> (Actor, SessionId) {
        self.visitors += 1;
        let n = self.visitors;
        let visitor = Actor {
            tenant_id: self.tenant.clone(),
            id: Arc::from(format!("v{n}")),
            role: Role::Visitor,
        };
        let command = Command::StartSession {
            visitor: VisitorProfile {
                name: Some(format!("Visitor {n}")),
                ..Default::default()
            },
            department_id: None,
            issue_type: None,
            language: None,
            initial_message: None,
            client_message_id: None,
        };
        let reply = self.engine.handle(NOW, &visitor, command);
        self.drain(offers);
        match reply {
            Ok(Reply::SessionStarted { session_id, .. }) => (visitor, session_id),
            other => panic!("unexpected start_session reply {other:?}"),
        }
    }

    fn accept(&mut self, agent: u32, session_id: SessionId) {
        self.engine
            .handle(
                NOW,
                &self.agents[agent as usize],
                Command::AcceptOffer { session_id },
            )
            .expect("offer accepted");
        self.outputs += drain(&mut self.engine);
    }

    /// The agent closes the chat (it leaves memory); offers the freed slot causes are noted.
    fn close(
        &mut self,
        agent: u32,
        session_id: SessionId,
        offers: &mut VecDeque<(u32, SessionId)>,
    ) {
        self.engine
            .handle(
                NOW,
                &self.agents[agent as usize],
                Command::CloseSession { session_id },
            )
            .expect("session closed");
        self.drain(offers);
    }
}

fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::LeastActive => "least_active",
        Strategy::RoundRobin => "round_robin",
        Strategy::FixedOrder => "fixed_order",
        Strategy::Random => "random",
        Strategy::WeightedRandom => "weighted_random",
        Strategy::SkillBased => "skill_based",
        Strategy::Broadcast => "broadcast",
        Strategy::Manual => "manual",
        Strategy::External => "external",
    }
}

const LOG_STRATEGIES: [Strategy; 5] = [
    Strategy::LeastActive,
    Strategy::RoundRobin,
    Strategy::FixedOrder,
    Strategy::Random,
    Strategy::WeightedRandom,
];

/// 1234567 -> "1,234,567".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------
// 1. Messages

fn bench_messages(mode: &Mode) {
    let sessions = mode.message_sessions;
    let mut world = World::new(&Spec {
        agents: mode.message_agents,
        max_chats: 3,
        strategy: Strategy::LeastActive,
        skills: Skills::None,
        queue_when_no_agents: false,
        inactivity_close: false,
    });
    let mut offers = VecDeque::new();
    world.all_online(&mut offers);
    let mut chats: Vec<(Actor, u32, SessionId)> = Vec::with_capacity(sessions as usize);
    for _ in 0..sessions {
        let (visitor, session) = world.start(&mut offers);
        let (agent, offered) = offers.pop_front().expect("a free agent");
        assert_eq!(offered, session);
        world.accept(agent, session);
        chats.push((visitor, agent, session));
    }
    assert!(offers.is_empty());

    // Batches of about half a millisecond: short enough that many run without the thread
    // being preempted when the machine is shared.
    const BATCH: u64 = 1_000;
    let mut k = 0usize;
    let World { engine, agents, .. } = &mut world;
    let result = measure(mode, || {
        let mut outputs = 0;
        let watch = Stopwatch::start();
        for _ in 0..BATCH {
            let (visitor, agent, session) = &chats[(k / 2) % chats.len()];
            let actor = if k.is_multiple_of(2) {
                visitor
            } else {
                &agents[*agent as usize]
            };
            let command = Command::SendMessage {
                session_id: *session,
                body: BODY.to_owned(),
                kind: MessageKind::Text,
                attachment: None,
                client_message_id: None,
            };
            match engine.handle(NOW, actor, command) {
                Ok(Reply::MessageAccepted { .. }) => {}
                other => panic!("unexpected send_message reply {other:?}"),
            }
            outputs += drain(engine);
            k += 1;
        }
        let (busy, preempted) = watch.stop();
        Batch {
            ops: BATCH,
            busy,
            preempted,
            offers: 0,
            outputs,
        }
    });

    // The host's share alone: building the command (and dropping it).
    let build = measure(mode, || {
        let watch = Stopwatch::start();
        for i in 0..BATCH {
            let command = Command::SendMessage {
                session_id: SessionId(i),
                body: BODY.to_owned(),
                kind: MessageKind::Text,
                attachment: None,
                client_message_id: None,
            };
            std::hint::black_box(&command);
        }
        let (busy, preempted) = watch.stop();
        Batch {
            ops: BATCH,
            busy,
            preempted,
            ..Batch::default()
        }
    });

    println!(
        "## 1. Message commands (send_message, {} bytes)",
        BODY.len()
    );
    println!();
    println!(
        "{} active sessions in one tenant, {} agents (max 3 chats each). Visitor and agent",
        grouped(u64::from(sessions)),
        grouped(u64::from(mode.message_agents))
    );
    println!("messages alternate across the sessions; every output is drained after each command.");
    println!();
    println!(
        "| commands | seconds | outputs/command | commands/s | ns/command | p10-p90 ns | all batches ns | clean batches |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.2} | {:.1} | {} | {} |",
        grouped(result.ops),
        result.busy.as_secs_f64(),
        result.outputs_per_op(),
        grouped(result.per_second()),
        result.timing_cells()
    );
    println!();
    println!(
        "Of which building the command on the host side: {:.0} ns.",
        build.ns_per_op()
    );
    println!();
}

// ---------------------------------------------------------------------------------------
// 2a. Routing: draining a backlog

/// The cycles measured, and the queue-position flush (median time, outputs) if measured.
struct BacklogResult {
    cycles: Measured,
    flush: Option<(Duration, u64)>,
}

/// One cell of the backlog benchmark: `queued` sessions wait, `agents` agents (one slot
/// each) all hold an offer. A cycle is: an agent accepts its offer, then closes the chat;
/// closing frees the slot and, inside the same `close_session`, the engine offers the head
/// of the waiting line to an agent under `strategy` (the decision). The waiting line is
/// topped up, untimed, between batches.
fn backlog_cell(mode: &Mode, strategy: Strategy, agents: u32, queued: u32) -> BacklogResult {
    let skills = if strategy == Strategy::SkillBased {
        Skills::AllPerfect
    } else {
        Skills::None
    };
    let mut world = World::new(&Spec {
        agents,
        max_chats: 1,
        strategy,
        skills,
        queue_when_no_agents: true,
        inactivity_close: false,
    });
    let mut offers = VecDeque::with_capacity(agents as usize + 1_000);
    for _ in 0..(u64::from(queued) + u64::from(agents)) {
        world.start(&mut offers);
    }
    assert!(offers.is_empty(), "nobody is online yet");
    world.all_online(&mut offers);
    assert_eq!(offers.len(), agents as usize, "one offer per agent");

    // Batches of at most 200 cycles (about a millisecond), and at most a tenth of the line
    // so that it stays within 10% of its size before it is topped up.
    let batch = if queued > 0 {
        (queued / 10).clamp(1, 200)
    } else {
        agents.min(200)
    };
    let cycles = measure(mode, || {
        let (offers_before, outputs_before) = (world.offers_made, world.outputs);
        let watch = Stopwatch::start();
        for _ in 0..batch {
            let (agent, session) = offers.pop_front().expect("an outstanding offer");
            world.accept(agent, session);
            world.close(agent, session, &mut offers);
        }
        let (busy, preempted) = watch.stop();
        let done = Batch {
            ops: u64::from(batch),
            busy,
            preempted,
            offers: world.offers_made - offers_before,
            outputs: world.outputs - outputs_before,
        };
        for _ in 0..batch {
            world.start(&mut offers);
        }
        done
    });
    if queued > 0 {
        // Every cycle made exactly one offer.
        assert_eq!(offers.len(), agents as usize);
        assert_eq!(cycles.offers, cycles.ops);
    }

    // Coalesced queue positions: after some cycles have moved the line, the flush that
    // comes due once the position interval has passed. Median of a few.
    let flush = (strategy == Strategy::LeastActive && queued > 0).then(|| {
        let mut times = Vec::new();
        let mut outputs = 0;
        let mut clock = NOW.0;
        for _ in 0..if mode.smoke { 2 } else { 5 } {
            for _ in 0..batch {
                let (agent, session) = offers.pop_front().expect("an outstanding offer");
                world.accept(agent, session);
                world.close(agent, session, &mut offers);
                world.start(&mut offers);
            }
            clock += 2_001;
            let started = Instant::now();
            world.engine.handle_timeout(Timestamp(clock));
            outputs = 0;
            while world.engine.poll_output().is_some() {
                outputs += 1;
            }
            times.push(started.elapsed());
        }
        times.sort();
        (times[times.len() / 2], outputs)
    });
    BacklogResult { cycles, flush }
}

fn bench_backlog(mode: &Mode) {
    println!("## 2a. Routing decisions while a backlog waits");
    println!();
    println!(
        "Agents have one slot each and all hold an offer; `queued` sessions wait behind them."
    );
    println!(
        "One cycle = accept_offer + close_session by an agent; the close frees the slot and the"
    );
    println!("engine offers the head of the line to an agent (one decision) in the same command.");
    println!("The `no decision` rows run the same cycle with an empty line (no offer is made):");
    println!("`ns over baseline` is the cycle's cost above that, i.e. what the decision adds.");
    println!();
    println!(
        "| strategy | agents | queued | cycles | offers made | outputs/cycle | decisions/s | ns/cycle | p10-p90 ns | all batches ns | clean batches | ns over baseline |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut flushes = Vec::new();
    for &agents in mode.backlog_agents {
        let base = backlog_cell(mode, Strategy::LeastActive, agents, 0);
        assert_eq!(base.cycles.offers, 0);
        let baseline = base.cycles.ns_per_op();
        println!(
            "| no decision | {} | 0 | {} | 0 | {:.1} | ({} cycles/s) | {} | - |",
            grouped(u64::from(agents)),
            grouped(base.cycles.ops),
            base.cycles.outputs_per_op(),
            grouped(base.cycles.per_second()),
            base.cycles.timing_cells()
        );
        let mut strategies: Vec<Strategy> = LOG_STRATEGIES.to_vec();
        strategies.push(Strategy::SkillBased);
        for strategy in strategies {
            for &queued in mode.backlog_queued {
                // Skill-based once per agent count, at the largest line.
                if strategy == Strategy::SkillBased
                    && queued != *mode.backlog_queued.last().expect("sizes")
                {
                    continue;
                }
                let result = backlog_cell(mode, strategy, agents, queued);
                println!(
                    "| {} | {} | {} | {} | {} | {:.1} | {} | {} | {:.0} |",
                    strategy_name(strategy),
                    grouped(u64::from(agents)),
                    grouped(u64::from(queued)),
                    grouped(result.cycles.ops),
                    grouped(result.cycles.offers),
                    result.cycles.outputs_per_op(),
                    grouped(result.cycles.per_second()),
                    result.cycles.timing_cells(),
                    result.cycles.ns_per_op() - baseline
                );
                if let Some(flush) = result.flush {
                    flushes.push((agents, queued, flush));
                }
            }
        }
    }
    println!();
    println!("Queue-position flush (handle_timeout once the position interval has passed and the");
    println!("line has moved, all outputs drained; median of a few), after the least_active runs:");
    println!();
    println!("| agents | queued | outputs | ms per flush |");
    println!("|---:|---:|---:|---:|");
    for (agents, queued, (time, outputs)) in flushes {
        println!(
            "| {} | {} | {} | {:.2} |",
            grouped(u64::from(agents)),
            grouped(u64::from(queued)),
            grouped(outputs),
            time.as_secs_f64() * 1e3
        );
    }
    println!();
}

// ---------------------------------------------------------------------------------------
// 2b. Routing: arrivals into a pool of free agents

/// `agents` agents are online and free; a cycle is: a new visitor starts a chat (the engine
/// picks an agent from the whole free pool and offers it: the decision), the agent accepts
/// and closes it.
fn arrival_cell(mode: &Mode, strategy: Strategy, agents: u32, skills: Skills) -> Measured {
    let mut world = World::new(&Spec {
        agents,
        max_chats: 2,
        strategy,
        skills,
        queue_when_no_agents: false,
        inactivity_close: false,
    });
    let mut offers = VecDeque::new();
    world.all_online(&mut offers);
    assert!(offers.is_empty());
    // About a millisecond per batch.
    let batch: u64 = match skills {
        Skills::Profiles(profiles) if profiles > 100 => 20,
        _ => 200,
    };
    measure(mode, || {
        let (offers_before, outputs_before) = (world.offers_made, world.outputs);
        let watch = Stopwatch::start();
        for _ in 0..batch {
            let (_visitor, session) = world.start(&mut offers);
            let (agent, offered) = offers.pop_front().expect("a free agent");
            debug_assert_eq!(offered, session);
            world.accept(agent, session);
            world.close(agent, session, &mut offers);
        }
        let (busy, preempted) = watch.stop();
        Batch {
            ops: batch,
            busy,
            preempted,
            offers: world.offers_made - offers_before,
            outputs: world.outputs - outputs_before,
        }
    })
}

fn bench_arrivals(mode: &Mode) {
    println!("## 2b. Routing decisions on arrival, over a pool of free agents");
    println!();
    println!("Every agent is online with free slots and nothing waits. One cycle = start_session");
    println!("(routing picks one agent out of the whole free pool and offers: the decision) +");
    println!("accept_offer + close_session.");
    println!();
    println!(
        "| strategy | free agents | cycles | offers made | outputs/cycle | decisions/s | ns/cycle | p10-p90 ns | all batches ns | clean batches |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows: Vec<(Strategy, Skills, &str)> = LOG_STRATEGIES
        .iter()
        .map(|&s| (s, Skills::None, strategy_name(s)))
        .collect();
    rows.push((
        Strategy::SkillBased,
        Skills::AllPerfect,
        "skill_based, first agent a perfect match",
    ));
    rows.push((
        Strategy::SkillBased,
        Skills::Profiles(10),
        "skill_based, no perfect match, 10 skill profiles",
    ));
    rows.push((
        Strategy::SkillBased,
        Skills::Profiles(1_000),
        "skill_based, no perfect match, 1,000 skill profiles",
    ));
    for (strategy, skills, name) in rows {
        for &agents in mode.arrival_agents {
            let result = arrival_cell(mode, strategy, agents, skills);
            assert_eq!(result.offers, result.ops, "one offer per arrival");
            println!(
                "| {} | {} | {} | {} | {:.1} | {} | {} |",
                name,
                grouped(u64::from(agents)),
                grouped(result.ops),
                grouped(result.offers),
                result.outputs_per_op(),
                grouped(result.per_second()),
                result.timing_cells()
            );
        }
    }
    println!();
}

// ---------------------------------------------------------------------------------------
// 3. Memory

/// Resident memory of this process in bytes (Linux).
fn resident_bytes(page: u64) -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page)
}

/// The kernel's page size for this process's mappings (Linux), else 4 KiB.
fn page_size() -> u64 {
    std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|smaps| {
            smaps.lines().find_map(|line| {
                let kb = line.strip_prefix("KernelPageSize:")?;
                kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
            })
        })
        .map_or(4096, |kb| kb * 1024)
}

/// Runs in a fresh process: `n` active sessions, then all closed, then `n` more visitors
/// who each chat and leave. Prints resident memory at each point.
fn memory_child(n: u32, timers: bool) {
    let page = page_size();
    let agents = (n / 10).max(1);
    let mut world = World::new(&Spec {
        agents,
        max_chats: 10,
        strategy: Strategy::LeastActive,
        skills: Skills::None,
        queue_when_no_agents: false,
        inactivity_close: timers,
    });
    let mut offers = VecDeque::with_capacity(16);
    world.all_online(&mut offers);
    // The bench's own list of chats is written before the first reading.
    let mut chats = vec![(u32::MAX, SessionId(u64::MAX)); n as usize];
    let Some(before) = resident_bytes(page) else {
        println!("memory unavailable");
        return;
    };
    for slot in &mut chats {
        let (_visitor, session) = world.start(&mut offers);
        let (agent, offered) = offers.pop_front().expect("a free agent");
        assert_eq!(offered, session);
        world.accept(agent, session);
        *slot = (agent, session);
    }
    let active = resident_bytes(page).unwrap_or(0);
    for &(agent, session) in &chats {
        world.close(agent, session, &mut offers);
    }
    assert!(offers.is_empty());
    let closed = resident_bytes(page).unwrap_or(0);
    for _ in 0..n {
        let (_visitor, session) = world.start(&mut offers);
        let (agent, _) = offers.pop_front().expect("a free agent");
        world.accept(agent, session);
        world.close(agent, session, &mut offers);
    }
    let again = resident_bytes(page).unwrap_or(0);
    println!("memory {before} {active} {closed} {again} {page}");
}

fn bench_memory(mode: &Mode) {
    let n = mode.memory_sessions;
    println!("## 3. Memory per active session (no message text)");
    println!();
    println!(
        "A fresh process per row: {} agents online, then {} visitors start a chat (name only,",
        grouped(u64::from((n / 10).max(1))),
        grouped(u64::from(n))
    );
    println!(
        "no message) and an agent accepts each. Resident memory (/proc/self/statm) before and"
    );
    println!("after, divided by the sessions. Then all are closed, then as many new visitors chat");
    println!("and leave one at a time (never more than one active).");
    println!();
    println!(
        "| settings | sessions | RSS before | RSS active | bytes/active session | still resident after closing all, per session | growth per further visitor who chatted and left |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, timers) in [
        ("default (no session timers)", false),
        ("inactivity close on (one timer per chat)", true),
    ] {
        let exe = std::env::current_exe().ok();
        let child = exe.and_then(|exe| {
            let mut args = vec!["--memory-child".to_owned(), n.to_string()];
            if timers {
                args.push("timers".to_owned());
            }
            Process::new(exe).args(args).output().ok()
        });
        let line = child
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("memory "))
                    .map(str::to_owned)
            });
        let numbers: Vec<u64> = line
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let &[before, active, closed, again, _page] = numbers.as_slice() else {
            println!(
                "| {name} | {} | n/a | n/a | n/a (needs Linux /proc) | n/a | n/a |",
                grouped(u64::from(n))
            );
            continue;
        };
        let per = |a: u64, b: u64| (a as f64 - b as f64) / f64::from(n);
        println!(
            "| {name} | {} | {:.1} MiB | {:.1} MiB | {:.0} | {:.0} | {:.0} |",
            grouped(u64::from(n)),
            before as f64 / 1_048_576.0,
            active as f64 / 1_048_576.0,
            per(active, before),
            per(closed, before),
            per(again, closed),
        );
    }
    println!();
}

fn bench_snapshot(mode: &Mode) {
    let n = mode.snapshot_sessions;
    let mut world = World::new(&Spec {
        agents: (n / 10).max(1),
        max_chats: 10,
        strategy: Strategy::LeastActive,
        skills: Skills::None,
        queue_when_no_agents: false,
        inactivity_close: true,
    });
    let mut offers = VecDeque::with_capacity(16);
    world.all_online(&mut offers);
    for _ in 0..n {
        let (_visitor, session) = world.start(&mut offers);
        let (agent, offered) = offers.pop_front().expect("a free agent");
        assert_eq!(offered, session);
        world.accept(agent, session);
    }
    let engine = &world.engine;
    let runs = if mode.smoke { 3 } else { 7 };
    let mut write = Vec::with_capacity(runs);
    let mut read = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let text = engine.snapshot().expect("a snapshot");
        write.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let restored = Engine::restore(&text).expect("the snapshot restores");
        read.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(restored == *engine, "the restored engine differs");
        size = text.len();
    }
    println!("## 4. Snapshot and restore");
    println!();
    println!(
        "{} agents online with {} active chats (one inactivity timer each), no message text.",
        grouped(u64::from((n / 10).max(1))),
        grouped(u64::from(n))
    );
    println!(
        "`Engine::snapshot` (to a JSON string) and `Engine::restore` (from it), median of {runs} runs."
    );
    println!();
    println!("| sessions | snapshot size | bytes/session | snapshot | restore |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.1} MiB | {:.0} | {:.1} ms | {:.1} ms |",
        grouped(u64::from(n)),
        size as f64 / 1_048_576.0,
        size as f64 / f64::from(n),
        quantile(&mut write, 0.5),
        quantile(&mut read, 0.5),
    );
    println!();
}

// ---------------------------------------------------------------------------------------

/// Cores online on the machine (Linux), and how many this process may run on.
fn cores() -> (Option<usize>, usize) {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .map(|text| {
            text.trim()
                .split(',')
                .filter_map(|range| {
                    let mut ends = range.split('-').map(|n| n.parse::<usize>().ok());
                    match (ends.next().flatten(), ends.next()) {
                        (Some(a), Some(Some(b))) => Some(b - a + 1),
                        (Some(_), None) => Some(1),
                        _ => None,
                    }
                })
                .sum()
        });
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    (online, usable)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--memory-child") {
        let n = args
            .get(at + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        let timers = args.get(at + 2).is_some_and(|v| v == "timers");
        memory_child(n, timers);
        return;
    }
    let mode = Mode::new(args.iter().any(|a| a == "--smoke"));
    let (online, usable) = cores();
    println!(
        "# switchboard-core engine benchmark ({} sizes)",
        if mode.smoke { "smoke" } else { "full" }
    );
    println!();
    println!(
        "- cores: {} online, {} usable by this process",
        online.map_or_else(|| "?".to_owned(), |n| n.to_string()),
        usable
    );
    println!(
        "- build: {}",
        if cfg!(debug_assertions) {
            "NOT optimised (debug assertions on): figures are meaningless"
        } else {
            "optimised (debug assertions off)"
        }
    );
    println!(
        "- each case: {:.2} s warm-up, then at least {:.2} s of timed work in short batches, one thread",
        mode.warm_up.as_secs_f64(),
        mode.measure.as_secs_f64()
    );
    println!("- figures: the median cost per operation over the batches in which the thread never");
    println!(
        "  waited for a CPU (\"clean\" batches; {}),",
        if cpu_wait_ns().is_some() {
            "from the scheduler's statistics"
        } else {
            "no scheduler statistics here, so every batch counts"
        }
    );
    println!("  with their 10th-90th percentile; beside them the median over all batches and the");
    println!("  share of clean ones");
    println!();
    // `--only <messages|backlog|arrivals|memory|snapshot>` runs one section (for profiling).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|at| args.get(at + 1))
        .map(String::as_str);
    let wanted = |section: &str| only.is_none_or(|o| o == section);
    let started = Instant::now();
    if wanted("messages") {
        bench_messages(&mode);
    }
    if wanted("backlog") {
        bench_backlog(&mode);
    }
    if wanted("arrivals") {
        bench_arrivals(&mode);
    }
    if wanted("memory") {
        bench_memory(&mode);
    }
    if wanted("snapshot") {
        bench_snapshot(&mode);
    }
    println!("Total run time: {:.1} s", started.elapsed().as_secs_f64());
}
