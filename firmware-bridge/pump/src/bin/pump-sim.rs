//! `pump-sim`: simulated DART pumps on a pseudo-terminal.
//!
//! It opens a pty pair, keeps the master end and prints the other end's path as one JSON line
//! on stdout: `{"event":"ready","path":"/dev/pts/7"}`. A station program opens that path as the
//! pump line. Control lines on stdin (`lift 50 1`, `hang 50`, `mute 51`, `unmute 51`,
//! `noise 50` for line noise instead of the pump's next answer, `meter 50 1 500` to move nozzle
//! 1's meters by 5.00 L without a filling; pumps by hex address) act on the pumps; each is
//! acknowledged with a JSON line (`applied` or
//! `rejected`) once it is in effect, so a test can await it. The program ends when stdin closes.
//!
//! Options: `--pumps N` (pumps at 50H upwards, default 2) and `--flow-rate CL_PER_MIN`
//! (default 4000, that is 40 L/min).

// Stdout is this program's interface: the ready line and the acknowledgements.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, Write};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pump_controller::{FlowRate, PumpSimulator, pty};
use serialport::{SerialPort, TTYPort};

fn main() -> anyhow::Result<()> {
    let (count, flow_rate) = options()?;
    let simulator = PumpSimulator::new(PumpSimulator::demo_pumps(count, flow_rate))?;
    let simulator = Arc::new(Mutex::new(simulator));
    let (mut master, slave) = TTYPort::pair().context("opening a pseudo-terminal pair")?;
    let path = slave.name().context("the pseudo-terminal has no path")?;
    master.set_timeout(Duration::from_millis(100))?;
    println!("{}", serde_json::json!({ "event": "ready", "path": path }));
    std::io::stdout().flush()?;

    let serial_side = Arc::clone(&simulator);
    std::thread::spawn(move || {
        if let Err(error) = pty::serve(&mut master, &serial_side, &AtomicBool::new(true)) {
            eprintln!("pump-sim: the line: {error}");
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
            .apply_control(&line, Instant::now());
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

fn options() -> anyhow::Result<(u8, FlowRate)> {
    let mut count = 2;
    let mut flow_rate = FlowRate::CAR_NOZZLE;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--pumps" => count = value.parse().context("--pumps")?,
            "--flow-rate" => {
                flow_rate = FlowRate::centilitres_per_minute(value.parse().context("--flow-rate")?)
                    .context("--flow-rate must be above zero")?;
            }
            other => bail!("unknown option {other}"),
        }
    }
    Ok((count, flow_rate))
}
