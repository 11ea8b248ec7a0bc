//! `station`: the station's command-line tool.
//!
//! Initialises a station database and performs every ledger operation from a shell, for
//! operators, scripts and tests. Results go to stdout as JSON; an error goes to stderr as
//! `{"error":{"code":…,"message":…}}` with exit status 1 when the station refused the request
//! (the database is unchanged), 2 when the command line itself was wrong, and 3 when the command
//! was done but its result could not be written (stdout closed, a broken pipe): a committed
//! operation never exits 1, so a script that retries on 1 never does the same thing twice. The
//! tool is a thin shell: it reads the clock (or `--at`), checks PINs through the core, and leaves
//! every rule to the core.

mod commands;
mod lines;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use jiff::civil::Date;
use station_core::{AccountId, OrderId, Pin, ProductId, SaleId, ShipmentId, TankNo, UserId, Won};

#[derive(Debug, Parser)]
#[command(
    name = "station",
    version,
    about = "Run a fuel station's ledger from the shell."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
struct Global {
    /// The station database file.
    #[arg(long, env = "STATION_DB", global = true, default_value = "station.db")]
    db: PathBuf,
    /// The time the operation happens (RFC 3339, e.g. 2026-11-25T09:00:00+09:00); default now.
    #[arg(long, env = "STATION_AT", global = true)]
    at: Option<Timestamp>,
    /// Who performs the operation.
    #[arg(long, env = "STATION_USER", global = true)]
    user: Option<UserId>,
    /// The PIN of `--user`.
    #[arg(long, env = "STATION_PIN", global = true, hide_env_values = true)]
    pin: Option<Pin>,
    /// A manager approving the operation, when the user is not a manager.
    #[arg(long, global = true)]
    manager: Option<UserId>,
    /// The PIN of `--manager`.
    #[arg(long, global = true, hide_env_values = true)]
    manager_pin: Option<Pin>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a station database with its first manager (`--manager`, `--manager-pin`).
    Init {
        /// The station's id, as HQ knows it (e.g. ST0001).
        #[arg(long)]
        station: station_core::StationId,
        #[arg(long)]
        name: String,
        /// IANA time zone deciding the business day.
        #[arg(long, default_value = station_core::DEFAULT_TIME_ZONE)]
        time_zone: String,
        /// The first manager's display name.
        #[arg(long)]
        manager_name: String,
    },
    /// Who this station is.
    Info,
    /// Check the database file's integrity.
    Check,
    /// Cashiers and managers.
    #[command(subcommand)]
    User(UserCommand),
    /// Price versions from HQ.
    #[command(subcommand)]
    Price(PriceCommand),
    /// Tanks.
    #[command(subcommand)]
    Tank(TankCommand),
    /// Book stock and the stock ledger.
    #[command(subcommand)]
    Stock(StockCommand),
    /// Fuel orders to HQ.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Expected and confirmed deliveries.
    #[command(subcommand)]
    Delivery(DeliveryCommand),
    /// The cashier's shift.
    #[command(subcommand)]
    Shift(ShiftCommand),
    /// Settle, cancel and look up sales.
    #[command(subcommand)]
    Sale(SaleCommand),
    /// The sales summary.
    #[command(subcommand)]
    Sales(SalesCommand),
    /// Credit accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// The business day.
    #[command(subcommand)]
    Day(DayCommand),
    /// Events waiting for HQ.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Messages from HQ.
    #[command(subcommand)]
    Inbox(InboxCommand),
    /// Messages from HQ that could not be handled.
    DeadLetters,
    /// Write a consistent copy of the database to a new file, while the station keeps selling.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Where the station's history and HQ's were found to differ, newest first.
    Divergences {
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Receipts waiting for the printer.
    #[command(subcommand)]
    Print(PrintCommand),
    /// Generate load.
    #[command(subcommand)]
    Simulate(SimulateCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a cashier or manager (needs a manager).
    Add {
        #[arg(long)]
        id: UserId,
        #[arg(long)]
        name: String,
        /// cashier or manager
        #[arg(long)]
        role: station_core::Role,
        #[arg(long)]
        new_pin: Pin,
    },
    /// Set a user's PIN (needs a manager).
    SetPin {
        #[arg(long)]
        id: UserId,
        #[arg(long)]
        new_pin: Pin,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum PriceCommand {
    /// Store a price version received from HQ by other means (needs a manager).
    Receive {
        #[arg(long)]
        version: u64,
        #[arg(long)]
        effective_at: Timestamp,
        /// PRODUCT:NAME:UNIT:PRICE, e.g. CD1001:Diesel:litre:1650; repeat for every product.
        #[arg(long = "item", required = true)]
        items: Vec<String>,
    },
    /// Bring a price version whose time has come into force.
    ApplyDue,
    /// Every price version held.
    List,
    /// The price of one product in force.
    Show {
        #[arg(long)]
        product: ProductId,
    },
}

#[derive(Debug, Subcommand)]
enum TankCommand {
    /// Set up a tank (needs a manager).
    Register {
        #[arg(long)]
        tank: TankNo,
        #[arg(long)]
        product: ProductId,
        /// Capacity in litres.
        #[arg(long)]
        capacity: station_core::Millilitres,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum StockCommand {
    /// Book stock per tank and product, and deliveries expected.
    Show,
    /// The stock ledger of one tank.
    Flows {
        #[arg(long)]
        tank: TankNo,
    },
    /// The tank gauge's latest reading per tank.
    Readings,
    /// Wet-stock reconciliation per tank of a business day (default: the open one).
    Reconcile {
        #[arg(long)]
        day: Option<Date>,
    },
    /// Correct a tank's book stock by a signed number of litres (needs a manager).
    Adjust {
        #[arg(long)]
        tank: TankNo,
        #[arg(long, allow_hyphen_values = true)]
        litres: station_core::Millilitres,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrderCommand {
    /// Order fuel from HQ (needs a manager).
    Place {
        #[arg(long)]
        product: ProductId,
        #[arg(long)]
        litres: station_core::Millilitres,
        /// The day the fuel is wanted (YYYY-MM-DD).
        #[arg(long)]
        wanted: Date,
    },
    /// Cancel an order that has not shipped (needs a manager).
    Cancel {
        #[arg(long)]
        order: OrderId,
        #[arg(long)]
        reason: String,
    },
    List,
    Show {
        #[arg(long)]
        order: OrderId,
    },
}

#[derive(Debug, Subcommand)]
enum DeliveryCommand {
    /// Confirm a delivery with the volume received into a tank (needs a manager).
    Confirm {
        #[arg(long)]
        shipment: ShipmentId,
        #[arg(long)]
        tank: TankNo,
        /// Litres actually received.
        #[arg(long)]
        litres: station_core::Millilitres,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum ShiftCommand {
    /// Open the user's shift with the cash in the drawer.
    Open {
        #[arg(long = "float")]
        opening_float: i64,
    },
    /// Close the user's shift with the cash counted in the drawer.
    Close {
        #[arg(long)]
        counted: i64,
    },
    /// The user's open shift, if any.
    Current,
}

#[derive(Debug, Subcommand)]
enum SaleCommand {
    /// Settle a sale for the user's open shift.
    Settle {
        /// product=ID and litres=L or qty=N; optional tank=N, pump-price=P with pump-amount=A,
        /// or price=P (a manager's override). Repeat for every line.
        #[arg(long = "line", required = true)]
        lines: Vec<String>,
        #[command(flatten)]
        payment: PaymentArgs,
    },
    /// Cancel a sale (needs a manager).
    Cancel {
        #[arg(long)]
        sale: SaleId,
        #[arg(long)]
        reason: String,
    },
    /// One sale, by id or receipt number.
    Show {
        #[arg(long, conflicts_with = "receipt", required_unless_present = "receipt")]
        sale: Option<SaleId>,
        #[arg(long)]
        receipt: Option<String>,
    },
    /// Print a past sale's receipt again.
    Reprint {
        #[arg(long)]
        sale: SaleId,
    },
    /// The sales of a business day (default: the open one, else today).
    List {
        #[arg(long)]
        day: Option<Date>,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct PaymentArgs {
    /// Cash tendered, in won.
    #[arg(long)]
    cash: Option<i64>,
    /// Card payment with the terminal's reference.
    #[arg(long)]
    card: Option<String>,
    /// On a credit account.
    #[arg(long)]
    account: Option<AccountId>,
}

#[derive(Debug, Subcommand)]
enum SalesCommand {
    /// Per business day and product: sales, cancellations, net.
    Summary {
        #[arg(long)]
        day: Option<Date>,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Open a credit account (needs a manager).
    Open {
        #[arg(long)]
        name: String,
        /// Credit limit in won.
        #[arg(long)]
        limit: i64,
    },
    /// Take a payment towards an account.
    Pay {
        #[arg(long)]
        account: AccountId,
        #[arg(long)]
        amount: i64,
        /// cash or card
        #[arg(long, default_value = "cash")]
        method: String,
        /// The card terminal's approval reference (a card payment needs one).
        #[arg(long)]
        reference: Option<String>,
    },
    List,
    /// An account with its movements.
    Show {
        #[arg(long)]
        account: AccountId,
    },
}

#[derive(Debug, Subcommand)]
enum DayCommand {
    /// Close the open business day (needs a manager; every shift closed).
    Close,
    /// The report of a business day.
    Report {
        #[arg(long)]
        day: Date,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Events in sequence order.
    List {
        /// Only events after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: u64,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Only events HQ has not acknowledged.
        #[arg(long)]
        pending: bool,
    },
    /// Record HQ's acknowledgement of every event through a sequence number.
    Ack {
        #[arg(long)]
        through: u64,
    },
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    /// Apply one message from HQ, read from a file (`-` for stdin).
    Apply {
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PrintCommand {
    /// Receipts not printed yet, oldest first.
    List,
}

#[derive(Debug, Subcommand)]
enum SimulateCommand {
    /// Settle `count` one-line card sales for the user's open shift, printing one JSON line per
    /// sale as soon as it is durable.
    Sales {
        #[arg(long)]
        count: u64,
        #[arg(long)]
        product: ProductId,
        #[arg(long)]
        litres: station_core::Millilitres,
    },
}

/// Why a command failed, and how the process exits.
#[derive(Debug)]
enum Failure {
    /// The command line was wrong.
    Usage(String),
    /// The station refused or failed.
    Station(station_core::StationError),
    /// Reading the command's input failed, before anything was done.
    Io(String),
    /// The command was done (a committed operation stays committed) but its result could not be
    /// written or read back, e.g. stdout is a closed pipe. Never exit 1: that promises the
    /// database is unchanged.
    Unreported(String),
}

/// The exit status of a command that was done but whose result was lost.
const EXIT_DONE_BUT_UNREPORTED: u8 = 3;

impl From<station_core::StationError> for Failure {
    fn from(error: station_core::StationError) -> Failure {
        Failure::Station(error)
    }
}

impl Failure {
    fn code(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "usage",
            Failure::Station(error) => error.code(),
            Failure::Io(_) => "io",
            Failure::Unreported(_) => "output_failed",
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Usage(message) | Failure::Io(message) => message.clone(),
            Failure::Station(error) => error.to_string(),
            Failure::Unreported(problem) => {
                format!("the command was done, but its result was not reported: {problem}")
            }
        }
    }

    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Station(_) | Failure::Io(_) => ExitCode::from(1),
            Failure::Unreported(_) => ExitCode::from(EXIT_DONE_BUT_UNREPORTED),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            if !error.use_stderr() {
                // --help and --version
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            return fail(&Failure::Usage(error.render().to_string()));
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(&failure),
    }
}

/// Reports a failure on stderr when it can (a closed stderr changes nothing: the exit status
/// still tells) and gives the exit status.
fn fail(failure: &Failure) -> ExitCode {
    let body = serde_json::json!({
        "error": { "code": failure.code(), "message": failure.message().trim_end() }
    });
    let _ = writeln!(std::io::stderr(), "{body}");
    failure.exit_code()
}

/// Writes one JSON document to stdout, flushed, so a reader sees it before anything else happens.
///
/// Rust ignores SIGPIPE, so a reader that went away shows up here as an `EPIPE` error rather than
/// killing the process; whatever the command did is done by now, so the failure is
/// [`Failure::Unreported`] (exit 3), never a refusal.
fn emit(value: &serde_json::Value) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Unreported(format!("writing it to stdout failed: {e}")))
}

/// Won from the command line.
fn won(value: i64) -> Won {
    Won(value)
}
