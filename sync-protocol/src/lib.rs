//! The events a station and the hub exchange, and their versioned JSON codec.
//!
//! This crate is the contract between the two sides. It holds *wire types*: plain data that
//! serialises to a stable JSON shape. Domain rules (what a valid sale is, which volume a tank can
//! take) live in the station core and the hub, which convert between these types and their own.
//!
//! Every message is an [`Envelope`]: who made it (`origin`), its place in that origin's gapless
//! sequence, when it happened, the schema version, and one [`Event`]. Receivers apply envelopes
//! idempotently, keyed by `(origin, sequence)`, so a message sent twice is counted once.
//!
//! Decoding never panics. A message that is not JSON, lacks a field, carries a wrong type, names a
//! kind this version does not know, or claims a newer schema version is a [`DecodeError`] with a
//! stable [`DecodeError::code`], so the receiver can dead-letter it and carry on.
//!
//! Compatibility rules of schema version 1:
//! - unknown fields are ignored (a newer sender may add fields);
//! - a new event kind is a new `kind` string; an older receiver reports it as
//!   [`DecodeError::UnknownKind`] rather than guessing;
//! - money is integer won, volume integer millilitres, unit price integer won per litre (or per
//!   piece), times are RFC 3339 (senders write UTC; a receiver
//!   accepts any explicit offset, which names the same instant), dates are `YYYY-MM-DD` business days.

mod codec;
mod events;
pub mod stream;
pub mod text;
pub mod transport;

pub use codec::{
    DecodeError, TooLarge, decode, decode_up_to, encode, encode_checked, peek_origin_sequence,
    peek_stream,
};
pub use events::*;

/// The schema version this crate writes, and the newest it reads (it reads every older one).
pub const SCHEMA_VERSION: u16 = 3;

/// The largest message either side ever sends, in bytes of encoded envelope. Every event whose
/// payload grows with the data is bounded or sent in parts so that it stays below this, with
/// room to spare (`tests/sizes.rs` builds the largest message of every kind):
/// - a sale has at most [`MAX_SALE_LINES`] lines;
/// - a price version is sent in parts of at most [`PRICE_ITEMS_PER_PART`] items;
/// - a day report in parts of at most [`DAY_PRODUCTS_PER_PART`] products;
/// - every text is bounded by its sender (names 100 characters, reasons 200).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The largest MQTT packet either link takes or sends, and the limit the brokers are set to: the
/// largest message with its topic and packet headers, rounded up.
pub const MAX_PACKET_BYTES: u32 = 260 * 1024;

/// The most lines one sale may have.
pub const MAX_SALE_LINES: usize = 99;

/// Price items in one `price_changed` message, at most.
pub const PRICE_ITEMS_PER_PART: usize = 200;

/// Products in one `day_closed` message, at most.
pub const DAY_PRODUCTS_PER_PART: usize = 200;

/// The most characters of each text of an `audit_recorded` message (a user id as typed, a
/// subject, a detail): the station cuts longer ones, and keeps them whole in its own log.
pub const AUDIT_TEXT_MAX_CHARS: usize = 200;

/// The largest volume (ml) or quantity any single figure may hold, on either side of the wire:
/// 10 million litres. Far above any tank or truck, and low enough that every product with a
/// price fits in `i64` won.
pub const MAX_VOLUME_ML: i64 = 10_000_000_000;
/// The largest unit price: 10 million won per litre or piece.
pub const MAX_UNIT_PRICE_WON: i64 = 10_000_000;
/// The largest amount one figure may come to: the largest volume at the largest unit price,
/// 100 trillion won; 99 such lines still fit in `i64`.
pub const MAX_AMOUNT_WON: i64 = MAX_VOLUME_ML / 1000 * MAX_UNIT_PRICE_WON;

/// The `origin` of every message the hub sends.
pub const HUB_ORIGIN: &str = "HQ";
