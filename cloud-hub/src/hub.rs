//! The hub application: its SQLite file, and the exchange of events with stations (inbox,
//! outbox, dead letters). HQ operations live in `master` and `logistics`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use sync_protocol::stream::{Arrival, classify};
use sync_protocol::{Direction, Envelope, Event, HUB_ORIGIN, SCHEMA_VERSION};

use crate::error::{HubError, Result};
use crate::metrics::Metrics;
use crate::projections;
use crate::views::DeadLetterView;

/// The hub shared between its HTTP API and its sync agent. Every operation is one short
/// transaction, so a plain mutex is enough.
pub type SharedHub = Arc<Mutex<Hub>>;

/// HQ's application over its database.
#[derive(Debug)]
pub struct Hub {
    pub(crate) conn: Connection,
    pub(crate) metrics: Arc<Metrics>,
}

/// What became of a message from a station, and what to acknowledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub outcome: ReceivedOutcome,
    /// The station's position to acknowledge now, if the message was part of its sequence.
    pub ack_through: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceivedOutcome {
    Applied { seq: u64 },
    Duplicate { seq: u64 },
    AfterGap { seq: u64, expected: u64 },
    DeadLettered { seq: Option<u64>, code: String },
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/0001_hub.sql")),
        M::up(include_str!("../migrations/0002_wet_stock.sql")),
        M::up(include_str!("../migrations/0003_hq_access.sql")),
    ])
}

pub(crate) fn ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn from_ms(at: i64) -> Timestamp {
    Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Hub {
    /// Opens (creating if needed) the hub database and brings its schema up to date.
    pub fn open(path: &Path, metrics: Arc<Metrics>) -> Result<Hub> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(HubError::Storage(format!(
                "the database refused WAL mode ({mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| HubError::Storage(format!("migrating the hub database: {e}")))?;
        Ok(Hub { conn, metrics })
    }

    pub fn shared(self) -> SharedHub {
        Arc::new(Mutex::new(self))
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Runs `change` in one `BEGIN IMMEDIATE` transaction, committed only if it succeeds.
    pub(crate) fn write<T>(
        &mut self,
        change: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = change(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Applies one message a station published on its `up` topic, at most once.
    pub fn receive_station_message(
        &mut self,
        station: &str,
        message: &[u8],
        now: Timestamp,
    ) -> Result<Received> {
        let mut received = self.receive_station_messages(&[(station, message)], now)?;
        received
            .pop()
            .ok_or_else(|| HubError::Storage("a batch of one gave no result".into()))
    }

    /// Applies a batch of station messages in one transaction (one disk flush for all), each at
    /// most once and in the order given; one result per message. A message that cannot be
    /// applied is dead-lettered inside the batch (its own changes rolled back to a savepoint), so
    /// it never holds the others back. Only a storage failure fails the batch, which then changes
    /// nothing and is acknowledged to no one.
    pub fn receive_station_messages(
        &mut self,
        batch: &[(&str, &[u8])],
        now: Timestamp,
    ) -> Result<Vec<Received>> {
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(batch.len());
        for (station, message) in batch {
            results.push(receive_one(&mut tx, station, message, now)?);
        }
        tx.commit()?;
        for received in &results {
            self.metrics.events_received.inc();
            match &received.outcome {
                ReceivedOutcome::Applied { .. } => self.metrics.events_applied.inc(),
                ReceivedOutcome::Duplicate { .. } => self.metrics.duplicates.inc(),
                ReceivedOutcome::DeadLettered { seq, code } => {
                    tracing::warn!(?seq, code, "station message dead-lettered");
                    self.metrics.dead_letters.inc();
                }
                ReceivedOutcome::AfterGap { .. } => {}
            }
        }
        Ok(results)
    }

    /// The last message of `station` the hub has handled (0 for none).
    pub fn applied_through(&self, station: &str) -> Result<u64> {
        applied_through_in(&self.conn, station)
    }

    pub(crate) fn station_exists(&self, station: &str) -> Result<bool> {
        station_registered(&self.conn, station)
    }

    /// Every station id, for the sync agent.
    pub fn station_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT station_id FROM stations ORDER BY station_id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    /// The hub's outbox towards `station`: messages after `after`, at most `limit`.
    pub fn outbox_messages(
        &self,
        station: &str,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, message FROM outbox WHERE station_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![station, to_i64(after), to_i64(limit)], |r| {
                Ok((to_u64(r.get(0)?), r.get::<_, String>(1)?.into_bytes()))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The last sequence in the outbox towards `station`, and how far it acknowledged.
    pub fn outbox_position(&self, station: &str) -> Result<(u64, u64)> {
        let row: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT last_seq, acked_through FROM outbox_positions WHERE station_id = ?1",
            )?
            .query_row(params![station], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map_or((0, 0), |(last, acked)| (to_u64(last), to_u64(acked))))
    }

    /// The station committed every hub message up to `through`. Returns the new position.
    pub fn station_acknowledged(&mut self, station: &str, through: u64) -> Result<u64> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE outbox_positions SET acked_through = max(acked_through, min(?2, last_seq))
                 WHERE station_id = ?1",
            )?
            .execute(params![station, to_i64(through)])?;
            let acked: Option<i64> = tx
                .prepare_cached("SELECT acked_through FROM outbox_positions WHERE station_id = ?1")?
                .query_row(params![station], |r| r.get(0))
                .optional()?;
            Ok(acked.map_or(0, to_u64))
        })
    }

    /// A station went online or offline (its retained status or its last will).
    pub fn station_status_changed(
        &mut self,
        station: &str,
        online: bool,
        now: Timestamp,
    ) -> Result<()> {
        if !self.station_exists(station)? {
            return Ok(());
        }
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO rm_stations (station_id, online, status_changed_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (station_id) DO UPDATE SET online = ?2, status_changed_at_ms = ?3")?.execute(params![station, online, ms(now)],
            )?;
            Ok(())
        })?;
        self.metrics.set_online(station, online);
        Ok(())
    }

    /// Messages that could not be handled, newest first.
    pub fn dead_letters(&self, limit: u64) -> Result<Vec<DeadLetterView>> {
        let mut stmt = self.conn.prepare(
            "SELECT dead_letter_id, station_id, seq, code, reason, message, received_at_ms
             FROM dead_letters ORDER BY dead_letter_id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map(params![to_i64(limit)], |r| {
                Ok(DeadLetterView {
                    id: r.get(0)?,
                    station: r.get(1)?,
                    seq: r.get::<_, Option<i64>>(2)?.map(to_u64),
                    code: r.get(3)?,
                    reason: r.get(4)?,
                    message: String::from_utf8_lossy(&r.get::<_, Vec<u8>>(5)?).into_owned(),
                    received_at: from_ms(r.get(6)?).to_string(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Checks the database answers (for readiness).
    pub fn ping(&self) -> Result<()> {
        self.conn
            .prepare_cached("SELECT 1")?
            .query_row([], |_| Ok(()))?;
        Ok(())
    }
}

fn receive_one(
    tx: &mut Transaction<'_>,
    station: &str,
    message: &[u8],
    now: Timestamp,
) -> Result<Received> {
    if !station_registered(tx, station)? {
        let reason = "the station is not registered at HQ";
        return dead_letter(
            tx,
            station,
            None,
            "unknown_station",
            reason,
            message,
            now,
            false,
        );
    }
    let applied = applied_through_in(tx, station)?;
    let envelope = match sync_protocol::decode(message) {
        Ok(envelope) => envelope,
        Err(error) => {
            let place = sync_protocol::peek_origin_sequence(message)
                .filter(|(origin, _)| origin == station)
                .map(|(_, seq)| seq);
            let reason = error.to_string();
            return match place.map(|seq| (seq, classify(applied, seq))) {
                Some((seq, Arrival::Next)) => dead_letter(
                    tx,
                    station,
                    Some(seq),
                    error.code(),
                    &reason,
                    message,
                    now,
                    true,
                ),
                Some((seq, arrival)) => Ok(not_next(seq, arrival, applied)),
                None => dead_letter(
                    tx,
                    station,
                    None,
                    error.code(),
                    &reason,
                    message,
                    now,
                    false,
                ),
            };
        }
    };
    if envelope.origin != station {
        let reason = format!(
            "a message from {} on the topic of {station}",
            envelope.origin
        );
        let seq = Some(envelope.sequence);
        return dead_letter(
            tx,
            station,
            seq,
            "foreign_origin",
            &reason,
            message,
            now,
            false,
        );
    }
    let seq = envelope.sequence;
    match classify(applied, seq) {
        Arrival::Next => {}
        arrival => return Ok(not_next(seq, arrival, applied)),
    }
    if envelope.event.kind().direction() != Direction::StationToHub {
        let reason = format!(
            "`{}` is sent by HQ, not by a station",
            envelope.event.kind()
        );
        return dead_letter(
            tx,
            station,
            Some(seq),
            "wrong_direction",
            &reason,
            message,
            now,
            true,
        );
    }
    let text = String::from_utf8_lossy(message).into_owned();
    let savepoint = tx.savepoint()?;
    let result = record_event(&savepoint, station, &envelope, &text, now)
        .and_then(|()| {
            projections::apply(
                &savepoint,
                station,
                &envelope.event,
                ms(envelope.occurred_at),
                ms(now),
            )
        })
        .and_then(|()| crate::logistics::after_station_event(&savepoint, &envelope.event, now))
        .and_then(|()| advance_inbox(&savepoint, station, seq, now));
    match result {
        Ok(()) => {
            savepoint.commit()?;
            Ok(Received {
                outcome: ReceivedOutcome::Applied { seq },
                ack_through: Some(seq),
            })
        }
        Err(HubError::Storage(detail)) => Err(HubError::Storage(detail)),
        Err(error) => {
            drop(savepoint);
            let (code, reason) = (error.code(), error.to_string());
            dead_letter(tx, station, Some(seq), code, &reason, message, now, true)
        }
    }
}

fn not_next(seq: u64, arrival: Arrival, applied: u64) -> Received {
    let outcome = match arrival {
        Arrival::AfterGap { expected } => ReceivedOutcome::AfterGap { seq, expected },
        _ => ReceivedOutcome::Duplicate { seq },
    };
    Received {
        outcome,
        ack_through: Some(applied),
    }
}

/// Stores a message that cannot be applied; when it holds its place in the station's sequence
/// (`in_sequence`), that place counts as handled so the messages behind it go on.
#[allow(clippy::too_many_arguments)]
fn dead_letter(
    tx: &Connection,
    station: &str,
    seq: Option<u64>,
    code: &str,
    reason: &str,
    message: &[u8],
    now: Timestamp,
    in_sequence: bool,
) -> Result<Received> {
    tx.prepare_cached(
        "INSERT INTO dead_letters (station_id, seq, code, reason, message, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        station,
        seq.map(to_i64),
        code,
        reason,
        message,
        ms(now)
    ])?;
    if let (true, Some(seq)) = (in_sequence, seq) {
        advance_inbox(tx, station, seq, now)?;
    }
    Ok(Received {
        outcome: ReceivedOutcome::DeadLettered {
            seq,
            code: code.to_owned(),
        },
        ack_through: if in_sequence { seq } else { None },
    })
}

fn station_registered(conn: &Connection, station: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM stations WHERE station_id = ?1")?
        .query_row(params![station], |_| Ok(()))
        .optional()?
        .is_some())
}

fn applied_through_in(conn: &Connection, station: &str) -> Result<u64> {
    let through: Option<i64> = conn
        .prepare_cached("SELECT applied_through FROM inbox_positions WHERE station_id = ?1")?
        .query_row(params![station], |r| r.get(0))
        .optional()?;
    Ok(through.map_or(0, to_u64))
}

fn advance_inbox(tx: &Connection, station: &str, seq: u64, now: Timestamp) -> Result<()> {
    tx.prepare_cached("INSERT INTO inbox_positions (station_id, applied_through, last_seen_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (station_id) DO UPDATE SET applied_through = ?2, last_seen_ms = ?3")?.execute(params![station, to_i64(seq), ms(now)],
    )?;
    Ok(())
}

fn record_event(
    tx: &Connection,
    station: &str,
    envelope: &Envelope,
    message: &str,
    now: Timestamp,
) -> Result<()> {
    tx.prepare_cached("INSERT INTO events (event_id, origin, station_id, seq, kind, occurred_at_ms, applied_at_ms, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(params![
            envelope.event_id.to_string(),
            envelope.origin,
            station,
            to_i64(envelope.sequence),
            envelope.event.kind().as_str(),
            ms(envelope.occurred_at),
            ms(now),
            message
        ],
    )?;
    Ok(())
}

/// Appends an HQ event to `station`'s outbox with the next sequence number; for events the read
/// models follow (shipments, rejections) it is recorded and projected in the same transaction.
pub(crate) fn emit_to_station(
    tx: &Connection,
    station: &str,
    event: Event,
    now: Timestamp,
) -> Result<u64> {
    tx.prepare_cached(
        "INSERT INTO outbox_positions (station_id, last_seq, acked_through) VALUES (?1, 0, 0)
         ON CONFLICT (station_id) DO NOTHING",
    )?
    .execute(params![station])?;
    let seq: i64 = tx.prepare_cached("UPDATE outbox_positions SET last_seq = last_seq + 1 WHERE station_id = ?1 RETURNING last_seq")?.query_row(params![station],
        |r| r.get(0),
    )?;
    let envelope = Envelope {
        event_id: new_v7(now),
        origin: HUB_ORIGIN.to_owned(),
        sequence: to_u64(seq),
        occurred_at: now,
        schema_version: SCHEMA_VERSION,
        event,
    };
    let message = String::from_utf8(sync_protocol::encode(&envelope))
        .map_err(|e| HubError::Storage(format!("encoding an event: {e}")))?;
    tx.prepare_cached("INSERT INTO outbox (station_id, seq, event_id, kind, message, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![station, seq, envelope.event_id.to_string(), envelope.event.kind().as_str(), message, ms(now)],
    )?;
    if matches!(
        envelope.event,
        Event::ShipmentDispatched(_) | Event::OrderRejected(_)
    ) {
        record_event(tx, station, &envelope, &message, now)?;
        projections::apply(tx, station, &envelope.event, ms(now), ms(now))?;
    }
    Ok(to_u64(seq))
}

/// A UUIDv7 for `now`, with random bits from the system's generator.
pub(crate) fn new_v7(now: Timestamp) -> uuid::Uuid {
    let ms = u64::try_from(now.as_millisecond()).unwrap_or(0);
    let seconds = ms / 1000;
    let nanos = u32::try_from((ms % 1000) * 1_000_000).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos))
}
