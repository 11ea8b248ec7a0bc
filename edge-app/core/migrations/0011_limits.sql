-- The limits the station sets on what a cashier may key in: the largest cash tender and the
-- largest fuel volume of a line keyed by hand (a pump's own meter is never limited, but no
-- line may draw more than its tank holds). Past a limit the core refuses, unless a manager
-- confirms the sale (audited). One row; changed by a manager, audited.
CREATE TABLE station_limits (
    singleton                 INTEGER PRIMARY KEY CHECK (singleton = 1),
    largest_tender_won        INTEGER NOT NULL CHECK (largest_tender_won > 0),
    largest_manual_volume_ml  INTEGER NOT NULL CHECK (largest_manual_volume_ml > 0)
) STRICT;
INSERT INTO station_limits (singleton, largest_tender_won, largest_manual_volume_ml)
VALUES (1, 2000000, 300000);
