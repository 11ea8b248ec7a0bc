//! The harness of the system tests: real Mosquitto brokers on free loopback ports, spawned children
//! that die with the test, and waiting on conditions with a deadline instead of sleeping.
//!
//! Everything a test starts lives in its own temporary directory and is killed on drop, so tests run
//! in parallel and leave nothing behind. Failures carry what was awaited and the broker's log.

pub mod mqtt;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use tempfile::TempDir;

/// The Debian package's broker binary.
pub const MOSQUITTO_BIN: &str = "/usr/sbin/mosquitto";
/// The username of the hub's MQTT credential.
pub const HUB_USERNAME: &str = "hub";
/// The stations a secured broker is provisioned with, besides the hub.
pub const PROVISIONED_STATIONS: [&str; 2] = ["ST0001", "ST0002"];
/// How long a broker may take to start, and the default deadline of one awaited step.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often [`wait_until`] checks its condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// The loopback address every test process listens on.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A TCP port on loopback that was free a moment ago (the OS picked it). Another process may still
/// take it before the caller binds it; [`Mosquitto::start`] retries with a new port when that happens.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((LOOPBACK, 0)).expect("binding an ephemeral loopback port");
    listener
        .local_addr()
        .expect("reading the ephemeral port's address")
        .port()
}

/// Polls `condition` every [`POLL_INTERVAL`] until it holds, or fails at `deadline` with an error
/// saying what was awaited. The condition is checked once more at the deadline.
pub fn wait_until(
    deadline: Instant,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<()> {
    let started = Instant::now();
    loop {
        if condition() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            bail!("timed out after {:?} waiting until {what}", now - started);
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

/// [`wait_until`] for async tests: sleeps on the tokio timer between checks instead of blocking.
pub async fn wait_until_async(
    deadline: Instant,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<()> {
    let started = Instant::now();
    loop {
        if condition() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            bail!("timed out after {:?} waiting until {what}", now - started);
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    }
}

/// Seoul's date `days` after today (`YYYY-MM-DD`): the processes under test read the real clock,
/// so the dates a test gives them are chosen relative to it, never written out.
pub fn seoul_date_in(days: i64) -> String {
    jiff::Timestamp::now()
        .in_tz("Asia/Seoul")
        .expect("the bundled time zone database knows Asia/Seoul")
        .date()
        .checked_add(jiff::Span::new().days(days))
        .expect("a date within jiff's range")
        .to_string()
}

/// The instant `days` days from now (negative: ago), RFC 3339 in UTC.
pub fn instant_in_days(days: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * days))
        .expect("an instant within jiff's range")
        .to_string()
}

/// The workspace root (where `Cargo.toml`, `scripts/` and `cloud-hub/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/system sits two levels below the workspace root")
        .to_path_buf()
}

/// `scripts/provision-station.sh`, the one way credentials are made, in production and in tests.
pub fn provisioning_script() -> PathBuf {
    workspace_root().join("scripts/provision-station.sh")
}

/// The production ACL file, used as is by secured test brokers.
pub fn production_acl_file() -> PathBuf {
    workspace_root().join("cloud-hub/mosquitto/acl")
}

/// Runs the provisioning script for `username` (`"hub"` runs it with `--hub`) against
/// `password_file` and returns the credential it printed.
pub fn provision(username: &str, password_file: &Path) -> Result<Credential> {
    let first_argument = if username == HUB_USERNAME {
        "--hub"
    } else {
        username
    };
    let output = Command::new("bash")
        .arg(provisioning_script())
        .arg(first_argument)
        .arg(password_file)
        .env_remove("STATION_MQTT_PASSWORD")
        .output()
        .context("running scripts/provision-station.sh")?;
    ensure!(
        output.status.success(),
        "provision-station.sh {first_argument} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "provision-station.sh printed something other than one JSON line: {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let field = |name: &str| {
        printed[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("provision-station.sh output lacks \"{name}\": {printed}"))
    };
    let credential = Credential {
        username: field("username")?,
        password: field("password")?,
    };
    ensure!(
        credential.username == username,
        "provisioned {credential:?} when asked for {username}"
    );
    Ok(credential)
}

/// A username and password for the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

/// A spawned process that is killed (SIGKILL) and reaped when the guard is dropped, so a failing
/// test never leaves it running. Derefs to the [`Child`].
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    reaped: bool,
}

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        Self {
            child,
            reaped: false,
        }
    }

    /// Sends SIGKILL (unless it already exited) and waits for the exit status.
    pub fn kill_and_wait(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            self.reaped = true;
            return Ok(status);
        }
        self.child.kill()?;
        let status = self.child.wait()?;
        self.reaped = true;
        Ok(status)
    }
}

impl Deref for ChildGuard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.child
    }
}

impl DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.reaped {
            // Nothing useful can be done about a failure here; the process is most likely gone.
            let _ = self.kill_and_wait();
        }
    }
}

/// Who may connect to a test broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials or ACL: for tests of the sync protocol itself.
    Anonymous,
    /// As in production: password file made by the provisioning script (credentials for `hub`,
    /// `ST0001`, `ST0002`), the project's `cloud-hub/mosquitto/acl`, and the client id replaced by
    /// the username (`use_username_as_clientid`).
    Secured,
}

/// Whether a test broker keeps sessions, subscriptions and queued messages across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Everything is lost when the broker stops.
    InMemory,
    /// Saved under the broker's directory after every change (`autosave_on_changes`,
    /// `autosave_interval 1`) and at a clean stop. The save runs in the broker's main loop after
    /// the change, so a SIGKILL can still lose the very last change; [`Mosquitto::stop`] loses nothing.
    OnDisk,
}

/// A Mosquitto broker process on a free loopback port, in its own temporary directory, killed on drop.
#[derive(Debug)]
pub struct Mosquitto {
    port: u16,
    access: Access,
    credentials: BTreeMap<String, Credential>,
    process: Option<ChildGuard>,
    // Last, so the directory outlives the process when dropped.
    dir: TempDir,
}

impl Mosquitto {
    /// Starts a broker and waits until it accepts connections.
    pub fn start(access: Access, persistence: Persistence) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("mosquitto-")
            .tempdir()
            .context("creating the broker's temporary directory")?;
        let mut credentials = BTreeMap::new();
        if access == Access::Secured {
            let password_file = dir.path().join("passwd");
            for username in std::iter::once(HUB_USERNAME).chain(PROVISIONED_STATIONS) {
                credentials.insert(username.to_owned(), provision(username, &password_file)?);
            }
        }
        fs::create_dir_all(dir.path().join("data"))
            .context("creating the persistence directory")?;

        let mut broker = Self {
            port: free_port(),
            access,
            credentials,
            process: None,
            dir,
        };
        const PORT_ATTEMPTS: usize = 5;
        for attempt in 1..=PORT_ATTEMPTS {
            broker.write_config(persistence)?;
            match broker.spawn_and_wait() {
                Ok(()) => return Ok(broker),
                // Another process took the port between free_port() and the broker's bind.
                Err(_)
                    if attempt < PORT_ATTEMPTS
                        && broker.log().contains("Error: Address already in use") =>
                {
                    broker.port = free_port();
                }
                Err(error) => return Err(error),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// An anonymous, in-memory broker.
    pub fn start_anonymous() -> Result<Self> {
        Self::start(Access::Anonymous, Persistence::InMemory)
    }

    /// A secured, in-memory broker with credentials for `hub`, `ST0001` and `ST0002`.
    pub fn start_secured() -> Result<Self> {
        Self::start(Access::Secured, Persistence::InMemory)
    }

    pub fn host(&self) -> String {
        LOOPBACK.to_string()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://{}:{}", self.host(), self.port)
    }

    /// The broker's temporary directory (config, password file, log, persistence).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn password_file(&self) -> PathBuf {
        self.dir().join("passwd")
    }

    /// The credential provisioned for `username` (only on a secured broker).
    pub fn credential(&self, username: &str) -> Result<Credential> {
        self.credentials.get(username).cloned().with_context(|| {
            format!(
                "no credential for {username:?} on this {:?} broker; provisioned: {:?}",
                self.access,
                self.credentials.keys().collect::<Vec<_>>()
            )
        })
    }

    /// Provisions one more station (or rotates its password) with the provisioning script, makes the
    /// running broker reload its password file, and returns the new credential.
    pub fn provision_station(&mut self, station: &str) -> Result<Credential> {
        ensure!(
            self.access == Access::Secured,
            "an anonymous broker has no password file"
        );
        let credential = provision(station, &self.password_file())?;
        self.credentials
            .insert(station.to_owned(), credential.clone());
        self.reload()?;
        Ok(credential)
    }

    /// Sends SIGHUP and waits until the broker has reloaded its password file and ACL. Mosquitto
    /// reloads in its single main loop, so every connection accepted after the log line sees the
    /// new files.
    pub fn reload(&mut self) -> Result<()> {
        let reloads_before = self.log().matches("Reloading config").count();
        self.signal("HUP")?;
        wait_until(
            Instant::now() + STARTUP_TIMEOUT,
            "mosquitto logs that it reloaded its config",
            || self.log().matches("Reloading config").count() > reloads_before,
        )
        .with_context(|| self.log_for_error())
    }

    /// SIGKILL: the broker dies at once, as in a crash or power cut, saving nothing.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut process) = self.process.take() {
            process.kill_and_wait().context("killing mosquitto")?;
        }
        Ok(())
    }

    /// SIGTERM and wait for the exit: a clean shutdown that saves the persistence database.
    pub fn stop(&mut self) -> Result<()> {
        if self.process.is_none() {
            return Ok(());
        }
        self.signal("TERM")?;
        let process = self.process.as_mut().expect("checked above");
        let mut exited = false;
        let waited = wait_until(
            Instant::now() + STARTUP_TIMEOUT,
            "mosquitto exits after SIGTERM",
            || {
                exited = matches!(process.try_wait(), Ok(Some(_)) | Err(_));
                exited
            },
        );
        self.process = None;
        waited.with_context(|| self.log_for_error())
    }

    /// Starts the broker again on the same port with the same files (config, password file,
    /// persistence); kills it first (SIGKILL) if it is still running.
    pub fn restart(&mut self) -> Result<()> {
        self.kill()?;
        self.spawn_and_wait()
    }

    /// Whether the broker process is alive.
    pub fn is_running(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|process| matches!(process.try_wait(), Ok(None)))
    }

    /// Everything the broker logged, over all its starts, then what it wrote to stdout/stderr.
    pub fn log(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir().join(name)).unwrap_or_default();
        let mut log = read("mosquitto.log");
        let output = read("mosquitto.out");
        if !output.is_empty() {
            log.push_str("\n--- stdout/stderr ---\n");
            log.push_str(&output);
        }
        log
    }

    /// The log, ready to be attached to an assertion or error message.
    pub fn log_for_error(&self) -> String {
        format!("mosquitto log ({}):\n{}", self.dir().display(), self.log())
    }

    fn write_config(&self, persistence: Persistence) -> Result<()> {
        let dir = self.dir();
        let mut config = format!(
            "# Generated by system-tests for one test broker.\n\
             # Run as root, Mosquitto would switch to the mosquitto user, who cannot read this directory.\n\
             user root\n\
             log_dest file {log}\n\
             log_type all\n\
             connection_messages true\n\
             per_listener_settings false\n\
             set_tcp_nodelay true\n\
             max_packet_size 266240\n\
             # As in production (cloud-hub/mosquitto/mosquitto.conf).\n\
             max_queued_messages 10000\n",
            log = dir.join("mosquitto.log").display(),
        );
        match persistence {
            Persistence::InMemory => config.push_str("persistence false\n"),
            Persistence::OnDisk => config.push_str(&format!(
                "persistence true\n\
                 persistence_location {}/\n\
                 autosave_on_changes true\n\
                 autosave_interval 1\n",
                dir.join("data").display()
            )),
        }
        match self.access {
            Access::Anonymous => config.push_str("allow_anonymous true\n"),
            Access::Secured => config.push_str(&format!(
                "allow_anonymous false\n\
                 password_file {}\n\
                 acl_file {}\n",
                self.password_file().display(),
                production_acl_file().display()
            )),
        }
        config.push_str(&format!(
            "listener {} {LOOPBACK}\nprotocol mqtt\n",
            self.port
        ));
        if self.access == Access::Secured {
            // A listener option: it must follow the `listener` line (see cloud-hub/mosquitto/mosquitto.conf).
            config.push_str("use_username_as_clientid true\n");
        }
        fs::write(dir.join("mosquitto.conf"), config).context("writing mosquitto.conf")
    }

    fn spawn_and_wait(&mut self) -> Result<()> {
        let log_path = self.dir().join("mosquitto.log");
        let runs_logged_before = count_running_lines(&log_path);
        let output = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir().join("mosquitto.out"))
            .context("opening mosquitto.out")?;
        let child = Command::new(MOSQUITTO_BIN)
            .arg("-c")
            .arg(self.dir().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(output.try_clone().context("duplicating mosquitto.out")?)
            .stderr(output)
            .spawn()
            .with_context(|| {
                format!("spawning {MOSQUITTO_BIN} (is the mosquitto package installed?)")
            })?;
        let mut process = ChildGuard::new(child);

        // Ready when this start has logged "running" (every listener is open) and a TCP connect
        // succeeds; failing early if the process exits (e.g. the port was taken meanwhile).
        let address = SocketAddr::from((LOOPBACK, self.port));
        let mut exit = None;
        let waited = wait_until(
            Instant::now() + STARTUP_TIMEOUT,
            &format!("mosquitto accepts connections on {address}"),
            || {
                if let Ok(Some(status)) = process.try_wait() {
                    exit = Some(status);
                    return true;
                }
                count_running_lines(&log_path) > runs_logged_before
                    && TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
            },
        );
        if let Some(status) = exit {
            bail!(
                "mosquitto exited with {status} before accepting connections on {address}\n{}",
                self.log_for_error()
            );
        }
        self.process = Some(process);
        waited.with_context(|| self.log_for_error())
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let process = self.process.as_ref().context("mosquitto is not running")?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(process.id().to_string())
            .status()
            .with_context(|| format!("running kill -{signal}"))?;
        ensure!(
            status.success(),
            "kill -{signal} {} failed: {status}",
            process.id()
        );
        Ok(())
    }
}

fn count_running_lines(log_path: &Path) -> usize {
    fs::read_to_string(log_path)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("mosquitto version") && line.ends_with(" running"))
        .count()
}

/// The production config with paths under `dir` and the given ports; fails if the text it
/// rewrites is no longer there, so the config and this test cannot drift apart silently.
pub fn relocated_production_config(dir: &Path, plain_port: u16, tls_port: u16) -> Result<String> {
    let original = fs::read_to_string(workspace_root().join("cloud-hub/mosquitto/mosquitto.conf"))?;
    let dir = dir.display();
    let mut config = original;
    for (from, to) in [
        ("/etc/mosquitto/", format!("{dir}/etc/")),
        ("/var/lib/mosquitto/", format!("{dir}/data/")),
        (
            "/var/log/mosquitto/mosquitto.log",
            format!("{dir}/mosquitto.log"),
        ),
        (
            "/run/mosquitto/mosquitto.pid",
            format!("{dir}/mosquitto.pid"),
        ),
        (
            "\nlistener 1883 127.0.0.1\n",
            format!("\nlistener {plain_port} 127.0.0.1\n"),
        ),
        ("\nlistener 8883\n", format!("\nlistener {tls_port}\n")),
    ] {
        ensure!(
            config.contains(from),
            "mosquitto.conf no longer contains {from:?}"
        );
        config = config.replace(from, &to);
    }
    // The files are root's, in a root-only temporary directory; production keeps the default user.
    config.push_str("\nuser root\n");
    Ok(config)
}

/// The production broker as `cloud-hub/mosquitto/` describes it, in a temporary directory: its
/// config with paths and ports moved, certificates from `scripts/make-broker-certificates.sh`
/// (for `localhost` and `127.0.0.1`), credentials for the hub, ST0001 and ST0002 from
/// `scripts/provision-station.sh`. Killed on drop.
#[derive(Debug)]
pub struct ProductionBroker {
    pub plain_port: u16,
    pub tls_port: u16,
    pub ca_file: PathBuf,
    pub credentials: BTreeMap<String, Credential>,
    /// Held only to be killed on drop.
    _process: ChildGuard,
    dir: TempDir,
}

impl ProductionBroker {
    pub fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let etc = dir.path().join("etc");
        fs::create_dir_all(etc.join("certs"))?;
        fs::create_dir_all(dir.path().join("data"))?;
        fs::copy(production_acl_file(), etc.join("acl"))?;
        let password_file = etc.join("passwd");
        let mut credentials = BTreeMap::new();
        for user in [HUB_USERNAME, "ST0001", "ST0002"] {
            credentials.insert(user.to_owned(), provision(user, &password_file)?);
        }
        let certificates = Command::new("bash")
            .arg(workspace_root().join("scripts/make-broker-certificates.sh"))
            .arg(etc.join("certs"))
            .args(["localhost", "127.0.0.1"])
            .stdin(Stdio::null())
            .output()?;
        ensure!(
            certificates.status.success(),
            "make-broker-certificates.sh failed: {}",
            String::from_utf8_lossy(&certificates.stderr)
        );
        let (plain_port, tls_port) = (free_port(), free_port());
        let config_path = dir.path().join("mosquitto.conf");
        fs::write(
            &config_path,
            relocated_production_config(dir.path(), plain_port, tls_port)?,
        )?;
        let mut process = ChildGuard::new(
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
            "the production broker accepts connections on both listeners",
            || {
                matches!(process.try_wait(), Ok(Some(_)))
                    || [plain_port, tls_port]
                        .iter()
                        .all(|port| TcpStream::connect((LOOPBACK, *port)).is_ok())
            },
        )?;
        ensure!(process.try_wait()?.is_none(), "mosquitto exited");
        Ok(Self {
            plain_port,
            tls_port,
            ca_file: etc.join("certs/ca.crt"),
            credentials,
            _process: process,
            dir,
        })
    }

    pub fn credential(&self, user: &str) -> &Credential {
        &self.credentials[user]
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }
}
