-- The trace context of the request that made the reservation, so work done for it later by a sweep (its hold
-- expiring) joins the booking's trace instead of starting one of its own.
ALTER TABLE reservations ADD COLUMN trace_context jsonb NOT NULL DEFAULT '{}';
