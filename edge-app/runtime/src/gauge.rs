//! The tank gauge's supervisor: reads the in-tank inventory from the automatic tank gauge on its
//! serial port every `poll` and records each tank's measured volume in the station, beside its
//! book stock; the wet-stock reconciliation works from these readings. A gauge that does not
//! answer is reopened on the next round; gauge tanks the station does not have are ignored.
//!
//! The link speaks computer format, or display format to a gauge that refuses it, and books
//! volumes in millilitres from the gauge's own unit: the one it reports, else the
//! `--gauge-volume-unit` setting, else litres. When the gauge's unit overrules the setting,
//! that is logged as a warning (once per link).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use forecourt_protocols::tls::{TankSelector, UnitDecision, VolumeUnit};
use jiff::Timestamp;
use station_core::{Millilitres, Station, StationError, TankNo};
use tank_gauge::{DeliveryLevels, GaugeLink, LineSettings};

use crate::live::{DeviceState, GaugeDelivery, Live};

/// Where the gauge is, how often to read it, and the unit it is set up in when it does not say.
#[derive(Debug, Clone)]
pub struct GaugeConfig {
    pub db: PathBuf,
    pub port: String,
    pub poll: Duration,
    pub volume_unit: Option<VolumeUnit>,
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
        *link = Some(
            GaugeLink::open(
                &config.port,
                LineSettings::default(),
                Duration::from_secs(2),
            )?
            .with_volume_unit_setting(config.volume_unit),
        );
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
    if let Some(decision) = gauge.poll_unit_change() {
        log_unit(decision);
    }
    let now = Timestamp::now();
    match gauge.deliveries(TankSelector::ALL) {
        Ok(report) => {
            let deliveries = gauge_deliveries(&report);
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

/// Says which unit the gauge's volumes are booked in; a warning when the gauge overrules the
/// setting, since the setting is then wrong.
fn log_unit(decision: UnitDecision) {
    let unit = decision.unit.as_str();
    match decision.overruled_setting {
        Some(setting) => tracing::warn!(
            unit,
            setting = setting.as_str(),
            "the tank gauge reports its volumes in another unit than --gauge-volume-unit says; \
             booking them in the gauge's unit"
        ),
        None => tracing::info!(unit, source = ?decision.source, "tank gauge volume unit"),
    }
}

/// The deliveries for the POS. A delivery whose volumes cannot be subtracted (numbers off the
/// wire) is left out.
fn gauge_deliveries(report: &DeliveryLevels) -> Vec<GaugeDelivery> {
    report
        .tanks
        .iter()
        .flat_map(|tank| {
            tank.deliveries.iter().filter_map(|d| {
                let delivered = d.ending_volume.get().checked_sub(d.starting_volume.get());
                Some(GaugeDelivery {
                    tank: u16::from(tank.tank),
                    started_at: gauge_time(&d.start),
                    ended_at: gauge_time(&d.end),
                    start_volume_ml: d.starting_volume.get(),
                    end_volume_ml: d.ending_volume.get(),
                    delivered_ml: delivered?,
                })
            })
        })
        .collect()
}

fn gauge_time(time: &forecourt_protocols::tls::reports::GaugeTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        time.year, time.month, time.day, time.hour, time.minute
    )
}

#[cfg(test)]
mod tests {
    //! The supervisor's round against the simulated console on a real pseudo-terminal, in
    //! process, recording into a real station file.

    use std::sync::Mutex;

    use serialport::{SerialPort, TTYPort};
    use station_core::{NewUser, PriceItem, PriceVersion, Role, StationSetup, Unit, UnitPrice};
    use tank_gauge::GaugeSimulator;

    use super::*;

    /// The simulator's three tanks behind the slave end of a pty, set up by control lines.
    struct Console {
        path: String,
        running: Arc<AtomicBool>,
        serving: Option<std::thread::JoinHandle<()>>,
        _slave: TTYPort,
    }

    impl Console {
        fn start(setup: &[&str]) -> Console {
            let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
            for line in setup {
                simulator
                    .apply_control(line, tank_gauge::pty::console_time())
                    .unwrap();
            }
            let simulator = Mutex::new(simulator);
            let (mut master, slave) = TTYPort::pair().unwrap();
            master.set_timeout(Duration::from_millis(20)).unwrap();
            let running = Arc::new(AtomicBool::new(true));
            let still_running = running.clone();
            let serving = std::thread::spawn(move || {
                let _ = tank_gauge::pty::serve(&mut master, &simulator, &still_running);
            });
            Console {
                path: slave.name().unwrap(),
                running,
                serving: Some(serving),
                _slave: slave,
            }
        }
    }

    impl Drop for Console {
        fn drop(&mut self) {
            self.running.store(false, Ordering::Relaxed);
            if let Some(serving) = self.serving.take() {
                let _ = serving.join();
            }
        }
    }

    /// A station with diesel in tanks 1 and 3; the console's tank 2 is not the station's.
    fn station(dir: &tempfile::TempDir) -> (Station, PathBuf) {
        let db = dir.path().join("station.db");
        let now = Timestamp::now();
        let manager = NewUser {
            user_id: "park".parse().unwrap(),
            name: "Park".into(),
            role: Role::Manager,
            pin: "9999".parse().unwrap(),
        };
        let mut station = Station::create(
            &db,
            StationSetup {
                station_id: "ST0001".parse().unwrap(),
                name: "Gangnam".into(),
                time_zone: "Asia/Seoul".into(),
                first_manager: manager,
            },
            now,
        )
        .unwrap();
        let diesel = PriceItem {
            product: "CD1001".parse().unwrap(),
            name: "Diesel".into(),
            unit: Unit::Litre,
            unit_price: UnitPrice(1650),
        };
        station
            .receive_price_version(
                PriceVersion {
                    version: 1,
                    effective_at: now,
                    items: vec![diesel],
                },
                now,
            )
            .unwrap();
        let approval = station
            .approve_as_manager(
                &"park".parse().unwrap(),
                &"9999".parse().unwrap(),
                "setting up",
                now,
            )
            .unwrap();
        for tank in [1, 3] {
            station
                .register_tank(
                    &approval,
                    TankNo::new(tank).unwrap(),
                    &"CD1001".parse().unwrap(),
                    Millilitres(40_000_000),
                    now,
                )
                .unwrap();
        }
        (station, db)
    }

    fn config(db: PathBuf, console: &Console) -> GaugeConfig {
        GaugeConfig {
            db,
            port: console.path.clone(),
            poll: Duration::from_secs(60),
            volume_unit: None,
        }
    }

    /// Each tank's latest reading in the station, in millilitres.
    fn booked(station: &Station) -> Vec<(u16, i64)> {
        station
            .latest_tank_readings()
            .unwrap()
            .iter()
            .map(|reading| (reading.tank.get(), reading.volume.get()))
            .collect()
    }

    #[test]
    fn a_gauge_that_answers_only_display_format_is_read_into_the_station() {
        let console = Console::start(&["display-only on"]);
        let dir = tempfile::tempdir().unwrap();
        let (mut station, db) = station(&dir);
        let config = config(db, &console);
        let live = Live::new();
        let mut link = None;
        let recorded = read_once(&mut station, &config, &live, &mut link).unwrap();
        assert_eq!(recorded, 2, "tanks 1 and 3; tank 2 is not the station's");
        assert_eq!(booked(&station), [(1, 12_000_000), (3, 21_000_000)]);
    }

    #[test]
    fn a_gauge_set_to_us_gallons_is_booked_in_millilitres() {
        let console = Console::start(&["volume-unit us-gallon"]);
        let dir = tempfile::tempdir().unwrap();
        let (mut station, db) = station(&dir);
        let config = config(db, &console);
        let live = Live::new();
        let mut link = None;
        read_once(&mut station, &config, &live, &mut link).unwrap();
        // 3170.065 and 5547.613 gal, as the console reports them, × 3785.411784 mL.
        assert_eq!(booked(&station), [(1, 12_000_001), (3, 21_000_000)]);
    }
}
