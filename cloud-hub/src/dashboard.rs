//! What HQ's dashboard reads: the network at a glance, one station, the roll-out of a price
//! version, sales and stock reports, and alerts. Read models only; nothing here changes a
//! record but the alert settings.
//!
//! Alerts are worked out when asked from the state they are about (a station offline since a
//! time, a price version not applied), so an alert opens and closes with its cause and never
//! needs clearing.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{HqUser, Permission};
use crate::error::{HubError, LineError, Result};
use crate::hub::{Hub, from_ms, ms, to_i64, to_u64};
use crate::master::check_code;
use crate::views::*;

/// When a station's state becomes an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertSettings {
    /// A station offline this long (0 to 10,080 minutes; 0: as soon as it goes offline).
    pub offline_after_minutes: u32,
    /// More events than this waiting, both ways together (1 to 1,000,000).
    pub backlog_limit: u32,
    /// The version in effect still not applied this long after it took effect (1 to 10,080).
    pub price_not_applied_after_minutes: u32,
    /// Fewer days of stock than this at recent sales (0 to 60; 0: never).
    pub low_stock_days: u32,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            offline_after_minutes: 30,
            backlog_limit: 500,
            price_not_applied_after_minutes: 60,
            low_stock_days: 2,
        }
    }
}

const SETTINGS_KEY: &str = "alert_settings";

/// Business days of sales the days of cover are worked out from.
const COVER_DAYS: i64 = 7;
/// How long a dead letter keeps its station's alert open.
const DEAD_LETTER_ALERT_HOURS: i64 = 24;
/// The largest price book read at once: more lines than HQ has products, many times over.
pub const PRICE_BOOK_MAX_LINES: usize = 20_000;

/// How a sales report is broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesBy {
    Day,
    Product,
    Station,
    OperatingType,
}

impl std::str::FromStr for SalesBy {
    type Err = HubError;

    fn from_str(text: &str) -> Result<SalesBy> {
        match text {
            "day" => Ok(SalesBy::Day),
            "product" => Ok(SalesBy::Product),
            "station" => Ok(SalesBy::Station),
            "operating_type" => Ok(SalesBy::OperatingType),
            other => Err(HubError::invalid(
                "by",
                format!("`{other}` is none of day, product, station, operating_type"),
            )),
        }
    }
}

impl SalesBy {
    fn as_str(self) -> &'static str {
        match self {
            SalesBy::Day => "day",
            SalesBy::Product => "product",
            SalesBy::Station => "station",
            SalesBy::OperatingType => "operating_type",
        }
    }
}

/// A sales report to make: days `from` to `to` (both included), broken down `by`, narrowed to a
/// station, a product or an operating type.
#[derive(Debug, Clone)]
pub struct SalesQuery {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub by: SalesBy,
    pub station: Option<String>,
    pub product: Option<String>,
    pub operating_type: Option<String>,
}

/// The longest range a report covers: a few years of history at once.
const REPORT_MAX_DAYS: i32 = 3 * 366;

pub fn parse_day(field: &'static str, text: &str) -> Result<jiff::civil::Date> {
    text.parse()
        .map_err(|e| HubError::invalid(field, format!("`{text}` is not a YYYY-MM-DD day: {e}")))
}

impl SalesQuery {
    fn check(&self) -> Result<()> {
        if self.from > self.to {
            return Err(HubError::invalid(
                "from",
                format!("{} is after to ({})", self.from, self.to),
            ));
        }
        let days = self
            .from
            .until(self.to)
            .map_err(|e| HubError::invalid("to", e.to_string()))?
            .get_days();
        if days >= REPORT_MAX_DAYS {
            return Err(HubError::invalid(
                "to",
                format!("a report covers at most {REPORT_MAX_DAYS} days"),
            ));
        }
        if let Some(kind) = &self.operating_type {
            kind.parse::<crate::OperatingType>()?;
        }
        Ok(())
    }
}

/// A station's state as the Network screen needs it, before alerts are counted.
struct StationState {
    view: NetworkStationView,
    /// When it went offline (or was registered, if never seen).
    offline_since: Timestamp,
}

impl Hub {
    /// The alert settings in use.
    pub fn alert_settings(&self) -> Result<AlertSettings> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![SETTINGS_KEY],
                |r| r.get(0),
            )
            .optional()?;
        match stored {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| HubError::Storage(format!("the alert settings are unreadable: {e}"))),
            None => Ok(AlertSettings::default()),
        }
    }

    /// Changes the alert settings, by an administrator; written to the audit log.
    pub fn set_alert_settings(
        &mut self,
        by: &HqUser,
        settings: AlertSettings,
        now: Timestamp,
    ) -> Result<AlertSettings> {
        by.require(Permission::SetAlerts)?;
        let within = |field, value: u32, low, high| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(HubError::invalid(
                    field,
                    format!("{value} is not between {low} and {high}"),
                ))
            }
        };
        within(
            "offline_after_minutes",
            settings.offline_after_minutes,
            0,
            10_080,
        )?;
        within("backlog_limit", settings.backlog_limit, 1, 1_000_000)?;
        within(
            "price_not_applied_after_minutes",
            settings.price_not_applied_after_minutes,
            1,
            10_080,
        )?;
        within("low_stock_days", settings.low_stock_days, 0, 60)?;
        let text =
            serde_json::to_string(&settings).map_err(|e| HubError::Storage(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = ?2",
                params![SETTINGS_KEY, text],
            )?;
            crate::auth::audit(tx, now, "alert_settings_set", &by.username, None, &text)
        })?;
        Ok(settings)
    }

    /// Every station with its connection, backlogs, price version, devices and open alerts.
    pub fn network(&self, now: Timestamp) -> Result<NetworkView> {
        let mut states = self.station_states(None)?;
        let alerts = self.alerts_of(&states, None, now)?;
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for alert in &alerts {
            *counts.entry(alert.station.as_str()).or_default() += 1;
        }
        for state in &mut states {
            state.view.alerts = counts
                .get(state.view.station.as_str())
                .copied()
                .unwrap_or(0);
        }
        Ok(NetworkView {
            current_price_version: self.current_price_version(now)?.map(|(v, _)| v),
            stations: states.into_iter().map(|s| s.view).collect(),
        })
    }

    /// One station: its record, its state and its tanks.
    pub fn station_detail(&self, station: &str, now: Timestamp) -> Result<StationDetailView> {
        let record = self.station(station)?;
        let states = self.station_states(Some(station))?;
        let alerts = self.alerts_of(&states, Some(station), now)?;
        let mut status = states
            .into_iter()
            .next()
            .map(|s| s.view)
            .ok_or_else(|| HubError::UnknownStation(station.to_owned()))?;
        status.alerts = to_u64(i64::try_from(alerts.len()).unwrap_or(i64::MAX));
        let mut stmt = self.conn.prepare(
            "SELECT t.tank, t.product_id, t.capacity_ml, t.book_stock_ml, w.closing_ml, w.business_day
             FROM rm_tanks t
             LEFT JOIN rm_wet_stock w ON w.station_id = t.station_id AND w.tank = t.tank
                 AND w.business_day = (SELECT max(business_day) FROM rm_wet_stock
                                       WHERE station_id = t.station_id AND tank = t.tank)
             WHERE t.station_id = ?1 ORDER BY t.tank",
        )?;
        let tanks = stmt
            .query_map(params![station], |r| {
                Ok(StationTankView {
                    tank: r.get(0)?,
                    product: r.get(1)?,
                    capacity_ml: r.get(2)?,
                    book_stock_ml: r.get(3)?,
                    measured_ml: r.get(4)?,
                    measured_on: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(StationDetailView {
            station: record,
            status,
            tanks,
        })
    }

    fn station_states(&self, only: Option<&str>) -> Result<Vec<StationState>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.station_id, s.name, s.region, s.operating_type, s.registered_at_ms,
                    coalesce(r.online, 0), r.status_changed_at_ms, i.last_seen_ms,
                    coalesce(i.applied_through, 0), r.up_last,
                    coalesce(o.last_seq - o.acked_through, 0),
                    r.price_version_applied, r.price_applied_at_ms, r.devices
             FROM stations s
             LEFT JOIN rm_stations r USING (station_id)
             LEFT JOIN inbox_positions i USING (station_id)
             LEFT JOIN outbox_positions o USING (station_id)
             WHERE ?1 IS NULL OR s.station_id = ?1
             ORDER BY s.station_id",
        )?;
        let rows = stmt.query_map(params![only], |r| {
            let registered: i64 = r.get(4)?;
            let status_at: Option<i64> = r.get(6)?;
            let event_at: Option<i64> = r.get(7)?;
            let applied: i64 = r.get(8)?;
            let up_last: Option<i64> = r.get(9)?;
            let devices: Option<String> = r.get(13)?;
            let devices = devices
                .and_then(|text| {
                    serde_json::from_str::<sync_protocol::transport::DeviceStates>(&text).ok()
                })
                .map_or(
                    DevicesView {
                        printer: None,
                        gauge: None,
                        pump_line: None,
                    },
                    |d| DevicesView {
                        printer: Some(d.printer),
                        gauge: Some(d.gauge),
                        pump_line: Some(d.pump_line),
                    },
                );
            Ok(StationState {
                offline_since: from_ms(status_at.unwrap_or(registered)),
                view: NetworkStationView {
                    station: r.get(0)?,
                    name: r.get(1)?,
                    region: r.get(2)?,
                    operating_type: r.get(3)?,
                    online: r.get(5)?,
                    last_seen: status_at.max(event_at).map(|t| from_ms(t).to_string()),
                    events_waiting_from_station: to_u64(up_last.unwrap_or(0) - applied),
                    events_waiting_to_station: to_u64(r.get(10)?),
                    price_version_applied: r.get::<_, Option<i64>>(11)?.map(to_u64),
                    price_applied_at: r.get::<_, Option<i64>>(12)?.map(|t| from_ms(t).to_string()),
                    alerts: 0,
                    devices,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The newest price version in effect at `now`, and when it took effect.
    fn current_price_version(&self, now: Timestamp) -> Result<Option<(u64, Timestamp)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, effective_at_ms FROM price_versions WHERE effective_at_ms <= ?1
                 ORDER BY version DESC LIMIT 1",
                params![ms(now)],
                |r| Ok((to_u64(r.get(0)?), from_ms(r.get(1)?))),
            )
            .optional()?)
    }

    /// The open alerts, of one station or of all, newest first.
    pub fn alerts(&self, station: Option<&str>, now: Timestamp) -> Result<Vec<AlertView>> {
        if let Some(id) = station {
            self.station(id)?;
        }
        let states = self.station_states(station)?;
        self.alerts_of(&states, station, now)
    }

    fn alerts_of(
        &self,
        states: &[StationState],
        only: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<AlertView>> {
        let settings = self.alert_settings()?;
        let names: HashMap<&str, &str> = states
            .iter()
            .map(|s| (s.view.station.as_str(), s.view.name.as_str()))
            .collect();
        let alert = |kind: &str, station: &str, since: Option<String>, detail: String| AlertView {
            kind: kind.to_owned(),
            station: station.to_owned(),
            name: names.get(station).copied().unwrap_or_default().to_owned(),
            since,
            detail,
        };
        let mut alerts = Vec::new();
        let offline_after = SignedDuration::from_mins(i64::from(settings.offline_after_minutes));
        let current = self.current_price_version(now)?;
        let late_after =
            SignedDuration::from_mins(i64::from(settings.price_not_applied_after_minutes));
        for state in states {
            let s = &state.view;
            if !s.online && now.duration_since(state.offline_since) >= offline_after {
                let minutes = now.duration_since(state.offline_since).as_mins();
                alerts.push(alert(
                    "station_offline",
                    &s.station,
                    Some(state.offline_since.to_string()),
                    format!("offline for {minutes} min"),
                ));
            }
            let waiting = s
                .events_waiting_to_station
                .saturating_add(s.events_waiting_from_station);
            if waiting > u64::from(settings.backlog_limit) {
                alerts.push(alert(
                    "backlog_growing",
                    &s.station,
                    s.last_seen.clone(),
                    format!(
                        "{waiting} events waiting ({} to the station, {} from it), over the limit of {}",
                        s.events_waiting_to_station,
                        s.events_waiting_from_station,
                        settings.backlog_limit
                    ),
                ));
            }
            if let Some((version, effective_at)) = current {
                let behind = s.price_version_applied.is_none_or(|v| v < version);
                if behind && now.duration_since(effective_at) > late_after {
                    let holds = s
                        .price_version_applied
                        .map_or("none".to_owned(), |v| v.to_string());
                    alerts.push(alert(
                        "price_not_applied",
                        &s.station,
                        Some(effective_at.to_string()),
                        format!("price version {version} in effect, the station holds {holds}"),
                    ));
                }
            }
        }
        // Wet-stock variances past their limit in the last week of business days.
        let week_ago = jiff::tz::TimeZone::UTC
            .to_datetime(
                now.checked_sub(SignedDuration::from_hours(24 * 8))
                    .map_err(|e| HubError::Storage(e.to_string()))?,
            )
            .date()
            .to_string();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT station_id, business_day, tank, product_id, variance_ml, limit_ml FROM rm_wet_stock
                 WHERE flagged = 1 AND business_day >= ?1 AND (?2 IS NULL OR station_id = ?2)
                 ORDER BY business_day DESC",
            )?;
            let rows = stmt.query_map(params![week_ago, only], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?;
            for row in rows {
                let (station, day, tank, product, variance, limit) = row?;
                if names.contains_key(station.as_str()) {
                    alerts.push(alert(
                        "variance_over_limit",
                        &station,
                        Some(day),
                        format!(
                            "tank {tank} ({product}): variance {variance} ml, limit {limit} ml"
                        ),
                    ));
                }
            }
        }
        // New dead letters.
        {
            let since = ms(now) - DEAD_LETTER_ALERT_HOURS * 3_600_000;
            let mut stmt = self.conn.prepare_cached(
                "SELECT station_id, count(*), sum(repeats), max(coalesce(last_received_at_ms, received_at_ms))
                 FROM dead_letters
                 WHERE station_id IS NOT NULL AND coalesce(last_received_at_ms, received_at_ms) >= ?1
                   AND (?2 IS NULL OR station_id = ?2)
                 GROUP BY station_id",
            )?;
            let rows = stmt.query_map(params![since, only], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (station, distinct, copies, last) = row?;
                if names.contains_key(station.as_str()) {
                    alerts.push(alert(
                        "dead_letters",
                        &station,
                        Some(from_ms(last).to_string()),
                        format!(
                            "{distinct} message(s) HQ could not apply ({copies} copies) in the last {DEAD_LETTER_ALERT_HOURS} h"
                        ),
                    ));
                }
            }
        }
        if settings.low_stock_days > 0 {
            for row in self.stock_rows(only, &settings)? {
                if row.low {
                    let cover = row.days_of_cover_tenths.unwrap_or(0);
                    alerts.push(alert(
                        "low_stock",
                        &row.station,
                        None,
                        format!(
                            "tank {} ({}): {}.{} days of cover, under {} days",
                            row.tank,
                            row.product_name,
                            cover / 10,
                            cover % 10,
                            settings.low_stock_days
                        ),
                    ));
                }
            }
        }
        // Newest first; alerts without a time last.
        alerts.sort_by(|a, b| {
            b.since
                .cmp(&a.since)
                .then_with(|| a.station.cmp(&b.station))
                .then_with(|| a.kind.cmp(&b.kind))
        });
        Ok(alerts)
    }

    /// Where each station stands with price version `version`.
    pub fn rollout(&self, version: u64) -> Result<RolloutView> {
        let (effective_at, created_at): (i64, i64) = self
            .conn
            .query_row(
                "SELECT effective_at_ms, created_at_ms FROM price_versions WHERE version = ?1",
                params![to_i64(version)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| {
                HubError::invalid("price version", format!("there is no version {version}"))
            })?;
        let mut view = RolloutView {
            version,
            effective_at: from_ms(effective_at).to_string(),
            stations_total: 0,
            applied: 0,
            pending: 0,
            offline: 0,
            stations: Vec::new(),
        };
        for state in self.station_states(None)? {
            let s = state.view;
            let (label, since) = if s.price_version_applied.is_some_and(|v| v >= version) {
                view.applied += 1;
                ("applied", s.price_applied_at)
            } else if !s.online {
                view.offline += 1;
                ("offline", s.last_seen)
            } else {
                view.pending += 1;
                ("pending", Some(from_ms(created_at).to_string()))
            };
            view.stations_total += 1;
            view.stations.push(RolloutStationView {
                station: s.station,
                name: s.name,
                state: label.to_owned(),
                since,
                price_version_applied: s.price_version_applied,
            });
        }
        Ok(view)
    }

    /// Network sales over a range of days, broken down one way. Reports of the whole network
    /// by day, product or operating type read the network roll-up (a few rows per day) rather
    /// than every station's rows.
    pub fn sales_report(&self, query: &SalesQuery) -> Result<SalesReportView> {
        query.check()?;
        let from = query.from.to_string();
        let to = query.to.to_string();
        let key = match query.by {
            SalesBy::Day => "business_day",
            SalesBy::Product => "product_id",
            SalesBy::Station => "station_id",
            SalesBy::OperatingType => "operating_type",
        };
        let figures = "sum(sales_count), sum(sales_volume_ml), sum(sales_quantity), \
                       sum(sales_amount_won), sum(canceled_amount_won)";
        let sql = if query.station.is_none() && query.by != SalesBy::Station {
            format!(
                "SELECT {key}, {figures} FROM rm_sales_network
                 WHERE business_day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR product_id = ?3)
                   AND (?4 IS NULL OR operating_type = ?4) AND ?5 IS NULL
                 GROUP BY 1"
            )
        } else {
            let key = if query.by == SalesBy::OperatingType {
                "st.operating_type".to_owned()
            } else {
                format!("s.{key}")
            };
            format!(
                "SELECT {key}, {figures} FROM rm_sales s JOIN stations st USING (station_id)
                 WHERE s.business_day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR s.product_id = ?3)
                   AND (?4 IS NULL OR st.operating_type = ?4) AND (?5 IS NULL OR s.station_id = ?5)
                 GROUP BY 1"
            )
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let labels = self.labels(query.by)?;
        let rows = stmt.query_map(
            params![from, to, query.product, query.operating_type, query.station],
            |r| {
                let key: String = r.get(0)?;
                let sales: i64 = r.get(4)?;
                let canceled: i64 = r.get(5)?;
                Ok(SalesReportRow {
                    label: labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
                    key,
                    sales_count: r.get(1)?,
                    sales_volume_ml: r.get(2)?,
                    sales_quantity: r.get(3)?,
                    sales_amount_won: sales,
                    canceled_amount_won: canceled,
                    net_amount_won: sales.saturating_sub(canceled),
                })
            },
        )?;
        let mut rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        match query.by {
            SalesBy::Day => rows.sort_by(|a, b| a.key.cmp(&b.key)),
            _ => rows.sort_by(|a, b| {
                b.net_amount_won
                    .cmp(&a.net_amount_won)
                    .then_with(|| a.key.cmp(&b.key))
            }),
        }
        let mut total = SalesReportRow {
            key: "total".to_owned(),
            label: "total".to_owned(),
            ..SalesReportRow::default()
        };
        for row in &rows {
            total.sales_count = total.sales_count.saturating_add(row.sales_count);
            total.sales_volume_ml = total.sales_volume_ml.saturating_add(row.sales_volume_ml);
            total.sales_quantity = total.sales_quantity.saturating_add(row.sales_quantity);
            total.sales_amount_won = total.sales_amount_won.saturating_add(row.sales_amount_won);
            total.canceled_amount_won = total
                .canceled_amount_won
                .saturating_add(row.canceled_amount_won);
            total.net_amount_won = total.net_amount_won.saturating_add(row.net_amount_won);
        }
        Ok(SalesReportView {
            from,
            to,
            by: query.by.as_str().to_owned(),
            rows,
            total,
        })
    }

    /// Names for a report's keys: products and stations by name; days and types as they are.
    fn labels(&self, by: SalesBy) -> Result<HashMap<String, String>> {
        let sql = match by {
            SalesBy::Product => "SELECT product_id, name FROM products",
            SalesBy::Station => "SELECT station_id, name FROM stations",
            SalesBy::Day | SalesBy::OperatingType => return Ok(HashMap::new()),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Network stock by station and tank, and by product, against recent sales.
    pub fn stock_report(&self) -> Result<StockReportView> {
        let settings = self.alert_settings()?;
        let rows = self.stock_rows(None, &settings)?;
        let mut by_product: BTreeMap<String, StockByProductView> = BTreeMap::new();
        // A station's daily sales of a product are on each of its tanks of it: counted once.
        let mut counted: std::collections::HashSet<(&str, &str)> = Default::default();
        for row in &rows {
            let entry =
                by_product
                    .entry(row.product.clone())
                    .or_insert_with(|| StockByProductView {
                        product: row.product.clone(),
                        product_name: row.product_name.clone(),
                        book_stock_ml: 0,
                        capacity_ml: 0,
                        daily_sales_ml: 0,
                        days_of_cover_tenths: None,
                    });
            entry.book_stock_ml = entry.book_stock_ml.saturating_add(row.book_stock_ml);
            entry.capacity_ml = entry.capacity_ml.saturating_add(row.capacity_ml);
            if counted.insert((row.station.as_str(), row.product.as_str())) {
                entry.daily_sales_ml = entry.daily_sales_ml.saturating_add(row.daily_sales_ml);
            }
        }
        for entry in by_product.values_mut() {
            entry.days_of_cover_tenths = cover_tenths(entry.book_stock_ml, entry.daily_sales_ml);
        }
        Ok(StockReportView {
            rows,
            by_product: by_product.into_values().collect(),
        })
    }

    fn stock_rows(
        &self,
        only: Option<&str>,
        settings: &AlertSettings,
    ) -> Result<Vec<StockReportRow>> {
        // Each station's last business days with sales, per product: their average net volume.
        let mut stmt = self.conn.prepare_cached(
            "WITH last_day AS (
                 SELECT station_id, max(business_day) AS day FROM rm_sales
                 WHERE ?1 IS NULL OR station_id = ?1 GROUP BY station_id
             )
             SELECT s.station_id, s.product_id,
                    sum(s.sales_volume_ml - s.canceled_volume_ml), count(DISTINCT s.business_day)
             FROM last_day l JOIN rm_sales s ON s.station_id = l.station_id
                 AND s.business_day > date(l.day, ?2) AND s.business_day <= l.day
             GROUP BY 1, 2",
        )?;
        let window = format!("-{COVER_DAYS} days");
        let rows = stmt.query_map(params![only, window], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                (r.get::<_, i64>(2)?, r.get::<_, i64>(3)?),
            ))
        })?;
        let mut daily: HashMap<(String, String), i64> = HashMap::new();
        for row in rows {
            let (key, (volume, days)) = row?;
            daily.insert(key, if days > 0 { volume.max(0) / days } else { 0 });
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.station_id, s.name, t.tank, t.product_id, coalesce(p.name, t.product_id),
                    t.capacity_ml, t.book_stock_ml,
                    sum(t.book_stock_ml) OVER (PARTITION BY t.station_id, t.product_id)
             FROM rm_tanks t JOIN stations s USING (station_id)
             LEFT JOIN products p USING (product_id)
             WHERE ?1 IS NULL OR t.station_id = ?1
             ORDER BY t.station_id, t.tank",
        )?;
        let low_under = i64::from(settings.low_stock_days) * 10;
        let rows = stmt.query_map(params![only], |r| {
            let station: String = r.get(0)?;
            let product: String = r.get(3)?;
            let station_stock: i64 = r.get(7)?;
            let daily_sales = daily
                .get(&(station.clone(), product.clone()))
                .copied()
                .unwrap_or(0);
            let cover = cover_tenths(station_stock, daily_sales);
            Ok(StockReportRow {
                station,
                name: r.get(1)?,
                tank: r.get(2)?,
                product,
                product_name: r.get(4)?,
                capacity_ml: r.get(5)?,
                book_stock_ml: r.get(6)?,
                daily_sales_ml: daily_sales,
                days_of_cover_tenths: cover,
                low: cover.is_some_and(|c| c < low_under),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Days of cover in tenths: stock over daily sales, rounded down; `None` without sales.
fn cover_tenths(stock_ml: i64, daily_sales_ml: i64) -> Option<i64> {
    (daily_sales_ml > 0).then(|| stock_ml.max(0).saturating_mul(10) / daily_sales_ml)
}

/// Reads a price book in CSV (RFC 4180; UTF-8, a byte-order mark allowed): a header naming
/// `product` and `unit_price_won` (other columns, such as a name, are ignored), then one
/// product per line. Every bad line is reported, each with its number; the whole book is
/// refused when any line is bad. `known` tells whether HQ has a product.
pub fn read_price_book(
    text: &str,
    known: impl Fn(&str) -> bool,
) -> Result<Vec<(String, i64)>, HubError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let mut prices: Vec<(String, i64)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(HubError::InvalidPriceBook(vec![LineError {
            line: 1,
            message: "the file is empty; the first line names the columns product,unit_price_won"
                .to_owned(),
        }]));
    };
    let columns = match split_csv_line(header) {
        Ok(cells) => cells,
        Err(message) => {
            return Err(HubError::InvalidPriceBook(vec![LineError {
                line: 1,
                message,
            }]));
        }
    };
    let find = |name: &str| columns.iter().position(|c| c.trim() == name);
    let (Some(product_at), Some(price_at)) = (find("product"), find("unit_price_won")) else {
        return Err(HubError::InvalidPriceBook(vec![LineError {
            line: 1,
            message: format!("the header `{header}` lacks the columns product and unit_price_won"),
        }]));
    };
    for (index, line) in lines {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if number > PRICE_BOOK_MAX_LINES {
            errors.push(LineError {
                line: number,
                message: format!("a price book holds at most {PRICE_BOOK_MAX_LINES} lines"),
            });
            break;
        }
        let cells = match split_csv_line(line) {
            Ok(cells) => cells,
            Err(message) => {
                errors.push(LineError {
                    line: number,
                    message,
                });
                continue;
            }
        };
        let cell = |at: usize| cells.get(at).map_or("", |c| c.trim());
        let product = cell(product_at);
        let price_text = cell(price_at);
        let mut problems = Vec::new();
        if let Err(e) = check_code("product", product) {
            problems.push(e.to_string());
        } else if !known(product) {
            problems.push(format!("unknown product {product}"));
        } else if let Some(first) = seen.get(product) {
            problems.push(format!("{product} is already priced on line {first}"));
        }
        let digits: String = price_text.chars().filter(|c| *c != ',').collect();
        let price = match digits.parse::<i64>() {
            Ok(p) if (1..=1_000_000).contains(&p) => Some(p),
            Ok(p) => {
                problems.push(format!("{p} won is not between 1 and 1,000,000"));
                None
            }
            Err(_) => {
                problems.push(format!("`{price_text}` is not a whole number of won"));
                None
            }
        };
        match (problems.is_empty(), price) {
            (true, Some(price)) => {
                seen.insert(product.to_owned(), number);
                prices.push((product.to_owned(), price));
            }
            _ => errors.push(LineError {
                line: number,
                message: problems.join("; "),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(HubError::InvalidPriceBook(errors));
    }
    if prices.is_empty() {
        return Err(HubError::EmptyPriceVersion);
    }
    Ok(prices)
}

/// One CSV line's cells: commas separate, double quotes enclose (a doubled quote is a quote).
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("a quoted cell is not closed".to_owned());
    }
    cells.push(cell);
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_book_with_quotes_and_thousands_separators_reads() {
        let book = "\u{feff}product,name,unit_price_won\nGAS95,\"휘발유, 고급\",\"1,789\"\nDIESEL,경유,1650\n\n";
        let prices = read_price_book(book, |_| true).unwrap();
        assert_eq!(
            prices,
            vec![("GAS95".to_owned(), 1789), ("DIESEL".to_owned(), 1650)]
        );
    }

    #[test]
    fn every_bad_line_is_named_and_nothing_is_read() {
        let book = "product,unit_price_won\nGAS95,1789\nNOPE1,100\nGAS95,1800\ndiesel,0\nDIESEL,abc\n\"GAS,1\n";
        let Err(HubError::InvalidPriceBook(lines)) =
            read_price_book(book, |p| p == "GAS95" || p == "DIESEL")
        else {
            panic!("the book was read");
        };
        let numbers: Vec<usize> = lines.iter().map(|l| l.line).collect();
        assert_eq!(numbers, vec![3, 4, 5, 6, 7], "{lines:?}");
        assert!(lines[0].message.contains("unknown product NOPE1"));
        assert!(lines[1].message.contains("already priced on line 2"));
        assert!(lines[2].message.contains("not 1 to 16 capital letters"));
        assert!(lines[2].message.contains("0 won is not between"));
        assert!(lines[3].message.contains("`abc` is not a whole number"));
        assert!(lines[4].message.contains("not closed"));
    }

    #[test]
    fn a_book_without_the_columns_or_lines_is_refused() {
        assert!(matches!(
            read_price_book("code,price\nGAS95,1\n", |_| true),
            Err(HubError::InvalidPriceBook(lines)) if lines[0].line == 1
        ));
        assert!(matches!(
            read_price_book("product,unit_price_won\n", |_| true),
            Err(HubError::EmptyPriceVersion)
        ));
        assert!(matches!(
            read_price_book("", |_| true),
            Err(HubError::InvalidPriceBook(_))
        ));
    }

    #[test]
    fn a_book_past_its_line_limit_is_refused_at_the_limit() {
        let mut book = String::from("product,unit_price_won\n");
        for _ in 1..PRICE_BOOK_MAX_LINES {
            book.push_str("GAS95,1\n");
        }
        // Exactly the limit: every line is read (here all duplicates, so refused for that).
        let Err(HubError::InvalidPriceBook(lines)) = read_price_book(&book, |_| true) else {
            panic!()
        };
        assert!(lines.iter().all(|l| l.message.contains("already priced")));
        book.push_str("GAS95,1\n");
        let Err(HubError::InvalidPriceBook(lines)) = read_price_book(&book, |_| true) else {
            panic!()
        };
        assert!(
            lines.last().is_some_and(
                |l| l.line == PRICE_BOOK_MAX_LINES + 1 && l.message.contains("at most")
            )
        );
    }

    #[test]
    fn days_of_cover_round_down_and_need_sales() {
        assert_eq!(cover_tenths(10_000, 4_000), Some(25));
        assert_eq!(cover_tenths(10_000, 0), None);
        assert_eq!(cover_tenths(-5, 100), Some(0));
    }
}
