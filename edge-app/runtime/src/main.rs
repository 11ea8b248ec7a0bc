//! `station-runtime`: the headless edge runtime of one station. Opens the station database,
//! keeps it in sync with HQ over MQTT, drives the station's devices and serves the POS API (and
//! the UI); prints one JSON line once started; stops on Ctrl-C or SIGTERM, saying offline first.
#![allow(clippy::print_stdout)] // its start-up line on stdout is what a supervisor waits for

use clap::Parser;
use station_runtime::app::{self, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "station-runtime",
    version,
    about = "A station's edge runtime: sync with HQ, the devices, and the POS API."
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Cli::parse().settings;
    let broker = settings.broker.clone();
    let mut runtime = app::start(settings).await?;
    println!(
        "{}",
        serde_json::json!({"station": runtime.station, "broker": broker, "api": runtime.api.to_string()})
    );
    tokio::select! {
        () = app::wait_for_signal() => runtime.shutdown().await,
        result = runtime.wait() => result,
    }
}
