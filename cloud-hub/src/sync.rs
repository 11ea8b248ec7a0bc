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
//! All decisions are in `sync_protocol::stream` and in [`Hub`]; this loop only moves bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sync_mqtt::{Link, LinkConfig, LinkEvent};
use sync_protocol::stream::{AckOutcome, OutboundStream, StreamConfig};
use sync_protocol::transport::{Ack, Channel, StationStatus, every_station, parse_topic, topic};
use tokio::sync::{Notify, watch};

use crate::hub::SharedHub;

/// How the agent connects and paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub link: LinkConfig,
    pub stream: StreamConfig,
    /// How often to look for messages to re-send.
    pub tick: Duration,
}

/// Runs on `link` until `shutdown` turns true. `wake` is notified when HQ puts something in an
/// outbox.
pub async fn run(
    hub: SharedHub,
    mut link: Link,
    config: SyncConfig,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut streams: HashMap<String, OutboundStream> = HashMap::new();
    let mut ticker = tokio::time::interval(config.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                link.disconnect().await;
                return;
            }
            event = link.next() => {
                let Some(first) = event else { return };
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
                        other => {
                            apply_batch(&hub, &link, &mut batch).await;
                            handle(&hub, &config, &link, &mut streams, other).await;
                        }
                    }
                }
                apply_batch(&hub, &link, &mut batch).await;
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                let stations: Vec<String> = streams.keys().cloned().collect();
                for station in stations {
                    if let Some(stream) = streams.get_mut(&station) {
                        stream.on_timeout(now);
                    }
                    pump(&hub, &link, &mut streams, &station).await;
                }
            }
            () = wake.notified() => {
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
    event: LinkEvent,
) {
    match event {
        LinkEvent::Connected => {
            tracing::info!("hub connected to the broker");
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
                    let Some(stream) = streams.get_mut(&station) else {
                        return;
                    };
                    match stream.on_ack(ack.through, Instant::now()) {
                        AckOutcome::Advanced { through } => {
                            if let Err(error) = lock(hub).station_acknowledged(&station, through) {
                                tracing::error!(station, %error, "recording an acknowledgement failed");
                            }
                        }
                        AckOutcome::GoBack { from } => {
                            tracing::debug!(station, from, "station saw a gap; sending again");
                        }
                        AckOutcome::Stale => {}
                    }
                    pump(hub, link, streams, &station).await;
                }
                Channel::Status => {
                    // An empty retained message clears the status; ignore it.
                    let Some(status) = StationStatus::decode(&payload) else {
                        return;
                    };
                    let Some(acked) = status_changed(hub, &station, &status) else {
                        if let Some(stream) = streams.get_mut(&station) {
                            stream.disconnected();
                        }
                        return;
                    };
                    let mut stream = OutboundStream::new(acked, config.stream);
                    stream.connected(Instant::now());
                    streams.insert(station.clone(), stream);
                    pump(hub, link, streams, &station).await;
                }
                // `up` messages are taken in batches before `handle` (see `apply_batch`); the
                // acknowledgement and `down` topics are the hub's own.
                Channel::Up | Channel::UpAck | Channel::Down => {}
            }
        }
    }
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
    let received = lock(hub).receive_station_messages(&messages, Timestamp::now());
    let mut acks: Vec<(String, u64)> = Vec::new();
    match received {
        Ok(received) => {
            for ((station, _), received) in batch.iter().zip(received) {
                if let Some(through) = received.ack_through {
                    match acks.iter_mut().find(|(s, _)| s == station) {
                        Some(entry) => entry.1 = through,
                        None => acks.push((station.clone(), through)),
                    }
                }
            }
        }
        // Not acknowledged: the stations send them again.
        Err(error) => tracing::error!(%error, "applying station messages failed"),
    }
    batch.clear();
    for (station, through) in acks {
        let _ = link
            .publish(
                &topic(&station, Channel::UpAck),
                Ack { through }.encode(),
                false,
            )
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

/// Records a station's status; for a registered station that came online, the position its
/// stream resumes from (what the hub recorded or what the station says, whichever is further).
fn status_changed(hub: &SharedHub, station: &str, status: &StationStatus) -> Option<u64> {
    let mut hub = lock(hub);
    if let Err(error) = hub.station_status_changed(station, status.online, Timestamp::now()) {
        tracing::error!(station, %error, "recording a station status failed");
    }
    if !status.online || !hub.station_exists(station).unwrap_or(false) {
        return None;
    }
    let acked = hub
        .outbox_position(station)
        .map(|(_, acked)| acked)
        .unwrap_or(0);
    match status.down_through {
        Some(through) if through > acked => {
            Some(hub.station_acknowledged(station, through).unwrap_or(acked))
        }
        _ => Some(acked),
    }
}

fn lock(hub: &SharedHub) -> std::sync::MutexGuard<'_, crate::Hub> {
    // A panic while holding the lock leaves the database consistent (transactions roll back),
    // so a poisoned lock is safe to keep using.
    hub.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
