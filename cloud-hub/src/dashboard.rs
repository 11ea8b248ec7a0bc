//! What HQ's dashboard reads beside the reports (`reports`): the network at a glance, one
//! station, the roll-out of a price version, and alerts. Read models only; nothing here
//! changes a record but the alert settings.
//!
//! Alerts are worked out when asked from the state they are about (a station offline since a
//! time, a price version not applied), so an alert opens and closes with its cause and never
//! needs clearing.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{HqUser, Permission};
use crate::error::{HubError, Result};
use crate::hub::{Hub, from_ms, ms, to_i64, to_u64};
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

/// How long a dead letter keeps its station's alert open.
const DEAD_LETTER_ALERT_HOURS: i64 = 24;

/// A station's state as the Network screen needs it, before alerts are counted.
pub(crate) struct StationState {
    pub(crate) view: NetworkStationView,
    /// When it went offline (or was registered, if never seen).
    offline_since: Timestamp,
    /// The station's events applied at HQ (its sequence position).
    pub(crate) applied_through: u64,
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

    pub(crate) fn station_states(&self, only: Option<&str>) -> Result<Vec<StationState>> {
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
                applied_through: to_u64(applied),
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
        let alert = |kind: &str,
                     station: &str,
                     since: Option<String>,
                     detail: String,
                     figures: &[(&str, i64)]| AlertView {
            kind: kind.to_owned(),
            station: station.to_owned(),
            name: names.get(station).copied().unwrap_or_default().to_owned(),
            since,
            detail,
            figures: figures
                .iter()
                .map(|(name, value)| ((*name).to_owned(), *value))
                .collect(),
        };
        let whole = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
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
                    &[("minutes", minutes)],
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
                    &[
                        ("waiting", whole(waiting)),
                        ("to_station", whole(s.events_waiting_to_station)),
                        ("from_station", whole(s.events_waiting_from_station)),
                        ("limit", i64::from(settings.backlog_limit)),
                    ],
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
                        &[
                            ("version", whole(version)),
                            ("holds", s.price_version_applied.map_or(0, whole)),
                        ],
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
                        &[
                            ("tank", tank),
                            ("variance_ml", variance),
                            ("limit_ml", limit),
                        ],
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
                        &[
                            ("messages", distinct),
                            ("copies", copies),
                            ("hours", DEAD_LETTER_ALERT_HOURS),
                        ],
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
                        &[
                            ("tank", i64::from(row.tank)),
                            ("cover_tenths", cover),
                            ("days", i64::from(settings.low_stock_days)),
                        ],
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

    /// The stations' audit logs as they sent them, newest first: at most `filter.limit`
    /// (capped at [`STATION_AUDIT_LIMIT`]) of the entries that match; only those before
    /// `filter.before` (an `audit_no`) when given, to page back.
    pub fn station_audit(&self, filter: &StationAuditFilter) -> Result<Vec<StationAuditView>> {
        if let Some(id) = &filter.station {
            self.station(id)?;
        }
        let limit = i64::try_from(filter.limit.min(STATION_AUDIT_LIMIT)).unwrap_or(0);
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.audit_no, a.station_id, coalesce(s.name, ''), a.entry_no, a.at_ms, a.action,
                    a.actor, a.approved_by, a.subject, a.detail
             FROM rm_station_audit a LEFT JOIN stations s USING (station_id)
             WHERE (?2 IS NULL OR a.station_id = ?2) AND (?3 IS NULL OR a.action = ?3)
               AND (?4 IS NULL OR a.actor = ?4 OR a.approved_by = ?4)
               AND (?5 IS NULL OR instr(lower(coalesce(a.subject, '') || ' ' || a.detail), lower(?5)) > 0)
               AND (?6 IS NULL OR a.audit_no < ?6)
             ORDER BY a.audit_no DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(
            params![
                limit,
                filter.station,
                filter.action,
                filter.actor,
                filter.text,
                filter.before
            ],
            |r| {
                Ok(StationAuditView {
                    audit_no: r.get(0)?,
                    station: r.get(1)?,
                    name: r.get(2)?,
                    entry: r.get(3)?,
                    at: from_ms(r.get(4)?).to_string(),
                    action: r.get(5)?,
                    actor: r.get(6)?,
                    approved_by: r.get(7)?,
                    subject: r.get(8)?,
                    detail: r.get(9)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The most station audit entries one read returns.
pub const STATION_AUDIT_LIMIT: usize = 1_000;

/// Which station audit entries to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationAuditFilter {
    pub station: Option<String>,
    pub action: Option<String>,
    /// The user who acted or approved.
    pub actor: Option<String>,
    /// Found in the subject or the detail.
    pub text: Option<String>,
    /// Only entries before this `audit_no`.
    pub before: Option<i64>,
    pub limit: usize,
}
