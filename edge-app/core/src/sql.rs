//! How domain values are stored: ids as text, times as UTC milliseconds, days as `YYYY-MM-DD`.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::error::{Result, StationError};
use crate::ids::{
    AccountId, FuelingId, OrderId, ProductId, SaleId, ShiftId, ShipmentId, TankNo, UserId,
};

pub(crate) fn ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn timestamp(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| StationError::DatabaseCorrupt(format!("a stored time: {e}")))
}

pub(crate) fn date_text(day: Date) -> String {
    day.to_string()
}

pub(crate) fn parse_date(text: &str) -> Result<Date> {
    text.parse()
        .map_err(|e| StationError::DatabaseCorrupt(format!("a stored date `{text}`: {e}")))
}

macro_rules! text_sql {
    ($($name:ident),*) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.to_string()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    )*};
}

text_sql!(
    ProductId, UserId, OrderId, ShipmentId, SaleId, AccountId, ShiftId, FuelingId
);

impl ToSql for TankNo {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(i64::from(self.get())))
    }
}

impl FromSql for TankNo {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let n = u16::try_from(value.as_i64()?).map_err(|e| FromSqlError::Other(Box::new(e)))?;
        TankNo::new(n).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}
