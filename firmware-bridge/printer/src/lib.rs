//! ESC/POS receipt printer for the station POS.
//!
//! The layout ([`receipt`]), what can be printed ([`text`]), the command set ([`command`]), the
//! decoder ([`decode`]) and the real-time status codec ([`status`]) do no I/O. Only
//! [`transport`] (the serial line) and the simulator's runner touch the outside world;
//! [`simulator::PrinterSimulator`] itself is a pure state machine so tests can drive it byte by
//! byte.
//!
//! Architecture invariant: money and volume are integers everywhere (won, millilitres).

pub mod command;
pub mod decode;
pub mod money;
pub mod receipt;
pub mod simulator;
pub mod status;
pub mod text;
pub mod transport;

pub use decode::{DecodeError, DecodedReceipt, decode_receipts};
pub use money::{Millilitres, Won, vat_included};
pub use receipt::{EncodeError, Notice, Payment, Receipt, ReceiptLine};
pub use status::{Cover, Paper, PrinterState, StatusError, StatusRequest};
