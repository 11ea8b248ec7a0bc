//! Fuelings read back from pumps on a real station file: recorded once, however often read
//! back; the counters beside the fuelings; a busy database; refusals.

use super::*;
use crate::sql::ms;
use crate::{NewUser, PriceItem, PriceVersion, Role, StationSetup, Unit};

const DIESEL: &str = "CD1001";

/// A station with diesel at 1,650 won/L in tank 1.
fn station() -> (tempfile::TempDir, Station, Timestamp) {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let setup = StationSetup {
        station_id: "ST0001".parse().unwrap(),
        name: "강남주유소".into(),
        time_zone: crate::DEFAULT_TIME_ZONE.into(),
        first_manager: NewUser {
            user_id: "park".parse().unwrap(),
            name: "박지성".into(),
            role: Role::Manager,
            pin: "9999".parse().unwrap(),
        },
    };
    let mut station = Station::create(&dir.path().join("station.db"), setup, now).unwrap();
    let diesel = PriceItem {
        product: DIESEL.parse().unwrap(),
        name: "경유".into(),
        unit: Unit::Litre,
        unit_price: UnitPrice(1_650),
    };
    station
        .receive_price_version(
            PriceVersion {
                version: 1,
                effective_at: now,
                items: vec![diesel],
            },
            now,
        )
        .unwrap();
    let approval = station
        .approve_as_manager(
            &"park".parse().unwrap(),
            &"9999".parse().unwrap(),
            "setting up",
            now,
        )
        .unwrap();
    station
        .register_tank(
            &approval,
            TankNo::new(1).unwrap(),
            &DIESEL.parse().unwrap(),
            Millilitres(30_000_000),
            now,
        )
        .unwrap();
    (dir, station, now)
}

fn filling(volume: i64, amount: i64) -> NewFueling {
    NewFueling {
        pump: 0x50,
        nozzle: 1,
        tank: TankNo::new(1).unwrap(),
        volume: Millilitres(volume),
        amount: Won(amount),
        unit_price: UnitPrice(1_650),
    }
}

/// Pump 50H read back: nozzle 1's counters, nozzle 2 idle at 7 L, and the filling it holds.
fn read_back(volume_total: i64, amount_total: i64, held: Option<NewFueling>) -> PumpReadBack {
    PumpReadBack {
        pump: 0x50,
        counters: vec![
            NozzleCounters {
                nozzle: 1,
                volume: Millilitres(volume_total),
                amount: Some(Won(amount_total)),
            },
            NozzleCounters {
                nozzle: 2,
                volume: Millilitres(7_000),
                amount: None,
            },
        ],
        held_filling: held,
    }
}

fn totals_of_nozzle_1(station: &Station) -> NozzleTotals {
    station
        .nozzle_totals()
        .unwrap()
        .into_iter()
        .find(|totals| totals.pump == 0x50 && totals.nozzle == 1)
        .unwrap()
}

#[test]
fn a_filling_read_back_again_is_recorded_once() {
    let (_dir, mut station, now) = station();
    let outcome = station
        .record_pump_read_back(
            read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    let ReadBackOutcome::Recorded(fueling) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (fueling.volume, fueling.amount, fueling.unit_price),
        (Millilitres(20_000), Won(33_000), UnitPrice(1_650))
    );
    assert_eq!(
        station.unpaid_fuelings().unwrap(),
        std::slice::from_ref(&fueling)
    );

    // The line reopened, the runtime restarted: the pump still holds the same filling.
    for _ in 0..2 {
        let again = station
            .record_pump_read_back(
                read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
                now,
            )
            .unwrap();
        assert_eq!(again, ReadBackOutcome::AlreadyRecorded(fueling.clone()));
    }
    // Paid, and read back once more: still not recorded again.
    let cashier = station
        .authenticate(&"park".parse().unwrap(), &"9999".parse().unwrap(), now)
        .unwrap();
    station.open_shift(&cashier, Won(0), now).unwrap();
    let payment = PaymentRequest::Cash {
        tendered: Won(33_000),
    };
    station
        .settle_fueling(&cashier, fueling.fueling, payment, None, now)
        .unwrap();
    let paid = station
        .record_pump_read_back(
            read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    assert!(matches!(paid, ReadBackOutcome::AlreadyRecorded(f) if f.sale.is_some()));
    assert_eq!(station.unpaid_fuelings().unwrap(), []);

    // The next filling of the same figures is another filling: its counter is further on.
    let next = station
        .record_pump_read_back(
            read_back(140_000, 231_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    assert!(matches!(next, ReadBackOutcome::Recorded(_)), "{next:?}");
    assert_eq!(station.unpaid_fuelings().unwrap().len(), 1);
    let totals = totals_of_nozzle_1(&station);
    assert_eq!(totals.volume_variance, Millilitres(0));
    assert_eq!(totals.amount_variance, Some(Won(0)));
}

#[test]
fn counters_ahead_of_the_recorded_fuelings_show_a_variance() {
    let (_dir, mut station, now) = station();
    let idle = station
        .record_pump_read_back(read_back(100_000, 165_000, None), now)
        .unwrap();
    assert_eq!(idle, ReadBackOutcome::NoFilling);
    let start = totals_of_nozzle_1(&station);
    assert_eq!(
        (
            start.volume_total,
            start.counted_volume,
            start.volume_variance
        ),
        (Millilitres(100_000), Millilitres(0), Millilitres(0))
    );

    station
        .record_pump_read_back(
            read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    assert_eq!(totals_of_nozzle_1(&station).volume_variance, Millilitres(0));

    // 5 L more on the meters, and no fueling for them.
    station
        .record_pump_read_back(read_back(125_000, 206_250, None), now)
        .unwrap();
    let totals = totals_of_nozzle_1(&station);
    assert_eq!(totals.counted_volume, Millilitres(25_000));
    assert_eq!(totals.recorded_volume, Millilitres(20_000));
    assert_eq!(totals.volume_variance, Millilitres(5_000));
    assert_eq!(totals.counted_amount, Some(Won(41_250)));
    assert_eq!(totals.recorded_amount, Won(33_000));
    assert_eq!(totals.amount_variance, Some(Won(8_250)));
    assert_eq!(totals.since, start.since);

    // Nozzle 2 never reported money totals: its money variance is unknown, not zero.
    let nozzle_2 = station
        .nozzle_totals()
        .unwrap()
        .into_iter()
        .find(|totals| totals.nozzle == 2)
        .unwrap();
    assert_eq!(
        (nozzle_2.amount_total, nozzle_2.amount_variance),
        (None, None)
    );
}

#[test]
fn a_counter_that_goes_back_starts_the_comparison_again() {
    let (_dir, mut station, now) = station();
    station
        .record_pump_read_back(read_back(100_000, 165_000, None), now)
        .unwrap();
    station
        .record_pump_read_back(read_back(103_000, 170_000, None), now)
        .unwrap();
    assert_eq!(
        totals_of_nozzle_1(&station).volume_variance,
        Millilitres(3_000)
    );
    // New pump electronics: the counters start near zero.
    let later = now.checked_add(jiff::Span::new().seconds(1)).unwrap();
    station
        .record_pump_read_back(read_back(2_000, 3_300, None), later)
        .unwrap();
    let totals = totals_of_nozzle_1(&station);
    assert_eq!(
        (
            totals.volume_total,
            totals.counted_volume,
            totals.volume_variance
        ),
        (Millilitres(2_000), Millilitres(0), Millilitres(0))
    );
    assert_eq!(totals.since, timestamp(ms(later)).unwrap());
}

#[test]
fn the_last_fueling_recorded_before_counters_were_kept_is_not_recorded_again() {
    let (_dir, mut station, now) = station();
    let old = station
        .record_fueling(filling(20_000, 33_000), now)
        .unwrap();
    let outcome = station
        .record_pump_read_back(
            read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    assert_eq!(outcome, ReadBackOutcome::AlreadyRecorded(old));
    // Once the counters are known, the same figures again are a new filling.
    let next = station
        .record_pump_read_back(
            read_back(140_000, 231_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    assert!(matches!(next, ReadBackOutcome::Recorded(_)), "{next:?}");
}

#[test]
fn a_read_back_refused_while_the_database_is_busy_changes_nothing_and_is_recorded_later() {
    let (dir, mut station, now) = station();
    let other = rusqlite::Connection::open(dir.path().join("station.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let busy = station.record_pump_read_back(
        read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
        now,
    );
    let error = busy.unwrap_err();
    assert!(error.is_storage_fault(), "{error:?}");
    other.execute_batch("COMMIT").unwrap();
    assert_eq!(station.unpaid_fuelings().unwrap(), []);
    assert_eq!(station.nozzle_totals().unwrap(), []);

    let outcome = station
        .record_pump_read_back(
            read_back(120_000, 198_000, Some(filling(20_000, 33_000))),
            now,
        )
        .unwrap();
    assert!(
        matches!(outcome, ReadBackOutcome::Recorded(_)),
        "{outcome:?}"
    );
}

#[test]
fn read_backs_that_do_not_add_up_are_refused() {
    let (_dir, mut station, now) = station();
    let mut other_nozzle = filling(20_000, 33_000);
    other_nozzle.nozzle = 3;
    let mut other_pump = filling(20_000, 33_000);
    other_pump.pump = 0x51;
    let mut twice = read_back(1_000, 1_650, None);
    twice.counters.push(twice.counters[0]);
    let mut negative = read_back(-1, 0, None);
    negative.held_filling = None;
    let cases = [
        (read_back(1_000, 1_650, Some(other_nozzle)), "invalid_input"),
        (read_back(1_000, 1_650, Some(other_pump)), "invalid_input"),
        (read_back(1_000, 1_650, Some(filling(0, 0))), "not_positive"),
        (twice, "invalid_input"),
        (negative, "invalid_input"),
        (
            PumpReadBack {
                pump: 0x70,
                counters: vec![],
                held_filling: None,
            },
            "invalid_input",
        ),
    ];
    for (read_back, code) in cases {
        let refused = station.record_pump_read_back(read_back.clone(), now);
        assert_eq!(refused.unwrap_err().code(), code, "{read_back:?}");
    }
    assert_eq!(station.nozzle_totals().unwrap(), []);
    assert_eq!(station.unpaid_fuelings().unwrap(), []);
}
