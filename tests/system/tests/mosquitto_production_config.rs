//! The production broker set-up in `cloud-hub/mosquitto/` runs as written: `mosquitto.conf` with only
//! its paths and ports moved into a temporary directory, certificates from
//! `scripts/make-broker-certificates.sh`, credentials from `scripts/provision-station.sh`. Both
//! listeners authenticate, apply the ACL and bind the client id to the username; the TLS listener
//! speaks TLS only.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use system_tests::mqtt::{self, Message, ProbeClient};
use system_tests::{
    ChildGuard, Credential, HUB_USERNAME, LOOPBACK, MOSQUITTO_BIN, STARTUP_TIMEOUT, free_port,
    provision, relocated_production_config as relocated_config, wait_until, workspace_root,
};

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
    let dir = tempfile::tempdir()?;
    let etc = dir.path().join("etc");
    fs::create_dir_all(etc.join("certs"))?;
    fs::create_dir_all(dir.path().join("data"))?;
    fs::copy(
        workspace_root().join("cloud-hub/mosquitto/acl"),
        etc.join("acl"),
    )?;
    let password_file = etc.join("passwd");
    let hub = provision(HUB_USERNAME, &password_file)?;
    let station = provision("ST0001", &password_file)?;
    let other_station = provision("ST0002", &password_file)?;
    let certificates = run(Command::new("bash")
        .arg(workspace_root().join("scripts/make-broker-certificates.sh"))
        .arg(etc.join("certs"))
        .args(["localhost", "127.0.0.1"]))?;
    ensure!(
        certificates.status.success(),
        "make-broker-certificates.sh failed: {}",
        String::from_utf8_lossy(&certificates.stderr)
    );

    let (plain_port, tls_port) = (free_port(), free_port());
    let config_path = dir.path().join("mosquitto.conf");
    fs::write(
        &config_path,
        relocated_config(dir.path(), plain_port, tls_port)?,
    )?;
    let log = || fs::read_to_string(dir.path().join("mosquitto.log")).unwrap_or_default();
    let mut broker = ChildGuard::new(
        Command::new(MOSQUITTO_BIN)
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning mosquitto")?,
    );
    wait_until(
        Instant::now() + STARTUP_TIMEOUT,
        "the production config accepts connections on both listeners",
        || {
            matches!(broker.try_wait(), Ok(Some(_)))
                || [plain_port, tls_port]
                    .iter()
                    .all(|port| std::net::TcpStream::connect((LOOPBACK, *port)).is_ok())
        },
    )?;
    ensure!(broker.try_wait()?.is_none(), "mosquitto exited:\n{}", log());

    // ST0002 is online; the hub listens to every station's up topic.
    let (mut victim, _) =
        ProbeClient::connect(mqtt::options_at(plain_port, "ST0002", Some(&other_station))).await?;
    victim.subscribe("gs/v1/stations/ST0002/down").await?;
    let (mut hub_client, _) =
        ProbeClient::connect(mqtt::options_at(plain_port, "hq-hub", Some(&hub))).await?;
    hub_client.subscribe("gs/v1/stations/+/up").await?;

    // ST0001 publishes over TLS (verifying the broker against the CA) and over the plain listener,
    // both times claiming ST0002's client id.
    let ca_file = etc.join("certs/ca.crt");
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
