//! HQ's event feed: every event the hub applied (from stations and its own), readable in the
//! order applied by consumers beside the hub, each keeping its own position.
//!
//! The feed is the `events` table read by `event_no`, its position. Nothing is written for a
//! read: a consumer keeps its position in its own database, in the transaction of what it does
//! with the events, so it is exactly-once on its side. The hub never prunes `events`, so the
//! feed is retained for as long as the table is (forever); a position below the oldest row
//! still held (rows removed by an operator) is refused with `feed_truncated` and the oldest
//! position, never answered with a silent gap. A position above the newest (the hub's database
//! went back to a backup) is refused with `feed_position_ahead` and the newest position.
//!
//! Reads go through connections of their own to the same file (WAL lets them read beside the
//! writer), so a page never holds the hub's lock; only a consumer's long-poll listens on the
//! hub's change notices. Pages are bounded by [`FEED_PAGE_MAX`] events and
//! [`FEED_PAGE_MAX_BYTES`] of messages.
//!
//! Consumers are named identities made by an HQ administrator, each with a bearer token (stored
//! as its BLAKE2 digest, shown once); their creation and revocation are in HQ's audit log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::Timestamp;
use rand::RngCore;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sync_protocol::{Envelope, Event, SCHEMA_VERSION};

use crate::auth::{HqUser, Permission, audit, digest};
use crate::error::{HubError, Result};
use crate::http::{ApiJson, ApiQuery, AppState, HqSession, blocking, lock};
use crate::hub::{Hub, from_ms, ms, new_v7, record_event, to_i64, to_u64};

/// The most events one page holds; a larger `limit` is refused.
pub const FEED_PAGE_MAX: u32 = 5_000;
/// The page size when none is asked for.
pub const FEED_PAGE_DEFAULT: u32 = 1_000;
/// A page stops after the event that takes its messages past this size (so a page of the
/// largest messages is about 4 MiB, and a page always holds at least one event).
pub const FEED_PAGE_MAX_BYTES: usize = 4 * 1024 * 1024;
/// The longest a read waits for a newer event; a larger `wait_ms` is refused.
pub const FEED_WAIT_MAX_MS: u64 = 30_000;

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Its place in the feed (`events.event_no`): gapless, in the order the hub applied.
    pub position: u64,
    pub event_id: String,
    pub origin: String,
    pub station_id: String,
    pub seq: u64,
    pub kind: String,
    pub occurred_at: Timestamp,
    pub applied_at: Timestamp,
    /// The envelope as the hub received or made it (JSON, `sync_protocol::codec`).
    pub message: String,
}

/// A page of the feed after a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// The position to ask after next: the last event's, or `after` when the page is empty.
    pub next: u64,
    /// The newest position the feed holds (0 when empty).
    pub head: u64,
    /// The oldest position the feed still holds (1 unless rows were removed).
    pub oldest: u64,
}

/// Why a read of the feed was refused.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(
        "the feed no longer holds the events after position {after}; the oldest it holds is {oldest}"
    )]
    Truncated { after: u64, oldest: u64 },
    #[error(
        "position {after} is ahead of the feed, whose newest position is {head} (the hub's database went back?)"
    )]
    Ahead { after: u64, head: u64 },
    #[error("not a feed consumer's token, or the consumer was revoked")]
    UnknownConsumer,
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<rusqlite::Error> for FeedError {
    fn from(error: rusqlite::Error) -> FeedError {
        FeedError::Hub(error.into())
    }
}

/// A feed consumer as an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeedConsumerView {
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    /// When it was revoked; its token no longer reads the feed.
    pub revoked_at: Option<String>,
}

/// The feed's part of the hub's OpenAPI document, merged into it by `http`.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(
        read_feed,
        stream_feed,
        feed_stations,
        create_consumer,
        list_consumers,
        revoke_consumer
    ),
    components(schemas(
        FeedStationView,
        NewFeedConsumer,
        NewFeedConsumerView,
        FeedConsumerView
    ))
)]
pub struct FeedApiDoc;

/// The feed's routes, merged into the hub's router by `http::router`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/feed", get(read_feed))
        .route("/api/feed/stream", get(stream_feed))
        .route("/api/feed/stations", get(feed_stations))
        .route(
            "/api/feed/consumers",
            get(list_consumers).post(create_consumer),
        )
        .route("/api/feed/consumers/{name}", delete(revoke_consumer))
}

impl Hub {
    /// Makes a feed consumer named `name` (administrators); returns its token, shown only now.
    pub fn create_feed_consumer(
        &mut self,
        by: &HqUser,
        name: &str,
        now: Timestamp,
    ) -> Result<String> {
        by.require(Permission::ManageFeedConsumers)?;
        let name = name.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(HubError::invalid(
                "consumer name",
                "1 to 64 letters, digits, `-` or `_`",
            ));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("feed_{token}");
        self.write(|tx| {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM feed_consumers WHERE name = ?1)",
                params![name],
                |r| r.get(0),
            )?;
            if exists {
                return Err(HubError::Conflict(format!(
                    "a feed consumer named {name} exists"
                )));
            }
            tx.execute(
                "INSERT INTO feed_consumers (name, token_hash, created_by, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![name, digest(&token), by.username, ms(now)],
            )?;
            audit(tx, now, "feed_consumer_created", &by.username, Some(name), "")
        })?;
        Ok(token)
    }

    /// Revokes a feed consumer's token (administrators).
    pub fn revoke_feed_consumer(&mut self, by: &HqUser, name: &str, now: Timestamp) -> Result<()> {
        by.require(Permission::ManageFeedConsumers)?;
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE feed_consumers SET revoked_at_ms = ?2 WHERE name = ?1 AND revoked_at_ms IS NULL",
                params![name, ms(now)],
            )?;
            if changed == 0 {
                return Err(HubError::NotFound(format!(
                    "no feed consumer {name} holds a token"
                )));
            }
            audit(tx, now, "feed_consumer_revoked", &by.username, Some(name), "")
        })
    }

    /// The hub's database file (the feed's readers open it beside the hub's connection).
    pub fn db_path(&self) -> Option<PathBuf> {
        self.conn
            .path()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }

    /// Every feed consumer, by name.
    pub fn feed_consumers(&self) -> Result<Vec<FeedConsumerView>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, created_by, created_at_ms, revoked_at_ms FROM feed_consumers ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FeedConsumerView {
                    name: r.get(0)?,
                    created_by: r.get(1)?,
                    created_at: from_ms(r.get(2)?).to_string(),
                    revoked_at: r
                        .get::<_, Option<i64>>(3)?
                        .map(|at| from_ms(at).to_string()),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// Records one of HQ's own events that concerns no single station (a price version for the
/// whole network) in the feed, in the caller's transaction: station `""`, origin `hub`, its
/// sequence the next of that pair. Stations are told it through their own outboxes; this is
/// only for the feed's consumers.
pub(crate) fn record_hub_event(tx: &Connection, event: Event, now: Timestamp) -> Result<()> {
    let seq: i64 = tx.query_row(
        "SELECT coalesce(max(seq), 0) + 1 FROM events WHERE station_id = '' AND origin = 'hub'",
        [],
        |r| r.get(0),
    )?;
    let envelope = Envelope {
        event_id: new_v7(now),
        origin: "hub".to_owned(),
        sequence: to_u64(seq),
        occurred_at: now,
        schema_version: SCHEMA_VERSION,
        stream: None,
        event,
    };
    let message = String::from_utf8(sync_protocol::encode(&envelope))
        .map_err(|e| HubError::Storage(format!("encoding an event: {e}")))?;
    record_event(tx, "", "", &envelope, &message, now)
}

/// Reads of the feed, on connections of their own to the hub's file.
#[derive(Debug)]
pub struct FeedReader {
    conn: Connection,
}

impl FeedReader {
    /// A reader of the hub database at `path` (read-only).
    pub fn open(path: &Path) -> Result<FeedReader> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(FeedReader { conn })
    }

    /// The consumer a token belongs to (its name), unless unknown or revoked.
    pub fn consumer(&self, token: &str) -> Result<String, FeedError> {
        self.conn
            .prepare_cached(
                "SELECT name FROM feed_consumers WHERE token_hash = ?1 AND revoked_at_ms IS NULL",
            )?
            .query_row(params![digest(token)], |r| r.get(0))
            .optional()?
            .ok_or(FeedError::UnknownConsumer)
    }

    /// The newest position (0 when the feed is empty).
    pub fn head(&self) -> Result<u64, FeedError> {
        let head: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(event_no) FROM events")?
            .query_row([], |r| r.get(0))?;
        Ok(head.map_or(0, to_u64))
    }

    /// Up to `limit` events after `after`, in order, within [`FEED_PAGE_MAX_BYTES`].
    pub fn page(&self, after: u64, limit: u32) -> Result<FeedPage, FeedError> {
        // One read transaction, so head, oldest and the rows are of one moment.
        self.conn.execute_batch("BEGIN")?;
        let page = self.page_in_snapshot(after, limit);
        self.conn.execute_batch("COMMIT")?;
        page
    }

    fn page_in_snapshot(&self, after: u64, limit: u32) -> Result<FeedPage, FeedError> {
        let (oldest, head): (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached("SELECT min(event_no), max(event_no) FROM events")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let head = head.map_or(0, to_u64);
        let oldest = oldest.map_or(1, to_u64);
        if after > head {
            return Err(FeedError::Ahead { after, head });
        }
        if after < head && after + 1 < oldest {
            return Err(FeedError::Truncated { after, oldest });
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT event_no, event_id, origin, station_id, seq, kind, occurred_at_ms, applied_at_ms, message
             FROM events WHERE event_no > ?1 ORDER BY event_no LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![to_i64(after), i64::from(limit.min(FEED_PAGE_MAX))])?;
        let mut events = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = rows.next()? {
            let event = FeedEvent {
                position: to_u64(row.get(0)?),
                event_id: row.get(1)?,
                origin: row.get(2)?,
                station_id: row.get(3)?,
                seq: to_u64(row.get(4)?),
                kind: row.get(5)?,
                occurred_at: from_ms(row.get(6)?),
                applied_at: from_ms(row.get(7)?),
                message: row.get(8)?,
            };
            bytes += event.message.len();
            events.push(event);
            if bytes >= FEED_PAGE_MAX_BYTES {
                break;
            }
        }
        let next = events.last().map_or(after, |e| e.position);
        Ok(FeedPage {
            events,
            next,
            head,
            oldest,
        })
    }
}

/// A small pool of readers per hub file, so a read does not open a connection each time.
fn with_reader<T>(
    path: &Path,
    read: impl FnOnce(&FeedReader) -> Result<T, FeedError>,
) -> Result<T, FeedError> {
    static POOL: OnceLock<Mutex<HashMap<PathBuf, Vec<FeedReader>>>> = OnceLock::new();
    let pool = POOL.get_or_init(Default::default);
    let taken = pool
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_mut(path)
        .and_then(Vec::pop);
    let reader = match taken {
        Some(reader) => reader,
        None => FeedReader::open(path)?,
    };
    let out = read(&reader);
    let mut pool = pool
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let readers = pool.entry(path.to_owned()).or_default();
    if readers.len() < 8 {
        readers.push(reader);
    }
    out
}

// ---- HTTP

impl IntoResponse for FeedError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, body) = match self {
            FeedError::Hub(inner) => return inner.into_response(),
            FeedError::Truncated { oldest, .. } => (
                StatusCode::GONE,
                serde_json::json!({"code": "feed_truncated", "message": message, "oldest": oldest}),
            ),
            FeedError::Ahead { head, .. } => (
                StatusCode::CONFLICT,
                serde_json::json!({"code": "feed_position_ahead", "message": message, "head": head}),
            ),
            FeedError::UnknownConsumer => (
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"code": "unauthenticated", "message": message}),
            ),
        };
        (status, Json(serde_json::json!({ "error": body }))).into_response()
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FeedQuery {
    /// The position read through (0, or absent, for the beginning).
    pub after: Option<u64>,
    /// At most this many events (1 to 5,000; 1,000 when absent).
    pub limit: Option<u32>,
    /// When nothing is newer than `after`, wait up to this long for an event (0 to 30,000 ms).
    pub wait_ms: Option<u64>,
}

/// A page as the JSON the API answers: `{"events": [{position, event_id, origin, station, seq,
/// kind, occurred_at, applied_at, message}], next, head, oldest}`. Written out directly, with each
/// stored message copied as it is: the hub stores only messages it decoded itself (or encoded),
/// so each is one JSON object; one that is not is sent as a JSON string rather than break the
/// page.
pub fn page_json(page: &FeedPage) -> String {
    use std::fmt::Write;
    let size: usize = page.events.iter().map(|e| e.message.len() + 320).sum();
    let mut out = String::with_capacity(size + 80);
    out.push_str("{\"events\":[");
    for (i, e) in page.events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_event_json(&mut out, e);
    }
    let _ = write!(
        out,
        "],\"next\":{},\"head\":{},\"oldest\":{}}}",
        page.next, page.head, page.oldest
    );
    out
}

/// One event as the feed's JSON (see [`page_json`]).
fn push_event_json(out: &mut String, e: &FeedEvent) {
    use std::fmt::Write;
    let text = |value: &str| serde_json::Value::from(value).to_string();
    let _ = write!(
        out,
        "{{\"position\":{},\"event_id\":{},\"origin\":{},\"station\":{},\"seq\":{},\"kind\":{},\"occurred_at\":{},\"applied_at\":{},\"message\":",
        e.position,
        text(&e.event_id),
        text(&e.origin),
        text(&e.station_id),
        e.seq,
        text(&e.kind),
        text(&e.occurred_at.to_string()),
        text(&e.applied_at.to_string()),
    );
    let message = e.message.trim();
    if message.starts_with('{') && message.ends_with('}') {
        out.push_str(message);
    } else {
        out.push_str(&text(message));
    }
    out.push('}');
}

fn db_path(state: &AppState) -> Result<PathBuf, FeedError> {
    lock(state)
        .db_path()
        .ok_or_else(|| FeedError::Hub(HubError::Storage("the hub has no database file".into())))
}

/// The consumer named by the request's bearer token.
async fn consumer_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<(PathBuf, String), FeedError> {
    let token = crate::http::bearer(headers)
        .ok_or(FeedError::UnknownConsumer)?
        .to_owned();
    let path = db_path(state)?;
    let for_read = path.clone();
    let name = blocking_feed(move || with_reader(&for_read, |r| r.consumer(&token))).await?;
    Ok((path, name))
}

async fn blocking_feed<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, FeedError> + Send + 'static,
) -> Result<T, FeedError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FeedError::Hub(HubError::Storage(e.to_string())))?
}

/// Events after a position, in the order the hub applied them (a feed consumer's token). With
/// `wait_ms`, an empty page is answered only after that long without a newer event.
#[utoipa::path(get, path = "/api/feed", params(FeedQuery), security(("bearer" = [])),
    responses((status = 200, description = "a page: {events, next, head, oldest}"),
        (status = 401, body = crate::http::ApiError), (status = 409, description = "feed_position_ahead"),
        (status = 410, description = "feed_truncated")))]
async fn read_feed(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Response, FeedError> {
    let (path, _consumer) = consumer_of(&state, &headers).await?;
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(FEED_PAGE_DEFAULT);
    if !(1..=FEED_PAGE_MAX).contains(&limit) {
        return Err(
            HubError::invalid("limit", format!("{limit} is not 1 to {FEED_PAGE_MAX}")).into(),
        );
    }
    let wait_ms = query.wait_ms.unwrap_or(0);
    if wait_ms > FEED_WAIT_MAX_MS {
        return Err(HubError::invalid(
            "wait_ms",
            format!("{wait_ms} is more than {FEED_WAIT_MAX_MS}"),
        )
        .into());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    // Listening before reading, so an event applied between the read and the wait wakes it.
    let mut changes = lock(&state).changes().listen();
    loop {
        let for_read = path.clone();
        let (empty, body) = blocking_feed(move || {
            with_reader(&for_read, |r| {
                let page = r.page(after, limit)?;
                Ok((page.events.is_empty(), page_json(&page)))
            })
        })
        .await?;
        if !empty || tokio::time::Instant::now() >= deadline {
            let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
            return Ok((json, body).into_response());
        }
        // Not every event tells a change notice (the hub's own do not all), so look again at
        // least every quarter second.
        let wake = (tokio::time::Instant::now() + Duration::from_millis(250)).min(deadline);
        let _ = tokio::time::timeout_at(wake, changes.recv()).await;
    }
}

/// A sender of the feed's events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedStationView {
    pub station: String,
    pub name: String,
    /// directly_managed, consignment or franchise
    pub operating_type: String,
    pub region: String,
}

/// The stations whose events the feed holds, with their operating type (a feed consumer's
/// token): what a consumer needs to tell its stations apart without reading HQ's tables.
#[utoipa::path(get, path = "/api/feed/stations", security(("bearer" = [])),
    responses((status = 200, body = [FeedStationView]), (status = 401, body = crate::http::ApiError)))]
async fn feed_stations(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Vec<FeedStationView>>, FeedError> {
    consumer_of(&state, &headers).await?;
    let stations = blocking(move || lock(&state).stations()).await?;
    Ok(Json(
        stations
            .into_iter()
            .map(|s| FeedStationView {
                station: s.station,
                name: s.name,
                operating_type: s.operating_type,
                region: s.region,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewFeedConsumer {
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewFeedConsumerView {
    pub name: String,
    /// Send as `Authorization: Bearer <token>` to the feed's routes. Shown only once.
    pub token: String,
}

/// Makes a feed consumer (administrators); its token is in the answer only.
#[utoipa::path(post, path = "/api/feed/consumers", request_body = NewFeedConsumer, security(("bearer" = [])),
    responses((status = 201, body = NewFeedConsumerView), (status = 401, body = crate::http::ApiError),
        (status = 403, body = crate::http::ApiError), (status = 409, body = crate::http::ApiError)))]
async fn create_consumer(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(request): ApiJson<NewFeedConsumer>,
) -> Result<(StatusCode, Json<NewFeedConsumerView>), HubError> {
    let user = session.may(Permission::ManageFeedConsumers)?.clone();
    let name = request.name.trim().to_owned();
    let for_hub = name.clone();
    let token = blocking(move || {
        let mut hub = lock(&state);
        let token = hub.create_feed_consumer(&user, &for_hub, Timestamp::now())?;
        hub.changes().tell(&[crate::live::Topic::Audit]);
        Ok(token)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewFeedConsumerView { name, token }),
    ))
}

/// The feed's consumers (administrators).
#[utoipa::path(get, path = "/api/feed/consumers", security(("bearer" = [])),
    responses((status = 200, body = [FeedConsumerView]), (status = 401, body = crate::http::ApiError),
        (status = 403, body = crate::http::ApiError)))]
async fn list_consumers(
    State(state): State<AppState>,
    session: HqSession,
) -> Result<Json<Vec<FeedConsumerView>>, HubError> {
    session.may(Permission::ManageFeedConsumers)?;
    Ok(Json(lock(&state).feed_consumers()?))
}

/// Revokes a consumer's token (administrators).
#[utoipa::path(delete, path = "/api/feed/consumers/{name}", params(("name" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::http::ApiError), (status = 403, body = crate::http::ApiError),
        (status = 404, body = crate::http::ApiError)))]
async fn revoke_consumer(
    State(state): State<AppState>,
    session: HqSession,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<StatusCode, HubError> {
    let user = session.may(Permission::ManageFeedConsumers)?.clone();
    let mut hub = lock(&state);
    hub.revoke_feed_consumer(&user, &name, Timestamp::now())?;
    hub.changes().tell(&[crate::live::Topic::Audit]);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FeedStreamQuery {
    /// The position read through (0, or absent, for the beginning).
    pub after: Option<u64>,
    /// The consumer's token, for clients that cannot send headers (an `EventSource`).
    pub token: Option<String>,
}

/// The feed as server-sent events after a position (a feed consumer's token, in the
/// `Authorization` header or as `?token=`): one `feed_event` per event, its `id` the position
/// and its data the event as in a page, then the new ones as the hub applies them. A position
/// the feed does not hold is refused before the stream starts, as `/api/feed` refuses it. A
/// consumer revoked meanwhile, or one that falls behind a removal, sees the stream end with an
/// `error` event naming the code.
#[utoipa::path(get, path = "/api/feed/stream", params(FeedStreamQuery), security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream"), (status = 401, body = crate::http::ApiError),
        (status = 409, description = "feed_position_ahead"), (status = 410, description = "feed_truncated")))]
async fn stream_feed(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiQuery(query): ApiQuery<FeedStreamQuery>,
) -> Result<Response, FeedError> {
    use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
    let token = match crate::http::bearer(&headers) {
        Some(token) => token.to_owned(),
        None => query.token.ok_or(FeedError::UnknownConsumer)?,
    };
    let path = db_path(&state)?;
    let for_check = path.clone();
    let check_token = token.clone();
    let after = query.after.unwrap_or(0);
    // Refused before the stream starts: an unknown consumer, a position not held.
    blocking_feed(move || {
        with_reader(&for_check, |r| {
            r.consumer(&check_token)?;
            r.page(after, 1).map(|_| ())
        })
    })
    .await?;
    let changes = lock(&state).changes().listen();
    struct Follow {
        path: PathBuf,
        token: String,
        after: u64,
        ready: std::collections::VecDeque<(u64, String)>,
        changes: tokio::sync::broadcast::Receiver<crate::live::Topics>,
        ended: bool,
    }
    let start = Follow {
        path,
        token,
        after,
        ready: std::collections::VecDeque::new(),
        changes,
        ended: false,
    };
    let stream = futures_util::stream::unfold(start, |mut follow| async move {
        if follow.ended {
            return None;
        }
        loop {
            if let Some((position, data)) = follow.ready.pop_front() {
                let event = SseEvent::default()
                    .event("feed_event")
                    .id(position.to_string())
                    .data(data);
                return Some((Ok::<_, std::convert::Infallible>(event), follow));
            }
            let (path, token, after) = (follow.path.clone(), follow.token.clone(), follow.after);
            let read = blocking_feed(move || {
                with_reader(&path, |r| {
                    r.consumer(&token)?;
                    r.page(after, FEED_PAGE_DEFAULT)
                })
            })
            .await;
            match read {
                Ok(page) if page.events.is_empty() => {
                    let wake = tokio::time::Instant::now() + Duration::from_millis(250);
                    let _ = tokio::time::timeout_at(wake, follow.changes.recv()).await;
                }
                Ok(page) => {
                    follow.after = page.next;
                    follow.ready.extend(page.events.iter().map(|e| {
                        let mut data = String::with_capacity(e.message.len() + 320);
                        push_event_json(&mut data, e);
                        (e.position, data)
                    }));
                }
                Err(error) => {
                    follow.ended = true;
                    let code = match &error {
                        FeedError::Truncated { .. } => "feed_truncated",
                        FeedError::Ahead { .. } => "feed_position_ahead",
                        FeedError::UnknownConsumer => "unauthenticated",
                        FeedError::Hub(inner) => inner.code(),
                    };
                    let message = match &error {
                        // Storage detail goes to the log only.
                        FeedError::Hub(inner) => {
                            tracing::error!(error = %inner, "the feed's stream failed");
                            "the hub could not read the feed".to_owned()
                        }
                        other => other.to_string(),
                    };
                    let data = serde_json::json!({"code": code, "message": message});
                    let event = SseEvent::default().event("error").data(data.to_string());
                    return Some((Ok(event), follow));
                }
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
