//! Reading a pump back, and recording what it held, whatever the line or the database do.
//!
//! Whenever a pump comes (back) online, and after every filling, the supervisor asks the pump
//! for its status, the filling it holds (a pump keeps its last filling until the next
//! authorization) and its totals counters per nozzle: a [`ReadBack`]. The pump answers in the
//! order it was asked, and only on a poll after it took the question, so once every volume
//! counter has been reported after its question was taken, the status, volume, amount, nozzle
//! and price asked before them have been reported too: the supervisor's view of the pump holds
//! the pump's own answers. Money counters are asked first and not waited for, so a pump that
//! keeps none holds nothing up.
//!
//! What was read back goes to the station as one [`PumpReadBack`], recorded idempotently (the
//! filling is known by its pump, nozzle and volume counter). A read-back the station does not
//! take (the database is busy, its disk failing) waits in [`Unrecorded`] and is tried again,
//! never dropped.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use forecourt_protocols::dart::transaction::{NozzleNumber, PumpStatus, TotalCounter};
use forecourt_protocols::dart::{CommandId, PumpAddress};
use jiff::Timestamp;
use pump_controller::{PumpError, PumpLine};
use station_core::{
    Millilitres, NewFueling, NozzleCounters, PumpReadBack, ReadBackOutcome, StationError,
    UnitPrice, Won,
};

use super::{ML_PER_PUMP_UNIT, Supervisor};

/// How long a read-back may take before it is asked again.
pub(super) const READ_BACK_RETRY: Duration = Duration::from_secs(5);
/// How long a read-back the station did not take waits before it is tried again.
pub(super) const RECORD_RETRY: Duration = Duration::from_millis(500);

/// Why a pump is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Why {
    /// It came (back) online: the line reopened, the runtime started, it answers again.
    Reconnected,
    /// A filling ended.
    FillingEnded,
}

impl Why {
    /// Of two reasons, the one the grid shows: a filling ended outweighs a reconnection.
    fn or(self, other: Why) -> Why {
        if self == Why::FillingEnded || other == Why::FillingEnded {
            Why::FillingEnded
        } else {
            Why::Reconnected
        }
    }
}

/// Where a pump's read-back stands. One read-back at a time: a reason that comes while one is
/// asked is kept for the next.
#[derive(Debug, Clone, Default)]
pub(super) enum ReadBackState {
    /// Nothing to read back.
    #[default]
    Done,
    /// To be asked once the pump is quiet after the reason came (so that no answer to an older
    /// question can be taken for an answer to these), and not before `not_before`.
    Needed {
        why: Why,
        quiet: bool,
        not_before: Option<Instant>,
    },
    /// Asked; `again` if another reason came meanwhile.
    Asked {
        why: Why,
        read_back: ReadBack,
        again: Option<Why>,
    },
}

impl ReadBackState {
    fn needed(why: Why) -> ReadBackState {
        ReadBackState::Needed {
            why,
            quiet: false,
            not_before: None,
        }
    }

    /// A reason to read the pump back.
    pub(super) fn trigger(&mut self, reason: Why) {
        match self {
            ReadBackState::Done => *self = ReadBackState::needed(reason),
            ReadBackState::Needed { why, quiet, .. } => {
                *why = why.or(reason);
                *quiet = false;
            }
            ReadBackState::Asked { again, .. } => {
                *again = Some(again.map_or(reason, |other| other.or(reason)));
            }
        }
    }

    /// The pump said all it had to say.
    pub(super) fn quiet(&mut self) {
        if let ReadBackState::Needed { quiet, .. } = self {
            *quiet = true;
        }
    }

    /// The pump went silent or the line down: whatever was asked is asked afresh once the pump
    /// is back and quiet.
    pub(super) fn lost(&mut self) {
        match self {
            ReadBackState::Done => {}
            ReadBackState::Needed { quiet, .. } => *quiet = false,
            ReadBackState::Asked { why, again, .. } => {
                *self = ReadBackState::needed(again.map_or(*why, |other| other.or(*why)));
            }
        }
    }

    /// The pump, still online, refused a question or left it unanswered too long: asked afresh
    /// after [`READ_BACK_RETRY`]. It was quiet before and has been silent since, so nothing
    /// older waits to be answered.
    pub(super) fn retry_later(&mut self, now: Instant) {
        let why = match self {
            ReadBackState::Done => return,
            ReadBackState::Needed { why, .. } => *why,
            ReadBackState::Asked { why, again, .. } => again.map_or(*why, |other| other.or(*why)),
        };
        *self = ReadBackState::Needed {
            why,
            quiet: true,
            not_before: Some(now + READ_BACK_RETRY),
        };
    }

    /// Time to ask.
    pub(super) fn is_due(&self, now: Instant) -> bool {
        matches!(
            self,
            ReadBackState::Needed { quiet: true, not_before, .. }
                if not_before.is_none_or(|at| now >= at)
        )
    }

    /// Why a read-back is needed or under way; `None` when done.
    pub(super) fn reason(&self) -> Option<Why> {
        match self {
            ReadBackState::Done => None,
            ReadBackState::Needed { why, .. } | ReadBackState::Asked { why, .. } => Some(*why),
        }
    }

    /// The read-back asked, to hear its answers.
    pub(super) fn asked(&mut self) -> Option<&mut ReadBack> {
        match self {
            ReadBackState::Asked { read_back, .. } => Some(read_back),
            _ => None,
        }
    }

    /// Takes the completed read-back out; the next is needed if a reason came meanwhile.
    pub(super) fn take_complete(&mut self) -> Option<ReadBack> {
        let ReadBackState::Asked {
            read_back, again, ..
        } = self
        else {
            return None;
        };
        if !read_back.is_complete() {
            return None;
        }
        let read_back = read_back.clone();
        *self = again.map_or(ReadBackState::Done, ReadBackState::needed);
        Some(read_back)
    }
}

/// The questions put to one pump, and the counters it answered so far.
#[derive(Debug, Clone)]
pub(super) struct ReadBack {
    started: Instant,
    /// Questions the pump has not taken yet.
    untaken: BTreeSet<CommandId>,
    counters: Vec<CounterRead>,
}

#[derive(Debug, Clone)]
struct CounterRead {
    counter: TotalCounter,
    question: CommandId,
    /// The value reported after the question was taken, in the pump's unit.
    value: Option<u64>,
}

impl ReadBack {
    /// Asks `pump` for its state, then the money and the volume counters of `nozzles`.
    pub(super) fn start(
        line: &mut PumpLine,
        pump: PumpAddress,
        nozzles: &[NozzleNumber],
        now: Instant,
    ) -> Result<ReadBack, PumpError> {
        let mut untaken = BTreeSet::from([line.request_state(pump)?]);
        let mut counters = Vec::with_capacity(2 * nozzles.len());
        let money = nozzles.iter().map(|&n| TotalCounter::NozzleAmount(n));
        let volume = nozzles.iter().map(|&n| TotalCounter::NozzleVolume(n));
        for counter in money.chain(volume) {
            let question = line.request_total(pump, counter)?;
            untaken.insert(question);
            counters.push(CounterRead {
                counter,
                question,
                value: None,
            });
        }
        Ok(ReadBack {
            started: now,
            untaken,
            counters,
        })
    }

    /// The pump took a question; false if it was not one of ours.
    pub(super) fn taken(&mut self, command: CommandId) -> bool {
        self.untaken.remove(&command)
    }

    /// Whether `command` is one of the questions.
    pub(super) fn asked(&self, command: CommandId) -> bool {
        self.counters.iter().any(|read| read.question == command) || self.untaken.contains(&command)
    }

    /// The pump reported a counter: kept if it answers a question already taken.
    pub(super) fn reported(&mut self, counter: TotalCounter, value: u64) {
        let untaken = &self.untaken;
        if let Some(read) = self
            .counters
            .iter_mut()
            .find(|read| read.counter == counter && !untaken.contains(&read.question))
        {
            read.value = Some(value);
        }
    }

    /// Every question taken and every volume counter answered.
    pub(super) fn is_complete(&self) -> bool {
        self.untaken.is_empty()
            && self
                .counters
                .iter()
                .filter(|read| matches!(read.counter, TotalCounter::NozzleVolume(_)))
                .all(|read| read.value.is_some())
    }

    /// Asked too long ago to be still waited for.
    pub(super) fn is_overdue(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) >= READ_BACK_RETRY
    }

    /// Per nozzle that answered its volume counter: the nozzle, its volume counter and its
    /// money counter if the pump reported it, in the pump's units.
    pub(super) fn counters(&self) -> Vec<(u8, u64, Option<u64>)> {
        self.counters
            .iter()
            .filter_map(|read| match (read.counter, read.value) {
                (TotalCounter::NozzleVolume(nozzle), Some(volume)) => {
                    let amount = self
                        .counters
                        .iter()
                        .find(|other| other.counter == TotalCounter::NozzleAmount(nozzle))
                        .and_then(|other| other.value);
                    Some((nozzle.get(), volume, amount))
                }
                _ => None,
            })
            .collect()
    }
}

/// Read-backs the station has not taken yet, oldest first.
#[derive(Debug, Default)]
pub(super) struct Unrecorded {
    waiting: VecDeque<Waiting>,
    next_try: Option<Instant>,
}

#[derive(Debug)]
struct Waiting {
    read_back: PumpReadBack,
    /// Refused by the station's rules rather than its storage: logged once, still kept.
    refused: bool,
}

impl Unrecorded {
    /// Queues a read-back, to be tried at once.
    pub(super) fn push(&mut self, read_back: PumpReadBack) {
        self.waiting.push_back(Waiting {
            read_back,
            refused: false,
        });
        self.next_try = None;
    }

    /// Finished fillings waiting to be recorded.
    pub(super) fn fillings(&self) -> u64 {
        let count = self
            .waiting
            .iter()
            .filter(|waiting| waiting.read_back.held_filling.is_some())
            .count();
        u64::try_from(count).unwrap_or(u64::MAX)
    }

    /// Whether a filling of `pump` waits to be recorded.
    pub(super) fn holds_filling_of(&self, pump: u8) -> bool {
        self.waiting.iter().any(|waiting| {
            waiting.read_back.pump == pump && waiting.read_back.held_filling.is_some()
        })
    }

    /// Tries the waiting read-backs in order, if it is time, and returns what the station
    /// recorded. A storage fault ends the round (the next would meet the same fault); a
    /// read-back the station refuses is logged and kept, and the others are tried.
    pub(super) fn record_due(
        &mut self,
        now: Instant,
        mut record: impl FnMut(&PumpReadBack) -> Result<ReadBackOutcome, StationError>,
    ) -> Vec<(u8, ReadBackOutcome)> {
        if self.waiting.is_empty() || self.next_try.is_some_and(|at| now < at) {
            return Vec::new();
        }
        let mut recorded = Vec::new();
        let mut kept = VecDeque::new();
        let mut stopped = false;
        while let Some(mut waiting) = self.waiting.pop_front() {
            if stopped {
                kept.push_back(waiting);
                continue;
            }
            match record(&waiting.read_back) {
                Ok(outcome) => recorded.push((waiting.read_back.pump, outcome)),
                Err(error) if error.is_storage_fault() => {
                    tracing::warn!(
                        %error,
                        pump = %format!("{:X}", waiting.read_back.pump),
                        "the station did not take a pump's read-back; trying again"
                    );
                    stopped = true;
                    kept.push_back(waiting);
                }
                Err(error) => {
                    if !waiting.refused {
                        tracing::error!(
                            %error,
                            read_back = ?waiting.read_back,
                            "the station refuses a pump's read-back; it is kept and tried again"
                        );
                        waiting.refused = true;
                    }
                    kept.push_back(waiting);
                }
            }
        }
        self.waiting = kept;
        self.next_try = (!self.waiting.is_empty()).then(|| now + RECORD_RETRY);
        recorded
    }
}

/// The supervisor's side: asking, hearing the answers, recording.
impl Supervisor {
    /// Asks the pumps whose read-back is due; true when the grid changed.
    pub(super) fn ask_read_backs(&mut self, line: &mut PumpLine) -> bool {
        let now = Instant::now();
        let mut changed = false;
        for (pump, track) in &mut self.pumps {
            if let Some(read_back) = track.read_back.asked()
                && read_back.is_overdue(now)
            {
                tracing::warn!(pump = %format!("{pump:X}"), "a read-back went unanswered; asking again");
                track.read_back.retry_later(now);
            }
            if !track.online || !track.read_back.is_due(now) {
                continue;
            }
            let Ok(address) = PumpAddress::new(*pump) else {
                continue;
            };
            let why = track.read_back.reason().unwrap_or(Why::Reconnected);
            let nozzles = self.config.nozzles.nozzle_numbers(*pump);
            match ReadBack::start(line, address, &nozzles, now) {
                Ok(read_back) => {
                    track.read_back = ReadBackState::Asked {
                        why,
                        read_back,
                        again: None,
                    };
                    changed = true;
                }
                Err(error) => {
                    tracing::warn!(%error, pump = %format!("{pump:X}"), "reading a pump back");
                    track.read_back.retry_later(now);
                }
            }
        }
        changed
    }

    /// Passes an answer to the pump's read-back, and takes it out once complete; true when the
    /// grid changed.
    pub(super) fn read_back_answered(
        &mut self,
        pump: PumpAddress,
        answer: impl FnOnce(&mut ReadBack),
    ) -> bool {
        let Some(track) = self.pumps.get_mut(&pump.get()) else {
            return false;
        };
        let Some(read_back) = track.read_back.asked() else {
            return false;
        };
        answer(read_back);
        let Some(read_back) = track.read_back.take_complete() else {
            return false;
        };
        track.read_backs = track.read_backs.saturating_add(1);
        let held = self.held_filling(pump.get());
        let counters = read_back
            .counters()
            .into_iter()
            .filter_map(|(nozzle, volume, amount)| {
                let volume = i64::try_from(volume).ok()?.checked_mul(ML_PER_PUMP_UNIT)?;
                Some(NozzleCounters {
                    nozzle,
                    volume: Millilitres(volume),
                    amount: amount.and_then(|won| i64::try_from(won).ok()).map(Won),
                })
            })
            .collect();
        self.unrecorded.push(PumpReadBack {
            pump: pump.get(),
            counters,
            held_filling: held,
        });
        true
    }

    /// The finished filling the pump holds, as it just reported it, if any.
    pub(super) fn held_filling(&self, pump: u8) -> Option<NewFueling> {
        let track = self.pumps.get(&pump)?;
        let finished = matches!(
            track.status,
            Some(PumpStatus::FillingCompleted | PumpStatus::MaxAmountOrVolumeReached)
        );
        if !finished || track.volume_ml == 0 {
            return None; // none, or a nozzle lifted and hung up without fuel
        }
        let (Some(nozzle), Some(unit_price)) = (track.nozzle, track.unit_price) else {
            tracing::error!(pump = %format!("{pump:X}"), "a filling ended without its nozzle or price");
            return None;
        };
        let Some(tank) = self.config.nozzles.tank(pump, nozzle) else {
            tracing::error!(pump = %format!("{pump:X}"), nozzle, volume_ml = track.volume_ml, amount_won = track.amount_won, "a filling from a nozzle with no tank set up");
            return None;
        };
        Some(NewFueling {
            pump,
            nozzle,
            tank,
            volume: Millilitres(track.volume_ml),
            amount: Won(track.amount_won),
            unit_price: UnitPrice(unit_price),
        })
    }

    /// Records the read-backs waiting, when it is time; true when something was recorded.
    pub(super) fn record_waiting(&mut self) -> bool {
        let station = &mut self.station;
        let recorded = self.unrecorded.record_due(Instant::now(), |read_back| {
            station.record_pump_read_back(read_back.clone(), Timestamp::now())
        });
        if recorded.is_empty() {
            return false;
        }
        for (pump, outcome) in &recorded {
            if let ReadBackOutcome::Recorded(fueling) = outcome {
                tracing::info!(fueling = %fueling.fueling, pump = %format!("{pump:X}"), volume_ml = fueling.volume.get(), amount_won = fueling.amount.get(), "fueling finished");
            }
        }
        self.refresh_unpaid();
        self.refresh_totals();
        self.live.bump_revision();
        true
    }

    pub(super) fn refresh_totals(&mut self) {
        match self.station.nozzle_totals() {
            Ok(totals) => self.totals = totals,
            Err(error) => tracing::error!(%error, "reading the pump totals failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use station_core::TankNo;

    use super::*;

    fn nozzle(number: u8) -> NozzleNumber {
        NozzleNumber::new(number).unwrap()
    }

    /// `count` command ids, as a bus master hands them out.
    fn ids(count: usize) -> Vec<CommandId> {
        use forecourt_protocols::dart::transaction::PumpCommand;
        use forecourt_protocols::dart::{DartMaster, MasterConfig, ToPump};
        let pump = PumpAddress::new(0x50).unwrap();
        let mut master = DartMaster::new(MasterConfig::new(vec![pump]));
        (0..count)
            .map(|_| {
                master
                    .queue(pump, &[ToPump::Command(PumpCommand::ReturnStatus)])
                    .unwrap()
            })
            .collect()
    }

    /// A read-back as `start` makes it: the first id is the state question, then the money
    /// counters, then the volume counters. Returns the ids too.
    fn asked(nozzles: &[u8]) -> (ReadBack, Vec<(TotalCounter, CommandId)>, Vec<CommandId>) {
        let ids = ids(1 + 2 * nozzles.len());
        let money = nozzles
            .iter()
            .map(|&n| TotalCounter::NozzleAmount(nozzle(n)));
        let volume = nozzles
            .iter()
            .map(|&n| TotalCounter::NozzleVolume(nozzle(n)));
        let questions: Vec<_> = money.chain(volume).zip(ids[1..].iter().copied()).collect();
        let read_back = ReadBack {
            started: Instant::now(),
            untaken: ids.iter().copied().collect(),
            counters: questions
                .iter()
                .map(|&(counter, question)| CounterRead {
                    counter,
                    question,
                    value: None,
                })
                .collect(),
        };
        (read_back, questions, ids)
    }

    #[test]
    fn a_read_back_is_complete_once_every_volume_counter_answered_a_taken_question() {
        let (mut read_back, questions, ids) = asked(&[1, 2]);
        let volume_1 = TotalCounter::NozzleVolume(nozzle(1));
        // An answer before its question was taken is an older one: not kept.
        read_back.reported(volume_1, 100);
        for &(_, question) in &questions {
            assert!(read_back.asked(question));
            assert!(read_back.taken(question));
        }
        assert!(
            !read_back.is_complete(),
            "the state question is not taken yet"
        );
        assert!(read_back.taken(ids[0]));
        assert!(!read_back.taken(ids[0]), "taken once");
        read_back.reported(TotalCounter::NozzleAmount(nozzle(1)), 5_000);
        read_back.reported(volume_1, 300);
        assert!(!read_back.is_complete());
        read_back.reported(TotalCounter::NozzleVolume(nozzle(2)), 700);
        assert!(
            read_back.is_complete(),
            "nozzle 2's money counter is not waited for"
        );
        assert_eq!(
            read_back.counters(),
            [(1, 300, Some(5_000)), (2, 700, None)]
        );
    }

    #[test]
    fn one_read_back_at_a_time_and_only_once_the_pump_is_quiet() {
        let t0 = Instant::now();
        let mut state = ReadBackState::default();
        state.quiet();
        assert!(!state.is_due(t0));
        state.trigger(Why::Reconnected);
        assert!(
            !state.is_due(t0),
            "not before the pump is quiet after the reason"
        );
        state.quiet();
        assert!(state.is_due(t0));
        state.trigger(Why::FillingEnded);
        assert!(!state.is_due(t0));
        assert_eq!(state.reason(), Some(Why::FillingEnded));

        let (read_back, questions, ids) = asked(&[1]);
        state = ReadBackState::Asked {
            why: Why::FillingEnded,
            read_back,
            again: None,
        };
        state.trigger(Why::Reconnected);
        let asked_now = state.asked().unwrap();
        for id in ids {
            asked_now.taken(id);
        }
        asked_now.reported(questions[1].0, 400);
        assert!(state.take_complete().is_some());
        assert!(
            matches!(
                state,
                ReadBackState::Needed {
                    why: Why::Reconnected,
                    quiet: false,
                    not_before: None
                }
            ),
            "the reason that came meanwhile: {state:?}"
        );
        assert_eq!(state.reason(), Some(Why::Reconnected));
    }

    #[test]
    fn lost_questions_are_asked_again() {
        let t0 = Instant::now();
        // The pump went silent: asked again once it is back and quiet.
        let (read_back, ..) = asked(&[1]);
        let mut state = ReadBackState::Asked {
            why: Why::Reconnected,
            read_back,
            again: None,
        };
        assert!(state.take_complete().is_none(), "not answered");
        state.lost();
        assert!(!state.is_due(t0));
        state.quiet();
        assert!(state.is_due(t0));

        // The pump refused a question, or left it unanswered too long: asked again later.
        let (read_back, ..) = asked(&[1]);
        let mut state = ReadBackState::Asked {
            why: Why::FillingEnded,
            read_back,
            again: None,
        };
        state.retry_later(t0);
        assert!(!state.is_due(t0 + READ_BACK_RETRY / 2));
        assert!(state.is_due(t0 + READ_BACK_RETRY));
        assert_eq!(state.reason(), Some(Why::FillingEnded));
        let mut done = ReadBackState::Done;
        done.retry_later(t0);
        done.lost();
        assert!(done.reason().is_none());
    }

    fn read_back(pump: u8, with_filling: bool) -> PumpReadBack {
        PumpReadBack {
            pump,
            counters: vec![NozzleCounters {
                nozzle: 1,
                volume: Millilitres(20_000),
                amount: Some(Won(33_000)),
            }],
            held_filling: with_filling.then(|| NewFueling {
                pump,
                nozzle: 1,
                tank: TankNo::new(1).unwrap(),
                volume: Millilitres(20_000),
                amount: Won(33_000),
                unit_price: UnitPrice(1_650),
            }),
        }
    }

    fn busy() -> StationError {
        StationError::Storage("database is locked".into())
    }

    #[test]
    fn a_read_back_the_station_does_not_take_is_tried_again_until_it_does() {
        let t0 = Instant::now();
        let mut unrecorded = Unrecorded::default();
        unrecorded.push(read_back(0x50, true));
        unrecorded.push(read_back(0x51, false));
        assert_eq!(unrecorded.fillings(), 1);
        assert!(unrecorded.holds_filling_of(0x50) && !unrecorded.holds_filling_of(0x51));

        let mut tries = Vec::new();
        let got = unrecorded.record_due(t0, |rb| {
            tries.push(rb.pump);
            Err(busy())
        });
        assert_eq!(
            (got, tries),
            (vec![], vec![0x50]),
            "a busy database ends the round"
        );
        // Not yet time to try again.
        let got = unrecorded.record_due(t0 + RECORD_RETRY / 2, |_| panic!("too early"));
        assert!(got.is_empty());

        let got = unrecorded.record_due(t0 + RECORD_RETRY, |_| Ok(ReadBackOutcome::NoFilling));
        assert_eq!(
            got,
            [
                (0x50, ReadBackOutcome::NoFilling),
                (0x51, ReadBackOutcome::NoFilling)
            ],
            "in order"
        );
        assert_eq!(unrecorded.fillings(), 0);
        assert!(
            unrecorded
                .record_due(t0 + 10 * RECORD_RETRY, |_| panic!("empty"))
                .is_empty()
        );
    }

    #[test]
    fn a_read_back_the_station_refuses_is_kept_and_does_not_hold_up_the_others() {
        let t0 = Instant::now();
        let mut unrecorded = Unrecorded::default();
        unrecorded.push(read_back(0x50, true));
        unrecorded.push(read_back(0x51, true));
        let got = unrecorded.record_due(t0, |rb| {
            if rb.pump == 0x50 {
                Err(StationError::UnknownTank(TankNo::new(1).unwrap()))
            } else {
                Ok(ReadBackOutcome::NoFilling)
            }
        });
        assert_eq!(got, [(0x51, ReadBackOutcome::NoFilling)]);
        assert!(unrecorded.holds_filling_of(0x50), "never dropped");
    }
}
