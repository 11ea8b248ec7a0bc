//! A station's statement for a period, worked out from its tallies and its terms, with no I/O.
//! The statement is also the document a period's close stores (as JSON) and never recomputes.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::money::{per_litre, share};
use crate::period::Period;

/// One version of a station's commission terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub station: String,
    pub version: u32,
    /// In force from this business day until the next version's.
    pub effective_from: Date,
    /// Won per litre, by fuel grade; a grade not named earns nothing.
    pub fuel_rates: BTreeMap<String, i64>,
    /// Share of shop sales, in basis points (1/100 of a percent; 500 is 5%).
    pub shop_rate_basis_points: i64,
    pub monthly_fee_won: i64,
    /// What each litre of wet-stock loss past the tolerance costs the operator.
    pub loss_cost_won_per_litre: i64,
    pub created_by: String,
}

/// Net sales of one product on one business day, on the statement of `settle_period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub business_day: Date,
    pub product: String,
    pub is_fuel: bool,
    pub sales_count: i64,
    pub volume_ml: i64,
    pub quantity: i64,
    pub amount_won: i64,
}

/// A wet-stock loss past the station's tolerance on one day and tank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WetStockLoss {
    pub business_day: Date,
    pub tank: u16,
    pub product: String,
    pub beyond_ml: i64,
}

/// A station's statement for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub station: String,
    pub station_name: String,
    pub period: String,
    pub first_day: String,
    pub last_day: String,
    /// `open` (worked out now, changes as events arrive) or `closed` (stored, never changes).
    pub status: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    /// The feed position its figures include.
    pub position: u64,
    pub fuel: Vec<FuelLine>,
    pub shop: Vec<ShopLine>,
    pub fee: Option<FeeLine>,
    pub deductions: Vec<DeductionLine>,
    pub adjustments: Vec<AdjustmentLine>,
    /// Days with sales but no terms in force: counted, earning nothing.
    pub days_without_terms: Vec<String>,
    pub commission_won: i64,
    pub fee_won: i64,
    pub deductions_won: i64,
    pub adjustments_won: i64,
    /// Commission + fee − deductions + adjustments.
    pub total_owed_won: i64,
}

/// Fuel of one grade under one terms version (net of cancellations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuelLine {
    pub product: String,
    pub terms_version: Option<u32>,
    pub sales_count: i64,
    pub volume_ml: i64,
    pub amount_won: i64,
    pub rate_won_per_litre: i64,
    pub commission_won: i64,
}

/// Shop sales under one terms version (net of cancellations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopLine {
    pub terms_version: Option<u32>,
    pub sales_count: i64,
    pub amount_won: i64,
    pub rate_basis_points: i64,
    pub commission_won: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub terms_version: u32,
    pub amount_won: i64,
}

/// Wet-stock loss past the tolerance of one grade under one terms version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeductionLine {
    pub product: String,
    pub terms_version: Option<u32>,
    pub beyond_ml: i64,
    pub cost_won_per_litre: i64,
    /// Negative: what is taken off.
    pub amount_won: i64,
}

/// A figure of a day of a period closed before it arrived, settled on this statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentLine {
    /// The business day it belongs to.
    pub business_day: String,
    /// `fuel`, `shop` or `wet_stock_loss`.
    pub kind: String,
    pub product: Option<String>,
    pub terms_version: Option<u32>,
    pub sales_count: i64,
    pub volume_ml: i64,
    pub amount_won: i64,
    /// What it adds to (or, negative, takes off) the total.
    pub commission_won: i64,
}

/// Everything a statement is worked out from.
#[derive(Debug)]
pub struct StatementInput<'a> {
    pub station: &'a str,
    pub station_name: &'a str,
    pub period: Period,
    pub position: u64,
    /// The station's terms, any order.
    pub terms: &'a [Terms],
    /// The tallies settled in `period` (its own days and adjustments).
    pub tallies: &'a [Tally],
    pub losses: &'a [WetStockLoss],
}

fn in_force(terms: &[Terms], day: Date) -> Option<&Terms> {
    terms
        .iter()
        .filter(|t| t.effective_from <= day)
        .max_by_key(|t| t.effective_from)
}

/// An adjustment line's key: day, kind, product and terms version.
type AdjustmentKey = (Date, &'static str, Option<String>, Option<u32>);

/// Works out the statement (status `open`; a close marks and stores it).
pub fn work_out(input: &StatementInput<'_>) -> Statement {
    let period = input.period;
    let mut fuel: BTreeMap<(String, Option<u32>), FuelLine> = BTreeMap::new();
    let mut shop: BTreeMap<Option<u32>, ShopLine> = BTreeMap::new();
    let mut deductions: BTreeMap<(String, Option<u32>), DeductionLine> = BTreeMap::new();
    // Adjustments: one line per day, kind, product and terms version.
    let mut adjustments: BTreeMap<AdjustmentKey, AdjustmentLine> = BTreeMap::new();
    let mut without_terms = std::collections::BTreeSet::new();

    for tally in input.tallies {
        let terms = in_force(input.terms, tally.business_day);
        if terms.is_none() {
            without_terms.insert(tally.business_day);
        }
        let version = terms.map(|t| t.version);
        if !period.contains(tally.business_day) {
            let kind = if tally.is_fuel { "fuel" } else { "shop" };
            let product = tally.is_fuel.then(|| tally.product.clone());
            let line = adjustments
                .entry((tally.business_day, kind, product.clone(), version))
                .or_insert_with(|| AdjustmentLine {
                    business_day: tally.business_day.to_string(),
                    kind: kind.to_owned(),
                    product,
                    terms_version: version,
                    sales_count: 0,
                    volume_ml: 0,
                    amount_won: 0,
                    commission_won: 0,
                });
            line.sales_count += tally.sales_count;
            line.volume_ml += tally.volume_ml;
            line.amount_won += tally.amount_won;
            continue;
        }
        if tally.is_fuel {
            let rate = terms
                .and_then(|t| t.fuel_rates.get(&tally.product).copied())
                .unwrap_or(0);
            let line = fuel
                .entry((tally.product.clone(), version))
                .or_insert_with(|| FuelLine {
                    product: tally.product.clone(),
                    terms_version: version,
                    sales_count: 0,
                    volume_ml: 0,
                    amount_won: 0,
                    rate_won_per_litre: rate,
                    commission_won: 0,
                });
            line.sales_count += tally.sales_count;
            line.volume_ml += tally.volume_ml;
            line.amount_won += tally.amount_won;
        } else {
            let rate = terms.map_or(0, |t| t.shop_rate_basis_points);
            let line = shop.entry(version).or_insert_with(|| ShopLine {
                terms_version: version,
                sales_count: 0,
                amount_won: 0,
                rate_basis_points: rate,
                commission_won: 0,
            });
            line.sales_count += tally.sales_count;
            line.amount_won += tally.amount_won;
        }
    }
    for loss in input.losses {
        let terms = in_force(input.terms, loss.business_day);
        let version = terms.map(|t| t.version);
        let cost = terms.map_or(0, |t| t.loss_cost_won_per_litre);
        if !period.contains(loss.business_day) {
            let line = adjustments
                .entry((
                    loss.business_day,
                    "wet_stock_loss",
                    Some(loss.product.clone()),
                    version,
                ))
                .or_insert_with(|| AdjustmentLine {
                    business_day: loss.business_day.to_string(),
                    kind: "wet_stock_loss".to_owned(),
                    product: Some(loss.product.clone()),
                    terms_version: version,
                    sales_count: 0,
                    volume_ml: 0,
                    amount_won: 0,
                    commission_won: 0,
                });
            line.volume_ml += loss.beyond_ml;
            continue;
        }
        let line = deductions
            .entry((loss.product.clone(), version))
            .or_insert_with(|| DeductionLine {
                product: loss.product.clone(),
                terms_version: version,
                beyond_ml: 0,
                cost_won_per_litre: cost,
                amount_won: 0,
            });
        line.beyond_ml += loss.beyond_ml;
    }

    // Rounding: once per line.
    let fuel: Vec<FuelLine> = fuel
        .into_values()
        .map(|mut l| {
            l.commission_won = per_litre(l.volume_ml, l.rate_won_per_litre);
            l
        })
        .collect();
    let shop: Vec<ShopLine> = shop
        .into_values()
        .map(|mut l| {
            l.commission_won = share(l.amount_won, l.rate_basis_points);
            l
        })
        .collect();
    let deductions: Vec<DeductionLine> = deductions
        .into_values()
        .map(|mut l| {
            l.amount_won = -per_litre(l.beyond_ml, l.cost_won_per_litre);
            l
        })
        .collect();
    let adjustments: Vec<AdjustmentLine> = adjustments
        .into_values()
        .map(|mut l| {
            let day: Date = l.business_day.parse().unwrap_or(Date::MIN);
            let terms = in_force(input.terms, day);
            l.commission_won = match (l.kind.as_str(), terms) {
                (_, None) => 0,
                ("fuel", Some(t)) => per_litre(
                    l.volume_ml,
                    l.product
                        .as_ref()
                        .and_then(|p| t.fuel_rates.get(p).copied())
                        .unwrap_or(0),
                ),
                ("shop", Some(t)) => share(l.amount_won, t.shop_rate_basis_points),
                (_, Some(t)) => -per_litre(l.volume_ml, t.loss_cost_won_per_litre),
            };
            l
        })
        .collect();
    let fee = in_force(input.terms, period.last_day()).map(|t| FeeLine {
        terms_version: t.version,
        amount_won: t.monthly_fee_won,
    });

    let commission_won = fuel.iter().map(|l| l.commission_won).sum::<i64>()
        + shop.iter().map(|l| l.commission_won).sum::<i64>();
    let fee_won = fee.as_ref().map_or(0, |f| f.amount_won);
    let deductions_won = deductions.iter().map(|l| l.amount_won).sum::<i64>();
    let adjustments_won = adjustments.iter().map(|l| l.commission_won).sum::<i64>();
    Statement {
        station: input.station.to_owned(),
        station_name: input.station_name.to_owned(),
        period: period.to_string(),
        first_day: period.first_day().to_string(),
        last_day: period.last_day().to_string(),
        status: "open".to_owned(),
        closed_at: None,
        closed_by: None,
        position: input.position,
        fuel,
        shop,
        fee,
        deductions,
        adjustments,
        days_without_terms: without_terms.iter().map(Date::to_string).collect(),
        commission_won,
        fee_won,
        deductions_won,
        adjustments_won,
        total_owed_won: commission_won + fee_won + deductions_won + adjustments_won,
    }
}

/// The statement as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Korean):
/// one row per line, then the totals.
pub fn to_csv(statement: &Statement) -> String {
    let mut out = String::from(
        "\u{feff}station,period,line,business_day,product,terms_version,sales_count,volume_ml,amount_won,rate,commission_won\n",
    );
    let mut row = |line: &str,
                   day: &str,
                   product: &str,
                   version: Option<u32>,
                   count: i64,
                   volume: i64,
                   amount: i64,
                   rate: String,
                   commission: i64| {
        out.push_str(&format!(
            "{},{},{line},{day},{product},{},{count},{volume},{amount},{rate},{commission}\n",
            statement.station,
            statement.period,
            version.map(|v| v.to_string()).unwrap_or_default(),
        ));
    };
    for l in &statement.fuel {
        row(
            "fuel",
            "",
            &l.product,
            l.terms_version,
            l.sales_count,
            l.volume_ml,
            l.amount_won,
            l.rate_won_per_litre.to_string(),
            l.commission_won,
        );
    }
    for l in &statement.shop {
        row(
            "shop",
            "",
            "",
            l.terms_version,
            l.sales_count,
            0,
            l.amount_won,
            l.rate_basis_points.to_string(),
            l.commission_won,
        );
    }
    if let Some(fee) = &statement.fee {
        row(
            "monthly_fee",
            "",
            "",
            Some(fee.terms_version),
            0,
            0,
            0,
            String::new(),
            fee.amount_won,
        );
    }
    for l in &statement.deductions {
        row(
            "wet_stock_loss",
            "",
            &l.product,
            l.terms_version,
            0,
            l.beyond_ml,
            0,
            l.cost_won_per_litre.to_string(),
            l.amount_won,
        );
    }
    for l in &statement.adjustments {
        row(
            &format!("adjustment_{}", l.kind),
            &l.business_day,
            l.product.as_deref().unwrap_or(""),
            l.terms_version,
            l.sales_count,
            l.volume_ml,
            l.amount_won,
            String::new(),
            l.commission_won,
        );
    }
    row(
        "total_owed",
        "",
        "",
        None,
        0,
        0,
        0,
        String::new(),
        statement.total_owed_won,
    );
    out
}
