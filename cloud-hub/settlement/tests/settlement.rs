//! Settlement's rules on a real SQLite file, fed pages of events as the feed gives them: which
//! stations are settled, what a statement holds, terms by version, the close and its stored
//! statements, late events as adjustments, and every event counted once however often a page
//! comes again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use commission_settlement::feed::{FeedEvent, FeedStation};
use commission_settlement::period::Period;
use commission_settlement::store::NewTerms;
use commission_settlement::{Settlement, SettlementError};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde_json::value::RawValue;
use sync_protocol::{
    Envelope, Event, Payment, PriceSource, SaleCanceled, SaleLine, SaleSettled, WetStockReconciled,
};
use uuid::Uuid;

/// Builds pages of feed events with positions from 1.
struct Feed {
    position: u64,
    seqs: BTreeMap<String, u64>,
}

impl Feed {
    fn new() -> Feed {
        Feed {
            position: 0,
            seqs: BTreeMap::new(),
        }
    }

    fn event(&mut self, station: &str, event: Event) -> FeedEvent {
        self.position += 1;
        let seq = self.seqs.entry(station.to_owned()).or_insert(0);
        *seq += 1;
        let kind = event.kind().as_str().to_owned();
        let envelope = Envelope {
            event_id: Uuid::from_u128(u128::from(self.position)),
            origin: station.to_owned(),
            sequence: *seq,
            occurred_at: Timestamp::now(),
            schema_version: sync_protocol::SCHEMA_VERSION,
            stream: None,
            event,
        };
        let text = String::from_utf8(sync_protocol::encode(&envelope)).unwrap();
        FeedEvent {
            position: self.position,
            station: station.to_owned(),
            kind,
            message: RawValue::from_string(text).unwrap(),
        }
    }
}

fn fuel(product: &str, volume_ml: i64, unit_price: i64) -> SaleLine {
    SaleLine {
        line_no: 1,
        product_id: product.to_owned(),
        tank: Some(1),
        volume_ml: Some(volume_ml),
        quantity: None,
        unit_price_won: unit_price,
        amount_won: (volume_ml * unit_price + 500) / 1000,
        price_source: PriceSource::PriceList,
        price_version: Some(1),
    }
}

fn shop(product: &str, quantity: i64, unit_price: i64) -> SaleLine {
    SaleLine {
        line_no: 2,
        product_id: product.to_owned(),
        tank: None,
        volume_ml: None,
        quantity: Some(quantity),
        unit_price_won: unit_price,
        amount_won: quantity * unit_price,
        price_source: PriceSource::PriceList,
        price_version: Some(1),
    }
}

fn sale(id: u128, day: Date, lines: Vec<SaleLine>) -> Event {
    let total = lines.iter().map(|l| l.amount_won).sum();
    Event::SaleSettled(SaleSettled {
        sale_id: Uuid::from_u128(id),
        receipt_no: format!("R{id}"),
        business_day: day,
        shift_id: Uuid::from_u128(1),
        cashier: "kim".to_owned(),
        lines,
        total_won: total,
        payment: Payment::Card {
            reference: "1".to_owned(),
        },
    })
}

fn cancel(id: u128, day: Date, sale_day: Date, lines: Vec<SaleLine>) -> Event {
    let total = lines.iter().map(|l| l.amount_won).sum();
    Event::SaleCanceled(SaleCanceled {
        cancellation_id: Uuid::from_u128(id + 1_000_000),
        sale_id: Uuid::from_u128(id),
        business_day: day,
        sale_business_day: sale_day,
        reason: "wrong pump".to_owned(),
        canceled_by: "kim".to_owned(),
        approved_by: "park".to_owned(),
        lines,
        total_won: total,
    })
}

fn loss(day: Date, variance_ml: i64, limit_ml: i64) -> Event {
    Event::WetStockReconciled(WetStockReconciled {
        business_day: day,
        tank: 1,
        product_id: "CD1001".to_owned(),
        opening_ml: 10_000_000,
        deliveries_ml: 0,
        sales_ml: 1_000_000,
        closing_ml: 9_000_000 + variance_ml,
        variance_ml,
        limit_ml,
        flagged: variance_ml.abs() > limit_ml,
    })
}

/// A settlement with ST0001 and ST0002 consignment, ST0003 directly managed and ST0004 a
/// franchise; terms for the consignment ones from `from`.
fn settlement(from: Date) -> (tempfile::TempDir, Settlement) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settlement::open(&dir.path().join("settlement.db")).unwrap();
    let stations = [
        ("ST0001", "consignment"),
        ("ST0002", "consignment"),
        ("ST0003", "directly_managed"),
        ("ST0004", "franchise"),
    ]
    .map(|(id, kind)| FeedStation {
        station: id.to_owned(),
        name: format!("주유소 {id}"),
        operating_type: kind.to_owned(),
    });
    s.update_stations(&stations).unwrap();
    for station in ["ST0001", "ST0002"] {
        s.add_terms(
            &terms(station, from, 35, 500, 300_000, 1_000),
            "admin",
            Timestamp::now(),
        )
        .unwrap();
    }
    (dir, s)
}

fn terms(station: &str, from: Date, per_litre: i64, shop_bp: i64, fee: i64, loss: i64) -> NewTerms {
    NewTerms {
        station: station.to_owned(),
        effective_from: from,
        fuel_rates: BTreeMap::from([("CD1001".to_owned(), per_litre)]),
        shop_rate_basis_points: shop_bp,
        monthly_fee_won: fee,
        loss_cost_won_per_litre: loss,
    }
}

/// A month long past, whatever day the suite runs: no test depends on the calendar.
fn month() -> Period {
    let today = jiff::tz::TimeZone::UTC.to_datetime(Timestamp::now()).date();
    Period::of(today.checked_sub(400.days()).unwrap())
}

fn today() -> Date {
    jiff::tz::TimeZone::UTC.to_datetime(Timestamp::now()).date()
}

#[test]
fn a_statement_holds_litres_and_amounts_by_grade_shop_sales_each_commission_line_and_the_total() {
    let period = month();
    let d1 = period.first_day();
    let (_dir, mut s) = settlement(d1);
    let mut feed = Feed::new();
    let page = vec![
        // 40 L + 2.5 L of diesel at 1,650 won/L, two waters at 1,000 won.
        feed.event(
            "ST0001",
            sale(
                1,
                d1,
                vec![fuel("CD1001", 40_000, 1650), shop("SN2001", 2, 1000)],
            ),
        ),
        feed.event("ST0001", sale(2, d1, vec![fuel("CD1001", 2_500, 1650)])),
        // A loss of 60 L past a tolerance of 50 L: 10 L beyond.
        feed.event("ST0001", loss(d1, -60_000, 50_000)),
        // A gain is no deduction; nor is a loss within the tolerance.
        feed.event("ST0001", loss(d1.tomorrow().unwrap(), 70_000, 50_000)),
        feed.event(
            "ST0001",
            loss(d1.checked_add(2.days()).unwrap(), -50_000, 50_000),
        ),
    ];
    let applied = s.apply_page(&page, feed.position).unwrap();
    assert_eq!(applied.events, 5);
    assert_eq!(s.position().unwrap(), 5);

    let statement = s.statement("ST0001", period).unwrap();
    assert_eq!(statement.status, "open");
    assert_eq!(statement.fuel.len(), 1);
    let diesel = &statement.fuel[0];
    assert_eq!(
        (diesel.product.as_str(), diesel.volume_ml, diesel.amount_won),
        ("CD1001", 42_500, 66_000 + 4_125)
    );
    assert_eq!(diesel.sales_count, 2);
    // 42.5 L × 35 won = 1,487.5 → 1,488 (half up, once for the line).
    assert_eq!(diesel.commission_won, 1_488);
    assert_eq!(statement.shop[0].amount_won, 2_000);
    assert_eq!(statement.shop[0].commission_won, 100); // 5%
    assert_eq!(statement.fee.as_ref().unwrap().amount_won, 300_000);
    assert_eq!(statement.deductions.len(), 1);
    assert_eq!(statement.deductions[0].beyond_ml, 10_000);
    assert_eq!(statement.deductions[0].amount_won, -10_000); // 10 L × 1,000 won
    assert_eq!(statement.commission_won, 1_588);
    assert_eq!(statement.total_owed_won, 1_588 + 300_000 - 10_000);
    assert!(statement.adjustments.is_empty());

    // The other consignment station had no sales: its fixed fee only.
    let other = s.statement("ST0002", period).unwrap();
    assert_eq!(other.total_owed_won, 300_000);
    assert!(other.fuel.is_empty());

    let csv = commission_settlement::statement::to_csv(&statement);
    assert!(
        csv.contains(&format!(
            "ST0001,{period},fuel,,CD1001,1,2,42500,70125,35,1488"
        )),
        "{csv}"
    );
    assert!(
        csv.trim_end().ends_with(&format!(
            "total_owed,,,,0,0,0,,{}",
            statement.total_owed_won
        )),
        "{csv}"
    );
}

#[test]
fn directly_managed_and_franchise_stations_are_never_settled() {
    let period = month();
    let d1 = period.first_day();
    let (_dir, mut s) = settlement(d1);
    let mut feed = Feed::new();
    let page = vec![
        feed.event("ST0003", sale(1, d1, vec![fuel("CD1001", 40_000, 1650)])),
        feed.event("ST0004", sale(2, d1, vec![fuel("CD1001", 40_000, 1650)])),
        feed.event("ST0004", loss(d1, -900_000, 50_000)),
    ];
    assert_eq!(s.apply_page(&page, 3).unwrap().events, 3);
    assert!(s.totals().unwrap().is_empty());
    for station in ["ST0003", "ST0004"] {
        assert!(matches!(
            s.statement(station, period),
            Err(SettlementError::NotConsignment(_))
        ));
        assert!(matches!(
            s.add_terms(&terms(station, d1, 1, 1, 1, 1), "admin", Timestamp::now()),
            Err(SettlementError::NotConsignment(_))
        ));
    }
    let closed = s
        .close_period(period, today(), false, "admin", Timestamp::now())
        .unwrap();
    let settled: Vec<&str> = closed.iter().map(|st| st.station.as_str()).collect();
    assert_eq!(settled, ["ST0001", "ST0002"]);
}

#[test]
fn a_page_applied_again_after_a_crash_counts_nothing_twice() {
    let period = month();
    let d1 = period.first_day();
    let (_dir, mut s) = settlement(d1);
    let mut feed = Feed::new();
    let first: Vec<FeedEvent> = (1..=3)
        .map(|i| feed.event("ST0001", sale(i, d1, vec![fuel("CD1001", 1_000, 1650)])))
        .collect();
    let second: Vec<FeedEvent> = (4..=6)
        .map(|i| feed.event("ST0001", sale(i, d1, vec![fuel("CD1001", 1_000, 1650)])))
        .collect();
    s.apply_page(&first, 3).unwrap();
    // The same page again (the answer to a read made before the crash), then one overlapping.
    assert_eq!(s.apply_page(&first, 3).unwrap().events, 0);
    let overlapping: Vec<FeedEvent> = first.into_iter().skip(1).chain(second).collect();
    assert_eq!(s.apply_page(&overlapping, 6).unwrap().events, 3);
    let totals = s.totals().unwrap();
    let diesel = totals[&("ST0001".to_owned(), "CD1001".to_owned())];
    assert_eq!((diesel.count, diesel.volume_ml), (6, 6_000));
    assert_eq!(s.position().unwrap(), 6);
}

#[test]
fn a_cancellation_takes_back_its_sale_on_the_sale_s_day_and_rounds_to_the_same_won() {
    let period = month();
    let d1 = period.first_day();
    let (_dir, mut s) = settlement(d1);
    let mut feed = Feed::new();
    let line = fuel("CD1001", 2_500, 1650);
    let page = vec![
        feed.event("ST0001", sale(1, d1, vec![line.clone()])),
        feed.event("ST0001", sale(2, d1, vec![line.clone()])),
        feed.event("ST0001", cancel(2, d1.tomorrow().unwrap(), d1, vec![line])),
    ];
    s.apply_page(&page, 3).unwrap();
    let statement = s.statement("ST0001", period).unwrap();
    assert_eq!(statement.fuel[0].volume_ml, 2_500);
    assert_eq!(statement.fuel[0].sales_count, 1);
    assert_eq!(statement.fuel[0].commission_won, 88); // 87.5 → 88, as for the one sale alone
}

#[test]
fn terms_apply_by_version_from_the_day_they_take_effect() {
    let period = month();
    let d1 = period.first_day();
    let mid = d1.checked_add(14.days()).unwrap();
    let (_dir, mut s) = settlement(d1);
    s.add_terms(
        &terms("ST0001", mid, 50, 1_000, 400_000, 2_000),
        "admin",
        Timestamp::now(),
    )
    .unwrap();
    assert!(matches!(
        s.add_terms(&terms("ST0001", mid, 1, 1, 1, 1), "admin", Timestamp::now()),
        Err(SettlementError::TermsExist { version: 2, .. })
    ));
    let mut feed = Feed::new();
    let page = vec![
        feed.event("ST0001", sale(1, d1, vec![fuel("CD1001", 10_000, 1650)])),
        feed.event("ST0001", sale(2, mid, vec![fuel("CD1001", 10_000, 1650)])),
    ];
    s.apply_page(&page, 2).unwrap();
    let statement = s.statement("ST0001", period).unwrap();
    let lines: Vec<(Option<u32>, i64, i64)> = statement
        .fuel
        .iter()
        .map(|l| (l.terms_version, l.rate_won_per_litre, l.commission_won))
        .collect();
    assert_eq!(lines, [(Some(1), 35, 350), (Some(2), 50, 500)]);
    // The fee of the terms in force on the period's last day.
    assert_eq!(statement.fee.as_ref().unwrap().terms_version, 2);
    assert_eq!(statement.fee_won, 400_000);

    // Out-of-range terms are refused by name.
    for bad in [
        terms("ST0002", mid, -1, 0, 0, 0),
        terms("ST0002", mid, 0, 10_001, 0, 0),
        terms("ST0002", mid, 0, 0, -1, 0),
    ] {
        assert!(matches!(
            s.add_terms(&bad, "admin", Timestamp::now()),
            Err(SettlementError::InvalidInput { .. })
        ));
    }
}

#[test]
fn late_events_of_a_closed_period_become_adjustments_on_the_next_and_the_closed_statement_never_changes()
 {
    let period = month();
    let d1 = period.first_day();
    let last = period.last_day();
    let next_day = period.next().first_day();
    let (_dir, mut s) = settlement(d1);
    let mut feed = Feed::new();
    let page = vec![feed.event("ST0001", sale(1, d1, vec![fuel("CD1001", 10_000, 1650)]))];
    s.apply_page(&page, 1).unwrap();

    // Periods close in order, not twice, and one not over only on purpose.
    let current = Period::of(today());
    assert!(matches!(
        s.close_period(current, today(), false, "admin", Timestamp::now()),
        Err(SettlementError::PeriodNotClosable { .. })
    ));
    let closed = s
        .close_period(period, today(), false, "admin", Timestamp::now())
        .unwrap();
    assert_eq!(closed[0].status, "closed");
    let before = s.statement("ST0001", period).unwrap();
    assert_eq!(before.total_owed_won, 350 + 300_000);
    assert!(matches!(
        s.close_period(period, today(), false, "admin", Timestamp::now()),
        Err(SettlementError::PeriodClosed(_))
    ));
    assert!(matches!(
        s.close_period(
            period.next().next(),
            today(),
            false,
            "admin",
            Timestamp::now()
        ),
        Err(SettlementError::PeriodNotClosable { .. })
    ));
    // Terms of a closed period can no longer be added.
    assert!(matches!(
        s.add_terms(
            &terms("ST0001", last, 1, 1, 1, 1),
            "admin",
            Timestamp::now()
        ),
        Err(SettlementError::PeriodClosed(_))
    ));

    // A station offline at month end: its sale of the last day arrives after the close, with a
    // cancellation of the first day's sale and a wet-stock loss; then a sale of the new month.
    let late = vec![
        feed.event(
            "ST0002",
            sale(
                2,
                last,
                vec![fuel("CD1001", 20_000, 1650), shop("SN2001", 1, 1000)],
            ),
        ),
        feed.event(
            "ST0001",
            cancel(1, next_day, d1, vec![fuel("CD1001", 10_000, 1650)]),
        ),
        feed.event("ST0002", loss(last, -52_000, 50_000)),
        feed.event(
            "ST0002",
            sale(3, next_day, vec![fuel("CD1001", 1_000, 1650)]),
        ),
    ];
    s.apply_page(&late, feed.position).unwrap();

    assert_eq!(
        s.statement("ST0001", period).unwrap(),
        before,
        "a closed statement changed"
    );
    let st1 = s.statement("ST0001", period.next()).unwrap();
    assert_eq!(st1.adjustments.len(), 1);
    let a = &st1.adjustments[0];
    assert_eq!(
        (a.business_day.as_str(), a.kind.as_str()),
        (d1.to_string().as_str(), "fuel")
    );
    assert_eq!(
        (a.volume_ml, a.sales_count, a.commission_won),
        (-10_000, -1, -350)
    );
    assert!(st1.fuel.is_empty());
    assert_eq!(st1.total_owed_won, 300_000 - 350);

    let st2 = s.statement("ST0002", period.next()).unwrap();
    let adjustments: Vec<(String, &str, i64, i64)> = st2
        .adjustments
        .iter()
        .map(|a| {
            (
                a.business_day.clone(),
                a.kind.as_str(),
                a.volume_ml,
                a.commission_won,
            )
        })
        .collect();
    assert_eq!(
        adjustments,
        [
            (last.to_string(), "fuel", 20_000, 700),
            (last.to_string(), "shop", 0, 50),
            (last.to_string(), "wet_stock_loss", 2_000, -2_000),
        ]
    );
    assert_eq!(st2.fuel[0].volume_ml, 1_000);
    assert_eq!(st2.fuel[0].commission_won, 35);
    assert_eq!(st2.total_owed_won, 35 + 300_000 + 700 + 50 - 2_000);
    // Every figure is counted once in all: the totals hold each sale and cancellation.
    let totals = s.totals().unwrap();
    assert_eq!(
        totals[&("ST0001".to_owned(), "CD1001".to_owned())].volume_ml,
        0
    );
    assert_eq!(
        totals[&("ST0002".to_owned(), "CD1001".to_owned())].volume_ml,
        21_000
    );
}
