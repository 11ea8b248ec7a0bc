//! Talking to the console one command at a time, as a state machine with no I/O and no clock.
//!
//! The console answers each command with one reply and has no addressing or sequence numbers,
//! so the only way to pair a reply with its command is to have one command outstanding. A
//! command with no complete reply by its deadline is reported and dropped; the caller decides
//! whether to ask again. It is driven like the DART master: `poll_transmit`, `handle_input`,
//! `handle_timeout`, `poll_timeout`, `poll_event`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::message::{
    Command, Format, Function, ReplyDecoder, ReplyError, computer_reply_data, display_reply_text,
};
use super::reports::{
    DeliveryReport, DisplayInventory, InventoryReport, parse_deliveries, parse_display_inventory,
    parse_inventory,
};
use super::units::{SystemUnitsReport, parse_system_units};

/// A reply, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `i201`.
    Inventory(InventoryReport),
    /// `i202`.
    Deliveries(DeliveryReport),
    /// `I201`: the inventory table.
    DisplayInventory(DisplayInventory),
    /// `i505`: the console's system units.
    SystemUnits(SystemUnitsReport),
    /// Any other display-format report, as text.
    DisplayText(String),
}

/// What happened on the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsEvent {
    /// The console answered a command.
    Reply {
        /// The command.
        command: Command,
        /// Its reply, or why the reply could not be used.
        reply: Result<Reply, ReplyError>,
    },
    /// No complete reply before the deadline.
    TimedOut {
        /// The command.
        command: Command,
    },
    /// Bytes that answer nothing: noise, or a reply that came after its deadline.
    Unsolicited {
        /// What they were.
        error: ReplyError,
    },
}

/// One console on one serial line.
#[derive(Debug)]
pub struct TlsClient {
    timeout: Duration,
    queue: VecDeque<Command>,
    pending: Option<(Command, Instant)>,
    decoder: ReplyDecoder,
    events: VecDeque<TlsEvent>,
}

impl TlsClient {
    /// A client that gives each command `timeout` to be answered. Long reports at 1200 baud
    /// take seconds, so this is the adapter's choice.
    #[must_use]
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            queue: VecDeque::new(),
            pending: None,
            decoder: ReplyDecoder::new(),
            events: VecDeque::new(),
        }
    }

    /// Queues a command; it is sent when the previous ones are answered or timed out.
    pub fn queue(&mut self, command: Command) {
        self.queue.push_back(command);
    }

    /// The bytes to write now, if any.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.pending.is_some() {
            return None;
        }
        let command = self.queue.pop_front()?;
        self.pending = Some((command, now + self.timeout));
        Some(command.encode())
    }

    /// Takes bytes read from the line.
    pub fn handle_input(&mut self, _now: Instant, bytes: &[u8]) {
        self.decoder.push(bytes);
        while let Some(result) = self.decoder.next_reply() {
            let event = match (result, self.pending.take()) {
                (Ok(reply), Some((command, _))) => TlsEvent::Reply {
                    command,
                    reply: read_reply(&reply, &command),
                },
                (Ok(_), None) => TlsEvent::Unsolicited {
                    error: ReplyError::Garbage { discarded: 0 },
                },
                (Err(error), pending) => {
                    self.pending = pending;
                    TlsEvent::Unsolicited { error }
                }
            };
            self.events.push_back(event);
        }
    }

    /// Gives up on a command whose deadline has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some((command, deadline)) = self.pending
            && now >= deadline
        {
            self.pending = None;
            self.decoder.clear();
            self.events.push_back(TlsEvent::TimedOut { command });
        }
    }

    /// When [`TlsClient::handle_timeout`] must be called, if a reply is awaited.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.map(|(_, deadline)| deadline)
    }

    /// The next thing that happened, oldest first.
    pub fn poll_event(&mut self) -> Option<TlsEvent> {
        self.events.pop_front()
    }
}

fn read_reply(reply: &[u8], command: &Command) -> Result<Reply, ReplyError> {
    match command.format {
        Format::Computer => {
            let data = computer_reply_data(reply, command)?;
            match command.function {
                Function::InTankInventory => parse_inventory(&data).map(Reply::Inventory),
                Function::DeliveryReport => parse_deliveries(&data).map(Reply::Deliveries),
                Function::SystemUnits => parse_system_units(&data).map(Reply::SystemUnits),
            }
        }
        Format::Display => {
            let text = display_reply_text(reply, command)?;
            match command.function {
                Function::InTankInventory => {
                    parse_display_inventory(&text).map(Reply::DisplayInventory)
                }
                Function::DeliveryReport | Function::SystemUnits => Ok(Reply::DisplayText(text)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::{TankSelector, checksum};
    use super::*;

    const INVENTORY: Command = Command {
        format: Format::Computer,
        function: Function::InTankInventory,
        tank: TankSelector::ALL,
    };

    fn reply(body: &str) -> Vec<u8> {
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(body.as_bytes());
        bytes.extend_from_slice(b"&&");
        let sum = checksum(&bytes);
        bytes.extend_from_slice(format!("{sum:04X}").as_bytes());
        bytes.push(0x03);
        bytes
    }

    fn events(client: &mut TlsClient) -> Vec<TlsEvent> {
        std::iter::from_fn(|| client.poll_event()).collect()
    }

    #[test]
    fn one_command_at_a_time_and_replies_paired() {
        let t0 = Instant::now();
        let mut client = TlsClient::new(Duration::from_secs(5));
        client.queue(INVENTORY);
        client.queue(INVENTORY);
        assert_eq!(client.poll_transmit(t0), Some(b"\x01i20100".to_vec()));
        assert_eq!(client.poll_transmit(t0), None);
        assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(5)));

        let answer = reply("i201002403150830");
        client.handle_input(t0, &answer[..7]);
        assert_eq!(events(&mut client), []);
        client.handle_input(t0, &answer[7..]);
        let found = events(&mut client);
        let [
            TlsEvent::Reply {
                command,
                reply: Ok(Reply::Inventory(report)),
            },
        ] = found.as_slice()
        else {
            panic!("no inventory: {found:?}");
        };
        assert_eq!(*command, INVENTORY);
        assert!(report.tanks.is_empty());
        assert!(
            client.poll_transmit(t0).is_some(),
            "the second command goes out"
        );
    }

    #[test]
    fn a_silent_console_times_out_and_a_late_reply_is_unsolicited() {
        let t0 = Instant::now();
        let mut client = TlsClient::new(Duration::from_secs(2));
        client.queue(INVENTORY);
        client.poll_transmit(t0);
        client.handle_input(t0, b"\x01i2010024");
        client.handle_timeout(t0 + Duration::from_secs(1));
        assert_eq!(events(&mut client), []);
        client.handle_timeout(t0 + Duration::from_secs(2));
        assert_eq!(
            events(&mut client),
            [TlsEvent::TimedOut { command: INVENTORY }]
        );
        assert_eq!(client.poll_timeout(), None);

        client.handle_input(t0, &reply("i201002403150830"));
        assert!(matches!(
            events(&mut client).as_slice(),
            [TlsEvent::Unsolicited { .. }]
        ));
    }

    #[test]
    fn a_rejected_or_damaged_reply_is_reported_with_its_command() {
        let t0 = Instant::now();
        let mut client = TlsClient::new(Duration::from_secs(2));
        client.queue(INVENTORY);
        client.poll_transmit(t0);
        client.handle_input(t0, b"\x019999FF1B\x03");
        assert_eq!(
            events(&mut client),
            [TlsEvent::Reply {
                command: INVENTORY,
                reply: Err(ReplyError::CommandNotUnderstood)
            }]
        );
        // A console that speaks only display format prints its report instead.
        client.queue(INVENTORY);
        client.poll_transmit(t0);
        client.handle_input(t0, b"\x01\r\nI20100\r\nIN-TANK INVENTORY\r\n\x03");
        assert_eq!(
            events(&mut client),
            [TlsEvent::Reply {
                command: INVENTORY,
                reply: Err(ReplyError::DisplayFormatReply)
            }]
        );
    }

    #[test]
    fn reads_the_system_units() {
        let t0 = Instant::now();
        let mut client = TlsClient::new(Duration::from_secs(2));
        let units = Command {
            function: Function::SystemUnits,
            ..INVENTORY
        };
        client.queue(units);
        assert_eq!(client.poll_transmit(t0), Some(b"\x01i50500".to_vec()));
        client.handle_input(t0, &reply("i5050024031508301"));
        let found = events(&mut client);
        let [
            TlsEvent::Reply {
                reply: Ok(Reply::SystemUnits(report)),
                ..
            },
        ] = found.as_slice()
        else {
            panic!("no system units: {found:?}");
        };
        assert_eq!(
            report.volume_unit,
            super::super::units::VolumeUnit::UsGallon
        );
    }
}
