//! The one boundary where the tank gauge's floating-point numbers become integers.
//!
//! TLS computer-format replies carry measurements as IEEE-754 single-precision floats written as
//! eight hex characters (Serial Interface Manual 576013-635, section 6.3 "ASCII floating point
//! format"). The project keeps quantities as integers, so every such float is converted here,
//! once, to integer thousandths of the console's unit: a console set up in litres gives
//! millilitres, one in millimetres gives micrometres.
//!
//! The conversion is exact integer arithmetic on the float's bits, not float arithmetic, so it
//! is the same on every machine and the workspace's `float_arithmetic` lint holds without an
//! exception. Rounding: to the nearest thousandth, halves away from zero (the rule a person
//! rounding a gauge reading by hand applies).

use std::fmt;

use thiserror::Error;

/// A measurement in thousandths of the console's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Thousandths(i64);

impl Thousandths {
    /// A value from a count of thousandths.
    #[must_use]
    pub const fn new(thousandths: i64) -> Self {
        Self(thousandths)
    }

    /// The count of thousandths (millilitres, for a console set up in litres).
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The value of an IEEE-754 single-precision float given by its bits.
    ///
    /// # Errors
    /// [`FloatError::NotFinite`] for infinities and NaN; [`FloatError::OutOfRange`] when the
    /// value in thousandths does not fit an `i64`.
    pub fn from_f32_bits(bits: u32) -> Result<Self, FloatError> {
        let negative = bits >> 31 == 1;
        let exponent = (bits >> 23) & 0xFF;
        let fraction = bits & 0x007F_FFFF;
        if exponent == 0xFF {
            return Err(FloatError::NotFinite { bits });
        }
        // value = mantissa × 2^power; subnormals (exponent 0) have no implicit leading 1.
        let (mantissa, power) = if exponent == 0 {
            (fraction, -149)
        } else {
            (
                fraction | 0x0080_0000,
                i32::try_from(exponent).unwrap_or(0) - 150,
            )
        };
        // Below 2^34, so every shift below stays inside u128.
        let scaled = u128::from(mantissa) * 1000;
        let magnitude = if power >= 0 {
            if power > 64 {
                return Err(FloatError::OutOfRange { bits });
            }
            scaled << power
        } else {
            let shift = power.unsigned_abs();
            if shift > 100 {
                0
            } else {
                let quotient = scaled >> shift;
                let remainder = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                quotient + u128::from(remainder >= half)
            }
        };
        let magnitude = i64::try_from(magnitude).map_err(|_| FloatError::OutOfRange { bits })?;
        Ok(Self(if negative { -magnitude } else { magnitude }))
    }

    /// Reads eight hex characters as float bits, as the TLS writes them.
    ///
    /// # Errors
    /// [`FloatError::NotHex`] unless `text` is exactly eight hex digits, and the errors of
    /// [`Thousandths::from_f32_bits`].
    pub fn from_hex_float(text: &str) -> Result<Self, FloatError> {
        if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(FloatError::NotHex {
                text: text.to_owned(),
            });
        }
        let bits = u32::from_str_radix(text, 16).map_err(|_| FloatError::NotHex {
            text: text.to_owned(),
        })?;
        Self::from_f32_bits(bits)
    }

    /// Reads a decimal number as printed in display-format reports ("1413.6", "-0.25").
    /// Digits past the third decimal are rounded by the rule above.
    ///
    /// # Errors
    /// [`FloatError::NotDecimal`] for anything else, or a value that does not fit.
    pub fn from_decimal_text(text: &str) -> Result<Self, FloatError> {
        let not_decimal = || FloatError::NotDecimal {
            text: text.to_owned(),
        };
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() && decimals.is_empty()
            || !all_digits(whole)
            || !all_digits(decimals)
            || whole.len() > 15
        {
            return Err(not_decimal());
        }
        let mut value: i64 = 0;
        for byte in whole.bytes() {
            value = value * 10 + i64::from(byte - b'0');
        }
        let mut fraction = decimals.bytes().map(|byte| i64::from(byte - b'0'));
        for _ in 0..3 {
            value = value * 10 + fraction.next().unwrap_or(0);
        }
        if fraction.next().is_some_and(|digit| digit >= 5) {
            value += 1;
        }
        Ok(Self(if negative { -value } else { value }))
    }
}

impl fmt::Display for Thousandths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}", magnitude / 1000, magnitude % 1000)
    }
}

/// A number in a reply that cannot be turned into [`Thousandths`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FloatError {
    /// Not eight hex characters.
    #[error("{text:?} is not an 8-character hex float")]
    NotHex {
        /// The text.
        text: String,
    },
    /// Infinity or NaN: the gauge has no valid reading.
    #[error("float {bits:08X} is not a finite number")]
    NotFinite {
        /// The bits.
        bits: u32,
    },
    /// Too large to be a tank measurement.
    #[error("float {bits:08X} is out of range")]
    OutOfRange {
        /// The bits.
        bits: u32,
    },
    /// Not a decimal number.
    #[error("{text:?} is not a decimal number")]
    NotDecimal {
        /// The text.
        text: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> i64 {
        Thousandths::from_hex_float(text).unwrap().get()
    }

    #[test]
    fn known_floats() {
        assert_eq!(hex("00000000"), 0);
        assert_eq!(hex("80000000"), 0, "negative zero");
        assert_eq!(hex("3F800000"), 1000, "1.0");
        assert_eq!(hex("42C80000"), 100_000, "100.0");
        assert_eq!(hex("C2C80000"), -100_000, "-100.0");
        assert_eq!(hex("461C4000"), 10_000_000, "10000.0");
        assert_eq!(hex("3DCCCCCD"), 100, "0.1f is 0.100000001…");
        assert_eq!(hex("45E3D666"), 7_290_800, "7290.8f is 7290.7998…");
        assert_eq!(hex("00000001"), 0, "the smallest subnormal rounds to 0");
        // 0.0005 is not exact in binary; 0.0625 is, and shows rounding of halves: 62.5 → 63.
        assert_eq!(hex("3D800000"), 63, "0.0625");
        assert_eq!(hex("BD800000"), -63, "-0.0625");
        assert_eq!(
            hex("3a800000"),
            1,
            "lower-case hex, 2^-10 = 0.9765625 thousandths"
        );
    }

    #[test]
    fn rejects_what_is_no_measurement() {
        assert_eq!(
            Thousandths::from_hex_float("7F800000"),
            Err(FloatError::NotFinite { bits: 0x7F80_0000 })
        );
        assert!(Thousandths::from_hex_float("7FC00000").is_err(), "NaN");
        assert_eq!(
            Thousandths::from_hex_float("7F7FFFFF"),
            Err(FloatError::OutOfRange { bits: 0x7F7F_FFFF })
        );
        assert!(
            Thousandths::from_hex_float("4280000").is_err(),
            "seven characters"
        );
        assert!(Thousandths::from_hex_float("4280000G").is_err());
        assert!(Thousandths::from_hex_float("+2800000").is_err());
    }

    #[test]
    fn decimal_text() {
        let parse = |text| Thousandths::from_decimal_text(text).map(Thousandths::get);
        assert_eq!(parse("1413.6"), Ok(1_413_600));
        assert_eq!(parse("15033"), Ok(15_033_000));
        assert_eq!(parse("0.00"), Ok(0));
        assert_eq!(parse("-0.25"), Ok(-250));
        assert_eq!(parse("1.2345"), Ok(1235), "halves away from zero");
        assert_eq!(parse("1.2344"), Ok(1234));
        assert_eq!(parse(".5"), Ok(500));
        assert!(parse("").is_err());
        assert!(parse(".").is_err());
        assert!(parse("1.2.3").is_err());
        assert!(parse("12a").is_err());
        assert!(parse("9999999999999999").is_err());
        assert_eq!(Thousandths::new(-1250).to_string(), "-1.250");
    }

    proptest::proptest! {
        /// Checks the integer conversion against float arithmetic, which is exact here: an f32
        /// has 24 significant bits and 1000 needs 10, so the product fits an f64's 53 bits, and
        /// `round` rounds halves away from zero, as we do. Floats are only the oracle.
        #[test]
        #[allow(clippy::float_arithmetic, clippy::cast_possible_truncation)]
        fn matches_float_arithmetic(bits in proptest::prelude::any::<u32>()) {
            let value = f64::from(f32::from_bits(bits));
            proptest::prop_assume!(value.is_finite() && value.abs() < 1e15);
            let expected = (value * 1000.0).round() as i64;
            proptest::prop_assert_eq!(Thousandths::from_f32_bits(bits).map(Thousandths::get), Ok(expected));
        }
    }
}
