//! The POS API's sessions: a random bearer token per PIN login, ended by log-out, by an idle
//! timeout, by a maximum age, and (checked against the station on every request) by the user's
//! PIN changing or the user being deactivated.
//!
//! Time here is the monotonic clock, passed in, so a corrected wall clock neither ends nor
//! prolongs a session, and the rules are tested with made-up instants.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::RngCore;
use station_core::Actor;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after its log-in, used or not: about a long shift.
    pub max_age: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle_timeout: Duration::from_secs(30 * 60),
            max_age: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// The most sessions kept at once; past it the least recently used one ends. A station has a
/// few screens; this bounds what a flood of log-ins can hold.
pub const MAX_SESSIONS: usize = 256;

/// The open sessions.
#[derive(Debug)]
pub struct Sessions {
    policy: SessionPolicy,
    open: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    actor: Actor,
    started: Instant,
    last_used: Instant,
}

impl Sessions {
    pub fn new(policy: SessionPolicy) -> Sessions {
        Sessions {
            policy,
            open: HashMap::new(),
        }
    }

    /// Opens a session for `actor`; returns its token (256 random bits, hex).
    pub fn open(&mut self, actor: Actor, now: Instant) -> String {
        self.forget_expired(now);
        if self.open.len() >= MAX_SESSIONS
            && let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(token, _)| token.clone())
        {
            self.open.remove(&oldest);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.open.insert(
            token.clone(),
            Entry {
                actor,
                started: now,
                last_used: now,
            },
        );
        token
    }

    /// The actor of a live session, marking it used; `None` (and the session forgotten) once it
    /// is idle or old past the policy.
    pub fn touch(&mut self, token: &str, now: Instant) -> Option<Actor> {
        let policy = self.policy;
        let entry = self.open.get_mut(token)?;
        let idle = now.saturating_duration_since(entry.last_used);
        let age = now.saturating_duration_since(entry.started);
        if idle >= policy.idle_timeout || age >= policy.max_age {
            self.open.remove(token);
            return None;
        }
        entry.last_used = now;
        Some(entry.actor.clone())
    }

    /// The actor of a live session, without counting this as use: for the page refreshing
    /// itself, which must not keep an unattended session alive.
    pub fn peek(&mut self, token: &str, now: Instant) -> Option<Actor> {
        let last_used = self.open.get(token)?.last_used;
        let actor = self.touch(token, now)?;
        if let Some(entry) = self.open.get_mut(token) {
            entry.last_used = last_used;
        }
        Some(actor)
    }

    /// Ends one session.
    pub fn close(&mut self, token: &str) {
        self.open.remove(token);
    }

    /// Ends every session of a user (their PIN changed, or they were deactivated).
    pub fn close_all_of(&mut self, user: &station_core::UserId) {
        self.open.retain(|_, entry| entry.actor.user() != user);
    }

    fn forget_expired(&mut self, now: Instant) {
        let policy = self.policy;
        self.open.retain(|_, entry| {
            now.saturating_duration_since(entry.last_used) < policy.idle_timeout
                && now.saturating_duration_since(entry.started) < policy.max_age
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use station_core::{NewUser, Role, Station, StationSetup};

    fn actor() -> (tempfile::TempDir, Actor) {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::now();
        let setup = StationSetup {
            station_id: "ST0001".parse().unwrap(),
            name: "Gangnam".into(),
            time_zone: "Asia/Seoul".into(),
            first_manager: NewUser {
                user_id: "park".parse().unwrap(),
                name: "Park".into(),
                role: Role::Manager,
                pin: "9999".parse().unwrap(),
            },
        };
        let mut station = Station::create(&dir.path().join("station.db"), setup, now).unwrap();
        let actor = station
            .authenticate(&"park".parse().unwrap(), &"9999".parse().unwrap(), now)
            .unwrap();
        (dir, actor)
    }

    #[test]
    fn a_session_ends_when_idle_or_old_and_use_keeps_it_only_until_its_age() {
        let (_dir, park) = actor();
        let policy = SessionPolicy {
            idle_timeout: Duration::from_secs(60),
            max_age: Duration::from_secs(300),
        };
        let mut sessions = Sessions::new(policy);
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);

        let idle = sessions.open(park.clone(), t0);
        assert!(sessions.touch(&idle, at(59)).is_some());
        assert!(
            sessions.touch(&idle, at(118)).is_some(),
            "use restarts the idle clock"
        );
        assert!(sessions.touch(&idle, at(178)).is_none(), "60 s unused");
        assert!(sessions.touch(&idle, at(178)).is_none(), "and forgotten");

        let unattended = sessions.open(park.clone(), t0);
        assert!(sessions.peek(&unattended, at(59)).is_some());
        assert!(
            sessions.touch(&unattended, at(60)).is_none(),
            "a background refresh is not use"
        );

        let busy = sessions.open(park.clone(), t0);
        for secs in (30..300).step_by(30) {
            assert!(sessions.touch(&busy, at(secs)).is_some(), "{secs}");
        }
        assert!(
            sessions.touch(&busy, at(300)).is_none(),
            "too old however used"
        );

        let first = sessions.open(park.clone(), t0);
        let second = sessions.open(park.clone(), t0);
        assert_ne!(first, second);
        assert_eq!(first.len(), 64);
        sessions.close_all_of(park.user());
        assert!(sessions.touch(&first, t0).is_none() && sessions.touch(&second, t0).is_none());
    }

    #[test]
    fn a_flood_of_log_ins_holds_at_most_the_limit_and_ends_the_least_recently_used() {
        let (_dir, park) = actor();
        let mut sessions = Sessions::new(SessionPolicy::default());
        let t0 = Instant::now();
        let oldest = sessions.open(park.clone(), t0);
        let kept = sessions.open(park.clone(), t0);
        for n in 0..MAX_SESSIONS {
            let now = t0 + Duration::from_millis(u64::try_from(n).unwrap() + 1);
            assert!(sessions.touch(&kept, now).is_some());
            sessions.open(park.clone(), now);
        }
        assert_eq!(sessions.open.len(), MAX_SESSIONS);
        assert!(
            sessions
                .touch(&oldest, t0 + Duration::from_secs(1))
                .is_none()
        );
        assert!(sessions.touch(&kept, t0 + Duration::from_secs(1)).is_some());
    }
}
