//! The production set-up end to end: Mosquitto with the project's config, ACL and certificates;
//! the hub on the broker's loopback listener with its own credential; each station's runtime over
//! TLS with its own credential, verifying the broker against the project's CA.
#![allow(clippy::unwrap_used)] // scenario helpers outside #[test] functions

mod support;

use serde_json::json;
use support::{BrokerChoice, Hub, Station, assert_in_step};
use system_tests::{ProductionBroker, seoul_date_in};

fn station_over_tls(broker: &ProductionBroker, id: &str) -> Station {
    let mut station = Station::new(id, broker.tls_port);
    station.broker_args = vec![
        "--broker".into(),
        format!("localhost:{}", broker.tls_port),
        "--broker-ca".into(),
        broker.ca_file.display().to_string(),
        "--mqtt-password".into(),
        broker.credential(id).password.clone(),
    ];
    station.start_runtime();
    station.wait_for_diesel_price(1650);
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    station
}

#[test]
fn stations_sync_over_tls_with_their_own_credentials_through_the_production_broker() {
    let broker = ProductionBroker::start().unwrap();
    let hub = Hub::start(BrokerChoice::Secured(
        broker.plain_port,
        broker.credential("hub").password.clone(),
    ));
    hub.set_up(&["ST0001", "ST0002"]);
    let first = station_over_tls(&broker, "ST0001");
    let second = station_over_tls(&broker, "ST0002");

    let order = first.manager(&format!(
        "order place --product CD1001 --litres 12000 --wanted {}",
        seoul_date_in(1)
    ));
    let order_id = order["order"].as_str().unwrap().to_owned();
    hub.wait_for("HQ sees ST0001's order", |h| {
        h.get("/api/orders?station=ST0001")
            .as_array()
            .unwrap()
            .len()
            == 1
    });
    let shipped = hub.post(
        &format!("/api/orders/{order_id}/shipments"),
        &json!({"truck": "T-9", "volume_ml": 12_000_000}),
    );
    let shipment = shipped["shipments"][0]["shipment"]
        .as_str()
        .unwrap()
        .to_owned();
    first.wait_for("the delivery is expected at ST0001", |s| {
        s.run("delivery list").as_array().unwrap().len() == 1
    });
    first.manager(&format!(
        "delivery confirm --shipment {shipment} --tank 1 --litres 11990"
    ));
    for station in [&first, &second] {
        station.cashier("shift open --float 0");
        station.settle_sales(25);
    }
    hub.wait_for("HQ shows the order delivered", |h| {
        h.get(&format!("/api/orders/{order_id}"))["status"] == "delivered"
    });
    assert_in_step(&hub, &first);
    assert_in_step(&hub, &second);
    assert_eq!(second.run("delivery list"), json!([]));
    for id in ["ST0001", "ST0002"] {
        assert_eq!(hub.status_of(id)["online"], true, "{}", broker.log());
    }
}
