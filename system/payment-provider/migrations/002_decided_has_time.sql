-- A decided charge has its time: a capture's is what the provider's answers give the merchant as capturedAt.
ALTER TABLE charges ADD CONSTRAINT charges_decided_has_time CHECK (status = 'pending' OR decided_at IS NOT NULL);
