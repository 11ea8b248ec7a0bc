//! The forecourt through the API, with simulated DART pumps on a real pseudo-terminal: authorize
//! from the POS, live volume and amount, a finished fueling with the pump's own figures settled
//! as a sale, and price changes that reach idle pumps only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};
use station_core::Station;
use support::{Api, Pumps, code, pump};

fn wait_for_pump(api: &Api, token: &str, address: &str, done: impl Fn(&Value) -> bool) -> Value {
    let pumps = api.wait_for("/api/pumps", token, |pumps| done(pump(pumps, address)));
    pump(&pumps, address).clone()
}

#[test]
fn an_authorized_fueling_becomes_a_sale_at_the_pumps_own_figures() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "idle");

    // The push channel carries the grid: read it while the fueling runs.
    let events = api
        .client
        .get(format!("{}/api/events?token={cashier}", api.base))
        .timeout(Duration::from_secs(30))
        .send()
        .unwrap();
    assert_eq!(events.status().as_u16(), 200);
    let mut events = BufReader::new(events);

    let authorized = api.post(
        "/api/pumps/50/authorize",
        &cashier,
        json!({"preset": {"amount_won": 3_000}}),
    );
    assert_eq!(authorized.0, 200, "{}", authorized.1);
    assert_eq!(
        authorized.1["state"], "authorized",
        "the answer shows the pump took it"
    );
    assert_eq!(
        authorized.1["preset"],
        json!({"amount": {"amount_won": 3_000}})
    );
    let busy = api.post("/api/pumps/50/authorize", &cashier, json!({"preset": null}));
    assert_eq!((busy.0, code(&busy)), (409, "pump_busy"));
    pumps.control("lift 50 1");

    // Live: a `live` event shows pump 50 fueling with a running amount under the preset.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut line = String::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "no live event showed the fueling"
        );
        line.clear();
        events.read_line(&mut line).unwrap();
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let live: Value = serde_json::from_str(data).unwrap();
        let p = pump(&live["pumps"], "50");
        if p["state"] == "fueling" && p["volume_ml"].as_i64().unwrap() > 0 {
            assert!(p["amount_won"].as_i64().unwrap() <= 3_000);
            assert_eq!(p["product"], "CD1001");
            assert_eq!(
                p["unit_price_won"], 1650,
                "the station's price reached the pump"
            );
            break;
        }
    }

    // The pump stops itself at the preset; then the nozzle goes back.
    wait_for_pump(&api, &cashier, "50", |p| p["amount_won"] == 3_000);
    pumps.control("hang 50");
    let finished = wait_for_pump(&api, &cashier, "50", |p| p["state"] == "finished");
    let fueling_id = finished["unpaid"][0].as_str().unwrap().to_owned();
    let (_, unpaid) = api.get("/api/fuelings", &cashier);
    let fueling = &unpaid[0];
    assert_eq!(fueling["fueling"], fueling_id.as_str());
    assert_eq!(fueling["pump"], "50");
    assert_eq!(fueling["amount_won"], 3_000, "stopped at the preset");
    assert_eq!(fueling["unit_price_won"], 1650);
    let volume = fueling["volume_ml"].as_i64().unwrap();
    assert!(
        (1_810..=1_820).contains(&volume),
        "3,000 won at 1,650 won/L: {volume} ml"
    );

    // Settled by cash: the sale carries the pump's volume and amount.
    let short = api.post(
        &format!("/api/fuelings/{fueling_id}/settle"),
        &cashier,
        json!({"payment": {"method": "cash", "tendered_won": 2_000}}),
    );
    assert_eq!((short.0, code(&short)), (422, "insufficient_tender"));
    let sale = api.post(
        &format!("/api/fuelings/{fueling_id}/settle"),
        &cashier,
        json!({"payment": {"method": "cash", "tendered_won": 5_000}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    assert_eq!(sale.1["total_won"], 3_000);
    assert_eq!(sale.1["payment"]["change_won"], 2_000);
    assert_eq!(sale.1["lines"][0]["price_source"], "pump");
    assert_eq!(sale.1["lines"][0]["volume_ml"], volume);
    let again = api.post(
        &format!("/api/fuelings/{fueling_id}/settle"),
        &cashier,
        json!({"payment": {"method": "cash", "tendered_won": 5_000}}),
    );
    assert_eq!((again.0, code(&again)), (422, "fueling_already_paid"));
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "idle");
    let (_, sales) = api.get("/api/sales", &cashier);
    assert_eq!(sales.as_array().unwrap().len(), 1, "paid once");
    let (_, stock) = api.get("/api/stock", &cashier);
    assert_eq!(stock["tanks"][0]["book_stock_ml"], -volume);
}

#[test]
fn a_price_change_reaches_idle_pumps_and_waits_for_a_running_fueling() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    wait_for_pump(&api, &cashier, "51", |p| p["state"] == "idle");

    // Pump 50 fuels post-pay while HQ's new price comes into force.
    let authorized = api.post("/api/pumps/50/authorize", &cashier, json!({"preset": null}));
    assert_eq!(authorized.0, 200, "{}", authorized.1);
    pumps.control("lift 50 1");
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "fueling");
    let now = Timestamp::now();
    let mut station = Station::open(&api.db).unwrap();
    station
        .receive_price_version(support::price_version(2, now, 1700, 1800), now)
        .unwrap();
    drop(station);

    // The idle pump takes the new price: its nozzle shows it when lifted.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        pumps.control("lift 51 1");
        let lifted = wait_for_pump(&api, &cashier, "51", |p| p["state"] == "nozzle_up");
        pumps.control("hang 51");
        wait_for_pump(&api, &cashier, "51", |p| p["state"] == "idle");
        if lifted["unit_price_won"] == 1700 {
            break;
        }
        assert_eq!(lifted["unit_price_won"], 1650);
        assert!(
            Instant::now() < deadline,
            "pump 51 never took the new price"
        );
    }
    // The running fueling keeps its price to the end, and is recorded at it.
    let running = wait_for_pump(&api, &cashier, "50", |p| p["state"] == "fueling");
    assert_eq!(running["unit_price_won"], 1650);
    api.post("/api/pumps/50/stop", &cashier, Value::Null);
    pumps.control("hang 50");
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "finished");
    let (_, unpaid) = api.get("/api/fuelings", &cashier);
    assert_eq!(unpaid[0]["unit_price_won"], 1650);
    // Once idle, pump 50 takes the new price too.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        pumps.control("lift 50 1");
        let lifted = wait_for_pump(&api, &cashier, "50", |p| p["state"] == "nozzle_up");
        pumps.control("hang 50");
        wait_for_pump(&api, &cashier, "50", |p| p["state"] != "nozzle_up");
        if lifted["unit_price_won"] == 1700 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pump 50 never took the new price"
        );
    }
}

#[test]
fn pumps_without_a_line_or_unknown_pumps_are_refused_clearly() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    let refused = api.post("/api/pumps/50/authorize", &cashier, json!({"preset": null}));
    assert_eq!((refused.0, code(&refused)), (503, "pump_unavailable"));
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    // Field report: a pump could be authorized and run with no shift open, and its payment was
    // then refused while the customer waited. Now no pump starts for a cashier without a shift.
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "idle");
    let no_shift = api.post("/api/pumps/50/authorize", &cashier, json!({"preset": null}));
    assert_eq!((no_shift.0, code(&no_shift)), (422, "no_open_shift"));
    let (_, listed) = api.get("/api/pumps", &cashier);
    assert_eq!(pump(&listed, "50")["state"], "idle", "{listed}");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let unknown = api.post("/api/pumps/5F/authorize", &cashier, json!({"preset": null}));
    assert_eq!((unknown.0, code(&unknown)), (404, "unknown_pump"));
    let both = api.post(
        "/api/pumps/50/authorize",
        &cashier,
        json!({"preset": {"amount_won": 1000, "volume_ml": 1000}}),
    );
    assert_eq!((both.0, code(&both)), (400, "invalid_input"));
    let negative = api.post(
        "/api/pumps/50/authorize",
        &cashier,
        json!({"preset": {"amount_won": -5}}),
    );
    assert_eq!((negative.0, code(&negative)), (422, "not_positive"));
    let unknown_fueling = api.post(
        "/api/fuelings/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/settle",
        &cashier,
        json!({"payment": {"method": "cash", "tendered_won": 5_000}}),
    );
    assert_eq!(
        (unknown_fueling.0, code(&unknown_fueling)),
        (404, "unknown_fueling")
    );
}

#[test]
fn two_pumps_fuel_at_once_and_a_mute_pump_goes_offline_and_comes_back() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    for address in ["50", "51"] {
        wait_for_pump(&api, &cashier, address, |p| p["state"] == "idle");
    }
    let by_volume = api.post(
        "/api/pumps/50/authorize",
        &cashier,
        json!({"preset": {"volume_ml": 2_000}}),
    );
    assert_eq!(by_volume.0, 200, "{}", by_volume.1);
    let by_amount = api.post(
        "/api/pumps/51/authorize",
        &cashier,
        json!({"preset": {"amount_won": 5_000}}),
    );
    assert_eq!(by_amount.0, 200, "{}", by_amount.1);
    pumps.control("lift 50 1");
    pumps.control("lift 51 2");
    api.wait_for("/api/pumps", &cashier, |grid| {
        pump(grid, "50")["state"] == "fueling" && pump(grid, "51")["state"] == "fueling"
    });
    wait_for_pump(&api, &cashier, "50", |p| p["volume_ml"] == 2_000);
    wait_for_pump(&api, &cashier, "51", |p| p["amount_won"] == 5_000);
    pumps.control("hang 50");
    pumps.control("hang 51");
    let unpaid = api.wait_for("/api/fuelings", &cashier, |f| {
        f.as_array().is_some_and(|f| f.len() == 2)
    });
    let of = |address: &str| {
        unpaid
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["pump"] == address)
            .unwrap()
            .clone()
    };
    let (diesel, gasoline) = (of("50"), of("51"));
    assert_eq!(
        (
            &diesel["product"],
            &diesel["volume_ml"],
            &diesel["amount_won"]
        ),
        (&json!("CD1001"), &json!(2_000), &json!(3_300))
    );
    assert_eq!(
        (
            &gasoline["product"],
            &gasoline["amount_won"],
            &gasoline["tank"]
        ),
        (&json!("GS1001"), &json!(5_000), &json!(2))
    );
    for fueling in [&diesel, &gasoline] {
        let sale = api.post(
            &format!(
                "/api/fuelings/{}/settle",
                fueling["fueling"].as_str().unwrap()
            ),
            &cashier,
            json!({"payment": {"method": "card", "reference": "A-7"}}),
        );
        assert_eq!(sale.1["total_won"], fueling["amount_won"]);
    }
    let (_, summary) = api.get("/api/sales-summary", &cashier);
    let net: i64 = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["net_amount_won"].as_i64().unwrap())
        .sum();
    assert_eq!(net, 3_300 + 5_000);

    // A pump that stops answering shows offline and cannot be authorized; back, it is idle.
    pumps.control("mute 51");
    wait_for_pump(&api, &cashier, "51", |p| p["state"] == "offline");
    let refused = api.post("/api/pumps/51/authorize", &cashier, json!({"preset": null}));
    assert_eq!((refused.0, code(&refused)), (503, "pump_unavailable"));
    pumps.control("unmute 51");
    wait_for_pump(&api, &cashier, "51", |p| p["state"] == "idle");
    let (_, status) = api.get("/api/status", &cashier);
    assert_eq!(status["pump_line"]["state"], "ready");
}

#[test]
fn an_unplugged_pump_line_shows_offline_pumps_and_keeps_the_unpaid_fueling() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "idle");
    api.post(
        "/api/pumps/50/authorize",
        &cashier,
        json!({"preset": {"amount_won": 2_000}}),
    );
    pumps.control("lift 50 1");
    wait_for_pump(&api, &cashier, "50", |p| p["amount_won"] == 2_000);
    pumps.control("hang 50");
    let finished = wait_for_pump(&api, &cashier, "50", |p| p["state"] == "finished");

    pumps.unplug();
    api.wait_for("/api/pumps", &cashier, |grid| {
        pump(grid, "50")["state"] == "offline" && pump(grid, "51")["state"] == "offline"
    });
    let refused = api.post("/api/pumps/51/authorize", &cashier, json!({"preset": null}));
    assert_eq!((refused.0, code(&refused)), (503, "pump_unavailable"));
    // The fueling the pump reported is kept, and can be paid while the line is down.
    let sale = api.post(
        &format!(
            "/api/fuelings/{}/settle",
            finished["unpaid"][0].as_str().unwrap()
        ),
        &cashier,
        json!({"payment": {"method": "cash", "tendered_won": 2_000}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    assert_eq!(sale.1["total_won"], 2_000);
}

/// The pump's own figures for the filling it holds: volume (ml), amount (won), price (won/L).
fn held_filling(pumps: &Pumps, address: u8) -> (i64, i64, i64) {
    let held = pumps
        .simulator
        .lock()
        .unwrap()
        .held_filling(forecourt_protocols::dart::PumpAddress::new(address).unwrap())
        .expect("the pump holds a filling");
    (
        i64::try_from(held.volume).unwrap() * 10,
        i64::try_from(held.amount).unwrap(),
        i64::from(held.price),
    )
}

/// How often the runtime has read the pump back (at every (re)connection, after every filling).
fn read_backs(api: &Api, token: &str, address: &str) -> u64 {
    let (_, pumps) = api.get("/api/pumps", token);
    pump(&pumps, address)["read_backs"].as_u64().unwrap_or(0)
}

/// Authorizes pump 50 post-pay, lifts nozzle 1 and waits until fuel flows.
fn start_filling(api: &Api, pumps: &Pumps, token: &str) {
    wait_for_pump(api, token, "50", |p| p["state"] == "idle");
    let authorized = api.post("/api/pumps/50/authorize", token, json!({"preset": null}));
    assert_eq!(authorized.0, 200, "{}", authorized.1);
    pumps.control("lift 50 1");
    wait_for_pump(api, token, "50", |p| {
        p["state"] == "fueling" && p["volume_ml"].as_i64().unwrap() > 0
    });
}

fn unpaid(api: &Api, token: &str) -> Vec<Value> {
    api.get("/api/fuelings", token)
        .1
        .as_array()
        .unwrap()
        .clone()
}

/// Issue: a filling that ended while the pump line was down was never recorded.
#[test]
fn a_filling_that_ends_while_the_line_is_unplugged_is_recorded_once_when_it_is_back() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    start_filling(&api, &pumps, &cashier);

    pumps.unplug();
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "offline");
    pumps.control("hang 50");
    let (volume, amount, price) = held_filling(&pumps, 0x50);
    let seen = read_backs(&api, &cashier, "50");
    pumps.plug();

    let recorded = api.wait_for("/api/fuelings", &cashier, |f| {
        f.as_array().is_some_and(|f| !f.is_empty())
    });
    let fueling = &recorded[0];
    assert_eq!(
        (
            &fueling["pump"],
            &fueling["volume_ml"],
            &fueling["amount_won"],
            &fueling["unit_price_won"]
        ),
        (&json!("50"), &json!(volume), &json!(amount), &json!(price)),
        "the pump's own figures"
    );
    let finished = wait_for_pump(&api, &cashier, "50", |p| p["state"] == "finished");
    assert!(finished["read_backs"].as_u64().unwrap() > seen);

    // The line drops and comes back once more: the pump still holds that filling.
    let seen = read_backs(&api, &cashier, "50");
    pumps.unplug();
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "offline");
    pumps.plug();
    wait_for_pump(&api, &cashier, "50", |p| {
        p["read_backs"].as_u64().unwrap() > seen && p["state"] == "finished"
    });
    assert_eq!(unpaid(&api, &cashier).len(), 1, "recorded once");

    let id = fueling["fueling"].as_str().unwrap();
    let sale = api.post(
        &format!("/api/fuelings/{id}/settle"),
        &cashier,
        json!({"payment": {"method": "card", "reference": "A-9"}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    assert_eq!(sale.1["total_won"], amount);
    let (_, stock) = api.get("/api/stock", &cashier);
    assert_eq!(
        stock["tanks"][0]["book_stock_ml"], -volume,
        "book stock fell"
    );
    let (_, grid) = api.get("/api/pumps", &cashier);
    let totals = &pump(&grid, "50")["totals"];
    let nozzle_1 = totals
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["nozzle"] == 1)
        .unwrap();
    assert_eq!(nozzle_1["volume_total_ml"], volume);
    assert_eq!(nozzle_1["volume_variance_ml"], 0, "{totals}");
}

/// Issue: a filling that ended while the runtime was stopped was never recorded.
#[test]
fn a_filling_that_ends_while_the_runtime_is_stopped_is_recorded_once_when_it_starts_again() {
    let pumps = Pumps::start();
    let mut api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    start_filling(&api, &pumps, &cashier);

    api.stop();
    // The stopped runtime's line is cut too, so nothing of it can still hear the pump.
    pumps.unplug();
    pumps.control("hang 50");
    let (volume, amount, price) = held_filling(&pumps, 0x50);
    pumps.plug();
    api.start_again();

    let cashier = api.login("kim", "1234");
    let recorded = api.wait_for("/api/fuelings", &cashier, |f| {
        f.as_array().is_some_and(|f| !f.is_empty())
    });
    assert_eq!(
        (
            &recorded[0]["volume_ml"],
            &recorded[0]["amount_won"],
            &recorded[0]["unit_price_won"]
        ),
        (&json!(volume), &json!(amount), &json!(price))
    );

    // Started once more: read back again, recorded nothing new.
    api.start_again();
    let cashier = api.login("kim", "1234");
    wait_for_pump(&api, &cashier, "50", |p| {
        p["read_backs"].as_u64().unwrap() >= 1 && p["state"] == "finished"
    });
    assert_eq!(unpaid(&api, &cashier).len(), 1, "recorded once");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let sale = api.post(
        &format!(
            "/api/fuelings/{}/settle",
            recorded[0]["fueling"].as_str().unwrap()
        ),
        &cashier,
        json!({"payment": {"method": "cash", "tendered_won": amount}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
}

/// A totals counter ahead of the recorded fuelings shows as a variance, in the grid and in the
/// core's read function.
#[test]
fn a_totals_counter_ahead_of_the_recorded_fuelings_shows_a_variance() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    wait_for_pump(&api, &cashier, "51", |p| {
        p["state"] == "idle" && p["read_backs"].as_u64().unwrap() >= 1
    });

    // 5.00 L through nozzle 1 of pump 51 that no filling accounts for; the pump is read back.
    let money_total = || {
        let simulator = pumps.simulator.lock().unwrap();
        let address = forecourt_protocols::dart::PumpAddress::new(0x51).unwrap();
        i64::try_from(simulator.totals(address, 1).unwrap().1).unwrap()
    };
    let money_before = money_total();
    pumps.control("meter 51 1 500");
    let money_moved = money_total() - money_before;
    assert!(money_moved > 0);
    let seen = read_backs(&api, &cashier, "51");
    pumps.control("mute 51");
    wait_for_pump(&api, &cashier, "51", |p| p["state"] == "offline");
    pumps.control("unmute 51");
    let grid = wait_for_pump(&api, &cashier, "51", |p| {
        p["read_backs"].as_u64().unwrap() > seen && p["state"] == "idle"
    });
    let nozzle_1 = grid["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["nozzle"] == 1)
        .unwrap()
        .clone();
    assert_eq!(
        (
            &nozzle_1["counted_volume_ml"],
            &nozzle_1["recorded_volume_ml"],
            &nozzle_1["volume_variance_ml"],
            &nozzle_1["amount_variance_won"]
        ),
        (&json!(5_000), &json!(0), &json!(5_000), &json!(money_moved)),
        "{grid}"
    );
    assert_eq!(unpaid(&api, &cashier).len(), 0);

    let station = Station::open(&api.db).unwrap();
    let totals = station.nozzle_totals().unwrap();
    let in_core = totals
        .iter()
        .find(|t| t.pump == 0x51 && t.nozzle == 1)
        .unwrap();
    assert_eq!(in_core.volume_variance.get(), 5_000);
    assert!(
        totals
            .iter()
            .filter(|t| (t.pump, t.nozzle) != (0x51, 1))
            .all(|t| t.volume_variance.get() == 0),
        "{totals:?}"
    );
}

/// Issue: replies the pump line cannot decode were dropped silently.
#[test]
fn line_noise_is_counted_and_the_line_keeps_working() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "idle");
    let counted = |status: &Value| status["pump_line_counts"]["undecodable"].as_u64();
    let (_, status) = api.get("/api/status", &cashier);
    let before = counted(&status).expect("the pump line counts what it cannot decode");

    pumps.control("noise 50");
    api.wait_for("/api/status", &cashier, |status| {
        counted(status).is_some_and(|now| now > before)
    });

    // The pump still answers: a filling is recorded as ever.
    let authorized = api.post(
        "/api/pumps/50/authorize",
        &cashier,
        json!({"preset": {"volume_ml": 1_000}}),
    );
    assert_eq!(authorized.0, 200, "{}", authorized.1);
    pumps.control("lift 50 2");
    wait_for_pump(&api, &cashier, "50", |p| p["volume_ml"] == 1_000);
    pumps.control("hang 50");
    let fuelings = api.wait_for("/api/fuelings", &cashier, |f| {
        f.as_array().is_some_and(|f| f.len() == 1)
    });
    assert_eq!(fuelings[0]["volume_ml"], 1_000);
    let (_, status) = api.get("/api/status", &cashier);
    assert_eq!(status["pump_line"]["state"], "ready");
}

/// Issue: a fueling the database refused was only logged. Here another program holds the
/// database's write lock when the filling ends.
#[test]
fn a_fueling_the_database_cannot_take_waits_and_is_recorded_once_it_can() {
    let pumps = Pumps::start();
    let api = Api::with_pumps(&pumps);
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    start_filling(&api, &pumps, &cashier);

    let other = rusqlite::Connection::open(&api.db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    pumps.control("hang 50");
    let (volume, amount, _) = held_filling(&pumps, 0x50);
    api.wait_for("/api/status", &cashier, |status| {
        status["pump_line_counts"]["fuelings_waiting"] == 1
    });
    // Its filling is not cleared by a new authorization before it is recorded.
    let refused = api.post("/api/pumps/50/authorize", &cashier, json!({"preset": null}));
    assert_eq!((refused.0, code(&refused)), (503, "pump_unavailable"));
    assert_eq!(unpaid(&api, &cashier).len(), 0);

    other.execute_batch("COMMIT").unwrap();
    let recorded = api.wait_for("/api/fuelings", &cashier, |f| {
        f.as_array().is_some_and(|f| !f.is_empty())
    });
    assert_eq!(
        (&recorded[0]["volume_ml"], &recorded[0]["amount_won"]),
        (&json!(volume), &json!(amount))
    );
    api.wait_for("/api/status", &cashier, |status| {
        status["pump_line_counts"]["fuelings_waiting"] == 0
    });
    wait_for_pump(&api, &cashier, "50", |p| p["state"] == "finished");
    assert_eq!(unpaid(&api, &cashier).len(), 1, "recorded once");
}
