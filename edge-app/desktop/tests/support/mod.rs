//! What the desktop tests and the desktop bench share: a virtual X display (Xvfb), a private D-Bus
//! session bus, `tauri-driver` in front of WebKitWebDriver, a small W3C WebDriver client over
//! plain HTTP, a prepared station database, and the processes and memory of a process tree.
//!
//! Every process started here is killed, with everything it started, when its guard is dropped,
//! so a failing test leaves nothing behind. Waiting is polling against a deadline, never a fixed
//! sleep. Anything missing (Xvfb, dbus-daemon, tauri-driver, the `station` tool, the built UI) is
//! an error that says how to get it.
#![allow(dead_code)] // the tests and the bench each use a part

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

/// How often conditions are checked.
pub const POLL: Duration = Duration::from_millis(50);
/// The native WebDriver of WebKitGTK (Debian: webkit2gtk-driver).
pub const WEBKIT_WEBDRIVER: &str = "/usr/bin/WebKitWebDriver";
/// The W3C name of an element reference in WebDriver responses.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The app under test, built by cargo for this test or bench.
pub fn desktop_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_station-desktop"))
}

/// The `station` tool of the same build (target/<profile>/station). Cargo builds it for
/// `cargo test --workspace`; otherwise build it first.
pub fn station_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test executable")?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the test executable is not in target/<profile>/deps")?;
    let path = dir.join("station");
    ensure!(
        path.is_file(),
        "the `station` tool is missing at {}: build it with `cargo build -p station-cli` \
         (add --release for the bench); `cargo test --workspace` builds it",
        path.display()
    );
    Ok(path)
}

/// The built UI (`ui/dist` of the workspace).
pub fn ui_dist() -> Result<PathBuf> {
    let dist = workspace_root().join("ui").join("dist");
    ensure!(
        dist.join("index.html").is_file(),
        "the built UI is missing at {}: build it with `npm --prefix ui ci && npm --prefix ui run build`",
        dist.display()
    );
    Ok(dist)
}

/// `tauri-driver` from PATH, `$CARGO_HOME/bin` or `~/.cargo/bin`.
pub fn tauri_driver_binary() -> Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo_home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    dirs.into_iter()
        .map(|dir| dir.join("tauri-driver"))
        .find(|path| path.is_file())
        .context(
            "tauri-driver is not installed (looked on PATH, in $CARGO_HOME/bin and ~/.cargo/bin): \
             install it with `cargo install tauri-driver --locked`",
        )
}

/// A TCP port on loopback that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("binding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `check` until it gives a value or the deadline passes; then fails saying what was
/// awaited and the last error `check` gave.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let started = Instant::now();
    let deadline = started + timeout;
    loop {
        let last = match check() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => None,
            Err(error) if is_fatal(&error) => {
                return Err(error.context(format!("while waiting for {what}")));
            }
            Err(error) => Some(error),
        };
        let now = Instant::now();
        if now >= deadline {
            let detail = last.map(|e| format!(" (last: {e:#})")).unwrap_or_default();
            bail!("timed out after {timeout:?} waiting for {what}{detail}");
        }
        std::thread::sleep(POLL.min(deadline - now));
    }
}

/// Errors no retry can cure: the session or the driver is gone.
fn is_fatal(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(error) = cause.downcast_ref::<WebDriverError>() {
            return matches!(
                error.error.as_str(),
                "invalid session id" | "session not created" | "unknown command"
            );
        }
        cause
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect)
    })
}

/// A process killed with all its descendants when dropped.
#[derive(Debug)]
pub struct ProcessTree {
    name: &'static str,
    child: Child,
}

impl ProcessTree {
    pub fn new(name: &'static str, child: Child) -> Self {
        Self { name, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited: {status}", self.name);
        }
        Ok(())
    }

    /// The exit status, once the process has exited (it is reaped then).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .with_context(|| format!("waiting for {}", self.name))
    }

    /// Kills the process and every descendant (SIGKILL), and reaps the process. Once it has
    /// exited, nothing is left under its pid (its children went to another parent, and the pid
    /// may be another process's by now): then nothing is killed.
    pub fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let mut pids: Vec<u32> = descendants(self.child.id()).into_iter().collect();
        pids.push(self.child.id());
        // The descendants are listed before any is killed, so none is missed by being re-parented.
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(pids.iter().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every process below `root`, by parent links in /proc.
pub fn descendants(root: u32) -> BTreeSet<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(parent) = parent_pid(pid) {
                children.entry(parent).or_default().push(pid);
            }
        }
    }
    let mut found = BTreeSet::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if found.insert(child) {
                queue.push(child);
            }
        }
    }
    found
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// `name[pid] (parent ppid)`, for messages.
pub fn describe_process(pid: u32) -> String {
    let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let parent = parent_pid(pid).map_or_else(|| String::from("?"), |ppid| ppid.to_string());
    format!("{}[{pid}] (parent {parent})", name.trim())
}

/// The processes below `root` running `binary`.
pub fn processes_running(root: u32, binary: &Path) -> Vec<u32> {
    let binary = binary
        .canonicalize()
        .unwrap_or_else(|_| binary.to_path_buf());
    descendants(root)
        .into_iter()
        .filter(|pid| fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary))
        .collect()
}

/// The processes, anywhere on the machine (as far as they can be read), whose environment has
/// `name=value`.
pub fn processes_with_env(name: &str, value: &str) -> BTreeSet<u32> {
    let entry = format!("{name}={value}").into_bytes();
    let Ok(entries) = fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|pid: &u32| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|&b| b == 0).any(|var| var == entry))
        })
        .collect()
}

/// The memory of one process.
#[derive(Debug)]
pub struct ProcessMemory {
    pub pid: u32,
    pub name: String,
    /// Proportional set size, kB.
    pub pss_kb: u64,
}

/// The proportional set size of `pid` and each of its descendants.
pub fn tree_pss(pid: u32) -> Result<Vec<ProcessMemory>> {
    let mut tree = Vec::new();
    for pid in std::iter::once(pid).chain(descendants(pid)) {
        let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .with_context(|| format!("reading /proc/{pid}/smaps_rollup"))?;
        let pss_kb = rollup
            .lines()
            .find_map(|line| line.strip_prefix("Pss:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no Pss in /proc/{pid}/smaps_rollup"))?;
        let name = fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        tree.push(ProcessMemory { pid, name, pss_kb });
    }
    Ok(tree)
}

/// A virtual X display.
#[derive(Debug)]
pub struct Xvfb {
    /// `:N`
    pub display: String,
    _process: ProcessTree,
}

impl Xvfb {
    pub fn start() -> Result<Self> {
        // -displayfd 1: Xvfb picks a free display and writes its number on stdout once ready.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (Debian: apt-get install xvfb)")?;
        let stdout = child.stdout.take().context("Xvfb's stdout")?;
        let process = ProcessTree::new("Xvfb", child);
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading Xvfb's display number")?;
        let number: u32 = line
            .trim()
            .parse()
            .with_context(|| format!("Xvfb did not start (it printed {line:?})"))?;
        Ok(Self {
            display: format!(":{number}"),
            _process: process,
        })
    }
}

/// A private D-Bus session bus, its socket in a directory of the test's. It activates no service:
/// through the machine's session configuration, WebKit would start the accessibility bus, whose
/// launcher daemonizes, out of reach of the bus's process tree.
#[derive(Debug)]
pub struct SessionBus {
    /// The bus's address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    pub process: ProcessTree,
}

impl SessionBus {
    pub fn start(dir: &Path) -> Result<Self> {
        // The session bus's open policy, listening in `dir`; no service directory, no include.
        let config = dir.join("session-bus.conf");
        fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dbus_escape(dir)
            ),
        )
        .with_context(|| format!("writing {}", config.display()))?;
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting dbus-daemon (Debian: apt-get install dbus-daemon)")?;
        let stdout = child.stdout.take().context("dbus-daemon's stdout")?;
        let process = ProcessTree::new("dbus-daemon", child);
        // The address is printed once the bus listens.
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the bus's address")?;
        let address = line.trim().to_owned();
        ensure!(
            address.starts_with("unix:"),
            "dbus-daemon did not start (it printed {line:?})"
        );
        Ok(Self { address, process })
    }

    /// The process that owns the bus name `name`, if any does (asked with `dbus-send`, which comes
    /// with dbus-daemon).
    pub fn owner_pid(&self, name: &str) -> Result<Option<u32>> {
        let output = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args([
                "--print-reply=literal",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
            ])
            .arg(format!("string:{name}"))
            .output()
            .context("running dbus-send (Debian: apt-get install dbus-bin)")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("NameHasNoOwner") {
            return Ok(None);
        }
        ensure!(
            output.status.success(),
            "dbus-send failed ({}): {stderr}",
            output.status
        );
        // `   uint32 1234`
        let pid = stdout
            .split_whitespace()
            .last()
            .and_then(|pid| pid.parse().ok())
            .with_context(|| format!("no pid in dbus-send's answer {stdout:?}"))?;
        Ok(Some(pid))
    }
}

/// A path as a D-Bus address value: bytes other than `[-0-9A-Za-z_/.]` percent-escaped (which also
/// leaves nothing to escape in XML).
fn dbus_escape(path: &Path) -> String {
    path.as_os_str()
        .as_bytes()
        .iter()
        .map(|&byte| {
            if byte.is_ascii_alphanumeric() || b"-_/.".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02x}")
            }
        })
        .collect()
}

/// The bus name of the app's single-instance guard: its identifier (`tauri.conf.json`) and
/// `.SingleInstance`.
pub fn single_instance_name() -> Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json");
    let config: Value = serde_json::from_str(
        &fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("parsing {}", path.display()))?;
    let identifier = config["identifier"]
        .as_str()
        .with_context(|| format!("no identifier in {}", path.display()))?;
    Ok(format!("{identifier}.SingleInstance"))
}

/// The environment the app runs in: the display through X11, a runtime directory of its own, no
/// accessibility bus, its log at `info` (the level the tests read it at) in plain text, and the
/// given D-Bus session bus or none. Without a bus, the app's single-instance guard never meets an
/// app running elsewhere on the machine.
#[derive(Debug, Clone)]
pub struct AppEnv {
    pub display: String,
    pub runtime_dir: PathBuf,
    pub bus: Option<String>,
}

impl AppEnv {
    /// Creates the runtime directory (`xdg-runtime` in `dir`).
    pub fn new(display: &str, dir: &Path, bus: Option<&str>) -> Result<Self> {
        let runtime_dir = dir.join("xdg-runtime");
        fs::create_dir_all(&runtime_dir)?;
        fs::set_permissions(&runtime_dir, fs::Permissions::from_mode(0o700))?;
        Ok(Self {
            display: display.to_owned(),
            runtime_dir,
            bus: bus.map(str::to_owned),
        })
    }

    /// `program` in this environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("DISPLAY", &self.display)
            .env("GDK_BACKEND", "x11")
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            // No accessibility bus in a headless session.
            .env("NO_AT_BRIDGE", "1")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1");
        match &self.bus {
            Some(address) => command.env("DBUS_SESSION_BUS_ADDRESS", address),
            None => command.env_remove("DBUS_SESSION_BUS_ADDRESS"),
        };
        command
    }
}

/// `tauri-driver` with WebKitWebDriver behind it, in the app's environment (`env`): what it
/// launches runs there. Its output, and that of the app, goes to `driver.log` in `dir`.
#[derive(Debug)]
pub struct Driver {
    pub url: String,
    pub log: PathBuf,
    pub env: AppEnv,
    pub process: ProcessTree,
}

impl Driver {
    /// On `display`, with the D-Bus session bus at `bus` or none (see [`AppEnv`]).
    pub fn start(display: &str, dir: &Path, bus: Option<&str>) -> Result<Self> {
        let tauri_driver = tauri_driver_binary()?;
        ensure!(
            Path::new(WEBKIT_WEBDRIVER).is_file(),
            "{WEBKIT_WEBDRIVER} is missing (Debian: apt-get install webkit2gtk-driver)"
        );
        let port = free_port()?;
        let native_port = free_port()?;
        let log = &dir.join("driver.log");
        let output = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let env = AppEnv::new(display, dir, bus)?;
        let child = env
            .command(&tauri_driver)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .args(["--native-driver", WEBKIT_WEBDRIVER])
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .with_context(|| format!("starting {}", tauri_driver.display()))?;
        let mut process = ProcessTree::new("tauri-driver", child);
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        wait_for("tauri-driver to answer", Duration::from_secs(30), || {
            process.check_running()?;
            // tauri-driver forwards /status to WebKitWebDriver: both are up once it answers.
            Ok(http
                .get(&status)
                .send()
                .ok()
                .filter(|r| r.status().is_success())
                .map(drop))
        })
        .map_err(|e| with_log(e, log))?;
        Ok(Self {
            url,
            log: log.to_path_buf(),
            env,
            process,
        })
    }

    /// Launches the app with `args` and opens a WebDriver session on its window.
    pub fn launch(&self, application: &Path, args: &[String]) -> Result<Session> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "tauri:options": {"application": application, "args": args}
                }
            }
        });
        let value = call(
            &http,
            reqwest::Method::POST,
            &format!("{}/session", self.url),
            Some(capabilities),
        )
        .with_context(|| format!("launching {} over WebDriver", application.display()))
        .map_err(|e| with_log(e, &self.log))?;
        let id = value["sessionId"]
            .as_str()
            .with_context(|| format!("no session id in {value}"))?
            .to_owned();
        Ok(Session {
            http,
            base: format!("{}/session/{id}", self.url),
            log: self.log.clone(),
            closed: false,
        })
    }

    /// The tail of the driver's and the app's output.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

/// The error, followed by the tail of the log.
pub fn with_log(error: anyhow::Error, log: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{error:#}\n\noutput of tauri-driver, WebKitWebDriver and the app ({}):\n{}",
        log.display(),
        log_tail(log)
    )
}

fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    if File::open(log)
        .and_then(|mut f| f.read_to_string(&mut text))
        .is_err()
    {
        return String::from("(no output)");
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A WebDriver error response.
#[derive(Debug)]
pub struct WebDriverError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WebDriver {}: {} ({})",
            self.status, self.error, self.message
        )
    }
}

impl std::error::Error for WebDriverError {}

fn call(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(&body);
    } else if method == reqwest::Method::POST {
        request = request.json(&json!({}));
    }
    let response = request.send().with_context(|| format!("{method} {url}"))?;
    let status = response.status();
    let mut body: Value = response
        .json()
        .with_context(|| format!("{method} {url}: the answer is not JSON"))?;
    let value = body["value"].take();
    if !status.is_success() {
        return Err(WebDriverError {
            status: status.as_u16(),
            error: value["error"].as_str().unwrap_or("unknown").to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        }
        .into());
    }
    Ok(value)
}

/// A WebDriver session on the app's window; deleting it closes the app.
#[derive(Debug)]
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    log: PathBuf,
    closed: bool,
}

/// How long one awaited step of the UI may take.
pub const STEP: Duration = Duration::from_secs(30);

impl Session {
    fn get(&self, path: &str) -> Result<Value> {
        call(
            &self.http,
            reqwest::Method::GET,
            &format!("{}{path}", self.base),
            None,
        )
    }

    fn post(&self, path: &str, body: Value) -> Result<Value> {
        call(
            &self.http,
            reqwest::Method::POST,
            &format!("{}{path}", self.base),
            Some(body),
        )
    }

    /// The element matching a CSS selector, now.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        let value = self.post("/element", json!({"using": "css selector", "value": css}))?;
        let id = value[ELEMENT_KEY]
            .as_str()
            .with_context(|| format!("no element reference in {value}"))?
            .to_owned();
        Ok(Element { session: self, id })
    }

    /// How many elements match a CSS selector, now.
    pub fn count(&self, css: &str) -> Result<usize> {
        let value = self.post("/elements", json!({"using": "css selector", "value": css}))?;
        Ok(value.as_array().map_or(0, Vec::len))
    }

    /// Waits until the element is displayed.
    pub fn visible(&self, css: &str) -> Result<Element<'_>> {
        self.wait(&format!("{css} to be displayed"), || {
            let element = self.find(css)?;
            Ok(element.displayed()?.then_some(element))
        })
    }

    /// Waits for `check`, and on timeout says what the UI shows (its error banner, its URL) and
    /// what the app printed.
    pub fn wait<T>(&self, what: &str, check: impl FnMut() -> Result<Option<T>>) -> Result<T> {
        wait_for(what, STEP, check).map_err(|error| self.explain(error))
    }

    /// The URL the window shows.
    pub fn url(&self) -> Result<String> {
        let value = self.get("/url")?;
        value
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no URL in {value}"))
    }

    fn explain(&self, error: anyhow::Error) -> anyhow::Error {
        let url = self.url().unwrap_or_default();
        let banner = self
            .find(&testid("error-banner"))
            .and_then(|banner| {
                Ok(format!(
                    "{} [data-code={}]",
                    banner.text()?,
                    banner.attribute("data-code")?.unwrap_or_default()
                ))
            })
            .unwrap_or_else(|_| String::from("(none)"));
        with_log(
            error.context(format!(
                "the window shows {url}; its error banner: {banner}"
            )),
            &self.log,
        )
    }

    /// Waits until the element can be clicked, and clicks it.
    pub fn click(&self, css: &str) -> Result<()> {
        self.wait(&format!("a click on {css}"), || {
            let element = self.find(css)?;
            if !element.displayed()? || !element.enabled()? {
                return Ok(None);
            }
            element.click().map(Some)
        })
    }

    /// Waits until the input is displayed, clears it and types `text`.
    pub fn fill(&self, css: &str, text: &str) -> Result<()> {
        self.wait(&format!("typing into {css}"), || {
            let element = self.find(css)?;
            if !element.displayed()? || !element.enabled()? {
                return Ok(None);
            }
            element.clear()?;
            element.send_keys(text)?;
            Ok(Some(()))
        })
    }

    /// Waits until the attribute of the element has the value.
    pub fn attribute_is(&self, css: &str, name: &str, expected: &str) -> Result<()> {
        self.wait(&format!("{css} to have {name}=\"{expected}\""), || {
            let actual = self.find(css)?.attribute(name)?;
            if actual.as_deref() == Some(expected) {
                Ok(Some(()))
            } else {
                Err(anyhow::anyhow!("{name} is {actual:?}"))
            }
        })
    }

    /// Waits until the DOM property of the element (e.g. `value`) has the value.
    pub fn property_is(&self, css: &str, name: &str, expected: &str) -> Result<()> {
        self.wait(
            &format!("{css} to have the property {name}=\"{expected}\""),
            || {
                let actual = self.find(css)?.property(name)?;
                if actual.as_str() == Some(expected) {
                    Ok(Some(()))
                } else {
                    Err(anyhow::anyhow!("{name} is {actual}"))
                }
            },
        )
    }

    /// Ends the session: the driver closes the app.
    pub fn close(mut self) -> Result<()> {
        self.closed = true;
        call(&self.http, reqwest::Method::DELETE, &self.base, None)?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.closed {
            let _ = call(&self.http, reqwest::Method::DELETE, &self.base, None);
        }
    }
}

/// Logs in on the login screen, and waits for the signed-in screen (its log-out button).
pub fn log_in(app: &Session, user: &str, pin: &str) -> Result<()> {
    app.fill(&testid("login-user"), user)?;
    app.fill(&testid("login-pin"), pin)?;
    app.click(&testid("login-submit"))?;
    app.visible(&testid("logout")).map(drop)
}

/// The CSS selector of a `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// An element of the page.
#[derive(Debug)]
pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    pub fn click(&self) -> Result<()> {
        self.session.post(&self.path("/click"), json!({})).map(drop)
    }

    pub fn clear(&self) -> Result<()> {
        self.session.post(&self.path("/clear"), json!({})).map(drop)
    }

    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.session
            .post(&self.path("/value"), json!({ "text": text }))
            .map(drop)
    }

    pub fn text(&self) -> Result<String> {
        Ok(self
            .session
            .get(&self.path("/text"))?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .session
            .get(&self.path(&format!("/attribute/{name}")))?
            .as_str()
            .map(str::to_owned))
    }

    /// A DOM property (e.g. the current `value` of an input or a select).
    pub fn property(&self, name: &str) -> Result<Value> {
        self.session.get(&self.path(&format!("/property/{name}")))
    }

    pub fn displayed(&self) -> Result<bool> {
        Ok(self.session.get(&self.path("/displayed"))?.as_bool() == Some(true))
    }

    pub fn enabled(&self) -> Result<bool> {
        Ok(self.session.get(&self.path("/enabled"))?.as_bool() == Some(true))
    }
}

/// A station database set up as `scripts/run.sh` sets one up: station ST0001 with manager park
/// (PIN 9999), cashier kim (PIN 1234), diesel at 1,650 won and gasoline at 1,750 won a litre, and
/// diesel tank 3.
pub fn prepare_station(dir: &Path) -> Result<PathBuf> {
    let station = station_binary()?;
    let db = dir.join("station.db");
    let db_arg = db.to_string_lossy().into_owned();
    let manager = ["--db", db_arg.as_str(), "--user", "park", "--pin", "9999"];
    // In force since yesterday, whatever the calendar says today.
    let yesterday = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24))?
        .to_string();
    let steps: [Vec<&str>; 4] = [
        vec![
            "--db",
            &db_arg,
            "--manager",
            "park",
            "--manager-pin",
            "9999",
            "init",
            "--station",
            "ST0001",
            "--name",
            "Gangnam",
            "--manager-name",
            "Park",
        ],
        [
            &manager[..],
            &[
                "user",
                "add",
                "--id",
                "kim",
                "--name",
                "Kim",
                "--role",
                "cashier",
                "--new-pin",
                "1234",
            ],
        ]
        .concat(),
        [
            &manager[..],
            &[
                "price",
                "receive",
                "--version",
                "1",
                "--effective-at",
                &yesterday,
                "--item",
                "CD1001:Diesel:litre:1650",
                "--item",
                "GS1001:Gasoline:litre:1750",
            ],
        ]
        .concat(),
        [
            &manager[..],
            &[
                "tank",
                "register",
                "--tank",
                "3",
                "--product",
                "CD1001",
                "--capacity",
                "30000",
            ],
        ]
        .concat(),
    ];
    for args in steps {
        let output = Command::new(&station)
            .args(&args)
            .output()
            .with_context(|| format!("running {}", station.display()))?;
        ensure!(
            output.status.success(),
            "station {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(db)
}

/// The app's flags: the station database, an unreachable HQ (a normal state), a free API port
/// and the built UI.
pub fn app_args(db: &Path, ui: &Path) -> Vec<String> {
    [
        "--db",
        &db.to_string_lossy(),
        "--broker",
        "127.0.0.1:1",
        "--api",
        "127.0.0.1:0",
        "--ui-dir",
        &ui.to_string_lossy(),
    ]
    .map(str::to_owned)
    .to_vec()
}
