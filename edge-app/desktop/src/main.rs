//! `station-desktop`: the station's POS as a desktop app. It starts the station's runtime
//! in-process (the same one `station-runtime` runs headless: sync agent, devices, the API that
//! also serves the UI) and opens one window on the runtime's URL. The UI talks plain HTTP to the
//! runtime; the window calls no Tauri command.
//!
//! The UI is served from `--ui-dir`; without it, from `$STATION_UI_DIR`, else from the first
//! `ui/dist` directory found next to the executable or in the app's resource directory
//! (`/usr/lib/GasStation POS/ui/dist` when installed as a package).
//!
//! A second launch focuses the running window and exits. Closing the window, Ctrl-C or SIGTERM
//! stop the runtime (it says offline to HQ first). If the runtime cannot start, or stops by itself
//! on a fatal error, the error goes to stderr and the exit status is 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use station_runtime::app::{self, Runtime, Settings};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use tokio::sync::oneshot;

/// The label of the one window (the capability in `capabilities/main.json` names it).
const MAIN_WINDOW: &str = "main";
const TITLE: &str = "GasStation POS";
/// How long the runtime may take to stop on exit before the app exits anyway.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "station-desktop",
    version,
    about = "The station's POS: the edge runtime and its UI in one window.",
    mut_arg("ui_dir", |arg| arg.help(
        "The built UI (`ui/dist`), served at `/`. Without it: `ui/dist` next to the executable, \
         else in the app's resource directory"
    ))
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    /// Fullscreen and without window decorations: the POS touchscreen.
    #[arg(long, env = "STATION_KIOSK")]
    kiosk: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("station-desktop: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Why the app ends with a failure: the runtime did not start, or stopped by itself.
type Failure = Arc<Mutex<Option<anyhow::Error>>>;

/// The runtime's supervisor: a task that owns the runtime and shuts it down when told to.
#[derive(Debug)]
struct Supervisor {
    stop: oneshot::Sender<()>,
    task: tauri::async_runtime::JoinHandle<()>,
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Cli {
        mut settings,
        kiosk,
    } = cli;
    let supervisor: Arc<Mutex<Option<Supervisor>>> = Arc::default();
    let failure = Failure::default();

    let app = {
        let supervisor = supervisor.clone();
        let failure = failure.clone();
        tauri::Builder::default()
            // First, so that a second launch exits before it starts a runtime of its own.
            .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
                focus_main_window(app);
            }))
            .setup(move |app| {
                if settings.ui_dir.is_none() {
                    settings.ui_dir = default_ui_dir(app.path().resource_dir().ok().as_deref());
                }
                let started = tauri::async_runtime::block_on(app::start(settings))
                    .context("the station runtime did not start")
                    .and_then(|runtime| {
                        let url = runtime.url();
                        let (stop, stopped) = oneshot::channel();
                        let task = tauri::async_runtime::spawn(supervise(
                            runtime,
                            stopped,
                            app.handle().clone(),
                            failure.clone(),
                        ));
                        *lock(&supervisor) = Some(Supervisor { stop, task });
                        open_window(app, &url, kiosk)
                    });
                if let Err(error) = started {
                    // Setup runs inside the event loop, where an error would panic: keep the
                    // error for `run` to report, and leave the loop.
                    *lock(&failure) = Some(error);
                    app.handle().exit(1);
                }
                Ok(())
            })
            .build(tauri::generate_context!())
            .context("the app did not start")?
    };
    let code = app.run_return(|_, _| {});

    let running = lock(&supervisor).take();
    if let Some(Supervisor { stop, task }) = running {
        let _ = stop.send(());
        if let Err(error) = tauri::async_runtime::block_on(task) {
            tracing::error!("the runtime's supervisor failed: {error}");
        }
    }
    if let Some(error) = lock(&failure).take() {
        return Err(error);
    }
    Ok(u8::try_from(code).map_or(ExitCode::FAILURE, ExitCode::from))
}

/// Owns the runtime until the app exits (`stop`), Ctrl-C or SIGTERM arrive (the app is told to
/// exit), or the runtime ends by itself on a fatal error (the app exits with it, as the headless
/// runtime does); then shuts the runtime down.
async fn supervise(
    mut runtime: Runtime,
    stop: oneshot::Receiver<()>,
    app: AppHandle,
    failure: Failure,
) {
    tokio::select! {
        _ = stop => {}
        () = app::wait_for_signal() => app.exit(0),
        ended = runtime.wait() => {
            let error = ended.err().unwrap_or_else(|| anyhow::anyhow!("its sync agent ended"));
            *lock(&failure) = Some(error.context("the station runtime stopped"));
            app.exit(1);
            return;
        }
    }
    tracing::info!("stopping the station runtime");
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, runtime.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!("the runtime stopped with an error: {error:#}"),
        Err(_) => tracing::error!("the runtime did not stop within {SHUTDOWN_TIMEOUT:?}"),
    }
}

fn open_window(app: &tauri::App, url: &str, kiosk: bool) -> anyhow::Result<()> {
    let url = url
        .parse()
        .with_context(|| format!("the runtime's URL `{url}`"))?;
    tracing::info!(%url, kiosk, "opening the POS window");
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::External(url))
        .title(TITLE)
        .inner_size(1280.0, 800.0)
        .min_inner_size(800.0, 600.0)
        .fullscreen(kiosk)
        .decorations(!kiosk)
        .build()
        .context("opening the window")?;
    Ok(())
}

/// A second launch brings the running window to the front.
fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The built UI when `--ui-dir` and `$STATION_UI_DIR` are not given: `ui/dist` next to the
/// executable, else in the resource directory. None when neither exists (the API alone is served).
fn default_ui_dir(resource_dir: Option<&Path>) -> Option<PathBuf> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    let found = [exe_dir.as_deref(), resource_dir]
        .into_iter()
        .flatten()
        .map(|dir| dir.join("ui").join("dist"))
        .find(|dir| dir.is_dir());
    match &found {
        Some(dir) => tracing::info!(ui_dir = %dir.display(), "serving the UI"),
        None => tracing::warn!(
            "no UI found (--ui-dir, STATION_UI_DIR, ui/dist next to the executable or in the resource directory): serving the API only"
        ),
    }
    found
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
