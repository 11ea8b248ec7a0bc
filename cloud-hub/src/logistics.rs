//! Orders and shipments at HQ: dispatch a truck for an order (by hand, or by the automatic
//! dispatch policy when it is on), reject an order; and the read-model queries HQ looks at.
//!
//! A shipment obeys the same rules whoever dispatches it (`check_shipment`); what the policy may
//! not ship stays open for a person, and a station's message is never refused for it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sync_protocol::{Event, OrderCanceled, OrderPlaced, OrderRejected, ShipmentDispatched};

use crate::error::{HubError, Result};
use crate::hub::{Hub, emit_to_station, from_ms, new_v7};
use crate::views::{OrderView, SalesRowView, ShipmentView, TankStockView, WetStockView};

const AUTO_DISPATCH: &str = "auto_dispatch";

/// The truck named on the shipments of the automatic dispatch policy.
const AUTO_TRUCK: &str = "AUTO";

/// The most a shipment carries: 100,000 L, more than any tank truck.
const MAX_SHIPMENT_VOLUME_ML: i64 = 100_000_000;

/// A shipment to dispatch for an order.
#[derive(Debug, Clone)]
pub struct NewShipment {
    pub truck: String,
    /// The volume on the truck; may differ from the order's.
    pub volume_ml: i64,
    pub expected_at: Option<Timestamp>,
}

impl Hub {
    /// Dispatches a truck for an open order; the station hears of it as an expected delivery.
    pub fn dispatch_shipment(
        &mut self,
        order: &str,
        shipment: NewShipment,
        now: Timestamp,
    ) -> Result<OrderView> {
        self.write(|tx| {
            let allowed = check_shipment(tx, order, &shipment)?;
            dispatch(tx, allowed, now)
        })?;
        self.order(order)
    }

    /// Rejects an order that has not shipped, with a reason the station sees.
    pub fn reject_order(&mut self, order: &str, reason: &str, now: Timestamp) -> Result<OrderView> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(HubError::invalid(
                "reason",
                "it must be 1 to 200 characters",
            ));
        }
        self.write(|tx| {
            let (station, status) = order_state(tx, order)?;
            if status != "ordered" {
                return Err(HubError::OrderNotOpen {
                    order: order.to_owned(),
                    status,
                    action: "rejecting it",
                    needed: "ordered and not shipped",
                });
            }
            let order_id = parse_uuid(order)?;
            emit_to_station(
                tx,
                &station,
                Event::OrderRejected(OrderRejected {
                    order_id,
                    reason: reason.to_owned(),
                }),
                now,
            )?;
            Ok(())
        })?;
        self.order(order)
    }

    /// Switches the automatic dispatch policy: every new order gets a shipment of its volume.
    pub fn set_auto_dispatch(&mut self, on: bool) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")?.execute(params![AUTO_DISPATCH, if on { "on" } else { "off" }],
            )?;
            Ok(())
        })
    }

    pub fn auto_dispatch(&self) -> Result<bool> {
        auto_dispatch_on(&self.conn)
    }

    /// Orders, newest first, optionally of one station.
    pub fn orders(&self, station: Option<&str>) -> Result<Vec<OrderView>> {
        let ids: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT order_id FROM rm_orders WHERE ?1 IS NULL OR station_id = ?1 ORDER BY ordered_at_ms DESC, order_id",
            )?;
            stmt.query_map(params![station], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        ids.iter().map(|id| self.order(id)).collect()
    }

    pub fn order(&self, order: &str) -> Result<OrderView> {
        let mut view = self
            .conn.prepare_cached("SELECT order_id, station_id, product_id, ordered_volume_ml, shipped_volume_ml, received_volume_ml,
                        status, status_reason, wanted_date, ordered_at_ms, updated_at_ms
                 FROM rm_orders WHERE order_id = ?1")?.query_row(params![order],
                |r| {
                    Ok(OrderView {
                        order: r.get(0)?,
                        station: r.get(1)?,
                        product: r.get(2)?,
                        ordered_volume_ml: r.get(3)?,
                        shipped_volume_ml: r.get(4)?,
                        received_volume_ml: r.get(5)?,
                        status: r.get(6)?,
                        status_reason: r.get(7)?,
                        wanted_date: r.get(8)?,
                        ordered_at: from_ms(r.get(9)?).to_string(),
                        updated_at: from_ms(r.get(10)?).to_string(),
                        shipments: Vec::new(),
                    })
                },
            )
            .optional()?
            .ok_or_else(|| HubError::UnknownOrder(order.to_owned()))?;
        let mut stmt = self.conn.prepare(
            "SELECT shipment_id, order_id, station_id, product_id, volume_ml, truck, dispatched_at_ms, expected_at_ms,
                    tank, received_volume_ml, confirmed_at_ms
             FROM rm_shipments WHERE order_id = ?1 ORDER BY dispatched_at_ms, shipment_id",
        )?;
        view.shipments = stmt
            .query_map(params![order], |r| {
                Ok(ShipmentView {
                    shipment: r.get(0)?,
                    order: r.get(1)?,
                    station: r.get(2)?,
                    product: r.get(3)?,
                    volume_ml: r.get(4)?,
                    truck: r.get(5)?,
                    dispatched_at: from_ms(r.get(6)?).to_string(),
                    expected_at: r.get::<_, Option<i64>>(7)?.map(|t| from_ms(t).to_string()),
                    tank: r.get(8)?,
                    received_volume_ml: r.get(9)?,
                    confirmed_at: r.get::<_, Option<i64>>(10)?.map(|t| from_ms(t).to_string()),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(view)
    }

    /// Sales per station, business day and product, optionally narrowed.
    pub fn sales(&self, station: Option<&str>, day: Option<&str>) -> Result<Vec<SalesRowView>> {
        self.sales_between(station, day, day)
    }

    /// Sales per station, business day and product, of the days `from` to `to` (each optional,
    /// both included).
    pub fn sales_between(
        &self,
        station: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<SalesRowView>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT station_id, business_day, product_id, sales_count, sales_volume_ml, sales_quantity, sales_amount_won,
                    canceled_count, canceled_volume_ml, canceled_quantity, canceled_amount_won
             FROM rm_sales WHERE (?1 IS NULL OR station_id = ?1)
               AND (?2 IS NULL OR business_day >= ?2) AND (?3 IS NULL OR business_day <= ?3)
             ORDER BY station_id, business_day, product_id",
        )?;
        let rows = stmt
            .query_map(params![station, from, to], |r| {
                let sales: i64 = r.get(6)?;
                let canceled: i64 = r.get(10)?;
                // Both sums are checked as events move them; their difference may still not fit.
                let net = sales
                    .checked_sub(canceled)
                    .ok_or(rusqlite::Error::IntegralValueOutOfRange(10, canceled))?;
                Ok(SalesRowView {
                    station: r.get(0)?,
                    business_day: r.get(1)?,
                    product: r.get(2)?,
                    sales_count: r.get(3)?,
                    sales_volume_ml: r.get(4)?,
                    sales_quantity: r.get(5)?,
                    sales_amount_won: sales,
                    canceled_count: r.get(7)?,
                    canceled_volume_ml: r.get(8)?,
                    canceled_quantity: r.get(9)?,
                    canceled_amount_won: canceled,
                    net_amount_won: net,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Wet-stock reconciliations per station, business day and tank, optionally narrowed.
    pub fn wet_stock(&self, station: Option<&str>, day: Option<&str>) -> Result<Vec<WetStockView>> {
        let mut stmt = self.conn.prepare(
            "SELECT station_id, business_day, tank, product_id, opening_ml, deliveries_ml, sales_ml, closing_ml,
                    variance_ml, limit_ml, flagged
             FROM rm_wet_stock WHERE (?1 IS NULL OR station_id = ?1) AND (?2 IS NULL OR business_day = ?2)
             ORDER BY station_id, business_day, tank",
        )?;
        let rows = stmt
            .query_map(params![station, day], |r| {
                Ok(WetStockView {
                    station: r.get(0)?,
                    business_day: r.get(1)?,
                    tank: r.get(2)?,
                    product: r.get(3)?,
                    opening_ml: r.get(4)?,
                    deliveries_ml: r.get(5)?,
                    sales_ml: r.get(6)?,
                    closing_ml: r.get(7)?,
                    variance_ml: r.get(8)?,
                    limit_ml: r.get(9)?,
                    flagged: r.get(10)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Book stock per station and tank, from the stations' events.
    pub fn tank_stock(&self, station: Option<&str>) -> Result<Vec<TankStockView>> {
        let mut stmt = self.conn.prepare(
            "SELECT station_id, tank, product_id, capacity_ml, book_stock_ml FROM rm_tanks
             WHERE ?1 IS NULL OR station_id = ?1 ORDER BY station_id, tank",
        )?;
        let rows = stmt
            .query_map(params![station], |r| {
                Ok(TankStockView {
                    station: r.get(0)?,
                    tank: r.get(1)?,
                    product: r.get(2)?,
                    capacity_ml: r.get(3)?,
                    book_stock_ml: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// HQ's policies that follow a station event, in the same transaction. A rule never fails the
/// station's event here: what a policy may not do is left to a person at HQ, with a warning.
pub(crate) fn after_station_event(tx: &Connection, event: &Event) -> Result<()> {
    match event {
        Event::OrderCanceled(cancel) => warn_of_shipments_for_canceled_order(tx, cancel),
        _ => Ok(()),
    }
}

/// HQ's policies that wait for a whole batch of station events, once all of them are applied, in
/// the batch's transaction: the automatic dispatch of the orders placed in it, so an order
/// placed and canceled while its station was offline (both arriving in one batch) is never
/// shipped. Each dispatch has its own savepoint: one that fails for anything but storage is
/// left to a person, with a warning, and never fails the batch.
pub(crate) fn after_station_batch(
    tx: &mut rusqlite::Transaction<'_>,
    applied: &[Event],
    now: Timestamp,
) -> Result<()> {
    for event in applied {
        let Event::OrderPlaced(order) = event else {
            continue;
        };
        let savepoint = tx.savepoint()?;
        match dispatch_automatically(&savepoint, order, now) {
            Ok(()) => savepoint.commit()?,
            Err(HubError::Storage(detail)) => return Err(HubError::Storage(detail)),
            Err(error) => {
                drop(savepoint);
                tracing::warn!(
                    order = %order.order_id,
                    code = error.code(),
                    %error,
                    "automatic dispatch failed; the order stays open for HQ to dispatch by hand or reject"
                );
            }
        }
    }
    Ok(())
}

/// While the policy is on, a new order gets one shipment of its whole volume on the `AUTO`
/// truck, if a person at HQ could dispatch it so ([`check_shipment`]). When a rule refuses it,
/// the order stays open for a person to dispatch or reject; the station's message is applied
/// all the same.
fn dispatch_automatically(tx: &Connection, order: &OrderPlaced, now: Timestamp) -> Result<()> {
    if !auto_dispatch_on(tx)? {
        return Ok(());
    }
    let id = order.order_id.to_string();
    let shipment = NewShipment {
        truck: AUTO_TRUCK.to_owned(),
        volume_ml: order.volume_ml,
        expected_at: None,
    };
    match check_shipment(tx, &id, &shipment) {
        Ok(allowed) => dispatch(tx, allowed, now),
        Err(HubError::Storage(detail)) => Err(HubError::Storage(detail)),
        // Canceled or rejected before the policy looked at it: closed, so never shipped.
        Err(HubError::OrderNotOpen { status, .. }) => {
            tracing::info!(order = %id, status, "a closed order is not dispatched automatically");
            Ok(())
        }
        Err(refusal) => {
            tracing::warn!(
                order = %id,
                code = refusal.code(),
                %refusal,
                "automatic dispatch refused; the order stays open for HQ to dispatch by hand or reject"
            );
            Ok(())
        }
    }
}

/// A station canceled an order HQ had already shipped, before it heard of the shipment. The
/// cancellation stands (the order is the station's, and the station will refuse the shipment),
/// so every truck still on its way must be called back: HQ says so for each.
fn warn_of_shipments_for_canceled_order(tx: &Connection, cancel: &OrderCanceled) -> Result<()> {
    let order = cancel.order_id.to_string();
    let mut stmt = tx.prepare_cached(
        "SELECT station_id, shipment_id, truck, volume_ml FROM rm_shipments
         WHERE order_id = ?1 AND confirmed_at_ms IS NULL ORDER BY dispatched_at_ms, shipment_id",
    )?;
    let unconfirmed = stmt
        .query_map(params![order], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (station, shipment, truck, volume_ml) in unconfirmed {
        tracing::warn!(
            station,
            %order,
            shipment,
            truck,
            volume_ml,
            reason = cancel.reason,
            "the station canceled an order HQ had already shipped; it will refuse the shipment: call the truck back"
        );
    }
    Ok(())
}

fn auto_dispatch_on(conn: &Connection) -> Result<bool> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row(params![AUTO_DISPATCH], |r| r.get(0))
        .optional()?;
    Ok(value.as_deref() == Some("on"))
}

/// A shipment every dispatch rule allows. Only [`check_shipment`] makes one, so a manual and an
/// automatic dispatch obey the same rules.
#[derive(Debug)]
struct AllowedShipment {
    station: String,
    order_id: uuid::Uuid,
    /// Always the order's own product.
    product: String,
    truck: String,
    volume_ml: i64,
    expected_at: Option<Timestamp>,
}

/// HQ's rules for a shipment, whoever dispatches it: a truck named in 1 to 32 characters; 1 ml
/// to 100,000 L on it; a known order that is ordered or already shipped (never canceled,
/// rejected or delivered); and the order's own product on the truck.
fn check_shipment(tx: &Connection, order: &str, shipment: &NewShipment) -> Result<AllowedShipment> {
    let truck = shipment.truck.trim();
    if truck.is_empty() || truck.chars().count() > 32 {
        return Err(HubError::invalid("truck", "it must be 1 to 32 characters"));
    }
    if !(1..=MAX_SHIPMENT_VOLUME_ML).contains(&shipment.volume_ml) {
        return Err(HubError::invalid(
            "shipment volume",
            format!(
                "{} ml is not between 1 ml and 100,000 L",
                shipment.volume_ml
            ),
        ));
    }
    let (station, status, product): (String, String, String) = tx
        .prepare_cached("SELECT station_id, status, product_id FROM rm_orders WHERE order_id = ?1")?
        .query_row(params![order], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| HubError::UnknownOrder(order.to_owned()))?;
    if status != "ordered" && status != "shipped" {
        return Err(HubError::OrderNotOpen {
            order: order.to_owned(),
            status,
            action: "dispatching a shipment",
            needed: "ordered or shipped",
        });
    }
    Ok(AllowedShipment {
        station,
        order_id: parse_uuid(order)?,
        product,
        truck: truck.to_owned(),
        volume_ml: shipment.volume_ml,
        expected_at: shipment.expected_at,
    })
}

fn dispatch(tx: &Connection, shipment: AllowedShipment, now: Timestamp) -> Result<()> {
    emit_to_station(
        tx,
        &shipment.station,
        Event::ShipmentDispatched(ShipmentDispatched {
            shipment_id: new_v7(now),
            order_id: shipment.order_id,
            product_id: shipment.product,
            volume_ml: shipment.volume_ml,
            truck: shipment.truck,
            expected_at: shipment.expected_at,
        }),
        now,
    )?;
    Ok(())
}

fn order_state(tx: &Connection, order: &str) -> Result<(String, String)> {
    tx.prepare_cached("SELECT station_id, status FROM rm_orders WHERE order_id = ?1")?
        .query_row(params![order], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| HubError::UnknownOrder(order.to_owned()))
}

fn parse_uuid(order: &str) -> Result<uuid::Uuid> {
    order
        .parse()
        .map_err(|_| HubError::UnknownOrder(order.to_owned()))
}
