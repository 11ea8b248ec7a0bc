-- HQ's dashboard: roles of HQ users, regions of stations, what stations report of their devices,
-- and sales roll-ups (the network's per day, each station's per month) the reports read
-- instead of every station's rows.

-- Users made before roles existed keep what they could do: everything.
ALTER TABLE hq_users ADD COLUMN role TEXT NOT NULL DEFAULT 'administrator'
    CHECK (role IN ('administrator', 'pricing', 'logistics', 'analyst'));

ALTER TABLE stations ADD COLUMN region TEXT NOT NULL DEFAULT '';

-- As of the station's last status: its last recorded event for HQ, and its devices (JSON).
ALTER TABLE rm_stations ADD COLUMN up_last INTEGER;
ALTER TABLE rm_stations ADD COLUMN devices TEXT;

-- Network sales per business day, operating type and product: the sum of rm_sales, kept by
-- triggers so that it can never disagree with it.
CREATE TABLE rm_sales_network (
    business_day        TEXT    NOT NULL,
    operating_type      TEXT    NOT NULL,
    product_id          TEXT    NOT NULL,
    sales_count         INTEGER NOT NULL,
    sales_volume_ml     INTEGER NOT NULL,
    sales_quantity      INTEGER NOT NULL,
    sales_amount_won    INTEGER NOT NULL,
    canceled_count      INTEGER NOT NULL,
    canceled_volume_ml  INTEGER NOT NULL,
    canceled_quantity   INTEGER NOT NULL,
    canceled_amount_won INTEGER NOT NULL,
    PRIMARY KEY (business_day, operating_type, product_id)
) STRICT, WITHOUT ROWID;

INSERT INTO rm_sales_network
SELECT s.business_day, coalesce(st.operating_type, ''), s.product_id,
       sum(s.sales_count), sum(s.sales_volume_ml), sum(s.sales_quantity), sum(s.sales_amount_won),
       sum(s.canceled_count), sum(s.canceled_volume_ml), sum(s.canceled_quantity), sum(s.canceled_amount_won)
FROM rm_sales s LEFT JOIN stations st USING (station_id)
GROUP BY 1, 2, 3;

CREATE TRIGGER rm_sales_network_on_insert AFTER INSERT ON rm_sales
BEGIN
    INSERT INTO rm_sales_network VALUES (
        NEW.business_day,
        coalesce((SELECT operating_type FROM stations WHERE station_id = NEW.station_id), ''),
        NEW.product_id,
        NEW.sales_count, NEW.sales_volume_ml, NEW.sales_quantity, NEW.sales_amount_won,
        NEW.canceled_count, NEW.canceled_volume_ml, NEW.canceled_quantity, NEW.canceled_amount_won)
    ON CONFLICT (business_day, operating_type, product_id) DO UPDATE SET
        sales_count = sales_count + excluded.sales_count,
        sales_volume_ml = sales_volume_ml + excluded.sales_volume_ml,
        sales_quantity = sales_quantity + excluded.sales_quantity,
        sales_amount_won = sales_amount_won + excluded.sales_amount_won,
        canceled_count = canceled_count + excluded.canceled_count,
        canceled_volume_ml = canceled_volume_ml + excluded.canceled_volume_ml,
        canceled_quantity = canceled_quantity + excluded.canceled_quantity,
        canceled_amount_won = canceled_amount_won + excluded.canceled_amount_won;
END;

CREATE TRIGGER rm_sales_network_on_update AFTER UPDATE ON rm_sales
BEGIN
    UPDATE rm_sales_network SET
        sales_count = sales_count + NEW.sales_count - OLD.sales_count,
        sales_volume_ml = sales_volume_ml + NEW.sales_volume_ml - OLD.sales_volume_ml,
        sales_quantity = sales_quantity + NEW.sales_quantity - OLD.sales_quantity,
        sales_amount_won = sales_amount_won + NEW.sales_amount_won - OLD.sales_amount_won,
        canceled_count = canceled_count + NEW.canceled_count - OLD.canceled_count,
        canceled_volume_ml = canceled_volume_ml + NEW.canceled_volume_ml - OLD.canceled_volume_ml,
        canceled_quantity = canceled_quantity + NEW.canceled_quantity - OLD.canceled_quantity,
        canceled_amount_won = canceled_amount_won + NEW.canceled_amount_won - OLD.canceled_amount_won
    WHERE business_day = NEW.business_day
      AND operating_type = coalesce((SELECT operating_type FROM stations WHERE station_id = NEW.station_id), '')
      AND product_id = NEW.product_id;
END;

-- Sales per station, month (YYYY-MM) and product: the sum of rm_sales, kept by triggers like
-- the network roll-up. A report by station over a year reads twelve months per station and
-- the days at either end, not every day of every station. In station order, so that a
-- report reads each station's months as one range.
CREATE TABLE rm_sales_station_month (
    station_id          TEXT    NOT NULL,
    month               TEXT    NOT NULL,
    product_id          TEXT    NOT NULL,
    -- The rm_sales rows (days) summed here.
    days                INTEGER NOT NULL,
    sales_count         INTEGER NOT NULL,
    sales_volume_ml     INTEGER NOT NULL,
    sales_quantity      INTEGER NOT NULL,
    sales_amount_won    INTEGER NOT NULL,
    canceled_count      INTEGER NOT NULL,
    canceled_volume_ml  INTEGER NOT NULL,
    canceled_quantity   INTEGER NOT NULL,
    canceled_amount_won INTEGER NOT NULL,
    PRIMARY KEY (station_id, month, product_id)
) STRICT, WITHOUT ROWID;

INSERT INTO rm_sales_station_month
SELECT station_id, substr(business_day, 1, 7), product_id, count(*),
       sum(sales_count), sum(sales_volume_ml), sum(sales_quantity), sum(sales_amount_won),
       sum(canceled_count), sum(canceled_volume_ml), sum(canceled_quantity), sum(canceled_amount_won)
FROM rm_sales
GROUP BY 1, 2, 3;

CREATE TRIGGER rm_sales_station_month_on_insert AFTER INSERT ON rm_sales
BEGIN
    INSERT INTO rm_sales_station_month VALUES (
        NEW.station_id, substr(NEW.business_day, 1, 7), NEW.product_id, 1,
        NEW.sales_count, NEW.sales_volume_ml, NEW.sales_quantity, NEW.sales_amount_won,
        NEW.canceled_count, NEW.canceled_volume_ml, NEW.canceled_quantity, NEW.canceled_amount_won)
    ON CONFLICT (station_id, month, product_id) DO UPDATE SET
        days = days + 1,
        sales_count = sales_count + excluded.sales_count,
        sales_volume_ml = sales_volume_ml + excluded.sales_volume_ml,
        sales_quantity = sales_quantity + excluded.sales_quantity,
        sales_amount_won = sales_amount_won + excluded.sales_amount_won,
        canceled_count = canceled_count + excluded.canceled_count,
        canceled_volume_ml = canceled_volume_ml + excluded.canceled_volume_ml,
        canceled_quantity = canceled_quantity + excluded.canceled_quantity,
        canceled_amount_won = canceled_amount_won + excluded.canceled_amount_won;
END;

CREATE TRIGGER rm_sales_station_month_on_update AFTER UPDATE ON rm_sales
BEGIN
    UPDATE rm_sales_station_month SET
        sales_count = sales_count + NEW.sales_count - OLD.sales_count,
        sales_volume_ml = sales_volume_ml + NEW.sales_volume_ml - OLD.sales_volume_ml,
        sales_quantity = sales_quantity + NEW.sales_quantity - OLD.sales_quantity,
        sales_amount_won = sales_amount_won + NEW.sales_amount_won - OLD.sales_amount_won,
        canceled_count = canceled_count + NEW.canceled_count - OLD.canceled_count,
        canceled_volume_ml = canceled_volume_ml + NEW.canceled_volume_ml - OLD.canceled_volume_ml,
        canceled_quantity = canceled_quantity + NEW.canceled_quantity - OLD.canceled_quantity,
        canceled_amount_won = canceled_amount_won + NEW.canceled_amount_won - OLD.canceled_amount_won
    WHERE station_id = NEW.station_id AND month = substr(NEW.business_day, 1, 7)
      AND product_id = NEW.product_id;
END;

-- Alerts read a station's dead letters and the flagged reconciliations of recent days.
CREATE INDEX dead_letters_by_station ON dead_letters (station_id, dead_letter_id);
CREATE INDEX rm_wet_stock_flagged ON rm_wet_stock (business_day) WHERE flagged = 1;
