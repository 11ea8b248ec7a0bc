//! The station's edge runtime: the long-running part of a station that owns its core and keeps
//! it in step with HQ. Today it runs the sync agent, brings scheduled price versions into force,
//! checkpoints the database's WAL off the sale path, prints the receipts of the print queue on the
//! receipt printer ([`printer`]) and records the tank gauge's readings ([`gauge`]); the desktop app and the pumps join it in later issues.
//!
//! The sync agent ([`sync_agent`]) is one tokio task: it sends the station's outbox in sequence
//! order and marks events delivered only when HQ acknowledges them after its commit; it applies
//! HQ's messages through the core's inbox (exactly once, in order) and acknowledges them after
//! the station's commit. Other processes (the `station` tool, the POS) may write to the same
//! database meanwhile: the agent finds new events by polling the outbox.

pub mod api;
pub mod app;
pub mod forecourt;
pub mod gauge;
pub mod live;
pub mod printer;
pub mod sync_agent;
