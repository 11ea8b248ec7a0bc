//! The MQTT link of a sync agent: one rumqttc v5 connection, kept up with back-off and jitter,
//! whose events arrive on a channel.
//!
//! The link delivers bytes and nothing more. Its `publish` returning `Ok` only means the message
//! is queued in memory, and rumqttc drops its queue when it reconnects to a broker without a
//! session for it; so the link never marks anything delivered. The sync agents do that, when the
//! receiving application acknowledges a message after committing it (see
//! `sync_protocol::stream`).
//!
//! One task polls the event loop, so the connection keeps its keep-alives and acknowledgements
//! flowing however slow the agent is; a bounded channel carries events to the agent, so a slow
//! agent slows the broker down rather than growing memory.

use std::time::Duration;

use rand::Rng;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{LastWill, Packet};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, MqttOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    /// Username and password, when the broker asks for them.
    pub credentials: Option<(String, String)>,
    pub keep_alive: Duration,
    /// Published by the broker if the connection dies: topic and payload, retained.
    pub last_will: Option<(String, Vec<u8>)>,
    /// Connect over TLS, trusting the CA certificates in this PEM file (the broker's CA).
    pub tls_ca: Option<std::path::PathBuf>,
    /// First wait after a failed connection; doubles up to `max_backoff`, with jitter.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl LinkConfig {
    pub fn new(host: impl Into<String>, port: u16, client_id: impl Into<String>) -> LinkConfig {
        LinkConfig {
            host: host.into(),
            port,
            client_id: client_id.into(),
            credentials: None,
            keep_alive: Duration::from_secs(10),
            last_will: None,
            tls_ca: None,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// What happened on the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Connected (again), with a fresh session: subscribe and send from the last acknowledged
    /// position.
    Connected,
    /// The connection is gone; the link retries by itself.
    Disconnected { reason: String },
    /// The broker refused the connection (for example, bad credentials); the link retries.
    Refused { reason: String },
    /// A message arrived.
    Message { topic: String, payload: Vec<u8> },
    /// The broker refused a publish (MQTT 5 reason code), for example one its ACL denies.
    PublishRefused { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the MQTT link is closed")]
    Closed,
    #[error("reading the broker's CA certificate {path}: {detail}")]
    Certificate { path: String, detail: String },
}

/// A running link. Dropping it stops the connection task.
#[derive(Debug)]
pub struct Link {
    client: AsyncClient,
    events: mpsc::UnboundedReceiver<LinkEvent>,
    task: JoinHandle<()>,
}

impl Link {
    /// Starts connecting in the background; events arrive through [`Link::next`]. Fails only
    /// when a TLS CA file is named and cannot be read.
    pub fn start(config: LinkConfig) -> Result<Link, LinkError> {
        let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
        if let Some(path) = &config.tls_ca {
            let ca = std::fs::read(path).map_err(|e| LinkError::Certificate {
                path: path.display().to_string(),
                detail: e.to_string(),
            })?;
            // rumqttc builds its TLS client with the process's default provider: ring here.
            let _ = rustls::crypto::ring::default_provider().install_default();
            options.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Simple {
                    ca,
                    alpn: None,
                    client_auth: None,
                },
            ));
        }
        options.set_keep_alive(config.keep_alive);
        options.set_clean_start(true);
        options.set_connection_timeout(5);
        options.set_outgoing_inflight_upper_limit(1024);
        // The largest packet either side ever sends (rumqttc would otherwise refuse anything
        // over 10 KiB, and drop the connection for it). Announced to the broker, which then never
        // sends a larger one; the broker's own limit caps what this side may send.
        options.set_max_packet_size(Some(sync_protocol::MAX_PACKET_BYTES));
        // Acknowledgements are small and latency is throughput here: no Nagle delay.
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        options.set_network_options(network);
        if let Some((user, password)) = &config.credentials {
            options.set_credentials(user, password);
        }
        if let Some((topic, payload)) = &config.last_will {
            options.set_last_will(LastWill::new(
                topic,
                payload.clone(),
                QoS::AtLeastOnce,
                true,
                None,
            ));
        }
        let (client, mut eventloop) = AsyncClient::new(options, 4096);
        // Unbounded on purpose: the event loop must never wait for its receiver. A receiver
        // that publishes (the hub sending a price version to every station) waits for the event
        // loop to take its requests; were the loop waiting in turn for room in a bounded event
        // channel, the two would wait on each other for good. What can pile up here is bounded
        // by the broker: by what the subscriptions let in flight (each sender's window).
        let (sender, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut failures: u32 = 0;
            loop {
                let event = match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        failures = 0;
                        Some(LinkEvent::Connected)
                    }
                    Ok(Event::Incoming(Packet::Publish(publish))) => Some(LinkEvent::Message {
                        topic: String::from_utf8_lossy(&publish.topic).into_owned(),
                        payload: publish.payload.to_vec(),
                    }),
                    Ok(Event::Incoming(Packet::PubAck(ack))) => {
                        use rumqttc::v5::mqttbytes::v5::PubAckReason;
                        match ack.reason {
                            PubAckReason::Success | PubAckReason::NoMatchingSubscribers => None,
                            other => Some(LinkEvent::PublishRefused {
                                reason: format!("{other:?}"),
                            }),
                        }
                    }
                    Ok(Event::Incoming(Packet::Disconnect(disconnect))) => {
                        Some(LinkEvent::Disconnected {
                            reason: format!(
                                "the broker disconnected: {:?}",
                                disconnect.reason_code
                            ),
                        })
                    }
                    Ok(_) => None,
                    Err(error) => {
                        let event = match &error {
                            ConnectionError::ConnectionRefused(code) => LinkEvent::Refused {
                                reason: format!("{code:?}"),
                            },
                            other => LinkEvent::Disconnected {
                                reason: other.to_string(),
                            },
                        };
                        if sender.send(event).is_err() {
                            return;
                        }
                        failures = failures.saturating_add(1);
                        tokio::time::sleep(backoff(&config, failures)).await;
                        continue;
                    }
                };
                if let Some(event) = event
                    && sender.send(event).is_err()
                {
                    return;
                }
            }
        });
        Ok(Link {
            client,
            events,
            task,
        })
    }

    /// The next event; `None` once the link has stopped.
    pub async fn next(&mut self) -> Option<LinkEvent> {
        self.events.recv().await
    }

    /// The next event if one is waiting, without waiting: lets a receiver take a batch.
    pub fn try_next(&mut self) -> Option<LinkEvent> {
        self.events.try_recv().ok()
    }

    /// Queues a QoS 1 message. `Ok` is not delivery.
    pub async fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        retain: bool,
    ) -> Result<(), LinkError> {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .map_err(|_| LinkError::Closed)
    }

    /// Subscribes with QoS 1; do it again after every [`LinkEvent::Connected`].
    pub async fn subscribe(&self, filter: &str) -> Result<(), LinkError> {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .map_err(|_| LinkError::Closed)
    }

    /// Disconnects cleanly (no last will).
    pub async fn disconnect(&self) {
        let _ = self.client.disconnect().await;
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Exponential back-off with full jitter: a random wait between half and all of
/// `min_backoff * 2^(failures-1)`, capped at `max_backoff`, so that stations cut off together do
/// not come back in step.
fn backoff(config: &LinkConfig, failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    let ceiling = config
        .min_backoff
        .saturating_mul(1 << exponent)
        .min(config.max_backoff);
    let ceiling_ms = u64::try_from(ceiling.as_millis())
        .unwrap_or(u64::MAX)
        .max(2);
    Duration::from_millis(rand::rng().random_range(ceiling_ms / 2..=ceiling_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_grows_with_jitter_and_stays_capped() {
        let config = LinkConfig::new("localhost", 1883, "t");
        for failures in 1..40 {
            let wait = backoff(&config, failures);
            let exponent = (failures - 1).min(16);
            let ceiling = config
                .min_backoff
                .saturating_mul(1 << exponent)
                .min(config.max_backoff);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{failures}: {wait:?}"
            );
        }
        assert!(backoff(&config, 30) <= Duration::from_secs(10));
    }
}
