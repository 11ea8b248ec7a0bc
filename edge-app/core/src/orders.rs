//! Fuel orders, expected deliveries and delivery confirmation (flow 1 of the design), and the
//! order status read model.
//!
//! Order status: `ordered` → `shipped` (HQ dispatched at least one truck) → `delivered` (every
//! shipment recorded for it is confirmed); or `canceled` (by the station, before shipping) or
//! `rejected` (by HQ). Book stock rises only at confirmation, by the volume actually received.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use sync_protocol::{DeliveryConfirmed, Event, OrderCanceled, OrderPlaced};

use crate::auth::ManagerApproval;
use crate::catalog::{Unit, product_unit, tank_product};
use crate::error::{Result, StationError, ensure_positive, ensure_text};
use crate::ids::{OrderId, ProductId, ShipmentId, TankNo, UserId};
use crate::sql::{date_text, ms, parse_date, timestamp};
use crate::station::{Station, Tx};
use crate::stock::{FlowKind, record_flow, tank_levels};
use crate::units::{MAX_VOLUME_ML, Millilitres};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Ordered,
    Shipped,
    Delivered,
    Canceled,
    Rejected,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Ordered => "ordered",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Rejected => "rejected",
        }
    }

    fn from_stored(s: &str) -> Result<OrderStatus> {
        Ok(match s {
            "ordered" => OrderStatus::Ordered,
            "shipped" => OrderStatus::Shipped,
            "delivered" => OrderStatus::Delivered,
            "canceled" => OrderStatus::Canceled,
            "rejected" => OrderStatus::Rejected,
            other => {
                return Err(StationError::DatabaseCorrupt(format!(
                    "unknown order status `{other}`"
                )));
            }
        })
    }
}

/// A fuel order to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub product: ProductId,
    pub volume: Millilitres,
    pub wanted_date: Date,
}

/// The order status read model: one row per order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub order: OrderId,
    pub product: ProductId,
    pub ordered_volume: Millilitres,
    pub shipped_volume: Millilitres,
    pub received_volume: Millilitres,
    pub status: OrderStatus,
    pub status_reason: Option<String>,
    pub wanted_date: Date,
    pub ordered_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A shipment HQ dispatched, as the station expects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedDelivery {
    pub shipment: ShipmentId,
    pub order: OrderId,
    pub product: ProductId,
    pub volume: Millilitres,
    pub truck: String,
    pub expected_at: Option<Timestamp>,
}

/// An expected delivery and, once confirmed, what was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryView {
    pub expected: ExpectedDelivery,
    pub confirmation: Option<DeliveryConfirmation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfirmation {
    pub tank: TankNo,
    pub received_volume: Millilitres,
    pub confirmed_by: UserId,
    pub confirmed_at: Timestamp,
}

impl Station {
    /// Places a fuel order.
    pub fn place_order(
        &mut self,
        approval: &ManagerApproval,
        order: NewOrder,
        now: Timestamp,
    ) -> Result<OrderId> {
        ensure_positive("order volume (ml)", order.volume.get())?;
        if order.volume.get() > MAX_VOLUME_ML {
            return Err(StationError::InvalidInput {
                field: "order volume",
                problem: "it is larger than any delivery".into(),
            });
        }
        self.write(now, |tx| {
            if product_unit(&tx.sql, &order.product)? != Unit::Litre {
                return Err(StationError::WrongMeasure {
                    product: order.product.clone(),
                    unit: "by the piece",
                    hint: "fuel orders are for fuel kept in tanks",
                });
            }
            if order.wanted_date < tx.local_date() {
                return Err(StationError::InvalidInput {
                    field: "wanted date",
                    problem: format!("{} is in the past", order.wanted_date),
                });
            }
            let order_id = OrderId::generate(tx.now);
            tx.sql.execute(
                "INSERT INTO orders (order_id, product_id, volume_ml, wanted_date, ordered_by, ordered_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![order_id, order.product, order.volume.get(), date_text(order.wanted_date), approval.manager(), tx.now_ms()],
            )?;
            tx.sql.execute(
                "INSERT INTO order_status (order_id, product_id, ordered_volume_ml, status, wanted_date, ordered_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, 'ordered', ?4, ?5, ?5)",
                params![order_id, order.product, order.volume.get(), date_text(order.wanted_date), tx.now_ms()],
            )?;
            tx.emit(Event::OrderPlaced(OrderPlaced {
                order_id: order_id.uuid(),
                product_id: order.product.to_string(),
                volume_ml: order.volume.get(),
                wanted_date: order.wanted_date,
                ordered_by: approval.manager().to_string(),
            }))?;
            Ok(order_id)
        })
    }

    /// Cancels an order that has not been shipped.
    pub fn cancel_order(
        &mut self,
        approval: &ManagerApproval,
        order: OrderId,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        let reason = ensure_text("reason", reason, 200)?;
        self.write(now, |tx| {
            let status = order_status(tx, order)?;
            if status != OrderStatus::Ordered {
                return Err(StationError::OrderClosed { order, status: status.as_str(), action: "canceled" });
            }
            tx.sql.execute(
                "INSERT INTO order_cancellations (order_id, reason, canceled_by, canceled_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![order, reason, approval.manager(), tx.now_ms()],
            )?;
            set_status(tx, order, OrderStatus::Canceled, Some(&reason))?;
            tx.emit(Event::OrderCanceled(OrderCanceled {
                order_id: order.uuid(),
                reason: reason.clone(),
                canceled_by: approval.manager().to_string(),
            }))?;
            Ok(())
        })
    }

    /// Records a shipment HQ dispatched (normally applied from HQ's message; also by hand when
    /// HQ phones it in).
    pub fn record_expected_delivery(
        &mut self,
        delivery: ExpectedDelivery,
        now: Timestamp,
    ) -> Result<()> {
        self.write(now, |tx| record_expected_delivery(tx, &delivery))
    }

    /// HQ rejected an order.
    pub fn record_order_rejection(
        &mut self,
        order: OrderId,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        let reason = ensure_text("reason", reason, 200)?;
        self.write(now, |tx| record_order_rejection(tx, order, &reason))
    }

    /// Confirms a delivery with the volume actually received into a tank; book stock rises by it.
    pub fn confirm_delivery(
        &mut self,
        approval: &ManagerApproval,
        shipment: ShipmentId,
        tank: TankNo,
        received: Millilitres,
        now: Timestamp,
    ) -> Result<()> {
        ensure_positive("received volume (ml)", received.get())?;
        self.write(now, |tx| {
            let expected = expected_delivery(&tx.sql, shipment)?.ok_or(StationError::UnknownShipment(shipment))?;
            let confirmed: bool = tx.sql.query_row(
                "SELECT EXISTS (SELECT 1 FROM delivery_confirmations WHERE shipment_id = ?1)",
                params![shipment],
                |r| r.get(0),
            )?;
            if confirmed {
                return Err(StationError::DeliveryAlreadyConfirmed(shipment));
            }
            let tank_holds = tank_product(&tx.sql, tank)?;
            if tank_holds != expected.product {
                return Err(StationError::TankHoldsOtherProduct { tank, tank_product: tank_holds, product: expected.product });
            }
            let (book, capacity) = tank_levels(tx, tank)?;
            if book.get() + received.get() > capacity.get() {
                return Err(StationError::TankOverfill { tank, book_stock: book, capacity, volume: received });
            }
            tx.sql.execute(
                "INSERT INTO delivery_confirmations (shipment_id, tank_no, received_volume_ml, confirmed_by, confirmed_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![shipment, tank, received.get(), approval.manager(), tx.now_ms()],
            )?;
            let day = tx.business_day()?;
            record_flow(tx, tank, &expected.product, FlowKind::Delivery, received, &shipment.to_string(), day)?;
            tx.sql.execute(
                "UPDATE product_stock SET expected_incoming_ml = expected_incoming_ml - ?2 WHERE product_id = ?1",
                params![expected.product, expected.volume.get()],
            )?;
            tx.sql.execute(
                "UPDATE order_status SET received_volume_ml = received_volume_ml + ?2 WHERE order_id = ?1",
                params![expected.order, received.get()],
            )?;
            let unconfirmed: i64 = tx.sql.query_row(
                "SELECT count(*) FROM expected_deliveries d
                 WHERE d.order_id = ?1 AND NOT EXISTS (SELECT 1 FROM delivery_confirmations c WHERE c.shipment_id = d.shipment_id)",
                params![expected.order],
                |r| r.get(0),
            )?;
            if unconfirmed == 0 {
                set_status(tx, expected.order, OrderStatus::Delivered, None)?;
            }
            tx.emit(Event::DeliveryConfirmed(DeliveryConfirmed {
                order_id: expected.order.uuid(),
                shipment_id: shipment.uuid(),
                tank: tank.get(),
                product_id: expected.product.to_string(),
                expected_volume_ml: expected.volume.get(),
                received_volume_ml: received.get(),
                confirmed_by: approval.manager().to_string(),
            }))?;
            Ok(())
        })
    }

    /// The order status read model, newest order first.
    pub fn orders(&self) -> Result<Vec<OrderView>> {
        let mut stmt = self.conn().prepare(
            "SELECT order_id, product_id, ordered_volume_ml, shipped_volume_ml, received_volume_ml, status,
                    status_reason, wanted_date, ordered_at_ms, updated_at_ms
             FROM order_status ORDER BY ordered_at_ms DESC, order_id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, OrderId>(0)?,
                r.get::<_, ProductId>(1)?,
                [
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ],
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                [r.get::<_, i64>(8)?, r.get::<_, i64>(9)?],
            ))
        })?;
        rows.map(|row| {
            let (
                order,
                product,
                [ordered, shipped, received],
                status,
                status_reason,
                wanted,
                [at, updated],
            ) = row?;
            Ok(OrderView {
                order,
                product,
                ordered_volume: Millilitres(ordered),
                shipped_volume: Millilitres(shipped),
                received_volume: Millilitres(received),
                status: OrderStatus::from_stored(&status)?,
                status_reason,
                wanted_date: parse_date(&wanted)?,
                ordered_at: timestamp(at)?,
                updated_at: timestamp(updated)?,
            })
        })
        .collect()
    }

    /// One order's status.
    pub fn order(&self, order: OrderId) -> Result<OrderView> {
        self.orders()?
            .into_iter()
            .find(|o| o.order == order)
            .ok_or(StationError::UnknownOrder(order))
    }

    /// Every expected delivery, unconfirmed first, then newest first.
    pub fn deliveries(&self) -> Result<Vec<DeliveryView>> {
        let mut stmt = self.conn().prepare(
            "SELECT d.shipment_id FROM expected_deliveries d
             LEFT JOIN delivery_confirmations c USING (shipment_id)
             ORDER BY c.shipment_id IS NOT NULL, d.recorded_at_ms DESC, d.shipment_id",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, ShipmentId>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.into_iter()
            .map(|shipment| {
                let expected = expected_delivery(self.conn(), shipment)?.ok_or(StationError::UnknownShipment(shipment))?;
                let confirmation = self
                    .conn()
                    .query_row(
                        "SELECT tank_no, received_volume_ml, confirmed_by, confirmed_at_ms FROM delivery_confirmations WHERE shipment_id = ?1",
                        params![shipment],
                        |r| Ok((r.get::<_, TankNo>(0)?, r.get::<_, i64>(1)?, r.get::<_, UserId>(2)?, r.get::<_, i64>(3)?)),
                    )
                    .optional()?
                    .map(|(tank, received, by, at)| {
                        Ok::<_, StationError>(DeliveryConfirmation {
                            tank,
                            received_volume: Millilitres(received),
                            confirmed_by: by,
                            confirmed_at: timestamp(at)?,
                        })
                    })
                    .transpose()?;
                Ok(DeliveryView { expected, confirmation })
            })
            .collect()
    }
}

pub(crate) fn record_expected_delivery(tx: &Tx<'_>, delivery: &ExpectedDelivery) -> Result<()> {
    ensure_positive("shipped volume (ml)", delivery.volume.get())?;
    // The volume comes from HQ's message: above the ceiling, the sums below could overflow.
    if delivery.volume.get() > MAX_VOLUME_ML {
        return Err(StationError::InvalidInput {
            field: "shipped volume",
            problem: "it is larger than any delivery".into(),
        });
    }
    let truck = ensure_text("truck", &delivery.truck, 40)?;
    let status = order_status(tx, delivery.order)?;
    if matches!(
        status,
        OrderStatus::Canceled | OrderStatus::Rejected | OrderStatus::Delivered
    ) {
        return Err(StationError::OrderClosed {
            order: delivery.order,
            status: status.as_str(),
            action: "shipped",
        });
    }
    let order_product: ProductId = tx.sql.query_row(
        "SELECT product_id FROM orders WHERE order_id = ?1",
        params![delivery.order],
        |r| r.get(0),
    )?;
    if order_product != delivery.product {
        return Err(StationError::ShipmentProductMismatch {
            shipment: delivery.shipment,
            order: delivery.order,
            shipment_product: delivery.product.clone(),
            order_product,
        });
    }
    if expected_delivery(&tx.sql, delivery.shipment)?.is_some() {
        return Err(StationError::ShipmentExists(delivery.shipment));
    }
    tx.sql.execute(
        "INSERT INTO expected_deliveries (shipment_id, order_id, product_id, volume_ml, truck, expected_at_ms, recorded_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            delivery.shipment,
            delivery.order,
            delivery.product,
            delivery.volume.get(),
            truck,
            delivery.expected_at.map(ms),
            tx.now_ms()
        ],
    )?;
    tx.sql.execute(
        "INSERT INTO product_stock (product_id, expected_incoming_ml) VALUES (?1, ?2)
         ON CONFLICT (product_id) DO UPDATE SET expected_incoming_ml = expected_incoming_ml + excluded.expected_incoming_ml",
        params![delivery.product, delivery.volume.get()],
    )?;
    tx.sql.execute(
        "UPDATE order_status SET shipped_volume_ml = shipped_volume_ml + ?2 WHERE order_id = ?1",
        params![delivery.order, delivery.volume.get()],
    )?;
    set_status(tx, delivery.order, OrderStatus::Shipped, None)
}

pub(crate) fn record_order_rejection(tx: &Tx<'_>, order: OrderId, reason: &str) -> Result<()> {
    let status = order_status(tx, order)?;
    if status != OrderStatus::Ordered {
        return Err(StationError::OrderClosed {
            order,
            status: status.as_str(),
            action: "rejected",
        });
    }
    tx.sql.execute(
        "INSERT INTO order_rejections (order_id, reason, rejected_at_ms) VALUES (?1, ?2, ?3)",
        params![order, reason, tx.now_ms()],
    )?;
    set_status(tx, order, OrderStatus::Rejected, Some(reason))
}

fn order_status(tx: &Tx<'_>, order: OrderId) -> Result<OrderStatus> {
    let status: Option<String> = tx
        .sql
        .query_row(
            "SELECT status FROM order_status WHERE order_id = ?1",
            params![order],
            |r| r.get(0),
        )
        .optional()?;
    OrderStatus::from_stored(&status.ok_or(StationError::UnknownOrder(order))?)
}

fn set_status(
    tx: &Tx<'_>,
    order: OrderId,
    status: OrderStatus,
    reason: Option<&str>,
) -> Result<()> {
    tx.sql.execute(
        "UPDATE order_status SET status = ?2, status_reason = ?3, updated_at_ms = ?4 WHERE order_id = ?1",
        params![order, status.as_str(), reason, tx.now_ms()],
    )?;
    Ok(())
}

fn expected_delivery(
    conn: &rusqlite::Connection,
    shipment: ShipmentId,
) -> Result<Option<ExpectedDelivery>> {
    let row = conn
        .query_row(
            "SELECT order_id, product_id, volume_ml, truck, expected_at_ms FROM expected_deliveries WHERE shipment_id = ?1",
            params![shipment],
            |r| {
                Ok((
                    r.get::<_, OrderId>(0)?,
                    r.get::<_, ProductId>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(order, product, volume, truck, expected_at)| {
        Ok(ExpectedDelivery {
            shipment,
            order,
            product,
            volume: Millilitres(volume),
            truck,
            expected_at: expected_at.map(timestamp).transpose()?,
        })
    })
    .transpose()
}

/// Records an open order HQ gives back to a station that lost it (re-installed with an empty
/// database), as it was placed; an order the station already holds is left as it is. A user
/// who placed it and is not on this station any more is kept as an inactive user, who cannot
/// sign in, so that the order still names who placed it.
pub(crate) fn restore_order(tx: &Tx<'_>, order: &sync_protocol::OrderRestored) -> Result<()> {
    let id = OrderId::from_uuid(order.order_id);
    let held: bool = tx.sql.query_row(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE order_id = ?1)",
        params![id],
        |r| r.get(0),
    )?;
    if held {
        return Ok(());
    }
    ensure_positive("ordered volume (ml)", order.volume_ml)?;
    if order.volume_ml > MAX_VOLUME_ML {
        return Err(StationError::InvalidInput {
            field: "ordered volume",
            problem: "it is larger than any order".into(),
        });
    }
    let product: ProductId = order.product_id.parse()?;
    let ordered_by = if order.ordered_by.is_empty() {
        "HQ".to_owned()
    } else {
        ensure_text("orderer", &order.ordered_by, 32)?
    };
    tx.sql.execute(
        "INSERT INTO users (user_id, name, role, pin_hash, active, created_at_ms) VALUES (?1, ?1, 'cashier', '!', 0, ?2)
         ON CONFLICT (user_id) DO NOTHING",
        params![ordered_by, tx.now_ms()],
    )?;
    let at = ms(order.ordered_at);
    tx.sql.execute(
        "INSERT INTO orders (order_id, product_id, volume_ml, wanted_date, ordered_by, ordered_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, product, order.volume_ml, date_text(order.wanted_date), ordered_by, at],
    )?;
    tx.sql.execute(
        "INSERT INTO order_status (order_id, product_id, ordered_volume_ml, status, wanted_date, ordered_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, 'ordered', ?4, ?5, ?6)",
        params![id, product, order.volume_ml, date_text(order.wanted_date), at, tx.now_ms()],
    )?;
    Ok(())
}
