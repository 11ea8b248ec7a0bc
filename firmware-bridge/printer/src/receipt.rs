//! The receipt as plain data, its text layout, and its encoding to ESC/POS bytes (no I/O).

use crate::command::{self, CharacterSize, Justification, QrErrorCorrection};
use crate::money::{Millilitres, Won, vat_included};

/// Everything printed on one sale receipt. Plain data: the sale is already durable when a
/// receipt is made from it, so nothing here is validated against the domain again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Station name, printed as the bold double-size header.
    pub station_name: String,
    /// 사업자등록번호, e.g. `123-45-67890`.
    pub business_registration_number: String,
    /// Station address.
    pub address: String,
    /// Human-readable receipt number per station and business day.
    pub receipt_number: String,
    /// Local date and time of the sale, already formatted.
    pub date_time: String,
    /// The sold items.
    pub lines: Vec<ReceiptLine>,
    /// How the sale was paid.
    pub payment: Payment,
    /// The sale's globally unique id, carried by the QR code.
    pub sale_id: String,
}

/// One sold item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    /// Product name, e.g. `경유`.
    pub product_name: String,
    /// Volume dispensed.
    pub volume: Millilitres,
    /// Unit price in won per litre.
    pub unit_price: Won,
    /// Line amount in won (as settled by the sale, not recomputed here).
    pub amount: Won,
}

/// How the sale was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payment {
    /// Cash: the amount tendered and the change given.
    Cash {
        /// Cash handed over by the customer.
        tendered: Won,
        /// Change given back.
        change: Won,
    },
    /// Card, with the approval reference.
    Card {
        /// Card approval number.
        reference: String,
    },
    /// On a customer credit account (외상).
    Credit {
        /// Credit account identifier.
        account: String,
    },
}

/// Why a receipt could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The text has a character that KS C 5601 / EUC-KR cannot represent.
    #[error("text {text:?} has a character that EUC-KR cannot encode")]
    Unmappable {
        /// The offending text.
        text: String,
    },
    /// The text has a control character, which would be read as a printer command.
    #[error("text {text:?} contains a control character")]
    ControlCharacter {
        /// The offending text.
        text: String,
    },
    /// The sale id is too long for a QR code.
    #[error("QR payload of {length} bytes is longer than a QR code holds")]
    QrPayloadTooLong {
        /// Payload length in bytes.
        length: usize,
    },
}

/// The rule printed between sections; 42 columns is the width of 80 mm paper in font A.
pub const SEPARATOR: &str = "------------------------------------------";

/// QR module size in dots.
const QR_MODULE_DOTS: u8 = 6;
/// Lines fed after the QR code so the cut clears the printed text.
const FEED_BEFORE_CUT: u8 = 4;

impl Receipt {
    /// Sum of the line amounts (VAT included).
    #[must_use]
    pub fn total(&self) -> Won {
        Won(self.lines.iter().map(|line| line.amount.0).sum())
    }

    /// The body text, line by line, as it appears on paper below the header line.
    #[must_use]
    pub fn body_lines(&self) -> Vec<String> {
        let total = self.total();
        let mut lines = vec![
            format!("사업자번호 {}", self.business_registration_number),
            format!("주소 {}", self.address),
            format!("영수증번호 {}", self.receipt_number),
            format!("일시 {}", self.date_time),
            SEPARATOR.to_owned(),
        ];
        for line in &self.lines {
            lines.push(line.product_name.clone());
            lines.push(format!(
                "  {}L x {}원 = {}원",
                line.volume, line.unit_price, line.amount
            ));
        }
        lines.push(SEPARATOR.to_owned());
        lines.push(format!("합계 {total}원"));
        lines.push(format!("부가세(포함) {}원", vat_included(total)));
        match &self.payment {
            Payment::Cash { tendered, change } => {
                lines.push(format!("현금 {tendered}원"));
                lines.push(format!("거스름돈 {change}원"));
            }
            Payment::Card { reference } => lines.push(format!("카드 승인번호 {reference}")),
            Payment::Credit { account } => lines.push(format!("외상 계정 {account}")),
        }
        lines.push(SEPARATOR.to_owned());
        lines
    }

    /// All printed text lines, header first: what [`crate::decode_receipts`] gives back.
    #[must_use]
    pub fn printed_lines(&self) -> Vec<String> {
        let mut lines = vec![self.station_name.clone()];
        lines.extend(self.body_lines());
        lines
    }

    /// Encode as one ESC/POS job: initialise, Korean mode, header, body, QR code, feed, cut.
    ///
    /// # Errors
    /// [`EncodeError`] if a text cannot be printed in EUC-KR or the sale id is too long.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(1024);
        out.extend(command::initialize());
        out.extend(command::select_international_character_set(
            command::KOREA_CHARACTER_SET,
        ));
        out.extend(command::select_korean_mode());

        out.extend(command::select_justification(Justification::Centre));
        out.extend(command::emphasized(true));
        out.extend(command::select_character_size(CharacterSize::Double));
        push_text_line(&mut out, &self.station_name)?;
        out.extend(command::select_character_size(CharacterSize::Normal));
        out.extend(command::emphasized(false));
        out.extend(command::select_justification(Justification::Left));

        for line in self.body_lines() {
            push_text_line(&mut out, &line)?;
        }

        let payload = self.sale_id.as_bytes();
        let store = command::qr_store(payload).ok_or(EncodeError::QrPayloadTooLong {
            length: payload.len(),
        })?;
        out.extend(command::select_justification(Justification::Centre));
        out.extend(command::qr_select_model_2());
        out.extend(command::qr_module_size(QR_MODULE_DOTS));
        out.extend(command::qr_error_correction(QrErrorCorrection::M));
        out.extend(store);
        out.extend(command::qr_print());
        out.extend(command::select_justification(Justification::Left));

        out.extend(command::print_and_feed_lines(FEED_BEFORE_CUT));
        out.extend(command::cut());
        Ok(out)
    }
}

/// Append `text` in EUC-KR followed by `LF`.
fn push_text_line(out: &mut Vec<u8>, text: &str) -> Result<(), EncodeError> {
    if text.chars().any(char::is_control) {
        return Err(EncodeError::ControlCharacter {
            text: text.to_owned(),
        });
    }
    let (bytes, _, had_unmappable) = encoding_rs::EUC_KR.encode(text);
    if had_unmappable {
        return Err(EncodeError::Unmappable {
            text: text.to_owned(),
        });
    }
    out.extend_from_slice(&bytes);
    out.push(command::LINE_FEED);
    Ok(())
}
