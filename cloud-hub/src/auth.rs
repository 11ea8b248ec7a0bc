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
    /// `login`, `login_failed`, `locked_out`, `lockout_lifted`.
    pub action: String,
    pub actor: String,
    pub subject: Option<String>,
    pub detail: String,
}

fn audit(
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

fn digest(token: &str) -> String {
    Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Hub {
    /// Adds an HQ user. Passwords need at least 8 characters.
    pub fn add_hq_user(&mut self, username: &str, password: &str, now: Timestamp) -> Result<()> {
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
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| HubError::Storage(format!("hashing a password: {e}")))?
            .to_string();
        self.write(|tx| {
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
                "INSERT INTO hq_users (username, password_hash, created_at_ms) VALUES (?1, ?2, ?3)",
                params![username, hash, ms(now)],
            )?;
            Ok(())
        })
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

    /// HQ's access log, newest first, at most `limit` (capped at 1,000).
    pub fn hq_audit(&self, limit: usize) -> Result<Vec<HqAuditEntry>> {
        let limit = i64::try_from(limit.min(1_000)).unwrap_or(0);
        let mut stmt = self.conn.prepare(
            "SELECT entry_no, at_ms, action, actor, subject, detail FROM hq_audit
             ORDER BY entry_no DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| {
            Ok(HqAuditEntry {
                entry_no: r.get(0)?,
                at: from_ms(r.get(1)?),
                action: r.get(2)?,
                actor: r.get(3)?,
                subject: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The user a bearer token belongs to, if it is valid now.
    pub fn authenticate(&self, token: &str, now: Timestamp) -> Result<HqUser> {
        let username: Option<String> = self
            .conn
            .query_row(
                "SELECT username FROM sessions WHERE token_hash = ?1 AND expires_at_ms > ?2",
                params![digest(token), ms(now)],
                |r| r.get(0),
            )
            .optional()?;
        username
            .map(|username| HqUser { username })
            .ok_or(HubError::Unauthenticated)
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
