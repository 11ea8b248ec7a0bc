//! Fuelings: what a pump dispensed in one filling, as the pump measured it. The forecourt records
//! one when a filling ends; it waits, unpaid, until a cashier settles it. Settling makes the sale
//! from the pump's own volume, unit price and amount (the legal figures) and marks the fueling
//! paid in the same transaction, so a fueling is never paid twice and never lost.
//!
//! A pump keeps its last filling until its next authorization, and keeps its own totals
//! counters per nozzle. The forecourt reads both back whenever a pump comes (back) online and
//! after every filling, and hands them to [`Station::record_pump_read_back`]: the counters are
//! kept (migration 0007), and the filling the pump holds is recorded unless it already was. A
//! filling is known by its pump, its nozzle and that nozzle's volume counter after it: the
//! counter only rises, by the volume of each filling, so no two fillings of a nozzle share it
//! and a filling read back any number of times is recorded once. [`Station::nozzle_totals`]
//! compares the counters with the fuelings recorded against them: a gap is fuel the pump
//! dispensed that no fueling accounts for.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::auth::{Actor, ManagerApproval};
use crate::catalog::tank_product;
use crate::error::{Result, StationError};
use crate::ids::{FuelingId, ProductId, SaleId, TankNo};
use crate::sales::{
    LinePricing, Measure, PaymentRequest, SaleLineRequest, SaleRecord, SaleRequest, settle,
};
use crate::sql::timestamp;
use crate::station::{Station, Tx};
use crate::units::{MAX_UNIT_PRICE_WON, MAX_VOLUME_ML, Millilitres, UnitPrice, Won};

/// A filling that just ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFueling {
    /// The pump's DART address (0x50 to 0x6F).
    pub pump: u8,
    /// The nozzle, from 1.
    pub nozzle: u8,
    /// The tank that nozzle draws from; its product is what was sold.
    pub tank: TankNo,
    pub volume: Millilitres,
    pub amount: Won,
    pub unit_price: UnitPrice,
}

/// A recorded fueling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fueling {
    pub fueling: FuelingId,
    pub pump: u8,
    pub nozzle: u8,
    pub tank: TankNo,
    pub product: ProductId,
    pub product_name: String,
    pub volume: Millilitres,
    pub amount: Won,
    pub unit_price: UnitPrice,
    pub finished_at: Timestamp,
    /// The sale that paid it.
    pub sale: Option<SaleId>,
}

/// A nozzle's totals counters, as its pump reported them (converted to millilitres and won).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NozzleCounters {
    /// The nozzle, from 1.
    pub nozzle: u8,
    /// The volume counter.
    pub volume: Millilitres,
    /// The money counter; `None` when the pump did not report it.
    pub amount: Option<Won>,
}

/// What a pump said when it was read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PumpReadBack {
    /// The pump's DART address (0x50 to 0x6F).
    pub pump: u8,
    /// The counters of its nozzles, read after the filling it holds ended.
    pub counters: Vec<NozzleCounters>,
    /// The finished filling the pump holds, if any: recorded unless it already is. Its nozzle
    /// must be among `counters`, whose volume counter is the filling's identity.
    pub held_filling: Option<NewFueling>,
}

/// What [`Station::record_pump_read_back`] did with the filling the pump held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBackOutcome {
    /// The pump held no finished filling.
    NoFilling,
    /// The filling is recorded now, unpaid.
    Recorded(Fueling),
    /// It had been recorded before: nothing was added.
    AlreadyRecorded(Fueling),
}

/// A nozzle's counters beside the fuelings recorded against them, since the counters were first
/// read (or last went back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NozzleTotals {
    pub pump: u8,
    pub nozzle: u8,
    /// The counters at their latest reading.
    pub volume_total: Millilitres,
    pub amount_total: Option<Won>,
    /// The reading the comparison starts from, and the latest.
    pub since: Timestamp,
    pub last_moved_at: Timestamp,
    /// What the volume counter counted since then, and the volume of the fuelings recorded
    /// against it in that span.
    pub counted_volume: Millilitres,
    pub recorded_volume: Millilitres,
    /// Counted minus recorded: fuel dispensed that no fueling accounts for.
    pub volume_variance: Millilitres,
    /// The same for money, when the pump reported its money totals at both ends.
    pub counted_amount: Option<Won>,
    pub recorded_amount: Won,
    pub amount_variance: Option<Won>,
}

impl Station {
    /// Records a finished filling, unpaid.
    pub fn record_fueling(&mut self, new: NewFueling, now: Timestamp) -> Result<Fueling> {
        check_fueling(&new)?;
        let id = FuelingId::generate(now);
        self.write(now, |tx| insert_fueling(tx, id, &new, None))?;
        self.fueling(id)
    }

    /// Keeps a pump's counters and records the finished filling it holds, once, in one
    /// transaction: the same filling read back again (after the line reopened, the runtime
    /// restarted, or the database refused it the first time) is found by its pump, nozzle and
    /// volume counter and not recorded again.
    pub fn record_pump_read_back(
        &mut self,
        read_back: PumpReadBack,
        now: Timestamp,
    ) -> Result<ReadBackOutcome> {
        check_pump(read_back.pump)?;
        for (index, counters) in read_back.counters.iter().enumerate() {
            check_nozzle(counters.nozzle)?;
            if read_back
                .counters
                .iter()
                .take(index)
                .any(|other| other.nozzle == counters.nozzle)
            {
                return Err(StationError::InvalidInput {
                    field: "pump totals",
                    problem: format!("nozzle {} is given twice", counters.nozzle),
                });
            }
            if counters.volume.get() < 0 || counters.amount.is_some_and(|a| a.get() < 0) {
                return Err(StationError::InvalidInput {
                    field: "pump totals",
                    problem: "a counter cannot be negative".into(),
                });
            }
        }
        let held = match &read_back.held_filling {
            None => None,
            Some(new) => {
                check_fueling(new)?;
                let counter = read_back
                    .counters
                    .iter()
                    .find(|counters| counters.nozzle == new.nozzle)
                    .filter(|_| new.pump == read_back.pump)
                    .ok_or_else(|| StationError::InvalidInput {
                        field: "held filling",
                        problem: format!(
                            "pump {:X} nozzle {} has no counter read after the filling",
                            new.pump, new.nozzle
                        ),
                    })?;
                Some((new, counter.volume))
            }
        };
        let id = FuelingId::generate(now);
        let outcome = self.write(now, |tx| {
            // Read before this reading is stored: has this nozzle ever been read?
            let first_reading = match held {
                Some((new, _)) => !has_readings(tx, read_back.pump, new.nozzle)?,
                None => false,
            };
            for counters in &read_back.counters {
                store_reading(tx, read_back.pump, counters)?;
            }
            let Some((new, counter)) = held else {
                return Ok(None);
            };
            if let Some(found) = fueling_with_counter(tx, new.pump, new.nozzle, counter)? {
                return Ok(Some((found, false)));
            }
            // A database from before migration 0007 recorded fuelings without their counter.
            // Until its nozzle's counters are first read, the pump may still hold the last of
            // them: the latest fueling of the nozzle, counter unknown, with the same figures.
            if first_reading && let Some(found) = unkeyed_latest_same(tx, new)? {
                return Ok(Some((found, false)));
            }
            insert_fueling(tx, id, new, Some(counter))?;
            Ok(Some((id, true)))
        })?;
        Ok(match outcome {
            None => ReadBackOutcome::NoFilling,
            Some((fueling, true)) => ReadBackOutcome::Recorded(self.fueling(fueling)?),
            Some((fueling, false)) => ReadBackOutcome::AlreadyRecorded(self.fueling(fueling)?),
        })
    }

    /// Every nozzle whose counters were read, with the fuelings recorded against them, by pump
    /// and nozzle.
    pub fn nozzle_totals(&self) -> Result<Vec<NozzleTotals>> {
        let nozzles = self
            .conn()
            .prepare_cached(
                "SELECT pump, nozzle, MAX(reading_id) FROM pump_totals
                 GROUP BY pump, nozzle ORDER BY pump, nozzle",
            )?
            .query_map([], |r| {
                Ok((r.get::<_, u8>(0)?, r.get::<_, u8>(1)?, r.get::<_, i64>(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        nozzles
            .into_iter()
            .map(|(pump, nozzle, latest)| totals_of(self.conn(), pump, nozzle, latest))
            .collect()
    }

    /// One fueling, paid or not.
    pub fn fueling(&self, fueling: FuelingId) -> Result<Fueling> {
        load(self.conn(), fueling)?.ok_or(StationError::UnknownFueling(fueling))
    }

    /// The fuelings waiting for payment, oldest first.
    pub fn unpaid_fuelings(&self) -> Result<Vec<Fueling>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT fueling_id FROM fuelings WHERE sale_id IS NULL ORDER BY finished_at_ms, fueling_id",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, FuelingId>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.into_iter().map(|id| self.fueling(id)).collect()
    }

    /// Settles a fueling as a sale of the actor's shift, at the pump's volume and amount.
    pub fn settle_fueling(
        &mut self,
        actor: &Actor,
        fueling: FuelingId,
        payment: PaymentRequest,
        over_limit: Option<ManagerApproval>,
        now: Timestamp,
    ) -> Result<SaleRecord> {
        self.write(now, |tx| {
            let found = load(&tx.sql, fueling)?.ok_or(StationError::UnknownFueling(fueling))?;
            if found.sale.is_some() {
                return Err(StationError::FuelingAlreadyPaid(fueling));
            }
            let request = SaleRequest {
                lines: vec![SaleLineRequest {
                    product: found.product,
                    measure: Measure::Volume(found.volume),
                    tank: Some(found.tank),
                    pricing: LinePricing::Pump {
                        unit_price: found.unit_price,
                        amount: found.amount,
                    },
                }],
                payment,
                over_limit,
            };
            let sale = settle(tx, actor, request)?;
            tx.sql.execute(
                "UPDATE fuelings SET sale_id = ?2 WHERE fueling_id = ?1",
                params![fueling, sale.sale],
            )?;
            Ok(sale)
        })
    }
}

fn load(conn: &rusqlite::Connection, fueling: FuelingId) -> Result<Option<Fueling>> {
    conn.prepare_cached(
        "SELECT f.pump, f.nozzle, f.tank_no, f.product_id, p.name, f.volume_ml, f.amount_won,
                f.unit_price_won, f.finished_at_ms, f.sale_id
         FROM fuelings f JOIN products p ON p.product_id = f.product_id
         WHERE f.fueling_id = ?1",
    )?
    .query_row(params![fueling], |r| {
        Ok((
            r.get::<_, u8>(0)?,
            r.get::<_, u8>(1)?,
            r.get::<_, TankNo>(2)?,
            r.get::<_, ProductId>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
            r.get::<_, Option<SaleId>>(9)?,
        ))
    })
    .optional()?
    .map(
        |(pump, nozzle, tank, product, product_name, volume, amount, price, at, sale)| {
            Ok(Fueling {
                fueling,
                pump,
                nozzle,
                tank,
                product,
                product_name,
                volume: Millilitres(volume),
                amount: Won(amount),
                unit_price: UnitPrice(price),
                finished_at: timestamp(at)?,
                sale,
            })
        },
    )
    .transpose()
}

fn check_pump(pump: u8) -> Result<()> {
    if (0x50..=0x6F).contains(&pump) {
        Ok(())
    } else {
        Err(StationError::InvalidInput {
            field: "pump",
            problem: format!("{pump:X} is not a pump address (50 to 6F)"),
        })
    }
}

fn check_nozzle(nozzle: u8) -> Result<()> {
    if (1..=15).contains(&nozzle) {
        Ok(())
    } else {
        Err(StationError::InvalidInput {
            field: "nozzle",
            problem: format!("{nozzle} is not a nozzle number (1 to 15)"),
        })
    }
}

fn check_fueling(new: &NewFueling) -> Result<()> {
    check_pump(new.pump)?;
    check_nozzle(new.nozzle)?;
    crate::error::ensure_positive("fueling volume (ml)", new.volume.get())?;
    crate::error::ensure_positive("fueling unit price (won)", new.unit_price.get())?;
    if new.volume.get() > MAX_VOLUME_ML || new.unit_price.get() > MAX_UNIT_PRICE_WON {
        return Err(StationError::InvalidInput {
            field: "fueling",
            problem: "volume or unit price beyond what a pump can dispense".into(),
        });
    }
    if new.amount.get() < 0 {
        return Err(StationError::InvalidInput {
            field: "fueling amount (won)",
            problem: "cannot be negative".into(),
        });
    }
    Ok(())
}

fn insert_fueling(
    tx: &Tx<'_>,
    id: FuelingId,
    new: &NewFueling,
    counter: Option<Millilitres>,
) -> Result<()> {
    let product = tank_product(&tx.sql, new.tank)?;
    tx.sql.execute(
        "INSERT INTO fuelings (fueling_id, pump, nozzle, tank_no, product_id, volume_ml, amount_won,
                               unit_price_won, finished_at_ms, pump_volume_total_ml)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            new.pump,
            new.nozzle,
            new.tank,
            product,
            new.volume.get(),
            new.amount.get(),
            new.unit_price.get(),
            tx.now_ms(),
            counter.map(Millilitres::get),
        ],
    )?;
    Ok(())
}

/// One stored reading of a nozzle's counters.
struct Reading {
    series: i64,
    volume: i64,
    amount: Option<i64>,
    at_ms: i64,
}

fn reading(conn: &rusqlite::Connection, reading_id: i64) -> Result<Reading> {
    Ok(conn
        .prepare_cached(
            "SELECT series, volume_total_ml, amount_total_won, read_at_ms
             FROM pump_totals WHERE reading_id = ?1",
        )?
        .query_row(params![reading_id], |r| {
            Ok(Reading {
                series: r.get(0)?,
                volume: r.get(1)?,
                amount: r.get(2)?,
                at_ms: r.get(3)?,
            })
        })?)
}

/// A nozzle's latest reading against the first of its series and the fuelings in between.
fn totals_of(
    conn: &rusqlite::Connection,
    pump: u8,
    nozzle: u8,
    latest: i64,
) -> Result<NozzleTotals> {
    let last = reading(conn, latest)?;
    let first_id: i64 = conn
        .prepare_cached(
            "SELECT MIN(reading_id) FROM pump_totals
             WHERE pump = ?1 AND nozzle = ?2 AND series = ?3",
        )?
        .query_row(params![pump, nozzle, last.series], |r| r.get(0))?;
    let first = reading(conn, first_id)?;
    // A fueling's counter is read after it ended, so the first reading already counts a
    // fueling whose counter it is: the span is (first, last].
    let (recorded_volume, recorded_amount): (i64, i64) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(volume_ml), 0), COALESCE(SUM(amount_won), 0) FROM fuelings
             WHERE pump = ?1 AND nozzle = ?2 AND finished_at_ms >= ?3
               AND pump_volume_total_ml > ?4 AND pump_volume_total_ml <= ?5",
        )?
        .query_row(
            params![pump, nozzle, first.at_ms, first.volume, last.volume],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    let overflow = || StationError::Storage("pump totals beyond what can be counted".into());
    let counted_volume = last.volume.checked_sub(first.volume).ok_or_else(overflow)?;
    let counted_amount = match (first.amount, last.amount) {
        (Some(first), Some(last)) if last >= first => last.checked_sub(first),
        _ => None,
    };
    Ok(NozzleTotals {
        pump,
        nozzle,
        volume_total: Millilitres(last.volume),
        amount_total: last.amount.map(Won),
        since: timestamp(first.at_ms)?,
        last_moved_at: timestamp(last.at_ms)?,
        counted_volume: Millilitres(counted_volume),
        recorded_volume: Millilitres(recorded_volume),
        volume_variance: Millilitres(
            counted_volume
                .checked_sub(recorded_volume)
                .ok_or_else(overflow)?,
        ),
        counted_amount: counted_amount.map(Won),
        recorded_amount: Won(recorded_amount),
        amount_variance: counted_amount
            .and_then(|counted| counted.checked_sub(recorded_amount))
            .map(Won),
    })
}

fn has_readings(tx: &Tx<'_>, pump: u8, nozzle: u8) -> Result<bool> {
    Ok(tx
        .sql
        .prepare_cached("SELECT 1 FROM pump_totals WHERE pump = ?1 AND nozzle = ?2 LIMIT 1")?
        .query_row(params![pump, nozzle], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Stores a reading unless the counters stand where they stood; a volume counter lower than
/// the last starts a new series.
fn store_reading(tx: &Tx<'_>, pump: u8, counters: &NozzleCounters) -> Result<()> {
    let last: Option<(i64, i64, Option<i64>)> = tx
        .sql
        .prepare_cached(
            "SELECT series, volume_total_ml, amount_total_won FROM pump_totals
             WHERE pump = ?1 AND nozzle = ?2 ORDER BY reading_id DESC LIMIT 1",
        )?
        .query_row(params![pump, counters.nozzle], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let volume = counters.volume.get();
    let amount = counters.amount.map(Won::get);
    let series = match last {
        Some((_, last_volume, last_amount)) if last_volume == volume && last_amount == amount => {
            return Ok(());
        }
        Some((series, last_volume, _)) if volume < last_volume => series.saturating_add(1),
        Some((series, ..)) => series,
        None => 1,
    };
    tx.sql.execute(
        "INSERT INTO pump_totals (pump, nozzle, series, volume_total_ml, amount_total_won, read_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![pump, counters.nozzle, series, volume, amount, tx.now_ms()],
    )?;
    Ok(())
}

fn fueling_with_counter(
    tx: &Tx<'_>,
    pump: u8,
    nozzle: u8,
    counter: Millilitres,
) -> Result<Option<FuelingId>> {
    Ok(tx
        .sql
        .prepare_cached(
            "SELECT fueling_id FROM fuelings
             WHERE pump = ?1 AND nozzle = ?2 AND pump_volume_total_ml = ?3",
        )?
        .query_row(params![pump, nozzle, counter.get()], |r| r.get(0))
        .optional()?)
}

fn unkeyed_latest_same(tx: &Tx<'_>, new: &NewFueling) -> Result<Option<FuelingId>> {
    type Row = (FuelingId, i64, i64, i64, Option<i64>);
    let latest: Option<Row> = tx
        .sql
        .prepare_cached(
            "SELECT fueling_id, volume_ml, amount_won, unit_price_won, pump_volume_total_ml
             FROM fuelings WHERE pump = ?1 AND nozzle = ?2
             ORDER BY finished_at_ms DESC, fueling_id DESC LIMIT 1",
        )?
        .query_row(params![new.pump, new.nozzle], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    Ok(latest.and_then(|(id, volume, amount, price, counter)| {
        (counter.is_none()
            && volume == new.volume.get()
            && amount == new.amount.get()
            && price == new.unit_price.get())
        .then_some(id)
    }))
}

#[cfg(test)]
mod tests;
