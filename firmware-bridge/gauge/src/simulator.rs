//! A simulated TLS-3xx console: the encoder side of `forecourt_protocols::tls`.
//!
//! The simulator holds tanks and answers functions 201 (in-tank inventory, computer and display
//! format), 202 (delivery report, computer format) and the system-units inquiry (505) laid out
//! as in the Serial Interface Manual 576013-635, with the reply checksum. Anything else gets the
//! manual's unknown-command answer `SOH 9999FF1B ETX`. Like the codecs it serves, it does no I/O
//! and reads no clock: command bytes and the console's time go in, reply bytes come out. The
//! `gauge-sim` binary wires it to a pseudo-terminal and to control lines on standard input.
//!
//! Two switches make it the consoles met in the field: `display-only on` answers every
//! computer-format command with the unknown-command answer, as consoles and emulators that speak
//! only display format do; `volume-unit us-gallon` (or `imperial-gallon`) reports volumes in
//! that unit, as a console set up for it does. Heights and temperatures stay in millimetres and
//! degrees Celsius whatever the unit: the station reads only volumes.
//!
//! Quantities are integers: volumes in millilitres, heights in hundredths of a millimetre,
//! temperatures in hundredths of a degree Celsius. A volume becomes the console's unit through
//! [`VolumeUnit::from_millilitres`], and the protocol's IEEE floats only in [`hex_float`].

use std::collections::{BTreeMap, VecDeque};

use forecourt_protocols::tls::message::{ETX, SOH, checksum};
use forecourt_protocols::tls::{GaugeTime, Thousandths, VolumeUnit};
use thiserror::Error;

pub use forecourt_protocols::tls::Millilitres;

/// The answer to a command the console does not know (manual, section 6).
pub const UNKNOWN_COMMAND_REPLY: &[u8] = b"\x019999FF1B\x03";

/// How many deliveries the console keeps per tank; function 202 lists these, newest first.
pub const DELIVERIES_KEPT: usize = 10;

/// How many of the latest commands the simulator remembers, for tests to see what was asked.
pub const COMMANDS_KEPT: usize = 64;

/// One simulated tank, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankSetup {
    /// Tank number, 1–99.
    pub number: u8,
    /// Product code character sent in computer-format reports.
    pub product_code: char,
    /// Product label printed in display-format reports.
    pub product_label: String,
    /// Full volume.
    pub capacity: Millilitres,
    /// Product volume now.
    pub volume: Millilitres,
    /// Water height, hundredths of a millimetre.
    pub water_height: u32,
    /// Product temperature, hundredths of a degree Celsius.
    pub temperature: i32,
}

/// A control line the simulator does not accept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ControlError {
    /// Not one of the known control lines.
    #[error("unknown control line {0:?}")]
    Unknown(String),
    /// No such tank.
    #[error("no tank {0}")]
    NoTank(String),
    /// Not a volume in litres (decimals allowed, up to millilitres).
    #[error("{0:?} is not a positive volume in litres")]
    BadVolume(String),
    /// A sale larger than what is in the tank, or a delivery that overfills it.
    #[error("tank {tank} cannot go to {volume}")]
    OutOfRange {
        /// Tank number.
        tank: u8,
        /// The volume it would hold.
        volume: Millilitres,
    },
    /// Two tanks with one number, or a number outside 1–99.
    #[error("bad tank setup: {0}")]
    BadSetup(String),
}

/// A simulated console.
#[derive(Debug)]
pub struct GaugeSimulator {
    tanks: BTreeMap<u8, TankSetup>,
    deliveries: BTreeMap<u8, Vec<RecordedDelivery>>,
    input: Vec<u8>,
    paused: bool,
    corrupt_next: bool,
    display_only: bool,
    volume_unit: VolumeUnit,
    heard: VecDeque<String>,
}

impl GaugeSimulator {
    /// A console with these tanks.
    ///
    /// # Errors
    /// [`ControlError::BadSetup`] for a tank number outside 1–99 or used twice.
    pub fn new(tanks: Vec<TankSetup>) -> Result<Self, ControlError> {
        let mut by_number = BTreeMap::new();
        for tank in tanks {
            if !(1..=99).contains(&tank.number) {
                return Err(ControlError::BadSetup(format!("tank {}", tank.number)));
            }
            let number = tank.number;
            if by_number.insert(number, tank).is_some() {
                return Err(ControlError::BadSetup(format!("tank {number} twice")));
            }
        }
        Ok(Self {
            tanks: by_number,
            deliveries: BTreeMap::new(),
            input: Vec::new(),
            paused: false,
            corrupt_next: false,
            display_only: false,
            volume_unit: VolumeUnit::Litre,
            heard: VecDeque::new(),
        })
    }

    /// Three tanks, as `gauge-sim` starts with.
    #[must_use]
    pub fn demo_tanks() -> Vec<TankSetup> {
        let tank = |number, code, label: &str, capacity, volume, water, temperature| TankSetup {
            number,
            product_code: code,
            product_label: label.to_owned(),
            capacity: Millilitres::litres(capacity),
            volume: Millilitres::litres(volume),
            water_height: water,
            temperature,
        };
        vec![
            tank(1, '1', "REGULAR", 20_000, 12_000, 0, 1550),
            tank(2, '2', "PREMIUM", 15_000, 8_000, 1250, 1425),
            tank(3, '3', "DIESEL", 30_000, 21_000, 0, 1300),
        ]
    }

    /// A tank's state now.
    #[must_use]
    pub fn tank(&self, number: u8) -> Option<&TankSetup> {
        self.tanks.get(&number)
    }

    /// The latest commands heard on the line (up to [`COMMANDS_KEPT`]), oldest first, without
    /// their SOH: `i20100`, `I20100`…
    #[must_use]
    pub fn commands_heard(&self) -> Vec<String> {
        self.heard.iter().cloned().collect()
    }

    /// Applies one control line:
    ///
    /// - `sale TANK LITRES`: product leaves the tank;
    /// - `deliver TANK LITRES`: product arrives, recorded for function 202 at `now`;
    /// - `pause on` / `pause off`: commands are swallowed without a reply while paused;
    /// - `corrupt-next`: the next computer-format reply carries a wrong checksum;
    /// - `display-only on` / `display-only off`: computer-format commands get the
    ///   unknown-command answer, display-format ones their report;
    /// - `volume-unit litre|us-gallon|imperial-gallon`: the unit volumes are reported in (the
    ///   control lines keep taking litres).
    ///
    /// # Errors
    /// A [`ControlError`] saying why the line was not applied; nothing changes then.
    pub fn apply_control(&mut self, line: &str, now: GaugeTime) -> Result<(), ControlError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["sale", tank, litres] => {
                let (number, amount) = self.tank_and_volume(tank, litres)?;
                self.change_volume(number, -amount.get())
            }
            ["deliver", tank, litres] => {
                let (number, amount) = self.tank_and_volume(tank, litres)?;
                let before = self.tank(number).cloned();
                self.change_volume(number, amount.get())?;
                if let (Some(before), Some(after)) = (before, self.tank(number)) {
                    let record = RecordedDelivery {
                        start: now,
                        end: now,
                        before: Snapshot::of(&before),
                        after: Snapshot::of(after),
                    };
                    let list = self.deliveries.entry(number).or_default();
                    list.insert(0, record);
                    list.truncate(DELIVERIES_KEPT);
                }
                Ok(())
            }
            ["pause", "on"] => {
                self.paused = true;
                Ok(())
            }
            ["pause", "off"] => {
                self.paused = false;
                self.input.clear();
                Ok(())
            }
            ["corrupt-next"] => {
                self.corrupt_next = true;
                Ok(())
            }
            ["display-only", "on"] => {
                self.display_only = true;
                Ok(())
            }
            ["display-only", "off"] => {
                self.display_only = false;
                Ok(())
            }
            ["volume-unit", unit] => {
                self.volume_unit = unit
                    .parse()
                    .map_err(|_| ControlError::Unknown(line.to_owned()))?;
                Ok(())
            }
            _ => Err(ControlError::Unknown(line.to_owned())),
        }
    }

    /// Takes bytes from the serial line and returns the replies to send, if any.
    ///
    /// A command is SOH and six characters (format, function, tank); bytes before an SOH are
    /// ignored, as the console ignores line noise.
    pub fn handle_input(&mut self, bytes: &[u8], now: GaugeTime) -> Vec<u8> {
        let mut out = Vec::new();
        for &byte in bytes {
            if byte == SOH {
                self.input.clear();
                self.input.push(byte);
                continue;
            }
            if self.input.is_empty() {
                continue;
            }
            self.input.push(byte);
            if self.input.len() == 7 {
                let command =
                    String::from_utf8_lossy(self.input.get(1..).unwrap_or_default()).into_owned();
                self.input.clear();
                if self.heard.len() == COMMANDS_KEPT {
                    self.heard.pop_front();
                }
                self.heard.push_back(command.clone());
                if !self.paused {
                    out.extend(self.answer(&command, now));
                }
            }
        }
        out
    }

    /// The reply to one command (without its SOH), for instance `i20100`.
    #[must_use]
    pub fn answer(&mut self, command: &str, now: GaugeTime) -> Vec<u8> {
        let parsed = command
            .get(..4)
            .zip(command.get(4..6))
            .and_then(|(code, tank)| Some((code, parse_selector(tank)?)));
        let Some((code, tank)) = parsed else {
            return UNKNOWN_COMMAND_REPLY.to_vec();
        };
        if self.display_only && code.starts_with('i') {
            return UNKNOWN_COMMAND_REPLY.to_vec();
        }
        match code {
            "i201" => {
                let data = self.inventory_data(tank, now);
                self.computer_reply(command, &data)
            }
            "i202" => {
                let data = self.delivery_data(tank, now);
                self.computer_reply(command, &data)
            }
            "I201" => self.display_inventory(command, tank, now),
            "i505" if tank == 0 => {
                let flag = match self.volume_unit {
                    VolumeUnit::UsGallon => '1',
                    VolumeUnit::Litre => '2',
                    VolumeUnit::ImperialGallon => '3',
                };
                let data = format!("{}{flag}", gauge_time(now));
                self.computer_reply(command, &data)
            }
            "I505" if tank == 0 => self.display_units(command, now),
            _ => UNKNOWN_COMMAND_REPLY.to_vec(),
        }
    }

    fn tank_and_volume(&self, tank: &str, litres: &str) -> Result<(u8, Millilitres), ControlError> {
        let number = tank
            .parse::<u8>()
            .ok()
            .filter(|number| self.tanks.contains_key(number))
            .ok_or_else(|| ControlError::NoTank(tank.to_owned()))?;
        let amount = Thousandths::from_decimal_text(litres)
            .ok()
            .filter(|amount| amount.get() > 0)
            .ok_or_else(|| ControlError::BadVolume(litres.to_owned()))?;
        Ok((number, Millilitres::new(amount.get())))
    }

    fn change_volume(&mut self, number: u8, change: i64) -> Result<(), ControlError> {
        let tank = self
            .tanks
            .get_mut(&number)
            .ok_or_else(|| ControlError::NoTank(number.to_string()))?;
        let volume = Millilitres::new(tank.volume.get().saturating_add(change));
        if volume.get() < 0 || volume > tank.capacity {
            return Err(ControlError::OutOfRange {
                tank: number,
                volume,
            });
        }
        tank.volume = volume;
        Ok(())
    }

    fn selected(&self, tank: u8) -> impl Iterator<Item = &TankSetup> {
        self.tanks
            .values()
            .filter(move |setup| tank == 0 || setup.number == tank)
    }

    /// `YYMMDDHHmm { TT p ssss 07 volume tc ullage height water temperature water-volume }…`
    fn inventory_data(&self, tank: u8, now: GaugeTime) -> String {
        let mut data = gauge_time(now);
        for setup in self.selected(tank) {
            let snapshot = Snapshot::of(setup);
            let fields = [
                self.in_unit(setup.volume.get()),
                self.in_unit(snapshot.tc_volume),
                self.in_unit(setup.capacity.get() - setup.volume.get()),
                snapshot.height,
                snapshot.water,
                snapshot.temperature,
                self.in_unit(water_volume(setup)),
            ];
            data.push_str(&format!(
                "{:02}{}{:04X}{:02X}",
                setup.number,
                setup.product_code,
                0,
                fields.len()
            ));
            fields
                .iter()
                .for_each(|&value| data.push_str(&hex_float(value)));
        }
        data
    }

    /// `YYMMDDHHmm { TT p dd { start end 0A floats×10 }×dd }…`
    fn delivery_data(&self, tank: u8, now: GaugeTime) -> String {
        let mut data = gauge_time(now);
        for setup in self.selected(tank) {
            let deliveries = self
                .deliveries
                .get(&setup.number)
                .map(Vec::as_slice)
                .unwrap_or_default();
            data.push_str(&format!(
                "{:02}{}{:02}",
                setup.number,
                setup.product_code,
                deliveries.len()
            ));
            for delivery in deliveries {
                let (before, after) = (&delivery.before, &delivery.after);
                let fields = [
                    self.in_unit(before.volume),
                    self.in_unit(before.tc_volume),
                    before.water,
                    before.temperature,
                    self.in_unit(after.volume),
                    self.in_unit(after.tc_volume),
                    after.water,
                    after.temperature,
                    before.height,
                    after.height,
                ];
                data.push_str(&gauge_time(delivery.start));
                data.push_str(&gauge_time(delivery.end));
                data.push_str(&format!("{:02X}", fields.len()));
                fields
                    .iter()
                    .for_each(|&value| data.push_str(&hex_float(value)));
            }
        }
        data
    }

    /// SOH, echoed command, data, `&&`, checksum, ETX.
    fn computer_reply(&mut self, command: &str, data: &str) -> Vec<u8> {
        let mut reply = vec![SOH];
        reply.extend_from_slice(command.as_bytes());
        reply.extend_from_slice(data.as_bytes());
        reply.extend_from_slice(b"&&");
        let mut sum = checksum(&reply);
        if std::mem::take(&mut self.corrupt_next) {
            sum = sum.wrapping_add(1);
        }
        reply.extend_from_slice(format!("{sum:04X}").as_bytes());
        reply.push(ETX);
        reply
    }

    /// A volume in mL as thousandths of the unit the console reports in. The simulator's volumes
    /// are bounded by its tanks' capacities, so the conversion cannot fail; 0 if it did.
    fn in_unit(&self, millilitres: i64) -> i64 {
        self.volume_unit
            .from_millilitres(Millilitres::new(millilitres))
            .map_or(0, Thousandths::get)
    }

    /// The printed in-tank inventory report, with a line of unit labels under the column
    /// header; display format has no checksum. Volumes are printed in whole units, rounded.
    fn display_inventory(&self, command: &str, tank: u8, now: GaugeTime) -> Vec<u8> {
        let volume_label = match self.volume_unit {
            VolumeUnit::Litre => "LITERS",
            VolumeUnit::UsGallon => "GALLONS",
            VolumeUnit::ImperialGallon => "IMP GAL",
        };
        let mut text = format!(
            "\r\n{command}\r\n{}\r\n\r\nSIMULATED STATION\r\n\r\nIN-TANK INVENTORY\r\n\r\n\
             TANK PRODUCT             VOLUME TC VOLUME   ULLAGE   HEIGHT    WATER     TEMP\r\n\
             {:23}{volume_label:>8}{volume_label:>10}{volume_label:>9}{:>9}{:>9}{:>9}\r\n",
            display_time(now),
            "",
            "MM",
            "MM",
            "DEG C",
        );
        for setup in self.selected(tank) {
            let snapshot = Snapshot::of(setup);
            text.push_str(&format!(
                "{:>3}  {:<18}{:>8}{:>10}{:>9}{:>9}{:>9}{:>9}\r\n",
                setup.number,
                setup.product_label,
                whole_units(self.in_unit(setup.volume.get())),
                whole_units(self.in_unit(snapshot.tc_volume)),
                whole_units(self.in_unit(setup.capacity.get() - setup.volume.get())),
                hundredths(snapshot.height / 10),
                hundredths(snapshot.water / 10),
                hundredths(snapshot.temperature / 10),
            ));
        }
        text.push_str("\r\n");
        display_reply(&text)
    }

    /// The printed system-units setting.
    fn display_units(&self, command: &str, now: GaugeTime) -> Vec<u8> {
        let units = match self.volume_unit {
            VolumeUnit::UsGallon => "U.S.",
            VolumeUnit::Litre => "METRIC",
            VolumeUnit::ImperialGallon => "IMP GAL",
        };
        let text = format!(
            "\r\n{command}\r\n{}\r\n\r\nSYSTEM UNITS\r\n{units}\r\n\r\n",
            display_time(now)
        );
        display_reply(&text)
    }
}

/// SOH, the text, ETX.
fn display_reply(text: &str) -> Vec<u8> {
    let mut reply = vec![SOH];
    reply.extend_from_slice(text.as_bytes());
    reply.push(ETX);
    reply
}

/// Thousandths as whole units, rounded half away from zero, as the console prints volumes.
fn whole_units(thousandths: i64) -> i64 {
    let whole = thousandths / 1000;
    let rest = thousandths % 1000;
    if rest >= 500 {
        whole + 1
    } else if rest <= -500 {
        whole - 1
    } else {
        whole
    }
}

/// The TLS's eight-hex-character IEEE-754 single-precision float for a value given in
/// thousandths (millilitres, micrometres, thousandths of a degree).
///
/// This is the one place where the simulator does float arithmetic, because the protocol
/// carries floats: the value is divided by 1000 in `f64` (exact for the integers used here,
/// which are far below 2^53) and rounded once to `f32`. An `f32` has 24 significant bits, so
/// above 16 777 L a millilitre is no longer representable and the station reads the nearest
/// float (within 2 mL at 30 000 L) — as it would from a real console.
#[must_use]
#[allow(
    clippy::float_arithmetic,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]
pub fn hex_float(thousandths: i64) -> String {
    let value = thousandths as f64 / 1000.0;
    format!("{:08X}", (value as f32).to_bits())
}

/// A delivery as function 202 reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RecordedDelivery {
    start: GaugeTime,
    end: GaugeTime,
    before: Snapshot,
    after: Snapshot,
}

/// A tank's readings in thousandths of the console's units (mL, µm, m°C).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    volume: i64,
    tc_volume: i64,
    height: i64,
    water: i64,
    temperature: i64,
}

/// The simulated tanks are upright cylinders this tall when full, in hundredths of a mm.
const FULL_HEIGHT_HUNDREDTHS_MM: i64 = 250_000;
/// Temperature-corrected volumes are referred to 15 °C, in hundredths of a degree.
const REFERENCE_TEMPERATURE_HUNDREDTHS: i64 = 1500;
/// Thermal expansion of petrol, per degree Celsius, in parts per 100 000.
const EXPANSION_PER_DEGREE_PER_100K: i64 = 95;

impl Snapshot {
    fn of(tank: &TankSetup) -> Self {
        let volume = tank.volume.get();
        let capacity = tank.capacity.get().max(1);
        // Height in µm of a linear tank: volume / capacity × full height.
        let height = mul_div(volume, FULL_HEIGHT_HUNDREDTHS_MM * 10, capacity);
        // Net volume at 15 °C: V × (1 − β (T − 15)), β in parts per 100 000 per degree,
        // T in hundredths of a degree.
        let excess = i64::from(tank.temperature) - REFERENCE_TEMPERATURE_HUNDREDTHS;
        let shrink = mul_div(volume, EXPANSION_PER_DEGREE_PER_100K * excess, 10_000_000);
        Self {
            volume,
            tc_volume: volume - shrink,
            height,
            water: i64::from(tank.water_height) * 10,
            temperature: i64::from(tank.temperature) * 10,
        }
    }
}

/// Water volume in mL: the water height's share of the tank's volume.
fn water_volume(tank: &TankSetup) -> i64 {
    mul_div(
        tank.capacity.get(),
        i64::from(tank.water_height),
        FULL_HEIGHT_HUNDREDTHS_MM,
    )
}

/// `a × b / c` without overflow, rounded toward zero; 0 when it does not fit.
fn mul_div(a: i64, b: i64, c: i64) -> i64 {
    let product = i128::from(a) * i128::from(b);
    i64::try_from(product.checked_div(i128::from(c)).unwrap_or(0)).unwrap_or(0)
}

fn parse_selector(text: &str) -> Option<u8> {
    if text.len() == 2 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn gauge_time(time: GaugeTime) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        time.year % 100,
        time.month,
        time.day,
        time.hour,
        time.minute
    )
}

/// `MAR 15, 2024  8:30 AM`, as the console prints its report header.
fn display_time(time: GaugeTime) -> String {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let month = MONTHS
        .get(usize::from(time.month.saturating_sub(1)))
        .unwrap_or(&"JAN");
    let (hour, half) = match time.hour {
        0 => (12, "AM"),
        1..=11 => (time.hour, "AM"),
        12 => (12, "PM"),
        _ => (time.hour - 12, "PM"),
    };
    format!(
        "{month} {}, {} {hour:>2}:{:02} {half}",
        time.day, time.year, time.minute
    )
}

/// A number of hundredths printed with two decimals: `-221` → `-2.21`.
fn hundredths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}

#[cfg(test)]
mod tests;
