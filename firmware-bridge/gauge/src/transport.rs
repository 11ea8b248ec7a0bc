//! The station's side of the gauge line: a serial port driven through
//! `forecourt_protocols::tls::TlsClient`.
//!
//! This adapter only moves bytes and reads the clock; framing, checksums, pairing replies with
//! commands and deadlines are the client's. One command is outstanding at a time:
//! [`GaugeLink::begin`] sends it, [`GaugeLink::poll`] does one read (bounded by the command's
//! deadline) and says whether the answer is complete, and [`GaugeLink::request`] is the trivial
//! loop over both.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use forecourt_protocols::tls::client::Reply;
use forecourt_protocols::tls::{
    Command, DeliveryReport, Format, Function, ReplyError, TankSelector, Thousandths, TlsClient,
    TlsEvent,
};
use serialport::{ClearBuffer, DataBits, Parity, SerialPort, StopBits};
use thiserror::Error;

use crate::simulator::Millilitres;

/// How the line is set up. The console's port settings are chosen on its front panel; this
/// default is 9600 baud, 7 data bits, even parity, 1 stop bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second.
    pub baud_rate: u32,
    /// Data bits per character.
    pub data_bits: DataBits,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
}

impl Default for LineSettings {
    fn default() -> Self {
        Self {
            baud_rate: 9600,
            data_bits: DataBits::Seven,
            parity: Parity::Even,
            stop_bits: StopBits::One,
        }
    }
}

/// One tank of an inventory, volumes in millilitres (the console set up in litres).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankLevel {
    /// Tank number.
    pub tank: u8,
    /// Product code character.
    pub product_code: char,
    /// Gross product volume.
    pub volume: Millilitres,
    /// Volume corrected to the reference temperature.
    pub tc_volume: Millilitres,
    /// Room left in the tank.
    pub ullage: Millilitres,
    /// Product height, micrometres (thousandths of the console's millimetres).
    pub height: Thousandths,
    /// Water height, micrometres.
    pub water: Thousandths,
    /// Product temperature, thousandths of a degree Celsius.
    pub temperature: Thousandths,
    /// A delivery is in progress.
    pub delivery_in_progress: bool,
}

/// Why a command got no usable answer.
#[derive(Debug, Error)]
pub enum GaugeError {
    /// The port could not be opened or set up.
    #[error("cannot open the gauge port {path}: {source}")]
    Open {
        /// The port's path.
        path: String,
        /// Why.
        source: serialport::Error,
    },
    /// Reading or writing the port failed.
    #[error("gauge line I/O: {0}")]
    Io(#[from] std::io::Error),
    /// No complete reply before the deadline.
    #[error("the gauge did not answer {command} in time ({garbage_bytes} stray bytes seen)")]
    TimedOut {
        /// The command, for instance `i20100`.
        command: String,
        /// Bytes on the line that were no reply.
        garbage_bytes: usize,
    },
    /// The reply was damaged on the line.
    #[error("the gauge's reply has checksum {received:04X}, its content gives {computed:04X}")]
    BadChecksum {
        /// Checksum carried.
        received: u16,
        /// Checksum computed.
        computed: u16,
    },
    /// The console does not know the command (`9999FF1B`).
    #[error("the gauge does not know the command")]
    NotUnderstood,
    /// A reply that is framed but cannot be read: a wrong echo, a bad field, no checksum.
    #[error("the gauge's reply cannot be read: {0}")]
    Malformed(ReplyError),
    /// A reply of another kind than the command asks for.
    #[error("the gauge answered with another report than asked")]
    UnexpectedReport,
    /// A command is already waiting for its reply.
    #[error("a command is already outstanding")]
    Busy,
}

impl GaugeError {
    /// A stable code for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Open { .. } => "gauge.open",
            Self::Io(_) => "gauge.io",
            Self::TimedOut { .. } => "gauge.timed_out",
            Self::BadChecksum { .. } => "gauge.bad_checksum",
            Self::NotUnderstood => "gauge.not_understood",
            Self::Malformed(_) => "gauge.malformed",
            Self::UnexpectedReport => "gauge.unexpected_report",
            Self::Busy => "gauge.busy",
        }
    }
}

/// What one [`GaugeLink::poll`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still waiting; this many bytes were read in this step.
    Waiting {
        /// Bytes read.
        bytes_read: usize,
    },
    /// The answer.
    Answered(Reply),
}

/// A tank gauge console on a serial line.
#[derive(Debug)]
pub struct GaugeLink {
    port: Box<dyn SerialPort>,
    client: TlsClient,
    garbage_bytes: usize,
}

impl GaugeLink {
    /// Opens the port at `path`; each command gets `timeout` to be answered.
    ///
    /// # Errors
    /// [`GaugeError::Open`] when the port cannot be opened with these settings.
    pub fn open(path: &str, settings: LineSettings, timeout: Duration) -> Result<Self, GaugeError> {
        let port = serialport::new(path, settings.baud_rate)
            .data_bits(settings.data_bits)
            .parity(settings.parity)
            .stop_bits(settings.stop_bits)
            .flow_control(serialport::FlowControl::None)
            .timeout(timeout)
            .open()
            .map_err(|source| GaugeError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self::from_port(port, timeout))
    }

    /// Drives a port that is already open.
    #[must_use]
    pub fn from_port(port: Box<dyn SerialPort>, timeout: Duration) -> Self {
        Self {
            port,
            client: TlsClient::new(timeout),
            garbage_bytes: 0,
        }
    }

    /// The in-tank inventory (function 201, computer format).
    ///
    /// # Errors
    /// A [`GaugeError`] when there is no usable answer.
    pub fn inventory(&mut self, tank: TankSelector) -> Result<Vec<TankLevel>, GaugeError> {
        let command = Command {
            format: Format::Computer,
            function: Function::InTankInventory,
            tank,
        };
        let Reply::Inventory(report) = self.request(command)? else {
            return Err(GaugeError::UnexpectedReport);
        };
        Ok(report
            .tanks
            .into_iter()
            .map(|tank| TankLevel {
                tank: tank.tank,
                product_code: tank.product_code,
                volume: Millilitres::new(tank.volume.get()),
                tc_volume: Millilitres::new(tank.tc_volume.get()),
                ullage: Millilitres::new(tank.ullage.get()),
                height: tank.height,
                water: tank.water,
                temperature: tank.temperature,
                delivery_in_progress: tank.status.delivery_in_progress(),
            })
            .collect())
    }

    /// The delivery report (function 202, computer format); volumes in it are thousandths of a
    /// litre, that is millilitres.
    ///
    /// # Errors
    /// A [`GaugeError`] when there is no usable answer.
    pub fn deliveries(&mut self, tank: TankSelector) -> Result<DeliveryReport, GaugeError> {
        let command = Command {
            format: Format::Computer,
            function: Function::DeliveryReport,
            tank,
        };
        match self.request(command)? {
            Reply::Deliveries(report) => Ok(report),
            _ => Err(GaugeError::UnexpectedReport),
        }
    }

    /// Sends `command` and waits for its answer or its deadline.
    ///
    /// # Errors
    /// A [`GaugeError`] when there is no usable answer.
    pub fn request(&mut self, command: Command) -> Result<Reply, GaugeError> {
        self.begin(command)?;
        loop {
            if let Progress::Answered(reply) = self.poll()? {
                return Ok(reply);
            }
        }
    }

    /// Sends `command`, after dropping whatever is still unread on the line (a late answer to
    /// an earlier command must not pass for this one's).
    ///
    /// # Errors
    /// [`GaugeError::Busy`] while another command waits; [`GaugeError::Io`] when writing fails.
    pub fn begin(&mut self, command: Command) -> Result<(), GaugeError> {
        if self.client.poll_timeout().is_some() {
            return Err(GaugeError::Busy);
        }
        self.port
            .clear(ClearBuffer::Input)
            .map_err(std::io::Error::from)?;
        self.garbage_bytes = 0;
        self.client.queue(command);
        while let Some(bytes) = self.client.poll_transmit(Instant::now()) {
            self.port.write_all(&bytes)?;
            self.port.flush()?;
        }
        Ok(())
    }

    /// One read of the line, waiting at most until the outstanding command's deadline. With no
    /// command outstanding it reads nothing and reports `Waiting { bytes_read: 0 }`.
    ///
    /// # Errors
    /// The command's [`GaugeError`] once it is settled without a usable answer.
    pub fn poll(&mut self) -> Result<Progress, GaugeError> {
        let mut bytes_read = 0;
        if let Some(deadline) = self.client.poll_timeout() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.port
                .set_timeout(remaining.max(Duration::from_millis(1)))
                .map_err(std::io::Error::from)?;
            let mut buffer = [0u8; 512];
            match self.port.read(&mut buffer) {
                Ok(count) => {
                    bytes_read = count;
                    let bytes = buffer.get(..count).unwrap_or_default();
                    self.client.handle_input(Instant::now(), bytes);
                }
                Err(error)
                    if matches!(error.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(error) => return Err(error.into()),
            }
            self.client.handle_timeout(Instant::now());
        }
        while let Some(event) = self.client.poll_event() {
            match event {
                TlsEvent::Reply { reply, .. } => {
                    return reply.map(Progress::Answered).map_err(from_reply_error);
                }
                TlsEvent::TimedOut { command } => {
                    return Err(GaugeError::TimedOut {
                        command: command.code(),
                        garbage_bytes: self.garbage_bytes,
                    });
                }
                TlsEvent::Unsolicited { error } => {
                    if let ReplyError::Garbage { discarded } = error {
                        self.garbage_bytes += discarded;
                    }
                }
            }
        }
        Ok(Progress::Waiting { bytes_read })
    }
}

fn from_reply_error(error: ReplyError) -> GaugeError {
    match error {
        ReplyError::BadChecksum { received, computed } => {
            GaugeError::BadChecksum { received, computed }
        }
        ReplyError::CommandNotUnderstood => GaugeError::NotUnderstood,
        other => GaugeError::Malformed(other),
    }
}
