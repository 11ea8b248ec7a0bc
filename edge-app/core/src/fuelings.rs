//! Fuelings: what a pump dispensed in one filling, as the pump measured it. The forecourt records
//! one when a filling ends; it waits, unpaid, until a cashier settles it. Settling makes the sale
//! from the pump's own volume, unit price and amount (the legal figures) and marks the fueling
//! paid in the same transaction, so a fueling is never paid twice and never lost.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::auth::Actor;
use crate::catalog::tank_product;
use crate::error::{Result, StationError};
use crate::ids::{FuelingId, ProductId, SaleId, TankNo};
use crate::sales::{
    LinePricing, Measure, PaymentRequest, SaleLineRequest, SaleRecord, SaleRequest, settle,
};
use crate::sql::timestamp;
use crate::station::Station;
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

impl Station {
    /// Records a finished filling, unpaid.
    pub fn record_fueling(&mut self, new: NewFueling, now: Timestamp) -> Result<Fueling> {
        if !(0x50..=0x6F).contains(&new.pump) {
            return Err(StationError::InvalidInput {
                field: "pump",
                problem: format!("{:X} is not a pump address (50 to 6F)", new.pump),
            });
        }
        if !(1..=15).contains(&new.nozzle) {
            return Err(StationError::InvalidInput {
                field: "nozzle",
                problem: format!("{} is not a nozzle number (1 to 15)", new.nozzle),
            });
        }
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
        let id = FuelingId::generate(now);
        self.write(now, |tx| {
            let product = tank_product(&tx.sql, new.tank)?;
            tx.sql.execute(
                "INSERT INTO fuelings (fueling_id, pump, nozzle, tank_no, product_id, volume_ml, amount_won,
                                       unit_price_won, finished_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    new.pump,
                    new.nozzle,
                    new.tank,
                    product,
                    new.volume.get(),
                    new.amount.get(),
                    new.unit_price.get(),
                    tx.now_ms()
                ],
            )?;
            Ok(())
        })?;
        self.fueling(id)
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
