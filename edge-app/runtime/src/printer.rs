//! The receipt printer's supervisor: takes the station's print queue in order and prints each
//! receipt on the ESC/POS printer at a serial port, when the printer says it can.
//!
//! A sale never waits for the printer: its receipt was queued in the sale's own transaction.
//! Here a job is marked printed only if the printer still reports itself able to print after
//! taking it; otherwise the failure is recorded and the receipt is printed again once the printer
//! is back (a second copy is better than none). An unplugged printer is reopened on each round.
//!
//! A receipt that cannot be encoded (text stored before names were checked) is the job's fault,
//! not the printer's: it is recorded as such and the round goes on to the next job, so it never
//! holds up the receipts after it, and the core sets it aside after a few such failures. A
//! header the printer cannot print (the station's name or address) holds every receipt; that is
//! shown as the printer not being ready. Reprints and receipts of canceled sales are marked on
//! paper; a fallback copy a manager asked for prints with '?' for what cannot be printed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use receipt_printer::receipt::check_text;
use receipt_printer::transport::{SerialPrinter, SerialSettings};
use receipt_printer::{Millilitres, Notice, Payment, PrinterState, Receipt, ReceiptLine, Won};
use station_core::{Measure, PrintJob, SaleRecord, Station};

use crate::live::{DeviceState, Live};

/// Where the printer is and what the receipt header says.
#[derive(Debug, Clone)]
pub struct PrinterConfig {
    pub db: PathBuf,
    /// The printer's serial port, e.g. /dev/ttyUSB0.
    pub port: String,
    pub business_registration_number: String,
    pub address: String,
    /// How often to look at the queue and the printer.
    pub poll: Duration,
}

/// What the supervisor last saw of the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterStatus {
    Disconnected(String),
    Ready,
    NotReady(String),
}

/// Runs until `stop` is set: one round every `poll`. What it sees goes to the live state.
pub fn run(config: &PrinterConfig, live: &Live, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut station = Station::open(&config.db)?;
    let mut printer: Option<SerialPrinter> = None;
    let mut last = None;
    while !stop.load(Ordering::Relaxed) {
        let status = print_once(&mut station, config, &mut printer);
        let waiting = station.waiting_print_job_count();
        let set_aside = station.set_aside_print_job_count();
        live.update(|s| {
            s.printer = match &status {
                PrinterStatus::Ready => DeviceState::ready(),
                PrinterStatus::NotReady(why) => DeviceState::not_ready(why.clone()),
                PrinterStatus::Disconnected(why) => DeviceState::disconnected(why.clone()),
            };
            if let Ok(waiting) = waiting {
                s.waiting_receipts = waiting;
            }
            if let Ok(set_aside) = set_aside {
                s.set_aside_receipts = set_aside;
            }
        });
        if last.as_ref() != Some(&status) {
            tracing::info!(?status, "printer");
            last = Some(status);
        }
        std::thread::sleep(config.poll);
    }
    Ok(())
}

/// One round: (re)open the printer, check it, print what is waiting.
pub fn print_once(
    station: &mut Station,
    config: &PrinterConfig,
    printer: &mut Option<SerialPrinter>,
) -> PrinterStatus {
    if printer.is_none() {
        match SerialPrinter::open(&config.port, SerialSettings::default()) {
            Ok(opened) => *printer = Some(opened),
            Err(error) => return PrinterStatus::Disconnected(error.to_string()),
        }
    }
    let Some(device) = printer.as_mut() else {
        return PrinterStatus::Disconnected("not open".into());
    };
    let state = match device.query_status(Duration::from_millis(500)) {
        Ok(state) => state,
        Err(error) => {
            *printer = None;
            return PrinterStatus::Disconnected(error.to_string());
        }
    };
    if !state.can_print() {
        return PrinterStatus::NotReady(describe(&state));
    }
    if let Err(problem) = check_header(station, config) {
        return PrinterStatus::NotReady(problem);
    }
    let jobs = match station.waiting_print_jobs(20) {
        Ok(jobs) => jobs,
        Err(error) => return PrinterStatus::NotReady(format!("reading the print queue: {error}")),
    };
    for job in jobs {
        let bytes = match receipt_bytes(station, &job, config) {
            Ok(bytes) => bytes,
            Err(JobProblem::Receipt(why)) => {
                let job_id = job.job_id;
                match station.record_receipt_failure(job_id, &why, Timestamp::now()) {
                    Ok(after) if after.set_aside_at.is_some() => {
                        tracing::warn!(job_id, %why, "receipt set aside: it cannot be printed");
                    }
                    Ok(_) => tracing::info!(job_id, %why, "receipt cannot be printed"),
                    Err(error) => {
                        tracing::error!(%error, job_id, "recording an unprintable receipt failed");
                    }
                }
                continue;
            }
            Err(JobProblem::Storage(why)) => {
                let _ = station.record_print_failure(job.job_id, &why, Timestamp::now());
                continue;
            }
        };
        let printed = device
            .write_bytes(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                device
                    .query_status(Duration::from_millis(500))
                    .map_err(|e| e.to_string())
            });
        match printed {
            Ok(after) if after.can_print() => {
                if let Err(error) = station.mark_printed(job.job_id, Timestamp::now()) {
                    tracing::error!(%error, job = job.job_id, "recording a printed receipt failed");
                }
            }
            Ok(after) => {
                let reason = describe(&after);
                let _ = station.record_print_failure(job.job_id, &reason, Timestamp::now());
                return PrinterStatus::NotReady(reason);
            }
            Err(error) => {
                let _ = station.record_print_failure(job.job_id, &error, Timestamp::now());
                *printer = None;
                return PrinterStatus::Disconnected(error);
            }
        }
    }
    PrinterStatus::Ready
}

/// Why a job's receipt could not be made.
#[derive(Debug)]
enum JobProblem {
    /// The receipt itself cannot be printed (or its sale cannot be read): the job's fault.
    Receipt(String),
    /// The database failed reading it: nobody's fault, tried again next round.
    Storage(String),
}

/// The job's receipt as the printer's bytes: marked as a reprint or canceled as the job and the
/// sale are, and as the fallback copy when a manager asked for one.
fn receipt_bytes(
    station: &Station,
    job: &PrintJob,
    config: &PrinterConfig,
) -> Result<Vec<u8>, JobProblem> {
    let sale = station.sale(job.sale).map_err(|error| {
        let why = format!("reading sale {}: {error}", job.sale);
        if error.is_storage_fault() {
            JobProblem::Storage(why)
        } else {
            JobProblem::Receipt(why)
        }
    })?;
    let receipt = receipt_of(station, &sale, job, config);
    let receipt = match job.fallback_by {
        Some(_) => receipt.fallback_copy(),
        None => receipt,
    };
    receipt
        .encode()
        .map_err(|error| JobProblem::Receipt(error.to_string()))
}

/// The header every receipt carries; if it cannot be printed, no receipt can, and no job is to
/// blame.
fn check_header(station: &Station, config: &PrinterConfig) -> Result<(), String> {
    check_text("station name", &station.info().name)
        .and_then(|()| {
            check_text(
                "business registration number",
                &config.business_registration_number,
            )
        })
        .and_then(|()| check_text("address", &config.address))
        .map_err(|error| format!("the receipt header cannot be printed: {error}"))
}

fn describe(state: &PrinterState) -> String {
    format!(
        "{:?}, cover {:?}, paper {:?}",
        state.connection, state.cover, state.paper
    )
    .to_lowercase()
}

/// The printed receipt of a sale, for one print job: marked canceled when the sale is, and with
/// the job's reprint number when it is a reprint.
pub fn receipt_of(
    station: &Station,
    sale: &SaleRecord,
    job: &PrintJob,
    config: &PrinterConfig,
) -> Receipt {
    let won = |w: station_core::Won| Won(u64::try_from(w.get()).unwrap_or(0));
    let lines = sale
        .lines
        .iter()
        .map(|line| {
            let (name, volume) = match line.measure {
                Measure::Volume(volume) => (
                    line.product_name.clone(),
                    Millilitres(u64::try_from(volume.get()).unwrap_or(0)),
                ),
                Measure::Quantity(quantity) => {
                    (format!("{} x{quantity}", line.product_name), Millilitres(0))
                }
            };
            ReceiptLine {
                product_name: name,
                volume,
                unit_price: Won(u64::try_from(line.unit_price.get()).unwrap_or(0)),
                amount: won(line.amount),
            }
        })
        .collect();
    let payment = match &sale.payment {
        station_core::Payment::Cash { tendered, change } => Payment::Cash {
            tendered: won(*tendered),
            change: won(*change),
        },
        station_core::Payment::Card { reference } => Payment::Card {
            reference: reference.clone(),
        },
        station_core::Payment::Account(account) => Payment::Credit {
            account: account.to_string(),
        },
    };
    let time = jiff::tz::TimeZone::get(&station.info().time_zone)
        .map(|zone| {
            zone.to_datetime(sale.settled_at)
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| sale.settled_at.to_string());
    let mut notices = Vec::new();
    if sale.cancellation.is_some() {
        notices.push(Notice::Canceled);
    }
    if let Some(n) = job.reprint_no {
        notices.push(Notice::Reprint(n));
    }
    Receipt {
        station_name: station.info().name.clone(),
        notices,
        business_registration_number: config.business_registration_number.clone(),
        address: config.address.clone(),
        receipt_number: sale.receipt_no.clone(),
        date_time: time,
        lines,
        payment,
        sale_id: sale.sale.to_string(),
    }
}
