-- Pump totals: each nozzle's own volume and money counters (DART totals), as the forecourt reads
-- them back whenever a pump comes (back) online and after every filling. A reading is kept when
-- a counter moved. Readings come in series: a counter lower than the one before (new pump
-- electronics, a counter that wrapped) starts a new series. Between the first reading of the
-- current series and the latest, the volume the counters count and the volume of the fuelings
-- recorded against them must agree; a gap is a variance (fuel dispensed and never recorded).
CREATE TABLE pump_totals (
    reading_id       INTEGER PRIMARY KEY,
    pump             INTEGER NOT NULL CHECK (pump BETWEEN 80 AND 111),
    nozzle           INTEGER NOT NULL CHECK (nozzle BETWEEN 1 AND 15),
    series           INTEGER NOT NULL CHECK (series >= 1),
    volume_total_ml  INTEGER NOT NULL CHECK (volume_total_ml >= 0),
    -- NULL when the pump did not report the money total.
    amount_total_won INTEGER CHECK (amount_total_won >= 0),
    read_at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX pump_totals_by_nozzle ON pump_totals (pump, nozzle, reading_id);
CREATE TRIGGER pump_totals_are_never_edited BEFORE UPDATE ON pump_totals BEGIN SELECT RAISE(ABORT, 'pump totals readings are never edited'); END;
CREATE TRIGGER pump_totals_are_never_deleted BEFORE DELETE ON pump_totals BEGIN SELECT RAISE(ABORT, 'pump totals readings are never deleted'); END;

-- A fueling read back from the pump carries the nozzle's volume counter after it: the identity of
-- the filling, so that it is recorded once however often the pump is read back. NULL for
-- fuelings recorded without it (before this migration).
ALTER TABLE fuelings ADD COLUMN pump_volume_total_ml INTEGER CHECK (pump_volume_total_ml >= 0);
CREATE UNIQUE INDEX fuelings_by_pump_counter ON fuelings (pump, nozzle, pump_volume_total_ml)
WHERE pump_volume_total_ml IS NOT NULL;

DROP TRIGGER fuelings_are_only_paid;
CREATE TRIGGER fuelings_are_only_paid BEFORE UPDATE ON fuelings
WHEN OLD.sale_id IS NOT NULL
  OR NEW.sale_id IS NULL
  OR NEW.fueling_id IS NOT OLD.fueling_id OR NEW.pump IS NOT OLD.pump OR NEW.nozzle IS NOT OLD.nozzle
  OR NEW.tank_no IS NOT OLD.tank_no OR NEW.product_id IS NOT OLD.product_id
  OR NEW.volume_ml IS NOT OLD.volume_ml OR NEW.amount_won IS NOT OLD.amount_won
  OR NEW.unit_price_won IS NOT OLD.unit_price_won OR NEW.finished_at_ms IS NOT OLD.finished_at_ms
  OR NEW.pump_volume_total_ml IS NOT OLD.pump_volume_total_ml
BEGIN SELECT RAISE(ABORT, 'a fueling is never edited, only paid once'); END;
