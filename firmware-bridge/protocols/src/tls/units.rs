//! The console's volume unit: how the console says it, which one is booked, and the one
//! conversion of the console's volumes to integer millilitres.
//!
//! A console is set up in litres, US gallons or imperial gallons, and reports every volume in
//! that unit with no label in computer format. The station books millilitres, so every volume
//! read from a console passes through [`VolumeUnit::to_millilitres`], once, here.
//!
//! **How the console's numbers become exact integers.** Nothing here uses floating point:
//!
//! 1. The console's own value is first made an exact count of thousandths of its unit
//!    ([`Thousandths`]): a computer-format IEEE-754 float by integer arithmetic on its bits
//!    ([`Thousandths::from_f32_bits`]), a display-format decimal such as `1413.6` digit by digit
//!    ([`Thousandths::from_decimal_text`]); both round to the nearest thousandth, halves away
//!    from zero, and refuse what does not fit an `i64`.
//! 2. [`VolumeUnit::to_millilitres`] multiplies that count by the unit's exact size in
//!    nanolitres (a fixed-point value with nine decimals of a millilitre: the US gallon is
//!    exactly 231 in³ = 3.785411784 L, the imperial gallon exactly 4.54609 L), in `i128`, and
//!    divides by 10⁹. **Rounding rule:** to the nearest millilitre, halves away from zero. A
//!    result that does not fit an `i64` is refused with [`VolumeError::OutOfRange`]; every step
//!    is checked, because the numbers come from the wire.
//!
//! **Which unit is booked** ([`decide_volume_unit`]): what the console reports — its
//! system-units setting in computer format ([`parse_system_units`]), or the unit labels of a
//! display-format report ([`volume_unit_of_label_line`]) — wins over the station's setting;
//! the setting holds when the console says nothing; litres when neither says.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::float::Thousandths;
use super::message::ReplyError;
use super::reports::GaugeTime;

/// A volume in millilitres, the station's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millilitres(i64);

impl Millilitres {
    /// A volume from a count of millilitres.
    #[must_use]
    pub const fn new(millilitres: i64) -> Self {
        Self(millilitres)
    }

    /// Whole litres.
    #[must_use]
    pub const fn litres(litres: i64) -> Self {
        Self(litres * 1000)
    }

    /// The count of millilitres.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Millilitres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} L", Thousandths::new(self.0))
    }
}

/// The unit a console measures volumes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolumeUnit {
    /// Litres (a metric console).
    Litre,
    /// US gallons, 3.785411784 L.
    UsGallon,
    /// Imperial gallons, 4.54609 L.
    ImperialGallon,
}

impl VolumeUnit {
    /// Every unit, in the order the settings list them.
    pub const ALL: [Self; 3] = [Self::Litre, Self::UsGallon, Self::ImperialGallon];

    /// The unit's exact size in nanolitres (10⁻⁹ L, 10⁻⁶ mL).
    const fn nanolitres(self) -> i128 {
        match self {
            Self::Litre => 1_000_000_000,
            Self::UsGallon => 3_785_411_784,
            Self::ImperialGallon => 4_546_090_000,
        }
    }

    /// **The** conversion of a console's volume to millilitres: `volume` is in thousandths of
    /// this unit; the result is rounded to the nearest millilitre, halves away from zero (see
    /// the module documentation). A thousandth of a US gallon is 3.785411784 mL, so
    /// `0.001 gal` books 4 mL and `5547.613 gal` books 21 000 000 mL (20 999 999.623…).
    ///
    /// # Errors
    /// [`VolumeError::OutOfRange`] when the millilitres do not fit an `i64`.
    pub fn to_millilitres(self, volume: Thousandths) -> Result<Millilitres, VolumeError> {
        let out_of_range = || VolumeError::OutOfRange { volume, unit: self };
        // thousandths × nL per unit / 10⁹ = thousandths × (nL per unit / 1000) / 10⁶ = mL.
        let scaled = i128::from(volume.get())
            .checked_mul(self.nanolitres())
            .ok_or_else(out_of_range)?;
        let millilitres = divide_rounded(scaled, 1_000_000_000).ok_or_else(out_of_range)?;
        i64::try_from(millilitres)
            .map(Millilitres)
            .map_err(|_| out_of_range())
    }

    /// The inverse, for encoders such as a simulated console: millilitres as thousandths of
    /// this unit, rounded to the nearest thousandth, halves away from zero.
    ///
    /// # Errors
    /// [`VolumeError::OutOfRange`] when the thousandths do not fit an `i64`.
    pub fn from_millilitres(self, volume: Millilitres) -> Result<Thousandths, VolumeError> {
        let out_of_range = || VolumeError::OutOfRange {
            volume: Thousandths::new(volume.get()),
            unit: self,
        };
        let scaled = i128::from(volume.get())
            .checked_mul(1_000_000_000)
            .ok_or_else(out_of_range)?;
        let thousandths = divide_rounded(scaled, self.nanolitres()).ok_or_else(out_of_range)?;
        i64::try_from(thousandths)
            .map(Thousandths::new)
            .map_err(|_| out_of_range())
    }

    /// The name used in settings and logs: `litre`, `us-gallon`, `imperial-gallon`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Litre => "litre",
            Self::UsGallon => "us-gallon",
            Self::ImperialGallon => "imperial-gallon",
        }
    }
}

impl fmt::Display for VolumeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VolumeUnit {
    type Err = UnknownVolumeUnit;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|unit| unit.as_str() == text)
            .ok_or_else(|| UnknownVolumeUnit(text.to_owned()))
    }
}

/// A unit name that is none of [`VolumeUnit::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0:?} is not a volume unit: use litre, us-gallon or imperial-gallon")]
pub struct UnknownVolumeUnit(pub String);

/// A console volume that cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VolumeError {
    /// The value, converted, does not fit the station's integers.
    #[error("a volume of {volume} {unit} is out of range")]
    OutOfRange {
        /// The console's value, in thousandths of `unit` (millilitres when converting back).
        volume: Thousandths,
        /// The unit.
        unit: VolumeUnit,
    },
}

impl VolumeError {
    /// A stable code for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::OutOfRange { .. } => "tls.volume_out_of_range",
        }
    }
}

/// Where the unit being booked comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitSource {
    /// The console said so.
    Gauge,
    /// The station's setting; the console did not say.
    Setting,
    /// Neither said: litres, the unit of a metric console.
    Default,
}

/// The unit to book a console's volumes in, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitDecision {
    /// The unit.
    pub unit: VolumeUnit,
    /// Where it comes from.
    pub source: UnitSource,
    /// The setting, when the console reported another unit and overruled it.
    pub overruled_setting: Option<VolumeUnit>,
}

/// The console's word wins over the station's setting; the setting holds when the console says
/// nothing; litres when neither says.
#[must_use]
pub fn decide_volume_unit(
    reported: Option<VolumeUnit>,
    setting: Option<VolumeUnit>,
) -> UnitDecision {
    match (reported, setting) {
        (Some(unit), setting) => UnitDecision {
            unit,
            source: UnitSource::Gauge,
            overruled_setting: setting.filter(|&set| set != unit),
        },
        (None, Some(unit)) => UnitDecision {
            unit,
            source: UnitSource::Setting,
            overruled_setting: None,
        },
        (None, None) => UnitDecision {
            unit: VolumeUnit::Litre,
            source: UnitSource::Default,
            overruled_setting: None,
        },
    }
}

/// The console's system-units setting, as its computer-format inquiry reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemUnitsReport {
    /// When the console answered.
    pub time: GaugeTime,
    /// Its volume unit.
    pub volume_unit: VolumeUnit,
}

/// Reads the data of a system-units computer-format reply (the text after `i50500`):
///
/// ```text
/// YYMMDDHHmm u        u: 1 = U.S. (gallons), 2 = metric (litres), 3 = imperial gallons
/// ```
///
/// The layout is that of the manual's one-flag setup inquiries (date and time, then one flag
/// character); anything else — another length, another flag — is refused rather than guessed,
/// and the caller keeps its setting.
///
/// # Errors
/// [`ReplyError::Truncated`], [`ReplyError::BadField`] or [`ReplyError::TrailingData`].
pub fn parse_system_units(data: &str) -> Result<SystemUnitsReport, ReplyError> {
    let time = super::reports::read_time(data, "report time")?;
    let rest = data.get(10..).unwrap_or_default();
    let mut flag = rest.chars();
    let volume_unit = match flag.next() {
        Some('1') => VolumeUnit::UsGallon,
        Some('2') => VolumeUnit::Litre,
        Some('3') => VolumeUnit::ImperialGallon,
        Some(other) => {
            return Err(ReplyError::BadField {
                field: "system units",
                text: other.to_string(),
            });
        }
        None => {
            return Err(ReplyError::Truncated {
                field: "system units",
                at: data.len(),
            });
        }
    };
    let trailing = flag.as_str().len();
    if trailing > 0 {
        return Err(ReplyError::TrailingData { count: trailing });
    }
    Ok(SystemUnitsReport { time, volume_unit })
}

/// Reads the unit labels under a display-format table's column header, for instance
///
/// ```text
/// TANK PRODUCT             VOLUME TC VOLUME   ULLAGE   HEIGHT    WATER     TEMP
///                         GALLONS   GALLONS  GALLONS   INCHES   INCHES    DEG F
/// ```
///
/// `Ok(None)` when the line holds no volume label (it may be the first row of a table printed
/// without labels); `Ok(Some(unit))` when every volume label on it names `unit`. Recognised:
/// `LITERS`/`LITRES`/`LITER`/`LITRE`/`LTRS`; `GALLONS`/`GALLON`/`GALS`/`GAL` (US); the same
/// after `IMP`/`IMPERIAL`, or `IMP.GAL`, for imperial gallons. Case does not matter.
///
/// # Errors
/// [`ReplyError::BadField`] when the labels name two different volume units.
pub fn volume_unit_of_label_line(line: &str) -> Result<Option<VolumeUnit>, ReplyError> {
    let words: Vec<String> = line
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let mut found: Option<VolumeUnit> = None;
    let mut imperial = false;
    for word in &words {
        let unit = match word.trim_end_matches('.') {
            "LITERS" | "LITRES" | "LITER" | "LITRE" | "LTRS" | "LTR" => Some(VolumeUnit::Litre),
            "GALLONS" | "GALLON" | "GALS" | "GAL" if imperial => Some(VolumeUnit::ImperialGallon),
            "GALLONS" | "GALLON" | "GALS" | "GAL" => Some(VolumeUnit::UsGallon),
            "IMP.GAL" | "IMP.GALLONS" | "IMPGAL" => Some(VolumeUnit::ImperialGallon),
            _ => None,
        };
        imperial = matches!(word.as_str(), "IMP" | "IMP." | "IMPERIAL");
        if let Some(unit) = unit {
            match found {
                Some(earlier) if earlier != unit => {
                    return Err(ReplyError::BadField {
                        field: "volume unit labels",
                        text: line.trim().to_owned(),
                    });
                }
                _ => found = Some(unit),
            }
        }
    }
    Ok(found)
}

/// `numerator / denominator` rounded to the nearest integer, halves away from zero; `None` when
/// `denominator` is not positive.
fn divide_rounded(numerator: i128, denominator: i128) -> Option<i128> {
    if denominator <= 0 {
        return None;
    }
    let quotient = numerator.checked_div(denominator)?;
    let remainder = numerator.checked_rem(denominator)?;
    // |remainder| ≥ denominator / 2, written without dividing: 2 |r| ≥ d.
    let round_away = remainder.unsigned_abs().checked_mul(2)? >= denominator.unsigned_abs();
    if !round_away {
        return Some(quotient);
    }
    if numerator < 0 {
        quotient.checked_sub(1)
    } else {
        quotient.checked_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ml(unit: VolumeUnit, thousandths: i64) -> Result<i64, VolumeError> {
        unit.to_millilitres(Thousandths::new(thousandths))
            .map(Millilitres::get)
    }

    #[test]
    fn litres_are_millilitres_unchanged() {
        assert_eq!(ml(VolumeUnit::Litre, 7_290_800), Ok(7_290_800));
        assert_eq!(ml(VolumeUnit::Litre, -250), Ok(-250));
        assert_eq!(ml(VolumeUnit::Litre, i64::MAX), Ok(i64::MAX));
        assert_eq!(ml(VolumeUnit::Litre, i64::MIN), Ok(i64::MIN));
    }

    #[test]
    fn gallons_exact_values() {
        // 1 US gal = 231 in³ × 16.387064 cm³ = 3785.411784 mL exactly.
        assert_eq!(ml(VolumeUnit::UsGallon, 1_000), Ok(3_785));
        assert_eq!(
            ml(VolumeUnit::UsGallon, 1_000_000),
            Ok(3_785_412),
            "1000 gal"
        );
        // 125 000 gal = 473 176 473 mL exactly (3785.411784 × 125 000).
        assert_eq!(ml(VolumeUnit::UsGallon, 125_000_000), Ok(473_176_473));
        // 1 imperial gallon = 4.54609 L exactly.
        assert_eq!(ml(VolumeUnit::ImperialGallon, 1_000), Ok(4_546));
        assert_eq!(ml(VolumeUnit::ImperialGallon, 1_000_000), Ok(4_546_090));
        assert_eq!(ml(VolumeUnit::ImperialGallon, -2_000), Ok(-9_092));
    }

    #[test]
    fn rounding_is_to_the_nearest_millilitre_halves_away_from_zero() {
        // 0.001 gal = 3.785411784 mL → 4; 0.0005 would be a half, but thousandths are integers.
        assert_eq!(ml(VolumeUnit::UsGallon, 1), Ok(4));
        assert_eq!(ml(VolumeUnit::UsGallon, -1), Ok(-4));
        // 5547.613 gal = 20 999 999.623 271 592 mL → 21 000 000.
        assert_eq!(ml(VolumeUnit::UsGallon, 5_547_613), Ok(21_000_000));
        // 3170.065 gal = 12 000 001.407… mL → 12 000 001; 3170.064 gal = 11 999 997.621… mL
        // → 11 999 998.
        assert_eq!(ml(VolumeUnit::UsGallon, 3_170_065), Ok(12_000_001));
        assert_eq!(ml(VolumeUnit::UsGallon, 3_170_064), Ok(11_999_998));
        // An exact half: 62 500 gal = 236 588 236.5 mL → 236 588 237, and away from zero below.
        assert_eq!(ml(VolumeUnit::UsGallon, 62_500_000), Ok(236_588_237));
        assert_eq!(ml(VolumeUnit::UsGallon, -62_500_000), Ok(-236_588_237));
        // The rounding step itself.
        assert_eq!(divide_rounded(15, 10), Some(2));
        assert_eq!(divide_rounded(-15, 10), Some(-2));
        assert_eq!(divide_rounded(14, 10), Some(1));
        assert_eq!(divide_rounded(-14, 10), Some(-1));
        assert_eq!(divide_rounded(5, 10), Some(1));
        assert_eq!(divide_rounded(-5, 10), Some(-1));
        assert_eq!(divide_rounded(4, 10), Some(0));
        assert_eq!(divide_rounded(1, 0), None);
        assert_eq!(divide_rounded(1, -1), None);
        assert_eq!(divide_rounded(i128::MIN, 1), Some(i128::MIN));
    }

    #[test]
    fn overflow_is_refused_with_a_clear_error() {
        let error = VolumeUnit::UsGallon
            .to_millilitres(Thousandths::new(i64::MAX))
            .unwrap_err();
        assert_eq!(
            error,
            VolumeError::OutOfRange {
                volume: Thousandths::new(i64::MAX),
                unit: VolumeUnit::UsGallon
            }
        );
        assert_eq!(error.code(), "tls.volume_out_of_range");
        assert!(
            error.to_string().contains("out of range") && error.to_string().contains("us-gallon"),
            "{error}"
        );
        assert!(ml(VolumeUnit::ImperialGallon, i64::MIN).is_err());
        // The largest US-gallon count that still fits: i64::MAX mL is 2 436 543 … gal.
        let largest = i64::MAX / 3_786 * 1000;
        assert!(ml(VolumeUnit::UsGallon, largest).is_ok());
        assert!(
            VolumeUnit::Litre
                .from_millilitres(Millilitres::new(i64::MAX))
                .is_ok()
        );
    }

    #[test]
    fn back_and_forth_for_encoders() {
        let gallons = VolumeUnit::UsGallon
            .from_millilitres(Millilitres::litres(21_000))
            .unwrap();
        assert_eq!(gallons, Thousandths::new(5_547_613), "5547.613099… gal");
        assert_eq!(
            VolumeUnit::ImperialGallon.from_millilitres(Millilitres::new(4_546_090)),
            Ok(Thousandths::new(1_000_000))
        );
    }

    #[test]
    fn names_and_parsing() {
        for unit in VolumeUnit::ALL {
            assert_eq!(unit.as_str().parse::<VolumeUnit>(), Ok(unit));
            assert_eq!(unit.to_string(), unit.as_str());
        }
        let error = "gallon".parse::<VolumeUnit>().unwrap_err();
        assert!(error.to_string().contains("us-gallon"), "{error}");
    }

    #[test]
    fn the_gauge_wins_over_the_setting() {
        assert_eq!(
            decide_volume_unit(Some(VolumeUnit::UsGallon), Some(VolumeUnit::Litre)),
            UnitDecision {
                unit: VolumeUnit::UsGallon,
                source: UnitSource::Gauge,
                overruled_setting: Some(VolumeUnit::Litre),
            }
        );
        assert_eq!(
            decide_volume_unit(Some(VolumeUnit::Litre), Some(VolumeUnit::Litre)).overruled_setting,
            None
        );
        assert_eq!(
            decide_volume_unit(None, Some(VolumeUnit::ImperialGallon)),
            UnitDecision {
                unit: VolumeUnit::ImperialGallon,
                source: UnitSource::Setting,
                overruled_setting: None,
            }
        );
        assert_eq!(
            decide_volume_unit(None, None).source,
            UnitSource::Default,
            "litres"
        );
    }

    #[test]
    fn reads_the_system_units_reply() {
        let report = parse_system_units("24031508301").unwrap();
        assert_eq!(report.volume_unit, VolumeUnit::UsGallon);
        assert_eq!(report.time.minute, 30);
        assert_eq!(
            parse_system_units("24031508302").map(|r| r.volume_unit),
            Ok(VolumeUnit::Litre)
        );
        assert_eq!(
            parse_system_units("24031508303").map(|r| r.volume_unit),
            Ok(VolumeUnit::ImperialGallon)
        );
        assert!(matches!(
            parse_system_units("2403150830"),
            Err(ReplyError::Truncated { .. })
        ));
        assert!(matches!(
            parse_system_units("24031508309"),
            Err(ReplyError::BadField { .. })
        ));
        assert_eq!(
            parse_system_units("240315083010"),
            Err(ReplyError::TrailingData { count: 1 })
        );
        assert!(parse_system_units("2413150830é").is_err());
        assert!(parse_system_units("").is_err());
    }

    #[test]
    fn reads_unit_labels() {
        let read = volume_unit_of_label_line;
        assert_eq!(
            read("                 GALLONS   GALLONS  GALLONS   INCHES   INCHES    DEG F"),
            Ok(Some(VolumeUnit::UsGallon))
        );
        assert_eq!(
            read("  LITERS    LITERS   LITERS       MM       MM    DEG C"),
            Ok(Some(VolumeUnit::Litre))
        );
        assert_eq!(
            read("  litres litres litres mm mm deg c"),
            Ok(Some(VolumeUnit::Litre))
        );
        assert_eq!(
            read(" IMP GAL  IMP GAL  IMP GAL  MM  MM  DEG C"),
            Ok(Some(VolumeUnit::ImperialGallon))
        );
        assert_eq!(
            read(" IMP.GAL IMP.GAL"),
            Ok(Some(VolumeUnit::ImperialGallon))
        );
        assert_eq!(
            read("  1  REGULAR  1693  0  9755  18.75  0.00  76.26"),
            Ok(None)
        );
        assert_eq!(read(""), Ok(None));
        assert!(matches!(
            read(" GALLONS LITERS"),
            Err(ReplyError::BadField { .. })
        ));
        assert!(matches!(
            read(" IMP GAL  GAL"),
            Err(ReplyError::BadField { .. })
        ));
    }

    proptest::proptest! {
        /// Against exact rational arithmetic done another way: mL = t × n / 10⁹, rounded half
        /// away from zero, by comparing twice the remainder with the divisor on magnitudes.
        #[test]
        fn conversion_matches_an_independent_rounding(t in proptest::prelude::any::<i64>()) {
            for unit in VolumeUnit::ALL {
                let product = i128::from(t) * unit.nanolitres();
                let magnitude = product.unsigned_abs();
                let (q, r) = (magnitude / 1_000_000_000, magnitude % 1_000_000_000);
                let rounded = q + u128::from(2 * r >= 1_000_000_000);
                let expected = i128::try_from(rounded).ok()
                    .map(|m| if product < 0 { -m } else { m })
                    .and_then(|m| i64::try_from(m).ok());
                let got = unit.to_millilitres(Thousandths::new(t)).ok().map(Millilitres::get);
                proptest::prop_assert_eq!(got, expected);
            }
        }
    }
}
