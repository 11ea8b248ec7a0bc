//! `hub`: HQ's hub process. Reads its settings, opens the database, starts the embedded broker
//! (unless an external one is named), the sync agent and the HTTP API; prints one JSON line with
//! where it listens once it does; stops on Ctrl-C or SIGTERM.
#![allow(clippy::print_stdout)] // its start-up line on stdout is what a supervisor waits for

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cloud_hub::http::{AppState, router};
use cloud_hub::metrics::Metrics;
use cloud_hub::sync::SyncConfig;
use cloud_hub::{Hub, broker};
use sync_mqtt::LinkConfig;
use sync_protocol::stream::StreamConfig;
use tokio::sync::{Notify, watch};

#[derive(Debug, Parser)]
#[command(
    name = "hub",
    version,
    about = "HQ's hub: HTTP API, read models and MQTT sync with the stations."
)]
struct Settings {
    /// The hub database file (created if missing).
    #[arg(long, env = "HUB_DB", default_value = "var/hub/hub.db")]
    db: PathBuf,
    /// Where the HTTP API listens (port 0 picks a free one).
    #[arg(long, env = "HUB_HTTP", default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// An external MQTT broker (host:port), e.g. Mosquitto. Without it the hub starts its
    /// embedded single-host broker on `--embedded-broker`.
    #[arg(long, env = "HUB_BROKER")]
    broker: Option<String>,
    /// Where the embedded broker listens when no external broker is named.
    #[arg(long, env = "HUB_EMBEDDED_BROKER", default_value = "127.0.0.1:1883")]
    embedded_broker: SocketAddr,
    /// Connect to the external broker over TLS, trusting this CA certificate (PEM).
    #[arg(long, env = "HUB_BROKER_CA")]
    broker_ca: Option<PathBuf>,
    /// The hub's MQTT username and password at an external broker.
    #[arg(long, env = "HUB_MQTT_USERNAME", default_value = "hub")]
    mqtt_username: String,
    #[arg(
        long,
        env = "HUB_MQTT_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    mqtt_password: Option<String>,
    /// The first HQ user, created when the database has none.
    #[arg(long, env = "HUB_ADMIN_USER", default_value = "admin")]
    admin_user: String,
    #[arg(
        long,
        env = "HUB_ADMIN_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    admin_password: Option<String>,
    /// HQ's dashboard: the folder of its built files (`ui/dist-hq`), served at `/`.
    #[arg(long, env = "HUB_DASHBOARD_DIR")]
    dashboard_dir: Option<PathBuf>,
    /// A long-lived bearer token that may read /metrics only (for Prometheus).
    #[arg(long, env = "HUB_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Seconds without an acknowledgement before a station's messages are sent again.
    #[arg(long, default_value_t = 3)]
    resend_after_secs: u64,
    /// Read messages of schema versions up to this one only, holding newer ones as a hub of
    /// that version would (for trying a staggered upgrade).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=i64::from(sync_protocol::SCHEMA_VERSION)))]
    read_schema: Option<u16>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttd=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::parse();

    if let Some(parent) = settings.db.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    // One hub process per database: a second copy started by mistake on the same files is
    // refused here, before it touches the broker. Held until the process ends.
    let _one_process = lock_database(&settings.db)?;
    let metrics = Arc::new(Metrics::default());
    let mut hub = Hub::open(&settings.db, metrics)
        .with_context(|| format!("opening {}", settings.db.display()))?;
    if !hub.has_hq_users()? {
        let password = settings
            .admin_password
            .clone()
            .context("the hub has no HQ user yet: give --admin-password (or HUB_ADMIN_PASSWORD) for the first one")?;
        hub.add_hq_user(&settings.admin_user, &password, jiff::Timestamp::now())?;
        tracing::info!(user = settings.admin_user, "first HQ user created");
    }
    if let Some(newest) = settings.read_schema {
        hub.read_schema_up_to(newest);
    }
    let hub = hub.shared();

    let (host, port, credentials) = match &settings.broker {
        Some(address) => {
            let (host, port) = address
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                .with_context(|| format!("--broker `{address}` is not host:port"))?;
            let credentials = settings
                .mqtt_password
                .clone()
                .map(|p| (settings.mqtt_username.clone(), p));
            (host, port, credentials)
        }
        None => {
            broker::start(settings.embedded_broker).with_context(|| {
                format!(
                    "starting the embedded broker on {}",
                    settings.embedded_broker
                )
            })?;
            (
                settings.embedded_broker.ip().to_string(),
                settings.embedded_broker.port(),
                None,
            )
        }
    };
    let me = cloud_hub::sync::hub_status(&hub);
    let mut link = LinkConfig::new(host.clone(), port, settings.mqtt_username.clone());
    link.credentials = credentials;
    link.tls_ca = settings.broker_ca.clone();
    let sync_config = SyncConfig {
        link,
        stream: StreamConfig {
            resend_after: Duration::from_secs(settings.resend_after_secs),
            ..StreamConfig::default()
        },
        tick: Duration::from_millis(200),
    };
    let wake = Arc::new(Notify::new());
    let (stop, stopped) = watch::channel(false);
    let link =
        sync_mqtt::Link::start(sync_config.link.clone()).context("starting the MQTT link")?;
    let mut sync = tokio::spawn(cloud_hub::sync::run(
        hub.clone(),
        link,
        sync_config,
        wake.clone(),
        me,
        stopped.clone(),
    ));

    let listener = tokio::net::TcpListener::bind(settings.http)
        .await
        .with_context(|| format!("listening on {}", settings.http))?;
    let http = listener.local_addr()?;
    println!(
        "{}",
        serde_json::json!({"http": http.to_string(), "mqtt": format!("{host}:{port}"), "embedded_broker": settings.broker.is_none()})
    );
    tracing::info!(%http, mqtt = %format!("{host}:{port}"), "hub ready");
    let app = router(AppState {
        hub,
        wake,
        metrics_token: settings.metrics_token.clone(),
        dashboard: settings.dashboard_dir.clone(),
    });
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping");
        let _ = stop.send(true);
    });
    let mut shutdown = stopped;
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = shutdown.changed().await;
    });
    tokio::select! {
        served = serve => {
            served.context("serving HTTP")?;
            let _ = sync.await;
            Ok(())
        }
        // A hub that stood down for another one stops altogether: an operator sees it exit
        // with the reason, rather than a hub that looks alive and answers no station.
        synced = &mut sync => match synced {
            Ok(Err(fenced)) => Err(anyhow::Error::new(fenced)),
            Ok(Ok(())) => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context("the sync agent stopped")),
        },
    }
}

/// Takes an exclusive lock on `<db>.lock` for as long as the returned file lives.
fn lock_database(db: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = db.with_file_name(format!(
        "{}.lock",
        db.file_name()
            .map_or_else(|| "hub.db".into(), |n| n.to_string_lossy())
    ));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another hub process already uses {}: stop it first (one hub per database)",
            db.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("locking {}", path.display()))
        }
    }
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
