//! The station's live state: what the supervisors last saw of the link to HQ and of each device,
//! and every pump's state. One `watch` channel holds it; supervisors change it, and the API's
//! push channel sends each new version to the screens. Nothing here is the record of anything:
//! sales, fuelings and stock live in the database, this only says what is happening now.

use serde::Serialize;
use tokio::sync::watch;

/// The state of a device or link as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceState {
    /// False when the station has no such device set up.
    pub configured: bool,
    /// `not_configured`, `connecting`, `ready`, `not_ready` or `disconnected`.
    pub state: &'static str,
    /// What is wrong, in words, when something is.
    pub detail: Option<String>,
}

impl DeviceState {
    pub const NOT_CONFIGURED: DeviceState = DeviceState {
        configured: false,
        state: "not_configured",
        detail: None,
    };
    pub const CONNECTING: DeviceState = DeviceState {
        configured: true,
        state: "connecting",
        detail: None,
    };

    pub fn ready() -> DeviceState {
        DeviceState {
            configured: true,
            state: "ready",
            detail: None,
        }
    }

    pub fn not_ready(detail: impl Into<String>) -> DeviceState {
        DeviceState {
            configured: true,
            state: "not_ready",
            detail: Some(detail.into()),
        }
    }

    pub fn disconnected(detail: impl Into<String>) -> DeviceState {
        DeviceState {
            configured: true,
            state: "disconnected",
            detail: Some(detail.into()),
        }
    }
}

/// The link to HQ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncState {
    /// Connected to the broker now.
    pub connected: bool,
    /// Events recorded but not yet acknowledged by HQ.
    pub backlog: u64,
    /// The last event HQ acknowledged.
    pub acknowledged_through: u64,
    /// A message from HQ this station cannot read yet (a newer schema): waiting for an upgrade.
    pub held: Option<String>,
    /// Times the station found its history and HQ's differ (see `/api/sync/divergences`).
    pub divergences: u64,
}

/// A preset an authorized filling stops at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PresetView {
    Volume { volume_ml: i64 },
    Amount { amount_won: i64 },
}

/// One pump as the forecourt grid shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PumpView {
    /// The pump's DART address in hex, e.g. "50".
    pub pump: String,
    /// `offline`, `idle`, `nozzle_up`, `authorized`, `fueling` or `finished` (the last filling
    /// ended and waits for payment; the pump is free again).
    pub state: &'static str,
    pub nozzle: Option<u8>,
    pub product: Option<String>,
    pub product_name: Option<String>,
    pub unit_price_won: Option<i64>,
    /// The running (or last) filling.
    pub volume_ml: i64,
    pub amount_won: i64,
    pub preset: Option<PresetView>,
    /// Unpaid finished fuelings of this pump, oldest first.
    pub unpaid: Vec<String>,
    /// Its nozzles' totals counters beside the fuelings recorded against them.
    pub totals: Vec<NozzleTotalsView>,
    /// How often it was read back since the runtime started: at every (re)connection and after
    /// every filling, its status, the filling it holds and its counters.
    pub read_backs: u64,
}

/// A nozzle's totals counters beside the fuelings recorded against them, since the counters
/// were first read (`Station::nozzle_totals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NozzleTotalsView {
    pub nozzle: u8,
    pub volume_total_ml: i64,
    pub amount_total_won: Option<i64>,
    pub counted_volume_ml: i64,
    pub recorded_volume_ml: i64,
    /// Counted minus recorded: fuel no fueling accounts for.
    pub volume_variance_ml: i64,
    /// The same in money; `None` when the pump did not report its money totals.
    pub amount_variance_won: Option<i64>,
}

/// What the pump line could not use, since the runtime started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PumpLineCounts {
    /// Noise, damaged blocks and transactions that could not be decoded (each is logged with
    /// its bytes).
    pub undecodable: u64,
    /// Finished fillings read back and not recorded yet: the database did not take them; they
    /// are tried again.
    pub fuelings_waiting: u64,
}

/// A delivery the tank gauge saw (its level rose and settled), from its delivery report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GaugeDelivery {
    pub tank: u16,
    /// The gauge's local time, `YYYY-MM-DD HH:MM`.
    pub started_at: String,
    pub ended_at: String,
    pub start_volume_ml: i64,
    pub end_volume_ml: i64,
    pub delivered_ml: i64,
}

/// Everything live, as one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveState {
    pub sync: SyncState,
    pub printer: DeviceState,
    pub gauge: DeviceState,
    pub pump_line: DeviceState,
    pub pump_line_counts: PumpLineCounts,
    pub pumps: Vec<PumpView>,
    /// The gauge's recent deliveries, most recent first (not pushed: read at /api/gauge/deliveries).
    #[serde(skip)]
    pub gauge_deliveries: Vec<GaugeDelivery>,
    /// Receipts waiting for the printer.
    pub waiting_receipts: u64,
    /// Receipts set aside because they cannot be printed; a manager can print a fallback copy.
    pub set_aside_receipts: u64,
    /// Bumped whenever a sale, a cancellation or a fueling changes, so screens showing lists of
    /// them know to read them again.
    pub revision: u64,
}

impl Default for LiveState {
    fn default() -> LiveState {
        LiveState {
            sync: SyncState::default(),
            printer: DeviceState::NOT_CONFIGURED,
            gauge: DeviceState::NOT_CONFIGURED,
            pump_line: DeviceState::NOT_CONFIGURED,
            pump_line_counts: PumpLineCounts::default(),
            pumps: Vec::new(),
            gauge_deliveries: Vec::new(),
            waiting_receipts: 0,
            set_aside_receipts: 0,
            revision: 0,
        }
    }
}

/// The shared live state: cheap to clone, one per runtime.
#[derive(Debug, Clone)]
pub struct Live {
    sender: watch::Sender<LiveState>,
}

impl Default for Live {
    fn default() -> Live {
        Live::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live {
            sender: watch::Sender::new(LiveState::default()),
        }
    }

    /// Changes the state; watchers hear of it only if something actually changed.
    pub fn update(&self, change: impl FnOnce(&mut LiveState)) {
        self.sender.send_if_modified(|state| {
            let before = state.clone();
            change(state);
            *state != before
        });
    }

    /// Says that sales or fuelings changed.
    pub fn bump_revision(&self) {
        self.sender.send_modify(|state| state.revision += 1);
    }

    /// Reads part of the live state without copying the whole of it.
    pub fn read<T>(&self, part: impl FnOnce(&LiveState) -> T) -> T {
        part(&self.sender.borrow())
    }

    pub fn snapshot(&self) -> LiveState {
        self.sender.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<LiveState> {
        self.sender.subscribe()
    }
}
