//! `settlement`: commission settlement's process. Opens its database, follows HQ's event feed
//! from its stored position on a thread of its own, and serves its API; prints one JSON line
//! with where it listens once it does; stops on Ctrl-C or SIGTERM.
#![allow(clippy::print_stdout)] // its start-up line on stdout is what a supervisor waits for

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use anyhow::Context;
use clap::Parser;
use commission_settlement::Settlement;
use commission_settlement::catch_up::follow;
use commission_settlement::feed::FeedClient;
use commission_settlement::http::{AppState, router};

#[derive(Debug, Parser)]
#[command(
    name = "settlement",
    version,
    about = "Commission settlement for consignment-run stations, following HQ's event feed."
)]
struct Settings {
    /// Settlement's own database (never the hub's).
    #[arg(
        long,
        env = "SETTLEMENT_DB",
        default_value = "var/settlement/settlement.db"
    )]
    db: PathBuf,
    /// The hub's base URL: its event feed, and its session check for API callers.
    #[arg(long, env = "SETTLEMENT_HUB", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// The feed consumer's token an HQ administrator made (`POST /api/feed/consumers`).
    #[arg(long, env = "SETTLEMENT_FEED_TOKEN", hide_env_values = true)]
    feed_token: String,
    #[arg(long, env = "SETTLEMENT_HTTP", default_value = "127.0.0.1:8090")]
    http: SocketAddr,
    /// Origins whose pages may call the API (HQ's dashboard, e.g. http://127.0.0.1:8080).
    #[arg(
        long = "allow-origin",
        env = "SETTLEMENT_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    allow_origins: Vec<String>,
    /// Events asked of the feed at a time (1 to 5,000).
    #[arg(long, default_value_t = commission_settlement::catch_up::PAGE,
          value_parser = clap::value_parser!(u32).range(1..=5_000))]
    page_size: u32,
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
    if let Some(parent) = settings.db.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let settlement = Settlement::open(&settings.db)
        .with_context(|| format!("opening {}", settings.db.display()))?;
    let settlement = Arc::new(std::sync::Mutex::new(settlement));
    let hub = settings.hub.trim_end_matches('/').to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let head = Arc::new(AtomicU64::new(0));
    let follower = {
        let (settlement, stop, head) = (settlement.clone(), stop.clone(), head.clone());
        let page_size = settings.page_size;
        // The feed's client blocks, so it is made (and dropped) on the follower's own thread,
        // outside the async runtime.
        let (hub, token) = (hub.clone(), settings.feed_token.clone());
        std::thread::spawn(move || match FeedClient::new(&hub, &token) {
            Ok(feed) => follow(settlement, feed, stop, head, page_size),
            Err(error) => tracing::error!(%error, "the feed's client could not be made"),
        })
    };
    let state = AppState {
        settlement,
        hub,
        http: reqwest::Client::new(),
        head,
    };
    let listener = tokio::net::TcpListener::bind(settings.http)
        .await
        .with_context(|| format!("listening on {}", settings.http))?;
    let address = listener.local_addr()?;
    println!("{}", serde_json::json!({"http": address.to_string()}));
    axum::serve(listener, router(state, &settings.allow_origins))
        .with_graceful_shutdown(shutdown())
        .await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // The follower may be in a long-poll of up to ten seconds; its work is committed page by
    // page, so the process need not wait for it.
    drop(follower);
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
