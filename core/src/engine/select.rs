//! Picking agents for a waiting session, one function per strategy, over the queue's pool
//! of free agents.

use std::ops::Bound::{Excluded, Unbounded};

use rand_core::Rng;

use super::state::{Agent, Session, TenantState};
use crate::protocol::model::Strategy;
use crate::time::Timestamp;

/// The agents to offer a session to: one, or several under broadcast.
pub(crate) struct Pick {
    pub agents: Vec<u32>,
    pub broadcast: bool,
}

impl Pick {
    fn one(agent: u32) -> Self {
        Pick {
            agents: vec![agent],
            broadcast: false,
        }
    }
}

fn language_matches(agent: &Agent, wanted: &str) -> bool {
    agent.profile.languages.iter().any(|spoken| {
        spoken.eq_ignore_ascii_case(wanted)
            || wanted
                .get(..spoken.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(spoken))
                && wanted.as_bytes().get(spoken.len()) == Some(&b'-')
    })
}

/// How well an agent's skills match: required skills held, then the sum of their levels.
type SkillScore = (usize, u32);

/// An agent's place in a least-active order: load, last assignment, agent number.
type LoadKey = (u32, u64, u32);

/// Uniform in `0..bound` from 64 random bits (multiply-shift, no modulo bias to speak of).
fn below(rng: &mut impl Rng, bound: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(bound)) >> 64) as u64
}

impl TenantState {
    /// Whether a free agent of the session's queue may be offered the session: not excluded
    /// by a decline or missed offer, under the fairness cap, and speaking the language when
    /// the queue requires it.
    pub(crate) fn may_offer(&self, now: Timestamp, agent_no: u32, session: &Session) -> bool {
        if session.excluded.contains(&agent_no) {
            return false;
        }
        let agent = self.agent(agent_no);
        if let Some(cap) = self.settings.fairness_cap
            && agent.fairness_count(now, cap.window_ms) >= cap.max_assignments
        {
            return false;
        }
        if let (Some(queue), Some(language)) = (session.queue, session.language.as_deref())
            && self.queue(queue).config.require_language
            && !language_matches(agent, language)
        {
            return false;
        }
        true
    }

    /// Chooses who to offer `session` to under `strategy`, or `None` if nobody may take it.
    pub(crate) fn pick_agents(
        &mut self,
        now: Timestamp,
        queue_no: u32,
        session_no: u64,
        strategy: Strategy,
    ) -> Option<Pick> {
        let session = &self.sessions[&session_no];
        let queue = self.queue(queue_no);
        if let Some(preferred) = session.preferred_agent
            && strategy != Strategy::Manual
            && queue.members.contains(&preferred)
            && self.agents[preferred as usize]
                .as_ref()
                .is_some_and(|a| a.has_free_slot())
            && self.may_offer(now, preferred, session)
        {
            return Some(Pick::one(preferred));
        }
        match strategy {
            Strategy::LeastActive => self.pick_least_active(now, queue_no, session),
            Strategy::SkillBased => {
                self.index_skill_profiles(queue_no);
                let session = &self.sessions[&session_no];
                self.pick_by_skill(now, queue_no, session)
            }
            Strategy::RoundRobin => self.pick_round_robin(now, queue_no, session),
            Strategy::FixedOrder => {
                let pool = &self.queue(queue_no).pool;
                pool.by_order
                    .iter()
                    .find(|&&(_, agent)| self.may_offer(now, agent, session))
                    .map(|&(_, agent)| Pick::one(agent))
            }
            Strategy::Broadcast => {
                let queue = self.queue(queue_no);
                let limit = usize::from(queue.config.broadcast_limit.max(1));
                let agents: Vec<u32> = queue
                    .pool
                    .by_order
                    .iter()
                    .map(|&(_, agent)| agent)
                    .filter(|&agent| self.may_offer(now, agent, session))
                    .take(limit)
                    .collect();
                (!agents.is_empty()).then_some(Pick {
                    agents,
                    broadcast: true,
                })
            }
            Strategy::Random => self.pick_random(now, queue_no, session_no, false),
            Strategy::WeightedRandom => self.pick_random(now, queue_no, session_no, true),
            Strategy::Manual | Strategy::External => None,
        }
    }

    fn pick_least_active(&self, now: Timestamp, queue_no: u32, session: &Session) -> Option<Pick> {
        self.queue(queue_no)
            .pool
            .by_load
            .iter()
            .find(|&&(_, _, agent)| self.may_offer(now, agent, session))
            .map(|&(_, _, agent)| Pick::one(agent))
    }

    /// Builds the queue's by-profile index the first time the queue routes by skill.
    fn index_skill_profiles(&mut self, queue_no: u32) {
        if self.queue(queue_no).pool.profiles_indexed {
            return;
        }
        let mut pool = std::mem::take(&mut self.queue_mut(queue_no).pool);
        pool.index_profiles(|agent| {
            self.agent(agent)
                .pooled
                .expect("agents in a pool have a pool key")
        });
        self.queue_mut(queue_no).pool = pool;
    }

    /// Best match first: how many of the required skills the agent has, then the sum of
    /// their levels; ties go to the least active, then the least recently assigned. Agents
    /// with identical skills form one profile, scored once: O(P + log n) for P profiles.
    fn pick_by_skill(&self, now: Timestamp, queue_no: u32, session: &Session) -> Option<Pick> {
        if session.required_skills.is_empty() {
            return self.pick_least_active(now, queue_no, session);
        }
        let mut best: Option<(SkillScore, LoadKey)> = None;
        for (&profile, group) in &self.queue(queue_no).pool.by_profile {
            let skills = self.skill_profiles.skills(profile);
            let score = session
                .required_skills
                .iter()
                .filter_map(|skill| skills.get(skill))
                .fold((0usize, 0u32), |(count, sum), level| {
                    (count + 1, sum + u32::from((*level).min(10)))
                });
            if best.is_some_and(|(best_score, _)| score < best_score) {
                continue;
            }
            let Some(&first) = group
                .iter()
                .find(|&&(_, _, agent)| self.may_offer(now, agent, session))
            else {
                continue;
            };
            let better = match best {
                None => true,
                Some((best_score, best_key)) => score > best_score || first < best_key,
            };
            if better {
                best = Some((score, first));
            }
        }
        best.map(|(_, (_, _, agent))| Pick::one(agent))
    }

    /// The first eligible agent after the last one served, in fixed order, wrapping around.
    fn pick_round_robin(&self, now: Timestamp, queue_no: u32, session: &Session) -> Option<Pick> {
        let queue = self.queue(queue_no);
        let order = &queue.pool.by_order;
        let eligible = |&&(_, agent): &&(u32, u32)| self.may_offer(now, agent, session);
        let found = match queue.round_robin_cursor {
            Some(cursor) => order
                .range((Excluded(cursor), Unbounded))
                .find(eligible)
                .or_else(|| order.range(..=cursor).find(eligible)),
            None => order.iter().find(eligible),
        };
        found.map(|&(_, agent)| Pick::one(agent))
    }

    /// A random free agent, uniformly or by routing weight. Ineligible agents drawn are
    /// taken out of the tree for the rest of this pick, so the pick ends after at most one
    /// draw per ineligible agent.
    fn pick_random(
        &mut self,
        now: Timestamp,
        queue_no: u32,
        session_no: u64,
        weighted: bool,
    ) -> Option<Pick> {
        let mut pool = std::mem::take(&mut self.queue_mut(queue_no).pool);
        let mut rng = self.rng.clone();
        let mut set_aside: Vec<(usize, i64)> = Vec::new();
        let mut chosen = None;
        {
            let session = &self.sessions[&session_no];
            let tree = if weighted {
                &mut pool.weighted
            } else {
                &mut pool.uniform
            };
            loop {
                let total = tree.total();
                if total == 0 {
                    break;
                }
                let agent = tree.find(below(&mut rng, total));
                if self.may_offer(now, agent as u32, session) {
                    chosen = Some(agent as u32);
                    break;
                }
                let weight = if weighted {
                    i64::from(self.agent(agent as u32).pooled.map_or(0, |k| k.weight))
                } else {
                    1
                };
                tree.add(agent, -weight);
                set_aside.push((agent, weight));
            }
            for (agent, weight) in set_aside {
                tree.add(agent, weight);
            }
        }
        self.rng = rng;
        self.queue_mut(queue_no).pool = pool;
        chosen.map(Pick::one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::AgentProfile;

    fn speaker(languages: &[&str]) -> Agent {
        Agent::new(AgentProfile {
            id: "a".into(),
            name: "A".into(),
            email: None,
            role: Default::default(),
            departments: vec![],
            skills: Default::default(),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            max_concurrent_chats: 1,
            auto_accept: false,
            routing_weight: 1,
            routing_order: 0,
        })
    }

    #[test]
    fn a_language_matches_itself_and_its_regional_variants_only() {
        let agent = speaker(&["en", "pt-BR"]);
        assert!(language_matches(&agent, "en"));
        assert!(language_matches(&agent, "EN-us"));
        assert!(language_matches(&agent, "pt-br"));
        assert!(!language_matches(&agent, "eng"));
        assert!(!language_matches(&agent, "pt"));
        assert!(!language_matches(&agent, "de"));
    }
}
