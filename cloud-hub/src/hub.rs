//! The hub application: its SQLite file, and the exchange of events with stations (inbox,
//! outbox, dead letters). HQ operations live in `master` and `logistics`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use sync_protocol::stream::{Arrival, classify};
use sync_protocol::transport::Verdict;
use sync_protocol::{Direction, Envelope, SCHEMA_VERSION, StreamId};

pub(crate) use crate::downstream::emit_to_station;
use crate::error::{HubError, Result};
use crate::metrics::Metrics;
use crate::projections;
use crate::views::{DeadLetterView, DivergenceView, HeldView};

/// The hub shared between its HTTP API and its sync agent. Every operation is one short
/// transaction, so a plain mutex is enough.
pub type SharedHub = Arc<Mutex<Hub>>;

/// HQ's application over its database.
#[derive(Debug)]
pub struct Hub {
    pub(crate) conn: Connection,
    pub(crate) metrics: Arc<Metrics>,
    /// This hub's identity, made with its database; named in its acknowledgements.
    pub(crate) hub_id: String,
    /// The newest schema version this hub reads (below the built-in one only to try an upgrade).
    pub(crate) read_schema: u16,
    /// The audit entry of the change being made on behalf of an HQ user: written by the next
    /// transaction, so that a change and its entry commit together or not at all.
    pending_audit: Option<PendingAudit>,
    /// Told what kinds of records changed, for the dashboard's live updates.
    pub(crate) changes: crate::live::Changes,
}

#[derive(Debug)]
struct PendingAudit {
    at: Timestamp,
    action: &'static str,
    actor: String,
    subject: Option<String>,
    detail: String,
}

/// What became of a message from a station, and what to acknowledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub outcome: ReceivedOutcome,
    /// The station's position to acknowledge now, if the message was part of its sequence.
    pub ack_through: Option<u64>,
    /// The stream the acknowledgement is about (`None` for messages that name none), and what
    /// it says of the two histories.
    pub stream: Option<uuid::Uuid>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceivedOutcome {
    Applied {
        seq: u64,
    },
    Duplicate {
        seq: u64,
    },
    AfterGap {
        seq: u64,
        expected: u64,
    },
    DeadLettered {
        seq: Option<u64>,
        code: String,
    },
    /// Cannot be applied yet (a newer schema, a station not registered yet): not acknowledged,
    /// its sequence not consumed; the station sends it again.
    Held {
        seq: Option<u64>,
        code: String,
    },
    /// HQ holds this sequence number of the stream with another event: the station's history
    /// and HQ's parted; the station starts a new stream.
    Diverged {
        seq: u64,
    },
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/0001_hub.sql")),
        M::up(include_str!("../migrations/0002_wet_stock.sql")),
        M::up(include_str!("../migrations/0003_hq_access.sql")),
        M::up(include_str!("../migrations/0004_streams.sql")),
        M::up(include_str!("../migrations/0005_dashboard.sql")),
        M::up(include_str!("../migrations/0006_station_audit.sql")),
        M::up(include_str!("../migrations/0007_feed.sql")),
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
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('hub_id', ?1) ON CONFLICT (key) DO NOTHING",
            params![new_v7(Timestamp::now()).to_string()],
        )?;
        let hub_id: String =
            conn.query_row("SELECT value FROM settings WHERE key = 'hub_id'", [], |r| {
                r.get(0)
            })?;
        let hub = Hub {
            conn,
            metrics,
            hub_id,
            read_schema: SCHEMA_VERSION,
            pending_audit: None,
            changes: crate::live::Changes::default(),
        };
        hub.count_divergences()?;
        Ok(hub)
    }

    /// This hub's identity (made with its database).
    pub fn hub_id(&self) -> &str {
        &self.hub_id
    }

    /// Reads schema versions only up to `newest`, as an older hub would: messages of a newer
    /// schema are held until the hub is started without this. For trying a staggered upgrade.
    pub fn read_schema_up_to(&mut self, newest: u16) {
        self.read_schema = newest.clamp(1, SCHEMA_VERSION);
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
        if let Some(entry) = self.pending_audit.take() {
            crate::auth::audit(
                &tx,
                entry.at,
                entry.action,
                &entry.actor,
                entry.subject.as_deref(),
                &entry.detail,
            )?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Makes a change on behalf of an HQ user, written to the audit log (who, `action` on
    /// `subject`, `detail`, when) in the same transaction as the change's first write. A change
    /// refused before it writes leaves no entry.
    pub fn on_behalf_of<T>(
        &mut self,
        by: &crate::auth::HqUser,
        action: &'static str,
        subject: Option<&str>,
        detail: String,
        now: Timestamp,
        change: impl FnOnce(&mut Hub) -> Result<T>,
    ) -> Result<T> {
        self.pending_audit = Some(PendingAudit {
            at: now,
            action,
            actor: by.username.clone(),
            subject: subject.map(str::to_owned),
            detail,
        });
        let out = change(self);
        self.pending_audit = None;
        out
    }

    /// The dashboard's change notices.
    pub fn changes(&self) -> &crate::live::Changes {
        &self.changes
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
        let mut applied = Vec::new();
        for (station, message) in batch {
            results.push(receive_one(
                &mut tx,
                station,
                message,
                now,
                self.read_schema,
                &mut applied,
            )?);
        }
        // What was held of a station up to where its stream now stands has been applied.
        let mut moved: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for ((station, _), received) in batch.iter().zip(&results) {
            if let ReceivedOutcome::Applied { seq } | ReceivedOutcome::Duplicate { seq } =
                received.outcome
            {
                let through = moved.entry(station).or_default();
                *through = (*through).max(seq);
            }
        }
        for (station, through) in moved {
            tx.prepare_cached(
                "DELETE FROM held WHERE station_id = ?1 AND (seq IS NULL OR seq <= ?2)",
            )?
            .execute(params![station, to_i64(through)])?;
        }
        // After every event of the batch: an order canceled later in it is never dispatched.
        crate::logistics::after_station_batch(&mut tx, &applied, now)?;
        tx.commit()?;
        // A batch may have found a station's history parted from HQ's (or a new stream).
        self.count_divergences()?;
        if results.iter().any(|r| {
            matches!(
                r.outcome,
                ReceivedOutcome::Applied { .. } | ReceivedOutcome::DeadLettered { .. }
            )
        }) {
            use crate::live::Topic;
            self.changes.tell(&[
                Topic::Stations,
                Topic::Sales,
                Topic::Stock,
                Topic::Orders,
                Topic::Prices,
                Topic::Alerts,
                Topic::Audit,
            ]);
        }
        for received in &results {
            self.metrics.events_received.inc();
            match &received.outcome {
                ReceivedOutcome::Applied { .. } => self.metrics.events_applied.inc(),
                ReceivedOutcome::Duplicate { .. } => self.metrics.duplicates.inc(),
                ReceivedOutcome::DeadLettered { seq, code } => {
                    tracing::warn!(?seq, code, "station message dead-lettered");
                    self.metrics.dead_letters.inc();
                }
                ReceivedOutcome::Held { seq, code } => {
                    tracing::debug!(?seq, code, "station message held");
                    self.metrics.held.inc();
                }
                ReceivedOutcome::Diverged { seq } => {
                    tracing::warn!(seq, "a station's stream diverged from HQ's copy");
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
        self.write(|tx| crate::downstream::acknowledge(tx, station, through))
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
        self.changes
            .tell(&[crate::live::Topic::Stations, crate::live::Topic::Alerts]);
        Ok(())
    }

    /// Messages that could not be handled, newest first.
    pub fn dead_letters(&self, limit: u64) -> Result<Vec<DeadLetterView>> {
        self.dead_letters_of(None, limit)
    }

    /// Messages that could not be handled, of one station when given, newest first.
    pub fn dead_letters_of(
        &self,
        station: Option<&str>,
        limit: u64,
    ) -> Result<Vec<DeadLetterView>> {
        let mut stmt = self.conn.prepare(
            "SELECT dead_letter_id, station_id, seq, code, reason, message, received_at_ms
             FROM dead_letters WHERE ?2 IS NULL OR station_id = ?2
             ORDER BY dead_letter_id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map(params![to_i64(limit), station], |r| {
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

    /// Where stations' histories and HQ's were found to differ, newest first; of one station
    /// when given.
    pub fn divergences(&self, station: Option<&str>, limit: u64) -> Result<Vec<DivergenceView>> {
        let mut stmt = self.conn.prepare(
            "SELECT divergence_id, station_id, direction, kind, old_stream, new_stream, at_seq, detail, detected_at_ms
             FROM divergences WHERE ?1 IS NULL OR station_id = ?1 ORDER BY divergence_id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![station, to_i64(limit)], |r| {
                Ok(DivergenceView {
                    id: r.get(0)?,
                    station: r.get(1)?,
                    direction: r.get(2)?,
                    kind: r.get(3)?,
                    old_stream: r.get(4)?,
                    new_stream: r.get(5)?,
                    at_seq: r.get::<_, Option<i64>>(6)?.map(to_u64),
                    detail: r.get(7)?,
                    detected_at: from_ms(r.get(8)?).to_string(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The stations' messages held until HQ can apply them, oldest first.
    pub fn held_messages(&self) -> Result<Vec<HeldView>> {
        let mut stmt = self.conn.prepare(
            "SELECT station_id, code, reason, seq, repeats, first_at_ms, last_at_ms
             FROM held ORDER BY first_at_ms, station_id, code",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(HeldView {
                    station: r.get(0)?,
                    code: r.get(1)?,
                    reason: r.get(2)?,
                    seq: r.get::<_, Option<i64>>(3)?.map(to_u64),
                    repeats: to_u64(r.get(4)?),
                    first_at: from_ms(r.get(5)?).to_string(),
                    last_at: from_ms(r.get(6)?).to_string(),
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
    read_schema: u16,
    applied: &mut Vec<sync_protocol::Event>,
) -> Result<Received> {
    if !station_registered(tx, station)? {
        // Provisioned on the broker, not yet registered: kept by the station and asked for
        // again once it is, so nothing is stored per copy.
        let seq = sync_protocol::peek_origin_sequence(message).map(|(_, seq)| seq);
        return hold(
            tx,
            station,
            seq,
            "unknown_station",
            "the station is not registered at HQ",
            now,
        );
    }
    let envelope = match sync_protocol::decode_up_to(message, read_schema) {
        Ok(envelope) => envelope,
        Err(error) => return undecodable(tx, station, message, &error, now),
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
            None,
            seq,
            "foreign_origin",
            &reason,
            message,
            now,
        );
    }
    let seq = envelope.sequence;
    let stream = open_stream(tx, station, envelope.stream, now)?;
    match classify(stream.applied, seq) {
        Arrival::Next => {}
        Arrival::Duplicate => {
            // The same sequence number must be the same event: if HQ holds another one there,
            // the station's history and HQ's parted (its database restored from a backup).
            return match event_at(tx, station, &stream.key, seq)? {
                Some(held) if held != envelope.event_id.to_string() => {
                    diverged(tx, station, &stream, seq, &envelope, now)
                }
                _ => Ok(stream.ack(ReceivedOutcome::Duplicate { seq }, seq)),
            };
        }
        Arrival::AfterGap { expected } => {
            return Ok(stream.ack(ReceivedOutcome::AfterGap { seq, expected }, stream.applied));
        }
    }
    if event_known(tx, &envelope.event_id.to_string())? {
        // Sent again under a new stream (after a divergence): counted once.
        advance_stream(tx, station, &stream, seq, now)?;
        return Ok(stream.ack(ReceivedOutcome::Duplicate { seq }, seq));
    }
    if envelope.event.kind().direction() != Direction::StationToHub {
        let reason = format!(
            "`{}` is sent by HQ, not by a station",
            envelope.event.kind()
        );
        return dead_letter(
            tx,
            station,
            Some(&stream),
            Some(seq),
            "wrong_direction",
            &reason,
            message,
            now,
        );
    }
    let text = String::from_utf8_lossy(message).into_owned();
    let savepoint = MessageSavepoint::begin(tx)?;
    let result = record_event(&savepoint, station, &stream.key, &envelope, &text, now)
        .and_then(|()| {
            projections::apply(
                &savepoint,
                station,
                &envelope.event,
                ms(envelope.occurred_at),
                ms(now),
            )
        })
        .and_then(|()| crate::logistics::after_station_event(&savepoint, &envelope.event))
        .and_then(|()| advance_stream(&savepoint, station, &stream, seq, now));
    match result {
        Ok(()) => {
            savepoint.release()?;
            applied.push(envelope.event);
            Ok(stream.ack(ReceivedOutcome::Applied { seq }, seq))
        }
        Err(HubError::Storage(detail)) => Err(HubError::Storage(detail)),
        Err(error) => {
            drop(savepoint);
            let (code, reason) = (error.code(), error.to_string());
            dead_letter(
                tx,
                station,
                Some(&stream),
                Some(seq),
                code,
                &reason,
                message,
                now,
            )
        }
    }
}

/// The savepoint around one station message, made from cached statements: the hub takes tens
/// of thousands of messages a second, and a savepoint parsed for each costs a share of that.
/// Dropped without [`release`](Self::release), it rolls the message's changes back.
struct MessageSavepoint<'c> {
    conn: &'c Connection,
    released: bool,
}

impl<'c> MessageSavepoint<'c> {
    fn begin(conn: &'c Connection) -> Result<MessageSavepoint<'c>> {
        conn.prepare_cached("SAVEPOINT station_message")?
            .execute([])?;
        Ok(MessageSavepoint {
            conn,
            released: false,
        })
    }

    fn release(mut self) -> Result<()> {
        self.conn
            .prepare_cached("RELEASE station_message")?
            .execute([])?;
        self.released = true;
        Ok(())
    }
}

impl Drop for MessageSavepoint<'_> {
    fn drop(&mut self) {
        if !self.released {
            // Nothing more can be done here: a failure leaves the batch's transaction to fail.
            let rolled_back = self
                .conn
                .prepare_cached("ROLLBACK TO station_message")
                .and_then(|mut s| s.execute([]))
                .and_then(|_| {
                    self.conn
                        .prepare_cached("RELEASE station_message")
                        .and_then(|mut s| s.execute([]))
                });
            if let Err(error) = rolled_back {
                tracing::error!(%error, "rolling a station message back failed");
            }
        }
    }
}

impl std::ops::Deref for MessageSavepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// One of a station's streams towards HQ, as the hub holds it.
#[derive(Debug, Clone)]
pub(crate) struct InboxStream {
    /// The stream's id as stored: '' for messages that name no stream (schema 1).
    key: String,
    id: Option<uuid::Uuid>,
    applied: u64,
}

impl InboxStream {
    fn ack(&self, outcome: ReceivedOutcome, through: u64) -> Received {
        Received {
            outcome,
            ack_through: Some(through),
            stream: self.id,
            verdict: Verdict::Agreed,
        }
    }
}

/// The stream a message belongs to. A stream HQ has not seen before is opened at the position
/// it starts after; when the station had another stream, that is a divergence, recorded.
pub(crate) fn open_stream(
    tx: &Connection,
    station: &str,
    stream: Option<StreamId>,
    now: Timestamp,
) -> Result<InboxStream> {
    let key = stream.map(|s| s.id.to_string()).unwrap_or_default();
    let applied: Option<i64> = tx
        .prepare_cached(
            "SELECT applied_through FROM inbox_streams WHERE station_id = ?1 AND stream_id = ?2",
        )?
        .query_row(params![station, key], |r| r.get(0))
        .optional()?;
    if let Some(applied) = applied {
        return Ok(InboxStream {
            key,
            id: stream.map(|s| s.id),
            applied: to_u64(applied),
        });
    }
    let from = stream.map_or(0, |s| s.from);
    let current: Option<(String, i64)> = tx
        .prepare_cached(
            "SELECT stream_id, applied_through FROM inbox_positions WHERE station_id = ?1",
        )?
        .query_row(params![station], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    tx.prepare_cached(
        "INSERT INTO inbox_streams (station_id, stream_id, from_seq, applied_through, opened_at_ms)
         VALUES (?1, ?2, ?3, ?3, ?4)",
    )?
    .execute(params![station, key, to_i64(from), ms(now)])?;
    tx.prepare_cached(
        "INSERT INTO inbox_positions (station_id, applied_through, last_seen_ms, stream_id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (station_id) DO UPDATE SET applied_through = ?2, last_seen_ms = ?3, stream_id = ?4",
    )?
    .execute(params![station, to_i64(from), ms(now), key])?;
    if let Some((old, old_applied)) = current
        && (old_applied > 0 || !old.is_empty())
    {
        let detail = format!(
            "{station} started a new stream after its event {from} (a station re-installed, or its \
             database restored from a backup); HQ keeps the {old_applied} events it holds of the \
             stream before"
        );
        record_divergence(
            tx,
            station,
            "up",
            "new_stream",
            Some(&old),
            Some(&key),
            Some(from),
            &detail,
            now,
        )?;
    }
    Ok(InboxStream {
        key,
        id: stream.map(|s| s.id),
        applied: from,
    })
}

/// Whether HQ has seen stream `id` of `station`.
pub(crate) fn stream_known(tx: &Connection, station: &str, id: uuid::Uuid) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM inbox_streams WHERE station_id = ?1 AND stream_id = ?2")?
        .query_row(params![station, id.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// HQ holds event `seq` of this stream with another event id: the station is told to start a
/// new stream (`diverged`), and the divergence is recorded once.
fn diverged(
    tx: &Connection,
    station: &str,
    stream: &InboxStream,
    seq: u64,
    envelope: &Envelope,
    now: Timestamp,
) -> Result<Received> {
    let seen: Option<i64> = tx
        .prepare_cached(
            "SELECT 1 FROM divergences WHERE station_id = ?1 AND direction = 'up' AND kind = 'history_differs'
             AND old_stream = ?2 AND at_seq = ?3",
        )?
        .query_row(params![station, stream.key, to_i64(seq)], |r| r.get(0))
        .optional()?;
    if seen.is_none() {
        let detail = format!(
            "{station} sent event {seq} as {} ({}), but HQ holds event {seq} of that stream as \
             another event: the station's database went back (restored from a backup?). HQ keeps \
             what it holds; the station starts a new stream for what it has after that",
            envelope.event_id,
            envelope.event.kind()
        );
        record_divergence(
            tx,
            station,
            "up",
            "history_differs",
            Some(&stream.key),
            None,
            Some(seq),
            &detail,
            now,
        )?;
    }
    Ok(Received {
        outcome: ReceivedOutcome::Diverged { seq },
        ack_through: Some(seq - 1),
        stream: stream.id,
        verdict: Verdict::Diverged,
    })
}

/// A message that does not decode: held when a later version may read it, dead-lettered in its
/// place in the sequence when it is the next one, otherwise answered with the position.
fn undecodable(
    tx: &mut Transaction<'_>,
    station: &str,
    message: &[u8],
    error: &sync_protocol::DecodeError,
    now: Timestamp,
) -> Result<Received> {
    let place = sync_protocol::peek_origin_sequence(message)
        .filter(|(origin, _)| origin == station)
        .map(|(_, seq)| seq);
    let reason = error.to_string();
    if error.is_transient() {
        return hold(tx, station, place, error.code(), &reason, now);
    }
    let Some(seq) = place else {
        return dead_letter(tx, station, None, None, error.code(), &reason, message, now);
    };
    let stream = open_stream(tx, station, sync_protocol::peek_stream(message), now)?;
    match classify(stream.applied, seq) {
        Arrival::Next => dead_letter(
            tx,
            station,
            Some(&stream),
            Some(seq),
            error.code(),
            &reason,
            message,
            now,
        ),
        Arrival::Duplicate => Ok(stream.ack(ReceivedOutcome::Duplicate { seq }, seq)),
        Arrival::AfterGap { expected } => {
            Ok(stream.ack(ReceivedOutcome::AfterGap { seq, expected }, stream.applied))
        }
    }
}

/// Keeps a message HQ cannot apply yet out of the sequence: one row per station and reason,
/// counting repeats; nothing is acknowledged.
fn hold(
    tx: &Connection,
    station: &str,
    seq: Option<u64>,
    code: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Received> {
    tx.prepare_cached(
        "INSERT INTO held (station_id, code, reason, seq, repeats, first_at_ms, last_at_ms)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)
         ON CONFLICT (station_id, code) DO UPDATE SET reason = ?3, seq = ?4, repeats = repeats + 1, last_at_ms = ?5",
    )?
    .execute(params![station, code, reason, seq.map(to_i64), ms(now)])?;
    Ok(Received {
        outcome: ReceivedOutcome::Held {
            seq,
            code: code.to_owned(),
        },
        ack_through: None,
        stream: None,
        verdict: Verdict::Agreed,
    })
}

/// Stores a message that can never be applied, once per distinct message (a repeat counts).
/// When it holds its place in a stream (`stream`), that place counts as handled so the messages
/// behind it go on.
#[allow(clippy::too_many_arguments)]
fn dead_letter(
    tx: &Connection,
    station: &str,
    stream: Option<&InboxStream>,
    seq: Option<u64>,
    code: &str,
    reason: &str,
    message: &[u8],
    now: Timestamp,
) -> Result<Received> {
    use sha2::Digest;
    let digest = format!("{:x}", sha2::Sha256::digest(message));
    tx.prepare_cached(
        "INSERT INTO dead_letters (station_id, seq, code, reason, message, received_at_ms, digest, repeats, last_received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?6)
         ON CONFLICT (station_id, digest) DO UPDATE SET repeats = repeats + 1, last_received_at_ms = ?6",
    )?
    .execute(params![
        station,
        seq.map(to_i64),
        code,
        reason,
        message,
        ms(now),
        digest
    ])?;
    let outcome = ReceivedOutcome::DeadLettered {
        seq,
        code: code.to_owned(),
    };
    match (stream, seq) {
        (Some(stream), Some(seq)) => {
            advance_stream(tx, station, stream, seq, now)?;
            Ok(stream.ack(outcome, seq))
        }
        _ => Ok(Received {
            outcome,
            ack_through: None,
            stream: None,
            verdict: Verdict::Agreed,
        }),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn record_divergence(
    tx: &Connection,
    station: &str,
    direction: &str,
    kind: &str,
    old_stream: Option<&str>,
    new_stream: Option<&str>,
    at_seq: Option<u64>,
    detail: &str,
    now: Timestamp,
) -> Result<()> {
    tracing::warn!(station, direction, kind, detail, "stream divergence");
    tx.prepare_cached(
        "INSERT INTO divergences (station_id, direction, kind, old_stream, new_stream, at_seq, detail, detected_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        station,
        direction,
        kind,
        old_stream,
        new_stream,
        at_seq.map(to_i64),
        detail,
        ms(now)
    ])?;
    Ok(())
}

fn event_at(tx: &Connection, station: &str, stream: &str, seq: u64) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached(
            "SELECT event_id FROM events WHERE station_id = ?1 AND origin = ?1 AND stream_id = ?2 AND seq = ?3",
        )?
        .query_row(params![station, stream, to_i64(seq)], |r| r.get(0))
        .optional()?)
}

fn event_known(tx: &Connection, event_id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?
        .query_row(params![event_id], |_| Ok(()))
        .optional()?
        .is_some())
}

fn advance_stream(
    tx: &Connection,
    station: &str,
    stream: &InboxStream,
    seq: u64,
    now: Timestamp,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE inbox_streams SET applied_through = ?3 WHERE station_id = ?1 AND stream_id = ?2",
    )?
    .execute(params![station, stream.key, to_i64(seq)])?;
    tx.prepare_cached(
        "UPDATE inbox_positions SET applied_through = ?2, last_seen_ms = ?3 WHERE station_id = ?1 AND stream_id = ?4",
    )?
    .execute(params![station, to_i64(seq), ms(now), stream.key])?;
    Ok(())
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

pub(crate) fn record_event(
    tx: &Connection,
    station: &str,
    stream: &str,
    envelope: &Envelope,
    message: &str,
    now: Timestamp,
) -> Result<()> {
    tx.prepare_cached("INSERT INTO events (event_id, origin, station_id, seq, kind, occurred_at_ms, applied_at_ms, message, stream_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?.execute(params![
            envelope.event_id.to_string(),
            envelope.origin,
            station,
            to_i64(envelope.sequence),
            envelope.event.kind().as_str(),
            ms(envelope.occurred_at),
            ms(now),
            message,
            stream
        ],
    )?;
    Ok(())
}

/// A UUIDv7 for `now`, with random bits from the system's generator.
pub(crate) fn new_v7(now: Timestamp) -> uuid::Uuid {
    let ms = u64::try_from(now.as_millisecond()).unwrap_or(0);
    let seconds = ms / 1000;
    let nanos = u32::try_from((ms % 1000) * 1_000_000).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos))
}
