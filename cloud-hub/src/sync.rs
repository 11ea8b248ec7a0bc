//! The hub's sync agent: the MQTT side of the exchange with every station.
//!
//! - A station's `up` messages are applied through [`Hub::receive_station_message`] and
//!   acknowledged on its `up/ack` topic only after the hub committed them.
//! - The hub's outbox towards a station is sent on its `down` topic by one
//!   [`OutboundStream`] per station, while the station says it is online; its acknowledgements
//!   (`down/ack`) move the stream and are recorded.
//! - A station's retained status (and its last will) say whether it is online; when it comes
//!   online it says how far it has committed HQ's messages, and the stream resumes after that.
//!
//! - The hub says on [`HUB_STATUS_TOPIC`] (retained, again every [`HUB_HEARTBEAT`]) that it
//!   serves the network. A hub that finds another one, of another database, that started
//!   before it and said so recently, stands down: it puts that hub's status back, stops syncing
//!   and [`run`] returns [`Fenced`], so one hub at a time answers stations. Stations say their
//!   positions again to each new run (see the station's sync agent).
//!
//! All decisions are in `sync_protocol::stream` and in [`Hub`]; this loop only moves bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sync_mqtt::{Link, LinkConfig, LinkEvent};
use sync_protocol::stream::{AckOutcome, OutboundStream, StreamConfig};
use sync_protocol::transport::{
    Ack, Channel, HUB_HEARTBEAT, HUB_STATUS_TOPIC, HubStatus, StationStatus, every_station,
    parse_topic, topic,
};
use tokio::sync::{Notify, watch};

use crate::downstream::DownAck;
use crate::hub::SharedHub;

/// This hub stood down: another hub, started before it, serves the same broker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "another hub ({} run {}, started {}) already serves this broker; this one stood down so that stations deal with one hub",
    .0.hub, .0.run, .0.started_at
)]
pub struct Fenced(pub HubStatus);

/// How the agent connects and paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub link: LinkConfig,
    pub stream: StreamConfig,
    /// How often to look for messages to re-send.
    pub tick: Duration,
}

/// The status this hub publishes (retained, said again every [`HUB_HEARTBEAT`]).
pub fn hub_status(hub: &SharedHub) -> HubStatus {
    let now = Timestamp::now();
    HubStatus {
        hub: lock(hub).hub_id().to_owned(),
        run: uuid::Uuid::now_v7(),
        started_at: now,
        online: true,
        alive_at: Some(now),
    }
}

/// Runs on `link` until `shutdown` turns true, or until another hub that started first is seen
/// on the broker (`Err(Fenced)`). `wake` is notified when HQ puts something in an outbox. `me`
/// is this hub's status (see [`hub_status`]).
pub async fn run(
    hub: SharedHub,
    mut link: Link,
    config: SyncConfig,
    wake: Arc<Notify>,
    me: HubStatus,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), Fenced> {
    let mut streams: HashMap<String, OutboundStream> = HashMap::new();
    let mut ticker = tokio::time::interval(config.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut me = me;
    let mut said_at = Instant::now();
    // Stations online on the broker but not registered at HQ, with what they said.
    let mut unregistered: HashMap<String, StationStatus> = HashMap::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let gone = HubStatus { online: false, ..me.clone() };
                let _ = link.publish(HUB_STATUS_TOPIC, gone.encode(), true).await;
                link.disconnect().await;
                return Ok(());
            }
            event = link.next() => {
                let Some(first) = event else { return Ok(()) };
                // Take what else is waiting, so that station messages are applied in batches:
                // one transaction, one flush and one acknowledgement per station per batch.
                let mut events = vec![first];
                while events.len() < MAX_BATCH {
                    match link.try_next() {
                        Some(event) => events.push(event),
                        None => break,
                    }
                }
                let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
                for event in events {
                    match event {
                        LinkEvent::Message { topic: name, payload }
                            if matches!(parse_topic(&name), Some((_, Channel::Up))) =>
                        {
                            let station = parse_topic(&name).map(|(s, _)| s.to_owned()).unwrap_or_default();
                            batch.push((station, payload));
                        }
                        LinkEvent::Message { topic: name, payload } if name == HUB_STATUS_TOPIC => {
                            if let Some(other) = HubStatus::decode(&payload)
                                && me.yields_to(&other, Timestamp::now())
                            {
                                tracing::error!(other = ?other, "another hub serves this broker; standing down");
                                lock(&hub).metrics().fenced.set(1);
                                // This hub said it serves as it connected: the status of the
                                // hub that does is put back.
                                let _ = link.publish(HUB_STATUS_TOPIC, other.encode(), true).await;
                                link.disconnect().await;
                                return Err(Fenced(other));
                            }
                        }
                        other => {
                            apply_batch(&hub, &link, &mut batch).await;
                            handle(&hub, &config, &link, &mut streams, &mut unregistered, &me, other).await;
                        }
                    }
                }
                apply_batch(&hub, &link, &mut batch).await;
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                if now.duration_since(said_at) >= HUB_HEARTBEAT {
                    said_at = now;
                    me.alive_at = Some(Timestamp::now());
                    if let Err(error) = link.publish(HUB_STATUS_TOPIC, me.encode(), true).await {
                        tracing::warn!(%error, "saying the hub is alive failed");
                    }
                }
                let stations: Vec<String> = streams.keys().cloned().collect();
                for station in stations {
                    if let Some(stream) = streams.get_mut(&station) {
                        stream.on_timeout(now);
                    }
                    pump(&hub, &link, &mut streams, &station).await;
                }
            }
            () = wake.notified() => {
                // A station registered since it said it is online is taken up now.
                let waiting: Vec<(String, StationStatus)> = unregistered.drain().collect();
                for (station, status) in waiting {
                    if !station_online(&hub, &config, &link, &mut streams, &station, &status).await {
                        unregistered.insert(station, status);
                    }
                }
                let stations: Vec<String> = streams.keys().cloned().collect();
                for station in stations {
                    pump(&hub, &link, &mut streams, &station).await;
                }
            }
        }
    }
}

async fn handle(
    hub: &SharedHub,
    config: &SyncConfig,
    link: &Link,
    streams: &mut HashMap<String, OutboundStream>,
    unregistered: &mut HashMap<String, StationStatus>,
    me: &HubStatus,
    event: LinkEvent,
) {
    match event {
        LinkEvent::Connected => {
            tracing::info!("hub connected to the broker");
            // The other hub's retained status, if any, arrives before this hub says anything.
            let fresh = HubStatus {
                alive_at: Some(Timestamp::now()),
                ..me.clone()
            };
            if link.subscribe(HUB_STATUS_TOPIC).await.is_err()
                || link
                    .publish(HUB_STATUS_TOPIC, fresh.encode(), true)
                    .await
                    .is_err()
            {
                return;
            }
            for channel in [Channel::Up, Channel::DownAck, Channel::Status] {
                if link.subscribe(&every_station(channel)).await.is_err() {
                    return;
                }
            }
            // Streams restart when each station's retained status arrives again.
            streams.clear();
        }
        LinkEvent::Disconnected { reason } | LinkEvent::Refused { reason } => {
            tracing::warn!(%reason, "hub lost the broker; retrying");
            for stream in streams.values_mut() {
                stream.disconnected();
            }
        }
        LinkEvent::PublishRefused { reason } => {
            tracing::warn!(%reason, "the broker refused a publish from the hub");
        }
        LinkEvent::Message {
            topic: name,
            payload,
        } => {
            let Some((station, channel)) = parse_topic(&name) else {
                return;
            };
            let station = station.to_owned();
            match channel {
                Channel::DownAck => {
                    let Some(ack) = Ack::decode(&payload) else {
                        return;
                    };
                    if !streams.contains_key(&station) {
                        return;
                    }
                    let outcome =
                        lock(hub).station_acknowledged_down(&station, &ack, Timestamp::now());
                    let Some(stream) = streams.get_mut(&station) else {
                        return;
                    };
                    match outcome {
                        Ok(DownAck::Position(through)) => match stream
                            .on_ack(through, Instant::now())
                        {
                            AckOutcome::Advanced { through } => {
                                if let Err(error) =
                                    lock(hub).station_acknowledged(&station, through)
                                {
                                    tracing::error!(station, %error, "recording an acknowledgement failed");
                                }
                            }
                            AckOutcome::GoBack { from } => {
                                tracing::debug!(station, from, "station saw a gap; sending again");
                            }
                            AckOutcome::Stale => {}
                        },
                        Ok(DownAck::Restarted(down)) => {
                            stream.restart_at(down.acked_through, Instant::now());
                        }
                        Ok(DownAck::Stale) => {}
                        Err(error) => {
                            tracing::error!(station, %error, "handling an acknowledgement failed");
                        }
                    }
                    pump(hub, link, streams, &station).await;
                }
                Channel::Status => {
                    // An empty retained message clears the status; ignore it.
                    let Some(status) = StationStatus::decode(&payload) else {
                        return;
                    };
                    unregistered.remove(&station);
                    if !station_online(hub, config, link, streams, &station, &status).await
                        && status.online
                    {
                        // Online but not registered at HQ yet: taken up once it is.
                        unregistered.insert(station, status);
                    }
                }
                // `up` messages are taken in batches before `handle` (see `apply_batch`); the
                // acknowledgement and `down` topics are the hub's own.
                Channel::Up | Channel::UpAck | Channel::Down => {}
            }
        }
    }
}

/// Takes up a station that says it is online: its stream towards the station starts from
/// where the station holds it. Returns whether it did (not for a station that is offline or not
/// registered at HQ).
async fn station_online(
    hub: &SharedHub,
    config: &SyncConfig,
    link: &Link,
    streams: &mut HashMap<String, OutboundStream>,
    station: &str,
    status: &StationStatus,
) -> bool {
    let online = lock(hub).station_online(station, status, Timestamp::now());
    let online = match online {
        Ok(Some(online)) => online,
        Ok(None) => {
            if let Some(stream) = streams.get_mut(station) {
                stream.disconnected();
            }
            return false;
        }
        Err(error) => {
            tracing::error!(station, %error, "recording a station status failed");
            return false;
        }
    };
    if let Some(ack) = online.up_ack {
        let _ = link
            .publish(&topic(station, Channel::UpAck), ack.encode(), false)
            .await;
    }
    let mut stream = OutboundStream::new(online.stream.acked_through, config.stream);
    stream.connected(Instant::now());
    streams.insert(station.to_owned(), stream);
    pump(hub, link, streams, station).await;
    true
}

/// Station messages applied in one transaction at most.
const MAX_BATCH: usize = 2048;

/// Applies the station messages gathered so far and acknowledges each station's final position.
async fn apply_batch(hub: &SharedHub, link: &Link, batch: &mut Vec<(String, Vec<u8>)>) {
    if batch.is_empty() {
        return;
    }
    let messages: Vec<(&str, &[u8])> = batch
        .iter()
        .map(|(s, m)| (s.as_str(), m.as_slice()))
        .collect();
    let (received, hub_id) = {
        let mut hub = lock(hub);
        let received = hub.receive_station_messages(&messages, Timestamp::now());
        (received, hub.hub_id().to_owned())
    };
    // Per station, the last acknowledgement of the batch, unless an earlier one says more than
    // a position (a divergence): that one goes out as well, first.
    let mut acks: Vec<(String, Ack)> = Vec::new();
    match received {
        Ok(received) => {
            for ((station, _), received) in batch.iter().zip(received) {
                let Some(through) = received.ack_through else {
                    continue;
                };
                let ack = Ack {
                    through,
                    stream: received.stream,
                    hub: Some(hub_id.clone()),
                    verdict: received.verdict,
                };
                match acks.iter_mut().rev().find(|(s, _)| s == station) {
                    Some(entry)
                        if entry.1.verdict == ack.verdict && entry.1.stream == ack.stream =>
                    {
                        entry.1 = ack;
                    }
                    _ => acks.push((station.clone(), ack)),
                }
            }
        }
        // Not acknowledged: the stations send them again.
        Err(error) => tracing::error!(%error, "applying station messages failed"),
    }
    batch.clear();
    for (station, ack) in acks {
        let _ = link
            .publish(&topic(&station, Channel::UpAck), ack.encode(), false)
            .await;
    }
}

/// Sends what the station's stream allows from its outbox.
async fn pump(
    hub: &SharedHub,
    link: &Link,
    streams: &mut HashMap<String, OutboundStream>,
    station: &str,
) {
    let Some(stream) = streams.get_mut(station) else {
        return;
    };
    let messages = {
        let hub = lock(hub);
        let Ok((last_seq, _)) = hub.outbox_position(station) else {
            return;
        };
        let Some(range) = stream.to_send(last_seq) else {
            return;
        };
        let count = range.end() - range.start() + 1;
        match hub.outbox_messages(station, range.start() - 1, count) {
            Ok(messages) => messages,
            Err(error) => {
                tracing::error!(station, %error, "reading the outbox failed");
                return;
            }
        }
    };
    let down = topic(station, Channel::Down);
    for (_, message) in messages {
        if link.publish(&down, message, false).await.is_err() {
            return;
        }
    }
}

fn lock(hub: &SharedHub) -> std::sync::MutexGuard<'_, crate::Hub> {
    // A panic while holding the lock leaves the database consistent (transactions roll back),
    // so a poisoned lock is safe to keep using.
    hub.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
