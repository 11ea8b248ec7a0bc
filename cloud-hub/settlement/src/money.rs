//! The one rounding rule: integer division rounded half up to the won on the magnitude (half
//! away from zero), so that a cancellation takes back exactly what its sale gave.

/// `numerator / denominator` rounded half away from zero; `denominator` must be positive.
/// Saturates at the ends of `i64` (never reached by won and millilitres within the ceilings
/// of the sync protocol).
pub fn round_div(numerator: i128, denominator: i128) -> i64 {
    debug_assert!(denominator > 0);
    let half = denominator / 2;
    let rounded = if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        (numerator - half) / denominator
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// Commission on a volume at a rate in won per litre.
pub fn per_litre(volume_ml: i64, won_per_litre: i64) -> i64 {
    round_div(i128::from(volume_ml) * i128::from(won_per_litre), 1000)
}

/// A share in basis points (1/100 of a percent) of an amount.
pub fn share(amount_won: i64, basis_points: i64) -> i64 {
    round_div(i128::from(amount_won) * i128::from(basis_points), 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_away_from_zero_and_the_rest_to_the_nearest() {
        assert_eq!(per_litre(1_500, 1), 2); // 1.5 won
        assert_eq!(per_litre(-1_500, 1), -2);
        assert_eq!(per_litre(1_499, 1), 1);
        assert_eq!(per_litre(-1_499, 1), -1);
        assert_eq!(per_litre(2_500, 35), 88); // 87.5
        assert_eq!(share(12_345, 250), 309); // 308.625
        assert_eq!(share(-12_345, 250), -309);
        assert_eq!(share(2, 2_500), 1); // 0.5
        assert_eq!(round_div(0, 7), 0);
    }

    #[test]
    fn a_reversal_takes_back_exactly_what_was_given() {
        for volume in [1, 499, 500, 501, 2_500, 39_999, 1_234_567] {
            for rate in [1, 7, 35, 60, 999] {
                assert_eq!(per_litre(-volume, rate), -per_litre(volume, rate));
            }
        }
    }
}
