//! The tests' calendar: every date and time a test gives the hub is a day before or after the day
//! the suite runs, never written out, so the suite means the same on any day and with the clock
//! moved a year ahead or back. Where the hub reads the real clock (the API's handlers), a test
//! picks the direction it means (`day(-1)` is yesterday, a past business day; `day(2)` a wanted
//! date still to come); where a test gives the hub its `now`, the days only keep their order.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::OnceLock;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Day 0: the UTC date the suite started on, taken once so every test of a run sees the same
/// days.
pub fn today() -> Date {
    static TODAY: OnceLock<Date> = OnceLock::new();
    *TODAY.get_or_init(|| Timestamp::now().to_zoned_datetime(TimeZone::UTC).date())
}

/// The date `n` days after today (before it if `n` is negative).
pub fn day(n: i64) -> Date {
    today().checked_add(n.days()).unwrap()
}

/// Day `n` as the hub writes a date: `YYYY-MM-DD`.
pub fn day_text(n: i64) -> String {
    day(n).to_string()
}

/// The moment `hms` (`hh:mm:ss`, UTC) of day `n`.
pub fn time(n: i64, hms: &str) -> Timestamp {
    day(n)
        .to_datetime(hms.parse::<Time>().unwrap())
        .to_zoned_datetime(TimeZone::UTC)
        .unwrap()
        .timestamp()
}

/// The moment `hms` of day `n` as the hub writes a time: RFC 3339 in UTC, whole seconds without
/// a fraction (`…T06:00:00Z`).
pub fn stamp(n: i64, hms: &str) -> String {
    time(n, hms).to_string()
}
