-- Pause and drain were kept only in Redis and were lost with its data; PostgreSQL holds them now, and the queue
-- is rebuilt from here.
ALTER TABLE events
  ADD COLUMN queue_paused boolean NOT NULL DEFAULT false,
  ADD COLUMN queue_closed boolean NOT NULL DEFAULT false;
