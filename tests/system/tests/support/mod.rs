//! The project's own processes for the sync tests: the hub, station runtimes and the `station`
//! tool, each started from the workspace's build output and talked to as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use system_tests::{ChildGuard, Mosquitto, free_port, wait_until};
use tempfile::TempDir;

pub const ADMIN_PASSWORD: &str = "hq-password-1";
/// How long one awaited step of a sync test may take.
pub const STEP: Duration = Duration::from_secs(60);

/// A binary built from this workspace (`cargo test --workspace` builds them all first).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace's binaries first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

pub fn deadline() -> Instant {
    Instant::now() + STEP
}

/// Reads the first line a child prints: its "I am listening" line.
fn first_line(child: &mut ChildGuard, what: &str) -> Value {
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what} did not start ({e}): {line:?}"))
}

/// Where the hub gets its broker.
#[derive(Debug, Clone)]
pub enum BrokerChoice {
    /// The hub starts its embedded broker on this port.
    Embedded(u16),
    /// An external broker on this port, no credentials.
    External(u16),
    /// An external broker on this loopback port, with the hub's password.
    Secured(u16, String),
}

/// A hub process with its database, restartable.
pub struct Hub {
    dir: TempDir,
    broker: BrokerChoice,
    http_port: u16,
    process: Option<ChildGuard>,
    http: reqwest::blocking::Client,
    token: Option<String>,
    /// More arguments for the next start (e.g. `--read-schema 1`).
    pub extra_args: Vec<String>,
}

impl Hub {
    pub fn start(broker: BrokerChoice) -> Hub {
        let mut hub = Hub {
            dir: tempfile::tempdir().unwrap(),
            broker,
            http_port: free_port(),
            process: None,
            // Longer than any step: HQ publishing a large price version to many stations (the
            // fan-out bench) answers only once every station's copy is written.
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap(),
            token: None,
            extra_args: Vec::new(),
        };
        hub.restart();
        hub
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("hub.db")
    }

    pub fn broker_port(&self) -> u16 {
        match self.broker {
            BrokerChoice::Embedded(port)
            | BrokerChoice::External(port)
            | BrokerChoice::Secured(port, _) => port,
        }
    }

    /// Starts the process (again), on the same database and ports.
    pub fn restart(&mut self) {
        assert!(self.process.is_none(), "the hub is already running");
        let mut command = Command::new(binary("hub"));
        command
            .arg("--db")
            .arg(self.dir.path().join("hub.db"))
            .args(["--http", &format!("127.0.0.1:{}", self.http_port)])
            .args([
                "--admin-password",
                ADMIN_PASSWORD,
                "--resend-after-secs",
                "1",
            ])
            .args(&self.extra_args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match self.broker {
            BrokerChoice::Embedded(port) => {
                command.args(["--embedded-broker", &format!("127.0.0.1:{port}")])
            }
            BrokerChoice::External(port) => {
                command.args(["--broker", &format!("127.0.0.1:{port}")])
            }
            BrokerChoice::Secured(port, ref password) => command
                .args(["--broker", &format!("127.0.0.1:{port}")])
                .args(["--mqtt-password", password.as_str()]),
        };
        let mut child = ChildGuard::new(command.spawn().unwrap());
        first_line(&mut child, "the hub");
        self.process = Some(child);
        if self.token.is_none() {
            let login = self.post_open(
                "/api/login",
                &json!({"username": "admin", "password": ADMIN_PASSWORD}),
            );
            self.token = Some(login["token"].as_str().unwrap().to_owned());
        }
    }

    /// Stops the hub hard (SIGKILL), as a crash or a pulled plug would.
    pub fn kill(&mut self) {
        let mut process = self.process.take().expect("the hub is running");
        process.kill_and_wait().unwrap();
    }

    /// Where the hub's API listens, e.g. `http://127.0.0.1:8080`.
    pub fn base_url(&self) -> String {
        self.url("")
    }

    /// The administrator's session token.
    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    fn post_open(&self, path: &str, body: &Value) -> Value {
        let response = self.http.post(self.url(path)).json(body).send().unwrap();
        let status = response.status();
        let body: Value = response.json().unwrap();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(self.token.as_deref().unwrap())
            .send()
            .unwrap();
        let status = response.status();
        let body: Value = response.json().unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    pub fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .bearer_auth(self.token.as_deref().unwrap())
            .send()
            .unwrap()
            .text()
            .unwrap()
    }

    pub fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .request(method, self.url(path))
            .bearer_auth(self.token.as_deref().unwrap())
            .json(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    pub fn post(&self, path: &str, body: &Value) -> Value {
        let (status, body) = self.send(reqwest::Method::POST, path, body);
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    pub fn put(&self, path: &str, body: &Value) -> Value {
        let (status, body) = self.send(reqwest::Method::PUT, path, body);
        assert!((200..300).contains(&status), "PUT {path}: {status} {body}");
        body
    }

    /// Products CD1001 (diesel, 1,650 won/L) and SN2001 (water, 1,000 won) at price version 1,
    /// and the given stations registered.
    pub fn set_up(&self, stations: &[&str]) {
        self.put(
            "/api/products/CD1001",
            &json!({"name": "Diesel", "unit": "litre"}),
        );
        self.put(
            "/api/products/SN2001",
            &json!({"name": "Water", "unit": "piece"}),
        );
        self.post(
            "/api/prices",
            &json!({"prices": [{"product": "CD1001", "unit_price_won": 1650}, {"product": "SN2001", "unit_price_won": 1000}]}),
        );
        for station in stations {
            self.post(
                "/api/stations",
                &json!({"station": station, "name": format!("Station {station}"), "operating_type": "directly_managed"}),
            );
        }
    }

    pub fn status_of(&self, station: &str) -> Value {
        let statuses = self.get("/api/stations/status");
        statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["station"] == station)
            .cloned()
            .unwrap()
    }

    pub fn wait_for(&self, what: &str, mut condition: impl FnMut(&Hub) -> bool) {
        wait_until(deadline(), what, || condition(self)).unwrap();
    }
}

/// A station: its database, the `station` tool over it, and its runtime process.
pub struct Station {
    dir: TempDir,
    pub id: String,
    runtime: Option<ChildGuard>,
    /// How the runtime reaches the broker; plain loopback unless set.
    pub broker_args: Vec<String>,
    /// Where the running runtime's POS API listens.
    pub api: Option<String>,
    /// More arguments for the runtime's next start (e.g. `--read-schema 1`).
    pub runtime_args: Vec<String>,
}

impl Station {
    /// A station database with a manager (park/9999), a cashier (kim/1234) and diesel tank 1
    /// (30,000 L); its runtime not started.
    pub fn new(id: &str, broker_port: u16) -> Station {
        let station = Station {
            dir: tempfile::tempdir().unwrap(),
            id: id.to_owned(),
            runtime: None,
            api: None,
            runtime_args: Vec::new(),
            broker_args: vec!["--broker".into(), format!("127.0.0.1:{broker_port}")],
        };
        station.run(&format!(
            "--manager park --manager-pin 9999 init --station {id} --name Station-{id} --manager-name Park"
        ));
        station.manager("user add --id kim --name Kim --role cashier --new-pin 1234");
        station
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("station.db")
    }

    /// Runs the `station` tool; panics unless it succeeds.
    pub fn run(&self, line: &str) -> Value {
        let (status, stdout, stderr) = self.try_run(line);
        assert_eq!(status, 0, "station {line}: {stderr}");
        stdout
    }

    pub fn try_run(&self, line: &str) -> (i32, Value, String) {
        let output = Command::new(binary("station"))
            .arg("--db")
            .arg(self.db())
            .args(line.split_whitespace())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
        (
            output.status.code().unwrap_or(-1),
            value,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub fn manager(&self, line: &str) -> Value {
        self.run(&format!("--user park --pin 9999 {line}"))
    }

    pub fn cashier(&self, line: &str) -> Value {
        self.run(&format!("--user kim --pin 1234 {line}"))
    }

    /// Settles `count` one-line sales of 2.5 L of diesel by card with `station simulate sales`;
    /// returns their sale ids.
    pub fn settle_sales(&self, count: u64) -> Vec<String> {
        let output = Command::new(binary("station"))
            .arg("--db")
            .arg(self.db())
            .args(["--user", "kim", "--pin", "1234", "simulate", "sales"])
            .args([
                "--count",
                &count.to_string(),
                "--product",
                "CD1001",
                "--litres",
                "2.5",
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["sale"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    pub fn start_runtime(&mut self) {
        assert!(self.runtime.is_none(), "the runtime is already running");
        let mut child = ChildGuard::new(
            Command::new(binary("station-runtime"))
                .arg("--db")
                .arg(self.db())
                .args(&self.broker_args)
                .args([
                    "--resend-after-secs",
                    "1",
                    "--poll-ms",
                    "20",
                    "--api",
                    "127.0.0.1:0",
                ])
                .args(&self.runtime_args)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let started = first_line(&mut child, "the station runtime");
        self.api = started["api"].as_str().map(str::to_owned);
        self.runtime = Some(child);
    }

    /// Calls the runtime's POS API as `user` (logging in with `pin` first).
    pub fn pos_get(&self, user: &str, pin: &str, path: &str) -> Value {
        let api = self.api.as_deref().expect("the runtime is running");
        let http = reqwest::blocking::Client::new();
        let session: Value = http
            .post(format!("http://{api}/api/session"))
            .json(&serde_json::json!({"user": user, "pin": pin}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = session["token"].as_str().expect("logged in");
        http.get(format!("http://{api}{path}"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// Kills the runtime with SIGKILL.
    pub fn kill_runtime(&mut self) {
        let mut runtime = self.runtime.take().expect("the runtime is running");
        runtime.kill_and_wait().unwrap();
    }

    /// Events waiting for HQ's acknowledgement.
    pub fn backlog(&self) -> u64 {
        self.run("outbox list --limit 1")["backlog"]
            .as_u64()
            .unwrap()
    }

    /// The station's sales summary, in HQ's shape, for comparison.
    pub fn sales(&self) -> Vec<Value> {
        let rows = self.run("sales summary");
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                json!({
                    "station": self.id,
                    "business_day": r["business_day"],
                    "product": r["product"],
                    "sales_count": r["sales_count"],
                    "sales_volume_ml": r["sales_volume_ml"],
                    "sales_quantity": r["sales_quantity"],
                    "sales_amount_won": r["sales_amount_won"],
                    "canceled_count": r["canceled_count"],
                    "canceled_volume_ml": r["canceled_volume_ml"],
                    "canceled_quantity": r["canceled_quantity"],
                    "canceled_amount_won": r["canceled_amount_won"],
                    "net_amount_won": r["net_amount_won"],
                })
            })
            .collect()
    }

    /// The station's book stock per tank, in HQ's shape.
    pub fn stock(&self) -> Vec<Value> {
        let stock = self.run("stock show");
        stock["tanks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                json!({
                    "station": self.id,
                    "tank": t["tank"],
                    "product": t["product"],
                    "capacity_ml": t["capacity_ml"],
                    "book_stock_ml": t["book_stock_ml"],
                })
            })
            .collect()
    }

    pub fn wait_for(&self, what: &str, mut condition: impl FnMut(&Station) -> bool) {
        wait_until(deadline(), what, || condition(self)).unwrap();
    }

    /// Waits until diesel (CD1001) costs `won` per litre at the station.
    pub fn wait_for_diesel_price(&self, won: i64) {
        self.wait_for(&format!("{} sells diesel at {won} won/L", self.id), |s| {
            s.try_run("price show --product CD1001").1["unit_price_won"] == won
        });
    }
}

/// Registers the station at HQ (with diesel at 1,650 won/L), starts its runtime, registers
/// diesel tank 1 and opens a cashier's shift.
pub fn ready_to_sell(hub: &Hub, station: &mut Station) {
    hub.set_up(&[&station.id]);
    station.start_runtime();
    station.wait_for_diesel_price(1650);
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    station.cashier("shift open --float 0");
}

/// A broker, a hub on it and ST0001 ready to sell ([`ready_to_sell`]).
pub fn one_station_network() -> (Mosquitto, Hub, Station) {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let mut station = Station::new("ST0001", broker.port());
    ready_to_sell(&hub, &mut station);
    (broker, hub, station)
}

/// The value of a counter or gauge in the hub's `/metrics` text (0 when absent).
pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

/// HQ's and the station's read models agree exactly, and nothing waits to be sent.
pub fn assert_in_step(hub: &Hub, station: &Station) {
    hub.wait_for(&format!("{} has sent everything", station.id), |_| {
        station.backlog() == 0
    });
    let hq_sales = hub.get(&format!("/api/sales?station={}", station.id));
    assert_eq!(
        hq_sales,
        Value::Array(station.sales()),
        "sales at HQ and at {}",
        station.id
    );
    let hq_stock = hub.get(&format!("/api/stock?station={}", station.id));
    assert_eq!(
        hq_stock,
        Value::Array(station.stock()),
        "stock at HQ and at {}",
        station.id
    );
    let outbox = station.run("outbox list --limit 1");
    let status = hub.status_of(&station.id);
    assert_eq!(
        status["events_applied_through"], outbox["acknowledged_through"],
        "HQ applied exactly what {} sent",
        station.id
    );
}

/// A bare MQTT client for injecting and observing messages, as a misbehaving network or a
/// forged station would.
pub struct Probe {
    runtime: tokio::runtime::Runtime,
    link: sync_mqtt::Link,
    connected: bool,
    pub received: Vec<(String, Vec<u8>)>,
}

impl Probe {
    pub fn connect(port: u16, client_id: &str) -> Probe {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let link = runtime.block_on(async {
            sync_mqtt::Link::start(sync_mqtt::LinkConfig::new("127.0.0.1", port, client_id))
                .unwrap()
        });
        let mut probe = Probe {
            runtime,
            link,
            connected: false,
            received: Vec::new(),
        };
        probe.wait_until("the probe is connected", |p| p.connected);
        probe
    }

    pub fn subscribe(&mut self, filter: &str) {
        self.runtime.block_on(self.link.subscribe(filter)).unwrap();
    }

    pub fn publish(&mut self, topic: &str, payload: &[u8]) {
        self.runtime
            .block_on(self.link.publish(topic, payload.to_vec(), false))
            .unwrap();
    }

    /// Takes events from the link until `condition` holds.
    pub fn wait_until(&mut self, what: &str, mut condition: impl FnMut(&Probe) -> bool) {
        let deadline = self
            .runtime
            .block_on(async { tokio::time::Instant::now() + STEP });
        while !condition(self) {
            let link = &mut self.link;
            let event = self
                .runtime
                .block_on(async { tokio::time::timeout_at(deadline, link.next()).await })
                .unwrap_or_else(|_| panic!("timed out waiting until {what}"))
                .expect("the probe's link stopped");
            match event {
                sync_mqtt::LinkEvent::Connected => self.connected = true,
                sync_mqtt::LinkEvent::Message { topic, payload } => {
                    self.received.push((topic, payload))
                }
                _ => {}
            }
        }
    }

    pub fn received_on(&self, topic: &str) -> Vec<Vec<u8>> {
        self.received
            .iter()
            .filter(|(t, _)| t == topic)
            .map(|(_, p)| p.clone())
            .collect()
    }
}
