//! What operators really do to a running network, through real processes (a Mosquitto broker,
//! the hub, station runtimes and the `station` tool): a station database restored from a
//! backup, a station PC re-installed with an empty database, HQ's database restored from a
//! backup, a second hub started against the same broker, a staggered upgrade where one side
//! reads an older schema, and a station that syncs before HQ registered it. In each, no sale is
//! lost or counted twice at HQ, what happened is visible, and the station goes on selling.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};
use support::{
    BrokerChoice, Hub, STEP, Station, assert_in_step, binary, metric, one_station_network,
    ready_to_sell,
};
use system_tests::{ChildGuard, Mosquitto, free_port, wait_until};

/// The number of sales HQ counts for `station` over every day and product.
fn sales_at_hq(hub: &Hub, station: &str) -> u64 {
    hub.get(&format!("/api/sales?station={station}"))
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["sales_count"].as_u64().unwrap())
        .sum()
}

/// How many of `product` ST0001 sold, as HQ counts it over every day.
fn sold_at_hq(hub: &Hub, product: &str) -> u64 {
    hub.get("/api/sales?station=ST0001")
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["product"] == product)
        .map(|row| row["sales_count"].as_u64().unwrap())
        .sum()
}

/// HQ lists a divergence of ST0001's with this direction and kind.
fn assert_divergence_at_hq(hub: &Hub, direction: &str, kind: &str) {
    let at_hq = hub.get("/api/sync/divergences?station=ST0001");
    assert!(
        at_hq
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["direction"] == direction && d["kind"] == kind),
        "no {direction} {kind} divergence in {at_hq}"
    );
}

fn sales_at_station(station: &Station) -> u64 {
    station
        .sales()
        .iter()
        .map(|row| row["sales_count"].as_u64().unwrap())
        .sum()
}

/// `db` with a suffix (`-wal`, `-shm`) after its file name: SQLite's files beside it.
fn beside(db: &Path, suffix: &str) -> std::path::PathBuf {
    db.with_file_name(format!(
        "{}{suffix}",
        db.file_name().unwrap().to_str().unwrap()
    ))
}

/// A stopped database's files (the file and its write-ahead log), copied into `to`.
fn back_up(db: &Path, to: &Path) {
    for suffix in ["", "-wal"] {
        let file = beside(db, suffix);
        if file.exists() {
            fs::copy(&file, beside(&to.join(db.file_name().unwrap()), suffix)).unwrap();
        }
    }
}

/// Puts a backup back in place of `db`, as an operator restoring a backup file would: the live
/// file's write-ahead log and index go, so none of the newer history survives.
fn restore(backup: &Path, db: &Path) {
    for suffix in ["-wal", "-shm"] {
        let side = beside(db, suffix);
        if side.exists() {
            fs::remove_file(side).unwrap();
        }
    }
    for suffix in ["", "-wal"] {
        let file = beside(backup, suffix);
        if file.exists() {
            fs::copy(&file, beside(db, suffix)).unwrap();
        }
    }
}

#[test]
fn a_station_restored_from_a_backup_50_sales_back_loses_nothing_at_hq_and_sells_on() {
    let (_broker, hub, mut station) = one_station_network();
    station.settle_sales(5);
    assert_in_step(&hub, &station);
    let backup = station.db().with_file_name("before.db");
    let written = station.run(&format!("backup --to {}", backup.display()));
    assert_eq!(written["backup"], backup.display().to_string());
    let (code, _, refused) = station.try_run(&format!("backup --to {}", backup.display()));
    assert_eq!(code, 1, "a second backup onto the same file is refused");
    assert!(refused.contains("exists"), "{refused}");

    station.settle_sales(50);
    assert_in_step(&hub, &station);
    assert_eq!(sales_at_hq(&hub, "ST0001"), 55);

    // The PC's disk is replaced and the manager restores last week's backup.
    station.kill_runtime();
    restore(&backup, &station.db());
    assert_eq!(sales_at_station(&station), 5, "the backup holds 5 sales");
    station.start_runtime();
    station.settle_sales(20);
    let sale = station.cashier("sale settle --line product=SN2001,qty=1 --cash 1000");
    assert_eq!(sale["total_won"], 1000, "{sale}");
    station.wait_for("HQ acknowledged what the station has", |s| s.backlog() == 0);

    // HQ keeps the 50 sales the station lost and gets the 21 made after the restore, once each.
    assert_eq!(sold_at_hq(&hub, "CD1001"), 75);
    assert_eq!(sold_at_hq(&hub, "SN2001"), 1);
    assert_eq!(sales_at_station(&station), 26);

    // The divergence is on record on both sides and counted in HQ's metrics.
    assert_divergence_at_hq(&hub, "up", "history_differs");
    assert!(metric(&hub.get_text("/metrics"), "hub_stream_divergences_total") >= 1);
    let at_station = station.run("divergences");
    assert!(!at_station.as_array().unwrap().is_empty(), "{at_station}");
    let live = station.pos_get("park", "9999", "/api/status");
    assert!(live["sync"]["divergences"].as_u64().unwrap() >= 1, "{live}");
    let listed = station.pos_get("park", "9999", "/api/sync/divergences");
    assert_eq!(listed, at_station);
    assert_eq!(
        metric(&hub.get_text("/metrics"), "hub_dead_letters_total"),
        0
    );
}

#[test]
fn a_re_installed_station_gets_its_prices_orders_and_deliveries_again_and_hq_loses_nothing() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    let mut old = Station::new("ST0001", broker.port());
    ready_to_sell(&hub, &mut old);
    old.settle_sales(30);
    let wanted = system_tests::seoul_date_in(2);
    let shipped = old.manager(&format!(
        "order place --product CD1001 --litres 10000 --wanted {wanted}"
    ));
    let open = old.manager(&format!(
        "order place --product CD1001 --litres 5000 --wanted {wanted}"
    ));
    let shipped = shipped["order"].as_str().unwrap().to_owned();
    let open = open["order"].as_str().unwrap().to_owned();
    hub.wait_for("HQ has both orders", |h| {
        h.get("/api/orders").as_array().unwrap().len() == 2
    });
    hub.post(
        &format!("/api/orders/{shipped}/shipments"),
        &json!({"truck": "T-1", "volume_ml": 10_000_000}),
    );
    old.wait_for("the shipment is expected", |s| {
        s.run("delivery list").as_array().unwrap().len() == 1
    });
    assert_in_step(&hub, &old);

    // The PC is re-installed: a new, empty database under the same station id.
    old.kill_runtime();
    drop(old);
    let mut station = Station::new("ST0001", broker.port());
    station.start_runtime();
    station.wait_for_diesel_price(1650);
    station.wait_for("the orders are back", |s| {
        s.run("order list").as_array().unwrap().len() == 2
    });
    let orders = station.run("order list");
    let ids: Vec<&str> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&shipped.as_str()) && ids.contains(&open.as_str()),
        "{orders}"
    );
    station.wait_for("the delivery is expected again", |s| {
        s.run("delivery list").as_array().unwrap().len() == 1
    });
    let deliveries = station.run("delivery list");
    assert_eq!(deliveries[0]["order"], shipped.as_str(), "{deliveries}");

    // It sells, and HQ counts its new sales on top of the old ones.
    station.cashier("shift open --float 0");
    for _ in 0..5 {
        station.cashier("sale settle --line product=SN2001,qty=1 --cash 1000");
    }
    station.wait_for("HQ acknowledged the new database's events", |s| {
        s.backlog() == 0
    });
    assert_eq!(
        (sold_at_hq(&hub, "CD1001"), sold_at_hq(&hub, "SN2001")),
        (30, 5)
    );
    assert_divergence_at_hq(&hub, "down", "station_lost_stream");
    // A price HQ publishes now reaches the new database.
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1720}]}),
    );
    station.wait_for_diesel_price(1720);
}

#[test]
fn a_hub_restored_from_a_backup_is_sent_again_what_it_lost_and_the_stations_follow_it() {
    let (_broker, mut hub, station) = one_station_network();
    station.settle_sales(20);
    assert_in_step(&hub, &station);
    // HQ's nightly backup: the hub stopped, its database files copied.
    hub.kill();
    let backup = tempfile::tempdir().unwrap();
    back_up(&hub.db_path(), backup.path());
    hub.restart();
    station.settle_sales(30);
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1700}]}),
    );
    station.wait_for_diesel_price(1700);
    assert_in_step(&hub, &station);
    assert_eq!(sales_at_hq(&hub, "ST0001"), 50);

    // HQ's disk fails; the backup is restored.
    hub.kill();
    restore(&backup.path().join("hub.db"), &hub.db_path());
    hub.restart();
    // The station sends again what HQ lost; nothing is doubled.
    hub.wait_for("HQ has the 30 sales it lost again", |h| {
        sales_at_hq(h, "ST0001") == 50
    });
    station.settle_sales(10);
    assert_in_step(&hub, &station);
    assert_eq!(sales_at_hq(&hub, "ST0001"), 60);
    assert_divergence_at_hq(&hub, "down", "hub_went_back");
    // HQ's stream towards the station goes on from what HQ holds.
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1800}]}),
    );
    station.wait_for_diesel_price(1800);
    assert_eq!(
        metric(&hub.get_text("/metrics"), "hub_dead_letters_total"),
        0
    );
}

#[test]
fn a_second_hub_on_the_same_broker_stands_down_and_the_first_serves_on() {
    let (broker, hub, station) = one_station_network();
    station.settle_sales(10);
    assert_in_step(&hub, &station);

    // Someone starts a second copy of the hub against the same broker, on its own database.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("second-hub.log");
    let mut second = ChildGuard::new(
        Command::new(binary("hub"))
            .arg("--db")
            .arg(dir.path().join("hub.db"))
            .args(["--http", &format!("127.0.0.1:{}", free_port())])
            .args(["--admin-password", "another-password"])
            .args(["--broker", &format!("127.0.0.1:{}", broker.port())])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut exit = None;
    wait_until(Instant::now() + STEP, "the second hub exits", || {
        exit = second.try_wait().unwrap();
        exit.is_some()
    })
    .unwrap();
    assert!(!exit.unwrap().success(), "it exits as a failure");
    let said = fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("another hub") && said.contains("stood down"),
        "it says why: {said}"
    );

    // A second process on the first hub's own database is refused before it reaches the broker.
    let same_files = Command::new(binary("hub"))
        .arg("--db")
        .arg(hub.db_path())
        .args(["--http", &format!("127.0.0.1:{}", free_port())])
        .args(["--broker", &format!("127.0.0.1:{}", broker.port())])
        .output()
        .unwrap();
    assert!(!same_files.status.success());
    let said = String::from_utf8_lossy(&same_files.stderr);
    assert!(
        said.contains("another hub process already uses"),
        "it says why: {said}"
    );

    // The first hub still serves the station.
    station.settle_sales(10);
    assert_in_step(&hub, &station);
    assert_eq!(sales_at_hq(&hub, "ST0001"), 20);
    let metrics = hub.get_text("/metrics");
    assert_eq!(metric(&metrics, "hub_fenced"), 0, "{metrics}");
}

#[test]
fn messages_of_a_newer_schema_wait_for_the_upgrade_on_both_sides_and_then_apply() {
    let (_broker, mut hub, mut station) = one_station_network();
    assert_in_step(&hub, &station);

    // HQ is rolled back to a version that reads schema 1 only; the station sells on.
    hub.kill();
    hub.extra_args = vec!["--read-schema".into(), "1".into()];
    hub.restart();
    station.settle_sales(10);
    hub.wait_for("HQ holds the station's messages", |h| {
        h.get("/api/sync/held")
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["station"] == "ST0001" && m["code"] == "unsupported_schema")
    });
    assert!(station.backlog() >= 10, "nothing is acknowledged meanwhile");
    assert_eq!(sales_at_hq(&hub, "ST0001"), 0);
    assert!(hub.get("/api/dead-letters").as_array().unwrap().is_empty());

    // Upgraded again: everything held applies, once.
    hub.kill();
    hub.extra_args.clear();
    hub.restart();
    assert_in_step(&hub, &station);
    assert_eq!(sales_at_hq(&hub, "ST0001"), 10);
    assert_eq!(hub.get("/api/sync/held"), json!([]));

    // The station runs a version that reads schema 1 only: HQ's new prices wait for it.
    station.kill_runtime();
    station.runtime_args = vec!["--read-schema".into(), "1".into()];
    station.start_runtime();
    hub.post(
        "/api/prices",
        &json!({"prices": [{"product": "CD1001", "unit_price_won": 1690}]}),
    );
    station.wait_for("the station shows a message held for its upgrade", |s| {
        s.pos_get("park", "9999", "/api/status")["sync"]["held"].is_string()
    });
    assert_eq!(
        station.run("price show --product CD1001")["unit_price_won"],
        1650
    );
    assert_eq!(station.run("dead-letters"), json!([]));
    station.kill_runtime();
    station.runtime_args.clear();
    station.start_runtime();
    station.wait_for_diesel_price(1690);
    let status = station.pos_get("park", "9999", "/api/status");
    assert_eq!(status["sync"]["held"], Value::Null, "{status}");
}

#[test]
fn a_station_syncing_before_hq_registered_it_neither_floods_hq_nor_loses_its_events() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    hub.set_up(&[]);
    let mut station = Station::new("ST0001", broker.port());
    station.start_runtime();
    // Trial shifts before HQ registered it (it has no price list yet, so nothing is sold).
    for _ in 0..3 {
        station.cashier("shift open --float 50000");
        station.cashier("shift close --counted 50000");
    }
    let waiting = station.backlog();
    let outbox = station.run("outbox list");
    let kinds: Vec<&str> = outbox["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len() as u64, waiting, "everything waits for HQ");
    assert_eq!(
        kinds.iter().filter(|k| **k == "shift_closed").count(),
        3,
        "the 3 shift closes wait for HQ, beside the audit trail of the logins: {kinds:?}"
    );
    hub.wait_for("HQ holds the station's messages, counting copies", |h| {
        h.get("/api/sync/held")
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["station"] == "ST0001" && m["repeats"].as_u64().unwrap() >= 3)
    });
    let held = hub.get("/api/sync/held");
    assert_eq!(
        held.as_array().unwrap().len(),
        1,
        "one row, not one per copy: {held}"
    );
    assert_eq!(held[0]["code"], "unknown_station");
    assert!(hub.get("/api/dead-letters").as_array().unwrap().is_empty());

    hub.post(
        "/api/stations",
        &json!({"station": "ST0001", "name": "Station ST0001", "operating_type": "franchise"}),
    );
    // Registered, it gets its price list, and HQ gets everything it held back.
    station.wait_for_diesel_price(1650);
    station.wait_for("HQ acknowledged everything", |s| s.backlog() == 0);
    assert_in_step(&hub, &station);
    assert_eq!(
        hub.status_of("ST0001")["events_applied_through"],
        waiting + 1,
        "all it held back, and the price version applied"
    );
    assert_eq!(hub.get("/api/sync/held"), json!([]));
}
