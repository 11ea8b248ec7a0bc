//! The hub's operations and read models, driven through `Hub` on a real SQLite file: stations,
//! price versions, the exchange of events with stations (inbox, dead letters, outbox) and the
//! read models the events move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calendar;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cloud_hub::metrics::Metrics;
use cloud_hub::{
    DeadLetterView, Hub, HubError, NewShipment, NewStation, OperatingType, OrderView,
    PriceItemView, PriceVersionView, ProductView, Received, ReceivedOutcome, SalesRowView,
    ShipmentView, StationStatusView, StationView, TankStockView,
};
use jiff::Timestamp;
use jiff::civil::Date;
use sync_protocol::{
    DeliveryConfirmed, Envelope, Event, OrderCanceled, OrderPlaced, Payment, PriceChanged,
    PriceItem, PriceSource, PriceVersionApplied, ProductUnit, SaleCanceled, SaleLine, SaleSettled,
    ShiftClosed, StockAdjusted, TankRegistered,
};
use tempfile::TempDir;
use uuid::Uuid;

use calendar::{day, day_text, stamp, time};

// ---- the fixture

/// A hub on a fresh database file in its own directory.
#[derive(Debug)]
struct Fixture {
    hub: Hub,
    _dir: TempDir,
}

fn open() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(&dir.path().join("hub.db"), Arc::new(Metrics::default())).unwrap();
    Fixture { hub, _dir: dir }
}

fn new_station(id: &str, name: &str) -> NewStation {
    NewStation {
        station: id.to_owned(),
        name: name.to_owned(),
        operating_type: OperatingType::DirectlyManaged,
        region: String::new(),
    }
}

/// A hub with the product master (two fuels and a shop item) and the given stations.
fn hub_with_stations(stations: &[&str]) -> Fixture {
    let mut f = open();
    f.hub
        .upsert_product("GAS95", "Gasoline 95", ProductUnit::Litre)
        .unwrap();
    f.hub
        .upsert_product("DSL", "Diesel", ProductUnit::Litre)
        .unwrap();
    f.hub
        .upsert_product("WATER", "Water 500 ml", ProductUnit::Piece)
        .unwrap();
    for id in stations {
        f.hub
            .register_station(new_station(id, "Station"), time(1, "00:00:00"))
            .unwrap();
    }
    f
}

fn prices(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(p, w)| ((*p).to_owned(), *w)).collect()
}

/// Everything the hub shows and keeps per station, to compare whole states.
#[derive(Debug, PartialEq)]
struct State {
    stations: Vec<StationView>,
    statuses: Vec<StationStatusView>,
    products: Vec<ProductView>,
    prices: Vec<PriceVersionView>,
    orders: Vec<OrderView>,
    sales: Vec<SalesRowView>,
    stock: Vec<TankStockView>,
    dead_letters: Vec<DeadLetterView>,
    auto_dispatch: bool,
    sync: Vec<StationSync>,
}

/// One station's side of the sync as the hub keeps it.
#[derive(Debug, PartialEq)]
struct StationSync {
    station: String,
    /// The station's messages handled.
    inbox: u64,
    /// The last message towards the station, and how far it acknowledged.
    outbox_position: (u64, u64),
    outbox: Vec<(u64, Vec<u8>)>,
}

fn state(hub: &Hub) -> State {
    let sync = hub
        .station_ids()
        .unwrap()
        .into_iter()
        .map(|station| StationSync {
            inbox: hub.applied_through(&station).unwrap(),
            outbox_position: hub.outbox_position(&station).unwrap(),
            outbox: hub.outbox_messages(&station, 0, 10_000).unwrap(),
            station,
        })
        .collect();
    State {
        stations: hub.stations().unwrap(),
        statuses: hub.station_statuses().unwrap(),
        products: hub.products().unwrap(),
        prices: hub.price_versions().unwrap(),
        orders: hub.orders(None).unwrap(),
        sales: hub.sales(None, None).unwrap(),
        stock: hub.tank_stock(None).unwrap(),
        dead_letters: hub.dead_letters(10_000).unwrap(),
        auto_dispatch: hub.auto_dispatch().unwrap(),
        sync,
    }
}

/// The events in `station`'s outbox, decoded.
fn outbox_events(hub: &Hub, station: &str) -> Vec<Envelope> {
    hub.outbox_messages(station, 0, 10_000)
        .unwrap()
        .into_iter()
        .map(|(seq, bytes)| {
            let envelope = sync_protocol::decode(&bytes).unwrap();
            assert_eq!(envelope.sequence, seq);
            assert_eq!(envelope.origin, sync_protocol::HUB_ORIGIN);
            envelope
        })
        .collect()
}

// ---- a station's side of the stream

static EVENT_IDS: AtomicU64 = AtomicU64::new(1);

fn envelope(origin: &str, seq: u64, event: Event, occurred_at: Timestamp) -> Vec<u8> {
    sync_protocol::encode(&Envelope {
        event_id: Uuid::from_u128(u128::from(EVENT_IDS.fetch_add(1, Ordering::Relaxed))),
        origin: origin.to_owned(),
        sequence: seq,
        occurred_at,
        schema_version: sync_protocol::SCHEMA_VERSION,
        stream: None,
        event,
    })
}

/// A station sending its events in sequence.
#[derive(Debug)]
struct Station {
    id: String,
    next_seq: u64,
}

impl Station {
    fn new(id: &str) -> Station {
        Station {
            id: id.to_owned(),
            next_seq: 1,
        }
    }

    /// The next message of the station's sequence.
    fn next(&mut self, event: Event, occurred_at: Timestamp) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq += 1;
        envelope(&self.id, seq, event, occurred_at)
    }

    /// Sends the next message and expects it applied.
    fn send(&mut self, hub: &mut Hub, event: Event, occurred_at: Timestamp, now: Timestamp) {
        let message = self.next(event, occurred_at);
        let seq = self.next_seq - 1;
        let received = hub
            .receive_station_message(&self.id, &message, now)
            .unwrap();
        assert_eq!(
            received,
            Received {
                outcome: ReceivedOutcome::Applied { seq },
                ack_through: Some(seq),
                stream: None,
                verdict: sync_protocol::transport::Verdict::Agreed,
            }
        );
    }
}

fn tank_registered(tank: u16, product: &str, capacity_ml: i64) -> Event {
    Event::TankRegistered(TankRegistered {
        tank,
        product_id: product.to_owned(),
        capacity_ml,
    })
}

fn order_placed(order: Uuid, product: &str, volume_ml: i64, wanted: Date) -> Event {
    Event::OrderPlaced(OrderPlaced {
        order_id: order,
        product_id: product.to_owned(),
        volume_ml,
        wanted_date: wanted,
        ordered_by: "kim".to_owned(),
    })
}

fn fuel_line(line_no: u16, product: &str, tank: u16, volume_ml: i64, amount_won: i64) -> SaleLine {
    SaleLine {
        line_no,
        product_id: product.to_owned(),
        tank: Some(tank),
        volume_ml: Some(volume_ml),
        quantity: None,
        unit_price_won: 1700,
        amount_won,
        price_source: PriceSource::PriceList,
        price_version: Some(1),
    }
}

fn shop_line(line_no: u16, product: &str, quantity: i64, amount_won: i64) -> SaleLine {
    SaleLine {
        line_no,
        product_id: product.to_owned(),
        tank: None,
        volume_ml: None,
        quantity: Some(quantity),
        unit_price_won: amount_won / quantity,
        amount_won,
        price_source: PriceSource::PriceList,
        price_version: Some(1),
    }
}

fn sale(sale_id: Uuid, day: Date, lines: Vec<SaleLine>) -> SaleSettled {
    let total_won = lines.iter().map(|l| l.amount_won).sum();
    SaleSettled {
        sale_id,
        receipt_no: format!("R-{}", sale_id.as_u128()),
        business_day: day,
        shift_id: Uuid::from_u128(7),
        cashier: "lee".to_owned(),
        lines,
        total_won,
        payment: Payment::Card {
            reference: "approval-1".to_owned(),
        },
    }
}

fn cancellation(sale: &SaleSettled, day: Date) -> Event {
    Event::SaleCanceled(SaleCanceled {
        cancellation_id: Uuid::from_u128(sale.sale_id.as_u128() + 1000),
        sale_id: sale.sale_id,
        business_day: day,
        sale_business_day: sale.business_day,
        reason: "customer changed mind".to_owned(),
        canceled_by: "lee".to_owned(),
        approved_by: "park".to_owned(),
        lines: sale.lines.clone(),
        total_won: sale.total_won,
    })
}

fn code_of<T: std::fmt::Debug>(result: Result<T, HubError>) -> &'static str {
    result.unwrap_err().code()
}

fn dead_lettered(seq: Option<u64>, code: &str, ack_through: Option<u64>) -> Received {
    Received {
        outcome: ReceivedOutcome::DeadLettered {
            seq,
            code: code.to_owned(),
        },
        ack_through,
        stream: None,
        verdict: sync_protocol::transport::Verdict::Agreed,
    }
}

/// A message of `station` at `seq` whose JSON is changed by `edit` after encoding.
fn edited(station: &str, seq: u64, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let bytes = envelope(
        station,
        seq,
        tank_registered(1, "GAS95", 20_000_000),
        time(2, "01:00:00"),
    );
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

// ---- stations

#[test]
fn registering_a_station_refuses_bad_ids_and_names_and_changes_nothing() {
    let mut f = hub_with_stations(&["ST0001"]);
    let before = state(&f.hub);
    let now = time(2, "00:00:00");
    for bad in [
        "",
        "st0001",
        "0ST",
        "ST-01",
        "ST 1",
        "HQ",
        "ABCDEFGHIJKLMNOPQ",
    ] {
        let result = f.hub.register_station(new_station(bad, "Gangnam"), now);
        assert_eq!(code_of(result), "invalid_input", "station id {bad:?}");
    }
    let long = "x".repeat(101);
    for bad in ["", "   ", long.as_str()] {
        let result = f.hub.register_station(new_station("ST0002", bad), now);
        assert_eq!(code_of(result), "invalid_input", "station name {bad:?}");
    }
    assert_eq!(code_of("partner".parse::<OperatingType>()), "invalid_input");
    assert_eq!(state(&f.hub), before);
}

#[test]
fn registering_a_station_twice_is_refused_with_station_exists() {
    let mut f = hub_with_stations(&["ST0001"]);
    let before = state(&f.hub);
    let again = f
        .hub
        .register_station(new_station("ST0001", "Other"), time(2, "00:00:00"));
    assert_eq!(code_of(again), "station_exists");
    assert_eq!(state(&f.hub), before);
}

#[test]
fn a_registered_station_is_listed_with_its_trimmed_name_and_type() {
    let mut f = open();
    let now = time(2, "09:30:00");
    let view = f
        .hub
        .register_station(
            NewStation {
                station: "ABCDEFGHIJKLMNOP".to_owned(),
                name: "  Gangnam  ".to_owned(),
                operating_type: "franchise".parse().unwrap(),
                region: " 서울 ".to_owned(),
            },
            now,
        )
        .unwrap();
    let expected = StationView {
        station: "ABCDEFGHIJKLMNOP".to_owned(),
        name: "Gangnam".to_owned(),
        operating_type: "franchise".to_owned(),
        registered_at: stamp(2, "09:30:00"),
        region: "서울".to_owned(),
    };
    assert_eq!(view, expected);
    assert_eq!(f.hub.stations().unwrap(), vec![expected.clone()]);
    assert_eq!(f.hub.station("ABCDEFGHIJKLMNOP").unwrap(), expected);
    assert_eq!(code_of(f.hub.station("ST9999")), "unknown_station");
    assert_eq!(
        f.hub.station_statuses().unwrap(),
        vec![StationStatusView {
            station: "ABCDEFGHIJKLMNOP".to_owned(),
            name: "Gangnam".to_owned(),
            online: false,
            last_seen: None,
            events_applied_through: 0,
            events_waiting_to_station: 0,
            price_version_applied: None,
            price_applied_at: None,
        }]
    );
    // No price version yet: nothing to send.
    assert_eq!(f.hub.outbox_position("ABCDEFGHIJKLMNOP").unwrap(), (0, 0));
    assert!(outbox_events(&f.hub, "ABCDEFGHIJKLMNOP").is_empty());
}

#[test]
fn a_new_station_is_sent_the_price_version_in_force_and_the_scheduled_ones() {
    let mut f = hub_with_stations(&[]);
    let publish = time(1, "00:00:00");
    f.hub
        .publish_price_version(
            &prices(&[("GAS95", 1650), ("DSL", 1500)]),
            Some(time(1, "00:00:00")),
            "admin",
            publish,
        )
        .unwrap();
    f.hub
        .publish_price_version(
            &prices(&[("GAS95", 1700)]),
            Some(time(2, "00:00:00")),
            "admin",
            publish,
        )
        .unwrap();
    f.hub
        .publish_price_version(
            &prices(&[("WATER", 1000)]),
            Some(time(10, "00:00:00")),
            "admin",
            publish,
        )
        .unwrap();

    let now = time(5, "00:00:00");
    f.hub
        .register_station(new_station("ST0001", "Gangnam"), now)
        .unwrap();

    let sent = outbox_events(&f.hub, "ST0001");
    let versions: Vec<(u64, u64)> = sent
        .iter()
        .map(|e| match &e.event {
            Event::PriceChanged(change) => (e.sequence, change.version),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(versions, vec![(1, 2), (2, 3)]);
    assert_eq!(
        sent[0].event,
        Event::PriceChanged(PriceChanged {
            base_version: None,
            part: sync_protocol::Part::WHOLE,
            version: 2,
            effective_at: time(2, "00:00:00"),
            items: vec![
                PriceItem {
                    product_id: "DSL".to_owned(),
                    name: "Diesel".to_owned(),
                    unit: ProductUnit::Litre,
                    unit_price_won: 1500,
                },
                PriceItem {
                    product_id: "GAS95".to_owned(),
                    name: "Gasoline 95".to_owned(),
                    unit: ProductUnit::Litre,
                    unit_price_won: 1700,
                },
            ],
        })
    );
    assert_eq!(sent[0].occurred_at, now);
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (2, 0));
    assert_eq!(
        f.hub.station_statuses().unwrap()[0].events_waiting_to_station,
        2
    );
}

// ---- price versions

#[test]
fn a_bad_price_version_is_refused_and_changes_nothing() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "00:00:00");
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1700)]), None, "admin", now)
        .unwrap();
    let before = state(&f.hub);

    let empty = f.hub.publish_price_version(&[], None, "admin", now);
    assert!(matches!(empty, Err(HubError::EmptyPriceVersion)));
    let unknown = f.hub.publish_price_version(
        &prices(&[("DSL", 1500), ("KEROSENE", 1300)]),
        None,
        "admin",
        now,
    );
    assert!(
        matches!(&unknown, Err(HubError::UnknownProduct(p)) if p == "KEROSENE"),
        "{unknown:?}"
    );
    for bad in [0, -1700, 1_000_001] {
        let result = f.hub.publish_price_version(
            &prices(&[("DSL", 1500), ("GAS95", bad)]),
            None,
            "admin",
            now,
        );
        assert_eq!(code_of(result), "invalid_input", "price {bad}");
    }
    assert_eq!(state(&f.hub), before);

    // The refused ones used no version number.
    let next = f
        .hub
        .publish_price_version(&prices(&[("DSL", 1_000_000)]), None, "admin", now)
        .unwrap();
    assert_eq!(next.version, 2);
}

#[test]
fn a_price_version_carries_over_the_products_it_leaves_out() {
    let mut f = hub_with_stations(&["ST0001", "ST0002"]);
    let first_at = time(2, "00:00:00");
    let first = f
        .hub
        .publish_price_version(
            &prices(&[("GAS95", 1700), ("DSL", 1500), ("WATER", 1000)]),
            None,
            "admin",
            first_at,
        )
        .unwrap();
    let second_at = time(3, "00:00:00");
    let second = f
        .hub
        .publish_price_version(
            &prices(&[("GAS95", 1750)]),
            Some(time(4, "06:00:00")),
            "kim",
            second_at,
        )
        .unwrap();

    let item = |product: &str, name: &str, unit: &str, won| PriceItemView {
        product: product.to_owned(),
        name: name.to_owned(),
        unit: unit.to_owned(),
        unit_price_won: won,
    };
    assert_eq!(
        second,
        PriceVersionView {
            version: 2,
            effective_at: stamp(4, "06:00:00"),
            created_by: "kim".to_owned(),
            created_at: stamp(3, "00:00:00"),
            items: vec![
                item("DSL", "Diesel", "litre", 1500),
                item("GAS95", "Gasoline 95", "litre", 1750),
                item("WATER", "Water 500 ml", "piece", 1000),
            ],
            stations_applied: 0,
        }
    );
    assert_eq!(first.effective_at, stamp(2, "00:00:00"));
    assert_eq!(f.hub.price_versions().unwrap(), vec![second.clone(), first]);
    assert_eq!(f.hub.price_version(2).unwrap(), second);

    // Every station hears each version, in order: the first as the full list, the next as what
    // changed since it.
    for station in ["ST0001", "ST0002"] {
        let sent = outbox_events(&f.hub, station);
        assert_eq!(sent.len(), 2);
        let Event::PriceChanged(change) = &sent[1].event else {
            panic!("{:?}", sent[1].event);
        };
        assert_eq!(change.version, 2);
        assert_eq!(change.base_version, Some(1));
        let changed: Vec<(&str, i64)> = change
            .items
            .iter()
            .map(|i| (i.product_id.as_str(), i.unit_price_won))
            .collect();
        assert_eq!(changed, vec![("GAS95", 1750)]);
        let Event::PriceChanged(change) = &sent[0].event else {
            panic!("{:?}", sent[0].event);
        };
        assert_eq!(change.base_version, None);
        let listed: Vec<&str> = change.items.iter().map(|i| i.product_id.as_str()).collect();
        assert_eq!(listed, vec!["DSL", "GAS95", "WATER"]);
        assert_eq!(f.hub.outbox_position(station).unwrap(), (2, 0));
    }
}

#[test]
fn stations_applied_counts_the_stations_at_that_version_or_newer() {
    let mut f = hub_with_stations(&["ST0001", "ST0002", "ST0003"]);
    let now = time(2, "00:00:00");
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1700)]), None, "admin", now)
        .unwrap();
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1710)]), None, "admin", now)
        .unwrap();

    let applied = |version, minute: &str| {
        Event::PriceVersionApplied(PriceVersionApplied {
            version,
            applied_at: time(2, &format!("00:{minute}:00")),
        })
    };
    let mut one = Station::new("ST0001");
    one.send(&mut f.hub, applied(1, "01"), now, now);
    one.send(&mut f.hub, applied(2, "02"), now, now);
    let mut two = Station::new("ST0002");
    two.send(&mut f.hub, applied(1, "03"), now, now);

    assert_eq!(f.hub.price_version(1).unwrap().stations_applied, 2);
    assert_eq!(f.hub.price_version(2).unwrap().stations_applied, 1);
    let statuses: Vec<(String, Option<u64>, Option<String>)> = f
        .hub
        .station_statuses()
        .unwrap()
        .into_iter()
        .map(|s| (s.station, s.price_version_applied, s.price_applied_at))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("ST0001".to_owned(), Some(2), Some(stamp(2, "00:02:00"))),
            ("ST0002".to_owned(), Some(1), Some(stamp(2, "00:03:00"))),
            ("ST0003".to_owned(), None, None),
        ]
    );
}

// ---- receiving station messages

#[test]
fn the_next_message_is_applied_and_acknowledged() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:05");
    let mut st = Station::new("ST0001");
    let message = st.next(tank_registered(1, "GAS95", 20_000_000), time(2, "01:00:00"));
    let received = f
        .hub
        .receive_station_message("ST0001", &message, now)
        .unwrap();
    assert_eq!(
        received,
        Received {
            outcome: ReceivedOutcome::Applied { seq: 1 },
            ack_through: Some(1),
            stream: None,
            verdict: sync_protocol::transport::Verdict::Agreed,
        }
    );
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 1);
    assert_eq!(
        f.hub.tank_stock(None).unwrap(),
        vec![TankStockView {
            station: "ST0001".to_owned(),
            tank: 1,
            product: "GAS95".to_owned(),
            capacity_ml: 20_000_000,
            book_stock_ml: 0,
        }]
    );
    let status = &f.hub.station_statuses().unwrap()[0];
    assert_eq!(status.events_applied_through, 1);
    assert_eq!(
        status.last_seen.as_deref(),
        Some(stamp(2, "01:00:05").as_str())
    );
    let metrics = f.hub.metrics();
    assert_eq!(
        (metrics.events_received.get(), metrics.events_applied.get()),
        (1, 1)
    );
}

#[test]
fn a_duplicate_is_acknowledged_at_its_own_place_once_its_event_id_matches_and_changes_nothing() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let mut st = Station::new("ST0001");
    let first = st.next(tank_registered(1, "GAS95", 20_000_000), now);
    f.hub
        .receive_station_message("ST0001", &first, now)
        .unwrap();
    st.send(
        &mut f.hub,
        Event::StockAdjusted(StockAdjusted {
            adjustment_id: Uuid::from_u128(1),
            tank: 1,
            product_id: "GAS95".to_owned(),
            delta_ml: 1_000,
            reason: "dip".to_owned(),
            approved_by: "park".to_owned(),
        }),
        now,
        now,
    );
    let before = state(&f.hub);

    let again = f
        .hub
        .receive_station_message("ST0001", &first, time(2, "02:00:00"))
        .unwrap();
    assert_eq!(
        again,
        Received {
            outcome: ReceivedOutcome::Duplicate { seq: 1 },
            ack_through: Some(1),
            stream: None,
            verdict: sync_protocol::transport::Verdict::Agreed,
        }
    );
    assert_eq!(state(&f.hub), before);
    assert_eq!(f.hub.metrics().duplicates.get(), 1);
    assert_eq!(f.hub.metrics().events_applied.get(), 2);
}

#[test]
fn a_message_after_a_gap_is_dropped_and_the_last_position_acknowledged() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let mut st = Station::new("ST0001");
    st.send(
        &mut f.hub,
        tank_registered(1, "GAS95", 20_000_000),
        now,
        now,
    );
    let before = state(&f.hub);

    let ahead = envelope("ST0001", 3, tank_registered(2, "DSL", 10_000_000), now);
    let received = f
        .hub
        .receive_station_message("ST0001", &ahead, time(2, "02:00:00"))
        .unwrap();
    assert_eq!(
        received,
        Received {
            outcome: ReceivedOutcome::AfterGap {
                seq: 3,
                expected: 2
            },
            ack_through: Some(1),
            stream: None,
            verdict: sync_protocol::transport::Verdict::Agreed,
        }
    );
    assert_eq!(state(&f.hub), before);
    assert_eq!(f.hub.metrics().dead_letters.get(), 0);
}

#[test]
fn an_undecodable_message_in_its_place_is_dead_lettered_and_the_position_moves() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let bad = edited("ST0001", 1, |v| v["payload"]["capacity_ml"] = "lots".into());
    let before = state(&f.hub);

    let received = f.hub.receive_station_message("ST0001", &bad, now).unwrap();
    assert_eq!(received, dead_lettered(Some(1), "invalid_payload", Some(1)));
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 1);
    let letters = f.hub.dead_letters(10).unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(
        (letter.station.as_deref(), letter.seq, letter.code.as_str()),
        (Some("ST0001"), Some(1), "invalid_payload")
    );
    assert!(letter.reason.contains("capacity_ml"), "{}", letter.reason);
    assert_eq!(letter.message.as_bytes(), bad.as_slice());
    assert_eq!(letter.received_at, stamp(2, "01:00:00"));
    // Nothing else moved.
    let after = state(&f.hub);
    assert_eq!(after.stock, before.stock);
    assert_eq!(after.orders, before.orders);
    assert_eq!(after.sales, before.sales);

    // It never blocks the messages behind it.
    let mut st = Station::new("ST0001");
    st.next_seq = 2;
    st.send(&mut f.hub, tank_registered(2, "DSL", 10_000_000), now, now);
    assert_eq!(f.hub.tank_stock(None).unwrap().len(), 1);
    assert_eq!(f.hub.metrics().dead_letters.get(), 1);
}

#[test]
fn a_message_of_a_newer_schema_is_held_without_taking_its_place_until_the_hub_reads_it() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let newer = edited("ST0001", 1, |v| {
        v["schema"] = (sync_protocol::SCHEMA_VERSION + 1).into();
    });
    let received = f
        .hub
        .receive_station_message("ST0001", &newer, now)
        .unwrap();
    assert_eq!(
        received.outcome,
        ReceivedOutcome::Held {
            seq: Some(1),
            code: "unsupported_schema".into()
        }
    );
    assert_eq!(received.ack_through, None);
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 0);
    assert!(f.hub.dead_letters(10).unwrap().is_empty());
    // A hub that reads only schema 1 holds a message of the current schema the same way;
    // upgraded, it applies it.
    let current = edited("ST0001", 1, |_| {});
    f.hub.read_schema_up_to(1);
    let held = f
        .hub
        .receive_station_message("ST0001", &current, now)
        .unwrap();
    assert!(
        matches!(held.outcome, ReceivedOutcome::Held { .. }),
        "{held:?}"
    );
    f.hub.read_schema_up_to(sync_protocol::SCHEMA_VERSION);
    let applied = f
        .hub
        .receive_station_message("ST0001", &current, now)
        .unwrap();
    assert_eq!(applied.outcome, ReceivedOutcome::Applied { seq: 1 });
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 1);
}

#[test]
fn a_message_that_is_not_json_is_dead_lettered_without_a_place() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let received = f
        .hub
        .receive_station_message("ST0001", b"\xffnot json", now)
        .unwrap();
    assert_eq!(received, dead_lettered(None, "not_json", None));
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 0);
    let letter = &f.hub.dead_letters(10).unwrap()[0];
    assert_eq!((letter.seq, letter.code.as_str()), (None, "not_json"));
}

#[test]
fn an_undecodable_repeat_of_an_applied_position_is_a_duplicate() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    Station::new("ST0001").send(&mut f.hub, tank_registered(1, "GAS95", 1_000), now, now);
    let before = state(&f.hub);
    let bad = edited("ST0001", 1, |v| v["payload"] = serde_json::Value::Null);
    let received = f.hub.receive_station_message("ST0001", &bad, now).unwrap();
    assert_eq!(
        received,
        Received {
            outcome: ReceivedOutcome::Duplicate { seq: 1 },
            ack_through: Some(1),
            stream: None,
            verdict: sync_protocol::transport::Verdict::Agreed,
        }
    );
    assert_eq!(state(&f.hub), before);
}

#[test]
fn an_unknown_kind_is_dead_lettered_in_its_place() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let unknown = edited("ST0001", 1, |v| v["kind"] = "fuel_stolen".into());
    let received = f
        .hub
        .receive_station_message("ST0001", &unknown, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(1), "unknown_kind", Some(1)));
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 1);
    assert!(f.hub.tank_stock(None).unwrap().is_empty());
    let letter = &f.hub.dead_letters(10).unwrap()[0];
    assert!(letter.reason.contains("fuel_stolen"), "{}", letter.reason);
}

#[test]
fn an_hq_kind_sent_by_a_station_is_dead_lettered_as_wrong_direction() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1700)]), None, "admin", now)
        .unwrap();
    let before = state(&f.hub);
    let forged = envelope(
        "ST0001",
        1,
        Event::PriceChanged(PriceChanged {
            base_version: None,
            part: sync_protocol::Part::WHOLE,
            version: 9,
            effective_at: now,
            items: vec![],
        }),
        now,
    );
    let received = f
        .hub
        .receive_station_message("ST0001", &forged, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(1), "wrong_direction", Some(1)));
    let after = state(&f.hub);
    assert_eq!(after.prices, before.prices);
    assert_eq!(
        after.sync[0].outbox_position, before.sync[0].outbox_position,
        "outbox position"
    );
    assert_eq!(after.sync[0].inbox, 1, "inbox position");
    assert_eq!(after.dead_letters.len(), 1);
    assert_eq!(after.dead_letters[0].code, "wrong_direction");
}

#[test]
fn a_message_of_another_origin_on_a_stations_topic_is_dead_lettered_without_acknowledgement() {
    let mut f = hub_with_stations(&["ST0001", "ST0002"]);
    let now = time(2, "01:00:00");
    let foreign = envelope("ST0002", 1, tank_registered(1, "GAS95", 1_000), now);
    let before = state(&f.hub);
    let received = f
        .hub
        .receive_station_message("ST0001", &foreign, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(1), "foreign_origin", None));
    let after = state(&f.hub);
    assert_eq!(after.sync, before.sync, "neither station's position moved");
    assert_eq!(after.stock, before.stock);
    let letter = &after.dead_letters[0];
    assert_eq!(
        (letter.station.as_deref(), letter.seq, letter.code.as_str()),
        (Some("ST0001"), Some(1), "foreign_origin")
    );
}

#[test]
fn a_message_from_an_unknown_station_is_held_once_without_a_row_per_copy() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let message = envelope("ST0009", 1, tank_registered(1, "GAS95", 1_000), now);
    let before = state(&f.hub);
    let received = f
        .hub
        .receive_station_message("ST0009", &message, now)
        .unwrap();
    assert_eq!(
        received.outcome,
        ReceivedOutcome::Held {
            seq: Some(1),
            code: "unknown_station".into()
        }
    );
    assert_eq!(received.ack_through, None, "nothing is acknowledged");
    // The station asks again and again: nothing is stored per copy.
    for _ in 0..50 {
        f.hub
            .receive_station_message("ST0009", &message, now)
            .unwrap();
    }
    let after = state(&f.hub);
    assert_eq!(after.sync, before.sync);
    assert_eq!(after.stock, before.stock);
    assert_eq!(after.dead_letters, before.dead_letters);
    assert_eq!(f.hub.applied_through("ST0009").unwrap(), 0);
    assert_eq!(f.hub.metrics().dead_letters.get(), 0);
    assert_eq!(f.hub.metrics().held.get(), 51);
    // Once registered, the same message is applied.
    f.hub
        .register_station(
            NewStation {
                station: "ST0009".into(),
                name: "Ninth".into(),
                operating_type: OperatingType::DirectlyManaged,
                region: String::new(),
            },
            now,
        )
        .unwrap();
    let received = f
        .hub
        .receive_station_message("ST0009", &message, now)
        .unwrap();
    assert_eq!(received.outcome, ReceivedOutcome::Applied { seq: 1 });
}

#[test]
fn an_event_that_cannot_be_applied_is_dead_lettered_in_its_place() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let before = state(&f.hub);
    let cancel_unknown = envelope(
        "ST0001",
        1,
        Event::OrderCanceled(OrderCanceled {
            order_id: Uuid::from_u128(404),
            reason: "no longer needed".to_owned(),
            canceled_by: "kim".to_owned(),
        }),
        now,
    );
    let received = f
        .hub
        .receive_station_message("ST0001", &cancel_unknown, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(1), "unknown_order", Some(1)));
    let after = state(&f.hub);
    assert_eq!(after.orders, before.orders);
    assert_eq!(after.sync[0].inbox, 1);
    // Counted as handled: the station's position moved past it.
    assert_eq!(after.statuses[0].events_applied_through, 1);
}

// ---- the read models after a day at a station

#[test]
fn the_read_models_follow_a_day_at_a_station() {
    let mut f = hub_with_stations(&["ST0001", "ST0002"]);
    let t = |hms: &str| time(2, hms);
    f.hub
        .publish_price_version(
            &prices(&[("GAS95", 1700), ("DSL", 1600), ("WATER", 1000)]),
            None,
            "admin",
            t("00:00:00"),
        )
        .unwrap();
    let (day, next_day) = (day(2), day(3));
    let order = Uuid::from_u128(0x0100);
    let mut st = Station::new("ST0001");

    st.send(
        &mut f.hub,
        tank_registered(1, "GAS95", 20_000_000),
        t("06:00:00"),
        t("06:00:01"),
    );
    st.send(
        &mut f.hub,
        tank_registered(2, "DSL", 20_000_000),
        t("06:00:00"),
        t("06:00:01"),
    );
    st.send(
        &mut f.hub,
        order_placed(order, "GAS95", 10_000_000, next_day),
        t("06:10:00"),
        t("06:10:02"),
    );
    let dispatched = f
        .hub
        .dispatch_shipment(
            &order.to_string(),
            NewShipment {
                truck: " T-12 ".to_owned(),
                volume_ml: 9_800_000,
                expected_at: Some(t("14:00:00")),
            },
            t("07:00:00"),
        )
        .unwrap();
    assert_eq!(dispatched.status, "shipped");
    let sent = outbox_events(&f.hub, "ST0001");
    let Event::ShipmentDispatched(shipment) = &sent[1].event else {
        panic!("{sent:?}");
    };
    assert_eq!(
        (
            shipment.order_id,
            shipment.product_id.as_str(),
            shipment.volume_ml,
            shipment.truck.as_str(),
            shipment.expected_at
        ),
        (order, "GAS95", 9_800_000, "T-12", Some(t("14:00:00")))
    );
    st.send(
        &mut f.hub,
        Event::DeliveryConfirmed(DeliveryConfirmed {
            order_id: order,
            shipment_id: shipment.shipment_id,
            tank: 1,
            product_id: "GAS95".to_owned(),
            expected_volume_ml: 9_800_000,
            received_volume_ml: 9_750_000,
            confirmed_by: "kim".to_owned(),
        }),
        t("13:30:00"),
        t("13:30:05"),
    );
    st.send(
        &mut f.hub,
        Event::StockAdjusted(StockAdjusted {
            adjustment_id: Uuid::from_u128(0x0200),
            tank: 2,
            product_id: "DSL".to_owned(),
            delta_ml: 500_000,
            reason: "opening dip".to_owned(),
            approved_by: "park".to_owned(),
        }),
        t("13:40:00"),
        t("13:40:00"),
    );
    let first = sale(
        Uuid::from_u128(0x0301),
        day,
        vec![
            fuel_line(1, "GAS95", 1, 40_000, 68_000),
            shop_line(2, "WATER", 2, 2_000),
        ],
    );
    let second = sale(
        Uuid::from_u128(0x0302),
        day,
        vec![fuel_line(1, "GAS95", 1, 30_000, 51_000)],
    );
    let third = sale(
        Uuid::from_u128(0x0303),
        day,
        vec![fuel_line(1, "DSL", 2, 20_000, 32_000)],
    );
    for (sale, hms) in [
        (&first, "15:00:00"),
        (&second, "15:05:00"),
        (&third, "15:10:00"),
    ] {
        st.send(&mut f.hub, Event::SaleSettled(sale.clone()), t(hms), t(hms));
    }
    // The second sale is canceled the next business day.
    st.send(
        &mut f.hub,
        cancellation(&second, next_day),
        time(3, "08:00:00"),
        time(3, "08:00:01"),
    );
    st.send(
        &mut f.hub,
        Event::StockAdjusted(StockAdjusted {
            adjustment_id: Uuid::from_u128(0x0201),
            tank: 1,
            product_id: "GAS95".to_owned(),
            delta_ml: -5_000,
            reason: "evaporation".to_owned(),
            approved_by: "park".to_owned(),
        }),
        time(3, "09:00:00"),
        time(3, "09:00:00"),
    );
    st.send(
        &mut f.hub,
        Event::PriceVersionApplied(PriceVersionApplied {
            version: 1,
            applied_at: time(3, "09:30:00"),
        }),
        time(3, "09:30:00"),
        time(3, "09:30:02"),
    );
    // Recorded; no read model follows it.
    st.send(
        &mut f.hub,
        Event::ShiftClosed(ShiftClosed {
            shift_id: Uuid::from_u128(7),
            cashier: "lee".to_owned(),
            business_day: day,
            opened_at: t("06:00:00"),
            opening_float_won: 100_000,
            expected_cash_won: 100_000,
            counted_cash_won: 100_000,
            over_short_won: 0,
        }),
        time(3, "10:00:00"),
        time(3, "10:00:03"),
    );
    // Another station's sale, to see the filters.
    let mut other = Station::new("ST0002");
    other.send(
        &mut f.hub,
        Event::SaleSettled(sale(
            Uuid::from_u128(0x0400),
            day,
            vec![shop_line(1, "WATER", 1, 1_000)],
        )),
        t("16:00:00"),
        t("16:00:00"),
    );

    let expected_order = OrderView {
        order: order.to_string(),
        station: "ST0001".to_owned(),
        product: "GAS95".to_owned(),
        ordered_volume_ml: 10_000_000,
        shipped_volume_ml: 9_800_000,
        received_volume_ml: 9_750_000,
        status: "delivered".to_owned(),
        status_reason: None,
        wanted_date: day_text(3),
        ordered_at: stamp(2, "06:10:00"),
        updated_at: stamp(2, "13:30:05"),
        shipments: vec![ShipmentView {
            shipment: shipment.shipment_id.to_string(),
            order: order.to_string(),
            station: "ST0001".to_owned(),
            product: "GAS95".to_owned(),
            volume_ml: 9_800_000,
            truck: "T-12".to_owned(),
            dispatched_at: stamp(2, "07:00:00"),
            expected_at: Some(stamp(2, "14:00:00")),
            tank: Some(1),
            received_volume_ml: Some(9_750_000),
            confirmed_at: Some(stamp(2, "13:30:00")),
        }],
    };
    assert_eq!(f.hub.orders(None).unwrap(), vec![expected_order.clone()]);
    assert_eq!(f.hub.orders(Some("ST0002")).unwrap(), vec![]);
    assert_eq!(f.hub.order(&order.to_string()).unwrap(), expected_order);

    let row = |station: &str, day: &str, product: &str| SalesRowView {
        station: station.to_owned(),
        business_day: day.to_owned(),
        product: product.to_owned(),
        sales_count: 0,
        sales_volume_ml: 0,
        sales_quantity: 0,
        sales_amount_won: 0,
        canceled_count: 0,
        canceled_volume_ml: 0,
        canceled_quantity: 0,
        canceled_amount_won: 0,
        net_amount_won: 0,
    };
    let st1_sales = vec![
        SalesRowView {
            sales_count: 1,
            sales_volume_ml: 20_000,
            sales_amount_won: 32_000,
            net_amount_won: 32_000,
            ..row("ST0001", &day_text(2), "DSL")
        },
        SalesRowView {
            sales_count: 2,
            sales_volume_ml: 70_000,
            sales_amount_won: 119_000,
            net_amount_won: 119_000,
            ..row("ST0001", &day_text(2), "GAS95")
        },
        SalesRowView {
            sales_count: 1,
            sales_quantity: 2,
            sales_amount_won: 2_000,
            net_amount_won: 2_000,
            ..row("ST0001", &day_text(2), "WATER")
        },
        SalesRowView {
            canceled_count: 1,
            canceled_volume_ml: 30_000,
            canceled_amount_won: 51_000,
            net_amount_won: -51_000,
            ..row("ST0001", &day_text(3), "GAS95")
        },
    ];
    let st2_sales = vec![SalesRowView {
        sales_count: 1,
        sales_quantity: 1,
        sales_amount_won: 1_000,
        net_amount_won: 1_000,
        ..row("ST0002", &day_text(2), "WATER")
    }];
    assert_eq!(f.hub.sales(Some("ST0001"), None).unwrap(), st1_sales);
    assert_eq!(
        f.hub.sales(None, None).unwrap(),
        [st1_sales.clone(), st2_sales].concat()
    );
    assert_eq!(
        f.hub
            .sales(Some("ST0001"), Some(day_text(3).as_str()))
            .unwrap(),
        vec![st1_sales[3].clone()]
    );

    let tank = |number, product: &str, capacity_ml, book_stock_ml| TankStockView {
        station: "ST0001".to_owned(),
        tank: number,
        product: product.to_owned(),
        capacity_ml,
        book_stock_ml,
    };
    assert_eq!(
        f.hub.tank_stock(Some("ST0001")).unwrap(),
        vec![
            // delivered 9,750,000 − sold 40,000 − 30,000 + canceled 30,000 − 5,000 adjusted
            tank(1, "GAS95", 20_000_000, 9_705_000),
            // adjusted 500,000 − sold 20,000
            tank(2, "DSL", 20_000_000, 480_000),
        ]
    );
    assert_eq!(f.hub.tank_stock(Some("ST0002")).unwrap(), vec![]);

    assert_eq!(
        f.hub.station_statuses().unwrap()[0],
        StationStatusView {
            station: "ST0001".to_owned(),
            name: "Station".to_owned(),
            online: false,
            last_seen: Some(stamp(3, "10:00:03")),
            events_applied_through: 12,
            events_waiting_to_station: 2,
            price_version_applied: Some(1),
            price_applied_at: Some(stamp(3, "09:30:00")),
        }
    );
    assert_eq!(f.hub.price_version(1).unwrap().stations_applied, 1);
    assert!(f.hub.dead_letters(10).unwrap().is_empty());
    assert_eq!(f.hub.metrics().events_applied.get(), 13);
}

// ---- orders and shipments

#[test]
fn an_order_is_rejected_only_while_it_is_ordered() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "08:00:00");
    let (open, shipped, canceled) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    let mut st = Station::new("ST0001");
    for order in [open, shipped, canceled] {
        st.send(
            &mut f.hub,
            order_placed(order, "DSL", 5_000_000, day(4)),
            now,
            now,
        );
    }
    st.send(
        &mut f.hub,
        Event::OrderCanceled(OrderCanceled {
            order_id: canceled,
            reason: "tank full".to_owned(),
            canceled_by: "kim".to_owned(),
        }),
        now,
        now,
    );
    let truck = NewShipment {
        truck: "T-1".to_owned(),
        volume_ml: 5_000_000,
        expected_at: None,
    };
    f.hub
        .dispatch_shipment(&shipped.to_string(), truck.clone(), now)
        .unwrap();

    let before = state(&f.hub);
    let later = time(2, "09:00:00");
    for (order, status) in [(shipped, "shipped"), (canceled, "canceled")] {
        let refused = f.hub.reject_order(&order.to_string(), "no truck", later);
        assert!(
            matches!(&refused, Err(HubError::OrderNotOpen { status: s, .. }) if s == status),
            "{refused:?}"
        );
    }
    assert_eq!(
        code_of(
            f.hub
                .reject_order(&Uuid::from_u128(99).to_string(), "no truck", later)
        ),
        "unknown_order"
    );
    assert_eq!(
        code_of(f.hub.reject_order("not-an-order", "no truck", later)),
        "unknown_order"
    );
    assert_eq!(
        code_of(f.hub.reject_order(&open.to_string(), "   ", later)),
        "invalid_input"
    );
    assert_eq!(state(&f.hub), before);

    let rejected = f
        .hub
        .reject_order(&open.to_string(), " no truck this week ", later)
        .unwrap();
    assert_eq!(
        (
            rejected.status.as_str(),
            rejected.status_reason.as_deref(),
            rejected.updated_at.as_str()
        ),
        (
            "rejected",
            Some("no truck this week"),
            stamp(2, "09:00:00").as_str()
        )
    );
    let last = outbox_events(&f.hub, "ST0001").pop().unwrap();
    assert_eq!(
        last.event,
        Event::OrderRejected(sync_protocol::OrderRejected {
            order_id: open,
            reason: "no truck this week".to_owned(),
        })
    );
    assert_eq!(last.occurred_at, later);

    // Once rejected, it is closed to rejecting and to shipping.
    let before = state(&f.hub);
    assert_eq!(
        code_of(f.hub.reject_order(&open.to_string(), "again", later)),
        "order_not_open"
    );
    assert_eq!(
        code_of(f.hub.dispatch_shipment(&open.to_string(), truck, later)),
        "order_not_open"
    );
    assert_eq!(state(&f.hub), before);
}

#[test]
fn a_shipment_needs_a_truck_a_volume_and_an_open_order() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "08:00:00");
    let order = Uuid::from_u128(1);
    Station::new("ST0001").send(
        &mut f.hub,
        order_placed(order, "DSL", 5_000_000, day(4)),
        now,
        now,
    );
    let before = state(&f.hub);
    let shipment = |truck: &str, volume_ml| NewShipment {
        truck: truck.to_owned(),
        volume_ml,
        expected_at: None,
    };
    let id = order.to_string();
    for bad in [
        shipment("", 1_000),
        shipment("   ", 1_000),
        shipment(&"T".repeat(33), 1_000),
        shipment("T-1", 0),
        shipment("T-1", -5),
        shipment("T-1", 100_000_001),
    ] {
        let result = f.hub.dispatch_shipment(&id, bad.clone(), now);
        assert_eq!(code_of(result), "invalid_input", "{bad:?}");
    }
    assert_eq!(
        code_of(f.hub.dispatch_shipment(
            &Uuid::from_u128(2).to_string(),
            shipment("T-1", 1_000),
            now
        )),
        "unknown_order"
    );
    assert_eq!(state(&f.hub), before);

    // A shipped order can take another truck; the volumes add up.
    f.hub
        .dispatch_shipment(&id, shipment("T-1", 3_000_000), now)
        .unwrap();
    let view = f
        .hub
        .dispatch_shipment(&id, shipment("T-2", 2_000_000), time(2, "08:05:00"))
        .unwrap();
    assert_eq!(view.status, "shipped");
    assert_eq!(view.shipped_volume_ml, 5_000_000);
    let trucks: Vec<&str> = view.shipments.iter().map(|s| s.truck.as_str()).collect();
    assert_eq!(trucks, vec!["T-1", "T-2"]);
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (2, 0));
}

#[test]
fn the_automatic_dispatch_policy_ships_a_new_order_in_full() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "08:00:00");
    assert!(!f.hub.auto_dispatch().unwrap());
    let mut st = Station::new("ST0001");
    let manual = Uuid::from_u128(1);
    st.send(
        &mut f.hub,
        order_placed(manual, "DSL", 5_000_000, day(4)),
        now,
        now,
    );
    assert_eq!(f.hub.order(&manual.to_string()).unwrap().status, "ordered");
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (0, 0));

    f.hub.set_auto_dispatch(true).unwrap();
    assert!(f.hub.auto_dispatch().unwrap());
    let automatic = Uuid::from_u128(2);
    let received_at = time(2, "08:01:00");
    st.send(
        &mut f.hub,
        order_placed(automatic, "GAS95", 7_000_000, day(4)),
        now,
        received_at,
    );
    let view = f.hub.order(&automatic.to_string()).unwrap();
    assert_eq!(
        (view.status.as_str(), view.shipped_volume_ml),
        ("shipped", 7_000_000)
    );
    assert_eq!(view.shipments.len(), 1);
    assert_eq!(
        (
            view.shipments[0].truck.as_str(),
            view.shipments[0].volume_ml,
            view.shipments[0].dispatched_at.as_str()
        ),
        ("AUTO", 7_000_000, stamp(2, "08:01:00").as_str())
    );
    let sent = outbox_events(&f.hub, "ST0001");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].sequence, 1);
    let Event::ShipmentDispatched(shipment) = &sent[0].event else {
        panic!("{sent:?}");
    };
    assert_eq!(shipment.order_id, automatic);
    assert_eq!(shipment.shipment_id.to_string(), view.shipments[0].shipment);
    assert_eq!(shipment.volume_ml, 7_000_000);
    // The order placed before the policy was on is left alone.
    assert_eq!(f.hub.order(&manual.to_string()).unwrap().status, "ordered");

    f.hub.set_auto_dispatch(false).unwrap();
    assert!(!f.hub.auto_dispatch().unwrap());
    let third = Uuid::from_u128(3);
    st.send(
        &mut f.hub,
        order_placed(third, "DSL", 1_000_000, day(4)),
        now,
        now,
    );
    assert_eq!(f.hub.order(&third.to_string()).unwrap().status, "ordered");
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (1, 0));
}

// ---- the outbox towards a station

#[test]
fn outbox_acknowledgements_never_pass_the_last_message_nor_go_back() {
    let mut f = hub_with_stations(&["ST0001", "ST0002"]);
    let now = time(2, "08:00:00");
    for won in [1700, 1710, 1720] {
        f.hub
            .publish_price_version(&prices(&[("GAS95", won)]), None, "admin", now)
            .unwrap();
    }
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (3, 0));
    let seqs = |hub: &Hub, after, limit| -> Vec<u64> {
        hub.outbox_messages("ST0001", after, limit)
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect()
    };
    assert_eq!(seqs(&f.hub, 0, 10), vec![1, 2, 3]);
    assert_eq!(seqs(&f.hub, 1, 1), vec![2]);
    assert_eq!(seqs(&f.hub, 3, 10), Vec::<u64>::new());

    assert_eq!(f.hub.station_acknowledged("ST0001", 2).unwrap(), 2);
    assert_eq!(f.hub.station_acknowledged("ST0001", 1).unwrap(), 2);
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (3, 2));
    assert_eq!(
        f.hub.station_statuses().unwrap()[0].events_waiting_to_station,
        1
    );
    assert_eq!(f.hub.station_acknowledged("ST0001", 99).unwrap(), 3);
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (3, 3));
    // Messages stay in the outbox after acknowledgement.
    assert_eq!(seqs(&f.hub, 0, 10), vec![1, 2, 3]);
    // The other station's outbox is its own.
    assert_eq!(f.hub.outbox_position("ST0002").unwrap(), (3, 0));
    assert_eq!(f.hub.station_acknowledged("ST0009", 5).unwrap(), 0);
    assert_eq!(f.hub.outbox_position("ST0009").unwrap(), (0, 0));

    // The sequence continues after acknowledgements, gapless.
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1730)]), None, "admin", now)
        .unwrap();
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (4, 3));
    assert_eq!(seqs(&f.hub, 3, 10), vec![4]);
}

#[test]
fn a_station_going_online_and_offline_shows_in_its_status_and_the_metrics() {
    let mut f = hub_with_stations(&["ST0001", "ST0002"]);
    f.hub
        .station_status_changed("ST0001", true, time(2, "08:00:00"))
        .unwrap();
    f.hub
        .station_status_changed("ST0002", true, time(2, "08:00:01"))
        .unwrap();
    f.hub
        .station_status_changed("ST0002", false, time(2, "08:30:00"))
        .unwrap();
    // A station HQ does not know is ignored.
    f.hub
        .station_status_changed("ST0009", true, time(2, "08:00:00"))
        .unwrap();
    let statuses: Vec<(String, bool, Option<String>)> = f
        .hub
        .station_statuses()
        .unwrap()
        .into_iter()
        .map(|s| (s.station, s.online, s.last_seen))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("ST0001".to_owned(), true, Some(stamp(2, "08:00:00"))),
            ("ST0002".to_owned(), false, Some(stamp(2, "08:30:00"))),
        ]
    );
    assert_eq!(f.hub.metrics().stations_online(), 1);
}

#[test]
fn the_database_keeps_everything_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let now = time(2, "08:00:00");
    let before = {
        let mut hub = Hub::open(&path, Arc::new(Metrics::default())).unwrap();
        hub.upsert_product("GAS95", "Gasoline 95", ProductUnit::Litre)
            .unwrap();
        hub.register_station(new_station("ST0001", "Gangnam"), now)
            .unwrap();
        hub.publish_price_version(&prices(&[("GAS95", 1700)]), None, "admin", now)
            .unwrap();
        Station::new("ST0001").send(&mut hub, tank_registered(1, "GAS95", 1_000), now, now);
        state(&hub)
    };
    let hub = Hub::open(&path, Arc::new(Metrics::default())).unwrap();
    assert_eq!(state(&hub), before);
}

#[test]
fn an_event_that_breaks_a_constraint_is_dead_lettered_and_does_not_block_the_stream() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "08:00:00");
    let order = Uuid::from_u128(1);
    let mut st = Station::new("ST0001");
    st.send(
        &mut f.hub,
        order_placed(order, "DSL", 5_000_000, day(4)),
        now,
        now,
    );
    let again = st.next(order_placed(order, "DSL", 6_000_000, day(5)), now);
    let received = f.hub.receive_station_message("ST0001", &again, now);
    assert!(
        matches!(
            &received,
            Ok(Received {
                outcome: ReceivedOutcome::DeadLettered { seq: Some(2), .. },
                ack_through: Some(2),
                ..
            })
        ),
        "{received:?}"
    );
    st.send(&mut f.hub, tank_registered(1, "DSL", 1_000), now, now);
    assert_eq!(f.hub.applied_through("ST0001").unwrap(), 3);
    assert_eq!(
        f.hub.order(&order.to_string()).unwrap().ordered_volume_ml,
        5_000_000
    );
}

#[test]
fn a_station_cannot_confirm_the_delivery_of_another_stations_order() {
    let mut f = hub_with_stations(&["ST0001", "ST0002"]);
    let now = time(2, "08:00:00");
    let order = Uuid::from_u128(1);
    Station::new("ST0001").send(
        &mut f.hub,
        order_placed(order, "DSL", 5_000_000, day(4)),
        now,
        now,
    );
    let view = f
        .hub
        .dispatch_shipment(
            &order.to_string(),
            NewShipment {
                truck: "T-1".to_owned(),
                volume_ml: 5_000_000,
                expected_at: None,
            },
            now,
        )
        .unwrap();
    let shipment: Uuid = view.shipments[0].shipment.parse().unwrap();
    let before = f.hub.orders(None).unwrap();
    let foreign = envelope(
        "ST0002",
        1,
        Event::DeliveryConfirmed(DeliveryConfirmed {
            order_id: order,
            shipment_id: shipment,
            tank: 1,
            product_id: "DSL".to_owned(),
            expected_volume_ml: 5_000_000,
            received_volume_ml: 5_000_000,
            confirmed_by: "someone".to_owned(),
        }),
        now,
    );
    let received = f
        .hub
        .receive_station_message("ST0002", &foreign, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(1), "unknown_order", Some(1)));
    assert_eq!(f.hub.orders(None).unwrap(), before);
}

// ---- figures from outside at the ends of the 64-bit range

/// A stock adjustment of `delta_ml` in tank 1 of gasoline.
fn stock_adjusted(id: u128, delta_ml: i64) -> Event {
    Event::StockAdjusted(StockAdjusted {
        adjustment_id: Uuid::from_u128(id),
        tank: 1,
        product_id: "GAS95".to_owned(),
        delta_ml,
        reason: "dip".to_owned(),
        approved_by: "park".to_owned(),
    })
}

/// Issue: `-volume` on `i64::MIN` in the projections panicked in a debug build and killed HQ's
/// sync task on every restart (the message was never handled, so it came back). A figure no
/// station can produce is dead-lettered in its place with its reason, nothing moves, and the
/// station's later events apply.
#[test]
fn figures_at_the_ends_of_i64_are_dead_lettered_and_the_events_behind_them_apply() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let mut st = Station::new("ST0001");
    st.send(
        &mut f.hub,
        tank_registered(1, "GAS95", 20_000_000),
        now,
        now,
    );
    let order = Uuid::from_u128(0x0A00);
    st.send(
        &mut f.hub,
        order_placed(order, "GAS95", 10_000_000, day(3)),
        now,
        now,
    );
    f.hub
        .dispatch_shipment(
            &order.to_string(),
            NewShipment {
                truck: "T-1".to_owned(),
                volume_ml: 10_000_000,
                expected_at: None,
            },
            now,
        )
        .unwrap();
    let Event::ShipmentDispatched(shipment) = &outbox_events(&f.hub, "ST0001")[0].event else {
        panic!("a shipment was sent");
    };
    let shipment = shipment.shipment_id;
    let good = |id: u128| {
        sale(
            Uuid::from_u128(id),
            day(2),
            vec![fuel_line(1, "GAS95", 1, 10_000, 17_000)],
        )
    };
    st.send(&mut f.hub, Event::SaleSettled(good(0x0B01)), now, now);
    let before = state(&f.hub);

    let delivered = |received_volume_ml| {
        Event::DeliveryConfirmed(DeliveryConfirmed {
            order_id: order,
            shipment_id: shipment,
            tank: 1,
            product_id: "GAS95".to_owned(),
            expected_volume_ml: 10_000_000,
            received_volume_ml,
            confirmed_by: "kim".to_owned(),
        })
    };
    let sale_of = |id: u128, line: SaleLine| sale(Uuid::from_u128(id), day(2), vec![line]);
    let hostile: Vec<(&str, Event)> = vec![
        (
            "sold volume i64::MIN",
            Event::SaleSettled(sale_of(0x0C01, fuel_line(1, "GAS95", 1, i64::MIN, 17_000))),
        ),
        (
            "sold volume i64::MAX",
            Event::SaleSettled(sale_of(0x0C02, fuel_line(1, "GAS95", 1, i64::MAX, 17_000))),
        ),
        (
            "sold amount i64::MAX",
            Event::SaleSettled(sale_of(0x0C03, fuel_line(1, "GAS95", 1, 10_000, i64::MAX))),
        ),
        (
            "sold amount i64::MIN",
            Event::SaleSettled(sale_of(0x0C04, fuel_line(1, "GAS95", 1, 10_000, i64::MIN))),
        ),
        (
            "sold quantity i64::MAX",
            Event::SaleSettled(sale_of(0x0C05, shop_line(1, "WATER", i64::MAX, 1_000))),
        ),
        (
            "canceled volume i64::MIN",
            cancellation(
                &sale_of(0x0C06, fuel_line(1, "GAS95", 1, i64::MIN, 17_000)),
                day(2),
            ),
        ),
        (
            "canceled amount i64::MAX",
            cancellation(
                &sale_of(0x0C07, fuel_line(1, "GAS95", 1, 10_000, i64::MAX)),
                day(2),
            ),
        ),
        ("adjusted by i64::MIN", stock_adjusted(0x0D01, i64::MIN)),
        ("adjusted by i64::MAX", stock_adjusted(0x0D02, i64::MAX)),
        ("received i64::MAX", delivered(i64::MAX)),
        ("received i64::MIN", delivered(i64::MIN)),
        (
            "ordered i64::MAX",
            order_placed(Uuid::from_u128(0x0A01), "GAS95", i64::MAX, day(3)),
        ),
        ("tank of i64::MAX", tank_registered(2, "GAS95", i64::MAX)),
    ];
    for (what, event) in &hostile {
        let message = st.next(event.clone(), now);
        let seq = st.next_seq - 1;
        let received = f
            .hub
            .receive_station_message("ST0001", &message, now)
            .unwrap();
        assert_eq!(
            received,
            dead_lettered(Some(seq), "invalid_input", Some(seq)),
            "{what}"
        );
    }

    let after = state(&f.hub);
    assert_eq!(after.sales, before.sales, "no sales moved");
    assert_eq!(after.stock, before.stock, "no stock moved");
    assert_eq!(after.orders, before.orders, "no order moved");
    let letters = &after.dead_letters;
    assert_eq!(letters.len(), hostile.len());
    for letter in letters {
        assert_eq!(letter.code, "invalid_input");
        assert!(
            letter.reason.contains("is not valid")
                && letter.reason.contains("outside what a station records"),
            "the reason names the figure and the problem: {}",
            letter.reason
        );
    }
    assert!(
        letters
            .iter()
            .any(|l| l.reason.contains(&i64::MIN.to_string())),
        "{letters:?}"
    );

    // The hub keeps working: the station's next events apply in their places.
    st.send(&mut f.hub, Event::SaleSettled(good(0x0B02)), now, now);
    st.send(&mut f.hub, delivered(9_000_000), now, now);
    let last = state(&f.hub);
    let gas = last.sales.iter().find(|r| r.product == "GAS95").unwrap();
    assert_eq!(
        (gas.sales_count, gas.sales_volume_ml, gas.sales_amount_won),
        (2, 20_000, 34_000)
    );
    assert_eq!(last.stock[0].book_stock_ml, 9_000_000 - 20_000);
    assert_eq!(last.sync[0].inbox, st.next_seq - 1);
}

/// A read model already at the top of the 64-bit range (seeded by hand: reaching it with real
/// sales would take ninety thousand of the largest) is not pushed over it: the event that would
/// overflow is dead-lettered with its reason, and events for other figures still apply.
#[test]
fn an_event_that_would_overflow_a_read_model_is_dead_lettered_with_its_reason() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let mut st = Station::new("ST0001");
    st.send(
        &mut f.hub,
        tank_registered(1, "GAS95", 20_000_000),
        now,
        now,
    );
    let first = sale(
        Uuid::from_u128(0x0E01),
        day(2),
        vec![fuel_line(1, "GAS95", 1, 10_000, 17_000)],
    );
    st.send(&mut f.hub, Event::SaleSettled(first), now, now);
    let db = rusqlite::Connection::open(f._dir.path().join("hub.db")).unwrap();
    db.execute(
        "UPDATE rm_sales SET sales_amount_won = ?1 WHERE product_id = 'GAS95'",
        [i64::MAX - 10_000],
    )
    .unwrap();
    db.execute("UPDATE rm_tanks SET book_stock_ml = ?1", [i64::MIN + 5_000])
        .unwrap();
    drop(db);
    let before = state(&f.hub);

    let sells_more = sale(
        Uuid::from_u128(0x0E02),
        day(2),
        vec![fuel_line(1, "GAS95", 1, 1_000, 17_000)],
    );
    let message = st.next(Event::SaleSettled(sells_more), now);
    let received = f
        .hub
        .receive_station_message("ST0001", &message, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(3), "invalid_input", Some(3)));
    let takes_out = st.next(stock_adjusted(0x0E03, -10_000), now);
    let received = f
        .hub
        .receive_station_message("ST0001", &takes_out, now)
        .unwrap();
    assert_eq!(received, dead_lettered(Some(4), "invalid_input", Some(4)));
    let after = state(&f.hub);
    assert_eq!(
        (after.sales.clone(), after.stock.clone()),
        (before.sales, before.stock)
    );
    let reasons: Vec<&str> = after
        .dead_letters
        .iter()
        .map(|l| l.reason.as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| r.contains("overflow")),
        "{reasons:?}"
    );

    // Another day's sales and a stock movement back into range still apply.
    let next_day = sale(
        Uuid::from_u128(0x0E04),
        day(3),
        vec![shop_line(1, "WATER", 1, 1_000)],
    );
    st.send(&mut f.hub, Event::SaleSettled(next_day), now, now);
    st.send(&mut f.hub, stock_adjusted(0x0E05, 5_000), now, now);
    assert_eq!(state(&f.hub).stock[0].book_stock_ml, i64::MIN + 10_000);
}

/// HQ refuses a name no station could take or print (stations refuse the whole price version
/// that carries it), naming the character; nothing stored changes.
#[test]
fn a_product_name_stations_cannot_print_is_refused_at_hq() {
    let mut f = hub_with_stations(&[]);
    for (name, shown) in [
        ("Café au lait", "'é'"),
        ("똠양꿍", "'똠'"),
        ("Diesel\tpremium", "'\\t'"),
    ] {
        let err = f
            .hub
            .upsert_product("DSL", name, ProductUnit::Litre)
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{name}");
        let message = err.to_string();
        assert!(
            message.contains("stations cannot print it") && message.contains(shown),
            "{message}"
        );
    }
    let names: Vec<String> = f
        .hub
        .products()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"Diesel".to_owned()), "{names:?}");
    f.hub
        .upsert_product("DSL", "경유 (Diesel)", ProductUnit::Litre)
        .unwrap();
}

/// What a station says on coming online, for a database whose own stream is `up`.
fn online(up: Uuid, down_stream: Option<Uuid>) -> sync_protocol::transport::StationStatus {
    sync_protocol::transport::StationStatus {
        online: true,
        down_through: Some(0),
        down_stream,
        up_stream: Some(sync_protocol::StreamId { id: up, from: 0 }),
        up_acked: Some(0),
        ..sync_protocol::transport::StationStatus::offline()
    }
}

#[test]
fn an_old_retained_status_never_restarts_the_stream_but_a_new_database_gets_what_it_lost() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1700)]), None, "admin", now)
        .unwrap();
    let database = Uuid::from_u128(1);
    // A new station comes online before it took up HQ's stream: nothing to give again.
    let first = f
        .hub
        .station_online("ST0001", &online(database, None), now)
        .unwrap()
        .unwrap();
    let (sent, _) = f.hub.outbox_position("ST0001").unwrap();
    assert_eq!(first.stream.last_seq, sent);
    f.hub.station_acknowledged("ST0001", sent).unwrap();
    // The broker hands HQ the same retained status again (HQ reconnected): it is old news.
    let again = f
        .hub
        .station_online("ST0001", &online(database, None), now)
        .unwrap()
        .unwrap();
    assert_eq!(again.stream.id, first.stream.id, "the stream stays");
    assert_eq!(f.hub.outbox_position("ST0001").unwrap(), (sent, sent));
    // The station re-installed: a new database, which follows no stream of HQ's.
    let reinstalled = f
        .hub
        .station_online("ST0001", &online(Uuid::from_u128(2), None), now)
        .unwrap()
        .unwrap();
    assert_ne!(reinstalled.stream.id, first.stream.id, "a new stream");
    assert_eq!(reinstalled.stream.from, sent);
    let given_again = outbox_events(&f.hub, "ST0001");
    let Event::PriceChanged(list) = &given_again.last().unwrap().event else {
        panic!("{:?}", given_again.last());
    };
    assert_eq!(list.base_version, None, "the price list in full");
    assert!(
        f.hub.metrics().divergences.get() >= 1,
        "the divergence is counted"
    );
}

#[test]
fn a_hub_whose_database_went_back_numbers_its_next_price_version_above_what_stations_hold() {
    let mut f = hub_with_stations(&["ST0001"]);
    let now = time(2, "01:00:00");
    let first = f
        .hub
        .publish_price_version(&prices(&[("GAS95", 1700)]), None, "admin", now)
        .unwrap();
    assert_eq!(first.version, 1);
    // HQ's database was restored from before versions 2 to 4, which the station holds.
    let mut status = online(Uuid::from_u128(1), None);
    status.price_version = Some(4);
    f.hub.station_online("ST0001", &status, now).unwrap();
    let next = f
        .hub
        .publish_price_version(&prices(&[("GAS95", 1750)]), None, "admin", now)
        .unwrap();
    assert_eq!(next.version, 5, "never a number a station already holds");
    // A station that holds less changes nothing.
    status.price_version = Some(2);
    f.hub.station_online("ST0001", &status, now).unwrap();
    let after = f
        .hub
        .publish_price_version(&prices(&[("GAS95", 1760)]), None, "admin", now)
        .unwrap();
    assert_eq!(after.version, 6);
}
