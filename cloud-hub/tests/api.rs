//! The HTTP API as a client sees it, through the harness in `support`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calendar;
mod support;

use std::collections::BTreeSet;

use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};
use sync_protocol::transport::Verdict;
use sync_protocol::{Event, SaleCanceled};
use uuid::Uuid;

use calendar::{day, day_text, stamp, time};
use support::*;

/// Every route under `/api` the router serves, as (method, path template).
const API_ROUTES: [(&str, &str); 44] = [
    ("post", "/api/login"),
    ("post", "/api/logout"),
    ("get", "/api/me"),
    ("get", "/api/events"),
    ("get", "/api/hq-users"),
    ("post", "/api/hq-users"),
    ("put", "/api/hq-users/{username}/role"),
    ("post", "/api/hq-users/{username}/lockout/lift"),
    ("get", "/api/audit"),
    ("get", "/api/station-audit"),
    ("get", "/api/network"),
    ("get", "/api/stations"),
    ("post", "/api/stations"),
    ("get", "/api/stations/status"),
    ("get", "/api/stations/{station}"),
    ("get", "/api/products"),
    ("put", "/api/products/{product}"),
    ("get", "/api/prices"),
    ("post", "/api/prices"),
    ("post", "/api/prices/csv"),
    ("get", "/api/prices/{version}/rollout"),
    ("get", "/api/reports/sales"),
    ("get", "/api/reports/stock"),
    ("get", "/api/alerts"),
    ("get", "/api/alert-settings"),
    ("put", "/api/alert-settings"),
    ("get", "/api/orders"),
    ("get", "/api/orders/{order}"),
    ("post", "/api/orders/{order}/shipments"),
    ("post", "/api/orders/{order}/reject"),
    ("get", "/api/dispatch-policy"),
    ("put", "/api/dispatch-policy"),
    ("get", "/api/sales"),
    ("get", "/api/stock"),
    ("get", "/api/wet-stock"),
    ("get", "/api/dead-letters"),
    ("get", "/api/sync/divergences"),
    ("get", "/api/sync/held"),
    ("get", "/api/feed"),
    ("get", "/api/feed/stream"),
    ("get", "/api/feed/stations"),
    ("get", "/api/feed/consumers"),
    ("post", "/api/feed/consumers"),
    ("delete", "/api/feed/consumers/{name}"),
];

/// A well-formed request to every `/api` route but login, so only the session decides.
fn requests_needing_a_session() -> Vec<(Method, String, Option<Value>)> {
    let order = Uuid::from_u128(1);
    vec![
        (Method::POST, "/api/logout".into(), None),
        (Method::GET, "/api/me".into(), None),
        (Method::GET, "/api/events".into(), None),
        (Method::GET, "/api/hq-users".into(), None),
        (
            Method::POST,
            "/api/hq-users".into(),
            Some(json!({"username": "lee", "password": "long enough", "role": "analyst"})),
        ),
        (
            Method::PUT,
            "/api/hq-users/admin/role".into(),
            Some(json!({"role": "analyst"})),
        ),
        (
            Method::POST,
            "/api/hq-users/someone/lockout/lift".into(),
            None,
        ),
        (Method::GET, "/api/network".into(), None),
        (Method::GET, "/api/stations/ST0001".into(), None),
        (Method::POST, "/api/prices/csv".into(), None),
        (Method::GET, "/api/prices/1/rollout".into(), None),
        (
            Method::GET,
            "/api/reports/sales?from=2026-01-01&to=2026-01-31".into(),
            None,
        ),
        (Method::GET, "/api/reports/stock".into(), None),
        (Method::GET, "/api/alerts".into(), None),
        (Method::GET, "/api/alert-settings".into(), None),
        (
            Method::PUT,
            "/api/alert-settings".into(),
            Some(json!({"offline_after_minutes": 5, "backlog_limit": 10,
                        "price_not_applied_after_minutes": 5, "low_stock_days": 1})),
        ),
        (Method::GET, "/api/audit".into(), None),
        (Method::GET, "/api/station-audit".into(), None),
        (Method::GET, "/api/stations".into(), None),
        (
            Method::POST,
            "/api/stations".into(),
            Some(json!({"station": "ST0009", "name": "X", "operating_type": "franchise"})),
        ),
        (Method::GET, "/api/stations/status".into(), None),
        (Method::GET, "/api/products".into(), None),
        (
            Method::PUT,
            "/api/products/GAS95".into(),
            Some(json!({"name": "Gasoline", "unit": "litre"})),
        ),
        (Method::GET, "/api/prices".into(), None),
        (
            Method::POST,
            "/api/prices".into(),
            Some(json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}]})),
        ),
        (Method::GET, "/api/orders".into(), None),
        (Method::GET, format!("/api/orders/{order}"), None),
        (
            Method::POST,
            format!("/api/orders/{order}/shipments"),
            Some(json!({"truck": "T-1", "volume_ml": 1000})),
        ),
        (
            Method::POST,
            format!("/api/orders/{order}/reject"),
            Some(json!({"reason": "no"})),
        ),
        (Method::GET, "/api/dispatch-policy".into(), None),
        (
            Method::PUT,
            "/api/dispatch-policy".into(),
            Some(json!({"auto_dispatch": true})),
        ),
        (Method::GET, "/api/sales".into(), None),
        (Method::GET, "/api/stock".into(), None),
        (Method::GET, "/api/wet-stock".into(), None),
        (Method::GET, "/api/dead-letters".into(), None),
        (Method::GET, "/api/sync/divergences".into(), None),
        (Method::GET, "/api/sync/held".into(), None),
    ]
}

// ---- the platform's endpoints

#[test]
fn health_and_readiness_are_open_and_metrics_take_a_session_or_the_scrape_token() {
    let api = Api::start();
    let health = api.request(Method::GET, "/healthz", None, None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let ready = api.request(Method::GET, "/readyz", None, None);
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready"));
    for token in [None, Some("scrape-token-x"), Some("not-a-token")] {
        let refused = api.request(Method::GET, "/metrics", token, None);
        assert_error(&refused, 401, "unauthenticated");
    }
    let session = api.login();
    assert_eq!(
        api.request(Method::GET, "/metrics", Some(&session), None)
            .status,
        200
    );
    let metrics = api.request(Method::GET, "/metrics", Some(SCRAPE_TOKEN), None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.content_type.starts_with("text/plain"),
        "{metrics:?}"
    );
    for (name, kind) in [
        ("hub_events_received_total", "counter"),
        ("hub_events_applied_total", "counter"),
        ("hub_events_duplicate_total", "counter"),
        ("hub_dead_letters_total", "counter"),
        ("hub_stations_online", "gauge"),
    ] {
        let lines: Vec<&str> = metrics.body.lines().collect();
        assert!(
            lines.contains(&format!("# TYPE {name} {kind}").as_str()),
            "{name}: {}",
            metrics.body
        );
        assert!(
            lines.contains(&format!("{name} 0").as_str()),
            "{name}: {}",
            metrics.body
        );
    }
}

#[test]
fn the_metrics_count_what_the_stations_sent_and_who_is_online() {
    let api = Api::start();
    api.register_station("ST0001");
    api.register_station("ST0002");
    let first = envelope("ST0001", 1, tank_registered(1, "GAS95", 20_000_000));
    let now = Timestamp::now();
    api.hub()
        .receive_station_message("ST0001", &first, now)
        .unwrap();
    api.station_sends("ST0001", 2, tank_registered(2, "DSL", 20_000_000));
    {
        let mut hub = api.hub();
        hub.receive_station_message("ST0001", &first, now).unwrap();
        hub.receive_station_message("ST0001", b"garbage", now)
            .unwrap();
        hub.station_status_changed("ST0001", true, now).unwrap();
        hub.station_status_changed("ST0002", true, now).unwrap();
        hub.station_status_changed("ST0002", false, now).unwrap();
    }
    let metrics = api.request(Method::GET, "/metrics", Some(SCRAPE_TOKEN), None);
    let lines: Vec<&str> = metrics.body.lines().collect();
    for expected in [
        "hub_events_received_total 4",
        "hub_events_applied_total 2",
        "hub_events_duplicate_total 1",
        "hub_dead_letters_total 1",
        "hub_stations_online 1",
    ] {
        assert!(lines.contains(&expected), "{expected}: {}", metrics.body);
    }
}

// ---- sessions

#[test]
fn every_api_route_but_login_needs_a_valid_session() {
    let api = Api::start();
    let token = api.login();
    assert_eq!(api.get("/api/stations", &token).status, 200);
    let logged_out = api.login();
    let logout = api.request(Method::POST, "/api/logout", Some(&logged_out), None);
    assert_eq!(logout.status, 204, "{}", logout.body);

    let garbage = "0".repeat(64);
    for (method, path, body) in requests_needing_a_session() {
        for token in [
            None,
            Some(garbage.as_str()),
            Some(logged_out.as_str()),
            Some(""),
        ] {
            let reply = api.request(method.clone(), &path, token, body.as_ref());
            assert_error(&reply, 401, "unauthenticated");
        }
        // Not a bearer token at all.
        let basic = api
            .client
            .request(method.clone(), format!("{}{path}", api.base))
            .header(reqwest::header::AUTHORIZATION, format!("Basic {token}"))
            .send()
            .unwrap();
        assert_eq!(basic.status().as_u16(), 401, "{method} {path}");
    }
    // Nothing was done on the way.
    let hub = api.hub();
    assert!(hub.stations().unwrap().is_empty());
    assert!(hub.products().unwrap().is_empty());
    assert!(!hub.auto_dispatch().unwrap());
    drop(hub);
    // The session that was not ended still works.
    assert_eq!(api.get("/api/stations", &token).status, 200);
}

#[test]
fn login_gives_a_bearer_token_and_refuses_wrong_credentials() {
    let api = Api::start();
    let before = Timestamp::now();
    let reply = api.request(
        Method::POST,
        "/api/login",
        None,
        Some(&json!({"username": USER, "password": PASSWORD})),
    );
    let body = reply.ok();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let expires: Timestamp = body["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = expires.duration_since(before).as_secs() / 3600;
    assert!((11..=12).contains(&hours), "{body}");
    assert_ne!(api.login(), token, "each login is its own session");

    for (username, password) in [(USER, "wrong password"), ("nobody", PASSWORD), (USER, "")] {
        let reply = api.request(
            Method::POST,
            "/api/login",
            None,
            Some(&json!({"username": username, "password": password})),
        );
        assert_error(&reply, 401, "bad_credentials");
    }
}

/// Three wrong passwords cost nothing but the check; the next one comes too soon and is
/// refused unchecked, for a real user and an unknown one alike. Ten in a row lock the username
/// until another HQ user lifts it; the access log shows each step.
#[test]
fn password_guessing_is_slowed_then_locked_out_and_another_hq_user_lifts_it() {
    let api = Api::start();
    let attempt = |username: &str, password: &str| {
        api.request(
            Method::POST,
            "/api/login",
            None,
            Some(&json!({"username": username, "password": password})),
        )
    };
    for username in [USER, "nobody"] {
        for _ in 0..3 {
            assert_error(&attempt(username, "wrong password"), 401, "bad_credentials");
        }
        let early = attempt(username, PASSWORD);
        assert_error(&early, 429, "login_too_soon");
        assert!(early.body.contains("try again in 1 s"), "{}", early.body);
    }

    // Ten failures in a row, each after its wait (given to the hub as `now`), lock the name.
    let mut hub = api.hub.lock().unwrap();
    hub.add_hq_user("lee", "another password", Timestamp::now())
        .unwrap();
    let mut now = Timestamp::now();
    for failures in 3..cloud_hub::auth::LOCKOUT_AFTER_LOGIN_FAILURES {
        now = now
            .checked_add(cloud_hub::auth::login_retry_delay(failures))
            .unwrap();
        let err = hub.login(USER, "wrong password", now).unwrap_err();
        assert_eq!(err.code(), "bad_credentials", "{failures}");
    }
    drop(hub);
    assert_error(&attempt(USER, PASSWORD), 423, "locked_out");

    let lee = attempt("lee", "another password").json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let lifted = api.request(
        Method::POST,
        &format!("/api/hq-users/{USER}/lockout/lift"),
        Some(&lee),
        None,
    );
    assert_eq!(lifted.status, 204, "{}", lifted.body);
    api.login();

    let log = api.get("/api/audit?limit=100", &lee).ok();
    let actions: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let count = |action: &str, actor: &str| {
        actions
            .iter()
            .filter(|(a, who)| a == action && who == actor)
            .count()
    };
    assert_eq!(count("login_failed", USER), 10);
    assert_eq!(count("login_failed", "nobody"), 3);
    assert_eq!(count("locked_out", USER), 1);
    assert_eq!(count("lockout_lifted", "lee"), 1);
    assert_eq!(actions[0], ("login".to_owned(), USER.to_owned()));
}

/// Log-ins hash outside the hub's lock: while one is being checked, the hub answers others.
#[test]
fn a_log_in_being_checked_does_not_hold_the_hub() {
    let api = Api::start();
    let token = api.login();
    let check = api
        .hub
        .lock()
        .unwrap()
        .begin_login(USER, Timestamp::now())
        .unwrap();
    // The slow step runs with nothing locked: the hub serves a request meanwhile.
    let served = std::thread::scope(|scope| {
        let verifying = scope.spawn(|| check.verify(PASSWORD));
        let served = api.get("/api/stations", &token).status;
        let verdict = verifying.join().unwrap();
        api.hub
            .lock()
            .unwrap()
            .finish_login(verdict, Timestamp::now())
            .unwrap();
        served
    });
    assert_eq!(served, 200);
}

// ---- stations

#[test]
fn stations_are_registered_listed_and_watched() {
    let api = Api::start();
    let token = api.login();
    let registered = api
        .post(
            "/api/stations",
            &token,
            &json!({"station": "ST0001", "name": "Gangnam", "operating_type": "directly_managed"}),
        )
        .ok();
    let registered_at = registered["registered_at"].as_str().unwrap().to_owned();
    registered_at.parse::<Timestamp>().unwrap();
    assert_eq!(
        registered,
        json!({"station": "ST0001", "name": "Gangnam", "operating_type": "directly_managed",
               "registered_at": registered_at, "region": ""})
    );

    let again = api.post(
        "/api/stations",
        &token,
        &json!({"station": "ST0001", "name": "Other", "operating_type": "franchise"}),
    );
    assert_error(&again, 409, "station_exists");
    for bad in [
        json!({"station": "st-1", "name": "Gangnam", "operating_type": "franchise"}),
        json!({"station": "ST0002", "name": " ", "operating_type": "franchise"}),
        json!({"station": "ST0002", "name": "Gangnam", "operating_type": "partner"}),
    ] {
        assert_error(
            &api.post("/api/stations", &token, &bad),
            400,
            "invalid_input",
        );
    }

    assert_eq!(api.get("/api/stations", &token).ok(), json!([registered]));
    let status = json!({"station": "ST0001", "name": "Gangnam", "online": false,
        "last_seen": null, "events_applied_through": 0, "events_waiting_to_station": 0,
        "price_version_applied": null, "price_applied_at": null});
    assert_eq!(
        api.get("/api/stations/status", &token).ok(),
        json!([status])
    );

    api.hub()
        .station_status_changed("ST0001", true, time(-1, "08:00:00"))
        .unwrap();
    api.station_sends("ST0001", 1, tank_registered(1, "GAS95", 1_000));
    let statuses = api.get("/api/stations/status", &token).ok();
    assert_eq!(statuses[0]["online"], true);
    assert_eq!(statuses[0]["events_applied_through"], 1);
    assert!(statuses[0]["last_seen"].is_string());
}

// ---- products and prices

#[test]
fn products_and_price_versions_are_kept_and_published() {
    let api = Api::start();
    let token = api.login();
    api.register_station("ST0001");
    let gasoline = api
        .put(
            "/api/products/GAS95",
            &token,
            &json!({"name": "Gasoline", "unit": "litre"}),
        )
        .ok();
    assert_eq!(
        gasoline,
        json!({"product": "GAS95", "name": "Gasoline", "unit": "litre"})
    );
    // Renaming is the same call.
    api.put(
        "/api/products/GAS95",
        &token,
        &json!({"name": "Gasoline 95", "unit": "litre"}),
    )
    .ok();
    api.put(
        "/api/products/WATER",
        &token,
        &json!({"name": "Water", "unit": "piece"}),
    )
    .ok();
    assert_error(
        &api.put(
            "/api/products/DSL",
            &token,
            &json!({"name": "Diesel", "unit": "gallon"}),
        ),
        400,
        "invalid_input",
    );
    assert_error(
        &api.put(
            "/api/products/dsl",
            &token,
            &json!({"name": "Diesel", "unit": "litre"}),
        ),
        400,
        "invalid_input",
    );
    assert_eq!(
        api.get("/api/products", &token).ok(),
        json!([
            {"product": "GAS95", "name": "Gasoline 95", "unit": "litre"},
            {"product": "WATER", "name": "Water", "unit": "piece"},
        ])
    );

    // In force since yesterday.
    let effective_at = stamp(-1, "00:00:00");
    let first = api
        .post(
            "/api/prices",
            &token,
            &json!({"prices": [{"product": "GAS95", "unit_price_won": 1700},
                               {"product": "WATER", "unit_price_won": 1000}],
                    "effective_at": effective_at}),
        )
        .ok();
    let created_at = first["created_at"].clone();
    assert_eq!(
        first,
        json!({"version": 1, "effective_at": effective_at, "created_by": USER,
        "created_at": created_at, "stations_applied": 0,
        "items": [
            {"product": "GAS95", "name": "Gasoline 95", "unit": "litre", "unit_price_won": 1700},
            {"product": "WATER", "name": "Water", "unit": "piece", "unit_price_won": 1000},
        ]})
    );
    let second = api
        .post(
            "/api/prices",
            &token,
            &json!({"prices": [{"product": "GAS95", "unit_price_won": 1750}]}),
        )
        .ok();
    assert_eq!(second["version"], 2);
    assert_eq!(second["items"][0]["unit_price_won"], 1750);
    assert_eq!(second["items"][1]["unit_price_won"], 1000, "carried over");

    for (body, status, code) in [
        (json!({"prices": []}), 400, "empty_price_version"),
        (
            json!({"prices": [{"product": "KEROSENE", "unit_price_won": 1300}]}),
            404,
            "unknown_product",
        ),
        (
            json!({"prices": [{"product": "GAS95", "unit_price_won": 0}]}),
            400,
            "invalid_input",
        ),
        (
            json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}], "effective_at": "tomorrow"}),
            400,
            "invalid_input",
        ),
    ] {
        assert_error(&api.post("/api/prices", &token, &body), status, code);
    }
    assert_eq!(api.get("/api/prices", &token).ok(), json!([second, first]));
    // Each version went to the station's outbox.
    assert_eq!(api.hub().outbox_position("ST0001").unwrap(), (2, 0));
}

// ---- orders and shipments

#[test]
fn orders_are_listed_shipped_and_rejected() {
    let api = Api::start();
    let token = api.login();
    api.register_station("ST0001");
    api.register_station("ST0002");
    let (shipped, rejected) = (Uuid::from_u128(1), Uuid::from_u128(2));
    api.station_sends("ST0001", 1, order_placed(shipped, "GAS95", 10_000_000));
    api.station_sends("ST0001", 2, order_placed(rejected, "DSL", 4_000_000));

    let listed = api.get("/api/orders", &token).ok();
    let mut ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![shipped.to_string(), rejected.to_string()]);
    assert_eq!(
        api.get("/api/orders?station=ST0002", &token).ok(),
        json!([])
    );
    assert_eq!(
        api.get("/api/orders?station=ST0001", &token)
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let order = api.get(&format!("/api/orders/{shipped}"), &token).ok();
    assert_eq!(
        (
            &order["status"],
            &order["ordered_volume_ml"],
            &order["station"],
            &order["wanted_date"],
            &order["shipments"]
        ),
        (
            &json!("ordered"),
            &json!(10_000_000),
            &json!("ST0001"),
            &json!(day_text(2)),
            &json!([])
        )
    );
    let unknown = Uuid::from_u128(99);
    assert_error(
        &api.get(&format!("/api/orders/{unknown}"), &token),
        404,
        "unknown_order",
    );

    let ship = |order: Uuid, body: Value| {
        api.post(&format!("/api/orders/{order}/shipments"), &token, &body)
    };
    // Dispatched now, expected tomorrow morning.
    let expected_at = stamp(1, "06:00:00");
    let view = ship(
        shipped,
        json!({"truck": "T-12", "volume_ml": 9_800_000, "expected_at": expected_at}),
    )
    .ok();
    assert_eq!(view["status"], "shipped");
    assert_eq!(view["shipped_volume_ml"], 9_800_000);
    let shipment = &view["shipments"][0];
    assert_eq!(
        (
            &shipment["truck"],
            &shipment["volume_ml"],
            &shipment["expected_at"],
            &shipment["tank"]
        ),
        (
            &json!("T-12"),
            &json!(9_800_000),
            &json!(expected_at),
            &Value::Null
        )
    );
    assert_error(
        &ship(shipped, json!({"truck": "T-12", "volume_ml": 0})),
        400,
        "invalid_input",
    );
    assert_error(
        &ship(
            shipped,
            json!({"truck": "T-12", "volume_ml": 1000, "expected_at": "soon"}),
        ),
        400,
        "invalid_input",
    );
    assert_error(
        &ship(unknown, json!({"truck": "T-12", "volume_ml": 1000})),
        404,
        "unknown_order",
    );

    let reject = |order: Uuid, reason: &str| {
        api.post(
            &format!("/api/orders/{order}/reject"),
            &token,
            &json!({"reason": reason}),
        )
    };
    assert_error(&reject(shipped, "too late"), 409, "order_not_open");
    assert_error(&reject(unknown, "no such order"), 404, "unknown_order");
    assert_error(&reject(rejected, ""), 400, "invalid_input");
    let view = reject(rejected, "no diesel this week").ok();
    assert_eq!(
        (&view["status"], &view["status_reason"]),
        (&json!("rejected"), &json!("no diesel this week"))
    );
    assert_error(
        &ship(rejected, json!({"truck": "T-12", "volume_ml": 1000})),
        409,
        "order_not_open",
    );
    // The station hears of the shipment and the rejection.
    assert_eq!(api.hub().outbox_position("ST0001").unwrap(), (2, 0));
}

#[test]
fn the_dispatch_policy_can_be_switched_and_ships_new_orders() {
    let api = Api::start();
    let token = api.login();
    api.register_station("ST0001");
    assert_eq!(
        api.get("/api/dispatch-policy", &token).ok(),
        json!({"auto_dispatch": false})
    );
    assert_eq!(
        api.put(
            "/api/dispatch-policy",
            &token,
            &json!({"auto_dispatch": true})
        )
        .ok(),
        json!({"auto_dispatch": true})
    );
    assert_eq!(
        api.get("/api/dispatch-policy", &token).ok(),
        json!({"auto_dispatch": true})
    );
    let order = Uuid::from_u128(1);
    api.station_sends("ST0001", 1, order_placed(order, "GAS95", 6_000_000));
    let view = api.get(&format!("/api/orders/{order}"), &token).ok();
    assert_eq!(view["status"], "shipped");
    assert_eq!(view["shipments"][0]["truck"], "AUTO");
    assert_eq!(view["shipments"][0]["volume_ml"], 6_000_000);

    api.put(
        "/api/dispatch-policy",
        &token,
        &json!({"auto_dispatch": false}),
    )
    .ok();
    assert_eq!(
        api.get("/api/dispatch-policy", &token).ok(),
        json!({"auto_dispatch": false})
    );
}

// ---- read models

#[test]
fn sales_stock_and_dead_letters_are_shown() {
    let api = Api::start();
    let token = api.login();
    api.register_station("ST0001");
    api.register_station("ST0002");
    let sale = fuel_sale(10, 40_000, 68_000);
    api.station_sends("ST0001", 1, tank_registered(1, "GAS95", 20_000_000));
    api.station_sends("ST0001", 2, Event::SaleSettled(sale.clone()));
    api.station_sends(
        "ST0001",
        3,
        Event::SaleSettled(fuel_sale(11, 10_000, 17_000)),
    );
    api.station_sends(
        "ST0001",
        4,
        Event::SaleCanceled(SaleCanceled {
            cancellation_id: Uuid::from_u128(20),
            sale_id: sale.sale_id,
            business_day: day(0),
            sale_business_day: sale.business_day,
            reason: "wrong pump".to_owned(),
            canceled_by: "lee".to_owned(),
            approved_by: "park".to_owned(),
            lines: sale.lines.clone(),
            total_won: sale.total_won,
        }),
    );
    {
        let now = Timestamp::now();
        let mut hub = api.hub();
        hub.receive_station_message("ST0001", b"not json", now)
            .unwrap();
        hub.receive_station_message("ST0009", b"{}", now).unwrap();
    }

    let sale_day = json!({"station": "ST0001", "business_day": day_text(-1), "product": "GAS95",
        "sales_count": 2, "sales_volume_ml": 50_000, "sales_quantity": 0, "sales_amount_won": 85_000,
        "canceled_count": 0, "canceled_volume_ml": 0, "canceled_quantity": 0, "canceled_amount_won": 0,
        "net_amount_won": 85_000});
    let cancellation_day = json!({"station": "ST0001", "business_day": day_text(0), "product": "GAS95",
        "sales_count": 0, "sales_volume_ml": 0, "sales_quantity": 0, "sales_amount_won": 0,
        "canceled_count": 1, "canceled_volume_ml": 40_000, "canceled_quantity": 0, "canceled_amount_won": 68_000,
        "net_amount_won": -68_000});
    assert_eq!(
        api.get("/api/sales", &token).ok(),
        json!([sale_day.clone(), cancellation_day.clone()])
    );
    assert_eq!(
        api.get(
            &format!("/api/sales?station=ST0001&day={}", day_text(0)),
            &token
        )
        .ok(),
        json!([cancellation_day])
    );
    assert_eq!(
        api.get(&format!("/api/sales?day={}", day_text(-1)), &token)
            .ok(),
        json!([sale_day])
    );
    assert_eq!(api.get("/api/sales?station=ST0002", &token).ok(), json!([]));

    let stock = json!({"station": "ST0001", "tank": 1, "product": "GAS95",
        "capacity_ml": 20_000_000, "book_stock_ml": -10_000});
    assert_eq!(api.get("/api/stock", &token).ok(), json!([stock.clone()]));
    assert_eq!(
        api.get("/api/stock?station=ST0001", &token).ok(),
        json!([stock])
    );
    assert_eq!(api.get("/api/stock?station=ST0002", &token).ok(), json!([]));

    let letters = api.get("/api/dead-letters", &token).ok();
    let letters = letters.as_array().unwrap();
    let summary: Vec<(&Value, &Value, &Value)> = letters
        .iter()
        .map(|l| (&l["station"], &l["seq"], &l["code"]))
        .collect();
    assert_eq!(
        summary,
        vec![(&json!("ST0001"), &Value::Null, &json!("not_json"))],
        "a message of an unregistered station is held for it, not dead-lettered"
    );
    assert_eq!(letters[0]["message"], "not json");
    let newest = api.get("/api/dead-letters?limit=1", &token).ok();
    assert_eq!(newest, json!([letters[0].clone()]));
}

#[test]
fn divergences_and_held_messages_are_listed_until_they_are_resolved() {
    let api = Api::start();
    let token = api.login();
    api.register_station("ST0001");
    api.register_station("ST0002");
    api.station_sends("ST0001", 1, tank_registered(1, "GAS95", 20_000_000));
    // The station's database was restored from a backup: another event under the same number.
    let restored = envelope("ST0001", 1, tank_registered(2, "GAS95", 10_000_000));
    let verdict = api
        .hub()
        .receive_station_message("ST0001", &restored, Timestamp::now())
        .unwrap();
    assert_eq!(verdict.verdict, Verdict::Diverged, "{verdict:?}");

    let divergences = api.get("/api/sync/divergences", &token).ok();
    let listed: Vec<(&Value, &Value, &Value)> = divergences
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (&d["station"], &d["direction"], &d["at_seq"]))
        .collect();
    assert_eq!(
        listed,
        vec![(&json!("ST0001"), &json!("up"), &json!(1))],
        "{divergences}"
    );
    assert!(
        divergences[0]["detail"]
            .as_str()
            .unwrap()
            .contains("restored from a backup"),
        "{divergences}"
    );
    assert_eq!(
        api.get("/api/sync/divergences?station=ST0002", &token).ok(),
        json!([])
    );
    assert_eq!(
        api.get("/api/sync/divergences?station=ST0001&limit=1", &token)
            .ok(),
        divergences
    );

    // A station provisioned on the broker but not registered yet: its copies count on one row.
    for _ in 0..3 {
        let message = envelope("ST0009", 1, tank_registered(1, "GAS95", 20_000_000));
        api.hub()
            .receive_station_message("ST0009", &message, Timestamp::now())
            .unwrap();
    }
    let held = api.get("/api/sync/held", &token).ok();
    assert_eq!(held.as_array().map(Vec::len), Some(1), "{held}");
    assert_eq!(
        (
            &held[0]["station"],
            &held[0]["code"],
            &held[0]["seq"],
            &held[0]["repeats"]
        ),
        (
            &json!("ST0009"),
            &json!("unknown_station"),
            &json!(1),
            &json!(3)
        ),
        "{held}"
    );
    // Registered, its message applies and nothing is held any more.
    api.register_station("ST0009");
    api.station_sends("ST0009", 1, tank_registered(1, "GAS95", 20_000_000));
    assert_eq!(api.get("/api/sync/held", &token).ok(), json!([]));
    assert_error(
        &api.get("/api/sync/divergences?limit=all", &token),
        400,
        "invalid_input",
    );
}

// ---- the API's description

#[test]
fn the_openapi_document_lists_every_api_route_and_the_bearer_scheme() {
    let api = Api::start();
    assert_error(
        &api.request(Method::GET, "/openapi.json", None, None),
        401,
        "unauthenticated",
    );
    let token = api.login();
    let reply = api.request(Method::GET, "/openapi.json", Some(&token), None);
    let doc = reply.ok();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");

    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .filter(|(path, _)| path.starts_with("/api"))
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| ["get", "post", "put", "delete", "patch"].contains(&key.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(documented, served);
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(paths.contains_key(path), "{path}");
    }

    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer"})
    );
    // Every operation but login asks for the bearer token; the live updates take it as a
    // query parameter, since a browser's EventSource cannot send a header.
    for (method, path) in &served {
        let security = &paths[path.as_str()][method.as_str()]["security"];
        if path == "/api/events" {
            let params = &paths[path.as_str()][method.as_str()]["parameters"];
            assert_eq!(params[0]["name"], "token", "{params}");
        } else if path == "/api/login" {
            assert!(security.is_null(), "{method} {path}: {security}");
        } else {
            assert_eq!(security, &json!([{"bearer": []}]), "{method} {path}");
        }
    }
    // The error body is described.
    assert!(doc["components"]["schemas"]["ApiError"].is_object());
}

#[test]
fn a_request_the_api_cannot_read_gets_the_error_body() {
    let api = Api::start();
    let token = api.login();
    let replies = [
        api.post("/api/stations", &token, &json!({"station": "ST0001"})),
        api.put(
            "/api/dispatch-policy",
            &token,
            &json!({"auto_dispatch": "yes"}),
        ),
        api.get("/api/dead-letters?limit=many", &token),
    ];
    for reply in &replies {
        assert_error(reply, 400, "invalid_input");
    }
}
