//! Effects carried out for real: pushes in the FCM HTTP v1 format, e-mails over SMTP, and
//! routing requests (this server has no external router: it answers at once so the queue's
//! fallback strategy decides). Each effect is retried with backoff; when it is done (or has
//! failed for good, which is logged) it is reported to the store's outbox so a restart does
//! not repeat it. Effects still in the outbox at start-up are carried out again.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use switchboard_core::ids::EffectId;
use switchboard_core::protocol::output::PushKind;
use switchboard_core::transcript::{self, TranscriptInput};
use switchboard_core::{Command, Effect};
use tokio::sync::{Semaphore, mpsc};

use crate::config::Config;
use crate::directory::Directory;
use crate::engine_loop::EngineHandle;
use crate::state::ReaderPool;

/// Attempts per effect.
const ATTEMPTS: u32 = 5;
/// Effects carried out at once.
const CONCURRENCY: usize = 32;
/// Timeout of one push request.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// One effect to carry out.
#[derive(Debug, Clone)]
pub struct EffectJob {
    /// The tenant.
    pub tenant_id: String,
    /// The effect id (the idempotency key).
    pub effect_id: String,
    /// What to do.
    pub effect: Effect,
}

/// The effect workers' shared parts.
pub struct Effects {
    engine: EngineHandle,
    directory: Arc<Directory>,
    readers: Arc<ReaderPool>,
    http: reqwest::Client,
    push_url: Option<String>,
    push_token: Option<String>,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: lettre::message::Mailbox,
    retry_base: Duration,
}

impl Effects {
    /// Builds the workers from the options.
    pub fn new(
        config: &Config,
        engine: EngineHandle,
        directory: Arc<Directory>,
        readers: Arc<ReaderPool>,
    ) -> Result<Effects, String> {
        let smtp = config
            .smtp_url
            .as_deref()
            .map(|url| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map(|builder| builder.timeout(Some(Duration::from_secs(10))).build())
                    .map_err(|error| format!("--smtp-url: {error}"))
            })
            .transpose()?;
        let from = config
            .smtp_from
            .parse()
            .map_err(|error| format!("--smtp-from: {error}"))?;
        let http = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .build()
            .map_err(|error| format!("HTTP client: {error}"))?;
        Ok(Effects {
            engine,
            directory,
            readers,
            http,
            push_url: config.push_url.clone(),
            push_token: config.push_token.clone(),
            smtp,
            from,
            retry_base: Duration::from_millis(config.effect_retry_base_ms.max(1)),
        })
    }

    /// Runs the workers until the channel closes.
    pub async fn run(self: Arc<Self>, mut jobs: mpsc::UnboundedReceiver<EffectJob>) {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        while let Some(job) = jobs.recv().await {
            let permit = slots.clone().acquire_owned().await.expect("never closed");
            let effects = self.clone();
            tokio::spawn(async move {
                effects.carry_out(job).await;
                drop(permit);
            });
        }
    }

    async fn carry_out(&self, job: EffectJob) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(&job).await {
                Ok(()) => break,
                Err(error) if attempt < ATTEMPTS => {
                    tracing::warn!(effect_id = %job.effect_id, attempt, error = %error, "effect failed; retrying");
                    crate::metrics::effect_failed();
                    tokio::time::sleep(self.retry_base * 2u32.pow(attempt - 1)).await;
                }
                Err(error) => {
                    crate::metrics::effect_failed();
                    tracing::error!(effect_id = %job.effect_id, attempts = attempt, error = %error, "effect failed for good");
                    break;
                }
            }
        }
        let (tenant, effect_id) = (job.tenant_id.clone(), job.effect_id.clone());
        match self
            .engine
            .run(move |store| store.effect_done(&tenant, &effect_id))
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(code = error.code(), "recording an effect as done failed")
            }
            Err(error) => tracing::warn!(code = error.code, "recording an effect as done failed"),
        }
    }

    async fn attempt(&self, job: &EffectJob) -> Result<(), String> {
        match &job.effect {
            Effect::PushNotification {
                agent_id,
                kind,
                session_id,
                title,
                body,
            } => {
                let Some(device) = self.directory.push_token(&job.tenant_id, agent_id) else {
                    return Ok(()); // no device registered: nothing to send
                };
                let data = self
                    .push_data(&job.tenant_id, *kind, &session_id.to_string())
                    .await;
                let (title, body) = push_text(*kind, &data, title, body);
                self.push(&fcm_message(&device, &title, &body, data)).await
            }
            Effect::RouteRequest { .. } => {
                let effect_id: EffectId = job
                    .effect_id
                    .parse()
                    .map_err(|_| "malformed effect id".to_owned())?;
                let host = crate::auth::host_actor(&job.tenant_id);
                let command = Command::RouteDecision {
                    effect_id,
                    agent_id: None,
                };
                match self.engine.execute(host, command).await {
                    // A refusal means the deadline already passed: nothing left to do.
                    Ok(_) => Ok(()),
                    Err(error) if error.status.is_client_error() => Ok(()),
                    Err(error) => Err(error.message),
                }
            }
            Effect::EmailTranscript { session_id, to } => {
                let (text, html) = self
                    .transcript(&job.tenant_id, &session_id.to_string())
                    .await?;
                self.mail(
                    to,
                    &format!("Your chat transcript ({session_id})"),
                    text,
                    Some(html),
                )
                .await
            }
            Effect::EmailTicketConfirmation {
                number,
                subject,
                to,
                ..
            } => {
                let text = format!(
                    "Thank you for your message. We have opened ticket {number} (\"{subject}\") \
                     and will get back to you.\n"
                );
                self.mail(
                    to,
                    &format!("[{number}] We received your message"),
                    text,
                    None,
                )
                .await
            }
            other => {
                let kind = serde_json::to_value(other).ok();
                let kind = kind.as_ref().and_then(|value| value["type"].as_str());
                tracing::debug!(kind, "effect kind not handled by this server");
                Ok(())
            }
        }
    }

    async fn push_data(&self, tenant_id: &str, kind: PushKind, session_id: &str) -> Value {
        let domain = self.directory.primary_domain(tenant_id);
        let (tenant, session) = (tenant_id.to_owned(), session_id.to_owned());
        let summary = self
            .readers
            .read(move |reader| Ok(reader.queries().session(&tenant, &session)?))
            .await
            .ok();
        let visitor = summary
            .as_ref()
            .map(|summary| summary.session.visitor.clone());
        let account = visitor
            .as_ref()
            .and_then(|visitor| visitor.account.clone().or(visitor.email.clone()))
            .unwrap_or_default();
        let name = visitor
            .as_ref()
            .and_then(|visitor| visitor.name.clone())
            .unwrap_or_else(|| account.clone());
        let preview = summary
            .and_then(|summary| summary.preview)
            .unwrap_or_default();
        match kind {
            PushKind::NewMessage => json!({
                "type": "new_message",
                "session_id": session_id,
                "sender_type": "user",
                "sender_name": name,
                "message_text": preview,
            }),
            PushKind::NewSession => json!({
                "type": "new_session",
                "session_id": session_id,
                "tenant_domain": domain,
                "user_account": account,
                "user_name": name,
                "message_preview": preview,
            }),
            PushKind::Transfer => json!({
                "type": "transfer",
                "session_id": session_id,
                "tenant_domain": domain,
                "user_name": name,
            }),
        }
    }

    async fn push(&self, message: &Value) -> Result<(), String> {
        let Some(url) = &self.push_url else {
            tracing::info!("push endpoint not configured; push dropped");
            return Ok(());
        };
        let mut request = self.http.post(url).json(message);
        if let Some(token) = &self.push_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("push endpoint answered {}", response.status()))
        }
    }

    async fn transcript(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<(String, String), String> {
        let (tenant, session) = (tenant_id.to_owned(), session_id.to_owned());
        self.readers
            .read(move |reader| {
                let queries = reader.queries();
                let summary = queries.session(&tenant, &session)?;
                let messages = queries.session_messages(&tenant, &session)?;
                let input = TranscriptInput::new(&summary.session, &messages);
                Ok((
                    transcript::render_text(&input),
                    transcript::render_html(&input),
                ))
            })
            .await
            .map_err(|error| error.message)
    }

    async fn mail(
        &self,
        to: &str,
        subject: &str,
        text: String,
        html: Option<String>,
    ) -> Result<(), String> {
        let Some(smtp) = &self.smtp else {
            tracing::info!("SMTP relay not configured; e-mail dropped");
            return Ok(());
        };
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to.parse().map_err(|error| format!("recipient: {error}"))?)
            .subject(subject);
        let message = match html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(text, html)),
            None => builder.header(ContentType::TEXT_PLAIN).body(text),
        }
        .map_err(|error| error.to_string())?;
        smtp.send(message)
            .await
            .map(|_| ())
            .map_err(|error| smtp_error(&error))
    }
}

/// An SMTP failure described without the relay's text, which may quote the addresses.
fn smtp_error(error: &lettre::transport::smtp::Error) -> String {
    let code = error
        .status()
        .map(|code| format!(" ({code})"))
        .unwrap_or_default();
    let kind = if error.is_permanent() {
        "permanent SMTP error"
    } else if error.is_transient() {
        "transient SMTP error"
    } else if error.is_timeout() {
        "SMTP timeout"
    } else if error.is_tls() {
        "SMTP TLS error"
    } else if error.is_client() {
        "SMTP client error"
    } else {
        "SMTP connection error"
    };
    format!("{kind}{code}")
}

/// The notification's title and body: the wording of the app's notification guide for new
/// sessions and new messages, the engine's own for transfers.
fn push_text(kind: PushKind, data: &Value, title: &str, body: &str) -> (String, String) {
    let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default();
    match kind {
        PushKind::NewSession => (
            "New Live Agent Request".to_owned(),
            format!("User from {} needs assistance", field("tenant_domain")),
        ),
        PushKind::NewMessage => {
            let sender = match field("sender_name") {
                "" => "a visitor",
                name => name,
            };
            (
                format!("New message from {sender}"),
                field("message_text").chars().take(100).collect(),
            )
        }
        PushKind::Transfer => (title.to_owned(), body.to_owned()),
    }
}

/// A push message in the FCM HTTP v1 format; data values are strings, as FCM requires.
#[must_use]
pub fn fcm_message(device_token: &str, title: &str, body: &str, data: Value) -> Value {
    let data: serde_json::Map<String, Value> = data
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), Value::String(text))
        })
        .collect();
    json!({
        "message": {
            "token": device_token,
            "notification": { "title": title, "body": body },
            "data": data,
            "android": { "priority": "high", "notification": { "sound": "default" } },
            "apns": { "payload": { "aps": { "sound": "default", "badge": 1 } } }
        }
    })
}
