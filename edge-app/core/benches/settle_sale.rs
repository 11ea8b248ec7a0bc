//! Settling a one-line cash sale (sale, line, stock flow, stock summary, sales summary and outbox
//! event in one durable transaction) against the floor under it: a bare durable one-row insert
//! into SQLite with the same settings (WAL, `synchronous=FULL`) in the same folder on the same
//! disk. Both are timed in the same run, in alternating rounds so that neither gets a quieter
//! disk than the other.
//!
//! Run: `cargo bench -p station-core --bench settle_sale` (optionally `-- SALES_PER_ROUND ROUNDS`).
//! Goals (issue 2): p99 of a sale within 3x the p99 of the bare insert; at least 1,000 sales/s.

#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::{Timestamp, ToSpan};
use station_core::*;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let per_round: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a folder beside the build output");

    let mut bare = BareInsert::new(&dir.path().join("bare.db"));
    let station_path = dir.path().join("station.db");
    let mut station = SaleBench::new(&station_path);
    // As in the edge runtime: a checkpointer on its own connection and thread, off the sale path.
    let checkpointer = Checkpointer::open(&station_path).expect("checkpointer");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let checkpointing = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                checkpointer.checkpoint_once().expect("checkpoint");
                std::thread::sleep(CHECKPOINT_INTERVAL);
            }
        })
    };
    let (mut bare_times, mut sale_times) = (Vec::new(), Vec::new());
    let (mut bare_total, mut sale_total) = (Duration::ZERO, Duration::ZERO);
    // One warm-up round of each, not counted.
    bare.run(per_round / 10, &mut Vec::new());
    station.run(per_round / 10, &mut Vec::new());
    for _ in 0..rounds {
        bare_total += bare.run(per_round, &mut bare_times);
        sale_total += station.run(per_round, &mut sale_times);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    checkpointing.join().expect("checkpointer thread");
    let bare_stats = Stats::of(&mut bare_times, bare_total);
    let sale_stats = Stats::of(&mut sale_times, sale_total);
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "operation", "p50 µs", "p95 µs", "p99 µs", "max µs", "ops/s"
    );
    bare_stats.print("bare durable insert (1 row)");
    sale_stats.print("settle one-line sale");
    let ratio_percent = sale_stats.p99.as_nanos() * 100 / bare_stats.p99.as_nanos().max(1);
    println!();
    println!(
        "p99 sale / p99 bare insert = {}.{:02}x (goal ≤ 3x): {}",
        ratio_percent / 100,
        ratio_percent % 100,
        verdict(ratio_percent <= 300)
    );
    println!(
        "sales per second = {} (goal ≥ 1,000): {}",
        sale_stats.per_second,
        verdict(sale_stats.per_second >= 1_000)
    );
    println!(
        "{} sales and {} bare inserts, {rounds} alternating rounds",
        sale_times.len(),
        bare_times.len()
    );
}

/// How often the edge runtime checkpoints (the same constant it uses).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(20);

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

struct Stats {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
    per_second: u128,
}

impl Stats {
    fn of(times: &mut [Duration], total: Duration) -> Stats {
        times.sort_unstable();
        let at = |per_mille: usize| times[(times.len() * per_mille / 1000).min(times.len() - 1)];
        Stats {
            p50: at(500),
            p95: at(950),
            p99: at(990),
            max: times[times.len() - 1],
            per_second: times.len() as u128 * 1_000_000_000 / total.as_nanos().max(1),
        }
    }

    fn print(&self, name: &str) {
        let us = |d: Duration| d.as_micros();
        println!(
            "{name:<34} {:>9} {:>9} {:>9} {:>9} {:>10}",
            us(self.p50),
            us(self.p95),
            us(self.p99),
            us(self.max),
            self.per_second
        );
    }
}

struct BareInsert {
    conn: rusqlite::Connection,
}

impl BareInsert {
    fn new(path: &Path) -> BareInsert {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("WAL");
        conn.pragma_update(None, "synchronous", "FULL")
            .expect("FULL");
        conn.execute_batch("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .expect("table");
        BareInsert { conn }
    }

    fn run(&mut self, n: usize, times: &mut Vec<Duration>) -> Duration {
        let started = Instant::now();
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO rows (body) VALUES (?1)")
            .expect("prepare");
        for i in 0..n {
            let t = Instant::now();
            stmt.execute([format!("row {i}")]).expect("insert");
            times.push(t.elapsed());
        }
        started.elapsed()
    }
}

struct SaleBench {
    station: Station,
    cashier: Actor,
    now: Timestamp,
}

impl SaleBench {
    fn new(path: &Path) -> SaleBench {
        // The bench starts at the moment it runs; each sale moves its own clock on.
        let now = Timestamp::now();
        let manager_pin: Pin = "9999".parse().expect("pin");
        let setup = StationSetup {
            station_id: "ST0001".parse().expect("id"),
            name: "bench".into(),
            time_zone: DEFAULT_TIME_ZONE.into(),
            first_manager: NewUser {
                user_id: "park".parse().expect("id"),
                name: "park".into(),
                role: Role::Manager,
                pin: manager_pin.clone(),
            },
        };
        let mut station = Station::create(path, setup, now).expect("create");
        let manager = station
            .authenticate(&"park".parse().expect("id"), &manager_pin, now)
            .expect("login");
        let approval = manager.as_manager("set-up").expect("manager");
        let diesel: ProductId = "CD1001".parse().expect("product");
        let prices = PriceVersion {
            version: 1,
            effective_at: now,
            items: vec![PriceItem {
                product: diesel.clone(),
                name: "경유".into(),
                unit: Unit::Litre,
                unit_price: UnitPrice(1_650),
            }],
        };
        station.receive_price_version(prices, now).expect("prices");
        station
            .register_tank(
                &approval,
                TankNo::new(1).expect("tank"),
                &diesel,
                Millilitres::from_litres(50_000),
                now,
            )
            .expect("tank");
        station
            .open_shift(&manager, Won(100_000), now)
            .expect("shift");
        SaleBench {
            station,
            cashier: manager,
            now,
        }
    }

    fn run(&mut self, n: usize, times: &mut Vec<Duration>) -> Duration {
        let started = Instant::now();
        for _ in 0..n {
            self.now = self.now.checked_add(1.second()).expect("time");
            let request = SaleRequest {
                lines: vec![SaleLineRequest {
                    product: "CD1001".parse().expect("product"),
                    measure: Measure::Volume(Millilitres(30_000)),
                    tank: None,
                    pricing: LinePricing::PriceList,
                }],
                payment: PaymentRequest::Cash {
                    tendered: Won(50_000),
                },
                over_limit: None,
            };
            let t = Instant::now();
            self.station
                .settle_sale(&self.cashier, request, self.now)
                .expect("sale");
            times.push(t.elapsed());
        }
        started.elapsed()
    }
}
