//! The engine's live state for one tenant. Closed sessions are not kept here: their last
//! state went out as a record and lives with the host's store.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use rand_pcg::Pcg64Mcg;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::pool::AgentPool;
use crate::calendar::Calendar;
use crate::ids::{
    AgentId, BotId, CalendarId, DepartmentId, QueueId, TenantId, TicketTemplateId, VisitorId,
};
use crate::protocol::helpdesk::{SlaPolicy, SurveyTarget, TicketTemplate};
use crate::protocol::model::{
    AgentProfile, AgentStatus, CannedResponseView, ConversationKind, Csat, Department, EndReason,
    QueueConfig, RoutingRule, SessionStatus, Strategy, TenantSettings, TransferTarget,
    VisitorProfile,
};
use crate::time::Timestamp;

/// Per-tenant counters behind every numbered id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Counters {
    pub session: u64,
    pub message: u64,
    pub transfer: u64,
    pub note: u64,
    pub conversation: u64,
    pub canned: u64,
    pub effect: u64,
    pub ticket: u64,
    pub survey: u64,
    /// Arrival order in queues, shared by all queues of the tenant.
    pub arrival: u64,
    /// Order of assignments, for least-recently-assigned tie breaks.
    pub assignment: u64,
}

/// A staff member with presence and load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Agent {
    pub profile: AgentProfile,
    pub name: Arc<str>,
    pub status: AgentStatus,
    /// False between a disconnect and a reconnect (or the end of the grace period).
    pub connected: bool,
    /// Sessions held (active or transferring).
    pub sessions: BTreeSet<u64>,
    /// Sessions offered to this agent.
    pub offers: BTreeSet<u64>,
    /// Sessions whose transfer is offered to this agent.
    pub transfer_offers: BTreeSet<u64>,
    /// End times of wrap-up slots, earliest first.
    pub wrap_ups: Vec<Timestamp>,
    /// Assignment times within the fairness window, oldest first.
    pub recent_assignments: VecDeque<Timestamp>,
    /// The assignment counter value at this agent's last assignment.
    pub last_assigned: u64,
    /// Queues this agent serves, by number.
    pub queues: Vec<u32>,
    /// The key under which the agent sits in its queues' free pools, if it does.
    pub pooled: Option<super::pool::PoolKey>,
    /// Whether the agent counts towards its queues' online capacity.
    pub counted_online: bool,
    /// The agent's skill profile number (see `SkillProfiles`).
    pub skill_profile: u32,
}

impl Agent {
    pub(crate) fn new(profile: AgentProfile) -> Self {
        Agent {
            name: Arc::from(profile.name.as_str()),
            profile,
            status: AgentStatus::Offline,
            connected: true,
            sessions: BTreeSet::new(),
            offers: BTreeSet::new(),
            transfer_offers: BTreeSet::new(),
            wrap_ups: Vec::new(),
            recent_assignments: VecDeque::new(),
            last_assigned: 0,
            queues: Vec::new(),
            pooled: None,
            counted_online: false,
            skill_profile: 0,
        }
    }

    /// Slots in use: chats, offers, transfer offers and wrap-up.
    pub(crate) fn load(&self) -> u32 {
        (self.sessions.len() + self.offers.len() + self.transfer_offers.len() + self.wrap_ups.len())
            as u32
    }

    pub(crate) fn handles_chats(&self) -> bool {
        !matches!(self.profile.role, crate::protocol::model::StaffRole::Viewer)
    }

    /// Online, connected, able to chat, and with a free slot.
    pub(crate) fn has_free_slot(&self) -> bool {
        self.is_available() && self.load() < u32::from(self.profile.max_concurrent_chats)
    }

    /// Online, connected and able to chat.
    pub(crate) fn is_available(&self) -> bool {
        self.status == AgentStatus::Online && self.connected && self.handles_chats()
    }

    /// Assignments (and outstanding offers) in the fairness window.
    pub(crate) fn fairness_count(&self, now: Timestamp, window_ms: u64) -> u32 {
        let recent = self
            .recent_assignments
            .iter()
            .filter(|at| now.ms_since(**at) < window_ms)
            .count();
        (recent + self.offers.len()) as u32
    }
}

/// An outstanding offer of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Offer {
    pub agents: Vec<u32>,
    pub expires_at: Timestamp,
    pub broadcast: bool,
}

/// An outstanding transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Transfer {
    pub id: u64,
    pub from: u32,
    pub target: TransferTarget,
    pub reason: String,
    pub offered_to: Vec<u32>,
    pub requested_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A remembered client message id: its hash and the message it produced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeenClientId {
    pub hash: u64,
    pub message: u64,
    pub seq: u64,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub no: u64,
    pub visitor_id: VisitorId,
    /// Shared with every snapshot of the session, never copied.
    pub profile: Arc<VisitorProfile>,
    /// The visitor's display name, shared by their messages and typing events.
    pub visitor_name: Option<Arc<str>>,
    pub status: SessionStatus,
    pub queue: Option<u32>,
    pub department_id: Option<DepartmentId>,
    pub issue_type: Option<String>,
    pub language: Option<String>,
    pub priority: u8,
    pub required_skills: Box<[String]>,
    pub strategy: Strategy,
    pub max_wait_ms: Option<u64>,
    pub queue_message: Option<String>,
    pub agent: Option<u32>,
    pub bot: Option<BotId>,
    pub handoff_reason: Option<String>,
    /// Routed by a rule written for closed hours: a hand-off may queue outside them.
    pub after_hours: bool,
    /// The agent who served this visitor last, tried first.
    pub preferred_agent: Option<u32>,
    pub created_at: Timestamp,
    pub queued_at: Option<Timestamp>,
    pub assigned_at: Option<Timestamp>,
    /// The first assignment, for the chat's handle time.
    pub first_assigned_at: Option<Timestamp>,
    pub first_response_at: Option<Timestamp>,
    pub last_message_at: Option<Timestamp>,
    pub last_visitor_activity: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<EndReason>,
    /// When the visitor's oldest unanswered message was sent.
    pub awaiting_reply_since: Option<Timestamp>,
    /// Queue order among equal priorities; kept across requeues and overflows.
    pub arrival: u64,
    /// Whether the session sits in its queue's waiting line.
    pub waiting: bool,
    pub offer: Offer,
    /// The outstanding external routing request (effect number).
    pub route_request: Option<u64>,
    /// Agents who declined or missed this session.
    pub excluded: Vec<u32>,
    pub max_wait_expired: bool,
    pub overflows: u8,
    pub transfer: Option<Box<Transfer>>,
    pub transfer_count: u32,
    pub seq: u64,
    pub unread_for_agent: VecDeque<u64>,
    pub unread_for_visitor: VecDeque<u64>,
    pub seen_client_ids: VecDeque<SeenClientId>,
    pub tags: Vec<Arc<str>>,
    pub csat: Option<Csat>,
    pub inactivity_warned: bool,
    /// Typing indicators: visitor side, agent side.
    pub typing: [bool; 2],
    /// The last position and estimate told to the visitor.
    pub told_position: Option<(u32, Option<u64>)>,
    /// First- and next-response clocks, when an SLA policy covers chats.
    pub sla: Option<Box<super::tickets::SlaState>>,
}

/// A queue with its waiting line and its pool of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Queue {
    pub config: QueueConfig,
    /// Waiting (not offered) sessions by (255 - priority, arrival).
    #[serde(with = "super::snapshot::pairs")]
    pub waiting: BTreeMap<(u8, u64), u64>,
    /// Waiting sessions per priority, for the position of a new arrival.
    #[serde(with = "super::snapshot::per_priority")]
    pub waiting_per_priority: Box<[u32; 256]>,
    /// Sessions of this queue currently offered.
    pub offered: u32,
    /// Agents serving the queue (any status).
    pub members: BTreeSet<u32>,
    /// Members online and able to chat.
    pub online_agents: u32,
    /// Sum of their capacities.
    pub online_capacity: u32,
    pub pool: AgentPool,
    /// The last agent given a session under round robin: (routing order, agent).
    pub round_robin_cursor: Option<(u32, u32)>,
    /// Handle times of the last 100 chats.
    pub handle_times: VecDeque<u64>,
    pub handle_time_sum: u64,
    /// Positions changed since the last coalesced update.
    pub positions_dirty: bool,
}

impl Queue {
    pub(crate) fn new(config: QueueConfig) -> Self {
        Queue {
            config,
            waiting: BTreeMap::new(),
            waiting_per_priority: Box::new([0; 256]),
            offered: 0,
            members: BTreeSet::new(),
            online_agents: 0,
            online_capacity: 0,
            pool: AgentPool::default(),
            round_robin_cursor: None,
            handle_times: VecDeque::new(),
            handle_time_sum: 0,
            positions_dirty: false,
        }
    }

    /// Mean handle time of the last 100 chats, or the configured default.
    pub(crate) fn mean_handle_time(&self) -> u64 {
        if self.handle_times.is_empty() {
            self.config.default_handle_time_ms
        } else {
            self.handle_time_sum / self.handle_times.len() as u64
        }
    }

    /// ((position - 1) / capacity + 1) x mean handle time; unknown without capacity.
    pub(crate) fn estimated_wait(&self, position: u32) -> Option<u64> {
        if self.online_capacity == 0 {
            return None;
        }
        let rounds = u64::from(position.saturating_sub(1) / self.online_capacity) + 1;
        Some(rounds.saturating_mul(self.mean_handle_time()))
    }

    pub(crate) fn record_handle_time(&mut self, ms: u64) {
        if self.handle_times.len() == 100
            && let Some(oldest) = self.handle_times.pop_front()
        {
            self.handle_time_sum = self.handle_time_sum.saturating_sub(oldest);
        }
        self.handle_times.push_back(ms);
        self.handle_time_sum = self.handle_time_sum.saturating_add(ms);
    }
}

/// An internal conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Conversation {
    pub no: u64,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub members: BTreeSet<AgentId>,
    pub created_by: AgentId,
    pub created_at: Timestamp,
    pub seq: u64,
    pub read_up_to: BTreeMap<AgentId, u64>,
    pub seen_client_ids: VecDeque<SeenClientId>,
}

/// The agent who last served each visitor, for routing returning visitors back to them.
/// Bounded: past the tenant's limit the visitors served longest ago are forgotten.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReturningVisitors {
    #[serde(with = "super::snapshot::sorted_pairs")]
    by_visitor: FxHashMap<VisitorId, (u32, u64)>,
    by_age: BTreeMap<u64, VisitorId>,
    stamp: u64,
}

impl ReturningVisitors {
    pub(crate) fn get(&self, visitor: &VisitorId) -> Option<u32> {
        self.by_visitor.get(visitor).map(|&(agent, _)| agent)
    }

    pub(crate) fn remember(&mut self, visitor: VisitorId, agent: u32, limit: u32) {
        self.stamp += 1;
        if let Some((_, old)) = self.by_visitor.insert(visitor.clone(), (agent, self.stamp)) {
            self.by_age.remove(&old);
        }
        self.by_age.insert(self.stamp, visitor);
        while self.by_age.len() > limit as usize {
            if let Some((_, oldest)) = self.by_age.pop_first() {
                self.by_visitor.remove(&oldest);
            }
        }
    }

    /// Forgets the visitor's last agent (privacy erasure).
    pub(crate) fn forget_visitor(&mut self, visitor: &str) {
        if let Some((_, stamp)) = self.by_visitor.remove(visitor) {
            self.by_age.remove(&stamp);
        }
    }

    pub(crate) fn forget_agent(&mut self, agent: u32) {
        self.by_visitor.retain(|_, (a, _)| *a != agent);
        let by_visitor = &self.by_visitor;
        self.by_age
            .retain(|_, visitor| by_visitor.contains_key(visitor));
    }
}

/// Distinct skill sets of a tenant's agents, numbered. Skill-based routing scores each
/// profile once instead of each agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SkillProfiles {
    #[serde(with = "super::snapshot::pairs")]
    numbers: BTreeMap<BTreeMap<String, u8>, u32>,
    skills: Vec<BTreeMap<String, u8>>,
}

impl SkillProfiles {
    /// The number of this skill set, allocating one the first time it is seen.
    pub(crate) fn intern(&mut self, skills: &BTreeMap<String, u8>) -> u32 {
        if let Some(&number) = self.numbers.get(skills) {
            return number;
        }
        let number = self.skills.len() as u32;
        self.skills.push(skills.clone());
        self.numbers.insert(skills.clone(), number);
        number
    }

    pub(crate) fn skills(&self, number: u32) -> &BTreeMap<String, u8> {
        &self.skills[number as usize]
    }
}

/// A canned response and its owner.
pub(crate) type Canned = CannedResponseView;

/// Everything live in one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TenantState {
    pub no: u32,
    pub id: TenantId,
    pub settings: TenantSettings,
    pub calendar: Option<Arc<Calendar>>,
    /// Named calendars for departments and SLA policies.
    pub calendars: BTreeMap<CalendarId, Arc<Calendar>>,
    /// SLA policies, by position.
    pub sla_policies: Vec<SlaPolicy>,
    pub templates: BTreeMap<TicketTemplateId, TicketTemplate>,
    /// Tickets not yet closed, by number.
    pub tickets: BTreeMap<u64, super::tickets::Ticket>,
    /// Surveys sent and not yet expired, by number.
    pub surveys: BTreeMap<u64, super::surveys::Survey>,
    /// The survey of each chat or ticket.
    #[serde(with = "super::snapshot::sorted_pairs")]
    pub survey_by_target: FxHashMap<SurveyTarget, u64>,
    /// Surveys not yet answered (they count against `max_open_surveys`).
    pub unanswered_surveys: u32,
    /// Visitors of recently ended chats, so a "leave a message" can name the chat that
    /// could not be served. Bounded: the oldest are forgotten first.
    pub ended_sessions: BTreeMap<u64, VisitorId>,
    pub counters: Counters,
    #[serde(with = "super::snapshot::rng")]
    pub rng: Pcg64Mcg,
    pub departments: BTreeMap<DepartmentId, Department>,
    pub queues: Vec<Option<Queue>>,
    pub queue_index: BTreeMap<QueueId, u32>,
    pub agents: Vec<Option<Agent>>,
    #[serde(with = "super::snapshot::sorted_pairs")]
    pub agent_index: FxHashMap<AgentId, u32>,
    pub agent_count: u32,
    #[serde(with = "super::snapshot::sorted_pairs")]
    pub sessions: FxHashMap<u64, Session>,
    pub rules: Vec<RoutingRule>,
    pub canned: BTreeMap<u64, Canned>,
    #[serde(with = "super::snapshot::sorted_pairs")]
    pub conversations: FxHashMap<u64, Conversation>,
    #[serde(with = "super::snapshot::pairs")]
    pub direct_conversations: BTreeMap<(AgentId, AgentId), u64>,
    pub last_agent_of_visitor: ReturningVisitors,
    pub skill_profiles: SkillProfiles,
    /// Supervisors, admins and viewers whose status is not offline.
    pub watchers: BTreeSet<u32>,
    /// Outstanding external routing requests: effect number to session.
    pub route_requests: BTreeMap<u64, u64>,
    /// Outstanding transfers: transfer number to session.
    pub transfers: BTreeMap<u64, u64>,
    /// Queues to dispatch at the end of the current step.
    pub dispatch_pending: BTreeSet<u32>,
    /// Agents to announce (`agent_updated`) at the end of the current step.
    pub announce_pending: BTreeSet<u32>,
}

impl TenantState {
    pub(crate) fn agent(&self, no: u32) -> &Agent {
        self.agents[no as usize]
            .as_ref()
            .expect("agent numbers in live state refer to live agents")
    }

    pub(crate) fn agent_mut(&mut self, no: u32) -> &mut Agent {
        self.agents[no as usize]
            .as_mut()
            .expect("agent numbers in live state refer to live agents")
    }

    pub(crate) fn queue(&self, no: u32) -> &Queue {
        self.queues[no as usize]
            .as_ref()
            .expect("queue numbers in live state refer to live queues")
    }

    pub(crate) fn queue_mut(&mut self, no: u32) -> &mut Queue {
        self.queues[no as usize]
            .as_mut()
            .expect("queue numbers in live state refer to live queues")
    }

    pub(crate) fn agent_no(&self, id: &str) -> Option<u32> {
        self.agent_index.get(id).copied()
    }

    pub(crate) fn queue_no(&self, id: &str) -> Option<u32> {
        self.queue_index.get(id).copied()
    }

    /// Open at `now` by the department's calendar, else the tenant's (no calendar: always).
    pub(crate) fn is_open(&self, now: Timestamp, department: Option<&DepartmentId>) -> bool {
        department
            .and_then(|d| self.departments.get(d))
            .and_then(|d| d.calendar_id.as_ref())
            .and_then(|id| self.calendars.get(id))
            .or(self.calendar.as_ref())
            .is_none_or(|c| c.is_open(now))
    }

    /// The department whose hours apply to a queue.
    pub(crate) fn queue_department(&self, queue: Option<u32>) -> Option<&DepartmentId> {
        queue.and_then(|q| self.queue(q).config.department_id.as_ref())
    }
}
