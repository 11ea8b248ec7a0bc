//! The forecourt: the pumps on the pump controller's serial line (Wayne DART), supervised by one
//! thread that owns the line.
//!
//! - The screens see every pump's state live ([`crate::live`]): idle, nozzle up, authorized,
//!   fueling with the running volume and amount, finished and waiting for payment, offline.
//! - The POS authorizes a pump (with a volume or amount preset, or none for post-pay) or stops
//!   it through [`Forecourt`]; the answer comes once the pump took the command.
//! - When a filling ends, the pump's own volume, unit price and amount are recorded as a fueling
//!   in the station ([`Station::record_fueling`]); the cashier settles it later as a sale.
//! - The price in force is sent to each pump when the line opens and whenever it changes, but
//!   only to a pump that is idle: a filling never changes price under the customer's eyes.
//!
//! The pumps' units: volume in centilitres, amount in won, unit price in won per litre (the
//! decimal positions a DART pump is programmed with at this network's stations).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use forecourt_protocols::dart::transaction::{PumpAmount, PumpPrice, PumpStatus, PumpVolume};
use forecourt_protocols::dart::{CommandId, MasterConfig, PumpAddress};
use jiff::Timestamp;
use pump_controller::{LineSettings, Preset, PumpError, PumpEvent, PumpLine};
use station_core::{Millilitres, NewFueling, PriceItem, Station, Tank, TankNo, UnitPrice, Won};
use tokio::sync::oneshot;

use crate::live::{DeviceState, Live, PresetView, PumpView};

/// Millilitres in one unit of the pumps' volume (centilitres).
const ML_PER_PUMP_UNIT: i64 = 10;
/// How often the price in force is compared with what the pumps hold.
const PRICE_CHECK: Duration = Duration::from_secs(1);
/// How long to wait before opening a line that failed again.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// Which tank each pump's nozzle draws from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NozzleMap(BTreeMap<(u8, u8), TankNo>);

impl NozzleMap {
    /// Parses `PUMP/NOZZLE=TANK` entries, the pump as its DART address in hex (`50/1=3`).
    pub fn parse(entries: &[String]) -> anyhow::Result<NozzleMap> {
        let mut map = BTreeMap::new();
        for entry in entries {
            let bad = || format!("--nozzle `{entry}` is not PUMP/NOZZLE=TANK, e.g. 50/1=3");
            let (pump_nozzle, tank) = entry.split_once('=').with_context(bad)?;
            let (pump, nozzle) = pump_nozzle.split_once('/').with_context(bad)?;
            let pump = u8::from_str_radix(pump.trim().trim_start_matches("0x"), 16)
                .ok()
                .and_then(|p| PumpAddress::new(p).ok())
                .with_context(|| format!("--nozzle `{entry}`: the pump is an address 50 to 6F"))?;
            let nozzle: u8 = nozzle
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=15).contains(n))
                .with_context(|| format!("--nozzle `{entry}`: the nozzle is 1 to 15"))?;
            let tank: TankNo = tank
                .trim()
                .parse()
                .with_context(|| format!("--nozzle `{entry}`"))?;
            if map.insert((pump.get(), nozzle), tank).is_some() {
                bail!("--nozzle `{entry}`: that nozzle is given twice");
            }
        }
        Ok(NozzleMap(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn pumps(&self) -> Vec<u8> {
        let mut pumps: Vec<u8> = self.0.keys().map(|(pump, _)| *pump).collect();
        pumps.dedup();
        pumps
    }

    fn tank(&self, pump: u8, nozzle: u8) -> Option<TankNo> {
        self.0.get(&(pump, nozzle)).copied()
    }

    fn nozzles(&self, pump: u8) -> impl Iterator<Item = (u8, TankNo)> + '_ {
        self.0
            .iter()
            .filter(move |((p, _), _)| *p == pump)
            .map(|((_, nozzle), tank)| (*nozzle, *tank))
    }
}

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
        }
    }

    fn run(mut self, commands: &mpsc::Receiver<Command>, stop: &AtomicBool) {
        self.refresh_unpaid();
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
            if let Err(error) = line.step() {
                return Some(error);
            }
            let mut changed = false;
            while let Ok(event) = line.next_event(Duration::ZERO) {
                changed |= self.event(event);
            }
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
            PumpEvent::Online { pump } => self.with(pump, |t| t.online = true),
            PumpEvent::Offline { pump } => self.with(pump, |t| {
                t.online = false;
                t.sent_prices = None;
            }),
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
            } => {
                self.finished(pump, nozzle.map(|n| n.get()), volume, amount, price);
                true
            }
            PumpEvent::CommandDelivered { pump, command } => {
                let Some((becomes, reply)) = self.pending.remove(&command) else {
                    return false;
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
                self.with(pump, |t| t.preset = None)
            }
            PumpEvent::Alarm { pump, code } => {
                tracing::warn!(pump = %format!("{:X}", pump.get()), code, "pump alarm");
                false
            }
            PumpEvent::Total { .. } => false,
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

    /// A filling ended: record it, unpaid, with the pump's own figures.
    fn finished(
        &mut self,
        pump: PumpAddress,
        nozzle: Option<u8>,
        volume: PumpVolume,
        amount: PumpAmount,
        price: Option<PumpPrice>,
    ) {
        let address = pump.get();
        let Some(track) = self.pumps.get_mut(&address) else {
            return;
        };
        let volume_ml = i64::from(volume.get()) * ML_PER_PUMP_UNIT;
        let amount_won = i64::from(amount.get());
        track.volume_ml = volume_ml;
        track.amount_won = amount_won;
        track.preset = None;
        track.lifted = false;
        let nozzle = nozzle.or(track.nozzle);
        let unit_price = price.map(|p| i64::from(p.get())).or(track.unit_price);
        if volume_ml == 0 {
            return; // the nozzle was lifted and hung up without fuel
        }
        let (Some(nozzle), Some(unit_price)) = (nozzle, unit_price) else {
            tracing::error!(pump = %format!("{address:X}"), "a filling ended without its nozzle or price");
            return;
        };
        let Some(tank) = self.config.nozzles.tank(address, nozzle) else {
            tracing::error!(pump = %format!("{address:X}"), nozzle, "a filling from a nozzle with no tank set up");
            return;
        };
        let recorded = self.station.record_fueling(
            NewFueling {
                pump: address,
                nozzle,
                tank,
                volume: Millilitres(volume_ml),
                amount: Won(amount_won),
                unit_price: UnitPrice(unit_price),
            },
            Timestamp::now(),
        );
        match recorded {
            Ok(fueling) => {
                tracing::info!(fueling = %fueling.fueling, pump = %format!("{address:X}"), volume_ml, amount_won, "fueling finished");
                self.refresh_unpaid();
                self.live.bump_revision();
            }
            Err(error) => tracing::error!(%error, "recording a fueling failed"),
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
        self.live.update(|s| s.pumps = views);
    }

    fn view(&self, pump: u8, track: &Track) -> PumpView {
        let unpaid = self.unpaid.get(&pump).cloned().unwrap_or_default();
        let state = if !track.online {
            "offline"
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
        }
    }
}

fn queue_error(error: PumpError) -> ForecourtError {
    ForecourtError::new("pump_unavailable", error.to_string())
}

/// The unit prices a pump's nozzles should hold, nozzle 1 first: each nozzle's tank's product at
/// the price in force. A nozzle with no tank set up gets its neighbour's price (a pump needs a
/// price for every nozzle). `None` until every set-up nozzle has a price.
fn prices_for(
    (tanks, list): &(Vec<Tank>, Vec<PriceItem>),
    nozzles: &NozzleMap,
    pump: u8,
) -> Option<Vec<u32>> {
    let mut by_nozzle = BTreeMap::new();
    for (nozzle, tank) in nozzles.nozzles(pump) {
        let product = &tanks.iter().find(|t| t.tank == tank)?.product;
        let price = list
            .iter()
            .find(|item| &item.product == product)?
            .unit_price;
        by_nozzle.insert(nozzle, u32::try_from(price.get()).ok()?);
    }
    let last = *by_nozzle.keys().next_back()?;
    let mut prices = Vec::with_capacity(usize::from(last));
    let mut fallback = *by_nozzle.values().next()?;
    for nozzle in 1..=last {
        if let Some(price) = by_nozzle.get(&nozzle) {
            fallback = *price;
        }
        prices.push(fallback);
    }
    Some(prices)
}
