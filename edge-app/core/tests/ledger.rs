//! The station ledger through its public API, on a real SQLite file: each business flow end to
//! end, the rules of who may do what, and what bad input gets.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use jiff::ToSpan;
use station_core::*;
use sync_protocol::{Envelope, Event, EventKind, HUB_ORIGIN, SCHEMA_VERSION};

/// The kinds of the books' events in the outbox, in order; the audit trail's own messages (see
/// `audit_sent`) are left out.
fn kinds(station: &Station) -> Vec<String> {
    station
        .outbox_events(0, 10_000)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|kind| kind != "audit_recorded")
        .collect()
}

fn book_stock(station: &Station, t: u16) -> Millilitres {
    station
        .tank_stock()
        .unwrap()
        .into_iter()
        .find(|s| s.tank == tank(t))
        .unwrap()
        .book_stock
}

fn summary(station: &Station, code: &str) -> SalesSummaryRow {
    station
        .sales_summary(None)
        .unwrap()
        .into_iter()
        .find(|r| r.product == code)
        .unwrap_or_default()
}

#[test]
fn order_is_shipped_then_delivered_and_only_confirmation_raises_book_stock() {
    let mut f = Fixture::new();
    let now = f.tick();
    let wanted = f.station.local_date(now).checked_add(2.days()).unwrap();
    let order = f
        .station
        .place_order(
            &f.approval,
            NewOrder {
                product: product(DIESEL),
                volume: litres(20_000),
                wanted_date: wanted,
            },
            now,
        )
        .unwrap();
    assert_eq!(f.station.order(order).unwrap().status, OrderStatus::Ordered);

    // HQ dispatches a truck with less than ordered.
    let shipment = ShipmentId::generate(now);
    let now = f.tick();
    f.station
        .record_expected_delivery(
            ExpectedDelivery {
                shipment,
                order,
                product: product(DIESEL),
                volume: litres(19_000),
                truck: "서울12가3456".into(),
                expected_at: None,
            },
            now,
        )
        .unwrap();
    let view = f.station.order(order).unwrap();
    assert_eq!(
        (view.status, view.shipped_volume),
        (OrderStatus::Shipped, litres(19_000))
    );
    let diesel = f
        .station
        .product_stock()
        .unwrap()
        .into_iter()
        .find(|p| p.product == product(DIESEL))
        .unwrap();
    assert_eq!(
        (diesel.book_stock, diesel.expected_incoming),
        (litres(0), litres(19_000)),
        "expected is not book stock"
    );
    assert_eq!(book_stock(&f.station, 1), litres(0));

    // The truck delivers 18,950.5 L into tank 1.
    let now = f.tick();
    f.station
        .confirm_delivery(&f.approval, shipment, tank(1), Millilitres(18_950_500), now)
        .unwrap();
    assert_eq!(book_stock(&f.station, 1), Millilitres(18_950_500));
    let diesel = f
        .station
        .product_stock()
        .unwrap()
        .into_iter()
        .find(|p| p.product == product(DIESEL))
        .unwrap();
    assert_eq!(
        (diesel.book_stock, diesel.expected_incoming),
        (Millilitres(18_950_500), litres(0))
    );
    let view = f.station.order(order).unwrap();
    assert_eq!(
        (view.status, view.received_volume),
        (OrderStatus::Delivered, Millilitres(18_950_500))
    );
    let delivery = &f.station.deliveries().unwrap()[0];
    assert_eq!(
        delivery.confirmation.as_ref().unwrap().received_volume,
        Millilitres(18_950_500)
    );

    let events = f.station.outbox_events(0, 100).unwrap();
    let confirmed = events
        .iter()
        .find(|e| e.kind == "delivery_confirmed")
        .unwrap();
    let Event::DeliveryConfirmed(payload) = sync_protocol::decode(confirmed.message.as_bytes())
        .unwrap()
        .event
    else {
        panic!("not a delivery confirmation")
    };
    assert_eq!(
        (payload.expected_volume_ml, payload.received_volume_ml),
        (19_000_000, 18_950_500)
    );
}

#[test]
fn an_order_can_be_canceled_until_it_is_shipped() {
    let mut f = Fixture::new();
    let now = f.tick();
    let today = f.station.local_date(now);
    let new_order = || NewOrder {
        product: product(GASOLINE),
        volume: litres(10_000),
        wanted_date: today,
    };
    let first = f
        .station
        .place_order(&f.approval, new_order(), now)
        .unwrap();
    f.station
        .cancel_order(&f.approval, first, "ordered twice by mistake", f.now)
        .unwrap();
    assert_eq!(
        f.station.order(first).unwrap().status,
        OrderStatus::Canceled
    );

    let second = f
        .station
        .place_order(&f.approval, new_order(), now)
        .unwrap();
    let shipment = ShipmentId::generate(now);
    f.station
        .record_expected_delivery(
            ExpectedDelivery {
                shipment,
                order: second,
                product: product(GASOLINE),
                volume: litres(10_000),
                truck: "T-7".into(),
                expected_at: None,
            },
            f.now,
        )
        .unwrap();
    let err = f
        .station
        .cancel_order(&f.approval, second, "too late", f.now)
        .unwrap_err();
    assert_eq!(err.code(), "order_closed");
    assert!(err.to_string().contains("is shipped"), "{err}");
}

#[test]
fn a_sale_lowers_stock_raises_totals_and_its_cancellation_puts_both_back() {
    let mut f = Fixture::new();
    f.fill(1, 10_000);
    f.open_shift(100_000);

    // 30.005 L of diesel at 1,650 won/L = 49,508.25 → 49,508 won; paid with 50,000.
    let mut line = f.fuel_line(DIESEL, 30_005);
    line.tank = Some(tank(1));
    let sale = f.sell_cash(vec![line], 50_000).unwrap();
    assert_eq!(sale.total, Won(49_508));
    assert_eq!(
        sale.payment,
        Payment::Cash {
            tendered: Won(50_000),
            change: Won(492)
        }
    );
    assert_eq!(sale.receipt_no, receipt_no(start_day(), 1));
    assert_eq!(book_stock(&f.station, 1), Millilitres(10_000_000 - 30_005));
    let row = summary(&f.station, DIESEL);
    assert_eq!(
        (row.sales_count, row.sales_volume, row.sales_amount),
        (1, Millilitres(30_005), Won(49_508))
    );

    let now = f.tick();
    let cashier = f.cashier.clone();
    let canceled = f
        .station
        .cancel_sale(&cashier, &f.approval, sale.sale, "wrong nozzle", now)
        .unwrap();
    let cancellation = canceled
        .cancellation
        .expect("the sale shows its cancellation");
    assert_eq!(
        (
            cancellation.reason.as_str(),
            cancellation.approved_by.as_str()
        ),
        ("wrong nozzle", "park")
    );
    assert_eq!(book_stock(&f.station, 1), litres(10_000), "stock is back");
    let row = summary(&f.station, DIESEL);
    assert_eq!(
        (row.canceled_count, row.canceled_amount, row.net_amount()),
        (1, Won(49_508), Won(0))
    );
    assert_eq!(
        f.station.sale(sale.sale).unwrap().total,
        Won(49_508),
        "the sale itself is kept, never deleted"
    );

    let err = f
        .station
        .cancel_sale(&cashier, &f.approval, sale.sale, "again", f.now)
        .unwrap_err();
    assert_eq!(err.code(), "sale_already_canceled");
    let flows: Vec<String> = f
        .station
        .stock_flows(tank(1))
        .unwrap()
        .into_iter()
        .map(|x| x.kind)
        .collect();
    assert_eq!(flows, ["delivery", "sale", "cancellation"]);
}

#[test]
fn a_product_in_several_tanks_needs_the_tank_named() {
    // Diesel is in tanks 1 and 2 in the fixture, so an unnamed diesel line is refused...
    let mut f = Fixture::new();
    f.fill(1, 1_000);
    f.open_shift(0);
    let mut line = f.fuel_line(DIESEL, 10_000);
    line.tank = None;
    let err = f.sell_cash(vec![line.clone()], 100_000).unwrap_err();
    assert_eq!(err.code(), "tank_not_named");
    assert!(err.to_string().contains("tanks 1, 2"), "{err}");
    // ...and a named one works; gasoline, in one tank only, needs no name.
    line.tank = Some(tank(2));
    let sale = f
        .sell_cash(vec![line, f.fuel_line(GASOLINE, 5_000)], 100_000)
        .unwrap();
    assert_eq!(
        sale.lines.iter().map(|l| l.tank).collect::<Vec<_>>(),
        [Some(tank(2)), Some(tank(3))]
    );
    assert_eq!(
        book_stock(&f.station, 2),
        Millilitres(-10_000),
        "sales may take book stock below zero"
    );
    let mut wrong = f.fuel_line(GASOLINE, 1_000);
    wrong.tank = Some(tank(1));
    assert_eq!(
        f.sell_cash(vec![wrong], 10_000).unwrap_err().code(),
        "tank_holds_other_product"
    );
}

#[test]
fn pump_amounts_shop_items_and_manager_prices_are_priced_as_told() {
    let mut f = Fixture::new();
    f.open_shift(0);
    let pump_line = SaleLineRequest {
        product: product(GASOLINE),
        measure: Measure::Volume(Millilitres(28_571)),
        tank: None,
        pricing: LinePricing::Pump {
            unit_price: UnitPrice(1_750),
            amount: Won(50_000),
        },
    };
    let water = SaleLineRequest {
        product: product(WATER),
        measure: Measure::Quantity(3),
        tank: None,
        pricing: LinePricing::PriceList,
    };
    let override_line = SaleLineRequest {
        product: product(DIESEL),
        measure: Measure::Volume(litres(10)),
        tank: Some(tank(1)),
        pricing: LinePricing::ManagerOverride {
            unit_price: UnitPrice(1_500),
            approval: f.approval.clone(),
        },
    };
    let sale = f
        .sell_cash(vec![pump_line, water, override_line], 100_000)
        .unwrap();
    let amounts: Vec<Won> = sale.lines.iter().map(|l| l.amount).collect();
    assert_eq!(amounts, [Won(50_000), Won(3_000), Won(15_000)]);
    assert_eq!(sale.total, Won(68_000));
    let sources: Vec<PriceSource> = sale.lines.iter().map(|l| l.price_source).collect();
    assert_eq!(
        sources,
        [
            PriceSource::Pump,
            PriceSource::PriceList,
            PriceSource::ManagerOverride
        ]
    );
    assert_eq!(summary(&f.station, WATER).sales_quantity, 3);

    let mut wrong = f.fuel_line(WATER, 1_000);
    wrong.tank = None;
    assert_eq!(
        f.sell_cash(vec![wrong], 10_000).unwrap_err().code(),
        "wrong_measure"
    );
}

#[test]
fn the_price_in_force_follows_the_clock_and_its_application_is_reported_once() {
    let mut f = Fixture::new();
    f.fill(3, 5_000);
    f.open_shift(0);
    let at_noon = start_time().checked_add(3.hours()).unwrap();
    let applied = f
        .station
        .receive_price_version(price_version(2, at_noon, 1_600, 1_800), f.now)
        .unwrap();
    assert_eq!(applied, None, "scheduled, not yet in force");
    let statuses: Vec<PriceVersionStatus> = f
        .station
        .price_versions(f.now)
        .unwrap()
        .iter()
        .map(|v| v.status)
        .collect();
    assert_eq!(
        statuses,
        [PriceVersionStatus::Scheduled, PriceVersionStatus::InForce]
    );

    let before = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 100_000)
        .unwrap();
    assert_eq!(
        (before.lines[0].unit_price, before.lines[0].price_version),
        (UnitPrice(1_750), Some(1))
    );

    f.now = at_noon;
    let after = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 100_000)
        .unwrap();
    assert_eq!(
        (after.lines[0].unit_price, after.lines[0].price_version),
        (UnitPrice(1_800), Some(2))
    );
    assert_eq!(
        f.station.apply_due_price_version(f.now).unwrap(),
        None,
        "already applied by the sale"
    );
    let applied: Vec<String> = kinds(&f.station)
        .into_iter()
        .filter(|k| k == "price_version_applied")
        .collect();
    assert_eq!(
        applied.len(),
        2,
        "version 1 at set-up and version 2 at noon, once each"
    );

    let err = f
        .station
        .receive_price_version(price_version(2, at_noon, 1, 1), f.now)
        .unwrap_err();
    assert_eq!(err.code(), "price_version_not_newer");
    assert_eq!(
        err.to_string(),
        "price version 2 is not newer than version 2, which the station already has"
    );
}

#[test]
fn credit_accounts_hold_their_limit_and_balance() {
    let mut f = Fixture::new();
    f.fill(1, 1_000);
    f.open_shift(0);
    let now = f.tick();
    let account = f
        .station
        .open_account(&f.approval, "한빛물류", Won(100_000), now)
        .unwrap();
    let on_account = |f: &mut Fixture, ml| {
        let now = f.tick();
        let cashier = f.cashier.clone();
        let mut line = f.fuel_line(DIESEL, ml);
        line.tank = Some(tank(1));
        f.station.settle_sale(
            &cashier,
            SaleRequest {
                lines: vec![line],
                payment: PaymentRequest::Account(account),
                over_limit: None,
            },
            now,
        )
    };
    let first = on_account(&mut f, 50_000).unwrap(); // 82,500 won
    assert_eq!(f.station.account(account).unwrap().balance, Won(82_500));
    let err = on_account(&mut f, 20_000).unwrap_err(); // 33,000 more would be 115,500
    assert_eq!(err.code(), "credit_limit_exceeded");
    assert!(err.to_string().contains("115,500 won"), "{err}");

    let cashier = f.cashier.clone();
    let now = f.tick();
    let left = f
        .station
        .receive_account_payment(
            &cashier,
            account,
            Won(50_000),
            AccountPaymentMethod::Cash,
            now,
        )
        .unwrap();
    assert_eq!(left, Won(32_500));
    let err = f
        .station
        .receive_account_payment(
            &cashier,
            account,
            Won(40_000),
            AccountPaymentMethod::Card {
                reference: "APPROVAL-9".into(),
            },
            now,
        )
        .unwrap_err();
    assert_eq!(err.code(), "payment_exceeds_balance");
    on_account(&mut f, 20_000).unwrap();
    assert_eq!(f.station.account(account).unwrap().balance, Won(65_500));

    let now = f.tick();
    f.station
        .cancel_sale(&cashier, &f.approval, first.sale, "fleet card misread", now)
        .unwrap();
    assert_eq!(f.station.account(account).unwrap().balance, Won(-17_000));
    let movements: Vec<&str> = f
        .station
        .account_movements(account)
        .unwrap()
        .iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(movements, ["sale", "payment", "sale", "cancellation"]);
}

#[test]
fn a_shift_counts_its_cash_and_the_day_closes_only_when_every_shift_has() {
    let mut f = Fixture::new();
    f.fill(3, 1_000);
    f.open_shift(100_000);
    let cashier = f.cashier.clone();
    let err = f.station.open_shift(&cashier, Won(0), f.now).unwrap_err();
    assert_eq!(err.code(), "shift_already_open");

    f.sell_cash(vec![f.fuel_line(GASOLINE, 20_000)], 50_000)
        .unwrap(); // 35,000 in, change 15,000
    let card = SaleRequest {
        lines: vec![f.fuel_line(GASOLINE, 10_000)],
        payment: PaymentRequest::Card {
            reference: "VISA-4411".into(),
        },
        over_limit: None,
    };
    let now = f.tick();
    f.station.settle_sale(&cashier, card, now).unwrap(); // not cash
    let refunded = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 2_000)], 3_500)
        .unwrap(); // 3,500 in...
    let now = f.tick();
    f.station
        .cancel_sale(
            &cashier,
            &f.approval,
            refunded.sale,
            "customer drove off",
            now,
        )
        .unwrap(); // ...and out
    assert_eq!(
        f.station
            .current_shift(cashier.user())
            .unwrap()
            .unwrap()
            .expected_cash,
        Won(135_000)
    );

    let now = f.tick();
    let err = f.station.close_business_day(&f.approval, now).unwrap_err();
    assert_eq!(err.code(), "shifts_still_open");
    assert!(err.to_string().contains("kim"), "{err}");

    let now = f.tick();
    let report = f.station.close_shift(&cashier, Won(134_000), now).unwrap();
    assert_eq!(
        (
            report.expected_cash,
            report.counted_cash,
            report.over_short()
        ),
        (Won(135_000), Won(134_000), Won(-1_000))
    );

    let now = f.tick();
    let day = f.station.close_business_day(&f.approval, now).unwrap();
    assert_eq!(day.business_day, start_day());
    assert_eq!(day.net_amount, Won(35_000 + 17_500));
    assert_eq!(day.shifts.len(), 1);
    assert_eq!(f.station.open_business_day().unwrap(), None);

    // Still the same day in Seoul, but that day is closed: the next sale belongs to the next.
    f.open_shift(0);
    let next = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    assert_eq!(
        (next.business_day, next.receipt_no),
        (
            start_day().tomorrow().unwrap(),
            receipt_no(start_day().tomorrow().unwrap(), 1)
        )
    );
    let closed_report = f.station.day_report(start_day()).unwrap();
    assert_eq!(
        closed_report.net_amount, day.net_amount,
        "a closed day's report does not change"
    );
}

/// A business day is named by Seoul's calendar, not UTC's, and lasts until it is closed: the last
/// second of a Seoul day and the first of the next (15:00 UTC, still the previous UTC date) stay
/// on the open day; once it is closed, the next sale opens the Seoul date of its own instant.
#[test]
fn a_business_day_follows_seoul_midnight_and_lasts_until_it_is_closed() {
    let mut f = Fixture::new();
    f.fill(3, 5_000);
    let day = start_day();
    let next_day = day.tomorrow().unwrap();
    let seoul = |date: jiff::civil::Date, h, m, s| {
        date.at(h, m, s, 0)
            .in_tz(DEFAULT_TIME_ZONE)
            .unwrap()
            .timestamp()
    };
    let last_second = seoul(day, 23, 59, 59);
    f.now = last_second.checked_sub(2.seconds()).unwrap();
    f.open_shift(0);
    let late = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    assert_eq!(f.now, last_second);
    assert_eq!(
        (late.business_day, late.receipt_no),
        (day, receipt_no(day, 1))
    );

    let after_midnight = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    assert_eq!(f.now, seoul(next_day, 0, 0, 0));
    assert_eq!(
        (after_midnight.business_day, after_midnight.receipt_no),
        (day, receipt_no(day, 2)),
        "the day is still open after midnight"
    );

    let now = f.tick();
    let cashier = f.cashier.clone();
    f.station.close_shift(&cashier, Won(3_500), now).unwrap();
    let now = f.tick();
    assert_eq!(
        f.station
            .close_business_day(&f.approval, now)
            .unwrap()
            .business_day,
        day
    );

    f.open_shift(0);
    let first_of_next = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    assert_eq!(
        f.now.in_tz("UTC").unwrap().date(),
        day,
        "in UTC it is still the earlier date"
    );
    assert_eq!(
        (first_of_next.business_day, first_of_next.receipt_no),
        (next_day, receipt_no(next_day, 1))
    );
}

#[test]
fn only_managers_approve_and_pins_are_checked() {
    let mut f = Fixture::new();
    let err = f.cashier.as_manager("cancelling a sale").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cancelling a sale needs a manager; kim is a cashier"
    );
    let err = f
        .station
        .approve_as_manager(
            &"kim".parse().unwrap(),
            &"1234".parse().unwrap(),
            "adjusting stock",
            f.now,
        )
        .unwrap_err();
    assert_eq!(err.code(), "manager_required");
    let err = f
        .station
        .authenticate(&"park".parse().unwrap(), &"0000".parse().unwrap(), f.now)
        .unwrap_err();
    assert_eq!(err.code(), "bad_credentials");
    let err = f
        .station
        .authenticate(&"nobody".parse().unwrap(), &"0000".parse().unwrap(), f.now)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown user or wrong PIN",
        "no hint whether the user exists"
    );
    assert!("12a4".parse::<Pin>().is_err() && "123".parse::<Pin>().is_err());
    assert_eq!(format!("{:?}", "1234".parse::<Pin>().unwrap()), "Pin(****)");
}

#[test]
fn manager_adjustments_move_book_stock_within_the_tank() {
    let mut f = Fixture::new();
    f.fill(3, 1_000);
    let now = f.tick();
    f.station
        .adjust_stock(
            &f.approval,
            tank(3),
            Millilitres(-12_500),
            "evaporation per gauge",
            now,
        )
        .unwrap();
    assert_eq!(book_stock(&f.station, 3), Millilitres(987_500));
    let err = f
        .station
        .adjust_stock(&f.approval, tank(3), litres(-2_000), "typo", now)
        .unwrap_err();
    assert_eq!(err.code(), "tank_below_empty");
    let err = f
        .station
        .adjust_stock(&f.approval, tank(3), litres(19_500), "typo", now)
        .unwrap_err();
    assert_eq!(err.code(), "tank_overfill");
    let err = f
        .station
        .adjust_stock(&f.approval, tank(3), litres(1), "  ", now)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
}

/// Each case runs one operation that must fail with the given code and leave every table as it was.
#[test]
fn bad_input_is_refused_by_name_and_changes_nothing() {
    let mut f = Fixture::new();
    f.fill(1, 5_000);
    f.open_shift(10_000);
    let sale = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    let now = f.tick();
    let account = f
        .station
        .open_account(&f.approval, "small account", Won(10_000), now)
        .unwrap();
    let order = f
        .station
        .place_order(
            &f.approval,
            NewOrder {
                product: product(DIESEL),
                volume: litres(1_000),
                wanted_date: f.station.local_date(now),
            },
            now,
        )
        .unwrap();
    let shipment = ShipmentId::generate(now);
    f.station
        .record_expected_delivery(
            ExpectedDelivery {
                shipment,
                order,
                product: product(DIESEL),
                volume: litres(1_000),
                truck: "T".into(),
                expected_at: None,
            },
            now,
        )
        .unwrap();
    let now = f.tick();
    f.station
        .confirm_delivery(&f.approval, shipment, tank(1), litres(1_000), now)
        .unwrap();
    let now = f.tick();
    f.station
        .cancel_sale(&f.cashier.clone(), &f.approval, sale.sale, "test", now)
        .unwrap();

    type Case = (
        &'static str,
        &'static str,
        Box<dyn Fn(&mut Fixture) -> Result<()>>,
    );
    let line = |code: &str, ml| SaleLineRequest {
        product: product(code),
        measure: Measure::Volume(Millilitres(ml)),
        tank: None,
        pricing: LinePricing::PriceList,
    };
    let cash = |lines| SaleRequest {
        lines,
        payment: PaymentRequest::Cash {
            tendered: Won(1_000_000),
        },
        over_limit: None,
    };
    let cases: Vec<Case> = vec![
        (
            "zero volume",
            "not_positive",
            Box::new(move |f| f.sell_cash(vec![line(GASOLINE, 0)], 1_000).map(drop)),
        ),
        (
            "negative volume",
            "not_positive",
            Box::new(move |f| f.sell_cash(vec![line(GASOLINE, -5_000)], 1_000).map(drop)),
        ),
        (
            "negative order",
            "not_positive",
            Box::new(|f| {
                let day = f.station.local_date(f.now);
                f.station
                    .place_order(
                        &f.approval,
                        NewOrder {
                            product: product(DIESEL),
                            volume: litres(-1),
                            wanted_date: day,
                        },
                        f.now,
                    )
                    .map(drop)
            }),
        ),
        (
            "unknown product",
            "unknown_product",
            Box::new(move |f| f.sell_cash(vec![line("XX9999", 1_000)], 1_000).map(drop)),
        ),
        (
            "unknown tank",
            "unknown_tank",
            Box::new(|f| {
                f.station
                    .adjust_stock(&f.approval, tank(42), litres(1), "x", f.now)
            }),
        ),
        (
            "unknown order",
            "unknown_order",
            Box::new(|f| {
                f.station
                    .cancel_order(&f.approval, OrderId::generate(f.now), "x", f.now)
            }),
        ),
        (
            "unknown sale",
            "unknown_sale",
            Box::new(|f| {
                f.station
                    .cancel_sale(
                        &f.cashier.clone(),
                        &f.approval,
                        SaleId::generate(f.now),
                        "x",
                        f.now,
                    )
                    .map(drop)
            }),
        ),
        (
            "unknown account",
            "unknown_account",
            Box::new(move |f| {
                let request = SaleRequest {
                    lines: vec![line(GASOLINE, 1_000)],
                    payment: PaymentRequest::Account(AccountId::generate(f.now)),
                    over_limit: None,
                };
                f.station
                    .settle_sale(&f.cashier.clone(), request, f.now)
                    .map(drop)
            }),
        ),
        (
            "delivery confirmed twice",
            "delivery_already_confirmed",
            Box::new(move |f| {
                f.station
                    .confirm_delivery(&f.approval, shipment, tank(1), litres(1_000), f.now)
            }),
        ),
        (
            "unknown shipment",
            "unknown_shipment",
            Box::new(|f| {
                f.station.confirm_delivery(
                    &f.approval,
                    ShipmentId::generate(f.now),
                    tank(1),
                    litres(1),
                    f.now,
                )
            }),
        ),
        (
            "sale canceled twice",
            "sale_already_canceled",
            Box::new(move |f| {
                f.station
                    .cancel_sale(&f.cashier.clone(), &f.approval, sale.sale, "again", f.now)
                    .map(drop)
            }),
        ),
        (
            "cancel without a reason",
            "invalid_input",
            Box::new(move |f| {
                f.station
                    .cancel_sale(&f.cashier.clone(), &f.approval, sale.sale, " ", f.now)
                    .map(drop)
            }),
        ),
        (
            "over the credit limit",
            "credit_limit_exceeded",
            Box::new(move |f| {
                let request = SaleRequest {
                    lines: vec![line(GASOLINE, 10_000)],
                    payment: PaymentRequest::Account(account),
                    over_limit: None,
                };
                f.station
                    .settle_sale(&f.cashier.clone(), request, f.now)
                    .map(drop)
            }),
        ),
        (
            "older price version",
            "price_version_not_newer",
            Box::new(|f| {
                f.station
                    .receive_price_version(price_version(1, f.now, 1, 1), f.now)
                    .map(drop)
            }),
        ),
        (
            "too little cash",
            "insufficient_tender",
            Box::new(move |f| f.sell_cash(vec![line(GASOLINE, 10_000)], 17_499).map(drop)),
        ),
        (
            "an empty sale",
            "empty_sale",
            Box::new(move |f| {
                f.station
                    .settle_sale(&f.cashier.clone(), cash(vec![]), f.now)
                    .map(drop)
            }),
        ),
        (
            "a manager with no shift sells",
            "no_open_shift",
            Box::new(move |f| {
                f.station
                    .settle_sale(&f.manager.clone(), cash(vec![line(GASOLINE, 1_000)]), f.now)
                    .map(drop)
            }),
        ),
        (
            "overfilling a tank",
            "tank_overfill",
            Box::new(|f| {
                f.station
                    .adjust_stock(&f.approval, tank(1), litres(29_000), "x", f.now)
            }),
        ),
        (
            "a duplicate tank",
            "tank_exists",
            Box::new(|f| {
                f.station
                    .register_tank(&f.approval, tank(1), &product(DIESEL), litres(1), f.now)
            }),
        ),
        (
            "a tank for a shop item",
            "wrong_measure",
            Box::new(|f| {
                f.station
                    .register_tank(&f.approval, tank(9), &product(WATER), litres(1), f.now)
            }),
        ),
        (
            "an order for yesterday",
            "invalid_input",
            Box::new(|f| {
                let yesterday = f.station.local_date(f.now).checked_sub(1.day()).unwrap();
                f.station
                    .place_order(
                        &f.approval,
                        NewOrder {
                            product: product(DIESEL),
                            volume: litres(1),
                            wanted_date: yesterday,
                        },
                        f.now,
                    )
                    .map(drop)
            }),
        ),
        (
            "a duplicate user",
            "user_exists",
            Box::new(|f| {
                let user = NewUser {
                    user_id: "kim".parse().unwrap(),
                    name: "x".into(),
                    role: Role::Cashier,
                    pin: "1111".parse().unwrap(),
                };
                f.station.add_user(&f.approval, user, f.now)
            }),
        ),
        (
            "an overpayment",
            "payment_exceeds_balance",
            Box::new(move |f| {
                f.station
                    .receive_account_payment(
                        &f.cashier.clone(),
                        account,
                        Won(1),
                        AccountPaymentMethod::Cash,
                        f.now,
                    )
                    .map(drop)
            }),
        ),
    ];
    for (name, code, operation) in cases {
        let before = f.dump();
        let err = operation(&mut f).expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(!err.to_string().is_empty());
        assert_eq!(f.dump(), before, "{name} changed the database");
    }
}

#[test]
fn hub_messages_apply_once_in_order_and_bad_ones_are_dead_lettered_without_blocking() {
    let mut f = Fixture::new();
    let now = f.tick();
    let order = f
        .station
        .place_order(
            &f.approval,
            NewOrder {
                product: product(DIESEL),
                volume: litres(5_000),
                wanted_date: f.station.local_date(now),
            },
            now,
        )
        .unwrap();
    let message = |seq: u64, event: Event| {
        sync_protocol::encode(&Envelope {
            event_id: uuid::Uuid::now_v7(),
            origin: HUB_ORIGIN.into(),
            sequence: seq,
            occurred_at: now,
            schema_version: SCHEMA_VERSION,
            stream: None,
            event,
        })
    };
    let shipment = sync_protocol::ShipmentDispatched {
        shipment_id: uuid::Uuid::now_v7(),
        order_id: order.uuid(),
        product_id: DIESEL.into(),
        volume_ml: 5_000_000,
        truck: "경기34나5678".into(),
        expected_at: None,
    };
    let rejection_of_unknown = sync_protocol::OrderRejected {
        order_id: uuid::Uuid::now_v7(),
        reason: "no such order".into(),
    };
    let first = message(1, Event::ShipmentDispatched(shipment));
    let second = message(2, Event::OrderRejected(rejection_of_unknown));
    let mut unknown_kind: serde_json::Value = serde_json::from_slice(&message(
        3,
        Event::OrderRejected(sync_protocol::OrderRejected {
            order_id: order.uuid(),
            reason: "x".into(),
        }),
    ))
    .unwrap();
    unknown_kind["kind"] = "fuel_teleported".into();
    let third = serde_json::to_vec(&unknown_kind).unwrap();
    let fourth = message(
        4,
        Event::PriceChanged(sync_protocol::PriceChanged {
            base_version: None,
            part: sync_protocol::Part::WHOLE,
            version: 2,
            effective_at: now,
            items: vec![sync_protocol::PriceItem {
                product_id: DIESEL.into(),
                name: "경유".into(),
                unit: sync_protocol::ProductUnit::Litre,
                unit_price_won: 1_599,
            }],
        }),
    );

    assert_eq!(
        f.station.apply_hub_message(&second, now).unwrap(),
        InboxOutcome::OutOfOrder {
            sequence: 2,
            expected: 1
        }
    );
    assert_eq!(
        f.station.apply_hub_message(&first, now).unwrap(),
        InboxOutcome::Applied { sequence: 1 }
    );
    assert_eq!(
        f.station.apply_hub_message(&first, now).unwrap(),
        InboxOutcome::Duplicate { sequence: 1 }
    );
    assert_eq!(f.station.order(order).unwrap().status, OrderStatus::Shipped);
    let InboxOutcome::DeadLettered { code, .. } =
        f.station.apply_hub_message(&second, now).unwrap()
    else {
        panic!()
    };
    assert_eq!(code, "unknown_order");
    let InboxOutcome::DeadLettered { code, .. } = f.station.apply_hub_message(&third, now).unwrap()
    else {
        panic!()
    };
    assert_eq!(code, "unknown_kind");
    let InboxOutcome::DeadLettered {
        sequence: None,
        code,
        ..
    } = f.station.apply_hub_message(b"{not json", now).unwrap()
    else {
        panic!()
    };
    assert_eq!(code, "not_json");
    assert_eq!(
        f.station.apply_hub_message(&fourth, now).unwrap(),
        InboxOutcome::Applied { sequence: 4 }
    );
    assert_eq!(
        f.station
            .price_in_force(&product(DIESEL), now)
            .unwrap()
            .unit_price,
        UnitPrice(1_599)
    );
    assert_eq!(f.station.dead_letters().unwrap().len(), 3);
    assert_eq!(f.station.inbox_position(HUB_ORIGIN).unwrap(), 4);

    // A station never takes station events as if they came from HQ.
    let mut forged: serde_json::Value = serde_json::from_slice(&message(
        5,
        Event::PriceChanged(sync_protocol::PriceChanged {
            base_version: None,
            part: sync_protocol::Part::WHOLE,
            version: 3,
            effective_at: now,
            items: vec![],
        }),
    ))
    .unwrap();
    forged["origin"] = "ST0002".into();
    let InboxOutcome::DeadLettered { code, .. } = f
        .station
        .apply_hub_message(&serde_json::to_vec(&forged).unwrap(), now)
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(code, "foreign_origin");
    assert_eq!(
        f.station.inbox_position(HUB_ORIGIN).unwrap(),
        4,
        "HQ's sequence is untouched"
    );
}

#[test]
fn the_outbox_is_gapless_in_commit_order_and_acknowledged_cumulatively() {
    let mut f = Fixture::new();
    f.fill(3, 1_000);
    f.open_shift(0);
    f.sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    let events = f.station.outbox_events(0, 1_000).unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        kinds(&f.station),
        [
            "price_version_applied",
            "tank_registered",
            "tank_registered",
            "tank_registered",
            "order_placed",
            "delivery_confirmed",
            "sale_settled"
        ]
    );
    for event in &events {
        let envelope = sync_protocol::decode(event.message.as_bytes()).unwrap();
        assert_eq!(
            (envelope.origin.as_str(), envelope.sequence),
            ("ST0001", event.seq)
        );
        assert_eq!(
            EventKind::from_wire(&event.kind),
            Some(envelope.event.kind())
        );
    }
    let last = events.len() as u64;
    assert_eq!(f.station.outbox_backlog().unwrap(), last);
    assert_eq!(
        f.station.acknowledge_through(last - 2, f.now).unwrap(),
        last - 2
    );
    assert_eq!(
        f.station.acknowledge_through(3, f.now).unwrap(),
        0,
        "acknowledging again changes nothing"
    );
    assert_eq!(
        f.station
            .unacknowledged_events(10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [last - 1, last]
    );
    assert_eq!(
        f.station
            .acknowledge_through(last + 1, f.now)
            .unwrap_err()
            .code(),
        "invalid_input"
    );
}

#[test]
fn sales_and_stock_flows_cannot_be_edited_or_deleted_even_by_hand() {
    let mut f = Fixture::new();
    f.fill(3, 100);
    f.open_shift(0);
    f.sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    let conn = rusqlite::Connection::open(f.db_path()).unwrap();
    for statement in [
        "UPDATE sales SET total_won = 1",
        "DELETE FROM sales",
        "UPDATE sale_lines SET amount_won = 1",
        "DELETE FROM stock_flows",
        "UPDATE stock_flows SET delta_ml = 1",
        "UPDATE outbox SET message = '{}'",
    ] {
        let err = conn.execute(statement, []).unwrap_err();
        assert!(err.to_string().contains("never"), "{statement}: {err}");
    }
}

#[test]
fn a_station_reopens_with_everything_it_recorded() {
    let mut f = Fixture::new();
    f.fill(3, 100);
    f.open_shift(5_000);
    let sale = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 1_000)], 10_000)
        .unwrap();
    let path = f.db_path();
    let Fixture { station, dir, .. } = f;
    drop(station);
    let station = Station::open(&path).unwrap();
    assert_eq!(station.info().station_id.as_str(), "ST0001");
    assert_eq!(station.sale(sale.sale).unwrap(), sale);
    assert_eq!(station.check_integrity().unwrap(), Vec::<String>::new());
    drop(dir);
}

#[test]
fn damaged_foreign_and_missing_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).unwrap();
    let err = Station::open(&garbage).unwrap_err();
    assert_eq!(err.code(), "not_a_station_database", "{err}");
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);

    let foreign = dir.path().join("foreign.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch("PRAGMA application_id = 1234; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');").unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let err = Station::open(&foreign).unwrap_err();
    assert!(
        err.to_string().contains("belongs to another application"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&foreign).unwrap(),
        before,
        "not even the journal mode changed"
    );
    let setup = || StationSetup {
        station_id: "ST0009".parse().unwrap(),
        name: "x".into(),
        time_zone: DEFAULT_TIME_ZONE.into(),
        first_manager: NewUser {
            user_id: "m".parse().unwrap(),
            name: "m".into(),
            role: Role::Manager,
            pin: "1111".parse().unwrap(),
        },
    };
    assert_eq!(
        Station::create(&foreign, setup(), start_time())
            .unwrap_err()
            .code(),
        "not_a_station_database"
    );
    assert_eq!(std::fs::read(&foreign).unwrap(), before);

    let err = Station::open(&dir.path().join("missing.db")).unwrap_err();
    assert_eq!(err.code(), "database_missing");
    let f = Fixture::new();
    assert_eq!(
        Station::create(&f.db_path(), setup(), start_time())
            .unwrap_err()
            .code(),
        "database_exists"
    );

    // A station database whose pages are damaged past the header.
    let path = f.db_path();
    drop(f.station);
    let mut bytes = std::fs::read(&path).unwrap();
    let page_size = 4096;
    for b in &mut bytes[page_size..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    let outcome = Station::open(&path).and_then(|s| s.tank_stock().map(drop));
    let err = outcome.unwrap_err();
    assert_eq!(err.code(), "database_corrupt", "{err}");
}

#[test]
fn unusual_time_zones_and_station_setups_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let setup = StationSetup {
        station_id: "ST0002".parse().unwrap(),
        name: "x".into(),
        time_zone: "Mars/Olympus".into(),
        first_manager: NewUser {
            user_id: "m".parse().unwrap(),
            name: "m".into(),
            role: Role::Manager,
            pin: "1111".parse().unwrap(),
        },
    };
    let path = dir.path().join("s.db");
    let err = Station::create(&path, setup, start_time()).unwrap_err();
    assert!(
        err.to_string()
            .contains("`Mars/Olympus` is not an IANA time zone"),
        "{err}"
    );
    assert!(!path.exists(), "nothing was created");
}

#[test]
fn what_an_operation_returns_is_what_it_stored_to_the_millisecond() {
    let mut f = Fixture::new();
    f.fill(3, 1_000);
    f.open_shift(0);
    // A clock with sub-millisecond digits, as real clocks have.
    let at = f.tick().checked_add(123_456_789.nanoseconds()).unwrap();
    let cashier = f.cashier.clone();
    let settled = f
        .station
        .settle_sale(
            &cashier,
            SaleRequest {
                lines: vec![f.fuel_line(GASOLINE, 10_000)],
                payment: PaymentRequest::Card {
                    reference: "A-1".into(),
                },
                over_limit: None,
            },
            at,
        )
        .unwrap();
    assert_eq!(settled.settled_at.subsec_nanosecond(), 123_000_000);
    assert_eq!(f.station.sale(settled.sale).unwrap(), settled);
    let event = f.station.outbox_events(0, 100).unwrap().pop().unwrap();
    assert_eq!(event.occurred_at, settled.settled_at);
}

#[test]
fn a_database_of_the_first_schema_keeps_its_acknowledged_position_when_migrated() {
    let mut f = Fixture::new();
    let now = f.tick();
    f.station.acknowledge_through(3, now).unwrap();
    let last = f.station.acknowledged_through().unwrap() + f.station.outbox_backlog().unwrap();
    let path = f.db_path();
    let Fixture { station, dir, .. } = f;
    drop(station);
    {
        // Back to the first schema: no position column, the position only in the outbox rows.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE audit_log; DROP TABLE pin_attempts;
             ALTER TABLE users DROP COLUMN credential_generation;
             ALTER TABLE credit_payments DROP COLUMN reference;
             DROP TABLE pump_totals;
             DROP TABLE fuelings; DROP TABLE tank_readings; DROP TABLE print_jobs;
             ALTER TABLE station DROP COLUMN outbox_acked_through;
             ALTER TABLE station DROP COLUMN up_stream_id; ALTER TABLE station DROP COLUMN up_stream_from;
             ALTER TABLE station DROP COLUMN down_stream_id; ALTER TABLE station DROP COLUMN down_stream_from;
             ALTER TABLE station DROP COLUMN audit_backfill_after;
             ALTER TABLE station DROP COLUMN audit_backfill_through;
             DROP TABLE station_limits;
             DROP TABLE divergences; DROP TABLE price_parts;
             DROP INDEX dead_letters_by_digest;
             ALTER TABLE dead_letters DROP COLUMN digest; ALTER TABLE dead_letters DROP COLUMN repeats;
             DROP INDEX inbox_by_event;
             CREATE TABLE inbox_v1 (origin TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL,
                 kind TEXT NOT NULL, outcome TEXT NOT NULL, handled_at_ms INTEGER NOT NULL,
                 PRIMARY KEY (origin, seq)) STRICT;
             DROP TABLE inbox; ALTER TABLE inbox_v1 RENAME TO inbox;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let station = Station::open(&path).unwrap();
    assert_eq!(station.acknowledged_through().unwrap(), 3);
    assert_eq!(station.outbox_backlog().unwrap(), last - 3);
    drop(dir);
}

#[test]
fn every_sale_owes_a_receipt_until_the_printer_takes_it() {
    let mut f = Fixture::new();
    f.fill(3, 100);
    f.open_shift(0);
    let sale = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 20_000)
        .unwrap();
    let waiting = f.station.waiting_print_jobs(10).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(f.station.waiting_print_job_count().unwrap(), 1);
    assert_eq!(
        (waiting[0].sale, waiting[0].reason.as_str()),
        (sale.sale, "sale")
    );

    let now = f.tick();
    f.station
        .record_print_failure(waiting[0].job_id, "paper out", now)
        .unwrap();
    let still = f.station.waiting_print_jobs(10).unwrap();
    assert_eq!(
        (still[0].attempts, still[0].last_error.as_deref()),
        (1, Some("paper out"))
    );

    let now = f.tick();
    f.station.mark_printed(waiting[0].job_id, now).unwrap();
    assert_eq!(f.station.waiting_print_jobs(10).unwrap(), Vec::new());
    assert_eq!(f.station.waiting_print_job_count().unwrap(), 0);
    let again = f.station.mark_printed(waiting[0].job_id, now).unwrap_err();
    assert_eq!(again.code(), "invalid_input");

    let cashier = f.cashier.clone();
    let now = f.tick();
    let unknown = SaleId::generate(now);
    let before = f.dump();
    let refused = f
        .station
        .request_reprint(&cashier, unknown, now)
        .unwrap_err();
    assert_eq!(refused.code(), "unknown_sale");
    assert_eq!(f.dump(), before);
    f.station.request_reprint(&cashier, sale.sale, now).unwrap();
    let reprint = f.station.waiting_print_jobs(10).unwrap();
    assert_eq!(
        (reprint[0].sale, reprint[0].reason.as_str()),
        (sale.sale, "reprint")
    );
}

#[test]
fn wet_stock_reconciliation_compares_the_gauge_with_the_ledger_and_flags_a_loss() {
    let mut f = Fixture::new();
    f.open_shift(0);
    let day = f.station.open_business_day().unwrap().unwrap();
    let now = f.tick();
    f.station
        .record_tank_reading(tank(3), litres(5_000), litres(0), now)
        .unwrap();
    f.fill(3, 10_000);
    // 2,000 L sold, in sales within the station's limits on what is keyed in.
    for _ in 0..8 {
        f.sell_cash(vec![f.fuel_line(GASOLINE, 250_000)], 500_000)
            .unwrap();
    }
    // The gauge finds 30 L less than the ledger expects: within 0.5% of 2,000 L + 50 L.
    let now = f.tick();
    f.station
        .record_tank_reading(tank(3), litres(12_970), litres(0), now)
        .unwrap();
    let report = f.station.wet_stock_reconciliation(day).unwrap();
    assert_eq!(report.len(), 1, "only tanks with readings: {report:?}");
    let tank3 = &report[0];
    assert_eq!(
        (tank3.opening, tank3.deliveries, tank3.sales, tank3.closing),
        (litres(5_000), litres(10_000), litres(2_000), litres(12_970))
    );
    assert_eq!(
        (tank3.variance, tank3.limit, tank3.flagged),
        (litres(-30), litres(60), false)
    );

    // 200 L missing is past the tolerance.
    let now = f.tick();
    f.station
        .record_tank_reading(tank(3), litres(12_800), litres(0), now)
        .unwrap();
    let report = f.station.wet_stock_reconciliation(day).unwrap();
    assert_eq!(
        (report[0].variance, report[0].flagged),
        (litres(-200), true)
    );
    assert_eq!(
        f.station.latest_tank_readings().unwrap()[0].volume,
        litres(12_800)
    );

    let before = f.dump();
    let now = f.tick();
    let refused = f
        .station
        .record_tank_reading(tank(9), litres(1), litres(0), now)
        .unwrap_err();
    assert_eq!(refused.code(), "unknown_tank");
    assert_eq!(f.dump(), before);
}

#[test]
fn a_fueling_is_recorded_as_the_pump_measured_it_and_paid_exactly_once() {
    let mut f = Fixture::new();
    f.fill(3, 10_000);
    f.open_shift(0);
    let now = f.tick();
    // The pump's own figures: 20.01 L at 1,749 won/L = 34,997 won (not the price list's 1,750).
    let fueling = f
        .station
        .record_fueling(
            NewFueling {
                pump: 0x50,
                nozzle: 2,
                tank: tank(3),
                volume: Millilitres(20_010),
                amount: Won(34_997),
                unit_price: UnitPrice(1_749),
            },
            now,
        )
        .unwrap();
    assert_eq!(fueling.product, product(GASOLINE));
    assert_eq!(f.station.unpaid_fuelings().unwrap(), vec![fueling.clone()]);
    assert_eq!(book_stock(&f.station, 3), litres(10_000), "not sold yet");

    let before = f.dump();
    let cashier = f.cashier.clone();
    let now = f.tick();
    let short = f.station.settle_fueling(
        &cashier,
        fueling.fueling,
        PaymentRequest::Cash {
            tendered: Won(30_000),
        },
        None,
        now,
    );
    assert_eq!(short.unwrap_err().code(), "insufficient_tender");
    assert_eq!(f.dump(), before, "a refused payment changes nothing");

    let sale = f
        .station
        .settle_fueling(
            &cashier,
            fueling.fueling,
            PaymentRequest::Cash {
                tendered: Won(40_000),
            },
            None,
            now,
        )
        .unwrap();
    assert_eq!(sale.total, Won(34_997));
    assert_eq!(sale.lines[0].price_source, PriceSource::Pump);
    assert_eq!(sale.lines[0].measure, Measure::Volume(Millilitres(20_010)));
    assert_eq!(book_stock(&f.station, 3), Millilitres(10_000_000 - 20_010));
    assert_eq!(f.station.unpaid_fuelings().unwrap(), vec![]);
    assert_eq!(
        f.station.fueling(fueling.fueling).unwrap().sale,
        Some(sale.sale)
    );

    let before = f.dump();
    let again = f.station.settle_fueling(
        &cashier,
        fueling.fueling,
        PaymentRequest::Card {
            reference: "A-1".into(),
        },
        None,
        f.now,
    );
    assert_eq!(again.unwrap_err().code(), "fueling_already_paid");
    assert_eq!(f.dump(), before, "paid once, nothing else changed");

    for (pump, nozzle, t, volume, code) in [
        (0x4F, 1, 3, 1_000, "invalid_input"),
        (0x50, 0, 3, 1_000, "invalid_input"),
        (0x50, 1, 9, 1_000, "unknown_tank"),
        (0x50, 1, 3, 0, "not_positive"),
    ] {
        let refused = f.station.record_fueling(
            NewFueling {
                pump,
                nozzle,
                tank: tank(t),
                volume: Millilitres(volume),
                amount: Won(1_000),
                unit_price: UnitPrice(1_749),
            },
            f.now,
        );
        assert_eq!(refused.unwrap_err().code(), code);
    }
    assert_eq!(f.dump(), before, "refused fuelings are not stored");
}

/// Ten guesses of a PIN, with growing waits from the fourth, then a lockout only a manager lifts;
/// an unknown user id meets exactly the same, so the answers never tell who exists. Every step
/// is in the audit log.
#[test]
fn pin_guessing_is_slowed_then_locked_out_until_a_manager_lifts_it() {
    let mut f = Fixture::new();
    let wrong: Pin = "0000".parse().unwrap();
    let right: Pin = "1234".parse().unwrap();
    for who in ["kim", "nobody"] {
        let user: UserId = who.parse().unwrap();
        let mut now = f.now;
        for failures in 0..LOCKOUT_AFTER_FAILURES {
            let wait = pin_retry_delay(failures);
            if !wait.is_zero() {
                // An attempt inside the wait is refused without looking at the PIN.
                let early = now.checked_sub(1.millisecond()).unwrap();
                let err = f.station.authenticate(&user, &right, early).unwrap_err();
                assert_eq!(err.code(), "pin_attempts_too_soon", "{who} {failures}");
            }
            let err = f.station.authenticate(&user, &wrong, now).unwrap_err();
            assert_eq!(err.code(), "bad_credentials", "{who} {failures}");
            now = now.checked_add(pin_retry_delay(failures + 1)).unwrap();
        }
        let err = f.station.authenticate(&user, &right, now).unwrap_err();
        assert_eq!(err.code(), "user_locked_out", "{who}: even the right PIN");
        f.station.lift_lockout(&f.approval, &user, now).unwrap();
        f.now = now;
    }
    let now = f.tick();
    let kim = f
        .station
        .authenticate(&"kim".parse().unwrap(), &right, now)
        .unwrap();
    assert_eq!(kim.user().as_str(), "kim");

    let log = f.station.audit_log(None, None, 1_000).unwrap();
    let count = |action: AuditAction, actor: &str| {
        log.iter()
            .filter(|e| {
                e.action == action && (e.actor == actor || e.subject.as_deref() == Some(actor))
            })
            .count()
    };
    for who in ["kim", "nobody"] {
        assert_eq!(count(AuditAction::LoginFailed, who), 10, "{who}");
        assert_eq!(count(AuditAction::LockedOut, who), 1, "{who}");
        assert_eq!(count(AuditAction::LockoutLifted, who), 1, "{who}");
    }
    assert_eq!(log[0].action, AuditAction::Login);
    assert_eq!(log[0].actor, "kim");
}

/// The audit entries HQ was sent: every `audit_recorded` message in the outbox, in order.
fn audit_sent(station: &Station) -> Vec<sync_protocol::AuditRecorded> {
    station
        .outbox_events(0, 100_000)
        .unwrap()
        .into_iter()
        .filter_map(
            |e| match sync_protocol::decode(e.message.as_bytes()).unwrap().event {
                Event::AuditRecorded(entry) => Some(entry),
                _ => None,
            },
        )
        .collect()
}

/// HQ sees the station's trail: each entry of the audit log is sent as it is written, in the
/// same transaction, so the two never disagree.
#[test]
fn every_audit_entry_is_sent_to_hq_with_the_change_it_records() {
    let mut f = Fixture::new();
    let wrong: Pin = "0000".parse().unwrap();
    let now = f.tick();
    let kim: UserId = "kim".parse().unwrap();
    assert!(f.station.authenticate(&kim, &wrong, now).is_err());
    assert!(
        f.station
            .authenticate(&"nobody".parse().unwrap(), &wrong, now)
            .is_err()
    );
    f.station
        .authenticate(&kim, &"1234".parse().unwrap(), now)
        .unwrap();
    let log = f.station.audit_log(None, None, 1_000).unwrap();
    let sent = audit_sent(&f.station);
    assert_eq!(sent.len(), log.len(), "one message per entry");
    for (entry, message) in log.iter().rev().zip(&sent) {
        assert_eq!(message.entry_no, u64::try_from(entry.entry_no).unwrap());
        assert_eq!(message.at, entry.at);
        assert_eq!(message.action, entry.action.as_str());
        assert_eq!(message.actor, entry.actor);
        assert_eq!(message.approved_by, entry.approved_by);
        assert_eq!(message.subject, entry.subject);
        assert_eq!(message.detail, entry.detail);
    }
    let actions: Vec<&str> = sent
        .iter()
        .rev()
        .take(3)
        .map(|m| m.action.as_str())
        .collect();
    assert_eq!(actions, ["login", "login_failed", "login_failed"]);
    // Nothing is left for the upgrade's catch-up to send again.
    assert_eq!(f.station.send_earlier_audit(now).unwrap(), 0);
}

/// A station upgraded from a version that kept its audit log to itself sends HQ every entry
/// written before, once, oldest first and in pages; entries after the upgrade go with their
/// change as usual.
#[test]
fn audit_entries_written_before_the_upgrade_go_to_hq_once() {
    let f = Fixture::new();
    let path = f.db_path();
    let Fixture { station, dir, .. } = f;
    drop(station);
    let earlier = AUDIT_BACKFILL_PAGE + 7;
    {
        // Back to the schema before the log went to HQ, with entries that version wrote.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..earlier {
            tx.execute(
                "INSERT INTO audit_log (at_ms, action, actor, detail) VALUES (?1, 'login_failed', 'kim', ?2)",
                rusqlite::params![1_000 + i64::try_from(i).unwrap(), format!("attempt {i}")],
            )
            .unwrap();
        }
        tx.execute_batch(
            "ALTER TABLE station DROP COLUMN audit_backfill_after;
             ALTER TABLE station DROP COLUMN audit_backfill_through;
             DROP TABLE station_limits;
             PRAGMA user_version = 9;",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let mut station = Station::open(&path).unwrap();
    let entries = station
        .audit_log(None, None, AUDIT_PAGE_LIMIT)
        .unwrap()
        .len();
    let already = audit_sent(&station).len();
    let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    assert_eq!(station.send_earlier_audit(now).unwrap(), entries);
    let sent = audit_sent(&station);
    assert_eq!(sent.len(), already + entries);
    let backfilled: Vec<u64> = sent[already..].iter().map(|m| m.entry_no).collect();
    let expected: Vec<u64> = (1..=u64::try_from(entries).unwrap()).collect();
    assert_eq!(
        backfilled, expected,
        "every earlier entry, once, oldest first"
    );
    assert_eq!(
        sent.last().unwrap().detail,
        format!("attempt {}", earlier - 1)
    );
    // Once only, also after a restart.
    assert_eq!(station.send_earlier_audit(now).unwrap(), 0);
    drop(station);
    let mut station = Station::open(&path).unwrap();
    assert_eq!(station.send_earlier_audit(now).unwrap(), 0);
    assert_eq!(audit_sent(&station).len(), already + entries);
    drop(dir);
}

/// A manager can clear the wait after a few wrong PINs, not only a lockout; the users list says
/// how many wrong PINs count against each user and how long the next check waits.
#[test]
fn a_manager_clears_the_wait_after_wrong_pins_short_of_a_lockout() {
    let mut f = Fixture::new();
    let kim: UserId = "kim".parse().unwrap();
    let wrong: Pin = "0000".parse().unwrap();
    let now = f.tick();
    for _ in 0..FREE_PIN_FAILURES {
        assert!(f.station.authenticate(&kim, &wrong, now).is_err());
    }
    let now = now.checked_add(pin_retry_delay(FREE_PIN_FAILURES)).unwrap();
    assert!(f.station.authenticate(&kim, &wrong, now).is_err());
    let holds = f.station.pin_holds(now).unwrap();
    let hold = holds.iter().find(|h| h.user == "kim").unwrap();
    assert_eq!(
        (hold.failures, hold.locked, hold.retry_after_s),
        (FREE_PIN_FAILURES + 1, false, 2)
    );
    let err = f
        .station
        .authenticate(&kim, &"1234".parse().unwrap(), now)
        .unwrap_err();
    assert_eq!(err.code(), "pin_attempts_too_soon");
    f.station.lift_lockout(&f.approval, &kim, now).unwrap();
    assert!(f.station.pin_holds(now).unwrap().is_empty());
    f.station
        .authenticate(&kim, &"1234".parse().unwrap(), now)
        .unwrap();
    let lifted = f
        .station
        .audit_log(Some(AuditAction::LockoutLifted), None, 10)
        .unwrap();
    assert_eq!(lifted.len(), 1);
    assert_eq!(lifted[0].subject.as_deref(), Some("kim"));
    assert_eq!(lifted[0].detail, "4 failed PIN checks cleared");
}

/// A sale of `lines` by card, confirmed past the limits by `over_limit`.
fn sell_by_card(
    f: &mut Fixture,
    lines: Vec<SaleLineRequest>,
    over_limit: Option<ManagerApproval>,
) -> Result<SaleRecord, StationError> {
    let now = f.tick();
    let cashier = f.cashier.clone();
    f.station.settle_sale(
        &cashier,
        SaleRequest {
            lines,
            payment: PaymentRequest::Card {
                reference: "A-77".into(),
            },
            over_limit,
        },
        now,
    )
}

/// Field report: a cash tender of 99,999,999,999,999 won was accepted and printed with its
/// change. Past the station's limit a tender is refused, naming the limit, and stores nothing;
/// a manager can confirm a large one, and the confirmation is audited with what it let through.
#[test]
fn a_tender_past_the_station_limit_is_refused_until_a_manager_confirms_it() {
    let mut f = Fixture::new();
    f.fill(3, 1_000);
    f.open_shift(0);
    let before = f.dump();
    let err = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 99_999_999_999_999)
        .unwrap_err();
    assert_eq!(err.code(), "tender_over_limit");
    assert!(
        err.to_string()
            .contains("(99,999,999,999,999 won) is over the station's limit of 2,000,000 won"),
        "{err}"
    );
    assert_eq!(f.dump(), before, "a refused tender stores nothing");
    // At the limit it goes without a manager.
    f.sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 2_000_000)
        .unwrap();
    let now = f.tick();
    let cashier = f.cashier.clone();
    let sale = f
        .station
        .settle_sale(
            &cashier,
            SaleRequest {
                lines: vec![f.fuel_line(GASOLINE, 10_000)],
                payment: PaymentRequest::Cash {
                    tendered: Won(3_000_000),
                },
                over_limit: Some(f.approval.clone()),
            },
            now,
        )
        .unwrap();
    let Payment::Cash { change, .. } = sale.payment else {
        panic!("not cash");
    };
    assert_eq!(change, Won(3_000_000) - sale.total);
    let confirmed = f
        .station
        .audit_log(Some(AuditAction::LimitConfirmed), None, 10)
        .unwrap();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].actor, "kim");
    assert_eq!(
        confirmed[0].approved_by.as_deref(),
        Some(f.approval.manager().as_str())
    );
    assert_eq!(
        confirmed[0].subject.as_deref(),
        Some(sale.receipt_no.as_str())
    );
    assert_eq!(
        confirmed[0].detail,
        "cash tendered 3,000,000 won, over the limit of 2,000,000 won"
    );
}

/// Field report: a manual sale of 999,999 L (33 times the tank) was accepted and took book stock
/// to -992,103 L. No line keyed by hand draws more than its tank holds, whoever confirms it; a
/// volume keyed by hand past the station's limit needs a manager; the pump's own meter is never
/// limited;
/// the station sets its limits (a manager, audited, within bounds).
#[test]
fn a_volume_keyed_by_hand_past_the_limit_needs_a_manager_and_no_line_draws_more_than_its_tank() {
    let mut f = Fixture::new();
    f.fill(3, 19_000);
    f.open_shift(0);
    let before = f.dump();
    for over_limit in [None, Some(f.approval.clone())] {
        let line = f.fuel_line(GASOLINE, 999_999_000);
        let err = sell_by_card(&mut f, vec![line], over_limit).unwrap_err();
        assert_eq!(err.code(), "volume_over_tank");
        assert!(
            err.to_string()
                .contains("line 1: 999999.000 L is more than tank 3 holds (20000.000 L)"),
            "{err}"
        );
    }
    let line = f.fuel_line(GASOLINE, 400_000);
    let err = sell_by_card(&mut f, vec![line.clone()], None).unwrap_err();
    assert_eq!(err.code(), "volume_over_limit");
    assert!(
        err.to_string()
            .contains("line 1: 400.000 L keyed by hand is over the station's limit of 300.000 L"),
        "{err}"
    );
    assert_eq!(f.dump(), before, "refused sales store nothing");

    let approval = f.approval.clone();
    let sale = sell_by_card(&mut f, vec![line], Some(approval)).unwrap();
    let confirmed = f
        .station
        .audit_log(Some(AuditAction::LimitConfirmed), None, 10)
        .unwrap();
    assert_eq!(
        confirmed[0].subject.as_deref(),
        Some(sale.receipt_no.as_str())
    );
    assert_eq!(
        confirmed[0].detail,
        "line 1: 400.000 L keyed by hand, over the limit of 300.000 L"
    );
    // The pump measured it: not keyed by hand, so not limited.
    let pumped = SaleLineRequest {
        pricing: LinePricing::Pump {
            unit_price: UnitPrice(1_749),
            amount: Won(699_600),
        },
        ..f.fuel_line(GASOLINE, 400_000)
    };
    sell_by_card(&mut f, vec![pumped], None).unwrap();
    // Nor by the tank's capacity: a meter that read more than the tank holds is a matter for the
    // manager (the book stock goes below zero and shows it), but that fuel was dispensed.
    let beyond_tank = SaleLineRequest {
        pricing: LinePricing::Pump {
            unit_price: UnitPrice(1_749),
            amount: Won(43_725_000),
        },
        ..f.fuel_line(GASOLINE, 25_000_000)
    };
    sell_by_card(&mut f, vec![beyond_tank], None).unwrap();

    // The station raises its limit; a cashier may not.
    let raised = Limits {
        largest_tender: Won(5_000_000),
        largest_manual_volume: litres(500),
    };
    let now = f.tick();
    assert_eq!(
        f.station.set_limits(&f.approval, raised, now).unwrap(),
        raised
    );
    assert_eq!(f.station.limits().unwrap(), raised);
    let line = f.fuel_line(GASOLINE, 450_000);
    sell_by_card(&mut f, vec![line], None).unwrap();
    let changed = f
        .station
        .audit_log(Some(AuditAction::LimitsChanged), None, 10)
        .unwrap();
    assert_eq!(
        changed[0].detail,
        "largest tender 5,000,000 won, largest manual volume 500.000 L"
    );
    let before = f.dump();
    for bad in [
        Limits {
            largest_tender: Won(0),
            ..raised
        },
        Limits {
            largest_manual_volume: Millilitres(-1),
            ..raised
        },
        Limits {
            largest_tender: Won(i64::MAX),
            ..raised
        },
    ] {
        let now = f.tick();
        let err = f.station.set_limits(&f.approval, bad, now).unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{bad:?}");
    }
    assert_eq!(f.dump(), before);
}

/// The wait grows 1, 2, 4 … seconds after the free attempts, and a success forgets the failures.
#[test]
fn the_wait_between_pin_attempts_doubles_and_a_success_resets_it() {
    assert_eq!(
        (0..=FREE_PIN_FAILURES + 3)
            .map(|n| pin_retry_delay(n).as_secs())
            .collect::<Vec<_>>(),
        [0, 0, 0, 1, 2, 4, 8]
    );
    let mut f = Fixture::new();
    let kim: UserId = "kim".parse().unwrap();
    let now = f.now;
    for _ in 0..FREE_PIN_FAILURES {
        f.station
            .authenticate(&kim, &"0000".parse().unwrap(), now)
            .unwrap_err();
    }
    let err = f
        .station
        .authenticate(&kim, &"1234".parse().unwrap(), now)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "too many wrong PINs for kim: try again in 1 s"
    );
    let later = now.checked_add(1.second()).unwrap();
    f.station
        .authenticate(&kim, &"1234".parse().unwrap(), later)
        .unwrap();
    f.station
        .authenticate(&kim, &"0000".parse().unwrap(), later)
        .unwrap_err();
    f.station
        .authenticate(&kim, &"1234".parse().unwrap(), later)
        .unwrap();
}

/// A user who left is deactivated, never deleted; a changed PIN or a deactivation ends the
/// sessions made before it; a manager cannot shut themselves or the last manager out.
#[test]
fn users_are_deactivated_not_deleted_and_their_sessions_end() {
    let mut f = Fixture::new();
    let kim: UserId = "kim".parse().unwrap();
    let park: UserId = "park".parse().unwrap();
    assert!(f.station.session_still_valid(&f.cashier).unwrap());

    let now = f.tick();
    f.station
        .set_pin(&f.approval, &kim, &"4321".parse().unwrap(), now)
        .unwrap();
    assert!(
        !f.station.session_still_valid(&f.cashier).unwrap(),
        "a session made with the old PIN"
    );
    let now = f.tick();
    let again = f
        .station
        .authenticate(&kim, &"4321".parse().unwrap(), now)
        .unwrap();
    assert!(f.station.session_still_valid(&again).unwrap());

    let now = f.tick();
    f.station
        .set_user_active(&f.approval, &kim, false, now)
        .unwrap();
    assert!(!f.station.session_still_valid(&again).unwrap());
    let err = f
        .station
        .authenticate(&kim, &"4321".parse().unwrap(), now)
        .unwrap_err();
    assert_eq!(err.code(), "bad_credentials", "no hint that kim exists");
    let users = f.station.users().unwrap();
    assert!(users.iter().any(|u| u.user_id == kim && !u.active), "kept");

    let before = f.dump();
    let now = f.tick();
    let err = f
        .station
        .set_user_active(&f.approval, &park, false, now)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.to_string()),
        (
            "user_change_refused",
            "a manager cannot deactivate themselves".into()
        )
    );
    assert_eq!(f.dump(), before, "a refused change changes nothing");

    f.station
        .set_user_active(&f.approval, &kim, true, now)
        .unwrap();
    f.station
        .authenticate(&kim, &"4321".parse().unwrap(), now)
        .unwrap();
    let actions: Vec<AuditAction> = f
        .station
        .audit_log(None, None, 10)
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions[..6],
        [
            AuditAction::Login,
            AuditAction::UserReactivated,
            AuditAction::LoginFailed,
            AuditAction::UserDeactivated,
            AuditAction::Login,
            AuditAction::PinChanged,
        ]
    );
}

/// Money into an account leaves a trace: a card payment needs its terminal reference, cash needs
/// the receiver's open shift, and both are in the audit log.
#[test]
fn account_payments_need_a_reference_or_a_shift_and_are_audited() {
    let mut f = Fixture::new();
    f.fill(1, 1_000);
    f.open_shift(0);
    let now = f.tick();
    let account = f
        .station
        .open_account(&f.approval, "Hanil", Won(1_000_000), now)
        .unwrap();
    let cashier = f.cashier.clone();
    let now = f.tick();
    f.station
        .settle_sale(
            &cashier,
            SaleRequest {
                lines: vec![SaleLineRequest {
                    tank: Some(tank(1)),
                    ..f.fuel_line(DIESEL, 20_000)
                }],
                payment: PaymentRequest::Account(account),
                over_limit: None,
            },
            now,
        )
        .unwrap();
    let before = f.dump();
    let err = f
        .station
        .receive_account_payment(
            &f.manager,
            account,
            Won(10_000),
            AccountPaymentMethod::Card {
                reference: " ".into(),
            },
            now,
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("card reference"), "{err}");
    let err = f
        .station
        .receive_account_payment(
            &f.manager,
            account,
            Won(10_000),
            AccountPaymentMethod::Cash,
            now,
        )
        .unwrap_err();
    assert_eq!(
        err.code(),
        "no_open_shift",
        "the manager has no drawer open"
    );
    assert_eq!(f.dump(), before);

    f.station
        .receive_account_payment(
            &f.manager,
            account,
            Won(10_000),
            AccountPaymentMethod::Card {
                reference: "APPROVAL-5521".into(),
            },
            now,
        )
        .unwrap();
    f.station
        .receive_account_payment(
            &cashier,
            account,
            Won(5_000),
            AccountPaymentMethod::Cash,
            now,
        )
        .unwrap();
    let payments: Vec<(String, String)> = f
        .station
        .audit_log(Some(AuditAction::AccountPayment), None, 10)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.detail))
        .collect();
    assert_eq!(
        payments,
        [
            ("kim".to_owned(), "5000 won in cash".to_owned()),
            (
                "park".to_owned(),
                "10000 won by card, reference APPROVAL-5521".to_owned()
            ),
        ]
    );
}

/// Sale requests whose volumes, prices or amounts sit at the ends of the 64-bit range are refused
/// by name and change nothing: no overflow panics a debug build or lands a wrapped figure in
/// the ledger. Then an ordinary sale still goes through.
#[test]
fn sale_figures_at_the_ends_of_i64_are_refused_by_name_and_change_nothing() {
    let mut f = Fixture::new();
    f.fill(1, 5_000);
    f.open_shift(0);
    let now = f.tick();
    let account = f
        .station
        .open_account(&f.approval, "fleet", Won(1_000_000_000), now)
        .unwrap();
    let manager = f.manager.as_manager("overriding a price").unwrap();
    let diesel = |measure, pricing| SaleLineRequest {
        product: product(DIESEL),
        measure,
        tank: Some(tank(1)),
        pricing,
    };
    let volume = |ml| Measure::Volume(Millilitres(ml));
    let pump = |price, amount| LinePricing::Pump {
        unit_price: UnitPrice(price),
        amount: Won(amount),
    };
    let water = |quantity| SaleLineRequest {
        product: product(WATER),
        measure: Measure::Quantity(quantity),
        tank: None,
        pricing: LinePricing::PriceList,
    };
    let half_and_one = i64::MAX / 2 + 1;
    let cases: Vec<(&str, Vec<SaleLineRequest>, PaymentRequest, &str, &str)> = vec![
        (
            "volume i64::MAX",
            vec![diesel(volume(i64::MAX), LinePricing::PriceList)],
            card(),
            "invalid_input",
            "volume",
        ),
        (
            "volume i64::MIN",
            vec![diesel(volume(i64::MIN), LinePricing::PriceList)],
            card(),
            "not_positive",
            "volume",
        ),
        (
            "quantity i64::MAX",
            vec![water(i64::MAX)],
            card(),
            "invalid_input",
            "quantity",
        ),
        (
            "override at i64::MAX won/L",
            vec![diesel(
                volume(10_000),
                LinePricing::ManagerOverride {
                    unit_price: UnitPrice(i64::MAX),
                    approval: manager.clone(),
                },
            )],
            card(),
            "invalid_input",
            "unit price",
        ),
        (
            "pump price i64::MAX",
            vec![diesel(volume(10_000), pump(i64::MAX, 16_500))],
            card(),
            "invalid_input",
            "unit price",
        ),
        (
            "pump amount i64::MAX",
            vec![diesel(volume(10_000), pump(1_650, i64::MAX))],
            card(),
            "invalid_input",
            "pump amount",
        ),
        (
            "pump amount i64::MIN",
            vec![diesel(volume(10_000), pump(1_650, i64::MIN))],
            card(),
            "not_positive",
            "pump amount",
        ),
        (
            "two pump lines overflowing the total",
            vec![
                diesel(volume(10_000), pump(1_650, half_and_one)),
                diesel(volume(10_000), pump(1_650, half_and_one)),
            ],
            card(),
            "invalid_input",
            "pump amount",
        ),
        (
            "the largest pump amount on credit",
            vec![diesel(volume(10_000), pump(1_650, i64::MAX))],
            PaymentRequest::Account(account),
            "invalid_input",
            "pump amount",
        ),
        (
            "cash tendered i64::MIN",
            vec![diesel(volume(10_000), LinePricing::PriceList)],
            PaymentRequest::Cash {
                tendered: Won(i64::MIN),
            },
            "insufficient_tender",
            "16,500",
        ),
    ];
    for (name, lines, payment, code, names) in cases {
        let before = f.dump();
        let now = f.tick();
        let err = f
            .station
            .settle_sale(
                &f.cashier.clone(),
                SaleRequest {
                    lines,
                    payment,
                    over_limit: None,
                },
                now,
            )
            .expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(
            err.to_string().contains(names),
            "{name}: `{err}` should name {names}"
        );
        assert_eq!(f.dump(), before, "{name} changed the database");
    }

    let sale = f
        .sell_cash(vec![diesel(volume(10_000), LinePricing::PriceList)], 20_000)
        .unwrap();
    assert_eq!(sale.total, Won(16_500));
    let largest = f
        .station
        .settle_sale(
            &f.cashier.clone(),
            SaleRequest {
                lines: vec![diesel(volume(10_000), pump(1_650, units::MAX_AMOUNT_WON))],
                payment: card(),
                over_limit: None,
            },
            f.now,
        )
        .unwrap();
    assert_eq!(
        largest.total,
        Won(units::MAX_AMOUNT_WON),
        "the ceiling itself is accepted"
    );
}

fn card() -> PaymentRequest {
    PaymentRequest::Card {
        reference: "APPROVAL-1".into(),
    }
}

/// Messages from HQ whose figures sit at the ends of the 64-bit range are dead-lettered with
/// their reason and move nothing; HQ's later messages still apply in order. Before, a shipment
/// of `i64::MAX` millilitres was applied and the next one overflowed the expected stock: a
/// storage fault that no dead letter ends, so the inbox stopped for good.
#[test]
fn hub_messages_with_figures_at_the_ends_of_i64_are_dead_lettered_and_the_rest_apply() {
    let mut f = Fixture::new();
    let now = f.tick();
    let order = f
        .station
        .place_order(
            &f.approval,
            NewOrder {
                product: product(DIESEL),
                volume: litres(5_000),
                wanted_date: f.station.local_date(now),
            },
            now,
        )
        .unwrap();
    let message = |seq: u64, event: Event| {
        sync_protocol::encode(&Envelope {
            event_id: uuid::Uuid::now_v7(),
            origin: HUB_ORIGIN.into(),
            sequence: seq,
            occurred_at: now,
            schema_version: SCHEMA_VERSION,
            stream: None,
            event,
        })
    };
    let shipment = |volume_ml| {
        Event::ShipmentDispatched(sync_protocol::ShipmentDispatched {
            shipment_id: uuid::Uuid::now_v7(),
            order_id: order.uuid(),
            product_id: DIESEL.into(),
            volume_ml,
            truck: "경기34나5678".into(),
            expected_at: None,
        })
    };
    let prices = |version, unit_price_won| {
        Event::PriceChanged(sync_protocol::PriceChanged {
            base_version: None,
            part: sync_protocol::Part::WHOLE,
            version,
            effective_at: now,
            items: vec![sync_protocol::PriceItem {
                product_id: DIESEL.into(),
                name: "경유".into(),
                unit: sync_protocol::ProductUnit::Litre,
                unit_price_won,
            }],
        })
    };
    let hostile = [
        (
            "shipment of i64::MAX ml",
            shipment(i64::MAX),
            "invalid_input",
            "shipped volume",
        ),
        (
            "shipment of i64::MIN ml",
            shipment(i64::MIN),
            "not_positive",
            "shipped volume",
        ),
        (
            "price of i64::MAX won",
            prices(2, i64::MAX),
            "invalid_input",
            "unit price",
        ),
        (
            "price of i64::MIN won",
            prices(2, i64::MIN),
            "not_positive",
            "unit price",
        ),
        (
            "version u64::MAX",
            prices(u64::MAX, 1_600),
            "invalid_input",
            "price version",
        ),
    ];
    let hostile_count = hostile.len();
    let mut seq = 0;
    for (name, event, code, names) in hostile {
        seq += 1;
        let before = f.dump();
        let outcome = f
            .station
            .apply_hub_message(&message(seq, event), now)
            .unwrap();
        let InboxOutcome::DeadLettered {
            sequence,
            code: got,
            reason,
        } = outcome
        else {
            panic!("{name}: {outcome:?}")
        };
        assert_eq!(
            (sequence, got.as_str()),
            (Some(seq), code),
            "{name}: {reason}"
        );
        assert!(
            reason.contains(names),
            "{name}: `{reason}` should name {names}"
        );
        let after = f.dump();
        let moved: Vec<&str> = after
            .split("## ")
            .filter(|table| !before.contains(*table))
            .map(|table| table.lines().next().unwrap_or_default())
            .collect();
        assert!(
            // The station takes up HQ's stream with its first message, whatever becomes of it.
            moved
                .iter()
                .all(|t| ["dead_letters", "inbox", "station"].contains(t)),
            "{name} moved {moved:?}"
        );
    }

    assert_eq!(
        f.station
            .apply_hub_message(&message(seq + 1, shipment(5_000_000)), now)
            .unwrap(),
        InboxOutcome::Applied { sequence: seq + 1 }
    );
    assert_eq!(
        f.station
            .apply_hub_message(&message(seq + 2, prices(2, 1_600)), now)
            .unwrap(),
        InboxOutcome::Applied { sequence: seq + 2 }
    );
    assert_eq!(f.station.order(order).unwrap().status, OrderStatus::Shipped);
    assert_eq!(
        f.station
            .product_stock()
            .unwrap()
            .into_iter()
            .find(|s| s.product == product(DIESEL))
            .unwrap()
            .expected_incoming,
        litres(5_000)
    );
    assert_eq!(
        f.station.price_in_force(&product(DIESEL), now).unwrap(),
        PriceInForce {
            unit_price: UnitPrice(1_600),
            version: 2
        }
    );
    assert_eq!(f.station.dead_letters().unwrap().len(), hostile_count);
}

/// Expected deliveries recorded directly refuse the same figures by name.
#[test]
fn an_expected_delivery_of_i64_max_millilitres_is_refused_by_name() {
    let mut f = Fixture::new();
    let now = f.tick();
    let order = f
        .station
        .place_order(
            &f.approval,
            NewOrder {
                product: product(DIESEL),
                volume: litres(5_000),
                wanted_date: f.station.local_date(now),
            },
            now,
        )
        .unwrap();
    let before = f.dump();
    let later = f.tick();
    let err = f
        .station
        .record_expected_delivery(
            ExpectedDelivery {
                shipment: ShipmentId::generate(now),
                order,
                product: product(DIESEL),
                volume: Millilitres(i64::MAX),
                truck: "T".into(),
                expected_at: None,
            },
            later,
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
    assert!(err.to_string().contains("shipped volume"), "{err}");
    assert_eq!(f.dump(), before);
}
