//! The embedded MQTT broker (rumqttd), the zero-setup default for a single host.
//!
//! It is a demo and development default, never the production set-up: it has no per-topic ACL
//! (any client may read or write any station's topics), keeps sessions in memory only, and drops
//! the oldest queued messages when its log overflows. Nothing relies on it keeping messages: the
//! sync protocol re-sends from the last acknowledged position. Production uses Mosquitto with one
//! credential per station and an ACL (`cloud-hub/mosquitto/`).

use std::collections::HashMap;
use std::net::SocketAddr;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

/// Starts the broker on `listen`, speaking MQTT 5 (what both sync agents use), in its own threads.
pub fn start(listen: SocketAddr) -> std::io::Result<()> {
    let connections = ConnectionSettings {
        connection_timeout_ms: 5_000,
        max_payload_size: 1024 * 1024,
        max_inflight_count: 1024,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = |name: &str, listen: SocketAddr| ServerSettings {
        name: name.to_owned(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: connections.clone(),
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 1024,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v5: Some(HashMap::from([("v5".to_owned(), server("v5", listen))])),
        ..Config::default()
    };
    // Binding happens inside the broker's threads; make sure the port is ours first so a
    // clash is an error here rather than a silent log line.
    drop(std::net::TcpListener::bind(listen)?);
    std::thread::Builder::new()
        .name("embedded-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(error) = broker.start() {
                tracing::error!(%error, "the embedded broker stopped");
            }
        })?;
    Ok(())
}
