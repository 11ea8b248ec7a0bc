-- The station ledger, first version.
-- Times are INTEGER milliseconds since the Unix epoch, UTC (columns ending in _ms).
-- Business days are TEXT 'YYYY-MM-DD' in the station's time zone.
-- Money is INTEGER won, volume INTEGER millilitres, unit prices INTEGER won per litre or piece.
-- Facts (sales, cancellations, stock flows, confirmations, payments) are append-only: triggers
-- below refuse UPDATE and DELETE on them. Tables named *_summary / *_stock / order_status /
-- credit_balances are read models, changed only in the transaction that records the fact.

PRAGMA application_id = 1196639537; -- 0x47534531, "GSE1": marks the file as a station database

CREATE TABLE station (
    singleton              INTEGER PRIMARY KEY CHECK (singleton = 1),
    station_id             TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    time_zone              TEXT    NOT NULL,
    created_at_ms          INTEGER NOT NULL,
    next_outbox_seq        INTEGER NOT NULL DEFAULT 1 CHECK (next_outbox_seq >= 1),
    applied_price_version  INTEGER
) STRICT;

CREATE TABLE users (
    user_id        TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('cashier', 'manager')),
    pin_hash       TEXT    NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE products (
    product_id  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    unit        TEXT NOT NULL CHECK (unit IN ('litre', 'piece'))
) STRICT;

CREATE TABLE price_versions (
    version          INTEGER PRIMARY KEY CHECK (version >= 1),
    effective_at_ms  INTEGER NOT NULL,
    received_at_ms   INTEGER NOT NULL,
    applied_at_ms    INTEGER
) STRICT;

CREATE TABLE prices (
    version         INTEGER NOT NULL REFERENCES price_versions (version),
    product_id      TEXT    NOT NULL REFERENCES products (product_id),
    unit_price_won  INTEGER NOT NULL CHECK (unit_price_won > 0),
    PRIMARY KEY (version, product_id)
) STRICT;

CREATE TABLE tanks (
    tank_no        INTEGER PRIMARY KEY CHECK (tank_no BETWEEN 1 AND 99),
    product_id     TEXT    NOT NULL REFERENCES products (product_id),
    capacity_ml    INTEGER NOT NULL CHECK (capacity_ml > 0),
    created_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE business_days (
    business_day     TEXT    PRIMARY KEY,
    opened_at_ms     INTEGER NOT NULL,
    closed_at_ms     INTEGER,
    closed_by        TEXT    REFERENCES users (user_id),
    next_receipt_no  INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE UNIQUE INDEX one_open_business_day ON business_days ((closed_at_ms IS NULL)) WHERE closed_at_ms IS NULL;

CREATE TABLE shifts (
    shift_id           TEXT    PRIMARY KEY,
    cashier            TEXT    NOT NULL REFERENCES users (user_id),
    business_day       TEXT    NOT NULL REFERENCES business_days (business_day),
    opened_at_ms       INTEGER NOT NULL,
    opening_float_won  INTEGER NOT NULL CHECK (opening_float_won >= 0),
    closed_at_ms       INTEGER,
    expected_cash_won  INTEGER,
    counted_cash_won   INTEGER
) STRICT;
CREATE UNIQUE INDEX one_open_shift_per_cashier ON shifts (cashier) WHERE closed_at_ms IS NULL;

CREATE TABLE credit_accounts (
    account_id        TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL,
    credit_limit_won  INTEGER NOT NULL CHECK (credit_limit_won >= 0),
    opened_by         TEXT    NOT NULL REFERENCES users (user_id),
    opened_at_ms      INTEGER NOT NULL
) STRICT;

CREATE TABLE sales (
    sale_id         TEXT    PRIMARY KEY,
    receipt_no      TEXT    NOT NULL UNIQUE,
    business_day    TEXT    NOT NULL REFERENCES business_days (business_day),
    shift_id        TEXT    NOT NULL REFERENCES shifts (shift_id),
    cashier         TEXT    NOT NULL REFERENCES users (user_id),
    settled_at_ms   INTEGER NOT NULL,
    total_won       INTEGER NOT NULL CHECK (total_won > 0),
    payment_method  TEXT    NOT NULL CHECK (payment_method IN ('cash', 'card', 'account')),
    tendered_won    INTEGER,
    change_won      INTEGER,
    card_reference  TEXT,
    account_id      TEXT    REFERENCES credit_accounts (account_id)
) STRICT;
CREATE INDEX sales_by_day ON sales (business_day);
CREATE INDEX sales_by_shift ON sales (shift_id);

CREATE TABLE sale_lines (
    sale_id               TEXT    NOT NULL REFERENCES sales (sale_id),
    line_no               INTEGER NOT NULL,
    product_id            TEXT    NOT NULL REFERENCES products (product_id),
    tank_no               INTEGER REFERENCES tanks (tank_no),
    volume_ml             INTEGER CHECK (volume_ml > 0),
    quantity              INTEGER CHECK (quantity > 0),
    unit_price_won        INTEGER NOT NULL CHECK (unit_price_won > 0),
    amount_won            INTEGER NOT NULL CHECK (amount_won > 0),
    price_source          TEXT    NOT NULL CHECK (price_source IN ('price_list', 'pump', 'manager_override')),
    price_version         INTEGER,
    override_approved_by  TEXT    REFERENCES users (user_id),
    PRIMARY KEY (sale_id, line_no),
    CHECK ((volume_ml IS NULL) <> (quantity IS NULL))
) STRICT;

CREATE TABLE sale_cancellations (
    cancellation_id  TEXT    PRIMARY KEY,
    sale_id          TEXT    NOT NULL UNIQUE REFERENCES sales (sale_id),
    business_day     TEXT    NOT NULL REFERENCES business_days (business_day),
    shift_id         TEXT    REFERENCES shifts (shift_id),
    canceled_by      TEXT    NOT NULL REFERENCES users (user_id),
    approved_by      TEXT    NOT NULL REFERENCES users (user_id),
    reason           TEXT    NOT NULL CHECK (length(trim(reason)) > 0),
    canceled_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE credit_payments (
    payment_id      TEXT    PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES credit_accounts (account_id),
    amount_won      INTEGER NOT NULL CHECK (amount_won > 0),
    method          TEXT    NOT NULL CHECK (method IN ('cash', 'card')),
    shift_id        TEXT    REFERENCES shifts (shift_id),
    received_by     TEXT    NOT NULL REFERENCES users (user_id),
    received_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
    order_id       TEXT    PRIMARY KEY,
    product_id     TEXT    NOT NULL REFERENCES products (product_id),
    volume_ml      INTEGER NOT NULL CHECK (volume_ml > 0),
    wanted_date    TEXT    NOT NULL,
    ordered_by     TEXT    NOT NULL REFERENCES users (user_id),
    ordered_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE order_cancellations (
    order_id        TEXT    PRIMARY KEY REFERENCES orders (order_id),
    reason          TEXT    NOT NULL,
    canceled_by     TEXT    NOT NULL REFERENCES users (user_id),
    canceled_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE order_rejections (
    order_id        TEXT    PRIMARY KEY REFERENCES orders (order_id),
    reason          TEXT    NOT NULL,
    rejected_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE expected_deliveries (
    shipment_id        TEXT    PRIMARY KEY,
    order_id           TEXT    NOT NULL REFERENCES orders (order_id),
    product_id         TEXT    NOT NULL REFERENCES products (product_id),
    volume_ml          INTEGER NOT NULL CHECK (volume_ml > 0),
    truck              TEXT    NOT NULL,
    expected_at_ms     INTEGER,
    recorded_at_ms     INTEGER NOT NULL
) STRICT;

CREATE TABLE delivery_confirmations (
    shipment_id         TEXT    PRIMARY KEY REFERENCES expected_deliveries (shipment_id),
    tank_no             INTEGER NOT NULL REFERENCES tanks (tank_no),
    received_volume_ml  INTEGER NOT NULL CHECK (received_volume_ml > 0),
    confirmed_by        TEXT    NOT NULL REFERENCES users (user_id),
    confirmed_at_ms     INTEGER NOT NULL
) STRICT;

CREATE TABLE stock_adjustments (
    adjustment_id   TEXT    PRIMARY KEY,
    tank_no         INTEGER NOT NULL REFERENCES tanks (tank_no),
    delta_ml        INTEGER NOT NULL CHECK (delta_ml <> 0),
    reason          TEXT    NOT NULL CHECK (length(trim(reason)) > 0),
    approved_by     TEXT    NOT NULL REFERENCES users (user_id),
    adjusted_at_ms  INTEGER NOT NULL
) STRICT;

-- The stock ledger: one row per stock flow. Book stock is the sum of delta_ml.
CREATE TABLE stock_flows (
    flow_id         INTEGER PRIMARY KEY,
    tank_no         INTEGER NOT NULL REFERENCES tanks (tank_no),
    product_id      TEXT    NOT NULL REFERENCES products (product_id),
    kind            TEXT    NOT NULL CHECK (kind IN ('delivery', 'sale', 'cancellation', 'adjustment')),
    delta_ml        INTEGER NOT NULL CHECK (delta_ml <> 0),
    reference       TEXT    NOT NULL,
    business_day    TEXT    NOT NULL,
    recorded_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX stock_flows_by_tank ON stock_flows (tank_no);

-- Events HQ must hear about, in a gapless per-station sequence, written in the same
-- transaction as the change they describe.
CREATE TABLE outbox (
    seq              INTEGER PRIMARY KEY CHECK (seq >= 1),
    event_id         TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL,
    occurred_at_ms   INTEGER NOT NULL,
    message          TEXT    NOT NULL,
    acknowledged_at_ms INTEGER
) STRICT;

-- Messages from HQ already applied (or dead-lettered), keyed by origin and sequence.
CREATE TABLE inbox (
    origin          TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    event_id        TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('applied', 'dead_lettered')),
    handled_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (origin, seq)
) STRICT;

CREATE TABLE dead_letters (
    dead_letter_id  INTEGER PRIMARY KEY,
    origin          TEXT,
    seq             INTEGER,
    reason_code     TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    message         BLOB    NOT NULL,
    received_at_ms  INTEGER NOT NULL
) STRICT;

-- Read models.
CREATE TABLE tank_stock (
    tank_no        INTEGER PRIMARY KEY REFERENCES tanks (tank_no),
    product_id     TEXT    NOT NULL REFERENCES products (product_id),
    capacity_ml    INTEGER NOT NULL,
    book_stock_ml  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE product_stock (
    product_id            TEXT    PRIMARY KEY REFERENCES products (product_id),
    book_stock_ml         INTEGER NOT NULL DEFAULT 0,
    expected_incoming_ml  INTEGER NOT NULL DEFAULT 0 CHECK (expected_incoming_ml >= 0)
) STRICT;

CREATE TABLE sales_summary (
    business_day         TEXT    NOT NULL,
    product_id           TEXT    NOT NULL REFERENCES products (product_id),
    sales_count          INTEGER NOT NULL DEFAULT 0,
    sales_volume_ml      INTEGER NOT NULL DEFAULT 0,
    sales_quantity       INTEGER NOT NULL DEFAULT 0,
    sales_amount_won     INTEGER NOT NULL DEFAULT 0,
    canceled_count       INTEGER NOT NULL DEFAULT 0,
    canceled_volume_ml   INTEGER NOT NULL DEFAULT 0,
    canceled_quantity    INTEGER NOT NULL DEFAULT 0,
    canceled_amount_won  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (business_day, product_id)
) STRICT;

CREATE TABLE order_status (
    order_id            TEXT    PRIMARY KEY REFERENCES orders (order_id),
    product_id          TEXT    NOT NULL,
    ordered_volume_ml   INTEGER NOT NULL,
    shipped_volume_ml   INTEGER NOT NULL DEFAULT 0,
    received_volume_ml  INTEGER NOT NULL DEFAULT 0,
    status              TEXT    NOT NULL CHECK (status IN ('ordered', 'shipped', 'delivered', 'canceled', 'rejected')),
    status_reason       TEXT,
    wanted_date         TEXT    NOT NULL,
    ordered_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL
) STRICT;

CREATE TABLE credit_balances (
    account_id   TEXT    PRIMARY KEY REFERENCES credit_accounts (account_id),
    balance_won  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Facts are never edited or deleted.
CREATE TRIGGER sales_are_never_edited BEFORE UPDATE ON sales BEGIN SELECT RAISE(ABORT, 'sales are never edited'); END;
CREATE TRIGGER sales_are_never_deleted BEFORE DELETE ON sales BEGIN SELECT RAISE(ABORT, 'sales are never deleted'); END;
CREATE TRIGGER sale_lines_are_never_edited BEFORE UPDATE ON sale_lines BEGIN SELECT RAISE(ABORT, 'sale lines are never edited'); END;
CREATE TRIGGER sale_lines_are_never_deleted BEFORE DELETE ON sale_lines BEGIN SELECT RAISE(ABORT, 'sale lines are never deleted'); END;
CREATE TRIGGER cancellations_are_never_edited BEFORE UPDATE ON sale_cancellations BEGIN SELECT RAISE(ABORT, 'cancellations are never edited'); END;
CREATE TRIGGER cancellations_are_never_deleted BEFORE DELETE ON sale_cancellations BEGIN SELECT RAISE(ABORT, 'cancellations are never deleted'); END;
CREATE TRIGGER stock_flows_are_never_edited BEFORE UPDATE ON stock_flows BEGIN SELECT RAISE(ABORT, 'stock flows are never edited'); END;
CREATE TRIGGER stock_flows_are_never_deleted BEFORE DELETE ON stock_flows BEGIN SELECT RAISE(ABORT, 'stock flows are never deleted'); END;
CREATE TRIGGER outbox_messages_are_never_edited BEFORE UPDATE OF seq, event_id, kind, occurred_at_ms, message ON outbox BEGIN SELECT RAISE(ABORT, 'outbox messages are never edited'); END;
