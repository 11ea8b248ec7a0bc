//! [`Station`]: one station's ledger in one SQLite file, and the transaction every change runs in.

use std::path::Path;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sync_protocol::{Envelope, Event, SCHEMA_VERSION};

use crate::auth::NewUser;
use crate::error::{Result, StationError, ensure_text};
use crate::ids::{StationId, new_v7};
use crate::sql::{date_text, ms, parse_date};
use crate::store;

/// One station's ledger. Every method that changes anything runs in one durable SQLite
/// transaction; when it returns an error, nothing was stored.
///
/// The core never reads a clock: every operation takes `now`, the time it happens.
#[derive(Debug)]
pub struct Station {
    conn: Connection,
    info: StationInfo,
    time_zone: TimeZone,
    /// The newest schema version of HQ's messages this station reads (below the built-in one
    /// only to try a staggered upgrade).
    pub(crate) read_schema: u16,
}

/// Who this station is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationInfo {
    pub station_id: StationId,
    pub name: String,
    /// IANA time zone name; decides the business day. Default `Asia/Seoul`.
    pub time_zone: String,
}

/// What `Station::create` needs: the station and its first manager.
#[derive(Debug)]
pub struct StationSetup {
    pub station_id: StationId,
    pub name: String,
    pub time_zone: String,
    pub first_manager: NewUser,
}

/// The default time zone of a station.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Seoul";

impl Station {
    /// Creates a station database at `path` (which must not hold one already).
    pub fn create(path: &Path, setup: StationSetup, now: Timestamp) -> Result<Station> {
        let name = ensure_text("station name", &setup.name, 100)?;
        let time_zone = parse_time_zone(&setup.time_zone)?;
        let pin_hash = crate::auth::hash_pin(&setup.first_manager.pin)?;
        let mut conn = store::create(path)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The station's stream towards HQ is made with its database: a database created again
        // under the same station id (a re-installed PC) starts a stream HQ has not seen.
        tx.execute(
            "INSERT INTO station (singleton, station_id, name, time_zone, created_at_ms, up_stream_id) VALUES (1, ?1, ?2, ?3, ?4, ?5)",
            params![
                setup.station_id.as_str(),
                name,
                setup.time_zone,
                ms(now),
                new_v7(now).to_string()
            ],
        )?;
        crate::auth::insert_user(&tx, &setup.first_manager, &pin_hash, now)?;
        tx.commit()?;
        let info = StationInfo {
            station_id: setup.station_id,
            name,
            time_zone: setup.time_zone,
        };
        tracing::info!(station = %info.station_id, path = %path.display(), "station database created");
        Ok(Station {
            conn,
            info,
            time_zone,
            read_schema: SCHEMA_VERSION,
        })
    }

    /// Opens an existing station database.
    pub fn open(path: &Path) -> Result<Station> {
        let conn = store::open(path)?;
        let (station_id, name, zone): (String, String, String) = conn
            .query_row("SELECT station_id, name, time_zone FROM station", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .ok_or_else(|| StationError::DatabaseCorrupt("the station record is missing".into()))?;
        let station_id = station_id
            .parse()
            .map_err(|e| StationError::DatabaseCorrupt(format!("the stored station id: {e}")))?;
        let time_zone = parse_time_zone(&zone)?;
        Ok(Station {
            conn,
            info: StationInfo {
                station_id,
                name,
                time_zone: zone,
            },
            time_zone,
            read_schema: SCHEMA_VERSION,
        })
    }

    /// Writes a consistent copy of the whole database to `target` while the station keeps
    /// selling (SQLite's `VACUUM INTO`: one read transaction, so the copy is of one moment).
    /// Refuses a `target` that exists, so no backup is overwritten by mistake.
    pub fn backup_to(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(StationError::InvalidInput {
                field: "backup file",
                problem: format!("{} exists; name a new file", target.display()),
            });
        }
        let target = target.to_str().ok_or_else(|| StationError::InvalidInput {
            field: "backup file",
            problem: format!("{} is not UTF-8", target.display()),
        })?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// Reads HQ's messages only up to schema version `newest`, holding newer ones as a station
    /// of that version would (for trying a staggered upgrade).
    pub fn read_schema_up_to(&mut self, newest: u16) {
        self.read_schema = newest.clamp(1, SCHEMA_VERSION);
    }

    pub fn info(&self) -> &StationInfo {
        &self.info
    }

    /// The station-local calendar date of an instant.
    pub fn local_date(&self, at: Timestamp) -> Date {
        self.time_zone.to_datetime(at).date()
    }

    /// Runs a full integrity check of the file (slow on a large file; for operators).
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let problems: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(problems.into_iter().filter(|p| p != "ok").collect())
    }

    /// Runs `change` in one IMMEDIATE transaction and commits it durably, or rolls it back.
    pub(crate) fn write<T>(
        &mut self,
        now: Timestamp,
        change: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let sql = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Times are stored to the millisecond; cut `now` to that here, so that what an operation
        // returns, what it stores and what it tells HQ carry the same instant.
        let now = Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
        let tx = Tx {
            sql,
            station: &self.info,
            time_zone: &self.time_zone,
            now,
        };
        let out = change(&tx)?;
        tx.sql.commit()?;
        Ok(out)
    }

    /// Read access for the query modules.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn parse_time_zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|_| StationError::InvalidInput {
        field: "time zone",
        problem: format!("`{name}` is not an IANA time zone name such as Asia/Seoul"),
    })
}

/// An open write transaction with what every change needs: the station, its time zone, `now`.
#[derive(Debug)]
pub(crate) struct Tx<'a> {
    pub(crate) sql: rusqlite::Transaction<'a>,
    pub(crate) station: &'a StationInfo,
    time_zone: &'a TimeZone,
    pub(crate) now: Timestamp,
}

impl Tx<'_> {
    pub(crate) fn now_ms(&self) -> i64 {
        ms(self.now)
    }

    /// The station-local date of `now`.
    pub(crate) fn local_date(&self) -> Date {
        self.time_zone.to_datetime(self.now).date()
    }

    /// Appends an event to the outbox under the next sequence number, in this transaction.
    /// Sequence numbers come from a counter in the same transaction, so they have no gaps
    /// and follow commit order.
    pub(crate) fn emit(&self, event: Event) -> Result<u64> {
        let (seq, stream_id, stream_from): (i64, String, i64) = self
            .sql
            .prepare_cached(
                "UPDATE station SET next_outbox_seq = next_outbox_seq + 1
                 RETURNING next_outbox_seq - 1, up_stream_id, up_stream_from",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let stream = sync_protocol::StreamId {
            id: stream_id.parse().map_err(|e| {
                StationError::DatabaseCorrupt(format!("the station's stream id: {e}"))
            })?,
            from: u64::try_from(stream_from).unwrap_or(0),
        };
        let envelope = Envelope {
            event_id: new_v7(self.now),
            origin: self.station.station_id.to_string(),
            sequence: u64::try_from(seq).expect("the sequence counter starts at 1"),
            occurred_at: self.now,
            schema_version: SCHEMA_VERSION,
            stream: Some(stream),
            event,
        };
        // Every event is bounded by the rules that make it; this is the last line of defence.
        let bytes =
            sync_protocol::encode_checked(&envelope).map_err(|e| StationError::InvalidInput {
                field: "event",
                problem: e.to_string(),
            })?;
        let message = String::from_utf8(bytes).expect("JSON is UTF-8");
        self.sql
            .prepare_cached("INSERT INTO outbox (seq, event_id, kind, occurred_at_ms, message) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![
                seq,
                envelope.event_id.to_string(),
                envelope.event.kind().as_str(),
                self.now_ms(),
                message
            ])?;
        Ok(envelope.sequence)
    }

    /// The open business day, opening the next one if none is open: the later of today's
    /// local date and the day after the last closed one.
    pub(crate) fn business_day(&self) -> Result<Date> {
        if let Some(day) = self.open_business_day()? {
            return Ok(day);
        }
        let last_closed: Option<String> =
            self.sql
                .query_row("SELECT max(business_day) FROM business_days", [], |r| {
                    r.get(0)
                })?;
        let mut day = self.local_date();
        if let Some(last) = last_closed {
            let next = parse_date(&last)?
                .checked_add(1.day())
                .map_err(|e| StationError::Storage(e.to_string()))?;
            day = day.max(next);
        }
        self.sql.execute(
            "INSERT INTO business_days (business_day, opened_at_ms) VALUES (?1, ?2)",
            params![date_text(day), self.now_ms()],
        )?;
        Ok(day)
    }

    pub(crate) fn open_business_day(&self) -> Result<Option<Date>> {
        let open: Option<String> = self
            .sql
            .prepare_cached("SELECT business_day FROM business_days WHERE closed_at_ms IS NULL")?
            .query_row([], |r| r.get(0))
            .optional()?;
        open.as_deref().map(parse_date).transpose()
    }
}
