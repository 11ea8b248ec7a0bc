//! DART line-level frames: what one block on the bus looks like, and how to find blocks in a
//! byte stream that may be split across reads or preceded by noise.
//!
//! Two shapes exist (DART line-level specification):
//!
//! ```text
//! control block:  ADR CTRL SF
//! data block:     ADR CTRL DATA… CRC-1 CRC-2 ETX SF
//! ```
//!
//! ADR is the pump address (50H–6FH) in both directions. CTRL is a block type in the high nibble
//! and the block sequence number TX# in the low nibble. SF (FAH) ends every block; so that it
//! cannot appear inside one, every FAH in the data or CRC is sent preceded by DLE (10H), and the
//! inserted DLEs are not part of the CRC. A DLE not followed by FAH is an ordinary data byte.

use std::fmt;

use thiserror::Error;

use super::crc::crc16;

/// End of a block.
pub const SF: u8 = 0xFA;
/// Inserted before an SF byte inside data or CRC.
pub const DLE: u8 = 0x10;
/// Ends the data part of a data block, right before SF.
pub const ETX: u8 = 0x03;

/// The largest block, all control characters included but before DLE stuffing (line-level
/// specification: 256). Whether stuffing counts is not stated; we assume not.
pub const MAX_BLOCK: usize = 256;
/// The largest data part of a data block: the block minus ADR, CTRL, CRC-1, CRC-2, ETX and SF.
pub const MAX_PAYLOAD: usize = MAX_BLOCK - 6;

/// Bytes the decoder holds while looking for the end of a block. A stuffed maximal block is at
/// most twice [`MAX_BLOCK`]; anything longer is noise, and holding it would let a babbling line
/// grow memory without bound.
const MAX_PENDING: usize = 2 * MAX_BLOCK + 8;

/// The address of a pump on a DART bus: 50H to 6FH, so up to 32 pumps (fuelling points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PumpAddress(u8);

impl PumpAddress {
    /// Lowest pump address.
    pub const FIRST: u8 = 0x50;
    /// Highest pump address.
    pub const LAST: u8 = 0x6F;

    /// Checks that `address` is in the pump range.
    ///
    /// # Errors
    /// [`FrameError::NotAPumpAddress`] outside 50H–6FH.
    pub const fn new(address: u8) -> Result<Self, FrameError> {
        if address >= Self::FIRST && address <= Self::LAST {
            Ok(Self(address))
        } else {
            Err(FrameError::NotAPumpAddress { address })
        }
    }

    /// The address byte as sent on the wire.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for PumpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}H", self.0)
    }
}

/// The block sequence number TX#, 0 to 15.
///
/// The line specification: TX# starts at 0 after a protocol restart and goes up by one for every
/// data block successfully sent; after FH it continues at 1, so 0 only ever means "just
/// restarted". The acknowledgement of a data block carries that block's TX#.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxSeq(u8);

impl TxSeq {
    /// The sequence number after a restart.
    pub const INITIAL: Self = Self(0);

    /// A sequence number from a nibble; `None` above 15.
    #[must_use]
    pub const fn new(value: u8) -> Option<Self> {
        if value <= 0x0F {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The nibble.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The number of the next data block: one more, wrapping from FH to 1.
    #[must_use]
    pub const fn next(self) -> Self {
        if self.0 >= 0x0F {
            Self(1)
        } else {
            Self(self.0 + 1)
        }
    }

    const fn from_control(control: u8) -> Self {
        Self(control & 0x0F)
    }
}

/// What a block says, by its CTRL byte (line-level specification, control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameKind {
    /// 20H, master → pump: "send me what you have".
    Poll,
    /// 3xH: a data block holding application transactions.
    Data {
        /// TX# of this block.
        seq: TxSeq,
        /// The transactions, unstuffed, without CRC.
        payload: Vec<u8>,
    },
    /// CxH: the data block with this TX# was received.
    Ack(TxSeq),
    /// 5xH: the data block was not accepted; send it again.
    Nak(TxSeq),
    /// 7xH, pump → master: answer to a poll when the pump has nothing to send.
    Eot(TxSeq),
    /// ExH, master → pump: acknowledges the pump's data block and polls again at once.
    AckPoll(TxSeq),
}

impl FrameKind {
    fn control(&self) -> u8 {
        match self {
            Self::Poll => 0x20,
            Self::Data { seq, .. } => 0x30 | seq.get(),
            Self::Ack(seq) => 0xC0 | seq.get(),
            Self::Nak(seq) => 0x50 | seq.get(),
            Self::Eot(seq) => 0x70 | seq.get(),
            Self::AckPoll(seq) => 0xE0 | seq.get(),
        }
    }

    /// The control block meant by `control`, if it is one. POLL is the fixed value 20H.
    fn control_block(control: u8) -> Option<Self> {
        let seq = TxSeq::from_control(control);
        match control & 0xF0 {
            0x20 if control == 0x20 => Some(Self::Poll),
            0xC0 => Some(Self::Ack(seq)),
            0x50 => Some(Self::Nak(seq)),
            0x70 => Some(Self::Eot(seq)),
            0xE0 => Some(Self::AckPoll(seq)),
            _ => None,
        }
    }

    const fn is_data_control(control: u8) -> bool {
        control & 0xF0 == 0x30
    }
}

/// One line-level block addressed to or sent by one pump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    address: PumpAddress,
    kind: FrameKind,
}

impl Frame {
    /// A block of any kind.
    ///
    /// # Errors
    /// [`FrameError::PayloadTooLong`] if a data payload exceeds [`MAX_PAYLOAD`].
    pub fn new(address: PumpAddress, kind: FrameKind) -> Result<Self, FrameError> {
        if let FrameKind::Data { payload, .. } = &kind
            && payload.len() > MAX_PAYLOAD
        {
            return Err(FrameError::PayloadTooLong {
                length: payload.len(),
            });
        }
        Ok(Self { address, kind })
    }

    /// A POLL to `address`.
    #[must_use]
    pub const fn poll(address: PumpAddress) -> Self {
        Self {
            address,
            kind: FrameKind::Poll,
        }
    }

    /// An ACK to `address` for the data block numbered `seq`.
    #[must_use]
    pub const fn ack(address: PumpAddress, seq: TxSeq) -> Self {
        Self {
            address,
            kind: FrameKind::Ack(seq),
        }
    }

    /// A data block.
    ///
    /// # Errors
    /// [`FrameError::PayloadTooLong`] if `payload` exceeds [`MAX_PAYLOAD`].
    pub fn data(address: PumpAddress, seq: TxSeq, payload: Vec<u8>) -> Result<Self, FrameError> {
        Self::new(address, FrameKind::Data { seq, payload })
    }

    /// The pump this block is to or from.
    #[must_use]
    pub const fn address(&self) -> PumpAddress {
        self.address
    }

    /// What the block says.
    #[must_use]
    pub const fn kind(&self) -> &FrameKind {
        &self.kind
    }

    /// Takes the block apart.
    #[must_use]
    pub fn into_kind(self) -> FrameKind {
        self.kind
    }

    /// The bytes to put on the wire, stuffed and terminated.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let control = self.kind.control();
        let FrameKind::Data { payload, .. } = &self.kind else {
            return vec![self.address.get(), control, SF];
        };
        let mut unstuffed = Vec::with_capacity(payload.len() + 4);
        unstuffed.push(self.address.get());
        unstuffed.push(control);
        unstuffed.extend_from_slice(payload);
        let crc = crc16(&unstuffed);
        unstuffed.extend_from_slice(&crc.to_le_bytes());

        let mut wire = Vec::with_capacity(unstuffed.len() + 8);
        for &byte in &unstuffed {
            if byte == SF {
                wire.push(DLE);
            }
            wire.push(byte);
        }
        wire.push(ETX);
        wire.push(SF);
        wire
    }
}

/// Why bytes on the line did not make a block. Every error consumes the bytes it is about, so
/// the decoder is in step again for the next block.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The address byte is outside the pump range 50H–6FH.
    #[error("address {address:02X}H is not a pump address (50H-6FH)")]
    NotAPumpAddress {
        /// The byte received or asked for.
        address: u8,
    },
    /// A data payload longer than a block can carry.
    #[error("data block payload of {length} bytes exceeds the maximum of {MAX_PAYLOAD}")]
    PayloadTooLong {
        /// Length asked for or received.
        length: usize,
    },
    /// A data block whose CRC does not match its content: corrupted on the line.
    #[error(
        "data block from {address:02X}H has CRC {received:04X}H but its content gives {computed:04X}H"
    )]
    BadCrc {
        /// Address byte of the damaged block.
        address: u8,
        /// CRC carried by the block.
        received: u16,
        /// CRC computed over the block.
        computed: u16,
    },
    /// A block from a pump address with a control byte DART does not define.
    #[error("unknown control byte {control:02X}H")]
    UnknownControl {
        /// The control byte.
        control: u8,
    },
    /// Bytes ending in SF that are no block at all: line noise or a block cut short.
    #[error("{discarded} bytes on the line did not form a block")]
    Garbage {
        /// How many bytes were thrown away.
        discarded: usize,
    },
}

impl FrameError {
    /// A stable code for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotAPumpAddress { .. } => "dart.not_a_pump_address",
            Self::PayloadTooLong { .. } => "dart.payload_too_long",
            Self::BadCrc { .. } => "dart.bad_crc",
            Self::UnknownControl { .. } => "dart.unknown_control",
            Self::Garbage { .. } => "dart.garbage",
        }
    }
}

/// Finds blocks in a byte stream, however the stream is cut into reads.
///
/// Push bytes as they arrive, then take blocks (or errors) out until there are none. Bytes before
/// a good block are noise and are skipped; [`FrameDecoder::discarded`] counts them for the
/// line-quality metrics.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    pending: Vec<u8>,
    /// How far `pending` has been searched for a terminating SF.
    searched: usize,
    discarded: u64,
    /// What the last block or error returned cost: noise skipped, or the bytes of the error.
    rejected: Vec<u8>,
}

impl FrameDecoder {
    /// An empty decoder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the line.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Bytes skipped as noise so far (bytes reported in errors included).
    #[must_use]
    pub const fn discarded(&self) -> u64 {
        self.discarded
    }

    /// The bytes thrown away on the way to what [`FrameDecoder::next_frame`] returned last:
    /// the noise skipped before a block, or every byte of a block it could not read, as they
    /// came off the line (DLE stuffing included). Empty when nothing was thrown away.
    #[must_use]
    pub fn rejected(&self) -> &[u8] {
        &self.rejected
    }

    /// Forgets any partial block, for instance when the line was reopened.
    pub fn clear(&mut self) {
        self.pending.clear();
        self.searched = 0;
    }

    /// The next block found in the bytes pushed so far, or an error for bytes that form none;
    /// `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        let Some(end) = self.find_terminator() else {
            self.searched = self.pending.len();
            if self.pending.len() > MAX_PENDING {
                let discarded = self.pending.len();
                self.count_discarded(discarded);
                self.rejected = std::mem::take(&mut self.pending);
                self.clear();
                return Some(Err(FrameError::Garbage { discarded }));
            }
            return None;
        };
        let mut block: Vec<u8> = self.pending.drain(..=end).collect();
        self.searched = 0;
        let raw = block.get(..end).unwrap_or_default();
        let (skipped, result) = parse_block(raw);
        let discarded = match &result {
            Ok(_) => skipped,
            Err(_) => block.len(),
        };
        self.count_discarded(discarded);
        block.truncate(discarded);
        self.rejected = block;
        Some(result)
    }

    fn count_discarded(&mut self, bytes: usize) {
        self.discarded = self
            .discarded
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
    }

    /// Index of the first SF that is not stuffed (not preceded by DLE).
    fn find_terminator(&self) -> Option<usize> {
        let from = self.searched;
        self.pending
            .iter()
            .enumerate()
            .skip(from)
            .find(|&(index, &byte)| {
                byte == SF && (index == 0 || self.pending.get(index - 1) != Some(&DLE))
            })
            .map(|(index, _)| index)
    }
}

/// Parses the bytes before a terminating SF. Returns how many leading bytes were noise, and the
/// block or the error.
fn parse_block(raw: &[u8]) -> (usize, Result<Frame, FrameError>) {
    let garbage = || FrameError::Garbage {
        discarded: raw.len() + 1,
    };
    // A control block is the last two bytes: its CTRL is never ETX, so it cannot be mistaken for
    // the tail of a data block.
    if let [head @ .., address, control] = raw
        && *control != ETX
    {
        let Ok(address) = PumpAddress::new(*address) else {
            return (0, Err(garbage()));
        };
        return match FrameKind::control_block(*control) {
            Some(kind) => (head.len(), Ok(Frame { address, kind })),
            None => (0, Err(FrameError::UnknownControl { control: *control })),
        };
    }
    let Some((&ETX, body)) = raw.split_last() else {
        return (0, Err(garbage()));
    };
    // A data block starts at a pump address followed by a data CTRL; noise before it may hold
    // bytes that look like one, so try every such start and keep the first whose CRC holds.
    let mut first_failure = None;
    for start in 0..body.len() {
        let (Some(&address), Some(&control)) = (body.get(start), body.get(start + 1)) else {
            break;
        };
        if PumpAddress::new(address).is_err() || !FrameKind::is_data_control(control) {
            continue;
        }
        let unstuffed = unstuff(body.get(start..).unwrap_or_default());
        match check_data_block(&unstuffed) {
            Ok(frame) => return (start, Ok(frame)),
            Err(error @ FrameError::BadCrc { .. }) => {
                first_failure.get_or_insert(error);
            }
            Err(_) => {}
        }
    }
    (0, Err(first_failure.unwrap_or_else(garbage)))
}

/// Removes the DLE inserted before each stuffed SF.
fn unstuff(stuffed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stuffed.len());
    let mut bytes = stuffed.iter().peekable();
    while let Some(&byte) = bytes.next() {
        if byte == DLE && bytes.peek() == Some(&&SF) {
            continue;
        }
        out.push(byte);
    }
    out
}

/// Checks the CRC of an unstuffed `ADR CTRL DATA… CRC-1 CRC-2` and builds the block.
fn check_data_block(unstuffed: &[u8]) -> Result<Frame, FrameError> {
    let [address, control, rest @ ..] = unstuffed else {
        return Err(FrameError::Garbage {
            discarded: unstuffed.len(),
        });
    };
    let [payload @ .., crc_low, crc_high] = rest else {
        return Err(FrameError::Garbage {
            discarded: unstuffed.len(),
        });
    };
    let covered = unstuffed.get(..unstuffed.len() - 2).unwrap_or_default();
    let computed = crc16(covered);
    let received = u16::from_le_bytes([*crc_low, *crc_high]);
    if computed != received {
        return Err(FrameError::BadCrc {
            address: *address,
            received,
            computed,
        });
    }
    Frame::data(
        PumpAddress::new(*address)?,
        TxSeq::from_control(*control),
        payload.to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pump(address: u8) -> PumpAddress {
        PumpAddress::new(address).unwrap()
    }

    fn seq(value: u8) -> TxSeq {
        TxSeq::new(value).unwrap()
    }

    fn decode_all(decoder: &mut FrameDecoder) -> Vec<Result<Frame, FrameError>> {
        std::iter::from_fn(|| decoder.next_frame()).collect()
    }

    fn decode_bytes(bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        let mut decoder = FrameDecoder::new();
        decoder.push(bytes);
        decode_all(&mut decoder)
    }

    // Control blocks as the line specification lists them and as they
    // appear in captured traffic: POLL 50 20 FA, ACK 50 C5 FA, NAK 53 54 FA.
    #[test]
    fn control_blocks_encode_to_three_bytes() {
        assert_eq!(Frame::poll(pump(0x50)).encode(), [0x50, 0x20, 0xFA]);
        assert_eq!(Frame::ack(pump(0x50), seq(5)).encode(), [0x50, 0xC5, 0xFA]);
        let cases = [
            (FrameKind::Nak(seq(4)), 0x54),
            (FrameKind::Eot(seq(0xE)), 0x7E),
            (FrameKind::AckPoll(seq(1)), 0xE1),
        ];
        for (kind, control) in cases {
            let frame = Frame::new(pump(0x53), kind).unwrap();
            assert_eq!(frame.encode(), [0x53, control, 0xFA]);
        }
    }

    /// Captured: the controller authorizes pump 51H: `51 36 01 01 06 22 16 03 FA`.
    #[test]
    fn data_block_matches_captured_authorize() {
        let frame = Frame::data(pump(0x51), seq(6), vec![0x01, 0x01, 0x06]).unwrap();
        let wire = [0x51, 0x36, 0x01, 0x01, 0x06, 0x22, 0x16, 0x03, 0xFA];
        assert_eq!(frame.encode(), wire);
        assert_eq!(decode_bytes(&wire), [Ok(frame)]);
    }

    /// Captured: pump 51H reports status, price/nozzle, volume/amount and price/nozzle again in
    /// one block: `51 31 01 01 04 03 04 00 81 23 11 02 08 … 83 55 03 FA`.
    #[test]
    fn decodes_captured_multi_transaction_block() {
        let wire = [
            0x51, 0x31, 0x01, 0x01, 0x04, 0x03, 0x04, 0x00, 0x81, 0x23, 0x11, 0x02, 0x08, 0x00,
            0x00, 0x04, 0x28, 0x00, 0x00, 0x34, 0x77, 0x03, 0x04, 0x00, 0x81, 0x23, 0x11, 0x83,
            0x55, 0x03, 0xFA,
        ];
        let frames = decode_bytes(&wire);
        let [Ok(frame)] = frames.as_slice() else {
            panic!("{frames:?}");
        };
        assert_eq!(frame.address(), pump(0x51));
        let FrameKind::Data { seq: tx, payload } = frame.kind() else {
            panic!("{frame:?}");
        };
        assert_eq!(*tx, seq(1));
        assert_eq!(payload.len(), 25);
        assert_eq!(frame.encode(), wire);
    }

    #[test]
    fn stuffs_sf_in_data_and_crc_and_round_trips() {
        // 0xFA in the payload, plus a literal DLE right before it.
        let frame = Frame::data(pump(0x50), seq(2), vec![0x01, 0x10, 0xFA, 0xFA, 0x00]).unwrap();
        let wire = frame.encode();
        let body = &wire[..wire.len() - 2];
        for (index, &byte) in body.iter().enumerate() {
            if byte == SF {
                assert_eq!(
                    body[index - 1],
                    DLE,
                    "unstuffed SF at {index} in {wire:02X?}"
                );
            }
        }
        assert_eq!(decode_bytes(&wire), [Ok(frame)]);

        // Find a payload whose CRC contains 0xFA, to cover stuffing of the CRC bytes.
        let byte = (0u8..=255)
            .find(|&byte| {
                crc16(&[0x52, 0x31, 0x01, 0x01, byte])
                    .to_le_bytes()
                    .contains(&SF)
            })
            .unwrap();
        let with_sf_in_crc = Frame::data(pump(0x52), seq(1), vec![0x01, 0x01, byte]).unwrap();
        assert_eq!(decode_bytes(&with_sf_in_crc.encode()), [Ok(with_sf_in_crc)]);
    }

    #[test]
    fn decodes_a_block_split_at_every_byte() {
        let frame = Frame::data(
            pump(0x6F),
            seq(0xF),
            vec![0x02, 0x08, 0xFA, 0, 0, 1, 0, 0, 0x10, 0xFA],
        )
        .unwrap();
        let wire = frame.encode();
        for cut in 0..=wire.len() {
            let mut decoder = FrameDecoder::new();
            decoder.push(&wire[..cut]);
            let early = decode_all(&mut decoder);
            decoder.push(&wire[cut..]);
            let late = decode_all(&mut decoder);
            assert_eq!(
                [early, late].concat(),
                [Ok(frame.clone())],
                "split at {cut}"
            );
        }
        // One byte at a time.
        let mut decoder = FrameDecoder::new();
        let mut found = Vec::new();
        for byte in &wire {
            decoder.push(std::slice::from_ref(byte));
            found.extend(decode_all(&mut decoder));
        }
        assert_eq!(found, [Ok(frame)]);
    }

    #[test]
    fn skips_noise_before_a_block() {
        let frame = Frame::data(pump(0x51), seq(6), vec![0x01, 0x01, 0x06]).unwrap();
        // Noise that even looks like the start of a data block (51 33 …).
        let noise = [0x00, 0xFF, 0x51, 0x33, 0x7F];
        let wire = [&noise[..], &frame.encode()].concat();
        let mut decoder = FrameDecoder::new();
        decoder.push(&wire);
        assert_eq!(decode_all(&mut decoder), [Ok(frame)]);
        assert_eq!(decoder.discarded(), 5);

        let poll = [0x13, 0x37, 0x50, 0x20, 0xFA];
        assert_eq!(decode_bytes(&poll), [Ok(Frame::poll(pump(0x50)))]);
    }

    /// What the decoder threw away is kept for the caller to log: the noise before a block, or
    /// every byte of a block it could not read.
    #[test]
    fn keeps_the_bytes_it_throws_away() {
        let frame = Frame::data(pump(0x51), seq(6), vec![0x01, 0x01, 0x06]).unwrap();
        let noise = [0x00, 0xFF, 0x51, 0x33, 0x7F];
        let junk = [0x01, 0x02, 0xFA];
        let wire = [
            &noise[..],
            &frame.encode(),
            &junk,
            &Frame::poll(pump(0x50)).encode(),
        ]
        .concat();
        let mut decoder = FrameDecoder::new();
        decoder.push(&wire);
        assert_eq!(decoder.next_frame(), Some(Ok(frame)));
        assert_eq!(decoder.rejected(), noise);
        assert_eq!(
            decoder.next_frame(),
            Some(Err(FrameError::Garbage { discarded: 3 }))
        );
        assert_eq!(decoder.rejected(), junk);
        assert_eq!(decoder.next_frame(), Some(Ok(Frame::poll(pump(0x50)))));
        assert_eq!(decoder.rejected(), [0u8; 0]);

        decoder.push(&[0x00; 600]);
        assert_eq!(
            decoder.next_frame(),
            Some(Err(FrameError::Garbage { discarded: 600 }))
        );
        assert_eq!(decoder.rejected(), [0x00; 600]);
    }

    #[test]
    fn bad_crc_is_reported_then_the_next_block_decodes() {
        let good = Frame::data(pump(0x51), seq(6), vec![0x01, 0x01, 0x06]).unwrap();
        let mut damaged = good.encode();
        damaged[4] = 0x07; // AUTHORIZE became something else on the line.
        let wire = [damaged, good.encode(), Frame::poll(pump(0x52)).encode()].concat();
        let frames = decode_bytes(&wire);
        assert_eq!(
            frames,
            [
                Err(FrameError::BadCrc {
                    address: 0x51,
                    received: 0x1622,
                    computed: crc16(&[0x51, 0x36, 0x01, 0x01, 0x07]),
                }),
                Ok(good),
                Ok(Frame::poll(pump(0x52))),
            ]
        );
        assert_eq!(frames[0].as_ref().unwrap_err().code(), "dart.bad_crc");
    }

    #[test]
    fn reports_noise_unknown_controls_and_foreign_addresses() {
        assert_eq!(
            decode_bytes(&[0x01, 0x02, 0xFA]),
            [Err(FrameError::Garbage { discarded: 3 })]
        );
        assert_eq!(
            decode_bytes(&[0x50, 0x99, 0xFA]),
            [Err(FrameError::UnknownControl { control: 0x99 })]
        );
        assert_eq!(
            decode_bytes(&[0xFA]),
            [Err(FrameError::Garbage { discarded: 1 })]
        );
        // A data block cut short: ETX SF with no room for ADR CTRL CRC.
        assert_eq!(
            decode_bytes(&[0x50, 0x31, 0x03, 0xFA]),
            [Err(FrameError::Garbage { discarded: 4 })]
        );
    }

    #[test]
    fn a_babbling_line_does_not_grow_memory() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&[0x00; 600]);
        assert_eq!(
            decode_all(&mut decoder),
            [Err(FrameError::Garbage { discarded: 600 })]
        );
        decoder.push(&Frame::poll(pump(0x50)).encode());
        assert_eq!(decode_all(&mut decoder), [Ok(Frame::poll(pump(0x50)))]);
    }

    #[test]
    fn limits_and_sequence_numbers() {
        assert!(PumpAddress::new(0x4F).is_err());
        assert!(PumpAddress::new(0x70).is_err());
        assert_eq!(pump(0x6F).to_string(), "6FH");
        assert_eq!(
            Frame::data(pump(0x50), seq(1), vec![0; MAX_PAYLOAD + 1]),
            Err(FrameError::PayloadTooLong {
                length: MAX_PAYLOAD + 1
            })
        );
        assert!(Frame::data(pump(0x50), seq(1), vec![0; MAX_PAYLOAD]).is_ok());
        assert_eq!(TxSeq::INITIAL.next(), seq(1));
        assert_eq!(seq(0xE).next(), seq(0xF));
        assert_eq!(seq(0xF).next(), seq(1), "after FH comes 1, not 0");
        assert_eq!(TxSeq::new(16), None);
    }
}
