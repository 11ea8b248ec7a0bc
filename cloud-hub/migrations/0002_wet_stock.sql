-- Each station's wet-stock reconciliation per tank and closed business day, from its events.
CREATE TABLE rm_wet_stock (
    station_id    TEXT    NOT NULL,
    business_day  TEXT    NOT NULL,
    tank          INTEGER NOT NULL,
    product_id    TEXT    NOT NULL,
    opening_ml    INTEGER NOT NULL,
    deliveries_ml INTEGER NOT NULL,
    sales_ml      INTEGER NOT NULL,
    closing_ml    INTEGER NOT NULL,
    variance_ml   INTEGER NOT NULL,
    limit_ml      INTEGER NOT NULL,
    flagged       INTEGER NOT NULL,
    PRIMARY KEY (station_id, business_day, tank)
) STRICT, WITHOUT ROWID;
