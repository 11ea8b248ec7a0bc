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

impl Station {
    /// Checks a user's PIN. Unknown users and wrong PINs get the same answer.
    pub fn authenticate(&self, user: &UserId, pin: &Pin) -> Result<Actor> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT role, pin_hash FROM users WHERE user_id = ?1 AND active = 1",
                params![user],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((role, hash)) = row else {
            return Err(StationError::BadCredentials);
        };
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| StationError::DatabaseCorrupt(format!("the PIN hash of {user}: {e}")))?;
        Argon2::default()
            .verify_password(pin.0.as_bytes(), &parsed)
            .map_err(|_| StationError::BadCredentials)?;
        Ok(Actor {
            user: user.clone(),
            role: role.parse()?,
        })
    }

    /// Checks a manager's PIN for an approval; `action` names what needs it.
    pub fn approve_as_manager(
        &self,
        manager: &UserId,
        pin: &Pin,
        action: &'static str,
    ) -> Result<ManagerApproval> {
        self.authenticate(manager, pin)?.as_manager(action)
    }

    /// Adds a cashier or manager.
    pub fn add_user(
        &mut self,
        approval: &ManagerApproval,
        user: NewUser,
        now: Timestamp,
    ) -> Result<()> {
        let hash = hash_pin(&user.pin)?;
        self.write(now, |tx| insert_user(&tx.sql, &user, &hash, now))?;
        tracing::info!(user = %user.user_id, role = user.role.as_str(), by = %approval.manager(), "user added");
        Ok(())
    }

    /// Sets a user's PIN.
    pub fn set_pin(
        &mut self,
        approval: &ManagerApproval,
        user: &UserId,
        pin: &Pin,
        now: Timestamp,
    ) -> Result<()> {
        let hash = hash_pin(pin)?;
        self.write(now, |tx| {
            let changed = tx.sql.execute(
                "UPDATE users SET pin_hash = ?2 WHERE user_id = ?1",
                params![user, hash],
            )?;
            if changed == 0 {
                return Err(StationError::UnknownUser(user.clone()));
            }
            Ok(())
        })?;
        tracing::info!(%user, by = %approval.manager(), "PIN changed");
        Ok(())
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

pub(crate) fn hash_pin(pin: &Pin) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.0.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StationError::Storage(format!("hashing a PIN: {e}")))
}

pub(crate) fn insert_user(
    sql: &rusqlite::Transaction<'_>,
    user: &NewUser,
    pin_hash: &str,
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
        params![user.user_id, name, user.role.as_str(), pin_hash, ms(now)],
    )?;
    Ok(())
}
