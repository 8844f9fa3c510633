#!/usr/bin/env bash
# Every check CI runs, in the order it runs them. Run it locally the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== core, and the store without its SQLite backend, build for wasm32-unknown-unknown"
cargo build -p switchboard-core --target wasm32-unknown-unknown --locked
cargo rustc -p switchboard-store --lib --no-default-features --target wasm32-unknown-unknown --locked -- -D warnings

echo "== benchmarks run (small sizes, figures not asserted)"
cargo bench -p switchboard-core --bench engine --locked -- --smoke
cargo bench -p switchboard-core --bench sla --locked -- --smoke
cargo bench -p switchboard-store --bench store --locked -- --smoke
