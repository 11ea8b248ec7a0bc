//! HQ users: passwords stored as argon2 hashes; a login gives a random bearer token, stored only
//! as its BLAKE2 digest, valid for a working day.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use blake2::{Blake2s256, Digest};
use jiff::{Timestamp, ToSpan};
use rand::RngCore;
use rusqlite::{OptionalExtension, params};

use crate::error::{HubError, Result};
use crate::hub::{Hub, from_ms, ms};

/// How long a session lasts.
const SESSION_HOURS: i64 = 12;

/// A logged-in HQ user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HqUser {
    pub username: String,
    pub role: Role,
}

/// What an HQ user is there to do. Everyone reads everything; changes need the role for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, and the only one who manages users, registers stations and sets alerts.
    Administrator,
    /// The product master and price versions.
    Pricing,
    /// Orders, shipments and the dispatch policy.
    Logistics,
    /// Reads only.
    Analyst,
}

/// A kind of change to HQ's records, each allowed to some roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ManageUsers,
    RegisterStations,
    SetAlerts,
    EditPrices,
    Dispatch,
    /// Make and revoke the identities that read HQ's event feed.
    ManageFeedConsumers,
}

impl Permission {
    /// In words, for a refusal: "… may not {this}".
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ManageUsers => "manage HQ users",
            Permission::RegisterStations => "register stations",
            Permission::SetAlerts => "change the alert settings",
            Permission::EditPrices => "change products or prices",
            Permission::Dispatch => "dispatch, reject orders or change the dispatch policy",
            Permission::ManageFeedConsumers => "manage the event feed's consumers",
        }
    }
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Administrator,
        Role::Pricing,
        Role::Logistics,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Pricing => "pricing",
            Role::Logistics => "logistics",
            Role::Analyst => "analyst",
        }
    }

    pub fn may(self, permission: Permission) -> bool {
        match self {
            Role::Administrator => true,
            Role::Pricing => permission == Permission::EditPrices,
            Role::Logistics => permission == Permission::Dispatch,
            Role::Analyst => false,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = HubError;

    fn from_str(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                HubError::invalid(
                    "role",
                    format!("`{text}` is none of administrator, pricing, logistics, analyst"),
                )
            })
    }
}

impl HqUser {
    /// Refuses, naming the role and the change, unless the user's role allows it.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.role.may(permission) {
            Ok(())
        } else {
            Err(HubError::Forbidden {
                role: self.role.as_str(),
                action: permission.describe(),
            })
        }
    }
}

/// An HQ user as the user list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HqUserRecord {
    pub username: String,
    pub role: Role,
    pub created_at: Timestamp,
    /// Locked out after too many wrong passwords.
    pub locked: bool,
}

/// What the audit log is searched for; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Found in the subject or the detail.
    pub text: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub limit: usize,
}

/// Failed log-ins in a row that cost nothing but the check.
pub const FREE_LOGIN_FAILURES: u32 = 3;
/// Failed log-ins in a row after which a username is locked out until another HQ user lifts it.
pub const LOCKOUT_AFTER_LOGIN_FAILURES: u32 = 10;

/// The wait before the next log-in of a username with `failures` failures in a row: none for
/// the first [`FREE_LOGIN_FAILURES`], then 1 s, doubling (1, 2, 4 … 64 s).
pub fn login_retry_delay(failures: u32) -> jiff::SignedDuration {
    match failures.checked_sub(FREE_LOGIN_FAILURES) {
        None => jiff::SignedDuration::ZERO,
        Some(extra) => jiff::SignedDuration::from_secs(1_i64 << extra.min(20)),
    }
}

/// Step one's result: what verifying needs. Verifying is slow on purpose and needs no hub, so
/// the HTTP layer does it without holding the hub's lock, and a flood of log-ins never stalls
/// the stations' sync.
#[derive(Debug)]
pub struct PasswordCheck {
    username: String,
    /// `None` for an unknown user, checked against a stand-in hash so the answer takes as long.
    stored: Option<String>,
}

/// Step two's outcome, recorded by [`Hub::finish_login`]; only [`PasswordCheck::verify`] makes
/// one.
#[derive(Debug)]
pub struct PasswordVerdict {
    username: String,
    proven: bool,
}

impl PasswordCheck {
    /// Checks the password against the stored hash (Argon2; the same work for unknown users).
    pub fn verify(self, password: &str) -> PasswordVerdict {
        let hash = self.stored.as_deref().unwrap_or_else(|| stand_in_hash());
        let matches = PasswordHash::new(hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        PasswordVerdict {
            proven: matches && self.stored.is_some(),
            username: self.username,
        }
    }
}

/// A hash no user's password is checked against, for unknown users: made once.
fn stand_in_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(b"no user has this password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// One entry of HQ's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HqAuditEntry {
    pub entry_no: i64,
    pub at: Timestamp,
    /// `login`, `login_failed`, `locked_out`, `lockout_lifted`, or a change HQ made (see
    /// [`Hub::on_behalf_of`]).
    pub action: String,
    pub actor: String,
    pub subject: Option<String>,
    pub detail: String,
}

pub(crate) fn audit(
    tx: &rusqlite::Transaction<'_>,
    at: Timestamp,
    action: &str,
    actor: &str,
    subject: Option<&str>,
    detail: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO hq_audit (at_ms, action, actor, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ms(at), action, actor, subject, detail],
    )?;
    Ok(())
}

/// A new session's token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: String,
    pub expires_at: Timestamp,
}

pub(crate) fn digest(token: &str) -> String {
    Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a new user's name and password, and hashes the password.
fn new_user_hash(username: &str, password: &str) -> Result<String> {
    let valid = (1..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !valid {
        return Err(HubError::invalid(
            "username",
            "1 to 32 lower-case letters, digits, '.', '-' or '_'",
        ));
    }
    if password.chars().count() < 8 {
        return Err(HubError::invalid(
            "password",
            "it needs at least 8 characters",
        ));
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| HubError::Storage(format!("hashing a password: {e}")))?
        .to_string())
}

fn insert_user(
    tx: &rusqlite::Transaction<'_>,
    username: &str,
    hash: &str,
    role: Role,
    now: Timestamp,
) -> Result<()> {
    let exists = tx
        .query_row(
            "SELECT 1 FROM hq_users WHERE username = ?1",
            params![username],
            |_| Ok(()),
        )
        .optional()?;
    if exists.is_some() {
        return Err(HubError::UserExists(username.to_owned()));
    }
    tx.execute(
        "INSERT INTO hq_users (username, password_hash, created_at_ms, role) VALUES (?1, ?2, ?3, ?4)",
        params![username, hash, ms(now), role.as_str()],
    )?;
    Ok(())
}

impl Hub {
    /// Adds the first HQ user, an administrator, when the hub starts with none. Passwords need
    /// at least 8 characters.
    pub fn add_hq_user(&mut self, username: &str, password: &str, now: Timestamp) -> Result<()> {
        let hash = new_user_hash(username, password)?;
        self.write(|tx| insert_user(tx, username, &hash, Role::Administrator, now))
    }

    /// Adds an HQ user with a role, by an administrator; written to the audit log.
    pub fn create_hq_user(
        &mut self,
        by: &HqUser,
        username: &str,
        password: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<HqUserRecord> {
        by.require(Permission::ManageUsers)?;
        let hash = new_user_hash(username, password)?;
        self.write(|tx| {
            insert_user(tx, username, &hash, role, now)?;
            audit(
                tx,
                now,
                "user_added",
                &by.username,
                Some(username),
                role.as_str(),
            )
        })?;
        self.hq_user(username)
    }

    /// Gives an HQ user another role, by an administrator. The last administrator keeps the
    /// role, so that someone can always manage users.
    pub fn set_hq_user_role(
        &mut self,
        by: &HqUser,
        username: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<HqUserRecord> {
        by.require(Permission::ManageUsers)?;
        let before = self.hq_user(username)?;
        if before.role == role {
            return Ok(before);
        }
        self.write(|tx| {
            let administrators: i64 = tx.query_row(
                "SELECT count(*) FROM hq_users WHERE role = 'administrator'",
                [],
                |r| r.get(0),
            )?;
            if before.role == Role::Administrator && administrators <= 1 {
                return Err(HubError::Conflict(format!(
                    "{username} is the last administrator; make another user administrator first"
                )));
            }
            tx.execute(
                "UPDATE hq_users SET role = ?2 WHERE username = ?1",
                params![username, role.as_str()],
            )?;
            // Sessions carry no role: the next request already runs with the new one.
            let detail = format!("{} -> {}", before.role.as_str(), role.as_str());
            audit(
                tx,
                now,
                "role_changed",
                &by.username,
                Some(username),
                &detail,
            )
        })?;
        self.hq_user(username)
    }

    /// One HQ user.
    pub fn hq_user(&self, username: &str) -> Result<HqUserRecord> {
        self.hq_users()?
            .into_iter()
            .find(|u| u.username == username)
            .ok_or_else(|| HubError::UnknownUser(username.to_owned()))
    }

    /// Every HQ user, by name.
    pub fn hq_users(&self) -> Result<Vec<HqUserRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT u.username, u.role, u.created_at_ms, coalesce(a.locked, 0)
             FROM hq_users u LEFT JOIN login_attempts a USING (username) ORDER BY u.username",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        })?;
        let mut users = Vec::new();
        for row in rows {
            let (username, role, created_at, locked) = row?;
            users.push(HqUserRecord {
                username,
                role: role.parse()?,
                created_at: from_ms(created_at),
                locked,
            });
        }
        Ok(users)
    }

    /// Whether any HQ user exists (the first start creates one).
    pub fn has_hq_users(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM hq_users LIMIT 1", [], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Checks a password and opens a session, in one call: [`Hub::begin_login`],
    /// [`PasswordCheck::verify`], [`Hub::finish_login`]. Unknown users and wrong passwords get
    /// the same answer, after the same work.
    pub fn login(&mut self, username: &str, password: &str, now: Timestamp) -> Result<Session> {
        let check = self.begin_login(username, now)?;
        let verdict = check.verify(password);
        self.finish_login(verdict, now)
    }

    /// Step one of a log-in: refuses a locked-out username and an attempt too soon after
    /// failures ([`login_retry_delay`]), counts the attempt as a failure in advance (so attempts
    /// made at once are each counted), and reads the stored hash.
    pub fn begin_login(&mut self, username: &str, now: Timestamp) -> Result<PasswordCheck> {
        if username.len() > 64 {
            return Err(HubError::BadCredentials);
        }
        self.write(|tx| {
            let attempts: Option<(u32, i64, bool)> = tx
                .query_row(
                    "SELECT failures, last_failure_ms, locked FROM login_attempts WHERE username = ?1",
                    params![username],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (failures, last_failure_ms, locked) = attempts.unwrap_or((0, i64::MIN, false));
            if locked {
                return Err(HubError::LockedOut(username.to_owned()));
            }
            let wait_ms = i128::from(last_failure_ms) + login_retry_delay(failures).as_millis()
                - i128::from(ms(now));
            if failures >= FREE_LOGIN_FAILURES && wait_ms > 0 {
                return Err(HubError::LoginTooSoon {
                    username: username.to_owned(),
                    retry_after_s: u64::try_from((wait_ms + 999) / 1_000).unwrap_or(u64::MAX),
                });
            }
            tx.execute(
                "INSERT INTO login_attempts (username, failures, last_failure_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT (username) DO UPDATE SET failures = failures + 1, last_failure_ms = ?2",
                params![username, ms(now)],
            )?;
            let stored: Option<String> = tx
                .query_row(
                    "SELECT password_hash FROM hq_users WHERE username = ?1",
                    params![username],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(PasswordCheck {
                username: username.to_owned(),
                stored,
            })
        })
    }

    /// Step three: a proven password clears the failures and opens a session; a wrong one is
    /// logged, and the last allowed failure locks the username out.
    pub fn finish_login(&mut self, verdict: PasswordVerdict, now: Timestamp) -> Result<Session> {
        let username = verdict.username;
        if !verdict.proven {
            self.write(|tx| {
                audit(tx, now, "login_failed", &username, None, "")?;
                let failures: u32 = tx.query_row(
                    "SELECT failures FROM login_attempts WHERE username = ?1",
                    params![username],
                    |r| r.get(0),
                )?;
                if failures >= LOCKOUT_AFTER_LOGIN_FAILURES {
                    tx.execute(
                        "UPDATE login_attempts SET locked = 1 WHERE username = ?1",
                        params![username],
                    )?;
                    let detail = format!("{failures} wrong passwords in a row");
                    audit(tx, now, "locked_out", &username, None, &detail)?;
                }
                Ok(())
            })?;
            tracing::warn!(%username, "a wrong HQ password");
            return Err(HubError::BadCredentials);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let expires_at = now
            .checked_add(SESSION_HOURS.hours())
            .map_err(|e| HubError::Storage(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "DELETE FROM login_attempts WHERE username = ?1",
                params![username],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE expires_at_ms <= ?1",
                params![ms(now)],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, username, expires_at_ms) VALUES (?1, ?2, ?3)",
                params![digest(&token), username, ms(expires_at)],
            )?;
            audit(tx, now, "login", &username, None, "")
        })?;
        Ok(Session { token, expires_at })
    }

    /// Lifts the lockout of `username` (and forgets its failed attempts), by `by`.
    pub fn lift_lockout(&mut self, by: &HqUser, username: &str, now: Timestamp) -> Result<()> {
        by.require(Permission::ManageUsers)?;
        self.write(|tx| {
            let lifted = tx.execute(
                "DELETE FROM login_attempts WHERE username = ?1",
                params![username],
            )?;
            if lifted > 0 {
                audit(tx, now, "lockout_lifted", &by.username, Some(username), "")?;
            }
            Ok(())
        })
    }

    /// HQ's audit log (log-ins and every change), newest first, at most `filter.limit` (capped
    /// at 1,000) of the entries that match.
    pub fn hq_audit(&self, filter: &AuditFilter) -> Result<Vec<HqAuditEntry>> {
        let limit = i64::try_from(filter.limit.min(1_000)).unwrap_or(0);
        let mut stmt = self.conn.prepare(
            "SELECT entry_no, at_ms, action, actor, subject, detail FROM hq_audit
             WHERE (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR actor = ?3)
               AND (?4 IS NULL OR instr(lower(coalesce(subject, '') || ' ' || detail), lower(?4)) > 0)
             ORDER BY entry_no DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(
            params![limit, filter.action, filter.actor, filter.text],
            |r| {
                Ok(HqAuditEntry {
                    entry_no: r.get(0)?,
                    at: from_ms(r.get(1)?),
                    action: r.get(2)?,
                    actor: r.get(3)?,
                    subject: r.get(4)?,
                    detail: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The user a bearer token belongs to, if it is valid now.
    pub fn authenticate(&self, token: &str, now: Timestamp) -> Result<HqUser> {
        let user: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT s.username, u.role FROM sessions s JOIN hq_users u USING (username)
                 WHERE s.token_hash = ?1 AND s.expires_at_ms > ?2",
            )?
            .query_row(params![digest(token), ms(now)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (username, role) = user.ok_or(HubError::Unauthenticated)?;
        Ok(HqUser {
            username,
            role: role.parse()?,
        })
    }

    /// Ends a session.
    pub fn logout(&mut self, token: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                params![digest(token)],
            )?;
            Ok(())
        })
    }
}
