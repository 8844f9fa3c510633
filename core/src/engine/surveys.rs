//! Satisfaction surveys: sent when a chat or ticket is resolved (or on an agent's request),
//! answered once with 1-5 and a comment, forgotten when they expire.

use super::Ctx;
use super::messages::{Party, forbidden};
use super::state::TenantState;
use crate::auth::Actor;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, SessionId, SurveyId, TicketId, VisitorId};
use crate::protocol::event::Event;
use crate::protocol::helpdesk::{SurveyTarget, SurveyView};
use crate::protocol::model::{Csat, SessionStatus};
use crate::protocol::output::{Recipient, Record};
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

/// A survey in memory: outstanding, or answered and kept until it expires so a second
/// answer is refused as such.
pub(crate) type Survey = SurveyView;

/// Whom a survey asks about what.
struct SurveyRequest {
    target: SurveyTarget,
    visitor_id: Option<VisitorId>,
    agent_id: Option<AgentId>,
    department_id: Option<DepartmentId>,
}

impl TenantState {
    /// Sends a survey unless an unexpired, unanswered one for the same target is
    /// outstanding (then that one's number). Refused when surveys are off, nobody can be
    /// asked, or too many are outstanding.
    fn send_survey(
        &mut self,
        cx: &mut Ctx<'_>,
        request: SurveyRequest,
    ) -> Result<u64, CommandError> {
        if !self.settings.features.csat {
            return Err(CommandError::FeatureDisabled { feature: "csat" });
        }
        let Some(visitor) = request.visitor_id.clone() else {
            return Err(CommandError::invalid(
                "requester",
                "nobody to ask: the requester is not a known visitor",
            ));
        };
        if let Some(&existing) = self.survey_by_target.get(&request.target)
            && self.surveys[&existing].answered_at.is_none()
            && cx.now < self.surveys[&existing].expires_at
        {
            return Ok(existing);
        }
        let max = u64::from(self.settings.limits.max_open_surveys);
        if u64::from(self.unanswered_surveys) >= max {
            return Err(CommandError::LimitReached {
                limit: "max_open_surveys",
                max,
            });
        }
        self.counters.survey += 1;
        let no = self.counters.survey;
        let expires_at = cx.now.plus_ms(self.settings.timing.survey_expiry_ms);
        let survey = SurveyView {
            survey_id: SurveyId(no),
            target: request.target,
            visitor_id: Some(visitor.clone()),
            agent_id: request.agent_id,
            department_id: request.department_id,
            sent_at: cx.now,
            expires_at,
            rating: None,
            comment: None,
            answered_at: None,
        };
        self.persist(
            cx,
            Record::Survey {
                survey: survey.clone(),
            },
        );
        self.deliver(
            cx,
            vec![Recipient::Visitor { id: visitor.0 }],
            Event::SurveyRequested {
                survey_id: SurveyId(no),
                target: request.target,
                expires_at,
            },
        );
        self.survey_by_target.insert(request.target, no);
        self.surveys.insert(no, survey);
        self.unanswered_surveys += 1;
        cx.timers.set(
            TimerKey::SurveyExpiry {
                tenant: self.no,
                survey: no,
            },
            expires_at,
        );
        Ok(no)
    }

    fn session_survey_request(&self, session_no: u64) -> SurveyRequest {
        let session = &self.sessions[&session_no];
        SurveyRequest {
            target: SurveyTarget::Session {
                session_id: SessionId(session_no),
            },
            visitor_id: Some(session.visitor_id.clone()),
            agent_id: session.agent.map(|a| self.agent(a).profile.id.clone()),
            department_id: session.department_id.clone(),
        }
    }

    fn ticket_survey_request(&self, no: u64) -> SurveyRequest {
        let ticket = &self.tickets[&no];
        SurveyRequest {
            target: SurveyTarget::Ticket {
                ticket_id: TicketId(no),
            },
            visitor_id: ticket.requester.visitor_id.clone(),
            agent_id: ticket.assignee.clone(),
            department_id: ticket.department_id.clone(),
        }
    }

    /// A chat was resolved: ask its visitor, when surveys are on.
    pub(crate) fn survey_session(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        if self.settings.features.csat {
            let request = self.session_survey_request(session_no);
            // A full survey table skips the survey; it never refuses the resolve.
            let _ = self.send_survey(cx, request);
        }
    }

    /// A ticket was resolved: ask its requester, when surveys are on and they are a known
    /// visitor.
    pub(crate) fn survey_ticket(&mut self, cx: &mut Ctx<'_>, no: u64) {
        if self.settings.features.csat && self.tickets[&no].requester.visitor_id.is_some() {
            let request = self.ticket_survey_request(no);
            // As for chats: no survey rather than a refused resolve.
            let _ = self.send_survey(cx, request);
        }
    }

    pub(crate) fn request_csat_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: Option<SessionId>,
        ticket_id: Option<TicketId>,
    ) -> Result<Reply, CommandError> {
        let request = match (session_id, ticket_id) {
            (Some(session_id), None) => {
                if !self.party(actor, session_id)?.may_work_on() {
                    return Err(forbidden());
                }
                let status = self.sessions[&session_id.0].status;
                if !(status.is_with_agent() || status == SessionStatus::Resolved) {
                    return Err(super::messages::illegal(
                        &self.sessions[&session_id.0],
                        "request_csat",
                    ));
                }
                self.session_survey_request(session_id.0)
            }
            (None, Some(ticket_id)) => {
                self.ticket_worker(actor, ticket_id)?;
                if self.tickets[&ticket_id.0].deleted_at.is_some() {
                    return Err(CommandError::IllegalTransition {
                        kind: ObjectKind::Ticket,
                        state: "deleted",
                        action: "request_csat",
                    });
                }
                self.ticket_survey_request(ticket_id.0)
            }
            _ => {
                return Err(CommandError::invalid(
                    "session_id",
                    "give exactly one of session_id and ticket_id",
                ));
            }
        };
        let no = self.send_survey(cx, request)?;
        Ok(Reply::SurveySent {
            survey_id: SurveyId(no),
        })
    }

    /// Finds the survey a visitor answers: by id, or a session's (sent now when the chat is
    /// active or resolved and none was sent yet).
    fn survey_to_answer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        survey_id: Option<SurveyId>,
        session_id: Option<SessionId>,
    ) -> Result<u64, CommandError> {
        if let Some(survey_id) = survey_id {
            // Past its expiry a survey is gone, whether or not the host has polled yet.
            let survey = self
                .surveys
                .get(&survey_id.0)
                .filter(|s| s.visitor_id.as_ref().is_some_and(|v| *v.0 == *actor.id))
                .filter(|s| cx.now < s.expires_at)
                .ok_or_else(|| CommandError::not_found(ObjectKind::Survey, survey_id))?;
            return Ok(survey.survey_id.0);
        }
        let Some(session_id) = session_id else {
            return Err(CommandError::invalid(
                "survey_id",
                "give survey_id or session_id",
            ));
        };
        if self.party(actor, session_id)? != Party::Visitor {
            return Err(CommandError::Forbidden {
                reason: "only the visitor rates a session",
            });
        }
        let target = SurveyTarget::Session { session_id };
        if let Some(&no) = self.survey_by_target.get(&target)
            && cx.now < self.surveys[&no].expires_at
        {
            return Ok(no);
        }
        let session = &self.sessions[&session_id.0];
        // A resolved chat had its survey sent at resolve time (when surveys are on): if none
        // is outstanding it expired, and naming the session does not start a new one.
        if !session.status.is_with_agent() {
            return Err(super::messages::illegal(session, "rate"));
        }
        let request = self.session_survey_request(session_id.0);
        self.send_survey(cx, request)
    }

    pub(crate) fn submit_csat(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        survey_id: Option<SurveyId>,
        session_id: Option<SessionId>,
        rating: u8,
        comment: Option<String>,
    ) -> Result<Reply, CommandError> {
        if actor.role != crate::auth::Role::Visitor {
            return Err(CommandError::Forbidden {
                reason: "only the visitor asked answers a survey",
            });
        }
        if !self.settings.features.csat {
            return Err(CommandError::FeatureDisabled { feature: "csat" });
        }
        if !(1..=5).contains(&rating) {
            return Err(CommandError::invalid("rating", "must be 1 to 5"));
        }
        cx.limits.check_long("comment", comment.as_deref())?;
        let no = self.survey_to_answer(cx, actor, survey_id, session_id)?;
        // A survey made just now is unanswered, so refusing here changes nothing.
        if self.surveys[&no].answered_at.is_some() {
            return Err(answered());
        }
        let survey = self.surveys.get_mut(&no).expect("found");
        survey.rating = Some(rating);
        survey.comment = comment.clone();
        survey.answered_at = Some(cx.now);
        let survey = survey.clone();
        self.unanswered_surveys -= 1;
        if let SurveyTarget::Session { session_id } = survey.target
            && let Some(session) = self.sessions.get_mut(&session_id.0)
        {
            session.csat = Some(Csat {
                rating,
                comment,
                agent_id: survey.agent_id.clone(),
                submitted_at: cx.now,
            });
            self.persist_session(cx, session_id.0);
        }
        self.persist(
            cx,
            Record::Survey {
                survey: survey.clone(),
            },
        );
        let mut to = Vec::new();
        if let Some(agent) = survey.agent_id.as_ref().and_then(|a| self.agent_no(a)) {
            to.push(self.staff(agent));
        }
        let to = self.with_watchers(to, false);
        self.deliver(cx, to, Event::CsatSubmitted { survey });
        Ok(Reply::Ok)
    }

    /// Drops every survey addressed to the visitor, answered or not, with its expiry
    /// deadline (privacy erasure).
    pub(crate) fn forget_surveys_of(&mut self, cx: &mut Ctx<'_>, visitor: &str) {
        let theirs: Vec<u64> = self
            .surveys
            .iter()
            .filter(|(_, s)| s.visitor_id.as_deref() == Some(visitor))
            .map(|(&no, _)| no)
            .collect();
        for no in theirs {
            let survey = self.surveys.remove(&no).expect("listed above");
            if survey.answered_at.is_none() {
                self.unanswered_surveys -= 1;
            }
            if self.survey_by_target.get(&survey.target) == Some(&no) {
                self.survey_by_target.remove(&survey.target);
            }
            cx.timers.cancel(TimerKey::SurveyExpiry {
                tenant: self.no,
                survey: no,
            });
        }
    }

    pub(crate) fn on_survey_expiry(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let Some(survey) = self.surveys.get(&no) else {
            return;
        };
        if cx.now < survey.expires_at {
            return;
        }
        let target = survey.target;
        if survey.answered_at.is_none() {
            self.unanswered_surveys -= 1;
        }
        self.surveys.remove(&no);
        if self.survey_by_target.get(&target) == Some(&no) {
            self.survey_by_target.remove(&target);
        }
    }
}

fn answered() -> CommandError {
    CommandError::IllegalTransition {
        kind: ObjectKind::Survey,
        state: "answered",
        action: "answer",
    }
}
