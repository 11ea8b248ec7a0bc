#!/usr/bin/env bash
# Runs the Rust tests and the browser tests again with the clock moved by libfaketime, to show
# that the suite does not depend on the calendar: every process the tests start (the hub, the
# station runtimes, Mosquitto, the browser) sees the moved clock.
#
#   bash scripts/test-clock-shift.sh              # a year ahead, then a year back
#   bash scripts/test-clock-shift.sh +30d -2d     # any offsets faketime understands
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
npm --prefix ui run build
cargo build --workspace --bins --tests --locked

offsets=("$@")
((${#offsets[@]})) || offsets=(+365d -365d)
failed=()
for offset in "${offsets[@]}"; do
    echo "==> the clock moved by $offset: $(faketime -f "$offset" date -u +%FT%TZ)"
    # The monotonic clock is left alone (timeouts measure real time) and file times are the real
    # ones. Cargo itself runs on the real clock and starts each test binary through faketime
    # (its target runner); the doctests, which read no clock, are left out.
    shifted=(env FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 faketime -f "$offset")
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="faketime -f $offset" \
        FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 \
        cargo test --workspace --locked --no-fail-fast --tests || failed+=("cargo test at $offset")
    (cd ui && "${shifted[@]}" env STATION_BIN_DIR="${CARGO_TARGET_DIR:-$PWD/../target}/debug" \
        node --test --test-concurrency=1 e2e/*.test.mjs) || failed+=("UI end-to-end tests at $offset")
done
if ((${#failed[@]})); then
    printf 'FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "every test passed at each offset: ${offsets[*]}"
