//! A scripted MQTT v5 client for tests that speak to a broker directly: one step at a time, each
//! awaited with a deadline, with the broker's answer (CONNACK, PUBACK, SUBACK reason codes)
//! returned to the test instead of being hidden.
//!
//! It drives rumqttc's event loop itself, so nothing runs in the background: a message arrives
//! only while the test waits for something, and is kept in order until the test asks for it.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnectReturnCode, Packet, PubAckReason, Publish, SubscribeReasonCode,
};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions};
use tokio::time::Instant;

use crate::{Credential, LOOPBACK, Mosquitto};

/// The deadline of one step (connect, publish and its PUBACK, subscribe, next message).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Options for a client of `broker` with the given client id and credential (none: anonymous).
/// Clean start, no session expiry; change what a test needs on the returned options.
pub fn options(
    broker: &Mosquitto,
    client_id: &str,
    credential: Option<&Credential>,
) -> MqttOptions {
    options_at(broker.port(), client_id, credential)
}

/// [`options`] for a broker on loopback at `port` that the harness did not start.
pub fn options_at(port: u16, client_id: &str, credential: Option<&Credential>) -> MqttOptions {
    let mut options = MqttOptions::new(client_id, LOOPBACK.to_string(), port);
    options.set_keep_alive(Duration::from_secs(30));
    if let Some(credential) = credential {
        options.set_credentials(&credential.username, &credential.password);
    }
    options
}

/// One MQTT connection, driven step by step by the test.
pub struct ProbeClient {
    name: String,
    client: AsyncClient,
    events: EventLoop,
    received: VecDeque<Publish>,
}

impl std::fmt::Debug for ProbeClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProbeClient")
            .field("name", &self.name)
            .field("received", &self.received.len())
            .finish_non_exhaustive()
    }
}

/// A received message: its topic and payload as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: String,
}

impl ProbeClient {
    /// Connects and returns the CONNACK; fails if the broker refuses.
    pub async fn connect(options: MqttOptions) -> Result<(Self, ConnAck)> {
        let name = describe(&options);
        match Self::attempt(options).await? {
            Ok(connected) => Ok(connected),
            Err(code) => bail!("{name}: the broker refused the connection with {code:?}"),
        }
    }

    /// Connects expecting a refusal and returns the CONNACK reason code; fails if it is accepted.
    pub async fn connect_refused(options: MqttOptions) -> Result<ConnectReturnCode> {
        let name = describe(&options);
        match Self::attempt(options).await? {
            Ok((_, connack)) => {
                bail!("{name}: expected a refusal, the broker accepted: {connack:?}")
            }
            Err(code) => Ok(code),
        }
    }

    /// Publishes at QoS 1 and returns the reason code of the broker's PUBACK.
    pub async fn publish(&mut self, topic: &str, payload: &str) -> Result<PubAckReason> {
        self.publish_with_retain(topic, payload, false).await
    }

    /// [`Self::publish`] with the retain flag set (as a station's status is).
    pub async fn publish_retained(&mut self, topic: &str, payload: &str) -> Result<PubAckReason> {
        self.publish_with_retain(topic, payload, true).await
    }

    async fn publish_with_retain(
        &mut self,
        topic: &str,
        payload: &str,
        retain: bool,
    ) -> Result<PubAckReason> {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.to_owned())
            .await
            .with_context(|| format!("{}: queueing a publish to {topic}", self.name))?;
        let what = format!("the PUBACK for a publish to {topic}");
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            match self.next_packet(deadline, &what).await? {
                Packet::PubAck(puback) => return Ok(puback.reason),
                Packet::Publish(publish) => self.received.push_back(publish),
                _ => {}
            }
        }
    }

    /// Subscribes at QoS 1 and returns the reason code of the broker's SUBACK.
    pub async fn subscribe(&mut self, filter: &str) -> Result<SubscribeReasonCode> {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .with_context(|| format!("{}: queueing a subscription to {filter}", self.name))?;
        let what = format!("the SUBACK for a subscription to {filter}");
        let deadline = Instant::now() + STEP_TIMEOUT;
        let codes = loop {
            match self.next_packet(deadline, &what).await? {
                Packet::SubAck(suback) => break suback.return_codes,
                Packet::Publish(publish) => self.received.push_back(publish),
                _ => {}
            }
        };
        match codes.as_slice() {
            [code] => Ok(*code),
            other => bail!("{}: {what} carried {other:?}", self.name),
        }
    }

    /// The next message delivered to this client.
    pub async fn next_message(&mut self) -> Result<Message> {
        if let Some(publish) = self.received.pop_front() {
            return Ok(message(&publish));
        }
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Packet::Publish(publish) = self.next_packet(deadline, "a message").await? {
                return Ok(message(&publish));
            }
        }
    }

    /// Every message delivered before the first one with `topic` and `payload` (the marker), in order.
    /// Sending a marker after a message that must not arrive, then calling this, shows non-arrival
    /// without sleeping: the broker delivers one connection's messages to a subscriber in order.
    pub async fn messages_before(&mut self, topic: &str, payload: &str) -> Result<Vec<Message>> {
        let mut before = Vec::new();
        loop {
            let message = self
                .next_message()
                .await
                .with_context(|| format!("waiting for the marker {payload:?} on {topic}"))?;
            if message.topic == topic && message.payload == payload {
                return Ok(before);
            }
            before.push(message);
        }
    }

    /// Sends DISCONNECT (normal disconnection: a persistent session stays, the will is discarded).
    pub async fn disconnect(mut self) -> Result<()> {
        self.client
            .disconnect()
            .await
            .with_context(|| format!("{}: queueing DISCONNECT", self.name))?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.poll())
                .await
                .with_context(|| format!("{}: timed out sending DISCONNECT", self.name))?;
            match event {
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return Ok(()),
                Ok(_) => {}
                Err(error) => bail!(
                    "{}: connection failed while disconnecting: {error}",
                    self.name
                ),
            }
        }
    }

    /// Drops the TCP connection without DISCONNECT, as a crash or a cut line would (the will fires).
    pub fn drop_connection(self) {
        drop(self);
    }

    async fn attempt(options: MqttOptions) -> Result<Result<(Self, ConnAck), ConnectReturnCode>> {
        let name = describe(&options);
        let (client, mut events) = AsyncClient::new(options, 16);
        let polled = tokio::time::timeout(STEP_TIMEOUT, events.poll())
            .await
            .with_context(|| format!("{name}: timed out waiting for CONNACK"))?;
        match polled {
            Ok(Event::Incoming(Packet::ConnAck(connack))) => Ok(Ok((
                Self {
                    name,
                    client,
                    events,
                    received: VecDeque::new(),
                },
                connack,
            ))),
            Ok(other) => bail!("{name}: expected CONNACK first, got {other:?}"),
            Err(ConnectionError::ConnectionRefused(code)) => Ok(Err(code)),
            Err(error) => bail!("{name}: connecting failed: {error}"),
        }
    }

    /// The next packet from the broker. A lost connection or a DISCONNECT from the broker is an
    /// error: these tests never reconnect silently.
    async fn next_packet(&mut self, deadline: Instant, what: &str) -> Result<Packet> {
        loop {
            let polled = tokio::time::timeout_at(deadline, self.events.poll())
                .await
                .with_context(|| format!("{}: timed out waiting for {what}", self.name))?;
            match polled {
                Ok(Event::Incoming(Packet::Disconnect(disconnect))) => bail!(
                    "{}: the broker disconnected ({disconnect:?}) while waiting for {what}",
                    self.name
                ),
                Ok(Event::Incoming(packet)) => return Ok(packet),
                Ok(Event::Outgoing(_)) => {}
                Err(error) => bail!(
                    "{}: connection lost while waiting for {what}: {error}",
                    self.name
                ),
            }
        }
    }
}

fn describe(options: &MqttOptions) -> String {
    let username = options
        .credentials()
        .map_or_else(|| "anonymous".to_owned(), |login| login.username);
    format!("client {:?} (user {username})", options.client_id())
}

fn message(publish: &Publish) -> Message {
    Message {
        topic: String::from_utf8_lossy(&publish.topic).into_owned(),
        payload: String::from_utf8_lossy(&publish.payload).into_owned(),
    }
}
