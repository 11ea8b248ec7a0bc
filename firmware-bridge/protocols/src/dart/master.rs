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
    /// The pump answered a POLL with EOT after it had sent data (or for the first time): it has
    /// nothing more to report, so every question it took before has been answered.
    PumpQuiet {
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
        /// The transaction as received (`TRANS LNG DATA…`), or the whole payload when it could
        /// not even be cut into transactions, for the log.
        bytes: Vec<u8>,
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
    /// Bytes on the line that did not form a block: a damaged block, or noise (also the noise
    /// skipped before a good block, reported before it as [`FrameError::Garbage`]).
    LineError {
        /// What was wrong.
        error: FrameError,
        /// The bytes thrown away, as they came off the line, for the log.
        bytes: Vec<u8>,
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
    /// It answered its last POLL with EOT: nothing left to report.
    quiet: bool,
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
                quiet: false,
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
            let bytes = self.decoder.rejected().to_vec();
            match result {
                Ok(frame) => {
                    if !bytes.is_empty() {
                        let error = FrameError::Garbage {
                            discarded: bytes.len(),
                        };
                        self.events
                            .push_back(MasterEvent::LineError { error, bytes });
                    }
                    self.handle_frame(now, frame);
                }
                // A damaged answer is not answered: the deadline passes and the block is sent
                // again, which is exactly what a NAK would have achieved.
                Err(error) => self
                    .events
                    .push_back(MasterEvent::LineError { error, bytes }),
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
            (Request::Poll, FrameKind::Eot(_)) => {
                self.finish(index, true);
                if let Some(state) = self.pumps.get_mut(index)
                    && !state.quiet
                {
                    state.quiet = true;
                    self.events.push_back(MasterEvent::PumpQuiet { pump });
                }
            }
            (Request::Poll, FrameKind::Data { .. }) => {
                let FrameKind::Data { seq, payload } = frame.into_kind() else {
                    return;
                };
                self.mark_online(index);
                if let Some(state) = self.pumps.get_mut(index) {
                    state.quiet = false;
                }
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
                            Err(error) => MasterEvent::UndecodableTransaction {
                                pump,
                                error,
                                bytes: raw.to_bytes(),
                            },
                        });
                }
            }
            Err(error) => self.events.push_back(MasterEvent::UndecodableTransaction {
                pump,
                error,
                bytes: payload.to_vec(),
            }),
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
            state.quiet = false;
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
mod tests;
