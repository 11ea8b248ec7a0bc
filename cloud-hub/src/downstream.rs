//! HQ's stream towards each station: what goes into it, and its identity.
//!
//! - Every message is made within [`sync_protocol::MAX_MESSAGE_BYTES`]: a price version is sent
//!   as what changed since the version this station was sent before (a full list the first
//!   time, or after the station lost its stream), in parts of at most
//!   [`sync_protocol::PRICE_ITEMS_PER_PART`] items.
//! - The stream has an id, made with the station's first message; each message names it. When
//!   the station shows it lost the stream (re-installed with an empty database) HQ starts a new
//!   stream with what that station needs to work again: the price list in force and any
//!   scheduled one, its open orders and the deliveries it expects. When the station holds more
//!   of the stream than HQ (HQ's database restored from a backup) or another event where HQ has
//!   one, HQ starts a new stream after what it holds, and sends what it has after that again.
//!   Each is recorded as a divergence.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sync_protocol::{
    Envelope, Event, HUB_ORIGIN, OrderRestored, PriceChanged, PriceItem, SCHEMA_VERSION, StreamId,
};
use uuid::Uuid;

use crate::error::{HubError, Result};
use crate::hub::{from_ms, ms, new_v7, record_divergence, record_event, to_i64, to_u64};
use crate::projections;

/// HQ's stream towards one station, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownStream {
    pub id: Uuid,
    pub from: u64,
    pub last_seq: u64,
    pub acked_through: u64,
}

/// The station's stream, made (with nothing in it) if it has none yet.
pub(crate) fn down_stream(tx: &Connection, station: &str, now: Timestamp) -> Result<DownStream> {
    tx.prepare_cached(
        "INSERT INTO outbox_positions (station_id, last_seq, acked_through, stream_id, stream_from)
         VALUES (?1, 0, 0, ?2, 0) ON CONFLICT (station_id) DO NOTHING",
    )?
    .execute(params![station, new_v7(now).to_string()])?;
    recorded_down_stream(tx, station)?
        .ok_or_else(|| HubError::Storage(format!("the stream towards {station} was not made")))
}

/// The stream towards `station` as recorded, if it has one.
pub(crate) fn recorded_down_stream(conn: &Connection, station: &str) -> Result<Option<DownStream>> {
    let row: Option<(String, i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT stream_id, stream_from, last_seq, acked_through FROM outbox_positions WHERE station_id = ?1",
        )?
        .query_row(params![station], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(id, from, last, acked)| {
        Ok(DownStream {
            id: Uuid::parse_str(&id).map_err(|e| {
                HubError::Storage(format!("the stream id of {station} is not a UUID: {e}"))
            })?,
            from: to_u64(from),
            last_seq: to_u64(last),
            acked_through: to_u64(acked),
        })
    })
    .transpose()
}

/// Appends an HQ event to `station`'s outbox, in as many messages as it needs, each with the
/// next sequence number; for events the read models follow (shipments, rejections) it is
/// recorded and projected in the same transaction. Returns the last sequence number used.
pub(crate) fn emit_to_station(
    tx: &Connection,
    station: &str,
    event: Event,
    now: Timestamp,
) -> Result<u64> {
    emit(tx, station, event, now, true)
}

fn emit(
    tx: &Connection,
    station: &str,
    event: Event,
    now: Timestamp,
    project: bool,
) -> Result<u64> {
    let stream = down_stream(tx, station, now)?;
    let events = match event {
        Event::PriceChanged(change) => as_sent_to(tx, station, change)?
            .into_parts()
            .into_iter()
            .map(Event::PriceChanged)
            .collect(),
        other => vec![other],
    };
    let mut last = stream.last_seq;
    for event in events {
        last = append(tx, station, &stream, event, now, project)?;
    }
    Ok(last)
}

fn append(
    tx: &Connection,
    station: &str,
    stream: &DownStream,
    event: Event,
    now: Timestamp,
    project: bool,
) -> Result<u64> {
    let seq: i64 = tx
        .prepare_cached(
            "UPDATE outbox_positions SET last_seq = last_seq + 1 WHERE station_id = ?1 RETURNING last_seq",
        )?
        .query_row(params![station], |r| r.get(0))?;
    let envelope = Envelope {
        event_id: new_v7(now),
        origin: HUB_ORIGIN.to_owned(),
        sequence: to_u64(seq),
        occurred_at: now,
        schema_version: SCHEMA_VERSION,
        stream: Some(StreamId {
            id: stream.id,
            from: stream.from,
        }),
        event,
    };
    let bytes = sync_protocol::encode_checked(&envelope)
        .map_err(|e| HubError::invalid("message to the station", e.to_string()))?;
    let message = String::from_utf8(bytes)
        .map_err(|e| HubError::Storage(format!("encoding an event: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO outbox (station_id, seq, event_id, kind, message, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        station,
        seq,
        envelope.event_id.to_string(),
        envelope.event.kind().as_str(),
        message,
        ms(now)
    ])?;
    if project
        && matches!(
            envelope.event,
            Event::ShipmentDispatched(_) | Event::OrderRejected(_)
        )
    {
        record_event(tx, station, "", &envelope, &message, now)?;
        projections::apply(tx, station, &envelope.event, ms(now), ms(now))?;
    }
    Ok(to_u64(seq))
}

/// A full price list as this station is sent it: what changed since the version it was sent
/// before (new products, new prices, products renamed since), or the full list when it was sent
/// none. Records the version as sent.
fn as_sent_to(tx: &Connection, station: &str, full: PriceChanged) -> Result<PriceChanged> {
    let sent: Option<i64> = tx
        .prepare_cached("SELECT price_version_sent FROM outbox_positions WHERE station_id = ?1")?
        .query_row(params![station], |r| r.get(0))?;
    tx.prepare_cached("UPDATE outbox_positions SET price_version_sent = ?2 WHERE station_id = ?1")?
        .execute(params![station, to_i64(full.version)])?;
    let Some(base) = sent.map(to_u64).filter(|base| *base < full.version) else {
        return Ok(full);
    };
    let base_created: Option<i64> = tx
        .prepare_cached("SELECT created_at_ms FROM price_versions WHERE version = ?1")?
        .query_row(params![to_i64(base)], |r| r.get(0))
        .optional()?;
    let Some(base_created) = base_created else {
        return Ok(full);
    };
    let mut unchanged = tx.prepare_cached(
        "SELECT 1 FROM price_items b JOIN products p USING (product_id)
         WHERE b.version = ?1 AND b.product_id = ?2 AND b.unit_price_won = ?3 AND p.updated_at_ms <= ?4",
    )?;
    let mut items: Vec<PriceItem> = Vec::new();
    for item in full.items {
        let same = unchanged
            .query_row(
                params![
                    to_i64(base),
                    item.product_id,
                    item.unit_price_won,
                    base_created
                ],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !same {
            items.push(item);
        }
    }
    Ok(PriceChanged {
        base_version: Some(base),
        items,
        ..full
    })
}

/// Why HQ starts a new stream towards a station.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// The station lost the stream (re-installed, or its database replaced): it gets again
    /// what it needs to work.
    StationLostIt,
    /// The station holds more of the stream than HQ, or other events where HQ has some: HQ's
    /// database went back. The new stream starts after what HQ holds.
    HubWentBack,
}

/// Starts a new stream towards `station` after everything HQ holds for it. Messages not yet
/// acknowledged are sent again in the new stream. Returns the new stream.
pub(crate) fn restart(
    tx: &Connection,
    station: &str,
    why: Restart,
    station_says: &str,
    now: Timestamp,
) -> Result<DownStream> {
    let old = down_stream(tx, station, now)?;
    let from = match why {
        Restart::StationLostIt => old.last_seq,
        Restart::HubWentBack => old.acked_through.min(old.last_seq),
    };
    let id = new_v7(now);
    tx.prepare_cached(
        "UPDATE outbox_positions SET stream_id = ?2, stream_from = ?3, acked_through = ?3 WHERE station_id = ?1",
    )?
    .execute(params![station, id.to_string(), to_i64(from)])?;
    // What is still to be sent moves into the new stream.
    tx.prepare_cached(
        "UPDATE outbox SET message = json_set(message, '$.stream', json_object('id', ?2, 'from', ?3))
         WHERE station_id = ?1 AND seq > ?3",
    )?
    .execute(params![station, id.to_string(), to_i64(from)])?;
    let (kind, detail) = match why {
        Restart::StationLostIt => (
            "station_lost_stream",
            format!(
                "{station} does not know HQ's stream {} ({station_says}): a station re-installed \
                 or its database replaced. HQ starts stream {id} after its message {from} and \
                 sends the price list, open orders and expected deliveries again",
                old.id
            ),
        ),
        Restart::HubWentBack => (
            "hub_went_back",
            format!(
                "{station} holds more of HQ's stream {} than HQ ({station_says}): HQ's database \
                 went back (restored from a backup?). HQ starts stream {id} after its message {from}",
                old.id
            ),
        ),
    };
    record_divergence(
        tx,
        station,
        "down",
        kind,
        Some(&old.id.to_string()),
        Some(&id.to_string()),
        Some(from),
        &detail,
        now,
    )?;
    // The next price version goes in full: what the station holds of HQ's versions is no longer
    // what HQ remembers sending it.
    tx.prepare_cached(
        "UPDATE outbox_positions SET price_version_sent = NULL WHERE station_id = ?1",
    )?
    .execute(params![station])?;
    if why == Restart::StationLostIt {
        send_what_it_lost(tx, station, now)?;
    }
    down_stream(tx, station, now)
}

/// The price versions in force and scheduled, the open orders and the expected deliveries.
fn send_what_it_lost(tx: &Connection, station: &str, now: Timestamp) -> Result<()> {
    for version in crate::master::versions_to_send_on_registration(tx, now)? {
        let change = crate::master::price_changed(tx, version)?;
        emit(tx, station, Event::PriceChanged(change), now, false)?;
    }
    let orders: Vec<OrderRestored> = tx
        .prepare(
            "SELECT o.order_id, o.product_id, o.ordered_volume_ml, o.wanted_date, e.message, o.ordered_at_ms
             FROM rm_orders o LEFT JOIN events e ON e.kind = 'order_placed' AND e.station_id = o.station_id
                  AND json_extract(e.message, '$.payload.order_id') = o.order_id
             WHERE o.station_id = ?1 AND o.status IN ('ordered', 'shipped') ORDER BY o.ordered_at_ms",
        )?
        .query_map(params![station], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter_map(|(order, product, volume, wanted, placed, at)| {
            let ordered_by = placed
                .and_then(|m| sync_protocol::decode(m.as_bytes()).ok())
                .and_then(|e| match e.event {
                    Event::OrderPlaced(placed) => Some(placed.ordered_by),
                    _ => None,
                })
                .unwrap_or_default();
            Some(OrderRestored {
                order_id: Uuid::parse_str(&order).ok()?,
                product_id: product,
                volume_ml: volume,
                wanted_date: wanted.parse().ok()?,
                ordered_by,
                ordered_at: from_ms(at),
            })
        })
        .collect();
    for order in orders {
        emit(tx, station, Event::OrderRestored(order), now, false)?;
    }
    let shipments: Vec<sync_protocol::ShipmentDispatched> = tx
        .prepare(
            "SELECT shipment_id, order_id, product_id, volume_ml, truck, expected_at_ms FROM rm_shipments
             WHERE station_id = ?1 AND confirmed_at_ms IS NULL ORDER BY dispatched_at_ms, shipment_id",
        )?
        .query_map(params![station], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter_map(|(shipment, order, product, volume, truck, expected)| {
            Some(sync_protocol::ShipmentDispatched {
                shipment_id: Uuid::parse_str(&shipment).ok()?,
                order_id: Uuid::parse_str(&order).ok()?,
                product_id: product,
                volume_ml: volume,
                truck,
                expected_at: expected.map(from_ms),
            })
        })
        .collect();
    for shipment in shipments {
        emit(tx, station, Event::ShipmentDispatched(shipment), now, false)?;
    }
    Ok(())
}

/// What HQ does when a station comes online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Online {
    /// HQ's stream towards the station, from where it resumes (`acked_through`).
    pub stream: DownStream,
    /// An acknowledgement to send the station at once: HQ holds less of the station's stream
    /// than it acknowledged before (HQ's database went back), so the station sends again.
    pub up_ack: Option<sync_protocol::transport::Ack>,
}

/// What an acknowledgement from a station did to HQ's stream towards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownAck {
    /// About this stream: the position to feed the sender.
    Position(u64),
    /// The station holds other events where HQ has some: a new stream was started.
    Restarted(DownStream),
    /// About another (earlier) stream: nothing to do.
    Stale,
}

impl crate::Hub {
    /// A station came online and said how far it holds each stream. `None` for a station HQ
    /// does not know. Starts a new stream towards it when it lost HQ's stream or holds more of
    /// it than HQ; asks it to send again what HQ acknowledged but no longer holds.
    pub fn station_online(
        &mut self,
        station: &str,
        status: &sync_protocol::transport::StationStatus,
        now: Timestamp,
    ) -> Result<Option<Online>> {
        use sync_protocol::transport::{Ack, Verdict};
        self.station_status_changed(station, status.online, now)?;
        if !status.online || !self.station_exists(station)? {
            return Ok(None);
        }
        let hub_id = self.hub_id.clone();
        let devices = status
            .devices
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| HubError::Storage(e.to_string()))?;
        let online = self.write(|tx| {
            // What the dashboard shows of the station, as of this status.
            tx.prepare_cached(
                "UPDATE rm_stations SET up_last = coalesce(?2, up_last), devices = coalesce(?3, devices)
                 WHERE station_id = ?1",
            )?
            .execute(params![station, status.up_last.map(to_i64), devices])?;
            let mut stream = down_stream(tx, station, now)?;
            let through = status.down_through.unwrap_or(0);
            // A station of schema 1 names no streams: it is resumed as before.
            let speaks_streams = status.up_stream.is_some();
            // A station's own stream is made with its database: one HQ has not seen is a new
            // database. A status of a database HQ knows may be an old retained one, said before
            // the station took up HQ's stream, so it never counts as a station that lost it.
            let new_database = match status.up_stream {
                Some(up) => !crate::hub::stream_known(tx, station, up.id)?,
                None => false,
            };
            match status.down_stream {
                Some(id) if id == stream.id => {
                    if through > stream.last_seq {
                        let says = format!("it holds message {through}, HQ made {}", stream.last_seq);
                        stream = restart(tx, station, Restart::HubWentBack, &says, now)?;
                    } else if through > stream.acked_through {
                        stream.acked_through = acknowledge(tx, station, through)?;
                    }
                }
                Some(id) if !known_down_stream(tx, station, id)? => {
                    let says = format!("it follows stream {id}, which HQ never made");
                    stream = restart(tx, station, Restart::HubWentBack, &says, now)?;
                }
                // An earlier stream of HQ's: the station takes up the new one with its first
                // message.
                Some(_) => {}
                None if new_database && stream.acked_through > stream.from => {
                    let says = "it follows none".to_owned();
                    stream = restart(tx, station, Restart::StationLostIt, &says, now)?;
                }
                None if !speaks_streams && through > stream.acked_through => {
                    stream.acked_through = acknowledge(tx, station, through)?;
                }
                None => {}
            }
            if let Some(held) = status.price_version {
                tx.prepare_cached(
                    "INSERT INTO settings (key, value) VALUES ('price_version_floor', CAST(?1 AS TEXT))
                     ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), ?1) AS TEXT)",
                )?
                .execute(params![to_i64(held)])?;
            }
            if let Some(up) = status.up_stream {
                // Known from now on, so that the same status said again changes nothing.
                crate::hub::open_stream(tx, station, Some(up), now)?;
            }
            let mut up_ack = None;
            if let (Some(up), Some(acked)) = (status.up_stream, status.up_acked) {
                let key = up.id.to_string();
                let held: Option<i64> = tx
                    .prepare_cached(
                        "SELECT applied_through FROM inbox_streams WHERE station_id = ?1 AND stream_id = ?2",
                    )?
                    .query_row(params![station, key], |r| r.get(0))
                    .optional()?;
                let held = held.map_or(up.from, to_u64);
                if held < acked {
                    let detail = format!(
                        "{station} was told HQ holds its stream {} through event {acked}, but HQ \
                         holds it only through {held}: HQ's database went back (restored from a \
                         backup?). The station sends the events after {held} again",
                        up.id
                    );
                    record_divergence(
                        tx,
                        station,
                        "up",
                        "hub_went_back",
                        Some(&key),
                        None,
                        Some(held),
                        &detail,
                        now,
                    )?;
                    up_ack = Some(Ack {
                        through: held,
                        stream: Some(up.id),
                        hub: Some(hub_id.clone()),
                        verdict: Verdict::Rewind,
                    });
                }
            }
            Ok(Online { stream, up_ack })
        })?;
        self.count_divergences()?;
        Ok(Some(online))
    }

    /// A station's acknowledgement of HQ's stream towards it.
    pub fn station_acknowledged_down(
        &mut self,
        station: &str,
        ack: &sync_protocol::transport::Ack,
        now: Timestamp,
    ) -> Result<DownAck> {
        use sync_protocol::transport::Verdict;
        let outcome = self.write(|tx| {
            let Some(stream) = recorded_down_stream(tx, station)? else {
                return Ok(DownAck::Stale);
            };
            if ack.stream.is_some_and(|id| id != stream.id) {
                return Ok(DownAck::Stale);
            }
            if ack.verdict == Verdict::Diverged || ack.through > stream.last_seq {
                let says = format!(
                    "it holds other events than HQ's after message {}",
                    ack.through
                );
                return Ok(DownAck::Restarted(restart(
                    tx,
                    station,
                    Restart::HubWentBack,
                    &says,
                    now,
                )?));
            }
            Ok(DownAck::Position(ack.through))
        })?;
        if matches!(outcome, DownAck::Restarted(_)) {
            self.count_divergences()?;
        }
        Ok(outcome)
    }

    /// Sets the divergence metric. Divergences are never deleted, so the highest id is their
    /// count, read from the end of the primary key rather than by a scan: this runs after every
    /// batch of station messages.
    pub(crate) fn count_divergences(&self) -> Result<()> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(max(divergence_id), 0) FROM divergences")?
            .query_row([], |r| r.get(0))?;
        self.metrics.divergences.set(to_u64(n));
        Ok(())
    }
}

/// The station committed every message of HQ's stream up to `through` (never past what HQ
/// made, never back). Returns the recorded position (0 for a station without a stream).
pub(crate) fn acknowledge(tx: &Connection, station: &str, through: u64) -> Result<u64> {
    tx.prepare_cached(
        "UPDATE outbox_positions SET acked_through = max(acked_through, min(?2, last_seq)) WHERE station_id = ?1",
    )?
    .execute(params![station, to_i64(through)])?;
    let acked: Option<i64> = tx
        .prepare_cached("SELECT acked_through FROM outbox_positions WHERE station_id = ?1")?
        .query_row(params![station], |r| r.get(0))
        .optional()?;
    Ok(acked.map_or(0, to_u64))
}

/// Whether HQ ever made stream `id` towards `station` (its current one, or one it replaced).
fn known_down_stream(tx: &Connection, station: &str, id: Uuid) -> Result<bool> {
    let id = id.to_string();
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM outbox_positions WHERE station_id = ?1 AND stream_id = ?2
             UNION ALL SELECT 1 FROM divergences WHERE station_id = ?1 AND direction = 'down'
                 AND (old_stream = ?2 OR new_stream = ?2)
             LIMIT 1",
        )?
        .query_row(params![station, id], |_| Ok(()))
        .optional()?
        .is_some())
}
