//! Who gets in, through the runtime's real API over HTTP: PIN guessing slowed and locked out (at
//! log-in and for a manager's PIN at the counter), the same answers for unknown users, sessions
//! that end, only the station's own origin answered, HTTPS on the LAN, and money into an
//! account leaving a trace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::{Api, code};

fn login_reply(api: &Api, user: &str, pin: &str) -> (u16, Value) {
    api.call(
        Method::POST,
        "/api/session",
        None,
        json!({"user": user, "pin": pin}),
    )
}

/// Three wrong PINs cost nothing but the check; the fourth comes too soon and is refused
/// without checking, for a user who exists and one who does not alike.
#[test]
fn pin_guessing_at_log_in_is_slowed_the_same_for_unknown_users_and_a_manager_lifts_it() {
    let api = Api::start();
    for user in ["kim", "ghost"] {
        let codes: Vec<(u16, String)> = (0..4)
            .map(|_| {
                let reply = login_reply(&api, user, "0000");
                (reply.0, code(&reply).to_owned())
            })
            .collect();
        assert_eq!(
            codes,
            [
                (401, "bad_credentials".to_owned()),
                (401, "bad_credentials".to_owned()),
                (401, "bad_credentials".to_owned()),
                (429, "pin_attempts_too_soon".to_owned()),
            ],
            "{user}"
        );
    }
    let refused = login_reply(&api, "kim", "1234");
    assert_eq!(
        (refused.0, code(&refused)),
        (429, "pin_attempts_too_soon"),
        "even the right PIN waits"
    );

    let manager = api.login("park", "9999");
    let cashier_view = api.post("/api/users/kim/lockout/lift", &manager, Value::Null);
    assert_eq!(cashier_view.0, 200, "{}", cashier_view.1);
    api.login("kim", "1234");

    let (_, log) = api.get("/api/audit?action=login_failed", &manager);
    let failed: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["ghost", "ghost", "ghost", "kim", "kim", "kim"]);
    let (_, lifted) = api.get("/api/audit?action=lockout_lifted", &manager);
    assert_eq!(lifted[0]["subject"], "kim");
    assert_eq!(lifted[0]["actor"], "park");
}

/// A cashier's session cannot guess the manager's PIN through a cancellation any faster.
#[test]
fn the_managers_pin_at_the_counter_is_guarded_the_same_way() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let sale = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "SN2001", "quantity": 1}],
               "payment": {"method": "cash", "tendered_won": 1000}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    let path = format!("/api/sales/{}/cancel", sale.1["sale"].as_str().unwrap());
    let codes: Vec<String> = (0..4)
        .map(|_| {
            let reply = api.post(
                &path,
                &cashier,
                json!({"reason": "guess", "manager": "park", "manager_pin": "0000"}),
            );
            code(&reply).to_owned()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "bad_credentials",
            "bad_credentials",
            "bad_credentials",
            "pin_attempts_too_soon"
        ]
    );
    let (status, _) = api.get(
        &format!("/api/sales/{}", sale.1["sale"].as_str().unwrap()),
        &cashier,
    );
    assert_eq!(status, 200);
}

/// A session ends at its maximum age however it is used, when its user's PIN changes and when
/// the user is deactivated; a deactivated user cannot log in, and is kept.
#[test]
fn sessions_end_with_age_a_pin_change_and_deactivation() {
    let api = Api::start_with(|s| s.session_max_age_secs = 1);
    let token = api.login("kim", "1234");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = api.get("/api/session", &token);
        if status == 401 {
            assert_eq!(body["error"]["code"], "unauthenticated");
            break;
        }
        assert!(Instant::now() < deadline, "the session outlived its age");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(api);

    // The page refreshing itself (`x-background`) does not keep an unattended session alive.
    let api = Api::start_with(|s| s.session_idle_secs = 1);
    let token = api.login("kim", "1234");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = api
            .client
            .get(format!("{}/api/session", api.base))
            .bearer_auth(&token)
            .header("x-background", "1")
            .send()
            .unwrap()
            .status()
            .as_u16();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            Instant::now() < deadline,
            "background refreshes kept the session"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(api);

    let api = Api::start();
    let manager = api.login("park", "9999");
    let kim = api.login("kim", "1234");
    assert_eq!(api.get("/api/session", &kim).0, 200);
    let changed = api.post("/api/users/kim/pin", &manager, json!({"pin": "2468"}));
    assert_eq!(changed.0, 200, "{}", changed.1);
    assert_eq!(api.get("/api/session", &kim).0, 401, "ended by the new PIN");

    let kim = api.login("kim", "2468");
    let off = api.post("/api/users/kim/active", &manager, json!({"active": false}));
    assert_eq!(off.0, 200, "{}", off.1);
    let kept = off
        .1
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == "kim")
        .unwrap();
    assert_eq!(kept["active"], false);
    assert_eq!(
        api.get("/api/session", &kim).0,
        401,
        "ended by deactivation"
    );
    let refused = login_reply(&api, "kim", "2468");
    assert_eq!((refused.0, code(&refused)), (401, "bad_credentials"));
    let myself = api.post("/api/users/park/active", &manager, json!({"active": false}));
    assert_eq!((myself.0, code(&myself)), (422, "user_change_refused"));
    let back = api.post("/api/users/kim/active", &manager, json!({"active": true}));
    assert_eq!(back.0, 200);
    api.login("kim", "2468");
}

/// A page the PC opens cannot reach the API: not by DNS rebinding (its own name as `Host`),
/// not by a cross-site request (its `Origin`).
#[test]
fn the_api_answers_only_its_own_origin() {
    let api = Api::start();
    let port = api.base.rsplit(':').next().unwrap().to_owned();
    let send = |host: &str, origin: Option<&str>| {
        let mut request = api
            .client
            .get(format!("{}/api/openapi.json", api.base))
            .header("Host", host);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    };
    assert_eq!(send(&format!("127.0.0.1:{port}"), None).0, 200);
    assert_eq!(
        send(
            &format!("localhost:{port}"),
            Some(&format!("http://localhost:{port}"))
        )
        .0,
        200
    );
    for (host, origin) in [
        (format!("attacker.example:{port}"), None),
        (
            format!("127.0.0.1:{port}"),
            Some("http://attacker.example".to_owned()),
        ),
    ] {
        let refused = send(&host, origin.as_deref());
        assert_eq!(
            (refused.0, code(&refused)),
            (403, "foreign_origin"),
            "{host} {origin:?}"
        );
    }
    let login = api
        .client
        .post(format!("{}/api/session", api.base))
        .header("Origin", "http://attacker.example")
        .json(&json!({"user": "park", "pin": "9999"}))
        .send()
        .unwrap();
    assert_eq!(
        login.status().as_u16(),
        403,
        "no PIN check for a foreign page"
    );
}

/// On the LAN the API speaks HTTPS with the station's certificate, or does not start.
#[test]
fn the_lan_gets_https_with_the_stations_certificate_or_nothing() {
    support::use_ring_for_tls();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    support::create_station(&db);
    let mut settings = support::settings(&db);
    settings.api = "0.0.0.0:0".parse().unwrap();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let error = tokio
        .block_on(station_runtime::app::start(settings.clone()))
        .unwrap_err();
    assert!(error.to_string().contains("--allow-lan"), "{error}");
    settings.allow_lan = true;
    let error = tokio
        .block_on(station_runtime::app::start(settings.clone()))
        .unwrap_err();
    assert!(error.to_string().contains("--tls-cert"), "{error}");

    let tls = dir.path().join("tls");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/make-station-certificate.sh");
    let made = std::process::Command::new("bash")
        .arg(&script)
        .arg(&tls)
        .args(["localhost", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    settings.tls_cert = Some(tls.join("server.crt"));
    settings.tls_key = Some(tls.join("server.key"));
    let runtime = tokio
        .block_on(station_runtime::app::start(settings))
        .unwrap();
    assert!(runtime.url().starts_with("https://"), "{}", runtime.url());
    let port = runtime.api.port();

    support::use_ring_for_tls();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(tls.join("ca.crt")).unwrap()).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let health = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .unwrap();
    assert_eq!(health.text().unwrap(), "ok");
    let login = client
        .post(format!("https://localhost:{port}/api/session"))
        .json(&json!({"user": "park", "pin": "9999"}))
        .send()
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let plain = reqwest::blocking::get(format!("http://127.0.0.1:{port}/healthz"));
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "no clear HTTP on the LAN port"
    );
    tokio.block_on(runtime.shutdown()).unwrap();
}

/// Money into a credit account leaves a trace: a card payment carries its terminal reference,
/// a cash one goes into the receiver's open shift, and the manager reads both in the audit log.
#[test]
fn account_payments_need_a_reference_or_a_shift_and_are_audited() {
    let api = Api::start();
    let manager = api.login("park", "9999");
    let cashier = api.login("kim", "1234");
    let account = api.post(
        "/api/accounts",
        &manager,
        json!({"name": "Hanil", "credit_limit_won": 100_000}),
    );
    let account = account.1["account"].as_str().unwrap().to_owned();
    api.post("/api/shift/open", &cashier, json!({"opening_float_won": 0}));
    let sale = api.post(
        "/api/sales",
        &cashier,
        json!({"lines": [{"product": "CD1001", "volume_ml": 20_000}],
               "payment": {"method": "account", "account": account}}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    api.post("/api/shift/close", &cashier, json!({"counted_cash_won": 0}));

    let pay = |token: &str, body: Value| {
        api.post(&format!("/api/accounts/{account}/payments"), token, body)
    };
    let no_reference = pay(&cashier, json!({"amount_won": 10_000, "method": "card"}));
    assert_eq!(
        (no_reference.0, code(&no_reference)),
        (400, "invalid_input")
    );
    assert!(
        no_reference.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reference")
    );
    let no_shift = pay(&cashier, json!({"amount_won": 10_000, "method": "cash"}));
    assert_eq!((no_shift.0, code(&no_shift)), (422, "no_open_shift"));
    let (_, unchanged) = api.get(&format!("/api/accounts/{account}"), &cashier);
    assert_eq!(unchanged["balance_won"], 33_000);

    let paid = pay(
        &cashier,
        json!({"amount_won": 10_000, "method": "card", "reference": "APPROVAL-5521"}),
    );
    assert_eq!(paid.0, 200, "{}", paid.1);
    assert_eq!(paid.1["balance_won"], 23_000);

    let refused = api.get("/api/audit", &cashier);
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let (_, log) = api.get("/api/audit?action=account_payment", &manager);
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["actor"], "kim");
    assert_eq!(
        log[0]["detail"],
        "10000 won by card, reference APPROVAL-5521"
    );
}
