//! The station's sync agent: the MQTT side of the station's exchange with HQ.
//!
//! Decisions are made by `sync_protocol::stream` (what to send, when to send again) and by the
//! station core (what a message from HQ changes, and whether it was already applied); this loop
//! moves bytes between them and the link.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use station_core::{InboxOutcome, Station};
use sync_mqtt::{Link, LinkConfig, LinkEvent};
use sync_protocol::HUB_ORIGIN;
use sync_protocol::stream::{AckOutcome, OutboundStream, StreamConfig};
use sync_protocol::transport::{
    Ack, Channel, DeviceStates, HUB_STATUS_TOPIC, HubStatus, StationStatus, Verdict, topic,
};
use tokio::sync::watch;

use crate::live::Live;

/// How the agent connects and paces itself.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub db: PathBuf,
    pub link: LinkConfig,
    pub stream: StreamConfig,
    /// How often the outbox is read for new events and timeouts are checked.
    pub poll: Duration,
    /// Where the link's state and the backlog are shown.
    pub live: Live,
    /// Read HQ's messages only up to this schema version (to try a staggered upgrade).
    pub read_schema: Option<u16>,
}

/// Runs until `shutdown` turns true; then says offline and disconnects.
pub async fn run(config: AgentConfig, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut station = Station::open(&config.db)?;
    if let Some(newest) = config.read_schema {
        station.read_schema_up_to(newest);
    }
    let id = station.info().station_id.to_string();
    let status_topic = topic(&id, Channel::Status);
    let offline = StationStatus::offline().encode();
    let mut link_config = config.link.clone();
    link_config.last_will = Some((status_topic.clone(), offline.clone()));
    let mut link = Link::start(link_config)?;
    let mut stream = OutboundStream::new(station.acknowledged_through()?, config.stream);
    let mut poll = tokio::time::interval(config.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_price_check = Instant::now();
    let mut said = Said::default();
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = link.publish(&status_topic, offline, true).await;
                link.disconnect().await;
                return Ok(());
            }
            event = link.next() => {
                let Some(event) = event else { return Ok(()) };
                // Acknowledgements are cumulative: of those waiting, the last says it all, and
                // recording it once saves a disk flush per acknowledgement.
                let mut event = event;
                while is_up_ack(&event, &id) {
                    match link.try_next() {
                        Some(next) if is_up_ack(&next, &id) => event = next,
                        Some(next) => {
                            handle(&mut station, &id, &link, &mut stream, &config.live, &mut said, event).await?;
                            event = next;
                            break;
                        }
                        None => break,
                    }
                }
                handle(&mut station, &id, &link, &mut stream, &config.live, &mut said, event).await?;
            }
            _ = poll.tick() => {
                let now = Instant::now();
                stream.on_timeout(now);
                if now.duration_since(last_price_check) >= Duration::from_secs(1) {
                    last_price_check = now;
                    if let Err(error) = station.apply_due_price_version(Timestamp::now()) {
                        tracing::error!(%error, "applying a due price version failed");
                    }
                }
                let last = pump(&station, &id, &link, &mut stream).await?;
                show(&station, last, &stream, &config.live);
                if stream.is_connected() && said.devices.as_ref() != Some(&device_states(&config.live)) {
                    // A device changed: HQ's dashboard is told at once (retained, like every status).
                    say_status(&station, &id, &link, &config.live, &mut said).await?;
                }
            }
        }
    }
}

/// Puts the link's state and the backlog (events up to `last`) into the live state.
fn show(station: &Station, last: u64, stream: &OutboundStream, live: &Live) {
    let acknowledged = stream.acked_through();
    let divergences = station.divergence_count().unwrap_or(0);
    live.update(|s| {
        s.sync.connected = stream.is_connected();
        s.sync.backlog = last.saturating_sub(acknowledged);
        s.sync.acknowledged_through = acknowledged;
        s.sync.divergences = divergences;
    });
}

/// The station's status as it says it on coming online: how far it holds each stream, and
/// the state of its devices.
fn online_status(station: &Station, live: &Live) -> anyhow::Result<StationStatus> {
    Ok(StationStatus {
        online: true,
        down_through: Some(station.inbox_position(HUB_ORIGIN)?),
        down_stream: station.down_stream()?,
        up_stream: Some(station.up_stream()?),
        up_acked: Some(station.acknowledged_through()?),
        price_version: station.newest_price_version()?,
        up_last: Some(station.last_outbox_seq()?),
        devices: Some(device_states(live)),
    })
}

/// What the station has told the network: the run of the hub it last saw serving, and the
/// devices' states in its last status.
#[derive(Debug, Default)]
struct Said {
    hub_run: Option<uuid::Uuid>,
    devices: Option<DeviceStates>,
}

/// Publishes the station's status (retained) and notes the devices it told.
async fn say_status(
    station: &Station,
    id: &str,
    link: &Link,
    live: &Live,
    said: &mut Said,
) -> anyhow::Result<()> {
    let status = online_status(station, live)?;
    link.publish(&topic(id, Channel::Status), status.encode(), true)
        .await?;
    said.devices = status.devices;
    Ok(())
}

/// The devices' states as HQ is told them.
fn device_states(live: &Live) -> DeviceStates {
    live.read(|s| DeviceStates {
        printer: s.printer.state.to_owned(),
        gauge: s.gauge.state.to_owned(),
        pump_line: s.pump_line.state.to_owned(),
    })
}

/// What HQ's acknowledgement of the station's stream means, and what the station does.
fn on_up_ack(
    station: &mut Station,
    id: &str,
    stream: &mut OutboundStream,
    ack: &Ack,
) -> anyhow::Result<()> {
    let current = station.up_stream()?;
    if ack.stream.is_some_and(|s| s != current.id) {
        // About a stream the station has replaced.
        return Ok(());
    }
    let now = Instant::now();
    let last = station.last_outbox_seq()?;
    match ack.verdict {
        Verdict::Diverged => {
            let why = format!(
                "HQ holds another event than the station's at {}",
                ack.through + 1
            );
            station.restart_up_stream(&why, Timestamp::now())?;
            stream.restart_at(station.acknowledged_through()?, now);
        }
        Verdict::Rewind => {
            let through = station.rewind_up_stream(ack.through, Timestamp::now())?;
            stream.restart_at(through, now);
        }
        Verdict::Agreed if ack.through > last => {
            let why = format!(
                "HQ acknowledges event {} of the station's stream, which has only {last}",
                ack.through
            );
            station.restart_up_stream(&why, Timestamp::now())?;
            stream.restart_at(station.acknowledged_through()?, now);
        }
        Verdict::Agreed => {
            if let AckOutcome::Advanced { through } = stream.on_ack(ack.through, now)
                && let Err(error) = station.acknowledge_through(through, Timestamp::now())
            {
                tracing::error!(station = id, %error, "recording HQ's acknowledgement failed");
            }
        }
    }
    Ok(())
}

async fn handle(
    station: &mut Station,
    id: &str,
    link: &Link,
    stream: &mut OutboundStream,
    live: &Live,
    said: &mut Said,
    event: LinkEvent,
) -> anyhow::Result<()> {
    match event {
        LinkEvent::Connected => {
            tracing::info!(station = id, "connected to the broker");
            link.subscribe(&topic(id, Channel::UpAck)).await?;
            link.subscribe(&topic(id, Channel::Down)).await?;
            link.subscribe(HUB_STATUS_TOPIC).await?;
            say_status(station, id, link, live, said).await?;
            // Sending starts over from the last acknowledged event: nothing is assumed to have
            // survived in the broker.
            stream.connected(Instant::now());
            pump(station, id, link, stream).await?;
        }
        LinkEvent::Disconnected { reason } | LinkEvent::Refused { reason } => {
            if stream.is_connected() {
                tracing::warn!(station = id, %reason, "lost the broker; retrying");
            }
            stream.disconnected();
        }
        LinkEvent::PublishRefused { reason } => {
            tracing::error!(station = id, %reason, "the broker refused a publish");
        }
        LinkEvent::Message {
            topic: name,
            payload,
        } => {
            if name == HUB_STATUS_TOPIC {
                let Some(hub) = HubStatus::decode(&payload).filter(|h| h.online) else {
                    return Ok(());
                };
                if said
                    .hub_run
                    .replace(hub.run)
                    .is_some_and(|run| run != hub.run)
                {
                    // Another hub process serves now. It may hold less than the one before
                    // (its database restored from a backup), so the station says again how far
                    // it holds each stream; a hub that lost nothing finds nothing to do.
                    tracing::info!(station = id, hub = %hub.hub, run = %hub.run, "a new hub run serves the network");
                    say_status(station, id, link, live, said).await?;
                }
            } else if name == topic(id, Channel::UpAck) {
                let Some(ack) = Ack::decode(&payload) else {
                    return Ok(());
                };
                if let Err(error) = on_up_ack(station, id, stream, &ack) {
                    tracing::error!(station = id, %error, "handling HQ's acknowledgement failed");
                }
                pump(station, id, link, stream).await?;
            } else if name == topic(id, Channel::Down) {
                let outcome = station.apply_hub_message(&payload, Timestamp::now());
                match &outcome {
                    Ok(InboxOutcome::DeadLettered {
                        sequence,
                        code,
                        reason,
                    }) => {
                        tracing::warn!(
                            station = id,
                            ?sequence,
                            code,
                            reason,
                            "a message from HQ was dead-lettered"
                        );
                    }
                    Ok(InboxOutcome::Held { reason, .. }) => {
                        // Not acknowledged: HQ sends it again, ever more rarely, until an
                        // upgraded station applies it.
                        if live.read(|s| s.sync.held.as_deref() != Some(reason.as_str())) {
                            tracing::warn!(
                                station = id,
                                reason,
                                "a message from HQ waits for an upgrade"
                            );
                            let reason = reason.clone();
                            live.update(|s| s.sync.held = Some(reason));
                        }
                        return Ok(());
                    }
                    Ok(_) => {}
                    // Not acknowledged: HQ sends it again.
                    Err(error) => {
                        tracing::error!(station = id, %error, "applying a message from HQ failed")
                    }
                }
                if live.read(|s| s.sync.held.is_some()) {
                    live.update(|s| s.sync.held = None);
                }
                let ack = match outcome {
                    Ok(InboxOutcome::Diverged { sequence }) => Some(Ack {
                        through: sequence - 1,
                        stream: station.down_stream()?,
                        hub: None,
                        verdict: Verdict::Diverged,
                    }),
                    Ok(_) => Some(Ack::agreed(
                        station.inbox_position(HUB_ORIGIN)?,
                        station.down_stream()?,
                    )),
                    Err(_) => None,
                };
                if let Some(ack) = ack {
                    link.publish(&topic(id, Channel::DownAck), ack.encode(), false)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

fn is_up_ack(event: &LinkEvent, station: &str) -> bool {
    matches!(event, LinkEvent::Message { topic: name, .. } if *name == topic(station, Channel::UpAck))
}

/// Publishes what the stream allows from the outbox; returns the outbox's last sequence.
async fn pump(
    station: &Station,
    id: &str,
    link: &Link,
    stream: &mut OutboundStream,
) -> anyhow::Result<u64> {
    let last = station.last_outbox_seq()?;
    let Some(range) = stream.to_send(last) else {
        return Ok(last);
    };
    let count = usize::try_from(range.end() - range.start() + 1).unwrap_or(usize::MAX);
    let events = station.outbox_events(range.start() - 1, count)?;
    let up = topic(id, Channel::Up);
    for event in events {
        link.publish(&up, event.message.into_bytes(), false).await?;
    }
    Ok(last)
}
