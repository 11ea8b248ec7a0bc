//! The TLS reports the station reads: in-tank inventory (function 201) and deliveries
//! (function 202), in computer format, and the inventory table of the display format.
//!
//! Computer-format data (Serial Interface Manual 576013-635, section 7, functions 201 and 202):
//!
//! ```text
//! 201:  YYMMDDHHmm { TT p ssss NN FFFFFFFF×NN }…
//! 202:  YYMMDDHHmm { TT p dd { YYMMDDHHmm YYMMDDHHmm NN FFFFFFFF×NN }×dd }…
//! ```
//!
//! TT is the tank number, p the product code (one character), ssss the tank status bits (hex),
//! NN the number of eight-character float fields that follow (hex), dd the number of deliveries
//! (decimal). NN is read, not assumed: newer consoles append fields, which are skipped.

use super::float::{FloatError, Thousandths};
use super::message::ReplyError;
use super::units::{VolumeUnit, volume_unit_of_label_line};

/// The console's clock reading, as it prints it: two-digit year, no time zone. The console runs
/// on the station's local time; turning this into UTC is the adapter's job, which knows the
/// station's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GaugeTime {
    /// Year; the two printed digits are taken as 20YY.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
}

/// The tank status bits of function 201.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TankStatus(u16);

impl TankStatus {
    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Bit 1 (least significant): a delivery is in progress.
    #[must_use]
    pub const fn delivery_in_progress(self) -> bool {
        self.0 & 0x0001 != 0
    }

    /// Bit 2: a leak test is in progress.
    #[must_use]
    pub const fn leak_test_in_progress(self) -> bool {
        self.0 & 0x0002 != 0
    }

    /// Bit 3: invalid fuel height alarm (magnetostrictive probes).
    #[must_use]
    pub const fn invalid_fuel_height(self) -> bool {
        self.0 & 0x0004 != 0
    }
}

/// One tank of an in-tank inventory report. Quantities are in the console's units (litres,
/// millimetres and degrees Celsius on a metric console), as thousandths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankInventory {
    /// Tank number.
    pub tank: u8,
    /// Product code character.
    pub product_code: char,
    /// Status bits.
    pub status: TankStatus,
    /// Gross product volume.
    pub volume: Thousandths,
    /// Volume corrected to the reference temperature.
    pub tc_volume: Thousandths,
    /// Room left in the tank.
    pub ullage: Thousandths,
    /// Product height.
    pub height: Thousandths,
    /// Water height.
    pub water: Thousandths,
    /// Product temperature.
    pub temperature: Thousandths,
    /// Water volume; absent from consoles that send only six fields.
    pub water_volume: Option<Thousandths>,
}

/// Function 201, computer format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryReport {
    /// When the console made the report.
    pub time: GaugeTime,
    /// One entry per tank.
    pub tanks: Vec<TankInventory>,
}

/// One delivery in a delivery report, in the console's units as thousandths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// When the level started rising.
    pub start: GaugeTime,
    /// When it settled.
    pub end: GaugeTime,
    /// Product volume before.
    pub starting_volume: Thousandths,
    /// Temperature-corrected volume before.
    pub starting_tc_volume: Thousandths,
    /// Water height before.
    pub starting_water: Thousandths,
    /// Temperature before.
    pub starting_temperature: Thousandths,
    /// Product volume after.
    pub ending_volume: Thousandths,
    /// Temperature-corrected volume after.
    pub ending_tc_volume: Thousandths,
    /// Water height after.
    pub ending_water: Thousandths,
    /// Temperature after.
    pub ending_temperature: Thousandths,
    /// Product height before.
    pub starting_height: Thousandths,
    /// Product height after.
    pub ending_height: Thousandths,
}

/// The deliveries of one tank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TankDeliveries {
    /// Tank number.
    pub tank: u8,
    /// Product code character.
    pub product_code: char,
    /// Most recent first, as the console sends them.
    pub deliveries: Vec<Delivery>,
}

/// Function 202, computer format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// When the console made the report.
    pub time: GaugeTime,
    /// One entry per tank.
    pub tanks: Vec<TankDeliveries>,
}

/// The display-format inventory table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayInventory {
    /// The volume unit its labels name, when it prints a line of unit labels under the header.
    pub volume_unit: Option<VolumeUnit>,
    /// One row per tank.
    pub rows: Vec<DisplayInventoryRow>,
}

/// One row of the display-format inventory table. Values are as printed: volumes are usually
/// whole numbers and heights carry one or two decimals, depending on the console's setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayInventoryRow {
    /// Tank number.
    pub tank: u8,
    /// Product label as printed; it may contain spaces.
    pub product: String,
    /// Gross volume.
    pub volume: Thousandths,
    /// Temperature-corrected volume.
    pub tc_volume: Thousandths,
    /// Ullage.
    pub ullage: Thousandths,
    /// Product height.
    pub height: Thousandths,
    /// Water height.
    pub water: Thousandths,
    /// Temperature.
    pub temperature: Thousandths,
}

/// Reads the data of a function 201 computer-format reply (the text after `i201TT`).
///
/// # Errors
/// A [`ReplyError`] naming the field that is missing or malformed.
pub fn parse_inventory(data: &str) -> Result<InventoryReport, ReplyError> {
    let mut cursor = Cursor::new(data);
    let time = cursor.time("report time")?;
    let mut tanks = Vec::new();
    while !cursor.is_empty() {
        let tank = cursor.decimal_u8("tank number")?;
        let product_code = cursor.character("product code")?;
        let status = TankStatus(cursor.hex_u16("tank status", 4)?);
        let fields = cursor.floats("inventory fields")?;
        let [
            volume,
            tc_volume,
            ullage,
            height,
            water,
            temperature,
            rest @ ..,
        ] = fields.as_slice()
        else {
            return Err(bad_count("inventory fields", fields.len()));
        };
        tanks.push(TankInventory {
            tank,
            product_code,
            status,
            volume: *volume,
            tc_volume: *tc_volume,
            ullage: *ullage,
            height: *height,
            water: *water,
            temperature: *temperature,
            water_volume: rest.first().copied(),
        });
    }
    Ok(InventoryReport { time, tanks })
}

/// Reads the data of a function 202 computer-format reply (the text after `i202TT`).
///
/// # Errors
/// A [`ReplyError`] naming the field that is missing or malformed.
pub fn parse_deliveries(data: &str) -> Result<DeliveryReport, ReplyError> {
    let mut cursor = Cursor::new(data);
    let time = cursor.time("report time")?;
    let mut tanks = Vec::new();
    while !cursor.is_empty() {
        let tank = cursor.decimal_u8("tank number")?;
        let product_code = cursor.character("product code")?;
        let count = cursor.decimal_u8("delivery count")?;
        let mut deliveries = Vec::new();
        for _ in 0..count {
            let start = cursor.time("delivery start")?;
            let end = cursor.time("delivery end")?;
            let fields = cursor.floats("delivery fields")?;
            let [
                starting_volume,
                starting_tc_volume,
                starting_water,
                starting_temperature,
                ending_volume,
                ending_tc_volume,
                ending_water,
                ending_temperature,
                starting_height,
                ending_height,
                ..,
            ] = fields.as_slice()
            else {
                return Err(bad_count("delivery fields", fields.len()));
            };
            deliveries.push(Delivery {
                start,
                end,
                starting_volume: *starting_volume,
                starting_tc_volume: *starting_tc_volume,
                starting_water: *starting_water,
                starting_temperature: *starting_temperature,
                ending_volume: *ending_volume,
                ending_tc_volume: *ending_tc_volume,
                ending_water: *ending_water,
                ending_temperature: *ending_temperature,
                starting_height: *starting_height,
                ending_height: *ending_height,
            });
        }
        tanks.push(TankDeliveries {
            tank,
            product_code,
            deliveries,
        });
    }
    Ok(DeliveryReport { time, tanks })
}

/// Reads the inventory table of a function 201 display-format reply:
///
/// ```text
/// TANK PRODUCT             VOLUME TC VOLUME   ULLAGE   HEIGHT    WATER     TEMP
///                         GALLONS   GALLONS  GALLONS   INCHES   INCHES    DEG F
///   1  REGULAR               1693         0     9755    18.75     0.00    76.26
/// ```
///
/// The line of unit labels is optional (many consoles print none); when present, it gives the
/// table's volume unit. A row is the tank number, the product label (which may hold spaces) and
/// six numbers; the table ends at the first line that is not such a row.
///
/// # Errors
/// [`ReplyError::NoTable`] without the header line, [`ReplyError::BadField`] for a row that
/// starts with a tank number but does not end in six numbers, or unit labels that disagree.
pub fn parse_display_inventory(text: &str) -> Result<DisplayInventory, ReplyError> {
    // Display lines end in CR LF and, on some consoles, six NULs (manual, section 7).
    let mut lines = text
        .lines()
        .map(|line| line.trim_matches(|c: char| c.is_whitespace() || c == '\0'))
        .peekable();
    lines
        .by_ref()
        .find(|line| line.starts_with("TANK") && line.contains("VOLUME"))
        .ok_or(ReplyError::NoTable("inventory"))?;
    let mut volume_unit = None;
    if let Some(labels) = lines.next_if(|line| !line.bytes().any(|byte| byte.is_ascii_digit())) {
        volume_unit = volume_unit_of_label_line(labels)?;
    }
    let mut rows = Vec::new();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((first, rest)) = words.split_first() else {
            break;
        };
        let Ok(tank) = first.parse::<u8>() else {
            break;
        };
        let bad_row = || ReplyError::BadField {
            field: "inventory row",
            text: line.to_owned(),
        };
        let split = rest.len().checked_sub(6).ok_or_else(bad_row)?;
        let (label, numbers) = rest.split_at(split);
        let numbers: Vec<Thousandths> = numbers
            .iter()
            .map(|word| Thousandths::from_decimal_text(word))
            .collect::<Result<_, _>>()
            .map_err(|_| bad_row())?;
        let [volume, tc_volume, ullage, height, water, temperature] = numbers.as_slice() else {
            return Err(bad_row());
        };
        rows.push(DisplayInventoryRow {
            tank,
            product: label.join(" "),
            volume: *volume,
            tc_volume: *tc_volume,
            ullage: *ullage,
            height: *height,
            water: *water,
            temperature: *temperature,
        });
    }
    Ok(DisplayInventory { volume_unit, rows })
}

/// Reads the `YYMMDDHHmm` that starts the data of every computer-format reply.
pub(super) fn read_time(data: &str, field: &'static str) -> Result<GaugeTime, ReplyError> {
    Cursor::new(data).time(field)
}

fn bad_count(field: &'static str, count: usize) -> ReplyError {
    ReplyError::BadField {
        field,
        text: format!("{count} fields"),
    }
}

/// Reads fixed-width fields off the front of a reply's data.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    const fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    fn is_empty(&self) -> bool {
        self.at >= self.text.len()
    }

    fn take(&mut self, width: usize, field: &'static str) -> Result<&'a str, ReplyError> {
        let end = self.at + width;
        let Some(slice) = self.text.get(self.at..end) else {
            return Err(if end > self.text.len() {
                ReplyError::Truncated { field, at: self.at }
            } else {
                ReplyError::BadField {
                    field,
                    text: self.text.get(self.at..).unwrap_or_default().to_owned(),
                }
            });
        };
        self.at = end;
        Ok(slice)
    }

    fn decimal(&mut self, width: usize, field: &'static str) -> Result<u8, ReplyError> {
        let text = self.take(width, field)?;
        text.bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| text.parse::<u8>().ok())
            .flatten()
            .ok_or_else(|| ReplyError::BadField {
                field,
                text: text.to_owned(),
            })
    }

    fn decimal_u8(&mut self, field: &'static str) -> Result<u8, ReplyError> {
        self.decimal(2, field)
    }

    fn character(&mut self, field: &'static str) -> Result<char, ReplyError> {
        let text = self.take(1, field)?;
        text.chars()
            .next()
            .ok_or(ReplyError::Truncated { field, at: self.at })
    }

    fn hex_u16(&mut self, field: &'static str, width: usize) -> Result<u16, ReplyError> {
        let text = self.take(width, field)?;
        text.bytes()
            .all(|byte| byte.is_ascii_hexdigit())
            .then(|| u16::from_str_radix(text, 16).ok())
            .flatten()
            .ok_or_else(|| ReplyError::BadField {
                field,
                text: text.to_owned(),
            })
    }

    fn time(&mut self, field: &'static str) -> Result<GaugeTime, ReplyError> {
        let start = self.at;
        let year = self.decimal(2, field)?;
        let month = self.decimal(2, field)?;
        let day = self.decimal(2, field)?;
        let hour = self.decimal(2, field)?;
        let minute = self.decimal(2, field)?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
            return Err(ReplyError::BadField {
                field,
                text: self.text.get(start..self.at).unwrap_or_default().to_owned(),
            });
        }
        Ok(GaugeTime {
            year: 2000 + u16::from(year),
            month,
            day,
            hour,
            minute,
        })
    }

    /// `NN` then NN eight-character hex floats.
    fn floats(&mut self, field: &'static str) -> Result<Vec<Thousandths>, ReplyError> {
        let count = self.hex_u16(field, 2)?;
        (0..count)
            .map(|_| {
                let text = self.take(8, field)?;
                Thousandths::from_hex_float(text).map_err(|error| float_error(field, &error))
            })
            .collect()
    }
}

fn float_error(field: &'static str, error: &FloatError) -> ReplyError {
    ReplyError::BadField {
        field,
        text: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::{
        Command, Format, Function, TankSelector, computer_reply_data, display_reply_text,
    };
    use super::*;

    fn thousandths(value: i64) -> Thousandths {
        Thousandths::new(value)
    }

    const INVENTORY: Command = Command {
        format: Format::Computer,
        function: Function::InTankInventory,
        tank: TankSelector::ALL,
    };

    /// A two-tank reply laid out as in the manual's description of function 201, on a metric
    /// console: checksum and floats computed independently of this code.
    /// Tank 1, product '1': 7290.8 L, TC 7250.5 L, ullage 12709.2 L, height 1032.75 mm,
    /// water 0, 15.5 °C, water volume 0. Tank 2, product '2', delivery in progress: 1000 L,
    /// 998 L, 19000 L, 250 mm, 12.5 mm water, 14.25 °C, 20.5 L water.
    const INVENTORY_REPLY: &str = concat!(
        "\u{1}i20100",
        "2403150830",
        "01",
        "1",
        "0000",
        "07",
        "45E3D666",
        "45E29400",
        "464694CD",
        "44811800",
        "00000000",
        "41780000",
        "00000000",
        "02",
        "2",
        "0001",
        "07",
        "447A0000",
        "44798000",
        "46947000",
        "437A0000",
        "41480000",
        "41640000",
        "41A40000",
        "&&E247\u{3}",
    );

    fn inventory_reply() -> Vec<u8> {
        INVENTORY_REPLY.as_bytes().to_vec()
    }

    #[test]
    fn reads_a_computer_format_inventory() {
        let data = computer_reply_data(&inventory_reply(), &INVENTORY).unwrap();
        let report = parse_inventory(&data).unwrap();
        assert_eq!(
            report.time,
            GaugeTime {
                year: 2024,
                month: 3,
                day: 15,
                hour: 8,
                minute: 30
            }
        );
        assert_eq!(
            report.tanks,
            [
                TankInventory {
                    tank: 1,
                    product_code: '1',
                    status: TankStatus(0),
                    volume: thousandths(7_290_800),
                    tc_volume: thousandths(7_250_500),
                    ullage: thousandths(12_709_200),
                    height: thousandths(1_032_750),
                    water: thousandths(0),
                    temperature: thousandths(15_500),
                    water_volume: Some(thousandths(0)),
                },
                TankInventory {
                    tank: 2,
                    product_code: '2',
                    status: TankStatus(1),
                    volume: thousandths(1_000_000),
                    tc_volume: thousandths(998_000),
                    ullage: thousandths(19_000_000),
                    height: thousandths(250_000),
                    water: thousandths(12_500),
                    temperature: thousandths(14_250),
                    water_volume: Some(thousandths(20_500)),
                },
            ]
        );
        assert!(report.tanks[1].status.delivery_in_progress());
        assert!(!report.tanks[1].status.leak_test_in_progress());
    }

    #[test]
    fn a_bad_checksum_or_a_short_reply_is_an_error() {
        let mut damaged = inventory_reply();
        damaged[20] = b'F';
        assert!(matches!(
            computer_reply_data(&damaged, &INVENTORY),
            Err(ReplyError::BadChecksum { .. })
        ));

        let data = computer_reply_data(&inventory_reply(), &INVENTORY).unwrap();
        for cut in [5, 12, 20, 30, data.len() - 3] {
            let error = parse_inventory(&data[..cut]).unwrap_err();
            assert!(
                matches!(error, ReplyError::Truncated { .. }),
                "cut at {cut}: {error:?}"
            );
        }
        assert!(matches!(
            parse_inventory("2403150830011000107"),
            Err(ReplyError::Truncated { .. })
        ));
        // Five fields where six are the minimum.
        let five = "24031508300110000050000000000000000000000000000000000000000";
        assert_eq!(parse_inventory(five), Err(bad_count("inventory fields", 5)));
        assert!(matches!(
            parse_inventory("2413150830"),
            Err(ReplyError::BadField {
                field: "report time",
                ..
            })
        ));
        assert!(matches!(
            parse_inventory("24031508300110000067F800000"),
            Err(ReplyError::BadField { .. }) | Err(ReplyError::Truncated { .. })
        ));
        assert!(parse_inventory("2403150830é").is_err());
    }

    #[test]
    fn reads_a_computer_format_delivery_report() {
        // Tank 1, product '1', one delivery from 08:00 to 08:40 on 2024-03-14:
        // 1000 → 9000 L (TC 998 → 8990), water 0 → 0 mm, 15 → 14.5 °C, 250 → 1500 mm.
        let floats = [
            "447A0000", "44798000", "00000000", "41700000", "460CA000", "460C7800", "00000000",
            "41680000", "437A0000", "44BB8000",
        ]
        .concat();
        let data = [
            "2403150900",
            "01",
            "1",
            "01",
            "2403140800",
            "2403140840",
            "0A",
            &floats,
        ]
        .concat()
            + "02200";
        let report = parse_deliveries(&data).unwrap();
        assert_eq!(report.tanks.len(), 2);
        assert_eq!(report.tanks[1].deliveries, []);
        let [delivery] = report.tanks[0].deliveries.as_slice() else {
            panic!("{report:?}");
        };
        assert_eq!(delivery.start.hour, 8);
        assert_eq!(delivery.end.minute, 40);
        assert_eq!(delivery.starting_volume, thousandths(1_000_000));
        assert_eq!(delivery.ending_volume, thousandths(9_000_000));
        assert_eq!(delivery.ending_tc_volume, thousandths(8_990_000));
        assert_eq!(delivery.ending_temperature, thousandths(14_500));
        assert_eq!(delivery.starting_height, thousandths(250_000));
        assert_eq!(delivery.ending_height, thousandths(1_500_000));

        assert!(matches!(
            parse_deliveries(&data[..60]),
            Err(ReplyError::Truncated { .. })
        ));
        assert_eq!(
            parse_deliveries(
                &[
                    "2403150900",
                    "01",
                    "1",
                    "01",
                    "2403140800",
                    "2403140840",
                    "05",
                    &"0".repeat(40)
                ]
                .concat()
            ),
            Err(bad_count("delivery fields", 5))
        );
    }

    /// The display-format layout of function 201 as consoles print it.
    #[test]
    fn reads_the_display_format_inventory_table() {
        let reply = b"\x01\r\nI20100\r\nMAR 15, 2024  8:30 AM\r\n\r\nSTATION 1\r\n\r\n\
IN-TANK INVENTORY       \r\n\r\n\
TANK PRODUCT             VOLUME TC VOLUME   ULLAGE   HEIGHT    WATER     TEMP\r\n\
  1  REGULAR               1693         0     9755    18.75     0.00    76.26\r\n\
  2  REG W                35035     35392    30213   1295.7      0.0     6.92\r\n\
  3  DIESEL                 716       720     1958    20.05     0.55    -2.21\r\n\
\r\n\x03";
        let command = Command {
            format: Format::Display,
            ..INVENTORY
        };
        let text = display_reply_text(reply, &command).unwrap();
        let table = parse_display_inventory(&text).unwrap();
        assert_eq!(table.volume_unit, None, "no unit labels printed");
        let rows = table.rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            DisplayInventoryRow {
                tank: 2,
                product: "REG W".to_owned(),
                volume: thousandths(35_035_000),
                tc_volume: thousandths(35_392_000),
                ullage: thousandths(30_213_000),
                height: thousandths(1_295_700),
                water: thousandths(0),
                temperature: thousandths(6_920),
            }
        );
        assert_eq!(rows[0].height, thousandths(18_750));
        assert_eq!(rows[2].temperature, thousandths(-2_210));

        assert_eq!(
            parse_display_inventory("I20100\r\nno table here\r\n"),
            Err(ReplyError::NoTable("inventory"))
        );
        assert!(matches!(
            parse_display_inventory("TANK PRODUCT VOLUME\r\n  1  REGULAR  12  x  3  4  5  6\r\n"),
            Err(ReplyError::BadField { .. })
        ));
        assert_eq!(
            display_reply_text(b"\x01I20200\r\n\x03", &command),
            Err(ReplyError::WrongCommand {
                expected: "I20100".to_owned(),
                received: "I20200".to_owned()
            })
        );
    }

    /// A console set up in US gallons that labels its columns, with the six NULs that end every
    /// display line.
    #[test]
    fn reads_the_unit_labels_of_a_display_inventory() {
        let reply = "\u{1}\r\nI20100\r\nMAR 15, 2024  8:30 AM\r\n\r\nIN-TANK INVENTORY\r\n\r\n\
TANK PRODUCT             VOLUME TC VOLUME   ULLAGE   HEIGHT    WATER     TEMP\r\n\0\0\0\0\0\0\
                        GALLONS   GALLONS  GALLONS   INCHES   INCHES    DEG F\r\n\0\0\0\0\0\0\
  1  REGULAR               3170      3166     2113    59.06     0.00    59.90\r\n\0\0\0\0\0\0\
  2  DIESEL                5548      5551     2378    98.43     0.49    57.65\r\n\0\0\0\0\0\0\
\r\n\u{3}";
        let command = Command {
            format: Format::Display,
            ..INVENTORY
        };
        let text = display_reply_text(reply.as_bytes(), &command).unwrap();
        let table = parse_display_inventory(&text).unwrap();
        assert_eq!(table.volume_unit, Some(VolumeUnit::UsGallon));
        let volumes: Vec<(u8, i64)> = table
            .rows
            .iter()
            .map(|row| (row.tank, row.volume.get()))
            .collect();
        assert_eq!(volumes, [(1, 3_170_000), (2, 5_548_000)]);
        assert_eq!(table.rows[1].temperature, thousandths(57_650));

        let mixed = "TANK PRODUCT VOLUME TC VOLUME ULLAGE HEIGHT WATER TEMP\r\n\
                     GALLONS LITERS GALLONS IN IN F\r\n";
        assert!(matches!(
            parse_display_inventory(mixed),
            Err(ReplyError::BadField {
                field: "volume unit labels",
                ..
            })
        ));
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(text in "[0-9A-Fa-f&é ]{0,200}") {
            let _ = parse_inventory(&text);
            let _ = parse_deliveries(&text);
            let _ = parse_display_inventory(&text);
            let _ = super::super::units::parse_system_units(&text);
            let _ = volume_unit_of_label_line(&text);
        }
    }
}
