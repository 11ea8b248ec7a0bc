//! Measured stock and wet-stock reconciliation.
//!
//! The tank gauge's readings are kept beside the book stock. A reconciliation compares, per tank
//! and business day, what the gauge measured with what the ledger says happened:
//! `variance = closing measured − (opening measured + deliveries − net sales)`, where net sales are
//! sales minus cancellations; stock adjustments are corrections of the book, not movements of
//! fuel, and are left out. A variance is flagged when it passes 0.5% of net sales plus 50 L (the
//! usual tolerance for meter and temperature effects); a flag means a leak, theft or a meter to
//! check.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};

use crate::catalog::tank_product;
use crate::error::{Result, StationError};
use crate::ids::{ProductId, TankNo};
use crate::sql::{date_text, timestamp};
use crate::station::Station;
use crate::units::Millilitres;

/// One reading of the tank gauge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankReading {
    pub tank: TankNo,
    pub volume: Millilitres,
    pub water: Millilitres,
    pub measured_at: Timestamp,
}

/// A tank's wet-stock reconciliation for a business day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    pub business_day: Date,
    pub tank: TankNo,
    pub product: ProductId,
    pub opening: Millilitres,
    pub deliveries: Millilitres,
    /// Sales minus cancellations.
    pub sales: Millilitres,
    pub closing: Millilitres,
    /// Closing measured minus what the ledger expects.
    pub variance: Millilitres,
    /// The tolerance: 0.5% of net sales plus 50 L.
    pub limit: Millilitres,
    pub flagged: bool,
}

/// 50 L, the fixed part of the tolerance.
const FIXED_TOLERANCE_ML: i64 = 50_000;

impl Station {
    /// Records what the gauge measured in a tank.
    pub fn record_tank_reading(
        &mut self,
        tank: TankNo,
        volume: Millilitres,
        water: Millilitres,
        now: Timestamp,
    ) -> Result<()> {
        if volume.get() < 0 || water.get() < 0 {
            return Err(StationError::InvalidInput {
                field: "tank reading",
                problem: "a measured volume cannot be negative".into(),
            });
        }
        self.write(now, |tx| {
            tank_product(&tx.sql, tank)?;
            tx.sql
                .prepare_cached(
                    "INSERT INTO tank_readings (tank_no, volume_ml, water_ml, measured_at_ms) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![tank, volume.get(), water.get(), tx.now_ms()])?;
            Ok(())
        })
    }

    /// The latest reading of each tank that has one.
    pub fn latest_tank_readings(&self) -> Result<Vec<TankReading>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT r.tank_no, r.volume_ml, r.water_ml, r.measured_at_ms FROM tank_readings r
             WHERE r.reading_id = (SELECT max(reading_id) FROM tank_readings x WHERE x.tank_no = r.tank_no)
             ORDER BY r.tank_no",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, TankNo>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (tank, volume, water, at) = row?;
            Ok(TankReading {
                tank,
                volume: Millilitres(volume),
                water: Millilitres(water),
                measured_at: timestamp(at)?,
            })
        })
        .collect()
    }

    /// The reconciliation of every tank with readings for business day `day`, which must have
    /// been opened. An open day is reconciled up to its latest reading.
    pub fn wet_stock_reconciliation(&self, day: Date) -> Result<Vec<Reconciliation>> {
        reconcile(self.conn(), day)
    }
}

/// The reconciliation of `day`, in whatever transaction `conn` is in (closing the day sends it).
pub(crate) fn reconcile(conn: &rusqlite::Connection, day: Date) -> Result<Vec<Reconciliation>> {
    {
        let bounds: Option<(i64, Option<i64>)> = conn
            .query_row(
                "SELECT opened_at_ms, closed_at_ms FROM business_days WHERE business_day = ?1",
                params![date_text(day)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((opened, closed)) = bounds else {
            return Err(StationError::InvalidInput {
                field: "business day",
                problem: format!("{day} was never opened"),
            });
        };
        let closed = closed.unwrap_or(i64::MAX);
        let tanks: Vec<TankNo> = {
            let mut stmt = conn.prepare("SELECT tank_no FROM tanks ORDER BY tank_no")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        for tank in tanks {
            // Opening: the last reading at the day's opening, or the first one after it.
            let opening: Option<i64> = conn
                .query_row(
                    "SELECT volume_ml FROM tank_readings WHERE tank_no = ?1 AND measured_at_ms <= ?2
                     ORDER BY measured_at_ms DESC, reading_id DESC LIMIT 1",
                    params![tank, opened],
                    |r| r.get(0),
                )
                .optional()?;
            let opening = match opening {
                Some(volume) => Some(volume),
                None => conn
                    .query_row(
                        "SELECT volume_ml FROM tank_readings WHERE tank_no = ?1 AND measured_at_ms > ?2
                         AND measured_at_ms <= ?3 ORDER BY measured_at_ms, reading_id LIMIT 1",
                        params![tank, opened, closed],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            let closing: Option<i64> = conn
                .query_row(
                    "SELECT volume_ml FROM tank_readings WHERE tank_no = ?1 AND measured_at_ms <= ?2
                     ORDER BY measured_at_ms DESC, reading_id DESC LIMIT 1",
                    params![tank, closed],
                    |r| r.get(0),
                )
                .optional()?;
            let (Some(opening), Some(closing)) = (opening, closing) else {
                continue;
            };
            let (deliveries, sold): (i64, i64) = conn.query_row(
                "SELECT coalesce(sum(CASE WHEN kind = 'delivery' THEN delta_ml END), 0),
                        coalesce(-sum(CASE WHEN kind IN ('sale', 'cancellation') THEN delta_ml END), 0)
                 FROM stock_flows WHERE tank_no = ?1 AND business_day = ?2",
                params![tank, date_text(day)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let variance = closing - (opening + deliveries - sold);
            let limit = sold.max(0) * 5 / 1000 + FIXED_TOLERANCE_ML;
            out.push(Reconciliation {
                business_day: day,
                tank,
                product: tank_product(conn, tank)?,
                opening: Millilitres(opening),
                deliveries: Millilitres(deliveries),
                sales: Millilitres(sold),
                closing: Millilitres(closing),
                variance: Millilitres(variance),
                limit: Millilitres(limit),
                flagged: variance.abs() > limit,
            });
        }
        Ok(out)
    }
}
