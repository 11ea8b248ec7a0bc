#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, every Rust test suite (the desktop
# app's end-to-end test among them) and the POS UI's browser end-to-end tests.
#
# One failure never hides another: every check and every test target runs (`--no-fail-fast`), the
# failed ones are listed at the end, and the script exits non-zero if any failed. Only the builds
# that the later steps need stop it at once.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=()
check() {
    local name=$1
    shift
    echo "==> $name"
    if ! "$@"; then
        failed+=("$name")
    fi
}

bash scripts/install-deps.sh
check "cargo fmt" cargo fmt --all -- --check
check "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
check "UI lint" npm --prefix ui run lint
# The runtime serves the built UI; the desktop and browser tests open it.
npm --prefix ui run build
# The system and UI tests drive the hub, station-runtime, station and simulator binaries as
# separate processes.
cargo build --workspace --bins --locked
# The test output is kept so that the failed tests can be named again at the very end.
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT
check "cargo test" bash -o pipefail -c 'cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$0"' "$test_log"
check "UI end-to-end tests" env STATION_BIN_DIR="${CARGO_TARGET_DIR:-target}/debug" npm --prefix ui run e2e

if ((${#failed[@]})); then
    grep -E '^test .* FAILED$|panicked at|targets? failed|^    `-p ' "$test_log" >&2 || true
    printf 'FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "all checks and tests passed"
