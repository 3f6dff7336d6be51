CREATE TABLE events (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL,
  venue              text NOT NULL,
  starts_at          timestamptz NOT NULL,
  sales_open_at      timestamptz NOT NULL,
  hold_seconds       integer NOT NULL CHECK (hold_seconds BETWEEN 1 AND 3600),
  max_seats_per_user integer NOT NULL CHECK (max_seats_per_user BETWEEN 1 AND 20),
  currency           text NOT NULL DEFAULT 'KRW',
  created_at         timestamptz NOT NULL DEFAULT now()
);

-- Every seat change takes a number from here; the highest number of an event is its seat map's version.
CREATE SEQUENCE seat_change_seq;

CREATE TABLE reservations (
  id               uuid PRIMARY KEY,
  event_id         uuid NOT NULL REFERENCES events (id),
  user_id          text NOT NULL,
  status           text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED')),
  reason           text,
  amount           bigint NOT NULL CHECK (amount >= 0),
  currency         text NOT NULL,
  expires_at       timestamptz NOT NULL,
  idempotency_key  text,
  payment_id       uuid,
  payment_failure  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  confirmed_at     timestamptz,
  ended_at         timestamptz,
  refunded_at      timestamptz,
  CONSTRAINT reservations_idempotency_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX reservations_pending_expiry_idx ON reservations (expires_at) WHERE status = 'PENDING';
CREATE INDEX reservations_user_idx ON reservations (user_id, created_at DESC);
CREATE INDEX reservations_event_idx ON reservations (event_id, status);

CREATE TABLE seats (
  id             uuid PRIMARY KEY,
  event_id       uuid NOT NULL REFERENCES events (id),
  section        text NOT NULL,
  row_label      text NOT NULL,
  number         integer NOT NULL,
  price          bigint NOT NULL CHECK (price >= 0),
  status         text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'HELD', 'SOLD')),
  -- The one reservation that holds or bought the seat. One column, so a seat cannot have two holders.
  reservation_id uuid REFERENCES reservations (id) DEFERRABLE INITIALLY DEFERRED,
  changed_seq    bigint NOT NULL DEFAULT nextval('seat_change_seq'),
  CONSTRAINT seats_position_key UNIQUE (event_id, section, row_label, number),
  CONSTRAINT seats_holder_matches_status CHECK ((status = 'AVAILABLE') = (reservation_id IS NULL))
);
CREATE INDEX seats_event_idx ON seats (event_id, section, row_label, number);
CREATE INDEX seats_event_changes_idx ON seats (event_id, changed_seq);
CREATE INDEX seats_reservation_idx ON seats (reservation_id) WHERE reservation_id IS NOT NULL;

-- Which seats a reservation asked for and got, kept after the seats are released.
CREATE TABLE reservation_seats (
  reservation_id uuid NOT NULL REFERENCES reservations (id),
  seat_id        uuid NOT NULL REFERENCES seats (id),
  PRIMARY KEY (reservation_id, seat_id)
);
CREATE INDEX reservation_seats_seat_idx ON reservation_seats (seat_id);
