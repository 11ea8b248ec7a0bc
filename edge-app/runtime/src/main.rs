//! `station-runtime`: the headless edge runtime of one station. Opens the station database, keeps
//! it in sync with HQ over MQTT and checkpoints its WAL; prints one JSON line once started; stops
//! on Ctrl-C or SIGTERM, saying offline first.
#![allow(clippy::print_stdout)] // its start-up line on stdout is what a supervisor waits for

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use station_core::{Checkpointer, Station};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use station_runtime::gauge::{self, GaugeConfig};
use station_runtime::printer::{self, PrinterConfig};
use station_runtime::sync_agent::{self, AgentConfig};
use sync_mqtt::LinkConfig;
use sync_protocol::stream::StreamConfig;
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    name = "station-runtime",
    version,
    about = "A station's edge runtime: sync with HQ."
)]
struct Settings {
    /// The station database (create it with `station init`).
    #[arg(long, env = "STATION_DB")]
    db: PathBuf,
    /// The MQTT broker, host:port.
    #[arg(long, env = "STATION_BROKER", default_value = "127.0.0.1:1883")]
    broker: String,
    /// Connect over TLS, trusting this CA certificate (PEM): the broker's CA.
    #[arg(long, env = "STATION_BROKER_CA")]
    broker_ca: Option<PathBuf>,
    /// The station's MQTT password (its username and client id are its station id).
    #[arg(long, env = "STATION_MQTT_PASSWORD", hide_env_values = true)]
    mqtt_password: Option<String>,
    /// The receipt printer's serial port (ESC/POS); receipts are queued until it can print.
    #[arg(long, env = "STATION_PRINTER")]
    printer: Option<String>,
    /// The business registration number printed on receipts.
    #[arg(long, env = "STATION_BUSINESS_NUMBER", default_value = "")]
    business_number: String,
    /// The station's address printed on receipts.
    #[arg(long, env = "STATION_ADDRESS", default_value = "")]
    address: String,
    /// The automatic tank gauge's serial port (Veeder-Root TLS serial interface).
    #[arg(long, env = "STATION_GAUGE")]
    gauge: Option<String>,
    /// Milliseconds between readings of the tank gauge.
    #[arg(long, default_value_t = 60_000)]
    gauge_poll_ms: u64,
    /// Where the API for the POS and the back office listens. Loopback by default; a LAN address
    /// lets the back-office PC in.
    #[arg(long, env = "STATION_API", default_value = "127.0.0.1:7070")]
    api: std::net::SocketAddr,
    /// Seconds without an acknowledgement before events are sent again.
    #[arg(long, default_value_t = 3)]
    resend_after_secs: u64,
    /// Milliseconds between looks at the outbox for new events.
    #[arg(long, default_value_t = 50)]
    poll_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::parse();
    let station = Station::open(&settings.db)
        .with_context(|| format!("opening {}", settings.db.display()))?;
    let id = station.info().station_id.to_string();
    drop(station);

    let (host, port) = settings
        .broker
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .with_context(|| format!("--broker `{}` is not host:port", settings.broker))?;
    let mut link = LinkConfig::new(host, port, id.clone());
    link.credentials = settings.mqtt_password.clone().map(|p| (id.clone(), p));
    link.tls_ca = settings.broker_ca.clone();
    let config = AgentConfig {
        db: settings.db.clone(),
        link,
        stream: StreamConfig {
            resend_after: Duration::from_secs(settings.resend_after_secs),
            ..StreamConfig::default()
        },
        poll: Duration::from_millis(settings.poll_ms),
    };

    // The WAL is copied into the database from its own connection, so a sale never waits for it.
    let checkpointer = Checkpointer::open(&settings.db)?;
    std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || {
            loop {
                if let Err(error) = checkpointer.checkpoint_once() {
                    tracing::warn!(%error, "WAL checkpoint failed");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })?;

    let devices_stop = Arc::new(AtomicBool::new(false));
    if let Some(port) = settings.printer.clone() {
        let config = PrinterConfig {
            db: settings.db.clone(),
            port,
            business_registration_number: settings.business_number.clone(),
            address: settings.address.clone(),
            poll: Duration::from_millis(200),
        };
        let stop = devices_stop.clone();
        std::thread::Builder::new()
            .name("receipt-printer".into())
            .spawn(move || {
                if let Err(error) = printer::run(&config, &stop) {
                    tracing::error!(%error, "the printer supervisor stopped");
                }
            })?;
    }

    if let Some(port) = settings.gauge.clone() {
        let config = GaugeConfig {
            db: settings.db.clone(),
            port,
            poll: Duration::from_millis(settings.gauge_poll_ms),
        };
        let stop = devices_stop.clone();
        std::thread::Builder::new()
            .name("tank-gauge".into())
            .spawn(move || {
                if let Err(error) = gauge::run(&config, &stop) {
                    tracing::error!(%error, "the tank gauge supervisor stopped");
                }
            })?;
    }

    let api = tokio::net::TcpListener::bind(settings.api)
        .await
        .with_context(|| format!("listening on {}", settings.api))?;
    let api_address = api.local_addr()?;
    let api_state = station_runtime::api::ApiState::open(&settings.db)?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(api, station_runtime::api::router(api_state)).await {
            tracing::error!(%error, "the API stopped");
        }
    });

    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop.send(true);
    });
    println!(
        "{}",
        serde_json::json!({"station": id, "broker": settings.broker, "api": api_address.to_string()})
    );
    let result = sync_agent::run(config, stopped).await;
    devices_stop.store(true, Ordering::Relaxed);
    result
}

async fn wait_for_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
