//! The DART bus master: the controller's side of the line protocol, as a state machine with no
//! I/O and no clock.
//!
//! DART is half duplex with one master. The master speaks to one pump at a time and that pump
//! must answer before anyone else may speak (line-level specification):
//!
//! ```text
//! master            pump
//! POLL        →
//!             ←     EOT            nothing to report
//!             ←     DATA(n)        transactions; master answers ACK(n)
//! DATA(m)     →                    a queued command
//!             ←     ACK(m)         taken; or NAK(m): send it again
//! ```
//!
//! [`DartMaster`] goes round the configured pumps. On a pump's turn it sends that pump's oldest
//! queued command, or else a POLL, and waits for the answer until a deadline. No answer, or a
//! NAK, makes it send the same block again, up to a configured number of retries; after that the
//! command fails and a silent pump is reported offline.
//!
//! The caller owns the serial port and the clock, and drives the machine with five calls, in the
//! manner of `quinn-proto`:
//!
//! - [`DartMaster::handle_input`]: bytes read from the line;
//! - [`DartMaster::handle_timeout`]: the deadline from [`DartMaster::poll_timeout`] has passed;
//! - [`DartMaster::poll_transmit`]: bytes to write now, if any;
//! - [`DartMaster::poll_timeout`]: when to call `handle_timeout` next;
//! - [`DartMaster::poll_event`]: what happened, for the layers above.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::frame::{Frame, FrameDecoder, FrameError, FrameKind, MAX_PAYLOAD, PumpAddress, TxSeq};
use super::transaction::{self, FromPump, ToPump, TransactionError};

/// How the master runs the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    /// The pumps to poll, in polling order.
    pub pumps: Vec<PumpAddress>,
    /// How long a pump has to answer a block before it is sent again. The line specification
    /// gives pumps 25 ms; USB serial adapters add latency of their own, so adapters may allow
    /// more.
    pub response_timeout: Duration,
    /// How many times a block is sent again after no answer or a NAK, before giving up.
    pub max_retries: u8,
}

impl MasterConfig {
    /// The line specification's 25 ms answer time and three retries.
    #[must_use]
    pub fn new(pumps: Vec<PumpAddress>) -> Self {
        Self {
            pumps,
            response_timeout: Duration::from_millis(25),
            max_retries: 3,
        }
    }
}

/// Identifies a queued command in the events about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandId(u64);

impl CommandId {
    /// The number, unique within one master.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Why a command was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandFailure {
    /// The pump answered every attempt with NAK.
    Rejected,
    /// The pump did not answer any attempt.
    NoAnswer,
}

/// What happened on the bus, for the layers above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterEvent {
    /// The pump answers (again, or for the first time).
    PumpOnline {
        /// The pump.
        pump: PumpAddress,
    },
    /// The pump stopped answering.
    PumpOffline {
        /// The pump.
        pump: PumpAddress,
    },
    /// The pump reported something.
    Message {
        /// The pump.
        pump: PumpAddress,
        /// What it said.
        message: FromPump,
    },
    /// The pump sent a transaction this codec could not read; the other transactions of the
    /// same block are still reported.
    UndecodableTransaction {
        /// The pump.
        pump: PumpAddress,
        /// What was wrong.
        error: TransactionError,
    },
    /// The pump acknowledged a command.
    CommandDelivered {
        /// The pump.
        pump: PumpAddress,
        /// The command, as returned by [`DartMaster::queue`].
        command: CommandId,
    },
    /// A command was given up; it is not retried later, because a late AUTHORIZE or price
    /// change is worse than none.
    CommandFailed {
        /// The pump.
        pump: PumpAddress,
        /// The command.
        command: CommandId,
        /// Why.
        reason: CommandFailure,
    },
    /// Bytes on the line that did not form a block.
    LineError {
        /// What was wrong.
        error: FrameError,
    },
    /// A well-formed block that does not fit the conversation: a late answer, an answer from
    /// the wrong pump, or a reply of the wrong kind. It is otherwise ignored.
    UnexpectedFrame {
        /// The block.
        frame: Frame,
    },
}

/// A command that cannot be queued.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueueError {
    /// The pump is not in [`MasterConfig::pumps`].
    #[error("pump {pump} is not on this bus")]
    UnknownPump {
        /// The pump asked for.
        pump: PumpAddress,
    },
    /// An empty command.
    #[error("a command needs at least one transaction")]
    Empty,
    /// The transactions do not form a valid payload.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// The transactions do not fit in one block.
    #[error("the command needs {length} bytes but a block carries at most {MAX_PAYLOAD}")]
    TooLong {
        /// Payload length.
        length: usize,
    },
}

/// The DART bus master. See the module documentation for the conversation it runs.
#[derive(Debug)]
pub struct DartMaster {
    config: MasterConfig,
    pumps: Vec<PumpState>,
    /// Whose turn it is next, as an index into `pumps`.
    turn: usize,
    decoder: FrameDecoder,
    exchange: Option<Exchange>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<MasterEvent>,
    next_command: u64,
}

#[derive(Debug)]
struct PumpState {
    address: PumpAddress,
    link: Link,
    /// TX# for the next data block we send this pump.
    next_seq: TxSeq,
    /// TX# of the last data block we accepted from this pump, to spot a resent block whose ACK
    /// was lost.
    last_received: Option<TxSeq>,
    commands: VecDeque<QueuedCommand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Unknown,
    Online,
    Offline,
}

#[derive(Debug)]
struct QueuedCommand {
    id: CommandId,
    payload: Vec<u8>,
}

/// One block sent and the answer awaited.
#[derive(Debug)]
struct Exchange {
    pump: usize,
    request: Request,
    wire: Vec<u8>,
    attempts: u8,
    deadline: Instant,
}

#[derive(Debug, Clone, Copy)]
enum Request {
    Poll,
    Command { id: CommandId, seq: TxSeq },
}

impl DartMaster {
    /// A master for the configured bus; nothing is sent until [`DartMaster::poll_transmit`].
    #[must_use]
    pub fn new(config: MasterConfig) -> Self {
        let pumps = config
            .pumps
            .iter()
            .map(|&address| PumpState {
                address,
                link: Link::Unknown,
                next_seq: TxSeq::INITIAL,
                last_received: None,
                commands: VecDeque::new(),
            })
            .collect();
        Self {
            config,
            pumps,
            turn: 0,
            decoder: FrameDecoder::new(),
            exchange: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            next_command: 0,
        }
    }

    /// Queues transactions to send to `pump` in one data block, on the pump's next turn.
    ///
    /// # Errors
    /// A [`QueueError`] if the pump is not on this bus or the transactions do not make a block.
    pub fn queue(
        &mut self,
        pump: PumpAddress,
        transactions: &[ToPump],
    ) -> Result<CommandId, QueueError> {
        if transactions.is_empty() {
            return Err(QueueError::Empty);
        }
        let payload = transaction::encode_to_pump(transactions)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(QueueError::TooLong {
                length: payload.len(),
            });
        }
        let state = self
            .pumps
            .iter_mut()
            .find(|state| state.address == pump)
            .ok_or(QueueError::UnknownPump { pump })?;
        let id = CommandId(self.next_command);
        self.next_command += 1;
        state.commands.push_back(QueuedCommand { id, payload });
        Ok(id)
    }

    /// Takes bytes read from the line.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.decoder.push(bytes);
        while let Some(result) = self.decoder.next_frame() {
            match result {
                Ok(frame) => self.handle_frame(now, frame),
                // A damaged answer is not answered: the deadline passes and the block is sent
                // again, which is exactly what a NAK would have achieved.
                Err(error) => self.events.push_back(MasterEvent::LineError { error }),
            }
        }
    }

    /// Acts on a passed deadline: sends the block again or gives up on it. Calls before the
    /// deadline do nothing, so calling it too often is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(exchange) = &self.exchange else {
            return;
        };
        if now < exchange.deadline {
            return;
        }
        self.retry_or_give_up(now, CommandFailure::NoAnswer);
    }

    /// The bytes to write to the line now, if any. Starts the next pump's turn when the bus is
    /// free, so call it until it returns `None` after every other call.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if let Some(bytes) = self.transmit.pop_front() {
            return Some(bytes);
        }
        if self.exchange.is_some() {
            return None;
        }
        self.start_turn(now)
    }

    /// When [`DartMaster::handle_timeout`] must be called, if an answer is awaited.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.exchange.as_ref().map(|exchange| exchange.deadline)
    }

    /// The next thing that happened, oldest first.
    pub fn poll_event(&mut self) -> Option<MasterEvent> {
        self.events.pop_front()
    }

    /// Bytes skipped as line noise so far, for line-quality metrics.
    #[must_use]
    pub const fn discarded_bytes(&self) -> u64 {
        self.decoder.discarded()
    }

    fn start_turn(&mut self, now: Instant) -> Option<Vec<u8>> {
        let count = self.pumps.len();
        if count == 0 {
            return None;
        }
        let index = self.turn % count;
        self.turn = (index + 1) % count;
        let state = self.pumps.get(index)?;
        let (request, frame) = match state.commands.front() {
            Some(command) => {
                let seq = state.next_seq;
                let frame = Frame::data(state.address, seq, command.payload.clone()).ok()?;
                (
                    Request::Command {
                        id: command.id,
                        seq,
                    },
                    frame,
                )
            }
            None => (Request::Poll, Frame::poll(state.address)),
        };
        let wire = frame.encode();
        self.exchange = Some(Exchange {
            pump: index,
            request,
            wire: wire.clone(),
            attempts: 1,
            deadline: now + self.config.response_timeout,
        });
        Some(wire)
    }

    fn handle_frame(&mut self, now: Instant, frame: Frame) {
        // POLL and ACKPOLL are only ever sent by a master: this is our own transmission echoed
        // by the line driver, or a second master. Either way there is nothing to answer.
        if matches!(frame.kind(), FrameKind::Poll | FrameKind::AckPoll(_)) {
            return;
        }
        let Some(exchange) = &self.exchange else {
            self.events
                .push_back(MasterEvent::UnexpectedFrame { frame });
            return;
        };
        let index = exchange.pump;
        let request = exchange.request;
        let Some(state) = self.pumps.get(index) else {
            return;
        };
        let pump = state.address;
        if frame.address() != pump {
            self.events
                .push_back(MasterEvent::UnexpectedFrame { frame });
            return;
        }
        match (request, frame.kind()) {
            (Request::Poll, FrameKind::Eot(_)) => self.finish(index, true),
            (Request::Poll, FrameKind::Data { .. }) => {
                let FrameKind::Data { seq, payload } = frame.into_kind() else {
                    return;
                };
                self.mark_online(index);
                self.accept_data(index, seq, &payload);
                self.finish(index, true);
            }
            (Request::Command { id, seq }, FrameKind::Ack(acked)) if *acked == seq => {
                self.mark_online(index);
                if let Some(state) = self.pumps.get_mut(index) {
                    state.commands.pop_front();
                    state.next_seq = seq.next();
                }
                self.events
                    .push_back(MasterEvent::CommandDelivered { pump, command: id });
                self.finish(index, true);
            }
            (Request::Command { .. }, FrameKind::Nak(_)) => {
                self.mark_online(index);
                self.retry_or_give_up(now, CommandFailure::Rejected);
            }
            _ => self
                .events
                .push_back(MasterEvent::UnexpectedFrame { frame }),
        }
    }

    /// Acknowledges a pump's data block and reports its transactions, once.
    fn accept_data(&mut self, index: usize, seq: TxSeq, payload: &[u8]) {
        let Some(state) = self.pumps.get_mut(index) else {
            return;
        };
        let pump = state.address;
        self.transmit.push_back(Frame::ack(pump, seq).encode());
        // A pump sends a block again when our ACK was lost; its transactions were reported
        // the first time.
        if state.last_received == Some(seq) {
            return;
        }
        state.last_received = Some(seq);
        match transaction::split(payload) {
            Ok(raws) => {
                for raw in raws {
                    self.events
                        .push_back(match transaction::decode_from_pump(raw) {
                            Ok(message) => MasterEvent::Message { pump, message },
                            Err(error) => MasterEvent::UndecodableTransaction { pump, error },
                        });
                }
            }
            Err(error) => self
                .events
                .push_back(MasterEvent::UndecodableTransaction { pump, error }),
        }
    }

    fn retry_or_give_up(&mut self, now: Instant, failure: CommandFailure) {
        let Some(exchange) = &mut self.exchange else {
            return;
        };
        if exchange.attempts <= self.config.max_retries {
            exchange.attempts += 1;
            exchange.deadline = now + self.config.response_timeout;
            self.transmit.push_back(exchange.wire.clone());
            return;
        }
        let index = exchange.pump;
        let request = exchange.request;
        if let (Request::Command { id, .. }, Some(state)) = (request, self.pumps.get_mut(index)) {
            state.commands.pop_front();
            let pump = state.address;
            self.events.push_back(MasterEvent::CommandFailed {
                pump,
                command: id,
                reason: failure,
            });
        }
        self.finish(index, failure == CommandFailure::Rejected);
    }

    /// Ends the exchange; `answered` tells whether the pump answered at all.
    fn finish(&mut self, index: usize, answered: bool) {
        self.exchange = None;
        if answered {
            self.mark_online(index);
        } else if let Some(state) = self.pumps.get_mut(index)
            && state.link != Link::Offline
        {
            state.link = Link::Offline;
            let pump = state.address;
            self.events.push_back(MasterEvent::PumpOffline { pump });
        }
    }

    fn mark_online(&mut self, index: usize) {
        let Some(state) = self.pumps.get_mut(index) else {
            return;
        };
        if state.link == Link::Online {
            return;
        }
        if state.link == Link::Offline {
            // A pump that was gone may have restarted, and a restart sets TX# back to 0 on
            // both sides (line-level specification, on TX#).
            state.next_seq = TxSeq::INITIAL;
            state.last_received = None;
        }
        state.link = Link::Online;
        let pump = state.address;
        self.events.push_back(MasterEvent::PumpOnline { pump });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dart::transaction::{PumpCommand, PumpStatus, encode_from_pump};

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
            [MasterEvent::PumpOnline { pump: pump(0x50) }]
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
            [MasterEvent::PumpOnline { pump: pump(0x50) }]
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
                    error: FrameError::Garbage { discarded: 2 }
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
}
