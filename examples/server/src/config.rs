//! Command-line options; every one also reads from an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The example server's options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "switchboard-server",
    version,
    about = "Switchboard example server: live chat and helpdesk over REST and WebSocket, stored in SQLite."
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The SQLite database file (created with a demo tenant when missing).
    #[arg(long, env = "SWITCHBOARD_DB", default_value = "./switchboard.db")]
    pub db: PathBuf,

    /// Create the demo tenant in a new database.
    #[arg(long, env = "SWITCHBOARD_DEMO", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,

    /// Password of the demo agent and admin (read when a new database is created).
    #[arg(
        long,
        env = "SWITCHBOARD_DEMO_PASSWORD",
        default_value = "demo",
        hide_env_values = true
    )]
    pub demo_password: String,

    /// The demo tenant's secret for ERP-issued user tokens (HS256); generated when unset.
    /// Read when a new database is created; later starts keep (and do not print) the
    /// stored one.
    #[arg(long, env = "SWITCHBOARD_DEMO_JWT_SECRET", hide_env_values = true)]
    pub demo_jwt_secret: Option<String>,

    /// Key that signs the server's own tokens (agent logins, visitors); kept in the
    /// database when unset.
    #[arg(long, env = "SWITCHBOARD_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,

    /// Lifetime of an agent's access token, in seconds.
    #[arg(long, env = "SWITCHBOARD_ACCESS_TOKEN_TTL", default_value_t = 86_400)]
    pub access_token_ttl: u64,

    /// Lifetime of a visitor token issued at widget init, in seconds.
    #[arg(long, env = "SWITCHBOARD_VISITOR_TOKEN_TTL", default_value_t = 86_400)]
    pub visitor_token_ttl: u64,

    /// Public base URL, used in printed links and e-mails.
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// fsync policy of the database.
    #[arg(long, env = "SWITCHBOARD_DURABILITY", value_enum, default_value_t = DurabilityOption::Full)]
    pub durability: DurabilityOption,

    /// Largest request body, in bytes.
    #[arg(long, env = "SWITCHBOARD_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// REST requests per second per client IP (0: no limit).
    #[arg(long, env = "SWITCHBOARD_RATE_LIMIT_IP", default_value_t = 50)]
    pub rate_limit_ip: u32,

    /// REST requests and WebSocket commands per second per tenant (0: no limit).
    #[arg(long, env = "SWITCHBOARD_RATE_LIMIT_TENANT", default_value_t = 2_000)]
    pub rate_limit_tenant: u32,

    /// WebSocket commands per second per connection (0: no limit).
    #[arg(long, env = "SWITCHBOARD_RATE_LIMIT_SOCKET", default_value_t = 20)]
    pub rate_limit_socket: u32,

    /// Most WebSocket connections at once; more are refused with 503 [default: the
    /// open-file limit less 512 files for the database, REST requests and outgoing calls]
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Events kept per WebSocket stream for a client that reconnects.
    #[arg(long, env = "SWITCHBOARD_RESUME_BUFFER", default_value_t = 1_024)]
    pub resume_buffer: usize,

    /// Seconds a disconnected stream is kept for a resume.
    #[arg(long, env = "SWITCHBOARD_RESUME_WINDOW", default_value_t = 120)]
    pub resume_window: u64,

    /// Seconds between heartbeats; a connection silent for three is closed.
    #[arg(long, env = "SWITCHBOARD_HEARTBEAT", default_value_t = 20)]
    pub heartbeat: u64,

    /// Push endpoint in the FCM HTTP v1 format
    /// (https://fcm.googleapis.com/v1/projects/PROJECT/messages:send); unset: pushes are
    /// logged and dropped.
    #[arg(long, env = "SWITCHBOARD_PUSH_URL")]
    pub push_url: Option<String>,

    /// Bearer token for the push endpoint.
    #[arg(long, env = "SWITCHBOARD_PUSH_TOKEN", hide_env_values = true)]
    pub push_token: Option<String>,

    /// SMTP relay, e.g. smtp://localhost:25 or smtps://user:pass@mail.example.com;
    /// unset: e-mails are logged and dropped.
    #[arg(long, env = "SWITCHBOARD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of e-mails.
    #[arg(
        long,
        env = "SWITCHBOARD_SMTP_FROM",
        default_value = "Switchboard <no-reply@switchboard.localhost>"
    )]
    pub smtp_from: String,

    /// First retry delay of a failed push or e-mail, in milliseconds; it doubles with each
    /// attempt.
    #[arg(long, env = "SWITCHBOARD_EFFECT_RETRY_BASE_MS", default_value_t = 500)]
    pub effect_retry_base_ms: u64,

    /// Attempts per webhook delivery (at least 1).
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_ATTEMPTS", default_value_t = 5)]
    pub webhook_attempts: u32,

    /// First retry delay of a failed webhook delivery, in milliseconds; it doubles with
    /// each attempt.
    #[arg(
        long,
        env = "SWITCHBOARD_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 1_000
    )]
    pub webhook_retry_base_ms: u64,

    /// Let tenants' webhooks reach loopback, private and link-local addresses (an ERP on
    /// the same network). Off: only public addresses, so that a tenant administrator
    /// cannot probe the server's own network through webhooks and their delivery log.
    #[arg(
        long,
        env = "SWITCHBOARD_WEBHOOK_PRIVATE_TARGETS",
        default_value_t = false,
        action = clap::ArgAction::Set
    )]
    pub webhook_private_targets: bool,

    /// Webhook deliveries waiting to be sent before new ones are dropped (and counted in
    /// the metrics).
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_QUEUE", default_value_t = 10_000)]
    pub webhook_queue: usize,

    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "SWITCHBOARD_LOG", default_value = "info")]
    pub log: String,

    /// Log format.
    #[arg(long, env = "SWITCHBOARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How hard a commit works to survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DurabilityOption {
    /// fsync every commit.
    Full,
    /// Survive a process crash; a power cut may lose the last commits.
    Normal,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// The defaults, as if started with no options and no environment (for tests).
    #[must_use]
    pub fn defaults() -> Config {
        Config::parse_from(["switchboard-server"])
    }
}
