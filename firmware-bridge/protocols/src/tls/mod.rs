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
//! - [`units`]: the console's volume unit (asked, or read off a report's labels), which unit is
//!   booked, and the one conversion of its volumes to millilitres.
//! - [`client`]: one command at a time with a deadline, as a state machine with no I/O and no
//!   clock.

pub mod client;
pub mod float;
pub mod message;
pub mod reports;
pub mod units;

pub use client::{TlsClient, TlsEvent};
pub use float::{FloatError, Thousandths};
pub use message::{
    Command, Format, FormatChoice, Function, ReplyDecoder, ReplyError, TankSelector,
};
pub use reports::{
    DeliveryReport, DisplayInventory, DisplayInventoryRow, GaugeTime, InventoryReport,
    TankInventory, parse_deliveries, parse_display_inventory, parse_inventory,
};
pub use units::{
    Millilitres, SystemUnitsReport, UnitDecision, UnitSource, VolumeError, VolumeUnit,
    decide_volume_unit,
};
