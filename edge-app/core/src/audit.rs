//! The audit log: who did what, when, and who approved it. Every login, failed attempt,
//! lockout and its lifting, manager approval, price override, cancellation, account payment,
//! user change, reprint and fallback copy writes one entry, in the transaction of the change itself, so the
//! log never says more or less than what happened. Entries are append-only (triggers).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::params;

use crate::error::{Result, StationError};
use crate::sql::{ms, timestamp};
use crate::station::{Station, Tx};

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A PIN opened a session.
    Login,
    /// A PIN check failed (wrong PIN, unknown or inactive user).
    LoginFailed,
    /// A user was locked out after too many failed PIN checks.
    LockedOut,
    /// A manager lifted a lockout.
    LockoutLifted,
    /// A manager's PIN approved something at the counter.
    ManagerApproval,
    /// A sale line was priced by hand, away from the price list.
    PriceOverride,
    /// A sale was canceled.
    SaleCanceled,
    /// A payment towards a credit account.
    AccountPayment,
    /// A user was added.
    UserAdded,
    /// A user's PIN was set.
    PinChanged,
    /// A user was deactivated.
    UserDeactivated,
    /// A deactivated user was let back in.
    UserReactivated,
    /// A receipt was printed again (a reprint, or the receipt of a canceled sale).
    ReceiptReprinted,
    /// A manager had the fallback copy of a receipt that could not print printed.
    ReceiptFallbackPrinted,
}

const ACTIONS: [(AuditAction, &str); 14] = [
    (AuditAction::Login, "login"),
    (AuditAction::LoginFailed, "login_failed"),
    (AuditAction::LockedOut, "locked_out"),
    (AuditAction::LockoutLifted, "lockout_lifted"),
    (AuditAction::ManagerApproval, "manager_approval"),
    (AuditAction::PriceOverride, "price_override"),
    (AuditAction::SaleCanceled, "sale_canceled"),
    (AuditAction::AccountPayment, "account_payment"),
    (AuditAction::UserAdded, "user_added"),
    (AuditAction::PinChanged, "pin_changed"),
    (AuditAction::UserDeactivated, "user_deactivated"),
    (AuditAction::UserReactivated, "user_reactivated"),
    (AuditAction::ReceiptReprinted, "receipt_reprinted"),
    (
        AuditAction::ReceiptFallbackPrinted,
        "receipt_fallback_printed",
    ),
];

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(action, _)| *action == self)
            .map_or("unknown", |(_, text)| text)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = StationError;
    fn from_str(s: &str) -> Result<AuditAction> {
        ACTIONS
            .iter()
            .find(|(_, text)| *text == s)
            .map(|(action, _)| *action)
            .ok_or_else(|| StationError::InvalidInput {
                field: "audit action",
                problem: format!("`{s}` is not an audit action"),
            })
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its place in the log, from 1.
    pub entry_no: i64,
    pub at: Timestamp,
    pub action: AuditAction,
    /// Who acted, or tried to (a user id as typed, which may be no user's).
    pub actor: String,
    /// The manager who approved it, when one did.
    pub approved_by: Option<String>,
    /// What it concerns: a sale, a user, an account.
    pub subject: Option<String>,
    pub detail: String,
}

/// What to write into the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditRecord<'a> {
    pub(crate) action: AuditAction,
    pub(crate) actor: &'a str,
    pub(crate) approved_by: Option<&'a str>,
    pub(crate) subject: Option<&'a str>,
    pub(crate) detail: &'a str,
}

impl<'a> AuditRecord<'a> {
    pub(crate) fn new(action: AuditAction, actor: &'a str) -> AuditRecord<'a> {
        AuditRecord {
            action,
            actor,
            approved_by: None,
            subject: None,
            detail: "",
        }
    }

    pub(crate) fn approved_by(self, manager: &'a str) -> AuditRecord<'a> {
        AuditRecord {
            approved_by: Some(manager),
            ..self
        }
    }

    pub(crate) fn subject(self, subject: &'a str) -> AuditRecord<'a> {
        AuditRecord {
            subject: Some(subject),
            ..self
        }
    }

    pub(crate) fn detail(self, detail: &'a str) -> AuditRecord<'a> {
        AuditRecord { detail, ..self }
    }
}

/// The most entries one read of the log returns.
pub const AUDIT_PAGE_LIMIT: usize = 1_000;

impl Tx<'_> {
    /// Appends an entry to the audit log, in this transaction.
    pub(crate) fn audit(&self, record: AuditRecord<'_>) -> Result<()> {
        insert(&self.sql, self.now, &record)
    }
}

pub(crate) fn insert(
    sql: &rusqlite::Connection,
    at: Timestamp,
    record: &AuditRecord<'_>,
) -> Result<()> {
    sql.prepare_cached(
        "INSERT INTO audit_log (at_ms, action, actor, approved_by, subject, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        ms(at),
        record.action.as_str(),
        record.actor,
        record.approved_by,
        record.subject,
        record.detail
    ])?;
    Ok(())
}

impl Station {
    /// The newest entries of the audit log, newest first, at most `limit` (capped at
    /// [`AUDIT_PAGE_LIMIT`]); only those before entry `before` when given (to page back), and
    /// only those of `action` when given.
    pub fn audit_log(
        &self,
        action: Option<AuditAction>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit.min(AUDIT_PAGE_LIMIT)).unwrap_or(0);
        let mut stmt = self.conn().prepare_cached(
            "SELECT entry_no, at_ms, action, actor, approved_by, subject, detail FROM audit_log
             WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR entry_no < ?2)
             ORDER BY entry_no DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![action.map(|a| a.as_str()), before, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (entry_no, at_ms, action, actor, approved_by, subject, detail) = row?;
            Ok(AuditEntry {
                entry_no,
                at: timestamp(at_ms)?,
                action: action.parse()?,
                actor,
                approved_by,
                subject,
                detail,
            })
        })
        .collect()
    }
}
