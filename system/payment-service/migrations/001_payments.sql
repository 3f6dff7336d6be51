-- One payment per reservation: the unique key is what makes a charge idempotent per reservation.
CREATE TABLE payments (
  id              uuid PRIMARY KEY,
  reservation_id  uuid NOT NULL UNIQUE,
  user_id         text NOT NULL,
  event_id        uuid NOT NULL,
  amount          bigint NOT NULL CHECK (amount >= 0),
  currency        text NOT NULL,
  -- When the ticket service stops holding the seats; charging after that is pointless.
  hold_expires_at timestamptz NOT NULL,
  status          text NOT NULL CHECK (status IN ('PROCESSING', 'CAPTURED', 'FAILED', 'REFUNDED')),
  failure_reason  text,
  attempts        integer NOT NULL DEFAULT 0,
  lease_until     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  captured_at     timestamptz,
  failed_at       timestamptz,
  refunded_at     timestamptz,
  CONSTRAINT payments_refund_after_capture CHECK (status <> 'REFUNDED' OR captured_at IS NOT NULL),
  CONSTRAINT payments_failure_has_reason CHECK (status <> 'FAILED' OR failure_reason IS NOT NULL)
);
CREATE INDEX payments_processing_idx ON payments (created_at) WHERE status = 'PROCESSING';

-- Reservations the ticket service has cancelled or expired. A charge that completes after this is refunded,
-- and one that has not started is never made, whichever of the two topics is read first.
CREATE TABLE cancelled_reservations (
  reservation_id uuid PRIMARY KEY,
  reason         text NOT NULL,
  cancelled_at   timestamptz NOT NULL DEFAULT now()
);

-- The simulated provider's own ledger: what a real gateway keeps on its side, keyed by our idempotency key.
CREATE TABLE gateway_ledger (
  idempotency_key text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('charge', 'refund')),
  outcome         text NOT NULL,
  amount          bigint NOT NULL,
  latency_ms      integer NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
