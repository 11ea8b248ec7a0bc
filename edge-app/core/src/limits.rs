//! The limits a station sets on what is keyed in at the counter, so that a slip of the finger
//! (a tender of 99,999,999,999,999 won, a manual sale of 999,999 L) is refused before it is
//! paid, printed and sent to HQ:
//!
//! - the largest cash tender;
//! - the largest fuel volume of a line keyed by hand (a line the pump's own meter measured is
//!   never limited: the fuel has left the tank);
//! - and, whatever anyone confirms, no line draws more than its tank holds.
//!
//! Past either of the first two the sale is refused with the limit named, unless a manager
//! confirms it ([`crate::SaleRequest::over_limit`]); the confirmation is in the audit log with
//! what it let through. The limits are the station's own, changed by a manager, audited.

use jiff::Timestamp;
use rusqlite::params;

use crate::audit::{AuditAction, AuditRecord};
use crate::auth::ManagerApproval;
use crate::error::{Result, StationError};
use crate::station::Station;
use crate::units::{MAX_AMOUNT_WON, MAX_VOLUME_ML, Millilitres, Won};

/// What a cashier may key in without a manager's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest cash tender (2,000,000 won unless the station set another).
    pub largest_tender: Won,
    /// The largest fuel volume of one line keyed by hand (300 L unless set otherwise).
    pub largest_manual_volume: Millilitres,
}

impl Station {
    /// The station's limits.
    pub fn limits(&self) -> Result<Limits> {
        read_limits(self.conn())
    }

    /// Sets the station's limits (a manager's change, audited); each is between 1 and the
    /// largest figure the station records.
    pub fn set_limits(
        &mut self,
        approval: &ManagerApproval,
        limits: Limits,
        now: Timestamp,
    ) -> Result<Limits> {
        within(
            "largest tender (won)",
            limits.largest_tender.get(),
            MAX_AMOUNT_WON,
        )?;
        within(
            "largest manual volume (ml)",
            limits.largest_manual_volume.get(),
            MAX_VOLUME_ML,
        )?;
        self.write(now, |tx| {
            tx.sql.execute(
                "UPDATE station_limits SET largest_tender_won = ?1, largest_manual_volume_ml = ?2",
                params![
                    limits.largest_tender.get(),
                    limits.largest_manual_volume.get()
                ],
            )?;
            let detail = format!(
                "largest tender {} won, largest manual volume {} L",
                limits.largest_tender, limits.largest_manual_volume
            );
            tx.audit(
                AuditRecord::new(AuditAction::LimitsChanged, approval.manager().as_str())
                    .detail(&detail),
            )?;
            read_limits(&tx.sql)
        })
    }
}

pub(crate) fn read_limits(sql: &rusqlite::Connection) -> Result<Limits> {
    Ok(sql
        .prepare_cached("SELECT largest_tender_won, largest_manual_volume_ml FROM station_limits")?
        .query_row([], |r| {
            Ok(Limits {
                largest_tender: Won(r.get(0)?),
                largest_manual_volume: Millilitres(r.get(1)?),
            })
        })?)
}

fn within(field: &'static str, value: i64, max: i64) -> Result<()> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(StationError::InvalidInput {
            field,
            problem: format!("{value} is not between 1 and {max}"),
        })
    }
}
