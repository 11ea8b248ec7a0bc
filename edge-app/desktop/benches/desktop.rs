//! The desktop app's figures, through the real app under Xvfb and WebDriver (as its end-to-end
//! test drives it):
//!
//! - start-up: from launching `station-desktop` (the WebDriver new-session request) until the
//!   login screen is interactive (`login-user` displayed), over several launches: median and max;
//! - idle memory: the proportional set size (`Pss` of /proc/<pid>/smaps_rollup) of the app and
//!   all its descendants (WebKit's web and network processes), after it has sat idle on the login
//!   screen for a few seconds: median and max over the same launches.
//!
//! Run it with the release build of the `station` tool at hand (it prepares the database) and the
//! built UI:
//!
//! ```text
//! cargo build --release -p station-cli && cargo bench -p station-desktop --bench desktop
//! ```
//!
//! `DESKTOP_BENCH_RUNS` sets the number of launches (default 5), `DESKTOP_BENCH_IDLE_SECS` the
//! idle time before the memory is read (default 5).
#![allow(clippy::print_stdout)] // the figures are the output

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use support::{
    Driver, Xvfb, app_args, desktop_binary, prepare_station, processes_running, testid, tree_pss,
    ui_dist, wait_for,
};

fn main() -> Result<()> {
    let runs: usize = env_or("DESKTOP_BENCH_RUNS", 5)?;
    let idle = Duration::from_secs(env_or("DESKTOP_BENCH_IDLE_SECS", 5)?);
    ensure!(runs > 0, "DESKTOP_BENCH_RUNS must be at least 1");

    let ui = ui_dist()?;
    let dir = tempfile::tempdir()?;
    let db = prepare_station(dir.path())?;
    let display = Xvfb::start()?;
    let driver = Driver::start(&display.display, dir.path(), None)?;
    let app_binary = desktop_binary();
    let args = app_args(&db, &ui);

    let mut startup = Vec::new();
    let mut memory_kb = Vec::new();
    for run in 1..=runs {
        let launched = Instant::now();
        let app = driver.launch(&app_binary, &args)?;
        app.visible(&testid("login-user"))?;
        let elapsed = launched.elapsed();

        // Idle on the login screen, as the POS sits between customers.
        std::thread::sleep(idle);
        let pids = processes_running(driver.process.pid(), &app_binary);
        let [pid] = pids[..] else {
            anyhow::bail!("expected one station-desktop process, found {pids:?}");
        };
        let tree = tree_pss(pid)?;
        let total: u64 = tree.iter().map(|p| p.pss_kb).sum();
        let breakdown: Vec<String> = tree
            .iter()
            .map(|p| format!("{}[{}] {} MiB", p.name, p.pid, mib(p.pss_kb)))
            .collect();
        println!(
            "run {run}: start-up {} ms, idle PSS {} MiB ({})",
            millis(elapsed),
            mib(total),
            breakdown.join(", ")
        );
        startup.push(elapsed);
        memory_kb.push(total);

        app.close()?;
        wait_for("the app to exit", Duration::from_secs(30), || {
            Ok(processes_running(driver.process.pid(), &app_binary)
                .is_empty()
                .then_some(()))
        })?;
    }

    startup.sort();
    memory_kb.sort_unstable();
    println!();
    println!(
        "station-desktop ({} build), {runs} launches on Xvfb:",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "  start-up to an interactive login screen: median {} ms, max {} ms",
        millis(startup[startup.len() / 2]),
        millis(startup[startup.len() - 1])
    );
    println!(
        "  idle memory (PSS of the app and its WebKit processes, after {} s idle): median {} MiB, max {} MiB",
        idle.as_secs(),
        mib(memory_kb[memory_kb.len() / 2]),
        mib(memory_kb[memory_kb.len() - 1])
    );
    println!(
        "  reproduce: cargo build --release -p station-cli && cargo bench -p station-desktop --bench desktop"
    );
    Ok(())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(value) => value.parse().with_context(|| format!("{name}={value}")),
        Err(_) => Ok(default),
    }
}

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

/// kB as MiB with one decimal.
fn mib(kb: u64) -> String {
    format!("{}.{}", kb / 1024, kb % 1024 * 10 / 1024)
}
