#!/usr/bin/env bash
# Makes the TLS files of the broker's 8883 listener with openssl: a private CA (kept if it exists)
# and a server certificate signed by it for the names stations use to reach the broker.
#
#   scripts/make-broker-certificates.sh DIR NAME [NAME...]
#   e.g. scripts/make-broker-certificates.sh /etc/mosquitto/certs mqtt.hq.example.com 203.0.113.10
#
# Writes DIR/ca.key, DIR/ca.crt (give ca.crt to every station), DIR/server.key, DIR/server.crt.
# NAMEs go into subjectAltName (DNS names, or IP addresses); the first is also the CN. Keep ca.key
# offline if you can: whoever has it can impersonate the broker. Run again to renew the server
# certificate under the same CA. CA_NAME names a new CA (default "GasStation MQTT CA");
# scripts/make-station-certificate.sh makes a station's HTTPS certificate the same way.
set -euo pipefail

if (($# < 2)); then
    echo "usage: $0 DIR NAME [NAME...]" >&2
    exit 2
fi
dir="$1"
shift
mkdir -p "$dir"

alt_names=()
for name in "$@"; do
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
        alt_names+=("IP:$name")
    else
        alt_names+=("DNS:$name")
    fi
done
san="$(IFS=,; echo "${alt_names[*]}")"

# openssl's progress output only matters when it fails.
quietly() {
    local output
    if ! output="$("$@" 2>&1)"; then
        printf '%s\n' "$output" >&2
        return 1
    fi
}

umask 077
if [[ ! -e $dir/ca.key ]]; then
    quietly openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days 3650 \
        -subj "/CN=${CA_NAME:-GasStation MQTT CA}" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt"
fi
quietly openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -subj "/CN=$1" \
    -keyout "$dir/server.key" -out "$dir/server.csr"
extensions="$dir/server.ext"
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" >"$extensions"
quietly openssl x509 -req -sha256 -days 825 -in "$dir/server.csr" \
    -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -extfile "$extensions" -out "$dir/server.crt"
rm -f "$dir/server.csr" "$extensions"
chmod 0644 "$dir/ca.crt" "$dir/server.crt"
# The broker runs as the mosquitto user: let its group read the server key.
if getent group mosquitto >/dev/null && [[ $(id -u) -eq 0 ]]; then
    chgrp mosquitto "$dir/server.key"
    chmod 0640 "$dir/server.key"
fi
echo "wrote $dir/ca.crt, $dir/server.crt and $dir/server.key for $san" >&2
