//! Fuel pumps (dispensers) on a Wayne DART line.
//!
//! The DART codecs and the bus master state machine live in `forecourt-protocols`, which does no
//! I/O. This crate is the thin part around them:
//!
//! - [`transport`]: the station's side, a serial port driven through
//!   `forecourt_protocols::dart::DartMaster`, surfacing what the pumps do as [`PumpEvent`]s
//!   (status, running volume and amount, finished transactions, totals, online/offline, quiet,
//!   and what could not be decoded, with its bytes), and asking a pump what it holds (its state
//!   and the filling it keeps, its totals counters).
//! - [`simulator`]: several pumps sharing one line, answering the master as DART pumps do, so
//!   the station side can be tested end to end over a pseudo-terminal (the `pump-sim` binary);
//!   [`pty`] serves it on one.
//!
//! # Units
//!
//! DART fields carry no decimal point; it is a pump setting. Everything here assumes the setting
//! common on Korean stations: volume in centilitres (0.01 L), unit price in won per litre, amount
//! in won. The amount of a filling is `volume × price / 100`, rounded half up to a whole won.
//!
//! # Architecture invariant
//!
//! The simulator is a pure state machine: bytes and the time go in, bytes come out. Only the
//! binary, [`pty`] and the transport own a port or read the clock.

pub mod pty;
pub mod simulator;
pub mod transport;

pub use simulator::{ControlError, FlowRate, HeldFilling, PumpSetup, PumpSimulator, amount_for};
pub use transport::{LineSettings, Preset, PumpError, PumpEvent, PumpLine};
