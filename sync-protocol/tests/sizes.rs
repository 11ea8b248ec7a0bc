//! The largest message each side will ever send, built kind by kind at the bounds its sender
//! enforces, stays under `MAX_MESSAGE_BYTES`; and the lists that grow with the data are sent in
//! parts that each stay under it, however long the list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use jiff::civil::date;
use sync_protocol::*;
use uuid::Uuid;

/// The widest character a sender lets into a text: four bytes of UTF-8 (serde writes every
/// printable character as itself; control characters, which it would escape, are refused).
const WIDE: &str = "𝄞";

fn text(chars: usize) -> String {
    WIDE.repeat(chars)
}

fn id() -> Uuid {
    Uuid::max()
}

fn envelope(event: Event) -> Envelope {
    Envelope {
        event_id: id(),
        origin: "S".repeat(32),
        sequence: u64::MAX,
        occurred_at: Timestamp::MAX,
        schema_version: SCHEMA_VERSION,
        stream: Some(StreamId {
            id: id(),
            from: u64::MAX,
        }),
        event,
    }
}

fn product() -> String {
    "P".repeat(16)
}

fn line(no: u16) -> SaleLine {
    SaleLine {
        line_no: no,
        product_id: product(),
        tank: Some(u16::MAX),
        volume_ml: Some(i64::MIN),
        quantity: Some(i64::MIN),
        unit_price_won: i64::MIN,
        amount_won: i64::MIN,
        price_source: PriceSource::ManagerOverride,
        price_version: Some(u64::MAX),
    }
}

fn lines() -> Vec<SaleLine> {
    (1..=u16::try_from(MAX_SALE_LINES).unwrap())
        .map(line)
        .collect()
}

fn totals() -> DayProductTotals {
    DayProductTotals {
        product_id: product(),
        sales_count: i64::MIN,
        sales_volume_ml: i64::MIN,
        sales_quantity: i64::MIN,
        sales_amount_won: i64::MIN,
        canceled_count: i64::MIN,
        canceled_volume_ml: i64::MIN,
        canceled_quantity: i64::MIN,
        canceled_amount_won: i64::MIN,
    }
}

fn item() -> PriceItem {
    PriceItem {
        product_id: product(),
        name: text(100),
        unit: ProductUnit::Litre,
        unit_price_won: i64::MIN,
    }
}

/// The largest event of every kind its sender can make in one message.
fn largest_of_every_kind() -> Vec<Event> {
    let user = || text(16);
    let reason = || text(200);
    let day = date(9999, 12, 31);
    vec![
        Event::TankRegistered(TankRegistered {
            tank: u16::MAX,
            product_id: product(),
            capacity_ml: i64::MIN,
        }),
        Event::OrderPlaced(OrderPlaced {
            order_id: id(),
            product_id: product(),
            volume_ml: i64::MIN,
            wanted_date: day,
            ordered_by: user(),
        }),
        Event::OrderCanceled(OrderCanceled {
            order_id: id(),
            reason: reason(),
            canceled_by: user(),
        }),
        Event::DeliveryConfirmed(DeliveryConfirmed {
            order_id: id(),
            shipment_id: id(),
            tank: u16::MAX,
            product_id: product(),
            expected_volume_ml: i64::MIN,
            received_volume_ml: i64::MIN,
            confirmed_by: user(),
        }),
        Event::SaleSettled(SaleSettled {
            sale_id: id(),
            receipt_no: text(32),
            business_day: day,
            shift_id: id(),
            cashier: user(),
            lines: lines(),
            total_won: i64::MIN,
            payment: Payment::Card {
                reference: text(64),
            },
        }),
        Event::SaleCanceled(SaleCanceled {
            cancellation_id: id(),
            sale_id: id(),
            business_day: day,
            sale_business_day: day,
            reason: reason(),
            canceled_by: user(),
            approved_by: user(),
            lines: lines(),
            total_won: i64::MIN,
        }),
        Event::StockAdjusted(StockAdjusted {
            adjustment_id: id(),
            tank: u16::MAX,
            product_id: product(),
            delta_ml: i64::MIN,
            reason: reason(),
            approved_by: user(),
        }),
        Event::ShiftClosed(ShiftClosed {
            shift_id: id(),
            cashier: user(),
            business_day: day,
            opened_at: Timestamp::MAX,
            opening_float_won: i64::MIN,
            expected_cash_won: i64::MIN,
            counted_cash_won: i64::MIN,
            over_short_won: i64::MIN,
        }),
        Event::DayClosed(DayClosed {
            business_day: day,
            closed_by: user(),
            products: vec![totals(); DAY_PRODUCTS_PER_PART],
            net_amount_won: i64::MIN,
            part: Part {
                part: u32::MAX,
                parts: u32::MAX,
            },
        }),
        Event::PriceVersionApplied(PriceVersionApplied {
            version: u64::MAX,
            applied_at: Timestamp::MAX,
        }),
        Event::CreditAccountOpened(CreditAccountOpened {
            account_id: id(),
            name: text(100),
            credit_limit_won: i64::MIN,
            opened_by: user(),
        }),
        Event::CreditPaymentReceived(CreditPaymentReceived {
            payment_id: id(),
            account_id: id(),
            amount_won: i64::MIN,
            method: "cash".into(),
            received_by: user(),
        }),
        Event::WetStockReconciled(WetStockReconciled {
            business_day: day,
            tank: u16::MAX,
            product_id: product(),
            opening_ml: i64::MIN,
            deliveries_ml: i64::MIN,
            sales_ml: i64::MIN,
            closing_ml: i64::MIN,
            variance_ml: i64::MIN,
            limit_ml: i64::MIN,
            flagged: true,
        }),
        Event::AuditRecorded(AuditRecorded {
            entry_no: u64::MAX,
            at: Timestamp::MAX,
            action: text(AUDIT_TEXT_MAX_CHARS),
            actor: text(AUDIT_TEXT_MAX_CHARS),
            approved_by: Some(text(AUDIT_TEXT_MAX_CHARS)),
            subject: Some(text(AUDIT_TEXT_MAX_CHARS)),
            detail: text(AUDIT_TEXT_MAX_CHARS),
        }),
        Event::PriceChanged(PriceChanged {
            version: u64::MAX,
            effective_at: Timestamp::MAX,
            base_version: Some(u64::MAX),
            items: vec![item(); PRICE_ITEMS_PER_PART],
            part: Part {
                part: u32::MAX,
                parts: u32::MAX,
            },
        }),
        Event::ShipmentDispatched(ShipmentDispatched {
            shipment_id: id(),
            order_id: id(),
            product_id: product(),
            volume_ml: i64::MIN,
            truck: text(40),
            expected_at: Some(Timestamp::MAX),
        }),
        Event::OrderRejected(OrderRejected {
            order_id: id(),
            reason: reason(),
        }),
        Event::OrderRestored(OrderRestored {
            order_id: id(),
            product_id: product(),
            volume_ml: i64::MIN,
            wanted_date: day,
            ordered_by: user(),
            ordered_at: Timestamp::MAX,
        }),
    ]
}

#[test]
fn the_largest_message_of_every_kind_fits_under_the_limit() {
    let events = largest_of_every_kind();
    let kinds: Vec<EventKind> = events.iter().map(Event::kind).collect();
    assert_eq!(kinds, EventKind::ALL, "one largest event per kind");
    let mut largest = (EventKind::TankRegistered, 0);
    for event in events {
        let kind = event.kind();
        let bytes = encode_checked(&envelope(event))
            .unwrap_or_else(|e| panic!("{kind}: {e}"))
            .len();
        if bytes > largest.1 {
            largest = (kind, bytes);
        }
    }
    // The figure stated in the documentation of `MAX_MESSAGE_BYTES`' bounds: the largest
    // message is a price version part of 200 items with 100-character names.
    assert_eq!(largest.0, EventKind::PriceChanged);
    assert!(largest.1 <= MAX_MESSAGE_BYTES, "{largest:?}");
    assert!(
        MAX_MESSAGE_BYTES + 4 * 1024 <= MAX_PACKET_BYTES as usize,
        "the packet limit leaves room for the topic and headers"
    );
}

#[test]
fn a_message_over_the_limit_is_refused_by_its_sender_naming_its_size() {
    let change = PriceChanged {
        version: 1,
        effective_at: Timestamp::MAX,
        base_version: None,
        items: vec![item(); PRICE_ITEMS_PER_PART * 3],
        part: Part::WHOLE,
    };
    let Err(error) = encode_checked(&envelope(Event::PriceChanged(change.clone()))) else {
        panic!("a list of three parts' items was taken as one message");
    };
    assert_eq!(error.kind, EventKind::PriceChanged);
    assert!(error.bytes > MAX_MESSAGE_BYTES);
    assert!(
        error.to_string().contains("over the limit of 262144 bytes"),
        "{error}"
    );
    // In parts, the same list goes.
    for part in change.into_parts() {
        assert!(encode_checked(&envelope(Event::PriceChanged(part))).is_ok());
    }
}

#[test]
fn a_price_book_of_5000_korean_names_goes_in_parts_that_add_up_to_it() {
    let items: Vec<PriceItem> = (0..5000)
        .map(|i| PriceItem {
            product_id: format!("SH{i:05}"),
            name: format!("{i}번 상품 — 바삭한 김스낵 대용량 묶음"),
            unit: ProductUnit::Piece,
            unit_price_won: 1000 + i,
        })
        .collect();
    let parts = PriceChanged {
        version: 9,
        effective_at: Timestamp::UNIX_EPOCH,
        base_version: None,
        items: items.clone(),
        part: Part::WHOLE,
    }
    .into_parts();
    assert_eq!(parts.len(), 5000 / PRICE_ITEMS_PER_PART);
    let mut joined = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part.part.part as usize, i + 1);
        assert_eq!(part.part.parts as usize, parts.len());
        assert_eq!(part.part.is_last(), i + 1 == parts.len());
        assert_eq!(part.version, 9);
        assert!(encode_checked(&envelope(Event::PriceChanged(part.clone()))).is_ok());
        joined.extend(part.items.iter().cloned());
    }
    assert_eq!(joined, items);
}

#[test]
fn a_day_of_300_products_goes_in_two_parts_and_an_empty_day_in_one() {
    let day = DayClosed {
        business_day: date(2026, 12, 1),
        closed_by: "M01".into(),
        products: vec![totals(); 300],
        net_amount_won: 5,
        part: Part::WHOLE,
    };
    let parts = day.clone().into_parts();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].products.len(), DAY_PRODUCTS_PER_PART);
    assert_eq!(parts[1].products.len(), 100);
    assert!(parts.iter().all(|p| p.net_amount_won == 5));
    let empty = DayClosed {
        products: vec![],
        ..day
    }
    .into_parts();
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].part, Part::WHOLE);
}
