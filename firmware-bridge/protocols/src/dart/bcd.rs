//! Packed BCD, the number format of DART application fields: two decimal digits per byte, most
//! significant first (Dart Pump Interface, section 3 "Transactions", data formats).

use thiserror::Error;

/// A BCD field that could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BcdError {
    /// A nibble above 9.
    #[error("byte {byte:02X}H is not packed BCD")]
    NotBcd {
        /// The offending byte.
        byte: u8,
    },
    /// The value has more digits than the field holds.
    #[error("{value} does not fit in {digits} BCD digits")]
    TooLarge {
        /// The value.
        value: u64,
        /// Digits the field holds.
        digits: usize,
    },
}

/// Reads a packed BCD field of up to 8 bytes (16 digits, which always fits a `u64`).
///
/// # Errors
/// [`BcdError::NotBcd`] for a nibble above 9, [`BcdError::TooLarge`] for a field over 8 bytes.
pub fn decode(bytes: &[u8]) -> Result<u64, BcdError> {
    if bytes.len() > 8 {
        return Err(BcdError::TooLarge {
            value: u64::MAX,
            digits: bytes.len() * 2,
        });
    }
    bytes.iter().try_fold(0u64, |value, &byte| {
        let (high, low) = (byte >> 4, byte & 0x0F);
        if high > 9 || low > 9 {
            return Err(BcdError::NotBcd { byte });
        }
        Ok(value * 100 + u64::from(high) * 10 + u64::from(low))
    })
}

/// Writes `value` as a packed BCD field of `N` bytes.
///
/// # Errors
/// [`BcdError::TooLarge`] if `value` needs more than `2 * N` digits.
pub fn encode<const N: usize>(value: u64) -> Result<[u8; N], BcdError> {
    let mut out = [0u8; N];
    let mut rest = value;
    for byte in out.iter_mut().rev() {
        let low = rest % 10;
        let high = (rest / 10) % 10;
        rest /= 100;
        *byte = u8::try_from(high << 4 | low).unwrap_or_default();
    }
    if rest == 0 {
        Ok(out)
    } else {
        Err(BcdError::TooLarge {
            value,
            digits: 2 * N,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // Captured DC2: volume 00 00 04 28 and amount 00 00 34 77.
        assert_eq!(decode(&[0x00, 0x00, 0x04, 0x28]), Ok(428));
        assert_eq!(decode(&[0x00, 0x00, 0x34, 0x77]), Ok(3477));
        assert_eq!(encode::<3>(8123), Ok([0x00, 0x81, 0x23]));
        assert_eq!(encode::<4>(99_999_999), Ok([0x99; 4]));
        assert_eq!(decode(&[]), Ok(0));
    }

    #[test]
    fn rejects_bad_nibbles_and_overflow() {
        assert_eq!(decode(&[0x1A]), Err(BcdError::NotBcd { byte: 0x1A }));
        assert_eq!(decode(&[0xA1]), Err(BcdError::NotBcd { byte: 0xA1 }));
        assert_eq!(
            encode::<3>(1_000_000),
            Err(BcdError::TooLarge {
                value: 1_000_000,
                digits: 6
            })
        );
        assert!(decode(&[0; 9]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn round_trips(value in 0u64..10_000_000_000) {
            proptest::prop_assert_eq!(decode(&encode::<5>(value).unwrap()), Ok(value));
        }
    }
}
