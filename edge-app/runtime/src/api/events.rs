//! The push channel: server-sent events carrying the live state (pumps, devices, link to HQ),
//! once on connection and again on every change. A browser's `EventSource` cannot send headers,
//! so the session token may come as `?token=`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use tokio_stream::wrappers::WatchStream;

use super::{ApiError, ApiQuery, ApiState, bearer_token};

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

pub async fn events(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let token = query
        .token
        .as_deref()
        .or_else(|| bearer_token(&headers))
        .ok_or_else(ApiError::unauthenticated)?;
    state
        .actor_of(token, true)?
        .ok_or_else(ApiError::unauthenticated)?;
    let stream = WatchStream::new(state.live.subscribe()).map(|live| {
        let data = serde_json::to_string(&live).unwrap_or_else(|_| "{}".into());
        Ok(Event::default().event("live").data(data))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
