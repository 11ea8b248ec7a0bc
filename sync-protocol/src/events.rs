//! The envelope and every event kind of both directions, as wire types.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One message between a station and the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Globally unique id of this event (UUIDv7, made where the event happened).
    pub event_id: Uuid,
    /// Who made the event: a station id such as `ST0001`, or [`crate::HUB_ORIGIN`].
    pub origin: String,
    /// Position in the origin's gapless sequence towards one receiver, starting at 1.
    pub sequence: u64,
    /// When the event happened at its origin, UTC.
    pub occurred_at: Timestamp,
    /// Schema version the sender wrote.
    pub schema_version: u16,
    /// The sender's stream this message belongs to (see [`StreamId`]); absent in messages of
    /// schema 1, which all belong to the sender's first stream.
    pub stream: Option<StreamId>,
    /// What happened.
    pub event: Event,
}

/// The identity of one sender's stream towards one receiver: made when the sender's database
/// is created, and again when the two sides find their histories differ (a database restored
/// from a backup, a station re-installed). Sequence numbers of a stream start after `from`, so
/// a new stream continues the numbering of the old one and no sequence number is reused within
/// the sender's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamId {
    pub id: Uuid,
    /// The last sequence number before this stream's first message.
    pub from: u64,
}

/// Every event kind, station → HQ and HQ → station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    // station → HQ
    TankRegistered(TankRegistered),
    OrderPlaced(OrderPlaced),
    OrderCanceled(OrderCanceled),
    DeliveryConfirmed(DeliveryConfirmed),
    SaleSettled(SaleSettled),
    SaleCanceled(SaleCanceled),
    StockAdjusted(StockAdjusted),
    ShiftClosed(ShiftClosed),
    DayClosed(DayClosed),
    PriceVersionApplied(PriceVersionApplied),
    CreditAccountOpened(CreditAccountOpened),
    CreditPaymentReceived(CreditPaymentReceived),
    WetStockReconciled(WetStockReconciled),
    AuditRecorded(AuditRecorded),
    // HQ → station
    PriceChanged(PriceChanged),
    ShipmentDispatched(ShipmentDispatched),
    OrderRejected(OrderRejected),
    OrderRestored(OrderRestored),
}

/// The `kind` string of each event, as written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    TankRegistered,
    OrderPlaced,
    OrderCanceled,
    DeliveryConfirmed,
    SaleSettled,
    SaleCanceled,
    StockAdjusted,
    ShiftClosed,
    DayClosed,
    PriceVersionApplied,
    CreditAccountOpened,
    CreditPaymentReceived,
    WetStockReconciled,
    AuditRecorded,
    PriceChanged,
    ShipmentDispatched,
    OrderRejected,
    OrderRestored,
}

/// Which side sends an event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    StationToHub,
    HubToStation,
}

impl EventKind {
    /// All kinds, in a stable order.
    pub const ALL: [EventKind; 18] = [
        EventKind::TankRegistered,
        EventKind::OrderPlaced,
        EventKind::OrderCanceled,
        EventKind::DeliveryConfirmed,
        EventKind::SaleSettled,
        EventKind::SaleCanceled,
        EventKind::StockAdjusted,
        EventKind::ShiftClosed,
        EventKind::DayClosed,
        EventKind::PriceVersionApplied,
        EventKind::CreditAccountOpened,
        EventKind::CreditPaymentReceived,
        EventKind::WetStockReconciled,
        EventKind::AuditRecorded,
        EventKind::PriceChanged,
        EventKind::ShipmentDispatched,
        EventKind::OrderRejected,
        EventKind::OrderRestored,
    ];

    /// The wire name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TankRegistered => "tank_registered",
            EventKind::OrderPlaced => "order_placed",
            EventKind::OrderCanceled => "order_canceled",
            EventKind::DeliveryConfirmed => "delivery_confirmed",
            EventKind::SaleSettled => "sale_settled",
            EventKind::SaleCanceled => "sale_canceled",
            EventKind::StockAdjusted => "stock_adjusted",
            EventKind::ShiftClosed => "shift_closed",
            EventKind::DayClosed => "day_closed",
            EventKind::PriceVersionApplied => "price_version_applied",
            EventKind::CreditAccountOpened => "credit_account_opened",
            EventKind::CreditPaymentReceived => "credit_payment_received",
            EventKind::WetStockReconciled => "wet_stock_reconciled",
            EventKind::AuditRecorded => "audit_recorded",
            EventKind::PriceChanged => "price_changed",
            EventKind::ShipmentDispatched => "shipment_dispatched",
            EventKind::OrderRejected => "order_rejected",
            EventKind::OrderRestored => "order_restored",
        }
    }

    /// The kind with this wire name, if this version knows it.
    pub fn from_wire(name: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// Which side sends this kind.
    pub fn direction(self) -> Direction {
        match self {
            EventKind::PriceChanged
            | EventKind::ShipmentDispatched
            | EventKind::OrderRejected
            | EventKind::OrderRestored => Direction::HubToStation,
            _ => Direction::StationToHub,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    /// The kind of this event.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::TankRegistered(_) => EventKind::TankRegistered,
            Event::OrderPlaced(_) => EventKind::OrderPlaced,
            Event::OrderCanceled(_) => EventKind::OrderCanceled,
            Event::DeliveryConfirmed(_) => EventKind::DeliveryConfirmed,
            Event::SaleSettled(_) => EventKind::SaleSettled,
            Event::SaleCanceled(_) => EventKind::SaleCanceled,
            Event::StockAdjusted(_) => EventKind::StockAdjusted,
            Event::ShiftClosed(_) => EventKind::ShiftClosed,
            Event::DayClosed(_) => EventKind::DayClosed,
            Event::PriceVersionApplied(_) => EventKind::PriceVersionApplied,
            Event::CreditAccountOpened(_) => EventKind::CreditAccountOpened,
            Event::CreditPaymentReceived(_) => EventKind::CreditPaymentReceived,
            Event::WetStockReconciled(_) => EventKind::WetStockReconciled,
            Event::AuditRecorded(_) => EventKind::AuditRecorded,
            Event::PriceChanged(_) => EventKind::PriceChanged,
            Event::ShipmentDispatched(_) => EventKind::ShipmentDispatched,
            Event::OrderRejected(_) => EventKind::OrderRejected,
            Event::OrderRestored(_) => EventKind::OrderRestored,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// station → HQ

/// A tank was set up at the station (or its capacity changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TankRegistered {
    pub tank: u16,
    pub product_id: String,
    pub capacity_ml: i64,
}

/// The station ordered fuel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub product_id: String,
    pub volume_ml: i64,
    pub wanted_date: Date,
    pub ordered_by: String,
}

/// The station canceled an order before it was shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCanceled {
    pub order_id: Uuid,
    pub reason: String,
    pub canceled_by: String,
}

/// The station received a shipment into a tank; book stock rose by `received_volume_ml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryConfirmed {
    pub order_id: Uuid,
    pub shipment_id: Uuid,
    pub tank: u16,
    pub product_id: String,
    pub expected_volume_ml: i64,
    pub received_volume_ml: i64,
    pub confirmed_by: String,
}

/// How a sale line was priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The price list in force at the time of sale.
    PriceList,
    /// The amount the pump's meter reported.
    Pump,
    /// A price a manager approved by hand.
    ManagerOverride,
}

/// One line of a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub line_no: u16,
    pub product_id: String,
    /// The tank the fuel came from; absent for items not kept in a tank.
    pub tank: Option<u16>,
    /// Fuel volume in millilitres; absent for items sold by the piece.
    pub volume_ml: Option<i64>,
    /// Pieces; absent for fuel.
    pub quantity: Option<i64>,
    /// Won per litre for fuel, won per piece otherwise.
    pub unit_price_won: i64,
    pub amount_won: i64,
    pub price_source: PriceSource,
    /// The price version whose price was used, if the price list priced the line.
    pub price_version: Option<u64>,
}

/// How a sale was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Payment {
    Cash { tendered_won: i64, change_won: i64 },
    Card { reference: String },
    Account { account_id: Uuid },
}

/// A sale was settled; stock fell and the sales totals rose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSettled {
    pub sale_id: Uuid,
    pub receipt_no: String,
    pub business_day: Date,
    pub shift_id: Uuid,
    pub cashier: String,
    pub lines: Vec<SaleLine>,
    pub total_won: i64,
    pub payment: Payment,
}

/// A sale was canceled by a compensating record; stock went back and the sale left the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleCanceled {
    pub cancellation_id: Uuid,
    pub sale_id: Uuid,
    /// The business day the cancellation is counted in (the day it happened).
    pub business_day: Date,
    /// The business day of the canceled sale.
    pub sale_business_day: Date,
    pub reason: String,
    pub canceled_by: String,
    pub approved_by: String,
    pub lines: Vec<SaleLine>,
    pub total_won: i64,
}

/// A manager corrected book stock by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAdjusted {
    pub adjustment_id: Uuid,
    pub tank: u16,
    pub product_id: String,
    pub delta_ml: i64,
    pub reason: String,
    pub approved_by: String,
}

/// A cashier closed a shift with the counted cash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftClosed {
    pub shift_id: Uuid,
    pub cashier: String,
    pub business_day: Date,
    pub opened_at: Timestamp,
    pub opening_float_won: i64,
    pub expected_cash_won: i64,
    pub counted_cash_won: i64,
    /// Counted minus expected: positive is over, negative is short.
    pub over_short_won: i64,
}

/// One product's figures in a day report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayProductTotals {
    pub product_id: String,
    pub sales_count: i64,
    pub sales_volume_ml: i64,
    pub sales_quantity: i64,
    pub sales_amount_won: i64,
    pub canceled_count: i64,
    pub canceled_volume_ml: i64,
    pub canceled_quantity: i64,
    pub canceled_amount_won: i64,
}

/// The station closed a business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayClosed {
    pub business_day: Date,
    pub closed_by: String,
    /// This part's products: a day with more than [`crate::DAY_PRODUCTS_PER_PART`] products
    /// is sent as several `day_closed` messages, in order, each with the day's whole net.
    pub products: Vec<DayProductTotals>,
    pub net_amount_won: i64,
    #[serde(flatten)]
    pub part: Part,
}

/// Which part of a list too long for one message this message carries: `part` of `parts`,
/// counted from 1. A single message (the usual case) is part 1 of 1 and writes neither field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub part: u32,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parts: u32,
}

impl Part {
    /// The only part of a list that fits one message.
    pub const WHOLE: Part = Part { part: 1, parts: 1 };

    pub fn is_last(self) -> bool {
        self.part >= self.parts
    }
}

impl Default for Part {
    fn default() -> Part {
        Part::WHOLE
    }
}

fn one() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_one(n: &u32) -> bool {
    *n == 1
}

/// Splits `items` into parts of at most `per_part` (at least one part, even when empty).
fn split_parts<T: Clone>(items: &[T], per_part: usize) -> Vec<(Part, Vec<T>)> {
    let chunks: Vec<&[T]> = if items.is_empty() {
        vec![&[]]
    } else {
        items.chunks(per_part.max(1)).collect()
    };
    let parts = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let part = u32::try_from(i + 1).unwrap_or(u32::MAX);
            (Part { part, parts }, chunk.to_vec())
        })
        .collect()
}

impl DayClosed {
    /// The day report as the messages that carry it, each within the message size limit.
    pub fn into_parts(self) -> Vec<DayClosed> {
        split_parts(&self.products, crate::DAY_PRODUCTS_PER_PART)
            .into_iter()
            .map(|(part, products)| DayClosed {
                products,
                part,
                ..self.clone()
            })
            .collect()
    }
}

/// A price version came into force at the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceVersionApplied {
    pub version: u64,
    pub applied_at: Timestamp,
}

/// A customer credit account was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditAccountOpened {
    pub account_id: Uuid,
    pub name: String,
    pub credit_limit_won: i64,
    pub opened_by: String,
}

/// A customer paid towards a credit account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPaymentReceived {
    pub payment_id: Uuid,
    pub account_id: Uuid,
    pub amount_won: i64,
    /// `cash` or `card`.
    pub method: String,
    pub received_by: String,
}

/// A tank's wet-stock reconciliation for a closed business day: what the tank gauge measured
/// against what the ledger says moved. Volumes in millilitres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WetStockReconciled {
    pub business_day: Date,
    pub tank: u16,
    pub product_id: String,
    pub opening_ml: i64,
    pub deliveries_ml: i64,
    /// Sales minus cancellations.
    pub sales_ml: i64,
    pub closing_ml: i64,
    /// Closing measured minus what the ledger expects.
    pub variance_ml: i64,
    pub limit_ml: i64,
    pub flagged: bool,
}

/// One entry of the station's audit log, sent so that HQ sees the trail the station's manager
/// sees: logins, failed attempts, lockouts and their lifting, approvals, price overrides,
/// cancellations, account payments, user changes, reprints. The entry is made and sent in the
/// transaction of the change it records. `action` is the station's name for what happened
/// (`login_failed`, `locked_out`, ...), kept as text so that a station may record a new action
/// without HQ's upgrade; every text is bounded by [`crate::AUDIT_TEXT_MAX_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecorded {
    /// The entry's place in the station's log, from 1.
    pub entry_no: u64,
    /// When it happened at the station.
    pub at: Timestamp,
    pub action: String,
    /// Who acted, or tried to: a user id as typed, which may be no user's.
    pub actor: String,
    /// The manager who approved it, when one did.
    pub approved_by: Option<String>,
    /// What it concerns: a sale, a user, an account.
    pub subject: Option<String>,
    pub detail: String,
}

// ---------------------------------------------------------------------------------------------
// HQ → station

/// How a product is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductUnit {
    /// Fuel, kept in tanks, sold by volume; its price is won per litre.
    Litre,
    /// A shop item sold by the piece; its price is won per piece.
    Piece,
}

/// One product in a price version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceItem {
    pub product_id: String,
    pub name: String,
    pub unit: ProductUnit,
    pub unit_price_won: i64,
}

/// HQ published a new price version, in force from `effective_at`.
///
/// Without `base_version` the items are the full price list. With it, they are what changed
/// since that version (new products and new prices); every other product keeps its price from
/// the base version, which the receiver holds because HQ's stream towards it is gapless. A list
/// longer than [`crate::PRICE_ITEMS_PER_PART`] items is sent as several messages, in order: the
/// version is complete when its last part has arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChanged {
    pub version: u64,
    pub effective_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<u64>,
    pub items: Vec<PriceItem>,
    #[serde(flatten)]
    pub part: Part,
}

impl PriceChanged {
    /// The price version as the messages that carry it, each within the message size limit.
    pub fn into_parts(self) -> Vec<PriceChanged> {
        split_parts(&self.items, crate::PRICE_ITEMS_PER_PART)
            .into_iter()
            .map(|(part, items)| PriceChanged {
                items,
                part,
                ..self.clone()
            })
            .collect()
    }
}

/// HQ dispatched a truck for an order; the station now expects a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentDispatched {
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub product_id: String,
    pub volume_ml: i64,
    pub truck: String,
    pub expected_at: Option<Timestamp>,
}

/// HQ rejected an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRejected {
    pub order_id: Uuid,
    pub reason: String,
}

/// HQ gives back an open order to a station that lost it (a station re-installed with an empty
/// database): the station records it as it was placed, so the shipments that follow find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRestored {
    pub order_id: Uuid,
    pub product_id: String,
    pub volume_ml: i64,
    pub wanted_date: Date,
    pub ordered_by: String,
    pub ordered_at: Timestamp,
}
