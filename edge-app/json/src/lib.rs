//! The JSON shape of the station's records, as the `station` tool prints them and the edge
//! runtime's API returns them. Money is integer won (`*_won`), volume integer
//! millilitres (`*_ml`), times RFC 3339 UTC, business days `YYYY-MM-DD`.

use serde_json::{Value, json};
use station_core::{
    AccountMovement, CreditAccount, DayReport, DeadLetter, DeliveryView, Divergence, Fueling,
    InboxOutcome, Measure, OpenShift, OrderView, OutboxEvent, Payment, PriceItem, PriceSource,
    PriceVersionStatus, PrintJob, ProductStock, Reconciliation, SaleRecord, SalesSummaryRow,
    ShiftReport, StockFlow, StoredPriceVersion, Tank, TankReading, TankStock, UserRecord,
};

pub fn sale(sale: &SaleRecord) -> Value {
    let lines: Vec<Value> = sale
        .lines
        .iter()
        .map(|line| {
            let (volume_ml, quantity) = match line.measure {
                Measure::Volume(volume) => (Some(volume.get()), None),
                Measure::Quantity(quantity) => (None, Some(quantity)),
            };
            json!({
                "line_no": line.line_no,
                "product": line.product.as_str(),
                "product_name": line.product_name,
                "tank": line.tank.map(|t| t.get()),
                "volume_ml": volume_ml,
                "quantity": quantity,
                "unit_price_won": line.unit_price.get(),
                "amount_won": line.amount.get(),
                "price_source": match line.price_source {
                    PriceSource::PriceList => "price_list",
                    PriceSource::Pump => "pump",
                    PriceSource::ManagerOverride => "manager_override",
                },
                "price_version": line.price_version,
            })
        })
        .collect();
    let payment = match &sale.payment {
        Payment::Cash { tendered, change } => {
            json!({"method": "cash", "tendered_won": tendered.get(), "change_won": change.get()})
        }
        Payment::Card { reference } => json!({"method": "card", "reference": reference}),
        Payment::Account(account) => json!({"method": "account", "account": account.to_string()}),
    };
    let cancellation = sale.cancellation.as_ref().map(|c| {
        json!({
            "business_day": c.business_day.to_string(),
            "reason": c.reason,
            "canceled_by": c.canceled_by.as_str(),
            "approved_by": c.approved_by.as_str(),
            "canceled_at": c.canceled_at.to_string(),
        })
    });
    json!({
        "sale": sale.sale.to_string(),
        "receipt_no": sale.receipt_no,
        "business_day": sale.business_day.to_string(),
        "shift": sale.shift.to_string(),
        "cashier": sale.cashier.as_str(),
        "settled_at": sale.settled_at.to_string(),
        "lines": lines,
        "total_won": sale.total.get(),
        "vat_included_won": station_core::units::vat_included_in(sale.total).get(),
        "payment": payment,
        "canceled": sale.cancellation.is_some(),
        "cancellation": cancellation,
    })
}

pub fn summary_row(row: &SalesSummaryRow) -> Value {
    json!({
        "business_day": row.business_day,
        "product": row.product,
        "sales_count": row.sales_count,
        "sales_volume_ml": row.sales_volume.get(),
        "sales_quantity": row.sales_quantity,
        "sales_amount_won": row.sales_amount.get(),
        "canceled_count": row.canceled_count,
        "canceled_volume_ml": row.canceled_volume.get(),
        "canceled_quantity": row.canceled_quantity,
        "canceled_amount_won": row.canceled_amount.get(),
        "net_amount_won": row.net_amount().get(),
    })
}

pub fn users(users: &[UserRecord]) -> Value {
    users
        .iter()
        .map(|u| {
            json!({"user": u.user_id.as_str(), "name": u.name, "role": u.role.as_str(), "active": u.active})
        })
        .collect()
}

pub fn price_version(version: &StoredPriceVersion) -> Value {
    json!({
        "version": version.version,
        "effective_at": version.effective_at.to_string(),
        "applied_at": version.applied_at.map(|t| t.to_string()),
        "status": match version.status {
            PriceVersionStatus::InForce => "in_force",
            PriceVersionStatus::Scheduled => "scheduled",
            PriceVersionStatus::Superseded => "superseded",
        },
        "items": version.items.iter().map(price_item).collect::<Vec<_>>(),
    })
}

pub fn tank(tank: &Tank) -> Value {
    json!({"tank": tank.tank.get(), "product": tank.product.as_str(), "capacity_ml": tank.capacity.get()})
}

/// Book stock per tank, with the tank gauge's latest measurement beside it where there is one.
pub fn stock(tanks: &[TankStock], products: &[ProductStock], readings: &[TankReading]) -> Value {
    json!({
        "tanks": tanks.iter().map(|t| {
            let reading = readings.iter().find(|r| r.tank == t.tank);
            json!({
                "tank": t.tank.get(),
                "product": t.product.as_str(),
                "capacity_ml": t.capacity.get(),
                "book_stock_ml": t.book_stock.get(),
                "measured_ml": reading.map(|r| r.volume.get()),
                "measured_at": reading.map(|r| r.measured_at.to_string()),
            })
        }).collect::<Vec<_>>(),
        "products": products.iter().map(|p| json!({
            "product": p.product.as_str(),
            "book_stock_ml": p.book_stock.get(),
            "expected_incoming_ml": p.expected_incoming.get(),
        })).collect::<Vec<_>>(),
    })
}

pub fn flow(flow: &StockFlow) -> Value {
    json!({
        "flow": flow.flow_id,
        "tank": flow.tank.get(),
        "product": flow.product.as_str(),
        "kind": flow.kind,
        "delta_ml": flow.delta.get(),
        "reference": flow.reference,
        "business_day": flow.business_day,
    })
}

pub fn order(order: &OrderView) -> Value {
    json!({
        "order": order.order.to_string(),
        "product": order.product.as_str(),
        "ordered_volume_ml": order.ordered_volume.get(),
        "shipped_volume_ml": order.shipped_volume.get(),
        "received_volume_ml": order.received_volume.get(),
        "status": order.status.as_str(),
        "status_reason": order.status_reason,
        "wanted_date": order.wanted_date.to_string(),
        "ordered_at": order.ordered_at.to_string(),
        "updated_at": order.updated_at.to_string(),
    })
}

pub fn delivery(delivery: &DeliveryView) -> Value {
    let expected = &delivery.expected;
    json!({
        "shipment": expected.shipment.to_string(),
        "order": expected.order.to_string(),
        "product": expected.product.as_str(),
        "volume_ml": expected.volume.get(),
        "truck": expected.truck,
        "expected_at": expected.expected_at.map(|t| t.to_string()),
        "confirmed": delivery.confirmation.is_some(),
        "confirmation": delivery.confirmation.as_ref().map(|c| json!({
            "tank": c.tank.get(),
            "received_volume_ml": c.received_volume.get(),
            "confirmed_by": c.confirmed_by.as_str(),
            "confirmed_at": c.confirmed_at.to_string(),
        })),
    })
}

pub fn open_shift(shift: &OpenShift) -> Value {
    json!({
        "shift": shift.shift.to_string(),
        "cashier": shift.cashier.as_str(),
        "business_day": shift.business_day.to_string(),
        "opened_at": shift.opened_at.to_string(),
        "opening_float_won": shift.opening_float.get(),
        "expected_cash_won": shift.expected_cash.get(),
    })
}

pub fn shift_report(report: &ShiftReport) -> Value {
    json!({
        "shift": report.shift.to_string(),
        "cashier": report.cashier.as_str(),
        "business_day": report.business_day.to_string(),
        "opened_at": report.opened_at.to_string(),
        "closed_at": report.closed_at.to_string(),
        "opening_float_won": report.opening_float.get(),
        "expected_cash_won": report.expected_cash.get(),
        "counted_cash_won": report.counted_cash.get(),
        "over_short_won": report.over_short().get(),
    })
}

pub fn day_report(report: &DayReport) -> Value {
    json!({
        "business_day": report.business_day.to_string(),
        "closed": report.closed_by.is_some(),
        "closed_by": report.closed_by.as_ref().map(|u| u.as_str()),
        "products": report.products.iter().map(summary_row).collect::<Vec<_>>(),
        "net_amount_won": report.net_amount.get(),
        "shifts": report.shifts.iter().map(shift_report).collect::<Vec<_>>(),
    })
}

pub fn account(account: &CreditAccount) -> Value {
    json!({
        "account": account.account.to_string(),
        "name": account.name,
        "credit_limit_won": account.credit_limit.get(),
        "balance_won": account.balance.get(),
        "available_won": account.available().get(),
        "opened_at": account.opened_at.to_string(),
    })
}

pub fn movement(movement: &AccountMovement) -> Value {
    json!({
        "at": movement.at.to_string(),
        "kind": movement.kind,
        "reference": movement.reference,
        "amount_won": movement.amount.get(),
    })
}

pub fn outbox_event(event: &OutboxEvent) -> Value {
    // The stored message is the encoded envelope; show it as JSON, not as a string of JSON.
    let message = serde_json::from_str::<Value>(&event.message)
        .unwrap_or_else(|_| Value::String(event.message.clone()));
    json!({
        "seq": event.seq,
        "event_id": event.event_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at.to_string(),
        "acknowledged": event.acknowledged,
        "message": message,
    })
}

pub fn inbox_outcome(outcome: &InboxOutcome) -> Value {
    match outcome {
        InboxOutcome::Applied { sequence } => json!({"outcome": "applied", "seq": sequence}),
        InboxOutcome::Duplicate { sequence } => json!({"outcome": "duplicate", "seq": sequence}),
        InboxOutcome::OutOfOrder { sequence, expected } => {
            json!({"outcome": "out_of_order", "seq": sequence, "expected_seq": expected})
        }
        InboxOutcome::DeadLettered {
            sequence,
            code,
            reason,
        } => json!({"outcome": "dead_lettered", "seq": sequence, "code": code, "reason": reason}),
        InboxOutcome::Held {
            sequence,
            code,
            reason,
        } => json!({"outcome": "held", "seq": sequence, "code": code, "reason": reason}),
        InboxOutcome::Diverged { sequence } => json!({"outcome": "diverged", "seq": sequence}),
    }
}

pub fn divergence(divergence: &Divergence) -> Value {
    json!({
        "direction": divergence.direction,
        "kind": divergence.kind,
        "detail": divergence.detail,
        "detected_at": divergence.detected_at.to_string(),
    })
}

pub fn dead_letter(letter: &DeadLetter) -> Value {
    json!({
        "origin": letter.origin,
        "seq": letter.sequence,
        "code": letter.code,
        "reason": letter.reason,
        "received_at": letter.received_at.to_string(),
        "repeats": letter.repeats,
    })
}

pub fn print_job(job: &PrintJob) -> Value {
    json!({
        "job": job.job_id,
        "sale": job.sale.to_string(),
        "reason": job.reason,
        "requested_by": job.requested_by.as_str(),
        "requested_at": job.requested_at.to_string(),
        "attempts": job.attempts,
        "last_error": job.last_error,
    })
}

pub fn tank_reading(reading: &TankReading) -> Value {
    json!({
        "tank": reading.tank.get(),
        "volume_ml": reading.volume.get(),
        "water_ml": reading.water.get(),
        "measured_at": reading.measured_at.to_string(),
    })
}

pub fn reconciliation(r: &Reconciliation) -> Value {
    json!({
        "business_day": r.business_day.to_string(),
        "tank": r.tank.get(),
        "product": r.product.as_str(),
        "opening_ml": r.opening.get(),
        "deliveries_ml": r.deliveries.get(),
        "sales_ml": r.sales.get(),
        "closing_ml": r.closing.get(),
        "variance_ml": r.variance.get(),
        "limit_ml": r.limit.get(),
        "flagged": r.flagged,
    })
}

pub fn fueling(fueling: &Fueling) -> Value {
    json!({
        "fueling": fueling.fueling.to_string(),
        "pump": format!("{:X}", fueling.pump),
        "nozzle": fueling.nozzle,
        "product": fueling.product.as_str(),
        "product_name": fueling.product_name,
        "tank": fueling.tank.get(),
        "volume_ml": fueling.volume.get(),
        "amount_won": fueling.amount.get(),
        "unit_price_won": fueling.unit_price.get(),
        "finished_at": fueling.finished_at.to_string(),
        "sale": fueling.sale.map(|s| s.to_string()),
    })
}

pub fn price_item(item: &PriceItem) -> Value {
    json!({
        "product": item.product.as_str(),
        "name": item.name,
        "unit": item.unit.as_str(),
        "unit_price_won": item.unit_price.get(),
    })
}
