//! The sync figures of issue 3, through real processes (Mosquitto, the hub, a station runtime):
//!
//! - catch-up: a station with 50,000 events waiting reconnects; time until all are acknowledged,
//!   against the broker's own QoS 1 throughput (one publisher, one subscriber, a window of
//!   messages in flight, the same payload) measured in the same run;
//! - ingest: 200 simulated stations publish at once into one hub; sustained events/s and the
//!   p99 time from a station's commit to HQ's read model;
//! - fan-out: a price change to 1,000 connected simulated stations; p99 time until each has it.
//! - fan-out-catalog (issue 10): a price version changing all of a 5,000-item catalog (Korean
//!   names) to 1,000 connected simulated stations; p99 time until each holds every part in
//!   order, decoded; then the time one real station database takes to apply those parts.
//!
//! Run (release binaries are what is measured):
//! `cargo build --release --bins && cargo bench -p system-tests --bench sync [-- catch-up|ingest|fan-out|fan-out-catalog]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
// Rates and ratios for a person to read; no money or volume is computed with floats here.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{BrokerChoice, Hub, Station};
use sync_mqtt::{Link, LinkConfig, LinkEvent};
use sync_protocol::stream::{OutboundStream, StreamConfig};
use sync_protocol::transport::{Ack, Channel, StationStatus, parse_topic, topic};
use sync_protocol::{Envelope, Event, Payment, PriceSource, SaleLine, SaleSettled};
use system_tests::Mosquitto;

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if wanted("catch-up") {
        let events = std::env::var("CATCH_UP_EVENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50_000);
        catch_up(&runtime, events);
    }
    if wanted("ingest") {
        let stations = std::env::var("INGEST_STATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        ingest(&runtime, stations, 250);
    }
    if wanted("fan-out") {
        fan_out(&runtime, 1_000);
    }
    if wanted("fan-out-catalog") {
        let stations = std::env::var("FAN_OUT_STATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000);
        fan_out_catalog(&runtime, stations, 5_000);
    }
}

fn catch_up(runtime: &tokio::runtime::Runtime, events: u64) {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    hub.set_up(&["ST0001"]);
    let mut station = Station::new("ST0001", broker.port());
    station.start_runtime();
    station.wait_for("prices", |s| {
        s.try_run("price show --product CD1001").0 == 0
    });
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    station.cashier("shift open --float 0");
    station.wait_for("in step", |s| s.backlog() == 0);
    station.kill_runtime();
    let start = station.backlog();
    station.settle_sales(events);
    let waiting = station.backlog() - start;
    let sample = station.run("outbox list --pending --limit 1")["events"][0]["message"].clone();
    let payload = serde_json::to_vec(&sample).unwrap();

    let outbox = station.run("outbox list --limit 1");
    let target =
        outbox["acknowledged_through"].as_u64().unwrap() + outbox["backlog"].as_u64().unwrap();
    // Watched through one read-only connection to the station's file, every 10 ms: starting a
    // `station` process per look would take CPU from what is measured.
    let watch = rusqlite::Connection::open_with_flags(
        station.db(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let acked = || -> u64 {
        let through: i64 = watch
            .query_row("SELECT outbox_acked_through FROM station", [], |r| r.get(0))
            .unwrap();
        through.unsigned_abs()
    };
    let begun = Instant::now();
    station.start_runtime();
    while acked() < target {
        assert!(
            begun.elapsed() < Duration::from_secs(900),
            "every event acknowledged"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = begun.elapsed();
    let rate = per_second(waiting, elapsed);

    let baseline = runtime.block_on(broker_baseline(broker.port(), &payload, waiting));
    println!(
        "catch-up: {waiting} events acknowledged in {:.2} s = {rate:.0} events/s",
        elapsed.as_secs_f64()
    );
    println!(
        "broker QoS 1 baseline ({} B payload, one publisher, one subscriber, 1,024 in flight): {baseline:.0} msg/s",
        payload.len()
    );
    println!(
        "catch-up / baseline = {:.2}x (goals: ≥ 15,000 events/s and ≥ 0.6x)",
        rate / baseline
    );
}

/// The broker alone: one publisher, one subscriber, QoS 1, messages kept in flight.
async fn broker_baseline(port: u16, payload: &[u8], count: u64) -> f64 {
    let mut subscriber = connected(port, "baseline-sub").await;
    subscriber.subscribe("bench/baseline").await.unwrap();
    let publisher = connected(port, "baseline-pub").await;
    // A marker round trip proves the subscription is active before timing starts.
    loop {
        publisher
            .publish("bench/baseline", b"ready".to_vec(), false)
            .await
            .unwrap();
        if let Ok(Some(LinkEvent::Message { .. })) =
            tokio::time::timeout(Duration::from_millis(200), subscriber.next()).await
        {
            break;
        }
    }
    while tokio::time::timeout(Duration::from_millis(100), subscriber.next())
        .await
        .is_ok()
    {}
    let begun = Instant::now();
    let sending = {
        let payload = payload.to_vec();
        tokio::spawn(async move {
            for _ in 0..count {
                publisher
                    .publish("bench/baseline", payload.clone(), false)
                    .await
                    .unwrap();
            }
            publisher
        })
    };
    let mut received = 0;
    while received < count {
        if let Some(LinkEvent::Message { .. }) = subscriber.next().await {
            received += 1;
        }
    }
    let elapsed = begun.elapsed();
    drop(sending.await);
    per_second(count, elapsed)
}

async fn connected(port: u16, client_id: &str) -> Link {
    let mut link = Link::start(LinkConfig::new("127.0.0.1", port, client_id)).unwrap();
    while !matches!(link.next().await, Some(LinkEvent::Connected)) {}
    link
}

fn sale_event(station: &str, seq: u64) -> Vec<u8> {
    let today = jiff::Timestamp::now()
        .in_tz("Asia/Seoul")
        .expect("Asia/Seoul is in the bundled time zone database")
        .date();
    sync_protocol::encode(&Envelope {
        event_id: uuid::Uuid::now_v7(),
        origin: station.to_owned(),
        sequence: seq,
        occurred_at: jiff::Timestamp::now(),
        schema_version: sync_protocol::SCHEMA_VERSION,
        stream: None,
        event: Event::SaleSettled(SaleSettled {
            sale_id: uuid::Uuid::now_v7(),
            receipt_no: format!("{station}-{}-{seq:04}", today.strftime("%Y%m%d")),
            business_day: today,
            shift_id: uuid::Uuid::now_v7(),
            cashier: "kim".into(),
            lines: vec![SaleLine {
                line_no: 1,
                product_id: "CD1001".into(),
                tank: Some(1),
                volume_ml: Some(40_000),
                quantity: None,
                unit_price_won: 1650,
                amount_won: 66_000,
                price_source: PriceSource::PriceList,
                price_version: Some(1),
            }],
            total_won: 66_000,
            payment: Payment::Card {
                reference: "BENCH".into(),
            },
        }),
    })
}

fn ingest(runtime: &tokio::runtime::Runtime, stations: usize, per_station: u64) {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let ids: Vec<String> = (1..=stations).map(|n| format!("SIM{n:04}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    hub.set_up(&refs);
    let port = broker.port();
    let elapsed = runtime.block_on(async move {
        let mut tasks = Vec::new();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(stations + 1));
        for id in ids {
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                let mut link = connected(port, &id).await;
                link.subscribe(&topic(&id, Channel::UpAck)).await.unwrap();
                start.wait().await;
                // The station agent's own sender: a window in flight, sent again on silence or
                // when the hub repeats its position (a message lost on the way).
                let up = topic(&id, Channel::Up);
                let mut stream = OutboundStream::new(
                    0,
                    StreamConfig {
                        window: 64,
                        resend_after: Duration::from_secs(1),
                        max_resend_after: Duration::from_secs(8),
                    },
                );
                stream.connected(Instant::now());
                let mut tick = tokio::time::interval(Duration::from_millis(50));
                while stream.acked_through() < per_station {
                    if let Some(range) = stream.to_send(per_station) {
                        for seq in range {
                            link.publish(&up, sale_event(&id, seq), false)
                                .await
                                .unwrap();
                        }
                    }
                    tokio::select! {
                        event = link.next() => {
                            if let Some(LinkEvent::Message { payload, .. }) = event
                                && let Some(ack) = Ack::decode(&payload)
                            {
                                stream.on_ack(ack.through, Instant::now());
                            }
                        }
                        _ = tick.tick() => {
                            stream.on_timeout(Instant::now());
                        }
                    }
                }
            }));
        }
        start.wait().await;
        let begun = Instant::now();
        for task in tasks {
            task.await.unwrap();
        }
        begun.elapsed()
    });
    let total = stations as u64 * per_station;
    let latencies = hub_latencies(&hub);
    println!(
        "ingest: {stations} stations × {per_station} events = {total} in {:.2} s = {:.0} events/s (goal ≥ 10,000)",
        elapsed.as_secs_f64(),
        per_second(total, elapsed)
    );
    println!(
        "ingest: station commit → HQ read model p50 {} ms, p99 {} ms, max {} ms",
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or(0)
    );
}

/// Applied-at minus occurred-at of every station event the hub recorded, sorted (ms).
fn hub_latencies(hub: &Hub) -> Vec<i64> {
    let conn = rusqlite::Connection::open(hub.db_path()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT applied_at_ms - occurred_at_ms FROM events WHERE origin <> 'HQ' ORDER BY 1",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn fan_out(runtime: &tokio::runtime::Runtime, stations: usize) {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let ids: Vec<String> = (1..=stations).map(|n| format!("FAN{n:04}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    hub.set_up(&refs);
    let port = broker.port();
    let (report_tx, mut report_rx) = tokio::sync::mpsc::channel::<Report>(2 * stations);
    let _guard = runtime.enter();
    for id in ids {
        // The first price version came with the registration; the second is the one measured.
        runtime.spawn(simulated_station(
            port,
            id,
            report_tx.clone(),
            |envelope, _| match envelope.sequence {
                1 => Some(Report::Ready),
                2 => Some(Report::Done(Instant::now())),
                _ => None,
            },
        ));
    }
    runtime.block_on(async {
        for _ in 0..stations {
            assert!(matches!(report_rx.recv().await, Some(Report::Ready)));
        }
    });
    let begun = Instant::now();
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1700}]}),
    );
    let latencies = runtime.block_on(latencies_since(begun, &mut report_rx, stations));
    println!(
        "fan-out: a price change to {stations} connected stations: p50 {} ms, p99 {} ms, last {} ms (goal p99 < 2,000 ms)",
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or(0)
    );
}

/// What a simulated station reports to the bench.
enum Report {
    /// It holds the whole catalog (the first full list): ready for the measured version.
    Ready,
    /// It holds every part of the measured version, at this instant.
    Done(Instant),
}

/// A simulated station: says it is online, takes HQ's messages to `id` in order, decodes and
/// acknowledges each, and reports what `seen` makes of it.
async fn simulated_station(
    port: u16,
    id: String,
    report: tokio::sync::mpsc::Sender<Report>,
    mut seen: impl FnMut(&Envelope, &[u8]) -> Option<Report> + Send + 'static,
) {
    let mut link = connected(port, &id).await;
    link.subscribe(&topic(&id, Channel::Down)).await.unwrap();
    let online = StationStatus {
        online: true,
        down_through: Some(0),
        ..StationStatus::offline()
    };
    link.publish(&topic(&id, Channel::Status), online.encode(), true)
        .await
        .unwrap();
    let mut applied = 0;
    while let Some(event) = link.next().await {
        let LinkEvent::Message {
            topic: name,
            payload,
        } = event
        else {
            continue;
        };
        if !matches!(parse_topic(&name), Some((_, Channel::Down))) {
            continue;
        }
        let Ok(envelope) = sync_protocol::decode(&payload) else {
            continue;
        };
        if envelope.sequence != applied + 1 {
            continue;
        }
        applied = envelope.sequence;
        let ack = Ack::agreed(applied, envelope.stream.map(|s| s.id));
        link.publish(&topic(&id, Channel::DownAck), ack.encode(), false)
            .await
            .unwrap();
        if let Some(said) = seen(&envelope, &payload) {
            report.send(said).await.unwrap();
        }
    }
}

/// Waits for `stations` reports of `Done`; the milliseconds each took since `begun`, sorted.
async fn latencies_since(
    begun: Instant,
    reports: &mut tokio::sync::mpsc::Receiver<Report>,
    stations: usize,
) -> Vec<i64> {
    let mut out = Vec::new();
    for _ in 0..stations {
        let Some(Report::Done(at)) = reports.recv().await else {
            panic!("a station reported out of turn");
        };
        out.push(i64::try_from(at.duration_since(begun).as_millis()).unwrap());
    }
    out.sort_unstable();
    out
}

fn catalog_item(i: usize) -> String {
    format!("SH{i:05}")
}

fn fan_out_catalog(runtime: &tokio::runtime::Runtime, stations: usize, items: usize) {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let ids: Vec<String> = (1..=stations).map(|n| format!("FAN{n:04}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    hub.set_up(&refs);
    for i in 0..items {
        hub.put(
            &format!("/api/products/{}", catalog_item(i)),
            &json!({"name": format!("{i}번 바삭한 김스낵 대용량 묶음"), "unit": "piece"}),
        );
    }
    let publish = |base: usize| {
        let prices: Vec<_> = (0..items)
            .map(|i| json!({"product": catalog_item(i), "unit_price_won": base + i}))
            .collect();
        hub.post("/api/prices", &json!({ "prices": prices }))["version"]
            .as_u64()
            .unwrap()
    };
    // The catalog every station holds before the measured change (sent as a full list).
    let catalog_version = publish(1_000);
    let measured_version = catalog_version + 1;
    let port = broker.port();
    let (report_tx, mut report_rx) = tokio::sync::mpsc::channel::<Report>(2 * stations);
    let (kept_tx, kept_rx) = std::sync::mpsc::channel::<Vec<Vec<u8>>>();
    let _guard = runtime.enter();
    for (n, id) in ids.into_iter().enumerate() {
        // The first station keeps what it received, for the real database to apply afterwards.
        let keep = (n == 0).then(|| kept_tx.clone());
        let mut kept = Vec::new();
        runtime.spawn(simulated_station(
            port,
            id,
            report_tx.clone(),
            move |envelope, payload| {
                if keep.is_some() {
                    kept.push(payload.to_vec());
                }
                let Event::PriceChanged(change) = &envelope.event else {
                    return None;
                };
                if change.part.part != change.part.parts {
                    return None;
                }
                if change.version == catalog_version {
                    return Some(Report::Ready);
                }
                if change.version != measured_version {
                    return None;
                }
                if let Some(keep) = &keep {
                    keep.send(std::mem::take(&mut kept)).unwrap();
                }
                Some(Report::Done(Instant::now()))
            },
        ));
    }
    let ready_since = Instant::now();
    runtime.block_on(async {
        for _ in 0..stations {
            assert!(matches!(report_rx.recv().await, Some(Report::Ready)));
        }
    });
    println!(
        "fan-out-catalog: {stations} stations hold the {items}-item catalog (full list) after {} ms",
        ready_since.elapsed().as_millis()
    );
    let begun = Instant::now();
    assert_eq!(publish(2_000), measured_version);
    let published = begun.elapsed();
    let latencies = runtime.block_on(latencies_since(begun, &mut report_rx, stations));
    println!(
        "fan-out-catalog: a version changing all {items} prices to {stations} stations: HQ's publish answered in {} ms; every part held: p50 {} ms, p99 {} ms, last {} ms",
        published.as_millis(),
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or(0)
    );
    let kept = kept_rx.recv().unwrap();
    let apply = apply_to_a_real_station(&kept, measured_version);
    println!(
        "fan-out-catalog: one station database applies the {items}-item version in {} ms; p99 to applied: {} ms (goal < 5,000 ms)",
        apply.as_millis(),
        i64::try_from(apply.as_millis()).unwrap() + percentile(&latencies, 99)
    );
}

/// Applies HQ's messages, as received, to a new station database (a file, as at a station) and
/// returns how long the messages of version `measured` took.
fn apply_to_a_real_station(messages: &[Vec<u8>], measured: u64) -> Duration {
    let station = Station::new("FAN0001", 1);
    let mut core = station_core::Station::open(&station.db()).unwrap();
    let mut spent = Duration::ZERO;
    for message in messages {
        let envelope = sync_protocol::decode(message).unwrap();
        let timed = matches!(&envelope.event, Event::PriceChanged(c) if c.version == measured);
        let started = Instant::now();
        let outcome = core
            .apply_hub_message(message, jiff::Timestamp::now())
            .unwrap();
        if timed {
            spent += started.elapsed();
        }
        assert!(
            matches!(outcome, station_core::InboxOutcome::Applied { .. }),
            "{outcome:?}"
        );
    }
    let started = Instant::now();
    core.apply_due_price_version(jiff::Timestamp::now())
        .unwrap();
    spent += started.elapsed();
    let in_force = core
        .price_in_force(
            &catalog_item(4_999).parse().unwrap(),
            jiff::Timestamp::now(),
        )
        .unwrap();
    assert_eq!(
        in_force.version, measured,
        "the measured version is in force"
    );
    spent
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-6)
}

fn percentile(sorted: &[i64], p: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let index = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}
