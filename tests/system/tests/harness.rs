//! The harness itself: what other system tests rely on (anonymous brokers, restart on the same port,
//! persistence, children killed on drop, waiting with a deadline) does what it says.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;
use rumqttc::v5::mqttbytes::v5::PubAckReason;
use system_tests::mqtt::{self, ProbeClient};
use system_tests::{Access, ChildGuard, Mosquitto, Persistence, wait_until};

#[tokio::test]
async fn an_anonymous_broker_accepts_clients_without_credentials() -> Result<()> {
    let broker = Mosquitto::start_anonymous()?;
    assert!(broker.credential("hub").is_err());
    let (mut client, _) = ProbeClient::connect(mqtt::options(&broker, "anyone", None)).await?;
    client.subscribe("gs/v1/stations/ST0001/up").await?;
    client.publish("gs/v1/stations/ST0001/up", "e1").await?;
    assert_eq!(client.next_message().await?.payload, "e1");
    Ok(())
}

#[tokio::test]
async fn a_killed_broker_restarts_on_the_same_port_and_a_stopped_one_keeps_its_state_on_disk()
-> Result<()> {
    let mut broker = Mosquitto::start(Access::Anonymous, Persistence::OnDisk)?;
    let port = broker.port();
    broker.kill()?;
    assert!(!broker.is_running());
    ProbeClient::connect(mqtt::options(&broker, "writer", None))
        .await
        .expect_err("a killed broker must refuse connections");
    broker.restart()?;
    assert_eq!(broker.port(), port);

    // A clean stop saves the database and the restart reads it back. (After a SIGKILL, whether
    // the very last change was saved depends on timing: see `Persistence::OnDisk`.)
    let (mut writer, _) = ProbeClient::connect(mqtt::options(&broker, "writer", None)).await?;
    writer
        .publish_retained("gs/v1/stations/ST0001/status", "online")
        .await?;
    broker.stop()?;
    assert!(!broker.is_running());
    broker.restart()?;
    let (mut reader, _) = ProbeClient::connect(mqtt::options(&broker, "reader", None)).await?;
    reader.subscribe("gs/v1/stations/ST0001/status").await?;
    let retained = reader.next_message().await?;
    assert_eq!(retained.payload, "online", "{}", broker.log_for_error());
    Ok(())
}

#[tokio::test]
async fn an_in_memory_broker_forgets_everything_when_restarted() -> Result<()> {
    let mut broker = Mosquitto::start_anonymous()?;
    let (mut client, _) = ProbeClient::connect(mqtt::options(&broker, "writer", None)).await?;
    client
        .publish_retained("gs/v1/stations/ST0001/status", "online")
        .await?;
    broker.stop()?;
    broker.restart()?;
    let (mut reader, _) = ProbeClient::connect(mqtt::options(&broker, "reader", None)).await?;
    reader.subscribe("gs/v1/stations/ST0001/status").await?;
    let marker = reader
        .publish("gs/v1/stations/ST0001/status", "marker")
        .await?;
    assert_eq!(marker, PubAckReason::Success);
    assert_eq!(
        reader
            .messages_before("gs/v1/stations/ST0001/status", "marker")
            .await?,
        []
    );
    Ok(())
}

#[test]
fn a_child_guard_kills_its_process_when_dropped() -> Result<()> {
    let guard = ChildGuard::new(
        Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()?,
    );
    let proc_entry = format!("/proc/{}", guard.id());
    assert!(std::path::Path::new(&proc_entry).exists());
    drop(guard);
    // Killed and reaped: the process table entry is gone at once.
    assert!(!std::path::Path::new(&proc_entry).exists());
    Ok(())
}

#[test]
fn wait_until_names_what_it_waited_for() {
    let error = wait_until(
        Instant::now() + Duration::from_millis(20),
        "the moon is blue",
        || false,
    )
    .expect_err("the condition never holds");
    assert!(
        error.to_string().contains("waiting until the moon is blue"),
        "{error}"
    );
    let mut calls = 0;
    wait_until(
        Instant::now() + Duration::from_secs(5),
        "three calls",
        || {
            calls += 1;
            calls == 3
        },
    )
    .expect("the condition holds on the third call");
    assert_eq!(calls, 3);
}
