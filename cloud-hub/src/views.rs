//! What the hub shows: the JSON shapes of its read models and records, as the HTTP API returns
//! them. Money is integer won (`*_won`), volume integer millilitres (`*_ml`), times RFC 3339 UTC.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StationView {
    pub station: String,
    pub name: String,
    /// directly_managed, consignment or franchise
    pub operating_type: String,
    pub registered_at: String,
    /// Where it is, for HQ's filters; may be empty.
    pub region: String,
}

/// A station's connection and sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StationStatusView {
    pub station: String,
    pub name: String,
    pub online: bool,
    /// When the hub last heard from it: an event, or its status.
    pub last_seen: Option<String>,
    /// Events from the station applied at HQ (its sequence position).
    pub events_applied_through: u64,
    /// HQ messages waiting for the station's acknowledgement.
    pub events_waiting_to_station: u64,
    pub price_version_applied: Option<u64>,
    pub price_applied_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProductView {
    pub product: String,
    pub name: String,
    /// litre or piece
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceItemView {
    pub product: String,
    pub name: String,
    pub unit: String,
    pub unit_price_won: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceVersionView {
    pub version: u64,
    pub effective_at: String,
    pub created_by: String,
    pub created_at: String,
    pub items: Vec<PriceItemView>,
    /// Stations whose latest applied version is this one or newer.
    pub stations_applied: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderView {
    pub order: String,
    pub station: String,
    pub product: String,
    pub ordered_volume_ml: i64,
    pub shipped_volume_ml: i64,
    pub received_volume_ml: i64,
    /// ordered, shipped, delivered, canceled or rejected
    pub status: String,
    pub status_reason: Option<String>,
    pub wanted_date: String,
    pub ordered_at: String,
    pub updated_at: String,
    pub shipments: Vec<ShipmentView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShipmentView {
    pub shipment: String,
    pub order: String,
    pub station: String,
    pub product: String,
    pub volume_ml: i64,
    pub truck: String,
    pub dispatched_at: String,
    pub expected_at: Option<String>,
    pub tank: Option<u16>,
    pub received_volume_ml: Option<i64>,
    pub confirmed_at: Option<String>,
}

/// Sales of one product at one station on one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SalesRowView {
    pub station: String,
    pub business_day: String,
    pub product: String,
    pub sales_count: i64,
    pub sales_volume_ml: i64,
    pub sales_quantity: i64,
    pub sales_amount_won: i64,
    pub canceled_count: i64,
    pub canceled_volume_ml: i64,
    pub canceled_quantity: i64,
    pub canceled_amount_won: i64,
    pub net_amount_won: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TankStockView {
    pub station: String,
    pub tank: u16,
    pub product: String,
    pub capacity_ml: i64,
    pub book_stock_ml: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeadLetterView {
    pub id: i64,
    pub station: Option<String>,
    pub seq: Option<u64>,
    pub code: String,
    pub reason: String,
    /// The message as received (lossy UTF-8).
    pub message: String,
    pub received_at: String,
}

/// Where a station's history and HQ's were found to differ, and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DivergenceView {
    pub id: i64,
    pub station: String,
    /// `up`: the station's stream towards HQ; `down`: HQ's stream towards the station.
    pub direction: String,
    /// What was found: `history_differs`, `new_stream`, `station_lost_stream` or `hub_went_back`.
    pub kind: String,
    pub old_stream: Option<String>,
    pub new_stream: Option<String>,
    /// The sequence number where the two histories part.
    pub at_seq: Option<u64>,
    pub detail: String,
    pub detected_at: String,
}

/// A station's messages HQ cannot apply yet (a newer schema, a station not registered yet): not
/// acknowledged, so the station keeps them and sends them again; one row per station and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HeldView {
    pub station: String,
    pub code: String,
    pub reason: String,
    /// The sequence number of the latest message held, when it could be read.
    pub seq: Option<u64>,
    /// How many copies came.
    pub repeats: u64,
    pub first_at: String,
    pub last_at: String,
}

/// A tank's wet-stock reconciliation for a closed business day, as the station reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WetStockView {
    pub station: String,
    pub business_day: String,
    pub tank: u16,
    pub product: String,
    pub opening_ml: i64,
    pub deliveries_ml: i64,
    pub sales_ml: i64,
    pub closing_ml: i64,
    pub variance_ml: i64,
    pub limit_ml: i64,
    /// The variance passed 0.5% of sales plus 50 L.
    pub flagged: bool,
}

// ---- the dashboard's read models

/// The devices of a station as it last reported them; `None` where it never did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DevicesView {
    /// `not_configured`, `connecting`, `ready`, `not_ready` or `disconnected`.
    pub printer: Option<String>,
    pub gauge: Option<String>,
    pub pump_line: Option<String>,
}

/// One station on the Network screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NetworkStationView {
    pub station: String,
    pub name: String,
    pub region: String,
    /// directly_managed, consignment or franchise
    pub operating_type: String,
    pub online: bool,
    /// When HQ last heard from it: an event, or its status.
    pub last_seen: Option<String>,
    /// Events the station had recorded for HQ, as of its last status, that HQ has not applied.
    pub events_waiting_from_station: u64,
    /// HQ messages waiting for the station's acknowledgement.
    pub events_waiting_to_station: u64,
    pub price_version_applied: Option<u64>,
    pub price_applied_at: Option<String>,
    /// Open alerts of this station.
    pub alerts: u64,
    pub devices: DevicesView,
}

/// The Network screen: every station, and the price version stations should hold now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NetworkView {
    /// The newest version in effect now.
    pub current_price_version: Option<u64>,
    pub stations: Vec<NetworkStationView>,
}

/// A tank as the Station screen shows it: book stock from the events, measured stock from the
/// gauge at the last closed day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StationTankView {
    pub tank: u16,
    pub product: String,
    pub capacity_ml: i64,
    pub book_stock_ml: i64,
    /// The gauge's stock at the close of `measured_on`.
    pub measured_ml: Option<i64>,
    pub measured_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StationDetailView {
    pub station: StationView,
    pub status: NetworkStationView,
    pub tanks: Vec<StationTankView>,
}

/// Where one station stands with one price version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RolloutStationView {
    pub station: String,
    pub name: String,
    /// `applied` (this version or a newer one), `pending` (online, not yet) or `offline`.
    pub state: String,
    /// Since when: when it applied its latest version, when the version was published (pending),
    /// or when it was last seen (offline).
    pub since: Option<String>,
    pub price_version_applied: Option<u64>,
}

/// The roll-out of one price version across the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RolloutView {
    pub version: u64,
    pub effective_at: String,
    pub stations_total: u64,
    pub applied: u64,
    pub pending: u64,
    pub offline: u64,
    pub stations: Vec<RolloutStationView>,
}

/// One row of a sales report: a day, a product, a station or an operating type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SalesReportRow {
    pub key: String,
    pub label: String,
    pub sales_count: i64,
    pub sales_volume_ml: i64,
    pub sales_quantity: i64,
    pub sales_amount_won: i64,
    pub canceled_amount_won: i64,
    pub net_amount_won: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SalesReportView {
    pub from: String,
    pub to: String,
    /// day, product, station or operating_type
    pub by: String,
    /// Days ascending; the others by net amount, largest first.
    pub rows: Vec<SalesReportRow>,
    pub total: SalesReportRow,
}

/// A tank's stock against recent sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockReportRow {
    pub station: String,
    pub name: String,
    pub tank: u16,
    pub product: String,
    pub product_name: String,
    pub capacity_ml: i64,
    pub book_stock_ml: i64,
    /// The station's average net sales of the product per business day over its last 7 days
    /// with sales (all tanks of the product).
    pub daily_sales_ml: i64,
    /// Days the station's stock of the product lasts at that rate, in tenths of a day; `None`
    /// without sales.
    pub days_of_cover_tenths: Option<i64>,
    /// Fewer days of cover than the alert settings allow.
    pub low: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockByProductView {
    pub product: String,
    pub product_name: String,
    pub book_stock_ml: i64,
    pub capacity_ml: i64,
    pub daily_sales_ml: i64,
    pub days_of_cover_tenths: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockReportView {
    pub rows: Vec<StockReportRow>,
    pub by_product: Vec<StockByProductView>,
}

/// Something at a station that needs HQ's attention, open while its cause lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AlertView {
    /// `station_offline`, `backlog_growing`, `price_not_applied`, `variance_over_limit`,
    /// `low_stock` or `dead_letters`.
    pub kind: String,
    pub station: String,
    pub name: String,
    /// Since when (RFC 3339), or the business day of a wet-stock variance; `None` when unknown.
    pub since: Option<String>,
    /// In English, for logs and tools.
    pub detail: String,
    /// The detail's figures, for a screen to say it in its own language (volumes in ml):
    /// station_offline `minutes`; backlog_growing `waiting`, `to_station`, `from_station`,
    /// `limit`; price_not_applied `version`, `holds` (0: none); variance_over_limit `tank`,
    /// `variance_ml`, `limit_ml`; dead_letters `messages`, `copies`, `hours`; low_stock `tank`,
    /// `cover_tenths`, `days`.
    pub figures: std::collections::BTreeMap<String, i64>,
}

/// One entry of a station's audit log, as the station sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StationAuditView {
    /// Its place among every station's entries at HQ, in the order they arrived (for paging).
    pub audit_no: i64,
    pub station: String,
    pub name: String,
    /// Its place in the station's own log.
    pub entry: i64,
    /// When it happened at the station (RFC 3339).
    pub at: String,
    /// `login`, `login_failed`, `locked_out`, `lockout_lifted`, `manager_approval`,
    /// `price_override`, `sale_canceled`, `account_payment`, `user_added`, `pin_changed`,
    /// `user_deactivated`, `user_reactivated`, `receipt_reprinted`, `receipt_fallback_printed`,
    /// or an action of a newer station version.
    pub action: String,
    /// Who acted or tried to (a user id as typed).
    pub actor: String,
    pub approved_by: Option<String>,
    pub subject: Option<String>,
    pub detail: String,
}
