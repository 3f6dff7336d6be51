-- Set-aside rows are read at every scrape (the gauge outbox_set_aside) and by the operator's tool; they are few,
-- the published rows kept for the checker many. A partial index keeps the read from scanning them all.
CREATE INDEX outbox_set_aside_idx ON outbox (id) WHERE published_at IS NULL AND rejected_at IS NOT NULL;
