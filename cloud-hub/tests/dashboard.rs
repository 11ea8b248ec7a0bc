//! The dashboard's API as HQ staff's browser sees it (the real router over HTTP): roles enforced
//! by the API, the audit log of every change, the Network and Station screens' data, price
//! books, roll-outs, reports, alerts and the live updates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calendar;
mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use sync_protocol::transport::{DeviceStates, StationStatus};
use sync_protocol::{
    Event, Payment, PriceSource, PriceVersionApplied, SaleCanceled, SaleLine, SaleSettled,
    WetStockReconciled,
};
use uuid::Uuid;

use calendar::{day, day_text};
use support::*;

/// A network to look at: products, two stations in two regions, an HQ user of every role.
struct Network {
    api: Api,
    admin: String,
    seqs: std::cell::RefCell<HashMap<String, u64>>,
}

const PASS: &str = "a long password";

impl Network {
    fn start() -> Network {
        let api = Api::start();
        let admin = api.login();
        for (id, name, unit) in [("GAS95", "휘발유", "litre"), ("WATER", "생수", "piece")] {
            api.put(
                &format!("/api/products/{id}"),
                &admin,
                &json!({"name": name, "unit": unit}),
            )
            .ok();
        }
        for (id, name, kind, region) in [
            ("ST0001", "강남", "directly_managed", "서울"),
            ("ST0002", "수원", "franchise", "경기"),
        ] {
            api.post(
                "/api/stations",
                &admin,
                &json!({"station": id, "name": name, "operating_type": kind, "region": region}),
            )
            .ok();
        }
        for role in ["pricing", "logistics", "analyst"] {
            api.post(
                "/api/hq-users",
                &admin,
                &json!({"username": role, "password": PASS, "role": role}),
            )
            .ok();
        }
        Network {
            api,
            admin,
            seqs: Default::default(),
        }
    }

    fn login_as(&self, username: &str) -> String {
        let reply = self.api.request(
            Method::POST,
            "/api/login",
            None,
            Some(&json!({"username": username, "password": PASS})),
        );
        reply.ok()["token"].as_str().unwrap().to_owned()
    }

    /// The station's next event, applied at HQ as the sync agent would.
    fn sends(&self, station: &str, event: Event) {
        let seq = {
            let mut seqs = self.seqs.borrow_mut();
            let seq = seqs.entry(station.to_owned()).or_default();
            *seq += 1;
            *seq
        };
        self.api.station_sends(station, seq, event);
    }

    fn says_status(&self, station: &str, status: StationStatus, at: Timestamp) {
        self.api.hub().station_online(station, &status, at).unwrap();
    }
}

fn sale(id: u128, day_offset: i64, product: &str, volume_ml: i64, amount_won: i64) -> Event {
    let litre = product == "GAS95";
    Event::SaleSettled(SaleSettled {
        sale_id: Uuid::from_u128(id),
        receipt_no: format!("R-{id}"),
        business_day: day(day_offset),
        shift_id: Uuid::from_u128(7),
        cashier: "lee".to_owned(),
        lines: vec![SaleLine {
            line_no: 1,
            product_id: product.to_owned(),
            tank: litre.then_some(1),
            volume_ml: litre.then_some(volume_ml),
            quantity: (!litre).then_some(1),
            unit_price_won: 1700,
            amount_won,
            price_source: PriceSource::PriceList,
            price_version: None,
        }],
        total_won: amount_won,
        payment: Payment::Cash {
            tendered_won: amount_won,
            change_won: 0,
        },
    })
}

fn online(devices: Option<DeviceStates>, up_last: u64) -> StationStatus {
    StationStatus {
        online: true,
        up_last: Some(up_last),
        devices,
        ..StationStatus::offline()
    }
}

fn ago(minutes: i64) -> Timestamp {
    Timestamp::now() - SignedDuration::from_mins(minutes)
}

// ---- roles and the audit log

#[test]
fn each_role_may_change_only_its_own_records_and_the_api_refuses_the_rest() {
    let n = Network::start();
    let api = &n.api;
    let pricing = n.login_as("pricing");
    let logistics = n.login_as("logistics");
    let analyst = n.login_as("analyst");
    assert_eq!(
        api.get("/api/me", &analyst).ok(),
        json!({"username": "analyst", "role": "analyst"})
    );
    let price = json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}]});
    let policy = json!({"auto_dispatch": true});
    let station = json!({"station": "ST0009", "name": "새 주유소", "operating_type": "franchise"});
    let user = json!({"username": "kim", "password": PASS, "role": "analyst"});
    // What each role may not do: refused with 403, naming the role, and nothing changes.
    let role_change = json!({"role": "administrator"});
    let refused: [(&str, Method, &str, Option<&Value>); 8] = [
        (&analyst, Method::POST, "/api/prices", Some(&price)),
        (&analyst, Method::PUT, "/api/dispatch-policy", Some(&policy)),
        (&analyst, Method::GET, "/api/hq-users", None),
        (
            &analyst,
            Method::PUT,
            "/api/hq-users/pricing/role",
            Some(&role_change),
        ),
        (&logistics, Method::POST, "/api/prices", Some(&price)),
        (&logistics, Method::POST, "/api/stations", Some(&station)),
        (&pricing, Method::PUT, "/api/dispatch-policy", Some(&policy)),
        (&pricing, Method::POST, "/api/hq-users", Some(&user)),
    ];
    let audit_before = api.get("/api/audit?limit=1000", &n.admin).ok();
    for (token, method, path, body) in &refused {
        let reply = api.request(method.clone(), path, Some(token), *body);
        assert_error(&reply, 403, "forbidden");
        assert!(
            reply.json()["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("the role "),
            "{}",
            reply.body
        );
    }
    assert_eq!(api.get("/api/prices", &analyst).ok(), json!([]));
    assert_eq!(
        api.get("/api/dispatch-policy", &analyst).ok(),
        json!({"auto_dispatch": false})
    );
    assert_eq!(
        api.get("/api/stations", &analyst)
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // No refused change is in the audit log (the log-ins are).
    let changes = |log: &Value| -> Vec<Value> {
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] != "login")
            .cloned()
            .collect()
    };
    assert_eq!(
        changes(&api.get("/api/audit?limit=1000", &n.admin).ok()),
        changes(&audit_before)
    );

    // What each may do.
    api.post("/api/prices", &pricing, &price).ok();
    api.put(
        "/api/products/GAS95",
        &pricing,
        &json!({"name": "고급휘발유", "unit": "litre"}),
    )
    .ok();
    api.put("/api/dispatch-policy", &logistics, &policy).ok();
    // Everyone reads.
    for token in [&pricing, &logistics, &analyst] {
        for path in [
            "/api/network",
            "/api/alerts",
            "/api/reports/stock",
            "/api/audit",
            "/api/station-audit",
        ] {
            api.get(path, token).ok();
        }
    }
}

#[test]
fn an_administrator_manages_users_and_roles_and_the_last_one_keeps_the_role() {
    let n = Network::start();
    let api = &n.api;
    let users = api.get("/api/hq-users", &n.admin).ok();
    let names: Vec<(&str, &str)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["username"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("admin", "administrator"),
            ("analyst", "analyst"),
            ("logistics", "logistics"),
            ("pricing", "pricing")
        ]
    );
    for (body, status, code) in [
        (
            json!({"username": "kim", "password": PASS, "role": "boss"}),
            400,
            "invalid_input",
        ),
        (
            json!({"username": "kim", "password": "short", "role": "analyst"}),
            400,
            "invalid_input",
        ),
        (
            json!({"username": "pricing", "password": PASS, "role": "analyst"}),
            409,
            "user_exists",
        ),
    ] {
        assert_error(&api.post("/api/hq-users", &n.admin, &body), status, code);
    }
    assert_error(
        &api.put(
            "/api/hq-users/nobody/role",
            &n.admin,
            &json!({"role": "analyst"}),
        ),
        404,
        "unknown_user",
    );
    // The only administrator cannot be demoted, by anyone.
    assert_error(
        &api.put(
            "/api/hq-users/admin/role",
            &n.admin,
            &json!({"role": "analyst"}),
        ),
        409,
        "conflict",
    );
    // A role change takes effect on the user's next request, in the session it already has.
    let analyst = n.login_as("analyst");
    let price = json!({"prices": [{"product": "GAS95", "unit_price_won": 1650}]});
    assert_error(&api.post("/api/prices", &analyst, &price), 403, "forbidden");
    let changed = api
        .put(
            "/api/hq-users/analyst/role",
            &n.admin,
            &json!({"role": "pricing"}),
        )
        .ok();
    assert_eq!(changed["role"], "pricing");
    api.post("/api/prices", &analyst, &price).ok();
    // With a second administrator, the first may step down.
    api.put(
        "/api/hq-users/logistics/role",
        &n.admin,
        &json!({"role": "administrator"}),
    )
    .ok();
    api.put(
        "/api/hq-users/admin/role",
        &n.admin,
        &json!({"role": "analyst"}),
    )
    .ok();
    assert_error(&api.get("/api/hq-users", &n.admin), 403, "forbidden");
}

#[test]
fn every_change_is_in_the_audit_log_with_who_what_and_when_and_can_be_searched() {
    let n = Network::start();
    let api = &n.api;
    let pricing = n.login_as("pricing");
    let logistics = n.login_as("logistics");
    api.post(
        "/api/prices",
        &pricing,
        &json!({"prices": [{"product": "GAS95", "unit_price_won": 1699}]}),
    )
    .ok();
    let order = Uuid::from_u128(77);
    n.sends(
        "ST0001",
        Event::OrderPlaced(sync_protocol::OrderPlaced {
            order_id: order,
            product_id: "GAS95".to_owned(),
            volume_ml: 10_000_000,
            wanted_date: day(2),
            ordered_by: "kim".to_owned(),
        }),
    );
    api.post(
        &format!("/api/orders/{order}/shipments"),
        &logistics,
        &json!({"truck": "서울12가3456", "volume_ml": 10_000_000}),
    )
    .ok();
    api.put(
        "/api/alert-settings",
        &n.admin,
        &json!({"offline_after_minutes": 15, "backlog_limit": 100,
                "price_not_applied_after_minutes": 30, "low_stock_days": 3}),
    )
    .ok();
    let log = api.get("/api/audit?limit=1000", &n.admin).ok();
    let entries: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !["login"].contains(&e["action"].as_str().unwrap()))
        .map(|e| {
            e["at"].as_str().unwrap().parse::<Timestamp>().unwrap();
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
                e["subject"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("alert_settings_set", "admin", ""),
        (
            "shipment_dispatched",
            "logistics",
            order.to_string().as_str(),
        ),
        ("price_published", "pricing", "1"),
        ("user_added", "admin", "analyst"),
        ("user_added", "admin", "logistics"),
        ("user_added", "admin", "pricing"),
        ("station_registered", "admin", "ST0002"),
        ("station_registered", "admin", "ST0001"),
        ("product_saved", "admin", "WATER"),
        ("product_saved", "admin", "GAS95"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(entries, expected);
    // Searched by text (in the subject or the detail), action and actor.
    let found = api.get("/api/audit?q=%EC%84%9C%EC%9A%B812", &n.admin).ok();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["action"], "shipment_dispatched");
    let by_action = api.get("/api/audit?action=user_added", &n.admin).ok();
    assert_eq!(by_action.as_array().unwrap().len(), 3);
    let by_actor = api
        .get("/api/audit?actor=pricing&action=price_published", &n.admin)
        .ok();
    assert_eq!(by_actor.as_array().unwrap().len(), 1);
    assert_eq!(
        api.get("/api/audit?q=nothing-like-it", &n.admin).ok(),
        json!([])
    );
}

// ---- the Network and Station screens

#[test]
fn the_network_shows_each_station_with_its_links_devices_price_version_and_alerts() {
    let n = Network::start();
    let api = &n.api;
    api.post(
        "/api/prices",
        &n.admin,
        &json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}]}),
    )
    .ok();
    n.sends("ST0001", sale(1, -1, "GAS95", 10_000, 17_000));
    n.sends(
        "ST0001",
        Event::PriceVersionApplied(PriceVersionApplied {
            version: 1,
            applied_at: Timestamp::now(),
        }),
    );
    let devices = DeviceStates {
        printer: "ready".to_owned(),
        gauge: "disconnected".to_owned(),
        pump_line: "not_configured".to_owned(),
    };
    // ST0001 said it had recorded 5 events; HQ applied 2.
    n.says_status("ST0001", online(Some(devices), 5), Timestamp::now());
    let network = api.get("/api/network", &n.admin).ok();
    assert_eq!(network["current_price_version"], 1);
    let stations = network["stations"].as_array().unwrap();
    assert_eq!(stations.len(), 2);
    let first = &stations[0];
    assert_eq!(first["station"], "ST0001");
    assert_eq!(first["name"], "강남");
    assert_eq!(first["region"], "서울");
    assert_eq!(first["operating_type"], "directly_managed");
    assert_eq!(first["online"], true);
    assert_eq!(first["events_waiting_from_station"], 3);
    assert_eq!(first["price_version_applied"], 1);
    assert_eq!(
        first["devices"],
        json!({"printer": "ready", "gauge": "disconnected", "pump_line": "not_configured"})
    );
    // The sale emptied a tank HQ knew nothing of: its one open alert is low stock.
    let alerts = api.get("/api/alerts?station=ST0001", &n.admin).ok();
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["kind"], "low_stock");
    assert_eq!(first["alerts"], 1, "{first}");
    let second = &stations[1];
    assert_eq!(second["online"], false);
    assert_eq!(second["region"], "경기");
    // Registered just now with the price version queued for it.
    assert_eq!(second["events_waiting_to_station"], 1);
    assert_eq!(
        second["devices"],
        json!({"printer": null, "gauge": null, "pump_line": null})
    );

    // One station's screen.
    let detail = api.get("/api/stations/ST0001", &n.admin).ok();
    assert_eq!(detail["station"]["name"], "강남");
    assert_eq!(detail["status"], *first);
    assert_error(
        &api.get("/api/stations/ST0404", &n.admin),
        404,
        "unknown_station",
    );
}

#[test]
fn a_station_tank_shows_book_and_measured_stock() {
    let n = Network::start();
    n.sends(
        "ST0001",
        Event::TankRegistered(sync_protocol::TankRegistered {
            tank: 1,
            product_id: "GAS95".to_owned(),
            capacity_ml: 20_000_000,
        }),
    );
    n.sends(
        "ST0001",
        Event::StockAdjusted(sync_protocol::StockAdjusted {
            adjustment_id: Uuid::from_u128(5),
            tank: 1,
            delta_ml: 8_000_000,
            reason: "opening".to_owned(),
            product_id: "GAS95".to_owned(),
            approved_by: "park".to_owned(),
        }),
    );
    for (offset, closing) in [(-2, 7_900_000), (-1, 7_500_000)] {
        n.sends(
            "ST0001",
            Event::WetStockReconciled(WetStockReconciled {
                business_day: day(offset),
                tank: 1,
                product_id: "GAS95".to_owned(),
                opening_ml: 8_000_000,
                deliveries_ml: 0,
                sales_ml: 100_000,
                closing_ml: closing,
                variance_ml: closing - 7_900_000,
                limit_ml: 50_500,
                flagged: closing != 7_900_000,
            }),
        );
    }
    let detail = n.api.get("/api/stations/ST0001", &n.admin).ok();
    assert_eq!(
        detail["tanks"],
        json!([{"tank": 1, "product": "GAS95", "capacity_ml": 20_000_000, "book_stock_ml": 8_000_000,
                "measured_ml": 7_500_000, "measured_on": day_text(-1)}])
    );
    // The variance past its limit is an alert of that station.
    let alerts = n.api.get("/api/alerts?station=ST0001", &n.admin).ok();
    let kinds: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"variance_over_limit"), "{alerts}");
    let flagged = n.api.get("/api/wet-stock?flagged=true", &n.admin).ok();
    assert_eq!(flagged.as_array().unwrap().len(), 1, "{flagged}");
}

/// A station's audit entry as its runtime sends it.
fn audit(entry_no: u64, action: &str, actor: &str, subject: Option<&str>, detail: &str) -> Event {
    Event::AuditRecorded(sync_protocol::AuditRecorded {
        entry_no,
        at: ago(60 - i64::try_from(entry_no).unwrap()),
        action: action.to_owned(),
        actor: actor.to_owned(),
        approved_by: (action == "sale_canceled").then(|| "park".to_owned()),
        subject: subject.map(str::to_owned),
        detail: detail.to_owned(),
    })
}

#[test]
fn the_stations_audit_logs_are_read_at_hq_newest_first_searched_and_paged() {
    let n = Network::start();
    n.sends("ST0001", audit(1, "login_failed", "kim", None, ""));
    n.sends(
        "ST0001",
        audit(2, "locked_out", "kim", None, "after 10 failed PIN checks"),
    );
    n.sends("ST0002", audit(1, "login", "lee", None, ""));
    n.sends(
        "ST0001",
        audit(
            3,
            "lockout_lifted",
            "park",
            Some("kim"),
            "locked out after 10 failed PIN checks",
        ),
    );
    n.sends(
        "ST0002",
        audit(
            2,
            "sale_canceled",
            "lee",
            Some("01a2154b-9f00-7e10-8a55-1c0de0c0ffee"),
            "고객 변심",
        ),
    );
    // Every role of HQ reads them; newest first, across the network.
    let analyst = n.login_as("analyst");
    let all = n.api.get("/api/station-audit", &analyst).ok();
    let seen: Vec<(&str, i64, &str)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["station"].as_str().unwrap(),
                e["entry"].as_i64().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("ST0002", 2, "sale_canceled"),
            ("ST0001", 3, "lockout_lifted"),
            ("ST0002", 1, "login"),
            ("ST0001", 2, "locked_out"),
            ("ST0001", 1, "login_failed"),
        ]
    );
    assert_eq!(all[0]["name"], "수원");
    assert_eq!(all[0]["approved_by"], "park");
    assert_eq!(all[0]["detail"], "고객 변심");
    // By station and action, by the user who acted or was acted on, by text.
    let of = |query: &str| -> Vec<i64> {
        n.api
            .get(&format!("/api/station-audit?{query}"), &analyst)
            .ok()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["entry"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(of("station=ST0001"), [3, 2, 1]);
    assert_eq!(of("station=ST0001&action=locked_out"), [2]);
    assert_eq!(of("actor=park"), [2, 3]);
    assert_eq!(of("station=ST0001&q=KIM"), [3], "the subject, in any case");
    assert_eq!(of("q=변심"), [2]);
    // Paging back: the oldest two, before the third newest.
    let third = all[2]["audit_no"].as_i64().unwrap();
    assert_eq!(of(&format!("before={third}&limit=5")), [2, 1]);
    assert_eq!(of("limit=2"), [2, 3]);
    // A station HQ does not know is named.
    assert_error(
        &n.api.get("/api/station-audit?station=ST0404", &analyst),
        404,
        "unknown_station",
    );
    // HQ staff only.
    assert_error(
        &n.api.request(Method::GET, "/api/station-audit", None, None),
        401,
        "unauthenticated",
    );
}

// ---- prices

#[test]
fn a_price_book_with_any_bad_line_is_refused_whole_with_every_bad_line_named() {
    let n = Network::start();
    let api = &n.api;
    let pricing = n.login_as("pricing");
    let post_csv = |token: &str, body: &str, query: &str| {
        let response = api
            .client
            .post(format!("{}/api/prices/csv{query}", api.base))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(body.to_owned())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().unwrap();
        (status, serde_json::from_str::<Value>(&body).unwrap())
    };
    let (status, body) = post_csv(
        &pricing,
        "product,name,unit_price_won\nGAS95,휘발유,\"1,789\"\nDIESEL,경유,1650\nWATER,생수,0\n",
        "",
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_price_book");
    let lines: Vec<(u64, &str)> = body["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l["message"].as_str().unwrap()))
        .collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert_eq!(lines[0].0, 3);
    assert!(lines[0].1.contains("unknown product DIESEL"));
    assert_eq!(lines[1].0, 4);
    assert!(lines[1].1.contains("0 won"));
    assert_eq!(api.get("/api/prices", &pricing).ok(), json!([]));

    let effective = (Timestamp::now() + SignedDuration::from_hours(2)).to_string();
    let (status, version) = post_csv(
        &pricing,
        "\u{feff}product,unit_price_won\r\nGAS95,\"1,789\"\r\nWATER,900\r\n",
        &format!("?effective_at={effective}"),
    );
    assert_eq!(status, 200, "{version}");
    assert_eq!(version["version"], 1);
    assert_eq!(version["created_by"], "pricing");
    let items: BTreeMap<String, i64> = version["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["product"].as_str().unwrap().to_owned(),
                i["unit_price_won"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        BTreeMap::from([("GAS95".into(), 1789), ("WATER".into(), 900)])
    );
    // An analyst cannot, whatever the file.
    let analyst = n.login_as("analyst");
    let (status, body) = post_csv(&analyst, "product,unit_price_won\nGAS95,1\n", "");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}

#[test]
fn a_price_book_of_thousands_of_korean_named_products_is_published_whole() {
    let n = Network::start();
    let mut book = String::from("product,name,unit_price_won\n");
    {
        let mut hub = n.api.hub();
        for i in 0..5_000 {
            let id = format!("P{i:05}");
            let name = format!("세차용품 {i}호 (대용량)");
            hub.upsert_product(&id, &name, sync_protocol::ProductUnit::Piece)
                .unwrap();
            book.push_str(&format!(
                "{id},\"{name}\",\"{},{:03}\"\n",
                1 + i / 1000,
                i % 1000
            ));
        }
    }
    let response = n
        .api
        .client
        .post(format!("{}/api/prices/csv", n.api.base))
        .bearer_auth(&n.admin)
        .body(book)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let version: Value = response.json().unwrap();
    let items = version["items"].as_array().unwrap();
    assert_eq!(items.len(), 5_000);
    let last = items.iter().find(|i| i["product"] == "P04999").unwrap();
    assert_eq!(last["unit_price_won"], 5_999);
    assert_eq!(last["name"], "세차용품 4999호 (대용량)");
}

#[test]
fn a_body_over_the_limit_is_refused_with_the_error_body_and_changes_nothing() {
    let n = Network::start();
    let api = &n.api;
    // At the limit exactly, the body is read (and refused for what it says).
    let mut book = String::from("product,unit_price_won\n");
    while book.len() + 11 <= cloud_hub::http::BODY_LIMIT {
        book.push_str("GAS95,1700\n");
    }
    book.push_str(&"\n".repeat(cloud_hub::http::BODY_LIMIT - book.len()));
    assert_eq!(book.len(), cloud_hub::http::BODY_LIMIT);
    let response = api
        .client
        .post(format!("{}/api/prices/csv", api.base))
        .bearer_auth(&n.admin)
        .body(book.clone())
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_price_book", "{body}");
    // One byte more is not read at all.
    book.push('\n');
    let response = api
        .client
        .post(format!("{}/api/prices/csv", api.base))
        .bearer_auth(&n.admin)
        .body(book)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["code"], "too_large", "{body}");
    assert_eq!(api.get("/api/prices", &n.admin).ok(), json!([]));
    // The same for a JSON body.
    let prices: Vec<Value> = (0..100_000)
        .map(|_| json!({"product": "GAS95", "unit_price_won": 1700}))
        .collect();
    assert_error(
        &api.post("/api/prices", &n.admin, &json!({ "prices": prices })),
        413,
        "too_large",
    );
}

#[test]
fn the_roll_out_of_a_version_follows_each_station_to_applied() {
    let n = Network::start();
    let api = &n.api;
    api.post(
        "/api/prices",
        &n.admin,
        &json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}]}),
    )
    .ok();
    let rollout = api.get("/api/prices/1/rollout", &n.admin).ok();
    assert_eq!(
        (
            &rollout["stations_total"],
            &rollout["applied"],
            &rollout["pending"],
            &rollout["offline"]
        ),
        (&json!(2), &json!(0), &json!(0), &json!(2))
    );
    n.says_status("ST0001", online(None, 0), Timestamp::now());
    let rollout = api.get("/api/prices/1/rollout", &n.admin).ok();
    assert_eq!(
        (&rollout["pending"], &rollout["offline"]),
        (&json!(1), &json!(1))
    );
    let applied_at = Timestamp::now();
    n.sends(
        "ST0001",
        Event::PriceVersionApplied(PriceVersionApplied {
            version: 1,
            applied_at,
        }),
    );
    let rollout = api.get("/api/prices/1/rollout", &n.admin).ok();
    assert_eq!(rollout["applied"], 1);
    assert_eq!(
        rollout["stations"][0],
        json!({"station": "ST0001", "name": "강남", "state": "applied",
               "since": rollout["stations"][0]["since"], "price_version_applied": 1})
    );
    assert_eq!(rollout["stations"][1]["state"], "offline");
    assert_error(
        &api.get("/api/prices/9/rollout", &n.admin),
        400,
        "invalid_input",
    );
    assert_error(
        &api.get("/api/prices/x/rollout", &n.admin),
        400,
        "invalid_input",
    );
}

// ---- reports

#[test]
fn sales_reports_break_the_network_down_and_agree_with_every_station_row() {
    let n = Network::start();
    let api = &n.api;
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    for offset in [-3, -2, -1] {
        n.sends("ST0001", sale(next(), offset, "GAS95", 10_000, 17_000));
        n.sends("ST0001", sale(next(), offset, "WATER", 0, 900));
        n.sends("ST0002", sale(next(), offset, "GAS95", 20_000, 34_000));
    }
    // A cancellation moves the roll-up too.
    let canceled = next();
    n.sends("ST0002", sale(canceled, -1, "GAS95", 5_000, 8_500));
    n.sends(
        "ST0002",
        Event::SaleCanceled(SaleCanceled {
            cancellation_id: Uuid::from_u128(999),
            sale_id: Uuid::from_u128(canceled),
            business_day: day(-1),
            sale_business_day: day(-1),
            reason: "잘못 입력".to_owned(),
            canceled_by: "lee".to_owned(),
            approved_by: "park".to_owned(),
            lines: vec![SaleLine {
                line_no: 1,
                product_id: "GAS95".to_owned(),
                tank: Some(1),
                volume_ml: Some(5_000),
                quantity: None,
                unit_price_won: 1700,
                amount_won: 8_500,
                price_source: PriceSource::PriceList,
                price_version: None,
            }],
            total_won: 8_500,
        }),
    );
    let range = format!("from={}&to={}", day_text(-3), day_text(-1));
    let report = |by: &str, extra: &str| {
        api.get(
            &format!("/api/reports/sales?{range}&by={by}{extra}"),
            &n.admin,
        )
        .ok()
    };
    let net = |r: &Value| -> Vec<(String, i64)> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row["label"].as_str().unwrap().to_owned(),
                    row["net_amount_won"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let by_day = report("day", "");
    let per_day = 17_000 + 900 + 34_000;
    assert_eq!(
        net(&by_day),
        vec![
            (day_text(-3), per_day),
            (day_text(-2), per_day),
            (day_text(-1), per_day)
        ]
    );
    assert_eq!(by_day["total"]["net_amount_won"], 3 * per_day);
    assert_eq!(by_day["total"]["canceled_amount_won"], 8_500);
    assert_eq!(
        net(&report("product", "")),
        vec![("휘발유".into(), 3 * 51_000), ("생수".into(), 2_700)]
    );
    assert_eq!(
        net(&report("station", "")),
        vec![("수원".into(), 3 * 34_000), ("강남".into(), 3 * 17_900)]
    );
    assert_eq!(
        net(&report("operating_type", "")),
        vec![
            ("franchise".into(), 3 * 34_000),
            ("directly_managed".into(), 3 * 17_900)
        ]
    );
    // Narrowed: the roll-up and the station rows give the same figures.
    assert_eq!(
        net(&report("day", "&operating_type=franchise")),
        net(&report("day", "&station=ST0002"))
    );
    assert_eq!(
        report("product", "&product=WATER")["total"]["sales_quantity"],
        3
    );
    // One station's rows over a range, for its screen.
    let rows = api
        .get(
            &format!(
                "/api/sales?station=ST0001&from={}&to={}",
                day_text(-2),
                day_text(-1)
            ),
            &n.admin,
        )
        .ok();
    let days: Vec<(&str, &str)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["business_day"].as_str().unwrap(),
                r["product"].as_str().unwrap(),
            )
        })
        .collect();
    let (two, one) = (day_text(-2), day_text(-1));
    assert_eq!(
        days,
        vec![
            (two.as_str(), "GAS95"),
            (two.as_str(), "WATER"),
            (one.as_str(), "GAS95"),
            (one.as_str(), "WATER")
        ]
    );
    for query in [format!("day={one}&from={two}"), "from=yesterday".to_owned()] {
        assert_error(
            &api.get(&format!("/api/sales?{query}"), &n.admin),
            400,
            "invalid_input",
        );
    }
    for (query, field) in [
        (format!("from={}&to={}", day_text(-1), day_text(-3)), "from"),
        ("from=2026-13-01&to=2026-12-01".to_owned(), "from"),
        ("from=2020-01-01&to=2026-01-01".to_owned(), "to"),
        (format!("{range}&by=week"), "by"),
        (format!("{range}&operating_type=partner"), "operating type"),
    ] {
        let reply = api.get(&format!("/api/reports/sales?{query}"), &n.admin);
        assert_error(&reply, 400, "invalid_input");
        assert!(reply.body.contains(field), "{query}: {}", reply.body);
    }
}

#[test]
fn stock_shows_days_of_cover_from_recent_sales_and_low_stock_raises_an_alert() {
    let n = Network::start();
    let api = &n.api;
    for (station, stock) in [("ST0001", 100_000), ("ST0002", 5_000_000)] {
        n.sends(
            station,
            Event::TankRegistered(sync_protocol::TankRegistered {
                tank: 1,
                product_id: "GAS95".to_owned(),
                capacity_ml: 20_000_000,
            }),
        );
        n.sends(
            station,
            Event::StockAdjusted(sync_protocol::StockAdjusted {
                adjustment_id: Uuid::new_v4(),
                tank: 1,
                delta_ml: stock,
                reason: "opening".to_owned(),
                product_id: "GAS95".to_owned(),
                approved_by: "park".to_owned(),
            }),
        );
    }
    // 200 L a day at each station over two days (sales lower the book stock as well).
    let mut id = 100;
    for station in ["ST0001", "ST0002"] {
        for offset in [-2, -1] {
            id += 1;
            n.sends(station, sale(id, offset, "GAS95", 200_000, 340_000));
        }
    }
    let stock = api.get("/api/reports/stock", &n.admin).ok();
    let rows = stock["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    // ST0001: 100 L - 400 L sold = -300 L book stock: no cover, low.
    assert_eq!(rows[0]["daily_sales_ml"], 200_000);
    assert_eq!(rows[0]["days_of_cover_tenths"], 0);
    assert_eq!(rows[0]["low"], true);
    // ST0002: 4,600 L at 200 L a day = 23.0 days.
    assert_eq!(rows[1]["book_stock_ml"], 4_600_000);
    assert_eq!(rows[1]["days_of_cover_tenths"], 230);
    assert_eq!(rows[1]["low"], false);
    assert_eq!(
        stock["by_product"],
        json!([{"product": "GAS95", "product_name": "휘발유", "book_stock_ml": 4_300_000,
                "capacity_ml": 40_000_000, "daily_sales_ml": 400_000, "days_of_cover_tenths": 107}])
    );
    let alerts = api.get("/api/alerts", &n.admin).ok();
    let low: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "low_stock")
        .map(|a| a["station"].as_str().unwrap())
        .collect();
    assert_eq!(low, vec!["ST0001"]);
}

// ---- alerts

#[test]
fn alerts_open_with_their_cause_and_close_when_it_ends() {
    let n = Network::start();
    let api = &n.api;
    let kinds = |station: &str| -> Vec<String> {
        let mut kinds: Vec<String> = api
            .get(&format!("/api/alerts?station={station}"), &n.admin)
            .ok()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_owned())
            .collect();
        kinds.sort();
        kinds
    };
    // A price version in effect for two hours; ST0001 went offline an hour ago.
    api.hub()
        .publish_price_version(
            &[("GAS95".to_owned(), 1700)],
            Some(ago(120)),
            "admin",
            ago(120),
        )
        .unwrap();
    n.says_status("ST0001", online(None, 0), ago(90));
    let went_offline = ago(60);
    n.api
        .hub()
        .station_status_changed("ST0001", false, went_offline)
        .unwrap();
    assert_eq!(
        kinds("ST0001"),
        vec!["price_not_applied", "station_offline"]
    );
    let alert = api.get("/api/alerts?station=ST0001", &n.admin).ok();
    let offline = alert
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "station_offline")
        .unwrap();
    assert_eq!(offline["name"], "강남");
    assert!(
        offline["figures"]["minutes"].as_i64().unwrap() >= 60,
        "{offline}"
    );
    assert_eq!(
        offline["since"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        Timestamp::from_millisecond(went_offline.as_millisecond()).unwrap()
    );
    // Back online and the version applied: both close.
    n.says_status("ST0001", online(None, 0), Timestamp::now());
    n.sends(
        "ST0001",
        Event::PriceVersionApplied(PriceVersionApplied {
            version: 1,
            applied_at: Timestamp::now(),
        }),
    );
    assert_eq!(kinds("ST0001"), Vec::<String>::new());
    // A message HQ cannot apply.
    n.api
        .hub()
        .receive_station_message("ST0001", b"{not json", Timestamp::now())
        .unwrap();
    assert_eq!(kinds("ST0001"), vec!["dead_letters"]);
    // A growing backlog: HQ's messages the station has not taken, over a lowered limit.
    api.put(
        "/api/alert-settings",
        &n.admin,
        &json!({"offline_after_minutes": 30, "backlog_limit": 1,
                "price_not_applied_after_minutes": 60, "low_stock_days": 2}),
    )
    .ok();
    for price in [1710, 1720] {
        api.hub()
            .publish_price_version(
                &[("GAS95".to_owned(), price)],
                None,
                "admin",
                Timestamp::now(),
            )
            .unwrap();
    }
    assert!(kinds("ST0001").contains(&"backlog_growing".to_owned()));
    // Settings out of range are refused and the ones in force stay.
    for bad in [
        json!({"offline_after_minutes": 10_081, "backlog_limit": 1, "price_not_applied_after_minutes": 60, "low_stock_days": 2}),
        json!({"offline_after_minutes": 30, "backlog_limit": 1, "price_not_applied_after_minutes": 60, "low_stock_days": 61}),
        json!({"offline_after_minutes": 30}),
    ] {
        assert_error(
            &api.put("/api/alert-settings", &n.admin, &bad),
            400,
            "invalid_input",
        );
    }
    assert_eq!(
        api.get("/api/alert-settings", &n.admin).ok()["backlog_limit"],
        1
    );
    let analyst = n.login_as("analyst");
    assert_error(
        &api.put(
            "/api/alert-settings",
            &analyst,
            &json!({"offline_after_minutes": 30, "backlog_limit": 9,
                    "price_not_applied_after_minutes": 60, "low_stock_days": 2}),
        ),
        403,
        "forbidden",
    );
    assert_error(
        &api.get("/api/alerts?station=ST0404", &n.admin),
        404,
        "unknown_station",
    );
}

// ---- live updates and the dashboard's files

/// Reads server-sent events until the next `changed` one, and returns its topics; `None` when
/// the stream ends.
fn next_changed(lines: &mut impl BufRead) -> Option<Vec<String>> {
    let mut event = String::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap() == 0 {
            return None;
        }
        let line = line.trim_end();
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ")
            && event == "changed"
        {
            let value: Value = serde_json::from_str(data).unwrap();
            return Some(
                value["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect(),
            );
        }
    }
}

#[test]
fn the_live_updates_say_what_changed_and_end_with_the_session() {
    let n = Network::start();
    let api = &n.api;
    let token = n.login_as("analyst");
    let refused = api.request(Method::GET, "/api/events?token=nope", None, None);
    assert_error(&refused, 401, "unauthenticated");
    let response = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
        .get(format!("{}/api/events?token={token}", api.base))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut lines = BufReader::new(response);
    let first = next_changed(&mut lines).unwrap();
    assert_eq!(
        first,
        [
            "stations", "prices", "orders", "sales", "stock", "alerts", "audit", "users"
        ]
    );
    api.post(
        "/api/prices",
        &n.admin,
        &json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}]}),
    )
    .ok();
    let told = next_changed(&mut lines).unwrap();
    assert!(told.contains(&"prices".to_owned()), "{told:?}");
    assert!(!told.contains(&"users".to_owned()), "{told:?}");
    n.sends("ST0001", sale(1, -1, "GAS95", 1_000, 1_700));
    let told = next_changed(&mut lines).unwrap();
    assert!(told.contains(&"sales".to_owned()), "{told:?}");
    // Signed out: the stream ends at the next change.
    let logout = api.request(Method::POST, "/api/logout", Some(&token), None);
    assert_eq!(logout.status, 204);
    n.sends("ST0001", sale(2, -1, "GAS95", 1_000, 1_700));
    assert_eq!(next_changed(&mut lines), None);
}

#[test]
fn the_hub_serves_the_dashboard_at_its_root_and_api_errors_stay_json() {
    let files = tempfile::tempdir().unwrap();
    std::fs::write(
        files.path().join("index.html"),
        "<!doctype html><title>주유소 본사</title>",
    )
    .unwrap();
    std::fs::create_dir(files.path().join("assets")).unwrap();
    std::fs::write(files.path().join("assets/app.js"), "console.log(1)").unwrap();
    let api = Api::serving(Some(files.path().to_owned()));
    let page = api.request(Method::GET, "/", None, None);
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    assert!(page.body.contains("주유소 본사"));
    let script = api.request(Method::GET, "/assets/app.js", None, None);
    assert_eq!(script.status, 200);
    assert!(script.content_type.contains("javascript"), "{script:?}");
    // A deep link opens the page; a path under /api never does.
    let deep = api.request(Method::GET, "/stations/ST0001", None, None);
    assert!(deep.body.contains("주유소 본사"));
    let token = api.login();
    assert_error(&api.get("/api/no-such-route", &token), 404, "not_found");
}
