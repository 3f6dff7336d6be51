-- The provider's own books. payment-service never writes here: it talks to the provider over HTTP only.

-- One charge per idempotency key. 'pending' while the request that made it is still in flight; 'voided' when the
-- merchant gave up on the key before any outcome (nothing was ever captured under it, and nothing will be).
CREATE TABLE charges (
  idempotency_key text PRIMARY KEY,
  amount          bigint NOT NULL CHECK (amount >= 0),
  currency        text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'captured', 'declined', 'voided')),
  decline_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_at      timestamptz
);

CREATE TABLE refunds (
  idempotency_key text PRIMARY KEY,
  charge_key      text NOT NULL REFERENCES charges (idempotency_key),
  amount          bigint NOT NULL CHECK (amount > 0),
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- The one record of money moved: a capture, or a refund. Written in the same transaction as the decision.
CREATE TABLE ledger_entries (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('capture', 'refund')),
  key         text NOT NULL UNIQUE,
  charge_key  text NOT NULL,
  amount      bigint NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_charge_idx ON ledger_entries (charge_key);

-- How the provider misbehaves, one row, so every instance (and every payment-service replica asking) sees one.
CREATE TABLE fault_profile (
  id      integer PRIMARY KEY CHECK (id = 1),
  profile jsonb NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
