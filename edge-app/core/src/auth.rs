//! Cashiers and managers, their PINs (argon2 hashes), and the proofs of who is acting.
//!
//! An [`Actor`] exists only after a PIN was checked; a [`ManagerApproval`] only after a
//! manager's PIN was checked. Operations that need a manager take a `&ManagerApproval`, so the
//! rule is enforced here in the core and cannot be skipped by a UI.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::audit::{AuditAction, AuditRecord};
use crate::error::{Result, StationError, ensure_text};
use crate::ids::UserId;
use crate::sql::ms;
use crate::station::Station;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sells, opens and closes their own shift, takes account payments.
    Cashier,
    /// Everything a cashier does, and approves cancellations, price overrides, stock
    /// adjustments, deliveries, orders, accounts, users and the day's close.
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Manager => "manager",
        }
    }
}

impl FromStr for Role {
    type Err = StationError;
    fn from_str(s: &str) -> Result<Role> {
        match s {
            "cashier" => Ok(Role::Cashier),
            "manager" => Ok(Role::Manager),
            other => Err(StationError::InvalidInput {
                field: "role",
                problem: format!("`{other}` is neither `cashier` nor `manager`"),
            }),
        }
    }
}

/// A PIN: 4 to 8 digits. Its `Debug` never shows the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl FromStr for Pin {
    type Err = StationError;
    fn from_str(s: &str) -> Result<Pin> {
        if (4..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Pin(s.to_owned()))
        } else {
            Err(StationError::InvalidInput {
                field: "PIN",
                problem: "a PIN is 4 to 8 digits".into(),
            })
        }
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub pin: Pin,
}

/// A user whose PIN was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user: UserId,
    role: Role,
    /// The user's credential generation when the PIN was checked (see
    /// [`Station::session_still_valid`]).
    generation: i64,
}

/// Proof that a manager's PIN was checked, for operations that need a manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerApproval {
    manager: UserId,
}

impl Actor {
    pub fn user(&self) -> &UserId {
        &self.user
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// This actor's own approval, if they are a manager; `action` names what needs it.
    pub fn as_manager(&self, action: &'static str) -> Result<ManagerApproval> {
        match self.role {
            Role::Manager => Ok(ManagerApproval {
                manager: self.user.clone(),
            }),
            Role::Cashier => Err(StationError::ManagerRequired {
                action,
                user: self.user.clone(),
            }),
        }
    }
}

impl ManagerApproval {
    pub fn manager(&self) -> &UserId {
        &self.manager
    }
}

/// One row of the user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// Failed PIN checks in a row that cost nothing but the check itself.
pub const FREE_PIN_FAILURES: u32 = 3;
/// Failed PIN checks in a row after which a user is locked out until a manager lifts it. With
/// the delays before it, ten guesses of a 4-digit PIN take about two minutes and then stop: one
/// chance in a thousand.
pub const LOCKOUT_AFTER_FAILURES: u32 = 10;

/// The wait before the next PIN check of a user with `failures` failed checks in a row: none for
/// the first [`FREE_PIN_FAILURES`], then 1 s, doubling with each further failure (1, 2, 4 … 64 s).
pub fn pin_retry_delay(failures: u32) -> jiff::SignedDuration {
    match failures.checked_sub(FREE_PIN_FAILURES) {
        None => jiff::SignedDuration::ZERO,
        Some(extra) => jiff::SignedDuration::from_secs(1_i64 << extra.min(20)),
    }
}

/// Failed PIN checks counted against a user id, and what they hold back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinHold {
    /// The user id as typed (which may be no user's).
    pub user: String,
    /// Failed checks in a row.
    pub failures: u32,
    /// Locked out until a manager lifts it.
    pub locked: bool,
    /// Seconds until the next check is taken (0: now, or never while locked).
    pub retry_after_s: u64,
}

/// What a PIN check is for: opening a session, or a manager's approval at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPurpose {
    Login,
    Approval(&'static str),
}

/// The first step of a PIN check: the attempt was allowed (not locked out, not too soon) and
/// counted in advance as a failure, and the stored hash was read. Verifying it is slow on
/// purpose and needs no station, so a caller can do it without holding the station's lock.
#[derive(Debug)]
pub struct PinCheck {
    user: UserId,
    /// The user's role, PIN hash and credential generation; `None` for an unknown or inactive
    /// user, who is checked against a stand-in hash so that the answer takes as long.
    stored: Option<(Role, String, i64)>,
}

/// The second step's outcome, to be recorded by [`Station::finish_pin_check`]. Only
/// [`PinCheck::verify`] makes one.
#[derive(Debug)]
pub struct PinVerdict {
    user: UserId,
    proven: Option<(Role, i64)>,
}

impl PinCheck {
    /// Checks the PIN against the stored hash (slow: Argon2). The same work for unknown users.
    pub fn verify(self, pin: &Pin) -> PinVerdict {
        let hash = match &self.stored {
            Some((_, hash, _)) => hash.as_str(),
            None => stand_in_hash(),
        };
        let matches = PasswordHash::new(hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(pin.0.as_bytes(), &parsed)
                .is_ok()
        });
        let proven = match self.stored {
            Some((role, _, generation)) if matches => Some((role, generation)),
            _ => None,
        };
        PinVerdict {
            user: self.user,
            proven,
        }
    }
}

/// A hash no PIN of a user is checked against, for unknown users: made once, with the same
/// parameters as every other.
fn stand_in_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let pin = Pin("00000000".to_owned());
        hash_pin(&pin).map(|h| h.0).unwrap_or_default()
    })
}

/// A PIN's Argon2 hash, made without the station (it is slow on purpose).
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash(String);

impl PinHash {
    pub fn of(pin: &Pin) -> Result<PinHash> {
        hash_pin(pin)
    }
}

impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinHash(…)")
    }
}

impl Station {
    /// Checks a user's PIN in one call: [`Station::begin_pin_check`], [`PinCheck::verify`],
    /// [`Station::finish_pin_check`]. Unknown users and wrong PINs get the same answer.
    pub fn authenticate(&mut self, user: &UserId, pin: &Pin, now: Timestamp) -> Result<Actor> {
        let check = self.begin_pin_check(user, now)?;
        let verdict = check.verify(pin);
        self.finish_pin_check(verdict, PinPurpose::Login, now)
    }

    /// Checks a manager's PIN for an approval; `action` names what needs it.
    pub fn approve_as_manager(
        &mut self,
        manager: &UserId,
        pin: &Pin,
        action: &'static str,
        now: Timestamp,
    ) -> Result<ManagerApproval> {
        let check = self.begin_pin_check(manager, now)?;
        let verdict = check.verify(pin);
        self.finish_pin_check(verdict, PinPurpose::Approval(action), now)?
            .as_manager(action)
    }

    /// Step one of a PIN check: refuses a locked-out user and an attempt that comes too soon
    /// after failures ([`pin_retry_delay`]), counts the attempt as a failure in advance (so
    /// attempts made at once are each counted) and reads what the check needs.
    pub fn begin_pin_check(&mut self, user: &UserId, now: Timestamp) -> Result<PinCheck> {
        self.write(now, |tx| {
            let attempts: Option<(u32, i64, bool)> = tx
                .sql
                .query_row(
                    "SELECT failures, last_failure_ms, locked FROM pin_attempts WHERE user_id = ?1",
                    params![user],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (failures, last_failure_ms, locked) = attempts.unwrap_or((0, i64::MIN, false));
            if locked {
                return Err(StationError::UserLockedOut(user.clone()));
            }
            let delay_ms = pin_retry_delay(failures).as_millis();
            let wait_ms = i128::from(last_failure_ms) + delay_ms - i128::from(tx.now_ms());
            if failures >= FREE_PIN_FAILURES && wait_ms > 0 {
                return Err(StationError::PinAttemptsTooSoon {
                    user: user.clone(),
                    retry_after_s: u64::try_from((wait_ms + 999) / 1_000).unwrap_or(u64::MAX),
                });
            }
            tx.sql.execute(
                "INSERT INTO pin_attempts (user_id, failures, last_failure_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT (user_id) DO UPDATE SET failures = failures + 1, last_failure_ms = ?2",
                params![user, tx.now_ms()],
            )?;
            let stored: Option<(String, String, i64)> = tx
                .sql
                .query_row(
                    "SELECT role, pin_hash, credential_generation FROM users
                     WHERE user_id = ?1 AND active = 1",
                    params![user],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let stored = match stored {
                Some((role, hash, generation)) => Some((role.parse()?, hash, generation)),
                None => None,
            };
            Ok(PinCheck {
                user: user.clone(),
                stored,
            })
        })
    }

    /// Step three: records the outcome. A proven PIN clears the user's failures and is logged
    /// as a login or an approval; a wrong one is logged, and the last allowed failure locks the
    /// user out.
    pub fn finish_pin_check(
        &mut self,
        verdict: PinVerdict,
        purpose: PinPurpose,
        now: Timestamp,
    ) -> Result<Actor> {
        let user = verdict.user;
        let outcome = self.write(now, |tx| match verdict.proven {
            Some((role, generation)) => {
                tx.sql
                    .execute("DELETE FROM pin_attempts WHERE user_id = ?1", params![user])?;
                let record = match purpose {
                    PinPurpose::Login => AuditRecord::new(AuditAction::Login, user.as_str()),
                    PinPurpose::Approval(action) => {
                        AuditRecord::new(AuditAction::ManagerApproval, user.as_str()).detail(action)
                    }
                };
                tx.audit(record)?;
                Ok(Some(Actor {
                    user: user.clone(),
                    role,
                    generation,
                }))
            }
            None => {
                let failures: u32 = tx.sql.query_row(
                    "SELECT failures FROM pin_attempts WHERE user_id = ?1",
                    params![user],
                    |r| r.get(0),
                )?;
                let detail = match purpose {
                    PinPurpose::Login => "log-in".to_owned(),
                    PinPurpose::Approval(action) => format!("approval: {action}"),
                };
                tx.audit(
                    AuditRecord::new(AuditAction::LoginFailed, user.as_str()).detail(&detail),
                )?;
                if failures >= LOCKOUT_AFTER_FAILURES {
                    tx.sql.execute(
                        "UPDATE pin_attempts SET locked = 1 WHERE user_id = ?1",
                        params![user],
                    )?;
                    tx.audit(
                        AuditRecord::new(AuditAction::LockedOut, user.as_str())
                            .detail(&format!("{failures} wrong PINs in a row")),
                    )?;
                }
                Ok(None)
            }
        })?;
        match outcome {
            Some(actor) => Ok(actor),
            None => {
                tracing::warn!(%user, "a wrong PIN");
                Err(StationError::BadCredentials)
            }
        }
    }

    /// Lifts a user's lockout, or the wait after failed PIN checks short of one, and forgets
    /// their failed attempts.
    pub fn lift_lockout(
        &mut self,
        approval: &ManagerApproval,
        user: &UserId,
        now: Timestamp,
    ) -> Result<()> {
        self.write(now, |tx| {
            let held: Option<(u32, bool)> = tx
                .sql
                .query_row(
                    "DELETE FROM pin_attempts WHERE user_id = ?1 RETURNING failures, locked",
                    params![user],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((failures, locked)) = held {
                let detail = if locked {
                    format!("locked out after {failures} failed PIN checks")
                } else {
                    format!("{failures} failed PIN checks cleared")
                };
                tx.audit(
                    AuditRecord::new(AuditAction::LockoutLifted, approval.manager().as_str())
                        .subject(user.as_str())
                        .detail(&detail),
                )?;
            }
            Ok(())
        })
    }

    /// Whether a session of `actor` still counts: the user is active and their PIN has not
    /// changed since the session began.
    pub fn session_still_valid(&self, actor: &Actor) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM users
                 WHERE user_id = ?1 AND active = 1 AND credential_generation = ?2)",
            )?
            .query_row(params![actor.user, actor.generation], |r| r.get(0))?)
    }

    /// Adds a cashier or manager (hashes the PIN here; see [`Station::add_user_with_hash`]).
    pub fn add_user(
        &mut self,
        approval: &ManagerApproval,
        user: NewUser,
        now: Timestamp,
    ) -> Result<()> {
        let hash = hash_pin(&user.pin)?;
        self.add_user_with_hash(approval, user, hash, now)
    }

    /// Adds a cashier or manager whose PIN was hashed beforehand with [`PinHash::of`].
    pub fn add_user_with_hash(
        &mut self,
        approval: &ManagerApproval,
        user: NewUser,
        hash: PinHash,
        now: Timestamp,
    ) -> Result<()> {
        self.write(now, |tx| {
            insert_user(&tx.sql, &user, &hash, now)?;
            tx.audit(
                AuditRecord::new(AuditAction::UserAdded, approval.manager().as_str())
                    .subject(user.user_id.as_str())
                    .detail(user.role.as_str()),
            )
        })?;
        tracing::info!(user = %user.user_id, role = user.role.as_str(), by = %approval.manager(), "user added");
        Ok(())
    }

    /// Sets a user's PIN (hashes it here; see [`Station::set_pin_hash`]).
    pub fn set_pin(
        &mut self,
        approval: &ManagerApproval,
        user: &UserId,
        pin: &Pin,
        now: Timestamp,
    ) -> Result<()> {
        let hash = hash_pin(pin)?;
        self.set_pin_hash(approval, user, hash, now)
    }

    /// Sets a user's PIN from a hash made with [`PinHash::of`]. Their sessions end.
    pub fn set_pin_hash(
        &mut self,
        approval: &ManagerApproval,
        user: &UserId,
        hash: PinHash,
        now: Timestamp,
    ) -> Result<()> {
        self.write(now, |tx| {
            let changed = tx.sql.execute(
                "UPDATE users SET pin_hash = ?2, credential_generation = credential_generation + 1
                 WHERE user_id = ?1",
                params![user, hash.0],
            )?;
            if changed == 0 {
                return Err(StationError::UnknownUser(user.clone()));
            }
            tx.audit(
                AuditRecord::new(AuditAction::PinChanged, approval.manager().as_str())
                    .subject(user.as_str()),
            )
        })?;
        tracing::info!(%user, by = %approval.manager(), "PIN changed");
        Ok(())
    }

    /// Deactivates a user who left, or lets them back in. A user is never deleted: their sales
    /// and shifts keep naming them. Deactivating ends their sessions; a manager cannot
    /// deactivate themselves, nor the last active manager.
    pub fn set_user_active(
        &mut self,
        approval: &ManagerApproval,
        user: &UserId,
        active: bool,
        now: Timestamp,
    ) -> Result<()> {
        self.write(now, |tx| {
            let role: Option<String> = tx
                .sql
                .query_row(
                    "SELECT role FROM users WHERE user_id = ?1",
                    params![user],
                    |r| r.get(0),
                )
                .optional()?;
            let role: Role = role
                .ok_or_else(|| StationError::UnknownUser(user.clone()))?
                .parse()?;
            if !active {
                if user == approval.manager() {
                    return Err(StationError::UserChangeRefused {
                        reason: "a manager cannot deactivate themselves",
                    });
                }
                let other_managers: i64 = tx.sql.query_row(
                    "SELECT count(*) FROM users WHERE role = 'manager' AND active = 1 AND user_id <> ?1",
                    params![user],
                    |r| r.get(0),
                )?;
                if role == Role::Manager && other_managers == 0 {
                    return Err(StationError::UserChangeRefused {
                        reason: "the last active manager cannot be deactivated",
                    });
                }
            }
            tx.sql.execute(
                "UPDATE users SET active = ?2, credential_generation = credential_generation + 1
                 WHERE user_id = ?1",
                params![user, active],
            )?;
            let action = if active {
                AuditAction::UserReactivated
            } else {
                AuditAction::UserDeactivated
            };
            tx.audit(AuditRecord::new(action, approval.manager().as_str()).subject(user.as_str()))
        })?;
        tracing::info!(%user, active, by = %approval.manager(), "user's access changed");
        Ok(())
    }

    /// Every user id (known or not) with failed PIN checks counted against it, and what that
    /// holds back at `now`: a lockout, or a wait before the next check. A manager's
    /// [`Station::lift_lockout`] clears either.
    pub fn pin_holds(&self, now: Timestamp) -> Result<Vec<PinHold>> {
        let mut stmt = self.conn().prepare(
            "SELECT user_id, failures, last_failure_ms, locked FROM pin_attempts ORDER BY user_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        let now_ms = i128::from(now.as_millisecond());
        rows.map(|row| {
            let (user, failures, last_failure_ms, locked) = row?;
            let wait_ms =
                i128::from(last_failure_ms) + pin_retry_delay(failures).as_millis() - now_ms;
            let retry_after_s = if locked || failures < FREE_PIN_FAILURES || wait_ms <= 0 {
                0
            } else {
                u64::try_from((wait_ms + 999) / 1_000).unwrap_or(u64::MAX)
            };
            Ok(PinHold {
                user,
                failures,
                locked,
                retry_after_s,
            })
        })
        .collect()
    }

    /// Every user, by id.
    pub fn users(&self) -> Result<Vec<UserRecord>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT user_id, name, role, active FROM users ORDER BY user_id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, UserId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (user_id, name, role, active) = row?;
            Ok(UserRecord {
                user_id,
                name,
                role: role.parse()?,
                active,
            })
        })
        .collect()
    }
}

pub(crate) fn hash_pin(pin: &Pin) -> Result<PinHash> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.0.as_bytes(), &salt)
        .map(|hash| PinHash(hash.to_string()))
        .map_err(|e| StationError::Storage(format!("hashing a PIN: {e}")))
}

pub(crate) fn insert_user(
    sql: &rusqlite::Transaction<'_>,
    user: &NewUser,
    pin_hash: &PinHash,
    now: Timestamp,
) -> Result<()> {
    let name = ensure_text("user name", &user.name, 100)?;
    let exists: bool = sql.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE user_id = ?1)",
        params![user.user_id],
        |r| r.get(0),
    )?;
    if exists {
        return Err(StationError::UserExists(user.user_id.clone()));
    }
    sql.execute(
        "INSERT INTO users (user_id, name, role, pin_hash, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![user.user_id, name, user.role.as_str(), pin_hash.0, ms(now)],
    )?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An unknown user's PIN is verified against this hash, so it must cost what a real one
    /// costs: same algorithm, version and parameters (a timing test would be noise on a busy
    /// machine; this is the property that makes the times equal).
    #[test]
    fn the_stand_in_hash_is_a_real_argon2_hash_with_the_usual_parameters() {
        let real = hash_pin(&"1234".parse().unwrap()).unwrap();
        let stand_in = PasswordHash::new(stand_in_hash()).unwrap();
        let real = PasswordHash::new(&real.0).unwrap();
        assert_eq!(
            (stand_in.algorithm, stand_in.version, &stand_in.params),
            (real.algorithm, real.version, &real.params)
        );
    }
}
