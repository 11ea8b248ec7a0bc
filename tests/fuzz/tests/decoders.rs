//! The suite's share of the fuzzing: every decoder that reads from outside gets 5,000 to 20,000
//! random and mutated inputs (the bench gives each a million), none may panic, and each run must
//! reach both a success and a refusal, so a target that stopped reaching its decoder fails.
//! Budgets are set by the cost of an input in a debug build, so that these tests take a few
//! seconds together; the API targets get 1,500, each input being a request through the router
//! and often a database commit.
//! Inputs that once made a decoder fail are kept below as regression vectors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use decoder_fuzz::targets::{ALL, by_name, hub_api, station_api};
use decoder_fuzz::{Target, replay, replay_all, run, seed_from_env};

fn dumps() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures")
}

/// Runs `name` for `inputs` inputs; fails on any failure, and unless every outcome of
/// `expected` was seen.
fn check(name: &str, inputs: u64, expected: &[&str]) {
    let mut target = by_name(name).unwrap_or_else(|| panic!("no target {name}"));
    let report = run(target.as_mut(), inputs, seed_from_env(), &dumps());
    assert!(report.failures.is_empty(), "{}", report.describe_failures());
    assert_eq!(report.inputs, inputs);
    let seen = report.outcomes.counts();
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|code| !seen.contains_key(**code))
        .collect();
    assert!(
        missing.is_empty(),
        "{name} never gave {missing:?}; it gave {:?}",
        seen.keys().collect::<Vec<_>>()
    );
}

#[test]
fn sync_envelope() {
    check(
        "sync.envelope",
        5_000,
        &[
            "sale_settled",
            "order_placed",
            "not_json",
            "malformed_envelope",
            "unsupported_schema",
            "unknown_kind",
            "invalid_payload",
        ],
    );
}

#[test]
fn sync_ack() {
    check("sync.ack", 5_000, &["ok", "refused"]);
}

#[test]
fn sync_station_status() {
    check(
        "sync.station_status",
        5_000,
        &["online", "offline", "refused"],
    );
}

#[test]
fn sync_topic() {
    check("sync.topic", 20_000, &["Up", "UpAck", "Status", "refused"]);
}

#[test]
fn dart_frame() {
    check(
        "dart.frame",
        5_000,
        &["poll", "data", "eot", "dart.bad_crc", "dart.garbage"],
    );
}

#[test]
fn dart_from_pump() {
    check(
        "dart.from_pump",
        20_000,
        &[
            "dc2_volume_amount",
            "dc101_total",
            "dart.transaction_truncated",
            "dart.transaction_bad_bcd",
        ],
    );
}

#[test]
fn dart_to_pump() {
    check(
        "dart.to_pump",
        20_000,
        &["cd5_prices", "cd1_command", "dart.transaction_unknown_code"],
    );
}

#[test]
fn dart_master() {
    check(
        "dart.master",
        10_000,
        &["pump_online", "dc1_status", "dart.bad_crc"],
    );
}

#[test]
fn tls_reply_frames() {
    check("tls.reply_frames", 5_000, &["reply", "tls.garbage"]);
}

#[test]
fn tls_inventory() {
    check(
        "tls.inventory",
        20_000,
        &[
            "ok",
            "tls.bad_checksum",
            "tls.bad_field",
            "tls.wrong_command",
        ],
    );
}

#[test]
fn tls_deliveries() {
    check(
        "tls.deliveries",
        20_000,
        &[
            "ok",
            "ok_no_deliveries",
            "tls.bad_checksum",
            "tls.truncated",
        ],
    );
}

#[test]
fn tls_display_inventory() {
    check(
        "tls.display_inventory",
        20_000,
        &["ok", "tls.no_table", "tls.bad_field"],
    );
}

#[test]
fn tls_system_units() {
    check(
        "tls.system_units",
        20_000,
        &["litre", "tls.bad_field", "tls.trailing_data"],
    );
}

#[test]
fn tls_client() {
    check(
        "tls.client",
        5_000,
        &[
            "system_units",
            "inventory",
            "deliveries",
            "display_inventory",
            "timed_out",
        ],
    );
}

#[test]
fn printer_status() {
    check(
        "printer.status",
        5_000,
        &[
            "online",
            "offline",
            "paper_out",
            "can_print",
            "not_a_status_byte",
        ],
    );
}

#[test]
fn printer_status_every_byte() {
    // One byte has 256 values: all of them, for each request, rather than a sample.
    let mut target = by_name("printer.status").unwrap();
    let every: Vec<u8> = (0..=255).collect();
    replay(target.as_mut(), &every).unwrap();
}

#[test]
fn printer_escpos() {
    check(
        "printer.escpos",
        5_000,
        &["ok_one_cut_receipt", "unknown_command", "stream_receipt"],
    );
}

#[test]
fn station_api_bodies() {
    check(
        "station.api_bodies",
        1_500,
        &[
            "POST /api/sales 200 ok",
            "POST /api/sales 400 invalid_input",
            "POST /api/pumps/{pump}/authorize 503 pump_unavailable",
        ],
    );
}

#[test]
fn hub_api_bodies() {
    check(
        "hub.api_bodies",
        1_500,
        &[
            "POST /api/prices 200 ok",
            "POST /api/prices 400 invalid_input",
            "PUT /api/dispatch-policy 200 ok",
        ],
    );
}

#[test]
fn every_station_route_with_a_body_is_fuzzed() {
    let target = station_api::StationApi::default();
    let fuzzed = target.routes();
    let with_body = station_runtime::api::ROUTES
        .iter()
        .filter(|route| route.body.is_some())
        .count();
    assert_eq!(fuzzed.len(), with_body);
    assert!(fuzzed.len() >= 15, "{fuzzed:?}");
}

#[test]
fn every_hub_route_with_a_body_is_fuzzed() {
    let mut target = hub_api::HubApi::default();
    let document = target
        .openapi_document()
        .expect("the hub serves its document");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("requestBody").is_some() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    documented.sort();
    let mut fuzzed: Vec<(String, String)> = hub_api::BODY_ROUTES
        .iter()
        .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    fuzzed.sort();
    assert_eq!(fuzzed, documented);
}

#[test]
fn every_target_is_registered_once() {
    let mut names: Vec<&str> = ALL.iter().map(|entry| entry.name).collect();
    for entry in ALL {
        let target: Box<dyn Target> = (entry.make)();
        assert_eq!(target.name(), entry.name);
    }
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ALL.len());
}

/// Request sequences to the station's API that once failed, each with what it pins. They run
/// on a fresh station each (manager park logged in, a shift open, a cash sale, an account).
const STATION_REGRESSIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "a stock adjustment near i64::MAX overflowed `book + delta` in `Station::adjust_stock` \
     (edge-app/core/src/stock.rs, a panic in a debug build, a wrapped sum in a release one); \
     found by the bench, FUZZ_SEED=0x6761737374617469, input #96201",
        &[
            (
                "/api/stock/adjust",
                r#"{"tank":1,"delta_ml":1000000,"reason":"dip"}"#,
            ),
            (
                "/api/stock/adjust",
                r#"{"delta_ml":9223372036854775807,"reason":"dip","tank":1}"#,
            ),
        ],
    ),
    (
        "a shift opened with a float near i64::MAX could not be closed: the expected cash overflowed \
     in SQL (`opening_float_won + sum(...)` in edge-app/core/src/shifts.rs) and the close \
     answered 500 `storage`; the float is now refused past the largest amount; found by the \
     bench, FUZZ_SEED=0x6761737374617469, input #138066",
        &[
            ("/api/shift/close", r#"{"counted_cash_won":0}"#),
            (
                "/api/shift/open",
                r#"{"opening_float_won":9223372036854775807}"#,
            ),
            (
                "/api/sales",
                r#"{"lines":[{"product":"CD1001","volume_ml":40000}],"payment":{"method":"cash","tendered_won":70000}}"#,
            ),
            ("/api/shift/close", r#"{"counted_cash_won":0}"#),
        ],
    ),
];

fn replay_station(requests: &[(&str, &str)]) -> Result<(), String> {
    let mut target = station_api::StationApi::default();
    let inputs: Vec<Vec<u8>> = requests
        .iter()
        .map(|(route, body)| target.input(route, body))
        .collect();
    replay_all(&mut target, &inputs).map(|_| ())
}

#[test]
fn station_regressions_stay_fixed() {
    for (what, requests) in STATION_REGRESSIONS {
        if let Err(message) = replay_station(requests) {
            panic!("{what}\n  {message}");
        }
    }
}
