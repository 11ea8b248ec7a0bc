//! Customer credit accounts (외상): fleet and company customers who buy on account.
//!
//! The balance is what the customer owes: it rises with each sale on account, falls with each
//! payment and with the cancellation of a sale on account. A sale that would take the balance
//! over the credit limit is refused; a payment larger than the balance is refused.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use sync_protocol::{CreditAccountOpened, CreditPaymentReceived, Event};

use crate::audit::{AuditAction, AuditRecord};
use crate::auth::{Actor, ManagerApproval};
use crate::error::{Result, StationError, ensure_positive, ensure_text};
use crate::ids::{AccountId, ShiftId, new_v7};
use crate::shifts::open_shift_of;
use crate::sql::timestamp;
use crate::station::{Station, Tx};
use crate::units::Won;

/// How a customer pays towards an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountPaymentMethod {
    /// Cash into the drawer of the receiver's open shift.
    Cash,
    /// A card payment, with the terminal's approval reference so that it can be reconciled.
    Card { reference: String },
}

impl AccountPaymentMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountPaymentMethod::Cash => "cash",
            AccountPaymentMethod::Card { .. } => "card",
        }
    }
}

/// A credit account and what it owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditAccount {
    pub account: AccountId,
    pub name: String,
    pub credit_limit: Won,
    pub balance: Won,
    pub opened_at: Timestamp,
}

impl CreditAccount {
    /// What the customer may still buy on account.
    pub fn available(&self) -> Won {
        self.credit_limit - self.balance
    }
}

/// One movement of an account: a sale, a cancellation or a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMovement {
    pub at: Timestamp,
    pub kind: &'static str,
    pub reference: String,
    /// Positive raises the balance, negative lowers it.
    pub amount: Won,
}

impl Station {
    /// Opens a credit account with a limit.
    pub fn open_account(
        &mut self,
        approval: &ManagerApproval,
        name: &str,
        credit_limit: Won,
        now: Timestamp,
    ) -> Result<AccountId> {
        let name = ensure_text("account name", name, 100)?;
        if credit_limit.get() < 0 {
            return Err(StationError::InvalidInput {
                field: "credit limit",
                problem: "it cannot be negative".into(),
            });
        }
        self.write(now, |tx| {
            let account = AccountId::generate(tx.now);
            tx.sql.execute(
                "INSERT INTO credit_accounts (account_id, name, credit_limit_won, opened_by, opened_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![account, name, credit_limit.get(), approval.manager(), tx.now_ms()],
            )?;
            tx.sql.execute("INSERT INTO credit_balances (account_id) VALUES (?1)", params![account])?;
            tx.emit(Event::CreditAccountOpened(CreditAccountOpened {
                account_id: account.uuid(),
                name: name.clone(),
                credit_limit_won: credit_limit.get(),
                opened_by: approval.manager().to_string(),
            }))?;
            Ok(account)
        })
    }

    /// Takes a payment towards an account. A cash payment goes into the actor's drawer, so it
    /// needs their open shift.
    pub fn receive_account_payment(
        &mut self,
        actor: &Actor,
        account: AccountId,
        amount: Won,
        method: AccountPaymentMethod,
        now: Timestamp,
    ) -> Result<Won> {
        ensure_positive("payment (won)", amount.get())?;
        let reference = match &method {
            AccountPaymentMethod::Cash => None,
            AccountPaymentMethod::Card { reference } => {
                Some(ensure_text("card reference", reference, 64)?)
            }
        };
        self.write(now, |tx| {
            let (balance, _) = account_balance(&tx.sql, account)?;
            if amount > balance {
                return Err(StationError::PaymentExceedsBalance { account, amount, balance });
            }
            // Cash goes into a drawer, so it needs the receiver's open shift; a card payment is
            // in the shift when one is open, and its reference reconciles it either way.
            let shift: Option<ShiftId> = match method {
                AccountPaymentMethod::Cash => Some(open_shift_of(tx, actor.user())?),
                AccountPaymentMethod::Card { .. } => open_shift_of(tx, actor.user()).ok(),
            };
            let payment = new_v7(tx.now);
            tx.sql.execute(
                "INSERT INTO credit_payments (payment_id, account_id, amount_won, method, shift_id, received_by, received_at_ms, reference)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![payment.to_string(), account, amount.get(), method.as_str(), shift, actor.user(), tx.now_ms(), reference],
            )?;
            add_to_balance(tx, account, Won(-amount.get()))?;
            let detail = match &reference {
                Some(reference) => format!("{} won by card, reference {reference}", amount.get()),
                None => format!("{} won in cash", amount.get()),
            };
            tx.audit(
                AuditRecord::new(AuditAction::AccountPayment, actor.user().as_str())
                    .subject(&account.to_string())
                    .detail(&detail),
            )?;
            tx.emit(Event::CreditPaymentReceived(CreditPaymentReceived {
                payment_id: payment,
                account_id: account.uuid(),
                amount_won: amount.get(),
                method: method.as_str().to_owned(),
                received_by: actor.user().to_string(),
            }))?;
            Ok(balance - amount)
        })
    }

    /// Every credit account, by name.
    pub fn accounts(&self) -> Result<Vec<CreditAccount>> {
        let mut stmt = self.conn().prepare(
            "SELECT a.account_id, a.name, a.credit_limit_won, b.balance_won, a.opened_at_ms
             FROM credit_accounts a JOIN credit_balances b USING (account_id) ORDER BY a.name, a.account_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, AccountId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (account, name, limit, balance, opened) = row?;
            Ok(CreditAccount {
                account,
                name,
                credit_limit: Won(limit),
                balance: Won(balance),
                opened_at: timestamp(opened)?,
            })
        })
        .collect()
    }

    /// One credit account.
    pub fn account(&self, account: AccountId) -> Result<CreditAccount> {
        self.accounts()?
            .into_iter()
            .find(|a| a.account == account)
            .ok_or(StationError::UnknownAccount(account))
    }

    /// An account's sales, cancellations and payments, oldest first.
    pub fn account_movements(&self, account: AccountId) -> Result<Vec<AccountMovement>> {
        self.account(account)?;
        let mut stmt = self.conn().prepare(
            "SELECT settled_at_ms, 'sale', receipt_no, total_won FROM sales WHERE account_id = ?1
             UNION ALL
             SELECT c.canceled_at_ms, 'cancellation', s.receipt_no, -s.total_won
               FROM sale_cancellations c JOIN sales s USING (sale_id) WHERE s.account_id = ?1
             UNION ALL
             SELECT received_at_ms, 'payment', method, -amount_won FROM credit_payments WHERE account_id = ?1
             ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map(params![account], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (at, kind, reference, amount) = row?;
            let kind = match kind.as_str() {
                "sale" => "sale",
                "cancellation" => "cancellation",
                _ => "payment",
            };
            Ok(AccountMovement {
                at: timestamp(at)?,
                kind,
                reference,
                amount: Won(amount),
            })
        })
        .collect()
    }
}

/// An account's balance and credit limit.
pub(crate) fn account_balance(
    conn: &rusqlite::Connection,
    account: AccountId,
) -> Result<(Won, Won)> {
    conn.prepare_cached(
        "SELECT b.balance_won, a.credit_limit_won FROM credit_accounts a JOIN credit_balances b USING (account_id)
         WHERE a.account_id = ?1",
    )?
    .query_row(params![account], |r| Ok((Won(r.get(0)?), Won(r.get(1)?))))
    .optional()?
    .ok_or(StationError::UnknownAccount(account))
}

pub(crate) fn add_to_balance(tx: &Tx<'_>, account: AccountId, amount: Won) -> Result<()> {
    tx.sql
        .prepare_cached(
            "UPDATE credit_balances SET balance_won = balance_won + ?2 WHERE account_id = ?1",
        )?
        .execute(params![account, amount.get()])?;
    Ok(())
}
