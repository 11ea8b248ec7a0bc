//! HQ's event feed as a consumer beside the hub reads it (the real router over HTTP): consumer
//! identities made by administrators and audited, every applied event in order with its
//! position, bounded pages at their edges, the long-poll, and the answers for a position the
//! feed no longer holds or does not hold yet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calendar;
mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sync_protocol::Event;

use support::*;

const PASS: &str = "a long password";

/// An API with station ST0001 (consignment) and ST0002 (franchise), a tank at each, and a
/// feed consumer; returns the admin's and the consumer's tokens.
fn network() -> (Api, String, String) {
    let api = Api::start();
    let admin = api.login();
    api.put(
        "/api/products/GAS95",
        &admin,
        &json!({"name": "휘발유", "unit": "litre"}),
    )
    .ok();
    api.register_station("ST0001");
    api.post(
        "/api/stations",
        &admin,
        &json!({"station": "ST0002", "name": "수원", "operating_type": "franchise"}),
    )
    .ok();
    api.station_sends("ST0001", 1, tank_registered(1, "GAS95", 30_000_000));
    api.station_sends("ST0002", 1, tank_registered(1, "GAS95", 30_000_000));
    let reply = api.post(
        "/api/feed/consumers",
        &admin,
        &json!({"name": "settlement"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let token = reply.json()["token"].as_str().unwrap().to_owned();
    (api, admin, token)
}

fn page(api: &Api, token: &str, query: &str) -> Value {
    api.get(&format!("/api/feed?{query}"), token).ok()
}

fn sale(api: &Api, station: &str, seq: u64, id: u128) {
    api.station_sends(
        station,
        seq,
        Event::SaleSettled(fuel_sale(id, 2_500, 4_250)),
    );
}

#[test]
fn every_applied_event_is_read_in_order_from_the_beginning_with_its_position() {
    let (api, admin, token) = network();
    for seq in 2..=6 {
        sale(&api, "ST0001", seq, u128::from(seq));
    }
    sale(&api, "ST0002", 2, 100);
    // The hub's own event (a price version to each station) is in the feed too.
    api.post(
        "/api/prices",
        &admin,
        &json!({"prices": [{"product": "GAS95", "unit_price_won": 1700}]}),
    )
    .ok();

    let all = page(&api, &token, "after=0");
    let events = all["events"].as_array().unwrap();
    let positions: Vec<u64> = events
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, (1..=events.len() as u64).collect::<Vec<_>>());
    assert_eq!(all["next"], events.len() as u64);
    assert_eq!(all["head"], events.len() as u64);
    assert_eq!(all["oldest"], 1);
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "tank_registered");
    assert_eq!(kinds.iter().filter(|k| **k == "sale_settled").count(), 6);
    assert!(kinds.contains(&"price_changed"), "{kinds:?}");
    // Each message is the envelope itself, readable by the sync protocol's codec.
    let third = &events[2];
    assert_eq!(third["station"], "ST0001");
    assert_eq!(third["seq"], 2);
    let envelope = sync_protocol::decode(third["message"].to_string().as_bytes()).unwrap();
    assert_eq!(envelope.event_id.to_string(), third["event_id"]);
    assert!(matches!(envelope.event, Event::SaleSettled(_)));

    // Page by page, from any position, the same events.
    let mut after = 0;
    let mut read = Vec::new();
    loop {
        let p = page(&api, &token, &format!("after={after}&limit=2"));
        let batch = p["events"].as_array().unwrap();
        if batch.is_empty() {
            assert_eq!(p["next"], after);
            break;
        }
        assert!(batch.len() <= 2);
        read.extend(batch.iter().map(|e| e["position"].as_u64().unwrap()));
        after = p["next"].as_u64().unwrap();
    }
    assert_eq!(read, positions);
    // Consumers read the stations' operating types from the feed, not from HQ's tables.
    let stations = api.get("/api/feed/stations", &token).ok();
    assert_eq!(
        stations,
        json!([
            {"station": "ST0001", "name": "Station ST0001", "operating_type": "consignment", "region": ""},
            {"station": "ST0002", "name": "수원", "operating_type": "franchise", "region": ""},
        ])
    );
}

#[test]
fn only_a_consumer_token_reads_the_feed_and_only_administrators_make_one() {
    let (api, admin, token) = network();
    api.post(
        "/api/hq-users",
        &admin,
        &json!({"username": "analyst", "password": PASS, "role": "analyst"}),
    )
    .ok();
    let analyst = api
        .request(
            Method::POST,
            "/api/login",
            None,
            Some(&json!({"username": "analyst", "password": PASS})),
        )
        .ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        &api.post("/api/feed/consumers", &analyst, &json!({"name": "x"})),
        403,
        "forbidden",
    );
    assert_error(&api.get("/api/feed/consumers", &analyst), 403, "forbidden");
    assert_error(
        &api.post(
            "/api/feed/consumers",
            &admin,
            &json!({"name": "settlement"}),
        ),
        409,
        "conflict",
    );
    assert_error(
        &api.post("/api/feed/consumers", &admin, &json!({"name": "no spaces"})),
        400,
        "invalid_input",
    );
    // An HQ person's session is not a consumer identity; nor is nothing.
    assert_error(&api.get("/api/feed", &admin), 401, "unauthenticated");
    assert_error(
        &api.request(Method::GET, "/api/feed", None, None),
        401,
        "unauthenticated",
    );
    assert_error(
        &api.get("/api/feed/stations", &admin),
        401,
        "unauthenticated",
    );

    let consumers = api.get("/api/feed/consumers", &admin).ok();
    assert_eq!(consumers[0]["name"], "settlement");
    assert_eq!(consumers[0]["created_by"], "admin");
    assert_eq!(consumers[0]["revoked_at"], Value::Null);
    let audit = api
        .get("/api/audit?action=feed_consumer_created", &admin)
        .ok();
    assert_eq!(audit[0]["subject"], "settlement", "{audit}");

    page(&api, &token, "after=0");
    let revoked = api.request(
        Method::DELETE,
        "/api/feed/consumers/settlement",
        Some(&admin),
        None,
    );
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_error(&api.get("/api/feed", &token), 401, "unauthenticated");
    let audit = api
        .get("/api/audit?action=feed_consumer_revoked", &admin)
        .ok();
    assert_eq!(audit[0]["subject"], "settlement", "{audit}");
}

#[test]
fn pages_are_bounded_and_the_bounds_are_refused_past_their_edge() {
    let (api, _admin, token) = network();
    assert_eq!(
        page(&api, &token, "after=0&limit=5000")["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        page(&api, &token, "after=0&limit=1")["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for query in [
        "limit=5001",
        "limit=0",
        "wait_ms=30001",
        "after=-1",
        "after=x",
    ] {
        assert_error(
            &api.get(&format!("/api/feed?{query}"), &token),
            400,
            "invalid_input",
        );
    }
    // The longest wait is allowed (and answered at once when events are newer).
    page(&api, &token, "after=0&wait_ms=30000");
}

#[test]
fn a_read_with_nothing_newer_waits_for_the_next_event_or_its_time() {
    let (api, _admin, token) = network();
    let head = page(&api, &token, "after=0")["head"].as_u64().unwrap();

    let started = Instant::now();
    let empty = page(&api, &token, &format!("after={head}&wait_ms=300"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(empty["events"], json!([]));
    assert_eq!(empty["next"], head);

    // A long-poll under way is answered with the event applied while it waits.
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| page(&api, &token, &format!("after={head}&wait_ms=30000")));
        sale(&api, "ST0001", 2, 1);
        let answered = waiting.join().unwrap();
        assert_eq!(answered["events"][0]["position"], head + 1);
        assert_eq!(answered["events"][0]["kind"], "sale_settled");
    });
}

#[test]
fn a_position_the_feed_no_longer_holds_or_does_not_hold_yet_is_refused_by_name() {
    let (api, _admin, token) = network();
    for seq in 2..=5 {
        sale(&api, "ST0001", seq, u128::from(seq));
    }
    let head = page(&api, &token, "after=0")["head"].as_u64().unwrap();
    assert_eq!(head, 6);

    // Ahead of the feed: the hub's database went back to a backup. 409 with the head.
    let ahead = api.get(&format!("/api/feed?after={}", head + 1), &token);
    assert_eq!(ahead.status, 409, "{}", ahead.body);
    assert_eq!(ahead.json()["error"]["code"], "feed_position_ahead");
    assert_eq!(ahead.json()["error"]["head"], head);

    // The hub never prunes the feed (its events are append-only, by trigger). Should an
    // operator remove old rows anyway, a consumer from before them is told, never given a gap.
    let db = api.hub().db_path().unwrap();
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_are_append_only_d; DELETE FROM events WHERE event_no <= 3;",
    )
    .unwrap();
    let truncated = api.get("/api/feed?after=0", &token);
    assert_eq!(truncated.status, 410, "{}", truncated.body);
    assert_eq!(truncated.json()["error"]["code"], "feed_truncated");
    assert_eq!(truncated.json()["error"]["oldest"], 4);
    let truncated = api.get("/api/feed?after=2", &token);
    assert_eq!(truncated.status, 410, "{}", truncated.body);
    // From just before the oldest it holds, the feed goes on.
    let rest = page(&api, &token, "after=3");
    assert_eq!(rest["oldest"], 4);
    assert_eq!(rest["events"][0]["position"], 4);
    assert_eq!(rest["events"].as_array().unwrap().len(), 3);
}

#[test]
fn a_stored_message_that_is_not_one_json_object_goes_as_a_string_and_the_page_stays_json() {
    use cloud_hub::feed::{FeedEvent, FeedPage, page_json};
    let event = |position: u64, message: &str| FeedEvent {
        position,
        event_id: format!("id-{position}"),
        origin: "ST0001".to_owned(),
        station_id: "ST0001".to_owned(),
        seq: position,
        kind: "sale_settled".to_owned(),
        occurred_at: jiff::Timestamp::UNIX_EPOCH,
        applied_at: jiff::Timestamp::UNIX_EPOCH,
        message: message.to_owned(),
    };
    let page = FeedPage {
        events: vec![event(1, r#"{"a": "\"quoted\""}"#), event(2, "not \"json")],
        next: 2,
        head: 2,
        oldest: 1,
    };
    let json: Value = serde_json::from_str(&page_json(&page)).unwrap();
    assert_eq!(json["events"][0]["message"], json!({"a": "\"quoted\""}));
    assert_eq!(json["events"][1]["message"], "not \"json");
    assert_eq!(
        (json["next"].as_u64(), json["oldest"].as_u64()),
        (Some(2), Some(1))
    );
}

#[test]
fn the_stream_sends_each_event_after_a_position_and_then_the_new_ones() {
    use std::io::{BufRead, BufReader};
    let (api, _admin, token) = network();
    assert_error(
        &api.request(Method::GET, "/api/feed/stream?after=0", None, None),
        401,
        "unauthenticated",
    );
    let ahead = api.get("/api/feed/stream?after=99", &token);
    assert_eq!(ahead.status, 409, "{}", ahead.body);

    let response = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
        .get(format!(
            "{}/api/feed/stream?after=1&token={token}",
            api.base
        ))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut lines = BufReader::new(response).lines();
    let mut next_event = || {
        let (mut id, mut kind) = (None, None);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(value) = line.strip_prefix("id: ") {
                id = Some(value.parse::<u64>().unwrap());
            } else if line.strip_prefix("event: ") == Some("feed_event") {
                kind = Some(());
            } else if let Some(data) = line.strip_prefix("data: ") {
                let data: Value = serde_json::from_str(data).unwrap();
                assert_eq!(Some(data["position"].as_u64().unwrap()), id);
                assert!(kind.is_some());
                return data;
            }
        }
        panic!("the stream ended");
    };
    let second = next_event();
    assert_eq!(second["position"], 2);
    assert_eq!(second["kind"], "tank_registered");
    sale(&api, "ST0001", 2, 1);
    let third = next_event();
    assert_eq!(third["position"], 3);
    assert_eq!(third["kind"], "sale_settled");
    assert_eq!(third["message"]["payload"]["receipt_no"], "R-1", "{third}");
}
