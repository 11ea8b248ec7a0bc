//! The stock ledger and the stock summary read model.
//!
//! Every change of book stock is one stock flow: a confirmed delivery (+), a sale (−), a
//! cancellation (+) or a manager's adjustment (±). Book stock is the sum of a tank's flows; the
//! stock summary is updated in the same transaction as each flow, so it always equals that sum.
//! Expected deliveries are shown beside book stock but are not part of it.
//!
//! Sales may take book stock below zero: the fuel is physically there when book stock lags (a
//! delivery not yet confirmed), and a station must never stop selling because of bookkeeping.
//! Deliveries and adjustments, which a manager enters, may not overfill a tank or empty it below
//! zero.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;
use sync_protocol::{Event, StockAdjusted};

use crate::auth::ManagerApproval;
use crate::catalog::tank_product;
use crate::error::{Result, StationError, ensure_text};
use crate::ids::{ProductId, TankNo, new_v7};
use crate::sql::date_text;
use crate::station::{Station, Tx};
use crate::units::Millilitres;

/// Why book stock changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    Delivery,
    Sale,
    Cancellation,
    Adjustment,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Delivery => "delivery",
            FlowKind::Sale => "sale",
            FlowKind::Cancellation => "cancellation",
            FlowKind::Adjustment => "adjustment",
        }
    }
}

/// Book stock of one tank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankStock {
    pub tank: TankNo,
    pub product: ProductId,
    pub capacity: Millilitres,
    pub book_stock: Millilitres,
}

/// Book stock and expected deliveries of one product over all its tanks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductStock {
    pub product: ProductId,
    pub book_stock: Millilitres,
    pub expected_incoming: Millilitres,
}

/// One line of the stock ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockFlow {
    pub flow_id: i64,
    pub tank: TankNo,
    pub product: ProductId,
    pub kind: String,
    pub delta: Millilitres,
    pub reference: String,
    pub business_day: String,
}

impl Station {
    /// A manager corrects a tank's book stock by `delta` (positive or negative), with a reason.
    pub fn adjust_stock(
        &mut self,
        approval: &ManagerApproval,
        tank: TankNo,
        delta: Millilitres,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        if delta.get() == 0 {
            return Err(StationError::InvalidInput {
                field: "adjustment",
                problem: "it must not be zero".into(),
            });
        }
        let reason = ensure_text("reason", reason, 200)?;
        self.write(now, |tx| {
            let product = tank_product(&tx.sql, tank)?;
            let (book, capacity) = tank_levels(tx, tank)?;
            let after = book.get().saturating_add(delta.get());
            if after < 0 {
                return Err(StationError::TankBelowEmpty { tank, book_stock: book, delta });
            }
            if after > capacity.get() {
                return Err(StationError::TankOverfill { tank, book_stock: book, capacity, volume: delta });
            }
            let adjustment_id = new_v7(tx.now);
            tx.sql.execute(
                "INSERT INTO stock_adjustments (adjustment_id, tank_no, delta_ml, reason, approved_by, adjusted_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![adjustment_id.to_string(), tank, delta.get(), reason, approval.manager(), tx.now_ms()],
            )?;
            let day = tx.business_day()?;
            record_flow(tx, tank, &product, FlowKind::Adjustment, delta, &adjustment_id.to_string(), day)?;
            tx.emit(Event::StockAdjusted(StockAdjusted {
                adjustment_id,
                tank: tank.get(),
                product_id: product.to_string(),
                delta_ml: delta.get(),
                reason,
                approved_by: approval.manager().to_string(),
            }))?;
            Ok(())
        })
    }

    /// Book stock per tank.
    pub fn tank_stock(&self) -> Result<Vec<TankStock>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT tank_no, product_id, capacity_ml, book_stock_ml FROM tank_stock ORDER BY tank_no")?;
        let rows = stmt.query_map([], |r| {
            Ok(TankStock {
                tank: r.get(0)?,
                product: r.get(1)?,
                capacity: Millilitres(r.get(2)?),
                book_stock: Millilitres(r.get(3)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Book stock and expected deliveries per product.
    pub fn product_stock(&self) -> Result<Vec<ProductStock>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT product_id, book_stock_ml, expected_incoming_ml FROM product_stock ORDER BY product_id")?;
        let rows = stmt.query_map([], |r| {
            Ok(ProductStock {
                product: r.get(0)?,
                book_stock: Millilitres(r.get(1)?),
                expected_incoming: Millilitres(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stock ledger of one tank, oldest first.
    pub fn stock_flows(&self, tank: TankNo) -> Result<Vec<StockFlow>> {
        let mut stmt = self.conn().prepare(
            "SELECT flow_id, tank_no, product_id, kind, delta_ml, reference, business_day
             FROM stock_flows WHERE tank_no = ?1 ORDER BY flow_id",
        )?;
        let rows = stmt.query_map(params![tank], |r| {
            Ok(StockFlow {
                flow_id: r.get(0)?,
                tank: r.get(1)?,
                product: r.get(2)?,
                kind: r.get(3)?,
                delta: Millilitres(r.get(4)?),
                reference: r.get(5)?,
                business_day: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Appends one stock flow and moves the stock summary with it.
pub(crate) fn record_flow(
    tx: &Tx<'_>,
    tank: TankNo,
    product: &ProductId,
    kind: FlowKind,
    delta: Millilitres,
    reference: &str,
    day: Date,
) -> Result<()> {
    tx.sql
        .prepare_cached(
            "INSERT INTO stock_flows (tank_no, product_id, kind, delta_ml, reference, business_day, recorded_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![tank, product, kind.as_str(), delta.get(), reference, date_text(day), tx.now_ms()])?;
    tx.sql
        .prepare_cached(
            "UPDATE tank_stock SET book_stock_ml = book_stock_ml + ?2 WHERE tank_no = ?1",
        )?
        .execute(params![tank, delta.get()])?;
    tx.sql
        .prepare_cached(
            "UPDATE product_stock SET book_stock_ml = book_stock_ml + ?2 WHERE product_id = ?1",
        )?
        .execute(params![product, delta.get()])?;
    Ok(())
}

/// A tank's book stock and capacity.
pub(crate) fn tank_levels(tx: &Tx<'_>, tank: TankNo) -> Result<(Millilitres, Millilitres)> {
    let (book, capacity): (i64, i64) = tx.sql.query_row(
        "SELECT book_stock_ml, capacity_ml FROM tank_stock WHERE tank_no = ?1",
        params![tank],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((Millilitres(book), Millilitres(capacity)))
}
