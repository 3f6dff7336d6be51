-- Refunds go through the gateway, outside any database transaction: a payment to be refunded is REFUNDING until
-- the gateway confirms it, and a worker retries it (under a lease, like charges) until then.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('PROCESSING', 'CAPTURED', 'FAILED', 'REFUNDING', 'REFUNDED'));
ALTER TABLE payments DROP CONSTRAINT payments_refund_after_capture;
ALTER TABLE payments ADD CONSTRAINT payments_refund_after_capture
  CHECK (status NOT IN ('REFUNDING', 'REFUNDED') OR captured_at IS NOT NULL);
ALTER TABLE payments ADD COLUMN refund_requested_at timestamptz, ADD COLUMN refund_attempts integer NOT NULL DEFAULT 0;
CREATE INDEX payments_refunding_idx ON payments (refund_requested_at) WHERE status = 'REFUNDING';
