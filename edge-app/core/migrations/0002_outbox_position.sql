-- The outbox's acknowledged position, kept on the station row so that reading it, the backlog
-- and a new acknowledgement cost the same with ten events waiting or a million.
ALTER TABLE station ADD COLUMN outbox_acked_through INTEGER NOT NULL DEFAULT 0
    CHECK (outbox_acked_through >= 0);
UPDATE station SET outbox_acked_through =
    coalesce((SELECT max(seq) FROM outbox WHERE acknowledged_at_ms IS NOT NULL), 0);
