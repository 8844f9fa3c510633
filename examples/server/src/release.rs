//! Where committed outputs go: events to WebSocket streams, effects to the effect workers,
//! records to the metrics (the store has already written them).

use std::sync::Arc;

use switchboard_core::{Event, Output, Record};
use tokio::sync::mpsc;

use crate::effects::EffectJob;
use crate::engine_loop::Release;
use crate::ws::Hub;

/// Releases outputs after each commit.
pub struct Dispatch {
    hub: Arc<Hub>,
    effects: mpsc::UnboundedSender<EffectJob>,
    webhooks: Option<crate::webhooks::Webhooks>,
}

impl Dispatch {
    /// A dispatcher to this hub and these workers.
    #[must_use]
    pub fn new(
        hub: Arc<Hub>,
        effects: mpsc::UnboundedSender<EffectJob>,
        webhooks: Option<crate::webhooks::Webhooks>,
    ) -> Self {
        Dispatch {
            hub,
            effects,
            webhooks,
        }
    }
}

impl Release for Dispatch {
    fn release(&self, outputs: &[Output]) {
        for output in outputs {
            match output {
                Output::Deliver {
                    tenant_id,
                    to,
                    event,
                } => {
                    self.hub.deliver(tenant_id, to, event);
                    if let Event::ForceLogout { .. } = event {
                        for recipient in to {
                            self.hub.end_recipient(
                                tenant_id,
                                recipient,
                                crate::ws::StreamEnd::Revoked,
                            );
                        }
                    }
                }
                Output::Effect {
                    tenant_id,
                    effect_id,
                    effect,
                } => {
                    let _ = self.effects.send(EffectJob {
                        tenant_id: tenant_id.to_string(),
                        effect_id: effect_id.to_string(),
                        effect: effect.clone(),
                    });
                }
                Output::Persist { tenant_id, record } => match record {
                    Record::Message { .. } => crate::metrics::message_committed(),
                    Record::Session { session } => {
                        crate::metrics::session_recorded(tenant_id.as_str(), session);
                    }
                    _ => {}
                },
            }
        }
        if let Some(webhooks) = &self.webhooks {
            webhooks.offer(outputs);
        }
    }
}
