//! The receipt as plain data, its text layout, and its encoding to ESC/POS bytes (no I/O).

use crate::command::{self, CharacterSize, Justification, QrErrorCorrection};
use crate::money::{Millilitres, Won, vat_included};
use crate::text::{self, Unprintable, UnprintableCharacter};

/// Everything printed on one sale receipt. Plain data: the sale is already durable when a
/// receipt is made from it, so nothing here is validated against the domain again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Station name, printed as the bold double-size header.
    pub station_name: String,
    /// What this paper is, when it is not a plain original, printed under the header.
    pub notices: Vec<Notice>,
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

/// A mark printed under the header of a receipt that is not a plain original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The sale was canceled: this receipt proves no payment (취소).
    Canceled,
    /// The sale's receipt printed again, the `n`th time (재발행 n).
    Reprint(u32),
    /// A fallback copy: the characters the printer cannot print are replaced by `?` (대체 인쇄).
    Replaced,
}

impl Notice {
    /// The line printed for it.
    #[must_use]
    pub fn text(self) -> String {
        match self {
            Notice::Canceled => "*** 취소 ***".to_owned(),
            Notice::Reprint(n) => format!("*** 재발행 {n} ***"),
            Notice::Replaced => "*** 대체 인쇄: ? = 인쇄 불가 문자 ***".to_owned(),
        }
    }
}

/// Why a receipt could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A text has a character that KS X 1001 (the printer's Korean code page) does not have.
    #[error(
        "{field} {text:?}: {character:?} (U+{:04X}) at character {position} is not in the printer's Korean code page (KS X 1001, EUC-KR)",
        u32::from(*.character)
    )]
    Unmappable {
        /// Which text of the receipt, e.g. `line 2 product name`.
        field: String,
        /// The offending text.
        text: String,
        /// The first character that cannot be printed, counting from 1.
        position: usize,
        character: char,
    },
    /// A text has a control character, which would be read as a printer command.
    #[error(
        "{field} {text:?}: {character:?} (U+{:04X}) at character {position} is a control character, which the printer would read as a command",
        u32::from(*.character)
    )]
    ControlCharacter {
        /// Which text of the receipt.
        field: String,
        /// The offending text.
        text: String,
        /// The control character's position, counting from 1.
        position: usize,
        character: char,
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

    /// All printed text lines, header and notices first: what [`crate::decode_receipts`]
    /// gives back.
    #[must_use]
    pub fn printed_lines(&self) -> Vec<String> {
        let mut lines = vec![self.station_name.clone()];
        lines.extend(self.notices.iter().map(|notice| notice.text()));
        lines.extend(self.body_lines());
        lines
    }

    /// Every text of the receipt that comes from outside (the station, the sale), by name.
    #[must_use]
    pub fn texts(&self) -> Vec<(String, &str)> {
        let mut texts = vec![
            ("station name".to_owned(), self.station_name.as_str()),
            (
                "business registration number".to_owned(),
                self.business_registration_number.as_str(),
            ),
            ("address".to_owned(), self.address.as_str()),
            ("receipt number".to_owned(), self.receipt_number.as_str()),
            ("date and time".to_owned(), self.date_time.as_str()),
        ];
        for (index, line) in self.lines.iter().enumerate() {
            texts.push((
                format!("line {} product name", index + 1),
                line.product_name.as_str(),
            ));
        }
        match &self.payment {
            Payment::Cash { .. } => {}
            Payment::Card { reference } => texts.push(("card reference".to_owned(), reference)),
            Payment::Credit { account } => texts.push(("credit account".to_owned(), account)),
        }
        texts
    }

    /// Checks that every text can be printed.
    ///
    /// # Errors
    /// [`EncodeError`] naming the first text, and its first character, that cannot.
    pub fn check(&self) -> Result<(), EncodeError> {
        for (field, value) in self.texts() {
            check_text(field, value)?;
        }
        Ok(())
    }

    /// The fallback copy of a receipt that cannot be printed: every character the printer cannot
    /// print replaced by `?`, and marked [`Notice::Replaced`] so nobody takes it for the
    /// original's text. It always encodes (but for a sale id too long for a QR code).
    #[must_use]
    pub fn fallback_copy(&self) -> Receipt {
        let mut notices = self.notices.clone();
        if !notices.contains(&Notice::Replaced) {
            notices.push(Notice::Replaced);
        }
        let replace = |value: &str| text::replace_unprintable(value);
        Receipt {
            station_name: replace(&self.station_name),
            notices,
            business_registration_number: replace(&self.business_registration_number),
            address: replace(&self.address),
            receipt_number: replace(&self.receipt_number),
            date_time: replace(&self.date_time),
            lines: self
                .lines
                .iter()
                .map(|line| ReceiptLine {
                    product_name: replace(&line.product_name),
                    ..line.clone()
                })
                .collect(),
            payment: match &self.payment {
                Payment::Card { reference } => Payment::Card {
                    reference: replace(reference),
                },
                Payment::Credit { account } => Payment::Credit {
                    account: replace(account),
                },
                cash @ Payment::Cash { .. } => cash.clone(),
            },
            sale_id: self.sale_id.clone(),
        }
    }

    /// Encode as one ESC/POS job: initialise, Korean mode, header, notices, body, QR code,
    /// feed, cut.
    ///
    /// # Errors
    /// [`EncodeError`] if a text cannot be printed (naming it) or the sale id is too long.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.check()?;
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
        for notice in &self.notices {
            push_text_line(&mut out, &notice.text())?;
        }
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

/// Checks that one named text of a receipt can be printed.
///
/// # Errors
/// [`EncodeError`] naming the text and its first character that cannot be printed.
pub fn check_text(field: impl Into<String>, value: &str) -> Result<(), EncodeError> {
    match text::first_unprintable(value) {
        None => Ok(()),
        Some(unprintable) => Err(encode_error(field.into(), value, unprintable)),
    }
}

fn encode_error(field: String, value: &str, unprintable: UnprintableCharacter) -> EncodeError {
    let UnprintableCharacter {
        position,
        character,
        why,
    } = unprintable;
    let text = value.to_owned();
    match why {
        Unprintable::ControlCharacter => EncodeError::ControlCharacter {
            field,
            text,
            position,
            character,
        },
        Unprintable::NotInCodePage => EncodeError::Unmappable {
            field,
            text,
            position,
            character,
        },
    }
}

/// Append `line` in the printer's code page followed by `LF`.
fn push_text_line(out: &mut Vec<u8>, line: &str) -> Result<(), EncodeError> {
    let bytes = text::encode(line)
        .map_err(|unprintable| encode_error("printed line".to_owned(), line, unprintable))?;
    out.extend_from_slice(&bytes);
    out.push(command::LINE_FEED);
    Ok(())
}
