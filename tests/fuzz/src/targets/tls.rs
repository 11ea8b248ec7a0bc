//! Veeder-Root TLS: the reply framing, the computer-format inventory (201) and delivery (202)
//! reports, the display-format inventory table, and the client state machine that reads them.
//! Seeds are the gauge simulator's own replies.

use std::time::{Duration, Instant};

use forecourt_protocols::tls::message::{self, SOH};
use forecourt_protocols::tls::reports::GaugeTime;
use forecourt_protocols::tls::units::parse_system_units;
use forecourt_protocols::tls::{
    Command, Format, Function, ReplyDecoder, TankSelector, Thousandths, TlsClient, TlsEvent,
    VolumeUnit, client::Reply, parse_deliveries, parse_display_inventory, parse_inventory,
};
use tank_gauge::GaugeSimulator;

use crate::{Outcomes, Target, Violation};

const INVENTORY: Command = Command {
    format: Format::Computer,
    function: Function::InTankInventory,
    tank: TankSelector::ALL,
};
const DELIVERIES: Command = Command {
    format: Format::Computer,
    function: Function::DeliveryReport,
    tank: TankSelector::ALL,
};
const SYSTEM_UNITS: Command = Command {
    format: Format::Computer,
    function: Function::SystemUnits,
    tank: TankSelector::ALL,
};
const DISPLAY_INVENTORY: Command = Command {
    format: Format::Display,
    function: Function::InTankInventory,
    tank: TankSelector::ALL,
};

/// The simulator's replies to every command it knows, after a delivery into each tank.
fn simulator_replies() -> Vec<Vec<u8>> {
    let now = GaugeTime {
        year: 2026,
        month: 11,
        day: 24,
        hour: 9,
        minute: 5,
    };
    let Ok(mut simulator) = GaugeSimulator::new(GaugeSimulator::demo_tanks()) else {
        return Vec::new();
    };
    let mut replies = Vec::new();
    // Before any delivery: a report with no deliveries.
    replies.push(simulator.answer("i20200", now));
    for control in [
        "deliver 1 5000",
        "sale 1 40.5",
        "deliver 2 1234.567",
        "deliver 3 9000",
    ] {
        let _ = simulator.apply_control(control, now);
    }
    for command in [
        "i20100", "i20101", "i20103", "i20200", "i20202", "I20100", "I20102", "i20199", "i50500",
        "I50500", "x99999",
    ] {
        replies.push(simulator.answer(command, now));
    }
    let _ = simulator.apply_control("corrupt-next", now);
    replies.push(simulator.answer("i20100", now));
    replies
}

fn tls_dictionary() -> Vec<Vec<u8>> {
    [
        &b"\x01"[..],
        b"\x03",
        b"&&",
        b"\r\n",
        b"i201",
        b"i202",
        b"I201",
        b"9999",
        b"FF1B",
        b"7F800000",
        b"FF800000",
        b"7FC00000",
        b"00000001",
        b"5F000000",
        b"TANK PRODUCT             VOLUME TC VOLUME   ULLAGE   HEIGHT    WATER     TEMP",
        b"  1  REGULAR               1693         0     9755    18.75     0.00    76.26",
        b"99",
        b"FF",
        b" ",
        b".",
        b"-",
    ]
    .iter()
    .map(|word| word.to_vec())
    .collect()
}

/// Gives a mutated computer-format reply a correct checksum again, so the mutation reaches the
/// report parser behind it.
fn reseal_checksum(input: &mut Vec<u8>) {
    let Some(marker) = input.windows(2).rposition(|pair| pair == b"&&") else {
        return;
    };
    let Some(start) = input[..marker].iter().rposition(|&b| b == SOH) else {
        return;
    };
    let summed_end = marker + 2;
    let checksum = message::checksum(&input[start..summed_end]);
    let hex = format!("{checksum:04X}").into_bytes();
    let tail_end = (summed_end + 4).min(input.len());
    input.splice(summed_end..tail_end, hex);
}

/// Every volume through `VolumeUnit::to_millilitres` in every unit, as the station books
/// them: the one multiplication of a number from the wire.
fn convert_volumes(volumes: impl IntoIterator<Item = Thousandths>, outcomes: &mut Outcomes) {
    for volume in volumes {
        for unit in VolumeUnit::ALL {
            if unit.to_millilitres(volume).is_err() {
                outcomes.record("volume_out_of_range");
            }
        }
    }
}

/// The simulator's reply that echoes `command`.
fn answer_of<'a>(replies: &'a [Vec<u8>], command: &str) -> Option<&'a Vec<u8>> {
    replies.iter().find(|reply| {
        reply
            .windows(command.len())
            .any(|w| w == command.as_bytes())
    })
}

/// `ReplyDecoder`: replies found in a byte stream, in one read or a few bytes at a time.
#[derive(Debug, Default)]
pub struct Replies;

impl Target for Replies {
    fn name(&self) -> &'static str {
        "tls.reply_frames"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let replies = simulator_replies();
        let mut seeds = replies.clone();
        seeds.push(replies.concat());
        seeds
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        tls_dictionary()
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let mut decoder = ReplyDecoder::new();
        decoder.push(input);
        while let Some(result) = decoder.next_reply() {
            match result {
                Ok(_) => outcomes.record("reply"),
                Err(error) => outcomes.record(error.code()),
            }
        }
        let mut decoder = ReplyDecoder::new();
        let step = super::read_size(input, 64);
        for chunk in input.chunks(step) {
            decoder.push(chunk);
            while decoder.next_reply().is_some() {}
        }
        Ok(())
    }
}

/// `computer_reply_data` then `parse_inventory` (function 201, computer format).
#[derive(Debug, Default)]
pub struct Inventory;

impl Target for Inventory {
    fn name(&self) -> &'static str {
        "tls.inventory"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        simulator_replies()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        tls_dictionary()
    }

    fn reseal(&self, input: &mut Vec<u8>) {
        reseal_checksum(input);
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let parsed =
            message::computer_reply_data(input, &INVENTORY).and_then(|data| parse_inventory(&data));
        match parsed {
            Ok(report) => {
                outcomes.record(if report.tanks.is_empty() {
                    "ok_no_tanks"
                } else {
                    "ok"
                });
                let volumes = report.tanks.iter().flat_map(|tank| {
                    [tank.volume, tank.tc_volume, tank.ullage]
                        .into_iter()
                        .chain(tank.water_volume)
                });
                convert_volumes(volumes, outcomes);
            }
            Err(error) => outcomes.record(error.code()),
        }
        Ok(())
    }
}

/// `computer_reply_data` then `parse_deliveries` (function 202, computer format).
#[derive(Debug, Default)]
pub struct Deliveries;

impl Target for Deliveries {
    fn name(&self) -> &'static str {
        "tls.deliveries"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        simulator_replies()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        tls_dictionary()
    }

    fn reseal(&self, input: &mut Vec<u8>) {
        reseal_checksum(input);
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let parsed = message::computer_reply_data(input, &DELIVERIES)
            .and_then(|data| parse_deliveries(&data));
        match parsed {
            Ok(report) => {
                outcomes.record(
                    if report.tanks.iter().any(|tank| !tank.deliveries.is_empty()) {
                        "ok"
                    } else {
                        "ok_no_deliveries"
                    },
                );
                let volumes = report.tanks.iter().flat_map(|tank| {
                    tank.deliveries.iter().flat_map(|delivery| {
                        [
                            delivery.starting_volume,
                            delivery.starting_tc_volume,
                            delivery.ending_volume,
                            delivery.ending_tc_volume,
                        ]
                    })
                });
                convert_volumes(volumes, outcomes);
            }
            Err(error) => outcomes.record(error.code()),
        }
        Ok(())
    }
}

/// `display_reply_text` then `parse_display_inventory` (function 201, display format).
#[derive(Debug, Default)]
pub struct DisplayInventory;

impl Target for DisplayInventory {
    fn name(&self) -> &'static str {
        "tls.display_inventory"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        simulator_replies()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        tls_dictionary()
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let parsed = message::display_reply_text(input, &DISPLAY_INVENTORY)
            .and_then(|text| parse_display_inventory(&text));
        match parsed {
            Ok(table) => {
                outcomes.record(match (table.rows.is_empty(), table.volume_unit) {
                    (true, _) => "ok_no_rows",
                    (false, None) => "ok",
                    (false, Some(_)) => "ok_with_unit_labels",
                });
                let volumes = table
                    .rows
                    .iter()
                    .flat_map(|row| [row.volume, row.tc_volume, row.ullage]);
                convert_volumes(volumes, outcomes);
            }
            Err(error) => outcomes.record(error.code()),
        }
        Ok(())
    }
}

/// `computer_reply_data` then `parse_system_units` (the system-units inquiry, 505).
#[derive(Debug, Default)]
pub struct SystemUnits;

impl Target for SystemUnits {
    fn name(&self) -> &'static str {
        "tls.system_units"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        simulator_replies()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        tls_dictionary()
    }

    fn reseal(&self, input: &mut Vec<u8>) {
        reseal_checksum(input);
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let parsed = message::computer_reply_data(input, &SYSTEM_UNITS)
            .and_then(|data| parse_system_units(&data));
        match parsed {
            Ok(report) => outcomes.record(report.volume_unit.as_str()),
            Err(error) => outcomes.record(error.code()),
        }
        Ok(())
    }
}

/// `TlsClient`: the four commands the station sends, queued, and the input as what comes back
/// on the line, in reads of a few bytes with time moving on.
#[derive(Debug)]
pub struct Client {
    epoch: Instant,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            epoch: Instant::now(),
        }
    }
}

impl Target for Client {
    fn name(&self) -> &'static str {
        "tls.client"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let replies = simulator_replies();
        let mut seeds = replies.clone();
        seeds.push(replies.concat());
        // The four answers in the order the client asks.
        seeds.push(
            ["i50500", "i20100", "i20200", "I20100"]
                .iter()
                .filter_map(|command| answer_of(&replies, command))
                .flatten()
                .copied()
                .collect(),
        );
        seeds
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        tls_dictionary()
    }

    fn reseal(&self, input: &mut Vec<u8>) {
        reseal_checksum(input);
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        // A millisecond per read: a reply of a few hundred bytes arrives within the deadline,
        // a reply cut short by a mutation times out.
        let mut client = TlsClient::new(Duration::from_millis(40));
        for command in [SYSTEM_UNITS, INVENTORY, DELIVERIES, DISPLAY_INVENTORY] {
            client.queue(command);
        }
        let mut now = self.epoch;
        let step = super::read_size(input, 256);
        for chunk in input.chunks(step).chain(std::iter::repeat_n(&[][..], 50)) {
            while client.poll_transmit(now).is_some() {}
            client.handle_input(now, chunk);
            now += Duration::from_millis(1);
            client.handle_timeout(now);
            while let Some(event) = client.poll_event() {
                outcomes.record(match event {
                    TlsEvent::Reply {
                        reply: Ok(reply), ..
                    } => match reply {
                        Reply::Inventory(_) => "inventory",
                        Reply::Deliveries(_) => "deliveries",
                        Reply::DisplayInventory(_) => "display_inventory",
                        Reply::DisplayText(_) => "display_text",
                        Reply::SystemUnits(_) => "system_units",
                    },
                    TlsEvent::Reply {
                        reply: Err(error), ..
                    } => error.code(),
                    TlsEvent::TimedOut { .. } => "timed_out",
                    TlsEvent::Unsolicited { error } => error.code(),
                });
            }
        }
        Ok(())
    }
}
