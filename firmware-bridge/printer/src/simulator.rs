//! A simulated receipt printer: a pure state machine ([`PrinterSimulator`]) plus a runner
//! ([`run_on_pty`]) that serves it on one end of a pseudo-terminal pair.
//!
//! Unlike a real printer, a job received while the paper is out or the cover is open is
//! discarded rather than buffered: the simulator "prints" nothing then, so a test can tell
//! that a reprint after recovery is what got recorded.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

use crate::decode::{DecodeError, DecodedReceipt, DecoderEvent, StreamDecoder};
use crate::status::{Cover, Paper, PrinterState, StatusRequest};

/// The simulated printer: feed it bytes from the host, get back reply bytes and receipts.
#[derive(Debug)]
pub struct PrinterSimulator {
    decoder: StreamDecoder,
    cover: Cover,
    paper: Paper,
}

/// What the simulator did with one chunk of input.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SimulatorOutput {
    /// Bytes to send back to the host (status replies).
    pub reply: Vec<u8>,
    /// Receipts printed.
    pub printed: Vec<DecodedReceipt>,
    /// Receipts received but not printed because the printer could not print.
    pub discarded: Vec<DecodedReceipt>,
}

/// A line on the simulator's control input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlCommand {
    /// `paper-out on|off`, `paper-near-end on|off`.
    Paper(Paper),
    /// `cover-open on|off`.
    Cover(Cover),
}

/// A control line that is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown control line {0:?}; expected `paper-out on|off`, `paper-near-end on|off` or `cover-open on|off`"
)]
pub struct ControlError(pub String);

impl ControlCommand {
    /// Parse one control line.
    ///
    /// # Errors
    /// [`ControlError`] for anything else.
    pub fn parse(line: &str) -> Result<Self, ControlError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["paper-out", "on"] => Ok(Self::Paper(Paper::Out)),
            ["paper-out" | "paper-near-end", "off"] => Ok(Self::Paper(Paper::Adequate)),
            ["paper-near-end", "on"] => Ok(Self::Paper(Paper::NearEnd)),
            ["cover-open", "on"] => Ok(Self::Cover(Cover::Open)),
            ["cover-open", "off"] => Ok(Self::Cover(Cover::Closed)),
            _ => Err(ControlError(line.to_owned())),
        }
    }
}

impl Default for PrinterSimulator {
    fn default() -> Self {
        Self {
            decoder: StreamDecoder::default(),
            cover: Cover::Closed,
            paper: Paper::Adequate,
        }
    }
}

impl PrinterSimulator {
    /// The printer's current state, as `DLE EOT` reports it.
    #[must_use]
    pub fn state(&self) -> PrinterState {
        PrinterState::from_sensors(self.cover, self.paper)
    }

    /// Apply a control command (the operator opened the cover, the paper ran out, ...).
    pub fn apply(&mut self, command: ControlCommand) {
        match command {
            ControlCommand::Paper(paper) => self.paper = paper,
            ControlCommand::Cover(cover) => self.cover = cover,
        }
    }

    /// Handle bytes from the host.
    ///
    /// # Errors
    /// [`DecodeError`] if the bytes are not ESC/POS this printer understands; the job in
    /// progress is dropped.
    pub fn handle_input(&mut self, bytes: &[u8]) -> Result<SimulatorOutput, DecodeError> {
        let mut output = SimulatorOutput::default();
        for event in self.decoder.push(bytes)? {
            match event {
                DecoderEvent::StatusRequested(n) => {
                    // Unknown n (e.g. 3, error cause) get no answer, like an unsupported query.
                    if let Some(request) = StatusRequest::from_n(n) {
                        output.reply.push(request.reply_byte(&self.state()));
                    }
                }
                DecoderEvent::Receipt(receipt) => {
                    if self.state().can_print() {
                        output.printed.push(receipt);
                    } else {
                        output.discarded.push(receipt);
                    }
                }
            }
        }
        Ok(output)
    }
}

/// Serve a [`PrinterSimulator`] on a new pty pair until `control` ends.
///
/// Writes JSON lines to `events`: first `{"event":"ready","path":...}` with the path a
/// host opens as its serial port, then `receipt`, `discarded`, `state` (after each control
/// line) and `error` events. Control lines come from `control` (e.g. stdin).
///
/// # Errors
/// Creating the pty, or reading/writing it, failed.
pub fn run_on_pty(
    control: impl BufRead + Send + 'static,
    mut events: impl Write,
) -> anyhow::Result<()> {
    // `device_side` stays open for the whole run, so reads on `host_side` do not fail while no
    // host has the path open. `pair()` takes no lock on it (unlike `set_exclusive`, which would
    // take a shared flock), so a host can still open the path exclusively.
    let (mut host_side, device_side) = TTYPort::pair()?;
    host_side.set_timeout(Duration::from_millis(50))?;
    let path = device_side
        .name()
        .ok_or_else(|| anyhow::anyhow!("the pty has no path"))?;
    emit(
        &mut events,
        &serde_json::json!({"event": "ready", "path": path}),
    )?;

    let (control_sender, control_lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in control.lines() {
            let Ok(line) = line else { break };
            if control_sender.send(line).is_err() {
                break;
            }
        }
    });

    let mut simulator = PrinterSimulator::default();
    let mut buffer = [0_u8; 4096];
    loop {
        loop {
            match control_lines.try_recv() {
                Ok(line) => match ControlCommand::parse(&line) {
                    Ok(command) => {
                        simulator.apply(command);
                        emit(&mut events, &state_event(&simulator.state()))?;
                    }
                    Err(error) => emit(
                        &mut events,
                        &serde_json::json!({"event": "error", "message": error.to_string()}),
                    )?,
                },
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return Ok(()),
            }
        }
        let count = match host_side.read(&mut buffer) {
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::TimedOut => continue,
            Err(error) => return Err(error.into()),
        };
        match simulator.handle_input(&buffer[..count]) {
            Ok(output) => {
                if !output.reply.is_empty() {
                    host_side.write_all(&output.reply)?;
                    host_side.flush()?;
                }
                for receipt in output.printed {
                    emit(&mut events, &receipt_event("receipt", &receipt))?;
                }
                for receipt in output.discarded {
                    emit(&mut events, &receipt_event("discarded", &receipt))?;
                }
            }
            Err(error) => emit(
                &mut events,
                &serde_json::json!({"event": "error", "message": error.to_string()}),
            )?,
        }
    }
}

fn emit(events: &mut impl Write, value: &serde_json::Value) -> io::Result<()> {
    writeln!(events, "{value}")?;
    events.flush()
}

fn receipt_event(kind: &str, receipt: &DecodedReceipt) -> serde_json::Value {
    serde_json::json!({
        "event": kind,
        "lines": receipt.lines,
        "qr": receipt.qr_payload,
        "cut": receipt.cut,
    })
}

fn state_event(state: &PrinterState) -> serde_json::Value {
    serde_json::json!({
        "event": "state",
        "online": state.connection == crate::status::Connection::Online,
        "cover": format!("{:?}", state.cover).to_lowercase(),
        "paper": format!("{:?}", state.paper).to_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines() {
        assert_eq!(
            ControlCommand::parse("paper-out on"),
            Ok(ControlCommand::Paper(Paper::Out))
        );
        assert_eq!(
            ControlCommand::parse(" cover-open  off "),
            Ok(ControlCommand::Cover(Cover::Closed))
        );
        assert!(ControlCommand::parse("paper-out maybe").is_err());
    }

    #[test]
    fn answers_status_and_discards_jobs_while_paper_is_out() {
        let mut simulator = PrinterSimulator::default();
        simulator.apply(ControlCommand::Paper(Paper::Out));
        let output = simulator
            .handle_input(&[
                0x10, 0x04, 0x01, 0x10, 0x04, 0x03, 0x10, 0x04, 0x04, b'x', b'\n', 0x1D, 0x56, 0x00,
            ])
            .unwrap();
        // Offline; n = 3 is not answered; paper end and near end.
        assert_eq!(output.reply, vec![0x1A, 0x7E]);
        assert!(output.printed.is_empty());
        assert_eq!(output.discarded.len(), 1);

        simulator.apply(ControlCommand::Paper(Paper::Adequate));
        let output = simulator.handle_input(b"x\n\x1dV\x00").unwrap();
        assert_eq!(output.printed[0].lines, vec!["x".to_owned()]);
    }
}
