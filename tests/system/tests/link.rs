//! The MQTT link under load, on a real Mosquitto: a side that publishes a burst while it does
//! not read its own events (the hub sending a large price version to every station while acks
//! and statuses pour in) never wedges the link.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sync_mqtt::{Link, LinkConfig, LinkEvent};
use system_tests::Mosquitto;

const TOPIC: &str = "test/echo";

async fn next_message(link: &mut Link) -> Vec<u8> {
    loop {
        if let LinkEvent::Message { payload, .. } = link.next().await.unwrap() {
            return payload;
        }
    }
}

#[tokio::test]
async fn publishing_a_burst_while_not_reading_never_wedges_the_link() {
    let broker = Mosquitto::start_anonymous().unwrap();
    let mut link = Link::start(LinkConfig::new("127.0.0.1", broker.port(), "burst")).unwrap();
    while !matches!(link.next().await, Some(LinkEvent::Connected)) {}
    link.subscribe(TOPIC).await.unwrap();
    // The subscription is in force once a message comes back through it.
    link.publish(TOPIC, b"ready".to_vec(), false).await.unwrap();
    assert_eq!(next_message(&mut link).await, b"ready");

    // Every message comes back to the link while it reads nothing: more than its request queue
    // and an event queue of the same size together hold.
    const BURST: usize = 12_000;
    let burst = async {
        for n in 0..BURST {
            link.publish(TOPIC, format!("{n:06}").into_bytes(), false)
                .await
                .unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), burst)
        .await
        .unwrap_or_else(|_| panic!("publishing {BURST} messages wedged the link"));

    // The link still works: a message sent after the burst arrives after what came back of it.
    link.publish(TOPIC, b"after".to_vec(), false).await.unwrap();
    let mut echoed = 0;
    let arrived = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if next_message(&mut link).await == b"after" {
                return;
            }
            echoed += 1;
        }
    })
    .await;
    assert!(arrived.is_ok(), "the message after the burst never arrived");
    assert!(echoed > 0, "the burst came back");
}
