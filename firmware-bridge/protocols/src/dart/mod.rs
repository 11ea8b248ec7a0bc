//! Wayne DART: the pump protocol of Wayne dispensers, also spoken by Mekser MKR-5 controllers.
//!
//! DART has three levels (Dart Pump Interface, section 1.1 "Protocol levels"): the electrical
//! level (RS-485 or current loop, 9600/19200 baud, 8 data bits, odd parity, one stop bit), the
//! line level (framing, CRC, sequence numbers, who may speak when) and the application level
//! (transactions such as "authorize" or "filled volume and amount"). This module covers the two
//! upper ones, each in its own file:
//!
//! - [`crc`]: the line-level CRC-16.
//! - [`frame`]: line-level frames, their encoder and an incremental decoder that resynchronises
//!   after garbage or a bad CRC.
//! - [`bcd`]: packed BCD, the number format of every application field.
//! - [`transaction`]: typed application transactions, controller → pump (CD) and
//!   pump → controller (DC), and their codec.
//! - [`master`]: the bus master: polls pumps in turn, sends queued commands, retries, and
//!   reports what the pumps say as events. No I/O, no clock: the caller passes the time in.
//!
//! # Sources
//!
//! The vendor documents are "Protocol Specification Dart Pump Interface", revision 2.11
//! (application level) and the DART line-level specification. Where this code relies on a fact
//! taken from them, the doc comment names the section. Where the documents were not available to
//! us and the fact comes from traffic captured on real Wayne pumps and published with an
//! independent controller firmware, the comment says so; those captured frames are also the
//! known-answer tests in each file.

pub mod bcd;
pub mod crc;
pub mod frame;
pub mod master;
pub mod transaction;

pub use frame::{Frame, FrameDecoder, FrameError, FrameKind, PumpAddress, TxSeq};
pub use master::{CommandFailure, CommandId, DartMaster, MasterConfig, MasterEvent, QueueError};
pub use transaction::{FromPump, ToPump, TransactionError};
