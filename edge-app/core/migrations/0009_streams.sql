-- Stream identity, messages from HQ in parts, divergences, and bounded dead letters.

-- The station's stream towards HQ: an id made with the database (or when HQ found the
-- station's history and its own differ), and the sequence number it starts after. HQ's stream
-- towards the station as the station follows it (NULL until its first message).
ALTER TABLE station ADD COLUMN up_stream_id TEXT;
ALTER TABLE station ADD COLUMN up_stream_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE station ADD COLUMN down_stream_id TEXT;
ALTER TABLE station ADD COLUMN down_stream_from INTEGER NOT NULL DEFAULT 0;
UPDATE station SET up_stream_id = lower(
    hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-7' || substr(hex(randomblob(2)), 2) || '-' ||
    substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
-- An event's message never changes, except for the stream it is sent in: after HQ found the
-- histories differ, the events HQ did not acknowledge are sent again in a new stream.
DROP TRIGGER outbox_messages_are_never_edited;
CREATE TRIGGER outbox_messages_are_never_edited BEFORE UPDATE OF seq, event_id, kind, occurred_at_ms, message ON outbox
WHEN NEW.seq IS NOT OLD.seq OR NEW.event_id IS NOT OLD.event_id OR NEW.kind IS NOT OLD.kind
  OR NEW.occurred_at_ms IS NOT OLD.occurred_at_ms
  OR json_remove(NEW.message, '$.stream') IS NOT json_remove(OLD.message, '$.stream')
BEGIN SELECT RAISE(ABORT, 'outbox messages are never edited'); END;

-- Events made before streams belong to the first stream.
UPDATE outbox SET message = json_set(message, '$.stream',
    json_object('id', (SELECT up_stream_id FROM station), 'from', 0));

-- HQ's messages already handled, keyed by the stream they came in and their sequence number.
CREATE TABLE inbox_by_stream (
    origin          TEXT    NOT NULL,
    stream_id       TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    event_id        TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('applied', 'dead_lettered', 'duplicate')),
    handled_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (origin, stream_id, seq)
) STRICT;
INSERT INTO inbox_by_stream (origin, stream_id, seq, event_id, kind, outcome, handled_at_ms)
    SELECT origin, '', seq, event_id, kind, outcome, handled_at_ms FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_by_stream RENAME TO inbox;
CREATE INDEX inbox_by_event ON inbox (event_id) WHERE event_id <> '';
UPDATE station SET down_stream_id = '' WHERE EXISTS (SELECT 1 FROM inbox);

-- The parts of a price version received so far (a long list comes in several messages).
CREATE TABLE price_parts (
    version         INTEGER NOT NULL,
    part            INTEGER NOT NULL,
    parts           INTEGER NOT NULL,
    base_version    INTEGER,
    effective_at_ms INTEGER NOT NULL,
    items           TEXT    NOT NULL,
    PRIMARY KEY (version, part)
) STRICT;

-- Where HQ's history and the station's were found to differ, and what was done.
CREATE TABLE divergences (
    divergence_id  INTEGER PRIMARY KEY,
    direction      TEXT    NOT NULL CHECK (direction IN ('up', 'down')),
    kind           TEXT    NOT NULL,
    detail         TEXT    NOT NULL,
    detected_at_ms INTEGER NOT NULL
) STRICT;

-- One dead letter per distinct message: a repeat counts instead of adding a row.
ALTER TABLE dead_letters ADD COLUMN digest TEXT;
ALTER TABLE dead_letters ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX dead_letters_by_digest ON dead_letters (digest);
