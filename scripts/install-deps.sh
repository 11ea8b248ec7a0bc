#!/usr/bin/env bash
# Installs what the project needs and the machine lacks. Safe to run again: it only installs
# what is missing. Needs the Rust toolchain (cargo with rustfmt and clippy) to be present.
set -euo pipefail

missing=()
command -v cargo >/dev/null || missing+=("cargo (install the Rust toolchain)")
command -v node >/dev/null || missing+=("node (Node.js 20 or newer, for the POS UI)")
command -v npm >/dev/null || missing+=("npm (comes with Node.js)")
cargo fmt --version >/dev/null 2>&1 || missing+=("rustfmt (part of the Rust toolchain)")
cargo clippy --version >/dev/null 2>&1 || missing+=("clippy (part of the Rust toolchain)")
if ((${#missing[@]})); then
    printf 'missing: %s\n' "${missing[@]}" >&2
    exit 1
fi

# Debian packages the project uses, installed only when absent.
apt_packages=()
need_apt() {
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || apt_packages+=("$package")
    done
}
# The station core bundles SQLite. The production MQTT broker and its tools (mosquitto_passwd for
# scripts/provision-station.sh; the system tests start real brokers) come from Debian.
need_apt mosquitto mosquitto-clients
# openssl makes the broker's TLS certificates (scripts/make-broker-certificates.sh).
need_apt openssl
# The desktop app (Tauri 2 on WebKitGTK) builds against these.
need_apt build-essential pkg-config libwebkit2gtk-4.1-dev libxdo-dev libssl-dev \
    libayatana-appindicator3-dev librsvg2-dev
# Its end-to-end test runs it under a virtual X server through WebKit's WebDriver; the UI's
# browser tests and latency bench drive Debian's Chromium.
need_apt xvfb xauth webkit2gtk-driver chromium
# A private D-Bus session bus, over which the desktop app's single-instance guard is tested.
need_apt dbus-daemon
# libfaketime, with which scripts/test-clock-shift.sh runs the suite with the clock moved.
need_apt faketime
# The sqlite3 shell: a browser test writes a receipt stored before the text check into a
# station's database, as an old version of the station would have left it.
need_apt sqlite3
# Korean text on the screens (the webview and the browser draw boxes without a CJK font).
need_apt fonts-noto-cjk

if ((${#apt_packages[@]})); then
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${apt_packages[@]}"
fi

# tauri-driver: the WebDriver front for the desktop app's end-to-end test.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v tauri-driver >/dev/null && [[ ! -x "$cargo_bin/tauri-driver" ]]; then
    cargo install --locked tauri-driver
fi

# The POS UI's packages, exactly as its lock file says.
ui_dir="$(dirname "$0")/../ui"
if [[ ! -d "$ui_dir/node_modules" || "$ui_dir/package-lock.json" -nt "$ui_dir/node_modules/.package-lock.json" ]]; then
    npm --prefix "$ui_dir" ci --no-audit --no-fund
fi
