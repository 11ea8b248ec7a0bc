//! Which tank each pump's nozzle draws from, and the prices a pump's nozzles should hold.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use forecourt_protocols::dart::PumpAddress;
use forecourt_protocols::dart::transaction::NozzleNumber;
use station_core::{PriceItem, Tank, TankNo};

/// Which tank each pump's nozzle draws from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NozzleMap(BTreeMap<(u8, u8), TankNo>);

impl NozzleMap {
    /// Parses `PUMP/NOZZLE=TANK` entries, the pump as its DART address in hex (`50/1=3`).
    pub fn parse(entries: &[String]) -> anyhow::Result<NozzleMap> {
        let mut map = BTreeMap::new();
        for entry in entries {
            let bad = || format!("--nozzle `{entry}` is not PUMP/NOZZLE=TANK, e.g. 50/1=3");
            let (pump_nozzle, tank) = entry.split_once('=').with_context(bad)?;
            let (pump, nozzle) = pump_nozzle.split_once('/').with_context(bad)?;
            let pump = u8::from_str_radix(pump.trim().trim_start_matches("0x"), 16)
                .ok()
                .and_then(|p| PumpAddress::new(p).ok())
                .with_context(|| format!("--nozzle `{entry}`: the pump is an address 50 to 6F"))?;
            let nozzle: u8 = nozzle
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=15).contains(n))
                .with_context(|| format!("--nozzle `{entry}`: the nozzle is 1 to 15"))?;
            let tank: TankNo = tank
                .trim()
                .parse()
                .with_context(|| format!("--nozzle `{entry}`"))?;
            if map.insert((pump.get(), nozzle), tank).is_some() {
                bail!("--nozzle `{entry}`: that nozzle is given twice");
            }
        }
        Ok(NozzleMap(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn pumps(&self) -> Vec<u8> {
        let mut pumps: Vec<u8> = self.0.keys().map(|(pump, _)| *pump).collect();
        pumps.dedup();
        pumps
    }

    pub(super) fn tank(&self, pump: u8, nozzle: u8) -> Option<TankNo> {
        self.0.get(&(pump, nozzle)).copied()
    }

    /// The set-up nozzles of a pump, as DART nozzle numbers.
    pub(super) fn nozzle_numbers(&self, pump: u8) -> Vec<NozzleNumber> {
        self.nozzles(pump)
            .filter_map(|(nozzle, _)| NozzleNumber::new(nozzle))
            .collect()
    }

    fn nozzles(&self, pump: u8) -> impl Iterator<Item = (u8, TankNo)> + '_ {
        self.0
            .iter()
            .filter(move |((p, _), _)| *p == pump)
            .map(|((_, nozzle), tank)| (*nozzle, *tank))
    }
}

/// The unit prices a pump's nozzles should hold, nozzle 1 first: each nozzle's tank's product at
/// the price in force. A nozzle with no tank set up gets its neighbour's price (a pump needs a
/// price for every nozzle). `None` until every set-up nozzle has a price.
pub(super) fn prices_for(
    (tanks, list): &(Vec<Tank>, Vec<PriceItem>),
    nozzles: &NozzleMap,
    pump: u8,
) -> Option<Vec<u32>> {
    let mut by_nozzle = BTreeMap::new();
    for (nozzle, tank) in nozzles.nozzles(pump) {
        let product = &tanks.iter().find(|t| t.tank == tank)?.product;
        let price = list
            .iter()
            .find(|item| &item.product == product)?
            .unit_price;
        by_nozzle.insert(nozzle, u32::try_from(price.get()).ok()?);
    }
    let last = *by_nozzle.keys().next_back()?;
    let mut prices = Vec::with_capacity(usize::from(last));
    let mut fallback = *by_nozzle.values().next()?;
    for nozzle in 1..=last {
        if let Some(price) = by_nozzle.get(&nozzle) {
            fallback = *price;
        }
        prices.push(fallback);
    }
    Some(prices)
}
