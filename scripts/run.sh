#!/usr/bin/env bash
# Installs what is missing, builds the system and runs a demonstration station on its embedded
# defaults: a fresh station database under var/demo/, a day of orders, a delivery, sales, a credit
# account, a cancellation, the shift and day close, and the outbox waiting for HQ.
#
# Afterwards the `station` tool stays usable on the same database, e.g.
#   STATION_DB=var/demo/station.db target/debug/station stock show
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo build --locked -p station-cli
target_dir="${CARGO_TARGET_DIR:-target}"
station_bin="$target_dir/debug/station"

mkdir -p var/demo
export STATION_DB="var/demo/station.db"
rm -f "$STATION_DB" "$STATION_DB-wal" "$STATION_DB-shm"

step() { printf '\n== %s\n' "$*"; }
station() { "$station_bin" "$@"; }
manager() { "$station_bin" --user park --pin 9999 "$@"; }
cashier() { "$station_bin" --user kim --pin 1234 "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

step "Create station ST0001 with its manager (park, PIN 9999) and a cashier (kim, PIN 1234)"
station --manager park --manager-pin 9999 init --station ST0001 --name "Gangnam Station" --manager-name "Park"
manager user add --id kim --name "Kim" --role cashier --new-pin 1234

step "Prices from HQ, and the tanks"
manager price receive --version 1 --effective-at "$(date -u +%Y-%m-%dT00:00:00Z)" \
    --item "CD1001:Diesel:litre:1650" --item "GS1001:Gasoline:litre:1750" --item "SN2001:Water 500ml:piece:1000"
manager tank register --tank 1 --product CD1001 --capacity 30000
manager tank register --tank 2 --product GS1001 --capacity 20000

step "Order diesel; HQ's shipment arrives as a message; confirm the delivery"
order_id=$(manager order place --product CD1001 --litres 20000 --wanted "$(date -u -d tomorrow +%Y-%m-%d)" | field order)
shipment_id=$(python3 -c 'import uuid; print(uuid.uuid4())')
message="var/demo/shipment.json"
cat >"$message" <<JSON
{"schema":1,"event_id":"$(python3 -c 'import uuid; print(uuid.uuid4())')","origin":"HQ","seq":1,
 "occurred_at":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","kind":"shipment_dispatched",
 "payload":{"shipment_id":"$shipment_id","order_id":"$order_id","product_id":"CD1001",
            "volume_ml":20000000,"truck":"83-GA-1234","expected_at":null}}
JSON
station inbox apply --file "$message"
manager delivery confirm --shipment "$shipment_id" --tank 1 --litres 19950.5
station stock show

step "The cashier opens a shift and sells"
cashier shift open --float 100000
cashier sale settle --line product=CD1001,litres=40 --line product=SN2001,qty=2 --cash 70000
pump_sale=$(cashier sale settle --line product=CD1001,litres=30.303,pump-price=1650,pump-amount=50000 --card APPROVAL-7781)
echo "$pump_sale"

step "A customer on credit"
account_id=$(manager account open --name "Hanbit Logistics" --limit 200000 | field account)
cashier sale settle --line product=CD1001,litres=50 --account "$account_id"

step "A cancellation, approved by the manager"
cashier --manager park --manager-pin 9999 sale cancel --sale "$(echo "$pump_sale" | field sale)" --reason "wrong pump"

step "Sales summary and stock"
station sales summary
station stock show

step "Close the shift and the business day"
cashier shift close --counted 168000
manager day close

step "Events waiting for HQ (sync arrives with the hub)"
station outbox list | python3 -c 'import json,sys; o=json.load(sys.stdin); print(json.dumps({"backlog": o["backlog"], "kinds": [e["kind"] for e in o["events"]]}))'

printf '\nThe demo station is at %s; try: %s --db %s sales summary\n' "$STATION_DB" "$station_bin" "$STATION_DB"
