//! Real-time status, Epson ESC/POS `DLE EOT n` (transmit real-time status): the request bytes,
//! the typed reading of each status byte, and the inverse (status bytes from a state) for the
//! simulator. No I/O.

use crate::command;

/// Which status `DLE EOT n` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRequest {
    /// n = 1: printer status (online/offline).
    Printer,
    /// n = 2: offline cause status (cover, paper-end stop, error).
    OfflineCause,
    /// n = 4: roll paper sensor status (near end, paper end).
    RollPaperSensor,
}

/// Online or offline, from `DLE EOT 1` bit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Bit 3 = 0.
    Online,
    /// Bit 3 = 1.
    Offline,
}

/// Cover state, from `DLE EOT 2` bit 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// Bit 2 = 0.
    Closed,
    /// Bit 2 = 1.
    Open,
}

/// Roll paper, from `DLE EOT 4` bits 2–3 (near end) and 5–6 (paper end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// Both sensors clear.
    Adequate,
    /// Near-end sensor: bits 2–3 set.
    NearEnd,
    /// Paper-end sensor: bits 5–6 set.
    Out,
}

/// The printer's state as the POS needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterState {
    /// Online/offline.
    pub connection: Connection,
    /// Cover open or closed.
    pub cover: Cover,
    /// Roll paper.
    pub paper: Paper,
}

/// One decoded status byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusReply {
    /// `DLE EOT 1`.
    Printer(Connection),
    /// `DLE EOT 2`: the cover, and whether printing stopped because the paper ran out (bit 5).
    OfflineCause {
        /// Bit 2.
        cover: Cover,
        /// Bit 5: printing stopped due to paper end.
        stopped_by_paper_end: bool,
    },
    /// `DLE EOT 4`.
    RollPaperSensor(Paper),
}

/// A status byte that is not a `DLE EOT` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("0x{byte:02X} is not a real-time status byte (bits 0,7 must be 0 and bits 1,4 must be 1)")]
pub struct StatusError {
    /// The byte received.
    pub byte: u8,
}

/// Bits 1 and 4 are fixed to 1, bits 0 and 7 to 0, in every `DLE EOT` reply.
const FIXED_MASK: u8 = 0b1001_0011;
const FIXED_VALUE: u8 = 0b0001_0010;
/// `DLE EOT 1` bit 3: offline.
const OFFLINE: u8 = 0b0000_1000;
/// `DLE EOT 2` bit 2: cover is open.
const COVER_OPEN: u8 = 0b0000_0100;
/// `DLE EOT 2` bit 5: printing stopped due to paper end.
const PAPER_END_STOP: u8 = 0b0010_0000;
/// `DLE EOT 4` bits 2–3: roll paper near end.
const NEAR_END: u8 = 0b0000_1100;
/// `DLE EOT 4` bits 5–6: roll paper end (not present).
const PAPER_END: u8 = 0b0110_0000;

impl StatusRequest {
    /// Every request, in the order the transport asks them.
    pub const ALL: [Self; 3] = [Self::Printer, Self::OfflineCause, Self::RollPaperSensor];

    /// The `n` of `DLE EOT n`.
    #[must_use]
    pub fn n(self) -> u8 {
        match self {
            Self::Printer => 1,
            Self::OfflineCause => 2,
            Self::RollPaperSensor => 4,
        }
    }

    /// The request from its `n`, if this crate handles it.
    #[must_use]
    pub fn from_n(n: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|request| request.n() == n)
    }

    /// The request bytes, `DLE EOT n`.
    #[must_use]
    pub fn request_bytes(self) -> [u8; 3] {
        command::transmit_real_time_status(self.n())
    }

    /// Read the status byte the printer sent back for this request.
    ///
    /// # Errors
    /// [`StatusError`] if the fixed bits are wrong.
    pub fn parse(self, byte: u8) -> Result<StatusReply, StatusError> {
        if byte & FIXED_MASK != FIXED_VALUE {
            return Err(StatusError { byte });
        }
        Ok(match self {
            Self::Printer => StatusReply::Printer(if byte & OFFLINE == 0 {
                Connection::Online
            } else {
                Connection::Offline
            }),
            Self::OfflineCause => StatusReply::OfflineCause {
                cover: if byte & COVER_OPEN == 0 {
                    Cover::Closed
                } else {
                    Cover::Open
                },
                stopped_by_paper_end: byte & PAPER_END_STOP != 0,
            },
            Self::RollPaperSensor => StatusReply::RollPaperSensor(if byte & PAPER_END != 0 {
                Paper::Out
            } else if byte & NEAR_END != 0 {
                Paper::NearEnd
            } else {
                Paper::Adequate
            }),
        })
    }

    /// The byte a printer in `state` sends for this request (used by the simulator).
    #[must_use]
    pub fn reply_byte(self, state: &PrinterState) -> u8 {
        let mut byte = FIXED_VALUE;
        match self {
            Self::Printer => {
                if state.connection == Connection::Offline {
                    byte |= OFFLINE;
                }
            }
            Self::OfflineCause => {
                if state.cover == Cover::Open {
                    byte |= COVER_OPEN;
                }
                if state.paper == Paper::Out {
                    byte |= PAPER_END_STOP;
                }
            }
            Self::RollPaperSensor => match state.paper {
                Paper::Adequate => {}
                Paper::NearEnd => byte |= NEAR_END,
                Paper::Out => byte |= NEAR_END | PAPER_END,
            },
        }
        byte
    }
}

impl PrinterState {
    /// Online with the cover closed and paper present.
    pub const READY: Self = Self {
        connection: Connection::Online,
        cover: Cover::Closed,
        paper: Paper::Adequate,
    };

    /// The state of a printer with this cover and paper: offline while the cover is open or
    /// the paper is out, as an Epson printer goes.
    #[must_use]
    pub fn from_sensors(cover: Cover, paper: Paper) -> Self {
        let connection = if cover == Cover::Open || paper == Paper::Out {
            Connection::Offline
        } else {
            Connection::Online
        };
        Self {
            connection,
            cover,
            paper,
        }
    }

    /// Combine the replies to `DLE EOT 1`, `2` and `4`.
    #[must_use]
    pub fn from_replies(
        connection: Connection,
        cover: Cover,
        stopped_by_paper_end: bool,
        paper: Paper,
    ) -> Self {
        let paper = if stopped_by_paper_end {
            Paper::Out
        } else {
            paper
        };
        Self {
            connection,
            cover,
            paper,
        }
    }

    /// Whether a receipt can be printed now.
    #[must_use]
    pub fn can_print(&self) -> bool {
        self.connection == Connection::Online
            && self.cover == Cover::Closed
            && self.paper != Paper::Out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_are_dle_eot_n() {
        assert_eq!(StatusRequest::Printer.request_bytes(), [0x10, 0x04, 0x01]);
        assert_eq!(
            StatusRequest::OfflineCause.request_bytes(),
            [0x10, 0x04, 0x02]
        );
        assert_eq!(
            StatusRequest::RollPaperSensor.request_bytes(),
            [0x10, 0x04, 0x04]
        );
        assert_eq!(StatusRequest::from_n(3), None);
    }

    #[test]
    fn status_bytes_known_answers() {
        use StatusRequest::*;
        assert_eq!(
            Printer.parse(0x12),
            Ok(StatusReply::Printer(Connection::Online))
        );
        assert_eq!(
            Printer.parse(0x1A),
            Ok(StatusReply::Printer(Connection::Offline))
        );
        // Drawer pin (bit 2) does not make it offline.
        assert_eq!(
            Printer.parse(0x16),
            Ok(StatusReply::Printer(Connection::Online))
        );
        assert_eq!(
            OfflineCause.parse(0x16),
            Ok(StatusReply::OfflineCause {
                cover: Cover::Open,
                stopped_by_paper_end: false
            })
        );
        assert_eq!(
            OfflineCause.parse(0x32),
            Ok(StatusReply::OfflineCause {
                cover: Cover::Closed,
                stopped_by_paper_end: true
            })
        );
        assert_eq!(
            RollPaperSensor.parse(0x12),
            Ok(StatusReply::RollPaperSensor(Paper::Adequate))
        );
        assert_eq!(
            RollPaperSensor.parse(0x1E),
            Ok(StatusReply::RollPaperSensor(Paper::NearEnd))
        );
        assert_eq!(
            RollPaperSensor.parse(0x72),
            Ok(StatusReply::RollPaperSensor(Paper::Out))
        );
        assert_eq!(
            RollPaperSensor.parse(0x7E),
            Ok(StatusReply::RollPaperSensor(Paper::Out))
        );
        assert_eq!(Printer.parse(0x00), Err(StatusError { byte: 0x00 }));
        assert_eq!(Printer.parse(0x93), Err(StatusError { byte: 0x93 }));
    }

    #[test]
    fn reply_bytes_parse_back_to_the_state() {
        for cover in [Cover::Closed, Cover::Open] {
            for paper in [Paper::Adequate, Paper::NearEnd, Paper::Out] {
                let state = PrinterState::from_sensors(cover, paper);
                let StatusReply::Printer(connection) = StatusRequest::Printer
                    .parse(StatusRequest::Printer.reply_byte(&state))
                    .unwrap()
                else {
                    panic!("wrong reply kind")
                };
                let StatusReply::OfflineCause {
                    cover: read_cover,
                    stopped_by_paper_end,
                } = StatusRequest::OfflineCause
                    .parse(StatusRequest::OfflineCause.reply_byte(&state))
                    .unwrap()
                else {
                    panic!("wrong reply kind")
                };
                let StatusReply::RollPaperSensor(read_paper) = StatusRequest::RollPaperSensor
                    .parse(StatusRequest::RollPaperSensor.reply_byte(&state))
                    .unwrap()
                else {
                    panic!("wrong reply kind")
                };
                let read = PrinterState::from_replies(
                    connection,
                    read_cover,
                    stopped_by_paper_end,
                    read_paper,
                );
                assert_eq!(read, state);
                assert_eq!(
                    read.can_print(),
                    cover == Cover::Closed && paper != Paper::Out
                );
            }
        }
    }
}
