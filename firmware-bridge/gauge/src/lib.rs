//! The automatic tank gauge on a serial line.
//!
//! The codecs for the Veeder-Root TLS-3xx serial interface live in `forecourt-protocols`, which
//! does no I/O. This crate is the thin part around them:
//!
//! - [`transport`]: the station's side, a serial port driven through the TLS client state
//!   machine, returning inventories with volumes in integer millilitres and typed errors.
//! - [`simulator`]: a console that answers functions 201 and 202 the way the serial interface
//!   manual lays them out, so the station side can be tested end to end over a pseudo-terminal
//!   (the `gauge-sim` binary) with no gauge at hand.
//!
//! The simulator is the encoder side of what the protocol crate decodes; it does no I/O either,
//! and the binary is the only place that owns a port or reads the clock for it.

pub mod simulator;
pub mod transport;

pub use simulator::{ControlError, GaugeSimulator, Millilitres, TankSetup};
pub use transport::{GaugeError, GaugeLink, LineSettings, Progress, TankLevel};
