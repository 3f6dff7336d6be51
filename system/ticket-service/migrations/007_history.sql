-- The audit trail: every change of a seat's holder and every move of a reservation, written by triggers in the
-- transaction that made it, whatever code path made it. The checker replays it to find what the final state hides:
-- a seat that was in two live reservations for a moment, or a reservation that moved along an illegal edge.
-- The id orders the changes of one seat (they are serialised by its row lock); at is the moment of the write.
CREATE TABLE seat_history (
  id               bigserial PRIMARY KEY,
  event_id         uuid NOT NULL,
  seat_id          uuid NOT NULL,
  from_status      text NOT NULL,
  to_status        text NOT NULL,
  from_reservation uuid,
  to_reservation   uuid,
  at               timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX seat_history_event_idx ON seat_history (event_id, seat_id, id);

CREATE TABLE reservation_history (
  id             bigserial PRIMARY KEY,
  event_id       uuid NOT NULL,
  reservation_id uuid NOT NULL,
  user_id        text NOT NULL,
  from_status    text,
  to_status      text NOT NULL,
  at             timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reservation_history_event_idx ON reservation_history (event_id, id);

CREATE FUNCTION record_seat_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO seat_history (event_id, seat_id, from_status, to_status, from_reservation, to_reservation)
  VALUES (NEW.event_id, NEW.id, OLD.status, NEW.status, OLD.reservation_id, NEW.reservation_id);
  RETURN NULL;
END $$;

CREATE TRIGGER seats_history AFTER UPDATE OF status, reservation_id ON seats
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.reservation_id IS DISTINCT FROM NEW.reservation_id)
  EXECUTE FUNCTION record_seat_change();

CREATE FUNCTION record_reservation_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO reservation_history (event_id, reservation_id, user_id, from_status, to_status)
  VALUES (NEW.event_id, NEW.id, NEW.user_id, CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.status END, NEW.status);
  RETURN NULL;
END $$;

CREATE TRIGGER reservations_history_insert AFTER INSERT ON reservations
  FOR EACH ROW EXECUTE FUNCTION record_reservation_change();
CREATE TRIGGER reservations_history_update AFTER UPDATE OF status ON reservations
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION record_reservation_change();
