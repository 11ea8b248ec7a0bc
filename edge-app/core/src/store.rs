//! The SQLite file: opening it safely, its settings, and its forward-only migrations.
//!
//! Settings on every connection: WAL journal, `synchronous=FULL` (a commit is on disk before it
//! returns, so a sale is durable before its receipt prints), foreign keys on, a busy timeout.
//!
//! A file is only ever written once it is known to be a station database: its `application_id`
//! is checked before any setting that writes (such as the WAL journal mode) is applied, so a
//! foreign or damaged file is refused untouched.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

use crate::error::{Result, StationError};

/// `application_id` in the header of every station database: "GSE1".
pub const APPLICATION_ID: i32 = 0x4753_4531;

/// The WAL size, in pages, past which the writer copies it back into the database file itself
/// before its transaction returns. Normally a [`Checkpointer`] on its own connection keeps the WAL
/// far below this, off the sale path; this is the bound if none runs (about 40 MB).
pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// How long a writer waits for another before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATION_FILES.iter().map(|sql| M::up(sql)).collect())
}

/// The schema version this build migrates to: the number of migrations.
pub fn schema_version() -> i64 {
    MIGRATION_FILES.len() as i64
}

const MIGRATION_FILES: &[&str] = &[
    include_str!("../migrations/0001_ledger.sql"),
    include_str!("../migrations/0002_outbox_position.sql"),
    include_str!("../migrations/0003_print_queue.sql"),
    include_str!("../migrations/0004_tank_readings.sql"),
    include_str!("../migrations/0005_fuelings.sql"),
    include_str!("../migrations/0006_access_and_audit.sql"),
    include_str!("../migrations/0007_pump_totals.sql"),
    include_str!("../migrations/0008_receipts.sql"),
    include_str!("../migrations/0009_streams.sql"),
    include_str!("../migrations/0010_audit_to_hq.sql"),
    include_str!("../migrations/0011_limits.sql"),
];

/// Creates a new station database at `path`, which must not exist or be empty.
pub(crate) fn create(path: &Path) -> Result<Connection> {
    let shown = path.display().to_string();
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
                StationError::NotAStationDatabase {
                    path: shown.clone(),
                    detail: e.to_string(),
                }
            })?;
        return Err(match application_id(&conn, &shown) {
            Ok(APPLICATION_ID) => StationError::DatabaseExists(shown),
            Ok(_) | Err(_) => StationError::NotAStationDatabase {
                path: shown,
                detail: "the file exists and holds something else; it was left untouched".into(),
            },
        });
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens an existing station database, migrating it forward if this build is newer.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(StationError::DatabaseMissing(shown));
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StationError::NotAStationDatabase {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    match application_id(&conn, &shown)? {
        APPLICATION_ID => {}
        0 => {
            return Err(StationError::NotAStationDatabase {
                path: shown,
                detail: "it is an SQLite database of no known application; it was left untouched"
                    .into(),
            });
        }
        other => {
            return Err(StationError::NotAStationDatabase {
                path: shown,
                detail: format!(
                    "it belongs to another application (application_id {other:#010x}); it was left untouched"
                ),
            });
        }
    }
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > schema_version() {
        return Err(StationError::DatabaseTooNew {
            found,
            known: schema_version(),
        });
    }
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Reads the header's application id; a file that is not SQLite at all fails here.
fn application_id(conn: &Connection, shown: &str) -> Result<i32> {
    conn.pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| StationError::NotAStationDatabase {
            path: shown.to_owned(),
            detail: format!("{e}; it was left untouched"),
        })
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StationError::Storage(format!(
            "the database refused WAL mode (it is in {mode} mode)"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    Ok(())
}

/// Copies committed transactions from the WAL into the database file, from its own connection,
/// so the connection that settles sales never waits for it. SQLite's passive checkpoint never
/// blocks a writer; once it has copied everything, the next write starts the WAL afresh.
///
/// The edge runtime runs [`Checkpointer::checkpoint_once`] on a timer on its own thread.
#[derive(Debug)]
pub struct Checkpointer {
    conn: Connection,
}

/// What one checkpoint found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointOutcome {
    /// Frames in the WAL.
    pub wal_frames: i64,
    /// Frames now copied into the database file.
    pub checkpointed_frames: i64,
}

impl Checkpointer {
    /// Opens a second connection to an existing station database.
    pub fn open(path: &Path) -> Result<Checkpointer> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(StationError::DatabaseMissing(shown));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StationError::NotAStationDatabase {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        if application_id(&conn, &shown)? != APPLICATION_ID {
            return Err(StationError::NotAStationDatabase {
                path: shown,
                detail: "it is not a station database".into(),
            });
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Checkpointer { conn })
    }

    /// One passive checkpoint.
    pub fn checkpoint_once(&self) -> Result<CheckpointOutcome> {
        let (wal_frames, checkpointed_frames) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                })?;
        Ok(CheckpointOutcome {
            wal_frames,
            checkpointed_frames,
        })
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    migrations().to_latest(conn).map_err(|e| match e {
        rusqlite_migration::Error::RusqliteError { err, .. } => StationError::from(err),
        other => StationError::Storage(format!("migrating the database: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn schema_version_matches_the_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create(&dir.path().join("s.db")).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema_version());
        let app: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap();
        assert_eq!(app, APPLICATION_ID);
    }

    #[test]
    fn every_connection_is_durable_and_checks_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(create(&path).unwrap());
        let conn = open(&path).unwrap();
        let read = |pragma: &str| -> String {
            conn.pragma_query_value(None, pragma, |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .unwrap()
        };
        assert_eq!(read("journal_mode"), r#"Text("wal")"#);
        // 2 is FULL: a commit is on disk before it returns.
        assert_eq!(read("synchronous"), "Integer(2)");
        assert_eq!(read("foreign_keys"), "Integer(1)");
        assert_eq!(
            read("busy_timeout"),
            format!("Integer({})", BUSY_TIMEOUT.as_millis())
        );
    }
}
