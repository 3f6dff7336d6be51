-- The hold rule (docs/saga.md): a capture made by settle-by confirms however late ticket-service reads it, so the
-- capture's own time is kept; and the hold sweep waits while the saga's results are queued (each instance reports
-- how far behind its consumer is), up to HOLD_MAX_EXTENSION_SECONDS.
ALTER TABLE reservations ADD COLUMN captured_at timestamptz;

CREATE TABLE consumer_progress (
  instance    text PRIMARY KEY,
  behind_ms   integer NOT NULL CHECK (behind_ms >= 0),
  reported_at timestamptz NOT NULL DEFAULT now()
);
