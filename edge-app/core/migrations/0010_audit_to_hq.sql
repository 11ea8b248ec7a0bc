-- The audit log goes to HQ: every entry from this version on is sent (`audit_recorded`) in the
-- transaction that writes it. Entries written before it are sent once, oldest first, by
-- `Station::send_earlier_audit` (the runtime calls it at start): those after
-- `audit_backfill_after` up to `audit_backfill_through` are still to send.
ALTER TABLE station ADD COLUMN audit_backfill_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE station ADD COLUMN audit_backfill_through INTEGER NOT NULL DEFAULT 0;
UPDATE station SET audit_backfill_through = coalesce((SELECT max(entry_no) FROM audit_log), 0);
