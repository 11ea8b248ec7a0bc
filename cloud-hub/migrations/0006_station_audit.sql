-- Each station's audit log as the station sent it (`audit_recorded`, one message per entry, in
-- the transaction of the change it records): logins, failed PIN checks, lockouts and their
-- lifting, manager approvals, price overrides, cancellations, account payments, user changes,
-- reprints. Moved only by those events, like every read model; never edited.
CREATE TABLE rm_station_audit (
    audit_no     INTEGER PRIMARY KEY,
    station_id   TEXT    NOT NULL,
    entry_no     INTEGER NOT NULL,
    at_ms        INTEGER NOT NULL,
    action       TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    approved_by  TEXT,
    subject      TEXT,
    detail       TEXT    NOT NULL
) STRICT;
CREATE INDEX rm_station_audit_by_station ON rm_station_audit (station_id, audit_no);
CREATE INDEX rm_station_audit_by_action ON rm_station_audit (action, audit_no);
