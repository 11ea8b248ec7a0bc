//! A station on a real SQLite file in a temporary folder, set up as a real station would be:
//! a manager, a cashier, a price list from HQ, two tanks of diesel and one of gasoline.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use jiff::{Timestamp, ToSpan};
use rusqlite::Connection;
use station_core::*;

pub const DIESEL: &str = "CD1001";
pub const GASOLINE: &str = "GS1001";
pub const WATER: &str = "SN2001";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub station: Station,
    pub manager: Actor,
    pub cashier: Actor,
    pub approval: ManagerApproval,
    /// The time of the next operation; each step moves it a little.
    pub now: Timestamp,
}

/// 09:00 in Seoul on the day the test runs: every operation is given its time as `now`, and the
/// fixture starts from the real calendar so the suite means the same on any day it runs.
pub fn start_time() -> Timestamp {
    start_day()
        .at(9, 0, 0, 0)
        .in_tz(DEFAULT_TIME_ZONE)
        .unwrap()
        .timestamp()
}

/// The business day (in Seoul) the fixture starts on: today's.
pub fn start_day() -> jiff::civil::Date {
    Timestamp::now().in_tz(DEFAULT_TIME_ZONE).unwrap().date()
}

/// The receipt number of the `n`th sale of `day` at ST0001.
pub fn receipt_no(day: jiff::civil::Date, n: u32) -> String {
    format!("ST0001-{}-{n:04}", day.strftime("%Y%m%d"))
}

pub fn product(code: &str) -> ProductId {
    code.parse().unwrap()
}

pub fn tank(n: u16) -> TankNo {
    TankNo::new(n).unwrap()
}

pub fn litres(l: i64) -> Millilitres {
    Millilitres::from_litres(l)
}

pub fn price_version(
    version: u64,
    effective_at: Timestamp,
    diesel: i64,
    gasoline: i64,
) -> PriceVersion {
    let item = |code: &str, name: &str, unit, price| PriceItem {
        product: product(code),
        name: name.into(),
        unit,
        unit_price: UnitPrice(price),
    };
    PriceVersion {
        version,
        effective_at,
        items: vec![
            item(DIESEL, "경유", Unit::Litre, diesel),
            item(GASOLINE, "휘발유", Unit::Litre, gasoline),
            item(WATER, "생수 500ml", Unit::Piece, 1_000),
        ],
    }
}

impl Fixture {
    /// A station with users, prices (diesel 1,650 won/L, gasoline 1,750 won/L), tanks 1 and 2
    /// holding diesel (30,000 L each), tank 3 gasoline (20,000 L), all empty.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let now = start_time();
        let setup = StationSetup {
            station_id: "ST0001".parse().unwrap(),
            name: "강남주유소".into(),
            time_zone: DEFAULT_TIME_ZONE.into(),
            first_manager: NewUser {
                user_id: "park".parse().unwrap(),
                name: "박지성".into(),
                role: Role::Manager,
                pin: "9999".parse().unwrap(),
            },
        };
        let mut station = Station::create(&dir.path().join("station.db"), setup, now).unwrap();
        let manager = station
            .authenticate(&"park".parse().unwrap(), &"9999".parse().unwrap(), now)
            .unwrap();
        let approval = manager.as_manager("setting up").unwrap();
        station
            .add_user(
                &approval,
                NewUser {
                    user_id: "kim".parse().unwrap(),
                    name: "김민지".into(),
                    role: Role::Cashier,
                    pin: "1234".parse().unwrap(),
                },
                now,
            )
            .unwrap();
        let cashier = station
            .authenticate(&"kim".parse().unwrap(), &"1234".parse().unwrap(), now)
            .unwrap();
        station
            .receive_price_version(price_version(1, now, 1_650, 1_750), now)
            .unwrap();
        station
            .register_tank(&approval, tank(1), &product(DIESEL), litres(30_000), now)
            .unwrap();
        station
            .register_tank(&approval, tank(2), &product(DIESEL), litres(30_000), now)
            .unwrap();
        station
            .register_tank(&approval, tank(3), &product(GASOLINE), litres(20_000), now)
            .unwrap();
        Fixture {
            dir,
            station,
            manager,
            cashier,
            approval,
            now,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("station.db")
    }

    /// Moves the clock on by a second and returns the new time.
    pub fn tick(&mut self) -> Timestamp {
        self.now = self.now.checked_add(1.second()).unwrap();
        self.now
    }

    /// Orders, ships and confirms `l` litres into tank `t`.
    pub fn fill(&mut self, t: u16, l: i64) {
        let product = self
            .station
            .tanks()
            .unwrap()
            .into_iter()
            .find(|x| x.tank == tank(t))
            .unwrap()
            .product;
        let now = self.tick();
        let order = self
            .station
            .place_order(
                &self.approval,
                NewOrder {
                    product: product.clone(),
                    volume: litres(l),
                    wanted_date: self.station.local_date(now),
                },
                now,
            )
            .unwrap();
        let shipment = ShipmentId::generate(now);
        let now = self.tick();
        self.station
            .record_expected_delivery(
                ExpectedDelivery {
                    shipment,
                    order,
                    product,
                    volume: litres(l),
                    truck: "12가3456".into(),
                    expected_at: None,
                },
                now,
            )
            .unwrap();
        let now = self.tick();
        self.station
            .confirm_delivery(&self.approval, shipment, tank(t), litres(l), now)
            .unwrap();
    }

    pub fn open_shift(&mut self, float: i64) {
        let now = self.tick();
        let cashier = self.cashier.clone();
        self.station.open_shift(&cashier, Won(float), now).unwrap();
    }

    pub fn fuel_line(&self, code: &str, ml: i64) -> SaleLineRequest {
        SaleLineRequest {
            product: product(code),
            measure: Measure::Volume(Millilitres(ml)),
            tank: None,
            pricing: LinePricing::PriceList,
        }
    }

    pub fn sell_cash(&mut self, lines: Vec<SaleLineRequest>, tendered: i64) -> Result<SaleRecord> {
        let now = self.tick();
        let cashier = self.cashier.clone();
        self.station.settle_sale(
            &cashier,
            SaleRequest {
                lines,
                payment: PaymentRequest::Cash {
                    tendered: Won(tendered),
                },
                over_limit: None,
            },
            now,
        )
    }

    /// Every row of every table, as text: two equal dumps mean nothing was changed.
    pub fn dump(&self) -> String {
        dump_file(&self.db_path())
    }
}

pub fn dump_file(path: &std::path::Path) -> String {
    let conn = Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("## {table}\n"));
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
            .unwrap_or_else(|_| {
                conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
                    .unwrap()
            });
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
    }
    out
}
