//! Property tests over random sequences of station operations, valid and invalid, on a real
//! SQLite file. After every operation:
//! - book stock of each tank equals the sum of its stock flows, and per product the sum over tanks;
//! - the sales summary equals settled sale lines minus canceled ones, per business day and product;
//! - every credit balance equals sales on account minus their cancellations minus payments;
//! - outbox sequence numbers are 1..=n with no gap, and an operation's events follow the
//!   previous operation's, ending with the event that operation is about;
//! - an operation that failed changed nothing at all;
//! - prices only move forward, even when the clock is set back: the versions reported applied
//!   rise, and neither a sale nor the price list in force uses a version older than the last one
//!   reported.
//!
//! Figures now and then sit at the ends of `i64`, as a request from outside may carry them: they
//! are refused like any bad figure, never a panic.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use jiff::ToSpan;
use proptest::prelude::*;
use rusqlite::Connection;
use station_core::*;

#[derive(Debug, Clone)]
enum Op {
    Sell {
        product: usize,
        ml: i64,
        tank: Option<u16>,
        payment: Pay,
    },
    Cancel {
        sale: usize,
    },
    PlaceOrder {
        product: usize,
        litres: i64,
    },
    Ship {
        order: usize,
        litres: i64,
    },
    Confirm {
        shipment: usize,
        tank: u16,
        ml: i64,
    },
    Adjust {
        tank: u16,
        ml: i64,
    },
    OpenAccount {
        limit: i64,
    },
    PayAccount {
        account: usize,
        amount: i64,
        cash: bool,
    },
    OpenShift {
        float: i64,
    },
    CloseShift {
        counted: i64,
    },
    CloseDay,
    NewPrices {
        version_step: i64,
        minutes: i64,
        price: i64,
    },
    Wait {
        minutes: i64,
    },
}

#[derive(Debug, Clone)]
enum Pay {
    Cash { tendered: i64 },
    Card,
    Account(usize),
}

const PRODUCTS: [&str; 4] = [DIESEL, GASOLINE, WATER, "XX0000"];

/// Mostly valid figures, sometimes zero or negative.
fn figure(max: i64) -> impl Strategy<Value = i64> {
    prop_oneof![9 => 1..max, 1 => -max / 10..=0]
}

/// Like [`figure`], and now and then one at the ends of `i64` (or half-way, so two add past it).
fn figure_from_outside(max: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        20 => figure(max),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(i64::MAX / 2 + 1)],
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let pay = prop_oneof![
        3 => prop_oneof![9 => 0i64..400_000, 1 => figure_from_outside(400_000)].prop_map(|tendered| Pay::Cash { tendered }),
        1 => Just(Pay::Card),
        2 => (0usize..8).prop_map(Pay::Account),
    ];
    // The product's own tank most of the time; sometimes none, sometimes a wrong or unknown one.
    let product_and_tank =
        (prop_oneof![4 => 0usize..3, 1 => Just(3usize)], 0u8..10).prop_map(|(product, choice)| {
            let tank = match (product, choice) {
                (_, 0) => None,
                (_, 1) => Some(4),
                (0, c) => Some(1 + u16::from(c % 2)),
                (1, _) => Some(3),
                _ => None,
            };
            (product, tank)
        });
    prop_oneof![
        8 => (product_and_tank, figure_from_outside(80_000), pay)
            .prop_map(|((product, tank), ml, payment)| Op::Sell { product, ml, tank, payment }),
        2 => (0usize..8).prop_map(|sale| Op::Cancel { sale }),
        2 => (prop_oneof![4 => 0usize..2, 1 => 2usize..4], figure(30_000)).prop_map(|(product, litres)| Op::PlaceOrder { product, litres }),
        2 => (0usize..8, figure(30_000)).prop_map(|(order, litres)| Op::Ship { order, litres }),
        2 => (0usize..8, 1u16..5, figure_from_outside(32_000_000)).prop_map(|(shipment, tank, ml)| Op::Confirm { shipment, tank, ml }),
        1 => (1u16..5, prop_oneof![9 => -50_000i64..50_000, 1 => figure_from_outside(50_000)]).prop_map(|(tank, ml)| Op::Adjust { tank, ml }),
        1 => figure_from_outside(300_000).prop_map(|limit| Op::OpenAccount { limit }),
        2 => (0usize..8, figure_from_outside(100_000), any::<bool>()).prop_map(|(account, amount, cash)| Op::PayAccount { account, amount, cash }),
        1 => figure_from_outside(100_000).prop_map(|float| Op::OpenShift { float }),
        1 => figure_from_outside(500_000).prop_map(|counted| Op::CloseShift { counted }),
        1 => Just(Op::CloseDay),
        1 => (-1i64..3, -30i64..180, 1i64..3_000).prop_map(|(version_step, minutes, price)| Op::NewPrices { version_step, minutes, price }),
        // Time moves on, and now and then the clock is set back.
        1 => prop_oneof![4 => 1i64..600, 1 => -240i64..0].prop_map(|minutes| Op::Wait { minutes }),
    ]
}

/// What the sequence has made so far, to refer back to.
#[derive(Default)]
struct Made {
    sales: Vec<SaleId>,
    orders: Vec<OrderId>,
    shipments: Vec<ShipmentId>,
    accounts: Vec<AccountId>,
    latest_price_version: i64,
}

/// One of the items made so far (index 7 and an empty list stand for one that does not exist).
fn pick<T: Copy>(items: &[T], i: usize, unknown: T) -> T {
    if i == 7 || items.is_empty() {
        unknown
    } else {
        items[i % items.len()]
    }
}

/// Runs one operation; on success returns the outbox kind it is about (if it emits one).
fn run(f: &mut Fixture, made: &mut Made, op: &Op) -> Result<Option<&'static str>> {
    let now = f.now;
    let cashier = f.cashier.clone();
    let approval = f.approval.clone();
    let code = |i: usize| product(PRODUCTS[i]);
    match op.clone() {
        Op::Sell {
            product: p,
            ml,
            tank: t,
            payment,
        } => {
            let measure = if PRODUCTS[p] == WATER {
                Measure::Quantity(ml.rem_euclid(5))
            } else {
                Measure::Volume(Millilitres(ml))
            };
            let line = SaleLineRequest {
                product: code(p),
                measure,
                tank: t.map(tank),
                pricing: LinePricing::PriceList,
            };
            let payment = match payment {
                Pay::Cash { tendered } => PaymentRequest::Cash {
                    tendered: Won(tendered),
                },
                Pay::Card => PaymentRequest::Card {
                    reference: "CARD-1".into(),
                },
                Pay::Account(i) => {
                    PaymentRequest::Account(pick(&made.accounts, i, AccountId::generate(now)))
                }
            };
            let sale = f.station.settle_sale(
                &cashier,
                SaleRequest {
                    lines: vec![line],
                    payment,
                    over_limit: None,
                },
                now,
            )?;
            made.sales.push(sale.sale);
            Ok(Some("sale_settled"))
        }
        Op::Cancel { sale } => {
            let sale = pick(&made.sales, sale, SaleId::generate(now));
            f.station.cancel_sale(
                &cashier,
                &approval,
                sale,
                "customer changed their mind",
                now,
            )?;
            Ok(Some("sale_canceled"))
        }
        Op::PlaceOrder {
            product: p,
            litres: l,
        } => {
            let order = NewOrder {
                product: code(p),
                volume: litres(l),
                wanted_date: f.station.local_date(now),
            };
            made.orders
                .push(f.station.place_order(&approval, order, now)?);
            Ok(Some("order_placed"))
        }
        Op::Ship { order, litres: l } => {
            let order = pick(&made.orders, order, OrderId::generate(now));
            let product = f
                .station
                .order(order)
                .map(|o| o.product)
                .unwrap_or_else(|_| product(DIESEL));
            let shipment = ShipmentId::generate(now);
            let delivery = ExpectedDelivery {
                shipment,
                order,
                product,
                volume: litres(l),
                truck: "T".into(),
                expected_at: None,
            };
            f.station.record_expected_delivery(delivery, now)?;
            made.shipments.push(shipment);
            Ok(None)
        }
        Op::Confirm {
            shipment,
            tank: t,
            ml,
        } => {
            let shipment = pick(&made.shipments, shipment, ShipmentId::generate(now));
            f.station
                .confirm_delivery(&approval, shipment, tank(t), Millilitres(ml), now)?;
            Ok(Some("delivery_confirmed"))
        }
        Op::Adjust { tank: t, ml } => {
            f.station
                .adjust_stock(&approval, tank(t), Millilitres(ml), "dip reading", now)?;
            Ok(Some("stock_adjusted"))
        }
        Op::OpenAccount { limit } => {
            made.accounts.push(
                f.station
                    .open_account(&approval, "fleet", Won(limit), now)?,
            );
            Ok(Some("credit_account_opened"))
        }
        Op::PayAccount {
            account,
            amount,
            cash,
        } => {
            let account = pick(&made.accounts, account, AccountId::generate(now));
            let method = if cash {
                AccountPaymentMethod::Cash
            } else {
                AccountPaymentMethod::Card {
                    reference: "APPROVAL-1".into(),
                }
            };
            f.station
                .receive_account_payment(&cashier, account, Won(amount), method, now)?;
            Ok(Some("credit_payment_received"))
        }
        Op::OpenShift { float } => {
            f.station.open_shift(&cashier, Won(float), now)?;
            Ok(None)
        }
        Op::CloseShift { counted } => {
            f.station.close_shift(&cashier, Won(counted), now)?;
            Ok(Some("shift_closed"))
        }
        Op::CloseDay => {
            f.station.close_business_day(&approval, now)?;
            Ok(Some("day_closed"))
        }
        Op::NewPrices {
            version_step,
            minutes,
            price,
        } => {
            let version = made.latest_price_version + version_step;
            let effective = now.checked_add(minutes.minutes()).unwrap();
            let version_number = u64::try_from(version).unwrap_or(0);
            let applied = f.station.receive_price_version(
                price_version(version_number, effective, price, price + 100),
                now,
            )?;
            made.latest_price_version = version;
            Ok(applied.map(|_| "price_version_applied"))
        }
        Op::Wait { minutes } => {
            f.now = f.now.checked_add(minutes.minutes()).unwrap();
            Ok(None)
        }
    }
}

/// Day, product, then count, volume (pieces weighted in), amount of sales and of cancellations.
type SummaryFigures = (String, String, i64, i64, i64, i64, i64, i64);

fn check_invariants(f: &Fixture) {
    let conn = Connection::open(f.db_path()).unwrap();
    let one = |sql: &str| -> Vec<(String, i64, i64)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    // Book stock = sum of the ledger, per tank and per product.
    let tanks = one(
        "SELECT CAST(t.tank_no AS TEXT), t.book_stock_ml, coalesce((SELECT sum(delta_ml) FROM stock_flows f WHERE f.tank_no = t.tank_no), 0)
         FROM tank_stock t",
    );
    for (tank, book, ledger) in tanks {
        assert_eq!(
            book, ledger,
            "tank {tank}: book stock is not the sum of its flows"
        );
    }
    let products = one(
        "SELECT p.product_id, p.book_stock_ml, coalesce((SELECT sum(book_stock_ml) FROM tank_stock t WHERE t.product_id = p.product_id), 0)
         FROM product_stock p",
    );
    for (product, book, tanks) in products {
        assert_eq!(
            book, tanks,
            "product {product}: book stock is not the sum of its tanks"
        );
    }
    // Sales summary = sales − cancellations, recomputed from the facts.
    let recomputed: Vec<SummaryFigures> = conn
        .prepare(
            "WITH sold AS (
                 SELECT s.business_day AS day, l.product_id AS product, count(*) AS n, sum(coalesce(l.volume_ml, 0)) AS ml,
                        sum(coalesce(l.quantity, 0)) AS qty, sum(l.amount_won) AS won
                 FROM sales s JOIN sale_lines l USING (sale_id) GROUP BY 1, 2),
             canceled AS (
                 SELECT c.business_day AS day, l.product_id AS product, count(*) AS n, sum(coalesce(l.volume_ml, 0)) AS ml,
                        sum(coalesce(l.quantity, 0)) AS qty, sum(l.amount_won) AS won
                 FROM sale_cancellations c JOIN sale_lines l USING (sale_id) GROUP BY 1, 2),
             keys AS (SELECT day, product FROM sold UNION SELECT day, product FROM canceled)
             SELECT k.day, k.product, coalesce(s.n, 0), coalesce(s.ml, 0) + coalesce(s.qty, 0) * 1000000000, coalesce(s.won, 0),
                    coalesce(c.n, 0), coalesce(c.ml, 0) + coalesce(c.qty, 0) * 1000000000, coalesce(c.won, 0)
             FROM keys k LEFT JOIN sold s USING (day, product) LEFT JOIN canceled c USING (day, product) ORDER BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let summary: Vec<SummaryFigures> = f
        .station
        .sales_summary(None)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.business_day,
                r.product,
                r.sales_count,
                r.sales_volume.get() + r.sales_quantity * 1_000_000_000,
                r.sales_amount.get(),
                r.canceled_count,
                r.canceled_volume.get() + r.canceled_quantity * 1_000_000_000,
                r.canceled_amount.get(),
            )
        })
        .collect();
    assert_eq!(
        summary, recomputed,
        "the sales summary is not sales minus cancellations"
    );
    // Credit balances from the facts.
    let balances = one(
        "SELECT b.account_id, b.balance_won,
                coalesce((SELECT sum(total_won) FROM sales s WHERE s.account_id = b.account_id), 0)
              - coalesce((SELECT sum(s.total_won) FROM sale_cancellations c JOIN sales s USING (sale_id) WHERE s.account_id = b.account_id), 0)
              - coalesce((SELECT sum(amount_won) FROM credit_payments p WHERE p.account_id = b.account_id), 0)
         FROM credit_balances b",
    );
    for (account, balance, facts) in balances {
        assert_eq!(
            balance, facts,
            "account {account}: balance does not follow its sales and payments"
        );
    }
    // Outbox: gapless from 1.
    let seqs: Vec<i64> = conn
        .prepare("SELECT seq FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "outbox sequence has a gap"
    );
    // Prices only move forward, whatever the clock did.
    let mut applied = 0;
    for event in f.station.outbox_events(0, usize::MAX >> 1).unwrap() {
        match sync_protocol::decode(event.message.as_bytes())
            .unwrap()
            .event
        {
            sync_protocol::Event::PriceVersionApplied(version) => {
                assert!(
                    version.version > applied,
                    "version {} reported applied after {applied}",
                    version.version
                );
                applied = version.version;
            }
            sync_protocol::Event::SaleSettled(sale) => {
                for line in sale.lines {
                    if let Some(used) = line.price_version {
                        assert!(
                            used >= applied,
                            "sale {} used version {used} after {applied} was reported applied",
                            sale.receipt_no
                        );
                    }
                }
            }
            _ => {}
        }
    }
    let in_force = f
        .station
        .price_versions(f.now)
        .unwrap()
        .into_iter()
        .find(|v| v.status == PriceVersionStatus::InForce)
        .map_or(0, |v| v.version);
    assert!(
        in_force >= applied,
        "version {in_force} is in force after {applied} was reported applied"
    );
}

fn outbox_len(f: &Fixture) -> usize {
    f.station.outbox_events(0, usize::MAX >> 1).unwrap().len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, max_shrink_iters: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_ledger_consistent(ops in prop::collection::vec(op(), 1..60)) {
        let mut f = Fixture::new();
        let mut made = Made { latest_price_version: 1, ..Made::default() };
        f.open_shift(50_000);
        check_invariants(&f);
        for op in &ops {
            let before = f.dump();
            let events_before = outbox_len(&f);
            f.tick();
            match run(&mut f, &mut made, op) {
                Ok(about) => {
                    // The books' events; the audit trail's own messages are checked elsewhere.
                    let events: Vec<_> = f
                        .station
                        .outbox_events(events_before as u64, 1_000)
                        .unwrap()
                        .into_iter()
                        .filter(|e| e.kind != "audit_recorded")
                        .collect();
                    match about {
                        Some(kind) => prop_assert_eq!(events.last().map(|e| e.kind.as_str()), Some(kind), "{:?}", op),
                        None => prop_assert!(events.is_empty(), "{:?} emitted {:?}", op, events),
                    }
                }
                Err(error) => {
                    prop_assert!(!error.to_string().is_empty());
                    prop_assert!(!error.is_storage_fault(), "{:?} failed in storage: {}", op, error);
                    prop_assert_eq!(f.dump(), before, "failed {:?} ({}) changed the database", op, error);
                }
            }
            check_invariants(&f);
        }
    }
}
