-- HQ's event feed: the named consumers that may read it (the feed itself is the `events`
-- table, read by `event_no`). A token is stored only as its BLAKE2 digest; a revoked consumer
-- keeps its row, so its name is never given to another.
CREATE TABLE feed_consumers (
    name          TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
) STRICT;
