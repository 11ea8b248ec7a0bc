#!/usr/bin/env bash
# Installs what the project needs and the machine lacks. Safe to run again: it only installs
# what is missing. Needs the Rust toolchain (cargo with rustfmt and clippy) to be present.
set -euo pipefail

missing=()
command -v cargo >/dev/null || missing+=("cargo (install the Rust toolchain)")
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

if ((${#apt_packages[@]})); then
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${apt_packages[@]}"
fi
