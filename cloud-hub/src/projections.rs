//! The read models, moved only by events: order status, shipments, sales per station, product
//! and business day, book stock per station and tank, and each station's applied price version.
//!
//! Each event is applied in the transaction that records it. The figures follow the station's
//! own rules exactly, so HQ's totals equal the station's: a sale counts each of its lines on the
//! sale's business day; a cancellation counts its lines as canceled on the day it happened;
//! book stock moves by deliveries received, fuel sold, fuel put back and adjustments.

use rusqlite::{Connection, params};
use sync_protocol::Event;

use crate::error::{HubError, Result};
use crate::hub::to_i64;

pub(crate) fn apply(
    tx: &Connection,
    station: &str,
    event: &Event,
    occurred_ms: i64,
    now_ms: i64,
) -> Result<()> {
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
            tx.prepare_cached("UPDATE rm_orders SET shipped_volume_ml = shipped_volume_ml + ?2, status = 'shipped', updated_at_ms = ?3
                 WHERE order_id = ?1")?.execute(params![order, shipment.volume_ml, now_ms],
            )?;
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
            let changed = tx.prepare_cached("UPDATE rm_orders SET received_volume_ml = received_volume_ml + ?3, status = 'delivered', updated_at_ms = ?4
                 WHERE order_id = ?1 AND station_id = ?2")?.execute(params![order, station, delivery.received_volume_ml, now_ms],
            )?;
            if changed == 0 {
                return Err(HubError::UnknownOrder(order));
            }
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
                tx.prepare_cached("INSERT INTO rm_sales (station_id, business_day, product_id, sales_count, sales_volume_ml, sales_quantity, sales_amount_won)
                     VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)
                     ON CONFLICT (station_id, business_day, product_id) DO UPDATE SET
                        sales_count = sales_count + 1, sales_volume_ml = sales_volume_ml + ?4,
                        sales_quantity = sales_quantity + ?5, sales_amount_won = sales_amount_won + ?6")?.execute(params![station, day, line.product_id, line.volume_ml.unwrap_or(0), line.quantity.unwrap_or(0), line.amount_won],
                )?;
                if let (Some(tank), Some(volume)) = (line.tank, line.volume_ml) {
                    move_stock(tx, station, tank, &line.product_id, -volume)?;
                }
            }
        }
        Event::SaleCanceled(cancel) => {
            let day = cancel.business_day.to_string();
            for line in &cancel.lines {
                tx.prepare_cached("INSERT INTO rm_sales (station_id, business_day, product_id, canceled_count, canceled_volume_ml, canceled_quantity, canceled_amount_won)
                     VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)
                     ON CONFLICT (station_id, business_day, product_id) DO UPDATE SET
                        canceled_count = canceled_count + 1, canceled_volume_ml = canceled_volume_ml + ?4,
                        canceled_quantity = canceled_quantity + ?5, canceled_amount_won = canceled_amount_won + ?6")?.execute(params![station, day, line.product_id, line.volume_ml.unwrap_or(0), line.quantity.unwrap_or(0), line.amount_won],
                )?;
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
        // Recorded in the event log; no read model of this issue follows them yet.
        Event::ShiftClosed(_)
        | Event::DayClosed(_)
        | Event::CreditAccountOpened(_)
        | Event::CreditPaymentReceived(_)
        | Event::PriceChanged(_) => {}
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
    let changed = tx.prepare_cached("UPDATE rm_tanks SET book_stock_ml = book_stock_ml + ?3 WHERE station_id = ?1 AND tank = ?2")?.execute(params![station, tank, delta_ml],
    )?;
    if changed == 0 {
        // A tank HQ has not heard of (registered before sync existed): start it from this flow.
        tx.prepare_cached("INSERT INTO rm_tanks (station_id, tank, product_id, capacity_ml, book_stock_ml) VALUES (?1, ?2, ?3, 0, ?4)")?.execute(params![station, tank, product, delta_ml],
        )?;
    }
    Ok(())
}
