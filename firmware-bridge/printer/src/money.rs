//! Integer money and volume, their receipt formatting and the one VAT rounding rule.

use std::fmt;

/// An amount in integer Korean won.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Won(pub u64);

/// A fuel volume in integer millilitres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millilitres(pub u64);

/// The VAT contained in a VAT-inclusive total at 10 %: `total * 10 / 110`, rounded half up.
///
/// This is the only rounding rule on a receipt. Integer arithmetic only: adding half the divisor
/// (55) before the integer division rounds a remainder of exactly one half upwards.
#[must_use]
pub fn vat_included(total: Won) -> Won {
    let numerator = u128::from(total.0) * 10 + 55;
    // The quotient is at most total / 11 + 1, so it always fits back into u64.
    Won(u64::try_from(numerator / 110).unwrap_or(u64::MAX))
}

impl fmt::Display for Won {
    /// Thousands separators, no unit: `1234567` → `1,234,567`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                out.push(',');
            }
            out.push(digit);
        }
        f.write_str(&out)
    }
}

impl fmt::Display for Millilitres {
    /// Litres with exactly three decimals: `30500` → `30.500`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_known_answers() {
        let cases = [
            (0, 0),
            (110, 10),
            (1_000, 91), // 90.909 → 91
            (55_000, 5_000),
            (50_005, 4_546), // 4545.909 → 4546
            (11, 1),
            (5, 0),       // 0.4545 → 0
            (6, 1),       // 0.5454 → 1
            (1_155, 105), // exactly 105.0
            (1_160, 105), // 105.4545 → 105
            (1_166, 106), // 106.0 exactly
            (1_160_500, 105_500),
        ];
        for (total, vat) in cases {
            assert_eq!(vat_included(Won(total)), Won(vat), "total {total}");
        }
    }

    #[test]
    fn vat_rounds_at_the_half_boundary() {
        // total * 10 is a multiple of 10 and 55 is not, so an exact half cannot occur; the
        // boundary is between remainders 50 (down) and 60 (up).
        assert_eq!(vat_included(Won(561)), Won(51)); // 5_610 = 110 * 51
        assert_eq!(vat_included(Won(566)), Won(51)); // remainder 50 → down
        assert_eq!(vat_included(Won(567)), Won(52)); // remainder 60 → up
        assert_eq!(vat_included(Won(u64::MAX)), Won(1_676_976_733_973_595_601));
    }

    #[test]
    fn won_thousands_separators() {
        let cases = [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1_000, "1,000"),
            (49_500, "49,500"),
            (123_456, "123,456"),
            (1_234_567, "1,234,567"),
        ];
        for (value, text) in cases {
            assert_eq!(Won(value).to_string(), text);
        }
    }

    #[test]
    fn millilitres_three_decimals() {
        assert_eq!(Millilitres(0).to_string(), "0.000");
        assert_eq!(Millilitres(5).to_string(), "0.005");
        assert_eq!(Millilitres(30_500).to_string(), "30.500");
        assert_eq!(Millilitres(1_234_567).to_string(), "1234.567");
    }
}
