//! The sync protocol's decoders: the envelope (`sync_protocol::decode` and
//! `peek_origin_sequence`), the cumulative acknowledgement, a station's status, and MQTT topics.

use std::path::Path;

use sync_protocol::transport::{self, Ack, Channel, StationStatus};
use sync_protocol::{decode, encode, peek_origin_sequence};

use crate::{Outcomes, Shape, Target, Violation};

/// The golden vectors' folder.
fn vectors() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sync-protocol/tests/vectors")
}

/// Every golden vector, valid and invalid, as the files hold them and (valid ones) as the
/// encoder writes them.
fn golden_vectors() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for folder in ["valid", "invalid"] {
        let mut paths: Vec<_> = std::fs::read_dir(vectors().join(folder))
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = std::fs::read(&path) {
                if let Ok(envelope) = decode(&bytes) {
                    seeds.push(encode(&envelope));
                }
                seeds.push(bytes);
            }
        }
    }
    seeds
}

/// `sync_protocol::decode`: an envelope decodes, or fails with a stable code. What decodes
/// re-encodes to itself and agrees with `peek_origin_sequence`.
#[derive(Debug, Default)]
pub struct Envelope;

impl Target for Envelope {
    fn name(&self) -> &'static str {
        "sync.envelope"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let seeds = golden_vectors();
        assert!(seeds.len() > 30, "the golden vectors are missing");
        seeds
    }

    fn shape(&self) -> Shape {
        Shape::Json { header: 0 }
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let peeked = peek_origin_sequence(input);
        match decode(input) {
            Ok(envelope) => {
                outcomes.record(envelope.event.kind().as_str());
                let again = decode(&encode(&envelope));
                if again.as_ref() != Ok(&envelope) {
                    return Err(Violation(format!(
                        "decoded envelope does not survive encode: {envelope:?} became {again:?}"
                    )));
                }
                if peeked != Some((envelope.origin.clone(), envelope.sequence)) {
                    return Err(Violation(format!(
                        "peek_origin_sequence says {peeked:?} of {envelope:?}"
                    )));
                }
            }
            Err(error) => outcomes.record(error.code()),
        }
        Ok(())
    }
}

/// `Ack::decode`: what decodes re-encodes to itself.
#[derive(Debug, Default)]
pub struct AckMessage;

impl Target for AckMessage {
    fn name(&self) -> &'static str {
        "sync.ack"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = [0, 1, 42, u64::MAX]
            .into_iter()
            .map(|through| Ack::agreed(through, None).encode())
            .collect();
        seeds.push(br#"{"through": 7, "extra": [1, 2]}"#.to_vec());
        seeds.push(
            br#"{"through":50,"stream":"00000000-0000-0000-0000-000000000007","hub":"H","verdict":"diverged"}"#
                .to_vec(),
        );
        seeds
    }

    fn shape(&self) -> Shape {
        Shape::Json { header: 0 }
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        match Ack::decode(input) {
            Some(ack) => {
                outcomes.record("ok");
                if Ack::decode(&ack.encode()).as_ref() != Some(&ack) {
                    return Err(Violation(format!("{ack:?} does not survive encode")));
                }
            }
            None => outcomes.record("refused"),
        }
        Ok(())
    }
}

/// `StationStatus::decode`: what decodes re-encodes to itself.
#[derive(Debug, Default)]
pub struct Status;

impl Target for Status {
    fn name(&self) -> &'static str {
        "sync.station_status"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        [
            (true, None),
            (false, None),
            (true, Some(0)),
            (true, Some(u64::MAX)),
        ]
        .into_iter()
        .map(|(online, down_through)| {
            StationStatus {
                online,
                down_through,
                ..StationStatus::offline()
            }
            .encode()
        })
        .collect()
    }

    fn shape(&self) -> Shape {
        Shape::Json { header: 0 }
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        match StationStatus::decode(input) {
            Some(status) => {
                outcomes.record(if status.online { "online" } else { "offline" });
                if StationStatus::decode(&status.encode()).as_ref() != Some(&status) {
                    return Err(Violation(format!("{status:?} does not survive encode")));
                }
            }
            None => outcomes.record("refused"),
        }
        Ok(())
    }
}

/// `transport::parse_topic`: a topic the broker delivered. What parses is a topic the layout
/// makes.
#[derive(Debug, Default)]
pub struct Topic;

const CHANNELS: [Channel; 5] = [
    Channel::Up,
    Channel::UpAck,
    Channel::Down,
    Channel::DownAck,
    Channel::Status,
];

impl Target for Topic {
    fn name(&self) -> &'static str {
        "sync.topic"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds = Vec::new();
        for channel in CHANNELS {
            seeds.push(transport::topic("ST0001", channel).into_bytes());
            seeds.push(transport::every_station(channel).into_bytes());
        }
        seeds
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        [
            "/",
            "+",
            "#",
            "up",
            "ack",
            "down",
            "status",
            "gs/v1/stations",
            "//",
        ]
        .iter()
        .map(|word| word.as_bytes().to_vec())
        .collect()
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        // MQTT topics are UTF-8; the client library hands over a `String`.
        let Ok(text) = std::str::from_utf8(input) else {
            outcomes.record("not_utf8");
            return Ok(());
        };
        match transport::parse_topic(text) {
            Some((station, channel)) => {
                outcomes.record(format!("{channel:?}"));
                if transport::topic(station, channel) != text {
                    return Err(Violation(format!(
                        "{text:?} parsed as {station:?} {channel:?}, which is another topic"
                    )));
                }
            }
            None => outcomes.record("refused"),
        }
        Ok(())
    }
}
