-- Receipts that say what they are, and receipts that cannot print set aside.
--
-- reprint_no: which reprint of its sale a job is (1 for the first), printed as "재발행 n";
-- NULL for a sale's own receipt. Counted per sale when the reprint is asked for.
ALTER TABLE print_jobs ADD COLUMN reprint_no INTEGER CHECK (reprint_no IS NULL OR reprint_no > 0);
UPDATE print_jobs SET reprint_no = (
    SELECT count(*) FROM print_jobs AS earlier
    WHERE earlier.sale_id = print_jobs.sale_id AND earlier.reason = 'reprint'
      AND earlier.job_id <= print_jobs.job_id
) WHERE reason = 'reprint';

-- receipt_failures: failed attempts whose cause was the receipt itself (text the printer cannot
-- print), not the printer (paper out, cover open, unplugged), which only ever delays a receipt.
-- After a few, the job is set aside (set_aside_at_ms): it no longer holds up the queue, and a
-- manager sees it and may ask for its fallback copy (fallback_by, fallback_at_ms), printed with
-- '?' for what cannot be printed and marked as such; that puts it back in the queue.
ALTER TABLE print_jobs ADD COLUMN receipt_failures INTEGER NOT NULL DEFAULT 0 CHECK (receipt_failures >= 0);
ALTER TABLE print_jobs ADD COLUMN set_aside_at_ms INTEGER;
ALTER TABLE print_jobs ADD COLUMN fallback_by TEXT REFERENCES users (user_id);
ALTER TABLE print_jobs ADD COLUMN fallback_at_ms INTEGER;

DROP INDEX print_jobs_waiting;
CREATE INDEX print_jobs_waiting ON print_jobs (job_id)
    WHERE printed_at_ms IS NULL AND set_aside_at_ms IS NULL;
CREATE INDEX print_jobs_set_aside ON print_jobs (job_id)
    WHERE printed_at_ms IS NULL AND set_aside_at_ms IS NOT NULL;
CREATE INDEX print_jobs_by_sale ON print_jobs (sale_id, reprint_no);
