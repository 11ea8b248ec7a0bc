//! HQ's hub: the product master and prices, fuel orders and shipments, and every station's sales
//! and stock, kept in sync with the stations over MQTT.
//!
//! [`Hub`] is the application: it owns one SQLite connection (the storage boundary: no SQL leaves
//! this crate's modules, so a server database can take over behind the same methods) and every
//! HQ operation. Shells around it: [`http`] (the JSON API with its OpenAPI document), [`sync`]
//! (the MQTT agent that exchanges events with the stations) and [`broker`] (the embedded
//! single-host MQTT broker). `main.rs` only reads the configuration and starts them.
//!
//! Invariants:
//! - a station event is applied once: the inbox position per station and the event's place in
//!   the station's sequence are checked and moved in the transaction that applies it, and the
//!   acknowledgement is sent only after that transaction commits;
//! - the read models (`rm_*` tables) are moved only by events, in the transaction that records
//!   the event, by [`projections`]; commands never write them directly;
//! - what the hub tells a station goes through that station's outbox, a gapless sequence in
//!   commit order, removed from nothing: a station that was offline for weeks gets it all, in order;
//! - a message that cannot be decoded or applied is dead-lettered with its reason and, when its
//!   place in the sequence is known, counted as handled so it never blocks the ones behind it.

pub mod auth;
pub mod broker;
pub mod dashboard;
mod downstream;
mod error;
pub mod feed;
pub mod http;
mod hub;
pub mod live;
mod logistics;
mod master;
pub mod metrics;
pub mod price_book;
mod projections;
pub mod reports;
pub mod sync;
mod views;

pub use error::{HubError, LineError, Result};
pub use hub::{Hub, Received, ReceivedOutcome, SharedHub};
pub use logistics::NewShipment;
pub use master::{NewStation, OperatingType};
pub use views::*;
