//! The station's devices through real serial lines: the receipt printer simulator on a
//! pseudo-terminal, driven by the station runtime's printer supervisor.
#![allow(clippy::unwrap_used)] // scenario helpers outside #[test] functions

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};

use serde_json::{Value, json};
use support::{BrokerChoice, Hub, Station, binary, deadline};
use system_tests::{ChildGuard, free_port, instant_in_days};

/// A device simulator on a pseudo-terminal: its events as they come, and its control input.
struct Simulator {
    _process: ChildGuard,
    control: ChildStdin,
    events: Receiver<Value>,
    path: String,
}

impl Simulator {
    /// Starts the simulator binary and waits for its `ready` line with the port's path.
    fn start(name: &str) -> Simulator {
        let mut process = ChildGuard::new(
            Command::new(binary(name))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let control = process.stdin.take().unwrap();
        let stdout = process.stdout.take().unwrap();
        let (sender, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && sender.send(event).is_err()
                {
                    return;
                }
            }
        });
        let ready = events.recv_timeout(support::STEP).unwrap();
        assert_eq!(ready["event"], "ready", "{ready}");
        Simulator {
            path: ready["path"].as_str().unwrap().to_owned(),
            _process: process,
            control,
            events,
        }
    }

    fn control(&mut self, line: &str) {
        writeln!(self.control, "{line}").unwrap();
        self.control.flush().unwrap();
    }

    /// The next event of `kind`, skipping others.
    fn next(&self, kind: &str) -> Value {
        let deadline = deadline();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self
                .events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{kind}` event from the printer"));
            assert_ne!(
                event["event"], "discarded",
                "a job was sent while it could not print"
            );
            if event["event"] == kind {
                return event;
            }
        }
    }
}

fn printed_text(receipt: &Value) -> String {
    receipt["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_sale_is_durable_while_the_paper_is_out_and_its_receipt_prints_when_paper_is_back() {
    let mut printer = Simulator::start("printer-sim");
    printer.control("paper-out on");
    printer.next("state");

    // A station with no HQ in reach (nothing listens on the broker port): it sells anyway.
    let mut station = Station::new("ST0001", free_port());
    station.manager(&format!(
        "price receive --version 1 --effective-at {} --item CD1001:경유:litre:1650",
        instant_in_days(-1)
    ));
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    station.broker_args.extend([
        "--printer".to_owned(),
        printer.path.clone(),
        "--business-number".to_owned(),
        "123-45-67890".to_owned(),
        "--address".to_owned(),
        "Seoul".to_owned(),
    ]);
    station.start_runtime();
    station.cashier("shift open --float 0");
    let sale = station.cashier("sale settle --line product=CD1001,litres=40 --cash 70000");
    let receipt_no = sale["receipt_no"].as_str().unwrap().to_owned();

    // The sale is durable and its receipt waits in the queue; nothing is sent to a printer
    // without paper (a job sent anyway would show as a `discarded` event below).
    let waiting = station.run("print list");
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["sale"], sale["sale"]);
    assert_eq!(
        station.run(&format!("sale show --receipt {receipt_no}"))["total_won"],
        66_000
    );

    // The screens see the printer's state and the receipt waiting.
    let status = |s: &Station| s.pos_get("kim", "1234", "/api/status");
    station.wait_for("the POS to show the paper out", |s| {
        let status = status(s);
        status["printer"]["state"] == "not_ready" && status["waiting_receipts"] == 1
    });

    printer.control("paper-out off");
    let printed = printer.next("receipt");
    let text = printed_text(&printed);
    assert!(text.contains(&receipt_no), "{text}");
    assert!(text.contains("경유"), "{text}");
    assert!(text.contains("66,000"), "{text}");
    assert!(text.contains("123-45-67890"), "{text}");
    assert_eq!(printed["qr"], sale["sale"]);
    assert_eq!(printed["cut"], true);
    station.wait_for("the job is marked printed", |s| {
        s.run("print list") == Value::Array(Vec::new())
    });
    station.wait_for("the POS to show the printer ready", |s| {
        let status = status(s);
        status["printer"]["state"] == "ready" && status["waiting_receipts"] == 0
    });

    assert_eq!(
        marks(&printed),
        Vec::<String>::new(),
        "the original is not marked"
    );

    // A reprint asked for at the counter comes out again, marked as the sale's first reprint.
    let sale_id = sale["sale"].as_str().unwrap();
    station.cashier(&format!("sale reprint --sale {sale_id}"));
    let again = printer.next("receipt");
    assert!(printed_text(&again).contains(&receipt_no));
    assert_eq!(marks(&again), ["*** 재발행 1 ***"]);

    // Once the sale is canceled, its receipt says so: it proves no payment.
    station.cashier(&format!(
        "--manager park --manager-pin 9999 sale cancel --sale {sale_id} --reason wrong-pump"
    ));
    station.cashier(&format!("sale reprint --sale {sale_id}"));
    let canceled = printer.next("receipt");
    assert!(printed_text(&canceled).contains(&receipt_no));
    assert_eq!(marks(&canceled), ["*** 취소 ***", "*** 재발행 2 ***"]);
}

/// The marks under a receipt's header (reprint, canceled, fallback copy).
fn marks(receipt: &Value) -> Vec<String> {
    receipt["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .filter(|l| l.starts_with("***"))
        .collect()
}

/// Logs in to the runtime's API as `user` and posts `body` to `path`.
fn pos_post(station: &Station, user: &str, pin: &str, path: &str, body: &Value) -> (u16, Value) {
    let api = station.api.as_deref().unwrap();
    let http = reqwest::blocking::Client::new();
    let session: Value = http
        .post(format!("http://{api}/api/session"))
        .json(&json!({"user": user, "pin": pin}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let response = http
        .post(format!("http://{api}{path}"))
        .bearer_auth(session["token"].as_str().unwrap())
        .json(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn a_receipt_that_cannot_print_is_set_aside_and_the_receipts_after_it_print() {
    let printer = Simulator::start("printer-sim");
    let mut station = Station::new("ST0001", free_port());
    station.manager(&format!(
        "price receive --version 1 --effective-at {} --item CD1001:경유:litre:1650 --item SN2001:Water:piece:1000",
        instant_in_days(-1)
    ));
    station.manager("tank register --tank 1 --product CD1001 --capacity 30000");
    // A name stored by an older version, before names were checked: the printer cannot print it.
    rusqlite::Connection::open(station.db())
        .unwrap()
        .execute(
            "UPDATE products SET name = 'Café' WHERE product_id = 'SN2001'",
            [],
        )
        .unwrap();
    station.broker_args.extend([
        "--printer".to_owned(),
        printer.path.clone(),
        "--business-number".to_owned(),
        "123-45-67890".to_owned(),
        "--address".to_owned(),
        "Seoul".to_owned(),
    ]);
    station.start_runtime();
    station.cashier("shift open --float 0");
    let unprintable = station.cashier("sale settle --line product=SN2001,qty=1 --cash 1000");
    let next = station.cashier("sale settle --line product=CD1001,litres=10 --cash 20000");

    // The sale after it prints; the one that cannot is set aside where the manager sees it.
    let printed = printer.next("receipt");
    assert_eq!(printed["qr"], next["sale"], "{printed}");
    station.wait_for("the receipt is set aside", |s| {
        s.pos_get("park", "9999", "/api/status")["set_aside_receipts"] == 1
    });
    let set_aside = station.pos_get("park", "9999", "/api/receipts/set-aside");
    assert_eq!(set_aside[0]["sale"], unprintable["sale"], "{set_aside}");
    assert_eq!(set_aside[0]["receipt_no"], unprintable["receipt_no"]);
    let why = set_aside[0]["last_error"].as_str().unwrap();
    assert!(
        why.contains("line 1 product name") && why.contains("U+00E9"),
        "{why}"
    );
    assert_eq!(station.run("print list"), Value::Array(Vec::new()));

    // The manager prints its fallback copy: '?' for what cannot be printed, and marked.
    let job = set_aside[0]["job"].as_i64().unwrap();
    let (status, body) = pos_post(
        &station,
        "park",
        "9999",
        &format!("/api/receipts/{job}/fallback"),
        &json!({}),
    );
    assert_eq!(status, 200, "{body}");
    let fallback = printer.next("receipt");
    assert_eq!(fallback["qr"], unprintable["sale"]);
    assert_eq!(marks(&fallback), ["*** 대체 인쇄: ? = 인쇄 불가 문자 ***"]);
    assert!(printed_text(&fallback).contains("Caf? x1"), "{fallback}");
    station.wait_for("nothing set aside", |s| {
        s.pos_get("park", "9999", "/api/status")["set_aside_receipts"] == 0
    });
}

impl Simulator {
    /// Sends a control line and waits until the simulator applied it.
    fn control_applied(&mut self, line: &str) {
        writeln!(self.control, "{line}").unwrap();
        self.control.flush().unwrap();
        let ack = self.events.recv_timeout(support::STEP).unwrap();
        assert_eq!(ack["event"], "applied", "{ack}");
    }
}

#[test]
fn the_gauge_measures_beside_the_book_and_a_loss_is_flagged() {
    // The simulator's tank 3 holds 21,000 L of diesel.
    let mut gauge = Simulator::start("gauge-sim");
    let port = free_port();
    let hub = Hub::start(BrokerChoice::Embedded(port));
    hub.set_up(&["ST0001"]);
    let mut station = Station::new("ST0001", port);
    station.broker_args.extend([
        "--gauge".to_owned(),
        gauge.path.clone(),
        "--gauge-poll-ms".to_owned(),
        "100".to_owned(),
    ]);
    station.start_runtime();
    station.wait_for_diesel_price(1650);
    station.manager("tank register --tank 3 --product CD1001 --capacity 30000");
    station.cashier("shift open --float 0");
    let measured = |s: &Station| s.run("stock readings")[0]["volume_ml"].as_i64();
    station.wait_for("the gauge's first reading", |s| {
        measured(s) == Some(21_000_000)
    });

    // A sale the pump delivered and the gauge saw: the books and the tank agree.
    station.cashier("sale settle --line product=CD1001,litres=100,tank=3 --card A-1");
    gauge.control_applied("sale 3 100");
    station.wait_for("the reading after the sale", |s| {
        measured(s) == Some(20_900_000)
    });
    let stock = station.pos_get("kim", "1234", "/api/stock");
    let tank_3 = stock["tanks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tank"] == 3)
        .unwrap();
    assert_eq!(
        (&tank_3["book_stock_ml"], &tank_3["measured_ml"]),
        (&json!(-100_000), &json!(20_900_000)),
        "the book beside what the gauge measured"
    );
    let report = station.run("stock reconcile");
    assert_eq!(report[0]["tank"], 3);
    assert_eq!(report[0]["sales_ml"], 100_000);
    assert_eq!(report[0]["variance_ml"], 0);
    assert_eq!(report[0]["flagged"], false);

    // 400 L leave the tank with no sale: past 0.5% of sales + 50 L, flagged.
    gauge.control_applied("sale 3 400");
    station.wait_for("the reading after the loss", |s| {
        measured(s) == Some(20_500_000)
    });
    let report = station.run("stock reconcile");
    assert_eq!(report[0]["variance_ml"], -400_000);
    assert_eq!(report[0]["limit_ml"], 50_500);
    assert_eq!(report[0]["flagged"], true);

    // A tanker's drop: the gauge's delivery report reaches the POS, to pre-fill the confirmation.
    gauge.control_applied("deliver 3 5000");
    station.wait_for("the gauge's delivery report", |s| {
        s.pos_get("park", "9999", "/api/gauge/deliveries")
            .as_array()
            .is_some_and(|reports| reports.len() == 1)
    });
    let deliveries = station.pos_get("park", "9999", "/api/gauge/deliveries");
    assert_eq!(deliveries[0]["tank"], 3);
    assert_eq!(deliveries[0]["product"], "CD1001");
    assert_eq!(deliveries[0]["delivered_ml"], 5_000_000);
    assert_eq!(deliveries[0]["start_volume_ml"], 20_500_000);
    station.wait_for("the reading after the delivery", |s| {
        measured(s) == Some(25_500_000)
    });

    // Closing the day sends the reconciliation to HQ, where the flag shows.
    station.cashier("shift close --counted 0");
    station.manager("day close");
    hub.wait_for("HQ has the reconciliation", |h| {
        h.get("/api/wet-stock?station=ST0001")
            .as_array()
            .unwrap()
            .len()
            == 1
    });
    let at_hq = hub.get("/api/wet-stock?station=ST0001");
    assert_eq!(at_hq[0]["tank"], 3);
    // The unconfirmed delivery is in the tank but not yet in the books.
    assert_eq!(at_hq[0]["variance_ml"], 5_000_000 - 400_000);
    assert_eq!(at_hq[0]["flagged"], true);
}
