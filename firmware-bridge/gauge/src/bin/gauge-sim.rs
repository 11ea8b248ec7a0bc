//! `gauge-sim`: a simulated TLS-3xx console on a pseudo-terminal.
//!
//! It opens a pty pair, keeps the master end and prints the other end's path as one JSON line
//! on stdout: `{"event":"ready","path":"/dev/pts/7"}`. A station program opens that path as
//! if it were the console's serial port. Control lines on stdin (`sale 1 40`, `deliver 2 5000`,
//! `pause on`, `pause off`, `corrupt-next`) change the simulation; each is acknowledged with a
//! JSON line (`applied` or `rejected`) once it is in effect, so a test can await it. The program
//! ends when stdin closes.

// Stdout is this program's interface: the ready line and the acknowledgements.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, ErrorKind, Read, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use forecourt_protocols::tls::GaugeTime;
use serialport::{SerialPort, TTYPort};
use tank_gauge::GaugeSimulator;

fn main() -> anyhow::Result<()> {
    let simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks())?;
    let simulator = Arc::new(Mutex::new(simulator));
    let (mut master, slave) = TTYPort::pair().context("opening a pseudo-terminal pair")?;
    let path = slave.name().context("the pseudo-terminal has no path")?;
    master.set_timeout(Duration::from_secs(1))?;
    println!("{}", serde_json::json!({ "event": "ready", "path": path }));
    std::io::stdout().flush()?;

    let serial_side = Arc::clone(&simulator);
    std::thread::spawn(move || serve_line(&mut master, &serial_side));

    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading control lines")?;
        if line.trim().is_empty() {
            continue;
        }
        let result = simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply_control(&line, now());
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

/// Answers commands arriving on the master end of the pty, for as long as the program runs.
fn serve_line(master: &mut TTYPort, simulator: &Mutex<GaugeSimulator>) {
    let mut buffer = [0u8; 256];
    loop {
        let count = match master.read(&mut buffer) {
            Ok(count) => count,
            Err(error) if error.kind() == ErrorKind::TimedOut => continue,
            Err(error) => {
                eprintln!("gauge-sim: reading the line: {error}");
                return;
            }
        };
        let reply = simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handle_input(buffer.get(..count).unwrap_or_default(), now());
        if !reply.is_empty()
            && let Err(error) = master.write_all(&reply).and_then(|()| master.flush())
        {
            eprintln!("gauge-sim: writing the line: {error}");
            return;
        }
    }
}

/// The console's clock: local time, as a console on a station's wall shows it.
fn now() -> GaugeTime {
    let now = jiff::ZonedDateTime::now();
    GaugeTime {
        year: u16::try_from(now.year()).unwrap_or(2000),
        month: u8::try_from(now.month()).unwrap_or(1),
        day: u8::try_from(now.day()).unwrap_or(1),
        hour: u8::try_from(now.hour()).unwrap_or(0),
        minute: u8::try_from(now.minute()).unwrap_or(0),
    }
}
