-- The booking's first read counts the fan's live seats in this event. Its plan found the fan's reservations by
-- user_id alone (through the idempotency key's index) and read every one of them, in every event, from the heap to
-- filter on event_id: the costliest statement of a booking in bench:saga's profile. Led by (user_id, event_id), the
-- index finds this event's only; the fan's own list (newest first, a handful of rows) reads the same index and
-- sorts what it finds. One index replaces another, so writes cost the same.
DROP INDEX reservations_user_idx;
CREATE INDEX reservations_user_event_idx ON reservations (user_id, event_id, created_at DESC);
