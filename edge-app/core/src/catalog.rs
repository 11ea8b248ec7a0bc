//! The station's copy of HQ's product master and price versions, and the station's tanks.
//!
//! HQ sends each price version as a full price list with the time it takes effect. The price in
//! force at an instant is the one of the highest version whose effective time has come; a
//! product missing from that version is no longer sold. Versions only move forward: one not
//! newer than the newest the station holds is refused.
//!
//! The clock does not decide alone: the version last applied (and reported to HQ) is stored, and
//! no older version is ever in force again, so a POS clock corrected backwards cannot bring an old
//! price back. In force is the highest version whose time has come at any `now` the station has
//! applied prices at.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use sync_protocol::{Event, PriceVersionApplied, TankRegistered};

use crate::auth::ManagerApproval;
use crate::error::{Result, StationError, ensure_positive, ensure_text};
use crate::ids::{ProductId, TankNo};
use crate::sql::{ms, timestamp};
use crate::station::{Station, Tx};
use crate::units::{MAX_UNIT_PRICE_WON, MAX_VOLUME_ML, Millilitres, UnitPrice};

/// How a product is measured and priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Fuel: kept in tanks, sold by volume, priced per litre.
    Litre,
    /// A shop item: sold by the piece, priced per piece, not kept in tanks.
    Piece,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Litre => "litre",
            Unit::Piece => "piece",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Result<Unit> {
        match s {
            "litre" => Ok(Unit::Litre),
            "piece" => Ok(Unit::Piece),
            other => Err(StationError::DatabaseCorrupt(format!(
                "unknown product unit `{other}`"
            ))),
        }
    }
}

/// One product of a price version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceItem {
    pub product: ProductId,
    pub name: String,
    pub unit: Unit,
    pub unit_price: UnitPrice,
}

/// A price version as HQ publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceVersion {
    pub version: u64,
    pub effective_at: Timestamp,
    pub items: Vec<PriceItem>,
}

/// A price version the station holds, with whether it is in force, scheduled or superseded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPriceVersion {
    pub version: u64,
    pub effective_at: Timestamp,
    pub applied_at: Option<Timestamp>,
    pub status: PriceVersionStatus,
    pub items: Vec<PriceItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceVersionStatus {
    InForce,
    Scheduled,
    Superseded,
}

/// The price of a product in force, and from which version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceInForce {
    pub unit_price: UnitPrice,
    pub version: u64,
}

/// A tank and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tank {
    pub tank: TankNo,
    pub product: ProductId,
    pub capacity: Millilitres,
}

impl Station {
    /// Stores a price version from HQ and applies it if its time has come.
    /// Returns the version that came into force, if one did.
    pub fn receive_price_version(
        &mut self,
        version: PriceVersion,
        now: Timestamp,
    ) -> Result<Option<u64>> {
        self.write(now, |tx| {
            receive_price_version(tx, &version)?;
            apply_due_price_version(tx)
        })
    }

    /// The newest price version the station holds, in force or scheduled.
    pub fn newest_price_version(&self) -> Result<Option<u64>> {
        let newest: Option<i64> =
            self.conn()
                .query_row("SELECT max(version) FROM price_versions", [], |r| r.get(0))?;
        Ok(newest.map(|v| v.unsigned_abs()))
    }

    /// Brings the newest price version whose time has come into force, telling HQ.
    /// The edge runtime calls this on a timer; sales call it too.
    pub fn apply_due_price_version(&mut self, now: Timestamp) -> Result<Option<u64>> {
        self.write(now, apply_due_price_version)
    }

    /// The price of `product` in force at `at`.
    pub fn price_in_force(&self, product: &ProductId, at: Timestamp) -> Result<PriceInForce> {
        price_in_force(self.conn(), product, ms(at))
    }

    /// The price list in force at `at`: every product of the version in force, with its price.
    pub fn price_list(&self, at: Timestamp) -> Result<Vec<PriceItem>> {
        Ok(self
            .price_versions(at)?
            .into_iter()
            .find(|v| v.status == PriceVersionStatus::InForce)
            .map(|v| v.items)
            .unwrap_or_default())
    }

    /// Every price version held, newest first.
    pub fn price_versions(&self, at: Timestamp) -> Result<Vec<StoredPriceVersion>> {
        let in_force = version_in_force(self.conn(), ms(at))?;
        let mut stmt = self
            .conn()
            .prepare("SELECT version, effective_at_ms, applied_at_ms FROM price_versions ORDER BY version DESC")?;
        let versions = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut items_stmt = self.conn().prepare(
            "SELECT p.product_id, d.name, d.unit, p.unit_price_won FROM prices p JOIN products d USING (product_id)
             WHERE p.version = ?1 ORDER BY p.product_id",
        )?;
        versions
            .into_iter()
            .map(|(version, effective_ms, applied_ms)| {
                let items = items_stmt
                    .query_map(params![version], |r| {
                        Ok((
                            r.get::<_, ProductId>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })?
                    .map(|row| {
                        let (product, name, unit, price) = row?;
                        Ok(PriceItem {
                            product,
                            name,
                            unit: Unit::from_stored(&unit)?,
                            unit_price: UnitPrice(price),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let status = match in_force {
                    Some(v) if v == version => PriceVersionStatus::InForce,
                    Some(v) if version < v => PriceVersionStatus::Superseded,
                    _ if effective_ms <= ms(at) => PriceVersionStatus::Superseded,
                    _ => PriceVersionStatus::Scheduled,
                };
                Ok(StoredPriceVersion {
                    version: u64::try_from(version).expect("versions are positive"),
                    effective_at: timestamp(effective_ms)?,
                    applied_at: applied_ms.map(timestamp).transpose()?,
                    status,
                    items,
                })
            })
            .collect()
    }

    /// Sets up a tank for a fuel product.
    pub fn register_tank(
        &mut self,
        approval: &ManagerApproval,
        tank: TankNo,
        product: &ProductId,
        capacity: Millilitres,
        now: Timestamp,
    ) -> Result<()> {
        ensure_positive("tank capacity (ml)", capacity.get())?;
        if capacity.get() > MAX_VOLUME_ML {
            return Err(StationError::InvalidInput {
                field: "tank capacity",
                problem: "it is larger than any tank".into(),
            });
        }
        self.write(now, |tx| {
            let unit = product_unit(&tx.sql, product)?;
            if unit != Unit::Litre {
                return Err(StationError::WrongMeasure {
                    product: product.clone(),
                    unit: "by the piece",
                    hint: "only fuel sold by the litre is kept in tanks",
                });
            }
            let exists: bool =
                tx.sql.query_row("SELECT EXISTS (SELECT 1 FROM tanks WHERE tank_no = ?1)", params![tank], |r| r.get(0))?;
            if exists {
                return Err(StationError::TankExists(tank));
            }
            tx.sql.execute(
                "INSERT INTO tanks (tank_no, product_id, capacity_ml, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![tank, product, capacity.get(), tx.now_ms()],
            )?;
            tx.sql.execute(
                "INSERT INTO tank_stock (tank_no, product_id, capacity_ml) VALUES (?1, ?2, ?3)",
                params![tank, product, capacity.get()],
            )?;
            tx.sql.execute("INSERT OR IGNORE INTO product_stock (product_id) VALUES (?1)", params![product])?;
            tx.emit(Event::TankRegistered(TankRegistered {
                tank: tank.get(),
                product_id: product.to_string(),
                capacity_ml: capacity.get(),
            }))?;
            tracing::info!(%tank, %product, by = %approval.manager(), "tank registered");
            Ok(())
        })
    }

    /// Every tank, by number.
    pub fn tanks(&self) -> Result<Vec<Tank>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT tank_no, product_id, capacity_ml FROM tanks ORDER BY tank_no")?;
        let rows = stmt.query_map([], |r| {
            Ok(Tank {
                tank: r.get(0)?,
                product: r.get(1)?,
                capacity: Millilitres(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

pub(crate) fn receive_price_version(tx: &Tx<'_>, version: &PriceVersion) -> Result<()> {
    let number = i64::try_from(version.version)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| StationError::InvalidInput {
            field: "price version",
            problem: "it must be a number from 1".into(),
        })?;
    let latest: Option<i64> =
        tx.sql
            .query_row("SELECT max(version) FROM price_versions", [], |r| r.get(0))?;
    if let Some(latest) = latest
        && number <= latest
    {
        return Err(StationError::PriceVersionNotNewer {
            received: version.version,
            latest: u64::try_from(latest).expect("versions are positive"),
        });
    }
    if version.items.is_empty() {
        return Err(StationError::InvalidInput {
            field: "price version",
            problem: "it lists no products".into(),
        });
    }
    tx.sql.execute(
        "INSERT INTO price_versions (version, effective_at_ms, received_at_ms) VALUES (?1, ?2, ?3)",
        params![number, ms(version.effective_at), tx.now_ms()],
    )?;
    for item in &version.items {
        ensure_positive("unit price (won)", item.unit_price.get())?;
        if item.unit_price.get() > MAX_UNIT_PRICE_WON {
            return Err(StationError::InvalidInput {
                field: "unit price",
                problem: format!(
                    "{} won for {} is above the {MAX_UNIT_PRICE_WON} won ceiling",
                    item.unit_price, item.product
                ),
            });
        }
        let name = ensure_text("product name", &item.name, 100)?;
        if let Some(unit) = product_unit_opt(&tx.sql, &item.product)?
            && unit != item.unit
        {
            return Err(StationError::InvalidInput {
                field: "product unit",
                problem: format!(
                    "{} is sold by the {}; a price version cannot change that",
                    item.product,
                    unit.as_str()
                ),
            });
        }
        tx.sql.execute(
            "INSERT INTO products (product_id, name, unit) VALUES (?1, ?2, ?3)
             ON CONFLICT (product_id) DO UPDATE SET name = excluded.name",
            params![item.product, name, item.unit.as_str()],
        )?;
        let inserted = tx.sql.execute(
            "INSERT OR IGNORE INTO prices (version, product_id, unit_price_won) VALUES (?1, ?2, ?3)",
            params![number, item.product, item.unit_price.get()],
        )?;
        if inserted == 0 {
            return Err(StationError::InvalidInput {
                field: "price version",
                problem: format!("it lists {} twice", item.product),
            });
        }
    }
    Ok(())
}

/// Marks the version in force as applied if it is newer than the last applied one, and tells HQ.
pub(crate) fn apply_due_price_version(tx: &Tx<'_>) -> Result<Option<u64>> {
    let Some(in_force) = version_in_force(&tx.sql, tx.now_ms())? else {
        return Ok(None);
    };
    let applied: Option<i64> = tx
        .sql
        .prepare_cached("SELECT applied_price_version FROM station")?
        .query_row([], |r| r.get(0))?;
    if applied.is_some_and(|a| a >= in_force) {
        return Ok(None);
    }
    let now_ms = tx.now_ms();
    tx.sql.execute(
        "UPDATE station SET applied_price_version = ?1",
        params![in_force],
    )?;
    tx.sql.execute(
        "UPDATE price_versions SET applied_at_ms = ?2 WHERE version = ?1",
        params![in_force, now_ms],
    )?;
    let version = u64::try_from(in_force).expect("versions are positive");
    tx.emit(Event::PriceVersionApplied(PriceVersionApplied {
        version,
        applied_at: tx.now,
    }))?;
    tracing::info!(version, "price version applied");
    Ok(Some(version))
}

/// The version in force at `at_ms`: the highest whose effective time has come, but never one
/// older than the version the station last applied, whatever `at_ms` says.
fn version_in_force(conn: &rusqlite::Connection, at_ms: i64) -> Result<Option<i64>> {
    let version: i64 = conn
        .prepare_cached(
            "SELECT max(coalesce((SELECT max(version) FROM price_versions WHERE effective_at_ms <= ?1), 0),
                        coalesce((SELECT applied_price_version FROM station), 0))",
        )?
        .query_row(params![at_ms], |r| r.get(0))?;
    Ok((version > 0).then_some(version))
}

pub(crate) fn price_in_force(
    conn: &rusqlite::Connection,
    product: &ProductId,
    at_ms: i64,
) -> Result<PriceInForce> {
    let Some(version) = version_in_force(conn, at_ms)? else {
        return Err(StationError::NoPriceInForce {
            product: product.clone(),
        });
    };
    let price: Option<i64> = conn
        .prepare_cached("SELECT unit_price_won FROM prices WHERE version = ?1 AND product_id = ?2")?
        .query_row(params![version, product], |r| r.get(0))
        .optional()?;
    match price {
        Some(price) => Ok(PriceInForce {
            unit_price: UnitPrice(price),
            version: u64::try_from(version).expect("versions are positive"),
        }),
        None => {
            product_unit(conn, product)?;
            Err(StationError::NoPriceInForce {
                product: product.clone(),
            })
        }
    }
}

pub(crate) fn product_unit(conn: &rusqlite::Connection, product: &ProductId) -> Result<Unit> {
    product_unit_opt(conn, product)?.ok_or_else(|| StationError::UnknownProduct(product.clone()))
}

fn product_unit_opt(conn: &rusqlite::Connection, product: &ProductId) -> Result<Option<Unit>> {
    let unit: Option<String> = conn
        .prepare_cached("SELECT unit FROM products WHERE product_id = ?1")?
        .query_row(params![product], |r| r.get(0))
        .optional()?;
    unit.as_deref().map(Unit::from_stored).transpose()
}

/// The product a tank holds.
pub(crate) fn tank_product(conn: &rusqlite::Connection, tank: TankNo) -> Result<ProductId> {
    conn.prepare_cached("SELECT product_id FROM tanks WHERE tank_no = ?1")?
        .query_row(params![tank], |r| r.get(0))
        .optional()?
        .ok_or(StationError::UnknownTank(tank))
}

/// The tanks that hold a product.
pub(crate) fn tanks_of(conn: &rusqlite::Connection, product: &ProductId) -> Result<Vec<TankNo>> {
    let mut stmt =
        conn.prepare_cached("SELECT tank_no FROM tanks WHERE product_id = ?1 ORDER BY tank_no")?;
    let rows = stmt.query_map(params![product], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
