-- The hub's schema. Times are UTC milliseconds; money integer won; volume integer millilitres.

-- ---- HQ users and their sessions
CREATE TABLE hq_users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    username      TEXT NOT NULL REFERENCES hq_users (username),
    expires_at_ms INTEGER NOT NULL
) STRICT;

-- ---- stations
CREATE TABLE stations (
    station_id     TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    operating_type TEXT NOT NULL CHECK (operating_type IN ('directly_managed', 'consignment', 'franchise')),
    registered_at_ms INTEGER NOT NULL
) STRICT;

-- ---- product master and price versions
CREATE TABLE products (
    product_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    unit       TEXT NOT NULL CHECK (unit IN ('litre', 'piece'))
) STRICT;

CREATE TABLE price_versions (
    version         INTEGER PRIMARY KEY,
    effective_at_ms INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE price_items (
    version        INTEGER NOT NULL REFERENCES price_versions (version),
    product_id     TEXT NOT NULL REFERENCES products (product_id),
    unit_price_won INTEGER NOT NULL CHECK (unit_price_won > 0),
    PRIMARY KEY (version, product_id)
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- ---- sync: what each station sent (inbox), what the hub sends each station (outbox)
CREATE TABLE inbox_positions (
    station_id      TEXT PRIMARY KEY,
    applied_through INTEGER NOT NULL,
    last_seen_ms    INTEGER
) STRICT;

-- Every event the hub applied, from stations and its own, in the order applied. The read
-- models are built from this stream only.
CREATE TABLE events (
    event_no       INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL UNIQUE,
    origin         TEXT NOT NULL,
    station_id     TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    occurred_at_ms INTEGER NOT NULL,
    applied_at_ms  INTEGER NOT NULL,
    message        TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX events_by_origin ON events (station_id, origin, seq);

CREATE TABLE outbox (
    station_id    TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (station_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE outbox_positions (
    station_id    TEXT PRIMARY KEY,
    last_seq      INTEGER NOT NULL,
    acked_through INTEGER NOT NULL
) STRICT;

CREATE TABLE dead_letters (
    dead_letter_id INTEGER PRIMARY KEY,
    station_id     TEXT,
    seq            INTEGER,
    code           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    message        BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL
) STRICT;

-- ---- read models, moved only by events
CREATE TABLE rm_orders (
    order_id           TEXT PRIMARY KEY,
    station_id         TEXT NOT NULL,
    product_id         TEXT NOT NULL,
    ordered_volume_ml  INTEGER NOT NULL,
    shipped_volume_ml  INTEGER NOT NULL DEFAULT 0,
    received_volume_ml INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL,
    status_reason      TEXT,
    wanted_date        TEXT NOT NULL,
    ordered_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX rm_orders_by_station ON rm_orders (station_id, ordered_at_ms);

CREATE TABLE rm_shipments (
    shipment_id        TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL,
    station_id         TEXT NOT NULL,
    product_id         TEXT NOT NULL,
    volume_ml          INTEGER NOT NULL,
    truck              TEXT NOT NULL,
    dispatched_at_ms   INTEGER NOT NULL,
    expected_at_ms     INTEGER,
    tank               INTEGER,
    received_volume_ml INTEGER,
    confirmed_at_ms    INTEGER
) STRICT;

CREATE TABLE rm_sales (
    station_id          TEXT NOT NULL,
    business_day        TEXT NOT NULL,
    product_id          TEXT NOT NULL,
    sales_count         INTEGER NOT NULL DEFAULT 0,
    sales_volume_ml     INTEGER NOT NULL DEFAULT 0,
    sales_quantity      INTEGER NOT NULL DEFAULT 0,
    sales_amount_won    INTEGER NOT NULL DEFAULT 0,
    canceled_count      INTEGER NOT NULL DEFAULT 0,
    canceled_volume_ml  INTEGER NOT NULL DEFAULT 0,
    canceled_quantity   INTEGER NOT NULL DEFAULT 0,
    canceled_amount_won INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, business_day, product_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE rm_tanks (
    station_id    TEXT NOT NULL,
    tank          INTEGER NOT NULL,
    product_id    TEXT NOT NULL,
    capacity_ml   INTEGER NOT NULL,
    book_stock_ml INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, tank)
) STRICT, WITHOUT ROWID;

CREATE TABLE rm_stations (
    station_id            TEXT PRIMARY KEY,
    online                INTEGER NOT NULL DEFAULT 0,
    status_changed_at_ms  INTEGER,
    price_version_applied INTEGER,
    price_applied_at_ms   INTEGER,
    events_applied        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Facts are never edited.
CREATE TRIGGER events_are_append_only_u BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_d BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
