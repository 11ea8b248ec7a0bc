//! The simulator's replies read back through the protocol crate's client and parsers.

use forecourt_protocols::tls::client::Reply;
use forecourt_protocols::tls::{Command, Format, Function, TankSelector, TlsClient, TlsEvent};
use std::time::{Duration, Instant};

use super::*;

const NOW: GaugeTime = GaugeTime {
    year: 2024,
    month: 3,
    day: 15,
    hour: 14,
    minute: 5,
};

fn ask(simulator: &mut GaugeSimulator, command: Command) -> Result<Reply, String> {
    let mut client = TlsClient::new(Duration::from_secs(1));
    client.queue(command);
    let sent = client.poll_transmit(Instant::now()).unwrap();
    let reply = simulator.handle_input(&sent, NOW);
    client.handle_input(Instant::now(), &reply);
    match client.poll_event() {
        Some(TlsEvent::Reply { reply, .. }) => reply.map_err(|error| error.to_string()),
        other => Err(format!("{other:?}")),
    }
}

fn command(format: Format, function: Function, tank: u8) -> Command {
    Command {
        format,
        function,
        tank: TankSelector::tank(tank).unwrap_or(TankSelector::ALL),
    }
}

#[test]
fn floats_round_trip_through_the_decoder() {
    for value in [0, 1000, -2210, 15_500, 12_000_000, 7_290_800, 1_032_750] {
        let decoded = Thousandths::from_hex_float(&hex_float(value)).unwrap();
        assert_eq!(decoded.get(), value);
    }
    assert_eq!(hex_float(1000), "3F800000");
    assert_eq!(hex_float(7_290_800), "45E3D666");
}

#[test]
fn inventory_in_both_formats_decodes() {
    let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
    let Ok(Reply::Inventory(report)) = ask(
        &mut simulator,
        command(Format::Computer, Function::InTankInventory, 0),
    ) else {
        panic!("no inventory");
    };
    assert_eq!(report.time, NOW);
    let volumes: Vec<i64> = report.tanks.iter().map(|tank| tank.volume.get()).collect();
    assert_eq!(volumes, [12_000_000, 8_000_000, 21_000_000]);
    assert_eq!(report.tanks[1].water.get(), 12_500);
    assert_eq!(report.tanks[1].temperature.get(), 14_250);
    assert_eq!(report.tanks[0].ullage.get(), 8_000_000);
    assert_eq!(report.tanks[0].height.get(), 1_500_000);

    let Ok(Reply::DisplayInventory(table)) = ask(
        &mut simulator,
        command(Format::Display, Function::InTankInventory, 2),
    ) else {
        panic!("no display inventory");
    };
    assert_eq!(table.volume_unit, Some(VolumeUnit::Litre));
    let rows = table.rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].product, "PREMIUM");
    assert_eq!(rows[0].volume.get(), 8_000_000);
    assert_eq!(rows[0].temperature.get(), 14_250);
}

#[test]
fn display_only_refuses_computer_format_and_still_prints_its_reports() {
    let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
    simulator.apply_control("display-only on", NOW).unwrap();
    for function in [
        Function::InTankInventory,
        Function::DeliveryReport,
        Function::SystemUnits,
    ] {
        assert_eq!(
            ask(&mut simulator, command(Format::Computer, function, 0)),
            Err("the console does not know the command".to_owned())
        );
    }
    let Ok(Reply::DisplayInventory(table)) = ask(
        &mut simulator,
        command(Format::Display, Function::InTankInventory, 0),
    ) else {
        panic!("no display inventory");
    };
    let volumes: Vec<i64> = table.rows.iter().map(|row| row.volume.get()).collect();
    assert_eq!(volumes, [12_000_000, 8_000_000, 21_000_000]);
    simulator.apply_control("display-only off", NOW).unwrap();
    assert!(
        ask(
            &mut simulator,
            command(Format::Computer, Function::InTankInventory, 0)
        )
        .is_ok()
    );
}

#[test]
fn volumes_in_us_gallons_in_both_formats_and_the_units_it_says() {
    let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
    let Ok(Reply::SystemUnits(units)) = ask(
        &mut simulator,
        command(Format::Computer, Function::SystemUnits, 0),
    ) else {
        panic!("no system units");
    };
    assert_eq!(units.volume_unit, VolumeUnit::Litre);

    simulator
        .apply_control("volume-unit us-gallon", NOW)
        .unwrap();
    let Ok(Reply::SystemUnits(units)) = ask(
        &mut simulator,
        command(Format::Computer, Function::SystemUnits, 0),
    ) else {
        panic!("no system units");
    };
    assert_eq!(units.volume_unit, VolumeUnit::UsGallon);
    let Ok(Reply::Inventory(report)) = ask(
        &mut simulator,
        command(Format::Computer, Function::InTankInventory, 3),
    ) else {
        panic!("no inventory");
    };
    // 21 000 L = 5547.613 099… US gallons; the float carries the thousandths exactly.
    assert_eq!(report.tanks[0].volume.get(), 5_547_613);
    assert_eq!(
        report.tanks[0].height.get(),
        1_750_000,
        "heights stay in mm"
    );
    let Ok(Reply::DisplayInventory(table)) = ask(
        &mut simulator,
        command(Format::Display, Function::InTankInventory, 3),
    ) else {
        panic!("no display inventory");
    };
    assert_eq!(table.volume_unit, Some(VolumeUnit::UsGallon));
    assert_eq!(
        table.rows[0].volume.get(),
        5_548_000,
        "whole gallons, rounded"
    );
    assert!(
        String::from_utf8_lossy(&simulator.answer("I50500", NOW)).contains("U.S."),
        "the printed setting"
    );
    assert!(simulator.apply_control("volume-unit barrel", NOW).is_err());
    assert_eq!(whole_units(-1_500), -2);
    assert_eq!(whole_units(-1_499), -1);
}

#[test]
fn unknown_commands_and_controls() {
    let mut simulator = GaugeSimulator::new(GaugeSimulator::demo_tanks()).unwrap();
    assert_eq!(
        simulator.handle_input(b"noise\x01i99900", NOW),
        UNKNOWN_COMMAND_REPLY
    );
    assert_eq!(simulator.answer("I20200", NOW), UNKNOWN_COMMAND_REPLY);
    assert!(simulator.apply_control("sale 4 10", NOW).is_err());
    assert!(simulator.apply_control("sale 1 -3", NOW).is_err());
    assert!(simulator.apply_control("sale 1 999999", NOW).is_err());
    assert!(simulator.apply_control("deliver 1 8000.001", NOW).is_err());
    assert!(simulator.apply_control("refill", NOW).is_err());
    simulator.apply_control("sale 1 12.345", NOW).unwrap();
    assert_eq!(
        simulator.tank(1).map(|tank| tank.volume),
        Some(Millilitres::new(11_987_655))
    );
    simulator.apply_control("pause on", NOW).unwrap();
    assert_eq!(simulator.handle_input(b"\x01i20100", NOW), b"");
    simulator.apply_control("pause off", NOW).unwrap();
    simulator.apply_control("corrupt-next", NOW).unwrap();
    let error = ask(
        &mut simulator,
        command(Format::Computer, Function::InTankInventory, 1),
    );
    assert!(error.is_err_and(|text| text.contains("checksum")));
}
