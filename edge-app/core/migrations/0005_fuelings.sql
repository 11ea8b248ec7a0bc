-- Fuelings: what a pump dispensed, as the pump measured it, recorded when the filling ends and
-- kept until a cashier settles it as a sale. A fueling is paid at most once, by one sale.
CREATE TABLE fuelings (
    fueling_id      TEXT    PRIMARY KEY,
    pump            INTEGER NOT NULL CHECK (pump BETWEEN 80 AND 111),
    nozzle          INTEGER NOT NULL CHECK (nozzle BETWEEN 1 AND 15),
    tank_no         INTEGER NOT NULL REFERENCES tanks (tank_no),
    product_id      TEXT    NOT NULL REFERENCES products (product_id),
    volume_ml       INTEGER NOT NULL CHECK (volume_ml > 0),
    amount_won      INTEGER NOT NULL CHECK (amount_won >= 0),
    unit_price_won  INTEGER NOT NULL CHECK (unit_price_won > 0),
    finished_at_ms  INTEGER NOT NULL,
    sale_id         TEXT    UNIQUE REFERENCES sales (sale_id)
) STRICT;
CREATE INDEX fuelings_unpaid ON fuelings (finished_at_ms) WHERE sale_id IS NULL;
CREATE TRIGGER fuelings_are_only_paid BEFORE UPDATE ON fuelings
WHEN OLD.sale_id IS NOT NULL
  OR NEW.sale_id IS NULL
  OR NEW.fueling_id IS NOT OLD.fueling_id OR NEW.pump IS NOT OLD.pump OR NEW.nozzle IS NOT OLD.nozzle
  OR NEW.tank_no IS NOT OLD.tank_no OR NEW.product_id IS NOT OLD.product_id
  OR NEW.volume_ml IS NOT OLD.volume_ml OR NEW.amount_won IS NOT OLD.amount_won
  OR NEW.unit_price_won IS NOT OLD.unit_price_won OR NEW.finished_at_ms IS NOT OLD.finished_at_ms
BEGIN SELECT RAISE(ABORT, 'a fueling is never edited, only paid once'); END;
CREATE TRIGGER fuelings_are_never_deleted BEFORE DELETE ON fuelings BEGIN SELECT RAISE(ABORT, 'fuelings are never deleted'); END;
