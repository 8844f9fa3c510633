//! The load generator against a real server on port 0: both modes run to the end, every
//! message is delivered and read back, and the split run's two sides pair up.

// The server's own test set-up: a server on port 0 over a temporary database, with the
// demo tenant's ERP secret known and rate limits off.
#[path = "../../server/tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use support::{ERP_SECRET, TestServer};

/// Runs the load generator against `server` (on a blocking thread, so the server keeps
/// serving meanwhile).
async fn loadgen(server: &TestServer, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard-loadgen"));
    command
        .args(["--base", &server.base, "--erp-secret", ERP_SECRET])
        .args(args)
        .env_remove("SWITCHBOARD_DEMO_PASSWORD");
    tokio::task::spawn_blocking(move || command.output().expect("the load generator runs"))
        .await
        .unwrap()
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
    let mut server = TestServer::start().await;
    let output = loadgen(&server, &["-k", "4", "-m", "25"]).await;
    let stdout = report(&output);
    assert!(stdout.contains("delivered 100 messages"), "{stdout}");
    assert!(stdout.contains("readable over REST"), "{stdout}");
    assert!(stdout.contains("p99"), "{stdout}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_run_delivers_every_message() {
    let mut server = TestServer::start().await;
    let output = loadgen(
        &server,
        &[
            "-k", "3", "-m", "4", "--mode", "paced", "-r", "20", "--spread",
        ],
    )
    .await;
    let stdout = report(&output);
    assert!(stdout.contains("delivered 12 messages"), "{stdout}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_sides_pair_through_the_ready_file() {
    let mut server = TestServer::start().await;
    let ready = server.dir.0.join("lg.ready");
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
    let (agents, visitors) = tokio::join!(
        loadgen(&server, &agents_args),
        loadgen(&server, &visitors_args)
    );
    let agents = report(&agents);
    report(&visitors);
    assert!(agents.contains("chats assigned: 3 of 3"), "{agents}");
    assert!(agents.contains("delivered 30 of 30 messages"), "{agents}");
    server.stop().await;
}
