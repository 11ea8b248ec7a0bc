//! The HTTP API's test harness: the real router served on a free port over a fresh database,
//! with a first HQ user (an administrator), spoken to over HTTP. Station events, which only the
//! sync agent feeds in production, are fed to the shared hub directly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cloud_hub::http::{AppState, serve_on_loopback};
use cloud_hub::metrics::Metrics;
use cloud_hub::{Hub, NewStation, OperatingType, SharedHub};
use jiff::Timestamp;
use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use sync_protocol::{
    Envelope, Event, OrderPlaced, Payment, PriceSource, SaleLine, SaleSettled, TankRegistered,
};
use tempfile::TempDir;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::calendar::day;

pub const USER: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// The API served on 127.0.0.1 with its own database; the server lives as long as the test
/// process.
pub const SCRAPE_TOKEN: &str = "scrape-token-for-prometheus";

#[derive(Debug)]
pub struct Api {
    pub base: String,
    pub hub: SharedHub,
    pub client: Client,
    _dir: TempDir,
}

/// An HTTP answer: status, content type and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// Expects a success and returns its JSON body.
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
    }
}

impl Api {
    pub fn start() -> Api {
        Api::serving(None)
    }

    /// The API, and the dashboard's files from `dashboard` at `/`.
    pub fn serving(dashboard: Option<std::path::PathBuf>) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = Hub::open(&dir.path().join("hub.db"), Arc::new(Metrics::default())).unwrap();
        hub.add_hq_user(USER, PASSWORD, Timestamp::now()).unwrap();
        let hub = hub.shared();
        let state = AppState {
            hub: hub.clone(),
            wake: Arc::new(Notify::new()),
            metrics_token: Some(SCRAPE_TOKEN.to_owned()),
            dashboard,
        };
        let base = format!("http://{}", serve_on_loopback(state).unwrap());
        Api {
            base,
            hub,
            client: Client::new(),
            _dir: dir,
        }
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            body: response.text().unwrap(),
        }
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body))
    }

    pub fn put(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(body))
    }

    pub fn login(&self) -> String {
        let reply = self.request(
            Method::POST,
            "/api/login",
            None,
            Some(&json!({"username": USER, "password": PASSWORD})),
        );
        reply.ok()["token"].as_str().unwrap().to_owned()
    }

    pub fn hub(&self) -> std::sync::MutexGuard<'_, Hub> {
        self.hub.lock().unwrap()
    }

    pub fn register_station(&self, id: &str) {
        self.hub()
            .register_station(
                NewStation {
                    station: id.to_owned(),
                    name: format!("Station {id}"),
                    operating_type: OperatingType::Consignment,
                    region: String::new(),
                },
                Timestamp::now(),
            )
            .unwrap();
    }

    /// Feeds a station's event at `seq` to the hub, as the sync agent would.
    pub fn station_sends(&self, station: &str, seq: u64, event: Event) {
        let message = envelope(station, seq, event);
        let received = self
            .hub()
            .receive_station_message(station, &message, Timestamp::now())
            .unwrap();
        assert_eq!(received.ack_through, Some(seq), "{received:?}");
    }
}

/// Expects the API's error answer: the status, and `{"error":{"code","message"}}` and nothing else.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(
        reply.content_type.starts_with("application/json"),
        "{reply:?}"
    );
    let body = reply.json();
    let object = body.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), vec!["error"], "{body}");
    let error = body["error"].as_object().unwrap();
    assert_eq!(
        error.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["code", "message"]),
        "{body}"
    );
    assert_eq!(error["code"], code, "{body}");
    assert!(!error["message"].as_str().unwrap().is_empty(), "{body}");
}

pub static EVENT_IDS: AtomicU64 = AtomicU64::new(1);

pub fn envelope(origin: &str, seq: u64, event: Event) -> Vec<u8> {
    sync_protocol::encode(&Envelope {
        event_id: Uuid::from_u128(u128::from(EVENT_IDS.fetch_add(1, Ordering::Relaxed))),
        origin: origin.to_owned(),
        sequence: seq,
        occurred_at: Timestamp::now(),
        schema_version: sync_protocol::SCHEMA_VERSION,
        stream: None,
        event,
    })
}

pub fn order_placed(order: Uuid, product: &str, volume_ml: i64) -> Event {
    Event::OrderPlaced(OrderPlaced {
        order_id: order,
        product_id: product.to_owned(),
        volume_ml,
        wanted_date: day(2),
        ordered_by: "kim".to_owned(),
    })
}

pub fn tank_registered(tank: u16, product: &str, capacity_ml: i64) -> Event {
    Event::TankRegistered(TankRegistered {
        tank,
        product_id: product.to_owned(),
        capacity_ml,
    })
}

pub fn fuel_sale(sale_id: u128, volume_ml: i64, amount_won: i64) -> SaleSettled {
    SaleSettled {
        sale_id: Uuid::from_u128(sale_id),
        receipt_no: format!("R-{sale_id}"),
        business_day: day(-1),
        shift_id: Uuid::from_u128(7),
        cashier: "lee".to_owned(),
        lines: vec![SaleLine {
            line_no: 1,
            product_id: "GAS95".to_owned(),
            tank: Some(1),
            volume_ml: Some(volume_ml),
            quantity: None,
            unit_price_won: 1700,
            amount_won,
            price_source: PriceSource::PriceList,
            price_version: Some(1),
        }],
        total_won: amount_won,
        payment: Payment::Cash {
            tendered_won: amount_won,
            change_won: 0,
        },
    }
}
