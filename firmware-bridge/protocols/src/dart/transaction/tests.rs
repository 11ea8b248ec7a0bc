//! The transaction codec: captured frames as known answers, every form of each reply, typed
//! errors for what no form allows, and round-trip properties.

use super::*;

fn nozzle(number: u8) -> NozzleNumber {
    NozzleNumber::new(number).unwrap()
}

fn from_pump(payload: &[u8]) -> Vec<Result<FromPump, TransactionError>> {
    split(payload)
        .unwrap()
        .into_iter()
        .map(decode_from_pump)
        .collect()
}

fn to_pump(payload: &[u8]) -> Vec<Result<ToPump, TransactionError>> {
    split(payload)
        .unwrap()
        .into_iter()
        .map(decode_to_pump)
        .collect()
}

/// The authorize sequence as captured from a working controller: CD2 nozzle 1, CD1 RESET,
/// CD3 preset 99999999 ("fill up"), CD1 AUTHORIZE; each was sent in its own block.
#[test]
fn encodes_captured_command_payloads() {
    let cases: [(ToPump, &[u8]); 7] = [
        (ToPump::AllowedNozzles(vec![nozzle(1)]), &[0x02, 0x01, 0x01]),
        (ToPump::Command(PumpCommand::Reset), &[0x01, 0x01, 0x05]),
        (
            ToPump::PresetVolume(PumpVolume::new(99_999_999).unwrap()),
            &[0x03, 0x04, 0x99, 0x99, 0x99, 0x99],
        ),
        (ToPump::Command(PumpCommand::Authorize), &[0x01, 0x01, 0x06]),
        (ToPump::Command(PumpCommand::Stop), &[0x01, 0x01, 0x08]),
        (
            ToPump::RequestTotalCounter(TotalCounter::NozzleVolume(nozzle(2))),
            &[0x65, 0x01, 0x02],
        ),
        // CD5 for three nozzles: 001234, 005678, 002653.
        (
            ToPump::PriceUpdate(
                [1234, 5678, 2653]
                    .map(|price| PumpPrice::new(price).unwrap())
                    .to_vec(),
            ),
            &[
                0x05, 0x09, 0x00, 0x12, 0x34, 0x00, 0x56, 0x78, 0x00, 0x26, 0x53,
            ],
        ),
    ];
    for (transaction, bytes) in cases {
        let encoded = encode_to_pump(std::slice::from_ref(&transaction)).unwrap();
        assert_eq!(encoded, bytes, "{transaction:?}");
        assert_eq!(to_pump(bytes), [Ok(transaction)]);
    }
}

/// Captured from pump 51H: DC1 FILLING, DC3 price 008123 nozzle 1 out, DC2 volume 428 amount
/// 3477, DC3 again.
#[test]
fn decodes_captured_status_block() {
    let payload = [
        0x01, 0x01, 0x04, 0x03, 0x04, 0x00, 0x81, 0x23, 0x11, 0x02, 0x08, 0x00, 0x00, 0x04, 0x28,
        0x00, 0x00, 0x34, 0x77, 0x03, 0x04, 0x00, 0x81, 0x23, 0x11,
    ];
    let price_and_nozzle = FromPump::NozzleStatusAndPrice {
        price: PumpPrice::new(8123).unwrap(),
        nozzle: Some(nozzle(1)),
        nozzle_out: true,
    };
    let expected = vec![
        FromPump::Status(PumpStatus::Filling),
        price_and_nozzle.clone(),
        FromPump::FilledVolumeAndAmount {
            volume: PumpVolume::new(428).unwrap(),
            amount: PumpAmount::new(3477).unwrap(),
        },
        price_and_nozzle,
    ];
    assert_eq!(
        from_pump(&payload),
        expected.iter().cloned().map(Ok).collect::<Vec<_>>()
    );
    assert_eq!(encode_from_pump(&expected).unwrap(), payload);
}

/// Captured DC101 from pump 51H: counter 01, totals 0000426633, 0000426633, 0000000000.
#[test]
fn decodes_captured_total_counters() {
    let payload = [
        0x65, 0x10, 0x01, 0x00, 0x00, 0x42, 0x66, 0x33, 0x00, 0x00, 0x42, 0x66, 0x33, 0x00, 0x00,
        0x00, 0x00, 0x00,
    ];
    let expected = FromPump::TotalCounter {
        counter: TotalCounter::NozzleVolume(nozzle(1)),
        total: PumpTotal::new(426_633).unwrap(),
        meter_1: PumpTotal::new(426_633).unwrap(),
        meter_2: PumpTotal::new(0),
    };
    assert_eq!(from_pump(&payload), [Ok(expected.clone())]);
    assert_eq!(encode_from_pump(&[expected]).unwrap(), payload);
}

/// Every form of DC101: three totals (LNG 16, the captured form above), and the electronic
/// total with one meter's, without TOTM2 (LNG 11); for volume and for money counters.
#[test]
fn decodes_every_form_of_total_counters() {
    let total = |value| PumpTotal::new(value).unwrap();
    let cases: [(&[u8], FromPump); 4] = [
        // Pump 51H, nozzle 2 money total 1 234 567 890 won in all three counters' form.
        (
            &[
                0x65, 0x10, 0x12, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x00,
                0x00, 0x00, 0x00, 0x00,
            ],
            FromPump::TotalCounter {
                counter: TotalCounter::NozzleAmount(nozzle(2)),
                total: total(1_234_567_890),
                meter_1: total(1_234_567_890),
                meter_2: Some(total(0)),
            },
        ),
        // Nozzle 1 volume total 4 266.33 L, one meter: no TOTM2.
        (
            &[
                0x65, 0x0B, 0x01, 0x00, 0x00, 0x42, 0x66, 0x33, 0x00, 0x00, 0x42, 0x66, 0x33,
            ],
            FromPump::TotalCounter {
                counter: TotalCounter::NozzleVolume(nozzle(1)),
                total: total(426_633),
                meter_1: total(426_633),
                meter_2: None,
            },
        ),
        // Nozzle 1 money total, one meter.
        (
            &[
                0x65, 0x0B, 0x11, 0x00, 0x07, 0x20, 0x58, 0x03, 0x00, 0x07, 0x20, 0x58, 0x03,
            ],
            FromPump::TotalCounter {
                counter: TotalCounter::NozzleAmount(nozzle(1)),
                total: total(7_205_803),
                meter_1: total(7_205_803),
                meter_2: None,
            },
        ),
        // The pump's volume total over all nozzles, the largest value ten digits hold.
        (
            &[
                0x65, 0x0B, 0x09, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99,
            ],
            FromPump::TotalCounter {
                counter: TotalCounter::PumpVolume,
                total: total(9_999_999_999),
                meter_1: total(9_999_999_999),
                meter_2: None,
            },
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(from_pump(bytes), [Ok(expected.clone())], "{bytes:02X?}");
        assert_eq!(encode_from_pump(&[expected]).unwrap(), bytes);
    }
}

#[test]
fn total_counters_of_no_allowed_form_are_typed_errors() {
    for length in [0usize, 1, 6, 10, 12, 15, 17, 21] {
        let mut payload = vec![0x65, u8::try_from(length).unwrap()];
        payload.extend(
            std::iter::once(0x01)
                .chain(std::iter::repeat_n(0x00, length))
                .take(length),
        );
        assert_eq!(
            from_pump(&payload),
            [Err(TransactionError::BadLength {
                trans: 0x65,
                length
            })],
            "LNG {length}"
        );
    }
    // A bad nibble in TOTM2, and an unknown counter.
    let mut bad_meter = vec![0x65, 0x10, 0x01];
    bad_meter.extend([0; 10]);
    bad_meter.extend([0x00, 0x00, 0x0F, 0x00, 0x00]);
    assert_eq!(
        from_pump(&bad_meter),
        [Err(TransactionError::Bcd {
            trans: 0x65,
            source: BcdError::NotBcd { byte: 0x0F }
        })]
    );
    let mut unknown = vec![0x65, 0x0B, 0x0A];
    unknown.extend([0; 10]);
    assert_eq!(
        from_pump(&unknown),
        [Err(TransactionError::UnknownCode {
            trans: 0x65,
            code: 0x0A
        })]
    );
}

#[test]
fn a_raw_transaction_gives_back_its_bytes() {
    let payload = [0x01, 0x01, 0x04, 0x65, 0x02, 0xAB, 0xCD];
    let raws = split(&payload).unwrap();
    assert_eq!(raws[0].to_bytes(), [0x01, 0x01, 0x04]);
    assert_eq!(raws[1].to_bytes(), [0x65, 0x02, 0xAB, 0xCD]);
}

#[test]
fn nozzle_in_and_no_nozzle() {
    assert_eq!(
        from_pump(&[0x03, 0x04, 0x00, 0x15, 0x50, 0x00]),
        [Ok(FromPump::NozzleStatusAndPrice {
            price: PumpPrice::new(1550).unwrap(),
            nozzle: None,
            nozzle_out: false,
        })]
    );
}

#[test]
fn bad_transactions_are_typed_errors() {
    assert_eq!(
        split(&[0x01, 0x05, 0x00]),
        Err(TransactionError::Truncated {
            trans: 0x01,
            declared: 5,
            available: 1
        })
    );
    assert!(matches!(
        split(&[0x01]),
        Err(TransactionError::Truncated { trans: 0x01, .. })
    ));
    assert_eq!(
        from_pump(&[0x01, 0x01, 0x03]),
        [Err(TransactionError::UnknownCode {
            trans: 0x01,
            code: 0x03
        })]
    );
    assert_eq!(
        from_pump(&[0x02, 0x02, 0x00, 0x00]),
        [Err(TransactionError::BadLength {
            trans: 0x02,
            length: 2
        })]
    );
    let bad_bcd = from_pump(&[0x02, 0x08, 0x00, 0x00, 0x0A, 0x00, 0, 0, 0, 0]);
    assert_eq!(
        bad_bcd,
        [Err(TransactionError::Bcd {
            trans: 0x02,
            source: BcdError::NotBcd { byte: 0x0A }
        })]
    );
    assert_eq!(
        bad_bcd[0].as_ref().unwrap_err().code(),
        "dart.transaction_bad_bcd"
    );
    assert_eq!(
        encode_to_pump(&[ToPump::AllowedNozzles(vec![])]),
        Err(TransactionError::BadCount {
            trans: 0x02,
            count: 0,
            max: 15
        })
    );
    assert_eq!(
        from_pump(&[0x07, 0x02, 0xAB, 0xCD]),
        [Ok(FromPump::Other {
            trans: 0x07,
            data: vec![0xAB, 0xCD]
        })]
    );
}

#[test]
fn limits() {
    assert_eq!(PumpPrice::new(1_000_000), None);
    assert!(PumpPrice::new(999_999).is_some());
    assert_eq!(PumpVolume::new(100_000_000), None);
    assert_eq!(NozzleNumber::new(0), None);
    assert_eq!(NozzleNumber::new(16), None);
    assert_eq!(TotalCounter::from_code(0x0A), None);
    assert_eq!(TotalCounter::from_code(0x10), None);
    for code in (0x01..=0x09).chain(0x11..=0x19) {
        assert_eq!(
            TotalCounter::from_code(code).map(TotalCounter::code),
            Some(code)
        );
    }
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    fn nozzle() -> impl Strategy<Value = NozzleNumber> {
        (1u8..=15).prop_map(|n| NozzleNumber::new(n).unwrap())
    }

    fn to_pump() -> impl Strategy<Value = ToPump> {
        prop_oneof![
            prop::sample::select(vec![
                PumpCommand::ReturnStatus,
                PumpCommand::ReturnPumpParameters,
                PumpCommand::ReturnPumpIdentity,
                PumpCommand::ReturnFillingInformation,
                PumpCommand::Reset,
                PumpCommand::Authorize,
                PumpCommand::Stop,
                PumpCommand::SwitchOff,
                PumpCommand::Suspend,
                PumpCommand::Resume,
            ])
            .prop_map(ToPump::Command),
            prop::collection::vec(nozzle(), 1..=15).prop_map(ToPump::AllowedNozzles),
            (0u32..100_000_000).prop_map(|v| ToPump::PresetVolume(PumpVolume::new(v).unwrap())),
            (0u32..100_000_000).prop_map(|v| ToPump::PresetAmount(PumpAmount::new(v).unwrap())),
            prop::collection::vec(0u32..1_000_000, 1..=15).prop_map(|prices| {
                ToPump::PriceUpdate(
                    prices
                        .into_iter()
                        .map(|p| PumpPrice::new(p).unwrap())
                        .collect(),
                )
            }),
            (1u8..=8).prop_map(|n| ToPump::RequestTotalCounter(TotalCounter::NozzleAmount(
                NozzleNumber::new(n).unwrap()
            ))),
        ]
    }

    proptest! {
        #[test]
        fn to_pump_round_trips(transactions in prop::collection::vec(to_pump(), 1..6)) {
            let payload = encode_to_pump(&transactions).unwrap();
            let decoded: Vec<ToPump> = split(&payload)
                .unwrap()
                .into_iter()
                .map(|raw| decode_to_pump(raw).unwrap())
                .collect();
            prop_assert_eq!(decoded, transactions);
        }

        #[test]
        fn decoding_never_panics(payload in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(raws) = split(&payload) {
                for raw in raws {
                    let _ = decode_from_pump(raw);
                    let _ = decode_to_pump(raw);
                }
            }
        }
    }
}
