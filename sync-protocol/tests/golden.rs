//! Golden test vectors: the wire format pinned as files.
//!
//! - `vectors/valid/<kind>.json`: one realistic message per event kind, pretty-printed in the
//!   exact shape the encoder writes (apart from the unknown fields listed in [`UNKNOWN_FIELDS`]).
//! - `vectors/invalid/<code>--<name>.json`: a message that must fail to decode with `<code>`.
//!
//! A change that alters the wire shape, adds a kind without a vector, or changes how a bad
//! message is classified fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sync_protocol::{DecodeError, EventKind, decode, encode, peek_origin_sequence};

/// Fields the current schema does not know, added to valid vectors to prove they are ignored:
/// `(file stem, JSON pointers)`. Each pointer must exist in the file.
const UNKNOWN_FIELDS: &[(&str, &[&str])] = &[(
    "sale_settled",
    &[
        "/trace_id",
        "/payload/loyalty_card_no",
        "/payload/lines/0/nozzle",
        "/payload/payment/drawer",
    ],
)];

/// What the error message of each invalid vector must say: `(file stem, substrings)`.
const EXPECTED_MESSAGES: &[(&str, &[&str])] = &[
    (
        "not_json--plain-text",
        &["not valid JSON", "expected value"],
    ),
    (
        "not_json--truncated",
        &["not valid JSON", "EOF while parsing an object"],
    ),
    (
        "not_json--trailing-comma",
        &["not valid JSON", "trailing comma"],
    ),
    ("not_json--empty", &["not valid JSON", "EOF"]),
    (
        "malformed_envelope--array-not-object",
        &["expected a JSON object"],
    ),
    (
        "malformed_envelope--missing-schema",
        &["missing field `schema`"],
    ),
    (
        "malformed_envelope--schema-string",
        &["`schema` must be a positive integer"],
    ),
    ("malformed_envelope--seq-zero", &["`seq` starts at 1"]),
    ("malformed_envelope--seq-negative", &["invalid value", "-3"]),
    (
        "malformed_envelope--missing-origin",
        &["missing field `origin`"],
    ),
    (
        "malformed_envelope--blank-origin",
        &["`origin`", "is not 1 to 32"],
    ),
    ("malformed_envelope--bad-event-id", &["UUID parsing failed"]),
    (
        "malformed_envelope--occurred-at-without-offset",
        &["offset", "timestamp"],
    ),
    (
        "malformed_envelope--missing-payload",
        &["missing field `payload`"],
    ),
    (
        "malformed_envelope--missing-kind",
        &["missing field `kind`"],
    ),
    (
        "unsupported_schema--schema-4",
        &["schema version 4", "newer than 3"],
    ),
    (
        "malformed_envelope--schema-0",
        &["`schema` must be a positive integer"],
    ),
    (
        "malformed_envelope--origin-with-spaces",
        &["`origin`", "\" ST0001\"", "is not 1 to 32"],
    ),
    (
        "unknown_kind--future-kind",
        &["unknown event kind `fuel_theft_reported`"],
    ),
    (
        "unknown_kind--wrong-case",
        &["unknown event kind `SaleSettled`"],
    ),
    (
        "invalid_payload--order-placed-missing-volume",
        &["`order_placed`", "missing field `volume_ml`"],
    ),
    (
        "invalid_payload--order-placed-volume-string",
        &[
            "`order_placed`",
            "`volume_ml`",
            "invalid type: string \"16000000\"",
        ],
    ),
    (
        "invalid_payload--order-placed-impossible-date",
        &["`order_placed`", "date is not valid", "day"],
    ),
    (
        "invalid_payload--sale-settled-float-money",
        &[
            "`sale_settled`",
            "`total_won`",
            "invalid type: floating point `71000.0`",
        ],
    ),
    (
        "invalid_payload--sale-settled-fractional-unit-price",
        &["`sale_settled`", "invalid type: floating point `1650.5`"],
    ),
    (
        "invalid_payload--sale-settled-unknown-payment-method",
        &["`sale_settled`", "unknown variant `crypto`"],
    ),
    (
        "invalid_payload--sale-settled-unknown-price-source",
        &["`sale_settled`", "unknown variant `guess`"],
    ),
    (
        "invalid_payload--tank-registered-negative-tank",
        &["`tank_registered`", "invalid value: integer `-1`", "u16"],
    ),
    (
        "invalid_payload--tank-registered-tank-too-large",
        &["`tank_registered`", "invalid value: integer `65536`", "u16"],
    ),
    (
        "invalid_payload--price-changed-negative-version",
        &["`price_changed`", "invalid value: integer `-7`", "u64"],
    ),
    (
        "invalid_payload--price-changed-unknown-unit",
        &["`price_changed`", "unknown variant `kilogram`"],
    ),
    (
        "invalid_payload--delivery-confirmed-bad-shipment-id",
        &["`delivery_confirmed`", "UUID parsing failed"],
    ),
    (
        "invalid_payload--shift-closed-opened-at-not-rfc3339",
        &["`shift_closed`", "offset", "timestamp"],
    ),
    (
        "invalid_payload--shipment-dispatched-null-payload",
        &["`shipment_dispatched`", "must be a JSON object"],
    ),
    (
        "invalid_payload--shipment-dispatched-payload-as-string",
        &["`shipment_dispatched`", "must be a JSON object"],
    ),
    (
        "invalid_payload--order-rejected-payload-as-array",
        &["`order_rejected`", "must be a JSON object"],
    ),
];

const CODES: [&str; 5] = [
    "not_json",
    "malformed_envelope",
    "unsupported_schema",
    "unknown_kind",
    "invalid_payload",
];

fn vectors_dir(which: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(which)
}

/// `(file stem, bytes)` of every `.json` file in a vector directory, sorted by name.
fn vectors(which: &str) -> Vec<(String, Vec<u8>)> {
    let dir = vectors_dir(which);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .inspect(|path| {
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some("json"),
                "unexpected file {} among the vectors",
                path.display()
            );
        })
        .map(|path| {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            (stem, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    files
}

fn unknown_fields(stem: &str) -> &'static [&'static str] {
    UNKNOWN_FIELDS
        .iter()
        .find(|(s, _)| *s == stem)
        .map_or(&[], |(_, pointers)| pointers)
}

/// Removes the value a JSON pointer names from its parent object; panics if it is not there.
fn remove_pointer(value: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = value
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{pointer}: parent is not an object"));
    assert!(
        parent.remove(key).is_some(),
        "{pointer}: no such field in the vector"
    );
}

// ---------------------------------------------------------------------------------------------
// valid

#[test]
fn every_valid_vector_decodes_as_the_kind_it_is_named_after() {
    for (stem, bytes) in vectors("valid") {
        let envelope = decode(&bytes).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(envelope.event.kind().as_str(), stem, "{stem}: kind");
        assert_eq!(envelope.schema_version, sync_protocol::SCHEMA_VERSION);
    }
}

#[test]
fn every_valid_vector_survives_a_round_trip() {
    for (stem, bytes) in vectors("valid") {
        let envelope = decode(&bytes).unwrap();
        let again = decode(&encode(&envelope)).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(again, envelope, "{stem}");
    }
}

#[test]
fn the_encoder_writes_exactly_the_shape_of_the_valid_vectors() {
    for (stem, bytes) in vectors("valid") {
        let mut expected: Value = serde_json::from_slice(&bytes).unwrap();
        for pointer in unknown_fields(&stem) {
            remove_pointer(&mut expected, pointer);
        }
        let written: Value = serde_json::from_slice(&encode(&decode(&bytes).unwrap())).unwrap();
        assert_eq!(
            written,
            expected,
            "{stem}: the encoder writes\n{}",
            serde_json::to_string_pretty(&written).unwrap()
        );
    }
}

#[test]
fn unknown_fields_are_ignored_at_every_level() {
    assert!(!UNKNOWN_FIELDS.is_empty());
    for (stem, pointers) in UNKNOWN_FIELDS {
        let path = vectors_dir("valid").join(format!("{stem}.json"));
        let bytes = fs::read(&path).unwrap();
        let mut stripped: Value = serde_json::from_slice(&bytes).unwrap();
        for pointer in *pointers {
            remove_pointer(&mut stripped, pointer);
        }
        let with_unknown = decode(&bytes).unwrap();
        let without = decode(&serde_json::to_vec(&stripped).unwrap()).unwrap();
        assert_eq!(with_unknown, without, "{stem}");
    }
}

#[test]
fn there_is_exactly_one_valid_vector_per_event_kind() {
    let files: BTreeSet<String> = vectors("valid").into_iter().map(|(s, _)| s).collect();
    let kinds: BTreeSet<String> = EventKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    assert_eq!(
        kinds.len(),
        EventKind::ALL.len(),
        "duplicate wire names in EventKind::ALL"
    );
    let missing: Vec<_> = kinds.difference(&files).collect();
    let extra: Vec<_> = files.difference(&kinds).collect();
    assert!(
        missing.is_empty(),
        "kinds without a valid vector: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "valid vectors of no known kind: {extra:?}"
    );
}

#[test]
fn peek_agrees_with_decode_on_valid_vectors() {
    for (stem, bytes) in vectors("valid") {
        let envelope = decode(&bytes).unwrap();
        assert_eq!(
            peek_origin_sequence(&bytes),
            Some((envelope.origin.clone(), envelope.sequence)),
            "{stem}"
        );
        let encoded = encode(&envelope);
        assert_eq!(
            peek_origin_sequence(&encoded),
            Some((envelope.origin, envelope.sequence)),
            "{stem}: re-encoded"
        );
    }
}

#[test]
fn valid_vectors_use_the_conventions_of_the_wire() {
    for (stem, bytes) in vectors("valid") {
        let envelope = decode(&bytes).unwrap();
        let expected_origin = match envelope.event.kind().direction() {
            sync_protocol::Direction::StationToHub => "ST0001",
            sync_protocol::Direction::HubToStation => sync_protocol::HUB_ORIGIN,
        };
        assert_eq!(envelope.origin, expected_origin, "{stem}: origin");
        assert_eq!(
            envelope.event_id.get_version_num(),
            7,
            "{stem}: event_id is not a UUIDv7"
        );
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(
            text.starts_with("{\n  \"schema\": 3,\n") && text.ends_with("}\n"),
            "{stem}: not pretty-printed with two-space indents and a final newline"
        );
    }
}

#[test]
fn a_schema_1_message_still_reads_as_part_of_the_first_stream() {
    let v1 =
        br#"{"schema":1,"event_id":"01a20b1a-4240-7703-b1b3-3a656caf76a5","origin":"HQ","seq":2,
        "occurred_at":"2026-11-24T01:10:00Z","kind":"price_changed",
        "payload":{"version":3,"effective_at":"2026-11-24T01:10:00Z","items":[]}}"#;
    let envelope = decode(v1).unwrap();
    assert_eq!(envelope.schema_version, 1);
    assert_eq!(envelope.stream, None);
    let sync_protocol::Event::PriceChanged(change) = envelope.event else {
        panic!("not a price change");
    };
    assert_eq!(
        change.base_version, None,
        "a schema 1 price list is a full list"
    );
    assert_eq!(change.part, sync_protocol::Part::WHOLE);
}

#[test]
fn a_receiver_run_as_an_older_version_holds_what_it_cannot_read_yet() {
    // A station's audit entry is of schema 3: a hub that reads schema 2 waits for its upgrade.
    let bytes = fs::read(vectors_dir("valid").join("audit_recorded.json")).unwrap();
    let error = sync_protocol::decode_up_to(&bytes, 2).unwrap_err();
    assert_eq!(error.code(), "unsupported_schema");
    assert!(error.is_transient());
    assert!(error.to_string().contains("newer than 2"), "{error}");
    assert!(sync_protocol::decode_up_to(&bytes, 3).is_ok());
}

// ---------------------------------------------------------------------------------------------
// invalid

fn expected_code(stem: &str) -> &str {
    let (code, name) = stem
        .split_once("--")
        .unwrap_or_else(|| panic!("{stem}: name must be `<code>--<name>`"));
    assert!(CODES.contains(&code), "{stem}: unknown code `{code}`");
    assert!(!name.is_empty(), "{stem}: empty name");
    code
}

#[test]
fn every_invalid_vector_fails_with_the_code_it_is_named_after() {
    for (stem, bytes) in vectors("invalid") {
        let code = expected_code(&stem);
        let error: DecodeError = match decode(&bytes) {
            Ok(envelope) => panic!("{stem}: decoded as {envelope:?}"),
            Err(e) => e,
        };
        assert_eq!(error.code(), code, "{stem}: {error}");
    }
}

#[test]
fn every_invalid_vector_has_a_message_that_names_the_problem() {
    let stems: BTreeSet<String> = vectors("invalid").into_iter().map(|(s, _)| s).collect();
    let listed: BTreeSet<String> = EXPECTED_MESSAGES
        .iter()
        .map(|(s, _)| (*s).to_owned())
        .collect();
    assert_eq!(
        stems, listed,
        "every invalid vector needs an entry in EXPECTED_MESSAGES, and only those"
    );
    for (stem, bytes) in vectors("invalid") {
        let message = decode(&bytes).unwrap_err().to_string();
        assert!(!message.trim().is_empty(), "{stem}: empty message");
        let (_, needles) = EXPECTED_MESSAGES.iter().find(|(s, _)| *s == stem).unwrap();
        for needle in *needles {
            assert!(
                message.contains(needle),
                "{stem}: message {message:?} does not mention {needle:?}"
            );
        }
    }
}

#[test]
fn the_invalid_vectors_cover_every_code() {
    let covered: BTreeSet<&str> = vectors("invalid")
        .iter()
        .map(|(stem, _)| expected_code(stem))
        .map(|code| *CODES.iter().find(|c| **c == code).unwrap())
        .collect();
    assert_eq!(covered, CODES.into_iter().collect());
    assert!(vectors("invalid").len() >= 10);
}

#[test]
fn messages_with_a_sound_envelope_can_still_be_placed_in_their_sequence() {
    // A receiver dead-letters a message it cannot read in its place in the origin's sequence.
    for (stem, bytes) in vectors("invalid") {
        let code = expected_code(&stem);
        if code == "unknown_kind" || code == "invalid_payload" {
            let (origin, seq) = peek_origin_sequence(&bytes)
                .unwrap_or_else(|| panic!("{stem}: no origin and sequence"));
            assert!(!origin.is_empty() && seq > 0, "{stem}");
        }
    }
}
