//! The simulator's end of a pseudo-terminal: the loop that answers the station's commands with
//! the simulated console's replies, reading the console's clock. The `gauge-sim` binary runs it;
//! so do tests that keep the simulator in-process.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use forecourt_protocols::tls::GaugeTime;
use serialport::TTYPort;

use crate::GaugeSimulator;

/// Answers commands arriving on `master` until `running` turns false or the line fails. Set a
/// read timeout on `master` first: `running` is looked at after every read and every timeout.
///
/// # Errors
/// The I/O error that ended the loop.
pub fn serve(
    master: &mut TTYPort,
    simulator: &Mutex<GaugeSimulator>,
    running: &AtomicBool,
) -> std::io::Result<()> {
    let mut buffer = [0u8; 256];
    while running.load(Ordering::Relaxed) {
        let count = match master.read(&mut buffer) {
            Ok(count) => count,
            Err(error) if error.kind() == ErrorKind::TimedOut => continue,
            Err(error) => return Err(error),
        };
        let reply = simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handle_input(buffer.get(..count).unwrap_or_default(), console_time());
        if !reply.is_empty() {
            master.write_all(&reply)?;
            master.flush()?;
        }
    }
    Ok(())
}

/// The console's clock: local time, as a console on a station's wall shows it.
#[must_use]
pub fn console_time() -> GaugeTime {
    let now = jiff::ZonedDateTime::now();
    GaugeTime {
        year: u16::try_from(now.year()).unwrap_or(2000),
        month: u8::try_from(now.month()).unwrap_or(1),
        day: u8::try_from(now.day()).unwrap_or(1),
        hour: u8::try_from(now.hour()).unwrap_or(0),
        minute: u8::try_from(now.minute()).unwrap_or(0),
    }
}
