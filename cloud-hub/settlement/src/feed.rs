//! The client of HQ's event feed: pages of events after a position, and the stations the
//! events come from, with a feed consumer's token.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

/// One event of a page, as the hub sends it.
#[derive(Debug, Deserialize)]
pub struct FeedEvent {
    pub position: u64,
    pub station: String,
    pub kind: String,
    /// The envelope (`sync_protocol::codec`), passed through as received.
    pub message: Box<RawValue>,
}

/// A page of the feed.
#[derive(Debug, Deserialize)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    pub next: u64,
    pub head: u64,
}

/// A station as the feed describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct FeedStation {
    pub station: String,
    pub name: String,
    pub operating_type: String,
}

/// What went wrong reading the feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedClientError {
    #[error("the hub could not be reached: {0}")]
    Unreachable(String),
    /// The hub refused, with its error code (e.g. `feed_truncated`, `unauthenticated`).
    #[error("the hub refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

/// A client of one hub's feed.
#[derive(Debug, Clone)]
pub struct FeedClient {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl FeedClient {
    /// A client of the hub at `base` (e.g. `http://127.0.0.1:8080`) with a consumer's token.
    pub fn new(base: &str, token: &str) -> Result<FeedClient, FeedClientError> {
        let http = reqwest::blocking::Client::builder()
            // Longer than the longest long-poll the hub allows.
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| FeedClientError::Unreachable(e.to_string()))?;
        Ok(FeedClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// Up to `limit` events after `after`; waits up to `wait_ms` when none is newer.
    pub fn page(&self, after: u64, limit: u32, wait_ms: u64) -> Result<FeedPage, FeedClientError> {
        let url = format!(
            "{}/api/feed?after={after}&limit={limit}&wait_ms={wait_ms}",
            self.base
        );
        let bytes = self.get(&url)?;
        serde_json::from_slice(&bytes).map_err(|e| FeedClientError::Refused {
            status: 200,
            code: "unreadable_page".to_owned(),
            message: e.to_string(),
        })
    }

    /// Every station the hub knows, with its operating type.
    pub fn stations(&self) -> Result<Vec<FeedStation>, FeedClientError> {
        let bytes = self.get(&format!("{}/api/feed/stations", self.base))?;
        serde_json::from_slice(&bytes).map_err(|e| FeedClientError::Refused {
            status: 200,
            code: "unreadable_stations".to_owned(),
            message: e.to_string(),
        })
    }

    fn get(&self, url: &str) -> Result<Vec<u8>, FeedClientError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| FeedClientError::Unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .map_err(|e| FeedClientError::Unreachable(e.to_string()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(FeedClientError::Refused {
            status: status.as_u16(),
            code: body["error"]["code"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned(),
            message: body["error"]["message"].as_str().unwrap_or("").to_owned(),
        })
    }
}
