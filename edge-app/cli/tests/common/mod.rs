//! Running the `station` binary against a database in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The time every command of a test happens at, unless it says otherwise: 09:00 in Seoul on the
/// day the test runs (RFC 3339), given to the tool with `--at`, so the suite means the same on any
/// day it runs.
pub fn at() -> &'static str {
    static AT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AT.get_or_init(|| {
        let today = jiff::Timestamp::now().in_tz("Asia/Seoul").unwrap().date();
        let nine = today.at(9, 0, 0, 0).in_tz("Asia/Seoul").unwrap();
        nine.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    })
}

/// `at()` moved by `span` (for example `1.hour()`).
pub fn at_plus(span: jiff::Span) -> jiff::Timestamp {
    at().parse::<jiff::Timestamp>()
        .unwrap()
        .checked_add(span)
        .unwrap()
}

/// The Seoul date `offset` days after the day of `at()`: `YYYY-MM-DD`.
pub fn day(offset: i64) -> String {
    at_plus(jiff::Span::new())
        .in_tz("Asia/Seoul")
        .unwrap()
        .date()
        .checked_add(jiff::Span::new().days(offset))
        .unwrap()
        .to_string()
}

/// The receipt number of the `n`th sale at ST0001 on the business day `offset` days after `at()`'s.
pub fn receipt_no(offset: i64, n: u32) -> String {
    format!("ST0001-{}-{n:04}", day(offset).replace('-', ""))
}

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: Value,
    pub stderr: Value,
}

impl Run {
    /// The printed result of a run that must have succeeded.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 0, "expected success, got {self:?}");
        self.stdout
    }

    /// The error code of a run that the station must have refused (exit 1).
    pub fn refused(self) -> String {
        assert_eq!(self.status, 1, "expected a refusal, got {self:?}");
        self.error_code()
    }

    pub fn error_code(&self) -> String {
        self.stderr["error"]["code"].as_str().unwrap().to_owned()
    }

    pub fn error_message(&self) -> String {
        self.stderr["error"]["message"].as_str().unwrap().to_owned()
    }
}

/// A station database in its own temporary directory.
pub struct Shell {
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Shell {
    pub fn new() -> Shell {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("station.db");
        Shell { _dir: dir, db }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_station"));
        command
            .arg("--db")
            .arg(&self.db)
            .args(["--at", at()])
            .args(args)
            .env_remove("STATION_DB")
            .env_remove("STATION_AT")
            .env_remove("STATION_USER")
            .env_remove("STATION_PIN");
        command
    }

    /// Runs one command line, split on whitespace (values in tests hold no spaces).
    pub fn run(&self, line: &str) -> Run {
        let args: Vec<&str> = line.split_whitespace().collect();
        parse(self.command(&args).output().unwrap())
    }

    pub fn manager(&self, line: &str) -> Run {
        self.run(&format!("--user park --pin 9999 {line}"))
    }

    pub fn cashier(&self, line: &str) -> Run {
        self.run(&format!("--user kim --pin 1234 {line}"))
    }

    pub fn path(&self) -> &Path {
        &self.db
    }

    /// A station with a manager (park/9999), a cashier (kim/1234), prices of version 1 (diesel
    /// CD1001 at 1,650 won/L, water SN2001 at 1,000 won a piece) and diesel tank 1 of 30,000 L.
    pub fn station() -> Shell {
        let shell = Shell::new();
        shell
            .run("--manager park --manager-pin 9999 init --station ST0001 --name Gangnam --manager-name Park")
            .ok();
        shell
            .manager("user add --id kim --name Kim --role cashier --new-pin 1234")
            .ok();
        shell
            .manager(&format!(
                "price receive --version 1 --effective-at {} \
                 --item CD1001:Diesel:litre:1650 --item SN2001:Water:piece:1000",
                at_plus(jiff::Span::new().hours(-24))
            ))
            .ok();
        shell
            .manager("tank register --tank 1 --product CD1001 --capacity 30000")
            .ok();
        shell
    }
}

pub fn parse(output: Output) -> Run {
    let json = |bytes: &[u8]| -> Value {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(text.trim())
                .unwrap_or_else(|e| panic!("not one JSON document ({e}): {text}"))
        }
    };
    Run {
        status: output.status.code().expect("the tool exits, not killed"),
        stdout: json(&output.stdout),
        stderr: json(&output.stderr),
    }
}
