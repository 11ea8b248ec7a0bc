//! The outbox (events HQ must hear about) and the inbox (HQ's messages already handled).
//!
//! Outbox: written only by the operations themselves, in their own transaction
//! ([`crate::station::Tx::emit`]); read in sequence order by whoever sends it; an event is marked
//! acknowledged only when HQ confirms it committed it. Nothing here sends anything.
//!
//! Inbox: [`Station::apply_hub_message`] applies one message from HQ exactly once. Messages are
//! keyed by origin and sequence: an old sequence is a duplicate and ignored; a sequence past the
//! next expected one is refused as out of order (the sender re-sends from the gap); the next one
//! is applied in the same transaction that records it. A message that cannot be decoded or
//! applied is dead-lettered with its reason and its sequence is consumed, so it never blocks the
//! messages behind it.

use jiff::Timestamp;
use rusqlite::params;
use sync_protocol::{DecodeError, Direction, Envelope, Event, HUB_ORIGIN, ProductUnit};

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
}

/// A message that could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    pub code: String,
    pub reason: String,
    pub received_at: Timestamp,
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

    /// The last sequence handled from `origin` (0 for none).
    pub fn inbox_position(&self, origin: &str) -> Result<u64> {
        let seq: Option<i64> = self.conn().query_row(
            "SELECT max(seq) FROM inbox WHERE origin = ?1",
            params![origin],
            |r| r.get(0),
        )?;
        Ok(seq.map_or(0, to_u64))
    }

    /// Applies one message from HQ exactly once (see the module documentation).
    pub fn apply_hub_message(&mut self, message: &[u8], now: Timestamp) -> Result<InboxOutcome> {
        let envelope = match sync_protocol::decode(message) {
            Ok(envelope) => envelope,
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
        let expected = self.inbox_position(&envelope.origin)? + 1;
        if envelope.sequence < expected {
            return Ok(InboxOutcome::Duplicate {
                sequence: envelope.sequence,
            });
        }
        if envelope.sequence > expected {
            return Ok(InboxOutcome::OutOfOrder {
                sequence: envelope.sequence,
                expected,
            });
        }
        let applied = self.write(now, |tx| {
            apply(tx, &envelope)?;
            record_inbox(
                tx,
                &envelope.origin,
                envelope.sequence,
                &envelope.event_id.to_string(),
                envelope.event.kind().as_str(),
                "applied",
            )
        });
        match applied {
            Ok(()) => Ok(InboxOutcome::Applied {
                sequence: envelope.sequence,
            }),
            Err(error) if error.is_storage_fault() => Err(error),
            Err(error) => {
                let (code, reason) = (error.code().to_owned(), error.to_string());
                tracing::warn!(origin = %envelope.origin, seq = envelope.sequence, %reason, "message from HQ dead-lettered");
                self.write(now, |tx| {
                    record_inbox(
                        tx,
                        &envelope.origin,
                        envelope.sequence,
                        &envelope.event_id.to_string(),
                        envelope.event.kind().as_str(),
                        "dead_lettered",
                    )?;
                    store_dead_letter(
                        tx,
                        Some(&envelope.origin),
                        Some(envelope.sequence),
                        &code,
                        &reason,
                        message,
                    )
                })?;
                Ok(InboxOutcome::DeadLettered {
                    sequence: Some(envelope.sequence),
                    code,
                    reason,
                })
            }
        }
    }

    /// Messages that could not be handled, newest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let mut stmt = self.conn().prepare(
            "SELECT origin, seq, reason_code, reason, received_at_ms FROM dead_letters ORDER BY dead_letter_id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (origin, seq, code, reason, at) = row?;
            Ok(DeadLetter {
                origin,
                sequence: seq.map(to_u64),
                code,
                reason,
                received_at: timestamp(at)?,
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
        if let Some((origin, seq)) = &header {
            let expected = self.inbox_position(origin)? + 1;
            if *seq < expected {
                return Ok(InboxOutcome::Duplicate { sequence: *seq });
            }
            if *seq > expected {
                return Ok(InboxOutcome::OutOfOrder {
                    sequence: *seq,
                    expected,
                });
            }
        }
        let (code, reason) = (error.code().to_owned(), error.to_string());
        tracing::warn!(%reason, "undecodable message from HQ dead-lettered");
        self.write(now, |tx| {
            if let Some((origin, seq)) = &header {
                record_inbox(tx, origin, *seq, "", "undecodable", "dead_lettered")?;
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
            let items = change
                .items
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

fn record_inbox(
    tx: &Tx<'_>,
    origin: &str,
    seq: u64,
    event_id: &str,
    kind: &str,
    outcome: &str,
) -> Result<()> {
    tx.sql.execute(
        "INSERT INTO inbox (origin, seq, event_id, kind, outcome, handled_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![origin, to_i64(seq), event_id, kind, outcome, tx.now_ms()],
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
    tx.sql.execute(
        "INSERT INTO dead_letters (origin, seq, reason_code, reason, message, received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![origin, seq.map(to_i64), code, reason, message, ms(tx.now)],
    )?;
    Ok(())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
