//! Cashier shifts with their cash count, and the business day with its close and report.
//!
//! A business day is opened by the first operation that needs one and stays open until a manager
//! closes it, whatever the clock says; the next day is the later of today's local date and the
//! day after the last closed one. A day closes only when every shift in it is closed.
//!
//! Expected cash of a shift = opening float + cash sales (net of change) + cash account payments
//! − cash refunds of sales canceled during the shift.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use sync_protocol::{DayClosed, DayProductTotals, Event, ShiftClosed, WetStockReconciled};

use crate::auth::{Actor, ManagerApproval};
use crate::error::{Result, StationError};
use crate::ids::{ShiftId, UserId};
use crate::sales::{SalesSummaryRow, summary_rows};
use crate::sql::{date_text, parse_date, timestamp};
use crate::station::{Station, Tx};
use crate::units::{MAX_AMOUNT_WON, Won};

/// The figures of a closed shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftReport {
    pub shift: ShiftId,
    pub cashier: UserId,
    pub business_day: Date,
    pub opened_at: Timestamp,
    pub closed_at: Timestamp,
    pub opening_float: Won,
    pub expected_cash: Won,
    pub counted_cash: Won,
}

impl ShiftReport {
    /// Counted minus expected: positive is over, negative is short.
    pub fn over_short(&self) -> Won {
        self.counted_cash - self.expected_cash
    }
}

/// An open shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenShift {
    pub shift: ShiftId,
    pub cashier: UserId,
    pub business_day: Date,
    pub opened_at: Timestamp,
    pub opening_float: Won,
    pub expected_cash: Won,
}

/// The report of a closed business day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayReport {
    pub business_day: Date,
    /// The manager who closed it; `None` while it is open.
    pub closed_by: Option<UserId>,
    pub products: Vec<SalesSummaryRow>,
    pub net_amount: Won,
    pub shifts: Vec<ShiftReport>,
}

impl Station {
    /// Opens a shift for the actor with an opening float of cash in the drawer.
    pub fn open_shift(
        &mut self,
        actor: &Actor,
        opening_float: Won,
        now: Timestamp,
    ) -> Result<OpenShift> {
        ensure_cash("opening float", opening_float)?;
        self.write(now, |tx| {
            if open_shift_of(tx, actor.user()).is_ok() {
                return Err(StationError::ShiftAlreadyOpen(actor.user().clone()));
            }
            let day = tx.business_day()?;
            let shift = ShiftId::generate(tx.now);
            tx.sql.execute(
                "INSERT INTO shifts (shift_id, cashier, business_day, opened_at_ms, opening_float_won) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![shift, actor.user(), date_text(day), tx.now_ms(), opening_float.get()],
            )?;
            Ok(OpenShift {
                shift,
                cashier: actor.user().clone(),
                business_day: day,
                opened_at: tx.now,
                opening_float,
                expected_cash: opening_float,
            })
        })
    }

    /// The actor's open shift, if any, with the cash the drawer should hold now.
    pub fn current_shift(&self, user: &UserId) -> Result<Option<OpenShift>> {
        let row = self
            .conn()
            .query_row(
                "SELECT shift_id, business_day, opened_at_ms, opening_float_won FROM shifts WHERE cashier = ?1 AND closed_at_ms IS NULL",
                params![user],
                |r| Ok((r.get::<_, ShiftId>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
            )
            .optional()?;
        row.map(|(shift, day, opened, float)| {
            Ok(OpenShift {
                shift,
                cashier: user.clone(),
                business_day: parse_date(&day)?,
                opened_at: timestamp(opened)?,
                opening_float: Won(float),
                expected_cash: expected_cash(self.conn(), shift)?,
            })
        })
        .transpose()
    }

    /// Every shift still open, oldest first: what stands between a manager and the day's close.
    pub fn open_shifts(&self) -> Result<Vec<OpenShift>> {
        let cashiers: Vec<UserId> = self
            .conn()
            .prepare("SELECT cashier FROM shifts WHERE closed_at_ms IS NULL ORDER BY opened_at_ms, shift_id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut open = Vec::with_capacity(cashiers.len());
        for cashier in cashiers {
            open.extend(self.current_shift(&cashier)?);
        }
        Ok(open)
    }

    /// Closes the actor's shift with the cash counted in the drawer.
    pub fn close_shift(
        &mut self,
        actor: &Actor,
        counted_cash: Won,
        now: Timestamp,
    ) -> Result<ShiftReport> {
        ensure_cash("counted cash", counted_cash)?;
        self.write(now, |tx| {
            let shift = open_shift_of(tx, actor.user())?;
            let expected = expected_cash(&tx.sql, shift)?;
            tx.sql.execute(
                "UPDATE shifts SET closed_at_ms = ?2, expected_cash_won = ?3, counted_cash_won = ?4 WHERE shift_id = ?1",
                params![shift, tx.now_ms(), expected.get(), counted_cash.get()],
            )?;
            let report = shift_report(&tx.sql, shift)?;
            tx.emit(Event::ShiftClosed(ShiftClosed {
                shift_id: shift.uuid(),
                cashier: report.cashier.to_string(),
                business_day: report.business_day,
                opened_at: report.opened_at,
                opening_float_won: report.opening_float.get(),
                expected_cash_won: report.expected_cash.get(),
                counted_cash_won: report.counted_cash.get(),
                over_short_won: report.over_short().get(),
            }))?;
            Ok(report)
        })
    }

    /// The open business day, if one is open.
    pub fn open_business_day(&self) -> Result<Option<Date>> {
        let open: Option<String> = self
            .conn()
            .query_row(
                "SELECT business_day FROM business_days WHERE closed_at_ms IS NULL",
                [],
                |r| r.get(0),
            )
            .optional()?;
        open.as_deref().map(parse_date).transpose()
    }

    /// Closes the open business day; every shift in it must be closed.
    pub fn close_business_day(
        &mut self,
        approval: &ManagerApproval,
        now: Timestamp,
    ) -> Result<DayReport> {
        self.write(now, |tx| {
            let day = tx.open_business_day()?.ok_or(StationError::NoOpenBusinessDay)?;
            let open: Vec<String> = {
                let mut stmt = tx.sql.prepare(
                    "SELECT cashier FROM shifts WHERE business_day = ?1 AND closed_at_ms IS NULL ORDER BY cashier",
                )?;
                stmt.query_map(params![date_text(day)], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            if !open.is_empty() {
                return Err(StationError::ShiftsStillOpen { day, cashiers: open.join(", ") });
            }
            tx.sql.execute(
                "UPDATE business_days SET closed_at_ms = ?2, closed_by = ?3 WHERE business_day = ?1",
                params![date_text(day), tx.now_ms(), approval.manager()],
            )?;
            let report = build_day_report(&tx.sql, day)?;
            // A day with many products goes to HQ in several messages (each under the size limit).
            let closed = DayClosed {
                business_day: day,
                closed_by: approval.manager().to_string(),
                products: report
                    .products
                    .iter()
                    .map(|row| DayProductTotals {
                        product_id: row.product.clone(),
                        sales_count: row.sales_count,
                        sales_volume_ml: row.sales_volume.get(),
                        sales_quantity: row.sales_quantity,
                        sales_amount_won: row.sales_amount.get(),
                        canceled_count: row.canceled_count,
                        canceled_volume_ml: row.canceled_volume.get(),
                        canceled_quantity: row.canceled_quantity,
                        canceled_amount_won: row.canceled_amount.get(),
                    })
                    .collect(),
                net_amount_won: report.net_amount.get(),
                part: sync_protocol::Part::WHOLE,
            };
            for part in closed.into_parts() {
                tx.emit(Event::DayClosed(part))?;
            }
            // Each tank the gauge measured that day: HQ hears how the tank and the books agreed.
            for tank in crate::wetstock::reconcile(&tx.sql, day)? {
                tx.emit(Event::WetStockReconciled(WetStockReconciled {
                    business_day: day,
                    tank: tank.tank.get(),
                    product_id: tank.product.to_string(),
                    opening_ml: tank.opening.get(),
                    deliveries_ml: tank.deliveries.get(),
                    sales_ml: tank.sales.get(),
                    closing_ml: tank.closing.get(),
                    variance_ml: tank.variance.get(),
                    limit_ml: tank.limit.get(),
                    flagged: tank.flagged,
                }))?;
            }
            Ok(report)
        })
    }

    /// The report of a business day, open or closed.
    pub fn day_report(&self, day: Date) -> Result<DayReport> {
        build_day_report(self.conn(), day)
    }
}

fn build_day_report(conn: &rusqlite::Connection, day: Date) -> Result<DayReport> {
    let closed_by: Option<Option<UserId>> = conn
        .query_row(
            "SELECT closed_by FROM business_days WHERE business_day = ?1",
            params![date_text(day)],
            |r| r.get(0),
        )
        .optional()?;
    let Some(closed_by) = closed_by else {
        return Err(StationError::InvalidInput {
            field: "business day",
            problem: format!("{day} has no records"),
        });
    };
    let products = summary_rows(conn, Some(day))?;
    let net_amount = products
        .iter()
        .fold(Won::ZERO, |sum, row| sum + row.net_amount());
    Ok(DayReport {
        business_day: day,
        closed_by,
        products,
        net_amount,
        shifts: shifts_of_day(conn, day)?,
    })
}

/// The actor's open shift, or `NoOpenShift`.
pub(crate) fn open_shift_of(tx: &Tx<'_>, user: &UserId) -> Result<ShiftId> {
    tx.sql
        .prepare_cached("SELECT shift_id FROM shifts WHERE cashier = ?1 AND closed_at_ms IS NULL")?
        .query_row(params![user], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StationError::NoOpenShift(user.clone()))
}

fn expected_cash(conn: &rusqlite::Connection, shift: ShiftId) -> Result<Won> {
    let won: i64 = conn.query_row(
        "SELECT s.opening_float_won
              + coalesce((SELECT sum(total_won) FROM sales WHERE shift_id = s.shift_id AND payment_method = 'cash'), 0)
              + coalesce((SELECT sum(amount_won) FROM credit_payments WHERE shift_id = s.shift_id AND method = 'cash'), 0)
              - coalesce((SELECT sum(x.total_won) FROM sale_cancellations c JOIN sales x USING (sale_id)
                          WHERE c.shift_id = s.shift_id AND x.payment_method = 'cash'), 0)
         FROM shifts s WHERE s.shift_id = ?1",
        params![shift],
        |r| r.get(0),
    )?;
    Ok(Won(won))
}

fn shift_report(conn: &rusqlite::Connection, shift: ShiftId) -> Result<ShiftReport> {
    let (cashier, day, opened, closed, float, expected, counted): (UserId, String, i64, i64, i64, i64, i64) = conn.query_row(
        "SELECT cashier, business_day, opened_at_ms, closed_at_ms, opening_float_won, expected_cash_won, counted_cash_won
         FROM shifts WHERE shift_id = ?1 AND closed_at_ms IS NOT NULL",
        params![shift],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
    )?;
    Ok(ShiftReport {
        shift,
        cashier,
        business_day: parse_date(&day)?,
        opened_at: timestamp(opened)?,
        closed_at: timestamp(closed)?,
        opening_float: Won(float),
        expected_cash: Won(expected),
        counted_cash: Won(counted),
    })
}

fn shifts_of_day(conn: &rusqlite::Connection, day: Date) -> Result<Vec<ShiftReport>> {
    let mut stmt = conn.prepare(
        "SELECT shift_id FROM shifts WHERE business_day = ?1 AND closed_at_ms IS NOT NULL ORDER BY opened_at_ms, shift_id",
    )?;
    let ids = stmt
        .query_map(params![date_text(day)], |r| r.get::<_, ShiftId>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.into_iter().map(|id| shift_report(conn, id)).collect()
}

/// An amount of cash in a drawer: not negative, and at most [`MAX_AMOUNT_WON`], so that the
/// shift's sums stay far inside `i64` however many sales it holds.
fn ensure_cash(field: &'static str, cash: Won) -> Result<()> {
    if cash.get() < 0 {
        return Err(StationError::InvalidInput {
            field,
            problem: "it cannot be negative".into(),
        });
    }
    if cash.get() > MAX_AMOUNT_WON {
        return Err(StationError::InvalidInput {
            field,
            problem: format!(
                "{} won is more than any drawer holds (at most {MAX_AMOUNT_WON})",
                cash.get()
            ),
        });
    }
    Ok(())
}
