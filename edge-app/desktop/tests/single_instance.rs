//! The single-instance guard, through the real desktop app: on a private D-Bus session bus, the
//! app is launched as the end-to-end test launches it (Xvfb, tauri-driver, WebKitWebDriver); once
//! it shows its login screen, a second `station-desktop` is started directly, with the same flags
//! and database. The second must hand over to the first and exit by itself, successfully, without
//! a runtime or window of its own; the first must go on serving as before.
//!
//! Needs what the end-to-end test needs (see `desktop.rs`) and dbus-daemon (Debian: dbus-daemon).

mod support;

use std::collections::BTreeSet;
use std::fs::{self, File};

use anyhow::{Context, Result, anyhow, bail, ensure};
use support::{
    Driver, ProcessTree, STEP, SessionBus, Xvfb, app_args, descendants, describe_process,
    desktop_binary, log_in, prepare_station, processes_running, processes_with_env,
    single_instance_name, testid, ui_dist, wait_for,
};

/// What the app logs once its runtime listens, right before it opens its window.
const RUNTIME_STARTED: &str = "opening the POS window";

#[test]
fn a_second_launch_hands_over_to_the_running_app_and_exits() -> Result<()> {
    let ui = ui_dist()?;
    let dir = tempfile::tempdir()?;
    let db = prepare_station(dir.path())?;
    let bus = SessionBus::start(dir.path())?;
    let display = Xvfb::start()?;
    let driver = Driver::start(&display.display, dir.path(), Some(&bus.address))?;
    let binary = desktop_binary();
    let args = app_args(&db, &ui);
    let app = driver.launch(&binary, &args)?;
    app.visible(&testid("login-user"))?;

    // The first app holds the guard's name on the bus.
    let pids = processes_running(driver.process.pid(), &binary);
    let [first] = pids[..] else {
        bail!("expected one station-desktop under tauri-driver, found {pids:?}");
    };
    let guard = single_instance_name()?;
    ensure!(
        bus.owner_pid(&guard)? == Some(first),
        "{guard} is not owned by the app (pid {first}) on the test's bus"
    );
    let healthz = reqwest::Url::parse(&app.url()?)?.join("/healthz")?;
    let api_answers = || -> Result<()> {
        let body = reqwest::blocking::get(healthz.clone())
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::text)
            .with_context(|| format!("GET {healthz}"))?;
        ensure!(body == "ok", "GET {healthz} answered {body:?}");
        Ok(())
    };
    api_answers()?;

    // The second launch, as a user would start it again: same display, bus and flags.
    let second_log = dir.path().join("second.log");
    let output = File::create(&second_log)?;
    let mut second = ProcessTree::new(
        "the second station-desktop",
        driver
            .env
            .command(&binary)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    );
    let second_output = || fs::read_to_string(&second_log).unwrap_or_default();
    let status = wait_for("the second launch to exit", STEP, || second.try_wait())
        .map_err(|error| anyhow!("{error:#}; its output:\n{}", second_output()))?;
    ensure!(
        status.success(),
        "the second launch exited with {status}; its output:\n{}",
        second_output()
    );

    // One app, the first, and nothing left of the second on the bus.
    let pids = processes_running(driver.process.pid(), &binary);
    ensure!(
        pids == [first],
        "expected the first app alone under tauri-driver, found {pids:?}"
    );
    // The first app's tree is under tauri-driver; the bus's own tree is the bus.
    let known: BTreeSet<u32> = [driver.process.pid(), bus.process.pid()]
        .into_iter()
        .flat_map(|root| descendants(root).into_iter().chain([root]))
        .collect();
    let strays: Vec<String> = processes_with_env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .difference(&known)
        .map(|&pid| describe_process(pid))
        .collect();
    ensure!(
        strays.is_empty(),
        "processes of the second launch are still running on the test's bus: {}",
        strays.join(", ")
    );
    ensure!(
        bus.owner_pid(&guard)? == Some(first),
        "{guard} is no longer owned by the first app (pid {first})"
    );

    // One runtime started in all: the first app's output says so once, the second's never.
    let printed = second_output();
    ensure!(
        !printed.contains(RUNTIME_STARTED),
        "the second launch started a runtime; its output:\n{printed}"
    );
    let first_output = fs::read_to_string(&driver.log)?;
    let started = first_output.matches(RUNTIME_STARTED).count();
    ensure!(
        started == 1,
        "the app's output says {started} times that a runtime started (expected once):\n{}",
        driver.log_tail()
    );

    // The first app still serves, and its window still works.
    api_answers()?;
    log_in(&app, "kim", "1234")?;

    app.close()?;
    Ok(())
}
