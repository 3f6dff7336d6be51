-- No query reads the outbox by message id (pg_stat_user_indexes after bench:saga and the flash sale: no scan), and
-- the ids are random UUIDs made when the message is: the unique index guarded nothing a consumer relies on (the
-- inbox deduplicates by id on the other side, and message-effects-once judges each transition announced once).
-- It cost two inserts into a random-keyed B-tree per message: one when written, one when marked published (that
-- update is never HOT, as published_at is indexed), each dirtying a random leaf page and its full-page image.
ALTER TABLE outbox DROP CONSTRAINT outbox_message_id_key;
