-- Commission settlement's own database. Money in integer won, volume in integer millilitres,
-- days as the station's business day (YYYY-MM-DD), periods as months (YYYY-MM).

-- How far the feed has been applied: moved in the transaction of what the events did.
CREATE TABLE feed_position (
    one            INTEGER PRIMARY KEY CHECK (one = 1),
    after          INTEGER NOT NULL,
    events_applied INTEGER NOT NULL
) STRICT;
INSERT INTO feed_position VALUES (1, 0, 0);

-- The stations the feed's events come from, as the hub's feed says them.
CREATE TABLE stations (
    station_id     TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    operating_type TEXT NOT NULL
) STRICT;

-- Sales and cancellations of consignment stations per day and product, on the statement of
-- `settle_period`: the day's own month, or the first open month when the day's month was
-- already closed when the event arrived (an adjustment).
CREATE TABLE tallies (
    station_id          TEXT    NOT NULL,
    settle_period       TEXT    NOT NULL,
    business_day        TEXT    NOT NULL,
    product_id          TEXT    NOT NULL,
    is_fuel             INTEGER NOT NULL CHECK (is_fuel IN (0, 1)),
    sales_count         INTEGER NOT NULL,
    sales_volume_ml     INTEGER NOT NULL,
    sales_quantity      INTEGER NOT NULL,
    sales_amount_won    INTEGER NOT NULL,
    canceled_count      INTEGER NOT NULL,
    canceled_volume_ml  INTEGER NOT NULL,
    canceled_quantity   INTEGER NOT NULL,
    canceled_amount_won INTEGER NOT NULL,
    PRIMARY KEY (station_id, settle_period, business_day, product_id)
) STRICT, WITHOUT ROWID;

-- Wet-stock reconciliations of consignment stations with a loss past the station's tolerance.
CREATE TABLE wet_stock_losses (
    station_id    TEXT    NOT NULL,
    business_day  TEXT    NOT NULL,
    tank          INTEGER NOT NULL,
    settle_period TEXT    NOT NULL,
    product_id    TEXT    NOT NULL,
    variance_ml   INTEGER NOT NULL,
    limit_ml      INTEGER NOT NULL,
    beyond_ml     INTEGER NOT NULL CHECK (beyond_ml > 0),
    PRIMARY KEY (station_id, business_day, tank)
) STRICT, WITHOUT ROWID;

-- Commission terms per station, each version in force from its day until the next one's.
CREATE TABLE terms (
    station_id                 TEXT    NOT NULL,
    effective_from             TEXT    NOT NULL,
    version                    INTEGER NOT NULL,
    fuel_rates                 TEXT    NOT NULL, -- JSON {"CD1001": won per litre, ...}
    shop_rate_basis_points     INTEGER NOT NULL CHECK (shop_rate_basis_points BETWEEN 0 AND 10000),
    monthly_fee_won            INTEGER NOT NULL CHECK (monthly_fee_won >= 0),
    loss_cost_won_per_litre    INTEGER NOT NULL CHECK (loss_cost_won_per_litre >= 0),
    created_by                 TEXT    NOT NULL,
    created_at_ms              INTEGER NOT NULL,
    PRIMARY KEY (station_id, effective_from),
    UNIQUE (station_id, version)
) STRICT;
CREATE TRIGGER terms_are_never_edited BEFORE UPDATE ON terms BEGIN SELECT RAISE(ABORT, 'terms are versioned, never edited'); END;
CREATE TRIGGER terms_are_never_deleted BEFORE DELETE ON terms BEGIN SELECT RAISE(ABORT, 'terms are versioned, never deleted'); END;

-- Closed periods: closed in order, each after the one before.
CREATE TABLE periods (
    period        TEXT    PRIMARY KEY,
    closed_at_ms  INTEGER NOT NULL,
    closed_by     TEXT    NOT NULL,
    position      INTEGER NOT NULL
) STRICT;
CREATE TRIGGER closed_periods_stay_closed BEFORE DELETE ON periods BEGIN SELECT RAISE(ABORT, 'a closed period stays closed'); END;

-- The statements of closed periods, stored whole when the period closed, never recomputed.
CREATE TABLE statements (
    station_id     TEXT    NOT NULL,
    period         TEXT    NOT NULL REFERENCES periods (period),
    total_owed_won INTEGER NOT NULL,
    document       TEXT    NOT NULL,
    PRIMARY KEY (station_id, period)
) STRICT;
CREATE TRIGGER statements_are_never_edited BEFORE UPDATE ON statements BEGIN SELECT RAISE(ABORT, 'a closed statement never changes'); END;
CREATE TRIGGER statements_are_never_deleted BEFORE DELETE ON statements BEGIN SELECT RAISE(ABORT, 'a closed statement never changes'); END;
