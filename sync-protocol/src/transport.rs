//! What travels beside the envelopes: the MQTT topic layout, acknowledgements and a station's
//! online status. Still no I/O: names and bytes only.
//!
//! ```text
//! gs/v1/stations/{station}/up        station → hub: envelopes, in sequence order
//! gs/v1/stations/{station}/up/ack    hub → station: {"through": N, "stream": …, "hub": …}
//!                                    after the hub committed the stream through N
//! gs/v1/stations/{station}/down      hub → station: envelopes from the hub's outbox for it
//! gs/v1/stations/{station}/down/ack  station → hub: {"through": N, "stream": …} likewise
//! gs/v1/stations/{station}/status    station: retained online status; its last will says offline
//! gs/v1/hub/status                   hub: retained status of the hub serving the network
//! ```
//!
//! An acknowledgement names the stream it is about (see `sync_protocol::StreamId`) and, from
//! the hub, the hub that made it. Its `verdict` says more than a position when the two sides'
//! histories differ:
//! - `diverged`: the receiver holds message `through + 1` of this stream with another event
//!   id, or holds more of it than the sender ever sent (a sender's database restored from a
//!   backup, a station re-installed). The sender starts a new stream after `through` and sends
//!   what it has after that again; the receiver keeps what it holds of the old stream.
//! - `rewind`: the receiver holds the stream only through `through`, less than it acknowledged
//!   before (the receiver's database was restored): the sender sends again from there.
//!
//! Every topic of a station sits under its own prefix, so a broker ACL of the form
//! `gs/v1/stations/%u/#` confines a station's credential to its own topics.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StreamId;

/// The root of every topic of this protocol version.
pub const TOPIC_ROOT: &str = "gs/v1/stations";

/// The hub's retained status, by which a second hub on the same broker finds the first.
pub const HUB_STATUS_TOPIC: &str = "gs/v1/hub/status";

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub through: u64,
    /// The stream acknowledged; absent from a receiver of schema 1, meaning the sender's current
    /// stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<Uuid>,
    /// The hub that made the acknowledgement (only on `up/ack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    #[serde(default, skip_serializing_if = "Verdict::is_agreed")]
    pub verdict: Verdict,
}

/// What an acknowledgement says of the two sides' histories (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The usual case: the receiver committed the stream through `through`.
    #[default]
    Agreed,
    /// Start a new stream after `through`.
    Diverged,
    /// Send again after `through`.
    Rewind,
}

impl Verdict {
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
    fn is_agreed(&self) -> bool {
        *self == Verdict::Agreed
    }
}

impl Ack {
    /// The usual acknowledgement of `stream` through `through`.
    pub fn agreed(through: u64, stream: Option<Uuid>) -> Ack {
        Ack {
            through,
            stream,
            hub: None,
            verdict: Verdict::Agreed,
        }
    }

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
    /// The hub's stream the station follows; absent when it has none (a new or re-installed
    /// station), which tells the hub to give it a new stream with what it lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_stream: Option<Uuid>,
    /// The station's own stream towards the hub, and how far the hub acknowledged it: a hub
    /// that holds less than it acknowledged (its database restored) asks for it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_stream: Option<StreamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_acked: Option<u64>,
    /// The newest price version the station holds: a hub whose database went back numbers its
    /// next version above it, so no station is ever sent a number it already holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_version: Option<u64>,
    /// The last event the station has recorded for HQ, when it said this: HQ shows how many
    /// it has still to receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_last: Option<u64>,
    /// The state of the station's devices, for HQ's dashboard; said again when one changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<DeviceStates>,
}

/// The station's devices as it reports them to HQ: each `not_configured`, `connecting`,
/// `ready`, `not_ready` or `disconnected` (a receiver shows any other word as it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStates {
    pub printer: String,
    pub gauge: String,
    pub pump_line: String,
}

impl StationStatus {
    /// The status a station's last will publishes.
    pub fn offline() -> StationStatus {
        StationStatus {
            online: false,
            down_through: None,
            down_stream: None,
            up_stream: None,
            up_acked: None,
            price_version: None,
            up_last: None,
            devices: None,
        }
    }
}

/// How often a serving hub says again, on [`HUB_STATUS_TOPIC`], that it is alive.
pub const HUB_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);

/// A hub status not said again for this long is of a hub that went away (it crashed, or lost
/// its network): another hub may serve. Hubs' clocks must agree to well within this (NTP).
pub const HUB_STATUS_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(45);

/// What a hub says about itself on [`HUB_STATUS_TOPIC`]: retained, said again every
/// [`HUB_HEARTBEAT`], and said offline on a clean stop. There is no last will: a second hub
/// logging in as the same MQTT user takes over the first one's connection, and a will fired by
/// that would erase the status of the hub that really serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubStatus {
    /// The hub's identity, made with its database.
    pub hub: String,
    /// This process: made each time a hub starts.
    pub run: Uuid,
    pub started_at: Timestamp,
    pub online: bool,
    /// When the hub last said it (absent: at `started_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alive_at: Option<Timestamp>,
}

impl HubStatus {
    /// Of two hubs of different databases online on one broker, the one started first keeps
    /// serving (ties broken by run id): whether `other` is that one against `self`. A status
    /// not said again within [`HUB_STATUS_STALE_AFTER`] of `now` is of a hub that went away, and
    /// a run of this hub's own database is this hub's past (a restart), never a rival.
    pub fn yields_to(&self, other: &HubStatus, now: Timestamp) -> bool {
        other.online
            && other.run != self.run
            && other.hub != self.hub
            && other.is_alive(now)
            && (other.started_at, other.run) < (self.started_at, self.run)
    }

    /// Whether the hub said this recently enough to be taken as alive at `now`.
    pub fn is_alive(&self, now: Timestamp) -> bool {
        let said = self.alive_at.unwrap_or(self.started_at);
        let stale = jiff::SignedDuration::try_from(HUB_STATUS_STALE_AFTER)
            .expect("a short constant duration");
        now.duration_since(said) < stale
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a hub status serialises")
    }

    pub fn decode(bytes: &[u8]) -> Option<HubStatus> {
        serde_json::from_slice(bytes).ok()
    }
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
        assert_eq!(parse_topic(HUB_STATUS_TOPIC), None);
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
        assert_eq!(Ack::agreed(42, None).encode(), br#"{"through":42}"#);
        assert_eq!(
            Ack::decode(br#"{"through":7,"extra":1}"#),
            Some(Ack::agreed(7, None))
        );
        assert_eq!(Ack::decode(b"{\"through\":-1}"), None);
        let stream = Uuid::from_u128(7);
        let diverged = Ack {
            through: 50,
            stream: Some(stream),
            hub: Some("HUB-1".into()),
            verdict: Verdict::Diverged,
        };
        assert_eq!(
            diverged.encode(),
            br#"{"through":50,"stream":"00000000-0000-0000-0000-000000000007","hub":"HUB-1","verdict":"diverged"}"#
        );
        assert_eq!(Ack::decode(&diverged.encode()), Some(diverged));
        assert_eq!(StationStatus::offline().encode(), br#"{"online":false}"#);
        assert_eq!(
            StationStatus::decode(br#"{"online":true,"down_through":3}"#),
            Some(StationStatus {
                online: true,
                down_through: Some(3),
                ..StationStatus::offline()
            })
        );
    }
}

#[cfg(test)]
mod hub_tests {
    use super::*;

    #[test]
    fn of_two_hubs_the_one_started_first_keeps_serving() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let now = at(210);
        let first = HubStatus {
            hub: "HUB-A".into(),
            run: Uuid::from_u128(9),
            started_at: at(100),
            online: true,
            alive_at: Some(at(200)),
        };
        let second = HubStatus {
            hub: "HUB-B".into(),
            run: Uuid::from_u128(1),
            started_at: at(200),
            alive_at: None,
            ..first.clone()
        };
        assert!(second.yields_to(&first, now));
        assert!(!first.yields_to(&second, now));
        assert!(
            !first.yields_to(&first, now),
            "a hub never yields to itself"
        );
        let gone = HubStatus {
            online: false,
            ..first.clone()
        };
        assert!(
            !second.yields_to(&gone, now),
            "an offline hub serves nothing"
        );
        let twin = HubStatus {
            hub: "HUB-C".into(),
            run: Uuid::from_u128(2),
            ..first.clone()
        };
        assert!(
            twin.yields_to(&first, now) != first.yields_to(&twin, now),
            "a tie has one winner"
        );
    }

    #[test]
    fn a_hub_that_stopped_saying_it_is_alive_and_a_past_run_of_the_same_database_serve_nothing() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let crashed = HubStatus {
            hub: "HUB-A".into(),
            run: Uuid::from_u128(9),
            started_at: at(100),
            online: true,
            alive_at: Some(at(1_000)),
        };
        let failover = HubStatus {
            hub: "HUB-B".into(),
            run: Uuid::from_u128(1),
            started_at: at(1_010),
            online: true,
            alive_at: None,
        };
        assert!(
            failover.yields_to(&crashed, at(1_044)),
            "44 s: still taken as alive"
        );
        assert!(!failover.yields_to(&crashed, at(1_045)), "45 s: gone");
        let restarted = HubStatus {
            hub: "HUB-A".into(),
            ..failover.clone()
        };
        assert!(
            !restarted.yields_to(&crashed, at(1_011)),
            "a restart of the same database takes over from its own last run"
        );
        let said: HubStatus = serde_json::from_str(
            r#"{"hub":"HUB-A","run":"00000000-0000-0000-0000-000000000009","started_at":"1970-01-01T00:01:40Z","online":true}"#,
        )
        .unwrap();
        assert!(
            said.is_alive(at(120)),
            "a status without alive_at dates from its start"
        );
        assert!(!said.is_alive(at(200)));
    }
}
