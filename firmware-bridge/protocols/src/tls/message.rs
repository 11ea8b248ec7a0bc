//! TLS command and response framing (Serial Interface Manual 576013-635, sections 5 and 6).
//!
//! ```text
//! command:                 SOH i 201 00                 (format, function, tank; 00 = all)
//! computer-format reply:   SOH i20100 data… && CCCC ETX
//! display-format reply:    SOH CR LF I20100 CR LF text… ETX
//! unknown command:         SOH 9999 FF1B ETX
//! ```
//!
//! Some consoles and emulators answer only in display format: to a computer-format command they
//! send the unknown-command answer (with or without `FF1B`) or the printed report itself. Both
//! are a refusal of the format ([`ReplyError::refuses_format`]); [`FormatChoice`] is the rule
//! for asking again in the other format and keeping the one that worked.
//!
//! CCCC is four hex characters: the two's complement of the 16-bit sum of every character from
//! SOH through `&&`, so that the sum of all of them and the checksum value is zero.

use std::fmt;

use thiserror::Error;

/// Starts commands and replies.
pub const SOH: u8 = 0x01;
/// Ends replies.
pub const ETX: u8 = 0x03;

/// A reply longer than any report of a 99-tank console is noise; the decoder drops it rather
/// than grow without bound.
const MAX_REPLY: usize = 64 * 1024;

/// How the console is asked to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `i`: fixed fields, hex floats and a checksum, for programs.
    Computer,
    /// `I`: the printed report, for people; no checksum.
    Display,
}

impl Format {
    /// The other format.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::Computer => Self::Display,
            Self::Display => Self::Computer,
        }
    }
}

/// Which format to ask reports in: computer format until a console refuses it, then display
/// format; once a format has worked it is asked first, and the other only when it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FormatChoice {
    settled: Option<Format>,
}

impl FormatChoice {
    /// Nothing known yet: computer format first.
    #[must_use]
    pub const fn new() -> Self {
        Self { settled: None }
    }

    /// The format to ask in first.
    #[must_use]
    pub const fn first(&self) -> Format {
        match self.settled {
            Some(format) => format,
            None => Format::Computer,
        }
    }

    /// The format that last worked, if any.
    #[must_use]
    pub const fn settled(&self) -> Option<Format> {
        self.settled
    }

    /// The console answered a command in `format`: keep asking in it.
    pub fn worked(&mut self, format: Format) {
        self.settled = Some(format);
    }
}

/// Which tank a command is about: 00 means all tanks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TankSelector(u8);

impl TankSelector {
    /// All tanks.
    pub const ALL: Self = Self(0);

    /// One tank, 1–99.
    #[must_use]
    pub const fn tank(number: u8) -> Option<Self> {
        if number >= 1 && number <= 99 {
            Some(Self(number))
        } else {
            None
        }
    }

    /// 0 for all tanks, else the tank number.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A report function of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// 201: in-tank inventory.
    InTankInventory,
    /// 202: delivery report.
    DeliveryReport,
    /// The console's system-units setting (U.S., metric or imperial gallons), asked with tank
    /// selector 00: see [`crate::tls::units::parse_system_units`].
    SystemUnits,
}

impl Function {
    /// The number of the system-units inquiry. This project's reading of the serial interface
    /// manual's setup functions (50x, one flag after the date and time); a console that does not
    /// know it answers `9999`, and the station's setting is used.
    pub const SYSTEM_UNITS_NUMBER: u16 = 505;

    const fn number(self) -> u16 {
        match self {
            Self::InTankInventory => 201,
            Self::DeliveryReport => 202,
            Self::SystemUnits => Self::SYSTEM_UNITS_NUMBER,
        }
    }
}

/// One command to the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command {
    /// Reply format.
    pub format: Format,
    /// Report asked for.
    pub function: Function,
    /// Tank or all tanks.
    pub tank: TankSelector,
}

impl Command {
    /// The command code as echoed in replies, for instance `i20100`.
    #[must_use]
    pub fn code(&self) -> String {
        let format = match self.format {
            Format::Computer => 'i',
            Format::Display => 'I',
        };
        format!("{format}{}{:02}", self.function.number(), self.tank.get())
    }

    /// The bytes to send.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![SOH];
        out.extend_from_slice(self.code().as_bytes());
        out
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// The checksum of a computer-format reply: two's complement of the 16-bit sum of `bytes`.
#[must_use]
pub fn checksum(bytes: &[u8]) -> u16 {
    bytes
        .iter()
        .fold(0u16, |sum, &byte| sum.wrapping_add(u16::from(byte)))
        .wrapping_neg()
}

/// A reply the console sent that does not say what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReplyError {
    /// The console answered `9999`: it does not know the command.
    #[error("the console does not know the command")]
    CommandNotUnderstood,
    /// A computer-format command answered with display-format text: the console speaks only
    /// display format.
    #[error("the console answered a computer-format command in display format")]
    DisplayFormatReply,
    /// No `&&CCCC` before ETX.
    #[error("the reply has no checksum")]
    MissingChecksum,
    /// The checksum does not match: the reply was damaged on the line.
    #[error("the reply's checksum is {received:04X} but its content gives {computed:04X}")]
    BadChecksum {
        /// Checksum carried by the reply.
        received: u16,
        /// Checksum computed over it.
        computed: u16,
    },
    /// The reply echoes another command than the one sent.
    #[error("the reply is for {received:?}, not {expected:?}")]
    WrongCommand {
        /// Command sent.
        expected: String,
        /// Command echoed.
        received: String,
    },
    /// The reply ends before its fields do.
    #[error("the reply ends at character {at} while reading {field}")]
    Truncated {
        /// Field being read.
        field: &'static str,
        /// Offset in the data.
        at: usize,
    },
    /// A field holds something its format does not allow.
    #[error("field {field} holds {text:?}")]
    BadField {
        /// Field.
        field: &'static str,
        /// What it holds.
        text: String,
    },
    /// Characters left after the last record.
    #[error("{count} characters follow the last record")]
    TrailingData {
        /// How many.
        count: usize,
    },
    /// A display-format report without the table this parser reads.
    #[error("the display report has no {0} table")]
    NoTable(&'static str),
    /// Bytes between replies, or a reply too long to be one.
    #[error("{discarded} bytes on the line were not part of a reply")]
    Garbage {
        /// How many bytes were dropped.
        discarded: usize,
    },
}

impl ReplyError {
    /// A stable code for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::CommandNotUnderstood => "tls.command_not_understood",
            Self::DisplayFormatReply => "tls.display_format_reply",
            Self::MissingChecksum => "tls.missing_checksum",
            Self::BadChecksum { .. } => "tls.bad_checksum",
            Self::WrongCommand { .. } => "tls.wrong_command",
            Self::Truncated { .. } => "tls.truncated",
            Self::BadField { .. } => "tls.bad_field",
            Self::TrailingData { .. } => "tls.trailing_data",
            Self::NoTable(_) => "tls.no_table",
            Self::Garbage { .. } => "tls.garbage",
        }
    }

    /// The console refused the command in the format it was asked in: it answered `9999`, or
    /// display text to a computer-format command. Asking in the other format may work.
    #[must_use]
    pub const fn refuses_format(&self) -> bool {
        matches!(self, Self::CommandNotUnderstood | Self::DisplayFormatReply)
    }
}

/// Finds replies (`SOH … ETX`) in a byte stream, however it is cut into reads.
#[derive(Debug, Default)]
pub struct ReplyDecoder {
    pending: Vec<u8>,
}

impl ReplyDecoder {
    /// An empty decoder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the line.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Forgets a partial reply, for instance after a timeout.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// The next reply, from SOH to ETX inclusive; an error for bytes outside any reply; `None`
    /// when more bytes are needed.
    pub fn next_reply(&mut self) -> Option<Result<Vec<u8>, ReplyError>> {
        let start = self.pending.iter().position(|&byte| byte == SOH);
        match start {
            None if !self.pending.is_empty() => {
                let discarded = self.pending.len();
                self.pending.clear();
                return Some(Err(ReplyError::Garbage { discarded }));
            }
            None => return None,
            Some(start) if start > 0 => {
                self.pending.drain(..start);
                return Some(Err(ReplyError::Garbage { discarded: start }));
            }
            Some(_) => {}
        }
        // A second SOH before ETX means the first reply was cut off: drop it.
        let end = self
            .pending
            .iter()
            .skip(1)
            .position(|&byte| byte == ETX || byte == SOH)
            .map(|index| index + 1);
        match end {
            Some(end) if self.pending.get(end) == Some(&ETX) => {
                Some(Ok(self.pending.drain(..=end).collect()))
            }
            Some(end) => {
                self.pending.drain(..end);
                Some(Err(ReplyError::Garbage { discarded: end }))
            }
            None if self.pending.len() > MAX_REPLY => {
                let discarded = self.pending.len();
                self.pending.clear();
                Some(Err(ReplyError::Garbage { discarded }))
            }
            None => None,
        }
    }
}

/// Checks a computer-format reply (SOH to ETX) against the command sent and returns its data:
/// the text after the echoed command and before `&&`.
///
/// # Errors
/// A [`ReplyError`] for a rejected command, display text instead of data, a bad or missing
/// checksum, or a reply to another command.
pub fn computer_reply_data(reply: &[u8], command: &Command) -> Result<String, ReplyError> {
    let inner = reply
        .strip_prefix(&[SOH])
        .and_then(|rest| rest.strip_suffix(&[ETX]))
        .ok_or(ReplyError::MissingChecksum)?;
    if inner.trim_ascii_start().starts_with(b"9999") {
        return Err(ReplyError::CommandNotUnderstood);
    }
    // A computer-format reply starts with its echoed command; display text with a blank line.
    if inner
        .first()
        .is_some_and(|&byte| byte == b'\r' || byte == b'\n')
    {
        return Err(ReplyError::DisplayFormatReply);
    }
    let marker = inner
        .windows(2)
        .rposition(|pair| pair == b"&&")
        .ok_or(ReplyError::MissingChecksum)?;
    let (content, tail) = inner.split_at(marker + 2);
    let received = std::str::from_utf8(tail)
        .ok()
        .filter(|text| text.len() == 4)
        .and_then(|text| u16::from_str_radix(text, 16).ok())
        .ok_or(ReplyError::MissingChecksum)?;
    let summed = reply.get(..content.len() + 1).unwrap_or_default();
    let computed = checksum(summed);
    if computed != received {
        return Err(ReplyError::BadChecksum { received, computed });
    }
    let text = String::from_utf8_lossy(content.get(..marker).unwrap_or_default()).into_owned();
    let code = command.code();
    match text.strip_prefix(&code) {
        Some(data) => Ok(data.to_owned()),
        None => Err(ReplyError::WrongCommand {
            expected: code,
            received: text.chars().take(6).collect(),
        }),
    }
}

/// Checks a display-format reply (SOH to ETX) against the command sent and returns its text
/// after the echoed command.
///
/// # Errors
/// [`ReplyError::CommandNotUnderstood`] or [`ReplyError::WrongCommand`].
pub fn display_reply_text(reply: &[u8], command: &Command) -> Result<String, ReplyError> {
    let inner = reply
        .strip_prefix(&[SOH])
        .map(|rest| rest.strip_suffix(&[ETX]).unwrap_or(rest))
        .unwrap_or(reply);
    let text = String::from_utf8_lossy(inner);
    let text = text.trim_start();
    if text.starts_with("9999") {
        return Err(ReplyError::CommandNotUnderstood);
    }
    let code = command.code();
    match text.strip_prefix(&code) {
        Some(rest) => Ok(rest.to_owned()),
        None => Err(ReplyError::WrongCommand {
            expected: code,
            received: text.chars().take(6).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: Command = Command {
        format: Format::Computer,
        function: Function::InTankInventory,
        tank: TankSelector::ALL,
    };

    fn with_checksum(body: &str) -> Vec<u8> {
        let mut reply = vec![SOH];
        reply.extend_from_slice(body.as_bytes());
        reply.extend_from_slice(b"&&");
        let sum = checksum(&reply);
        reply.extend_from_slice(format!("{sum:04X}").as_bytes());
        reply.push(ETX);
        reply
    }

    #[test]
    fn encodes_commands() {
        assert_eq!(INVENTORY.encode(), b"\x01i20100");
        let delivery = Command {
            format: Format::Display,
            function: Function::DeliveryReport,
            tank: TankSelector::tank(3).unwrap(),
        };
        assert_eq!(delivery.encode(), b"\x01I20203");
        assert_eq!(delivery.to_string(), "I20203");
        assert_eq!(TankSelector::tank(0), None);
        assert_eq!(TankSelector::tank(100), None);
    }

    #[test]
    fn checksum_known_answers() {
        // The console's answer to an unknown command is SOH 9999 FF1B ETX (manual, section 6):
        // 01H + 4 × 39H = E5H, and 10000H − E5H = FF1BH.
        assert_eq!(checksum(b"\x019999"), 0xFF1B);
        // SOH + "i20100" + "&&" = 01H + 69H + 32H + 30H + 31H + 30H + 30H + 26H + 26H = 1A9H.
        assert_eq!(checksum(b"\x01i20100&&"), 0xFE57);
        assert_eq!(checksum(&[]), 0);
    }

    #[test]
    fn accepts_a_good_reply_and_returns_its_data() {
        let reply = with_checksum("i201002011051230");
        assert_eq!(
            computer_reply_data(&reply, &INVENTORY),
            Ok("2011051230".to_owned())
        );
        // Lower-case checksum digits are accepted too.
        let lower = String::from_utf8(reply.clone()).unwrap().to_lowercase();
        assert!(computer_reply_data(lower.as_bytes(), &INVENTORY).is_ok());
    }

    #[test]
    fn rejects_damaged_and_foreign_replies() {
        let mut damaged = with_checksum("i201002011051230");
        damaged[9] = b'9';
        assert!(matches!(
            computer_reply_data(&damaged, &INVENTORY),
            Err(ReplyError::BadChecksum { .. })
        ));
        assert_eq!(
            computer_reply_data(b"\x019999FF1B\x03", &INVENTORY),
            Err(ReplyError::CommandNotUnderstood)
        );
        assert_eq!(
            computer_reply_data(b"\x01i20100201105123\x03", &INVENTORY),
            Err(ReplyError::MissingChecksum)
        );
        assert_eq!(
            computer_reply_data(b"\x01i20100&&FE\x03", &INVENTORY),
            Err(ReplyError::MissingChecksum)
        );
        let other = with_checksum("i202002011051230");
        let error = computer_reply_data(&other, &INVENTORY).unwrap_err();
        assert_eq!(
            error,
            ReplyError::WrongCommand {
                expected: "i20100".to_owned(),
                received: "i20200".to_owned()
            }
        );
        assert_eq!(error.code(), "tls.wrong_command");
    }

    #[test]
    fn a_console_speaking_only_display_format_refuses_computer_format() {
        // The manual's answer, the short one of older consoles, and one after a blank line.
        for reply in [
            b"\x019999FF1B\x03".as_slice(),
            b"\x019999\x03",
            b"\x01\r\n9999\r\n\x03",
        ] {
            let error = computer_reply_data(reply, &INVENTORY).unwrap_err();
            assert_eq!(error, ReplyError::CommandNotUnderstood);
            assert!(error.refuses_format());
        }
        // The printed report sent back to a computer-format command.
        let printed = b"\x01\r\nI20100\r\nMAR 15, 2024  8:30 AM\r\n\r\nIN-TANK INVENTORY\r\n\x03";
        let error = computer_reply_data(printed, &INVENTORY).unwrap_err();
        assert_eq!(error, ReplyError::DisplayFormatReply);
        assert_eq!(error.code(), "tls.display_format_reply");
        assert!(error.refuses_format());
        // A damaged reply is no refusal: asking in the other format would not help.
        assert!(!ReplyError::MissingChecksum.refuses_format());
        assert!(
            !ReplyError::BadChecksum {
                received: 1,
                computed: 2
            }
            .refuses_format()
        );
    }

    #[test]
    fn the_format_that_worked_is_asked_first() {
        let mut choice = FormatChoice::new();
        assert_eq!(choice.first(), Format::Computer);
        assert_eq!(choice.settled(), None);
        choice.worked(Format::Computer.other());
        assert_eq!(choice.first(), Format::Display);
        assert_eq!(choice.settled(), Some(Format::Display));
        choice.worked(Format::Display.other());
        assert_eq!(choice.first(), Format::Computer);
        let units = Command {
            function: Function::SystemUnits,
            ..INVENTORY
        };
        assert_eq!(units.encode(), b"\x01i50500");
    }

    #[test]
    fn decodes_replies_split_and_surrounded_by_noise() {
        let reply = with_checksum("i201002011051230");
        let wire = [
            b"xx".as_slice(),
            &reply,
            b"\x01i201",
            b"\x01I20100\r\nOK\r\n\x03",
        ]
        .concat();
        for cut in 0..=wire.len() {
            let mut decoder = ReplyDecoder::new();
            let mut found = Vec::new();
            decoder.push(&wire[..cut]);
            found.extend(std::iter::from_fn(|| decoder.next_reply()));
            decoder.push(&wire[cut..]);
            found.extend(std::iter::from_fn(|| decoder.next_reply()));
            let replies: Vec<_> = found.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(
                replies,
                [&reply, &b"\x01I20100\r\nOK\r\n\x03".to_vec()],
                "cut at {cut}"
            );
            // "xx" and the cut-off "SOH i201" were reported, however the reads fell.
            let dropped: usize = found
                .iter()
                .filter_map(|r| match r {
                    Err(ReplyError::Garbage { discarded }) => Some(*discarded),
                    _ => None,
                })
                .sum();
            assert_eq!(dropped, 7, "cut at {cut}");
        }
    }
}
