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
    /// The line's path: a link to the pty in use, so a line plugged back is at the same path.
    pub path: String,
    line: Mutex<PumpPty>,
    _dir: tempfile::TempDir,
}

/// One pty pair served by the simulator, until unplugged.
struct PumpPty {
    running: Arc<AtomicBool>,
    slave: TTYPort,
}

impl PumpPty {
    fn serve(simulator: &Arc<Mutex<PumpSimulator>>) -> PumpPty {
        let (mut master, slave) = TTYPort::pair().unwrap();
        master.set_timeout(Duration::from_millis(20)).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let serving = (simulator.clone(), running.clone());
        std::thread::spawn(move || {
            let (simulator, running) = serving;
            // The loop ends when the test unplugs the line (or drops it); the master end closes.
            let _ = pump_controller::pty::serve(&mut master, &simulator, &running);
        });
        PumpPty { running, slave }
    }
}

impl Pumps {
    /// 600 L/min, so a test's filling takes a fraction of a second.
    pub fn start() -> Pumps {
        let flow = FlowRate::centilitres_per_minute(60_000).unwrap();
        let simulator = Arc::new(Mutex::new(
            PumpSimulator::new(PumpSimulator::demo_pumps(2, flow)).unwrap(),
        ));
        let line = PumpPty::serve(&simulator);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pump-line");
        std::os::unix::fs::symlink(line.slave.name().unwrap(), &path).unwrap();
        Pumps {
            simulator,
            path: path.to_str().unwrap().to_owned(),
            line: Mutex::new(line),
            _dir: dir,
        }
    }

    /// Pulls the line's plug: the simulator's end of the pty closes and nothing answers.
    pub fn unplug(&self) {
        self.line
            .lock()
            .unwrap()
            .running
            .store(false, Ordering::Relaxed);
    }

    /// Plugs the line back in: a new pty, at the same path; the pumps are as they were.
    pub fn plug(&self) {
        let mut line = self.line.lock().unwrap();
        line.running.store(false, Ordering::Relaxed);
        let new = PumpPty::serve(&self.simulator);
        let link = format!("{}.new", self.path);
        std::os::unix::fs::symlink(new.slave.name().unwrap(), &link).unwrap();
        std::fs::rename(&link, &self.path).unwrap();
        *line = new;
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
    settings: Settings,
    _dir: tempfile::TempDir,
}

/// The TLS provider of the tests' HTTPS clients (ring, as the runtime's own): needed before any
/// client is built, since the tests' `reqwest` speaks HTTPS.
pub fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
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
            now,
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
        gauge_volume_unit: None,
        pump_line: None,
        nozzles: Vec::new(),
        api: "127.0.0.1:0".parse().unwrap(),
        allow_lan: false,
        tls_cert: None,
        tls_key: None,
        lan_names: Vec::new(),
        session_idle_secs: 30 * 60,
        session_max_age_secs: 12 * 60 * 60,
        ui_dir: None,
        resend_after_secs: 3,
        poll_ms: 50,
        read_schema: None,
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
        use_ring_for_tls();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("station.db");
        create_station(&db);
        let mut settings = settings(&db);
        adjust(&mut settings);
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let runtime = tokio.block_on(app::start(settings.clone())).unwrap();
        Api {
            base: format!("http://{}", runtime.api),
            client: Client::new(),
            db,
            runtime: Some(runtime),
            tokio,
            settings,
            _dir: dir,
        }
    }

    /// Stops the runtime, as a station PC shutting down would; the station file stays.
    pub fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            let _ = self.tokio.block_on(runtime.shutdown());
        }
    }

    /// Starts the runtime again on the same station file (a new API port; log in again).
    pub fn start_again(&mut self) {
        self.stop();
        let runtime = self
            .tokio
            .block_on(app::start(self.settings.clone()))
            .unwrap();
        self.base = format!("http://{}", runtime.api);
        self.runtime = Some(runtime);
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

/// The receipt printer simulator on a real pseudo-terminal, served in-process: what it printed
/// comes back as its JSON event lines, decoded from the bytes the runtime sent.
pub struct Printer {
    pub path: String,
    events: std::sync::mpsc::Receiver<Value>,
    control: std::io::PipeWriter,
}

/// Writes the simulator's event lines into a channel, one JSON value per line.
struct EventLines {
    sender: std::sync::mpsc::Sender<Value>,
    line: Vec<u8>,
}

impl std::io::Write for EventLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for &byte in bytes {
            if byte == b'\n' {
                let event = serde_json::from_slice(&self.line).unwrap();
                self.line.clear();
                // The test may be done listening; the simulator runs on until its control closes.
                let _ = self.sender.send(event);
            } else {
                self.line.push(byte);
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Printer {
    pub fn start() -> Printer {
        let (control_in, control) = std::io::pipe().unwrap();
        let (sender, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let lines = EventLines {
                sender,
                line: Vec::new(),
            };
            receipt_printer::simulator::run_on_pty(std::io::BufReader::new(control_in), lines)
                .unwrap();
        });
        let ready = events.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(ready["event"], "ready", "{ready}");
        Printer {
            path: ready["path"].as_str().unwrap().to_owned(),
            events,
            control,
        }
    }

    /// A control line (`paper-out on`, `cover-open off`), once the simulator applied it.
    pub fn control(&mut self, line: &str) {
        use std::io::Write;
        writeln!(self.control, "{line}").unwrap();
        let state = self.next_event();
        assert_eq!(state["event"], "state", "{state}");
    }

    /// The next receipt printed, as its text lines and QR payload; a job sent while the printer
    /// could not print (`discarded`) or a byte stream it could not read (`error`) fails the test.
    pub fn next_receipt(&self) -> (Vec<String>, String) {
        let event = self.next_event();
        assert_eq!(event["event"], "receipt", "{event}");
        let lines = event["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line.as_str().unwrap().to_owned())
            .collect();
        (lines, event["qr"].as_str().unwrap_or_default().to_owned())
    }

    fn next_event(&self) -> Value {
        self.events
            .recv_timeout(Duration::from_secs(10))
            .expect("the printer simulator reported nothing within 10 s")
    }
}

impl Api {
    /// With the receipt printer on its serial line, and a receipt header.
    pub fn with_printer(printer: &Printer) -> Api {
        let path = printer.path.clone();
        Api::start_with(move |s| {
            s.printer = Some(path);
            s.business_number = "123-45-67890".into();
            s.address = "서울특별시 강남구 테헤란로 1".into();
        })
    }
}
