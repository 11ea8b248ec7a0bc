//! Settlement's database: the feed position, the stations, the tallies of consignment
//! stations' sales, their terms, closed periods and their stored statements.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use sync_protocol::Event;

use crate::feed::{FeedEvent, FeedStation};
use crate::period::Period;
use crate::statement::{Statement, StatementInput, Tally, Terms, WetStockLoss, work_out};

/// Settlement's errors, each with a stable code for its API.
#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    #[error("{field} is not valid: {problem}")]
    InvalidInput {
        field: &'static str,
        problem: String,
    },
    #[error("{0} is not a consignment station known to the feed")]
    NotConsignment(String),
    #[error("the period {0} is closed")]
    PeriodClosed(String),
    #[error("the period {period} cannot be closed yet: {reason}")]
    PeriodNotClosable { period: String, reason: String },
    #[error("terms of {station} taking effect on {day} exist already (version {version})")]
    TermsExist {
        station: String,
        day: String,
        version: u32,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("an event at feed position {position} cannot be read: {problem}")]
    UnreadableEvent { position: u64, problem: String },
    #[error("the feed's station {0} is unknown to the hub's station list")]
    UnknownStation(String),
    #[error("settlement's database failed: {0}")]
    Storage(String),
}

impl SettlementError {
    pub fn code(&self) -> &'static str {
        match self {
            SettlementError::InvalidInput { .. } => "invalid_input",
            SettlementError::NotConsignment(_) => "not_consignment",
            SettlementError::PeriodClosed(_) => "period_closed",
            SettlementError::PeriodNotClosable { .. } => "period_not_closable",
            SettlementError::TermsExist { .. } => "terms_exist",
            SettlementError::NotFound(_) => "not_found",
            SettlementError::UnreadableEvent { .. } => "unreadable_event",
            SettlementError::UnknownStation(_) => "unknown_station",
            SettlementError::Storage(_) => "storage",
        }
    }

    fn invalid(field: &'static str, problem: impl Into<String>) -> SettlementError {
        SettlementError::InvalidInput {
            field,
            problem: problem.into(),
        }
    }
}

impl From<rusqlite::Error> for SettlementError {
    fn from(error: rusqlite::Error) -> SettlementError {
        SettlementError::Storage(error.to_string())
    }
}

pub type Result<T, E = SettlementError> = std::result::Result<T, E>;

/// New terms for a station, as an HQ administrator gives them.
#[derive(Debug, Clone)]
pub struct NewTerms {
    pub station: String,
    pub effective_from: Date,
    pub fuel_rates: BTreeMap<String, i64>,
    pub shop_rate_basis_points: i64,
    pub monthly_fee_won: i64,
    pub loss_cost_won_per_litre: i64,
}

/// Net figures of a station and product: sales less cancellations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetTotals {
    pub count: i64,
    pub volume_ml: i64,
    pub quantity: i64,
    pub amount_won: i64,
}

/// A period as the periods list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodState {
    pub period: Period,
    pub closed: Option<(Timestamp, String)>,
}

/// What one applied page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub events: u64,
    pub position: u64,
}

/// Settlement's application over its database.
#[derive(Debug)]
pub struct Settlement {
    conn: Connection,
    /// Operating types by station, as stored (a cache of the `stations` table).
    stations: HashMap<String, bool>,
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(include_str!(
        "../migrations/0001_settlement.sql"
    ))])
}

/// The same summed key for one page: station, settle period, day, product.
type TallyKey = (String, Period, Date, String);

impl Settlement {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Settlement> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| SettlementError::Storage(format!("migrating: {e}")))?;
        let mut settlement = Settlement {
            conn,
            stations: HashMap::new(),
        };
        settlement.load_stations()?;
        Ok(settlement)
    }

    fn load_stations(&mut self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT station_id, operating_type FROM stations")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        self.stations = rows
            .into_iter()
            .map(|(id, kind)| (id, kind == "consignment"))
            .collect();
        Ok(())
    }

    /// The feed position applied through.
    pub fn position(&self) -> Result<u64> {
        let after: i64 = self
            .conn
            .query_row("SELECT after FROM feed_position", [], |r| r.get(0))?;
        Ok(u64::try_from(after).unwrap_or(0))
    }

    /// Whether every station of these events is known (else the caller asks the hub first).
    pub fn knows_stations_of(&self, events: &[FeedEvent]) -> bool {
        events
            .iter()
            .filter(|e| counted_kind(&e.kind))
            .all(|e| self.stations.contains_key(&e.station))
    }

    /// Takes the hub's station list.
    pub fn update_stations(&mut self, stations: &[FeedStation]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for s in stations {
            tx.execute(
                "INSERT INTO stations (station_id, name, operating_type) VALUES (?1, ?2, ?3)
                 ON CONFLICT (station_id) DO UPDATE SET name = excluded.name, operating_type = excluded.operating_type",
                params![s.station, s.name, s.operating_type],
            )?;
        }
        tx.commit()?;
        self.load_stations()
    }

    /// Counts a page of events and moves the position to `next`, in one transaction. Events at
    /// or before the stored position are skipped (a page asked again after a crash).
    pub fn apply_page(&mut self, events: &[FeedEvent], next: u64) -> Result<Applied> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let after: i64 = tx.query_row("SELECT after FROM feed_position", [], |r| r.get(0))?;
        let after = u64::try_from(after).unwrap_or(0);
        let first_open = first_open_period(&tx)?;
        let mut tallies: HashMap<TallyKey, PageTally> = HashMap::new();
        let mut losses = Vec::new();
        let mut counted = 0u64;
        let mut last = after;
        for event in events.iter().filter(|e| e.position > after) {
            last = event.position;
            counted += 1;
            if !counted_kind(&event.kind) {
                continue;
            }
            match self.stations.get(&event.station) {
                Some(true) => {}
                Some(false) => continue,
                None => return Err(SettlementError::UnknownStation(event.station.clone())),
            }
            let envelope = sync_protocol::decode(event.message.get().as_bytes()).map_err(|e| {
                SettlementError::UnreadableEvent {
                    position: event.position,
                    problem: e.to_string(),
                }
            })?;
            let settle = |day: Date| match first_open {
                Some(open) if Period::of(day) < open => open,
                _ => Period::of(day),
            };
            match envelope.event {
                Event::SaleSettled(sale) => {
                    for line in &sale.lines {
                        let key = (
                            event.station.clone(),
                            settle(sale.business_day),
                            sale.business_day,
                            line.product_id.clone(),
                        );
                        tallies
                            .entry(key)
                            .or_insert_with(|| PageTally::of(line))
                            .sales
                            .add(line);
                    }
                }
                Event::SaleCanceled(cancel) => {
                    let day = cancel.sale_business_day;
                    for line in &cancel.lines {
                        let key = (
                            event.station.clone(),
                            settle(day),
                            day,
                            line.product_id.clone(),
                        );
                        tallies
                            .entry(key)
                            .or_insert_with(|| PageTally::of(line))
                            .canceled
                            .add(line);
                    }
                }
                Event::WetStockReconciled(reconciled) => {
                    let beyond = reconciled
                        .variance_ml
                        .saturating_neg()
                        .saturating_sub(reconciled.limit_ml);
                    if beyond > 0 {
                        losses.push((
                            event.station.clone(),
                            settle(reconciled.business_day),
                            reconciled,
                            beyond,
                        ));
                    }
                }
                _ => {}
            }
        }
        let mut upsert = tx.prepare_cached(
            "INSERT INTO tallies VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (station_id, settle_period, business_day, product_id) DO UPDATE SET
                sales_count = sales_count + excluded.sales_count,
                sales_volume_ml = sales_volume_ml + excluded.sales_volume_ml,
                sales_quantity = sales_quantity + excluded.sales_quantity,
                sales_amount_won = sales_amount_won + excluded.sales_amount_won,
                canceled_count = canceled_count + excluded.canceled_count,
                canceled_volume_ml = canceled_volume_ml + excluded.canceled_volume_ml,
                canceled_quantity = canceled_quantity + excluded.canceled_quantity,
                canceled_amount_won = canceled_amount_won + excluded.canceled_amount_won",
        )?;
        for ((station, settle_period, day, product), t) in &tallies {
            upsert.execute(params![
                station,
                settle_period.to_string(),
                day.to_string(),
                product,
                t.is_fuel,
                t.sales.count,
                t.sales.volume_ml,
                t.sales.quantity,
                t.sales.amount_won,
                t.canceled.count,
                t.canceled.volume_ml,
                t.canceled.quantity,
                t.canceled.amount_won,
            ])?;
        }
        drop(upsert);
        for (station, settle_period, r, beyond) in &losses {
            tx.execute(
                "INSERT INTO wet_stock_losses VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (station_id, business_day, tank) DO NOTHING",
                params![
                    station,
                    r.business_day.to_string(),
                    r.tank,
                    settle_period.to_string(),
                    r.product_id,
                    r.variance_ml,
                    r.limit_ml,
                    beyond
                ],
            )?;
        }
        let position = next.max(last).max(after);
        tx.execute(
            "UPDATE feed_position SET after = ?1, events_applied = events_applied + ?2",
            params![
                i64::try_from(position).unwrap_or(i64::MAX),
                i64::try_from(counted).unwrap_or(0)
            ],
        )?;
        tx.commit()?;
        Ok(Applied {
            events: counted,
            position,
        })
    }

    /// Consignment stations, by id, with their names.
    pub fn consignment_stations(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT station_id, name FROM stations WHERE operating_type = 'consignment' ORDER BY station_id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn station_name(&self, station: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, operating_type FROM stations WHERE station_id = ?1",
                params![station],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Adds a version of a station's terms, in force from its day (HQ administrators).
    pub fn add_terms(&mut self, terms: &NewTerms, by: &str, now: Timestamp) -> Result<Terms> {
        match self.station_name(&terms.station)? {
            Some((_, kind)) if kind == "consignment" => {}
            _ => return Err(SettlementError::NotConsignment(terms.station.clone())),
        }
        if !(0..=10_000).contains(&terms.shop_rate_basis_points) {
            return Err(SettlementError::invalid(
                "shop_rate_basis_points",
                "0 to 10,000 (100%)",
            ));
        }
        if terms.monthly_fee_won < 0 || terms.monthly_fee_won > 1_000_000_000_000 {
            return Err(SettlementError::invalid(
                "monthly_fee_won",
                "0 to 10^12 won",
            ));
        }
        if !(0..=100_000).contains(&terms.loss_cost_won_per_litre) {
            return Err(SettlementError::invalid(
                "loss_cost_won_per_litre",
                "0 to 100,000 won per litre",
            ));
        }
        if let Some((product, rate)) = terms
            .fuel_rates
            .iter()
            .find(|(p, r)| p.is_empty() || !(0..=100_000).contains(*r))
        {
            return Err(SettlementError::invalid(
                "fuel_rates",
                format!("{product}: {rate} is not 0 to 100,000 won per litre"),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(open) = first_open_period(&tx)?
            && Period::of(terms.effective_from) < open
        {
            return Err(SettlementError::PeriodClosed(
                Period::of(terms.effective_from).to_string(),
            ));
        }
        let existing: Option<u32> = tx
            .query_row(
                "SELECT version FROM terms WHERE station_id = ?1 AND effective_from = ?2",
                params![terms.station, terms.effective_from.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(version) = existing {
            return Err(SettlementError::TermsExist {
                station: terms.station.clone(),
                day: terms.effective_from.to_string(),
                version,
            });
        }
        let version: u32 = tx.query_row(
            "SELECT coalesce(max(version), 0) + 1 FROM terms WHERE station_id = ?1",
            params![terms.station],
            |r| r.get(0),
        )?;
        let rates = serde_json::to_string(&terms.fuel_rates)
            .map_err(|e| SettlementError::Storage(e.to_string()))?;
        tx.execute(
            "INSERT INTO terms VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                terms.station,
                terms.effective_from.to_string(),
                version,
                rates,
                terms.shop_rate_basis_points,
                terms.monthly_fee_won,
                terms.loss_cost_won_per_litre,
                by,
                now.as_millisecond()
            ],
        )?;
        tx.commit()?;
        Ok(Terms {
            station: terms.station.clone(),
            version,
            effective_from: terms.effective_from,
            fuel_rates: terms.fuel_rates.clone(),
            shop_rate_basis_points: terms.shop_rate_basis_points,
            monthly_fee_won: terms.monthly_fee_won,
            loss_cost_won_per_litre: terms.loss_cost_won_per_litre,
            created_by: by.to_owned(),
        })
    }

    /// Every version of a station's terms (or of every station's), oldest first.
    pub fn terms(&self, station: Option<&str>) -> Result<Vec<Terms>> {
        terms_of(&self.conn, station)
    }

    /// Closed periods, and the open ones that hold figures, oldest first.
    pub fn periods(&self) -> Result<Vec<PeriodState>> {
        let mut out: BTreeMap<Period, Option<(Timestamp, String)>> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT settle_period FROM tallies")?;
        for period in stmt.query_map([], |r| r.get::<_, String>(0))? {
            if let Ok(p) = period?.parse() {
                out.insert(p, None);
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT period, closed_at_ms, closed_by FROM periods")?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (period, at, by) = row?;
            if let Ok(p) = period.parse() {
                let at = Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH);
                out.insert(p, Some((at, by)));
            }
        }
        Ok(out
            .into_iter()
            .map(|(period, closed)| PeriodState { period, closed })
            .collect())
    }

    /// Closes `period`: stores each consignment station's statement as it stands. Periods close
    /// in order (the first one any month); one whose last day is not past (`today`, in Korean
    /// time) closes only `before_end`.
    pub fn close_period(
        &mut self,
        period: Period,
        today: Date,
        before_end: bool,
        by: &str,
        now: Timestamp,
    ) -> Result<Vec<Statement>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last_closed: Option<String> =
            tx.query_row("SELECT max(period) FROM periods", [], |r| r.get(0))?;
        if let Some(last) = last_closed.and_then(|p| p.parse::<Period>().ok()) {
            if period <= last {
                return Err(SettlementError::PeriodClosed(period.to_string()));
            }
            if period != last.next() {
                return Err(SettlementError::PeriodNotClosable {
                    period: period.to_string(),
                    reason: format!("{} is the next period to close", last.next()),
                });
            }
        }
        if today <= period.last_day() && !before_end {
            return Err(SettlementError::PeriodNotClosable {
                period: period.to_string(),
                reason: format!(
                    "its last day, {}, is not over (close it before its end only on purpose)",
                    period.last_day()
                ),
            });
        }
        let position: i64 = tx.query_row("SELECT after FROM feed_position", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO periods VALUES (?1, ?2, ?3, ?4)",
            params![period.to_string(), now.as_millisecond(), by, position],
        )?;
        let mut statements = Vec::new();
        for (station, name) in consignment_in(&tx)? {
            let mut statement = statement_in(&tx, &station, &name, period)?;
            statement.status = "closed".to_owned();
            statement.closed_at = Some(now.to_string());
            statement.closed_by = Some(by.to_owned());
            let document = serde_json::to_string(&statement)
                .map_err(|e| SettlementError::Storage(e.to_string()))?;
            tx.execute(
                "INSERT INTO statements VALUES (?1, ?2, ?3, ?4)",
                params![
                    station,
                    period.to_string(),
                    statement.total_owed_won,
                    document
                ],
            )?;
            statements.push(statement);
        }
        tx.commit()?;
        Ok(statements)
    }

    /// A station's statement: stored if its period is closed, worked out now if it is open.
    pub fn statement(&self, station: &str, period: Period) -> Result<Statement> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT document FROM statements WHERE station_id = ?1 AND period = ?2",
                params![station, period.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(document) = stored {
            return serde_json::from_str(&document)
                .map_err(|e| SettlementError::Storage(e.to_string()));
        }
        let closed: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM periods WHERE period = ?1)",
            params![period.to_string()],
            |r| r.get(0),
        )?;
        let name = match self.station_name(station)? {
            Some((name, kind)) if kind == "consignment" => name,
            _ => return Err(SettlementError::NotConsignment(station.to_owned())),
        };
        if closed {
            // Closed before the station was known to be consignment: it had no statement.
            return Err(SettlementError::NotFound(format!(
                "{station} has no statement for {period}"
            )));
        }
        statement_in(&self.conn, station, &name, period)
    }

    /// Every consignment station's statement for a period.
    pub fn statements(&self, period: Period) -> Result<Vec<Statement>> {
        let mut out = Vec::new();
        for (station, _) in self.consignment_stations()? {
            match self.statement(&station, period) {
                Ok(s) => out.push(s),
                Err(SettlementError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Net figures (sales − cancellations) per station and product over every day, for
    /// comparing with HQ's figures.
    pub fn totals(&self) -> Result<BTreeMap<(String, String), NetTotals>> {
        let mut stmt = self.conn.prepare(
            "SELECT station_id, product_id, sum(sales_count - canceled_count), sum(sales_volume_ml - canceled_volume_ml),
                    sum(sales_quantity - canceled_quantity), sum(sales_amount_won - canceled_amount_won)
             FROM tallies GROUP BY 1, 2",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    NetTotals {
                        count: r.get(2)?,
                        volume_ml: r.get(3)?,
                        quantity: r.get(4)?,
                        amount_won: r.get(5)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()?;
        Ok(rows)
    }
}

fn counted_kind(kind: &str) -> bool {
    matches!(
        kind,
        "sale_settled" | "sale_canceled" | "wet_stock_reconciled"
    )
}

/// One page's sums for one tally row: sales and cancellations apart, as the table keeps them.
#[derive(Debug)]
struct PageTally {
    is_fuel: bool,
    sales: LineSums,
    canceled: LineSums,
}

#[derive(Debug, Default)]
struct LineSums {
    count: i64,
    volume_ml: i64,
    quantity: i64,
    amount_won: i64,
}

impl PageTally {
    fn of(line: &sync_protocol::SaleLine) -> PageTally {
        PageTally {
            is_fuel: line.volume_ml.is_some(),
            sales: LineSums::default(),
            canceled: LineSums::default(),
        }
    }
}

impl LineSums {
    fn add(&mut self, line: &sync_protocol::SaleLine) {
        self.count += 1;
        self.volume_ml += line.volume_ml.unwrap_or(0);
        self.quantity += line.quantity.unwrap_or(0);
        self.amount_won += line.amount_won;
    }
}

/// The first period after the last closed one (`None` before any close).
fn first_open_period(tx: &Transaction<'_>) -> Result<Option<Period>> {
    let last: Option<String> = tx.query_row("SELECT max(period) FROM periods", [], |r| r.get(0))?;
    Ok(last
        .and_then(|p| p.parse::<Period>().ok())
        .map(Period::next))
}

fn consignment_in(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT station_id, name FROM stations WHERE operating_type = 'consignment' ORDER BY station_id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn terms_of(conn: &Connection, station: Option<&str>) -> Result<Vec<Terms>> {
    let mut stmt = conn.prepare_cached(
        "SELECT station_id, version, effective_from, fuel_rates, shop_rate_basis_points, monthly_fee_won,
                loss_cost_won_per_litre, created_by
         FROM terms WHERE ?1 IS NULL OR station_id = ?1 ORDER BY station_id, effective_from",
    )?;
    let rows = stmt
        .query_map(params![station], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(station, version, day, rates, shop, fee, loss, by)| {
            Ok(Terms {
                station,
                version,
                effective_from: day
                    .parse()
                    .map_err(|e| SettlementError::Storage(format!("{e}")))?,
                fuel_rates: serde_json::from_str(&rates)
                    .map_err(|e| SettlementError::Storage(e.to_string()))?,
                shop_rate_basis_points: shop,
                monthly_fee_won: fee,
                loss_cost_won_per_litre: loss,
                created_by: by,
            })
        })
        .collect()
}

fn statement_in(conn: &Connection, station: &str, name: &str, period: Period) -> Result<Statement> {
    let terms = terms_of(conn, Some(station))?;
    let mut stmt = conn.prepare_cached(
        "SELECT business_day, product_id, is_fuel, sales_count - canceled_count, sales_volume_ml - canceled_volume_ml,
                sales_quantity - canceled_quantity, sales_amount_won - canceled_amount_won
         FROM tallies WHERE station_id = ?1 AND settle_period = ?2",
    )?;
    let raw = stmt
        .query_map(params![station, period.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let tallies = raw
        .into_iter()
        .map(|(day, product, is_fuel, count, volume, quantity, amount)| {
            Ok(Tally {
                business_day: stored_day(&day)?,
                product,
                is_fuel,
                sales_count: count,
                volume_ml: volume,
                quantity,
                amount_won: amount,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT business_day, tank, product_id, beyond_ml FROM wet_stock_losses WHERE station_id = ?1 AND settle_period = ?2",
    )?;
    let raw = stmt
        .query_map(params![station, period.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u16>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let losses = raw
        .into_iter()
        .map(|(day, tank, product, beyond)| {
            Ok(WetStockLoss {
                business_day: stored_day(&day)?,
                tank,
                product,
                beyond_ml: beyond,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let position: i64 = conn.query_row("SELECT after FROM feed_position", [], |r| r.get(0))?;
    Ok(work_out(&StatementInput {
        station,
        station_name: name,
        period,
        position: u64::try_from(position).unwrap_or(0),
        terms: &terms,
        tallies: &tallies,
        losses: &losses,
    }))
}

/// A business day as this database stores it; one that does not read is a damaged row, never a
/// line left out of a statement.
fn stored_day(text: &str) -> Result<Date> {
    text.parse()
        .map_err(|e| SettlementError::Storage(format!("a stored business day {text:?}: {e}")))
}
