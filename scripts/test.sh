#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, and all test suites.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The system tests drive the hub, station-runtime and station binaries as separate processes.
cargo build --workspace --bins --locked
cargo test --workspace --locked
