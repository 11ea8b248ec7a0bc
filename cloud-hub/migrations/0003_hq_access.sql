-- Failed log-in attempts of HQ users (by username as typed, known or not) and their lockouts,
-- and the audit log of HQ's access: log-ins, failures, lockouts and their lifting.
CREATE TABLE login_attempts (
    username         TEXT    PRIMARY KEY,
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    last_failure_ms  INTEGER NOT NULL,
    locked           INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1))
) STRICT;

CREATE TABLE hq_audit (
    entry_no  INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    subject   TEXT,
    detail    TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX hq_audit_by_time ON hq_audit (at_ms);
CREATE TRIGGER hq_audit_is_append_only BEFORE UPDATE ON hq_audit BEGIN SELECT RAISE(ABORT, 'the audit log is never edited'); END;
CREATE TRIGGER hq_audit_is_never_deleted BEFORE DELETE ON hq_audit BEGIN SELECT RAISE(ABORT, 'the audit log is never deleted'); END;
