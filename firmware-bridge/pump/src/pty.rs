//! The simulator's end of a pseudo-terminal: the loop that answers the station's blocks with the
//! simulated pumps' replies. The `pump-sim` binary runs it; so do tests that keep the simulator
//! in-process to lift and hang up nozzles directly.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serialport::TTYPort;

use crate::PumpSimulator;

/// Answers blocks arriving on `master` until `running` turns false or the line fails. Set a read
/// timeout on `master` first: the clock advances fillings on every read and at least every
/// timeout.
///
/// # Errors
/// The I/O error that ended the loop.
pub fn serve(
    master: &mut TTYPort,
    simulator: &Mutex<PumpSimulator>,
    running: &AtomicBool,
) -> std::io::Result<()> {
    let mut buffer = [0u8; 512];
    while running.load(Ordering::Relaxed) {
        let count = match master.read(&mut buffer) {
            Ok(count) => count,
            Err(error) if error.kind() == ErrorKind::TimedOut => {
                simulator
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .tick(Instant::now());
                continue;
            }
            Err(error) => return Err(error),
        };
        let reply = simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handle_input(Instant::now(), buffer.get(..count).unwrap_or_default());
        if !reply.is_empty() {
            master.write_all(&reply)?;
            master.flush()?;
        }
    }
    Ok(())
}
