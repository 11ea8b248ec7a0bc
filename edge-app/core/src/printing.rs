//! The print queue: receipts owed. Settling a sale queues its receipt in the same transaction,
//! so the sale is durable before anything prints and a failing printer can only delay the
//! receipt. The edge runtime's printer task takes the waiting jobs in order, prints them and marks
//! them printed; a failed attempt is recorded and the job waits for the printer to come back.

use jiff::Timestamp;
use rusqlite::params;

use crate::auth::Actor;
use crate::error::{Result, StationError};
use crate::ids::{SaleId, UserId};
use crate::sql::timestamp;
use crate::station::{Station, Tx};

/// A receipt waiting to be printed.
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
}

pub(crate) fn enqueue(tx: &Tx<'_>, sale: SaleId, reason: &str, by: &UserId) -> Result<i64> {
    tx.sql
        .prepare_cached(
            "INSERT INTO print_jobs (sale_id, reason, requested_by, requested_at_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![sale, reason, by, tx.now_ms()])?;
    Ok(tx.sql.last_insert_rowid())
}

impl Station {
    /// Asks for a past sale's receipt again.
    pub fn request_reprint(&mut self, actor: &Actor, sale: SaleId, now: Timestamp) -> Result<i64> {
        self.sale(sale)?;
        self.write(now, |tx| enqueue(tx, sale, "reprint", actor.user()))
    }

    /// Receipts waiting to be printed, oldest first, at most `limit`.
    pub fn waiting_print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT job_id, sale_id, reason, requested_by, requested_at_ms, attempts, last_error
             FROM print_jobs WHERE printed_at_ms IS NULL ORDER BY job_id LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        rows.map(|row| {
            let (job_id, sale, reason, requested_by, at, attempts, last_error) = row?;
            Ok(PrintJob {
                job_id,
                sale,
                reason,
                requested_by,
                requested_at: timestamp(at)?,
                attempts,
                last_error,
            })
        })
        .collect()
    }

    /// How many receipts wait to be printed.
    pub fn waiting_print_job_count(&self) -> Result<u64> {
        let count: i64 = self
            .conn()
            .prepare_cached("SELECT count(*) FROM print_jobs WHERE printed_at_ms IS NULL")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
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

    /// An attempt to print the job failed (paper out, cover open, no printer); it stays waiting.
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
}
