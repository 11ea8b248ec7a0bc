//! Stations, the product master and price versions. A price version is a full price list with
//! the time it takes effect; publishing one puts a `price_changed` event in every station's
//! outbox, and the stations report back when they have applied it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sync_protocol::{Event, PriceChanged, PriceItem, ProductUnit};

use crate::error::{HubError, Result};
use crate::hub::{Hub, emit_to_station, from_ms, ms, to_i64, to_u64};
use crate::views::{PriceItemView, PriceVersionView, ProductView, StationStatusView, StationView};

/// How a station is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatingType {
    DirectlyManaged,
    Consignment,
    Franchise,
}

impl OperatingType {
    pub fn as_str(self) -> &'static str {
        match self {
            OperatingType::DirectlyManaged => "directly_managed",
            OperatingType::Consignment => "consignment",
            OperatingType::Franchise => "franchise",
        }
    }
}

impl std::str::FromStr for OperatingType {
    type Err = HubError;
    fn from_str(s: &str) -> Result<OperatingType> {
        match s {
            "directly_managed" => Ok(OperatingType::DirectlyManaged),
            "consignment" => Ok(OperatingType::Consignment),
            "franchise" => Ok(OperatingType::Franchise),
            other => Err(HubError::invalid(
                "operating type",
                format!("`{other}` is not directly_managed, consignment or franchise"),
            )),
        }
    }
}

/// A station to register.
#[derive(Debug, Clone)]
pub struct NewStation {
    pub station: String,
    pub name: String,
    pub operating_type: OperatingType,
    /// Where it is, for HQ's filters (e.g. 서울, 경기); may be empty.
    pub region: String,
}

pub(crate) fn check_code(field: &'static str, code: &str) -> Result<()> {
    let ok = (1..=16).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok && code != sync_protocol::HUB_ORIGIN {
        Ok(())
    } else {
        Err(HubError::invalid(
            field,
            format!("`{code}` is not 1 to 16 capital letters and digits starting with a letter"),
        ))
    }
}

/// A name stations show and print: 1 to 100 characters, each one a station can take and a
/// receipt can carry (`sync_protocol::text`), or a station would refuse the whole price version.
fn check_name(field: &'static str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(HubError::invalid(field, "it must be 1 to 100 characters"));
    }
    if let Some(refused) = sync_protocol::text::first_unprintable(name) {
        return Err(HubError::invalid(
            field,
            format!("stations cannot print it: {refused}"),
        ));
    }
    Ok(name.to_owned())
}

impl Hub {
    /// Registers a station. It is sent the price version in force (and any scheduled one) at once,
    /// so it can sell from its first connection.
    pub fn register_station(&mut self, station: NewStation, now: Timestamp) -> Result<StationView> {
        check_code("station id", &station.station)?;
        let name = check_name("station name", &station.name)?;
        let region = station.region.trim();
        if region.chars().count() > 50 {
            return Err(HubError::invalid(
                "region",
                "it must be at most 50 characters",
            ));
        }
        self.write(|tx| {
            if tx
                .query_row("SELECT 1 FROM stations WHERE station_id = ?1", params![station.station], |_| Ok(()))
                .optional()?
                .is_some()
            {
                return Err(HubError::StationExists(station.station.clone()));
            }
            tx.execute(
                "INSERT INTO stations (station_id, name, operating_type, registered_at_ms, region) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![station.station, name, station.operating_type.as_str(), ms(now), region],
            )?;
            tx.execute("INSERT INTO rm_stations (station_id) VALUES (?1)", params![station.station])?;
            for version in versions_to_send_on_registration(tx, now)? {
                let change = price_changed(tx, version)?;
                emit_to_station(tx, &station.station, Event::PriceChanged(change), now)?;
            }
            Ok(())
        })?;
        self.station(&station.station)
    }

    pub fn station(&self, station: &str) -> Result<StationView> {
        self.conn
            .query_row(
                "SELECT station_id, name, operating_type, registered_at_ms, region FROM stations WHERE station_id = ?1",
                params![station],
                station_row,
            )
            .optional()?
            .ok_or_else(|| HubError::UnknownStation(station.to_owned()))
    }

    pub fn stations(&self) -> Result<Vec<StationView>> {
        let mut stmt = self.conn.prepare(
            "SELECT station_id, name, operating_type, registered_at_ms, region FROM stations ORDER BY station_id",
        )?;
        let rows = stmt
            .query_map([], station_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every station's connection, sync backlog and applied price version (the Network
    /// screen's rows, as the older route shows them).
    pub fn station_statuses(&self) -> Result<Vec<StationStatusView>> {
        Ok(self
            .station_states(None)?
            .into_iter()
            .map(|state| StationStatusView {
                events_applied_through: state.applied_through,
                station: state.view.station,
                name: state.view.name,
                online: state.view.online,
                last_seen: state.view.last_seen,
                events_waiting_to_station: state.view.events_waiting_to_station,
                price_version_applied: state.view.price_version_applied,
                price_applied_at: state.view.price_applied_at,
            })
            .collect())
    }

    /// Adds a product to the master, or renames it. Its unit may change only while no price
    /// version holds it: a station keeps the unit of every product it was ever sent and refuses
    /// any later price version that changes it, so such a change is refused with
    /// [`HubError::Conflict`] and nothing changes.
    pub fn upsert_product(
        &mut self,
        product: &str,
        name: &str,
        unit: ProductUnit,
    ) -> Result<ProductView> {
        check_code("product id", product)?;
        let name = check_name("product name", name)?;
        let unit = unit_text(unit);
        self.write(|tx| {
            if let Some((held, version)) = published_unit(tx, product)?
                && held != unit
            {
                return Err(HubError::Conflict(format!(
                    "product {product} is sold by the {held} since price version {version}, and \
                     stations refuse a product whose unit changes: it cannot become a {unit} \
                     product; give that one a new product id"
                )));
            }
            // A rename is dated, so the next price version sent as a change carries it.
            tx.execute(
                "INSERT INTO products (product_id, name, unit, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (product_id) DO UPDATE SET name = ?2, unit = ?3,
                     updated_at_ms = CASE WHEN name IS NOT ?2 OR unit IS NOT ?3 THEN ?4 ELSE updated_at_ms END",
                params![product, name, unit, ms(Timestamp::now())],
            )?;
            Ok(())
        })?;
        Ok(ProductView {
            product: product.to_owned(),
            name,
            unit: unit.to_owned(),
        })
    }

    pub fn products(&self) -> Result<Vec<ProductView>> {
        let mut stmt = self
            .conn
            .prepare("SELECT product_id, name, unit FROM products ORDER BY product_id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ProductView {
                    product: r.get(0)?,
                    name: r.get(1)?,
                    unit: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Publishes a new price version: the full price list, in force from `effective_at` (now if
    /// `None`), sent to every station. Products left out keep their price from the version before.
    pub fn publish_price_version(
        &mut self,
        prices: &[(String, i64)],
        effective_at: Option<Timestamp>,
        by: &str,
        now: Timestamp,
    ) -> Result<PriceVersionView> {
        if prices.is_empty() {
            return Err(HubError::EmptyPriceVersion);
        }
        for (product, price) in prices {
            if *price <= 0 || *price > 1_000_000 {
                return Err(HubError::invalid(
                    "unit price",
                    format!("{product}: {price} won is not between 1 and 1,000,000"),
                ));
            }
        }
        let effective_at = effective_at.unwrap_or(now);
        let version = self.write(|tx| {
            // Above every version HQ holds, and above any a station said it holds (HQ's
            // database restored from a backup older than a version it had sent).
            let previous: i64 = tx.query_row(
                "SELECT max(coalesce((SELECT max(version) FROM price_versions), 0),
                            coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'price_version_floor'), 0))",
                [],
                |r| r.get(0),
            )?;
            let version = previous + 1;
            tx.execute(
                "INSERT INTO price_versions (version, effective_at_ms, created_by, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![version, ms(effective_at), by, ms(now)],
            )?;
            tx.execute(
                "INSERT INTO price_items (version, product_id, unit_price_won)
                 SELECT ?1, product_id, unit_price_won FROM price_items WHERE version = ?2",
                params![version, previous],
            )?;
            for (product, price) in prices {
                let known = tx
                    .query_row("SELECT 1 FROM products WHERE product_id = ?1", params![product], |_| Ok(()))
                    .optional()?;
                if known.is_none() {
                    return Err(HubError::UnknownProduct(product.clone()));
                }
                tx.execute(
                    "INSERT INTO price_items (version, product_id, unit_price_won) VALUES (?1, ?2, ?3)
                     ON CONFLICT (version, product_id) DO UPDATE SET unit_price_won = ?3",
                    params![version, product, price],
                )?;
            }
            let change = price_changed(tx, to_u64(version))?;
            let stations: Vec<String> = {
                let mut stmt = tx.prepare("SELECT station_id FROM stations ORDER BY station_id")?;
                stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            for station in stations {
                emit_to_station(tx, &station, Event::PriceChanged(change.clone()), now)?;
            }
            // Once for the whole network, for the consumers of HQ's event feed.
            crate::feed::record_hub_event(tx, Event::PriceChanged(change), now)?;
            let detail = format!("{} price(s), effective {effective_at}", prices.len());
            crate::auth::audit(tx, now, "price_published", by, Some(&version.to_string()), &detail)?;
            Ok(to_u64(version))
        })?;
        tracing::info!(version, by, "price version published");
        self.price_version(version)
    }

    pub fn price_version(&self, version: u64) -> Result<PriceVersionView> {
        let (effective, by, created): (i64, String, i64) = self
            .conn
            .query_row(
                "SELECT effective_at_ms, created_by, created_at_ms FROM price_versions WHERE version = ?1",
                params![to_i64(version)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| HubError::invalid("price version", format!("there is no version {version}")))?;
        let mut stmt = self.conn.prepare(
            "SELECT i.product_id, p.name, p.unit, i.unit_price_won FROM price_items i JOIN products p USING (product_id)
             WHERE i.version = ?1 ORDER BY i.product_id",
        )?;
        let items = stmt
            .query_map(params![to_i64(version)], |r| {
                Ok(PriceItemView {
                    product: r.get(0)?,
                    name: r.get(1)?,
                    unit: r.get(2)?,
                    unit_price_won: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let applied: i64 = self.conn.query_row(
            "SELECT count(*) FROM rm_stations WHERE price_version_applied >= ?1",
            params![to_i64(version)],
            |r| r.get(0),
        )?;
        Ok(PriceVersionView {
            version,
            effective_at: from_ms(effective).to_string(),
            created_by: by,
            created_at: from_ms(created).to_string(),
            items,
            stations_applied: to_u64(applied),
        })
    }

    /// Every price version, newest first.
    pub fn price_versions(&self) -> Result<Vec<PriceVersionView>> {
        let versions: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT version FROM price_versions ORDER BY version DESC")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        versions
            .into_iter()
            .map(|v| self.price_version(to_u64(v)))
            .collect()
    }
}

fn station_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StationView> {
    Ok(StationView {
        station: r.get(0)?,
        name: r.get(1)?,
        operating_type: r.get(2)?,
        registered_at: from_ms(r.get(3)?).to_string(),
        region: r.get(4)?,
    })
}

fn unit_text(unit: ProductUnit) -> &'static str {
    match unit {
        ProductUnit::Litre => "litre",
        ProductUnit::Piece => "piece",
    }
}

/// The unit of `product` and the first price version holding it, if any version does: once
/// published, stations have it (or will) and keep its unit.
fn published_unit(tx: &Connection, product: &str) -> Result<Option<(String, i64)>> {
    let row = tx
        .query_row(
            "SELECT p.unit, min(i.version) FROM products p JOIN price_items i USING (product_id)
             WHERE p.product_id = ?1 GROUP BY p.unit",
            params![product],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row)
}

/// The version in force now and every later one: what a new station must hear.
pub(crate) fn versions_to_send_on_registration(
    tx: &Connection,
    now: Timestamp,
) -> Result<Vec<u64>> {
    let in_force: Option<i64> = tx.query_row(
        "SELECT max(version) FROM price_versions WHERE effective_at_ms <= ?1",
        params![ms(now)],
        |r| r.get(0),
    )?;
    let mut stmt =
        tx.prepare("SELECT version FROM price_versions WHERE version >= ?1 ORDER BY version")?;
    let versions = stmt
        .query_map(params![in_force.unwrap_or(0)], |r| r.get::<_, i64>(0))?
        .map(|v| v.map(to_u64))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(versions)
}

pub(crate) fn price_changed(tx: &Connection, version: u64) -> Result<PriceChanged> {
    let effective: i64 = tx.query_row(
        "SELECT effective_at_ms FROM price_versions WHERE version = ?1",
        params![to_i64(version)],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare(
        "SELECT i.product_id, p.name, p.unit, i.unit_price_won FROM price_items i JOIN products p USING (product_id)
         WHERE i.version = ?1 ORDER BY i.product_id",
    )?;
    let items = stmt
        .query_map(params![to_i64(version)], |r| {
            let unit: String = r.get(2)?;
            Ok(PriceItem {
                product_id: r.get(0)?,
                name: r.get(1)?,
                unit: if unit == "piece" {
                    ProductUnit::Piece
                } else {
                    ProductUnit::Litre
                },
                unit_price_won: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The full list; `emit_to_station` sends each station what changed since the version it
    // was sent before, in parts.
    Ok(PriceChanged {
        version,
        effective_at: from_ms(effective),
        base_version: None,
        items,
        part: sync_protocol::Part::WHOLE,
    })
}
