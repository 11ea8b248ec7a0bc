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
