//! The read models, moved only by events: order status, shipments, sales per station, product
//! and business day, book stock per station and tank, each station's applied price version, and
//! each station's audit log.
//!
//! Each event is applied in the transaction that records it. The figures follow the station's
//! own rules exactly, so HQ's totals equal the station's: a sale counts each of its lines on the
//! sale's business day; a cancellation counts its lines as canceled on the day it happened;
//! book stock moves by deliveries received, fuel sold, fuel put back and adjustments.
//!
//! Every figure comes from outside (a station's message), so none is trusted: an event whose
//! volume, quantity or amount lies beyond what a station records is refused before anything is
//! added up, and every sum is checked, so an overflow is a typed refusal (the message is
//! dead-lettered with its reason) and never a panic, a wrapped figure or a float in SQLite.

use rusqlite::{Connection, OptionalExtension, params};
// The ceilings of a single figure of an event, either way: the station's own.
use sync_protocol::{Event, MAX_AMOUNT_WON, MAX_VOLUME_ML, SaleLine};

use crate::error::{HubError, Result};
use crate::hub::to_i64;

/// Moves the read models by one event, in the caller's transaction. An event with a figure out
/// of range, or whose sums would overflow, is refused with [`HubError::InvalidInput`]; whatever
/// it moved before the refusal goes with the caller's savepoint or transaction.
pub(crate) fn apply(
    tx: &Connection,
    station: &str,
    event: &Event,
    occurred_ms: i64,
    now_ms: i64,
) -> Result<()> {
    check_figures(event)?;
    match event {
        Event::TankRegistered(tank) => {
            tx.prepare_cached("INSERT INTO rm_tanks (station_id, tank, product_id, capacity_ml) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (station_id, tank) DO UPDATE SET product_id = ?3, capacity_ml = ?4")?.execute(params![station, tank.tank, tank.product_id, tank.capacity_ml],
            )?;
        }
        Event::OrderPlaced(order) => {
            tx.prepare_cached("INSERT INTO rm_orders (order_id, station_id, product_id, ordered_volume_ml, status, wanted_date, ordered_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, 'ordered', ?5, ?6, ?6)")?.execute(params![order.order_id.to_string(), station, order.product_id, order.volume_ml, order.wanted_date.to_string(), occurred_ms],
            )?;
        }
        Event::OrderCanceled(cancel) => {
            set_order_status(
                tx,
                station,
                &cancel.order_id.to_string(),
                "canceled",
                Some(&cancel.reason),
                now_ms,
            )?;
        }
        Event::ShipmentDispatched(shipment) => {
            let order = shipment.order_id.to_string();
            tx.prepare_cached("INSERT INTO rm_shipments (shipment_id, order_id, station_id, product_id, volume_ml, truck, dispatched_at_ms, expected_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(params![
                    shipment.shipment_id.to_string(),
                    order,
                    station,
                    shipment.product_id,
                    shipment.volume_ml,
                    shipment.truck,
                    occurred_ms,
                    shipment.expected_at.map(|t| t.as_millisecond())
                ],
            )?;
            let shipped: Option<i64> = tx
                .prepare_cached("SELECT shipped_volume_ml FROM rm_orders WHERE order_id = ?1")?
                .query_row(params![order], |r| r.get(0))
                .optional()?;
            if let Some(shipped) = shipped {
                let shipped = add("shipped volume (ml)", shipped, shipment.volume_ml)?;
                tx.prepare_cached("UPDATE rm_orders SET shipped_volume_ml = ?2, status = 'shipped', updated_at_ms = ?3
                     WHERE order_id = ?1")?.execute(params![order, shipped, now_ms])?;
            }
        }
        Event::OrderRejected(rejection) => {
            set_order_status(
                tx,
                station,
                &rejection.order_id.to_string(),
                "rejected",
                Some(&rejection.reason),
                now_ms,
            )?;
        }
        Event::DeliveryConfirmed(delivery) => {
            let order = delivery.order_id.to_string();
            let received: Option<i64> = tx
                .prepare_cached(
                    "SELECT received_volume_ml FROM rm_orders WHERE order_id = ?1 AND station_id = ?2",
                )?
                .query_row(params![order, station], |r| r.get(0))
                .optional()?;
            let Some(received) = received else {
                return Err(HubError::UnknownOrder(order));
            };
            let received = add(
                "received volume (ml)",
                received,
                delivery.received_volume_ml,
            )?;
            tx.prepare_cached("UPDATE rm_orders SET received_volume_ml = ?3, status = 'delivered', updated_at_ms = ?4
                 WHERE order_id = ?1 AND station_id = ?2")?.execute(params![order, station, received, now_ms])?;
            let changed = tx.prepare_cached("UPDATE rm_shipments SET tank = ?4, received_volume_ml = ?5, confirmed_at_ms = ?6
                 WHERE shipment_id = ?1 AND order_id = ?2 AND station_id = ?3")?.execute(params![
                    delivery.shipment_id.to_string(),
                    order,
                    station,
                    delivery.tank,
                    delivery.received_volume_ml,
                    occurred_ms
                ],
            )?;
            if changed == 0 {
                return Err(HubError::UnknownShipment(delivery.shipment_id.to_string()));
            }
            move_stock(
                tx,
                station,
                delivery.tank,
                &delivery.product_id,
                delivery.received_volume_ml,
            )?;
        }
        Event::SaleSettled(sale) => {
            let day = sale.business_day.to_string();
            for line in &sale.lines {
                count_line(tx, station, &day, line, Tally::Sales)?;
                if let (Some(tank), Some(volume)) = (line.tank, line.volume_ml) {
                    let out = volume.checked_neg().ok_or_else(|| {
                        HubError::invalid(
                            "sale line volume (ml)",
                            format!("{volume} cannot be taken out of a tank"),
                        )
                    })?;
                    move_stock(tx, station, tank, &line.product_id, out)?;
                }
            }
        }
        Event::SaleCanceled(cancel) => {
            let day = cancel.business_day.to_string();
            for line in &cancel.lines {
                count_line(tx, station, &day, line, Tally::Cancellations)?;
                if let (Some(tank), Some(volume)) = (line.tank, line.volume_ml) {
                    move_stock(tx, station, tank, &line.product_id, volume)?;
                }
            }
        }
        Event::StockAdjusted(adjustment) => {
            move_stock(
                tx,
                station,
                adjustment.tank,
                &adjustment.product_id,
                adjustment.delta_ml,
            )?;
        }
        Event::PriceVersionApplied(applied) => {
            tx.prepare_cached("INSERT INTO rm_stations (station_id, price_version_applied, price_applied_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (station_id) DO UPDATE SET price_version_applied = max(coalesce(price_version_applied, 0), ?2), price_applied_at_ms = ?3")?.execute(params![station, to_i64(applied.version), applied.applied_at.as_millisecond()],
            )?;
        }
        Event::WetStockReconciled(r) => {
            tx.prepare_cached(
                "INSERT INTO rm_wet_stock (station_id, business_day, tank, product_id, opening_ml, deliveries_ml,
                                           sales_ml, closing_ml, variance_ml, limit_ml, flagged)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (station_id, business_day, tank) DO UPDATE SET
                    product_id = ?4, opening_ml = ?5, deliveries_ml = ?6, sales_ml = ?7,
                    closing_ml = ?8, variance_ml = ?9, limit_ml = ?10, flagged = ?11",
            )?
            .execute(params![
                station,
                r.business_day.to_string(),
                r.tank,
                r.product_id,
                r.opening_ml,
                r.deliveries_ml,
                r.sales_ml,
                r.closing_ml,
                r.variance_ml,
                r.limit_ml,
                r.flagged
            ])?;
        }
        Event::AuditRecorded(entry) => {
            tx.prepare_cached(
                "INSERT INTO rm_station_audit (station_id, entry_no, at_ms, action, actor, approved_by, subject, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                station,
                to_i64(entry.entry_no),
                entry.at.as_millisecond(),
                entry.action,
                entry.actor,
                entry.approved_by,
                entry.subject,
                entry.detail
            ])?;
        }
        // Recorded in the event log; no read model of this issue follows them yet.
        Event::ShiftClosed(_)
        | Event::DayClosed(_)
        | Event::CreditAccountOpened(_)
        | Event::CreditPaymentReceived(_)
        | Event::PriceChanged(_)
        | Event::OrderRestored(_) => {}
    }
    tx.prepare_cached(
        "INSERT INTO rm_stations (station_id, events_applied) VALUES (?1, 1)
         ON CONFLICT (station_id) DO UPDATE SET events_applied = events_applied + 1",
    )?
    .execute(params![station])?;
    Ok(())
}

fn set_order_status(
    tx: &Connection,
    station: &str,
    order: &str,
    status: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    let changed = tx.prepare_cached("UPDATE rm_orders SET status = ?3, status_reason = ?4, updated_at_ms = ?5 WHERE order_id = ?1 AND station_id = ?2")?.execute(params![order, station, status, reason, now_ms],
    )?;
    if changed == 0 {
        return Err(HubError::UnknownOrder(order.to_owned()));
    }
    Ok(())
}

fn move_stock(
    tx: &Connection,
    station: &str,
    tank: u16,
    product: &str,
    delta_ml: i64,
) -> Result<()> {
    let book: Option<i64> = tx
        .prepare_cached("SELECT book_stock_ml FROM rm_tanks WHERE station_id = ?1 AND tank = ?2")?
        .query_row(params![station, tank], |r| r.get(0))
        .optional()?;
    match book {
        Some(book) => {
            let book = add("book stock (ml)", book, delta_ml)?;
            tx.prepare_cached(
                "UPDATE rm_tanks SET book_stock_ml = ?3 WHERE station_id = ?1 AND tank = ?2",
            )?
            .execute(params![station, tank, book])?;
        }
        None => {
            // A tank HQ has not heard of (registered before sync existed): start it from this flow.
            tx.prepare_cached("INSERT INTO rm_tanks (station_id, tank, product_id, capacity_ml, book_stock_ml) VALUES (?1, ?2, ?3, 0, ?4)")?.execute(params![station, tank, product, delta_ml],
            )?;
        }
    }
    Ok(())
}

/// The figures of a product's business day that a sale line moves: its sales, or (for a
/// cancellation) its cancellations.
#[derive(Debug, Clone, Copy)]
enum Tally {
    Sales,
    Cancellations,
}

impl Tally {
    /// The tally's count, volume, quantity and amount of one station, day and product.
    fn select(self) -> &'static str {
        match self {
            Tally::Sales => {
                "SELECT sales_count, sales_volume_ml, sales_quantity, sales_amount_won FROM rm_sales
                 WHERE station_id = ?1 AND business_day = ?2 AND product_id = ?3"
            }
            Tally::Cancellations => {
                "SELECT canceled_count, canceled_volume_ml, canceled_quantity, canceled_amount_won FROM rm_sales
                 WHERE station_id = ?1 AND business_day = ?2 AND product_id = ?3"
            }
        }
    }

    /// Writes the tally's new count, volume, quantity and amount (`?4`…`?7`).
    fn upsert(self) -> &'static str {
        match self {
            Tally::Sales => {
                "INSERT INTO rm_sales (station_id, business_day, product_id, sales_count, sales_volume_ml, sales_quantity, sales_amount_won)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (station_id, business_day, product_id) DO UPDATE SET
                    sales_count = ?4, sales_volume_ml = ?5, sales_quantity = ?6, sales_amount_won = ?7"
            }
            Tally::Cancellations => {
                "INSERT INTO rm_sales (station_id, business_day, product_id, canceled_count, canceled_volume_ml, canceled_quantity, canceled_amount_won)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (station_id, business_day, product_id) DO UPDATE SET
                    canceled_count = ?4, canceled_volume_ml = ?5, canceled_quantity = ?6, canceled_amount_won = ?7"
            }
        }
    }

    /// The names of the tally's figures, for a refusal.
    fn fields(self) -> [&'static str; 4] {
        match self {
            Tally::Sales => [
                "sales count",
                "sales volume (ml)",
                "sales quantity",
                "sales amount (won)",
            ],
            Tally::Cancellations => [
                "cancellation count",
                "canceled volume (ml)",
                "canceled quantity",
                "canceled amount (won)",
            ],
        }
    }
}

/// Counts one sale line in its product's day, each figure's sum checked.
fn count_line(
    tx: &Connection,
    station: &str,
    day: &str,
    line: &SaleLine,
    tally: Tally,
) -> Result<()> {
    let current: Option<[i64; 4]> = tx
        .prepare_cached(tally.select())?
        .query_row(params![station, day, line.product_id], |r| {
            Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
        })
        .optional()?;
    let [count, volume, quantity, amount] = current.unwrap_or_default();
    let [count_field, volume_field, quantity_field, amount_field] = tally.fields();
    tx.prepare_cached(tally.upsert())?.execute(params![
        station,
        day,
        line.product_id,
        add(count_field, count, 1)?,
        add(volume_field, volume, line.volume_ml.unwrap_or(0))?,
        add(quantity_field, quantity, line.quantity.unwrap_or(0))?,
        add(amount_field, amount, line.amount_won)?,
    ])?;
    Ok(())
}

/// `current + delta` for a read model's figure, or a refusal naming the figure when the sum
/// would leave the 64-bit range (SQLite would make it a float, which a STRICT table refuses as a
/// conflict without saying why).
fn add(field: &'static str, current: i64, delta: i64) -> Result<i64> {
    current.checked_add(delta).ok_or_else(|| {
        HubError::invalid(
            field,
            format!("adding {delta} to the {current} HQ holds would overflow"),
        )
    })
}

/// Refuses an event whose volumes, quantities or amounts lie beyond what a station records,
/// before any of them is added up. Events no read model adds up are not looked at.
fn check_figures(event: &Event) -> Result<()> {
    match event {
        Event::TankRegistered(tank) => {
            within("tank capacity (ml)", tank.capacity_ml, MAX_VOLUME_ML)
        }
        Event::OrderPlaced(order) => within("ordered volume (ml)", order.volume_ml, MAX_VOLUME_ML),
        Event::ShipmentDispatched(shipment) => {
            within("shipped volume (ml)", shipment.volume_ml, MAX_VOLUME_ML)
        }
        Event::DeliveryConfirmed(delivery) => {
            within(
                "expected volume (ml)",
                delivery.expected_volume_ml,
                MAX_VOLUME_ML,
            )?;
            within(
                "received volume (ml)",
                delivery.received_volume_ml,
                MAX_VOLUME_ML,
            )
        }
        Event::SaleSettled(sale) => sale.lines.iter().try_for_each(check_line),
        Event::SaleCanceled(cancel) => cancel.lines.iter().try_for_each(check_line),
        Event::StockAdjusted(adjustment) => {
            within("stock adjustment (ml)", adjustment.delta_ml, MAX_VOLUME_ML)
        }
        Event::OrderCanceled(_)
        | Event::OrderRejected(_)
        | Event::PriceVersionApplied(_)
        | Event::WetStockReconciled(_)
        | Event::AuditRecorded(_)
        | Event::ShiftClosed(_)
        | Event::DayClosed(_)
        | Event::CreditAccountOpened(_)
        | Event::CreditPaymentReceived(_)
        | Event::PriceChanged(_)
        | Event::OrderRestored(_) => Ok(()),
    }
}

fn check_line(line: &SaleLine) -> Result<()> {
    let of_line = |error: HubError| match error {
        HubError::InvalidInput { field, problem } => HubError::InvalidInput {
            field,
            problem: format!("line {}: {problem}", line.line_no),
        },
        other => other,
    };
    if let Some(volume) = line.volume_ml {
        within("sale line volume (ml)", volume, MAX_VOLUME_ML).map_err(of_line)?;
    }
    if let Some(quantity) = line.quantity {
        within("sale line quantity", quantity, MAX_VOLUME_ML).map_err(of_line)?;
    }
    within("sale line amount (won)", line.amount_won, MAX_AMOUNT_WON).map_err(of_line)
}

/// Refuses `value` when it lies beyond `max` either way.
fn within(field: &'static str, value: i64, max: i64) -> Result<()> {
    if value.unsigned_abs() <= max.unsigned_abs() {
        Ok(())
    } else {
        Err(HubError::invalid(
            field,
            format!("{value} is outside what a station records (at most {max} either way)"),
        ))
    }
}
