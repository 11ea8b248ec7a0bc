//! HQ users: passwords stored as argon2 hashes; a login gives a random bearer token, stored only
//! as its BLAKE2 digest, valid for a working day.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use blake2::{Blake2s256, Digest};
use jiff::{Timestamp, ToSpan};
use rand::RngCore;
use rusqlite::{OptionalExtension, params};

use crate::error::{HubError, Result};
use crate::hub::{Hub, ms};

/// How long a session lasts.
const SESSION_HOURS: i64 = 12;

/// A logged-in HQ user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HqUser {
    pub username: String,
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

    /// Checks a password and opens a session. Unknown users and wrong passwords get the same answer.
    pub fn login(&mut self, username: &str, password: &str, now: Timestamp) -> Result<Session> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT password_hash FROM hq_users WHERE username = ?1",
                params![username],
                |r| r.get(0),
            )
            .optional()?;
        let stored = stored.ok_or(HubError::BadCredentials)?;
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| HubError::Storage(format!("a stored password hash: {e}")))?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .map_err(|_| HubError::BadCredentials)?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let expires_at = now
            .checked_add(SESSION_HOURS.hours())
            .map_err(|e| HubError::Storage(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE expires_at_ms <= ?1",
                params![ms(now)],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, username, expires_at_ms) VALUES (?1, ?2, ?3)",
                params![digest(&token), username, ms(expires_at)],
            )?;
            Ok(())
        })?;
        Ok(Session { token, expires_at })
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
