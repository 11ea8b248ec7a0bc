//! The outbox (events HQ must hear about) and the inbox (HQ's messages already handled).
//!
//! Outbox: written only by the operations themselves, in their own transaction
//! ([`crate::station::Tx::emit`]); read in sequence order by whoever sends it; an event is marked
//! acknowledged only when HQ confirms it committed it. Nothing here sends anything.
//!
//! Inbox: [`Station::apply_hub_message`] applies one message from HQ exactly once. Messages are
//! keyed by HQ's stream and sequence: an old sequence is a duplicate and ignored (unless the
//! station holds another message there: a divergence, see `sync_protocol::transport`); a
//! sequence past the next expected one is refused as out of order (the sender re-sends from the
//! gap); the next one is applied in the same transaction that records it, unless its event id was
//! already handled (sent again in a new stream). A new stream of HQ's is followed from where it
//! starts. A message of a newer schema is held: not recorded, not acknowledged, applied once the
//! station is upgraded. A message that can never be applied is dead-lettered with its reason
//! (once per distinct message) and its sequence is consumed, so it never blocks the messages
//! behind it.
//!
//! Outbox streams: the station's events go to HQ in a stream made with its database. When HQ
//! shows that the two histories parted, [`Station::restart_up_stream`] starts a new one after
//! what HQ acknowledged; when HQ lost what it acknowledged, [`Station::rewind_up_stream`] sends
//! it again.

use jiff::Timestamp;
use rusqlite::OptionalExtension;
use rusqlite::params;
use sync_protocol::stream::{Arrival, classify};
use sync_protocol::{DecodeError, Direction, Envelope, Event, HUB_ORIGIN, ProductUnit, StreamId};

use crate::catalog::{
    PriceItem, PriceVersion, Unit, apply_due_price_version, receive_price_version,
};
use crate::error::{Result, StationError};
use crate::ids::{OrderId, ShipmentId};
use crate::orders::{ExpectedDelivery, record_expected_delivery, record_order_rejection};
use crate::sql::{ms, timestamp};
use crate::station::{Station, Tx};
use crate::units::{Millilitres, UnitPrice};

/// One event in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub seq: u64,
    pub event_id: String,
    pub kind: String,
    pub occurred_at: Timestamp,
    /// The encoded envelope, exactly as it is sent.
    pub message: String,
    pub acknowledged: bool,
}

/// What became of a message from HQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxOutcome {
    /// Applied now.
    Applied { sequence: u64 },
    /// Already handled before; nothing changed.
    Duplicate { sequence: u64 },
    /// Arrived before an earlier message; nothing changed. `expected` is the next sequence wanted.
    OutOfOrder { sequence: u64, expected: u64 },
    /// Could not be decoded or applied; stored as a dead letter with its reason.
    DeadLettered {
        sequence: Option<u64>,
        code: String,
        reason: String,
    },
    /// Cannot be read yet (a newer schema): not acknowledged, its sequence not consumed; HQ
    /// sends it again, and a station upgraded applies it.
    Held {
        sequence: Option<u64>,
        code: String,
        reason: String,
    },
    /// The station holds this sequence number of HQ's stream as another message: HQ's
    /// history went back; HQ is told so and starts a new stream.
    Diverged { sequence: u64 },
}

/// Where the station found its history and HQ's differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// `up` (the station's stream towards HQ) or `down` (HQ's towards the station).
    pub direction: String,
    pub kind: String,
    pub detail: String,
    pub detected_at: Timestamp,
}

/// A message that could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    pub code: String,
    pub reason: String,
    pub received_at: Timestamp,
    /// How many times this same message came.
    pub repeats: u64,
}

impl Station {
    /// Outbox events after `after_seq`, in sequence order, at most `limit`.
    pub fn outbox_events(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxEvent>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, event_id, kind, occurred_at_ms, message, acknowledged_at_ms IS NOT NULL
             FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![to_i64(after_seq), to_i64(limit as u64)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, i64>(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, event_id, kind, at, message, acknowledged) = row?;
            Ok(OutboxEvent {
                seq: to_u64(seq),
                event_id,
                kind,
                occurred_at: timestamp(at)?,
                message,
                acknowledged,
            })
        })
        .collect()
    }

    /// Events not yet acknowledged by HQ, oldest first, at most `limit`.
    pub fn unacknowledged_events(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        let after = self.acknowledged_through()?;
        self.outbox_events(after, limit)
    }

    /// The highest sequence HQ acknowledged (0 for none). Acknowledgement is cumulative.
    pub fn acknowledged_through(&self) -> Result<u64> {
        let seq: i64 =
            self.conn()
                .query_row("SELECT outbox_acked_through FROM station", [], |r| r.get(0))?;
        Ok(to_u64(seq))
    }

    /// The sequence number of the newest event in the outbox (0 for none).
    pub fn last_outbox_seq(&self) -> Result<u64> {
        let seq: i64 =
            self.conn()
                .query_row("SELECT next_outbox_seq - 1 FROM station", [], |r| r.get(0))?;
        Ok(to_u64(seq))
    }

    /// How many events wait for HQ's acknowledgement.
    pub fn outbox_backlog(&self) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT next_outbox_seq - 1 - outbox_acked_through FROM station",
            [],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }

    /// Records HQ's acknowledgement of every event up to and including `seq`.
    /// Returns how many events it newly acknowledged.
    pub fn acknowledge_through(&mut self, seq: u64, now: Timestamp) -> Result<u64> {
        self.write(now, |tx| {
            let (last, acked): (i64, i64) = tx.sql.query_row(
                "SELECT next_outbox_seq - 1, outbox_acked_through FROM station",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if to_i64(seq) > last {
                return Err(StationError::InvalidInput {
                    field: "acknowledgement",
                    problem: format!("sequence {seq} was never sent; the last event is {last}"),
                });
            }
            if to_i64(seq) <= acked {
                return Ok(0);
            }
            let n = tx.sql.execute(
                "UPDATE outbox SET acknowledged_at_ms = ?3 WHERE seq > ?1 AND seq <= ?2",
                params![acked, to_i64(seq), tx.now_ms()],
            )?;
            tx.sql.execute(
                "UPDATE station SET outbox_acked_through = ?1",
                params![to_i64(seq)],
            )?;
            Ok(n as u64)
        })
    }

    /// The last sequence handled of HQ's stream the station follows (0 for none). `origin` is
    /// [`HUB_ORIGIN`]: nothing else sends to a station.
    pub fn inbox_position(&self, origin: &str) -> Result<u64> {
        let (stream, from) = self.down_stream_key()?;
        position_in(self.conn(), origin, stream.as_deref().unwrap_or(""), from)
    }

    /// HQ's stream the station follows, if it follows one that names itself.
    pub fn down_stream(&self) -> Result<Option<uuid::Uuid>> {
        let (stream, _) = self.down_stream_key()?;
        Ok(stream.and_then(|s| s.parse().ok()))
    }

    fn down_stream_key(&self) -> Result<(Option<String>, u64)> {
        let (stream, from): (Option<String>, i64) = self.conn().query_row(
            "SELECT down_stream_id, down_stream_from FROM station",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((stream, to_u64(from)))
    }

    /// The station's own stream towards HQ.
    pub fn up_stream(&self) -> Result<StreamId> {
        let (id, from): (String, i64) = self.conn().query_row(
            "SELECT up_stream_id, up_stream_from FROM station",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(StreamId {
            id: id.parse().map_err(|e| {
                StationError::DatabaseCorrupt(format!("the station's stream id: {e}"))
            })?,
            from: to_u64(from),
        })
    }

    /// HQ's history and the station's parted (HQ holds other events where the station has
    /// some, or more than the station ever sent: the station's database went back). The
    /// station starts a new stream after what HQ acknowledged, and every event after that is
    /// sent again in it; HQ counts each event once, by its id. Returns the new stream.
    pub fn restart_up_stream(&mut self, why: &str, now: Timestamp) -> Result<StreamId> {
        let why = why.to_owned();
        self.write(now, |tx| {
            let acked: i64 =
                tx.sql
                    .query_row("SELECT outbox_acked_through FROM station", [], |r| r.get(0))?;
            let id = crate::ids::new_v7(tx.now).to_string();
            tx.sql.execute(
                "UPDATE station SET up_stream_id = ?1, up_stream_from = ?2",
                params![id, acked],
            )?;
            tx.sql.execute(
                "UPDATE outbox SET message = json_set(message, '$.stream', json_object('id', ?1, 'from', ?2))
                 WHERE seq > ?2",
                params![id, acked],
            )?;
            record_divergence(
                tx,
                "up",
                "history_differs",
                &format!(
                    "{why}: the station's database went back (restored from a backup?). The \
                     station sends its events after {acked} again in a new stream {id}; HQ keeps \
                     what it holds"
                ),
            )?;
            Ok(StreamId {
                id: id.parse().expect("a UUID just made"),
                from: to_u64(acked),
            })
        })
    }

    /// HQ holds the station's stream only through `through`, less than it acknowledged (HQ's
    /// database went back): the events after it count as not acknowledged and are sent again.
    pub fn rewind_up_stream(&mut self, through: u64, now: Timestamp) -> Result<u64> {
        self.write(now, |tx| {
            let acked: i64 =
                tx.sql
                    .query_row("SELECT outbox_acked_through FROM station", [], |r| r.get(0))?;
            if to_i64(through) >= acked {
                return Ok(to_u64(acked));
            }
            tx.sql.execute(
                "UPDATE outbox SET acknowledged_at_ms = NULL WHERE seq > ?1",
                params![to_i64(through)],
            )?;
            tx.sql.execute(
                "UPDATE station SET outbox_acked_through = ?1",
                params![to_i64(through)],
            )?;
            record_divergence(
                tx,
                "up",
                "hub_went_back",
                &format!(
                    "HQ holds the station's events only through {through} after acknowledging \
                     {acked} (HQ's database restored from a backup?): the {} events after it are \
                     sent again",
                    acked - to_i64(through)
                ),
            )?;
            Ok(through)
        })
    }

    /// How many times the station found its history and HQ's differ.
    pub fn divergence_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM divergences", [], |r| r.get(0))?;
        Ok(to_u64(n))
    }

    /// Where the station found its history and HQ's differ, newest first.
    pub fn divergences(&self, limit: usize) -> Result<Vec<Divergence>> {
        let mut stmt = self.conn().prepare(
            "SELECT direction, kind, detail, detected_at_ms FROM divergences ORDER BY divergence_id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![to_i64(limit as u64)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?))
        })?;
        rows.map(|row| {
            let (direction, kind, detail, at) = row?;
            Ok(Divergence {
                direction,
                kind,
                detail,
                detected_at: timestamp(at)?,
            })
        })
        .collect()
    }

    /// Applies one message from HQ exactly once (see the module documentation).
    pub fn apply_hub_message(&mut self, message: &[u8], now: Timestamp) -> Result<InboxOutcome> {
        let envelope = match sync_protocol::decode_up_to(message, self.read_schema) {
            Ok(envelope) => envelope,
            Err(error) if error.is_transient() => {
                return Ok(InboxOutcome::Held {
                    sequence: sync_protocol::peek_origin_sequence(message).map(|(_, seq)| seq),
                    code: error.code().to_owned(),
                    reason: error.to_string(),
                });
            }
            Err(error) => return self.dead_letter_undecodable(message, &error, now),
        };
        if envelope.origin != HUB_ORIGIN {
            // Not part of HQ's sequence at all: refuse it without touching the inbox.
            let (code, reason) = (
                "foreign_origin".to_owned(),
                format!("the message comes from {}, not from HQ", envelope.origin),
            );
            tracing::warn!(origin = %envelope.origin, "message from a foreign origin dead-lettered");
            self.write(now, |tx| {
                store_dead_letter(
                    tx,
                    Some(&envelope.origin),
                    Some(envelope.sequence),
                    &code,
                    &reason,
                    message,
                )
            })?;
            return Ok(InboxOutcome::DeadLettered {
                sequence: Some(envelope.sequence),
                code,
                reason,
            });
        }
        let Some(stream) = self.follow(envelope.stream, now)? else {
            // A stream HQ has replaced: what it says is old.
            return Ok(InboxOutcome::Duplicate {
                sequence: envelope.sequence,
            });
        };
        let position = position_in(self.conn(), HUB_ORIGIN, &stream.key, stream.from)?;
        let seq = envelope.sequence;
        let event_id = envelope.event_id.to_string();
        match classify(position, seq) {
            Arrival::Next => {}
            Arrival::Duplicate => {
                let held: Option<String> = self
                    .conn()
                    .query_row(
                        "SELECT event_id FROM inbox WHERE origin = ?1 AND stream_id = ?2 AND seq = ?3",
                        params![HUB_ORIGIN, stream.key, to_i64(seq)],
                        |r| r.get(0),
                    )
                    .optional()?;
                return match held {
                    Some(held) if !held.is_empty() && held != event_id => {
                        self.write(now, |tx| {
                            record_divergence(
                                tx,
                                "down",
                                "history_differs",
                                &format!(
                                    "HQ sent message {seq} as {event_id} ({}), but the station \
                                     holds message {seq} of that stream as another one: HQ's \
                                     database went back (restored from a backup?). HQ is asked \
                                     for a new stream",
                                    envelope.event.kind()
                                ),
                            )
                        })?;
                        Ok(InboxOutcome::Diverged { sequence: seq })
                    }
                    _ => Ok(InboxOutcome::Duplicate { sequence: seq }),
                };
            }
            Arrival::AfterGap { expected } => {
                return Ok(InboxOutcome::OutOfOrder {
                    sequence: seq,
                    expected,
                });
            }
        }
        let kind = envelope.event.kind().as_str();
        let known: bool = self
            .conn()
            .query_row(
                "SELECT 1 FROM inbox WHERE event_id = ?1",
                params![event_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if known {
            // Sent again in a new stream of HQ's: applied once.
            self.write(now, |tx| {
                record_inbox(tx, &stream.key, seq, &event_id, kind, "duplicate")
            })?;
            return Ok(InboxOutcome::Duplicate { sequence: seq });
        }
        let applied = self.write(now, |tx| {
            apply(tx, &envelope)?;
            record_inbox(tx, &stream.key, seq, &event_id, kind, "applied")
        });
        match applied {
            Ok(()) => Ok(InboxOutcome::Applied { sequence: seq }),
            Err(error) if error.is_storage_fault() => Err(error),
            Err(error) => {
                let (code, reason) = (error.code().to_owned(), error.to_string());
                tracing::warn!(origin = %envelope.origin, seq, %reason, "message from HQ dead-lettered");
                self.write(now, |tx| {
                    record_inbox(tx, &stream.key, seq, &event_id, kind, "dead_lettered")?;
                    store_dead_letter(
                        tx,
                        Some(&envelope.origin),
                        Some(seq),
                        &code,
                        &reason,
                        message,
                    )
                })?;
                Ok(InboxOutcome::DeadLettered {
                    sequence: Some(seq),
                    code,
                    reason,
                })
            }
        }
    }

    /// The stream of HQ's a message belongs to, taken up if it is new; `None` for one HQ has
    /// replaced since.
    fn follow(&mut self, stream: Option<StreamId>, now: Timestamp) -> Result<Option<Followed>> {
        let (current, current_from) = self.down_stream_key()?;
        let key = stream.map(|s| s.id.to_string()).unwrap_or_default();
        if current.as_deref() == Some(key.as_str()) {
            return Ok(Some(Followed {
                key,
                from: current_from,
            }));
        }
        let seen_before = self
            .conn()
            .query_row(
                "SELECT 1 FROM inbox WHERE origin = ?1 AND stream_id = ?2 LIMIT 1",
                params![HUB_ORIGIN, key],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if seen_before || (key.is_empty() && current.is_some()) {
            return Ok(None);
        }
        let from = stream.map_or(0, |s| s.from);
        self.write(now, |tx| {
            tx.sql.execute(
                "UPDATE station SET down_stream_id = ?1, down_stream_from = ?2",
                params![key, to_i64(from)],
            )?;
            if let Some(old) = &current {
                record_divergence(
                    tx,
                    "down",
                    "new_stream",
                    &format!(
                        "HQ started a new stream {key} after its message {from}, in place of \
                         {old}: the station follows it"
                    ),
                )?;
            }
            Ok(())
        })?;
        Ok(Some(Followed { key, from }))
    }

    /// Messages that could not be handled, newest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let mut stmt = self.conn().prepare(
            "SELECT origin, seq, reason_code, reason, received_at_ms, repeats FROM dead_letters ORDER BY dead_letter_id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (origin, seq, code, reason, at, repeats) = row?;
            Ok(DeadLetter {
                origin,
                sequence: seq.map(to_u64),
                code,
                reason,
                received_at: timestamp(at)?,
                repeats: to_u64(repeats),
            })
        })
        .collect()
    }

    fn dead_letter_undecodable(
        &mut self,
        message: &[u8],
        error: &DecodeError,
        now: Timestamp,
    ) -> Result<InboxOutcome> {
        let header = sync_protocol::peek_origin_sequence(message);
        let mut stream_key = None;
        if let Some((origin, seq)) = &header {
            let Some(stream) = self.follow(sync_protocol::peek_stream(message), now)? else {
                return Ok(InboxOutcome::Duplicate { sequence: *seq });
            };
            let position = position_in(self.conn(), origin, &stream.key, stream.from)?;
            match classify(position, *seq) {
                Arrival::Next => {}
                Arrival::Duplicate => return Ok(InboxOutcome::Duplicate { sequence: *seq }),
                Arrival::AfterGap { expected } => {
                    return Ok(InboxOutcome::OutOfOrder {
                        sequence: *seq,
                        expected,
                    });
                }
            }
            stream_key = Some(stream.key);
        }
        let (code, reason) = (error.code().to_owned(), error.to_string());
        tracing::warn!(%reason, "undecodable message from HQ dead-lettered");
        self.write(now, |tx| {
            if let (Some((_, seq)), Some(key)) = (&header, &stream_key) {
                record_inbox(tx, key, *seq, "", "undecodable", "dead_lettered")?;
            }
            store_dead_letter(
                tx,
                header.as_ref().map(|h| h.0.as_str()),
                header.as_ref().map(|h| h.1),
                &code,
                &reason,
                message,
            )
        })?;
        Ok(InboxOutcome::DeadLettered {
            sequence: header.map(|h| h.1),
            code,
            reason,
        })
    }
}

/// HQ's stream a message is taken in.
struct Followed {
    /// Its id as stored ('' for messages that name none).
    key: String,
    /// The sequence number it starts after.
    from: u64,
}

/// The last message of `origin`'s stream `key` handled, or where the stream starts.
fn position_in(conn: &rusqlite::Connection, origin: &str, key: &str, from: u64) -> Result<u64> {
    let seq: Option<i64> = conn.query_row(
        "SELECT max(seq) FROM inbox WHERE origin = ?1 AND stream_id = ?2",
        params![origin, key],
        |r| r.get(0),
    )?;
    Ok(seq.map_or(from, to_u64).max(from))
}

fn record_divergence(tx: &Tx<'_>, direction: &str, kind: &str, detail: &str) -> Result<()> {
    tracing::warn!(direction, kind, detail, "stream divergence");
    tx.sql.execute(
        "INSERT INTO divergences (direction, kind, detail, detected_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![direction, kind, detail, tx.now_ms()],
    )?;
    Ok(())
}

fn apply(tx: &Tx<'_>, envelope: &Envelope) -> Result<()> {
    let refuse = |problem: String| {
        Err(StationError::InvalidInput {
            field: "message",
            problem,
        })
    };
    let kind = envelope.event.kind();
    if kind.direction() != Direction::HubToStation {
        return refuse(format!(
            "`{kind}` is an event stations send, not one they receive"
        ));
    }
    match &envelope.event {
        Event::PriceChanged(change) => {
            let Some(items) = price_part(tx, change)? else {
                // More parts of this version follow.
                return Ok(());
            };
            let items = items
                .iter()
                .map(|item| {
                    Ok(PriceItem {
                        product: item.product_id.parse()?,
                        name: item.name.clone(),
                        unit: match item.unit {
                            ProductUnit::Litre => Unit::Litre,
                            ProductUnit::Piece => Unit::Piece,
                        },
                        unit_price: UnitPrice(item.unit_price_won),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            receive_price_version(
                tx,
                &PriceVersion {
                    version: change.version,
                    effective_at: change.effective_at,
                    items,
                },
            )?;
            apply_due_price_version(tx)?;
            Ok(())
        }
        Event::OrderRestored(order) => crate::orders::restore_order(tx, order),
        Event::ShipmentDispatched(shipment) => record_expected_delivery(
            tx,
            &ExpectedDelivery {
                shipment: ShipmentId::from_uuid(shipment.shipment_id),
                order: OrderId::from_uuid(shipment.order_id),
                product: shipment.product_id.parse()?,
                volume: Millilitres(shipment.volume_ml),
                truck: shipment.truck.clone(),
                expected_at: shipment.expected_at,
            },
        ),
        Event::OrderRejected(rejection) => {
            let reason = crate::error::ensure_text("reason", &rejection.reason, 200)?;
            record_order_rejection(tx, OrderId::from_uuid(rejection.order_id), &reason)
        }
        other => refuse(format!("`{}` is not handled by stations", other.kind())),
    }
}

/// Takes one part of a price version. On its last part, the version's full list: the parts put
/// together and, for a version sent as a change, laid over the base version's prices.
fn price_part(
    tx: &Tx<'_>,
    change: &sync_protocol::PriceChanged,
) -> Result<Option<Vec<sync_protocol::PriceItem>>> {
    let refuse = |problem: String| StationError::InvalidInput {
        field: "price version",
        problem,
    };
    let sync_protocol::Part { part, parts } = change.part;
    if part == 0 || part > parts {
        return Err(refuse(format!("part {part} of {parts} does not exist")));
    }
    let version = to_i64(change.version);
    let received: i64 = tx.sql.query_row(
        "SELECT count(*) FROM price_parts WHERE version = ?1",
        params![version],
        |r| r.get(0),
    )?;
    if part == 1 {
        // A version starts over from its first part; parts of any other version are stale.
        tx.sql.execute("DELETE FROM price_parts", [])?;
    } else if received != i64::from(part) - 1 {
        return Err(refuse(format!(
            "part {part} of version {} came after {received} of its parts",
            change.version
        )));
    }
    if part < parts {
        let items = serde_json::to_string(&change.items)
            .map_err(|e| StationError::Storage(format!("keeping a price part: {e}")))?;
        tx.sql.execute(
            "INSERT INTO price_parts (version, part, parts, base_version, effective_at_ms, items) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![version, part, parts, change.base_version.map(to_i64), ms(change.effective_at), items],
        )?;
        return Ok(None);
    }
    let mut items: Vec<sync_protocol::PriceItem> = Vec::new();
    {
        let mut stmt = tx
            .sql
            .prepare("SELECT items FROM price_parts WHERE version = ?1 ORDER BY part")?;
        for stored in stmt.query_map(params![version], |r| r.get::<_, String>(0))? {
            let stored: Vec<sync_protocol::PriceItem> = serde_json::from_str(&stored?)
                .map_err(|e| StationError::Storage(format!("reading a price part: {e}")))?;
            items.extend(stored);
        }
    }
    tx.sql.execute("DELETE FROM price_parts", [])?;
    items.extend(change.items.iter().cloned());
    let Some(base) = change.base_version else {
        return Ok(Some(items));
    };
    let mut stmt = tx.sql.prepare(
        "SELECT p.product_id, d.name, d.unit, p.unit_price_won FROM prices p JOIN products d USING (product_id)
         WHERE p.version = ?1 ORDER BY p.product_id",
    )?;
    let held: Vec<sync_protocol::PriceItem> = stmt
        .query_map(params![to_i64(base)], |r| {
            Ok(sync_protocol::PriceItem {
                product_id: r.get(0)?,
                name: r.get(1)?,
                unit: if r.get::<_, String>(2)? == "piece" {
                    ProductUnit::Piece
                } else {
                    ProductUnit::Litre
                },
                unit_price_won: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if held.is_empty() {
        return Err(refuse(format!(
            "version {} changes version {base}, which the station does not hold",
            change.version
        )));
    }
    let changed: std::collections::HashSet<&str> =
        items.iter().map(|i| i.product_id.as_str()).collect();
    let mut full: Vec<sync_protocol::PriceItem> = held
        .into_iter()
        .filter(|item| !changed.contains(item.product_id.as_str()))
        .collect();
    full.extend(items);
    Ok(Some(full))
}

fn record_inbox(
    tx: &Tx<'_>,
    stream: &str,
    seq: u64,
    event_id: &str,
    kind: &str,
    outcome: &str,
) -> Result<()> {
    tx.sql.execute(
        "INSERT INTO inbox (origin, stream_id, seq, event_id, kind, outcome, handled_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![HUB_ORIGIN, stream, to_i64(seq), event_id, kind, outcome, tx.now_ms()],
    )?;
    Ok(())
}

fn store_dead_letter(
    tx: &Tx<'_>,
    origin: Option<&str>,
    seq: Option<u64>,
    code: &str,
    reason: &str,
    message: &[u8],
) -> Result<()> {
    use sha2::Digest;
    let digest = format!("{:x}", sha2::Sha256::digest(message));
    tx.sql.execute(
        "INSERT INTO dead_letters (origin, seq, reason_code, reason, message, received_at_ms, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (digest) DO UPDATE SET repeats = repeats + 1, received_at_ms = ?6",
        params![origin, seq.map(to_i64), code, reason, message, ms(tx.now), digest],
    )?;
    Ok(())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
