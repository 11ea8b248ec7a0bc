-- Measured stock: what the tank gauge reads, beside the book stock of the ledger.
CREATE TABLE tank_readings (
    reading_id      INTEGER PRIMARY KEY,
    tank_no         INTEGER NOT NULL REFERENCES tanks (tank_no),
    volume_ml       INTEGER NOT NULL CHECK (volume_ml >= 0),
    water_ml        INTEGER NOT NULL DEFAULT 0 CHECK (water_ml >= 0),
    measured_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX tank_readings_by_tank_time ON tank_readings (tank_no, measured_at_ms);
