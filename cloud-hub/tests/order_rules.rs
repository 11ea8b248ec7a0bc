//! HQ's rules for orders and master data that stations depend on, driven through `Hub` on a real
//! SQLite file with station messages as a station encodes them: a canceled order is never
//! dispatched; the automatic dispatch policy obeys every rule a person's dispatch does and leaves
//! what it may not ship to a person; a product's unit cannot change once stations have it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calendar;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cloud_hub::metrics::Metrics;
use cloud_hub::{
    DeadLetterView, Hub, HubError, NewShipment, NewStation, OperatingType, OrderView,
    PriceVersionView, ProductView, ReceivedOutcome,
};
use jiff::Timestamp;
use sync_protocol::{Envelope, Event, OrderCanceled, OrderPlaced, ProductUnit};
use tempfile::TempDir;
use uuid::Uuid;

use calendar::{day, time};

// ---- the fixture

/// A hub on a fresh database file in its own directory.
#[derive(Debug)]
struct Fixture {
    hub: Hub,
    _dir: TempDir,
}

/// A hub with two fuels and a shop item in its master, and station ST0001.
fn hub_with_station() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = Hub::open(&dir.path().join("hub.db"), Arc::new(Metrics::default())).unwrap();
    hub.upsert_product("GAS95", "Gasoline 95", ProductUnit::Litre)
        .unwrap();
    hub.upsert_product("DSL", "Diesel", ProductUnit::Litre)
        .unwrap();
    hub.upsert_product("WATER", "Water 500 ml", ProductUnit::Piece)
        .unwrap();
    hub.register_station(
        NewStation {
            station: STATION.to_owned(),
            name: "Station".to_owned(),
            operating_type: OperatingType::DirectlyManaged,
            region: String::new(),
        },
        time(1, "00:00:00"),
    )
    .unwrap();
    Fixture { hub, _dir: dir }
}

const STATION: &str = "ST0001";

static EVENT_IDS: AtomicU64 = AtomicU64::new(1);

/// Station ST0001's messages, numbered in sequence as its outbox numbers them.
#[derive(Debug)]
struct Station {
    next_seq: u64,
}

impl Station {
    fn new() -> Station {
        Station { next_seq: 1 }
    }

    fn next(&mut self, event: Event) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq += 1;
        sync_protocol::encode(&Envelope {
            event_id: Uuid::from_u128(u128::from(EVENT_IDS.fetch_add(1, Ordering::Relaxed))),
            origin: STATION.to_owned(),
            sequence: seq,
            occurred_at: time(2, "07:00:00"),
            schema_version: sync_protocol::SCHEMA_VERSION,
            stream: None,
            event,
        })
    }

    /// Sends `events` to the hub in one batch, as the sync agent hands over what arrived
    /// together, and expects every one applied.
    fn send_batch(&mut self, hub: &mut Hub, events: Vec<Event>, now: Timestamp) {
        let first = self.next_seq;
        let messages: Vec<Vec<u8>> = events.into_iter().map(|e| self.next(e)).collect();
        let batch: Vec<(&str, &[u8])> = messages.iter().map(|m| (STATION, m.as_slice())).collect();
        let received: Vec<(ReceivedOutcome, Option<u64>)> = hub
            .receive_station_messages(&batch, now)
            .unwrap()
            .into_iter()
            .map(|r| (r.outcome, r.ack_through))
            .collect();
        let applied: Vec<(ReceivedOutcome, Option<u64>)> = (first..self.next_seq)
            .map(|seq| (ReceivedOutcome::Applied { seq }, Some(seq)))
            .collect();
        assert_eq!(received, applied);
    }

    fn send(&mut self, hub: &mut Hub, event: Event, now: Timestamp) {
        self.send_batch(hub, vec![event], now);
    }
}

fn order_placed(order: Uuid, product: &str, volume_ml: i64) -> Event {
    Event::OrderPlaced(OrderPlaced {
        order_id: order,
        product_id: product.to_owned(),
        volume_ml,
        wanted_date: day(4),
        ordered_by: "kim".to_owned(),
    })
}

fn order_canceled(order: Uuid) -> Event {
    Event::OrderCanceled(OrderCanceled {
        order_id: order,
        reason: "tank full".to_owned(),
        canceled_by: "park".to_owned(),
    })
}

fn truck(volume_ml: i64) -> NewShipment {
    NewShipment {
        truck: "T-7".to_owned(),
        volume_ml,
        expected_at: None,
    }
}

/// What HQ shows of orders and what it has told stations, to compare before and after.
#[derive(Debug, PartialEq)]
struct Orders {
    orders: Vec<OrderView>,
    outbox: Vec<(u64, Vec<u8>)>,
    dead_letters: Vec<DeadLetterView>,
}

fn orders(hub: &Hub) -> Orders {
    Orders {
        orders: hub.orders(None).unwrap(),
        outbox: hub.outbox_messages(STATION, 0, 10_000).unwrap(),
        dead_letters: hub.dead_letters(10_000).unwrap(),
    }
}

/// The events HQ has put in the station's outbox.
fn sent_to_station(hub: &Hub) -> Vec<Event> {
    hub.outbox_messages(STATION, 0, 10_000)
        .unwrap()
        .into_iter()
        .map(|(_, bytes)| sync_protocol::decode(&bytes).unwrap().event)
        .collect()
}

fn shipments_sent(hub: &Hub) -> Vec<(Uuid, i64)> {
    sent_to_station(hub)
        .into_iter()
        .filter_map(|event| match event {
            Event::ShipmentDispatched(s) => Some((s.order_id, s.volume_ml)),
            _ => None,
        })
        .collect()
}

/// The hub's warnings (plain text, one a line) while `run` runs on this thread.
fn warnings_during<T>(run: impl FnOnce() -> T) -> (T, String) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let buffer = buffer.clone();
        move || LogBuffer(buffer.clone())
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .without_time()
        .with_max_level(tracing::Level::WARN)
        .finish();
    let out = tracing::subscriber::with_default(subscriber, run);
    let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    (out, text)
}

#[derive(Debug)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---- a canceled order is never dispatched

#[test]
fn an_order_placed_and_canceled_offline_is_not_dispatched_when_the_batch_arrives() {
    let mut f = hub_with_station();
    f.hub.set_auto_dispatch(true).unwrap();
    let (canceled, kept) = (Uuid::from_u128(1), Uuid::from_u128(2));
    // Offline, the station placed two orders and canceled the first; back online, all three
    // arrive together.
    Station::new().send_batch(
        &mut f.hub,
        vec![
            order_placed(canceled, "DSL", 5_000_000),
            order_placed(kept, "GAS95", 7_000_000),
            order_canceled(canceled),
        ],
        time(2, "08:00:00"),
    );

    let view = f.hub.order(&canceled.to_string()).unwrap();
    assert_eq!(
        (
            view.status.as_str(),
            view.status_reason.as_deref(),
            view.shipped_volume_ml,
            view.shipments.len()
        ),
        ("canceled", Some("tank full"), 0, 0),
        "no truck may leave for an order the station canceled: {view:?}"
    );
    // The order that stands is shipped by the policy as ever.
    assert_eq!(f.hub.order(&kept.to_string()).unwrap().status, "shipped");
    assert_eq!(shipments_sent(&f.hub), vec![(kept, 7_000_000)]);
}

#[test]
fn a_cancellation_of_an_order_hq_already_shipped_stands_and_asks_for_the_truck_back() {
    let mut f = hub_with_station();
    f.hub.set_auto_dispatch(true).unwrap();
    let order = Uuid::from_u128(1);
    let mut st = Station::new();
    st.send(
        &mut f.hub,
        order_placed(order, "DSL", 5_000_000),
        time(2, "08:00:00"),
    );
    let shipped = f.hub.order(&order.to_string()).unwrap();
    assert_eq!(shipped.status, "shipped");
    let shipment = shipped.shipments[0].shipment.clone();

    // The station canceled before it heard of the shipment: the station refuses the shipment,
    // so HQ must not hold the order open, and someone must call the truck back.
    let ((), warnings) = warnings_during(|| {
        st.send(&mut f.hub, order_canceled(order), time(2, "08:10:00"));
    });

    let view = f.hub.order(&order.to_string()).unwrap();
    assert_eq!(
        (view.status.as_str(), view.status_reason.as_deref()),
        ("canceled", Some("tank full"))
    );
    // The truck on its way stays in sight: dispatched, never confirmed.
    assert_eq!(view.shipments.len(), 1);
    assert_eq!(view.shipments[0].shipment, shipment);
    assert_eq!(view.shipments[0].confirmed_at, None);
    assert!(f.hub.dead_letters(10).unwrap().is_empty());
    let warning = warnings
        .lines()
        .find(|line| line.contains("call the truck back"))
        .unwrap_or_else(|| panic!("no warning to call the truck back in:\n{warnings}"));
    for named in [
        order.to_string(),
        shipment,
        "AUTO".to_owned(),
        STATION.to_owned(),
    ] {
        assert!(warning.contains(&named), "{named} is not in: {warning}");
    }
}

#[test]
fn a_canceled_order_cannot_be_dispatched_by_hand() {
    let mut f = hub_with_station();
    let order = Uuid::from_u128(1);
    let mut st = Station::new();
    st.send(
        &mut f.hub,
        order_placed(order, "DSL", 5_000_000),
        time(2, "08:00:00"),
    );
    st.send(&mut f.hub, order_canceled(order), time(2, "08:10:00"));
    let before = orders(&f.hub);

    let refused = f
        .hub
        .dispatch_shipment(&order.to_string(), truck(5_000_000), time(2, "08:20:00"))
        .unwrap_err();

    assert!(
        matches!(&refused, HubError::OrderNotOpen { order: o, status, .. }
            if *o == order.to_string() && status == "canceled"),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "order_not_open");
    assert_eq!(
        refused.to_string(),
        format!(
            "order {order} is canceled; dispatching a shipment needs an order that is ordered or shipped"
        )
    );
    assert_eq!(orders(&f.hub), before);
}

// ---- automatic dispatch obeys a manual dispatch's rules

#[test]
fn automatic_dispatch_leaves_an_order_above_the_shipment_limit_open_for_a_person() {
    let mut f = hub_with_station();
    f.hub.set_auto_dispatch(true).unwrap();
    // 150,000 L: a station may order it, but no shipment HQ dispatches carries more than
    // 100,000 L, whoever dispatches it.
    let (order, volume_ml) = (Uuid::from_u128(1), 150_000_000);
    let id = order.to_string();
    let mut st = Station::new();

    let ((), warnings) = warnings_during(|| {
        st.send(
            &mut f.hub,
            order_placed(order, "DSL", volume_ml),
            time(2, "08:00:00"),
        );
    });

    let view = f.hub.order(&id).unwrap();
    assert_eq!(
        (
            view.status.as_str(),
            view.shipped_volume_ml,
            view.shipments.len()
        ),
        ("ordered", 0, 0)
    );
    assert!(sent_to_station(&f.hub).is_empty());
    assert!(f.hub.dead_letters(10).unwrap().is_empty());
    let warning = warnings
        .lines()
        .find(|line| line.contains("automatic dispatch refused"))
        .unwrap_or_else(|| panic!("no warning of the refusal in:\n{warnings}"));
    assert!(warning.contains(&id), "{warning}");
    assert!(warning.contains("100,000 L"), "{warning}");

    // The same shipment is refused to a person, who can send two trucks instead.
    let before = orders(&f.hub);
    let by_hand = f
        .hub
        .dispatch_shipment(&id, truck(volume_ml), time(2, "08:30:00"));
    assert!(
        matches!(
            &by_hand,
            Err(HubError::InvalidInput {
                field: "shipment volume",
                ..
            })
        ),
        "{by_hand:?}"
    );
    assert_eq!(orders(&f.hub), before);
    f.hub
        .dispatch_shipment(&id, truck(100_000_000), time(2, "08:30:00"))
        .unwrap();
    let view = f
        .hub
        .dispatch_shipment(&id, truck(50_000_000), time(2, "08:31:00"))
        .unwrap();
    assert_eq!(
        (view.status.as_str(), view.shipped_volume_ml),
        ("shipped", volume_ml)
    );
    assert_eq!(
        shipments_sent(&f.hub),
        vec![(order, 100_000_000), (order, 50_000_000)]
    );
}

#[test]
fn automatic_dispatch_ships_an_order_at_the_shipment_limit_with_the_orders_product() {
    let mut f = hub_with_station();
    f.hub.set_auto_dispatch(true).unwrap();
    let order = Uuid::from_u128(1);
    Station::new().send(
        &mut f.hub,
        order_placed(order, "GAS95", 100_000_000),
        time(2, "08:00:00"),
    );
    let view = f.hub.order(&order.to_string()).unwrap();
    assert_eq!(
        (view.status.as_str(), view.shipped_volume_ml),
        ("shipped", 100_000_000)
    );
    assert_eq!(view.shipments[0].product, "GAS95");
    let Some(Event::ShipmentDispatched(sent)) = sent_to_station(&f.hub).pop() else {
        panic!("no shipment sent");
    };
    assert_eq!(
        (sent.order_id, sent.product_id.as_str(), sent.truck.as_str()),
        (order, "GAS95", "AUTO")
    );
}

// ---- a product's unit, once stations have it

/// The product master and every price version, to compare before and after.
#[derive(Debug, PartialEq)]
struct Master {
    products: Vec<ProductView>,
    prices: Vec<PriceVersionView>,
    outbox: Vec<(u64, Vec<u8>)>,
}

fn master(hub: &Hub) -> Master {
    Master {
        products: hub.products().unwrap(),
        prices: hub.price_versions().unwrap(),
        outbox: hub.outbox_messages(STATION, 0, 10_000).unwrap(),
    }
}

fn prices(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(p, w)| ((*p).to_owned(), *w)).collect()
}

#[test]
fn the_unit_of_a_product_in_a_price_version_cannot_change() {
    let mut f = hub_with_station();
    let now = time(2, "08:00:00");
    f.hub
        .publish_price_version(
            &prices(&[("GAS95", 1700), ("WATER", 1000)]),
            None,
            "lee",
            now,
        )
        .unwrap();
    // DSL only in a version still to come: stations have it already.
    f.hub
        .publish_price_version(
            &prices(&[("DSL", 1600)]),
            Some(time(5, "00:00:00")),
            "lee",
            now,
        )
        .unwrap();
    let before = master(&f.hub);

    for (product, name, held, wanted, unit, version) in [
        (
            "GAS95",
            "Gasoline 95",
            "litre",
            "piece",
            ProductUnit::Piece,
            1,
        ),
        (
            "WATER",
            "Water 500 ml",
            "piece",
            "litre",
            ProductUnit::Litre,
            1,
        ),
        ("DSL", "Diesel", "litre", "piece", ProductUnit::Piece, 2),
    ] {
        let refused = f.hub.upsert_product(product, name, unit).unwrap_err();
        assert_eq!(refused.code(), "conflict", "{product}: {refused}");
        let message = refused.to_string();
        for named in [
            product.to_owned(),
            held.to_owned(),
            wanted.to_owned(),
            format!("price version {version}"),
        ] {
            assert!(message.contains(&named), "{named} is not in: {message}");
        }
    }
    assert_eq!(master(&f.hub), before);

    // Its name may still change, in the unit stations know.
    let renamed = f
        .hub
        .upsert_product("GAS95", "Premium 95", ProductUnit::Litre)
        .unwrap();
    assert_eq!(renamed.unit, "litre");
    let in_force = f.hub.price_version(1).unwrap();
    assert_eq!(
        (
            in_force.items[0].product.as_str(),
            in_force.items[0].name.as_str(),
            in_force.items[0].unit.as_str()
        ),
        ("GAS95", "Premium 95", "litre")
    );
}

#[test]
fn the_unit_of_a_product_no_price_version_holds_may_change() {
    let mut f = hub_with_station();
    let now = time(2, "08:00:00");
    f.hub
        .publish_price_version(&prices(&[("GAS95", 1700)]), None, "lee", now)
        .unwrap();
    f.hub
        .upsert_product("CD1001", "Coolant", ProductUnit::Litre)
        .unwrap();

    let changed = f
        .hub
        .upsert_product("CD1001", "Coolant 1 L", ProductUnit::Piece)
        .unwrap();

    assert_eq!(
        (
            changed.product.as_str(),
            changed.name.as_str(),
            changed.unit.as_str()
        ),
        ("CD1001", "Coolant 1 L", "piece")
    );
    let listed = f.hub.products().unwrap();
    assert!(listed.contains(&changed), "{listed:?}");
    // Published now, stations learn it by the piece.
    let version = f
        .hub
        .publish_price_version(&prices(&[("CD1001", 9000)]), None, "lee", now)
        .unwrap();
    let item = version
        .items
        .iter()
        .find(|item| item.product == "CD1001")
        .unwrap();
    assert_eq!(item.unit, "piece");
    let Some(Event::PriceChanged(sent)) = sent_to_station(&f.hub).pop() else {
        panic!("no price version sent");
    };
    let sent_item = sent
        .items
        .iter()
        .find(|i| i.product_id == "CD1001")
        .unwrap();
    assert_eq!(sent_item.unit, ProductUnit::Piece);
}
