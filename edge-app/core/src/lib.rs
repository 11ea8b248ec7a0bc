//! The station core: one fuel station's ledger in a local SQLite file.
//!
//! It records fuel orders and deliveries, sales and their cancellation, credit accounts, shifts
//! and business days, correctly and durably, with no network at all. It holds the domain rules
//! and enforces who may do what. It does no network or UI I/O and never reads a clock: every
//! operation takes `now`. The edge runtime, the desktop app and the command-line tool are thin
//! shells around [`Station`].
//!
//! Invariants kept in every transaction:
//! - book stock of a tank = the sum of its stock flows;
//! - the sales summary = settled sale lines minus canceled sale lines, per business day and product;
//! - every change HQ must hear about is in the outbox, in a gapless sequence in commit order;
//! - an operation that fails changes nothing;
//! - sales, cancellations and stock flows are never edited or deleted (the schema refuses it).

mod accounts;
mod audit;
mod auth;
mod catalog;
mod error;
mod fuelings;
mod ids;
mod limits;
mod orders;
mod outbox;
mod printing;
mod sales;
mod shifts;
mod sql;
mod station;
mod stock;
mod store;
pub mod units;
mod wetstock;

pub use accounts::{AccountMovement, AccountPaymentMethod, CreditAccount};
pub use audit::{AUDIT_BACKFILL_PAGE, AUDIT_PAGE_LIMIT, AuditAction, AuditEntry};
pub use auth::{
    Actor, FREE_PIN_FAILURES, LOCKOUT_AFTER_FAILURES, ManagerApproval, NewUser, Pin, PinCheck,
    PinHash, PinHold, PinPurpose, PinVerdict, Role, UserRecord, pin_retry_delay,
};
pub use catalog::{
    PriceInForce, PriceItem, PriceVersion, PriceVersionStatus, StoredPriceVersion, Tank, Unit,
};
pub use error::{Result, StationError};
pub use fuelings::{
    Fueling, NewFueling, NozzleCounters, NozzleTotals, PumpReadBack, ReadBackOutcome,
};
pub use ids::{
    AccountId, FuelingId, IdParseError, OrderId, ProductId, SaleId, ShiftId, ShipmentId, StationId,
    TankNo, UserId,
};
pub use limits::Limits;
pub use orders::{
    DeliveryConfirmation, DeliveryView, ExpectedDelivery, NewOrder, OrderStatus, OrderView,
};
pub use outbox::{DeadLetter, Divergence, InboxOutcome, OutboxEvent};
pub use printing::PrintJob;
pub use sales::{
    Cancellation, LinePricing, Measure, Payment, PaymentRequest, PriceSource, SaleLine,
    SaleLineRequest, SaleRecord, SaleRequest, SalesSummaryRow,
};
pub use shifts::{DayReport, OpenShift, ShiftReport};
pub use station::{DEFAULT_TIME_ZONE, Station, StationInfo, StationSetup};
pub use stock::{FlowKind, ProductStock, StockFlow, TankStock};
pub use store::{
    APPLICATION_ID, CheckpointOutcome, Checkpointer, WAL_AUTOCHECKPOINT_PAGES, schema_version,
};
pub use units::{Millilitres, UnitPrice, Won};
pub use wetstock::{Reconciliation, TankReading};
