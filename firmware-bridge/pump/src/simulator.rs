//! Simulated DART pumps: several pumps (addresses) on one line, answering the bus master as the
//! line and application levels say a pump does.
//!
//! Line level: a POLL is answered with EOT, or with a data block of what the pump has to report
//! (sent again, same TX#, until the master ACKs it); a data block from the master is ACKed and
//! its transactions applied, and a block resent because our ACK was lost is ACKed but not
//! applied twice. A muted pump answers nothing.
//!
//! Application level: CD1 commands, CD2 allowed nozzles, CD3/CD4 presets, CD5 prices and CD101
//! total requests go in; DC1 status, DC2 filled volume and amount, DC3 nozzle and price, DC9
//! identity and DC101 totals come out. A nozzle lifted while the pump is authorized fuels at the
//! pump's flow rate until it is hung up, stopped, or the preset is reached.
//!
//! Prices sent while a filling is authorized or under way are kept and take effect when the
//! filling ends: the price of a filling never changes under the customer's eyes.
//!
//! A pump keeps its last filling (status, volume, amount, nozzle, price) until the next RESET
//! and answers CD1 "return filling information" with it, and keeps volume and money totals per
//! nozzle, as a real pump does across a controller that was away. Two faults can be switched on
//! for tests: line noise instead of a pump's next answer, and meters that move without a filling
//! the controller saw.
//!
//! No I/O and no clock: every call takes `now`.

use std::time::{Duration, Instant};

use forecourt_protocols::dart::frame::{FrameDecoder, FrameKind};
use forecourt_protocols::dart::transaction::{
    self, NozzleNumber, PumpAmount, PumpCommand, PumpIdentity, PumpPrice, PumpStatus, PumpTotal,
    PumpVolume, TotalCounter,
};
use forecourt_protocols::dart::{Frame, FromPump, PumpAddress, ToPump, TxSeq};
use thiserror::Error;

/// A flow rate in centilitres per minute (4 000 is 40 L/min, a common car nozzle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowRate(u32);

impl FlowRate {
    /// 40 L/min.
    pub const CAR_NOZZLE: Self = Self(4_000);

    /// A rate in centilitres per minute; `None` for zero.
    #[must_use]
    pub const fn centilitres_per_minute(rate: u32) -> Option<Self> {
        if rate == 0 { None } else { Some(Self(rate)) }
    }

    /// Centilitres per minute.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Centilitres dispensed in `flowing`, rounded down.
    fn volume_after(self, flowing: Duration) -> u64 {
        let centilitres = flowing.as_millis() * u128::from(self.0) / 60_000;
        u64::try_from(centilitres).unwrap_or(u64::MAX)
    }
}

/// The money amount of `volume` centilitres at `price` won per litre, in won, rounded half up.
#[must_use]
pub fn amount_for(volume: u64, price: u64) -> u64 {
    (volume * price + 50) / 100
}

/// One pump as set up at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PumpSetup {
    /// Its address on the line.
    pub address: PumpAddress,
    /// Unit price of each logical nozzle, nozzle 1 first; the list's length is the nozzle count.
    pub prices: Vec<PumpPrice>,
    /// How fast fuel flows while the pump fills.
    pub flow_rate: FlowRate,
}

/// A control line or call that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ControlError {
    /// Not one of the control lines the simulator knows.
    #[error("cannot read the control line {line:?}")]
    BadLine {
        /// The line.
        line: String,
    },
    /// No simulated pump has this address.
    #[error("no pump at address {address:02X}H")]
    UnknownPump {
        /// The address asked for.
        address: u8,
    },
    /// The pump has no such nozzle.
    #[error("pump {pump} has no nozzle {nozzle}")]
    NoSuchNozzle {
        /// The pump.
        pump: PumpAddress,
        /// The nozzle asked for.
        nozzle: u8,
    },
    /// A nozzle is already out of its holster.
    #[error("pump {pump} already has a nozzle out")]
    NozzleAlreadyOut {
        /// The pump.
        pump: PumpAddress,
    },
    /// No nozzle is out to hang up.
    #[error("pump {pump} has no nozzle out")]
    NoNozzleOut {
        /// The pump.
        pump: PumpAddress,
    },
    /// A pump set up with no nozzles or two pumps at one address.
    #[error("bad pump setup: {reason}")]
    BadSetup {
        /// What is wrong.
        reason: &'static str,
    },
}

/// The pumps on one simulated line.
#[derive(Debug)]
pub struct PumpSimulator {
    pumps: Vec<SimulatedPump>,
    decoder: FrameDecoder,
}

/// At most this many transactions go in one block; the rest wait for the next poll.
const TRANSACTIONS_PER_BLOCK: usize = 8;

/// What a pump set to `noise` answers instead: bytes ending in SF that form no block.
const LINE_NOISE: [u8; 5] = [0x00, 0x13, 0x37, 0xA5, 0xFA];

/// The last filling a pump holds, as it would report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldFilling {
    /// The nozzle it was made with.
    pub nozzle: u8,
    /// Volume in centilitres.
    pub volume: u64,
    /// Amount in won.
    pub amount: u64,
    /// Unit price in won per litre.
    pub price: u32,
}

impl PumpSimulator {
    /// Pumps as set up, idle (status RESET) with all nozzles hung up.
    ///
    /// # Errors
    /// [`ControlError::BadSetup`] for a pump without nozzles or with too many, or a repeated
    /// address.
    pub fn new(setups: Vec<PumpSetup>) -> Result<Self, ControlError> {
        let mut pumps: Vec<SimulatedPump> = Vec::with_capacity(setups.len());
        for setup in setups {
            if setup.prices.is_empty() || setup.prices.len() > 8 {
                return Err(ControlError::BadSetup {
                    reason: "a pump needs 1 to 8 nozzles",
                });
            }
            if pumps.iter().any(|pump| pump.address == setup.address) {
                return Err(ControlError::BadSetup {
                    reason: "two pumps at one address",
                });
            }
            pumps.push(SimulatedPump::new(setup));
        }
        Ok(Self {
            pumps,
            decoder: FrameDecoder::new(),
        })
    }

    /// `count` pumps from address 50H, three nozzles each at 1 689, 1 589 and 1 799 won/L.
    #[must_use]
    pub fn demo_pumps(count: u8, flow_rate: FlowRate) -> Vec<PumpSetup> {
        (0..count.min(PumpAddress::LAST - PumpAddress::FIRST + 1))
            .filter_map(|offset| PumpAddress::new(PumpAddress::FIRST + offset).ok())
            .map(|address| PumpSetup {
                address,
                prices: [1_689, 1_589, 1_799]
                    .into_iter()
                    .filter_map(PumpPrice::new)
                    .collect(),
                flow_rate,
            })
            .collect()
    }

    /// Bytes from the master; returns the pumps' answers to put on the line.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Vec<u8> {
        self.tick(now);
        self.decoder.push(bytes);
        let mut reply = Vec::new();
        // A damaged block gets no answer: the master's timeout and retry handle it.
        while let Some(Ok(frame)) = self.decoder.next_frame() {
            if let Some(pump) = self
                .pumps
                .iter_mut()
                .find(|pump| pump.address == frame.address())
                && !pump.muted
            {
                let answer = pump.handle_frame(now, frame.into_kind());
                if !answer.is_empty() && std::mem::take(&mut pump.noise_next) {
                    reply.extend(LINE_NOISE);
                } else {
                    reply.extend(answer);
                }
            }
        }
        reply
    }

    /// Lets fuel flow up to `now`; fillings that reach their preset end.
    pub fn tick(&mut self, now: Instant) {
        for pump in &mut self.pumps {
            pump.tick(now);
        }
    }

    /// Applies a control line: `lift PUMP NOZZLE`, `hang PUMP`, `mute PUMP`, `unmute PUMP`,
    /// `noise PUMP` (its next answer is lost in line noise) and `meter PUMP NOZZLE CENTILITRES`
    /// (the nozzle's meters move by that much without a filling the controller sees), where
    /// PUMP is the address in hex (`50` or `0x50`).
    ///
    /// # Errors
    /// A [`ControlError`] saying why the line was not applied.
    pub fn apply_control(&mut self, line: &str, now: Instant) -> Result<(), ControlError> {
        let bad_line = || ControlError::BadLine {
            line: line.to_owned(),
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let pump = |word: &str| {
            let digits = word.trim_start_matches("0x");
            u8::from_str_radix(digits, 16).map_err(|_| bad_line())
        };
        match words.as_slice() {
            ["lift", address, nozzle] => {
                let nozzle = nozzle.parse().map_err(|_| bad_line())?;
                self.lift(pump(address)?, nozzle, now)
            }
            ["hang", address] => self.hang(pump(address)?, now),
            ["mute", address] => self.set_muted(pump(address)?, true),
            ["unmute", address] => self.set_muted(pump(address)?, false),
            ["noise", address] => {
                self.pump_mut(pump(address)?)?.noise_next = true;
                Ok(())
            }
            ["meter", address, nozzle, volume] => {
                let nozzle = nozzle.parse().map_err(|_| bad_line())?;
                let volume = volume.parse().map_err(|_| bad_line())?;
                self.move_meters(pump(address)?, nozzle, volume)
            }
            _ => Err(bad_line()),
        }
    }

    /// Takes `nozzle` of the pump at `address` out of its holster.
    ///
    /// # Errors
    /// A [`ControlError`] for an unknown pump or nozzle, or a nozzle already out.
    pub fn lift(&mut self, address: u8, nozzle: u8, now: Instant) -> Result<(), ControlError> {
        self.tick(now);
        let pump = self.pump_mut(address)?;
        let number = NozzleNumber::new(nozzle)
            .filter(|number| usize::from(number.get()) <= pump.prices.len())
            .ok_or(ControlError::NoSuchNozzle {
                pump: pump.address,
                nozzle,
            })?;
        if pump.nozzle_out.is_some() {
            return Err(ControlError::NozzleAlreadyOut { pump: pump.address });
        }
        pump.nozzle_out = Some(number);
        pump.report_nozzle(number, true);
        if pump.status == PumpStatus::Authorized {
            pump.start_filling(now);
        }
        Ok(())
    }

    /// Hangs up the nozzle of the pump at `address`, ending its filling if one is under way.
    ///
    /// # Errors
    /// A [`ControlError`] for an unknown pump or no nozzle out.
    pub fn hang(&mut self, address: u8, now: Instant) -> Result<(), ControlError> {
        self.tick(now);
        let pump = self.pump_mut(address)?;
        let nozzle = pump
            .nozzle_out
            .take()
            .ok_or(ControlError::NoNozzleOut { pump: pump.address })?;
        if matches!(pump.status, PumpStatus::Filling | PumpStatus::Suspended) {
            pump.finish(now, PumpStatus::FillingCompleted);
        }
        pump.report_nozzle(nozzle, false);
        if std::mem::take(&mut pump.totals_due) {
            pump.report_total(TotalCounter::NozzleVolume(nozzle));
            pump.report_total(TotalCounter::NozzleAmount(nozzle));
        }
        Ok(())
    }

    /// A muted pump hears nothing and answers nothing, as if its line were cut.
    ///
    /// # Errors
    /// [`ControlError::UnknownPump`].
    pub fn set_muted(&mut self, address: u8, muted: bool) -> Result<(), ControlError> {
        self.pump_mut(address)?.muted = muted;
        Ok(())
    }

    /// Moves the meters of `nozzle` by `volume` centilitres (and its money total by what that
    /// volume costs at the nozzle's price) without a filling: fuel drawn in a way the controller
    /// does not see, such as a meter test into a can.
    ///
    /// # Errors
    /// A [`ControlError`] for an unknown pump or nozzle.
    pub fn move_meters(
        &mut self,
        address: u8,
        nozzle: u8,
        volume: u64,
    ) -> Result<(), ControlError> {
        let pump = self.pump_mut(address)?;
        let no_such_nozzle = ControlError::NoSuchNozzle {
            pump: pump.address,
            nozzle,
        };
        let price = NozzleNumber::new(nozzle)
            .and_then(|number| pump.price_of(number))
            .ok_or(no_such_nozzle.clone())?;
        let (volume_total, amount_total) = pump
            .totals
            .get_mut(usize::from(nozzle).saturating_sub(1))
            .ok_or(no_such_nozzle)?;
        // Saturating: the volume comes from a control line, and no line may make this panic.
        let amount = volume
            .saturating_mul(u64::from(price.get()))
            .saturating_add(50)
            / 100;
        *volume_total = volume_total.saturating_add(volume);
        *amount_total = amount_total.saturating_add(amount);
        Ok(())
    }

    /// The filling under way at the pump at `address`, or the last one, which it keeps until its
    /// next RESET.
    #[must_use]
    pub fn held_filling(&self, address: PumpAddress) -> Option<HeldFilling> {
        let pump = self.pumps.iter().find(|pump| pump.address == address)?;
        pump.filling.map(|filling| HeldFilling {
            nozzle: filling.nozzle.get(),
            volume: filling.volume,
            amount: filling.amount,
            price: filling.price.get(),
        })
    }

    /// The volume (centilitres) and money (won) totals of a nozzle of the pump at `address`.
    #[must_use]
    pub fn totals(&self, address: PumpAddress, nozzle: u8) -> Option<(u64, u64)> {
        let pump = self.pumps.iter().find(|pump| pump.address == address)?;
        pump.totals
            .get(usize::from(nozzle).checked_sub(1)?)
            .copied()
    }

    /// The status of the pump at `address`, if there is one.
    #[must_use]
    pub fn status(&self, address: PumpAddress) -> Option<PumpStatus> {
        self.pumps
            .iter()
            .find(|pump| pump.address == address)
            .map(|pump| pump.status)
    }

    fn pump_mut(&mut self, address: u8) -> Result<&mut SimulatedPump, ControlError> {
        self.pumps
            .iter_mut()
            .find(|pump| pump.address.get() == address)
            .ok_or(ControlError::UnknownPump { address })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preset {
    Volume(u64),
    Amount(u64),
}

#[derive(Debug)]
struct SimulatedPump {
    address: PumpAddress,
    prices: Vec<PumpPrice>,
    /// Prices received during a filling, applied when it ends.
    deferred_prices: Option<Vec<PumpPrice>>,
    flow_rate: FlowRate,
    status: PumpStatus,
    nozzle_out: Option<NozzleNumber>,
    /// Nozzles allowed by CD2; empty means all.
    allowed: Vec<NozzleNumber>,
    preset: Option<Preset>,
    filling: Option<Filling>,
    /// Volume and amount totals per nozzle, nozzle 1 first.
    totals: Vec<(u64, u64)>,
    /// A filling ended whose totals are reported at hang-up.
    totals_due: bool,
    muted: bool,
    /// The next answer is replaced by line noise.
    noise_next: bool,
    outbox: Vec<FromPump>,
    /// The data block sent and not yet ACKed: TX# and payload.
    unacked: Option<(TxSeq, Vec<u8>)>,
    next_seq: TxSeq,
    /// TX# of the master's last data block, to spot one sent again.
    last_command: Option<TxSeq>,
}

#[derive(Debug, Clone, Copy)]
struct Filling {
    nozzle: NozzleNumber,
    price: PumpPrice,
    /// Time spent flowing before `flowing_since`.
    flowed: Duration,
    /// Set while fuel flows.
    flowing_since: Option<Instant>,
    volume: u64,
    amount: u64,
}

impl SimulatedPump {
    fn new(setup: PumpSetup) -> Self {
        Self {
            address: setup.address,
            totals: vec![(0, 0); setup.prices.len()],
            prices: setup.prices,
            deferred_prices: None,
            flow_rate: setup.flow_rate,
            status: PumpStatus::Reset,
            nozzle_out: None,
            allowed: Vec::new(),
            preset: None,
            filling: None,
            totals_due: false,
            muted: false,
            noise_next: false,
            outbox: Vec::new(),
            unacked: None,
            next_seq: TxSeq::INITIAL,
            last_command: None,
        }
    }

    fn handle_frame(&mut self, now: Instant, kind: FrameKind) -> Vec<u8> {
        match kind {
            FrameKind::Poll => self.answer_poll(),
            FrameKind::Ack(seq) => {
                self.take_ack(seq);
                Vec::new()
            }
            FrameKind::AckPoll(seq) => {
                self.take_ack(seq);
                self.answer_poll()
            }
            FrameKind::Data { seq, payload } => self.take_command(now, seq, &payload),
            FrameKind::Nak(_) | FrameKind::Eot(_) => Vec::new(),
        }
    }

    fn answer_poll(&mut self) -> Vec<u8> {
        if self.unacked.is_none() && !self.outbox.is_empty() {
            let count = self.outbox.len().min(TRANSACTIONS_PER_BLOCK);
            let batch: Vec<FromPump> = self.outbox.drain(..count).collect();
            if let Ok(payload) = transaction::encode_from_pump(&batch) {
                self.unacked = Some((self.next_seq, payload));
            }
        }
        let frame = match &self.unacked {
            Some((seq, payload)) => Frame::data(self.address, *seq, payload.clone()),
            None => Frame::new(self.address, FrameKind::Eot(self.next_seq)),
        };
        frame.map(|frame| frame.encode()).unwrap_or_default()
    }

    fn take_ack(&mut self, seq: TxSeq) {
        if self.unacked.as_ref().is_some_and(|(sent, _)| *sent == seq) {
            self.unacked = None;
            self.next_seq = seq.next();
        }
    }

    fn take_command(&mut self, now: Instant, seq: TxSeq, payload: &[u8]) -> Vec<u8> {
        let ack = Frame::ack(self.address, seq).encode();
        // TX# 0 means the master restarted, so it is always a new block.
        if seq != TxSeq::INITIAL && self.last_command == Some(seq) {
            return ack;
        }
        let decoded: Result<Vec<ToPump>, _> = transaction::split(payload)
            .and_then(|raws| raws.into_iter().map(transaction::decode_to_pump).collect());
        let Ok(transactions) = decoded else {
            return Frame::new(self.address, FrameKind::Nak(seq))
                .map(|frame| frame.encode())
                .unwrap_or_default();
        };
        self.last_command = Some(seq);
        for transaction in transactions {
            self.apply(now, transaction);
        }
        ack
    }

    fn apply(&mut self, now: Instant, transaction: ToPump) {
        self.tick(now);
        match transaction {
            ToPump::Command(command) => self.command(now, command),
            ToPump::AllowedNozzles(nozzles) => self.allowed = nozzles,
            ToPump::PresetVolume(volume) => {
                self.preset = Some(Preset::Volume(u64::from(volume.get())));
            }
            ToPump::PresetAmount(amount) => {
                self.preset = Some(Preset::Amount(u64::from(amount.get())));
            }
            ToPump::PriceUpdate(prices) => {
                if self.is_dispensing() {
                    self.deferred_prices = Some(prices);
                } else {
                    self.set_prices(prices);
                }
            }
            ToPump::RequestTotalCounter(counter) => self.report_total(counter),
        }
    }

    fn command(&mut self, now: Instant, command: PumpCommand) {
        match command {
            PumpCommand::ReturnStatus => self.outbox.push(FromPump::Status(self.status)),
            PumpCommand::ReturnFillingInformation => {
                self.report_volume();
                if let Some(nozzle) = self
                    .filling
                    .map(|filling| filling.nozzle)
                    .or(self.nozzle_out)
                {
                    self.report_nozzle(nozzle, self.nozzle_out.is_some());
                }
            }
            PumpCommand::ReturnPumpIdentity => {
                if let Some(identity) = PumpIdentity::new(u64::from(self.address.get())) {
                    self.outbox.push(FromPump::Identity(identity));
                }
            }
            // Pump parameters (DC7) are not simulated.
            PumpCommand::ReturnPumpParameters => {}
            PumpCommand::Reset => {
                if !matches!(self.status, PumpStatus::Filling | PumpStatus::Suspended) {
                    self.filling = None;
                    self.preset = None;
                    self.allowed.clear();
                    self.set_status(PumpStatus::Reset);
                }
            }
            PumpCommand::Authorize => {
                if self.status == PumpStatus::Reset {
                    self.set_status(PumpStatus::Authorized);
                    if self.nozzle_out.is_some() {
                        self.start_filling(now);
                    }
                } else {
                    self.outbox.push(FromPump::Status(self.status));
                }
            }
            PumpCommand::Stop => match self.status {
                PumpStatus::Authorized => self.set_status(PumpStatus::Reset),
                PumpStatus::Filling | PumpStatus::Suspended => {
                    self.finish(now, PumpStatus::FillingCompleted);
                }
                _ => {}
            },
            PumpCommand::SwitchOff => {
                if matches!(self.status, PumpStatus::Filling | PumpStatus::Suspended) {
                    self.finish(now, PumpStatus::FillingCompleted);
                }
                self.set_status(PumpStatus::SwitchedOff);
            }
            PumpCommand::Suspend => {
                if self.status == PumpStatus::Filling
                    && let Some(filling) = &mut self.filling
                {
                    if let Some(since) = filling.flowing_since.take() {
                        filling.flowed += now.saturating_duration_since(since);
                    }
                    self.set_status(PumpStatus::Suspended);
                }
            }
            PumpCommand::Resume => {
                if self.status == PumpStatus::Suspended
                    && let Some(filling) = &mut self.filling
                {
                    filling.flowing_since = Some(now);
                    self.set_status(PumpStatus::Filling);
                }
            }
        }
    }

    fn is_dispensing(&self) -> bool {
        matches!(
            self.status,
            PumpStatus::Authorized | PumpStatus::Filling | PumpStatus::Suspended
        )
    }

    fn set_prices(&mut self, prices: Vec<PumpPrice>) {
        self.totals.resize(prices.len(), (0, 0));
        self.prices = prices;
    }

    /// The nozzle's price; `None` for a nozzle the last price list left out.
    fn price_of(&self, nozzle: NozzleNumber) -> Option<PumpPrice> {
        let index = usize::from(nozzle.get()).saturating_sub(1);
        self.prices.get(index).copied()
    }

    fn start_filling(&mut self, now: Instant) {
        let Some(nozzle) = self.nozzle_out else {
            return;
        };
        if !self.allowed.is_empty() && !self.allowed.contains(&nozzle) {
            return;
        }
        let Some(price) = self.price_of(nozzle) else {
            return;
        };
        self.filling = Some(Filling {
            nozzle,
            price,
            flowed: Duration::ZERO,
            flowing_since: Some(now),
            volume: 0,
            amount: 0,
        });
        self.set_status(PumpStatus::Filling);
    }

    fn tick(&mut self, now: Instant) {
        if self.status != PumpStatus::Filling {
            return;
        }
        let Some(filling) = &mut self.filling else {
            return;
        };
        let Some(since) = filling.flowing_since else {
            return;
        };
        let flowed = filling.flowed + now.saturating_duration_since(since);
        let price = u64::from(filling.price.get());
        let mut volume = self.flow_rate.volume_after(flowed);
        let mut amount = amount_for(volume, price);
        let reached = match self.preset {
            Some(Preset::Volume(limit)) if volume >= limit => {
                volume = limit;
                amount = amount_for(volume, price);
                true
            }
            Some(Preset::Amount(limit)) if amount >= limit => {
                // The valve closes at the amount; the volume is what that amount buys.
                volume = (limit * 100).checked_div(price).unwrap_or(volume);
                amount = limit;
                true
            }
            _ => false,
        };
        if volume != filling.volume {
            filling.volume = volume;
            filling.amount = amount;
            self.report_volume();
        }
        if let Some(filling) = &mut self.filling {
            filling.volume = volume;
            filling.amount = amount;
        }
        if reached {
            self.finish(now, PumpStatus::MaxAmountOrVolumeReached);
        }
    }

    /// Ends the filling: final volume and amount, the status, totals, deferred prices.
    fn finish(&mut self, now: Instant, status: PumpStatus) {
        if status == PumpStatus::FillingCompleted {
            self.tick(now);
        }
        if let Some(filling) = &mut self.filling {
            filling.flowing_since = None;
            let index = usize::from(filling.nozzle.get()).saturating_sub(1);
            if let Some((volume, amount)) = self.totals.get_mut(index) {
                *volume += filling.volume;
                *amount += filling.amount;
            }
        }
        self.report_volume();
        self.set_status(status);
        self.totals_due = true;
        if let Some(prices) = self.deferred_prices.take() {
            self.set_prices(prices);
        }
    }

    fn set_status(&mut self, status: PumpStatus) {
        self.status = status;
        self.outbox.push(FromPump::Status(status));
    }

    /// Queues DC2, replacing a running value not yet sent.
    fn report_volume(&mut self) {
        let (volume, amount) = self
            .filling
            .map_or((0, 0), |filling| (filling.volume, filling.amount));
        let (Some(volume), Some(amount)) = (
            u32::try_from(volume).ok().and_then(PumpVolume::new),
            u32::try_from(amount).ok().and_then(PumpAmount::new),
        ) else {
            return;
        };
        self.outbox
            .retain(|message| !matches!(message, FromPump::FilledVolumeAndAmount { .. }));
        self.outbox
            .push(FromPump::FilledVolumeAndAmount { volume, amount });
    }

    fn report_nozzle(&mut self, nozzle: NozzleNumber, nozzle_out: bool) {
        // The price of the filling on that nozzle while it runs and when it is hung up after
        // it; else (a new lift) the nozzle's current price.
        let of_filling = self.is_dispensing() || !nozzle_out;
        let price = self
            .filling
            .filter(|filling| filling.nozzle == nozzle && of_filling)
            .map(|filling| filling.price)
            .or_else(|| self.price_of(nozzle));
        let Some(price) = price else {
            return;
        };
        self.outbox.push(FromPump::NozzleStatusAndPrice {
            price,
            nozzle: Some(nozzle),
            nozzle_out,
        });
    }

    fn report_total(&mut self, counter: TotalCounter) {
        let total = match counter {
            TotalCounter::NozzleVolume(nozzle) => self.nozzle_total(nozzle).0,
            TotalCounter::NozzleAmount(nozzle) => self.nozzle_total(nozzle).1,
            TotalCounter::PumpVolume => self.totals.iter().map(|total| total.0).sum(),
            TotalCounter::PumpAmount => self.totals.iter().map(|total| total.1).sum(),
        };
        let (Some(total), Some(zero)) = (PumpTotal::new(total), PumpTotal::new(0)) else {
            return;
        };
        // One meter per nozzle in this simulation: meter 1 carries the whole total.
        self.outbox.push(FromPump::TotalCounter {
            counter,
            total,
            meter_1: total,
            meter_2: Some(zero),
        });
    }

    fn nozzle_total(&self, nozzle: NozzleNumber) -> (u64, u64) {
        let index = usize::from(nozzle.get()).saturating_sub(1);
        self.totals.get(index).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
