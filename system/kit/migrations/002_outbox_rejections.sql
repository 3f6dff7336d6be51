-- A message Kafka refuses for good (too large, invalid) is set aside with the broker's answer instead of blocking
-- every message behind it. It stays in the table, visible to operators and to the invariant checker.
ALTER TABLE outbox ADD COLUMN rejected_at timestamptz, ADD COLUMN last_error text;
DROP INDEX outbox_unpublished_idx;
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL AND rejected_at IS NULL;
-- Pruning reads these.
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);
