//! The JSON bodies of the station runtime's API, through its real router
//! (`station_runtime::api::router`) on a real station file: every route of `api::ROUTES` that
//! takes a body gets mutated JSON from a logged-in manager. The body types are private to the
//! API, so the router is the decoder under test: extractor, handler and error body together.
//!
//! Input: one byte choosing the route (modulo their number), then the body. Routes whose
//! handler hashes a PIN cost more per input (Argon2, by design); the station's own throttle on
//! wrong PINs (`pin_attempts_too_soon`) keeps that share small.
//!
//! Any 5xx fails the input, except the documented 503 `pump_unavailable` of the pump routes
//! (this station has no pump line).

use axum::Router;
use axum::http::Method;
use jiff::Timestamp;
use serde_json::{Value, json};
use station_core::{
    Millilitres, NewUser, PriceItem, PriceVersion, Role, Station, StationSetup, TankNo, Unit,
    UnitPrice,
};
use station_runtime::api::{self, AllowedHosts, ApiState, ROUTES, SessionPolicy};
use station_runtime::live::Live;

use super::http::{Http, database_folder, fill_path};
use crate::{Outcomes, Shape, Target, Violation};

/// A route that takes a body.
#[derive(Debug)]
struct BodyRoute {
    method: Method,
    template: &'static str,
    example: &'static str,
}

/// Every route of [`ROUTES`] with an example body.
fn body_routes() -> Vec<BodyRoute> {
    ROUTES
        .iter()
        .filter_map(|route| {
            let example = route.body?;
            let method = route.method.to_ascii_uppercase().parse().ok()?;
            Some(BodyRoute {
                method,
                template: route.path,
                example,
            })
        })
        .collect()
}

/// The station and its router, made on first use and again after a reset.
struct Running {
    router: Router,
    token: String,
    paths: Vec<String>,
    _dir: tempfile::TempDir,
}

/// The station API target.
pub struct StationApi {
    http: Http,
    routes: Vec<BodyRoute>,
    running: Option<Running>,
}

impl std::fmt::Debug for StationApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationApi")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl Default for StationApi {
    fn default() -> Self {
        StationApi {
            http: Http::new(),
            routes: body_routes(),
            running: None,
        }
    }
}

impl StationApi {
    /// The input that sends `body` to the route `template` (for regression vectors, which name
    /// the route rather than its position).
    ///
    /// # Panics
    /// If no route has that path.
    #[must_use]
    pub fn input(&self, template: &str, body: &str) -> Vec<u8> {
        let index = self
            .routes
            .iter()
            .position(|route| route.template == template)
            .unwrap_or_else(|| panic!("no route {template}"));
        let mut input = vec![u8::try_from(index).unwrap_or(0)];
        input.extend_from_slice(body.as_bytes());
        input
    }

    /// The `(method, path)` of every route fuzzed.
    #[must_use]
    pub fn routes(&self) -> Vec<(String, &'static str)> {
        self.routes
            .iter()
            .map(|route| (route.method.to_string(), route.template))
            .collect()
    }

    fn running(&mut self) -> &Running {
        if self.running.is_none() {
            self.running = Some(start(&self.http, &self.routes));
        }
        self.running
            .as_ref()
            .unwrap_or_else(|| unreachable!("started above"))
    }
}

/// More bodies for the routes whose example shows one of several shapes.
const MORE_EXAMPLES: &[(&str, &str)] = &[
    (
        "/api/sales",
        r#"{"lines":[{"product":"CD1001","volume_ml":30303,"tank":1},{"product":"SN2001","quantity":2}],"payment":{"method":"card","reference":"A-1"}}"#,
    ),
    (
        "/api/sales",
        r#"{"lines":[{"product":"GS1001","volume_ml":1}],"payment":{"method":"account","account":"ACC"}}"#,
    ),
    (
        "/api/pumps/{pump}/authorize",
        r#"{"preset":{"volume_ml":20000}}"#,
    ),
    ("/api/pumps/{pump}/authorize", r#"{}"#),
    ("/api/sales/{sale}/cancel", r#"{"reason":"wrong pump"}"#),
    (
        "/api/orders",
        r#"{"product":"CD1001","volume_ml":8000000,"wanted_date":"2099-11-27"}"#,
    ),
    (
        "/api/stock/adjust",
        r#"{"tank":1,"delta_ml":1000000,"reason":"dip"}"#,
    ),
    (
        "/api/users",
        r#"{"user":"choi","name":"Choi","role":"manager","pin":"13579"}"#,
    ),
    ("/api/session", r#"{"user":"nobody","pin":"0000"}"#),
];

impl Target for StationApi {
    fn name(&self) -> &'static str {
        "station.api_bodies"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds = Vec::new();
        for (index, route) in self.routes.iter().enumerate() {
            let header = u8::try_from(index).unwrap_or(0);
            let mut bodies = vec![route.example];
            bodies.extend(
                MORE_EXAMPLES
                    .iter()
                    .filter(|(path, _)| *path == route.template)
                    .map(|(_, body)| *body),
            );
            for body in bodies {
                let mut seed = vec![header];
                seed.extend_from_slice(body.as_bytes());
                seeds.push(seed);
            }
        }
        // The seeds are fed first, in this order: closing the shift goes last, so that the
        // example sale is settled in the shift the station was started with.
        let close = self
            .routes
            .iter()
            .position(|route| route.template == "/api/shift/close")
            .and_then(|index| u8::try_from(index).ok());
        seeds.sort_by_key(|seed| seed.first().copied() == close);
        seeds
    }

    fn shape(&self) -> Shape {
        Shape::Json { header: 1 }
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let (header, body) = input.split_first().unwrap_or((&0, &[]));
        let index = usize::from(*header) % self.routes.len();
        let running = self.running();
        let (router, token, path) = (
            running.router.clone(),
            running.token.clone(),
            running.paths[index].clone(),
        );
        let route = &self.routes[index];
        let answer = self
            .http
            .call(&router, &route.method, &path, Some(&token), body.to_vec());
        let code = answer.error_code().unwrap_or(if answer.status < 300 {
            "ok"
        } else {
            "no_error_code"
        });
        outcomes.record(format!(
            "{} {} {} {code}",
            route.method, route.template, answer.status
        ));
        let documented = answer.status == 503
            && code == "pump_unavailable"
            && route.template.starts_with("/api/pumps/");
        if answer.status >= 500 && !documented {
            return Err(Violation(format!(
                "{} {path} answered {}: {}",
                route.method,
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

/// A station as the API tests make one (manager park/9999, cashier kim/1234, diesel, gasoline
/// and water on sale, two tanks), its router, a manager's session, an open shift, a sale, an
/// account and an order for the routes that name one.
fn start(http: &Http, routes: &[BodyRoute]) -> Running {
    let dir = database_folder();
    let db = dir.path().join("station.db");
    create_station(&db);
    let state = ApiState::open(&db, Live::new(), None, SessionPolicy::default())
        .unwrap_or_else(|e| panic!("the fuzzed station opens: {e}"));
    let hosts = AllowedHosts::new(std::net::SocketAddr::from(([127, 0, 0, 1], 7070)), &[]);
    let router = api::router(state, None, hosts);
    let post = |path: &str, token: Option<&str>, body: Value| {
        http.call(
            &router,
            &Method::POST,
            path,
            token,
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    };
    let login = post("/api/session", None, json!({"user": "park", "pin": "9999"}));
    let token = login
        .json
        .as_ref()
        .and_then(|body| body["token"].as_str())
        .unwrap_or_else(|| panic!("the manager logs in: {login:?}"))
        .to_owned();
    post(
        "/api/shift/open",
        Some(&token),
        json!({"opening_float_won": 100_000}),
    );
    let sale = post(
        "/api/sales",
        Some(&token),
        json!({"lines": [{"product": "CD1001", "volume_ml": 40_000}],
               "payment": {"method": "cash", "tendered_won": 70_000}}),
    );
    let account = post(
        "/api/accounts",
        Some(&token),
        json!({"name": "Hanil Logistics", "credit_limit_won": 5_000_000}),
    );
    let order = post(
        "/api/orders",
        Some(&token),
        json!({"product": "CD1001", "volume_ml": 8_000_000, "wanted_date": "2099-11-27"}),
    );
    let id = |answer: &super::http::Answer, field: &str| {
        answer
            .json
            .as_ref()
            .and_then(|body| body[field].as_str())
            .map_or_else(|| "missing".to_owned(), str::to_owned)
    };
    let values = [
        ("sale", id(&sale, "sale")),
        ("account", id(&account, "account")),
        ("order", id(&order, "order")),
        ("pump", "50".to_owned()),
        ("fueling", "01a20af7-a00a-79b2-9f55-aad57714dc91".to_owned()),
        (
            "shipment",
            "01a20af7-a00a-7fc2-b828-ea472346cc13".to_owned(),
        ),
        ("user", "kim".to_owned()),
    ];
    let paths = routes
        .iter()
        .map(|route| fill_path(route.template, &values))
        .collect();
    Running {
        router,
        token,
        paths,
        _dir: dir,
    }
}

fn create_station(db: &std::path::Path) {
    let now = Timestamp::now();
    let parse_failed = |what: &str| -> ! { panic!("{what} parses") };
    let user = |id: &str| id.parse().unwrap_or_else(|_| parse_failed(id));
    let pin = |digits: &str| digits.parse().unwrap_or_else(|_| parse_failed("PIN"));
    let mut station = Station::create(
        db,
        StationSetup {
            station_id: "ST0001".parse().unwrap_or_else(|_| parse_failed("ST0001")),
            name: "Gangnam".into(),
            time_zone: "Asia/Seoul".into(),
            first_manager: NewUser {
                user_id: user("park"),
                name: "Park".into(),
                role: Role::Manager,
                pin: pin("9999"),
            },
        },
        now,
    )
    .unwrap_or_else(|e| panic!("the fuzzed station is created: {e}"));
    let approval = station
        .approve_as_manager(&user("park"), &pin("9999"), "setting up", now)
        .unwrap_or_else(|e| panic!("the manager approves: {e}"));
    let item = |product: &str, name: &str, unit, price| PriceItem {
        product: product.parse().unwrap_or_else(|_| parse_failed(product)),
        name: name.into(),
        unit,
        unit_price: UnitPrice(price),
    };
    station
        .add_user(
            &approval,
            NewUser {
                user_id: user("kim"),
                name: "Kim".into(),
                role: Role::Cashier,
                pin: pin("1234"),
            },
            now,
        )
        .unwrap_or_else(|e| panic!("the cashier is added: {e}"));
    station
        .receive_price_version(
            PriceVersion {
                version: 1,
                effective_at: now,
                items: vec![
                    item("CD1001", "Diesel", Unit::Litre, 1650),
                    item("GS1001", "Gasoline", Unit::Litre, 1750),
                    item("SN2001", "Water 500ml", Unit::Piece, 1000),
                ],
            },
            now,
        )
        .unwrap_or_else(|e| panic!("the price list is received: {e}"));
    for (tank, product) in [(1, "CD1001"), (2, "GS1001")] {
        station
            .register_tank(
                &approval,
                TankNo::new(tank).unwrap_or_else(|_| parse_failed("tank")),
                &product.parse().unwrap_or_else(|_| parse_failed(product)),
                Millilitres(30_000_000),
                now,
            )
            .unwrap_or_else(|e| panic!("tank {tank} registers: {e}"));
    }
}
