//! The station's side of the pump line: a serial port driven through
//! `forecourt_protocols::dart::DartMaster`.
//!
//! This adapter only moves bytes and reads the clock; framing, polling order, retries and
//! deadlines are the master's. [`PumpLine::step`] is the one step function (write what the master
//! wants sent, read once until its deadline, act on the deadline), and [`PumpLine::next_event`]
//! the trivial loop around it. What the pumps say is turned into [`PumpEvent`]s: the master
//! reports transactions one by one, and this layer remembers the last volume, amount, nozzle and
//! price of each pump so that the end of a filling comes out as one finished transaction.
//! [`PumpLine::request_state`] and [`PumpLine::request_total`] ask a pump what it holds, for a
//! station that was away; what the line could not decode comes out as
//! [`PumpEvent::Undecodable`] with its bytes, to be counted and logged.

use std::collections::{BTreeMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use forecourt_protocols::dart::transaction::{
    NozzleNumber, PumpAmount, PumpCommand, PumpPrice, PumpStatus, PumpTotal, PumpVolume,
    TotalCounter,
};
use forecourt_protocols::dart::{
    CommandFailure, CommandId, DartMaster, FromPump, MasterConfig, MasterEvent, PumpAddress,
    QueueError, ToPump,
};
use serialport::{DataBits, Parity, SerialPort, StopBits};
use thiserror::Error;

/// How the line is set up. DART's electrical level (Dart Pump Interface, 1.1): 9600 or 19200
/// baud, 8 data bits, odd parity, 1 stop bit; the default is 9600 8O1.
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
            data_bits: DataBits::Eight,
            parity: Parity::Odd,
            stop_bits: StopBits::One,
        }
    }
}

/// Where an authorized filling stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// At this volume (CD3).
    Volume(PumpVolume),
    /// At this amount (CD4).
    Amount(PumpAmount),
}

/// What happened at a pump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PumpEvent {
    /// The pump answers (again, or for the first time).
    Online {
        /// The pump.
        pump: PumpAddress,
    },
    /// The pump stopped answering.
    Offline {
        /// The pump.
        pump: PumpAddress,
    },
    /// The pump has nothing more to report: every question it took before has been answered.
    Quiet {
        /// The pump.
        pump: PumpAddress,
    },
    /// The pump's status changed (DC1).
    Status {
        /// The pump.
        pump: PumpAddress,
        /// The new status.
        status: PumpStatus,
    },
    /// A nozzle was lifted or hung up (DC3).
    Nozzle {
        /// The pump.
        pump: PumpAddress,
        /// The nozzle.
        nozzle: Option<NozzleNumber>,
        /// Out of its holster.
        lifted: bool,
        /// The unit price that nozzle fuels at.
        price: PumpPrice,
    },
    /// The filling so far (DC2 while filling).
    Filling {
        /// The pump.
        pump: PumpAddress,
        /// Volume so far.
        volume: PumpVolume,
        /// Amount so far.
        amount: PumpAmount,
    },
    /// A filling ended: the pump's own final volume and amount.
    TransactionFinished {
        /// The pump.
        pump: PumpAddress,
        /// The nozzle used, if the pump said.
        nozzle: Option<NozzleNumber>,
        /// Volume dispensed.
        volume: PumpVolume,
        /// Amount to pay.
        amount: PumpAmount,
        /// Unit price of the filling, if the pump said.
        price: Option<PumpPrice>,
        /// How it ended: filling completed, or preset reached.
        status: PumpStatus,
    },
    /// A total counter (DC101).
    Total {
        /// The pump.
        pump: PumpAddress,
        /// Which counter.
        counter: TotalCounter,
        /// Its value.
        total: PumpTotal,
    },
    /// The pump acknowledged a command.
    CommandDelivered {
        /// The pump.
        pump: PumpAddress,
        /// The command.
        command: CommandId,
    },
    /// A command was given up.
    CommandFailed {
        /// The pump.
        pump: PumpAddress,
        /// The command.
        command: CommandId,
        /// Why.
        reason: CommandFailure,
    },
    /// The pump raised an alarm (DC5).
    Alarm {
        /// The pump.
        pump: PumpAddress,
        /// Its code.
        code: u8,
    },
    /// Something on the line that could not be decoded: noise, a damaged block, or a
    /// transaction this codec cannot read. Nothing else is done with it; it is reported so that
    /// it is counted and logged, never dropped silently.
    Undecodable {
        /// The pump whose block held it; `None` for what formed no block.
        pump: Option<PumpAddress>,
        /// The stable code of what was wrong (`dart.bad_crc`, `dart.transaction_bad_length`…).
        code: &'static str,
        /// What was wrong, in words.
        detail: String,
        /// The bytes as they came off the line.
        bytes: Vec<u8>,
    },
}

/// Why the pump line failed.
#[derive(Debug, Error)]
pub enum PumpError {
    /// The port could not be opened or set up.
    #[error("cannot open the pump line {path}: {source}")]
    Open {
        /// The port's path.
        path: String,
        /// Why.
        source: serialport::Error,
    },
    /// Reading or writing the port failed.
    #[error("pump line I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A command that cannot be sent.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Nothing awaited happened in time.
    #[error("nothing awaited happened on the pump line within {waited:?}")]
    TimedOut {
        /// How long was waited.
        waited: Duration,
    },
}

impl PumpError {
    /// A stable code for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Open { .. } => "pump.open",
            Self::Io(_) => "pump.io",
            Self::Queue(_) => "pump.queue",
            Self::TimedOut { .. } => "pump.timed_out",
        }
    }
}

/// Pumps on one serial line.
#[derive(Debug)]
pub struct PumpLine {
    port: Box<dyn SerialPort>,
    master: DartMaster,
    pumps: BTreeMap<PumpAddress, LastReport>,
    events: VecDeque<PumpEvent>,
}

/// What a pump said last, to assemble a finished transaction.
#[derive(Debug, Clone, Copy, Default)]
struct LastReport {
    status: Option<PumpStatus>,
    nozzle: Option<NozzleNumber>,
    price: Option<PumpPrice>,
    filled: Option<(PumpVolume, PumpAmount)>,
}

impl PumpLine {
    /// Opens the port at `path` and runs the bus as `config` says.
    ///
    /// # Errors
    /// [`PumpError::Open`] when the port cannot be opened with these settings.
    pub fn open(
        path: &str,
        settings: LineSettings,
        config: MasterConfig,
    ) -> Result<Self, PumpError> {
        let port = serialport::new(path, settings.baud_rate)
            .data_bits(settings.data_bits)
            .parity(settings.parity)
            .stop_bits(settings.stop_bits)
            .flow_control(serialport::FlowControl::None)
            .timeout(config.response_timeout)
            .open()
            .map_err(|source| PumpError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self::from_port(port, config))
    }

    /// Drives a port that is already open.
    #[must_use]
    pub fn from_port(port: Box<dyn SerialPort>, config: MasterConfig) -> Self {
        Self {
            port,
            master: DartMaster::new(config),
            pumps: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Queues transactions for `pump`, sent in one block on its next turn.
    ///
    /// # Errors
    /// [`PumpError::Queue`] if the pump is not on this line or the block cannot be made.
    pub fn send(
        &mut self,
        pump: PumpAddress,
        transactions: &[ToPump],
    ) -> Result<CommandId, PumpError> {
        Ok(self.master.queue(pump, transactions)?)
    }

    /// Readies the pump for a new filling and authorizes it, stopping at `preset` if given.
    ///
    /// # Errors
    /// As [`PumpLine::send`].
    pub fn authorize(
        &mut self,
        pump: PumpAddress,
        preset: Option<Preset>,
    ) -> Result<CommandId, PumpError> {
        let mut transactions = vec![ToPump::Command(PumpCommand::Reset)];
        match preset {
            Some(Preset::Volume(volume)) => transactions.push(ToPump::PresetVolume(volume)),
            Some(Preset::Amount(amount)) => transactions.push(ToPump::PresetAmount(amount)),
            None => {}
        }
        transactions.push(ToPump::Command(PumpCommand::Authorize));
        self.send(pump, &transactions)
    }

    /// Sends unit prices, nozzle 1 first. A pump in the middle of a filling keeps the filling's
    /// price and applies these when it ends.
    ///
    /// # Errors
    /// As [`PumpLine::send`].
    pub fn set_prices(
        &mut self,
        pump: PumpAddress,
        prices: Vec<PumpPrice>,
    ) -> Result<CommandId, PumpError> {
        self.send(pump, &[ToPump::PriceUpdate(prices)])
    }

    /// Asks the pump for its status and for the filling it holds (DC1, then DC2 and DC3).
    ///
    /// # Errors
    /// As [`PumpLine::send`].
    pub fn request_state(&mut self, pump: PumpAddress) -> Result<CommandId, PumpError> {
        self.send(
            pump,
            &[
                ToPump::Command(PumpCommand::ReturnStatus),
                ToPump::Command(PumpCommand::ReturnFillingInformation),
            ],
        )
    }

    /// Asks the pump for one total counter (CD101, answered with DC101 as [`PumpEvent::Total`]).
    ///
    /// # Errors
    /// As [`PumpLine::send`].
    pub fn request_total(
        &mut self,
        pump: PumpAddress,
        counter: TotalCounter,
    ) -> Result<CommandId, PumpError> {
        self.send(pump, &[ToPump::RequestTotalCounter(counter)])
    }

    /// Stops the pump's filling now.
    ///
    /// # Errors
    /// As [`PumpLine::send`].
    pub fn stop(&mut self, pump: PumpAddress) -> Result<CommandId, PumpError> {
        self.send(pump, &[ToPump::Command(PumpCommand::Stop)])
    }

    /// One step of the bus: writes what the master has to send, reads once (at most until the
    /// master's deadline) and acts on a passed deadline.
    ///
    /// # Errors
    /// [`PumpError::Io`] when the port fails.
    pub fn step(&mut self) -> Result<(), PumpError> {
        while let Some(bytes) = self.master.poll_transmit(Instant::now()) {
            self.port.write_all(&bytes)?;
        }
        self.port.flush()?;
        if let Some(deadline) = self.master.poll_timeout() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.port
                .set_timeout(remaining.max(Duration::from_millis(1)))
                .map_err(std::io::Error::from)?;
            let mut buffer = [0u8; 512];
            match self.port.read(&mut buffer) {
                Ok(count) => {
                    let bytes = buffer.get(..count).unwrap_or_default();
                    self.master.handle_input(Instant::now(), bytes);
                }
                Err(error)
                    if matches!(error.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(error) => return Err(error.into()),
            }
            self.master.handle_timeout(Instant::now());
        }
        while let Some(event) = self.master.poll_event() {
            self.translate(event);
        }
        Ok(())
    }

    /// The next event, running the bus until one comes or `timeout` passes.
    ///
    /// # Errors
    /// [`PumpError::TimedOut`] when none comes in time; [`PumpError::Io`] when the port fails.
    pub fn next_event(&mut self, timeout: Duration) -> Result<PumpEvent, PumpError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            if Instant::now() >= deadline {
                return Err(PumpError::TimedOut { waited: timeout });
            }
            self.step()?;
        }
    }

    /// Runs the bus until `wanted` picks an event, dropping the events before it.
    ///
    /// # Errors
    /// As [`PumpLine::next_event`].
    pub fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut wanted: impl FnMut(&PumpEvent) -> Option<T>,
    ) -> Result<T, PumpError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self.next_event(left).map_err(|error| match error {
                PumpError::TimedOut { .. } => PumpError::TimedOut { waited: timeout },
                other => other,
            })?;
            if let Some(found) = wanted(&event) {
                return Ok(found);
            }
        }
    }

    fn translate(&mut self, event: MasterEvent) {
        let event = match event {
            MasterEvent::PumpOnline { pump } => PumpEvent::Online { pump },
            MasterEvent::PumpOffline { pump } => PumpEvent::Offline { pump },
            MasterEvent::PumpQuiet { pump } => PumpEvent::Quiet { pump },
            MasterEvent::Message { pump, message } => {
                if let Some(event) = self.take_message(pump, message) {
                    event
                } else {
                    return;
                }
            }
            MasterEvent::CommandDelivered { pump, command } => {
                PumpEvent::CommandDelivered { pump, command }
            }
            MasterEvent::CommandFailed {
                pump,
                command,
                reason,
            } => PumpEvent::CommandFailed {
                pump,
                command,
                reason,
            },
            // What could not be read is retried by the master (a damaged answer) or carries
            // nothing the station acts on; it is passed on to be counted and logged.
            MasterEvent::UndecodableTransaction { pump, error, bytes } => PumpEvent::Undecodable {
                pump: Some(pump),
                code: error.code(),
                detail: error.to_string(),
                bytes,
            },
            MasterEvent::LineError { error, bytes } => PumpEvent::Undecodable {
                pump: None,
                code: error.code(),
                detail: error.to_string(),
                bytes,
            },
            // A late answer or one from the wrong pump was read and is otherwise ignored.
            MasterEvent::UnexpectedFrame { .. } => return,
        };
        self.events.push_back(event);
    }

    fn take_message(&mut self, pump: PumpAddress, message: FromPump) -> Option<PumpEvent> {
        let last = self.pumps.entry(pump).or_default();
        match message {
            FromPump::Status(status) => {
                let previous = last.status.replace(status);
                let ended = matches!(
                    status,
                    PumpStatus::FillingCompleted | PumpStatus::MaxAmountOrVolumeReached
                );
                let was_filling = matches!(
                    previous,
                    Some(PumpStatus::Filling | PumpStatus::Suspended | PumpStatus::Authorized)
                );
                if ended
                    && was_filling
                    && let Some((volume, amount)) = last.filled
                {
                    self.events.push_back(PumpEvent::Status { pump, status });
                    return Some(PumpEvent::TransactionFinished {
                        pump,
                        nozzle: last.nozzle,
                        volume,
                        amount,
                        price: last.price,
                        status,
                    });
                }
                if status == PumpStatus::Reset {
                    last.filled = None;
                }
                (previous != Some(status)).then_some(PumpEvent::Status { pump, status })
            }
            FromPump::FilledVolumeAndAmount { volume, amount } => {
                last.filled = Some((volume, amount));
                Some(PumpEvent::Filling {
                    pump,
                    volume,
                    amount,
                })
            }
            FromPump::NozzleStatusAndPrice {
                price,
                nozzle,
                nozzle_out,
            } => {
                last.nozzle = nozzle;
                last.price = Some(price);
                Some(PumpEvent::Nozzle {
                    pump,
                    nozzle,
                    lifted: nozzle_out,
                    price,
                })
            }
            FromPump::Alarm { code } => Some(PumpEvent::Alarm { pump, code }),
            FromPump::TotalCounter { counter, total, .. } => Some(PumpEvent::Total {
                pump,
                counter,
                total,
            }),
            FromPump::Identity(_) | FromPump::Other { .. } => None,
        }
    }
}
