//! The automatic tank gauge on a serial line.
//!
//! The codecs for the Veeder-Root TLS-3xx serial interface live in `forecourt-protocols`, which
//! does no I/O. This crate is the thin part around them:
//!
//! - [`transport`]: the station's side, a serial port driven through the TLS client state
//!   machine, returning inventories with volumes in integer millilitres and typed errors,
//!   in computer format or, for consoles that speak only that, display format, and in the
//!   console's volume unit converted once.
//! - [`simulator`]: a console that answers functions 201 and 202 the way the serial interface
//!   manual lays them out, so the station side can be tested end to end over a pseudo-terminal
//!   (the `gauge-sim` binary) with no gauge at hand; switches make it answer display format
//!   only, or report volumes in gallons.
//! - [`pty`]: the simulator's end of a pseudo-terminal, run by `gauge-sim` and by tests that keep
//!   the simulator in-process.
//!
//! The simulator is the encoder side of what the protocol crate decodes; it does no I/O either:
//! [`pty::serve`] owns the port and reads the console's clock for it.

pub mod pty;
pub mod simulator;
pub mod transport;

pub use simulator::{ControlError, GaugeSimulator, Millilitres, TankSetup};
pub use transport::{
    DeliveryLevel, DeliveryLevels, GaugeError, GaugeLink, LineSettings, Progress, TankDeliveries,
    TankLevel,
};
