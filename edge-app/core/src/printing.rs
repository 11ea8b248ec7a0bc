//! The print queue: receipts owed. Settling a sale queues its receipt in the same transaction,
//! so the sale is durable before anything prints and a failing printer can only delay the
//! receipt. The edge runtime's printer task takes the waiting jobs in order, prints them and marks
//! them printed; a failed attempt is recorded and the job waits for the printer to come back.
//!
//! A reprint is counted per sale (its `reprint_no`, printed as "재발행 n") and audited. A job
//! whose receipt itself cannot be printed (text stored before names were checked) fails on its
//! own account; after [`RECEIPT_FAILURES_BEFORE_SET_ASIDE`] such failures it is set aside: out of
//! the queue, so it never holds up the receipts after it, and listed for a manager, who may ask
//! for its fallback copy ('?' for what cannot be printed, marked as such). A printer that cannot
//! print is never the receipt's fault: its jobs only wait.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::audit::{AuditAction, AuditRecord};
use crate::auth::{Actor, ManagerApproval};
use crate::error::{Result, StationError};
use crate::ids::{SaleId, UserId};
use crate::sql::timestamp;
use crate::station::{Station, Tx};

/// How many failed attempts of its own (not the printer's) a receipt gets before it is set aside.
pub(crate) const RECEIPT_FAILURES_BEFORE_SET_ASIDE: i64 = 3;

/// A receipt owed: waiting to be printed, or set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub job_id: i64,
    pub sale: SaleId,
    /// `sale` for the receipt of a new sale, `reprint` when asked again.
    pub reason: String,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Which reprint of its sale this is, from 1; `None` for the sale's own receipt.
    pub reprint_no: Option<u32>,
    /// Failed attempts whose cause was the receipt itself, since it was last queued.
    pub receipt_failures: i64,
    /// When it was set aside after too many failures of its own; it waits for a manager then.
    pub set_aside_at: Option<Timestamp>,
    /// The manager who asked for its fallback copy, to be printed with '?' for what cannot be.
    pub fallback_by: Option<UserId>,
}

pub(crate) fn enqueue(tx: &Tx<'_>, sale: SaleId, reason: &str, by: &UserId) -> Result<i64> {
    tx.sql
        .prepare_cached(
            "INSERT INTO print_jobs (sale_id, reason, requested_by, requested_at_ms, reprint_no)
             VALUES (?1, ?2, ?3, ?4, CASE WHEN ?2 = 'reprint' THEN
                 (SELECT coalesce(max(reprint_no), 0) + 1 FROM print_jobs WHERE sale_id = ?1) END)",
        )?
        .execute(params![sale, reason, by, tx.now_ms()])?;
    Ok(tx.sql.last_insert_rowid())
}

const SELECT_JOBS: &str = "SELECT job_id, sale_id, reason, requested_by, requested_at_ms, attempts,
        last_error, reprint_no, receipt_failures, set_aside_at_ms, fallback_by FROM print_jobs";
const WAITING: &str = "printed_at_ms IS NULL AND set_aside_at_ms IS NULL";
const SET_ASIDE: &str = "printed_at_ms IS NULL AND set_aside_at_ms IS NOT NULL";

fn query_jobs(
    conn: &rusqlite::Connection,
    condition: &str,
    values: impl rusqlite::Params,
) -> Result<Vec<PrintJob>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT_JOBS} WHERE {condition}"))?;
    let rows = stmt.query_map(values, |r| {
        let job = PrintJob {
            job_id: r.get(0)?,
            sale: r.get(1)?,
            reason: r.get(2)?,
            requested_by: r.get(3)?,
            requested_at: Timestamp::UNIX_EPOCH,
            attempts: r.get(5)?,
            last_error: r.get(6)?,
            reprint_no: r.get(7)?,
            receipt_failures: r.get(8)?,
            set_aside_at: None,
            fallback_by: r.get(10)?,
        };
        Ok((job, r.get::<_, i64>(4)?, r.get::<_, Option<i64>>(9)?))
    })?;
    rows.map(|row| {
        let (mut job, requested_at, set_aside_at) = row?;
        job.requested_at = timestamp(requested_at)?;
        job.set_aside_at = set_aside_at.map(timestamp).transpose()?;
        Ok(job)
    })
    .collect()
}

fn count_jobs(conn: &rusqlite::Connection, condition: &str) -> Result<u64> {
    let count: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM print_jobs WHERE {condition}"
        ))?
        .query_row([], |r| r.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Station {
    /// Asks for a past sale's receipt again: the sale's next reprint, printed as such (and as
    /// canceled, if the sale is), and written to the audit log.
    pub fn request_reprint(&mut self, actor: &Actor, sale: SaleId, now: Timestamp) -> Result<i64> {
        let record = self.sale(sale)?;
        self.write(now, |tx| {
            let job = enqueue(tx, sale, "reprint", actor.user())?;
            let (reprint_no, canceled): (u32, bool) = tx.sql.query_row(
                "SELECT reprint_no, EXISTS (SELECT 1 FROM sale_cancellations WHERE sale_id = ?2)
                 FROM print_jobs WHERE job_id = ?1",
                params![job, sale],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let detail = if canceled {
                format!("reprint {reprint_no} of a canceled sale")
            } else {
                format!("reprint {reprint_no}")
            };
            tx.audit(
                AuditRecord::new(AuditAction::ReceiptReprinted, actor.user().as_str())
                    .subject(&record.receipt_no)
                    .detail(&detail),
            )?;
            Ok(job)
        })
    }

    /// Receipts waiting to be printed, oldest first, at most `limit`; not those set aside.
    pub fn waiting_print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>> {
        query_jobs(
            self.conn(),
            &format!("{WAITING} ORDER BY job_id LIMIT ?1"),
            params![limit_of(limit)],
        )
    }

    /// How many receipts wait to be printed (not counting those set aside).
    pub fn waiting_print_job_count(&self) -> Result<u64> {
        count_jobs(self.conn(), WAITING)
    }

    /// Receipts set aside because they could not be printed, oldest first, at most `limit`.
    pub fn set_aside_print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>> {
        query_jobs(
            self.conn(),
            &format!("{SET_ASIDE} ORDER BY job_id LIMIT ?1"),
            params![limit_of(limit)],
        )
    }

    /// How many receipts are set aside.
    pub fn set_aside_print_job_count(&self) -> Result<u64> {
        count_jobs(self.conn(), SET_ASIDE)
    }

    /// One print job, whatever its state.
    pub fn print_job(&self, job_id: i64) -> Result<PrintJob> {
        query_jobs(self.conn(), "job_id = ?1", params![job_id])?
            .pop()
            .ok_or(StationError::UnknownPrintJob(job_id))
    }

    /// The printer took the job's receipt.
    pub fn mark_printed(&mut self, job_id: i64, now: Timestamp) -> Result<()> {
        self.write(now, |tx| {
            let changed = tx.sql.execute(
                "UPDATE print_jobs SET printed_at_ms = ?2, attempts = attempts + 1, last_error = NULL
                 WHERE job_id = ?1 AND printed_at_ms IS NULL",
                params![job_id, tx.now_ms()],
            )?;
            if changed == 0 {
                return Err(StationError::InvalidInput {
                    field: "print job",
                    problem: format!("job {job_id} is not waiting to be printed"),
                });
            }
            Ok(())
        })
    }

    /// An attempt to print the job failed because of the printer (paper out, cover open, no
    /// printer); it stays waiting, however often that happens.
    pub fn record_print_failure(&mut self, job_id: i64, error: &str, now: Timestamp) -> Result<()> {
        self.write(now, |tx| {
            tx.sql.execute(
                "UPDATE print_jobs SET attempts = attempts + 1, last_error = ?2
                 WHERE job_id = ?1 AND printed_at_ms IS NULL",
                params![job_id, error],
            )?;
            Ok(())
        })
    }

    /// An attempt to print the job failed because of the receipt itself (text the printer cannot
    /// print); the [`RECEIPT_FAILURES_BEFORE_SET_ASIDE`]th such failure sets it aside. Returns the
    /// job as it is now.
    pub fn record_receipt_failure(
        &mut self,
        job_id: i64,
        error: &str,
        now: Timestamp,
    ) -> Result<PrintJob> {
        self.write(now, |tx| {
            let changed = tx.sql.execute(
                &format!(
                    "UPDATE print_jobs SET attempts = attempts + 1, last_error = ?2,
                         receipt_failures = receipt_failures + 1,
                         set_aside_at_ms = CASE WHEN receipt_failures + 1 >= ?3 THEN ?4 END
                     WHERE job_id = ?1 AND {WAITING}"
                ),
                params![
                    job_id,
                    error,
                    RECEIPT_FAILURES_BEFORE_SET_ASIDE,
                    tx.now_ms()
                ],
            )?;
            if changed == 0 {
                return Err(StationError::InvalidInput {
                    field: "print job",
                    problem: format!("job {job_id} is not waiting to be printed"),
                });
            }
            Ok(())
        })?;
        self.print_job(job_id)
    }

    /// A manager asks for the fallback copy of a receipt set aside: it goes back in the queue,
    /// to be printed with '?' for the characters the printer cannot print, marked as such.
    pub fn request_fallback_print(
        &mut self,
        approval: &ManagerApproval,
        job_id: i64,
        now: Timestamp,
    ) -> Result<PrintJob> {
        self.write(now, |tx| {
            let changed = tx.sql.execute(
                &format!(
                    "UPDATE print_jobs SET set_aside_at_ms = NULL, receipt_failures = 0,
                         fallback_by = ?2, fallback_at_ms = ?3
                     WHERE job_id = ?1 AND {SET_ASIDE}"
                ),
                params![job_id, approval.manager(), tx.now_ms()],
            )?;
            if changed == 0 {
                let exists = tx
                    .sql
                    .query_row(
                        "SELECT 1 FROM print_jobs WHERE job_id = ?1",
                        params![job_id],
                        |_| Ok(()),
                    )
                    .optional()?;
                return Err(match exists {
                    None => StationError::UnknownPrintJob(job_id),
                    Some(()) => StationError::InvalidInput {
                        field: "print job",
                        problem: format!(
                            "job {job_id} is not set aside; only a receipt set aside for not printing has a fallback copy"
                        ),
                    },
                });
            }
            let receipt_no: String = tx.sql.query_row(
                "SELECT s.receipt_no FROM print_jobs j JOIN sales s USING (sale_id) WHERE j.job_id = ?1",
                params![job_id],
                |r| r.get(0),
            )?;
            tx.audit(
                AuditRecord::new(AuditAction::ReceiptFallbackPrinted, approval.manager().as_str())
                    .subject(&receipt_no)
                    .detail(&format!("print job {job_id}")),
            )
        })?;
        self.print_job(job_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        LinePricing, Measure, NewUser, PaymentRequest, PriceItem, PriceVersion, Role,
        SaleLineRequest, SaleRequest, StationSetup, Unit, UnitPrice, Won,
    };

    /// A station whose manager sold one bottle of water; its receipt is job 1.
    fn station_with_a_sale() -> (tempfile::TempDir, Station, Actor, SaleId) {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        let setup = StationSetup {
            station_id: "ST0001".parse().unwrap(),
            name: "강남주유소".into(),
            time_zone: crate::DEFAULT_TIME_ZONE.into(),
            first_manager: NewUser {
                user_id: "park".parse().unwrap(),
                name: "박지성".into(),
                role: Role::Manager,
                pin: "9999".parse().unwrap(),
            },
        };
        let mut station = Station::create(&dir.path().join("station.db"), setup, now).unwrap();
        let manager = station
            .authenticate(&"park".parse().unwrap(), &"9999".parse().unwrap(), now)
            .unwrap();
        let water = PriceItem {
            product: "SN2001".parse().unwrap(),
            name: "생수".into(),
            unit: Unit::Piece,
            unit_price: UnitPrice(1_000),
        };
        station
            .receive_price_version(
                PriceVersion {
                    version: 1,
                    effective_at: now,
                    items: vec![water],
                },
                now,
            )
            .unwrap();
        station.open_shift(&manager, Won(0), now).unwrap();
        let request = SaleRequest {
            lines: vec![SaleLineRequest {
                product: "SN2001".parse().unwrap(),
                measure: Measure::Quantity(1),
                tank: None,
                pricing: LinePricing::PriceList,
            }],
            payment: PaymentRequest::Cash {
                tendered: Won(1_000),
            },
            over_limit: None,
        };
        let sale = station.settle_sale(&manager, request, now).unwrap().sale;
        (dir, station, manager, sale)
    }

    #[test]
    fn a_receipt_failing_on_its_own_account_is_set_aside_and_a_failing_printer_never_does() {
        let (_dir, mut station, manager, _) = station_with_a_sale();
        let now = Timestamp::now();
        for _ in 0..10 {
            station.record_print_failure(1, "paper out", now).unwrap();
        }
        assert_eq!(station.waiting_print_job_count().unwrap(), 1);
        for failure in 1..RECEIPT_FAILURES_BEFORE_SET_ASIDE {
            let job = station.record_receipt_failure(1, "line 1", now).unwrap();
            assert_eq!((job.receipt_failures, job.set_aside_at), (failure, None));
        }
        let job = station.record_receipt_failure(1, "line 1", now).unwrap();
        assert!(job.set_aside_at.is_some(), "{job:?}");
        assert_eq!(job.attempts, 10 + RECEIPT_FAILURES_BEFORE_SET_ASIDE);
        assert_eq!(station.waiting_print_jobs(10).unwrap(), Vec::new());
        assert_eq!(station.waiting_print_job_count().unwrap(), 0);
        assert_eq!(station.set_aside_print_jobs(10).unwrap(), vec![job]);
        assert_eq!(station.set_aside_print_job_count().unwrap(), 1);
        let again = station
            .record_receipt_failure(1, "line 1", now)
            .unwrap_err();
        assert_eq!(again.code(), "invalid_input");

        // Its fallback copy goes back in the queue, once.
        let approval = manager.as_manager("printing a fallback copy").unwrap();
        let job = station.request_fallback_print(&approval, 1, now).unwrap();
        assert_eq!(
            (
                job.set_aside_at,
                job.receipt_failures,
                job.fallback_by.as_ref()
            ),
            (None, 0, Some(manager.user()))
        );
        assert_eq!(station.waiting_print_jobs(10).unwrap(), vec![job]);
        assert_eq!(station.set_aside_print_job_count().unwrap(), 0);
        let refused = station
            .request_fallback_print(&approval, 1, now)
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_input");
        let unknown = station
            .request_fallback_print(&approval, 7, now)
            .unwrap_err();
        assert_eq!(unknown.code(), "unknown_print_job");
    }

    #[test]
    fn reprints_are_counted_per_sale_and_audited() {
        let (_dir, mut station, manager, sale) = station_with_a_sale();
        let now = Timestamp::now();
        let first = station.request_reprint(&manager, sale, now).unwrap();
        let second = station.request_reprint(&manager, sale, now).unwrap();
        let numbers = [1, first, second].map(|job| station.print_job(job).unwrap().reprint_no);
        assert_eq!(numbers, [None, Some(1), Some(2)]);
        let details: Vec<String> = station
            .audit_log(Some(AuditAction::ReceiptReprinted), None, 10)
            .unwrap()
            .into_iter()
            .map(|entry| entry.detail)
            .collect();
        assert_eq!(details, ["reprint 2", "reprint 1"]);
    }
}
