//! The forecourt: the pumps on the pump controller's serial line (Wayne DART), supervised by one
//! thread that owns the line.
//!
//! - The screens see every pump's state live ([`crate::live`]): idle, nozzle up, authorized,
//!   fueling with the running volume and amount, finished and waiting for payment, offline.
//! - The POS authorizes a pump (with a volume or amount preset, or none for post-pay) or stops
//!   it through [`Forecourt`]; the answer comes once the pump took the command.
//! - Whenever a pump comes (back) online (the line reopened, the runtime started, the pump
//!   answers again) and after every filling, the pump is read back ([`read_back`]): its status,
//!   the filling it holds (a pump keeps its last filling until the next authorization) and its
//!   totals counters per nozzle. The filling is recorded as a fueling with the pump's own volume,
//!   unit price and amount ([`Station::record_pump_read_back`]), once: it is known by its pump,
//!   nozzle and that nozzle's volume counter after it, so a filling that ended while the line was
//!   down or the runtime stopped is recorded when the pump is back, and one read back again is
//!   not recorded twice. The counters are kept, and a gap between them and the fuelings shows as
//!   a variance in the grid. A read-back the database does not take is tried again, never
//!   dropped; until its filling is recorded, the pump is not authorized again. The cashier
//!   settles a fueling later as a sale.
//! - Whatever the line cannot decode is counted in the live state and logged with its bytes.
//! - The price in force is sent to each pump when the line opens and whenever it changes, but
//!   only to a pump that is idle: a filling never changes price under the customer's eyes.
//!
//! The pumps' units: volume in centilitres, amount in won, unit price in won per litre (the
//! decimal positions a DART pump is programmed with at this network's stations).

mod nozzles;
mod read_back;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use forecourt_protocols::dart::transaction::{PumpAmount, PumpPrice, PumpStatus, PumpVolume};
use forecourt_protocols::dart::{CommandId, MasterConfig, PumpAddress};
use jiff::Timestamp;
use pump_controller::{LineSettings, Preset, PumpError, PumpEvent, PumpLine};
use station_core::{Millilitres, NozzleTotals, PriceItem, Station, Tank, Won};
use tokio::sync::oneshot;

use crate::live::{DeviceState, Live, NozzleTotalsView, PresetView, PumpLineCounts, PumpView};
pub use nozzles::NozzleMap;
use nozzles::prices_for;
use read_back::{ReadBackState, Unrecorded, Why};

/// Millilitres in one unit of the pumps' volume (centilitres).
const ML_PER_PUMP_UNIT: i64 = 10;
/// How often the price in force is compared with what the pumps hold.
const PRICE_CHECK: Duration = Duration::from_secs(1);
/// How long to wait before opening a line that failed again.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// Where the pumps are.
#[derive(Debug, Clone)]
pub struct ForecourtConfig {
    pub db: PathBuf,
    pub port: String,
    pub nozzles: NozzleMap,
}

/// Why the forecourt refused a command. `code` is the stable code the UI translates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ForecourtError {
    pub code: &'static str,
    pub message: String,
}

impl ForecourtError {
    fn new(code: &'static str, message: impl Into<String>) -> ForecourtError {
        ForecourtError {
            code,
            message: message.into(),
        }
    }
}

/// A preset as the POS asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetRequest {
    Volume(Millilitres),
    Amount(Won),
}

type Reply = oneshot::Sender<Result<(), ForecourtError>>;

enum Command {
    Authorize {
        pump: u8,
        preset: Option<PresetRequest>,
        reply: Reply,
    },
    Stop {
        pump: u8,
        reply: Reply,
    },
    /// A fueling was settled elsewhere: read the unpaid ones again.
    RefreshUnpaid,
}

/// The POS's handle on the forecourt.
#[derive(Debug, Clone)]
pub struct Forecourt {
    commands: mpsc::Sender<Command>,
}

impl Forecourt {
    /// Authorizes a pump; resolves once the pump took the command.
    pub async fn authorize(
        &self,
        pump: u8,
        preset: Option<PresetRequest>,
    ) -> Result<(), ForecourtError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Authorize {
            pump,
            preset,
            reply,
        })?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Stops a pump's filling now.
    pub async fn stop(&self, pump: u8) -> Result<(), ForecourtError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Stop { pump, reply })?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Says that a fueling was paid, so the grid stops showing it as waiting.
    pub fn refresh_unpaid(&self) {
        let _ = self.commands.send(Command::RefreshUnpaid);
    }

    fn send(&self, command: Command) -> Result<(), ForecourtError> {
        self.commands.send(command).map_err(|_| stopped())
    }
}

fn stopped() -> ForecourtError {
    ForecourtError::new("pump_unavailable", "the pump supervisor has stopped")
}

/// Starts the supervisor thread.
pub fn start(
    config: ForecourtConfig,
    live: Live,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Forecourt> {
    let (commands, receiver) = mpsc::channel();
    let station = Station::open(&config.db)?;
    std::thread::Builder::new()
        .name("forecourt".into())
        .spawn(move || Supervisor::new(config, station, live).run(&receiver, &stop))?;
    Ok(Forecourt { commands })
}

/// What is known of one pump.
#[derive(Debug, Clone, Default)]
struct Track {
    online: bool,
    status: Option<PumpStatus>,
    lifted: bool,
    nozzle: Option<u8>,
    unit_price: Option<i64>,
    volume_ml: i64,
    amount_won: i64,
    preset: Option<PresetView>,
    /// The prices last sent, nozzle 1 first.
    sent_prices: Option<Vec<u32>>,
    read_back: ReadBackState,
    /// Read-backs completed since the runtime started.
    read_backs: u64,
}

impl Track {
    /// Between fillings and with the nozzle in its holster: safe to send prices to.
    fn is_idle(&self) -> bool {
        self.online
            && !self.lifted
            && matches!(
                self.status,
                None | Some(
                    PumpStatus::NotProgrammed
                        | PumpStatus::Reset
                        | PumpStatus::FillingCompleted
                        | PumpStatus::MaxAmountOrVolumeReached
                )
            )
    }
}

struct Supervisor {
    config: ForecourtConfig,
    station: Station,
    live: Live,
    pumps: BTreeMap<u8, Track>,
    unpaid: BTreeMap<u8, Vec<String>>,
    /// Commands sent and not yet acknowledged: what the pump will be once it takes one (for an
    /// authorization), and who waits for the answer.
    pending: HashMap<CommandId, (Option<PumpStatus>, Reply)>,
    /// The tanks and the price list in force, read again at each price check: the prices the
    /// pumps should hold and the grid's product names come from here.
    catalog: (Vec<Tank>, Vec<PriceItem>),
    /// Read-backs the station has not recorded yet.
    unrecorded: Unrecorded,
    /// The counters beside the fuelings, per nozzle, as last read from the station.
    totals: Vec<NozzleTotals>,
    /// What the line could not decode, since the runtime started.
    undecodable: u64,
}

impl Supervisor {
    fn new(config: ForecourtConfig, station: Station, live: Live) -> Supervisor {
        let pumps = config
            .nozzles
            .pumps()
            .into_iter()
            .map(|p| (p, Track::default()))
            .collect();
        Supervisor {
            config,
            station,
            live,
            pumps,
            unpaid: BTreeMap::new(),
            pending: HashMap::new(),
            catalog: (Vec::new(), Vec::new()),
            unrecorded: Unrecorded::default(),
            totals: Vec::new(),
            undecodable: 0,
        }
    }

    fn run(mut self, commands: &mpsc::Receiver<Command>, stop: &AtomicBool) {
        self.refresh_unpaid();
        self.refresh_totals();
        self.live.update(|s| s.pump_line = DeviceState::CONNECTING);
        self.publish();
        while !stop.load(Ordering::Relaxed) {
            let addresses = self
                .pumps
                .keys()
                .filter_map(|p| PumpAddress::new(*p).ok())
                .collect();
            let mut config = MasterConfig::new(addresses);
            // Serial adapters and pseudo-terminals add latency to the specification's 25 ms.
            config.response_timeout = Duration::from_millis(60);
            match PumpLine::open(&self.config.port, LineSettings::default(), config) {
                Ok(line) => {
                    self.live.update(|s| s.pump_line = DeviceState::ready());
                    let error = self.drive(line, commands, stop);
                    if let Some(error) = error {
                        tracing::warn!(%error, "the pump line failed");
                        self.line_down(&error.to_string());
                    }
                }
                Err(error) => {
                    self.line_down(&error.to_string());
                    self.answer_commands_while_down(commands, REOPEN_AFTER);
                }
            }
        }
    }

    fn line_down(&mut self, why: &str) {
        self.live
            .update(|s| s.pump_line = DeviceState::disconnected(why));
        for track in self.pumps.values_mut() {
            track.online = false;
            track.sent_prices = None;
            // The questions asked went with the line; the pump is read back when it is back.
            track.read_back.lost();
        }
        for (_, (_, reply)) in self.pending.drain() {
            let _ = reply.send(Err(ForecourtError::new(
                "pump_unavailable",
                "the pump line is down",
            )));
        }
        self.publish();
    }

    /// While the line cannot be opened: refuse commands at once, for `wait`.
    fn answer_commands_while_down(&mut self, commands: &mpsc::Receiver<Command>, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Ok(command) =
            commands.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            match command {
                Command::Authorize { reply, .. } | Command::Stop { reply, .. } => {
                    let _ = reply.send(Err(ForecourtError::new(
                        "pump_unavailable",
                        "the pump line is down",
                    )));
                }
                Command::RefreshUnpaid => {
                    self.refresh_unpaid();
                    self.publish();
                }
            }
        }
        // Read-backs wait to be recorded while the line is down too.
        if self.record_waiting() {
            self.publish();
        }
    }

    /// Runs the open line until it fails or `stop` is set.
    fn drive(
        &mut self,
        mut line: PumpLine,
        commands: &mpsc::Receiver<Command>,
        stop: &AtomicBool,
    ) -> Option<PumpError> {
        let mut last_price_check: Option<Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            while let Ok(command) = commands.try_recv() {
                self.command(&mut line, command);
            }
            // A pump that came online gets its prices at once; changes are looked for every
            // PRICE_CHECK.
            if last_price_check.is_none_or(|at| at.elapsed() >= PRICE_CHECK) {
                self.send_prices(&mut line, true);
                last_price_check = Some(Instant::now());
            } else if self
                .pumps
                .values()
                .any(|t| t.sent_prices.is_none() && t.is_idle())
            {
                self.send_prices(&mut line, false);
            }
            let mut changed = self.ask_read_backs(&mut line);
            if let Err(error) = line.step() {
                return Some(error);
            }
            while let Ok(event) = line.next_event(Duration::ZERO) {
                changed |= self.event(event);
            }
            changed |= self.record_waiting();
            if changed {
                self.publish();
            }
        }
        None
    }

    fn command(&mut self, line: &mut PumpLine, command: Command) {
        match command {
            Command::Authorize {
                pump,
                preset,
                reply,
            } => match self.authorize(line, pump, preset) {
                Ok(id) => {
                    self.pending
                        .insert(id, (Some(PumpStatus::Authorized), reply));
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            Command::Stop { pump, reply } => {
                let sent = self
                    .known(pump)
                    .and_then(|address| line.stop(address).map_err(queue_error));
                match sent {
                    Ok(id) => {
                        self.pending.insert(id, (None, reply));
                    }
                    Err(error) => {
                        let _ = reply.send(Err(error));
                    }
                }
            }
            Command::RefreshUnpaid => {
                self.refresh_unpaid();
                self.publish();
            }
        }
    }

    fn known(&self, pump: u8) -> Result<PumpAddress, ForecourtError> {
        let track = self.pumps.get(&pump).ok_or_else(|| {
            ForecourtError::new("unknown_pump", format!("no pump {pump:X} at this station"))
        })?;
        if !track.online {
            return Err(ForecourtError::new(
                "pump_unavailable",
                format!("pump {pump:X} does not answer"),
            ));
        }
        PumpAddress::new(pump)
            .map_err(|_| ForecourtError::new("unknown_pump", format!("{pump:X} is not a pump")))
    }

    fn authorize(
        &mut self,
        line: &mut PumpLine,
        pump: u8,
        preset: Option<PresetRequest>,
    ) -> Result<CommandId, ForecourtError> {
        let address = self.known(pump)?;
        let track = self.pumps.get(&pump).cloned().unwrap_or_default();
        // An authorization clears the filling the pump holds: not before it is recorded.
        if track.read_back.reason().is_some() || self.unrecorded.holds_filling_of(pump) {
            return Err(ForecourtError::new(
                "pump_unavailable",
                format!(
                    "pump {pump:X} is being read back and its last filling recorded; try again in \
                     a moment"
                ),
            ));
        }
        if track.sent_prices.is_none() {
            return Err(ForecourtError::new(
                "pump_unavailable",
                format!("pump {pump:X} has no prices yet: is a price in force for its nozzles?"),
            ));
        }
        if matches!(
            track.status,
            Some(PumpStatus::Authorized | PumpStatus::Filling | PumpStatus::Suspended)
        ) || track.lifted
        {
            return Err(ForecourtError::new(
                "pump_busy",
                format!("pump {pump:X} is already authorized or in use"),
            ));
        }
        let (wire, view) = match preset {
            None => (None, None),
            Some(PresetRequest::Volume(volume)) => {
                let units = volume.get() / ML_PER_PUMP_UNIT;
                let wire = u32::try_from(units)
                    .ok()
                    .filter(|u| *u > 0)
                    .and_then(PumpVolume::new)
                    .ok_or_else(|| {
                        ForecourtError::new(
                            "invalid_input",
                            format!("a preset of {} ml is not possible", volume.get()),
                        )
                    })?;
                (
                    Some(Preset::Volume(wire)),
                    Some(PresetView::Volume {
                        volume_ml: units * ML_PER_PUMP_UNIT,
                    }),
                )
            }
            Some(PresetRequest::Amount(amount)) => {
                let wire = u32::try_from(amount.get())
                    .ok()
                    .filter(|a| *a > 0)
                    .and_then(PumpAmount::new)
                    .ok_or_else(|| {
                        ForecourtError::new(
                            "invalid_input",
                            format!("a preset of {} won is not possible", amount.get()),
                        )
                    })?;
                (
                    Some(Preset::Amount(wire)),
                    Some(PresetView::Amount {
                        amount_won: amount.get(),
                    }),
                )
            }
        };
        let id = line.authorize(address, wire).map_err(queue_error)?;
        if let Some(track) = self.pumps.get_mut(&pump) {
            track.preset = view;
        }
        Ok(id)
    }

    /// Sends the price in force to every idle pump that does not hold it yet; with `all` false,
    /// only to pumps that were sent none since they came online.
    fn send_prices(&mut self, line: &mut PumpLine, all: bool) {
        // The sync agent brings scheduled versions into force; this only follows what is in force.
        let now = Timestamp::now();
        if all && let (Ok(tanks), Ok(list)) = (self.station.tanks(), self.station.price_list(now)) {
            self.catalog = (tanks, list);
        }
        for (pump, track) in &mut self.pumps {
            if !track.is_idle() || (!all && track.sent_prices.is_some()) {
                continue;
            }
            let Some(prices) = prices_for(&self.catalog, &self.config.nozzles, *pump) else {
                continue;
            };
            if track.sent_prices.as_ref() == Some(&prices) {
                continue;
            }
            let Ok(address) = PumpAddress::new(*pump) else {
                continue;
            };
            let wire: Vec<PumpPrice> = prices.iter().filter_map(|p| PumpPrice::new(*p)).collect();
            match line.set_prices(address, wire) {
                Ok(_) => track.sent_prices = Some(prices),
                Err(error) => tracing::warn!(%error, pump = %format!("{pump:X}"), "sending prices"),
            }
        }
    }

    /// Applies one event; true when the grid changed.
    fn event(&mut self, event: PumpEvent) -> bool {
        match event {
            PumpEvent::Online { pump } => self.with(pump, |t| {
                t.online = true;
                t.read_back.trigger(Why::Reconnected);
            }),
            PumpEvent::Offline { pump } => self.with(pump, |t| {
                t.online = false;
                t.sent_prices = None;
                t.read_back.lost();
            }),
            PumpEvent::Quiet { pump } => {
                self.with(pump, |t| t.read_back.quiet());
                false
            }
            PumpEvent::Status { pump, status } => self.with(pump, |t| {
                t.online = true;
                t.status = Some(status);
                if status == PumpStatus::Reset {
                    t.volume_ml = 0;
                    t.amount_won = 0;
                }
            }),
            PumpEvent::Nozzle {
                pump,
                nozzle,
                lifted,
                price,
            } => self.with(pump, |t| {
                t.lifted = lifted;
                if let Some(nozzle) = nozzle {
                    t.nozzle = Some(nozzle.get());
                }
                t.unit_price = Some(i64::from(price.get()));
            }),
            PumpEvent::Filling {
                pump,
                volume,
                amount,
            } => self.with(pump, |t| {
                t.volume_ml = i64::from(volume.get()) * ML_PER_PUMP_UNIT;
                t.amount_won = i64::from(amount.get());
            }),
            PumpEvent::TransactionFinished {
                pump,
                nozzle,
                volume,
                amount,
                price,
                ..
            } => self.with(pump, |t| {
                t.volume_ml = i64::from(volume.get()) * ML_PER_PUMP_UNIT;
                t.amount_won = i64::from(amount.get());
                t.preset = None;
                t.lifted = false;
                if let Some(nozzle) = nozzle {
                    t.nozzle = Some(nozzle.get());
                }
                if let Some(price) = price {
                    t.unit_price = Some(i64::from(price.get()));
                }
                t.read_back.trigger(Why::FillingEnded);
            }),
            PumpEvent::CommandDelivered { pump, command } => {
                let Some((becomes, reply)) = self.pending.remove(&command) else {
                    return self.read_back_answered(pump, |read_back| {
                        read_back.taken(command);
                    });
                };
                // The pump took it: show it so before answering, so the answer shows it too.
                if let Some(status) = becomes {
                    self.with(pump, |t| t.status = Some(status));
                    self.publish();
                }
                let _ = reply.send(Ok(()));
                false
            }
            PumpEvent::CommandFailed {
                pump,
                command,
                reason,
            } => {
                let message = format!("pump {:X} did not take the command: {reason:?}", pump.get());
                tracing::warn!(%message);
                if let Some((_, reply)) = self.pending.remove(&command) {
                    let _ = reply.send(Err(ForecourtError::new("pump_unavailable", message)));
                }
                self.with(pump, |t| {
                    t.preset = None;
                    if t.read_back
                        .asked()
                        .is_some_and(|read_back| read_back.asked(command))
                    {
                        t.read_back.retry_later(Instant::now());
                    }
                })
            }
            PumpEvent::Alarm { pump, code } => {
                tracing::warn!(pump = %format!("{:X}", pump.get()), code, "pump alarm");
                false
            }
            PumpEvent::Total {
                pump,
                counter,
                total,
            } => self.read_back_answered(pump, |read_back| {
                read_back.reported(counter, total.get());
            }),
            PumpEvent::Undecodable {
                pump,
                code,
                detail,
                bytes,
            } => {
                self.undecodable = self.undecodable.saturating_add(1);
                let hex: Vec<String> = bytes.iter().map(|byte| format!("{byte:02X}")).collect();
                tracing::warn!(
                    pump = %pump.map_or_else(|| "?".to_owned(), |p| format!("{:X}", p.get())),
                    code,
                    %detail,
                    bytes = %hex.join(" "),
                    "the pump line sent what cannot be decoded"
                );
                true
            }
        }
    }

    fn with(&mut self, pump: PumpAddress, change: impl FnOnce(&mut Track)) -> bool {
        match self.pumps.get_mut(&pump.get()) {
            Some(track) => {
                change(track);
                true
            }
            None => false,
        }
    }

    fn refresh_unpaid(&mut self) {
        match self.station.unpaid_fuelings() {
            Ok(fuelings) => {
                self.unpaid.clear();
                for fueling in fuelings {
                    self.unpaid
                        .entry(fueling.pump)
                        .or_default()
                        .push(fueling.fueling.to_string());
                }
            }
            Err(error) => tracing::error!(%error, "reading unpaid fuelings failed"),
        }
    }

    /// Puts the grid into the live state.
    fn publish(&self) {
        let views: Vec<PumpView> = self
            .pumps
            .iter()
            .map(|(pump, track)| self.view(*pump, track))
            .collect();
        let counts = PumpLineCounts {
            undecodable: self.undecodable,
            fuelings_waiting: self.unrecorded.fillings(),
        };
        self.live.update(|s| {
            s.pumps = views;
            s.pump_line_counts = counts;
        });
    }

    fn view(&self, pump: u8, track: &Track) -> PumpView {
        let unpaid = self.unpaid.get(&pump).cloned().unwrap_or_default();
        // A pump that came back is offline to the POS until it is read back (unless it reports
        // a filling under way); one whose filling ended is still fueling for the station until
        // the filling is recorded.
        let dispensing = matches!(
            track.status,
            Some(PumpStatus::Filling | PumpStatus::Suspended)
        );
        let state = if !track.online
            || (track.read_back.reason() == Some(Why::Reconnected) && !dispensing)
        {
            "offline"
        } else if track.read_back.reason().is_some() || self.unrecorded.holds_filling_of(pump) {
            "fueling"
        } else {
            match track.status {
                Some(PumpStatus::Filling | PumpStatus::Suspended) => "fueling",
                Some(PumpStatus::Authorized) if track.lifted => "fueling",
                Some(PumpStatus::Authorized) => "authorized",
                _ if track.lifted => "nozzle_up",
                _ if !unpaid.is_empty() => "finished",
                _ => "idle",
            }
        };
        let tank = track
            .nozzle
            .and_then(|nozzle| self.config.nozzles.tank(pump, nozzle));
        let (tanks, list) = &self.catalog;
        let product = tank.and_then(|tank| tanks.iter().find(|t| t.tank == tank));
        let product_name = product.and_then(|t| {
            list.iter()
                .find(|item| item.product == t.product)
                .map(|item| item.name.clone())
        });
        PumpView {
            pump: format!("{pump:X}"),
            state,
            nozzle: track.nozzle,
            product: product.map(|t| t.product.to_string()),
            product_name,
            unit_price_won: track.unit_price,
            volume_ml: track.volume_ml,
            amount_won: track.amount_won,
            preset: track.preset,
            unpaid,
            totals: self
                .totals
                .iter()
                .filter(|totals| totals.pump == pump)
                .map(|totals| NozzleTotalsView {
                    nozzle: totals.nozzle,
                    volume_total_ml: totals.volume_total.get(),
                    amount_total_won: totals.amount_total.map(Won::get),
                    counted_volume_ml: totals.counted_volume.get(),
                    recorded_volume_ml: totals.recorded_volume.get(),
                    volume_variance_ml: totals.volume_variance.get(),
                    amount_variance_won: totals.amount_variance.map(Won::get),
                })
                .collect(),
            read_backs: track.read_backs,
        }
    }
}

fn queue_error(error: PumpError) -> ForecourtError {
    ForecourtError::new("pump_unavailable", error.to_string())
}
