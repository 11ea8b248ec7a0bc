//! A station for the API tests: a real station file, the whole runtime started in-process on a
//! free loopback port, and, when asked, simulated DART pumps on a real pseudo-terminal.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use pump_controller::{FlowRate, PumpSimulator};
use reqwest::blocking::Client;
use serde_json::{Value, json};
use serialport::{SerialPort, TTYPort};
use station_core::{
    Millilitres, NewUser, PriceItem, PriceVersion, Role, Station, StationSetup, TankNo, Unit,
    UnitPrice,
};
use station_runtime::app::{self, Settings};

/// Simulated pumps 50 and 51 (three nozzles each) on the slave end of a pty.
pub struct Pumps {
    pub simulator: Arc<Mutex<PumpSimulator>>,
    pub path: String,
    running: Arc<AtomicBool>,
    _slave: TTYPort,
}

impl Pumps {
    /// 600 L/min, so a test's filling takes a fraction of a second.
    pub fn start() -> Pumps {
        let flow = FlowRate::centilitres_per_minute(60_000).unwrap();
        let simulator = Arc::new(Mutex::new(
            PumpSimulator::new(PumpSimulator::demo_pumps(2, flow)).unwrap(),
        ));
        let (mut master, slave) = TTYPort::pair().unwrap();
        let path = slave.name().unwrap();
        master.set_timeout(Duration::from_millis(20)).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let serving = (simulator.clone(), running.clone());
        std::thread::spawn(move || {
            let (simulator, running) = serving;
            // The loop ends when the test unplugs the line (or drops it); the master end closes.
            let _ = pump_controller::pty::serve(&mut master, &simulator, &running);
        });
        Pumps {
            simulator,
            path,
            running,
            _slave: slave,
        }
    }

    /// Pulls the line's plug: the simulator's end of the pty closes and nothing answers.
    pub fn unplug(&self) {
        self.running.store(false, Ordering::Relaxed);
    }

    /// A control line, as `pump-sim` takes them: `lift 50 1`, `hang 50`.
    pub fn control(&self, line: &str) {
        self.simulator
            .lock()
            .unwrap()
            .apply_control(line, Instant::now())
            .unwrap();
    }
}

impl Drop for Pumps {
    fn drop(&mut self) {
        self.unplug();
    }
}

/// A station with its runtime (API on a free port).
pub struct Api {
    pub base: String,
    pub client: Client,
    pub db: std::path::PathBuf,
    runtime: Option<app::Runtime>,
    tokio: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// The station's (Seoul's) date `days` after today, as the API writes dates: the runtime reads
/// the real clock, so dates in requests are chosen relative to it.
pub fn seoul_date_in(days: i64) -> String {
    Timestamp::now()
        .in_tz("Asia/Seoul")
        .unwrap()
        .date()
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// A station: manager park/9999, cashier kim/1234; diesel CD1001 at 1,650 won/L in tank 1,
/// gasoline GS1001 at 1,750 won/L in tank 2, water SN2001 at 1,000 won a piece.
pub fn create_station(db: &std::path::Path) {
    let now = Timestamp::now();
    let mut station = Station::create(
        db,
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
        .receive_price_version(price_version(1, now, 1650, 1750), now)
        .unwrap();
    for (tank, product) in [(1, "CD1001"), (2, "GS1001")] {
        station
            .register_tank(
                &approval,
                TankNo::new(tank).unwrap(),
                &product.parse().unwrap(),
                Millilitres(30_000_000),
                now,
            )
            .unwrap();
    }
}

/// A price version in force from `at`: diesel and gasoline at these prices, water at 1,000 won.
pub fn price_version(version: u64, at: Timestamp, diesel: i64, gasoline: i64) -> PriceVersion {
    let item = |product: &str, name: &str, unit, price| PriceItem {
        product: product.parse().unwrap(),
        name: name.into(),
        unit,
        unit_price: UnitPrice(price),
    };
    PriceVersion {
        version,
        effective_at: at,
        items: vec![
            item("CD1001", "Diesel", Unit::Litre, diesel),
            item("GS1001", "Gasoline", Unit::Litre, gasoline),
            item("SN2001", "Water 500ml", Unit::Piece, 1000),
        ],
    }
}

/// Settings for a station at `db`: HQ unreachable (a normal state), API on a free port.
pub fn settings(db: &std::path::Path) -> Settings {
    Settings {
        db: db.to_owned(),
        broker: "127.0.0.1:1".into(),
        broker_ca: None,
        mqtt_password: None,
        printer: None,
        business_number: String::new(),
        address: String::new(),
        gauge: None,
        gauge_poll_ms: 60_000,
        pump_line: None,
        nozzles: Vec::new(),
        api: "127.0.0.1:0".parse().unwrap(),
        allow_lan: false,
        ui_dir: None,
        resend_after_secs: 3,
        poll_ms: 50,
    }
}

impl Api {
    pub fn start() -> Api {
        Api::start_with(|_| {})
    }

    /// With the pumps on their line: nozzle 1 of each pump draws diesel (tank 1), nozzle 2
    /// gasoline (tank 2).
    pub fn with_pumps(pumps: &Pumps) -> Api {
        let path = pumps.path.clone();
        Api::start_with(move |s| {
            s.pump_line = Some(path);
            s.nozzles = ["50/1=1", "50/2=2", "51/1=1", "51/2=2"]
                .map(String::from)
                .to_vec();
        })
    }

    pub fn start_with(adjust: impl FnOnce(&mut Settings)) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("station.db");
        create_station(&db);
        let mut settings = settings(&db);
        adjust(&mut settings);
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let runtime = tokio.block_on(app::start(settings)).unwrap();
        Api {
            base: format!("http://{}", runtime.api),
            client: Client::new(),
            db,
            runtime: Some(runtime),
            tokio,
            _dir: dir,
        }
    }

    pub fn call(
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
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(token), body)
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), Value::Null)
    }

    pub fn login(&self, user: &str, pin: &str) -> String {
        let (status, body) = self.call(
            reqwest::Method::POST,
            "/api/session",
            None,
            json!({"user": user, "pin": pin}),
        );
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Polls `path` until `done` holds for its body (10 s at most).
    pub fn wait_for(&self, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.get(path, token);
            if status == 200 && done(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}; last: {status} {body}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            let _ = self.tokio.block_on(runtime.shutdown());
        }
    }
}

pub fn code(reply: &(u16, Value)) -> &str {
    reply.1["error"]["code"].as_str().unwrap_or("")
}

/// The pump's entry in a list of pumps.
pub fn pump<'a>(pumps: &'a Value, address: &str) -> &'a Value {
    pumps
        .as_array()
        .and_then(|list| list.iter().find(|p| p["pump"] == address))
        .unwrap_or(&Value::Null)
}
