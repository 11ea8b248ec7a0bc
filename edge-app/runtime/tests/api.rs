//! The runtime's API for the POS, in-process on a real station file: PIN sessions, a shift,
//! sales, the back office, and the permission rules enforced by the API (not by hidden buttons).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{Api, code, seoul_date_in};

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
    let card = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "CD1001", "volume_ml": 30_303}],
               "payment": {"method": "card", "reference": "A-1"}}),
    );
    assert_eq!(card.1["total_won"], 50_000, "30.303 L at 1,650 won/L");
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

#[test]
fn every_documented_route_is_served_and_guarded() {
    let api = Api::start();
    let document = api.call(reqwest::Method::GET, "/api/openapi.json", None, Value::Null);
    assert_eq!(document.0, 200);
    let paths = document.1["paths"].as_object().unwrap();
    for route in station_runtime::api::ROUTES {
        assert!(
            paths
                .get(route.path)
                .and_then(|p| p.get(route.method))
                .is_some(),
            "{} {} is in the OpenAPI document",
            route.method,
            route.path
        );
        // Without a session: the route exists (never 404/405) and refuses unless it is public.
        let path = route
            .path
            .replace("{sale}", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
            .replace("{pump}", "50");
        let method = route.method.to_uppercase().parse().unwrap();
        let (status, body) = api.call(method, &path, None, Value::Null);
        assert!(
            status != 404 && status != 405,
            "{} {path} is served: {status} {body}",
            route.method
        );
        if route.access != station_runtime::api::Access::Public {
            assert_eq!(
                (status, code(&(status, body.clone()))),
                (401, "unauthenticated"),
                "{} {path}",
                route.method
            );
        }
    }
}

#[test]
fn bodies_and_queries_the_api_cannot_read_get_the_error_shape() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    let response = api
        .client
        .post(format!("{}/api/shift/open", api.base))
        .bearer_auth(&cashier)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("request body")
    );
    let wrong_type = api.post(
        "/api/shift/open",
        &cashier,
        json!({"opening_float_won": "lots"}),
    );
    assert_eq!((wrong_type.0, code(&wrong_type)), (400, "invalid_input"));
    assert!(
        wrong_type.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("opening_float_won")
    );
    let unknown = api.get("/api/no-such-thing", &cashier);
    assert_eq!((unknown.0, code(&unknown)), (404, "not_found"));
    let bad_day = api.get("/api/sales?day=yesterday", &cashier);
    assert_eq!((bad_day.0, code(&bad_day)), (400, "invalid_input"));
    let (_, shift) = api.get("/api/shift", &cashier);
    assert_eq!(
        shift,
        Value::Null,
        "no shift was opened by the bad requests"
    );
}

#[test]
fn the_back_office_runs_orders_accounts_users_and_the_day_with_a_managers_session() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    let manager = api.login("park", "9999");
    let (_, me) = api.get("/api/session", &cashier);
    assert_eq!(me, json!({"user": "kim", "name": "Kim", "role": "cashier"}));

    // Prices and products.
    let (_, products) = api.get("/api/products", &cashier);
    assert_eq!(products[0]["product"], "CD1001");
    assert_eq!(products[0]["unit_price_won"], 1650);
    let (_, prices) = api.get("/api/prices", &cashier);
    assert_eq!(prices[0]["status"], "in_force");

    // Orders: a manager's, not a cashier's.
    let order =
        json!({"product": "CD1001", "volume_ml": 8_000_000, "wanted_date": seoul_date_in(1)});
    let refused = api.post("/api/orders", &cashier, order.clone());
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let placed = api.post("/api/orders", &manager, order);
    assert_eq!(placed.0, 200, "{}", placed.1);
    assert_eq!(placed.1["status"], "ordered");
    let (_, orders) = api.get("/api/orders", &cashier);
    assert_eq!(orders.as_array().unwrap().len(), 1);
    let (_, deliveries) = api.get("/api/deliveries", &manager);
    assert_eq!(deliveries, json!([]), "nothing shipped yet");
    let unknown = api.post(
        "/api/deliveries/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/confirm",
        &manager,
        json!({"tank": 1, "received_volume_ml": 1000}),
    );
    assert_eq!((unknown.0, code(&unknown)), (404, "unknown_shipment"));

    // Credit accounts: a sale on account raises the balance; a payment lowers it.
    let refused = api.post(
        "/api/accounts",
        &cashier,
        json!({"name": "Hanil", "credit_limit_won": 100_000}),
    );
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let account = api.post(
        "/api/accounts",
        &manager,
        json!({"name": "Hanil", "credit_limit_won": 100_000}),
    );
    assert_eq!(account.0, 200, "{}", account.1);
    let account_id = account.1["account"].as_str().unwrap().to_owned();
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let on_account = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "CD1001", "volume_ml": 40_000}],
               "payment": {"method": "account", "account": account_id}}),
    );
    assert_eq!(on_account.0, 200, "{}", on_account.1);
    let over_limit = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "CD1001", "volume_ml": 40_000}],
               "payment": {"method": "account", "account": account_id}}),
    );
    assert_eq!(
        (over_limit.0, code(&over_limit)),
        (422, "credit_limit_exceeded")
    );
    let paid = api.post(
        &format!("/api/accounts/{account_id}/payments"),
        &cashier,
        json!({"amount_won": 16_000, "method": "cash"}),
    );
    assert_eq!(paid.0, 200, "{}", paid.1);
    assert_eq!(paid.1["balance_won"], 66_000 - 16_000);
    assert_eq!(paid.1["movements"].as_array().unwrap().len(), 2);

    // Users: managers only, reading too.
    let refused = api.get("/api/users", &cashier);
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let refused = api.post(
        "/api/users",
        &cashier,
        json!({"user": "lee", "name": "Lee", "role": "manager", "pin": "2468"}),
    );
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let added = api.post(
        "/api/users",
        &manager,
        json!({"user": "lee", "name": "Lee", "role": "cashier", "pin": "2468"}),
    );
    assert_eq!(added.0, 200, "{}", added.1);
    assert_eq!(added.1.as_array().unwrap().len(), 3);
    let set = api.post("/api/users/lee/pin", &manager, json!({"pin": "1357"}));
    assert_eq!(set.0, 200, "{}", set.1);
    api.login("lee", "1357");

    // The day: closing needs a manager and no open shift.
    let refused = api.post("/api/day/close", &cashier, Value::Null);
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let open_shift = api.post("/api/day/close", &manager, Value::Null);
    assert_eq!(
        (open_shift.0, code(&open_shift)),
        (422, "shifts_still_open")
    );
    api.post(
        "/api/shift/close",
        &cashier,
        json!({"counted_cash_won": 16_000}),
    );
    let closed = api.post("/api/day/close", &manager, Value::Null);
    assert_eq!(closed.0, 200, "{}", closed.1);
    assert_eq!(closed.1["closed"], true);
    assert_eq!(closed.1["net_amount_won"], 66_000);

    // Sync and devices: HQ unreachable, no devices set up; dead letters for managers.
    let (_, status) = api.get("/api/status", &cashier);
    assert_eq!(status["sync"]["connected"], false);
    assert!(status["sync"]["backlog"].as_u64().unwrap() > 0);
    assert_eq!(status["printer"]["state"], "not_configured");
    let refused = api.get("/api/dead-letters", &cashier);
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    assert_eq!(api.get("/api/dead-letters", &manager).1, json!([]));
    let refused = api.get("/api/sync/divergences", &cashier);
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    assert_eq!(api.get("/api/sync/divergences", &manager).1, json!([]));
    assert_eq!(status["sync"]["divergences"], 0);

    // Logging out ends the session.
    let out = api.call(
        reqwest::Method::DELETE,
        "/api/session",
        Some(&cashier),
        Value::Null,
    );
    assert_eq!(out.0, 200);
    let after = api.get("/api/session", &cashier);
    assert_eq!((after.0, code(&after)), (401, "unauthenticated"));
}

#[test]
fn the_remaining_reads_and_an_order_canceled_answer_as_documented() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    let manager = api.login("park", "9999");
    let (_, station) = api.get("/api/station", &cashier);
    assert_eq!(station["station"], "ST0001");
    assert_eq!(station["time_zone"], "Asia/Seoul");

    api.post(
        "/api/shift/open",
        &cashier,
        json!({"opening_float_won": 10_000}),
    );
    let (_, station) = api.get("/api/station", &cashier);
    let day = station["business_day"].as_str().unwrap().to_owned();
    let sale = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "SN2001", "quantity": 2}, {"product": "GS1001", "volume_ml": 10_000}],
               "payment": {"method": "cash", "tendered_won": 20_000}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    assert_eq!(sale.1["total_won"], 2_000 + 17_500);
    let id = sale.1["sale"].as_str().unwrap();
    let (status, one) = api.get(&format!("/api/sales/{id}"), &cashier);
    assert_eq!((status, &one), (200, &sale.1));

    let (_, report) = api.get(&format!("/api/day-report?day={day}"), &cashier);
    assert_eq!(report["business_day"], day.as_str());
    assert_eq!(report["closed"], false);
    assert_eq!(report["net_amount_won"], 19_500);
    let (status, wet) = api.get(&format!("/api/wet-stock?day={day}"), &cashier);
    assert_eq!(status, 200, "{wet}");
    assert!(wet.is_array());
    assert_eq!(api.get("/api/gauge/deliveries", &cashier).1, json!([]));

    let order = api.post(
        "/api/orders",
        &manager,
        json!({"product": "GS1001", "volume_ml": 5_000_000, "wanted_date": seoul_date_in(1)}),
    );
    let order_id = order.1["order"].as_str().unwrap();
    let refused = api.post(
        &format!("/api/orders/{order_id}/cancel"),
        &cashier,
        json!({"reason": "twice"}),
    );
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let canceled = api.post(
        &format!("/api/orders/{order_id}/cancel"),
        &manager,
        json!({"reason": "ordered twice"}),
    );
    assert_eq!(canceled.0, 200, "{}", canceled.1);
    assert_eq!(canceled.1["status"], "canceled");

    let account = api.post(
        "/api/accounts",
        &manager,
        json!({"name": "Daesung Taxi", "credit_limit_won": 500_000}),
    );
    let account_id = account.1["account"].as_str().unwrap();
    let (status, shown) = api.get(&format!("/api/accounts/{account_id}"), &cashier);
    assert_eq!(status, 200);
    assert_eq!(shown["name"], "Daesung Taxi");
    assert_eq!(shown["movements"], json!([]));
    let unknown = api.get(
        "/api/accounts/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        &cashier,
    );
    assert_eq!((unknown.0, code(&unknown)), (404, "unknown_account"));
}

/// Field report: the POS accepted a cash tender of 99,999,999,999,999 won and printed its
/// change. Past the station's limit the API refuses it by name and stores nothing; a manager's
/// PIN at the counter confirms a large one; only a manager changes the limits.
#[test]
fn a_tender_past_the_station_limit_needs_a_managers_pin_at_the_counter() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    let manager = api.login("park", "9999");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let sale = |tendered: i64, over_limit: Value| {
        let mut body = json!({"lines": [{"product": "CD1001", "volume_ml": 40_000}],
                              "payment": {"method": "cash", "tendered_won": tendered}});
        if !over_limit.is_null() {
            body["over_limit"] = over_limit;
        }
        api.post("/api/sales", &cashier, body)
    };
    let absurd = sale(99_999_999_999_999, Value::Null);
    assert_eq!((absurd.0, code(&absurd)), (422, "tender_over_limit"));
    let message = absurd.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("limit of 2,000,000 won"), "{message}");
    let wrong_pin = sale(3_000_000, json!({"manager": "park", "manager_pin": "0000"}));
    assert_eq!((wrong_pin.0, code(&wrong_pin)), (401, "bad_credentials"));
    let by_herself = sale(3_000_000, json!({}));
    assert_eq!((by_herself.0, code(&by_herself)), (403, "manager_required"));
    assert_eq!(api.get("/api/sales", &cashier).1, json!([]), "nothing sold");

    let confirmed = sale(3_000_000, json!({"manager": "park", "manager_pin": "9999"}));
    assert_eq!(confirmed.0, 200, "{}", confirmed.1);
    assert_eq!(confirmed.1["payment"]["change_won"], 3_000_000 - 66_000);
    let (_, audit) = api.get("/api/audit?action=limit_confirmed", &manager);
    assert_eq!(audit[0]["approved_by"], "park", "{audit}");
    assert_eq!(audit[0]["actor"], "kim", "{audit}");

    let raised = json!({"largest_tender_won": 5_000_000, "largest_manual_volume_ml": 300_000});
    let by_cashier = api.call(
        reqwest::Method::PUT,
        "/api/limits",
        Some(&cashier),
        raised.clone(),
    );
    assert_eq!((by_cashier.0, code(&by_cashier)), (403, "manager_required"));
    let by_manager = api.call(
        reqwest::Method::PUT,
        "/api/limits",
        Some(&manager),
        raised.clone(),
    );
    assert_eq!(by_manager, (200, raised.clone()));
    assert_eq!(api.get("/api/limits", &cashier), (200, raised));
    assert_eq!(sale(4_000_000, Value::Null).0, 200);
    let zero = api.call(
        reqwest::Method::PUT,
        "/api/limits",
        Some(&manager),
        json!({"largest_tender_won": 0, "largest_manual_volume_ml": 300_000}),
    );
    assert_eq!((zero.0, code(&zero)), (422, "invalid_input"));
}
