//! Webhooks: committed facts (a chat started, a message, a status change, a ticket) POSTed
//! to each tenant's subscribed URLs, signed with HMAC-SHA256.
//! (Filled in by the webhook delivery commit.)

use switchboard_core::Output;

/// The webhook deliverer.
#[derive(Clone)]
pub struct Webhooks;

impl Webhooks {
    /// Queues deliveries for the outputs of one commit.
    pub fn offer(&self, _outputs: &[Output]) {}
}
