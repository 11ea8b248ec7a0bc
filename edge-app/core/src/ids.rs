//! Identifiers. Codes people type (station, product, user) are parsed once into newtypes;
//! records that cross to HQ get UUIDv7 ids made at the station, so it can work offline.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use uuid::Uuid;

/// Why an identifier could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {what}: {rule}")]
pub struct IdParseError {
    pub what: &'static str,
    pub input: String,
    pub rule: &'static str,
}

macro_rules! code_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $rule:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(input: &str) -> Result<Self, IdParseError> {
                let valid: fn(&str) -> bool = $valid;
                if valid(input) {
                    Ok($name(input.to_owned()))
                } else {
                    Err(IdParseError { what: $what, input: input.to_owned(), rule: $rule })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn is_code(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

code_id!(
    /// A station, e.g. `ST0001`.
    StationId,
    "station id",
    "1 to 16 capital letters and digits, starting with a letter (e.g. ST0001)",
    |s| is_code(s, 16) && s != sync_protocol::HUB_ORIGIN
);

code_id!(
    /// A product (fuel grade or shop item), e.g. `CD1001`.
    ProductId,
    "product id",
    "1 to 16 capital letters and digits, starting with a letter (e.g. CD1001)",
    |s| is_code(s, 16)
);

code_id!(
    /// A cashier's or manager's login, e.g. `kim` or `mgr01`.
    UserId,
    "user id",
    "1 to 32 lower-case letters, digits, '.', '-' or '_', starting with a letter",
    |s| !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
);

/// A tank's number at its station, 1 to 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TankNo(u16);

impl TankNo {
    pub fn new(number: u16) -> Result<TankNo, IdParseError> {
        if (1..=99).contains(&number) {
            Ok(TankNo(number))
        } else {
            Err(IdParseError {
                what: "tank number",
                input: number.to_string(),
                rule: "a number from 1 to 99",
            })
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl FromStr for TankNo {
    type Err = IdParseError;
    fn from_str(input: &str) -> Result<TankNo, IdParseError> {
        let error = || IdParseError {
            what: "tank number",
            input: input.to_owned(),
            rule: "a number from 1 to 99",
        };
        input
            .parse::<u16>()
            .map_err(|_| error())
            .and_then(|n| TankNo::new(n).map_err(|_| error()))
    }
}

impl fmt::Display for TankNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id, time-ordered by `now` (UUIDv7).
            pub fn generate(now: Timestamp) -> $name {
                $name(new_v7(now))
            }

            pub fn from_uuid(uuid: Uuid) -> $name {
                $name(uuid)
            }

            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(input: &str) -> Result<$name, IdParseError> {
                Uuid::parse_str(input).map($name).map_err(|_| IdParseError {
                    what: $what,
                    input: input.to_owned(),
                    rule: "a UUID such as 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A fuel order; the correlation key of the whole order → shipment → delivery flow.
    OrderId,
    "order id"
);
uuid_id!(
    /// HQ's dispatch of a truck for an order.
    ShipmentId,
    "shipment id"
);
uuid_id!(
    /// What a pump dispensed in one filling, waiting to be paid.
    FuelingId,
    "fueling id"
);
uuid_id!(
    /// A settled sale.
    SaleId,
    "sale id"
);
uuid_id!(
    /// A customer credit account.
    AccountId,
    "credit account id"
);
uuid_id!(
    /// A cashier's shift.
    ShiftId,
    "shift id"
);

/// A UUIDv7 whose time part is `now`, so ids sort by creation time without the core reading a
/// clock. The random part comes from the operating system.
pub(crate) fn new_v7(now: Timestamp) -> Uuid {
    let seconds = u64::try_from(now.as_second()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        seconds,
        now.subsec_nanosecond().unsigned_abs(),
    );
    Uuid::new_v7(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_their_rules() {
        assert!("ST0001".parse::<StationId>().is_ok());
        assert!("HQ".parse::<StationId>().is_err(), "HQ is the hub's origin");
        assert!("st0001".parse::<StationId>().is_err());
        assert!("".parse::<ProductId>().is_err());
        assert!("CD1001".parse::<ProductId>().is_ok());
        assert!("1CD".parse::<ProductId>().is_err());
        assert!("kim.minji".parse::<UserId>().is_ok());
        assert!("Kim".parse::<UserId>().is_err());
        assert!("0".parse::<TankNo>().is_err());
        assert!("100".parse::<TankNo>().is_err());
        assert_eq!("7".parse::<TankNo>().map(TankNo::get), Ok(7));
    }

    #[test]
    fn errors_name_the_problem() {
        let err = "x y".parse::<ProductId>().unwrap_err();
        assert!(err.to_string().contains("`x y` is not a valid product id"));
    }

    #[test]
    fn generated_ids_are_version_7_and_ordered_by_time() {
        let early = SaleId::generate(Timestamp::from_second(1_700_000_000).unwrap());
        let late = SaleId::generate(Timestamp::from_second(1_800_000_000).unwrap());
        assert_eq!(early.uuid().get_version_num(), 7);
        assert!(early < late);
    }
}
