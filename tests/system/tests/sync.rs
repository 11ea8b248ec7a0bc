//! Station and HQ in sync through real processes: a Mosquitto broker (or the hub's embedded
//! one), the hub, station runtimes and the `station` tool, each test with its own.
#![allow(clippy::unwrap_used)] // shared scenario helpers outside #[test] functions

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use support::{
    BrokerChoice, Hub, Probe, Station, assert_in_step, metric, one_station_network, ready_to_sell,
};
use sync_protocol::transport::{Ack, Channel, topic};
use sync_protocol::{Envelope, Event, TankRegistered};
use system_tests::{Mosquitto, free_port, instant_in_days, seoul_date_in};

/// The original demonstration: order → shipment → expected delivery → confirmation → delivered
/// at HQ; a price change reaches the station and the next sale uses it; sales and a
/// cancellation reach HQ's sales view.
fn demonstration(hub: &Hub, station: &mut Station) {
    hub.set_up(&[&station.id]);
    station.start_runtime();
    station.wait_for_diesel_price(1650);
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");

    // Order and delivery.
    let order = station.manager(&format!(
        "order place --product CD1001 --litres 20000 --wanted {}",
        seoul_date_in(1)
    ));
    let order_id = order["order"].as_str().unwrap().to_owned();
    hub.wait_for("HQ sees the order", |h| {
        h.get("/api/orders")
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["order"] == order_id.as_str())
    });
    let shipped = hub.post(
        &format!("/api/orders/{order_id}/shipments"),
        &json!({"truck": "83가1234", "volume_ml": 19_000_000}),
    );
    assert_eq!(shipped["status"], "shipped");
    let shipment = shipped["shipments"][0]["shipment"]
        .as_str()
        .unwrap()
        .to_owned();
    station.wait_for("the station expects the delivery", |s| {
        s.run("delivery list").as_array().unwrap().len() == 1
    });
    let expected = station.run("stock show");
    assert_eq!(expected["products"][0]["expected_incoming_ml"], 19_000_000);
    assert_eq!(expected["tanks"][0]["book_stock_ml"], 0);
    station.manager(&format!(
        "delivery confirm --shipment {shipment} --tank 1 --litres 18950.5"
    ));
    hub.wait_for("HQ shows the order delivered", |h| {
        h.get(&format!("/api/orders/{order_id}"))["status"] == "delivered"
    });
    let delivered = hub.get(&format!("/api/orders/{order_id}"));
    assert_eq!(delivered["received_volume_ml"], 18_950_500);
    assert_eq!(delivered["shipments"][0]["tank"], 1);

    // A price change, and the next sale at the new price.
    let version = hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1700}]}),
    );
    assert_eq!(version["version"], 2);
    station.wait_for_diesel_price(1700);
    hub.wait_for("HQ sees the station applied version 2", |h| {
        h.status_of(&station.id)["price_version_applied"] == 2
    });
    station.cashier("shift open --float 100000");
    let sale = station.cashier("sale settle --line product=CD1001,litres=10 --cash 20000");
    assert_eq!(sale["lines"][0]["unit_price_won"], 1700);
    assert_eq!(sale["total_won"], 17_000);
    let second = station.cashier(
        "sale settle --line product=CD1001,litres=20 --line product=SN2001,qty=1 --card A-1",
    );
    station.run(&format!(
        "--user kim --pin 1234 --manager park --manager-pin 9999 sale cancel --sale {} --reason wrong-pump",
        second["sale"].as_str().unwrap()
    ));
    assert_in_step(hub, station);
    let sales = hub.get(&format!("/api/sales?station={}", station.id));
    let diesel = sales
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["product"] == "CD1001")
        .unwrap();
    assert_eq!(diesel["sales_count"], 2);
    assert_eq!(diesel["canceled_count"], 1);
    assert_eq!(diesel["net_amount_won"], 17_000);
}

#[test]
fn the_demonstration_runs_through_mosquitto() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let mut station = Station::new("ST0001", broker.port());
    demonstration(&hub, &mut station);
}

#[test]
fn the_demonstration_runs_through_the_embedded_broker() {
    let port = free_port();
    let hub = Hub::start(BrokerChoice::Embedded(port));
    let mut station = Station::new("ST0001", port);
    demonstration(&hub, &mut station);
}

#[test]
fn sales_made_while_hq_is_down_arrive_once_when_it_is_back() {
    let (_broker, mut hub, station) = one_station_network();
    assert_in_step(&hub, &station);

    hub.kill();
    let sales = station.settle_sales(1_000);
    for sale in sales.iter().step_by(100) {
        station.run(&format!(
            "--user kim --pin 1234 --manager park --manager-pin 9999 sale cancel --sale {sale} --reason test"
        ));
    }
    assert!(
        station.backlog() >= 1_010,
        "HQ is down: nothing can be acknowledged"
    );
    hub.restart();
    assert_in_step(&hub, &station);
    let sales = hub.get("/api/sales?station=ST0001");
    assert_eq!(sales[0]["sales_count"], 1_000);
    assert_eq!(sales[0]["canceled_count"], 10);
    assert_eq!(sales[0]["net_amount_won"], 990 * 4_125);
}

#[test]
fn a_broker_killed_in_the_middle_of_a_stream_loses_nothing() {
    let mut broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let mut station = Station::new("ST0001", broker.port());
    ready_to_sell(&hub, &mut station);
    station.kill_runtime();
    station.settle_sales(1_500);
    station.start_runtime();
    station.wait_for("the stream is under way", |s| s.backlog() <= 1_400);
    broker.kill().unwrap();
    station.settle_sales(300);
    broker.restart().unwrap();
    station.settle_sales(300);
    assert_in_step(&hub, &station);
    assert_eq!(
        hub.get("/api/sales?station=ST0001")[0]["sales_count"],
        2_100
    );
}

#[test]
fn a_station_killed_during_sync_again_and_again_loses_and_repeats_nothing() {
    let (_broker, hub, mut station) = one_station_network();
    station.settle_sales(2_000);
    let mut rng = StdRng::seed_from_u64(20);
    for round in 0..20 {
        // Let it sync part of the backlog, a random amount, then kill it wherever it is.
        let backlog = station.backlog();
        let target = backlog.saturating_sub(rng.random_range(1..=150));
        station.wait_for(
            &format!("round {round}: the backlog falls to {target}"),
            |s| s.backlog() <= target,
        );
        station.kill_runtime();
        station.settle_sales(5);
        station.start_runtime();
    }
    assert_in_step(&hub, &station);
    assert_eq!(
        hub.get("/api/sales?station=ST0001")[0]["sales_count"],
        2_100
    );
    let metrics = hub.get_text("/metrics");
    assert!(metrics.contains("hub_dead_letters_total 0"), "{metrics}");
}

#[test]
fn two_stations_see_only_their_own_shipments_and_both_see_the_price_change() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let mut first = Station::new("ST0001", broker.port());
    let mut second = Station::new("ST0002", broker.port());
    hub.set_up(&["ST0001", "ST0002"]);
    for station in [&mut first, &mut second] {
        station.start_runtime();
        station.wait_for_diesel_price(1650);
        station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    }
    let order = first.manager(&format!(
        "order place --product CD1001 --litres 10000 --wanted {}",
        seoul_date_in(1)
    ));
    let order_id = order["order"].as_str().unwrap().to_owned();
    hub.wait_for("HQ sees the order", |h| {
        h.get("/api/orders").as_array().unwrap().len() == 1
    });
    hub.post(
        &format!("/api/orders/{order_id}/shipments"),
        &json!({"truck": "T-1", "volume_ml": 10_000_000}),
    );
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1720}]}),
    );
    for station in [&first, &second] {
        station.wait_for_diesel_price(1720);
    }
    first.wait_for("the shipment arrives at ST0001", |s| {
        s.run("delivery list").as_array().unwrap().len() == 1
    });
    assert_eq!(
        second.run("delivery list"),
        json!([]),
        "ST0002 never sees ST0001's shipment"
    );
    assert_in_step(&hub, &first);
    assert_in_step(&hub, &second);
}

#[test]
fn duplicated_and_reordered_messages_change_nothing() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let mut station = Station::new("ST0001", broker.port());
    let mut probe = Probe::connect(broker.port(), "probe");
    probe.subscribe(&topic("ST0001", Channel::Down));
    ready_to_sell(&hub, &mut station);
    let order = station.manager(&format!(
        "order place --product CD1001 --litres 10000 --wanted {}",
        seoul_date_in(1)
    ));
    let order_id = order["order"].as_str().unwrap().to_owned();
    hub.wait_for("HQ sees the order", |h| {
        h.get("/api/orders").as_array().unwrap().len() == 1
    });
    hub.post(
        &format!("/api/orders/{order_id}/shipments"),
        &json!({"truck": "T-1", "volume_ml": 10_000_000}),
    );
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1700}]}),
    );
    station.settle_sales(50);
    assert_in_step(&hub, &station);
    probe.wait_until("the probe saw HQ's messages", |p| {
        p.received_on(&topic("ST0001", Channel::Down)).len() >= 3
    });

    // Every message of both directions again, backwards and twice.
    let outbox = station.run("outbox list");
    let mut up: Vec<Vec<u8>> = outbox["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_vec(&e["message"]).unwrap())
        .collect();
    up.reverse();
    let mut down = probe.received_on(&topic("ST0001", Channel::Down));
    down.reverse();
    for _ in 0..2 {
        for message in &up {
            probe.publish(&topic("ST0001", Channel::Up), message);
        }
        for message in &down {
            probe.publish(&topic("ST0001", Channel::Down), message);
        }
    }
    station.settle_sales(50);
    hub.wait_for("HQ saw the copies", |h| {
        let metrics = h.get_text("/metrics");
        metric(&metrics, "hub_events_duplicate_total") >= 2 * up.len() as u64
    });
    assert_in_step(&hub, &station);
    assert_eq!(hub.get("/api/sales?station=ST0001")[0]["sales_count"], 100);
    assert_eq!(station.run("delivery list").as_array().unwrap().len(), 1);
    assert_eq!(station.run("price list").as_array().unwrap().len(), 2);
    assert_eq!(station.run("dead-letters"), json!([]));
    assert_eq!(hub.get("/api/dead-letters"), json!([]));
}

#[test]
fn what_hq_sends_while_a_station_is_offline_arrives_in_order_when_it_is_back() {
    let (_broker, hub, mut station) = one_station_network();
    let order = station.manager(&format!(
        "order place --product CD1001 --litres 10000 --wanted {}",
        seoul_date_in(1)
    ));
    let order_id = order["order"].as_str().unwrap().to_owned();
    hub.wait_for("HQ sees the order", |h| {
        h.get("/api/orders").as_array().unwrap().len() == 1
    });

    station.kill_runtime();
    hub.wait_for("HQ sees the station offline", |h| {
        h.status_of("ST0001")["online"] == false
    });
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1700}]}),
    );
    hub.post(
        &format!("/api/orders/{order_id}/shipments"),
        &json!({"truck": "T-1", "volume_ml": 6_000_000}),
    );
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1800}], "effective_at": instant_in_days(30)}),
    );
    hub.post(
        &format!("/api/orders/{order_id}/shipments"),
        &json!({"truck": "T-2", "volume_ml": 4_000_000}),
    );
    assert_eq!(hub.status_of("ST0001")["events_waiting_to_station"], 4);

    station.start_runtime();
    hub.wait_for("the station acknowledged everything", |h| {
        h.status_of("ST0001")["events_waiting_to_station"] == 0
    });
    let prices = station.run("price list");
    let statuses: Vec<(u64, &str)> = prices
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [(3, "scheduled"), (2, "in_force"), (1, "superseded")]
    );
    let mut trucks: Vec<String> = station
        .run("delivery list")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["truck"].as_str().unwrap().to_owned())
        .collect();
    trucks.sort();
    assert_eq!(trucks, ["T-1", "T-2"]);
    // Applied in HQ's order: a price version arriving after a newer one would have been refused
    // and dead-lettered.
    assert_eq!(
        station.run(&format!("order show --order {order_id}"))["status"],
        "shipped"
    );
    assert_eq!(station.run("dead-letters"), json!([]));
}

#[test]
fn bad_messages_are_dead_lettered_and_the_ones_behind_them_still_apply() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    hub.set_up(&["ST0009"]);
    // A station that speaks the protocol by hand.
    let mut forged = Probe::connect(broker.port(), "ST0009");
    let ack_topic = topic("ST0009", Channel::UpAck);
    forged.subscribe(&ack_topic);
    let envelope = |seq: u64, tank: u16| {
        sync_protocol::encode(&Envelope {
            event_id: uuid::Uuid::now_v7(),
            origin: "ST0009".into(),
            sequence: seq,
            occurred_at: jiff::Timestamp::now(),
            schema_version: sync_protocol::SCHEMA_VERSION,
            stream: None,
            event: Event::TankRegistered(TankRegistered {
                tank,
                product_id: "CD1001".into(),
                capacity_ml: 20_000_000,
            }),
        })
    };
    let now = jiff::Timestamp::now();
    let malformed = format!(
        r#"{{"schema":1,"event_id":"01a20af7-a00a-79b2-9f55-aad57714dc91","origin":"ST0009","seq":2,
        "occurred_at":"{now}","kind":"tank_registered","payload":{{"tank":"one"}}}}"#
    );
    let unknown = format!(
        r#"{{"schema":1,"event_id":"01a20af7-a00a-79b2-9f55-aad57714dc92","origin":"ST0009","seq":3,
        "occurred_at":"{now}","kind":"fuel_theft_reported","payload":{{}}}}"#
    );
    let up = topic("ST0009", Channel::Up);
    forged.publish(&up, &envelope(1, 1));
    forged.publish(&up, malformed.as_bytes());
    forged.publish(&up, unknown.as_bytes());
    forged.publish(&up, &envelope(4, 2));
    forged.wait_until("HQ acknowledged through 4", |p| {
        p.received_on(&ack_topic)
            .iter()
            .any(|a| Ack::decode(a).is_some_and(|a| a.through == 4))
    });
    let letters = hub.get("/api/dead-letters");
    let codes: Vec<(u64, &str)> = letters
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["seq"].as_u64().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, [(3, "unknown_kind"), (2, "invalid_payload")]);
    assert!(
        letters[1]["reason"].as_str().unwrap().contains("`tank`"),
        "{letters}"
    );
    let tanks: Vec<Value> = hub
        .get("/api/stock?station=ST0009")
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tank"].clone())
        .collect();
    assert_eq!(
        tanks,
        [json!(1), json!(2)],
        "events behind the bad ones applied"
    );
    let metrics = hub.get_text("/metrics");
    assert_eq!(metric(&metrics, "hub_dead_letters_total"), 2);
}
