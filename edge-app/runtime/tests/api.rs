//! The runtime's API for the POS, in-process on a real station file: PIN sessions, a shift,
//! sales, and the permission rules enforced by the API (not by hidden buttons).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use station_core::{
    Millilitres, NewUser, PriceItem, PriceVersion, Role, Station, StationSetup, TankNo, Unit,
    UnitPrice,
};
use station_runtime::api::{ApiState, router};

struct Api {
    base: String,
    client: Client,
    _dir: tempfile::TempDir,
}

impl Api {
    /// A station (manager park/9999, cashier kim/1234, diesel CD1001 at 1,650 won/L in tank 1)
    /// with its API on a free loopback port.
    fn start() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("station.db");
        let now = Timestamp::now();
        let mut station = Station::create(
            &db,
            StationSetup {
                station_id: "ST0001".parse().unwrap(),
                name: "Gangnam".into(),
                time_zone: "Asia/Seoul".into(),
                first_manager: NewUser {
                    user_id: "park".parse().unwrap(),
                    name: "Park".into(),
                    role: Role::Manager,
                    pin: "9999".parse().unwrap(),
                },
            },
            now,
        )
        .unwrap();
        let approval = station
            .approve_as_manager(
                &"park".parse().unwrap(),
                &"9999".parse().unwrap(),
                "setting up",
            )
            .unwrap();
        station
            .add_user(
                &approval,
                NewUser {
                    user_id: "kim".parse().unwrap(),
                    name: "Kim".into(),
                    role: Role::Cashier,
                    pin: "1234".parse().unwrap(),
                },
                now,
            )
            .unwrap();
        station
            .receive_price_version(
                PriceVersion {
                    version: 1,
                    effective_at: now,
                    items: vec![PriceItem {
                        product: "CD1001".parse().unwrap(),
                        name: "Diesel".into(),
                        unit: Unit::Litre,
                        unit_price: UnitPrice(1650),
                    }],
                },
                now,
            )
            .unwrap();
        station
            .register_tank(
                &approval,
                TankNo::new(1).unwrap(),
                &"CD1001".parse().unwrap(),
                Millilitres(30_000_000),
                now,
            )
            .unwrap();
        drop(station);
        let state = ApiState::open(&db).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, router(state)).await.unwrap();
                });
        });
        Api {
            base,
            client: Client::new(),
            _dir: dir,
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.json(&body).send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(token), body)
    }

    fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), Value::Null)
    }

    fn login(&self, user: &str, pin: &str) -> String {
        let (status, body) = self.call(
            reqwest::Method::POST,
            "/api/session",
            None,
            json!({"user": user, "pin": pin}),
        );
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

fn code(reply: &(u16, Value)) -> &str {
    reply.1["error"]["code"].as_str().unwrap_or("")
}

#[test]
fn a_cashier_sells_and_only_a_manager_approves_what_needs_one() {
    let api = Api::start();
    let (status, body) = api.call(
        reqwest::Method::POST,
        "/api/session",
        None,
        json!({"user": "kim", "pin": "0000"}),
    );
    assert_eq!(
        (status, code(&(status, body.clone()))),
        (401, "bad_credentials")
    );
    let (status, body) = api.call(reqwest::Method::GET, "/api/sales", None, Value::Null);
    assert_eq!((status, code(&(status, body))), (401, "unauthenticated"));

    let cashier = api.login("kim", "1234");
    let manager = api.login("park", "9999");
    let opened = api.post(
        "/api/shift/open",
        &cashier,
        json!({"opening_float_won": 50_000}),
    );
    assert_eq!(opened.0, 200, "{}", opened.1);

    let sale = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "CD1001", "volume_ml": 40_000}],
               "payment": {"method": "cash", "tendered_won": 70_000}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    assert_eq!(sale.1["total_won"], 66_000);
    assert_eq!(sale.1["payment"]["change_won"], 4_000);
    let pump = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "CD1001", "volume_ml": 30_303, "pump_unit_price_won": 1650, "pump_amount_won": 50_000}],
               "payment": {"method": "card", "reference": "A-1"}}),
    );
    assert_eq!(pump.1["total_won"], 50_000);
    let sale_id = sale.1["sale"].as_str().unwrap().to_owned();

    // The cashier's own token cannot cancel, adjust stock, or go past the core's rules.
    let refused = api.post(
        &format!("/api/sales/{sale_id}/cancel"),
        &cashier,
        json!({"reason": "mistake"}),
    );
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let refused = api.post(
        "/api/stock/adjust",
        &cashier,
        json!({"tank": 1, "delta_ml": -1000, "reason": "leak"}),
    );
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let wrong_pin = api.post(
        &format!("/api/sales/{sale_id}/cancel"),
        &cashier,
        json!({"reason": "mistake", "manager": "park", "manager_pin": "1111"}),
    );
    assert_eq!((wrong_pin.0, code(&wrong_pin)), (401, "bad_credentials"));
    let not_a_manager = api.post(
        &format!("/api/sales/{sale_id}/cancel"),
        &cashier,
        json!({"reason": "mistake", "manager": "kim", "manager_pin": "1234"}),
    );
    assert_eq!(
        (not_a_manager.0, code(&not_a_manager)),
        (403, "manager_required")
    );
    let (_, sales) = api.get("/api/sales", &cashier);
    assert!(
        sales
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["canceled"] == false)
    );

    // With the manager's PIN at the counter, the cancellation goes through, once.
    let canceled = api.post(
        &format!("/api/sales/{sale_id}/cancel"),
        &cashier,
        json!({"reason": "mistake", "manager": "park", "manager_pin": "9999"}),
    );
    assert_eq!(canceled.0, 200, "{}", canceled.1);
    assert_eq!(canceled.1["cancellation"]["approved_by"], "park");
    let again = api.post(
        &format!("/api/sales/{sale_id}/cancel"),
        &manager,
        json!({"reason": "again"}),
    );
    assert_eq!((again.0, code(&again)), (422, "sale_already_canceled"));

    let adjusted = api.post(
        "/api/stock/adjust",
        &manager,
        json!({"tank": 1, "delta_ml": 1_000_000, "reason": "dip check"}),
    );
    assert_eq!(adjusted.0, 200, "{}", adjusted.1);
    let (_, stock) = api.get("/api/stock", &cashier);
    assert_eq!(stock["tanks"][0]["book_stock_ml"], 1_000_000 - 30_303);

    let (_, summary) = api.get("/api/sales-summary", &cashier);
    assert_eq!(summary[0]["net_amount_won"], 50_000);
    let reprint = api.post(
        &format!("/api/sales/{sale_id}/reprint"),
        &cashier,
        Value::Null,
    );
    assert_eq!(reprint.0, 200, "{}", reprint.1);

    let closed = api.post(
        "/api/shift/close",
        &cashier,
        json!({"counted_cash_won": 50_000}),
    );
    assert_eq!(closed.1["over_short_won"], 0);
}

#[test]
fn bad_requests_name_the_problem() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let cases = [
        (
            json!({"lines": [{"product": "CD1001"}], "payment": {"method": "card", "reference": "X"}}),
            400,
            "invalid_input",
        ),
        (
            json!({"lines": [{"product": "CD1001", "volume_ml": 0}], "payment": {"method": "card", "reference": "X"}}),
            422,
            "not_positive",
        ),
        (
            json!({"lines": [{"product": "ZZ9999", "volume_ml": 1000}], "payment": {"method": "card", "reference": "X"}}),
            404,
            "unknown_product",
        ),
        (
            json!({"lines": [{"product": "CD1001", "volume_ml": 1000}], "payment": {"method": "cash", "tendered_won": 1}}),
            422,
            "insufficient_tender",
        ),
    ];
    for (body, status, expected) in cases {
        let reply = api.post("/api/sales", &cashier, body.clone());
        assert_eq!(
            (reply.0, code(&reply)),
            (status, expected),
            "{body}: {}",
            reply.1
        );
        assert!(reply.1["error"]["message"].as_str().unwrap().len() > 5);
    }
    let (_, sales) = api.get("/api/sales", &cashier);
    assert_eq!(sales, json!([]), "nothing was sold");
}
