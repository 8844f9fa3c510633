//! `switchboard-server`: starts the example server and prints where it listens and how to
//! log in.

use clap::Parser;
use switchboard_server::config::{Config, LogFormat};
use switchboard_server::{Server, demo};
use tracing_subscriber::EnvFilter;

/// Under a flood, glibc's malloc and free took a seventh of the server's time on the
/// engine thread alone, where commits and events are built; with mimalloc the median
/// flood throughput rose by 31%.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // mimalloc asks for transparent huge pages, and the kernel then zeroes two megabytes at
    // the first touch of each: in a flood on a fresh server that zeroing took a seventh of
    // the engine thread. Without them the flood throughput rose by about a fifth, and
    // 10,000 idle connections take a quarter less memory.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let config = Config::parse();
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
    }
    // Every connection is a file: take all the files the system allows this process.
    let _ = switchboard_server::file_limit::raise_to_hard_limit();
    let server = match Server::start(config.clone()).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("switchboard-server: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    print_banner(&config, &server);
    let signal = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    };
    signal.await;
    tracing::info!("shutting down");
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

fn print_banner(config: &Config, server: &Server) {
    let base = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", server.local_addr));
    println!("Switchboard is listening on {base}");
    println!("  REST        {base}/api/v1/live-agent/sessions");
    println!("  WebSocket   ws://{}/ws", server.local_addr);
    println!("  Health      {base}/healthz   Metrics {base}/metrics");
    println!("  Database    {}", config.db.display());
    if let Some(demo) = &server.demo {
        println!();
        let password = if demo.created {
            "password as set (default \"demo\")"
        } else {
            "the password it was created with (default \"demo\")"
        };
        if demo.created {
            println!("Demo tenant {} (created in this database):", demo::DOMAIN);
        } else {
            println!(
                "Demo tenant {} (kept from an earlier start; the demo options apply only to a new database):",
                demo::DOMAIN
            );
        }
        println!("  agent       {} / {password}", demo::AGENT_EMAIL);
        println!("  admin       {} / {password}", demo::ADMIN_EMAIL);
        match &demo.widget_key {
            Some(key) => println!("  widget key  {key}"),
            None => println!("  widget key  none left (every one is revoked)"),
        }
        if !demo.created {
            // The secret can sign an administrator's single sign-on token: shown once,
            // when it was made, and not in every later start's output.
            println!(
                "  ERP token secret (HS256) as shown when the database was created; \
                 an administrator sets a new one with PUT /api/v1/admin/erp"
            );
        } else if demo.generated_secret {
            println!("  ERP token secret (HS256) {}", demo.jwt_secret);
        } else {
            println!("  ERP token secret from SWITCHBOARD_DEMO_JWT_SECRET");
        }
    }
}
