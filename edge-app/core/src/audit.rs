//! The audit log: who did what, when, and who approved it. Every login, failed attempt,
//! lockout and its lifting, manager approval, price override, cancellation, account payment,
//! user change, reprint, fallback copy, change of the limits and sale confirmed past them writes
//! one entry, in the transaction of the change itself, so the log never says more or less than
//! what happened. Entries are append-only (triggers).
//!
//! Each entry also goes to HQ, as an `audit_recorded` event emitted in the same transaction, so
//! HQ's copy of the log is exactly the station's (texts cut to
//! [`sync_protocol::AUDIT_TEXT_MAX_CHARS`] characters on the wire). Entries written by a version
//! that did not send them are sent once by [`Station::send_earlier_audit`].

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::params;
use sync_protocol::{AUDIT_TEXT_MAX_CHARS, AuditRecorded, Event};

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
    /// A manager changed the station's limits on what is keyed in.
    LimitsChanged,
    /// A manager confirmed a sale past the station's limits.
    LimitConfirmed,
}

const ACTIONS: [(AuditAction, &str); 16] = [
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
    (AuditAction::LimitsChanged, "limits_changed"),
    (AuditAction::LimitConfirmed, "limit_confirmed"),
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

/// Entries of earlier versions sent to HQ in one transaction, at most.
pub const AUDIT_BACKFILL_PAGE: usize = 500;

impl Tx<'_> {
    /// Appends an entry to the audit log and sends it to HQ, in this transaction.
    pub(crate) fn audit(&self, record: AuditRecord<'_>) -> Result<()> {
        let entry_no = insert(&self.sql, self.now, &record)?;
        self.emit(audit_event(entry_no, self.now, &record))?;
        Ok(())
    }
}

fn insert(sql: &rusqlite::Connection, at: Timestamp, record: &AuditRecord<'_>) -> Result<i64> {
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
    Ok(sql.last_insert_rowid())
}

/// The message that tells HQ of an entry.
fn audit_event(entry_no: i64, at: Timestamp, record: &AuditRecord<'_>) -> Event {
    Event::AuditRecorded(AuditRecorded {
        entry_no: u64::try_from(entry_no).unwrap_or(0),
        at,
        action: record.action.as_str().to_owned(),
        actor: bounded(record.actor),
        approved_by: record.approved_by.map(bounded),
        subject: record.subject.map(bounded),
        detail: bounded(record.detail),
    })
}

/// `text` cut to what the wire carries, with an ellipsis where it was cut.
fn bounded(text: &str) -> String {
    if text.chars().count() <= AUDIT_TEXT_MAX_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(AUDIT_TEXT_MAX_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

impl Station {
    /// Sends HQ the entries written before this version sent each entry with its change,
    /// oldest first, [`AUDIT_BACKFILL_PAGE`] to a transaction; returns how many it sent. Each
    /// entry is sent once: what was sent is marked in the transaction that sends it.
    pub fn send_earlier_audit(&mut self, now: Timestamp) -> Result<usize> {
        let mut sent = 0;
        loop {
            let page = self.write(now, |tx| {
                let (after, through): (i64, i64) = tx.sql.query_row(
                    "SELECT audit_backfill_after, audit_backfill_through FROM station",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if after >= through {
                    return Ok(0);
                }
                let limit = i64::try_from(AUDIT_BACKFILL_PAGE).unwrap_or(i64::MAX);
                let entries = read_entries(
                    &tx.sql,
                    "SELECT entry_no, at_ms, action, actor, approved_by, subject, detail FROM audit_log
                     WHERE entry_no > ?1 AND entry_no <= ?2 ORDER BY entry_no LIMIT ?3",
                    params![after, through, limit],
                )?;
                for entry in &entries {
                    let record = AuditRecord {
                        action: entry.action,
                        actor: &entry.actor,
                        approved_by: entry.approved_by.as_deref(),
                        subject: entry.subject.as_deref(),
                        detail: &entry.detail,
                    };
                    tx.emit(audit_event(entry.entry_no, entry.at, &record))?;
                }
                let done = match entries.last() {
                    Some(last) if entries.len() == AUDIT_BACKFILL_PAGE => last.entry_no,
                    _ => through,
                };
                tx.sql.execute(
                    "UPDATE station SET audit_backfill_after = ?1",
                    params![done],
                )?;
                Ok(entries.len())
            })?;
            if page == 0 {
                break;
            }
            sent += page;
        }
        if sent > 0 {
            tracing::info!(entries = sent, "earlier audit entries sent to HQ");
        }
        Ok(sent)
    }

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
        read_entries(
            self.conn(),
            "SELECT entry_no, at_ms, action, actor, approved_by, subject, detail FROM audit_log
             WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR entry_no < ?2)
             ORDER BY entry_no DESC LIMIT ?3",
            params![action.map(|a| a.as_str()), before, limit],
        )
    }
}

/// The entries a query of the seven columns of the log returns, in its order.
fn read_entries(
    sql: &rusqlite::Connection,
    query: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<AuditEntry>> {
    let mut stmt = sql.prepare_cached(query)?;
    let rows = stmt.query_map(params, |r| {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What goes to HQ is cut to what the wire carries, at the character (never inside a
    /// Korean syllable's bytes), and says it was cut; what fits goes whole.
    #[test]
    fn texts_longer_than_the_wire_carries_are_cut_with_an_ellipsis() {
        let fits = "가".repeat(AUDIT_TEXT_MAX_CHARS);
        assert_eq!(bounded(&fits), fits);
        let cut = bounded(&"가".repeat(AUDIT_TEXT_MAX_CHARS + 1));
        assert_eq!(cut.chars().count(), AUDIT_TEXT_MAX_CHARS);
        assert!(cut.ends_with('…'));
        assert!(cut.starts_with(&"가".repeat(AUDIT_TEXT_MAX_CHARS - 1)));
    }
}
