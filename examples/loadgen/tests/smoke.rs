//! The load generator against a real server on port 0: both modes run to the end, every
//! message is delivered and read back, and the split run's two sides pair up.

use std::path::PathBuf;
use std::process::{Command, Output};

use switchboard_server::Server;
use switchboard_server::config::{Config, DurabilityOption};

const ERP_SECRET: &str = "loadgen-smoke-secret";

/// A server over a database in its own temporary directory.
struct Running {
    server: Option<Server>,
    base: String,
    dir: PathBuf,
}

impl Running {
    async fn start() -> Running {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let dir = std::env::temp_dir().join(format!("switchboard-loadgen-{}", hex::encode(bytes)));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = Config::defaults();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.db = dir.join("switchboard.db");
        config.demo = true;
        config.demo_password = "demo".to_owned();
        config.demo_jwt_secret = Some(ERP_SECRET.to_owned());
        config.signing_key = None;
        config.rate_limit_ip = 0;
        config.rate_limit_tenant = 0;
        config.rate_limit_socket = 0;
        config.durability = DurabilityOption::Normal;
        config.push_url = None;
        config.smtp_url = None;
        let server = Server::start(config).await.expect("the server starts");
        let base = format!("http://{}", server.local_addr);
        Running {
            server: Some(server),
            base,
            dir,
        }
    }

    /// Runs the load generator against this server (on a blocking thread, so the server
    /// keeps serving meanwhile).
    async fn loadgen(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard-loadgen"));
        command
            .args(["--base", &self.base, "--erp-secret", ERP_SECRET])
            .args(args)
            .env_remove("SWITCHBOARD_DEMO_PASSWORD");
        tokio::task::spawn_blocking(move || command.output().expect("the load generator runs"))
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn report(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the load generator failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_delivers_every_message_and_reads_it_back() {
    let server = Running::start().await;
    let output = server.loadgen(&["-k", "4", "-m", "25"]).await;
    let stdout = report(&output);
    assert!(stdout.contains("delivered 100 messages"), "{stdout}");
    assert!(stdout.contains("readable over REST"), "{stdout}");
    assert!(stdout.contains("p99"), "{stdout}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_run_delivers_every_message() {
    let server = Running::start().await;
    let output = server
        .loadgen(&[
            "-k", "3", "-m", "4", "--mode", "paced", "-r", "20", "--spread",
        ])
        .await;
    let stdout = report(&output);
    assert!(stdout.contains("delivered 12 messages"), "{stdout}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_sides_pair_through_the_ready_file() {
    let server = Running::start().await;
    let ready = server.dir.join("lg.ready");
    let ready = ready.to_str().unwrap();
    let common = [
        "-k",
        "3",
        "-m",
        "10",
        "--ready-file",
        ready,
        "--timeout",
        "60",
    ];
    let agents_args = [&["--side", "agents"][..], &common[..]].concat();
    let visitors_args = [&["--side", "visitors"][..], &common[..]].concat();
    let (agents, visitors) =
        tokio::join!(server.loadgen(&agents_args), server.loadgen(&visitors_args));
    let agents = report(&agents);
    report(&visitors);
    assert!(agents.contains("chats assigned: 3 of 3"), "{agents}");
    assert!(agents.contains("delivered 30 of 30 messages"), "{agents}");
    server.stop().await;
}
