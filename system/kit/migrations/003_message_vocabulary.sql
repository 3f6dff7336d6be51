-- One vocabulary: an event is a concert; a Kafka record is a message. The messaging tables say so.
ALTER TABLE processed_events RENAME TO processed_messages;
ALTER TABLE processed_messages RENAME COLUMN event_id TO message_id;
ALTER INDEX processed_events_pkey RENAME TO processed_messages_pkey;
ALTER INDEX processed_events_processed_at_idx RENAME TO processed_messages_processed_at_idx;
ALTER TABLE outbox RENAME COLUMN event_id TO message_id;
ALTER INDEX outbox_event_id_key RENAME TO outbox_message_id_key;
