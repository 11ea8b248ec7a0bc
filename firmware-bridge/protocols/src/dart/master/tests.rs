//! The bus master driven step by step with a fake clock, against a fake pump that answers as the
//! line specification says a pump does.

use super::*;
use crate::dart::transaction::{PumpCommand, PumpStatus, TransactionError, encode_from_pump};

const MS: Duration = Duration::from_millis(1);

fn pump(address: u8) -> PumpAddress {
    PumpAddress::new(address).unwrap()
}

fn seq(value: u8) -> TxSeq {
    TxSeq::new(value).unwrap()
}

fn events(master: &mut DartMaster) -> Vec<MasterEvent> {
    std::iter::from_fn(|| master.poll_event()).collect()
}

fn decode(bytes: &[u8]) -> Frame {
    let mut decoder = FrameDecoder::new();
    decoder.push(bytes);
    decoder.next_frame().unwrap().unwrap()
}

fn data_from(address: u8, tx: u8, messages: &[FromPump]) -> Vec<u8> {
    Frame::data(pump(address), seq(tx), encode_from_pump(messages).unwrap())
        .unwrap()
        .encode()
}

/// A pump in the test, answering the master as the line specification says a pump does.
struct FakePump {
    address: PumpAddress,
    /// What it says to the next POLL.
    outbox: Vec<FromPump>,
    next_seq: TxSeq,
    received: Vec<ToPump>,
    /// Answer the next n data blocks with NAK.
    naks: u8,
}

impl FakePump {
    fn new(address: u8) -> Self {
        Self {
            address: pump(address),
            outbox: Vec::new(),
            next_seq: TxSeq::INITIAL,
            received: Vec::new(),
            naks: 0,
        }
    }

    /// The pump's answer to bytes from the master, if they are for it.
    fn answer(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let frame = decode(bytes);
        if frame.address() != self.address {
            return None;
        }
        Some(match frame.into_kind() {
            FrameKind::Poll if self.outbox.is_empty() => {
                Frame::new(self.address, FrameKind::Eot(self.next_seq))
                    .unwrap()
                    .encode()
            }
            FrameKind::Poll => {
                let payload = encode_from_pump(&self.outbox).unwrap();
                Frame::data(self.address, self.next_seq, payload)
                    .unwrap()
                    .encode()
            }
            FrameKind::Ack(acked) => {
                assert_eq!(acked, self.next_seq);
                self.outbox.clear();
                self.next_seq = self.next_seq.next();
                return None;
            }
            FrameKind::Data { seq, .. } if self.naks > 0 => {
                self.naks -= 1;
                Frame::new(self.address, FrameKind::Nak(seq))
                    .unwrap()
                    .encode()
            }
            FrameKind::Data { seq, payload } => {
                for raw in transaction::split(&payload).unwrap() {
                    self.received
                        .push(transaction::decode_to_pump(raw).unwrap());
                }
                Frame::ack(self.address, seq).encode()
            }
            other => panic!("a pump does not expect {other:?}"),
        })
    }
}

/// Runs the bus for `steps` transmissions: every block the master sends reaches every pump,
/// and answers come back at once.
fn run(master: &mut DartMaster, pumps: &mut [FakePump], now: &mut Instant, steps: usize) {
    for _ in 0..steps {
        *now += MS;
        let Some(bytes) = master.poll_transmit(*now) else {
            master.handle_timeout(*now + Duration::from_secs(1));
            continue;
        };
        let answer = pumps.iter_mut().find_map(|pump| pump.answer(&bytes));
        match answer {
            Some(answer) => master.handle_input(*now, &answer),
            None if master.poll_timeout().is_some() => {
                *now += Duration::from_millis(30);
                master.handle_timeout(*now);
            }
            None => {}
        }
    }
}

#[test]
fn polls_pumps_in_turn_and_reports_them_online() {
    let t0 = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50), pump(0x51)]));
    assert_eq!(master.poll_transmit(t0), Some(vec![0x50, 0x20, 0xFA]));
    assert_eq!(master.poll_transmit(t0), None, "one conversation at a time");
    assert_eq!(master.poll_timeout(), Some(t0 + 25 * MS));
    master.handle_input(t0 + MS, &[0x50, 0x70, 0xFA]);
    assert_eq!(
        events(&mut master),
        [
            MasterEvent::PumpOnline { pump: pump(0x50) },
            MasterEvent::PumpQuiet { pump: pump(0x50) }
        ]
    );
    assert_eq!(master.poll_timeout(), None);
    assert_eq!(master.poll_transmit(t0 + MS), Some(vec![0x51, 0x20, 0xFA]));
    master.handle_input(t0 + 2 * MS, &[0x51, 0x70, 0xFA]);
    assert_eq!(
        master.poll_transmit(t0 + 2 * MS),
        Some(vec![0x50, 0x20, 0xFA])
    );
}

#[test]
fn acknowledges_pump_data_and_reports_each_transaction() {
    let t0 = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x51)]));
    master.poll_transmit(t0);
    let status = [FromPump::Status(PumpStatus::Filling)];
    // The answer arrives in two reads with noise in front.
    let wire = [&[0x00, 0x13][..], &data_from(0x51, 1, &status)].concat();
    master.handle_input(t0 + MS, &wire[..4]);
    assert_eq!(master.poll_transmit(t0 + MS), None);
    master.handle_input(t0 + 2 * MS, &wire[4..]);
    assert_eq!(
        master.poll_transmit(t0 + 2 * MS),
        Some(vec![0x51, 0xC1, 0xFA])
    );
    assert_eq!(
        events(&mut master),
        [
            // The noise is not dropped silently: it is reported with its bytes.
            MasterEvent::LineError {
                error: FrameError::Garbage { discarded: 2 },
                bytes: vec![0x00, 0x13],
            },
            MasterEvent::PumpOnline { pump: pump(0x51) },
            MasterEvent::Message {
                pump: pump(0x51),
                message: FromPump::Status(PumpStatus::Filling)
            },
        ]
    );
    assert_eq!(master.discarded_bytes(), 2);

    // Our ACK was lost: the pump sends the same block again. It is acknowledged again but
    // not reported twice.
    assert_eq!(
        master.poll_transmit(t0 + 3 * MS),
        Some(vec![0x51, 0x20, 0xFA])
    );
    master.handle_input(t0 + 4 * MS, &data_from(0x51, 1, &status));
    assert_eq!(
        master.poll_transmit(t0 + 4 * MS),
        Some(vec![0x51, 0xC1, 0xFA])
    );
    assert_eq!(events(&mut master), []);
}

/// A transaction the codec cannot read (here a DC101 of a length no form has) is reported
/// with its bytes; the block is still acknowledged and its other transactions reported.
#[test]
fn an_undecodable_transaction_is_reported_with_its_bytes() {
    let t0 = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x51)]));
    master.poll_transmit(t0);
    let bad_total = [0x65, 0x03, 0x01, 0x12, 0x34];
    let payload = [&[0x01, 0x01, 0x05][..], &bad_total].concat();
    let block = Frame::data(pump(0x51), seq(1), payload).unwrap().encode();
    master.handle_input(t0 + MS, &block);
    assert_eq!(
        master.poll_transmit(t0 + MS),
        Some(vec![0x51, 0xC1, 0xFA]),
        "acknowledged"
    );
    assert_eq!(
        events(&mut master),
        [
            MasterEvent::PumpOnline { pump: pump(0x51) },
            MasterEvent::Message {
                pump: pump(0x51),
                message: FromPump::Status(PumpStatus::FillingCompleted)
            },
            MasterEvent::UndecodableTransaction {
                pump: pump(0x51),
                error: TransactionError::BadLength {
                    trans: 0x65,
                    length: 3
                },
                bytes: bad_total.to_vec(),
            },
        ]
    );

    // A payload whose lengths lie cannot be cut at all: all of it is reported.
    master.poll_transmit(t0 + 2 * MS);
    let lying = vec![0x01, 0x09, 0x04];
    let block = Frame::data(pump(0x51), seq(2), lying.clone())
        .unwrap()
        .encode();
    master.handle_input(t0 + 3 * MS, &block);
    assert_eq!(
        events(&mut master),
        [MasterEvent::UndecodableTransaction {
            pump: pump(0x51),
            error: TransactionError::Truncated {
                trans: 0x01,
                declared: 9,
                available: 1
            },
            bytes: lying,
        }]
    );
}

#[test]
fn a_damaged_block_is_reported_with_its_bytes() {
    let t0 = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x51)]));
    master.poll_transmit(t0);
    let mut damaged = data_from(0x51, 1, &[FromPump::Status(PumpStatus::Reset)]);
    damaged[4] = 0x02;
    master.handle_input(t0 + MS, &damaged);
    let found = events(&mut master);
    let [MasterEvent::LineError { error, bytes }] = found.as_slice() else {
        panic!("{found:?}");
    };
    assert_eq!(error.code(), "dart.bad_crc");
    assert_eq!(bytes, &damaged);
    assert!(master.poll_timeout().is_some(), "the poll is sent again");
}

/// A pump is quiet once it answers EOT after data: what it took before is all answered.
#[test]
fn a_pump_is_reported_quiet_when_it_has_nothing_more_to_say() {
    let mut now = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    let mut pumps = [FakePump::new(0x50)];
    run(&mut master, &mut pumps, &mut now, 3);
    let quiet = MasterEvent::PumpQuiet { pump: pump(0x50) };
    let found = events(&mut master);
    assert_eq!(
        found.iter().filter(|event| **event == quiet).count(),
        1,
        "once, not at every EOT: {found:?}"
    );
    pumps[0].outbox = vec![FromPump::Status(PumpStatus::FillingCompleted)];
    run(&mut master, &mut pumps, &mut now, 3);
    let found = events(&mut master);
    let message = found
        .iter()
        .position(|event| matches!(event, MasterEvent::Message { .. }))
        .unwrap();
    assert_eq!(
        found.iter().position(|event| *event == quiet),
        Some(message + 1),
        "{found:?}"
    );
}

#[test]
fn delivers_queued_commands_with_rising_sequence_numbers() {
    let mut now = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50), pump(0x51)]));
    let mut pumps = [FakePump::new(0x50), FakePump::new(0x51)];
    let reset = master
        .queue(pump(0x51), &[ToPump::Command(PumpCommand::Reset)])
        .unwrap();
    let authorize = master
        .queue(pump(0x51), &[ToPump::Command(PumpCommand::Authorize)])
        .unwrap();
    run(&mut master, &mut pumps, &mut now, 6);
    assert_eq!(
        pumps[1].received,
        [
            ToPump::Command(PumpCommand::Reset),
            ToPump::Command(PumpCommand::Authorize)
        ]
    );
    let delivered: Vec<_> = events(&mut master)
        .into_iter()
        .filter(|event| matches!(event, MasterEvent::CommandDelivered { .. }))
        .collect();
    assert_eq!(
        delivered,
        [
            MasterEvent::CommandDelivered {
                pump: pump(0x51),
                command: reset
            },
            MasterEvent::CommandDelivered {
                pump: pump(0x51),
                command: authorize
            },
        ]
    );
    // First block TX# 0, the next 1.
    assert_eq!(master.pumps[1].next_seq, seq(2));
}

#[test]
fn a_full_filling_through_a_fake_pump() {
    let mut now = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x52)]));
    let mut pumps = [FakePump::new(0x52)];
    master
        .queue(pump(0x52), &[ToPump::Command(PumpCommand::Authorize)])
        .unwrap();
    run(&mut master, &mut pumps, &mut now, 2);
    pumps[0].outbox = vec![FromPump::Status(PumpStatus::FillingCompleted)];
    run(&mut master, &mut pumps, &mut now, 3);
    let messages: Vec<_> = events(&mut master)
        .into_iter()
        .filter_map(|event| match event {
            MasterEvent::Message { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(messages, [FromPump::Status(PumpStatus::FillingCompleted)]);
    assert!(pumps[0].outbox.is_empty(), "the pump saw our ACK");
}

#[test]
fn resends_after_nak_then_delivers() {
    let mut now = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    let mut pumps = [FakePump::new(0x50)];
    pumps[0].naks = 2;
    let id = master
        .queue(pump(0x50), &[ToPump::Command(PumpCommand::Stop)])
        .unwrap();
    run(&mut master, &mut pumps, &mut now, 3);
    assert_eq!(pumps[0].received, [ToPump::Command(PumpCommand::Stop)]);
    assert!(
        events(&mut master).contains(&MasterEvent::CommandDelivered {
            pump: pump(0x50),
            command: id
        })
    );
}

#[test]
fn gives_up_after_the_configured_naks() {
    let mut now = Instant::now();
    let mut config = MasterConfig::new(vec![pump(0x50)]);
    config.max_retries = 1;
    let mut master = DartMaster::new(config);
    let mut pumps = [FakePump::new(0x50)];
    pumps[0].naks = 10;
    let id = master
        .queue(pump(0x50), &[ToPump::Command(PumpCommand::Authorize)])
        .unwrap();
    run(&mut master, &mut pumps, &mut now, 2);
    assert_eq!(
        events(&mut master),
        [
            MasterEvent::PumpOnline { pump: pump(0x50) },
            MasterEvent::CommandFailed {
                pump: pump(0x50),
                command: id,
                reason: CommandFailure::Rejected
            },
        ]
    );
    assert!(pumps[0].received.is_empty());
    // The next turn is a plain POLL: the failed command is not sent again.
    assert_eq!(master.poll_transmit(now), Some(vec![0x50, 0x20, 0xFA]));
}

#[test]
fn retries_on_timeout_then_reports_offline_and_back_online() {
    let t0 = Instant::now();
    let mut config = MasterConfig::new(vec![pump(0x50)]);
    config.max_retries = 2;
    config.response_timeout = 40 * MS;
    let mut master = DartMaster::new(config);
    let poll = vec![0x50, 0x20, 0xFA];
    assert_eq!(master.poll_transmit(t0), Some(poll.clone()));

    master.handle_timeout(t0 + 39 * MS);
    assert_eq!(master.poll_transmit(t0 + 39 * MS), None, "not yet");
    for _ in 0..2 {
        let now = master.poll_timeout().unwrap();
        master.handle_timeout(now);
        assert_eq!(master.poll_transmit(now), Some(poll.clone()), "sent again");
    }
    let now = master.poll_timeout().unwrap();
    master.handle_timeout(now);
    assert_eq!(
        events(&mut master),
        [MasterEvent::PumpOffline { pump: pump(0x50) }]
    );
    assert_eq!(master.poll_timeout(), None);

    // Still polled, and reported back when it answers.
    assert_eq!(master.poll_transmit(now), Some(poll));
    master.handle_input(now + MS, &[0x50, 0x70, 0xFA]);
    assert_eq!(
        events(&mut master),
        [
            MasterEvent::PumpOnline { pump: pump(0x50) },
            MasterEvent::PumpQuiet { pump: pump(0x50) }
        ]
    );
}

#[test]
fn a_command_to_a_silent_pump_fails() {
    let t0 = Instant::now();
    let mut config = MasterConfig::new(vec![pump(0x50)]);
    config.max_retries = 0;
    let mut master = DartMaster::new(config);
    let id = master
        .queue(pump(0x50), &[ToPump::Command(PumpCommand::Reset)])
        .unwrap();
    let sent = master.poll_transmit(t0).unwrap();
    // CD1 RESET in the first data block, TX# 0.
    assert_eq!(sent, [0x50, 0x30, 0x01, 0x01, 0x05, 0x5F, 0x5F, 0x03, 0xFA]);
    master.handle_timeout(t0 + Duration::from_secs(1));
    assert_eq!(
        events(&mut master),
        [
            MasterEvent::CommandFailed {
                pump: pump(0x50),
                command: id,
                reason: CommandFailure::NoAnswer
            },
            MasterEvent::PumpOffline { pump: pump(0x50) },
        ]
    );
}

#[test]
fn reports_line_errors_and_unexpected_frames() {
    let t0 = Instant::now();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50), pump(0x51)]));
    // Nothing asked yet: an answer is unexpected.
    master.handle_input(t0, &[0x50, 0x70, 0xFA]);
    master.poll_transmit(t0);
    // Our own POLL echoed is ignored; another pump's answer and noise are reported.
    master.handle_input(t0, &[0x50, 0x20, 0xFA, 0x51, 0x70, 0xFA, 0x01, 0xFA]);
    assert_eq!(
        events(&mut master),
        [
            MasterEvent::UnexpectedFrame {
                frame: decode(&[0x50, 0x70, 0xFA])
            },
            MasterEvent::UnexpectedFrame {
                frame: decode(&[0x51, 0x70, 0xFA])
            },
            MasterEvent::LineError {
                error: FrameError::Garbage { discarded: 2 },
                bytes: vec![0x01, 0xFA],
            },
        ]
    );
    assert!(master.poll_timeout().is_some(), "still waiting for 50H");
}

#[test]
fn queue_rejects_what_cannot_be_sent() {
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    assert_eq!(
        master.queue(pump(0x51), &[ToPump::Command(PumpCommand::Reset)]),
        Err(QueueError::UnknownPump { pump: pump(0x51) })
    );
    assert_eq!(master.queue(pump(0x50), &[]), Err(QueueError::Empty));
    let many = vec![ToPump::Command(PumpCommand::ReturnStatus); 90];
    assert_eq!(
        master.queue(pump(0x50), &many),
        Err(QueueError::TooLong { length: 270 })
    );
    assert_eq!(
        DartMaster::new(MasterConfig::new(vec![])).poll_transmit(Instant::now()),
        None
    );
}
