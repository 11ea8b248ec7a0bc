//! Money, volume and price as integers, and the one rounding rule that joins them.
//!
//! - [`Won`]: Korean won, whole won (the won has no minor unit in use).
//! - [`Millilitres`]: fuel volume. A litre is 1,000 ml; pumps and gauges report to the millilitre
//!   or coarser, so no volume ever needs a fraction of a millilitre.
//! - [`UnitPrice`]: won per litre for fuel, won per piece for shop items.
//!
//! **The rounding rule.** Volume × price is the only product that does not land on a whole won.
//! [`amount_for_volume`] rounds it half up to the won (exact halves go up): 30.005 L at 1,650
//! won/L is 49,508.25 won → 49,508 won; 0.5 won → 1 won. All arithmetic is in `i128`, so no
//! intermediate overflows. Nothing else in the station rounds money.

use std::fmt;
use std::str::FromStr;

/// An amount of money in whole won. May be negative (a refund, a shortfall).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Won(pub i64);

/// A fuel volume in millilitres. May be negative (a stock flow out of a tank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millilitres(pub i64);

/// Won per litre (fuel) or won per piece (shop items). Always positive once in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitPrice(pub i64);

/// The largest volume or quantity any single figure may hold: 10 million litres. Far above any
/// tank or truck, and low enough that every product with a price fits in `i64` won.
pub const MAX_VOLUME_ML: i64 = 10_000_000_000;
/// The largest unit price accepted: 10 million won per litre or piece.
pub const MAX_UNIT_PRICE_WON: i64 = 10_000_000;

impl Won {
    pub const ZERO: Won = Won(0);

    pub fn get(self) -> i64 {
        self.0
    }
}

impl Millilitres {
    pub const ZERO: Millilitres = Millilitres(0);

    pub fn get(self) -> i64 {
        self.0
    }

    /// Whole litres and millilitres, e.g. `12345` ml is `12.345` L.
    pub fn from_litres(litres: i64) -> Millilitres {
        Millilitres(litres * 1000)
    }
}

impl UnitPrice {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::ops::Add for Won {
    type Output = Won;
    fn add(self, rhs: Won) -> Won {
        Won(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Won {
    type Output = Won;
    fn sub(self, rhs: Won) -> Won {
        Won(self.0 - rhs.0)
    }
}

impl std::ops::Neg for Millilitres {
    type Output = Millilitres;
    fn neg(self) -> Millilitres {
        Millilitres(-self.0)
    }
}

/// The amount for a volume at a unit price per litre, rounded half up to the won.
pub fn amount_for_volume(volume: Millilitres, price: UnitPrice) -> Won {
    let exact_milliwon = i128::from(volume.0) * i128::from(price.0);
    let won = if exact_milliwon >= 0 {
        (exact_milliwon + 500) / 1000
    } else {
        (exact_milliwon - 500) / 1000
    };
    Won(i64::try_from(won).expect("volume and price bounds keep amounts within i64"))
}

/// The amount for a number of pieces at a unit price per piece.
pub fn amount_for_quantity(quantity: i64, price: UnitPrice) -> Won {
    Won(quantity * price.0)
}

/// The VAT (10%) contained in a VAT-inclusive total: `total / 11`, rounded half up to the won.
pub fn vat_included_in(total: Won) -> Won {
    let t = i128::from(total.0);
    let vat = if t >= 0 {
        (t * 2 + 11) / 22
    } else {
        (t * 2 - 11) / 22
    };
    Won(i64::try_from(vat).expect("VAT is smaller than its total"))
}

/// Why a litre figure could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a volume in litres with at most three decimals (e.g. 30 or 30.125)")]
pub struct VolumeParseError {
    pub input: String,
}

impl FromStr for Millilitres {
    type Err = VolumeParseError;

    /// Reads litres written as a decimal, e.g. `30`, `30.5`, `-12.125`, exactly, with no float.
    fn from_str(input: &str) -> Result<Millilitres, VolumeParseError> {
        let error = || VolumeParseError {
            input: input.to_owned(),
        };
        let text = input.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 3 {
            return Err(error());
        }
        let whole: i64 = whole.parse().map_err(|_| error())?;
        let fraction_ml: i64 = format!("{fraction:0<3}").parse().map_err(|_| error())?;
        let ml = whole
            .checked_mul(1000)
            .and_then(|ml| ml.checked_add(fraction_ml))
            .filter(|ml| *ml <= MAX_VOLUME_ML)
            .ok_or_else(error)?;
        Ok(Millilitres(if negative { -ml } else { ml }))
    }
}

impl fmt::Display for Millilitres {
    /// Litres with three decimals, e.g. `30.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}

impl fmt::Display for Won {
    /// Won with thousands separators, e.g. `49,508`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{grouped}")
    }
}

impl fmt::Display for UnitPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Won(self.0).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up_to_the_won() {
        let check = |ml, price, won| {
            assert_eq!(
                amount_for_volume(Millilitres(ml), UnitPrice(price)),
                Won(won),
                "{ml} ml at {price} won/L"
            );
        };
        check(30_000, 1650, 49_500);
        check(30_005, 1650, 49_508); // 49,508.25
        check(1, 500, 1); // 0.5 → 1
        check(1, 499, 0); // 0.499 → 0
        check(3, 1500, 5); // 4.5 → 5
        check(-3, 1500, -5); // a refund mirrors the sale
        check(0, 1650, 0);
        check(MAX_VOLUME_ML, MAX_UNIT_PRICE_WON, 100_000_000_000_000);
    }

    #[test]
    fn vat_is_one_eleventh_of_an_inclusive_total() {
        assert_eq!(vat_included_in(Won(11_000)), Won(1_000));
        assert_eq!(vat_included_in(Won(49_508)), Won(4_501)); // 4,500.7
        assert_eq!(vat_included_in(Won(55)), Won(5));
        assert_eq!(vat_included_in(Won(0)), Won(0));
    }

    #[test]
    fn litres_parse_exactly() {
        let ok = |s: &str, ml| assert_eq!(s.parse::<Millilitres>(), Ok(Millilitres(ml)), "{s}");
        ok("30", 30_000);
        ok("30.5", 30_500);
        ok("30.125", 30_125);
        ok("0.001", 1);
        ok("-12.25", -12_250);
        ok(" 7 ", 7_000);
        for bad in [
            "",
            ".5",
            "1.2345",
            "1e3",
            "abc",
            "1,000",
            "--1",
            "99999999999",
        ] {
            assert!(
                bad.parse::<Millilitres>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn display_is_litres_and_grouped_won() {
        assert_eq!(Millilitres(30_125).to_string(), "30.125");
        assert_eq!(Millilitres(-5).to_string(), "-0.005");
        assert_eq!(Won(1_234_567).to_string(), "1,234,567");
        assert_eq!(Won(-1_000).to_string(), "-1,000");
        assert_eq!(Won(999).to_string(), "999");
    }
}
