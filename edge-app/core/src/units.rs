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
//!
//! **Figures from outside are checked.** An amount that would not fit in `i64` is an
//! [`AmountOutOfRange`], never a panic or a wrapped figure; sums and negations of figures that
//! came from a request or a message use the `checked_*` methods. The operators (`+`, `-`, unary
//! `-`) are for figures already known to lie within the ceilings below.

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

/// The ceilings of every figure, the same on both sides of the wire (see `sync_protocol`). A
/// pump's own amount above [`MAX_AMOUNT_WON`] is no pump's.
pub use sync_protocol::{MAX_AMOUNT_WON, MAX_UNIT_PRICE_WON, MAX_VOLUME_ML};

/// An amount that does not fit in `i64` won: the figures it was made of lie beyond any the ledger
/// accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{figures} comes to more won than an amount can hold")]
pub struct AmountOutOfRange {
    /// What was multiplied or added, e.g. `9223372036854775807 ml at 1650 won/L`.
    pub figures: String,
}

impl Won {
    pub const ZERO: Won = Won(0);

    pub fn get(self) -> i64 {
        self.0
    }

    /// `self + rhs`, or `None` when the sum does not fit in `i64`.
    pub fn checked_add(self, rhs: Won) -> Option<Won> {
        self.0.checked_add(rhs.0).map(Won)
    }

    /// `self - rhs`, or `None` when the difference does not fit in `i64`.
    pub fn checked_sub(self, rhs: Won) -> Option<Won> {
        self.0.checked_sub(rhs.0).map(Won)
    }
}

impl Millilitres {
    pub const ZERO: Millilitres = Millilitres(0);

    pub fn get(self) -> i64 {
        self.0
    }

    /// Whole litres and millilitres, e.g. `12345` ml is `12.345` L. For figures written in code;
    /// litres typed or received are read with [`FromStr`], which refuses what does not fit.
    pub fn from_litres(litres: i64) -> Millilitres {
        Millilitres(litres * 1000)
    }

    /// `self + rhs`, or `None` when the sum does not fit in `i64`.
    pub fn checked_add(self, rhs: Millilitres) -> Option<Millilitres> {
        self.0.checked_add(rhs.0).map(Millilitres)
    }

    /// `-self`, or `None` for `i64::MIN`, which has no opposite in `i64`.
    pub fn checked_neg(self) -> Option<Millilitres> {
        self.0.checked_neg().map(Millilitres)
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

/// The amount for a volume at a unit price per litre, rounded half up to the won; an
/// [`AmountOutOfRange`] when it does not fit in `i64` (never within the ceilings above).
pub fn amount_for_volume(volume: Millilitres, price: UnitPrice) -> Result<Won, AmountOutOfRange> {
    // Any two i64 multiply within i128, and ±500 on the product cannot overflow it either.
    let exact_milliwon = i128::from(volume.0) * i128::from(price.0);
    let won = if exact_milliwon >= 0 {
        (exact_milliwon + 500) / 1000
    } else {
        (exact_milliwon - 500) / 1000
    };
    i64::try_from(won).map(Won).map_err(|_| AmountOutOfRange {
        figures: format!("{} ml at {} won/L", volume.0, price.0),
    })
}

/// The amount for a number of pieces at a unit price per piece; an [`AmountOutOfRange`] when it
/// does not fit in `i64`.
pub fn amount_for_quantity(quantity: i64, price: UnitPrice) -> Result<Won, AmountOutOfRange> {
    quantity
        .checked_mul(price.0)
        .map(Won)
        .ok_or_else(|| AmountOutOfRange {
            figures: format!("{quantity} pieces at {} won each", price.0),
        })
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
                Ok(Won(won)),
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
        assert_eq!(
            amount_for_volume(Millilitres(MAX_VOLUME_ML), UnitPrice(MAX_UNIT_PRICE_WON)),
            Ok(Won(MAX_AMOUNT_WON))
        );
    }

    #[test]
    fn amounts_beyond_i64_are_refused_not_wrapped() {
        for (ml, price) in [
            (i64::MAX, i64::MAX),
            (i64::MIN, i64::MAX),
            (i64::MIN, i64::MIN),
            (i64::MAX, 1_001),
        ] {
            let refused = amount_for_volume(Millilitres(ml), UnitPrice(price)).unwrap_err();
            assert_eq!(
                refused.to_string(),
                format!("{ml} ml at {price} won/L comes to more won than an amount can hold")
            );
        }
        // The largest volume that still fits at 1,000 won/L is every millilitre of i64.
        assert_eq!(
            amount_for_volume(Millilitres(i64::MAX), UnitPrice(1_000)),
            Ok(Won(i64::MAX))
        );
        assert_eq!(
            amount_for_quantity(10_000, UnitPrice(MAX_UNIT_PRICE_WON)),
            Ok(Won(100_000_000_000))
        );
        assert!(amount_for_quantity(i64::MAX, UnitPrice(2)).is_err());
        assert!(amount_for_quantity(i64::MIN, UnitPrice(-1)).is_err());
    }

    #[test]
    fn checked_sums_and_negations_refuse_what_does_not_fit() {
        assert_eq!(Won(i64::MAX).checked_add(Won(1)), None);
        assert_eq!(Won(i64::MIN).checked_sub(Won(1)), None);
        assert_eq!(Won(5).checked_add(Won(-7)), Some(Won(-2)));
        assert_eq!(Won(5).checked_sub(Won(7)), Some(Won(-2)));
        assert_eq!(Millilitres(i64::MIN).checked_neg(), None);
        assert_eq!(
            Millilitres(i64::MAX).checked_neg(),
            Some(Millilitres(-i64::MAX))
        );
        assert_eq!(Millilitres(i64::MAX).checked_add(Millilitres(1)), None);
        assert_eq!(
            Millilitres(1).checked_add(Millilitres(2)),
            Some(Millilitres(3))
        );
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
