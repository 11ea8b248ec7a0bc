-- Stream identity, divergences, messages held for later, and bounded dead letters.

-- Each station's streams towards HQ. A stream has an id (made with the station's database, or
-- when the two sides found their histories differ) and starts after `from_seq`; '' is the
-- stream of messages that name none (schema 1). `inbox_positions` keeps the current one.
CREATE TABLE inbox_streams (
    station_id      TEXT    NOT NULL,
    stream_id       TEXT    NOT NULL,
    from_seq        INTEGER NOT NULL,
    applied_through INTEGER NOT NULL,
    opened_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (station_id, stream_id)
) STRICT, WITHOUT ROWID;
INSERT INTO inbox_streams (station_id, stream_id, from_seq, applied_through, opened_at_ms)
    SELECT station_id, '', 0, applied_through, coalesce(last_seen_ms, 0) FROM inbox_positions;
ALTER TABLE inbox_positions ADD COLUMN stream_id TEXT NOT NULL DEFAULT '';

-- An event's place is its stream and sequence number.
ALTER TABLE events ADD COLUMN stream_id TEXT NOT NULL DEFAULT '';
DROP INDEX events_by_origin;
CREATE UNIQUE INDEX events_by_origin ON events (station_id, origin, stream_id, seq);

-- HQ's stream towards each station: '' until the first message made under this schema.
ALTER TABLE outbox_positions ADD COLUMN stream_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox_positions ADD COLUMN stream_from INTEGER NOT NULL DEFAULT 0;
-- The last price version sent to the station, so the next one carries only what changed.
ALTER TABLE outbox_positions ADD COLUMN price_version_sent INTEGER;

-- Where the two sides' histories were found to differ, and what was done.
CREATE TABLE divergences (
    divergence_id  INTEGER PRIMARY KEY,
    station_id     TEXT    NOT NULL,
    direction      TEXT    NOT NULL CHECK (direction IN ('up', 'down')),
    kind           TEXT    NOT NULL,
    old_stream     TEXT,
    new_stream     TEXT,
    at_seq         INTEGER,
    detail         TEXT    NOT NULL,
    detected_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX divergences_by_station ON divergences (station_id, divergence_id);

-- Messages HQ cannot apply yet (a newer schema, a station not registered yet): one row per
-- station and reason, with how often it came. Not acknowledged; the sender asks again.
CREATE TABLE held (
    station_id     TEXT    NOT NULL,
    code           TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    seq            INTEGER,
    repeats        INTEGER NOT NULL,
    first_at_ms    INTEGER NOT NULL,
    last_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (station_id, code)
) STRICT, WITHOUT ROWID;

-- One dead letter per distinct message: a repeat counts instead of adding a row.
ALTER TABLE dead_letters ADD COLUMN digest TEXT;
ALTER TABLE dead_letters ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dead_letters ADD COLUMN last_received_at_ms INTEGER;
CREATE UNIQUE INDEX dead_letters_by_digest ON dead_letters (station_id, digest);

-- When a product's name or unit last changed, so that a price version sent as a change carries
-- the products renamed since its base version.
ALTER TABLE products ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0;
