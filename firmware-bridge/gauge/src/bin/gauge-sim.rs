//! `gauge-sim`: a simulated TLS-3xx console on a pseudo-terminal.
//!
//! It opens a pty pair, keeps the master end and prints the other end's path as one JSON line
//! on stdout: `{"event":"ready","path":"/dev/pts/7"}`. A station program opens that path as
//! if it were the console's serial port. Control lines on stdin (`sale 1 40`, `deliver 2 5000`,
//! `pause on`, `pause off`, `corrupt-next`, `display-only on`, `volume-unit us-gallon`) change
//! the simulation; each is acknowledged with a JSON line (`applied` or `rejected`) once it is in
//! effect, so a test can await it. The program ends when stdin closes.
//!
//! Options set the console up before the line opens: `--display-only` (it answers only display
//! format) and `--volume-unit litre|us-gallon|imperial-gallon` (the unit it reports volumes in).

// Stdout is this program's interface: the ready line and the acknowledgements.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, Write};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use serialport::{SerialPort, TTYPort};
use tank_gauge::GaugeSimulator;
use tank_gauge::pty::{console_time, serve};

fn main() -> anyhow::Result<()> {
    let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks())?;
    for line in setup_lines(std::env::args().skip(1))? {
        simulator
            .apply_control(&line, console_time())
            .with_context(|| format!("setting up the console: {line}"))?;
    }
    let simulator = Arc::new(Mutex::new(simulator));
    let (mut master, slave) = TTYPort::pair().context("opening a pseudo-terminal pair")?;
    let path = slave.name().context("the pseudo-terminal has no path")?;
    master.set_timeout(Duration::from_secs(1))?;
    println!("{}", serde_json::json!({ "event": "ready", "path": path }));
    std::io::stdout().flush()?;

    let serial_side = Arc::clone(&simulator);
    std::thread::spawn(move || {
        // Runs for as long as the program does.
        let running = AtomicBool::new(true);
        if let Err(error) = serve(&mut master, &serial_side, &running) {
            eprintln!("gauge-sim: the line: {error}");
        }
    });

    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading control lines")?;
        if line.trim().is_empty() {
            continue;
        }
        let result = simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply_control(&line, console_time());
        let ack = match result {
            Ok(()) => serde_json::json!({ "event": "applied", "line": line }),
            Err(error) => {
                serde_json::json!({ "event": "rejected", "line": line, "error": error.to_string() })
            }
        };
        println!("{ack}");
        std::io::stdout().flush()?;
    }
    // The slave end stays open until here, so the master never sees a hang-up while a station
    // closes and reopens the port.
    drop(slave);
    Ok(())
}

/// The command-line options as the control lines they stand for.
fn setup_lines(mut args: impl Iterator<Item = String>) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--display-only" => lines.push("display-only on".to_owned()),
            "--volume-unit" => {
                let unit = args
                    .next()
                    .context("--volume-unit needs litre, us-gallon or imperial-gallon")?;
                lines.push(format!("volume-unit {unit}"));
            }
            other => bail!(
                "unknown option {other:?}: gauge-sim [--display-only] [--volume-unit litre|us-gallon|imperial-gallon]"
            ),
        }
    }
    Ok(lines)
}
