#!/usr/bin/env bash
# Installs what is missing, builds the system and runs it on its embedded defaults: the hub with
# its embedded MQTT broker, two demo stations (ST0001, ST0002) with their headless runtimes syncing
# with it, and a short day of business through the `station` tool and the hub's API. Then it keeps
# everything running and prints where to look; Ctrl-C stops it all. Commission settlement runs
# beside the hub on its event feed, settling ST0002 (a consignment station).
#
# ST0001 also gets simulated devices on pseudo-terminals (two DART pumps, a receipt printer, a tank
# gauge), each station serves its POS UI in a browser, and the hub serves HQ's dashboard.
#
# Everything lives under var/demo/ (recreated on each run). Ports: HTTP 8080, MQTT 1883, the
# stations' POS 7070 and 7071, settlement 8090; change them with HUB_HTTP_PORT, MQTT_PORT,
# STATION_API_PORT, STATION2_API_PORT and SETTLEMENT_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
npm --prefix ui run build
cargo build --locked -p station-cli -p station-runtime -p cloud-hub -p commission-settlement -p receipt-printer -p tank-gauge -p pump-controller
bin="${CARGO_TARGET_DIR:-target}/debug"
http_port="${HUB_HTTP_PORT:-8080}"
mqtt_port="${MQTT_PORT:-1883}"
admin_password="demo-password"
demo=var/demo

rm -rf "$demo"
mkdir -p "$demo"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
wait_for() { # wait_for DESCRIPTION COMMAND...: polls until the command succeeds (30 s at most)
    local what=$1; shift
    for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what" >&2; return 1
}
api() { # api METHOD PATH [JSON]
    python3 - "$@" <<'PY'
import json, sys, urllib.request, os
method, path = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
request = urllib.request.Request(f"http://127.0.0.1:{os.environ['HTTP_PORT']}{path}", data=body, method=method)
request.add_header("content-type", "application/json")
if os.environ.get("TOKEN"):
    request.add_header("authorization", "Bearer " + os.environ["TOKEN"])
with urllib.request.urlopen(request) as response:
    print(response.read().decode())
PY
}
export HTTP_PORT="$http_port"

step "Start the hub with its embedded broker (HTTP :$http_port, MQTT :$mqtt_port)"
"$bin/hub" --db "$demo/hub/hub.db" --http "127.0.0.1:$http_port" --embedded-broker "127.0.0.1:$mqtt_port" \
    --admin-password "$admin_password" --dashboard-dir ui/dist-hq >"$demo/hub.out" 2>"$demo/hub.log" &
pids+=($!)
wait_for "the hub" grep -q http "$demo/hub.out"
cat "$demo/hub.out"
TOKEN=$(api POST /api/login "{\"username\":\"admin\",\"password\":\"$admin_password\"}" | field token)
export TOKEN

step "HQ: products, prices, and the two stations"
api PUT /api/products/CD1001 '{"name":"Diesel","unit":"litre"}'
api PUT /api/products/GS1001 '{"name":"Gasoline","unit":"litre"}'
api PUT /api/products/SN2001 '{"name":"Water 500ml","unit":"piece"}'
api POST /api/prices '{"prices":[{"product":"CD1001","unit_price_won":1650},{"product":"GS1001","unit_price_won":1750},{"product":"SN2001","unit_price_won":1000}]}'
api POST /api/stations '{"station":"ST0001","name":"Gangnam","operating_type":"directly_managed","region":"서울"}'
api POST /api/stations '{"station":"ST0002","name":"Suwon","operating_type":"consignment","region":"경기"}'

step "ST0001's devices: a receipt printer and a tank gauge, simulated on pseudo-terminals"
mkfifo "$demo/printer.in" "$demo/gauge.in" "$demo/pumps.in"
"$bin/printer-sim" <"$demo/printer.in" >"$demo/printer.log" 2>&1 &
pids+=($!)
exec 7>"$demo/printer.in"
"$bin/gauge-sim" <"$demo/gauge.in" >"$demo/gauge.log" 2>&1 &
pids+=($!)
exec 8>"$demo/gauge.in"
# Two DART pumps at 40 L/min; nozzle 1 sells gasoline (tank 1), nozzle 2 diesel (tank 3).
"$bin/pump-sim" --pumps 2 <"$demo/pumps.in" >"$demo/pumps.log" 2>&1 &
pids+=($!)
exec 9>"$demo/pumps.in"
wait_for "the pump simulator" grep -q ready "$demo/pumps.log"
wait_for "the printer simulator" grep -q ready "$demo/printer.log"
wait_for "the gauge simulator" grep -q ready "$demo/gauge.log"
printer_port=$(head -1 "$demo/printer.log" | field path)
gauge_port=$(head -1 "$demo/gauge.log" | field path)
pump_port=$(head -1 "$demo/pumps.log" | field path)
echo "printer on $printer_port, gauge on $gauge_port, pumps on $pump_port"
devices_ST0001=(--printer "$printer_port" --business-number 123-45-67890 --address "Seoul" --gauge "$gauge_port" --gauge-poll-ms 2000
    --pump-line "$pump_port" --nozzle 50/1=1 --nozzle 50/2=3 --nozzle 51/1=1 --nozzle 51/2=3
    --api "127.0.0.1:${STATION_API_PORT:-7070}")
devices_ST0002=(--api "127.0.0.1:${STATION2_API_PORT:-7071}")

for station in ST0001 ST0002; do
    step "Station $station: database, users, runtime"
    db="$demo/$station.db"
    devices_var="devices_${station}[@]"
    "$bin/station" --db "$db" --manager park --manager-pin 9999 init --station "$station" --name "$station" --manager-name Park
    "$bin/station" --db "$db" --user park --pin 9999 user add --id kim --name Kim --role cashier --new-pin 1234
    "$bin/station-runtime" --db "$db" --broker "127.0.0.1:$mqtt_port" --ui-dir ui/dist "${!devices_var}" >"$demo/$station.out" 2>"$demo/$station.log" &
    pids+=($!)
    wait_for "$station to receive HQ's prices" "$bin/station" --db "$db" price show --product CD1001
    # Numbered as the gauge numbers them: 1 gasoline, 3 diesel.
    "$bin/station" --db "$db" --user park --pin 9999 tank register --tank 1 --product GS1001 --capacity 20000
    "$bin/station" --db "$db" --user park --pin 9999 tank register --tank 3 --product CD1001 --capacity 30000
done

S1=(--db "$demo/ST0001.db")
wait_for "the gauge's first reading" bash -c "'$bin/station' --db '$demo/ST0001.db' stock readings | grep -q volume_ml"
step "ST0001 orders diesel; HQ ships it; the station confirms the delivery"
order=$("$bin/station" "${S1[@]}" --user park --pin 9999 order place --product CD1001 --litres 8000 --wanted "$(TZ=Asia/Seoul date -d tomorrow +%Y-%m-%d)" | field order)
wait_for "HQ to see the order" api GET "/api/orders/$order"
api POST "/api/orders/$order/shipments" '{"truck":"83-GA-1234","volume_ml":8000000}' >/dev/null
wait_for "ST0001 to expect the delivery" bash -c "'$bin/station' --db '$demo/ST0001.db' delivery list | grep -q shipment"
shipment=$("$bin/station" "${S1[@]}" delivery list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["shipment"])')
"$bin/station" "${S1[@]}" --user park --pin 9999 delivery confirm --shipment "$shipment" --tank 3 --litres 7950.5
echo "deliver 3 7950.5" >&8   # the gauge sees the fuel arrive
wait_for "HQ to show the order delivered" bash -c "HTTP_PORT=$http_port TOKEN=$TOKEN; $(declare -f api); api GET /api/orders/$order | grep -q delivered"
api GET "/api/orders/$order"

step "ST0001 sells, and cancels one sale with the manager's approval"
"$bin/station" "${S1[@]}" --user kim --pin 1234 shift open --float 100000 >/dev/null
"$bin/station" "${S1[@]}" --user kim --pin 1234 sale settle --line product=CD1001,litres=40 --line product=SN2001,qty=2 --cash 70000 | field receipt_no
sale=$("$bin/station" "${S1[@]}" --user kim --pin 1234 sale settle --line product=CD1001,litres=30.303,pump-price=1650,pump-amount=50000 --card APPROVAL-7781 | field sale)
"$bin/station" "${S1[@]}" --user kim --pin 1234 --manager park --manager-pin 9999 sale cancel --sale "$sale" --reason wrong-pump | field receipt_no
printf 'sale 3 40\nsale 3 30.303\n' >&8   # the pumps drew the fuel from tank 3
wait_for "ST0001 to have sent everything" bash -c "'$bin/station' --db '$demo/ST0001.db' outbox list --pending | grep -q '\"backlog\":0'"
step "ST0001's forecourt: pump 50 authorized for 20,000 won, its diesel nozzle lifted, the fueling paid by card"
pos() { # pos METHOD PATH [JSON]: ST0001's POS API as the cashier
    HTTP_PORT="${STATION_API_PORT:-7070}" TOKEN="${POS_TOKEN:-}" api "$@"
}
POS_TOKEN=$(pos POST /api/session '{"user":"kim","pin":"1234"}' | field token)
export POS_TOKEN STATION_API_PORT="${STATION_API_PORT:-7070}"
pump_is() { # pump_is EXPRESSION: true when the expression holds for pump 50 (a dict `p`)
    HTTP_PORT="$STATION_API_PORT" TOKEN="$POS_TOKEN" api GET /api/pumps |
        python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin) if p["pump"]=="50"][0]; sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"
}
export -f api pump_is
wait_for "pump 50 to be ready" pump_is 'p["state"] == "idle"'
pos POST /api/pumps/50/authorize '{"preset":{"amount_won":20000}}' >/dev/null
echo "lift 50 2" >&9
wait_for "the pump to stop at the preset" pump_is 'p["amount_won"] == 20000'
echo "hang 50" >&9
wait_for "the fueling to wait for payment" pump_is 'p["state"] == "finished"'
fueling=$(pos GET /api/fuelings | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["fueling"])')
pos POST "/api/fuelings/$fueling/settle" '{"payment":{"method":"card","reference":"APPROVAL-9120"}}' | field receipt_no

step "ST0001's printer and gauge"
wait_for "the receipts to print" bash -c "[ \$(grep -c '\"event\":\"receipt\"' '$demo/printer.log') -ge 2 ]"
grep '"event":"receipt"' "$demo/printer.log" | head -1
# 21,000 L + 7,950.5 L delivered − 40 L − 30.303 L drawn by the pumps
wait_for "the gauge to read tank 3 after the sales" bash -c "'$bin/station' --db '$demo/ST0001.db' stock readings | grep -q 28880197"
"$bin/station" "${S1[@]}" stock readings
"$bin/station" "${S1[@]}" stock reconcile

step "ST0002 sells diesel and water"
S2=(--db "$demo/ST0002.db")
"$bin/station" "${S2[@]}" --user kim --pin 1234 shift open --float 100000 >/dev/null
"$bin/station" "${S2[@]}" --user kim --pin 1234 sale settle --line product=CD1001,litres=25 --line product=SN2001,qty=1 --cash 50000 | field receipt_no

step "Commission settlement beside the hub, on HQ's event feed (ST0002 is run on consignment)"
settlement_port="${SETTLEMENT_PORT:-8090}"
feed_token=$(api POST /api/feed/consumers '{"name":"settlement"}' | field token)
SETTLEMENT_FEED_TOKEN="$feed_token" "$bin/settlement" --db "$demo/settlement/settlement.db" --hub "http://127.0.0.1:$http_port" \
    --http "127.0.0.1:$settlement_port" --allow-origin "http://127.0.0.1:$http_port" --allow-origin "http://localhost:$http_port" \
    >"$demo/settlement.out" 2>"$demo/settlement.log" &
pids+=($!)
wait_for "settlement" grep -q http "$demo/settlement.out"
wait_for "settlement to know ST0002" bash -c "HTTP_PORT=$settlement_port TOKEN=$TOKEN; $(declare -f api); api GET /api/stations | grep -q ST0002"
HTTP_PORT="$settlement_port" api POST /api/terms "{\"station\":\"ST0002\",\"effective_from\":\"$(TZ=Asia/Seoul date +%Y-%m-01)\",\"fuel_rates\":{\"CD1001\":35,\"GS1001\":40},\"shop_rate_basis_points\":500,\"monthly_fee_won\":300000,\"loss_cost_won_per_litre\":1200}"

step "HQ's view of the network"
api GET /api/sales
api GET /api/stations/status

cat <<EOF

The system is running. Where to look:
  HQ's dashboard (open in a browser): http://127.0.0.1:$http_port/   admin / $admin_password
  ST0001's POS (open in a browser): http://127.0.0.1:${STATION_API_PORT:-7070}/   cashier kim / PIN 1234, manager park / PIN 9999
  ST0002's POS:           http://127.0.0.1:${STATION2_API_PORT:-7071}/
  ST0001's pumps:         authorize pump 50 on the forecourt screen, then lift its nozzle from here:
                          echo 'lift 50 2' > $demo/pumps.in   (diesel; 'hang 50' puts it back)
  Settlement (HQ token):  http://127.0.0.1:${SETTLEMENT_PORT:-8090}/api/statements?period=$(TZ=Asia/Seoul date +%Y-%m)
                          and the dashboard's Settlement screen
  HQ API (token below):   http://127.0.0.1:$http_port/api/stations/status   (OpenAPI: /openapi.json)
  Metrics (with the token): http://127.0.0.1:$http_port/metrics
  HQ login:               admin / $admin_password
  Token:                  $TOKEN
  Stations:               $bin/station --db $demo/ST0001.db stock show   (and ST0002)
  Devices of ST0001:      receipts in $demo/printer.log; the tank gauge takes control lines such as
                          echo 'sale 3 100' > $demo/gauge.in ; then: $bin/station --db $demo/ST0001.db stock reconcile
  Logs:                   $demo/*.log
Press Ctrl-C to stop.
EOF
wait
