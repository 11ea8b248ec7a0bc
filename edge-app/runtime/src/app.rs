//! The whole runtime of one station, started in-process: by the headless `station-runtime`
//! binary and by the desktop app alike. [`start`] opens the station, starts the sync agent, the
//! WAL checkpointer, the device supervisors and the API, and returns once the API listens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use axum_server::tls_rustls::RustlsConfig;
use station_core::{Checkpointer, Station};
use sync_mqtt::LinkConfig;
use sync_protocol::stream::StreamConfig;
use tokio::sync::oneshot;
use tokio::sync::watch;

use crate::api::{self, AllowedHosts, ApiState, SessionPolicy};
use crate::forecourt::{self, ForecourtConfig, NozzleMap};
use crate::gauge::{self, GaugeConfig};
use crate::live::{DeviceState, Live};
use crate::printer::{self, PrinterConfig};
use crate::sync_agent::{self, AgentConfig};

/// How a station's runtime is set up: command-line flags or environment variables.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// The station database (create it with `station init`).
    #[arg(long, env = "STATION_DB")]
    pub db: PathBuf,
    /// The MQTT broker, host:port.
    #[arg(long, env = "STATION_BROKER", default_value = "127.0.0.1:1883")]
    pub broker: String,
    /// Connect over TLS, trusting this CA certificate (PEM): the broker's CA.
    #[arg(long, env = "STATION_BROKER_CA")]
    pub broker_ca: Option<PathBuf>,
    /// The station's MQTT password (its username and client id are its station id).
    #[arg(
        long,
        env = "STATION_MQTT_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub mqtt_password: Option<String>,
    /// The receipt printer's serial port (ESC/POS); receipts are queued until it can print.
    #[arg(long, env = "STATION_PRINTER")]
    pub printer: Option<String>,
    /// The business registration number printed on receipts.
    #[arg(long, env = "STATION_BUSINESS_NUMBER", default_value = "")]
    pub business_number: String,
    /// The station's address printed on receipts.
    #[arg(long, env = "STATION_ADDRESS", default_value = "")]
    pub address: String,
    /// The automatic tank gauge's serial port (Veeder-Root TLS serial interface).
    #[arg(long, env = "STATION_GAUGE")]
    pub gauge: Option<String>,
    /// Milliseconds between readings of the tank gauge.
    #[arg(long, default_value_t = 60_000)]
    pub gauge_poll_ms: u64,
    /// The unit the tank gauge is set up in, used when the gauge does not say (what it says
    /// wins); litres if neither says.
    #[arg(
        long,
        env = "STATION_GAUGE_VOLUME_UNIT",
        value_name = "litre|us-gallon|imperial-gallon"
    )]
    pub gauge_volume_unit: Option<forecourt_protocols::tls::VolumeUnit>,
    /// The pump controller's serial line (Wayne DART, 9600 8O1).
    #[arg(long, env = "STATION_PUMP_LINE")]
    pub pump_line: Option<String>,
    /// Which tank a pump's nozzle draws from, as PUMP/NOZZLE=TANK with the pump's DART address
    /// in hex (e.g. `50/1=3`); repeat for every nozzle. The nozzle sells the tank's product.
    #[arg(long = "nozzle", value_name = "PUMP/NOZZLE=TANK")]
    pub nozzles: Vec<String>,
    /// Where the API for the POS and the back office listens (port 0 picks a free one).
    #[arg(long, env = "STATION_API", default_value = "127.0.0.1:7070")]
    pub api: SocketAddr,
    /// Let the API listen on an address other than loopback, so the back-office PC can open the
    /// UI from the station's LAN. Off by default; needs `--tls-cert` and `--tls-key`, since PINs
    /// and session tokens never cross the LAN in clear.
    #[arg(long, env = "STATION_ALLOW_LAN")]
    pub allow_lan: bool,
    /// The station's TLS certificate (PEM, its chain first), for HTTPS on the LAN; made at
    /// set-up by `scripts/make-station-certificate.sh`.
    #[arg(long, env = "STATION_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM).
    #[arg(long, env = "STATION_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A host name the back-office PC uses for this station (as in its certificate); the API
    /// answers only its own names (loopback, its address, these). Repeat for several.
    #[arg(long = "lan-name", value_name = "NAME")]
    pub lan_names: Vec<String>,
    /// Seconds a session may stay unused before its user must log in again.
    #[arg(long, default_value_t = 30 * 60)]
    pub session_idle_secs: u64,
    /// Seconds after log-in at which a session ends however it is used.
    #[arg(long, default_value_t = 12 * 60 * 60)]
    pub session_max_age_secs: u64,
    /// The built UI (`ui/dist`), served at `/`. Without it only the API is served.
    #[arg(long, env = "STATION_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
    /// Seconds without an acknowledgement before events are sent again.
    #[arg(long, default_value_t = 3)]
    pub resend_after_secs: u64,
    /// Milliseconds between looks at the outbox for new events.
    #[arg(long, default_value_t = 50)]
    pub poll_ms: u64,
    /// Read HQ's messages of schema versions up to this one only, holding newer ones as a
    /// station of that version would (to try a staggered upgrade).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=i64::from(sync_protocol::SCHEMA_VERSION)))]
    pub read_schema: Option<u16>,
}

/// A running station runtime.
#[derive(Debug)]
pub struct Runtime {
    /// The station's id.
    pub station: String,
    /// Where the API (and the UI) listens.
    pub api: SocketAddr,
    /// `http`, or `https` with the station's certificate.
    pub scheme: &'static str,
    stop: watch::Sender<bool>,
    devices_stop: Arc<AtomicBool>,
    agent: oneshot::Receiver<anyhow::Result<()>>,
}

impl Runtime {
    /// The address the UI opens.
    pub fn url(&self) -> String {
        format!("{}://{}/", self.scheme, self.api)
    }

    /// Stops: the sync agent says offline to HQ and disconnects; the devices are let go.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.devices_stop.store(true, Ordering::Relaxed);
        self.agent
            .await
            .context("the sync agent stopped unexpectedly")?
    }

    /// Waits until the sync agent ends by itself (it only does on a fatal error).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.agent)
            .await
            .context("the sync agent stopped unexpectedly")?
    }
}

/// Starts everything; returns once the API listens.
pub async fn start(settings: Settings) -> anyhow::Result<Runtime> {
    if !settings.api.ip().is_loopback() && !settings.allow_lan {
        bail!(
            "the API address {} is not on loopback: set --allow-lan to let the back-office PC in",
            settings.api
        );
    }
    if settings.allow_lan && settings.tls_cert.is_none() {
        bail!(
            "--allow-lan needs the station's certificate (--tls-cert and --tls-key): PINs and \
             session tokens must not cross the LAN in clear; make one with \
             scripts/make-station-certificate.sh"
        );
    }
    let mut station = Station::open(&settings.db)
        .with_context(|| format!("opening {}", settings.db.display()))?;
    let id = station.info().station_id.to_string();
    // Audit entries an earlier version wrote but did not send go to HQ now, once.
    station
        .send_earlier_audit(jiff::Timestamp::now())
        .context("sending earlier audit entries to HQ")?;
    drop(station);
    let nozzles = NozzleMap::parse(&settings.nozzles)?;
    if settings.pump_line.is_none() && !nozzles.is_empty() {
        bail!("--nozzle needs --pump-line: the pumps' serial line");
    }

    let (host, port) = settings
        .broker
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .with_context(|| format!("--broker `{}` is not host:port", settings.broker))?;
    let mut link = LinkConfig::new(host, port, id.clone());
    link.credentials = settings.mqtt_password.clone().map(|p| (id.clone(), p));
    link.tls_ca = settings.broker_ca.clone();
    let live = Live::new();
    let agent_config = AgentConfig {
        db: settings.db.clone(),
        link,
        stream: StreamConfig {
            resend_after: Duration::from_secs(settings.resend_after_secs),
            ..StreamConfig::default()
        },
        poll: Duration::from_millis(settings.poll_ms),
        live: live.clone(),
        read_schema: settings.read_schema,
    };

    // The WAL is copied into the database from its own connection, so a sale never waits for it.
    let checkpointer = Checkpointer::open(&settings.db)?;
    let devices_stop = Arc::new(AtomicBool::new(false));
    let stop_checkpoints = devices_stop.clone();
    std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || {
            while !stop_checkpoints.load(Ordering::Relaxed) {
                if let Err(error) = checkpointer.checkpoint_once() {
                    tracing::warn!(%error, "WAL checkpoint failed");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })?;

    if let Some(port) = settings.printer.clone() {
        live.update(|s| s.printer = DeviceState::CONNECTING);
        let config = PrinterConfig {
            db: settings.db.clone(),
            port,
            business_registration_number: settings.business_number.clone(),
            address: settings.address.clone(),
            poll: Duration::from_millis(200),
        };
        let stop = devices_stop.clone();
        let live = live.clone();
        std::thread::Builder::new()
            .name("receipt-printer".into())
            .spawn(move || {
                if let Err(error) = printer::run(&config, &live, &stop) {
                    tracing::error!(%error, "the printer supervisor stopped");
                }
            })?;
    }

    if let Some(port) = settings.gauge.clone() {
        live.update(|s| s.gauge = DeviceState::CONNECTING);
        let config = GaugeConfig {
            db: settings.db.clone(),
            port,
            poll: Duration::from_millis(settings.gauge_poll_ms),
            volume_unit: settings.gauge_volume_unit,
        };
        let stop = devices_stop.clone();
        let live = live.clone();
        std::thread::Builder::new()
            .name("tank-gauge".into())
            .spawn(move || {
                if let Err(error) = gauge::run(&config, &live, &stop) {
                    tracing::error!(%error, "the tank gauge supervisor stopped");
                }
            })?;
    }

    let forecourt = match settings.pump_line.clone() {
        Some(port) => {
            let config = ForecourtConfig {
                db: settings.db.clone(),
                port,
                nozzles,
            };
            Some(forecourt::start(
                config,
                live.clone(),
                devices_stop.clone(),
            )?)
        }
        None => None,
    };

    let listener = tokio::net::TcpListener::bind(settings.api)
        .await
        .with_context(|| format!("listening on {}", settings.api))?;
    let api_address = listener.local_addr()?;
    let policy = SessionPolicy {
        idle_timeout: Duration::from_secs(settings.session_idle_secs),
        max_age: Duration::from_secs(settings.session_max_age_secs),
    };
    let api_state = ApiState::open(&settings.db, live, forecourt, policy)?;
    let hosts = AllowedHosts::new(api_address, &settings.lan_names);
    let router = api::router(api_state, settings.ui_dir.as_deref(), hosts);
    let scheme = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| {
                    format!(
                        "reading the station's certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let server = axum_server::from_tcp_rustls(listener.into_std()?, tls)?;
            tokio::spawn(async move {
                if let Err(error) = server.serve(router.into_make_service()).await {
                    tracing::error!(%error, "the API stopped");
                }
            });
            "https"
        }
        _ => {
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::error!(%error, "the API stopped");
                }
            });
            "http"
        }
    };

    // The agent keeps its station connection across awaits; it runs on a thread of its own.
    let (stop, stopped) = watch::channel(false);
    let (done, agent) = oneshot::channel();
    std::thread::Builder::new()
        .name("sync-agent".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| runtime.block_on(sync_agent::run(agent_config, stopped)));
            let _ = done.send(result);
        })?;
    Ok(Runtime {
        station: id,
        api: api_address,
        scheme,
        stop,
        devices_stop,
        agent,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
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
