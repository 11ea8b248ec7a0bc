//! Commission settlement as a process of its own beside the hub, following HQ's event feed
//! through real processes (Mosquitto, the hub, station runtimes, the `station` tool and the
//! `settlement` binary): started late it catches up from the beginning, killed while it catches
//! up it counts every event once, its figures equal HQ's sales read model for the consignment
//! stations, only those are settled, and a station offline across a period close has its late
//! sales as adjustments on the next period.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::{BrokerChoice, Hub, Station, binary, deadline};
use system_tests::{ChildGuard, Mosquitto, free_port, seoul_date_in, wait_until};
use tempfile::TempDir;

/// A settlement process with its own database, restartable.
struct Settlement {
    dir: TempDir,
    hub: String,
    feed_token: String,
    port: u16,
    page_size: u32,
    process: Option<ChildGuard>,
    http: reqwest::blocking::Client,
}

impl Settlement {
    fn new(hub: &Hub, page_size: u32) -> Settlement {
        let consumer = hub.post(
            "/api/feed/consumers",
            &json!({"name": format!("settlement-{}", free_port())}),
        );
        Settlement {
            dir: tempfile::tempdir().unwrap(),
            hub: hub.base_url(),
            feed_token: consumer["token"].as_str().unwrap().to_owned(),
            port: free_port(),
            page_size,
            process: None,
            http: reqwest::blocking::Client::new(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("settlement.db")
    }

    fn start(&mut self) {
        assert!(self.process.is_none(), "settlement is already running");
        let mut child = ChildGuard::new(
            Command::new(binary("settlement"))
                .arg("--db")
                .arg(self.db())
                .args(["--hub", &self.hub])
                .args(["--http", &format!("127.0.0.1:{}", self.port)])
                .args(["--page-size", &self.page_size.to_string()])
                .env("SETTLEMENT_FEED_TOKEN", &self.feed_token)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert!(line.contains("http"), "settlement did not start: {line:?}");
        self.process = Some(child);
    }

    fn kill(&mut self) {
        self.process.take().unwrap().kill_and_wait().unwrap();
    }

    /// The feed position its database holds, read from the file as the process commits it.
    fn position(&self) -> u64 {
        if !self.db().exists() {
            return 0;
        }
        let Ok(conn) = rusqlite::Connection::open_with_flags(
            self.db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) else {
            return 0;
        };
        conn.query_row("SELECT after FROM feed_position", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_or(0, |after| u64::try_from(after).unwrap_or(0))
    }

    fn send(
        &self,
        hub: &Hub,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("http://127.0.0.1:{}{path}", self.port))
            .bearer_auth(hub.token());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    fn get(&self, hub: &Hub, path: &str) -> Value {
        let (status, body) = self.send(hub, reqwest::Method::GET, path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn post(&self, hub: &Hub, path: &str, body: &Value) -> Value {
        let (status, answer) = self.send(hub, reqwest::Method::POST, path, Some(body));
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        answer
    }

    fn wait_until_caught_up(&self, hub: &Hub) {
        wait_until(deadline(), "settlement caught up with the feed", || {
            self.position() >= feed_head(hub)
        })
        .unwrap();
    }
}

/// The feed's newest position, read as a consumer would.
fn feed_head(hub: &Hub) -> u64 {
    // The administrator reads the feed's head through a consumer of its own.
    static TOKEN: std::sync::OnceLock<std::sync::Mutex<BTreeMap<String, String>>> =
        std::sync::OnceLock::new();
    let tokens = TOKEN.get_or_init(Default::default);
    let token = tokens
        .lock()
        .unwrap()
        .entry(hub.base_url())
        .or_insert_with(|| {
            hub.post("/api/feed/consumers", &json!({"name": "test-probe"}))["token"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .clone();
    let page: Value = reqwest::blocking::Client::new()
        .get(format!("{}/api/feed?after=0&limit=1", hub.base_url()))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    page["head"].as_u64().unwrap()
}

/// Products, prices and the stations registered with their operating types.
fn set_up(hub: &Hub, stations: &[(&str, &str)]) {
    hub.put(
        "/api/products/CD1001",
        &json!({"name": "Diesel", "unit": "litre"}),
    );
    hub.put(
        "/api/products/SN2001",
        &json!({"name": "Water", "unit": "piece"}),
    );
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1650}, {"product": "SN2001", "unit_price_won": 1000}]}),
    );
    for (station, kind) in stations {
        hub.post(
            "/api/stations",
            &json!({"station": station, "name": format!("주유소 {station}"), "operating_type": kind}),
        );
    }
}

fn ready(station: &mut Station) {
    station.start_runtime();
    station.wait_for_diesel_price(1650);
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    station.cashier("shift open --float 0");
}

fn cancel(station: &Station, sale: &str) {
    station.run(&format!(
        "--user kim --pin 1234 --manager park --manager-pin 9999 sale cancel --sale {sale} --reason test"
    ));
}

/// HQ's net figures per station and product from its sales read model.
fn hq_totals(hub: &Hub, station: &str) -> BTreeMap<String, (i64, i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for row in hub
        .get(&format!("/api/sales?station={station}"))
        .as_array()
        .unwrap()
    {
        let n = |k: &str| row[k].as_i64().unwrap();
        let entry = out
            .entry(row["product"].as_str().unwrap().to_owned())
            .or_default();
        entry.0 += n("sales_count") - n("canceled_count");
        entry.1 += n("sales_volume_ml") - n("canceled_volume_ml");
        entry.2 += n("sales_amount_won") - n("canceled_amount_won");
    }
    out
}

fn settlement_totals(
    settlement: &Settlement,
    hub: &Hub,
    station: &str,
) -> BTreeMap<String, (i64, i64, i64)> {
    settlement
        .get(hub, "/api/totals")
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["station"] == station)
        .map(|t| {
            (
                t["product"].as_str().unwrap().to_owned(),
                (
                    t["net_count"].as_i64().unwrap(),
                    t["net_volume_ml"].as_i64().unwrap(),
                    t["net_amount_won"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

fn wait_for_hq(hub: &Hub, station: &Station) {
    hub.wait_for(&format!("HQ holds all of {}'s events", station.id), |_| {
        station.backlog() == 0
    });
}

#[test]
fn settlement_started_later_and_killed_while_catching_up_counts_every_event_once_and_equals_hq() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    set_up(
        &hub,
        &[
            ("ST0001", "consignment"),
            ("ST0002", "directly_managed"),
            ("ST0003", "franchise"),
        ],
    );
    let mut stations: Vec<Station> = ["ST0001", "ST0002", "ST0003"]
        .iter()
        .map(|id| Station::new(id, broker.port()))
        .collect();
    for station in &mut stations {
        ready(station);
    }
    // Sales and cancellations at every station, fuel and shop items, before settlement exists.
    let sold = stations[0].settle_sales(600);
    for sale in sold.iter().step_by(50) {
        cancel(&stations[0], sale);
    }
    let mixed = stations[0].cashier(
        "sale settle --line product=CD1001,litres=20 --line product=SN2001,qty=3 --card A-1",
    );
    let mixed_cancelled = stations[0].cashier(
        "sale settle --line product=CD1001,litres=7.5 --line product=SN2001,qty=1 --cash 20000",
    );
    cancel(&stations[0], mixed_cancelled["sale"].as_str().unwrap());
    assert!(mixed["sale"].is_string());
    for station in &stations[1..] {
        let sold = station.settle_sales(100);
        cancel(station, &sold[0]);
    }
    for station in &stations {
        wait_for_hq(&hub, station);
    }

    // Settlement starts from the beginning, a few events a page, and is killed again and
    // again while it catches up.
    let mut settlement = Settlement::new(&hub, 7);
    let head = feed_head(&hub);
    let mut kills_mid_way = 0;
    for _ in 0..5 {
        let before = settlement.position();
        settlement.start();
        wait_until(deadline(), "settlement moves on", || {
            settlement.position() > before
        })
        .unwrap();
        settlement.kill();
        if settlement.position() < head {
            kills_mid_way += 1;
        }
    }
    assert!(
        kills_mid_way >= 3,
        "killed only {kills_mid_way} times while catching up"
    );

    // More sales while it is down; then it runs to the end.
    stations[0].settle_sales(20);
    wait_for_hq(&hub, &stations[0]);
    settlement.start();
    settlement.wait_until_caught_up(&hub);

    let hq = hq_totals(&hub, "ST0001");
    assert_eq!(hq["CD1001"].0, 620 - 12 + 1);
    assert_eq!(settlement_totals(&settlement, &hub, "ST0001"), hq);
    // A directly managed or franchise station is never settled.
    for other in ["ST0002", "ST0003"] {
        assert!(settlement_totals(&settlement, &hub, other).is_empty());
    }
    let stations_settled = settlement.get(&hub, "/api/stations");
    assert_eq!(
        stations_settled,
        json!([{"station": "ST0001", "name": "주유소 ST0001"}])
    );

    // The open statement shows the same figures, with its terms.
    let today = seoul_date_in(0);
    let period = &today[..7];
    settlement.post(
        &hub,
        "/api/terms",
        &json!({"station": "ST0001", "effective_from": format!("{period}-01"),
                "fuel_rates": {"CD1001": 35}, "shop_rate_basis_points": 500,
                "monthly_fee_won": 300000, "loss_cost_won_per_litre": 1000}),
    );
    let statement = settlement.get(&hub, &format!("/api/statements/ST0001/{period}"));
    let diesel = &statement["fuel"][0];
    assert_eq!(diesel["volume_ml"], hq["CD1001"].1);
    assert_eq!(diesel["amount_won"], hq["CD1001"].2);
    assert_eq!(statement["shop"][0]["amount_won"], hq["SN2001"].2);
    let (status, refused) = settlement.send(
        &hub,
        reqwest::Method::GET,
        "/api/statements/ST0002/2026-01",
        None,
    );
    assert_eq!(
        (status, &refused["error"]["code"]),
        (404, &json!("not_consignment"))
    );
}

#[test]
fn a_station_offline_across_a_period_close_has_its_late_sales_as_adjustments_next_period() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    set_up(
        &hub,
        &[("ST0001", "consignment"), ("ST0002", "consignment")],
    );
    let mut online = Station::new("ST0001", broker.port());
    let mut offline = Station::new("ST0002", broker.port());
    ready(&mut online);
    ready(&mut offline);
    let mut settlement = Settlement::new(&hub, 2_000);
    settlement.start();
    wait_until(
        deadline(),
        "settlement knows the consignment stations",
        || {
            settlement
                .get(&hub, "/api/stations")
                .as_array()
                .unwrap()
                .len()
                == 2
        },
    )
    .unwrap();

    let today = seoul_date_in(0);
    let period = today[..7].to_owned();
    for station in ["ST0001", "ST0002"] {
        settlement.post(
            &hub,
            "/api/terms",
            &json!({"station": station, "effective_from": format!("{period}-01"),
                    "fuel_rates": {"CD1001": 40}, "monthly_fee_won": 100000}),
        );
    }
    online.settle_sales(10); // 25 L
    offline.settle_sales(4); // 10 L, reaching HQ
    wait_for_hq(&hub, &online);
    wait_for_hq(&hub, &offline);
    // ST0002 goes offline and sells on; its sales stay in its outbox.
    offline.kill_runtime();
    offline.settle_sales(6); // 15 L, of this period, not yet at HQ
    settlement.wait_until_caught_up(&hub);

    // HQ closes the period (before its end, on purpose: the test cannot wait for the month's
    // end). Without saying so, it is refused.
    let (status, refused) = settlement.send(
        &hub,
        reqwest::Method::POST,
        &format!("/api/periods/{period}/close"),
        Some(&json!({})),
    );
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "period_not_closable");
    let closed = settlement.post(
        &hub,
        &format!("/api/periods/{period}/close"),
        &json!({"before_end": true}),
    );
    assert_eq!(closed.as_array().unwrap().len(), 2);
    let closed_offline = settlement.get(&hub, &format!("/api/statements/ST0002/{period}"));
    assert_eq!(closed_offline["status"], "closed");
    assert_eq!(closed_offline["fuel"][0]["volume_ml"], 10_000);
    assert_eq!(closed_offline["total_owed_won"], 400 + 100_000);

    // ST0002 comes back: its sales of the closed period reach HQ and settlement.
    offline.start_runtime();
    wait_for_hq(&hub, &offline);
    settlement.wait_until_caught_up(&hub);

    assert_eq!(
        settlement.get(&hub, &format!("/api/statements/ST0002/{period}")),
        closed_offline,
        "a closed statement changed"
    );
    let next = next_period(&period);
    let adjusted = settlement.get(&hub, &format!("/api/statements/ST0002/{next}"));
    assert_eq!(adjusted["status"], "open");
    assert_eq!(
        adjusted["adjustments"],
        json!([{"business_day": today, "kind": "fuel", "product": "CD1001", "terms_version": 1,
                "sales_count": 6, "volume_ml": 15_000, "amount_won": 6 * 4_125, "commission_won": 600}])
    );
    assert_eq!(adjusted["total_owed_won"], 600 + 100_000);
    // The station that stayed online has nothing to adjust.
    let online_next = settlement.get(&hub, &format!("/api/statements/ST0001/{next}"));
    assert_eq!(online_next["adjustments"], json!([]));
    // Both sides agree on the whole: what HQ holds of ST0002 is what settlement counted.
    assert_eq!(
        settlement_totals(&settlement, &hub, "ST0002"),
        hq_totals(&hub, "ST0002")
    );

    // The statement as CSV and as a printable page in Korean.
    let csv = settlement
        .http
        .get(format!(
            "http://127.0.0.1:{}/api/statements/ST0002/{next}/csv?token={}",
            settlement.port,
            hub.token()
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        csv.contains(&format!(
            "ST0002,{next},adjustment_fuel,{today},CD1001,1,6,15000,24750,,600"
        )),
        "{csv}"
    );
    let print = settlement
        .http
        .get(format!(
            "http://127.0.0.1:{}/api/statements/ST0002/{next}/print",
            settlement.port
        ))
        .bearer_auth(hub.token())
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(print.contains("위탁수수료 정산서"), "{print}");
    assert!(print.contains(&format!("조정 ({today})")), "{print}");
    assert!(print.contains("100,600원"), "{print}");
}

fn next_period(period: &str) -> String {
    let (year, month) = period.split_once('-').unwrap();
    let (year, month): (i32, u32) = (year.parse().unwrap(), month.parse().unwrap());
    if month == 12 {
        format!("{:04}-01", year + 1)
    } else {
        format!("{year:04}-{:02}", month + 1)
    }
}
