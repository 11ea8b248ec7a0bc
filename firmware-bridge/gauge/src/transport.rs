//! The station's side of the gauge line: a serial port driven through
//! `forecourt_protocols::tls::TlsClient`.
//!
//! This adapter only moves bytes and reads the clock; framing, checksums, pairing replies with
//! commands and deadlines are the client's. One command is outstanding at a time:
//! [`GaugeLink::begin`] sends it, [`GaugeLink::poll`] does one read (bounded by the command's
//! deadline) and says whether the answer is complete, and [`GaugeLink::request`] is the trivial
//! loop over both.
//!
//! Above that, [`GaugeLink::inventory`] and [`GaugeLink::deliveries`] return volumes in
//! millilitres whatever the console speaks:
//!
//! - **Format.** The inventory is asked in computer format; a console that refuses it (the
//!   unknown-command answer, or display text instead) is asked again in display format, and the
//!   link keeps asking in the format that worked ([`FormatChoice`]). Both formats give the same
//!   [`TankLevel`]s, to the precision the display prints.
//! - **Volume unit.** A console read in computer format is asked its system units once; one read
//!   in display format says its unit in the report's labels, when it prints them. What the
//!   console says wins over the station's setting ([`decide_volume_unit`]), and every volume
//!   goes through [`VolumeUnit::to_millilitres`].

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use forecourt_protocols::tls::client::Reply;
use forecourt_protocols::tls::reports::{Delivery, DisplayInventory};
use forecourt_protocols::tls::{
    Command, Format, FormatChoice, Function, GaugeTime, InventoryReport, Millilitres, ReplyError,
    TankSelector, Thousandths, TlsClient, TlsEvent, UnitDecision, VolumeError, VolumeUnit,
    decide_volume_unit,
};
use serialport::{ClearBuffer, DataBits, Parity, SerialPort, StopBits};
use thiserror::Error;

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

/// One tank of an inventory, volumes in millilitres whatever the console's unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankLevel {
    /// Tank number.
    pub tank: u8,
    /// Product code character; a display-format report prints a label instead.
    pub product_code: Option<char>,
    /// Product label, as a display-format report prints it.
    pub product_label: Option<String>,
    /// Gross product volume.
    pub volume: Millilitres,
    /// Volume corrected to the reference temperature.
    pub tc_volume: Millilitres,
    /// Room left in the tank.
    pub ullage: Millilitres,
    /// Product height, thousandths of the console's length unit (micrometres on a metric
    /// console).
    pub height: Thousandths,
    /// Water height, in the same unit.
    pub water: Thousandths,
    /// Product temperature, thousandths of the console's degree (Celsius on a metric console).
    pub temperature: Thousandths,
    /// A delivery is in progress; a display-format report does not say.
    pub delivery_in_progress: Option<bool>,
}

/// A delivery report (function 202), volumes in millilitres.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLevels {
    /// When the console made the report.
    pub time: GaugeTime,
    /// One entry per tank.
    pub tanks: Vec<TankDeliveries>,
}

/// The deliveries of one tank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankDeliveries {
    /// Tank number.
    pub tank: u8,
    /// Product code character.
    pub product_code: char,
    /// Most recent first, as the console sends them.
    pub deliveries: Vec<DeliveryLevel>,
}

/// One delivery the console saw: its level rose and settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLevel {
    /// When the level started rising.
    pub start: GaugeTime,
    /// When it settled.
    pub end: GaugeTime,
    /// Product volume before.
    pub starting_volume: Millilitres,
    /// Product volume after.
    pub ending_volume: Millilitres,
    /// Temperature-corrected volume before.
    pub starting_tc_volume: Millilitres,
    /// Temperature-corrected volume after.
    pub ending_tc_volume: Millilitres,
    /// Product height before, thousandths of the console's length unit.
    pub starting_height: Thousandths,
    /// Product height after.
    pub ending_height: Thousandths,
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
    /// A volume the console reported does not fit the station's integers once converted.
    #[error("the gauge's reading cannot be booked: {0}")]
    Volume(#[from] VolumeError),
    /// The console answers only display format, whose delivery report is not read.
    #[error(
        "the gauge answers only display format; its delivery report is read in computer format only"
    )]
    NoDisplayDeliveryReport,
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
            Self::Volume(_) => "gauge.volume_out_of_range",
            Self::NoDisplayDeliveryReport => "gauge.no_display_delivery_report",
        }
    }

    /// The console refused the command in the format it was asked in; the other may work.
    #[must_use]
    pub const fn refuses_format(&self) -> bool {
        match self {
            Self::NotUnderstood => true,
            Self::Malformed(error) => error.refuses_format(),
            _ => false,
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

/// How many times the system units are asked of a console that does not answer the question
/// (neither a reply nor the unknown-command answer) before its setting is taken for good.
const SYSTEM_UNITS_ATTEMPTS: u8 = 3;

/// A tank gauge console on a serial line.
#[derive(Debug)]
pub struct GaugeLink {
    port: Box<dyn SerialPort>,
    client: TlsClient,
    garbage_bytes: usize,
    formats: FormatChoice,
    volume_setting: Option<VolumeUnit>,
    reported_unit: Option<VolumeUnit>,
    system_units_asked: u8,
    system_units_settled: bool,
    unit_told: Option<UnitDecision>,
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
            formats: FormatChoice::new(),
            volume_setting: None,
            reported_unit: None,
            system_units_asked: 0,
            system_units_settled: false,
            unit_told: None,
        }
    }

    /// The same link, with the station's setting for the console's volume unit: used when the
    /// console does not say its unit; overruled when it does.
    #[must_use]
    pub fn with_volume_unit_setting(mut self, setting: Option<VolumeUnit>) -> Self {
        self.volume_setting = setting;
        self
    }

    /// The format the console last answered a report in, if it has yet.
    #[must_use]
    pub const fn format(&self) -> Option<Format> {
        self.formats.settled()
    }

    /// The unit volumes are booked in now, and why.
    #[must_use]
    pub fn volume_unit(&self) -> UnitDecision {
        decide_volume_unit(self.reported_unit, self.volume_setting)
    }

    /// The unit in use, when it changed since the last call (the first call gives the first
    /// one), so that the caller can say so once.
    pub fn poll_unit_change(&mut self) -> Option<UnitDecision> {
        let decision = self.volume_unit();
        if self.unit_told == Some(decision) {
            return None;
        }
        self.unit_told = Some(decision);
        Some(decision)
    }

    /// The in-tank inventory (function 201), in computer format or, for a console that refuses
    /// it, display format.
    ///
    /// # Errors
    /// A [`GaugeError`] when there is no usable answer or a volume cannot be booked.
    pub fn inventory(&mut self, tank: TankSelector) -> Result<Vec<TankLevel>, GaugeError> {
        match self.report(Function::InTankInventory, tank)? {
            Reply::Inventory(report) => {
                self.ask_system_units()?;
                self.computer_levels(report)
            }
            Reply::DisplayInventory(table) => self.display_levels(table),
            _ => Err(GaugeError::UnexpectedReport),
        }
    }

    /// The delivery report (function 202, computer format), volumes in millilitres.
    ///
    /// # Errors
    /// [`GaugeError::NoDisplayDeliveryReport`] for a console read in display format, or a
    /// [`GaugeError`] when there is no usable answer or a volume cannot be booked.
    pub fn deliveries(&mut self, tank: TankSelector) -> Result<DeliveryLevels, GaugeError> {
        if self.formats.settled() == Some(Format::Display) {
            return Err(GaugeError::NoDisplayDeliveryReport);
        }
        let command = Command {
            format: Format::Computer,
            function: Function::DeliveryReport,
            tank,
        };
        let Reply::Deliveries(report) = self.request(command)? else {
            return Err(GaugeError::UnexpectedReport);
        };
        self.ask_system_units()?;
        let unit = self.volume_unit().unit;
        let tanks = report
            .tanks
            .into_iter()
            .map(|tank| {
                let deliveries = tank
                    .deliveries
                    .iter()
                    .map(|delivery| delivery_level(delivery, unit))
                    .collect::<Result<_, GaugeError>>()?;
                Ok(TankDeliveries {
                    tank: tank.tank,
                    product_code: tank.product_code,
                    deliveries,
                })
            })
            .collect::<Result<_, GaugeError>>()?;
        Ok(DeliveryLevels {
            time: report.time,
            tanks,
        })
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

impl GaugeLink {
    /// Asks for a report in the format that worked, or computer format first; when the console
    /// refuses that format, asks again in the other and keeps to it if it works.
    fn report(&mut self, function: Function, tank: TankSelector) -> Result<Reply, GaugeError> {
        let first = self.formats.first();
        let ask = |format| Command {
            format,
            function,
            tank,
        };
        let (format, reply) = match self.request(ask(first)) {
            Ok(reply) => (first, reply),
            Err(error) if error.refuses_format() => {
                let other = first.other();
                (other, self.request(ask(other))?)
            }
            Err(error) => return Err(error),
        };
        self.formats.worked(format);
        Ok(reply)
    }

    /// Asks a console read in computer format for its system units, until it has answered (or
    /// refused, or not answered [`SYSTEM_UNITS_ATTEMPTS`] times).
    fn ask_system_units(&mut self) -> Result<(), GaugeError> {
        if self.system_units_settled {
            return Ok(());
        }
        let command = Command {
            format: Format::Computer,
            function: Function::SystemUnits,
            tank: TankSelector::ALL,
        };
        match self.request(command) {
            Ok(Reply::SystemUnits(report)) => {
                self.reported_unit = Some(report.volume_unit);
                self.system_units_settled = true;
            }
            // The console cannot say, or says it in a way not read here: the setting holds.
            Ok(_) | Err(GaugeError::NotUnderstood | GaugeError::Malformed(_)) => {
                self.system_units_settled = true;
            }
            // Not answered this time: the setting holds for this reading; ask again next time.
            Err(GaugeError::TimedOut { .. } | GaugeError::BadChecksum { .. }) => {
                self.system_units_asked = self.system_units_asked.saturating_add(1);
                self.system_units_settled = self.system_units_asked >= SYSTEM_UNITS_ATTEMPTS;
            }
            Err(error) => return Err(error),
        }
        Ok(())
    }

    fn computer_levels(&self, report: InventoryReport) -> Result<Vec<TankLevel>, GaugeError> {
        let unit = self.volume_unit().unit;
        report
            .tanks
            .into_iter()
            .map(|tank| {
                Ok(TankLevel {
                    tank: tank.tank,
                    product_code: Some(tank.product_code),
                    product_label: None,
                    volume: unit.to_millilitres(tank.volume)?,
                    tc_volume: unit.to_millilitres(tank.tc_volume)?,
                    ullage: unit.to_millilitres(tank.ullage)?,
                    height: tank.height,
                    water: tank.water,
                    temperature: tank.temperature,
                    delivery_in_progress: Some(tank.status.delivery_in_progress()),
                })
            })
            .collect()
    }

    fn display_levels(&mut self, table: DisplayInventory) -> Result<Vec<TankLevel>, GaugeError> {
        if let Some(unit) = table.volume_unit {
            self.reported_unit = Some(unit);
        }
        let unit = self.volume_unit().unit;
        table
            .rows
            .into_iter()
            .map(|row| {
                Ok(TankLevel {
                    tank: row.tank,
                    product_code: None,
                    product_label: Some(row.product),
                    volume: unit.to_millilitres(row.volume)?,
                    tc_volume: unit.to_millilitres(row.tc_volume)?,
                    ullage: unit.to_millilitres(row.ullage)?,
                    height: row.height,
                    water: row.water,
                    temperature: row.temperature,
                    delivery_in_progress: None,
                })
            })
            .collect()
    }
}

fn delivery_level(delivery: &Delivery, unit: VolumeUnit) -> Result<DeliveryLevel, GaugeError> {
    Ok(DeliveryLevel {
        start: delivery.start,
        end: delivery.end,
        starting_volume: unit.to_millilitres(delivery.starting_volume)?,
        ending_volume: unit.to_millilitres(delivery.ending_volume)?,
        starting_tc_volume: unit.to_millilitres(delivery.starting_tc_volume)?,
        ending_tc_volume: unit.to_millilitres(delivery.ending_tc_volume)?,
        starting_height: delivery.starting_height,
        ending_height: delivery.ending_height,
    })
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
