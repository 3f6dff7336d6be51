-- The admission a reservation was made with: one booking per admission, and evidence for the checker.
ALTER TABLE reservations ADD COLUMN admission_id text;
ALTER TABLE reservations ADD CONSTRAINT reservations_admission_once UNIQUE (admission_id);
