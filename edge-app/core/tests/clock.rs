//! The station's clock is not to be trusted: a POS PC's clock may be corrected backwards. Prices
//! only move forward whatever `now` says — once a version is in force (applied and reported to
//! HQ), an earlier `now` still sells at that version or a later one, never an older one.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use jiff::{Timestamp, ToSpan};
use station_core::*;
use sync_protocol::Event;

/// The versions the station reported applied to HQ, in the order it reported them.
fn reported_applied(station: &Station) -> Vec<u64> {
    station
        .outbox_events(0, 10_000)
        .unwrap()
        .into_iter()
        .filter_map(
            |e| match sync_protocol::decode(e.message.as_bytes()).unwrap().event {
                Event::PriceVersionApplied(applied) => Some(applied.version),
                _ => None,
            },
        )
        .collect()
}

/// The price version of each line of the last sale the station sent HQ.
fn last_sale_versions(station: &Station) -> Vec<Option<u64>> {
    station
        .outbox_events(0, 10_000)
        .unwrap()
        .into_iter()
        .rev()
        .find_map(
            |e| match sync_protocol::decode(e.message.as_bytes()).unwrap().event {
                Event::SaleSettled(sale) => {
                    Some(sale.lines.iter().map(|l| l.price_version).collect())
                }
                _ => None,
            },
        )
        .unwrap()
}

fn statuses(station: &Station, at: Timestamp) -> Vec<(u64, PriceVersionStatus)> {
    station
        .price_versions(at)
        .unwrap()
        .iter()
        .map(|v| (v.version, v.status))
        .collect()
}

/// Issue: the clock corrected backwards brought version 1's price back while the station had
/// reported version 2 applied.
#[test]
fn a_clock_set_back_after_a_price_version_took_effect_keeps_that_version_in_force() {
    let mut f = Fixture::new();
    f.fill(3, 5_000);
    f.open_shift(0);
    let one_hour_on = start_time().checked_add(1.hour()).unwrap();
    let five_hours_on = start_time().checked_add(5.hours()).unwrap();
    f.station
        .receive_price_version(price_version(2, one_hour_on, 1_600, 1_800), f.now)
        .unwrap();
    f.station
        .receive_price_version(price_version(3, five_hours_on, 1_500, 1_900), f.now)
        .unwrap();

    // Version 2 takes effect and a sale uses it.
    f.now = one_hour_on.checked_add(1.minute()).unwrap();
    let at_v2 = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 100_000)
        .unwrap();
    assert_eq!(
        (at_v2.lines[0].unit_price, at_v2.lines[0].price_version),
        (UnitPrice(1_800), Some(2))
    );
    assert_eq!(reported_applied(&f.station), [1, 2]);

    // The PC's clock is corrected back to before version 2's effective time.
    f.now = start_time().checked_add(30.minutes()).unwrap();
    let back = f.now;
    assert_eq!(
        f.station.price_in_force(&product(GASOLINE), back).unwrap(),
        PriceInForce {
            unit_price: UnitPrice(1_800),
            version: 2
        }
    );
    let after_setback = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 100_000)
        .unwrap();
    assert_eq!(
        (
            after_setback.lines[0].unit_price,
            after_setback.lines[0].price_version
        ),
        (UnitPrice(1_800), Some(2)),
        "version 2 stays in force at an earlier now"
    );
    assert_eq!(last_sale_versions(&f.station), [Some(2)], "what HQ is told");
    assert_eq!(f.station.apply_due_price_version(back).unwrap(), None);
    assert_eq!(
        reported_applied(&f.station),
        [1, 2],
        "nothing older is reported"
    );
    assert_eq!(
        statuses(&f.station, back),
        [
            (3, PriceVersionStatus::Scheduled),
            (2, PriceVersionStatus::InForce),
            (1, PriceVersionStatus::Superseded),
        ]
    );
    let list = f.station.price_list(back).unwrap();
    assert!(
        list.iter()
            .any(|i| i.product == product(GASOLINE) && i.unit_price == UnitPrice(1_800)),
        "{list:?}"
    );

    // The applied version is stored, not remembered: a restarted station keeps it.
    let path = f.db_path();
    let reopened = Station::open(&path).unwrap();
    assert_eq!(
        reopened
            .price_in_force(&product(GASOLINE), back)
            .unwrap()
            .version,
        2
    );
    drop(reopened);

    // Time moving on still brings the next version in on its own time.
    f.now = five_hours_on;
    let at_v3 = f
        .sell_cash(vec![f.fuel_line(GASOLINE, 10_000)], 100_000)
        .unwrap();
    assert_eq!(
        (at_v3.lines[0].unit_price, at_v3.lines[0].price_version),
        (UnitPrice(1_900), Some(3))
    );
    assert_eq!(reported_applied(&f.station), [1, 2, 3]);
}

/// A version that arrives already due is applied at once; a clock set back afterwards, even to
/// before version 1's time, keeps it in force without any sale in between.
#[test]
fn a_version_applied_on_arrival_stays_in_force_when_the_clock_goes_back() {
    let mut f = Fixture::new();
    let now = f.tick();
    assert_eq!(
        f.station
            .receive_price_version(price_version(2, now, 1_600, 1_800), now)
            .unwrap(),
        Some(2)
    );
    let back = now.checked_sub(10.minutes()).unwrap();
    assert_eq!(
        f.station
            .price_in_force(&product(DIESEL), back)
            .unwrap()
            .unit_price,
        UnitPrice(1_600)
    );
    assert_eq!(reported_applied(&f.station), [1, 2]);
}
