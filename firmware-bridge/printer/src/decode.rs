//! Decoder of the ESC/POS subset this crate emits, back into printed text lines, the QR payload
//! and whether the paper was cut. Used by tests and by the printer simulator; no I/O.

use crate::command::{DLE, EOT, ESC, FS, GS, LINE_FEED};

/// One receipt as it came out of the printer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedReceipt {
    /// Printed text lines, in order.
    pub lines: Vec<String>,
    /// Payload of the last QR code printed, if any.
    pub qr_payload: Option<String>,
    /// Whether the receipt ended with a cut.
    pub cut: bool,
}

/// What the byte stream asked of the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecoderEvent {
    /// `DLE EOT n`: the host wants real-time status `n`.
    StatusRequested(u8),
    /// A receipt was finished by a cut.
    Receipt(DecodedReceipt),
}

/// Why a byte stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A command this decoder does not know.
    #[error("unknown command {bytes:02X?}")]
    UnknownCommand {
        /// The first bytes of the command.
        bytes: Vec<u8>,
    },
    /// A byte ≥ 0x80 outside Korean (Kanji) mode.
    #[error("byte 0x{byte:02X} outside Korean mode")]
    NonAsciiOutsideKoreanMode {
        /// The byte.
        byte: u8,
    },
    /// Bytes in Korean mode that are not KS X 1001 characters in EUC-KR.
    #[error("invalid EUC-KR (KS X 1001) text {bytes:02X?}")]
    InvalidKoreanText {
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A QR payload that is not UTF-8.
    #[error("QR payload is not UTF-8")]
    InvalidQrPayload,
    /// The input ended in the middle of a command or character.
    #[error("input ends inside a command")]
    Truncated,
}

/// Decode a complete byte stream into receipts. Content after the last cut becomes a final
/// receipt with `cut == false`; status requests are ignored.
///
/// # Errors
/// [`DecodeError`] on bytes this decoder does not understand.
pub fn decode_receipts(bytes: &[u8]) -> Result<Vec<DecodedReceipt>, DecodeError> {
    let mut decoder = StreamDecoder::default();
    let mut receipts: Vec<DecodedReceipt> = decoder
        .push(bytes)?
        .into_iter()
        .filter_map(|event| match event {
            DecoderEvent::Receipt(receipt) => Some(receipt),
            DecoderEvent::StatusRequested(_) => None,
        })
        .collect();
    if !decoder.pending.is_empty() {
        return Err(DecodeError::Truncated);
    }
    if let Some(rest) = decoder.finish_uncut() {
        receipts.push(rest);
    }
    Ok(receipts)
}

/// Incremental decoder: feed bytes as they arrive; a command split across reads waits for
/// the rest.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    pending: Vec<u8>,
    korean_mode: bool,
    line: String,
    receipt: DecodedReceipt,
    qr_store: Option<String>,
}

impl StreamDecoder {
    /// Feed bytes; returns the status requests and finished receipts, in stream order.
    ///
    /// # Errors
    /// [`DecodeError`]; the decoder is then reset and may be fed again.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<DecoderEvent>, DecodeError> {
        self.pending.extend_from_slice(bytes);
        let pending = std::mem::take(&mut self.pending);
        let mut events = Vec::new();
        let mut position = 0;
        loop {
            match self.step(&pending[position..], &mut events) {
                Ok(Some(consumed)) => position += consumed,
                Ok(None) => break,
                Err(error) => {
                    *self = Self::default();
                    return Err(error);
                }
            }
        }
        self.pending = pending[position..].to_vec();
        Ok(events)
    }

    /// Decode one command or text run at the start of `input`; `None` if more bytes are needed.
    fn step(
        &mut self,
        input: &[u8],
        events: &mut Vec<DecoderEvent>,
    ) -> Result<Option<usize>, DecodeError> {
        let Some(&first) = input.first() else {
            return Ok(None);
        };
        let need = |count: usize| input.len() >= count;
        match first {
            LINE_FEED => {
                let line = std::mem::take(&mut self.line);
                self.receipt.lines.push(line);
                Ok(Some(1))
            }
            ESC => {
                if !need(2) {
                    return Ok(None);
                }
                match input[1] {
                    // ESC @ initialize: modes back to defaults, print buffer cleared.
                    b'@' => {
                        self.korean_mode = false;
                        self.line.clear();
                        Ok(Some(2))
                    }
                    // ESC R n, ESC a n, ESC E n: character set, justification, emphasis.
                    b'R' | b'a' | b'E' => Ok(need(3).then_some(3)),
                    // ESC d n: print the buffer and feed n lines (feeds carry no text).
                    b'd' => {
                        if !need(3) {
                            return Ok(None);
                        }
                        self.flush_line();
                        Ok(Some(3))
                    }
                    other => Err(DecodeError::UnknownCommand {
                        bytes: vec![ESC, other],
                    }),
                }
            }
            FS => {
                if !need(2) {
                    return Ok(None);
                }
                match input[1] {
                    b'&' => self.korean_mode = true,
                    b'.' => self.korean_mode = false,
                    other => {
                        return Err(DecodeError::UnknownCommand {
                            bytes: vec![FS, other],
                        });
                    }
                }
                Ok(Some(2))
            }
            GS => {
                if !need(2) {
                    return Ok(None);
                }
                match input[1] {
                    // GS ! n: character size.
                    b'!' => Ok(need(3).then_some(3)),
                    b'V' => self.cut(input, events),
                    b'(' => self.two_dimensional_code(input),
                    other => Err(DecodeError::UnknownCommand {
                        bytes: vec![GS, other],
                    }),
                }
            }
            DLE => {
                if !need(3) {
                    return Ok(None);
                }
                if input[1] != EOT {
                    return Err(DecodeError::UnknownCommand {
                        bytes: input[..2].to_vec(),
                    });
                }
                events.push(DecoderEvent::StatusRequested(input[2]));
                Ok(Some(3))
            }
            byte if byte < 0x20 || byte == 0x7F => {
                Err(DecodeError::UnknownCommand { bytes: vec![byte] })
            }
            _ => self.text(input),
        }
    }

    /// `GS V m` (m = 0, 1, 48, 49) or `GS V m n` (m = 65, 66): cut, ending the receipt.
    fn cut(
        &mut self,
        input: &[u8],
        events: &mut Vec<DecoderEvent>,
    ) -> Result<Option<usize>, DecodeError> {
        let Some(&mode) = input.get(2) else {
            return Ok(None);
        };
        let length = match mode {
            0 | 1 | 48 | 49 => 3,
            65 | 66 => 4,
            other => {
                return Err(DecodeError::UnknownCommand {
                    bytes: vec![GS, b'V', other],
                });
            }
        };
        if input.len() < length {
            return Ok(None);
        }
        self.flush_line();
        let mut receipt = std::mem::take(&mut self.receipt);
        receipt.cut = true;
        events.push(DecoderEvent::Receipt(receipt));
        Ok(Some(length))
    }

    /// `GS ( k pL pH cn fn ...`: QR code functions 165, 167, 169 (settings), 180 (store),
    /// 181 (print).
    fn two_dimensional_code(&mut self, input: &[u8]) -> Result<Option<usize>, DecodeError> {
        if input.len() < 5 {
            return Ok(None);
        }
        if input[2] != b'k' {
            return Err(DecodeError::UnknownCommand {
                bytes: input[..3].to_vec(),
            });
        }
        let parameters = usize::from(u16::from_le_bytes([input[3], input[4]]));
        let length = 5 + parameters;
        if input.len() < length {
            return Ok(None);
        }
        let body = &input[5..length];
        match body {
            [49, 65 | 67 | 69, ..] => {}
            [49, 80, 48, data @ ..] => {
                let text =
                    String::from_utf8(data.to_vec()).map_err(|_| DecodeError::InvalidQrPayload)?;
                self.qr_store = Some(text);
            }
            [49, 81, 48] => self.receipt.qr_payload.clone_from(&self.qr_store),
            _ => {
                return Err(DecodeError::UnknownCommand {
                    bytes: input[..length.min(8)].to_vec(),
                });
            }
        }
        Ok(Some(length))
    }

    /// A run of printable bytes up to the next control byte.
    fn text(&mut self, input: &[u8]) -> Result<Option<usize>, DecodeError> {
        let mut end = 0;
        while end < input.len() {
            let byte = input[end];
            if byte < 0x20 || byte == 0x7F {
                break;
            }
            if byte >= 0x80 {
                if !self.korean_mode {
                    return Err(DecodeError::NonAsciiOutsideKoreanMode { byte });
                }
                let Some(&trail) = input.get(end + 1) else {
                    if crate::text::is_ks_x_1001_pair(byte, 0xA1) {
                        break; // wait for the trail byte
                    }
                    return Err(DecodeError::InvalidKoreanText { bytes: vec![byte] });
                };
                // KS C 5601 mode reads only KS X 1001 pairs; Windows-949 extensions are other
                // characters to the printer.
                if !crate::text::is_ks_x_1001_pair(byte, trail) {
                    return Err(DecodeError::InvalidKoreanText {
                        bytes: vec![byte, trail],
                    });
                }
                end += 2;
            } else {
                end += 1;
            }
        }
        if end == 0 {
            return Ok(None);
        }
        let run = &input[..end];
        let text = encoding_rs::EUC_KR
            .decode_without_bom_handling_and_without_replacement(run)
            .ok_or_else(|| DecodeError::InvalidKoreanText {
                bytes: run.to_vec(),
            })?;
        self.line.push_str(&text);
        Ok(Some(end))
    }

    fn flush_line(&mut self) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.receipt.lines.push(line);
        }
    }

    /// The receipt in progress, if anything was printed since the last cut.
    fn finish_uncut(&mut self) -> Option<DecodedReceipt> {
        self.flush_line();
        let receipt = std::mem::take(&mut self.receipt);
        (receipt != DecodedReceipt::default()).then_some(receipt)
    }
}
