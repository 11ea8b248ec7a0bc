//! HQ dashboard's API over a year of a whole network's history: 1,000 stations ×
//! 365 business days × 10 products in the hub's read models, served by the real router on a
//! real SQLite file, asked over HTTP as HQ staff's browser asks it.
//!
//! The hub's master data (an HQ user, products, stations, price versions) goes through the
//! hub's own operations. The year of history does not: it holds about 139 million sales, each
//! one event, some two hours at the hub's measured catch-up rate (about 20,000 events/s). The
//! read models are written with SQL on a second connection to the same file instead, as the
//! projections would leave them. The sales rows go through the real `rm_sales` table, so the
//! migration's triggers build the roll-ups (`rm_sales_network`, `rm_sales_station_month`)
//! exactly as in production. The generator is seeded, so every run holds the same figures.
//!
//! Timed: each request from sending it to the last byte of its body, one at a time, after a few
//! warm-up requests. Beside the HTTP figures, the same reads called on the hub in-process and
//! their JSON encoding, to tell the database's share from the rest.
//!
//! Run: `cargo bench -p cloud-hub --bench dashboard`. Smaller or longer runs:
//! `DASHBOARD_STATIONS`, `DASHBOARD_DAYS`, `DASHBOARD_SAMPLES` (default 1,000, 365 and 50);
//! `DASHBOARD_KEEP=1` keeps the database and prints where it is.
//! Goal (the dashboard's issue): the Network screen's data and a one-year network sales report
//! by day each answered with p95 < 200 ms.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
// Milliseconds and mebibytes for a person to read; no money or volume is computed with floats.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloud_hub::http::{AppState, serve_on_loopback};
use cloud_hub::metrics::Metrics;
use cloud_hub::reports::{SalesBy, SalesQuery};
use cloud_hub::{Hub, NewStation, OperatingType, SharedHub};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sync_protocol::ProductUnit;
use tokio::sync::Notify;

const USER: &str = "hq-admin";
const PASSWORD: &str = "a long benchmark password";
const SEED: u64 = 0x6461_7368_626f_6172;
const WARM_UP: usize = 5;
/// In-process calls per read, for the split between the database and the JSON.
const IN_PROCESS_SAMPLES: usize = 10;
/// The dashboard's goal, for both goal figures.
const GOAL: Duration = Duration::from_millis(200);

/// A product of the generated network: what a station sells of it on an average day.
struct ProductSpec {
    id: &'static str,
    name: &'static str,
    unit: ProductUnit,
    unit_price_won: i64,
    /// Millilitres a day for fuel, pieces a day for shop items, at an average station.
    daily: i64,
    /// Millilitres or pieces per sale.
    per_sale: i64,
}

const PRODUCTS: [ProductSpec; 10] = [
    fuel("GAS95", "휘발유", 1_689, 6_000_000, 38_000),
    fuel("PREM98", "고급휘발유", 1_959, 700_000, 45_000),
    fuel("DIESEL", "경유", 1_559, 5_000_000, 60_000),
    fuel("KERO", "실내등유", 1_379, 400_000, 20_000),
    piece("UREA", "요소수 10L", 12_000, 15, 1),
    piece("WATER", "생수 500ml", 800, 40, 2),
    piece("COFFEE", "캔커피", 1_200, 60, 2),
    piece("WASH", "자동세차", 7_000, 35, 1),
    piece("OIL", "엔진오일 1L", 9_500, 4, 1),
    piece("WIPER", "와이퍼", 15_000, 2, 1),
];

const fn fuel(
    id: &'static str,
    name: &'static str,
    unit_price_won: i64,
    daily: i64,
    per_sale: i64,
) -> ProductSpec {
    ProductSpec {
        id,
        name,
        unit: ProductUnit::Litre,
        unit_price_won,
        daily,
        per_sale,
    }
}

const fn piece(
    id: &'static str,
    name: &'static str,
    unit_price_won: i64,
    daily: i64,
    per_sale: i64,
) -> ProductSpec {
    ProductSpec {
        id,
        name,
        unit: ProductUnit::Piece,
        unit_price_won,
        daily,
        per_sale,
    }
}

/// Every station's tanks: number, product (an index into [`PRODUCTS`]), capacity. Tank 2 is at
/// every other station only.
const TANKS: [(u16, usize, i64); 5] = [
    (1, 0, 50_000_000),
    (2, 0, 30_000_000),
    (3, 2, 50_000_000),
    (4, 1, 20_000_000),
    (5, 3, 20_000_000),
];

const REGIONS: [&str; 17] = [
    "서울", "경기", "인천", "부산", "대구", "광주", "대전", "울산", "세종", "강원", "충북", "충남",
    "전북", "전남", "경북", "경남", "제주",
];

fn main() {
    let stations = env_number("DASHBOARD_STATIONS", 1_000);
    let days = env_number("DASHBOARD_DAYS", 365);
    let samples = env_number("DASHBOARD_SAMPLES", 50).max(1);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a folder beside the build output");
    let path = dir.path().join("hub.db");
    let now = Timestamp::now();
    let today = now.to_zoned_datetime(TimeZone::UTC).date();
    // The last business day closed is yesterday; the history runs `days` days up to it.
    let last_day = today.checked_sub(1.day()).unwrap();
    let first_day = last_day.checked_sub(i64::from(days - 1).days()).unwrap();

    println!(
        "generating: {stations} stations × {days} business days ({first_day} to {last_day}) × {} products",
        PRODUCTS.len()
    );
    let begun = Instant::now();
    let mut hub = Hub::open(&path, Arc::new(Metrics::default())).expect("a fresh hub database");
    set_up_master(&mut hub, stations, first_day, now);
    let master_took = begun.elapsed();
    let history = Instant::now();
    let written = write_history(&path, stations, first_day, days, now);
    let history_took = history.elapsed();
    let size = database_size(&path);
    println!(
        "generated in {:.1} s (master data through the hub {:.1} s, read models by SQL {:.1} s): \
         {} rm_sales rows, {} rm_sales_network rows, {} rm_wet_stock rows, {} tanks; \
         database {:.0} MiB",
        begun.elapsed().as_secs_f64(),
        master_took.as_secs_f64(),
        history_took.as_secs_f64(),
        thousands(written.sales),
        thousands(written.network),
        thousands(written.wet_stock),
        thousands(written.tanks),
        size as f64 / 1_048_576.0
    );

    let hub = hub.shared();
    let base = serve(hub.clone());
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let token = log_in(&client, &base);

    let from = first_day.to_string();
    let to = last_day.to_string();
    let month_from = last_day.checked_sub(29.days()).unwrap().to_string();
    let year = |by: &str| format!("/api/reports/sales?from={from}&to={to}&by={by}");
    let cases = [
        Case::new("network", "/api/network".to_owned(), Read::Network),
        Case::new(
            "sales, one year, by day",
            year("day"),
            sales(first_day, last_day, SalesBy::Day, None),
        ),
        Case::new(
            "sales, one year, by product",
            year("product"),
            sales(first_day, last_day, SalesBy::Product, None),
        ),
        Case::new(
            "sales, one year, by operating type",
            year("operating_type"),
            sales(first_day, last_day, SalesBy::OperatingType, None),
        ),
        Case::new(
            "sales, one year, by station",
            year("station"),
            sales(first_day, last_day, SalesBy::Station, None),
        ),
        Case::new(
            "sales, one year, one station, by day",
            format!("{}&station=ST0001", year("day")),
            sales(first_day, last_day, SalesBy::Day, Some("ST0001")),
        ),
        Case::new(
            "sales, last 30 days, by station",
            format!("/api/reports/sales?from={month_from}&to={to}&by=station"),
            sales(
                last_day.checked_sub(29.days()).unwrap(),
                last_day,
                SalesBy::Station,
                None,
            ),
        ),
        Case::new("stock report", "/api/reports/stock".to_owned(), Read::Stock),
        Case::new("alerts", "/api/alerts".to_owned(), Read::Alerts),
    ];

    println!();
    println!(
        "over HTTP, {samples} requests each after {WARM_UP} warm-up, one at a time (ms); \
         in-process: the hub's read and its JSON encoding, p50 of {IN_PROCESS_SAMPLES} (ms)"
    );
    println!();
    println!("| read | p50 | p95 | max | response | in-process read | JSON encoding |");
    println!("|---|---|---|---|---|---|---|");
    let mut results = Vec::new();
    for case in &cases {
        let measured = measure_http(&client, &base, &token, &case.path, samples);
        let split = measure_in_process(&hub, &case.read, now);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            case.name,
            millis(measured.p50),
            millis(measured.p95),
            millis(measured.max),
            bytes(measured.bytes),
            millis(split.0),
            millis(split.1),
        );
        results.push((case.name, measured));
    }
    println!();
    check_totals(&client, &base, &token, &path, &from, &to);
    describe_network(&client, &base, &token);
    for goal in ["network", "sales, one year, by day"] {
        let (_, measured) = results.iter().find(|(name, _)| *name == goal).unwrap();
        let verdict = if measured.p95 < GOAL {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "goal: {goal}: p95 {} ms < {} ms: {verdict}",
            millis(measured.p95),
            GOAL.as_millis()
        );
    }
    if std::env::var_os("DASHBOARD_KEEP").is_some() {
        println!("database kept at {}", dir.keep().join("hub.db").display());
    }
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The HQ user, the products, the stations and two price versions, through the hub's own
/// operations: the second version took effect three hours ago, so stations that have not
/// applied it are late.
fn set_up_master(hub: &mut Hub, stations: u32, first_day: Date, now: Timestamp) {
    hub.add_hq_user(USER, PASSWORD, now).unwrap();
    for product in &PRODUCTS {
        hub.upsert_product(product.id, product.name, product.unit)
            .unwrap();
    }
    for n in 1..=stations {
        let region = REGIONS[usize::try_from(n).unwrap() % REGIONS.len()];
        let operating_type = match n % 10 {
            0..=2 => OperatingType::DirectlyManaged,
            3..=6 => OperatingType::Consignment,
            _ => OperatingType::Franchise,
        };
        hub.register_station(
            NewStation {
                station: station_id(n),
                name: format!("{region} 제{n}주유소"),
                operating_type,
                region: region.to_owned(),
            },
            now,
        )
        .unwrap();
    }
    let prices: Vec<(String, i64)> = PRODUCTS
        .iter()
        .map(|p| (p.id.to_owned(), p.unit_price_won))
        .collect();
    let year_ago = first_day
        .to_datetime(jiff::civil::Time::midnight())
        .to_zoned_datetime(TimeZone::UTC)
        .unwrap()
        .timestamp();
    hub.publish_price_version(&prices, Some(year_ago), USER, now)
        .unwrap();
    let raised: Vec<(String, i64)> = prices
        .iter()
        .map(|(p, won)| (p.clone(), won + 20))
        .collect();
    let three_hours_ago = now.checked_sub(SignedDuration::from_hours(3)).unwrap();
    hub.publish_price_version(&raised, Some(three_hours_ago), USER, now)
        .unwrap();
}

fn station_id(n: u32) -> String {
    format!("ST{n:04}")
}

/// How many rows the generator left in the read models.
struct Written {
    sales: i64,
    network: i64,
    wet_stock: i64,
    tanks: i64,
}

/// A tank's stock as the generated days go by.
struct TankLevel {
    tank: u16,
    product: usize,
    capacity_ml: i64,
    level_ml: i64,
}

/// The read models as a year of events would have left them, written on a second connection.
fn write_history(
    path: &Path,
    stations: u32,
    first_day: Date,
    days: u32,
    now: Timestamp,
) -> Written {
    let mut conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    // Only the generator's own durability is relaxed; the hub's connection is as in production.
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    conn.pragma_update(None, "cache_size", -1_048_576).unwrap();
    let mut rng = StdRng::seed_from_u64(SEED);
    let day_texts: Vec<String> = (0..days)
        .map(|d| {
            first_day
                .checked_add(i64::from(d).days())
                .unwrap()
                .to_string()
        })
        .collect();
    let weekend: Vec<bool> = (0..days)
        .map(|d| {
            let date = first_day.checked_add(i64::from(d).days()).unwrap();
            matches!(
                date.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            )
        })
        .collect();
    let now_ms = now.as_millisecond();
    const STATIONS_PER_TRANSACTION: u32 = 50;
    let mut n = 1;
    while n <= stations {
        let tx = conn.transaction().unwrap();
        {
            let mut sale = tx
                .prepare_cached(
                    "INSERT INTO rm_sales (station_id, business_day, product_id, sales_count,
                         sales_volume_ml, sales_quantity, sales_amount_won, canceled_count,
                         canceled_volume_ml, canceled_quantity, canceled_amount_won)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .unwrap();
            let mut wet = tx
                .prepare_cached(
                    "INSERT INTO rm_wet_stock (station_id, business_day, tank, product_id,
                         opening_ml, deliveries_ml, sales_ml, closing_ml, variance_ml, limit_ml,
                         flagged)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .unwrap();
            let mut tank_row = tx
                .prepare_cached(
                    "INSERT INTO rm_tanks (station_id, tank, product_id, capacity_ml, book_stock_ml)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .unwrap();
            for n in n..(n + STATIONS_PER_TRANSACTION).min(stations + 1) {
                let station = station_id(n);
                // A station's size: 60% to 140% of the average.
                let scale: i64 = rng.random_range(60..=140);
                let mut tanks: Vec<TankLevel> = TANKS
                    .iter()
                    .filter(|(tank, _, _)| *tank != 2 || n.is_multiple_of(2))
                    .map(|&(tank, product, capacity_ml)| TankLevel {
                        tank,
                        product,
                        capacity_ml,
                        level_ml: capacity_ml * rng.random_range(40..=90) / 100,
                    })
                    .collect();
                for (d, day) in day_texts.iter().enumerate() {
                    let mut volume_of = [0_i64; PRODUCTS.len()];
                    for (p, product) in PRODUCTS.iter().enumerate() {
                        let jitter: i64 = rng.random_range(85..=115);
                        let busier = if weekend[d] { 110 } else { 100 };
                        let amount =
                            (product.daily * scale / 100 * jitter / 100 * busier / 100).max(1);
                        let count = (amount / product.per_sale).max(1);
                        let (volume, quantity) = match product.unit {
                            ProductUnit::Litre => (amount, 0),
                            ProductUnit::Piece => (0, amount),
                        };
                        let won = match product.unit {
                            ProductUnit::Litre => amount * product.unit_price_won / 1_000,
                            ProductUnit::Piece => amount * product.unit_price_won,
                        };
                        // About one row in twenty holds a cancelled sale.
                        let (c_count, c_volume, c_quantity, c_won) = if rng.random_ratio(1, 20) {
                            let (v, q) = match product.unit {
                                ProductUnit::Litre => (product.per_sale, 0),
                                ProductUnit::Piece => (0, product.per_sale),
                            };
                            let w = match product.unit {
                                ProductUnit::Litre => v * product.unit_price_won / 1_000,
                                ProductUnit::Piece => q * product.unit_price_won,
                            };
                            (1, v, q, w)
                        } else {
                            (0, 0, 0, 0)
                        };
                        volume_of[p] = volume - c_volume;
                        sale.execute(params![
                            station, day, product.id, count, volume, quantity, won, c_count,
                            c_volume, c_quantity, c_won
                        ])
                        .unwrap();
                    }
                    // Each fuel's day split over its tanks; a delivery when a tank runs low.
                    for tank in &mut tanks {
                        let sharing = tanks_of(n, tank.product);
                        let sales_ml = (volume_of[tank.product] / sharing).min(tank.level_ml);
                        let opening_ml = tank.level_ml;
                        let deliveries_ml = if opening_ml - sales_ml < tank.capacity_ml * 35 / 100 {
                            tank.capacity_ml / 2
                        } else {
                            0
                        };
                        let limit_ml = 130_000 + sales_ml / 200;
                        // About one reconciliation in 500 past its limit.
                        let variance_ml = if rng.random_ratio(1, 500) {
                            -(limit_ml + rng.random_range(1_000..=80_000))
                        } else {
                            rng.random_range(-(limit_ml / 2)..=limit_ml / 2)
                        };
                        let closing_ml =
                            (opening_ml + deliveries_ml - sales_ml + variance_ml).max(0);
                        wet.execute(params![
                            station,
                            day,
                            tank.tank,
                            PRODUCTS[tank.product].id,
                            opening_ml,
                            deliveries_ml,
                            sales_ml,
                            closing_ml,
                            variance_ml,
                            limit_ml,
                            variance_ml.abs() > limit_ml
                        ])
                        .unwrap();
                        tank.level_ml = closing_ml;
                    }
                }
                // One station in a hundred runs low (a low-stock alert).
                let low = n % 100 == 37;
                for tank in &tanks {
                    let book = if low {
                        tank.capacity_ml * 3 / 100
                    } else {
                        tank.level_ml
                    };
                    tank_row
                        .execute(params![
                            station,
                            tank.tank,
                            PRODUCTS[tank.product].id,
                            tank.capacity_ml,
                            book
                        ])
                        .unwrap();
                }
            }
        }
        tx.commit().unwrap();
        n += STATIONS_PER_TRANSACTION;
    }
    write_station_states(&mut conn, stations, now_ms, &mut rng);
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    Written {
        sales: count("rm_sales"),
        network: count("rm_sales_network"),
        wet_stock: count("rm_wet_stock"),
        tanks: count("rm_tanks"),
    }
}

/// Tanks station `n` has of a product.
fn tanks_of(n: u32, product: usize) -> i64 {
    let count = TANKS
        .iter()
        .filter(|(tank, p, _)| *p == product && (*tank != 2 || n.is_multiple_of(2)))
        .count();
    i64::try_from(count).unwrap().max(1)
}

/// Connection, sync positions, price version and devices of every station, and some dead
/// letters: 3% offline, 3% online but behind with prices, 1% with a backlog, a few devices down.
fn write_station_states(conn: &mut Connection, stations: u32, now_ms: i64, rng: &mut StdRng) {
    let tx = conn.transaction().unwrap();
    {
        let hour = 3_600_000;
        let mut state = tx
            .prepare(
                "UPDATE rm_stations SET online = ?2, status_changed_at_ms = ?3,
                     price_version_applied = ?4, price_applied_at_ms = ?5, events_applied = ?6,
                     up_last = ?7, devices = ?8
                 WHERE station_id = ?1",
            )
            .unwrap();
        let mut inbox = tx
            .prepare(
                "INSERT INTO inbox_positions (station_id, applied_through, last_seen_ms, stream_id)
                 VALUES (?1, ?2, ?3, '')",
            )
            .unwrap();
        let mut stream = tx
            .prepare(
                "INSERT INTO inbox_streams (station_id, stream_id, from_seq, applied_through, opened_at_ms)
                 VALUES (?1, '', 0, ?2, ?3)",
            )
            .unwrap();
        let mut outbox = tx
            .prepare("UPDATE outbox_positions SET acked_through = min(last_seq, ?2) WHERE station_id = ?1")
            .unwrap();
        for n in 1..=stations {
            let station = station_id(n);
            let offline = n % 33 == 5;
            let behind = !offline && n % 33 == 11;
            let backlog = n % 100 == 61;
            let changed_at = if offline {
                now_ms - rng.random_range(1..=72) * hour
            } else {
                now_ms - rng.random_range(1..=240) * hour
            };
            let (version, applied_at) = if offline || behind {
                (1, now_ms - 200 * 24 * hour)
            } else {
                (2, now_ms - 3 * hour + rng.random_range(1..=30) * 60_000)
            };
            let applied: i64 = rng.random_range(30_000..=60_000);
            let up_last = if backlog {
                applied + rng.random_range(600..=3_000)
            } else {
                applied + rng.random_range(0..=3)
            };
            let device = |down_one_in: u32, rng: &mut StdRng| {
                if rng.random_ratio(1, down_one_in) {
                    "disconnected"
                } else {
                    "ready"
                }
            };
            let devices = json!({
                "printer": device(50, rng),
                "gauge": device(80, rng),
                "pump_line": device(200, rng),
            })
            .to_string();
            let last_seen = if offline {
                changed_at
            } else {
                now_ms - rng.random_range(1..=120) * 1_000
            };
            state
                .execute(params![
                    station, !offline, changed_at, version, applied_at, applied, up_last, devices
                ])
                .unwrap();
            inbox.execute(params![station, applied, last_seen]).unwrap();
            stream
                .execute(params![station, applied, now_ms - 400 * 24 * hour])
                .unwrap();
            outbox.execute(params![station, version]).unwrap();
        }
        // Dead letters of 40 stations, one every 45 minutes back from now: most of the last
        // day's keep their station's alert open.
        let mut dead = tx
            .prepare(
                "INSERT INTO dead_letters (station_id, seq, code, reason, message, received_at_ms,
                     digest, repeats, last_received_at_ms)
                 VALUES (?1, ?2, 'invalid_event', 'a sale line names an unknown tank', ?3, ?4, ?5, ?6, ?4)",
            )
            .unwrap();
        for i in 0..40_u32 {
            let station = station_id(1 + (i * 25) % stations);
            let message = format!("{{\"seq\":{i},\"kind\":\"sale_settled\"}}");
            dead.execute(params![
                station,
                i64::from(i) + 1,
                message.as_bytes(),
                now_ms - i64::from(i) * 45 * 60_000,
                format!("{i:064x}"),
                1 + i % 3
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn database_size(path: &Path) -> u64 {
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).map_or(0, |m| m.len()) + std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// The real router on 127.0.0.1, on its own runtime thread, as `hub` serves it.
fn serve(hub: SharedHub) -> String {
    let state = AppState {
        hub,
        wake: Arc::new(Notify::new()),
        metrics_token: None,
        dashboard: None,
    };
    format!("http://{}", serve_on_loopback(state).unwrap())
}

fn log_in(client: &reqwest::blocking::Client, base: &str) -> String {
    let reply: Value = client
        .post(format!("{base}/api/login"))
        .json(&json!({"username": USER, "password": PASSWORD}))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap();
    reply["token"].as_str().unwrap().to_owned()
}

/// One read the dashboard makes: its HTTP request and the same read on the hub.
struct Case {
    name: &'static str,
    path: String,
    read: Read,
}

impl Case {
    fn new(name: &'static str, path: String, read: Read) -> Case {
        Case { name, path, read }
    }
}

enum Read {
    Network,
    Sales(SalesQuery),
    Stock,
    Alerts,
}

fn sales(from: Date, to: Date, by: SalesBy, station: Option<&str>) -> Read {
    Read::Sales(SalesQuery {
        from,
        to,
        by,
        station: station.map(str::to_owned),
        product: None,
        operating_type: None,
    })
}

struct Measured {
    p50: Duration,
    p95: Duration,
    max: Duration,
    bytes: usize,
}

fn get(client: &reqwest::blocking::Client, base: &str, token: &str, path: &str) -> String {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    let status = response.status();
    let body = response.text().unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

fn measure_http(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    path: &str,
    samples: u32,
) -> Measured {
    for _ in 0..WARM_UP {
        get(client, base, token, path);
    }
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..samples {
        let begun = Instant::now();
        let body = get(client, base, token, path);
        times.push(begun.elapsed());
        bytes = body.len();
    }
    times.sort();
    Measured {
        p50: percentile(&times, 50),
        p95: percentile(&times, 95),
        max: *times.last().unwrap(),
        bytes,
    }
}

/// The read called on the hub (its lock taken as a handler takes it), and its JSON encoding:
/// the p50 of each.
fn measure_in_process(hub: &SharedHub, read: &Read, now: Timestamp) -> (Duration, Duration) {
    let mut reads = Vec::new();
    let mut encodings = Vec::new();
    for _ in 0..IN_PROCESS_SAMPLES {
        let begun = Instant::now();
        let value = {
            let hub = hub.lock().unwrap();
            match read {
                Read::Network => Encoded::of(&hub.network(now).unwrap()),
                Read::Sales(query) => Encoded::of(&hub.sales_report(query).unwrap()),
                Read::Stock => Encoded::of(&hub.stock_report().unwrap()),
                Read::Alerts => Encoded::of(&hub.alerts(None, now).unwrap()),
            }
        };
        reads.push(begun.elapsed().saturating_sub(value.took));
        encodings.push(value.took);
    }
    reads.sort();
    encodings.sort();
    (percentile(&reads, 50), percentile(&encodings, 50))
}

/// How long a view took to encode as JSON.
struct Encoded {
    took: Duration,
}

impl Encoded {
    fn of<T: serde::Serialize>(view: &T) -> Encoded {
        let begun = Instant::now();
        let text = serde_json::to_vec(view).unwrap();
        std::hint::black_box(text);
        Encoded {
            took: begun.elapsed(),
        }
    }
}

/// The one-year report's total, by every breakdown, against the sales rows themselves: the
/// roll-up the triggers built agrees with `rm_sales`.
fn check_totals(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    path: &Path,
    from: &str,
    to: &str,
) {
    let conn = Connection::open(path).unwrap();
    let (count, volume, quantity, won, canceled): (i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT sum(sales_count), sum(sales_volume_ml), sum(sales_quantity),
                    sum(sales_amount_won), sum(canceled_amount_won)
             FROM rm_sales WHERE business_day BETWEEN ?1 AND ?2",
            params![from, to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let expected = json!({
        "sales_count": count,
        "sales_volume_ml": volume,
        "sales_quantity": quantity,
        "sales_amount_won": won,
        "canceled_amount_won": canceled,
        "net_amount_won": won - canceled,
    });
    for by in ["day", "product", "operating_type", "station"] {
        let body = get(
            client,
            base,
            token,
            &format!("/api/reports/sales?from={from}&to={to}&by={by}"),
        );
        let report: Value = serde_json::from_str(&body).unwrap();
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(
                &report["total"][field], value,
                "by={by}: the total's {field} differs from the sum of rm_sales"
            );
        }
    }
    println!(
        "one-year totals by day, product, operating type and station all equal the sum of rm_sales: \
         {} sales, {} won net",
        thousands(count),
        thousands(won - canceled)
    );
}

/// What the Network screen was shown: stations online, and the open alerts by kind.
fn describe_network(client: &reqwest::blocking::Client, base: &str, token: &str) {
    let network: Value = serde_json::from_str(&get(client, base, token, "/api/network")).unwrap();
    let stations = network["stations"].as_array().unwrap();
    let online = stations.iter().filter(|s| s["online"] == true).count();
    let alerts: Value = serde_json::from_str(&get(client, base, token, "/api/alerts")).unwrap();
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for alert in alerts.as_array().unwrap() {
        *kinds
            .entry(alert["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "network: {} stations, {online} online, price version {} in effect; {} open alerts ({})",
        stations.len(),
        network["current_price_version"],
        alerts.as_array().unwrap().len(),
        kinds.join(", ")
    );
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn millis(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1_000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}

fn bytes(count: usize) -> String {
    if count >= 1_048_576 {
        format!("{:.1} MiB", count as f64 / 1_048_576.0)
    } else if count >= 1_024 {
        format!("{:.1} KiB", count as f64 / 1_024.0)
    } else {
        format!("{count} B")
    }
}

fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 { format!("-{out}") } else { out }
}
