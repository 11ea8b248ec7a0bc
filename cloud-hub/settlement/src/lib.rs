//! Commission settlement for consignment-run stations (위탁수수료 정산): a capability beside the
//! hub that learns everything from HQ's event feed and keeps its own SQLite file. It changes
//! nothing at the hub and reads none of the hub's tables.
//!
//! - [`feed`]: the feed's client (`GET /api/feed`, `GET /api/feed/stations` with a consumer's
//!   token) and its wire types.
//! - [`store::Settlement`]: the database. [`store::Settlement::apply_page`] counts one page of
//!   events and moves the feed position in the same transaction, so a settlement killed at any
//!   point counts every event exactly once when it starts again from its position.
//! - [`statement`]: a statement worked out from the tallies and the terms, with no I/O.
//! - [`catch_up`]: one step (read a page, apply it) and the loop around it.
//! - [`http`]: settlement's API for HQ's dashboard.
//!
//! Rules:
//! - Only stations whose operating type is `consignment` are settled; events of directly
//!   managed and franchise stations advance the position and count nothing.
//! - A sale counts on its business day; a cancellation counts on the business day of the sale it
//!   cancels (`sale_business_day`), so it takes back the commission where it was earned. A
//!   day's period is its calendar month.
//! - An event whose day falls in a closed period is counted on the statement of the first open
//!   period as an adjustment, labelled with its day. A closed statement is stored whole and never
//!   recomputed.
//! - Terms are versions, each in force from its day (`effective_from`) until the next one's.
//!   A statement line is one product (or shop sales, or wet-stock loss) under one terms version.
//!   The monthly fee is that of the terms in force on the period's last day.
//! - **Rounding: once per statement line, half up to the won on the magnitude** (half away from
//!   zero, the station core's rule), in [`money::round_div`]: commission for fuel is
//!   `volume_ml × won_per_litre / 1000`, for shop sales `amount × basis_points / 10000`, a
//!   wet-stock deduction `beyond_ml × cost_won_per_litre / 1000`. Everything else is exact
//!   integer addition.

pub mod catch_up;
pub mod feed;
pub mod http;
mod http_print;
pub mod money;
pub mod period;
pub mod statement;
pub mod store;

pub use store::{Settlement, SettlementError};
