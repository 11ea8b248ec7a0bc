//! Sales and their cancellation (flow 3 of the design), and the sales summary read model.
//!
//! Settling a sale is one durable transaction: the sale and its lines, a stock flow out of the
//! tank for each fuel line, the sales summary, the account balance for a sale on account, and
//! the outbox event. A sale is never edited or deleted; a cancellation is a compensating record
//! that puts the stock back, takes the sale out of the totals and, on account, off the balance.
//!
//! A cancellation is counted in the business day in which it happens (so a closed day's report
//! never changes); the summary keeps sales and cancellations side by side, and net figures are
//! sales minus cancellations.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use sync_protocol::{
    Event, Payment as WirePayment, PriceSource as WirePriceSource, SaleCanceled,
    SaleLine as WireLine, SaleSettled,
};

use crate::accounts::{account_balance, add_to_balance};
use crate::audit::{AuditAction, AuditRecord};
use crate::auth::{Actor, ManagerApproval};
use crate::catalog::{
    Unit, apply_due_price_version, price_in_force, product_unit, tank_product, tanks_of,
};
use crate::error::{Result, StationError, ensure_positive, ensure_text};
use crate::ids::{AccountId, ProductId, SaleId, ShiftId, TankNo, UserId, new_v7};
use crate::shifts::open_shift_of;
use crate::sql::{date_text, parse_date, timestamp};
use crate::station::{Station, Tx};
use crate::stock::{FlowKind, record_flow};
use crate::units::{
    MAX_AMOUNT_WON, MAX_UNIT_PRICE_WON, MAX_VOLUME_ML, Millilitres, UnitPrice, Won,
    amount_for_quantity, amount_for_volume,
};

/// How much of a product a line sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Fuel, by volume.
    Volume(Millilitres),
    /// A shop item, by the piece.
    Quantity(i64),
}

/// How a line is priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinePricing {
    /// The price list in force at the time of sale.
    PriceList,
    /// The pump's meter: its unit price and the amount it computed (the legal figure).
    Pump { unit_price: UnitPrice, amount: Won },
    /// A price a manager sets by hand.
    ManagerOverride {
        unit_price: UnitPrice,
        approval: ManagerApproval,
    },
}

/// One line of a sale to settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleLineRequest {
    pub product: ProductId,
    pub measure: Measure,
    /// The tank a fuel line draws from; may be left out when one tank holds the product.
    pub tank: Option<TankNo>,
    pub pricing: LinePricing,
}

/// How the customer pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRequest {
    Cash { tendered: Won },
    Card { reference: String },
    Account(AccountId),
}

/// A sale to settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRequest {
    pub lines: Vec<SaleLineRequest>,
    pub payment: PaymentRequest,
    /// A manager's confirmation of a sale past the station's limits ([`crate::Limits`]): a
    /// larger cash tender or a larger volume keyed by hand. Never past what a tank holds.
    pub over_limit: Option<ManagerApproval>,
}

/// A settled line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleLine {
    pub line_no: u16,
    pub product: ProductId,
    pub product_name: String,
    pub tank: Option<TankNo>,
    pub measure: Measure,
    pub unit_price: UnitPrice,
    pub amount: Won,
    pub price_source: PriceSource,
    pub price_version: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    PriceList,
    Pump,
    ManagerOverride,
}

/// How a sale was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payment {
    Cash { tendered: Won, change: Won },
    Card { reference: String },
    Account(AccountId),
}

/// A settled sale as stored, with its cancellation if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRecord {
    pub sale: SaleId,
    pub receipt_no: String,
    pub business_day: Date,
    pub shift: ShiftId,
    pub cashier: UserId,
    pub settled_at: Timestamp,
    pub lines: Vec<SaleLine>,
    pub total: Won,
    pub payment: Payment,
    pub cancellation: Option<Cancellation>,
}

/// The compensating record of a canceled sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub business_day: Date,
    pub reason: String,
    pub canceled_by: UserId,
    pub approved_by: UserId,
    pub canceled_at: Timestamp,
}

/// One row of the sales summary: a product's figures on a business day.
/// `*_count` counts sale lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SalesSummaryRow {
    pub business_day: String,
    pub product: String,
    pub sales_count: i64,
    pub sales_volume: Millilitres,
    pub sales_quantity: i64,
    pub sales_amount: Won,
    pub canceled_count: i64,
    pub canceled_volume: Millilitres,
    pub canceled_quantity: i64,
    pub canceled_amount: Won,
}

impl SalesSummaryRow {
    /// Sales minus cancellations.
    pub fn net_amount(&self) -> Won {
        self.sales_amount - self.canceled_amount
    }
}

impl Station {
    /// Settles a sale for the actor's open shift. Durable when this returns: print after.
    pub fn settle_sale(
        &mut self,
        actor: &Actor,
        request: SaleRequest,
        now: Timestamp,
    ) -> Result<SaleRecord> {
        if request.lines.is_empty() {
            return Err(StationError::EmptySale);
        }
        if request.lines.len() > 99 {
            return Err(StationError::InvalidInput {
                field: "sale",
                problem: "a sale has at most 99 lines".into(),
            });
        }
        self.write(now, |tx| settle(tx, actor, request))
    }

    /// Cancels a sale with a reason and a manager's approval.
    pub fn cancel_sale(
        &mut self,
        actor: &Actor,
        approval: &ManagerApproval,
        sale: SaleId,
        reason: &str,
        now: Timestamp,
    ) -> Result<SaleRecord> {
        let reason = ensure_text("reason", reason, 200)?;
        self.write(now, |tx| cancel(tx, actor, approval, sale, &reason))?;
        self.sale(sale)
    }

    /// One sale, with its lines and cancellation.
    pub fn sale(&self, sale: SaleId) -> Result<SaleRecord> {
        load_sale(self.conn(), sale)?.ok_or(StationError::UnknownSale(sale))
    }

    /// The sale with this receipt number.
    pub fn sale_by_receipt(&self, receipt_no: &str) -> Result<Option<SaleRecord>> {
        let id: Option<SaleId> = self
            .conn()
            .query_row(
                "SELECT sale_id FROM sales WHERE receipt_no = ?1",
                params![receipt_no],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|id| self.sale(id)).transpose()
    }

    /// The sales of a business day, in receipt order.
    pub fn sales_of_day(&self, day: Date) -> Result<Vec<SaleRecord>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT sale_id FROM sales WHERE business_day = ?1 ORDER BY receipt_no")?;
        let ids = stmt
            .query_map(params![date_text(day)], |r| r.get::<_, SaleId>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.into_iter().map(|id| self.sale(id)).collect()
    }

    /// The sales summary, for one business day or all of them.
    pub fn sales_summary(&self, day: Option<Date>) -> Result<Vec<SalesSummaryRow>> {
        summary_rows(self.conn(), day)
    }
}

pub(crate) fn summary_rows(
    conn: &rusqlite::Connection,
    day: Option<Date>,
) -> Result<Vec<SalesSummaryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT business_day, product_id, sales_count, sales_volume_ml, sales_quantity, sales_amount_won,
                canceled_count, canceled_volume_ml, canceled_quantity, canceled_amount_won
         FROM sales_summary WHERE ?1 IS NULL OR business_day = ?1 ORDER BY business_day, product_id",
    )?;
    let rows = stmt.query_map(params![day.map(date_text)], |r| {
        Ok(SalesSummaryRow {
            business_day: r.get(0)?,
            product: r.get(1)?,
            sales_count: r.get(2)?,
            sales_volume: Millilitres(r.get(3)?),
            sales_quantity: r.get(4)?,
            sales_amount: Won(r.get(5)?),
            canceled_count: r.get(6)?,
            canceled_volume: Millilitres(r.get(7)?),
            canceled_quantity: r.get(8)?,
            canceled_amount: Won(r.get(9)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn settle(tx: &Tx<'_>, actor: &Actor, request: SaleRequest) -> Result<SaleRecord> {
    let shift = open_shift_of(tx, actor.user())?;
    apply_due_price_version(tx)?;
    let day = tx.business_day()?;
    let mut lines = Vec::with_capacity(request.lines.len());
    for (i, line) in request.lines.into_iter().enumerate() {
        let line_no = u16::try_from(i + 1).expect("at most 99 lines");
        lines.push(price_line(tx, line_no, line)?);
    }
    let total = lines
        .iter()
        .try_fold(Won::ZERO, |sum, (line, _)| sum.checked_add(line.amount))
        .ok_or_else(|| StationError::InvalidInput {
            field: "sale total",
            problem: "its lines come to more won than an amount can hold".into(),
        })?;
    let past_limits = check_limits(tx, &lines, &request.payment, request.over_limit.is_some())?;
    let payment = match request.payment {
        PaymentRequest::Cash { tendered } => {
            if tendered < total {
                return Err(StationError::InsufficientTender { total, tendered });
            }
            Payment::Cash {
                tendered,
                change: tendered - total,
            }
        }
        PaymentRequest::Card { reference } => Payment::Card {
            reference: ensure_text("card reference", &reference, 64)?,
        },
        PaymentRequest::Account(account) => {
            let (balance, limit) = account_balance(&tx.sql, account)?;
            let would_be = balance.checked_add(total).unwrap_or(Won(i64::MAX));
            if would_be > limit {
                return Err(StationError::CreditLimitExceeded {
                    account,
                    amount: total,
                    would_be,
                    limit,
                });
            }
            Payment::Account(account)
        }
    };

    let sale = SaleId::generate(tx.now);
    let receipt_no = next_receipt_no(tx, day)?;
    let (method, tendered, change, card, account) = match &payment {
        Payment::Cash { tendered, change } => {
            ("cash", Some(tendered.get()), Some(change.get()), None, None)
        }
        Payment::Card { reference } => ("card", None, None, Some(reference.as_str()), None),
        Payment::Account(account) => ("account", None, None, None, Some(*account)),
    };
    tx.sql
        .prepare_cached(
            "INSERT INTO sales (sale_id, receipt_no, business_day, shift_id, cashier, settled_at_ms, total_won,
                                payment_method, tendered_won, change_won, card_reference, account_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            sale,
            receipt_no,
            date_text(day),
            shift,
            actor.user(),
            tx.now_ms(),
            total.get(),
            method,
            tendered,
            change,
            card,
            account
        ])?;
    crate::printing::enqueue(tx, sale, "sale", actor.user())?;
    for (line, override_by) in &lines {
        let (volume, quantity) = split_measure(line.measure);
        tx.sql
            .prepare_cached(
                "INSERT INTO sale_lines (sale_id, line_no, product_id, tank_no, volume_ml, quantity, unit_price_won,
                                         amount_won, price_source, price_version, override_approved_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                sale,
                line.line_no,
                line.product,
                line.tank,
                volume,
                quantity,
                line.unit_price.get(),
                line.amount.get(),
                wire_price_source(line.price_source),
                line.price_version.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
                override_by
            ])?;
        if let Some(manager) = override_by {
            tx.audit(
                AuditRecord::new(AuditAction::PriceOverride, actor.user().as_str())
                    .approved_by(manager.as_str())
                    .subject(&receipt_no)
                    .detail(&format!(
                        "line {}: {} at {} won",
                        line.line_no,
                        line.product,
                        line.unit_price.get()
                    )),
            )?;
        }
        if let (Some(tank), Measure::Volume(v)) = (line.tank, line.measure) {
            record_flow(
                tx,
                tank,
                &line.product,
                FlowKind::Sale,
                -v,
                &sale.to_string(),
                day,
            )?;
        }
        add_to_summary(tx, day, line, false)?;
    }
    if let Payment::Account(account) = &payment {
        add_to_balance(tx, *account, total)?;
    }
    if let (Some(manager), false) = (&request.over_limit, past_limits.is_empty()) {
        tx.audit(
            AuditRecord::new(AuditAction::LimitConfirmed, actor.user().as_str())
                .approved_by(manager.manager().as_str())
                .subject(&receipt_no)
                .detail(&past_limits.join("; ")),
        )?;
    }
    let lines: Vec<SaleLine> = lines.into_iter().map(|(line, _)| line).collect();
    tx.emit(Event::SaleSettled(SaleSettled {
        sale_id: sale.uuid(),
        receipt_no: receipt_no.clone(),
        business_day: day,
        shift_id: shift.uuid(),
        cashier: actor.user().to_string(),
        lines: lines.iter().map(wire_line).collect(),
        total_won: total.get(),
        payment: wire_payment(&payment),
    }))?;
    Ok(SaleRecord {
        sale,
        receipt_no,
        business_day: day,
        shift,
        cashier: actor.user().clone(),
        settled_at: tx.now,
        lines,
        total,
        payment,
        cancellation: None,
    })
}

/// Checks a sale against the station's limits: no line draws more than its tank holds, and a
/// volume keyed by hand or a cash tender past the station's limits is refused unless a manager
/// `confirmed` it. Returns what the confirmation lets through, in words for the audit log.
fn check_limits(
    tx: &Tx<'_>,
    lines: &[(SaleLine, Option<UserId>)],
    payment: &PaymentRequest,
    confirmed: bool,
) -> Result<Vec<String>> {
    let limits = crate::limits::read_limits(&tx.sql)?;
    let mut past = Vec::new();
    for (line, _) in lines {
        // What the pump's own meter measured has left the tank: it is paid as measured.
        let (Measure::Volume(volume), Some(tank), false) = (
            line.measure,
            line.tank,
            line.price_source == PriceSource::Pump,
        ) else {
            continue;
        };
        let capacity: i64 = tx
            .sql
            .prepare_cached("SELECT capacity_ml FROM tanks WHERE tank_no = ?1")?
            .query_row(params![tank], |r| r.get(0))?;
        if volume.get() > capacity {
            return Err(StationError::VolumeOverTank {
                line: line.line_no,
                tank,
                volume,
                capacity: Millilitres(capacity),
            });
        }
        let limit = limits.largest_manual_volume;
        if volume > limit {
            if !confirmed {
                return Err(StationError::VolumeOverLimit {
                    line: line.line_no,
                    volume,
                    limit,
                });
            }
            past.push(format!(
                "line {}: {volume} L keyed by hand, over the limit of {limit} L",
                line.line_no
            ));
        }
    }
    if let PaymentRequest::Cash { tendered } = payment
        && *tendered > limits.largest_tender
    {
        if !confirmed {
            return Err(StationError::TenderOverLimit {
                tendered: *tendered,
                limit: limits.largest_tender,
            });
        }
        past.push(format!(
            "cash tendered {tendered} won, over the limit of {} won",
            limits.largest_tender
        ));
    }
    Ok(past)
}

/// Resolves a requested line into a priced line, and who approved an override.
fn price_line(
    tx: &Tx<'_>,
    line_no: u16,
    line: SaleLineRequest,
) -> Result<(SaleLine, Option<UserId>)> {
    let unit = product_unit(&tx.sql, &line.product)?;
    let product_name: String = tx
        .sql
        .prepare_cached("SELECT name FROM products WHERE product_id = ?1")?
        .query_row(params![line.product], |r| r.get(0))?;
    let tank = match (unit, line.measure) {
        (Unit::Litre, Measure::Volume(volume)) => {
            ensure_positive("volume (ml)", volume.get())?;
            if volume.get() > MAX_VOLUME_ML {
                return Err(StationError::InvalidInput {
                    field: "volume",
                    problem: "it is larger than any tank".into(),
                });
            }
            Some(resolve_tank(tx, &line.product, line.tank)?)
        }
        (Unit::Piece, Measure::Quantity(quantity)) => {
            ensure_positive("quantity", quantity)?;
            if quantity > 10_000 {
                return Err(StationError::InvalidInput {
                    field: "quantity",
                    problem: "at most 10,000 pieces a line".into(),
                });
            }
            if line.tank.is_some() {
                return Err(StationError::InvalidInput {
                    field: "tank",
                    problem: format!("{} is a shop item and is not kept in a tank", line.product),
                });
            }
            None
        }
        (Unit::Litre, Measure::Quantity(_)) => {
            return Err(StationError::WrongMeasure {
                product: line.product,
                unit: "by the litre",
                hint: "give a volume",
            });
        }
        (Unit::Piece, Measure::Volume(_)) => {
            return Err(StationError::WrongMeasure {
                product: line.product,
                unit: "by the piece",
                hint: "give a quantity",
            });
        }
    };
    let amount_at = |price: UnitPrice| {
        match line.measure {
            Measure::Volume(v) => amount_for_volume(v, price),
            Measure::Quantity(q) => amount_for_quantity(q, price),
        }
        .map_err(|e| StationError::InvalidInput {
            field: "line amount",
            problem: format!("line {line_no}: {e}"),
        })
    };
    let check_price = |price: UnitPrice| {
        ensure_positive("unit price (won)", price.get())?;
        if price.get() > MAX_UNIT_PRICE_WON {
            return Err(StationError::InvalidInput {
                field: "unit price",
                problem: "it is above the ceiling".into(),
            });
        }
        Ok(())
    };
    let (unit_price, amount, price_source, price_version, override_by) = match line.pricing {
        LinePricing::PriceList => {
            let price = price_in_force(&tx.sql, &line.product, tx.now_ms())?;
            (
                price.unit_price,
                amount_at(price.unit_price)?,
                PriceSource::PriceList,
                Some(price.version),
                None,
            )
        }
        LinePricing::Pump { unit_price, amount } => {
            check_price(unit_price)?;
            ensure_positive("pump amount (won)", amount.get())?;
            if amount.get() > MAX_AMOUNT_WON {
                return Err(StationError::InvalidInput {
                    field: "pump amount",
                    problem: format!(
                        "{amount} won is above the {MAX_AMOUNT_WON} won a line can come to"
                    ),
                });
            }
            (unit_price, amount, PriceSource::Pump, None, None)
        }
        LinePricing::ManagerOverride {
            unit_price,
            approval,
        } => {
            check_price(unit_price)?;
            (
                unit_price,
                amount_at(unit_price)?,
                PriceSource::ManagerOverride,
                None,
                Some(approval.manager().clone()),
            )
        }
    };
    if amount.get() <= 0 {
        return Err(StationError::InvalidInput {
            field: "line amount",
            problem: format!("line {line_no} comes to 0 won; sell at least 1 won's worth"),
        });
    }
    let line = SaleLine {
        line_no,
        product: line.product,
        product_name,
        tank,
        measure: line.measure,
        unit_price,
        amount,
        price_source,
        price_version,
    };
    Ok((line, override_by))
}

fn resolve_tank(tx: &Tx<'_>, product: &ProductId, named: Option<TankNo>) -> Result<TankNo> {
    if let Some(tank) = named {
        let holds = tank_product(&tx.sql, tank)?;
        if &holds != product {
            return Err(StationError::TankHoldsOtherProduct {
                tank,
                tank_product: holds,
                product: product.clone(),
            });
        }
        return Ok(tank);
    }
    match tanks_of(&tx.sql, product)?.as_slice() {
        [] => Err(StationError::NoTankForProduct(product.clone())),
        [only] => Ok(*only),
        several => Err(StationError::TankNotNamed {
            product: product.clone(),
            tanks: several
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn next_receipt_no(tx: &Tx<'_>, day: Date) -> Result<String> {
    let n: i64 = tx
        .sql
        .prepare_cached(
            "UPDATE business_days SET next_receipt_no = next_receipt_no + 1 WHERE business_day = ?1
             RETURNING next_receipt_no - 1",
        )?
        .query_row(params![date_text(day)], |r| r.get(0))?;
    Ok(format!(
        "{}-{}-{n:04}",
        tx.station.station_id,
        day.strftime("%Y%m%d")
    ))
}

fn cancel(
    tx: &Tx<'_>,
    actor: &Actor,
    approval: &ManagerApproval,
    sale_id: SaleId,
    reason: &str,
) -> Result<()> {
    let sale = load_sale(&tx.sql, sale_id)?.ok_or(StationError::UnknownSale(sale_id))?;
    if sale.cancellation.is_some() {
        return Err(StationError::SaleAlreadyCanceled(sale_id));
    }
    let shift = match open_shift_of(tx, actor.user()) {
        Ok(shift) => Some(shift),
        // A cash refund leaves a drawer, so it needs the actor's open shift; others do not.
        Err(StationError::NoOpenShift(_)) if !matches!(sale.payment, Payment::Cash { .. }) => None,
        Err(e) => return Err(e),
    };
    let day = tx.business_day()?;
    let cancellation_id = new_v7(tx.now);
    tx.sql.execute(
        "INSERT INTO sale_cancellations (cancellation_id, sale_id, business_day, shift_id, canceled_by, approved_by, reason, canceled_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            cancellation_id.to_string(),
            sale_id,
            date_text(day),
            shift,
            actor.user(),
            approval.manager(),
            reason,
            tx.now_ms()
        ],
    )?;
    for line in &sale.lines {
        if let (Some(tank), Measure::Volume(v)) = (line.tank, line.measure) {
            record_flow(
                tx,
                tank,
                &line.product,
                FlowKind::Cancellation,
                v,
                &sale_id.to_string(),
                day,
            )?;
        }
        add_to_summary(tx, day, line, true)?;
    }
    if let Payment::Account(account) = &sale.payment {
        add_to_balance(tx, *account, Won(-sale.total.get()))?;
    }
    tx.emit(Event::SaleCanceled(SaleCanceled {
        cancellation_id,
        sale_id: sale_id.uuid(),
        business_day: day,
        sale_business_day: sale.business_day,
        reason: reason.to_owned(),
        canceled_by: actor.user().to_string(),
        approved_by: approval.manager().to_string(),
        lines: sale.lines.iter().map(wire_line).collect(),
        total_won: sale.total.get(),
    }))?;
    tx.audit(
        AuditRecord::new(AuditAction::SaleCanceled, actor.user().as_str())
            .approved_by(approval.manager().as_str())
            .subject(&sale.receipt_no)
            .detail(reason),
    )?;
    Ok(())
}

fn add_to_summary(tx: &Tx<'_>, day: Date, line: &SaleLine, canceled: bool) -> Result<()> {
    let (volume, quantity) = split_measure(line.measure);
    let sql = if canceled {
        "INSERT INTO sales_summary (business_day, product_id, canceled_count, canceled_volume_ml, canceled_quantity, canceled_amount_won)
         VALUES (?1, ?2, 1, ?3, ?4, ?5)
         ON CONFLICT (business_day, product_id) DO UPDATE SET
           canceled_count = canceled_count + 1,
           canceled_volume_ml = canceled_volume_ml + excluded.canceled_volume_ml,
           canceled_quantity = canceled_quantity + excluded.canceled_quantity,
           canceled_amount_won = canceled_amount_won + excluded.canceled_amount_won"
    } else {
        "INSERT INTO sales_summary (business_day, product_id, sales_count, sales_volume_ml, sales_quantity, sales_amount_won)
         VALUES (?1, ?2, 1, ?3, ?4, ?5)
         ON CONFLICT (business_day, product_id) DO UPDATE SET
           sales_count = sales_count + 1,
           sales_volume_ml = sales_volume_ml + excluded.sales_volume_ml,
           sales_quantity = sales_quantity + excluded.sales_quantity,
           sales_amount_won = sales_amount_won + excluded.sales_amount_won"
    };
    tx.sql.prepare_cached(sql)?.execute(params![
        date_text(day),
        line.product,
        volume.unwrap_or(0),
        quantity.unwrap_or(0),
        line.amount.get()
    ])?;
    Ok(())
}

fn split_measure(measure: Measure) -> (Option<i64>, Option<i64>) {
    match measure {
        Measure::Volume(v) => (Some(v.get()), None),
        Measure::Quantity(q) => (None, Some(q)),
    }
}

fn wire_price_source(source: PriceSource) -> &'static str {
    match source {
        PriceSource::PriceList => "price_list",
        PriceSource::Pump => "pump",
        PriceSource::ManagerOverride => "manager_override",
    }
}

fn wire_line(line: &SaleLine) -> WireLine {
    let (volume_ml, quantity) = split_measure(line.measure);
    WireLine {
        line_no: line.line_no,
        product_id: line.product.to_string(),
        tank: line.tank.map(TankNo::get),
        volume_ml,
        quantity,
        unit_price_won: line.unit_price.get(),
        amount_won: line.amount.get(),
        price_source: match line.price_source {
            PriceSource::PriceList => WirePriceSource::PriceList,
            PriceSource::Pump => WirePriceSource::Pump,
            PriceSource::ManagerOverride => WirePriceSource::ManagerOverride,
        },
        price_version: line.price_version,
    }
}

fn wire_payment(payment: &Payment) -> WirePayment {
    match payment {
        Payment::Cash { tendered, change } => WirePayment::Cash {
            tendered_won: tendered.get(),
            change_won: change.get(),
        },
        Payment::Card { reference } => WirePayment::Card {
            reference: reference.clone(),
        },
        Payment::Account(account) => WirePayment::Account {
            account_id: account.uuid(),
        },
    }
}

fn load_sale(conn: &rusqlite::Connection, sale: SaleId) -> Result<Option<SaleRecord>> {
    type Head = (
        String,
        String,
        ShiftId,
        UserId,
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<AccountId>,
    );
    let head: Option<Head> = conn
        .prepare_cached(
            "SELECT receipt_no, business_day, shift_id, cashier, settled_at_ms, total_won, payment_method,
                    tendered_won, change_won, card_reference, account_id
             FROM sales WHERE sale_id = ?1",
        )?
        .query_row(params![sale], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .optional()?;
    let Some((
        receipt_no,
        day,
        shift,
        cashier,
        settled_ms,
        total,
        method,
        tendered,
        change,
        card,
        account,
    )) = head
    else {
        return Ok(None);
    };
    let corrupt = |what: &str| StationError::DatabaseCorrupt(format!("sale {sale}: {what}"));
    let payment = match (method.as_str(), tendered, change, card, account) {
        ("cash", Some(t), Some(c), _, _) => Payment::Cash {
            tendered: Won(t),
            change: Won(c),
        },
        ("card", _, _, Some(reference), _) => Payment::Card { reference },
        ("account", _, _, _, Some(account)) => Payment::Account(account),
        _ => return Err(corrupt("its payment is incomplete")),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT l.line_no, l.product_id, p.name, l.tank_no, l.volume_ml, l.quantity, l.unit_price_won, l.amount_won,
                l.price_source, l.price_version
         FROM sale_lines l JOIN products p USING (product_id) WHERE l.sale_id = ?1 ORDER BY l.line_no",
    )?;
    let lines = stmt
        .query_map(params![sale], |r| {
            Ok((
                r.get::<_, u16>(0)?,
                r.get::<_, ProductId>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<TankNo>>(3)?,
                (r.get::<_, Option<i64>>(4)?, r.get::<_, Option<i64>>(5)?),
                (r.get::<_, i64>(6)?, r.get::<_, i64>(7)?),
                r.get::<_, String>(8)?,
                r.get::<_, Option<i64>>(9)?,
            ))
        })?
        .map(|row| {
            let (line_no, product, product_name, tank, measure, (price, amount), source, version) =
                row?;
            let measure = match measure {
                (Some(v), None) => Measure::Volume(Millilitres(v)),
                (None, Some(q)) => Measure::Quantity(q),
                _ => return Err(corrupt("a line has both or neither of volume and quantity")),
            };
            let price_source = match source.as_str() {
                "price_list" => PriceSource::PriceList,
                "pump" => PriceSource::Pump,
                "manager_override" => PriceSource::ManagerOverride,
                _ => return Err(corrupt("a line has an unknown price source")),
            };
            Ok(SaleLine {
                line_no,
                product,
                product_name,
                tank,
                measure,
                unit_price: UnitPrice(price),
                amount: Won(amount),
                price_source,
                price_version: version.and_then(|v| u64::try_from(v).ok()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let cancellation = conn
        .prepare_cached(
            "SELECT business_day, reason, canceled_by, approved_by, canceled_at_ms FROM sale_cancellations WHERE sale_id = ?1",
        )?
        .query_row(params![sale], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, UserId>(2)?, r.get::<_, UserId>(3)?, r.get::<_, i64>(4)?))
        })
        .optional()?
        .map(|(day, reason, canceled_by, approved_by, at)| {
            Ok::<_, StationError>(Cancellation {
                business_day: parse_date(&day)?,
                reason,
                canceled_by,
                approved_by,
                canceled_at: timestamp(at)?,
            })
        })
        .transpose()?;
    Ok(Some(SaleRecord {
        sale,
        receipt_no,
        business_day: parse_date(&day)?,
        shift,
        cashier,
        settled_at: timestamp(settled_ms)?,
        lines,
        total: Won(total),
        payment,
        cancellation,
    }))
}
