-- Receipts to print. A job is written in the same transaction as its sale, so a sale is durable
-- with its receipt owed; a printer that is out of paper or unplugged delays the receipt and
-- never the sale. Jobs are never deleted: printed ones keep when they printed.
CREATE TABLE print_jobs (
    job_id          INTEGER PRIMARY KEY,
    sale_id         TEXT    NOT NULL REFERENCES sales (sale_id),
    reason          TEXT    NOT NULL CHECK (reason IN ('sale', 'reprint')),
    requested_by    TEXT    NOT NULL REFERENCES users (user_id),
    requested_at_ms INTEGER NOT NULL,
    printed_at_ms   INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
) STRICT;
CREATE INDEX print_jobs_waiting ON print_jobs (job_id) WHERE printed_at_ms IS NULL;
