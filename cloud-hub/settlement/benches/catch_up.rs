//! Settlement catching up from a feed of 1,000,000 events, beside a bare read of the same feed
//! in the same run.
//!
//! The hub's database is made by the hub (`Hub::open`, its migrations; stations registered and
//! the feed consumer made through the hub's own operations). The events are not fed through
//! the sync path (some fifty seconds for a million at the hub's measured ingest): they are
//! written with SQL on a second connection into the `events` table, each message the envelope
//! `sync_protocol::encode` makes, as the hub records them. The feed reads only that table, so
//! the hub's read models being empty changes nothing here. The generator is seeded.
//!
//! The mix: 300 stations, every third one consignment (the others directly managed or
//! franchise); sales of one to four lines (diesel, gasoline, shop items), one in thirty
//! cancelled later, a wet-stock reconciliation per station and day (some past the tolerance),
//! over 60 business days.
//!
//! Timed, one after the other over the real router on 127.0.0.1:
//! 0. a first read of the whole feed, which brings the file into the page cache as a hub serving
//!    its feed has it (shown, not compared);
//! 1. the bare read: every page from position 0 to the head with the feed's client, each page
//!    parsed into the same wire type settlement reads;
//! 2. settlement's catch-up as its binary runs it (`catch_up::follow`: the next page read while
//!    the one before is counted and committed), into a fresh settlement database;
//! 3. the same one step at a time (`catch_up_once`: read, then count), for the overlap's share.
//!
//! Settlement's totals are then checked against the generator's own sums.
//!
//! Run: `cargo bench -p commission-settlement --bench catch_up`. `CATCH_UP_EVENTS` (default
//! 1,000,000) and `CATCH_UP_PAGE` (default `catch_up::PAGE`, 2,000) change the run.
//! Goal (issue 13): at least 20,000 events/s, and at least 0.5× the bare read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
// Rates for a person to read; no money or volume is computed with floats.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloud_hub::auth::{HqUser, Role};
use cloud_hub::http::{AppState, serve_on_loopback};
use cloud_hub::metrics::Metrics;
use cloud_hub::{Hub, NewStation, OperatingType};
use commission_settlement::Settlement;
use commission_settlement::catch_up::{self, SharedSettlement, catch_up_once};
use commission_settlement::feed::FeedClient;
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;
use sync_protocol::{
    Envelope, Event, Payment, PriceSource, SaleCanceled, SaleLine, SaleSettled, WetStockReconciled,
};
use tokio::sync::Notify;
use uuid::Uuid;

const SEED: u64 = 0x7365_7474_6c65;
const STATIONS: usize = 300;
const DAYS: i64 = 60;

fn main() {
    let events: u64 = std::env::var("CATCH_UP_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let page: u32 = std::env::var("CATCH_UP_PAGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(catch_up::PAGE);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");

    let begun = Instant::now();
    let mut hub = Hub::open(&path, Arc::new(Metrics::default())).unwrap();
    let now = Timestamp::now();
    for i in 0..STATIONS {
        hub.register_station(
            NewStation {
                station: station_id(i),
                name: format!("주유소 {i}"),
                operating_type: operating_type(i),
                region: String::new(),
            },
            now,
        )
        .unwrap();
    }
    let admin = HqUser {
        username: "bench".to_owned(),
        role: Role::Administrator,
    };
    let token = hub.create_feed_consumer(&admin, "bench", now).unwrap();
    let expected = write_events(&path, events);
    println!(
        "generated {} events in {:.1} s; hub database {:.0} MiB",
        thousands(events),
        begun.elapsed().as_secs_f64(),
        database_size(&path) as f64 / 1_048_576.0
    );

    let base = serve(hub);

    // 0. A first read brings the file into the page cache, as a hub serving its feed has it;
    // its rate is shown, not compared.
    let bare_read = |client: &FeedClient| {
        let started = Instant::now();
        let mut after = 0;
        let mut read = 0u64;
        let head = loop {
            let page = client.page(after, page, 0).unwrap();
            if page.events.is_empty() {
                break page.head;
            }
            read += page.events.len() as u64;
            after = page.next;
        };
        assert_eq!(read, events);
        (rate(read, started.elapsed()), head)
    };
    let client = FeedClient::new(&base, &token).unwrap();
    println!(
        "first (cold) feed read: {:>9.0} events/s",
        bare_read(&client).0
    );
    // 1. The bare read.
    let (read_rate, head) = bare_read(&client);
    println!("bare feed read: {:>9.0} events/s", read_rate);

    // 2. Settlement as its binary follows the feed.
    let (settlement_dir, settlement) = fresh_settlement();
    let took = {
        let client = FeedClient::new(&base, &token).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let follower = {
            let (settlement, stop) = (settlement.clone(), stop.clone());
            std::thread::spawn(move || {
                catch_up::follow(settlement, client, stop, Arc::new(AtomicU64::new(0)), page);
            })
        };
        while catch_up::lock(&settlement).position().unwrap() < head {
            std::thread::sleep(Duration::from_millis(1));
        }
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        // The follower is in a long-poll of up to ten seconds; it is not waited for.
        drop(follower);
        took
    };
    let follow_rate = rate(events, took);
    check(&settlement, &expected);
    println!(
        "settlement catch-up (reads overlapping counting): {:>9.0} events/s, {:.2}x the bare read, {:.1} s",
        follow_rate,
        follow_rate / read_rate,
        took.as_secs_f64()
    );
    drop(settlement_dir);

    // 3. One step at a time.
    let (_one_step_dir, settlement) = fresh_settlement();
    let client = FeedClient::new(&base, &token).unwrap();
    let started = Instant::now();
    loop {
        let (applied, _) = catch_up_once(&settlement, &client, page, 0).unwrap();
        if applied.events == 0 {
            break;
        }
    }
    let step_rate = rate(events, started.elapsed());
    check(&settlement, &expected);
    println!(
        "settlement catch-up (read, then count):           {:>9.0} events/s, {:.2}x the bare read",
        step_rate,
        step_rate / read_rate
    );
    println!(
        "goal: at least 20,000 events/s and 0.5x the bare read: {}",
        if follow_rate >= 20_000.0 && follow_rate / read_rate >= 0.5 {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn station_id(i: usize) -> String {
    format!("ST{:04}", i + 1)
}

fn operating_type(i: usize) -> OperatingType {
    match i % 3 {
        0 => OperatingType::Consignment,
        1 => OperatingType::DirectlyManaged,
        _ => OperatingType::Franchise,
    }
}

fn fresh_settlement() -> (tempfile::TempDir, SharedSettlement) {
    let dir = tempfile::tempdir().unwrap();
    let settlement = Settlement::open(&dir.path().join("settlement.db")).unwrap();
    (dir, Arc::new(Mutex::new(settlement)))
}

/// Net volume and amount per consignment station and product, as the generator made them.
type Expected = BTreeMap<(String, String), (i64, i64)>;

fn check(settlement: &SharedSettlement, expected: &Expected) {
    let totals = catch_up::lock(settlement).totals().unwrap();
    let got: Expected = totals
        .into_iter()
        .map(|(key, t)| (key, (t.volume_ml, t.amount_won)))
        .collect();
    assert_eq!(
        &got, expected,
        "settlement's totals differ from the generated events"
    );
}

fn line(rng: &mut StdRng, line_no: u16) -> SaleLine {
    match rng.random_range(0..4) {
        0 | 1 => {
            let volume = rng.random_range(5_000..80_000);
            SaleLine {
                line_no,
                product_id: "CD1001".to_owned(),
                tank: Some(1),
                volume_ml: Some(volume),
                quantity: None,
                unit_price_won: 1650,
                amount_won: (volume * 1650 + 500) / 1000,
                price_source: PriceSource::PriceList,
                price_version: Some(1),
            }
        }
        2 => {
            let volume = rng.random_range(5_000..60_000);
            SaleLine {
                line_no,
                product_id: "GS1001".to_owned(),
                tank: Some(2),
                volume_ml: Some(volume),
                quantity: None,
                unit_price_won: 1720,
                amount_won: (volume * 1720 + 500) / 1000,
                price_source: PriceSource::PriceList,
                price_version: Some(1),
            }
        }
        _ => {
            let quantity = rng.random_range(1..4);
            SaleLine {
                line_no,
                product_id: "SN2001".to_owned(),
                tank: None,
                volume_ml: None,
                quantity: Some(quantity),
                unit_price_won: 1000,
                amount_won: quantity * 1000,
                price_source: PriceSource::PriceList,
                price_version: Some(1),
            }
        }
    }
}

/// Writes `count` events into the hub's `events` table; returns what settlement should sum.
fn write_events(path: &std::path::Path, count: u64) -> Expected {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    let first_day = jiff::civil::date(2026, 1, 1);
    let mut seqs = vec![0u64; STATIONS];
    let mut pending_cancels: Vec<(usize, SaleSettled)> = Vec::new();
    let mut expected = Expected::new();
    let mut insert = tx
        .prepare(
            "INSERT INTO events (event_no, event_id, origin, station_id, seq, kind, occurred_at_ms, applied_at_ms, message, stream_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '')",
        )
        .unwrap();
    let now = Timestamp::now();
    let mut add = |station: usize, no: u64, event: Event, expected: &mut Expected| {
        let id = station_id(station);
        if operating_type(station) == OperatingType::Consignment {
            let (lines, sign) = match &event {
                Event::SaleSettled(s) => (&s.lines, 1),
                Event::SaleCanceled(c) => (&c.lines, -1),
                _ => (&Vec::new(), 0),
            };
            for l in lines {
                let e = expected
                    .entry((id.clone(), l.product_id.clone()))
                    .or_default();
                e.0 += sign * l.volume_ml.unwrap_or(0);
                e.1 += sign * l.amount_won;
            }
        }
        seqs[station] += 1;
        let envelope = Envelope {
            event_id: Uuid::from_u128(u128::from(no)),
            origin: id.clone(),
            sequence: seqs[station],
            occurred_at: now,
            schema_version: sync_protocol::SCHEMA_VERSION,
            stream: None,
            event,
        };
        let message = String::from_utf8(sync_protocol::encode(&envelope)).unwrap();
        insert
            .execute(params![
                i64::try_from(no).unwrap(),
                envelope.event_id.to_string(),
                id,
                id,
                i64::try_from(seqs[station]).unwrap(),
                envelope.event.kind().as_str(),
                now.as_millisecond(),
                now.as_millisecond(),
                message
            ])
            .unwrap();
    };
    let per_day = count.div_ceil(u64::try_from(DAYS).unwrap());
    for no in 1..=count {
        let day = first_day
            .checked_add((i64::try_from((no - 1) / per_day).unwrap()).days())
            .unwrap();
        let station = rng.random_range(0..STATIONS);
        // About one event in a hundred is a reconciliation, one in thirty a cancellation.
        let roll = rng.random_range(0..100);
        let event = if roll == 0 {
            let variance = rng.random_range(-120_000..40_000);
            Event::WetStockReconciled(WetStockReconciled {
                business_day: day,
                tank: 1,
                product_id: "CD1001".to_owned(),
                opening_ml: 20_000_000,
                deliveries_ml: 0,
                sales_ml: 2_000_000,
                closing_ml: 18_000_000 + variance,
                variance_ml: variance,
                limit_ml: 60_000,
                flagged: variance.abs() > 60_000,
            })
        } else if roll < 4 && !pending_cancels.is_empty() {
            let (at, sale) =
                pending_cancels.swap_remove(rng.random_range(0..pending_cancels.len()));
            add(
                at,
                no,
                Event::SaleCanceled(SaleCanceled {
                    cancellation_id: Uuid::from_u128(u128::from(no) << 64),
                    sale_id: sale.sale_id,
                    business_day: day,
                    sale_business_day: sale.business_day,
                    reason: "wrong pump".to_owned(),
                    canceled_by: "kim".to_owned(),
                    approved_by: "park".to_owned(),
                    lines: sale.lines,
                    total_won: sale.total_won,
                }),
                &mut expected,
            );
            continue;
        } else {
            let lines: Vec<SaleLine> = (1..=rng.random_range(1..=4u16))
                .map(|n| line(&mut rng, n))
                .collect();
            let total = lines.iter().map(|l| l.amount_won).sum();
            let sale = SaleSettled {
                sale_id: Uuid::from_u128(u128::from(no)),
                receipt_no: format!("{no}"),
                business_day: day,
                shift_id: Uuid::from_u128(1),
                cashier: "kim".to_owned(),
                lines,
                total_won: total,
                payment: Payment::Cash {
                    tendered_won: total,
                    change_won: 0,
                },
            };
            if rng.random_range(0..10) == 0 && pending_cancels.len() < 10_000 {
                pending_cancels.push((station, sale.clone()));
            }
            Event::SaleSettled(sale)
        };
        add(station, no, event, &mut expected);
    }
    drop(insert);
    tx.commit().unwrap();
    expected
}

fn serve(hub: Hub) -> String {
    let state = AppState {
        hub: hub.shared(),
        wake: Arc::new(Notify::new()),
        metrics_token: None,
        dashboard: None,
    };
    format!("http://{}", serve_on_loopback(state).unwrap())
}

fn rate(events: u64, took: Duration) -> f64 {
    events as f64 / took.as_secs_f64()
}

fn database_size(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).map_or(0, |m| m.len()) + std::fs::metadata(wal).map_or(0, |m| m.len())
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
