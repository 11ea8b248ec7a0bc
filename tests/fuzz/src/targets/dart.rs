//! Wayne DART: the line-level frame decoder, the application transactions in both directions,
//! and the bus master that consumes what pumps send.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use forecourt_protocols::dart::crc::crc16;
use forecourt_protocols::dart::frame::{DLE, ETX, SF};
use forecourt_protocols::dart::transaction::{
    self, NozzleNumber, PumpAmount, PumpCommand, PumpIdentity, PumpPrice, PumpStatus, PumpTotal,
    PumpVolume, TotalCounter,
};
use forecourt_protocols::dart::{
    DartMaster, Frame, FrameDecoder, FrameKind, FromPump, MasterConfig, MasterEvent, PumpAddress,
    ToPump, TxSeq,
};

use super::read_size;
use crate::{Outcomes, Target, Violation};

fn pump(address: u8) -> PumpAddress {
    PumpAddress::new(address).unwrap_or_else(|_| unreachable!("50H-6FH are pump addresses"))
}

fn seq(value: u8) -> TxSeq {
    TxSeq::new(value).unwrap_or(TxSeq::INITIAL)
}

fn nozzle(number: u8) -> NozzleNumber {
    NozzleNumber::new(number).unwrap_or_else(|| unreachable!("1-15 are nozzles"))
}

/// One example of every pump → controller transaction, at the edges of its fields.
fn from_pump_examples() -> Vec<FromPump> {
    let volume = |v| PumpVolume::new(v).unwrap_or_else(|| unreachable!("8 digits"));
    let amount = |v| PumpAmount::new(v).unwrap_or_else(|| unreachable!("8 digits"));
    let price = |v| PumpPrice::new(v).unwrap_or_else(|| unreachable!("6 digits"));
    let total = |v| PumpTotal::new(v).unwrap_or_else(|| unreachable!("10 digits"));
    vec![
        FromPump::Status(PumpStatus::Reset),
        FromPump::Status(PumpStatus::Filling),
        FromPump::Status(PumpStatus::FillingCompleted),
        FromPump::FilledVolumeAndAmount {
            volume: volume(40_000),
            amount: amount(66_000),
        },
        FromPump::FilledVolumeAndAmount {
            volume: volume(99_999_999),
            amount: amount(99_999_999),
        },
        FromPump::NozzleStatusAndPrice {
            price: price(1_650),
            nozzle: Some(nozzle(1)),
            nozzle_out: true,
        },
        FromPump::NozzleStatusAndPrice {
            price: price(999_999),
            nozzle: None,
            nozzle_out: false,
        },
        FromPump::Alarm { code: 0xFA },
        FromPump::Identity(PumpIdentity::new(9_999_999_999).unwrap_or_else(|| unreachable!())),
        FromPump::TotalCounter {
            counter: TotalCounter::NozzleAmount(nozzle(8)),
            total: total(9_999_999_999),
            meter_1: total(0),
            meter_2: Some(total(1_234_567_890)),
        },
        FromPump::TotalCounter {
            counter: TotalCounter::PumpVolume,
            total: total(1),
            meter_1: total(2),
            meter_2: None,
        },
        FromPump::Other {
            trans: 0x07,
            data: vec![0xFA, 0x10, 0x03, 0x00],
        },
    ]
}

/// One example of every controller → pump transaction.
fn to_pump_examples() -> Vec<ToPump> {
    vec![
        ToPump::Command(PumpCommand::Authorize),
        ToPump::Command(PumpCommand::Reset),
        ToPump::AllowedNozzles(vec![nozzle(1), nozzle(15)]),
        ToPump::PresetVolume(PumpVolume::new(99_999_999).unwrap_or_else(|| unreachable!())),
        ToPump::PresetAmount(PumpAmount::new(30_000).unwrap_or_else(|| unreachable!())),
        ToPump::PriceUpdate(
            [1_650, 1_750, 999_999]
                .into_iter()
                .filter_map(PumpPrice::new)
                .collect(),
        ),
        ToPump::RequestTotalCounter(TotalCounter::PumpVolume),
    ]
}

/// Payloads of data blocks: each transaction alone, and all of them in one block.
fn from_pump_payloads() -> Vec<Vec<u8>> {
    let examples = from_pump_examples();
    let mut payloads: Vec<Vec<u8>> = examples
        .iter()
        .filter_map(|example| transaction::encode_from_pump(std::slice::from_ref(example)).ok())
        .collect();
    payloads.extend(transaction::encode_from_pump(&examples).ok());
    payloads
}

fn to_pump_payloads() -> Vec<Vec<u8>> {
    let examples = to_pump_examples();
    let mut payloads: Vec<Vec<u8>> = examples
        .iter()
        .filter_map(|example| transaction::encode_to_pump(std::slice::from_ref(example)).ok())
        .collect();
    payloads.extend(transaction::encode_to_pump(&examples).ok());
    payloads
}

/// Wire bytes of blocks a pump sends and a master sends, made by the crate's encoder.
fn wire_examples() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for (address, tx) in [(0x50, 0), (0x51, 1), (0x6F, 15)] {
        for kind in [
            FrameKind::Poll,
            FrameKind::Ack(seq(tx)),
            FrameKind::Nak(seq(tx)),
            FrameKind::Eot(seq(tx)),
            FrameKind::AckPoll(seq(tx)),
        ] {
            frames.extend(Frame::new(pump(address), kind).ok().map(|f| f.encode()));
        }
    }
    for payload in from_pump_payloads().into_iter().chain(to_pump_payloads()) {
        frames.extend(
            Frame::data(pump(0x50), seq(3), payload)
                .ok()
                .map(|f| f.encode()),
        );
    }
    // SF, DLE and ETX inside a payload: stuffing and the terminator search.
    frames.extend(
        Frame::data(pump(0x51), seq(0), vec![SF, DLE, SF, ETX, SF, DLE])
            .ok()
            .map(|f| f.encode()),
    );
    frames.extend(
        Frame::data(pump(0x51), seq(1), vec![0xAA; 250])
            .ok()
            .map(|f| f.encode()),
    );
    // Several blocks back to back, with noise between.
    let joined: Vec<u8> = frames.iter().take(6).flatten().copied().collect();
    let mut noisy = vec![0x00, SF, 0x55];
    noisy.extend(&joined);
    frames.push(joined);
    frames.push(noisy);
    frames
}

fn dart_dictionary() -> Vec<Vec<u8>> {
    vec![
        vec![SF],
        vec![DLE],
        vec![ETX],
        vec![DLE, SF],
        vec![ETX, SF],
        vec![0x50],
        vec![0x6F],
        vec![0x70],
        vec![0x4F],
        vec![0x20],
        vec![0x30],
        vec![0x3F],
        vec![0xC0],
        vec![0xE0],
        vec![0x50, 0x20, SF],
        vec![0x50, 0x70, SF],
    ]
}

/// Gives a mutated data block a correct CRC again: unstuff what comes before the last
/// `ETX SF`, replace its last two bytes by their CRC, stuff it again.
fn reseal_data_block(input: &mut Vec<u8>) {
    let Some(end) = input.windows(2).rposition(|pair| pair == [ETX, SF]) else {
        return;
    };
    let start = input[..end]
        .iter()
        .rposition(|&b| b == SF)
        .map_or(0, |sf| sf + 1);
    let mut unstuffed = Vec::new();
    let mut bytes = input[start..end].iter().peekable();
    while let Some(&byte) = bytes.next() {
        if byte == DLE && bytes.peek() == Some(&&SF) {
            continue;
        }
        unstuffed.push(byte);
    }
    if unstuffed.len() < 4 {
        return;
    }
    unstuffed.truncate(unstuffed.len() - 2);
    let crc = crc16(&unstuffed);
    unstuffed.extend_from_slice(&crc.to_le_bytes());
    let mut stuffed = Vec::with_capacity(unstuffed.len() + 4);
    for byte in unstuffed {
        if byte == SF {
            stuffed.push(DLE);
        }
        stuffed.push(byte);
    }
    input.splice(start..end, stuffed);
}

fn frame_code(frame: &Frame) -> &'static str {
    match frame.kind() {
        FrameKind::Poll => "poll",
        FrameKind::Data { .. } => "data",
        FrameKind::Ack(_) => "ack",
        FrameKind::Nak(_) => "nak",
        FrameKind::Eot(_) => "eot",
        FrameKind::AckPoll(_) => "ack_poll",
    }
}

/// `FrameDecoder`: bytes in, blocks or errors with a stable code out, whether the bytes come in
/// one read or a byte at a time. Every block decoded re-encodes to bytes that decode to it.
#[derive(Debug, Default)]
pub struct Frames;

impl Target for Frames {
    fn name(&self) -> &'static str {
        "dart.frame"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        wire_examples()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        dart_dictionary()
    }

    fn reseal(&self, input: &mut Vec<u8>) {
        reseal_data_block(input);
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let mut decoder = FrameDecoder::new();
        decoder.push(input);
        while let Some(result) = decoder.next_frame() {
            match result {
                Ok(frame) => {
                    outcomes.record(frame_code(&frame));
                    let mut again = FrameDecoder::new();
                    again.push(&frame.encode());
                    let decoded = again.next_frame();
                    if decoded.as_ref() != Some(&Ok(frame.clone())) {
                        return Err(Violation(format!(
                            "{frame:?} re-encoded decodes as {decoded:?}"
                        )));
                    }
                }
                Err(error) => outcomes.record(error.code()),
            }
        }
        // The same bytes in reads of a few bytes each, as a serial port delivers them.
        let mut decoder = FrameDecoder::new();
        let step = read_size(input, 16);
        for chunk in input.chunks(step) {
            decoder.push(chunk);
            while decoder.next_frame().is_some() {}
        }
        let pushed = u64::try_from(input.len()).unwrap_or(u64::MAX);
        if decoder.discarded() > pushed {
            return Err(Violation(format!(
                "{} bytes discarded of {pushed} pushed",
                decoder.discarded()
            )));
        }
        Ok(())
    }
}

fn from_pump_code(message: &FromPump) -> &'static str {
    match message {
        FromPump::Status(_) => "dc1_status",
        FromPump::FilledVolumeAndAmount { .. } => "dc2_volume_amount",
        FromPump::NozzleStatusAndPrice { .. } => "dc3_nozzle_price",
        FromPump::Alarm { .. } => "dc5_alarm",
        FromPump::Identity(_) => "dc9_identity",
        FromPump::TotalCounter { .. } => "dc101_total",
        FromPump::Other { .. } => "other",
    }
}

fn to_pump_code(message: &ToPump) -> &'static str {
    match message {
        ToPump::Command(_) => "cd1_command",
        ToPump::AllowedNozzles(_) => "cd2_nozzles",
        ToPump::PresetVolume(_) => "cd3_preset_volume",
        ToPump::PresetAmount(_) => "cd4_preset_amount",
        ToPump::PriceUpdate(_) => "cd5_prices",
        ToPump::RequestTotalCounter(_) => "cd101_request_total",
    }
}

/// `transaction::split` and `decode_from_pump`: the transactions of a pump's data block. Every
/// transaction decoded re-encodes to one that decodes to it.
#[derive(Debug, Default)]
pub struct FromPumpTransactions;

impl Target for FromPumpTransactions {
    fn name(&self) -> &'static str {
        "dart.from_pump"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        from_pump_payloads()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        vec![
            vec![0x01, 0x01],
            vec![0x02, 0x08],
            vec![0x03, 0x04],
            vec![0x05, 0x01],
            vec![0x09, 0x05],
            vec![0x65, 0x10],
            vec![0x99],
            vec![0x9A],
            vec![0xFF],
        ]
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let raws = match transaction::split(input) {
            Ok(raws) => raws,
            Err(error) => {
                outcomes.record(error.code());
                return Ok(());
            }
        };
        for raw in raws {
            match transaction::decode_from_pump(raw) {
                Ok(message) => {
                    outcomes.record(from_pump_code(&message));
                    let again = transaction::encode_from_pump(std::slice::from_ref(&message))
                        .map_err(|e| Violation(format!("{message:?} does not encode: {e}")))?;
                    let decoded: Vec<_> = transaction::split(&again)
                        .map(|raws| {
                            raws.into_iter()
                                .map(transaction::decode_from_pump)
                                .collect()
                        })
                        .unwrap_or_default();
                    if decoded != [Ok(message.clone())] {
                        return Err(Violation(format!(
                            "{message:?} re-encoded decodes as {decoded:?}"
                        )));
                    }
                }
                Err(error) => outcomes.record(error.code()),
            }
        }
        Ok(())
    }
}

/// `transaction::split` and `decode_to_pump`: what a pump (the simulator) reads. A decoded
/// transaction that the encoder refuses is counted as `decoded_but_refused_by_encoder`, not
/// failed: the decoder accepts what a pump would, the encoder only what this controller sends.
#[derive(Debug, Default)]
pub struct ToPumpTransactions;

impl Target for ToPumpTransactions {
    fn name(&self) -> &'static str {
        "dart.to_pump"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        to_pump_payloads()
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let raws = match transaction::split(input) {
            Ok(raws) => raws,
            Err(error) => {
                outcomes.record(error.code());
                return Ok(());
            }
        };
        for raw in raws {
            match transaction::decode_to_pump(raw) {
                Ok(message) => {
                    outcomes.record(to_pump_code(&message));
                    let Ok(again) = transaction::encode_to_pump(std::slice::from_ref(&message))
                    else {
                        outcomes.record("decoded_but_refused_by_encoder");
                        continue;
                    };
                    let decoded: Vec<_> = transaction::split(&again)
                        .map(|raws| raws.into_iter().map(transaction::decode_to_pump).collect())
                        .unwrap_or_default();
                    if decoded != [Ok(message.clone())] {
                        return Err(Violation(format!(
                            "{message:?} re-encoded decodes as {decoded:?}"
                        )));
                    }
                }
                Err(error) => outcomes.record(error.code()),
            }
        }
        Ok(())
    }
}

/// `DartMaster::handle_input`: a bus master polling pumps 50H and 51H, with an authorization
/// queued, fed the input in reads of a few bytes with time moving on between them.
#[derive(Debug)]
pub struct Master {
    epoch: Instant,
}

impl Default for Master {
    fn default() -> Self {
        Master {
            epoch: Instant::now(),
        }
    }
}

fn event_code(event: &MasterEvent) -> Cow<'static, str> {
    Cow::Borrowed(match event {
        MasterEvent::PumpOnline { .. } => "pump_online",
        MasterEvent::PumpOffline { .. } => "pump_offline",
        MasterEvent::Message { message, .. } => from_pump_code(message),
        MasterEvent::UndecodableTransaction { error, .. } => error.code(),
        MasterEvent::CommandDelivered { .. } => "command_delivered",
        MasterEvent::CommandFailed { .. } => "command_failed",
        MasterEvent::LineError { error, .. } => error.code(),
        MasterEvent::UnexpectedFrame { .. } => "unexpected_frame",
        // Events added since: named after their variant.
        other => return Cow::Owned(variant_name(other)),
    })
}

/// `Variant` of `Variant { … }` or `Variant(…)`, in snake case.
fn variant_name(value: &impl std::fmt::Debug) -> String {
    let text = format!("{value:?}");
    let name = text
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Target for Master {
    fn name(&self) -> &'static str {
        "dart.master"
    }

    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let mut seeds = wire_examples();
        // A pump's whole answer to a poll: EOT, or its data block then an ACK of ours.
        for payload in from_pump_payloads() {
            let mut answer = Vec::new();
            answer.extend(
                Frame::data(pump(0x50), seq(1), payload)
                    .ok()
                    .map(|f| f.encode())
                    .unwrap_or_default(),
            );
            answer.extend(Frame::ack(pump(0x50), seq(0)).encode());
            answer.extend(
                Frame::new(pump(0x51), FrameKind::Eot(seq(0)))
                    .ok()
                    .map(|f| f.encode())
                    .unwrap_or_default(),
            );
            seeds.push(answer);
        }
        seeds
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        dart_dictionary()
    }

    fn reseal(&self, input: &mut Vec<u8>) {
        reseal_data_block(input);
    }

    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation> {
        let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50), pump(0x51)]));
        let _ = master.queue(pump(0x50), &[ToPump::Command(PumpCommand::Authorize)]);
        let mut now = self.epoch;
        let step = read_size(input, 64);
        for chunk in input.chunks(step) {
            while master.poll_transmit(now).is_some() {}
            master.handle_input(now, chunk);
            while let Some(event) = master.poll_event() {
                outcomes.record(event_code(&event));
            }
            now += Duration::from_millis(10);
            master.handle_timeout(now);
        }
        while let Some(event) = master.poll_event() {
            outcomes.record(event_code(&event));
        }
        Ok(())
    }
}
