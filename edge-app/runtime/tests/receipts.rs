//! Receipts through the whole runtime in-process: the printer simulator on a real pty, the
//! station's API over HTTP, and the bytes the printer received decoded back to text.
//!
//! Text a receipt cannot carry is refused when it comes in, naming the field and the character;
//! a receipt that still cannot print (text stored before that check) is set aside after a few
//! attempts, never blocks the receipts after it, shows in the status and in the manager's list,
//! and can be printed as a marked fallback. Reprints and receipts of canceled sales say so on
//! paper, with the reprint count of the sale, and each reprint is in the audit log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use station_core::{AuditAction, Station};
use support::{Api, Printer, code};

fn open_shift(api: &Api, token: &str) {
    let opened = api.post("/api/shift/open", token, json!({"opening_float_won": 0}));
    assert_eq!(opened.0, 200, "{}", opened.1);
}

/// Settles a sale and returns its id.
fn sell(api: &Api, token: &str, line: Value, payment: Value) -> String {
    let sale = api.post(
        "/api/sales",
        token,
        json!({"lines": [line], "payment": payment}),
    );
    assert_eq!(sale.0, 200, "{}", sale.1);
    sale.1["sale"].as_str().unwrap().to_owned()
}

fn diesel(volume_ml: i64) -> Value {
    json!({"product": "CD1001", "volume_ml": volume_ml})
}

fn cash(tendered_won: i64) -> Value {
    json!({"method": "cash", "tendered_won": tendered_won})
}

/// The marks printed under the header: the lines between `***`.
fn marks(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .filter(|line| line.starts_with("***"))
        .map(String::as_str)
        .collect()
}

#[test]
fn text_a_receipt_cannot_carry_is_refused_naming_the_field_and_the_character() {
    let api = Api::start();
    let cashier = api.login("kim", "1234");
    let manager = api.login("park", "9999");
    open_shift(&api, &cashier);

    let refused = |reply: (u16, Value), field: &str, character: &str| {
        let message = reply.1["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert_eq!(
            (reply.0, code(&reply)),
            (422, "unprintable_text"),
            "{}",
            reply.1
        );
        assert!(message.contains(field), "names {field}: {message}");
        assert!(message.contains(character), "names {character}: {message}");
    };
    let card = |reference: &str| {
        api.post(
            "/api/sales",
            &cashier,
            json!({"lines": [diesel(10_000)],
                   "payment": {"method": "card", "reference": reference}}),
        )
    };
    // A tab inside a card reference, as a card terminal's paste leaves it.
    refused(card("APPROVAL\t7781"), "card reference", "U+0009");
    // Latin letters outside EUC-KR, and a Hangul syllable outside KS X 1001 (which the code page's
    // Windows extension has, but a Korean receipt printer does not).
    refused(card("Café-7781"), "card reference", "U+00E9");
    refused(card("똠-7781"), "card reference", "U+B620");
    let bell = api.post(
        "/api/accounts",
        &manager,
        json!({"name": "Hanil\u{7} Logistics", "credit_limit_won": 100_000}),
    );
    refused(bell, "account name", "U+0007");
    let user = api.post(
        "/api/users",
        &manager,
        json!({"user": "lee", "name": "Zoë", "role": "cashier", "pin": "2468"}),
    );
    refused(user, "user name", "U+00EB");

    let sale = sell(&api, &cashier, diesel(10_000), cash(20_000));
    let cancel = api.post(
        &format!("/api/sales/{sale}/cancel"),
        &cashier,
        json!({"reason": "wrong\npump", "manager": "park", "manager_pin": "9999"}),
    );
    refused(cancel, "reason", "U+000A");

    // Korean, and what a receipt prints anyway, still go in.
    let korean = card("승인-7781 ①");
    assert_eq!(korean.0, 200, "{}", korean.1);
    let account = api.post(
        "/api/accounts",
        &manager,
        json!({"name": "한빛물류", "credit_limit_won": 100_000}),
    );
    assert_eq!(account.0, 200, "{}", account.1);
}

#[test]
fn a_receipt_that_cannot_print_is_set_aside_and_the_receipts_after_it_print() {
    let mut printer = Printer::start();
    let api = Api::with_printer(&printer);
    let cashier = api.login("kim", "1234");
    let manager = api.login("park", "9999");
    open_shift(&api, &cashier);

    // A product name stored before names were checked: outside the printer's code page.
    rusqlite::Connection::open(&api.db)
        .unwrap()
        .execute(
            "UPDATE products SET name = 'Café au lait' WHERE product_id = 'SN2001'",
            [],
        )
        .unwrap();
    let unprintable = sell(
        &api,
        &cashier,
        json!({"product": "SN2001", "quantity": 1}),
        cash(1_000),
    );
    let next = sell(&api, &cashier, diesel(40_000), cash(70_000));

    // The receipt after it prints; the bad one is set aside, visibly.
    let (lines, qr) = printer.next_receipt();
    assert_eq!(qr, next, "{lines:?}");
    let set_aside = api.wait_for("/api/receipts/set-aside", &manager, |list| {
        list.as_array().is_some_and(|list| list.len() == 1)
    });
    let job = &set_aside[0];
    assert_eq!(job["sale"], unprintable.as_str());
    assert_eq!(job["reason"], "sale");
    let why = job["last_error"].as_str().unwrap();
    assert!(
        why.contains("product name") && why.contains("U+00E9"),
        "{why}"
    );
    assert!(job["set_aside_at"].is_string(), "{job}");
    let status = api.wait_for("/api/status", &manager, |s| s["waiting_receipts"] == 0);
    assert_eq!(status["set_aside_receipts"], 1, "{status}");
    assert_eq!(status["printer"]["state"], "ready", "{status}");
    let refused = api.get("/api/receipts/set-aside", &cashier);
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));

    // Later receipts keep printing.
    let later = sell(&api, &cashier, diesel(10_000), cash(20_000));
    assert_eq!(printer.next_receipt().1, later);

    // The manager prints it with '?' for what the printer cannot print, marked as such.
    let job_id = job["job"].as_i64().unwrap();
    let refused = api.post(
        &format!("/api/receipts/{job_id}/fallback"),
        &cashier,
        json!({}),
    );
    assert_eq!((refused.0, code(&refused)), (403, "manager_required"));
    let fallback = api.post(
        &format!("/api/receipts/{job_id}/fallback"),
        &manager,
        json!({}),
    );
    assert_eq!(fallback.0, 200, "{}", fallback.1);
    let (lines, qr) = printer.next_receipt();
    assert_eq!(qr, unprintable);
    assert_eq!(
        marks(&lines),
        ["*** 대체 인쇄: ? = 인쇄 불가 문자 ***"],
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "Caf? au lait x1"), "{lines:?}");
    api.wait_for("/api/receipts/set-aside", &manager, |list| {
        list.as_array().is_some_and(Vec::is_empty)
    });
    let status = api.wait_for("/api/status", &manager, |s| s["waiting_receipts"] == 0);
    assert_eq!(status["set_aside_receipts"], 0, "{status}");
    let (_, audited) = api.get("/api/audit?action=receipt_fallback_printed", &manager);
    assert_eq!(audited[0]["actor"], "park", "{audited}");
    assert_eq!(audited[0]["detail"], format!("print job {job_id}"));

    // Only a receipt set aside has a fallback, and only a job that exists.
    let again = api.post(
        &format!("/api/receipts/{job_id}/fallback"),
        &manager,
        json!({}),
    );
    assert_eq!(
        (again.0, code(&again)),
        (422, "invalid_input"),
        "{}",
        again.1
    );
    let unknown = api.post("/api/receipts/99999/fallback", &manager, json!({}));
    assert_eq!((unknown.0, code(&unknown)), (404, "unknown_print_job"));

    // A printer out of paper is not the receipt's fault: its receipt waits, and is not set aside.
    printer.control("paper-out on");
    let waiting = sell(&api, &cashier, diesel(10_000), cash(20_000));
    let status = api.wait_for("/api/status", &manager, |s| {
        s["printer"]["state"] == "not_ready" && s["waiting_receipts"] == 1
    });
    assert_eq!(status["set_aside_receipts"], 0, "{status}");
    printer.control("paper-out off");
    assert_eq!(printer.next_receipt().1, waiting);
    let status = api.wait_for("/api/status", &manager, |s| s["waiting_receipts"] == 0);
    assert_eq!(status["set_aside_receipts"], 0, "{status}");
}

#[test]
fn reprints_and_receipts_of_canceled_sales_say_so_on_paper_counted_per_sale() {
    let printer = Printer::start();
    let api = Api::with_printer(&printer);
    let cashier = api.login("kim", "1234");
    open_shift(&api, &cashier);
    let reprint = |sale: &str| {
        let queued = api.post(&format!("/api/sales/{sale}/reprint"), &cashier, json!({}));
        assert_eq!(queued.0, 200, "{}", queued.1);
        let (lines, qr) = printer.next_receipt();
        assert_eq!(qr, sale);
        lines
    };

    let first = sell(&api, &cashier, diesel(40_000), cash(70_000));
    let (original, _) = printer.next_receipt();
    assert_eq!(marks(&original), Vec::<&str>::new(), "{original:?}");
    assert_eq!(original[0], "Gangnam");

    let lines = reprint(&first);
    assert_eq!(marks(&lines), ["*** 재발행 1 ***"], "{lines:?}");
    assert_eq!(lines[0], "Gangnam", "the mark comes under the header");
    assert_eq!(lines[1], "*** 재발행 1 ***");
    assert_eq!(&lines[2..], &original[1..], "otherwise the same receipt");
    assert_eq!(marks(&reprint(&first)), ["*** 재발행 2 ***"]);

    // Counted per sale.
    let second = sell(&api, &cashier, diesel(10_000), cash(20_000));
    printer.next_receipt();
    assert_eq!(marks(&reprint(&second)), ["*** 재발행 1 ***"]);

    // A canceled sale's receipt says so: it is no proof of a payment.
    // At the counter, with the manager's PIN.
    let canceled = api.post(
        &format!("/api/sales/{first}/cancel"),
        &cashier,
        json!({"reason": "wrong pump", "manager": "park", "manager_pin": "9999"}),
    );
    assert_eq!(canceled.0, 200, "{}", canceled.1);
    assert_eq!(
        marks(&reprint(&first)),
        ["*** 취소 ***", "*** 재발행 3 ***"]
    );

    // Every reprint is in the audit log, with its count, of the sale's receipt number.
    let station = Station::open(&api.db).unwrap();
    let receipt_no = |sale: &str| station.sale(sale.parse().unwrap()).unwrap().receipt_no;
    let audited: Vec<(Option<String>, String)> = station
        .audit_log(Some(AuditAction::ReceiptReprinted), None, 10)
        .unwrap()
        .into_iter()
        .rev()
        .map(|entry| (entry.subject, entry.detail))
        .collect();
    let entry = |sale: &str, detail: &str| (Some(receipt_no(sale)), detail.to_owned());
    assert_eq!(
        audited,
        [
            entry(&first, "reprint 1"),
            entry(&first, "reprint 2"),
            entry(&second, "reprint 1"),
            entry(&first, "reprint 3 of a canceled sale"),
        ]
    );
}
