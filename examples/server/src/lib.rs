//! # switchboard-server
//!
//! The example server: the Switchboard engine and its SQLite store behind REST and
//! WebSocket. One engine thread owns the store and commits requests in groups; handlers,
//! sockets and effect workers run on tokio. See `docs/api.md` for the endpoints and frames.

pub mod api;
pub mod auth;
pub mod checkpoints;
pub mod config;
pub mod demo;
pub mod directory;
pub mod effects;
pub mod engine_loop;
pub mod error;
pub mod extract;
pub mod file_limit;
pub mod metrics;
pub mod rate;
pub mod release;
pub mod release_thread;
pub mod retention;
pub mod state;
pub mod webhooks;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use switchboard_store::{Durability, DurableEngine, OpenOptions};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::auth::tokens::SigningKey;
use crate::config::{Config, DurabilityOption};
use crate::directory::{Directory, namespace};
use crate::engine_loop::EngineHandle;
use crate::rate::RateLimits;
use crate::state::{AppState, ReaderPool, SharedState};
use crate::ws::{Hub, StreamEnd};

/// How the server opens its store.
fn store_options(durability: DurabilityOption) -> OpenOptions {
    OpenOptions {
        durability: match durability {
            // As durable as `Full`, with the wait for the disk on the release thread.
            DurabilityOption::Full => Durability::SyncedByHost,
            DurabilityOption::Normal => Durability::Normal,
        },
        background_wal_checkpoints: true,
        // The engine thread projects every few thousand records or 100 ms; reads
        // wait for it (`ReaderPool::read`), so every answer still sees its own writes.
        deferred_projection: true,
        // With the records projected in large groups, a new file's writes are mostly
        // appends, which larger pages make cheaper (see `OpenOptions::page_size`).
        page_size: 8_192,
        ..OpenOptions::default()
    }
}

/// A running server.
pub struct Server {
    /// The address it listens on (the real port when started on port 0).
    pub local_addr: SocketAddr,
    /// The demo tenant, when this start created it.
    pub demo: Option<demo::DemoTenant>,
    state: SharedState,
    stop: watch::Sender<bool>,
    serving: JoinHandle<std::io::Result<()>>,
    checkpoints: std::thread::JoinHandle<()>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error("opening the database: {0}")]
    Store(#[from] switchboard_store::StoreError),
    /// The address could not be bound.
    #[error("listening on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A setting is invalid.
    #[error("{0}")]
    Config(String),
    /// Setting up the demo tenant failed.
    #[error("creating the demo tenant: {0}")]
    Demo(error::ApiError),
}

impl Server {
    /// Opens the database, creates the demo tenant in a new one, and starts serving.
    pub async fn start(mut config: Config) -> Result<Server, StartError> {
        // Outgoing HTTPS (push) and SMTP TLS use rustls with ring; installing twice is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Listen {
                    address: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Listen {
            address: config.listen,
            source,
        })?;
        config.listen = local_addr;
        let options = store_options(config.durability);
        let durability = options.durability;
        let db = config.db.clone();
        let (store, recovery) = {
            let options = options.clone();
            tokio::task::spawn_blocking(move || DurableEngine::open(&db, options))
                .await
                .map_err(|error| StartError::Config(error.to_string()))??
        };
        tracing::info!(
            created = recovery.created,
            replayed = recovery.replayed,
            "database open"
        );
        let directory = Arc::new(Directory::default());
        for name in [
            namespace::TENANT,
            namespace::CREDENTIAL,
            namespace::WIDGET_KEY,
            namespace::PUSH_TOKEN,
            namespace::WEBHOOK,
            namespace::SERVER,
            namespace::CONFIG,
        ] {
            let values = store.host_values(name)?;
            let writes: Vec<_> = values
                .into_iter()
                .map(|value| (value.tenant_id, name, value.key, Some(value.value)))
                .collect();
            directory.apply(&writes);
        }
        let pending_effects = store.pending_effects()?;
        let pending_webhooks = webhooks::load_pending(&store)?;
        let webhook_history = Arc::new(webhooks::History::load(&store)?);
        let max_connections = file_limit::connection_cap(config.max_connections);
        let hub = Arc::new(Hub::new(
            config.resume_buffer,
            Duration::from_secs(config.resume_window),
            max_connections,
        ));
        let (effect_sender, effect_jobs) = mpsc::unbounded_channel();
        let (webhooks, webhook_queue) = webhooks::Webhooks::new(
            directory.clone(),
            webhook_history.clone(),
            config.webhook_queue,
        );
        let dispatch = Arc::new(release::Dispatch::new(
            hub.clone(),
            effect_sender.clone(),
            Some(webhooks.clone()),
        ));
        let engine = EngineHandle::start(store, (config.db.clone(), options), dispatch);

        let signing_secret = match &config.signing_key {
            Some(key) => key.clone(),
            None => match directory.server_value("signing_key") {
                Some(key) => key,
                None => {
                    let key = random_token(32);
                    let write = (
                        "".to_owned(),
                        namespace::SERVER,
                        "signing_key".to_owned(),
                        Some(key.clone()),
                    );
                    engine
                        .run({
                            let write = write.clone();
                            move |store| {
                                store.stage_host_value(
                                    &write.0,
                                    write.1,
                                    &write.2,
                                    write.3.as_deref(),
                                )?;
                                store.commit().map(|_| ())
                            }
                        })
                        .await
                        .map_err(StartError::Demo)??;
                    directory.apply(&[write]);
                    key
                }
            },
        };
        let readers = Arc::new(ReaderPool::new(config.db.clone(), engine.clone()));
        let state: SharedState = Arc::new(AppState {
            limits: RateLimits::new(
                config.rate_limit_ip,
                config.rate_limit_tenant,
                config.rate_limit_socket,
            ),
            signing: SigningKey::new(signing_secret.as_bytes()),
            engine: engine.clone(),
            directory: directory.clone(),
            hub: hub.clone(),
            readers: readers.clone(),
            webhooks,
            config: config.clone(),
            staff_changes: tokio::sync::Mutex::new(()),
        });

        let demo = if recovery.created && config.demo {
            Some(
                demo::create(&engine, &directory, &config)
                    .await
                    .map_err(StartError::Demo)?,
            )
        } else if config.demo {
            demo::existing(&directory, &config)
        } else {
            None
        };

        let effects = Arc::new(
            effects::Effects::new(&config, engine.clone(), directory.clone(), readers)
                .map_err(StartError::Config)?,
        );
        for pending in pending_effects {
            let _ = effect_sender.send(effects::EffectJob {
                tenant_id: pending.tenant_id,
                effect_id: pending.effect_id,
                effect: pending.effect,
            });
        }
        drop(effect_sender);
        tokio::spawn(effects.run(effect_jobs));

        let (stop, mut stopped) = watch::channel(false);
        let checkpoints = checkpoints::spawn(config.db.clone(), durability, stop.subscribe())?;
        retention::spawn(engine.clone(), stop.subscribe());
        let deliverer =
            webhooks::Deliverer::new(&config, engine.clone(), directory.clone(), webhook_history)
                .map_err(StartError::Config)?;
        tokio::spawn(deliverer.run(webhook_queue, pending_webhooks, stop.subscribe()));
        let sweeper = state.clone();
        let mut sweep_stop = stop.subscribe();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(10));
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        sweeper.hub.sweep();
                        sweeper.limits.forget_idle();
                    }
                    _ = sweep_stop.changed() => return,
                }
            }
        });
        let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let serving = tokio::spawn(async move {
            // Chat frames are small: Nagle's algorithm would hold them back.
            let listener = listener.tap_io(|socket| {
                if let Err(error) = socket.set_nodelay(true) {
                    tracing::debug!(error = %error, "TCP_NODELAY not set");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Server {
            local_addr,
            demo,
            state,
            stop,
            serving,
            checkpoints,
        })
    }

    /// The shared state (for tests and embedding).
    #[must_use]
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Stops accepting, closes WebSocket streams, finishes in-flight requests, commits
    /// and closes the store.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.state.hub.end_all(StreamEnd::Shutdown);
        match tokio::time::timeout(Duration::from_secs(10), self.serving).await {
            Ok(Ok(Err(error))) => tracing::warn!(error = %error, "serving ended with an error"),
            Err(_) => tracing::warn!("connections did not finish within 10 s"),
            _ => {}
        }
        // Their connections go before the engine's, so the engine's close, the last, folds
        // the log into the database.
        let _ = tokio::task::spawn_blocking(move || self.checkpoints.join()).await;
        self.state.readers.close_idle();
        self.state.engine.shutdown().await;
    }
}

/// A random token of `bytes` random bytes, hex-encoded.
#[must_use]
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the OS random source");
    hex::encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_opened_for_group_commits_with_projections_after_them() {
        for (option, durability) in [
            (DurabilityOption::Full, Durability::SyncedByHost),
            (DurabilityOption::Normal, Durability::Normal),
        ] {
            let options = store_options(option);
            assert_eq!(options.durability, durability);
            assert!(options.background_wal_checkpoints);
            assert!(options.deferred_projection);
            assert_eq!(options.page_size, 8_192);
        }
    }
}
