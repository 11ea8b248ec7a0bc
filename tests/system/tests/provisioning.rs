//! `scripts/provision-station.sh`: refuses a bad station id with a clear message and without
//! touching the password file, and a station it provisions can connect to a running broker.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result};
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, PubAckReason};
use system_tests::mqtt::{self, ProbeClient};
use system_tests::{Credential, Mosquitto, provisioning_script};

fn run_script(arguments: &[&str], password_file: &Path, password: Option<&str>) -> Result<Output> {
    let mut command = Command::new("bash");
    command
        .arg(provisioning_script())
        .args(arguments)
        .arg(password_file)
        .env_remove("STATION_MQTT_PASSWORD");
    if let Some(password) = password {
        command.env("STATION_MQTT_PASSWORD", password);
    }
    command.output().context("running provision-station.sh")
}

#[test]
fn a_bad_station_id_is_refused_with_a_clear_message_and_nothing_written() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let password_file = dir.path().join("passwd");
    let too_long = "S".repeat(17);
    for bad_id in [
        "st0001", "0ST1", "ST-01", "ST/01", "ST+", "#", "hub", "", &too_long, "ST 01",
    ] {
        let output = run_script(&[bad_id], &password_file, None)?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{bad_id:?}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid station id '{bad_id}'"))
                && stderr.contains(
                    "capital letters A-Z and digits 0-9, starting with a letter, 1 to 16 characters"
                ),
            "{bad_id:?}: unclear message: {stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{bad_id:?}: printed {:?}",
            output.stdout
        );
        assert!(
            !password_file.exists(),
            "{bad_id:?}: the password file was written"
        );
    }

    let output = Command::new("bash").arg(provisioning_script()).output()?;
    assert_eq!(
        output.status.code(),
        Some(2),
        "no station id is a usage error"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
    Ok(())
}

#[test]
fn a_valid_station_id_gets_a_credential_printed_as_one_json_line() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let password_file = dir.path().join("passwd");
    let longest = "A234567890123456";
    let output = run_script(&[longest], &password_file, None)?;
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout)?;
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let printed: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(printed["station"], longest);
    assert_eq!(printed["username"], longest);
    let password = printed["password"].as_str().context("password")?;
    assert!(password.len() >= 24, "a weak random password: {password:?}");

    // Running it again rotates the password; the file keeps one entry per user, none in clear text.
    let again = run_script(&[longest], &password_file, None)?;
    let printed_again: serde_json::Value = serde_json::from_slice(&again.stdout)?;
    assert_ne!(printed_again["password"], printed["password"]);
    let file = std::fs::read_to_string(&password_file)?;
    assert_eq!(
        file.lines()
            .filter(|line| line.starts_with("A234567890123456:"))
            .count(),
        1
    );
    assert!(!file.contains(password));

    // A chosen password with JSON-significant characters still prints valid JSON.
    let chosen = r#"pa"ss\word"#;
    let output = run_script(&["ST0003"], &password_file, Some(chosen))?;
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(printed["password"], chosen);
    let empty = run_script(&["ST0003"], &password_file, Some(""))?;
    assert_eq!(
        empty.status.code(),
        Some(1),
        "an empty chosen password must be refused"
    );
    Ok(())
}

#[tokio::test]
async fn a_provisioned_station_can_connect_and_use_its_topics() -> Result<()> {
    let mut broker = Mosquitto::start_secured()?;
    let credential = broker.provision_station("ST0042")?;
    let (mut station, _) =
        ProbeClient::connect(mqtt::options(&broker, "ST0042", Some(&credential))).await?;
    station.subscribe("gs/v1/stations/ST0042/down").await?;
    assert_eq!(
        station
            .publish("gs/v1/stations/ST0042/down", "hello")
            .await?,
        PubAckReason::Success
    );
    assert_eq!(station.next_message().await?.payload, "hello");
    assert_eq!(
        station
            .publish("gs/v1/stations/ST0001/up", "not mine")
            .await?,
        PubAckReason::NotAuthorized
    );
    station.disconnect().await?;

    // A chosen password (STATION_MQTT_PASSWORD) works too, and replaces the random one.
    let output = run_script(
        &["ST0042"],
        &broker.password_file(),
        Some("chosen secret 42"),
    )?;
    assert!(output.status.success(), "{output:?}");
    broker.reload()?;
    let chosen = Credential {
        username: "ST0042".to_owned(),
        password: "chosen secret 42".to_owned(),
    };
    ProbeClient::connect(mqtt::options(&broker, "ST0042", Some(&chosen))).await?;
    let old = mqtt::options(&broker, "ST0042", Some(&credential));
    let refused = ProbeClient::connect_refused(old).await?;
    assert_eq!(
        refused,
        ConnectReturnCode::NotAuthorized,
        "the old password still works"
    );
    Ok(())
}
