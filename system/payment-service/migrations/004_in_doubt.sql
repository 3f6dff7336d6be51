-- A charge whose answer was lost (timeout, reset, 5xx) is IN_DOUBT until the provider's record says what
-- happened. The reconciler asks again at next_check_at, backing off; in_doubt_since and doubt_resolved_at
-- measure how long fans waited for the answer.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('PROCESSING', 'IN_DOUBT', 'CAPTURED', 'FAILED', 'REFUNDING', 'REFUNDED'));
ALTER TABLE payments
  ADD COLUMN settle_by timestamptz,
  ADD COLUMN in_doubt_since timestamptz,
  ADD COLUMN doubt_resolved_at timestamptz,
  ADD COLUMN next_check_at timestamptz,
  ADD COLUMN checks integer NOT NULL DEFAULT 0;
-- The hold rule (docs/saga.md): hold_expires_at is the fan's deadline, settle_by when the booking gives up.
UPDATE payments SET settle_by = hold_expires_at;
ALTER TABLE payments ALTER COLUMN settle_by SET NOT NULL;
CREATE INDEX payments_in_doubt_idx ON payments (next_check_at) WHERE status = 'IN_DOUBT';

-- The provider keeps its own books, in its own database (system/payment-provider): payment-service holds no
-- record of money moved but its own payments.
DROP TABLE gateway_ledger;
