#!/usr/bin/env bash
# Makes the station's HTTPS certificate, for its POS API on the LAN (`--allow-lan` needs one):
# a private CA of the station (kept if it exists) and a certificate signed by it for the names
# and addresses the back-office PC uses to reach the POS PC.
#
#   scripts/make-station-certificate.sh DIR NAME [NAME...]
#   e.g. scripts/make-station-certificate.sh /var/lib/gasstation/tls pos-st0001 192.168.0.10
#   station-runtime --api 0.0.0.0:7070 --allow-lan --lan-name pos-st0001 \
#       --tls-cert DIR/server.crt --tls-key DIR/server.key ...
#
# Install DIR/ca.crt as trusted on the back-office PC; keep DIR/ca.key off the POS PC if you can.
set -euo pipefail
CA_NAME="${CA_NAME:-GasStation station CA}" exec bash "$(dirname "$0")/make-broker-certificates.sh" "$@"
