//! The station's day, driven through the `station` binary as an operator or script would.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

mod common;

use common::{Shell, at, at_plus, day, receipt_no};
use jiff::ToSpan;
use serde_json::{Value, json};
use sync_protocol::{Envelope, Event, HUB_ORIGIN, SCHEMA_VERSION, ShipmentDispatched};

/// What the station's books hold. The audit trail (and its messages to HQ) is left out: a
/// refused command records the attempt there and nothing else.
fn state(shell: &Shell) -> Value {
    let mut outbox = shell.run("outbox list").ok();
    if let Some(events) = outbox["events"].as_array_mut() {
        events.retain(|e| e["kind"] != "audit_recorded");
    }
    outbox["backlog"] = Value::Null;
    json!({
        "stock": shell.run("stock show").ok(),
        "summary": shell.run("sales summary").ok(),
        "sales": shell.run("sale list").ok(),
        "outbox": outbox,
        "accounts": shell.run("account list").ok(),
        "orders": shell.run("order list").ok(),
        "deliveries": shell.run("delivery list").ok(),
    })
}

/// Writes HQ's `shipment_dispatched` message with sequence `seq` to a file; returns its path.
fn shipment_message(shell: &Shell, seq: u64, order: &str, shipment: uuid::Uuid) -> String {
    let envelope = Envelope {
        event_id: uuid::Uuid::now_v7(),
        origin: HUB_ORIGIN.to_owned(),
        sequence: seq,
        occurred_at: at_plus(30.minutes()),
        schema_version: SCHEMA_VERSION,
        stream: None,
        event: Event::ShipmentDispatched(ShipmentDispatched {
            shipment_id: shipment,
            order_id: order.parse().unwrap(),
            product_id: "CD1001".into(),
            volume_ml: 20_000_000,
            truck: "83가1234".into(),
            expected_at: Some(at_plus(5.hours())),
        }),
    };
    let path = shell.path().with_file_name(format!("message-{seq}.json"));
    std::fs::write(&path, sync_protocol::encode(&envelope)).unwrap();
    path.to_str().unwrap().to_owned()
}

fn place_order(shell: &Shell) -> String {
    let order = shell
        .manager(&format!(
            "order place --product CD1001 --litres 20000 --wanted {}",
            day(1)
        ))
        .ok();
    assert_eq!(order["status"], "ordered");
    order["order"].as_str().unwrap().to_owned()
}

#[test]
fn a_day_at_the_station_from_the_shell() {
    let shell = Shell::station();

    // The manager orders diesel; HQ's shipment arrives as a message; the delivery is confirmed.
    let order = place_order(&shell);
    let shipment = uuid::Uuid::now_v7();
    let message = shipment_message(&shell, 1, &order, shipment);
    let applied = shell.run(&format!("inbox apply --file {message}")).ok();
    assert_eq!(applied, json!({"outcome": "applied", "seq": 1}));
    let again = shell.run(&format!("inbox apply --file {message}")).ok();
    assert_eq!(
        again,
        json!({"outcome": "duplicate", "seq": 1}),
        "a message applied twice counts once"
    );

    let stock = shell.run("stock show").ok();
    assert_eq!(
        stock["tanks"][0]["book_stock_ml"], 0,
        "an expected delivery is not book stock"
    );
    assert_eq!(stock["products"][0]["expected_incoming_ml"], 20_000_000);
    let confirm = format!("delivery confirm --shipment {shipment} --tank 1 --litres 19950.5");
    let confirmed = shell.manager(&confirm).ok();
    assert_eq!(confirmed["confirmation"]["received_volume_ml"], 19_950_500);
    assert_eq!(
        shell.manager(&confirm).refused(),
        "delivery_already_confirmed"
    );
    let stock = shell.run("stock show").ok();
    assert_eq!(stock["tanks"][0]["book_stock_ml"], 19_950_500);
    assert_eq!(stock["products"][0]["expected_incoming_ml"], 0);
    let shown = shell.run(&format!("order show --order {order}")).ok();
    assert_eq!(shown["status"], "delivered");

    // The cashier sells for cash, with change.
    shell.cashier("shift open --float 100000").ok();
    let cash_sale = shell
        .cashier(
            "sale settle --line product=CD1001,litres=40 --line product=SN2001,qty=2 --cash 70000",
        )
        .ok();
    assert_eq!(cash_sale["total_won"], 68_000);
    assert_eq!(
        cash_sale["payment"],
        json!({"method": "cash", "tendered_won": 70_000, "change_won": 2_000})
    );
    assert_eq!(cash_sale["receipt_no"], receipt_no(0, 1));
    let sale_id = cash_sale["sale"].as_str().unwrap().to_owned();
    assert_eq!(
        shell.run(&format!("sale show --sale {sale_id}")).ok(),
        cash_sale
    );
    assert_eq!(
        shell
            .run(&format!("sale show --receipt {}", receipt_no(0, 1)))
            .ok(),
        cash_sale
    );

    // A pump sale: the pump's own amount is the legal figure.
    let pump_sale = shell
        .cashier(
            "sale settle --line product=CD1001,litres=30.303,pump-price=1650,pump-amount=50000 \
             --card APPROVAL-7781",
        )
        .ok();
    assert_eq!(pump_sale["total_won"], 50_000);
    assert_eq!(pump_sale["lines"][0]["price_source"], "pump");

    // A customer on account, up to the limit and not past it.
    let account = shell
        .manager("account open --name Hanbit-Logistics --limit 100000")
        .ok();
    let account_id = account["account"].as_str().unwrap().to_owned();
    let on_account = shell
        .cashier(&format!(
            "sale settle --line product=CD1001,litres=50 --account {account_id}"
        ))
        .ok();
    assert_eq!(on_account["total_won"], 82_500);
    let before = state(&shell);
    let over = shell.cashier(&format!(
        "sale settle --line product=CD1001,litres=20 --account {account_id}"
    ));
    assert_eq!(over.refused(), "credit_limit_exceeded");
    assert_eq!(state(&shell), before, "a refused sale changes nothing");

    // Cancelling needs a manager; a sale is canceled once.
    let cancel = format!("sale cancel --sale {sale_id} --reason customer-changed-mind");
    assert_eq!(shell.cashier(&cancel).refused(), "manager_required");
    assert_eq!(
        state(&shell),
        before,
        "a refused cancellation changes nothing"
    );
    let canceled = shell
        .cashier(&format!("--manager park --manager-pin 9999 {cancel}"))
        .ok();
    assert_eq!(canceled["canceled"], true);
    assert_eq!(canceled["cancellation"]["approved_by"], "park");
    assert_eq!(shell.manager(&cancel).refused(), "sale_already_canceled");

    // The account pays back part of its balance.
    let paid = shell
        .cashier(&format!(
            "account pay --account {account_id} --amount 30000"
        ))
        .ok();
    assert_eq!(paid["balance_won"], 52_500);

    // The summary nets the cancellation out.
    let summary = shell.run(&format!("sales summary --day {}", day(0))).ok();
    let diesel = summary
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["product"] == "CD1001")
        .unwrap();
    assert_eq!(diesel["sales_count"], 3);
    assert_eq!(diesel["canceled_count"], 1);
    assert_eq!(diesel["net_amount_won"], 50_000 + 82_500);
    let stock = shell.run("stock show").ok();
    assert_eq!(
        stock["tanks"][0]["book_stock_ml"],
        19_950_500 - 30_303 - 50_000
    );

    // Close the shift: float 100,000 + cash sale 68,000 − its refund 68,000 + account payment 30,000.
    let closed = shell.cashier("shift close --counted 129000").ok();
    assert_eq!(closed["expected_cash_won"], 130_000);
    assert_eq!(closed["over_short_won"], -1_000);

    let report = shell.manager("day close").ok();
    assert_eq!(report["business_day"], day(0));
    assert_eq!(report["closed_by"], "park");
    assert_eq!(report["net_amount_won"], 50_000 + 82_500);
    assert_eq!(
        shell.run(&format!("day report --day {}", day(0))).ok(),
        report
    );

    // Everything HQ must hear about is in the outbox, gapless, in the order it happened.
    let outbox = shell.run("outbox list").ok();
    let events = outbox["events"].as_array().unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    // The books' events, between the audit trail's (every command's login, the approvals).
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|kind| *kind != "audit_recorded")
        .collect();
    assert_eq!(
        kinds,
        [
            "price_version_applied",
            "tank_registered",
            "order_placed",
            "delivery_confirmed",
            "sale_settled",
            "sale_settled",
            "credit_account_opened",
            "sale_settled",
            "sale_canceled",
            "credit_payment_received",
            "shift_closed",
            "day_closed",
        ]
    );
    assert_eq!(outbox["backlog"], events.len());
    for event in events {
        let bytes = serde_json::to_vec(&event["message"]).unwrap();
        let decoded = sync_protocol::decode(&bytes).unwrap();
        assert_eq!(decoded.origin, "ST0001");
        assert_eq!(decoded.sequence, event["seq"].as_u64().unwrap());
    }
    let acked = shell.run("outbox ack --through 5").ok();
    assert_eq!(
        acked,
        json!({"newly_acknowledged": 5, "acknowledged_through": 5})
    );
    let again = shell.run("outbox ack --through 3").ok();
    assert_eq!(
        again,
        json!({"newly_acknowledged": 0, "acknowledged_through": 5})
    );
    let pending = shell.run("outbox list --pending").ok();
    assert_eq!(pending["backlog"], events.len() - 5);
    assert_eq!(pending["events"][0]["seq"], 6);
}

#[test]
fn bad_input_gets_a_named_error_and_changes_nothing() {
    let shell = Shell::station();
    shell.cashier("shift open --float 50000").ok();
    let sale = shell
        .cashier("sale settle --line product=CD1001,litres=10 --cash 20000")
        .ok();
    let sale = sale["sale"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7().to_string();
    let before = state(&shell);

    // (who, command, expected code, a word the message must contain)
    #[rustfmt::skip]
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("kim 1234", "sale settle --line product=CD1001,litres=0 --cash 1".into(), "not_positive", "more than zero"),
        ("kim 1234", "sale settle --line product=CD1001,litres=-5 --cash 1".into(), "not_positive", "more than zero"),
        ("kim 1234", "sale settle --line product=GS9999,litres=5 --cash 10000".into(), "unknown_product", "GS9999"),
        ("kim 1234", "sale settle --line product=CD1001,litres=5,tank=7 --cash 10000".into(), "unknown_tank", "7"),
        ("kim 1234", "sale settle --line product=CD1001,litres=5 --cash 100".into(), "insufficient_tender", "8,250"),
        ("kim 1234", format!("sale settle --line product=CD1001,litres=5 --account {unknown}"), "unknown_account", &unknown),
        ("kim 0000", "sale settle --line product=CD1001,litres=5 --cash 10000".into(), "bad_credentials", "wrong PIN"),
        ("park 9999", format!("sale cancel --sale {unknown} --reason x"), "unknown_sale", &unknown),
        ("kim 1234", format!("sale cancel --sale {sale} --reason x"), "manager_required", "manager"),
        ("park 9999", format!("order place --product CD1001 --litres 0 --wanted {}", day(1)), "not_positive", "more than zero"),
        ("park 9999", format!("order cancel --order {unknown} --reason x"), "unknown_order", &unknown),
        ("park 9999", format!("delivery confirm --shipment {unknown} --tank 1 --litres 100"), "unknown_shipment", &unknown),
        ("park 9999", "stock adjust --tank 1 --litres -999999 --reason leak".into(), "tank_below_empty", "tank 1"),
        ("park 9999", format!("price receive --version 1 --effective-at {} --item CD1001:Diesel:litre:1600", at()), "price_version_not_newer", "1"),
    ];
    for (who, command, code, named) in cases {
        let (user, pin) = who.split_once(' ').unwrap();
        let run = shell.run(&format!("--user {user} --pin {pin} {command}"));
        assert_eq!(run.status, 1, "{command}: {run:?}");
        assert_eq!(run.error_code(), code, "{command}: {run:?}");
        assert!(
            run.error_message().contains(named),
            "{command}: the message names the problem: {run:?}"
        );
        assert_eq!(run.stdout, Value::Null, "{command}: no result printed");
        assert_eq!(state(&shell), before, "{command} changed the station");
    }
}

#[test]
fn a_wrong_command_line_is_a_usage_error() {
    let shell = Shell::station();
    let cases = [
        "sale settle --line product=CD1001,litres=5",
        "--user kim --pin 1234 sale settle --line product=CD1001,litres=five --cash 1",
        "--user kim --pin 1234 sale settle --line product=CD1001,litres=5 --cash 1 --card X",
        "tank register --tank 100 --product CD1001 --capacity 1",
        "--user kim --pin 12 shift current",
        "--user kim --pin 1234 order place --product CD1001 --litres 10 --wanted tomorrow",
        "no-such-command",
    ];
    for line in cases {
        let run = shell.run(line);
        assert_eq!(run.status, 2, "{line}: {run:?}");
        assert_eq!(run.error_code(), "usage");
        assert!(!run.error_message().is_empty());
    }
    assert_eq!(shell.run("sale list").ok(), json!([]));
}

#[test]
fn a_missing_corrupt_or_foreign_file_is_named_and_left_alone() {
    let shell = Shell::new();
    assert_eq!(shell.run("info").refused(), "database_missing");
    assert!(!shell.path().exists(), "opening does not create a database");

    let text = b"this is a shopping list, not a database";
    std::fs::write(shell.path(), text).unwrap();
    assert_eq!(shell.run("info").refused(), "not_a_station_database");
    assert_eq!(std::fs::read(shell.path()).unwrap(), text);

    let foreign = Shell::new();
    {
        let conn = rusqlite::Connection::open(foreign.path()).unwrap();
        conn.execute_batch(
            "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('kimchi');",
        )
        .unwrap();
    }
    let before = std::fs::read(foreign.path()).unwrap();
    assert_eq!(
        foreign.run("stock show").refused(),
        "not_a_station_database"
    );
    assert_eq!(
        std::fs::read(foreign.path()).unwrap(),
        before,
        "a foreign database is not touched"
    );

    let existing = Shell::station();
    let init_again = existing.run(
        "--manager lee --manager-pin 1111 init --station ST0002 --name Other --manager-name Lee",
    );
    assert_eq!(init_again.refused(), "database_exists");
    assert_eq!(existing.run("info").ok()["station"], "ST0001");
}

#[test]
fn messages_from_hq_are_applied_once_in_order_and_bad_ones_are_dead_lettered() {
    let shell = Shell::station();
    let order = place_order(&shell);
    let second = shipment_message(&shell, 2, &order, uuid::Uuid::now_v7());
    let early = shell.run(&format!("inbox apply --file {second}")).ok();
    assert_eq!(
        early,
        json!({"outcome": "out_of_order", "seq": 2, "expected_seq": 1})
    );
    assert_eq!(
        shell.run("delivery list").ok(),
        json!([]),
        "a message ahead of a gap waits"
    );

    let garbage = shell.path().with_file_name("garbage.json");
    std::fs::write(&garbage, br#"{"schema":1,"kind":"free_fuel"#).unwrap();
    let dead = shell
        .run(&format!("inbox apply --file {}", garbage.display()))
        .ok();
    assert_eq!(dead["outcome"], "dead_lettered");
    assert_eq!(dead["code"], "not_json");
    let letters = shell.run("dead-letters").ok();
    assert_eq!(letters.as_array().unwrap().len(), 1);
    assert_eq!(letters[0]["code"], "not_json");

    let first = shipment_message(&shell, 1, &order, uuid::Uuid::now_v7());
    let applied = shell.run(&format!("inbox apply --file {first}")).ok();
    assert_eq!(applied["outcome"], "applied");
    let applied = shell.run(&format!("inbox apply --file {second}")).ok();
    assert_eq!(applied["outcome"], "applied");
    assert_eq!(shell.run("delivery list").ok().as_array().unwrap().len(), 2);
}

/// Runs `args` with its stdout a pipe whose read end is already closed, as
/// `station … | head -c0` leaves it: every write the tool makes fails with a broken pipe.
fn run_with_stdout_closed(shell: &Shell, args: &[&str]) -> (i32, Value) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = shell
        .command(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let error: Value = serde_json::from_str(stderr.trim())
        .unwrap_or_else(|e| panic!("stderr is not one JSON document ({e}): {stderr}"));
    (
        output.status.code().expect("the tool exits, not killed"),
        error,
    )
}

/// Issue: with its output a closed pipe, the tool exited 1 — "refused, database unchanged" — for
/// a sale it had already committed, so a wrapper that retries on 1 settled the sale twice.
#[test]
fn a_committed_sale_whose_result_cannot_be_written_is_not_reported_as_refused() {
    let shell = Shell::station();
    shell.cashier("shift open --float 0").ok();

    let (status, error) = run_with_stdout_closed(
        &shell,
        &[
            "--user",
            "kim",
            "--pin",
            "1234",
            "sale",
            "settle",
            "--line",
            "product=CD1001,litres=10",
            "--card",
            "APPROVAL-1",
        ],
    );
    assert_ne!(status, 1, "exit 1 means refused, but the sale is committed");
    assert_eq!(status, 3, "done, but the result could not be written");
    assert_eq!(error["error"]["code"], "output_failed", "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("done"), "{message}");
    assert!(message.to_lowercase().contains("broken pipe"), "{message}");

    let sales = shell.run("sale list").ok();
    assert_eq!(
        sales.as_array().unwrap().len(),
        1,
        "settled exactly once: {sales}"
    );
    let events = shell.run("outbox list").ok()["events"].clone();
    let settled = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sale_settled")
        .count();
    assert_eq!(settled, 1, "{events}");
}

/// The same for the simulator: the first sale is durable when its line cannot be written, and the
/// tool stops there with the same status instead of settling more.
#[test]
fn the_simulator_stops_at_the_first_sale_it_cannot_report_and_does_not_exit_as_refused() {
    let shell = Shell::station();
    shell.cashier("shift open --float 0").ok();

    let (status, error) = run_with_stdout_closed(
        &shell,
        &[
            "--user",
            "kim",
            "--pin",
            "1234",
            "simulate",
            "sales",
            "--count",
            "5",
            "--product",
            "CD1001",
            "--litres",
            "20",
        ],
    );
    assert_eq!(status, 3, "{error}");
    assert_eq!(error["error"]["code"], "output_failed");
    assert_eq!(shell.run("sale list").ok().as_array().unwrap().len(), 1);
}

/// A command that changes nothing exits with the same status when its result is lost, and one the
/// station refuses still exits 1 whatever happens to stdout.
#[test]
fn a_lost_result_and_a_refusal_keep_their_own_exit_statuses_with_stdout_closed() {
    let shell = Shell::station();
    let (status, error) = run_with_stdout_closed(&shell, &["info"]);
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (3, Some("output_failed"))
    );

    let before = state(&shell);
    let (status, error) = run_with_stdout_closed(
        &shell,
        &[
            "--user",
            "kim",
            "--pin",
            "1234",
            "sale",
            "settle",
            "--line",
            "product=CD1001,litres=10",
            "--card",
            "APPROVAL-2",
        ],
    );
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (1, Some("no_open_shift"))
    );
    assert_eq!(state(&shell), before);
}
