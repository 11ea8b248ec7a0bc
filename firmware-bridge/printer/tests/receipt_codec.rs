//! Receipt layout → ESC/POS bytes → decoder, with Korean text, and the decoder's edge cases.

use receipt_printer::decode::{DecoderEvent, StreamDecoder};
use receipt_printer::{
    DecodeError, DecodedReceipt, EncodeError, Millilitres, Notice, Payment, Receipt, ReceiptLine,
    Won, decode_receipts,
};

fn sample_receipt(payment: Payment) -> Receipt {
    Receipt {
        station_name: "행복주유소".to_owned(),
        notices: Vec::new(),
        business_registration_number: "123-45-67890".to_owned(),
        address: "서울특별시 강남구 테헤란로 1".to_owned(),
        receipt_number: "20261126-0007".to_owned(),
        date_time: "2026-11-26 09:15:42".to_owned(),
        lines: vec![
            ReceiptLine {
                product_name: "경유".to_owned(),
                volume: Millilitres(30_000),
                unit_price: Won(1_650),
                amount: Won(49_500),
            },
            ReceiptLine {
                product_name: "휘발유".to_owned(),
                volume: Millilitres(12_345),
                unit_price: Won(1_789),
                amount: Won(22_085),
            },
        ],
        payment,
        sale_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
    }
}

#[test]
fn korean_receipt_round_trips_to_the_expected_text() {
    let receipt = sample_receipt(Payment::Cash {
        tendered: Won(80_000),
        change: Won(8_415),
    });
    let bytes = receipt.encode().unwrap();
    let decoded = decode_receipts(&bytes).unwrap();
    let expected = [
        "행복주유소",
        "사업자번호 123-45-67890",
        "주소 서울특별시 강남구 테헤란로 1",
        "영수증번호 20261126-0007",
        "일시 2026-11-26 09:15:42",
        "------------------------------------------",
        "경유",
        "  30.000L x 1,650원 = 49,500원",
        "휘발유",
        "  12.345L x 1,789원 = 22,085원",
        "------------------------------------------",
        "합계 71,585원",
        "부가세(포함) 6,508원",
        "현금 80,000원",
        "거스름돈 8,415원",
        "------------------------------------------",
    ];
    assert_eq!(
        decoded,
        vec![DecodedReceipt {
            lines: expected.iter().map(|line| (*line).to_owned()).collect(),
            qr_payload: Some("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned()),
            cut: true,
        }]
    );
    assert_eq!(decoded[0].lines, receipt.printed_lines());
}

#[test]
fn korean_text_is_euc_kr_inside_fs_ampersand() {
    let bytes = sample_receipt(Payment::Card {
        reference: "A1".to_owned(),
    })
    .encode()
    .unwrap();
    // ESC @, ESC R 13 (Korea), FS & (Korean mode), then the centred bold double header.
    assert_eq!(
        &bytes[..16],
        &[
            0x1B, 0x40, 0x1B, 0x52, 0x0D, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, 0x1D,
            0x21, 0x11
        ]
    );
    // "행복주유소" in EUC-KR: C7E0 BAB9 C1D6 C0AF BCD2, then LF.
    assert_eq!(
        &bytes[16..27],
        &[
            0xC7, 0xE0, 0xBA, 0xB9, 0xC1, 0xD6, 0xC0, 0xAF, 0xBC, 0xD2, 0x0A
        ]
    );
    // Ends with feed 4 lines and a full cut.
    assert_eq!(
        &bytes[bytes.len() - 6..],
        &[0x1B, 0x64, 0x04, 0x1D, 0x56, 0x00]
    );
}

#[test]
fn card_and_credit_payments_are_printed() {
    let card = sample_receipt(Payment::Card {
        reference: "30012345".to_owned(),
    });
    let lines = &decode_receipts(&card.encode().unwrap()).unwrap()[0].lines;
    assert!(lines.contains(&"카드 승인번호 30012345".to_owned()));
    let credit = sample_receipt(Payment::Credit {
        account: "FLEET-07".to_owned(),
    });
    let lines = &decode_receipts(&credit.encode().unwrap()).unwrap()[0].lines;
    assert!(lines.contains(&"외상 계정 FLEET-07".to_owned()));
}

#[test]
fn text_that_cannot_be_printed_is_an_error() {
    let mut receipt = sample_receipt(Payment::Card {
        reference: "1".to_owned(),
    });
    receipt.station_name = "Station 🚗".to_owned();
    assert!(matches!(
        receipt.encode(),
        Err(EncodeError::Unmappable { .. })
    ));
    receipt.station_name = "line\nbreak".to_owned();
    assert!(matches!(
        receipt.encode(),
        Err(EncodeError::ControlCharacter { .. })
    ));
}

#[test]
fn the_error_names_the_text_and_the_character_that_cannot_be_printed() {
    let mut receipt = sample_receipt(Payment::Card {
        reference: "APPROVAL\t7781".to_owned(),
    });
    let error = receipt.encode().unwrap_err();
    assert_eq!(
        error,
        EncodeError::ControlCharacter {
            field: "card reference".to_owned(),
            text: "APPROVAL\t7781".to_owned(),
            position: 9,
            character: '\t',
        }
    );
    assert_eq!(
        error.to_string(),
        "card reference \"APPROVAL\\t7781\": '\\t' (U+0009) at character 9 is a control \
         character, which the printer would read as a command"
    );
    receipt.payment = Payment::Cash {
        tendered: Won(80_000),
        change: Won(8_415),
    };
    receipt.lines[1].product_name = "Café".to_owned();
    let error = receipt.encode().unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2 product name \"Café\": 'é' (U+00E9) at character 4 is not in the printer's \
         Korean code page (KS X 1001, EUC-KR)"
    );
}

#[test]
fn reprints_canceled_sales_and_fallback_copies_are_marked_under_the_header() {
    let mut receipt = sample_receipt(Payment::Card {
        reference: "A1".to_owned(),
    });
    receipt.notices = vec![Notice::Canceled, Notice::Reprint(2)];
    let decoded = decode_receipts(&receipt.encode().unwrap()).unwrap();
    let lines = &decoded[0].lines;
    assert_eq!(
        lines[..4],
        [
            "행복주유소",
            "*** 취소 ***",
            "*** 재발행 2 ***",
            "사업자번호 123-45-67890"
        ]
    );
    assert_eq!(*lines, receipt.printed_lines());

    // The fallback copy of a receipt that cannot print: '?' for what cannot, and marked.
    receipt.lines[0].product_name = "Café\t똠얌".to_owned();
    receipt.payment = Payment::Card {
        reference: "A\u{7}1".to_owned(),
    };
    assert!(receipt.encode().is_err());
    let copy = receipt.fallback_copy();
    let decoded = decode_receipts(&copy.encode().unwrap()).unwrap();
    let lines = &decoded[0].lines;
    assert_eq!(
        lines[1..4],
        [
            "*** 취소 ***",
            "*** 재발행 2 ***",
            "*** 대체 인쇄: ? = 인쇄 불가 문자 ***"
        ]
    );
    assert!(lines.contains(&"Caf???얌".to_owned()), "{lines:?}");
    assert!(lines.contains(&"카드 승인번호 A?1".to_owned()), "{lines:?}");
    assert_eq!(
        decoded[0].qr_payload.as_deref(),
        Some(receipt.sale_id.as_str())
    );
    assert_eq!(copy.fallback_copy(), copy, "marked once");
}

#[test]
fn stream_decoder_waits_for_split_commands_and_characters() {
    let receipt = sample_receipt(Payment::Card {
        reference: "9".to_owned(),
    });
    let mut bytes = receipt.encode().unwrap();
    bytes.extend([0x10, 0x04, 0x02]);
    let mut decoder = StreamDecoder::default();
    let mut events = Vec::new();
    // One byte at a time splits every multi-byte command and every Korean character.
    for byte in &bytes {
        events.extend(decoder.push(std::slice::from_ref(byte)).unwrap());
    }
    assert_eq!(events.len(), 2);
    let DecoderEvent::Receipt(decoded) = &events[0] else {
        panic!("expected a receipt first, got {events:?}");
    };
    assert_eq!(decoded.lines, receipt.printed_lines());
    assert_eq!(events[1], DecoderEvent::StatusRequested(2));
}

#[test]
fn decoder_rejects_what_it_does_not_know() {
    assert_eq!(
        decode_receipts(&[0x1B, 0x7A]),
        Err(DecodeError::UnknownCommand {
            bytes: vec![0x1B, 0x7A]
        })
    );
    assert_eq!(
        decode_receipts(&[b'A', 0xB0, 0xE6]),
        Err(DecodeError::NonAsciiOutsideKoreanMode { byte: 0xB0 })
    );
    assert_eq!(
        decode_receipts(&[0x1D, 0x28, 0x6B, 0x05]),
        Err(DecodeError::Truncated)
    );
    // Text without a cut is a receipt that was not cut.
    assert_eq!(
        decode_receipts(b"hi\n").unwrap(),
        vec![DecodedReceipt {
            lines: vec!["hi".to_owned()],
            qr_payload: None,
            cut: false
        }]
    );
}

#[test]
fn a_syllable_outside_ks_x_1001_is_refused_rather_than_sent_as_windows_949() {
    // encoding_rs's EUC-KR is the WHATWG one (Windows code page 949), which also encodes the
    // 8,822 syllables KS X 1001 lacks, with trail bytes below 0xA1 ("똠" is 8C 63: "c" for a
    // printer in KS C 5601 mode). The printer would print something else.
    let mut receipt = sample_receipt(Payment::Card {
        reference: "1".to_owned(),
    });
    receipt.lines[0].product_name = "똠얌 라면".to_owned();
    assert!(matches!(
        receipt.encode(),
        Err(EncodeError::Unmappable { .. })
    ));
    // Nor does the decoder (the simulated printer) read such a pair as a character.
    assert!(matches!(
        decode_receipts(&[0x1C, 0x26, 0x8C, 0x63, 0x0A]),
        Err(DecodeError::InvalidKoreanText { .. })
    ));
}
