-- A refund the provider refuses for good (it holds no capture under the charge key, or less than the refund, or
-- the request is invalid) is asked no more: it is REFUND_REFUSED, with the provider's reason, for an operator
-- (npm run payments -- refused). Before this a refusal was retried every few seconds, for ever.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('PROCESSING', 'IN_DOUBT', 'CAPTURED', 'FAILED', 'REFUNDING', 'REFUNDED', 'REFUND_REFUSED'));
ALTER TABLE payments DROP CONSTRAINT payments_refund_after_capture;
ALTER TABLE payments ADD CONSTRAINT payments_refund_after_capture
  CHECK (status NOT IN ('REFUNDING', 'REFUNDED', 'REFUND_REFUSED') OR captured_at IS NOT NULL);
ALTER TABLE payments ADD COLUMN refund_refusal text, ADD COLUMN refund_refused_at timestamptz;
ALTER TABLE payments ADD CONSTRAINT payments_refusal_has_reason
  CHECK (status <> 'REFUND_REFUSED' OR (refund_refusal IS NOT NULL AND refund_refused_at IS NOT NULL));
CREATE INDEX payments_refund_refused_idx ON payments (refund_refused_at) WHERE status = 'REFUND_REFUSED';
