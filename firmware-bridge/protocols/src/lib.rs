//! Forecourt device protocols as pure codecs and state machines.
//!
//! A station talks to two kinds of device over serial lines: the pump (dispenser) controller and
//! the tank gauge. This crate holds everything about those conversations that can be decided
//! without touching a port or reading a clock:
//!
//! - [`dart`]: the Wayne DART pump protocol (RS-485, also spoken by Mekser MKR-5 controllers):
//!   line-level frames, application transactions and a bus master that polls pumps.
//! - [`tls`]: the Veeder-Root TLS-3xx serial interface: command framing, checksums, the in-tank
//!   inventory (function 201) and delivery (function 202) reports.
//!
//! # Architecture invariant
//!
//! Nothing here does I/O or reads the time. Bytes and the current time go in (time as a
//! [`std::time::Instant`] chosen by the caller); frames, events, bytes to send and the next
//! deadline come out. The serial adapter that owns the port, and the simulators, live elsewhere
//! and are thin. This keeps every rule testable step by step with a fake clock, and keeps
//! decoding total: no input, however malformed, makes this crate panic.
//!
//! Quantities leave this crate as integers. DART fields are the pump's own scaled integers (the
//! decimal point is a pump setting, applied by the adapter); TLS floats are converted once, at
//! one documented boundary, to integer thousandths of the console's unit.

pub mod dart;
pub mod tls;
