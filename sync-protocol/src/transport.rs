//! What travels beside the envelopes: the MQTT topic layout, acknowledgements and a station's
//! online status. Still no I/O: names and bytes only.
//!
//! ```text
//! gs/v1/stations/{station}/up        station → hub: envelopes, in sequence order
//! gs/v1/stations/{station}/up/ack    hub → station: {"through": N} after the hub committed 1..=N
//! gs/v1/stations/{station}/down      hub → station: envelopes from the hub's outbox for it
//! gs/v1/stations/{station}/down/ack  station → hub: {"through": N} after the station committed
//! gs/v1/stations/{station}/status    station: retained online status; its last will says offline
//! ```
//!
//! Every topic of a station sits under its own prefix, so a broker ACL of the form
//! `gs/v1/stations/%u/#` confines a station's credential to its own topics.

use serde::{Deserialize, Serialize};

/// The root of every topic of this protocol version.
pub const TOPIC_ROOT: &str = "gs/v1/stations";

/// Which stream of a station a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Up,
    UpAck,
    Down,
    DownAck,
    Status,
}

impl Channel {
    fn suffix(self) -> &'static str {
        match self {
            Channel::Up => "up",
            Channel::UpAck => "up/ack",
            Channel::Down => "down",
            Channel::DownAck => "down/ack",
            Channel::Status => "status",
        }
    }
}

/// The topic of one station's channel.
pub fn topic(station: &str, channel: Channel) -> String {
    format!("{TOPIC_ROOT}/{station}/{}", channel.suffix())
}

/// The subscription filter for one channel of every station (for the hub).
pub fn every_station(channel: Channel) -> String {
    format!("{TOPIC_ROOT}/+/{}", channel.suffix())
}

/// Splits a topic into its station and channel; `None` for a topic outside the layout.
pub fn parse_topic(topic: &str) -> Option<(&str, Channel)> {
    let rest = topic.strip_prefix(TOPIC_ROOT)?.strip_prefix('/')?;
    let (station, suffix) = rest.split_once('/')?;
    if station.is_empty() || station.contains(['+', '#']) {
        return None;
    }
    let channel = match suffix {
        "up" => Channel::Up,
        "up/ack" => Channel::UpAck,
        "down" => Channel::Down,
        "down/ack" => Channel::DownAck,
        "status" => Channel::Status,
        _ => return None,
    };
    Some((station, channel))
}

/// A cumulative acknowledgement: the receiver has committed every message up to `through`.
/// Sent after each message received, including duplicates, so a sender whose acknowledgement
/// was lost learns where the receiver stands; after a gap it repeats the last good position,
/// which tells the sender to go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub through: u64,
}

impl Ack {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an ack serialises")
    }

    pub fn decode(bytes: &[u8]) -> Option<Ack> {
        serde_json::from_slice(bytes).ok()
    }
}

/// What a station says about itself on its status topic (retained).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationStatus {
    pub online: bool,
    /// The last hub message the station has committed; the hub resumes after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_through: Option<u64>,
}

impl StationStatus {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a status serialises")
    }

    pub fn decode(bytes: &[u8]) -> Option<StationStatus> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_strangers_are_refused() {
        for channel in [
            Channel::Up,
            Channel::UpAck,
            Channel::Down,
            Channel::DownAck,
            Channel::Status,
        ] {
            let t = topic("ST0001", channel);
            assert_eq!(parse_topic(&t), Some(("ST0001", channel)));
        }
        assert_eq!(
            topic("ST0001", Channel::UpAck),
            "gs/v1/stations/ST0001/up/ack"
        );
        assert_eq!(every_station(Channel::Up), "gs/v1/stations/+/up");
        for stranger in [
            "gs/v1/stations/ST0001",
            "gs/v1/stations//up",
            "gs/v1/stations/ST0001/sideways",
            "gs/v2/stations/ST0001/up",
            "other/ST0001/up",
        ] {
            assert_eq!(parse_topic(stranger), None, "{stranger}");
        }
    }

    #[test]
    fn acks_and_statuses_have_a_stable_shape() {
        assert_eq!(Ack { through: 42 }.encode(), br#"{"through":42}"#);
        assert_eq!(
            Ack::decode(br#"{"through":7,"extra":1}"#),
            Some(Ack { through: 7 })
        );
        assert_eq!(Ack::decode(b"{\"through\":-1}"), None);
        let status = StationStatus {
            online: false,
            down_through: None,
        };
        assert_eq!(status.encode(), br#"{"online":false}"#);
        assert_eq!(
            StationStatus::decode(br#"{"online":true,"down_through":3}"#),
            Some(StationStatus {
                online: true,
                down_through: Some(3)
            })
        );
    }
}
