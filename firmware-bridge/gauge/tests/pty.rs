//! End to end over real pseudo-terminals: the `gauge-sim` binary on one end, the station's
//! `GaugeLink` on the other, as the station would talk to a console on a serial port.

// The helpers below sit outside #[test] functions; a failed setup should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::time::Duration;

use forecourt_protocols::tls::client::Reply;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use forecourt_protocols::tls::{
    Command, Format, Function, GaugeTime, TankSelector, UnitDecision, UnitSource, VolumeUnit,
};
use serialport::{SerialPort, TTYPort};
use tank_gauge::{GaugeError, GaugeLink, GaugeSimulator, LineSettings, Millilitres, Progress};

/// Long enough for a loaded CI machine; only the timeout test waits it out, on purpose.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
const SILENCE_TIMEOUT: Duration = Duration::from_millis(300);

/// A running `gauge-sim`, stopped when dropped.
struct Simulator {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    path: String,
}

impl Simulator {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// With `gauge-sim`'s set-up options, for instance `--display-only`.
    fn start_with(options: &[&str]) -> Self {
        let mut child = Process::new(env!("CARGO_BIN_EXE_gauge-sim"))
            .args(options)
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

    fn link(&self, timeout: Duration) -> GaugeLink {
        GaugeLink::open(&self.path, LineSettings::default(), timeout).unwrap()
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

fn volumes(link: &mut GaugeLink) -> Vec<(u8, i64)> {
    link.inventory(TankSelector::ALL)
        .unwrap()
        .iter()
        .map(|tank| (tank.tank, tank.volume.get()))
        .collect()
}

#[test]
fn inventory_of_three_tanks() {
    let simulator = Simulator::start();
    let mut link = simulator.link(ANSWER_TIMEOUT);

    let tanks = link.inventory(TankSelector::ALL).unwrap();
    assert_eq!(tanks.len(), 3);
    let codes: Vec<Option<char>> = tanks.iter().map(|tank| tank.product_code).collect();
    assert_eq!(codes, [Some('1'), Some('2'), Some('3')]);
    assert_eq!(link.format(), Some(Format::Computer));
    assert_eq!(
        link.volume_unit(),
        UnitDecision {
            unit: VolumeUnit::Litre,
            source: UnitSource::Gauge,
            overruled_setting: None
        },
        "the console says METRIC"
    );
    assert_eq!(
        volumes(&mut link),
        [(1, 12_000_000), (2, 8_000_000), (3, 21_000_000)]
    );
    assert_eq!(tanks[0].ullage, Millilitres::litres(8_000));
    assert_eq!(tanks[1].water.get(), 12_500, "12.50 mm of water");
    assert_eq!(tanks[1].temperature.get(), 14_250, "14.25 °C");
    // Corrected to 15 °C: a warm tank holds less product than its volume shows, a cold one more.
    assert!(tanks[0].tc_volume < tanks[0].volume, "15.50 °C");
    assert!(tanks[1].tc_volume > tanks[1].volume, "14.25 °C");

    let one = link.inventory(TankSelector::tank(3).unwrap()).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].volume, Millilitres::litres(21_000));

    // The display format reads back the same volumes.
    let display = Command {
        format: Format::Display,
        function: Function::InTankInventory,
        tank: TankSelector::ALL,
    };
    let Reply::DisplayInventory(rows) = link.request(display).unwrap() else {
        panic!("not a display inventory");
    };
    let labels: Vec<(&str, i64)> = rows
        .rows
        .iter()
        .map(|row| (row.product.as_str(), row.volume.get()))
        .collect();
    assert_eq!(
        labels,
        [
            ("REGULAR", 12_000_000),
            ("PREMIUM", 8_000_000),
            ("DIESEL", 21_000_000)
        ]
    );
}

#[test]
fn a_sale_and_a_delivery_change_the_inventory_and_the_delivery_report_lists_it() {
    let mut simulator = Simulator::start();
    let mut link = simulator.link(ANSWER_TIMEOUT);

    let report = link.deliveries(TankSelector::ALL).unwrap();
    assert!(report.tanks.iter().all(|tank| tank.deliveries.is_empty()));

    simulator.control("sale 1 40.5");
    simulator.control("deliver 2 5000");
    assert_eq!(
        volumes(&mut link),
        [(1, 11_959_500), (2, 13_000_000), (3, 21_000_000)]
    );

    let report = link.deliveries(TankSelector::ALL).unwrap();
    let counts: Vec<(u8, usize)> = report
        .tanks
        .iter()
        .map(|tank| (tank.tank, tank.deliveries.len()))
        .collect();
    assert_eq!(counts, [(1, 0), (2, 1), (3, 0)]);
    let delivery = &report.tanks[1].deliveries[0];
    assert_eq!(delivery.starting_volume.get(), 8_000_000);
    assert_eq!(delivery.ending_volume.get(), 13_000_000);
    assert!(delivery.starting_height < delivery.ending_height);
    assert!(delivery.start <= delivery.end);
    assert!(delivery.end <= report.time);

    // Newest first.
    simulator.control("deliver 2 1000");
    let report = link.deliveries(TankSelector::tank(2).unwrap()).unwrap();
    let ends: Vec<i64> = report.tanks[0]
        .deliveries
        .iter()
        .map(|delivery| delivery.ending_volume.get())
        .collect();
    assert_eq!(ends, [14_000_000, 13_000_000]);
}

#[test]
fn a_silent_gauge_times_out_and_the_link_works_again_when_it_answers() {
    let mut simulator = Simulator::start();
    let mut link = simulator.link(SILENCE_TIMEOUT);

    simulator.control("pause on");
    let error = link.inventory(TankSelector::ALL).unwrap_err();
    assert!(
        matches!(&error, GaugeError::TimedOut { command, .. } if command == "i20100"),
        "{error:?}"
    );
    assert_eq!(error.code(), "gauge.timed_out");

    simulator.control("pause off");
    assert_eq!(volumes(&mut link).len(), 3);
}

#[test]
fn a_corrupted_checksum_is_a_checksum_error_and_the_next_reply_is_fine() {
    let mut simulator = Simulator::start();
    let mut link = simulator.link(ANSWER_TIMEOUT);

    simulator.control("corrupt-next");
    let error = link.inventory(TankSelector::ALL).unwrap_err();
    assert!(
        matches!(error, GaugeError::BadChecksum { received, computed } if received == computed.wrapping_add(1)),
        "{error:?}"
    );
    assert_eq!(volumes(&mut link).len(), 3);
}

#[test]
fn an_unknown_command_gets_the_not_understood_answer() {
    let simulator = Simulator::start();
    let mut link = simulator.link(ANSWER_TIMEOUT);
    // The simulator, like many consoles, has no display-format delivery report.
    let display_deliveries = Command {
        format: Format::Display,
        function: Function::DeliveryReport,
        tank: TankSelector::ALL,
    };
    let error = link.request(display_deliveries).unwrap_err();
    assert!(matches!(error, GaugeError::NotUnderstood), "{error:?}");
}

/// The test plays the console on the master end of its own pty pair, so it decides exactly how
/// the reply is cut: noise first, then half a reply, and the rest only after the link has read
/// the first part.
#[test]
fn noise_before_a_reply_and_a_reply_split_across_reads_still_decode() {
    let (mut console, line) = TTYPort::pair().unwrap();
    let path = line.name().unwrap();
    let mut link = GaugeLink::open(&path, LineSettings::default(), ANSWER_TIMEOUT).unwrap();
    let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
    let now = GaugeTime {
        year: 2024,
        month: 3,
        day: 15,
        hour: 8,
        minute: 30,
    };

    let inventory = Command {
        format: Format::Computer,
        function: Function::InTankInventory,
        tank: TankSelector::ALL,
    };
    link.begin(inventory).unwrap();
    console.set_timeout(ANSWER_TIMEOUT).unwrap();
    let mut command = [0u8; 7];
    console.read_exact(&mut command).unwrap();
    assert_eq!(&command, b"\x01i20100");
    let reply = simulator.handle_input(&command, now);
    let (first, second) = reply.split_at(reply.len() / 2);

    let first_part = [b"\xff\x00line noise".as_slice(), first].concat();
    console.write_all(&first_part).unwrap();
    let mut read = 0;
    while read < first_part.len() {
        match link.poll().unwrap() {
            Progress::Waiting { bytes_read } => read += bytes_read,
            Progress::Answered(reply) => panic!("answered from half a reply: {reply:?}"),
        }
    }
    console.write_all(second).unwrap();
    let answer = loop {
        if let Progress::Answered(answer) = link.poll().unwrap() {
            break answer;
        }
    };
    let Reply::Inventory(report) = answer else {
        panic!("not an inventory: {answer:?}");
    };
    assert_eq!(report.time, now);
    let volumes: Vec<i64> = report.tanks.iter().map(|tank| tank.volume.get()).collect();
    assert_eq!(volumes, [12_000_000, 8_000_000, 21_000_000]);
    drop(line);
}

/// Field report: a gauge emulator that answers only display format was reported unavailable.
#[test]
fn a_gauge_that_answers_only_display_format_is_read_in_display_format() {
    let mut simulator = Simulator::start_with(&["--display-only"]);
    let mut link = simulator.link(ANSWER_TIMEOUT);
    assert_eq!(
        volumes(&mut link),
        [(1, 12_000_000), (2, 8_000_000), (3, 21_000_000)]
    );
    // Display format prints whole litres: 11 959.5 L is printed, and booked, as 11 960 L.
    simulator.control("sale 1 40.5");
    assert_eq!(
        volumes(&mut link),
        [(1, 11_960_000), (2, 8_000_000), (3, 21_000_000)]
    );
    let tanks = link.inventory(TankSelector::tank(2).unwrap()).unwrap();
    assert_eq!(tanks[0].ullage, Millilitres::litres(7_000));
    assert_eq!(tanks[0].water.get(), 12_500, "12.50 mm of water");
    assert_eq!(tanks[0].temperature.get(), 14_250, "14.25 °C");
    assert_eq!(tanks[0].product_label.as_deref(), Some("PREMIUM"));
    assert_eq!(
        tanks[0].delivery_in_progress, None,
        "display format does not say"
    );
    assert_eq!(link.format(), Some(Format::Display));
    let error = link.deliveries(TankSelector::ALL).unwrap_err();
    assert_eq!(error.code(), "gauge.no_display_delivery_report");
}

/// The simulator in-process behind a pty, so a test sees every command the link sent.
struct ConsoleInProcess {
    simulator: Arc<Mutex<GaugeSimulator>>,
    path: String,
    running: Arc<AtomicBool>,
    serving: Option<std::thread::JoinHandle<()>>,
    _line: TTYPort,
}

impl ConsoleInProcess {
    fn start(setup: &[&str]) -> Self {
        let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
        for line in setup {
            simulator
                .apply_control(line, tank_gauge::pty::console_time())
                .unwrap();
        }
        let simulator = Arc::new(Mutex::new(simulator));
        let (mut console, line) = TTYPort::pair().unwrap();
        console.set_timeout(Duration::from_millis(20)).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let serving = {
            let (simulator, running) = (simulator.clone(), running.clone());
            std::thread::spawn(move || {
                let _ = tank_gauge::pty::serve(&mut console, &simulator, &running);
            })
        };
        Self {
            simulator,
            path: line.name().unwrap(),
            running,
            serving: Some(serving),
            _line: line,
        }
    }

    fn commands_heard(&self) -> Vec<String> {
        self.simulator.lock().unwrap().commands_heard()
    }
}

impl Drop for ConsoleInProcess {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(serving) = self.serving.take() {
            let _ = serving.join();
        }
    }
}

#[test]
fn the_format_that_worked_is_kept_and_the_units_are_asked_once() {
    let display_only = ConsoleInProcess::start(&["display-only on"]);
    let mut link =
        GaugeLink::open(&display_only.path, LineSettings::default(), ANSWER_TIMEOUT).unwrap();
    for _ in 0..3 {
        assert_eq!(volumes(&mut link).len(), 3);
    }
    // Refused once in computer format, then display format only; no units asked of a console
    // that speaks display format (its labels say them).
    assert_eq!(
        display_only.commands_heard(),
        ["i20100", "I20100", "I20100", "I20100"]
    );

    let computer = ConsoleInProcess::start(&[]);
    let mut link =
        GaugeLink::open(&computer.path, LineSettings::default(), ANSWER_TIMEOUT).unwrap();
    for _ in 0..3 {
        assert_eq!(volumes(&mut link).len(), 3);
    }
    assert_eq!(
        computer.commands_heard(),
        ["i20100", "i50500", "i20100", "i20100"]
    );
}

#[test]
fn what_the_gauge_says_wins_over_the_setting() {
    let gallons = ConsoleInProcess::start(&["volume-unit us-gallon"]);
    let mut link = GaugeLink::open(&gallons.path, LineSettings::default(), ANSWER_TIMEOUT)
        .unwrap()
        .with_volume_unit_setting(Some(VolumeUnit::Litre));
    assert_eq!(volumes(&mut link)[2], (3, 21_000_000));
    let overruled = UnitDecision {
        unit: VolumeUnit::UsGallon,
        source: UnitSource::Gauge,
        overruled_setting: Some(VolumeUnit::Litre),
    };
    assert_eq!(link.poll_unit_change(), Some(overruled));
    assert_eq!(link.poll_unit_change(), None, "said once");

    // A console read in display format says its unit in the report's labels.
    let display_only = ConsoleInProcess::start(&["display-only on", "volume-unit imperial-gallon"]);
    let mut link = GaugeLink::open(&display_only.path, LineSettings::default(), ANSWER_TIMEOUT)
        .unwrap()
        .with_volume_unit_setting(Some(VolumeUnit::UsGallon));
    // Its labels say IMP GAL: 21 000 L = 4619.36… → 4619 imperial gallons × 4.54609 L.
    assert_eq!(volumes(&mut link)[2], (3, 20_998_390));
    assert_eq!(
        link.volume_unit().overruled_setting,
        Some(VolumeUnit::UsGallon)
    );
}

/// Field report: a gauge set to US gallons was booked as litres.
#[test]
fn a_gauge_set_to_us_gallons_is_read_in_millilitres() {
    let mut simulator = Simulator::start_with(&["--volume-unit", "us-gallon"]);
    let mut link = simulator.link(ANSWER_TIMEOUT);
    // The console reports 3170.065, 2113.376 and 5547.613 gal (12 000, 8 000 and 21 000 L to
    // the thousandth of a gallon); × 3785.411784 mL, rounded to the millilitre.
    assert_eq!(
        volumes(&mut link),
        [(1, 12_000_001), (2, 7_999_998), (3, 21_000_000)]
    );
    let tanks = link.inventory(TankSelector::tank(1).unwrap()).unwrap();
    // Ullage 8 000 L = 2113.376 gal → 7 999 998 mL.
    assert_eq!(tanks[0].ullage, Millilitres::new(7_999_998));

    simulator.control("deliver 2 5000");
    let report = link.deliveries(TankSelector::tank(2).unwrap()).unwrap();
    let delivery = &report.tanks[0].deliveries[0];
    // 8 000 → 13 000 L: 2113.376 → 3434.237 gal.
    assert_eq!(delivery.starting_volume.get(), 7_999_998);
    assert_eq!(delivery.ending_volume.get(), 13_000_001);
}

/// Both switches at once: the display report's unit labels say GALLONS, and whole gallons are
/// booked in millilitres.
#[test]
fn a_display_only_gauge_in_gallons_is_read_from_its_unit_labels() {
    let simulator = Simulator::start_with(&["--display-only", "--volume-unit", "us-gallon"]);
    let mut link = simulator.link(ANSWER_TIMEOUT);
    // 3170, 2113 and 5548 whole gallons × 3785.411784 mL.
    assert_eq!(
        volumes(&mut link),
        [(1, 11_999_755), (2, 7_998_575), (3, 21_001_465)]
    );
}
