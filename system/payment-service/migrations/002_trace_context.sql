-- The trace context of the saga step that opened the payment: the charge runs later, in the processor, and
-- should still be part of the booking's trace.
ALTER TABLE payments ADD COLUMN trace_context jsonb NOT NULL DEFAULT '{}';
