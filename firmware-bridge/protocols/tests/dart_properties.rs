//! Properties of the DART line codec that must hold for any input, not only the examples.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::time::{Duration, Instant};

use forecourt_protocols::dart::{
    DartMaster, Frame, FrameDecoder, FrameKind, MasterConfig, PumpAddress, TxSeq,
};
use proptest::prelude::*;

fn address() -> impl Strategy<Value = PumpAddress> {
    (PumpAddress::FIRST..=PumpAddress::LAST).prop_map(|a| PumpAddress::new(a).unwrap())
}

fn seq() -> impl Strategy<Value = TxSeq> {
    (0u8..16).prop_map(|s| TxSeq::new(s).unwrap())
}

fn frame() -> impl Strategy<Value = Frame> {
    let kind = prop_oneof![
        Just(FrameKind::Poll),
        (seq(), prop::collection::vec(any::<u8>(), 0..60))
            .prop_map(|(seq, payload)| FrameKind::Data { seq, payload }),
        seq().prop_map(FrameKind::Ack),
        seq().prop_map(FrameKind::Nak),
        seq().prop_map(FrameKind::Eot),
        seq().prop_map(FrameKind::AckPoll),
    ];
    (address(), kind).prop_map(|(address, kind)| Frame::new(address, kind).unwrap())
}

fn decode_all(bytes: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new();
    let mut frames = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let end = cut.clamp(start, bytes.len());
        decoder.push(&bytes[start..end]);
        start = end;
        while let Some(result) = decoder.next_frame() {
            frames.push(result.unwrap());
        }
    }
    frames
}

proptest! {
    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..12)
    ) {
        let mut decoder = FrameDecoder::new();
        for chunk in &chunks {
            decoder.push(chunk);
            while decoder.next_frame().is_some() {}
        }
    }

    #[test]
    fn master_never_panics_on_arbitrary_bytes(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..12)
    ) {
        let t0 = Instant::now();
        let pumps = vec![PumpAddress::new(0x50).unwrap(), PumpAddress::new(0x51).unwrap()];
        let mut master = DartMaster::new(MasterConfig::new(pumps));
        for (step, chunk) in chunks.iter().enumerate() {
            let now = t0 + Duration::from_millis(10 * u64::try_from(step).unwrap());
            while master.poll_transmit(now).is_some() {}
            master.handle_input(now, chunk);
            master.handle_timeout(now);
            while master.poll_event().is_some() {}
        }
    }

    #[test]
    fn frames_round_trip_however_the_stream_is_cut(
        frames in prop::collection::vec(frame(), 1..6),
        cuts in prop::collection::vec(0usize..400, 0..6),
    ) {
        let wire: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert_eq!(decode_all(&wire, &cuts), frames);
    }

    #[test]
    fn a_frame_after_noise_is_found(
        noise in prop::collection::vec(any::<u8>(), 0..40),
        frame in frame(),
    ) {
        // Noise ends with a terminator so that it cannot swallow the frame's first bytes; the
        // decoder may report errors for the noise but must then find the frame.
        let wire = [noise, vec![0xFA], frame.encode()].concat();
        let mut decoder = FrameDecoder::new();
        decoder.push(&wire);
        let found: Vec<Frame> = std::iter::from_fn(|| decoder.next_frame())
            .filter_map(Result::ok)
            .collect();
        prop_assert_eq!(found.last(), Some(&frame));
    }
}
