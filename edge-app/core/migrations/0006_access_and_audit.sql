-- Who may get in, and the trail of what they did.
--
-- pin_attempts: consecutive failed PIN checks per user id as typed (known or not), with the time
-- of the last one; a user locked out stays locked until a manager lifts it. A success resets it.
CREATE TABLE pin_attempts (
    user_id          TEXT    PRIMARY KEY,
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    last_failure_ms  INTEGER NOT NULL,
    locked           INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1))
) STRICT;

-- A user's credential generation: it moves on whenever the PIN changes or the user is
-- deactivated, and a session made before it no longer counts.
ALTER TABLE users ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 1;

-- The audit log: logins, failed attempts, lockouts, approvals, price overrides, cancellations,
-- account payments, user changes and reprints. Append-only, like every other fact.
CREATE TABLE audit_log (
    entry_no     INTEGER PRIMARY KEY,
    at_ms        INTEGER NOT NULL,
    action       TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    approved_by  TEXT,
    subject      TEXT,
    detail       TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_by_time ON audit_log (at_ms);
CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is never edited'); END;
CREATE TRIGGER audit_log_is_never_deleted BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is never deleted'); END;

-- A card payment towards a credit account carries the terminal's approval reference.
ALTER TABLE credit_payments ADD COLUMN reference TEXT;
