//! The JSON bodies of the hub's API, through its real router (`cloud_hub::http::router`) on a
//! real hub file: every route that takes a body gets mutated JSON from a logged-in HQ user.
//!
//! Input: one byte choosing the route (modulo their number), then the body. The hub documents
//! no 5xx for these routes: any 5xx fails the input.

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use cloud_hub::Hub;
use cloud_hub::http::{AppState, router};
use cloud_hub::metrics::Metrics;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::http::{Http, database_folder, fill_path};
use crate::{Outcomes, Shape, Target, Violation};

const USER: &str = "admin";
const PASSWORD: &str = "correct horse battery";

/// The routes of `cloud_hub::http::router` that take a body, with an example each. A test
/// checks this list against the hub's OpenAPI document.
pub const BODY_ROUTES: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/api/login",
        r#"{"username":"admin","password":"correct horse battery"}"#,
    ),
    (
        "POST",
        "/api/stations",
        r#"{"station":"ST0002","name":"Seocho","operating_type":"franchise"}"#,
    ),
    (
        "PUT",
        "/api/products/{product}",
        r#"{"name":"Diesel","unit":"litre"}"#,
    ),
    (
        "POST",
        "/api/prices",
        r#"{"prices":[{"product":"CD1001","unit_price_won":1650}],"effective_at":"2026-11-24T00:00:00Z"}"#,
    ),
    (
        "POST",
        "/api/orders/{order}/shipments",
        r#"{"truck":"TRUCK-12","volume_ml":8000000,"expected_at":"2026-11-25T03:00:00Z"}"#,
    ),
    (
        "POST",
        "/api/orders/{order}/reject",
        r#"{"reason":"no truck free"}"#,
    ),
    ("PUT", "/api/dispatch-policy", r#"{"auto_dispatch":true}"#),
    (
        "POST",
        "/api/hq-users",
        r#"{"username":"lee","password":"a long password","role":"analyst"}"#,
    ),
    (
        "PUT",
        "/api/hq-users/{username}/role",
        r#"{"role":"administrator"}"#,
    ),
    (
        "PUT",
        "/api/alert-settings",
        r#"{"offline_after_minutes":30,"backlog_limit":500,"price_not_applied_after_minutes":60,"low_stock_days":2}"#,
    ),
    ("POST", "/api/feed/consumers", r#"{"name":"settlement"}"#),
    // Not JSON: a price book in CSV.
    (
        "POST",
        "/api/prices/csv",
        "product,name,unit_price_won\nCD1001,경유,\"1,650\"\n",
    ),
];

const MORE_EXAMPLES: &[(&str, &str)] = &[
    (
        "/api/stations",
        r#"{"station":"ST0003","name":"Mapo","operating_type":"directly_managed"}"#,
    ),
    (
        "/api/prices",
        r#"{"prices":[{"product":"CD1001","unit_price_won":1700}]}"#,
    ),
    (
        "/api/orders/{order}/shipments",
        r#"{"truck":"T","volume_ml":1}"#,
    ),
    (
        "/api/products/{product}",
        r#"{"name":"Water","unit":"piece"}"#,
    ),
    ("/api/login", r#"{"username":"nobody","password":"x"}"#),
];

struct Running {
    router: Router,
    token: String,
    paths: Vec<String>,
    _dir: tempfile::TempDir,
}

/// The hub API target.
#[derive(Default)]
pub struct HubApi {
    http: Http,
    running: Option<Running>,
}

impl std::fmt::Debug for HubApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubApi").finish_non_exhaustive()
    }
}

impl HubApi {
    /// The input that sends `body` to the route `template` (for regression vectors, which name
    /// the route rather than its position).
    ///
    /// # Panics
    /// If no route has that path.
    #[must_use]
    pub fn input(&self, template: &str, body: &str) -> Vec<u8> {
        let index = BODY_ROUTES
            .iter()
            .position(|(_, path, _)| *path == template)
            .unwrap_or_else(|| panic!("no route {template}"));
        let mut input = vec![u8::try_from(index).unwrap_or(0)];
        input.extend_from_slice(body.as_bytes());
        input
    }

    /// The hub's OpenAPI document, as its router serves it to a logged-in user.
    #[must_use]
    pub fn openapi_document(&mut self) -> Option<Value> {
        let running = self.running();
        let (router, token) = (running.router.clone(), running.token.clone());
        self.http
            .call(
                &router,
                &Method::GET,
                "/openapi.json",
                Some(&token),
                Vec::new(),
            )
            .json
    }

    fn running(&mut self) -> &Running {
        if self.running.is_none() {
            self.running = Some(start(&self.http));
        }
        self.running
            .as_ref()
            .unwrap_or_else(|| unreachable!("started above"))
    }
}

impl Target for HubApi {
    fn name(&self) -> &'static str {
        "hub.api_bodies"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds = Vec::new();
        for (index, (_, path, example)) in BODY_ROUTES.iter().enumerate() {
            let header = u8::try_from(index).unwrap_or(0);
            let more = MORE_EXAMPLES.iter().filter(|(p, _)| p == path);
            for body in std::iter::once(*example).chain(more.map(|(_, body)| *body)) {
                let mut seed = vec![header];
                seed.extend_from_slice(body.as_bytes());
                seeds.push(seed);
            }
        }
        seeds
    }

    fn shape(&self) -> Shape {
        Shape::Json { header: 1 }
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let (header, body) = input.split_first().unwrap_or((&0, &[]));
        let index = usize::from(*header) % BODY_ROUTES.len();
        let running = self.running();
        let (router, token, path) = (
            running.router.clone(),
            running.token.clone(),
            running.paths[index].clone(),
        );
        let (method, template, _) = BODY_ROUTES[index];
        let method: Method = method.parse().unwrap_or(Method::POST);
        let answer = self
            .http
            .call(&router, &method, &path, Some(&token), body.to_vec());
        let code = answer.error_code().unwrap_or(if answer.status < 300 {
            "ok"
        } else {
            "no_error_code"
        });
        outcomes.record(format!("{method} {template} {} {code}", answer.status));
        if answer.status >= 500 {
            return Err(Violation(format!(
                "{method} {path} answered {}: {}",
                answer.status,
                answer.json.unwrap_or(Value::Null)
            )));
        }
        Ok(())
    }

    fn reset(&mut self) {
        // A new runtime too: a panic may have unwound out of the old one's `block_on`.
        self.running = None;
        self.http = Http::new();
    }

    fn reset_every(&self) -> Option<u64> {
        Some(100_000)
    }
}

/// A hub with one HQ user logged in, station ST0001, diesel on the price list, and an order
/// from ST0001 (fed in as the station's first message) for the order routes.
fn start(http: &Http) -> Running {
    let dir = database_folder();
    let mut hub = Hub::open(&dir.path().join("hub.db"), Arc::new(Metrics::default()))
        .unwrap_or_else(|e| panic!("the fuzzed hub opens: {e}"));
    hub.add_hq_user(USER, PASSWORD, Timestamp::now())
        .unwrap_or_else(|e| panic!("the HQ user is added: {e}"));
    let hub = hub.shared();
    let router = router(AppState {
        hub: hub.clone(),
        wake: Arc::new(Notify::new()),
        metrics_token: None,
        dashboard: None,
    });
    let call = |method: Method, path: &str, token: Option<&str>, body: Value| {
        http.call(
            &router,
            &method,
            path,
            token,
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    };
    let login = call(
        Method::POST,
        "/api/login",
        None,
        json!({"username": USER, "password": PASSWORD}),
    );
    let token = login
        .json
        .as_ref()
        .and_then(|body| body["token"].as_str())
        .unwrap_or_else(|| panic!("the HQ user logs in: {login:?}"))
        .to_owned();
    call(
        Method::POST,
        "/api/stations",
        Some(&token),
        json!({"station": "ST0001", "name": "Gangnam", "operating_type": "directly_managed"}),
    );
    call(
        Method::PUT,
        "/api/products/CD1001",
        Some(&token),
        json!({"name": "Diesel", "unit": "litre"}),
    );
    let order = feed_order(&hub);
    let values = [
        ("order", order),
        ("product", "CD1001".to_owned()),
        ("username", USER.to_owned()),
    ];
    let paths = BODY_ROUTES
        .iter()
        .map(|(_, template, _)| fill_path(template, &values))
        .collect();
    Running {
        router,
        token,
        paths,
        _dir: dir,
    }
}

/// The golden `order_placed` vector as ST0001's first message; returns its order id.
fn feed_order(hub: &cloud_hub::SharedHub) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sync-protocol/tests/vectors/valid/order_placed.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut envelope =
        sync_protocol::decode(&bytes).unwrap_or_else(|e| panic!("the golden vector decodes: {e}"));
    envelope.sequence = 1;
    let sync_protocol::Event::OrderPlaced(order) = &envelope.event else {
        panic!("order_placed.json holds an order")
    };
    let order_id = order.order_id.to_string();
    hub.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .receive_station_message(
            "ST0001",
            &sync_protocol::encode(&envelope),
            Timestamp::now(),
        )
        .unwrap_or_else(|e| panic!("the hub takes the order: {e}"));
    order_id
}
