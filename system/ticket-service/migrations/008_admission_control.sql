-- The admission controller (docs/overload.md) is on unless an admin switches it off; PostgreSQL holds the switch
-- so that a queue rebuilt after Redis lost its data keeps it.
ALTER TABLE events
  ADD COLUMN admission_control text NOT NULL DEFAULT 'auto' CHECK (admission_control IN ('auto', 'off'));
