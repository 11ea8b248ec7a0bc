//! The receipt printer: the `DLE EOT n` real-time status bytes the printer sends back, and the
//! ESC/POS decoder (what the printer simulator reads; the same code checks receipts in tests).

use receipt_printer::decode::{DecodeError, DecoderEvent, StreamDecoder};
use receipt_printer::status::{Connection, StatusReply};
use receipt_printer::{
    Cover, Millilitres, Notice, Paper, Payment, PrinterState, Receipt, ReceiptLine, StatusRequest,
    Won, decode_receipts,
};

use crate::{Outcomes, Target, Violation};

/// The status bytes: each input byte read as the answer to each of the three requests, and
/// every three bytes combined into a printer state, as the transport does. A byte that parses
/// parses to the same state the simulator would answer with for it.
#[derive(Debug, Default)]
pub struct Status;

impl Target for Status {
    fn name(&self) -> &'static str {
        "printer.status"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds = Vec::new();
        for cover in [Cover::Closed, Cover::Open] {
            for paper in [Paper::Adequate, Paper::NearEnd, Paper::Out] {
                let state = PrinterState::from_sensors(cover, paper);
                seeds.push(
                    StatusRequest::ALL
                        .iter()
                        .map(|request| request.reply_byte(&state))
                        .collect(),
                );
            }
        }
        seeds.push(vec![0x12, 0x1A, 0x16, 0x32, 0x1E, 0x72, 0x7E, 0x00, 0x93]);
        seeds
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        for &byte in input {
            for request in StatusRequest::ALL {
                match request.parse(byte) {
                    Ok(reply) => outcomes.record(reply_code(reply)),
                    Err(_) => outcomes.record("not_a_status_byte"),
                }
            }
        }
        for triple in input.chunks_exact(3) {
            let replies: Vec<_> = StatusRequest::ALL
                .iter()
                .zip(triple)
                .map(|(request, &byte)| request.parse(byte))
                .collect();
            let [
                Ok(StatusReply::Printer(connection)),
                Ok(StatusReply::OfflineCause {
                    cover,
                    stopped_by_paper_end,
                }),
                Ok(StatusReply::RollPaperSensor(paper)),
            ] = replies.as_slice()
            else {
                continue;
            };
            let state =
                PrinterState::from_replies(*connection, *cover, *stopped_by_paper_end, *paper);
            outcomes.record(if state.can_print() {
                "can_print"
            } else {
                "cannot_print"
            });
            // What the simulator answers in that state reads back as the same state.
            let again: Vec<u8> = StatusRequest::ALL
                .iter()
                .map(|request| request.reply_byte(&state))
                .collect();
            let read: Vec<_> = StatusRequest::ALL
                .iter()
                .zip(&again)
                .map(|(request, &byte)| request.parse(byte))
                .collect();
            if read.iter().any(Result::is_err) {
                return Err(Violation(format!(
                    "the simulator's bytes {again:02X?} for {state:?} do not parse"
                )));
            }
        }
        Ok(())
    }
}

fn reply_code(reply: StatusReply) -> &'static str {
    match reply {
        StatusReply::Printer(Connection::Online) => "online",
        StatusReply::Printer(Connection::Offline) => "offline",
        StatusReply::OfflineCause {
            cover: Cover::Open, ..
        } => "cover_open",
        StatusReply::OfflineCause {
            stopped_by_paper_end: true,
            ..
        } => "stopped_by_paper_end",
        StatusReply::OfflineCause { .. } => "cover_closed",
        StatusReply::RollPaperSensor(Paper::Adequate) => "paper_adequate",
        StatusReply::RollPaperSensor(Paper::NearEnd) => "paper_near_end",
        StatusReply::RollPaperSensor(Paper::Out) => "paper_out",
    }
}

fn decode_error_code(error: &DecodeError) -> &'static str {
    match error {
        DecodeError::UnknownCommand { .. } => "unknown_command",
        DecodeError::NonAsciiOutsideKoreanMode { .. } => "non_ascii_outside_korean_mode",
        DecodeError::InvalidKoreanText { .. } => "invalid_korean_text",
        DecodeError::InvalidQrPayload => "invalid_qr_payload",
        DecodeError::Truncated => "truncated",
    }
}

fn receipts() -> Vec<Receipt> {
    let line = |name: &str, volume, price, amount| ReceiptLine {
        product_name: name.to_owned(),
        volume: Millilitres(volume),
        unit_price: Won(price),
        amount: Won(amount),
    };
    let receipt = |lines, payment, notices| Receipt {
        station_name: "강남 주유소".to_owned(),
        notices,
        business_registration_number: "123-45-67890".to_owned(),
        address: "서울특별시 강남구 테헤란로 1".to_owned(),
        receipt_number: "20261124-0001".to_owned(),
        date_time: "2026-11-24 09:05".to_owned(),
        lines,
        payment,
        sale_id: "01a20af7-a00a-79b2-9f55-aad57714dc91".to_owned(),
    };
    vec![
        receipt(
            vec![line("경유", 40_000, 1_650, 66_000)],
            Payment::Cash {
                tendered: Won(70_000),
                change: Won(4_000),
            },
            Vec::new(),
        ),
        receipt(
            vec![
                line("휘발유", 30_303, 1_750, 53_030),
                line("Water 500ml", 0, 1_000, 1_000),
            ],
            Payment::Card {
                reference: "APPROVAL-7781".to_owned(),
            },
            vec![Notice::Reprint(2)],
        ),
        receipt(
            vec![line("등유", 1, 1, 1)],
            Payment::Credit {
                account: "ACC-0001".to_owned(),
            },
            vec![Notice::Canceled, Notice::Replaced],
        ),
    ]
}

/// `decode_receipts` and `StreamDecoder::push`: ESC/POS bytes back to receipts, in one piece
/// or a few bytes at a time.
#[derive(Debug, Default)]
pub struct EscPos;

impl Target for EscPos {
    fn name(&self) -> &'static str {
        "printer.escpos"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = receipts()
            .iter()
            .filter_map(|receipt| receipt.encode().ok())
            .collect();
        assert_eq!(seeds.len(), 3, "every example receipt encodes");
        let mut with_status = seeds[0].clone();
        for request in StatusRequest::ALL {
            with_status.extend(request.request_bytes());
        }
        with_status.extend(&seeds[1]);
        seeds.push(with_status);
        seeds
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        [
            &[0x1B, b'@'][..],
            &[0x1B, b'R', 13],
            &[0x1B, b'a', 1],
            &[0x1B, b'E', 1],
            &[0x1B, b'd', 4],
            &[0x1C, b'&'],
            &[0x1C, b'.'],
            &[0x1D, b'!', 0x11],
            &[0x1D, b'V', 66, 0],
            &[0x1D, b'V', 0],
            &[0x1D, b'(', b'k', 3, 0, 49, 81, 48],
            &[0x1D, b'(', b'k', 0xFF, 0xFF, 49, 80, 48],
            &[0x1D, b'(', b'k', 3, 0, 49, 65, 50],
            &[0x10, 0x04, 0x01],
            &[0x0A],
            &[0xB0, 0xA1],
            &[0xC8, 0xFE],
            &[0xFF, 0xFF],
            &[0x80],
        ]
        .iter()
        .map(|word| word.to_vec())
        .collect()
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        match decode_receipts(input) {
            Ok(receipts) => outcomes.record(match receipts.as_slice() {
                [] => "ok_nothing_printed",
                [only] if only.cut => "ok_one_cut_receipt",
                _ => "ok",
            }),
            Err(error) => outcomes.record(decode_error_code(&error)),
        }
        let mut decoder = StreamDecoder::default();
        let step = super::read_size(input, 32);
        for chunk in input.chunks(step) {
            match decoder.push(chunk) {
                Ok(events) => {
                    for event in events {
                        outcomes.record(match event {
                            DecoderEvent::StatusRequested(_) => "stream_status_requested",
                            DecoderEvent::Receipt(_) => "stream_receipt",
                        });
                    }
                }
                Err(error) => outcomes.record(match error {
                    DecodeError::Truncated => "stream_truncated",
                    _ => "stream_error",
                }),
            }
        }
        Ok(())
    }
}
