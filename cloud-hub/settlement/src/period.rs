//! Settlement periods: calendar months of the station's business day (Korean local time, as
//! the stations' business days are), named `YYYY-MM`.

use jiff::civil::Date;

/// One month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i16,
    month: i8,
}

impl Period {
    /// The period a business day belongs to.
    pub fn of(day: Date) -> Period {
        Period {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    pub fn last_day(self) -> Date {
        self.first_day().last_of_month()
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year.saturating_add(1),
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn contains(self, day: Date) -> bool {
        Period::of(day) == self
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Period, String> {
        let wrong = || format!("`{text}` is not a month written YYYY-MM");
        let (year, month) = text.split_once('-').ok_or_else(wrong)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(wrong());
        }
        let year: i16 = year.parse().map_err(|_| wrong())?;
        let month: i8 = month.parse().map_err(|_| wrong())?;
        Date::new(year, month, 1).map_err(|_| wrong())?;
        Ok(Period { year, month })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_follow_each_other_across_the_year() {
        let december: Period = "2026-12".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(december.next().to_string(), "2027-01");
        assert_eq!(december.last_day(), jiff::civil::date(2026, 12, 31));
        assert!("2026-13".parse::<Period>().is_err());
        assert!("2026-1".parse::<Period>().is_err());
        assert_eq!(
            Period::of(jiff::civil::date(2028, 2, 29)).last_day().day(),
            29
        );
    }
}
