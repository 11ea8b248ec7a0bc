//! The two ends of one ordered stream of messages (a station's outbox towards the hub, or the
//! hub's outbox towards one station), as state machines with no I/O and no clock.
//!
//! The sender keeps a window of messages in flight and forgets nothing until the receiver
//! acknowledges it *after committing it*; the transport may lose, repeat or reorder messages and
//! the broker may forget everything. Recovery is go-back-N: on (re)connection, when no
//! acknowledgement has advanced for a while, or when the receiver repeats its position (it saw a
//! gap), the sender starts again after the last acknowledged message. The receiver applies only
//! the next message in sequence, ignores repeats and holds nothing back: a message after a gap is
//! dropped and sent again by the sender.
//!
//! The adapter's loop is: feed events in ([`OutboundStream::connected`],
//! [`OutboundStream::on_ack`], [`OutboundStream::on_timeout`]), then ask
//! [`OutboundStream::to_send`] which sequence numbers to read from the outbox and publish, and
//! [`OutboundStream::timeout`] when to wake up next.

use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

/// Tuning of a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Messages sent and not yet acknowledged, at most.
    pub window: u64,
    /// With messages in flight and no acknowledgement for this long, send them again.
    pub resend_after: Duration,
    /// Each time the window is sent again without an acknowledgement coming back, the wait
    /// doubles, up to this: a receiver that cannot take the messages yet (a station not yet
    /// registered at HQ, a message of a newer schema) is asked again ever more rarely instead of
    /// being flooded.
    pub max_resend_after: Duration,
}

impl Default for StreamConfig {
    fn default() -> StreamConfig {
        StreamConfig {
            window: 512,
            resend_after: Duration::from_secs(3),
            max_resend_after: Duration::from_secs(120),
        }
    }
}

/// The sending end of a stream.
#[derive(Debug, Clone)]
pub struct OutboundStream {
    config: StreamConfig,
    /// Every message up to here is committed by the receiver.
    acked: u64,
    /// Every message up to here has been handed to the transport since the last go-back.
    sent: u64,
    connected: bool,
    /// When the acknowledged position last moved, or the last go-back.
    last_progress: Option<Instant>,
    /// A repeated acknowledgement sends the window again once per advance, not once per repeat.
    fast_resend_armed: bool,
    /// The wait before the next resend: `resend_after`, doubled by each resend that brought no
    /// progress.
    resend_wait: Duration,
}

/// What an acknowledgement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// The acknowledged position moved to `through`: the adapter records it durably.
    Advanced { through: u64 },
    /// The receiver repeated its position while messages are in flight: it saw a gap, so the
    /// window is sent again.
    GoBack { from: u64 },
    /// Nothing new (an old or repeated acknowledgement).
    Stale,
}

impl OutboundStream {
    /// A sender whose receiver has acknowledged everything up to `acked_through`.
    pub fn new(acked_through: u64, config: StreamConfig) -> OutboundStream {
        OutboundStream {
            config,
            acked: acked_through,
            sent: acked_through,
            connected: false,
            last_progress: None,
            fast_resend_armed: true,
            resend_wait: config.resend_after,
        }
    }

    pub fn acked_through(&self) -> u64 {
        self.acked
    }

    pub fn in_flight(&self) -> u64 {
        self.sent - self.acked
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The transport is up: everything not acknowledged is sent again, since nothing can be
    /// assumed of what the broker kept.
    pub fn connected(&mut self, now: Instant) {
        self.connected = true;
        self.sent = self.acked;
        self.last_progress = Some(now);
        self.fast_resend_armed = true;
    }

    /// The transport is down: nothing is sent until it is up again.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.sent = self.acked;
        self.last_progress = None;
    }

    /// The receiver says it has committed every message up to `through`.
    pub fn on_ack(&mut self, through: u64, now: Instant) -> AckOutcome {
        if through > self.acked {
            self.acked = through;
            // An acknowledgement may cover messages sent before a reconnection.
            self.sent = self.sent.max(through);
            self.last_progress = Some(now);
            self.fast_resend_armed = true;
            self.resend_wait = self.config.resend_after;
            AckOutcome::Advanced { through }
        } else if through == self.acked && self.sent > self.acked && self.fast_resend_armed {
            self.fast_resend_armed = false;
            self.go_back(now);
            AckOutcome::GoBack {
                from: self.acked + 1,
            }
        } else {
            AckOutcome::Stale
        }
    }

    /// When the adapter should call [`OutboundStream::on_timeout`], if anything is in flight.
    pub fn timeout(&self) -> Option<Instant> {
        if !self.connected || self.sent == self.acked {
            return None;
        }
        self.last_progress.map(|at| at + self.resend_wait)
    }

    /// Time has passed: with messages in flight and no progress for too long, go back.
    /// Returns whether it went back.
    pub fn on_timeout(&mut self, now: Instant) -> bool {
        match self.timeout() {
            Some(due) if now >= due => {
                self.go_back(now);
                self.resend_wait = self
                    .resend_wait
                    .saturating_mul(2)
                    .min(self.config.max_resend_after);
                true
            }
            _ => false,
        }
    }

    /// The sequence numbers to publish now, given that the outbox holds messages up to
    /// `available_through`. They count as sent when this returns.
    pub fn to_send(&mut self, available_through: u64) -> Option<RangeInclusive<u64>> {
        if !self.connected {
            return None;
        }
        let limit = available_through.min(self.acked.saturating_add(self.config.window));
        if limit <= self.sent {
            return None;
        }
        let range = self.sent + 1..=limit;
        self.sent = limit;
        Some(range)
    }

    /// The receiver's history and the sender's parted after `through` (a new stream starts
    /// there), or the receiver holds only that much (it lost the rest): everything after
    /// `through` is sent again, and `through` counts as acknowledged, even below the
    /// acknowledged position.
    pub fn restart_at(&mut self, through: u64, now: Instant) {
        self.acked = through;
        self.resend_wait = self.config.resend_after;
        self.fast_resend_armed = true;
        self.go_back(now);
    }

    fn go_back(&mut self, now: Instant) {
        self.sent = self.acked;
        self.last_progress = Some(now);
    }
}

/// What a receiver does with a message, given what it has committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The next message: apply it.
    Next,
    /// Already committed: ignore it, acknowledge again.
    Duplicate,
    /// A message after a gap: drop it, acknowledge the last committed position.
    AfterGap { expected: u64 },
}

/// Classifies the arrival of message `sequence` at a receiver that committed `1..=applied_through`.
pub fn classify(applied_through: u64, sequence: u64) -> Arrival {
    let expected = applied_through + 1;
    if sequence == expected {
        Arrival::Next
    } else if sequence < expected {
        Arrival::Duplicate
    } else {
        Arrival::AfterGap { expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(window: u64) -> StreamConfig {
        StreamConfig {
            window,
            resend_after: Duration::from_secs(2),
            max_resend_after: Duration::from_secs(16),
        }
    }

    #[test]
    fn a_receiver_that_never_answers_is_asked_ever_more_rarely() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(0, config(100));
        s.connected(t0);
        assert_eq!(s.to_send(3), Some(1..=3));
        let mut at = t0;
        let mut waits = Vec::new();
        while waits.len() < 6 {
            let due = s.timeout().unwrap();
            waits.push((due - at).as_secs());
            assert!(s.on_timeout(due));
            assert_eq!(s.to_send(3), Some(1..=3));
            at = due;
        }
        assert_eq!(waits, [2, 4, 8, 16, 16, 16]);
        // An acknowledgement brings the wait back to its start.
        assert_eq!(s.on_ack(1, at), AckOutcome::Advanced { through: 1 });
        assert_eq!(s.timeout(), Some(at + Duration::from_secs(2)));
    }

    #[test]
    fn a_restart_sends_again_after_the_given_position_even_below_the_acknowledged_one() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(0, config(100));
        s.connected(t0);
        assert_eq!(s.to_send(10), Some(1..=10));
        assert_eq!(s.on_ack(10, t0), AckOutcome::Advanced { through: 10 });
        s.restart_at(6, t0);
        assert_eq!(s.acked_through(), 6);
        assert_eq!(s.to_send(12), Some(7..=12));
    }

    #[test]
    fn sends_a_window_then_more_as_acknowledgements_come() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(0, config(3));
        assert_eq!(s.to_send(10), None, "nothing before the transport is up");
        s.connected(t0);
        assert_eq!(s.to_send(10), Some(1..=3));
        assert_eq!(s.to_send(10), None, "the window is full");
        assert_eq!(s.on_ack(2, t0), AckOutcome::Advanced { through: 2 });
        assert_eq!(s.to_send(10), Some(4..=5));
        assert_eq!(s.in_flight(), 3);
        assert_eq!(s.on_ack(5, t0), AckOutcome::Advanced { through: 5 });
        assert_eq!(s.to_send(5), None, "nothing more in the outbox");
        assert_eq!(s.timeout(), None, "nothing in flight, nothing to wait for");
    }

    #[test]
    fn a_reconnection_sends_everything_unacknowledged_again() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(4, config(100));
        s.connected(t0);
        assert_eq!(s.to_send(9), Some(5..=9));
        s.disconnected();
        assert_eq!(s.to_send(9), None);
        s.connected(t0);
        assert_eq!(s.to_send(9), Some(5..=9));
    }

    #[test]
    fn silence_sends_the_window_again_after_the_timeout() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(0, config(100));
        s.connected(t0);
        assert_eq!(s.to_send(3), Some(1..=3));
        assert_eq!(s.timeout(), Some(t0 + Duration::from_secs(2)));
        assert!(!s.on_timeout(t0 + Duration::from_secs(1)));
        assert!(s.on_timeout(t0 + Duration::from_secs(2)));
        assert_eq!(s.to_send(3), Some(1..=3));
    }

    #[test]
    fn a_repeated_position_goes_back_once_per_advance() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(0, config(100));
        s.connected(t0);
        assert_eq!(s.to_send(6), Some(1..=6));
        assert_eq!(s.on_ack(2, t0), AckOutcome::Advanced { through: 2 });
        // 3 was lost: the receiver repeats 2 for each of 4, 5 and 6.
        assert_eq!(s.on_ack(2, t0), AckOutcome::GoBack { from: 3 });
        assert_eq!(s.to_send(6), Some(3..=6));
        assert_eq!(s.on_ack(2, t0), AckOutcome::Stale);
        assert_eq!(s.on_ack(2, t0), AckOutcome::Stale);
        assert_eq!(s.to_send(6), None);
        assert_eq!(s.on_ack(6, t0), AckOutcome::Advanced { through: 6 });
    }

    #[test]
    fn an_acknowledgement_from_before_a_restart_moves_the_sender_on() {
        let t0 = Instant::now();
        let mut s = OutboundStream::new(0, config(100));
        s.connected(t0);
        // The receiver committed 1..=7 in an earlier life of the sender, whose record of the
        // acknowledgement was lost.
        assert_eq!(s.on_ack(7, t0), AckOutcome::Advanced { through: 7 });
        assert_eq!(s.to_send(9), Some(8..=9));
        assert_eq!(s.on_ack(3, t0), AckOutcome::Stale);
    }

    #[test]
    fn receivers_take_only_the_next_message() {
        assert_eq!(classify(0, 1), Arrival::Next);
        assert_eq!(classify(5, 6), Arrival::Next);
        assert_eq!(classify(5, 5), Arrival::Duplicate);
        assert_eq!(classify(5, 1), Arrival::Duplicate);
        assert_eq!(classify(5, 8), Arrival::AfterGap { expected: 6 });
    }
}
