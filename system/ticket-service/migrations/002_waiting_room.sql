-- An event with these set sells through the waiting room: nobody reserves without an admission.
ALTER TABLE events
  ADD COLUMN queue_opens_at     timestamptz,
  ADD COLUMN admit_per_second   integer CHECK (admit_per_second BETWEEN 1 AND 100000),
  ADD COLUMN max_active         integer CHECK (max_active BETWEEN 1 AND 1000000),
  ADD CONSTRAINT events_queue_complete CHECK (
    (queue_opens_at IS NULL) = (admit_per_second IS NULL) AND (admit_per_second IS NULL) = (max_active IS NULL));
