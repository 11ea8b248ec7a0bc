#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, every Rust test suite (the desktop
# app's end-to-end test among them) and the POS UI's browser end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
npm --prefix ui run lint
# The runtime serves the built UI; the desktop and browser tests open it.
npm --prefix ui run build
# The system and UI tests drive the hub, station-runtime, station and simulator binaries as
# separate processes.
cargo build --workspace --bins --locked
cargo test --workspace --locked
STATION_BIN_DIR="${CARGO_TARGET_DIR:-target}/debug" npm --prefix ui run e2e
