//! End to end over a real pty pair: the `printer-sim` executable on one end, the serial
//! transport on the other.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use receipt_printer::status::Connection;
use receipt_printer::transport::{SerialPrinter, SerialSettings};
use receipt_printer::{
    Cover, Millilitres, Notice, Paper, Payment, PrinterState, Receipt, ReceiptLine, Won,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// The running simulator: its control input and its JSON event lines.
struct Simulator {
    child: Child,
    control: ChildStdin,
    events: mpsc::Receiver<Value>,
    path: String,
}

impl Simulator {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_printer-sim"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let control = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let value: Value = serde_json::from_str(&line.unwrap()).unwrap();
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        let ready = events.recv_timeout(WAIT).unwrap();
        assert_eq!(ready["event"], "ready");
        let path = ready["path"].as_str().unwrap().to_owned();
        Self {
            child,
            control,
            events,
            path,
        }
    }

    /// Send a control line and wait until the simulator reports the new state.
    fn control(&mut self, line: &str) {
        writeln!(self.control, "{line}").unwrap();
        let event = self.next_event();
        assert_eq!(event["event"], "state", "{event}");
    }

    fn next_event(&self) -> Value {
        self.events.recv_timeout(WAIT).unwrap()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receipt(sale_id: &str) -> Receipt {
    Receipt {
        station_name: "행복주유소".to_owned(),
        notices: Vec::new(),
        business_registration_number: "123-45-67890".to_owned(),
        address: "서울특별시 강남구".to_owned(),
        receipt_number: "0001".to_owned(),
        date_time: "2026-11-26 09:15".to_owned(),
        lines: vec![ReceiptLine {
            product_name: "휘발유".to_owned(),
            volume: Millilitres(40_000),
            unit_price: Won(1_700),
            amount: Won(68_000),
        }],
        payment: Payment::Cash {
            tendered: Won(70_000),
            change: Won(2_000),
        },
        sale_id: sale_id.to_owned(),
    }
}

fn lines_of(event: &Value) -> Vec<String> {
    event["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_receipt_printed_over_the_serial_line_is_recorded_by_the_simulator() {
    let simulator = Simulator::start();
    let mut printer = SerialPrinter::open(&simulator.path, SerialSettings::default()).unwrap();
    assert_eq!(
        printer.query_status(STATUS_TIMEOUT).unwrap(),
        PrinterState::READY
    );

    let sent = receipt("sale-1");
    printer.print(&sent).unwrap();
    let event = simulator.next_event();
    assert_eq!(event["event"], "receipt", "{event}");
    assert_eq!(lines_of(&event), sent.printed_lines());
    assert_eq!(event["qr"], "sale-1");
    assert_eq!(event["cut"], true);
}

#[test]
fn paper_out_reports_the_status_and_prints_nothing_until_recovery() {
    let mut simulator = Simulator::start();
    let mut printer = SerialPrinter::open(&simulator.path, SerialSettings::default()).unwrap();

    simulator.control("paper-out on");
    let state = printer.query_status(STATUS_TIMEOUT).unwrap();
    assert_eq!(state.paper, Paper::Out);
    assert_eq!(state.connection, Connection::Offline);
    assert!(!state.can_print());

    printer.print(&receipt("sale-2")).unwrap();
    let event = simulator.next_event();
    assert_eq!(event["event"], "discarded", "{event}");

    simulator.control("paper-out off");
    assert_eq!(
        printer.query_status(STATUS_TIMEOUT).unwrap(),
        PrinterState::READY
    );
    printer.print(&receipt("sale-2")).unwrap();
    let event = simulator.next_event();
    assert_eq!(event["event"], "receipt", "{event}");
    assert_eq!(event["qr"], "sale-2");
}

#[test]
fn cover_open_is_reported_and_blocks_printing() {
    let mut simulator = Simulator::start();
    let mut printer = SerialPrinter::open(&simulator.path, SerialSettings::default()).unwrap();

    simulator.control("cover-open on");
    let state = printer.query_status(STATUS_TIMEOUT).unwrap();
    assert_eq!(state.cover, Cover::Open);
    assert_eq!(state.connection, Connection::Offline);
    printer.print(&receipt("sale-3")).unwrap();
    assert_eq!(simulator.next_event()["event"], "discarded");

    simulator.control("cover-open off");
    simulator.control("paper-near-end on");
    let state = printer.query_status(STATUS_TIMEOUT).unwrap();
    assert_eq!((state.cover, state.paper), (Cover::Closed, Paper::NearEnd));
    printer.print(&receipt("sale-3")).unwrap();
    assert_eq!(simulator.next_event()["event"], "receipt");
}

#[test]
fn a_reprint_of_a_canceled_sale_comes_out_of_the_printer_marked() {
    let simulator = Simulator::start();
    let mut printer = SerialPrinter::open(&simulator.path, SerialSettings::default()).unwrap();
    let mut sent = receipt("sale-4");
    sent.notices = vec![Notice::Canceled, Notice::Reprint(3)];
    printer.print(&sent).unwrap();
    let event = simulator.next_event();
    assert_eq!(event["event"], "receipt", "{event}");
    let lines = lines_of(&event);
    assert_eq!(
        lines[..3],
        ["행복주유소", "*** 취소 ***", "*** 재발행 3 ***"]
    );
    assert_eq!(lines, sent.printed_lines());
}

#[test]
fn a_windows_949_syllable_is_not_a_character_to_the_printer() {
    // What the encoder sent before it checked KS X 1001: "똠" as Windows-949 bytes 8C 63.
    let simulator = Simulator::start();
    let mut printer = SerialPrinter::open(&simulator.path, SerialSettings::default()).unwrap();
    printer
        .write_bytes(&[0x1B, 0x40, 0x1C, 0x26, 0x8C, 0x63, 0x0A, 0x1D, 0x56, 0x00])
        .unwrap();
    let event = simulator.next_event();
    assert_eq!(event["event"], "error", "{event}");
    assert!(
        event["message"].as_str().unwrap().contains("8C, 63"),
        "{event}"
    );
}

#[test]
fn a_missing_port_is_an_open_error() {
    let error = SerialPrinter::open("/dev/does-not-exist", SerialSettings::default()).unwrap_err();
    assert!(error.to_string().contains("/dev/does-not-exist"), "{error}");
}
