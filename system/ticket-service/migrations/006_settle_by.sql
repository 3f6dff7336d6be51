-- The hold rule (docs/saga.md): a hold has two instants. expires_at is the fan's deadline, after which no charge
-- may start; settle_by is when a payment that started in time must have landed. The expiry sweep reads settle_by,
-- and payment-service receives both.
ALTER TABLE reservations ADD COLUMN settle_by timestamptz;
UPDATE reservations SET settle_by = expires_at;
ALTER TABLE reservations ALTER COLUMN settle_by SET NOT NULL;
ALTER TABLE reservations ADD CONSTRAINT reservations_settle_after_deadline CHECK (settle_by >= expires_at);
DROP INDEX reservations_pending_expiry_idx;
CREATE INDEX reservations_pending_settle_idx ON reservations (settle_by) WHERE status = 'PENDING';
