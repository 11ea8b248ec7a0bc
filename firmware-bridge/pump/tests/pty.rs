//! End to end over real pseudo-terminals: the `pump-sim` binary on one end, the station's
//! `PumpLine` on the other, as the station would run a pump line on a serial port.

// The helpers below sit outside #[test] functions; a failed setup should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::time::Duration;

use forecourt_protocols::dart::transaction::{
    NozzleNumber, PumpPrice, PumpStatus, PumpVolume, TotalCounter,
};
use forecourt_protocols::dart::{MasterConfig, PumpAddress};
use pump_controller::{LineSettings, Preset, PumpError, PumpEvent, PumpLine, amount_for};

/// Long enough for a loaded CI machine; a passing test never waits it out.
const WAIT: Duration = Duration::from_secs(10);
/// 10 L/s: a test filling of a few litres takes well under a second or two.
const TEST_FLOW_RATE: &str = "60000";

/// A running `pump-sim`, stopped when dropped.
struct Simulator {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    path: String,
}

impl Simulator {
    fn start(pumps: u8) -> Self {
        let mut child = Process::new(env!("CARGO_BIN_EXE_pump-sim"))
            .args(["--pumps", &pumps.to_string(), "--flow-rate", TEST_FLOW_RATE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let ready = read_json(&mut stdout);
        assert_eq!(ready["event"], "ready", "{ready}");
        let path = ready["path"].as_str().unwrap().to_owned();
        Self {
            child,
            stdin,
            stdout,
            path,
        }
    }

    /// Sends a control line and waits until the simulator says it is in effect.
    fn control(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let ack = read_json(&mut self.stdout);
        assert_eq!(ack["event"], "applied", "{ack}");
        assert_eq!(ack["line"], line, "{ack}");
    }

    /// The station's line to these pumps, once every pump has answered.
    fn line(&self, pumps: &[PumpAddress]) -> PumpLine {
        let config = MasterConfig {
            pumps: pumps.to_vec(),
            // Generous against a loaded machine; a silent pump is offline after 3 × 200 ms.
            response_timeout: Duration::from_millis(200),
            max_retries: 2,
        };
        let mut line = PumpLine::open(&self.path, LineSettings::default(), config).unwrap();
        let mut waiting: Vec<PumpAddress> = pumps.to_vec();
        while !waiting.is_empty() {
            if let PumpEvent::Online { pump } = line.next_event(WAIT).unwrap() {
                waiting.retain(|&other| other != pump);
            }
        }
        line
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_json(stdout: &mut BufReader<ChildStdout>) -> serde_json::Value {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap()
}

fn pump(address: u8) -> PumpAddress {
    PumpAddress::new(address).unwrap()
}

fn nozzle(number: u8) -> Option<NozzleNumber> {
    NozzleNumber::new(number)
}

fn volume(centilitres: u32) -> Option<Preset> {
    PumpVolume::new(centilitres).map(Preset::Volume)
}

/// The price the pump shows when `at`'s nozzle is lifted.
fn lifted_price(line: &mut PumpLine, at: PumpAddress) -> u32 {
    line.wait_for(WAIT, |event| match event {
        PumpEvent::Nozzle {
            pump,
            lifted: true,
            price,
            ..
        } if *pump == at => Some(price.get()),
        _ => None,
    })
    .unwrap()
}

/// The next finished transaction of `at`: nozzle, volume, amount, price, how it ended.
fn finished(
    line: &mut PumpLine,
    at: PumpAddress,
) -> (Option<NozzleNumber>, u32, u32, Option<u32>, PumpStatus) {
    line.wait_for(WAIT, |event| match event {
        PumpEvent::TransactionFinished {
            pump,
            nozzle,
            volume,
            amount,
            price,
            status,
        } if *pump == at => Some((
            *nozzle,
            volume.get(),
            amount.get(),
            price.map(PumpPrice::get),
            *status,
        )),
        _ => None,
    })
    .unwrap()
}

#[test]
fn a_preset_filling_runs_from_authorize_to_a_finished_transaction_and_totals() {
    let mut simulator = Simulator::start(1);
    let mut line = simulator.line(&[pump(0x50)]);

    simulator.control("lift 50 1");
    assert_eq!(lifted_price(&mut line, pump(0x50)), 1_689);
    line.authorize(pump(0x50), volume(500)).unwrap();
    let running = line
        .wait_for(WAIT, |event| match event {
            PumpEvent::Filling { volume, .. } => Some(volume.get()),
            _ => None,
        })
        .unwrap();
    assert!(running <= 500, "{running}");

    // 5.00 L at 1 689 won/L.
    assert_eq!(
        finished(&mut line, pump(0x50)),
        (
            nozzle(1),
            500,
            8_445,
            Some(1_689),
            PumpStatus::MaxAmountOrVolumeReached
        )
    );
    simulator.control("hang 50");
    let total = line
        .wait_for(WAIT, |event| match event {
            PumpEvent::Total {
                counter: TotalCounter::NozzleVolume(number),
                total,
                ..
            } if Some(*number) == nozzle(1) => Some(total.get()),
            _ => None,
        })
        .unwrap();
    assert_eq!(total, 500);
}

#[test]
fn a_filling_ended_by_hanging_up_reports_the_pumps_own_volume_and_amount() {
    let mut simulator = Simulator::start(1);
    let mut line = simulator.line(&[pump(0x50)]);

    simulator.control("lift 50 2");
    line.authorize(pump(0x50), None).unwrap();
    let seen = line
        .wait_for(WAIT, |event| match event {
            PumpEvent::Filling { volume, .. } if volume.get() >= 100 => Some(volume.get()),
            _ => None,
        })
        .unwrap();
    simulator.control("hang 50");
    let (used, volume, amount, price, status) = finished(&mut line, pump(0x50));
    assert_eq!(used, nozzle(2));
    assert!(volume >= seen, "{volume} < {seen}");
    assert_eq!(price, Some(1_589));
    assert_eq!(
        u64::from(amount),
        amount_for(u64::from(volume), 1_589),
        "the amount is the pump's"
    );
    assert_eq!(status, PumpStatus::FillingCompleted);
}

#[test]
fn two_pumps_fuel_at_once() {
    let mut simulator = Simulator::start(2);
    let mut line = simulator.line(&[pump(0x50), pump(0x51)]);

    simulator.control("lift 50 1");
    simulator.control("lift 51 2");
    line.authorize(pump(0x50), volume(1_000)).unwrap();
    line.authorize(pump(0x51), volume(1_500)).unwrap();

    let mut filling = Vec::new();
    let mut done = Vec::new();
    while done.len() < 2 {
        match line.next_event(WAIT).unwrap() {
            PumpEvent::Status {
                pump,
                status: PumpStatus::Filling,
            } => filling.push((pump, done.len())),
            PumpEvent::TransactionFinished {
                pump,
                volume,
                amount,
                ..
            } => done.push((pump.get(), volume.get(), amount.get())),
            _ => {}
        }
    }
    // Both were filling before either finished.
    assert_eq!(filling, [(pump(0x50), 0), (pump(0x51), 0)]);
    done.sort_unstable();
    assert_eq!(done, [(0x50, 1_000, 16_890), (0x51, 1_500, 23_835)]);
}

#[test]
fn a_price_change_reaches_an_idle_pump_and_waits_for_the_end_of_a_filling() {
    let mut simulator = Simulator::start(2);
    let mut line = simulator.line(&[pump(0x50), pump(0x51)]);

    simulator.control("lift 51 1");
    line.authorize(pump(0x51), None).unwrap();
    line.wait_for(WAIT, |event| {
        matches!(
            event,
            PumpEvent::Status { pump, status: PumpStatus::Filling } if pump.get() == 0x51
        )
        .then_some(())
    })
    .unwrap();

    let prices: Vec<PumpPrice> = [1_700, 1_600, 1_800]
        .into_iter()
        .filter_map(PumpPrice::new)
        .collect();
    let mut sent = vec![
        line.set_prices(pump(0x50), prices.clone()).unwrap(),
        line.set_prices(pump(0x51), prices).unwrap(),
    ];
    while !sent.is_empty() {
        if let PumpEvent::CommandDelivered { command, .. } = line.next_event(WAIT).unwrap() {
            sent.retain(|&other| other != command);
        }
    }

    simulator.control("lift 50 1");
    assert_eq!(lifted_price(&mut line, pump(0x50)), 1_700, "idle: at once");

    simulator.control("hang 51");
    let (_, volume, amount, price, _) = finished(&mut line, pump(0x51));
    assert_eq!(price, Some(1_689), "the filling keeps its price");
    assert_eq!(u64::from(amount), amount_for(u64::from(volume), 1_689));

    simulator.control("lift 51 1");
    assert_eq!(
        lifted_price(&mut line, pump(0x51)),
        1_700,
        "after the filling"
    );
}

#[test]
fn a_pump_that_stops_answering_is_offline_then_online_again() {
    let mut simulator = Simulator::start(2);
    let mut line = simulator.line(&[pump(0x50), pump(0x51)]);

    simulator.control("mute 51");
    line.wait_for(WAIT, |event| {
        matches!(event, PumpEvent::Offline { pump } if pump.get() == 0x51).then_some(())
    })
    .unwrap();

    // The other pump on the line still works.
    simulator.control("lift 50 3");
    assert_eq!(lifted_price(&mut line, pump(0x50)), 1_799);

    simulator.control("unmute 51");
    line.wait_for(WAIT, |event| {
        matches!(event, PumpEvent::Online { pump } if pump.get() == 0x51).then_some(())
    })
    .unwrap();
    simulator.control("lift 51 1");
    assert_eq!(lifted_price(&mut line, pump(0x51)), 1_689);
}

#[test]
fn line_noise_is_reported_with_its_bytes_and_the_line_keeps_working() {
    let mut simulator = Simulator::start(1);
    let mut line = simulator.line(&[pump(0x50)]);

    simulator.control("noise 50");
    let (at, code, bytes) = line
        .wait_for(WAIT, |event| match event {
            PumpEvent::Undecodable {
                pump, code, bytes, ..
            } => Some((*pump, *code, bytes.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!((at, code), (None, "dart.garbage"));
    assert_eq!(bytes, [0x00, 0x13, 0x37, 0xA5, 0xFA]);

    // The master asked again and the pump answers as before.
    simulator.control("lift 50 2");
    assert_eq!(lifted_price(&mut line, pump(0x50)), 1_589);
}

#[test]
fn the_filling_a_pump_holds_and_its_totals_are_read_back() {
    let mut simulator = Simulator::start(1);
    let mut line = simulator.line(&[pump(0x50)]);
    simulator.control("lift 50 1");
    line.authorize(pump(0x50), volume(300)).unwrap();
    finished(&mut line, pump(0x50));
    simulator.control("hang 50");
    let counter = TotalCounter::NozzleVolume(nozzle(1).unwrap());
    let at_hang_up = line
        .wait_for(WAIT, |event| match event {
            PumpEvent::Total {
                counter: reported,
                total,
                ..
            } if *reported == counter => Some(total.get()),
            _ => None,
        })
        .unwrap();
    assert_eq!(at_hang_up, 300);
    simulator.control("meter 50 1 25");

    // A station that was away asks what the pump holds.
    line.request_state(pump(0x50)).unwrap();
    line.request_total(pump(0x50), counter).unwrap();
    let mut state = (None, None);
    let total = line
        .wait_for(WAIT, |event| match event {
            PumpEvent::Filling { volume, amount, .. } => {
                state.0 = Some((volume.get(), amount.get()));
                None
            }
            PumpEvent::Nozzle { nozzle, price, .. } => {
                state.1 = Some((*nozzle, price.get()));
                None
            }
            PumpEvent::Total {
                counter: reported,
                total,
                ..
            } if *reported == counter => Some(total.get()),
            _ => None,
        })
        .unwrap();
    assert_eq!(state, (Some((300, 5_067)), Some((nozzle(1), 1_689))));
    assert_eq!(total, 325, "the filling and the meter test");
}

#[test]
fn a_port_that_cannot_be_opened_is_a_typed_error() {
    let config = MasterConfig::new(vec![pump(0x50)]);
    let error =
        PumpLine::open("/dev/no-such-pump-line", LineSettings::default(), config).unwrap_err();
    assert!(matches!(error, PumpError::Open { .. }), "{error:?}");
    assert_eq!(error.code(), "pump.open");
}
