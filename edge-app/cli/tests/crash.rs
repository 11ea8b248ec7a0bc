//! The process is killed (SIGKILL) at random points while settling sales. After reopening, every
//! sale it reported settled is there, and the ledger, the summaries and the outbox agree.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::Shell;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use station_core::{Measure, Millilitres, SaleId, Station, TankNo, Won};

const ROUNDS: usize = 20;

#[test]
fn sales_reported_settled_survive_a_kill_at_any_point() {
    let shell = Shell::station();
    shell.cashier("shift open --float 0").ok();
    let mut rng = StdRng::seed_from_u64(0x5EED_2026);
    let mut reported: BTreeSet<String> = BTreeSet::new();

    for round in 0..ROUNDS {
        // Let the process report between 1 and 40 sales, then kill it wherever it is.
        let wait_for = rng.random_range(1..=40);
        let mut child = shell
            .command(&[
                "--user",
                "kim",
                "--pin",
                "1234",
                "simulate",
                "sales",
                "--count",
                "100000",
                "--product",
                "CD1001",
                "--litres",
                "20",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..wait_for {
            let line = lines.next().expect("the simulator reports sales").unwrap();
            let sale: serde_json::Value = serde_json::from_str(&line).unwrap();
            reported.insert(sale["sale"].as_str().unwrap().to_owned());
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Lines it managed to write before the kill were durable too.
        for line in lines.map_while(Result::ok) {
            if let Ok(sale) = serde_json::from_str::<serde_json::Value>(&line) {
                reported.insert(sale["sale"].as_str().unwrap().to_owned());
            }
        }

        let station = Station::open(shell.path()).unwrap();
        verify(&station, &reported, round);
    }

    let check = shell.run("check").ok();
    assert_eq!(check["ok"], true, "{check}");
}

fn verify(station: &Station, reported: &BTreeSet<String>, round: usize) {
    for id in reported {
        let sale = station.sale(id.parse::<SaleId>().unwrap());
        assert!(sale.is_ok(), "round {round}: reported sale {id} is missing");
    }

    let day = station.open_business_day().unwrap().unwrap();
    let sales = station.sales_of_day(day).unwrap();
    assert!(sales.len() >= reported.len(), "round {round}");

    // Book stock is the sum of the ledger, and the ledger holds exactly one flow per sale.
    let tank = TankNo::new(1).unwrap();
    let flows = station.stock_flows(tank).unwrap();
    let ledger: i64 = flows.iter().map(|f| f.delta.get()).sum();
    let book = station.tank_stock().unwrap()[0].book_stock;
    assert_eq!(book, Millilitres(ledger), "round {round}");
    let sold: i64 = sales
        .iter()
        .flat_map(|s| &s.lines)
        .map(|l| match l.measure {
            Measure::Volume(v) => v.get(),
            Measure::Quantity(_) => 0,
        })
        .sum();
    assert_eq!(book, Millilitres(-sold), "round {round}");

    // The summary equals the sales.
    let summary = station.sales_summary(Some(day)).unwrap();
    let total: i64 = sales.iter().map(|s| s.total.get()).sum();
    assert_eq!(summary.len(), 1, "round {round}");
    assert_eq!(summary[0].sales_amount, Won(total), "round {round}");
    assert_eq!(summary[0].sales_count, i64::try_from(sales.len()).unwrap());

    // The outbox is gapless and holds one sale_settled event per sale, in receipt order.
    let events = station.outbox_events(0, usize::MAX).unwrap();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "round {round}: outbox gap");
    }
    let settled: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "sale_settled")
        .map(|e| {
            let envelope = sync_protocol::decode(e.message.as_bytes()).unwrap();
            match envelope.event {
                sync_protocol::Event::SaleSettled(s) => s.sale_id.to_string(),
                other => panic!("sale_settled holds {other:?}"),
            }
        })
        .collect();
    let in_receipt_order: Vec<String> = sales.iter().map(|s| s.sale.to_string()).collect();
    assert_eq!(settled, in_receipt_order, "round {round}");
}
