//! Veeder-Root TLS-3xx: the tank gauge console's serial interface.
//!
//! The console answers commands on an RS-232 line (Serial Interface Manual 576013-635, for
//! TLS-300/350). This module holds what can be decided without the line:
//!
//! - [`message`]: commands, the reply checksum, an incremental reply decoder, and checking a
//!   reply against the command it answers.
//! - [`float`]: the one place where the console's IEEE-754 floats become integers.
//! - [`reports`]: in-tank inventory (201) and delivery (202) reports in computer format, and the
//!   inventory table of the display format.
//! - [`client`]: one command at a time with a deadline, as a state machine with no I/O and no
//!   clock.

pub mod client;
pub mod float;
pub mod message;
pub mod reports;

pub use client::{TlsClient, TlsEvent};
pub use float::{FloatError, Thousandths};
pub use message::{Command, Format, Function, ReplyDecoder, ReplyError, TankSelector};
pub use reports::{
    DeliveryReport, DisplayInventoryRow, GaugeTime, InventoryReport, TankInventory,
    parse_deliveries, parse_display_inventory, parse_inventory,
};
