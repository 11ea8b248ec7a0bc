//! The simulated pumps against the real bus master, in fake time.

use super::*;
use forecourt_protocols::dart::DartMaster;
use forecourt_protocols::dart::MasterConfig;
use forecourt_protocols::dart::MasterEvent;

const SECOND: Duration = Duration::from_secs(1);

fn pump(address: u8) -> PumpAddress {
    PumpAddress::new(address).unwrap()
}

/// Runs master and simulator against each other for `duration` of fake time, in 10 ms steps.
fn run(
    master: &mut DartMaster,
    simulator: &mut PumpSimulator,
    now: &mut Instant,
    duration: Duration,
) -> Vec<MasterEvent> {
    let end = *now + duration;
    let mut events = Vec::new();
    while *now < end {
        *now += Duration::from_millis(10);
        // The master starts a new turn as soon as one ends: a few blocks per step.
        for _ in 0..4 {
            let Some(bytes) = master.poll_transmit(*now) else {
                break;
            };
            let answer = simulator.handle_input(*now, &bytes);
            master.handle_input(*now, &answer);
        }
        master.handle_timeout(*now);
        events.extend(std::iter::from_fn(|| master.poll_event()));
    }
    events
}

fn messages(events: &[MasterEvent]) -> Vec<FromPump> {
    events
        .iter()
        .filter_map(|event| match event {
            MasterEvent::Message { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_preset_volume_filling_at_forty_litres_a_minute_stops_at_the_preset() {
    let mut now = Instant::now();
    let mut simulator =
        PumpSimulator::new(PumpSimulator::demo_pumps(1, FlowRate::CAR_NOZZLE)).unwrap();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    master
        .queue(
            pump(0x50),
            &[
                ToPump::PresetVolume(PumpVolume::new(1_000).unwrap()),
                ToPump::Command(PumpCommand::Authorize),
            ],
        )
        .unwrap();
    simulator.lift(0x50, 1, now).unwrap();
    // 10 L at 40 L/min takes 15 s.
    let events = run(&mut master, &mut simulator, &mut now, 14 * SECOND);
    assert!(messages(&events).contains(&FromPump::Status(PumpStatus::Filling)));
    assert_eq!(simulator.status(pump(0x50)), Some(PumpStatus::Filling));
    let events = run(&mut master, &mut simulator, &mut now, 2 * SECOND);
    let messages = messages(&events);
    let tail = &messages[messages.len() - 2..];
    assert_eq!(
        tail,
        [
            FromPump::FilledVolumeAndAmount {
                volume: PumpVolume::new(1_000).unwrap(),
                amount: PumpAmount::new(16_890).unwrap(),
            },
            FromPump::Status(PumpStatus::MaxAmountOrVolumeReached),
        ]
    );
}

#[test]
fn a_preset_amount_stops_at_the_amount_and_totals_come_at_hang_up() {
    let mut now = Instant::now();
    let mut simulator =
        PumpSimulator::new(PumpSimulator::demo_pumps(1, FlowRate::CAR_NOZZLE)).unwrap();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    master
        .queue(
            pump(0x50),
            &[
                ToPump::PresetAmount(PumpAmount::new(10_000).unwrap()),
                ToPump::Command(PumpCommand::Authorize),
            ],
        )
        .unwrap();
    simulator.apply_control("lift 50 2", now).unwrap();
    run(&mut master, &mut simulator, &mut now, 20 * SECOND);
    assert_eq!(
        simulator.status(pump(0x50)),
        Some(PumpStatus::MaxAmountOrVolumeReached)
    );
    simulator.apply_control("hang 0x50", now).unwrap();
    let messages = messages(&run(&mut master, &mut simulator, &mut now, SECOND));
    // 10 000 won at 1 589 won/L buys 6.29 L.
    let volume_total = FromPump::TotalCounter {
        counter: TotalCounter::NozzleVolume(NozzleNumber::new(2).unwrap()),
        total: PumpTotal::new(629).unwrap(),
        meter_1: PumpTotal::new(629).unwrap(),
        meter_2: PumpTotal::new(0),
    };
    assert!(messages.contains(&volume_total), "{messages:?}");
}

#[test]
fn prices_sent_during_a_filling_take_effect_when_it_ends() {
    let mut now = Instant::now();
    let mut simulator =
        PumpSimulator::new(PumpSimulator::demo_pumps(1, FlowRate::CAR_NOZZLE)).unwrap();
    simulator.lift(0x50, 1, now).unwrap();
    let command = |transactions: &[ToPump]| {
        let payload = transaction::encode_to_pump(transactions).unwrap();
        Frame::data(pump(0x50), TxSeq::new(1).unwrap(), payload)
            .unwrap()
            .encode()
    };
    simulator.handle_input(now, &command(&[ToPump::Command(PumpCommand::Authorize)]));
    let new_prices: Vec<PumpPrice> = [1_700, 1_600, 1_800]
        .into_iter()
        .filter_map(PumpPrice::new)
        .collect();
    let price_block = Frame::data(
        pump(0x50),
        TxSeq::new(2).unwrap(),
        transaction::encode_to_pump(&[ToPump::PriceUpdate(new_prices.clone())]).unwrap(),
    )
    .unwrap()
    .encode();
    simulator.handle_input(now, &price_block);
    assert_eq!(simulator.pumps[0].prices[0].get(), 1_689, "deferred");
    now += 3 * SECOND;
    simulator.hang(0x50, now).unwrap();
    let filling = simulator.pumps[0].filling.unwrap();
    assert_eq!((filling.volume, filling.amount), (200, 3_378));
    assert_eq!(simulator.pumps[0].prices, new_prices, "applied at the end");
    // The same block sent again (our ACK was lost) is ACKed and not applied twice.
    let ack = simulator.handle_input(now, &price_block);
    assert_eq!(ack, Frame::ack(pump(0x50), TxSeq::new(2).unwrap()).encode());
}

#[test]
fn noise_takes_the_place_of_one_answer_and_the_master_asks_again() {
    let mut now = Instant::now();
    let mut simulator =
        PumpSimulator::new(PumpSimulator::demo_pumps(1, FlowRate::CAR_NOZZLE)).unwrap();
    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    run(&mut master, &mut simulator, &mut now, SECOND);
    simulator.apply_control("noise 50", now).unwrap();
    simulator.lift(0x50, 1, now).unwrap();
    let events = run(&mut master, &mut simulator, &mut now, SECOND);
    assert!(
        events.contains(&MasterEvent::LineError {
            error: forecourt_protocols::dart::FrameError::Garbage { discarded: 5 },
            bytes: LINE_NOISE.to_vec(),
        }),
        "{events:?}"
    );
    assert!(!events.contains(&MasterEvent::PumpOffline { pump: pump(0x50) }));
    assert!(
        messages(&events).iter().any(|message| matches!(
            message,
            FromPump::NozzleStatusAndPrice {
                nozzle_out: true,
                ..
            }
        )),
        "the answer came on the next try: {events:?}"
    );
}

#[test]
fn meters_move_without_a_filling_and_the_last_filling_is_held() {
    let mut now = Instant::now();
    let mut simulator =
        PumpSimulator::new(PumpSimulator::demo_pumps(1, FlowRate::CAR_NOZZLE)).unwrap();
    simulator.apply_control("meter 50 2 500", now).unwrap();
    assert_eq!(simulator.totals(pump(0x50), 2), Some((500, 7_945)));
    assert_eq!(simulator.held_filling(pump(0x50)), None);
    assert!(matches!(
        simulator.apply_control("meter 50 4 500", now),
        Err(ControlError::NoSuchNozzle { nozzle: 4, .. })
    ));

    let mut master = DartMaster::new(MasterConfig::new(vec![pump(0x50)]));
    master
        .queue(pump(0x50), &[ToPump::Command(PumpCommand::Authorize)])
        .unwrap();
    simulator.lift(0x50, 2, now).unwrap();
    run(&mut master, &mut simulator, &mut now, 3 * SECOND);
    simulator.hang(0x50, now).unwrap();
    let held = simulator.held_filling(pump(0x50)).unwrap();
    assert_eq!((held.nozzle, held.price), (2, 1_589));
    assert!(held.volume > 150, "{held:?}");
    assert_eq!(held.amount, amount_for(held.volume, 1_589));
    assert_eq!(
        simulator.totals(pump(0x50), 2),
        Some((500 + held.volume, 7_945 + held.amount))
    );
}

#[test]
fn bad_control_lines_are_rejected() {
    let now = Instant::now();
    let mut simulator =
        PumpSimulator::new(PumpSimulator::demo_pumps(2, FlowRate::CAR_NOZZLE)).unwrap();
    assert!(matches!(
        simulator.apply_control("lift 52 1", now),
        Err(ControlError::UnknownPump { address: 0x52 })
    ));
    assert!(matches!(
        simulator.apply_control("lift 51 4", now),
        Err(ControlError::NoSuchNozzle { nozzle: 4, .. })
    ));
    assert!(matches!(
        simulator.apply_control("hang 51", now),
        Err(ControlError::NoNozzleOut { .. })
    ));
    assert!(matches!(
        simulator.apply_control("pour 51", now),
        Err(ControlError::BadLine { .. })
    ));
}
