//! HQ's reports: network sales over a range of days broken down by day, product, station or
//! operating type (read from the roll-ups the migrations keep beside the station rows), and
//! network stock against recent sales (days of cover).

use std::collections::{BTreeMap, HashMap};

use jiff::ToSpan;
use jiff::civil::Date;
use rusqlite::params;

use crate::dashboard::AlertSettings;
use crate::error::{HubError, Result};
use crate::hub::Hub;
use crate::views::*;

/// Business days of sales the days of cover are worked out from.
const COVER_DAYS: i64 = 7;

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
    pub from: Date,
    pub to: Date,
    pub by: SalesBy,
    pub station: Option<String>,
    pub product: Option<String>,
    pub operating_type: Option<String>,
}

/// The longest range a report covers: a few years of history at once.
const REPORT_MAX_DAYS: i32 = 3 * 366;

pub fn parse_day(field: &'static str, text: &str) -> Result<Date> {
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

impl Hub {
    /// Network sales over a range of days, broken down one way. Reports of the whole network
    /// by day, product or operating type read the network roll-up (a few rows per day); by
    /// station, the stations' monthly roll-up and the days at the range's ends; of one station,
    /// that station's rows only.
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
        let read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(String, [i64; 5])> {
            Ok((
                r.get(0)?,
                [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
            ))
        };
        let figures_by_key: Vec<(String, [i64; 5])> = match (&query.station, query.by) {
            (None, SalesBy::Station) => self.sales_by_station(query)?,
            (None, _) => {
                let sql = format!(
                    "SELECT {key}, {figures} FROM rm_sales_network
                     WHERE business_day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR product_id = ?3)
                       AND (?4 IS NULL OR operating_type = ?4)
                     GROUP BY 1"
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                stmt.query_map(params![from, to, query.product, query.operating_type], read)?
                    .collect::<rusqlite::Result<_>>()?
            }
            // `station_id = ?1` (not `?1 IS NULL OR …`): the one station's range of the
            // primary key is read, not every station's rows of the range.
            (Some(station), _) => {
                let key = if query.by == SalesBy::OperatingType {
                    "st.operating_type".to_owned()
                } else {
                    format!("s.{key}")
                };
                let sql = format!(
                    "SELECT {key}, {figures} FROM rm_sales s JOIN stations st USING (station_id)
                     WHERE s.station_id = ?1 AND s.business_day BETWEEN ?2 AND ?3
                       AND (?4 IS NULL OR s.product_id = ?4) AND (?5 IS NULL OR st.operating_type = ?5)
                     GROUP BY 1"
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                stmt.query_map(
                    params![station, from, to, query.product, query.operating_type],
                    read,
                )?
                .collect::<rusqlite::Result<_>>()?
            }
        };
        let labels = self.labels(query.by)?;
        let mut rows: Vec<SalesReportRow> = figures_by_key
            .into_iter()
            .map(
                |(key, [count, volume, quantity, sales, canceled])| SalesReportRow {
                    label: labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
                    key,
                    sales_count: count,
                    sales_volume_ml: volume,
                    sales_quantity: quantity,
                    sales_amount_won: sales,
                    canceled_amount_won: canceled,
                    net_amount_won: sales.saturating_sub(canceled),
                },
            )
            .collect();
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

    /// The network's sales per station over the query's days: whole months from the stations'
    /// monthly roll-up, the days at either end from the stations' rows (added, or taken off a
    /// month when fewer). Each part is read station by station along the primary keys, in
    /// station order, so a year of a thousand stations is about 130,000 rows and no sort.
    fn sales_by_station(&self, query: &SalesQuery) -> Result<Vec<(String, [i64; 5])>> {
        // Per station: its figures, and how many day rows they come from (a station without
        // rows in the range has no line, as when reading the day rows alone).
        let mut sums: BTreeMap<String, ([i64; 5], i64)> = BTreeMap::new();
        for part in month_cover(query.from, query.to) {
            let (table, column, days, first, last, sign) = match part {
                CoverPart::Months { first, last } => (
                    "rm_sales_station_month",
                    "month",
                    "sum(s.days)",
                    first,
                    last,
                    1,
                ),
                CoverPart::Days { first, last, sign } => (
                    "rm_sales",
                    "business_day",
                    "count(*)",
                    first.to_string(),
                    last.to_string(),
                    sign,
                ),
            };
            // CROSS JOIN keeps stations outermost: one seek per station, its rows in key order.
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT st.station_id, {days}, sum(s.sales_count), sum(s.sales_volume_ml),
                        sum(s.sales_quantity), sum(s.sales_amount_won), sum(s.canceled_amount_won)
                 FROM stations st CROSS JOIN {table} s ON s.station_id = st.station_id
                 WHERE s.{column} BETWEEN ?1 AND ?2 AND (?3 IS NULL OR s.product_id = ?3)
                   AND (?4 IS NULL OR st.operating_type = ?4)
                 GROUP BY st.station_id"
            ))?;
            let mut rows = stmt.query(params![first, last, query.product, query.operating_type])?;
            while let Some(r) = rows.next()? {
                let (figures, count) = sums.entry(r.get(0)?).or_default();
                *count += sign * r.get::<_, i64>(1)?;
                for (at, figure) in figures.iter_mut().enumerate() {
                    *figure = figure.saturating_add(sign.saturating_mul(r.get(at + 2)?));
                }
            }
        }
        Ok(sums
            .into_iter()
            .filter(|(_, (_, count))| *count > 0)
            .map(|(station, (figures, _))| (station, figures))
            .collect())
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

    pub(crate) fn stock_rows(
        &self,
        only: Option<&str>,
        settings: &AlertSettings,
    ) -> Result<Vec<StockReportRow>> {
        // Each station's last business days with sales, per product: their average net volume.
        // A station's last day is one seek on the primary key (a `max … GROUP BY station_id`
        // over `rm_sales` would read every row of the year); its window is one range of its
        // rows. A row is one day of one product, so the rows of a product count its days.
        // Summed here: SQLite would sort the window's rows to group them by product.
        let mut stmt = self.conn.prepare_cached(
            "WITH last_day AS MATERIALIZED (
                 SELECT st.station_id,
                        (SELECT max(business_day) FROM rm_sales r WHERE r.station_id = st.station_id) AS day
                 FROM stations st WHERE ?1 IS NULL OR st.station_id = ?1
             )
             SELECT s.station_id, s.product_id, s.sales_volume_ml - s.canceled_volume_ml
             FROM last_day l CROSS JOIN rm_sales s ON s.station_id = l.station_id
                 AND s.business_day > date(l.day, ?2) AND s.business_day <= l.day",
        )?;
        let window = format!("-{COVER_DAYS} days");
        let mut sums: HashMap<(String, String), (i64, i64)> = HashMap::new();
        let mut rows = stmt.query(params![only, window])?;
        while let Some(r) = rows.next()? {
            let (volume, days) = sums.entry((r.get(0)?, r.get(1)?)).or_default();
            *volume = volume.saturating_add(r.get(2)?);
            *days += 1;
        }
        let daily: HashMap<(String, String), i64> = sums
            .into_iter()
            .map(|(key, (volume, days))| (key, volume.max(0) / days.max(1)))
            .collect();
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

/// A part of a range of days as the stations' monthly roll-up covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CoverPart {
    /// Whole months, `YYYY-MM` to `YYYY-MM`, from the roll-up.
    Months { first: String, last: String },
    /// Days from the day rows, added (`sign` 1) or taken off a whole month (-1).
    Days { first: Date, last: Date, sign: i64 },
}

/// How days `from` to `to` are read with the fewest rows: every month wholly inside from the
/// roll-up; a month the range only partly covers from its days in the range, or, when the
/// days outside the range are fewer, as the whole month less those days. A day is counted
/// once if it lies in the range and not at all otherwise (see the tests).
fn month_cover(from: Date, to: Date) -> Vec<CoverPart> {
    let mut months: Option<(Date, Date)> = None;
    let mut parts = Vec::new();
    let mut month = from.first_of_month();
    while month <= to {
        let month_end = month.last_of_month();
        let (first, last) = (from.max(month), to.min(month_end));
        let inside = first.until(last).map_or(0, |span| span.get_days()) + 1;
        let outside = i32::from(month.days_in_month()) - inside;
        if outside < inside {
            months = Some((months.map_or(month, |(start, _)| start), month));
            // Neither saturates: `first` is after the month's first day, `last` before its last.
            if first > month {
                parts.push(CoverPart::Days {
                    first: month,
                    last: first.saturating_sub(1.day()),
                    sign: -1,
                });
            }
            if last < month_end {
                parts.push(CoverPart::Days {
                    first: last.saturating_add(1.day()),
                    last: month_end,
                    sign: -1,
                });
            }
        } else {
            parts.push(CoverPart::Days {
                first,
                last,
                sign: 1,
            });
        }
        match month_end.tomorrow() {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    let month_key = |day: Date| format!("{:04}-{:02}", day.year(), day.month());
    if let Some((first, last)) = months {
        parts.insert(
            0,
            CoverPart::Months {
                first: month_key(first),
                last: month_key(last),
            },
        );
    }
    parts
}

/// Days of cover in tenths: stock over daily sales, rounded down; `None` without sales.
fn cover_tenths(stock_ml: i64, daily_sales_ml: i64) -> Option<i64> {
    (daily_sales_ml > 0).then(|| stock_ml.max(0).saturating_mul(10) / daily_sales_ml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    /// How many times the parts count `day`: once inside the range, never outside it.
    fn times_counted(parts: &[CoverPart], day: Date) -> i64 {
        let month = format!("{:04}-{:02}", day.year(), day.month());
        parts
            .iter()
            .map(|part| match part {
                CoverPart::Months { first, last } => {
                    i64::from(first.as_str() <= month.as_str() && month.as_str() <= last.as_str())
                }
                CoverPart::Days { first, last, sign } => {
                    if (first..=last).contains(&&day) {
                        *sign
                    } else {
                        0
                    }
                }
            })
            .sum()
    }

    #[test]
    fn a_month_cover_counts_every_day_of_the_range_once_and_no_other() {
        // Ranges from one day to over a year, across month ends, a leap February and a new year.
        let mut from = date("2023-11-25");
        while from <= date("2024-03-05") {
            for length in [
                0, 1, 2, 13, 14, 15, 16, 27, 28, 29, 30, 31, 45, 60, 89, 200, 365, 400,
            ] {
                let to = from.saturating_add(length.days());
                let parts = month_cover(from, to);
                let mut day = from.saturating_sub(40.days());
                while day <= to.saturating_add(40.days()) {
                    let expected = i64::from(from <= day && day <= to);
                    assert_eq!(
                        times_counted(&parts, day),
                        expected,
                        "{from} to {to}, {day}: {parts:?}"
                    );
                    day = day.tomorrow().unwrap();
                }
                // Never more than the whole months and a part at either end (two in one month).
                assert!(parts.len() <= 3, "{from} to {to}: {parts:?}");
            }
            from = from.tomorrow().unwrap();
        }
    }

    #[test]
    fn a_year_to_yesterday_reads_its_months_and_a_few_days() {
        let parts = month_cover(date("2025-12-03"), date("2026-12-02"));
        assert_eq!(
            parts,
            vec![
                CoverPart::Months {
                    first: "2025-12".to_owned(),
                    last: "2026-11".to_owned()
                },
                CoverPart::Days {
                    first: date("2025-12-01"),
                    last: date("2025-12-02"),
                    sign: -1
                },
                CoverPart::Days {
                    first: date("2026-12-01"),
                    last: date("2026-12-02"),
                    sign: 1
                },
            ]
        );
    }

    /// The report by station, from the monthly roll-up, against the sums of the day rows,
    /// after rows are added and changed as the projections add and change them.
    #[test]
    fn sales_by_station_from_the_roll_up_equal_the_sums_of_the_day_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = Hub::open(
            &dir.path().join("hub.db"),
            std::sync::Arc::new(crate::metrics::Metrics::default()),
        )
        .unwrap();
        let now = Timestamp::now();
        for (n, kind) in [
            (1, crate::OperatingType::Franchise),
            (2, crate::OperatingType::Consignment),
            (3, crate::OperatingType::Franchise),
        ] {
            hub.register_station(
                crate::NewStation {
                    station: format!("ST{n}"),
                    name: format!("Station {n}"),
                    operating_type: kind,
                    region: String::new(),
                },
                now,
            )
            .unwrap();
        }
        let first = date("2024-01-20");
        for station in 1..=3_i64 {
            for offset in 0..100_i64 {
                // Station 3 sells every third day only; DIESEL on odd days.
                if station == 3 && offset % 3 != 0 {
                    continue;
                }
                let day = first.saturating_add(offset.days()).to_string();
                for (product, sold) in [("GAS95", true), ("DIESEL", offset % 2 == 1)] {
                    if sold {
                        hub.conn
                            .execute(
                                "INSERT INTO rm_sales (station_id, business_day, product_id, sales_count,
                                     sales_volume_ml, sales_quantity, sales_amount_won, canceled_amount_won)
                                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)",
                                params![
                                    format!("ST{station}"),
                                    day,
                                    product,
                                    station + offset,
                                    1_000 * (station + offset),
                                    1_700 * (station + offset),
                                    offset % 7
                                ],
                            )
                            .unwrap();
                    }
                }
            }
        }
        hub.conn
            .execute(
                "UPDATE rm_sales SET sales_count = sales_count + 5, sales_amount_won = sales_amount_won + 999
                 WHERE business_day IN ('2024-02-29', '2024-03-01', '2024-01-31')",
                [],
            )
            .unwrap();
        let direct = |from: &str, to: &str, product: Option<&str>, kind: Option<&str>| {
            let mut stmt = hub
                .conn
                .prepare(
                    "SELECT s.station_id, sum(sales_count), sum(sales_volume_ml), sum(sales_quantity),
                            sum(sales_amount_won), sum(canceled_amount_won)
                     FROM rm_sales s JOIN stations st USING (station_id)
                     WHERE business_day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR product_id = ?3)
                       AND (?4 IS NULL OR st.operating_type = ?4)
                     GROUP BY 1 ORDER BY 1",
                )
                .unwrap();
            stmt.query_map(params![from, to, product, kind], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<(String, [i64; 5])>>>()
            .unwrap()
        };
        let ranges = [
            ("2024-01-01", "2024-12-31"),
            ("2024-01-20", "2024-04-28"),
            ("2024-01-21", "2024-04-27"),
            ("2024-02-01", "2024-02-29"),
            ("2024-02-02", "2024-02-28"),
            ("2024-02-27", "2024-03-02"),
            ("2024-03-01", "2024-03-01"),
            ("2024-04-29", "2024-05-31"),
        ];
        for (from, to) in ranges {
            for (product, kind) in [
                (None, None),
                (Some("DIESEL"), None),
                (None, Some("franchise")),
            ] {
                let query = SalesQuery {
                    from: date(from),
                    to: date(to),
                    by: SalesBy::Station,
                    station: None,
                    product: product.map(str::to_owned),
                    operating_type: kind.map(str::to_owned),
                };
                let mut report: Vec<(String, [i64; 5])> = hub
                    .sales_report(&query)
                    .unwrap()
                    .rows
                    .into_iter()
                    .map(|r| {
                        (
                            r.key,
                            [
                                r.sales_count,
                                r.sales_volume_ml,
                                r.sales_quantity,
                                r.sales_amount_won,
                                r.canceled_amount_won,
                            ],
                        )
                    })
                    .collect();
                report.sort();
                assert_eq!(report, direct(from, to, product, kind), "{query:?}");
            }
        }
    }

    #[test]
    fn days_of_cover_round_down_and_need_sales() {
        assert_eq!(cover_tenths(10_000, 4_000), Some(25));
        assert_eq!(cover_tenths(10_000, 0), None);
        assert_eq!(cover_tenths(-5, 100), Some(0));
    }
}
