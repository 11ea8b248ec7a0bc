//! The production broker set-up in `cloud-hub/mosquitto/` runs as written: `mosquitto.conf` with only
//! its paths and ports moved into a temporary directory, certificates from
//! `scripts/make-broker-certificates.sh`, credentials from `scripts/provision-station.sh`. Both
//! listeners authenticate, apply the ACL and bind the client id to the username; the TLS listener
//! speaks TLS only.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, ensure};
use system_tests::mqtt::{self, Message, ProbeClient};
use system_tests::{Credential, HUB_USERNAME, ProductionBroker};

fn run(command: &mut Command) -> Result<Output> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    Ok(output)
}

/// `mosquitto_pub` at QoS 1 with protocol 5, as ST0001 but claiming client id ST0002.
fn publish_with_mosquitto_pub(
    port: u16,
    credential: &Credential,
    tls: Option<&Path>,
    message: &str,
) -> Result<Output> {
    let mut command = Command::new("timeout");
    command.args(["10", "mosquitto_pub", "-V", "5", "-q", "1", "-p"]);
    command.arg(port.to_string());
    match tls {
        Some(ca_file) => command.args(["-h", "localhost", "--cafile"]).arg(ca_file),
        None => command.args(["-h", "127.0.0.1"]),
    };
    command
        .args([
            "-u",
            &credential.username,
            "-P",
            &credential.password,
            "-i",
            "ST0002",
        ])
        .args(["-t", "gs/v1/stations/ST0001/up", "-m", message]);
    run(&mut command)
}

#[tokio::test]
async fn the_production_config_authenticates_authorises_and_binds_client_ids_on_both_listeners()
-> Result<()> {
    let broker = ProductionBroker::start()?;
    let (plain_port, tls_port) = (broker.plain_port, broker.tls_port);
    let (hub, station, other_station) = (
        broker.credential(HUB_USERNAME).clone(),
        broker.credential("ST0001").clone(),
        broker.credential("ST0002").clone(),
    );
    let log = || broker.log();

    // ST0002 is online; the hub listens to every station's up topic.
    let (mut victim, _) =
        ProbeClient::connect(mqtt::options_at(plain_port, "ST0002", Some(&other_station))).await?;
    victim.subscribe("gs/v1/stations/ST0002/down").await?;
    let (mut hub_client, _) =
        ProbeClient::connect(mqtt::options_at(plain_port, "hq-hub", Some(&hub))).await?;
    hub_client.subscribe("gs/v1/stations/+/up").await?;

    // ST0001 publishes over TLS (verifying the broker against the CA) and over the plain listener,
    // both times claiming ST0002's client id.
    let ca_file = broker.ca_file.clone();
    let over_tls = publish_with_mosquitto_pub(tls_port, &station, Some(&ca_file), "over TLS")?;
    ensure!(
        over_tls.status.success(),
        "mosquitto_pub over TLS failed: {over_tls:?}\n{}",
        log()
    );
    let over_plain = publish_with_mosquitto_pub(plain_port, &station, None, "over plain")?;
    ensure!(
        over_plain.status.success(),
        "mosquitto_pub failed: {over_plain:?}\n{}",
        log()
    );
    for payload in ["over TLS", "over plain"] {
        let expected = Message {
            topic: "gs/v1/stations/ST0001/up".to_owned(),
            payload: payload.to_owned(),
        };
        assert_eq!(hub_client.next_message().await?, expected);
    }

    // Neither connection took over ST0002: it is still connected and receives its messages.
    hub_client
        .publish("gs/v1/stations/ST0002/down", "still connected")
        .await?;
    assert_eq!(
        victim.next_message().await?.payload,
        "still connected",
        "{}",
        log()
    );

    // A wrong password is refused, and plain MQTT is not spoken on the TLS port.
    let wrong = Credential {
        username: "ST0001".to_owned(),
        password: "wrong".to_owned(),
    };
    let refused = publish_with_mosquitto_pub(tls_port, &wrong, Some(&ca_file), "refused")?;
    assert!(
        !refused.status.success(),
        "a wrong password was accepted over TLS"
    );
    let plain_on_tls = publish_with_mosquitto_pub(tls_port, &station, None, "in clear")?;
    assert!(
        !plain_on_tls.status.success(),
        "plain MQTT was accepted on the TLS listener"
    );
    Ok(())
}
