//! The sync at the sizes a network really holds, through real processes (a Mosquitto broker
//! with the production packet limit, the hub, two station runtimes and the `station` tool): a
//! price book of 5,000 shop items with Korean names, a 99-line sale and a day of 300 distinct
//! products all reach the other side, and HQ's figures equal the stations' exactly.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{BrokerChoice, Hub, Station, assert_in_step};
use system_tests::Mosquitto;

const ITEMS: usize = 5_000;

fn item(i: usize) -> String {
    format!("SH{i:05}")
}

#[test]
fn a_5000_item_price_book_a_99_line_sale_and_a_300_product_day_go_through() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let hub = Hub::start(BrokerChoice::External(broker.port()));
    hub.set_up(&["ST0001", "ST0002"]);
    for i in 0..ITEMS {
        hub.put(
            &format!("/api/products/{}", item(i)),
            &json!({"name": format!("{i}번 바삭한 김스낵 대용량 묶음"), "unit": "piece"}),
        );
    }
    // One price version changing every product: 5,001 prices, sent in parts.
    let mut prices: Vec<_> = (0..ITEMS)
        .map(|i| json!({"product": item(i), "unit_price_won": 1000 + i}))
        .collect();
    prices.push(json!({"product": "CD1001", "unit_price_won": 1700}));
    hub.post("/api/prices", &json!({ "prices": prices }));

    let mut first = Station::new("ST0001", broker.port());
    let mut second = Station::new("ST0002", broker.port());
    for station in [&mut first, &mut second] {
        station.start_runtime();
        station.wait_for_diesel_price(1700);
        let last = station.run(&format!("price show --product {}", item(ITEMS - 1)));
        assert_eq!(last["unit_price_won"], 1000 + ITEMS - 1, "{last}");
        station.cashier("shift open --float 0");
    }
    // The second station sells at the new prices too.
    let sale = second.cashier(&format!(
        "sale settle --line product={},qty=2 --cash 100000",
        item(7)
    ));
    assert_eq!(sale["total_won"], 2 * 1007, "{sale}");

    // A 99-line sale, then enough sales for 300 distinct products in the day.
    let mut sold = 0;
    for lines in [99, 99, 99, 3] {
        let line_args: String = (sold..sold + lines)
            .map(|i| format!(" --line product={},qty=1", item(i)))
            .collect();
        let total: usize = (sold..sold + lines).map(|i| 1000 + i).sum();
        let sale = first.cashier(&format!("sale settle{line_args} --cash {total}"));
        assert_eq!(sale["total_won"], total, "{sale}");
        sold += lines;
    }
    assert_eq!(sold, 300);
    first.cashier("shift close --counted 0");
    let report = first.manager("day close");
    assert_eq!(
        report["products"].as_array().map(Vec::len),
        Some(300),
        "{report}"
    );
    for station in [&first, &second] {
        station.wait_for("HQ acknowledged everything", |s| s.backlog() == 0);
    }
    let days = hub.get("/api/sales?station=ST0001");
    assert_eq!(
        days.as_array().map(Vec::len),
        Some(300),
        "HQ has every product sold"
    );
    assert_in_step(&hub, &first);
    assert_in_step(&hub, &second);
}
