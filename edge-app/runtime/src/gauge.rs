//! The tank gauge's supervisor: reads the in-tank inventory from the automatic tank gauge on its
//! serial port every `poll` and records each tank's measured volume in the station, beside its
//! book stock; the wet-stock reconciliation works from these readings. A gauge that does not
//! answer is reopened on the next round; gauge tanks the station does not have are ignored.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use forecourt_protocols::tls::TankSelector;
use jiff::Timestamp;
use station_core::{Millilitres, Station, StationError, TankNo};
use tank_gauge::{GaugeLink, LineSettings};

use crate::live::{DeviceState, GaugeDelivery, Live};

/// Where the gauge is and how often to read it.
#[derive(Debug, Clone)]
pub struct GaugeConfig {
    pub db: PathBuf,
    pub port: String,
    pub poll: Duration,
}

/// Runs until `stop` is set.
pub fn run(config: &GaugeConfig, live: &Live, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut station = Station::open(&config.db)?;
    let mut link: Option<GaugeLink> = None;
    let mut healthy = None;
    while !stop.load(Ordering::Relaxed) {
        let result = read_once(&mut station, config, live, &mut link);
        let ok = result.is_ok();
        live.update(|s| {
            s.gauge = match &result {
                Ok(_) => DeviceState::ready(),
                Err(error) => DeviceState::disconnected(error.to_string()),
            };
        });
        if healthy != Some(ok) {
            match &result {
                Ok(tanks) => tracing::info!(tanks, "tank gauge read"),
                Err(error) => tracing::warn!(%error, "tank gauge unavailable"),
            }
            healthy = Some(ok);
        }
        std::thread::sleep(config.poll);
    }
    Ok(())
}

/// One round: read every tank and record the ones the station has. Returns how many.
pub fn read_once(
    station: &mut Station,
    config: &GaugeConfig,
    live: &Live,
    link: &mut Option<GaugeLink>,
) -> anyhow::Result<usize> {
    if link.is_none() {
        *link = Some(GaugeLink::open(
            &config.port,
            LineSettings::default(),
            Duration::from_secs(2),
        )?);
    }
    let Some(gauge) = link.as_mut() else {
        anyhow::bail!("the gauge is not open");
    };
    let levels = match gauge.inventory(TankSelector::ALL) {
        Ok(levels) => levels,
        Err(error) => {
            *link = None;
            return Err(error.into());
        }
    };
    let now = Timestamp::now();
    match gauge.deliveries(TankSelector::ALL) {
        Ok(report) => {
            let deliveries = report
                .tanks
                .iter()
                .flat_map(|tank| {
                    tank.deliveries.iter().map(|d| GaugeDelivery {
                        tank: u16::from(tank.tank),
                        started_at: gauge_time(&d.start),
                        ended_at: gauge_time(&d.end),
                        start_volume_ml: d.starting_volume.get(),
                        end_volume_ml: d.ending_volume.get(),
                        delivered_ml: d.ending_volume.get() - d.starting_volume.get(),
                    })
                })
                .collect();
            live.update(|s| s.gauge_deliveries = deliveries);
        }
        // Some consoles are not set up for delivery reports; inventory still counts.
        Err(error) => tracing::debug!(%error, "no delivery report from the gauge"),
    }
    let mut recorded = 0;
    for level in levels {
        let Ok(tank) = TankNo::new(u16::from(level.tank)) else {
            continue;
        };
        match station.record_tank_reading(
            tank,
            Millilitres(level.volume.get()),
            Millilitres(0),
            now,
        ) {
            Ok(()) => recorded += 1,
            Err(StationError::UnknownTank(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(recorded)
}

fn gauge_time(time: &forecourt_protocols::tls::reports::GaugeTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        time.year, time.month, time.day, time.hour, time.minute
    )
}
